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
    // List movement and the view jumps take one row each, so the help fits 80×24.
    let mut rows: Vec<(String, String)> = keys::bindings(view)
        .into_iter()
        .filter(|b| !b.keys.is_empty() && !keys::is_list(b) && !keys::is_jump(b))
        .map(|b| (b.keys.to_string(), b.help.to_string()))
        .collect();
    if view != crate::tui::app::View::Candidate {
        rows.push((
            "j k g G".into(),
            "move (↓ ↑ Home End too); PgDn PgUp Ctrl-D Ctrl-U page".into(),
        ));
    }
    rows.push((
        "1 2 3 4".into(),
        "overview, traces, last waterfall, last logs".into(),
    ));
    let key_w = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(4);
    let mut lines: Vec<Line> = rows
        .into_iter()
        .map(|(k, h)| {
            Line::from(vec![
                Span::styled(format!(" {k:<key_w$}  "), theme.bold()),
                Span::raw(h),
            ])
        })
        .collect();
    lines.push(Line::styled(
        " mouse: wheel scrolls, click selects a row",
        theme.dim(),
    ));
    // Two columns when one does not fit the height.
    let col_w = lines.iter().map(Line::width).max().unwrap_or(20) + 1;
    let two =
        lines.len() + 2 > usize::from(area.height) && 2 * col_w + 2 <= usize::from(area.width);
    let columns = if two { 2 } else { 1 };
    let per_column = lines.len().div_ceil(columns).max(1);
    let width = (columns * col_w + 2).min(usize::from(area.width)) as u16;
    let height = (per_column as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, r);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(format!(" keys: {} (any key closes) ", view.title()));
    let inner = block.inner(r);
    frame.render_widget(block, r);
    for (c, chunk) in lines.chunks(per_column).enumerate() {
        let x = inner.x + (c * col_w) as u16;
        let w = (col_w as u16).min(inner.right().saturating_sub(x));
        frame.render_widget(
            Paragraph::new(chunk.to_vec()),
            Rect::new(x, inner.y, w, inner.height),
        );
    }
}
