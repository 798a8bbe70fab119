//! [`ConfigError`]: everything that can go wrong loading the configuration, with messages that
//! name the setting, where it came from and the bad value (never a secret's), and say what to
//! do.

use std::path::{Path, PathBuf};

use super::{ENV_CONTEXT, Source};

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

pub(super) fn at_line(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

pub(super) fn quoted(value: Option<&str>) -> String {
    value.map(|v| format!(" {v:?}")).unwrap_or_default()
}

pub(super) fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn context_hint(name: &str, file: Option<&Path>, available: &[String]) -> String {
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
