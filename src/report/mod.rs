//! The `Report`: the one contract between collecting evidence and showing it. Every renderer
//! (text, JSON, later markdown, TUI and the LLM summary) reads a `Report` and nothing else.
//!
//! The JSON form is versioned (`schema_version`) and described by `schema/report.v1.json`;
//! a change that breaks a key bumps the version.

pub mod doctor;
pub mod findings;
pub mod grafana;
pub mod markdown;
pub mod patterns;
pub mod text;
pub mod timeline;
pub mod waterfall;

use serde::{Deserialize, Serialize};

use crate::model::{Labels, Trace};
use crate::report::waterfall::TraceSummaryView;

pub use patterns::LogPatternEntry;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub window: WindowInfo,
    pub symptom: Symptom,
    pub candidates: CandidateStats,
    pub correlations: Vec<CorrelationEntry>,
    /// Suspected services, most likely first: a service ranks where its best candidate in
    /// `correlations[]` ranks, and lists those candidates as its evidence.
    #[serde(default)]
    pub services: Vec<ServiceEntry>,
    pub exemplars: Vec<ExemplarEntry>,
    /// The traces behind the top exemplars (or found by a search when there were none).
    pub traces: Vec<TraceEntry>,
    /// What those traces logged.
    pub logs: Vec<LogEntry>,
    /// Error and warning log patterns that are new in the window, or whose rate jumped,
    /// against the baseline window.
    #[serde(default)]
    pub log_patterns: Vec<LogPatternEntry>,
    /// Baseline, leading changes, onset, first new log pattern, first failing trace, peak and
    /// recovery, in time order.
    #[serde(default)]
    pub timeline: Vec<timeline::TimelineEntry>,
    /// Ranked hypotheses, each pointing at its evidence in this report.
    #[serde(default)]
    pub findings: Vec<findings::Finding>,
    pub sources: Vec<SourceStatus>,
    pub warnings: Vec<String>,
    pub timings: Timings,
    /// The worst trace (failing, then slowest), for renderers that draw it; not in JSON, where
    /// `traces[]` summarises it.
    #[serde(skip)]
    pub worst_trace: Option<Trace>,
}

impl Report {
    /// Drops the `values` of the correlation rows ranked below the first `rows` (a JSON
    /// report of thousands of rows is then megabytes, not hundreds); `candidates.values_rows`
    /// says how many kept theirs.
    pub fn trim_series(&mut self, rows: usize) {
        let mut kept = 0;
        for c in &mut self.correlations {
            if c.rank > rows {
                c.values = Vec::new();
            } else {
                kept += 1;
            }
        }
        self.candidates.values_rows = Some(kept);
    }
}

/// An instant as scripts want it: RFC 3339 for reading, unix seconds for arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Instant {
    #[serde(serialize_with = "ser_rfc3339")]
    pub rfc3339: jiff::Timestamp,
    pub unix: f64,
}

impl Instant {
    pub fn from_unix(unix: f64) -> Instant {
        let ts = jiff::Timestamp::from_nanosecond((unix * 1e9).round() as i128)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        Instant { rfc3339: ts, unix }
    }
}

fn ser_rfc3339<S: serde::Serializer>(ts: &jiff::Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(ts)
}

fn rfc3339(unix: f64) -> String {
    Instant::from_unix(unix).rfc3339.to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WindowInfo {
    pub since: String,
    pub since_unix: f64,
    pub until: String,
    pub until_unix: f64,
    pub baseline_since: String,
    pub baseline_since_unix: f64,
    pub step_seconds: f64,
    /// The local time zone the text report uses (IANA name or offset).
    pub time_zone: String,
    /// The scrape interval found, the step and the rate window, and where each came from;
    /// `None` in reports written before they were measured.
    #[serde(default)]
    pub resolution: Option<Resolution>,
}

/// The resolution an investigation ran at, each number with its origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resolution {
    pub scrape_interval_seconds: f64,
    /// `flag`, `config`, `env …`, `prometheus targets API (job …)`, `spacing of …'s samples`, `default: …`.
    pub scrape_interval_origin: String,
    pub step_seconds: f64,
    pub step_origin: String,
    /// The range of every `rate`/`increase` the investigation wrote, as PromQL (`4s`, `1m`).
    pub rate_window: String,
    pub rate_window_seconds: f64,
    pub rate_window_origin: String,
}

impl Default for Resolution {
    fn default() -> Self {
        Resolution {
            scrape_interval_seconds: f64::NAN,
            scrape_interval_origin: String::new(),
            step_seconds: f64::NAN,
            step_origin: String::new(),
            rate_window: String::new(),
            rate_window_seconds: f64::NAN,
            rate_window_origin: String::new(),
        }
    }
}

impl WindowInfo {
    pub fn new(since: f64, until: f64, baseline_since: f64, step: f64, time_zone: String) -> Self {
        WindowInfo {
            since: rfc3339(since),
            since_unix: since,
            until: rfc3339(until),
            until_unix: until,
            baseline_since: rfc3339(baseline_since),
            baseline_since_unix: baseline_since,
            step_seconds: step,
            time_zone,
            resolution: None,
        }
    }
}

/// What the symptom series did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Spike,
    NoSpike,
    NoData,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Symptom {
    pub query: String,
    /// Where the query came from: `flag`, `config`, `auto:opentelemetry`, `auto:http_requests_total`.
    pub origin: String,
    pub service: Option<String>,
    pub verdict: Verdict,
    /// One sentence a person can read: the spike, or why there is none.
    pub summary: String,
    pub baseline: Option<f64>,
    pub threshold: Option<f64>,
    pub peak: Option<f64>,
    pub peak_at: Option<String>,
    pub peak_unix: Option<f64>,
    pub onset: Option<String>,
    pub onset_unix: Option<f64>,
    pub end: Option<String>,
    pub end_unix: Option<f64>,
    /// The symptom over the baseline and the window, on the step grid (`null` = no sample).
    #[serde(serialize_with = "ser_values", deserialize_with = "de_values")]
    pub values: Vec<f64>,
    /// What the query measures: `errors` or `latency` (auto-detected), `query` (given).
    #[serde(default)]
    pub kind: String,
    /// Why this is the symptom, when several were examined (`--symptom auto`, several
    /// `--symptom-query`): which moved, which moved first, which stayed steady.
    #[serde(default)]
    pub why: Option<String>,
    /// The other symptom queries examined, and what each did.
    #[serde(default)]
    pub also_examined: Vec<SymptomCheck>,
}

/// A symptom query examined besides the one chosen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SymptomCheck {
    pub query: String,
    pub origin: String,
    /// `errors`, `latency` or `query`, as [`Symptom::kind`].
    pub kind: String,
    pub verdict: Verdict,
    pub summary: String,
    pub onset_unix: Option<f64>,
}

impl Symptom {
    pub fn set_times(&mut self, onset: Option<f64>, peak: Option<f64>, end: Option<f64>) {
        self.onset = onset.map(rfc3339);
        self.onset_unix = onset;
        self.peak_at = peak.map(rfc3339);
        self.peak_unix = peak;
        self.end = end.map(rfc3339);
        self.end_unix = end;
    }
}

/// Non-finite values become `null`, since JSON has no NaN.
fn ser_values<S: serde::Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(values.iter().map(|v| v.is_finite().then_some(*v)))
}

/// `null` reads back as a missing sample (`NaN`), as [`ser_values`] wrote it.
fn de_values<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let values: Vec<Option<f64>> = Deserialize::deserialize(d)?;
    Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CandidateStats {
    /// Metric names with samples in the window (after `--candidate-match`).
    pub metric_names: usize,
    /// Names excluded because they are the symptom's own metrics.
    pub excluded_symptom: usize,
    /// Names neither scored nor fetched in full: their first-pass query failed and the
    /// `--max-candidates` full fetches were all taken (see `warnings`). Zero unless the backend
    /// failed.
    pub skipped_over_cap: usize,
    /// Names scored by the first pass (how far each series left its baseline range in the
    /// window); zero when every name fits under `--max-candidates` and all are fetched in full.
    #[serde(default)]
    pub scored_names: usize,
    /// First-pass queries that failed (those names are fetched in full while the cap allows).
    #[serde(default)]
    pub score_failed: usize,
    /// Names fetched at full resolution and ranked (at most `--max-candidates`).
    #[serde(default)]
    pub fetched_names: usize,
    /// Of those, names fetched because a series carries the symptom's service.
    #[serde(default)]
    pub near_names: usize,
    /// Names the first pass found unchanged (every series stayed inside its baseline range).
    #[serde(default)]
    pub unchanged_names: usize,
    /// Names that changed but scored below the `--max-candidates` best (see `warnings`).
    #[serde(default)]
    pub below_cap_names: usize,
    /// Correlation rows whose `values` the JSON report carries (the top rows; all with
    /// `--full-series`); `None` when nothing was trimmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_rows: Option<usize>,
    /// Queries run (typed metric queries plus explicit `--candidate`s).
    pub queries: usize,
    /// Queries that failed (see `warnings`).
    pub failed_queries: usize,
    /// Series that came back and were correlated.
    pub series: usize,
    /// Series left out of the ranking: constant, too few points, …
    pub skipped_series: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorrelationEntry {
    /// 1 = most likely cause.
    pub rank: usize,
    pub query: String,
    pub metric: String,
    pub labels: Labels,
    pub r: f64,
    pub r_at_zero_lag: f64,
    pub p_value: f64,
    pub q_value: f64,
    /// Positive: the metric moved this long *before* the symptom; negative: after it.
    pub lag_seconds: f64,
    pub significant: bool,
    pub n: usize,
    /// Robust effect size: how many robust SDs of its own baseline the metric moved (and held)
    /// in the incident, signed; `None` when it could not be measured.
    pub effect: Option<f64>,
    /// When it changed relative to the symptom: `leads`, `simultaneous`, `lags`, `earlier`
    /// (before the incident's reach), `unchanged`.
    #[serde(default)]
    pub timing: String,
    #[serde(serialize_with = "ser_values", deserialize_with = "de_values")]
    pub values: Vec<f64>,
}

/// One suspected service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceEntry {
    /// 1 = most likely.
    pub rank: usize,
    pub service: String,
    /// The label its candidates name it by (`service`, `service_name`, `job`, …).
    #[serde(default)]
    pub label: String,
    /// The score of its best candidate: `ln(1 + |effect|)`.
    pub score: f64,
    /// Whether its best candidate is significant.
    #[serde(default)]
    pub significant: bool,
    /// The `rank`s of its candidates in `correlations[]`, best first.
    pub evidence: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExemplarKind {
    /// Attached to a failing request (an error-status series).
    Error,
    /// A latency observation; ordered slowest first.
    Slow,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExemplarEntry {
    pub trace_id: Option<String>,
    pub kind: ExemplarKind,
    pub value: f64,
    pub timestamp: String,
    pub timestamp_unix: f64,
    /// The exemplar's own labels.
    pub labels: Labels,
    /// The series it was attached to.
    pub series: Labels,
}

/// How a trace came into the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceOrigin {
    /// From an exemplar of the spike.
    Exemplar,
    /// From a trace search of the spike window, because there were no exemplars.
    Search,
}

/// One trace: its summary (root, duration, error spans, where the time went on the critical
/// path), and why it is here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TraceEntry {
    #[serde(flatten)]
    pub summary: TraceSummaryView,
    pub origin: TraceOrigin,
    /// `error`: the request failed; `slow`: picked for its latency.
    pub kind: ExemplarKind,
}

/// One log record of a trace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntry {
    pub trace_id: String,
    pub timestamp: String,
    pub timestamp_unix: f64,
    pub severity: Option<String>,
    pub service: Option<String>,
    pub body: String,
    /// How the trace id was found: `label`, `metadata` or `line`.
    pub matched_by: Option<String>,
}

impl LogEntry {
    pub fn new(trace_id: &str, r: &crate::model::LogRecord, matched_by: Option<&str>) -> LogEntry {
        let unix = r.timestamp_unix_nano as f64 / 1e9;
        let ts = jiff::Timestamp::from_nanosecond(i128::from(r.timestamp_unix_nano))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        LogEntry {
            trace_id: trace_id.to_string(),
            timestamp: ts.to_string(),
            timestamp_unix: unix,
            severity: r.severity.clone(),
            service: r.service.clone(),
            body: r.body.clone(),
            matched_by: matched_by.map(str::to_string),
        }
    }

    /// Error or worse (`error`, `fatal`, `critical`…), by the record's severity.
    pub fn is_error(&self) -> bool {
        self.severity.as_deref().is_some_and(|s| {
            let s = s.to_ascii_lowercase();
            ["err", "fatal", "crit", "panic", "emerg", "alert"]
                .iter()
                .any(|w| s.starts_with(w))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    Ok,
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceStatus {
    pub signal: String,
    pub kind: String,
    pub url: String,
    pub status: SourceState,
    pub error: Option<String>,
}

/// Missing timings (a report written before a step existed) read as 0.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Timings {
    pub total_ms: u64,
    pub discovery_ms: u64,
    pub symptom_ms: u64,
    pub candidates_ms: u64,
    pub analysis_ms: u64,
    pub exemplars_ms: u64,
    /// Fetching (or searching) and summarising traces.
    pub traces_ms: u64,
    /// Fetching the traces' logs.
    pub logs_ms: u64,
    /// Fetching and grouping the window's and baseline's error and warning logs.
    pub log_patterns_ms: u64,
}

impl Report {
    /// True when a source failed, which makes the exit code 1 even though a report printed.
    pub fn any_source_failed(&self) -> bool {
        self.sources.iter().any(|s| s.status == SourceState::Error)
    }
}

pub fn exemplar_entry(e: &crate::model::Exemplar, kind: ExemplarKind) -> ExemplarEntry {
    ExemplarEntry {
        trace_id: e.trace_id().map(str::to_string),
        kind,
        value: e.value,
        timestamp: rfc3339(e.timestamp),
        timestamp_unix: e.timestamp,
        labels: e.labels.clone(),
        series: e.series_labels.clone(),
    }
}
