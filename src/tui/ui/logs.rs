//! The logs of a trace or of one span: time, service, severity (written out and coloured),
//! body; long lines wrapped or cut (`w`). Only the lines on screen are laid out.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::{App, Loading};
use crate::tui::ui::{Theme, clock, fit, layout, loading};

pub fn render(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let l = layout::list(area, false);
    let logs = &app.logs;
    let scope = match (&logs.span, &logs.trace_id) {
        (Some(s), Some(t)) => format!("span {} of trace {}", s.name, crate::tui::ui::short_id(t)),
        (None, Some(t)) => format!("trace {t}"),
        _ => "no trace".to_string(),
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("{} lines", logs.lines.len()), theme.bold()),
            Span::raw(format!(" · {scope}")),
            Span::styled(
                format!(" · {} (w)", if logs.wrap { "wrapped" } else { "cut" }),
                theme.dim(),
            ),
        ])),
        l.title,
    );
    if logs.loading != Loading::Idle {
        loading(frame, app, theme, l.rows, &logs.loading);
        return;
    }
    if logs.lines.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "no log lines for this trace in its window",
                theme.dim(),
            )),
            l.rows,
        );
        return;
    }
    let service_w = logs
        .lines
        .iter()
        .map(|r| r.service.as_deref().unwrap_or("-").chars().count())
        .max()
        .unwrap_or(1)
        .min(16);
    let width = usize::from(area.width);
    let mut lines = Vec::new();
    for (k, r) in logs
        .lines
        .iter()
        .skip(logs.list.top)
        .take(usize::from(l.rows.height))
        .enumerate()
    {
        let severity = r.severity.as_deref().unwrap_or("-");
        let service = r.service.as_deref().unwrap_or("-");
        let prefix_w = 12 + 1 + service_w + 1 + 5 + 1;
        let body = r.body.replace('\n', "\\n");
        let body = if logs.wrap {
            body
        } else {
            fit(&body, width.saturating_sub(prefix_w))
        };
        let mut line = Line::from(vec![
            Span::styled(
                format!("{} ", clock(r.timestamp_unix_nano, &app.time_zone)),
                theme.dim(),
            ),
            Span::styled(
                format!("{:<service_w$} ", fit(service, service_w)),
                theme.service(service),
            ),
            Span::styled(
                format!("{:<5} ", fit(&severity.to_uppercase(), 5)),
                theme.severity(r.severity.as_deref()),
            ),
            Span::raw(body),
        ]);
        if logs.list.top + k == logs.list.selected {
            line = line.style(theme.selected());
        }
        lines.push(line);
    }
    let mut p = Paragraph::new(lines);
    if logs.wrap {
        p = p.wrap(Wrap { trim: false });
    }
    frame.render_widget(p, l.rows);
}
