//! Where each region of each view goes for a terminal size. One place, used by the renderer to
//! draw and by `update` to keep selections in view and map mouse clicks to rows, so that the
//! two never disagree.

use ratatui::layout::Rect;

use crate::tui::app::{App, View};

/// The regions every view shares: the breadcrumb on top, the status line at the bottom.
pub struct Frame {
    pub breadcrumb: Rect,
    pub body: Rect,
    pub status: Rect,
}

pub fn frame(area: Rect) -> Frame {
    let h = area.height;
    Frame {
        breadcrumb: Rect::new(area.x, area.y, area.width, h.min(1)),
        body: Rect::new(area.x, area.y + 1, area.width, h.saturating_sub(2)),
        status: Rect::new(area.x, area.y + h.saturating_sub(1), area.width, h.min(1)),
    }
}

fn take_top(r: &mut Rect, n: u16) -> Rect {
    let n = n.min(r.height);
    let top = Rect::new(r.x, r.y, r.width, n);
    r.y += n;
    r.height -= n;
    top
}

fn take_bottom(r: &mut Rect, n: u16) -> Rect {
    let n = n.min(r.height);
    r.height -= n;
    Rect::new(r.x, r.y + r.height, r.width, n)
}

pub struct Overview {
    pub header: Rect,
    pub chart: Rect,
    pub services: Rect,
    /// The candidates table: one header row, then the rows.
    pub table: Rect,
}

pub fn overview(body: Rect) -> Overview {
    let mut r = body;
    let header = take_top(&mut r, 3);
    let chart_h = (r.height * 2 / 5).clamp(3, 14);
    let chart = take_top(&mut r, chart_h);
    let services = take_top(&mut r, 1);
    Overview {
        header,
        chart,
        services,
        table: r,
    }
}

pub struct Candidate {
    pub header: Rect,
    pub chart: Rect,
    pub numbers: Rect,
}

pub fn candidate(body: Rect) -> Candidate {
    let mut r = body;
    let header = take_top(&mut r, 2);
    let numbers_h = 8.min(r.height.saturating_sub(3));
    let numbers = take_bottom(&mut r, numbers_h);
    Candidate {
        header,
        chart: r,
        numbers,
    }
}

/// A list view (traces, logs): a title line, a column header, the rows.
pub struct List {
    pub title: Rect,
    pub header: Rect,
    pub rows: Rect,
}

pub fn list(body: Rect, column_header: bool) -> List {
    let mut r = body;
    let title = take_top(&mut r, 1);
    let header = take_top(&mut r, u16::from(column_header));
    List {
        title,
        header,
        rows: r,
    }
}

pub struct Waterfall {
    pub header: Rect,
    pub columns: Rect,
    pub rows: Rect,
    pub detail: Option<Rect>,
}

pub fn waterfall(body: Rect, detail: bool) -> Waterfall {
    let mut r = body;
    let header = take_top(&mut r, 2);
    let columns = take_top(&mut r, 1);
    let detail = detail.then(|| {
        let h = (r.height / 2).max(3).min(r.height.saturating_sub(2));
        take_bottom(&mut r, h)
    });
    Waterfall {
        header,
        columns,
        rows: r,
        detail,
    }
}

fn full(app: &App) -> Rect {
    Rect::new(0, 0, app.width, app.height)
}

/// The rows region of `view`'s list at the app's terminal size.
fn rows_rect(app: &App, view: View) -> Rect {
    let body = frame(full(app)).body;
    match view {
        View::Overview | View::Candidate => {
            let t = overview(body).table;
            Rect::new(t.x, t.y + 1, t.width, t.height.saturating_sub(1))
        }
        View::Traces => list(body, true).rows,
        View::Logs => list(body, false).rows,
        View::Waterfall => {
            let detail = app.waterfall.as_ref().is_some_and(|w| w.detail);
            waterfall(body, detail).rows
        }
    }
}

/// How many rows of `view`'s list are on screen (at least 1, so paging always moves).
pub fn list_rows(app: &App, view: View) -> usize {
    usize::from(rows_rect(app, view).height).max(1)
}

/// Which row of the current list a click at screen row `y` hits, counted from the first row
/// drawn.
pub fn list_row_at(app: &App, y: u16) -> Option<usize> {
    let r = rows_rect(app, app.view());
    (y >= r.y && y < r.y + r.height).then(|| usize::from(y - r.y))
}
