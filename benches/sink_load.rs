//! Load benchmark for `obs sink` (not a test): several concurrent clients send realistic span
//! batches (512 spans of ~10 attributes, 32 traces of 16 spans, protobuf) over OTLP/HTTP and
//! then over OTLP/gRPC to an in-process sink writing a temporary store, each client sending
//! its next batch as soon as the previous one is acknowledged (after commit). Reports
//! acknowledged spans/s, acknowledgement latency (p50, p99), the process's peak RSS per phase,
//! and a decode-only baseline of the same payloads on every core. Then the same for metrics:
//! each client is one service instance exporting 500 counters and 50 histograms of 10 buckets
//! (1,150 stored samples per request, 15 s later each time), over both transports; it reports
//! acknowledged data points/s and stored samples/s and the file's bytes per sample.
//!
//! `cargo bench --bench sink_load` (release). Environment: `OBS_BENCH_SECONDS` per phase
//! (default 10), `OBS_BENCH_CLIENTS` (default 8), `OBS_BENCH_GROUP_ITEMS` (the writer's
//! `max_group_items`, default the sink's), `OBS_BENCH_SPANS_ONLY` (set: skip the metrics
//! phases).
//!
//! One file over 800 lines on purpose: a bench binary is one file, and its span and metric
//! phases share the clients, the sink set-up and the reporting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use obs::sink::decode::{Encoding, Signal, decode};
use obs::sink::{Receiver, ReceiverConfig};
use obs::store::WriterConfig;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use prost::Message as _;

const SPANS_PER_BATCH: usize = 512;
const SPANS_PER_TRACE: usize = 16;
const TRACES_PER_BATCH: usize = SPANS_PER_BATCH / SPANS_PER_TRACE;
/// The time one batch covers: its traces start 10 ms apart.
const BATCH_NANOS: u64 = TRACES_PER_BATCH as u64 * 10_000_000;
/// The first half of every template trace id; the second half is the batch number.
const TRACE_ID_MARK: [u8; 7] = *b"obsload";

fn main() -> anyhow::Result<()> {
    let seconds: u64 = env_or("OBS_BENCH_SECONDS", 10)?;
    let clients: usize = env_or("OBS_BENCH_CLIENTS", 8)?;
    let group_items: usize = env_or(
        "OBS_BENCH_GROUP_ITEMS",
        WriterConfig::default().max_group_items,
    )?;
    let writer_config = WriterConfig {
        max_group_items: group_items,
        ..WriterConfig::default()
    };
    println!("store writer: max_group_items {group_items}");
    let template = Template::new();
    println!(
        "payload: {SPANS_PER_BATCH} spans per request ({TRACES_PER_BATCH} traces x {SPANS_PER_TRACE}), ~10 attributes each, {} bytes protobuf",
        template.bytes.len()
    );
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let baseline = decode_only(&template, Duration::from_secs(seconds.min(5)), false)?;
    println!(
        "decode-only baseline ({} threads): {:.0} spans/s",
        baseline.threads, baseline.spans_per_sec
    );
    let prepared = decode_only(&template, Duration::from_secs(seconds.min(5)), true)?;
    println!(
        "decode + prepare for the store, no store ({} threads): {:.0} spans/s",
        prepared.threads, prepared.spans_per_sec
    );

    let walk = bound_walk(&template, Duration::from_secs(seconds.clamp(1, 5)))?;
    println!(
        "decode-memory bound walk (1 thread): {:.1} us per request, {:.1} % of decoding it on the same thread",
        walk.walk_micros,
        100.0 * walk.walk_micros / walk.decode_micros
    );

    clear_peak_rss();
    let written = written_bytes();
    let direct = store_only(
        &template,
        clients,
        Duration::from_secs(seconds),
        &writer_config,
    )?;
    println!(
        "store only, no transport ({clients} writers: decode, submit, wait for the commit): {:.0} spans/s, {:.0} bytes written and {:.0} stored per span, peak RSS {} MiB",
        direct.spans_per_sec,
        (written_bytes() - written) as f64 / direct.spans.max(1) as f64,
        direct.stored_bytes_per_span,
        peak_rss_kib().unwrap_or(0) / 1024,
    );

    for transport in [Transport::Http, Transport::Grpc] {
        clear_peak_rss();
        let result = run_load(
            &template,
            transport,
            clients,
            Duration::from_secs(seconds),
            &writer_config,
        )?;
        println!(
            "{:<5} {clients} clients: {:.0} acknowledged spans/s ({} requests, {} refused as overloaded), ack latency p50 {:.1} ms, p99 {:.1} ms, peak RSS {} MiB; {:.1}x below decode-only",
            transport.name(),
            result.spans_per_sec,
            result.requests,
            result.overloaded,
            result.p50.as_secs_f64() * 1e3,
            result.p99.as_secs_f64() * 1e3,
            peak_rss_kib().unwrap_or(0) / 1024,
            baseline.spans_per_sec / result.spans_per_sec,
        );
    }

    if std::env::var_os("OBS_BENCH_SPANS_ONLY").is_some() {
        return Ok(());
    }
    println!(
        "metrics payload: {} data points per request ({METRIC_SAMPLES_PER_REQUEST} stored samples: {COUNTERS} counters, {HISTOGRAMS} histograms x {} buckets + sum + count)",
        COUNTERS + HISTOGRAMS,
        METRIC_BOUNDS.len() + 1
    );
    for transport in [Transport::Http, Transport::Grpc] {
        clear_peak_rss();
        let result = run_metrics_load(
            transport,
            clients,
            Duration::from_secs(seconds),
            &writer_config,
        )?;
        println!(
            "{:<5} {clients} clients: {:.0} acknowledged samples/s ({:.0} data points/s, {} requests, {} refused as overloaded), ack latency p50 {:.1} ms, p99 {:.1} ms, {:.2} bytes of file per sample, peak RSS {} MiB",
            transport.name(),
            result.samples_per_sec,
            result.points_per_sec,
            result.requests,
            result.overloaded,
            result.p50.as_secs_f64() * 1e3,
            result.p99.as_secs_f64() * 1e3,
            result.bytes_per_sample,
            peak_rss_kib().unwrap_or(0) / 1024,
        );
    }
    Ok(())
}

const COUNTERS: usize = 500;
const HISTOGRAMS: usize = 50;
const METRIC_BOUNDS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// Stored samples per metrics request: a counter is one, a histogram its buckets + sum + count.
const METRIC_SAMPLES_PER_REQUEST: usize = COUNTERS + HISTOGRAMS * (METRIC_BOUNDS.len() + 3);

/// One export of client `client`'s service at its `n`-th interval (15 s apart), protobuf.
fn metrics_body(client: usize, n: u64) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::metrics::v1::{
        AggregationTemporality, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
        ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
    };
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() - 86_400)
        / 60
        * 60;
    let time = (t0 + n * 15) * 1_000_000_000 + (n * 37 % 250) * 1_000_000;
    let counters = (0..COUNTERS)
        .map(|s| NumberDataPoint {
            attributes: vec![
                kv("http.route", format!("/route/{}", s % 25)),
                kv("http.response.status_code", format!("{}", 200 + s / 25)),
            ],
            start_time_unix_nano: t0 * 1_000_000_000,
            time_unix_nano: time,
            value: Some(number_data_point::Value::AsInt(
                (n * (s as u64 % 13 + 1) + n * n % 7) as i64,
            )),
            ..Default::default()
        })
        .collect();
    let histograms = (0..HISTOGRAMS)
        .map(|h| {
            let counts: Vec<u64> = (0..=METRIC_BOUNDS.len() as u64)
                .map(|b| n * ((b + h as u64) % 5 + 1))
                .collect();
            HistogramDataPoint {
                attributes: vec![kv("http.route", format!("/route/{h}"))],
                start_time_unix_nano: t0 * 1_000_000_000,
                time_unix_nano: time,
                count: counts.iter().sum(),
                sum: Some(n as f64 * 1.37 + h as f64),
                bucket_counts: counts,
                explicit_bounds: METRIC_BOUNDS.to_vec(),
                ..Default::default()
            }
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "checkout".into()),
                    kv("service.instance.id", format!("checkout-{client}")),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "load".into(),
                    ..Default::default()
                }),
                metrics: vec![
                    Metric {
                        name: "http.server.requests".into(),
                        data: Some(Data::Sum(Sum {
                            data_points: counters,
                            aggregation_temporality: AggregationTemporality::Cumulative as i32,
                            is_monotonic: true,
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "http.server.request.duration".into(),
                        unit: "s".into(),
                        data: Some(Data::Histogram(Histogram {
                            data_points: histograms,
                            aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

struct MetricsResult {
    samples_per_sec: f64,
    points_per_sec: f64,
    requests: u64,
    overloaded: u64,
    p50: Duration,
    p99: Duration,
    bytes_per_sample: f64,
}

/// `clients` services export metrics as fast as they are acknowledged, for `duration`.
fn run_metrics_load(
    transport: Transport,
    clients: usize,
    duration: Duration,
    writer_config: &WriterConfig,
) -> anyhow::Result<MetricsResult> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("metrics.db");
    let (writer_handle, writer) = obs::store::spawn_writer(&path, writer_config.clone())?;
    let receiver = Receiver::new(writer_handle, ReceiverConfig::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (requests, overloaded, elapsed, mut latencies) = runtime.block_on(async move {
        let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let (grpc_addr, http_addr) = (grpc.local_addr()?, http.local_addr()?);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let servers = [
            tokio::spawn({
                let (receiver, shutdown) = (receiver.clone(), stopped(stop_rx.clone()));
                async move {
                    let _ = obs::sink::grpc::serve(grpc, receiver, shutdown).await;
                }
            }),
            tokio::spawn({
                let (receiver, shutdown) = (receiver.clone(), stopped(stop_rx));
                async move {
                    let _ = obs::sink::http::serve(http, receiver, shutdown).await;
                }
            }),
        ];
        let overloaded = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..clients {
            let (overloaded, done) = (Arc::clone(&overloaded), Arc::clone(&done));
            tasks.spawn(async move {
                let mut client =
                    Client::new_for(transport, http_addr, grpc_addr, Signal::Metrics).await?;
                let mut latencies = Vec::new();
                let mut n = 0;
                while !done.load(Ordering::Relaxed) {
                    let body = metrics_body(c, n);
                    n += 1;
                    loop {
                        let sent = Instant::now();
                        match client.send(body.clone()).await? {
                            Ack::Ok => {
                                latencies.push(sent.elapsed());
                                break;
                            }
                            Ack::Overloaded(wait) => {
                                overloaded.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(wait).await;
                            }
                        }
                    }
                }
                anyhow::Ok(latencies)
            });
        }
        tokio::time::sleep(duration).await;
        done.store(true, Ordering::Relaxed);
        let mut latencies = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            latencies.extend(joined??);
        }
        let elapsed = started.elapsed();
        let _ = stop_tx.send(true);
        for server in servers {
            let _ = server.await;
        }
        anyhow::Ok((
            latencies.len() as u64,
            overloaded.load(Ordering::Relaxed),
            elapsed,
            latencies,
        ))
    })?;
    writer
        .shutdown()
        .context("the store writer failed at shutdown")?;
    let stored = obs::store::Store::open_read_only(&path)?.info()?;
    anyhow::ensure!(
        stored.metric_points == requests * METRIC_SAMPLES_PER_REQUEST as u64,
        "{} samples stored for {requests} acknowledged requests",
        stored.metric_points
    );
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let secs = elapsed.as_secs_f64();
    Ok(MetricsResult {
        samples_per_sec: (requests * METRIC_SAMPLES_PER_REQUEST as u64) as f64 / secs,
        points_per_sec: (requests * (COUNTERS + HISTOGRAMS) as u64) as f64 / secs,
        requests,
        overloaded,
        p50: pct(0.50),
        p99: pct(0.99),
        bytes_per_sample: stored.size_bytes as f64 / stored.metric_points.max(1) as f64,
    })
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a valid number")),
        Err(_) => Ok(default),
    }
}

/// One encoded batch, and where its trace ids sit, so that each request gets fresh ids with a
/// memcpy and a few stores instead of a re-encode (the clients share the cores with the sink).
#[derive(Clone)]
struct Template {
    bytes: Vec<u8>,
    trace_id_offsets: Vec<usize>,
    /// Where each span's start and end time (fixed64) sit, with the template's value.
    time_offsets: Vec<(usize, u64)>,
}

impl Template {
    fn new() -> Template {
        let request = batch();
        let bytes = request.encode_to_vec();
        let mut trace_id_offsets = Vec::new();
        for t in 0..TRACES_PER_BATCH {
            let id = template_trace_id(t);
            let mut from = 0;
            while let Some(at) = find(&bytes[from..], &id) {
                trace_id_offsets.push(from + at);
                from += at + id.len();
            }
        }
        assert_eq!(
            trace_id_offsets.len(),
            SPANS_PER_BATCH,
            "every span's trace id is found once"
        );
        let mut time_offsets = Vec::new();
        let spans = request
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| &ss.spans);
        for span in spans {
            for t in [span.start_time_unix_nano, span.end_time_unix_nano] {
                let at = find(&bytes, &t.to_le_bytes()).expect("the time is in the template");
                time_offsets.push((at, t));
            }
        }
        Template {
            bytes,
            trace_id_offsets,
            time_offsets,
        }
    }

    /// Batch `n` of the run: the template with trace ids unique to `n`, and times moved on
    /// by `n` batches' worth, as spans arrive from a live service.
    fn body(&self, n: u64) -> Vec<u8> {
        let mut body = self.bytes.clone();
        for &at in &self.trace_id_offsets {
            body[at + 8..at + 16].copy_from_slice(&n.to_be_bytes());
        }
        for &(at, t) in &self.time_offsets {
            let moved = t + n * BATCH_NANOS;
            body[at..at + 8].copy_from_slice(&moved.to_le_bytes());
        }
        body
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn template_trace_id(t: usize) -> [u8; 16] {
    let mut id = [0xff; 16];
    id[..7].copy_from_slice(&TRACE_ID_MARK);
    id[7] = u8::try_from(t).unwrap_or(u8::MAX);
    id
}

/// 32 traces of 16 spans, each span with the attributes an HTTP service and its database
/// client typically set. Values vary the way real ones do (routes, statuses, queries, users,
/// durations, a random request id per span), so that compression in the store is not
/// flattered by identical spans.
fn batch() -> ExportTraceServiceRequest {
    let kv = |k: &str, v: Value| KeyValue {
        key: k.to_string(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    };
    let s = |v: &str| Value::StringValue(v.to_string());
    // A fixed-seed generator (xorshift64*), so that every run sends the same bytes.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    const ROUTES: [&str; 6] = [
        "/api/cart",
        "/api/cart/items",
        "/api/checkout",
        "/api/products/{id}",
        "/api/users/{id}/orders",
        "/healthz",
    ];
    const QUERIES: [&str; 4] = [
        "SELECT id, sku, qty FROM cart_items WHERE cart_id = $1",
        "UPDATE cart_items SET qty = $1 WHERE id = $2",
        "SELECT price, stock FROM products WHERE sku = ANY($1)",
        "INSERT INTO orders (user_id, total) VALUES ($1, $2) RETURNING id",
    ];
    let start = 1_767_225_600_000_000_000u64;
    let mut spans = Vec::with_capacity(SPANS_PER_BATCH);
    for t in 0..TRACES_PER_BATCH {
        let route = ROUTES[rand() as usize % ROUTES.len()];
        let user = format!("user-{}", rand() % 100_000);
        for i in 0..SPANS_PER_TRACE {
            let span_id = |i: usize| ((t as u64) << 32 | (i as u64 + 1)).to_be_bytes().to_vec();
            let t0 = start + (t as u64) * 10_000_000 + (i as u64) * 100_000 + rand() % 50_000;
            let status = if rand() % 50 == 0 { 503 } else { 200 };
            spans.push(Span {
                trace_id: template_trace_id(t).to_vec(),
                span_id: span_id(i),
                parent_span_id: if i == 0 { Vec::new() } else { span_id(0) },
                name: if i == 0 {
                    format!("GET {route}")
                } else {
                    "SELECT cart_items".into()
                },
                kind: if i == 0 {
                    span::SpanKind::Server
                } else {
                    span::SpanKind::Client
                } as i32,
                start_time_unix_nano: t0,
                end_time_unix_nano: t0 + 200_000 + rand() % 5_000_000,
                attributes: vec![
                    kv("http.request.method", s("GET")),
                    kv("http.route", s(route)),
                    kv("http.response.status_code", Value::IntValue(status)),
                    kv(
                        "server.address",
                        s(&format!("cart-{}.internal", rand() % 8)),
                    ),
                    kv("server.port", Value::IntValue(8080)),
                    kv("db.system.name", s("postgresql")),
                    kv("db.query.text", s(QUERIES[rand() as usize % QUERIES.len()])),
                    kv("user.id", s(&user)),
                    kv(
                        "http.request.header.x-request-id",
                        s(&format!("{:016x}{:016x}", rand(), rand())),
                    ),
                    kv(
                        "db.response.returned_rows",
                        Value::IntValue((rand() % 500) as i64),
                    ),
                ],
                status: Some(Status::default()),
                ..Default::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", s("cart")),
                    kv("service.version", s("1.4.2")),
                    kv("host.name", s("node-7")),
                    kv("k8s.pod.name", s("cart-7d9f8b6c5-x2x9q")),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "cart-http".into(),
                    version: "0.9.0".into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

struct Baseline {
    threads: usize,
    spans_per_sec: f64,
}

/// Decoding (and checking) the same bodies on every core, nothing else: the ceiling.
/// Decodes (and, with `prepare`, also prepares for the store writer: spans grouped by trace
/// and encoded) the same batches on every core, with no store and no transport.
fn decode_only(template: &Template, duration: Duration, prepare: bool) -> anyhow::Result<Baseline> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..16).map(|n| template.body(n)).collect());
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let bodies = Arc::clone(&bodies);
            std::thread::spawn(move || -> anyhow::Result<u64> {
                let mut spans = 0;
                let mut i = 0;
                while started.elapsed() < duration {
                    let payload = decode(Signal::Traces, Encoding::Protobuf, &bodies[i % 16])?;
                    spans += if prepare {
                        std::hint::black_box(payload.prepare_from_protobuf(&bodies[i % 16]))
                            .item_count()
                    } else {
                        payload.item_count()
                    };
                    i += 1;
                }
                Ok(spans)
            })
        })
        .collect();
    let mut spans = 0;
    for h in handles {
        spans += h
            .join()
            .map_err(|_| anyhow::anyhow!("a decode thread panicked"))??;
    }
    Ok(Baseline {
        threads,
        spans_per_sec: spans as f64 / started.elapsed().as_secs_f64(),
    })
}

struct Walk {
    walk_micros: f64,
    decode_micros: f64,
}

/// The sink's walk over each protobuf body that bounds the memory decoding it takes
/// (`decode::bound`), against decoding the same bodies, one thread each, alternately.
fn bound_walk(template: &Template, duration: Duration) -> anyhow::Result<Walk> {
    let bodies: Vec<Vec<u8>> = (0..16).map(|n| template.body(n)).collect();
    let (mut walk, mut walks, mut decoding, mut decodes) =
        (Duration::ZERO, 0u32, Duration::ZERO, 0u32);
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < duration {
        let body = &bodies[i % bodies.len()];
        let t = Instant::now();
        for _ in 0..8 {
            std::hint::black_box(obs::sink::decode::bound::protobuf(
                Signal::Traces,
                std::hint::black_box(body),
            ));
        }
        walk += t.elapsed();
        walks += 8;
        let t = Instant::now();
        std::hint::black_box(decode(Signal::Traces, Encoding::Protobuf, body)?);
        decoding += t.elapsed();
        decodes += 1;
        i += 1;
    }
    Ok(Walk {
        walk_micros: walk.as_secs_f64() * 1e6 / f64::from(walks.max(1)),
        decode_micros: decoding.as_secs_f64() * 1e6 / f64::from(decodes.max(1)),
    })
}

/// The same batches decoded and submitted straight to the store writer from `clients` tasks,
/// each waiting for its commit: the sink minus HTTP and gRPC, to tell transport cost from
/// storage cost.
fn store_only(
    template: &Template,
    clients: usize,
    duration: Duration,
    writer_config: &WriterConfig,
) -> anyhow::Result<StoreOnly> {
    let dir = tempfile::tempdir()?;
    let (handle, writer) =
        obs::store::spawn_writer(&dir.path().join("sink.db"), writer_config.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let template = Arc::new(template.clone());
    let spans = runtime.block_on(async move {
        let next = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients {
            let (template, next, handle) =
                (Arc::clone(&template), Arc::clone(&next), handle.clone());
            tasks.spawn(async move {
                let mut spans = 0u64;
                while started.elapsed() < duration {
                    let body = template.body(next.fetch_add(1, Ordering::Relaxed));
                    let payload = decode(Signal::Traces, Encoding::Protobuf, &body)?
                        .prepare_from_protobuf(&body);
                    match handle.submit(payload) {
                        Ok(receipt) => spans += receipt.wait().await?.accepted,
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
                anyhow::Ok(spans)
            });
        }
        let mut spans = 0;
        while let Some(joined) = tasks.join_next().await {
            spans += joined??;
        }
        anyhow::Ok(StoreOnly {
            spans,
            spans_per_sec: spans as f64 / started.elapsed().as_secs_f64(),
            stored_bytes_per_span: 0.0,
        })
    })?;
    writer.shutdown()?;
    let stored = std::fs::metadata(dir.path().join("sink.db"))?.len();
    Ok(StoreOnly {
        stored_bytes_per_span: stored as f64 / spans.spans.max(1) as f64,
        ..spans
    })
}

struct StoreOnly {
    spans: u64,
    spans_per_sec: f64,
    stored_bytes_per_span: f64,
}

#[derive(Clone, Copy)]
enum Transport {
    Http,
    Grpc,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Http => "HTTP",
            Transport::Grpc => "gRPC",
        }
    }
}

struct LoadResult {
    spans_per_sec: f64,
    requests: u64,
    overloaded: u64,
    p50: Duration,
    p99: Duration,
}

fn run_load(
    template: &Template,
    transport: Transport,
    clients: usize,
    duration: Duration,
    writer_config: &WriterConfig,
) -> anyhow::Result<LoadResult> {
    let dir = tempfile::tempdir()?;
    let (writer_handle, writer) =
        obs::store::spawn_writer(&dir.path().join("sink.db"), writer_config.clone())?;
    let receiver = Receiver::new(writer_handle, ReceiverConfig::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let template_bytes = Arc::new(template.clone());
    let result = runtime.block_on(async move {
        let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let (grpc_addr, http_addr) = (grpc.local_addr()?, http.local_addr()?);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let servers = [
            tokio::spawn({
                let (receiver, shutdown) = (receiver.clone(), stopped(stop_rx.clone()));
                async move {
                    let _ = obs::sink::grpc::serve(grpc, receiver, shutdown).await;
                }
            }),
            tokio::spawn({
                let (receiver, shutdown) = (receiver.clone(), stopped(stop_rx));
                async move {
                    let _ = obs::sink::http::serve(http, receiver, shutdown).await;
                }
            }),
        ];

        let next = Arc::new(AtomicU64::new(0));
        let overloaded = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients {
            let (template, next, overloaded, done) = (
                Arc::clone(&template_bytes),
                Arc::clone(&next),
                Arc::clone(&overloaded),
                Arc::clone(&done),
            );
            tasks.spawn(async move {
                let mut client = Client::new(transport, http_addr, grpc_addr).await?;
                let mut latencies = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    let body = template.body(next.fetch_add(1, Ordering::Relaxed));
                    loop {
                        let sent = Instant::now();
                        match client.send(body.clone()).await? {
                            Ack::Ok => {
                                latencies.push(sent.elapsed());
                                break;
                            }
                            Ack::Overloaded(wait) => {
                                overloaded.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(wait).await;
                            }
                        }
                    }
                }
                anyhow::Ok(latencies)
            });
        }
        tokio::time::sleep(duration).await;
        done.store(true, Ordering::Relaxed);
        let mut latencies = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            latencies.extend(joined??);
        }
        let elapsed = started.elapsed();
        let _ = stop_tx.send(true);
        for server in servers {
            let _ = server.await;
        }
        latencies.sort();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        let requests = latencies.len() as u64;
        anyhow::Ok(LoadResult {
            spans_per_sec: (requests * SPANS_PER_BATCH as u64) as f64 / elapsed.as_secs_f64(),
            requests,
            overloaded: overloaded.load(Ordering::Relaxed),
            p50: pct(0.50),
            p99: pct(0.99),
        })
    })?;
    writer
        .shutdown()
        .context("the store writer failed at shutdown")?;
    Ok(result)
}

enum Ack {
    Ok,
    Overloaded(Duration),
}

enum Client {
    Http {
        client: reqwest::Client,
        url: String,
    },
    Grpc {
        grpc: tonic::client::Grpc<tonic::transport::Channel>,
        path: &'static str,
    },
}

impl Client {
    async fn new(
        transport: Transport,
        http: std::net::SocketAddr,
        grpc: std::net::SocketAddr,
    ) -> anyhow::Result<Client> {
        Client::new_for(transport, http, grpc, Signal::Traces).await
    }

    async fn new_for(
        transport: Transport,
        http: std::net::SocketAddr,
        grpc: std::net::SocketAddr,
        signal: Signal,
    ) -> anyhow::Result<Client> {
        let (http_path, grpc_path) = match signal {
            Signal::Metrics => (
                "v1/metrics",
                "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            ),
            _ => (
                "v1/traces",
                "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            ),
        };
        Ok(match transport {
            Transport::Http => Client::Http {
                client: reqwest::Client::new(),
                url: format!("http://{http}/{http_path}"),
            },
            Transport::Grpc => Client::Grpc {
                path: grpc_path,
                grpc: tonic::client::Grpc::new(
                    tonic::transport::Channel::from_shared(format!("http://{grpc}"))?
                        .connect()
                        .await?,
                ),
            },
        })
    }

    async fn send(&mut self, body: Vec<u8>) -> anyhow::Result<Ack> {
        match self {
            Client::Http { client, url } => {
                let response = client
                    .post(url.as_str())
                    .header("content-type", "application/x-protobuf")
                    .body(body)
                    .send()
                    .await?;
                match response.status().as_u16() {
                    200 => {
                        response.bytes().await?;
                        Ok(Ack::Ok)
                    }
                    503 => Ok(Ack::Overloaded(Duration::from_millis(20))),
                    other => anyhow::bail!("HTTP {other}: {}", response.text().await?),
                }
            }
            Client::Grpc { grpc, path } => {
                grpc.ready().await?;
                let path = tonic::codegen::http::uri::PathAndQuery::from_static(path);
                match grpc.unary(tonic::Request::new(body), path, Raw).await {
                    Ok(_) => Ok(Ack::Ok),
                    Err(s) if s.code() == tonic::Code::Unavailable => {
                        Ok(Ack::Overloaded(Duration::from_millis(20)))
                    }
                    Err(s) => anyhow::bail!("gRPC {s:?}"),
                }
            }
        }
    }
}

/// Sends pre-encoded request bytes as the gRPC message; the response is not decoded.
#[derive(Clone, Copy)]
struct Raw;

impl tonic::codec::Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = ();
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
    type Item = ();
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<()>, tonic::Status> {
        use prost::bytes::Buf as _;
        src.advance(src.remaining());
        Ok(Some(()))
    }
}

/// Resets the peak RSS (`VmHWM`) to the current RSS (Linux ≥ 4.0; ignored elsewhere).
fn clear_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Bytes this process has handed to `write` (and `pwrite`) so far: the WAL, the checkpoints.
fn written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("wchar:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

fn kv(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value)),
        }),
        ..Default::default()
    }
}
