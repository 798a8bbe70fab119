//! Spike detection on the symptom series: robust baseline (median and MAD),
//! threshold, and the onset, peak and end of the episode that crossed it.
//!
//! Pure computation, no I/O. Non-finite values (`NaN`, `±Inf`) are treated
//! as missing points. [`detect`] looks for rises (an error ratio, a latency);
//! [`detect_directed`] also for drops (a success rate, a throughput) or for
//! whichever of the two the data shows.

use serde::Serialize;

/// Scale that turns a median absolute deviation into an estimate of the
/// standard deviation for normally distributed noise (1 / Φ⁻¹(3/4)).
pub const MAD_SCALE: f64 = 1.4826;

/// Fewer finite baseline points than this and the baseline is not trusted:
/// a median of 1–4 points says little about the noise level.
const MIN_BASELINE_POINTS: usize = 5;

/// Smallest number of finite points accepted from the start of the window
/// when falling back to it as the baseline.
const MIN_FALLBACK_POINTS: usize = 3;

/// Tuning of [`detect`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeParams {
    /// How many scaled MADs above the baseline median a point must be to
    /// count as elevated (a robust z-score). Default 4.0: with normal noise a
    /// single point passes it with probability 3e-5, and `sustain` makes a
    /// false alarm from pure noise practically impossible, while real error
    /// spikes are usually tens of MADs high.
    pub threshold: f64,
    /// How many consecutive elevated points start an episode, and how many
    /// consecutive normal points end it. Default 3: a lone outlier or a
    /// two-point blip is not a spike. Values below 1 are treated as 1.
    pub sustain: usize,
    /// Absolute floor on the rise above the baseline median, in the unit of
    /// the series. It matters when the baseline is flat (MAD = 0, e.g. zero
    /// errors), where any non-zero value would otherwise be "infinitely many
    /// MADs" above it. Default 0.005, chosen for error *ratios* (0–1): half a
    /// percentage point. For a rate in errors/s, set it to roughly what one
    /// extra error per step looks like in that rate.
    pub min_abs_rise: f64,
    /// Floor on the rise as a fraction of the baseline median's size: at 1.0
    /// a series must at least double to be elevated. It matters for a series
    /// that sits on a few discrete levels, such as a histogram quantile on a
    /// bucket bound (MAD ≈ 0, and a few slow requests jump it tens of percent
    /// into the next bucket). Default 0 (off): an error ratio's baseline can
    /// be near zero.
    pub min_relative_rise: f64,
    /// When the baseline's MAD is 0 (most of it is one value, e.g. zero
    /// errors), the threshold is never below this quantile of the baseline.
    /// It matters for a baseline of zeros with rare single errors: without
    /// it one error per step (or one error smeared over a rate window) would
    /// count as elevated and open the episode too early. Not used when the
    /// MAD is positive: a baseline holding an earlier incident would lift the
    /// threshold to that incident's level. Default 0.99; 0.5 turns it off.
    pub baseline_quantile: f64,
}

impl Default for SpikeParams {
    fn default() -> Self {
        Self {
            threshold: 4.0,
            sustain: 3,
            min_abs_rise: 0.005,
            min_relative_rise: 0.0,
            baseline_quantile: 0.99,
        }
    }
}

/// Which way the symptom goes when it gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher is worse: an error ratio, a latency.
    #[default]
    Up,
    /// Lower is worse: a success rate, a throughput.
    Down,
    /// Whichever way the series moved further from its baseline, in robust
    /// standard deviations.
    Auto,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Auto => "auto",
        }
    }
}

/// A detected spike. Indices are into the `window` slice given to [`detect`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spike {
    /// Median of the baseline points.
    pub baseline: f64,
    /// Median absolute deviation of the baseline, scaled by [`MAD_SCALE`].
    pub baseline_mad: f64,
    /// Absolute level a point had to exceed to count as elevated.
    pub threshold: f64,
    /// Highest value within the episode.
    pub peak: f64,
    /// First index of `peak` within the episode.
    pub peak_index: usize,
    /// First elevated point of the sustained run that starts the episode.
    pub onset_index: usize,
    /// First point of the first sustained run back at or under the threshold
    /// after the peak; `None` when the series is still elevated at the end of
    /// the window.
    pub end_index: Option<usize>,
    /// The way the episode went: [`Direction::Up`] (values above the
    /// threshold) or [`Direction::Down`] (values below it; `peak` is then the
    /// lowest value and `threshold` lies under the baseline).
    pub direction: Direction,
}

/// Answer of [`detect`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SpikeOutcome {
    /// A sustained episode above the threshold was found.
    Spike(Spike),
    /// There is data, but nothing crossed the threshold for long enough.
    /// `peak` is the highest finite value of the whole window.
    NoSpike {
        baseline: f64,
        peak: f64,
        threshold: f64,
        reason: String,
    },
    /// Not enough finite data to say anything.
    NoData { reason: String },
}

/// Finds the error spike in `window`, judged against `baseline`.
///
/// * `baseline` holds the points before the investigated window. When it has
///   fewer than 5 finite points (empty, all-`NaN`, too short), the first
///   quarter of `window` (at least 3 points) is used as the baseline instead;
///   a spike that is already under way at the start of the window then
///   raises the baseline and may go unnoticed, so pass a real baseline.
/// * The threshold is `median + max(params.threshold * MAD, params.min_abs_rise)`,
///   with the MAD scaled by [`MAD_SCALE`].
/// * An episode starts at the first point of a run of `sustain` consecutive
///   points above the threshold, and ends at the first point of a run of
///   `sustain` consecutive points at or under it. Shorter dips inside an
///   episode do not end it; a lone point above the threshold never starts
///   one. Missing points are skipped: they neither break a run nor count
///   toward `sustain`.
/// * When several episodes exist, the one with the highest value is
///   reported (earliest on ties), so a brief early blip does not hide the
///   main spike.
pub fn detect(baseline: &[f64], window: &[f64], params: &SpikeParams) -> SpikeOutcome {
    let finite_window: Vec<(usize, f64)> = window
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .collect();
    if finite_window.is_empty() {
        return SpikeOutcome::NoData {
            reason: if window.is_empty() {
                "the window has no points".to_string()
            } else {
                "the window has no finite points".to_string()
            },
        };
    }

    let mut base: Vec<f64> = baseline.iter().copied().filter(|v| v.is_finite()).collect();
    if base.len() < MIN_BASELINE_POINTS {
        // Fall back to the first quarter of the window.
        let take = (window.len() / 4)
            .max(MIN_FALLBACK_POINTS)
            .min(window.len());
        base = window[..take]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if base.len() < MIN_FALLBACK_POINTS {
            return SpikeOutcome::NoData {
                reason: format!(
                    "no usable baseline: {} finite baseline points and {} at the start of the window",
                    baseline.iter().filter(|v| v.is_finite()).count(),
                    base.len()
                ),
            };
        }
    }

    let high = quantile_in_place(&mut base, params.baseline_quantile);
    let median = median_in_place(&mut base);
    let mut deviations: Vec<f64> = base.iter().map(|v| (v - median).abs()).collect();
    let mad = MAD_SCALE * median_in_place(&mut deviations);
    // Only where the MAD is 0 (most of the baseline is one value): with any
    // spread, the quantile of a baseline that holds an earlier incident
    // would lift the threshold to that incident's level.
    let floor = if high.is_finite() && mad == 0.0 {
        high - median
    } else {
        0.0
    };
    let threshold = median
        + (params.threshold * mad)
            .max(params.min_abs_rise)
            .max(params.min_relative_rise * median.abs())
            .max(floor);
    let sustain = params.sustain.max(1);

    // Highest finite value of the whole window, first occurrence.
    let (global_peak_index, global_peak) = finite_window.iter().fold(
        finite_window[0],
        |best, &(i, v)| if v > best.1 { (i, v) } else { best },
    );

    if global_peak <= threshold {
        return SpikeOutcome::NoSpike {
            baseline: median,
            peak: global_peak,
            threshold,
            reason: format!("peak {global_peak} did not exceed threshold {threshold}"),
        };
    }

    match best_episode(&finite_window, threshold, sustain) {
        Some(episode) => SpikeOutcome::Spike(Spike {
            baseline: median,
            baseline_mad: mad,
            threshold,
            peak: episode.peak,
            peak_index: episode.peak_index,
            onset_index: episode.onset_index,
            end_index: episode.end_index,
            direction: Direction::Up,
        }),
        None => SpikeOutcome::NoSpike {
            baseline: median,
            peak: global_peak,
            threshold,
            reason: format!(
                "no {sustain} consecutive points above threshold {threshold}; \
                 the highest point ({global_peak} at index {global_peak_index}) was not sustained"
            ),
        },
    }
}

/// [`detect`] in a given direction. `Down` looks for a drop (the series is
/// mirrored, detected, and the levels mirrored back: `baseline`, `peak` and
/// `threshold` are in the series' own unit, `peak` the lowest value).
/// `Auto` runs both and keeps the episode that went further from the
/// baseline in robust standard deviations (scaled MAD, floored at
/// `min_abs_rise` so a flat baseline compares fairly); with no episode
/// either way it answers as `Up` would, mentioning that no drop was found
/// either.
pub fn detect_directed(
    baseline: &[f64],
    window: &[f64],
    params: &SpikeParams,
    direction: Direction,
) -> SpikeOutcome {
    let down = || {
        let flip = |x: &[f64]| x.iter().map(|v| -v).collect::<Vec<f64>>();
        match detect(&flip(baseline), &flip(window), params) {
            SpikeOutcome::Spike(s) => SpikeOutcome::Spike(Spike {
                baseline: -s.baseline,
                threshold: -s.threshold,
                peak: -s.peak,
                direction: Direction::Down,
                ..s
            }),
            SpikeOutcome::NoSpike {
                baseline,
                threshold,
                reason,
                ..
            } => {
                let lowest = window
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .fold(f64::INFINITY, f64::min);
                SpikeOutcome::NoSpike {
                    baseline: -baseline,
                    peak: lowest,
                    threshold: -threshold,
                    reason: if reason.contains("did not exceed") {
                        format!(
                            "lowest {lowest} did not fall under threshold {}",
                            -threshold
                        )
                    } else {
                        format!(
                            "no {} consecutive points under threshold {}; the lowest point ({lowest}) was not sustained",
                            params.sustain.max(1),
                            -threshold
                        )
                    },
                }
            }
            no_data => no_data,
        }
    };
    match direction {
        Direction::Up => detect(baseline, window, params),
        Direction::Down => down(),
        Direction::Auto => {
            let up = detect(baseline, window, params);
            let dn = down();
            let strength = |o: &SpikeOutcome| strength(o, params);
            match (&up, &dn) {
                (SpikeOutcome::Spike(_), _) | (_, SpikeOutcome::Spike(_)) => {
                    if strength(&dn) > strength(&up) {
                        dn
                    } else {
                        up
                    }
                }
                (
                    SpikeOutcome::NoSpike {
                        baseline,
                        peak,
                        threshold,
                        reason,
                    },
                    _,
                ) => SpikeOutcome::NoSpike {
                    baseline: *baseline,
                    peak: *peak,
                    threshold: *threshold,
                    reason: format!("{reason}; no sustained drop either"),
                },
                _ => up,
            }
        }
    }
}

/// How far an episode went from its baseline, in robust standard deviations
/// (scaled MAD, floored at `min_abs_rise` so a flat baseline compares
/// fairly): what `Auto` compares, and how one of several symptoms is chosen
/// as the one that moved. `-∞` without a spike.
pub fn strength(outcome: &SpikeOutcome, params: &SpikeParams) -> f64 {
    match outcome {
        SpikeOutcome::Spike(s) => {
            let noise = s.baseline_mad.max(params.min_abs_rise.abs()).max(1e-300);
            (s.peak - s.baseline).abs() / noise
        }
        _ => f64::NEG_INFINITY,
    }
}

struct Episode {
    onset_index: usize,
    peak: f64,
    peak_index: usize,
    end_index: Option<usize>,
}

/// A maximal run of finite points on the same side of the threshold, as
/// positions into the list of finite points (missing points already removed,
/// which is how they are made neither to break nor to extend a run).
struct Run {
    above: bool,
    start: usize,
    len: usize,
}

fn best_episode(points: &[(usize, f64)], threshold: f64, sustain: usize) -> Option<Episode> {
    let mut runs: Vec<Run> = Vec::new();
    for (pos, &(_, v)) in points.iter().enumerate() {
        let above = v > threshold;
        match runs.last_mut() {
            Some(run) if run.above == above => run.len += 1,
            _ => runs.push(Run {
                above,
                start: pos,
                len: 1,
            }),
        }
    }

    let mut best: Option<Episode> = None;
    let mut r = 0;
    while r < runs.len() {
        let run = &runs[r];
        if !(run.above && run.len >= sustain) {
            r += 1;
            continue;
        }
        // The episode spans runs r.. up to (not including) the next sustained
        // run at or under the threshold.
        let mut next = r + 1;
        while next < runs.len() && (runs[next].above || runs[next].len < sustain) {
            next += 1;
        }
        let first = run.start;
        let last = runs.get(next).map_or(points.len(), |end_run| end_run.start);
        let (peak_index, peak) =
            points[first..last].iter().fold(
                points[first],
                |acc, &(i, v)| if v > acc.1 { (i, v) } else { acc },
            );
        let end_index = runs.get(next).map(|end_run| points[end_run.start].0);
        let onset_index = points[first].0;
        if best.as_ref().is_none_or(|b| peak > b.peak) {
            best = Some(Episode {
                onset_index,
                peak,
                peak_index,
                end_index,
            });
        }
        r = next;
    }
    best
}

/// The `q` quantile (0–1, linear interpolation between order statistics,
/// numpy's default) of a slice (sorts it); `NaN` when empty or `q` is not
/// in 0–1.
pub(super) fn quantile_in_place(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    values.sort_unstable_by(f64::total_cmp);
    let pos = q * (values.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    values[lo] + (values[hi] - values[lo]) * (pos - lo as f64)
}

/// Median of a slice (sorts it); `NaN` when empty. Also used by `correlate`.
pub(super) fn median_in_place(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_unstable_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_rng::Rng;
    use super::*;

    fn spike(outcome: SpikeOutcome) -> Spike {
        match outcome {
            SpikeOutcome::Spike(s) => s,
            other => panic!("expected a spike, got {other:?}"),
        }
    }

    fn assert_no_spike(outcome: &SpikeOutcome) {
        assert!(
            matches!(outcome, SpikeOutcome::NoSpike { .. }),
            "expected no spike, got {outcome:?}"
        );
    }

    #[test]
    fn clean_step() {
        let baseline = vec![0.01; 60];
        let mut window = vec![0.01; 60];
        for v in &mut window[20..40] {
            *v = 0.2;
        }
        let s = spike(detect(&baseline, &window, &SpikeParams::default()));
        assert_eq!(s.onset_index, 20);
        assert_eq!(s.peak_index, 20);
        assert_eq!(s.peak, 0.2);
        assert_eq!(s.end_index, Some(40));
        assert_eq!(s.baseline, 0.01);
        assert_eq!(s.baseline_mad, 0.0);
        // Flat baseline: the absolute floor sets the threshold.
        assert!((s.threshold - 0.015).abs() < 1e-12);
    }

    #[test]
    fn noisy_step() {
        let mut rng = Rng(42);
        let baseline: Vec<f64> = (0..120).map(|_| 0.01 + 0.002 * rng.normal()).collect();
        let window: Vec<f64> = (0..100)
            .map(|i| {
                let level = if (50..80).contains(&i) { 0.08 } else { 0.01 };
                level + 0.002 * rng.normal()
            })
            .collect();
        let s = spike(detect(&baseline, &window, &SpikeParams::default()));
        assert_eq!(s.onset_index, 50);
        assert_eq!(s.end_index, Some(80));
        assert!((50..80).contains(&s.peak_index));
        assert!((s.baseline - 0.01).abs() < 0.001, "{}", s.baseline);
        assert!(
            (s.baseline_mad - 0.002).abs() < 0.0007,
            "{}",
            s.baseline_mad
        );
        assert!(s.peak > 0.075);
    }

    #[test]
    fn single_outlier_is_not_a_spike() {
        let mut rng = Rng(7);
        let baseline: Vec<f64> = (0..60).map(|_| 0.01 + 0.002 * rng.normal()).collect();
        let mut window: Vec<f64> = (0..60).map(|_| 0.01 + 0.002 * rng.normal()).collect();
        window[30] = 1.0;
        let out = detect(&baseline, &window, &SpikeParams::default());
        assert_no_spike(&out);
        if let SpikeOutcome::NoSpike { peak, reason, .. } = out {
            assert_eq!(peak, 1.0);
            assert!(reason.contains("not sustained"), "{reason}");
        }
        // A two-point blip is not sustained either.
        window[31] = 1.0;
        assert_no_spike(&detect(&baseline, &window, &SpikeParams::default()));
    }

    #[test]
    fn flat_zero_baseline_then_small_rise() {
        let baseline = vec![0.0; 60];
        let mut window = vec![0.0; 60];
        for v in &mut window[30..] {
            *v = 0.002; // below the 0.005 absolute floor
        }
        let out = detect(&baseline, &window, &SpikeParams::default());
        assert_no_spike(&out);
        for v in &mut window[30..] {
            *v = 0.01;
        }
        let s = spike(detect(&baseline, &window, &SpikeParams::default()));
        assert_eq!(s.onset_index, 30);
        assert_eq!(s.end_index, None);
        assert!((s.threshold - 0.005).abs() < 1e-15);
    }

    #[test]
    fn no_data_and_degenerate_inputs() {
        let p = SpikeParams::default();
        assert!(matches!(detect(&[], &[], &p), SpikeOutcome::NoData { .. }));
        assert!(matches!(
            detect(&[1.0; 10], &[f64::NAN; 10], &p),
            SpikeOutcome::NoData { .. }
        ));
        assert!(matches!(
            detect(&[f64::NAN; 10], &[f64::INFINITY, f64::NEG_INFINITY], &p),
            SpikeOutcome::NoData { .. }
        ));
        // No baseline and only one point in the window: cannot judge it.
        assert!(matches!(
            detect(&[], &[0.5], &p),
            SpikeOutcome::NoData { .. }
        ));
        // No baseline, window of two finite points among NaN: fallback has too few.
        assert!(matches!(
            detect(&[], &[0.5, f64::NAN, 0.5, 9.0, 9.0, 9.0], &p),
            SpikeOutcome::NoData { .. }
        ));
        // Constant everywhere: data, but no spike.
        let out = detect(&[0.3; 10], &[0.3; 10], &p);
        assert_eq!(
            out,
            SpikeOutcome::NoSpike {
                baseline: 0.3,
                peak: 0.3,
                threshold: 0.3 + 0.005,
                reason: format!("peak 0.3 did not exceed threshold {}", 0.3 + 0.005),
            }
        );
        // Length 1 with a baseline.
        assert_no_spike(&detect(&[0.0; 10], &[0.001], &p));
        // sustain 0 behaves like 1; threshold NaN must not panic.
        let odd = SpikeParams {
            threshold: f64::NAN,
            sustain: 0,
            min_abs_rise: f64::NAN,
            min_relative_rise: f64::NAN,
            baseline_quantile: f64::NAN,
        };
        let _ = detect(&[0.0; 10], &[0.0, 5.0, 0.0], &odd);
    }

    #[test]
    fn a_relative_floor_needs_the_series_to_grow_by_that_fraction() {
        // A quantile on a bucket bound: flat at 0.25 with rare jumps, then five points at
        // 0.33–0.41 (no fault), or at 2.5 (a fault).
        let mut baseline = vec![0.25; 200];
        for i in [17, 76, 140] {
            baseline[i] = 0.3;
        }
        let burst = |level: f64| {
            let mut w = vec![0.25; 60];
            for (v, x) in w[30..35].iter_mut().zip([0.33, 0.38, 0.41, 0.36, 0.34]) {
                *v = x * level / 0.41;
            }
            w
        };
        let relative = SpikeParams {
            min_relative_rise: 1.0,
            ..SpikeParams::default()
        };
        assert_eq!(
            spike(detect(&baseline, &burst(0.41), &SpikeParams::default())).onset_index,
            30
        );
        match detect(&baseline, &burst(0.41), &relative) {
            SpikeOutcome::NoSpike { threshold, .. } => assert_eq!(threshold, 0.5),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            spike(detect(&baseline, &burst(2.5), &relative)).onset_index,
            30
        );
    }

    #[test]
    fn empty_baseline_falls_back_to_window_start() {
        let mut window = vec![0.01; 80];
        for v in &mut window[40..50] {
            *v = 0.5;
        }
        let s = spike(detect(&[f64::NAN; 30], &window, &SpikeParams::default()));
        assert_eq!(s.baseline, 0.01);
        assert_eq!(s.onset_index, 40);
        assert_eq!(s.end_index, Some(50));
    }

    #[test]
    fn spike_already_at_window_start() {
        let baseline = vec![0.01; 60];
        let mut window = vec![0.3; 15];
        window.extend(vec![0.01; 20]);
        let s = spike(detect(&baseline, &window, &SpikeParams::default()));
        assert_eq!(s.onset_index, 0);
        assert_eq!(s.peak_index, 0);
        assert_eq!(s.end_index, Some(15));
    }

    #[test]
    fn nan_holes_neither_break_nor_create_runs() {
        let baseline = vec![0.0; 30];
        let nan = f64::NAN;
        // A hole inside a sustained run does not break it.
        let window = [0.0, 0.0, 0.2, nan, 0.3, nan, nan, 0.2, 0.0, 0.0, 0.0, 0.0];
        let s = spike(detect(&baseline, &window, &SpikeParams::default()));
        assert_eq!(s.onset_index, 2);
        assert_eq!(s.peak_index, 4);
        assert_eq!(s.end_index, Some(8));
        // Two elevated points around a hole are still only two points.
        let window = [0.0, 0.0, 0.2, nan, 0.3, 0.0, 0.0, 0.0, 0.0];
        assert_no_spike(&detect(&baseline, &window, &SpikeParams::default()));
        // Infinity is missing, not a peak.
        let window = [0.0, f64::INFINITY, f64::INFINITY, f64::INFINITY, 0.0];
        assert_no_spike(&detect(&baseline, &window, &SpikeParams::default()));
        // A hole in the recovery does not end the episode early.
        let window = [0.2, 0.2, 0.2, 0.0, nan, 0.0, 0.0, 0.0];
        let s = spike(detect(&baseline, &window, &SpikeParams::default()));
        assert_eq!(s.end_index, Some(3));
    }

    #[test]
    fn short_dip_does_not_end_the_episode() {
        let baseline = vec![0.0; 30];
        let window = [
            0.0, 0.1, 0.1, 0.1, 0.0, 0.0, 0.4, 0.1, 0.1, 0.0, 0.0, 0.0, 0.0,
        ];
        let s = spike(detect(&baseline, &window, &SpikeParams::default()));
        assert_eq!(s.onset_index, 1);
        assert_eq!(s.peak_index, 6);
        assert_eq!(s.peak, 0.4);
        assert_eq!(s.end_index, Some(9));
    }

    #[test]
    fn lone_outlier_does_not_steal_the_peak() {
        let baseline = vec![0.0; 30];
        let mut window = vec![0.0; 40];
        window[5] = 5.0; // single bad scrape
        for v in &mut window[20..30] {
            *v = 0.5;
        }
        let s = spike(detect(&baseline, &window, &SpikeParams::default()));
        assert_eq!(s.onset_index, 20);
        assert_eq!(s.peak, 0.5);
        assert_eq!(s.peak_index, 20);
        assert_eq!(s.end_index, Some(30));
    }

    #[test]
    fn highest_of_several_episodes_is_reported() {
        let baseline = vec![0.0; 30];
        let mut window = vec![0.0; 60];
        for v in &mut window[5..10] {
            *v = 0.1;
        }
        for v in &mut window[30..40] {
            *v = 0.6;
        }
        let s = spike(detect(&baseline, &window, &SpikeParams::default()));
        assert_eq!(s.onset_index, 30);
        assert_eq!(s.end_index, Some(40));
    }

    #[test]
    fn serializes() {
        let s = spike(detect(
            &[0.0; 10],
            &[0.0, 1.0, 1.0, 1.0],
            &SpikeParams::default(),
        ));
        let json = serde_json::to_string(&SpikeOutcome::Spike(s)).unwrap();
        assert!(json.contains("\"onset_index\":1"), "{json}");
    }
}
