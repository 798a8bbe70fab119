//! Recorded backends: a wiremock server that answers obs's requests with the real responses
//! recorded in `fixtures/real/` (its README names the version and request behind each file).
//! One builder for every test that needs Tempo, Jaeger or Loki:
//!
//! ```ignore
//! let tempo = Recorded::start().await.with_tempo_traces().await;
//! tempo.get("/api/search").query("limit", "20").json("tempo/search_tags_service_checkout.json").await;
//! ```
//!
//! Each route matches GET, the path and the query parameters obs sends, so a request obs builds
//! wrongly gets wiremock's 404 and the test fails.

use std::ops::Deref;

use wiremock::matchers::{header, method, path, path_regex, query_param, query_param_is_missing};
use wiremock::{Mock, MockBuilder, MockServer, Respond, ResponseTemplate};

/// The recorded incident trace (errors, a pool timeout) and a healthy one.
pub const INCIDENT: &str = "aa3683ad52e9b569c004436d55771b03";
pub const OK: &str = "481a39364315ad7ca3fc1c64a0c790e2";

/// A recorded file's bytes.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/real")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A recorded JSON body, as the server sent it.
pub fn json_body(rel: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(fixture(rel), "application/json")
}

/// A recorded error body with its recorded status and content type.
pub fn text_body(status: u16, rel: &str, content_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(rel), content_type)
}

/// A mock server serving recorded responses; derefs to the `MockServer` (`uri()`,
/// `received_requests()`).
pub struct Recorded {
    server: MockServer,
}

impl Deref for Recorded {
    type Target = MockServer;

    fn deref(&self) -> &MockServer {
        &self.server
    }
}

impl Recorded {
    pub async fn start() -> Recorded {
        Recorded {
            server: MockServer::start().await,
        }
    }

    /// A route for `GET path`.
    pub fn get(&self, p: impl Into<String>) -> Route<'_> {
        self.route(Mock::given(method("GET")).and(path(p.into())))
    }

    /// A route for `GET` on every path the regular expression matches.
    pub fn get_matching(&self, pattern: &str) -> Route<'_> {
        self.route(Mock::given(method("GET")).and(path_regex(pattern)))
    }

    fn route(&self, mock: MockBuilder) -> Route<'_> {
        Route {
            server: &self.server,
            mock,
            priority: None,
        }
    }

    /// Tempo's recorded trace-by-id answers: the incident trace, the healthy one, a 503 shed
    /// and a slow pool wait.
    pub async fn with_tempo_traces(self) -> Recorded {
        for (id, file) in [
            (INCIDENT, "tempo/trace_by_id_incident_error.json"),
            (OK, "tempo/trace_by_id_ok.json"),
            (
                "2a0c234e2d1b0f75cdf00544ba7c7181",
                "tempo/trace_by_id_incident_503_shed.json",
            ),
            (
                "99428b9199a22ba7952d26984bf30ae3",
                "tempo/trace_by_id_incident_slow_200_pool_wait.json",
            ),
        ] {
            self.get(format!("/api/traces/{id}"))
                .header("accept", "application/json")
                .json(file)
                .await;
        }
        self
    }
}

/// One route being built: matchers, then the response, which mounts it.
pub struct Route<'a> {
    server: &'a MockServer,
    mock: MockBuilder,
    priority: Option<u8>,
}

impl Route<'_> {
    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.mock = self.mock.and(query_param(key, value.into()));
        self
    }

    pub fn query_missing(mut self, key: &str) -> Self {
        self.mock = self.mock.and(query_param_is_missing(key));
        self
    }

    pub fn header(mut self, key: &'static str, value: &'static str) -> Self {
        self.mock = self.mock.and(header(key, value));
        self
    }

    /// Lower numbers win; a fallback route takes a higher one (wiremock's default is 5).
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Answers with a recorded JSON body (HTTP 200).
    pub async fn json(self, rel: &str) {
        self.respond(json_body(rel)).await;
    }

    /// Answers with a recorded body, status and content type.
    pub async fn text(self, status: u16, rel: &str, content_type: &str) {
        self.respond(text_body(status, rel, content_type)).await;
    }

    /// Answers with anything else (a computed body, a delay, a responder).
    pub async fn respond(self, response: impl Respond + 'static) {
        let mut mock = self.mock.respond_with(response);
        if let Some(p) = self.priority {
            mock = mock.with_priority(p);
        }
        mock.mount(self.server).await;
    }
}
