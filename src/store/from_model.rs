//! Backend-neutral traces and log records as OTLP export requests, so that what a remote
//! Tempo, Jaeger or Loki returned can be written through the ordinary store writer
//! (`obs snapshot`). The inverse of what `read.rs` and the remote clients build: every span
//! field the model keeps (ids, parent, name, kind, times, status, attributes with their JSON
//! types, resource, scope, events, links) goes into its OTLP field.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord as OtlpLog, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as OtlpSpan, Status, span, status,
};

use super::{ExportLogsServiceRequest, ExportTraceServiceRequest};
use crate::model::trace::{Attributes, SpanKind, StatusCode};
use crate::model::{LogRecord, Span, Trace};

/// One request holding every span of `traces`, grouped by resource and scope.
pub fn traces_request(traces: &[Trace]) -> ExportTraceServiceRequest {
    let mut groups: BTreeMap<String, (Attributes, BTreeMap<String, Vec<OtlpSpan>>)> =
        BTreeMap::new();
    for span in traces.iter().flat_map(|t| &t.spans) {
        let mut resource = span.resource.clone();
        resource
            .entry("service.name".into())
            .or_insert_with(|| serde_json::Value::String(span.service.clone()));
        let key = serde_json::to_string(&resource).unwrap_or_default();
        groups
            .entry(key)
            .or_insert_with(|| (resource, BTreeMap::new()))
            .1
            .entry(span.scope.clone().unwrap_or_default())
            .or_default()
            .push(otlp_span(span));
    }
    ExportTraceServiceRequest {
        resource_spans: groups
            .into_values()
            .map(|(resource, scopes)| ResourceSpans {
                resource: Some(Resource {
                    attributes: key_values(&resource),
                    ..Resource::default()
                }),
                scope_spans: scopes
                    .into_iter()
                    .map(|(scope, spans)| ScopeSpans {
                        scope: (!scope.is_empty()).then(|| InstrumentationScope {
                            name: scope,
                            ..InstrumentationScope::default()
                        }),
                        spans,
                        ..ScopeSpans::default()
                    })
                    .collect(),
                ..ResourceSpans::default()
            })
            .collect(),
    }
}

fn otlp_span(s: &Span) -> OtlpSpan {
    OtlpSpan {
        trace_id: hex_bytes(&s.trace_id),
        span_id: hex_bytes(&s.span_id),
        parent_span_id: s
            .parent_span_id
            .as_deref()
            .map(hex_bytes)
            .unwrap_or_default(),
        name: s.name.clone(),
        kind: match s.kind {
            SpanKind::Unspecified => span::SpanKind::Unspecified,
            SpanKind::Internal => span::SpanKind::Internal,
            SpanKind::Server => span::SpanKind::Server,
            SpanKind::Client => span::SpanKind::Client,
            SpanKind::Producer => span::SpanKind::Producer,
            SpanKind::Consumer => span::SpanKind::Consumer,
        } as i32,
        start_time_unix_nano: s.start_unix_nano.max(0) as u64,
        end_time_unix_nano: s.end_unix_nano.max(0) as u64,
        attributes: key_values(&s.attributes),
        events: s
            .events
            .iter()
            .map(|e| span::Event {
                time_unix_nano: e.time_unix_nano.max(0) as u64,
                name: e.name.clone(),
                attributes: key_values(&e.attributes),
                ..span::Event::default()
            })
            .collect(),
        links: s
            .links
            .iter()
            .map(|l| span::Link {
                trace_id: hex_bytes(&l.trace_id),
                span_id: hex_bytes(&l.span_id),
                attributes: key_values(&l.attributes),
                ..span::Link::default()
            })
            .collect(),
        status: Some(Status {
            message: s.status_message.clone(),
            code: match s.status {
                StatusCode::Unset => status::StatusCode::Unset,
                StatusCode::Ok => status::StatusCode::Ok,
                StatusCode::Error => status::StatusCode::Error,
            } as i32,
        }),
        ..OtlpSpan::default()
    }
}

/// One request holding `records`, grouped by service (the record's labels become attributes,
/// its service the resource's `service.name`). A record without a severity number gets the one
/// its severity text names, so that level filters find it in the store as they did remotely.
pub fn logs_request(records: &[LogRecord]) -> ExportLogsServiceRequest {
    let mut groups: BTreeMap<Option<String>, Vec<OtlpLog>> = BTreeMap::new();
    for r in records {
        groups.entry(r.service.clone()).or_default().push(OtlpLog {
            time_unix_nano: r.timestamp_unix_nano.max(0) as u64,
            observed_time_unix_nano: r.timestamp_unix_nano.max(0) as u64,
            severity_number: r
                .severity_number
                .or_else(|| r.severity.as_deref().and_then(severity_number))
                .unwrap_or(0),
            severity_text: r.severity.clone().unwrap_or_default(),
            body: Some(string(&r.body)),
            attributes: r
                .labels
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.clone(),
                    value: Some(string(v)),
                    ..KeyValue::default()
                })
                .collect(),
            // A log line's id field may be anything; one that is not an id is left out rather
            // than failing the record.
            trace_id: id_bytes(r.trace_id.as_deref(), 16),
            span_id: id_bytes(r.span_id.as_deref(), 8),
            ..OtlpLog::default()
        });
    }
    ExportLogsServiceRequest {
        resource_logs: groups
            .into_iter()
            .map(|(service, log_records)| ResourceLogs {
                resource: service.map(|s| Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: Some(string(&s)),
                        ..KeyValue::default()
                    }],
                    ..Resource::default()
                }),
                scope_logs: vec![ScopeLogs {
                    log_records,
                    ..ScopeLogs::default()
                }],
                ..ResourceLogs::default()
            })
            .collect(),
    }
}

/// The OpenTelemetry severity number of a level word (the lowest of its range).
fn severity_number(level: &str) -> Option<i32> {
    match level.trim().to_ascii_lowercase().as_str() {
        "trace" => Some(1),
        "debug" => Some(5),
        "info" | "information" => Some(9),
        "warn" | "warning" => Some(13),
        "error" | "err" => Some(17),
        "fatal" | "critical" | "crit" => Some(21),
        _ => None,
    }
}

fn string(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.to_string())),
    }
}

fn key_values(attrs: &Attributes) -> Vec<KeyValue> {
    attrs
        .iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: Some(any_value(v)),
            ..KeyValue::default()
        })
        .collect()
}

/// A JSON attribute value as the OTLP value it came from (integers stay integers).
fn any_value(v: &serde_json::Value) -> AnyValue {
    use serde_json::Value as J;
    let value = match v {
        J::Null => None,
        J::Bool(b) => Some(any_value::Value::BoolValue(*b)),
        J::Number(n) => Some(match n.as_i64() {
            Some(i) => any_value::Value::IntValue(i),
            None => any_value::Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        }),
        J::String(s) => Some(any_value::Value::StringValue(s.clone())),
        J::Array(a) => Some(any_value::Value::ArrayValue(ArrayValue {
            values: a.iter().map(any_value).collect(),
        })),
        J::Object(o) => Some(any_value::Value::KvlistValue(KeyValueList {
            values: o
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.clone(),
                    value: Some(any_value(v)),
                    ..KeyValue::default()
                })
                .collect(),
        })),
    };
    AnyValue { value }
}

fn id_bytes(hex: Option<&str>, len: usize) -> Vec<u8> {
    let bytes = hex.map(hex_bytes).unwrap_or_default();
    if bytes.len() == len {
        bytes
    } else {
        Vec::new()
    }
}

/// Lowercase or upper-case hex as bytes; anything else (which the model never holds) as empty,
/// which the writer rejects as an invalid id rather than storing a wrong one.
fn hex_bytes(hex: &str) -> Vec<u8> {
    if !hex.len().is_multiple_of(2) {
        return Vec::new();
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::trace::{SpanEvent, SpanLink};
    use crate::store::{Payload, WriterConfig, spawn_writer};

    fn span(id: &str, parent: Option<&str>, service: &str) -> Span {
        Span {
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: id.into(),
            parent_span_id: parent.map(str::to_string),
            name: format!("op {id}"),
            service: service.into(),
            kind: SpanKind::Server,
            start_unix_nano: 1_700_000_000_000_000_000,
            end_unix_nano: 1_700_000_000_250_000_000,
            status: StatusCode::Error,
            status_message: "boom".into(),
            attributes: [
                ("http.status_code".to_string(), serde_json::json!(500)),
                ("ratio".to_string(), serde_json::json!(0.25)),
                ("tags".to_string(), serde_json::json!(["a", "b"])),
            ]
            .into_iter()
            .collect(),
            resource: [(
                "service.name".to_string(),
                serde_json::Value::String(service.into()),
            )]
            .into_iter()
            .collect(),
            scope: Some("shop".into()),
            events: vec![SpanEvent {
                time_unix_nano: 1_700_000_000_100_000_000,
                name: "exception".into(),
                attributes: [(
                    "exception.type".to_string(),
                    serde_json::json!("PoolTimeout"),
                )]
                .into_iter()
                .collect(),
            }],
            links: vec![SpanLink {
                trace_id: "1af7651916cd43dd8448eb211c80319c".into(),
                span_id: "00f067aa0ba902b7".into(),
                attributes: Attributes::new(),
            }],
        }
    }

    #[test]
    fn a_trace_written_through_the_writer_reads_back_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let trace = Trace {
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            spans: vec![
                span("b7ad6b7169203331", None, "frontend"),
                span("00f067aa0ba902b7", Some("b7ad6b7169203331"), "checkout"),
            ],
        };
        let (handle, writer) = spawn_writer(&path, WriterConfig::default()).unwrap();
        let receipt = handle
            .submit(Payload::Traces(traces_request(std::slice::from_ref(
                &trace,
            ))))
            .unwrap();
        assert_eq!(receipt.wait_blocking().unwrap().accepted, 2);
        writer.shutdown().unwrap();
        let store = crate::store::Store::open_read_only(&path).unwrap();
        let mut read = store.trace(&trace.trace_id).unwrap().unwrap();
        read.spans.sort_by(|a, b| a.span_id.cmp(&b.span_id));
        let mut want = trace.spans.clone();
        want.sort_by(|a, b| a.span_id.cmp(&b.span_id));
        assert_eq!(read.spans, want);
    }

    #[test]
    fn log_records_keep_their_level_for_severity_filters() {
        let record = LogRecord {
            timestamp_unix_nano: 1_700_000_000_000_000_000,
            severity: Some("error".into()),
            severity_number: None,
            service: Some("checkout".into()),
            body: "failed to persist order".into(),
            trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
            span_id: None,
            labels: [("job".to_string(), "shop".to_string())].into(),
        };
        let req = logs_request(&[record]);
        let log = &req.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(log.severity_number, 17);
        assert_eq!(log.trace_id.len(), 16);
        assert_eq!(hex_bytes("zz"), Vec::<u8>::new());
    }
}
