//! Configuration: finding and reading the config file, selecting a named
//! context (like kubectl), layering flags > env > file > defaults once, and
//! validating the result into a [`Config`] that records where every setting
//! came from.
//!
//! This module owns the file format, the `OBS_*` environment variable names,
//! defaults, validation messages and secret masking. It reads the config
//! file (and checks that `ca_file` exists) but does no network I/O, never
//! touches the process environment directly (callers pass a lookup function)
//! and knows nothing of clap: the CLI fills an [`Overrides`] from its flags.
//! Nothing downstream should re-layer settings: use the resolved [`Config`].
//!
//! Here: the resolved model ([`Config`], [`HttpSettings`], [`Auth`], [`Source`]), the defaults
//! and variable names, and [`load`]. `file` reads and parses the file, `layer` layers each
//! setting and records its origin, `connection` layers one backend's connection, `validate`
//! checks single values, `render` prints `obs config`, `secrets` masks credentials, `error`
//! holds [`ConfigError`]. This module imports `model` and `timespec` only, never `source`.
//!
//! File shape (`$XDG_CONFIG_HOME/obs/config.toml`, falling back to
//! `$HOME/.config/obs/config.toml`, or `--config PATH` / `OBS_CONFIG`):
//!
//! ```toml
//! current_context = "prod"   # used when neither --context nor OBS_CONTEXT is set
//!
//! [contexts.prod]
//! prometheus_url = "https://prometheus.example.com"  # base URL, http or https
//! tenant = "team-a"             # sent as X-Scope-OrgID
//! username = "alice"            # basic auth, needs password ...
//! password = "s3cret"
//! # bearer_token = "..."        # ... or bearer auth (not both in one layer)
//! headers = { "X-Extra" = "1" } # extra request headers
//! ca_file = "corp-ca.pem"       # PEM bundle; relative to this file's folder
//! timeout = "30s"               # per request
//! error_query = 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'
//! latency_query = 'http_request_duration_seconds_bucket{service="checkout"}'
//! service_label = "service"     # default: try service, service_name, job
//! candidates = ['rate(foo_total[5m])']  # extra candidate PromQL
//! candidate_match = '{namespace="shop"}'
//! max_candidates = 500
//! concurrency = 16
//! scrape_interval = "15s"       # minimum step and rate-window basis
//! ```

mod connection;
mod error;
mod file;
mod layer;
mod llm;
mod render;
mod secrets;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::model::{SearchMode, TraceMatch};
use crate::timespec::serialize_duration;

use file::{FileContext, read_file};
use layer::{Resolver, env_get, select_context};

pub use error::ConfigError;
pub use file::{default_config_path, default_store_path};
pub use llm::LlmFile;
pub use render::render_toml;
pub use secrets::{MaybeSecret, Secret, is_sensitive_header};

/// Context used when none is selected and the file defines none.
pub const DEFAULT_CONTEXT: &str = "default";
pub const DEFAULT_PROMETHEUS_URL: &str = "http://localhost:9090";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_CONCURRENCY: usize = 16;
pub const DEFAULT_MAX_CANDIDATES: usize = 500;
pub const DEFAULT_SCRAPE_INTERVAL: Duration = Duration::from_secs(15);
/// Labels tried, in order, to identify the service when `service_label` is unset.
pub const DEFAULT_SERVICE_LABELS: [&str; 3] = ["service", "service_name", "job"];
/// Upper bound for `concurrency`, to protect the backend from typos.
pub const MAX_CONCURRENCY: usize = 1024;

/// What [`Secret`] and secret header values print instead of their value.
pub const MASK: &str = "********";

pub const ENV_CONTEXT: &str = "OBS_CONTEXT";
pub const ENV_CONFIG: &str = "OBS_CONFIG";
pub const ENV_PROMETHEUS_URL: &str = "OBS_PROMETHEUS_URL";
pub const ENV_TENANT: &str = "OBS_TENANT";
pub const ENV_USERNAME: &str = "OBS_USERNAME";
pub const ENV_PASSWORD: &str = "OBS_PASSWORD";
pub const ENV_BEARER_TOKEN: &str = "OBS_BEARER_TOKEN";
pub const ENV_CA_FILE: &str = "OBS_CA_FILE";
pub const ENV_TIMEOUT: &str = "OBS_TIMEOUT";
pub const ENV_ERROR_QUERY: &str = "OBS_ERROR_QUERY";
pub const ENV_SERVICE_LABEL: &str = "OBS_SERVICE_LABEL";
pub const ENV_TEMPO_URL: &str = "OBS_TEMPO_URL";
pub const ENV_JAEGER_URL: &str = "OBS_JAEGER_URL";
pub const ENV_LOKI_URL: &str = "OBS_LOKI_URL";
pub const ENV_GRAFANA_URL: &str = "OBS_GRAFANA_URL";
/// logcli's variables, honoured for Loki so that an existing logcli setup just works.
pub const ENV_LOKI_ADDR: &str = "LOKI_ADDR";
pub const ENV_LOKI_ORG_ID: &str = "LOKI_ORG_ID";
pub const ENV_LOKI_USERNAME: &str = "LOKI_USERNAME";
pub const ENV_LOKI_PASSWORD: &str = "LOKI_PASSWORD";
pub const ENV_LOKI_BEARER_TOKEN: &str = "LOKI_BEARER_TOKEN";

/// Every environment variable [`load`] reads (besides `XDG_CONFIG_HOME` and
/// `HOME` for the default file path), for help texts.
pub const ENV_VARS: [&str; 20] = [
    ENV_CONTEXT,
    ENV_CONFIG,
    ENV_PROMETHEUS_URL,
    ENV_TENANT,
    ENV_USERNAME,
    ENV_PASSWORD,
    ENV_BEARER_TOKEN,
    ENV_CA_FILE,
    ENV_TIMEOUT,
    ENV_ERROR_QUERY,
    ENV_SERVICE_LABEL,
    ENV_TEMPO_URL,
    ENV_JAEGER_URL,
    ENV_LOKI_URL,
    ENV_GRAFANA_URL,
    ENV_LOKI_ADDR,
    ENV_LOKI_ORG_ID,
    ENV_LOKI_USERNAME,
    ENV_LOKI_PASSWORD,
    ENV_LOKI_BEARER_TOKEN,
];

/// HTTP authentication for a backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    /// `Authorization: Basic base64(username:password)`.
    Basic { username: String, password: Secret },
    /// `Authorization: Bearer <token>`.
    Bearer { token: Secret },
}

/// Connection settings for one HTTP backend. Prometheus uses one today;
/// later backends (Loki, Tempo, Jaeger) get their own from the same context's
/// auth, tenant, headers, CA and timeout settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpSettings {
    /// Base URL: `http` or `https`, lowercase scheme, no trailing slash, no
    /// credentials, query or fragment. Append API paths such as
    /// `/api/v1/query_range` to it.
    pub url: String,
    /// Tenant ID, to send as `X-Scope-OrgID` (Cortex, Mimir, Thanos, Loki).
    pub tenant: Option<String>,
    pub auth: Option<Auth>,
    /// Extra headers to send on every request, names as written. Validated
    /// as HTTP header names and values; never contains `Authorization` when
    /// `auth` is set, nor `X-Scope-OrgID` when `tenant` is set.
    pub headers: BTreeMap<String, MaybeSecret>,
    /// PEM CA bundle to trust in addition to the system roots; it existed
    /// when the config was loaded.
    pub ca_file: Option<PathBuf>,
    /// Per-request timeout, > 0.
    #[serde(serialize_with = "serialize_duration")]
    pub timeout: Duration,
}

/// Where a resolved setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, e.g. `--timeout`.
    Flag(&'static str),
    /// An environment variable, e.g. `OBS_TIMEOUT`.
    Env(&'static str),
    /// The config file at this path.
    File(PathBuf),
    /// The built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "env {var}"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The resolved, validated configuration. Serializes with secrets masked
/// (for `obs config -o json`); see [`render_toml`] for the text form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Name of the selected context (`"default"` when none is defined).
    pub context: String,
    /// The config file read, if any.
    pub config_file: Option<PathBuf>,
    pub prometheus: HttpSettings,
    /// Tempo, when `tempo_url` is set.
    pub tempo: Option<HttpSettings>,
    /// Jaeger (query service), when `jaeger_url` is set.
    pub jaeger: Option<HttpSettings>,
    /// Loki, when `loki_url` (or `LOKI_ADDR`) is set.
    pub loki: Option<HttpSettings>,
    /// Grafana, for Explore links in `-o markdown`, when `grafana_url` is set.
    pub grafana: Option<crate::report::grafana::Grafana>,
    /// How a trace id is looked up in logs.
    pub trace_match: TraceMatch,
    /// How Tempo is searched: TraceQL (2.0+) or tags.
    #[serde(serialize_with = "serialize_search_mode")]
    pub tempo_search: SearchMode,
    /// Stream selector that log searches run under, e.g. `{namespace="shop"}`.
    pub log_selector: Option<String>,
    /// Loki label that names the service; `None` detects it (service_name, service, app, job…).
    pub log_service_label: Option<String>,
    /// PromQL for the error-rate symptom, overriding auto-detection.
    pub error_query: Option<String>,
    /// Histogram selector to fetch exemplars from.
    pub latency_query: Option<String>,
    /// Label holding the service name (a valid Prometheus label name);
    /// `None` means try [`DEFAULT_SERVICE_LABELS`] in order, see
    /// [`Config::service_labels`].
    pub service_label: Option<String>,
    /// Extra candidate PromQL expressions: the file's, then the flags',
    /// exact duplicates removed.
    pub candidates: Vec<String>,
    /// Series selector restricting candidate discovery.
    pub candidate_match: Option<String>,
    /// >= 1.
    pub max_candidates: usize,
    /// 1..=[`MAX_CONCURRENCY`].
    pub concurrency: usize,
    /// Minimum query step and rate-window basis, > 0.
    #[serde(serialize_with = "serialize_duration")]
    pub scrape_interval: Duration,
    /// Provenance of every setting that has a value, keyed by file key
    /// (`prometheus_url`, `timeout`, ...), plus `context`, `config_file`,
    /// `headers.<Name>` and `candidates[<i>]`.
    pub sources: BTreeMap<String, Source>,
    /// The context's `[contexts.NAME.llm]` table as written; the explain module
    /// layers it under `OPENAI_*` and flags (not shown by `obs config`).
    #[serde(skip)]
    pub llm: Option<LlmFile>,
}

fn serialize_search_mode<S: Serializer>(mode: &SearchMode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match mode {
        SearchMode::TraceQl => "traceql",
        SearchMode::Tags => "tags",
    })
}

/// Which traces backend a context uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceBackend {
    Tempo,
    Jaeger,
}

impl Config {
    /// The traces backend: the one of `tempo_url` and `jaeger_url` that is set; when both are,
    /// the one set at the higher layer (flag > env > file), Tempo on a tie.
    pub fn traces(&self) -> Option<(TraceBackend, &HttpSettings)> {
        let rank = |key: &str| match self.source(key) {
            Some(Source::Flag(_)) => 3,
            Some(Source::Env(_)) => 2,
            Some(Source::File(_)) => 1,
            _ => 0,
        };
        match (&self.tempo, &self.jaeger) {
            (Some(_), Some(j)) if rank("jaeger_url") > rank("tempo_url") => {
                Some((TraceBackend::Jaeger, j))
            }
            (Some(t), _) => Some((TraceBackend::Tempo, t)),
            (None, Some(j)) => Some((TraceBackend::Jaeger, j)),
            (None, None) => None,
        }
    }

    /// Where the setting `key` (as in [`Config::sources`]) came from.
    pub fn source(&self, key: &str) -> Option<&Source> {
        self.sources.get(key)
    }

    /// Labels to try, in order, to identify a service: the configured
    /// `service_label` alone, or [`DEFAULT_SERVICE_LABELS`].
    pub fn service_labels(&self) -> Vec<&str> {
        match &self.service_label {
            Some(label) => vec![label.as_str()],
            None => DEFAULT_SERVICE_LABELS.to_vec(),
        }
    }
}

/// Settings given as command-line flags; `None` (or empty) means "not
/// given". Secrets (password, bearer token) are deliberately not flags: they
/// would show in `ps` and shell history; use the file or `OBS_*` variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--context`
    pub context: Option<String>,
    /// `--prometheus-url`
    pub prometheus_url: Option<String>,
    /// `--tenant`
    pub tenant: Option<String>,
    /// `--username` (the password comes from the file or `OBS_PASSWORD`)
    pub username: Option<String>,
    /// `--ca-file`
    pub ca_file: Option<PathBuf>,
    /// `--timeout`, a duration such as `30s`
    pub timeout: Option<String>,
    /// `--error-query`
    pub error_query: Option<String>,
    /// `--latency-query`
    pub latency_query: Option<String>,
    /// `--service-label`
    pub service_label: Option<String>,
    /// `--candidate-match`
    pub candidate_match: Option<String>,
    /// `--candidate`, repeatable; appended to the file's list
    pub candidates: Vec<String>,
    /// `--max-candidates`
    pub max_candidates: Option<usize>,
    /// `--concurrency`
    pub concurrency: Option<usize>,
    /// `--scrape-interval`, a duration such as `15s`
    pub scrape_interval: Option<String>,
    /// `--tempo-url`
    pub tempo_url: Option<String>,
    /// `--jaeger-url`
    pub jaeger_url: Option<String>,
    /// `--loki-url`
    pub loki_url: Option<String>,
    /// `--trace-match`
    pub trace_match: Option<String>,
    /// `--selector`
    pub log_selector: Option<String>,
}

/// The flag each overridable key is named after in messages and provenance.
fn flag_name(key: &str) -> &'static str {
    match key {
        "context" => "--context",
        "config_file" => "--config",
        "prometheus_url" => "--prometheus-url",
        "tenant" => "--tenant",
        "username" => "--username",
        "ca_file" => "--ca-file",
        "timeout" => "--timeout",
        "error_query" => "--error-query",
        "latency_query" => "--latency-query",
        "service_label" => "--service-label",
        "candidate_match" => "--candidate-match",
        "candidates" => "--candidate",
        "max_candidates" => "--max-candidates",
        "concurrency" => "--concurrency",
        "scrape_interval" => "--scrape-interval",
        "tempo_url" => "--tempo-url",
        "jaeger_url" => "--jaeger-url",
        "loki_url" => "--loki-url",
        "trace_match" => "--trace-match",
        "log_selector" => "--selector (--log-selector)",
        _ => "--?",
    }
}

/// Loads the configuration once: finds the file (`config_path`, i.e.
/// `--config`, else `OBS_CONFIG`, else [`default_config_path`]), selects the
/// context (`--context`, else `OBS_CONTEXT`, else `current_context`, else
/// `"default"`), and layers flags > env > file > defaults per setting.
///
/// A missing default file means defaults; a missing explicit file is an
/// error. Empty values at any layer count as unset. Auth is layered as a
/// unit: the highest layer that sets any of username, password or
/// bearer_token decides between basic and bearer auth (setting both there is
/// an error); lower layers may fill in the other half of a username/password
/// pair, and their settings of the other kind are ignored.
///
/// `env` looks up environment variables (pass `&|k| std::env::var(k).ok()`).
pub fn load(
    config_path: Option<&Path>,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let explicit = match config_path {
        Some(p) => Some((p.to_path_buf(), Source::Flag(flag_name("config_file")))),
        None => env_get(env, ENV_CONFIG).map(|p| (PathBuf::from(p), Source::Env(ENV_CONFIG))),
    };
    let (file, file_origin) = match explicit {
        Some((path, origin)) => match read_file(&path)? {
            Some(parsed) => (Some((path, parsed)), Some(origin)),
            None => return Err(ConfigError::NotFound { path, origin }),
        },
        None => match default_config_path(env) {
            Some(path) => match read_file(&path)? {
                Some(parsed) => (Some((path, parsed)), Some(Source::Default)),
                None => (None, None),
            },
            None => (None, None),
        },
    };

    let (context, context_origin) = select_context(overrides, env, file.as_ref());
    let empty = FileContext::default();
    let ctx = match &file {
        Some((path, parsed)) => match parsed.contexts.get(&context) {
            Some(c) => c,
            None if parsed.contexts.is_empty() && context == DEFAULT_CONTEXT => &empty,
            None if context_origin == Source::Default => {
                return Err(ConfigError::NoContextSelected {
                    file: path.clone(),
                    available: parsed.contexts.keys().cloned().collect(),
                });
            }
            None => {
                return Err(ConfigError::ContextNotFound {
                    name: context,
                    origin: context_origin,
                    file: Some(path.clone()),
                    available: parsed.contexts.keys().cloned().collect(),
                });
            }
        },
        None if context == DEFAULT_CONTEXT => &empty,
        None => {
            return Err(ConfigError::ContextNotFound {
                name: context,
                origin: context_origin,
                file: None,
                available: Vec::new(),
            });
        }
    };

    let mut r = Resolver {
        overrides,
        env,
        ctx,
        file: file.as_ref().map(|(p, _)| p.as_path()),
        sources: BTreeMap::new(),
    };
    r.sources.insert("context".to_owned(), context_origin);
    if let Some(origin) = file_origin {
        r.sources.insert("config_file".to_owned(), origin);
    }
    r.resolve(context)
}
