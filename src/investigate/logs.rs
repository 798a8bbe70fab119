//! The logs step of following: each followed trace's log lines (its span times, widened by a
//! margin; the exemplar's time when the trace itself was not found), fetched concurrently, in
//! time order per trace.

use futures_util::StreamExt as _;

use crate::model::Trace;
use crate::report::LogEntry;
use crate::source::{Direction, LogQuery, Logs, TraceMatch};

use super::follow::{FollowOptions, Followed, Target, status};

/// Logs are looked for this long before a trace starts and after it ends (clocks differ, and
/// services log after they answer).
const LOG_MARGIN_SECONDS: f64 = 300.0;

/// Fetches the targets' logs into `out.logs` and records the logs backend's status.
pub(super) async fn fetch(
    backend: &Logs,
    targets: &[Target],
    fetched: &[Option<Trace>],
    opts: &FollowOptions,
    out: &mut Followed,
) {
    let queries: Vec<LogQuery> = targets
        .iter()
        .zip(fetched)
        .map(|(target, trace)| query(target, trace.as_ref(), opts))
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

/// The log query for one trace: its id, over its span times (or the exemplar's time) widened
/// by [`LOG_MARGIN_SECONDS`] either side.
fn query(target: &Target, trace: Option<&Trace>, opts: &FollowOptions) -> LogQuery {
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
}
