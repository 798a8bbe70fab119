//! The command line as a user meets it: exit codes, error messages, config, completions.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// `obs` with a clean environment: no user config, no colour, no inherited OBS_* variables.
pub fn obs() -> Command {
    let mut cmd = Command::cargo_bin("obs").expect("the obs binary is built");
    for (key, _) in std::env::vars() {
        if key.starts_with("OBS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("XDG_CONFIG_HOME", "/nonexistent-obs-test-config")
        .env("NO_COLOR", "1")
        .env("TZ", "UTC");
    cmd
}

fn stderr_of(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("obs runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn markdown_output_is_a_usage_error_for_commands_without_a_document() {
    let (code, stdout, stderr) = stderr_of(obs().args(["config", "-o", "markdown"]));
    assert_eq!(code, 2, "stderr: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("obs config has no markdown form"),
        "{stderr}"
    );
    assert!(stderr.contains("-o text or -o json"), "{stderr}");
    let (code, _, stderr) = stderr_of(obs().args(["store", "info", "-o", "markdown"]));
    assert_eq!(code, 2, "stderr: {stderr}");
    assert!(
        stderr.contains("obs store has no markdown form"),
        "{stderr}"
    );
}

#[test]
fn bad_since_is_a_usage_error_that_quotes_the_value_and_lists_the_forms() {
    let (code, stdout, stderr) = stderr_of(obs().args(["investigate", "--since", "14:61"]));
    assert_eq!(code, 2, "stderr: {stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("\"14:61\""), "{stderr}");
    for form in ["HH:MM", "30m", "RFC 3339", "unix seconds"] {
        assert!(stderr.contains(form), "missing {form:?} in: {stderr}");
    }
}

#[test]
fn until_before_since_is_a_usage_error() {
    let (code, _, stderr) = stderr_of(obs().args([
        "investigate",
        "--since",
        "2026-01-01T10:00:00Z",
        "--until",
        "2026-01-01T09:00:00Z",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--until"), "{stderr}");
}

#[test]
fn unreachable_prometheus_fails_with_exit_1_naming_the_url() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let (code, stdout, stderr) =
        stderr_of(obs().args(["investigate", "--since", "30m", "--prometheus-url", &url]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_prometheus_that_never_answers_times_out_within_the_configured_timeout() {
    // Accepts connections and reads, but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            held.push(stream);
        }
    });
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let (code, _, stderr) = stderr_of(obs().env("OBS_TIMEOUT", "1s").args([
        "investigate",
        "--since",
        "30m",
        "--prometheus-url",
        &url,
    ]));
    let took = started.elapsed();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.contains("did not answer within 1s"), "{stderr}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn completions_in_the_repo_match_what_obs_generates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [
        ("bash", "obs.bash"),
        ("zsh", "_obs"),
        ("fish", "obs.fish"),
        ("powershell", "_obs.ps1"),
    ] {
        let out = obs().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let generated = String::from_utf8(out.stdout).unwrap();
        let path = dir.join(file);
        if std::env::var_os("OBS_UPDATE_COMPLETIONS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (regenerate with OBS_UPDATE_COMPLETIONS=1 cargo test completions)",
                path.display()
            )
        });
        assert!(
            committed == generated,
            "{} is out of date: regenerate with OBS_UPDATE_COMPLETIONS=1 cargo test completions",
            path.display()
        );
        assert!(generated.contains("investigate"));
    }
}

#[test]
fn config_prints_the_resolved_context_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        r#"
current_context = "prod"
[contexts.prod]
prometheus_url = "https://prom.example.com"
tenant = "team-a"
bearer_token = "tok-SECRET-123"
headers = { "X-Api-Key" = "hdr-SECRET-456", "X-Env" = "prod" }
"#,
    )
    .unwrap();
    for output in ["text", "json"] {
        let (code, stdout, stderr) =
            stderr_of(obs().args(["config", "--config", path.to_str().unwrap(), "-o", output]));
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("https://prom.example.com"), "{stdout}");
        assert!(stdout.contains("team-a"), "{stdout}");
        assert!(stdout.contains("prod"), "{stdout}");
        assert!(!stdout.contains("SECRET"), "a secret leaked: {stdout}");
        assert!(!stderr.contains("SECRET"), "a secret leaked: {stderr}");
        assert!(stdout.contains("********"), "{stdout}");
    }
    // -v logging must not leak it either.
    let (_, _, stderr) = stderr_of(obs().args([
        "-vvv",
        "investigate",
        "--since",
        "5m",
        "--config",
        path.to_str().unwrap(),
        "--prometheus-url",
        "http://127.0.0.1:9",
    ]));
    assert!(
        !stderr.contains("SECRET"),
        "a secret leaked with -vvv: {stderr}"
    );
}

#[test]
fn unknown_config_key_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[contexts.default]\nprometheus_ulr = \"http://x\"\n").unwrap();
    let (code, _, stderr) = stderr_of(obs().args(["config", "--config", path.to_str().unwrap()]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("prometheus_ulr"), "{stderr}");
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
}

#[test]
fn flags_beat_env_which_beats_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[contexts.default]\nprometheus_url = \"http://from-file:9090\"\n",
    )
    .unwrap();
    let config = path.to_str().unwrap();
    let (_, stdout, _) = stderr_of(obs().args(["config", "--config", config, "-o", "json"]));
    assert!(stdout.contains("http://from-file:9090"), "{stdout}");
    let (_, stdout, _) = stderr_of(
        obs()
            .env("OBS_PROMETHEUS_URL", "http://from-env:9090")
            .args(["config", "--config", config, "-o", "json"]),
    );
    assert!(stdout.contains("http://from-env:9090"), "{stdout}");
    assert!(!stdout.contains("from-file"), "{stdout}");
}
