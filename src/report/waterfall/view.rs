//! The JSON views of a trace: the full [`TraceView`] (`obs trace -o json`) and the short
//! [`TraceSummaryView`] investigate puts in its report's `traces[]`. Durations in milliseconds,
//! instants as RFC 3339.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::spantree::{Anomaly, SpanTree};
use crate::model::trace::Attributes;
use crate::model::{Span, SpanKind, StatusCode};

use super::{MAX_ANOMALIES_LISTED, MAX_ERRORS_LISTED};

pub(super) fn ms(nanos: i64) -> f64 {
    (nanos as f64 / 1e3).round() / 1e3
}

pub(super) fn rfc3339(nanos: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(nanos))
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The root span's service and operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RootView {
    pub service: String,
    pub name: String,
}

/// An exception event's `exception.type` and `exception.message`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionView {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// One span in `obs trace -o json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanView {
    pub span_id: String,
    /// As the data says (an orphan keeps its missing parent's id here).
    pub parent_span_id: Option<String>,
    pub service: String,
    pub name: String,
    pub kind: SpanKind,
    pub start_unix_nano: i64,
    /// From the trace's earliest start.
    pub start_offset_ms: f64,
    pub duration_ms: f64,
    pub self_time_ms: f64,
    /// In the tree as shown (an orphan is at depth 1, under the root).
    pub depth: usize,
    pub status: StatusCode,
    pub status_message: String,
    pub exception: Option<ExceptionView>,
    pub attributes: Attributes,
    pub on_critical_path: bool,
    /// How long the span itself is on the critical path.
    pub critical_path_ms: f64,
}

/// An anomaly with its sentence: `{"kind": "orphan", "span_id": …, "message": "…"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyView {
    #[serde(flatten)]
    pub anomaly: Anomaly,
    pub message: String,
}

impl From<&Anomaly> for AnomalyView {
    fn from(a: &Anomaly) -> Self {
        AnomalyView {
            anomaly: a.clone(),
            message: a.message(),
        }
    }
}

/// One stretch of the critical path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalSegmentView {
    pub span_id: String,
    pub start_offset_ms: f64,
    pub duration_ms: f64,
}

/// What `obs trace -o json` prints for one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceView {
    pub trace_id: String,
    /// RFC 3339, of the earliest span start.
    pub start: String,
    pub start_unix_nano: i64,
    pub duration_ms: f64,
    pub span_count: usize,
    /// `null` for a trace without spans.
    pub root: Option<RootView>,
    /// In display order (depth-first, children by start time).
    pub spans: Vec<SpanView>,
    /// Span ids in the order the path first reaches them.
    pub critical_path: Vec<String>,
    pub critical_path_segments: Vec<CriticalSegmentView>,
    pub error_spans: Vec<String>,
    pub services: BTreeMap<String, usize>,
    pub anomalies: Vec<AnomalyView>,
}

pub(super) fn exception_view(span: &Span) -> Option<ExceptionView> {
    span.exception()
        .map(|(kind, message)| ExceptionView { kind, message })
}

pub(super) fn root_view(tree: &SpanTree) -> Option<RootView> {
    tree.root().map(|r| RootView {
        service: tree.spans()[r].service.clone(),
        name: tree.spans()[r].name.clone(),
    })
}

/// The full JSON view of a trace.
pub fn trace_view(tree: &SpanTree) -> TraceView {
    let t0 = tree.start_unix_nano();
    let spans = tree
        .display_order()
        .iter()
        .map(|&i| {
            let s = &tree.spans()[i];
            SpanView {
                span_id: s.span_id.clone(),
                parent_span_id: s.parent_span_id.clone(),
                service: s.service.clone(),
                name: s.name.clone(),
                kind: s.kind,
                start_unix_nano: s.start_unix_nano,
                start_offset_ms: ms(s.start_unix_nano.saturating_sub(t0)),
                duration_ms: ms(tree.end_unix_nano(i).saturating_sub(s.start_unix_nano)),
                self_time_ms: ms(tree.self_time_nanos(i)),
                depth: tree.depth(i),
                status: s.status,
                status_message: s.status_message.clone(),
                exception: exception_view(s),
                attributes: s.attributes.clone(),
                on_critical_path: tree.is_on_critical_path(i),
                critical_path_ms: ms(tree.critical_path_nanos(i)),
            }
        })
        .collect();
    TraceView {
        trace_id: tree.trace_id().to_string(),
        start: rfc3339(t0),
        start_unix_nano: t0,
        duration_ms: ms(tree.duration_nanos()),
        span_count: tree.len(),
        root: root_view(tree),
        spans,
        critical_path: tree.critical_path_span_ids(),
        critical_path_segments: tree
            .critical_segments()
            .iter()
            .map(|seg| CriticalSegmentView {
                span_id: tree.spans()[seg.span].span_id.clone(),
                start_offset_ms: ms(seg.start_unix_nano.saturating_sub(t0)),
                duration_ms: ms(seg.duration_nanos()),
            })
            .collect(),
        error_spans: tree
            .error_spans()
            .into_iter()
            .map(|i| tree.spans()[i].span_id.clone())
            .collect(),
        services: tree.services().into_iter().collect(),
        anomalies: tree.anomalies().iter().map(AnomalyView::from).collect(),
    }
}

/// An error span in a trace summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorSpanView {
    pub span_id: String,
    pub service: String,
    pub name: String,
    pub status_message: String,
    pub exception: Option<ExceptionView>,
}

/// A top contributor to the critical path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalView {
    pub span_id: String,
    pub service: String,
    pub name: String,
    /// The span's self time (duration minus its children).
    pub self_time_ms: f64,
    /// How long the span itself is on the critical path; the list is ordered by this.
    pub critical_path_ms: f64,
}

/// The short view of a trace that investigate's report carries in `traces[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSummaryView {
    pub trace_id: String,
    pub start: String,
    pub start_unix_nano: i64,
    pub duration_ms: f64,
    pub span_count: usize,
    pub root: Option<RootView>,
    /// All error spans' count; `error_spans` lists the first 20 in display order.
    pub error_span_count: usize,
    pub error_spans: Vec<ErrorSpanView>,
    /// The top contributors to the critical path, most time first.
    pub critical_path: Vec<CriticalView>,
    /// The first 10 anomalies; `anomalies_total` counts them all.
    pub anomalies: Vec<AnomalyView>,
    pub anomalies_total: usize,
}

/// The short view, with the `n` top contributors to the critical path.
pub fn summarize(tree: &SpanTree, n: usize) -> TraceSummaryView {
    let errors = tree.error_spans();
    TraceSummaryView {
        trace_id: tree.trace_id().to_string(),
        start: rfc3339(tree.start_unix_nano()),
        start_unix_nano: tree.start_unix_nano(),
        duration_ms: ms(tree.duration_nanos()),
        span_count: tree.len(),
        root: root_view(tree),
        error_span_count: errors.len(),
        error_spans: errors
            .iter()
            .take(MAX_ERRORS_LISTED)
            .map(|&i| {
                let s = &tree.spans()[i];
                ErrorSpanView {
                    span_id: s.span_id.clone(),
                    service: s.service.clone(),
                    name: s.name.clone(),
                    status_message: s.status_message.clone(),
                    exception: exception_view(s),
                }
            })
            .collect(),
        critical_path: tree
            .top_self_time_on_critical_path(n)
            .into_iter()
            .map(|(i, t)| {
                let s = &tree.spans()[i];
                CriticalView {
                    span_id: s.span_id.clone(),
                    service: s.service.clone(),
                    name: s.name.clone(),
                    self_time_ms: ms(tree.self_time_nanos(i)),
                    critical_path_ms: ms(t),
                }
            })
            .collect(),
        anomalies: tree
            .anomalies()
            .iter()
            .take(MAX_ANOMALIES_LISTED)
            .map(AnomalyView::from)
            .collect(),
        anomalies_total: tree.anomalies().len(),
    }
}
