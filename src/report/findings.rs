//! The report's findings (`findings[]`): ranked hypotheses, each a sentence and the places in
//! the report that back it. Built by `investigate::findings`; this module holds and renders them.

use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// 1 = the strongest.
    pub rank: usize,
    pub text: String,
    /// JSON paths into this report: `correlations[0]`, `traces[1]`, `log_patterns[0]`,
    /// `timeline[2]`, `symptom`.
    pub evidence: Vec<String>,
}

/// The text report's closing block.
pub fn render_block(out: &mut String, findings: &[Finding], color: bool) {
    if findings.is_empty() {
        return;
    }
    let bold = console::Style::new().bold().force_styling(color);
    let dim = console::Style::new().dim().force_styling(color);
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", bold.apply_to("Findings"));
    for f in findings {
        let _ = writeln!(
            out,
            "  {}. {}  {}",
            f.rank,
            f.text,
            dim.apply_to(format!("[{}]", f.evidence.join(", ")))
        );
    }
}
