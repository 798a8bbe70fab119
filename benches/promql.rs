//! Offline PromQL and metric storage, side by side with a real Prometheus (not a test).
//!
//! Builds one dataset — `OBS_BENCH_COUNTERS` counters (default 500), `OBS_BENCH_HISTOGRAMS`
//! histograms of 10 buckets (50), `OBS_BENCH_GAUGES` gauges (50), `OBS_BENCH_HOURS` (6) at
//! 15 s with millisecond scrape jitter: 1.73 M samples by default — into an obs store through
//! the store writer, and into Prometheus 2.42 from the store's own series (every label, as
//! OpenMetrics, backfilled with promtool). Then it reports:
//!
//! - bytes per sample on disk: the store file (+ WAL) and Prometheus's data directory;
//! - per query, whole-process time: `obs query --store … -o json` (the release binary, a new
//!   process each run, output to /dev/null) against Prometheus's `/api/v1/query_range` (or
//!   `/api/v1/query`) answered and read in full over loopback, the two taking turns run by run
//!   (so that a machine loaded by other work loads both alike); median of `OBS_BENCH_RUNS` (5);
//! - the same queries evaluated in this process, from the store and from memory (evaluation
//!   only), to show where the time goes;
//! - that both answered the same (every series, every value within 1e-9 relative).
//!
//! `cargo bench --bench promql` (release; needs `prometheus` and `promtool`:
//! `apt-get install -y prometheus`). `OBS_BENCH_PROMETHEUS=0` skips the Prometheus side;
//! `OBS_BENCH_STORE=PATH` keeps the store there and reuses it when it exists (same knobs).

#[path = "../tests/support/prometheus.rs"]
#[expect(dead_code, reason = "the benchmark uses part of the test harness")]
mod prometheus;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use obs::model::Labels;
use obs::promql::{self, MemorySource, SeriesSource};
use obs::store::{ExportMetricsServiceRequest, Payload, Store, WriterConfig, spawn_writer};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prometheus::{Options, TestPrometheus, query_string};

const SCRAPE_S: u64 = 15;
const BOUNDS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// Scrapes per request.
const PER_REQUEST: u64 = 40;
const STEP_S: u64 = 60;

/// The queries of the comparison; `None` as the step means an instant query at the end.
const QUERIES: &[(&str, Option<u64>)] = &[
    ("sum(rate(req_total[5m]))", Some(STEP_S)),
    ("rate(req_total[5m])", Some(STEP_S)),
    (
        "histogram_quantile(0.99, sum by (le) (rate(lat_seconds_bucket[5m])))",
        Some(STEP_S),
    ),
    ("max_over_time(queue_depth[5m])", Some(STEP_S)),
    // Every counter sample, read once.
    ("sum(count_over_time(req_total[6h]))", None),
];

struct Knobs {
    counters: u64,
    histograms: u64,
    gauges: u64,
    scrapes: u64,
}

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

/// A small deterministic generator (xorshift), so every run builds the same data.
fn noise(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b.wrapping_add(0x632b_e59b_d9b4_e019);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

fn request(k: &Knobs, from: u64, to: u64, t0_ms: u64) -> ExportMetricsServiceRequest {
    let (mut counters, mut gauges, mut hists) = (Vec::new(), Vec::new(), Vec::new());
    for i in from..to {
        // Scrape jitter of a few milliseconds, as a real scraper or SDK has.
        let t = (t0_ms + i * SCRAPE_S * 1000 + (i * 37) % 250) * 1_000_000;
        for s in 0..k.counters {
            // A cumulative count: the sum of this series' increments so far.
            let total: u64 = (0..=i).map(|j| noise(s, j) % (s % 20 + 5)).sum();
            counters.push(NumberDataPoint {
                attributes: vec![
                    kv("pod", format!("pod-{s}")),
                    kv("route", format!("/r{}", s % 10)),
                ],
                time_unix_nano: t,
                value: Some(number_data_point::Value::AsDouble(total as f64)),
                ..Default::default()
            });
        }
        for g in 0..k.gauges {
            gauges.push(NumberDataPoint {
                attributes: vec![kv("queue", format!("q-{g}"))],
                time_unix_nano: t,
                value: Some(number_data_point::Value::AsDouble(
                    (noise(g, i) % 1000) as f64 / 10.0,
                )),
                ..Default::default()
            });
        }
        for h in 0..k.histograms {
            let counts: Vec<u64> = (0..=BOUNDS.len() as u64)
                .map(|b| (0..=i).map(|j| noise(h * 31 + b, j) % (b + 3)).sum())
                .collect();
            let count = counts.iter().sum::<u64>();
            hists.push(HistogramDataPoint {
                attributes: vec![kv("pod", format!("pod-{h}"))],
                time_unix_nano: t,
                count,
                sum: Some(count as f64 * 0.137),
                bucket_counts: counts,
                explicit_bounds: BOUNDS.to_vec(),
                ..Default::default()
            });
        }
    }
    let metrics = vec![
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
            name: "queue.depth".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: gauges,
            })),
            ..Default::default()
        },
        Metric {
            name: "lat".into(),
            unit: "s".into(),
            data: Some(Data::Histogram(Histogram {
                data_points: hists,
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Default::default()
        },
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "bench".into()),
                    kv("service.instance.id", "bench-1".into()),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Builds the store; returns the time the writer took (submit to acknowledgement, and shutdown).
fn build_store(path: &Path, k: &Knobs, t0_ms: u64) -> anyhow::Result<Duration> {
    let build = Instant::now();
    let (handle, writer) = spawn_writer(path, WriterConfig::default())?;
    let mut from = 0;
    // The writer's time alone: building a request is not counted.
    let mut writing = Duration::ZERO;
    let mut points = 0u64;
    while from < k.scrapes {
        let to = (from + PER_REQUEST).min(k.scrapes);
        let payload = Payload::Metrics(request(k, from, to, t0_ms));
        points += payload.item_count();
        let t = Instant::now();
        handle.submit(payload)?.wait_blocking()?;
        writing += t.elapsed();
        from = to;
    }
    drop(handle);
    let t = Instant::now();
    writer.shutdown()?;
    writing += t.elapsed();
    println!(
        "store built in {:.1?}; the writer took {writing:.2?} for {points} data points \
         ({:.0} points/s, one request of {PER_REQUEST} scrapes at a time)",
        build.elapsed(),
        points as f64 / writing.as_secs_f64()
    );
    Ok(writing)
}

fn median<T>(
    runs: usize,
    mut f: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<(Duration, T)> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        last = Some(f()?);
        times.push(t.elapsed());
    }
    times.sort();
    let value = last.ok_or_else(|| anyhow::anyhow!("no run"))?;
    Ok((times[times.len() / 2], value))
}

fn file_bytes(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    [path.to_path_buf(), wal.into()]
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Every series of the store as OpenMetrics text (all labels), and the number of samples.
fn openmetrics(store: &Store) -> anyhow::Result<(String, u64)> {
    let mut out = String::new();
    let mut samples = 0;
    for name in store.metric_names(i64::MIN, i64::MAX)? {
        for s in store.series(&name, i64::MIN, i64::MAX)? {
            let labels: Vec<String> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect();
            let labels = labels.join(",");
            for (t, v) in &s.samples {
                let ms = t.div_euclid(1_000_000);
                out.push_str(&format!(
                    "{name}{{{labels}}} {v} {}.{:03}\n",
                    ms / 1000,
                    ms % 1000
                ));
                samples += 1;
            }
        }
    }
    out.push_str("# EOF\n");
    Ok((out, samples))
}

/// The `result` of a Prometheus-API JSON document as label set → values.
fn answer(json: &serde_json::Value) -> BTreeMap<Labels, Vec<f64>> {
    let mut out = BTreeMap::new();
    let result = json.get("data").map_or(&json["result"], |d| &d["result"]);
    for r in result.as_array().into_iter().flatten() {
        let labels: Labels = serde_json::from_value(r["metric"].clone()).unwrap_or_default();
        let values: Vec<serde_json::Value> = match r.get("values") {
            Some(v) => v.as_array().cloned().unwrap_or_default(),
            None => vec![r["value"].clone()],
        };
        let parsed = values
            .iter()
            .map(|p| {
                p[1].as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(f64::NAN)
            })
            .collect();
        out.insert(labels, parsed);
    }
    out
}

fn same(a: &BTreeMap<Labels, Vec<f64>>, b: &BTreeMap<Labels, Vec<f64>>) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((la, va), (lb, vb))| {
            la == lb
                && va.len() == vb.len()
                && va.iter().zip(vb).all(|(x, y)| {
                    (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
                })
        })
}

fn main() -> anyhow::Result<()> {
    let hours = env_or("OBS_BENCH_HOURS", 6)?;
    let k = Knobs {
        counters: env_or("OBS_BENCH_COUNTERS", 500)?,
        histograms: env_or("OBS_BENCH_HISTOGRAMS", 50)?,
        gauges: env_or("OBS_BENCH_GAUGES", 50)?,
        scrapes: hours * 3600 / SCRAPE_S,
    };
    let runs = env_or("OBS_BENCH_RUNS", 5)? as usize;
    let with_prometheus = env_or("OBS_BENCH_PROMETHEUS", 1)? != 0;
    // Recent data (Prometheus keeps blocks relative to the newest), on a minute boundary.
    let t0_ms = (prometheus::unix_now() - (hours + 1) * 3600) / 60 * 60 * 1000;
    let dir = tempfile::tempdir()?;
    let path = match std::env::var_os("OBS_BENCH_STORE") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("bench.db"),
    };
    let writing = if path.exists() {
        None
    } else {
        Some(build_store(&path, &k, t0_ms)?)
    };
    let mut store = Store::open_read_only(&path)?;
    let info = store.info()?;
    let samples = info.metric_points;
    let obs_bytes = file_bytes(&path);
    let (first, last) = (
        info.first.unwrap_or_default(),
        info.last.unwrap_or_default(),
    );
    let first = jiff::Timestamp::strptime("%Y-%m-%dT%H:%M:%S%.fZ", &first)
        .or_else(|_| first.parse::<jiff::Timestamp>())?
        .as_second() as u64;
    let last = last.parse::<jiff::Timestamp>()?.as_second() as u64;
    let (start, end) = (first + 600, last);
    println!(
        "dataset: {} counters, {} histograms x {} buckets, {} gauges, {} scrapes at {SCRAPE_S} s: {samples} samples",
        k.counters,
        k.histograms,
        BOUNDS.len() + 1,
        k.gauges,
        k.scrapes
    );
    println!(
        "obs store: {obs_bytes} bytes, {:.2} bytes per sample",
        obs_bytes as f64 / samples as f64
    );
    if let Some(w) = writing {
        println!(
            "store writer: {:.0} samples/s acknowledged (one client)",
            samples as f64 / w.as_secs_f64()
        );
    }

    let prom = if with_prometheus {
        let (text, written) = openmetrics(&store)?;
        let prom = TestPrometheus::start(Options {
            backfill: Some(text),
            ..Options::default()
        });
        anyhow::ensure!(
            prom.backfilled_samples == written,
            "promtool kept {} of {written} samples",
            prom.backfilled_samples
        );
        let bytes = dir_bytes(&prom.dir().join("data"));
        println!(
            "prometheus data: {bytes} bytes, {:.2} bytes per sample (obs/prometheus {:.2}x)",
            bytes as f64 / written as f64,
            obs_bytes as f64 / bytes as f64
        );
        Some(prom)
    } else {
        println!("prometheus: skipped (OBS_BENCH_PROMETHEUS=0)");
        None
    };

    let mut memory = MemorySource(Vec::new());
    for name in ["req_total", "lat_seconds_bucket", "queue_depth"] {
        memory.0.extend(store.series(name, i64::MIN, i64::MAX)?);
    }
    println!(
        "\n| query | obs query (whole process) | prometheus | ratio | obs in-process: store / memory | same answer |"
    );
    println!("|---|---|---|---|---|---|");
    for (q, step) in QUERIES {
        let mut args: Vec<String> = vec!["query".into(), "--store".into()];
        args.push(path.display().to_string());
        args.push((*q).into());
        match step {
            Some(step) => args.extend([
                "--since".into(),
                start.to_string(),
                "--until".into(),
                end.to_string(),
                "--step".into(),
                format!("{step}s"),
            ]),
            None => args.extend(["--time".into(), end.to_string()]),
        }
        args.extend(["-o".into(), "json".into()]);
        let url = {
            let (endpoint, params) = match step {
                Some(step) => (
                    "query_range",
                    vec![
                        ("query", q.to_string()),
                        ("start", start.to_string()),
                        ("end", end.to_string()),
                        ("step", step.to_string()),
                    ],
                ),
                None => (
                    "query",
                    vec![("query", q.to_string()), ("time", end.to_string())],
                ),
            };
            format!("/api/v1/{endpoint}?{}", query_string(&params))
        };
        // obs and Prometheus take turns, run by run, so that both see the same load.
        let (mut obs_times, mut their_times, mut their_body) = (Vec::new(), Vec::new(), None);
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_obs"))
                .args(&args)
                .stdout(Stdio::null())
                .status()?;
            anyhow::ensure!(status.success(), "obs query {q} failed");
            obs_times.push(t.elapsed());
            if let Some(prom) = &prom {
                let t = Instant::now();
                let body = prom.get(&url).1;
                their_times.push(t.elapsed());
                their_body = Some(body);
            }
        }
        let mid = |mut v: Vec<Duration>| {
            v.sort();
            v.get(v.len() / 2).copied()
        };
        let obs_time = mid(obs_times).unwrap_or_default();
        let their_time = mid(their_times);
        let ours = Command::new(env!("CARGO_BIN_EXE_obs"))
            .args(&args)
            .output()?;
        let ours = answer(&serde_json::from_slice(&ours.stdout)?);
        let (in_store, in_memory) = match step {
            Some(step) => {
                let (s, _) = median(runs, || {
                    Ok(
                        promql::query_range(&mut store, q, start as f64, end as f64, *step as f64)?
                            .len(),
                    )
                })?;
                let (m, _) = median(runs, || {
                    Ok(promql::query_range(
                        &mut memory as &mut dyn SeriesSource,
                        q,
                        start as f64,
                        end as f64,
                        *step as f64,
                    )?
                    .len())
                })?;
                (s, m)
            }
            None => {
                let (s, _) = median(runs, || {
                    Ok(promql::query_instant(&mut store, q, end as f64)?)
                })?;
                let (m, _) = median(runs, || {
                    Ok(promql::query_instant(
                        &mut memory as &mut dyn SeriesSource,
                        q,
                        end as f64,
                    )?)
                })?;
                (s, m)
            }
        };
        let theirs = match their_body {
            Some(body) => Some(answer(&serde_json::from_str(&body)?)),
            None => None,
        };
        println!(
            "| `{q}` | {obs_time:.3?} | {} | {} | {in_store:.3?} / {in_memory:.3?} | {} |",
            their_time.map_or("-".into(), |t| format!("{t:.3?}")),
            their_time.map_or("-".into(), |t| format!(
                "{:.2}x",
                obs_time.as_secs_f64() / t.as_secs_f64()
            )),
            theirs.map_or("-".into(), |t| if same(&ours, &t) {
                format!("yes ({} series)", t.len())
            } else {
                "NO".into()
            }),
        );
    }
    Ok(())
}
