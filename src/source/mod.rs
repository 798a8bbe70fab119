//! Where evidence comes from. Each backend has its own client module that speaks its wire
//! format and returns `model` values; `http` holds what they share.
//!
//! Dispatch is static: an enum per signal (`Metrics::Prometheus(..)`, `Traces::Tempo(..)`,
//! `Logs::Loki(..)`, later `…::Local(..)`) instead of trait objects, so async methods need no
//! boxing. Backend JSON never leaves its client module.

pub mod http;
pub mod jaeger;
pub mod local;
pub mod local_traces;
pub mod loki;
pub mod probe;
pub mod prometheus;
pub mod recording;
pub mod tempo;

use std::time::Duration;

pub use crate::model::TraceMatch;
pub use http::SourceError;

use crate::model::{LogRecord, Trace, TraceSummary};

/// The metrics backend of an investigation.
#[derive(Debug, Clone)]
pub enum Metrics {
    Prometheus(prometheus::Prometheus),
    /// The embedded store (`--store PATH`), queried with the offline PromQL evaluator.
    Local(local::LocalMetrics),
    /// A Prometheus whose answers `obs snapshot` records.
    Recording(recording::RecordingMetrics),
}

impl Metrics {
    /// What `sources[]` in the report calls this backend.
    pub fn kind(&self) -> &'static str {
        match self {
            Metrics::Prometheus(_) => "prometheus",
            Metrics::Local(_) => local::KIND,
            Metrics::Recording(_) => "prometheus",
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Metrics::Prometheus(p) => p.base_url(),
            Metrics::Local(l) => l.url(),
            Metrics::Recording(r) => r.base_url(),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $inner:ident => $call:expr) => {
        match $self {
            Metrics::Prometheus($inner) => $call,
            Metrics::Local($inner) => $call,
            Metrics::Recording($inner) => $call,
        }
    };
}

impl Metrics {
    pub async fn query_range(
        &self,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<crate::model::Series>, SourceError> {
        delegate!(self, p => p.query_range(promql, start, end, step).await)
    }

    /// An instant query at `time` (unix seconds): each sample's labels and value.
    pub async fn query_instant(
        &self,
        promql: &str,
        time: f64,
    ) -> Result<Vec<(crate::model::Labels, f64)>, SourceError> {
        match self {
            Metrics::Prometheus(p) => p.query_instant(promql, time).await,
            Metrics::Local(l) => l.query_instant_samples(promql, time).await,
            Metrics::Recording(r) => r.query_instant(promql, time).await,
        }
    }

    pub async fn query_exemplars(
        &self,
        promql: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<crate::model::Exemplar>, SourceError> {
        delegate!(self, p => p.query_exemplars(promql, start, end).await)
    }

    pub async fn metric_names(
        &self,
        matcher: Option<&str>,
        start: f64,
        end: f64,
    ) -> Result<Vec<String>, SourceError> {
        delegate!(self, p => p.metric_names(matcher, start, end).await)
    }

    pub async fn label_names(
        &self,
        matcher: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<String>, SourceError> {
        delegate!(self, p => p.label_names(matcher, start, end).await)
    }

    /// The configured scrape interval of each active target, `(job, seconds)`: Prometheus's
    /// targets API; the store has no targets and answers with none.
    pub async fn scrape_intervals(&self) -> Result<Vec<(String, f64)>, SourceError> {
        match self {
            Metrics::Prometheus(p) => p.scrape_intervals().await,
            Metrics::Local(_) => Ok(Vec::new()),
            Metrics::Recording(r) => r.scrape_intervals().await,
        }
    }

    pub async fn metadata(
        &self,
    ) -> Result<std::collections::HashMap<String, crate::model::MetricType>, SourceError> {
        delegate!(self, p => p.metadata().await)
    }
}

/// A trace search, backend-neutral. Each backend translates what it can: Tempo into TraceQL
/// (or tags on versions without TraceQL), Jaeger into its query parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceSearch {
    pub service: Option<String>,
    /// Span (operation) name.
    pub operation: Option<String>,
    /// Span attributes that must match, `key = value`.
    pub tags: Vec<(String, String)>,
    pub min_duration: Option<Duration>,
    /// Only traces with a span whose status is error.
    pub errors_only: bool,
    /// Unix seconds.
    pub start: f64,
    pub end: f64,
    pub limit: usize,
    /// A backend-native query (TraceQL) that replaces the fields above.
    pub native: Option<String>,
}

/// The traces backend: Tempo or Jaeger.
#[derive(Debug, Clone)]
pub enum Traces {
    Tempo(tempo::Tempo),
    Jaeger(jaeger::Jaeger),
    /// The embedded store (`--store PATH`).
    Local(local_traces::LocalTraces),
    /// Tempo or Jaeger, recorded by `obs snapshot`.
    Recording(recording::RecordingTraces),
}

impl Traces {
    pub fn kind(&self) -> &'static str {
        match self {
            Traces::Tempo(_) => "tempo",
            Traces::Jaeger(_) => "jaeger",
            Traces::Local(_) => local_traces::KIND,
            Traces::Recording(r) => r.kind(),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Traces::Tempo(t) => t.base_url(),
            Traces::Jaeger(j) => j.base_url(),
            Traces::Local(l) => l.url(),
            Traces::Recording(r) => r.url(),
        }
    }

    /// The trace with this id (any length of hex up to 32; shorter ids are left-padded), or
    /// `None` when the backend does not have it.
    pub async fn trace(&self, trace_id: &str) -> Result<Option<Trace>, SourceError> {
        match self {
            Traces::Tempo(t) => t.trace(trace_id).await,
            Traces::Jaeger(j) => j.trace(trace_id).await,
            Traces::Local(l) => l.trace(trace_id).await,
            Traces::Recording(r) => r.trace(trace_id).await,
        }
    }

    pub async fn search(&self, search: &TraceSearch) -> Result<Vec<TraceSummary>, SourceError> {
        match self {
            Traces::Tempo(t) => t.search(search).await,
            Traces::Jaeger(j) => j.search(search).await,
            Traces::Local(l) => l.search(search).await,
            Traces::Recording(r) => r.search(search).await,
        }
    }

    /// Services the backend has traces for.
    pub async fn services(&self) -> Result<Vec<String>, SourceError> {
        match self {
            Traces::Tempo(t) => t.services().await,
            Traces::Jaeger(j) => j.services().await,
            Traces::Local(l) => l.services().await,
            Traces::Recording(r) => r.services().await,
        }
    }
}

/// Which end of the window a log query starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Newest first: with a limit, the most recent lines.
    #[default]
    Backward,
    Forward,
}

/// A log query, backend-neutral.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogQuery {
    /// A backend-native query (LogQL) that replaces `selector`, `service`, `contains` and
    /// `min_level`.
    pub native: Option<String>,
    /// A stream selector to search under, e.g. `{namespace="shop"}`; default: every stream that
    /// has the service label.
    pub selector: Option<String>,
    pub service: Option<String>,
    /// Only lines containing this text.
    pub contains: Option<String>,
    /// Only lines of this trace.
    pub trace_id: Option<String>,
    /// How to find `trace_id`.
    pub trace_match: TraceMatch,
    /// Only records at least this severe: `error` keeps error and fatal, `warn` adds warnings…
    pub min_level: Option<String>,
    /// Unix nanoseconds; `start` inclusive, `end` exclusive.
    pub start_ns: i64,
    pub end_ns: i64,
    pub limit: usize,
    pub direction: Direction,
}

/// What a log query found, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct LogResult {
    /// In the query's direction (newest first for backward).
    pub records: Vec<LogRecord>,
    /// The query that produced `records` (the last one tried when nothing matched).
    pub query: String,
    /// For a trace lookup: the strategy that found lines (`None` when none did).
    pub matched_by: Option<TraceMatch>,
    /// Strategies tried, in order, for a trace lookup.
    pub tried: Vec<TraceMatch>,
    /// True when `limit` cut the result short.
    pub truncated: bool,
}

/// The logs backend.
#[derive(Debug, Clone)]
pub enum Logs {
    Loki(loki::Loki),
    /// The embedded store (`--store PATH`).
    Local(local_traces::LocalLogs),
    /// Loki, recorded by `obs snapshot`.
    Recording(recording::RecordingLogs),
}

impl Logs {
    pub fn kind(&self) -> &'static str {
        match self {
            Logs::Loki(_) => "loki",
            Logs::Local(_) => local_traces::KIND,
            Logs::Recording(_) => "loki",
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Logs::Loki(l) => l.base_url(),
            Logs::Local(l) => l.url(),
            Logs::Recording(r) => r.url(),
        }
    }

    pub async fn logs(&self, query: &LogQuery) -> Result<LogResult, SourceError> {
        match self {
            Logs::Loki(l) => l.logs(query).await,
            Logs::Local(l) => l.logs(query).await,
            Logs::Recording(r) => r.logs(query).await,
        }
    }
}
