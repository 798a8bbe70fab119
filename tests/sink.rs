//! `obs sink`: OTLP over gRPC and HTTP from the real OpenTelemetry SDK exporters into the
//! store; every kind of bad request answered as the OTLP specification says without touching
//! the store; auth; overload; the binary killed mid-stream and stopped with SIGTERM.
//!
//! Over 800 lines on purpose: independent cases over one in-process sink and SDK set-up
//! (`support::sink`); the hostile-client cases live in `sink_hostile.rs`.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Stdio};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use obs::model::{SpanKind, StatusCode};
use obs::sink::ReceiverConfig;
use obs::store::{LogQuery, Store, WriterConfig};
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    Link, Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
    metrics_service_client::MetricsServiceClient,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceResponse, trace_service_client::TraceServiceClient,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use prost::Message as _;
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::support::otel::{Transport, exporters};
use crate::support::sink::{
    TestSink, counts, hex, obs_command, terminate, trace_id, trace_request,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/otlp-json")
        .join(name);
    std::fs::read(path).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

// ---------------------------------------------------------------------------------------------
// The OpenTelemetry SDK, as an application uses it.

/// What the SDK workload sent, to look for in the store.
struct Sent {
    trace_id: String,
    root: String,
    child: String,
    linked_trace: String,
    linked_span: String,
}

/// Emits a small, fully-featured workload through the SDK (batch span and log processors, the
/// periodic metric reader) and flushes it. Blocking: run on a blocking thread.
fn emit_with_sdk(exporters: crate::support::otel::Exporters, service: &str) -> Sent {
    let resource = Resource::builder()
        .with_service_name(service.to_string())
        .with_attribute(KeyValue::new("deployment.environment.name", "test"))
        .with_attribute(KeyValue::new("host.name", "box-1"))
        .build();
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporters.spans)
        .with_resource(resource.clone())
        .build();
    let logger_provider = SdkLoggerProvider::builder()
        .with_batch_exporter(exporters.logs)
        .with_resource(resource.clone())
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_periodic_exporter(exporters.metrics)
        .with_resource(resource)
        .build();
    let scope = InstrumentationScope::builder("obs-sink-test")
        .with_version("1.2.3")
        .build();
    let tracer = tracer_provider.tracer_with_scope(scope.clone());
    let logger = logger_provider.logger_with_scope(scope.clone());
    let meter = meter_provider.meter_with_scope(scope);

    let orders = meter
        .u64_counter("shop.orders")
        .with_unit("{order}")
        .with_description("Orders placed")
        .build();
    let duration = meter
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .with_description("Duration of HTTP server requests")
        .build();
    let depth = meter.i64_gauge("queue.depth").with_unit("{item}").build();

    let mut other = tracer.start("background job");
    let other_cx = other.span_context().clone();
    other.end();

    let root = tracer
        .span_builder("GET /cart")
        .with_kind(opentelemetry::trace::SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.response.status_code", 500),
            KeyValue::new("retry", true),
            KeyValue::new("ratio", 0.5),
            KeyValue::new(
                "tags",
                opentelemetry::Value::Array(
                    vec![
                        opentelemetry::StringValue::from("a"),
                        opentelemetry::StringValue::from("b"),
                    ]
                    .into(),
                ),
            ),
        ])
        .with_links(vec![Link::with_context(other_cx.clone())])
        .start(&tracer);
    let root_cx = Context::current_with_span(root);
    let child = tracer
        .span_builder("SELECT cart")
        .with_kind(opentelemetry::trace::SpanKind::Client)
        .with_attributes([KeyValue::new("db.system.name", "postgresql")])
        .start_with_context(&tracer, &root_cx);
    let child_cx = root_cx.with_span(child);
    {
        let _attached = child_cx.clone().attach();
        let mut record = logger.create_log_record();
        record.set_severity_number(Severity::Error);
        record.set_severity_text("ERROR");
        record.set_body("payment declined for order 42".into());
        record.add_attribute("order.id", 42);
        logger.emit(record);
        duration.record(0.25, &[KeyValue::new("http.route", "/cart")]);
        duration.record(1.5, &[KeyValue::new("http.route", "/cart")]);
    }
    child_cx.span().set_status(opentelemetry::trace::Status::Ok);
    child_cx.span().end();
    root_cx.span().add_event(
        "exception",
        vec![
            KeyValue::new("exception.type", "PaymentDeclined"),
            KeyValue::new("exception.message", "card expired"),
        ],
    );
    root_cx
        .span()
        .set_status(opentelemetry::trace::Status::error("payment failed"));
    root_cx.span().end();
    orders.add(3, &[KeyValue::new("outcome", "declined")]);
    depth.record(7, &[]);

    let sent = Sent {
        trace_id: root_cx.span().span_context().trace_id().to_string(),
        root: root_cx.span().span_context().span_id().to_string(),
        child: child_cx.span().span_context().span_id().to_string(),
        linked_trace: other_cx.trace_id().to_string(),
        linked_span: other_cx.span_id().to_string(),
    };
    tracer_provider.force_flush().unwrap();
    logger_provider.force_flush().unwrap();
    meter_provider.force_flush().unwrap();
    tracer_provider.shutdown().unwrap();
    logger_provider.shutdown().unwrap();
    meter_provider.shutdown().unwrap();
    sent
}

async fn sdk_delivers_every_field(transport: Transport) {
    let mut sink = TestSink::start().await;
    let service = format!("checkout-{}", transport.name());
    let exporters = exporters(transport, &sink.grpc_url(), &sink.url(""));
    let svc = service.clone();
    let sent = tokio::task::spawn_blocking(move || emit_with_sdk(exporters, &svc))
        .await
        .unwrap();
    let store = sink.read();

    // Spans: ids, parent, kind, status, attributes, events, links, resource, scope.
    let trace = store
        .trace(&sent.trace_id)
        .unwrap()
        .expect("the trace is stored");
    assert_eq!(trace.spans.len(), 2, "{trace:#?}");
    let root = trace.spans.iter().find(|s| s.span_id == sent.root).unwrap();
    let child = trace
        .spans
        .iter()
        .find(|s| s.span_id == sent.child)
        .unwrap();
    assert_eq!(root.trace_id, sent.trace_id);
    assert_eq!(root.parent_span_id, None);
    assert_eq!(child.parent_span_id.as_deref(), Some(sent.root.as_str()));
    assert_eq!(
        (root.name.as_str(), root.kind),
        ("GET /cart", SpanKind::Server)
    );
    assert_eq!(
        (child.name.as_str(), child.kind),
        ("SELECT cart", SpanKind::Client)
    );
    assert_eq!(root.service, service);
    assert_eq!(
        (root.status, root.status_message.as_str()),
        (StatusCode::Error, "payment failed")
    );
    assert_eq!(child.status, StatusCode::Ok);
    assert_eq!(root.attributes["http.request.method"], "GET");
    assert_eq!(root.attributes["http.response.status_code"], 500);
    assert_eq!(root.attributes["retry"], true);
    assert_eq!(root.attributes["ratio"], 0.5);
    assert_eq!(root.attributes["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(child.attributes["db.system.name"], "postgresql");
    assert_eq!(root.events.len(), 1);
    assert_eq!(root.events[0].name, "exception");
    assert_eq!(
        root.exception(),
        Some(("PaymentDeclined".to_string(), "card expired".to_string()))
    );
    assert!(root.events[0].time_unix_nano >= root.start_unix_nano);
    assert_eq!(root.links.len(), 1);
    assert_eq!(
        (
            root.links[0].trace_id.as_str(),
            root.links[0].span_id.as_str()
        ),
        (sent.linked_trace.as_str(), sent.linked_span.as_str())
    );
    assert!(
        root.end_unix_nano >= child.end_unix_nano && child.start_unix_nano >= root.start_unix_nano
    );
    assert_eq!(root.resource["service.name"], service.as_str());
    assert_eq!(root.resource["deployment.environment.name"], "test");
    assert_eq!(root.resource["host.name"], "box-1");
    assert_eq!(root.scope.as_deref(), Some("obs-sink-test"));
    assert!(
        store.trace(&sent.linked_trace).unwrap().is_some(),
        "the linked span's trace is stored"
    );

    // Logs: severity, body, trace context, attributes, service.
    let logs = store
        .logs(&LogQuery {
            trace_id: Some(sent.trace_id.clone()),
            ..LogQuery::default()
        })
        .unwrap();
    assert_eq!(logs.len(), 1, "{logs:#?}");
    let log = &logs[0];
    assert_eq!(log.body, "payment declined for order 42");
    assert_eq!(
        (log.severity.as_deref(), log.severity_number),
        (Some("ERROR"), Some(17))
    );
    assert_eq!(log.trace_id.as_deref(), Some(sent.trace_id.as_str()));
    assert_eq!(log.span_id.as_deref(), Some(sent.child.as_str()));
    assert_eq!(log.service.as_deref(), Some(service.as_str()));
    assert_eq!(
        log.labels.get("order.id").map(String::as_str),
        Some("42"),
        "{:?}",
        log.labels
    );
    assert!(log.timestamp_unix_nano > 0);

    // Metrics: names as the Collector's Prometheus exporter would map them, and values.
    let names = store.metric_names(0, i64::MAX).unwrap();
    for name in [
        "shop_orders_total",
        "http_server_request_duration_seconds_bucket",
        "http_server_request_duration_seconds_sum",
        "http_server_request_duration_seconds_count",
        "queue_depth",
    ] {
        assert!(names.iter().any(|n| n == name), "no {name} in {names:?}");
    }
    let last = |name: &str| -> Vec<(BTreeMap<String, String>, f64)> {
        store
            .series(name, 0, i64::MAX)
            .unwrap()
            .into_iter()
            .map(|s| (s.labels, s.samples.last().unwrap().1))
            .collect()
    };
    let orders = last("shop_orders_total");
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0].1, 3.0);
    assert_eq!(
        orders[0].0.get("outcome").map(String::as_str),
        Some("declined")
    );
    assert_eq!(
        orders[0].0.get("job").map(String::as_str),
        Some(service.as_str()),
        "{:?}",
        orders[0].0
    );
    assert_eq!(last("http_server_request_duration_seconds_count")[0].1, 2.0);
    assert_eq!(last("http_server_request_duration_seconds_sum")[0].1, 1.75);
    let buckets = last("http_server_request_duration_seconds_bucket");
    let inf = buckets
        .iter()
        .find(|(l, _)| l.get("le").map(String::as_str) == Some("+Inf"))
        .unwrap();
    assert_eq!(inf.1, 2.0);
    assert_eq!(last("queue_depth")[0].1, 7.0);

    let info = sink.info();
    assert!(info.services.contains(&service), "{info:?}");
    assert_eq!((info.spans, info.traces, info.logs), (3, 2, 1), "{info:?}");
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_over_grpc_delivers_spans_logs_and_metrics_with_every_field() {
    sdk_delivers_every_field(Transport::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_over_http_protobuf_delivers_spans_logs_and_metrics_with_every_field() {
    sdk_delivers_every_field(Transport::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_over_http_json_delivers_spans_logs_and_metrics_with_every_field() {
    sdk_delivers_every_field(Transport::HttpJson).await;
}

// ---------------------------------------------------------------------------------------------
// Exemplars: the Rust SDK (0.33) records none, so these requests are built by hand and sent as
// any OTLP client would.

/// A cumulative histogram point at minute `minute` with one exemplar from `trace`.
fn histogram_with_exemplar(trace: [u8; 16], minute: u64) -> ExportMetricsServiceRequest {
    let at =
        |offset: u64| (1_767_225_600_000_000_000 + minute * 60_000_000_000 + offset).to_string();
    let json = serde_json::json!({"resourceMetrics": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "exemplary"}}]},
        "scopeMetrics": [{"metrics": [{
            "name": "http.server.request.duration", "unit": "s",
            "histogram": {"aggregationTemporality": 2, "dataPoints": [{
                "startTimeUnixNano": "1767225600000000000", "timeUnixNano": at(0),
                "count": "2", "sum": 1.75, "bucketCounts": ["1", "1", "0"], "explicitBounds": [0.5, 2.0],
                "exemplars": [{"timeUnixNano": at(0), "asDouble": 1.5,
                    "traceId": hex(&trace), "spanId": "00f067aa0ba902b7",
                    "filteredAttributes": [{"key": "http.route", "value": {"stringValue": "/cart"}}]}]
            }]}
        }]}]
    }]});
    serde_json::from_value(json).unwrap()
}

async fn grpc_channel(sink: &TestSink) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(sink.grpc_url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exemplars_arrive_with_their_trace_ids_over_grpc_http_protobuf_and_http_json() {
    let mut sink = TestSink::start().await;
    let (a, b, c) = (trace_id(1), trace_id(2), trace_id(3));
    let mut client = MetricsServiceClient::new(grpc_channel(&sink).await);
    let response = client.export(histogram_with_exemplar(a, 1)).await.unwrap();
    assert_eq!(
        response.into_inner(),
        ExportMetricsServiceResponse::default()
    );

    let http = reqwest::Client::new();
    let reply = http
        .post(sink.url("/v1/metrics"))
        .header("content-type", "application/x-protobuf")
        .body(histogram_with_exemplar(b, 2).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["content-type"], "application/x-protobuf");
    let body = reply.bytes().await.unwrap();
    assert_eq!(
        ExportMetricsServiceResponse::decode(body).unwrap(),
        ExportMetricsServiceResponse::default()
    );

    let reply = http
        .post(sink.url("/v1/metrics"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&histogram_with_exemplar(c, 3)).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.text().await.unwrap(), "{}");

    let exemplars = sink
        .read()
        .exemplars(
            &["http_server_request_duration_seconds".to_string()],
            0,
            i64::MAX,
        )
        .unwrap();
    let mut traces: Vec<_> = exemplars
        .iter()
        .filter_map(|e| e.trace_id().map(str::to_string))
        .collect();
    traces.sort();
    let mut expected = [hex(&a), hex(&b), hex(&c)];
    expected.sort();
    assert_eq!(traces, expected, "{exemplars:#?}");
    let e = &exemplars[0];
    assert_eq!(e.value, 1.5);
    assert_eq!(
        e.labels.get("span_id").map(String::as_str),
        Some("00f067aa0ba902b7")
    );
    assert_eq!(
        e.labels
            .get("http.route")
            .or(e.labels.get("http_route"))
            .map(String::as_str),
        Some("/cart"),
        "{e:?}"
    );
    assert_eq!(
        e.series_labels.get("le").map(String::as_str),
        Some("2"),
        "{e:?}"
    );
    assert_eq!(sink.info().exemplars, 3);
    sink.stop().await;
}

// ---------------------------------------------------------------------------------------------
// OTLP/HTTP details: gzip, response encodings, partial success.

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The `google.rpc.Status` of an error reply: (code, message), from protobuf or JSON.
    fn status_message(&self) -> (i32, String) {
        if self.content_type() == "application/json" {
            let v: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
            (
                v["code"].as_i64().unwrap() as i32,
                v["message"].as_str().unwrap().to_string(),
            )
        } else {
            assert_eq!(self.content_type(), "application/x-protobuf");
            let s = tonic_types::pb::Status::decode(&self.body[..]).unwrap();
            (s.code, s.message)
        }
    }
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let mut request = client.request(method, url).body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_are_accepted_and_partial_success_is_reported_in_the_request_encoding() {
    let mut sink = TestSink::start().await;
    let client = reqwest::Client::new();
    let protobuf = trace_request(7, 5).encode_to_vec();
    let reply = send(
        &client,
        reqwest::Method::POST,
        &sink.url("/v1/traces"),
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
        ],
        gzip(&protobuf),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        ExportTraceServiceResponse::decode(&reply.body[..]).unwrap(),
        ExportTraceServiceResponse::default()
    );
    assert_eq!(
        sink.read()
            .trace(&hex(&trace_id(7)))
            .unwrap()
            .unwrap()
            .spans
            .len(),
        5
    );

    // The upstream metrics example has a histogram point with 3 bucket counts for 1 bound:
    // the store refuses that point, and the answer says so, in protobuf…
    let metrics: ExportMetricsServiceRequest =
        serde_json::from_slice(&fixture("metrics.json")).unwrap();
    let reply = send(
        &client,
        reqwest::Method::POST,
        &sink.url("/v1/metrics"),
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
        ],
        gzip(&metrics.encode_to_vec()),
    )
    .await;
    assert_eq!(reply.status, 200);
    let partial = ExportMetricsServiceResponse::decode(&reply.body[..])
        .unwrap()
        .partial_success
        .unwrap();
    assert_eq!(partial.rejected_data_points, 1);
    assert!(
        partial.error_message.contains("bucket counts"),
        "{}",
        partial.error_message
    );
    // …and in JSON.
    let reply = send(
        &client,
        reqwest::Method::POST,
        &sink.url("/v1/metrics"),
        &[("content-type", "application/json; charset=utf-8")],
        fixture("metrics.json"),
    )
    .await;
    assert_eq!(
        (reply.status, reply.content_type()),
        (200, "application/json")
    );
    let v: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(v["partialSuccess"]["rejectedDataPoints"], "1", "{v}");
    sink.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Bad requests: each gets its status and a clear message, the sink keeps serving, and the store
// is unchanged.

/// 1 GiB of zeros as ~1 MB of gzip: 1024 members of 1 MiB each (concatenated members are one
/// valid gzip stream, RFC 1952 §2.2), cheap to build even in a debug build.
fn gzip_bomb() -> Vec<u8> {
    let member = {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 1 << 20]).unwrap();
        enc.finish().unwrap()
    };
    member.repeat(1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_http_requests_get_their_status_and_a_clear_message_and_change_nothing() {
    // Above the bomb's ~1 MB, so that it is refused while inflating, not for its size.
    let limit = 2 << 20;
    let mut sink = TestSink::start_with(
        WriterConfig::default(),
        ReceiverConfig {
            max_request_bytes: limit,
            ..ReceiverConfig::default()
        },
    )
    .await;
    let client = reqwest::Client::new();
    // Something stored first, so "unchanged" is not just "still empty".
    let good = trace_request(1, 3).encode_to_vec();
    let pb = [("content-type", "application/x-protobuf")];
    assert_eq!(
        send(
            &client,
            reqwest::Method::POST,
            &sink.url("/v1/traces"),
            &pb,
            good.clone()
        )
        .await
        .status,
        200
    );
    let before = counts(&sink.info());

    let json = [("content-type", "application/json")];
    let pb_gzip = [
        ("content-type", "application/x-protobuf"),
        ("content-encoding", "gzip"),
    ];
    let mut bad_id = trace_request(2, 1);
    bad_id.resource_spans[0].scope_spans[0].spans[0].span_id = vec![1, 2, 3];
    let mut huge = trace_request(3, 1);
    huge.resource_spans[0].scope_spans[0].spans[0].attributes[0]
        .value
        .as_mut()
        .unwrap()
        .value = Some(
        opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
            "x".repeat(limit + 1),
        ),
    );
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let bomb = gzip_bomb();
    assert!(bomb.len() < limit, "the bomb is {} bytes", bomb.len());

    type Case<'a> = (
        &'a str,
        reqwest::Method,
        &'a str,
        &'a [(&'a str, &'a str)],
        Vec<u8>,
        u16,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        ("truncated protobuf", reqwest::Method::POST, "/v1/traces", &pb, good[..good.len() - 7].to_vec(), 400, "not a protobuf ExportTraceServiceRequest"),
        ("random bytes", reqwest::Method::POST, "/v1/logs", &pb, random, 400, "not a protobuf ExportLogsServiceRequest"),
        ("invalid JSON", reqwest::Method::POST, "/v1/traces", &json, b"{\"resourceSpans\": [".to_vec(), 400, "not an OTLP/JSON ExportTraceServiceRequest"),
        ("wrong JSON types", reqwest::Method::POST, "/v1/metrics", &json, br#"{"resourceMetrics": {"a": 1}}"#.to_vec(), 400, "invalid type: map, expected a sequence"),
        ("a mistyped field inside metric data", reqwest::Method::POST, "/v1/metrics", &json,
            br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"s","summary":{"dataPoints":[{"sum":"lots"}]}}]}]}]}"#.to_vec(),
            400, "resourceMetrics[0].scopeMetrics[0].metrics[0].summary"),
        ("a short trace id (JSON)", reqwest::Method::POST, "/v1/traces", &json,
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc6","spanId":"eee19b7ec3c1b174"}]}]}]}"#.to_vec(),
            400, "resourceSpans[0].scopeSpans[0].spans[0].traceId is 15 bytes long; a trace id must be 16 bytes"),
        ("a short span id (protobuf)", reqwest::Method::POST, "/v1/traces", &pb, bad_id.encode_to_vec(), 400, "spans[0].spanId is 3 bytes long; a span id must be 8 bytes"),
        ("an empty JSON body", reqwest::Method::POST, "/v1/logs", &json, Vec::new(), 400, "the body is empty"),
        ("a body over the limit", reqwest::Method::POST, "/v1/traces", &pb, vec![0u8; limit + 1], 413, "is larger than the limit of 2097152 bytes"),
        ("a huge attribute value", reqwest::Method::POST, "/v1/traces", &pb, huge.encode_to_vec(), 413, "is larger than the limit of 2097152 bytes"),
        ("a gzip bomb (1 GiB of zeros)", reqwest::Method::POST, "/v1/traces", &pb_gzip, bomb, 413, "inflates to more than the limit of 2097152 bytes"),
        ("a gzip-bombed huge attribute", reqwest::Method::POST, "/v1/traces", &pb_gzip, gzip(&huge.encode_to_vec()), 413, "inflates to more than the limit"),
        ("corrupt gzip", reqwest::Method::POST, "/v1/traces", &pb_gzip, b"\x1f\x8b\x08\x00garbage".to_vec(), 400, "not valid gzip"),
        ("text/plain", reqwest::Method::POST, "/v1/traces", &[("content-type", "text/plain")], b"hello".to_vec(), 415, "unsupported Content-Type \"text/plain\""),
        ("no content type", reqwest::Method::POST, "/v1/traces", &[], good.clone(), 415, "unsupported Content-Type \"(none)\""),
        ("brotli", reqwest::Method::POST, "/v1/traces", &[("content-type", "application/x-protobuf"), ("content-encoding", "br")], good.clone(), 415, "unsupported Content-Encoding \"br\""),
        ("a wrong path", reqwest::Method::POST, "/v1/trace", &pb, good.clone(), 404, "POST /v1/traces, /v1/logs and /v1/metrics"),
        ("a wrong method", reqwest::Method::GET, "/v1/traces", &pb, Vec::new(), 405, "use POST"),
    ];
    for (what, method, path, headers, body, status, message) in cases {
        let started = Instant::now();
        let reply = send(&client, method, &sink.url(path), headers, body).await;
        assert_eq!(
            reply.status,
            status,
            "{what}: {:?}",
            String::from_utf8_lossy(&reply.body)
        );
        let (_, text) = reply.status_message();
        assert!(text.contains(message), "{what}: {text:?} lacks {message:?}");
        // Protobuf requests are answered in protobuf, JSON and unknown types in JSON.
        let expected = if headers.iter().any(|(_, v)| v.contains("protobuf")) {
            "application/x-protobuf"
        } else {
            "application/json"
        };
        assert_eq!(reply.content_type(), expected, "{what}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} took {:?}",
            started.elapsed()
        );
        assert_eq!(counts(&sink.info()), before, "{what} changed the store");
    }
    // A wrong method says which one is allowed.
    let reply = send(
        &client,
        reqwest::Method::PUT,
        &sink.url("/v1/logs"),
        &pb,
        Vec::new(),
    )
    .await;
    assert_eq!(
        (reply.status, reply.headers["allow"].to_str().unwrap()),
        (405, "POST")
    );
    // A 400 names the offending field in a google.rpc.BadRequest detail.
    let reply = send(
        &client,
        reqwest::Method::POST,
        &sink.url("/v1/traces"),
        &pb,
        bad_id.encode_to_vec(),
    )
    .await;
    let status = tonic::Status::with_details(Code::InvalidArgument, "", reply.body.clone().into());
    let bad = status
        .get_details_bad_request()
        .expect("a BadRequest detail");
    assert_eq!(
        bad.field_violations[0].field,
        "resourceSpans[0].scopeSpans[0].spans[0].spanId"
    );
    // An empty protobuf body is an empty request: success, nothing stored.
    let reply = send(
        &client,
        reqwest::Method::POST,
        &sink.url("/v1/traces"),
        &pb,
        Vec::new(),
    )
    .await;
    assert_eq!((reply.status, reply.body.len()), (200, 0));
    // Still serving.
    assert_eq!(
        send(
            &client,
            reqwest::Method::GET,
            &sink.url("/healthz"),
            &[],
            Vec::new()
        )
        .await
        .status,
        200
    );
    assert_eq!(
        send(
            &client,
            reqwest::Method::POST,
            &sink.url("/v1/traces"),
            &pb,
            trace_request(9, 2).encode_to_vec()
        )
        .await
        .status,
        200
    );
    assert_eq!(counts(&sink.info())[0], before[0] + 2);
    let metrics = String::from_utf8(
        send(
            &client,
            reqwest::Method::GET,
            &sink.url("/metrics"),
            &[],
            Vec::new(),
        )
        .await
        .body,
    )
    .unwrap();
    for line in [
        "obs_sink_requests_total{transport=\"http\",signal=\"traces\",outcome=\"too_large\"} 4",
        "obs_sink_requests_total{transport=\"http\",signal=\"traces\",outcome=\"ok\"} 3",
        "obs_sink_committed_items_total{signal=\"traces\"} 5",
        "obs_sink_store_committed_items_total 5",
        "obs_sink_store_queue_depth 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in\n{metrics}"
        );
    }
    sink.stop().await;
}

// ---------------------------------------------------------------------------------------------
// OTLP/gRPC: bad data, limits, compression.

/// A codec that sends and receives raw bytes, to put anything on the wire.
#[derive(Clone, Copy, Default)]
struct Raw;

impl tonic::codec::Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl tonic::codec::Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use prost::bytes::BufMut as _;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use prost::bytes::Buf as _;
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

pub(crate) const TRACE_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

pub(crate) async fn grpc_raw(
    channel: &tonic::transport::Channel,
    path: &'static str,
    body: Vec<u8>,
    token: Option<&str>,
) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(body);
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    grpc.unary(
        request,
        tonic::codegen::http::uri::PathAndQuery::from_static(path),
        Raw,
    )
    .await
    .map(tonic::Response::into_inner)
}

/// Sends one gRPC frame as given (compressed flag and all), for bodies a client library
/// would refuse to build. Returns the status from the trailers-only reply.
async fn grpc_frame(
    channel: &tonic::transport::Channel,
    compressed: bool,
    payload: Vec<u8>,
) -> tonic::Status {
    use tonic::codegen::Service as _;
    let mut frame = vec![u8::from(compressed)];
    frame.extend(u32::try_from(payload.len()).unwrap().to_be_bytes());
    frame.extend(payload);
    let request = tonic::codegen::http::Request::builder()
        .method("POST")
        .uri(format!("http://sink{TRACE_EXPORT}"))
        .header("content-type", "application/grpc")
        .header("grpc-encoding", "gzip")
        .header("te", "trailers")
        .body(tonic::body::Body::new(axum::body::Body::from(frame)))
        .unwrap();
    let mut channel = channel.clone();
    std::future::poll_fn(|cx| channel.poll_ready(cx))
        .await
        .unwrap();
    let response = channel.call(request).await.unwrap();
    tonic::Status::from_header_map(response.headers()).expect("a trailers-only reply")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_grpc_requests_get_their_code_and_a_clear_message_and_change_nothing() {
    let limit = 1 << 20;
    let mut sink = TestSink::start_with(
        WriterConfig::default(),
        ReceiverConfig {
            max_request_bytes: limit,
            ..ReceiverConfig::default()
        },
    )
    .await;
    let channel = grpc_channel(&sink).await;
    let good = trace_request(1, 3).encode_to_vec();
    grpc_raw(&channel, TRACE_EXPORT, good.clone(), None)
        .await
        .unwrap();
    let before = counts(&sink.info());

    let mut bad_id = trace_request(2, 1);
    bad_id.resource_spans[0].scope_spans[0].spans[0].trace_id = vec![7; 20];
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let cases: Vec<(&str, Vec<u8>, Code, &str)> = vec![
        (
            "truncated protobuf",
            good[..good.len() - 7].to_vec(),
            Code::InvalidArgument,
            "not a protobuf ExportTraceServiceRequest",
        ),
        (
            "random bytes",
            random,
            Code::InvalidArgument,
            "not a protobuf ExportTraceServiceRequest",
        ),
        (
            "a long trace id",
            bad_id.encode_to_vec(),
            Code::InvalidArgument,
            "spans[0].traceId is 20 bytes long; a trace id must be 16 bytes",
        ),
        (
            "a message over the limit",
            vec![0; limit + 1],
            Code::ResourceExhausted,
            "is larger than the limit of 1048576 bytes",
        ),
    ];
    for (what, body, code, message) in cases {
        let status = grpc_raw(&channel, TRACE_EXPORT, body, None)
            .await
            .unwrap_err();
        assert_eq!(status.code(), code, "{what}: {status:?}");
        assert!(
            status.message().contains(message),
            "{what}: {:?} lacks {message:?}",
            status.message()
        );
        assert_eq!(counts(&sink.info()), before, "{what} changed the store");
    }
    let status = grpc_raw(&channel, TRACE_EXPORT, bad_id.encode_to_vec(), None)
        .await
        .unwrap_err();
    let bad = status
        .get_details_bad_request()
        .expect("a BadRequest detail");
    assert_eq!(
        bad.field_violations[0].field,
        "resourceSpans[0].scopeSpans[0].spans[0].traceId"
    );

    // A gzip bomb: 16 MiB of zeros in ~16 KB (one gzip member, as gRPC compression is),
    // inflated only up to the 1 MiB limit.
    let started = Instant::now();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..16 {
        enc.write_all(&[0u8; 1 << 20]).unwrap();
    }
    let bomb = enc.finish().unwrap();
    eprintln!(
        "built a {} byte gzip bomb in {:?}",
        bomb.len(),
        started.elapsed()
    );
    let status = grpc_frame(&channel, true, bomb).await;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("inflates to more than the limit"),
        "{status:?}"
    );
    let status = grpc_frame(&channel, true, b"\x1f\x8b\x08\x00garbage".to_vec()).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(counts(&sink.info()), before);

    let status = grpc_raw(
        &channel,
        "/opentelemetry.proto.collector.trace.v1.TraceService/Import",
        good.clone(),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    // An empty message is an empty request: success.
    grpc_raw(&channel, TRACE_EXPORT, Vec::new(), None)
        .await
        .unwrap();
    // Still serving, gzip included.
    let mut client = TraceServiceClient::new(channel.clone())
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    client.export(trace_request(3, 2)).await.unwrap();
    assert_eq!(counts(&sink.info())[0], before[0] + 2);
    sink.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Auth and overload.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_requests_without_it_get_401_and_unauthenticated() {
    let token = "s3cret-t0ken";
    let mut sink = TestSink::start_with(
        WriterConfig::default(),
        ReceiverConfig {
            token: Some(obs::config::Secret::new(token)),
            ..ReceiverConfig::default()
        },
    )
    .await;
    let client = reqwest::Client::new();
    let body = trace_request(1, 2).encode_to_vec();
    let url = sink.url("/v1/traces");
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Basic czNjcmV0LXQwa2Vu"),
        Some("Bearer s3cret-t0ke"),
    ] {
        let mut headers = vec![("content-type", "application/x-protobuf")];
        if let Some(auth) = auth {
            headers.push(("authorization", auth));
        }
        let reply = send(&client, reqwest::Method::POST, &url, &headers, body.clone()).await;
        assert_eq!(reply.status, 401, "{auth:?}");
        assert_eq!(reply.headers["www-authenticate"], "Bearer");
        let (code, message) = reply.status_message();
        assert_eq!(code, Code::Unauthenticated as i32);
        assert!(
            message.contains("Authorization: Bearer <token>"),
            "{message}"
        );
        assert!(!message.contains(token));
    }
    let bearer = format!("Bearer {token}");
    let ok = send(
        &client,
        reqwest::Method::POST,
        &url,
        &[
            ("content-type", "application/x-protobuf"),
            ("authorization", &bearer),
        ],
        body.clone(),
    )
    .await;
    assert_eq!(ok.status, 200);

    let channel = grpc_channel(&sink).await;
    let status = grpc_raw(&channel, TRACE_EXPORT, body.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = grpc_raw(&channel, TRACE_EXPORT, body.clone(), Some("nope"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    grpc_raw(
        &channel,
        TRACE_EXPORT,
        trace_request(2, 2).encode_to_vec(),
        Some(token),
    )
    .await
    .unwrap();

    // The sink's own endpoints stay open, and never show the token.
    assert_eq!(
        send(
            &client,
            reqwest::Method::GET,
            &sink.url("/healthz"),
            &[],
            Vec::new()
        )
        .await
        .status,
        200
    );
    let metrics = send(
        &client,
        reqwest::Method::GET,
        &sink.url("/metrics"),
        &[],
        Vec::new(),
    )
    .await;
    let metrics = String::from_utf8(metrics.body).unwrap();
    assert!(!metrics.contains(token));
    assert!(
        metrics.contains("outcome=\"unauthenticated\"} 4"),
        "{metrics}"
    );
    assert_eq!(sink.info().spans, 4);
    assert!(!format!("{:?}", sink.receiver).contains(token));
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_store_queue_is_answered_with_503_retry_after_and_unavailable_retry_info() {
    let mut sink = TestSink::start_with(
        WriterConfig {
            queue_capacity: 1,
            ..WriterConfig::default()
        },
        ReceiverConfig::default(),
    )
    .await;
    let client = reqwest::Client::new();
    let channel = grpc_channel(&sink).await;
    // Another process holds the store's write lock (as a slow disk or a long retention pass
    // would hold the writer up): the writer waits in BEGIN, its one-request queue fills, and
    // the rest must be refused rather than buffered.
    let spans = 500;
    // Bodies built before the lock is taken: in a debug build on a busy machine building 48
    // of them takes seconds, which must not count against the writer's 5 s busy timeout.
    let bodies: Vec<Vec<u8>> = (0..48u64)
        .map(|seed| trace_request(seed, spans).encode_to_vec())
        .collect();
    let blocker = rusqlite::Connection::open(&sink.store).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let locked_at = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (seed, body) in (0..48u64).zip(bodies) {
        let client = client.clone();
        let channel = channel.clone();
        let url = sink.url("/v1/traces");
        tasks.spawn(async move {
            if seed % 2 == 0 {
                let reply = send(
                    &client,
                    reqwest::Method::POST,
                    &url,
                    &[("content-type", "application/x-protobuf")],
                    body,
                )
                .await;
                if reply.status == 503 {
                    let after: u64 = reply.headers["retry-after"]
                        .to_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert!(after >= 1);
                    let (code, message) = reply.status_message();
                    assert_eq!(code, Code::Unavailable as i32);
                    assert!(message.contains("overloaded"), "{message}");
                    (seed, false)
                } else {
                    assert_eq!(reply.status, 200);
                    (seed, true)
                }
            } else {
                match grpc_raw(&channel, TRACE_EXPORT, body, None).await {
                    Ok(_) => (seed, true),
                    Err(status) => {
                        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                        let retry = status
                            .get_details_retry_info()
                            .expect("RetryInfo in the details");
                        assert!(retry.retry_delay.unwrap() > Duration::ZERO);
                        (seed, false)
                    }
                }
            }
        });
    }
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    // Refusals come back at once; accepted requests wait for the lock. Release it once a
    // refusal has come over each protocol (even seeds are HTTP, odd gRPC), or 3 s after the
    // lock was taken (inside the writer's 5 s busy timeout) if not.
    let deadline = locked_at + Duration::from_secs(3);
    let both_refused = |r: &[u64]| r.iter().any(|s| s % 2 == 0) && r.iter().any(|s| s % 2 == 1);
    while !both_refused(&refused) && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(100), tasks.join_next()).await {
            Ok(Some(result)) => {
                let (seed, ok) = result.unwrap();
                if ok {
                    accepted.push(seed)
                } else {
                    refused.push(seed)
                }
            }
            Ok(None) => break,
            Err(_) => {}
        }
    }
    blocker.execute_batch("ROLLBACK").unwrap();
    while let Some(result) = tasks.join_next().await {
        let (seed, ok) = result.unwrap();
        if ok {
            accepted.push(seed)
        } else {
            refused.push(seed)
        }
    }
    assert!(
        !refused.is_empty(),
        "nothing was refused: the queue never filled"
    );
    assert!(
        refused.iter().any(|s| s % 2 == 0) && refused.iter().any(|s| s % 2 == 1),
        "{refused:?}"
    );
    let store = sink.read();
    for seed in &accepted {
        assert_eq!(
            store
                .trace(&hex(&trace_id(*seed)))
                .unwrap()
                .map(|t| t.spans.len()),
            Some(spans)
        );
    }
    for seed in &refused {
        assert!(store.trace(&hex(&trace_id(*seed))).unwrap().is_none());
    }
    sink.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The `obs sink` binary: killed mid-stream, stopped with SIGTERM, `obs store info` beside it.

/// `obs sink` running as a child process on port 0.
struct SinkProcess {
    child: Child,
    grpc: String,
    http: String,
    stderr: Arc<Mutex<String>>,
    /// The thread reading stderr; it ends at end of file, once the sink has exited.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl SinkProcess {
    fn start(store: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> SinkProcess {
        let mut cmd = obs_command();
        cmd.args([
            "sink",
            "--grpc",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--store",
        ])
        .arg(store)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut grpc, mut http) = (String::new(), String::new());
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(addr) = line.strip_prefix("OTLP/gRPC listening on ") {
                grpc = format!("http://{addr}");
            } else if let Some(url) = line.strip_prefix("OTLP/HTTP listening on ") {
                http = url.to_string();
            } else if line.starts_with("storing in ") {
                break;
            }
        }
        assert!(
            !http.is_empty(),
            "no address announced; stderr: {}",
            stderr.lock().unwrap()
        );
        // Keep reading stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        SinkProcess {
            child,
            grpc,
            http,
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        terminate(&mut self.child)
    }

    /// Everything the sink wrote on stderr, once it has exited: waits for the reading thread
    /// to reach end of file, which on a busy machine can be well after the exit.
    fn stderr_after_exit(&mut self) -> String {
        if let Some(reader) = self.stderr_reader.take() {
            reader.join().expect("the stderr reader panicked");
        }
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends traces of `spans` spans from `clients` concurrent clients (half HTTP, half gRPC), each
/// as fast as it is answered, until `stop` is set or the sink stops answering. Returns the
/// seeds of the acknowledged requests.
async fn stream(
    sink_http: String,
    sink_grpc: String,
    clients: u64,
    spans: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
    progress: Arc<AtomicU64>,
) -> Vec<u64> {
    use std::sync::atomic::Ordering;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (http, grpc, stop, progress) = (
            sink_http.clone(),
            sink_grpc.clone(),
            Arc::clone(&stop),
            Arc::clone(&progress),
        );
        tasks.spawn(async move {
            let mut acked = Vec::new();
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let channel = tonic::transport::Channel::from_shared(grpc)
                .unwrap()
                .connect_lazy();
            let mut grpc_client = TraceServiceClient::new(channel);
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let seed = 1_000_000 * (c + 1) + i;
                let request = trace_request(seed, spans);
                let ok = if c % 2 == 0 {
                    match client
                        .post(format!("{http}/v1/traces"))
                        .header("content-type", "application/x-protobuf")
                        .body(request.encode_to_vec())
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 200 => true,
                        Ok(r) if r.status() == 503 => false,
                        _ => break,
                    }
                } else {
                    match grpc_client.export(request).await {
                        Ok(_) => true,
                        Err(s)
                            if s.code() == Code::Unavailable
                                && s.get_details_retry_info().is_some() =>
                        {
                            false
                        }
                        Err(_) => break,
                    }
                };
                if ok {
                    acked.push(seed);
                    progress.fetch_add(1, Ordering::Relaxed);
                }
            }
            acked
        });
    }
    let mut acked = Vec::new();
    while let Some(result) = tasks.join_next().await {
        acked.extend(result.unwrap());
    }
    acked
}

/// Waits (up to 60 s) until `progress` counts `n` acknowledged requests.
async fn acknowledged_at_least(progress: &AtomicU64, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while progress.load(std::sync::atomic::Ordering::Relaxed) < n {
        assert!(
            Instant::now() < deadline,
            "fewer than {n} requests acknowledged in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_all_stored(store: &std::path::Path, acked: &[u64], spans: usize) {
    let store = Store::open_read_only(store).unwrap();
    for seed in acked {
        let trace = store.trace(&hex(&trace_id(*seed))).unwrap();
        assert_eq!(
            trace.map(|t| t.spans.len()),
            Some(spans),
            "acknowledged request {seed} is not (wholly) in the store"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_request_survives_sigkill_of_the_sink_binary() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sink.db");
    let mut sink = SinkProcess::start(&store, &[], &[]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let progress = Arc::new(AtomicU64::new(0));
    let streaming = tokio::spawn(stream(
        sink.http.clone(),
        sink.grpc.clone(),
        8,
        20,
        Arc::clone(&stop),
        Arc::clone(&progress),
    ));
    // Kill once a good number of requests have been acknowledged, mid-stream.
    acknowledged_at_least(&progress, 50).await;
    sink.child.kill().unwrap();
    sink.child.wait().unwrap();
    let acked = tokio::time::timeout(Duration::from_secs(30), streaming)
        .await
        .unwrap()
        .unwrap();
    assert!(
        acked.len() >= 50,
        "only {} requests acknowledged before the kill",
        acked.len()
    );
    eprintln!("{} requests acknowledged before SIGKILL", acked.len());

    // The store opens again (the WAL is recovered) and has every acknowledged request.
    let mut again = SinkProcess::start(&store, &[], &[]);
    assert_all_stored(&store, &acked, 20);
    // `obs store info` works beside the running sink.
    let out = obs_command()
        .args(["store", "info", "-o", "json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let spans = info["spans"].as_u64().unwrap();
    assert!(spans >= 20 * acked.len() as u64, "{info}");
    assert!(
        info["traces"].as_u64().unwrap() >= acked.len() as u64,
        "{info}"
    );
    for key in ["logs", "metric_points", "exemplars"] {
        assert_eq!(info[key], 0, "{key}: {info}");
    }
    assert_eq!(
        info["services"],
        serde_json::json!(["cart-0", "cart-1", "cart-2", "cart-3"])
    );
    assert!(
        info["first"].as_str().unwrap().starts_with("2026-01-01T"),
        "{info}"
    );
    assert!(info["last"].is_string(), "{info}");
    assert_eq!(
        again.terminate().code(),
        Some(0),
        "{}",
        again.stderr.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_sink_binary_with_exit_0_after_committing_what_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("nested/dir/sink.db");
    let token = "t0ken-that-must-not-leak";
    let mut sink = SinkProcess::start(&store, &["-v"], &[("OBS_SINK_TOKEN", token)]);
    // Clients without the token are refused, and never stored.
    let refused = reqwest::Client::new()
        .post(format!("{}/v1/traces", sink.http))
        .header("content-type", "application/x-protobuf")
        .body(trace_request(1, 1).encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let http = sink.http.clone();
    let progress = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&progress);
    let streaming = tokio::spawn(async move {
        // A client with the token, sending until the sink goes away.
        let client = reqwest::Client::new();
        let mut acked = Vec::new();
        for seed in 10.. {
            match client
                .post(format!("{http}/v1/traces"))
                .header("content-type", "application/x-protobuf")
                .header("authorization", format!("Bearer {token}"))
                .body(trace_request(seed, 10).encode_to_vec())
                .send()
                .await
            {
                Ok(r) if r.status() == 200 => {
                    acked.push(seed);
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(r) if r.status() == 503 => {}
                Ok(r) => panic!("unexpected {}", r.status()),
                Err(_) => break,
            }
        }
        acked
    });
    acknowledged_at_least(&progress, 10).await;
    // Off the runtime's workers: the client task keeps running while this waits.
    let (status, mut sink) = tokio::task::spawn_blocking(move || (sink.terminate(), sink))
        .await
        .unwrap();
    // The sink has exited: the client's next request fails, and it stops.
    let acked = tokio::time::timeout(Duration::from_secs(60), streaming)
        .await
        .expect("the client stops once the sink is gone")
        .unwrap();
    let stderr = sink.stderr_after_exit();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert!(
        stderr.contains("stopped; everything acknowledged is in"),
        "{stderr}"
    );
    assert!(!stderr.contains(token), "the token leaked: {stderr}");
    assert!(!acked.is_empty());
    assert_all_stored(&store, &acked, 10);
    let info = Store::open_read_only(&store).unwrap().info().unwrap();
    assert_eq!(
        info.traces,
        acked.len() as u64,
        "only acknowledged requests are stored"
    );
}

#[test]
fn store_info_prints_text_and_names_a_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sink.db");
    let (handle, writer) = obs::store::spawn_writer(&store, WriterConfig::default()).unwrap();
    let receipt = handle
        .submit(obs::store::Payload::Traces(trace_request(5, 4)))
        .unwrap();
    receipt.wait_blocking().unwrap();
    writer.shutdown().unwrap();
    let out = obs_command()
        .args(["store", "info", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "spans          4",
        "traces         1",
        "logs           0",
        "services       cart-1",
        "first          2026-01-01T",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "no {line:?} in\n{text}"
        );
    }
    let missing = dir.path().join("nope.db");
    let out = obs_command()
        .args(["store", "info", "--store"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
}

#[test]
fn sink_usage_errors_exit_2_and_a_taken_port_exits_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sink.db");
    for (args, message) in [
        (
            &["--max-size", "12parsecs"][..],
            "invalid size \"12parsecs\" for --max-size",
        ),
        (&["--max-age", "soon"][..], "invalid duration \"soon\""),
        (
            &["--grpc", "off", "--http", "off"][..],
            "both --grpc and --http are off",
        ),
        (
            &["--max-request-size", "0"][..],
            "--max-request-size must be positive",
        ),
    ] {
        let out = obs_command()
            .arg("sink")
            .args(args)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = obs_command()
        .args(["sink", "--grpc", "off", "--http", &addr, "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&addr) && stderr.contains("--http"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_beyond_loopback_without_a_token_warns_and_json_announces_the_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sink.db");
    let mut cmd = obs_command();
    cmd.args([
        "sink",
        "-o",
        "json",
        "--grpc",
        "off",
        "--http",
        "0.0.0.0:0",
        "--store",
    ])
    .arg(&store)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let warning = lines.next().unwrap().unwrap();
    assert!(
        warning.contains("without a token") && warning.contains("OBS_SINK_TOKEN"),
        "{warning}"
    );
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let announced: serde_json::Value =
        serde_json::from_str(&stdout.next().unwrap().unwrap()).unwrap();
    assert_eq!(announced["grpc"], serde_json::Value::Null);
    assert!(
        announced["http"]
            .as_str()
            .unwrap()
            .starts_with("http://0.0.0.0:"),
        "{announced}"
    );
    assert_eq!(announced["store"], store.display().to_string());
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
