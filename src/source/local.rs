//! Metrics from the embedded store (`--store PATH`): the `Metrics::Local` source. PromQL is
//! evaluated offline by [`crate::promql`] over the store's samples, so an investigation asks the
//! store exactly what it would ask Prometheus.
//!
//! SQLite calls block and [`Store`] is `Send` but not `Sync`, so every call runs on a blocking
//! thread with the one read-only connection behind a mutex. The store is never written: a store
//! that a running `obs sink` writes can be read.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::SourceError;
use super::local_traces::LocalStore;
use crate::model::{Exemplar, MetricType, Series};
use crate::promql::{self, PromqlError};
use crate::store::{Store, StoreError};

/// What `sources[]` calls the store.
pub const KIND: &str = "store";

/// Store-backed metrics; clones share one connection.
#[derive(Debug, Clone)]
pub struct LocalMetrics {
    store: LocalStore,
}

fn ns(secs: f64) -> i64 {
    (secs * 1e9).round() as i64
}

impl LocalMetrics {
    /// Opens the store at `path` read-only; fails with the store's own message when the file
    /// is missing, empty, not a database, or of another schema.
    pub fn open(path: &Path) -> Result<LocalMetrics, StoreError> {
        Ok(LocalMetrics {
            store: LocalStore::open(path)?,
        })
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The store path, where remote sources show a URL.
    pub fn url(&self) -> &str {
        self.store.url()
    }

    /// Runs `f` on the store on a blocking thread.
    async fn with<T, F>(&self, f: F) -> Result<T, SourceError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, PromqlError> + Send + 'static,
    {
        self.store.run(f, source_error).await
    }

    pub async fn query_range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<Series>, SourceError> {
        let query = query.to_string();
        self.with(move |s| promql::query_range(s, &query, start, end, step))
            .await
    }

    /// An instant query at `time` (unix seconds).
    pub async fn query_instant(
        &self,
        query: &str,
        time: f64,
    ) -> Result<promql::Value, SourceError> {
        let query = query.to_string();
        self.with(move |s| promql::query_instant(s, &query, time))
            .await
    }

    /// [`LocalMetrics::query_instant`] as Prometheus's `/api/v1/query` answers it: each
    /// sample's labels and value (a scalar is one sample without labels).
    pub async fn query_instant_samples(
        &self,
        query: &str,
        time: f64,
    ) -> Result<Vec<(crate::model::Labels, f64)>, SourceError> {
        Ok(match self.query_instant(query, time).await? {
            promql::Value::Vector(samples) => samples
                .into_iter()
                .map(|s| (s.labels.as_ref().clone(), s.value))
                .collect(),
            promql::Value::Scalar(v) => vec![(crate::model::Labels::new(), v)],
            promql::Value::String(_) => Vec::new(),
        })
    }

    /// What Prometheus's `query_exemplars` answers: the exemplars in the window of the series
    /// that the expression's selectors select.
    pub async fn query_exemplars(
        &self,
        query: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<Exemplar>, SourceError> {
        let query = query.to_string();
        self.with(move |s| exemplars(s, &query, ns(start), ns(end)))
            .await
    }

    /// Metric names with samples in the window, optionally only those a selector selects.
    pub async fn metric_names(
        &self,
        matcher: Option<&str>,
        start: f64,
        end: f64,
    ) -> Result<Vec<String>, SourceError> {
        let matcher = matcher.map(str::to_string);
        self.with(move |s| {
            let (from, to) = (ns(start), ns(end));
            match matcher {
                None => Ok(s.metric_names(from, to)?),
                Some(m) => {
                    let names: BTreeSet<String> = selected(s, &m, from, to)?
                        .into_iter()
                        .filter_map(|r| r.labels.get("__name__").cloned())
                        .collect();
                    Ok(names.into_iter().collect())
                }
            }
        })
        .await
    }

    /// Label names on the series a selector selects in the window, sorted.
    pub async fn label_names(
        &self,
        matcher: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<String>, SourceError> {
        let matcher = matcher.to_string();
        self.with(move |s| {
            let names: BTreeSet<String> = selected(s, &matcher, ns(start), ns(end))?
                .into_iter()
                .flat_map(|r| r.labels.into_keys())
                .collect();
            Ok(names.into_iter().collect())
        })
        .await
    }

    /// The type of each metric family the store has metadata for, keyed by family name.
    pub async fn metadata(&self) -> Result<HashMap<String, MetricType>, SourceError> {
        self.with(|s| {
            let mut out = HashMap::new();
            for name in s.metric_names(i64::MIN, i64::MAX)? {
                let mut candidates = vec![name.clone()];
                for suffix in ["_bucket", "_sum", "_count"] {
                    if let Some(base) = name.strip_suffix(suffix) {
                        candidates.push(base.to_string());
                    }
                }
                for family in candidates {
                    if out.contains_key(&family) {
                        continue;
                    }
                    if let Some((kind, _, _)) = s.metric_metadata(&family)? {
                        out.insert(family, MetricType::from_prometheus(&kind));
                    }
                }
            }
            Ok(out)
        })
        .await
    }
}

/// The series one selector (e.g. `up{job="api"}`) selects in `[from, to]`.
fn selected(
    s: &mut Store,
    selector: &str,
    from: i64,
    to: i64,
) -> Result<Vec<crate::store::RawSeries>, PromqlError> {
    let expr = promql::parse(selector)?;
    let mut out = Vec::new();
    for vs in promql::selectors(&expr) {
        let matchers = promql::all_matchers(vs)?;
        out.extend(promql::select(s, &matchers, from, to)?);
    }
    Ok(out)
}

fn exemplars(s: &mut Store, query: &str, from: i64, to: i64) -> Result<Vec<Exemplar>, PromqlError> {
    let expr = promql::parse(query)?;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for vs in promql::selectors(&expr) {
        let matchers = promql::all_matchers(vs)?;
        let names = promql::selected_names(s, &matchers, from, to)?;
        for e in s.exemplars(&names, from, to)? {
            if promql::matches(&e.series_labels, &matchers) {
                let key = (
                    format!("{:?}", e.series_labels),
                    e.timestamp.to_bits(),
                    format!("{:?}", e.labels),
                );
                if seen.insert(key) {
                    out.push(e);
                }
            }
        }
    }
    out.sort_by(|a, b| a.timestamp.total_cmp(&b.timestamp));
    Ok(out)
}

/// A query failure as a source failure, so that it lands in `sources[]` like any backend's.
fn source_error(url: &str, e: PromqlError) -> SourceError {
    let error_type = match &e {
        PromqlError::Parse { .. } => "bad_data",
        PromqlError::Unsupported(_) => "unsupported",
        PromqlError::Execution(_) => "execution",
        PromqlError::Store(StoreError::Locked { .. }) => "locked",
        PromqlError::Store(_) => "store",
    };
    SourceError::Api {
        backend: KIND,
        url: url.to_string(),
        error_type: error_type.into(),
        error: e.to_string(),
    }
}

/// Store-backed metrics for `path`, as the [`super::Metrics`] an investigation takes.
pub fn open_local_metrics(path: &Path) -> Result<super::Metrics, StoreError> {
    LocalMetrics::open(path).map(super::Metrics::Local)
}
