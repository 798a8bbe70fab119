//! The human report: what spiked, what moved with it (and first), and which requests to look
//! at. Written for a terminal, readable in a pager or a ticket when colour is off.

use std::fmt::Write as _;

use comfy_table::{
    Cell, CellAlignment, ColumnConstraint, ContentArrangement, LineStyle, Table, TableStyle,
};
use console::Style;

use crate::report::waterfall::{self, WaterfallOptions};
use crate::report::{ExemplarKind, Report, SourceState, TraceOrigin, Verdict};

/// Waterfall rows of the worst trace in the report (`obs trace` shows them all).
const WATERFALL_ROWS: usize = 24;
/// Error log lines of the worst trace shown in the report (`-o json` has all).
const ERROR_LOGS_SHOWN: usize = 10;

/// How the text report is drawn.
#[derive(Debug, Clone)]
pub struct TextOptions {
    pub color: bool,
    /// Terminal width in columns; tables wrap to it.
    pub width: u16,
    /// How many ranked candidates to show (all are in `-o json`).
    pub top: usize,
    pub time_zone: jiff::tz::TimeZone,
}

/// Columns separated by space, one rule under the header: reads like `kubectl get`.
const QUIET: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─'));

/// Non-significant rows shown under the significant ones, for context.
const NOT_SIGNIFICANT_SHOWN: usize = 3;

/// Labels that rarely tell series apart for a person once a service or other label does.
const QUIET_LABELS: [&str; 4] = ["instance", "job", "otel_scope_name", "otel_scope_version"];

/// Display names for a set of rows: `name{labels}` without the labels every row shares, and
/// without `instance`/`job`/`otel_scope_*` unless a row needs them to stay distinct from another
/// (`-o json` keeps every label).
pub(crate) fn series_names(rows: &[(&str, &crate::model::Labels)]) -> Vec<String> {
    let shared = |k: &str, v: &str| {
        rows.len() > 1 && rows.iter().all(|(_, l)| l.get(k).is_some_and(|x| x == v))
    };
    let render = |metric: &str, labels: &crate::model::Labels, quiet: bool| {
        let shown: Vec<String> = labels
            .iter()
            .filter(|(k, v)| !(shared(k, v) || quiet && QUIET_LABELS.contains(&k.as_str())))
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        if shown.is_empty() {
            metric.to_string()
        } else {
            format!("{metric}{{{}}}", shown.join(","))
        }
    };
    let quiet: Vec<String> = rows.iter().map(|(m, l)| render(m, l, true)).collect();
    quiet
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let collides = quiet
                .iter()
                .enumerate()
                .any(|(j, other)| j != i && other == name);
            if collides {
                render(rows[i].0, rows[i].1, false)
            } else {
                name.clone()
            }
        })
        .collect()
}

pub(crate) fn series_name(metric: &str, labels: &crate::model::Labels) -> String {
    series_names(&[(metric, labels)])
        .pop()
        .unwrap_or_else(|| metric.to_string())
}

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of `width` characters: each character is the maximum of its slice of values,
/// scaled between the series' minimum and maximum; a slice with no values is a space.
pub fn sparkline(values: &[f64], width: usize) -> String {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let width = width.min(values.len());
    (0..width)
        .map(|i| {
            let a = i * values.len() / width;
            let b = ((i + 1) * values.len() / width).max(a + 1);
            let slice_max = values[a..b]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            if !slice_max.is_finite() {
                ' '
            } else if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
                SPARK[0]
            } else {
                let level = ((slice_max - lo) / (hi - lo) * 7.0).round() as usize;
                SPARK[level.min(7)]
            }
        })
        .collect()
}

/// Local time of day, or with the date and zone (via [`crate::timespec::format_local`], which
/// shows the offset where a zone has no abbreviation).
pub(crate) fn local(unix: f64, tz: &jiff::tz::TimeZone, with_date: bool) -> String {
    let ts = crate::report::Instant::from_unix(unix).rfc3339;
    if with_date {
        crate::timespec::format_local(ts, tz)
    } else {
        ts.to_zoned(tz.clone()).strftime("%H:%M:%S").to_string()
    }
}

pub(crate) fn human_duration(seconds: f64) -> String {
    let s = seconds.abs().round() as u64;
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 if s.is_multiple_of(60) => format!("{}m", s / 60),
        120..=7199 => format!("{}m{}s", s / 60, s % 60),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

pub(crate) fn fmt_p(p: f64) -> String {
    if !p.is_finite() {
        "n/a".into()
    } else if p < 1e-4 {
        format!("{p:.0e}")
    } else {
        format!("{p:.4}")
    }
}

/// Services listed in "Suspected services" (JSON has all).
const SERVICES_SHOWN: usize = 5;

pub fn render(report: &Report, opts: &TextOptions) -> String {
    let bold = Style::new().bold().force_styling(opts.color);
    let dim = Style::new().dim().force_styling(opts.color);
    let red = Style::new().red().bold().force_styling(opts.color);
    let green = Style::new().green().force_styling(opts.color);
    let tz = &opts.time_zone;
    let w = &report.window;
    let mut out = String::new();

    render_services(&mut out, report, opts);
    let _ = writeln!(
        out,
        "{} {} → {}  ({}, step {}; baseline from {})",
        bold.apply_to("Window   "),
        local(w.since_unix, tz, true),
        local(w.until_unix, tz, true),
        human_duration(w.until_unix - w.since_unix),
        human_duration(w.step_seconds),
        local(w.baseline_since_unix, tz, false),
    );
    if let Some(r) = &w.resolution {
        let _ = writeln!(
            out,
            "{} scrape interval {} [{}] · step {} [{}] · rate window {} [{}]",
            bold.apply_to("Resolution"),
            human_duration(r.scrape_interval_seconds),
            r.scrape_interval_origin,
            human_duration(r.step_seconds),
            r.step_origin,
            r.rate_window,
            r.rate_window_origin,
        );
    }
    for s in &report.sources {
        let status = match s.status {
            SourceState::Ok => green.apply_to("ok".to_string()),
            SourceState::Error => {
                red.apply_to(format!("error: {}", s.error.as_deref().unwrap_or("failed")))
            }
        };
        let _ = writeln!(
            out,
            "{} {:<7} {} {}  {}",
            bold.apply_to("Source   "),
            s.signal,
            s.kind,
            s.url,
            status
        );
    }

    let sym = &report.symptom;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} {}  {}",
        bold.apply_to("Symptom  "),
        sym.query,
        dim.apply_to(format!("[{}]", sym.origin))
    );
    let summary = match sym.verdict {
        Verdict::Spike => red.apply_to(sym.summary.clone()),
        _ => bold.apply_to(sym.summary.clone()),
    };
    let _ = writeln!(out, "          {summary}");
    if let Some(why) = &sym.why {
        let _ = writeln!(out, "          {}", dim.apply_to(format!("chosen: {why}")));
    }
    for other in &sym.also_examined {
        let _ = writeln!(
            out,
            "          {}",
            dim.apply_to(format!(
                "also examined: {} [{}] — {}",
                other.query, other.origin, other.summary
            ))
        );
    }
    if let Some(onset) = sym.onset_unix {
        let mut line = format!("onset {}", local(onset, tz, true));
        if let Some(peak) = sym.peak_unix {
            let _ = write!(line, " · peak {}", local(peak, tz, false));
        }
        match sym.end_unix {
            Some(end) => {
                let _ = write!(line, " · back under threshold {}", local(end, tz, false));
            }
            None => line.push_str(" · still above threshold at the window's end"),
        }
        let _ = writeln!(out, "          {line}");
    }
    let spark_width = usize::from(opts.width.saturating_sub(12)).clamp(10, 80);
    let _ = writeln!(out, "          {}", sparkline(&sym.values, spark_width));

    let c = &report.candidates;
    let significant = report.correlations.iter().filter(|c| c.significant).count();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} {} series from {} queries over {} metric names; {} significant (BH q < 0.05){}",
        bold.apply_to("Moved with it"),
        c.series,
        c.queries,
        c.metric_names,
        significant,
        match (c.scored_names, c.skipped_over_cap) {
            (0, 0) => String::new(),
            (scored, 0) => format!(
                "; scored {scored} names, fetched {} in full",
                c.fetched_names
            ),
            (scored, unseen) => format!(
                "; scored {scored} names, fetched {} in full, {unseen} neither (see warnings)",
                c.fetched_names
            ),
        }
    );
    if report.correlations.is_empty() {
        let _ = writeln!(out, "          nothing to rank");
    } else {
        if significant == 0 && sym.verdict == Verdict::Spike {
            let _ = writeln!(
                out,
                "          {}",
                bold.apply_to(
                    "nothing moved significantly with the spike: the rows below are the best-supported candidates, and they are weak"
                )
            );
        }
        let mut table = Table::new();
        table
            .load_style(QUIET)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(opts.width)
            .set_header(["#", "metric", "r(Δ)", "q", "lag", "trend"]);
        // Everything but the metric keeps its natural width, so long names wrap, not numbers.
        for column in [0, 2, 3, 4, 5] {
            if let Some(c) = table.column_mut(column) {
                c.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
        let significant_rows = report
            .correlations
            .iter()
            .filter(|c| c.significant)
            .take(opts.top);
        let context_rows = report
            .correlations
            .iter()
            .filter(|c| !c.significant)
            .take(NOT_SIGNIFICANT_SHOWN.min(opts.top.saturating_sub(significant)));
        let rows: Vec<_> = significant_rows.chain(context_rows).collect();
        let names = series_names(
            &rows
                .iter()
                .map(|e| (e.metric.as_str(), &e.labels))
                .collect::<Vec<_>>(),
        );
        let shown = rows.len();
        for (entry, name) in rows.into_iter().zip(names) {
            let lag = if entry.lag_seconds > 0.0 {
                format!("leads {}", human_duration(entry.lag_seconds))
            } else if entry.lag_seconds < 0.0 {
                format!("lags {}", human_duration(entry.lag_seconds))
            } else {
                "same time".into()
            };
            let (name, rank) = if entry.significant {
                (name, entry.rank.to_string())
            } else {
                (format!("{name} (n.s.)"), entry.rank.to_string())
            };
            let style = if entry.significant { &bold } else { &dim };
            table.add_row([
                Cell::new(rank).set_alignment(CellAlignment::Right),
                Cell::new(style.apply_to(name)),
                Cell::new(format!("{:+.2}", entry.r)).set_alignment(CellAlignment::Right),
                Cell::new(fmt_p(entry.q_value)).set_alignment(CellAlignment::Right),
                Cell::new(lag),
                Cell::new(sparkline(&entry.values, 24)),
            ]);
        }
        let _ = writeln!(out, "{table}");
        if report
            .correlations
            .iter()
            .take(shown)
            .any(|c| !c.significant)
        {
            let _ = writeln!(out, "{}", dim.apply_to("  n.s. = not significant after the Benjamini–Hochberg correction; r(Δ) correlates changes"));
        }
        if report.correlations.len() > shown {
            let _ = writeln!(
                out,
                "{}",
                dim.apply_to(format!(
                    "  {} more ranked in -o json",
                    report.correlations.len() - shown
                ))
            );
        }
    }

    let _ = writeln!(out);
    if report.exemplars.is_empty() {
        let _ = writeln!(
            out,
            "{} none in the spike window",
            bold.apply_to("Exemplars")
        );
    } else {
        let _ = writeln!(
            out,
            "{} failing requests first, then the slowest",
            bold.apply_to("Exemplars")
        );
        let mut table = Table::new();
        table
            .load_style(QUIET)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(opts.width)
            .set_header(["trace id", "kind", "value", "time", "series"]);
        for e in &report.exemplars {
            let name = e.series.get("__name__").map(String::as_str).unwrap_or("");
            let mut labels = e.series.clone();
            labels.remove("__name__");
            let series = series_name(name, &labels);
            table.add_row([
                Cell::new(e.trace_id.as_deref().unwrap_or("-")),
                Cell::new(format!("{:?}", e.kind).to_lowercase()),
                Cell::new(fmt_value_plain(e.value)).set_alignment(CellAlignment::Right),
                Cell::new(local(e.timestamp_unix, tz, false)),
                Cell::new(series),
            ]);
        }
        let _ = writeln!(out, "{table}");
    }

    render_traces(&mut out, report, opts);
    crate::report::patterns::render_report_block(&mut out, report, opts.color, &opts.time_zone);
    crate::report::timeline::render_block(&mut out, &report.timeline, opts.color, &opts.time_zone);
    crate::report::findings::render_block(&mut out, &report.findings, opts.color);

    if !report.warnings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", bold.apply_to("Warnings"));
        for warning in &report.warnings {
            let _ = writeln!(out, "  - {warning}");
        }
    }
    let t = &report.timings;
    let _ = writeln!(
        out,
        "{}",
        dim.apply_to(format!(
            "took {} ms (discovery {}, symptom {}, candidates {}, analysis {}, exemplars {}, traces {}, logs {})",
            t.total_ms,
            t.discovery_ms,
            t.symptom_ms,
            t.candidates_ms,
            t.analysis_ms,
            t.exemplars_ms,
            t.traces_ms,
            t.logs_ms
        ))
    );
    out
}

/// "Suspected services": the services behind the ranked candidates, best first, each with the
/// candidate ranks that placed it; weak when its best candidate is not significant.
fn render_services(out: &mut String, report: &Report, opts: &TextOptions) {
    if report.services.is_empty() {
        return;
    }
    let bold = Style::new().bold().force_styling(opts.color);
    let dim = Style::new().dim().force_styling(opts.color);
    let _ = writeln!(out, "{}", bold.apply_to("Suspected services"));
    for s in report.services.iter().take(SERVICES_SHOWN) {
        let ranks: Vec<String> = s.evidence.iter().take(5).map(|r| format!("#{r}")).collect();
        let more = s.evidence.len().saturating_sub(5);
        let line = format!(
            "  {}. {}  score {:.2}  evidence {}{}{}",
            s.rank,
            s.service,
            s.score,
            ranks.join(" "),
            if more > 0 {
                format!(" (+{more})")
            } else {
                String::new()
            },
            if s.significant { "" } else { "  (weak)" },
        );
        if s.significant {
            let _ = writeln!(out, "{}", bold.apply_to(line));
        } else {
            let _ = writeln!(out, "{}", dim.apply_to(line));
        }
    }
    let _ = writeln!(out);
}

/// The traces behind the exemplars, a compact waterfall of the worst one, and its error logs.
fn render_traces(out: &mut String, report: &Report, opts: &TextOptions) {
    let bold = Style::new().bold().force_styling(opts.color);
    let dim = Style::new().dim().force_styling(opts.color);
    let red = Style::new().red().force_styling(opts.color);
    let traces_configured = report.sources.iter().any(|s| s.signal == "traces");
    let logs_configured = report.sources.iter().any(|s| s.signal == "logs");
    if !traces_configured && !logs_configured {
        if !report.exemplars.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                dim.apply_to(
                    "  to follow them into traces and logs, set tempo_url (or jaeger_url) and loki_url in the context"
                )
            );
        }
        return;
    }
    let _ = writeln!(out);
    if report.traces.is_empty() {
        let why = if traces_configured {
            "none fetched (see sources and warnings)"
        } else {
            "no traces backend configured (set tempo_url or jaeger_url)"
        };
        let _ = writeln!(out, "{} {why}", bold.apply_to("Traces   "));
    } else {
        let from_search = report
            .traces
            .iter()
            .any(|t| t.origin == TraceOrigin::Search);
        let _ = writeln!(
            out,
            "{} {}",
            bold.apply_to("Traces   "),
            if from_search {
                "found by a trace search (the spike had no exemplars): failing first, then the slowest"
            } else {
                "behind the exemplars: failing first, then the slowest"
            }
        );
        let mut table = Table::new();
        table
            .load_style(QUIET)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(opts.width)
            .set_header([
                "trace id",
                "kind",
                "duration",
                "root",
                "errors · where the time went",
            ]);
        for column in [0, 1, 2] {
            if let Some(c) = table.column_mut(column) {
                c.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
        for t in &report.traces {
            let s = &t.summary;
            let root = s
                .root
                .as_ref()
                .map(|r| format!("{} {}", r.service, r.name))
                .unwrap_or_else(|| "-".into());
            let mut notes: Vec<String> = Vec::new();
            if let Some(e) = s
                .error_spans
                .iter()
                .find(|e| e.exception.is_some())
                .or(s.error_spans.last())
            {
                let what = match &e.exception {
                    Some(x) => format!("{}: {}", x.kind, x.message),
                    None => e.status_message.clone(),
                };
                notes.push(format!("✗ {} ({}) {what}", e.name, e.service));
            }
            for c in s.critical_path.iter().take(2) {
                notes.push(format!(
                    "{} ({}) {:.0} ms",
                    c.name, c.service, c.self_time_ms
                ));
            }
            let kind = match t.kind {
                ExemplarKind::Error => red.apply_to("error".to_string()),
                ExemplarKind::Slow => Style::new().apply_to("slow".to_string()),
            };
            table.add_row([
                Cell::new(&s.trace_id),
                Cell::new(kind),
                Cell::new(format!("{:.0} ms", s.duration_ms)).set_alignment(CellAlignment::Right),
                Cell::new(root),
                Cell::new(notes.join("\n")),
            ]);
        }
        let _ = writeln!(out, "{table}");
    }

    let Some(worst) = &report.worst_trace else {
        if logs_configured && !report.logs.is_empty() {
            render_error_logs(out, report, None, opts);
        }
        return;
    };
    let tree = crate::analysis::spantree::build(worst);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} {}  {}",
        bold.apply_to("Worst trace"),
        worst.trace_id,
        dim.apply_to(format!("(obs trace {} for every span)", worst.trace_id))
    );
    let _ = write!(
        out,
        "{}",
        waterfall::render(
            &tree,
            &WaterfallOptions {
                width: opts.width,
                color: opts.color,
                max_depth: None,
                service: None,
                errors_only: false,
                max_rows: Some(WATERFALL_ROWS),
                time_zone: opts.time_zone.clone(),
            },
        )
    );
    if logs_configured {
        render_error_logs(out, report, Some(&worst.trace_id), opts);
    }
}

/// The error (or, without any, all) log lines of one trace, or of every trace.
fn render_error_logs(
    out: &mut String,
    report: &Report,
    trace_id: Option<&str>,
    opts: &TextOptions,
) {
    let bold = Style::new().bold().force_styling(opts.color);
    let dim = Style::new().dim().force_styling(opts.color);
    let of_trace: Vec<&crate::report::LogEntry> = report
        .logs
        .iter()
        .filter(|l| trace_id.is_none_or(|id| l.trace_id == id))
        .collect();
    let errors: Vec<&crate::report::LogEntry> =
        of_trace.iter().copied().filter(|l| l.is_error()).collect();
    let (shown, what) = if errors.is_empty() {
        (of_trace, "logs")
    } else {
        (errors, "error logs")
    };
    let _ = writeln!(out);
    let Some(id) = trace_id.or(shown.first().map(|l| l.trace_id.as_str())) else {
        let _ = writeln!(
            out,
            "{} none found for these traces",
            bold.apply_to("Logs     ")
        );
        return;
    };
    if shown.is_empty() {
        let _ = writeln!(
            out,
            "{} none found for trace {id}",
            bold.apply_to("Logs     ")
        );
        return;
    }
    let how = shown
        .first()
        .and_then(|l| l.matched_by.as_deref())
        .map(|m| format!(" (matched by {m})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} {what} of trace {id}{how}",
        bold.apply_to("Logs     ")
    );
    for l in shown.iter().take(ERROR_LOGS_SHOWN) {
        let _ = writeln!(
            out,
            "  {} {} {} {}",
            dim.apply_to(local(l.timestamp_unix, &opts.time_zone, false)),
            l.service.as_deref().unwrap_or("-"),
            l.severity.as_deref().unwrap_or("-"),
            l.body
        );
    }
    if shown.len() > ERROR_LOGS_SHOWN {
        let _ = writeln!(
            out,
            "{}",
            dim.apply_to(format!(
                "  {} more in -o json",
                shown.len() - ERROR_LOGS_SHOWN
            ))
        );
    }
}

pub(crate) fn fmt_value_plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_and_marks_gaps() {
        assert_eq!(
            sparkline(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 8),
            "▁▂▃▄▅▆▇█"
        );
        assert_eq!(sparkline(&[1.0, f64::NAN, 1.0], 3), "▁ ▁");
        assert_eq!(sparkline(&[], 10), "");
        assert_eq!(sparkline(&[f64::NAN; 4], 2), "  ");
        // Downsampling keeps the maximum so a one-point spike stays visible.
        let mut v = vec![0.0; 100];
        v[51] = 9.0;
        assert_eq!(sparkline(&v, 10).chars().filter(|c| *c == '█').count(), 1);
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(human_duration(90.0), "90s");
        assert_eq!(human_duration(7200.0), "2h");
        assert_eq!(human_duration(-120.0), "2m");
        assert_eq!(human_duration(150.0), "2m30s");
    }
}

#[cfg(test)]
mod name_tests {
    use super::series_names;
    use crate::model::Labels;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn shared_and_quiet_labels_are_left_out_unless_rows_would_look_alike() {
        let a = labels(&[
            ("job", "checkout"),
            ("otel_scope_name", "shop"),
            ("pool", "orders"),
        ]);
        let b = labels(&[("job", "payments"), ("otel_scope_name", "shop")]);
        let c = labels(&[("job", "frontend"), ("otel_scope_name", "shop")]);
        let names = series_names(&[("db", &a), ("cpu", &b), ("cpu", &c)]);
        assert_eq!(names[0], r#"db{pool="orders"}"#);
        // The two cpu rows differ only by job, so job stays; the shared scope never shows.
        assert_eq!(names[1], r#"cpu{job="payments"}"#);
        assert_eq!(names[2], r#"cpu{job="frontend"}"#);
    }
}
