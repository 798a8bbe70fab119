//! A real OpenAI-compatible server for the explain tests: the LiteLLM proxy (PyPI
//! `litellm[proxy]`, installed by `scripts/test-deps.d/13.sh`), on a free loopback port, with
//! models that answer with fixed `mock_response`s and stream them like any model.
//!
//! It takes tens of seconds to start, so one proxy is started for the whole test binary and
//! shared. It runs under a small shell watchdog that stops it when the test process exits.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::prometheus::{free_port, http_get};

/// A well-cited answer: every claim cites evidence the pack of `report_json` has.
pub const CITED: &str = r#"{"root_cause": "checkout's orders connection pool was exhausted", "confidence": "high", "claims": [{"text": "the orders pool filled two minutes before the errors", "evidence": ["M1"]}, {"text": "the failing trace waited 8 s for a connection", "evidence": ["T1", "S1"]}], "mitigations": ["kill the leaking query"], "next_checks": ["pool wait time per query"]}"#;
/// An answer citing ids obs never sent.
pub const UNKNOWN: &str = r#"{"root_cause": "a DNS outage", "confidence": "medium", "claims": [{"text": "DNS lookups failed", "evidence": ["M99", "K7"]}, {"text": "the resolver restarted", "evidence": []}], "mitigations": [], "next_checks": []}"#;
/// Prose, not JSON.
pub const TEXT: &str = "The database connection pool of checkout is probably exhausted.";

pub struct LiteLlm {
    /// Base URL up to `/v1`.
    pub base_url: String,
    pub log: PathBuf,
    _child: Mutex<Child>,
    _dir: tempfile::TempDir,
}

fn yaml_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn config() -> String {
    let mut out = String::from("model_list:\n");
    for (name, answer) in [
        ("mock-cited", CITED),
        ("mock-unknown", UNKNOWN),
        ("mock-text", TEXT),
    ] {
        out.push_str(&format!(
            "  - model_name: {name}\n    litellm_params:\n      model: openai/{name}\n      mock_response: {}\n",
            yaml_str(answer)
        ));
    }
    out
}

/// The shared proxy, started on first use. Panics with the install command when `litellm`
/// is missing: these tests must not silently skip.
pub fn shared() -> &'static LiteLlm {
    static PROXY: OnceLock<LiteLlm> = OnceLock::new();
    PROXY.get_or_init(start)
}

fn start() -> LiteLlm {
    let found = Command::new("sh")
        .args(["-c", "command -v litellm"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "litellm is not installed: run `pip install 'litellm[proxy]'` (scripts/test-deps.d/13.sh)"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cfg = dir.path().join("config.yaml");
    std::fs::write(&cfg, config()).expect("the litellm config is written");
    let log = dir.path().join("litellm.log");
    let port = free_port();
    // The watchdog: stop the proxy when the test process (our parent's pid) is gone.
    let script = format!(
        "litellm --config '{}' --host 127.0.0.1 --port {port} >'{}' 2>&1 & child=$!; \
         trap 'kill $child 2>/dev/null' EXIT INT TERM; \
         while kill -0 {} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done",
        cfg.display(),
        log.display(),
        std::process::id()
    );
    let child = Command::new("sh")
        .args(["-c", &script])
        .env(
            "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY",
            "true",
        )
        .env("LITELLM_LOG", "ERROR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh starts");
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        if let Ok((200, _)) = http_get(&addr, "/health/liveliness") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "litellm did not start within 240 s; its log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    LiteLlm {
        base_url: format!("http://{addr}/v1"),
        log,
        _child: Mutex::new(child),
        _dir: dir,
    }
}
