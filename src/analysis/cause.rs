//! The whole ranking for one incident: the symptom's own change onset, each
//! candidate's robust change and onset, the lag-scanned correlation with the
//! lag bounded in time relative to the incident, and the combined order.
//!
//! Pure computation, no I/O: `investigate` fetches the series and calls
//! [`analyse`]; the benchmarks call it on generated and public data. All
//! series share one grid (one point per step), symptom and candidates alike.

use serde::Serialize;

use super::change::{Change, ChangeParams, ChangeSkip, Incident, change, lead_bound};
use super::correlate::{CorrelationParams, PreparedSymptom, Skip};
use super::rank::{Evidence, EvidenceParams, rank_evidence};

/// Most lags scanned on each side, whatever the lead bound: the cost of the
/// scan is linear in it and every extra lag is a test the p-value pays for
/// (Šidák). Beyond it, timing comes from the onsets, not from the lag.
pub const MAX_LAG_STEPS: usize = 10;

/// Tuning of [`analyse`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisParams {
    /// The grid's step, seconds: the lead bound is in time.
    pub step_seconds: f64,
    pub change: ChangeParams,
    pub evidence: EvidenceParams,
    /// Fewest pairs of changes for a correlation (see `CorrelationParams`).
    pub min_points: usize,
}

impl Default for AnalysisParams {
    fn default() -> Self {
        Self {
            step_seconds: 15.0,
            change: ChangeParams::default(),
            evidence: EvidenceParams::default(),
            min_points: CorrelationParams::default().min_points,
        }
    }
}

/// What [`analyse`] found.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The symptom's change, measured like a candidate's.
    pub symptom: Option<Change>,
    /// The onset every candidate's is compared with: the symptom's own
    /// change onset, or the detector's when that has none.
    pub onset: usize,
    /// The lead bound, steps (see `change::lead_bound`).
    pub lead_steps: usize,
    /// Lags scanned on each side, steps: the lead bound, at most
    /// [`MAX_LAG_STEPS`].
    pub max_lag_steps: usize,
    /// Why no correlation could be computed for any candidate, if so.
    pub correlation_skipped: Option<Skip>,
    pub ranked: Vec<Evidence>,
}

/// Ranks `candidates` as causes of the symptom's episode that the spike
/// detector found at `onset` (and ended at `end`), indices on the grid.
pub fn analyse<C: AsRef<[f64]>>(
    symptom: &[f64],
    onset: usize,
    end: Option<usize>,
    candidates: &[C],
    params: &AnalysisParams,
) -> Analysis {
    let lead = lead_bound(onset, end, symptom.len(), params.step_seconds);
    let incident = Incident { onset, end, lead };
    let symptom_change = change(symptom, &incident, &params.change).ok();
    // The symptom's own change onset is measured the way a candidate's is,
    // so "earlier" means the same thing on both sides; it never moves past
    // the detector's onset by more than the lead bound.
    let own = symptom_change
        .as_ref()
        .and_then(|c| c.onset)
        .filter(|&o| o + lead >= onset && o <= onset + lead)
        .unwrap_or(onset);
    let incident = Incident {
        onset: own,
        end,
        lead,
    };
    let max_lag = lead.clamp(1, MAX_LAG_STEPS);
    let correlation_params = CorrelationParams {
        max_lag,
        min_points: params.min_points,
    };
    let prepared = PreparedSymptom::new(symptom, &correlation_params);
    let correlation_skipped = prepared.as_ref().err().cloned();
    let changes: Vec<Result<Change, ChangeSkip>> = candidates
        .iter()
        .map(|c| change(c.as_ref(), &incident, &params.change))
        .collect();
    let correlations: Vec<Result<_, Skip>> = candidates
        .iter()
        .map(|c| match &prepared {
            Ok(p) => p.correlate(c.as_ref()),
            Err(skip) => Err(skip.clone()),
        })
        .collect();
    let ranked = rank_evidence(&changes, &correlations, own, lead, &params.evidence);
    Analysis {
        symptom: symptom_change,
        onset: own,
        lead_steps: lead,
        max_lag_steps: max_lag,
        correlation_skipped,
        ranked,
    }
}

/// Without a spike there is no onset to compare with: what changed most in
/// the window against the baseline before it (`window_start`), by effect
/// size alone. Nothing is significant — the symptom did not move, so these
/// are leads for a person to look at, said to be weak. Changes that started
/// before the window are `Earlier` and rank after the rest.
pub fn analyse_without_spike<C: AsRef<[f64]>>(
    window_start: usize,
    candidates: &[C],
    params: &AnalysisParams,
) -> Analysis {
    let incident = Incident {
        onset: window_start,
        end: None,
        lead: 0,
    };
    let changes: Vec<Result<Change, ChangeSkip>> = candidates
        .iter()
        .map(|c| change(c.as_ref(), &incident, &params.change))
        .collect();
    let correlations: Vec<Result<_, Skip>> = candidates
        .iter()
        .map(|_| Err(Skip::TooFewPoints(0)))
        .collect();
    // Every change in the window is at or after its start: "simultaneous"
    // with the window, none lagging.
    let evidence = EvidenceParams {
        tolerance: usize::MAX / 4,
        ..params.evidence.clone()
    };
    let mut ranked = rank_evidence(&changes, &correlations, window_start, 0, &evidence);
    for e in &mut ranked {
        e.skipped = Some("no spike: not correlated".to_string());
    }
    Analysis {
        symptom: None,
        onset: window_start,
        lead_steps: 0,
        max_lag_steps: 0,
        correlation_skipped: None,
        ranked,
    }
}

#[cfg(test)]
mod tests {
    use super::super::rank::Timing;
    use super::super::test_rng::Rng;
    use super::*;

    /// The planted incident of `rank`'s tests, at a step where the old
    /// correlation-only order put the lagging consequence first: a cause
    /// that leads by 2 steps with a small step, a consequence that follows
    /// by 3 steps with a huge one.
    #[test]
    fn a_lagging_consequence_never_ranks_above_a_leading_cause() {
        for seed in 1..=10 {
            let mut rng = Rng(seed);
            let n = 400;
            let at = |t: usize, from: usize, lo: f64, hi: f64| if t >= from { hi } else { lo };
            let symptom: Vec<f64> = (0..n)
                .map(|t| at(t, 300, 0.01, 0.08) + 0.002 * rng.normal())
                .collect();
            let cause: Vec<f64> = (0..n)
                .map(|t| at(t, 298, 40.0, 52.0) + 2.0 * rng.normal())
                .collect();
            let consequence: Vec<f64> = (0..n)
                .map(|t| at(t, 303, 5.0, 500.0) + rng.normal())
                .collect();
            let walk = rng.random_walk(n);
            let a = analyse(
                &symptom,
                300,
                None,
                &[consequence, walk, cause],
                &AnalysisParams::default(),
            );
            let ctx = format!("seed {seed}: {:#?}", a.ranked);
            assert_eq!(a.ranked[0].index, 2, "{ctx}");
            assert_eq!(a.ranked[0].timing, Timing::Leads, "{ctx}");
            assert_eq!(a.ranked[0].lead_steps, Some(2), "{ctx}");
            let consequence = a.ranked.iter().find(|e| e.index == 0).unwrap();
            assert_eq!(consequence.timing, Timing::Lags, "{ctx}");
            assert_eq!(consequence.lead_steps, Some(-3), "{ctx}");
        }
    }

    /// A short window with a short baseline and thirty noise candidates, so
    /// that nothing survives the FDR: a steady trend (six baseline points)
    /// crosses its baseline at the onset with the larger effect but does not
    /// move with the symptom; the step that leads the symptom has its own
    /// p under alpha. Where a seed gives exactly that (checked, not assumed),
    /// the supported candidate ranks first although its effect is smaller.
    #[test]
    fn a_supported_weak_candidate_ranks_before_a_larger_unsupported_change() {
        let mut cases = 0;
        for seed in 1..=10 {
            let mut rng = Rng(seed);
            let n = 40;
            let symptom: Vec<f64> = (0..n)
                .map(|t| if (28..35).contains(&t) { 0.2 } else { 0.01 } + 0.01 * rng.normal())
                .collect();
            let cause: Vec<f64> = (0..n)
                .map(|t| if (25..34).contains(&t) { 14.0 } else { 6.0 } + 1.5 * rng.normal())
                .collect();
            let trend: Vec<f64> = (0..n)
                .map(|t| {
                    if t < 14 {
                        f64::NAN
                    } else {
                        0.35 + 0.03 * t as f64 + 0.004 * rng.normal()
                    }
                })
                .collect();
            let mut candidates = vec![trend, cause];
            candidates.extend((0..30).map(|_| rng.noise(n)));
            let a = analyse(
                &symptom,
                28,
                Some(35),
                &candidates,
                &AnalysisParams {
                    step_seconds: 1.0,
                    ..AnalysisParams::default()
                },
            );
            let row = |i: usize| a.ranked.iter().find(|e| e.index == i).unwrap();
            let (trend, cause) = (row(0), row(1));
            let p = |e: &Evidence| e.correlation.as_ref().map_or(f64::NAN, |c| c.p_value);
            let early = |e: &Evidence| matches!(e.timing, Timing::Leads | Timing::Simultaneous);
            if !(early(trend) && early(cause))
                || trend.significant
                || cause.significant
                || trend.score <= cause.score
                || p(cause) > 0.05
                || p(trend) <= 0.05
            {
                continue;
            }
            cases += 1;
            let ctx = format!("seed {seed}: {:#?}", &a.ranked[..3]);
            assert_eq!(a.ranked[0].index, 1, "{ctx}");
        }
        // Seeds 1, 4, 5, 6, 8 and 9 give that case.
        assert!(cases >= 5, "only {cases} seeds gave the case");
    }

    #[test]
    fn the_lag_scan_is_bounded_by_the_incident() {
        // One-minute grid, a 3-minute fault: the lag scan reaches 4 steps,
        // not 10 (which would reach the previous fault).
        let mut rng = Rng(9);
        let symptom: Vec<f64> = (0..60)
            .map(|t| if (40..43).contains(&t) { 5.0 } else { 0.0 } + 0.1 * rng.normal())
            .collect();
        let cand = rng.noise(60);
        let a = analyse(
            &symptom,
            40,
            Some(43),
            &[cand],
            &AnalysisParams {
                step_seconds: 60.0,
                ..AnalysisParams::default()
            },
        );
        assert_eq!(a.lead_steps, 4);
        assert_eq!(a.max_lag_steps, 4);
    }

    #[test]
    fn degenerate_input_is_ranked_or_skipped_never_a_panic() {
        let symptom = [0.0, 0.0, 1.0, 1.0];
        let candidates: Vec<Vec<f64>> = vec![
            vec![],
            vec![f64::NAN; 4],
            vec![1.0; 4],
            vec![f64::INFINITY, 1.0, f64::NEG_INFINITY, 2.0],
            vec![0.0, 1e308, -1e308, 0.0],
        ];
        let a = analyse(&symptom, 2, None, &candidates, &AnalysisParams::default());
        assert!(a.correlation_skipped.is_some());
        let a = analyse(&[], 0, None, &candidates, &AnalysisParams::default());
        assert!(a.ranked.is_empty());
        let _ = analyse(
            &[f64::NAN; 3],
            5,
            Some(1),
            &candidates,
            &AnalysisParams::default(),
        );
    }
}
