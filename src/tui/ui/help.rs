//! `?`: every key of the current view, from the same table that maps the keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::keys;
use crate::tui::ui::Theme;

pub fn render(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let view = app.view();
    let bindings: Vec<_> = keys::bindings(view)
        .into_iter()
        .filter(|b| !b.keys.is_empty())
        .collect();
    let key_w = bindings.iter().map(|b| b.keys.chars().count()).max().unwrap_or(4);
    let mut lines: Vec<Line> = bindings
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!(" {:<key_w$}  ", b.keys), theme.bold()),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::styled(" mouse: wheel scrolls, click selects a row", theme.dim()));
    let width = (lines.iter().map(Line::width).max().unwrap_or(20) + 3)
        .min(usize::from(area.width)) as u16;
    let height = (lines.len() as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::new()
                .borders(Borders::ALL)
                .title(format!(" keys: {} (any key closes) ", view.title())),
        ),
        r,
    );
}
