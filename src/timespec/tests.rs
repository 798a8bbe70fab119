//! Time specifications as users type them, against a fixed "now" and zone.

use jiff::Zoned;

use super::window::points;
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

    let err = resolve_window("2026-11-22T00:00:00Z", None, None, None, secs(15), &n).unwrap_err();
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
    let err = resolve_window("1h", None, Some("7d"), Some("30s"), secs(15), &now()).unwrap_err();
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
