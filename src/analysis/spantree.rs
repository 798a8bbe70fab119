//! The span tree of one trace: parent links resolved, anomalies found and handled, self times
//! and the critical path computed once, then queried many times by the renderers.
//!
//! Pure: takes a [`Trace`], returns values. No I/O, no terminal. (Skeleton: filled in next.)

use serde::Serialize;

use crate::model::{Span, Trace};

/// One stretch of the critical path: span `span` itself (not its children) was what the
/// request was waiting for between `start_unix_nano` and `end_unix_nano`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CriticalSegment {
    pub span: usize,
    pub start_unix_nano: i64,
    pub end_unix_nano: i64,
}

impl CriticalSegment {
    pub fn duration_nanos(&self) -> i64 {
        self.end_unix_nano - self.start_unix_nano
    }
}

/// Something odd in the trace data, and what was done about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Anomaly {
    Orphan {
        span_id: String,
        missing_parent: String,
        shown_as_root: bool,
    },
    DuplicateSpanId {
        span_id: String,
        kept: String,
        dropped: usize,
    },
    Cycle {
        span_ids: Vec<String>,
        broken_at: String,
    },
    ChildOutsideParent {
        span_id: String,
        parent_id: String,
        by_nanos: i64,
    },
    ZeroLength {
        span_id: String,
    },
    NegativeDuration {
        span_id: String,
        by_nanos: i64,
    },
    MultipleRoots {
        root: String,
        others: Vec<String>,
    },
}

impl Anomaly {
    pub fn message(&self) -> String {
        String::new()
    }
}

#[derive(Debug, Clone)]
pub struct SpanTree {
    trace_id: String,
    spans: Vec<Span>,
    roots: Vec<usize>,
    anomalies: Vec<Anomaly>,
}

pub fn build(trace: &Trace) -> SpanTree {
    SpanTree::from_trace(trace.clone())
}

impl SpanTree {
    pub fn from_trace(trace: Trace) -> SpanTree {
        SpanTree {
            trace_id: trace.trace_id,
            spans: trace.spans,
            roots: Vec::new(),
            anomalies: Vec::new(),
        }
    }
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }
    pub fn roots(&self) -> &[usize] {
        &self.roots
    }
    pub fn root(&self) -> Option<usize> {
        self.roots.first().copied()
    }
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }
    pub fn children(&self, _i: usize) -> &[usize] {
        &[]
    }
    pub fn parent(&self, _i: usize) -> Option<usize> {
        None
    }
    pub fn depth(&self, _i: usize) -> usize {
        0
    }
    pub fn display_order(&self) -> &[usize] {
        &[]
    }
    pub fn self_time_nanos(&self, _i: usize) -> i64 {
        0
    }
    pub fn critical_path(&self) -> Vec<CriticalSegment> {
        Vec::new()
    }
    pub fn critical_path_span_ids(&self) -> Vec<String> {
        Vec::new()
    }
    pub fn is_on_critical_path(&self, _i: usize) -> bool {
        false
    }
    pub fn critical_path_nanos(&self, _i: usize) -> i64 {
        0
    }
    pub fn error_spans(&self) -> Vec<usize> {
        Vec::new()
    }
    pub fn duration_nanos(&self) -> i64 {
        0
    }
    pub fn start_unix_nano(&self) -> i64 {
        0
    }
    pub fn services(&self) -> Vec<(String, usize)> {
        Vec::new()
    }
    pub fn anomalies(&self) -> &[Anomaly] {
        &self.anomalies
    }
    pub fn top_self_time_on_critical_path(&self, _n: usize) -> Vec<(usize, i64)> {
        Vec::new()
    }
}
