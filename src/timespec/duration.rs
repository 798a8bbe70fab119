//! Durations: `500ms`, `15s`, `1h30m`, `2d`, `1w` parsed (largest unit first, each once) and
//! formatted back compactly.

use std::time::Duration;

use super::TimeSpecError;

/// Serde helper: a std [`Duration`] as a compact string like `1h30m`.
pub fn serialize_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

/// Parses a duration: one or more `<integer><unit>` parts, units `w`, `d`,
/// `h`, `m`, `s`, `ms`, largest first, each unit at most once (`15s`, `1m`,
/// `1h30m`, `500ms`). `d` is 24 h and `w` is 7 d. Zero (`0s`) is accepted;
/// callers that need a positive duration check that themselves.
pub fn parse_duration(input: &str) -> Result<Duration, TimeSpecError> {
    parse_duration_str(input.trim()).ok_or_else(|| TimeSpecError::InvalidDuration {
        input: input.to_owned(),
    })
}

pub(super) fn parse_duration_str(s: &str) -> Option<Duration> {
    const UNITS: [(&str, u128); 6] = [
        ("w", 7 * 86_400 * 1_000_000_000),
        ("d", 86_400 * 1_000_000_000),
        ("h", 3_600 * 1_000_000_000),
        ("m", 60 * 1_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
    ];
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total: u128 = 0;
    let mut next_rank = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: u128 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let rank = UNITS.iter().position(|(u, _)| *u == unit)?;
        if rank < next_rank {
            return None;
        }
        next_rank = rank + 1;
        total = total.checked_add(n.checked_mul(UNITS[rank].1)?)?;
    }
    let secs = u64::try_from(total / 1_000_000_000).ok()?;
    // The remainder is < 1e9 and so fits in u32.
    let nanos = u32::try_from(total % 1_000_000_000).ok()?;
    Some(Duration::new(secs, nanos))
}

/// Formats a duration compactly in the syntax [`parse_duration`] accepts:
/// `1h30m`, `15s`, `500ms`, `1d`, `0s`. Sub-millisecond parts are dropped.
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("d", 86_400_000u128),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        let n = ms / size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            ms %= size;
        }
    }
    out
}
