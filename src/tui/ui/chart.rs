//! A terminal chart of one series on the report's step grid: a column of eighth-blocks per
//! slice of points (its maximum), a threshold line `╌`, a baseline line `·`, and labelled
//! vertical markers (`onset`, `peak`); optionally a second series as `•` points on the same
//! height, both normalised. Characters, not colours, tell the lines apart.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::tui::ui::Theme;

const EIGHTHS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

pub struct Chart<'a> {
    pub values: &'a [f64],
    /// Drawn as points over the bars; with `overlay`, both series are scaled to their own
    /// range (the y labels are then the first series').
    pub overlay: Option<&'a [f64]>,
    pub threshold: Option<f64>,
    pub baseline: Option<f64>,
    /// `(index into values, label)`.
    pub markers: Vec<(usize, String)>,
    /// Under the chart: left, right.
    pub x_labels: (String, String),
    /// How a y value is written (`12.5%`).
    pub format: fn(f64) -> String,
}

fn range(values: &[f64]) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    lo.is_finite().then_some((lo, hi))
}

/// The maximum of each of `columns` slices of `values` (NaN where a slice has no value).
fn columns(values: &[f64], columns: usize) -> Vec<f64> {
    (0..columns)
        .map(|c| {
            if values.is_empty() {
                return f64::NAN;
            }
            let a = c * values.len() / columns;
            let b = ((c + 1) * values.len() / columns)
                .max(a + 1)
                .min(values.len());
            values[a.min(values.len() - 1)..b]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(f64::NAN, f64::max)
        })
        .collect()
}

fn set(buf: &mut Buffer, x: u16, y: u16, c: char, style: Style) {
    if let Some(cell) = buf.cell_mut((x, y)) {
        cell.set_char(c).set_style(style);
    }
}

fn is_blank(buf: &Buffer, x: u16, y: u16) -> bool {
    buf.cell((x, y)).is_some_and(|c| c.symbol() == " ")
}

pub fn render(frame: &mut Frame, theme: &Theme, area: Rect, chart: &Chart) {
    if area.height < 2 || area.width < 12 {
        return;
    }
    let Some((lo, hi)) = range(chart.values) else {
        frame.render_widget(
            ratatui::widgets::Paragraph::new("no samples to draw").style(theme.dim()),
            area,
        );
        return;
    };
    let normalised = chart.overlay.is_some();
    // A chart of a rate starts at zero; a normalised pair spans each series' own range.
    let (y0, mut y1) = if normalised {
        (lo, hi)
    } else {
        (lo.min(0.0), hi)
    };
    if let Some(t) = chart.threshold.filter(|_| !normalised) {
        y1 = y1.max(t);
    }
    if y1 - y0 <= f64::EPSILON * y1.abs().max(1.0) {
        y1 = y0 + 1.0;
    }
    let top_label = (chart.format)(y1);
    let bottom_label = (chart.format)(y0);
    let axis_w = (top_label.chars().count().max(bottom_label.chars().count()) + 1) as u16;
    let plot = Rect::new(
        area.x + axis_w,
        area.y,
        area.width.saturating_sub(axis_w),
        area.height - 1,
    );
    let rows = plot.height;
    let cols = usize::from(plot.width);
    let buf = frame.buffer_mut();
    let label_style = theme.dim();
    buf.set_string(area.x, plot.y, &top_label, label_style);
    buf.set_string(area.x, plot.y + rows - 1, &bottom_label, label_style);

    let level = |v: f64| -> f64 { ((v - y0) / (y1 - y0)).clamp(0.0, 1.0) * f64::from(rows) };
    // Bars.
    let bar_style = if normalised {
        theme.dim()
    } else {
        theme.accent()
    };
    for (c, v) in columns(chart.values, cols).into_iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        let eighths = (level(v) * 8.0).round() as u32;
        let eighths = if v > y0 { eighths.max(1) } else { eighths };
        let x = plot.x + c as u16;
        for r in 0..u32::from(rows) {
            let filled = eighths.saturating_sub(r * 8).min(8);
            if filled == 0 {
                break;
            }
            let y = plot.y + rows - 1 - r as u16;
            set(buf, x, y, EIGHTHS[(filled - 1) as usize], bar_style);
        }
        if eighths == 0 {
            set(buf, x, plot.y + rows - 1, '▁', theme.dim());
        }
    }
    // Horizontal lines, where no bar is drawn.
    let mut hline = |value: f64, ch: char, style: Style| {
        let y = plot.y + rows - 1 - (level(value).floor() as u16).min(rows - 1);
        for x in plot.x..plot.x + plot.width {
            if is_blank(buf, x, y) {
                set(buf, x, y, ch, style);
            }
        }
    };
    if !normalised {
        if let Some(t) = chart.threshold {
            hline(t, '╌', theme.error());
        }
        if let Some(b) = chart.baseline.filter(|b| *b > y0) {
            hline(b, '·', theme.ok());
        }
    }
    // The second series as points.
    if let Some(overlay) = chart.overlay
        && let Some((olo, ohi)) = range(overlay)
    {
        let span = if ohi - olo <= f64::EPSILON * ohi.abs().max(1.0) {
            1.0
        } else {
            ohi - olo
        };
        for (c, v) in columns(overlay, cols).into_iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            let r = (((v - olo) / span) * f64::from(rows - 1)).round() as u16;
            set(
                buf,
                plot.x + c as u16,
                plot.y + rows - 1 - r.min(rows - 1),
                '•',
                theme.critical(),
            );
        }
    }
    // Vertical markers with their labels on the top row.
    let n = chart.values.len().max(1);
    for (index, label) in &chart.markers {
        let c = (index * cols / n).min(cols.saturating_sub(1)) as u16;
        let x = plot.x + c;
        for y in plot.y..plot.y + rows {
            if is_blank(buf, x, y) {
                set(buf, x, y, '│', theme.error());
            }
        }
        let text = label.to_string();
        let room = usize::from(plot.x + plot.width - x);
        let start = if text.chars().count() + 1 > room {
            x.saturating_sub(text.chars().count() as u16)
        } else {
            x + 1
        };
        buf.set_stringn(start, plot.y, &text, room.max(text.len()), theme.bold());
    }
    // The x axis.
    let y = area.y + area.height - 1;
    buf.set_string(plot.x, y, &chart.x_labels.0, label_style);
    let right_w = chart.x_labels.1.chars().count() as u16;
    if plot.width > right_w + chart.x_labels.0.chars().count() as u16 + 1 {
        buf.set_string(
            plot.x + plot.width - right_w,
            y,
            &chart.x_labels.1,
            label_style,
        );
    }
}
