//! Speed of moving a store's spans as files and over the wire (not a test): `obs store export`
//! (store → OTLP JSON Lines), `obs store import` (JSON Lines → a new store, through the store
//! writer, committed) and `obs replay` (store → OTLP/HTTP protobuf → an in-process `obs sink`
//! on loopback, each request acknowledged after its commit). The store holds
//! `OBS_BENCH_SPANS` spans (default 200 000): 16-span traces of realistic spans (~10 attributes
//! of an HTTP service and its database client, varied values), written by the store writer.
//! Each phase is run `OBS_BENCH_ROUNDS` times (default 3), interleaved, and the best and the
//! median reported, in spans per second.
//!
//! `cargo bench --bench transfer` (release).

use std::time::{Duration, Instant};

use obs::replay::{Options, Shift};
use obs::sink::{Receiver, ReceiverConfig};
use obs::store::{
    ExportSignal, ExportTraceServiceRequest, ExportWindow, Payload, Store, WriterConfig,
    spawn_writer,
};
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

const SPANS_PER_TRACE: usize = 16;
const SPANS_PER_REQUEST: usize = 512;

fn main() -> anyhow::Result<()> {
    let spans: usize = env_or("OBS_BENCH_SPANS", 200_000);
    let rounds: usize = env_or("OBS_BENCH_ROUNDS", 3);
    let dir = tempfile::tempdir()?;
    let store = dir.path().join("source.db");
    let t = Instant::now();
    fill(&store, spans)?;
    let held = Store::open_read_only(&store)?.info()?.spans;
    println!(
        "store: {held} spans in {:.1} s ({} cores; other processes may load the machine)",
        t.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let file = dir.path().join("traces.jsonl");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (mut export, mut import, mut replay) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // export
        let s = Store::open_read_only(&store)?;
        let t = Instant::now();
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        let done = obs::jsonl::export(&s, ExportSignal::Traces, ExportWindow::ALL, &mut out)?;
        drop(out);
        export.push(done.items as f64 / t.elapsed().as_secs_f64());
        // import
        let target = dir.path().join(format!("import-{round}.db"));
        let t = Instant::now();
        let imported = obs::jsonl::import(std::slice::from_ref(&file), &target)?;
        import.push(imported.accepted as f64 / t.elapsed().as_secs_f64());
        let _ = std::fs::remove_file(&target);
        // replay into a sink
        let sink_store = dir.path().join(format!("sink-{round}.db"));
        let rate = runtime.block_on(replay_once(&store, &sink_store, dir.path(), round))?;
        replay.push(rate);
        let _ = std::fs::remove_file(&sink_store);
        println!(
            "round {round}: export {:.0} spans/s, import {:.0} spans/s, replay {:.0} spans/s ({} MB of JSON Lines)",
            export[round],
            import[round],
            replay[round],
            std::fs::metadata(&file)?.len() / 1_000_000
        );
    }
    for (name, v) in [
        ("export", &mut export),
        ("import", &mut import),
        ("replay", &mut replay),
    ] {
        v.sort_by(f64::total_cmp);
        println!(
            "{name}: best {:.0} spans/s, median {:.0} spans/s",
            v[v.len() - 1],
            v[v.len() / 2]
        );
    }
    Ok(())
}

async fn replay_once(
    store: &std::path::Path,
    sink_store: &std::path::Path,
    dir: &std::path::Path,
    round: usize,
) -> anyhow::Result<f64> {
    let (handle, writer) = spawn_writer(sink_store, WriterConfig::default())?;
    let receiver = Receiver::new(handle, ReceiverConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, mut stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(obs::sink::http::serve(listener, receiver, async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    }));
    let t = Instant::now();
    let summary = obs::replay::run(Options {
        store: store.to_path_buf(),
        to: format!("http://{addr}"),
        grpc: false,
        shift: Shift::None,
        rate: None,
        batch: SPANS_PER_REQUEST,
        signals: vec![ExportSignal::Traces],
        state: dir.join(format!("replay-{round}.json")),
        restart: true,
        headers: Vec::new(),
        timeout: Duration::from_secs(30),
    })
    .await?;
    let elapsed = t.elapsed().as_secs_f64();
    let _ = stop.send(true);
    server.await??;
    tokio::task::spawn_blocking(move || writer.shutdown()).await??;
    let acked = summary.signals.get("traces").map_or(0, |p| p.acknowledged);
    Ok(acked as f64 / elapsed)
}

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes `spans` spans into a new store at `path`, 512 per request.
fn fill(path: &std::path::Path, spans: usize) -> anyhow::Result<()> {
    let (handle, writer) = spawn_writer(path, WriterConfig::default())?;
    let mut receipts = Vec::new();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for n in 0..spans.div_ceil(SPANS_PER_REQUEST) {
        let r = handle.submit(Payload::Traces(request(n as u64, &mut rng)))?;
        receipts.push(r);
        if receipts.len() >= 32 {
            for r in receipts.drain(..) {
                r.wait_blocking()?;
            }
        }
    }
    for r in receipts {
        r.wait_blocking()?;
    }
    drop(handle);
    writer.shutdown()?;
    Ok(())
}

fn rand(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Request `n`: 32 traces of 16 spans (a server span and its children).
fn request(n: u64, rng: &mut u64) -> ExportTraceServiceRequest {
    let kv = |k: &str, v: Value| KeyValue {
        key: k.to_string(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    };
    let s = |v: String| Value::StringValue(v);
    let routes = ["/api/cart", "/api/checkout", "/api/items/{id}", "/health"];
    let base = 1_700_000_000_000_000_000u64 + n * 320_000_000;
    let mut spans = Vec::with_capacity(SPANS_PER_REQUEST);
    for t in 0..SPANS_PER_REQUEST / SPANS_PER_TRACE {
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&n.to_be_bytes());
        trace_id[8..].copy_from_slice(&(t as u64 + 1).to_be_bytes());
        let start = base + t as u64 * 10_000_000;
        for i in 0..SPANS_PER_TRACE {
            let r = rand(rng);
            let span_id = ((n << 20) | ((t as u64) << 8) | (i as u64 + 1)).to_be_bytes();
            let parent = if i == 0 {
                Vec::new()
            } else {
                ((n << 20) | ((t as u64) << 8) | 1).to_be_bytes().to_vec()
            };
            let route = routes[(r % 4) as usize];
            let status = if r.is_multiple_of(50) { 500 } else { 200 };
            spans.push(Span {
                trace_id: trace_id.to_vec(),
                span_id: span_id.to_vec(),
                parent_span_id: parent,
                name: if i == 0 {
                    format!("GET {route}")
                } else {
                    "SELECT shop.items".to_string()
                },
                kind: if i == 0 { 2 } else { 3 },
                start_time_unix_nano: start + i as u64 * 100_000,
                end_time_unix_nano: start + i as u64 * 100_000 + 50_000 + r % 2_000_000,
                attributes: vec![
                    kv("http.request.method", s("GET".into())),
                    kv("http.route", s(route.into())),
                    kv("http.response.status_code", Value::IntValue(status)),
                    kv(
                        "url.path",
                        s(route.replace("{id}", &(r % 1000).to_string())),
                    ),
                    kv("server.address", s("shop.internal".into())),
                    kv("db.system", s("postgresql".into())),
                    kv(
                        "db.statement",
                        s(format!("SELECT * FROM items WHERE id = {}", r % 997)),
                    ),
                    kv("user.id", s(format!("user-{}", r % 5000))),
                    kv("request.id", s(format!("{:016x}", rand(rng)))),
                    kv("duration.hint", Value::DoubleValue((r % 1000) as f64 / 7.0)),
                ],
                status: Some(Status {
                    code: if status == 500 { 2 } else { 0 },
                    message: String::new(),
                }),
                ..Default::default()
            });
            let _ = span::SpanKind::Server;
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", s(format!("shop-{}", n % 4))),
                    kv("service.instance.id", s(format!("pod-{}", n % 8))),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "shop".into(),
                    version: "1.0".into(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}
