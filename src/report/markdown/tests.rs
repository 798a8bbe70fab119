//! The postmortem document: a golden file of the demo incident's shape (checkout's `orders`
//! pool saturated, a failing checkout trace recorded from Tempo, a new `PoolTimeout` pattern),
//! cell escaping, and well-formed Grafana links.

use super::*;
use crate::analysis::spantree::build;
use crate::analysis::spantree::testdata::tempo_incident_trace;
use crate::model::Labels;
use crate::report::findings::Finding;
use crate::report::timeline::TimelineEntry;
use crate::report::waterfall::summarize;
use crate::report::{
    CandidateStats, CorrelationEntry, Instant, LogEntry, LogPatternEntry, SCHEMA_VERSION,
    SourceStatus, Symptom, Timings, TraceEntry, WindowInfo,
};

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn at(unix: f64) -> String {
    Instant::from_unix(unix).rfc3339.to_string()
}

fn correlation(
    rank: usize,
    metric: &str,
    l: &[(&str, &str)],
    r: f64,
    lag: f64,
) -> CorrelationEntry {
    CorrelationEntry {
        rank,
        query: format!("{metric}{}", crate::model::display_labels(&labels(l))),
        metric: metric.into(),
        labels: labels(l),
        r,
        r_at_zero_lag: r - 0.05,
        p_value: 1e-9 * rank as f64,
        q_value: 1e-8 * rank as f64,
        lag_seconds: lag,
        significant: r > 0.5,
        n: 80,
        effect: Some(12.0 / rank as f64),
        timing: "leads".into(),
        values: vec![],
    }
}

/// The demo's incident as a report: the window around the recorded failing checkout trace.
fn demo_report() -> Report {
    let trace = tempo_incident_trace();
    let tree = build(&trace);
    let start = (tree.start_unix_nano() / 1_000_000_000) as f64;
    let (since, until) = (start - 300.0, start + 300.0);
    let onset = start - 60.0;
    let peak = start + 15.0;
    let id = tree.trace_id().to_string();
    let mut symptom = Symptom {
        query: r#"sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[1m])) by (service_name) / sum(rate(http_server_request_duration_seconds_count[1m])) by (service_name)"#.into(),
        origin: "auto:opentelemetry".into(),
        service: Some("checkout".into()),
        verdict: Verdict::Spike,
        summary: "checkout's error ratio rose from 0.2% to 31% (peak), 60s before the window's middle".into(),
        baseline: Some(0.002),
        threshold: Some(0.02),
        peak: Some(0.31),
        peak_at: None,
        peak_unix: None,
        onset: None,
        onset_unix: None,
        end: None,
        end_unix: None,
        values: vec![],
        kind: "errors".into(),
        why: None,
        also_examined: vec![],
    };
    symptom.set_times(Some(onset), Some(peak), Some(start + 200.0));
    let template = "PoolTimeout: pool orders exhausted after <*> ms | retry=<*>";
    Report {
        schema_version: SCHEMA_VERSION,
        window: WindowInfo::new(since, until, since - 600.0, 15.0, "UTC".into()),
        symptom,
        candidates: CandidateStats {
            metric_names: 42,
            queries: 42,
            series: 57,
            ..CandidateStats::default()
        },
        correlations: vec![
            correlation(
                1,
                "db_client_connection_pool_usage",
                &[("service_name", "checkout"), ("db_client_connection_pool_name", "orders")],
                0.97,
                45.0,
            ),
            correlation(
                2,
                "http_server_request_duration_seconds",
                &[("service_name", "payments"), ("quantile", "0.99")],
                0.81,
                -15.0,
            ),
            correlation(3, "process_cpu_seconds_total", &[("service_name", "inventory")], 0.12, 0.0),
        ],
        services: vec![],
        exemplars: vec![],
        traces: vec![TraceEntry {
            summary: summarize(&tree, 3),
            origin: TraceOrigin::Search,
            kind: ExemplarKind::Error,
        }],
        logs: vec![LogEntry {
            trace_id: id.clone(),
            timestamp: at(start + 1.0),
            timestamp_unix: start + 1.0,
            severity: Some("ERROR".into()),
            service: Some("checkout".into()),
            body: "PoolTimeout: pool orders exhausted after 5000 ms | retry=3".into(),
            matched_by: Some("label".into()),
        }],
        log_patterns: vec![LogPatternEntry {
            id: "p1".into(),
            template: template.into(),
            change: "new".into(),
            baseline_count: 0,
            incident_count: 118,
            baseline_per_minute: 0.0,
            incident_per_minute: 11.8,
            p_value: 1e-30,
            q_value: 1e-29,
            services: vec!["checkout".into()],
            first_seen: Some(at(onset + 5.0)),
            first_seen_unix: Some(onset + 5.0),
            trace_ids: vec![id.clone()],
            trace_count: 4,
            example: "PoolTimeout: pool orders exhausted after 5000 ms | retry=3".into(),
        }],
        timeline: vec![
            TimelineEntry {
                at: at(since - 600.0),
                at_unix: since - 600.0,
                kind: "baseline".into(),
                text: "baseline: error ratio 0.2%".into(),
                evidence: "symptom".into(),
            },
            TimelineEntry {
                at: at(onset - 45.0),
                at_unix: onset - 45.0,
                kind: "leading_change".into(),
                text: "db_client_connection_pool_usage{db_client_connection_pool_name=\"orders\"} starts rising".into(),
                evidence: "correlations[0]".into(),
            },
            TimelineEntry {
                at: at(onset),
                at_unix: onset,
                kind: "onset".into(),
                text: "error ratio crosses 2%".into(),
                evidence: "symptom".into(),
            },
            TimelineEntry {
                at: at(onset + 5.0),
                at_unix: onset + 5.0,
                kind: "first_new_log_pattern".into(),
                text: format!("new log pattern in checkout: {template}"),
                evidence: "log_patterns[0]".into(),
            },
            TimelineEntry {
                at: at(peak),
                at_unix: peak,
                kind: "peak".into(),
                text: "peak: error ratio 31%".into(),
                evidence: "symptom".into(),
            },
        ],
        findings: vec![
            Finding {
                rank: 1,
                text: "checkout's orders pool saturated 45s before the errors began".into(),
                evidence: vec!["correlations[0]".into(), "timeline[1]".into()],
            },
            Finding {
                rank: 2,
                text: "the failing checkout requests waited on the pool: PoolTimeout".into(),
                evidence: vec!["traces[0]".into(), "log_patterns[0]".into()],
            },
        ],
        sources: vec![
            SourceStatus {
                signal: "metrics".into(),
                kind: "prometheus".into(),
                url: "http://127.0.0.1:9090".into(),
                status: SourceState::Ok,
                error: None,
            },
            SourceStatus {
                signal: "traces".into(),
                kind: "tempo".into(),
                url: "http://127.0.0.1:3200".into(),
                status: SourceState::Ok,
                error: None,
            },
            SourceStatus {
                signal: "logs".into(),
                kind: "loki".into(),
                url: "http://127.0.0.1:3100".into(),
                status: SourceState::Error,
                error: Some("HTTP 502 | Bad Gateway\nretry later".into()),
            },
        ],
        warnings: vec!["logs: the baseline query failed; patterns are from the window alone".into()],
        timings: Timings::default(),
        worst_trace: Some(trace),
    }
}

fn options(grafana: Option<Grafana>) -> MarkdownOptions {
    MarkdownOptions {
        top: 10,
        time_zone: jiff::tz::TimeZone::UTC,
        grafana,
        log_service_label: None,
        context: Some("prod eu".into()),
        store: None,
        scrape_interval: Some(15.0),
    }
}

#[test]
fn demo_incident_postmortem_document() {
    insta::assert_snapshot!(render(&demo_report(), &options(None)));
}

#[test]
fn cells_escape_pipes_and_line_breaks() {
    assert_eq!(cell("a|b\nc\r\nd"), r"a\|b<br>c<br>d");
    assert_eq!(code("x|`y`"), r"`` x\|`y` ``");
    assert_eq!(code("`a"), "`` `a ``");
    let out = render(&demo_report(), &options(None));
    // The template's `|` and the source error's line break stay inside their rows.
    let pattern_row = out
        .lines()
        .find(|l| l.starts_with("| new |"))
        .expect("a pattern row");
    assert!(pattern_row.contains(r"ms \| retry=<*>"), "{pattern_row}");
    assert_eq!(pattern_row.matches(" | ").count(), 7, "{pattern_row}");
    let logs_row = out
        .lines()
        .find(|l| l.starts_with("| logs |"))
        .expect("logs row");
    assert!(
        logs_row.ends_with(r"error: HTTP 502 \| Bad Gateway<br>retry later |"),
        "{logs_row}"
    );
}

#[test]
fn every_section_and_the_commands_to_reproduce() {
    let report = demo_report();
    let out = render(&report, &options(None));
    for heading in [
        "# Incident — checkout: ",
        "## Summary",
        "## Timeline",
        "## What moved with it",
        "## Traces",
        "### Worst trace",
        "## New log patterns",
        "## Findings",
        "## Sources",
        "## Warnings",
        "## Reproduce",
    ] {
        assert!(out.contains(heading), "no {heading:?} in\n{out}");
    }
    let w = &report.window;
    let id = &report.traces[0].summary.trace_id;
    assert!(out.contains(&format!(
        "obs --context 'prod eu' investigate --since {} --until {} --baseline {} --step 15s --scrape-interval 15s --service checkout -o markdown",
        w.since, w.until, w.baseline_since
    )), "{out}");
    assert!(
        out.contains(&format!("obs --context 'prod eu' trace {id}\n")),
        "{out}"
    );
    // The waterfall is the text renderer's, without colour, in a fenced block.
    assert!(out.contains(&format!("```text\nTrace {id}")), "{out}");
    assert!(!out.contains('\u{1b}'), "no escape codes");
    assert!(!out.contains("Explore"), "no links without grafana_url");
}

/// Every Explore link of the document parsed: its pane's query and range.
fn panes(out: &str) -> Vec<serde_json::Value> {
    let mut panes = Vec::new();
    for (i, _) in out.match_indices("](https://grafana.example.com/explore?") {
        let rest = &out[i + 2..];
        let end = rest.find(')').expect("link closes");
        let url = reqwest::Url::parse(&rest[..end]).expect("well-formed link");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert!(pairs.contains(&("schemaVersion".into(), "1".into())));
        let json = &pairs.iter().find(|(k, _)| k == "panes").expect("panes").1;
        let v: serde_json::Value = serde_json::from_str(json).expect("panes JSON");
        panes.push(v["obs"].clone());
    }
    panes
}

#[test]
fn grafana_links_for_the_symptom_candidates_trace_and_logs() {
    let report = demo_report();
    let g = Grafana {
        url: "https://grafana.example.com".into(),
        prometheus_uid: Some("prom".into()),
        traces_uid: Some("tempo".into()),
        loki_uid: Some("loki".into()),
    };
    let out = render(&report, &options(Some(g)));
    let panes = panes(&out);
    // symptom, three candidates, the trace and its logs, the pattern's logs
    assert_eq!(panes.len(), 7, "{out}");
    let w = &report.window;
    let range = |p: &serde_json::Value| {
        (
            p["range"]["from"].as_str().unwrap().parse::<i64>().unwrap(),
            p["range"]["to"].as_str().unwrap().parse::<i64>().unwrap(),
        )
    };
    let window = (
        (w.baseline_since_unix * 1000.0) as i64,
        (w.until_unix * 1000.0) as i64,
    );
    assert_eq!(
        panes[0]["queries"][0]["expr"],
        report.symptom.query.as_str()
    );
    assert_eq!(range(&panes[0]), window);
    for (pane, c) in panes[1..4].iter().zip(&report.correlations) {
        assert_eq!(pane["queries"][0]["expr"], c.query.as_str());
        assert_eq!(pane["datasource"], "prom");
        assert_eq!(range(pane), window);
    }
    let id = &report.traces[0].summary.trace_id;
    assert_eq!(panes[4]["queries"][0]["query"], id.as_str());
    assert_eq!(panes[4]["queries"][0]["queryType"], "traceql");
    let (from, to) = range(&panes[4]);
    let start = report.traces[0].summary.start_unix_nano / 1_000_000;
    assert!(from < start && start < to, "{from} {start} {to}");
    assert_eq!(
        panes[5]["queries"][0]["expr"],
        format!(r#"{{service_name=~"checkout"}} |= "{id}""#)
    );
    assert_eq!(
        panes[6]["queries"][0]["expr"],
        r#"{service_name=~"checkout"} |= "PoolTimeout: pool orders exhausted after""#
    );
    assert_eq!(panes[6]["datasource"], "loki");
    assert_eq!(range(&panes[6]), window);
}
