-- obs store, schema version 3: metric samples are kept in chunks.
--
-- A chunk is up to 120 consecutive samples of one series, `data` encoded with delta-of-delta
-- timestamps and XOR-compressed values (Gorilla, as Prometheus's chunks; `store/gorilla.rs`
-- has the format). One row per sample in `points` took ~30 bytes of file per sample; a chunk
-- takes one to three bytes per sample. The chunks of a series never overlap in time.
--
-- The schema-v2 `points` rows are converted into chunks, and the table dropped, by the Rust
-- step of this migration (`store::samples::migrate_v2_points`), in the same transaction.

CREATE TABLE sample_chunks (
    id          INTEGER PRIMARY KEY,
    series_id   INTEGER NOT NULL,
    -- First and last sample time of the chunk (unix nanoseconds).
    start_ts    INTEGER NOT NULL,
    end_ts      INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    data        BLOB NOT NULL
);
-- A series' chunks in time order: reads take the range a window needs. The writer rewrites a
-- series' newest chunk at each commit without moving this entry (its start stays put).
CREATE UNIQUE INDEX sample_chunks_by_series ON sample_chunks (series_id, start_ts);

-- Samples held per series, kept by the writer and retention: `store info` sums this column
-- instead of reading every chunk.
ALTER TABLE series ADD COLUMN samples INTEGER NOT NULL DEFAULT 0;
