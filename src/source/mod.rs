//! Where evidence comes from. Each backend has its own client module that speaks its wire
//! format and returns `model` values; `http` holds what they share.
//!
//! Dispatch is static: an enum per signal (`Metrics::Prometheus(..)`, later `Metrics::Local(..)`)
//! instead of trait objects, so async methods need no boxing.

pub mod http;
pub mod prometheus;

pub use http::SourceError;

/// The metrics backend of an investigation.
#[derive(Debug, Clone)]
pub enum Metrics {
    Prometheus(prometheus::Prometheus),
}

impl Metrics {
    /// What `sources[]` in the report calls this backend.
    pub fn kind(&self) -> &'static str {
        match self {
            Metrics::Prometheus(_) => "prometheus",
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Metrics::Prometheus(p) => p.base_url(),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $inner:ident => $call:expr) => {
        match $self {
            Metrics::Prometheus($inner) => $call,
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

    pub async fn metadata(
        &self,
    ) -> Result<std::collections::HashMap<String, crate::model::MetricType>, SourceError> {
        delegate!(self, p => p.metadata().await)
    }
}
