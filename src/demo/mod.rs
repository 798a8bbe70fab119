//! `obs demo`: the whole offline loop in one command. It starts the OTLP sink on free loopback
//! ports over a temporary store, runs a simulated shop ([`shop`]) that sends traces, logs and
//! metrics through the OpenTelemetry SDK's real OTLP exporters, injects a fault whose root
//! cause it knows, investigates the store, and says whether the report found the cause.
//!
//! It never fakes a result: what it cannot run (for example offline metrics missing from a
//! build) it says it did not run.
//!
//! The command's glue (flags, the runtime, printing) is `cmd::demo`; this module knows no CLI
//! types and does not import `cmd` or `app`.

pub mod shop;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::investigate;
use crate::report::Report;
use crate::sink::{Receiver, ReceiverConfig};
use crate::source::local_traces::{LocalLogs, LocalStore, LocalTraces};
use crate::source::{Logs, Traces};
use crate::store::{Store, TraceQuery, WriterConfig};

/// `obs demo` refused to start (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{}: already exists; pass a new path to --keep (the demo does not overwrite files)", path.display())]
pub struct KeepExists {
    pub path: PathBuf,
}

/// What the demo concluded about the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    /// The report ranked the injected cause first among the correlated metrics.
    pub root_cause_first: bool,
    /// Its rank, when it was ranked at all.
    pub root_cause_rank: Option<usize>,
    /// Seconds from the injection to the symptom's onset (negative: before).
    pub onset_after_injection_s: Option<f64>,
    /// The onset is within a few steps of the injection.
    pub onset_near_injection: bool,
    /// Some followed trace shows the pool timeout.
    pub trace_shows_cause: bool,
    pub found: bool,
}

/// The metric the injected cause shows up as.
pub const CAUSE_METRIC: &str = "db_client_connection_count";

/// The `obs investigate --store` command that reproduces the demo's investigation.
pub fn investigate_command_line(
    path: &Path,
    timeline: &shop::Timeline,
    plan: &shop::Plan,
) -> String {
    let at = |t: SystemTime| {
        jiff::Timestamp::try_from(t)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    let tick = format!("{}ms", plan.tick.as_millis());
    format!(
        "obs investigate --store {} --baseline {} --since {} --until {} --step {tick} --scrape-interval {tick}",
        path.display(),
        at(timeline.start),
        at(timeline.window_start),
        at(timeline.end),
    )
}

/// Seconds since the Unix epoch (0 before it).
pub fn secs(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Runs the sink on loopback port 0 and the shop against it; returns once every export is
/// committed and the sink has stopped.
pub async fn simulate(
    plan: &shop::Plan,
    store_path: &Path,
    say: &impl Fn(&str),
) -> anyhow::Result<shop::Timeline> {
    let (handle, writer) = crate::store::spawn_writer(store_path, WriterConfig::default())?;
    let receiver = Receiver::new(handle, ReceiverConfig::default());
    let grpc_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot bind a loopback port for the demo's OTLP/gRPC receiver")?;
    let http_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot bind a loopback port for the demo's OTLP/HTTP receiver")?;
    let grpc = grpc_listener.local_addr()?;
    let http = http_listener.local_addr()?;
    say(&format!("sink: OTLP/gRPC on {grpc}, OTLP/HTTP on {http}"));
    let (stop, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let grpc_server = tokio::spawn(crate::sink::grpc::serve(
        grpc_listener,
        receiver.clone(),
        stopped(stop_rx.clone()),
    ));
    let http_server = tokio::spawn(crate::sink::http::serve(
        http_listener,
        receiver,
        stopped(stop_rx),
    ));
    let plan = *plan;
    let url = format!("http://{grpc}");
    let simulated = tokio::task::spawn_blocking(move || shop::run(&plan, &url)).await;
    let _ = stop.send(true);
    let grpc_result = grpc_server.await;
    let http_result = http_server.await;
    tokio::task::spawn_blocking(move || writer.shutdown())
        .await
        .context("the store writer's shutdown did not finish")??;
    let timeline = simulated.context("the simulated shop stopped unexpectedly")??;
    grpc_result
        .context("the demo's gRPC receiver stopped unexpectedly")?
        .context("the demo's gRPC receiver failed")?;
    http_result
        .context("the demo's HTTP receiver stopped unexpectedly")?
        .context("the demo's HTTP receiver failed")?;
    Ok(timeline)
}

/// The investigation obs would run with `--store`, over the demo's window.
pub async fn investigation(
    metrics: &crate::source::Metrics,
    store: &LocalStore,
    plan: &shop::Plan,
    timeline: &shop::Timeline,
    progress: bool,
) -> anyhow::Result<Report> {
    let tz = jiff::tz::TimeZone::system();
    let options = investigate::Options {
        concurrency: 8,
        scrape_interval: plan.tick.as_secs_f64(),
        scrape_interval_origin: Some("the demo's tick".into()),
        progress,
        time_zone: tz.iana_name().unwrap_or("UTC").to_string(),
        ..investigate::Options::window(
            secs(timeline.window_start),
            secs(timeline.end),
            secs(timeline.start),
            plan.tick.as_secs_f64(),
        )
    };
    let mut report = investigate::run(metrics, &options).await?;
    let (start, end) = investigate::spike_window(&report);
    let traces = Traces::Local(LocalTraces::new(store.clone()));
    let logs = Logs::Local(LocalLogs::new(store.clone()));
    let follow = investigate::FollowOptions {
        traces: 5,
        service: None,
        start,
        end,
        trace_match: crate::source::TraceMatch::Auto,
        log_selector: None,
        logs_per_trace: 50,
        concurrency: 4,
    };
    investigate::follow(&report.exemplars, Some(&traces), Some(&logs), &follow)
        .await
        .apply(&mut report);
    let patterns = investigate::log_patterns::Options {
        concurrency: 4,
        ..investigate::log_patterns::Options::default()
    };
    investigate::log_patterns::run(&report, &logs, &patterns)
        .await
        .apply(&mut report);
    report.timeline = investigate::timeline::build(&report);
    report.findings = investigate::findings::build(&report);
    Ok(report)
}

/// Whether the report points at what was injected.
pub fn judge(report: &Report, timeline: &shop::Timeline, plan: &shop::Plan) -> Verdict {
    let rank = report
        .correlations
        .iter()
        .find(|c| c.metric.starts_with(CAUSE_METRIC))
        .map(|c| c.rank);
    let onset = report
        .symptom
        .onset_unix
        .map(|onset| onset - secs(timeline.fault));
    // Errors begin two ticks after the leak starts; allow a few steps either way.
    let tolerance = plan.tick.as_secs_f64() * 8.0;
    let onset_near = onset.is_some_and(|d| d.abs() <= tolerance);
    let trace_shows_cause = serde_json::to_string(&report.traces)
        .is_ok_and(|json| json.contains("pool orders") || json.contains("PoolTimeoutError"));
    Verdict {
        root_cause_first: rank == Some(1),
        root_cause_rank: rank,
        onset_after_injection_s: onset,
        onset_near_injection: onset_near,
        trace_shows_cause,
        found: rank == Some(1) && onset_near,
    }
}

pub fn injected_json(timeline: &shop::Timeline) -> serde_json::Value {
    serde_json::json!({
        "cause": "checkout database pool \"orders\" saturated",
        "metric": CAUSE_METRIC,
        "at_unix": secs(timeline.fault),
        "until_unix": secs(timeline.fault_end),
        "requests": timeline.requests,
        "failed_requests": timeline.failed_requests,
    })
}

/// Without an investigation: the traces and logs the store holds about the fault.
pub async fn trace_evidence(
    store: &LocalStore,
    timeline: &shop::Timeline,
) -> anyhow::Result<String> {
    let path = store.path().to_path_buf();
    let fault = timeline.fault;
    let (start, end) = (timeline.start, timeline.end);
    let nanos = |t: SystemTime| (secs(t) * 1e9) as i64;
    let (before, after, first_error_s) = tokio::task::spawn_blocking(move || {
        let store = Store::open_read_only(&path)?;
        let query = |from: SystemTime, to: SystemTime| TraceQuery {
            start_unix_nano: Some(nanos(from)),
            end_unix_nano: Some(nanos(to)),
            errors_only: true,
            ..TraceQuery::default()
        };
        let before = store.search_traces(&query(start, fault))?;
        let after = store.search_traces(&query(fault, end + Duration::from_secs(5)))?;
        let first = after
            .iter()
            .map(|t| t.start_unix_nano)
            .min()
            .map(|ns| ns as f64 / 1e9 - secs(fault));
        Ok::<_, crate::store::StoreError>((before.len(), after.len(), first))
    })
    .await
    .context("the store query did not finish")??;
    Ok(format!(
        "store evidence: {before} failing traces before the injection, {after} after it{}",
        first_error_s
            .map(|s| format!("; the first {s:.1}s after it"))
            .unwrap_or_default()
    ))
}

/// A directory removed when dropped (the demo's store, unless `--keep`).
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new() -> anyhow::Result<TempDir> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("obs-demo-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create a temporary directory {}", path.display()))?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
