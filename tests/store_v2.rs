//! A store written by obs with schema v2 (one row per metric sample) — recorded with that obs:
//! the demo shop plus a service sending exemplars, a NaN, a staleness marker and a delta
//! counter over OTLP/JSON (`fixtures/store-v2/README.md`) — is upgraded to sample chunks when a
//! command first reads it, and answers exactly what the obs that wrote it answered.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli::obs;
use obs::store::{STALE_NAN_BITS, Store};

const FIXTURE: &str = "fixtures/store-v2";

fn json_of(args: &[&str]) -> Value {
    let out = obs().args(args).args(["-o", "json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn recorded(name: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(FIXTURE).join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn copy_of_the_v2_store(dir: &Path) -> PathBuf {
    let path = dir.join("store.db");
    std::fs::copy(Path::new(FIXTURE).join("store.db"), &path).unwrap();
    path
}

/// `obs query` runs recorded in `answers/`: (file, query, time flags).
const ANSWERS: &[(&str, &str, &str)] = &[
    (
        "rate-by-job",
        "sum by (job) (rate(http_server_request_duration_seconds_count[5s]))",
        "demo",
    ),
    (
        "p99",
        "histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[5s])))",
        "demo",
    ),
    (
        "max-pool",
        "max_over_time(db_client_connection_count[3s])",
        "demo",
    ),
    ("ledger-range", r#"{job="ledger"}"#, "ledger"),
    (
        "ledger-increase",
        "increase(ledger_requests_total[30s])",
        "ledger",
    ),
    (
        "ledger-p50",
        "histogram_quantile(0.5, ledger_latency_seconds_bucket)",
        "ledger-instant",
    ),
];

fn window(which: &str) -> Vec<&'static str> {
    match which {
        "demo" => vec![
            "--since",
            "2026-12-02T03:00:10Z",
            "--until",
            "2026-12-02T03:00:42Z",
            "--step",
            "500ms",
        ],
        "ledger" => vec![
            "--since",
            "2025-12-02T03:00:00Z",
            "--until",
            "2025-12-02T03:01:30Z",
            "--step",
            "5s",
        ],
        _ => vec!["--time", "2025-12-02T03:00:30Z"],
    }
}

#[test]
fn a_schema_v2_store_is_upgraded_and_answers_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let store = copy_of_the_v2_store(dir.path());
    let store_arg = store.to_str().unwrap();

    let info = json_of(&["store", "info", "--store", store_arg]);
    let before = recorded("info.json");
    assert_eq!(info["schema_version"], obs::store::SCHEMA_VERSION);
    for key in [
        "spans",
        "traces",
        "logs",
        "metric_points",
        "series",
        "exemplars",
        "first",
        "last",
    ] {
        assert_eq!(info[key], before[key], "{key}");
    }
    // The v2 obs listed only the services of spans and logs; `ledger` sent metrics only.
    let mut services = before["services"].as_array().unwrap().clone();
    services.push("ledger".into());
    services.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    assert_eq!(info["services"], Value::Array(services));

    // Every sample, bit for bit: values, NaN, staleness markers, timestamps in nanoseconds.
    let reader = Store::open_read_only(&store).unwrap();
    let mut compared = 0;
    for recorded_series in recorded("samples.json").as_array().unwrap() {
        let labels: obs::model::Labels =
            serde_json::from_value(recorded_series["labels"].clone()).unwrap();
        let name = &labels["__name__"];
        let now = reader.series(name, i64::MIN, i64::MAX).unwrap();
        let series = now
            .iter()
            .find(|s| s.labels == labels)
            .unwrap_or_else(|| panic!("{labels:?} is gone"));
        let then = recorded_series["samples"].as_array().unwrap();
        assert_eq!(series.samples.len(), then.len(), "{labels:?}");
        for ((t, v), was) in series.samples.iter().zip(then) {
            assert_eq!(*t, was[0].as_i64().unwrap(), "{labels:?}");
            match was[1].as_str().unwrap() {
                "stale" => assert_eq!(v.to_bits(), STALE_NAN_BITS, "{labels:?} at {t}"),
                "NaN" => assert!(v.is_nan() && v.to_bits() != STALE_NAN_BITS, "{labels:?}"),
                x => assert_eq!(*v, x.parse::<f64>().unwrap(), "{labels:?} at {t}"),
            }
        }
        compared += 1;
    }
    assert_eq!(compared, 126, "every recorded series was compared");

    // Exemplars still point at their series.
    let exemplars = reader
        .exemplars(
            &[
                "ledger_requests_total".into(),
                "ledger_latency_seconds".into(),
            ],
            i64::MIN,
            i64::MAX,
        )
        .unwrap();
    let then = recorded("exemplars.json");
    assert_eq!(exemplars.len(), then.as_array().unwrap().len());
    for (now, was) in exemplars.iter().zip(then.as_array().unwrap()) {
        let series: obs::model::Labels = serde_json::from_value(was["series"].clone()).unwrap();
        assert_eq!(now.series_labels, series);
        assert_eq!(now.labels["trace_id"], was["trace_id"].as_str().unwrap());
        assert_eq!(now.value, was["value"].as_f64().unwrap());
    }

    // The queries answer what the v2 obs answered.
    for (file, query, which) in ANSWERS {
        let mut args = vec!["query", "--store", store_arg, query];
        args.extend(window(which));
        let now = json_of(&args);
        assert_eq!(now, recorded(&format!("answers/{file}.json")), "{query}");
    }

    // Traces and logs came through the upgrade untouched.
    let mut traces = 0;
    for entry in std::fs::read_dir(FIXTURE).unwrap() {
        let name = entry.unwrap().file_name().to_str().unwrap().to_string();
        let Some(id) = name
            .strip_prefix("trace-")
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        assert_eq!(
            json_of(&["trace", id, "--store", store_arg]),
            recorded(&name),
            "trace {id}"
        );
        traces += 1;
    }
    assert_eq!(traces, 3);
    let out = obs()
        .args(["logs", "--store", store_arg, "--service", "checkout"])
        .args([
            "--since",
            "2026-12-02T03:00:00Z",
            "--until",
            "2026-12-02T03:01:00Z",
        ])
        .args(["-o", "json"])
        .output()
        .unwrap();
    let then = std::fs::read_to_string(Path::new(FIXTURE).join("logs-checkout.jsonl")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), then);

    // The v2 table is gone; the samples live in chunks.
    let conn = rusqlite::Connection::open(&store).unwrap();
    let points: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'points'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let chunked: i64 = conn
        .query_row("SELECT sum(count) FROM sample_chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!((points, chunked), (0, 6626));
}

#[test]
fn a_damaged_sample_chunk_is_named_by_series_and_time_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = copy_of_the_v2_store(dir.path());
    let store_arg = store.to_str().unwrap();
    json_of(&["store", "info", "--store", store_arg]);
    let conn = rusqlite::Connection::open(&store).unwrap();
    conn.execute(
        "UPDATE sample_chunks SET data = substr(data, 1, length(data) / 2)
         WHERE series_id = (SELECT id FROM series WHERE metric_name = 'ledger_queue')",
        [],
    )
    .unwrap();
    drop(conn);

    let out = obs()
        .args(["query", "--store", store_arg, "ledger_queue"])
        .args(["--time", "2025-12-02T03:00:40Z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("store.db: stored data could not be read")
            && stderr.contains(r#"ledger_queue{instance="ledger-1", job="ledger""#)
            && stderr.contains("from 2025-12-02T03:00:15Z to 2025-12-02T03:01:00Z")
            && !stderr.contains("panicked"),
        "{stderr}"
    );
    // Other series still answer.
    let ok = json_of(&[
        "query",
        "--store",
        store_arg,
        "ledger_requests_total",
        "--time",
        "2025-12-02T03:00:40Z",
    ]);
    assert_eq!(ok["result"].as_array().unwrap().len(), 1);
}
