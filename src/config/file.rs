//! The config file: its TOML model (`deny_unknown_fields`, so a typo is an error naming the key
//! and line), where it is found, and reading and parsing it. Only reads; layering the values it
//! holds with env and flags is `layer`'s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::ConfigError;
use super::layer::env_get;

/// The config file's top level.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    /// Context used when neither `--context` nor `OBS_CONTEXT` is set.
    pub(super) current_context: Option<String>,
    /// Named contexts.
    #[serde(default)]
    pub(super) contexts: BTreeMap<String, FileContext>,
}

/// One `[contexts.NAME]` table; every key optional. See the module docs.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileContext {
    pub(super) prometheus_url: Option<String>,
    pub(super) tenant: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
    pub(super) bearer_token: Option<String>,
    pub(super) headers: Option<BTreeMap<String, String>>,
    pub(super) ca_file: Option<String>,
    pub(super) timeout: Option<String>,
    pub(super) error_query: Option<String>,
    pub(super) latency_query: Option<String>,
    pub(super) service_label: Option<String>,
    pub(super) candidates: Option<Vec<String>>,
    pub(super) candidate_match: Option<String>,
    pub(super) max_candidates: Option<i64>,
    pub(super) concurrency: Option<i64>,
    pub(super) scrape_interval: Option<String>,
    pub(super) tempo_url: Option<String>,
    pub(super) jaeger_url: Option<String>,
    pub(super) loki_url: Option<String>,
    pub(super) grafana_url: Option<String>,
    pub(super) grafana_prometheus_uid: Option<String>,
    pub(super) grafana_traces_uid: Option<String>,
    pub(super) grafana_loki_uid: Option<String>,
    pub(super) trace_match: Option<String>,
    pub(super) tempo_search: Option<String>,
    pub(super) log_selector: Option<String>,
    pub(super) log_service_label: Option<String>,
    pub(super) prometheus: Option<FileBackend>,
    pub(super) tempo: Option<FileBackend>,
    pub(super) jaeger: Option<FileBackend>,
    pub(super) loki: Option<FileBackend>,
    /// `[contexts.NAME.llm]`, resolved by the explain module.
    pub(super) llm: Option<super::LlmFile>,
}

/// A `[contexts.NAME.<backend>]` table: connection settings for that backend alone, which
/// replace the context's shared ones (e.g. Grafana Cloud's per-stack user ids).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileBackend {
    pub(super) tenant: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
    pub(super) bearer_token: Option<String>,
    pub(super) headers: Option<BTreeMap<String, String>>,
    pub(super) ca_file: Option<String>,
    pub(super) timeout: Option<String>,
}

/// Keys a context table accepts, to spot them misplaced at the top level.
pub(super) const CONTEXT_KEYS: [&str; 32] = [
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
    "grafana_url",
    "grafana_prometheus_uid",
    "grafana_traces_uid",
    "grafana_loki_uid",
    "trace_match",
    "tempo_search",
    "log_selector",
    "log_service_label",
    "prometheus",
    "tempo",
    "jaeger",
    "loki",
    "llm",
];

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

/// The default store, where `obs sink` writes without `--store` and where `investigate`,
/// `trace` and `logs` read when no backend is configured: `$XDG_DATA_HOME/obs/sink.db` if
/// `XDG_DATA_HOME` is an absolute path, else `$HOME/.local/share/obs/sink.db` (the XDG base
/// directory default), else `None`. Does not check existence.
pub fn default_store_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let xdg = env_get(env, "XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = match xdg {
        Some(dir) => dir,
        None => PathBuf::from(env_get(env, "HOME")?)
            .join(".local")
            .join("share"),
    };
    Some(base.join("obs").join("sink.db"))
}

/// Reads and parses a config file; `Ok(None)` if it does not exist.
pub(super) fn read_file(path: &Path) -> Result<Option<FileConfig>, ConfigError> {
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

pub(super) fn parse_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
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
