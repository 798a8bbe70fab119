//! One investigation, from a window to a `Report`: find the symptom, detect its spike, discover
//! and type candidate metrics, query them concurrently, correlate and rank, and fetch exemplars.
//!
//! Then [`follow`] continues from the exemplars to the traces behind them (Tempo or Jaeger) and
//! what those traces logged (Loki): fetched concurrently, summarised with `analysis::spantree`.
//!
//! This module does the I/O and the bookkeeping; the statistics live in `analysis`. A failing
//! candidate query is a warning, not a failure: the report says what could not be read. A
//! failing traces or logs backend is recorded in `sources[]`, and the rest is still reported.

pub mod log_patterns;

use std::collections::{BTreeSet, HashMap};
use std::time::Instant as Clock;

use futures_util::StreamExt;

use crate::analysis::correlate::{CorrelationParams, PreparedSymptom};
use crate::analysis::rank::{RankParams, rank};
use crate::analysis::spantree;
use crate::analysis::spike::{SpikeOutcome, SpikeParams, detect};
use crate::model::trace::normalize_trace_id;
use crate::model::{Exemplar, MetricType, Series, Trace};
use crate::report::waterfall;
use crate::report::{
    CandidateStats, CorrelationEntry, ExemplarEntry, ExemplarKind, LogEntry, Report,
    SCHEMA_VERSION, SourceState, SourceStatus, Symptom, Timings, TraceEntry, TraceOrigin, Verdict,
    WindowInfo, exemplar_entry,
};
use crate::source::{
    Direction, LogQuery, Logs, Metrics, SourceError, TraceMatch, TraceSearch, Traces,
};

/// Everything an investigation needs, resolved from flags, env and config.
#[derive(Debug, Clone)]
pub struct Options {
    /// Unix seconds.
    pub since: f64,
    pub until: f64,
    pub baseline_since: f64,
    pub step: f64,
    /// The symptom query and where it came from (`flag`, `config`); `None` auto-detects.
    pub error_query: Option<(String, String)>,
    /// A latency histogram selector (`…_bucket{…}`) to take exemplars from; `None` derives it.
    pub latency_query: Option<String>,
    pub service: Option<String>,
    /// Label holding the service name; `None` tries `service`, `service_name`, `job`.
    pub service_label: Option<String>,
    pub candidate_match: Option<String>,
    pub candidates: Vec<String>,
    pub max_candidates: usize,
    pub concurrency: usize,
    pub scrape_interval: f64,
    pub max_exemplars: usize,
    pub progress: bool,
    pub time_zone: String,
}

/// A query that returns more series than this is re-run aggregated by service, so that one
/// high-cardinality metric cannot drown the ranking (or the backend).
const MAX_SERIES_PER_QUERY: usize = 50;

/// Label names that commonly carry the service, in the order they are tried.
const SERVICE_LABELS: [&str; 3] = ["service", "service_name", "job"];

#[derive(Debug, thiserror::Error)]
pub enum InvestigateError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(
        "no error-rate metric found between {since} and {until}: looked for \
         http_server_request_duration_seconds_count (OpenTelemetry) and http_requests_total with a \
         code or status label; pass --error-query PROMQL or set error_query in the context"
    )]
    NoSymptomMetric { since: String, until: String },
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

/// The symptom query, built or given, and the metric names it is made of.
struct SymptomPlan {
    query: String,
    origin: String,
    /// Error-only selector whose exemplars point at failing requests.
    error_selector: Option<String>,
    /// Latency histogram bucket selector whose exemplars point at slow requests.
    latency_selector: Option<String>,
    /// `(label, service)` when `--service` narrowed the symptom: the symptom's metric families
    /// then stay candidates for every *other* service (an upstream service's errors or latency
    /// can be the cause).
    service_matcher: Option<(String, String)>,
}

/// One candidate query.
#[derive(Debug, Clone)]
struct Plan {
    metric: String,
    query: String,
    /// The same query aggregated by service, for when `query` returns too many series.
    aggregated: Option<String>,
}

pub async fn run(metrics: &Metrics, opts: &Options) -> Result<Report, InvestigateError> {
    let started = Clock::now();
    let mut timings = Timings::default();
    let mut warnings = Vec::new();

    // The grid: aligned to the step like Grafana does, so repeated runs hit the same samples.
    let step = opts.step;
    let grid_start = (opts.baseline_since / step).floor() * step;
    let grid_end = (opts.until / step).floor() * step;
    let len = ((grid_end - grid_start) / step).round() as usize + 1;
    let window_start_index = ((opts.since - grid_start) / step).ceil().max(0.0) as usize;
    let rate_range = format_range((step + opts.scrape_interval).max(4.0 * opts.scrape_interval));

    // Discovery: which metric names exist, and which of them make the symptom.
    let t = Clock::now();
    let window_names = metrics
        .metric_names(opts.candidate_match.as_deref(), opts.since, opts.until)
        .await?;
    let symptom_plan = plan_symptom(metrics, opts, &rate_range).await?;
    if let (Some(service), Some(_)) = (&opts.service, &opts.error_query) {
        warnings.push(format!(
            "--service {service:?} does not narrow an explicit --error-query: put the service's matcher in the query"
        ));
    }
    let metadata = match metrics.metadata().await {
        Ok(m) => m,
        Err(e) => {
            warnings.push(format!("metric types guessed from names: {e}"));
            HashMap::new()
        }
    };
    timings.discovery_ms = ms(t);

    // The symptom and its spike.
    let t = Clock::now();
    let symptom_series = metrics
        .query_range(&symptom_plan.query, grid_start, grid_end, step)
        .await?;
    let symptom_values = merge_symptom(&symptom_series, grid_start, step, len, &mut warnings);
    let (baseline_part, window_part) = symptom_values.split_at(window_start_index.min(len));
    let outcome = detect(baseline_part, window_part, &SpikeParams::default());
    let mut symptom = symptom_report(&symptom_plan, opts, &outcome, symptom_values.clone());
    let at = |i: usize| grid_start + (window_start_index + i) as f64 * step;
    if let SpikeOutcome::Spike(s) = &outcome {
        symptom.set_times(
            Some(at(s.onset_index)),
            Some(at(s.peak_index)),
            s.end_index.map(at),
        );
    }
    timings.symptom_ms = ms(t);

    // Candidates: typed queries for every metric name in the window, plus explicit ones.
    let t = Clock::now();
    // The symptom's own metrics: the families in its query and the latency histogram its
    // exemplars come from (the same requests' errors and latency are the symptom, not a cause).
    let mut own_text = symptom_plan.query.clone();
    if let Some(latency) = &symptom_plan.latency_selector {
        own_text.push(' ');
        own_text.push_str(latency);
    }
    let own = symptom_metric_names(&own_text, &window_names);
    // With --service, those families stay candidates for the other services.
    let (excluded, other_services) = match &symptom_plan.service_matcher {
        Some((label, service)) => (
            BTreeSet::new(),
            Some((own, format!("{label}!={}", promql_string(service)))),
        ),
        None => (own, None),
    };
    let mut stats = CandidateStats {
        metric_names: window_names.len(),
        excluded_symptom: excluded.len(),
        ..CandidateStats::default()
    };
    let service_label = resolve_service_label_for_candidates(opts);
    let mut plans: Vec<Plan> = Vec::new();
    let mut names: Vec<&String> = window_names
        .iter()
        .filter(|n| !excluded.contains(*n))
        .collect();
    names.sort();
    let mut typed = 0usize;
    for name in names {
        let selector = match &other_services {
            Some((own, selector)) if own.contains(name) => selector.as_str(),
            _ => "",
        };
        if let Some(plan) = plan_candidate(
            name,
            selector,
            &window_names,
            &metadata,
            &rate_range,
            service_label,
        ) {
            if typed < opts.max_candidates {
                plans.push(plan);
                typed += 1;
            } else {
                stats.skipped_over_cap += 1;
            }
        }
    }
    if stats.skipped_over_cap > 0 {
        warnings.push(format!(
            "{} candidate metrics not queried because of --max-candidates {} (narrow with --candidate-match or raise the cap)",
            stats.skipped_over_cap, opts.max_candidates
        ));
    }
    for query in &opts.candidates {
        plans.push(Plan {
            metric: query.clone(),
            query: query.clone(),
            aggregated: None,
        });
    }
    stats.queries = plans.len();

    let progress = progress_bar(opts.progress, plans.len());
    let results: Vec<(Plan, Result<Vec<Series>, SourceError>)> =
        futures_util::stream::iter(plans.into_iter().map(|plan| {
            let progress = progress.clone();
            async move {
                let result = query_plan(metrics, &plan, grid_start, grid_end, step).await;
                if let Some(p) = &progress {
                    p.inc(1);
                }
                (plan, result)
            }
        }))
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    timings.candidates_ms = ms(t);

    // Correlate and rank.
    let t = Clock::now();
    // (query, metric name, series, values on the grid)
    let mut candidates: Vec<(String, String, Series, Vec<f64>)> = Vec::new();
    let mut first_error: Option<String> = None;
    for (plan, result) in results {
        match result {
            Ok(series) => {
                for s in series {
                    let values = s.on_grid(grid_start, step, len);
                    candidates.push((plan.query.clone(), plan.metric.clone(), s, values));
                }
            }
            Err(e) => {
                stats.failed_queries += 1;
                first_error.get_or_insert_with(|| e.to_string());
                warnings.push(format!("candidate {} not read: {e}", plan.metric));
            }
        }
    }
    // Deterministic order whatever order the queries finished in.
    candidates.sort_by(|a, b| (&a.0, &a.2.labels).cmp(&(&b.0, &b.2.labels)));
    stats.series = candidates.len();
    let correlations = match PreparedSymptom::new(&symptom_values, &CorrelationParams::default()) {
        Ok(prepared) => {
            let results: Vec<_> = candidates
                .iter()
                .map(|(_, _, _, v)| prepared.correlate(v))
                .collect();
            stats.skipped_series = results.iter().filter(|r| r.is_err()).count();
            rank(&results, &RankParams::default())
                .into_iter()
                .map(|r| {
                    let (query, metric, series, values) = &candidates[r.index];
                    let mut labels = series.labels.clone();
                    // Functions like rate() drop the name; the plan knows it.
                    let metric = labels.remove("__name__").unwrap_or_else(|| metric.clone());
                    CorrelationEntry {
                        rank: r.rank,
                        query: query.clone(),
                        metric,
                        labels,
                        r: r.correlation.r,
                        r_at_zero_lag: r.correlation.r_at_zero,
                        p_value: r.correlation.p_value,
                        q_value: r.q_value,
                        lag_seconds: f64::from(r.correlation.lag_steps) * step,
                        significant: r.significant,
                        n: r.correlation.n,
                        values: values.clone(),
                    }
                })
                .collect()
        }
        Err(skip) => {
            warnings.push(format!(
                "no correlations: the symptom series is unusable ({skip})"
            ));
            stats.skipped_series = candidates.len();
            Vec::new()
        }
    };
    timings.analysis_ms = ms(t);

    // Exemplars from the spike (or the whole window when there is none).
    let t = Clock::now();
    let (ex_start, ex_end) = match (symptom.onset_unix, symptom.end_unix) {
        (Some(onset), end) => (onset - step, end.unwrap_or(opts.until).max(onset) + step),
        _ => (opts.since, opts.until),
    };
    let exemplars = match collect_exemplars(
        metrics,
        &symptom_plan,
        ex_start,
        ex_end.min(opts.until),
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
    };
    timings.exemplars_ms = ms(t);

    let source_failed = stats.queries > 0 && stats.failed_queries == stats.queries;
    timings.total_ms = ms(started);
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        window: WindowInfo::new(
            opts.since,
            opts.until,
            opts.baseline_since,
            step,
            opts.time_zone.clone(),
        ),
        symptom,
        candidates: stats,
        correlations,
        exemplars,
        traces: Vec::new(),
        log_patterns: Vec::new(),
        logs: Vec::new(),
        worst_trace: None,
        sources: vec![SourceStatus {
            signal: "metrics".into(),
            kind: metrics.kind().into(),
            url: metrics.url().into(),
            status: if source_failed {
                SourceState::Error
            } else {
                SourceState::Ok
            },
            error: if source_failed { first_error } else { None },
        }],
        warnings,
        timings,
    })
}

/// How [`follow`] continues from exemplars to traces and logs.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Traces to fetch; 0 skips traces and logs.
    pub traces: usize,
    /// The affected service, for the search when there are no exemplars.
    pub service: Option<String>,
    /// The spike window (or the whole window without a spike), unix seconds.
    pub start: f64,
    pub end: f64,
    pub trace_match: TraceMatch,
    pub log_selector: Option<String>,
    /// Log records kept per trace.
    pub logs_per_trace: usize,
    pub concurrency: usize,
}

/// Logs are looked for this long before a trace starts and after it ends (clocks differ, and
/// services log after they answer).
const LOG_MARGIN_SECONDS: f64 = 300.0;

/// What [`follow`] found; [`Followed::apply`] adds it to a report.
#[derive(Debug, Clone, Default)]
pub struct Followed {
    pub traces: Vec<TraceEntry>,
    pub logs: Vec<LogEntry>,
    pub sources: Vec<SourceStatus>,
    pub warnings: Vec<String>,
    pub worst_trace: Option<Trace>,
    pub traces_ms: u64,
    pub logs_ms: u64,
}

impl Followed {
    pub fn apply(self, report: &mut Report) {
        report.traces = self.traces;
        report.logs = self.logs;
        report.sources.extend(self.sources);
        report.warnings.extend(self.warnings);
        report.worst_trace = self.worst_trace;
        report.timings.traces_ms = self.traces_ms;
        report.timings.logs_ms = self.logs_ms;
        report.timings.total_ms += self.traces_ms + self.logs_ms;
    }
}

/// A trace to follow.
#[derive(Debug, Clone)]
struct Target {
    trace_id: String,
    kind: ExemplarKind,
    origin: TraceOrigin,
    /// When the exemplar (or search hit) was observed, unix seconds.
    at: Option<f64>,
}

/// Failures of one backend, summarised for `sources[]`.
fn status(
    signal: &str,
    kind: &str,
    url: &str,
    failures: &[SourceError],
    requests: usize,
) -> SourceStatus {
    let error = failures.first().map(|e| {
        if failures.len() > 1 {
            format!(
                "{} of {requests} requests failed; first: {e}",
                failures.len()
            )
        } else {
            e.to_string()
        }
    });
    SourceStatus {
        signal: signal.into(),
        kind: kind.into(),
        url: url.into(),
        status: if error.is_some() {
            SourceState::Error
        } else {
            SourceState::Ok
        },
        error,
    }
}

/// Continues an investigation from its exemplars (errors first, then the slowest, as
/// `collect_exemplars` ordered them): fetches the top `opts.traces` traces concurrently and
/// summarises each, then fetches their logs. Without exemplars it searches the traces backend
/// for failing, then slow, traces of the service in the spike window, and says so.
pub async fn follow(
    exemplars: &[ExemplarEntry],
    traces: Option<&Traces>,
    logs: Option<&Logs>,
    opts: &FollowOptions,
) -> Followed {
    let mut out = Followed::default();
    if opts.traces == 0 || (traces.is_none() && logs.is_none()) {
        return out;
    }
    let t = Clock::now();
    let mut trace_failures: Vec<SourceError> = Vec::new();
    let mut trace_requests = 0usize;

    let mut targets: Vec<Target> = Vec::new();
    for e in exemplars {
        let Some(raw) = &e.trace_id else { continue };
        match normalize_trace_id(raw) {
            Ok(id) if !targets.iter().any(|t| t.trace_id == id) => targets.push(Target {
                trace_id: id,
                kind: e.kind,
                origin: TraceOrigin::Exemplar,
                at: Some(e.timestamp_unix),
            }),
            Ok(_) => {}
            Err(err) => out.warnings.push(format!("exemplar skipped: {err}")),
        }
        if targets.len() >= opts.traces {
            break;
        }
    }

    if targets.is_empty() {
        if let Some(backend) = traces {
            let scope = opts
                .service
                .as_deref()
                .map(|s| format!("service {s:?}"))
                .unwrap_or_else(|| "all services".into());
            let mut found: Vec<(crate::model::TraceSummary, ExemplarKind)> = Vec::new();
            for (errors_only, kind) in [(true, ExemplarKind::Error), (false, ExemplarKind::Slow)] {
                if found.len() >= opts.traces {
                    break;
                }
                let search = TraceSearch {
                    service: opts.service.clone(),
                    errors_only,
                    start: opts.start,
                    end: opts.end,
                    limit: 20,
                    ..TraceSearch::default()
                };
                trace_requests += 1;
                match backend.search(&search).await {
                    Ok(mut hits) => {
                        if !errors_only {
                            hits.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
                        }
                        for hit in hits {
                            if found.len() < opts.traces
                                && !found.iter().any(|(f, _)| f.trace_id == hit.trace_id)
                            {
                                found.push((hit, kind));
                            }
                        }
                    }
                    Err(e) => {
                        trace_failures.push(e);
                        break;
                    }
                }
            }
            out.warnings.push(format!(
                "no exemplars in the spike window: {} {} found by searching {} for failing, then slow, traces of {scope}",
                found.len(),
                if found.len() == 1 { "trace" } else { "traces" },
                backend.kind()
            ));
            targets = found
                .into_iter()
                .map(|(hit, kind)| Target {
                    trace_id: hit.trace_id,
                    kind,
                    origin: TraceOrigin::Search,
                    at: Some(hit.start_unix_nano as f64 / 1e9),
                })
                .collect();
        }
    }

    // Fetch the traces concurrently, keeping the exemplars' order.
    let mut fetched: Vec<Option<Trace>> = vec![None; targets.len()];
    if let Some(backend) = traces {
        trace_requests += targets.len();
        let results: Vec<Result<Option<Trace>, SourceError>> =
            futures_util::stream::iter(targets.iter().map(|t| backend.trace(&t.trace_id)))
                .buffered(opts.concurrency.max(1))
                .collect()
                .await;
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(Some(trace)) => fetched[i] = Some(trace),
                Ok(None) => out.warnings.push(format!(
                    "trace {} not found in {} at {}",
                    targets[i].trace_id,
                    backend.kind(),
                    backend.url()
                )),
                Err(e) => trace_failures.push(e),
            }
        }
        let mut worst: Option<(bool, f64, usize)> = None;
        for (i, (target, trace)) in targets.iter().zip(&fetched).enumerate() {
            let Some(trace) = trace else { continue };
            let tree = spantree::build(trace);
            let summary = waterfall::summarize(&tree, 5);
            let failing =
                !summary.error_spans.is_empty() || trace.spans.iter().any(|s| s.is_error());
            let key = (failing, summary.duration_ms, i);
            if worst.is_none_or(|w| (key.0, key.1) > (w.0, w.1)) {
                worst = Some(key);
            }
            out.traces.push(TraceEntry {
                summary,
                origin: target.origin,
                kind: target.kind,
            });
        }
        out.worst_trace = worst.and_then(|(_, _, i)| fetched[i].clone());
        out.sources.push(status(
            "traces",
            backend.kind(),
            backend.url(),
            &trace_failures,
            trace_requests,
        ));
    }
    out.traces_ms = ms(t);

    // Their logs, concurrently.
    let t = Clock::now();
    if let Some(backend) = logs {
        let queries: Vec<LogQuery> = targets
            .iter()
            .zip(&fetched)
            .map(|(target, trace)| {
                let (start, end) = match trace {
                    Some(trace) => {
                        let start = trace.spans.iter().map(|s| s.start_unix_nano).min();
                        let end = trace.spans.iter().map(|s| s.end_unix_nano).max();
                        (
                            start.map_or(opts.start, |n| n as f64 / 1e9),
                            end.map_or(opts.end, |n| n as f64 / 1e9),
                        )
                    }
                    None => target.at.map_or((opts.start, opts.end), |at| (at, at)),
                };
                LogQuery {
                    selector: opts.log_selector.clone(),
                    trace_id: Some(target.trace_id.clone()),
                    trace_match: opts.trace_match,
                    start_ns: ((start - LOG_MARGIN_SECONDS) * 1e9) as i64,
                    end_ns: ((end + LOG_MARGIN_SECONDS) * 1e9) as i64,
                    limit: opts.logs_per_trace,
                    direction: Direction::Backward,
                    ..LogQuery::default()
                }
            })
            .collect();
        let requests = queries.len();
        let results: Vec<_> = futures_util::stream::iter(queries.iter().map(|q| backend.logs(q)))
            .buffered(opts.concurrency.max(1))
            .collect()
            .await;
        let mut failures = Vec::new();
        for (target, result) in targets.iter().zip(results) {
            match result {
                Ok(found) => {
                    let matched = found.matched_by.map(TraceMatch::as_str);
                    let mut records = found.records;
                    records.sort_by_key(|r| r.timestamp_unix_nano);
                    out.logs.extend(
                        records
                            .iter()
                            .map(|r| LogEntry::new(&target.trace_id, r, matched)),
                    );
                }
                Err(e) => failures.push(e),
            }
        }
        out.sources.push(status(
            "logs",
            backend.kind(),
            backend.url(),
            &failures,
            requests,
        ));
    }
    out.logs_ms = ms(t);
    out
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

/// `60s`, `2m`: a PromQL range literal for a number of seconds.
fn format_range(seconds: f64) -> String {
    let s = seconds.ceil() as u64;
    if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Builds the symptom query: the one given, or the first error-rate metric found.
async fn plan_symptom(
    metrics: &Metrics,
    opts: &Options,
    range: &str,
) -> Result<SymptomPlan, InvestigateError> {
    if let Some((query, origin)) = &opts.error_query {
        return Ok(SymptomPlan {
            query: query.clone(),
            origin: origin.clone(),
            error_selector: None,
            latency_selector: opts.latency_query.clone(),
            service_matcher: None,
        });
    }
    let start = opts.baseline_since;
    let end = opts.until;
    // (metric, status labels, origin, latency histogram family)
    let conventions: [(&str, &[&str], &str, &str); 2] = [
        (
            "http_server_request_duration_seconds_count",
            &["http_response_status_code"],
            "auto:opentelemetry",
            "http_server_request_duration_seconds_bucket",
        ),
        (
            "http_requests_total",
            &["code", "status"],
            "auto:http_requests_total",
            "http_request_duration_seconds_bucket",
        ),
    ];
    for (metric, status_labels, origin, latency) in conventions {
        let labels = metrics.label_names(metric, start, end).await?;
        let Some(status) = status_labels
            .iter()
            .find(|l| labels.iter().any(|x| x == *l))
        else {
            continue;
        };
        let mut selector = String::new();
        let mut service_matcher = None;
        if let Some(service) = &opts.service {
            let label = match &opts.service_label {
                Some(l) => Some(l.as_str()),
                None => SERVICE_LABELS
                    .iter()
                    .copied()
                    .find(|l| labels.iter().any(|x| x == l)),
            };
            let Some(label) = label else {
                return Err(InvestigateError::NoServiceLabel {
                    service: service.clone(),
                    metric: metric.to_string(),
                    tried: SERVICE_LABELS.join(", "),
                });
            };
            selector = format!("{label}={}", promql_string(service));
            service_matcher = Some((label.to_string(), service.clone()));
        }
        let with = |extra: &str| {
            let parts: Vec<&str> = [selector.as_str(), extra]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            format!("{{{}}}", parts.join(","))
        };
        let errors = with(&format!("{status}=~\"5..\""));
        let all = with("");
        let all = if all == "{}" { String::new() } else { all };
        let query =
            format!("sum(rate({metric}{errors}[{range}])) / sum(rate({metric}{all}[{range}]))");
        let latency_selector = match &opts.latency_query {
            Some(q) => Some(q.clone()),
            None => {
                let present = metrics.label_names(latency, start, end).await?;
                (!present.is_empty()).then(|| format!("{latency}{all}"))
            }
        };
        return Ok(SymptomPlan {
            query,
            origin: origin.to_string(),
            error_selector: Some(format!("{metric}{errors}")),
            latency_selector,
            service_matcher,
        });
    }
    Err(InvestigateError::NoSymptomMetric {
        since: crate::report::Instant::from_unix(start).rfc3339.to_string(),
        until: crate::report::Instant::from_unix(end).rfc3339.to_string(),
    })
}

/// Quotes a value as a PromQL string literal.
fn promql_string(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// The symptom should be one series; several (a query with `by`) are summed, which is what a
/// ratio of sums would give for counts and is said in a warning.
fn merge_symptom(
    series: &[Series],
    start: f64,
    step: f64,
    len: usize,
    warnings: &mut Vec<String>,
) -> Vec<f64> {
    match series {
        [] => vec![f64::NAN; len],
        [one] => one.on_grid(start, step, len),
        many => {
            warnings.push(format!(
                "the symptom query returned {} series; they were summed (aggregate it with sum() to choose yourself)",
                many.len()
            ));
            let grids: Vec<Vec<f64>> = many.iter().map(|s| s.on_grid(start, step, len)).collect();
            (0..len)
                .map(|i| {
                    let vals: Vec<f64> = grids
                        .iter()
                        .map(|g| g[i])
                        .filter(|v| v.is_finite())
                        .collect();
                    if vals.is_empty() {
                        f64::NAN
                    } else {
                        vals.iter().sum()
                    }
                })
                .collect()
        }
    }
}

fn symptom_report(
    plan: &SymptomPlan,
    opts: &Options,
    outcome: &SpikeOutcome,
    values: Vec<f64>,
) -> Symptom {
    let mut symptom = Symptom {
        query: plan.query.clone(),
        origin: plan.origin.clone(),
        service: opts.service.clone(),
        verdict: Verdict::NoData,
        summary: String::new(),
        baseline: None,
        threshold: None,
        peak: None,
        peak_at: None,
        peak_unix: None,
        onset: None,
        onset_unix: None,
        end: None,
        end_unix: None,
        values,
    };
    match outcome {
        SpikeOutcome::Spike(s) => {
            symptom.verdict = Verdict::Spike;
            symptom.baseline = Some(s.baseline);
            symptom.threshold = Some(s.threshold);
            symptom.peak = Some(s.peak);
            symptom.summary = format!(
                "spike: from a baseline of {} to a peak of {}",
                fmt_value(s.baseline),
                fmt_value(s.peak)
            );
        }
        SpikeOutcome::NoSpike {
            baseline,
            peak,
            threshold,
            reason,
        } => {
            symptom.verdict = Verdict::NoSpike;
            symptom.baseline = Some(*baseline);
            symptom.threshold = Some(*threshold);
            symptom.peak = Some(*peak);
            symptom.summary = format!("no spike in this window: {reason}");
        }
        SpikeOutcome::NoData { reason } => {
            symptom.summary = format!("no data for the symptom in this window: {reason}");
        }
    }
    symptom
}

/// Formats a symptom level: ratios as percentages, anything else as a number.
pub fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if (0.0..=1.0).contains(&v) {
        format!("{:.2}%", v * 100.0)
    } else {
        format!("{v:.4}")
    }
}

/// Metric names the symptom query is made of, with their histogram/summary family, so they are
/// not ranked as causes of themselves.
fn symptom_metric_names(query: &str, names: &[String]) -> BTreeSet<String> {
    let words: BTreeSet<&str> = query
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| !w.is_empty())
        .collect();
    let families: BTreeSet<&str> = words.iter().map(|w| family(w)).collect();
    names
        .iter()
        .filter(|n| words.contains(n.as_str()) || families.contains(family(n)))
        .cloned()
        .collect()
}

/// The family name of a series name: without `_total`, `_count`, `_sum`, `_bucket`, `_created`.
fn family(name: &str) -> &str {
    for suffix in ["_total", "_count", "_sum", "_bucket", "_created"] {
        if let Some(base) = name.strip_suffix(suffix) {
            return base;
        }
    }
    name
}

fn resolve_service_label_for_candidates(opts: &Options) -> &str {
    opts.service_label.as_deref().unwrap_or(SERVICE_LABELS[0])
}

/// Chooses how to query one metric name so that its series is comparable with an error ratio:
/// counters as rates, histograms as p99, summaries at their 0.99 quantile, gauges as they are.
/// `matchers` (`""` or e.g. `service!="checkout"`) narrows the series queried.
fn plan_candidate(
    name: &str,
    matchers: &str,
    names: &[String],
    metadata: &HashMap<String, MetricType>,
    range: &str,
    service_label: &str,
) -> Option<Plan> {
    if name.ends_with("_created") || name.starts_with("ALERTS") {
        return None;
    }
    let has = |n: String| names.contains(&n);
    let type_of = |n: &str| {
        metadata
            .get(n)
            .or_else(|| metadata.get(family(n)))
            .copied()
            .unwrap_or(MetricType::Unknown)
    };
    let base = family(name);
    let by = |inner: &str| format!("sum by ({service_label}) ({inner})");
    let select = |extra: &str| {
        let inner: Vec<&str> = [matchers, extra]
            .into_iter()
            .filter(|m| !m.is_empty())
            .collect();
        if inner.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{}}}", inner.join(","))
        }
    };
    let series = select("");
    if let Some(base) = name.strip_suffix("_bucket") {
        let q = |rate: String| format!("histogram_quantile(0.99, {rate})");
        return Some(Plan {
            metric: name.to_string(),
            query: q(format!("rate({series}[{range}])")),
            aggregated: Some(q(format!(
                "sum by (le, {service_label}) (rate({series}[{range}]))"
            ))),
        })
        .filter(|_| !base.is_empty());
    }
    if (name.ends_with("_sum") || name.ends_with("_count"))
        && (has(format!("{base}_bucket")) || type_of(base) == MetricType::Summary)
    {
        // Part of a histogram or summary family, which is queried as a quantile instead.
        return None;
    }
    let kind = match type_of(name) {
        MetricType::Unknown
            if name.ends_with("_total") || name.ends_with("_count") || name.ends_with("_sum") =>
        {
            MetricType::Counter
        }
        other => other,
    };
    let (query, aggregated) = match kind {
        MetricType::Counter => {
            let rate = format!("rate({series}[{range}])");
            (rate.clone(), by(&rate))
        }
        MetricType::Summary => {
            let q = select("quantile=\"0.99\"");
            (q.clone(), format!("max by ({service_label}) ({q})"))
        }
        MetricType::Histogram | MetricType::GaugeHistogram => return None,
        _ => (series.clone(), by(&series)),
    };
    Some(Plan {
        metric: name.to_string(),
        query,
        aggregated: Some(aggregated),
    })
}

async fn query_plan(
    metrics: &Metrics,
    plan: &Plan,
    start: f64,
    end: f64,
    step: f64,
) -> Result<Vec<Series>, SourceError> {
    let series = metrics.query_range(&plan.query, start, end, step).await?;
    match &plan.aggregated {
        Some(aggregated) if series.len() > MAX_SERIES_PER_QUERY => {
            let mut series = metrics.query_range(aggregated, start, end, step).await?;
            // Keep the metric name: aggregation drops it.
            for s in &mut series {
                s.labels.insert("__name__".into(), plan.metric.clone());
            }
            Ok(series)
        }
        _ => Ok(series),
    }
}

/// Error exemplars first (failing requests), then the slowest latency observations; one entry
/// per trace.
async fn collect_exemplars(
    metrics: &Metrics,
    plan: &SymptomPlan,
    start: f64,
    end: f64,
    limit: usize,
) -> Result<Vec<crate::report::ExemplarEntry>, SourceError> {
    let mut errors: Vec<Exemplar> = Vec::new();
    if let Some(selector) = &plan.error_selector {
        errors = metrics.query_exemplars(selector, start, end).await?;
    }
    let mut slow: Vec<Exemplar> = Vec::new();
    if let Some(selector) = &plan.latency_selector {
        slow = metrics.query_exemplars(selector, start, end).await?;
    }
    errors.sort_by(|a, b| b.timestamp.total_cmp(&a.timestamp));
    slow.sort_by(|a, b| b.value.total_cmp(&a.value));
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (kind, list) in [(ExemplarKind::Error, errors), (ExemplarKind::Slow, slow)] {
        for e in list {
            if out.len() >= limit {
                return Ok(out);
            }
            let key = e
                .trace_id()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{:?}", e.labels));
            if seen.insert(key) {
                out.push(exemplar_entry(&e, kind));
            }
        }
    }
    Ok(out)
}

fn progress_bar(enabled: bool, len: usize) -> Option<indicatif::ProgressBar> {
    if !enabled || len == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} querying candidates {pos}/{len} {wide_bar}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn symptom_family_is_excluded_from_candidates() {
        let all = names(&[
            "http_requests_total",
            "http_requests_created",
            "http_request_duration_seconds_bucket",
            "db_connections_in_use",
        ]);
        let q = r#"sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))"#;
        let ex = symptom_metric_names(q, &all);
        assert!(ex.contains("http_requests_total"));
        assert!(ex.contains("http_requests_created"));
        assert!(!ex.contains("db_connections_in_use"));
        assert!(!ex.contains("http_request_duration_seconds_bucket"));
    }

    #[test]
    fn candidates_are_typed_from_metadata_then_names() {
        let all = names(&[
            "req_total",
            "lat_bucket",
            "lat_sum",
            "lat_count",
            "temp",
            "gc_seconds",
            "gc_seconds_sum",
            "gc_seconds_count",
            "x_created",
        ]);
        let mut meta = HashMap::new();
        meta.insert("gc_seconds".to_string(), MetricType::Summary);
        let plan = |n: &str| plan_candidate(n, "", &all, &meta, "1m", "service").map(|p| p.query);
        assert_eq!(plan("req_total").as_deref(), Some("rate(req_total[1m])"));
        assert_eq!(
            plan("lat_bucket").as_deref(),
            Some("histogram_quantile(0.99, rate(lat_bucket[1m]))")
        );
        assert_eq!(plan("lat_sum"), None);
        assert_eq!(plan("lat_count"), None);
        assert_eq!(plan("temp").as_deref(), Some("temp"));
        assert_eq!(
            plan("gc_seconds").as_deref(),
            Some(r#"gc_seconds{quantile="0.99"}"#)
        );
        assert_eq!(plan("gc_seconds_sum"), None);
        assert_eq!(plan("x_created"), None);
        // Narrowed to other services when the symptom's own family stays a candidate.
        let other = |n: &str| {
            plan_candidate(n, r#"service!="checkout""#, &all, &meta, "1m", "service")
                .map(|p| p.query)
        };
        assert_eq!(
            other("req_total").as_deref(),
            Some(r#"rate(req_total{service!="checkout"}[1m])"#)
        );
        assert_eq!(
            other("gc_seconds").as_deref(),
            Some(r#"gc_seconds{service!="checkout",quantile="0.99"}"#)
        );
    }

    #[test]
    fn rate_ranges_read_like_promql() {
        assert_eq!(format_range(60.0), "1m");
        assert_eq!(format_range(45.0), "45s");
    }

    #[test]
    fn service_values_are_quoted_for_promql() {
        assert_eq!(promql_string(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
