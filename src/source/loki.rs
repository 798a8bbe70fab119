//! The Grafana Loki HTTP API client: log queries (`/loki/api/v1/query_range`) with pagination,
//! label names and values, series. Builds LogQL for backend-neutral [`LogQuery`]s, including
//! the three ways a trace id can be stored (stream label, structured metadata, in the line).
//!
//! API reference: <https://grafana.com/docs/loki/latest/reference/loki-http-api/>. What Loki
//! really sends (see `fixtures/real/loki/` and its README):
//! - `{"status":"success","data":{"resultType":"streams","result":[{"stream":{labels},
//!   "values":[["<ns>","<line>"]]}],"stats":{…}}}`;
//! - errors are **plain text** (`parse error at line 1, col 17: …`) with a JSON content type;
//! - `limit` caps the lines of one answer across all streams, taken in `direction` order; `end`
//!   is exclusive.
//!
//! Pagination (as logcli does it): when an answer is full, the next request moves the time
//! bound to the last timestamp seen (`end = t + 1ns` going backward, `start = t` going forward)
//! so that lines sharing that timestamp are not lost, and drops the lines at that timestamp it
//! has already returned. No line is dropped or repeated across pages.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use crate::model::LogRecord;
use crate::model::trace::{normalize_span_id, normalize_trace_id};
use crate::source::http::{HttpClient, SourceError, bytes_body::Body};
use crate::source::{Direction, LogQuery, LogResult, TraceMatch};

/// Lines asked for in one request; Loki's default `max_entries_limit_per_query` is 5000.
pub const DEFAULT_PAGE_SIZE: usize = 1000;

/// Stream labels that name the service, tried in order when none is configured.
pub const SERVICE_LABELS: [&str; 6] = [
    "service_name",
    "service",
    "app",
    "application",
    "job",
    "container",
];

/// Labels (or structured metadata) that carry a trace id.
const TRACE_ID_KEYS: [&str; 4] = ["trace_id", "traceID", "traceId", "traceid"];
const SPAN_ID_KEYS: [&str; 4] = ["span_id", "spanID", "spanId", "spanid"];
const LEVEL_KEYS: [&str; 5] = [
    "level",
    "detected_level",
    "severity",
    "lvl",
    "severity_text",
];

/// Severity words by rank, for `--level` ("at least this severe").
const LEVELS: [(&str, &[&str]); 5] = [
    ("trace", &["trace"]),
    ("debug", &["debug", "dbug"]),
    ("info", &["info", "information", "notice"]),
    ("warn", &["warn", "warning"]),
    (
        "error",
        &[
            "error", "err", "eror", "fatal", "critical", "crit", "panic", "emerg", "alert",
        ],
    ),
];

#[derive(Debug, Clone)]
pub struct Loki {
    http: HttpClient,
    page_size: usize,
    service_label: Option<String>,
    trace_id_label: String,
}

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default)]
    status: String,
    data: Option<T>,
}

#[derive(Deserialize)]
struct QueryData {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: Value,
}

#[derive(Deserialize)]
struct Stream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<Vec<Value>>,
}

/// One line with what identifies it across pages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct EntryKey {
    ts: i64,
    labels: BTreeMap<String, String>,
    line: String,
}

impl Loki {
    pub fn new(http: HttpClient) -> Loki {
        Loki {
            http,
            page_size: DEFAULT_PAGE_SIZE,
            service_label: None,
            trace_id_label: "trace_id".into(),
        }
    }

    /// Lines per request (at least 1).
    pub fn with_page_size(mut self, page_size: usize) -> Loki {
        self.page_size = page_size.max(1);
        self
    }

    /// The stream label that names the service; `None` detects it from the label names.
    pub fn with_service_label(mut self, label: Option<String>) -> Loki {
        self.service_label = label;
        self
    }

    /// The label or structured-metadata key holding trace ids (default `trace_id`).
    pub fn with_trace_id_label(mut self, label: String) -> Loki {
        self.trace_id_label = label;
        self
    }

    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    /// Runs a [`LogQuery`]: the LogQL given, or one built from the service, text, level and
    /// trace id; for a trace id, each [`TraceMatch`] strategy in turn until one finds lines.
    pub async fn logs(&self, q: &LogQuery) -> Result<LogResult, SourceError> {
        if let Some(native) = &q.native {
            let (records, truncated) = self
                .query_range(native, q.start_ns, q.end_ns, q.limit, q.direction)
                .await?;
            return Ok(LogResult {
                records,
                query: native.clone(),
                matched_by: None,
                tried: Vec::new(),
                truncated,
            });
        }
        let needs_service_label = q.service.is_some() || q.selector.is_none();
        let mut label_names: Option<Vec<String>> = None;
        let service_label = match (&self.service_label, needs_service_label) {
            (Some(l), _) => Some(l.clone()),
            (None, false) => None,
            (None, true) => {
                let names = self.labels(q.start_ns, q.end_ns).await?;
                let found = SERVICE_LABELS
                    .iter()
                    .find(|l| names.iter().any(|n| n == *l))
                    .map(|l| l.to_string());
                label_names = Some(names);
                Some(found.ok_or_else(|| SourceError::Api {
                    backend: self.http.backend,
                    url: self.http.url("/loki/api/v1/labels"),
                    error_type: "no service label".into(),
                    error: format!(
                        "no stream label names a service (looked for {}); set log_service_label \
                         in the context or pass --selector",
                        SERVICE_LABELS.join(", ")
                    ),
                })?)
            }
        };
        let mut matchers: Vec<String> = Vec::new();
        match (&q.service, &service_label) {
            (Some(service), Some(label)) => {
                matchers.push(format!("{label}={}", logql_string(service)))
            }
            (None, Some(label)) if q.selector.is_none() => {
                matchers.push(format!("{label}=~\".+\""))
            }
            _ => {}
        }
        let base = merge_selector(q.selector.as_deref(), &matchers);
        let mut pipeline = String::new();
        if let Some(text) = &q.contains {
            pipeline.push_str(&format!(" |= {}", logql_string(text)));
        }
        if let Some(level) = &q.min_level {
            pipeline.push_str(&format!(" | {}", level_filter(level)));
        }

        let Some(trace_id) = &q.trace_id else {
            let query = format!("{base}{pipeline}");
            let (records, truncated) = self
                .query_range(&query, q.start_ns, q.end_ns, q.limit, q.direction)
                .await?;
            return Ok(LogResult {
                records,
                query,
                matched_by: None,
                tried: Vec::new(),
                truncated,
            });
        };

        let strategies: Vec<TraceMatch> = match q.trace_match {
            TraceMatch::Auto => {
                let names = match label_names {
                    Some(n) => n,
                    None => self.labels(q.start_ns, q.end_ns).await?,
                };
                let mut s = Vec::new();
                if names.iter().any(|n| n == &self.trace_id_label) {
                    s.push(TraceMatch::Label);
                }
                s.extend([TraceMatch::Metadata, TraceMatch::Line]);
                s
            }
            one => vec![one],
        };
        let label = &self.trace_id_label;
        let mut tried = Vec::new();
        let mut last_query = String::new();
        for strategy in strategies {
            let query = match strategy {
                TraceMatch::Label => {
                    let mut with_id = matchers.clone();
                    with_id.push(format!("{label}={}", logql_string(trace_id)));
                    // The trace id alone selects the streams; the service matcher would only
                    // narrow them, and `label=~".+"` is not needed.
                    with_id.retain(|m| !m.ends_with("=~\".+\""));
                    format!(
                        "{}{pipeline}",
                        merge_selector(q.selector.as_deref(), &with_id)
                    )
                }
                TraceMatch::Metadata => {
                    format!("{base} | {label}={}{pipeline}", logql_string(trace_id))
                }
                TraceMatch::Line | TraceMatch::Auto => {
                    format!("{base} |= {}{pipeline}", logql_string(trace_id))
                }
            };
            tried.push(strategy);
            let (records, truncated) = self
                .query_range(&query, q.start_ns, q.end_ns, q.limit, q.direction)
                .await?;
            last_query = query.clone();
            if !records.is_empty() {
                return Ok(LogResult {
                    records,
                    query,
                    matched_by: Some(strategy),
                    tried,
                    truncated,
                });
            }
        }
        Ok(LogResult {
            records: Vec::new(),
            query: last_query,
            matched_by: None,
            tried,
            truncated: false,
        })
    }

    /// `GET /loki/api/v1/query_range` for a log query, paged; returns at most `limit` records in
    /// `direction` order, and whether more were left.
    pub async fn query_range(
        &self,
        logql: &str,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
        direction: Direction,
    ) -> Result<(Vec<LogRecord>, bool), SourceError> {
        let path = "/loki/api/v1/query_range";
        let mut out: Vec<LogRecord> = Vec::new();
        let (mut start, mut end) = (start_ns, end_ns);
        // Lines already returned at the current boundary timestamp.
        let mut boundary: HashSet<EntryKey> = HashSet::new();
        let mut boundary_ts: Option<i64> = None;
        while out.len() < limit && start < end {
            let remaining = limit - out.len();
            let page_limit = self.page_size.min(remaining + boundary.len());
            let page_limit = page_limit.max(1);
            let query = [
                ("query", logql.to_string()),
                ("start", start.to_string()),
                ("end", end.to_string()),
                ("limit", page_limit.to_string()),
                (
                    "direction",
                    match direction {
                        Direction::Backward => "backward",
                        Direction::Forward => "forward",
                    }
                    .to_string(),
                ),
            ];
            let (status, body) = self.http.get(path, &query).await?;
            let data: QueryData = self.envelope(path, status, &body)?;
            if data.result_type != "streams" {
                return Err(SourceError::Api {
                    backend: self.http.backend,
                    url: self.http.url(path),
                    error_type: "not a log query".into(),
                    error: format!(
                        "the query returns a {} result, not log lines; give a log query \
                         (a stream selector and line filters), not a metric query",
                        data.result_type
                    ),
                });
            }
            let mut entries = self.entries(path, data.result)?;
            let full = entries.len() >= page_limit;
            match direction {
                Direction::Backward => entries.sort_by_key(|e| std::cmp::Reverse(e.0.ts)),
                Direction::Forward => entries.sort_by_key(|e| e.0.ts),
            }
            let last_ts = entries.last().map(|e| e.0.ts);
            let mut added = 0;
            for (key, record) in &entries {
                if boundary.contains(key) || out.len() >= limit {
                    continue;
                }
                out.push(record.clone());
                added += 1;
            }
            if !full {
                return Ok((out, false));
            }
            let Some(ts) = last_ts else {
                return Ok((out, false));
            };
            if added == 0 {
                // A full page of lines all at the boundary timestamp: more lines share one
                // nanosecond than a page holds. Stop rather than loop.
                tracing::warn!(
                    "more than {page_limit} log lines at one timestamp ({ts}); some may be missing"
                );
                return Ok((out, true));
            }
            if boundary_ts != Some(ts) {
                boundary.clear();
                boundary_ts = Some(ts);
            }
            boundary.extend(
                entries
                    .into_iter()
                    .filter(|(k, _)| k.ts == ts)
                    .map(|(k, _)| k),
            );
            match direction {
                Direction::Backward => end = ts.saturating_add(1),
                Direction::Forward => start = ts,
            }
        }
        let truncated = out.len() >= limit;
        Ok((out, truncated))
    }

    /// `GET /loki/api/v1/labels`: label names with streams in the window.
    pub async fn labels(&self, start_ns: i64, end_ns: i64) -> Result<Vec<String>, SourceError> {
        let path = "/loki/api/v1/labels";
        let (status, body) = self
            .http
            .get(
                path,
                &[("start", start_ns.to_string()), ("end", end_ns.to_string())],
            )
            .await?;
        Ok(self
            .envelope::<Option<Vec<String>>>(path, status, &body)?
            .unwrap_or_default())
    }

    /// `GET /loki/api/v1/label/<name>/values`.
    pub async fn label_values(
        &self,
        name: &str,
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<String>, SourceError> {
        let path = format!("/loki/api/v1/label/{name}/values");
        let (status, body) = self
            .http
            .get(
                &path,
                &[("start", start_ns.to_string()), ("end", end_ns.to_string())],
            )
            .await?;
        Ok(self
            .envelope::<Option<Vec<String>>>(&path, status, &body)?
            .unwrap_or_default())
    }

    /// `GET /loki/api/v1/series?match[]=…`: the label sets of matching streams.
    pub async fn series(
        &self,
        matcher: &str,
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<BTreeMap<String, String>>, SourceError> {
        let path = "/loki/api/v1/series";
        let (status, body) = self
            .http
            .get(
                path,
                &[
                    ("match[]", matcher.to_string()),
                    ("start", start_ns.to_string()),
                    ("end", end_ns.to_string()),
                ],
            )
            .await?;
        Ok(self
            .envelope::<Option<Vec<BTreeMap<String, String>>>>(path, status, &body)?
            .unwrap_or_default())
    }

    fn envelope<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        status: u16,
        body: &Body,
    ) -> Result<T, SourceError> {
        let url = self.http.url(path);
        if !(200..300).contains(&status) {
            // Loki's errors are plain text, whatever the content type says.
            return Err(SourceError::Http {
                backend: self.http.backend,
                url,
                status,
                body: body.snippet(),
            });
        }
        let env: Envelope<T> =
            serde_json::from_slice(&body.0).map_err(|e| SourceError::Decode {
                backend: self.http.backend,
                url: url.clone(),
                reason: e.to_string(),
            })?;
        match (env.status.as_str(), env.data) {
            ("success", Some(data)) => Ok(data),
            (status, _) => Err(SourceError::Decode {
                backend: self.http.backend,
                url,
                reason: format!("status {status:?} without data"),
            }),
        }
    }

    fn entries(
        &self,
        path: &str,
        result: Value,
    ) -> Result<Vec<(EntryKey, LogRecord)>, SourceError> {
        let decode = |reason: String| SourceError::Decode {
            backend: self.http.backend,
            url: self.http.url(path),
            reason,
        };
        let streams: Vec<Stream> =
            serde_json::from_value(result).map_err(|e| decode(e.to_string()))?;
        let mut out = Vec::new();
        for stream in streams {
            for value in stream.values {
                let ts = value
                    .first()
                    .and_then(|t| match t {
                        Value::String(s) => s.parse::<i64>().ok(),
                        Value::Number(n) => n.as_i64(),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        decode(format!("entry {value:?} has no nanosecond timestamp"))
                    })?;
                let line = value
                    .get(1)
                    .and_then(Value::as_str)
                    .ok_or_else(|| decode(format!("entry at {ts} has no line")))?
                    .to_string();
                // Loki 3 may add structured metadata as a third element.
                let mut labels = stream.stream.clone();
                if let Some(Value::Object(meta)) = value.get(2) {
                    for (k, v) in meta {
                        if let Some(s) = v.as_str() {
                            labels.insert(k.clone(), s.to_string());
                        }
                    }
                }
                let record = self.record(ts, &labels, &line);
                out.push((EntryKey { ts, labels, line }, record));
            }
        }
        Ok(out)
    }

    fn record(&self, ts: i64, labels: &BTreeMap<String, String>, line: &str) -> LogRecord {
        let label = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| labels.get(*k))
                .filter(|v| !v.is_empty())
                .cloned()
        };
        let mut service_keys: Vec<&str> = Vec::new();
        if let Some(l) = &self.service_label {
            service_keys.push(l);
        }
        service_keys.extend(SERVICE_LABELS);
        let mut trace_keys: Vec<&str> = vec![self.trace_id_label.as_str()];
        trace_keys.extend(TRACE_ID_KEYS);
        let trace_id = label(&trace_keys)
            .or_else(|| field_in_line(line, &TRACE_ID_KEYS))
            .and_then(|t| normalize_trace_id(&t).ok());
        let span_id = label(&SPAN_ID_KEYS)
            .or_else(|| field_in_line(line, &SPAN_ID_KEYS))
            .and_then(|s| normalize_span_id(&s).ok());
        let severity = label(&LEVEL_KEYS).or_else(|| field_in_line(line, &LEVEL_KEYS));
        LogRecord {
            timestamp_unix_nano: ts,
            severity_number: severity.as_deref().and_then(severity_number),
            severity,
            service: label(&service_keys),
            body: line.to_string(),
            trace_id,
            span_id,
            labels: labels.clone(),
        }
    }
}

/// A LogQL string literal.
pub fn logql_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Adds matchers to a stream selector: `{a="b"}` + `c="d"` → `{a="b", c="d"}`.
fn merge_selector(selector: Option<&str>, matchers: &[String]) -> String {
    let inner = selector
        .map(|s| {
            s.trim()
                .trim_start_matches('{')
                .trim_end_matches('}')
                .trim()
        })
        .filter(|s| !s.is_empty());
    let parts: Vec<&str> = inner
        .into_iter()
        .chain(matchers.iter().map(String::as_str))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// A label filter keeping records at least as severe as `level`: `level=~"(?i)warn|warning|…"`.
pub fn level_filter(level: &str) -> String {
    let wanted = level.trim().to_ascii_lowercase();
    let rank = LEVELS
        .iter()
        .position(|(name, words)| *name == wanted || words.contains(&wanted.as_str()));
    let words: Vec<&str> = match rank {
        Some(r) => LEVELS[r..]
            .iter()
            .flat_map(|(_, w)| w.iter().copied())
            .collect(),
        None => vec![wanted.as_str()],
    };
    format!(
        "level=~{}",
        logql_string(&format!("(?i){}", words.join("|")))
    )
}

/// The levels `--level` accepts.
pub fn level_names() -> Vec<&'static str> {
    LEVELS.iter().map(|(n, _)| *n).collect()
}

/// OpenTelemetry severity number of a level word (the first of its range).
fn severity_number(level: &str) -> Option<i32> {
    let l = level.to_ascii_lowercase();
    let rank = LEVELS
        .iter()
        .position(|(_, words)| words.contains(&l.as_str()))?;
    Some([1, 5, 9, 13, 17][rank])
}

/// The value of `key` in a logfmt (`key=value`) or JSON (`"key": "value"`) line.
fn field_in_line(line: &str, keys: &[&str]) -> Option<String> {
    for key in keys {
        let mut from = 0;
        while let Some(pos) = line[from..].find(key) {
            let at = from + pos;
            from = at + key.len();
            // The key must start a word (or a JSON string).
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let rest = &line[at + key.len()..];
            let rest = rest.strip_prefix('"').unwrap_or(rest);
            let rest = rest.trim_start();
            let Some(rest) = rest.strip_prefix('=').or_else(|| rest.strip_prefix(':')) else {
                continue;
            };
            let rest = rest.trim_start();
            let rest = rest.strip_prefix('"').unwrap_or(rest);
            let value: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if !value.is_empty() {
                return Some(value);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_from_logfmt_and_json_lines() {
        let logfmt = r#"ts=2026-11-21T05:23:26.581Z level=error msg="x" trace_id=aa3683ad52e9b569c004436d55771b03"#;
        assert_eq!(
            field_in_line(logfmt, &TRACE_ID_KEYS).as_deref(),
            Some("aa3683ad52e9b569c004436d55771b03")
        );
        assert_eq!(field_in_line(logfmt, &LEVEL_KEYS).as_deref(), Some("error"));
        let json = r#"{"level": "error", "trace_id": "aa3683ad52e9b569c004436d55771b03", "span_id": "c67b3f57b2224c38"}"#;
        assert_eq!(
            field_in_line(json, &TRACE_ID_KEYS).as_deref(),
            Some("aa3683ad52e9b569c004436d55771b03")
        );
        assert_eq!(
            field_in_line(json, &SPAN_ID_KEYS).as_deref(),
            Some("c67b3f57b2224c38")
        );
        assert_eq!(field_in_line("no_trace_id=1 x", &TRACE_ID_KEYS), None);
    }

    #[test]
    fn selectors_merge_and_levels_widen_upwards() {
        assert_eq!(
            merge_selector(Some(r#"{job="shop"}"#), &[r#"service="checkout""#.into()]),
            r#"{job="shop", service="checkout"}"#
        );
        assert_eq!(merge_selector(None, &[r#"a="b""#.into()]), r#"{a="b"}"#);
        assert_eq!(
            level_filter("warn"),
            r#"level=~"(?i)warn|warning|error|err|eror|fatal|critical|crit|panic|emerg|alert""#
        );
        assert_eq!(logql_string(r#"a"b\"#), r#""a\"b\\""#);
        assert_eq!(severity_number("WARN"), Some(13));
    }
}
