//! One trace's waterfall, virtualised: only the rows on screen are laid out (with the text
//! waterfall's own row parts and bars, `report::waterfall`), so a 100 000-span trace draws as
//! fast as a small one. Columns: critical-path and error marks, offset, duration, self time,
//! the tree and the span, and its bar on the trace's time axis; a detail pane below on demand.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::analysis::spantree::{SpanTree, format_nanos};
use crate::report::waterfall::{Rows, bar_runs};
use crate::tui::app::{App, WaterfallState};
use crate::tui::ui::{Theme, fit, layout, loading};

/// Column widths for a terminal width: narrow terminals lose the bar, then the self time and
/// the offset; the span column always stays.
struct Columns {
    offset: bool,
    self_time: bool,
    label: usize,
    bar: usize,
}

const MARKS: usize = 3;
const TIME: usize = 8;

fn columns(width: usize) -> Columns {
    if width >= 70 {
        let avail = width - MARKS - 3 * TIME;
        let bar = avail / 3;
        Columns {
            offset: true,
            self_time: true,
            label: avail - bar - 1,
            bar,
        }
    } else if width >= 45 {
        Columns {
            offset: true,
            self_time: false,
            label: width - MARKS - 2 * TIME,
            bar: 0,
        }
    } else {
        Columns {
            offset: false,
            self_time: false,
            label: width.saturating_sub(MARKS + TIME).max(1),
            bar: 0,
        }
    }
}

pub fn render(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(w) = &app.waterfall else {
        frame.render_widget(Paragraph::new("no trace opened"), area);
        return;
    };
    let l = layout::waterfall(area, w.detail);
    let (Some(tree), Some(rows)) = (&w.tree, &w.rows) else {
        frame.render_widget(
            Paragraph::new(Line::styled(format!("Trace {}", w.trace_id), theme.bold())),
            l.header,
        );
        let body = Rect::new(
            area.x,
            l.columns.y,
            area.width,
            area.height.saturating_sub(2),
        );
        loading(frame, app, theme, body, &w.loading);
        return;
    };
    header(frame, tree, w, theme, l.header);
    let width = usize::from(area.width);
    let cols = columns(width);
    frame.render_widget(Paragraph::new(column_header(tree, &cols, theme)), l.columns);
    if rows.spans().is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("this trace has no spans", theme.dim())),
            l.rows,
        );
        return;
    }
    let height = usize::from(l.rows.height);
    let mut lines = Vec::with_capacity(height);
    for (k, &i) in rows
        .spans()
        .iter()
        .skip(w.list.top)
        .take(height)
        .enumerate()
    {
        let selected = w.list.top + k == w.list.selected;
        let matched = w.search.is_some() && w.is_match.get(i).copied().unwrap_or(false);
        lines.push(row(tree, rows, w, &cols, theme, i, selected, matched));
    }
    frame.render_widget(Paragraph::new(lines), l.rows);
    if let (Some(r), Some(i)) = (l.detail, w.selected_span()) {
        detail(frame, app, tree, i, theme, r);
    }
}

fn header(frame: &mut Frame, tree: &SpanTree, w: &WaterfallState, theme: &Theme, area: Rect) {
    let width = usize::from(area.width);
    let mut first = vec![Span::styled(
        format!("Trace {}", tree.trace_id()),
        theme.bold(),
    )];
    if let Some(r) = tree.root() {
        let s = &tree.spans()[r];
        first.push(Span::raw("  "));
        first.push(Span::styled(s.service.clone(), theme.service(&s.service)));
        first.push(Span::raw(format!(" {}", s.name)));
    }
    first.push(Span::styled(
        format!("  {}", format_nanos(tree.duration_nanos())),
        theme.bold(),
    ));
    let errors = w.errors;
    let path: Vec<String> = w
        .critical
        .iter()
        .map(|&(i, t)| format!("{} {}", tree.spans()[i].name, format_nanos(t)))
        .collect();
    let mut second = vec![
        Span::raw(format!("{} spans, ", tree.len())),
        Span::styled(
            match errors {
                0 => "no errors".to_string(),
                1 => "1 error".to_string(),
                n => format!("{n} errors"),
            },
            if errors > 0 {
                theme.error()
            } else {
                Style::new()
            },
        ),
        Span::raw(format!(", {} services", w.services)),
    ];
    if !path.is_empty() {
        second.push(Span::raw(" · "));
        second.push(Span::styled("critical path ", theme.critical()));
        second.push(Span::raw(fit(&path.join(", "), width / 2)));
    }
    if let Some(q) = &w.search {
        second.push(Span::styled(
            format!(" · /{q}: {} matches", w.matches.len()),
            theme.dim(),
        ));
    }
    if !tree.anomalies().is_empty() {
        second.push(Span::styled(
            format!(" · {} anomalies", tree.anomalies().len()),
            theme.warn(),
        ));
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]),
        area,
    );
}

fn column_header<'a>(tree: &SpanTree, cols: &Columns, theme: &Theme) -> Line<'a> {
    let mut s = " ".repeat(MARKS);
    if cols.offset {
        s.push_str(&format!("{:>7} ", "OFFSET"));
    }
    s.push_str(&format!("{:>7} ", "DUR"));
    if cols.self_time {
        s.push_str(&format!("{:>7} ", "SELF"));
    }
    s.push_str(&format!("{:<w$}", "SPAN", w = cols.label));
    if cols.bar > 0 {
        let end = format_nanos(tree.duration_nanos());
        s.push(' ');
        s.push('0');
        s.push_str(&" ".repeat(cols.bar.saturating_sub(end.chars().count() + 1)));
        s.push_str(&end);
    }
    Line::styled(s, theme.dim())
}

#[expect(
    clippy::too_many_arguments,
    reason = "one row's inputs, all needed to draw it"
)]
fn row<'a>(
    tree: &SpanTree,
    rows: &Rows,
    w: &WaterfallState,
    cols: &Columns,
    theme: &Theme,
    i: usize,
    selected: bool,
    matched: bool,
) -> Line<'a> {
    let p = rows.parts(tree, i, cols.label);
    let mut spans = Vec::with_capacity(12);
    spans.push(if p.on_critical_path {
        Span::styled("*", theme.critical())
    } else {
        Span::raw(" ")
    });
    spans.push(if p.error {
        Span::styled("!", theme.error())
    } else {
        Span::raw(" ")
    });
    spans.push(Span::raw(" "));
    if cols.offset {
        spans.push(Span::styled(format!("{:>7} ", p.offset), theme.dim()));
    }
    spans.push(Span::raw(format!("{:>7} ", p.duration)));
    if cols.self_time {
        spans.push(Span::styled(
            format!("{:>7} ", format_nanos(tree.self_time_nanos(i))),
            theme.dim(),
        ));
    }
    // The label: tree lines, a collapse marker, service, operation, error hint; cut to fit.
    let has_children = !tree.children(i).is_empty();
    let fold = match (has_children, w.collapsed.get(i).copied().unwrap_or(false)) {
        (true, true) => "▸ ",
        (true, false) => "▾ ",
        (false, _) => "",
    };
    let hidden = if w.collapsed.get(i).copied().unwrap_or(false) {
        format!(" (+{})", w.subtree.get(i).copied().unwrap_or(1) - 1)
    } else {
        String::new()
    };
    let parts: Vec<(String, Style)> = vec![
        (p.prefix.clone(), theme.dim()),
        (fold.to_string(), Style::new()),
        (p.service.clone(), theme.service(&p.service)),
        (format!(" {}", p.name), Style::new()),
        (hidden, theme.dim()),
        (
            p.hint
                .as_ref()
                .map(|h| format!(" ✗ {h}"))
                .unwrap_or_default(),
            theme.error(),
        ),
    ];
    let mut room = cols.label;
    for (text, style) in parts {
        if room == 0 {
            break;
        }
        let width = console::measure_text_width(&text);
        if width <= room {
            room -= width;
            spans.push(Span::styled(text, style));
        } else {
            spans.push(Span::styled(fit(&text, room), style));
            room = 0;
        }
    }
    if cols.bar > 0 {
        spans.push(Span::raw(" ".repeat(room + 1)));
        let mut at = 0;
        for run in bar_runs(tree, i, cols.bar) {
            if run.start > at {
                spans.push(Span::raw(" ".repeat(run.start - at)));
            }
            let (ch, style) = if run.critical {
                ('█', theme.critical())
            } else {
                ('▒', theme.service(&p.service))
            };
            spans.push(Span::styled(
                std::iter::repeat_n(ch, run.len).collect::<String>(),
                style,
            ));
            at = run.start + run.len;
        }
    }
    let mut line = Line::from(spans);
    if matched {
        line = line.style(Style::new().add_modifier(Modifier::UNDERLINED));
    }
    if selected {
        line = line.style(theme.selected());
    }
    line
}

fn value_text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Everything about one span: ids, timing, status, attributes, events (exceptions with their
/// stack), links, resource and scope.
fn detail(frame: &mut Frame, app: &App, tree: &SpanTree, i: usize, theme: &Theme, area: Rect) {
    let s = &tree.spans()[i];
    let t0 = tree.start_unix_nano();
    let mut lines: Vec<Line> = Vec::new();
    let head = |t: &str| Span::styled(t.to_string(), theme.bold());
    lines.push(Line::from(vec![
        Span::styled(s.service.clone(), theme.service(&s.service)),
        Span::raw(format!(" {}", s.name)),
        Span::styled(
            format!("  span {}  {:?}", s.span_id, s.kind).to_lowercase(),
            theme.dim(),
        ),
    ]));
    lines.push(Line::from(format!(
        "start +{} · duration {} · self {} · on the critical path {}",
        format_nanos(s.start_unix_nano.saturating_sub(t0)),
        format_nanos(tree.end_unix_nano(i).saturating_sub(s.start_unix_nano)),
        format_nanos(tree.self_time_nanos(i)),
        format_nanos(tree.critical_path_nanos(i)),
    )));
    let status = format!("{:?}", s.status).to_lowercase();
    let mut st = vec![
        head("status "),
        Span::styled(
            status,
            if s.is_error() {
                theme.error()
            } else {
                Style::new()
            },
        ),
    ];
    if !s.status_message.is_empty() {
        st.push(Span::raw(format!(": {}", s.status_message)));
    }
    lines.push(Line::from(st));
    if !s.attributes.is_empty() {
        lines.push(Line::from(head("attributes")));
        for (k, v) in &s.attributes {
            lines.push(Line::from(format!("  {k} = {}", value_text(v))));
        }
    }
    if !s.events.is_empty() {
        lines.push(Line::from(head("events")));
        for e in &s.events {
            let at = format_nanos(e.time_unix_nano.saturating_sub(t0));
            if e.name == "exception" {
                let get = |k: &str| e.attributes.get(k).map(value_text).unwrap_or_default();
                lines.push(Line::from(vec![
                    Span::raw(format!("  +{at} ")),
                    Span::styled(format!("✗ {}", get("exception.type")), theme.error()),
                    Span::raw(format!(": {}", get("exception.message"))),
                ]));
                for l in get("exception.stacktrace").lines() {
                    lines.push(Line::styled(format!("      {l}"), theme.dim()));
                }
            } else {
                let attrs: Vec<String> = e
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={}", value_text(v)))
                    .collect();
                lines.push(Line::from(format!(
                    "  +{at} {} {}",
                    e.name,
                    attrs.join(" ")
                )));
            }
        }
    }
    if !s.links.is_empty() {
        lines.push(Line::from(head("links")));
        for l in &s.links {
            lines.push(Line::from(format!(
                "  trace {} span {}",
                l.trace_id, l.span_id
            )));
        }
    }
    if !s.resource.is_empty() || s.scope.is_some() {
        lines.push(Line::from(head("resource")));
        for (k, v) in &s.resource {
            lines.push(Line::from(format!("  {k} = {}", value_text(v))));
        }
        if let Some(scope) = &s.scope {
            lines.push(Line::from(format!("  scope {scope}")));
        }
    }
    let _ = app;
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::new().borders(Borders::TOP).border_style(theme.dim())),
        area,
    );
}
