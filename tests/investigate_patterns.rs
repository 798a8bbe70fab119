//! The investigation's log-pattern step: a real Prometheus with the planted incident, and Loki
//! answering from recorded responses — the recorded checkout error lines for the window's error
//! and warning logs, the recorded empty answer for the baseline's.

use std::collections::BTreeSet;

use crate::cli::obs;
use crate::investigate_follow::{backends, investigate, planted};
use crate::support::recorded::{Recorded, fixture};
use serde_json::Value;

/// Tempo's recorded answer to the TraceQL search for checkout's failing traces.
pub(crate) async fn mount_error_search(tempo: &Recorded) {
    tempo
        .get("/api/search")
        .query(
            "q",
            r#"{ status = error && resource.service.name = "checkout" }"#,
        )
        .json("tempo/search_traceql_error_status_checkout.json")
        .await;
}

/// The trace ids of the recorded checkout error lines.
fn recorded_error_trace_ids() -> BTreeSet<String> {
    let d: Value =
        serde_json::from_slice(&fixture("loki/query_range_logs_json_parser_errors.json")).unwrap();
    d["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stream"]["trace_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_new_error_pattern_is_found_marked_new_and_linked_to_its_traces() {
    let (s, prom) = planted();
    let since = s.end - 2 * 3600;
    let since_ns = format!("{since}000000000");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (tempo, loki) = rt.block_on(async {
        let (tempo, loki) = backends().await;
        mount_error_search(&tempo).await;
        // The window's error and warning logs (forward, from --since): the recorded errors.
        loki.get("/loki/api/v1/query_range")
            .query("direction", "forward")
            .query("start", since_ns.as_str())
            .json("loki/query_range_logs_json_parser_errors.json")
            .await;
        (tempo, loki)
    });
    let args_owned = [
        "--prometheus-url".to_string(),
        prom.url().to_string(),
        "--tempo-url".into(),
        tempo.uri(),
        "--loki-url".into(),
        loki.uri(),
        "--log-selector".into(),
        r#"{job="shop"}"#.into(),
        "--since".into(),
        since.to_string(),
        "--until".into(),
        s.end.to_string(),
        "--service".into(),
        "checkout".into(),
        "--traces".into(),
        "1".into(),
    ];
    let args: Vec<&str> = args_owned.iter().map(String::as_str).collect();
    let (code, report, stderr) = investigate(&args);
    assert_eq!(code, 0, "{stderr}");
    let patterns = report["log_patterns"].as_array().unwrap();
    assert!(!patterns.is_empty(), "{report:#}");
    let ids = recorded_error_trace_ids();
    let mut lines = 0;
    let mut traces = 0;
    for p in patterns {
        assert_eq!(p["change"], "new", "{p}");
        assert_eq!(p["baseline_count"], 0);
        assert_eq!(p["services"], serde_json::json!(["checkout"]));
        assert!(p["first_seen"].is_string());
        for id in p["trace_ids"].as_array().unwrap() {
            assert!(
                ids.contains(id.as_str().unwrap()),
                "{id} is not a recorded id"
            );
        }
        lines += p["incident_count"].as_u64().unwrap();
        traces += p["trace_count"].as_u64().unwrap();
    }
    assert_eq!(lines, 20, "every recorded error line is grouped");
    assert_eq!(traces, 20, "each line's trace is counted");
    let pool = &patterns[0];
    let template = pool["template"].as_str().unwrap();
    assert!(
        template.contains(r#""msg": "failed to persist order""#),
        "{template}"
    );
    assert!(
        template.contains("PoolTimeout: QueuePool limit of size <*>"),
        "{template}"
    );
    assert!(pool["q_value"].as_f64().unwrap() < 0.05, "{pool}");
    assert!(pool["incident_count"].as_u64().unwrap() >= 10, "{pool}");

    // The timeline runs in time order; the recorded lines are from another day than the
    // planted window, so no log event is put on it.
    let timeline = report["timeline"].as_array().unwrap();
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"baseline"), "{kinds:?}");
    let onset = kinds.iter().position(|k| *k == "onset").expect("onset");
    let peak = kinds.iter().position(|k| *k == "peak").expect("peak");
    assert!(onset < peak, "{kinds:?}");
    assert!(!kinds.contains(&"first_new_log_pattern"), "{kinds:?}");
    let at: Vec<f64> = timeline
        .iter()
        .map(|e| e["at_unix"].as_f64().unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "{timeline:#?}");

    // The text report has the block.
    let out = obs()
        .env("COLUMNS", "160")
        .arg("investigate")
        .args(&args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Log patterns "), "{text}");
    assert!(text.contains("new    0 → "), "{text}");
    assert!(text.contains("failed to persist order"), "{text}");
    assert!(text.contains("Timeline"), "{text}");
    assert!(text.contains("symptom onset: above"), "{text}");
}

#[test]
fn a_logs_backend_that_fails_leaves_partial_patterns_and_says_so() {
    let (s, prom) = planted();
    let since = s.end - 2 * 3600;
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Loki answers the label names and then fails every query with a 500.
    let loki = rt.block_on(async {
        let loki = Recorded::start().await;
        loki.get("/loki/api/v1/labels")
            .json("loki/labels.json")
            .await;
        loki.get("/loki/api/v1/query_range")
            .respond(wiremock::ResponseTemplate::new(500).set_body_string("internal error"))
            .await;
        loki
    });
    let args_owned = [
        "--prometheus-url".to_string(),
        prom.url().to_string(),
        "--loki-url".into(),
        loki.uri(),
        "--since".into(),
        since.to_string(),
        "--until".into(),
        s.end.to_string(),
        "--service".into(),
        "checkout".into(),
    ];
    let args: Vec<&str> = args_owned.iter().map(String::as_str).collect();
    let (code, report, stderr) = investigate(&args);
    assert_eq!(code, 1, "a failed source makes the exit code 1: {stderr}");
    assert!(report["log_patterns"].as_array().unwrap().is_empty());
    let logs = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["signal"] == "logs")
        .expect("the logs source is listed");
    assert_eq!(logs["status"], "error");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("log patterns are partial"), "{warnings}");
    // The metrics evidence is still there.
    assert_eq!(report["symptom"]["verdict"], "spike");
}
