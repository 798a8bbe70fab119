//! Talking to an OpenAI-compatible server (OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio,
//! LiteLLM) through async-openai, on obs's own reqwest/rustls stack.
//!
//! This module owns the transport policy: bounded retries of 429, 5xx and refused connections
//! that honour `Retry-After` (and OpenAI's `retry-after-ms`) up to a cap, a timeout for the
//! response to start and the same timeout between two chunks of the stream (a stalled stream),
//! a stream that ends without a finish reason (truncated), and error messages that carry the
//! server's own text. It never logs a header, a body or a URL's credentials and query.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_openai::Client;
use async_openai::config::Config;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use futures_util::StreamExt;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::SecretString;
use serde_json::Value;

use super::redact::url_for_log;
use super::settings::LlmSettings;

/// Attempts in all (the first and three retries).
const MAX_ATTEMPTS: u32 = 4;
/// The longest `Retry-After` obs waits; a server asking for more gets an error, not a hang.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What came back.
#[derive(Debug, Clone, Default)]
pub struct Completion {
    pub content: String,
    pub finish_reason: Option<String>,
    /// Prompt and completion tokens, when the server reports usage.
    pub usage: Option<(u32, u32)>,
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the LLM server at {url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
        code: Option<String>,
        /// Seconds the server asked to wait, when that was more than obs waits.
        retry_after: Option<u64>,
    },
    #[error(
        "the LLM server at {url} did not start answering within {secs} s; raise `timeout` in [contexts.NAME.llm] or pass --timeout"
    )]
    Timeout { url: String, secs: u64 },
    #[error(
        "the LLM server at {url} stopped sending for {secs} s in the middle of its answer (the part received is shown unverified)"
    )]
    Stalled {
        url: String,
        secs: u64,
        partial: String,
    },
    #[error(
        "the answer stream from {url} ended before the model finished (no finish reason); the part received is shown unverified"
    )]
    Truncated { url: String, partial: String },
    #[error("cannot reach the LLM server at {url}: {reason}; check base_url / OPENAI_BASE_URL")]
    Connect { url: String, reason: String },
    #[error("the LLM server at {url} sent something obs cannot read: {reason}")]
    Protocol { url: String, reason: String },
}

impl CallError {
    /// What arrived before the failure, if anything.
    pub fn partial(&self) -> Option<&str> {
        match self {
            CallError::Stalled { partial, .. } | CallError::Truncated { partial, .. } => {
                Some(partial.as_str()).filter(|p| !p.is_empty())
            }
            _ => None,
        }
    }

    /// The server refused the `response_format` (older vLLM, Ollama, LM Studio).
    pub fn format_rejected(&self) -> bool {
        match self {
            CallError::Status {
                status: 400 | 422,
                message,
                ..
            } => {
                let m = message.to_ascii_lowercase();
                m.contains("response_format")
                    || m.contains("json_schema")
                    || m.contains("json_object")
            }
            _ => false,
        }
    }

    /// The input did not fit the model's context window.
    pub fn context_length(&self) -> bool {
        match self {
            CallError::Status { message, code, .. } => {
                let m = message.to_ascii_lowercase();
                code.as_deref() == Some("context_length_exceeded")
                    || m.contains("context length")
                    || m.contains("context_length")
                    || m.contains("maximum context")
            }
            _ => false,
        }
    }
}

/// async-openai's view of the endpoint: base URL, key, extra headers and query parameters
/// (Azure's `api-version`). Header values are marked sensitive so no Debug output shows them.
struct Endpoint {
    base: String,
    key: SecretString,
    headers: HeaderMap,
    query: Vec<(String, String)>,
}

impl Config for Endpoint {
    fn headers(&self) -> HeaderMap {
        self.headers.clone()
    }
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    fn query(&self) -> Vec<(&str, &str)> {
        self.query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
    fn api_base(&self) -> &str {
        &self.base
    }
    fn api_key(&self) -> &SecretString {
        &self.key
    }
}

fn endpoint(s: &LlmSettings) -> Result<Endpoint, CallError> {
    let url = url_for_log(&s.base_url);
    let bad = |what: &str| CallError::Protocol {
        url: url.clone(),
        reason: format!("{what} is not a valid header value"),
    };
    let mut headers = HeaderMap::new();
    if let Some(key) = &s.api_key {
        let mut v = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
            .map_err(|_| bad("the API key"))?;
        v.set_sensitive(true);
        headers.insert(AUTHORIZATION, v);
    }
    for (name, value) in &s.headers {
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("a header name"))?;
        let mut v = HeaderValue::from_str(value.expose()).map_err(|_| bad("a header"))?;
        v.set_sensitive(value.is_secret());
        headers.insert(n, v);
    }
    Ok(Endpoint {
        base: s.base_url.clone(),
        key: SecretString::from(
            s.api_key
                .as_ref()
                .map(|k| k.expose().to_string())
                .unwrap_or_default(),
        ),
        headers,
        query: s
            .query
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

/// Shared between the transport and the caller: attempts made, and a `Retry-After` that was
/// too long to honour.
#[derive(Debug, Default)]
struct Attempts {
    count: u32,
    refused_wait: Option<Duration>,
}

/// The HTTP transport under async-openai: reqwest plus obs's retry and timeout policy.
#[derive(Clone)]
struct Transport {
    http: reqwest::Client,
    timeout: Duration,
    url: String,
    attempts: Arc<Mutex<Attempts>>,
}

#[derive(Debug, thiserror::Error)]
#[error("no response within {0:?}")]
struct StartTimeout(Duration);

/// `Retry-After` in seconds or as an HTTP date, or OpenAI's `retry-after-ms`.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = jiff::fmt::rfc2822::parse(v).ok()?.timestamp();
    let now = jiff::Timestamp::now();
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

impl Transport {
    async fn send(self, factory: HttpRequestFactory) -> Result<reqwest::Response, OpenAIError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Ok(mut a) = self.attempts.lock() {
                a.count = attempt;
            }
            let request = factory.build().await?;
            tracing::debug!(attempt, url = %self.url, "sending the explain request");
            let result = tokio::time::timeout(self.timeout, self.http.execute(request)).await;
            let last = attempt >= MAX_ATTEMPTS;
            match result {
                Err(_) => return Err(OpenAIError::Boxed(Box::new(StartTimeout(self.timeout)))),
                Ok(Err(e)) if e.is_connect() && !last => {
                    tracing::warn!(
                        "cannot reach the LLM server at {}; retrying in {:.1} s (attempt {} of {MAX_ATTEMPTS})",
                        self.url,
                        backoff.as_secs_f64(),
                        attempt + 1
                    );
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Ok(Err(e)) => return Err(OpenAIError::Reqwest(e.without_url())),
                Ok(Ok(response)) => {
                    let status = response.status();
                    if last || !(status.as_u16() == 429 || status.is_server_error()) {
                        return Ok(response);
                    }
                    let wait = retry_after(response.headers()).unwrap_or(backoff);
                    if wait > MAX_RETRY_AFTER {
                        if let Ok(mut a) = self.attempts.lock() {
                            a.refused_wait = Some(wait);
                        }
                        return Ok(response);
                    }
                    tracing::warn!(
                        "the LLM server answered {status}; retrying in {:.1} s (attempt {} of {MAX_ATTEMPTS})",
                        wait.as_secs_f64(),
                        attempt + 1
                    );
                    drop(response);
                    tokio::time::sleep(wait).await;
                    backoff *= 2;
                }
            }
        }
    }
}

impl tower::Service<HttpRequestFactory> for Transport {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        Box::pin(self.clone().send(factory))
    }
}

fn map_error(
    e: OpenAIError,
    url: &str,
    attempts: &Mutex<Attempts>,
    timeout: Duration,
) -> CallError {
    let url = url.to_string();
    match e {
        OpenAIError::ApiError(api) => {
            let refused = attempts.lock().ok().and_then(|a| a.refused_wait);
            let mut message = api.api_error.message.trim().to_string();
            if message.is_empty() {
                message = "(no message)".to_string();
            }
            if let Some(wait) = refused {
                message.push_str(&format!(
                    " (the server asked to wait {} s before retrying, longer than obs waits; try again later)",
                    wait.as_secs()
                ));
            }
            CallError::Status {
                url,
                status: api.status_code.as_u16(),
                message,
                code: api.api_error.code,
                retry_after: refused.map(|w| w.as_secs()),
            }
        }
        OpenAIError::Reqwest(e) if e.is_connect() => CallError::Connect {
            url,
            reason: error_chain(&e),
        },
        OpenAIError::Reqwest(e) if e.is_timeout() => CallError::Timeout {
            url,
            secs: timeout.as_secs(),
        },
        OpenAIError::Boxed(e) if e.is::<StartTimeout>() => CallError::Timeout {
            url,
            secs: timeout.as_secs(),
        },
        OpenAIError::JSONDeserialize(_, content) => CallError::Protocol {
            url,
            reason: format!("an error that is not JSON: {}", clip(&content, 300)),
        },
        other => CallError::Protocol {
            url,
            reason: other.to_string(),
        },
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        source = s.source();
    }
    out
}

fn clip(s: &str, max: usize) -> String {
    let mut t: String = s.chars().take(max).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

/// Sends `body` (a chat-completions request with `stream: true`) and streams the answer's
/// text to `on_delta` as it arrives.
pub async fn complete(
    settings: &LlmSettings,
    body: &Value,
    on_delta: &mut (dyn FnMut(&str) + Send),
) -> Result<Completion, CallError> {
    let url = url_for_log(&settings.base_url);
    let request = super::request::typed(body).map_err(|e| CallError::Protocol {
        url: url.clone(),
        reason: format!("the request does not fit the chat-completions types: {e}"),
    })?;
    let http = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| CallError::Connect {
            url: url.clone(),
            reason: error_chain(&e),
        })?;
    let attempts = Arc::new(Mutex::new(Attempts::default()));
    let transport = Transport {
        http: http.clone(),
        timeout: settings.timeout,
        url: url.clone(),
        attempts: attempts.clone(),
    };
    let client = Client::build(http, endpoint(settings)?).with_http_service(transport);
    let mut stream = client
        .chat()
        .create_stream(request)
        .await
        .map_err(|e| map_error(e, &url, &attempts, settings.timeout))?;

    let mut out = Completion::default();
    loop {
        let next = match tokio::time::timeout(settings.timeout, stream.next()).await {
            Err(_) => {
                return Err(CallError::Stalled {
                    url,
                    secs: settings.timeout.as_secs(),
                    partial: out.content,
                });
            }
            Ok(next) => next,
        };
        match next {
            None => break,
            Some(Err(e)) => {
                return Err(match e {
                    // A chunk that does not parse, or the connection cut mid-event.
                    OpenAIError::StreamError(_) | OpenAIError::JSONDeserialize(..) => {
                        CallError::Truncated {
                            url,
                            partial: out.content,
                        }
                    }
                    other => map_error(other, &url, &attempts, settings.timeout),
                });
            }
            Some(Ok(chunk)) => {
                if let Some(u) = &chunk.usage {
                    out.usage = Some((u.prompt_tokens, u.completion_tokens));
                }
                for choice in chunk.choices.iter().filter(|c| c.index == 0) {
                    if let Some(text) = &choice.delta.content {
                        out.content.push_str(text);
                        on_delta(text);
                    }
                    if let Some(reason) = &choice.finish_reason {
                        out.finish_reason = Some(
                            serde_json::to_value(reason)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_else(|| format!("{reason:?}")),
                        );
                    }
                }
            }
        }
    }
    out.attempts = attempts.lock().map(|a| a.count).unwrap_or(1);
    if out.finish_reason.is_none() {
        return Err(CallError::Truncated {
            url,
            partial: out.content,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn server_messages_are_classified() {
        let status = |status, message: &str, code: Option<&str>| CallError::Status {
            url: "u".into(),
            status,
            message: message.into(),
            code: code.map(str::to_string),
            retry_after: None,
        };
        assert!(
            status(
                400,
                "Invalid parameter: 'response_format' of type 'json_schema' is not supported",
                None
            )
            .format_rejected()
        );
        assert!(!status(401, "response_format", None).format_rejected());
        assert!(
            status(
                400,
                "This model's maximum context length is 8192 tokens",
                None
            )
            .context_length()
        );
        assert!(status(400, "too long", Some("context_length_exceeded")).context_length());
    }
}
