//! The embedded store: one SQLite file that the OTLP sink writes and the rest of obs reads.
//!
//! It owns the schema (versioned migration files in `migrations/`), the single writer thread
//! that commits OTLP requests in groups ([`spawn_writer`]), the conversion of OTLP metrics to
//! Prometheus series (names, labels, delta → cumulative), retention, and the read queries
//! ([`Store`]). It does not decode wire formats or enforce request limits: the receivers in
//! `sink/` hand it already-decoded [`Payload`]s. See `docs/store.md` for the design.

mod capture;
mod chunks;
#[doc(hidden)]
pub use chunks::copied_chunks_match_encoded;
mod convert;
mod delta;
mod export;
mod export_metrics;
mod from_model;
mod gorilla;
mod ingest;
mod metric_ingest;
mod promname;
mod read;
mod retention;
mod samples;
mod schema;
mod series_ids;
mod v1;
mod writer;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use capture::{
    Captured, CapturedCounts, ManifestEntry, read_manifest, write_captured, write_manifest,
};
pub use export::{ExportSignal, ExportWindow};
pub use from_model::{logs_request, traces_request};
pub use opentelemetry_proto::tonic::collector::{
    logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
    trace::v1::ExportTraceServiceRequest,
};
pub use promname::{FamilyKind, family_name, label_name};
pub use read::{
    Direction, LogQuery, RawSeries, STALE_NAN, STALE_NAN_BITS, Store, StoreInfo, TraceQuery,
};
pub use schema::SCHEMA_VERSION;
pub use writer::{
    Committed, Receipt, SubmitError, Writer, WriterConfig, WriterHandle, WriterStats, spawn_writer,
};

/// One decoded OTLP export request, as the receivers hand it to the writer.
#[derive(Debug, Clone)]
pub enum Payload {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

impl Payload {
    /// Spans, log records or metric data points in the request: the unit OTLP partial success
    /// counts in (`rejected_spans`, `rejected_log_records`, `rejected_data_points`).
    pub fn item_count(&self) -> u64 {
        use opentelemetry_proto::tonic::metrics::v1::metric::Data;
        match self {
            Payload::Traces(r) => r
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .map(|ss| ss.spans.len() as u64)
                .sum(),
            Payload::Logs(r) => r
                .resource_logs
                .iter()
                .flat_map(|rl| &rl.scope_logs)
                .map(|sl| sl.log_records.len() as u64)
                .sum(),
            Payload::Metrics(r) => r
                .resource_metrics
                .iter()
                .flat_map(|rm| &rm.scope_metrics)
                .flat_map(|sm| &sm.metrics)
                .map(|m| match &m.data {
                    Some(Data::Gauge(g)) => g.data_points.len() as u64,
                    Some(Data::Sum(s)) => s.data_points.len() as u64,
                    Some(Data::Histogram(h)) => h.data_points.len() as u64,
                    Some(Data::ExponentialHistogram(h)) => h.data_points.len() as u64,
                    Some(Data::Summary(s)) => s.data_points.len() as u64,
                    None => 0,
                })
                .sum(),
        }
    }

    /// `traces`, `logs` or `metrics`, for messages.
    pub fn signal(&self) -> &'static str {
        match self {
            Payload::Traces(_) => "traces",
            Payload::Logs(_) => "logs",
            Payload::Metrics(_) => "metrics",
        }
    }
}

/// A [`Payload`] made ready for the writer, on the caller's thread: spans are validated,
/// grouped by trace and encoded, so that the single writer thread only inserts rows.
/// [`WriterHandle::submit`] prepares a plain `Payload` itself; receivers prepare on their own
/// (blocking) threads.
#[derive(Debug)]
pub struct Prepared {
    kind: PreparedKind,
    items: u64,
}

#[derive(Debug)]
enum PreparedKind {
    Traces(chunks::TraceBatch),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

impl Payload {
    /// Does the per-item work that does not need the store (see [`Prepared`]).
    pub fn prepare(self) -> Prepared {
        let items = self.item_count();
        let kind = match self {
            Payload::Traces(r) => PreparedKind::Traces(chunks::prepare(r)),
            Payload::Logs(r) => PreparedKind::Logs(r),
            Payload::Metrics(r) => PreparedKind::Metrics(r),
        };
        Prepared { kind, items }
    }

    /// [`Payload::prepare`] for a payload decoded from the OTLP protobuf `body`: spans are
    /// copied from those bytes rather than encoded again.
    pub fn prepare_from_protobuf(self, body: &[u8]) -> Prepared {
        let items = self.item_count();
        match self {
            Payload::Traces(r) => Prepared {
                kind: PreparedKind::Traces(chunks::prepare_wire(r, body)),
                items,
            },
            other => other.prepare(),
        }
    }
}

impl From<Payload> for Prepared {
    fn from(payload: Payload) -> Prepared {
        payload.prepare()
    }
}

impl Prepared {
    /// Items in the request as received (spans, log records or data points), including any
    /// that preparing refused.
    pub fn item_count(&self) -> u64 {
        self.items
    }

    /// `traces`, `logs` or `metrics`, for messages.
    pub fn signal(&self) -> &'static str {
        match self.kind {
            PreparedKind::Traces(_) => "traces",
            PreparedKind::Logs(_) => "logs",
            PreparedKind::Metrics(_) => "metrics",
        }
    }
}

/// How much the store keeps. Both limits are optional; `None` keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    /// Data whose own timestamps (span end, log time, sample time) are older than this is
    /// deleted, as Prometheus and Loki do.
    pub max_age: Option<Duration>,
    /// When the data in the file uses more than this, the oldest data is deleted until it uses
    /// at most 90% of it, and the freed pages are returned to the file system.
    pub max_size_bytes: Option<u64>,
}

/// Everything that can go wrong opening, writing or reading a store. Messages name the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: not an obs store: the file is not a SQLite database; point obs at a store file (or a new path)", path.display())]
    NotADatabase { path: PathBuf },
    #[error("{}: not an obs store: it is a SQLite database that another program created; use a new path", path.display())]
    ForeignDatabase { path: PathBuf },
    #[error("{}: written by a newer obs (schema v{found} > supported v{supported}); upgrade obs to read it", path.display())]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{}: written by an older obs (schema v{found} < v{supported}) and obs may not write to it to upgrade it; make it writable once (or copy it) and run the command again", path.display())]
    OlderSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{}: no obs store here (the file does not exist or is empty)", path.display())]
    Missing { path: PathBuf },
    #[error("{}: the store is locked by another writer; wait, or stop the other `obs sink` using this file", path.display())]
    Locked { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: sqlite: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// A group commit failed; every request in the group gets this, and nothing of it is stored.
    #[error("{}: commit failed, nothing of this request was stored: {message}", path.display())]
    Commit { path: PathBuf, message: String },
    #[error("{}: stored data could not be read: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    #[error("{}: the store writer has shut down; the request was not stored", path.display())]
    Closed { path: PathBuf },
}

impl StoreError {
    /// Classifies a SQLite error for `path`: not a database, locked, or other.
    pub(crate) fn sqlite(path: &Path, source: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
                path: path.to_path_buf(),
            },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
                path: path.to_path_buf(),
            },
            _ => StoreError::Sqlite {
                path: path.to_path_buf(),
                source,
            },
        }
    }
}

/// Adds the store path to rusqlite results.
pub(crate) trait SqlContext<T> {
    fn at(self, path: &Path) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn at(self, path: &Path) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::sqlite(path, e))
    }
}
