//! Failing requests, not only slow ones: when the exemplars carry no failing request (here they
//! sit only on the latency histogram), investigate also searches the traces backend for
//! failing traces in the spike window and follows them first. A real Prometheus scrapes a live
//! exporter; Tempo answers from recorded responses.

use std::time::Duration;

use crate::investigate_follow::{backends, investigate, scraping};
use crate::investigate_patterns::mount_error_search;
use crate::support::exporter::Exporter;
use crate::support::recorded::INCIDENT;

#[test]
fn slow_only_exemplars_lead_to_a_search_for_failing_traces_followed_first() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (tempo, loki) = rt.block_on(async {
        let (tempo, loki) = backends().await;
        mount_error_search(&tempo).await;
        (tempo, loki)
    });
    // Random trace ids: the exemplars lead to traces Tempo does not have (recorded 404s).
    let exporter = Exporter::start(Duration::from_secs(8));
    let prom = scraping(&exporter, "http_request_duration_seconds_bucket");
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
        // The symptom given, so exemplars come only from the latency histogram.
        "--error-query",
        r#"sum(rate(http_requests_total{service="checkout",code=~"5.."}[5s])) / sum(rate(http_requests_total{service="checkout"}[5s]))"#,
        "--latency-query",
        r#"http_request_duration_seconds_bucket{service="checkout"}"#,
        "--traces",
        "4",
    ]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    let exemplars = report["exemplars"].as_array().unwrap();
    assert!(!exemplars.is_empty(), "{report:#}");
    assert!(
        exemplars.iter().all(|e| e["kind"] == "slow"),
        "{exemplars:#?}"
    );
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains(
            "the exemplars carry no failing request: 2 failing traces found by searching tempo"
        ),
        "{warnings}"
    );
    // The recorded search's first hit is the incident trace: followed, first, as a failure
    // found by the search.
    let traces = report["traces"].as_array().unwrap();
    assert_eq!(traces[0]["trace_id"], INCIDENT, "{traces:#?}");
    assert_eq!(traces[0]["origin"], "search");
    assert_eq!(traces[0]["kind"], "error");
    assert!(traces[0]["error_span_count"].as_u64().unwrap() > 0);
}
