//! Dispatch: turn parsed arguments into a resolved configuration, run the command, print its
//! output, and decide the exit code (0 ok, 1 runtime failure or a failed source, 2 usage).

use std::io::{IsTerminal, Write};

use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::{Cli, ColorChoice, Command, InvestigateArgs, Output};
use crate::config::{self, Config, ConfigError, Overrides, Source};
use crate::investigate;
use crate::report::text::{TextOptions, render};
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
    }
}

/// The exit code for an error: 2 when the user asked for something impossible (bad flags,
/// config, times), 1 for everything that went wrong at run time.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let usage = err
        .chain()
        .any(|e| e.is::<ConfigError>() || e.is::<TimeSpecError>());
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
