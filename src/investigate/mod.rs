//! One investigation, from a window to a `Report`, in the steps the data flows through:
//! `symptom` (find the symptom query and detect its spike), `candidates` (discover, type and
//! query candidate metrics concurrently), `analyse` (correlate and rank them against the
//! symptom), `exemplars` (the failing and slowest requests of the spike). [`run`] chains them
//! and times each step.
//!
//! Then [`follow`] continues from the exemplars to the traces behind them (Tempo or Jaeger) and
//! what those traces logged (Loki): `follow` fetches and summarises the traces, `logs` their
//! log lines. [`log_patterns`] groups the window's and the baseline's error and warning logs
//! and keeps the patterns that are new or jumped.
//!
//! This module does the I/O and the bookkeeping; the statistics live in `analysis`. A failing
//! candidate query is a warning, not a failure: the report says what could not be read. A
//! failing traces or logs backend is recorded in `sources[]`, and the rest is still reported.

mod analyse;
mod candidates;
mod exemplars;
pub mod findings;
mod follow;
pub mod log_patterns;
mod logs;
pub mod markers;
pub mod resolution;
mod symptom;
pub mod timeline;

#[cfg(test)]
mod tests;

use std::time::Instant as Clock;

use crate::report::{
    CandidateStats, Report, SCHEMA_VERSION, SourceState, SourceStatus, Timings, WindowInfo,
};
use crate::source::{Metrics, SourceError};

pub use follow::{FollowOptions, Followed, follow};
pub use symptom::fmt_value;

/// Everything an investigation needs, resolved from flags, env and config.
#[derive(Debug, Clone)]
pub struct Options {
    /// Unix seconds.
    pub since: f64,
    pub until: f64,
    pub baseline_since: f64,
    /// The step: `--step` when `step_explicit`, else the window's automatic choice, which the
    /// scrape interval found may raise.
    pub step: f64,
    pub step_explicit: bool,
    /// Which way the symptom gets worse.
    pub direction: crate::analysis::spike::Direction,
    /// Which auto-detected symptom is examined (when no query is given).
    pub symptom: SymptomKind,
    /// The symptom queries and where each came from (`flag`, `config`); empty auto-detects.
    /// With several, the one that moved first is the symptom.
    pub symptom_queries: Vec<(String, String)>,
    /// A latency histogram selector (`…_bucket{…}`) to take exemplars from; `None` derives it.
    pub latency_query: Option<String>,
    pub service: Option<String>,
    /// Label holding the service name; `None` tries `service`, `service_name`, `job`.
    pub service_label: Option<String>,
    pub candidate_match: Option<String>,
    pub candidates: Vec<String>,
    pub max_candidates: usize,
    pub concurrency: usize,
    /// The scrape interval given, or the fallback when it cannot be measured.
    pub scrape_interval: f64,
    /// Where a given scrape interval came from (`flag`, `config`, `env …`); `None` measures it.
    pub scrape_interval_origin: Option<String>,
    pub max_exemplars: usize,
    pub progress: bool,
    pub time_zone: String,
    /// What the metrics backend is known to support (`obs doctor`'s probes); all unknown
    /// means try everything.
    pub capabilities: crate::model::Capabilities,
}

impl Options {
    /// The window (unix seconds, with its baseline and step) with every other setting at
    /// its default: the symptom and the scrape interval auto-detected, 500 candidates, 16
    /// queries at once, 20 exemplars, UTC.
    pub fn window(since: f64, until: f64, baseline_since: f64, step: f64) -> Options {
        Options {
            since,
            until,
            baseline_since,
            step,
            step_explicit: true,
            direction: crate::analysis::spike::Direction::Up,
            symptom: SymptomKind::Auto,
            symptom_queries: Vec::new(),
            latency_query: None,
            service: None,
            service_label: None,
            candidate_match: None,
            candidates: Vec::new(),
            max_candidates: 500,
            concurrency: 16,
            scrape_interval: 15.0,
            scrape_interval_origin: None,
            max_exemplars: 20,
            progress: false,
            time_zone: "UTC".into(),
            capabilities: crate::model::Capabilities::default(),
        }
    }
}

/// Which symptom an investigation without a query examines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymptomKind {
    /// The error ratio and the p99 latency; the one that moved is the symptom.
    Auto,
    /// The error ratio only.
    Errors,
    /// The p99 latency of the request-duration histogram only.
    Latency,
}

/// Label names that commonly carry the service, in the order they are tried.
const SERVICE_LABELS: [&str; 3] = ["service", "service_name", "job"];

#[derive(Debug, thiserror::Error)]
pub enum InvestigateError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(
        "no error-rate metric found between {since} and {until}: looked for OpenTelemetry's \
         http_server_request_duration_seconds_count, http_server_duration_*_count, \
         rpc_server_duration_milliseconds_count (and their client side) and http_requests_total, \
         each with a status label; pass --symptom-query PROMQL or set error_query in the context"
    )]
    NoSymptomMetric { since: String, until: String },
    #[error(
        "--symptom latency: no request-duration histogram found between {since} and {until}: \
         looked for the _bucket series of OpenTelemetry's http_server_request_duration_seconds, \
         http_server_duration_*, rpc_server_duration_milliseconds (and their client side) and \
         http_request_duration_seconds; pass --symptom-query PROMQL"
    )]
    NoLatencyMetric { since: String, until: String },
    #[error(
        "--service {service:?}: the symptom metric {metric} has none of the labels {tried}; \
         set service_label in the context or pass --service-label"
    )]
    NoServiceLabel {
        service: String,
        metric: String,
        tried: String,
    },
}

/// The step-aligned query grid: aligned to the step like Grafana does, so repeated runs hit
/// the same samples. It spans the baseline and the window; `window_start` is the index of the
/// window's first point.
#[derive(Debug, Clone, Copy)]
struct Grid {
    start: f64,
    end: f64,
    step: f64,
    len: usize,
    window_start: usize,
}

impl Grid {
    fn new(opts: &Options) -> Grid {
        let step = opts.step;
        let start = (opts.baseline_since / step).floor() * step;
        let end = (opts.until / step).floor() * step;
        Grid {
            start,
            end,
            step,
            len: ((end - start) / step).round() as usize + 1,
            window_start: ((opts.since - start) / step).ceil().max(0.0) as usize,
        }
    }

    /// The time of the `i`-th point of the window (not of the baseline).
    fn window_at(&self, i: usize) -> f64 {
        self.start + (self.window_start + i) as f64 * self.step
    }
}

/// Runs the investigation's steps in order and assembles the `Report`. Only the symptom's own
/// queries are fatal; everything after it degrades to warnings.
pub async fn run(metrics: &Metrics, opts: &Options) -> Result<Report, InvestigateError> {
    let started = Clock::now();
    let mut timings = Timings::default();
    let mut warnings = Vec::new();

    let t = Clock::now();
    let mut discovery =
        symptom::discover(metrics, opts, resolution::RATE_VAR, &mut warnings).await?;
    let probe = discovery.plan.metric.clone().or_else(|| {
        resolution::probe_metric(&discovery.plan.query, &discovery.window_names).map(String::from)
    });
    let res = resolution::resolve(metrics, opts, probe.as_deref(), &mut warnings).await;
    let rate_range = res.rate_window.clone();
    for plan in discovery.plans_mut() {
        plan.query = plan.query.replace(resolution::RATE_VAR, &rate_range);
    }
    let resolved = Options {
        step: res.step_seconds,
        scrape_interval: res.scrape_interval_seconds,
        ..opts.clone()
    };
    let opts = &resolved;
    let grid = Grid::new(opts);
    timings.discovery_ms = ms(t);

    let t = Clock::now();
    let (symptom, symptom_values) =
        symptom::measure(metrics, &mut discovery, opts, &grid, &mut warnings).await?;
    timings.symptom_ms = ms(t);

    let t = Clock::now();
    let (plans, mut stats) = candidates::plan(&discovery, opts, &rate_range);
    let results = candidates::fetch(
        metrics,
        plans,
        &grid,
        opts,
        &symptom,
        &mut stats,
        &mut warnings,
    )
    .await;
    timings.candidates_ms = ms(t);

    let t = Clock::now();
    let (series, mut first_error) = analyse::gather(results, &grid, &mut stats, &mut warnings);
    let service_labels: Vec<&str> = match &opts.service_label {
        Some(label) => vec![label.as_str()],
        None => SERVICE_LABELS.to_vec(),
    };
    let (correlations, services) = analyse::correlate(
        &series,
        &symptom,
        &symptom_values,
        &grid,
        &service_labels,
        &mut stats,
        &mut warnings,
    );
    timings.analysis_ms = ms(t);

    let t = Clock::now();
    let (ex_start, ex_end) = exemplars::window(&symptom, opts);
    let exemplars = if opts.capabilities.exemplars == crate::model::Support::No {
        warnings.push(
            "exemplars skipped: the metrics backend has no exemplars API or stores no \
             exemplars (obs doctor says which, and what to do)"
                .to_string(),
        );
        Vec::new()
    } else {
        match exemplars::collect(
            metrics,
            &discovery.plan,
            ex_start,
            ex_end,
            opts.max_exemplars,
        )
        .await
        {
            Ok(e) => e,
            Err(e) => {
                warnings.push(format!("exemplars not read: {e}"));
                first_error.get_or_insert_with(|| e.to_string());
                Vec::new()
            }
        }
    };
    timings.exemplars_ms = ms(t);

    timings.total_ms = ms(started);
    let mut window = WindowInfo::new(
        opts.since,
        opts.until,
        opts.baseline_since,
        opts.step,
        opts.time_zone.clone(),
    );
    window.resolution = Some(res);
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        window,
        symptom,
        sources: vec![metrics_status(metrics, &stats, first_error)],
        candidates: stats,
        correlations,
        services,
        exemplars,
        traces: Vec::new(),
        logs: Vec::new(),
        log_patterns: Vec::new(),
        timeline: Vec::new(),
        findings: Vec::new(),
        worst_trace: None,
        warnings,
        timings,
    })
}

/// The metrics backend failed when every candidate query did.
fn metrics_status(
    metrics: &Metrics,
    stats: &CandidateStats,
    first_error: Option<String>,
) -> SourceStatus {
    let failed = stats.queries > 0 && stats.failed_queries == stats.queries;
    SourceStatus {
        signal: "metrics".into(),
        kind: metrics.kind().into(),
        url: metrics.url().into(),
        status: if failed {
            SourceState::Error
        } else {
            SourceState::Ok
        },
        error: if failed { first_error } else { None },
    }
}

/// The spike (onset to end, a step either side) or, without one, the whole window: where
/// exemplars were taken from, and where a trace search looks.
pub fn spike_window(report: &Report) -> (f64, f64) {
    let step = report.window.step_seconds;
    let until = report.window.until_unix;
    match (report.symptom.onset_unix, report.symptom.end_unix) {
        (Some(onset), end) => (
            onset - step,
            (end.unwrap_or(until).max(onset) + step).min(until),
        ),
        _ => (report.window.since_unix, until),
    }
}

fn ms(since: Clock) -> u64 {
    since.elapsed().as_millis().try_into().unwrap_or(u64::MAX)
}
