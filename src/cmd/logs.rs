//! `obs logs`: log lines of a trace, a service or a native LogQL query, from Loki or a store;
//! one line per record (text) or JSON lines. What matched a trace id is said on stderr.

use crate::cli::{Cli, LogsArgs, Output};
use crate::config::Overrides;
use crate::model::LogRecord;
use crate::model::trace::normalize_trace_id;
use crate::source::local_traces::{LocalLogs, LocalStore};
use crate::source::{Direction, LogQuery, LogResult, Logs, TraceMatch};
use crate::timespec::{self, Window};

use super::{UsageError, load_config, local_zone, print, runtime, use_color};

pub fn run(cli: &Cli, args: &LogsArgs) -> anyhow::Result<u8> {
    let (logs, query, window) = resolve(cli, args)?;
    let mut result = runtime()?.block_on(logs.logs(&query))?;
    let mut records = std::mem::take(&mut result.records);
    records.sort_by_key(|r| r.timestamp_unix_nano);
    if !cli.global.quiet {
        say_what_matched(args, &logs, &query, &result, &records, &window);
    }
    let matched = result.matched_by.map(TraceMatch::as_str);
    if args.patterns {
        let grouping = super::patterns::group_records(&records);
        super::patterns::print_grouping(cli, &grouping, None)?;
        return Ok(0);
    }
    let text = match cli.global.output {
        Output::Json => records
            .iter()
            .map(|r| log_json(r, matched).to_string() + "\n")
            .collect::<String>(),
        Output::Text | Output::Markdown => {
            render_log_lines(&records, &local_zone(), use_color(cli.global.color))
        }
    };
    print(&text)?;
    Ok(0)
}

/// The backend, the query and its window from the flags and the configuration.
fn resolve(cli: &Cli, args: &LogsArgs) -> anyhow::Result<(Logs, LogQuery, Window)> {
    let trace_id = args.trace.as_deref().map(normalize_trace_id).transpose()?;
    let now = jiff::Zoned::now();
    let window = timespec::resolve_window(
        &args.since,
        args.until.as_deref(),
        None,
        None,
        std::time::Duration::from_secs(1),
        &now,
    )?;
    let overrides = Overrides {
        loki_url: args.loki_url.clone(),
        tenant: args.tenant.clone(),
        timeout: args.timeout.clone(),
        trace_match: args.trace_match.map(|m| m.as_str().to_string()),
        log_selector: args.selector.clone(),
        ..Overrides::default()
    };
    let config = load_config(cli, &overrides)?;
    let store = args
        .store
        .clone()
        .or_else(|| super::zero_config_store(config.loki.is_none(), cli.global.quiet));
    let logs = match &store {
        Some(path) => Logs::Local(LocalLogs::new(LocalStore::open(path)?)),
        None => super::logs_backend(&config)?.ok_or(UsageError::NoLogs)?,
    };
    let ns = |ts: jiff::Timestamp| i64::try_from(ts.as_nanosecond()).unwrap_or(i64::MAX);
    let query = LogQuery {
        native: args.query.clone(),
        selector: config.log_selector.clone(),
        service: args.service.clone(),
        contains: args.grep.clone(),
        trace_id,
        trace_match: config.trace_match,
        min_level: args.level.clone(),
        start_ns: ns(window.since),
        end_ns: ns(window.until),
        limit: args.limit.max(1),
        direction: if args.forward {
            Direction::Forward
        } else {
            Direction::Backward
        },
    };
    Ok((logs, query, window))
}

/// On stderr: how a trace's lines were matched (or what was tried), and whether the limit
/// cut the window.
fn say_what_matched(
    args: &LogsArgs,
    logs: &Logs,
    query: &LogQuery,
    result: &LogResult,
    records: &[LogRecord],
    window: &Window,
) {
    let tried: Vec<&str> = result.tried.iter().map(|t| t.as_str()).collect();
    match (&query.trace_id, result.matched_by) {
        (Some(id), Some(how)) => eprintln!(
            "{} lines of trace {id}, matched by {} ({}): {}",
            records.len(),
            how.as_str(),
            match how {
                _ if matches!(logs, Logs::Local(_)) => "the records' own OTLP trace id",
                TraceMatch::Label => "the trace id is a stream label",
                TraceMatch::Metadata => "the trace id is structured metadata or a parsed label",
                _ => "the trace id is in the log line",
            },
            result.query
        ),
        (Some(id), None) => eprintln!(
            "no log lines for trace {id} between {} and {} (tried: {})",
            window.since,
            window.until,
            tried.join(", ")
        ),
        (None, _) => tracing::info!(query = %result.query, "log query"),
    }
    if result.truncated {
        eprintln!(
            "showing {} lines, the {} of the window: raise --limit for more",
            records.len(),
            if args.forward { "oldest" } else { "newest" }
        );
    }
}

/// One log record as a JSON line.
fn log_json(r: &LogRecord, matched: Option<&str>) -> serde_json::Value {
    let ts = jiff::Timestamp::from_nanosecond(i128::from(r.timestamp_unix_nano))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    serde_json::json!({
        "timestamp": ts.to_string(),
        "timestamp_unix_nano": r.timestamp_unix_nano,
        "service": r.service,
        "severity": r.severity,
        "trace_id": r.trace_id,
        "span_id": r.span_id,
        "body": r.body,
        "labels": r.labels,
        "matched_by": matched,
    })
}

/// One line per record: local time with zone, service, level, trace id, body.
fn render_log_lines(records: &[LogRecord], tz: &jiff::tz::TimeZone, color: bool) -> String {
    use std::fmt::Write as _;
    let service_w = records
        .iter()
        .map(|r| r.service.as_deref().unwrap_or("-").chars().count())
        .max()
        .unwrap_or(1);
    let level_w = records
        .iter()
        .map(|r| r.severity.as_deref().unwrap_or("-").chars().count())
        .max()
        .unwrap_or(1);
    let red = console::Style::new().red().bold().force_styling(color);
    let yellow = console::Style::new().yellow().force_styling(color);
    let dim = console::Style::new().dim().force_styling(color);
    let mut out = String::new();
    for r in records {
        let ts = jiff::Timestamp::from_nanosecond(i128::from(r.timestamp_unix_nano))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let time = ts
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S%.3f %Z")
            .to_string();
        let level = r.severity.as_deref().unwrap_or("-");
        let level_text = format!("{level:<level_w$}");
        let lower = level.to_ascii_lowercase();
        let level_text = if lower.starts_with("err")
            || lower.starts_with("fatal")
            || lower.starts_with("crit")
        {
            red.apply_to(level_text).to_string()
        } else if lower.starts_with("warn") {
            yellow.apply_to(level_text).to_string()
        } else {
            level_text
        };
        let _ = writeln!(
            out,
            "{} {:<service_w$} {} {} {}",
            dim.apply_to(time),
            r.service.as_deref().unwrap_or("-"),
            level_text,
            r.trace_id.as_deref().unwrap_or("-"),
            r.body.replace('\n', "\\n"),
        );
    }
    out
}
