//! The analysis step: every candidate series on the grid, in a deterministic order, correlated
//! with the symptom and ranked by `analysis` (which does the statistics; this only feeds it and
//! turns its results into report entries).

use crate::analysis::correlate::{CorrelationParams, PreparedSymptom};
use crate::analysis::rank::{RankParams, rank};
use crate::model::Series;
use crate::report::{CandidateStats, CorrelationEntry};

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

/// Correlates each candidate with the symptom and ranks them; an unusable symptom series
/// means no correlations, said in a warning.
pub(super) fn correlate(
    candidates: &[CandidateSeries],
    symptom_values: &[f64],
    step: f64,
    stats: &mut CandidateStats,
    warnings: &mut Vec<String>,
) -> Vec<CorrelationEntry> {
    let prepared = match PreparedSymptom::new(symptom_values, &CorrelationParams::default()) {
        Ok(prepared) => prepared,
        Err(skip) => {
            warnings.push(format!(
                "no correlations: the symptom series is unusable ({skip})"
            ));
            stats.skipped_series = candidates.len();
            return Vec::new();
        }
    };
    let results: Vec<_> = candidates
        .iter()
        .map(|c| prepared.correlate(&c.values))
        .collect();
    stats.skipped_series = results.iter().filter(|r| r.is_err()).count();
    rank(&results, &RankParams::default())
        .into_iter()
        .map(|r| {
            let c = &candidates[r.index];
            let mut labels = c.series.labels.clone();
            // Functions like rate() drop the name; the plan knows it.
            let metric = labels
                .remove("__name__")
                .unwrap_or_else(|| c.metric.clone());
            CorrelationEntry {
                rank: r.rank,
                query: c.query.clone(),
                metric,
                labels,
                r: r.correlation.r,
                r_at_zero_lag: r.correlation.r_at_zero,
                p_value: r.correlation.p_value,
                q_value: r.q_value,
                lag_seconds: f64::from(r.correlation.lag_steps) * step,
                significant: r.significant,
                n: r.correlation.n,
                values: c.values.clone(),
            }
        })
        .collect()
}
