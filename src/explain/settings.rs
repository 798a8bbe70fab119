//! The LLM settings of `obs explain`: the `[contexts.NAME.llm]` table, the standard
//! `OPENAI_API_KEY` / `OPENAI_BASE_URL` variables and the command's flags, layered
//! flags > environment > file > defaults into one [`LlmSettings`].
//!
//! This module owns the table's keys, their defaults and validation messages. It does no I/O
//! (the environment comes in as a lookup function) and never prints a secret: the API key and
//! sensitive header values are [`Secret`]s.

use std::collections::BTreeMap;
use std::time::Duration;

pub use crate::config::LlmFile;
use crate::config::{MaybeSecret, Secret};
use crate::timespec::parse_duration;

pub const ENV_API_KEY: &str = "OPENAI_API_KEY";
pub const ENV_BASE_URL: &str = "OPENAI_BASE_URL";
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_MODEL: &str = "gpt-4o";
pub const DEFAULT_TEMPERATURE: f32 = 0.1;
pub const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 1500;
pub const DEFAULT_MAX_INPUT_TOKENS: usize = 8000;
/// Waiting for the first byte and, while streaming, between two chunks.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The command's own flags; `None` means not given.
#[derive(Debug, Clone, Default)]
pub struct LlmFlags {
    pub model: Option<String>,
    pub max_input_tokens: Option<usize>,
    pub timeout: Option<String>,
}

/// The resolved settings for one explanation.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// Up to and including `/v1` (or the Azure deployment), without a trailing slash.
    pub base_url: String,
    pub model: String,
    /// `None` when nothing set one; only a dry run goes without.
    pub api_key: Option<Secret>,
    pub temperature: f32,
    pub max_output_tokens: u32,
    pub max_input_tokens: usize,
    pub timeout: Duration,
    pub headers: BTreeMap<String, MaybeSecret>,
    pub query: BTreeMap<String, String>,
    pub redact_patterns: Vec<String>,
    pub redact_labels: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid llm setting {key} = {value:?} (from {origin}): {reason}")]
    Invalid {
        key: &'static str,
        value: String,
        origin: &'static str,
        reason: String,
    },
}

fn invalid(
    key: &'static str,
    value: impl ToString,
    origin: &'static str,
    reason: &str,
) -> SettingsError {
    SettingsError::Invalid {
        key,
        value: value.to_string(),
        origin,
        reason: reason.to_string(),
    }
}

/// Layers flags > environment > file > defaults. `file` is the selected context's `llm` table.
pub fn resolve(
    file: Option<&LlmFile>,
    flags: &LlmFlags,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<LlmSettings, SettingsError> {
    let empty = LlmFile::default();
    let f = file.unwrap_or(&empty);
    let env_get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());

    let (base_url, base_origin) = match (env_get(ENV_BASE_URL), nonempty(&f.base_url)) {
        (Some(v), _) => (v, ENV_BASE_URL),
        (None, Some(v)) => (v, "the config file's llm.base_url"),
        (None, None) => (DEFAULT_BASE_URL.to_string(), "the default"),
    };
    let base_url = base_url.trim().trim_end_matches('/').to_string();
    match reqwest::Url::parse(&base_url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        _ => {
            return Err(invalid(
                "base_url",
                crate::explain::redact::url_for_log(&base_url),
                base_origin,
                "expected an http or https URL such as https://api.openai.com/v1",
            ));
        }
    }

    let model = nonempty(&flags.model)
        .or_else(|| nonempty(&f.model))
        .unwrap_or_else(|| DEFAULT_MODEL.to_string());
    let api_key = env_get(ENV_API_KEY)
        .or_else(|| nonempty(&f.api_key))
        .map(|k| Secret::new(k.trim()));

    let temperature = match f.temperature {
        None => DEFAULT_TEMPERATURE,
        Some(t) if t.is_finite() && (0.0..=2.0).contains(&t) => t as f32,
        Some(t) => {
            return Err(invalid(
                "temperature",
                t,
                "the config file",
                "expected 0 to 2",
            ));
        }
    };
    let max_output_tokens = match f.max_output_tokens {
        None => DEFAULT_MAX_OUTPUT_TOKENS,
        Some(n) if (1..=1_000_000).contains(&n) => n as u32,
        Some(n) => {
            return Err(invalid(
                "max_output_tokens",
                n,
                "the config file",
                "expected a positive number of tokens",
            ));
        }
    };
    let max_input_tokens = match (flags.max_input_tokens, f.max_input_tokens) {
        (Some(n), _) if n >= 1 => n,
        (Some(n), _) => {
            return Err(invalid(
                "max_input_tokens",
                n,
                "--max-input-tokens",
                "expected a positive number of tokens",
            ));
        }
        (None, Some(n)) if n >= 1 => n as usize,
        (None, Some(n)) => {
            return Err(invalid(
                "max_input_tokens",
                n,
                "the config file",
                "expected a positive number of tokens",
            ));
        }
        (None, None) => DEFAULT_MAX_INPUT_TOKENS,
    };
    let timeout = match (nonempty(&flags.timeout), nonempty(&f.timeout)) {
        (Some(t), _) => parse_timeout(&t, "--timeout")?,
        (None, Some(t)) => parse_timeout(&t, "the config file")?,
        (None, None) => DEFAULT_TIMEOUT,
    };

    let mut headers = BTreeMap::new();
    for (name, value) in f.headers.iter().flatten() {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(invalid(
                "headers",
                name,
                "the config file",
                "not a valid HTTP header name",
            ));
        }
        if reqwest::header::HeaderValue::from_str(value).is_err() {
            // The value may be a key: name the header only.
            return Err(invalid(
                "headers",
                name,
                "the config file",
                "its value is not a valid HTTP header value",
            ));
        }
        headers.insert(name.clone(), MaybeSecret::for_header(name, value.clone()));
    }
    let query = f.query.clone().unwrap_or_default();

    let redact_patterns = f.redact_patterns.clone().unwrap_or_default();
    for p in &redact_patterns {
        if let Err(e) = regex::Regex::new(p) {
            return Err(invalid(
                "redact_patterns",
                p,
                "the config file",
                &format!("not a valid regex: {e}"),
            ));
        }
    }
    let redact_labels = f.redact_labels.clone().unwrap_or_default();

    Ok(LlmSettings {
        base_url,
        model,
        api_key,
        temperature,
        max_output_tokens,
        max_input_tokens,
        timeout,
        headers,
        query,
        redact_patterns,
        redact_labels,
    })
}

fn parse_timeout(text: &str, origin: &'static str) -> Result<Duration, SettingsError> {
    match parse_duration(text) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(invalid(
            "timeout",
            text,
            origin,
            "expected a duration such as 30s or 2m",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_without_file_env_or_flags() {
        let s = resolve(None, &LlmFlags::default(), &env_of(&[])).unwrap();
        assert_eq!(s.base_url, DEFAULT_BASE_URL);
        assert_eq!(s.model, "gpt-4o");
        assert!(s.api_key.is_none());
        assert_eq!(s.temperature, 0.1);
        assert_eq!(s.max_input_tokens, 8000);
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let file = LlmFile {
            base_url: Some("http://file.example/v1/".into()),
            model: Some("file-model".into()),
            api_key: Some("file-key".into()),
            max_input_tokens: Some(100),
            ..LlmFile::default()
        };
        let env = env_of(&[
            (ENV_API_KEY, "env-key"),
            (ENV_BASE_URL, "http://env.example/v1"),
        ]);
        let flags = LlmFlags {
            model: Some("flag-model".into()),
            max_input_tokens: Some(50),
            timeout: Some("5s".into()),
        };
        let s = resolve(Some(&file), &flags, &env).unwrap();
        assert_eq!(s.base_url, "http://env.example/v1");
        assert_eq!(s.model, "flag-model");
        assert_eq!(s.api_key.as_ref().map(Secret::expose), Some("env-key"));
        assert_eq!(s.max_input_tokens, 50);
        assert_eq!(s.timeout, Duration::from_secs(5));
        let s = resolve(Some(&file), &LlmFlags::default(), &env_of(&[])).unwrap();
        assert_eq!(s.base_url, "http://file.example/v1");
        assert_eq!(s.api_key.as_ref().map(Secret::expose), Some("file-key"));
    }

    #[test]
    fn the_key_and_key_like_headers_never_print() {
        let file = LlmFile {
            api_key: Some("sk-verysecretvalue".into()),
            headers: Some(BTreeMap::from([(
                "api-key".to_string(),
                "azure-secret".to_string(),
            )])),
            ..LlmFile::default()
        };
        let s = resolve(Some(&file), &LlmFlags::default(), &env_of(&[])).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("sk-verysecretvalue"), "{shown}");
        assert!(!shown.contains("azure-secret"), "{shown}");
    }

    #[test]
    fn bad_values_are_named() {
        let file = LlmFile {
            temperature: Some(7.0),
            ..LlmFile::default()
        };
        let err = resolve(Some(&file), &LlmFlags::default(), &env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("temperature"), "{err}");
        let err = resolve(
            None,
            &LlmFlags::default(),
            &env_of(&[(ENV_BASE_URL, "localhost:4000")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("OPENAI_BASE_URL"), "{err}");
        let file = LlmFile {
            redact_patterns: Some(vec!["(".into()]),
            ..LlmFile::default()
        };
        let err = resolve(Some(&file), &LlmFlags::default(), &env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("redact_patterns"), "{err}");
    }
}
