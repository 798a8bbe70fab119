//! The OTLP/gRPC receiver (tonic): `TraceService`, `LogsService` and `MetricsService`
//! `Export`, gzip accepted, a message size limit.
//!
//! The services are opentelemetry-proto's (same names, paths and message types, so every OTLP
//! client works), but served by one generic service here rather than its generated servers: the
//! generated ones decode inside tonic's codec, which answers bad protobuf with `INTERNAL`
//! (retry-worthy for nothing), never reaches our id checks, and cannot release the decode slot
//! before the commit. Here the codec hands over the raw message, and the same
//! [`super::decode::decode`] as OTLP/HTTP turns it into a request, so bad data is
//! `INVALID_ARGUMENT` with the offending field named, as OTLP asks
//! (<https://opentelemetry.io/docs/specs/otlp/#failures>).
//!
//! A message is received whole (within `body_timeout`, holding only its bytes from the shared
//! body budget) before it takes a decode slot, so slow streams cannot hold the slots;
//! connections are capped and closed when silent ([`super::conn`]), streams per connection
//! are limited, and idle connections are pinged (HTTP/2 keep-alive).

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use http_body_util::BodyExt as _;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceResponse, logs_service_server,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceResponse, metrics_service_server,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceResponse, trace_service_server,
};
use prost::bytes::{Buf as _, Bytes};
use tonic::codec::{
    Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder,
};
use tonic::codegen::{Body, BoxFuture, Context, Poll, Service, StdError, http};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use super::conn::Acceptor;
use super::decode::{Encoding, Signal};
use super::{BodyBytes, DecodeSlot, Receiver, Rejection, Transport};

/// A gRPC message's frame header: the compression flag and the length.
const FRAME_HEADER_BYTES: usize = 5;
use crate::store::Committed;

/// One OTLP signal's gRPC service: its name and response type.
pub trait GrpcSignal: Send + Sync + 'static {
    const SIGNAL: Signal;
    const SERVICE_NAME: &'static str;
    type Response: prost::Message + Default + Send + 'static;
    fn response(committed: &Committed) -> Self::Response;
}

/// `opentelemetry.proto.collector.trace.v1.TraceService`.
#[derive(Debug)]
pub enum Traces {}
/// `opentelemetry.proto.collector.logs.v1.LogsService`.
#[derive(Debug)]
pub enum Logs {}
/// `opentelemetry.proto.collector.metrics.v1.MetricsService`.
#[derive(Debug)]
pub enum Metrics {}

impl GrpcSignal for Traces {
    const SIGNAL: Signal = Signal::Traces;
    const SERVICE_NAME: &'static str = trace_service_server::SERVICE_NAME;
    type Response = ExportTraceServiceResponse;
    fn response(committed: &Committed) -> Self::Response {
        super::traces_response(committed)
    }
}

impl GrpcSignal for Logs {
    const SIGNAL: Signal = Signal::Logs;
    const SERVICE_NAME: &'static str = logs_service_server::SERVICE_NAME;
    type Response = ExportLogsServiceResponse;
    fn response(committed: &Committed) -> Self::Response {
        super::logs_response(committed)
    }
}

impl GrpcSignal for Metrics {
    const SIGNAL: Signal = Signal::Metrics;
    const SERVICE_NAME: &'static str = metrics_service_server::SERVICE_NAME;
    type Response = ExportMetricsServiceResponse;
    fn response(committed: &Committed) -> Self::Response {
        super::metrics_response(committed)
    }
}

/// Serves the three OTLP services on `listener` until `shutdown` resolves, then stops
/// accepting, lets requests in flight finish (answered after their commit), and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    receiver: Receiver,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let config = receiver.config().clone();
    let acceptor = Acceptor::new(
        listener,
        Transport::Grpc,
        config.max_connections,
        config.idle_timeout,
        receiver.connection_stats(Transport::Grpc),
    );
    let incoming = futures_util::stream::unfold(acceptor, |acceptor| async move {
        let (stream, _peer) = acceptor.accept().await;
        Some((Ok::<_, std::io::Error>(stream), acceptor))
    });
    tonic::transport::Server::builder()
        .max_concurrent_streams(Some(config.max_streams_per_connection.max(1)))
        .http2_keepalive_interval(Some(config.keepalive_interval))
        .http2_keepalive_timeout(Some(config.keepalive_timeout))
        .add_service(ExportServer::<Traces>::new(receiver.clone()))
        .add_service(ExportServer::<Logs>::new(receiver.clone()))
        .add_service(ExportServer::<Metrics>::new(receiver))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}

/// The `Export` method of one OTLP service.
pub struct ExportServer<K> {
    receiver: Receiver,
    kind: PhantomData<fn() -> K>,
}

impl<K> ExportServer<K> {
    pub fn new(receiver: Receiver) -> Self {
        ExportServer {
            receiver,
            kind: PhantomData,
        }
    }
}

impl<K> Clone for ExportServer<K> {
    fn clone(&self) -> Self {
        ExportServer::new(self.receiver.clone())
    }
}

impl<K: GrpcSignal> NamedService for ExportServer<K> {
    const NAME: &'static str = K::SERVICE_NAME;
}

impl<K, B> Service<http::Request<B>> for ExportServer<K>
where
    K: GrpcSignal,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let receiver = self.receiver.clone();
        Box::pin(async move {
            let started = Instant::now();
            let is_export = req
                .uri()
                .path()
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(K::SERVICE_NAME))
                == Some("/Export");
            if !is_export {
                let message = format!(
                    "unknown method {}: {} has only Export",
                    req.uri().path(),
                    K::SERVICE_NAME
                );
                return Ok(Status::unimplemented(message).into_http());
            }
            let authorization = req.headers().get(http::header::AUTHORIZATION);
            if !receiver.authorized(authorization.map(|v| v.as_bytes())) {
                let rejection = Rejection::Unauthenticated;
                receiver.refuse(Transport::Grpc, K::SIGNAL, &rejection);
                return Ok(status_of(&rejection).into_http());
            }
            // Receive the whole message first, holding only its bytes from the shared budget,
            // then take a decode slot: a slow stream holds no slot while it trickles in.
            let limit = receiver.config().max_request_bytes;
            let deadline = receiver.config().body_timeout;
            let (parts, body) = req.into_parts();
            let mut held = BodyBytes::default();
            let collected = tokio::time::timeout(
                deadline,
                collect(&receiver, body, limit, &mut held),
            )
            .await
            .unwrap_or_else(|_| {
                Err(Rejection::BodyRead(format!(
                    "the message did not arrive within {}s of the request's headers: send faster, or smaller batches",
                    deadline.as_secs()
                )))
            });
            let frames = match collected {
                Ok(frames) => frames,
                Err(rejection) => {
                    receiver.refuse(Transport::Grpc, K::SIGNAL, &rejection);
                    return Ok(status_of(&rejection).into_http());
                }
            };
            let slot = receiver.decode_slot(held).await;
            let req = http::Request::from_parts(parts, replay(frames));
            let mut gzip = EnabledCompressionEncodings::default();
            gzip.enable(CompressionEncoding::Gzip);
            let mut grpc = Grpc::new(RawCodec::<K::Response>(PhantomData))
                .apply_compression_config(gzip, gzip)
                .apply_max_message_size_config(Some(limit), None);
            let reached = Arc::new(AtomicBool::new(false));
            let export = Export::<K> {
                receiver: receiver.clone(),
                slot: Some(slot),
                started,
                reached: Arc::clone(&reached),
                kind: PhantomData,
            };
            let response = grpc.unary(export, req).await;
            if reached.load(Ordering::Relaxed) {
                return Ok(response);
            }
            // tonic refused the message before it reached us (too large, or not inflatable):
            // count it, and answer in OTLP's terms.
            Ok(rewrite_transport_error(
                &receiver,
                K::SIGNAL,
                limit,
                response,
            ))
        })
    }
}

/// The request body as it arrived: its frames, kept as they came (no copy; one message,
/// length-prefixed, possibly compressed), at most `limit` bytes of message, each byte taken
/// from the body budget as it comes.
async fn collect<B>(
    receiver: &Receiver,
    body: B,
    limit: usize,
    held: &mut BodyBytes,
) -> Result<Vec<Bytes>, Rejection>
where
    B: Body,
    B::Error: Into<StdError>,
{
    let mut body = std::pin::pin!(body);
    let cap = limit.saturating_add(FRAME_HEADER_BYTES);
    let mut frames = Vec::new();
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            let e: StdError = e.into();
            Rejection::BodyRead(e.to_string())
        })?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let n = data.remaining();
        if len.saturating_add(n) > cap {
            return Err(Rejection::TooLarge {
                limit,
                inflated: false,
            });
        }
        receiver.reserve_body(held, n).await;
        len += n;
        // h2's frames are `Bytes`: this takes them without copying.
        frames.push(data.copy_to_bytes(n));
    }
    Ok(frames)
}

/// A body that yields frames already received.
type Replayed = http_body_util::StreamBody<
    futures_util::stream::Iter<std::vec::IntoIter<Result<hyper::body::Frame<Bytes>, Infallible>>>,
>;

/// The received frames as a body again, for tonic to read the message from.
fn replay(frames: Vec<Bytes>) -> Replayed {
    let frames: Vec<_> = frames
        .into_iter()
        .map(|b| Ok(hyper::body::Frame::data(b)))
        .collect();
    http_body_util::StreamBody::new(futures_util::stream::iter(frames))
}

/// Rewrites tonic's own refusals into OTLP's codes: an oversize message is `OUT_OF_RANGE` in
/// tonic, which OTLP clients would retry forever; it becomes `RESOURCE_EXHAUSTED` without
/// retry info (permanent). A message that cannot be inflated is `INVALID_ARGUMENT`.
fn rewrite_transport_error(
    receiver: &Receiver,
    signal: Signal,
    limit: usize,
    response: http::Response<tonic::body::Body>,
) -> http::Response<tonic::body::Body> {
    let Some(status) = Status::from_header_map(response.headers()) else {
        return response;
    };
    let rejection = match status.code() {
        Code::Ok => return response,
        Code::OutOfRange => Rejection::TooLarge {
            limit,
            inflated: false,
        },
        // tonic's only RESOURCE_EXHAUSTED before the handler: the inflate cap.
        Code::ResourceExhausted => Rejection::TooLarge {
            limit,
            inflated: true,
        },
        Code::Internal => Rejection::BadGzip(status.message().to_string()),
        _ => {
            receiver.refuse(
                Transport::Grpc,
                signal,
                &Rejection::BodyRead(status.message().to_string()),
            );
            return response;
        }
    };
    receiver.refuse(Transport::Grpc, signal, &rejection);
    status_of(&rejection).into_http()
}

/// The gRPC status for a rejection.
pub fn status_of(rejection: &Rejection) -> Status {
    let message = rejection.to_string();
    match rejection {
        Rejection::Unauthenticated => Status::unauthenticated(message),
        Rejection::TooLarge { .. } | Rejection::DecodesTooLarge { .. } => {
            Status::resource_exhausted(message)
        }
        Rejection::BadData(e) => Status::with_error_details(
            Code::InvalidArgument,
            message.clone(),
            ErrorDetails::with_bad_request_violation(e.field().unwrap_or("request"), message),
        ),
        Rejection::UnsupportedContentType(_)
        | Rejection::UnsupportedContentEncoding(_)
        | Rejection::BadGzip(_)
        | Rejection::BodyRead(_) => Status::with_error_details(
            Code::InvalidArgument,
            message.clone(),
            ErrorDetails::with_bad_request_violation("request", message),
        ),
        Rejection::Overloaded { .. }
        | Rejection::ShuttingDown
        | Rejection::Store(_)
        | Rejection::LowDisk(_) => Status::with_error_details(
            Code::Unavailable,
            message,
            ErrorDetails::with_retry_info(rejection.retry_after()),
        ),
    }
}

struct Export<K> {
    receiver: Receiver,
    slot: Option<DecodeSlot>,
    started: Instant,
    reached: Arc<AtomicBool>,
    kind: PhantomData<fn() -> K>,
}

impl<K: GrpcSignal> UnaryService<Bytes> for Export<K> {
    type Response = K::Response;
    type Future = BoxFuture<tonic::Response<K::Response>, Status>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        self.reached.store(true, Ordering::Relaxed);
        let receiver = self.receiver.clone();
        let slot = self.slot.take().unwrap_or_default();
        let started = self.started;
        Box::pin(async move {
            let body = request.into_inner();
            receiver
                .ingest(
                    Transport::Grpc,
                    K::SIGNAL,
                    Encoding::Protobuf,
                    body,
                    slot,
                    started,
                )
                .await
                .map(|committed| tonic::Response::new(K::response(&committed)))
                .map_err(|rejection| status_of(&rejection))
        })
    }
}

/// Hands the raw (already inflated, size-checked) message to the service; encodes responses
/// with prost.
struct RawCodec<R>(PhantomData<fn() -> R>);

impl<R: prost::Message + Send + 'static> Codec for RawCodec<R> {
    type Encode = R;
    type Decode = Bytes;
    type Encoder = ProstEncoder<R>;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawDecoder
    }
}

struct ProstEncoder<R>(PhantomData<fn() -> R>);

impl<R: prost::Message> Encoder for ProstEncoder<R> {
    type Item = R;
    type Error = Status;

    fn encode(&mut self, item: R, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("cannot encode the response: {e}")))
    }
}

struct RawDecoder;

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        // The message's bytes split off tonic's buffer, not copied.
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
