//! One module per command: each turns its clap arguments into a resolved configuration and
//! options (resolve), runs the work on the async runtime (run), and prints the result for
//! `-o text|json` (render), returning the exit code. This module holds what several commands
//! share: loading the layered configuration, building the configured backends, the runtime,
//! terminal facts (colour, width, zone) and the usage errors that exit 2.
//!
//! To add a command: a `cli.rs` variant, a `cmd/<name>.rs` with `pub fn run(cli, args) ->
//! anyhow::Result<u8>` shaped like `cmd/trace.rs`, and one dispatch line in `app.rs`.
//!
//! Commands must not compute: statistics live in `analysis`, orchestration in `investigate`,
//! output formats in `report`; a command only wires them together. Nothing here prints a
//! secret.

pub mod completions;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod explain;
pub mod investigate;
pub mod logs;
pub mod patterns;
pub mod query;
pub mod replay;
pub mod sink;
pub mod snapshot;
pub mod store;
pub mod trace;
pub mod tui;

use std::io::{IsTerminal as _, Write as _};

use anyhow::Context as _;

use crate::cli::{Cli, ColorChoice};
use crate::config::{Config, Overrides, Source, TraceBackend};
use crate::source::http::HttpClient;
use crate::source::jaeger::Jaeger;
use crate::source::loki::Loki;
use crate::source::tempo::Tempo;
use crate::source::{Logs, Traces};

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
    #[error(
        "obs {0} has no markdown form: use -o text or -o json (-o markdown is for investigate, \
         demo and trace)"
    )]
    NoMarkdown(&'static str),
    #[error("{0}")]
    Invalid(String),
}

/// `-o markdown` is a postmortem document: investigate and demo write one, trace a waterfall in
/// a code block; every other command refuses it rather than print something else.
pub(crate) fn check_markdown(cli: &Cli) -> Result<(), UsageError> {
    use crate::cli::{Command, Output};
    if cli.global.output != Output::Markdown {
        return Ok(());
    }
    let name = match &cli.command {
        Command::Investigate(_) | Command::Demo(_) | Command::Trace(_) => return Ok(()),
        Command::Completions { .. } => return Ok(()),
        Command::Config => "config",
        Command::Doctor(_) => "doctor",
        Command::Logs(_) => "logs",
        Command::Sink(_) => "sink",
        Command::Query(_) => "query",
        Command::Patterns(_) => "patterns",
        Command::Store(_) => "store",
        Command::Snapshot(_) => "snapshot",
        Command::Replay(_) => "replay",
        Command::Explain(_) => "explain",
        Command::Tui(_) => "tui",
    };
    Err(UsageError::NoMarkdown(name))
}

/// Writes a command's output to stdout in one piece.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The configuration for this invocation: the file and context the global flags name, the
/// environment, and the command's own flags in `overrides` (highest).
pub(crate) fn load_config(cli: &Cli, overrides: &Overrides) -> anyhow::Result<Config> {
    let mut overrides = overrides.clone();
    overrides.context = cli.global.context.clone();
    Ok(crate::config::load(
        cli.global.config.as_deref(),
        &overrides,
        &|k| std::env::var(k).ok(),
    )?)
}

/// `--color`, with `auto` meaning a terminal on stdout and no `NO_COLOR`.
pub(crate) fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// The terminal's width, or `COLUMNS`, or 120 when stdout is not a terminal.
pub(crate) fn terminal_width() -> u16 {
    if let Some((_, cols)) = console::Term::stdout().size_checked() {
        return cols.max(20);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|c| *c >= 20)
        .unwrap_or(120)
}

/// Where a configuration value came from, as the report names it.
pub(crate) fn origin_of(config: &Config, key: &str) -> String {
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

/// The zone times are shown in.
pub(crate) fn local_zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::system()
}

/// The default store (`obs sink` without `--store`), when `unconfigured` (the command's
/// backends are not set by flag, env or file) and the file exists: zero-config local use.
/// Says on stderr that it is read, unless `quiet`.
pub(crate) fn zero_config_store(unconfigured: bool, quiet: bool) -> Option<std::path::PathBuf> {
    if !unconfigured {
        return None;
    }
    let path = crate::config::default_store_path(&|k| std::env::var(k).ok())?;
    if !path.is_file() {
        return None;
    }
    if !quiet {
        eprintln!(
            "no backend configured: reading the default store {} (written by `obs sink`)",
            path.display()
        );
    }
    Some(path)
}

/// True when no flag, variable or file set the context's Prometheus, traces or logs backend.
pub(crate) fn nothing_configured(config: &Config) -> bool {
    matches!(
        config.source("prometheus_url"),
        None | Some(Source::Default)
    ) && config.traces().is_none()
        && config.loki.is_none()
}

/// The configured traces backend, if any.
pub(crate) fn traces_backend(config: &Config) -> anyhow::Result<Option<Traces>> {
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
pub(crate) fn logs_backend(config: &Config) -> anyhow::Result<Option<Logs>> {
    Ok(match &config.loki {
        Some(http) => Some(Logs::Loki(
            Loki::new(HttpClient::new("loki", http)?)
                .with_service_label(config.log_service_label.clone()),
        )),
        None => None,
    })
}
