//! `obs investigate` at the size of a cluster, against a real Prometheus holding a backfilled
//! incident (tests/support/cluster.rs): more metric names than `--max-candidates`, the root
//! cause's name sorting last — where a cap by name order used to drop it — and a Prometheus
//! that fails or is slow for some queries.

use std::time::Duration;

use serde_json::Value;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

use crate::cli::obs;
use crate::investigate_prometheus::warnings;
use crate::support::cluster::{self, Cluster, Placement};
use crate::support::prometheus::{Options, TestPrometheus, http_get, unix_now};

fn start(names: usize, placement: Placement) -> (Cluster, TestPrometheus) {
    let end = (unix_now() - 300) / 1800 * 1800;
    let c = cluster::cluster(end, names, placement, 11);
    let prom = TestPrometheus::start(Options {
        backfill: Some(c.openmetrics.clone()),
        ..Options::default()
    });
    (c, prom)
}

fn investigate(url: &str, c: &Cluster, extra: &[&str]) -> (i32, Value, String) {
    let out = obs()
        .args(["investigate", "-o", "json", "--prometheus-url", url])
        .args(["--since", &(c.end - 75 * 60).to_string()])
        .args(["--until", &c.end.to_string()])
        .args(["--scrape-interval", "30s", "--traces", "0"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr: {stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr)
}

fn top_metric(report: &Value) -> &str {
    report["correlations"][0]["metric"].as_str().unwrap_or("")
}

/// Pins the bug where `--max-candidates` kept the first 500 names in alphabetical order: with
/// 520 names the root cause, sorting last, was never queried and the report looked calm.
#[test]
fn a_cause_sorting_last_among_more_names_than_the_default_cap_is_found() {
    let (c, prom) = start(520, Placement::Last);
    let (code, report, stderr) = investigate(prom.url(), &c, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        top_metric(&report),
        c.cause,
        "{:#}",
        report["correlations"][0]
    );
    assert_eq!(report["correlations"][0]["significant"], true);
    let stats = &report["candidates"];
    let scored = stats["scored_names"].as_u64().unwrap();
    let fetched = stats["fetched_names"].as_u64().unwrap();
    assert!(scored > 500, "every name is scored: {stats}");
    assert!(fetched <= 500, "the cap bounds the full fetches: {stats}");
    assert_eq!(stats["skipped_over_cap"], 0, "no name left unseen: {stats}");
    assert_eq!(
        scored,
        fetched
            + stats["unchanged_names"].as_u64().unwrap()
            + stats["below_cap_names"].as_u64().unwrap(),
        "every scored name is fetched, unchanged or below the cap: {stats}"
    );
    // Only the top rows carry their series in JSON.
    let rows = report["correlations"].as_array().unwrap();
    assert!(rows[0]["values"].as_array().is_some_and(|v| !v.is_empty()));
    if rows.len() > 50 {
        assert!(rows[50]["values"].as_array().is_some_and(Vec::is_empty));
        assert_eq!(stats["values_rows"], 50);
    }

    // The text report says how many names were scored and how many fetched in full.
    let out = obs()
        .args(["investigate", "--prometheus-url", prom.url()])
        .args(["--since", &(c.end - 75 * 60).to_string()])
        .args(["--until", &c.end.to_string()])
        .args(["--scrape-interval", "30s", "--traces", "0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("scored {scored} names, fetched {fetched} in full")),
        "{text}"
    );
    assert!(text.contains(&c.cause), "{text}");
}

/// Answers from the real Prometheus, except queries naming one of `failing` (HTTP 503) or
/// `slow` (answered late).
pub(crate) struct Flaky {
    pub(crate) prometheus: String,
    pub(crate) failing: Vec<String>,
    pub(crate) slow: Vec<String>,
}

impl Respond for Flaky {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let url = &request.url;
        let query: String = url
            .query_pairs()
            .filter(|(k, _)| k == "query")
            .map(|(_, v)| v.into_owned())
            .collect();
        if self.failing.iter().any(|n| query.contains(n.as_str())) {
            return ResponseTemplate::new(503).set_body_string("upstream overloaded");
        }
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let (status, body) = http_get(&self.prometheus, &path).expect("prometheus answers");
        let answer = ResponseTemplate::new(status)
            .insert_header("content-type", "application/json")
            .set_body_string(body);
        if self.slow.iter().any(|n| query.contains(n.as_str())) {
            answer.set_delay(Duration::from_millis(1500))
        } else {
            answer
        }
    }
}

/// Some names fail in every query and some answer slowly: the rest is still scored and
/// ranked, the cause first, and the failures are counted and said.
#[test]
fn failing_and_slow_queries_are_counted_and_the_rest_still_ranked() {
    let (c, prom) = start(60, Placement::Middle);
    let failing: Vec<String> = c.decoys[..4].to_vec();
    let slow: Vec<String> = c.decoys[10..13].to_vec();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(Flaky {
                prometheus: prom.addr().to_string(),
                failing: failing.clone(),
                slow,
            })
            .mount(&server)
            .await;
        server
    });
    let (code, report, stderr) = investigate(&server.uri(), &c, &["--max-candidates", "20"]);
    assert_eq!(
        code, 0,
        "some failed queries do not fail the metrics source: {stderr}"
    );
    assert_eq!(
        top_metric(&report),
        c.cause,
        "{:#}",
        report["correlations"][0]
    );
    let stats = &report["candidates"];
    assert_eq!(stats["score_failed"], failing.len(), "{stats}");
    assert_eq!(
        stats["failed_queries"],
        failing.len(),
        "unscored names are fetched in full (and fail again): {stats}"
    );
    let warnings = warnings(&report);
    assert!(
        warnings.iter().any(|w| w.contains("could not be scored")),
        "{warnings:#?}"
    );
    for name in &failing {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(name.as_str()) && w.contains("503")),
            "{name} is named with its error: {warnings:#?}"
        );
    }
    drop(server);
}
