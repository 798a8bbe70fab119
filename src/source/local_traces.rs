//! Traces and logs from the embedded store (`--store PATH`): the `Traces::Local` and
//! `Logs::Local` sources. They translate the backend-neutral queries into [`Store`] queries and
//! run them on a blocking thread, because SQLite calls block and [`Store`] is `Send` but not
//! `Sync` (one connection, behind a mutex here). They never write: the store is opened read-only,
//! so a store that a running `obs sink` is writing can be read.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{Direction, LogQuery, LogResult, SourceError, TraceMatch, TraceSearch};
use crate::model::{Trace, TraceSummary};
use crate::store::{self, Store, StoreError};

/// What `sources[]` calls the store.
pub const KIND: &str = "store";

/// A store opened read-only and shared by clones.
#[derive(Debug, Clone)]
pub struct LocalStore {
    store: Arc<Mutex<Store>>,
    path: Arc<PathBuf>,
    url: Arc<str>,
}

impl LocalStore {
    /// Opens the store at `path` for reading; fails with the store's own message when the file
    /// is missing, empty, not a database, or of another schema.
    pub fn open(path: &Path) -> Result<LocalStore, StoreError> {
        let store = Store::open_read_only(path)?;
        Ok(LocalStore::from_store(store))
    }

    /// Wraps an already-open store.
    pub fn from_store(store: Store) -> LocalStore {
        let path = store.path().to_path_buf();
        LocalStore {
            url: path.display().to_string().into(),
            path: Arc::new(path),
            store: Arc::new(Mutex::new(store)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store path, where the remote sources show a URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `f` on the store on a blocking thread; `map` turns its error into a source error
    /// that names the store. Shared with the store-backed metrics (`source::local`).
    pub(crate) async fn run<T, E, F>(
        &self,
        f: F,
        map: fn(&str, E) -> SourceError,
    ) -> Result<T, SourceError>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, E> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let url = self.url.to_string();
        let joined = tokio::task::spawn_blocking(move || {
            // A panic in another query poisons the lock but leaves the connection usable.
            let mut guard = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await;
        match joined {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(map(&url, e)),
            Err(e) => Err(SourceError::Api {
                backend: KIND,
                url,
                error_type: "internal".into(),
                error: format!("the store query did not finish: {e}"),
            }),
        }
    }

    /// Runs a store query on a blocking thread.
    async fn with<T, F>(&self, f: F) -> Result<T, SourceError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(move |s: &mut Store| f(s), store_error).await
    }
}

/// A store failure as a source failure, so that it lands in `sources[]` like any backend's.
fn store_error(url: &str, e: StoreError) -> SourceError {
    let error_type = match &e {
        StoreError::InvalidQuery(_) => "invalid query",
        StoreError::Locked { .. } => "locked",
        _ => "sqlite",
    };
    SourceError::Api {
        backend: KIND,
        url: url.to_string(),
        error_type: error_type.into(),
        error: e.to_string(),
    }
}

fn unsupported(url: &str, what: &str) -> SourceError {
    SourceError::Api {
        backend: KIND,
        url: url.to_string(),
        error_type: "unsupported".into(),
        error: format!("{what} (the store has no query language for it); use the flags instead"),
    }
}

/// Store-backed traces.
#[derive(Debug, Clone)]
pub struct LocalTraces {
    store: LocalStore,
}

impl LocalTraces {
    pub fn new(store: LocalStore) -> LocalTraces {
        LocalTraces { store }
    }

    pub fn url(&self) -> &str {
        self.store.url()
    }

    pub async fn trace(&self, trace_id: &str) -> Result<Option<Trace>, SourceError> {
        let id = trace_id.to_string();
        self.store.with(move |s| s.trace(&id)).await
    }

    pub async fn search(&self, search: &TraceSearch) -> Result<Vec<TraceSummary>, SourceError> {
        if search.native.is_some() {
            return Err(unsupported(self.url(), "a TraceQL query"));
        }
        if !search.tags.is_empty() {
            return Err(unsupported(self.url(), "a search by span attributes"));
        }
        let q = trace_query(search);
        self.store.with(move |s| s.search_traces(&q)).await
    }

    pub async fn services(&self) -> Result<Vec<String>, SourceError> {
        self.store.with(|s| Ok(s.info()?.services)).await
    }
}

/// The store query for a search; the store's window is inclusive at both ends.
fn trace_query(search: &TraceSearch) -> store::TraceQuery {
    let ns = |secs: f64| (secs * 1e9).round() as i64;
    store::TraceQuery {
        service: search.service.clone(),
        operation: search.operation.clone(),
        start_unix_nano: Some(ns(search.start)),
        end_unix_nano: Some(ns(search.end)),
        min_duration: search.min_duration,
        errors_only: search.errors_only,
        limit: search.limit,
    }
}

/// Store-backed logs.
#[derive(Debug, Clone)]
pub struct LocalLogs {
    store: LocalStore,
}

impl LocalLogs {
    pub fn new(store: LocalStore) -> LocalLogs {
        LocalLogs { store }
    }

    pub fn url(&self) -> &str {
        self.store.url()
    }

    /// Records matching `query`. The stream selector is ignored (the store has no streams:
    /// every record carries its service); the trace id is the record's own OTLP trace id, so
    /// `matched_by` is `metadata` whatever `trace_match` asked for.
    pub async fn logs(&self, query: &LogQuery) -> Result<LogResult, SourceError> {
        if query.native.is_some() {
            return Err(unsupported(self.url(), "a LogQL query"));
        }
        let (q, description) = log_query(query)?;
        let limit = query.limit;
        let mut records = self.store.with(move |s| s.logs(&q)).await?;
        let truncated = limit > 0 && records.len() > limit;
        if truncated {
            records.truncate(limit);
        }
        let tried = if query.trace_id.is_some() {
            vec![TraceMatch::Metadata]
        } else {
            Vec::new()
        };
        let matched_by =
            (query.trace_id.is_some() && !records.is_empty()).then_some(TraceMatch::Metadata);
        Ok(LogResult {
            records,
            query: description,
            matched_by,
            tried,
            truncated,
        })
    }
}

/// The store query for a log query (one more than the limit, to tell whether it cut the
/// result short) and a readable description of it for messages.
fn log_query(query: &LogQuery) -> Result<(store::LogQuery, String), SourceError> {
    let min_severity_number = query
        .min_level
        .as_deref()
        .map(|level| {
            severity_floor(level).ok_or_else(|| SourceError::Api {
                backend: KIND,
                url: String::new(),
                error_type: "invalid query".into(),
                error: format!("unknown level {level:?}: use trace, debug, info, warn or error"),
            })
        })
        .transpose()?;
    let mut parts = Vec::new();
    if let Some(id) = &query.trace_id {
        parts.push(format!("trace_id = {id}"));
    }
    if let Some(service) = &query.service {
        parts.push(format!("service = {service}"));
    }
    if let Some(text) = &query.contains {
        parts.push(format!("body contains {text:?}"));
    }
    if let Some(level) = &query.min_level {
        parts.push(format!("level >= {level}"));
    }
    let description = if parts.is_empty() {
        "store: all records".to_string()
    } else {
        format!("store: {}", parts.join(", "))
    };
    let q = store::LogQuery {
        trace_id: query.trace_id.clone(),
        service: query.service.clone(),
        start_unix_nano: Some(query.start_ns),
        // `LogQuery.end_ns` is exclusive, the store's end inclusive.
        end_unix_nano: Some(query.end_ns.saturating_sub(1)),
        min_severity_number,
        contains: query.contains.clone(),
        limit: if query.limit == 0 {
            0
        } else {
            query.limit.saturating_add(1)
        },
        direction: match query.direction {
            Direction::Backward => store::Direction::Backward,
            Direction::Forward => store::Direction::Forward,
        },
    };
    Ok((q, description))
}

/// The lowest OpenTelemetry severity number of a level word.
fn severity_floor(level: &str) -> Option<i32> {
    match level.trim().to_ascii_lowercase().as_str() {
        "trace" => Some(1),
        "debug" => Some(5),
        "info" => Some(9),
        "warn" | "warning" => Some(13),
        "error" => Some(17),
        "fatal" => Some(21),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_query_end_is_made_inclusive_and_limit_probes_one_more() {
        let (q, description) = log_query(&LogQuery {
            service: Some("checkout".into()),
            min_level: Some("warn".into()),
            start_ns: 10,
            end_ns: 20,
            limit: 5,
            ..LogQuery::default()
        })
        .unwrap();
        assert_eq!(q.end_unix_nano, Some(19));
        assert_eq!(q.limit, 6);
        assert_eq!(q.min_severity_number, Some(13));
        assert_eq!(description, "store: service = checkout, level >= warn");
    }

    #[test]
    fn unknown_level_is_refused() {
        let err = log_query(&LogQuery {
            min_level: Some("loud".into()),
            ..LogQuery::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("unknown level"), "{err}");
    }
}
