//! Runs a REAL Prometheus server (Debian package `prometheus`, 2.42) for the
//! integration tests: optional backfill through `promtool tsdb
//! create-blocks-from openmetrics`, optional scrape job `job="exporter"`,
//! exemplar storage on unless turned off. The server, its data and its log live in a TempDir
//! and are removed when the [`TestPrometheus`] is dropped.
//!
//! The tests never skip silently: a missing binary is a panic that says how
//! to install it.
//!
//! Quirks of Prometheus 2.42 that the tests must live with:
//! - the first scrape of a new target happens ~5 s after start (service
//!   discovery sends target updates at most every 5 s), whatever the
//!   scrape interval: use [`TestPrometheus::wait_for_samples`];
//! - `promtool tsdb create-blocks-from openmetrics` silently DROPS samples
//!   that are out of order within a series (exit status 0): compare
//!   [`TestPrometheus::backfilled_samples`] with what you wrote;
//! - retention is relative to the newest block, not wall-clock time, and the
//!   start-up check below panics if backfilled blocks were deleted anyway.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const INSTALL_HINT: &str = "apt-get install -y prometheus (the tests need a real Prometheus)";
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const START_ATTEMPTS: usize = 5;
const LOG_TAIL_LINES: usize = 40;

/// How to start the server.
#[derive(Debug, Clone)]
pub struct Options {
    /// OpenMetrics text (ending in `# EOF`) loaded with promtool before start.
    pub backfill: Option<String>,
    /// `host:port` of an exporter to scrape as `job="exporter"`.
    pub scrape_target: Option<String>,
    /// Scrape interval for the exporter job, e.g. `"1s"`.
    pub scrape_interval: &'static str,
    /// `--enable-feature=exemplar-storage` (on by default; off for a Prometheus that keeps no
    /// exemplars, as by default in production).
    pub exemplar_storage: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backfill: None,
            scrape_target: None,
            scrape_interval: "1s",
            exemplar_storage: true,
        }
    }
}

/// How long the start-up steps took.
#[derive(Debug, Clone, Copy, Default)]
pub struct StartupTimings {
    /// `promtool tsdb create-blocks-from openmetrics` (zero without backfill).
    pub backfill: Duration,
    /// Spawn until `/-/ready` answered 200 (last, successful attempt).
    pub ready: Duration,
    /// Whole `start()` call, including port retries.
    pub total: Duration,
}

/// A running Prometheus. Killed (and waited for) on drop; its TempDir removed.
pub struct TestPrometheus {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// `127.0.0.1:PORT`
    pub addr: String,
    pub timings: StartupTimings,
    /// Number of TSDB blocks promtool created from the backfill.
    pub backfilled_blocks: usize,
    /// Samples in those blocks. promtool silently DROPS out-of-order samples,
    /// so compare this with what the backfill text holds.
    pub backfilled_samples: u64,
    child: Child,
    log_path: PathBuf,
    data_dir: PathBuf,
    // Last field: dropped after the child has been killed in `Drop::drop`.
    dir: tempfile::TempDir,
}

/// Path of the `prometheus` binary: `$OBS_TEST_PROMETHEUS`, else `prometheus`
/// on `PATH`, else `/usr/bin/prometheus`. Panics with an install hint.
pub fn prometheus_binary() -> PathBuf {
    find_binary("prometheus", "OBS_TEST_PROMETHEUS")
}

/// Path of the `promtool` binary: `$OBS_TEST_PROMTOOL`, else `promtool` on
/// `PATH`, else `/usr/bin/promtool`. Panics with an install hint.
pub fn promtool_binary() -> PathBuf {
    find_binary("promtool", "OBS_TEST_PROMTOOL")
}

fn find_binary(name: &str, env_var: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return p;
        }
        panic!(
            "{env_var}={} does not name an existing file; {name} is not installed there: {INSTALL_HINT}",
            p.display()
        );
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let fallback = Path::new("/usr/bin").join(name);
    if fallback.is_file() {
        return fallback;
    }
    panic!("{name} is not installed: {INSTALL_HINT}");
}

impl TestPrometheus {
    /// Backfills (if asked), writes the config, starts Prometheus on a free
    /// loopback port and waits until `/-/ready` answers 200. Panics (with the
    /// server's log tail) on any failure.
    pub fn start(opts: Options) -> TestPrometheus {
        let t0 = Instant::now();
        let prometheus = prometheus_binary();
        let dir = tempfile::Builder::new()
            .prefix("obs-test-prometheus-")
            .tempdir()
            .expect("create TempDir for Prometheus");
        let data_dir = dir.path().join("data");
        fs::create_dir_all(&data_dir).expect("create Prometheus data dir");

        let mut timings = StartupTimings::default();
        let mut backfilled_blocks = 0;
        let mut backfilled_samples = 0;
        let mut backfill_min_time = None;
        if let Some(text) = &opts.backfill {
            let tb = Instant::now();
            backfill(dir.path(), &data_dir, text);
            timings.backfill = tb.elapsed();
            let blocks = block_time_ranges(&data_dir);
            backfilled_blocks = blocks.len();
            backfilled_samples = blocks.iter().map(|b| b.samples).sum();
            backfill_min_time = blocks.iter().map(|b| b.min_time).min();
        }

        let config_path = dir.path().join("prometheus.yml");
        fs::write(&config_path, config_yaml(&opts)).expect("write prometheus.yml");

        let mut last_failure = String::new();
        for attempt in 1..=START_ATTEMPTS {
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let log_path = dir.path().join(format!("prometheus-{attempt}.log"));
            let log = fs::File::create(&log_path).expect("create Prometheus log file");
            let log_err = log.try_clone().expect("clone Prometheus log file handle");
            let spawned = Instant::now();
            let mut command = Command::new(&prometheus);
            if opts.exemplar_storage {
                command.arg("--enable-feature=exemplar-storage");
            }
            let mut child = command
                .arg(format!("--config.file={}", config_path.display()))
                .arg(format!("--storage.tsdb.path={}", data_dir.display()))
                .arg("--storage.tsdb.retention.time=30d")
                .arg(format!("--web.listen-address={addr}"))
                .arg("--log.level=warn")
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::from(log))
                .stderr(Stdio::from(log_err))
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot run {}: {e}; {INSTALL_HINT}", prometheus.display())
                });

            match wait_ready(&mut child, &addr, READY_TIMEOUT) {
                Ok(()) => {
                    timings.ready = spawned.elapsed();
                    timings.total = t0.elapsed();
                    let server = TestPrometheus {
                        url: format!("http://{addr}"),
                        addr,
                        timings,
                        backfilled_blocks,
                        backfilled_samples,
                        child,
                        log_path,
                        data_dir,
                        dir,
                    };
                    server.check_backfill_kept(backfill_min_time);
                    return server;
                }
                Err(StartFailure::Exited(status)) => {
                    let tail = log_tail_of(&log_path);
                    let bind_race = tail.contains("address already in use");
                    last_failure = format!(
                        "Prometheus exited with {status} before it was ready (attempt {attempt}, {addr})\n--- log tail ---\n{tail}"
                    );
                    if bind_race && attempt < START_ATTEMPTS {
                        continue;
                    }
                    panic!("{last_failure}");
                }
                Err(StartFailure::Timeout(last)) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "Prometheus at {addr} was not ready within {READY_TIMEOUT:?} (last: {last})\n--- log tail ---\n{}",
                        log_tail_of(&log_path)
                    );
                }
            }
        }
        panic!("could not start Prometheus after {START_ATTEMPTS} attempts: {last_failure}");
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `127.0.0.1:PORT`
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Path of the TempDir holding config, data and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last lines of the server's log (level warn and above).
    pub fn log_tail(&self) -> String {
        log_tail_of(&self.log_path)
    }

    /// Plain `GET` of `path_and_query` (e.g. `/-/ready`): (status, body).
    pub fn get(&self, path_and_query: &str) -> (u16, String) {
        http_get(&self.addr, path_and_query)
            .unwrap_or_else(|e| panic!("GET {path_and_query}: {e}\n{}", self.log_tail()))
    }

    /// Calls `/api/v1/<endpoint>` with the given (unencoded) parameters and
    /// returns its `data`; panics unless `status` is `success`.
    pub fn api(&self, endpoint: &str, params: &[(&str, String)]) -> Value {
        let path = format!("/api/v1/{endpoint}?{}", query_string(params));
        let (status, body) = self.get(&path);
        let json: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path}: HTTP {status}, not JSON ({e}): {body}"));
        if status != 200 || json["status"] != "success" {
            panic!("GET {path}: HTTP {status}: {body}");
        }
        json["data"].clone()
    }

    /// Instant query; returns `data.result` (an array for vector results).
    /// `time` is unix seconds; `None` means the server's now.
    pub fn query(&self, promql: &str, time: Option<u64>) -> Value {
        let mut params = vec![("query", promql.to_string())];
        if let Some(t) = time {
            params.push(("time", t.to_string()));
        }
        self.api("query", &params)["result"].clone()
    }

    /// Instant query expected to return one value (vector of one element or
    /// scalar); `None` when the result is empty.
    pub fn query_value(&self, promql: &str, time: Option<u64>) -> Option<f64> {
        let result = self.query(promql, time);
        let pair = match &result {
            Value::Array(items) => items.first()?.get("value")?.clone(),
            other => other.clone(), // scalar: [t, "v"]
        };
        pair.get(1)?.as_str()?.parse().ok()
    }

    /// Range query; returns `data.result` (matrix).
    pub fn query_range(&self, promql: &str, start: u64, end: u64, step_secs: u64) -> Value {
        self.api(
            "query_range",
            &[
                ("query", promql.to_string()),
                ("start", start.to_string()),
                ("end", end.to_string()),
                ("step", step_secs.to_string()),
            ],
        )["result"]
            .clone()
    }

    /// `/api/v1/query_exemplars`; returns `data`:
    /// `[{seriesLabels:{…}, exemplars:[{labels:{trace_id}, value:"…", timestamp:<f64 s>}]}]`.
    pub fn query_exemplars(&self, promql: &str, start: u64, end: u64) -> Value {
        self.api(
            "query_exemplars",
            &[
                ("query", promql.to_string()),
                ("start", start.to_string()),
                ("end", end.to_string()),
            ],
        )
    }

    /// Sum of a metric in the server's own `/metrics` (e.g.
    /// `prometheus_tsdb_exemplar_out_of_order_exemplars_total`), `None` if absent.
    pub fn own_metric(&self, name: &str) -> Option<f64> {
        let (_, body) = self.get("/metrics");
        body.lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .reduce(|a, b| a + b)
    }

    /// Polls the instant query (at the server's now) until its result is a
    /// non-empty vector; returns it. Panics with the log tail on timeout.
    pub fn wait_for_samples(&self, promql: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let result = self.query(promql, None);
            if result.as_array().is_some_and(|a| !a.is_empty()) {
                return result;
            }
            if Instant::now() >= deadline {
                panic!(
                    "no samples for {promql} within {timeout:?}\n--- log tail ---\n{}",
                    self.log_tail()
                );
            }
            sleep(Duration::from_millis(200));
        }
    }

    /// Polls `/api/v1/query_exemplars` until at least one exemplar is
    /// returned for `[start, end]`; returns `data`. Panics on timeout.
    pub fn wait_for_exemplars(
        &self,
        promql: &str,
        start: u64,
        end: u64,
        timeout: Duration,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let data = self.query_exemplars(promql, start, end);
            if !exemplar_trace_ids(&data).is_empty() {
                return data;
            }
            if Instant::now() >= deadline {
                panic!(
                    "no exemplars for {promql} in [{start}, {end}] within {timeout:?}\n--- log tail ---\n{}",
                    self.log_tail()
                );
            }
            sleep(Duration::from_millis(200));
        }
    }

    /// Retention must not have removed backfilled blocks: the oldest
    /// backfilled time must still be covered by a block after start-up.
    fn check_backfill_kept(&self, min_time_ms: Option<i64>) {
        let Some(expected) = min_time_ms else { return };
        let now_min = block_time_ranges(&self.data_dir)
            .iter()
            .map(|b| b.min_time)
            .min();
        if now_min != Some(expected) {
            panic!(
                "Prometheus dropped backfilled blocks on start-up (oldest block min time {now_min:?}, \
                 backfilled {expected}); check --storage.tsdb.retention.time\n--- log tail ---\n{}",
                self.log_tail()
            );
        }
    }
}

impl Drop for TestPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // `self.dir` (TempDir) is removed after this, when the fields drop.
    }
}

/// All `trace_id` exemplar labels in a `query_exemplars` `data` value.
pub fn exemplar_trace_ids(data: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    for series in data.as_array().into_iter().flatten() {
        for ex in series["exemplars"].as_array().into_iter().flatten() {
            if let Some(id) = ex["labels"]["trace_id"].as_str() {
                ids.push(id.to_string());
            }
        }
    }
    ids
}

/// Current unix time in whole seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn backfill(dir: &Path, data_dir: &Path, text: &str) {
    let input = dir.join("backfill.om");
    fs::write(&input, text).expect("write backfill OpenMetrics file");
    let promtool = promtool_binary();
    let out = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(data_dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {INSTALL_HINT}", promtool.display()));
    if !out.status.success() {
        panic!(
            "promtool tsdb create-blocks-from openmetrics failed ({}):\n--- stderr ---\n{}\n--- stdout (tail) ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            tail_lines(&String::from_utf8_lossy(&out.stdout), LOG_TAIL_LINES)
        );
    }
}

struct BlockMeta {
    /// ms since the epoch
    min_time: i64,
    samples: u64,
}

/// Time range and size of each block directory (one with meta.json).
fn block_time_ranges(data_dir: &Path) -> Vec<BlockMeta> {
    let mut ranges = Vec::new();
    let Ok(entries) = fs::read_dir(data_dir) else {
        return ranges;
    };
    for entry in entries.flatten() {
        let Ok(text) = fs::read_to_string(entry.path().join("meta.json")) else {
            continue;
        };
        let Ok(meta) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if let Some(min_time) = meta["minTime"].as_i64() {
            let samples = meta["stats"]["numSamples"].as_u64().unwrap_or(0);
            ranges.push(BlockMeta { min_time, samples });
        }
    }
    ranges
}

fn config_yaml(opts: &Options) -> String {
    let interval = opts.scrape_interval;
    let timeout_ms = scrape_timeout_ms(interval);
    let mut yaml = format!(
        "global:\n  scrape_interval: {interval}\n  scrape_timeout: {timeout_ms}ms\n  evaluation_interval: {interval}\n"
    );
    match &opts.scrape_target {
        Some(target) => yaml.push_str(&format!(
            "scrape_configs:\n  - job_name: exporter\n    scrape_interval: {interval}\n    \
             scrape_timeout: {timeout_ms}ms\n    static_configs:\n      - targets: [\"{target}\"]\n"
        )),
        None => yaml.push_str("scrape_configs: []\n"),
    }
    yaml
}

/// 80 % of the interval (Prometheus rejects a timeout above the interval).
fn scrape_timeout_ms(interval: &str) -> u64 {
    let ms = parse_duration_ms(interval).unwrap_or_else(|| {
        panic!("unsupported scrape_interval {interval:?} (use e.g. 500ms, 1s, 1m)")
    });
    (ms * 4 / 5).max(1)
}

fn parse_duration_ms(s: &str) -> Option<u64> {
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    Some(n * factor)
}

/// A loopback port that was free a moment ago (bind to :0, read, drop).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0 to find a free port")
        .port()
}

enum StartFailure {
    Exited(std::process::ExitStatus),
    Timeout(String),
}

fn wait_ready(child: &mut Child, addr: &str, timeout: Duration) -> Result<(), StartFailure> {
    let deadline = Instant::now() + timeout;
    let mut last;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(StartFailure::Exited(status));
        }
        match http_get(addr, "/-/ready") {
            Ok((200, _)) => return Ok(()),
            Ok((status, body)) => last = format!("HTTP {status}: {}", body.trim()),
            Err(e) => last = e.to_string(),
        }
        if Instant::now() >= deadline {
            return Err(StartFailure::Timeout(last));
        }
        sleep(Duration::from_millis(25));
    }
}

/// Minimal HTTP/1.0 GET (so the server closes the connection and never uses
/// chunked encoding). Returns (status, body).
pub fn http_get(addr: &str, path_and_query: &str) -> std::io::Result<(u16, String)> {
    let sock = addr
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("cannot resolve {addr}")))?;
    let mut stream = TcpStream::connect_timeout(&sock, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path_and_query} HTTP/1.0\r\nHost: {addr}\r\nAccept: */*\r\nUser-Agent: obs-test-harness\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("malformed HTTP response: {text:?}")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head:?}")))?;
    Ok((status, body.to_string()))
}

/// `k=v&…` with RFC 3986 percent-encoding of keys and values.
pub fn query_string(params: &[(&str, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn log_tail_of(path: &Path) -> String {
    match fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => "(log is empty)".to_string(),
        Ok(text) => tail_lines(&text, LOG_TAIL_LINES),
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
