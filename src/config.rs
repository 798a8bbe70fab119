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

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use super::model::{SearchMode, TraceMatch};
use super::timespec::{format_duration, parse_duration, serialize_duration};

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
/// logcli's variables, honoured for Loki so that an existing logcli setup just works.
pub const ENV_LOKI_ADDR: &str = "LOKI_ADDR";
pub const ENV_LOKI_ORG_ID: &str = "LOKI_ORG_ID";
pub const ENV_LOKI_USERNAME: &str = "LOKI_USERNAME";
pub const ENV_LOKI_PASSWORD: &str = "LOKI_PASSWORD";
pub const ENV_LOKI_BEARER_TOKEN: &str = "LOKI_BEARER_TOKEN";

/// Every environment variable [`load`] reads (besides `XDG_CONFIG_HOME` and
/// `HOME` for the default file path), for help texts.
pub const ENV_VARS: [&str; 19] = [
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
    ENV_LOKI_ADDR,
    ENV_LOKI_ORG_ID,
    ENV_LOKI_USERNAME,
    ENV_LOKI_PASSWORD,
    ENV_LOKI_BEARER_TOKEN,
];

/// A backend whose connection settings can be overridden in a `[contexts.NAME.<backend>]`
/// table, and the environment variables that override them for it alone.
struct BackendSpec {
    name: &'static str,
    tenant_env: Option<&'static str>,
    username_env: Option<&'static str>,
    password_env: Option<&'static str>,
    bearer_env: Option<&'static str>,
}

const PROMETHEUS: BackendSpec = BackendSpec {
    name: "prometheus",
    tenant_env: None,
    username_env: None,
    password_env: None,
    bearer_env: None,
};
const TEMPO: BackendSpec = BackendSpec {
    name: "tempo",
    ..PROMETHEUS
};
const JAEGER: BackendSpec = BackendSpec {
    name: "jaeger",
    ..PROMETHEUS
};
const LOKI: BackendSpec = BackendSpec {
    name: "loki",
    tenant_env: Some(ENV_LOKI_ORG_ID),
    username_env: Some(ENV_LOKI_USERNAME),
    password_env: Some(ENV_LOKI_PASSWORD),
    bearer_env: Some(ENV_LOKI_BEARER_TOKEN),
};

/// A credential. Debug, Display and Serialize print [`MASK`]; only
/// [`Secret::expose`] gives the value, for the HTTP layer.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value. Use only to build a request; never log or print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

/// A header value: plain, or a [`Secret`] when the header name looks
/// sensitive (see [`is_sensitive_header`]).
#[derive(Clone, PartialEq, Eq)]
pub enum MaybeSecret {
    Plain(String),
    Secret(Secret),
}

impl MaybeSecret {
    /// Wraps `value` as a secret if `header_name` is sensitive.
    pub fn for_header(header_name: &str, value: String) -> Self {
        if is_sensitive_header(header_name) {
            MaybeSecret::Secret(Secret(value))
        } else {
            MaybeSecret::Plain(value)
        }
    }

    /// The real value, for the HTTP layer.
    pub fn expose(&self) -> &str {
        match self {
            MaybeSecret::Plain(v) => v,
            MaybeSecret::Secret(s) => s.expose(),
        }
    }

    pub fn is_secret(&self) -> bool {
        matches!(self, MaybeSecret::Secret(_))
    }
}

impl fmt::Debug for MaybeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaybeSecret::Plain(v) => fmt::Debug::fmt(v, f),
            MaybeSecret::Secret(_) => f.write_str(MASK),
        }
    }
}

impl fmt::Display for MaybeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaybeSecret::Plain(v) => f.write_str(v),
            MaybeSecret::Secret(_) => f.write_str(MASK),
        }
    }
}

impl Serialize for MaybeSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MaybeSecret::Plain(v) => s.serialize_str(v),
            MaybeSecret::Secret(_) => s.serialize_str(MASK),
        }
    }
}

/// Whether a header's value is a secret: `Authorization`, `Cookie`, or any
/// name containing `auth`, `token`, `key`, `secret`, `pass`, `cookie` or
/// `session` (case-insensitive).
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "auth", "token", "key", "secret", "pass", "cookie", "session",
    ]
    .iter()
    .any(|w| n.contains(w))
}

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

/// Everything that can go wrong loading the configuration. Messages name
/// the setting, where it came from and the bad value (never a secret's).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An explicitly given config file does not exist.
    #[error(
        "config file \"{}\" (from {origin}) does not exist: check the path, or unset it \
         to use the default $XDG_CONFIG_HOME/obs/config.toml",
        .path.display()
    )]
    NotFound { path: PathBuf, origin: Source },
    /// The config file exists but cannot be read.
    #[error(
        "cannot read config file \"{}\": {error}; check that it is a readable file",
        .path.display()
    )]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The config file is not valid TOML or has unknown keys or wrong types.
    #[error("invalid config file \"{}\"{}: {message}", .path.display(), at_line(*.line, *.column))]
    Parse {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// The selected context is not defined.
    #[error("context {name:?} (from {origin}) {}", context_hint(.name, .file.as_deref(), .available))]
    ContextNotFound {
        name: String,
        origin: Source,
        file: Option<PathBuf>,
        available: Vec<String>,
    },
    /// The file defines contexts but none is selected and none is "default".
    #[error(
        "no context selected and \"{}\" defines no \"default\" context: set current_context \
         in it, pass --context or set OBS_CONTEXT; available contexts: {}",
        .file.display(), list(.available)
    )]
    NoContextSelected {
        file: PathBuf,
        available: Vec<String>,
    },
    /// A setting has an invalid value. `value` is `None` for secrets.
    #[error("invalid {key}{} (from {origin}): {reason}", quoted(.value.as_deref()))]
    Invalid {
        key: String,
        origin: Source,
        value: Option<String>,
        reason: String,
    },
    /// Basic and bearer auth set in the same layer.
    #[error(
        "both basic auth (username/password, from {basic}) and bearer_token (from {bearer}) \
         are set: keep only one of them"
    )]
    AuthConflict { basic: Source, bearer: Source },
    /// Half of a username/password pair.
    #[error(
        "{set} is set (from {origin}) but {missing} is not: set {missing} too, or remove {set}"
    )]
    IncompleteBasicAuth {
        set: &'static str,
        origin: Source,
        missing: &'static str,
    },
    /// A header duplicates what a dedicated setting sends.
    #[error(
        "header {header:?} (from {origin}) conflicts with {setting} (from {setting_origin}): \
         remove one of them"
    )]
    HeaderConflict {
        header: String,
        origin: Source,
        setting: &'static str,
        setting_origin: Source,
    },
}

fn at_line(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

fn quoted(value: Option<&str>) -> String {
    value.map(|v| format!(" {v:?}")).unwrap_or_default()
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn context_hint(name: &str, file: Option<&Path>, available: &[String]) -> String {
    match file {
        None => format!(
            "is not defined: no config file was found; create one with a [contexts.{name}] \
             table, or pass --config"
        ),
        Some(path) if available.is_empty() => format!(
            "is not defined in \"{}\", which defines no contexts: add a [contexts.{name}] table",
            path.display()
        ),
        Some(path) => format!(
            "is not defined in \"{}\": available contexts: {}; pick one with --context or {ENV_CONTEXT}",
            path.display(),
            list(available)
        ),
    }
}

/// The config file's top level.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    /// Context used when neither `--context` nor `OBS_CONTEXT` is set.
    current_context: Option<String>,
    /// Named contexts.
    #[serde(default)]
    contexts: BTreeMap<String, FileContext>,
}

/// One `[contexts.NAME]` table; every key optional. See the module docs.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileContext {
    prometheus_url: Option<String>,
    tenant: Option<String>,
    username: Option<String>,
    password: Option<String>,
    bearer_token: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    ca_file: Option<String>,
    timeout: Option<String>,
    error_query: Option<String>,
    latency_query: Option<String>,
    service_label: Option<String>,
    candidates: Option<Vec<String>>,
    candidate_match: Option<String>,
    max_candidates: Option<i64>,
    concurrency: Option<i64>,
    scrape_interval: Option<String>,
    tempo_url: Option<String>,
    jaeger_url: Option<String>,
    loki_url: Option<String>,
    trace_match: Option<String>,
    tempo_search: Option<String>,
    log_selector: Option<String>,
    log_service_label: Option<String>,
    prometheus: Option<FileBackend>,
    tempo: Option<FileBackend>,
    jaeger: Option<FileBackend>,
    loki: Option<FileBackend>,
}

/// A `[contexts.NAME.<backend>]` table: connection settings for that backend alone, which
/// replace the context's shared ones (e.g. Grafana Cloud's per-stack user ids).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBackend {
    tenant: Option<String>,
    username: Option<String>,
    password: Option<String>,
    bearer_token: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    ca_file: Option<String>,
    timeout: Option<String>,
}

/// Keys a context table accepts, to spot them misplaced at the top level.
const CONTEXT_KEYS: [&str; 27] = [
    "prometheus_url",
    "tenant",
    "username",
    "password",
    "bearer_token",
    "headers",
    "ca_file",
    "timeout",
    "error_query",
    "latency_query",
    "service_label",
    "candidates",
    "candidate_match",
    "max_candidates",
    "concurrency",
    "scrape_interval",
    "tempo_url",
    "jaeger_url",
    "loki_url",
    "trace_match",
    "tempo_search",
    "log_selector",
    "log_service_label",
    "prometheus",
    "tempo",
    "jaeger",
    "loki",
];

type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// An environment variable's value; empty (or blank) counts as unset.
fn env_get(env: EnvLookup<'_>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// The default config file path: `$XDG_CONFIG_HOME/obs/config.toml` if
/// `XDG_CONFIG_HOME` is set to an absolute path, else
/// `$HOME/.config/obs/config.toml`, else `None`. Does not check existence.
pub fn default_config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let xdg = env_get(env, "XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = match xdg {
        Some(dir) => dir,
        None => PathBuf::from(env_get(env, "HOME")?).join(".config"),
    };
    Some(base.join("obs").join("config.toml"))
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

/// Reads and parses a config file; `Ok(None)` if it does not exist.
fn read_file(path: &Path) -> Result<Option<FileConfig>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                error,
            });
        }
    };
    toml::from_str::<FileConfig>(&text)
        .map(Some)
        .map_err(|e| parse_error(path, &text, &e))
}

fn parse_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let (line, column) = match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            (Some(line), Some(column))
        }
        None => (None, None),
    };
    // toml's message only, not its Display, which quotes the source line
    // (and with it possibly a secret).
    let mut message = e.message().trim().to_owned();
    let misplaced = CONTEXT_KEYS
        .iter()
        .any(|k| message.starts_with(&format!("unknown field `{k}`, expected `current_context`")));
    if misplaced {
        message.push_str("; context settings go in a [contexts.NAME] table");
    }
    ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

fn select_context(
    overrides: &Overrides,
    env: EnvLookup<'_>,
    file: Option<&(PathBuf, FileConfig)>,
) -> (String, Source) {
    if let Some(c) = nonempty(overrides.context.as_ref()) {
        return (c, Source::Flag(flag_name("context")));
    }
    if let Some(c) = env_get(env, ENV_CONTEXT) {
        return (c.trim().to_owned(), Source::Env(ENV_CONTEXT));
    }
    file.and_then(|(path, parsed)| {
        nonempty(parsed.current_context.as_ref()).map(|c| (c, Source::File(path.clone())))
    })
    .unwrap_or_else(|| (DEFAULT_CONTEXT.to_owned(), Source::Default))
}

fn nonempty(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Resolves one context's settings across the layers.
struct Resolver<'a> {
    overrides: &'a Overrides,
    env: EnvLookup<'a>,
    ctx: &'a FileContext,
    file: Option<&'a Path>,
    sources: BTreeMap<String, Source>,
}

fn invalid(
    key: &str,
    origin: &Source,
    value: Option<&str>,
    reason: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        origin: origin.clone(),
        value: value.map(str::to_owned),
        reason: reason.into(),
    }
}

impl Resolver<'_> {
    fn file_source(&self) -> Source {
        Source::File(self.file.map(Path::to_path_buf).unwrap_or_default())
    }

    fn env(&self, name: &'static str) -> Option<(String, Source)> {
        env_get(self.env, name).map(|v| (v.trim().to_owned(), Source::Env(name)))
    }

    /// The first non-empty of flag, env and file for `key`; records its source.
    fn pick(
        &mut self,
        key: &'static str,
        flag: Option<&String>,
        env_var: Option<&'static str>,
        file: Option<&String>,
    ) -> Option<(String, Source)> {
        let hit = nonempty(flag)
            .map(|v| (v, Source::Flag(flag_name(key))))
            .or_else(|| env_var.and_then(|n| self.env(n)))
            .or_else(|| nonempty(file).map(|v| (v, self.file_source())));
        if let Some((_, origin)) = &hit {
            self.sources.insert(key.to_owned(), origin.clone());
        }
        hit
    }

    /// Like [`Resolver::pick`], falling back to `default`.
    fn pick_or(
        &mut self,
        key: &'static str,
        flag: Option<&String>,
        env_var: Option<&'static str>,
        file: Option<&String>,
        default: &str,
    ) -> (String, Source) {
        self.pick(key, flag, env_var, file).unwrap_or_else(|| {
            self.sources.insert(key.to_owned(), Source::Default);
            (default.to_owned(), Source::Default)
        })
    }

    fn duration(
        &mut self,
        key: &'static str,
        flag: Option<&String>,
        env_var: Option<&'static str>,
        file: Option<&String>,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        let Some((text, origin)) = self.pick(key, flag, env_var, file) else {
            self.sources.insert(key.to_owned(), Source::Default);
            return Ok(default);
        };
        parse_timeout(key, &text, &origin)
    }

    fn count(
        &mut self,
        key: &'static str,
        flag: Option<usize>,
        file: Option<i64>,
        default: usize,
        max: usize,
    ) -> Result<usize, ConfigError> {
        let (value, origin) = match (flag, file) {
            (Some(n), _) => (
                i128::try_from(n).unwrap_or(i128::MAX),
                Source::Flag(flag_name(key)),
            ),
            (None, Some(n)) => (i128::from(n), self.file_source()),
            (None, None) => (i128::try_from(default).unwrap_or(0), Source::Default),
        };
        self.sources.insert(key.to_owned(), origin.clone());
        match usize::try_from(value) {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ if max == usize::MAX => Err(invalid(
                key,
                &origin,
                Some(&value.to_string()),
                "expected a whole number of at least 1",
            )),
            _ => Err(invalid(
                key,
                &origin,
                Some(&value.to_string()),
                format!("expected a whole number from 1 to {max}"),
            )),
        }
    }

    fn resolve(mut self, context: String) -> Result<Config, ConfigError> {
        let o = self.overrides;
        let c = self.ctx;

        let (url, origin) = self.pick_or(
            "prometheus_url",
            o.prometheus_url.as_ref(),
            Some(ENV_PROMETHEUS_URL),
            c.prometheus_url.as_ref(),
            DEFAULT_PROMETHEUS_URL,
        );
        let url = validate_url("prometheus_url", &url, &origin)?;

        let prometheus = self.http_settings(&PROMETHEUS, url, c.prometheus.as_ref())?;
        let tempo = self.backend_url(
            "tempo_url",
            o.tempo_url.as_ref(),
            &[ENV_TEMPO_URL],
            c.tempo_url.as_ref(),
        )?;
        let tempo = match tempo {
            Some(url) => Some(self.http_settings(&TEMPO, url, c.tempo.as_ref())?),
            None => None,
        };
        let jaeger = self.backend_url(
            "jaeger_url",
            o.jaeger_url.as_ref(),
            &[ENV_JAEGER_URL],
            c.jaeger_url.as_ref(),
        )?;
        let jaeger = match jaeger {
            Some(url) => Some(self.http_settings(&JAEGER, url, c.jaeger.as_ref())?),
            None => None,
        };
        let loki = self.backend_url(
            "loki_url",
            o.loki_url.as_ref(),
            &[ENV_LOKI_URL, ENV_LOKI_ADDR],
            c.loki_url.as_ref(),
        )?;
        let loki = match loki {
            Some(url) => Some(self.http_settings(&LOKI, url, c.loki.as_ref())?),
            None => None,
        };
        let trace_match = match self.pick(
            "trace_match",
            o.trace_match.as_ref(),
            None,
            c.trace_match.as_ref(),
        ) {
            Some((v, origin)) => TraceMatch::parse(&v).ok_or_else(|| {
                invalid(
                    "trace_match",
                    &origin,
                    Some(&v),
                    "expected auto, label, metadata or line",
                )
            })?,
            None => TraceMatch::Auto,
        };
        let tempo_search = match self.pick("tempo_search", None, None, c.tempo_search.as_ref()) {
            Some((v, origin)) => SearchMode::parse(&v).ok_or_else(|| {
                invalid(
                    "tempo_search",
                    &origin,
                    Some(&v),
                    "expected traceql or tags",
                )
            })?,
            None => SearchMode::TraceQl,
        };
        let log_selector = self
            .pick(
                "log_selector",
                o.log_selector.as_ref(),
                None,
                c.log_selector.as_ref(),
            )
            .map(|(v, _)| v);
        let log_service_label = match self.pick(
            "log_service_label",
            None,
            None,
            c.log_service_label.as_ref(),
        ) {
            Some((label, origin)) if !is_label_name(&label) => {
                return Err(invalid(
                    "log_service_label",
                    &origin,
                    Some(&label),
                    "expected a Loki label name such as service_name or app",
                ));
            }
            other => other.map(|(l, _)| l),
        };

        let error_query = self
            .pick(
                "error_query",
                o.error_query.as_ref(),
                Some(ENV_ERROR_QUERY),
                c.error_query.as_ref(),
            )
            .map(|(q, _)| q);
        let latency_query = self
            .pick(
                "latency_query",
                o.latency_query.as_ref(),
                None,
                c.latency_query.as_ref(),
            )
            .map(|(q, _)| q);

        let service_label = match self.pick(
            "service_label",
            o.service_label.as_ref(),
            Some(ENV_SERVICE_LABEL),
            c.service_label.as_ref(),
        ) {
            Some((label, origin)) => {
                if !is_label_name(&label) {
                    return Err(invalid(
                        "service_label",
                        &origin,
                        Some(&label),
                        "expected a Prometheus label name such as service or app \
                         (letters, digits and _, not starting with a digit)",
                    ));
                }
                Some(label)
            }
            None => None,
        };

        let candidates = self.candidates();
        let candidate_match = self
            .pick(
                "candidate_match",
                o.candidate_match.as_ref(),
                None,
                c.candidate_match.as_ref(),
            )
            .map(|(m, _)| m);
        let max_candidates = self.count(
            "max_candidates",
            o.max_candidates,
            c.max_candidates,
            DEFAULT_MAX_CANDIDATES,
            usize::MAX,
        )?;
        let concurrency = self.count(
            "concurrency",
            o.concurrency,
            c.concurrency,
            DEFAULT_CONCURRENCY,
            MAX_CONCURRENCY,
        )?;
        let scrape_interval = self.duration(
            "scrape_interval",
            o.scrape_interval.as_ref(),
            None,
            c.scrape_interval.as_ref(),
            DEFAULT_SCRAPE_INTERVAL,
        )?;

        Ok(Config {
            context,
            config_file: self.file.map(Path::to_path_buf),
            prometheus,
            tempo,
            jaeger,
            loki,
            trace_match,
            tempo_search,
            log_selector,
            log_service_label,
            error_query,
            latency_query,
            service_label,
            candidates,
            candidate_match,
            max_candidates,
            concurrency,
            scrape_interval,
            sources: self.sources,
        })
    }

    /// A backend URL (`tempo_url`, `loki_url`, …): flag, then the env variables in order,
    /// then the file; `None` when the backend is not configured.
    fn backend_url(
        &mut self,
        key: &'static str,
        flag: Option<&String>,
        env_vars: &[&'static str],
        file: Option<&String>,
    ) -> Result<Option<String>, ConfigError> {
        let hit = nonempty(flag)
            .map(|v| (v, Source::Flag(flag_name(key))))
            .or_else(|| env_vars.iter().find_map(|n| self.env(n)))
            .or_else(|| nonempty(file).map(|v| (v, self.file_source())));
        let Some((url, origin)) = hit else {
            return Ok(None);
        };
        self.sources.insert(key.to_owned(), origin.clone());
        validate_url(key, &url, &origin).map(Some)
    }

    /// One backend's connection settings. Each setting is layered flags > env > file, and
    /// within a layer the backend's own setting (`LOKI_ORG_ID`, `[contexts.X.loki]`) beats the
    /// context's shared one (`OBS_TENANT`, `tenant`). Provenance is recorded under the shared
    /// key (`tenant`) or the backend's (`loki.tenant`).
    fn http_settings(
        &mut self,
        spec: &BackendSpec,
        url: String,
        table: Option<&FileBackend>,
    ) -> Result<HttpSettings, ConfigError> {
        let o = self.overrides;
        let c = self.ctx;
        let own = |k: &str| format!("{}.{k}", spec.name);
        let file = self.file_source();
        let env_pair = |name: Option<&'static str>| {
            name.and_then(|n| env_get(self.env, n).map(|v| (v.trim().to_owned(), Source::Env(n))))
        };
        let t = table;

        let tenant_candidates = [
            (
                nonempty(o.tenant.as_ref()).map(|v| (v, Source::Flag(flag_name("tenant")))),
                "tenant".to_owned(),
            ),
            (env_pair(spec.tenant_env), own("tenant")),
            (env_pair(Some(ENV_TENANT)), "tenant".to_owned()),
            (
                nonempty(t.and_then(|t| t.tenant.as_ref())).map(|v| (v, file.clone())),
                own("tenant"),
            ),
            (
                nonempty(c.tenant.as_ref()).map(|v| (v, file.clone())),
                "tenant".to_owned(),
            ),
        ];
        let tenant = match tenant_candidates
            .into_iter()
            .find_map(|(hit, key)| hit.map(|(v, s)| (v, s, key)))
        {
            Some((t, origin, key)) => {
                if !is_header_value(&t) {
                    return Err(invalid(
                        &key,
                        &origin,
                        Some(&t),
                        "it may only contain visible ASCII characters and spaces",
                    ));
                }
                self.sources.insert(key, origin);
                Some(t)
            }
            None => None,
        };

        let auth = self.auth(spec, table)?;
        let headers = self.headers(spec, table)?;
        // Headers must not duplicate what a dedicated setting sends.
        let auth_setting = auth.as_ref().map(|a| match a {
            Auth::Basic { .. } => "username",
            Auth::Bearer { .. } => "bearer_token",
        });
        let dedicated = [
            ("authorization", auth_setting),
            ("x-scope-orgid", tenant.as_ref().map(|_| "tenant")),
        ];
        for (header, setting) in dedicated {
            let Some(setting) = setting else { continue };
            if let Some(name) = headers.keys().find(|n| n.eq_ignore_ascii_case(header)) {
                let setting_origin = self
                    .sources
                    .get(&own(setting))
                    .or_else(|| self.sources.get(setting))
                    .cloned()
                    .unwrap_or(Source::Default);
                return Err(ConfigError::HeaderConflict {
                    header: name.clone(),
                    origin: self.file_source(),
                    setting,
                    setting_origin,
                });
            }
        }

        let ca_file = self.ca_file(spec, table)?;
        let table_timeout = nonempty(t.and_then(|t| t.timeout.as_ref()));
        let timeout = match (&o.timeout, env_get(self.env, ENV_TIMEOUT), &table_timeout) {
            (None, None, Some(v)) => {
                let key = own("timeout");
                let origin = file.clone();
                self.sources.insert(key.clone(), origin.clone());
                parse_timeout(&key, v, &origin)?
            }
            _ => self.duration(
                "timeout",
                o.timeout.as_ref(),
                Some(ENV_TIMEOUT),
                c.timeout.as_ref(),
                DEFAULT_TIMEOUT,
            )?,
        };
        Ok(HttpSettings {
            url,
            tenant,
            auth,
            headers,
            ca_file,
            timeout,
        })
    }

    fn auth(
        &mut self,
        spec: &BackendSpec,
        table: Option<&FileBackend>,
    ) -> Result<Option<Auth>, ConfigError> {
        let o = self.overrides;
        let c = self.ctx;
        let file = self.file_source();
        let own = |k: &str| format!("{}.{k}", spec.name);
        let shared = |k: &str| k.to_owned();
        let env_hit = |name: Option<&'static str>, trim: bool| {
            name.and_then(|n| {
                env_get(self.env, n).map(|v| {
                    let v = if trim { v.trim().to_owned() } else { v };
                    (v, Source::Env(n))
                })
            })
        };
        let file_hit = |v: Option<&String>, trim: bool| {
            let v = if trim {
                nonempty(v)
            } else {
                v.cloned().filter(|p| !p.is_empty())
            };
            v.map(|v| (v, file.clone()))
        };
        type Hit = Option<(String, Source, String)>;
        let with =
            |hit: Option<(String, Source)>, key: String| -> Hit { hit.map(|(v, s)| (v, s, key)) };
        // Per layer, highest first: (username, password, bearer_token).
        let layers: Vec<[Hit; 3]> = vec![
            [
                with(
                    nonempty(o.username.as_ref()).map(|v| (v, Source::Flag(flag_name("username")))),
                    shared("username"),
                ),
                None,
                None,
            ],
            [
                with(env_hit(spec.username_env, true), own("username")),
                with(env_hit(spec.password_env, false), own("password")),
                with(env_hit(spec.bearer_env, true), own("bearer_token")),
            ],
            [
                with(env_hit(Some(ENV_USERNAME), true), shared("username")),
                with(env_hit(Some(ENV_PASSWORD), false), shared("password")),
                with(
                    env_hit(Some(ENV_BEARER_TOKEN), true),
                    shared("bearer_token"),
                ),
            ],
            [
                with(
                    file_hit(table.and_then(|t| t.username.as_ref()), true),
                    own("username"),
                ),
                with(
                    file_hit(table.and_then(|t| t.password.as_ref()), false),
                    own("password"),
                ),
                with(
                    file_hit(table.and_then(|t| t.bearer_token.as_ref()), true),
                    own("bearer_token"),
                ),
            ],
            [
                with(file_hit(c.username.as_ref(), true), shared("username")),
                with(file_hit(c.password.as_ref(), false), shared("password")),
                with(
                    file_hit(c.bearer_token.as_ref(), true),
                    shared("bearer_token"),
                ),
            ],
        ];
        let Some(top) = layers.iter().find(|l| l.iter().any(Option::is_some)) else {
            return Ok(None);
        };
        let first = |i: usize| layers.iter().find_map(|l| l[i].clone());
        match top {
            [_, _, Some((_, bearer, _))] if top[0].is_some() || top[1].is_some() => {
                let basic = top[0]
                    .as_ref()
                    .or(top[1].as_ref())
                    .map(|(_, s, _)| s.clone())
                    .unwrap_or(Source::Default);
                Err(ConfigError::AuthConflict {
                    basic,
                    bearer: bearer.clone(),
                })
            }
            [_, _, Some((token, origin, key))] => {
                let token = token.trim();
                if !is_header_value(token) {
                    return Err(invalid(
                        key,
                        origin,
                        None,
                        "it may only contain visible ASCII characters; check for stray \
                         quotes or line breaks",
                    ));
                }
                self.sources.insert(key.clone(), origin.clone());
                Ok(Some(Auth::Bearer {
                    token: Secret::new(token),
                }))
            }
            _ => match (first(0), first(1)) {
                (Some((username, u_origin, u_key)), Some((password, p_origin, p_key))) => {
                    if username.contains(':') || !is_header_value(&username) {
                        return Err(invalid(
                            &u_key,
                            &u_origin,
                            Some(&username),
                            "it may not contain ':' or control characters",
                        ));
                    }
                    self.sources.insert(u_key, u_origin);
                    self.sources.insert(p_key, p_origin);
                    Ok(Some(Auth::Basic {
                        username,
                        password: Secret::new(password),
                    }))
                }
                (Some((_, origin, _)), None) => Err(ConfigError::IncompleteBasicAuth {
                    set: "username",
                    origin,
                    missing: "password",
                }),
                (None, Some((_, origin, _))) => Err(ConfigError::IncompleteBasicAuth {
                    set: "password",
                    origin,
                    missing: "username",
                }),
                (None, None) => Ok(None),
            },
        }
    }

    /// The context's headers, then the backend table's (which replace same-named ones).
    fn headers(
        &mut self,
        spec: &BackendSpec,
        table: Option<&FileBackend>,
    ) -> Result<BTreeMap<String, MaybeSecret>, ConfigError> {
        let mut out: BTreeMap<String, MaybeSecret> = BTreeMap::new();
        let origin = self.file_source();
        let layers = [
            (self.ctx.headers.as_ref(), String::new()),
            (
                table.and_then(|t| t.headers.as_ref()),
                format!("{}.", spec.name),
            ),
        ];
        for (headers, prefix) in layers {
            let Some(headers) = headers else { continue };
            let mut seen: Vec<&String> = Vec::new();
            for (name, value) in headers {
                let key = format!("{prefix}headers.{name}");
                if !is_token(name) {
                    return Err(invalid(
                        &key,
                        &origin,
                        None,
                        format!("{name:?} is not a valid HTTP header name"),
                    ));
                }
                if seen.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    return Err(invalid(
                        &key,
                        &origin,
                        None,
                        "the header is set twice (names are case-insensitive); keep one",
                    ));
                }
                seen.push(name);
                let value = MaybeSecret::for_header(name, value.trim().to_owned());
                if !is_header_value(value.expose()) {
                    let shown = (!value.is_secret()).then(|| value.expose());
                    return Err(invalid(
                        &key,
                        &origin,
                        shown,
                        "header values may only contain visible ASCII characters and spaces",
                    ));
                }
                out.retain(|n, _| !n.eq_ignore_ascii_case(name));
                self.sources.insert(key, origin.clone());
                out.insert(name.clone(), value);
            }
        }
        Ok(out)
    }

    fn ca_file(
        &mut self,
        spec: &BackendSpec,
        table: Option<&FileBackend>,
    ) -> Result<Option<PathBuf>, ConfigError> {
        let flag = self
            .overrides
            .ca_file
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned());
        let from_table = nonempty(table.and_then(|t| t.ca_file.as_ref()));
        let hit = match (&flag, env_get(self.env, ENV_CA_FILE), from_table) {
            (None, None, Some(path)) => {
                let key = format!("{}.ca_file", spec.name);
                let origin = self.file_source();
                self.sources.insert(key.clone(), origin.clone());
                Some((path, origin, key))
            }
            _ => self
                .pick(
                    "ca_file",
                    flag.as_ref(),
                    Some(ENV_CA_FILE),
                    self.ctx.ca_file.as_ref(),
                )
                .map(|(p, o)| (p, o, "ca_file".to_owned())),
        };
        let Some((path, origin, key)) = hit else {
            return Ok(None);
        };
        let mut path = PathBuf::from(path);
        // Relative paths in the file are relative to the file's folder.
        let base = match &origin {
            Source::File(file) if path.is_relative() => file.parent(),
            _ => None,
        };
        if let Some(dir) = base {
            path = dir.join(path);
        }
        if !path.is_file() {
            return Err(invalid(
                &key,
                &origin,
                Some(&path.display().to_string()),
                "no such file; give the path to a PEM CA bundle",
            ));
        }
        Ok(Some(path))
    }

    fn candidates(&mut self) -> Vec<String> {
        let file = self.file_source();
        let from_file = self
            .ctx
            .candidates
            .iter()
            .flatten()
            .map(|q| (q, file.clone()));
        let from_flags = self
            .overrides
            .candidates
            .iter()
            .map(|q| (q, Source::Flag(flag_name("candidates"))));
        let mut out: Vec<String> = Vec::new();
        for (q, origin) in from_file.chain(from_flags) {
            let q = q.trim();
            if q.is_empty() || out.iter().any(|e| e == q) {
                continue;
            }
            self.sources
                .insert(format!("candidates[{}]", out.len()), origin);
            out.push(q.to_owned());
        }
        out
    }
}

/// A positive duration setting.
fn parse_timeout(key: &str, text: &str, origin: &Source) -> Result<Duration, ConfigError> {
    match parse_duration(text) {
        Ok(d) if d.is_zero() => Err(invalid(
            key,
            origin,
            Some(text),
            "it must be greater than zero, such as 15s or 1m",
        )),
        Ok(d) => Ok(d),
        Err(_) => Err(invalid(
            key,
            origin,
            Some(text),
            "expected a duration such as 500ms, 15s, 1m or 1h30m",
        )),
    }
}

/// Validates and normalises a backend base URL.
fn validate_url(key: &str, raw: &str, origin: &Source) -> Result<String, ConfigError> {
    let s = raw.trim();
    let err = |reason: &str| invalid(key, origin, Some(s), reason);
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(err(
            "expected an http:// or https:// URL such as https://prometheus.example.com",
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(err("the scheme must be http or https"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        // Do not echo the value: it holds credentials.
        return Err(invalid(
            key,
            origin,
            None,
            "it contains credentials; set username and password (or OBS_USERNAME and \
             OBS_PASSWORD) instead",
        ));
    }
    if s.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
        return Err(err("it contains whitespace"));
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err(err("it has no host"));
    }
    // A port, if any, follows the last ':' (unless that is inside an IPv6 [..]).
    let port = authority.rsplit_once(':').map(|(_, p)| p);
    let port_ok =
        authority.ends_with(']') || port.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !port_ok {
        return Err(err("the port must be a number"));
    }
    if rest.contains(['?', '#']) {
        return Err(err(
            "it must not have a query or fragment; give the base URL that /api/v1/... is \
             appended to",
        ));
    }
    let path = rest
        .get(authority.len()..)
        .unwrap_or("")
        .trim_end_matches('/');
    if path.ends_with("/api/v1") || path.contains("/api/v1/") {
        return Err(err(
            "give the base URL without /api/v1/..., such as https://prometheus.example.com",
        ));
    }
    Ok(format!("{scheme}://{authority}{path}"))
}

/// RFC 9110 token characters (header names).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Visible ASCII, spaces and tabs: what every HTTP client accepts.
fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

fn is_label_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A TOML string literal.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML key, bare when possible.
fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        s.to_owned()
    } else {
        toml_str(s)
    }
}

/// Renders the resolved configuration as TOML-like text for `obs config`:
/// one `key = value` line per setting with a `# <source>` comment (`flag
/// --timeout`, `env OBS_TIMEOUT`, `file PATH`, `default`), unset settings as
/// comments, secrets masked.
pub fn render_toml(config: &Config) -> String {
    let mut lines: Vec<(String, Option<String>)> = Vec::new();
    let src = |key: &str| config.source(key).map(ToString::to_string);
    let set =
        |lines: &mut Vec<(String, Option<String>)>, key: &str, value: Option<String>| match value {
            Some(v) => lines.push((format!("{key} = {v}"), src(key))),
            None => lines.push((format!("# {key}: not set"), None)),
        };
    let http = &config.prometheus;
    let opt = |v: &Option<String>| v.as_deref().map(toml_str);

    set(&mut lines, "context", Some(toml_str(&config.context)));
    set(&mut lines, "prometheus_url", Some(toml_str(&http.url)));
    set(&mut lines, "tenant", opt(&http.tenant));
    match &http.auth {
        Some(Auth::Basic { username, password }) => {
            set(&mut lines, "username", Some(toml_str(username)));
            set(
                &mut lines,
                "password",
                Some(toml_str(&password.to_string())),
            );
        }
        Some(Auth::Bearer { token }) => {
            set(
                &mut lines,
                "bearer_token",
                Some(toml_str(&token.to_string())),
            );
        }
        None => lines.push((
            "# auth: none (set username and password, or bearer_token)".to_owned(),
            None,
        )),
    }
    set(
        &mut lines,
        "ca_file",
        http.ca_file
            .as_ref()
            .map(|p| toml_str(&p.display().to_string())),
    );
    set(
        &mut lines,
        "timeout",
        Some(toml_str(&format_duration(http.timeout))),
    );
    for (key, backend) in [
        ("tempo_url", &config.tempo),
        ("jaeger_url", &config.jaeger),
        ("loki_url", &config.loki),
    ] {
        set(&mut lines, key, backend.as_ref().map(|b| toml_str(&b.url)));
    }
    if config.tempo.is_some() && config.jaeger.is_some() {
        let used = match config.traces().map(|(kind, _)| kind) {
            Some(TraceBackend::Jaeger) => "jaeger",
            _ => "tempo",
        };
        lines.push((format!("# traces are read from {used}"), None));
    }
    lines.push((
        format!("trace_match = {}", toml_str(config.trace_match.as_str())),
        Some(src("trace_match").unwrap_or_else(|| "default".into())),
    ));
    lines.push((
        format!(
            "tempo_search = {}",
            toml_str(match config.tempo_search {
                SearchMode::TraceQl => "traceql",
                SearchMode::Tags => "tags",
            })
        ),
        Some(src("tempo_search").unwrap_or_else(|| "default".into())),
    ));
    set(&mut lines, "log_selector", opt(&config.log_selector));
    if config.log_service_label.is_some() {
        set(
            &mut lines,
            "log_service_label",
            opt(&config.log_service_label),
        );
    } else {
        lines.push((
            "# log_service_label: not set, detected from Loki's label names".to_owned(),
            None,
        ));
    }
    set(&mut lines, "error_query", opt(&config.error_query));
    set(&mut lines, "latency_query", opt(&config.latency_query));
    if config.service_label.is_some() {
        set(&mut lines, "service_label", opt(&config.service_label));
    } else {
        let tried: Vec<String> = config.service_labels().into_iter().map(toml_str).collect();
        lines.push((
            format!("# service_label: not set, trying {}", tried.join(", ")),
            None,
        ));
    }
    if config.candidates.is_empty() {
        lines.push(("candidates = []".to_owned(), None));
    } else {
        lines.push(("candidates = [".to_owned(), None));
        for (i, q) in config.candidates.iter().enumerate() {
            lines.push((
                format!("    {},", toml_str(q)),
                src(&format!("candidates[{i}]")),
            ));
        }
        lines.push(("]".to_owned(), None));
    }
    set(&mut lines, "candidate_match", opt(&config.candidate_match));
    set(
        &mut lines,
        "max_candidates",
        Some(config.max_candidates.to_string()),
    );
    set(
        &mut lines,
        "concurrency",
        Some(config.concurrency.to_string()),
    );
    set(
        &mut lines,
        "scrape_interval",
        Some(toml_str(&format_duration(config.scrape_interval))),
    );
    if !http.headers.is_empty() {
        lines.push((String::new(), None));
        lines.push(("[headers]".to_owned(), None));
        for (name, value) in &http.headers {
            lines.push((
                format!("{} = {}", toml_key(name), toml_str(&value.to_string())),
                src(&format!("headers.{name}")),
            ));
        }
    }

    // Per-backend settings that differ from the shared ones, as the file's sub-tables.
    for (name, backend) in [
        ("prometheus", Some(&config.prometheus)),
        ("tempo", config.tempo.as_ref()),
        ("jaeger", config.jaeger.as_ref()),
        ("loki", config.loki.as_ref()),
    ] {
        let Some(b) = backend else { continue };
        let prefix = format!("{name}.");
        let own: Vec<&String> = config
            .sources
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .collect();
        if own.is_empty() {
            continue;
        }
        lines.push((String::new(), None));
        lines.push((format!("[{name}]"), None));
        let has = |k: &str| own.iter().any(|o| o.as_str() == format!("{prefix}{k}"));
        let mut own_line = |k: &str, v: String| {
            if has(k) {
                lines.push((format!("{k} = {v}"), src(&format!("{prefix}{k}"))));
            }
        };
        if let Some(t) = &b.tenant {
            own_line("tenant", toml_str(t));
        }
        match &b.auth {
            Some(Auth::Basic { username, password }) => {
                own_line("username", toml_str(username));
                own_line("password", toml_str(&password.to_string()));
            }
            Some(Auth::Bearer { token }) => own_line("bearer_token", toml_str(&token.to_string())),
            None => {}
        }
        if let Some(ca) = &b.ca_file {
            own_line("ca_file", toml_str(&ca.display().to_string()));
        }
        own_line("timeout", toml_str(&format_duration(b.timeout)));
        for (header, value) in &b.headers {
            let key = format!("{prefix}headers.{header}");
            if config.sources.contains_key(&key) {
                lines.push((
                    format!(
                        "headers.{} = {}",
                        toml_key(header),
                        toml_str(&value.to_string())
                    ),
                    src(&key),
                ));
            }
        }
    }

    let width = lines
        .iter()
        .filter(|(_, c)| c.is_some())
        .map(|(l, _)| l.chars().count())
        .filter(|&w| w <= 48)
        .max()
        .unwrap_or(0);
    let mut out = match &config.config_file {
        Some(path) => format!(
            "# obs configuration, context {:?}, file {} (secrets masked)\n",
            config.context,
            path.display()
        ),
        None => format!(
            "# obs configuration, context {:?}, no config file (secrets masked)\n",
            config.context
        ),
    };
    for (line, comment) in lines {
        match comment {
            Some(c) => out.push_str(&format!("{line:<width$}  # {c}\n")),
            None => {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An env lookup over fixed pairs.
    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    struct Fixture {
        dir: tempfile::TempDir,
        path: PathBuf,
    }

    fn file(text: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        Fixture { dir, path }
    }

    fn load_file(
        f: &Fixture,
        o: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        load(Some(&f.path), o, env)
    }

    const PROD: &str = r#"
current_context = "prod"

[contexts.prod]
prometheus_url = "https://prom.example.com/"
tenant = "team-a"
timeout = "10s"
error_query = "file_query"
service_label = "app"
candidates = ["rate(foo_total[5m])", "rate(bar_total[5m])"]
candidate_match = '{namespace="shop"}'
max_candidates = 100
concurrency = 4
scrape_interval = "30s"

[contexts.dev]
prometheus_url = "http://dev:9090"
"#;

    #[test]
    fn defaults_without_any_file() {
        let c = load(None, &Overrides::default(), &no_env).unwrap();
        assert_eq!(c.context, "default");
        assert_eq!(c.config_file, None);
        assert_eq!(c.prometheus.url, "http://localhost:9090");
        assert_eq!(c.prometheus.timeout, Duration::from_secs(30));
        assert_eq!(c.prometheus.auth, None);
        assert_eq!(c.concurrency, 16);
        assert_eq!(c.max_candidates, 500);
        assert_eq!(c.scrape_interval, Duration::from_secs(15));
        assert_eq!(c.service_label, None);
        assert_eq!(c.service_labels(), ["service", "service_name", "job"]);
        assert!(c.candidates.is_empty());
        assert_eq!(c.source("prometheus_url"), Some(&Source::Default));
        assert_eq!(c.source("context"), Some(&Source::Default));
        assert_eq!(c.source("tenant"), None);
    }

    #[test]
    fn missing_default_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let xdg = dir.path().to_string_lossy().into_owned();
        let c = load(
            None,
            &Overrides::default(),
            &env_of(&[("XDG_CONFIG_HOME", &xdg)]),
        )
        .unwrap();
        assert_eq!(c.prometheus.url, DEFAULT_PROMETHEUS_URL);
        assert_eq!(c.config_file, None);
    }

    #[test]
    fn xdg_path_resolution() {
        let env = env_of(&[("XDG_CONFIG_HOME", "/x/cfg"), ("HOME", "/home/a")]);
        assert_eq!(
            default_config_path(&env),
            Some(PathBuf::from("/x/cfg/obs/config.toml"))
        );
        let env = env_of(&[("HOME", "/home/a")]);
        assert_eq!(
            default_config_path(&env),
            Some(PathBuf::from("/home/a/.config/obs/config.toml"))
        );
        // Relative or empty XDG_CONFIG_HOME is ignored, as the spec says.
        let env = env_of(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/home/a")]);
        assert_eq!(
            default_config_path(&env),
            Some(PathBuf::from("/home/a/.config/obs/config.toml"))
        );
        let env = env_of(&[("XDG_CONFIG_HOME", ""), ("HOME", "/home/a")]);
        assert_eq!(
            default_config_path(&env),
            Some(PathBuf::from("/home/a/.config/obs/config.toml"))
        );
        assert_eq!(default_config_path(&no_env), None);
    }

    #[test]
    fn default_file_is_found_via_xdg_and_home() {
        let dir = tempfile::tempdir().unwrap();
        let obs = dir.path().join("obs");
        std::fs::create_dir_all(&obs).unwrap();
        std::fs::write(obs.join("config.toml"), PROD).unwrap();
        let xdg = dir.path().to_string_lossy().into_owned();
        let c = load(
            None,
            &Overrides::default(),
            &env_of(&[("XDG_CONFIG_HOME", &xdg)]),
        )
        .unwrap();
        assert_eq!(c.context, "prod");
        assert_eq!(c.config_file, Some(obs.join("config.toml")));
        assert_eq!(c.source("config_file"), Some(&Source::Default));

        let home = tempfile::tempdir().unwrap();
        let obs = home.path().join(".config").join("obs");
        std::fs::create_dir_all(&obs).unwrap();
        std::fs::write(obs.join("config.toml"), PROD).unwrap();
        let h = home.path().to_string_lossy().into_owned();
        let c = load(None, &Overrides::default(), &env_of(&[("HOME", &h)])).unwrap();
        assert_eq!(c.prometheus.url, "https://prom.example.com");
    }

    #[test]
    fn file_values_and_provenance() {
        let f = file(PROD);
        let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
        let from_file = Source::File(f.path.clone());
        assert_eq!(c.context, "prod");
        assert_eq!(c.source("context"), Some(&from_file));
        assert_eq!(c.source("config_file"), Some(&Source::Flag("--config")));
        assert_eq!(c.prometheus.url, "https://prom.example.com");
        assert_eq!(c.prometheus.tenant.as_deref(), Some("team-a"));
        assert_eq!(c.prometheus.timeout, Duration::from_secs(10));
        assert_eq!(c.error_query.as_deref(), Some("file_query"));
        assert_eq!(c.service_labels(), ["app"]);
        assert_eq!(c.candidates, ["rate(foo_total[5m])", "rate(bar_total[5m])"]);
        assert_eq!(c.candidate_match.as_deref(), Some("{namespace=\"shop\"}"));
        assert_eq!(c.max_candidates, 100);
        assert_eq!(c.concurrency, 4);
        assert_eq!(c.scrape_interval, Duration::from_secs(30));
        for key in [
            "prometheus_url",
            "tenant",
            "timeout",
            "concurrency",
            "candidates[1]",
        ] {
            assert_eq!(c.source(key), Some(&from_file), "{key}");
        }
    }

    #[test]
    fn env_wins_over_file_and_flag_wins_over_env() {
        let f = file(PROD);
        let env = env_of(&[
            ("OBS_PROMETHEUS_URL", "http://env:9090"),
            ("OBS_TENANT", "env-tenant"),
            ("OBS_TIMEOUT", "20s"),
            ("OBS_ERROR_QUERY", "env_query"),
            ("OBS_SERVICE_LABEL", "svc"),
        ]);
        let c = load_file(&f, &Overrides::default(), &env).unwrap();
        assert_eq!(c.prometheus.url, "http://env:9090");
        assert_eq!(c.prometheus.tenant.as_deref(), Some("env-tenant"));
        assert_eq!(c.prometheus.timeout, Duration::from_secs(20));
        assert_eq!(c.error_query.as_deref(), Some("env_query"));
        assert_eq!(c.service_label.as_deref(), Some("svc"));
        assert_eq!(
            c.source("prometheus_url"),
            Some(&Source::Env("OBS_PROMETHEUS_URL"))
        );
        assert_eq!(c.source("timeout"), Some(&Source::Env("OBS_TIMEOUT")));

        let o = Overrides {
            prometheus_url: Some("http://flag:9090".into()),
            tenant: Some("flag-tenant".into()),
            timeout: Some("5s".into()),
            error_query: Some("flag_query".into()),
            service_label: Some("flag_svc".into()),
            candidate_match: Some("{a=\"b\"}".into()),
            candidates: vec!["up".into(), "rate(foo_total[5m])".into()],
            max_candidates: Some(7),
            concurrency: Some(2),
            scrape_interval: Some("1m".into()),
            ..Overrides::default()
        };
        let c = load_file(&f, &o, &env).unwrap();
        assert_eq!(c.prometheus.url, "http://flag:9090");
        assert_eq!(c.prometheus.tenant.as_deref(), Some("flag-tenant"));
        assert_eq!(c.prometheus.timeout, Duration::from_secs(5));
        assert_eq!(c.error_query.as_deref(), Some("flag_query"));
        assert_eq!(c.service_label.as_deref(), Some("flag_svc"));
        assert_eq!(c.candidate_match.as_deref(), Some("{a=\"b\"}"));
        assert_eq!(c.max_candidates, 7);
        assert_eq!(c.concurrency, 2);
        assert_eq!(c.scrape_interval, Duration::from_secs(60));
        // Flag candidates are appended; duplicates dropped.
        assert_eq!(
            c.candidates,
            ["rate(foo_total[5m])", "rate(bar_total[5m])", "up"]
        );
        assert_eq!(
            c.source("candidates[2]"),
            Some(&Source::Flag("--candidate"))
        );
        assert_eq!(c.source("timeout"), Some(&Source::Flag("--timeout")));
        assert_eq!(
            c.source("max_candidates"),
            Some(&Source::Flag("--max-candidates"))
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let f = file(PROD);
        let env = env_of(&[("OBS_TENANT", ""), ("OBS_CONTEXT", " ")]);
        let o = Overrides {
            prometheus_url: Some(String::new()),
            ..Overrides::default()
        };
        let c = load_file(&f, &o, &env).unwrap();
        assert_eq!(c.context, "prod");
        assert_eq!(c.prometheus.url, "https://prom.example.com");
        assert_eq!(c.prometheus.tenant.as_deref(), Some("team-a"));
    }

    #[test]
    fn context_selection_layers() {
        let f = file(PROD);
        let env = env_of(&[("OBS_CONTEXT", "dev")]);
        let c = load_file(&f, &Overrides::default(), &env).unwrap();
        assert_eq!(c.context, "dev");
        assert_eq!(c.prometheus.url, "http://dev:9090");
        assert_eq!(c.source("context"), Some(&Source::Env("OBS_CONTEXT")));
        // dev sets nothing else: defaults, not prod's values.
        assert_eq!(c.prometheus.tenant, None);
        assert_eq!(c.concurrency, DEFAULT_CONCURRENCY);

        let o = Overrides {
            context: Some("prod".into()),
            ..Overrides::default()
        };
        let c = load_file(&f, &o, &env).unwrap();
        assert_eq!(c.context, "prod");
        assert_eq!(c.source("context"), Some(&Source::Flag("--context")));
    }

    #[test]
    fn config_path_from_env() {
        let f = file(PROD);
        let p = f.path.to_string_lossy().into_owned();
        let c = load(None, &Overrides::default(), &env_of(&[("OBS_CONFIG", &p)])).unwrap();
        assert_eq!(c.context, "prod");
        assert_eq!(c.source("config_file"), Some(&Source::Env("OBS_CONFIG")));
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let err = load(Some(&missing), &Overrides::default(), &no_env).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&format!("\"{}\"", missing.display())), "{msg}");
        assert!(msg.contains("(from flag --config) does not exist"), "{msg}");

        let m = missing.to_string_lossy().into_owned();
        let err = load(None, &Overrides::default(), &env_of(&[("OBS_CONFIG", &m)])).unwrap_err();
        assert!(err.to_string().contains("(from env OBS_CONFIG)"), "{err}");
    }

    #[test]
    fn missing_context_lists_available() {
        let f = file(PROD);
        let o = Overrides {
            context: Some("staging".into()),
            ..Overrides::default()
        };
        let err = load_file(&f, &o, &no_env).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "context \"staging\" (from flag --context) is not defined in \"{}\": \
                 available contexts: \"dev\", \"prod\"; pick one with --context or OBS_CONTEXT",
                f.path.display()
            )
        );

        // current_context naming a missing context.
        let f2 = file("current_context = \"gone\"\n[contexts.a]\n");
        let err = load_file(&f2, &Overrides::default(), &no_env).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("context \"gone\" (from file "), "{msg}");
        assert!(msg.contains("available contexts: \"a\""), "{msg}");

        // No file at all.
        let err = load(None, &o, &no_env).unwrap_err();
        assert!(
            err.to_string().contains("no config file was found"),
            "{err}"
        );
    }

    #[test]
    fn contexts_without_selection() {
        let f = file("[contexts.a]\n[contexts.b]\n");
        let err = load_file(&f, &Overrides::default(), &no_env).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("no context selected"), "{msg}");
        assert!(msg.contains("\"a\", \"b\""), "{msg}");
        // A context named "default" is picked implicitly.
        let f = file("[contexts.default]\ntenant = \"t\"\n[contexts.b]\n");
        let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
        assert_eq!(c.prometheus.tenant.as_deref(), Some("t"));
        // An empty file is fine.
        let f = file("");
        let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
        assert_eq!(c.context, "default");
    }

    #[test]
    fn unknown_key_names_key_file_and_position() {
        let f = file("current_context = \"p\"\n[contexts.p]\nprometheus_ur = \"http://x\"\n");
        let err = load_file(&f, &Overrides::default(), &no_env).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("prometheus_ur"), "{msg}");
        assert!(msg.contains(&f.path.display().to_string()), "{msg}");
        assert!(msg.contains("at line 3, column 1"), "{msg}");
        assert!(msg.starts_with("invalid config file \""), "{msg}");

        let f = file("color = true\n");
        let msg = load_file(&f, &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`color`") && msg.contains("line 1"), "{msg}");

        // A context key at the top level gets a hint.
        let f = file("prometheus_url = \"http://x\"\n");
        let msg = load_file(&f, &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("go in a [contexts.NAME] table"), "{msg}");
    }

    #[test]
    fn parse_errors_do_not_echo_source_lines() {
        let f = file("[contexts.default]\npasword = \"hunter2-secret\"\n");
        let err = load_file(&f, &Overrides::default(), &no_env).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("pasword"), "{msg}");
        assert!(!msg.contains("hunter2-secret"), "{msg}");
        let f = file("[contexts.default\n");
        let msg = load_file(&f, &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("at line 1"), "{msg}");
    }

    #[test]
    fn bad_timeout() {
        let f = file("[contexts.default]\ntimeout = \"abc\"\n");
        let err = load_file(&f, &Overrides::default(), &no_env).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid timeout \"abc\" (from file {}): expected a duration such as 500ms, \
                 15s, 1m or 1h30m",
                f.path.display()
            )
        );
        let err = load(
            None,
            &Overrides::default(),
            &env_of(&[("OBS_TIMEOUT", "0s")]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid timeout \"0s\" (from env OBS_TIMEOUT): it must be greater than zero, \
             such as 15s or 1m"
        );
        let o = Overrides {
            scrape_interval: Some("fast".into()),
            ..Overrides::default()
        };
        let msg = load(None, &o, &no_env).unwrap_err().to_string();
        assert!(
            msg.starts_with("invalid scrape_interval \"fast\" (from flag --scrape-interval)"),
            "{msg}"
        );
    }

    #[test]
    fn bad_values() {
        let cases: [(&str, &str); 9] = [
            (
                "prometheus_url = \"ftp://x\"",
                "invalid prometheus_url \"ftp://x\"",
            ),
            (
                "prometheus_url = \"localhost:9090\"",
                "expected an http:// or https:// URL",
            ),
            ("prometheus_url = \"http://\"", "it has no host"),
            (
                "prometheus_url = \"http://x:port\"",
                "the port must be a number",
            ),
            (
                "prometheus_url = \"http://x/api/v1/query\"",
                "without /api/v1",
            ),
            ("prometheus_url = \"http://x?a=b\"", "query or fragment"),
            ("concurrency = 0", "invalid concurrency \"0\""),
            ("max_candidates = -1", "invalid max_candidates \"-1\""),
            ("service_label = \"9x\"", "invalid service_label \"9x\""),
        ];
        for (line, want) in cases {
            let f = file(&format!("[contexts.default]\n{line}\n"));
            let msg = load_file(&f, &Overrides::default(), &no_env)
                .unwrap_err()
                .to_string();
            assert!(msg.contains(want), "{line}: {msg}");
            assert!(
                msg.contains(&format!("(from file {})", f.path.display())),
                "{msg}"
            );
        }
        let o = Overrides {
            concurrency: Some(5000),
            ..Overrides::default()
        };
        let msg = load(None, &o, &no_env).unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid concurrency \"5000\" (from flag --concurrency): expected a whole number from 1 to 1024"
        );
    }

    #[test]
    fn url_normalisation() {
        let o = |u: &str| Overrides {
            prometheus_url: Some(u.into()),
            ..Overrides::default()
        };
        for (input, want) in [
            ("HTTPS://prom.example.com/", "https://prom.example.com"),
            ("http://[::1]:9090", "http://[::1]:9090"),
            (
                "https://grafana.example.com/api/datasources/proxy/uid/abc/",
                "https://grafana.example.com/api/datasources/proxy/uid/abc",
            ),
            (" http://prom:9090//", "http://prom:9090"),
        ] {
            let c = load(None, &o(input), &no_env).unwrap();
            assert_eq!(c.prometheus.url, want, "{input}");
        }
    }

    #[test]
    fn url_with_credentials_is_rejected_without_echo() {
        let env = env_of(&[("OBS_PROMETHEUS_URL", "https://bob:pa55word@prom")]);
        let msg = load(None, &Overrides::default(), &env)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with(
                "invalid prometheus_url (from env OBS_PROMETHEUS_URL): it contains credentials"
            ),
            "{msg}"
        );
        assert!(!msg.contains("pa55word"), "{msg}");
    }

    #[test]
    fn basic_and_bearer_conflict() {
        let f =
            file("[contexts.default]\nusername = \"a\"\npassword = \"p\"\nbearer_token = \"t\"\n");
        let err = load_file(&f, &Overrides::default(), &no_env).unwrap_err();
        let from = format!("file {}", f.path.display());
        assert_eq!(
            err.to_string(),
            format!(
                "both basic auth (username/password, from {from}) and bearer_token (from {from}) \
                 are set: keep only one of them"
            )
        );
        let env = env_of(&[("OBS_PASSWORD", "p"), ("OBS_BEARER_TOKEN", "t")]);
        let err = load(None, &Overrides::default(), &env).unwrap_err();
        assert!(matches!(err, ConfigError::AuthConflict { .. }), "{err}");
        assert!(!err.to_string().contains("\"t\""));
    }

    #[test]
    fn auth_layers_as_a_unit() {
        // Username in the file, password from env: combined.
        let f = file("[contexts.default]\nusername = \"alice\"\n");
        let env = env_of(&[("OBS_PASSWORD", "pw-from-env")]);
        let c = load_file(&f, &Overrides::default(), &env).unwrap();
        assert_eq!(
            c.prometheus.auth,
            Some(Auth::Basic {
                username: "alice".into(),
                password: Secret::new("pw-from-env")
            })
        );
        assert_eq!(c.source("password"), Some(&Source::Env("OBS_PASSWORD")));
        assert_eq!(c.source("username"), Some(&Source::File(f.path.clone())));

        // Bearer from env replaces basic from the file.
        let f = file("[contexts.default]\nusername = \"alice\"\npassword = \"pw\"\n");
        let env = env_of(&[("OBS_BEARER_TOKEN", " tok ")]);
        let c = load_file(&f, &Overrides::default(), &env).unwrap();
        assert_eq!(
            c.prometheus.auth,
            Some(Auth::Bearer {
                token: Secret::new("tok")
            })
        );
        assert_eq!(c.source("username"), None);

        // Flag username beats env username; password still from env.
        let env = env_of(&[("OBS_USERNAME", "env-user"), ("OBS_PASSWORD", "pw")]);
        let o = Overrides {
            username: Some("flag-user".into()),
            ..Overrides::default()
        };
        let c = load(None, &o, &env).unwrap();
        assert!(
            matches!(&c.prometheus.auth, Some(Auth::Basic { username, .. }) if username == "flag-user")
        );
        assert_eq!(c.source("username"), Some(&Source::Flag("--username")));
    }

    #[test]
    fn incomplete_basic_auth() {
        let env = env_of(&[("OBS_USERNAME", "alice")]);
        let err = load(None, &Overrides::default(), &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "username is set (from env OBS_USERNAME) but password is not: set password too, \
             or remove username"
        );
        let f = file("[contexts.default]\npassword = \"hunter2\"\n");
        let msg = load_file(&f, &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("password is set (from file "), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        let env = env_of(&[("OBS_USERNAME", "a:b"), ("OBS_PASSWORD", "x")]);
        let msg = load(None, &Overrides::default(), &env)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("invalid username \"a:b\" (from env OBS_USERNAME)"),
            "{msg}"
        );
    }

    #[test]
    fn headers_and_conflicts() {
        let f = file(
            "[contexts.default]\nheaders = { \"X-Extra\" = \"1\", \"X-Api-Key\" = \"k3y-value\", \
             Cookie = \"c00kie\" }\n",
        );
        let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
        let h = &c.prometheus.headers;
        assert_eq!(h["X-Extra"], MaybeSecret::Plain("1".into()));
        assert!(h["X-Api-Key"].is_secret());
        assert_eq!(h["X-Api-Key"].expose(), "k3y-value");
        assert!(h["Cookie"].is_secret());
        assert_eq!(
            c.source("headers.X-Extra"),
            Some(&Source::File(f.path.clone()))
        );

        let f = file(
            "[contexts.default]\nbearer_token = \"t\"\nheaders = { authorization = \"Basic x\" }\n",
        );
        let msg = load_file(&f, &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("header \"authorization\" (from file "),
            "{msg}"
        );
        assert!(msg.contains("conflicts with bearer_token"), "{msg}");
        assert!(!msg.contains("Basic x"), "{msg}");

        let f = file("[contexts.default]\nheaders = { \"X-Scope-OrgID\" = \"a\" }\n");
        let env = env_of(&[("OBS_TENANT", "b")]);
        let msg = load_file(&f, &Overrides::default(), &env)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("conflicts with tenant (from env OBS_TENANT)"),
            "{msg}"
        );

        let f = file("[contexts.default]\nheaders = { \"Bad Name\" = \"a\" }\n");
        let msg = load_file(&f, &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("\"Bad Name\" is not a valid HTTP header name"),
            "{msg}"
        );

        let f = file("[contexts.default]\nheaders = { \"X-Token\" = \"bad\\nsecretline\" }\n");
        let msg = load_file(&f, &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("invalid headers.X-Token (from file "),
            "{msg}"
        );
        assert!(!msg.contains("secretline"), "{msg}");
    }

    #[test]
    fn sensitive_header_names() {
        for name in [
            "Authorization",
            "cookie",
            "X-Auth-Token",
            "X-API-KEY",
            "Client-Secret",
            "Proxy-Authorization",
        ] {
            assert!(is_sensitive_header(name), "{name}");
        }
        for name in ["X-Extra", "Accept", "X-Scope-OrgID", "User-Agent"] {
            assert!(!is_sensitive_header(name), "{name}");
        }
    }

    #[test]
    fn ca_file_relative_to_config_file() {
        let f = file("[contexts.default]\nca_file = \"ca.pem\"\n");
        std::fs::write(f.dir.path().join("ca.pem"), "pem").unwrap();
        let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
        assert_eq!(c.prometheus.ca_file, Some(f.dir.path().join("ca.pem")));

        let env = env_of(&[("OBS_CA_FILE", "/nonexistent/ca.pem")]);
        let msg = load(None, &Overrides::default(), &env)
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "invalid ca_file \"/nonexistent/ca.pem\" (from env OBS_CA_FILE): no such file; \
             give the path to a PEM CA bundle"
        );
    }

    const SECRETS: [&str; 4] = ["hunter2-pass", "tok-abc-123", "k3y-value", "c00kie-val"];

    fn secret_configs() -> Vec<(Config, Fixture)> {
        let basic = file(
            "[contexts.default]\nusername = \"alice\"\npassword = \"hunter2-pass\"\n\
             headers = { \"X-Api-Key\" = \"k3y-value\", Cookie = \"c00kie-val\", \"X-Extra\" = \"1\" }\n",
        );
        let bearer = file("[contexts.default]\nbearer_token = \"tok-abc-123\"\n");
        vec![
            (
                load_file(&basic, &Overrides::default(), &no_env).unwrap(),
                basic,
            ),
            (
                load_file(&bearer, &Overrides::default(), &no_env).unwrap(),
                bearer,
            ),
        ]
    }

    #[test]
    fn secrets_never_printed() {
        for (c, _f) in secret_configs() {
            let outputs = [
                render_toml(&c),
                format!("{c:?}"),
                format!("{c:#?}"),
                serde_json::to_string(&c).unwrap(),
                serde_json::to_string_pretty(&c).unwrap(),
            ];
            for out in &outputs {
                for secret in SECRETS {
                    assert!(!out.contains(secret), "{secret} leaked in:\n{out}");
                }
                assert!(out.contains(MASK), "{out}");
            }
        }
        let s = Secret::new("hunter2-pass");
        assert_eq!(format!("{s} {s:?}"), "******** ********");
        assert_eq!(s.expose(), "hunter2-pass");
    }

    #[test]
    fn render_toml_shows_values_and_sources() {
        let (c, f) = secret_configs().into_iter().next().unwrap();
        let out = render_toml(&c);
        let file_src = format!("# file {}", f.path.display());
        let line = |prefix: &str| {
            out.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix} in:\n{out}"))
                .to_owned()
        };
        assert!(
            line("prometheus_url = \"http://localhost:9090\"").ends_with("# default"),
            "{out}"
        );
        assert!(line("username = \"alice\"").ends_with(&file_src), "{out}");
        assert!(
            line("password = \"********\"").ends_with(&file_src),
            "{out}"
        );
        assert!(line("timeout = \"30s\"").ends_with("# default"), "{out}");
        assert!(line("X-Extra = \"1\"").ends_with(&file_src), "{out}");
        assert!(line("X-Api-Key = \"********\"").contains("# file"), "{out}");
        assert!(out.contains("# tenant: not set"), "{out}");
        assert!(
            out.contains("# service_label: not set, trying \"service\", \"service_name\", \"job\""),
            "{out}"
        );
        assert!(out.contains("max_candidates = 500"), "{out}");

        let env = env_of(&[("OBS_TIMEOUT", "1m30s")]);
        let o = Overrides {
            candidates: vec!["up".into()],
            ..Overrides::default()
        };
        let c = load(None, &o, &env).unwrap();
        let out = render_toml(&c);
        assert!(
            out.contains("# obs configuration, context \"default\", no config file"),
            "{out}"
        );
        assert!(
            out.lines()
                .any(|l| l.starts_with("timeout = \"1m30s\"") && l.ends_with("# env OBS_TIMEOUT")),
            "{out}"
        );
        assert!(
            out.lines()
                .any(|l| l.starts_with("    \"up\",") && l.ends_with("# flag --candidate")),
            "{out}"
        );
    }

    #[test]
    fn trace_and_log_backends_layer_with_their_own_overrides() {
        let f = file(
            r#"
[contexts.default]
prometheus_url = "http://prom:9090"
tempo_url = "http://tempo:3200/"
loki_url = "http://loki-from-file:3100"
tenant = "shared"
username = "shared-user"
password = "shared-pass"
trace_match = "line"
log_selector = '{job="shop"}'

[contexts.default.loki]
tenant = "logs-tenant"
username = "123456"
password = "loki-SECRET"
headers = { "X-Logs" = "1" }
"#,
        );
        let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
        assert_eq!(c.prometheus.tenant.as_deref(), Some("shared"));
        let tempo = c.tempo.as_ref().unwrap();
        assert_eq!(tempo.url, "http://tempo:3200");
        assert_eq!(tempo.tenant.as_deref(), Some("shared"));
        let loki = c.loki.as_ref().unwrap();
        assert_eq!(loki.url, "http://loki-from-file:3100");
        assert_eq!(loki.tenant.as_deref(), Some("logs-tenant"));
        assert!(matches!(&loki.auth, Some(Auth::Basic { username, .. }) if username == "123456"));
        assert!(loki.headers.contains_key("X-Logs"));
        assert!(!c.prometheus.headers.contains_key("X-Logs"));
        assert_eq!(c.trace_match, TraceMatch::Line);
        assert_eq!(c.log_selector.as_deref(), Some(r#"{job="shop"}"#));
        assert_eq!(c.jaeger, None);
        assert_eq!(c.traces().map(|(k, _)| k), Some(TraceBackend::Tempo));

        // logcli's variables beat the file, and OBS_LOKI_URL beats LOKI_ADDR.
        let env = env_of(&[
            ("LOKI_ADDR", "http://loki-addr:3100"),
            ("LOKI_ORG_ID", "org-from-env"),
            ("LOKI_BEARER_TOKEN", "tok-SECRET"),
        ]);
        let c = load_file(&f, &Overrides::default(), &env).unwrap();
        let loki = c.loki.as_ref().unwrap();
        assert_eq!(loki.url, "http://loki-addr:3100");
        assert_eq!(loki.tenant.as_deref(), Some("org-from-env"));
        assert!(matches!(loki.auth, Some(Auth::Bearer { .. })));
        assert_eq!(c.source("loki.tenant"), Some(&Source::Env("LOKI_ORG_ID")));
        // Prometheus is untouched by Loki's variables.
        assert_eq!(c.prometheus.tenant.as_deref(), Some("shared"));
        let env = env_of(&[("LOKI_ADDR", "http://a:1"), ("OBS_LOKI_URL", "http://b:2")]);
        assert_eq!(
            load_file(&f, &Overrides::default(), &env)
                .unwrap()
                .loki
                .unwrap()
                .url,
            "http://b:2"
        );
        // A flag beats every layer.
        let o = Overrides {
            tenant: Some("flag-tenant".into()),
            ..Overrides::default()
        };
        let c = load_file(&f, &o, &env_of(&[("LOKI_ORG_ID", "x")])).unwrap();
        assert_eq!(c.loki.unwrap().tenant.as_deref(), Some("flag-tenant"));

        // Secrets stay masked, the per-backend table is shown with its sources.
        let c = load_file(
            &f,
            &Overrides::default(),
            &env_of(&[("LOKI_PASSWORD", "pw-SECRET")]),
        )
        .unwrap();
        let text = render_toml(&c);
        let json = serde_json::to_string(&c).unwrap();
        for out in [&text, &json, &format!("{c:?}")] {
            assert!(!out.contains("SECRET"), "{out}");
            assert!(!out.contains("shared-pass"), "{out}");
        }
        assert!(text.contains("[loki]"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("password = \"********\"")
                    && l.ends_with("# env LOKI_PASSWORD")),
            "{text}"
        );
        assert!(text.contains("tempo_url = \"http://tempo:3200\""), "{text}");
        assert!(text.contains("# jaeger_url: not set"), "{text}");
    }

    #[test]
    fn jaeger_wins_only_from_a_higher_layer() {
        let f = file(
            "[contexts.default]\ntempo_url = \"http://t:3200\"\njaeger_url = \"http://j:16686\"\n",
        );
        let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
        assert_eq!(c.traces().map(|(k, _)| k), Some(TraceBackend::Tempo));
        let o = Overrides {
            jaeger_url: Some("http://j2:16686".into()),
            ..Overrides::default()
        };
        let c = load_file(&f, &o, &no_env).unwrap();
        let (kind, http) = c.traces().unwrap();
        assert_eq!(
            (kind, http.url.as_str()),
            (TraceBackend::Jaeger, "http://j2:16686")
        );
        let bad = file("[contexts.default]\ntrace_match = \"grep\"\n");
        let err = load_file(&bad, &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("trace_match \"grep\""), "{err}");
        assert!(err.contains("auto, label, metadata or line"), "{err}");
        let bad = file("[contexts.default.loki]\nurl = \"http://x\"\n");
        let err = load_file(&bad, &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `url`"), "{err}");
    }

    #[test]
    fn json_shape() {
        let env = env_of(&[("OBS_BEARER_TOKEN", "tok-abc-123")]);
        let c = load(None, &Overrides::default(), &env).unwrap();
        let v: serde_json::Value = serde_json::to_value(&c).unwrap();
        assert_eq!(v["prometheus"]["url"], "http://localhost:9090");
        assert_eq!(v["prometheus"]["timeout"], "30s");
        assert_eq!(v["prometheus"]["auth"]["type"], "bearer");
        assert_eq!(v["prometheus"]["auth"]["token"], MASK);
        assert_eq!(v["scrape_interval"], "15s");
        assert_eq!(v["sources"]["bearer_token"], "env OBS_BEARER_TOKEN");
        assert_eq!(v["sources"]["timeout"], "default");
    }
}
