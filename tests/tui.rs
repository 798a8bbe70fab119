//! The TUI in a real terminal: tmux runs `obs investigate --store <the demo's store> --tui`,
//! keys go overview → candidate → traces → waterfall → logs → back → quit, and each screen is
//! read with `capture-pane` and checked for what a person would see. After quitting, the
//! terminal must be sane: out of the alternate screen, cursor shown, not in raw mode.
//!
//! Also the bad-input paths that need no terminal: `--tui` with stdout piped, and report files
//! that are not reports.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cli::obs;

/// One tmux server of our own (`-L`), killed on drop, so a failing test leaves nothing behind.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(width: u16, height: u16, dir: &Path) -> Tmux {
        let available = Command::new("tmux").arg("-V").output();
        assert!(
            available.is_ok_and(|o| o.status.success()),
            "tmux is needed for the real-terminal test: apt-get install -y tmux \
             (scripts/test-deps.d/12.sh installs it)"
        );
        let socket = format!("obs-tui-test-{}", std::process::id());
        let t = Tmux { socket };
        let status = t
            .cmd()
            .args(["new-session", "-d", "-s", "obs", "-x"])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            .arg("-c")
            .arg(dir)
            .args([
                "env",
                "-i",
                "PATH=/usr/bin:/bin",
                "TERM=xterm-256color",
                "TZ=UTC",
            ])
            .args(["bash", "--norc", "--noprofile"])
            .status()
            .unwrap();
        assert!(status.success());
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    fn send(&self, keys: &[&str]) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", "obs"])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn type_line(&self, line: &str) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", "obs", "-l", line])
            .status()
            .unwrap();
        assert!(status.success());
        self.send(&["Enter"]);
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "obs"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn format(&self, f: &str) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "obs", f])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until the screen shows every one of `texts`, and returns it.
    fn wait_for(&self, texts: &[&str], what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: the screen never showed {texts:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// Runs the demo into `dir/shop.db` and returns the arguments of the investigation it printed.
fn demo_store(dir: &Path) -> (PathBuf, Vec<String>) {
    let store = dir.join("shop.db");
    let out = obs()
        .args(["demo", "--keep", store.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let command = stderr
        .lines()
        .find_map(|l| l.split_once("the same investigation: obs ").map(|(_, c)| c))
        .unwrap_or_else(|| panic!("the demo prints the investigate command: {stderr}"));
    let args = command.split_whitespace().map(str::to_string).collect();
    (store, args)
}

/// The screen row that contains `needle`.
fn row_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle:?}:\n{screen}"))
}

#[test]
fn investigate_tui_in_tmux_drills_from_the_pool_metric_to_the_failing_span_and_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let (store, args) = demo_store(dir.path());
    let bin = assert_cmd::cargo::cargo_bin("obs");
    let tmux = Tmux::start(140, 40, dir.path());
    let mut line = format!("NO_COLOR=1 XDG_CONFIG_HOME=/nonexistent {}", bin.display());
    for a in &args {
        line.push(' ');
        line.push_str(a);
    }
    line.push_str(" --tui; echo \"obs exited $?\"");
    tmux.type_line(&line);

    // Overview: the pool metric ranked first, with the spike and its onset.
    let screen = tmux.wait_for(&["obs › overview", "Suspected"], "overview");
    let first = row_with(&screen, "  1 ");
    assert!(first.contains("db_client_connection_count"), "{screen}");
    assert!(screen.contains("onset"), "{screen}");
    assert!(screen.contains("spike: from a baseline"), "{screen}");

    // Candidate: its numbers and why it ranked first.
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for(&["#1 db_client_connection_count", "why"], "candidate");
    assert!(screen.contains("significant (q < 0.05)"), "{screen}");

    // Traces: the failing requests the store search found.
    tmux.send(&["t"]);
    let screen = tmux.wait_for(&["obs › overview › #1", "› traces", "KIND"], "traces");
    assert!(
        row_with(&screen, "POST /checkout").contains("error"),
        "{screen}"
    );

    // Waterfall: the failing database span, on the critical path, with its exception.
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for(&["› trace ", "OFFSET"], "waterfall");
    let span = row_with(&screen, "checkout SELECT orders");
    assert!(
        span.starts_with("*!"),
        "critical path and error marks: {span}"
    );
    assert!(span.contains("✗ PoolTimeoutError"), "{span}");

    // Logs of that span: the pool timeout it logged.
    tmux.send(&["e"]);
    tmux.send(&["e"]);
    tmux.send(&["s"]);
    // The header says "0 lines" while the fetch is in flight: wait for the record itself.
    let screen = tmux.wait_for(
        &[
            "› logs of checkout SELECT orders",
            "timeout acquiring a connection from pool orders",
        ],
        "logs",
    );
    let log = row_with(&screen, "timeout acquiring a connection from pool orders");
    assert!(log.contains("ERROR"), "{log}");

    // Help, back, quit.
    tmux.send(&["?"]);
    tmux.wait_for(&["keys: logs", "wrap long lines"], "help");
    tmux.send(&["Escape"]);
    tmux.send(&["q"]);
    tmux.wait_for(&["OFFSET", "SELECT orders"], "back to the waterfall");
    tmux.send(&["Q"]);
    let screen = tmux.wait_for(&["obs exited 0"], "quit");
    assert!(
        !screen.contains("OFFSET"),
        "the UI is gone from the screen:\n{screen}"
    );

    // The terminal is as the shell left it.
    assert_sane(&tmux, &modes_of(&tmux, "1"));

    // `obs tui --store`: the store's traces, newest first; SIGTERM restores the terminal too.
    tmux.type_line("clear");
    tmux.type_line(&format!(
        "NO_COLOR=1 {} tui --store {}; echo \"obs tui exited $?\"",
        bin.display(),
        store.display()
    ));
    let screen = tmux.wait_for(
        &["obs ", "› traces", "traces · sorted by time"],
        "store traces",
    );
    assert!(screen.contains("frontend POST /checkout"), "{screen}");
    assert!(screen.contains("refreshed every 2s"), "{screen}");
    let shell = tmux.format("#{pane_pid}");
    let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !pid.is_empty() && !pid.contains('\n'),
        "one obs under the shell: {pid:?}"
    );
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    tmux.wait_for(&["obs tui exited 0"], "quit on SIGTERM");
    assert_sane(&tmux, &modes_of(&tmux, "2"));

    // The terminal itself goes away (a closed window, a killed tmux server): obs exits too,
    // instead of living on without a terminal.
    tmux.type_line("clear");
    tmux.type_line(&format!(
        "NO_COLOR=1 {} tui --store {}",
        bin.display(),
        store.display()
    ));
    tmux.wait_for(
        &["› traces", "traces · sorted by time"],
        "store traces again",
    );
    let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!pid.is_empty() && !pid.contains('\n'), "one obs: {pid:?}");
    assert!(tmux.cmd().arg("kill-server").status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            Instant::now() < deadline,
            "obs {pid} still runs 10 s after its terminal was closed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The terminal modes that raw mode turns off, as `stty` reports them.
fn modes_of(tmux: &Tmux, tag: &str) -> String {
    tmux.type_line(&format!(
        "stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo MODES{tag}"
    ));
    let marker = format!("MODES{tag}");
    // The output line, not the command line that also holds the marker.
    let output = |screen: &str| {
        screen
            .lines()
            .find(|l| l.trim_end().ends_with(&marker) && !l.contains("stty"))
            .map(str::to_string)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let screen = tmux.screen();
        if let Some(line) = output(&screen) {
            return line;
        }
        assert!(Instant::now() < deadline, "stty printed nothing:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Out of the alternate screen, cursor shown, canonical mode and echo on.
fn assert_sane(tmux: &Tmux, modes: &str) {
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "0",
        "left the alternate screen"
    );
    assert_eq!(tmux.format("#{cursor_flag}"), "1", "the cursor is shown");
    let words: Vec<&str> = modes.split_whitespace().collect();
    assert!(
        words.contains(&"icanon") && words.contains(&"echo"),
        "not in raw mode: {modes:?}"
    );
}

#[test]
fn tui_with_stdout_piped_is_a_usage_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tui/demo-report.json"),
        &report,
    )
    .unwrap();
    let out = obs()
        .args(["tui", report.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("needs a terminal, but stdout is not one"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no escape codes on a pipe");

    let out = obs()
        .args([
            "investigate",
            "--since",
            "5m",
            "--tui",
            "--prometheus-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("needs a terminal"),
        "checked before investigating: {stderr}"
    );
    assert!(out.stdout.is_empty());

    let out = obs()
        .args(["investigate", "--since", "5m", "--tui", "-o", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--tui and -o json"), "{stderr}");
}

#[test]
fn a_report_file_that_is_not_a_report_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        ("notjson.json", b"<html>oops</html>", "not a JSON report"),
        (
            "v9.json",
            br#"{"schema_version": 9}"#,
            "report schema version 9",
        ),
        ("other.json", br#"{"hello": "world"}"#, "not an obs report"),
    ];
    for (name, body, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let out = obs()
            .args(["tui", path.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(path.to_str().unwrap()),
            "names the file: {stderr}"
        );
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
    let missing = dir.path().join("missing.json");
    let out = obs()
        .args(["tui", missing.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot read the report"), "{stderr}");
}

/// The drill-down's fetches against recorded real Tempo answers, a trace Tempo does not have,
/// and a Loki that is down: each answer lands in the UI as data or as an inline message.
#[tokio::test]
async fn drill_down_fetches_through_tempo_and_reports_a_missing_trace_and_a_down_loki_inline() {
    use obs::config::HttpSettings;
    use obs::source::http::HttpClient;
    use obs::source::loki::Loki;
    use obs::source::tempo::Tempo;
    use obs::source::{Logs, Traces};
    use obs::tui::app::{Data, Fetch, Loading};
    use obs::tui::{Action, App, Sources, View, fetch, update};

    use crate::support::recorded::{INCIDENT, Recorded};

    let server = Recorded::start().await.with_tempo_traces().await;
    let missing = "0123456789abcdef0123456789abcdef";
    server
        .get(format!("/api/traces/{missing}"))
        .text(
            404,
            "tempo/trace_by_id_not_found_404.txt",
            "text/plain; charset=utf-8",
        )
        .await;
    // A port nothing listens on: Loki is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let loki_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let settings = |url: String| HttpSettings {
        url,
        tenant: None,
        auth: None,
        headers: Default::default(),
        ca_file: None,
        timeout: Duration::from_secs(5),
    };
    let sources = Sources {
        traces: Some(Traces::Tempo(Tempo::new(
            HttpClient::new("tempo", &settings(server.uri())).unwrap(),
        ))),
        logs: Some(Logs::Loki(Loki::new(
            HttpClient::new("loki", &settings(loki_url.clone())).unwrap(),
        ))),
    };

    // The demo's report, with exemplars pointing at the recorded incident trace and at one
    // Tempo does not have.
    let mut report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/tui/demo-report.json"
        ))
        .unwrap(),
    )
    .unwrap();
    for (id, value) in [(INCIDENT, 1.82), (missing, 0.5)] {
        report["exemplars"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "trace_id": id, "kind": "slow", "value": value,
                "timestamp": "2026-12-02T02:53:50Z", "timestamp_unix": 1796180030.0,
                "labels": {"trace_id": id},
                "series": {"__name__": "http_server_request_duration_seconds_bucket", "le": "2.5"}
            }));
    }
    let report = obs::tui::parse_report(report.to_string().as_bytes()).unwrap();
    let mut app = App::from_report(report, true, true);
    update(&mut app, Action::Resize(120, 40));
    update(&mut app, Action::Goto(View::Traces));
    let row = |app: &App, id: &str| {
        app.visible_traces()
            .iter()
            .position(|t| t.trace_id == id)
            .unwrap()
    };
    // Applies `fetches` the way the UI loop does, one answer at a time.
    async fn answer(app: &mut App, sources: &Sources, fetches: Vec<Fetch>) {
        for f in fetches {
            let data: Data = fetch::run(sources, f).await;
            let more = update(app, Action::Data(data));
            assert!(more.is_empty());
        }
    }
    let screen = |app: &App| {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
        t.draw(|f| obs::tui::ui::render(f, app)).unwrap();
        t.backend().to_string()
    };

    let r = row(&app, INCIDENT);
    update(&mut app, Action::ClickRow(r));
    let fetches = update(&mut app, Action::Open);
    assert_eq!(fetches.len(), 1);
    answer(&mut app, &sources, fetches).await;
    let w = app.waterfall.as_ref().unwrap();
    assert_eq!(w.tree.as_ref().unwrap().len(), 20);
    let s = screen(&app);
    assert!(s.contains("db.pool.acquire ✗ pool exhausted"), "{s}");

    update(&mut app, Action::Back);
    let r = row(&app, missing);
    update(&mut app, Action::ClickRow(r));
    let fetches = update(&mut app, Action::Open);
    answer(&mut app, &sources, fetches).await;
    let s = screen(&app);
    assert!(s.contains(&format!("trace {missing} not found")), "{s}");

    update(&mut app, Action::Back);
    let r = row(&app, INCIDENT);
    update(&mut app, Action::ClickRow(r));
    // The UI keeps the last trace opened: this one is fetched again.
    let fetches = update(&mut app, Action::Open);
    answer(&mut app, &sources, fetches).await;
    let fetches = update(&mut app, Action::TraceLogs);
    answer(&mut app, &sources, fetches).await;
    let Loading::Failed(msg) = &app.logs.loading else {
        panic!("{:?}", app.logs.loading)
    };
    assert!(msg.starts_with("cannot fetch logs: "), "{msg}");
    assert!(msg.contains(&loki_url), "names the backend's URL: {msg}");
    let s = screen(&app);
    assert!(s.contains("cannot fetch logs"), "{s}");
    // The trace is still there behind it.
    update(&mut app, Action::Back);
    assert!(screen(&app).contains("db.pool.acquire"));
}
