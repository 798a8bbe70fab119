//! `obs trace`, `obs logs` and `obs investigate` with `--store PATH`: data sent with the real
//! OpenTelemetry SDK to an in-process sink, read back from its store by the obs binary while the
//! sink still holds the file open for writing.

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{Status, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::Value;

use crate::cli::obs;
use crate::support::otel::{Exporters, Transport, exporters};
use crate::support::sink::TestSink;

fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One request through two services (frontend → checkout, the parent context propagated as an
/// application would), a failing database span, and logs inside the spans. Returns the trace id.
fn emit(frontend: Exporters, checkout: Exporters) -> String {
    let provider = |e: Exporters, name: &'static str| {
        let resource = Resource::builder().with_service_name(name).build();
        (
            SdkTracerProvider::builder()
                .with_batch_exporter(e.spans)
                .with_resource(resource.clone())
                .build(),
            SdkLoggerProvider::builder()
                .with_batch_exporter(e.logs)
                .with_resource(resource)
                .build(),
        )
    };
    let (front_traces, front_logs) = provider(frontend, "frontend");
    let (check_traces, check_logs) = provider(checkout, "checkout");
    let front = front_traces.tracer("offline-test");
    let check = check_traces.tracer("offline-test");
    let front_logger = front_logs.logger("offline-test");
    let check_logger = check_logs.logger("offline-test");

    let root = front.start("POST /checkout");
    let root_cx = Context::current_with_span(root);
    let mut headers = std::collections::HashMap::new();
    opentelemetry::propagation::TextMapPropagator::inject_context(
        &opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        &root_cx,
        &mut headers,
    );
    let parent = opentelemetry::propagation::TextMapPropagator::extract(
        &opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        &headers,
    );
    let server = check.start_with_context("POST /api/checkout", &parent);
    let server_cx = parent.with_span(server);
    let db = check.start_with_context("SELECT orders", &server_cx);
    let db_cx = server_cx.with_span(db);
    {
        let _attached = db_cx.clone().attach();
        let mut record = check_logger.create_log_record();
        record.set_severity_number(Severity::Error);
        record.set_severity_text("ERROR");
        record.set_body("timeout acquiring a connection from pool orders".into());
        check_logger.emit(record);
    }
    db_cx.span().set_status(Status::error(
        "timeout acquiring a connection from pool orders",
    ));
    db_cx
        .span()
        .set_attribute(KeyValue::new("db.system.name", "postgresql"));
    db_cx.span().end();
    server_cx
        .span()
        .set_status(Status::error("database unavailable"));
    server_cx.span().end();
    {
        let _attached = root_cx.clone().attach();
        let mut record = front_logger.create_log_record();
        record.set_severity_number(Severity::Warn);
        record.set_severity_text("WARN");
        record.set_body("checkout answered 500; queued for retry".into());
        front_logger.emit(record);
    }
    root_cx.span().end();
    let trace_id = root_cx.span().span_context().trace_id().to_string();
    for p in [&front_traces, &check_traces] {
        p.force_flush().unwrap();
        p.shutdown().unwrap();
    }
    for p in [&front_logs, &check_logs] {
        p.force_flush().unwrap();
        p.shutdown().unwrap();
    }
    trace_id
}

async fn sink_with_one_request() -> (TestSink, String) {
    let sink = TestSink::start().await;
    let frontend = exporters(Transport::Grpc, &sink.grpc_url(), &sink.url(""));
    let checkout = exporters(Transport::HttpProtobuf, &sink.grpc_url(), &sink.url(""));
    let trace_id = tokio::task::spawn_blocking(move || emit(frontend, checkout))
        .await
        .unwrap();
    (sink, trace_id)
}

#[test]
fn trace_and_logs_read_the_store_of_a_running_sink() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (mut sink, trace_id) = rt.block_on(sink_with_one_request());
    let store = sink.store.to_str().unwrap().to_string();

    // The sink is still running: its writer holds the file, and obs reads it anyway.
    let (code, stdout, stderr) = run(obs()
        .env("COLUMNS", "140")
        .args(["trace", &trace_id, "--store", &store]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("critical path"), "{stdout}");
    assert!(stdout.contains("frontend POST /checkout"), "{stdout}");
    assert!(stdout.contains("checkout POST /api/checkout"), "{stdout}");
    assert!(stdout.contains("SELECT orders"), "{stdout}");
    assert!(stdout.contains("2 services"), "{stdout}");

    let (code, stdout, stderr) =
        run(obs().args(["trace", &trace_id, "--store", &store, "-o", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert!(json.to_string().contains("SELECT orders"), "{json}");

    let (code, stdout, stderr) = run(obs().args(["logs", "--trace", &trace_id, "--store", &store]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("timeout acquiring a connection from pool orders"),
        "{stdout}"
    );
    assert!(stdout.contains("queued for retry"), "{stdout}");
    assert!(stderr.contains("2 lines of trace"), "{stderr}");

    let (code, stdout, stderr) = run(obs().args([
        "logs",
        "--service",
        "checkout",
        "--store",
        &store,
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0]["service"], "checkout");
    assert_eq!(lines[0]["severity"], "ERROR");
    assert_eq!(lines[0]["trace_id"], trace_id.as_str());

    let (code, stdout, _) = run(obs().args([
        "logs",
        "--service",
        "frontend",
        "--level",
        "error",
        "--store",
        &store,
    ]));
    assert_eq!(code, 0);
    assert!(stdout.is_empty(), "a warning is below error: {stdout}");

    // An id the store does not have.
    let (code, _, stderr) = run(obs().args(["trace", "0123456789abcdef", "--store", &store]));
    assert_eq!(code, 1);
    assert!(stderr.contains("not found in store"), "{stderr}");

    rt.block_on(sink.stop());
}

/// The whole investigation on a store is pinned by `demo.rs` (the demo's kept store); here, a
/// store with traces and logs but no metrics says what is missing and how to go on.
#[test]
fn investigate_on_a_store_without_metrics_says_what_is_missing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (mut sink, _) = rt.block_on(sink_with_one_request());
    rt.block_on(sink.stop());
    let store = sink.store.to_str().unwrap().to_string();
    let (code, stdout, stderr) =
        run(obs().args(["investigate", "--since", "10m", "--store", &store]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("no error-rate metric found"), "{stderr}");
    assert!(stderr.contains("--symptom-query"), "{stderr}");
}

#[test]
fn an_empty_store_and_a_file_that_is_not_one_give_clear_messages() {
    let dir = tempfile::tempdir().unwrap();

    // A store with the schema and no data.
    let empty = dir.path().join("empty.db");
    drop(obs::store::Store::open(&empty).unwrap());
    let empty = empty.to_str().unwrap();
    let (code, _, stderr) = run(obs().args(["trace", "abc123", "--store", empty]));
    assert_eq!(code, 1);
    assert!(stderr.contains("not found in store"), "{stderr}");
    let (code, stdout, stderr) =
        run(obs().args(["logs", "--service", "checkout", "--store", empty]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");

    // LogQL needs Loki: the store says so instead of ignoring the query.
    let (code, _, stderr) =
        run(obs().args(["logs", "--query", "{job=\"shop\"}", "--store", empty]));
    assert_eq!(code, 1);
    assert!(stderr.contains("a LogQL query"), "{stderr}");

    // A zero-byte file, a file that is not a database, and no file at all.
    let zero = dir.path().join("zero.db");
    std::fs::write(&zero, b"").unwrap();
    let (code, _, stderr) = run(obs().args(["trace", "abc123", "--store", zero.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(stderr.contains("no obs store here"), "{stderr}");

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "this is not a database, just some notes\n".repeat(200),
    )
    .unwrap();
    let (code, _, stderr) = run(obs().args([
        "logs",
        "--service",
        "checkout",
        "--store",
        text.to_str().unwrap(),
    ]));
    assert_eq!(code, 1);
    assert!(stderr.contains("not an obs store"), "{stderr}");
    assert!(stderr.contains("notes.txt"), "{stderr}");

    let missing = dir.path().join("missing.db");
    let (code, _, stderr) = run(obs().args([
        "investigate",
        "--since",
        "1h",
        "--store",
        missing.to_str().unwrap(),
    ]));
    assert_eq!(code, 1);
    assert!(stderr.contains("missing.db"), "{stderr}");
}
