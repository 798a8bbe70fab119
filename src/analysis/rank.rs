//! Ranking of candidates: Benjamini–Hochberg q-values across all tested
//! candidates, a significance cut at the FDR level, and the order in which
//! candidates are presented as likely causes.
//!
//! [`rank_evidence`] is the method `obs investigate` uses: it combines when a
//! candidate changed (its own onset against the symptom's), how much (its
//! robust effect size, from `change`) and how it moves with the symptom (the
//! correlation's q-value). [`rank`] is the earlier, correlation-only order,
//! kept because the ranking benchmark measures the method against it.
//!
//! Pure computation, no I/O.

use serde::Serialize;

use super::change::{Change, ChangeSkip};
use super::correlate::{Correlation, Skip, benjamini_hochberg};

/// One ranked candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    /// Position in the caller's candidate list (the `results` slice).
    pub index: usize,
    /// 1 = most likely cause.
    pub rank: usize,
    pub correlation: Correlation,
    /// Benjamini–Hochberg adjusted p-value across all tested candidates;
    /// `NaN` if the candidate's p-value was not finite.
    pub q_value: f64,
    /// `q_value <= alpha`.
    pub significant: bool,
}

/// Tuning of [`rank`].
#[derive(Debug, Clone, PartialEq)]
pub struct RankParams {
    /// False discovery rate level: among the candidates called significant,
    /// at most this fraction are expected to be flukes. Default 0.05.
    pub alpha: f64,
}

impl Default for RankParams {
    fn default() -> Self {
        Self { alpha: 0.05 }
    }
}

/// Ranks correlation results; skipped candidates (`Err`) are left out.
///
/// q-values are computed with Benjamini–Hochberg over every candidate that
/// was tested (every `Ok`), and a candidate is significant when
/// `q_value <= alpha`. The order is:
///
/// 1. significant before not significant;
/// 2. among the significant, candidates that lead or move at the same time
///    (`lag_steps >= 0`) before those that lag: a metric that moves after the
///    errors is more likely a consequence than a cause;
/// 3. smaller p-value first (the strength of the evidence; q-values are
///    monotone in p but can tie);
/// 4. larger |r| first;
/// 5. smaller index first, so the order is deterministic.
///
/// Step 3 refines "larger |r| first": `r` comes from whichever view of the
/// symptom fit best (see [`super::correlate`]), and the p-value also weighs
/// how many points and how much autocorrelation stand behind it, so it
/// compares candidates more fairly than |r| alone.
pub fn rank(results: &[Result<Correlation, Skip>], params: &RankParams) -> Vec<Ranked> {
    let tested: Vec<(usize, &Correlation)> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().ok().map(|c| (i, c)))
        .collect();
    let p: Vec<f64> = tested.iter().map(|(_, c)| c.p_value).collect();
    let q = benjamini_hochberg(&p);

    let mut ranked: Vec<Ranked> = tested
        .into_iter()
        .zip(q)
        .map(|((index, c), q_value)| Ranked {
            index,
            rank: 0,
            correlation: c.clone(),
            q_value,
            // NaN compares false: an untestable p-value is never significant.
            significant: q_value <= params.alpha,
        })
        .collect();

    ranked.sort_by(|a, b| {
        let leads = |x: &Ranked| x.significant && x.correlation.lag_steps >= 0;
        b.significant
            .cmp(&a.significant)
            .then(leads(b).cmp(&leads(a)))
            .then(nan_last(a.correlation.p_value).total_cmp(&nan_last(b.correlation.p_value)))
            .then(nan_zero(b.correlation.r.abs()).total_cmp(&nan_zero(a.correlation.r.abs())))
            .then(a.index.cmp(&b.index))
    });
    for (pos, r) in ranked.iter_mut().enumerate() {
        r.rank = pos + 1;
    }
    ranked
}

/// When a candidate changed, relative to the symptom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// Its change started before the symptom's, within the lead bound.
    Leads,
    /// Its change started at the symptom's onset (within the tolerance).
    Simultaneous,
    /// Its change started after the symptom's: more likely a consequence.
    Lags,
    /// Its change started before the lead bound: not tied to this incident.
    Earlier,
    /// It did not change in the incident (robust effect under the cut).
    Unchanged,
}

impl Timing {
    pub fn as_str(self) -> &'static str {
        match self {
            Timing::Leads => "leads",
            Timing::Simultaneous => "simultaneous",
            Timing::Lags => "lags",
            Timing::Earlier => "earlier",
            Timing::Unchanged => "unchanged",
        }
    }

    /// Sort tier: leading and simultaneous changes first, then lagging
    /// ones, then the rest. A lagging consequence never ranks above a
    /// leading candidate, significant or not.
    fn tier(self) -> u8 {
        match self {
            Timing::Leads | Timing::Simultaneous => 0,
            Timing::Lags => 1,
            Timing::Earlier | Timing::Unchanged => 2,
        }
    }
}

/// One candidate with everything that placed it.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Position in the caller's candidate list.
    pub index: usize,
    /// 1 = most likely cause.
    pub rank: usize,
    pub change: Option<Change>,
    pub correlation: Option<Correlation>,
    /// Why the correlation (or the change) could not be computed, if so.
    pub skipped: Option<String>,
    /// Benjamini–Hochberg q-value of the correlation across all tested
    /// candidates; `NaN` without a correlation.
    pub q_value: f64,
    pub timing: Timing,
    /// Symptom onset minus the candidate's onset, in steps (> 0: it moved
    /// first); `None` when it did not change.
    pub lead_steps: Option<i64>,
    /// `q_value <= alpha` and the candidate changed in the incident
    /// (leading, simultaneous or lagging).
    pub significant: bool,
    /// `ln(1 + |effect|)`: the size of the change, the number that orders
    /// candidates within a tier and significance class, and the score of a
    /// service (see `services`).
    pub score: f64,
}

/// Tuning of [`rank_evidence`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceParams {
    /// False discovery rate level of the correlation. Default 0.05.
    pub alpha: f64,
    /// A candidate whose onset is at most this many steps after the
    /// symptom's counts as simultaneous. Default 0: onsets are measured the
    /// same way for both series (see `change`), so a step later is later.
    pub tolerance: usize,
}

impl Default for EvidenceParams {
    fn default() -> Self {
        Self {
            alpha: 0.05,
            tolerance: 0,
        }
    }
}

/// Ranks candidates from their changes and correlations (same length, same
/// order). `symptom_onset` is the symptom's own change onset and `lead` the
/// lead bound, both in steps. Candidates with neither a change nor a
/// correlation are left out. The order:
///
/// 1. timing tier: leading or simultaneous, then lagging, then earlier or
///    unchanged ([`Timing`]);
/// 2. significant before not significant;
/// 3. among the rest, *supported* before unsupported: a correlation whose own
///    p-value is under `alpha`, though it does not survive the FDR across
///    all candidates, is still the best-supported evidence a weak report
///    has (a short window, few points); a large change that does not move
///    with the symptom at all (a steady trend that crossed its short
///    baseline near the onset) is not;
/// 4. larger effect size (|robust z|) first — what breaks the ties that
///    p-values leave when many candidates are all "certain" or all weak;
/// 5. smaller p-value first;
/// 6. input order.
pub fn rank_evidence(
    changes: &[Result<Change, ChangeSkip>],
    correlations: &[Result<Correlation, Skip>],
    symptom_onset: usize,
    lead: usize,
    params: &EvidenceParams,
) -> Vec<Evidence> {
    let n = changes.len().min(correlations.len());
    let p: Vec<f64> = (0..n)
        .map(|i| correlations[i].as_ref().map_or(f64::NAN, |c| c.p_value))
        .collect();
    let q = benjamini_hochberg(&p);
    let mut out: Vec<Evidence> = Vec::new();
    for i in 0..n {
        let (change, correlation) = (changes[i].as_ref(), correlations[i].as_ref());
        if change.is_err() && correlation.is_err() {
            continue;
        }
        let skipped = match (change, correlation) {
            (Err(e), _) => Some(e.to_string()),
            (_, Err(e)) => Some(e.to_string()),
            _ => None,
        };
        let lead_steps = change
            .ok()
            .and_then(|c| c.onset)
            .map(|o| symptom_onset as i64 - o as i64);
        let timing = match lead_steps {
            None => Timing::Unchanged,
            Some(l) if l > lead as i64 => Timing::Earlier,
            Some(l) if l > 0 => Timing::Leads,
            Some(l) if l >= -(params.tolerance as i64) => Timing::Simultaneous,
            Some(_) => Timing::Lags,
        };
        let effect = change.map_or(0.0, |c| c.effect.abs());
        out.push(Evidence {
            index: i,
            rank: 0,
            change: change.ok().cloned(),
            correlation: correlation.ok().cloned(),
            skipped,
            q_value: q[i],
            timing,
            lead_steps,
            significant: q[i] <= params.alpha && timing.tier() < 2,
            score: if effect.is_finite() {
                effect.ln_1p()
            } else {
                0.0
            },
        });
    }
    out.sort_by(|a, b| {
        let p = |e: &Evidence| nan_last(e.correlation.as_ref().map_or(f64::NAN, |c| c.p_value));
        let supported = |e: &Evidence| p(e) <= params.alpha;
        a.timing
            .tier()
            .cmp(&b.timing.tier())
            .then(b.significant.cmp(&a.significant))
            .then(supported(b).cmp(&supported(a)))
            .then(b.score.total_cmp(&a.score))
            .then(p(a).total_cmp(&p(b)))
            .then(a.index.cmp(&b.index))
    });
    for (pos, e) in out.iter_mut().enumerate() {
        e.rank = pos + 1;
    }
    out
}

fn nan_last(p: f64) -> f64 {
    if p.is_nan() { f64::INFINITY } else { p }
}

fn nan_zero(v: f64) -> f64 {
    if v.is_nan() { 0.0 } else { v }
}

#[cfg(test)]
mod tests {
    use super::super::correlate::{CorrelationParams, PreparedSymptom};
    use super::super::test_rng::Rng;
    use super::*;

    fn corr(r: f64, lag: i32, p: f64) -> Result<Correlation, Skip> {
        Ok(Correlation {
            r,
            r_at_zero: r,
            lag_steps: lag,
            p_value: p,
            n: 700,
        })
    }

    #[test]
    fn ordering_rules() {
        let results = vec![
            corr(0.9, -3, 1e-12),   // 0: strong but lagging
            Err(Skip::Constant),    // 1: skipped
            corr(0.4, 2, 1e-6),     // 2: leading, weaker evidence
            corr(0.5, 0, 1e-9),     // 3: same time, stronger evidence
            corr(0.05, 1, 0.6),     // 4: not significant
            corr(-0.3, 5, 1e-4),    // 5: leading, negative r
            corr(0.2, -1, 0.2),     // 6: not significant, lagging
            corr(0.1, 0, f64::NAN), // 7: untestable p
            corr(0.5, 0, 1e-9),     // 8: exact tie with 3
        ];
        let ranked = rank(&results, &RankParams::default());
        let order: Vec<usize> = ranked.iter().map(|r| r.index).collect();
        assert_eq!(order, vec![3, 8, 2, 5, 0, 6, 4, 7]);
        let ranks: Vec<usize> = ranked.iter().map(|r| r.rank).collect();
        assert_eq!(ranks, (1..=8).collect::<Vec<_>>());
        let sig: Vec<bool> = ranked.iter().map(|r| r.significant).collect();
        assert_eq!(sig, vec![true, true, true, true, true, false, false, false]);
        // BH over the 7 finite p-values (the NaN one is not counted):
        // reference scipy.stats.false_discovery_control(
        //   [1e-12, 1e-6, 1e-9, 0.6, 1e-4, 0.2, 1e-9]) = [7e-12, 1.75e-6,
        //   2.3333e-9, 0.6, 1.4e-4, 0.23333, 2.3333e-9].
        let q = |i: usize| {
            ranked
                .iter()
                .find(|r| r.index == i)
                .map(|r| r.q_value)
                .unwrap()
        };
        assert!((q(0) - 7e-12).abs() < 1e-24);
        assert!((q(2) - 1.75e-6).abs() < 1e-18);
        assert!((q(3) - 7e-9 / 3.0).abs() < 1e-20);
        assert!((q(6) - 0.7 / 3.0).abs() < 1e-12);
        assert!((q(4) - 0.6).abs() < 1e-12);
        assert!(q(7).is_nan());
    }

    #[test]
    fn empty_and_all_skipped() {
        assert!(rank(&[], &RankParams::default()).is_empty());
        let results = vec![Err(Skip::LengthMismatch), Err(Skip::TooFewPoints(2))];
        assert!(rank(&results, &RankParams::default()).is_empty());
    }

    #[test]
    fn alpha_sets_the_cut() {
        let results = vec![corr(0.3, 1, 0.01), corr(0.2, 1, 0.04)];
        // q = [0.02, 0.04]
        let strict = rank(&results, &RankParams { alpha: 0.03 });
        assert_eq!(strict.iter().filter(|r| r.significant).count(), 1);
        let loose = rank(&results, &RankParams { alpha: 0.05 });
        assert_eq!(loose.iter().filter(|r| r.significant).count(), 2);
    }

    /// The planted incident: the root cause steps up 2 steps before the
    /// error ratio does; a consequence steps up `after` steps after it; the
    /// rest is unrelated. Returns the candidates in this order: root cause,
    /// consequence, 5 random walks, a steady trend, a step at another time.
    fn planted(seed: u64, after: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
        const N: usize = 720;
        const ONSET: usize = 400;
        let mut rng = Rng(seed);
        let level = |t: usize, at: usize, low: f64, high: f64| if t >= at { high } else { low };
        // Error ratio: 1% with noise, 8% from the onset on.
        let symptom: Vec<f64> = (0..N)
            .map(|t| level(t, ONSET, 0.01, 0.08) + 0.002 * rng.normal())
            .collect();
        // CPU-like: 40 → 60 with noise 2.
        let root: Vec<f64> = (0..N)
            .map(|t| level(t, ONSET - 2, 40.0, 60.0) + 2.0 * rng.normal())
            .collect();
        // Retries-like: follows the errors.
        let consequence: Vec<f64> = (0..N)
            .map(|t| level(t, ONSET + after, 5.0, 25.0) + 2.0 * rng.normal())
            .collect();
        let mut candidates = vec![root, consequence];
        for _ in 0..5 {
            candidates.push(rng.random_walk(N));
        }
        candidates.push(
            (0..N)
                .map(|t| 100.0 + 0.05 * t as f64 + rng.normal())
                .collect(),
        );
        candidates.push(
            (0..N)
                .map(|t| level(t, 150, 10.0, 30.0) + 2.0 * rng.normal())
                .collect(),
        );
        (symptom, candidates)
    }

    #[test]
    fn planted_root_cause_ranks_first() {
        for seed in 1..=5 {
            for after in 2..=4 {
                let (symptom, candidates) = planted(seed, after);
                let prepared =
                    PreparedSymptom::new(&symptom, &CorrelationParams::default()).unwrap();
                let results: Vec<_> = candidates.iter().map(|c| prepared.correlate(c)).collect();
                let ranked = rank(&results, &RankParams::default());
                let ctx = format!("seed {seed}, after {after}: {ranked:#?}");
                assert_eq!(ranked.len(), candidates.len(), "{ctx}");
                let top = &ranked[0];
                assert_eq!(top.index, 0, "{ctx}");
                assert!(top.significant, "{ctx}");
                assert_eq!(top.correlation.lag_steps, 2, "{ctx}");
                let consequence = ranked.iter().find(|r| r.index == 1).unwrap();
                assert!(consequence.rank > 1, "{ctx}");
                assert_eq!(consequence.correlation.lag_steps, -(after as i32), "{ctx}");
                // The unrelated ones are not significant.
                for r in ranked.iter().filter(|r| r.index >= 2) {
                    assert!(!r.significant, "{ctx}");
                }
            }
        }
    }

    #[test]
    fn serializes() {
        let ranked = rank(&[corr(0.5, 2, 1e-6)], &RankParams::default());
        let json = serde_json::to_string(&ranked).unwrap();
        assert!(
            json.contains("\"lag_steps\":2") && json.contains("\"rank\":1"),
            "{json}"
        );
    }
}
