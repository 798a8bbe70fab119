//! Backend-neutral values that sources return and analysis consumes.
//!
//! Nothing here knows a backend's wire format: each client in `source/` converts its JSON into
//! these types before they leave the client module.

pub mod capabilities;
pub mod log;
pub mod query;
pub mod trace;

use std::collections::BTreeMap;

use serde::Serialize;

pub use capabilities::{Capabilities, Support};
pub use log::LogRecord;
pub use query::{SearchMode, TraceMatch};
pub use trace::{Span, SpanKind, StatusCode, Trace, TraceSummary};

/// A label set, ordered so that output and comparisons are deterministic.
pub type Labels = BTreeMap<String, String>;

/// One time series as returned by a range query: `(unix seconds, value)` pairs in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// The values of this series on a step grid starting at `start`, `len` points long.
    ///
    /// Points that fall on no grid slot are dropped; slots without a point are `NaN`, which
    /// analysis treats as missing. Prometheus range queries return points exactly on the grid,
    /// so this only re-aligns, it never interpolates.
    pub fn on_grid(&self, start: f64, step: f64, len: usize) -> Vec<f64> {
        let mut out = vec![f64::NAN; len];
        if step <= 0.0 {
            return out;
        }
        for &(t, v) in &self.points {
            let slot = ((t - start) / step).round();
            if slot >= 0.0
                && (slot as usize) < len
                && ((t - start) - slot * step).abs() < step * 1e-3
            {
                out[slot as usize] = v;
            }
        }
        out
    }

    /// A compact `name{a="b", …}` rendering used in reports.
    pub fn display_name(&self) -> String {
        display_labels(&self.labels)
    }
}

/// Renders a label set the way PromQL writes a selector: `name{a="b",c="d"}`.
pub fn display_labels(labels: &Labels) -> String {
    let name = labels.get("__name__").map(String::as_str).unwrap_or("");
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    if rest.is_empty() {
        if name.is_empty() {
            "{}".to_string()
        } else {
            name.to_string()
        }
    } else {
        format!("{name}{{{}}}", rest.join(","))
    }
}

/// An exemplar: one observation of a series, linked to the trace that produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exemplar {
    /// The labels of the series the exemplar was attached to (e.g. a histogram bucket).
    pub series_labels: Labels,
    /// The exemplar's own labels (`trace_id`, `span_id`, …).
    pub labels: Labels,
    pub value: f64,
    /// Unix seconds.
    pub timestamp: f64,
}

impl Exemplar {
    /// The trace id, under the label names OpenTelemetry and client libraries use.
    pub fn trace_id(&self) -> Option<&str> {
        ["trace_id", "traceID", "traceId", "TraceID"]
            .iter()
            .find_map(|k| self.labels.get(*k))
            .map(String::as_str)
    }
}

/// The type of a metric family, from `/api/v1/metadata` or guessed from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Unknown,
}

impl MetricType {
    /// Parses the type string Prometheus reports in its metadata API.
    pub fn from_prometheus(s: &str) -> MetricType {
        match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            _ => MetricType::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_grid_places_points_and_marks_gaps_missing() {
        let s = Series {
            labels: Labels::new(),
            points: vec![(100.0, 1.0), (130.0, 3.0), (999.0, 9.0)],
        };
        let g = s.on_grid(100.0, 15.0, 4);
        assert_eq!(g[0], 1.0);
        assert!(g[1].is_nan());
        assert_eq!(g[2], 3.0);
        assert!(g[3].is_nan());
    }

    #[test]
    fn display_labels_reads_like_promql() {
        let mut l = Labels::new();
        l.insert("__name__".into(), "up".into());
        l.insert("job".into(), "api".into());
        assert_eq!(display_labels(&l), r#"up{job="api"}"#);
        assert_eq!(display_labels(&Labels::new()), "{}");
    }
}
