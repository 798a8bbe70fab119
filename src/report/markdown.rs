//! The postmortem document (`-o markdown`): the same [`Report`] as the text and JSON forms,
//! written as GitHub-flavoured Markdown to paste into an incident ticket or a postmortem. Pure:
//! reads the report, never queries.
//!
//! Sections, in order: title (window and zone), summary, timeline, the candidate table, the
//! traces and the worst one's waterfall, new log patterns, findings, sources, warnings, and the
//! `obs` commands that reproduce it. With [`MarkdownOptions::grafana`] set, the symptom, each
//! candidate, each trace and each log query get a Grafana Explore link.

use std::fmt::Write as _;

use crate::report::grafana::{Grafana, Kind};
use crate::report::text::{fmt_p, fmt_value_plain, human_duration, local, series_names};
use crate::report::waterfall::{self, WaterfallOptions};
use crate::report::{ExemplarKind, Report, SourceState, TraceOrigin, Verdict};

/// Waterfall rows of the worst trace in the document.
const WATERFALL_ROWS: usize = 40;
/// Columns of the waterfall's code block.
const WATERFALL_WIDTH: u16 = 120;

/// How the document is written.
#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    /// How many ranked candidates the table shows (all are in `-o json`).
    pub top: usize,
    pub time_zone: jiff::tz::TimeZone,
    /// Explore links, when the context sets `grafana_url`.
    pub grafana: Option<Grafana>,
    /// Loki label naming the service, for the log links (`service_name` when unknown).
    pub log_service_label: Option<String>,
    /// The context and store the investigation ran with, for the commands to reproduce it.
    pub context: Option<String>,
    pub store: Option<String>,
    /// The scrape interval the investigation used, in seconds (the step is in the report).
    pub scrape_interval: Option<f64>,
}

/// A table cell: `|` escaped, line breaks as `<br>`, so that one value stays one cell.
pub fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

/// Inline code that survives backticks in the text (a longer fence), for use inside a cell too.
pub fn code(s: &str) -> String {
    let s = s.replace("\r\n", " ").replace(['\n', '\r'], " ");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", s.replace('|', "\\|"))
}

/// Single-quoted for a POSIX shell.
fn shell(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn link(text: &str, url: &str) -> String {
    format!("[{text}]({url})")
}

pub fn render(report: &Report, opts: &MarkdownOptions) -> String {
    let mut out = String::new();
    let tz = &opts.time_zone;
    let w = &report.window;
    let zone = if w.time_zone.is_empty() {
        tz.iana_name().unwrap_or("UTC").to_string()
    } else {
        w.time_zone.clone()
    };
    let subject = report
        .symptom
        .service
        .as_deref()
        .map(|s| format!(" — {s}"))
        .unwrap_or_default();
    let (since, until) = (local(w.since_unix, tz, true), local(w.until_unix, tz, true));
    // The local form usually ends with the zone already; say it once.
    let zone = if until.ends_with(&zone) {
        String::new()
    } else {
        format!(" ({zone})")
    };
    let _ = writeln!(out, "# Incident{subject}: {since} → {until}{zone}\n");
    let _ = writeln!(
        out,
        "Window {} → {}, baseline from {}, step {}.\n",
        w.since,
        w.until,
        w.baseline_since,
        human_duration(w.step_seconds)
    );

    summary(&mut out, report, opts);
    timeline(&mut out, report, tz);
    candidates(&mut out, report, opts);
    traces(&mut out, report, opts);
    log_patterns(&mut out, report, opts);
    findings(&mut out, report);
    sources(&mut out, report);
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "## Warnings\n");
        for warning in &report.warnings {
            let _ = writeln!(out, "- {}", warning.replace('\n', " "));
        }
        let _ = writeln!(out);
    }
    reproduce(&mut out, report, opts);
    out
}

fn summary(out: &mut String, report: &Report, opts: &MarkdownOptions) {
    let s = &report.symptom;
    let tz = &opts.time_zone;
    let w = &report.window;
    let _ = writeln!(out, "## Summary\n");
    let mut symptom = format!("{} ({})", code(&s.query), s.origin);
    if let Some(g) = &opts.grafana {
        let url = g.explore(
            Kind::Prometheus,
            &s.query,
            w.baseline_since_unix,
            w.until_unix,
        );
        let _ = write!(symptom, " — {}", link("Explore", &url));
    }
    let _ = writeln!(out, "- **Symptom:** {symptom}");
    if let Some(why) = &s.why {
        let _ = writeln!(out, "- **Chosen:** {why}");
    }
    let verdict = match s.verdict {
        Verdict::Spike => "spike",
        Verdict::NoSpike => "no spike",
        Verdict::NoData => "no data",
    };
    let _ = writeln!(out, "- **Verdict:** {verdict} — {}", s.summary);
    if let Some(b) = s.baseline {
        let _ = writeln!(out, "- **Baseline:** {}", fmt_value_plain(b));
    }
    if let Some(onset) = s.onset_unix {
        let _ = writeln!(out, "- **Onset:** {}", local(onset, tz, true));
    }
    if let (Some(peak), Some(at)) = (s.peak, s.peak_unix) {
        let _ = writeln!(
            out,
            "- **Peak:** {} at {}",
            fmt_value_plain(peak),
            local(at, tz, true)
        );
    }
    if let Some(end) = s.end_unix {
        let _ = writeln!(out, "- **Recovery:** {}", local(end, tz, true));
    }
    let _ = writeln!(out);
}

fn timeline(out: &mut String, report: &Report, tz: &jiff::tz::TimeZone) {
    if report.timeline.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Timeline\n");
    let _ = writeln!(out, "| Time | Event | Evidence |");
    let _ = writeln!(out, "|---|---|---|");
    for e in &report.timeline {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            local(e.at_unix, tz, false),
            cell(&e.text),
            code(&e.evidence)
        );
    }
    let _ = writeln!(out);
}

fn candidates(out: &mut String, report: &Report, opts: &MarkdownOptions) {
    let _ = writeln!(out, "## What moved with it\n");
    if report.correlations.is_empty() {
        let _ = writeln!(
            out,
            "No candidate series were correlated ({} metric names, {} queries).\n",
            report.candidates.metric_names, report.candidates.queries
        );
        return;
    }
    let shown = report.correlations.len().min(opts.top.max(1));
    let link_col = opts.grafana.is_some();
    let _ = writeln!(
        out,
        "| # | Series | r | Lead | p | q | Significant |{}",
        if link_col { " Explore |" } else { "" }
    );
    let _ = writeln!(
        out,
        "|--:|---|--:|--:|--:|--:|:-:|{}",
        if link_col { "---|" } else { "" }
    );
    let w = &report.window;
    let rows: Vec<_> = report.correlations[..shown]
        .iter()
        .map(|c| (c.metric.as_str(), &c.labels))
        .collect();
    // Only the labels that tell the shown rows apart, as in the text report.
    let names = series_names(&rows);
    for (c, name) in report.correlations.iter().take(shown).zip(&names) {
        let lead = if c.lag_seconds == 0.0 {
            "0s".to_string()
        } else if c.lag_seconds > 0.0 {
            format!("{} before", human_duration(c.lag_seconds))
        } else {
            format!("{} after", human_duration(c.lag_seconds))
        };
        let _ = write!(
            out,
            "| {} | {} | {:+.2} | {} | {} | {} | {} |",
            c.rank,
            code(name),
            c.r,
            lead,
            fmt_p(c.p_value),
            fmt_p(c.q_value),
            if c.significant { "yes" } else { "no" },
        );
        if let Some(g) = &opts.grafana {
            let url = g.explore(
                Kind::Prometheus,
                &c.query,
                w.baseline_since_unix,
                w.until_unix,
            );
            let _ = write!(out, " {} |", link("query", &url));
        }
        let _ = writeln!(out);
    }
    if report.correlations.len() > shown {
        let _ = writeln!(
            out,
            "\n{} more in `obs investigate -o json`.",
            report.correlations.len() - shown
        );
    }
    let _ = writeln!(out);
}

fn trace_kind(report: &Report) -> Kind {
    match report
        .sources
        .iter()
        .find(|s| s.signal == "traces")
        .map(|s| s.kind.as_str())
    {
        Some("jaeger") => Kind::Jaeger,
        _ => Kind::Tempo,
    }
}

/// The LogQL of a trace's logs, for the Explore link: its services' streams, a line filter on
/// the trace id.
fn trace_logql(report: &Report, trace_id: &str, label: &str) -> Option<String> {
    let mut services: Vec<&str> = report
        .logs
        .iter()
        .filter(|l| l.trace_id == trace_id)
        .filter_map(|l| l.service.as_deref())
        .collect();
    services.sort_unstable();
    services.dedup();
    if services.is_empty() {
        return None;
    }
    Some(format!(
        "{{{label}=~\"{}\"}} |= \"{trace_id}\"",
        services
            .iter()
            .map(|s| regex_quote(s))
            .collect::<Vec<_>>()
            .join("|")
    ))
}

fn regex_quote(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push_str("\\\\");
        } else if c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn traces(out: &mut String, report: &Report, opts: &MarkdownOptions) {
    if report.traces.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Traces\n");
    let link_col = opts.grafana.is_some();
    let _ = writeln!(
        out,
        "| Trace | Root | Duration | Error spans | Picked for | Found by |{}",
        if link_col { " Explore |" } else { "" }
    );
    let _ = writeln!(
        out,
        "|---|---|--:|--:|---|---|{}",
        if link_col { "---|" } else { "" }
    );
    let label = opts.log_service_label.as_deref().unwrap_or("service_name");
    for t in &report.traces {
        let s = &t.summary;
        let root = s
            .root
            .as_ref()
            .map(|r| format!("{} {}", r.service, r.name))
            .unwrap_or_else(|| "(no root)".into());
        let _ = write!(
            out,
            "| {} | {} | {:.0} ms | {} | {} | {} |",
            code(&s.trace_id),
            cell(&root),
            s.duration_ms,
            s.error_span_count,
            match t.kind {
                ExemplarKind::Error => "failing",
                ExemplarKind::Slow => "slow",
            },
            match t.origin {
                TraceOrigin::Exemplar => "exemplar",
                TraceOrigin::Search => "search",
            },
        );
        if let Some(g) = &opts.grafana {
            let start = s.start_unix_nano as f64 / 1e9;
            let (from, to) = (start - 300.0, start + s.duration_ms / 1e3 + 300.0);
            let _ = write!(
                out,
                " {}",
                link(
                    "trace",
                    &g.explore(trace_kind(report), &s.trace_id, from, to)
                )
            );
            if let Some(q) = trace_logql(report, &s.trace_id, label) {
                let _ = write!(
                    out,
                    " {}",
                    link("logs", &g.explore(Kind::Loki, &q, from, to))
                );
            }
            let _ = write!(out, " |");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
    let errors: Vec<_> = report
        .traces
        .iter()
        .flat_map(|t| t.summary.error_spans.iter())
        .take(5)
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "Error spans:\n");
        for e in errors {
            let detail = match &e.exception {
                Some(x) => format!("{}: {}", x.kind, x.message),
                None => e.status_message.clone(),
            };
            let _ = writeln!(
                out,
                "- {} {} — {}",
                code(&e.service),
                code(&e.name),
                detail.replace('\n', " ")
            );
        }
        let _ = writeln!(out);
    }
    if let Some(trace) = &report.worst_trace {
        let tree = crate::analysis::spantree::build(trace);
        let text = waterfall::render(
            &tree,
            &WaterfallOptions {
                width: WATERFALL_WIDTH,
                color: false,
                max_rows: Some(WATERFALL_ROWS),
                time_zone: opts.time_zone.clone(),
                ..WaterfallOptions::default()
            },
        );
        let _ = writeln!(out, "### Worst trace\n");
        let fence = if text.contains("```") { "````" } else { "```" };
        let _ = writeln!(out, "{fence}text\n{}\n{fence}\n", text.trim_end());
    }
}

fn log_patterns(out: &mut String, report: &Report, opts: &MarkdownOptions) {
    if !report.sources.iter().any(|s| s.signal == "logs") {
        return;
    }
    let _ = writeln!(out, "## New log patterns\n");
    if report.log_patterns.is_empty() {
        let _ = writeln!(
            out,
            "No error or warning log pattern is new or jumped against the baseline.\n"
        );
        return;
    }
    let link_col = opts.grafana.is_some();
    let _ = writeln!(
        out,
        "| Change | Before | After | q | Services | First seen | Traces | Template |{}",
        if link_col { " Explore |" } else { "" }
    );
    let _ = writeln!(
        out,
        "|---|--:|--:|--:|---|---|---|---|{}",
        if link_col { "---|" } else { "" }
    );
    let label = opts.log_service_label.as_deref().unwrap_or("service_name");
    let w = &report.window;
    for p in &report.log_patterns {
        let traces = if p.trace_ids.is_empty() {
            String::new()
        } else {
            let mut t: Vec<String> = p.trace_ids.iter().take(3).map(|id| code(id)).collect();
            if p.trace_count > t.len() {
                t.push(format!("+{}", p.trace_count - t.len()));
            }
            t.join(" ")
        };
        let _ = write!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            p.change,
            p.baseline_count,
            p.incident_count,
            fmt_p(p.q_value),
            cell(&p.services.join(", ")),
            p.first_seen_unix
                .map(|t| local(t, &opts.time_zone, false))
                .unwrap_or_default(),
            traces,
            code(&p.template),
        );
        if let Some(g) = &opts.grafana {
            match pattern_logql(p, label) {
                Some(q) => {
                    let url = g.explore(Kind::Loki, &q, w.baseline_since_unix, w.until_unix);
                    let _ = write!(out, " {} |", link("logs", &url));
                }
                None => out.push_str("  |"),
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
}

/// The LogQL of a pattern, for the Explore link: its services' streams and a line filter on the
/// template's longest fixed part.
fn pattern_logql(p: &crate::report::LogPatternEntry, label: &str) -> Option<String> {
    if p.services.is_empty() {
        return None;
    }
    let services = p
        .services
        .iter()
        .map(|s| regex_quote(s))
        .collect::<Vec<_>>()
        .join("|");
    let fixed = p
        .template
        .split("<*>")
        .map(str::trim)
        .max_by_key(|s| s.len())
        .unwrap_or("");
    let filter = if fixed.is_empty() {
        String::new()
    } else {
        format!(
            " |= \"{}\"",
            fixed.replace('\\', "\\\\").replace('"', "\\\"")
        )
    };
    Some(format!("{{{label}=~\"{services}\"}}{filter}"))
}

fn findings(out: &mut String, report: &Report) {
    if report.findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Findings\n");
    for f in &report.findings {
        let evidence: Vec<String> = f.evidence.iter().map(|e| code(e)).collect();
        let _ = writeln!(
            out,
            "{}. {} ({})",
            f.rank,
            f.text.replace('\n', " "),
            evidence.join(", ")
        );
    }
    let _ = writeln!(out);
}

fn sources(out: &mut String, report: &Report) {
    if report.sources.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Sources\n");
    let _ = writeln!(out, "| Signal | Kind | URL | Status |");
    let _ = writeln!(out, "|---|---|---|---|");
    for s in &report.sources {
        let status = match (s.status, &s.error) {
            (SourceState::Ok, _) => "ok".to_string(),
            (SourceState::Error, Some(e)) => format!("error: {e}"),
            (SourceState::Error, None) => "error".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&s.signal),
            cell(&s.kind),
            cell(&s.url),
            cell(&status)
        );
    }
    let _ = writeln!(out);
}

/// A duration as the flags take it: whole seconds as `15s`, else milliseconds.
fn duration_flag(seconds: f64) -> String {
    if seconds.fract() == 0.0 {
        format!("{seconds:.0}s")
    } else {
        format!("{:.0}ms", seconds * 1e3)
    }
}

fn reproduce(out: &mut String, report: &Report, opts: &MarkdownOptions) {
    let w = &report.window;
    let mut cmd = String::from("obs");
    if let Some(c) = &opts.context {
        let _ = write!(cmd, " --context {}", shell(c));
    }
    let _ = write!(
        cmd,
        " investigate --since {} --until {} --baseline {}",
        shell(&w.since),
        shell(&w.until),
        shell(&w.baseline_since)
    );
    if let Some(store) = &opts.store {
        let _ = write!(cmd, " --store {}", shell(store));
    }
    let _ = write!(cmd, " --step {}", duration_flag(w.step_seconds));
    if let Some(s) = opts.scrape_interval {
        let _ = write!(cmd, " --scrape-interval {}", duration_flag(s));
    }
    let given = |origin: &str| origin == "flag" || origin.starts_with("env ");
    let sym = &report.symptom;
    // Every query given, in the order examined: the chosen one first.
    for (query, origin) in std::iter::once((&sym.query, &sym.origin))
        .chain(sym.also_examined.iter().map(|o| (&o.query, &o.origin)))
    {
        if given(origin) {
            let _ = write!(cmd, " --symptom-query {}", shell(query));
        }
    }
    if sym.kind == "latency" && sym.also_examined.is_empty() && sym.origin.starts_with("auto") {
        cmd.push_str(" --symptom latency");
    }
    if let Some(service) = &report.symptom.service {
        let _ = write!(cmd, " --service {}", shell(service));
    }
    let _ = writeln!(out, "## Reproduce\n");
    let _ = writeln!(out, "```sh");
    let _ = writeln!(out, "{cmd} -o markdown");
    for t in &report.traces {
        let mut line = String::from("obs");
        if let Some(c) = &opts.context {
            let _ = write!(line, " --context {}", shell(c));
        }
        let _ = write!(line, " trace {}", shell(&t.summary.trace_id));
        if let Some(store) = &opts.store {
            let _ = write!(line, " --store {}", shell(store));
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "```");
}

#[cfg(test)]
mod tests;
