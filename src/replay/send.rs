//! Sending one export request to an OTLP endpoint and reading its answer: OTLP/HTTP protobuf
//! on obs's one HTTP client (reqwest), or OTLP/gRPC on tonic (the generated clients of
//! `opentelemetry-proto`). Retryable answers (HTTP 429, 502, 503, 504; gRPC `UNAVAILABLE`,
//! `RESOURCE_EXHAUSTED` with retry info) are retried with their `Retry-After` / `RetryInfo`
//! delay, else exponential backoff, as the OTLP specification asks; an answer that is not
//! OTLP (an HTML page, a 404, `UNIMPLEMENTED`) is an error at once.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceResponse, logs_service_client::LogsServiceClient,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceResponse, metrics_service_client::MetricsServiceClient,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceResponse, trace_service_client::TraceServiceClient,
};
use prost::Message as _;

use crate::store::{ExportSignal, Payload};

/// Give up on one request after retrying for this long.
const MAX_RETRYING: Duration = Duration::from_secs(300);
/// Connection failures (nothing answered) are retried this many times.
const MAX_CONNECT_RETRIES: u32 = 5;

/// The target's answer to one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answer {
    /// Items the target refused (OTLP partial success).
    pub rejected: u64,
    /// Retries it took (429/503/UNAVAILABLE, or connection failures).
    pub retries: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{url}: not an OTLP endpoint: {reason}")]
    NotOtlp { url: String, reason: String },
    #[error("{url}: refused the request: {reason}")]
    Refused { url: String, reason: String },
    #[error("{url}: still unavailable after retrying for {} s: {reason}", MAX_RETRYING.as_secs())]
    GaveUp { url: String, reason: String },
    #[error("{url}: cannot connect: {reason}")]
    Connect { url: String, reason: String },
}

/// One connection to the target, for every request of a replay.
pub enum Sender {
    Http {
        client: reqwest::Client,
        base: String,
        headers: reqwest::header::HeaderMap,
    },
    Grpc {
        channel: tonic::transport::Channel,
        url: String,
        headers: Vec<(
            tonic::metadata::AsciiMetadataKey,
            tonic::metadata::AsciiMetadataValue,
        )>,
    },
}

impl Sender {
    pub fn http(
        base: &str,
        headers: &[(String, String)],
        timeout: Duration,
    ) -> Result<Sender, String> {
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| format!("header {k:?}: {e}"))?;
            let value = reqwest::header::HeaderValue::from_str(v)
                .map_err(|_| format!("header {k:?}: the value is not valid in a header"))?;
            map.insert(name, value);
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Sender::Http {
            client,
            base: base.trim_end_matches('/').to_string(),
            headers: map,
        })
    }

    pub fn grpc(
        url: &str,
        headers: &[(String, String)],
        timeout: Duration,
    ) -> Result<Sender, String> {
        let endpoint = tonic::transport::Endpoint::from_shared(url.to_string())
            .map_err(|e| format!("{url:?} is not a gRPC endpoint URL: {e}"))?
            .timeout(timeout)
            .connect_timeout(timeout);
        let mut list = Vec::new();
        for (k, v) in headers {
            let key = k
                .to_ascii_lowercase()
                .parse()
                .map_err(|_| format!("header {k:?} is not a valid gRPC metadata key"))?;
            let value = v
                .parse()
                .map_err(|_| format!("header {k:?}: the value is not valid gRPC metadata"))?;
            list.push((key, value));
        }
        Ok(Sender::Grpc {
            channel: endpoint.connect_lazy(),
            url: url.to_string(),
            headers: list,
        })
    }

    /// Where a signal's requests go, for messages.
    pub fn url(&self, signal: ExportSignal) -> String {
        match self {
            Sender::Http { base, .. } => format!("{base}/v1/{}", signal.name()),
            Sender::Grpc { url, .. } => url.clone(),
        }
    }

    /// Sends `payload`, retrying while the target says to; returns its answer.
    pub async fn send(&self, payload: &Payload) -> Result<Answer, SendError> {
        let start = Instant::now();
        let mut answer = Answer::default();
        let mut backoff = Duration::from_millis(100);
        let mut connect_failures = 0;
        loop {
            let outcome = match self {
                Sender::Http { .. } => self.http_once(payload).await,
                Sender::Grpc { .. } => self.grpc_once(payload).await,
            };
            let (delay, reason) = match outcome {
                Once::Done(rejected) => {
                    answer.rejected = rejected;
                    return Ok(answer);
                }
                Once::Fatal(e) => return Err(e),
                Once::Retry { after, reason } => (after, reason),
                Once::NoConnection(reason) => {
                    connect_failures += 1;
                    if connect_failures > MAX_CONNECT_RETRIES {
                        return Err(SendError::Connect {
                            url: self.url(signal_of(payload)),
                            reason,
                        });
                    }
                    (None, reason)
                }
            };
            if start.elapsed() > MAX_RETRYING {
                return Err(SendError::GaveUp {
                    url: self.url(signal_of(payload)),
                    reason,
                });
            }
            answer.retries += 1;
            let wait = delay.unwrap_or(backoff).min(Duration::from_secs(30));
            tracing::debug!(?wait, %reason, "target busy; retrying");
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    async fn http_once(&self, payload: &Payload) -> Once {
        let Sender::Http {
            client,
            base: _,
            headers,
        } = self
        else {
            return Once::Fatal(SendError::Refused {
                url: String::new(),
                reason: "not an HTTP sender".into(),
            });
        };
        let signal = signal_of(payload);
        let url = self.url(signal);
        let body = encode(payload);
        let response = client
            .post(&url)
            .headers(headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-protobuf")
            .body(body)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) if e.is_connect() || e.is_timeout() => {
                return Once::NoConnection(error_chain(&e));
            }
            Err(e) => return Once::NoConnection(error_chain(&e)),
        };
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response.bytes().await.unwrap_or_default();
        let protobuf = content_type.starts_with("application/x-protobuf")
            || content_type.starts_with("application/protobuf");
        match status.as_u16() {
            200..=299 => {
                if bytes.is_empty() {
                    return Once::Done(0);
                }
                if !protobuf {
                    return Once::Fatal(SendError::NotOtlp {
                        url,
                        reason: format!(
                            "it answered {status} with {}, not an OTLP protobuf response; point --to at an OTLP/HTTP receiver's base URL (often port 4318)",
                            if content_type.is_empty() {
                                "no content type".to_string()
                            } else {
                                content_type
                            }
                        ),
                    });
                }
                match rejected_in(signal, &bytes) {
                    Some(r) => Once::Done(r),
                    None => Once::Fatal(SendError::NotOtlp {
                        url,
                        reason: format!("its {status} answer is not an OTLP export response"),
                    }),
                }
            }
            429 | 502 | 503 | 504 => Once::Retry {
                after: retry_after,
                reason: format!("HTTP {status}"),
            },
            404 | 405 => Once::Fatal(SendError::NotOtlp {
                url,
                reason: format!(
                    "it answered {status}; point --to at an OTLP/HTTP receiver's base URL (often port 4318; `/v1/{}` is appended)",
                    signal.name()
                ),
            }),
            _ => Once::Fatal(SendError::Refused {
                url,
                reason: format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).trim()
                ),
            }),
        }
    }

    async fn grpc_once(&self, payload: &Payload) -> Once {
        let Sender::Grpc {
            channel,
            url,
            headers,
        } = self
        else {
            return Once::Fatal(SendError::Refused {
                url: String::new(),
                reason: "not a gRPC sender".into(),
            });
        };
        fn request<T>(
            body: T,
            headers: &[(
                tonic::metadata::AsciiMetadataKey,
                tonic::metadata::AsciiMetadataValue,
            )],
        ) -> tonic::Request<T> {
            let mut r = tonic::Request::new(body);
            for (k, v) in headers {
                r.metadata_mut().insert(k.clone(), v.clone());
            }
            r
        }
        let result = match payload {
            Payload::Traces(r) => TraceServiceClient::new(channel.clone())
                .export(request(r.clone(), headers))
                .await
                .map(|a| {
                    a.into_inner()
                        .partial_success
                        .map_or(0, |p| p.rejected_spans as u64)
                }),
            Payload::Logs(r) => LogsServiceClient::new(channel.clone())
                .export(request(r.clone(), headers))
                .await
                .map(|a| {
                    a.into_inner()
                        .partial_success
                        .map_or(0, |p| p.rejected_log_records as u64)
                }),
            Payload::Metrics(r) => MetricsServiceClient::new(channel.clone())
                .export(request(r.clone(), headers))
                .await
                .map(|a| {
                    a.into_inner()
                        .partial_success
                        .map_or(0, |p| p.rejected_data_points as u64)
                }),
        };
        match result {
            Ok(rejected) => Once::Done(rejected),
            Err(status) => {
                use tonic::Code;
                use tonic_types::StatusExt as _;
                let after = status.get_details_retry_info().and_then(|i| i.retry_delay);
                match status.code() {
                    Code::Unavailable
                        if status.message().contains("connect")
                            || status.message().contains("transport") =>
                    {
                        Once::NoConnection(status.message().to_string())
                    }
                    Code::Unavailable | Code::DeadlineExceeded | Code::Aborted => Once::Retry {
                        after,
                        reason: format!("gRPC {:?}: {}", status.code(), status.message()),
                    },
                    Code::ResourceExhausted if after.is_some() => Once::Retry {
                        after,
                        reason: format!("gRPC {:?}: {}", status.code(), status.message()),
                    },
                    Code::Unimplemented | Code::Internal
                        if status.message().contains("content-type")
                            || status.code() == Code::Unimplemented =>
                    {
                        Once::Fatal(SendError::NotOtlp {
                            url: url.clone(),
                            reason: format!(
                                "gRPC {:?}: {}; point --to at an OTLP/gRPC receiver (often port 4317)",
                                status.code(),
                                status.message()
                            ),
                        })
                    }
                    code => Once::Fatal(SendError::Refused {
                        url: url.clone(),
                        reason: format!("gRPC {code:?}: {}", status.message()),
                    }),
                }
            }
        }
    }
}

enum Once {
    Done(u64),
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    NoConnection(String),
    Fatal(SendError),
}

pub(crate) fn signal_of(payload: &Payload) -> ExportSignal {
    match payload {
        Payload::Traces(_) => ExportSignal::Traces,
        Payload::Logs(_) => ExportSignal::Logs,
        Payload::Metrics(_) => ExportSignal::Metrics,
    }
}

fn encode(payload: &Payload) -> Vec<u8> {
    match payload {
        Payload::Traces(r) => r.encode_to_vec(),
        Payload::Logs(r) => r.encode_to_vec(),
        Payload::Metrics(r) => r.encode_to_vec(),
    }
}

/// The rejected-item count of an export response, `None` when `bytes` is not one.
fn rejected_in(signal: ExportSignal, bytes: &[u8]) -> Option<u64> {
    Some(match signal {
        ExportSignal::Traces => ExportTraceServiceResponse::decode(bytes)
            .ok()?
            .partial_success
            .map_or(0, |p| p.rejected_spans as u64),
        ExportSignal::Logs => ExportLogsServiceResponse::decode(bytes)
            .ok()?
            .partial_success
            .map_or(0, |p| p.rejected_log_records as u64),
        ExportSignal::Metrics => ExportMetricsServiceResponse::decode(bytes)
            .ok()?
            .partial_success
            .map_or(0, |p| p.rejected_data_points as u64),
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}
