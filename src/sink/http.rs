//! The OTLP/HTTP receiver (axum on hyper, HTTP/1.1): `POST /v1/traces`, `/v1/logs`,
//! `/v1/metrics` in protobuf or OTLP/JSON on the same port, gzip or not; plus the sink's own
//! `GET /healthz` (alive), `GET /readyz` (accepting data, with reasons) and `GET /metrics`.
//!
//! Slow clients cannot hold anything others need: connections are capped and closed when
//! silent ([`super::conn`]), headers must arrive within `header_timeout`, a body within
//! `body_timeout` of its headers, and a body is received *before* it takes a decode slot,
//! holding only the bytes it has sent from a budget shared by all connections.
//!
//! Follows <https://opentelemetry.io/docs/specs/otlp/#otlphttp>: the response is in the request's
//! encoding; failures carry a `google.rpc.Status` body (protobuf or JSON, like the request; JSON
//! when the request's content type is missing or unsupported, so a person with curl can read
//! it); 400 is permanent, 503 with `Retry-After` is "retry later".

use std::future::Future;
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{mpsc, watch};

use axum::Router;
use axum::body::{Body, BodyDataStream};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt as _;
use prost::Message as _;
use prost::bytes::Bytes;
use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt as _};

use super::conn::Acceptor;
use super::decode::{self, Encoding, Signal};
use super::{BodyBytes, Receiver, Rejection, Transport, retry_after_secs};
use crate::store::Committed;

/// The router with every route; exposed for tests that drive it without a socket.
pub fn router(receiver: Receiver) -> Router {
    Router::new()
        .route(
            "/v1/traces",
            post(|s: State<Receiver>, h: HeaderMap, b: Body| export(Signal::Traces, s, h, b)),
        )
        .route(
            "/v1/logs",
            post(|s: State<Receiver>, h: HeaderMap, b: Body| export(Signal::Logs, s, h, b)),
        )
        .route(
            "/v1/metrics",
            post(|s: State<Receiver>, h: HeaderMap, b: Body| export(Signal::Metrics, s, h, b)),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(receiver)
}

/// Serves OTLP/HTTP on `listener` until `shutdown` resolves, then stops accepting, lets
/// requests in flight finish (they are answered after their commit), and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    receiver: Receiver,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = receiver.config().clone();
    let acceptor = Acceptor::new(
        listener,
        Transport::Http,
        config.max_connections,
        config.idle_timeout,
        receiver.connection_stats(Transport::Http),
    );
    let router = router(receiver);
    let (stop_tx, stop_rx) = watch::channel(false);
    // Each connection task holds a sender; all are gone once every connection has closed.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = acceptor.accept() => accepted,
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let mut stop = stop_rx.clone();
        let alive = alive_tx.clone();
        let header_timeout = config.header_timeout;
        tokio::spawn(async move {
            let _alive = alive;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                // Errors here are the client's (reset, timed out, malformed): nothing to do.
                _ = conn.as_mut() => return,
                _ = stop.wait_for(|stop| *stop) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    // Stop listening, let idle connections close and requests in flight finish.
    drop(acceptor);
    let _ = stop_tx.send(true);
    drop(alive_tx);
    let _ = alive_rx.recv().await;
    Ok(())
}

/// Alive: the process serves HTTP. Always 200 while it runs.
async fn healthz() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        "{\"status\":\"ok\"}\n",
    )
        .into_response()
}

/// Ready: the sink accepts data now. 200, or 503 with the reasons, as JSON.
async fn readyz(State(receiver): State<Receiver>) -> Response {
    let readiness = receiver.readiness();
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::to_string(&readiness).unwrap_or_default() + "\n";
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if !readiness.ready {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs(super::health::LOW_DISK_RETRY_AFTER)),
        );
    }
    response
}

async fn metrics(State(receiver): State<Receiver>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        receiver.render_metrics(),
    )
        .into_response()
}

async fn not_found(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let message = format!(
        "no endpoint at {method} {}: OTLP/HTTP exports are POST /v1/traces, /v1/logs and /v1/metrics; the sink also serves GET /healthz, GET /readyz and GET /metrics",
        uri.path()
    );
    status_response(
        StatusCode::NOT_FOUND,
        reply_encoding(&headers),
        Code::NotFound,
        message,
        ErrorDetails::new(),
    )
}

async fn method_not_allowed(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let allowed = if uri.path().starts_with("/v1/") {
        "POST"
    } else {
        "GET"
    };
    let message = format!(
        "method {method} is not allowed on {}: use {allowed}",
        uri.path()
    );
    let mut response = status_response(
        StatusCode::METHOD_NOT_ALLOWED,
        reply_encoding(&headers),
        Code::Unimplemented,
        message,
        ErrorDetails::new(),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allowed));
    response
}

/// The encoding of replies to this request: the request's when it is one the sink speaks,
/// else JSON (readable, and SDKs always send a supported type).
fn reply_encoding(headers: &HeaderMap) -> Encoding {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Encoding::from_content_type)
        .unwrap_or(Encoding::Json)
}

async fn export(
    signal: Signal,
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let reply = reply_encoding(&headers);
    let result = match check_headers(&receiver, &headers) {
        Ok((encoding, gzip)) => match read_body(&receiver, &headers, body, gzip).await {
            Ok((bytes, slot)) => {
                // Counts its own outcome.
                receiver
                    .ingest(Transport::Http, signal, encoding, bytes, slot, started)
                    .await
            }
            Err(rejection) => {
                receiver.refuse(Transport::Http, signal, &rejection);
                Err(rejection)
            }
        },
        Err(rejection) => {
            receiver.refuse(Transport::Http, signal, &rejection);
            drain(body.into_data_stream(), &headers).await;
            Err(rejection)
        }
    };
    match result {
        Ok(committed) => success(signal, reply, &committed),
        Err(rejection) => rejection_response(reply, &rejection),
    }
}

/// Authentication, content type and content encoding: everything decided from the headers.
fn check_headers(receiver: &Receiver, headers: &HeaderMap) -> Result<(Encoding, bool), Rejection> {
    if !receiver.authorized(
        headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
    ) {
        return Err(Rejection::Unauthenticated);
    }
    let content_type = headers.get(header::CONTENT_TYPE);
    let encoding = content_type
        .and_then(|v| v.to_str().ok())
        .and_then(Encoding::from_content_type)
        .ok_or_else(|| {
            Rejection::UnsupportedContentType(match content_type {
                None => "(none)".to_string(),
                Some(v) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
            })
        })?;
    let gzip = match headers.get(header::CONTENT_ENCODING) {
        None => false,
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"gzip") => true,
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"identity") => false,
        Some(v) => {
            return Err(Rejection::UnsupportedContentEncoding(
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            ));
        }
    };
    Ok((encoding, gzip))
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Reads the body within the size limit and the body deadline, holding only the bytes
/// received (from the shared body budget), then takes a decode slot and inflates it when it
/// is gzip.
async fn read_body(
    receiver: &Receiver,
    headers: &HeaderMap,
    body: Body,
    gzip: bool,
) -> Result<(Bytes, super::DecodeSlot), Rejection> {
    let config = receiver.config();
    let limit = config.max_request_bytes;
    let declared = content_length(headers);
    let mut stream = body.into_data_stream();
    if declared.is_some_and(|n| n > limit as u64) {
        // Refused without keeping a byte of it.
        drain(stream, headers).await;
        return Err(Rejection::TooLarge {
            limit,
            inflated: false,
        });
    }
    let mut held = BodyBytes::default();
    let read = tokio::time::timeout(
        config.body_timeout,
        read_capped(receiver, &mut stream, limit, &mut held),
    )
    .await
    .map_err(|_| {
        Rejection::BodyRead(format!(
            "the body did not arrive within {}s of the request's headers: send faster, or smaller batches",
            config.body_timeout.as_secs()
        ))
    })?;
    let bytes = match read {
        Err(rejection @ Rejection::TooLarge { .. }) => {
            drop(held);
            drain(stream, headers).await;
            return Err(rejection);
        }
        other => other?,
    };
    let slot = receiver.decode_slot(held).await;
    let bytes = if gzip {
        decode::gunzip_capped(&bytes, limit)?
    } else {
        bytes
    };
    Ok((Bytes::from(bytes), slot))
}

/// The body as it arrives: the chunks hyper hands over are kept as they are (no buffer sized
/// by what the client *declares*, so a client that declares 8 MiB and sends 3 bytes costs 3
/// bytes), then copied once into a buffer of exactly the received size.
async fn read_capped(
    receiver: &Receiver,
    stream: &mut BodyDataStream,
    limit: usize,
    held: &mut BodyBytes,
) -> Result<Vec<u8>, Rejection> {
    let mut chunks = Vec::new();
    let mut len = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Rejection::BodyRead(e.to_string()))?;
        if len.saturating_add(chunk.len()) > limit {
            return Err(Rejection::TooLarge {
                limit,
                inflated: false,
            });
        }
        receiver.reserve_body(held, chunk.len()).await;
        len += chunk.len();
        chunks.push(chunk);
    }
    let mut buf = Vec::with_capacity(len);
    for chunk in chunks {
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Most of a refused request's body read and thrown away, so that the answer can be sent.
const DRAIN_BYTES: u64 = 64 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Reads and discards what is left of a refused request's body (up to [`DRAIN_BYTES`], for at
/// most [`DRAIN_TIME`]). An HTTP/1.1 client writes its whole body before it reads the answer;
/// if the server closes the connection first, the client sees a broken pipe instead of the
/// 401, 413 or 415 that says what to fix. Bodies declared larger than that are not drained:
/// the connection is closed.
async fn drain(mut stream: BodyDataStream, headers: &HeaderMap) {
    if content_length(headers).is_some_and(|n| n > DRAIN_BYTES) {
        return;
    }
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut seen = 0u64;
        while let Some(Ok(chunk)) = stream.next().await {
            seen = seen.saturating_add(chunk.len() as u64);
            if seen > DRAIN_BYTES {
                break;
            }
        }
    })
    .await;
}

fn success(signal: Signal, encoding: Encoding, committed: &Committed) -> Response {
    let body = match encoding {
        Encoding::Protobuf => match signal {
            Signal::Traces => super::traces_response(committed).encode_to_vec(),
            Signal::Logs => super::logs_response(committed).encode_to_vec(),
            Signal::Metrics => super::metrics_response(committed).encode_to_vec(),
        },
        Encoding::Json => super::json_response(signal, committed)
            .to_string()
            .into_bytes(),
    };
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        )],
        body,
    )
        .into_response()
}

fn rejection_response(encoding: Encoding, rejection: &Rejection) -> Response {
    let message = rejection.to_string();
    let (status, code, details) = match rejection {
        Rejection::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            Code::Unauthenticated,
            ErrorDetails::new(),
        ),
        Rejection::UnsupportedContentType(_) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::InvalidArgument,
            ErrorDetails::with_bad_request_violation("Content-Type", message.clone()),
        ),
        Rejection::UnsupportedContentEncoding(_) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::InvalidArgument,
            ErrorDetails::with_bad_request_violation("Content-Encoding", message.clone()),
        ),
        Rejection::TooLarge { .. } | Rejection::DecodesTooLarge { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::ResourceExhausted,
            ErrorDetails::new(),
        ),
        Rejection::BadGzip(_) | Rejection::BodyRead(_) => (
            StatusCode::BAD_REQUEST,
            Code::InvalidArgument,
            ErrorDetails::with_bad_request_violation("body", message.clone()),
        ),
        Rejection::BadData(e) => (
            StatusCode::BAD_REQUEST,
            Code::InvalidArgument,
            ErrorDetails::with_bad_request_violation(e.field().unwrap_or("body"), message.clone()),
        ),
        Rejection::Overloaded { .. }
        | Rejection::ShuttingDown
        | Rejection::Store(_)
        | Rejection::LowDisk(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Code::Unavailable,
            ErrorDetails::with_retry_info(rejection.retry_after()),
        ),
    };
    let mut response = status_response(status, encoding, code, message, details);
    let headers = response.headers_mut();
    if let Some(after) = rejection.retry_after() {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs(after)),
        );
    }
    if matches!(rejection, Rejection::Unauthenticated) {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// A `google.rpc.Status` body in the given encoding.
fn status_response(
    status: StatusCode,
    encoding: Encoding,
    code: Code,
    message: String,
    details: ErrorDetails,
) -> Response {
    let body = match encoding {
        // tonic encodes the whole google.rpc.Status (code, message, details) as the details
        // bytes of a gRPC status: exactly the OTLP/HTTP error body.
        Encoding::Protobuf => tonic::Status::with_error_details(code, message, details)
            .details()
            .to_vec(),
        Encoding::Json => status_json(code, &message, &details)
            .to_string()
            .into_bytes(),
    };
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        )],
        body,
    )
        .into_response()
}

/// `google.rpc.Status` in proto3 JSON: details as `Any` with `@type`.
fn status_json(code: Code, message: &str, details: &ErrorDetails) -> serde_json::Value {
    let mut any = Vec::new();
    if let Some(bad) = details.bad_request() {
        let violations: Vec<_> = bad
            .field_violations
            .iter()
            .map(|v| serde_json::json!({"field": v.field, "description": v.description}))
            .collect();
        any.push(serde_json::json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": violations,
        }));
    }
    if let Some(retry) = details.retry_info()
        && let Some(delay) = retry.retry_delay
    {
        any.push(serde_json::json!({
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": format!("{}s", delay.as_secs_f64()),
        }));
    }
    serde_json::json!({
        "code": code as i32,
        "message": message,
        "details": any,
    })
}
