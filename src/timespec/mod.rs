//! Time specifications: parsing what users type for `--since`, `--until`,
//! `--baseline`, `--step` and duration settings, resolving them into one
//! validated [`Window`], choosing a query step, and formatting instants for
//! the text report.
//!
//! This module owns the accepted time and duration syntaxes and their error
//! messages. It takes "now" as an argument and never reads the clock, the
//! process environment or the network, and knows nothing of clap: the CLI
//! layer passes plain strings in and prints [`TimeSpecError`] (exit code 2).
//!
//! Here: the error type, [`Window`] and [`format_local`]; `instant` parses instants,
//! `duration` parses and formats durations, `window` resolves a window and chooses its step.

mod duration;
mod instant;
#[cfg(test)]
mod tests;
mod window;

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

pub use duration::{format_duration, parse_duration, serialize_duration};
pub use instant::parse_instant;
pub use window::{choose_step, resolve_window};

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

/// Non-negative length from `a` to `b` (zero if `b <= a`).
fn span(a: Timestamp, b: Timestamp) -> Duration {
    Duration::try_from(b.duration_since(a)).unwrap_or(Duration::ZERO)
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
