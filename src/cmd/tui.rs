//! `obs tui REPORT.json`, `obs tui --store PATH` and `obs investigate --tui`: where the UI's
//! report and sources come from, then [`crate::tui`] runs it. Owns no UI code.

use std::path::Path;

use crate::cli::{Cli, ColorChoice, TuiArgs};
use crate::config::Overrides;
use crate::report::{Report, SourceState};
use crate::source::local_traces::{LocalLogs, LocalStore, LocalTraces};
use crate::source::{Logs, Traces};
use crate::tui::{self, Sources, TuiError, TuiOptions};

/// How the UI draws: monochrome with `--color never` or `NO_COLOR` (stdout is a terminal here,
/// so `auto` means colour unless `NO_COLOR` says otherwise).
pub(crate) fn options(color: ColorChoice) -> TuiOptions {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    TuiOptions {
        monochrome: match color {
            ColorChoice::Always => false,
            ColorChoice::Never => true,
            ColorChoice::Auto => no_color,
        },
        time_zone: super::local_zone(),
    }
}

/// The sources of a store file.
fn store_sources(path: &Path) -> anyhow::Result<Sources> {
    let store = LocalStore::open(path)?;
    Ok(Sources {
        traces: Some(Traces::Local(LocalTraces::new(store.clone()))),
        logs: Some(Logs::Local(LocalLogs::new(store))),
    })
}

/// A store the report names as its traces or logs source, if that file is still there.
fn report_store(report: &Report) -> Option<&Path> {
    report
        .sources
        .iter()
        .filter(|s| s.kind == crate::source::local_traces::KIND && s.status == SourceState::Ok)
        .map(|s| Path::new(s.url.as_str()))
        .find(|p| p.is_file())
}

pub fn run(cli: &Cli, args: &TuiArgs) -> anyhow::Result<u8> {
    // The report is read (and refused, naming the file) before the terminal is asked for.
    let report = args.report.as_deref().map(tui::read_report).transpose()?;
    tui::require_terminal()?;
    let options = options(cli.global.color);
    let runtime = super::runtime()?;
    let Some(report) = report else {
        // clap asks for one of the two; this is the same message for a caller that did not.
        let path = args.store.as_deref().ok_or_else(|| {
            anyhow::anyhow!("give a report file (REPORT) or a store (--store PATH)")
        })?;
        let sources = store_sources(path)?;
        tui::run_store(path, sources, &options, runtime.handle())?;
        return Ok(0);
    };
    let sources = match args.store.as_deref().or_else(|| report_store(&report)) {
        Some(path) => store_sources(path)?,
        None => {
            let overrides = Overrides {
                tempo_url: args.traces_backend.tempo_url.clone(),
                jaeger_url: args.traces_backend.jaeger_url.clone(),
                loki_url: args.loki_url.clone(),
                tenant: args.tenant.clone(),
                timeout: args.timeout.clone(),
                ..Overrides::default()
            };
            let config = super::load_config(cli, &overrides)?;
            Sources {
                traces: super::traces_backend(&config)?,
                logs: super::logs_backend(&config)?,
            }
        }
    };
    tui::run_report(report, sources, &options, runtime.handle())?;
    Ok(0)
}

/// True when `err` is a TUI error the user fixes by asking differently (exit code 2).
pub(crate) fn is_usage(err: &(dyn std::error::Error + 'static)) -> bool {
    err.downcast_ref::<TuiError>()
        .is_some_and(TuiError::is_usage)
}
