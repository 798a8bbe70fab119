//! The fast path must build exactly what the derives build, and refuse (hand back to the
//! derives) whatever they refuse.

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/otlp-json")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the derives make of `body` (`None` when they refuse it).
fn derived_traces(body: &[u8]) -> Option<ExportTraceServiceRequest> {
    serde_json::from_slice(body).ok()
}

fn derived_logs(body: &[u8]) -> Option<ExportLogsServiceRequest> {
    serde_json::from_slice(body).ok()
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        key_strindex: 0,
    }
}

/// Every kind of attribute value, nested both ways, plus an empty value and a `key_strindex`.
fn every_value() -> Vec<KeyValue> {
    vec![
        kv(
            "s",
            Value::StringValue("GET /cart \"quoted\" \\ ünïcode".into()),
        ),
        kv("b", Value::BoolValue(true)),
        kv("i", Value::IntValue(-9_007_199_254_740_993)),
        kv("d", Value::DoubleValue(0.125)),
        kv("bytes", Value::BytesValue(vec![0, 1, 2, 254, 255])),
        kv(
            "array",
            Value::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(Value::IntValue(7)),
                    },
                    AnyValue { value: None },
                    AnyValue {
                        value: Some(Value::KvlistValue(KeyValueList {
                            values: vec![kv("inner", Value::StringValue("x".into()))],
                        })),
                    },
                ],
            }),
        ),
        kv(
            "kvlist",
            Value::KvlistValue(KeyValueList {
                values: vec![kv(
                    "nested",
                    Value::ArrayValue(ArrayValue { values: vec![] }),
                )],
            }),
        ),
        KeyValue {
            key: "empty".into(),
            value: None,
            key_strindex: 3,
        },
    ]
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: every_value(),
        dropped_attributes_count: 2,
        entity_refs: vec![EntityRef {
            schema_url: "https://example.com/schema".into(),
            r#type: "service".into(),
            id_keys: vec!["service.name".into()],
            description_keys: vec!["service.version".into()],
        }],
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "lib".into(),
        version: "1.2.3".into(),
        attributes: every_value(),
        dropped_attributes_count: 1,
    })
}

fn every_field_traces() -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: (1..=16).collect(),
        span_id: (1..=8).collect(),
        trace_state: "vendor=1".into(),
        parent_span_id: (9..=16).collect(),
        flags: 0x301,
        name: "GET /cart".into(),
        kind: 2,
        start_time_unix_nano: 1_700_000_000_000_000_001,
        end_time_unix_nano: u64::MAX,
        attributes: every_value(),
        dropped_attributes_count: 4,
        events: vec![span::Event {
            time_unix_nano: 1_700_000_000_500_000_000,
            name: "exception".into(),
            attributes: every_value(),
            dropped_attributes_count: 5,
        }],
        dropped_events_count: 6,
        links: vec![span::Link {
            trace_id: (17..=32).collect(),
            span_id: (17..=24).collect(),
            trace_state: "other=2".into(),
            attributes: every_value(),
            dropped_attributes_count: 7,
            flags: 0x100,
        }],
        dropped_links_count: 8,
        status: Some(Status {
            message: "boom".into(),
            code: 2,
        }),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![
                ScopeSpans {
                    scope: scope(),
                    spans: vec![span, Span::default()],
                    schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
                },
                ScopeSpans::default(),
            ],
            schema_url: "https://opentelemetry.io/schemas/1.25.0".into(),
        }],
    }
}

fn every_field_logs() -> ExportLogsServiceRequest {
    let record = LogRecord {
        time_unix_nano: 1_700_000_000_000_000_001,
        observed_time_unix_nano: 1_700_000_000_000_000_002,
        severity_number: 17,
        severity_text: "ERROR".into(),
        body: Some(AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: every_value(),
            })),
        }),
        attributes: every_value(),
        dropped_attributes_count: 3,
        flags: 1,
        trace_id: (1..=16).collect(),
        span_id: (1..=8).collect(),
        event_name: "db.query".into(),
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records: vec![record, LogRecord::default()],
                schema_url: "s".into(),
            }],
            schema_url: "r".into(),
        }],
    }
}

#[test]
fn every_field_of_a_trace_request_reads_back_as_the_derives_wrote_it() {
    let request = every_field_traces();
    let body = serde_json::to_vec(&request).unwrap();
    assert_eq!(traces(&body), Some(request.clone()));
    assert_eq!(derived_traces(&body), Some(request));
}

#[test]
fn every_field_of_a_logs_request_reads_back_as_the_derives_wrote_it() {
    let request = every_field_logs();
    let body = serde_json::to_vec(&request).unwrap();
    assert_eq!(logs(&body), Some(request.clone()));
    assert_eq!(derived_logs(&body), Some(request));
}

#[test]
fn the_upstream_examples_decode_as_the_derives_decode_them() {
    let body = fixture("trace.json");
    let fast = traces(&body).expect("the trace example");
    assert!(!fast.resource_spans[0].scope_spans[0].spans.is_empty());
    assert_eq!(Some(fast), derived_traces(&body));
    let body = fixture("logs.json");
    let fast = logs(&body).expect("the logs example");
    assert!(!fast.resource_logs[0].scope_logs[0].log_records.is_empty());
    assert_eq!(Some(fast), derived_logs(&body));
}

/// Spellings proto3 JSON allows and the derives read: integers as numbers or strings, `null`
/// values inside an `AnyValue`, unknown keys (skipped), the last value key winning, upper-case
/// hex.
#[test]
fn alternative_spellings_decode_as_the_derives_decode_them() {
    let bodies = [
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","startTimeUnixNano":1544712660000000000,"endTimeUnixNano":"1544712661000000000","attributes":[{"key":"a","value":{"intValue":42}},{"key":"b","value":{"intValue":"-42"}},{"key":"c","value":{"stringValue":null,"boolValue":false}},{"key":"d","value":{"unknownValue":{"deep":[1,2,{"x":null}]},"doubleValue":3}},{"key":"e","value":{"stringValue":"first","stringValue2":1,"intValue":5}},{"key":"f","value":{}},{"key":"g","value":null},{"key":"h"}]}]}]}]}"#,
        r#"{"resourceSpans":[],"unknownTopLevel":{"a":[1]}}"#,
        r#"{}"#,
        r#"  {"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":null,"spans":[{"status":null,"events":[{"timeUnixNano":"5"}],"links":[{"traceId":"","spanId":""}]}]}]}]}  "#,
    ];
    for body in bodies {
        let fast = traces(body.as_bytes());
        assert!(fast.is_some(), "fast path refused {body}");
        assert_eq!(fast, derived_traces(body.as_bytes()), "{body}");
    }
    let log = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","observedTimeUnixNano":2,"body":{"stringValue":"x"},"traceId":"","spanId":"","attributes":[{"key":"k","value":{"arrayValue":{"values":[{"intValue":"1"},{}]}}}]}]}]}]}"#;
    assert!(logs(log.as_bytes()).is_some());
    assert_eq!(logs(log.as_bytes()), derived_logs(log.as_bytes()));
}

/// Whatever the derives refuse, the fast path refuses too, so the derives' error (or their
/// proto3 repair) is what the client gets.
#[test]
fn what_the_derives_refuse_the_fast_path_refuses() {
    let bodies = [
        // not JSON, trailing garbage, wrong top-level type
        r#"{"resourceSpans":["#,
        r#"{"resourceSpans":[]} x"#,
        r#""text""#,
        // a key-value without its key; an array value without its values
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"value":{"intValue":1}}]}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"a","value":{"arrayValue":{}}}]}]}]}]}"#,
        // ids that are not hex, or numbers
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"abc"}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":12}]}]}]}"#,
        // a float or out-of-range integer where an int64 goes; a negative timestamp
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"a","value":{"intValue":1.5}}]}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"a","value":{"intValue":"9223372036854775808"}}]}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":-1}]}]}]}"#,
        // bytes that are not base64; a value that is not an object
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"a","value":{"bytesValue":"!!"}}]}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"a","value":"text"}]}]}]}]}"#,
        // null where a plain field goes (the derives' repair path handles it), a string kind
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":null}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"2"}]}]}]}"#,
        // a duplicated field
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","name":"b"}]}]}]}"#,
    ];
    for body in bodies {
        assert_eq!(
            derived_traces(body.as_bytes()),
            None,
            "the derives took {body}"
        );
        assert_eq!(traces(body.as_bytes()), None, "the fast path took {body}");
    }
    let log = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"intValue":true}}]}]}]}"#;
    assert_eq!(derived_logs(log.as_bytes()), None);
    assert_eq!(logs(log.as_bytes()), None);
}
