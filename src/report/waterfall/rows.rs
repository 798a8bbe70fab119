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

pub(super) fn row(
    tree: &SpanTree,
    visible: &Visible,
    layout: &Layout,
    st: &Styles,
    i: usize,
) -> String {
    let s = &tree.spans()[i];
    let on_path = tree.is_on_critical_path(i);
    let mut line = String::new();
    line.push_str(&if on_path {
        st.critical.apply_to("*").to_string()
    } else {
        " ".to_string()
    });
    line.push_str(&if s.is_error() {
        st.red.apply_to("!").to_string()
    } else {
        " ".to_string()
    });
    line.push(' ');
    let start = s.start_unix_nano;
    let end = tree.end_unix_nano(i);
    if layout.offset {
        let offset = start.saturating_sub(tree.start_unix_nano());
        let text = if offset == 0 {
            "0".to_string()
        } else {
            format!("+{}", format_nanos(offset))
        };
        line.push_str(&format!("{text:>7} "));
    }
    if layout.duration {
        line.push_str(&format!("{:>7} ", format_nanos(end.saturating_sub(start))));
    }
    let mut label = tree_prefix(tree, visible, i, layout.label);
    label.push_str(&st.service(&s.service));
    label.push(' ');
    label.push_str(&s.name);
    if let Some(hint) = error_hint(s) {
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
    let plain = st.service_style(&tree.spans()[i].service);
    let mut out = " ".repeat(a);
    let mut run = String::new();
    let mut run_critical = false;
    for c in a..b {
        let critical = cell_on_path(c);
        if critical != run_critical && !run.is_empty() {
            push_run(&mut out, &run, run_critical, st, &plain);
            run.clear();
        }
        run_critical = critical;
        run.push(if critical { '█' } else { '▒' });
    }
    push_run(&mut out, &run, run_critical, st, &plain);
    out
}

pub(super) fn push_run(out: &mut String, run: &str, critical: bool, st: &Styles, plain: &Style) {
    if run.is_empty() {
        return;
    }
    let style = if critical { &st.critical } else { plain };
    out.push_str(&style.apply_to(run).to_string());
}
