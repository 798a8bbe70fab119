//! Offline PromQL: evaluates PromQL over the metrics in an obs store, so that an investigation
//! answers from a store file what it would answer from Prometheus. See `docs/promql.md`.
//!
//! Parsing is `promql-parser`'s; this module owns evaluation only. It reads samples through
//! [`SeriesSource`] (the store, or hand-built series in tests) and does no other I/O.
//!
//! Semantics follow Prometheus 2.x (the version obs's parity tests run against): closed
//! `[t - range, t]` windows, a 5-minute lookback for instant selectors, staleness markers
//! ending a series, `extrapolatedRate` for `rate`/`increase`/`delta`, and `__name__` dropped
//! by functions and arithmetic. Anything outside the supported subset is an error that says
//! `not supported offline: <construct>`, never a silently different answer.

mod eval;
pub mod render;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{Expr, Offset, VectorSelector};

use crate::model::{Labels, Series};
use crate::store::{RawSeries, Store, StoreError};

pub use eval::{Sample, Value};

/// How far back an instant selector looks for a sample (Prometheus's default lookback delta).
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// Most steps a range query spans, as in Prometheus's `/api/v1/query_range`.
pub const MAX_POINTS: i64 = 11_000;

/// Why a query could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum PromqlError {
    #[error("invalid PromQL {query:?}: {message}")]
    Parse { query: String, message: String },
    #[error("not supported offline: {0}")]
    Unsupported(String),
    #[error("query failed: {0}")]
    Execution(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the evaluator reads samples from.
pub trait SeriesSource {
    /// Metric names (`__name__`) with samples in `[start, end]` (unix nanoseconds).
    fn metric_names(&mut self, start_ns: i64, end_ns: i64) -> Result<Vec<String>, StoreError>;
    /// Series named `name` with their samples in `[start, end]` (unix nanoseconds).
    fn series(
        &mut self,
        name: &str,
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<RawSeries>, StoreError>;
}

impl SeriesSource for Store {
    fn metric_names(&mut self, start_ns: i64, end_ns: i64) -> Result<Vec<String>, StoreError> {
        Store::metric_names(self, start_ns, end_ns)
    }

    fn series(
        &mut self,
        name: &str,
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<RawSeries>, StoreError> {
        Store::series(self, name, start_ns, end_ns)
    }
}

/// Series held in memory; what unit tests and benchmarks evaluate over.
#[derive(Debug, Clone, Default)]
pub struct MemorySource(pub Vec<RawSeries>);

impl SeriesSource for MemorySource {
    fn metric_names(&mut self, start_ns: i64, end_ns: i64) -> Result<Vec<String>, StoreError> {
        let names: BTreeSet<String> = self
            .0
            .iter()
            .filter(|s| {
                s.samples
                    .iter()
                    .any(|(t, _)| *t >= start_ns && *t <= end_ns)
            })
            .filter_map(|s| s.labels.get("__name__").cloned())
            .collect();
        Ok(names.into_iter().collect())
    }

    fn series(
        &mut self,
        name: &str,
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<RawSeries>, StoreError> {
        Ok(self
            .0
            .iter()
            .filter(|s| s.labels.get("__name__").map(String::as_str) == Some(name))
            .map(|s| RawSeries {
                labels: s.labels.clone(),
                samples: s
                    .samples
                    .iter()
                    .copied()
                    .filter(|(t, _)| *t >= start_ns && *t <= end_ns)
                    .collect(),
            })
            .filter(|s| !s.samples.is_empty())
            .collect())
    }
}

/// Parses `query`, mapping the parser's message into [`PromqlError::Parse`].
pub fn parse(query: &str) -> Result<Expr, PromqlError> {
    promql_parser::parser::parse(query).map_err(|message| PromqlError::Parse {
        query: query.to_string(),
        message,
    })
}

/// Evaluates `query` at `start, start + step, … ≤ end` (unix seconds), like Prometheus's
/// `/api/v1/query_range`: one [`Series`] per label set, ordered by labels. A scalar result
/// becomes one series with no labels.
pub fn query_range(
    source: &mut dyn SeriesSource,
    query: &str,
    start: f64,
    end: f64,
    step: f64,
) -> Result<Vec<Series>, PromqlError> {
    let expr = parse(query)?;
    let start_ms = secs_to_ms(start);
    let end_ms = secs_to_ms(end);
    let step_ms = secs_to_ms(step);
    if step_ms <= 0 {
        return Err(PromqlError::Execution(format!(
            "step must be positive, got {step}s"
        )));
    }
    if end_ms < start_ms {
        return Err(PromqlError::Execution(
            "end is before start; swap them".into(),
        ));
    }
    if (end_ms - start_ms) / step_ms > MAX_POINTS {
        return Err(PromqlError::Execution(format!(
            "exceeded maximum resolution of {MAX_POINTS} points per series: use a larger step than {step}s"
        )));
    }
    eval::range(source, &expr, start_ms, end_ms, step_ms)
}

/// Evaluates `query` at one instant (unix seconds), like `/api/v1/query`.
pub fn query_instant(
    source: &mut dyn SeriesSource,
    query: &str,
    time: f64,
) -> Result<Value, PromqlError> {
    let expr = parse(query)?;
    eval::instant(source, &expr, secs_to_ms(time))
}

pub(crate) fn secs_to_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

pub(crate) fn offset_ms(offset: &Option<Offset>) -> i64 {
    match offset {
        None => 0,
        Some(Offset::Pos(d)) => d.as_millis() as i64,
        Some(Offset::Neg(d)) => -(d.as_millis() as i64),
    }
}

/// The raw samples a range query over `[start, end]` (unix seconds) reads: each selector, as
/// PromQL without its `offset` and `@` (so that it selects the stored samples themselves), with
/// the window it needs in unix milliseconds, both ends inclusive. What `obs snapshot` fetches so
/// that the query can be evaluated offline over exactly those samples.
pub fn sample_windows(
    query: &str,
    start: f64,
    end: f64,
) -> Result<Vec<(String, i64, i64)>, PromqlError> {
    let expr = parse(query)?;
    let (start, end) = (secs_to_ms(start), secs_to_ms(end));
    let mut wanted = Vec::new();
    eval::collect(&expr, &mut wanted);
    // One window per selector, the widest any of its uses needs, as the evaluator loads it.
    let mut widest: Vec<(String, i64, i64)> = Vec::new();
    for (_, vs, range, before, late) in wanted {
        let from = eval::ref_time(vs, start - before, start, end) - range;
        let to = eval::ref_time(vs, end - late, start, end);
        let mut plain = vs.clone();
        plain.offset = None;
        plain.at = None;
        let key = plain.to_string();
        match widest.iter_mut().find(|w| w.0 == key) {
            Some(w) => {
                w.1 = w.1.min(from);
                w.2 = w.2.max(to);
            }
            None => widest.push((key, from, to)),
        }
    }
    Ok(widest)
}

/// The selectors (instant or inside a range) an expression reads.
pub fn selectors(expr: &Expr) -> Vec<&VectorSelector> {
    fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a VectorSelector>) {
        match e {
            Expr::VectorSelector(vs) => out.push(vs),
            Expr::MatrixSelector(ms) => out.push(&ms.vs),
            Expr::Aggregate(a) => {
                walk(&a.expr, out);
                if let Some(p) = &a.param {
                    walk(p, out);
                }
            }
            Expr::Unary(u) => walk(&u.expr, out),
            Expr::Binary(b) => {
                walk(&b.lhs, out);
                walk(&b.rhs, out);
            }
            Expr::Paren(p) => walk(&p.expr, out),
            Expr::Subquery(s) => walk(&s.expr, out),
            Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, out)),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }
    let mut out = Vec::new();
    walk(expr, &mut out);
    out
}

/// The matchers of a selector, its metric name included as a `__name__` matcher.
pub fn all_matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, PromqlError> {
    if !vs.matchers.or_matchers.is_empty() {
        return Err(PromqlError::Unsupported(format!(
            "`or` inside a selector ({vs})"
        )));
    }
    let mut out = vs.matchers.matchers.clone();
    if let Some(name) = &vs.name {
        out.push(Matcher::new(MatchOp::Equal, "__name__", name));
    }
    Ok(out)
}

/// Whether `labels` satisfy every matcher; a missing label matches as the empty string.
pub fn matches(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers
        .iter()
        .all(|m| m.is_match(labels.get(&m.name).map(String::as_str).unwrap_or("")))
}

/// The metric names a selector can select, from those the source has in `[start, end]`.
pub fn selected_names(
    source: &mut dyn SeriesSource,
    matchers: &[Matcher],
    start_ns: i64,
    end_ns: i64,
) -> Result<Vec<String>, PromqlError> {
    if let Some(m) = matchers
        .iter()
        .find(|m| m.name == "__name__" && matches!(m.op, MatchOp::Equal))
    {
        return Ok(vec![m.value.clone()]);
    }
    let name_matchers: Vec<&Matcher> = matchers.iter().filter(|m| m.name == "__name__").collect();
    Ok(source
        .metric_names(start_ns, end_ns)?
        .into_iter()
        .filter(|n| name_matchers.iter().all(|m| m.is_match(n)))
        .collect())
}

/// Every series a selector selects, with samples in `[start, end]` (unix nanoseconds).
pub fn select(
    source: &mut dyn SeriesSource,
    matchers: &[Matcher],
    start_ns: i64,
    end_ns: i64,
) -> Result<Vec<RawSeries>, PromqlError> {
    let mut out = Vec::new();
    for name in selected_names(source, matchers, start_ns, end_ns)? {
        out.extend(
            source
                .series(&name, start_ns, end_ns)?
                .into_iter()
                .filter(|s| matches(&s.labels, matchers)),
        );
    }
    Ok(out)
}
