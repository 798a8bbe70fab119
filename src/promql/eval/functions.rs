//! Function calls (`rate`, `*_over_time`, `histogram_quantile`, math, labels) and the numeric
//! kernels they share with Prometheus (`extrapolatedRate`, `bucketQuantile`, linear regression,
//! compensated sums), evaluated at one step.

use promql_parser::parser::{Call, Expr};
use regex::Regex;

use super::*;

impl Evaluator {
    pub(super) fn call(&self, c: &Call, t: i64) -> Result<Value, PromqlError> {
        let args = &c.args.args;
        let name = c.func.name;
        let arg = |i: usize| -> Result<&Expr, PromqlError> {
            args.get(i).map(|b| b.as_ref()).ok_or_else(|| {
                PromqlError::Execution(format!("{name}: missing argument {}", i + 1))
            })
        };
        let matrix_arg = |i: usize| -> Result<RangeArg<'_>, PromqlError> {
            let mut e = arg(i)?;
            while let Expr::Paren(p) = e {
                e = &p.expr;
            }
            match e {
                Expr::MatrixSelector(ms) => Ok(RangeArg::Selector(ms)),
                Expr::Subquery(sq) => Ok(RangeArg::Subquery(sq)),
                _ => Err(PromqlError::Execution(format!(
                    "{name} needs a range vector argument, e.g. {name}(x[5m])"
                ))),
            }
        };
        let over_time = |f: &RangeFn, keep_name: bool| -> Result<Value, PromqlError> {
            let ms = matrix_arg(0)?;
            Ok(Value::Vector(
                self.matrix(ms, t)?
                    .into_iter()
                    .map(|(s, pts)| Sample {
                        labels: if keep_name {
                            s.labels.clone()
                        } else {
                            s.unnamed.clone()
                        },
                        value: f(&pts),
                    })
                    .collect(),
            ))
        };
        let map_vec = |f: &dyn Fn(f64) -> f64| -> Result<Value, PromqlError> {
            let v = self.vector_arg(arg(0)?, t, name)?;
            Ok(Value::Vector(
                v.into_iter()
                    .map(|s| Sample {
                        labels: drop_name(s.labels),
                        value: f(s.value),
                    })
                    .collect(),
            ))
        };
        match name {
            "rate" | "increase" | "delta" => {
                let ms = matrix_arg(0)?;
                let (is_counter, is_rate) = match name {
                    "rate" => (true, true),
                    "increase" => (true, false),
                    _ => (false, false),
                };
                let (range_end, range) = match ms {
                    RangeArg::Selector(m) => (
                        ref_time(&m.vs, t, self.start, self.end),
                        m.range.as_millis() as i64,
                    ),
                    RangeArg::Subquery(sq) => {
                        (t - offset_ms(&sq.offset), sq.range.as_millis() as i64)
                    }
                };
                Ok(Value::Vector(
                    self.matrix(ms, t)?
                        .into_iter()
                        .filter_map(|(s, pts)| {
                            extrapolated_rate(
                                &pts,
                                range_end - range,
                                range_end,
                                is_counter,
                                is_rate,
                            )
                            .map(|value| Sample {
                                labels: s.unnamed.clone(),
                                value,
                            })
                        })
                        .collect(),
                ))
            }
            "irate" => {
                let ms = matrix_arg(0)?;
                Ok(Value::Vector(
                    self.matrix(ms, t)?
                        .into_iter()
                        .filter_map(|(s, pts)| {
                            irate(&pts).map(|value| Sample {
                                labels: s.unnamed.clone(),
                                value,
                            })
                        })
                        .collect(),
                ))
            }
            "avg_over_time" => over_time(
                &|p| {
                    // Prometheus's incremental mean, so results agree to the last bits.
                    let mut mean = 0.0;
                    for (i, (_, v)) in p.iter().enumerate() {
                        let n = (i + 1) as f64;
                        mean += v / n - mean / n;
                    }
                    mean
                },
                false,
            ),
            "min_over_time" => over_time(
                &|p| {
                    p.iter().fold(
                        f64::NAN,
                        |m, (_, v)| {
                            if m.is_nan() || *v < m { *v } else { m }
                        },
                    )
                },
                false,
            ),
            "max_over_time" => over_time(
                &|p| {
                    p.iter().fold(
                        f64::NAN,
                        |m, (_, v)| {
                            if m.is_nan() || *v > m { *v } else { m }
                        },
                    )
                },
                false,
            ),
            "sum_over_time" => over_time(&|p| kahan_sum(p.iter().map(|(_, v)| *v)), false),
            "count_over_time" => over_time(&|p| p.len() as f64, false),
            "deriv" => over_time(
                &|p| {
                    if p.len() < 2 {
                        return f64::NAN;
                    }
                    linear_regression(p, p[0].0).0
                },
                false,
            )
            .map(drop_nan_samples),
            "predict_linear" => {
                let ms = matrix_arg(0)?;
                let ahead = self.scalar_arg(arg(1)?, t, "predict_linear's duration")?;
                Ok(Value::Vector(
                    self.matrix(ms, t)?
                        .into_iter()
                        .filter(|(_, pts)| pts.len() >= 2)
                        .map(|(s, pts)| {
                            let (slope, intercept) = linear_regression(&pts, t);
                            Sample {
                                labels: s.unnamed.clone(),
                                value: slope * ahead + intercept,
                            }
                        })
                        .collect(),
                ))
            }
            "absent" | "absent_over_time" => {
                let e = arg(0)?;
                let present = match e {
                    Expr::MatrixSelector(ms) => !self.matrix(RangeArg::Selector(ms), t)?.is_empty(),
                    _ => !self.vector_arg(e, t, name)?.is_empty(),
                };
                if present {
                    return Ok(Value::Vector(Vec::new()));
                }
                // Labels from the selector's equality matchers, as Prometheus does.
                let vs = match e {
                    Expr::VectorSelector(vs) => Some(vs),
                    Expr::MatrixSelector(ms) => Some(&ms.vs),
                    _ => None,
                };
                let mut labels = Labels::new();
                if let Some(vs) = vs {
                    for m in &vs.matchers.matchers {
                        if m.name != NAME && matches!(m.op, promql_parser::label::MatchOp::Equal) {
                            labels.insert(m.name.clone(), m.value.clone());
                        }
                    }
                }
                Ok(Value::Vector(vec![Sample {
                    labels: Arc::new(labels),
                    value: 1.0,
                }]))
            }
            "stddev_over_time" => over_time(&|p| welford_var(p).sqrt(), false),
            "stdvar_over_time" => over_time(&welford_var, false),
            "present_over_time" => over_time(&|_| 1.0, false),
            "quantile_over_time" => {
                let q = self.scalar_arg(arg(0)?, t, "quantile_over_time's φ")?;
                let ms = matrix_arg(1)?;
                Ok(Value::Vector(
                    self.matrix(ms, t)?
                        .into_iter()
                        .map(|(s, pts)| Sample {
                            labels: s.unnamed.clone(),
                            value: quantile(q, pts.iter().map(|p| p.1).collect()),
                        })
                        .collect(),
                ))
            }
            "last_over_time" => over_time(&|p| p.last().map_or(f64::NAN, |(_, v)| *v), true),
            "abs" => map_vec(&f64::abs),
            "ceil" => map_vec(&f64::ceil),
            "floor" => map_vec(&f64::floor),
            "exp" => map_vec(&f64::exp),
            "ln" => map_vec(&f64::ln),
            "log2" => map_vec(&f64::log2),
            "log10" => map_vec(&f64::log10),
            "sqrt" => map_vec(&f64::sqrt),
            "sgn" => map_vec(&|v: f64| {
                if v > 0.0 {
                    1.0
                } else if v < 0.0 {
                    -1.0
                } else {
                    v
                }
            }),
            "idelta" => {
                let ms = matrix_arg(0)?;
                Ok(Value::Vector(
                    self.matrix(ms, t)?
                        .into_iter()
                        .filter(|(_, pts)| pts.len() >= 2)
                        .map(|(s, pts)| Sample {
                            labels: s.unnamed.clone(),
                            value: pts[pts.len() - 1].1 - pts[pts.len() - 2].1,
                        })
                        .collect(),
                ))
            }
            "changes" => over_time(
                &|p| {
                    p.windows(2)
                        .filter(|w| w[0].1 != w[1].1 && !(w[0].1.is_nan() && w[1].1.is_nan()))
                        .count() as f64
                },
                false,
            ),
            "resets" => over_time(
                &|p| p.windows(2).filter(|w| w[1].1 < w[0].1).count() as f64,
                false,
            ),
            "clamp" => {
                let lo = self.scalar_arg(arg(1)?, t, "clamp's min")?;
                let hi = self.scalar_arg(arg(2)?, t, "clamp's max")?;
                if hi < lo {
                    return Ok(Value::Vector(Vec::new()));
                }
                map_vec(&|v| v.max(lo).min(hi))
            }
            "clamp_min" => {
                let lo = self.scalar_arg(arg(1)?, t, "clamp_min's min")?;
                map_vec(&|v| v.max(lo))
            }
            "clamp_max" => {
                let hi = self.scalar_arg(arg(1)?, t, "clamp_max's max")?;
                map_vec(&|v| v.min(hi))
            }
            "scalar" => {
                let v = self.vector_arg(arg(0)?, t, "scalar's argument")?;
                Ok(Value::Scalar(if v.len() == 1 {
                    v[0].value
                } else {
                    f64::NAN
                }))
            }
            "vector" => Ok(Value::Vector(vec![Sample {
                labels: Arc::new(Labels::new()),
                value: self.scalar_arg(arg(0)?, t, "vector's argument")?,
            }])),
            "time" => Ok(Value::Scalar(t as f64 / 1e3)),
            "label_replace" => {
                let v = self.vector_arg(arg(0)?, t, "label_replace's first argument")?;
                let dst = self.string_arg(arg(1)?, t, "label_replace's destination label")?;
                let repl = self.string_arg(arg(2)?, t, "label_replace's replacement")?;
                let src = self.string_arg(arg(3)?, t, "label_replace's source label")?;
                let re = self.string_arg(arg(4)?, t, "label_replace's regex")?;
                let re = Regex::new(&format!("^(?s:{re})$")).map_err(|e| {
                    PromqlError::Execution(format!("label_replace: invalid regex {re:?}: {e}"))
                })?;
                Ok(Value::Vector(
                    v.into_iter()
                        .map(|mut s| {
                            let val = s.labels.get(&src).cloned().unwrap_or_default();
                            if let Some(caps) = re.captures(&val) {
                                let mut out = String::new();
                                caps.expand(&repl, &mut out);
                                let labels = Arc::make_mut(&mut s.labels);
                                if out.is_empty() {
                                    labels.remove(&dst);
                                } else {
                                    labels.insert(dst.clone(), out);
                                }
                            }
                            s
                        })
                        .collect(),
                ))
            }
            "histogram_quantile" => {
                let q = self.scalar_arg(arg(0)?, t, "histogram_quantile's quantile")?;
                let v = self.vector_arg(arg(1)?, t, "histogram_quantile's buckets")?;
                let node = c as *const Call as usize;
                let mut groups: ByGroup<Vec<(f64, f64)>> = ByGroup::new();
                for s in v {
                    let Some((group, upper)) =
                        self.derived.bucket(node, &s.labels, |le| parse_le(le).ok())
                    else {
                        continue;
                    };
                    groups.entry(group, Vec::new).push((upper, s.value));
                }
                Ok(Value::Vector(
                    groups
                        .into_sorted()
                        .into_iter()
                        .map(|(labels, buckets)| Sample {
                            labels,
                            value: bucket_quantile(q, buckets),
                        })
                        .collect(),
                ))
            }
            other => Err(PromqlError::Unsupported(format!("function `{other}`"))),
        }
    }
}

/// Least-squares slope (per second) and intercept at `intercept_t` (ms), with compensated
/// sums, as Prometheus's `linearRegression`; a constant series has slope 0.
fn linear_regression(p: &[(i64, f64)], intercept_t: i64) -> (f64, f64) {
    let init = p[0].1;
    if p.iter().all(|(_, v)| *v == init) {
        if init.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init);
    }
    let (mut n, mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    for (t, v) in p {
        n += 1.0;
        let x = (t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(*v, sy, cy);
        (sxy, cxy) = kahan_inc(x * v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

fn drop_nan_samples(v: Value) -> Value {
    match v {
        Value::Vector(s) => Value::Vector(s.into_iter().filter(|s| !s.value.is_nan()).collect()),
        other => other,
    }
}

/// Population variance of a window's values (Welford's method).
fn welford_var(p: &[(i64, f64)]) -> f64 {
    let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
    for (_, v) in p {
        n += 1.0;
        let delta = v - mean;
        mean += delta / n;
        m2 += delta * (v - mean);
    }
    m2 / n
}

fn kahan_sum(vals: impl Iterator<Item = f64>) -> f64 {
    let (s, c) = vals.fold((0.0, 0.0), |(s, c), v| kahan_inc(v, s, c));
    s + c
}

/// Prometheus's `extrapolatedRate` (promql/functions.go, 2.x): the increase between the first
/// and last sample (plus counter resets), extrapolated towards the window's edges when the
/// samples come close enough to them, and never below a counter's zero point.
pub(crate) fn extrapolated_rate(
    pts: &[(i64, f64)],
    range_start: i64,
    range_end: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let (first_t, first_v) = pts[0];
    let (last_t, last_v) = pts[pts.len() - 1];
    let mut result = last_v - first_v;
    if is_counter {
        let mut prev = first_v;
        for (_, v) in &pts[1..] {
            if *v < prev {
                result += prev;
            }
            prev = *v;
        }
    }
    let mut to_start = (first_t - range_start) as f64 / 1e3;
    let to_end = (range_end - last_t) as f64 / 1e3;
    let sampled = (last_t - first_t) as f64 / 1e3;
    let avg_gap = sampled / (pts.len() - 1) as f64;
    if is_counter && result > 0.0 && first_v >= 0.0 {
        let to_zero = sampled * (first_v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = avg_gap * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        avg_gap / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        avg_gap / 2.0
    };
    let mut factor = interval / sampled;
    if is_rate {
        factor /= (range_end - range_start) as f64 / 1e3;
    }
    Some(result * factor)
}

/// `irate`: the per-second change between the last two samples; a drop is a counter reset.
fn irate(pts: &[(i64, f64)]) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let (t1, v1) = pts[pts.len() - 2];
    let (t2, v2) = pts[pts.len() - 1];
    let dt = (t2 - t1) as f64 / 1e3;
    if dt == 0.0 {
        return None;
    }
    let d = if v2 < v1 { v2 } else { v2 - v1 };
    Some(d / dt)
}

fn parse_le(s: &str) -> Result<f64, std::num::ParseFloatError> {
    match s.trim() {
        "+Inf" | "Inf" | "+inf" | "inf" => Ok(f64::INFINITY),
        "-Inf" | "-inf" => Ok(f64::NEG_INFINITY),
        other => other.parse(),
    }
}

/// Prometheus's `bucketQuantile` for classic histograms: `(upper bound, cumulative count)`.
pub(crate) fn bucket_quantile(q: f64, mut buckets: Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    // Coalesce equal bounds, then force cumulative counts to be monotonic.
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for (ub, c) in buckets {
        match merged.last_mut() {
            Some(last) if last.0 == ub => last.1 += c,
            _ => merged.push((ub, c)),
        }
    }
    let mut max = f64::NEG_INFINITY;
    for b in &mut merged {
        if b.1 > max {
            max = b.1;
        } else if b.1 < max {
            b.1 = max;
        }
    }
    if merged.len() < 2 {
        return f64::NAN;
    }
    let observations = merged[merged.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let n = merged.len();
    let b = merged[..n - 1].partition_point(|x| x.1 < rank);
    if b == n - 1 {
        return merged[n - 2].0;
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return merged[0].0;
    }
    let mut start = 0.0;
    let end = merged[b].0;
    let mut count = merged[b].1;
    if b > 0 {
        start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    start + (end - start) * (rank / count)
}
