//! The traces: the report's followed traces and exemplars, or a store's newest traces, sorted
//! and filtered as the title line says.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::analysis::spantree::format_nanos;
use crate::tui::app::{App, Loading, Mode};
use crate::tui::ui::{Theme, clock, fit, layout};

pub fn render(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let l = layout::list(area, true);
    let rows = app.visible_traces();
    let mut title = vec![
        Span::styled(format!("{} traces", rows.len()), theme.bold()),
        Span::raw(format!(" · sorted by {} (s)", app.trace_sort.label())),
        Span::raw(format!(
            " · service {} (f)",
            app.service_filter.as_deref().unwrap_or("all")
        )),
    ];
    if let Some(f) = &app.exemplar_filter {
        title.push(Span::raw(format!(
            " · exemplars of {}",
            f.get("__name__").map_or("the candidate", String::as_str)
        )));
    }
    frame.render_widget(Paragraph::new(Line::from(title)), l.title);
    let width = usize::from(area.width);
    let wide = width >= 100;
    let id_w = if wide { 32 } else { 17 };
    let fixed = 8 + id_w + 1 + 9 + 6 + 5 + if wide { 13 + 9 } else { 0 };
    let root_w = width.saturating_sub(fixed).max(6);
    let head = if wide {
        format!(
            "{:<7} {:<id_w$} {:<root_w$} {:>8} {:>5} {:>4} {:<12} {:<8}",
            "KIND", "TRACE ID", "ROOT", "DURATION", "SPANS", "ERR", "START", "FROM"
        )
    } else {
        format!(
            "{:<7} {:<id_w$} {:<root_w$} {:>8} {:>5} {:>4}",
            "KIND", "TRACE ID", "ROOT", "DURATION", "SPANS", "ERR"
        )
    };
    frame.render_widget(Paragraph::new(Line::styled(head, theme.dim())), l.header);
    if rows.is_empty() {
        let text = match (&app.mode, &app.store_loading) {
            (Mode::Store { .. }, Loading::InFlight { .. }) => "reading the store…".to_string(),
            (Mode::Store { .. }, _) => {
                "no traces in the store yet: it refreshes while a sink writes to it".to_string()
            }
            _ if app.exemplar_filter.is_some() || app.service_filter.is_some() => {
                "no trace matches the filter: f cycles the service filter".to_string()
            }
            _ => {
                "no traces in this report: no exemplars, and no trace search found any".to_string()
            }
        };
        frame.render_widget(Paragraph::new(Span::styled(text, theme.dim())), l.rows);
        return;
    }
    let list = &app.trace_list;
    let mut lines = Vec::new();
    for (k, t) in rows
        .iter()
        .skip(list.top)
        .take(usize::from(l.rows.height))
        .enumerate()
    {
        let kind_style = if t.kind == "error" {
            theme.error()
        } else {
            theme.dim()
        };
        let marker = if t.kind == "error" { "!" } else { " " };
        let duration = if t.duration_ms.is_finite() {
            format_nanos((t.duration_ms * 1e6).round() as i64)
        } else {
            "-".into()
        };
        let id = if wide {
            t.trace_id.clone()
        } else {
            crate::tui::ui::short_id(&t.trace_id)
        };
        let mut spans = vec![
            Span::styled(format!("{marker}{:<6}", t.kind), kind_style),
            Span::raw(format!(" {:<id_w$} ", id)),
            Span::raw(format!(
                "{:<root_w$}",
                fit(t.root.as_deref().unwrap_or("(not fetched)"), root_w)
            )),
            Span::raw(format!(
                " {:>8} {:>5} {:>4}",
                duration,
                t.spans.map_or("-".into(), |n| n.to_string()),
                t.errors.map_or("-".into(), |n| n.to_string()),
            )),
        ];
        if wide {
            spans.push(Span::raw(format!(
                " {:<12} {:<8}",
                clock(t.start_unix_nano, &app.time_zone),
                t.origin
            )));
        }
        let mut line = Line::from(spans);
        if list.top + k == list.selected {
            line = line.style(theme.selected());
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), l.rows);
}
