//! One span's row of the waterfall: the column layout for a terminal width, the tree prefix,
//! the label with its error hint, and the bar on the trace's time axis with the critical path
//! marked. Never wider than the layout says.

use console::{Alignment, Style, measure_text_width, pad_str, truncate_str};

use crate::analysis::spantree::{SpanTree, format_nanos};
use crate::model::Span;

use super::{Styles, WaterfallOptions};

/// Column widths for one terminal width. Narrow terminals lose the bar, then the offset, then
/// the duration; the label always stays (cut to fit).
pub(super) struct Layout {
    pub(super) width: usize,
    pub(super) offset: bool,
    pub(super) duration: bool,
    pub(super) label: usize,
    pub(super) bar: usize,
}

pub(super) const MARKS: usize = 3; // "*! "
pub(super) const TIME: usize = 8; // "  1.82s "

impl Layout {
    pub(super) fn new(width: usize) -> Layout {
        if width >= 50 {
            let avail = width - MARKS - 2 * TIME;
            let bar = avail * 2 / 5;
            Layout {
                width,
                offset: true,
                duration: true,
                label: avail - bar - 1,
                bar,
            }
        } else if width >= 30 {
            Layout {
                width,
                offset: false,
                duration: true,
                label: width - MARKS - TIME,
                bar: 0,
            }
        } else {
            Layout {
                width,
                offset: false,
                duration: false,
                label: width.saturating_sub(MARKS).max(1),
                bar: 0,
            }
        }
    }
}

pub(super) fn column_header(tree: &SpanTree, layout: &Layout, st: &Styles) -> String {
    let mut s = " ".repeat(MARKS);
    if layout.offset {
        s.push_str(&format!("{:>7} ", "OFFSET"));
    }
    if layout.duration {
        s.push_str(&format!("{:>7} ", "DUR"));
    }
    s.push_str(&pad_str("SPAN", layout.label, Alignment::Left, Some("…")));
    if layout.bar > 0 {
        let end = format_nanos(tree.duration_nanos());
        let axis = format!(
            "0{}{end}",
            " ".repeat(layout.bar.saturating_sub(end.len() + 1))
        );
        s.push(' ');
        s.push_str(&axis);
    }
    let s = truncate_str(&s, layout.width, "").trim_end().to_string();
    format!("{}\n", st.dim.apply_to(s))
}

/// The filtered rows, and for the tree lines which visible span is the last visible child of
/// its parent.
#[derive(Debug, Clone)]
pub(super) struct Visible {
    pub(super) rows: Vec<usize>,
    pub(super) last: Vec<bool>,
}

impl Visible {
    pub(super) fn new(tree: &SpanTree, opts: &WaterfallOptions) -> Visible {
        let n = tree.len();
        let mut keep = vec![true; n];
        if opts.errors_only {
            let mut wanted = vec![false; n];
            for e in tree.error_spans() {
                let mut x = Some(e);
                while let Some(i) = x {
                    if wanted[i] {
                        break;
                    }
                    wanted[i] = true;
                    x = tree.parent(i);
                }
            }
            keep = wanted;
        }
        for (i, k) in keep.iter_mut().enumerate() {
            let s = &tree.spans()[i];
            if opts.max_depth.is_some_and(|d| tree.depth(i) > d)
                || opts.service.as_ref().is_some_and(|svc| &s.service != svc)
            {
                *k = false;
            }
        }
        let rows: Vec<usize> = tree
            .display_order()
            .iter()
            .copied()
            .filter(|&i| keep[i])
            .collect();
        Visible::from_rows(tree, rows)
    }

    /// `rows` (span indices in display order) with the tree lines resolved for them.
    pub(super) fn from_rows(tree: &SpanTree, rows: Vec<usize>) -> Visible {
        let n = tree.len();
        // The last visible child of each parent, found as the last one met in display order.
        let mut last_child = vec![usize::MAX; n];
        for &i in &rows {
            if let Some(p) = tree.parent(i) {
                last_child[p] = i;
            }
        }
        let last = (0..n)
            .map(|i| tree.parent(i).is_none_or(|p| last_child[p] == i))
            .collect();
        Visible { rows, last }
    }
}

/// `├─ `, `│  └─ `, …: the tree lines for span `i`, or `[depth] └─ ` when they would take more
/// than half the label.
pub(super) fn tree_prefix(tree: &SpanTree, visible: &Visible, i: usize, label: usize) -> String {
    let depth = tree.depth(i);
    if depth == 0 {
        return String::new();
    }
    let own = if visible.last[i] {
        "└─ "
    } else {
        "├─ "
    };
    let max_levels = (label / 2) / 3;
    if depth > max_levels {
        return format!("[{depth}] {own}");
    }
    let mut levels = Vec::with_capacity(depth);
    let mut x = tree.parent(i);
    while let Some(a) = x {
        if tree.depth(a) == 0 {
            break;
        }
        levels.push(if visible.last[a] { "   " } else { "│  " });
        x = tree.parent(a);
    }
    levels.reverse();
    let mut s = levels.concat();
    s.push_str(own);
    s
}

/// What an error row says after the operation: the exception type, else the status message.
pub(super) fn error_hint(span: &Span) -> Option<String> {
    if !span.is_error() {
        return None;
    }
    match span.exception() {
        Some((kind, _)) if !kind.is_empty() => Some(kind),
        _ if !span.status_message.is_empty() => Some(span.status_message.clone()),
        _ => Some("error".to_string()),
    }
}

/// One waterfall row as data, for a renderer that styles it itself (the TUI): the text of each
/// column. [`row`] formats the same parts, so both read alike.
#[derive(Debug, Clone, PartialEq)]
pub struct RowParts {
    pub on_critical_path: bool,
    pub error: bool,
    /// From the trace's start: `0`, `+2.99ms`.
    pub offset: String,
    pub duration: String,
    /// The tree lines (`│  ├─ `), or a depth marker (`[12] └─ `) when they would take more
    /// than half of `label_width`.
    pub prefix: String,
    pub service: String,
    pub name: String,
    /// What an error row says after the operation: the exception type, else the status message.
    pub hint: Option<String>,
}

/// The rows of a waterfall, prepared once (filters applied, tree lines resolved) so that a
/// scrolling renderer asks only for the rows on screen.
#[derive(Debug, Clone)]
pub struct Rows {
    pub(super) visible: Visible,
}

impl Rows {
    /// The rows `opts`'s filters keep.
    pub fn new(tree: &SpanTree, opts: &WaterfallOptions) -> Rows {
        Rows {
            visible: Visible::new(tree, opts),
        }
    }

    /// The rows of the spans the caller chose, given in display order (the TUI leaves out
    /// collapsed subtrees); tree lines follow the spans that are shown.
    pub fn from_spans(tree: &SpanTree, spans: Vec<usize>) -> Rows {
        Rows {
            visible: Visible::from_rows(tree, spans),
        }
    }

    /// Span indices, one per row, in display order.
    pub fn spans(&self) -> &[usize] {
        &self.visible.rows
    }

    /// The parts of span `i`'s row.
    pub fn parts(&self, tree: &SpanTree, i: usize, label_width: usize) -> RowParts {
        let s = &tree.spans()[i];
        let start = s.start_unix_nano;
        let offset = start.saturating_sub(tree.start_unix_nano());
        RowParts {
            on_critical_path: tree.is_on_critical_path(i),
            error: s.is_error(),
            offset: if offset == 0 {
                "0".to_string()
            } else {
                format!("+{}", format_nanos(offset))
            },
            duration: format_nanos(tree.end_unix_nano(i).saturating_sub(start)),
            prefix: tree_prefix(tree, &self.visible, i, label_width),
            service: s.service.clone(),
            name: s.name.clone(),
            hint: error_hint(s),
        }
    }
}

/// A run of bar cells: `len` cells from `start`, on the critical path or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarRun {
    pub start: usize,
    pub len: usize,
    pub critical: bool,
}

pub(super) fn row(tree: &SpanTree, rows: &Rows, layout: &Layout, st: &Styles, i: usize) -> String {
    let p = rows.parts(tree, i, layout.label);
    let mut line = String::new();
    line.push_str(&if p.on_critical_path {
        st.critical.apply_to("*").to_string()
    } else {
        " ".to_string()
    });
    line.push_str(&if p.error {
        st.red.apply_to("!").to_string()
    } else {
        " ".to_string()
    });
    line.push(' ');
    if layout.offset {
        line.push_str(&format!("{:>7} ", p.offset));
    }
    if layout.duration {
        line.push_str(&format!("{:>7} ", p.duration));
    }
    let mut label = p.prefix;
    label.push_str(&st.service(&p.service));
    label.push(' ');
    label.push_str(&p.name);
    if let Some(hint) = p.hint {
        label.push(' ');
        label.push_str(&st.red.apply_to(format!("✗ {hint}")).to_string());
    }
    line.push_str(&pad_str(&label, layout.label, Alignment::Left, Some("…")));
    if layout.bar > 0 {
        line.push(' ');
        line.push_str(&bar(tree, layout.bar, st, i));
    }
    if measure_text_width(&line) > layout.width {
        line = truncate_str(&line, layout.width, "").into_owned();
    }
    let mut line = line.trim_end().to_string();
    line.push('\n');
    line
}

/// The span on the trace's time axis, `cells` wide: `█` where the span itself is on the critical
/// path, `▒` for the rest of it, blank outside it. At least one cell, so a zero-length span shows.
pub(super) fn bar(tree: &SpanTree, cells: usize, st: &Styles, i: usize) -> String {
    let plain = st.service_style(&tree.spans()[i].service);
    let mut out = String::new();
    for run in bar_runs(tree, i, cells) {
        if out.is_empty() {
            out.push_str(&" ".repeat(run.start));
        }
        let text: String =
            std::iter::repeat_n(if run.critical { '█' } else { '▒' }, run.len).collect();
        push_run(&mut out, &text, run.critical, st, &plain);
    }
    out
}

/// Span `i` on the trace's time axis, `cells` wide, as runs of cells on and off the critical
/// path (what [`bar`] draws as `█` and `▒`). At least one cell, so a zero-length span shows;
/// nothing when `cells` is 0.
pub fn bar_runs(tree: &SpanTree, i: usize, cells: usize) -> Vec<BarRun> {
    let t0 = tree.start_unix_nano();
    let total = tree.duration_nanos().max(1) as f64;
    let at = |t: i64| (t.saturating_sub(t0)) as f64 / total * cells as f64;
    let s = tree.spans()[i].start_unix_nano;
    let e = tree.end_unix_nano(i);
    let mut a = (at(s).floor().max(0.0) as usize).min(cells.saturating_sub(1));
    let mut b = (at(e).ceil().max(0.0) as usize).min(cells);
    if b <= a {
        b = (a + 1).min(cells);
        a = b.saturating_sub(1);
    }
    let segments = tree.critical_segments_of(i);
    let cell_on_path = |c: usize| {
        let from = t0 as f64 + c as f64 * total / cells as f64;
        let to = t0 as f64 + (c + 1) as f64 * total / cells as f64;
        segments.iter().any(|seg| {
            (seg.start_unix_nano as f64) < to && (seg.end_unix_nano as f64) > from
                || (seg.start_unix_nano == seg.end_unix_nano
                    && (seg.start_unix_nano as f64) >= from
                    && (seg.start_unix_nano as f64) <= to)
        })
    };
    let mut runs: Vec<BarRun> = Vec::new();
    for c in a..b {
        let critical = cell_on_path(c);
        match runs.last_mut() {
            Some(run) if run.critical == critical => run.len += 1,
            _ => runs.push(BarRun {
                start: c,
                len: 1,
                critical,
            }),
        }
    }
    runs
}

pub(super) fn push_run(out: &mut String, run: &str, critical: bool, st: &Styles, plain: &Style) {
    if run.is_empty() {
        return;
    }
    let style = if critical { &st.critical } else { plain };
    out.push_str(&style.apply_to(run).to_string());
}
