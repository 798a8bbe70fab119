//! The exemplars step: from the symptom's error series (failing requests) and its latency
//! histogram (slowest first) in the spike, or the whole window without one; one per trace.

use std::collections::BTreeSet;

use crate::model::Exemplar;
use crate::report::{ExemplarEntry, ExemplarKind, Symptom, exemplar_entry};
use crate::source::{Metrics, SourceError};

use super::Options;
use super::symptom::SymptomPlan;

/// Where exemplars are taken from: the spike, a step either side, or the whole window.
pub(super) fn window(symptom: &Symptom, opts: &Options) -> (f64, f64) {
    let step = opts.step;
    let (start, end) = match (symptom.onset_unix, symptom.end_unix) {
        (Some(onset), end) => (onset - step, end.unwrap_or(opts.until).max(onset) + step),
        _ => (opts.since, opts.until),
    };
    (start, end.min(opts.until))
}

/// Error exemplars first (failing requests), then the slowest latency observations; one entry
/// per trace.
pub(super) async fn collect(
    metrics: &Metrics,
    plan: &SymptomPlan,
    start: f64,
    end: f64,
    limit: usize,
) -> Result<Vec<ExemplarEntry>, SourceError> {
    let mut errors: Vec<Exemplar> = Vec::new();
    if let Some(selector) = &plan.error_selector {
        errors = metrics.query_exemplars(selector, start, end).await?;
    }
    let mut slow: Vec<Exemplar> = Vec::new();
    if let Some(selector) = &plan.latency_selector {
        slow = metrics.query_exemplars(selector, start, end).await?;
    }
    errors.sort_by(|a, b| b.timestamp.total_cmp(&a.timestamp));
    slow.sort_by(|a, b| b.value.total_cmp(&a.value));
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (kind, list) in [(ExemplarKind::Error, errors), (ExemplarKind::Slow, slow)] {
        for e in list {
            if out.len() >= limit {
                return Ok(out);
            }
            let key = e
                .trace_id()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{:?}", e.labels));
            if seen.insert(key) {
                out.push(exemplar_entry(&e, kind));
            }
        }
    }
    Ok(out)
}
