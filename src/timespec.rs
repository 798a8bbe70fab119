//! Time specifications: parsing what users type for `--since`, `--until`,
//! `--baseline`, `--step` and duration settings, resolving them into one
//! validated [`Window`], choosing a query step, and formatting instants for
//! the text report.
//!
//! This module owns the accepted time and duration syntaxes and their error
//! messages. It takes "now" as an argument and never reads the clock, the
//! process environment or the network, and knows nothing of clap: the CLI
//! layer passes plain strings in and prints [`TimeSpecError`] (exit code 2).

use std::time::Duration;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

/// Prometheus refuses range queries with more points than this per series.
pub const MAX_POINTS: u64 = 11_000;

/// [`choose_step`] picks the smallest nice step giving at most this many points.
pub const TARGET_POINTS: u64 = 400;

/// How far in the future a wall-clock time or `--until` may be before it is
/// treated as an error rather than clock skew (and clamped to now).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(60);

/// The "nice" steps, in seconds, that [`choose_step`] picks from.
const NICE_STEPS_SECS: [u64; 18] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
];

const ACCEPTED_TIMES: &str = "HH:MM or HH:MM:SS (local time today), a duration ago such as 30m, \
     2h or 1h30m, an RFC 3339 timestamp such as 2026-11-21T14:30:00Z, or unix seconds";

const ACCEPTED_DURATIONS: &str = "a duration such as 500ms, 15s, 1m, 1h30m or 2d \
     (units ms, s, m, h, d, w, largest first)";

const HINT_NEGATIVE: &str = "times count back from now, so write 30m rather than -30m";
const HINT_CLOCK_RANGE: &str = "hours must be 00-23, minutes and seconds 00-59";
const HINT_BARE_NUMBER: &str =
    "unix seconds have at least 9 digits; for a duration add a unit, such as 90s or 90m";
const HINT_MILLIS: &str = "this looks like unix milliseconds; divide by 1000";
const HINT_OUT_OF_RANGE: &str = "it is too far from now to be represented";

/// Everything that can go wrong turning user input into times, durations or
/// a [`Window`]. Every message quotes the offending value and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeSpecError {
    /// The input is not any accepted form of instant.
    #[error("invalid time {input:?}: expected {ACCEPTED_TIMES}{}", hint_suffix(.hint))]
    InvalidTime {
        input: String,
        hint: Option<&'static str>,
    },
    /// The input is not an accepted duration.
    #[error("invalid duration {input:?}: expected {ACCEPTED_DURATIONS}")]
    InvalidDuration { input: String },
    /// `--since` resolved to an instant after now.
    #[error(
        "--since {since:?} ({since_at}) is in the future (now is {now_at}): \
         give a start time in the past, such as 30m or 14:30"
    )]
    SinceInFuture {
        since: String,
        since_at: String,
        now_at: String,
    },
    /// `--until` is more than [`MAX_CLOCK_SKEW`] after now.
    #[error(
        "--until {until:?} ({until_at}) is in the future (now is {now_at}): \
         give an end time in the past, or omit --until to mean now"
    )]
    UntilInFuture {
        until: String,
        until_at: String,
        now_at: String,
    },
    /// `--until` is at or before `--since`.
    #[error(
        "--until {until:?} ({until_at}) is not after --since {since:?} ({since_at}): \
         give an --until later than --since, or omit --until to mean now"
    )]
    UntilNotAfterSince {
        until: String,
        until_at: String,
        since: String,
        since_at: String,
    },
    /// `--baseline` is at or after `--since`.
    #[error(
        "--baseline {baseline:?} ({baseline_at}) is not before --since {since:?} ({since_at}): \
         the baseline window runs from --baseline to --since, so give an earlier time, \
         or omit --baseline to use the same length right before --since"
    )]
    BaselineNotBeforeSince {
        baseline: String,
        baseline_at: String,
        since: String,
        since_at: String,
    },
    /// An explicit `--step` of zero.
    #[error(
        "--step {step:?} must be greater than zero: give a step such as 15s or 1m, or omit --step"
    )]
    StepNotPositive { step: String },
    /// An explicit `--step` would exceed Prometheus's points-per-series limit.
    #[error(
        "--step {step:?} gives {points} points over the {range} window, more than \
         Prometheus's limit of {MAX_POINTS} points per series: use --step {suggested} \
         or larger, or omit --step to choose one automatically"
    )]
    TooManyPoints {
        step: String,
        points: u128,
        range: String,
        suggested: String,
    },
}

fn hint_suffix(hint: &Option<&'static str>) -> String {
    match hint {
        Some(h) => format!("; {h}"),
        None => String::new(),
    }
}

impl TimeSpecError {
    fn invalid_time(input: &str, hint: Option<&'static str>) -> Self {
        TimeSpecError::InvalidTime {
            input: input.to_owned(),
            hint,
        }
    }
}

/// The resolved time range of an investigation.
///
/// Invariants (checked by [`resolve_window`]): `baseline_since < since < until
/// <= now` and `step > 0`. The baseline window is `[baseline_since, since)`.
/// Serializes timestamps as RFC 3339 and `step` as a duration string ("15s").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub since: Timestamp,
    pub until: Timestamp,
    pub baseline_since: Timestamp,
    #[serde(serialize_with = "serialize_duration")]
    pub step: Duration,
}

impl Window {
    /// Length of the investigated window, `until - since`.
    pub fn duration(&self) -> Duration {
        span(self.since, self.until)
    }

    /// Length of the baseline window, `since - baseline_since`.
    pub fn baseline_duration(&self) -> Duration {
        span(self.baseline_since, self.since)
    }
}

/// Serde helper: a std [`Duration`] as a compact string like `1h30m`.
pub fn serialize_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

/// Non-negative length from `a` to `b` (zero if `b <= a`).
fn span(a: Timestamp, b: Timestamp) -> Duration {
    Duration::try_from(b.duration_since(a)).unwrap_or(Duration::ZERO)
}

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
fn ago(now: &Zoned, d: Duration) -> Option<Timestamp> {
    now.timestamp().checked_sub(d).ok()
}

/// Recognises `H:MM`, `HH:MM` and `HH:MM:SS`. Returns `None` if the input
/// does not have that shape, `Some(None)` if it does but is out of range.
fn parse_clock(s: &str) -> Option<Option<Time>> {
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
fn wall_time_before(time: Time, now: &Zoned) -> Option<Timestamp> {
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
fn parse_unix(s: &str) -> Option<Result<Timestamp, &'static str>> {
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

/// Parses a duration: one or more `<integer><unit>` parts, units `w`, `d`,
/// `h`, `m`, `s`, `ms`, largest first, each unit at most once (`15s`, `1m`,
/// `1h30m`, `500ms`). `d` is 24 h and `w` is 7 d. Zero (`0s`) is accepted;
/// callers that need a positive duration check that themselves.
pub fn parse_duration(input: &str) -> Result<Duration, TimeSpecError> {
    parse_duration_str(input.trim()).ok_or_else(|| TimeSpecError::InvalidDuration {
        input: input.to_owned(),
    })
}

fn parse_duration_str(s: &str) -> Option<Duration> {
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

/// Resolves the CLI's time flags into a validated [`Window`].
///
/// - `since` is parsed with [`parse_instant`] and must not be in the future;
/// - `until` defaults to now; if it is in the future by at most
///   [`MAX_CLOCK_SKEW`] it is clamped to now, beyond that it is an error;
///   it must be after `since`;
/// - the baseline window ends at `since`; it starts at `baseline` if given
///   (parsed like `since`, must be before `since`), otherwise it has the
///   same length as the main window;
/// - `step`, if given, wins (it must be > 0 and give at most [`MAX_POINTS`]
///   points over both windows); otherwise [`choose_step`] picks one for the
///   main window, raised if needed so a long explicit baseline stays within
///   [`MAX_POINTS`].
pub fn resolve_window(
    since: &str,
    until: Option<&str>,
    baseline: Option<&str>,
    step: Option<&str>,
    min_step: Duration,
    now: &Zoned,
) -> Result<Window, TimeSpecError> {
    let tz = now.time_zone();
    let now_ts = now.timestamp();
    let at = |ts: Timestamp| format_local(ts, tz);

    let since_ts = parse_instant(since, now)?;
    if since_ts > now_ts {
        return Err(TimeSpecError::SinceInFuture {
            since: since.to_owned(),
            since_at: at(since_ts),
            now_at: at(now_ts),
        });
    }

    let until_text = until.unwrap_or("now");
    let mut until_ts = match until {
        Some(u) => parse_instant(u, now)?,
        None => now_ts,
    };
    if until_ts > now_ts {
        if span(now_ts, until_ts) > MAX_CLOCK_SKEW {
            return Err(TimeSpecError::UntilInFuture {
                until: until_text.to_owned(),
                until_at: at(until_ts),
                now_at: at(now_ts),
            });
        }
        until_ts = now_ts;
    }
    if until_ts <= since_ts {
        return Err(TimeSpecError::UntilNotAfterSince {
            until: until_text.to_owned(),
            until_at: at(until_ts),
            since: since.to_owned(),
            since_at: at(since_ts),
        });
    }
    let window = span(since_ts, until_ts);

    let baseline_since = match baseline {
        Some(b) => {
            let ts = parse_instant(b, now)?;
            if ts >= since_ts {
                return Err(TimeSpecError::BaselineNotBeforeSince {
                    baseline: b.to_owned(),
                    baseline_at: at(ts),
                    since: since.to_owned(),
                    since_at: at(since_ts),
                });
            }
            ts
        }
        None => since_ts
            .checked_sub(SignedDuration::try_from(window).unwrap_or(SignedDuration::MAX))
            .map_err(|_| TimeSpecError::invalid_time(since, Some(HINT_OUT_OF_RANGE)))?,
    };
    let baseline_len = span(baseline_since, since_ts);
    let longest = window.max(baseline_len);

    let step = match step {
        Some(text) => {
            let d = parse_duration(text)?;
            if d.is_zero() {
                return Err(TimeSpecError::StepNotPositive {
                    step: text.to_owned(),
                });
            }
            let n = points(longest, d);
            if n > u128::from(MAX_POINTS) {
                return Err(TimeSpecError::TooManyPoints {
                    step: text.to_owned(),
                    points: n,
                    range: if baseline_len > window {
                        format!("{} baseline", format_duration(baseline_len))
                    } else {
                        format_duration(window)
                    },
                    suggested: format_duration(step_for(longest, Duration::ZERO, MAX_POINTS)),
                });
            }
            d
        }
        None => choose_step(window, min_step).max(step_for(baseline_len, min_step, MAX_POINTS)),
    };

    Ok(Window {
        since: since_ts,
        until: until_ts,
        baseline_since,
        step,
    })
}

/// Number of points a range query over `window` at `step` returns
/// (`floor(window / step) + 1`, as Prometheus counts). `step` must be > 0.
fn points(window: Duration, step: Duration) -> u128 {
    window.as_nanos() / step.as_nanos().max(1) + 1
}

/// The smallest nice step (1s 2s 5s 10s 15s 30s 1m 2m 5m 10m 15m 30m 1h 2h
/// 3h 6h 12h 1d) that is `>= min_step` and gives at most [`TARGET_POINTS`]
/// points over `window`. Beyond 1d, the smallest whole number of seconds (and
/// at least `min_step`, rounded up to whole seconds) that does.
pub fn choose_step(window: Duration, min_step: Duration) -> Duration {
    step_for(window, min_step, TARGET_POINTS)
}

fn step_for(window: Duration, min_step: Duration, max_points: u64) -> Duration {
    let max_points = u128::from(max_points.max(1));
    for secs in NICE_STEPS_SECS {
        let d = Duration::from_secs(secs);
        if d >= min_step && points(window, d) <= max_points {
            return d;
        }
    }
    // points <= max  <=>  window / step < max  <=>  step > window / max.
    let needed = window.as_nanos() / (max_points * 1_000_000_000) + 1;
    let min_secs = min_step.as_nanos().div_ceil(1_000_000_000);
    let secs = u64::try_from(needed.max(min_secs)).unwrap_or(u64::MAX);
    Duration::from_secs(secs)
}

/// Formats an instant for people: `2026-11-21 14:30:05 CET` in `zone`,
/// falling back to the numeric offset (`+01:00`) when the zone has no
/// alphabetic abbreviation for that instant.
pub fn format_local(ts: Timestamp, zone: &TimeZone) -> String {
    let info = zone.to_offset_info(ts);
    let offset = info.offset();
    let civil = offset.to_datetime(ts);
    let abbr = info.abbreviation();
    let suffix = if !abbr.is_empty() && abbr.chars().all(|c| c.is_ascii_alphabetic()) {
        abbr.to_owned()
    } else {
        let secs = offset.seconds();
        let sign = if secs < 0 { '-' } else { '+' };
        let a = secs.unsigned_abs();
        let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
        if s == 0 {
            format!("{sign}{h:02}:{m:02}")
        } else {
            format!("{sign}{h:02}:{m:02}:{s:02}")
        }
    };
    format!("{} {suffix}", civil.strftime("%Y-%m-%d %H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Europe/Berlin from the system tzdb, or the same rules as a POSIX TZ
    /// string when no tzdb is available.
    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin")
            .or_else(|_| TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3"))
            .unwrap()
    }

    fn at(rfc3339: &str) -> Zoned {
        rfc3339.parse::<Timestamp>().unwrap().to_zoned(berlin())
    }

    fn ts(rfc3339: &str) -> Timestamp {
        rfc3339.parse().unwrap()
    }

    /// 2026-11-21 14:45:00 CET.
    fn now() -> Zoned {
        at("2026-11-21T14:45:00+01:00")
    }

    #[test]
    fn accepted_instants() {
        let cases = [
            ("14:30", "2026-11-21T13:30:00Z"),
            (" 14:30 ", "2026-11-21T13:30:00Z"),
            ("9:05", "2026-11-21T08:05:00Z"),
            ("14:30:05", "2026-11-21T13:30:05Z"),
            ("00:00", "2026-11-20T23:00:00Z"),
            ("14:45", "2026-11-21T13:45:00Z"),
            // Within the clock-skew tolerance: still today.
            ("14:46", "2026-11-21T13:46:00Z"),
            // Future today: yesterday.
            ("14:47", "2026-11-20T13:47:00Z"),
            ("23:59:59", "2026-11-20T22:59:59Z"),
            ("now", "2026-11-21T13:45:00Z"),
            ("NOW", "2026-11-21T13:45:00Z"),
            ("now-1h", "2026-11-21T12:45:00Z"),
            ("Now-90s", "2026-11-21T13:43:30Z"),
            ("30m", "2026-11-21T13:15:00Z"),
            ("2h", "2026-11-21T11:45:00Z"),
            ("1h30m", "2026-11-21T12:15:00Z"),
            ("90s", "2026-11-21T13:43:30Z"),
            ("2d", "2026-11-19T13:45:00Z"),
            ("1w", "2026-11-14T13:45:00Z"),
            ("500ms", "2026-11-21T13:44:59.5Z"),
            ("30m ago", "2026-11-21T13:15:00Z"),
            ("1h30m  AGO", "2026-11-21T12:15:00Z"),
            ("0s", "2026-11-21T13:45:00Z"),
            ("2026-11-21T14:30:00Z", "2026-11-21T14:30:00Z"),
            ("2026-11-21T14:30:00+01:00", "2026-11-21T13:30:00Z"),
            ("2026-11-21T14:30:00.25-05:30", "2026-11-21T20:00:00.25Z"),
            ("2026-11-21 14:30:00Z", "2026-11-21T14:30:00Z"),
            ("2026-11-21T14:30", "2026-11-21T13:30:00Z"),
            ("1795238354", "2026-11-21T05:19:14Z"),
            ("1795238354.5", "2026-11-21T05:19:14.5Z"),
            ("1795238354.123456789123", "2026-11-21T05:19:14.123456789Z"),
        ];
        for (input, want) in cases {
            let got = parse_instant(input, &now());
            assert_eq!(got, Ok(ts(want)), "input {input:?}");
        }
    }

    #[test]
    fn rejected_instants() {
        let cases = [
            ("", None),
            ("   ", None),
            ("14:61", Some(HINT_CLOCK_RANGE)),
            ("24:00", Some(HINT_CLOCK_RANGE)),
            ("14:30:60", Some(HINT_CLOCK_RANGE)),
            ("14:3", None),
            ("14:30:5", None),
            ("-30m", Some(HINT_NEGATIVE)),
            ("-1795238354", Some(HINT_NEGATIVE)),
            ("30", Some(HINT_BARE_NUMBER)),
            ("1795238354000", Some(HINT_MILLIS)),
            ("99999999999999999999", Some(HINT_OUT_OF_RANGE)),
            ("30x", None),
            ("30M", None),
            ("NOW-1H", None),
            ("1.5h", None),
            ("30m1h", None),
            ("1h1h", None),
            ("h", None),
            ("ago", None),
            ("30m ago ago", None),
            ("30mago", None),
            ("yesterday", None),
            ("now+1h", None),
            ("now-", None),
            ("2026-13-01T00:00:00Z", None),
            ("1000000w", Some(HINT_OUT_OF_RANGE)),
            ("1795238354.", None),
        ];
        for (input, hint) in cases {
            let err = parse_instant(input, &now()).unwrap_err();
            assert_eq!(
                err,
                TimeSpecError::InvalidTime {
                    input: input.to_owned(),
                    hint
                },
                "input {input:?}"
            );
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("invalid time {input:?}: expected HH:MM")),
                "{msg}"
            );
            for form in ["HH:MM:SS", "30m", "RFC 3339", "unix seconds"] {
                assert!(msg.contains(form), "{msg} lacks {form}");
            }
        }
    }

    #[test]
    fn invalid_time_message_is_exact() {
        let err = parse_instant("14:62x", &now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid time \"14:62x\": expected HH:MM or HH:MM:SS (local time today), \
             a duration ago such as 30m, 2h or 1h30m, an RFC 3339 timestamp such as \
             2026-11-21T14:30:00Z, or unix seconds"
        );
        let err = parse_instant("14:61", &now()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("or unix seconds; hours must be 00-23, minutes and seconds 00-59"),
            "{err}"
        );
    }

    #[test]
    fn yesterday_rule_just_after_midnight() {
        let now = at("2026-11-21T00:10:00+01:00");
        assert_eq!(parse_instant("23:30", &now), Ok(ts("2026-11-20T22:30:00Z")));
        assert_eq!(parse_instant("00:05", &now), Ok(ts("2026-11-20T23:05:00Z")));
    }

    #[test]
    fn dst_gap_moves_forward() {
        // 2026-03-29: Berlin skips from 02:00 CET to 03:00 CEST.
        let now = at("2026-03-29T10:00:00+02:00");
        // 02:30 does not exist; it becomes 03:30 CEST.
        assert_eq!(parse_instant("02:30", &now), Ok(ts("2026-03-29T01:30:00Z")));
        assert_eq!(parse_instant("01:30", &now), Ok(ts("2026-03-29T00:30:00Z")));
        // At 03:10 CEST, today's (shifted) 02:30 is in the future: yesterday.
        let now = at("2026-03-29T03:10:00+02:00");
        assert_eq!(parse_instant("02:30", &now), Ok(ts("2026-03-28T01:30:00Z")));
    }

    #[test]
    fn posix_fallback_zone_behaves_like_tzdb() {
        let tz = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        let now = ts("2026-03-29T08:00:00Z").to_zoned(tz.clone());
        assert_eq!(parse_instant("02:30", &now), Ok(ts("2026-03-29T01:30:00Z")));
        assert_eq!(
            format_local(ts("2026-07-01T12:00:00Z"), &tz),
            "2026-07-01 14:00:00 CEST"
        );
        assert_eq!(
            format_local(ts("2026-11-21T13:30:05Z"), &tz),
            "2026-11-21 14:30:05 CET"
        );
    }

    #[test]
    fn dst_fold_takes_earlier() {
        // 2026-10-25: Berlin goes from 03:00 CEST back to 02:00 CET.
        let now = at("2026-10-25T10:00:00+01:00");
        assert_eq!(parse_instant("02:30", &now), Ok(ts("2026-10-25T00:30:00Z")));
        // Durations are elapsed time, not wall time: 10:00 CET - 9h is
        // 02:00 CEST (the first 02:00).
        assert_eq!(parse_instant("9h", &now), Ok(ts("2026-10-25T00:00:00Z")));
    }

    #[test]
    fn durations() {
        let ok = [
            ("15s", Duration::from_secs(15)),
            ("1m", Duration::from_secs(60)),
            ("1h30m", Duration::from_secs(5400)),
            ("500ms", Duration::from_millis(500)),
            ("1s500ms", Duration::from_millis(1500)),
            ("2d", Duration::from_secs(172_800)),
            ("1w2d3h4m5s6ms", Duration::from_millis(788_645_006)),
            (" 30s ", Duration::from_secs(30)),
            ("0s", Duration::ZERO),
        ];
        for (input, want) in ok {
            assert_eq!(parse_duration(input), Ok(want), "input {input:?}");
        }
        for input in [
            "",
            "abc",
            "15",
            "-15s",
            "1.5s",
            "1m1h",
            "1s1s",
            "15 s",
            "15S",
            "ago",
            "1y",
            "99999999999999999999999w",
        ] {
            let err = parse_duration(input).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("invalid duration {input:?}: expected")),
                "{msg}"
            );
            assert!(msg.contains("1h30m") && msg.contains("500ms"), "{msg}");
        }
    }

    #[test]
    fn format_duration_round_trips() {
        for s in [
            "0s",
            "500ms",
            "15s",
            "1m",
            "1h30m",
            "1d",
            "2d3h",
            "1m1s500ms",
        ] {
            let d = parse_duration(s).unwrap();
            assert_eq!(format_duration(d), s);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
        assert_eq!(format_duration(Duration::from_secs(7 * 86_400)), "7d");
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn choose_step_targets_200_to_400_points() {
        let cases = [
            (600, 2),
            (3600, 10),
            (7200, 30),
            (6 * 3600, 60),
            (24 * 3600, 300),
            (7 * 86_400, 1800),
        ];
        for (window, want) in cases {
            let step = choose_step(secs(window), secs(1));
            assert_eq!(step, secs(want), "window {window}s");
            let n = points(secs(window), step);
            assert!((200..=400).contains(&n), "window {window}s: {n} points");
        }
    }

    #[test]
    fn choose_step_respects_min_step() {
        // A 15s scrape interval: a 10m window gets 41 points, not 301.
        assert_eq!(choose_step(secs(600), secs(15)), secs(15));
        assert_eq!(choose_step(secs(3600), secs(15)), secs(15));
        assert_eq!(choose_step(secs(7200), secs(15)), secs(30));
        // A min step that is not nice rounds up to the next nice one.
        assert_eq!(choose_step(secs(600), secs(20)), secs(30));
        assert_eq!(choose_step(secs(600), Duration::ZERO), secs(2));
        assert_eq!(choose_step(Duration::ZERO, Duration::ZERO), secs(1));
    }

    #[test]
    fn choose_step_beyond_one_day() {
        // 400 days at 1d would be 401 points.
        let window = secs(400 * 86_400);
        let step = choose_step(window, secs(15));
        assert_eq!(step, secs(86_401));
        assert!(points(window, step) <= 400);
        let window = secs(1000 * 86_400 + 7);
        let step = choose_step(window, secs(15));
        assert!(points(window, step) <= 400);
        assert!(points(window, step - secs(1)) > 400);
        // min_step above 1d is honoured, rounded up to whole seconds.
        assert_eq!(
            choose_step(secs(600), Duration::from_millis(2 * 86_400_000 + 1)),
            secs(2 * 86_400 + 1)
        );
    }

    #[test]
    fn window_defaults() {
        let w = resolve_window("14:30", None, None, None, secs(15), &now()).unwrap();
        assert_eq!(w.since, ts("2026-11-21T13:30:00Z"));
        assert_eq!(w.until, ts("2026-11-21T13:45:00Z"));
        assert_eq!(w.baseline_since, ts("2026-11-21T13:15:00Z"));
        assert_eq!(w.step, secs(15));
        assert_eq!(w.duration(), secs(900));
        assert_eq!(w.baseline_duration(), secs(900));

        let w = resolve_window("6h", Some("1h"), None, None, secs(15), &now()).unwrap();
        assert_eq!(w.duration(), secs(5 * 3600));
        assert_eq!(w.baseline_since, ts("2026-11-21T02:45:00Z"));
        assert_eq!(w.step, secs(60));
    }

    #[test]
    fn window_explicit_baseline_and_step() {
        let w = resolve_window("1h", None, Some("1d"), Some("30s"), secs(15), &now()).unwrap();
        assert_eq!(w.baseline_since, ts("2026-11-20T13:45:00Z"));
        assert_eq!(w.baseline_duration(), secs(23 * 3600));
        assert_eq!(w.step, secs(30));
        // An explicit step below min_step wins.
        let w = resolve_window("10m", None, None, Some("1s"), secs(15), &now()).unwrap();
        assert_eq!(w.step, secs(1));
        // Auto step is raised so a long baseline stays under 11000 points.
        let w = resolve_window("10m", None, Some("30d"), None, secs(1), &now()).unwrap();
        assert_eq!(w.step, secs(300));
        assert!(points(w.baseline_duration(), w.step) <= u128::from(MAX_POINTS));
    }

    #[test]
    fn window_until_clock_skew() {
        // 30s in the future: clamped to now.
        let w = resolve_window(
            "1h",
            Some("2026-11-21T13:45:30Z"),
            None,
            None,
            secs(15),
            &now(),
        )
        .unwrap();
        assert_eq!(w.until, now().timestamp());
        // 2 minutes in the future: error.
        let err = resolve_window(
            "1h",
            Some("2026-11-21T13:47:00Z"),
            None,
            None,
            secs(15),
            &now(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--until \"2026-11-21T13:47:00Z\" (2026-11-21 14:47:00 CET) is in the future \
             (now is 2026-11-21 14:45:00 CET): give an end time in the past, or omit --until \
             to mean now"
        );
    }

    #[test]
    fn window_errors() {
        let n = now();
        let err = resolve_window("14:30", Some("14:00"), None, None, secs(15), &n).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--until \"14:00\" (2026-11-21 14:00:00 CET) is not after --since \"14:30\" \
             (2026-11-21 14:30:00 CET): give an --until later than --since, or omit --until \
             to mean now"
        );
        let err = resolve_window("now", None, None, None, secs(15), &n).unwrap_err();
        assert!(
            matches!(err, TimeSpecError::UntilNotAfterSince { .. }),
            "{err}"
        );
        assert!(err.to_string().starts_with("--until \"now\" ("), "{err}");

        let err =
            resolve_window("2026-11-22T00:00:00Z", None, None, None, secs(15), &n).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--since \"2026-11-22T00:00:00Z\" (2026-11-22 01:00:00 CET) is in the future \
             (now is 2026-11-21 14:45:00 CET): give a start time in the past, such as 30m or 14:30"
        );

        let err = resolve_window("1h", None, Some("30m"), None, secs(15), &n).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "--baseline \"30m\" (2026-11-21 14:15:00 CET) is not before --since \"1h\" \
                 (2026-11-21 13:45:00 CET)"
            ),
            "{msg}"
        );
        let err = resolve_window("1h", None, Some("1h"), None, secs(15), &n).unwrap_err();
        assert!(matches!(err, TimeSpecError::BaselineNotBeforeSince { .. }));

        let err = resolve_window("1h", None, None, Some("0s"), secs(15), &n).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--step \"0s\" must be greater than zero: give a step such as 15s or 1m, or omit --step"
        );
        let err = resolve_window("1h", None, None, Some("fast"), secs(15), &n).unwrap_err();
        assert!(err.to_string().starts_with("invalid duration \"fast\""));
        let err = resolve_window("14:61", None, None, None, secs(15), &n).unwrap_err();
        assert!(err.to_string().starts_with("invalid time \"14:61\""));
        let err = resolve_window("1h", Some("x"), None, None, secs(15), &n).unwrap_err();
        assert!(err.to_string().starts_with("invalid time \"x\""));
    }

    #[test]
    fn explicit_step_too_many_points() {
        let err = resolve_window("1d", None, None, Some("1s"), secs(15), &now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--step \"1s\" gives 86401 points over the 1d window, more than Prometheus's \
             limit of 11000 points per series: use --step 10s or larger, or omit --step to \
             choose one automatically"
        );
        // A long explicit baseline counts too.
        let err =
            resolve_window("1h", None, Some("7d"), Some("30s"), secs(15), &now()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("over the 6d23h baseline window"), "{msg}");
        assert!(msg.contains("use --step 1m or larger"), "{msg}");
        // Exactly at the limit is fine: 10999 * 1s + 1 = 11000 points.
        assert!(resolve_window("10999s", None, None, Some("1s"), secs(15), &now()).is_ok());
        assert!(resolve_window("11000s", None, None, Some("1s"), secs(15), &now()).is_err());
    }

    #[test]
    fn window_serializes_readably() {
        let w = resolve_window("14:30", None, None, None, secs(15), &now()).unwrap();
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(
            json,
            r#"{"since":"2026-11-21T13:30:00Z","until":"2026-11-21T13:45:00Z","baseline_since":"2026-11-21T13:15:00Z","step":"15s"}"#
        );
    }

    #[test]
    fn format_local_uses_abbreviation_or_offset() {
        let z = berlin();
        assert_eq!(
            format_local(ts("2026-11-21T13:30:05Z"), &z),
            "2026-11-21 14:30:05 CET"
        );
        assert_eq!(
            format_local(ts("2026-07-01T12:00:00Z"), &z),
            "2026-07-01 14:00:00 CEST"
        );
        assert_eq!(
            format_local(ts("2026-11-21T13:30:05.9Z"), &TimeZone::UTC),
            "2026-11-21 13:30:05 UTC"
        );
        let fixed = TimeZone::fixed(jiff::tz::offset(1));
        assert_eq!(
            format_local(ts("2026-11-21T13:30:05Z"), &fixed),
            "2026-11-21 14:30:05 +01:00"
        );
        let india = TimeZone::fixed(jiff::tz::Offset::from_seconds(-(5 * 3600 + 30 * 60)).unwrap());
        assert_eq!(
            format_local(ts("2026-11-21T13:30:05Z"), &india),
            "2026-11-21 08:00:05 -05:30"
        );
        // POSIX zones with numeric abbreviations ("<+03>") fall back too.
        let numeric = TimeZone::posix("<+03>-3").unwrap();
        assert_eq!(
            format_local(ts("2026-11-21T13:30:05Z"), &numeric),
            "2026-11-21 16:30:05 +03:00"
        );
    }
}
