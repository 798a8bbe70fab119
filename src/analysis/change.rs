//! How much, and from when, one series changed around the incident: a robust
//! effect size (how many robust standard deviations of its own baseline the
//! series moved, and held) and its own change onset, to be compared with the
//! symptom's.
//!
//! Pure computation, no I/O. The ideas are those of BARO (Pham et al., FSE
//! 2024: median and inter-quantile range of the pre-anomaly points instead of
//! mean and standard deviation, so that outliers and the incident itself do
//! not inflate the baseline) and N-Sigma (the size of a change in units of
//! the baseline's own variability). Non-finite values are missing points.
//! This module never ranks: `rank` combines its answers with the correlation.

use serde::Serialize;

use super::spike::{MAD_SCALE, quantile_in_place};

/// Fewest finite baseline points for a trusted median and spread.
const MIN_BASELINE: usize = 5;

/// `P95 − P5` of normal noise is 3.29 standard deviations.
const INTER_QUANTILE_SDS: f64 = 3.29;

/// Tuning of [`change`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeParams {
    /// Consecutive present points a level must hold to count: the effect is
    /// the largest deviation held for this many points, so one bad scrape (a
    /// huge outlier) does not make a change. Default 2; values below 1 are 1.
    pub sustain: usize,
    /// Robust z-score from which a series counts as changed (and gets an
    /// onset). Default 3.
    pub changed_z: f64,
    /// Effects are capped at this many robust SDs: a baseline with no spread
    /// at all (a constant that then moved) would otherwise be infinitely
    /// many SDs away, and such candidates are compared by their other
    /// numbers. Default 1e6.
    pub cap: f64,
    /// The scale is at least this fraction of the series' own level (the
    /// larger of the baseline median and the level reached, in absolute
    /// value). A metric whose baseline is flat to the last digit (a memory
    /// gauge, a latency percentile stuck on a bucket bound) would otherwise
    /// be "infinitely" many SDs away after any move, and such metrics would
    /// fill the top of every ranking. A change of less than a few percent of
    /// a metric's level is not incident-sized, however flat its past; and a
    /// change from zero counts as at most `1 / relative_floor` SDs. Default
    /// 0.05.
    pub relative_floor: f64,
}

impl Default for ChangeParams {
    fn default() -> Self {
        Self {
            sustain: 2,
            changed_z: 3.0,
            cap: 1e6,
            relative_floor: 0.01,
        }
    }
}

/// Where the incident is on the series' grid (indices into the series).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Incident {
    /// The symptom's onset.
    pub onset: usize,
    /// First point after the episode; `None` when it lasts to the end.
    pub end: Option<usize>,
    /// How far before the onset a change still counts as part of the
    /// incident (see [`lead_bound`]); points before `onset − lead` are the
    /// baseline.
    pub lead: usize,
}

/// A series' change around the incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Signed robust z-score of the largest sustained deviation in the
    /// incident: `(level − baseline) / scale`, > 0 up, < 0 down, capped at
    /// `±cap`.
    pub effect: f64,
    /// Median of the baseline points.
    pub baseline: f64,
    /// Robust standard deviation of the baseline: the scaled MAD, or where
    /// that is 0, `(P95 − P5) / 3.29` (which sees rare non-zero points in a
    /// baseline of zeros); at least `relative_floor` × the series' level;
    /// 0 when nothing gives it a size.
    pub scale: f64,
    /// The sustained level reached, in the series' unit.
    pub level: f64,
    /// Index of the first point of the change: walking back from the
    /// sustained extreme while the deviation stays at least half of it (and
    /// at least `changed_z`), across single dips. `None` when the series did
    /// not change (`|effect| < changed_z`).
    pub onset: Option<usize>,
}

/// Why a series' change could not be measured.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
pub enum ChangeSkip {
    #[error("too few baseline points ({0})")]
    TooFewBaseline(usize),
    #[error("no points in the incident")]
    NoIncidentPoints,
}

/// How far before the symptom's onset a candidate's change still counts as
/// part of the incident, in steps: the episode's duration, at least 4 steps
/// and at most 15 minutes, and never more than half of the points before
/// the onset (some baseline must remain). Relative to the incident and
/// bounded in time, so a 1-minute grid cannot reach back to an incident 10
/// minutes earlier, and a 1-second grid still sees a cause 30 s ahead.
pub fn lead_bound(onset: usize, end: Option<usize>, len: usize, step_seconds: f64) -> usize {
    let step = if step_seconds.is_finite() && step_seconds > 0.0 {
        step_seconds
    } else {
        1.0
    };
    let duration = end.unwrap_or(len).saturating_sub(onset).max(1) as f64 * step;
    let bound = duration.clamp(4.0 * step, (15.0 * 60.0_f64).max(4.0 * step));
    ((bound / step).ceil() as usize)
        .min(onset / 2)
        .max(1.min(onset))
}

/// Measures how `series` changed in the incident. The baseline is every
/// point before `onset − lead` (or, when fewer than 5 of those are present,
/// every point before the onset); the incident runs from `onset − lead` to
/// `end + lead` (or the end of the series).
pub fn change(
    series: &[f64],
    incident: &Incident,
    params: &ChangeParams,
) -> Result<Change, ChangeSkip> {
    let n = series.len();
    let onset = incident.onset.min(n);
    let finite = |r: std::ops::Range<usize>| -> Vec<f64> {
        series[r]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect()
    };
    let mut pre_end = onset.saturating_sub(incident.lead);
    let mut base = finite(0..pre_end);
    if base.len() < MIN_BASELINE {
        pre_end = onset;
        base = finite(0..pre_end);
    }
    if base.len() < MIN_BASELINE {
        return Err(ChangeSkip::TooFewBaseline(base.len()));
    }
    let median = select_median(&mut base);
    let mut deviations: Vec<f64> = base.iter().map(|v| (v - median).abs()).collect();
    let mad = MAD_SCALE * select_median(&mut deviations);
    // The inter-quantile spread only stands in for a zero MAD: it sees rare
    // non-zero points in a baseline of zeros, but a baseline that holds part
    // of an earlier change would inflate it.
    let spread = if mad > 0.0 {
        mad
    } else {
        let p95 = quantile_in_place(&mut base, 0.95);
        let p5 = quantile_in_place(&mut base, 0.05);
        (p95 - p5) / INTER_QUANTILE_SDS
    };

    let test_start = pre_end.min(onset.saturating_sub(incident.lead));
    let test_end = match incident.end {
        Some(e) => (e + incident.lead).min(n),
        None => n,
    }
    .max(onset.min(n));
    // Present points of the whole series, as (index, deviation from the
    // baseline median in the series' unit).
    let raw: Vec<(usize, f64)> = series
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, v)| (i, v - median))
        .collect();
    let first = raw.partition_point(|&(i, _)| i < test_start);
    let last = raw.partition_point(|&(i, _)| i < test_end);
    if first >= last {
        return Err(ChangeSkip::NoIncidentPoints);
    }
    let sustain = params.sustain.max(1).min(last - first);

    // The largest deviation held for `sustain` points, each way; the hold
    // may run past the incident's end by the sustain length at most.
    let mut best: Option<(f64, usize)> = None;
    for p in first..last {
        let hold = &raw[p..(p + sustain).min(raw.len())];
        if hold.len() < sustain {
            break;
        }
        let up = hold.iter().map(|&(_, d)| d).fold(f64::INFINITY, f64::min);
        let down = hold.iter().map(|&(_, d)| -d).fold(f64::INFINITY, f64::min);
        // A hold counts one way only when every point of it lies that way.
        let held = if up > 0.0 {
            up
        } else if down > 0.0 {
            -down
        } else {
            0.0
        };
        if !held.is_nan() && best.is_none_or(|(b, _)| held.abs() > b.abs()) {
            best = Some((held, p));
        }
    }
    let Some((held, at)) = best else {
        return Err(ChangeSkip::NoIncidentPoints);
    };
    let relative = if params.relative_floor.is_finite() {
        params.relative_floor.max(0.0)
    } else {
        0.0
    };
    let floor = relative * median.abs().max((median + held).abs());
    let scale = spread.max(floor);
    // Still no spread (a constant zero that stays zero, or no floor): any
    // move is "infinitely" large, so the cap decides; keep it finite.
    let scale = if scale > 0.0 && scale.is_finite() {
        scale
    } else {
        f64::MIN_POSITIVE
    };
    let cap = if params.cap > 0.0 { params.cap } else { 1e6 };
    let effect = (held / scale).clamp(-cap, cap);
    let sign = if effect < 0.0 { -1.0 } else { 1.0 };
    let onset_index = (effect.abs() >= params.changed_z).then(|| {
        let cut = params.changed_z.max(effect.abs() / 2.0);
        let reaches = |p: usize| (sign * raw[p].1 / scale).min(cap) >= cut;
        let mut q = at;
        loop {
            if q >= 1 && reaches(q - 1) {
                q -= 1;
            } else if q >= 2 && reaches(q - 2) {
                q -= 2;
            } else {
                break;
            }
        }
        raw[q].0
    });
    Ok(Change {
        effect,
        baseline: median,
        scale: if scale > f64::MIN_POSITIVE {
            scale
        } else {
            0.0
        },
        level: median + held,
        onset: onset_index,
    })
}

/// Median by selection, O(n) (reorders the slice); `NaN` when empty. The
/// same value as `spike::median_in_place`, without sorting: it runs once per
/// candidate.
fn select_median(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let (_, &mut upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return upper;
    }
    // The lower middle is the largest of the part before n / 2.
    let lower = values[..n / 2]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    (lower + upper) / 2.0
}

#[cfg(test)]
mod tests {
    use super::super::test_rng::Rng;
    use super::*;

    fn incident(onset: usize, end: Option<usize>, lead: usize) -> Incident {
        Incident { onset, end, lead }
    }

    #[test]
    fn robust_effect_matches_reference_values() {
        // Reference, computed with numpy (np.median; scipy.stats
        // median_abs_deviation(b, scale="normal") gives 1.4826 as well) on
        //   b = [10, 12, 11, 13, 9, 10, 11, 12, 10, 11]:
        //   median 11.0, MAD 1.0 -> scale 1.4826;
        // the incident holds 20, 21 (then 11): effect = (20 - 11) / 1.4826.
        let mut series = vec![10.0, 12.0, 11.0, 13.0, 9.0, 10.0, 11.0, 12.0, 10.0, 11.0];
        series.extend([11.0, 20.0, 21.0, 11.0, 11.0]);
        let c = change(
            &series,
            &incident(11, Some(13), 1),
            &ChangeParams::default(),
        )
        .unwrap();
        assert_eq!(c.baseline, 11.0);
        assert!((c.scale - 1.4826).abs() < 1e-12, "{c:?}");
        assert!((c.effect - 9.0 / 1.4826).abs() < 1e-9, "{c:?}");
        assert!((c.level - 20.0).abs() < 1e-9, "{c:?}");
        // Half of 6.07 is 3.04; 11 is 0 SDs: the change starts at 11.
        assert_eq!(c.onset, Some(11));
    }

    #[test]
    fn zero_baseline_with_rare_errors_uses_the_inter_quantile_spread() {
        // 100 points: 94 zeros and six single ones; numpy: P95 = 1.0 (the
        // 95th percentile of 94 zeros and 6 ones, linear: position 94.05 ->
        // 1.0), P5 = 0, MAD = 0 -> scale = 1/3.29 = 0.303951...
        let mut series = vec![0.0; 100];
        for i in [7, 23, 41, 58, 77, 90] {
            series[i] = 1.0;
        }
        series.extend([0.0, 0.0, 8.0, 9.0, 8.0, 0.0]);
        let plain = ChangeParams {
            relative_floor: 0.0,
            ..ChangeParams::default()
        };
        let c = change(&series, &incident(102, Some(105), 2), &plain).unwrap();
        assert!((c.scale - 1.0 / 3.29).abs() < 1e-12, "{c:?}");
        // Held for 2 points: min(8, 9) = 8 -> 8 * 3.29 = 26.32.
        assert!((c.effect - 8.0 * 3.29).abs() < 1e-9, "{c:?}");
        assert_eq!(c.onset, Some(102));
        // The default relative floor, 1 % of the level reached (8), is
        // below that spread and changes nothing; at 10 % it is 0.8.
        let c = change(
            &series,
            &incident(102, Some(105), 2),
            &ChangeParams::default(),
        )
        .unwrap();
        assert!((c.scale - 1.0 / 3.29).abs() < 1e-12, "{c:?}");
        let tenth = ChangeParams {
            relative_floor: 0.1,
            ..ChangeParams::default()
        };
        let c = change(&series, &incident(102, Some(105), 2), &tenth).unwrap();
        assert!((c.scale - 0.8).abs() < 1e-12, "{c:?}");
        assert!((c.effect - 10.0).abs() < 1e-9, "{c:?}");
    }

    #[test]
    fn one_huge_outlier_is_not_a_change() {
        let mut rng = Rng(3);
        let mut series: Vec<f64> = rng.noise(200);
        series[150] = 1e9;
        let c = change(
            &series,
            &incident(140, Some(160), 20),
            &ChangeParams::default(),
        )
        .unwrap();
        assert!(c.effect.abs() < 5.0, "{c:?}");
        assert_eq!(c.onset, None);
    }

    #[test]
    fn drops_are_negative_and_the_onset_is_the_half_way_point_of_a_ramp() {
        let mut rng = Rng(4);
        // Noise SD 1 around 50, then a ramp down by 40 over 10 points
        // starting at 100, holding at 10.
        let series: Vec<f64> = (0..200)
            .map(|t| {
                let drop = if t < 100 {
                    0.0
                } else {
                    (4.0 * (t - 100) as f64).min(40.0)
                };
                50.0 - drop + 0.2 * rng.normal()
            })
            .collect();
        let c = change(&series, &incident(110, None, 20), &ChangeParams::default()).unwrap();
        // 40 down from 50: 80 SDs once the scale (noise 0.2) is floored at
        // 1 % of 50.
        assert!((c.effect + 80.0).abs() < 3.0, "{c:?}");
        // Half of the sustained drop is reached 5 points into the ramp.
        let onset = c.onset.unwrap();
        assert!((104..=106).contains(&onset), "{c:?}");
    }

    #[test]
    fn a_constant_that_moves_is_capped_not_infinite() {
        let mut series = vec![0.0; 50];
        series.extend([5.0; 10]);
        // From zero: at most 1 / relative_floor = 100 SDs.
        let c = change(&series, &incident(50, None, 4), &ChangeParams::default()).unwrap();
        assert!((c.effect - 100.0).abs() < 1e-9, "{c:?}");
        assert_eq!(c.onset, Some(50));
        // A memory gauge flat to the last digit that moves by 0.5 %: no change.
        let mut flat = vec![29.66; 50];
        flat.extend([29.81; 10]);
        let c = change(&flat, &incident(50, None, 4), &ChangeParams::default()).unwrap();
        assert!(c.effect < 1.0 && c.onset.is_none(), "{c:?}");
        // Without the floor, the cap decides.
        let plain = ChangeParams {
            relative_floor: 0.0,
            ..ChangeParams::default()
        };
        let c = change(&series, &incident(50, None, 4), &plain).unwrap();
        assert_eq!(c.effect, 1e6);
        assert_eq!(c.scale, 0.0);
        // Constant throughout: no change at all.
        let c = change(&[3.0; 60], &incident(50, None, 4), &ChangeParams::default()).unwrap();
        assert_eq!(c.effect, 0.0);
        assert_eq!(c.onset, None);
    }

    #[test]
    fn a_step_long_before_the_incident_has_its_onset_there() {
        let mut rng = Rng(5);
        let series: Vec<f64> = (0..300)
            .map(|t| if t >= 200 { 10.0 } else { 0.0 } + rng.normal())
            .collect();
        let c = change(&series, &incident(260, None, 20), &ChangeParams::default()).unwrap();
        // The baseline (0..240) is mostly the old level; the change started
        // at 200, well before the incident's reach.
        let onset = c.onset.unwrap();
        assert!((198..=202).contains(&onset), "{c:?}");
    }

    #[test]
    fn selection_median_matches_the_sorted_one() {
        let mut rng = Rng(8);
        for n in [1, 2, 3, 10, 11, 100] {
            let v = rng.noise(n);
            let mut a = v.clone();
            let mut b = v.clone();
            assert_eq!(
                select_median(&mut a),
                super::super::spike::median_in_place(&mut b)
            );
        }
        assert!(select_median(&mut []).is_nan());
    }

    #[test]
    fn bad_input_is_an_answer_not_a_panic() {
        let p = ChangeParams::default();
        assert_eq!(
            change(&[], &incident(0, None, 0), &p),
            Err(ChangeSkip::TooFewBaseline(0))
        );
        assert_eq!(
            change(&[f64::NAN; 50], &incident(40, None, 4), &p),
            Err(ChangeSkip::TooFewBaseline(0))
        );
        assert_eq!(
            change(&[1.0], &incident(0, None, 0), &p),
            Err(ChangeSkip::TooFewBaseline(0))
        );
        let mut two = vec![1.0; 10];
        two.extend([f64::INFINITY, f64::NAN]);
        assert_eq!(
            change(&two, &incident(10, None, 0), &p),
            Err(ChangeSkip::NoIncidentPoints)
        );
        // Onset past the end, lead past the start, odd parameters.
        let _ = change(
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            &incident(99, Some(200), 99),
            &p,
        );
        let odd = ChangeParams {
            sustain: 0,
            changed_z: f64::NAN,
            cap: -1.0,
            relative_floor: f64::NAN,
        };
        let _ = change(
            &[0.0, 1.0, 0.0, 1.0, 0.0, 9.0, 9.0],
            &incident(5, None, 1),
            &odd,
        );
    }

    #[test]
    fn lead_bound_is_relative_to_the_incident_and_bounded_in_time() {
        // A 3-minute fault on a 1-minute grid: 4 steps (the floor), not 10.
        assert_eq!(lead_bound(300, Some(303), 600, 60.0), 4);
        // Two minutes at 1 s: 120 steps.
        assert_eq!(lead_bound(300, Some(420), 600, 1.0), 120);
        // At most 15 minutes, and half of what precedes the onset.
        assert_eq!(lead_bound(5000, None, 9000, 1.0), 900);
        assert_eq!(lead_bound(10, None, 100, 1.0), 5);
        assert_eq!(lead_bound(0, None, 10, 1.0), 0);
        assert_eq!(lead_bound(10, Some(12), 20, f64::NAN), 4);
    }
}
