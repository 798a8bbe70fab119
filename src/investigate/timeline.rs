//! The incident timeline: baseline → first change of the leading candidates → symptom onset →
//! first new log pattern → first failing trace → peak → recovery, in time order, each event
//! pointing at its evidence in the report.
//!
//! Pure: reads a finished `Report` (after the log-pattern step) and returns the events; it does
//! no I/O. Events outside the investigated range (baseline start to window end) are left out:
//! they would come from a backend whose clock or data does not match the window.

use crate::report::timeline::TimelineEntry;
use crate::report::{ExemplarKind, Instant, Report};

/// Leading candidates put on the timeline.
const LEADING: usize = 3;

pub fn build(report: &Report) -> Vec<TimelineEntry> {
    let w = &report.window;
    let s = &report.symptom;
    let mut events: Vec<(f64, u8, String, String, String)> = Vec::new();
    let value = |v: Option<f64>| v.map_or("-".to_string(), crate::investigate::fmt_value);
    events.push((
        w.baseline_since_unix,
        0,
        "baseline".into(),
        format!("baseline window starts (symptom at {})", value(s.baseline)),
        "window.baseline_since".into(),
    ));
    if let Some(onset) = s.onset_unix {
        for (i, c) in report
            .correlations
            .iter()
            .enumerate()
            .filter(|(_, c)| c.significant && c.lag_seconds > 0.0)
            .take(LEADING)
        {
            events.push((
                onset - c.lag_seconds,
                1,
                "leading_change".into(),
                format!(
                    "{} moved, {} before the onset (r = {:+.2}, q = {:.2e})",
                    series(&c.metric, &c.labels),
                    human(c.lag_seconds),
                    c.r,
                    c.q_value
                ),
                format!("correlations[{i}]"),
            ));
        }
        events.push((
            onset,
            2,
            "onset".into(),
            format!("symptom onset: above {}", value(s.threshold)),
            "symptom.onset".into(),
        ));
    }
    if let Some((i, p, at)) = report
        .log_patterns
        .iter()
        .enumerate()
        .filter(|(_, p)| p.change == "new")
        .filter_map(|(i, p)| p.first_seen_unix.map(|at| (i, p, at)))
        .min_by(|a, b| a.2.total_cmp(&b.2))
    {
        events.push((
            at,
            3,
            "first_new_log_pattern".into(),
            format!(
                "first new log pattern ({}): {}",
                p.services.join(", "),
                p.template
            ),
            format!("log_patterns[{i}]"),
        ));
    }
    if let Some((i, t)) = report
        .traces
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == ExemplarKind::Error)
        .min_by_key(|(_, t)| t.summary.start_unix_nano)
    {
        events.push((
            t.summary.start_unix_nano as f64 / 1e9,
            4,
            "first_failing_trace".into(),
            format!(
                "first failing trace followed: {} ({:.0} ms)",
                t.summary.trace_id, t.summary.duration_ms
            ),
            format!("traces[{i}]"),
        ));
    }
    if let Some(peak) = s.peak_unix {
        events.push((
            peak,
            5,
            "peak".into(),
            format!("symptom peak: {}", value(s.peak)),
            "symptom.peak".into(),
        ));
    }
    if let Some(end) = s.end_unix {
        events.push((
            end,
            6,
            "recovery".into(),
            "symptom back under its threshold".into(),
            "symptom.end".into(),
        ));
    }
    events.retain(|e| e.0 >= w.baseline_since_unix && e.0 <= w.until_unix);
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    events
        .into_iter()
        .map(|(at, _, kind, text, evidence)| TimelineEntry {
            at: Instant::from_unix(at).rfc3339.to_string(),
            at_unix: at,
            kind,
            text,
            evidence,
        })
        .collect()
}

/// `metric{labels}`, as the candidate table names it.
pub(super) fn series(metric: &str, labels: &crate::model::Labels) -> String {
    let mut named = labels.clone();
    named.insert("__name__".into(), metric.into());
    crate::model::display_labels(&named)
}

fn human(seconds: f64) -> String {
    let s = seconds.round() as i64;
    match s {
        s if s % 60 == 0 && s >= 60 => format!("{}m", s / 60),
        s if s >= 60 => format!("{}m{}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}
