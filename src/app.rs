//! Dispatch: turn parsed arguments into a resolved configuration, run the command, print its
//! output, and decide the exit code (0 ok, 1 runtime failure or a failed source, 2 usage).

use std::io::{IsTerminal, Write};

use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::{Cli, ColorChoice, Command, InvestigateArgs, Output, SinkArgs, StoreCommand};
use crate::config::{self, Config, ConfigError, Overrides, Secret, Source};
use crate::investigate;
use crate::report::text::{TextOptions, render};
use crate::sink::{self, SinkUsageError};
use crate::source::{Metrics, http::HttpClient, prometheus::Prometheus};
use crate::timespec::{self, TimeSpecError};

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
        Command::Sink(args) => sink_command(&cli, args),
        Command::Store(StoreCommand::Info(args)) => store_info_command(&cli, args.store.as_deref()),
    }
}

/// The exit code for an error: 2 when the user asked for something impossible (bad flags,
/// config, times), 1 for everything that went wrong at run time.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let usage = err
        .chain()
        .any(|e| e.is::<ConfigError>() || e.is::<TimeSpecError>() || e.is::<SinkUsageError>());
    if usage { 2 } else { 1 }
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

fn investigate_command(cli: &Cli, args: &InvestigateArgs) -> anyhow::Result<u8> {
    let overrides = Overrides {
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
    let http = HttpClient::new("prometheus", &config.prometheus)?;
    let metrics = Metrics::Prometheus(Prometheus::new(http));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(investigate::run(&metrics, &options))?;
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(sink::run(options))?;
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
