//! Small conversions between OTLP values and what the store keeps: hex ids, attribute values as
//! JSON, attribute values as Prometheus label strings, and a stable content hash.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use serde_json::Value as Json;

use crate::model::trace::Attributes;

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// An OTLP id field: empty means "none"; otherwise exactly `len` bytes, not all zero.
pub(crate) fn id(bytes: &[u8], len: usize, what: &str) -> Result<Option<String>, String> {
    Ok(check_id(bytes, len, what)?.then(|| hex(bytes)))
}

/// [`id`] without the hex: whether the id is present, or why it is invalid.
pub(crate) fn check_id(bytes: &[u8], len: usize, what: &str) -> Result<bool, String> {
    if bytes.is_empty() {
        return Ok(false);
    }
    if bytes.len() != len {
        return Err(format!(
            "invalid {what} {:?}: {} bytes, expected {len}",
            hex(bytes),
            bytes.len()
        ));
    }
    if bytes.iter().all(|&b| b == 0) {
        return Err(format!("invalid {what}: all zero"));
    }
    Ok(true)
}

/// Nanoseconds as stored (SQLite integers are signed): values past year 2262 are refused.
pub(crate) fn nanos(v: u64, what: &str) -> Result<i64, String> {
    i64::try_from(v).map_err(|_| format!("{what} {v} is out of range"))
}

/// An attribute value as JSON, keeping its type. Doubles that JSON cannot hold (NaN, ±inf) are
/// kept as the strings OTLP/JSON uses; bytes as base64, as OTLP/JSON writes them.
pub(crate) fn any_to_json(v: Option<&AnyValue>) -> Json {
    match v.and_then(|v| v.value.as_ref()) {
        None => Json::Null,
        Some(Value::StringValue(s)) => Json::String(s.clone()),
        Some(Value::BoolValue(b)) => Json::Bool(*b),
        Some(Value::IntValue(i)) => Json::from(*i),
        Some(Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(Json::Number)
            .unwrap_or_else(|| Json::String(float_text(*d))),
        Some(Value::ArrayValue(a)) => {
            Json::Array(a.values.iter().map(|v| any_to_json(Some(v))).collect())
        }
        Some(Value::KvlistValue(kv)) => Json::Object(attributes(&kv.values).into_iter().collect()),
        Some(Value::BytesValue(b)) => Json::String(base64(b)),
        Some(Value::StringValueStrindex(i)) => Json::from(*i),
    }
}

/// Attributes as a JSON map (a repeated key keeps its last value).
pub(crate) fn attributes(kvs: &[KeyValue]) -> Attributes {
    kvs.iter()
        .map(|kv| (kv.key.clone(), any_to_json(kv.value.as_ref())))
        .collect()
}

/// An attribute value as a label value, following the OpenTelemetry attribute rules for
/// non-string values: numbers and booleans as text, arrays and maps as JSON.
pub(crate) fn any_to_label(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => float_text(*d),
        Some(Value::BytesValue(b)) => base64(b),
        Some(other) => any_to_json(Some(&AnyValue {
            value: Some(other.clone()),
        }))
        .to_string(),
    }
}

/// A JSON value as display text: strings verbatim, anything else as compact JSON.
pub(crate) fn json_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// A float the way Prometheus writes `le` and `quantile` labels (Go's `FormatFloat(f, 'f', -1)`,
/// which Rust's `Display` matches), with `+Inf`, `-Inf` and `NaN` spelled as Prometheus does.
pub(crate) fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f == f64::INFINITY {
        "+Inf".to_string()
    } else if f == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{f}")
    }
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// 128-bit FNV-1a: a stable (never changes between builds) content hash used to recognise a
/// resent log record or an already-stored resource. Not for adversarial input.
#[derive(Clone)]
pub(crate) struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    pub(crate) fn new() -> Fnv128 {
        Fnv128(Self::OFFSET)
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            self.0 ^= u128::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
        self
    }

    /// A length-prefixed field, so that ("ab","c") and ("a","bc") differ.
    pub(crate) fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes(&(bytes.len() as u64).to_le_bytes());
        self.bytes(bytes)
    }

    pub(crate) fn int(&mut self, v: i64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    pub(crate) fn finish(&self) -> [u8; 16] {
        self.0.to_be_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn fnv128_is_the_published_algorithm() {
        // FNV-1a 128 of "" is the offset basis; of "a" a known vector.
        assert_eq!(
            u128::from_be_bytes(Fnv128::new().finish()),
            0x6c62272e07bb014262b821756295c58d
        );
        assert_eq!(
            u128::from_be_bytes(Fnv128::new().bytes(b"a").finish()),
            0xd228cb696f1a8caf78912b704e4a8964
        );
    }

    #[test]
    fn ids_are_checked_for_length_and_zero() {
        assert_eq!(id(&[], 16, "trace id"), Ok(None));
        assert_eq!(
            id(&[0xab; 8], 8, "span id"),
            Ok(Some("abababababababab".into()))
        );
        assert!(id(&[1; 7], 8, "span id").unwrap_err().contains("7 bytes"));
        assert!(
            id(&[0; 16], 16, "trace id")
                .unwrap_err()
                .contains("all zero")
        );
    }

    #[test]
    fn floats_print_like_prometheus() {
        assert_eq!(float_text(1.0), "1");
        assert_eq!(float_text(0.005), "0.005");
        assert_eq!(float_text(1e-7), "0.0000001");
        assert_eq!(float_text(2.5e6), "2500000");
        assert_eq!(float_text(f64::INFINITY), "+Inf");
    }
}
