//! Data captured from remote backends (`obs snapshot`), written as it was fetched: raw
//! Prometheus samples under their own names and labels, the exemplars Prometheus returned, the
//! metric types it reported, and a manifest of every fetch.
//!
//! Unlike OTLP metrics (`metric_ingest.rs`), nothing here is renamed or converted: a series
//! fetched as `http_requests_total{code="500",job="api"}` is stored with exactly those labels,
//! so the offline PromQL evaluator answers the investigation's queries over it as Prometheus
//! did. It writes with its own connection in one transaction, so it must not run while a
//! writer thread ([`super::spawn_writer`]) has the same file open.
//!
//! The manifest table (`capture_manifest`) is created here on first use, not by a migration:
//! stores without one are ordinary stores of the same schema version, readable by any obs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::samples::CHUNK_SAMPLES;
use super::{RawSeries, SqlContext, StoreError, gorilla, schema};
use crate::model::{Exemplar, Labels};

/// One fetch an investigation made: where, what, over which window, and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// `metrics`, `traces` or `logs`.
    pub signal: String,
    /// The backend kind (`prometheus`, `tempo`, `jaeger`, `loki`).
    pub kind: String,
    /// The backend's base URL, without user info or query string.
    pub url: String,
    /// The API call (`query_range`, `raw_samples`, `query_exemplars`, `trace`, `search`, …).
    pub call: String,
    /// The query as sent (PromQL, a trace id, a log query), never a header or credential.
    pub query: String,
    /// The window asked for, unix seconds (0 when the call has none).
    pub start_unix: f64,
    pub end_unix: f64,
    #[serde(default)]
    pub step_seconds: Option<f64>,
    /// `ok` or `error`.
    pub status: String,
    #[serde(default)]
    pub error: Option<String>,
    /// Series, exemplars, traces or log records returned.
    pub items: u64,
    /// When the capture ran (RFC 3339) and the obs version that ran it; set when written.
    #[serde(default)]
    pub captured_at: String,
    #[serde(default)]
    pub obs_version: String,
}

/// What [`write_captured`] stores.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// Metric family name → Prometheus type (`counter`, `histogram`, …), as the metadata API
    /// reported them.
    pub families: HashMap<String, String>,
    /// Raw samples; a series may appear more than once (its samples are merged).
    pub series: Vec<RawSeries>,
    pub exemplars: Vec<Exemplar>,
}

/// How much [`write_captured`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CapturedCounts {
    pub series: u64,
    pub samples: u64,
    pub exemplars: u64,
}

const MANIFEST_TABLE: &str = "CREATE TABLE IF NOT EXISTS capture_manifest (
    id           INTEGER PRIMARY KEY,
    captured_at  TEXT NOT NULL,
    obs_version  TEXT NOT NULL,
    signal       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    url          TEXT NOT NULL,
    call         TEXT NOT NULL,
    query        TEXT NOT NULL,
    start_unix   REAL NOT NULL,
    end_unix     REAL NOT NULL,
    step_seconds REAL,
    status       TEXT NOT NULL,
    error        TEXT,
    items        INTEGER NOT NULL
)";

/// Writes captured metrics into the store at `path` (created if needed) in one transaction.
/// Samples already stored for a series are kept; a timestamp present twice keeps the new value.
pub fn write_captured(path: &Path, captured: &Captured) -> Result<CapturedCounts, StoreError> {
    let mut conn = schema::open_read_write(path)?;
    let tx = conn.transaction().at(path)?;
    let counts = write_in(&tx, captured).at(path)?;
    tx.commit().at(path)?;
    Ok(counts)
}

fn write_in(conn: &Connection, captured: &Captured) -> rusqlite::Result<CapturedCounts> {
    let mut counts = CapturedCounts::default();
    {
        let mut family = conn.prepare_cached(
            "INSERT INTO metric_families (name, type, unit, help, otel_name)
             VALUES (?1, ?2, '', '', '')
             ON CONFLICT (name) DO UPDATE SET type = excluded.type",
        )?;
        for (name, kind) in &captured.families {
            family.execute(params![name, kind])?;
        }
    }
    // Merge by labels first: one series fetched by several queries is one series.
    let mut merged: BTreeMap<String, (Labels, BTreeMap<i64, u64>)> = BTreeMap::new();
    for s in &captured.series {
        let key = serde_json::to_string(&s.labels).unwrap_or_default();
        let entry = merged
            .entry(key)
            .or_insert_with(|| (s.labels.clone(), BTreeMap::new()));
        for &(t, v) in &s.samples {
            entry.1.insert(t, v.to_bits());
        }
    }
    let mut ids: HashMap<String, i64> = HashMap::new();
    for (key, (labels, samples)) in merged {
        let name = labels.get("__name__").cloned().unwrap_or_default();
        let id = series_id(conn, &name, &family_of(&name, captured), &key)?;
        let mut all: BTreeMap<i64, u64> = stored_samples(conn, id)?;
        let before = all.len();
        all.extend(samples);
        counts.series += 1;
        counts.samples += (all.len() - before) as u64;
        write_chunks(conn, id, &all.into_iter().collect::<Vec<_>>())?;
        ids.insert(key, id);
    }
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO exemplars (series_id, ts, value, trace_id, span_id, attributes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for e in &captured.exemplars {
        let key = serde_json::to_string(&e.series_labels).unwrap_or_default();
        let ts = (e.timestamp * 1e9).round() as i64;
        let id = match ids.get(&key) {
            Some(&id) => id,
            None => {
                let name = e.series_labels.get("__name__").cloned().unwrap_or_default();
                let id = series_id(conn, &name, &family_of(&name, captured), &key)?;
                conn.execute(
                    "UPDATE series SET first_ts = min(first_ts, ?2), last_ts = max(last_ts, ?2)
                     WHERE id = ?1",
                    params![id, ts],
                )?;
                ids.insert(key, id);
                id
            }
        };
        // `trace_id` and `span_id` have columns; every other label is kept as an attribute,
        // so reading the exemplar back gives the labels Prometheus returned.
        let mut attrs = e.labels.clone();
        let trace_id = attrs.remove("trace_id").unwrap_or_default();
        let span_id = attrs.remove("span_id").unwrap_or_default();
        let attrs = serde_json::to_string(&attrs).unwrap_or_default();
        let value = (!e.value.is_nan()).then_some(e.value);
        counts.exemplars +=
            insert.execute(params![id, ts, value, trace_id, span_id, attrs])? as u64;
    }
    Ok(counts)
}

/// The family a series belongs to: the name the metadata knows it by (`…_bucket`, `_sum` and
/// `_count` belong to their histogram or summary), else its own name.
fn family_of(name: &str, captured: &Captured) -> String {
    for suffix in ["_bucket", "_sum", "_count", "_total"] {
        if let Some(base) = name.strip_suffix(suffix)
            && captured.families.contains_key(base)
        {
            return base.to_string();
        }
    }
    name.to_string()
}

fn series_id(conn: &Connection, name: &str, family: &str, labels: &str) -> rusqlite::Result<i64> {
    let existing: Option<i64> = conn
        .prepare_cached("SELECT id FROM series WHERE metric_name = ?1 AND labels = ?2")?
        .query_row(params![name, labels], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    conn.prepare_cached(
        "INSERT INTO series (metric_name, family, labels, first_ts, last_ts)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![name, family, labels, i64::MAX, i64::MIN])?;
    Ok(conn.last_insert_rowid())
}

fn stored_samples(conn: &Connection, id: i64) -> rusqlite::Result<BTreeMap<i64, u64>> {
    let mut out = BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT data FROM sample_chunks WHERE series_id = ?1")?;
    for data in stmt.query_map([id], |r| r.get::<_, Vec<u8>>(0))? {
        let decoded = gorilla::decode(&data?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, e.into())
        })?;
        out.extend(decoded);
    }
    Ok(out)
}

/// Replaces the series' chunks with `samples` (sorted, unique), [`CHUNK_SAMPLES`] per chunk.
fn write_chunks(conn: &Connection, id: i64, samples: &[(i64, u64)]) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM sample_chunks WHERE series_id = ?1")?
        .execute([id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO sample_chunks (series_id, start_ts, end_ts, count, data)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for chunk in samples.chunks(CHUNK_SAMPLES) {
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
            continue;
        };
        insert.execute(params![
            id,
            first.0,
            last.0,
            chunk.len() as i64,
            gorilla::encode(chunk)
        ])?;
    }
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        conn.prepare_cached(
            "UPDATE series SET first_ts = min(first_ts, ?2), last_ts = max(last_ts, ?3),
                samples = ?4 WHERE id = ?1",
        )?
        .execute(params![id, first.0, last.0, samples.len() as i64])?;
    }
    Ok(())
}

/// Appends `entries` to the store's capture manifest, stamped with `captured_at` and this
/// obs's version.
pub fn write_manifest(
    path: &Path,
    entries: &[ManifestEntry],
    captured_at: &str,
) -> Result<(), StoreError> {
    let mut conn = schema::open_read_write(path)?;
    let tx = conn.transaction().at(path)?;
    tx.execute_batch(MANIFEST_TABLE).at(path)?;
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO capture_manifest (captured_at, obs_version, signal, kind, url, call,
                    query, start_unix, end_unix, step_seconds, status, error, items)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .at(path)?;
        for e in entries {
            insert
                .execute(params![
                    captured_at,
                    env!("CARGO_PKG_VERSION"),
                    e.signal,
                    e.kind,
                    e.url,
                    e.call,
                    e.query,
                    e.start_unix,
                    e.end_unix,
                    e.step_seconds,
                    e.status,
                    e.error,
                    e.items as i64
                ])
                .at(path)?;
        }
    }
    tx.commit().at(path)
}

/// The capture manifest of the store at `path`, in capture order; empty for a store that was
/// not written by `obs snapshot`.
pub fn read_manifest(path: &Path) -> Result<Vec<ManifestEntry>, StoreError> {
    let conn = schema::open_read_only(path)?;
    let exists: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'capture_manifest'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .at(path)?
        > 0;
    if !exists {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(
            "SELECT captured_at, obs_version, signal, kind, url, call, query, start_unix,
                end_unix, step_seconds, status, error, items
             FROM capture_manifest ORDER BY id",
        )
        .at(path)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(ManifestEntry {
                captured_at: r.get(0)?,
                obs_version: r.get(1)?,
                signal: r.get(2)?,
                kind: r.get(3)?,
                url: r.get(4)?,
                call: r.get(5)?,
                query: r.get(6)?,
                start_unix: r.get(7)?,
                end_unix: r.get(8)?,
                step_seconds: r.get(9)?,
                status: r.get(10)?,
                error: r.get(11)?,
                items: r.get::<_, i64>(12)?.max(0) as u64,
            })
        })
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn captured_series_read_back_with_their_own_names_labels_and_exact_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("incident.db");
        let a = labels(&[("__name__", "http_requests_total"), ("code", "500")]);
        // 300 samples: three chunks; one series fetched twice with overlapping windows.
        let samples: Vec<(i64, f64)> = (0..300)
            .map(|i| {
                (
                    1_000_000_000_000 + i * 15_000_000_000,
                    i as f64 * 0.1 + 1e-12,
                )
            })
            .collect();
        let captured = Captured {
            families: HashMap::from([("http_requests".into(), "counter".into())]),
            series: vec![
                RawSeries {
                    labels: a.clone(),
                    samples: samples[..200].to_vec(),
                },
                RawSeries {
                    labels: a.clone(),
                    samples: samples[100..].to_vec(),
                },
            ],
            exemplars: vec![Exemplar {
                series_labels: a.clone(),
                labels: labels(&[("trace_id", "abc"), ("traceID", "abc")]),
                value: 0.5,
                timestamp: 1_000_000_000_000f64 / 1e9 + 30.0,
            }],
        };
        let counts = write_captured(&path, &captured).unwrap();
        assert_eq!(
            counts,
            CapturedCounts {
                series: 1,
                samples: 300,
                exemplars: 1
            }
        );
        let store = Store::open_read_only(&path).unwrap();
        let read = store
            .series("http_requests_total", i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].labels, a);
        assert_eq!(read[0].samples, samples);
        let ex = store
            .exemplars(&["http_requests_total".into()], i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(ex.len(), 1);
        assert_eq!(ex[0].labels, captured.exemplars[0].labels);
        assert_eq!(
            store.metric_metadata("http_requests").unwrap().unwrap().0,
            "counter"
        );
        assert_eq!(store.info().unwrap().metric_points, 300);
    }

    #[test]
    fn the_manifest_reads_back_in_order_and_a_plain_store_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("incident.db");
        write_captured(&path, &Captured::default()).unwrap();
        assert!(read_manifest(&path).unwrap().is_empty());
        let entry = |call: &str, status: &str| ManifestEntry {
            signal: "metrics".into(),
            kind: "prometheus".into(),
            url: "http://prom:9090".into(),
            call: call.into(),
            query: "up".into(),
            start_unix: 1.0,
            end_unix: 2.0,
            step_seconds: Some(15.0),
            status: status.into(),
            error: (status == "error").then(|| "connection refused".into()),
            items: 3,
            captured_at: String::new(),
            obs_version: String::new(),
        };
        let entries = [entry("query_range", "ok"), entry("raw_samples", "error")];
        write_manifest(&path, &entries, "2026-12-02T06:00:00Z").unwrap();
        let read = read_manifest(&path).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].call, "raw_samples");
        assert_eq!(read[1].error.as_deref(), Some("connection refused"));
        assert_eq!(read[0].captured_at, "2026-12-02T06:00:00Z");
        assert_eq!(read[0].obs_version, env!("CARGO_PKG_VERSION"));
    }
}
