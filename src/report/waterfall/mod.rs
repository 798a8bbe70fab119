//! The terminal waterfall of one trace (`obs trace`), and the trace's JSON views: the full
//! [`TraceView`] (`obs trace -o json`) and the short [`TraceSummaryView`] that investigate puts
//! in its report's `traces[]`.
//!
//! Reads a [`SpanTree`]; never queries, never touches the terminal (the caller passes the width
//! and whether to colour). Every line fits the given width, down to a few columns; a
//! 100 000-span trace renders only the rows asked for ([`render_rows`]), so a pager or the TUI
//! can scroll through it.
//!
//! Here: the options and the whole render (header, rows, errors, anomalies); `rows` lays out
//! the columns and draws one span's row and bar; `view` builds the JSON views.

mod rows;
#[cfg(test)]
mod tests;
mod view;

use std::fmt::Write as _;

use console::{Color, Style, truncate_str};

use crate::analysis::spantree::{Anomaly, SpanTree, format_nanos};

use rows::{Layout, Visible, column_header, row};

pub use view::{
    AnomalyView, CriticalSegmentView, CriticalView, ErrorSpanView, ExceptionView, RootView,
    SpanView, TraceSummaryView, TraceView, summarize, trace_view,
};

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
    let visible = Visible::new(tree, opts);
    let shown = opts
        .max_rows
        .map_or(visible.rows.len(), |m| m.min(visible.rows.len()));
    let layout = Layout::new(width);
    out.push('\n');
    out.push_str(&column_header(tree, &layout, &st));
    for &i in &visible.rows[..shown] {
        out.push_str(&row(tree, &visible, &layout, &st, i));
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
    let visible = Visible::new(tree, opts);
    let layout = Layout::new(width);
    let from = first_row.min(visible.rows.len());
    let to = from.saturating_add(rows).min(visible.rows.len());
    let mut out = String::new();
    for &i in &visible.rows[from..to] {
        out.push_str(&row(tree, &visible, &layout, &st, i));
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
        // FNV-1a: std's hasher is randomly seeded per process.
        let hash = service.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let color = PALETTE[(hash % PALETTE.len() as u64) as usize];
        Style::new().fg(color).force_styling(self.color)
    }

    fn service(&self, service: &str) -> String {
        self.service_style(service).apply_to(service).to_string()
    }
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
