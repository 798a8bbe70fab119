//! The evaluator: loads each selector's samples once for the whole query range, then evaluates
//! the expression at every step, like Prometheus's engine does.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use promql_parser::label::Matcher;
use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_AVG, T_BOTTOMK, T_COUNT, T_DIV, T_EQLC, T_GROUP, T_GTE, T_GTR, T_LAND, T_LOR,
    T_LSS, T_LTE, T_MAX, T_MIN, T_MOD, T_MUL, T_NEQ, T_POW, T_QUANTILE, T_STDDEV, T_STDVAR, T_SUB,
    T_SUM, T_TOPK, TokenType,
};
use promql_parser::parser::{
    AggregateExpr, AtModifier, BinaryExpr, Call, Expr, LabelModifier, MatrixSelector, SubqueryExpr,
    VectorMatchCardinality, VectorSelector,
};
use regex::Regex;

use super::{LOOKBACK_MS, PromqlError, SeriesSource, all_matchers, offset_ms, select};
use crate::model::{Labels, Series};
use crate::store::STALE_NAN_BITS;

const NAME: &str = "__name__";

/// A subquery's step when it names none (Prometheus's default evaluation interval).
const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// What a range function reads: a range selector, or a subquery.
#[derive(Clone, Copy)]
enum RangeArg<'e> {
    Selector(&'e MatrixSelector),
    Subquery(&'e SubqueryExpr),
}

/// Each series of a range argument with its samples in one window.
type Window<'a> = Vec<(Cow<'a, Loaded>, Cow<'a, [(i64, f64)]>)>;

/// A `*_over_time` reduction of one window's samples.
type RangeFn = dyn Fn(&[(i64, f64)]) -> f64;

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// What an expression evaluates to at one instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(f64),
    Vector(Vec<Sample>),
    String(String),
}

/// A loaded series: millisecond timestamps and values, staleness markers kept.
#[derive(Clone)]
struct Loaded {
    labels: Labels,
    /// `labels` without `__name__`, computed once: most functions return it at every step.
    unnamed: Labels,
    pts: Vec<(i64, f64)>,
    /// Whether any sample is a staleness marker (else windows are borrowed, not filtered).
    has_stale: bool,
}

impl Loaded {
    /// The samples in `[from, to]`.
    fn window(&self, from: i64, to: i64) -> &[(i64, f64)] {
        let lo = self.pts.partition_point(|p| p.0 < from);
        let hi = self.pts.partition_point(|p| p.0 <= to);
        &self.pts[lo..hi.max(lo)]
    }
}

fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

struct Evaluator {
    /// Loaded series per selector, keyed by the selector's text (offset included).
    data: HashMap<String, Vec<Loaded>>,
    /// Query start and end, for `@ start()` / `@ end()` checks and `time()`.
    start: i64,
    end: i64,
}

/// The instant a selector reads at when the query evaluates at `t`: `t`, or its `@` time,
/// minus its offset.
fn ref_time(vs: &VectorSelector, t: i64, start: i64, end: i64) -> i64 {
    let base = match &vs.at {
        None => t,
        Some(AtModifier::Start) => start,
        Some(AtModifier::End) => end,
        Some(AtModifier::At(at)) => match at.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i64,
            Err(e) => -(e.duration().as_millis() as i64),
        },
    };
    base - offset_ms(&vs.offset)
}

pub(super) fn range(
    source: &mut dyn SeriesSource,
    expr: &Expr,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Vec<Series>, PromqlError> {
    check_supported(expr)?;
    let ev = Evaluator::load(source, expr, start, end)?;
    let mut out: HashMap<Labels, Vec<(f64, f64)>> = HashMap::new();
    let mut t = start;
    while t <= end {
        match ev.eval(expr, t)? {
            Value::Scalar(v) => out
                .entry(Labels::new())
                .or_default()
                .push((t as f64 / 1e3, v)),
            Value::Vector(samples) => {
                check_unique(&samples)?;
                for s in samples {
                    out.entry(s.labels)
                        .or_default()
                        .push((t as f64 / 1e3, s.value));
                }
            }
            Value::String(_) => {
                return Err(PromqlError::Execution(
                    "a range query needs a vector or scalar expression, not a string".into(),
                ));
            }
        }
        t += step;
    }
    let mut series: Vec<Series> = out
        .into_iter()
        .map(|(labels, points)| Series { labels, points })
        .collect();
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(series)
}

pub(super) fn instant(
    source: &mut dyn SeriesSource,
    expr: &Expr,
    t: i64,
) -> Result<Value, PromqlError> {
    check_supported(expr)?;
    if let Expr::MatrixSelector(_) = expr {
        return Err(PromqlError::Unsupported(
            "a range vector as the result of a query".into(),
        ));
    }
    let ev = Evaluator::load(source, expr, t, t)?;
    let mut v = ev.eval(expr, t)?;
    if let Value::Vector(samples) = &mut v {
        check_unique(samples)?;
        samples.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    Ok(v)
}

fn check_unique(samples: &[Sample]) -> Result<(), PromqlError> {
    let mut seen = std::collections::BTreeSet::new();
    for s in samples {
        if !seen.insert(&s.labels) {
            return Err(PromqlError::Execution(format!(
                "vector cannot contain metrics with the same labelset {}",
                fmt_labels(&s.labels)
            )));
        }
    }
    Ok(())
}

pub(crate) fn fmt_labels(l: &Labels) -> String {
    let name = l.get(NAME).cloned().unwrap_or_default();
    let rest: Vec<String> = l
        .iter()
        .filter(|(k, _)| *k != NAME)
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{name}{{{}}}", rest.join(", "))
}

/// Rejects what the evaluator does not implement before any data is read.
fn check_supported(expr: &Expr) -> Result<(), PromqlError> {
    let un = |s: String| Err(PromqlError::Unsupported(s));
    match expr {
        Expr::VectorSelector(vs) => check_selector(vs),
        Expr::MatrixSelector(ms) => check_selector(&ms.vs),
        Expr::Subquery(sq) => {
            if sq.at.is_some() {
                return un(format!("the @ modifier on a subquery ({expr})"));
            }
            check_supported(&sq.expr)
        }
        Expr::Extension(_) => un("extension expression".into()),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Ok(()),
        Expr::Paren(p) => check_supported(&p.expr),
        Expr::Unary(u) => check_supported(&u.expr),
        Expr::Aggregate(a) => {
            let op = a.op.id();
            if ![
                T_SUM, T_AVG, T_MIN, T_MAX, T_COUNT, T_TOPK, T_BOTTOMK, T_GROUP, T_STDDEV,
                T_STDVAR, T_QUANTILE,
            ]
            .contains(&op)
            {
                return un(format!("aggregation `{}`", a.op));
            }
            check_supported(&a.expr)?;
            if let Some(p) = &a.param {
                check_supported(p)?;
            }
            Ok(())
        }
        Expr::Binary(b) => {
            if let Some(m) = &b.modifier
                && (m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some())
            {
                return un("fill values in vector matching".into());
            }
            check_supported(&b.lhs)?;
            check_supported(&b.rhs)
        }
        Expr::Call(c) => {
            if !SUPPORTED_FUNCTIONS.contains(&c.func.name) {
                return un(format!("function `{}`", c.func.name));
            }
            c.args.args.iter().try_for_each(|a| check_supported(a))
        }
    }
}

fn check_selector(vs: &VectorSelector) -> Result<(), PromqlError> {
    all_matchers(vs).map(|_| ())
}

/// Functions the evaluator implements.
pub const SUPPORTED_FUNCTIONS: &[&str] = &[
    "rate",
    "irate",
    "increase",
    "delta",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "histogram_quantile",
    "abs",
    "clamp",
    "clamp_min",
    "clamp_max",
    "label_replace",
    "scalar",
    "vector",
    "time",
    "idelta",
    "deriv",
    "predict_linear",
    "absent",
    "absent_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "present_over_time",
    "quantile_over_time",
    "changes",
    "resets",
    "ceil",
    "floor",
    "exp",
    "ln",
    "log2",
    "log10",
    "sqrt",
    "sgn",
];

impl Evaluator {
    fn load(
        source: &mut dyn SeriesSource,
        expr: &Expr,
        start: i64,
        end: i64,
    ) -> Result<Evaluator, PromqlError> {
        let mut data = HashMap::new();
        let mut wanted: Vec<Wanted> = Vec::new();
        collect(expr, &mut wanted);
        // One load per selector, over the widest window any of its uses needs.
        let mut widest: HashMap<String, (&VectorSelector, i64, i64)> = HashMap::new();
        for (key, vs, range, before, late) in wanted {
            let from = ref_time(vs, start - before, start, end) - range;
            let to = ref_time(vs, end - late, start, end);
            let e = widest.entry(key).or_insert((vs, from, to));
            e.1 = e.1.min(from);
            e.2 = e.2.max(to);
        }
        for (key, (vs, from, to)) in widest {
            let matchers: Vec<Matcher> = all_matchers(vs)?;
            let raw = select(
                source,
                &matchers,
                from.saturating_mul(1_000_000),
                // Store timestamps are nanoseconds; a sample at t ms + 0.5 ms is still at t ms.
                to.saturating_mul(1_000_000) + 999_999,
            )?;
            let loaded = raw
                .into_iter()
                .map(|s| {
                    let pts: Vec<(i64, f64)> = s
                        .samples
                        .iter()
                        .map(|(t, v)| (t.div_euclid(1_000_000), *v))
                        .collect();
                    Loaded {
                        unnamed: drop_name(s.labels.clone()),
                        labels: s.labels,
                        has_stale: pts.iter().any(|p| is_stale(p.1)),
                        pts,
                    }
                })
                .collect();
            data.insert(key, loaded);
        }
        Ok(Evaluator { data, start, end })
    }

    fn series(&self, vs: &VectorSelector) -> &[Loaded] {
        self.data
            .get(&vs.to_string())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn eval(&self, expr: &Expr, t: i64) -> Result<Value, PromqlError> {
        match expr {
            Expr::NumberLiteral(n) => Ok(Value::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(Value::String(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t),
            Expr::VectorSelector(vs) => Ok(Value::Vector(self.instant_selector(vs, t))),
            Expr::MatrixSelector(_) => Err(PromqlError::Execution(
                "a range vector can only be a function argument, e.g. rate(x[5m])".into(),
            )),
            Expr::Unary(u) => Ok(match self.eval(&u.expr, t)? {
                Value::Scalar(v) => Value::Scalar(-v),
                Value::Vector(samples) => Value::Vector(
                    samples
                        .into_iter()
                        .map(|s| Sample {
                            labels: drop_name(s.labels),
                            value: -s.value,
                        })
                        .collect(),
                ),
                Value::String(s) => Value::String(s),
            }),
            Expr::Aggregate(a) => self.aggregate(a, t),
            Expr::Binary(b) => self.binary(b, t),
            Expr::Call(c) => self.call(c, t),
            Expr::Subquery(_) => Err(PromqlError::Execution(format!(
                "a subquery ({expr}) can only be a function argument, e.g. max_over_time({expr})"
            ))),
            Expr::Extension(_) => Err(PromqlError::Unsupported(format!("{expr}"))),
        }
    }

    fn instant_selector(&self, vs: &VectorSelector, t: i64) -> Vec<Sample> {
        let ref_t = ref_time(vs, t, self.start, self.end);
        self.series(vs)
            .iter()
            .filter_map(|s| {
                let v = s.window(ref_t - LOOKBACK_MS, ref_t).last()?.1;
                (!is_stale(v)).then(|| Sample {
                    labels: s.labels.clone(),
                    value: v,
                })
            })
            .collect()
    }

    /// For each series of a range argument, its non-stale samples in the range at `t`.
    fn matrix<'a>(&'a self, arg: RangeArg<'_>, t: i64) -> Result<Window<'a>, PromqlError> {
        let ms = match arg {
            RangeArg::Selector(ms) => ms,
            RangeArg::Subquery(sq) => {
                return Ok(self
                    .subquery(sq, t)?
                    .into_iter()
                    .map(|mut s| {
                        let pts = std::mem::take(&mut s.pts);
                        (Cow::Owned(s), Cow::Owned(pts))
                    })
                    .collect());
            }
        };
        let ref_t = ref_time(&ms.vs, t, self.start, self.end);
        let range = ms.range.as_millis() as i64;
        Ok(self
            .series(&ms.vs)
            .iter()
            .filter_map(move |s| {
                let w = s.window(ref_t - range, ref_t);
                let pts = if s.has_stale {
                    Cow::Owned(w.iter().copied().filter(|p| !is_stale(p.1)).collect())
                } else {
                    Cow::Borrowed(w)
                };
                (!pts.is_empty()).then_some((Cow::Borrowed(s), pts))
            })
            .collect())
    }

    /// A subquery at `t`: its expression evaluated at the multiples of its step in
    /// `[t - offset - range, t - offset]`, one series per label set.
    fn subquery(&self, sq: &SubqueryExpr, t: i64) -> Result<Vec<Loaded>, PromqlError> {
        let step = sq
            .step
            .map(|d| d.as_millis() as i64)
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_SUBQUERY_STEP_MS);
        let end = t - offset_ms(&sq.offset);
        let start = end - sq.range.as_millis() as i64;
        let mut ti = start.div_euclid(step) * step;
        if ti < start {
            ti += step;
        }
        let mut out: HashMap<Labels, Vec<(i64, f64)>> = HashMap::new();
        while ti <= end {
            match self.eval(&sq.expr, ti)? {
                Value::Vector(v) => {
                    for s in v {
                        out.entry(s.labels).or_default().push((ti, s.value));
                    }
                }
                Value::Scalar(v) => out.entry(Labels::new()).or_default().push((ti, v)),
                Value::String(_) => {
                    return Err(PromqlError::Execution(
                        "a subquery needs a vector or scalar expression".into(),
                    ));
                }
            }
            ti += step;
        }
        let mut series: Vec<Loaded> = out
            .into_iter()
            .map(|(labels, pts)| Loaded {
                unnamed: drop_name(labels.clone()),
                labels,
                has_stale: false,
                pts,
            })
            .collect();
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(series)
    }

    fn scalar_arg(&self, e: &Expr, t: i64, what: &str) -> Result<f64, PromqlError> {
        match self.eval(e, t)? {
            Value::Scalar(v) => Ok(v),
            _ => Err(PromqlError::Execution(format!("{what} must be a scalar"))),
        }
    }

    fn vector_arg(&self, e: &Expr, t: i64, what: &str) -> Result<Vec<Sample>, PromqlError> {
        match self.eval(e, t)? {
            Value::Vector(v) => Ok(v),
            _ => Err(PromqlError::Execution(format!(
                "{what} must be an instant vector"
            ))),
        }
    }

    fn string_arg(&self, e: &Expr, t: i64, what: &str) -> Result<String, PromqlError> {
        match self.eval(e, t)? {
            Value::String(v) => Ok(v),
            _ => Err(PromqlError::Execution(format!("{what} must be a string"))),
        }
    }

    fn call(&self, c: &Call, t: i64) -> Result<Value, PromqlError> {
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
                Ok(Value::Vector(vec![Sample { labels, value: 1.0 }]))
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
                labels: Labels::new(),
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
                                if out.is_empty() {
                                    s.labels.remove(&dst);
                                } else {
                                    s.labels.insert(dst.clone(), out);
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
                let mut groups: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
                for s in v {
                    let Some(le) = s.labels.get("le") else {
                        continue;
                    };
                    let Ok(upper) = parse_le(le) else {
                        continue;
                    };
                    let mut labels = drop_name(s.labels);
                    labels.remove("le");
                    groups.entry(labels).or_default().push((upper, s.value));
                }
                Ok(Value::Vector(
                    groups
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

    fn aggregate(&self, a: &AggregateExpr, t: i64) -> Result<Value, PromqlError> {
        let op = a.op.id();
        let input = self.vector_arg(&a.expr, t, &format!("{}'s argument", a.op))?;
        let group_labels = |l: &Labels| -> Labels {
            match &a.modifier {
                None => Labels::new(),
                Some(LabelModifier::Include(by)) => l
                    .iter()
                    .filter(|(k, _)| by.labels.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                Some(LabelModifier::Exclude(without)) => l
                    .iter()
                    .filter(|(k, _)| *k != NAME && !without.labels.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            }
        };
        if op == T_TOPK || op == T_BOTTOMK {
            let Some(param) = &a.param else {
                return Err(PromqlError::Execution(format!("{} needs k", a.op)));
            };
            let k = self.scalar_arg(param, t, "k")?;
            if k.is_nan() || k < 1.0 {
                return Ok(Value::Vector(Vec::new()));
            }
            let k = k.min(usize::MAX as f64) as usize;
            let mut groups: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
            for s in input {
                groups.entry(group_labels(&s.labels)).or_default().push(s);
            }
            let top = op == T_TOPK;
            let mut out = Vec::new();
            for (_, mut g) in groups {
                // NaN sorts last for both topk and bottomk, as in Prometheus.
                g.sort_by(|x, y| {
                    let (a, b) = (x.value, y.value);
                    match (a.is_nan(), b.is_nan()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => std::cmp::Ordering::Greater,
                        (false, true) => std::cmp::Ordering::Less,
                        _ if top => b.total_cmp(&a),
                        _ => a.total_cmp(&b),
                    }
                });
                out.extend(g.into_iter().take(k));
            }
            return Ok(Value::Vector(out));
        }
        let q = match (&a.param, op == T_QUANTILE) {
            (Some(p), true) => self.scalar_arg(p, t, "quantile's φ")?,
            _ => f64::NAN,
        };
        // (sum with compensation, count, min, max, incremental mean, Welford mean and
        // squared deviations, values for quantile)
        struct Acc {
            sum: f64,
            c: f64,
            n: f64,
            min: f64,
            max: f64,
            mean: f64,
            wmean: f64,
            m2: f64,
            vals: Vec<f64>,
        }
        let mut groups: BTreeMap<Labels, Acc> = BTreeMap::new();
        for s in input {
            let v = s.value;
            let acc = groups.entry(group_labels(&s.labels)).or_insert(Acc {
                sum: 0.0,
                c: 0.0,
                n: 0.0,
                min: f64::NAN,
                max: f64::NAN,
                mean: 0.0,
                wmean: 0.0,
                m2: 0.0,
                vals: Vec::new(),
            });
            acc.n += 1.0;
            (acc.sum, acc.c) = kahan_inc(v, acc.sum, acc.c);
            if acc.min.is_nan() || v < acc.min {
                acc.min = v;
            }
            if acc.max.is_nan() || v > acc.max {
                acc.max = v;
            }
            acc.mean += v / acc.n - acc.mean / acc.n;
            let delta = v - acc.wmean;
            acc.wmean += delta / acc.n;
            acc.m2 += delta * (v - acc.wmean);
            if op == T_QUANTILE {
                acc.vals.push(v);
            }
        }
        Ok(Value::Vector(
            groups
                .into_iter()
                .map(|(labels, acc)| Sample {
                    labels,
                    value: match op {
                        x if x == T_SUM => acc.sum + acc.c,
                        x if x == T_AVG => acc.mean,
                        x if x == T_COUNT => acc.n,
                        x if x == T_MIN => acc.min,
                        x if x == T_GROUP => 1.0,
                        x if x == T_STDVAR => acc.m2 / acc.n,
                        x if x == T_STDDEV => (acc.m2 / acc.n).sqrt(),
                        x if x == T_QUANTILE => quantile(q, acc.vals),
                        _ => acc.max,
                    },
                })
                .collect(),
        ))
    }

    fn binary(&self, b: &BinaryExpr, t: i64) -> Result<Value, PromqlError> {
        let op = b.op;
        let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        let comparison = op.is_comparison_operator();
        let drop = return_bool || !comparison;
        let lhs = self.eval(&b.lhs, t)?;
        let rhs = self.eval(&b.rhs, t)?;
        if op.is_set_operator() {
            return match (lhs, rhs) {
                (Value::Vector(l), Value::Vector(r)) => Ok(Value::Vector(set_op(b, l, r))),
                _ => Err(PromqlError::Execution(format!(
                    "set operator `{op}` needs instant vectors on both sides"
                ))),
            };
        }
        match (lhs, rhs) {
            (Value::Scalar(l), Value::Scalar(r)) => {
                let (v, keep) = apply(&op, l, r)?;
                Ok(Value::Scalar(if comparison {
                    if keep { 1.0 } else { 0.0 }
                } else {
                    v
                }))
            }
            (Value::Vector(l), Value::Scalar(r)) => {
                vector_scalar(&op, l, r, false, return_bool, drop).map(Value::Vector)
            }
            (Value::Scalar(l), Value::Vector(r)) => {
                vector_scalar(&op, r, l, true, return_bool, drop).map(Value::Vector)
            }
            (Value::Vector(l), Value::Vector(r)) => {
                let matching = b.modifier.as_ref().and_then(|m| m.matching.clone());
                let card = b
                    .modifier
                    .as_ref()
                    .map_or(VectorMatchCardinality::OneToOne, |m| m.card.clone());
                let sig = |labels: &Labels| signature(labels, matching.as_ref());
                // The "many" side is iterated; the "one" side is looked up by signature.
                let (many, one, swapped) = match &card {
                    VectorMatchCardinality::OneToMany(_) => (r, l, true),
                    _ => (l, r, false),
                };
                let mut lookup: HashMap<Vec<(String, String)>, Sample> = HashMap::new();
                for s in one {
                    let key = sig(&s.labels);
                    if lookup.contains_key(&key) {
                        return Err(PromqlError::Execution(format!(
                            "found duplicate series for the match group {} on the {} hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side",
                            fmt_labels(&s.labels),
                            if swapped { "left" } else { "right" }
                        )));
                    }
                    lookup.insert(key, s);
                }
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::new();
                for s in many {
                    let key = sig(&s.labels);
                    let Some(other) = lookup.get(&key) else {
                        continue;
                    };
                    if matches!(card, VectorMatchCardinality::OneToOne) && !seen.insert(key) {
                        return Err(PromqlError::Execution(format!(
                            "multiple matches for labels {}: many-to-one matching must be explicit (group_left/group_right)",
                            fmt_labels(&s.labels)
                        )));
                    }
                    let (vl, vr) = if swapped {
                        (other.value, s.value)
                    } else {
                        (s.value, other.value)
                    };
                    let (v, keep) = apply(&op, vl, vr)?;
                    let value = if return_bool {
                        if keep { 1.0 } else { 0.0 }
                    } else if !keep {
                        continue;
                    } else {
                        v
                    };
                    let mut labels = if drop { drop_name(s.labels) } else { s.labels };
                    match (&card, &matching) {
                        (VectorMatchCardinality::OneToOne, Some(LabelModifier::Include(on))) => {
                            labels.retain(|k, _| on.labels.contains(k));
                        }
                        (VectorMatchCardinality::OneToOne, Some(LabelModifier::Exclude(ign))) => {
                            labels.retain(|k, _| !ign.labels.contains(k));
                        }
                        (
                            VectorMatchCardinality::ManyToOne(include)
                            | VectorMatchCardinality::OneToMany(include),
                            _,
                        ) => {
                            // group_left(x): x comes from the "one" side.
                            for name in &include.labels {
                                match other.labels.get(name).filter(|v| !v.is_empty()) {
                                    Some(v) => labels.insert(name.clone(), v.clone()),
                                    None => labels.remove(name),
                                };
                            }
                        }
                        _ => {}
                    }
                    if !matches!(card, VectorMatchCardinality::OneToOne)
                        && !seen.insert(labels.clone().into_iter().collect())
                    {
                        return Err(PromqlError::Execution(format!(
                            "multiple matches for labels {}: grouping labels must ensure unique matches",
                            fmt_labels(&labels)
                        )));
                    }
                    out.push(Sample { labels, value });
                }
                Ok(Value::Vector(out))
            }
            _ => Err(PromqlError::Execution(format!(
                "operator `{op}` needs scalar or instant vector operands"
            ))),
        }
    }
}

/// Vector-matching signature: the `on` labels, or all but `ignoring`'s and `__name__`.
fn signature(labels: &Labels, matching: Option<&LabelModifier>) -> Vec<(String, String)> {
    labels
        .iter()
        .filter(|(k, _)| match matching {
            Some(LabelModifier::Include(on)) => on.labels.contains(k),
            Some(LabelModifier::Exclude(ign)) => *k != NAME && !ign.labels.contains(k),
            None => *k != NAME,
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `and`, `or`, `unless`: many-to-many, the left side's samples unchanged.
fn set_op(b: &BinaryExpr, l: Vec<Sample>, r: Vec<Sample>) -> Vec<Sample> {
    let matching = b.modifier.as_ref().and_then(|m| m.matching.as_ref());
    let op = b.op.id();
    if op == T_LOR {
        let left: std::collections::HashSet<_> =
            l.iter().map(|s| signature(&s.labels, matching)).collect();
        let mut out = l;
        out.extend(
            r.into_iter()
                .filter(|s| !left.contains(&signature(&s.labels, matching))),
        );
        return out;
    }
    let right: std::collections::HashSet<_> =
        r.iter().map(|s| signature(&s.labels, matching)).collect();
    let want = op == T_LAND;
    l.into_iter()
        .filter(|s| right.contains(&signature(&s.labels, matching)) == want)
        .collect()
}

fn vector_scalar(
    op: &TokenType,
    v: Vec<Sample>,
    s: f64,
    scalar_left: bool,
    return_bool: bool,
    drop: bool,
) -> Result<Vec<Sample>, PromqlError> {
    let mut out = Vec::with_capacity(v.len());
    for sample in v {
        let (l, r) = if scalar_left {
            (s, sample.value)
        } else {
            (sample.value, s)
        };
        let (mut value, keep) = apply(op, l, r)?;
        if op.is_comparison_operator() {
            // The vector's value is kept, whichever side it is on.
            value = sample.value;
        }
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        out.push(Sample {
            labels: if drop {
                drop_name(sample.labels)
            } else {
                sample.labels
            },
            value,
        });
    }
    Ok(out)
}

/// `(value, keep)` of `l op r`, as Prometheus's `vectorElemBinop`.
fn apply(op: &TokenType, l: f64, r: f64) -> Result<(f64, bool), PromqlError> {
    Ok(match op.id() {
        x if x == T_ADD => (l + r, true),
        x if x == T_SUB => (l - r, true),
        x if x == T_MUL => (l * r, true),
        x if x == T_DIV => (l / r, true),
        x if x == T_MOD => (l % r, true),
        x if x == T_POW => (l.powf(r), true),
        x if x == T_ATAN2 => (l.atan2(r), true),
        x if x == T_EQLC => (l, l == r),
        x if x == T_NEQ => (l, l != r),
        x if x == T_GTR => (l, l > r),
        x if x == T_LSS => (l, l < r),
        x if x == T_GTE => (l, l >= r),
        x if x == T_LTE => (l, l <= r),
        _ => return Err(PromqlError::Unsupported(format!("operator `{op}`"))),
    })
}

fn drop_name(mut l: Labels) -> Labels {
    l.remove(NAME);
    l
}

fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
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

/// Prometheus's `quantile`: linear interpolation between the closest ranks.
fn quantile(q: f64, mut vals: Vec<f64>) -> f64 {
    if vals.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    vals.sort_by(f64::total_cmp);
    let n = vals.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    vals[lower as usize] * (1.0 - weight) + vals[upper as usize] * weight
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

/// Every selector with the window it needs before `t` (the lookback, or its range), plus
/// how much earlier and later than the query's start and end enclosing subqueries evaluate.
fn collect<'a>(e: &'a Expr, out: &mut Vec<Wanted<'a>>) {
    collect_shifted(e, 0, 0, out)
}

/// (key, selector, window before t, evaluations start this much before the query's start,
/// and end this much before its end).
type Wanted<'a> = (String, &'a VectorSelector, i64, i64, i64);

fn collect_shifted<'a>(e: &'a Expr, before: i64, late: i64, out: &mut Vec<Wanted<'a>>) {
    let collect = |e: &'a Expr, out: &mut Vec<Wanted<'a>>| collect_shifted(e, before, late, out);
    match e {
        Expr::VectorSelector(vs) => out.push((vs.to_string(), vs, LOOKBACK_MS, before, late)),
        Expr::MatrixSelector(ms) => {
            out.push((
                ms.vs.to_string(),
                &ms.vs,
                ms.range.as_millis() as i64,
                before,
                late,
            ));
        }
        Expr::Subquery(sq) => {
            let off = offset_ms(&sq.offset);
            collect_shifted(
                &sq.expr,
                before + off + sq.range.as_millis() as i64,
                late + off,
                out,
            );
        }
        Expr::Aggregate(a) => {
            collect(&a.expr, out);
            if let Some(p) = &a.param {
                collect(p, out);
            }
        }
        Expr::Unary(u) => collect(&u.expr, out),
        Expr::Binary(b) => {
            collect(&b.lhs, out);
            collect(&b.rhs, out);
        }
        Expr::Paren(p) => collect(&p.expr, out),
        Expr::Call(c) => c.args.args.iter().for_each(|a| collect(a, out)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}
