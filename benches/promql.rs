//! Offline PromQL benchmark (not a test): builds a store through the store writer with
//! `OBS_BENCH_SERIES` counter series (default 1000) and a histogram of as many bucket series
//! (series/10 histograms × 10 buckets), `OBS_BENCH_HOURS` (default 24) at 15 s, then times
//! range queries over the whole span at a 60 s step:
//!
//! - `sum(rate(req_total[5m]))` and `rate(req_total[5m])` (every series out),
//! - `histogram_quantile(0.99, sum by (le) (rate(dur_seconds_bucket[5m])))`,
//!
//! each from the store (SQLite read + evaluation) and from memory (evaluation only).
//!
//! `cargo bench --bench promql` (release). `OBS_BENCH_STORE=PATH` keeps the store there and
//! reuses it when it exists (same knobs), so repeated runs skip the build.

use std::time::{Duration, Instant};

use obs::promql::{self, MemorySource, SeriesSource};
use obs::store::{ExportMetricsServiceRequest, Payload, Store, WriterConfig, spawn_writer};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

const SCRAPE_S: u64 = 15;
const BOUNDS: [f64; 9] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
/// Timestamps per request.
const CHUNK: u64 = 40;

fn env_or(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(v) => Ok(v.parse()?),
        Err(_) => Ok(default),
    }
}

fn kv(key: &str, v: String) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v)),
        }),
        ..Default::default()
    }
}

fn request(series: u64, from: u64, to: u64, t0: u64) -> ExportMetricsServiceRequest {
    let mut counters = Vec::new();
    let mut hists = Vec::new();
    for i in from..to {
        let t = (t0 + i * SCRAPE_S) * 1_000_000_000;
        for s in 0..series {
            counters.push(NumberDataPoint {
                attributes: vec![kv("pod", format!("pod-{s}"))],
                time_unix_nano: t,
                value: Some(number_data_point::Value::AsDouble(
                    (i * (s % 17 + 1)) as f64 + (i % 3) as f64,
                )),
                ..Default::default()
            });
        }
        for h in 0..series / 10 {
            let counts: Vec<u64> = (0..=BOUNDS.len() as u64)
                .map(|b| i * ((b + h) % 5 + 1))
                .collect();
            hists.push(HistogramDataPoint {
                attributes: vec![kv("pod", format!("pod-{h}"))],
                time_unix_nano: t,
                count: counts.iter().sum(),
                sum: Some(i as f64),
                bucket_counts: counts,
                explicit_bounds: BOUNDS.to_vec(),
                ..Default::default()
            });
        }
    }
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "bench".into())],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "req".into(),
                        data: Some(Data::Sum(Sum {
                            data_points: counters,
                            aggregation_temporality: AggregationTemporality::Cumulative as i32,
                            is_monotonic: true,
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "dur".into(),
                        unit: "s".into(),
                        data: Some(Data::Histogram(Histogram {
                            data_points: hists,
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
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], last.expect("runs > 0"))
}

fn build_store(
    path: &std::path::Path,
    series: u64,
    points: u64,
    hours: u64,
    t0: u64,
) -> anyhow::Result<()> {
    let build = Instant::now();
    let (handle, writer) = spawn_writer(path, WriterConfig::default())?;
    let mut from = 0;
    while from < points {
        let to = (from + CHUNK).min(points);
        handle
            .submit(Payload::Metrics(request(series, from, to, t0)))?
            .wait_blocking()?;
        from = to;
    }
    drop(handle);
    writer.shutdown()?;
    println!(
        "store: {series} counter series + {} histograms x {} buckets, {points} points each ({hours} h at {SCRAPE_S} s), built in {:.1?}, {} MB",
        series / 10,
        BOUNDS.len() + 1,
        build.elapsed(),
        std::fs::metadata(path)?.len() / 1_000_000
    );

    Ok(())
}

fn main() -> anyhow::Result<()> {
    let series = env_or("OBS_BENCH_SERIES", 1000)?;
    let hours = env_or("OBS_BENCH_HOURS", 24)?;
    let runs = env_or("OBS_BENCH_RUNS", 3)? as usize;
    let points = hours * 3600 / SCRAPE_S;
    let t0 = 1_700_000_000 / 60 * 60;
    let dir = tempfile::tempdir()?;
    let path = match std::env::var_os("OBS_BENCH_STORE") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("bench.db"),
    };
    if !path.exists() {
        build_store(&path, series, points, hours, t0)?;
    }
    let mut store = Store::open_read_only(&path)?;
    let start = (t0 + 600) as f64;
    let end = (t0 + points * SCRAPE_S) as f64;
    let step = 60.0;
    let mut memory = MemorySource(Vec::new());
    for name in ["req_total", "dur_seconds_bucket"] {
        memory.0.extend(store.series(name, i64::MIN, i64::MAX)?);
    }
    for q in [
        "sum(rate(req_total[5m]))",
        "rate(req_total[5m])",
        "histogram_quantile(0.99, sum by (le) (rate(dur_seconds_bucket[5m])))",
    ] {
        let (from_store, out) = time(runs, || {
            promql::query_range(&mut store, q, start, end, step).map(|s| s.len())
        });
        let (from_memory, _) = time(runs, || {
            promql::query_range(&mut memory as &mut dyn SeriesSource, q, start, end, step)
                .map(|s| s.len())
        });
        println!(
            "{q}: {} series x {} steps; store {from_store:.2?}, memory (evaluation only) {from_memory:.2?}",
            out?,
            ((end - start) / step) as u64 + 1
        );
    }
    Ok(())
}
