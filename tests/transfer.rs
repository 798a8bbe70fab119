//! `obs store export` / `obs store import` (OTLP JSON Lines) and `obs replay`.
//!
//! The store under test is `fixtures/store-v2/store.db`: the demo shop sent by the real
//! OpenTelemetry Rust SDK into the sink, plus a service with exemplars, a NaN, a staleness
//! marker and a delta counter (`fixtures/store-v2/README.md`). Replays go to an in-process
//! `obs sink` (tests/support/sink.rs), directly or through a proxy that answers 503 for a while.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use obs::store::{
    ExportSignal, ExportWindow, LogQuery, Payload, STALE_NAN_BITS, Store, TraceQuery,
};
use serde_json::{Value, json};

use crate::cli::obs;
use crate::support::sink::TestSink;

fn copy_of_the_shop_store(dir: &Path) -> PathBuf {
    let to = dir.join("shop.db");
    std::fs::copy("fixtures/store-v2/store.db", &to).unwrap();
    // Upgraded (v2 → v3) once here, so that both sides of a comparison are the same schema.
    Store::open(&to).unwrap();
    to
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = obs().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every item of a signal as its own JSON text with its resource and scope, sorted: equal for
/// two stores exactly when they hold the same spans / log records / metric points, however
/// they are batched. Timestamps moved back by `shift` ns.
fn items(store: &Path, signal: ExportSignal, shift: i64) -> Vec<String> {
    let store = Store::open_read_only(store).unwrap();
    let mut out = Vec::new();
    store
        .export(signal, ExportWindow::ALL, 100, &mut |mut p: Payload| {
            obs::replay::shift(&mut p, -shift);
            let v = match &p {
                Payload::Traces(r) => serde_json::to_value(r),
                Payload::Logs(r) => serde_json::to_value(r),
                Payload::Metrics(r) => serde_json::to_value(r),
            }
            .unwrap();
            let (outer, inner, leaf) = match signal {
                ExportSignal::Traces => ("resourceSpans", "scopeSpans", "spans"),
                ExportSignal::Logs => ("resourceLogs", "scopeLogs", "logRecords"),
                ExportSignal::Metrics => ("resourceMetrics", "scopeMetrics", "metrics"),
            };
            for r in v[outer].as_array().unwrap() {
                for s in r[inner].as_array().unwrap() {
                    for item in s[leaf].as_array().unwrap() {
                        out.push(
                            json!({"resource": r["resource"], "scope": s["scope"], "item": item})
                                .to_string(),
                        );
                    }
                }
            }
            Ok::<(), obs::store::StoreError>(())
        })
        .unwrap();
    out.sort();
    out
}

/// Every series (all labels) with its samples' exact bits, every family's metadata, every
/// exemplar: what PromQL and investigate read.
fn metrics_of(store: &Path) -> Value {
    let store = Store::open_read_only(store).unwrap();
    let names = store.metric_names(i64::MIN, i64::MAX).unwrap();
    let mut series = BTreeMap::new();
    for name in &names {
        for s in store.series(name, i64::MIN, i64::MAX).unwrap() {
            let samples: Vec<(i64, String)> = s
                .samples
                .iter()
                .map(|(t, v)| (*t, format!("{:016x}", v.to_bits())))
                .collect();
            series.insert(serde_json::to_string(&s.labels).unwrap(), samples);
        }
    }
    let mut meta = BTreeMap::new();
    for name in &names {
        let family = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_count")
            .trim_end_matches("_sum");
        for f in [name.as_str(), family] {
            if let Some(m) = store.metric_metadata(f).unwrap() {
                meta.insert(f.to_string(), m);
            }
        }
    }
    let mut exemplars: Vec<String> = store
        .exemplars(&names, i64::MIN, i64::MAX)
        .unwrap()
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    exemplars.sort();
    json!({"series": series, "meta": meta, "exemplars": exemplars})
}

fn info(store: &Path) -> Value {
    let mut v =
        serde_json::to_value(Store::open_read_only(store).unwrap().info().unwrap()).unwrap();
    for k in ["path", "size_bytes"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

fn export_all(store: &Path, dir: &Path, suffix: &str) -> Vec<PathBuf> {
    ["traces", "logs", "metrics"]
        .iter()
        .map(|signal| {
            let file = dir.join(format!("{signal}.jsonl{suffix}"));
            let (code, _, err) = run(&[
                "store",
                "export",
                "--store",
                store.to_str().unwrap(),
                "--signal",
                signal,
                "--out",
                file.to_str().unwrap(),
            ]);
            assert_eq!(code, 0, "{err}");
            file
        })
        .collect()
}

fn import(files: &[PathBuf], store: &Path) -> (i32, String, String) {
    let mut args = vec!["store".to_string(), "import".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["--store".to_string(), store.display().to_string()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs)
}

#[test]
fn store_to_jsonl_to_a_new_store_is_lossless_and_importing_twice_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let original = copy_of_the_shop_store(dir.path());
    let files = export_all(&original, dir.path(), ".gz");
    let copy = dir.path().join("copy.db");
    let (code, out, err) = import(&files, &copy);
    assert_eq!(code, 0, "{out}{err}");

    let before = info(&original);
    assert!(before["spans"].as_u64().unwrap() > 0 && before["exemplars"].as_u64().unwrap() > 0);
    assert_eq!(info(&copy), before);
    for signal in [ExportSignal::Traces, ExportSignal::Logs] {
        let a = items(&original, signal, 0);
        assert!(!a.is_empty());
        assert_eq!(items(&copy, signal, 0), a, "{}", signal.name());
    }
    let original_metrics = metrics_of(&original);
    let text = original_metrics.to_string();
    // The fixture's edge cases are part of what must survive.
    assert!(
        text.contains(&format!("{STALE_NAN_BITS:016x}")),
        "a staleness marker"
    );
    assert!(text.contains("7ff8000000000000"), "a NaN");
    assert!(text.contains("_bucket"), "histograms");
    assert_eq!(metrics_of(&copy), original_metrics);

    // The file is OTLP/JSON as the file exporter writes it: hex ids, int64 as strings.
    let traces = String::from_utf8(obs::jsonl::read_all(&files[0]).unwrap()).unwrap();
    let first: Value = serde_json::from_str(traces.lines().next().unwrap()).unwrap();
    let span = &first["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["traceId"].as_str().unwrap().len(), 32);
    assert!(span["startTimeUnixNano"].is_string());
    assert!(span["kind"].is_number());

    let (code, _, err) = import(&files, &copy);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        info(&copy),
        before,
        "re-importing the same files adds nothing"
    );
}

#[test]
fn export_honours_the_window_and_writes_stdout_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let store = copy_of_the_shop_store(dir.path());
    let s = store.to_str().unwrap();
    let (code, all, _) = run(&["store", "export", "--store", s, "--signal", "logs"]);
    assert_eq!(code, 0);
    let (code, none, _) = run(&[
        "store",
        "export",
        "--store",
        s,
        "--signal",
        "logs",
        "--until",
        "2001-01-01T00:00:00Z",
    ]);
    assert_eq!(code, 0);
    assert!(all.lines().count() > 0);
    assert_eq!(none, "", "nothing in the store is that old");
}

#[test]
fn the_official_otlp_json_examples_import() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("ex.db");
    let files: Vec<PathBuf> = ["trace.json", "logs.json", "metrics.json"]
        .iter()
        .map(|f| Path::new("fixtures/otlp-json").join(f))
        .collect();
    let (code, out, _) = import(&files, &store);
    // metrics.json's histogram has 3 counts for 1 bound: that point is refused, and said.
    assert_eq!(code, 1);
    assert!(
        out.contains("1 rejected") && out.contains("my.histogram"),
        "{out}"
    );
    let i = info(&store);
    assert_eq!(
        (i["spans"].as_u64(), i["logs"].as_u64()),
        (Some(1), Some(1))
    );
    let store = Store::open_read_only(&store).unwrap();
    let t = store
        .trace("5b8efff798038103d269b633813fc60c")
        .unwrap()
        .unwrap();
    assert_eq!(t.spans[0].name, "I'm a server span");
    assert!(!store.metric_names(i64::MIN, i64::MAX).unwrap().is_empty());
}

#[test]
fn a_bad_line_is_reported_by_number_and_the_rest_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let original = copy_of_the_shop_store(dir.path());
    let files = export_all(&original, dir.path(), "");
    let lines: Vec<String> = std::fs::read_to_string(&files[1])
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert!(!lines.is_empty());
    let mangled = dir.path().join("mangled.jsonl");
    let mut f = std::fs::File::create(&mangled).unwrap();
    writeln!(f, "{}", lines[0]).unwrap();
    writeln!(f, "{{\"resourceLogs\": [{{\"scopeLogs\": 7}}]}}").unwrap();
    for l in &lines[1..] {
        writeln!(f, "{l}").unwrap();
    }
    drop(f);
    let copy = dir.path().join("copy.db");
    let (code, _, err) = import(&[mangled], &copy);
    assert_eq!(code, 1);
    assert!(err.contains("mangled.jsonl:2:"), "{err}");
    assert_eq!(info(&copy)["logs"], info(&original)["logs"]);
}

/// A destination that fails part-way (a full disk, a closed pipe): export stops with the
/// error, having written whole lines only, and does not hang on its encoding thread.
#[test]
fn an_export_whose_destination_fails_stops_with_the_error() {
    struct FailsAfter(usize, Vec<u8>);
    impl std::io::Write for FailsAfter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.1.len() + buf.len() > self.0 {
                return Err(std::io::Error::other("no space left on device"));
            }
            self.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let store = copy_of_the_shop_store(dir.path());
    let read = Store::open_read_only(&store).unwrap();
    for signal in [
        ExportSignal::Traces,
        ExportSignal::Logs,
        ExportSignal::Metrics,
    ] {
        let mut whole = FailsAfter(usize::MAX, Vec::new());
        let all = obs::jsonl::export(&read, signal, ExportWindow::ALL, &mut whole).unwrap();
        assert!(all.lines >= 1, "{signal:?}");
        // Room for the first line and half of the next (or half of the only one).
        let first_line = whole.1.iter().position(|b| *b == b'\n').unwrap() + 1;
        let room = if all.lines > 1 {
            first_line + (whole.1.len() - first_line) / 2
        } else {
            first_line / 2
        };
        let kept = if all.lines > 1 { first_line } else { 0 };
        let mut failing = FailsAfter(room, Vec::new());
        let err = obs::jsonl::export(&read, signal, ExportWindow::ALL, &mut failing).unwrap_err();
        assert!(err.to_string().contains("no space left"), "{err}");
        assert_eq!(failing.1.len(), kept, "{signal:?}");
        assert_eq!(failing.1, whole.1[..kept]);
    }
}

/// Lines are parsed on several threads but reach the store in file order: a delta counter
/// sent one point per line becomes the running total 1, 2, 3, …, and bad lines are named in
/// order with their numbers.
#[test]
fn lines_reach_the_store_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("delta.jsonl");
    let mut f = std::fs::File::create(&file).unwrap();
    let start = 1_700_000_000_000_000_000u64;
    let step = 15_000_000_000u64;
    let points = 400u64;
    let bad = [17u64, 222, 333];
    let mut number = 0;
    for i in 0..points {
        number += 1;
        if bad.contains(&number) {
            writeln!(f, "{{\"resourceMetrics\": 7}}").unwrap();
            number += 1;
        }
        let line = json!({"resourceMetrics": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "jobs"}}]},
            "scopeMetrics": [{"metrics": [{"name": "jobs_done", "sum": {
                "aggregationTemporality": 1, "isMonotonic": true,
                "dataPoints": [{
                    "startTimeUnixNano": (start + i * step).to_string(),
                    "timeUnixNano": (start + (i + 1) * step).to_string(),
                    "asInt": "1"
                }]
            }}]}]
        }]});
        writeln!(f, "{line}").unwrap();
    }
    drop(f);
    let store = dir.path().join("jobs.db");
    let (code, _, err) = import(std::slice::from_ref(&file), &store);
    assert_eq!(code, 1, "three bad lines: {err}");
    let named: Vec<usize> = err
        .match_indices("delta.jsonl:")
        .map(|(i, m)| {
            let rest = &err[i + m.len()..];
            rest[..rest.find(':').unwrap()].parse().unwrap()
        })
        .collect();
    assert_eq!(named, [17, 222, 333], "{err}");
    let read = Store::open_read_only(&store).unwrap();
    let names = read.metric_names(i64::MIN, i64::MAX).unwrap();
    assert_eq!(names.len(), 1, "{names:?}");
    let series = read.series(&names[0], i64::MIN, i64::MAX).unwrap();
    assert_eq!(series.len(), 1);
    let totals: Vec<f64> = series[0].samples.iter().map(|(_, v)| *v).collect();
    let expected: Vec<f64> = (1..=points).map(|n| n as f64).collect();
    let first_wrong = totals.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(
        (totals.len(), first_wrong),
        (expected.len(), None),
        "points lost or out of order"
    );
}

#[test]
fn files_that_are_not_otlp_jsonl_and_truncated_gzip_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello\nworld\n").unwrap();
    let (code, _, err) = import(&[text], &store);
    assert_eq!(code, 1);
    assert!(err.contains("not an OTLP JSON Lines file"), "{err}");

    let original = copy_of_the_shop_store(dir.path());
    let files = export_all(&original, dir.path(), ".gz");
    let bytes = std::fs::read(&files[0]).unwrap();
    let cut = dir.path().join("cut.jsonl.gz");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (code, _, err) = import(&[cut], &store);
    assert_eq!(code, 1);
    assert!(err.contains("gzip stream is truncated or corrupt"), "{err}");
}

/// Every trace of a store, by id, each span's times moved back by `shift`.
fn traces_of(store: &Path, shift: i64) -> BTreeMap<String, Value> {
    let s = Store::open_read_only(store).unwrap();
    let ids = s
        .search_traces(&TraceQuery::default())
        .unwrap()
        .into_iter()
        .map(|t| t.trace_id);
    ids.map(|id| {
        let mut t = serde_json::to_value(s.trace(&id).unwrap().unwrap()).unwrap();
        for span in t["spans"].as_array_mut().unwrap() {
            for k in ["start_unix_nano", "end_unix_nano"] {
                let v = span[k].as_i64().unwrap();
                span[k] = json!(v - shift);
            }
            for e in span["events"].as_array_mut().unwrap() {
                let v = e["time_unix_nano"].as_i64().unwrap();
                e["time_unix_nano"] = json!(v - shift);
            }
        }
        (id, t)
    })
    .collect()
}

fn log_count(store: &Path) -> usize {
    Store::open_read_only(store)
        .unwrap()
        .logs(&LogQuery::default())
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_into_a_second_sink_moves_every_timestamp_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let original = copy_of_the_shop_store(dir.path());
    let mut sink = TestSink::start().await;
    let out = obs()
        .args(["replay", "--store", original.to_str().unwrap(), "--to"])
        .arg(format!("http://{}", sink.http))
        .args(["--shift", "1h", "--batch", "200", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    sink.stop().await;
    let hour = 3_600_000_000_000i64;
    assert_eq!(summary["shift_ns"], json!(hour));
    let before = info(&original);
    assert_eq!(
        summary["signals"]["traces"]["acknowledged"],
        before["spans"]
    );
    assert_eq!(summary["signals"]["logs"]["acknowledged"], before["logs"]);
    assert_eq!(summary["signals"]["metrics"]["rejected"], json!(0));

    let a = traces_of(&original, 0);
    assert_eq!(a.len() as u64, before["traces"].as_u64().unwrap());
    assert_eq!(
        traces_of(&sink.store, hour),
        a,
        "every trace, an hour later"
    );
    assert_eq!(log_count(&sink.store), log_count(&original));
    for signal in [
        ExportSignal::Traces,
        ExportSignal::Logs,
        ExportSignal::Metrics,
    ] {
        assert_eq!(
            items(&sink.store, signal, hour),
            items(&original, signal, 0),
            "{}",
            signal.name()
        );
    }
    let after = info(&sink.store);
    for k in [
        "spans",
        "traces",
        "logs",
        "metric_points",
        "series",
        "exemplars",
    ] {
        assert_eq!(after[k], before[k], "{k}");
    }
}

/// A proxy in front of a sink that answers 503 (Retry-After: 0) to its first `refuse`
/// requests, then forwards; counts what it forwarded.
struct Proxy {
    url: String,
    forwarded: Arc<AtomicU64>,
}

async fn proxy(target: String, refuse: u64) -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicU64::new(0));
    let forwarded = Arc::new(AtomicU64::new(0));
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback({
        let forwarded = forwarded.clone();
        move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let (seen, forwarded, client, target) = (
                seen.clone(),
                forwarded.clone(),
                client.clone(),
                target.clone(),
            );
            async move {
                use axum::response::IntoResponse;
                if seen.fetch_add(1, Ordering::SeqCst) < refuse {
                    return (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        [("retry-after", "0")],
                        "busy",
                    )
                        .into_response();
                }
                let r = client
                    .post(format!("{target}{}", uri.path()))
                    .header("content-type", "application/x-protobuf")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                forwarded.fetch_add(1, Ordering::SeqCst);
                let status = axum::http::StatusCode::from_u16(r.status().as_u16()).unwrap();
                let bytes = r.bytes().await.unwrap();
                (status, [("content-type", "application/x-protobuf")], bytes).into_response()
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Proxy { url, forwarded }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_waits_out_503s_and_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let original = copy_of_the_shop_store(dir.path());
    let mut sink = TestSink::start().await;
    let proxy = proxy(format!("http://{}", sink.http), 12).await;
    let out = obs()
        .args([
            "replay",
            "--store",
            original.to_str().unwrap(),
            "--to",
            &proxy.url,
        ])
        .args(["--batch", "300", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    sink.stop().await;
    let retries: u64 = ["traces", "logs", "metrics"]
        .iter()
        .map(|s| summary["signals"][s]["retries"].as_u64().unwrap())
        .sum();
    assert_eq!(retries, 12, "each 503 was retried");
    let batches: u64 = ["traces", "logs", "metrics"]
        .iter()
        .map(|s| summary["signals"][s]["acked"].as_u64().unwrap())
        .sum();
    assert_eq!(
        proxy.forwarded.load(Ordering::SeqCst),
        batches,
        "each batch delivered once"
    );
    let before = info(&original);
    let after = info(&sink.store);
    for k in [
        "spans",
        "traces",
        "logs",
        "metric_points",
        "series",
        "exemplars",
    ] {
        assert_eq!(after[k], before[k], "{k}");
    }
    assert_eq!(
        summary["signals"]["traces"]["sent"], before["spans"],
        "no span sent twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replay_resumes_without_resending_what_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let original = copy_of_the_shop_store(dir.path());
    let mut sink = TestSink::start().await;
    let proxy = proxy(format!("http://{}", sink.http), 0).await;
    let state = dir.path().join("progress.json");
    let args = |rate: &str| {
        let mut c = crate::support::sink::obs_command();
        c.args([
            "replay",
            "--store",
            original.to_str().unwrap(),
            "--to",
            &proxy.url,
        ])
        .args([
            "--batch",
            "50",
            "--rate",
            rate,
            "--state",
            state.to_str().unwrap(),
        ])
        .args(["-o", "json"]);
        c
    };
    // About 2 000 items/s: the whole store takes several seconds; kill it after one.
    let mut child = args("2000")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let first: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let acked_first = first["signals"]["traces"]["acked"].as_u64().unwrap_or(0);
    assert!(
        acked_first > 0,
        "some batches were acknowledged before the kill: {first}"
    );
    let forwarded_first = proxy.forwarded.load(Ordering::SeqCst);

    let out = args("1000000").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    sink.stop().await;
    assert!(summary["resumed_batches"].as_u64().unwrap() >= acked_first);
    let batches: u64 = ["traces", "logs", "metrics"]
        .iter()
        .map(|s| summary["signals"][s]["acked"].as_u64().unwrap())
        .sum();
    // Only a request in flight at the kill (never acknowledged) may have been sent twice.
    let forwarded = proxy.forwarded.load(Ordering::SeqCst);
    assert!(
        forwarded >= batches && forwarded <= batches + 4,
        "{forwarded} requests for {batches} batches ({forwarded_first} before the kill)"
    );
    let before = info(&original);
    let after = info(&sink.store);
    for k in [
        "spans",
        "traces",
        "logs",
        "metric_points",
        "series",
        "exemplars",
    ] {
        assert_eq!(after[k], before[k], "{k}");
    }
    for s in ["traces", "logs", "metrics"] {
        assert_eq!(summary["signals"][s]["complete"], json!(true));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_not_otlp_is_an_error_after_its_first_answer_and_nothing_is_marked() {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>hello</html>", "text/html"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let original = copy_of_the_shop_store(dir.path());
    let state = dir.path().join("progress.json");
    let out = obs()
        .args([
            "replay",
            "--store",
            original.to_str().unwrap(),
            "--to",
            &server.uri(),
        ])
        .args(["--state", state.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not an OTLP endpoint") && err.contains("text/html"),
        "{err}"
    );
    let recorded: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!(
        recorded["signals"]
            .as_object()
            .unwrap()
            .values()
            .all(|p| p["acked"] == json!(0)),
        "{recorded}"
    );
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests.len() <= 4,
        "stopped after the first answers: {}",
        requests.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_over_grpc_delivers_everything() {
    let dir = tempfile::tempdir().unwrap();
    let original = copy_of_the_shop_store(dir.path());
    let mut sink = TestSink::start().await;
    let out = obs()
        .args([
            "replay",
            "--store",
            original.to_str().unwrap(),
            "--grpc",
            "--to",
        ])
        .arg(sink.grpc_url())
        .args(["--shift", "now", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    sink.stop().await;
    let shift = summary["shift_ns"].as_i64().unwrap();
    assert!(shift > 0, "the 2025/2026 fixture moved to now");
    let newest = Store::open_read_only(&sink.store)
        .unwrap()
        .newest_timestamp()
        .unwrap()
        .unwrap();
    let now = i64::try_from(jiff::Timestamp::now().as_nanosecond()).unwrap();
    assert!(
        (now - newest).abs() < 120_000_000_000,
        "the newest item lands at about now"
    );
    let before = info(&original);
    let after = info(&sink.store);
    for k in [
        "spans",
        "traces",
        "logs",
        "metric_points",
        "series",
        "exemplars",
    ] {
        assert_eq!(after[k], before[k], "{k}");
    }
    assert_eq!(traces_of(&sink.store, shift), traces_of(&original, 0));
}
