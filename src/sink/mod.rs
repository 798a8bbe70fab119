//! `obs sink`: OTLP receivers (gRPC on tonic, HTTP on axum) that write into the embedded store.
//!
//! Owns the wire: transports, content types, compression, size limits, authentication, decoding
//! ([`decode`]) and the mapping of outcomes to HTTP statuses and gRPC codes. It does not own
//! storage: a decoded request goes to the store's bounded writer queue
//! ([`crate::store::WriterHandle::submit`]), and the client is answered only once the store says
//! its rows are committed. A full queue is answered at once with "retry later" (HTTP 503 with
//! `Retry-After`, gRPC `UNAVAILABLE` with `RetryInfo`): memory never grows with load.
//!
//! Both servers take an already-bound listener and a shutdown future, so tests bind port 0 and
//! stop cleanly; [`run`] wires them to the command line, signals and the writer.
//! See `docs/sink.md` for the protocol details and limits.

pub mod conn;
pub mod decode;
pub mod grpc;
pub mod health;
pub mod http;
pub mod log;
mod run;
pub mod stats;
mod throttle;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Secret;
use crate::store::{Committed, Prepared, SubmitError, WriterHandle};
use conn::ConnectionStats;
use decode::{DecodeError, Encoding, InflateError, Signal};
use health::Health;
use stats::{Outcome, SinkStats};
use throttle::Throttle;

pub(crate) use run::store_path;
pub use run::{SinkOptions, SinkUsageError, default_store_path, parse_size, run};

/// Default largest request, after decompression (HTTP) or per message (gRPC).
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// Bodies up to this size are decoded on the async worker that received them (well under a
/// millisecond); larger ones on the blocking pool.
const INLINE_DECODE_BYTES: usize = 1024 * 1024;

/// Which receiver a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Grpc,
    Http,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::Http => "http",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Transport::Grpc => 0,
            Transport::Http => 1,
        }
    }
}

/// Default cap on the connections each receiver keeps open.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Default free-space floor of the store's file system.
pub const DEFAULT_MIN_FREE_BYTES: u64 = 256 * 1024 * 1024;

/// Limits and credentials shared by both receivers.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Largest request body after decompression (HTTP), largest message (gRPC).
    pub max_request_bytes: usize,
    /// Requests decoded at once; more wait with their bodies received. Bodies are read
    /// without a slot, within a byte budget of this many times `max_request_bytes` shared by
    /// every connection, so request bodies in memory stay bounded by about that.
    pub max_concurrent_decodes: usize,
    /// Longest time from a request's headers to the last byte of its body (HTTP body, gRPC
    /// message): a whole-request deadline, so a slow client cannot hold memory or a
    /// connection for long.
    pub body_timeout: Duration,
    /// Longest time for an HTTP/1.1 request's headers to arrive, counted from the connection's
    /// start or the previous response (so it is also the idle keep-alive time over HTTP/1.1).
    pub header_timeout: Duration,
    /// A connection on which the peer sends nothing for this long is closed (idle
    /// keep-alive connections, and connections that never send a request).
    pub idle_timeout: Duration,
    /// Connections each receiver keeps open; past it, new ones wait in the listen backlog.
    pub max_connections: usize,
    /// HTTP/2 streams (concurrent gRPC requests) per connection.
    pub max_streams_per_connection: u32,
    /// How often an idle gRPC connection is pinged (HTTP/2 PING), and how long the answer may
    /// take before the connection is closed.
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
    /// Free space the store's file system must keep; below it requests are refused with
    /// "retry later" before SQLite runs out of room. 0 turns the check off.
    pub min_free_bytes: u64,
    /// Bearer token clients must send (`Authorization: Bearer <token>`); `None` accepts all.
    pub token: Option<Secret>,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_concurrent_decodes: 32,
            body_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_streams_per_connection: 100,
            keepalive_interval: Duration::from_secs(60),
            keepalive_timeout: Duration::from_secs(20),
            min_free_bytes: DEFAULT_MIN_FREE_BYTES,
            token: None,
        }
    }
}

impl ReceiverConfig {
    /// Bytes of request bodies all connections may hold while they arrive and wait for a
    /// decode slot.
    pub fn body_budget_bytes(&self) -> usize {
        self.max_request_bytes
            .saturating_mul(self.max_concurrent_decodes.max(1))
            .min(MAX_BODY_BUDGET)
    }
}

/// tokio's semaphores count at most `usize::MAX >> 3` permits, and one acquire at most
/// `u32::MAX`; the body budget stays far below both.
const MAX_BODY_BUDGET: usize = 1 << 40;

/// The part both receivers share: auth, decode slots, submission to the store, counters.
/// Cheap to clone.
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Inner>,
}

struct Inner {
    writer: WriterHandle,
    config: ReceiverConfig,
    decode_slots: Arc<Semaphore>,
    /// Bytes of bodies being received or waiting for a decode slot.
    body_budget: Arc<Semaphore>,
    /// KiB of memory that requests being decoded may decode to ([`decode::bound`]).
    decode_memory: Arc<Semaphore>,
    stats: SinkStats,
    connections: [Arc<ConnectionStats>; 2],
    health: Health,
    store_error_log: Throttle,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Why a request was not acknowledged. Each maps to one HTTP status and one gRPC code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error(
        "missing or wrong bearer token: send the header \"Authorization: Bearer <token>\" with the token the sink was started with (--token or OBS_SINK_TOKEN)"
    )]
    Unauthenticated,
    #[error(
        "unsupported Content-Type {0:?}: send {ACCEPTED}",
        ACCEPTED = decode::ACCEPTED_CONTENT_TYPES
    )]
    UnsupportedContentType(String),
    #[error("unsupported Content-Encoding {0:?}: send gzip or an uncompressed body")]
    UnsupportedContentEncoding(String),
    #[error(
        "the request {} the limit of {limit} bytes; send smaller batches or raise --max-request-size",
        if *.inflated { "inflates to more than" } else { "is larger than" }
    )]
    TooLarge {
        limit: usize,
        /// The limit was hit while inflating a compressed body (a gzip bomb, or a batch that
        /// compresses very well), not by the bytes on the wire.
        inflated: bool,
    },
    #[error(
        "the request would decode to about {} in memory, more than the {} the sink decodes at once (it holds very many small or empty messages); send smaller batches",
        health::human_bytes(*.bound),
        health::human_bytes(*.limit)
    )]
    DecodesTooLarge { bound: u64, limit: u64 },
    #[error("{0}")]
    BadGzip(String),
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    #[error("{0}")]
    BadData(#[from] DecodeError),
    #[error("the sink is overloaded (its store queue is full); retry after {}s", retry_after_secs(*.retry_after))]
    Overloaded { retry_after: Duration },
    #[error("the sink is shutting down; retry against the next instance")]
    ShuttingDown,
    #[error("the store could not commit the request: {0}; retry later")]
    Store(String),
    #[error("{0}")]
    LowDisk(health::LowDisk),
}

impl Rejection {
    pub fn outcome(&self) -> Outcome {
        match self {
            Rejection::Unauthenticated => Outcome::Unauthenticated,
            Rejection::UnsupportedContentType(_) | Rejection::UnsupportedContentEncoding(_) => {
                Outcome::UnsupportedMediaType
            }
            Rejection::TooLarge { .. } | Rejection::DecodesTooLarge { .. } => Outcome::TooLarge,
            Rejection::BadGzip(_) | Rejection::BodyRead(_) | Rejection::BadData(_) => {
                Outcome::BadData
            }
            Rejection::Overloaded { .. } => Outcome::Overloaded,
            Rejection::ShuttingDown => Outcome::ShuttingDown,
            Rejection::Store(_) => Outcome::StoreError,
            Rejection::LowDisk(_) => Outcome::LowDisk,
        }
    }

    /// How long a client should wait before retrying, for retryable rejections.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Rejection::Overloaded { retry_after } => Some(*retry_after),
            Rejection::ShuttingDown | Rejection::Store(_) => Some(Duration::from_secs(1)),
            Rejection::LowDisk(_) => Some(health::LOW_DISK_RETRY_AFTER),
            _ => None,
        }
    }
}

impl From<InflateError> for Rejection {
    fn from(e: InflateError) -> Self {
        match e {
            InflateError::TooLarge { limit } => Rejection::TooLarge {
                limit,
                inflated: true,
            },
            InflateError::Corrupt { .. } => Rejection::BadGzip(e.to_string()),
        }
    }
}

/// Whole seconds for `Retry-After`, at least 1 (0 would invite an immediate retry storm).
pub(crate) fn retry_after_secs(d: Duration) -> u64 {
    d.as_secs()
        .saturating_add(u64::from(d.subsec_nanos() > 0))
        .max(1)
}

/// A slot for decoding one request, with the body bytes it holds from the shared budget;
/// dropped once the request is queued.
#[derive(Default)]
pub(crate) struct DecodeSlot {
    _slot: Option<OwnedSemaphorePermit>,
    _body: BodyBytes,
}

/// Bytes of the body budget held by one request while its body arrives.
#[derive(Default)]
pub(crate) struct BodyBytes(Option<OwnedSemaphorePermit>);

impl Receiver {
    /// Inside a tokio runtime, also starts the task that keeps looking at the free space
    /// (see [`Receiver::watch_disk`]).
    pub fn new(writer: WriterHandle, config: ReceiverConfig) -> Self {
        let slots = config.max_concurrent_decodes.max(1);
        let health = Health::new(writer.path(), config.min_free_bytes);
        let receiver = Receiver {
            inner: Arc::new(Inner {
                writer,
                decode_slots: Arc::new(Semaphore::new(slots)),
                body_budget: Arc::new(Semaphore::new(config.body_budget_bytes())),
                decode_memory: Arc::new(Semaphore::new(config.body_budget_bytes().div_ceil(1024))),
                config,
                stats: SinkStats::default(),
                connections: Default::default(),
                health,
                store_error_log: Throttle::new(Duration::from_secs(10)),
            }),
        };
        if receiver.inner.config.min_free_bytes > 0
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(Receiver::watch_disk(Arc::downgrade(&receiver.inner)));
        }
        receiver
    }

    /// Looks at the free space once a second while the receiver lives, not only when
    /// requests come: under the floor, the store's size retention deletes the oldest data
    /// for as long as the sink says space is low, so the sink must notice that space has
    /// returned even when every client has backed off (else retention would go on deleting).
    async fn watch_disk(inner: std::sync::Weak<Inner>) {
        loop {
            tokio::time::sleep(health::CHECK_EVERY).await;
            let Some(inner) = inner.upgrade() else {
                return;
            };
            inner.health.look_now(&inner.writer);
        }
    }

    /// The connection counters of one receiver.
    pub fn connection_stats(&self, transport: Transport) -> Arc<ConnectionStats> {
        Arc::clone(&self.inner.connections[transport.index()])
    }

    /// Whether the sink accepts data now, and if not, why: the store's disk above the
    /// free-space floor, its queue not full, its last commit not failed.
    pub fn readiness(&self) -> health::Readiness {
        self.inner.health.readiness(&self.inner.writer)
    }

    pub fn config(&self) -> &ReceiverConfig {
        &self.inner.config
    }

    pub fn stats(&self) -> &SinkStats {
        &self.inner.stats
    }

    /// The sink's counters, readiness, connections and the store writer's counters, in the
    /// Prometheus text format.
    pub fn render_metrics(&self) -> String {
        let mut out = String::new();
        self.inner.stats.render_prometheus(&mut out);
        let readiness = self.readiness();
        health::render_prometheus(&readiness, &self.inner.health, &mut out);
        stats::render_connections(&self.inner.connections, &mut out);
        self.inner.writer.stats().render_prometheus(&mut out);
        out
    }

    /// Checks an `Authorization` header value against the configured token, in time
    /// independent of where they differ.
    pub(crate) fn authorized(&self, authorization: Option<&[u8]>) -> bool {
        let Some(token) = &self.inner.config.token else {
            return true;
        };
        let Some(value) = authorization else {
            return false;
        };
        let Some(presented) = strip_bearer(value) else {
            return false;
        };
        constant_time_eq(presented, token.expose().as_bytes())
    }

    /// Waits for a decode slot for a body that has arrived whole.
    pub(crate) async fn decode_slot(&self, body: BodyBytes) -> DecodeSlot {
        // The semaphore is never closed, so this always gets a permit.
        DecodeSlot {
            _slot: Arc::clone(&self.inner.decode_slots)
                .acquire_owned()
                .await
                .ok(),
            _body: body,
        }
    }

    /// Takes `n` more bytes of the body budget for a body being received, waiting while
    /// other bodies hold all of it (that connection's reads pause: TCP or HTTP/2 flow
    /// control pushes back on the client).
    pub(crate) async fn reserve_body(&self, held: &mut BodyBytes, n: usize) {
        let Ok(n) = u32::try_from(n) else {
            return;
        };
        if n == 0 {
            return;
        }
        // Never closed; a chunk larger than the whole budget takes all of it.
        let n = n.min(u32::try_from(self.inner.config.body_budget_bytes()).unwrap_or(u32::MAX));
        let Ok(permit) = Arc::clone(&self.inner.body_budget)
            .acquire_many_owned(n)
            .await
        else {
            return;
        };
        match &mut held.0 {
            Some(p) => p.merge(permit),
            None => held.0 = Some(permit),
        }
    }

    /// Decodes a request body, queues it for the store, releases the decode slot, and waits for
    /// the commit. Counts the outcome.
    pub(crate) async fn ingest(
        &self,
        transport: Transport,
        signal: Signal,
        encoding: Encoding,
        body: Bytes,
        slot: DecodeSlot,
        started: Instant,
    ) -> Result<Committed, Rejection> {
        let result = self.ingest_inner(signal, encoding, body, slot).await;
        self.count(transport, signal, &result, started);
        result
    }

    async fn ingest_inner(
        &self,
        signal: Signal,
        encoding: Encoding,
        body: Bytes,
        slot: DecodeSlot,
    ) -> Result<Committed, Rejection> {
        let stats = &self.inner.stats;
        if let Err(low) = self.inner.health.check_floor(&self.inner.writer) {
            // Refused before decoding: nothing of it could be committed anyway.
            return Err(Rejection::LowDisk(low));
        }
        // Decoding can take ~100× a body's size in memory (many empty messages): the bound,
        // computed without allocating, is taken from a budget shared by all decodes, and a
        // request bound to exceed the whole budget is refused.
        let bound = match encoding {
            Encoding::Protobuf => decode::bound::protobuf(signal, &body),
            Encoding::Json => decode::bound::json(&body),
        };
        let budget_kib = self.inner.config.body_budget_bytes().div_ceil(1024);
        let kib = bound.div_ceil(1024);
        if kib > budget_kib as u64 {
            return Err(Rejection::DecodesTooLarge {
                bound,
                limit: budget_kib as u64 * 1024,
            });
        }
        let memory = Arc::clone(&self.inner.decode_memory)
            .acquire_many_owned(u32::try_from(kib).unwrap_or(u32::MAX))
            .await
            .ok();
        let payload = if body.len() > INLINE_DECODE_BYTES {
            // A big body takes tens of milliseconds to decode: not on an async worker, where it
            // would stall every other connection on that thread.
            // Preparing (grouping spans by trace into chunks) happens here too, so that the
            // store's single writer thread only inserts rows.
            tokio::task::spawn_blocking(move || prepare(signal, encoding, &body))
                .await
                .map_err(|e| {
                    Rejection::BodyRead(format!("the decoder failed on this body: {e}"))
                })??
        } else {
            prepare(signal, encoding, &body)?
        };
        drop(memory);
        let items = payload.item_count();
        stats.received(signal, items);
        if items == 0 {
            // OTLP: "If the server receives an empty request ... the server SHOULD respond with
            // success." Nothing to store, so nothing to wait for.
            return Ok(Committed {
                accepted: 0,
                rejected: 0,
                message: None,
            });
        }
        let receipt = match self.inner.writer.submit(payload) {
            Ok(receipt) => receipt,
            Err(SubmitError::Overloaded { retry_after }) => {
                stats.refused(signal, Outcome::Overloaded, items);
                return Err(Rejection::Overloaded { retry_after });
            }
            Err(SubmitError::Closed) => {
                stats.refused(signal, Outcome::ShuttingDown, items);
                return Err(Rejection::ShuttingDown);
            }
        };
        drop(slot);
        match receipt.wait().await {
            Ok(committed) => {
                stats.committed(signal, committed.accepted, committed.rejected);
                Ok(committed)
            }
            Err(e) => {
                stats.refused(signal, Outcome::StoreError, items);
                // One line per 10 s: with the log on the store's disk, a line per refused
                // request would eat the space as soon as it is freed.
                if let Some(suppressed) = self.inner.store_error_log.ready() {
                    tracing::error!(
                        signal = signal.name(),
                        "store commit failed: {e:#}{}",
                        conn::suppressed_note(suppressed)
                    );
                }
                Err(Rejection::Store(e.to_string()))
            }
        }
    }

    /// Counts a request refused before [`Receiver::ingest`] (auth, content type, size).
    pub(crate) fn refuse(&self, transport: Transport, signal: Signal, rejection: &Rejection) {
        self.inner
            .stats
            .request(transport, signal, rejection.outcome());
        tracing::debug!(
            transport = transport.name(),
            signal = signal.name(),
            "refused: {rejection}"
        );
    }

    fn count(
        &self,
        transport: Transport,
        signal: Signal,
        result: &Result<Committed, Rejection>,
        started: Instant,
    ) {
        match result {
            Ok(_) => {
                self.inner.stats.request(transport, signal, Outcome::Ok);
                self.inner.stats.acknowledged(transport, started.elapsed());
            }
            Err(rejection) => self.refuse(transport, signal, rejection),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive, RFC 6750).
fn strip_bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    Some(rest.trim_ascii())
}

/// Equality whose running time does not depend on where the inputs first differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The message of a partial success: the store's, or a count when it gave none.
fn partial_message(signal: Signal, committed: &Committed) -> String {
    committed.message.clone().unwrap_or_else(|| {
        format!(
            "{} of the {} were rejected by the store",
            committed.rejected,
            signal.item_name()
        )
    })
}

fn rejected_i64(committed: &Committed) -> i64 {
    i64::try_from(committed.rejected).unwrap_or(i64::MAX)
}

/// OTLP: leave `partial_success` unset on full success; set it when anything was rejected, or
/// to carry a warning with a zero count.
fn has_partial(committed: &Committed) -> bool {
    committed.rejected > 0 || committed.message.is_some()
}

pub(crate) fn traces_response(committed: &Committed) -> ExportTraceServiceResponse {
    ExportTraceServiceResponse {
        partial_success: has_partial(committed).then(|| ExportTracePartialSuccess {
            rejected_spans: rejected_i64(committed),
            error_message: partial_message(Signal::Traces, committed),
        }),
    }
}

pub(crate) fn logs_response(committed: &Committed) -> ExportLogsServiceResponse {
    ExportLogsServiceResponse {
        partial_success: has_partial(committed).then(|| ExportLogsPartialSuccess {
            rejected_log_records: rejected_i64(committed),
            error_message: partial_message(Signal::Logs, committed),
        }),
    }
}

pub(crate) fn metrics_response(committed: &Committed) -> ExportMetricsServiceResponse {
    ExportMetricsServiceResponse {
        partial_success: has_partial(committed).then(|| ExportMetricsPartialSuccess {
            rejected_data_points: rejected_i64(committed),
            error_message: partial_message(Signal::Metrics, committed),
        }),
    }
}

/// The OTLP/JSON response: `{}` on full success, else `partialSuccess` with the count as a
/// string (proto3 JSON writes 64-bit integers as strings).
pub(crate) fn json_response(signal: Signal, committed: &Committed) -> serde_json::Value {
    if !has_partial(committed) {
        return serde_json::json!({});
    }
    let count_key = match signal {
        Signal::Traces => "rejectedSpans",
        Signal::Logs => "rejectedLogRecords",
        Signal::Metrics => "rejectedDataPoints",
    };
    serde_json::json!({
        "partialSuccess": {
            count_key: committed.rejected.to_string(),
            "errorMessage": partial_message(signal, committed),
        }
    })
}

/// Decodes a body and prepares it for the store writer (see [`Payload::prepare`]).
fn prepare(signal: Signal, encoding: Encoding, body: &[u8]) -> Result<Prepared, DecodeError> {
    let payload = decode::decode(signal, encoding, body)?;
    Ok(match encoding {
        Encoding::Protobuf => payload.prepare_from_protobuf(body),
        Encoding::Json => payload.prepare(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_compare_exactly() {
        assert_eq!(strip_bearer(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(strip_bearer(b"bearer  abc "), Some(&b"abc"[..]));
        assert_eq!(strip_bearer(b"Basic abc"), None);
        assert_eq!(strip_bearer(b"Bear"), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(200)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1200)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(5)), 5);
    }

    #[test]
    fn partial_success_is_unset_on_full_success_and_carries_counts_otherwise() {
        let full = Committed {
            accepted: 3,
            rejected: 0,
            message: None,
        };
        assert_eq!(traces_response(&full).partial_success, None);
        assert_eq!(json_response(Signal::Traces, &full), serde_json::json!({}));
        let partial = Committed {
            accepted: 2,
            rejected: 1,
            message: Some("histogram point 0 has 3 bucket counts for 1 bound".into()),
        };
        let p = metrics_response(&partial).partial_success;
        assert_eq!(p.as_ref().map(|p| p.rejected_data_points), Some(1));
        assert_eq!(
            json_response(Signal::Metrics, &partial)["partialSuccess"]["rejectedDataPoints"],
            "1"
        );
    }
}
