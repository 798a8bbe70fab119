//! `obs investigate` continuing from exemplars to traces and logs: a real Prometheus, and Tempo
//! and Loki served from recorded responses by wiremock.
//!
//! The recorded Tempo and Loki data has known trace ids (fixtures README). For the exemplar
//! path, the live test exporter is told to give its incident requests exactly those ids, so the
//! exemplars Prometheus scrapes lead to traces and log lines that were really recorded. Without
//! exemplars (the backfilled planted incident has none), investigate falls back to a trace search.

use std::time::Duration;

use serde_json::Value;

use crate::cli::obs;
use crate::support::exporter::Exporter;
use crate::support::prometheus::{Options, TestPrometheus, unix_now};
use crate::support::recorded::{INCIDENT, Recorded};
use crate::support::scenario;

const INCIDENT_IDS: [&str; 4] = [
    INCIDENT,
    "878a071dcabe59b889f15e96d853e4d5",
    "2a0c234e2d1b0f75cdf00544ba7c7181",
    "99428b9199a22ba7952d26984bf30ae3",
];

fn schema() -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.v1.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

pub(crate) fn investigate(args: &[&str]) -> (i32, Value, String) {
    let out = obs()
        .args(["investigate", "-o", "json"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = out.status.code().unwrap_or(-1);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}); exit {code}; stderr: {stderr}; {stdout}"));
    let errors: Vec<String> = schema()
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema: {errors:#?}");
    (code, report, stderr)
}

/// Tempo with the four recorded incident traces and the recorded 404 for anything else; Loki
/// with the recorded label names, an empty answer for label filters, and the recorded lines of
/// the incident trace for its line filter (the recorded empty answer for the other ids' line
/// filters: only the incident trace's lookup was recorded).
pub(crate) async fn backends() -> (Recorded, Recorded) {
    let tempo = Recorded::start().await.with_tempo_traces().await;
    tempo
        .get_matching("^/api/traces/[0-9a-f]{32}$")
        .priority(10)
        .text(
            404,
            "tempo/trace_by_id_not_found_404.txt",
            "text/plain; charset=utf-8",
        )
        .await;
    let loki = Recorded::start().await;
    loki.get("/loki/api/v1/labels")
        .json("loki/labels.json")
        .await;
    loki.get("/loki/api/v1/query_range")
        .query("query", format!(r#"{{job="shop"}} |= "{INCIDENT}""#))
        .query("direction", "backward")
        .json("loki/query_range_logs_line_filter_traceid.json")
        .await;
    loki.get("/loki/api/v1/query_range")
        .priority(10)
        .json("loki/query_range_logs_no_results.json")
        .await;
    (tempo, loki)
}

/// A real Prometheus scraping the live exporter every second, returned once `exemplars_of` has
/// exemplars and a few more scrapes have landed.
pub(crate) fn scraping(exporter: &Exporter, exemplars_of: &str) -> TestPrometheus {
    let prom = TestPrometheus::start(Options {
        scrape_target: Some(exporter.addr.clone()),
        scrape_interval: "1s",
        ..Options::default()
    });
    let start = unix_now();
    prom.wait_for_exemplars(
        exemplars_of,
        start - 60,
        unix_now() + 60,
        Duration::from_secs(40),
    );
    std::thread::sleep(Duration::from_secs(4));
    prom
}

#[test]
fn exemplars_lead_to_traces_and_their_logs() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (tempo, loki) = rt.block_on(backends());
    let exporter = Exporter::start_with_incident_trace_ids(Duration::from_secs(8), &INCIDENT_IDS);
    let prom = scraping(&exporter, "http_requests_total{code=~\"5..\"}");
    let (code, report, stderr) = investigate(&[
        "--prometheus-url",
        prom.url(),
        "--tempo-url",
        &tempo.uri(),
        "--loki-url",
        &loki.uri(),
        "--log-selector",
        r#"{job="shop"}"#,
        "--since",
        "1m",
        "--step",
        "1s",
        "--scrape-interval",
        "1s",
        "--service",
        "checkout",
        "--traces",
        "4",
    ]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    let exemplar_ids: Vec<&str> = report["exemplars"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["trace_id"].as_str())
        .collect();
    assert!(
        exemplar_ids.iter().any(|id| INCIDENT_IDS.contains(id)),
        "{exemplar_ids:?}"
    );
    let traces = report["traces"].as_array().unwrap();
    assert!(!traces.is_empty(), "{report:#}");
    for t in traces {
        let id = t["trace_id"].as_str().unwrap();
        assert!(INCIDENT_IDS.contains(&id), "{id}");
        assert!(exemplar_ids.contains(&id), "{id} came from an exemplar");
        assert_eq!(t["origin"], "exemplar");
        assert_eq!(t["root"]["service"], "frontend");
    }
    // The exemplars' order (failing first, then the slowest) is kept: the traces are a
    // subsequence of the exemplars, and no slow trace comes before a failing one.
    let order: Vec<usize> = traces
        .iter()
        .map(|t| {
            let id = t["trace_id"].as_str().unwrap();
            exemplar_ids.iter().position(|e| *e == id).unwrap()
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    let kinds: Vec<&str> = traces.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert!(
        kinds
            .windows(2)
            .all(|w| !(w[0] == "slow" && w[1] == "error")),
        "{kinds:?}"
    );
    if let Some(t) = traces.iter().find(|t| t["trace_id"] == INCIDENT) {
        let errors = t["error_spans"].as_array().unwrap();
        assert!(
            errors.iter().any(|e| e["exception"]["type"]
                .as_str()
                .is_some_and(|k| k.ends_with("PoolTimeout"))),
            "{t:#}"
        );
        let logs: Vec<&Value> = report["logs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["trace_id"] == INCIDENT)
            .collect();
        assert_eq!(logs.len(), 3, "{report:#}");
        assert!(logs.iter().all(|l| l["matched_by"] == "line"));
        assert!(logs.iter().any(|l| l["service"] == "checkout"
            && l["severity"] == "error"
            && l["body"].as_str().unwrap().contains("PoolTimeout")));
    }
    let sources: Vec<(&str, &str, &str)> = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["signal"].as_str().unwrap(),
                s["kind"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        [
            ("metrics", "prometheus", "ok"),
            ("traces", "tempo", "ok"),
            ("logs", "loki", "ok")
        ]
    );
}

pub(crate) fn planted() -> (scenario::Scenario, TestPrometheus) {
    let end = (unix_now() - 300) / 60 * 60;
    let s = scenario::planted(end, 7);
    let prom = TestPrometheus::start(Options {
        backfill: Some(s.openmetrics.clone()),
        ..Options::default()
    });
    (s, prom)
}

#[test]
fn without_exemplars_a_trace_search_is_used_and_said_and_a_failing_tempo_is_recorded() {
    let (s, prom) = planted();
    let since = (s.end - 2 * 3600).to_string();
    let until = s.end.to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (tempo, loki) = rt.block_on(async {
        let (tempo, loki) = backends().await;
        tempo
            .get("/api/search")
            .query(
                "q",
                r#"{ status = error && resource.service.name = "checkout" }"#,
            )
            .query("limit", "20")
            .json("tempo/search_traceql_error_status_checkout.json")
            .await;
        (tempo, loki)
    });
    let (code, report, stderr) = investigate(&[
        "--prometheus-url",
        prom.url(),
        "--tempo-url",
        &tempo.uri(),
        "--loki-url",
        &loki.uri(),
        "--log-selector",
        r#"{job="shop"}"#,
        "--since",
        &since,
        "--until",
        &until,
        "--service",
        "checkout",
        "--traces",
        "2",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(report["exemplars"].as_array().unwrap().is_empty());
    let traces = report["traces"].as_array().unwrap();
    // The search found 878a… and aa36…; only aa36… was recorded by id, 878a… is "not found".
    assert_eq!(traces.len(), 1, "{traces:#?}");
    assert_eq!(traces[0]["trace_id"], INCIDENT);
    assert_eq!(traces[0]["origin"], "search");
    assert_eq!(traces[0]["kind"], "error");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("no exemplars in the spike window"),
        "{warnings}"
    );
    assert!(
        warnings.contains("878a071dcabe59b889f15e96d853e4d5 not found in tempo"),
        "{warnings}"
    );
    assert_eq!(report["logs"].as_array().unwrap().len(), 3);

    // The text report draws the worst trace and its error logs.
    let out = obs()
        .env("COLUMNS", "140")
        .args([
            "investigate",
            "--prometheus-url",
            prom.url(),
            "--tempo-url",
            &tempo.uri(),
            "--loki-url",
            &loki.uri(),
            "--log-selector",
            r#"{job="shop"}"#,
            "--since",
            &since,
            "--until",
            &until,
            "--service",
            "checkout",
            "--traces",
            "2",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(text.contains("found by a trace search"), "{text}");
    assert!(text.contains(&format!("Worst trace {INCIDENT}")), "{text}");
    assert!(text.contains("critical path"), "{text}");
    assert!(text.contains("error logs of trace"), "{text}");
    assert!(text.contains("failed to persist order"), "{text}");

    // Tempo down: recorded in sources[] with its error, the rest still reported, exit 1.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let (code, report, stderr) = investigate(&[
        "--prometheus-url",
        prom.url(),
        "--tempo-url",
        &dead,
        "--loki-url",
        &loki.uri(),
        "--log-selector",
        r#"{job="shop"}"#,
        "--since",
        &since,
        "--until",
        &until,
        "--service",
        "checkout",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let tempo_status = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["signal"] == "traces")
        .unwrap();
    assert_eq!(tempo_status["status"], "error");
    assert_eq!(tempo_status["url"], dead.as_str());
    let error = tempo_status["error"].as_str().unwrap();
    assert!(error.contains("tempo at"), "{error}");
    assert!(error.contains(&dead), "{error}");
    assert_eq!(report["sources"][0]["status"], "ok");
    assert_eq!(report["symptom"]["verdict"], "spike");
    assert!(!report["correlations"].as_array().unwrap().is_empty());
    assert!(report["traces"].as_array().unwrap().is_empty());
}
