//! Log records as Loki and the embedded store return them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    pub timestamp_unix_nano: i64,
    /// The severity as text (`error`, `WARN`, …), when known.
    pub severity: Option<String>,
    /// OpenTelemetry severity number (1–24), when known.
    pub severity_number: Option<i32>,
    pub service: Option<String>,
    pub body: String,
    /// Lowercase hex, when the record carries one.
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    /// Stream labels (Loki), or attributes and resource attributes as strings (OTLP).
    pub labels: BTreeMap<String, String>,
}
