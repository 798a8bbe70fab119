//! Candidate typing, symptom exclusion and the PromQL pieces the investigation builds.

use std::collections::{HashMap, HashSet};

use crate::model::MetricType;

use super::candidates::{plan_candidate, symptom_metric_names};
use super::resolution::format_range;
use super::symptom::promql_string;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn symptom_family_is_excluded_from_candidates() {
    let all = names(&[
        "http_requests_total",
        "http_requests_created",
        "http_request_duration_seconds_bucket",
        "db_connections_in_use",
    ]);
    let q =
        r#"sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))"#;
    let ex = symptom_metric_names(q, &all);
    assert!(ex.contains("http_requests_total"));
    assert!(ex.contains("http_requests_created"));
    assert!(!ex.contains("db_connections_in_use"));
    assert!(!ex.contains("http_request_duration_seconds_bucket"));
}

#[test]
fn candidates_are_typed_from_metadata_then_names() {
    let all = names(&[
        "req_total",
        "lat_bucket",
        "lat_sum",
        "lat_count",
        "temp",
        "gc_seconds",
        "gc_seconds_sum",
        "gc_seconds_count",
        "x_created",
    ]);
    let mut meta = HashMap::new();
    meta.insert("gc_seconds".to_string(), MetricType::Summary);
    let all: HashSet<&str> = all.iter().map(String::as_str).collect();
    let plan = |n: &str| plan_candidate(n, "", &all, &meta, "1m", "service").map(|p| p.query);
    assert_eq!(plan("req_total").as_deref(), Some("rate(req_total[1m])"));
    assert_eq!(
        plan("lat_bucket").as_deref(),
        Some("histogram_quantile(0.99, rate(lat_bucket[1m]))")
    );
    assert_eq!(plan("lat_sum"), None);
    assert_eq!(plan("lat_count"), None);
    assert_eq!(plan("temp").as_deref(), Some("temp"));
    assert_eq!(
        plan("gc_seconds").as_deref(),
        Some(r#"gc_seconds{quantile="0.99"}"#)
    );
    assert_eq!(plan("gc_seconds_sum"), None);
    assert_eq!(plan("x_created"), None);
    // Narrowed to other services when the symptom's own family stays a candidate.
    let other = |n: &str| {
        plan_candidate(n, r#"service!="checkout""#, &all, &meta, "1m", "service").map(|p| p.query)
    };
    assert_eq!(
        other("req_total").as_deref(),
        Some(r#"rate(req_total{service!="checkout"}[1m])"#)
    );
    assert_eq!(
        other("gc_seconds").as_deref(),
        Some(r#"gc_seconds{service!="checkout",quantile="0.99"}"#)
    );
}

#[test]
fn rate_ranges_read_like_promql() {
    assert_eq!(format_range(60.0), "1m");
    assert_eq!(format_range(45.0), "45s");
}

#[test]
fn service_values_are_quoted_for_promql() {
    assert_eq!(promql_string(r#"a"b\c"#), r#""a\"b\\c""#);
}
