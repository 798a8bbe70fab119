//! The terminal waterfall of one trace and its JSON views (`obs trace`, investigate's
//! `traces[]`). Reads a [`SpanTree`]; never queries. (Skeleton: filled in next.)

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::spantree::{Anomaly, SpanTree};
use crate::model::{SpanKind, StatusCode};
use crate::model::trace::Attributes;

#[derive(Debug, Clone)]
pub struct WaterfallOptions {
    pub width: u16,
    pub color: bool,
    pub max_depth: Option<usize>,
    pub service: Option<String>,
    pub errors_only: bool,
    pub max_rows: Option<usize>,
    pub time_zone: jiff::tz::TimeZone,
}

impl Default for WaterfallOptions {
    fn default() -> Self {
        WaterfallOptions {
            width: 100,
            color: false,
            max_depth: None,
            service: None,
            errors_only: false,
            max_rows: None,
            time_zone: jiff::tz::TimeZone::UTC,
        }
    }
}

pub fn render(_tree: &SpanTree, _opts: &WaterfallOptions) -> String {
    String::new()
}

pub fn render_rows(
    _tree: &SpanTree,
    _opts: &WaterfallOptions,
    _first_row: usize,
    _rows: usize,
) -> String {
    String::new()
}

pub fn visible_rows(_tree: &SpanTree, _opts: &WaterfallOptions) -> Vec<usize> {
    Vec::new()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RootView {
    pub service: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionView {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanView {
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub service: String,
    pub name: String,
    pub kind: SpanKind,
    pub start_unix_nano: i64,
    pub start_offset_ms: f64,
    pub duration_ms: f64,
    pub self_time_ms: f64,
    pub depth: usize,
    pub status: StatusCode,
    pub status_message: String,
    pub exception: Option<ExceptionView>,
    pub attributes: Attributes,
    pub on_critical_path: bool,
    pub critical_path_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyView {
    #[serde(flatten)]
    pub anomaly: Anomaly,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalSegmentView {
    pub span_id: String,
    pub start_offset_ms: f64,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceView {
    pub trace_id: String,
    pub start: String,
    pub start_unix_nano: i64,
    pub duration_ms: f64,
    pub span_count: usize,
    pub root: Option<RootView>,
    pub spans: Vec<SpanView>,
    pub critical_path: Vec<String>,
    pub critical_path_segments: Vec<CriticalSegmentView>,
    pub error_spans: Vec<String>,
    pub services: BTreeMap<String, usize>,
    pub anomalies: Vec<AnomalyView>,
}

pub fn trace_view(tree: &SpanTree) -> TraceView {
    TraceView {
        trace_id: tree.trace_id().to_string(),
        start: String::new(),
        start_unix_nano: 0,
        duration_ms: 0.0,
        span_count: 0,
        root: None,
        spans: Vec::new(),
        critical_path: Vec::new(),
        critical_path_segments: Vec::new(),
        error_spans: Vec::new(),
        services: BTreeMap::new(),
        anomalies: Vec::new(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorSpanView {
    pub span_id: String,
    pub service: String,
    pub name: String,
    pub status_message: String,
    pub exception: Option<ExceptionView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalView {
    pub span_id: String,
    pub service: String,
    pub name: String,
    pub self_time_ms: f64,
    pub critical_path_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSummaryView {
    pub trace_id: String,
    pub start: String,
    pub start_unix_nano: i64,
    pub duration_ms: f64,
    pub span_count: usize,
    pub root: Option<RootView>,
    pub error_spans: Vec<ErrorSpanView>,
    pub critical_path: Vec<CriticalView>,
    pub anomalies: Vec<AnomalyView>,
    pub anomalies_total: usize,
}

pub fn summarize(tree: &SpanTree, _n: usize) -> TraceSummaryView {
    TraceSummaryView {
        trace_id: tree.trace_id().to_string(),
        start: String::new(),
        start_unix_nano: 0,
        duration_ms: 0.0,
        span_count: 0,
        root: None,
        error_spans: Vec::new(),
        critical_path: Vec::new(),
        anomalies: Vec::new(),
        anomalies_total: 0,
    }
}
