-- obs store, schema version 1.
--
-- Times are unix nanoseconds (INTEGER). Ids are lowercase hex TEXT (trace 32, span 16).
-- Attribute sets are JSON objects (TEXT) whose values keep their OTLP type.
-- Metric values are REAL; NULL means NaN (SQLite cannot store NaN), and `stale` = 1 marks a
-- Prometheus staleness marker (an OTLP point flagged NoRecordedValue).

-- Resources and instrumentation scopes, stored once and referenced by spans, logs and series.
CREATE TABLE resources (
    id          INTEGER PRIMARY KEY,
    hash        BLOB NOT NULL UNIQUE,
    service     TEXT NOT NULL,
    attributes  TEXT NOT NULL,
    dropped_attributes_count INTEGER NOT NULL DEFAULT 0,
    schema_url  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE scopes (
    id          INTEGER PRIMARY KEY,
    hash        BLOB NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    attributes  TEXT NOT NULL,
    dropped_attributes_count INTEGER NOT NULL DEFAULT 0,
    schema_url  TEXT NOT NULL DEFAULT ''
);

-- One row per trace, maintained by the writer: search and retention work on whole traces.
CREATE TABLE traces (
    trace_id      TEXT PRIMARY KEY,
    start_ns      INTEGER NOT NULL,
    end_ns        INTEGER NOT NULL,
    span_count    INTEGER NOT NULL,
    error_count   INTEGER NOT NULL,
    root_service  TEXT,
    root_name     TEXT
) WITHOUT ROWID;
CREATE INDEX traces_by_start ON traces (start_ns);
CREATE INDEX traces_by_end ON traces (end_ns);

CREATE TABLE spans (
    trace_id        TEXT NOT NULL,
    span_id         TEXT NOT NULL,
    parent_span_id  TEXT,
    trace_state     TEXT NOT NULL,
    flags           INTEGER NOT NULL,
    name            TEXT NOT NULL,
    kind            INTEGER NOT NULL,
    start_ns        INTEGER NOT NULL,
    end_ns          INTEGER NOT NULL,
    status_code     INTEGER NOT NULL,
    status_message  TEXT NOT NULL,
    service         TEXT NOT NULL,
    attributes      TEXT NOT NULL,
    events          TEXT NOT NULL,
    links           TEXT NOT NULL,
    dropped_attributes_count INTEGER NOT NULL,
    dropped_events_count     INTEGER NOT NULL,
    dropped_links_count      INTEGER NOT NULL,
    resource_id     INTEGER NOT NULL REFERENCES resources (id),
    scope_id        INTEGER NOT NULL REFERENCES scopes (id)
);
-- A rowid table, not WITHOUT ROWID: span rows are large (attributes, events as JSON), and in a
-- WITHOUT ROWID table every random trace id would split pages full of whole rows. Rows are
-- appended; only this small unique index takes the random inserts (and makes retries no-ops).
CREATE UNIQUE INDEX spans_by_id ON spans (trace_id, span_id);
CREATE INDEX spans_by_service_start ON spans (service, start_ns);

CREATE TABLE logs (
    id              INTEGER PRIMARY KEY,
    -- 128-bit FNV-1a of the record's content and resource: client retries are not stored twice.
    hash            BLOB NOT NULL UNIQUE,
    -- time_unix_nano, or observed_time_unix_nano when the record has no time (as OTLP says).
    ts              INTEGER NOT NULL,
    time_ns         INTEGER NOT NULL,
    observed_ns     INTEGER NOT NULL,
    severity_number INTEGER NOT NULL,
    severity_text   TEXT NOT NULL,
    -- A string body verbatim; any other body as compact JSON (also kept typed in body_json).
    body            TEXT NOT NULL,
    body_json       TEXT,
    attributes      TEXT NOT NULL,
    trace_id        TEXT,
    span_id         TEXT,
    flags           INTEGER NOT NULL,
    event_name      TEXT NOT NULL,
    dropped_attributes_count INTEGER NOT NULL,
    service         TEXT NOT NULL,
    resource_id     INTEGER NOT NULL REFERENCES resources (id),
    scope_id        INTEGER NOT NULL REFERENCES scopes (id)
);
CREATE INDEX logs_by_trace ON logs (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX logs_by_ts ON logs (ts);
CREATE INDEX logs_by_service_ts ON logs (service, ts);

-- Metric families as OpenTelemetry described them (type, unit, help), by Prometheus name.
CREATE TABLE metric_families (
    name        TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    unit        TEXT NOT NULL,
    help        TEXT NOT NULL,
    otel_name   TEXT NOT NULL
) WITHOUT ROWID;

-- Prometheus series: `labels` is the canonical (sorted) JSON object of all labels, __name__ included.
CREATE TABLE series (
    id          INTEGER PRIMARY KEY,
    metric_name TEXT NOT NULL,
    family      TEXT NOT NULL,
    labels      TEXT NOT NULL,
    first_ts    INTEGER NOT NULL,
    last_ts     INTEGER NOT NULL
);
CREATE UNIQUE INDEX series_by_name_labels ON series (metric_name, labels);
CREATE INDEX series_by_family ON series (family);

CREATE TABLE points (
    series_id   INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    value       REAL,
    stale       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE exemplars (
    id          INTEGER PRIMARY KEY,
    series_id   INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    value       REAL,
    trace_id    TEXT NOT NULL,
    span_id     TEXT NOT NULL,
    attributes  TEXT NOT NULL
);
CREATE UNIQUE INDEX exemplars_unique ON exemplars (series_id, ts, trace_id, span_id);
CREATE INDEX exemplars_by_ts ON exemplars (ts);

-- Running totals of delta-temporality streams, so that they are stored cumulative and a
-- restarted sink continues where it stopped. Updated in the same transaction as the points.
CREATE TABLE delta_state (
    stream      TEXT PRIMARY KEY,
    last_ts     INTEGER NOT NULL,
    state       TEXT NOT NULL
) WITHOUT ROWID;
