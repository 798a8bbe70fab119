//! Correlation of a candidate metric with the symptom: Pearson's r over a
//! scan of time lags, a p-value that is honest about autocorrelation and
//! about the lag scan, and Benjamini–Hochberg q-values across candidates.
//!
//! Pure computation, no I/O. Series are time-aligned on one step grid;
//! non-finite values are missing points and are skipped pairwise.
//!
//! Why not plain Pearson on the raw values: metrics are autocorrelated
//! (random walks, trends, slowly drifting gauges). For such series the
//! textbook t-test assumes far more independent information than there is,
//! and most pairs of unrelated random walks come out "significant". So:
//!
//! 1. Series are compared through their step-to-step changes (first
//!    differences): a random walk becomes independent noise, a trend a
//!    constant, a step a single jump.
//! 2. What autocorrelation the changes still have (stationary noise, once
//!    differenced, alternates) is accounted for with Bartlett's effective
//!    sample size instead of the raw number of pairs.
//! 3. Besides all its changes, the symptom is also looked at through its
//!    *onsets* only: the moments its level jumps up by more than
//!    [`ONSET_Z`] robust SDs, one point each, zero elsewhere. They are paired
//!    with the candidate's changes and with its level shifts (mean of the
//!    next 5 points minus mean of the previous 5), which is how a noisy
//!    metric that stepped just before the errors started is found: one
//!    coincident jump among hundreds of noisy changes is weak evidence, a
//!    sustained shift is not.
//! 4. Every lag in `-max_lag..=max_lag` is tried in each of the (up to)
//!    three pairings; the smallest p-value is Šidák-corrected for the
//!    number of tests made.
//!
//! The p-values stay valid under independence whatever is done to the
//! symptom alone, as long as the candidate side's autocorrelation is
//! accounted for; that is why only the symptom gets the onsets treatment.
//! `docs/method.md` gives the reasoning and the measured false-positive
//! rates.

use super::spike::median_in_place;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A rise of the symptom's level shift is an onset when it is more than
/// this many robust standard deviations (scaled MAD of the level shifts)
/// above the median shift. At 4, Gaussian noise crosses it about once every
/// 30 000 points, so the view holds the spike's onset and almost never noise.
pub const ONSET_Z: f64 = 4.0;

/// Scale that turns a median absolute deviation into a standard deviation
/// for normal noise.
const MAD_SCALE: f64 = 1.4826;

/// Most autocorrelation lags used for the effective sample size. Must be at
/// least `2 * SHIFT_HALF_WINDOW - 1`, the reach of the level-shift filter.
const ACF_LAGS: usize = 10;

/// Half window `h` of the candidate's level shifts (see
/// `Changes::level_shifts`).
const SHIFT_HALF_WINDOW: usize = 5;

/// Tuning of [`correlate`] and [`PreparedSymptom`].
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationParams {
    /// Lags scanned on each side of zero, in steps of the series' grid.
    /// Default 10 (2.5 minutes at a 15 s step): long enough for a cause to
    /// show up a few scrapes before the errors, short enough that the lag
    /// scan does not buy much luck. `2·max_lag + 1` lags are tried.
    pub max_lag: usize,
    /// Fewest pairs of changes a lag needs to be considered. Default 20:
    /// below that the t-distribution approximation is poor and a single
    /// point can decide the result. Values below 4 are treated as 4.
    pub min_points: usize,
}

impl Default for CorrelationParams {
    fn default() -> Self {
        Self {
            max_lag: 10,
            min_points: 20,
        }
    }
}

/// Result of correlating one candidate with the symptom.
///
/// `r` and `r_at_zero` are correlations of step-to-step *changes* (see the
/// module docs), taken from whichever pairing gave the smaller p-value. A
/// candidate that jumps exactly when the errors start but is noisy
/// otherwise has a modest `r` and a tiny `p_value`: read `p_value` (or the
/// q-value) for "is this real", the sign of `r` for the direction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Correlation {
    /// Pearson's r at the lag with the smallest p-value (largest |r|).
    pub r: f64,
    /// Pearson's r at lag 0 in the same pairing; `NaN` in the rare case that
    /// lag 0 itself had too few pairs.
    pub r_at_zero: f64,
    /// Lag of `r`, in steps. `> 0`: the candidate leads (it moved
    /// `lag_steps` steps before the symptom); `< 0`: the candidate lags.
    pub lag_steps: i32,
    /// Two-sided p-value of `r` (Student's t with the effective sample
    /// size), Šidák-corrected for all lags and pairings tried.
    pub p_value: f64,
    /// Pairs of points used at the best lag.
    pub n: usize,
}

/// Why a candidate (or the symptom) could not be correlated.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
pub enum Skip {
    #[error("constant series")]
    Constant,
    #[error("too few points ({0})")]
    TooFewPoints(usize),
    #[error("length mismatch")]
    LengthMismatch,
    /// The series changes by the same amount every step (a perfectly
    /// straight line): its changes carry no information to correlate.
    #[error("straight line (constant rate of change)")]
    StraightLine,
}

/// Pearson's correlation over the pairs where both values are finite.
/// Returns `(r, pairs used)`, or `None` when the lengths differ, fewer than
/// two pairs remain, or either side is constant over those pairs.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<(f64, usize)> {
    if x.len() != y.len() {
        return None;
    }
    let pairs = || {
        x.iter()
            .zip(y)
            .filter(|(a, b)| a.is_finite() && b.is_finite())
    };
    let (mut n, mut sx, mut sy) = (0usize, 0.0, 0.0);
    for (a, b) in pairs() {
        n += 1;
        sx += a;
        sy += b;
    }
    if n < 2 {
        return None;
    }
    // Two passes: centring first avoids the cancellation of the one-pass
    // formula on series with a large offset (e.g. byte counters).
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (a, b) in pairs() {
        let (dx, dy) = (a - mx, b - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let r = sxy / (sxx.sqrt() * syy.sqrt());
    r.is_finite().then_some((r.clamp(-1.0, 1.0), n))
}

/// Two-sided p-value of Pearson's `r` over `n` independent pairs:
/// `t = r·sqrt((n-2)/(1-r²))` against Student's t with `n-2` degrees of
/// freedom (the same test as `scipy.stats.pearsonr`).
/// `n < 3` gives 1.0 (no evidence), `|r| = 1` gives 0.0, a non-finite `r`
/// gives `NaN`.
pub fn p_value(r: f64, n: usize) -> f64 {
    p_value_df(r, n as f64 - 2.0)
}

/// [`p_value`] with real-valued degrees of freedom (effective sample size − 2).
fn p_value_df(r: f64, df: f64) -> f64 {
    if !r.is_finite() || df.is_nan() {
        return f64::NAN;
    }
    if df <= 0.0 {
        return 1.0;
    }
    let r = r.clamp(-1.0, 1.0);
    let one_minus_r2 = 1.0 - r * r;
    if one_minus_r2 <= 0.0 {
        return 0.0;
    }
    let t = r.abs() * (df / one_minus_r2).sqrt();
    match StudentsT::new(0.0, 1.0, df) {
        // sf, not 1 - cdf: keeps precision for tiny p-values.
        Ok(dist) => (2.0 * dist.sf(t)).clamp(0.0, 1.0),
        Err(_) => f64::NAN,
    }
}

/// Benjamini–Hochberg adjusted p-values (q-values), in input order, equal to
/// R's `p.adjust(p, method = "BH")`: `q(i) = min over j ≥ i of m·p(j)/j` on
/// the sorted p-values, capped at 1, so q is monotone in p.
/// Non-finite p-values stay `NaN` and are not counted in `m` (a candidate
/// that could not be tested is not a test).
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_finite()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let m = order.len() as f64;
    let mut q = vec![f64::NAN; p.len()];
    let mut running_min = 1.0_f64;
    for (pos, &i) in order.iter().enumerate().rev() {
        let adjusted = p[i].clamp(0.0, 1.0) * m / (pos + 1) as f64;
        running_min = running_min.min(adjusted);
        q[i] = running_min;
    }
    q
}

/// Correlates one candidate with the symptom. Convenience wrapper around
/// [`PreparedSymptom`]; when testing many candidates against one symptom,
/// prepare the symptom once instead.
pub fn correlate(
    symptom: &[f64],
    candidate: &[f64],
    params: &CorrelationParams,
) -> Result<Correlation, Skip> {
    PreparedSymptom::new(symptom, params)?.correlate(candidate)
}

/// The symptom, differenced and its onsets found once, ready to be
/// correlated with many candidates of the same length.
#[derive(Debug, Clone)]
pub struct PreparedSymptom {
    changes: Changes,
    /// `None` when the symptom has no onset.
    onsets: Option<Changes>,
    params: CorrelationParams,
}

impl PreparedSymptom {
    /// Prepares `symptom`. Fails when the symptom itself is unusable
    /// (constant, too few finite points, a straight line).
    pub fn new(symptom: &[f64], params: &CorrelationParams) -> Result<Self, Skip> {
        let params = CorrelationParams {
            max_lag: params.max_lag,
            min_points: params.min_points.max(4),
        };
        let changes = Changes::new(symptom, params.min_points)?.with_acf();
        let onsets = Changes::level_shifts(symptom, SHIFT_HALF_WINDOW)
            .and_then(|shifts| changes.onsets(&shifts, SHIFT_HALF_WINDOW));
        Ok(Self {
            changes,
            onsets,
            params,
        })
    }

    /// Number of points of the symptom; candidates must have the same.
    pub fn len(&self) -> usize {
        self.changes.v.len()
    }

    /// Whether the symptom has no points (never true for a prepared one).
    pub fn is_empty(&self) -> bool {
        self.changes.v.is_empty()
    }

    /// Indices of the symptom's onsets (sharp rises) used by the onsets
    /// pairing; empty when it has none and only changes are compared.
    pub fn onsets(&self) -> Vec<usize> {
        self.onsets
            .as_ref()
            .and_then(|o| o.nonzero.clone())
            .unwrap_or_default()
    }

    /// Correlates `candidate` with the symptom over lags
    /// `-max_lag..=max_lag`; see [`Correlation`] for the fields.
    pub fn correlate(&self, candidate: &[f64]) -> Result<Correlation, Skip> {
        if candidate.len() != self.len() {
            return Err(Skip::LengthMismatch);
        }
        let cand = Changes::new(candidate, self.params.min_points)?;
        let all = scan_lags(&self.changes, &cand, &self.params)?;
        let mut tests = all.lags_tested;
        let mut best = all;
        if let Some(onsets) = &self.onsets {
            let shifts = Changes::level_shifts(candidate, SHIFT_HALF_WINDOW);
            // A pairing whose every lag was skipped (its few onsets fell
            // outside the overlaps) simply adds no tests.
            for view in [Some(&cand), shifts.as_ref()].into_iter().flatten() {
                if let Ok(scan) = scan_lags(onsets, view, &self.params) {
                    tests += scan.lags_tested;
                    if scan.p_single < best.p_single {
                        best = scan;
                    }
                }
            }
        }
        Ok(Correlation {
            r: best.r,
            r_at_zero: best.r_at_zero,
            lag_steps: best.lag,
            p_value: sidak(best.p_single, tests),
            n: best.n,
        })
    }
}

/// Šidák correction of the smallest of `m` p-values: `1 - (1 - p)^m`,
/// computed without losing tiny p-values to rounding. Exact for independent
/// tests and conservative for positively dependent ones (neighbouring lags,
/// the pairings).
fn sidak(p: f64, m: usize) -> f64 {
    if !p.is_finite() || m <= 1 {
        return p;
    }
    (-(m as f64 * (-p).ln_1p()).exp_m1()).clamp(0.0, 1.0)
}

/// Bartlett's variance inflation for the correlation of two autocorrelated
/// series: `var(r) ≈ (1 + 2·Σ_k ρx(k)·ρy(k)) / n` over the first lags.
/// Floored at 1, so the effective sample size never exceeds the real one.
/// The candidate's autocorrelation is only computed at the lags where the
/// symptom side has any (none at all for a single onset).
fn variance_inflation(sym: &Changes, cand: &Changes) -> f64 {
    let sum: f64 = sym
        .acf
        .iter()
        .enumerate()
        .filter(|&(_, &r)| r != 0.0)
        .map(|(i, &r)| r * cand.autocorrelation(i + 1))
        .sum();
    (1.0 + 2.0 * sum).max(1.0)
}

/// One value per time step (a series' changes, its level shifts, or the
/// symptom's onsets), with what the lag loop needs to be cheap: prefix sums,
/// so that the sums over any overlap cost O(1) plus one correction per
/// missing point, and for a sparse series the list of its non-zero points.
#[derive(Debug, Clone)]
struct Changes {
    /// Value at each index; 0.0 where missing.
    v: Vec<f64>,
    present: Vec<bool>,
    /// Indices of missing values, ascending.
    holes: Vec<usize>,
    /// For a sparse series (the onsets), the indices of its non-zero values,
    /// ascending: its cross products then cost one multiplication each.
    nonzero: Option<Vec<usize>>,
    /// `cum[i]` = sum of `v[..i]`; `cum2` the same for `v²`.
    cum: Vec<f64>,
    cum2: Vec<f64>,
    /// Number of present values.
    count: usize,
    /// Autocorrelation at lags 1..=K, K = min(10, count / 5); only filled
    /// for the symptom side, which is prepared once.
    acf: Vec<f64>,
}

impl Changes {
    /// The step-to-step changes `x[t] - x[t-1]`, centred on their mean;
    /// missing at index 0 and wherever `x[t]` or `x[t-1]` is missing.
    fn new(x: &[f64], min_points: usize) -> Result<Self, Skip> {
        let (mut finite, mut lo, mut hi) = (0usize, f64::INFINITY, f64::NEG_INFINITY);
        for &v in x.iter().filter(|v| v.is_finite()) {
            finite += 1;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if finite < 2 {
            return Err(Skip::TooFewPoints(finite));
        }
        let scale = hi.abs().max(lo.abs());
        if hi - lo <= 1e-12 * scale {
            return Err(Skip::Constant);
        }

        let n = x.len();
        let (mut v, mut present) = (vec![0.0; n], vec![false; n]);
        let (mut count, mut sum) = (0usize, 0.0);
        let (mut dlo, mut dhi) = (f64::INFINITY, f64::NEG_INFINITY);
        for t in 1..n {
            let d = x[t] - x[t - 1];
            // Inf - Inf is NaN; a difference of two huge finite values can
            // still overflow to Inf.
            if d.is_finite() && x[t].is_finite() && x[t - 1].is_finite() {
                v[t] = d;
                present[t] = true;
                count += 1;
                sum += d;
                dlo = dlo.min(d);
                dhi = dhi.max(d);
            }
        }
        if count < min_points.max(4) {
            return Err(Skip::TooFewPoints(count));
        }
        if dhi - dlo <= 1e-12 * scale {
            return Err(Skip::StraightLine);
        }
        centre(&mut v, &present, sum / count as f64);
        Ok(Self::from_values(v, present, false))
    }

    /// Level shifts: `mean(x[t..t+h]) - mean(x[t-h..t])`, centred. A step at
    /// `t` peaks here at `t`, like in the changes, but with the noise of a
    /// mean of `h` points on each side instead of one. A half window needs
    /// more than half of its points finite. `None` when too few shifts.
    fn level_shifts(x: &[f64], h: usize) -> Option<Self> {
        let n = x.len();
        if h == 0 || n < 2 * h + 1 {
            return None;
        }
        // Plain window sums, not prefix sums: a prefix sum of a large counter
        // would cancel away the digits the difference needs. 2h per point.
        let mean_of = |w: &[f64]| {
            let (mut sum, mut cnt) = (0.0, 0usize);
            for v in w.iter().filter(|v| v.is_finite()) {
                sum += v;
                cnt += 1;
            }
            (cnt > h / 2).then(|| sum / cnt as f64)
        };
        let (mut v, mut present) = (vec![0.0; n], vec![false; n]);
        let (mut count, mut total) = (0usize, 0.0);
        for t in h..=n - h {
            let (Some(before), Some(after)) = (mean_of(&x[t - h..t]), mean_of(&x[t..t + h])) else {
                continue;
            };
            let d = after - before;
            if d.is_finite() {
                v[t] = d;
                present[t] = true;
                count += 1;
                total += d;
            }
        }
        if count < 4 {
            return None;
        }
        centre(&mut v, &present, total / count as f64);
        Some(Self::from_values(v, present, false))
    }

    fn from_values(v: Vec<f64>, present: Vec<bool>, sparse: bool) -> Self {
        let n = v.len();
        let holes: Vec<usize> = (0..n).filter(|&i| !present[i]).collect();
        let nonzero = sparse.then(|| (0..n).filter(|&i| v[i] != 0.0).collect());
        let (mut cum, mut cum2) = (Vec::with_capacity(n + 1), Vec::with_capacity(n + 1));
        let (mut s, mut s2) = (0.0, 0.0);
        cum.push(s);
        cum2.push(s2);
        for &x in &v {
            s += x;
            s2 += x * x;
            cum.push(s);
            cum2.push(s2);
        }
        Self {
            count: n - holes.len(),
            v,
            present,
            holes,
            nonzero,
            cum,
            cum2,
            acf: Vec::new(),
        }
    }

    /// Fills `acf` (done for the symptom side only).
    fn with_acf(mut self) -> Self {
        self.acf = (1..=ACF_LAGS.min(self.count / 5))
            .map(|k| self.autocorrelation(k))
            .collect();
        self
    }

    /// Autocorrelation at lag `k` over the pairs where both are present
    /// (values are centred, so no mean is taken out again).
    fn autocorrelation(&self, k: usize) -> f64 {
        let n = self.v.len();
        if k == 0 {
            return 1.0;
        }
        if k >= n || self.count == 0 {
            return 0.0;
        }
        let c0 = self.cum2[n] / self.count as f64;
        // Pairs with a hole on either side: holes in k.., holes in ..n-k,
        // minus those with holes on both sides (counted twice).
        let late = self.holes.iter().filter(|&&t| t >= k).count();
        let early = self.holes.iter().filter(|&&t| t < n - k).count();
        let both = self
            .holes
            .iter()
            .filter(|&&t| t >= k && self.holes.binary_search(&(t - k)).is_ok())
            .count();
        let pairs = (n - k) - (late + early - both);
        if pairs == 0 || c0 <= 0.0 {
            return 0.0;
        }
        dot(&self.v[k..], &self.v[..n - k]) / pairs as f64 / c0
    }

    /// The onsets view of the symptom: one point per onset, at its time,
    /// valued at the onset's level shift; zero everywhere else.
    ///
    /// An onset is a rise of the level shifts (`shifts`, half window `h`)
    /// more than [`ONSET_Z`] robust SDs above the median shift, and the
    /// largest within `h - 1` steps on either side (ties: earliest). Its time
    /// is then moved to the largest 1-step rise within that reach, if one is
    /// at least half the shift: a short blip makes a plateau of equal level
    /// shifts, and the jump itself is the moment that matters for the lag
    /// (if the jump fell into a hole of missing points, the peak's time is
    /// kept). Only rises count: the symptom is an error signal, and what
    /// moved before the errors *started* is the question; the recovery would
    /// pair persistent changes with the wrong moment. `None` without onsets.
    fn onsets(&self, shifts: &Self, h: usize) -> Option<Self> {
        let n = self.v.len();
        let mut values: Vec<f64> = (0..n)
            .filter(|&t| shifts.present[t])
            .map(|t| shifts.v[t])
            .collect();
        let median = median_in_place(&mut values);
        let mut deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        let cut = ONSET_Z * MAD_SCALE * median_in_place(&mut deviations);
        // Rise above the median shift; missing shifts and falls never compete.
        let rise = |t: usize| {
            if shifts.present[t] {
                (shifts.v[t] - median).max(0.0)
            } else {
                0.0
            }
        };
        let reach = h.saturating_sub(1);
        // Everything else is zero, present wherever the symptom's change is.
        let mut v = vec![0.0; n];
        let mut present = self.present.clone();
        let mut found = false;
        for t in 0..n {
            let size = rise(t);
            if size <= cut {
                continue;
            }
            let (lo, hi) = (t.saturating_sub(reach), (t + reach).min(n - 1));
            if (lo..t).any(|u| rise(u) >= size) || (t + 1..=hi).any(|u| rise(u) > size) {
                continue;
            }
            let jump = (lo..=hi)
                .filter(|&u| self.present[u] && self.v[u] >= 0.5 * size)
                .max_by(|&a, &b| self.v[a].total_cmp(&self.v[b]).then(b.cmp(&a)))
                .unwrap_or(t);
            v[jump] = size;
            present[jump] = true;
            found = true;
        }
        found.then(|| Self::from_values(v, present, true).with_acf())
    }
}

/// Subtracts `mean` from the present values.
fn centre(v: &mut [f64], present: &[bool], mean: f64) {
    for (x, _) in v.iter_mut().zip(present).filter(|(_, p)| **p) {
        *x -= mean;
    }
}

/// Outcome of the lag scan in one pairing.
struct Scan {
    r: f64,
    lag: i32,
    n: usize,
    /// p-value at the best lag, not yet corrected for the scan.
    p_single: f64,
    r_at_zero: f64,
    lags_tested: usize,
}

/// Correlates at every lag in `-max_lag..=max_lag` and keeps the one with
/// the largest |r| (ties go to the smaller |lag|, then to the leading side).
/// The effective sample size is the same at every lag, so largest |r| is
/// also smallest p.
fn scan_lags(sym: &Changes, cand: &Changes, params: &CorrelationParams) -> Result<Scan, Skip> {
    let len = sym.v.len();
    let max_lag = params.max_lag.min(len.saturating_sub(1));
    let mut best: Option<(f64, i32, usize)> = None;
    let mut r_at_zero = f64::NAN;
    let mut lags_tested = 0;
    let mut most_pairs = 0usize;
    for step in 0..=2 * max_lag {
        // 0, 1, -1, 2, -2, ...: smaller |lag| first so it wins exact ties.
        let lag = if step % 2 == 1 {
            (step / 2 + 1) as i64
        } else {
            -((step / 2) as i64)
        };
        let shift = lag.unsigned_abs() as usize;
        // Positive lag: the candidate leads, so symptom[t] pairs with
        // candidate[t - lag].
        let (s0, c0) = if lag >= 0 { (shift, 0) } else { (0, shift) };
        let sums = lagged_sums(sym, s0, cand, c0, len - shift);
        let n = sums.n.max(0.0) as usize;
        most_pairs = most_pairs.max(n);
        if n < params.min_points {
            continue;
        }
        let Some(r) = sums.r() else { continue };
        lags_tested += 1;
        if lag == 0 {
            r_at_zero = r;
        }
        if best.is_none_or(|(b, _, _)| r.abs() > b.abs()) {
            best = Some((r, lag as i32, n));
        }
    }
    let Some((r, lag, n)) = best else {
        return Err(Skip::TooFewPoints(most_pairs));
    };
    let n_eff = n as f64 / variance_inflation(sym, cand);
    Ok(Scan {
        r,
        lag,
        n,
        p_single: p_value_df(r, n_eff - 2.0),
        r_at_zero,
        lags_tested,
    })
}

#[derive(Default)]
struct Sums {
    n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

impl Sums {
    fn r(&self) -> Option<f64> {
        let n = self.n;
        let vx = self.sxx - self.sx * self.sx / n;
        let vy = self.syy - self.sy * self.sy / n;
        // Relative floor: a variance that is only rounding error means the
        // overlap is constant.
        if !(vx > 1e-12 * self.sxx && vy > 1e-12 * self.syy) {
            return None;
        }
        let r = (self.sxy - self.sx * self.sy / n) / (vx.sqrt() * vy.sqrt());
        r.is_finite().then_some(r.clamp(-1.0, 1.0))
    }
}

/// Pairwise-complete sums over `a[a0..a0 + len]` against `b[b0..b0 + len]`.
/// Sums of each side come from the prefix sums, minus the values whose
/// partner is missing; only the cross product needs a pass over the overlap
/// (or over the non-zero points of a sparse side). Values are centred, so
/// the one-pass formulas do not suffer from cancellation.
fn lagged_sums(a: &Changes, a0: usize, b: &Changes, b0: usize, len: usize) -> Sums {
    let range = |cum: &[f64], start: usize| cum[start + len] - cum[start];
    let mut s = Sums {
        n: len as f64,
        sx: range(&a.cum, a0),
        sxx: range(&a.cum2, a0),
        sy: range(&b.cum, b0),
        syy: range(&b.cum2, b0),
        sxy: 0.0,
    };
    for &t in within(&a.holes, a0, len) {
        let y = b.v[t - a0 + b0];
        s.n -= 1.0;
        s.sy -= y;
        s.syy -= y * y;
    }
    for &u in within(&b.holes, b0, len) {
        let t = u - b0 + a0;
        // Where both are missing the pair is already gone (and a.v is 0).
        if a.present[t] {
            let x = a.v[t];
            s.n -= 1.0;
            s.sx -= x;
            s.sxx -= x * x;
        }
    }
    s.sxy = match &a.nonzero {
        Some(nonzero) => within(nonzero, a0, len)
            .iter()
            .map(|&t| a.v[t] * b.v[t - a0 + b0])
            .sum(),
        None => dot(&a.v[a0..a0 + len], &b.v[b0..b0 + len]),
    };
    s
}

/// The part of an ascending index list that falls in `start..start + len`.
fn within(sorted: &[usize], start: usize, len: usize) -> &[usize] {
    let lo = sorted.partition_point(|&i| i < start);
    let hi = sorted.partition_point(|&i| i < start + len);
    &sorted[lo..hi]
}

/// Dot product with four independent accumulators, so the compiler can
/// vectorise it.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 4;
    let mut acc = [0.0_f64; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests;
