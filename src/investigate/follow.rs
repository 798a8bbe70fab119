//! The follow step: from the report's exemplars (errors first, then the slowest) — or, without
//! exemplars, a search of the traces backend — to the traces behind them, fetched concurrently
//! and summarised from their span trees; then their logs (`logs`). A failing backend is a
//! `sources[]` entry, never an error.

use std::time::Instant as Clock;

use futures_util::StreamExt as _;

use crate::analysis::spantree;
use crate::model::trace::normalize_trace_id;
use crate::model::{Trace, TraceSummary};
use crate::report::waterfall;
use crate::report::{
    ExemplarEntry, ExemplarKind, LogEntry, Report, SourceState, SourceStatus, TraceEntry,
    TraceOrigin,
};
use crate::source::{Logs, SourceError, TraceMatch, TraceSearch, Traces};

use super::ms;

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
pub(super) struct Target {
    pub(super) trace_id: String,
    pub(super) kind: ExemplarKind,
    pub(super) origin: TraceOrigin,
    /// When the exemplar (or search hit) was observed, unix seconds.
    pub(super) at: Option<f64>,
}

/// Requests to the traces backend and the ones that failed, for its `sources[]` entry.
#[derive(Default)]
struct Tally {
    failures: Vec<SourceError>,
    requests: usize,
}

/// Continues an investigation from its exemplars (errors first, then the slowest, as
/// `exemplars::collect` ordered them): fetches the top `opts.traces` traces concurrently and
/// summarises each, then fetches their logs. Without exemplars it searches the traces backend
/// for failing, then slow, traces of the service in the spike window, and says so; with
/// exemplars of slow requests only, it also searches for failing traces and follows those first.
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
    let mut tally = Tally::default();
    let mut targets = from_exemplars(exemplars, opts.traces, &mut out.warnings);
    if targets.is_empty()
        && let Some(backend) = traces
    {
        targets = search(backend, opts, &mut tally, &mut out.warnings).await;
    } else if let Some(backend) = traces
        && !targets.iter().any(|t| t.kind == ExemplarKind::Error)
    {
        // Exemplars often sit only on the latency histogram, and failures can be faster than
        // slow successes: look for failing requests too, and follow them first.
        let failing = search_failing(backend, &targets, opts, &mut tally, &mut out.warnings).await;
        let keep = opts.traces.saturating_sub(failing.len());
        targets.truncate(keep);
        targets.splice(0..0, failing);
    }
    let mut fetched: Vec<Option<Trace>> = vec![None; targets.len()];
    if let Some(backend) = traces {
        fetched = fetch_traces(backend, &targets, opts, &mut tally, &mut out.warnings).await;
        summarize(&targets, &fetched, &mut out);
        out.sources.push(status(
            "traces",
            backend.kind(),
            backend.url(),
            &tally.failures,
            tally.requests,
        ));
    }
    out.traces_ms = ms(t);

    let t = Clock::now();
    if let Some(backend) = logs {
        super::logs::fetch(backend, &targets, &fetched, opts, &mut out).await;
    }
    out.logs_ms = ms(t);
    out
}

/// The first `limit` distinct trace ids of the exemplars, in their order.
fn from_exemplars(
    exemplars: &[ExemplarEntry],
    limit: usize,
    warnings: &mut Vec<String>,
) -> Vec<Target> {
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
            Err(err) => warnings.push(format!("exemplar skipped: {err}")),
        }
        if targets.len() >= limit {
            break;
        }
    }
    targets
}

/// Without exemplars: failing, then the slowest, traces of the service in the spike window,
/// found by searching the traces backend (said in a warning).
async fn search(
    backend: &Traces,
    opts: &FollowOptions,
    tally: &mut Tally,
    warnings: &mut Vec<String>,
) -> Vec<Target> {
    let scope = opts
        .service
        .as_deref()
        .map(|s| format!("service {s:?}"))
        .unwrap_or_else(|| "all services".into());
    let mut found: Vec<(TraceSummary, ExemplarKind)> = Vec::new();
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
        tally.requests += 1;
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
                tally.failures.push(e);
                break;
            }
        }
    }
    warnings.push(format!(
        "no exemplars in the spike window: {} {} found by searching {} for failing, then slow, traces of {scope}",
        found.len(),
        if found.len() == 1 { "trace" } else { "traces" },
        backend.kind()
    ));
    found
        .into_iter()
        .map(|(hit, kind)| Target {
            trace_id: hit.trace_id,
            kind,
            origin: TraceOrigin::Search,
            at: Some(hit.start_unix_nano as f64 / 1e9),
        })
        .collect()
}

/// Exemplars but no failing request among them: up to half of the traces to follow (at
/// least one) are failing traces of the service in the spike window, found by searching the
/// traces backend (TraceQL `status = error`, Jaeger `error=true`, the store's error spans).
async fn search_failing(
    backend: &Traces,
    exemplar_targets: &[Target],
    opts: &FollowOptions,
    tally: &mut Tally,
    warnings: &mut Vec<String>,
) -> Vec<Target> {
    let want = (opts.traces / 2).max(1);
    let scope = opts
        .service
        .as_deref()
        .map(|s| format!("service {s:?}"))
        .unwrap_or_else(|| "all services".into());
    let search = TraceSearch {
        service: opts.service.clone(),
        errors_only: true,
        start: opts.start,
        end: opts.end,
        limit: 20,
        ..TraceSearch::default()
    };
    tally.requests += 1;
    let hits = match backend.search(&search).await {
        Ok(hits) => hits,
        Err(e) => {
            tally.failures.push(e);
            return Vec::new();
        }
    };
    let found: Vec<Target> = hits
        .into_iter()
        .filter(|h| !exemplar_targets.iter().any(|t| t.trace_id == h.trace_id))
        .take(want)
        .map(|hit| Target {
            trace_id: hit.trace_id,
            kind: ExemplarKind::Error,
            origin: TraceOrigin::Search,
            at: Some(hit.start_unix_nano as f64 / 1e9),
        })
        .collect();
    warnings.push(format!(
        "the exemplars carry no failing request: {} failing {} found by searching {} for \
         failing traces of {scope} in the spike window",
        found.len(),
        if found.len() == 1 { "trace" } else { "traces" },
        backend.kind()
    ));
    found
}

/// The targets' traces, fetched concurrently, in the targets' order (`None`: not found, said in
/// a warning, or failed, counted in the tally).
async fn fetch_traces(
    backend: &Traces,
    targets: &[Target],
    opts: &FollowOptions,
    tally: &mut Tally,
    warnings: &mut Vec<String>,
) -> Vec<Option<Trace>> {
    let mut fetched: Vec<Option<Trace>> = vec![None; targets.len()];
    tally.requests += targets.len();
    let results: Vec<Result<Option<Trace>, SourceError>> =
        futures_util::stream::iter(targets.iter().map(|t| backend.trace(&t.trace_id)))
            .buffered(opts.concurrency.max(1))
            .collect()
            .await;
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(Some(trace)) => fetched[i] = Some(trace),
            Ok(None) => warnings.push(format!(
                "trace {} not found in {} at {}",
                targets[i].trace_id,
                backend.kind(),
                backend.url()
            )),
            Err(e) => tally.failures.push(e),
        }
    }
    fetched
}

/// One report entry per fetched trace, and the worst of them (failing first, then the
/// longest) kept whole for the waterfall.
fn summarize(targets: &[Target], fetched: &[Option<Trace>], out: &mut Followed) {
    let mut worst: Option<(bool, f64, usize)> = None;
    for (i, (target, trace)) in targets.iter().zip(fetched).enumerate() {
        let Some(trace) = trace else { continue };
        let tree = spantree::build(trace);
        let summary = waterfall::summarize(&tree, 5);
        let failing = !summary.error_spans.is_empty() || trace.spans.iter().any(|s| s.is_error());
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
}

/// Failures of one backend, summarised for `sources[]`.
pub(super) fn status(
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
