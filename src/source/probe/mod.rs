//! `obs doctor`'s probes: what each configured backend answers to the requests investigate
//! relies on, as `model::capabilities` values. One module per signal's backends
//! (`prometheus`; `logs_traces` for Loki, Tempo and Jaeger); here the shared first request
//! (reachable, auth/tenant accepted) and [`doctor`], which probes every backend at once.
//!
//! A probe never fails: a dead URL, a timeout or an error status is a row with the error.
//! Backend JSON stays in these modules. Secrets are never part of a detail: the auth row says
//! which kind was sent, not its value.

mod logs_traces;
mod prometheus;

use std::time::Duration;

use crate::config::{Auth, Config, HttpSettings, TraceBackend};
use crate::model::SearchMode;
use crate::model::capabilities::{BackendCheck, Check, CheckState, names};
use crate::source::http::{HttpClient, SourceError, bytes_body::Body};

pub use prometheus::exemplar_support;

/// What the probes need to know besides the URLs.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Unix seconds, the end of the windows probes ask about.
    pub now: f64,
    /// A traces backend is configured, so investigate follows exemplars to traces and needs them.
    pub traces_configured: bool,
    /// The scrape interval investigate uses, and whether the user set it.
    pub scrape_interval: Duration,
    pub scrape_interval_set: bool,
    pub tempo_search: SearchMode,
}

impl ProbeOptions {
    pub fn new(config: &Config, now: f64) -> ProbeOptions {
        ProbeOptions {
            now,
            traces_configured: config.traces().is_some(),
            scrape_interval: config.scrape_interval,
            scrape_interval_set: config
                .source("scrape_interval")
                .is_some_and(|s| !matches!(s, crate::config::Source::Default)),
            tempo_search: config.tempo_search,
        }
    }
}

/// Probes every backend of the configuration, all at once; each probe's requests use its
/// backend's own timeout.
pub async fn doctor(config: &Config, opts: &ProbeOptions) -> Vec<BackendCheck> {
    let prom = prometheus::probe(&config.prometheus, opts);
    let loki = async {
        match &config.loki {
            Some(s) => Some(logs_traces::loki(s, opts).await),
            None => None,
        }
    };
    let tempo = async {
        match &config.tempo {
            Some(s) => Some(logs_traces::tempo(s, opts).await),
            None => None,
        }
    };
    let jaeger = async {
        match &config.jaeger {
            Some(s) => Some(logs_traces::jaeger(s).await),
            None => None,
        }
    };
    let (prom, loki, tempo, jaeger) = tokio::join!(prom, loki, tempo, jaeger);
    let mut out = vec![prom];
    out.extend(loki);
    // The traces backend investigate uses first, the other one (if also configured) after.
    let traces = match config.traces() {
        Some((TraceBackend::Jaeger, _)) => [jaeger, tempo],
        _ => [tempo, jaeger],
    };
    out.extend(traces.into_iter().flatten());
    out
}

/// A probe of one backend in progress.
struct Probe {
    http: Option<HttpClient>,
    backend: BackendCheck,
    settings: HttpSettings,
    /// The configuration key and flag that set the URL, for fixes.
    url_key: &'static str,
}

impl Probe {
    fn new(signal: &str, kind: &'static str, url_key: &'static str, s: &HttpSettings) -> Probe {
        let mut backend = BackendCheck {
            signal: signal.into(),
            kind: kind.into(),
            url: s.url.clone(),
            reachable: false,
            version: None,
            checks: Vec::new(),
        };
        let http = match HttpClient::new(kind, s) {
            Ok(h) => Some(h),
            Err(e) => {
                backend.checks.push(
                    Check::new(names::REACHABLE, CheckState::Failed, e.to_string())
                        .required(true)
                        .fix("fix the context's connection settings (obs config shows them)"),
                );
                None
            }
        };
        Probe {
            http,
            backend,
            settings: s.clone(),
            url_key,
        }
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<(u16, Body), SourceError> {
        match &self.http {
            Some(h) => h.get(path, query).await,
            None => Err(SourceError::Setup {
                backend: "probe",
                reason: "no client".into(),
            }),
        }
    }

    /// Records the first request's outcome as the `reachable` and `auth/tenant` rows; true when
    /// the backend answered and did not reject the credentials, so the other probes may run.
    fn first(&mut self, answer: &Result<(u16, Body), SourceError>) -> bool {
        if self.http.is_none() {
            return false;
        }
        let flag = self.url_key.replace('_', "-");
        match answer {
            Err(e) => {
                self.backend.checks.push(
                    Check::new(names::REACHABLE, CheckState::Failed, e.to_string())
                        .required(true)
                        .fix(format!(
                            "check that it runs and that {key} (--{flag}, or in the context) \
                             is its base URL",
                            key = self.url_key
                        )),
                );
                false
            }
            Ok((status, body)) => {
                self.backend.reachable = true;
                self.backend.checks.push(Check::new(
                    names::REACHABLE,
                    CheckState::Ok,
                    format!("HTTP {status}"),
                ));
                let sent = self.credentials();
                if matches!(status, 401 | 403) {
                    self.backend.checks.push(
                        Check::new(
                            names::AUTH,
                            CheckState::Failed,
                            format!("rejected (HTTP {status}, {sent}): {}", body.snippet()),
                        )
                        .required(true)
                        .fix(
                            "set the backend's username and password or bearer_token (and \
                             tenant for multi-tenant Mimir, Loki, Tempo) in the context or the \
                             OBS_* variables",
                        ),
                    );
                    false
                } else {
                    self.backend.checks.push(Check::new(
                        names::AUTH,
                        CheckState::Ok,
                        format!("accepted ({sent})"),
                    ));
                    true
                }
            }
        }
    }

    /// Which credentials are sent, never their values.
    fn credentials(&self) -> String {
        let auth = match &self.settings.auth {
            Some(Auth::Basic { .. }) => Some("basic auth"),
            Some(Auth::Bearer { .. }) => Some("bearer token"),
            None => None,
        };
        let mut parts: Vec<String> = auth.into_iter().map(str::to_string).collect();
        if let Some(t) = &self.settings.tenant {
            parts.push(format!("tenant {t:?}"));
        }
        if parts.is_empty() {
            "no auth or tenant sent".into()
        } else {
            parts.join(", ")
        }
    }

    /// The rows that could not be checked because the first request failed.
    fn not_checked(&mut self, rows: &[(&str, bool)]) {
        for (name, required) in rows {
            self.backend.checks.push(
                Check::new(name, CheckState::Unknown, "not checked: see reachable/auth")
                    .required(*required),
            );
        }
    }

    fn push(&mut self, check: Check) {
        self.backend.checks.push(check);
    }

    fn done(self) -> BackendCheck {
        self.backend
    }
}

/// A row for an answer that is neither a success nor a clear "not here": the status and the
/// start of the body, or the transport error.
fn failed(name: &str, answer: &Result<(u16, Body), SourceError>) -> Check {
    let detail = match answer {
        Ok((status, body)) => format!("HTTP {status}: {}", body.snippet()),
        Err(e) => e.to_string(),
    };
    Check::new(name, CheckState::Failed, detail)
}

/// True for the statuses a server gives for a path it does not have.
fn not_found(status: u16) -> bool {
    matches!(status, 404 | 405 | 501)
}

fn json(body: &Body) -> Option<serde_json::Value> {
    serde_json::from_slice(&body.0).ok()
}
