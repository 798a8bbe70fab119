//! The analysis step: every candidate series on the grid, in a deterministic order, ranked by
//! `analysis::cause` against the symptom's episode (its robust change, its onset against the
//! symptom's, its correlation) — `analysis` does the statistics; this only feeds it and turns
//! its results into report entries.

use crate::analysis::cause::{AnalysisParams, analyse, analyse_without_spike};
use crate::analysis::services::suspected_services;
use crate::model::Series;
use crate::report::{CandidateStats, CorrelationEntry, ServiceEntry, Symptom};

use super::Grid;
use super::candidates::Fetched;

/// One series a candidate query returned, with its values on the grid.
pub(super) struct CandidateSeries {
    query: String,
    metric: String,
    series: Series,
    values: Vec<f64>,
}

/// The series of the queries that answered, sorted by query and labels whatever order the
/// queries finished in; failed queries are counted and warned about, and the first failure's
/// text is returned for the metrics source's status.
pub(super) fn gather(
    results: Vec<Fetched>,
    grid: &Grid,
    stats: &mut CandidateStats,
    warnings: &mut Vec<String>,
) -> (Vec<CandidateSeries>, Option<String>) {
    let mut candidates: Vec<CandidateSeries> = Vec::new();
    let mut first_error: Option<String> = None;
    for (plan, result) in results {
        match result {
            Ok(series) => {
                for s in series {
                    let values = s.on_grid(grid.start, grid.step, grid.len);
                    candidates.push(CandidateSeries {
                        query: plan.query.clone(),
                        metric: plan.metric.clone(),
                        series: s,
                        values,
                    });
                }
            }
            Err(e) => {
                stats.failed_queries += 1;
                first_error.get_or_insert_with(|| e.to_string());
                warnings.push(format!("candidate {} not read: {e}", plan.metric));
            }
        }
    }
    candidates.sort_by(|a, b| (&a.query, &a.series.labels).cmp(&(&b.query, &b.series.labels)));
    stats.series = candidates.len();
    (candidates, first_error)
}

/// Ranks the candidates against the symptom's episode (or, without a spike, by how much they
/// changed in the window, all weak); an unusable symptom series means no correlations, said in
/// a warning, and the ranking then rests on the changes alone. The suspected services come
/// with it: each candidate's service is the first of `service_labels` it carries.
pub(super) fn correlate(
    candidates: &[CandidateSeries],
    symptom: &Symptom,
    symptom_values: &[f64],
    grid: &Grid,
    service_labels: &[&str],
    stats: &mut CandidateStats,
    warnings: &mut Vec<String>,
) -> (Vec<CorrelationEntry>, Vec<ServiceEntry>) {
    let step = grid.step;
    let index = |unix: f64| ((unix - grid.start) / step).round().max(0.0) as usize;
    let values: Vec<&[f64]> = candidates.iter().map(|c| c.values.as_slice()).collect();
    let params = AnalysisParams {
        step_seconds: step,
        ..AnalysisParams::default()
    };
    let analysis = match symptom.onset_unix {
        Some(onset) => analyse(
            symptom_values,
            index(onset),
            symptom.end_unix.map(index),
            &values,
            &params,
        ),
        None => analyse_without_spike(grid.window_start, &values, &params),
    };
    if let Some(skip) = &analysis.correlation_skipped {
        warnings.push(format!(
            "no correlations: the symptom series is unusable ({skip}); candidates are ranked by how much they changed"
        ));
    }
    stats.skipped_series = candidates.len() - analysis.ranked.len();
    let service_of = |i: usize| {
        let labels = &candidates[i].series.labels;
        service_labels
            .iter()
            .find_map(|l| labels.get(*l).map(|v| (*l, v.as_str())))
            .filter(|(_, v)| !v.is_empty())
    };
    let services = suspected_services(&analysis.ranked, |i| {
        service_of(i).map(|(_, v)| v.to_string())
    })
    .into_iter()
    .map(|s| {
        let best = s
            .evidence
            .first()
            .and_then(|r| analysis.ranked.iter().find(|e| e.rank == *r));
        ServiceEntry {
            rank: s.rank,
            label: best
                .and_then(|e| service_of(e.index))
                .map_or_else(String::new, |(l, _)| l.to_string()),
            service: s.service,
            score: s.score,
            significant: s.significant,
            evidence: s.evidence,
        }
    })
    .collect();
    let rows = analysis
        .ranked
        .into_iter()
        .map(|e| {
            let c = &candidates[e.index];
            let mut labels = c.series.labels.clone();
            // Functions like rate() drop the name; the plan knows it.
            let metric = labels
                .remove("__name__")
                .unwrap_or_else(|| c.metric.clone());
            let corr = e.correlation.as_ref();
            // Timing from the onsets when the candidate changed, else from the lag scan.
            let lag_steps = e
                .lead_steps
                .map(|l| l as f64)
                .or_else(|| corr.map(|c| f64::from(c.lag_steps)))
                .unwrap_or(0.0);
            CorrelationEntry {
                rank: e.rank,
                query: c.query.clone(),
                metric,
                labels,
                r: corr.map_or(0.0, |c| c.r),
                r_at_zero_lag: corr.map_or(f64::NAN, |c| c.r_at_zero),
                p_value: corr.map_or(1.0, |c| c.p_value),
                q_value: e.q_value,
                lag_seconds: lag_steps * step,
                significant: e.significant,
                n: corr.map_or(0, |c| c.n),
                effect: e.change.as_ref().map(|c| c.effect),
                timing: e.timing.as_str().to_string(),
                values: c.values.clone(),
            }
        })
        .collect();
    (rows, services)
}
