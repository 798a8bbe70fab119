//! The HTTP plumbing every remote source shares: one `reqwest::Client` per backend with the
//! tenant header, auth, extra headers, CA and timeout applied, and the mapping of transport
//! failures to errors that name the backend and URL.
//!
//! Secrets (auth, sensitive headers) are attached here and marked sensitive so that neither
//! `Debug` output nor logs ever carry them; URLs in messages never include credentials.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{Auth, HttpSettings};

/// A failure talking to a backend. Every message names the backend kind and the URL.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{backend} at {url} is unreachable: {reason} (is it running, and is the URL right?)")]
    Unreachable {
        backend: &'static str,
        url: String,
        reason: String,
    },
    #[error("{backend} at {url} did not answer within {}s (raise the context's timeout or narrow the window)", .after.as_secs_f64())]
    Timeout {
        backend: &'static str,
        url: String,
        after: Duration,
    },
    #[error("{backend} at {url} answered HTTP {status}: {body}")]
    Http {
        backend: &'static str,
        url: String,
        status: u16,
        body: String,
    },
    #[error("{backend} at {url} rejected the query ({error_type}): {error}")]
    Api {
        backend: &'static str,
        url: String,
        error_type: String,
        error: String,
    },
    #[error("{backend} at {url} sent a response obs cannot read: {reason}")]
    Decode {
        backend: &'static str,
        url: String,
        reason: String,
    },
    #[error("cannot set up the {backend} client: {reason}")]
    Setup {
        backend: &'static str,
        reason: String,
    },
}

impl SourceError {
    /// The URL the failure happened at, when there was one.
    pub fn url(&self) -> Option<&str> {
        match self {
            SourceError::Unreachable { url, .. }
            | SourceError::Timeout { url, .. }
            | SourceError::Http { url, .. }
            | SourceError::Api { url, .. }
            | SourceError::Decode { url, .. } => Some(url),
            SourceError::Setup { .. } => None,
        }
    }
}

/// A configured client for one backend.
#[derive(Debug, Clone)]
pub struct HttpClient {
    pub backend: &'static str,
    base: String,
    client: reqwest::Client,
    auth: Option<Auth>,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(backend: &'static str, settings: &HttpSettings) -> Result<HttpClient, SourceError> {
        let setup = |reason: String| SourceError::Setup { backend, reason };
        let mut headers = HeaderMap::new();
        if let Some(tenant) = &settings.tenant {
            let value = HeaderValue::from_str(tenant)
                .map_err(|_| setup(format!("tenant {tenant:?} is not a valid header value")))?;
            headers.insert("X-Scope-OrgID", value);
        }
        for (name, value) in &settings.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| setup(format!("header name {name:?} is not valid")))?;
            let mut value = HeaderValue::from_str(value.expose())
                .map_err(|_| setup(format!("the value of header {name:?} is not valid")))?;
            value.set_sensitive(true);
            headers.insert(header, value);
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("obs/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &settings.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| setup(format!("cannot read CA file {}: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| setup(format!("CA file {} is not PEM: {e}", ca.display())))?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|e| setup(e.to_string()))?;
        Ok(HttpClient {
            backend,
            base: settings.url.trim_end_matches('/').to_string(),
            client,
            auth: settings.auth.clone(),
            timeout: settings.timeout,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The full URL of an API path, for requests and for messages.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GETs `path` with query parameters and returns the status and body.
    ///
    /// Transport failures become [`SourceError`]s; HTTP error statuses are returned to the
    /// caller, which knows how its backend words errors.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(u16, bytes_body::Body), SourceError> {
        self.get_with_headers(path, query, &[]).await
    }

    /// Like [`HttpClient::get`], with extra request headers (e.g. `Accept` where a backend
    /// answers in protobuf unless asked for JSON).
    pub async fn get_with_headers(
        &self,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&'static str, &str)],
    ) -> Result<(u16, bytes_body::Body), SourceError> {
        let url = self.url(path);
        // The URL and parameters only: headers carry the tenant, auth and other secrets.
        tracing::debug!(backend = self.backend, %url, ?query, "GET");
        let mut request = self.client.get(&url).query(query);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        // reqwest marks both auth headers sensitive, so they never show in Debug output.
        request = match &self.auth {
            Some(Auth::Basic { username, password }) => {
                request.basic_auth(username, Some(password.expose()))
            }
            Some(Auth::Bearer { token }) => request.bearer_auth(token.expose()),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(&url, e))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&url, e))?;
        Ok((status, bytes_body::Body(body.to_vec())))
    }

    fn transport_error(&self, url: &str, e: reqwest::Error) -> SourceError {
        if e.is_timeout() {
            SourceError::Timeout {
                backend: self.backend,
                url: url.to_string(),
                after: self.timeout,
            }
        } else {
            SourceError::Unreachable {
                backend: self.backend,
                url: url.to_string(),
                reason: error_chain(&e),
            }
        }
    }
}

/// A response body with a lossy, bounded text view for error messages.
pub mod bytes_body {
    #[derive(Debug, Clone)]
    pub struct Body(pub Vec<u8>);

    impl Body {
        /// The body as text for an error message: trimmed and cut to a readable length.
        pub fn snippet(&self) -> String {
            let text = String::from_utf8_lossy(&self.0);
            let text = text.trim();
            const MAX: usize = 500;
            if text.len() > MAX {
                let mut end = MAX;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}…", &text[..end])
            } else {
                text.to_string()
            }
        }
    }
}

/// Joins an error's source chain into one line (reqwest hides the useful part in sources).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_is_bounded() {
        let body = bytes_body::Body("é".repeat(1000).into_bytes());
        assert!(body.snippet().len() <= 504);
    }
}
