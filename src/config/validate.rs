//! Validation of single values: durations, URLs, header names and values, label names. Each
//! failure is a [`ConfigError::Invalid`] that quotes the value (URLs without their credentials)
//! and says what is expected.

use std::time::Duration;

use crate::timespec::parse_duration;

use super::Source;
use super::error::ConfigError;

pub(super) fn invalid(
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

/// A positive duration setting.
pub(super) fn parse_timeout(
    key: &str,
    text: &str,
    origin: &Source,
) -> Result<Duration, ConfigError> {
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
pub(super) fn validate_url(key: &str, raw: &str, origin: &Source) -> Result<String, ConfigError> {
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
pub(super) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Visible ASCII, spaces and tabs: what every HTTP client accepts.
pub(super) fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

pub(super) fn is_label_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
