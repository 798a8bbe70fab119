//! Instants as users type them: `now`, `now-1h`, `14:30` (local, today or yesterday), `30m`
//! ago, RFC 3339, unix seconds; with a hint for the common mistakes (negative durations,
//! milliseconds, out-of-range clocks).

use std::time::Duration;

use jiff::civil::{Date, DateTime, Time};
use jiff::{Timestamp, Zoned};

use super::duration::parse_duration_str;
use super::{
    HINT_BARE_NUMBER, HINT_CLOCK_RANGE, HINT_MILLIS, HINT_NEGATIVE, HINT_OUT_OF_RANGE,
    MAX_CLOCK_SKEW, TimeSpecError,
};

/// Parses an instant as typed by a user, relative to `now` (whose time zone
/// is used for wall-clock forms).
///
/// Accepted forms:
/// - `now`, and Grafana-style `now-1h`;
/// - `HH:MM` / `HH:MM:SS`: that wall time today in `now`'s zone, or yesterday
///   if today's is more than [`MAX_CLOCK_SKEW`] in the future. Times in a DST
///   gap move forward by the gap (02:30 becomes 03:30), times in a DST fold
///   take the earlier instant (jiff's "compatible" disambiguation);
/// - a duration ago: `30m`, `2h`, `1h30m`, `90s`, `2d`, `1w`, optionally
///   followed by ` ago` (`d` is 24 h and `w` is 7 d of elapsed time);
/// - an RFC 3339 timestamp with `Z` or an offset, and, as a convenience, a
///   date-time without offset (`2026-11-21T14:30`), read in `now`'s zone;
/// - unix seconds with at least 9 integer digits, optionally fractional
///   (`1795238354`, `1795238354.5`).
///
/// Instants in the future are returned as they are; [`resolve_window`]
/// decides what is allowed.
pub fn parse_instant(input: &str, now: &Zoned) -> Result<Timestamp, TimeSpecError> {
    let s = input.trim();
    let invalid = |hint| TimeSpecError::invalid_time(input, hint);
    if s.is_empty() {
        return Err(invalid(None));
    }
    if s.starts_with('-') {
        return Err(invalid(Some(HINT_NEGATIVE)));
    }
    let lower = s.to_ascii_lowercase();
    if lower == "now" {
        return Ok(now.timestamp());
    }
    // Keywords are matched case-insensitively; ASCII lowercasing keeps byte
    // offsets, so `s` can be sliced at positions found in `lower`.
    if lower.starts_with("now-") {
        let d = parse_duration_str(s[4..].trim()).ok_or_else(|| invalid(None))?;
        return ago(now, d).ok_or_else(|| invalid(Some(HINT_OUT_OF_RANGE)));
    }
    if let Some(clock) = parse_clock(s) {
        let time = clock.ok_or_else(|| invalid(Some(HINT_CLOCK_RANGE)))?;
        return wall_time_before(time, now).ok_or_else(|| invalid(None));
    }
    let dur_text = match lower.strip_suffix("ago") {
        Some(rest) if rest.ends_with(char::is_whitespace) => s[..rest.len()].trim_end(),
        Some(_) => return Err(invalid(None)),
        None => s,
    };
    if let Some(d) = parse_duration_str(dur_text) {
        return ago(now, d).ok_or_else(|| invalid(Some(HINT_OUT_OF_RANGE)));
    }
    if dur_text.len() != s.len() {
        // "... ago" with something that is not a duration.
        return Err(invalid(None));
    }
    if let Some(unix) = parse_unix(s) {
        return unix.map_err(|hint| invalid(Some(hint)));
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(dt) = s.parse::<DateTime>() {
        return now
            .time_zone()
            .to_ambiguous_timestamp(dt)
            .compatible()
            .map_err(|_| invalid(Some(HINT_OUT_OF_RANGE)));
    }
    Err(invalid(None))
}

/// `now - d`, or `None` if out of jiff's range.
pub(super) fn ago(now: &Zoned, d: Duration) -> Option<Timestamp> {
    now.timestamp().checked_sub(d).ok()
}

/// Recognises `H:MM`, `HH:MM` and `HH:MM:SS`. Returns `None` if the input
/// does not have that shape, `Some(None)` if it does but is out of range.
pub(super) fn parse_clock(s: &str) -> Option<Option<Time>> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let shape_ok = all_digits(parts[0])
        && parts[0].len() <= 2
        && parts[1..].iter().all(|p| all_digits(p) && p.len() == 2);
    if !shape_ok {
        return None;
    }
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<i8>().ok());
    let (h, m) = (num(0)?, num(1)?);
    let sec = if parts.len() == 3 { num(2)? } else { 0 };
    Some(Time::new(h, m, sec, 0).ok())
}

/// The most recent occurrence (today or yesterday in `now`'s zone) of wall
/// time `time` that is not more than [`MAX_CLOCK_SKEW`] after now.
pub(super) fn wall_time_before(time: Time, now: &Zoned) -> Option<Timestamp> {
    let latest = now.timestamp().checked_add(MAX_CLOCK_SKEW).ok()?;
    let tz = now.time_zone();
    let today: Date = now.date();
    let mut last = None;
    for date in [Some(today), today.yesterday().ok()].into_iter().flatten() {
        let ts = tz
            .to_ambiguous_timestamp(date.to_datetime(time))
            .compatible()
            .ok()?;
        last = Some(ts);
        if ts <= latest {
            return Some(ts);
        }
    }
    // Only reachable for odd zones (e.g. a skipped calendar day); the
    // resolved instant is still the best answer and resolve_window vets it.
    last
}

/// Recognises unix seconds (`\d+(\.\d+)?`). Returns `None` if the input does
/// not have that shape, `Some(Err(hint))` if it does but is not plausible.
pub(super) fn parse_unix(s: &str) -> Option<Result<Timestamp, &'static str>> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !frac.is_none_or(digits) {
        return None;
    }
    if int.len() < 9 {
        return Some(Err(HINT_BARE_NUMBER));
    }
    if int.len() >= 12 {
        return Some(Err(if int.len() == 13 {
            HINT_MILLIS
        } else {
            HINT_OUT_OF_RANGE
        }));
    }
    let Ok(secs) = int.parse::<i64>() else {
        return Some(Err(HINT_OUT_OF_RANGE));
    };
    let nanos = frac.map_or(0, |f| {
        let mut padded: String = f.chars().take(9).collect();
        while padded.len() < 9 {
            padded.push('0');
        }
        padded.parse::<i32>().unwrap_or(0)
    });
    Some(Timestamp::new(secs, nanos).map_err(|_| HINT_OUT_OF_RANGE))
}
