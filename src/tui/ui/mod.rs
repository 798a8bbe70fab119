//! Drawing: one pure function per region, from an [`App`] to a frame. Nothing here waits,
//! locks, fetches or changes state; big data (a 100 000-span waterfall, thousands of log lines)
//! is drawn only for the rows on screen.
//!
//! Meaning never rides on colour alone: critical-path and error rows carry `*` and `!`, the
//! selection is reversed, severities are written out; monochrome mode (`NO_COLOR`,
//! `--color never`) drops the colours and keeps all of that.

mod candidate;
mod chart;
mod help;
pub mod layout;
mod logs;
mod overview;
mod traces;
mod waterfall;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::report::SourceState;
use crate::tui::app::{App, Loading, Mode, View};
use crate::tui::{MIN_HEIGHT, MIN_WIDTH};

/// Draws the whole screen.
pub fn render(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    let theme = Theme::new(app.monochrome);
    let regions = layout::frame(area);
    breadcrumb(frame, app, &theme, regions.breadcrumb);
    match app.view() {
        View::Overview => overview::render(frame, app, &theme, regions.body),
        View::Candidate => candidate::render(frame, app, &theme, regions.body),
        View::Traces => traces::render(frame, app, &theme, regions.body),
        View::Waterfall => waterfall::render(frame, app, &theme, regions.body),
        View::Logs => logs::render(frame, app, &theme, regions.body),
    }
    status(frame, app, &theme, regions.status);
    if app.help {
        help::render(frame, app, &theme, area);
    }
}

fn too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("terminal too small"),
        Line::from(format!(
            "{}×{}: obs needs at least {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::from("enlarge the window, or press Q to quit"),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let r = Rect::new(area.x, area.y + top, area.width, area.height - top);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        r,
    );
}

/// Colours and emphasis; in monochrome only emphasis (bold, reversed, dim) is left.
pub struct Theme {
    pub mono: bool,
}

const SERVICE_PALETTE: [Color; 6] = [
    Color::Cyan,
    Color::Green,
    Color::Blue,
    Color::Magenta,
    Color::Indexed(208),
    Color::Indexed(67),
];

impl Theme {
    pub fn new(mono: bool) -> Theme {
        Theme { mono }
    }

    fn fg(&self, c: Color) -> Style {
        if self.mono {
            Style::new()
        } else {
            Style::new().fg(c)
        }
    }

    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        if self.mono {
            Style::new()
        } else {
            Style::new().fg(Color::DarkGray)
        }
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn critical(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The same colour for a service everywhere (and as the text waterfall uses).
    pub fn service(&self, service: &str) -> Style {
        let i = crate::report::waterfall::service_hash(service) % SERVICE_PALETTE.len() as u64;
        self.fg(SERVICE_PALETTE[i as usize])
    }

    pub fn severity(&self, severity: Option<&str>) -> Style {
        let s = severity.unwrap_or("").to_ascii_lowercase();
        if ["err", "fatal", "crit", "panic", "emerg", "alert"]
            .iter()
            .any(|w| s.starts_with(w))
        {
            self.error()
        } else if s.starts_with("warn") {
            self.warn()
        } else if s.starts_with("debug") || s.starts_with("trace") {
            self.dim()
        } else {
            Style::new()
        }
    }
}

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

fn spinner(app: &App) -> &'static str {
    SPINNER[(app.ticks % SPINNER.len() as u64) as usize]
}

/// `obs › overview › candidate › …` on the left; what is loading and `? help` on the right.
fn breadcrumb(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut spans = vec![Span::styled("obs", theme.bold())];
    if let Mode::Store { path } = &app.mode {
        spans.push(Span::raw(format!(" {path}")));
    }
    for (i, view) in app.stack.iter().enumerate() {
        spans.push(Span::styled(" › ", theme.dim()));
        let mut label = view.title().to_string();
        match view {
            View::Candidate => {
                if let Some(c) = app
                    .report
                    .as_ref()
                    .and_then(|r| r.correlations.get(app.candidate))
                {
                    label = format!("#{} {}", c.rank, c.metric);
                }
            }
            View::Waterfall => {
                if let Some(w) = &app.waterfall {
                    label = format!("trace {}", short_id(&w.trace_id));
                }
            }
            View::Logs => {
                label = match &app.logs.span {
                    Some(s) => format!("logs of {}", s.name),
                    None => "logs of the trace".to_string(),
                };
            }
            View::Overview | View::Traces => {}
        }
        let style = if i + 1 == app.stack.len() {
            theme.bold()
        } else {
            Style::new()
        };
        spans.push(Span::styled(label, style));
    }
    let right = if app.busy() {
        format!("{} loading  ? help", spinner(app))
    } else {
        "? help".to_string()
    };
    let right_w = right.chars().count() as u16;
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    if area.width > right_w + 20 {
        let r = Rect::new(area.x + area.width - right_w, area.y, right_w, 1);
        frame.render_widget(Paragraph::new(Span::styled(right, theme.dim())), r);
    }
}

/// The bottom line: an inline message if there is one, else the sources' states and warnings.
fn status(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let line = if let Some(input) = &app.search_input {
        Line::from(vec![
            Span::styled("/", theme.bold()),
            Span::raw(input.clone()),
            Span::styled("█", theme.dim()),
            Span::styled("  Enter search · Esc cancel", theme.dim()),
        ])
    } else if let Some(m) = &app.message {
        Line::from(Span::styled(m.clone(), theme.bold()))
    } else {
        let mut spans: Vec<Span> = Vec::new();
        match &app.report {
            Some(report) => {
                for (i, s) in report.sources.iter().enumerate() {
                    if i > 0 {
                        spans.push(Span::styled(" · ", theme.dim()));
                    }
                    spans.push(Span::raw(format!("{} {} ", s.signal, s.kind)));
                    match s.status {
                        SourceState::Ok => spans.push(Span::styled("ok", theme.ok())),
                        SourceState::Error => spans.push(Span::styled(
                            format!("error: {}", s.error.as_deref().unwrap_or("failed")),
                            theme.error(),
                        )),
                    }
                }
                match report.warnings.len() {
                    0 => {}
                    n => {
                        spans.push(Span::styled(" · ", theme.dim()));
                        spans.push(Span::styled(
                            format!(
                                "{n} warning{}: {}",
                                if n == 1 { "" } else { "s" },
                                report.warnings[0]
                            ),
                            theme.warn(),
                        ));
                    }
                }
            }
            None => {
                spans.push(Span::raw(format!("{} traces", app.traces.len())));
                match &app.store_loading {
                    Loading::Failed(e) => {
                        spans.push(Span::styled(" · ", theme.dim()));
                        spans.push(Span::styled(e.clone(), theme.error()));
                    }
                    _ => spans.push(Span::styled(
                        format!(
                            " · refreshed every {}s",
                            app.refresh_ticks * crate::tui::TICK.as_millis() as u64 / 1000
                        ),
                        theme.dim(),
                    )),
                }
            }
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The first 16 characters of a trace id and `…`, as Jaeger lists them.
pub fn short_id(id: &str) -> String {
    if id.chars().count() > 16 {
        format!("{}…", id.chars().take(16).collect::<String>())
    } else {
        id.to_string()
    }
}

/// `text` cut to `width` columns with `…`.
pub fn fit(text: &str, width: usize) -> String {
    console::truncate_str(text, width, "…").into_owned()
}

/// Local time of day with milliseconds.
pub fn clock(nanos: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(nanos))
        .map(|t| t.to_zoned(tz.clone()).strftime("%H:%M:%S%.3f").to_string())
        .unwrap_or_else(|_| "--:--:--".into())
}

/// A loading or failed fetch in the middle of a region.
pub fn loading(frame: &mut Frame, app: &App, theme: &Theme, area: Rect, state: &Loading) {
    let line = match state {
        Loading::InFlight { what, .. } => Line::from(vec![
            Span::raw(format!("{} loading {what}…", spinner(app))),
            Span::styled("  (q goes back)", theme.dim()),
        ]),
        Loading::Failed(e) => Line::from(Span::styled(e.clone(), theme.error())),
        Loading::Idle => return,
    };
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), area);
}

#[cfg(test)]
mod tests;
