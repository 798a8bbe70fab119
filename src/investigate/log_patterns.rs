//! The investigation's log-pattern step: the error and warning logs of the incident window and
//! of the baseline window, grouped into patterns, and the patterns that are new in the
//! incident or whose rate jumped, each with its services, first-seen time and the trace ids
//! that logged it (`log_patterns[]`).
//!
//! Owns which services are searched (the `--service`, the followed traces' failing and root
//! services, the services of significant candidates, the services of the traces' logs; at most
//! [`Options::max_services`]) and the bounded queries (at most [`Options::limit`] lines per
//! service and window, oldest first, so first-seen times are right; a cut is said). The
//! grouping and the test live in `analysis::patterns::compare`. A query that fails leaves the
//! rest standing: the patterns are then partial, and `sources[]` and `warnings[]` say so.

use futures_util::StreamExt as _;

use crate::analysis::patterns::compare::{self, Change, Line};
use crate::model::LogRecord;
use crate::report::{LogPatternEntry, Report, SourceState, SourceStatus};
use crate::source::{Direction, LogQuery, Logs, SourceError, TraceMatch};

/// Label names whose value is a service, in the order candidates carry them.
const SERVICE_LABELS: [&str; 4] = ["service", "service_name", "job", "app"];

#[derive(Debug, Clone)]
pub struct Options {
    /// The affected service (`--service`), searched first.
    pub service: Option<String>,
    /// Stream selector the queries run under (`log_selector`).
    pub selector: Option<String>,
    /// Lines per service and window.
    pub limit: usize,
    pub max_services: usize,
    /// Patterns reported (new and jumped ones, most significant first).
    pub max_patterns: usize,
    /// Trace ids listed per pattern.
    pub max_trace_ids: usize,
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            service: None,
            selector: None,
            limit: 2000,
            max_services: 6,
            max_patterns: 20,
            max_trace_ids: 10,
            concurrency: 4,
        }
    }
}

/// What the step found; [`Found::apply`] adds it to a report.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub patterns: Vec<LogPatternEntry>,
    pub sources: Vec<SourceStatus>,
    pub warnings: Vec<String>,
    pub ms: u64,
}

impl Found {
    /// Adds the patterns; the step's source status joins the report's `logs` source for the
    /// same backend (a failure of either marks it failed), or becomes it.
    pub fn apply(self, report: &mut Report) {
        report.log_patterns = self.patterns;
        for mine in self.sources {
            match report
                .sources
                .iter_mut()
                .find(|s| s.signal == mine.signal && s.url == mine.url)
            {
                Some(theirs) => {
                    if theirs.status == SourceState::Ok && mine.status == SourceState::Error {
                        *theirs = mine;
                    }
                }
                None => report.sources.push(mine),
            }
        }
        report.warnings.extend(self.warnings);
        report.timings.log_patterns_ms = self.ms;
        report.timings.total_ms += self.ms;
    }
}

/// The services whose logs are searched, most relevant first, and whether the list was cut.
pub fn services_to_search(report: &Report, opts: &Options) -> (Vec<String>, bool) {
    let mut all: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !s.is_empty() && !all.iter().any(|x| x == s) {
            all.push(s.to_string());
        }
    };
    if let Some(s) = &opts.service {
        add(s);
    }
    for t in &report.traces {
        for e in &t.summary.error_spans {
            add(&e.service);
        }
    }
    for t in &report.traces {
        if let Some(root) = &t.summary.root {
            add(&root.service);
        }
    }
    for c in report.correlations.iter().filter(|c| c.significant) {
        if let Some(s) = SERVICE_LABELS.iter().find_map(|l| c.labels.get(*l)) {
            add(s);
        }
    }
    for l in &report.logs {
        if let Some(s) = &l.service {
            add(s);
        }
    }
    let cut = all.len() > opts.max_services;
    all.truncate(opts.max_services);
    (all, cut)
}

fn ns(unix: f64) -> i64 {
    (unix * 1e9) as i64
}

/// Runs the step over `report`'s window and baseline.
pub async fn run(report: &Report, logs: &Logs, opts: &Options) -> Found {
    let clock = std::time::Instant::now();
    let mut found = Found::default();
    let (services, cut) = services_to_search(report, opts);
    if cut {
        found.warnings.push(format!(
            "log patterns: only the error and warning logs of {} services were searched: {}",
            services.len(),
            services.join(", ")
        ));
    }
    // No known service: every stream under the selector.
    let scopes: Vec<Option<String>> = if services.is_empty() {
        vec![None]
    } else {
        services.into_iter().map(Some).collect()
    };
    let w = &report.window;
    let windows = [
        ("baseline", w.baseline_since_unix, w.since_unix),
        ("incident", w.since_unix, w.until_unix),
    ];
    let mut queries: Vec<(usize, Option<String>, LogQuery)> = Vec::new();
    for (wi, (_, start, end)) in windows.iter().enumerate() {
        for scope in &scopes {
            queries.push((
                wi,
                scope.clone(),
                LogQuery {
                    selector: opts.selector.clone(),
                    service: scope.clone(),
                    min_level: Some("warn".into()),
                    trace_match: TraceMatch::Auto,
                    start_ns: ns(*start),
                    end_ns: ns(*end),
                    limit: opts.limit.max(1),
                    direction: Direction::Forward,
                    ..LogQuery::default()
                },
            ));
        }
    }
    let results: Vec<Result<crate::source::LogResult, SourceError>> =
        futures_util::stream::iter(queries.iter().map(|(_, _, q)| logs.logs(q)))
            .buffered(opts.concurrency.max(1))
            .collect()
            .await;

    let mut records: [Vec<LogRecord>; 2] = [Vec::new(), Vec::new()];
    let mut failures: Vec<String> = Vec::new();
    for ((wi, scope, _), result) in queries.iter().zip(results) {
        let scope_text = scope
            .as_deref()
            .map_or("all services".to_string(), |s| format!("service {s:?}"));
        match result {
            Ok(r) => {
                if r.truncated {
                    found.warnings.push(format!(
                        "log patterns: the {} window of {scope_text} has more than {} error \
                         and warning lines; its oldest {} were grouped",
                        windows[*wi].0,
                        opts.limit,
                        r.records.len()
                    ));
                }
                records[*wi].extend(r.records);
            }
            Err(e) => {
                found.warnings.push(format!(
                    "log patterns are partial: the {} logs of {scope_text} could not be read: {e}",
                    windows[*wi].0
                ));
                failures.push(e.to_string());
            }
        }
    }
    found.sources.push(SourceStatus {
        signal: "logs".into(),
        kind: logs.kind().into(),
        url: logs.url().into(),
        status: if failures.is_empty() {
            SourceState::Ok
        } else {
            SourceState::Error
        },
        error: failures.first().map(|first| {
            if failures.len() > 1 {
                format!(
                    "{} of {} requests failed; first: {first}",
                    failures.len(),
                    queries.len()
                )
            } else {
                first.clone()
            }
        }),
    });

    // Queries of several services can overlap (a selector that matches more than one service,
    // a stream with two service labels): a line is counted once.
    for rs in &mut records {
        rs.sort_by(|a, b| {
            (a.timestamp_unix_nano, &a.body, &a.labels).cmp(&(
                b.timestamp_unix_nano,
                &b.body,
                &b.labels,
            ))
        });
        rs.dedup_by(|a, b| {
            a.timestamp_unix_nano == b.timestamp_unix_nano
                && a.body == b.body
                && a.labels == b.labels
        });
    }
    let (base, inc) = (lines(&records[0]), lines(&records[1]));
    let compared = compare::compare(
        &base,
        w.since_unix - w.baseline_since_unix,
        &inc,
        w.until_unix - w.since_unix,
        opts.max_trace_ids,
    );
    found.patterns = compared
        .into_iter()
        .filter(|c| matches!(c.change, Change::New | Change::Jumped))
        .take(opts.max_patterns)
        .map(LogPatternEntry::from)
        .collect();
    found.ms = clock.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
    found
}

fn lines(records: &[LogRecord]) -> Vec<Line<'_>> {
    records
        .iter()
        .map(|r| Line {
            unix_nano: r.timestamp_unix_nano,
            service: r.service.as_deref(),
            trace_id: r.trace_id.as_deref(),
            body: &r.body,
        })
        .collect()
}
