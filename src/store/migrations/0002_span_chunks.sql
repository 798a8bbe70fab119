-- obs store, schema version 2: spans are kept in chunks.
--
-- A chunk is one trace's spans from one resource of one export request. `data` is the OTLP
-- protobuf message `opentelemetry.proto.trace.v1.ResourceSpans` holding them — resource,
-- scopes and every span field exactly as received. The other columns are what search needs.
-- A request of 512 spans from 32 traces is 32 rows instead of 512, which is what lets one
-- writer keep up with many clients (docs/store.md, "Speed").
--
-- There is no per-trace table any more: a trace's summary (start, end, span and error counts,
-- root) is aggregated from its chunks when searched. A per-trace row keyed by a random trace id
-- cost one more random B-tree page per new trace and commit — a quarter of what the writer
-- wrote at full load.
--
-- The schema-v1 `spans` rows are converted into chunks, and the `spans` and `traces` tables
-- dropped, by the Rust step of this migration (`store::chunks::migrate_v1_spans`), in the
-- same transaction.

CREATE TABLE span_chunks (
    id             INTEGER PRIMARY KEY,
    trace_id       TEXT NOT NULL,
    -- A hash of the chunk's span ids: a retried request is recognised and not stored twice.
    span_ids_hash  INTEGER NOT NULL,
    service        TEXT NOT NULL,
    start_ns       INTEGER NOT NULL,
    end_ns         INTEGER NOT NULL,
    span_count     INTEGER NOT NULL,
    error_count    INTEGER NOT NULL,
    -- The name of the trace's root span when this chunk holds it, else NULL.
    root_name      TEXT,
    -- The distinct span names, each between newlines: "\nGET /\nSELECT\n".
    names          TEXT NOT NULL,
    data           BLOB NOT NULL
);
-- Trace by id, and retries as no-ops: the one index that takes random keys.
CREATE UNIQUE INDEX span_chunks_by_trace ON span_chunks (trace_id, span_ids_hash);
-- Search by time and retention; spans arrive roughly in time order, so these are appends.
-- `span_count` rides along so that counting spans scans this index, not the table.
CREATE INDEX span_chunks_by_start ON span_chunks (start_ns);
CREATE INDEX span_chunks_by_end ON span_chunks (end_ns, span_count);
