//! Findings: a few ranked hypotheses, each a sentence pointing at its evidence in the report —
//! what the LLM summary builds on, and useful without it.
//!
//! Pure: reads a finished `Report` (after log patterns and timeline). The order is the order of
//! the evidence's strength for a cause: a significant candidate that moved first (the
//! statistics say it led), then what the failing requests show (a trace's error span), then a
//! new error log pattern (what the services said), then consequences (significant candidates
//! that moved after the symptom), which are named so that they are not mistaken for causes.

use super::timeline::series;
use crate::report::findings::Finding;
use crate::report::{ExemplarKind, Report, Verdict};

const MAX_FINDINGS: usize = 5;

pub fn build(report: &Report) -> Vec<Finding> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    if report.symptom.verdict != Verdict::Spike {
        out.push((
            format!("No spike to explain: {}", report.symptom.summary),
            vec!["symptom".into()],
        ));
    }
    if let Some((i, c)) = report
        .correlations
        .iter()
        .enumerate()
        .find(|(_, c)| c.significant && c.lag_seconds >= 0.0)
    {
        let when = if c.lag_seconds > 0.0 {
            format!("{:.0} s before the symptom", c.lag_seconds)
        } else {
            "with the symptom".to_string()
        };
        let mut evidence = vec![format!("correlations[{i}]")];
        if let Some(t) = report
            .timeline
            .iter()
            .position(|e| e.evidence == format!("correlations[{i}]"))
        {
            evidence.push(format!("timeline[{t}]"));
        }
        out.push((
            format!(
                "{} moved {when} (r = {:+.2}, q = {:.1e}): the most likely cause among the metrics",
                series(&c.metric, &c.labels),
                c.r,
                c.q_value
            ),
            evidence,
        ));
    }
    if let Some((i, t, e)) = report
        .traces
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == ExemplarKind::Error)
        .find_map(|(i, t)| t.summary.error_spans.last().map(|e| (i, t, e)))
    {
        let what = match &e.exception {
            Some(x) => format!("{}: {}", x.kind, x.message),
            None if !e.status_message.is_empty() => e.status_message.clone(),
            None => "an error status".into(),
        };
        out.push((
            format!(
                "Failing requests end in {}'s {} with {what} (trace {}, {} error spans)",
                e.service, e.name, t.summary.trace_id, t.summary.error_span_count
            ),
            vec![format!("traces[{i}]")],
        ));
    }
    if let Some((i, p)) = report
        .log_patterns
        .iter()
        .enumerate()
        .find(|(_, p)| p.change == "new")
        .or_else(|| report.log_patterns.iter().enumerate().next())
    {
        let services = if p.services.is_empty() {
            "a service".to_string()
        } else {
            p.services.join(", ")
        };
        let mut evidence = vec![format!("log_patterns[{i}]")];
        if let Some(t) = report
            .timeline
            .iter()
            .position(|e| e.evidence == format!("log_patterns[{i}]"))
        {
            evidence.push(format!("timeline[{t}]"));
        }
        out.push((
            format!(
                "{services} logged a{} error pattern {} times ({} before), in {} traces: {}",
                if p.change == "new" {
                    " new"
                } else {
                    "n increased"
                },
                p.incident_count,
                p.baseline_count,
                p.trace_count,
                p.template
            ),
            evidence,
        ));
    }
    for (i, c) in report
        .correlations
        .iter()
        .enumerate()
        .filter(|(_, c)| c.significant && c.lag_seconds < 0.0)
        .take(1)
    {
        out.push((
            format!(
                "{} moved {:.0} s after the symptom: a consequence, not a cause",
                series(&c.metric, &c.labels),
                -c.lag_seconds
            ),
            vec![format!("correlations[{i}]")],
        ));
    }
    out.into_iter()
        .take(MAX_FINDINGS)
        .enumerate()
        .map(|(i, (text, evidence))| Finding {
            rank: i + 1,
            text,
            evidence,
        })
        .collect()
}
