//! Recording sources, for `obs snapshot`: `Metrics::Recording`, `Traces::Recording` and
//! `Logs::Recording` wrap a remote backend, pass every call through unchanged, and keep a copy
//! of what came back (and a manifest entry for each call) in a shared [`Recorder`].
//!
//! Recording at the source, not inside `investigate`, means the capture follows whatever the
//! investigation fetches, however its steps choose their queries. Metrics are the exception
//! that needs a second fetch: a range query returns values on the step grid, while the offline
//! evaluator needs the raw samples under it, so [`raw_samples`] fetches, for every selector of
//! every recorded query, `selector[range]` as an instant query (Prometheus answers that with the
//! raw samples) over the window that query read.
//!
//! Only the remote backends are wrapped; a store source is already a file.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::stream::{self, StreamExt as _};

use super::jaeger::Jaeger;
use super::loki::Loki;
use super::prometheus::Prometheus;
use super::tempo::Tempo;
use super::{LogQuery, LogResult, Logs, Metrics, SourceError, TraceSearch, Traces};
use crate::model::{Exemplar, LogRecord, MetricType, Series, Trace, TraceSummary};
use crate::store::{ManifestEntry, RawSeries};

/// What the recording sources saw, shared by them.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Recording>>);

/// Everything fetched, as fetched.
#[derive(Debug, Default)]
pub struct Recording {
    /// One entry per call, in the order they finished.
    pub manifest: Vec<ManifestEntry>,
    /// PromQL range queries that succeeded: (query, start, end) in unix seconds.
    pub range_queries: Vec<(String, f64, f64)>,
    /// Exemplar queries that succeeded, and the exemplars they returned.
    pub exemplar_queries: Vec<(String, f64, f64)>,
    pub exemplars: Vec<Exemplar>,
    /// Metric family → Prometheus type, from the metadata API.
    pub metadata: HashMap<String, String>,
    /// Traces fetched in full, by id.
    pub traces: BTreeMap<String, Trace>,
    /// Log records returned by any query (a record found twice is stored once).
    pub logs: Vec<LogRecord>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// The recording so far.
    pub fn lock(&self) -> MutexGuard<'_, Recording> {
        // A panic elsewhere poisons the lock but leaves the data usable.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes what was recorded, leaving an empty recording.
    pub fn take(&self) -> Recording {
        std::mem::take(&mut *self.lock())
    }

    #[expect(clippy::too_many_arguments, reason = "one manifest row's fields")]
    fn call<T>(
        &self,
        signal: &str,
        kind: &str,
        url: &str,
        call: &str,
        query: &str,
        window: (f64, f64),
        step: Option<f64>,
        result: &Result<T, SourceError>,
        items: impl FnOnce(&T) -> usize,
    ) {
        let (status, error, items) = match result {
            Ok(v) => ("ok", None, items(v) as u64),
            Err(e) => ("error", Some(e.to_string()), 0),
        };
        self.lock().manifest.push(ManifestEntry {
            signal: signal.into(),
            kind: kind.into(),
            url: public_url(url),
            call: call.into(),
            query: query.into(),
            start_unix: window.0,
            end_unix: window.1,
            step_seconds: step,
            status: status.into(),
            error,
            items,
            captured_at: String::new(),
            obs_version: String::new(),
        });
    }
}

/// A URL without user info, query string or fragment: what the manifest may keep.
pub fn public_url(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..cut];
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host_start = rest
                .find('/')
                .map_or(rest, |i| &rest[..i])
                .rfind('@')
                .map_or(0, |i| i + 1);
            format!("{scheme}://{}", &rest[host_start..])
        }
        None => url.to_string(),
    }
}

/// Wraps remote backends in recording ones; store-backed sources are returned unchanged.
pub fn record_metrics(metrics: Metrics, rec: &Recorder) -> Metrics {
    match metrics {
        Metrics::Prometheus(inner) => Metrics::Recording(RecordingMetrics {
            inner,
            rec: rec.clone(),
        }),
        other => other,
    }
}

pub fn record_traces(traces: Traces, rec: &Recorder) -> Traces {
    let inner = match traces {
        Traces::Tempo(t) => RemoteTraces::Tempo(t),
        Traces::Jaeger(j) => RemoteTraces::Jaeger(j),
        other => return other,
    };
    Traces::Recording(RecordingTraces {
        inner,
        rec: rec.clone(),
    })
}

pub fn record_logs(logs: Logs, rec: &Recorder) -> Logs {
    match logs {
        Logs::Loki(inner) => Logs::Recording(RecordingLogs {
            inner,
            rec: rec.clone(),
        }),
        other => other,
    }
}

/// A Prometheus whose answers are recorded.
#[derive(Debug, Clone)]
pub struct RecordingMetrics {
    inner: Prometheus,
    rec: Recorder,
}

const PROMETHEUS: &str = "prometheus";

impl RecordingMetrics {
    /// One manifest row for a call to this Prometheus.
    fn note<T>(
        &self,
        call: &str,
        query: &str,
        window: (f64, f64),
        step: Option<f64>,
        result: &Result<T, SourceError>,
        items: impl FnOnce(&T) -> usize,
    ) {
        let url = self.base_url();
        self.rec.call(
            "metrics", PROMETHEUS, url, call, query, window, step, result, items,
        );
    }

    pub fn base_url(&self) -> &str {
        self.inner.base_url()
    }

    pub fn inner(&self) -> &Prometheus {
        &self.inner
    }

    pub async fn query_range(
        &self,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<Series>, SourceError> {
        let r = self.inner.query_range(promql, start, end, step).await;
        self.note(
            "query_range",
            promql,
            (start, end),
            Some(step),
            &r,
            Vec::len,
        );
        if r.is_ok() {
            self.rec
                .lock()
                .range_queries
                .push((promql.to_string(), start, end));
        }
        r
    }

    pub async fn query_exemplars(
        &self,
        promql: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<Exemplar>, SourceError> {
        let r = self.inner.query_exemplars(promql, start, end).await;
        self.note("query_exemplars", promql, (start, end), None, &r, Vec::len);
        if let Ok(exemplars) = &r {
            let mut rec = self.rec.lock();
            rec.exemplar_queries.push((promql.to_string(), start, end));
            rec.exemplars.extend(exemplars.iter().cloned());
        }
        r
    }

    /// An instant query; its selectors' raw samples are captured like a range query's.
    pub async fn query_instant(
        &self,
        promql: &str,
        time: f64,
    ) -> Result<Vec<(crate::model::Labels, f64)>, SourceError> {
        let r = self.inner.query_instant(promql, time).await;
        self.note("query_instant", promql, (time, time), None, &r, Vec::len);
        if r.is_ok() {
            self.rec
                .lock()
                .range_queries
                .push((promql.to_string(), time, time));
        }
        r
    }

    pub async fn scrape_intervals(&self) -> Result<Vec<(String, f64)>, SourceError> {
        let r = self.inner.scrape_intervals().await;
        self.note("scrape_intervals", "", (0.0, 0.0), None, &r, Vec::len);
        r
    }

    pub async fn metric_names(
        &self,
        matcher: Option<&str>,
        start: f64,
        end: f64,
    ) -> Result<Vec<String>, SourceError> {
        let r = self.inner.metric_names(matcher, start, end).await;
        self.note(
            "metric_names",
            matcher.unwrap_or(""),
            (start, end),
            None,
            &r,
            Vec::len,
        );
        r
    }

    pub async fn label_names(
        &self,
        matcher: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<String>, SourceError> {
        let r = self.inner.label_names(matcher, start, end).await;
        self.note("label_names", matcher, (start, end), None, &r, Vec::len);
        r
    }

    pub async fn metadata(&self) -> Result<HashMap<String, MetricType>, SourceError> {
        let r = self.inner.metadata().await;
        self.note("metadata", "", (0.0, 0.0), None, &r, HashMap::len);
        if let Ok(map) = &r {
            self.rec.lock().metadata.extend(
                map.iter()
                    .filter_map(|(k, t)| prometheus_type(*t).map(|t| (k.clone(), t.to_string()))),
            );
        }
        r
    }
}

fn prometheus_type(t: MetricType) -> Option<&'static str> {
    Some(match t {
        MetricType::Counter => "counter",
        MetricType::Gauge => "gauge",
        MetricType::Histogram => "histogram",
        MetricType::GaugeHistogram => "gaugehistogram",
        MetricType::Summary => "summary",
        MetricType::Info => "info",
        MetricType::StateSet => "stateset",
        MetricType::Unknown => return None,
    })
}

/// The raw samples behind every recorded metrics query: one `selector[range]` fetch per
/// distinct selector, over the union of the windows its queries read, `concurrency` at a time.
/// `progress(done, total)` is called after each fetch. A failed fetch is a manifest entry and
/// leaves the rest to be fetched.
pub async fn raw_samples(
    metrics: &RecordingMetrics,
    concurrency: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<RawSeries> {
    let wanted = {
        let rec = metrics.rec.lock();
        let mut wanted: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (q, start, end) in rec.range_queries.iter().chain(&rec.exemplar_queries) {
            // A query Prometheus answered but the offline evaluator cannot parse cannot be
            // re-evaluated offline either; its grid values were still used, so say so.
            let Ok(windows) = crate::promql::sample_windows(q, *start, *end) else {
                continue;
            };
            for (sel, from, to) in windows {
                let w = wanted.entry(sel).or_insert((from, to));
                w.0 = w.0.min(from);
                w.1 = w.1.max(to);
            }
        }
        wanted
    };
    let total = wanted.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let fetched: Vec<Vec<RawSeries>> = stream::iter(wanted)
        .map(|(sel, (from, to))| {
            let done = &done;
            async move {
                // Closed at both ends in Prometheus 2, open at the start in 3: one more
                // millisecond covers both.
                let range = to - from + 1;
                let r = metrics
                    .inner
                    .raw_samples(&sel, range, to as f64 / 1000.0)
                    .await;
                metrics.rec.call(
                    "metrics",
                    PROMETHEUS,
                    metrics.base_url(),
                    "raw_samples",
                    &format!("{sel}[{range}ms]"),
                    (from as f64 / 1000.0, to as f64 / 1000.0),
                    None,
                    &r,
                    Vec::len,
                );
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n, total);
                r.map(|series| series.into_iter().map(raw).collect())
                    .unwrap_or_default()
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    fetched.into_iter().flatten().collect()
}

/// A matrix series as stored samples: Prometheus times are milliseconds.
fn raw(s: Series) -> RawSeries {
    RawSeries {
        labels: s.labels,
        samples: s
            .points
            .into_iter()
            .map(|(t, v)| ((t * 1000.0).round() as i64 * 1_000_000, v))
            .collect(),
    }
}

#[derive(Debug, Clone)]
enum RemoteTraces {
    Tempo(Tempo),
    Jaeger(Jaeger),
}

/// A Tempo or Jaeger whose traces are recorded.
#[derive(Debug, Clone)]
pub struct RecordingTraces {
    inner: RemoteTraces,
    rec: Recorder,
}

impl RecordingTraces {
    pub fn kind(&self) -> &'static str {
        match self.inner {
            RemoteTraces::Tempo(_) => "tempo",
            RemoteTraces::Jaeger(_) => "jaeger",
        }
    }

    pub fn url(&self) -> &str {
        match &self.inner {
            RemoteTraces::Tempo(t) => t.base_url(),
            RemoteTraces::Jaeger(j) => j.base_url(),
        }
    }

    pub async fn trace(&self, trace_id: &str) -> Result<Option<Trace>, SourceError> {
        let r = match &self.inner {
            RemoteTraces::Tempo(t) => t.trace(trace_id).await,
            RemoteTraces::Jaeger(j) => j.trace(trace_id).await,
        };
        self.rec.call(
            "traces",
            self.kind(),
            self.url(),
            "trace",
            trace_id,
            (0.0, 0.0),
            None,
            &r,
            |t| t.as_ref().map_or(0, |t| t.spans.len()),
        );
        if let Ok(Some(t)) = &r {
            self.rec.lock().traces.insert(t.trace_id.clone(), t.clone());
        }
        r
    }

    pub async fn search(&self, search: &TraceSearch) -> Result<Vec<TraceSummary>, SourceError> {
        let r = match &self.inner {
            RemoteTraces::Tempo(t) => t.search(search).await,
            RemoteTraces::Jaeger(j) => j.search(search).await,
        };
        let query = search.native.clone().unwrap_or_else(|| {
            format!(
                "service={} operation={} errors_only={} min_duration={:?} limit={}",
                search.service.as_deref().unwrap_or(""),
                search.operation.as_deref().unwrap_or(""),
                search.errors_only,
                search.min_duration,
                search.limit
            )
        });
        self.rec.call(
            "traces",
            self.kind(),
            self.url(),
            "search",
            &query,
            (search.start, search.end),
            None,
            &r,
            Vec::len,
        );
        r
    }

    pub async fn services(&self) -> Result<Vec<String>, SourceError> {
        let r = match &self.inner {
            RemoteTraces::Tempo(t) => t.services().await,
            RemoteTraces::Jaeger(j) => j.services().await,
        };
        self.rec.call(
            "traces",
            self.kind(),
            self.url(),
            "services",
            "",
            (0.0, 0.0),
            None,
            &r,
            Vec::len,
        );
        r
    }
}

/// A Loki whose answers are recorded.
#[derive(Debug, Clone)]
pub struct RecordingLogs {
    inner: Loki,
    rec: Recorder,
}

impl RecordingLogs {
    pub fn url(&self) -> &str {
        self.inner.base_url()
    }

    /// Records keep the trace id they were found by: Loki may find a trace's lines by a line
    /// filter while the line itself carries no id field, and the store finds a trace's records
    /// by their id.
    pub async fn logs(&self, query: &LogQuery) -> Result<LogResult, SourceError> {
        let r = self.inner.logs(query).await;
        let text = match &r {
            Ok(result) => result.query.clone(),
            Err(_) => query
                .native
                .clone()
                .or_else(|| query.trace_id.as_ref().map(|t| format!("trace_id={t}")))
                .unwrap_or_default(),
        };
        self.rec.call(
            "logs",
            "loki",
            self.url(),
            "logs",
            &text,
            (query.start_ns as f64 / 1e9, query.end_ns as f64 / 1e9),
            None,
            &r,
            |res| res.records.len(),
        );
        if let Ok(result) = &r {
            let mut rec = self.rec.lock();
            rec.logs.extend(result.records.iter().cloned().map(|mut l| {
                if l.trace_id.is_none() {
                    l.trace_id.clone_from(&query.trace_id);
                }
                l
            }));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_urls_keep_no_credentials_or_query_strings() {
        assert_eq!(
            public_url("https://user:s3cret@mimir.example:443/prometheus?token=abc"),
            "https://mimir.example:443/prometheus"
        );
        assert_eq!(public_url("http://127.0.0.1:9090"), "http://127.0.0.1:9090");
        assert_eq!(
            public_url("http://tempo/api/x@y"),
            "http://tempo/api/x@y",
            "an @ in the path is not user info"
        );
    }
}
