//! `obs store info`: what a store file holds (counts, services, first and last timestamps),
//! read-only so it works while a sink writes to it. `obs store export` / `import`: one signal
//! of a store as OTLP JSON Lines, and such files into a store (the format is `jsonl`'s).

use std::io::Write as _;

use anyhow::Context as _;

use crate::cli::{Cli, Output, SignalArg, StoreCommand, StoreExportArgs, StoreImportArgs};
use crate::jsonl;
use crate::sink;
use crate::store::{ExportSignal, ExportWindow, Store, StoreInfo};
use crate::timespec;

use super::print;

pub fn run(cli: &Cli, command: &StoreCommand) -> anyhow::Result<u8> {
    match command {
        StoreCommand::Info(args) => info(cli, args.store.as_deref()),
        StoreCommand::Export(args) => export(args),
        StoreCommand::Import(args) => import(cli, args),
    }
}

pub(crate) fn export_signal(s: SignalArg) -> ExportSignal {
    match s {
        SignalArg::Traces => ExportSignal::Traces,
        SignalArg::Logs => ExportSignal::Logs,
        SignalArg::Metrics => ExportSignal::Metrics,
    }
}

fn export(args: &StoreExportArgs) -> anyhow::Result<u8> {
    let env = |k: &str| std::env::var(k).ok();
    let path = sink::store_path(args.store.as_deref(), &env)?;
    let now = jiff::Zoned::now();
    let ns = |t: &Option<String>, default: i64| -> anyhow::Result<i64> {
        Ok(match t {
            Some(t) => {
                i64::try_from(timespec::parse_instant(t, &now)?.as_nanosecond()).unwrap_or(default)
            }
            None => default,
        })
    };
    let window = ExportWindow {
        start: ns(&args.since, ExportWindow::ALL.start)?,
        end: ns(&args.until, ExportWindow::ALL.end)?,
    };
    let store = Store::open_read_only(&path)?;
    let signal = export_signal(args.signal);
    let result = match &args.out {
        Some(file) => {
            let mut out = jsonl::create_output(file, args.gzip)
                .with_context(|| format!("{}: cannot create the export file", file.display()))?;
            jsonl::export(&store, signal, window, &mut out)
                .with_context(|| format!("{}: export failed", file.display()))
        }
        None => {
            let stdout = std::io::stdout().lock();
            let mut out: Box<dyn std::io::Write> = if args.gzip {
                jsonl::gzip(std::io::BufWriter::with_capacity(1 << 20, stdout))
            } else {
                Box::new(std::io::BufWriter::with_capacity(1 << 20, stdout))
            };
            let r = jsonl::export(&store, signal, window, &mut out);
            drop(out);
            r.map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(done) => {
            tracing::info!(lines = done.lines, items = done.items, "exported");
            Ok(0)
        }
        // `obs store export | head` is success.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                    || c.downcast_ref::<jsonl::ExportError>().is_some_and(|x| {
                        matches!(x, jsonl::ExportError::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
                    })
            }) =>
        {
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

fn import(cli: &Cli, args: &StoreImportArgs) -> anyhow::Result<u8> {
    let env = |k: &str| std::env::var(k).ok();
    let path = sink::store_path(args.store.as_deref(), &env)?;
    let imported = jsonl::import(&args.files, &path)?;
    match cli.global.output {
        Output::Json => print(&(serde_json::to_string_pretty(&imported)? + "\n"))?,
        Output::Text | Output::Markdown => print(&render_import(&imported, &path))?,
    }
    if imported.bad_line_count > 0 {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "error: {} line(s) are not OTLP JSON and were skipped (the rest was imported):",
            imported.bad_line_count
        );
        for bad in &imported.bad_lines {
            let _ = writeln!(err, "  {bad}");
        }
        return Ok(1);
    }
    Ok(u8::from(imported.rejected > 0))
}

fn render_import(imported: &jsonl::Imported, store: &std::path::Path) -> String {
    let mut out = format!(
        "imported {} file(s), {} line(s) into {}: {} items accepted, {} rejected\n",
        imported.files,
        imported.lines,
        store.display(),
        imported.accepted,
        imported.rejected
    );
    for r in &imported.rejections {
        out.push_str(&format!("  rejected: {r}\n"));
    }
    out
}

fn info(cli: &Cli, store: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let env = |k: &str| std::env::var(k).ok();
    let path = sink::store_path(store, &env)?;
    let info = Store::open_read_only(&path)?.info()?;
    match cli.global.output {
        Output::Json => print(&(serde_json::to_string_pretty(&info)? + "\n"))?,
        Output::Text | Output::Markdown => print(&render_info(&info))?,
    }
    Ok(0)
}

/// `obs store info` as text: one aligned line per fact.
fn render_info(info: &StoreInfo) -> String {
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
    crate::sink::health::human_bytes(n)
}
