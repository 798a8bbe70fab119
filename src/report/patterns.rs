//! Rendering of log patterns (`obs patterns`, `obs logs --patterns`): a text table by count
//! with an example per pattern, JSON lines (one object per pattern), and the per-line
//! assignment. Pure: takes a [`Grouping`], returns text; the summary of what was skipped or
//! capped is returned for the caller to print on stderr.

use std::fmt::Write as _;

use crate::analysis::patterns::{Assigned, Grouping};

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
