//! The read side: queries that return the backend-neutral model. Any number of readers may
//! open the file while the sink writes it (WAL: readers see the last commit, never a partial one).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Serialize;

use super::chunks;
use super::{SqlContext, StoreError, gorilla, samples, schema};
use crate::model::trace::normalize_trace_id;
use crate::model::{Exemplar, Labels, LogRecord, Trace, TraceSummary};

/// Filters for [`Store::search_traces`]. Times are unix nanoseconds, both ends inclusive;
/// `None` is unbounded. A trace matches when it overlaps the window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceQuery {
    /// Some span of the trace belongs to this service.
    pub service: Option<String>,
    /// Some span of the trace has this name (and the service, when both are given).
    pub operation: Option<String>,
    pub start_unix_nano: Option<i64>,
    pub end_unix_nano: Option<i64>,
    /// The trace (first span start to last span end) lasts at least this long.
    pub min_duration: Option<Duration>,
    /// The trace has a span with status ERROR.
    pub errors_only: bool,
    /// At most this many, newest first; 0 means no limit.
    pub limit: usize,
}

/// Order of [`Store::logs`] results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first.
    Forward,
    /// Newest first (what a terminal wants to show).
    #[default]
    Backward,
}

/// Filters for [`Store::logs`]. Times are unix nanoseconds, both ends inclusive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogQuery {
    /// Lowercase or upper-case hex; shorter ids are zero-padded.
    pub trace_id: Option<String>,
    pub service: Option<String>,
    pub start_unix_nano: Option<i64>,
    pub end_unix_nano: Option<i64>,
    /// Records with at least this OpenTelemetry severity number (1–24; 17 = ERROR).
    pub min_severity_number: Option<i32>,
    /// The body contains this text (case-sensitive, like LogQL `|=`).
    pub contains: Option<String>,
    /// At most this many; 0 means no limit.
    pub limit: usize,
    pub direction: Direction,
}

/// One stored series with its raw samples, in time order: what an offline PromQL evaluator
/// works from. Values are as stored: NaN is NaN, and a staleness marker is Prometheus's
/// stale NaN ([`STALE_NAN`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeries {
    /// All labels, `__name__` included.
    pub labels: Labels,
    /// (unix nanoseconds, value).
    pub samples: Vec<(i64, f64)>,
}

/// The bit pattern Prometheus uses for staleness markers.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;
/// A staleness marker as a value; test with `v.to_bits() == STALE_NAN_BITS`.
pub const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);

/// What `obs store info` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreInfo {
    pub path: String,
    pub schema_version: u32,
    /// The database file plus its write-ahead log.
    pub size_bytes: u64,
    pub spans: u64,
    pub traces: u64,
    pub logs: u64,
    /// Stored samples (a histogram point is several: buckets, sum, count).
    pub metric_points: u64,
    pub series: u64,
    pub exemplars: u64,
    pub services: Vec<String>,
    /// The oldest and newest timestamps held (RFC 3339), over traces, logs and samples.
    pub first: Option<String>,
    pub last: Option<String>,
}

/// A store opened for reading.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens read-write, creating the file and migrating its schema as needed.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            conn: schema::open_read_write(path)?,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing store for reading; works while a sink writes. A store written by an
    /// older obs is upgraded in place first (the only write this makes), as `obs sink` would.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            conn: schema::open_read_only(path)?,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    fn corrupt(&self, message: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            message,
        }
    }

    pub fn info(&self) -> Result<StoreInfo, StoreError> {
        let p = &self.path;
        let count = |sql: &str| -> Result<u64, StoreError> {
            let n: i64 = self.conn.query_row(sql, [], |r| r.get(0)).at(p)?;
            Ok(n.max(0) as u64)
        };
        // Services of span and log resources, and of metrics: the Collector's `job` label is
        // `service.namespace/service.name` (or the name alone), so a metrics-only store lists
        // its services too.
        let mut services = std::collections::BTreeSet::new();
        for sql in [INFO_SERVICES, INFO_JOBS] {
            let names = self
                .conn
                .prepare(sql)
                .at(p)?
                .query_map([], |r| r.get::<_, String>(0))
                .at(p)?
                .collect::<Result<Vec<_>, _>>()
                .at(p)?;
            services.extend(names.into_iter().filter(|n| !n.is_empty()).map(|n| {
                match n.split_once('/') {
                    Some((_, name)) if sql == INFO_JOBS && !name.is_empty() => name.to_string(),
                    _ => n,
                }
            }));
        }
        let services: Vec<String> = services.into_iter().collect();
        let (first, last): (Option<i64>, Option<i64>) = self
            .conn
            .query_row(INFO_RANGE, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .at(p)?;
        Ok(StoreInfo {
            path: p.display().to_string(),
            schema_version: schema::SCHEMA_VERSION,
            size_bytes: schema::file_bytes(p),
            spans: count(INFO_SPANS)?,
            traces: count(INFO_TRACES)?,
            logs: count("SELECT count(*) FROM logs")?,
            metric_points: count("SELECT coalesce(sum(samples), 0) FROM series")?,
            series: count("SELECT count(*) FROM series")?,
            exemplars: count("SELECT count(*) FROM exemplars")?,
            services,
            first: first.map(rfc3339),
            last: last.map(rfc3339),
        })
    }

    /// All spans of a trace, or `None` when the store has none of it.
    pub fn trace(&self, trace_id: &str) -> Result<Option<Trace>, StoreError> {
        let trace_id =
            normalize_trace_id(trace_id).map_err(|e| StoreError::InvalidQuery(e.to_string()))?;
        let p = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT service, data FROM span_chunks WHERE trace_id = ?1 ORDER BY id")
            .at(p)?;
        let mut rows = stmt.query([&trace_id]).at(p)?;
        let mut spans = Vec::new();
        let mut chunks = 0;
        while let Some(row) = rows.next().at(p)? {
            let service: String = row.get(0).at(p)?;
            let data = row
                .get_ref(1)
                .at(p)?
                .as_blob()
                .map_err(|e| self.corrupt(e.to_string()))?;
            chunks::spans_of(data, &service, &mut spans).map_err(|e| self.corrupt(e))?;
            chunks += 1;
        }
        if chunks == 0 {
            return Ok(None);
        }
        // A span sent again in a differently batched request is in two chunks: keep the first.
        let mut seen = HashSet::new();
        spans.retain(|s| seen.insert(s.span_id.clone()));
        spans.sort_by(|a, b| (a.start_unix_nano, &a.span_id).cmp(&(b.start_unix_nano, &b.span_id)));
        Ok(Some(Trace { trace_id, spans }))
    }

    /// Traces matching `q`, newest first.
    pub fn search_traces(&self, q: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        let (sql, args) = trace_search_sql(q);
        let p = &self.path;
        let mut stmt = self.conn.prepare_cached(&sql).at(p)?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                let start: i64 = r.get(3)?;
                let end: i64 = r.get(4)?;
                let spans: i64 = r.get(5)?;
                let errors: i64 = r.get(6)?;
                Ok(TraceSummary {
                    trace_id: r.get(0)?,
                    root_service: r.get(1)?,
                    root_name: r.get(2)?,
                    start_unix_nano: start,
                    duration_ms: end.saturating_sub(start) as f64 / 1e6,
                    span_count: Some(spans.max(0) as usize),
                    has_error: Some(errors > 0),
                })
            })
            .at(p)?
            .collect::<Result<Vec<_>, _>>()
            .at(p)?;
        Ok(rows)
    }

    /// Log records matching `q`, in `q.direction` order.
    pub fn logs(&self, q: &LogQuery) -> Result<Vec<LogRecord>, StoreError> {
        let (sql, args) = log_sql(q)?;
        let p = &self.path;
        let mut stmt = self.conn.prepare_cached(&sql).at(p)?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                ))
            })
            .at(p)?
            .collect::<Result<Vec<_>, _>>()
            .at(p)?;
        rows.into_iter()
            .map(
                |(ts, sev, sev_n, service, body, trace_id, span_id, attrs, resource, event)| {
                    let mut labels = string_labels(&resource).map_err(|e| self.corrupt(e))?;
                    labels.extend(string_labels(&attrs).map_err(|e| self.corrupt(e))?);
                    if !event.is_empty() {
                        labels.insert("event.name".into(), event);
                    }
                    Ok(LogRecord {
                        timestamp_unix_nano: ts,
                        severity: (!sev.is_empty()).then_some(sev),
                        severity_number: (sev_n != 0).then_some(sev_n),
                        service: Some(service),
                        body,
                        trace_id,
                        span_id,
                        labels,
                    })
                },
            )
            .collect()
    }

    /// Exemplars in `[start, end]` of the named series (a `__name__` such as
    /// `http_server_request_duration_seconds_bucket`, or a family name such as
    /// `http_server_request_duration_seconds`), oldest first.
    pub fn exemplars(
        &self,
        metric_names: &[String],
        start_unix_nano: i64,
        end_unix_nano: i64,
    ) -> Result<Vec<Exemplar>, StoreError> {
        let p = &self.path;
        let names = serde_json::to_string(metric_names).unwrap_or_else(|_| "[]".into());
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.labels, e.ts, e.value, e.trace_id, e.span_id, e.attributes
                 FROM exemplars e JOIN series s ON s.id = e.series_id
                 WHERE e.ts >= ?1 AND e.ts <= ?2
                   AND (s.metric_name IN (SELECT value FROM json_each(?3))
                        OR s.family IN (SELECT value FROM json_each(?3)))
                 ORDER BY e.ts, e.id",
            )
            .at(p)?;
        let rows = stmt
            .query_map(params![start_unix_nano, end_unix_nano, names], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<f64>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .at(p)?
            .collect::<Result<Vec<_>, _>>()
            .at(p)?;
        rows.into_iter()
            .map(|(series, ts, value, trace_id, span_id, attrs)| {
                let series_labels: Labels =
                    serde_json::from_str(&series).map_err(|e| self.corrupt(e.to_string()))?;
                let mut labels = string_labels(&attrs).map_err(|e| self.corrupt(e))?;
                if !trace_id.is_empty() {
                    labels.insert("trace_id".into(), trace_id);
                }
                if !span_id.is_empty() {
                    labels.insert("span_id".into(), span_id);
                }
                Ok(Exemplar {
                    series_labels,
                    labels,
                    value: value.unwrap_or(f64::NAN),
                    timestamp: ts as f64 / 1e9,
                })
            })
            .collect()
    }

    /// `__name__`s of the series with samples in `[start, end]`, sorted.
    pub fn metric_names(
        &self,
        start_unix_nano: i64,
        end_unix_nano: i64,
    ) -> Result<Vec<String>, StoreError> {
        let p = &self.path;
        self.conn
            .prepare_cached(
                "SELECT DISTINCT metric_name FROM series
                 WHERE first_ts <= ?2 AND last_ts >= ?1 ORDER BY metric_name",
            )
            .at(p)?
            .query_map(params![start_unix_nano, end_unix_nano], |r| r.get(0))
            .at(p)?
            .collect::<Result<Vec<_>, _>>()
            .at(p)
    }

    /// Every series named `metric_name` with its samples in `[start, end]`, series with no
    /// sample there left out; ordered by labels, samples by time.
    pub fn series(
        &self,
        metric_name: &str,
        start_unix_nano: i64,
        end_unix_nano: i64,
    ) -> Result<Vec<RawSeries>, StoreError> {
        let p = &self.path;
        // One read transaction: every chunk read is of the same commit, even while the sink
        // writes (a reader never sees half of a group).
        let tx = self.conn.unchecked_transaction().at(p)?;
        let list: Vec<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, labels FROM series
                 WHERE metric_name = ?1 AND first_ts <= ?3 AND last_ts >= ?2 ORDER BY labels",
            )
            .at(p)?
            .query_map(params![metric_name, start_unix_nano, end_unix_nano], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .at(p)?
            .collect::<Result<_, _>>()
            .at(p)?;
        let mut out = Vec::with_capacity(list.len());
        for (id, labels) in list {
            let labels: Labels =
                serde_json::from_str(&labels).map_err(|e| self.corrupt(e.to_string()))?;
            let mut samples = Vec::new();
            for chunk in
                samples::chunks_in_window(&self.conn, id, start_unix_nano, end_unix_nano).at(p)?
            {
                let decoded = gorilla::decode(&chunk.data)
                    .and_then(|d| match (d.first(), d.last()) {
                        (Some(f), Some(l)) if f.0 == chunk.start && l.0 == chunk.end => Ok(d),
                        _ => Err("its samples do not span the chunk's recorded time range".into()),
                    })
                    .map_err(|e| {
                        self.corrupt(format!(
                            "the samples of series {} from {} to {} (chunk {}) cannot be decoded: {e}; the file is damaged: restore it from a copy, or query a window without these samples",
                            series_text(&labels),
                            rfc3339(chunk.start),
                            rfc3339(chunk.end),
                            chunk.id
                        ))
                    })?;
                samples.extend(
                    decoded
                        .into_iter()
                        .filter(|(t, _)| (start_unix_nano..=end_unix_nano).contains(t))
                        .map(|(t, bits)| (t, f64::from_bits(bits))),
                );
            }
            if !samples.is_empty() {
                out.push(RawSeries { labels, samples });
            }
        }
        tx.commit().at(p)?;
        Ok(out)
    }

    /// Type, unit and help of a metric family (by Prometheus family name), when known.
    pub fn metric_metadata(
        &self,
        family: &str,
    ) -> Result<Option<(String, String, String)>, StoreError> {
        self.conn
            .prepare_cached("SELECT type, unit, help FROM metric_families WHERE name = ?1")
            .at(&self.path)?
            .query_row([family], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
            .at(&self.path)
    }
}

/// The time range held, for `info`. One min() or max() per SELECT: SQLite answers each from
/// an end of an index, while both in one SELECT scan the table.
const INFO_RANGE: &str = "SELECT min(lo), max(hi) FROM (
    SELECT (SELECT min(start_ns) FROM span_chunks) AS lo,
           (SELECT max(end_ns) FROM span_chunks) AS hi
    UNION ALL SELECT (SELECT min(ts) FROM logs), (SELECT max(ts) FROM logs)
    UNION ALL SELECT min(first_ts), max(last_ts) FROM series)";
/// Services of span and log resources, for `info`.
const INFO_SERVICES: &str = "SELECT DISTINCT service FROM resources";
/// Jobs of metric series, for `info`.
const INFO_JOBS: &str = "SELECT DISTINCT json_extract(labels, '$.job') FROM series
    WHERE json_extract(labels, '$.job') IS NOT NULL";
/// Spans and traces, for `info`: each scans an index (`span_chunks_by_end` carries
/// `span_count`), not the chunks themselves.
const INFO_SPANS: &str = "SELECT coalesce(sum(span_count), 0) FROM span_chunks";
const INFO_TRACES: &str = "SELECT count(DISTINCT trace_id) FROM span_chunks";

/// A stored attribute object as string labels (strings verbatim, other values as JSON).
fn string_labels(json: &str) -> Result<Labels, String> {
    let map: HashMap<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|e| e.to_string())?;
    Ok(map
        .into_iter()
        .map(|(k, v)| (k, super::convert::json_text(&v)))
        .collect())
}

/// `name{a="1", b="2"}`, for messages.
fn series_text(labels: &Labels) -> String {
    let name = labels.get("__name__").map(String::as_str).unwrap_or("");
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{name}{{{}}}", rest.join(", "))
}

fn rfc3339(nanos: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(nanos))
        .map(|t| t.to_string())
        .unwrap_or_else(|_| nanos.to_string())
}

/// The search query with only the filters `q` uses, so that SQLite can pick the index for
/// each (an `?1 IS NULL OR …` condition would hide it from the planner).
fn trace_search_sql(q: &TraceQuery) -> (String, Vec<SqlValue>) {
    let mut conds = Vec::new();
    let mut args = Vec::new();
    let arg = |args: &mut Vec<SqlValue>, v: SqlValue| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(start) = q.start_unix_nano {
        conds.push(format!("t.end_ns >= {}", arg(&mut args, start.into())));
    }
    if let Some(end) = q.end_unix_nano {
        conds.push(format!("t.start_ns <= {}", arg(&mut args, end.into())));
    }
    if let Some(d) = q.min_duration {
        let nanos = d.as_nanos().min(i64::MAX as u128) as i64;
        conds.push(format!(
            "t.end_ns - t.start_ns >= {}",
            arg(&mut args, nanos.into())
        ));
    }
    if q.errors_only {
        conds.push("t.error_count > 0".to_string());
    }
    if q.service.is_some() || q.operation.is_some() {
        let mut inner = vec!["x.trace_id = t.trace_id".to_string()];
        if let Some(service) = &q.service {
            inner.push(format!(
                "x.service = {}",
                arg(&mut args, service.clone().into())
            ));
        }
        if let Some(op) = &q.operation {
            let needle = format!("\n{op}\n");
            inner.push(format!(
                "instr(x.names, {}) > 0",
                arg(&mut args, needle.into())
            ));
        }
        conds.push(format!(
            "EXISTS (SELECT 1 FROM span_chunks x WHERE {})",
            inner.join(" AND ")
        ));
    }
    // A trace is the aggregate of its chunks. With a start time, only traces with a chunk
    // ending after it are aggregated (an index range), which every match has.
    let prefilter = match q.start_unix_nano {
        Some(start) => format!(
            "WHERE c.trace_id IN (SELECT trace_id FROM span_chunks WHERE end_ns >= {})",
            arg(&mut args, start.into())
        ),
        None => String::new(),
    };
    let limit = if q.limit == 0 { -1 } else { q.limit as i64 };
    let limit = arg(&mut args, limit.into());
    let sql = format!(
        "WITH t AS (
            SELECT c.trace_id,
                   max(CASE WHEN c.root_name IS NOT NULL THEN c.service END) AS root_service,
                   max(c.root_name) AS root_name,
                   min(c.start_ns) AS start_ns, max(c.end_ns) AS end_ns,
                   sum(c.span_count) AS span_count, sum(c.error_count) AS error_count
            FROM span_chunks c {prefilter}
            GROUP BY c.trace_id)
         SELECT t.trace_id, t.root_service, t.root_name, t.start_ns, t.end_ns, t.span_count,
                t.error_count
         FROM t {}
         ORDER BY t.start_ns DESC, t.trace_id LIMIT {limit}",
        where_clause(&conds)
    );
    (sql, args)
}

fn log_sql(q: &LogQuery) -> Result<(String, Vec<SqlValue>), StoreError> {
    let mut conds = Vec::new();
    let mut args = Vec::new();
    let arg = |args: &mut Vec<SqlValue>, v: SqlValue| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(id) = &q.trace_id {
        let id = normalize_trace_id(id).map_err(|e| StoreError::InvalidQuery(e.to_string()))?;
        conds.push(format!("l.trace_id = {}", arg(&mut args, id.into())));
    }
    if let Some(service) = &q.service {
        conds.push(format!(
            "l.service = {}",
            arg(&mut args, service.clone().into())
        ));
    }
    if let Some(start) = q.start_unix_nano {
        conds.push(format!("l.ts >= {}", arg(&mut args, start.into())));
    }
    if let Some(end) = q.end_unix_nano {
        conds.push(format!("l.ts <= {}", arg(&mut args, end.into())));
    }
    if let Some(sev) = q.min_severity_number {
        conds.push(format!(
            "l.severity_number >= {}",
            arg(&mut args, sev.into())
        ));
    }
    if let Some(text) = &q.contains {
        conds.push(format!(
            "instr(l.body, {}) > 0",
            arg(&mut args, text.clone().into())
        ));
    }
    let order = match q.direction {
        Direction::Forward => "ASC",
        Direction::Backward => "DESC",
    };
    let limit = if q.limit == 0 { -1 } else { q.limit as i64 };
    let limit = arg(&mut args, limit.into());
    let sql = format!(
        "SELECT l.ts, l.severity_text, l.severity_number, l.service, l.body, l.trace_id,
                l.span_id, l.attributes, r.attributes, l.event_name
         FROM logs l JOIN resources r ON r.id = l.resource_id {}
         ORDER BY l.ts {order}, l.id {order} LIMIT {limit}",
        where_clause(&conds)
    );
    Ok((sql, args))
}

fn where_clause(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(conn: &Connection, sql: &str, args: Vec<SqlValue>) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join(" | ")
    }

    #[test]
    fn queries_use_the_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let conn = schema::open_read_write(&dir.path().join("s.db")).unwrap();
        // `store info` on a store of gigabytes must not read every chunk: the time range comes
        // from index ends, the counts from scanning an index.
        let p = plan(&conn, INFO_RANGE, Vec::new());
        assert!(
            !p.contains("SCAN span_chunks") && !p.contains("SCAN logs"),
            "{p}"
        );
        for sql in [INFO_SPANS, INFO_TRACES] {
            let p = plan(&conn, sql, Vec::new());
            assert!(p.contains("COVERING INDEX"), "{sql}: {p}");
        }
        let p = plan(&conn, super::super::retention::TIME_RANGE, Vec::new());
        assert!(!p.contains("SCAN span_chunks"), "{p}");
        let (sql, args) = log_sql(&LogQuery {
            trace_id: Some("ab".repeat(16)),
            ..Default::default()
        })
        .unwrap();
        assert!(plan(&conn, &sql, args).contains("logs_by_trace"));
        let (sql, args) = log_sql(&LogQuery {
            service: Some("api".into()),
            start_unix_nano: Some(1),
            ..Default::default()
        })
        .unwrap();
        assert!(plan(&conn, &sql, args).contains("logs_by_service_ts"));
        let (sql, args) = trace_search_sql(&TraceQuery {
            start_unix_nano: Some(1),
            end_unix_nano: Some(2),
            service: Some("api".into()),
            limit: 20,
            ..Default::default()
        });
        let p = plan(&conn, &sql, args);
        assert!(
            p.contains("span_chunks_by_end") && p.contains("span_chunks_by_trace"),
            "{p}"
        );
    }
}
