//! The span tree of one trace: parent links resolved, odd data found and handled, self times and
//! the critical path computed once at [`build`], then queried many times by the renderers
//! (`report::waterfall`, the TUI, investigate's trace summaries).
//!
//! Pure: it takes a [`Trace`] and returns values. No I/O, no terminal, and it never panics or
//! loops forever on bad data — every traversal is iterative (a 100 000-deep chain of spans is
//! fine) and every odd thing is kept, handled and reported as an [`Anomaly`]:
//!
//! - a span whose parent is not in the trace (an *orphan*) is shown under the root;
//! - a repeated span id keeps the first span and drops the rest;
//! - parent links that form a cycle are broken at the earliest-starting span of the cycle,
//!   which is then treated like an orphan;
//! - a child that starts before or ends after its parent (clock skew between hosts, or async
//!   work) is kept where it is, and clipped to the parent for self time and the critical path;
//! - a span that ends before it starts is treated as zero-length at its start;
//! - several spans without a parent: the earliest-starting (then longest) is *the* root, the
//!   others are shown as roots after it. With no parentless span at all, the root is chosen the
//!   same way among the orphans, and orphans that share its missing parent become roots too
//!   (they are its siblings, not its children).
//!
//! Definitions (the user-facing version is `docs/traces.md`):
//! - **self time**: the span's duration minus the union of its children's intervals, each
//!   clipped to the span — as Jaeger UI's trace statistics define it.
//! - **critical path**: Jaeger UI's algorithm (jaeger-ui
//!   `packages/jaeger-ui/src/components/TracePage/CriticalPath/index.ts`, 2023–): children are
//!   first clipped to their (clipped) parent and dropped with their subtree when entirely
//!   outside it; then, starting at the root's end, the path descends into the *last-finishing
//!   child*; a span with no (further) child is on the path from its start back to where the
//!   walk entered it, and the walk returns to its parent at the span's start, where it takes the
//!   child that finished last at or before that instant (and started before it), and so on until
//!   the root's start. "At or before" is the inclusive bound of Jaeger's Go port
//!   (`cmd/jaeger/internal/extension/jaegerquery/internal/mcptools/internal/criticalpath/find_lfc.go`,
//!   jaegertracing/jaeger#9173): jaeger-ui's strict `<` skips a sibling that ends exactly when the
//!   next one starts, which is common (and happens in our own recorded incident trace). Stretches
//!   of zero length are left out, as in Jaeger; a zero-length root is its own critical path.
//!   The walk is only over the root's tree (orphans included, since they are shown under it).
//!
//! `build` resolves the tree (parents, anomalies, display order, self times); `critical` walks
//! the critical path over it; this module holds the types and the queries renderers make.

mod build;
mod critical;
#[cfg(test)]
pub(crate) mod testdata;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde::Serialize;

use crate::model::{Span, Trace};

/// One stretch of the critical path: span `span` itself (not one of its children) is what the
/// request was waiting for between `start_unix_nano` and `end_unix_nano`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CriticalSegment {
    /// Index into [`SpanTree::spans`].
    pub span: usize,
    pub start_unix_nano: i64,
    pub end_unix_nano: i64,
}

impl CriticalSegment {
    pub fn duration_nanos(&self) -> i64 {
        self.end_unix_nano.saturating_sub(self.start_unix_nano)
    }
}

/// Something odd in the trace data, and what was done about it. Serialized with a `kind` tag
/// (`"orphan"`, `"duplicate_span_id"`, …); [`Anomaly::message`] says it in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Anomaly {
    /// The span's parent is not in the trace (not received, dropped by sampling, or not yet
    /// flushed). Shown under the root, or as a root when the trace has no parentless span.
    Orphan {
        span_id: String,
        missing_parent: String,
        shown_as_root: bool,
    },
    /// Several spans carry the same span id: the first one is kept, `dropped` others are not
    /// in [`SpanTree::spans`]. `kept` names the kept span (`service operation`).
    DuplicateSpanId {
        span_id: String,
        kept: String,
        dropped: usize,
    },
    /// Parent links form a cycle (`span_ids` in parent order). The link of `broken_at` is
    /// ignored and that span is handled like an orphan.
    Cycle {
        span_ids: Vec<String>,
        broken_at: String,
    },
    /// The span starts before or ends after its parent by `by_nanos` (clock skew between hosts,
    /// or work that outlives its parent). Kept as it is; clipped to the parent for self time and
    /// the critical path.
    ChildOutsideParent {
        span_id: String,
        parent_id: String,
        by_nanos: i64,
    },
    /// The span starts and ends at the same instant.
    ZeroLength { span_id: String },
    /// The span ends `by_nanos` before it starts; treated as zero-length at its start.
    NegativeDuration { span_id: String, by_nanos: i64 },
    /// More than one span has no parent: `root` was chosen (earliest start, then longest), the
    /// `others` are shown as roots after it and are not on the critical path.
    MultipleRoots { root: String, others: Vec<String> },
}

impl Anomaly {
    /// The kind as serialized (`"orphan"`, …), for grouping.
    pub fn kind(&self) -> &'static str {
        match self {
            Anomaly::Orphan { .. } => "orphan",
            Anomaly::DuplicateSpanId { .. } => "duplicate_span_id",
            Anomaly::Cycle { .. } => "cycle",
            Anomaly::ChildOutsideParent { .. } => "child_outside_parent",
            Anomaly::ZeroLength { .. } => "zero_length",
            Anomaly::NegativeDuration { .. } => "negative_duration",
            Anomaly::MultipleRoots { .. } => "multiple_roots",
        }
    }

    /// What was odd and how it was handled, in one sentence.
    pub fn message(&self) -> String {
        match self {
            Anomaly::Orphan {
                span_id,
                missing_parent,
                shown_as_root,
            } => format!(
                "span {span_id}: its parent {missing_parent} is not in the trace; shown {}",
                if *shown_as_root {
                    "as a root (the trace has no root span)"
                } else {
                    "under the root"
                }
            ),
            Anomaly::DuplicateSpanId {
                span_id,
                kept,
                dropped,
            } => format!(
                "span id {span_id} appears {} times; kept the first ({kept}), dropped {dropped}",
                dropped.saturating_add(1)
            ),
            Anomaly::Cycle {
                span_ids,
                broken_at,
            } => format!(
                "parent links form a cycle ({}); broken at {broken_at}, whose parent link is ignored",
                span_ids.join(" → ")
            ),
            Anomaly::ChildOutsideParent {
                span_id,
                parent_id,
                by_nanos,
            } => format!(
                "span {span_id} runs {} outside its parent {parent_id} (clock skew or work that \
                 outlives its parent); kept, clipped to the parent for self time and critical path",
                format_nanos(*by_nanos)
            ),
            Anomaly::ZeroLength { span_id } => format!("span {span_id} has zero duration"),
            Anomaly::NegativeDuration { span_id, by_nanos } => format!(
                "span {span_id} ends {} before it starts; treated as zero-length",
                format_nanos(*by_nanos)
            ),
            Anomaly::MultipleRoots { root, others } => {
                const SHOWN: usize = 3;
                let mut list = others
                    .iter()
                    .take(SHOWN)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if others.len() > SHOWN {
                    list.push_str(&format!(", … {} more", others.len() - SHOWN));
                }
                format!(
                    "{} root spans; {root} (earliest start, then longest) is the root, the others \
                     ({list}) are shown as roots after it and left off the critical path",
                    others.len().saturating_add(1)
                )
            }
        }
    }
}

/// A duration for people: `850ns`, `12.3µs`, `4.56ms`, `1.822s`, `2m03s`, `1h02m`.
pub fn format_nanos(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let body = if n < 1_000 {
        format!("{n}ns")
    } else if n < 1_000_000 {
        format!("{}µs", three_digits(n as f64 / 1e3))
    } else if n < 1_000_000_000 {
        format!("{}ms", three_digits(n as f64 / 1e6))
    } else if n < 60_000_000_000 {
        format!("{}s", three_digits(n as f64 / 1e9))
    } else if n < 3_600_000_000_000 {
        let s = n / 1_000_000_000;
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        let m = n / 60_000_000_000;
        format!("{}h{:02}m", m / 60, m % 60)
    };
    format!("{sign}{body}")
}

/// About three significant digits, no trailing zeros: 1.82, 12.3, 456.
fn three_digits(x: f64) -> String {
    let s = if x < 10.0 {
        format!("{x:.2}")
    } else if x < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The tree of one trace, with everything the renderers ask for computed once.
///
/// Span indices (`usize`) are positions in [`SpanTree::spans`], which holds the trace's spans
/// in their input order minus dropped duplicates.
#[derive(Debug, Clone)]
pub struct SpanTree {
    trace_id: String,
    spans: Vec<Span>,
    /// `max(start, end)`: a span that ends before it starts is zero-length at its start.
    end: Vec<i64>,
    /// The parent in the tree as shown (orphans point at the root).
    parent: Vec<Option<usize>>,
    /// Whether the span hangs under the root only because its own parent is missing (or its
    /// link was cut to break a cycle).
    adopted: Vec<bool>,
    child_off: Vec<usize>,
    child_list: Vec<usize>,
    roots: Vec<usize>,
    order: Vec<usize>,
    depth: Vec<usize>,
    self_time: Vec<i64>,
    critical: Vec<CriticalSegment>,
    /// The critical segments again, grouped by span (`by_span[by_span_off[i]..by_span_off[i+1]]`).
    by_span_off: Vec<usize>,
    by_span: Vec<CriticalSegment>,
    critical_nanos: Vec<i64>,
    on_critical: Vec<bool>,
    anomalies: Vec<Anomaly>,
    start: i64,
    finish: i64,
}

/// Builds the tree of `trace` (clones its spans; use [`SpanTree::from_trace`] to move them).
pub fn build(trace: &Trace) -> SpanTree {
    SpanTree::from_trace(trace.clone())
}

/// The parent id a span names, if any. Empty and all-zero ids mean "no parent": OTLP/JSON
/// exporters write `""` and Zipkin/Jaeger-derived data writes zeros for a root.
fn parent_ref(span: &Span) -> Option<&str> {
    span.parent_span_id
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.bytes().all(|b| b == b'0'))
}

fn label(span: &Span) -> String {
    format!("{} {}", span.service, span.name)
}

impl SpanTree {
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// Top-level spans: the true root first, then other parentless spans by start time.
    pub fn roots(&self) -> &[usize] {
        &self.roots
    }

    /// The true root, if the trace has any span.
    pub fn root(&self) -> Option<usize> {
        self.roots.first().copied()
    }

    /// The spans, in input order minus dropped duplicates.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The index of the span with this id.
    pub fn find(&self, span_id: &str) -> Option<usize> {
        self.spans.iter().position(|s| s.span_id == span_id)
    }

    /// Children as shown, ordered by start time. Empty for an index out of range.
    pub fn children(&self, i: usize) -> &[usize] {
        match (self.child_off.get(i), self.child_off.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.child_list[a..b],
            _ => &[],
        }
    }

    /// The parent as shown (for an orphan, the root).
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parent.get(i).copied().flatten()
    }

    /// Whether the span is shown under the root only because its parent is missing (or its
    /// parent link was cut to break a cycle).
    pub fn is_adopted(&self, i: usize) -> bool {
        self.adopted.get(i).copied().unwrap_or(false)
    }

    /// 0 for roots.
    pub fn depth(&self, i: usize) -> usize {
        self.depth.get(i).copied().unwrap_or(0)
    }

    /// All spans in display order: depth-first from each root, children by start time.
    pub fn display_order(&self) -> &[usize] {
        &self.order
    }

    /// The span's end, or its start if it ends before it starts.
    pub fn end_unix_nano(&self, i: usize) -> i64 {
        self.end.get(i).copied().unwrap_or(0)
    }

    /// Jaeger's self time: duration minus the union of the children's intervals clipped to
    /// the span.
    pub fn self_time_nanos(&self, i: usize) -> i64 {
        self.self_time.get(i).copied().unwrap_or(0)
    }

    /// Spans with status ERROR, in display order.
    pub fn error_spans(&self) -> Vec<usize> {
        self.order
            .iter()
            .copied()
            .filter(|&i| self.spans[i].is_error())
            .collect()
    }

    /// From the earliest start to the latest end over all spans.
    pub fn duration_nanos(&self) -> i64 {
        self.finish.saturating_sub(self.start)
    }

    /// The earliest start over all spans (0 for an empty trace).
    pub fn start_unix_nano(&self) -> i64 {
        self.start
    }

    /// Span counts per service, most spans first (ties by name).
    pub fn services(&self) -> Vec<(String, usize)> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for s in &self.spans {
            *counts.entry(s.service.as_str()).or_insert(0) += 1;
        }
        let mut out: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// What was odd and how it was handled, grouped by kind: multiple roots, cycles, orphans,
    /// duplicate ids, children outside their parent, negative and zero durations.
    pub fn anomalies(&self) -> &[Anomaly] {
        &self.anomalies
    }
}
