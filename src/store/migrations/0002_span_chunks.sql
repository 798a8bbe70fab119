-- obs store, schema version 2: spans are kept in chunks.
--
-- A chunk is one trace's spans from one resource of one export request. `data` is the OTLP
-- protobuf message `opentelemetry.proto.trace.v1.ResourceSpans` holding them — resource,
-- scopes and every span field exactly as received. The other columns are what search needs.
-- A request of 512 spans from 32 traces is 32 rows instead of 512, which is what lets one
-- writer keep up with many clients (docs/store.md, "Speed").
--
-- The schema-v1 `spans` rows are converted into chunks and the `spans` table is dropped by
-- the Rust step of this migration (`store::chunks::migrate_v1_spans`), in the same
-- transaction. `traces` (one summary row per trace) is unchanged.

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
    -- The distinct span names, each between newlines: "\nGET /\nSELECT\n".
    names          TEXT NOT NULL,
    data           BLOB NOT NULL
);
-- Trace by id, and retries as no-ops. The only index a chunk insert touches.
CREATE UNIQUE INDEX span_chunks_by_trace ON span_chunks (trace_id, span_ids_hash);
