//! Dispatch: turn parsed arguments into a resolved configuration, run the command, print its
//! output, and decide the exit code (0 ok, 1 runtime failure or a failed source, 2 usage).

use std::io::{IsTerminal, Write};

use anyhow::Context as _;
use clap::CommandFactory;

use crate::analysis::spantree;
use crate::cli::{
    Cli, ColorChoice, Command, InvestigateArgs, LogsArgs, Output, SinkArgs, StoreCommand, TraceArgs,
};
use crate::config::{self, Config, ConfigError, Overrides, Secret, Source, TraceBackend};
use crate::investigate;
use crate::model::LogRecord;
use crate::model::trace::{InvalidId, normalize_trace_id};
use crate::report::text::{TextOptions, render};
use crate::report::waterfall::{self, WaterfallOptions};
use crate::sink::{self, SinkUsageError};
use crate::source::jaeger::Jaeger;
use crate::source::local_traces::{LocalLogs, LocalStore, LocalTraces};
use crate::source::loki::Loki;
use crate::source::tempo::Tempo;
use crate::source::{
    Direction, LogQuery, Logs, Metrics, TraceMatch, Traces, http::HttpClient,
    prometheus::Prometheus,
};
use crate::timespec::{self, TimeSpecError};

mod tui;

/// A command that cannot run as asked (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(
        "no traces backend is configured: pass --tempo-url or --jaeger-url, set OBS_TEMPO_URL \
         or OBS_JAEGER_URL, or set tempo_url or jaeger_url in the context"
    )]
    NoTraces,
    #[error(
        "no logs backend is configured: pass --loki-url, set OBS_LOKI_URL (or logcli's \
         LOKI_ADDR), or set loki_url in the context"
    )]
    NoLogs,
}

/// The trace backend answered that it does not have the trace (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error(
    "trace {trace_id} not found in {backend} at {url}: check the id, or whether the trace is \
     older than the backend's retention"
)]
pub struct TraceNotFound {
    pub trace_id: String,
    pub backend: &'static str,
    pub url: String,
}

/// Runs one command; the returned number is the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    init_logging(cli.global.verbose, cli.global.quiet);
    match &cli.command {
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(*shell, &mut Cli::command(), "obs", &mut out);
            out.flush()?;
            Ok(0)
        }
        Command::Config => {
            let config = load_config(&cli, &Overrides::default())?;
            let text = match cli.global.output {
                Output::Text => config::render_toml(&config),
                Output::Json => serde_json::to_string_pretty(&config)? + "\n",
            };
            print(&text)?;
            Ok(0)
        }
        Command::Investigate(args) => investigate_command(&cli, args),
        Command::Trace(args) => trace_command(&cli, args),
        Command::Logs(args) => logs_command(&cli, args),
        Command::Sink(args) => sink_command(&cli, args),
        Command::Demo(args) => crate::demo::command(&cli, args),
        Command::Query(args) => query_command(&cli, args),
        Command::Tui(args) => tui::command(&cli, args),
        Command::Store(StoreCommand::Info(args)) => store_info_command(&cli, args.store.as_deref()),
    }
}

/// The exit code for an error: 2 when the user asked for something impossible (bad flags,
/// config, times), 1 for everything that went wrong at run time.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let usage = err.chain().any(|e| {
        e.is::<ConfigError>()
            || e.is::<TimeSpecError>()
            || e.is::<InvalidId>()
            || e.is::<UsageError>()
            || e.is::<SinkUsageError>()
            || e.is::<crate::demo::KeepExists>()
            || tui::is_usage(e)
    });
    if usage { 2 } else { 1 }
}

/// The error and its causes, `: `-separated like `{err:#}`, but a cause whose text the
/// message already holds is left out: many errors (`StoreError::Sqlite`, rusqlite's conversion
/// failures) print their source in their own message and also return it as `source()`.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// True when the error is stdout closing early (`obs … | head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::layer::SubscriberExt as _;
    let level = match (quiet, verbose) {
        (true, _) => tracing::Level::ERROR,
        (_, 0) => tracing::Level::WARN,
        (_, 1) => tracing::Level::INFO,
        (_, 2) => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    // Only obs's own events: dependencies' trace output is noise and could carry request
    // details obs does not control.
    let filter = tracing_subscriber::filter::Targets::new().with_target("obs", level);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_max_level(tracing::Level::TRACE)
        .finish()
        .with(filter);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

fn load_config(cli: &Cli, overrides: &Overrides) -> anyhow::Result<Config> {
    let mut overrides = overrides.clone();
    overrides.context = cli.global.context.clone();
    Ok(config::load(
        cli.global.config.as_deref(),
        &overrides,
        &|k| std::env::var(k).ok(),
    )?)
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn terminal_width() -> u16 {
    if let Some((_, cols)) = console::Term::stdout().size_checked() {
        return cols.max(20);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|c| *c >= 20)
        .unwrap_or(120)
}

fn origin_of(config: &Config, key: &str) -> String {
    match config.source(key) {
        Some(Source::Flag(_)) => "flag".into(),
        Some(Source::Env(var)) => format!("env {var}"),
        Some(Source::File(_)) => "config".into(),
        Some(Source::Default) | None => "default".into(),
    }
}

/// The async runtime every command that does I/O runs on.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn local_zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::system()
}

/// The configured traces backend, if any.
fn traces_backend(config: &Config) -> anyhow::Result<Option<Traces>> {
    Ok(match config.traces() {
        Some((TraceBackend::Tempo, http)) => Some(Traces::Tempo(
            Tempo::new(HttpClient::new("tempo", http)?).with_search_mode(config.tempo_search),
        )),
        Some((TraceBackend::Jaeger, http)) => Some(Traces::Jaeger(Jaeger::new(HttpClient::new(
            "jaeger", http,
        )?))),
        None => None,
    })
}

/// The configured logs backend, if any.
fn logs_backend(config: &Config) -> anyhow::Result<Option<Logs>> {
    Ok(match &config.loki {
        Some(http) => Some(Logs::Loki(
            Loki::new(HttpClient::new("loki", http)?)
                .with_service_label(config.log_service_label.clone()),
        )),
        None => None,
    })
}

fn trace_command(cli: &Cli, args: &TraceArgs) -> anyhow::Result<u8> {
    let trace_id = normalize_trace_id(&args.trace_id)?;
    let overrides = Overrides {
        tempo_url: args.backend.tempo_url.clone(),
        jaeger_url: args.backend.jaeger_url.clone(),
        tenant: args.tenant.clone(),
        timeout: args.timeout.clone(),
        ..Overrides::default()
    };
    let config = load_config(cli, &overrides)?;
    let traces = match &args.store {
        Some(path) => Traces::Local(LocalTraces::new(LocalStore::open(path)?)),
        None => traces_backend(&config)?.ok_or(UsageError::NoTraces)?,
    };
    tracing::info!(backend = traces.kind(), url = traces.url(), %trace_id, "fetching trace");
    let trace = runtime()?.block_on(traces.trace(&trace_id))?;
    let Some(trace) = trace else {
        return Err(TraceNotFound {
            trace_id,
            backend: traces.kind(),
            url: traces.url().to_string(),
        }
        .into());
    };
    let tree = spantree::build(&trace);
    match cli.global.output {
        Output::Json => {
            print(&(serde_json::to_string_pretty(&waterfall::trace_view(&tree))? + "\n"))?
        }
        Output::Text => print(&waterfall::render(
            &tree,
            &WaterfallOptions {
                width: terminal_width(),
                color: use_color(cli.global.color),
                max_depth: args.depth,
                service: args.service.clone(),
                errors_only: args.errors_only,
                max_rows: None,
                time_zone: local_zone(),
            },
        ))?,
    }
    Ok(0)
}

fn logs_command(cli: &Cli, args: &LogsArgs) -> anyhow::Result<u8> {
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
    let logs = match &args.store {
        Some(path) => Logs::Local(LocalLogs::new(LocalStore::open(path)?)),
        None => logs_backend(&config)?.ok_or(UsageError::NoLogs)?,
    };
    let ns = |ts: jiff::Timestamp| i64::try_from(ts.as_nanosecond()).unwrap_or(i64::MAX);
    let query = LogQuery {
        native: args.query.clone(),
        selector: config.log_selector.clone(),
        service: args.service.clone(),
        contains: args.grep.clone(),
        trace_id: trace_id.clone(),
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
    let result = runtime()?.block_on(logs.logs(&query))?;
    let mut records = result.records;
    records.sort_by_key(|r| r.timestamp_unix_nano);
    let matched = result.matched_by.map(TraceMatch::as_str);
    if !cli.global.quiet {
        let tried: Vec<&str> = result.tried.iter().map(|t| t.as_str()).collect();
        match (&trace_id, result.matched_by) {
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
    let tz = local_zone();
    let text = match cli.global.output {
        Output::Json => records
            .iter()
            .map(|r| log_json(r, matched).to_string() + "\n")
            .collect::<String>(),
        Output::Text => render_log_lines(&records, &tz, use_color(cli.global.color)),
    };
    print(&text)?;
    Ok(0)
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

fn investigate_command(cli: &Cli, args: &InvestigateArgs) -> anyhow::Result<u8> {
    let overrides = Overrides {
        tempo_url: args.traces_backend.tempo_url.clone(),
        jaeger_url: args.traces_backend.jaeger_url.clone(),
        loki_url: args.loki_url.clone(),
        trace_match: args.trace_match.map(|m| m.as_str().to_string()),
        log_selector: args.log_selector.clone(),
        prometheus_url: args.prometheus_url.clone(),
        tenant: args.tenant.clone(),
        timeout: args.timeout.clone(),
        error_query: args.error_query.clone(),
        latency_query: args.latency_query.clone(),
        service_label: args.service_label.clone(),
        candidate_match: args.candidate_match.clone(),
        candidates: args.candidates.clone(),
        max_candidates: args.max_candidates,
        concurrency: args.concurrency,
        scrape_interval: args.scrape_interval.clone(),
        ..Overrides::default()
    };
    if args.tui {
        // Before the investigation: a pipe cannot show the UI, so say so at once.
        crate::tui::require_terminal()?;
    }
    let config = load_config(cli, &overrides)?;
    let now = jiff::Zoned::now();
    let window = timespec::resolve_window(
        &args.since,
        args.until.as_deref(),
        args.baseline.as_deref(),
        args.step.as_deref(),
        config.scrape_interval,
        &now,
    )?;
    let tz = now.time_zone().clone();
    let unix = |ts: jiff::Timestamp| ts.as_duration().as_secs_f64();
    let options = investigate::Options {
        since: unix(window.since),
        until: unix(window.until),
        baseline_since: unix(window.baseline_since),
        step: window.step.as_secs_f64(),
        error_query: config
            .error_query
            .clone()
            .map(|q| (q, origin_of(&config, "error_query"))),
        latency_query: config.latency_query.clone(),
        service: args.service.clone(),
        service_label: config.service_label.clone(),
        candidate_match: config.candidate_match.clone(),
        candidates: config.candidates.clone(),
        max_candidates: config.max_candidates,
        concurrency: config.concurrency,
        scrape_interval: config.scrape_interval.as_secs_f64(),
        max_exemplars: args.exemplars,
        progress: !cli.global.quiet && std::io::stderr().is_terminal(),
        time_zone: tz
            .iana_name()
            .map(str::to_string)
            .unwrap_or_else(|| tz.to_offset(window.since).to_string()),
    };
    tracing::info!(
        context = %config.context,
        prometheus = %config.prometheus.url,
        step_seconds = options.step,
        "investigating"
    );
    let (metrics, traces, logs) = match &args.store {
        Some(path) => {
            let store = LocalStore::open(path)?;
            (
                local_metrics(&store)?,
                Some(Traces::Local(LocalTraces::new(store.clone()))),
                Some(Logs::Local(LocalLogs::new(store))),
            )
        }
        None => {
            let http = HttpClient::new("prometheus", &config.prometheus)?;
            (
                Metrics::Prometheus(Prometheus::new(http)),
                traces_backend(&config)?,
                logs_backend(&config)?,
            )
        }
    };
    let runtime = runtime()?;
    let mut report = runtime.block_on(investigate::run(&metrics, &options))?;
    let (start, end) = investigate::spike_window(&report);
    let follow = investigate::FollowOptions {
        traces: args.traces,
        service: args.service.clone(),
        start,
        end,
        trace_match: config.trace_match,
        log_selector: config.log_selector.clone(),
        logs_per_trace: 50,
        concurrency: config.concurrency.min(8),
    };
    let followed = runtime.block_on(investigate::follow(
        &report.exemplars,
        traces.as_ref(),
        logs.as_ref(),
        &follow,
    ));
    followed.apply(&mut report);
    if args.tui {
        let failed = report.any_source_failed();
        let sources = crate::tui::Sources { traces, logs };
        crate::tui::run_report(
            report,
            sources,
            &tui::options(cli.global.color),
            runtime.handle(),
        )?;
        return Ok(if failed { 1 } else { 0 });
    }
    if !cli.global.quiet {
        for warning in &report.warnings {
            tracing::warn!("{warning}");
        }
    }
    match cli.global.output {
        Output::Json => print(&(serde_json::to_string_pretty(&report)? + "\n"))?,
        Output::Text => print(&render(
            &report,
            &TextOptions {
                color: use_color(cli.global.color),
                width: terminal_width(),
                top: args.top,
                time_zone: tz,
            },
        ))?,
    }
    Ok(if report.any_source_failed() { 1 } else { 0 })
}

/// Offline metrics over the store: PromQL evaluated by `crate::promql` on its samples.
pub(crate) fn local_metrics(store: &LocalStore) -> anyhow::Result<Metrics> {
    Ok(crate::source::local::open_local_metrics(store.path())?)
}

/// `obs query`: one PromQL expression, instant or range, against Prometheus or a store.
fn query_command(cli: &Cli, args: &crate::cli::QueryArgs) -> anyhow::Result<u8> {
    use crate::promql::{Value, render};
    let now = jiff::Zoned::now();
    let unix = |ts: jiff::Timestamp| ts.as_duration().as_secs_f64();
    let metrics = match &args.store {
        Some(path) => crate::source::local::open_local_metrics(path)?,
        None => {
            let overrides = Overrides {
                prometheus_url: args.prometheus_url.clone(),
                tenant: args.tenant.clone(),
                ..Overrides::default()
            };
            let config = load_config(cli, &overrides)?;
            Metrics::Prometheus(Prometheus::new(HttpClient::new(
                "prometheus",
                &config.prometheus,
            )?))
        }
    };
    let runtime = runtime()?;
    let json = cli.global.output == Output::Json;
    let text = match &args.since {
        Some(since) => {
            let start = unix(timespec::parse_instant(since, &now)?);
            let end = match &args.until {
                Some(u) => unix(timespec::parse_instant(u, &now)?),
                None => unix(now.timestamp()),
            };
            let step = match &args.step {
                Some(s) => timespec::parse_duration(s)?,
                None => timespec::choose_step(
                    std::time::Duration::from_secs_f64((end - start).max(1.0)),
                    std::time::Duration::from_secs(1),
                ),
            };
            let series = runtime.block_on(metrics.query_range(
                &args.promql,
                start,
                end,
                step.as_secs_f64(),
            ))?;
            if json {
                serde_json::to_string_pretty(&render::range_json(&series))? + "\n"
            } else {
                render::range_text(&series)
            }
        }
        None => {
            let time = match &args.time {
                Some(t) => unix(timespec::parse_instant(t, &now)?),
                None => unix(now.timestamp()),
            };
            let value = match &metrics {
                Metrics::Local(l) => runtime.block_on(l.query_instant(&args.promql, time))?,
                // A one-point range is the instant query, in the API obs already speaks.
                Metrics::Prometheus(_) => Value::Vector(
                    runtime
                        .block_on(metrics.query_range(&args.promql, time, time, 1.0))?
                        .into_iter()
                        .filter_map(|s| {
                            let value = s.points.first()?.1;
                            Some(crate::promql::Sample {
                                labels: s.labels,
                                value,
                            })
                        })
                        .collect(),
                ),
            };
            if json {
                serde_json::to_string_pretty(&render::instant_json(&value, time))? + "\n"
            } else {
                render::instant_text(&value)
            }
        }
    };
    print(&text)?;
    Ok(0)
}

fn sink_command(cli: &Cli, args: &SinkArgs) -> anyhow::Result<u8> {
    let env = |k: &str| std::env::var(k).ok();
    let off = |addr: &str| (!addr.eq_ignore_ascii_case("off")).then(|| addr.to_string());
    let max_age = args
        .max_age
        .as_deref()
        .map(timespec::parse_duration)
        .transpose()?;
    if max_age.is_some_and(|d| d.is_zero()) {
        return Err(SinkUsageError::Zero { flag: "--max-age" }.into());
    }
    let max_size = args
        .max_size
        .as_deref()
        .map(|s| sink::parse_size("--max-size", s))
        .transpose()?;
    let max_request = sink::parse_size("--max-request-size", &args.max_request_size)?;
    if max_size == Some(0) {
        return Err(SinkUsageError::Zero { flag: "--max-size" }.into());
    }
    if max_request == 0 {
        return Err(SinkUsageError::Zero {
            flag: "--max-request-size",
        }
        .into());
    }
    let options = sink::SinkOptions {
        grpc: off(&args.grpc),
        http: off(&args.http),
        store: sink::store_path(args.store.as_deref(), &env)?,
        retention: crate::store::Retention {
            max_age,
            max_size_bytes: max_size,
        },
        receiver: sink::ReceiverConfig {
            max_request_bytes: usize::try_from(max_request).unwrap_or(usize::MAX),
            token: args
                .token
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            ..sink::ReceiverConfig::default()
        },
        json: cli.global.output == Output::Json,
        quiet: cli.global.quiet,
        drain_timeout: std::time::Duration::from_secs(30),
    };
    runtime()?.block_on(sink::run(options))?;
    Ok(0)
}

fn store_info_command(cli: &Cli, store: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let env = |k: &str| std::env::var(k).ok();
    let path = sink::store_path(store, &env)?;
    let info = crate::store::Store::open_read_only(&path)?.info()?;
    match cli.global.output {
        Output::Json => print(&(serde_json::to_string_pretty(&info)? + "\n"))?,
        Output::Text => print(&render_store_info(&info))?,
    }
    Ok(0)
}

/// `obs store info` as text: one aligned line per fact.
fn render_store_info(info: &crate::store::StoreInfo) -> String {
    let services = if info.services.is_empty() {
        "(none)".to_string()
    } else {
        info.services.join(", ")
    };
    let none = || "-".to_string();
    let rows = [
        ("store", info.path.clone()),
        ("schema", format!("v{}", info.schema_version)),
        ("size", format_bytes(info.size_bytes)),
        ("spans", info.spans.to_string()),
        ("traces", info.traces.to_string()),
        ("logs", info.logs.to_string()),
        ("metric points", info.metric_points.to_string()),
        ("series", info.series.to_string()),
        ("exemplars", info.exemplars.to_string()),
        ("services", services),
        ("first", info.first.clone().unwrap_or_else(none)),
        ("last", info.last.clone().unwrap_or_else(none)),
    ];
    rows.iter().map(|(k, v)| format!("{k:<14} {v}\n")).collect()
}

fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_already_in_the_message_is_printed_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("store.db: sqlite: {0}")]
        struct Outer(#[source] std::io::Error);
        let inner = std::io::Error::other("disk on fire");
        let err = anyhow::Error::new(Outer(inner)).context("cannot open the store");
        assert_eq!(
            super::error_text(&err),
            "cannot open the store: store.db: sqlite: disk on fire"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(super::error_text(&plain), "outer: inner");
    }
}
