//! The terminal waterfall of one trace (`obs trace`), and the trace's JSON views: the full
//! [`TraceView`] (`obs trace -o json`) and the short [`TraceSummaryView`] that investigate puts
//! in its report's `traces[]`.
//!
//! Reads a [`SpanTree`]; never queries, never touches the terminal (the caller passes the width
//! and whether to colour). Every line fits the given width, down to a few columns; a
//! 100 000-span trace renders only the rows asked for ([`render_rows`]), so a pager or the TUI
//! can scroll through it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use console::{Alignment, Color, Style, measure_text_width, pad_str, truncate_str};
use serde::{Deserialize, Serialize};

use crate::analysis::spantree::{Anomaly, SpanTree, format_nanos};
use crate::model::trace::Attributes;
use crate::model::{Span, SpanKind, StatusCode};

/// How to draw the waterfall. `Default` is 100 columns, no colour, no filters, UTC.
#[derive(Debug, Clone)]
pub struct WaterfallOptions {
    /// Terminal columns; every line fits.
    pub width: u16,
    pub color: bool,
    /// Hide spans deeper than this (roots are depth 0).
    pub max_depth: Option<usize>,
    /// Show only this service's spans (they keep their depth).
    pub service: Option<String>,
    /// Show only error spans and their ancestors.
    pub errors_only: bool,
    /// At most this many rows in [`render`]; the rest is counted.
    pub max_rows: Option<usize>,
    /// For the trace's start time in the header.
    pub time_zone: jiff::tz::TimeZone,
}

impl Default for WaterfallOptions {
    fn default() -> Self {
        WaterfallOptions {
            width: 100,
            color: false,
            max_depth: None,
            service: None,
            errors_only: false,
            max_rows: None,
            time_zone: jiff::tz::TimeZone::UTC,
        }
    }
}

/// Errors listed in full under the waterfall (and in a [`TraceSummaryView`]).
const MAX_ERRORS_LISTED: usize = 20;
/// Anomaly messages listed under the waterfall (and in a [`TraceSummaryView`]).
const MAX_ANOMALIES_LISTED: usize = 10;

/// The whole waterfall: header (trace id, root, duration, start, spans per service, errors,
/// critical path, anomalies), one row per visible span, then the errors and anomalies in full.
///
/// A row is: critical-path marker `*`, error marker `!`, start offset, duration, the tree
/// (indentation), service and operation (with the exception type or status message of an
/// error), and a bar on the trace's time axis — `█` where the span itself is on the critical
/// path, `▒` elsewhere.
pub fn render(tree: &SpanTree, opts: &WaterfallOptions) -> String {
    let width = usize::from(opts.width).max(1);
    let st = Styles::new(opts.color);
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(&truncate_str(s, width, "…"));
        out.push('\n');
    };

    // Header.
    let root = tree.root().map(|r| &tree.spans()[r]);
    let mut title = format!("{} {}", st.bold.apply_to("Trace"), tree.trace_id());
    if let Some(r) = root {
        let _ = write!(
            title,
            "  {} {}",
            st.service(&r.service),
            st.bold.apply_to(&r.name)
        );
    }
    let _ = write!(
        title,
        "  {}  {}",
        st.bold.apply_to(format_nanos(tree.duration_nanos())),
        format_start(tree.start_unix_nano(), &opts.time_zone)
    );
    line(&title);
    let services = tree.services();
    let per_service = services
        .iter()
        .map(|(s, n)| format!("{} {n}", st.service(s)))
        .collect::<Vec<_>>()
        .join(", ");
    let errors = tree.error_spans();
    let error_count = match errors.len() {
        0 => "no errors".to_string(),
        1 => st.red.apply_to("1 error").to_string(),
        n => st.red.apply_to(format!("{n} errors")).to_string(),
    };
    line(&format!(
        "{} spans, {error_count}, {} services: {per_service}",
        tree.len(),
        services.len()
    ));
    let top = tree.top_self_time_on_critical_path(3);
    let path_total = tree
        .critical_segments()
        .iter()
        .fold(0i64, |sum, s| sum.saturating_add(s.duration_nanos()));
    if !top.is_empty() {
        let parts = top
            .iter()
            .map(|&(i, t)| {
                let s = &tree.spans()[i];
                format!(
                    "{} {}{}",
                    s.name,
                    format_nanos(t),
                    percent(t, path_total)
                        .map(|p| format!(" ({p}%)"))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        line(&format!(
            "{} ({} spans): {parts}",
            st.critical.apply_to("critical path"),
            tree.critical_path_span_ids().len()
        ));
    }
    if !tree.anomalies().is_empty() {
        line(&format!(
            "{} {} (details below)",
            st.yellow.apply_to("anomalies:"),
            anomaly_counts(tree.anomalies())
        ));
    }

    // Rows.
    let rows = Rows::new(tree, opts);
    let visible = &rows.visible;
    let shown = opts
        .max_rows
        .map_or(visible.rows.len(), |m| m.min(visible.rows.len()));
    let layout = Layout::new(width);
    out.push('\n');
    out.push_str(&column_header(tree, &layout, &st));
    for &i in &visible.rows[..shown] {
        out.push_str(&row(tree, &rows, &layout, &st, i));
    }
    let hidden_by_filter = tree.len() - visible.rows.len();
    let mut notes = Vec::new();
    if shown < visible.rows.len() {
        notes.push(format!(
            "… {} more rows (showing {shown} of {})",
            visible.rows.len() - shown,
            visible.rows.len()
        ));
    }
    if hidden_by_filter > 0 {
        notes.push(format!(
            "{hidden_by_filter} of {} spans hidden by filters",
            tree.len()
        ));
    }
    for note in notes {
        out.push_str(&truncate_str(
            &st.dim.apply_to(note).to_string(),
            width,
            "…",
        ));
        out.push('\n');
    }

    // Footer: errors and anomalies in full (these lines wrap rather than being cut).
    if !errors.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", st.red.apply_to("errors:"));
        for &i in errors.iter().take(MAX_ERRORS_LISTED) {
            let s = &tree.spans()[i];
            let _ = write!(
                out,
                "  {} {} {}",
                st.red.apply_to("!"),
                st.service(&s.service),
                s.name
            );
            if !s.status_message.is_empty() {
                let _ = write!(out, ": {}", s.status_message);
            }
            out.push('\n');
            if let Some((kind, message)) = s.exception() {
                let _ = writeln!(out, "      {}: {message}", st.red.apply_to(kind));
            }
        }
        if errors.len() > MAX_ERRORS_LISTED {
            let _ = writeln!(out, "  … {} more", errors.len() - MAX_ERRORS_LISTED);
        }
    }
    if !tree.anomalies().is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", st.yellow.apply_to("anomalies:"));
        for a in tree.anomalies().iter().take(MAX_ANOMALIES_LISTED) {
            let _ = writeln!(out, "  ~ {}", a.message());
        }
        if tree.anomalies().len() > MAX_ANOMALIES_LISTED {
            let _ = writeln!(
                out,
                "  … {} more (all of them are in -o json)",
                tree.anomalies().len() - MAX_ANOMALIES_LISTED
            );
        }
    }
    out
}

/// Rows `first_row .. first_row + rows` of the filtered waterfall (no header, no footer): what a
/// pager or the TUI shows of a big trace. Out-of-range rows are simply not there.
pub fn render_rows(
    tree: &SpanTree,
    opts: &WaterfallOptions,
    first_row: usize,
    rows: usize,
) -> String {
    let width = usize::from(opts.width).max(1);
    let st = Styles::new(opts.color);
    let prepared = Rows::new(tree, opts);
    let visible = &prepared.visible;
    let layout = Layout::new(width);
    let from = first_row.min(visible.rows.len());
    let to = from.saturating_add(rows).min(visible.rows.len());
    let mut out = String::new();
    for &i in &visible.rows[from..to] {
        out.push_str(&row(tree, &prepared, &layout, &st, i));
    }
    out
}

/// The spans the filters keep, in display order (what [`render_rows`] counts rows over).
pub fn visible_rows(tree: &SpanTree, opts: &WaterfallOptions) -> Vec<usize> {
    Visible::new(tree, opts).rows
}

struct Styles {
    color: bool,
    bold: Style,
    dim: Style,
    red: Style,
    yellow: Style,
    critical: Style,
}

impl Styles {
    fn new(color: bool) -> Styles {
        Styles {
            color,
            bold: Style::new().bold().force_styling(color),
            dim: Style::new().dim().force_styling(color),
            red: Style::new().red().bold().force_styling(color),
            yellow: Style::new().yellow().force_styling(color),
            critical: Style::new().yellow().bold().force_styling(color),
        }
    }

    /// A stable colour per service name, so one service reads the same everywhere.
    fn service_style(&self, service: &str) -> Style {
        const PALETTE: [Color; 6] = [
            Color::Cyan,
            Color::Green,
            Color::Blue,
            Color::Magenta,
            Color::Color256(208),
            Color::Color256(67),
        ];
        let color = PALETTE[(service_hash(service) % PALETTE.len() as u64) as usize];
        Style::new().fg(color).force_styling(self.color)
    }

    fn service(&self, service: &str) -> String {
        self.service_style(service).apply_to(service).to_string()
    }
}

/// A stable hash of a service name (FNV-1a: std's hasher is randomly seeded per process), so
/// that a service gets the same colour in every renderer and every run.
pub fn service_hash(service: &str) -> u64 {
    service.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn format_start(nanos: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(nanos))
        .ok()
        .and_then(|ts| {
            jiff::fmt::strtime::format("%Y-%m-%d %H:%M:%S%.3f %Z", &ts.to_zoned(tz.clone())).ok()
        })
        .unwrap_or_else(|| format!("{nanos} ns since the epoch"))
}

fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 100.0).round() as i64)
}

/// `2 orphans, 1 child outside its parent`, in the order the tree reports them.
fn anomaly_counts(anomalies: &[Anomaly]) -> String {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for a in anomalies {
        let label = match a {
            Anomaly::Orphan { .. } => "orphan span (parent missing)",
            Anomaly::DuplicateSpanId { .. } => "duplicate span id",
            Anomaly::Cycle { .. } => "cycle in parent links",
            Anomaly::ChildOutsideParent { .. } => "child outside its parent (clock skew?)",
            Anomaly::ZeroLength { .. } => "zero-length span",
            Anomaly::NegativeDuration { .. } => "span ending before it starts",
            Anomaly::MultipleRoots { .. } => "trace with several roots",
        };
        match counts.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => counts.push((label, 1)),
        }
    }
    counts
        .iter()
        .map(|(l, n)| format!("{n} × {l}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Column widths for one terminal width. Narrow terminals lose the bar, then the offset, then
/// the duration; the label always stays (cut to fit).
struct Layout {
    width: usize,
    offset: bool,
    duration: bool,
    label: usize,
    bar: usize,
}

const MARKS: usize = 3; // "*! "
const TIME: usize = 8; // "  1.82s "

impl Layout {
    fn new(width: usize) -> Layout {
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

fn column_header(tree: &SpanTree, layout: &Layout, st: &Styles) -> String {
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
struct Visible {
    rows: Vec<usize>,
    last: Vec<bool>,
}

impl Visible {
    fn new(tree: &SpanTree, opts: &WaterfallOptions) -> Visible {
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
    fn from_rows(tree: &SpanTree, rows: Vec<usize>) -> Visible {
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
fn tree_prefix(tree: &SpanTree, visible: &Visible, i: usize, label: usize) -> String {
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
fn error_hint(span: &Span) -> Option<String> {
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
/// column. [`render_rows`] formats the same parts, so both read alike.
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
    visible: Visible,
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

fn row(tree: &SpanTree, rows: &Rows, layout: &Layout, st: &Styles, i: usize) -> String {
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
fn bar(tree: &SpanTree, cells: usize, st: &Styles, i: usize) -> String {
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
/// path (what [`render_rows`] draws as `█` and `▒`). At least one cell, so a zero-length span
/// shows; nothing when `cells` is 0.
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

fn push_run(out: &mut String, run: &str, critical: bool, st: &Styles, plain: &Style) {
    if run.is_empty() {
        return;
    }
    let style = if critical { &st.critical } else { plain };
    out.push_str(&style.apply_to(run).to_string());
}

fn ms(nanos: i64) -> f64 {
    (nanos as f64 / 1e3).round() / 1e3
}

fn rfc3339(nanos: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(nanos))
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The root span's service and operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootView {
    pub service: String,
    pub name: String,
}

/// An exception event's `exception.type` and `exception.message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionView {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// One span in `obs trace -o json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanView {
    pub span_id: String,
    /// As the data says (an orphan keeps its missing parent's id here).
    pub parent_span_id: Option<String>,
    pub service: String,
    pub name: String,
    pub kind: SpanKind,
    pub start_unix_nano: i64,
    /// From the trace's earliest start.
    pub start_offset_ms: f64,
    pub duration_ms: f64,
    pub self_time_ms: f64,
    /// In the tree as shown (an orphan is at depth 1, under the root).
    pub depth: usize,
    pub status: StatusCode,
    pub status_message: String,
    pub exception: Option<ExceptionView>,
    pub attributes: Attributes,
    pub on_critical_path: bool,
    /// How long the span itself is on the critical path.
    pub critical_path_ms: f64,
}

/// An anomaly with its sentence: `{"kind": "orphan", "span_id": …, "message": "…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyView {
    #[serde(flatten)]
    pub anomaly: Anomaly,
    pub message: String,
}

impl From<&Anomaly> for AnomalyView {
    fn from(a: &Anomaly) -> Self {
        AnomalyView {
            anomaly: a.clone(),
            message: a.message(),
        }
    }
}

/// One stretch of the critical path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalSegmentView {
    pub span_id: String,
    pub start_offset_ms: f64,
    pub duration_ms: f64,
}

/// What `obs trace -o json` prints for one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceView {
    pub trace_id: String,
    /// RFC 3339, of the earliest span start.
    pub start: String,
    pub start_unix_nano: i64,
    pub duration_ms: f64,
    pub span_count: usize,
    /// `null` for a trace without spans.
    pub root: Option<RootView>,
    /// In display order (depth-first, children by start time).
    pub spans: Vec<SpanView>,
    /// Span ids in the order the path first reaches them.
    pub critical_path: Vec<String>,
    pub critical_path_segments: Vec<CriticalSegmentView>,
    pub error_spans: Vec<String>,
    pub services: BTreeMap<String, usize>,
    pub anomalies: Vec<AnomalyView>,
}

fn exception_view(span: &Span) -> Option<ExceptionView> {
    span.exception()
        .map(|(kind, message)| ExceptionView { kind, message })
}

fn root_view(tree: &SpanTree) -> Option<RootView> {
    tree.root().map(|r| RootView {
        service: tree.spans()[r].service.clone(),
        name: tree.spans()[r].name.clone(),
    })
}

/// The full JSON view of a trace.
pub fn trace_view(tree: &SpanTree) -> TraceView {
    let t0 = tree.start_unix_nano();
    let spans = tree
        .display_order()
        .iter()
        .map(|&i| {
            let s = &tree.spans()[i];
            SpanView {
                span_id: s.span_id.clone(),
                parent_span_id: s.parent_span_id.clone(),
                service: s.service.clone(),
                name: s.name.clone(),
                kind: s.kind,
                start_unix_nano: s.start_unix_nano,
                start_offset_ms: ms(s.start_unix_nano.saturating_sub(t0)),
                duration_ms: ms(tree.end_unix_nano(i).saturating_sub(s.start_unix_nano)),
                self_time_ms: ms(tree.self_time_nanos(i)),
                depth: tree.depth(i),
                status: s.status,
                status_message: s.status_message.clone(),
                exception: exception_view(s),
                attributes: s.attributes.clone(),
                on_critical_path: tree.is_on_critical_path(i),
                critical_path_ms: ms(tree.critical_path_nanos(i)),
            }
        })
        .collect();
    TraceView {
        trace_id: tree.trace_id().to_string(),
        start: rfc3339(t0),
        start_unix_nano: t0,
        duration_ms: ms(tree.duration_nanos()),
        span_count: tree.len(),
        root: root_view(tree),
        spans,
        critical_path: tree.critical_path_span_ids(),
        critical_path_segments: tree
            .critical_segments()
            .iter()
            .map(|seg| CriticalSegmentView {
                span_id: tree.spans()[seg.span].span_id.clone(),
                start_offset_ms: ms(seg.start_unix_nano.saturating_sub(t0)),
                duration_ms: ms(seg.duration_nanos()),
            })
            .collect(),
        error_spans: tree
            .error_spans()
            .into_iter()
            .map(|i| tree.spans()[i].span_id.clone())
            .collect(),
        services: tree.services().into_iter().collect(),
        anomalies: tree.anomalies().iter().map(AnomalyView::from).collect(),
    }
}

/// An error span in a trace summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorSpanView {
    pub span_id: String,
    pub service: String,
    pub name: String,
    pub status_message: String,
    pub exception: Option<ExceptionView>,
}

/// A top contributor to the critical path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriticalView {
    pub span_id: String,
    pub service: String,
    pub name: String,
    /// The span's self time (duration minus its children).
    pub self_time_ms: f64,
    /// How long the span itself is on the critical path; the list is ordered by this.
    pub critical_path_ms: f64,
}

/// The short view of a trace that investigate's report carries in `traces[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceSummaryView {
    pub trace_id: String,
    pub start: String,
    pub start_unix_nano: i64,
    pub duration_ms: f64,
    pub span_count: usize,
    pub root: Option<RootView>,
    /// All error spans' count; `error_spans` lists the first 20 in display order.
    pub error_span_count: usize,
    pub error_spans: Vec<ErrorSpanView>,
    /// The top contributors to the critical path, most time first.
    pub critical_path: Vec<CriticalView>,
    /// The first 10 anomalies; `anomalies_total` counts them all.
    pub anomalies: Vec<AnomalyView>,
    pub anomalies_total: usize,
}

/// The short view, with the `n` top contributors to the critical path.
pub fn summarize(tree: &SpanTree, n: usize) -> TraceSummaryView {
    let errors = tree.error_spans();
    TraceSummaryView {
        trace_id: tree.trace_id().to_string(),
        start: rfc3339(tree.start_unix_nano()),
        start_unix_nano: tree.start_unix_nano(),
        duration_ms: ms(tree.duration_nanos()),
        span_count: tree.len(),
        root: root_view(tree),
        error_span_count: errors.len(),
        error_spans: errors
            .iter()
            .take(MAX_ERRORS_LISTED)
            .map(|&i| {
                let s = &tree.spans()[i];
                ErrorSpanView {
                    span_id: s.span_id.clone(),
                    service: s.service.clone(),
                    name: s.name.clone(),
                    status_message: s.status_message.clone(),
                    exception: exception_view(s),
                }
            })
            .collect(),
        critical_path: tree
            .top_self_time_on_critical_path(n)
            .into_iter()
            .map(|(i, t)| {
                let s = &tree.spans()[i];
                CriticalView {
                    span_id: s.span_id.clone(),
                    service: s.service.clone(),
                    name: s.name.clone(),
                    self_time_ms: ms(tree.self_time_nanos(i)),
                    critical_path_ms: ms(t),
                }
            })
            .collect(),
        anomalies: tree
            .anomalies()
            .iter()
            .take(MAX_ANOMALIES_LISTED)
            .map(AnomalyView::from)
            .collect(),
        anomalies_total: tree.anomalies().len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::spantree::build;
    use crate::analysis::spantree::testdata::{span, tempo_incident_trace, trace};

    fn opts(width: u16) -> WaterfallOptions {
        WaterfallOptions {
            width,
            ..WaterfallOptions::default()
        }
    }

    /// The row of the span whose line contains `needle`.
    fn line_with<'a>(out: &'a str, needle: &str) -> &'a str {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in\n{out}"))
    }

    #[test]
    fn incident_trace_header_rows_and_footer() {
        let tree = build(&tempo_incident_trace());
        let out = render(&tree, &opts(120));
        let mut lines = out.lines();
        let title = lines.next().unwrap();
        assert!(
            title.starts_with(
                "Trace aa3683ad52e9b569c004436d55771b03  frontend GET /checkout  1.82s  "
            ),
            "{title}"
        );
        assert!(title.ends_with("05:23:24.757 UTC"), "{title}");
        assert_eq!(
            lines.next().unwrap(),
            "20 spans, 5 errors, 4 services: checkout 8, payments 6, frontend 3, inventory 3"
        );
        assert_eq!(
            lines.next().unwrap(),
            "critical path (20 spans): db.pool.acquire 1.5s (82%), INSERT orders 99.6ms (5%), \
             POST /v1/void 66.7ms (4%)"
        );
        assert!(!out.contains("anomalies"), "{out}");

        let pool = line_with(&out, "db.pool.acquire ✗");
        assert!(pool.starts_with("*! "), "{pool}");
        assert!(pool.contains("✗ pool exhausted"), "{pool}");
        assert!(pool.contains('█'), "{pool}");
        let insert = line_with(&out, "INSERT orders ✗");
        assert!(insert.starts_with("*! "), "{insert}");
        assert!(insert.contains("✗ __main__.PoolTimeout"), "{insert}");
        let root = line_with(&out, "frontend GET /checkout ✗");
        assert!(
            root.starts_with("*!       0   1.82s frontend GET"),
            "{root}"
        );
        let redis = line_with(&out, "redis GET");
        // PlaceOrder has a later sibling (render error page), POST /api/orders has none,
        // validate-cart has one (inventory.Reserve).
        assert!(
            redis.starts_with("*  +7.97ms  1.99ms │     │  └─ checkout redis GET"),
            "{redis}"
        );

        // The footer has the errors in full.
        assert!(out.contains("\nerrors:\n"), "{out}");
        assert!(out.contains(
            "  ! checkout INSERT orders: PoolTimeout: QueuePool limit of size 100 overflow 0 reached\n      __main__.PoolTimeout: "
        ), "{out}");
    }

    #[test]
    fn tree_lines_follow_the_visible_siblings() {
        let tree = build(&trace(vec![
            span("r", "", 0, 100),
            span("a", "r", 0, 50),
            span("c", "a", 10, 20),
            span("b", "r", 60, 70),
        ]));
        let rows = render_rows(&tree, &opts(100), 0, 10);
        // Width 100: marks 3, offset 8, duration 8, then a 48-column label.
        let labels: Vec<String> = rows
            .lines()
            .map(|l| {
                l.chars()
                    .skip(19)
                    .take(48)
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect();
        assert_eq!(
            labels,
            ["svc op-r", "├─ svc op-a", "│  └─ svc op-c", "└─ svc op-b"]
        );
    }

    #[test]
    fn bars_mark_the_critical_part_of_a_span() {
        // b runs in parallel with c, which finishes later: b is off the critical path.
        let tree = build(&trace(vec![
            span("a", "", 0, 100),
            span("b", "a", 10, 80),
            span("c", "a", 20, 90),
        ]));
        let out = render_rows(&tree, &opts(100), 0, 10);
        let b = line_with(&out, "op-b");
        assert!(b.starts_with("   "), "{b}");
        assert!(b.contains('▒') && !b.contains('█'), "{b}");
        let c = line_with(&out, "op-c");
        assert!(c.starts_with("*  "), "{c}");
        assert!(c.contains('█') && !c.contains('▒'), "{c}");
        // a is on the path before c starts and after it ends, not in between.
        let a = line_with(&out, "op-a");
        let bar: String = a.chars().filter(|c| *c == '█' || *c == '▒').collect();
        assert!(
            bar.starts_with('█') && bar.ends_with('█') && bar.contains('▒'),
            "{a}"
        );
    }

    #[test]
    fn every_line_fits_the_width_even_a_tiny_one() {
        let tree = build(&tempo_incident_trace());
        let mut odd = tempo_incident_trace();
        odd.spans[3].parent_span_id = Some("ffffffffffffffff".into());
        odd.spans[5].end_unix_nano = odd.spans[5].start_unix_nano - 10;
        let odd = build(&odd);
        for t in [&tree, &odd] {
            for width in [1u16, 5, 20, 29, 30, 49, 50, 80, 200] {
                for color in [false, true] {
                    let o = WaterfallOptions {
                        width,
                        color,
                        ..WaterfallOptions::default()
                    };
                    let out = render(t, &o);
                    let plain = console::strip_ansi_codes(&out);
                    let rows = render_rows(t, &o, 0, 100);
                    assert_eq!(rows.lines().count(), 20);
                    // The footer's error and anomaly lines wrap instead; the rest must fit.
                    let body = plain.split("\nerrors:\n").next().unwrap();
                    let body = body.split("\nanomalies:\n").next().unwrap();
                    for l in body.lines().chain(rows.lines()) {
                        assert!(
                            measure_text_width(l) <= usize::from(width),
                            "width {width}, color {color}: {l:?}"
                        );
                    }
                    assert!(!body.trim().is_empty());
                }
            }
        }
        let narrow = render_rows(&tree, &opts(5), 0, 1);
        assert_eq!(narrow, "*! f…\n");
    }

    #[test]
    fn filters_depth_service_and_errors_only() {
        let tree = build(&tempo_incident_trace());
        let names = |o: &WaterfallOptions| -> Vec<String> {
            visible_rows(&tree, o)
                .into_iter()
                .map(|i| tree.spans()[i].name.clone())
                .collect()
        };
        let depth1 = WaterfallOptions {
            max_depth: Some(1),
            ..opts(100)
        };
        assert_eq!(
            names(&depth1),
            ["GET /checkout", "checkout.PlaceOrder", "render error page"]
        );
        let payments = WaterfallOptions {
            service: Some("payments".into()),
            ..opts(100)
        };
        assert_eq!(names(&payments).len(), 6);
        let out = render(&tree, &payments);
        assert!(out.contains("14 of 20 spans hidden by filters"), "{out}");
        // Filtered rows keep their depth and tree lines.
        // (hidden ancestors still draw their lines, so depth reads the same as unfiltered)
        assert!(
            line_with(&out, "payments fraud-check").contains("│  │  │     ├─ payments"),
            "{out}"
        );
        let errors = WaterfallOptions {
            errors_only: true,
            ..opts(100)
        };
        assert_eq!(
            names(&errors),
            [
                "GET /checkout",
                "checkout.PlaceOrder",
                "POST /api/orders",
                "db.pool.acquire",
                "INSERT orders"
            ]
        );
        // Error spans keep their ancestors even when these are fine.
        let t = build(&trace(vec![
            span("r", "", 0, 100),
            span("a", "r", 0, 50),
            {
                let mut e = span("e", "a", 10, 20);
                e.status = StatusCode::Error;
                e
            },
            span("b", "r", 60, 70),
        ]));
        let rows: Vec<String> = visible_rows(&t, &errors)
            .into_iter()
            .map(|i| t.spans()[i].span_id.clone())
            .collect();
        assert_eq!(rows, ["r", "a", "e"]);
    }

    #[test]
    fn max_rows_and_windows_of_rows() {
        let tree = build(&tempo_incident_trace());
        let all = render_rows(&tree, &opts(100), 0, usize::MAX);
        let all: Vec<&str> = all.lines().collect();
        assert_eq!(all.len(), 20);
        let window = render_rows(&tree, &opts(100), 3, 2);
        assert_eq!(window.lines().collect::<Vec<_>>(), all[3..5]);
        assert_eq!(render_rows(&tree, &opts(100), 19, 5).lines().count(), 1);
        assert_eq!(render_rows(&tree, &opts(100), 50, 5), "");
        let out = render(
            &tree,
            &WaterfallOptions {
                max_rows: Some(5),
                ..opts(100)
            },
        );
        assert!(out.contains("… 15 more rows (showing 5 of 20)"), "{out}");
        assert!(out.contains(all[4]) && !out.contains(all[5]));
    }

    #[test]
    fn anomalies_are_said_in_the_header_and_listed_below() {
        let tree = build(&trace(vec![
            span("r", "", 0, 100),
            span("o", "gone", 10, 20),
            span("k", "r", 90, 130),
            span("k", "r", 1, 2),
        ]));
        let out = render(&tree, &opts(200));
        let header = line_with(&out, "anomalies:");
        assert_eq!(
            header,
            "anomalies: 1 × orphan span (parent missing), 1 × duplicate span id, \
             1 × child outside its parent (clock skew?) (details below)"
        );
        assert!(out.contains("\nanomalies:\n  ~ span o: its parent gone is not in the trace; shown under the root\n"), "{out}");
        assert!(
            out.contains("  ~ span k runs 30ns outside its parent r"),
            "{out}"
        );
    }

    #[test]
    fn a_deep_chain_renders_a_depth_marker_not_a_wall_of_lines() {
        let spans = (0..2000i64)
            .map(|k| {
                let parent = if k == 0 {
                    String::new()
                } else {
                    format!("s{}", k - 1)
                };
                span(&format!("s{k}"), &parent, k, 10_000 - k)
            })
            .collect();
        let tree = build(&trace(spans));
        let out = render_rows(&tree, &opts(80), 1500, 1);
        assert!(out.contains("[1500] └─ svc op-s1500"), "{out}");
        assert!(measure_text_width(out.trim_end()) <= 80);
    }

    #[test]
    fn empty_trace_renders_a_header() {
        let tree = build(&trace(Vec::new()));
        let out = render(&tree, &opts(80));
        assert!(
            out.starts_with("Trace 0af7651916cd43dd8448eb211c80319c  0ns  1970-01-01"),
            "{out}"
        );
        assert!(out.contains("0 spans, no errors, 0 services"));
        let view = trace_view(&tree);
        assert_eq!(view.root, None);
        assert!(view.spans.is_empty());
    }

    #[test]
    fn trace_view_json_carries_everything_obs_trace_prints() {
        let tree = build(&tempo_incident_trace());
        let v = serde_json::to_value(trace_view(&tree)).unwrap();
        assert_eq!(v["trace_id"], "aa3683ad52e9b569c004436d55771b03");
        assert_eq!(v["duration_ms"], 1822.2);
        assert_eq!(v["span_count"], 20);
        assert_eq!(v["root"]["service"], "frontend");
        assert_eq!(v["start"], "2026-11-21T05:23:24.757521408Z");
        assert_eq!(v["services"]["checkout"], 8);
        let spans = v["spans"].as_array().unwrap();
        assert_eq!(spans[0]["name"], "GET /checkout");
        assert_eq!(spans[0]["depth"], 0);
        assert_eq!(spans[0]["parent_span_id"], serde_json::Value::Null);
        let insert = spans.iter().find(|s| s["name"] == "INSERT orders").unwrap();
        assert_eq!(insert["exception"]["type"], "__main__.PoolTimeout");
        assert_eq!(insert["status"], "error");
        assert_eq!(insert["kind"], "client");
        assert_eq!(insert["on_critical_path"], true);
        assert_eq!(insert["attributes"]["db.system"], "postgresql");
        let pool = spans
            .iter()
            .find(|s| s["name"] == "db.pool.acquire")
            .unwrap();
        assert_eq!(pool["self_time_ms"], 1495.598);
        assert_eq!(pool["critical_path_ms"], 1495.598);
        assert!(
            v["critical_path"]
                .as_array()
                .unwrap()
                .contains(&"4d591ea4fd6b5619".into())
        );
        let segs = v["critical_path_segments"].as_array().unwrap();
        assert_eq!(segs[0]["start_offset_ms"], 0.0);
        assert_eq!(v["error_spans"].as_array().unwrap().len(), 5);
        assert_eq!(v["anomalies"], serde_json::json!([]));

        let orphan = build(&trace(vec![span("r", "", 0, 10), span("o", "gone", 1, 2)]));
        let v = serde_json::to_value(trace_view(&orphan)).unwrap();
        assert_eq!(
            v["anomalies"][0],
            serde_json::json!({
                "kind": "orphan",
                "span_id": "o",
                "missing_parent": "gone",
                "shown_as_root": false,
                "message": "span o: its parent gone is not in the trace; shown under the root"
            })
        );
        assert_eq!(v["spans"][1]["parent_span_id"], "gone");
        assert_eq!(v["spans"][1]["depth"], 1);
    }

    #[test]
    fn summary_names_the_pool_and_the_exception() {
        let tree = build(&tempo_incident_trace());
        let s = summarize(&tree, 5);
        assert_eq!(s.critical_path.len(), 5);
        assert_eq!(s.critical_path[0].name, "db.pool.acquire");
        assert_eq!(s.critical_path[0].service, "checkout");
        assert_eq!(s.critical_path[1].name, "INSERT orders");
        assert_eq!(s.error_span_count, 5);
        let insert = s
            .error_spans
            .iter()
            .find(|e| e.name == "INSERT orders")
            .unwrap();
        let exc = insert.exception.as_ref().unwrap();
        assert!(exc.kind.ends_with("PoolTimeout"));
        assert!(exc.message.contains("QueuePool limit"));
        assert_eq!(s.root.as_ref().unwrap().name, "GET /checkout");
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["critical_path"][0]["critical_path_ms"], 1495.598);
        assert_eq!(v["anomalies_total"], 0);
    }
}
