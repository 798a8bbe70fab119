//! Dispatch: run the parsed command (each lives in `cmd/`), set up logging, and decide the exit
//! code (0 ok, 1 runtime failure or a failed source, 2 usage). Nothing else: a command's glue
//! belongs in its `cmd/<command>.rs`.

use std::io::IsTerminal as _;

use crate::cli::{Cli, Command};
use crate::cmd::{self, UsageError};
use crate::config::ConfigError;
use crate::model::trace::InvalidId;
use crate::sink::SinkUsageError;
use crate::timespec::TimeSpecError;

/// Runs one command; the returned number is the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    // The sink's log must never block or fail a request: lines go through a queue.
    let queued_log = matches!(cli.command, Command::Sink(_));
    init_logging(cli.global.verbose, cli.global.quiet, queued_log);
    cmd::check_markdown(&cli)?;
    match &cli.command {
        Command::Completions { shell } => cmd::completions::run(*shell),
        Command::Config => cmd::config::run(&cli),
        Command::Doctor(args) => cmd::doctor::run(&cli, args),
        Command::Investigate(args) => cmd::investigate::run(&cli, args),
        Command::Trace(args) => cmd::trace::run(&cli, args),
        Command::Logs(args) => cmd::logs::run(&cli, args),
        Command::Sink(args) => cmd::sink::run(&cli, args),
        Command::Demo(args) => cmd::demo::run(&cli, args),
        Command::Query(args) => cmd::query::run(&cli, args),
        Command::Patterns(args) => cmd::patterns::run(&cli, args),
        Command::Explain(args) => cmd::explain::run(&cli, args),
        Command::Store(command) => cmd::store::run(&cli, command),
        Command::Snapshot(args) => cmd::snapshot::run(&cli, args),
        Command::Replay(args) => cmd::replay::run(&cli, args),
        Command::Tui(args) => cmd::tui::run(&cli, args),
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
            || e.is::<cmd::snapshot::SnapshotExists>()
            || cmd::tui::is_usage(e)
            || e.is::<cmd::explain::ExplainUsageError>()
            || e.is::<crate::explain::settings::SettingsError>()
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

fn init_logging(verbose: u8, quiet: bool, queued: bool) {
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
    let writer = if queued {
        crate::sink::log::stderr_writer()
    } else {
        tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr)
    };
    let subscriber = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_max_level(tracing::Level::TRACE)
        .finish()
        .with(filter);
    let _ = tracing::subscriber::set_global_default(subscriber);
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
