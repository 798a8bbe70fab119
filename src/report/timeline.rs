//! The incident timeline as the report carries it (`timeline[]`) and its block in the text
//! report. Built by `investigate::timeline`; this module only holds and renders it.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// One event: when, what kind, a sentence, and where in the report the evidence is (a JSON
/// path such as `correlations[0]` or `log_patterns[2]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: String,
    pub at_unix: f64,
    /// `baseline`, `leading_change`, `onset`, `first_new_log_pattern`, `first_failing_trace`,
    /// `peak`, `recovery`, `deploy_marker`.
    pub kind: String,
    pub text: String,
    pub evidence: String,
}

/// The text report's timeline block: local time, then the sentence.
pub fn render_block(
    out: &mut String,
    timeline: &[TimelineEntry],
    color: bool,
    tz: &jiff::tz::TimeZone,
) {
    if timeline.is_empty() {
        return;
    }
    let bold = console::Style::new().bold().force_styling(color);
    let dim = console::Style::new().dim().force_styling(color);
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", bold.apply_to("Timeline"));
    for e in timeline {
        let time = jiff::Timestamp::from_nanosecond((e.at_unix * 1e9) as i128)
            .map(|ts| ts.to_zoned(tz.clone()).strftime("%H:%M:%S").to_string())
            .unwrap_or_else(|_| e.at.clone());
        let _ = writeln!(
            out,
            "  {time}  {}  {}",
            e.text,
            dim.apply_to(format!("[{}]", e.evidence))
        );
    }
}
