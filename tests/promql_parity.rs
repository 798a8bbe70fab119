//! Offline PromQL against a real Prometheus (2.42): the same samples go into an obs store
//! (as OTLP, through the store writer) and into Prometheus (as OpenMetrics, backfilled with
//! promtool), and a table of queries must answer the same series and values from both.
//!
//! Label sets: the OpenMetrics side is written from what the store holds (every series with
//! ALL its labels, `job`/`instance` from the resource and `otel_scope_*` included), so the
//! comparison is on full label sets, not a subset. The store's naming is checked separately:
//! the families below must be named as the Collector's Prometheus exporter would name them.
//!
//! Over 800 lines on purpose: most of the file is the query table and the data written for it,
//! which read best in one place.

use std::collections::BTreeMap;
use std::path::Path;

use obs::model::Labels;
use obs::promql::{self, PromqlError};
use obs::store::{
    ExportMetricsServiceRequest, Payload, SCHEMA_VERSION, Store, StoreError, WriterConfig,
    spawn_writer,
};
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::support::prometheus::{Options, TestPrometheus, unix_now};

const MS: u64 = 1_000_000;
const SCRAPE_MS: u64 = 15_000;
/// Samples per series: 40 minutes at 15 s.
const POINTS: u64 = 160;

fn kv(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn number(t_ms: u64, attrs: &[(&str, &str)], v: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs.iter().map(|(k, v)| kv(k, v)).collect(),
        time_unix_nano: t_ms * MS,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

/// Timestamp of sample `i`: on a 15 s grid with a few milliseconds of scrape jitter.
fn at(t0_ms: u64, i: u64) -> u64 {
    t0_ms + i * SCRAPE_MS + (i * 37) % 250
}

/// The OTLP data: counters (one resetting, one starting late and ending early), gauges
/// (negative too), and a cumulative histogram.
fn request(t0_ms: u64) -> ExportMetricsServiceRequest {
    let mut counter_points = Vec::new();
    let mut gauge_points = Vec::new();
    let mut hist_points = Vec::new();
    for i in 0..POINTS {
        let t = at(t0_ms, i);
        let x = i as f64;
        for (route, code, slope) in [
            ("/a", "200", 3.0),
            ("/a", "500", 0.5),
            ("/b", "200", 1.25),
            ("/b", "500", 0.25),
        ] {
            let mut v = x * slope * 15.0 + (i % 7) as f64;
            // A restart: /b 500 resets to zero at sample 80.
            if route == "/b" && code == "500" && i >= 80 {
                v = (x - 80.0) * slope * 15.0;
            }
            counter_points.push(number(t, &[("route", route), ("code", code)], v));
        }
        // A series that appears 15 minutes in and goes away 10 minutes before the end.
        if (60..120).contains(&i) {
            counter_points.push(number(
                t,
                &[("route", "/c"), ("code", "200")],
                (x - 60.0) * 2.0 + 5.0,
            ));
        }
        for (queue, phase) in [("q1", 0.0), ("q2", 1.0), ("q3", 2.5)] {
            let v = (x / 9.0 + phase).sin() * 8.0 + phase;
            gauge_points.push(number(t, &[("queue", queue)], v));
        }
        for route in ["/a", "/b"] {
            let k = if route == "/a" { 1 } else { 3 };
            // Per-bucket (non-cumulative) counts growing over time, cumulative in OTLP terms.
            let counts: Vec<u64> = vec![i * 4 * k, i * 3, i * (2 + k) + i % 5, i / 2];
            let total: u64 = counts.iter().sum();
            hist_points.push(HistogramDataPoint {
                attributes: vec![kv("route", route)],
                time_unix_nano: t * MS,
                count: total,
                sum: Some(total as f64 * 0.3),
                bucket_counts: counts,
                explicit_bounds: vec![0.1, 0.5, 1.0],
                ..Default::default()
            });
        }
    }
    let metrics = vec![
        Metric {
            name: "http.requests".into(),
            description: "requests served".into(),
            data: Some(Data::Sum(Sum {
                data_points: counter_points,
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        },
        Metric {
            name: "queue.depth".into(),
            description: "items waiting".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: gauge_points,
            })),
            ..Default::default()
        },
        Metric {
            name: "request.duration".into(),
            unit: "s".into(),
            description: "request latency".into(),
            data: Some(Data::Histogram(Histogram {
                data_points: hist_points,
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Default::default()
        },
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "api"),
                    kv("service.instance.id", "api-1"),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "parity".into(),
                    version: "1.0".into(),
                    ..Default::default()
                }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn write_store(path: &Path, t0_ms: u64) {
    let (handle, writer) = spawn_writer(path, WriterConfig::default()).unwrap();
    handle
        .submit(Payload::Metrics(request(t0_ms)))
        .unwrap()
        .wait_blocking()
        .unwrap();
    drop(handle);
    writer.shutdown().unwrap();
}

/// Everything the store holds, as OpenMetrics text that promtool can backfill.
fn openmetrics(store: &Store) -> (String, u64) {
    let mut out = String::new();
    let mut samples = 0;
    for name in store.metric_names(i64::MIN, i64::MAX).unwrap() {
        for s in store.series(&name, i64::MIN, i64::MAX).unwrap() {
            let labels: Vec<String> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect();
            for (t, v) in &s.samples {
                assert!(
                    !v.is_nan(),
                    "{name}: NaN/stale samples cannot be backfilled"
                );
                let ms = t.div_euclid(1_000_000);
                out.push_str(&format!(
                    "{name}{{{}}} {v} {}.{:03}\n",
                    labels.join(","),
                    ms / 1000,
                    ms % 1000
                ));
                samples += 1;
            }
        }
    }
    out.push_str("# EOF\n");
    (out, samples)
}

/// Prometheus's matrix as label set → points.
fn prometheus_matrix(data: &serde_json::Value) -> BTreeMap<Labels, Vec<(f64, f64)>> {
    let mut out = BTreeMap::new();
    for r in data.as_array().unwrap() {
        let labels: Labels = serde_json::from_value(r["metric"].clone()).unwrap();
        let points = r["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let v = match p[1].as_str().unwrap() {
                    "NaN" => f64::NAN,
                    "+Inf" => f64::INFINITY,
                    "-Inf" => f64::NEG_INFINITY,
                    s => s.parse().unwrap(),
                };
                (p[0].as_f64().unwrap(), v)
            })
            .collect();
        out.insert(labels, points);
    }
    out
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

const QUERIES: &[&str] = &[
    "http_requests_total",
    r#"http_requests_total{route=~"/a|/c", code!="500"}"#,
    r#"http_requests_total{route!~"/a"}"#,
    "rate(http_requests_total[1m])",
    "rate(http_requests_total[5m])",
    "irate(http_requests_total[1m])",
    "increase(http_requests_total[5m])",
    "increase(http_requests_total[2m] offset 3m)",
    "delta(queue_depth[2m])",
    "sum by (route) (rate(http_requests_total[2m]))",
    "avg without (code) (rate(http_requests_total[2m]))",
    "sum(rate(http_requests_total[1m])) * 60",
    "count(queue_depth)",
    "max by (job) (queue_depth)",
    "min(queue_depth)",
    "topk(2, queue_depth)",
    "bottomk(1, rate(http_requests_total[2m]))",
    r#"rate(http_requests_total{code="500"}[2m]) / ignoring(code) rate(http_requests_total{code="200"}[2m])"#,
    r#"sum by (route) (rate(http_requests_total{code="500"}[2m])) / on(route) sum by (route) (rate(http_requests_total[2m]))"#,
    "queue_depth > 2",
    "queue_depth > bool 2",
    "3 >= queue_depth",
    "-queue_depth * 2 + 1",
    "queue_depth - on(queue) queue_depth offset 1m",
    "histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[2m])))",
    "histogram_quantile(0.5, rate(request_duration_seconds_bucket[5m]))",
    "histogram_quantile(0.99, sum by (le, route) (increase(request_duration_seconds_bucket[3m])))",
    "rate(request_duration_seconds_sum[2m]) / rate(request_duration_seconds_count[2m])",
    "avg_over_time(queue_depth[3m])",
    "min_over_time(queue_depth[3m])",
    "max_over_time(queue_depth[3m])",
    "sum_over_time(queue_depth[3m])",
    "count_over_time(http_requests_total[3m])",
    "last_over_time(queue_depth[3m])",
    "queue_depth offset 5m",
    "rate(http_requests_total[1m] offset 2m)",
    "abs(queue_depth)",
    "clamp(queue_depth, -2, 3)",
    "clamp_min(queue_depth, 0)",
    "clamp_max(queue_depth, 1)",
    r#"label_replace(queue_depth, "q", "x-$1", "queue", "q(.*)")"#,
    r#"label_replace(rate(http_requests_total[1m]), "route", "", "route", "/a")"#,
    "no_such_metric",
    r#"queue_depth and on(queue) queue_depth > 0"#,
    r#"http_requests_total{code="500"} or http_requests_total{route="/c"}"#,
    r#"rate(http_requests_total[2m]) unless ignoring(code) http_requests_total{code="500"}"#,
    "queue_depth * on() group_left sum(queue_depth)",
    "sum by (job) (queue_depth) / on(job) group_right queue_depth",
    r#"rate(http_requests_total[2m]) * on(route) group_left(x) label_replace(sum by (route) (rate(http_requests_total[2m])), "x", "y$1", "route", "/(.*)")"#,
    "http_requests_total / ignoring(code) group_left sum without (code) (http_requests_total)",
    "stddev(queue_depth)",
    "stdvar by (route) (rate(http_requests_total[2m]))",
    "quantile(0.3, queue_depth)",
    "quantile by (route) (0.9, rate(http_requests_total[2m]))",
    "group by (route) (http_requests_total)",
    "stddev_over_time(queue_depth[5m])",
    "stdvar_over_time(queue_depth[5m])",
    "quantile_over_time(0.75, queue_depth[5m])",
    "present_over_time(http_requests_total[1m])",
    "deriv(queue_depth[5m])",
    "deriv(http_requests_total[3m])",
    "predict_linear(queue_depth[5m], 600)",
    "predict_linear(http_requests_total[10m], 3600)",
    r#"absent(http_requests_total{route="/c", code="200"})"#,
    r#"absent(nothing_here{job="x", code=~"5.."})"#,
    r#"absent_over_time(http_requests_total{route="/c"}[2m])"#,
    "queue_depth @ end()",
    "rate(http_requests_total[5m] @ start())",
    "increase(http_requests_total[2m] @ end() offset 10m)",
    "max_over_time(rate(http_requests_total[1m])[10m:1m])",
    "avg_over_time(queue_depth[5m:30s])",
    "rate(sum(http_requests_total)[5m:15s])",
    "min_over_time(sum by (route) (rate(http_requests_total[2m]))[15m:2m] offset 1m)",
    "idelta(queue_depth[1m])",
    "changes(queue_depth[5m])",
    "resets(http_requests_total[10m])",
    "ceil(queue_depth) + floor(queue_depth) - sgn(queue_depth)",
    "sqrt(abs(queue_depth)) * ln(abs(queue_depth) + 1) + log2(abs(queue_depth) + 1) + log10(abs(queue_depth) + 1) + exp(clamp_max(queue_depth, 3))",
];

#[test]
fn offline_promql_matches_prometheus() {
    // Two hours ago, on a minute boundary: recent enough for Prometheus's retention.
    let t0_ms = (unix_now() - 2 * 3600) / 60 * 60 * 1000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parity.db");
    write_store(&path, t0_ms);
    let mut store = Store::open_read_only(&path).unwrap();

    let names = store.metric_names(i64::MIN, i64::MAX).unwrap();
    for family in [
        "http_requests_total",
        "queue_depth",
        "request_duration_seconds_bucket",
        "request_duration_seconds_sum",
        "request_duration_seconds_count",
    ] {
        assert!(
            names.iter().any(|n| n == family),
            "{family} not in {names:?}"
        );
    }

    let (text, samples) = openmetrics(&store);
    let prom = TestPrometheus::start(Options {
        backfill: Some(text),
        ..Options::default()
    });
    assert_eq!(prom.backfilled_samples, samples, "promtool dropped samples");

    // Evaluation grid not aligned with the samples; past the data's end so lookback and
    // series ends are compared too.
    let start = t0_ms / 1000 + 7 * 60 + 7;
    let end = t0_ms / 1000 + 45 * 60;
    let step = 30;
    let mut failures = Vec::new();
    for q in QUERIES {
        let theirs = prometheus_matrix(&prom.query_range(q, start, end, step));
        let ours: BTreeMap<Labels, Vec<(f64, f64)>> =
            promql::query_range(&mut store, q, start as f64, end as f64, step as f64)
                .unwrap_or_else(|e| panic!("{q}: {e}"))
                .into_iter()
                .map(|s| (s.labels, s.points))
                .collect();
        let their_keys: Vec<&Labels> = theirs.keys().collect();
        let our_keys: Vec<&Labels> = ours.keys().collect();
        if their_keys != our_keys {
            failures.push(format!(
                "{q}: series differ\n  prometheus: {their_keys:?}\n  obs:        {our_keys:?}"
            ));
            continue;
        }
        for (labels, tp) in &theirs {
            let op = &ours[labels];
            let diff = tp.len() != op.len()
                || tp
                    .iter()
                    .zip(op)
                    .any(|(a, b)| a.0 != b.0 || !same(a.1, b.1));
            if diff {
                failures.push(format!(
                    "{q} {labels:?}:\n  prometheus: {tp:?}\n  obs:        {op:?}"
                ));
            }
        }
        eprintln!("parity ok? {q}: {} series", theirs.len());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    duplicate_labelsets_fail_as_in_prometheus(&prom, &mut store, start, end, step);

    // `obs query` answers the same from either side.
    let q = "sum by (route) (rate(http_requests_total[2m]))";
    let at = (start + 600).to_string();
    let run = |backend: &[&str]| -> serde_json::Value {
        let out = crate::cli::obs()
            .arg("query")
            .args(backend)
            .args(["--time", &at, "-o", "json", q])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let from_store = run(&["--store", path.to_str().unwrap()]);
    let from_prometheus = run(&["--prometheus-url", prom.url()]);
    assert_eq!(
        from_store["result"].as_array().unwrap().len(),
        3,
        "{from_store}"
    );
    for (a, b) in from_store["result"]
        .as_array()
        .unwrap()
        .iter()
        .zip(from_prometheus["result"].as_array().unwrap())
    {
        assert_eq!(a["metric"], b["metric"]);
        let v = |x: &serde_json::Value| x["value"][1].as_str().unwrap().parse::<f64>().unwrap();
        assert!(same(v(a), v(b)), "{a} vs {b}");
    }
}

/// Queries whose functions drop `__name__` from `_sum` and `_count`, which share every other
/// label: Prometheus refuses them (instant and range) with "vector cannot contain metrics with
/// the same labelset", even when an aggregation would merge the duplicates — so must obs.
const DUPLICATE_LABELSETS: &[&str] = &[
    r#"sum(rate({__name__=~"request_duration_seconds_(sum|count)"}[5m]))"#,
    r#"sum(abs({__name__=~"request_duration_seconds_(sum|count)"}))"#,
    r#"max(-{__name__=~"request_duration_seconds_(sum|count)"})"#,
    r#"count({__name__=~"request_duration_seconds_(sum|count)"} * 2)"#,
    r#"rate({__name__=~"request_duration_seconds_(sum|count)"}[5m])"#,
];

/// The same kind of queries over metrics whose other labels differ: answered, by both.
const DISTINCT_LABELSETS: &[&str] = &[
    r#"sum(rate({__name__=~"http_requests_total|request_duration_seconds_count"}[5m]))"#,
    r#"sum(abs({__name__=~"queue_depth|request_duration_seconds_sum"}))"#,
];

/// Prometheus's error for `endpoint` (`query` or `query_range`), or `None` when it answered.
fn prometheus_error(
    prom: &TestPrometheus,
    endpoint: &str,
    params: &[(&str, String)],
) -> Option<String> {
    let path = format!(
        "/api/v1/{endpoint}?{}",
        crate::support::prometheus::query_string(params)
    );
    let (_, body) = prom.get(&path);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    (json["status"] != "success").then(|| json["error"].as_str().unwrap_or_default().to_string())
}

fn duplicate_labelsets_fail_as_in_prometheus(
    prom: &TestPrometheus,
    store: &mut Store,
    start: u64,
    end: u64,
    step: u64,
) {
    let at = start + 900;
    for q in DUPLICATE_LABELSETS.iter().chain(DISTINCT_LABELSETS) {
        let expect_error = DUPLICATE_LABELSETS.contains(q);
        let theirs_instant = prometheus_error(
            prom,
            "query",
            &[("query", q.to_string()), ("time", at.to_string())],
        );
        let theirs_range = prometheus_error(
            prom,
            "query_range",
            &[
                ("query", q.to_string()),
                ("start", start.to_string()),
                ("end", end.to_string()),
                ("step", step.to_string()),
            ],
        );
        let ours_instant = promql::query_instant(store, q, at as f64)
            .err()
            .map(|e| e.to_string());
        let ours_range = promql::query_range(store, q, start as f64, end as f64, step as f64)
            .err()
            .map(|e| e.to_string());
        for (what, theirs, ours) in [
            ("instant", theirs_instant, ours_instant),
            ("range", theirs_range, ours_range),
        ] {
            assert_eq!(
                theirs.is_some(),
                expect_error,
                "{q} ({what}): prometheus said {theirs:?}"
            );
            assert_eq!(
                ours.is_some(),
                expect_error,
                "{q} ({what}): obs said {ours:?}"
            );
            if let (Some(t), Some(o)) = (theirs, ours) {
                assert!(
                    t.contains("vector cannot contain metrics with the same labelset"),
                    "{q}: {t}"
                );
                assert!(
                    o.contains("vector cannot contain metrics with the same labelset"),
                    "{q}: {o}"
                );
            }
        }
    }
    // The answered ones agree.
    for q in DISTINCT_LABELSETS {
        let theirs = prometheus_matrix(&prom.query_range(q, start, end, step));
        let ours = promql::query_range(store, q, start as f64, end as f64, step as f64).unwrap();
        assert_eq!(theirs.len(), ours.len(), "{q}");
        for s in &ours {
            let tp = &theirs[&s.labels];
            assert_eq!(tp.len(), s.points.len(), "{q}");
            assert!(
                tp.iter()
                    .zip(&s.points)
                    .all(|(a, b)| a.0 == b.0 && same(a.1, b.1)),
                "{q}"
            );
        }
    }
}

fn message(r: Result<Vec<obs::model::Series>, PromqlError>) -> String {
    match r {
        Ok(v) => format!("ok: {} series", v.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_inputs_have_clear_answers() {
    let dir = tempfile::tempdir().unwrap();

    // An empty store (created by a writer, no data): empty results, not errors.
    let empty = dir.path().join("empty.db");
    let (handle, writer) = spawn_writer(&empty, WriterConfig::default()).unwrap();
    drop(handle);
    writer.shutdown().unwrap();
    let mut store = Store::open_read_only(&empty).unwrap();
    assert_eq!(
        message(promql::query_range(
            &mut store,
            "rate(x_total[5m])",
            0.0,
            600.0,
            60.0
        )),
        "ok: 0 series"
    );

    // Unsupported PromQL says what is not supported.
    let m = message(promql::query_range(&mut store, "sort(x)", 0.0, 60.0, 60.0));
    assert_eq!(m, "not supported offline: function `sort`");
    let m = message(promql::query_range(
        &mut store,
        "sum(rate(x[5m:])",
        0.0,
        60.0,
        60.0,
    ));
    assert!(m.starts_with("invalid PromQL \"sum(rate(x[5m:])\""), "{m}");

    // A file that is not a database.
    let junk = dir.path().join("junk.db");
    std::fs::write(
        &junk,
        "this is not sqlite, just some text that is long enough ".repeat(40),
    )
    .unwrap();
    let e = Store::open_read_only(&junk).unwrap_err();
    assert!(matches!(e, StoreError::NotADatabase { .. }), "{e}");
    assert!(e.to_string().contains("junk.db: not an obs store"), "{e}");
    let e = obs::source::local::LocalMetrics::open(&junk).unwrap_err();
    assert!(e.to_string().contains("not a SQLite database"), "{e}");

    // A store from a newer obs.
    let newer = dir.path().join("newer.db");
    std::fs::copy(&empty, &newer).unwrap();
    {
        let conn = rusqlite_user_version(&newer, SCHEMA_VERSION + 1);
        drop(conn);
    }
    let e = Store::open_read_only(&newer).unwrap_err();
    assert!(e.to_string().contains("written by a newer obs"), "{e}");

    // A missing file.
    let e = Store::open_read_only(&dir.path().join("nope.db")).unwrap_err();
    assert!(e.to_string().contains("no obs store here"), "{e}");
}

/// Marks the store as written by a newer schema.
fn rusqlite_user_version(path: &Path, version: u32) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "user_version", version).unwrap();
    conn
}

#[test]
fn a_store_being_written_can_be_queried() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    let t0_ms = 1_700_000_000_000;
    let (handle, writer) = spawn_writer(&path, WriterConfig::default()).unwrap();
    handle
        .submit(Payload::Metrics(request(t0_ms)))
        .unwrap()
        .wait_blocking()
        .unwrap();
    // The writer is still running (it holds the file open for writing).
    let mut store = Store::open_read_only(&path).unwrap();
    let t = (t0_ms / 1000 + 10 * 60) as f64;
    let out =
        promql::query_range(&mut store, "sum(rate(http_requests_total[1m]))", t, t, 1.0).unwrap();
    assert_eq!(out.len(), 1);
    assert!(out[0].points[0].1 > 0.0);
    // Unknown metrics are an empty result, like Prometheus.
    assert!(
        promql::query_range(&mut store, "nothing_here", t, t, 1.0)
            .unwrap()
            .is_empty()
    );
    drop(handle);
    writer.shutdown().unwrap();
}

#[test]
fn the_store_as_a_metrics_source_answers_exemplars_names_labels_and_metadata() {
    use opentelemetry_proto::tonic::metrics::v1::{Exemplar, exemplar};
    let t0_ms = 1_700_000_000_000;
    let mut req = request(t0_ms);
    let metrics = &mut req.resource_metrics[0].scope_metrics[0].metrics;
    let Some(Data::Histogram(h)) = &mut metrics[2].data else {
        panic!("the third metric is the histogram")
    };
    // Point 40 of route /a (points alternate /a, /b).
    let point = &mut h.data_points[80];
    assert_eq!(point.attributes[0], kv("route", "/a"));
    point.exemplars.push(Exemplar {
        time_unix_nano: point.time_unix_nano,
        value: Some(exemplar::Value::AsDouble(0.42)),
        trace_id: vec![0xab; 16],
        span_id: vec![0xcd; 8],
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("source.db");
    let (handle, writer) = spawn_writer(&path, WriterConfig::default()).unwrap();
    handle
        .submit(Payload::Metrics(req))
        .unwrap()
        .wait_blocking()
        .unwrap();
    drop(handle);
    writer.shutdown().unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let m = obs::source::local::open_local_metrics(&path).unwrap();
    assert_eq!(m.kind(), "store");
    assert_eq!(m.url(), path.display().to_string());
    let (start, end) = (t0_ms as f64 / 1e3, t0_ms as f64 / 1e3 + 3600.0);

    let q = r#"histogram_quantile(0.9, rate(request_duration_seconds_bucket{route="/a"}[5m]))"#;
    let ex = rt.block_on(m.query_exemplars(q, start, end)).unwrap();
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert_eq!(ex[0].trace_id(), Some("abababababababababababababababab"));
    assert_eq!(ex[0].value, 0.42);
    let q = r#"request_duration_seconds_bucket{route="/b"}"#;
    assert!(
        rt.block_on(m.query_exemplars(q, start, end))
            .unwrap()
            .is_empty()
    );

    let names = rt
        .block_on(m.metric_names(Some(r#"{route="/c"}"#), start, end))
        .unwrap();
    assert_eq!(names, ["http_requests_total"]);
    let all = rt.block_on(m.metric_names(None, start, end)).unwrap();
    assert!(all.len() >= 5, "{all:?}");
    let labels = rt
        .block_on(m.label_names("queue_depth", start, end))
        .unwrap();
    for l in ["__name__", "instance", "job", "queue"] {
        assert!(labels.iter().any(|x| x == l), "{l} not in {labels:?}");
    }
    let meta = rt.block_on(m.metadata()).unwrap();
    use obs::model::MetricType;
    assert_eq!(
        meta.get("queue_depth"),
        Some(&MetricType::Gauge),
        "{meta:?}"
    );
    assert_eq!(
        meta.get("request_duration_seconds"),
        Some(&MetricType::Histogram),
        "{meta:?}"
    );
    assert!(
        meta.get("http_requests_total") == Some(&MetricType::Counter)
            || meta.get("http_requests") == Some(&MetricType::Counter),
        "{meta:?}"
    );

    let series = rt
        .block_on(m.query_range(
            "sum(rate(http_requests_total[1m]))",
            start + 600.0,
            start + 900.0,
            60.0,
        ))
        .unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].points.len(), 6);
    let err = rt
        .block_on(m.query_range("count_values(\"v\", x)", start, end, 60.0))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not supported offline: aggregation `count_values`"),
        "{err}"
    );
    assert!(err.contains("source.db"), "{err}");
}

#[test]
fn obs_query_prints_tables_and_prometheus_like_json_from_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let t0_ms = 1_700_000_000_000;
    write_store(&path, t0_ms);
    let store = path.to_str().unwrap();
    // 20 minutes in: the late /c series exists.
    let t = (t0_ms / 1000 + 1200).to_string();

    let out = crate::cli::obs()
        .args(["query", "--store", store, "--time", &t, "-o", "json"])
        .arg("sum by (route) (rate(http_requests_total[1m]))")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["resultType"], "vector");
    let routes: Vec<&str> = json["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["metric"]["route"].as_str().unwrap())
        .collect();
    assert_eq!(routes, ["/a", "/b", "/c"]);

    // Piped, `-o json` is one compact line (scripts and jq read it as fast as it is written);
    // `--pretty` indents it, for people. A range answer is the same document either way.
    let until = (t0_ms / 1000 + 1500).to_string();
    let range_json = |pretty: bool| {
        let out = crate::cli::obs()
            .args(["query", "--store", store, "--since", &t, "--until", &until])
            .args([
                "--step",
                "1m",
                "-o",
                "json",
                "rate(http_requests_total[1m])",
            ])
            .args(pretty.then_some("--pretty"))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let (compact, pretty) = (range_json(false), range_json(true));
    assert_eq!(compact.lines().count(), 1, "{compact}");
    assert!(
        compact.starts_with(r#"{"resultType":"matrix","result":[{"metric":{"#),
        "{compact}"
    );
    assert!(
        pretty.lines().count() > 100 && pretty.contains("\n  \"result\": ["),
        "{pretty}"
    );
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
    assert_eq!(parse(&compact), parse(&pretty));
    assert_eq!(parse(&compact)["result"].as_array().unwrap().len(), 5);

    let out = crate::cli::obs()
        .args([
            "query", "--store", store, "--since", &t, "--until", &until, "--step", "1m",
        ])
        .arg("queue_depth")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("POINTS") && text.contains(r#"queue="q2""#),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.contains("queue_depth{")).count(),
        3,
        "{text}"
    );

    let out = crate::cli::obs()
        .args([
            "query",
            "--store",
            store,
            "--time",
            &t,
            "count_values(\"v\", queue_depth)",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not supported offline: aggregation `count_values`"),
        "{err}"
    );

    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database ".repeat(100)).unwrap();
    let out = crate::cli::obs()
        .args(["query", "--store", junk.to_str().unwrap(), "up"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.db: not an obs store"), "{err}");
}
