//! Traces as every backend and the embedded store return them: a flat list of spans with
//! parent links. The tree, self times and the critical path are computed in `analysis`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Attribute values keep their JSON type (string, int, float, bool, array, map).
pub type Attributes = BTreeMap<String, serde_json::Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    #[default]
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCode {
    #[default]
    Unset,
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent {
    pub time_unix_nano: i64,
    pub name: String,
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanLink {
    pub trace_id: String,
    pub span_id: String,
    pub attributes: Attributes,
}

/// One span. Ids are lowercase hex (trace ids 32 characters, span ids 16).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    /// `None` for a root span.
    pub parent_span_id: Option<String>,
    pub name: String,
    /// `service.name` of the span's resource (`"unknown_service"` when absent, as OpenTelemetry says).
    pub service: String,
    pub kind: SpanKind,
    pub start_unix_nano: i64,
    pub end_unix_nano: i64,
    pub status: StatusCode,
    pub status_message: String,
    pub attributes: Attributes,
    pub resource: Attributes,
    /// Instrumentation scope name, when known.
    pub scope: Option<String>,
    pub events: Vec<SpanEvent>,
    pub links: Vec<SpanLink>,
}

impl Span {
    pub fn duration_nanos(&self) -> i64 {
        self.end_unix_nano.saturating_sub(self.start_unix_nano)
    }

    pub fn is_error(&self) -> bool {
        self.status == StatusCode::Error
    }

    /// The first recorded exception (`exception.type`, `exception.message`), per the
    /// OpenTelemetry semantic conventions for exception events.
    pub fn exception(&self) -> Option<(String, String)> {
        self.events.iter().find(|e| e.name == "exception").map(|e| {
            let get = |k: &str| {
                e.attributes
                    .get(k)
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .unwrap_or_default()
            };
            (get("exception.type"), get("exception.message"))
        })
    }
}

/// A whole trace: its spans in no particular order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub trace_id: String,
    pub spans: Vec<Span>,
}

/// A search hit: enough to list and choose traces without fetching them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceSummary {
    pub trace_id: String,
    pub root_service: Option<String>,
    pub root_name: Option<String>,
    pub start_unix_nano: i64,
    pub duration_ms: f64,
    /// Spans in the trace, when the backend says.
    pub span_count: Option<usize>,
    /// Whether the backend reported an error in the trace, when it says.
    pub has_error: Option<bool>,
}

/// A trace or span id that is not hex of a valid length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} id {value:?}: expected {expected} hexadecimal characters")]
pub struct InvalidId {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Normalises a trace id to 32 lowercase hex characters.
///
/// Accepts upper case, and ids shorter than 32 characters, which are left-padded with zeros:
/// Tempo's search drops leading zeros (`0eec…` comes back as `eec…`) and Jaeger may use 64-bit
/// (16-character) ids. An all-zero id is invalid, as OpenTelemetry says.
pub fn normalize_trace_id(value: &str) -> Result<String, InvalidId> {
    normalize_id(value, 32, "trace", "1 to 32")
}

/// Normalises a span id to 16 lowercase hex characters (shorter ids are left-padded).
pub fn normalize_span_id(value: &str) -> Result<String, InvalidId> {
    normalize_id(value, 16, "span", "1 to 16")
}

fn normalize_id(
    value: &str,
    len: usize,
    kind: &'static str,
    expected: &'static str,
) -> Result<String, InvalidId> {
    let invalid = || InvalidId {
        kind,
        value: value.to_string(),
        expected,
    };
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.len() > len || !trimmed.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(invalid());
    }
    if trimmed.bytes().all(|b| b == b'0') {
        return Err(invalid());
    }
    Ok(format!("{:0>len$}", trimmed.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_are_normalised_and_padded() {
        assert_eq!(
            normalize_trace_id("EEC28F002D3299C1507B75EB8FB23AF").unwrap(),
            "0eec28f002d3299c1507b75eb8fb23af"
        );
        assert_eq!(
            normalize_trace_id("00000000000000001234567890abcdef")
                .unwrap()
                .len(),
            32
        );
        assert_eq!(
            normalize_trace_id("1234567890abcdef").unwrap(),
            "00000000000000001234567890abcdef"
        );
        for bad in ["", "not-a-trace-id", "0000", &"a".repeat(33)] {
            let err = normalize_trace_id(bad).unwrap_err();
            assert!(err.to_string().contains("invalid trace id"), "{err}");
        }
        assert_eq!(normalize_span_id("ABCDEF").unwrap(), "0000000000abcdef");
    }

    #[test]
    fn exception_is_read_from_the_exception_event() {
        let mut attributes = Attributes::new();
        attributes.insert("exception.type".into(), "PoolTimeout".into());
        attributes.insert("exception.message".into(), "no connection in 2s".into());
        let span = Span {
            trace_id: "a".repeat(32),
            span_id: "b".repeat(16),
            parent_span_id: None,
            name: "INSERT orders".into(),
            service: "checkout".into(),
            kind: SpanKind::Client,
            start_unix_nano: 10,
            end_unix_nano: 5,
            status: StatusCode::Error,
            status_message: String::new(),
            attributes: Attributes::new(),
            resource: Attributes::new(),
            scope: None,
            events: vec![SpanEvent {
                time_unix_nano: 1,
                name: "exception".into(),
                attributes,
            }],
            links: Vec::new(),
        };
        assert_eq!(
            span.exception(),
            Some(("PoolTimeout".into(), "no connection in 2s".into()))
        );
        assert_eq!(span.duration_nanos(), -5);
    }
}
