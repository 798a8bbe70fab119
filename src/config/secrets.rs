//! Secrets in the configuration: [`Secret`] (credentials) and [`MaybeSecret`] (header values
//! whose name looks sensitive). Debug, Display and Serialize print the mask; only `expose`
//! gives the value, for the HTTP layer. Nothing here may format a secret's text.

use std::fmt;

use serde::{Serialize, Serializer};

use super::MASK;

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
