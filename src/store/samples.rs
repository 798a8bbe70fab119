//! Metric samples in chunks: each series' samples, in time order, in rows of `sample_chunks`
//! of up to [`CHUNK_SAMPLES`] samples encoded by [`gorilla`](super::gorilla).
//!
//! It owns the writer's open ("head") chunk of each series ([`Heads`]), the read of a series'
//! samples in a window, the retention of old samples, and the conversion of schema-v2 `points`
//! rows. It does not know OTLP or series labels (`ingest.rs` resolves those to series ids).
//!
//! Invariants: the chunks of one series do not overlap in time, and hold each timestamp at
//! most once (a retried sample is a duplicate, not a second sample). A sample later than the
//! series' head goes to the head, which is written once per group commit; an out-of-order
//! sample goes to the chunk whose time range it falls in (or the nearest), rewritten at once.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use rusqlite::{Connection, OptionalExtension, params};

use super::gorilla;
use super::read::STALE_NAN_BITS;

/// Samples per chunk before a new one is started (Prometheus cuts its chunks at 120 too).
pub(crate) const CHUNK_SAMPLES: usize = 120;

/// Heads cached beyond this many series are dropped after a commit (and read again when
/// needed), so that a store with millions of series does not hold them all in memory.
const MAX_CACHED_HEADS: usize = 200_000;

/// The bits a sample is stored with: staleness markers as Prometheus's stale NaN, any other
/// NaN as the canonical NaN (so a NaN sent by a client never reads back as a marker).
pub(crate) fn stored_bits(value: f64, stale: bool) -> u64 {
    if stale {
        STALE_NAN_BITS
    } else if value.is_nan() {
        f64::NAN.to_bits()
    } else {
        value.to_bits()
    }
}

/// The open chunk of one series, as the writer holds it between commits.
#[derive(Debug, Default)]
struct Head {
    /// Its row, once written.
    id: Option<i64>,
    /// Samples at or before this time belong to older chunks.
    floor: i64,
    samples: Vec<(i64, u64)>,
    /// `samples` encoded, kept up to date while samples are appended in order (`None` after an
    /// out-of-order insert: built again at the next flush).
    encoded: Option<gorilla::Appender>,
    /// Holds samples not yet written to its row.
    dirty: bool,
}

/// The writer's heads, valid only for committed data: cleared (with the other caches) when a
/// transaction rolls back or retention rewrote chunks.
#[derive(Debug, Default)]
pub(crate) struct Heads {
    map: HashMap<i64, Head>,
}

impl Heads {
    /// Adds one sample of `series`; `false` when the series already has a sample at `ts`.
    pub(crate) fn add(
        &mut self,
        conn: &Connection,
        series: i64,
        ts: i64,
        bits: u64,
    ) -> rusqlite::Result<bool> {
        let head = match self.map.entry(series) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(load_head(conn, series)?),
        };
        if ts > head.floor {
            match head.samples.last() {
                Some(&(last, _)) if ts <= last => {
                    match head.samples.binary_search_by_key(&ts, |s| s.0) {
                        Ok(_) => return Ok(false),
                        Err(i) => head.samples.insert(i, (ts, bits)),
                    }
                    head.encoded = None;
                }
                _ => {
                    head.samples.push((ts, bits));
                    if let Some(a) = &mut head.encoded
                        && !a.push(ts, bits)
                    {
                        head.encoded = None;
                    }
                }
            }
            head.dirty = true;
            return Ok(true);
        }
        add_to_older_chunk(conn, series, ts, bits)
    }

    /// Writes every head that changed; call before COMMIT. Full heads are closed: the next
    /// sample of their series starts a new chunk.
    pub(crate) fn flush(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut update = conn.prepare_cached(
            "UPDATE sample_chunks SET start_ts = ?2, end_ts = ?3, count = ?4, data = ?5
             WHERE id = ?1",
        )?;
        let mut insert = conn.prepare_cached(
            "INSERT INTO sample_chunks (series_id, start_ts, end_ts, count, data)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (&series, head) in self.map.iter_mut().filter(|(_, h)| h.dirty) {
            let (Some(first), Some(last)) = (head.samples.first(), head.samples.last()) else {
                continue;
            };
            let (start, end, count) = (first.0, last.0, head.samples.len() as i64);
            let samples = &head.samples;
            let data = head
                .encoded
                .get_or_insert_with(|| gorilla::Appender::new(samples))
                .bytes();
            match head.id {
                Some(id) => {
                    update.execute(params![id, start, end, count, data])?;
                }
                None => {
                    insert.execute(params![series, start, end, count, data])?;
                    head.id = Some(conn.last_insert_rowid());
                }
            }
            head.dirty = false;
            if head.samples.len() >= CHUNK_SAMPLES {
                *head = Head {
                    id: None,
                    floor: end,
                    samples: Vec::new(),
                    encoded: Some(gorilla::Appender::new(&[])),
                    dirty: false,
                };
            }
        }
        if self.map.len() > MAX_CACHED_HEADS {
            self.map.clear();
        }
        Ok(())
    }
}

/// The newest chunk of `series` as its head (a new, empty head if that chunk is full).
fn load_head(conn: &Connection, series: i64) -> rusqlite::Result<Head> {
    let newest: Option<(i64, i64, i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT id, start_ts, end_ts, data FROM sample_chunks
             WHERE series_id = ?1 ORDER BY start_ts DESC LIMIT 1",
        )?
        .query_row([series], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((id, start, end, data)) = newest else {
        return Ok(Head {
            floor: i64::MIN,
            ..Head::default()
        });
    };
    let samples = decode_for_write(series, id, &data)?;
    if samples.len() >= CHUNK_SAMPLES {
        return Ok(Head {
            floor: end,
            ..Head::default()
        });
    }
    let floor: Option<i64> = conn
        .prepare_cached(
            "SELECT max(end_ts) FROM sample_chunks WHERE series_id = ?1 AND start_ts < ?2",
        )?
        .query_row(params![series, start], |r| r.get(0))?;
    Ok(Head {
        id: Some(id),
        floor: floor.unwrap_or(i64::MIN),
        encoded: Some(gorilla::Appender::new(&samples)),
        samples,
        dirty: false,
    })
}

/// An out-of-order sample, older than the head: merged into the chunk whose range holds it, or
/// the chunk before it (the first chunk, for a sample older than all), rewritten now.
fn add_to_older_chunk(
    conn: &Connection,
    series: i64,
    ts: i64,
    bits: u64,
) -> rusqlite::Result<bool> {
    let chunk: Option<(i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT id, data FROM sample_chunks WHERE series_id = ?1 AND start_ts <= ?2
             ORDER BY start_ts DESC LIMIT 1",
        )?
        .query_row(params![series, ts], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let chunk = match chunk {
        Some(c) => Some(c),
        None => conn
            .prepare_cached(
                "SELECT id, data FROM sample_chunks WHERE series_id = ?1
                 ORDER BY start_ts LIMIT 1",
            )?
            .query_row([series], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
    };
    let Some((id, data)) = chunk else {
        // Cannot happen (a head with a floor follows a chunk); store it as a chunk of its own.
        conn.prepare_cached(
            "INSERT INTO sample_chunks (series_id, start_ts, end_ts, count, data)
             VALUES (?1, ?2, ?2, 1, ?3)",
        )?
        .execute(params![series, ts, gorilla::encode(&[(ts, bits)])])?;
        return Ok(true);
    };
    let mut samples = decode_for_write(series, id, &data)?;
    match samples.binary_search_by_key(&ts, |s| s.0) {
        Ok(_) => return Ok(false),
        Err(i) => samples.insert(i, (ts, bits)),
    }
    write_chunk(conn, id, &samples)?;
    Ok(true)
}

fn write_chunk(conn: &Connection, id: i64, samples: &[(i64, u64)]) -> rusqlite::Result<()> {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        conn.prepare_cached("DELETE FROM sample_chunks WHERE id = ?1")?
            .execute([id])?;
        return Ok(());
    };
    conn.prepare_cached(
        "UPDATE sample_chunks SET start_ts = ?2, end_ts = ?3, count = ?4, data = ?5 WHERE id = ?1",
    )?
    .execute(params![
        id,
        first.0,
        last.0,
        samples.len() as i64,
        gorilla::encode(samples)
    ])?;
    Ok(())
}

/// A chunk the writer must change but cannot read fails the transaction, naming it: nothing
/// is written over data that might still be recovered.
fn decode_for_write(series: i64, id: i64, data: &[u8]) -> rusqlite::Result<Vec<(i64, u64)>> {
    gorilla::decode(data).map_err(|e| {
        rusqlite::Error::InvalidParameterName(format!(
            "sample chunk {id} of series {series} cannot be decoded ({e})"
        ))
    })
}

/// One stored chunk as the read path sees it.
pub(crate) struct StoredChunk {
    pub id: i64,
    pub start: i64,
    pub end: i64,
    pub data: Vec<u8>,
}

/// The chunks of `series` that overlap `[start, end]`, in time order. The range scan starts
/// at the last chunk beginning at or before `start` (chunks do not overlap), so it reads
/// only what the window needs.
pub(crate) const CHUNKS_IN_WINDOW: &str = "SELECT id, start_ts, end_ts, data FROM sample_chunks
     WHERE series_id = ?1 AND start_ts <= ?3
       AND start_ts >= coalesce((SELECT max(start_ts) FROM sample_chunks
                                 WHERE series_id = ?1 AND start_ts <= ?2), ?2)
     ORDER BY start_ts";

pub(crate) fn chunks_in_window(
    conn: &Connection,
    series: i64,
    start: i64,
    end: i64,
) -> rusqlite::Result<Vec<StoredChunk>> {
    conn.prepare_cached(CHUNKS_IN_WINDOW)?
        .query_map(params![series, start, end], |r| {
            Ok(StoredChunk {
                id: r.get(0)?,
                start: r.get(1)?,
                end: r.get(2)?,
                data: r.get(3)?,
            })
        })?
        .filter(|c| c.as_ref().map_or(true, |c| c.end >= start))
        .collect()
}

/// Retention for one series: deletes its chunks that end before `cutoff` and drops the older
/// samples of the chunk `cutoff` falls in. Returns (samples deleted, oldest sample left).
pub(crate) fn delete_before(
    conn: &Connection,
    series: i64,
    cutoff: i64,
) -> rusqlite::Result<(u64, Option<i64>)> {
    let old: Vec<(i64, i64)> = conn
        .prepare_cached("SELECT id, count FROM sample_chunks WHERE series_id = ?1 AND end_ts < ?2")?
        .query_map(params![series, cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut deleted = 0u64;
    {
        let mut delete = conn.prepare_cached("DELETE FROM sample_chunks WHERE id = ?1")?;
        for (id, count) in old {
            delete.execute([id])?;
            deleted += count.max(0) as u64;
        }
    }
    let straddling: Option<(i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT id, data FROM sample_chunks WHERE series_id = ?1 AND start_ts < ?2
             ORDER BY start_ts LIMIT 1",
        )?
        .query_row(params![series, cutoff], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((id, data)) = straddling {
        let mut samples = decode_for_write(series, id, &data)?;
        let before = samples.len();
        samples.retain(|s| s.0 >= cutoff);
        deleted += (before - samples.len()) as u64;
        write_chunk(conn, id, &samples)?;
    }
    let first: Option<i64> = conn
        .prepare_cached("SELECT min(start_ts) FROM sample_chunks WHERE series_id = ?1")?
        .query_row([series], |r| r.get(0))?;
    Ok((deleted, first))
}

/// The schema-v2 → v3 step: every series' `points` rows become chunks (the samples as they
/// were: NULL as NaN, `stale` as the stale NaN), and the `points` table is dropped.
pub(crate) fn migrate_v2_points(conn: &Connection) -> rusqlite::Result<()> {
    let series: Vec<i64> = conn
        .prepare("SELECT id FROM series ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut points =
        conn.prepare("SELECT ts, value, stale FROM points WHERE series_id = ?1 ORDER BY ts")?;
    let mut insert = conn.prepare(
        "INSERT INTO sample_chunks (series_id, start_ts, end_ts, count, data)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut count = conn.prepare("UPDATE series SET samples = ?2 WHERE id = ?1")?;
    for id in series {
        let samples: Vec<(i64, u64)> = points
            .query_map([id], |r| {
                let ts: i64 = r.get(0)?;
                let value: Option<f64> = r.get(1)?;
                let stale: bool = r.get(2)?;
                Ok((ts, stored_bits(value.unwrap_or(f64::NAN), stale)))
            })?
            .collect::<Result<_, _>>()?;
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
        count.execute(params![id, samples.len() as i64])?;
    }
    drop(points);
    conn.execute_batch("DROP TABLE points")?;
    Ok(())
}
