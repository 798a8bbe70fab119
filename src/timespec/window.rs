//! One validated [`Window`] from `--since`, `--until`, `--baseline` and `--step`: clock skew
//! clamped, the baseline before the window, and a step that keeps a range query within
//! Prometheus's point limit ([`choose_step`] picks a nice one).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp, Zoned};

use super::{
    HINT_OUT_OF_RANGE, MAX_CLOCK_SKEW, MAX_POINTS, NICE_STEPS_SECS, TARGET_POINTS, TimeSpecError,
    Window, format_duration, format_local, parse_duration, parse_instant, span,
};

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
pub(super) fn points(window: Duration, step: Duration) -> u128 {
    window.as_nanos() / step.as_nanos().max(1) + 1
}

/// The smallest nice step (1s 2s 5s 10s 15s 30s 1m 2m 5m 10m 15m 30m 1h 2h
/// 3h 6h 12h 1d) that is `>= min_step` and gives at most [`TARGET_POINTS`]
/// points over `window`. Beyond 1d, the smallest whole number of seconds (and
/// at least `min_step`, rounded up to whole seconds) that does.
pub fn choose_step(window: Duration, min_step: Duration) -> Duration {
    step_for(window, min_step, TARGET_POINTS)
}

pub(super) fn step_for(window: Duration, min_step: Duration, max_points: u64) -> Duration {
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
