//! The evaluator: loads each selector's samples once for the whole query range, then evaluates
//! the expression at every step, like Prometheus's engine does. Function calls are in
//! `eval/functions.rs`, binary operators and vector matching in `eval/binary.rs`.

mod binary;
mod functions;
mod groups;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use promql_parser::label::Matcher;
use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_GROUP, T_MAX, T_MIN, T_QUANTILE, T_STDDEV, T_STDVAR, T_SUM, T_TOPK,
};
use promql_parser::parser::{
    AggregateExpr, AtModifier, Call, Expr, LabelModifier, MatrixSelector, SubqueryExpr,
    VectorSelector,
};

use groups::ByGroup;

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
    /// Shared with the other steps' samples of the same series: a copy is a reference count,
    /// not a new map (a range query over hundreds of series copies them at every step).
    pub labels: Arc<Labels>,
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
    labels: Arc<Labels>,
    /// `labels` without `__name__`, computed once: most functions return it at every step.
    unnamed: Arc<Labels>,
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
    /// Selectors (keys of `data`) with two series whose labels are equal without `__name__`:
    /// only functions over those can produce a vector with a repeated label set.
    colliding: std::collections::HashSet<String>,
    /// Query start and end, for `@ start()` / `@ end()` checks and `time()`.
    start: i64,
    end: i64,
    /// Group label sets derived once per input label set, shared across steps.
    derived: groups::Derived,
}

/// The instant a selector reads at when the query evaluates at `t`: `t`, or its `@` time,
/// minus its offset.
pub(super) fn ref_time(vs: &VectorSelector, t: i64, start: i64, end: i64) -> i64 {
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
    let mut out = Collected::default();
    let mut t = start;
    while t <= end {
        match ev.eval(expr, t)? {
            Value::Scalar(v) => out.push(Arc::new(Labels::new()), (t as f64 / 1e3, v)),
            Value::Vector(samples) => {
                // Every operation that can repeat a label set checks its own result (see
                // `unique`), so a step's vector is known to hold each label set once.
                for s in samples {
                    out.push(s.labels, (t as f64 / 1e3, s.value));
                }
            }
            Value::String(_) => {
                return Err(PromqlError::Execution(
                    "a range query needs a vector or scalar expression, not a string".into(),
                ));
            }
        }
        ev.derived.trim();
        t += step;
    }
    let mut series: Vec<Series> = out
        .series
        .into_iter()
        .map(|(labels, points)| Series {
            labels: Arc::unwrap_or_clone(labels),
            points,
        })
        .collect();
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(series)
}

/// One output series' points: (unix seconds, value).
type Points = Vec<(f64, f64)>;

/// A range query's points per output series. Most steps return the same shared label sets
/// as the step before, so a series is found by the address of its labels first, and by their
/// contents only for a label set not seen before (an aggregation's new map, say).
#[derive(Default)]
struct Collected {
    series: Vec<(Arc<Labels>, Points)>,
    by_address: HashMap<usize, usize>,
    by_labels: HashMap<Arc<Labels>, usize>,
    /// Every label set whose address is in `by_address`, kept alive so that no other label
    /// set can ever be allocated at that address.
    addressed: Vec<Arc<Labels>>,
}

impl Collected {
    fn push(&mut self, labels: Arc<Labels>, point: (f64, f64)) {
        let address = Arc::as_ptr(&labels) as usize;
        let slot = match self.by_address.get(&address) {
            Some(&slot) => slot,
            None => {
                let slot = match self.by_labels.get(&labels) {
                    Some(&slot) => slot,
                    None => {
                        self.series.push((Arc::clone(&labels), Vec::new()));
                        self.by_labels
                            .insert(Arc::clone(&labels), self.series.len() - 1);
                        self.series.len() - 1
                    }
                };
                self.by_address.insert(address, slot);
                self.addressed.push(labels);
                slot
            }
        };
        self.series[slot].1.push(point);
    }
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

/// `samples`, unless two have the same label set: Prometheus's "vector cannot contain metrics
/// with the same labelset", raised where its engine raises it (a function's or unary minus's
/// result, a vector–scalar operation that dropped `__name__`, the query's result).
fn unique(samples: Vec<Sample>) -> Result<Vec<Sample>, PromqlError> {
    check_unique(&samples)?;
    Ok(samples)
}

fn check_unique(samples: &[Sample]) -> Result<(), PromqlError> {
    if samples.len() < 2 {
        return Ok(());
    }
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
        let mut colliding = std::collections::HashSet::new();
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
            let loaded: Vec<Loaded> = raw
                .into_iter()
                .map(|s| {
                    let pts: Vec<(i64, f64)> = s
                        .samples
                        .iter()
                        .map(|(t, v)| (t.div_euclid(1_000_000), *v))
                        .collect();
                    Loaded {
                        unnamed: drop_name(Arc::new(s.labels.clone())),
                        labels: Arc::new(s.labels),
                        has_stale: pts.iter().any(|p| is_stale(p.1)),
                        pts,
                    }
                })
                .collect();
            let mut unnamed = std::collections::HashSet::new();
            if !loaded.iter().all(|s| unnamed.insert(&s.unnamed)) {
                colliding.insert(key.clone());
            }
            data.insert(key, loaded);
        }
        Ok(Evaluator {
            data,
            colliding,
            start,
            end,
            derived: groups::Derived::default(),
        })
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
                Value::Vector(samples) => Value::Vector(unique(
                    samples
                        .into_iter()
                        .map(|s| Sample {
                            labels: drop_name(s.labels),
                            value: -s.value,
                        })
                        .collect(),
                )?),
                Value::String(s) => Value::String(s),
            }),
            Expr::Aggregate(a) => self.aggregate(a, t),
            Expr::Binary(b) => self.binary(b, t),
            Expr::Call(c) => match self.call(c, t)? {
                Value::Vector(v) if self.may_repeat_labels(c) => Ok(Value::Vector(unique(v)?)),
                other => Ok(other),
            },
            Expr::Subquery(_) => Err(PromqlError::Execution(format!(
                "a subquery ({expr}) can only be a function argument, e.g. max_over_time({expr})"
            ))),
            Expr::Extension(_) => Err(PromqlError::Unsupported(format!("{expr}"))),
        }
    }

    /// Whether a call's result can hold one label set twice: a function that drops `__name__`
    /// from series that differ only in it. Prometheus checks every function's result (its
    /// `rangeEval`); for range functions over a selector the loaded series tell in advance.
    fn may_repeat_labels(&self, c: &Call) -> bool {
        if c.func.name == "last_over_time" || c.func.name == "label_replace" {
            // Keeps `__name__`; label_replace can still merge series, so it is checked.
            return c.func.name == "label_replace";
        }
        let mut selector = None;
        for a in &c.args.args {
            let mut e: &Expr = a;
            while let Expr::Paren(p) = e {
                e = &p.expr;
            }
            match e {
                Expr::MatrixSelector(ms) => selector = Some(&ms.vs),
                Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
                _ => return true,
            }
        }
        selector.is_none_or(|vs| self.colliding.contains(&vs.to_string()))
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
        let mut out: HashMap<Arc<Labels>, Vec<(i64, f64)>> = HashMap::new();
        while ti <= end {
            match self.eval(&sq.expr, ti)? {
                Value::Vector(v) => {
                    for s in v {
                        out.entry(s.labels).or_default().push((ti, s.value));
                    }
                }
                Value::Scalar(v) => out
                    .entry(Arc::new(Labels::new()))
                    .or_default()
                    .push((ti, v)),
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

    fn aggregate(&self, a: &AggregateExpr, t: i64) -> Result<Value, PromqlError> {
        let op = a.op.id();
        let input = self.vector_arg(&a.expr, t, &format!("{}'s argument", a.op))?;
        let node = a as *const AggregateExpr as usize;
        let group_of = |l: &Arc<Labels>| -> Arc<Labels> {
            self.derived.group(node, l, |l| match &a.modifier {
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
            })
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
            let mut groups: ByGroup<Vec<Sample>> = ByGroup::new();
            for s in input {
                groups.entry(group_of(&s.labels), Vec::new).push(s);
            }
            let top = op == T_TOPK;
            let mut out = Vec::new();
            for (_, mut g) in groups.into_sorted() {
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
        let mut groups: ByGroup<Acc> = ByGroup::new();
        for s in input {
            let v = s.value;
            let acc = groups.entry(group_of(&s.labels), || Acc {
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
                .into_sorted()
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
}

/// `l` without `__name__` (the same map when it has none).
fn drop_name(l: Arc<Labels>) -> Arc<Labels> {
    if !l.contains_key(NAME) {
        return l;
    }
    let mut l = Arc::unwrap_or_clone(l);
    l.remove(NAME);
    Arc::new(l)
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

/// Every selector with the window it needs before `t` (the lookback, or its range), plus
/// how much earlier and later than the query's start and end enclosing subqueries evaluate.
pub(super) fn collect<'a>(e: &'a Expr, out: &mut Vec<Wanted<'a>>) {
    collect_shifted(e, 0, 0, out)
}

/// (key, selector, window before t, evaluations start this much before the query's start,
/// and end this much before its end).
pub(super) type Wanted<'a> = (String, &'a VectorSelector, i64, i64, i64);

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
