//! Store tests on temporary databases: round trips, the official OTLP/JSON examples, metric
//! conversion, idempotence, group commit, backpressure, shutdown, retention and file handling.
//!
//! Over 800 lines on purpose: independent test cases (about 60) over one set of temporary-store
//! helpers; splitting them by theme would only scatter the helpers they all share.

use std::path::{Path, PathBuf};
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord as OtlpLog, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar as OtlpExemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, exemplar,
    exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as OtlpSpan, Status, span,
};
use prost::Message as _;
use serde_json::json;

use super::*;
use crate::model::{Labels, SpanKind, StatusCode};

const T0: u64 = 1_700_000_000_000_000_000;
const SEC: u64 = 1_000_000_000;

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("obs.db");
    (dir, path)
}

fn s(v: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::StringValue(v.into())),
    })
}

fn kv(key: &str, value: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value,
        ..Default::default()
    }
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![
            kv("service.name", s(service)),
            kv("service.instance.id", s("pod-1")),
            kv("host.name", s("node-a")),
        ],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "my.library".into(),
        version: "1.0.0".into(),
        ..Default::default()
    })
}

fn tid(n: u8) -> Vec<u8> {
    let mut v = vec![0xab; 16];
    v[15] = n;
    v
}

fn sid(n: u8) -> Vec<u8> {
    let mut v = vec![0xcd; 8];
    v[7] = n;
    v
}

fn hexs(b: &[u8]) -> String {
    super::convert::hex(b)
}

fn simple_span(trace: u8, span_n: u8, parent: Option<u8>, start: u64, end: u64) -> OtlpSpan {
    OtlpSpan {
        trace_id: tid(trace),
        span_id: sid(span_n),
        parent_span_id: parent.map(sid).unwrap_or_default(),
        name: format!("op-{span_n}"),
        kind: 2,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        ..Default::default()
    }
}

fn traces(service: &str, spans: Vec<OtlpSpan>) -> Payload {
    Payload::Traces(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(service),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

fn logs(service: &str, records: Vec<OtlpLog>) -> Payload {
    Payload::Logs(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(service),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

fn metrics(service: &str, metrics: Vec<Metric>) -> Payload {
    Payload::Metrics(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(service),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

fn sum_metric(
    name: &str,
    unit: &str,
    temporality: AggregationTemporality,
    monotonic: bool,
    points: Vec<(u64, f64)>,
) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: "a sum".into(),
        data: Some(Data::Sum(Sum {
            data_points: points
                .into_iter()
                .map(|(t, v)| NumberDataPoint {
                    attributes: vec![kv("http.route", s("/api"))],
                    start_time_unix_nano: T0,
                    time_unix_nano: t,
                    value: Some(number_data_point::Value::AsDouble(v)),
                    ..Default::default()
                })
                .collect(),
            aggregation_temporality: temporality as i32,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

fn histogram_metric(
    name: &str,
    temporality: AggregationTemporality,
    points: Vec<(u64, Vec<u64>)>,
) -> Metric {
    Metric {
        name: name.into(),
        unit: "s".into(),
        data: Some(Data::Histogram(Histogram {
            data_points: points
                .into_iter()
                .map(|(t, counts)| HistogramDataPoint {
                    attributes: vec![kv("http.route", s("/api"))],
                    time_unix_nano: t,
                    count: counts.iter().sum(),
                    sum: Some(counts.iter().sum::<u64>() as f64 * 0.1),
                    bucket_counts: counts,
                    explicit_bounds: vec![0.1, 0.5],
                    ..Default::default()
                })
                .collect(),
            aggregation_temporality: temporality as i32,
        })),
        ..Default::default()
    }
}

fn spawn(path: &Path) -> (WriterHandle, Writer) {
    spawn_writer(path, WriterConfig::default()).unwrap()
}

fn put(handle: &WriterHandle, payload: Payload) -> Committed {
    handle.submit(payload).unwrap().wait_blocking().unwrap()
}

fn series_values(store: &Store, name: &str) -> Vec<(Labels, Vec<(i64, f64)>)> {
    store
        .series(name, 0, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|s| (s.labels, s.samples))
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Round trips

#[test]
fn spans_round_trip_every_field() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    let attrs = vec![
        kv("str", s("v")),
        kv(
            "int",
            Some(AnyValue {
                value: Some(Value::IntValue(-42)),
            }),
        ),
        kv(
            "dbl",
            Some(AnyValue {
                value: Some(Value::DoubleValue(1.5)),
            }),
        ),
        kv(
            "bool",
            Some(AnyValue {
                value: Some(Value::BoolValue(true)),
            }),
        ),
        kv(
            "bytes",
            Some(AnyValue {
                value: Some(Value::BytesValue(b"foo".to_vec())),
            }),
        ),
        kv(
            "arr",
            Some(AnyValue {
                value: Some(Value::ArrayValue(ArrayValue {
                    values: vec![s("a").unwrap(), s("b").unwrap()],
                })),
            }),
        ),
        kv(
            "map",
            Some(AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: vec![kv("k", s("x"))],
                })),
            }),
        ),
        kv(
            "nan",
            Some(AnyValue {
                value: Some(Value::DoubleValue(f64::NAN)),
            }),
        ),
        kv("huge", s(&"x".repeat(1 << 20))),
    ];
    let span = OtlpSpan {
        trace_id: tid(1),
        span_id: sid(2),
        parent_span_id: sid(1),
        trace_state: "k=v".into(),
        flags: 0x301,
        name: "GET /api".into(),
        kind: 3,
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 250_000_000,
        attributes: attrs,
        dropped_attributes_count: 1,
        events: vec![span::Event {
            time_unix_nano: T0 + 1,
            name: "exception".into(),
            attributes: vec![
                kv("exception.type", s("PoolTimeout")),
                kv("exception.message", s("no connection")),
            ],
            dropped_attributes_count: 0,
        }],
        dropped_events_count: 2,
        links: vec![span::Link {
            trace_id: tid(9),
            span_id: sid(9),
            trace_state: "a=b".into(),
            attributes: vec![kv("link.kind", s("follows"))],
            dropped_attributes_count: 0,
            flags: 1,
        }],
        dropped_links_count: 3,
        status: Some(Status {
            message: "boom".into(),
            code: 2,
        }),
    };
    let sent = span.clone();
    let c = put(&h, traces("checkout", vec![span]));
    assert_eq!(
        c,
        Committed {
            accepted: 1,
            rejected: 0,
            message: None
        }
    );
    w.shutdown().unwrap();

    let store = Store::open_read_only(&path).unwrap();
    let trace = store.trace(&hexs(&tid(1))).unwrap().unwrap();
    assert_eq!(trace.spans.len(), 1);
    let got = &trace.spans[0];
    assert_eq!(got.trace_id, hexs(&tid(1)));
    assert_eq!(got.span_id, hexs(&sid(2)));
    assert_eq!(got.parent_span_id.as_deref(), Some(hexs(&sid(1)).as_str()));
    assert_eq!(got.name, "GET /api");
    assert_eq!(got.service, "checkout");
    assert_eq!(got.kind, SpanKind::Client);
    assert_eq!(got.start_unix_nano, T0 as i64);
    assert_eq!(got.end_unix_nano, T0 as i64 + 250_000_000);
    assert_eq!(got.status, StatusCode::Error);
    assert_eq!(got.status_message, "boom");
    assert_eq!(got.attributes["str"], json!("v"));
    assert_eq!(got.attributes["int"], json!(-42));
    assert_eq!(got.attributes["dbl"], json!(1.5));
    assert_eq!(got.attributes["bool"], json!(true));
    assert_eq!(got.attributes["bytes"], json!("Zm9v"));
    assert_eq!(got.attributes["arr"], json!(["a", "b"]));
    assert_eq!(got.attributes["map"], json!({"k": "x"}));
    assert_eq!(got.attributes["nan"], json!("NaN"));
    assert_eq!(got.attributes["huge"].as_str().map(str::len), Some(1 << 20));
    assert_eq!(got.resource["service.name"], json!("checkout"));
    assert_eq!(got.resource["host.name"], json!("node-a"));
    assert_eq!(got.scope.as_deref(), Some("my.library"));
    assert_eq!(
        got.exception(),
        Some(("PoolTimeout".into(), "no connection".into()))
    );
    assert_eq!(got.events[0].time_unix_nano, T0 as i64 + 1);
    assert_eq!(got.links[0].trace_id, hexs(&tid(9)));
    assert_eq!(got.links[0].span_id, hexs(&sid(9)));
    assert_eq!(got.links[0].attributes["link.kind"], json!("follows"));

    // Everything, including fields the model has no place for, is in the file as sent: the
    // chunk decodes to the very span, resource and scope (compared encoded: NaN != NaN).
    let conn = rusqlite::Connection::open(&path).unwrap();
    let data: Vec<u8> = conn
        .query_row("SELECT data FROM span_chunks", [], |r| r.get(0))
        .unwrap();
    let stored = chunks::decode(&data).unwrap();
    assert_eq!(stored.scope_spans.len(), 1);
    assert_eq!(stored.scope_spans[0].spans.len(), 1);
    assert_eq!(
        stored.scope_spans[0].spans[0].encode_to_vec(),
        sent.encode_to_vec()
    );
    assert_eq!(
        stored.resource.as_ref().unwrap().attributes[0].key,
        "service.name"
    );
    assert_eq!(
        stored.scope_spans[0].scope.as_ref().unwrap().version,
        "1.0.0"
    );

    // Search sees the trace and its summary.
    let hits = store
        .search_traces(&TraceQuery {
            service: Some("checkout".into()),
            errors_only: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].span_count, Some(1));
    assert_eq!(hits[0].has_error, Some(true));
    assert_eq!(hits[0].duration_ms, 250.0);
    // Not a root span: the trace has no root yet.
    assert_eq!(hits[0].root_name, None);
}

#[test]
fn trace_search_filters_and_orders() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    put(
        &h,
        traces(
            "api",
            vec![
                simple_span(1, 1, None, T0, T0 + 2 * SEC),
                simple_span(1, 2, Some(1), T0 + 1, T0 + SEC),
            ],
        ),
    );
    put(
        &h,
        traces("db", vec![simple_span(1, 3, Some(2), T0 + 2, T0 + 3)]),
    );
    put(
        &h,
        traces(
            "api",
            vec![simple_span(2, 1, None, T0 + 10 * SEC, T0 + 10 * SEC + 1000)],
        ),
    );
    w.shutdown().unwrap();
    let store = Store::open_read_only(&path).unwrap();
    let all = store.search_traces(&TraceQuery::default()).unwrap();
    assert_eq!(
        all.iter().map(|t| t.trace_id.clone()).collect::<Vec<_>>(),
        vec![hexs(&tid(2)), hexs(&tid(1))]
    );
    assert_eq!(all[1].span_count, Some(3));
    assert_eq!(all[1].root_service.as_deref(), Some("api"));
    assert_eq!(all[1].root_name.as_deref(), Some("op-1"));
    let q = |q: TraceQuery| {
        store
            .search_traces(&q)
            .unwrap()
            .into_iter()
            .map(|t| t.trace_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        q(TraceQuery {
            service: Some("db".into()),
            ..Default::default()
        }),
        vec![hexs(&tid(1))]
    );
    assert_eq!(
        q(TraceQuery {
            operation: Some("op-3".into()),
            ..Default::default()
        }),
        vec![hexs(&tid(1))]
    );
    assert_eq!(
        q(TraceQuery {
            service: Some("api".into()),
            operation: Some("op-3".into()),
            ..Default::default()
        }),
        Vec::<String>::new()
    );
    assert_eq!(
        q(TraceQuery {
            min_duration: Some(Duration::from_secs(1)),
            ..Default::default()
        }),
        vec![hexs(&tid(1))]
    );
    assert_eq!(
        q(TraceQuery {
            start_unix_nano: Some((T0 + 5 * SEC) as i64),
            ..Default::default()
        }),
        vec![hexs(&tid(2))]
    );
    assert_eq!(
        q(TraceQuery {
            end_unix_nano: Some((T0 + 5 * SEC) as i64),
            ..Default::default()
        }),
        vec![hexs(&tid(1))]
    );
    assert_eq!(
        q(TraceQuery {
            limit: 1,
            ..Default::default()
        }),
        vec![hexs(&tid(2))]
    );
    assert!(
        store
            .trace(&"0".repeat(31).to_string().replace("0", "f"))
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.trace("not-hex"),
        Err(StoreError::InvalidQuery(_))
    ));
}

#[test]
fn logs_round_trip_every_field() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    let records = vec![
        OtlpLog {
            time_unix_nano: T0,
            observed_time_unix_nano: T0 + 5,
            severity_number: 17,
            severity_text: "ERROR".into(),
            body: s("payment failed: card declined"),
            attributes: vec![
                kv("user.id", s("u1")),
                kv(
                    "retry",
                    Some(AnyValue {
                        value: Some(Value::IntValue(3)),
                    }),
                ),
            ],
            dropped_attributes_count: 1,
            flags: 1,
            trace_id: tid(1),
            span_id: sid(1),
            event_name: "payment.failed".into(),
        },
        OtlpLog {
            // No time: the observed time stands in, as OTLP says.
            time_unix_nano: 0,
            observed_time_unix_nano: T0 + SEC,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: vec![kv("msg", s("structured"))],
                })),
            }),
            ..Default::default()
        },
    ];
    let c = put(&h, logs("payments", records));
    assert_eq!(c.accepted, 2);
    w.shutdown().unwrap();

    let store = Store::open_read_only(&path).unwrap();
    let got = store
        .logs(&LogQuery {
            direction: Direction::Forward,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(got.len(), 2);
    let a = &got[0];
    assert_eq!(a.timestamp_unix_nano, T0 as i64);
    assert_eq!(a.severity.as_deref(), Some("ERROR"));
    assert_eq!(a.severity_number, Some(17));
    assert_eq!(a.service.as_deref(), Some("payments"));
    assert_eq!(a.body, "payment failed: card declined");
    assert_eq!(a.trace_id.as_deref(), Some(hexs(&tid(1)).as_str()));
    assert_eq!(a.span_id.as_deref(), Some(hexs(&sid(1)).as_str()));
    assert_eq!(a.labels.get("user.id").map(String::as_str), Some("u1"));
    assert_eq!(a.labels.get("retry").map(String::as_str), Some("3"));
    assert_eq!(
        a.labels.get("host.name").map(String::as_str),
        Some("node-a")
    );
    assert_eq!(
        a.labels.get("event.name").map(String::as_str),
        Some("payment.failed")
    );
    let b = &got[1];
    assert_eq!(b.timestamp_unix_nano, (T0 + SEC) as i64);
    assert_eq!(b.body, r#"{"msg":"structured"}"#);
    assert_eq!(b.trace_id, None);

    // Filters.
    let q = |q: LogQuery| store.logs(&q).unwrap().len();
    assert_eq!(
        q(LogQuery {
            trace_id: Some(hexs(&tid(1)).to_uppercase()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        q(LogQuery {
            min_severity_number: Some(17),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        q(LogQuery {
            contains: Some("declined".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        q(LogQuery {
            contains: Some("Declined".into()),
            ..Default::default()
        }),
        0
    );
    assert_eq!(
        q(LogQuery {
            service: Some("other".into()),
            ..Default::default()
        }),
        0
    );
    assert_eq!(
        q(LogQuery {
            start_unix_nano: Some((T0 + 1) as i64),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        q(LogQuery {
            end_unix_nano: Some(T0 as i64),
            ..Default::default()
        }),
        1
    );
    let newest = store
        .logs(&LogQuery {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(newest[0].timestamp_unix_nano, (T0 + SEC) as i64);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let row: (i64, i64, i64, String, String) = conn
        .query_row(
            "SELECT observed_ns, flags, dropped_attributes_count, attributes, event_name FROM logs WHERE time_ns != 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!((row.0, row.1, row.2), ((T0 + 5) as i64, 1, 1));
    assert_eq!(row.3, r#"{"retry":3,"user.id":"u1"}"#);
    let typed: Option<String> = conn
        .query_row("SELECT body_json FROM logs WHERE time_ns = 0", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(typed.as_deref(), Some(r#"{"msg":"structured"}"#));
}

#[test]
fn metrics_become_prometheus_series() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    let ex = |v: f64, trace: u8| OtlpExemplar {
        filtered_attributes: vec![kv("user", s("u1"))],
        time_unix_nano: T0 + 7,
        span_id: sid(trace),
        trace_id: tid(trace),
        value: Some(exemplar::Value::AsDouble(v)),
    };
    let mut hist = histogram_metric(
        "http.server.request.duration",
        AggregationTemporality::Cumulative,
        vec![(T0, vec![1, 2, 3])],
    );
    if let Some(Data::Histogram(h)) = &mut hist.data {
        h.data_points[0].exemplars = vec![ex(0.3, 1), ex(9.0, 2)];
    }
    let mut counter = sum_metric(
        "http.requests",
        "{request}",
        AggregationTemporality::Cumulative,
        true,
        vec![(T0, 5.0), (T0 + SEC, 7.0)],
    );
    if let Some(Data::Sum(s)) = &mut counter.data {
        s.data_points[1].exemplars = vec![ex(1.0, 3)];
    }
    let gauge = Metric {
        name: "system.memory.utilization".into(),
        unit: "1".into(),
        data: Some(Data::Gauge(Gauge {
            data_points: vec![
                NumberDataPoint {
                    time_unix_nano: T0,
                    value: Some(number_data_point::Value::AsInt(1)),
                    ..Default::default()
                },
                NumberDataPoint {
                    time_unix_nano: T0 + SEC,
                    value: Some(number_data_point::Value::AsDouble(f64::NAN)),
                    ..Default::default()
                },
                NumberDataPoint {
                    time_unix_nano: T0 + 2 * SEC,
                    flags: 1,
                    ..Default::default()
                },
            ],
        })),
        ..Default::default()
    };
    let updown = sum_metric(
        "queue.size",
        "",
        AggregationTemporality::Cumulative,
        false,
        vec![(T0, -3.0)],
    );
    let summary = Metric {
        name: "rpc.latency".into(),
        unit: "ms".into(),
        data: Some(Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                time_unix_nano: T0,
                count: 10,
                sum: 55.0,
                quantile_values: vec![
                    ValueAtQuantile {
                        quantile: 0.99,
                        value: 9.0,
                    },
                    ValueAtQuantile {
                        quantile: 0.5,
                        value: 5.0,
                    },
                ],
                ..Default::default()
            }],
        })),
        ..Default::default()
    };
    let exp = Metric {
        name: "payload.size".into(),
        unit: "By".into(),
        data: Some(Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                time_unix_nano: T0,
                count: 6,
                sum: Some(20.0),
                scale: 0,
                zero_count: 1,
                positive: Some(Buckets {
                    offset: 1,
                    bucket_counts: vec![2, 3],
                }),
                exemplars: vec![ex(3.0, 4)],
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    };
    let c = put(
        &h,
        metrics("checkout", vec![hist, counter, gauge, updown, summary, exp]),
    );
    assert_eq!(
        c,
        Committed {
            accepted: 9,
            rejected: 0,
            message: None
        }
    );
    w.shutdown().unwrap();

    let store = Store::open_read_only(&path).unwrap();
    let base = [
        ("job", "checkout"),
        ("instance", "pod-1"),
        ("otel_scope_name", "my.library"),
        ("otel_scope_version", "1.0.0"),
    ];
    let with = |extra: &[(&str, &str)]| {
        let mut l = labels(&base);
        l.extend(labels(extra));
        l
    };
    let names = store.metric_names(0, i64::MAX).unwrap();
    assert_eq!(
        names,
        [
            "http_requests_total",
            "http_server_request_duration_seconds_bucket",
            "http_server_request_duration_seconds_count",
            "http_server_request_duration_seconds_sum",
            "payload_size_bytes_bucket",
            "payload_size_bytes_count",
            "payload_size_bytes_sum",
            "queue_size",
            "rpc_latency_milliseconds",
            "rpc_latency_milliseconds_count",
            "rpc_latency_milliseconds_sum",
            "system_memory_utilization_ratio",
            "target_info",
        ]
    );

    let buckets = series_values(&store, "http_server_request_duration_seconds_bucket");
    let by_le: Vec<(String, f64)> = buckets
        .iter()
        .map(|(l, s)| (l["le"].clone(), s[0].1))
        .collect();
    assert_eq!(
        by_le,
        vec![
            ("+Inf".into(), 6.0),
            ("0.1".into(), 1.0),
            ("0.5".into(), 3.0)
        ]
    );
    assert_eq!(
        buckets[0].0,
        with(&[
            ("__name__", "http_server_request_duration_seconds_bucket"),
            ("http_route", "/api"),
            ("le", "+Inf")
        ])
    );
    assert_eq!(
        series_values(&store, "http_server_request_duration_seconds_count")[0].1,
        vec![(T0 as i64, 6.0)]
    );
    let sum = series_values(&store, "http_server_request_duration_seconds_sum")[0].1[0].1;
    assert!((sum - 0.6).abs() < 1e-9);

    assert_eq!(
        series_values(&store, "http_requests_total")[0].1,
        vec![(T0 as i64, 5.0), ((T0 + SEC) as i64, 7.0)]
    );
    let gauge = &series_values(&store, "system_memory_utilization_ratio")[0];
    assert_eq!(
        gauge.0,
        with(&[("__name__", "system_memory_utilization_ratio")])
    );
    assert_eq!(gauge.1[0], (T0 as i64, 1.0));
    assert!(gauge.1[1].1.is_nan() && gauge.1[1].1.to_bits() != STALE_NAN_BITS);
    assert_eq!(gauge.1[2].1.to_bits(), STALE_NAN_BITS);
    assert_eq!(
        series_values(&store, "queue_size")[0].1,
        vec![(T0 as i64, -3.0)]
    );

    let quantiles: Vec<(String, f64)> = series_values(&store, "rpc_latency_milliseconds")
        .iter()
        .map(|(l, s)| (l["quantile"].clone(), s[0].1))
        .collect();
    assert_eq!(quantiles, vec![("0.5".into(), 5.0), ("0.99".into(), 9.0)]);
    assert_eq!(
        series_values(&store, "rpc_latency_milliseconds_sum")[0].1[0].1,
        55.0
    );
    assert_eq!(
        series_values(&store, "rpc_latency_milliseconds_count")[0].1[0].1,
        10.0
    );

    // Exponential: scale 0, positive offset 1 → (2,4] = 2, (4,8] = 3; zero bucket 1.
    let mut exp: Vec<(f64, f64)> = series_values(&store, "payload_size_bytes_bucket")
        .iter()
        .map(|(l, s)| {
            (
                if l["le"] == "+Inf" {
                    f64::INFINITY
                } else {
                    l["le"].parse().unwrap()
                },
                s[0].1,
            )
        })
        .collect();
    exp.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(
        exp,
        vec![(0.0, 1.0), (4.0, 3.0), (8.0, 6.0), (f64::INFINITY, 6.0)]
    );

    let target = &series_values(&store, "target_info")[0];
    assert_eq!(
        target.0,
        labels(&[
            ("__name__", "target_info"),
            ("job", "checkout"),
            ("instance", "pod-1"),
            ("host_name", "node-a")
        ])
    );

    // Exemplars: on the bucket whose bound holds the value, on the counter, on the exp bucket.
    let exemplars = store
        .exemplars(
            &["http_server_request_duration_seconds".into()],
            0,
            i64::MAX,
        )
        .unwrap();
    assert_eq!(exemplars.len(), 2);
    let e0 = exemplars.iter().find(|e| e.value == 0.3).unwrap();
    assert_eq!(e0.series_labels["le"], "0.5");
    assert_eq!(e0.trace_id(), Some(hexs(&tid(1)).as_str()));
    assert_eq!(e0.labels["span_id"], hexs(&sid(1)));
    assert_eq!(e0.labels["user"], "u1");
    assert_eq!(e0.timestamp, (T0 + 7) as f64 / 1e9);
    let e1 = exemplars.iter().find(|e| e.value == 9.0).unwrap();
    assert_eq!(e1.series_labels["le"], "+Inf");
    let counter_ex = store
        .exemplars(&["http_requests_total".into()], 0, i64::MAX)
        .unwrap();
    assert_eq!(counter_ex.len(), 1);
    assert_eq!(
        counter_ex[0].series_labels["__name__"],
        "http_requests_total"
    );
    let exp_ex = store
        .exemplars(&["payload_size_bytes_bucket".into()], 0, i64::MAX)
        .unwrap();
    assert_eq!(exp_ex[0].series_labels["le"], "4");
    assert!(
        store
            .exemplars(&["http_requests_total".into()], 0, T0 as i64)
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        store
            .metric_metadata("http_server_request_duration_seconds")
            .unwrap(),
        Some(("histogram".into(), "s".into(), String::new()))
    );
}

#[test]
fn bad_items_are_rejected_alone_with_a_reason() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    let mut bad_span = simple_span(1, 2, None, T0, T0 + 1);
    bad_span.span_id = vec![1, 2, 3];
    let mut bad_parent = simple_span(1, 3, None, T0, T0 + 1);
    bad_parent.parent_span_id = vec![1; 9];
    let mut zero_trace = simple_span(1, 4, None, T0, T0 + 1);
    zero_trace.trace_id = vec![0; 16];
    let c = put(
        &h,
        traces(
            "api",
            vec![
                simple_span(1, 1, None, T0, T0 + 1),
                bad_span,
                bad_parent,
                zero_trace,
            ],
        ),
    );
    assert_eq!((c.accepted, c.rejected), (1, 3));
    let msg = c.message.unwrap();
    assert!(
        msg.starts_with(
            "3 spans rejected: span \"op-2\": invalid span id \"010203\": 3 bytes, expected 8"
        ),
        "{msg}"
    );

    let c = put(
        &h,
        logs(
            "api",
            vec![
                OtlpLog {
                    trace_id: vec![1, 2, 3],
                    body: s("x"),
                    ..Default::default()
                },
                OtlpLog {
                    body: s("ok"),
                    ..Default::default()
                },
            ],
        ),
    );
    assert_eq!((c.accepted, c.rejected), (1, 1));
    assert!(c.message.unwrap().contains("log record: invalid trace id"));

    let mut hist = histogram_metric(
        "h",
        AggregationTemporality::Cumulative,
        vec![(T0, vec![1, 1, 1])],
    );
    if let Some(Data::Histogram(h)) = &mut hist.data {
        h.data_points[0].explicit_bounds = vec![1.0];
        h.data_points.push(HistogramDataPoint {
            time_unix_nano: T0,
            count: 2,
            bucket_counts: vec![1, 1],
            explicit_bounds: vec![1.0],
            ..Default::default()
        });
    }
    let unspecified = sum_metric(
        "s",
        "",
        AggregationTemporality::Unspecified,
        true,
        vec![(T0, 1.0)],
    );
    let c = put(&h, metrics("api", vec![hist, unspecified]));
    assert_eq!((c.accepted, c.rejected), (1, 2));
    let msg = c.message.unwrap();
    assert!(
        msg.contains("histogram point has 3 bucket counts for 1 explicit bounds"),
        "{msg}"
    );
    assert!(msg.contains("aggregation temporality 0"), "{msg}");
    let stats = h.stats();
    assert_eq!(
        stats
            .rejected_items
            .load(std::sync::atomic::Ordering::Relaxed),
        6
    );
    w.shutdown().unwrap();
}

// ---------------------------------------------------------------------------------------------
// The official OTLP/JSON examples

fn fixture(name: &str) -> &'static str {
    match name {
        "trace" => include_str!("../../fixtures/otlp-json/trace.json"),
        "logs" => include_str!("../../fixtures/otlp-json/logs.json"),
        _ => include_str!("../../fixtures/otlp-json/metrics.json"),
    }
}

#[test]
fn official_otlp_json_examples_parse_and_store() {
    // with-serde parses upper-case hex ids and 64-bit integers written as JSON numbers.
    let t: ExportTraceServiceRequest = serde_json::from_str(fixture("trace")).unwrap();
    let l: ExportLogsServiceRequest = serde_json::from_str(fixture("logs")).unwrap();
    let m: ExportMetricsServiceRequest = serde_json::from_str(fixture("metrics")).unwrap();
    assert_eq!(
        t.resource_spans[0].scope_spans[0].spans[0].trace_id[0],
        0x5b
    );

    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    assert_eq!(
        put(&h, Payload::Traces(t)),
        Committed {
            accepted: 1,
            rejected: 0,
            message: None
        }
    );
    assert_eq!(
        put(&h, Payload::Logs(l)),
        Committed {
            accepted: 1,
            rejected: 0,
            message: None
        }
    );
    let c = put(&h, Payload::Metrics(m));
    // The example histogram has 3 bucket counts for 1 bound: that point is rejected, and said.
    assert_eq!((c.accepted, c.rejected), (2, 1));
    assert!(c.message.unwrap().contains(
        "metric \"my.histogram\": histogram point has 3 bucket counts for 1 explicit bounds"
    ));
    w.shutdown().unwrap();

    let store = Store::open_read_only(&path).unwrap();
    let trace = store
        .trace("5B8EFFF798038103D269B633813FC60C")
        .unwrap()
        .unwrap();
    let span = &trace.spans[0];
    assert_eq!(span.trace_id, "5b8efff798038103d269b633813fc60c");
    assert_eq!(span.span_id, "eee19b7ec3c1b174");
    assert_eq!(span.parent_span_id.as_deref(), Some("eee19b7ec3c1b173"));
    assert_eq!(span.name, "I'm a server span");
    assert_eq!(span.kind, SpanKind::Server);
    assert_eq!(span.service, "my.service");
    assert_eq!(span.start_unix_nano, 1_544_712_660_000_000_000);
    assert_eq!(span.end_unix_nano, 1_544_712_661_000_000_000);
    assert_eq!(span.attributes["my.span.attr"], json!("some value"));
    assert_eq!(span.scope.as_deref(), Some("my.library"));

    let logs = store.logs(&LogQuery::default()).unwrap();
    let log = &logs[0];
    assert_eq!(log.body, "Example log record");
    assert_eq!(log.severity.as_deref(), Some("Information"));
    assert_eq!(log.severity_number, None);
    assert_eq!(
        log.trace_id.as_deref(),
        Some("5b8efff798038103d269b633813fc60c")
    );
    assert_eq!(log.span_id.as_deref(), Some("eee19b7ec3c1b174"));
    assert_eq!(log.timestamp_unix_nano, 1_544_712_660_300_000_000);
    for (k, v) in [
        ("string.attribute", "some string"),
        ("boolean.attribute", "true"),
        ("int.attribute", "10"),
        ("double.attribute", "637.704"),
        ("array.attribute", r#"["many","values"]"#),
        ("map.attribute", r#"{"some.map.key":"some value"}"#),
    ] {
        assert_eq!(log.labels.get(k).map(String::as_str), Some(v), "{k}");
    }

    // my.counter is a DELTA monotonic sum with unit "1": a counter, no _ratio; my.gauge gets _ratio.
    let counter = &series_values(&store, "my_counter_total")[0];
    assert_eq!(counter.1, vec![(1_544_712_660_300_000_000, 5.0)]);
    assert_eq!(counter.0["my_counter_attr"], "some value");
    assert_eq!(counter.0["job"], "my.service");
    assert_eq!(series_values(&store, "my_gauge_ratio")[0].1[0].1, 10.0);
    assert!(series_values(&store, "my_histogram_bucket").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Delta → cumulative

#[test]
fn delta_sums_and_histograms_accumulate_across_requests_and_restarts() {
    let (_dir, path) = tmp();
    let delta = AggregationTemporality::Delta;
    {
        let (h, w) = spawn(&path);
        put(
            &h,
            metrics(
                "api",
                vec![
                    sum_metric("jobs", "", delta, true, vec![(T0 + SEC, 2.0)]),
                    histogram_metric("wait", delta, vec![(T0 + SEC, vec![1, 0, 0])]),
                ],
            ),
        );
        put(
            &h,
            metrics(
                "api",
                vec![
                    sum_metric("jobs", "", delta, true, vec![(T0 + 2 * SEC, 3.0)]),
                    histogram_metric("wait", delta, vec![(T0 + 2 * SEC, vec![0, 2, 1])]),
                ],
            ),
        );
        w.shutdown().unwrap();
    }
    {
        // A restarted sink continues the running totals.
        let (h, w) = spawn(&path);
        let c = put(
            &h,
            metrics(
                "api",
                vec![
                    sum_metric("jobs", "", delta, true, vec![(T0 + 3 * SEC, 4.0)]),
                    histogram_metric("wait", delta, vec![(T0 + 3 * SEC, vec![1, 1, 1])]),
                ],
            ),
        );
        assert_eq!((c.accepted, c.rejected), (2, 0));
        // A client resending the same delta must not count twice.
        let again = put(
            &h,
            metrics(
                "api",
                vec![sum_metric(
                    "jobs",
                    "",
                    delta,
                    true,
                    vec![(T0 + 3 * SEC, 4.0)],
                )],
            ),
        );
        assert_eq!(again.accepted, 1);
        assert_eq!(
            h.stats()
                .duplicate_items
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        w.shutdown().unwrap();
    }
    let store = Store::open_read_only(&path).unwrap();
    let jobs = &series_values(&store, "jobs_total")[0].1;
    assert_eq!(
        jobs.iter().map(|p| p.1).collect::<Vec<_>>(),
        vec![2.0, 5.0, 9.0]
    );
    let inf: Vec<f64> = series_values(&store, "wait_seconds_bucket")
        .into_iter()
        .find(|(l, _)| l["le"] == "+Inf")
        .unwrap()
        .1
        .iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(inf, vec![1.0, 4.0, 7.0]);
    let le_half: Vec<f64> = series_values(&store, "wait_seconds_bucket")
        .into_iter()
        .find(|(l, _)| l["le"] == "0.5")
        .unwrap()
        .1
        .iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(le_half, vec![1.0, 3.0, 5.0]);
    let count: Vec<f64> = series_values(&store, "wait_seconds_count")[0]
        .1
        .iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(count, vec![1.0, 4.0, 7.0]);
}

// ---------------------------------------------------------------------------------------------
// Idempotence

#[test]
fn retried_requests_store_nothing_twice() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    let t = || {
        traces(
            "api",
            vec![
                simple_span(1, 1, None, T0, T0 + 5),
                simple_span(1, 2, Some(1), T0 + 1, T0 + 2),
            ],
        )
    };
    let l = || {
        logs(
            "api",
            vec![
                OtlpLog {
                    time_unix_nano: T0,
                    body: s("hello"),
                    ..Default::default()
                },
                OtlpLog {
                    time_unix_nano: T0,
                    body: s("hello"),
                    severity_number: 9,
                    ..Default::default()
                },
            ],
        )
    };
    let m = || {
        metrics(
            "api",
            vec![
                histogram_metric(
                    "lat",
                    AggregationTemporality::Cumulative,
                    vec![(T0, vec![1, 1, 1])],
                ),
                sum_metric(
                    "c",
                    "",
                    AggregationTemporality::Cumulative,
                    true,
                    vec![(T0, 1.0)],
                ),
            ],
        )
    };
    for _ in 0..2 {
        assert_eq!(put(&h, t()).accepted, 2);
        assert_eq!(put(&h, l()).accepted, 2);
        assert_eq!(put(&h, m()).accepted, 2);
    }
    let stats = h.stats();
    assert_eq!(
        stats
            .duplicate_items
            .load(std::sync::atomic::Ordering::Relaxed),
        6
    );
    assert_eq!(
        stats
            .committed_items
            .load(std::sync::atomic::Ordering::Relaxed),
        6
    );
    w.shutdown().unwrap();
    let info = Store::open_read_only(&path).unwrap().info().unwrap();
    assert_eq!((info.spans, info.traces, info.logs), (2, 1, 2));
    // lat: 3 buckets + sum + count; c_total: 1; target_info: 1.
    assert_eq!(info.metric_points, 7);
    let store = Store::open_read_only(&path).unwrap();
    assert_eq!(
        store.search_traces(&TraceQuery::default()).unwrap()[0].span_count,
        Some(2)
    );
}

#[test]
fn spans_are_grouped_into_one_chunk_per_trace_and_resource() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    // Two resources, the first with two scopes; three traces interleaved across all of them.
    let scoped = |name: &str, spans: Vec<OtlpSpan>| ScopeSpans {
        scope: Some(InstrumentationScope {
            name: name.into(),
            ..Default::default()
        }),
        spans,
        ..Default::default()
    };
    let request = Payload::Traces(ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: resource("api"),
                scope_spans: vec![
                    scoped(
                        "http",
                        vec![
                            simple_span(1, 1, None, T0, T0 + 10),
                            simple_span(2, 1, None, T0, T0 + 10),
                            simple_span(1, 2, Some(1), T0 + 1, T0 + 2),
                        ],
                    ),
                    scoped(
                        "sql",
                        vec![
                            simple_span(1, 3, Some(1), T0 + 3, T0 + 4),
                            simple_span(3, 1, None, T0, T0 + 10),
                        ],
                    ),
                ],
                ..Default::default()
            },
            ResourceSpans {
                resource: resource("db"),
                scope_spans: vec![scoped(
                    "pg",
                    vec![
                        simple_span(1, 4, Some(3), T0 + 3, T0 + 4),
                        simple_span(2, 2, Some(1), T0 + 1, T0 + 2),
                    ],
                )],
                ..Default::default()
            },
        ],
    });
    assert_eq!(put(&h, request).accepted, 7);
    // A span of trace 1 sent again in a differently batched request, with a new one.
    put(
        &h,
        traces(
            "db",
            vec![
                simple_span(1, 4, Some(3), T0 + 3, T0 + 4),
                simple_span(1, 5, Some(4), T0 + 3, T0 + 4),
            ],
        ),
    );
    w.shutdown().unwrap();

    let conn = rusqlite::Connection::open(&path).unwrap();
    let chunks: Vec<(String, String, i64, String)> = conn
        .prepare("SELECT trace_id, service, span_count, names FROM span_chunks ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let rows: Vec<(String, &str, i64)> = chunks
        .iter()
        .map(|(t, s, n, _)| (t.clone(), s.as_str(), *n))
        .collect();
    assert_eq!(
        rows,
        vec![
            (hexs(&tid(1)), "api", 3),
            (hexs(&tid(2)), "api", 1),
            (hexs(&tid(3)), "api", 1),
            (hexs(&tid(1)), "db", 1),
            (hexs(&tid(2)), "db", 1),
            (hexs(&tid(1)), "db", 2),
        ]
    );
    assert_eq!(chunks[0].3, "\nop-1\nop-2\nop-3\n");

    let store = Store::open_read_only(&path).unwrap();
    let trace = store.trace(&hexs(&tid(1))).unwrap().unwrap();
    let spans: Vec<(String, &str, Option<&str>)> = trace
        .spans
        .iter()
        .map(|s| (s.span_id.clone(), s.service.as_str(), s.scope.as_deref()))
        .collect();
    assert_eq!(
        spans,
        vec![
            (hexs(&sid(1)), "api", Some("http")),
            (hexs(&sid(2)), "api", Some("http")),
            (hexs(&sid(3)), "api", Some("sql")),
            (hexs(&sid(4)), "db", Some("pg")),
            (hexs(&sid(5)), "db", Some("my.library")),
        ],
        "every span once, with its own resource and scope"
    );
    let summary = &store.search_traces(&TraceQuery::default()).unwrap();
    let one = summary
        .iter()
        .find(|t| t.trace_id == hexs(&tid(1)))
        .unwrap();
    // The re-sent span is counted twice in the summary (documented in docs/store.md).
    assert_eq!(one.span_count, Some(6));
    assert_eq!(one.root_service.as_deref(), Some("api"));
}

#[test]
fn a_damaged_chunk_is_reported_not_a_panic() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    put(&h, traces("api", vec![simple_span(1, 1, None, T0, T0 + 1)]));
    put(&h, traces("api", vec![simple_span(2, 1, None, T0, T0 + 1)]));
    w.shutdown().unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE span_chunks SET data = x'ffffff7f00' WHERE trace_id = ?1",
        [hexs(&tid(1))],
    )
    .unwrap();
    conn.execute(
        "UPDATE span_chunks SET data = substr(data, 1, length(data) - 3) WHERE trace_id = ?1",
        [hexs(&tid(2))],
    )
    .unwrap();
    drop(conn);
    let store = Store::open_read_only(&path).unwrap();
    for (n, want) in [(1, "claims"), (2, "span chunk")] {
        let err = store.trace(&hexs(&tid(n))).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains(want), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Writer: group commit, overload, shutdown

#[test]
fn concurrent_submits_share_commits_and_resolve_after_commit() {
    let (_dir, path) = tmp();
    let (h, w) = spawn_writer(
        &path,
        WriterConfig {
            queue_capacity: 400,
            ..Default::default()
        },
    )
    .unwrap();
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            let h = h.clone();
            let path = path.clone();
            std::thread::spawn(move || {
                let receipts: Vec<_> = (0..50u8)
                    .map(|i| {
                        h.submit(traces(
                            "api",
                            vec![simple_span(t + 1, i + 1, None, T0, T0 + 1)],
                        ))
                        .unwrap()
                    })
                    .collect();
                let reader = Store::open_read_only(&path).unwrap();
                for (i, r) in receipts.into_iter().enumerate() {
                    assert_eq!(r.wait_blocking().unwrap().accepted, 1);
                    // Resolved means committed: a fresh reader sees the span.
                    let trace = reader.trace(&hexs(&tid(t + 1))).unwrap().unwrap();
                    assert!(
                        trace
                            .spans
                            .iter()
                            .any(|s| s.span_id == hexs(&sid(i as u8 + 1)))
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = h.stats();
    let commits = stats.commits.load(std::sync::atomic::Ordering::Relaxed);
    assert!(commits < 400, "400 submits took {commits} commits");
    assert_eq!(
        stats
            .committed_items
            .load(std::sync::atomic::Ordering::Relaxed),
        400
    );
    assert_eq!(
        stats.queue_depth.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    let mut text = String::new();
    stats.render_prometheus(&mut text);
    assert!(
        text.contains("obs_sink_store_committed_items_total 400\n"),
        "{text}"
    );
    assert!(text.contains(&format!("obs_sink_store_commits_total {commits}\n")));
    assert!(text.contains("obs_sink_store_commit_duration_seconds_bucket{le=\"+Inf\"}"));
    w.shutdown().unwrap();
    assert_eq!(
        Store::open_read_only(&path).unwrap().info().unwrap().spans,
        400
    );
}

#[test]
fn a_full_queue_answers_overloaded_and_recovers() {
    let (_dir, path) = tmp();
    let (h, w) = spawn_writer(
        &path,
        WriterConfig {
            queue_capacity: 2,
            ..Default::default()
        },
    )
    .unwrap();
    // Another connection holds the write lock: the writer blocks and the queue fills up.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut receipts = Vec::new();
    let mut overloaded = None;
    for i in 0..10u8 {
        match h.submit(traces("api", vec![simple_span(1, i + 1, None, T0, T0 + 1)])) {
            Ok(r) => receipts.push(r),
            Err(e) => {
                overloaded = Some(e);
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    match overloaded {
        Some(SubmitError::Overloaded { retry_after }) => {
            assert!(retry_after >= Duration::from_secs(1))
        }
        other => panic!("expected Overloaded, got {other:?}"),
    }
    // Bounded: at most a full queue plus the group the blocked writer had already taken (which
    // is itself at most a full queue when the writer thread woke late, as it does under load).
    assert!(
        receipts.len() <= 4,
        "{} accepted before overload",
        receipts.len()
    );
    blocker.execute_batch("ROLLBACK").unwrap();
    for r in receipts {
        assert_eq!(r.wait_blocking().unwrap().accepted, 1);
    }
    w.shutdown().unwrap();
}

#[test]
fn shutdown_commits_everything_queued_then_refuses() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    let receipts: Vec<_> = (0..100u8)
        .map(|i| {
            h.submit(traces("api", vec![simple_span(1, i + 1, None, T0, T0 + 1)]))
                .unwrap()
        })
        .collect();
    w.shutdown().unwrap();
    for r in receipts {
        assert_eq!(r.wait_blocking().unwrap().accepted, 1);
    }
    assert_eq!(
        h.submit(traces("api", vec![])).unwrap_err(),
        SubmitError::Closed
    );
    assert_eq!(
        Store::open_read_only(&path).unwrap().info().unwrap().spans,
        100
    );
}

#[tokio::test]
async fn receipts_resolve_in_async_code() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    let r = h
        .submit(traces("api", vec![simple_span(1, 1, None, T0, T0 + 1)]))
        .unwrap();
    assert_eq!(r.wait().await.unwrap().accepted, 1);
    tokio::task::spawn_blocking(move || w.shutdown())
        .await
        .unwrap()
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Retention

/// Traces that lost their root span's chunk but kept others (every test trace has a root).
fn orphans(conn: &rusqlite::Connection) -> i64 {
    conn.query_row(
        "SELECT count(DISTINCT trace_id) FROM span_chunks c
         WHERE NOT EXISTS (SELECT 1 FROM span_chunks r
                           WHERE r.trace_id = c.trace_id AND r.root_name IS NOT NULL)",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn age_retention_deletes_whole_traces_and_old_data() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    let old = T0;
    let new = T0 + 3600 * SEC;
    // Trace 1 is entirely old. Trace 2 started long ago but its last span ended recently:
    // it stays whole, old spans included — also its chunk that holds only old spans.
    put(
        &h,
        traces(
            "api",
            vec![
                simple_span(1, 1, None, old, old + 1),
                simple_span(1, 2, Some(1), old, old + 2),
            ],
        ),
    );
    put(&h, traces("api", vec![simple_span(2, 1, None, old, new)]));
    put(
        &h,
        traces("db", vec![simple_span(2, 2, Some(1), old, old + 1)]),
    );
    put(
        &h,
        logs(
            "api",
            vec![
                OtlpLog {
                    time_unix_nano: old,
                    body: s("old"),
                    ..Default::default()
                },
                OtlpLog {
                    time_unix_nano: new,
                    body: s("new"),
                    ..Default::default()
                },
            ],
        ),
    );
    put(
        &h,
        metrics(
            "api",
            vec![
                sum_metric(
                    "c",
                    "",
                    AggregationTemporality::Cumulative,
                    true,
                    vec![(old, 1.0), (new, 2.0)],
                ),
                sum_metric(
                    "gone",
                    "",
                    AggregationTemporality::Delta,
                    true,
                    vec![(old, 1.0)],
                ),
            ],
        ),
    );
    w.shutdown().unwrap();

    let mut conn = super::schema::open_read_write(&path).unwrap();
    let config = Retention {
        max_age: Some(Duration::from_secs(1800)),
        max_size_bytes: None,
    };
    let mut evicting = false;
    let step = super::retention::step(&mut conn, &config, new as i64, &mut evicting).unwrap();
    assert!(step.deleted_rows > 0 && step.series_removed && !step.more);
    assert_eq!(orphans(&conn), 0);
    let store = Store::open_read_only(&path).unwrap();
    assert!(store.trace(&hexs(&tid(1))).unwrap().is_none());
    assert_eq!(store.trace(&hexs(&tid(2))).unwrap().unwrap().spans.len(), 2);
    assert_eq!(
        store
            .logs(&LogQuery::default())
            .unwrap()
            .iter()
            .map(|l| l.body.as_str())
            .collect::<Vec<_>>(),
        vec!["new"]
    );
    assert_eq!(
        series_values(&store, "c_total")[0].1,
        vec![(new as i64, 2.0)]
    );
    assert!(series_values(&store, "gone_total").is_empty());
    let delta_streams: i64 = conn
        .query_row("SELECT count(*) FROM delta_state", [], |r| r.get(0))
        .unwrap();
    assert_eq!(delta_streams, 0);
}

#[test]
fn size_retention_keeps_the_file_under_the_limit_without_orphans() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    for batch in 0..40u64 {
        let spans: Vec<_> = (0..50u8)
            .map(|i| {
                let mut sp = simple_span(0, i + 1, None, T0 + batch * SEC, T0 + batch * SEC + 1);
                sp.trace_id = {
                    let mut t = tid(i);
                    t[0] = batch as u8;
                    t
                };
                sp.attributes = vec![kv("payload", s(&"x".repeat(2000)))];
                sp
            })
            .collect();
        // Each trace's child span in a request of its own: a second chunk, ending later.
        let children: Vec<_> = spans
            .iter()
            .map(|root| {
                let mut child = root.clone();
                child.span_id = sid(200);
                child.parent_span_id = root.span_id.clone();
                child.end_time_unix_nano += 1;
                child
            })
            .collect();
        put(&h, traces("api", spans));
        put(&h, traces("db", children));
    }
    w.shutdown().unwrap();
    let mut conn = super::schema::open_read_write(&path).unwrap();
    let before = super::schema::used_bytes(&conn).unwrap();
    let limit = before / 2;
    let config = Retention {
        max_age: None,
        max_size_bytes: Some(limit),
    };
    let mut evicting = false;
    for _ in 0..100 {
        super::retention::step(&mut conn, &config, 0, &mut evicting).unwrap();
        if !evicting {
            break;
        }
    }
    assert!(!evicting);
    let used = super::schema::used_bytes(&conn).unwrap();
    assert!(used <= limit, "used {used} > limit {limit}");
    assert_eq!(orphans(&conn), 0);
    let file = std::fs::metadata(&path).unwrap().len();
    assert!(
        file <= before,
        "incremental vacuum returned pages: {file} <= {before}"
    );
    // The newest traces survived.
    let store = Store::open_read_only(&path).unwrap();
    let newest = store
        .search_traces(&TraceQuery {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(newest[0].start_unix_nano, (T0 + 39 * SEC) as i64);
}

#[test]
fn committed_pages_reach_the_database_file_while_the_writer_runs() {
    // A checkpoint every 64 WAL pages: the checkpoint thread, not shutdown, must copy the
    // committed pages into the database file.
    let (_dir, path) = tmp();
    let config = WriterConfig {
        checkpoint_pages: 64,
        ..Default::default()
    };
    let (h, w) = spawn_writer(&path, config).unwrap();
    let empty = std::fs::metadata(&path).unwrap().len();
    // Values LZ4 cannot shrink: a xorshift stream as hex, 4 000 characters a span.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = || {
        (0..250)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                format!("{:016x}", state)
            })
            .collect::<String>()
    };
    // 20 commits of a few pages: past the thread's 64 pages, short of the writer's own 256.
    for batch in 0..20u8 {
        let mut span = simple_span(batch, 1, None, T0, T0 + 1);
        span.trace_id[0] = batch;
        span.attributes = vec![kv("payload", s(&noise()))];
        put(&h, traces("api", vec![span]));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&path).unwrap().len() <= empty + 20 * 3000 {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing was checkpointed into the database file while the writer ran ({} bytes)",
            std::fs::metadata(&path).unwrap().len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    w.shutdown().unwrap();
    assert_eq!(
        Store::open_read_only(&path).unwrap().info().unwrap().spans,
        20
    );
}

#[test]
fn the_writer_applies_retention_when_idle() {
    let (_dir, path) = tmp();
    let config = WriterConfig {
        retention: Retention {
            max_age: Some(Duration::from_secs(3600)),
            max_size_bytes: None,
        },
        ..Default::default()
    };
    let (h, w) = spawn_writer(&path, config).unwrap();
    // 2023 is older than an hour: retention removes it on the next idle tick.
    put(&h, traces("api", vec![simple_span(1, 1, None, T0, T0 + 1)]));
    let reader = Store::open_read_only(&path).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while reader.info().unwrap().spans > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "retention did not run"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        h.stats()
            .retention_deleted_rows
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    w.shutdown().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Files

#[test]
fn a_newer_schema_is_refused_with_versions_in_the_message() {
    let (_dir, path) = tmp();
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    for result in [
        Store::open(&path).map(|_| ()),
        Store::open_read_only(&path).map(|_| ()),
        spawn_writer(&path, WriterConfig::default()).map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NewerSchema {
                    found: 99,
                    supported: SCHEMA_VERSION,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("schema v99 > supported v{SCHEMA_VERSION}"))
                && msg.contains("obs.db"),
            "{msg}"
        );
    }
}

#[test]
fn files_that_are_not_stores_are_named_as_such() {
    let (dir, path) = tmp();
    std::fs::write(
        &path,
        b"this is not a database, it is a text file that is long enough to have a header",
    )
    .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("not a SQLite database"));
    assert!(matches!(
        Store::open_read_only(&path).unwrap_err(),
        StoreError::NotADatabase { .. }
    ));

    let foreign = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE t (x)").unwrap();
    drop(conn);
    assert!(matches!(
        Store::open(&foreign).unwrap_err(),
        StoreError::ForeignDatabase { .. }
    ));

    let missing = dir.path().join("missing.db");
    assert!(matches!(
        Store::open_read_only(&missing).unwrap_err(),
        StoreError::Missing { .. }
    ));
    assert!(
        !missing.exists(),
        "a read-only open must not create the file"
    );
}

#[test]
fn readers_open_read_only_while_the_writer_runs() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    put(&h, traces("api", vec![simple_span(1, 1, None, T0, T0 + 1)]));
    let reader = Store::open_read_only(&path).unwrap();
    assert_eq!(reader.info().unwrap().spans, 1);
    put(&h, traces("api", vec![simple_span(2, 1, None, T0, T0 + 1)]));
    assert_eq!(reader.info().unwrap().spans, 2);
    // Even while a write transaction is open and uncommitted, readers open and read the last
    // commit.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM span_chunks;")
        .unwrap();
    let second = Store::open_read_only(&path).unwrap();
    assert_eq!(second.info().unwrap().spans, 2);
    blocker.execute_batch("ROLLBACK").unwrap();
    // Another read-write opener (e.g. a CLI command) coexists too.
    let rw = Store::open(&path).unwrap();
    assert_eq!(rw.info().unwrap().traces, 2);
    w.shutdown().unwrap();
    assert_eq!(reader.info().unwrap().spans, 2);
}

#[test]
fn info_counts_what_is_stored() {
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    put(
        &h,
        traces(
            "api",
            vec![
                simple_span(1, 1, None, T0, T0 + SEC),
                simple_span(1, 2, Some(1), T0, T0 + 1),
            ],
        ),
    );
    put(
        &h,
        traces("db", vec![simple_span(2, 1, None, T0 + SEC, T0 + 2 * SEC)]),
    );
    put(
        &h,
        logs(
            "api",
            vec![OtlpLog {
                time_unix_nano: T0 + 3 * SEC,
                body: s("x"),
                ..Default::default()
            }],
        ),
    );
    let mut hist = histogram_metric(
        "lat",
        AggregationTemporality::Cumulative,
        vec![(T0, vec![1, 1, 1])],
    );
    if let Some(Data::Histogram(h)) = &mut hist.data {
        h.data_points[0].exemplars = vec![OtlpExemplar {
            trace_id: tid(1),
            span_id: sid(1),
            time_unix_nano: T0,
            value: Some(exemplar::Value::AsDouble(0.2)),
            ..Default::default()
        }];
    }
    put(&h, metrics("api", vec![hist]));
    w.shutdown().unwrap();
    let info = Store::open_read_only(&path).unwrap().info().unwrap();
    assert_eq!(info.schema_version, SCHEMA_VERSION);
    assert_eq!(
        (info.spans, info.traces, info.logs, info.exemplars),
        (3, 2, 1, 1)
    );
    assert_eq!(info.metric_points, 3 + 2 + 1);
    assert_eq!(info.services, vec!["api".to_string(), "db".to_string()]);
    assert_eq!(info.first.as_deref(), Some("2023-11-14T22:13:20Z"));
    assert_eq!(info.last.as_deref(), Some("2023-11-14T22:13:23Z"));
    assert!(info.size_bytes > 0);
    assert!(info.path.ends_with("obs.db"));
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["metric_points"], 6);
}

#[test]
fn item_count_counts_spans_records_and_points() {
    assert_eq!(
        traces(
            "a",
            vec![simple_span(1, 1, None, 0, 1), simple_span(1, 2, None, 0, 1)]
        )
        .item_count(),
        2
    );
    assert_eq!(logs("a", vec![OtlpLog::default()]).item_count(), 1);
    let m = metrics(
        "a",
        vec![
            histogram_metric(
                "h",
                AggregationTemporality::Cumulative,
                vec![(T0, vec![1, 1, 1]), (T0 + 1, vec![1, 1, 1])],
            ),
            sum_metric(
                "s",
                "",
                AggregationTemporality::Cumulative,
                true,
                vec![(T0, 1.0)],
            ),
        ],
    );
    assert_eq!(m.item_count(), 3);
}

#[test]
fn a_query_while_the_writer_runs_sees_whole_commits() {
    // Each request holds one histogram point: three `_bucket` series, `_sum` and `_count` at one
    // timestamp. A reader that saw part of a commit would find the bucket series of one read
    // holding different numbers of samples, or ending at different times.
    let (_dir, path) = tmp();
    let (h, w) = spawn(&path);
    put(
        &h,
        metrics(
            "api",
            vec![histogram_metric(
                "lat",
                AggregationTemporality::Cumulative,
                vec![(T0, vec![1, 1, 1])],
            )],
        ),
    );
    let reader = Store::open_read_only(&path).unwrap();
    let requests = 300u64;
    let writing = std::thread::spawn(move || {
        for i in 1..requests {
            let n = i + 1;
            put(
                &h,
                metrics(
                    "api",
                    vec![histogram_metric(
                        "lat",
                        AggregationTemporality::Cumulative,
                        vec![(T0 + i * SEC, vec![n, n, n])],
                    )],
                ),
            );
        }
    });
    let mut reads = 0;
    let mut last_seen = 0;
    loop {
        let done = writing.is_finished();
        let buckets = reader.series("lat_seconds_bucket", 0, i64::MAX).unwrap();
        assert_eq!(buckets.len(), 3);
        let counts: Vec<usize> = buckets.iter().map(|s| s.samples.len()).collect();
        let ends: Vec<i64> = buckets
            .iter()
            .map(|s| s.samples.last().unwrap().0)
            .collect();
        assert!(
            counts.iter().all(|c| *c == counts[0]) && ends.iter().all(|e| *e == ends[0]),
            "one read saw part of a commit: {counts:?} samples ending at {ends:?}"
        );
        assert!(counts[0] >= last_seen, "a later read saw fewer samples");
        last_seen = counts[0];
        for s in &buckets {
            // Every sample in time order, each timestamp once, across chunk boundaries.
            assert!(s.samples.windows(2).all(|p| p[0].0 < p[1].0));
        }
        reads += 1;
        if done {
            break;
        }
    }
    writing.join().unwrap();
    w.shutdown().unwrap();
    assert_eq!(
        last_seen, requests as usize,
        "the last read saw every commit"
    );
    assert!(reads > 1);
}
