//! Rendering of log patterns (`obs patterns`, `obs logs --patterns`): a text table by count
//! with an example per pattern, JSON lines (one object per pattern), and the per-line
//! assignment. Pure: takes a [`Grouping`], returns text; the summary of what was skipped or
//! capped is returned for the caller to print on stderr.

use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::patterns::compare::Compared;
use crate::analysis::patterns::{Assigned, Grouping};

/// A log pattern of the investigation (`log_patterns[]`): new in the window or logged at a
/// jumped rate, against the baseline window.
#[derive(Debug, Clone, Serialize)]
pub struct LogPatternEntry {
    pub id: String,
    pub template: String,
    /// `new` (not in the baseline) or `jumped` (at least twice the rate, q < 0.05).
    pub change: String,
    pub baseline_count: u64,
    pub incident_count: u64,
    pub baseline_per_minute: f64,
    pub incident_per_minute: f64,
    /// One-sided exact test that the rate did not rise (conditional binomial).
    pub p_value: f64,
    /// Benjamini–Hochberg across the window's patterns.
    pub q_value: f64,
    pub services: Vec<String>,
    pub first_seen: Option<String>,
    pub first_seen_unix: Option<f64>,
    /// The first trace ids that logged it (at most 10); `trace_count` counts them all.
    pub trace_ids: Vec<String>,
    pub trace_count: usize,
    pub example: String,
}

impl From<Compared> for LogPatternEntry {
    fn from(c: Compared) -> Self {
        let first = c.first_seen_unix_nano.and_then(|n| {
            jiff::Timestamp::from_nanosecond(i128::from(n))
                .ok()
                .map(|ts| (ts.to_string(), n as f64 / 1e9))
        });
        LogPatternEntry {
            id: c.id,
            template: c.template,
            change: c.change.as_str().to_string(),
            baseline_count: c.baseline_count,
            incident_count: c.incident_count,
            baseline_per_minute: c.baseline_rate,
            incident_per_minute: c.incident_rate,
            p_value: c.p_value,
            q_value: c.q_value,
            services: c.services,
            first_seen: first.as_ref().map(|f| f.0.clone()),
            first_seen_unix: first.map(|f| f.1),
            trace_ids: c.trace_ids,
            trace_count: c.trace_count,
            example: c.example,
        }
    }
}

/// The text report's block of new and jumped log patterns: change, counts before and after,
/// q-value, services, first seen, and the trace ids that logged it, then the template.
pub fn render_report_block(
    out: &mut String,
    report: &crate::report::Report,
    color: bool,
    tz: &jiff::tz::TimeZone,
) {
    if !report.sources.iter().any(|s| s.signal == "logs") {
        return;
    }
    let bold = console::Style::new().bold().force_styling(color);
    let red = console::Style::new().red().force_styling(color);
    let _ = writeln!(out);
    if report.log_patterns.is_empty() {
        let _ = writeln!(
            out,
            "{} none new or jumped in the window's error and warning logs (against the baseline)",
            bold.apply_to("Log patterns")
        );
        return;
    }
    let new = report
        .log_patterns
        .iter()
        .filter(|p| p.change == "new")
        .count();
    let _ = writeln!(
        out,
        "{} {new} new, {} jumped in the window's error and warning logs (against the baseline)",
        bold.apply_to("Log patterns"),
        report.log_patterns.len() - new
    );
    for p in &report.log_patterns {
        let first = p
            .first_seen_unix
            .and_then(|u| jiff::Timestamp::from_nanosecond((u * 1e9) as i128).ok())
            .map(|ts| ts.to_zoned(tz.clone()).strftime("%H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into());
        let traces = if p.trace_ids.is_empty() {
            String::new()
        } else {
            let shown: Vec<&str> = p.trace_ids.iter().take(2).map(String::as_str).collect();
            let more = p.trace_count.saturating_sub(shown.len());
            format!(
                "  traces {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" +{more}")
                } else {
                    String::new()
                }
            )
        };
        let _ = writeln!(
            out,
            "  {:<6} {} → {}  q {}  {}  first {first}{traces}",
            red.apply_to(&p.change),
            p.baseline_count,
            p.incident_count,
            fmt_q(p.q_value),
            if p.services.is_empty() {
                "-".to_string()
            } else {
                p.services.join(",")
            },
        );
        let _ = writeln!(out, "         {}", p.template);
    }
}

fn fmt_q(q: f64) -> String {
    if q < 1e-3 {
        format!("{q:.0e}")
    } else {
        format!("{q:.3}")
    }
}

/// One pattern as a JSON object: `id`, `template`, `count`, `example`.
pub fn pattern_json(g: &Grouping, i: usize) -> serde_json::Value {
    let p = &g.patterns[i];
    serde_json::json!({
        "id": p.id,
        "template": p.template,
        "count": p.count,
        "example": p.example,
    })
}

/// JSON lines: one object per pattern, most frequent first.
pub fn render_json_lines(g: &Grouping) -> String {
    (0..g.patterns.len())
        .map(|i| pattern_json(g, i).to_string() + "\n")
        .collect()
}

/// One JSON line per input line, in order: `{"line": N, "pattern": ID, "template": T}`
/// (`N` from 1; `null` pattern and template for an empty line or one over the pattern cap).
pub fn render_per_line(g: &Grouping, assigned: &[Assigned]) -> String {
    let mut out = String::new();
    for (n, a) in assigned.iter().enumerate() {
        let p = g.pattern(*a);
        let v = serde_json::json!({
            "line": n + 1,
            "pattern": p.map(|p| p.id.as_str()),
            "template": p.map(|p| p.template.as_str()),
        });
        let _ = writeln!(out, "{v}");
    }
    out
}

/// A table by count: count, share of the grouped lines, id, template, and a dimmed example
/// line under each (cut to `width`).
pub fn render_text(g: &Grouping, width: u16, color: bool) -> String {
    let dim = console::Style::new().dim().force_styling(color);
    let bold = console::Style::new().bold().force_styling(color);
    let grouped: u64 = g.patterns.iter().map(|p| p.count).sum();
    let count_w = g
        .patterns
        .first()
        .map_or(5, |p| p.count.to_string().len().max(5));
    let mut out = String::new();
    if g.patterns.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        bold.apply_to(format!(
            "{:>count_w$}  {:>6}  {:<12}  template",
            "count", "share", "id"
        ))
    );
    let indent = count_w + 2 + 6 + 2 + 12 + 2;
    for p in &g.patterns {
        let share = if grouped == 0 {
            0.0
        } else {
            100.0 * p.count as f64 / grouped as f64
        };
        let _ = writeln!(
            out,
            "{:>count_w$}  {:>5.1}%  {:<12}  {}",
            p.count, share, p.id, p.template
        );
        let room = usize::from(width).saturating_sub(indent + 6).max(20);
        let example: String = p.example.replace(['\n', '\r', '\t'], " ");
        let example = if example.chars().count() > room {
            let cut: String = example.chars().take(room.saturating_sub(1)).collect();
            format!("{cut}…")
        } else {
            example
        };
        let _ = writeln!(
            out,
            "{:indent$}{}",
            "",
            dim.apply_to(format!("e.g. {example}"))
        );
    }
    out
}

/// What stderr should say about the input: lines read, patterns, and what was not grouped
/// (empty lines, lines over the cap, lines templated on their head only).
pub fn summary(g: &Grouping) -> Vec<String> {
    let mut notes = vec![format!("{} lines, {} patterns", g.lines, g.patterns.len())];
    if g.empty_lines > 0 {
        notes.push(format!("{} empty lines skipped", g.empty_lines));
    }
    if g.overflow_lines > 0 {
        notes.push(format!(
            "the pattern cap of {} was reached: {} lines of further shapes were not grouped \
             (raise --max-patterns to group them, at the cost of memory)",
            g.max_patterns, g.overflow_lines
        ));
    }
    if g.truncated_lines > 0 {
        notes.push(format!(
            "{} lines longer than the templating limit were grouped by their start (their \
             templates end in <…>)",
            g.truncated_lines
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::patterns::{Options, Templater, group};

    #[test]
    fn text_lists_patterns_by_count_with_an_example() {
        let (g, _) = group(["conn 1 closed", "conn 2 closed", "boot ok"]);
        let text = render_text(&g, 100, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("count") && lines[0].contains("template"));
        assert!(lines[1].starts_with("    2   66.7%"), "{}", lines[1]);
        assert!(lines[1].ends_with("conn <*> closed"));
        assert!(lines[2].trim_start().starts_with("e.g. conn 1 closed"));
        assert!(lines[3].ends_with("boot ok"));
    }

    #[test]
    fn json_lines_and_per_line_output_agree_on_ids() {
        let mut t = Templater::new(Options::default());
        let a: Vec<Assigned> = ["x 1", "", "y", "x 2"]
            .iter()
            .map(|l| t.add_str(l))
            .collect();
        let g = t.finish();
        let patterns: Vec<serde_json::Value> = render_json_lines(&g)
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(patterns[0]["template"], "x <*>");
        assert_eq!(patterns[0]["count"], 2);
        assert_eq!(patterns[0]["example"], "x 1");
        let per: Vec<serde_json::Value> = render_per_line(&g, &a)
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(per.len(), 4);
        assert_eq!(per[0]["line"], 1);
        assert_eq!(per[0]["pattern"], patterns[0]["id"]);
        assert_eq!(per[3]["pattern"], patterns[0]["id"]);
        assert!(per[1]["pattern"].is_null());
        assert_eq!(per[2]["template"], "y");
        assert_eq!(
            summary(&g),
            vec!["4 lines, 2 patterns", "1 empty lines skipped"]
        );
    }
}
