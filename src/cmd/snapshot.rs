//! `obs snapshot FILE`: run the investigation against the remote backends through recording
//! sources (`source::recording`), fetch the raw samples under every metrics query it made, and
//! write everything into a new store file — metrics as raw samples with their exemplars, the
//! traces it followed in full, the log records it read, and a manifest of every fetch.
//! `obs investigate --store FILE` over the same window then ranks the same candidates.
//!
//! The file is written next to its destination under a temporary name and renamed into place
//! when complete, so a failed snapshot leaves no half-written incident file and `--force`
//! replaces the old one only with a whole new one.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::{Cli, Output, SnapshotArgs};
use crate::source::Metrics;
use crate::source::http::HttpClient;
use crate::source::prometheus::Prometheus;
use crate::source::recording::{self, Recorder, Recording};
use crate::store::{self, Captured, ManifestEntry, Payload, WriterConfig};

use super::{investigate, load_config, print, runtime};

/// The incident file exists and `--force` was not given (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{}: already exists; pass --force to replace it, or name a new file", .0.display())]
pub struct SnapshotExists(pub PathBuf);

/// What a snapshot wrote, as `-o json` prints it.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub file: String,
    pub series: u64,
    pub samples: u64,
    pub exemplars: u64,
    pub traces: u64,
    pub spans: u64,
    pub logs: u64,
    pub fetches: usize,
    pub failed_fetches: usize,
    /// The investigation's own fetches (and analysis), then the raw-sample fetches, then writing.
    pub investigate_ms: u64,
    pub raw_samples_ms: u64,
    pub write_ms: u64,
    /// Why the investigation itself stopped, when it did (what was fetched is still written).
    pub investigation_error: Option<String>,
    pub failed: Vec<ManifestEntry>,
}

pub fn run(cli: &Cli, args: &SnapshotArgs) -> anyhow::Result<u8> {
    super::check_markdown(cli)?;
    if !args.force && args.file.exists() {
        return Err(SnapshotExists(args.file.clone()).into());
    }
    let inv = &args.investigation;
    let config = load_config(cli, &investigate::overrides(inv))?;
    let now = jiff::Zoned::now();
    let options = investigate::options(cli, inv, &config, &now)?;
    let show_progress = !cli.global.quiet && std::io::stderr().is_terminal();

    let rec = Recorder::new();
    let http = HttpClient::new("prometheus", &config.prometheus)?;
    let metrics = recording::record_metrics(Metrics::Prometheus(Prometheus::new(http)), &rec);
    let traces = super::traces_backend(&config)?.map(|t| recording::record_traces(t, &rec));
    let logs = super::logs_backend(&config)?.map(|l| recording::record_logs(l, &rec));
    let runtime = runtime()?;

    let started = Instant::now();
    let investigation =
        investigate::gather(&runtime, inv, &config, &options, &metrics, &traces, &logs);
    let investigate_ms = ms(started);
    let investigation_error = investigation.as_ref().err().map(|e| format!("{e:#}"));
    if let Some(e) = &investigation_error {
        tracing::warn!("the investigation stopped ({e}); capturing what it fetched");
    }

    let started = Instant::now();
    let raw = match &metrics {
        Metrics::Recording(m) => {
            let bar = progress_bar(show_progress, "raw samples");
            let progress = |done: usize, total: usize| {
                if let Some(bar) = &bar {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                }
            };
            let raw = runtime.block_on(recording::raw_samples(m, config.concurrency, &progress));
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            raw
        }
        _ => Vec::new(),
    };
    let raw_samples_ms = ms(started);

    let started = Instant::now();
    let bar = progress_bar(show_progress, "writing");
    let recording = rec.take();
    let mut summary = write(&args.file, recording, raw, &now)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary.investigate_ms = investigate_ms;
    summary.raw_samples_ms = raw_samples_ms;
    summary.write_ms = ms(started);
    summary.investigation_error = investigation_error;

    match cli.global.output {
        Output::Json => print(&(serde_json::to_string_pretty(&summary)? + "\n"))?,
        Output::Text | Output::Markdown => print(&render(&summary))?,
    }
    // As for investigate: a failed source (or a stopped investigation) is exit 1, a single
    // failed candidate query is not; a raw-sample fetch that failed leaves data out of the file.
    let source_failed = match &investigation {
        Ok(report) => report.any_source_failed(),
        Err(_) => true,
    };
    let raw_failed = summary.failed.iter().any(|f| f.call == "raw_samples");
    let failed = source_failed || raw_failed;
    Ok(if failed { 1 } else { 0 })
}

/// Writes the recording into a temporary file beside `dest`, then renames it into place.
fn write(
    dest: &Path,
    recording: Recording,
    raw: Vec<store::RawSeries>,
    now: &jiff::Zoned,
) -> anyhow::Result<Summary> {
    let partial = sibling(dest, ".partial");
    remove_store_files(&partial)?;
    let result = write_file(&partial, recording, raw, now);
    if result.is_err() {
        let _ = remove_store_files(&partial);
    }
    let mut summary = result?;
    // A stale write-ahead log of the file being replaced would be applied to the new one.
    remove_store_files(dest)?;
    std::fs::rename(&partial, dest)
        .with_context(|| format!("{}: cannot move the snapshot into place", dest.display()))?;
    summary.file = dest.display().to_string();
    Ok(summary)
}

fn write_file(
    path: &Path,
    recording: Recording,
    raw: Vec<store::RawSeries>,
    now: &jiff::Zoned,
) -> anyhow::Result<Summary> {
    let Recording {
        manifest,
        metadata,
        exemplars,
        traces,
        logs,
        ..
    } = recording;
    let traces: Vec<_> = traces.into_values().collect();
    let spans: u64 = traces.iter().map(|t| t.spans.len() as u64).sum();
    let (handle, writer) = store::spawn_writer(path, WriterConfig::default())?;
    let mut receipts = Vec::new();
    if !traces.is_empty() {
        receipts.push(submit(
            &handle,
            Payload::Traces(store::traces_request(&traces)),
        )?);
    }
    if !logs.is_empty() {
        receipts.push(submit(&handle, Payload::Logs(store::logs_request(&logs)))?);
    }
    let mut stored_logs = 0;
    for (signal, receipt) in receipts {
        let committed = receipt.wait_blocking()?;
        if let Some(message) = &committed.message {
            tracing::warn!("{signal}: {message}");
        }
        if signal == "logs" {
            stored_logs = committed.accepted;
        }
    }
    drop(handle);
    writer.shutdown()?;
    let counts = store::write_captured(
        path,
        &Captured {
            families: metadata.into_iter().collect(),
            series: raw,
            exemplars,
        },
    )?;
    let captured_at = now.timestamp().to_string();
    store::write_manifest(path, &manifest, &captured_at)?;
    let failed: Vec<ManifestEntry> = manifest
        .iter()
        .filter(|e| e.status != "ok")
        .cloned()
        .collect();
    Ok(Summary {
        file: path.display().to_string(),
        series: counts.series,
        samples: counts.samples,
        exemplars: counts.exemplars,
        traces: traces.len() as u64,
        spans,
        logs: stored_logs,
        fetches: manifest.len(),
        failed_fetches: failed.len(),
        investigate_ms: 0,
        raw_samples_ms: 0,
        write_ms: 0,
        investigation_error: None,
        failed,
    })
}

fn submit(
    handle: &store::WriterHandle,
    payload: Payload,
) -> anyhow::Result<(&'static str, store::Receipt)> {
    let signal = payload.signal();
    // A fresh writer's queue is empty; Overloaded cannot happen for two requests, but is an
    // error rather than a lost signal if it ever did.
    let receipt = handle
        .submit(payload)
        .map_err(|e| anyhow::anyhow!("{}: {signal} not stored: {e}", handle.path().display()))?;
    Ok((signal, receipt))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a store file and its `-wal` and `-shm` companions, when present.
fn remove_store_files(path: &Path) -> anyhow::Result<()> {
    for p in [
        path.to_path_buf(),
        sibling(path, "-wal"),
        sibling(path, "-shm"),
    ] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("{}: cannot remove", p.display())),
        }
    }
    Ok(())
}

fn progress_bar(enabled: bool, what: &str) -> Option<indicatif::ProgressBar> {
    if !enabled {
        return None;
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} {what} {{pos}}/{{len}} {{wide_bar}}"
    )) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

fn render(s: &Summary) -> String {
    let mut out = format!(
        "snapshot {}\n  metrics  {} series, {} samples, {} exemplars\n  traces   {} ({} spans)\n  logs     {} records\n  fetches  {} ({} failed); investigation {} ms, raw samples {} ms, writing {} ms\n",
        s.file,
        s.series,
        s.samples,
        s.exemplars,
        s.traces,
        s.spans,
        s.logs,
        s.fetches,
        s.failed_fetches,
        s.investigate_ms,
        s.raw_samples_ms,
        s.write_ms,
    );
    if let Some(e) = &s.investigation_error {
        out.push_str(&format!("  the investigation stopped: {e}\n"));
    }
    for f in &s.failed {
        out.push_str(&format!(
            "  failed: {} {} {} {:?}: {}\n",
            f.signal,
            f.url,
            f.call,
            f.query,
            f.error.as_deref().unwrap_or("")
        ));
    }
    out
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis().try_into().unwrap_or(u64::MAX)
}
