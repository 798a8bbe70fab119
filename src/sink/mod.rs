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

pub mod decode;
pub mod grpc;
pub mod http;
mod run;
pub mod stats;

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
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Secret;
use crate::store::{Committed, Prepared, SubmitError, WriterHandle};
use decode::{DecodeError, Encoding, InflateError, Signal};
use stats::{Outcome, SinkStats};

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

/// Limits and credentials shared by both receivers.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Largest request body after decompression (HTTP), largest message (gRPC).
    pub max_request_bytes: usize,
    /// Requests being read and decoded at once; more wait (in the kernel's and HTTP/2's
    /// buffers, not ours). Bounds the memory of request bodies to about this many times
    /// `max_request_bytes`.
    pub max_concurrent_decodes: usize,
    /// Longest time to receive one HTTP request body, so a slow client cannot hold a
    /// decode slot forever.
    pub body_timeout: Duration,
    /// Bearer token clients must send (`Authorization: Bearer <token>`); `None` accepts all.
    pub token: Option<Secret>,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_concurrent_decodes: 32,
            body_timeout: Duration::from_secs(30),
            token: None,
        }
    }
}

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
    stats: SinkStats,
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
}

impl Rejection {
    pub fn outcome(&self) -> Outcome {
        match self {
            Rejection::Unauthenticated => Outcome::Unauthenticated,
            Rejection::UnsupportedContentType(_) | Rejection::UnsupportedContentEncoding(_) => {
                Outcome::UnsupportedMediaType
            }
            Rejection::TooLarge { .. } => Outcome::TooLarge,
            Rejection::BadGzip(_) | Rejection::BodyRead(_) | Rejection::BadData(_) => {
                Outcome::BadData
            }
            Rejection::Overloaded { .. } => Outcome::Overloaded,
            Rejection::ShuttingDown => Outcome::ShuttingDown,
            Rejection::Store(_) => Outcome::StoreError,
        }
    }

    /// How long a client should wait before retrying, for retryable rejections.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Rejection::Overloaded { retry_after } => Some(*retry_after),
            Rejection::ShuttingDown | Rejection::Store(_) => Some(Duration::from_secs(1)),
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

/// A slot for reading and decoding one request; dropped once the request is queued.
#[derive(Default)]
pub(crate) struct DecodeSlot(
    #[expect(dead_code, reason = "held only for its Drop")] Option<OwnedSemaphorePermit>,
);

impl Receiver {
    pub fn new(writer: WriterHandle, config: ReceiverConfig) -> Self {
        let slots = config.max_concurrent_decodes.max(1);
        Receiver {
            inner: Arc::new(Inner {
                writer,
                decode_slots: Arc::new(Semaphore::new(slots)),
                config,
                stats: SinkStats::default(),
            }),
        }
    }

    pub fn config(&self) -> &ReceiverConfig {
        &self.inner.config
    }

    pub fn stats(&self) -> &SinkStats {
        &self.inner.stats
    }

    /// The sink's counters and the store writer's, in the Prometheus text format.
    pub fn render_metrics(&self) -> String {
        let mut out = String::new();
        self.inner.stats.render_prometheus(&mut out);
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

    pub(crate) async fn decode_slot(&self) -> DecodeSlot {
        // The semaphore is never closed, so this always gets a permit.
        DecodeSlot(
            Arc::clone(&self.inner.decode_slots)
                .acquire_owned()
                .await
                .ok(),
        )
    }

    /// Decodes a request body, queues it for the store, releases the decode slot, and waits for
    /// the commit. Counts the outcome.
    pub(crate) async fn ingest(
        &self,
        transport: Transport,
        signal: Signal,
        encoding: Encoding,
        body: Vec<u8>,
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
        body: Vec<u8>,
        slot: DecodeSlot,
    ) -> Result<Committed, Rejection> {
        let stats = &self.inner.stats;
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
                tracing::error!(signal = signal.name(), "store commit failed: {e:#}");
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
