//! One candidate: the symptom (bars) and the candidate (points) on one normalised chart, with
//! the lag shift toggled by `s`; its numbers, and why it ranked where it did.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::report::text::{fmt_p, local, series_name};
use crate::report::{CorrelationEntry, Report};
use crate::tui::app::App;
use crate::tui::ui::chart::{self, Chart};
use crate::tui::ui::overview::{fmt_number, grid_index, lag_text};
use crate::tui::ui::{Theme, fit, layout};

pub fn render(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(report) = &app.report else { return };
    let Some(c) = report.correlations.get(app.candidate) else {
        frame.render_widget(Paragraph::new("no candidate selected"), area);
        return;
    };
    let l = layout::candidate(area);
    let width = usize::from(area.width);
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(format!("#{} ", c.rank), theme.bold()),
                Span::styled(
                    fit(&series_name(&c.metric, &c.labels), width.saturating_sub(4)),
                    theme.bold(),
                ),
            ]),
            Line::styled(fit(&c.query, width), theme.dim()),
        ]),
        l.header,
    );
    let steps =
        (c.lag_seconds / report.window.step_seconds.max(f64::MIN_POSITIVE)).round() as isize;
    let shifted: Vec<f64>;
    let overlay: &[f64] = if app.lag_shift && steps != 0 {
        shifted = shift(&c.values, steps);
        &shifted
    } else {
        &c.values
    };
    let mut markers = Vec::new();
    if let Some(i) = report
        .symptom
        .onset_unix
        .and_then(|t| grid_index(report, t))
    {
        markers.push((i, "onset".to_string()));
    }
    let tz = &app.time_zone;
    let legend = format!(
        "{}  ▆ symptom • candidate{}",
        local(report.window.until_unix, tz, false),
        if app.lag_shift && steps != 0 {
            format!(
                " (shifted {})",
                lag_text(c.lag_seconds)
                    .replace("leads", "by")
                    .replace("lags", "by -")
            )
        } else {
            String::new()
        }
    );
    chart::render(
        frame,
        theme,
        l.chart,
        &Chart {
            values: &report.symptom.values,
            overlay: Some(overlay),
            threshold: None,
            baseline: None,
            markers,
            x_labels: (local(report.window.baseline_since_unix, tz, false), legend),
            format: fmt_number,
        },
    );
    frame.render_widget(
        Paragraph::new(numbers(app, report, c, theme)).wrap(Wrap { trim: false }),
        l.numbers,
    );
}

/// `values` moved `steps` later on the grid (a leading candidate lines up with the symptom).
fn shift(values: &[f64], steps: isize) -> Vec<f64> {
    let n = values.len() as isize;
    (0..n)
        .map(|i| {
            let j = i - steps;
            if (0..n).contains(&j) {
                values[j as usize]
            } else {
                f64::NAN
            }
        })
        .collect()
}

fn numbers<'a>(app: &App, report: &Report, c: &CorrelationEntry, theme: &Theme) -> Vec<Line<'a>> {
    let mut want = c.labels.clone();
    want.insert("__name__".into(), c.metric.clone());
    let exemplars = app
        .traces
        .iter()
        .filter(|t| {
            t.exemplar_series
                .as_ref()
                .is_some_and(|have| crate::tui::app::labels_within(&want, have))
        })
        .count();
    let verdict = if c.significant {
        Span::styled("significant (q < 0.05)", theme.error())
    } else {
        Span::styled(
            "not significant after the Benjamini–Hochberg correction",
            theme.dim(),
        )
    };
    let total = report.correlations.len();
    let why = if c.significant && c.lag_seconds >= 0.0 {
        format!(
            "ranked {} of {total}: significant candidates that move before or with the symptom \
             come first, then by p-value, then |r|",
            c.rank
        )
    } else if c.significant {
        format!(
            "ranked {} of {total}: significant, but it moved after the symptom, so it ranks \
             behind the ones that moved first (a consequence, not a cause)",
            c.rank
        )
    } else {
        format!(
            "ranked {} of {total}: after every significant candidate",
            c.rank
        )
    };
    vec![
        Line::from(vec![
            Span::styled("r(Δ) ", theme.bold()),
            Span::raw(format!(
                "{:+.3} at its best lag, {:+.3} at zero lag   ",
                c.r, c.r_at_zero_lag
            )),
            Span::styled("p ", theme.bold()),
            Span::raw(format!("{}   ", fmt_p(c.p_value))),
            Span::styled("q ", theme.bold()),
            Span::raw(format!("{}   ", fmt_p(c.q_value))),
            Span::styled("n ", theme.bold()),
            Span::raw(c.n.to_string()),
        ]),
        Line::from(vec![
            Span::styled("lag  ", theme.bold()),
            Span::raw(format!("{}   ", lag_text(c.lag_seconds))),
            verdict,
        ]),
        Line::from(vec![Span::styled("why  ", theme.bold()), Span::raw(why)]),
        Line::from(vec![
            Span::styled("exemplars ", theme.bold()),
            Span::raw(if exemplars == 0 {
                "none on this metric".to_string()
            } else {
                format!("{exemplars}: x opens their traces")
            }),
            Span::styled(
                "   s toggles the lag shift · j/k next candidate",
                theme.dim(),
            ),
        ]),
    ]
}
