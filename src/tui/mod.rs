//! The interactive drill-down (`obs tui`, `obs investigate --tui`): from the spike to the
//! ranked candidates, the traces behind them, one trace's waterfall and its logs, without
//! leaving the terminal.
//!
//! The shape is The Elm Architecture: terminal input, ticks and fetched data arrive as one
//! [`event::Event`] stream on one channel; keys become [`app::Action`]s; [`app::update`] is
//! the only function that changes the [`app::App`]; [`ui::render`] draws a frame from it and
//! never waits, locks or queries. What `update` wants fetched (a trace, logs, the store's trace
//! list) it returns as [`app::Fetch`] requests, which [`fetch::Fetcher`] runs on the async
//! runtime through the same source traits the investigation uses, sending the answer back as
//! an event. A failing backend is an inline message, never a crash.
//!
//! This module owns the terminal while the UI runs ([`terminal::TerminalGuard`] restores it on
//! every exit path, a panic included). It must not print to stdout or stderr while the guard
//! is alive, and it never reads backends outside [`fetch`].

pub mod app;
pub mod event;
pub mod fetch;
pub mod keys;
pub mod terminal;
pub mod ui;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::report::{Report, SCHEMA_VERSION};
use crate::source::{Logs, Traces};

pub use app::{Action, App, View, update};

/// The smallest terminal the UI draws into; below it, it says so instead.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

/// How often the UI wakes without input: the spinner's frame rate, and the clock of the
/// store's trace-list refresh.
pub const TICK: Duration = Duration::from_millis(100);

/// Most events applied before one frame is drawn, so a burst of keys (or a key held down)
/// costs one frame, not one per key.
const EVENT_BATCH: usize = 64;

/// Why the TUI could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// Usage error (exit code 2): stdout is piped or redirected.
    #[error(
        "the interactive UI needs a terminal, but stdout is not one (piped or redirected): run \
         it in a terminal, or use -o json or the text report for scripts"
    )]
    NotATerminal,
    /// Usage error (exit code 2): `--tui` with `-o json`.
    #[error(
        "--tui and -o json both say where the report goes: drop one (to keep the report for \
         later, run with -o json > FILE, then obs tui FILE)"
    )]
    TuiAndJson,
    /// Usage error (exit code 2): the report file cannot be used.
    #[error("{}: {reason}", path.display())]
    BadReport { path: PathBuf, reason: String },
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

impl TuiError {
    /// True for errors the user can fix by asking differently (exit code 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            TuiError::NotATerminal | TuiError::TuiAndJson | TuiError::BadReport { .. }
        )
    }
}

/// Where the drill-down fetches more from: the backends (or the store) the report names.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub traces: Option<Traces>,
    pub logs: Option<Logs>,
}

/// How the UI starts.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    /// No colour: markers and text carry the meaning (`NO_COLOR`, `--color never`).
    pub monochrome: bool,
    pub time_zone: jiff::tz::TimeZone,
}

/// Fails with [`TuiError::NotATerminal`] unless stdout is a terminal.
pub fn require_terminal() -> Result<(), TuiError> {
    if std::io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(TuiError::NotATerminal)
    }
}

/// Reads a report written by `obs investigate -o json`. Not JSON, or another schema version,
/// is a [`TuiError::BadReport`] naming the file.
pub fn read_report(path: &Path) -> Result<Report, TuiError> {
    let bad = |reason: String| TuiError::BadReport {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read the report: {e}")))?;
    parse_report(&bytes).map_err(bad)
}

/// The report in `bytes`, or why it is not one obs can open.
pub fn parse_report(bytes: &[u8]) -> Result<Report, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        format!("not a JSON report ({e}); write one with `obs investigate … -o json > FILE`")
    })?;
    match value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "report schema version {v}, but this obs reads version {SCHEMA_VERSION}: open \
                 it with the obs that wrote it, or investigate again"
            ));
        }
        None => {
            return Err(
                "not an obs report (no schema_version): write one with `obs investigate … -o \
                 json > FILE`"
                    .to_string(),
            );
        }
    }
    serde_json::from_value(value)
        .map_err(|e| format!("not an obs report of schema version {SCHEMA_VERSION}: {e}"))
}

/// Runs the UI over a report until the user quits.
pub fn run_report(
    report: Report,
    sources: Sources,
    options: &TuiOptions,
    runtime: &tokio::runtime::Handle,
) -> Result<(), TuiError> {
    let app = App::from_report(report, sources.traces.is_some(), sources.logs.is_some());
    run_app(app, sources, options, runtime)
}

/// Runs the UI over a store's traces (refreshed while a sink writes) until the user quits.
pub fn run_store(
    path: &Path,
    sources: Sources,
    options: &TuiOptions,
    runtime: &tokio::runtime::Handle,
) -> Result<(), TuiError> {
    let app = App::for_store(path.display().to_string());
    run_app(app, sources, options, runtime)
}

fn run_app(
    mut app: App,
    sources: Sources,
    options: &TuiOptions,
    runtime: &tokio::runtime::Handle,
) -> Result<(), TuiError> {
    require_terminal()?;
    app.monochrome = options.monochrome;
    app.time_zone = options.time_zone.clone();
    let (tx, rx) = mpsc::channel();
    let mut guard = terminal::TerminalGuard::enter()?;
    let input = event::InputThread::spawn(tx.clone());
    event::forward_termination(runtime, tx.clone());
    let fetcher = fetch::Fetcher::new(sources, runtime.clone(), tx);
    let size = guard.terminal().size()?;
    for f in update(&mut app, Action::Resize(size.width, size.height)) {
        fetcher.start(f);
    }
    for f in app.initial_fetches() {
        fetcher.start(f);
    }
    let mut last_tick = Instant::now();
    while !app.quit {
        guard.terminal().draw(|frame| ui::render(frame, &app))?;
        let timeout = TICK.saturating_sub(last_tick.elapsed());
        let first = match rx.recv_timeout(timeout) {
            Ok(ev) => Some(ev),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut events: Vec<event::Event> = first.into_iter().collect();
        while events.len() < EVENT_BATCH {
            match rx.try_recv() {
                Ok(ev) => events.push(ev),
                Err(_) => break,
            }
        }
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            events.push(event::Event::Tick);
        }
        for ev in events {
            if let Some(action) = event::to_action(&app, ev) {
                for f in update(&mut app, action) {
                    fetcher.start(f);
                }
            }
            if app.quit {
                break;
            }
        }
    }
    input.stop();
    drop(guard);
    Ok(())
}
