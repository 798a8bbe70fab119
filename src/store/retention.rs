//! Retention: deleting data older than `max_age`, and the oldest data while the file uses more
//! than `max_size_bytes`. Runs on the writer thread between group commits, in bounded chunks
//! (one short transaction each), so that it never holds up acknowledgements for long.
//!
//! Traces are deleted whole, by the end of their last span: a trace is never left with some of
//! its spans. Logs, samples and exemplars go by their own timestamps.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, TransactionBehavior, params};

use super::{Retention, samples, schema};

/// Rows (traces, logs, exemplars) deleted per table per step, at most.
const CHUNK: i64 = 5_000;
/// Series whose old samples one step deletes, at most.
const SERIES_CHUNK: i64 = 500;
/// How often age limits are checked while data keeps arriving.
const AGE_INTERVAL: Duration = Duration::from_secs(10);
/// How often the size limit is checked while data keeps arriving.
const SIZE_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    pub deleted_rows: u64,
    /// Whole series were deleted (the writer's series-id cache is stale).
    pub series_removed: bool,
    /// Sample chunks were deleted or rewritten (the writer's open chunks are stale).
    pub samples_changed: bool,
    /// A chunk limit was reached: more is due.
    pub more: bool,
}

/// Decides when to run a step; owned by the writer thread.
pub(crate) struct Runner {
    config: Retention,
    last_age: Option<Instant>,
    last_size: Option<Instant>,
    evicting: bool,
    more: bool,
}

impl Runner {
    pub(crate) fn new(config: Retention) -> Runner {
        Runner {
            config,
            last_age: None,
            last_size: None,
            evicting: false,
            more: false,
        }
    }

    /// Runs a step if one is due (always when `idle`, unless nothing is configured). With
    /// `low_space` (the file system is under the sink's free-space floor) and a size limit,
    /// the oldest data is deleted as if the file were over its limit.
    pub(crate) fn maybe_run(
        &mut self,
        conn: &mut Connection,
        idle: bool,
        low_space: bool,
    ) -> rusqlite::Result<Step> {
        let low_space = low_space && self.config.max_size_bytes.is_some();
        let due =
            |last: Option<Instant>, every: Duration| last.is_none_or(|t| t.elapsed() >= every);
        let age_due = self.config.max_age.is_some()
            && (idle || self.more || due(self.last_age, AGE_INTERVAL));
        let size_due = self.config.max_size_bytes.is_some()
            && (idle
                || self.more
                || self.evicting
                || low_space
                || due(self.last_size, SIZE_INTERVAL));
        if !age_due && !size_due {
            return Ok(Step::default());
        }
        let now = Instant::now();
        if age_due {
            self.last_age = Some(now);
        }
        if size_due {
            self.last_size = Some(now);
        }
        let step = if low_space {
            let config = Retention {
                max_size_bytes: Some(schema::used_bytes(conn)?.saturating_sub(1).max(1)),
                ..self.config.clone()
            };
            // No vacuum: moving pages to shorten the file writes them all to the WAL, on a
            // disk that has no room for it. The freed pages are reused by new data, and
            // count as free space for the floor.
            step_with(conn, &config, now_nanos(), &mut self.evicting, false)?
        } else {
            step(conn, &self.config, now_nanos(), &mut self.evicting)?
        };
        self.more = step.more || self.evicting;
        Ok(step)
    }
}

fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

/// One bounded retention step at time `now` (unix nanos).
pub(crate) fn step(
    conn: &mut Connection,
    config: &Retention,
    now: i64,
    evicting: &mut bool,
) -> rusqlite::Result<Step> {
    step_with(conn, config, now, evicting, true)
}

/// [`step`], giving freed pages back to the file system (`vacuum`) or keeping them for reuse.
fn step_with(
    conn: &mut Connection,
    config: &Retention,
    now: i64,
    evicting: &mut bool,
    vacuum: bool,
) -> rusqlite::Result<Step> {
    let mut cutoff = config
        .max_age
        .map(|age| now.saturating_sub(age.as_nanos().min(i64::MAX as u128) as i64));
    if let Some(max) = config.max_size_bytes {
        let used = schema::used_bytes(conn)?;
        if used > max {
            *evicting = true;
        } else if used <= max / 10 * 9 {
            *evicting = false;
        }
        if *evicting {
            // Delete the oldest twentieth of the time range held, then measure again.
            if let Some((oldest, newest)) = time_range(conn)? {
                let c = oldest.saturating_add(((newest - oldest) / 20).max(1));
                cutoff = Some(cutoff.map_or(c, |a| a.max(c)));
            } else {
                *evicting = false;
            }
        }
    }
    let Some(cutoff) = cutoff else {
        return Ok(Step::default());
    };
    let step = delete_before(conn, cutoff)?;
    if vacuum && step.deleted_rows > 0 {
        // Give the freed pages back to the file system (auto_vacuum = INCREMENTAL).
        conn.execute_batch("PRAGMA incremental_vacuum")?;
    }
    Ok(step)
}

/// The oldest and newest trace end, log record or sample time. One min() or max() per SELECT:
/// each is then an index lookup, not a scan.
pub(super) const TIME_RANGE: &str = "SELECT min(lo), max(hi) FROM (
    SELECT (SELECT min(end_ns) FROM span_chunks) AS lo,
           (SELECT max(end_ns) FROM span_chunks) AS hi
    UNION ALL SELECT (SELECT min(ts) FROM logs), (SELECT max(ts) FROM logs)
    UNION ALL SELECT min(first_ts), max(last_ts) FROM series)";

/// The oldest and newest timestamps of any trace end, log record or sample.
fn time_range(conn: &Connection) -> rusqlite::Result<Option<(i64, i64)>> {
    conn.query_row(TIME_RANGE, [], |r| {
        let lo: Option<i64> = r.get(0)?;
        let hi: Option<i64> = r.get(1)?;
        Ok(lo.zip(hi))
    })
}

/// Deletes (a chunk of) everything older than `cutoff` in one transaction.
pub(crate) fn delete_before(conn: &mut Connection, cutoff: i64) -> rusqlite::Result<Step> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut step = Step::default();

    // Whole traces: those with a chunk that ended before the cutoff and none after it.
    let traces: Vec<String> = tx
        .prepare_cached(
            "SELECT DISTINCT c.trace_id FROM span_chunks c
             WHERE c.end_ns < ?1
               AND NOT EXISTS (SELECT 1 FROM span_chunks x WHERE x.trace_id = c.trace_id AND x.end_ns >= ?1)
             ORDER BY c.end_ns LIMIT ?2",
        )?
        .query_map(params![cutoff, CHUNK], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    step.more |= traces.len() as i64 == CHUNK;
    {
        let mut chunks = tx.prepare_cached("DELETE FROM span_chunks WHERE trace_id = ?1")?;
        for id in &traces {
            step.deleted_rows += chunks.execute([id])? as u64;
        }
    }

    let logs = tx.execute(
        "DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
        params![cutoff, CHUNK],
    )?;
    step.more |= logs as i64 == CHUNK;
    step.deleted_rows += logs as u64;

    let exemplars = tx.execute(
        "DELETE FROM exemplars WHERE id IN (SELECT id FROM exemplars WHERE ts < ?1 LIMIT ?2)",
        params![cutoff, CHUNK],
    )?;
    step.more |= exemplars as i64 == CHUNK;
    step.deleted_rows += exemplars as u64;

    let series: Vec<i64> = tx
        .prepare_cached("SELECT id FROM series WHERE first_ts < ?1 LIMIT ?2")?
        .query_map(params![cutoff, SERIES_CHUNK], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    step.more |= series.len() as i64 == SERIES_CHUNK;
    {
        let mut update = tx.prepare_cached(
            "UPDATE series SET first_ts = ?2, samples = max(samples - ?3, 0) WHERE id = ?1",
        )?;
        let mut remove = tx.prepare_cached("DELETE FROM series WHERE id = ?1")?;
        for id in series {
            let (deleted, first) = samples::delete_before(&tx, id, cutoff)?;
            step.deleted_rows += deleted;
            step.samples_changed |= deleted > 0;
            match first {
                Some(ts) => {
                    update.execute(params![id, ts, deleted as i64])?;
                }
                None => {
                    step.deleted_rows += remove.execute([id])? as u64;
                    step.series_removed = true;
                }
            }
        }
    }

    // A delta stream idle for longer than retention starts over (Prometheus sees a reset).
    step.deleted_rows += tx.execute("DELETE FROM delta_state WHERE last_ts < ?1", [cutoff])? as u64;
    tx.commit()?;
    Ok(step)
}
