//! The overview: the window, the symptom as a chart (threshold, baseline, onset and peak), the
//! suspected services, and the ranked candidates with their sparklines.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::report::text::{fmt_p, human_duration, local, series_names, sparkline};
use crate::report::{CorrelationEntry, Report, Verdict};
use crate::tui::app::App;
use crate::tui::ui::chart::{self, Chart};
use crate::tui::ui::{Theme, fit, layout};

pub fn render(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(report) = &app.report else {
        return;
    };
    let l = layout::overview(area);
    header(frame, app, report, theme, l.header);
    symptom_chart(frame, app, report, theme, l.chart);
    frame.render_widget(Paragraph::new(services_line(report, theme)), l.services);
    candidates(frame, app, report, theme, l.table);
}

fn header(frame: &mut Frame, app: &App, report: &Report, theme: &Theme, area: Rect) {
    let tz = &app.time_zone;
    let w = &report.window;
    let sym = &report.symptom;
    let width = usize::from(area.width);
    let mut lines = vec![Line::from(vec![
        Span::styled("Window  ", theme.bold()),
        Span::raw(fit(
            &format!(
                "{} → {}  ({}, step {}; baseline from {})",
                local(w.since_unix, tz, true),
                local(w.until_unix, tz, false),
                human_duration(w.until_unix - w.since_unix),
                fmt_secs(w.step_seconds),
                local(w.baseline_since_unix, tz, false),
            ),
            width.saturating_sub(8),
        )),
    ])];
    lines.push(Line::from(vec![
        Span::styled("Symptom ", theme.bold()),
        Span::raw(fit(
            &format!("{}  [{}]", sym.query, sym.origin),
            width.saturating_sub(8),
        )),
    ]));
    let summary_style = match sym.verdict {
        Verdict::Spike => theme.error(),
        _ => theme.bold(),
    };
    let mut times = String::new();
    if let Some(onset) = sym.onset_unix {
        times.push_str(&format!("  onset {}", local(onset, tz, false)));
        if let Some(peak) = sym.peak_unix {
            times.push_str(&format!(" · peak {}", local(peak, tz, false)));
        }
        match sym.end_unix {
            Some(end) => times.push_str(&format!(" · back under {}", local(end, tz, false))),
            None => times.push_str(" · still above at the end"),
        }
    }
    lines.push(Line::from(vec![
        Span::raw("        "),
        Span::styled(sym.summary.clone(), summary_style),
        Span::raw(times),
    ]));
    frame.render_widget(Paragraph::new(lines), area);
}

/// `12.5%` for ratios (values within 0..=1), else a short number.
pub fn fmt_ratio(v: f64) -> String {
    if v == 0.0 {
        "0%".into()
    } else {
        format!("{:.1}%", v * 100.0)
    }
}

pub fn fmt_number(v: f64) -> String {
    if v.abs() >= 1e6 || (v != 0.0 && v.abs() < 1e-2) {
        format!("{v:.2e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Index of `unix` on the report's step grid (which starts at the baseline).
pub fn grid_index(report: &Report, unix: f64) -> Option<usize> {
    let w = &report.window;
    let i = ((unix - w.baseline_since_unix) / w.step_seconds.max(f64::MIN_POSITIVE)).round();
    (i >= 0.0 && i.is_finite()).then_some(i as usize)
}

fn symptom_chart(frame: &mut Frame, app: &App, report: &Report, theme: &Theme, area: Rect) {
    let sym = &report.symptom;
    let ratio = sym
        .values
        .iter()
        .filter(|v| v.is_finite())
        .all(|v| (0.0..=1.0).contains(v));
    let mut markers = Vec::new();
    if let Some(i) = sym.onset_unix.and_then(|t| grid_index(report, t)) {
        markers.push((i, "onset".to_string()));
    }
    if let Some(i) = sym.peak_unix.and_then(|t| grid_index(report, t)) {
        markers.push((i, "peak".to_string()));
    }
    let tz = &app.time_zone;
    let w = &report.window;
    chart::render(
        frame,
        theme,
        area,
        &Chart {
            values: &sym.values,
            overlay: None,
            threshold: sym.threshold,
            baseline: sym.baseline,
            markers,
            x_labels: (
                local(w.baseline_since_unix, tz, false),
                format!("{}  ╌ threshold · baseline", local(w.until_unix, tz, false)),
            ),
            format: if ratio { fmt_ratio } else { fmt_number },
        },
    );
}

/// The service a candidate belongs to, by the labels services are named by.
pub fn service_of(c: &CorrelationEntry) -> Option<String> {
    for k in ["service", "service_name", "service.name", "job"] {
        if let Some(v) = c.labels.get(k) {
            // OpenTelemetry's `job` is `namespace/service`.
            return Some(v.rsplit('/').next().unwrap_or(v).to_string());
        }
    }
    None
}

/// Services of the significant candidates, best rank first: where to look.
fn services_line(report: &Report, theme: &Theme) -> Line<'static> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for c in report.correlations.iter().filter(|c| c.significant) {
        if let Some(s) = service_of(c) {
            match seen.iter_mut().find(|(x, _)| *x == s) {
                Some((_, n)) => *n += 1,
                None => seen.push((s, 1)),
            }
        }
    }
    let mut spans = vec![Span::styled("Suspected ", theme.bold())];
    if seen.is_empty() {
        spans.push(Span::styled(
            "no service: no significant candidate names one",
            theme.dim(),
        ));
    }
    for (i, (s, n)) in seen.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim()));
        }
        spans.push(Span::styled(s.clone(), theme.service(s)));
        spans.push(Span::styled(
            format!(" ({n} metric{})", if *n == 1 { "" } else { "s" }),
            theme.dim(),
        ));
    }
    Line::from(spans)
}

/// Seconds as a person reads them: `500ms`, `1.5s`, `2m30s`; sub-second steps and lags are
/// common with fast scrapes (the demo's step is 500 ms).
pub fn fmt_secs(seconds: f64) -> String {
    let s = seconds.abs();
    if s > 0.0 && s < 1.0 {
        format!("{}ms", (s * 1000.0).round())
    } else if s < 10.0 && s.fract() != 0.0 {
        format!("{s:.1}s")
    } else {
        human_duration(s)
    }
}

pub fn lag_text(lag_seconds: f64) -> String {
    if lag_seconds > 0.0 {
        format!("leads {}", fmt_secs(lag_seconds))
    } else if lag_seconds < 0.0 {
        format!("lags {}", fmt_secs(lag_seconds))
    } else {
        "same time".into()
    }
}

fn candidates(frame: &mut Frame, app: &App, report: &Report, theme: &Theme, area: Rect) {
    if area.height == 0 {
        return;
    }
    let width = usize::from(area.width);
    let spark_w = if width >= 100 {
        24
    } else if width >= 60 {
        12
    } else {
        0
    };
    // " #  metric…  r(Δ)      q        lag  trend"
    let fixed = 4 + 7 + 9 + 13 + if spark_w > 0 { spark_w + 1 } else { 0 };
    let metric_w = width.saturating_sub(fixed).max(8);
    let head = format!(
        "{:>3} {:<metric_w$} {:>6} {:>8} {:>12}{}",
        "#",
        "metric",
        "r(Δ)",
        "q",
        "lag",
        if spark_w > 0 {
            format!(" {:<spark_w$}", "trend")
        } else {
            String::new()
        }
    );
    let buf_area = Rect::new(area.x, area.y, area.width, 1);
    let corr = &report.correlations;
    if corr.is_empty() {
        frame.render_widget(
            Paragraph::new(vec![
                Line::styled(head, theme.dim()),
                Line::from(format!(
                    "no candidates ranked ({} metric names, {} series)",
                    report.candidates.metric_names, report.candidates.series
                )),
            ]),
            area,
        );
        return;
    }
    frame.render_widget(Paragraph::new(Line::styled(head, theme.dim())), buf_area);
    let rows = usize::from(area.height - 1);
    let list = &app.candidates;
    let shown: Vec<&CorrelationEntry> = corr.iter().skip(list.top).take(rows).collect();
    let names = series_names(
        &shown
            .iter()
            .map(|c| (c.metric.as_str(), &c.labels))
            .collect::<Vec<_>>(),
    );
    let mut lines = Vec::new();
    for (k, (c, name)) in shown.iter().zip(names).enumerate() {
        let index = list.top + k;
        let name = if c.significant {
            name
        } else {
            format!("{name} (n.s.)")
        };
        let mut spans = vec![
            Span::raw(format!("{:>3} ", c.rank)),
            Span::styled(
                format!("{:<metric_w$}", fit(&name, metric_w)),
                if c.significant {
                    Style::new()
                } else {
                    theme.dim()
                },
            ),
            Span::raw(format!(
                " {:>+6.2} {:>8} {:>12}",
                c.r,
                fmt_p(c.q_value),
                lag_text(c.lag_seconds)
            )),
        ];
        if spark_w > 0 {
            spans.push(Span::raw(" "));
            spans.push(Span::styled(sparkline(&c.values, spark_w), theme.accent()));
        }
        let mut line = Line::from(spans);
        if index == list.selected {
            line = line.style(theme.selected());
        }
        lines.push(line);
    }
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(area.x, area.y + 1, area.width, area.height - 1),
    );
}
