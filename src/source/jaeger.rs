//! The Jaeger query service HTTP API client (`/api/traces/{id}`, `/api/traces?service=…`,
//! `/api/services`), the API the Jaeger UI uses. Converts Jaeger's trace JSON to
//! `model::Trace` here.
//!
//! Every answer is the `structuredResponse` envelope `{"data":…,"total":…,"limit":…,
//! "offset":…,"errors":[{code,msg}]|null}`. In a trace, spans point at a `processID` whose
//! `processes` entry holds the service name and resource tags; the parent is the first
//! `CHILD_OF` reference (else the first `FOLLOWS_FROM`) within the same trace; times are
//! microseconds; status, kind and scope are tags (`error`, `otel.status_code`, `span.kind`,
//! `otel.scope.name`); span logs are events.
//! See `fixtures/real/jaeger/` for the recorded shapes (no server could be run; the README says
//! where they come from).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;

use crate::model::trace::{Attributes, SpanEvent, normalize_span_id, normalize_trace_id};
use crate::model::{Span, SpanKind, StatusCode, Trace, TraceSummary};
use crate::source::TraceSearch;
use crate::source::http::{HttpClient, SourceError, bytes_body::Body};

#[derive(Debug, Clone)]
pub struct Jaeger {
    http: HttpClient,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Option<Vec<ApiError>>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    msg: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JTrace {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(default)]
    spans: Vec<JSpan>,
    #[serde(default)]
    processes: HashMap<String, JProcess>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JSpan {
    #[serde(rename = "spanID")]
    span_id: String,
    #[serde(default)]
    operation_name: String,
    #[serde(default)]
    references: Vec<JReference>,
    /// Microseconds since the epoch.
    start_time: i64,
    /// Microseconds.
    #[serde(default)]
    duration: i64,
    #[serde(default)]
    tags: Vec<JTag>,
    #[serde(default)]
    logs: Vec<JLog>,
    #[serde(rename = "processID", default)]
    process_id: String,
    /// jaeger-ui's transformed traces embed the process in the span.
    #[serde(default)]
    process: Option<JProcess>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JReference {
    #[serde(default)]
    ref_type: String,
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct JProcess {
    #[serde(default)]
    service_name: String,
    #[serde(default)]
    tags: Vec<JTag>,
}

#[derive(Deserialize, Clone)]
struct JTag {
    key: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct JLog {
    timestamp: i64,
    #[serde(default)]
    fields: Vec<JTag>,
}

impl Jaeger {
    pub fn new(http: HttpClient) -> Jaeger {
        Jaeger { http }
    }

    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    /// `GET /api/traces/{id}`; `None` when Jaeger answers 404.
    pub async fn trace(&self, trace_id: &str) -> Result<Option<Trace>, SourceError> {
        let id = normalize_trace_id(trace_id).map_err(|e| SourceError::Setup {
            backend: self.http.backend,
            reason: e.to_string(),
        })?;
        let path = format!("/api/traces/{id}");
        let (status, body) = self.http.get(&path, &[]).await?;
        if status == 404 {
            return Ok(None);
        }
        let traces: Vec<JTrace> = self.envelope(&path, status, &body)?.unwrap_or_default();
        let mut traces = traces
            .into_iter()
            .map(convert_trace)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| self.decode_error(&path, reason))?;
        Ok(traces
            .iter()
            .position(|t| t.trace_id == id)
            .or((!traces.is_empty()).then_some(0))
            .map(|i| traces.swap_remove(i))
            .filter(|t| !t.spans.is_empty()))
    }

    /// `GET /api/traces?service=…`: Jaeger returns whole traces; they are summarised here.
    /// Jaeger needs a service; errors-only is the tag `error=true`.
    pub async fn search(&self, search: &TraceSearch) -> Result<Vec<TraceSummary>, SourceError> {
        let path = "/api/traces";
        let Some(service) = &search.service else {
            return Err(SourceError::Setup {
                backend: self.http.backend,
                reason: "a Jaeger search needs a service: pass --service".into(),
            });
        };
        let mut query: Vec<(&str, String)> = vec![("service", service.clone())];
        if let Some(op) = &search.operation {
            query.push(("operation", op.clone()));
        }
        let mut tags: BTreeMap<String, String> = search.tags.iter().cloned().collect();
        if search.errors_only {
            tags.insert("error".into(), "true".into());
        }
        if !tags.is_empty() {
            query.push((
                "tags",
                serde_json::to_string(&tags).unwrap_or_else(|_| "{}".into()),
            ));
        }
        if let Some(d) = search.min_duration {
            query.push(("minDuration", crate::timespec::format_duration(d)));
        }
        if search.end > search.start && search.start > 0.0 {
            query.push(("start", format!("{}", (search.start * 1e6) as i64)));
            query.push(("end", format!("{}", (search.end * 1e6) as i64)));
        }
        if search.limit > 0 {
            query.push(("limit", search.limit.to_string()));
        }
        let (status, body) = self.http.get(path, &query).await?;
        let traces: Vec<JTrace> = self.envelope(path, status, &body)?.unwrap_or_default();
        traces
            .into_iter()
            .map(|t| convert_trace(t).map(|t| summarize(&t)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| self.decode_error(path, reason))
    }

    /// `GET /api/services`.
    pub async fn services(&self) -> Result<Vec<String>, SourceError> {
        let path = "/api/services";
        let (status, body) = self.http.get(path, &[]).await?;
        Ok(self
            .envelope::<Vec<String>>(path, status, &body)?
            .unwrap_or_default())
    }

    fn envelope<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        status: u16,
        body: &Body,
    ) -> Result<Option<T>, SourceError> {
        let url = self.http.url(path);
        let parsed: Result<Envelope<T>, _> = serde_json::from_slice(&body.0);
        let api_error = |errors: &[ApiError]| {
            errors
                .iter()
                .map(|e| format!("{} ({})", e.msg, e.code))
                .collect::<Vec<_>>()
                .join("; ")
        };
        match parsed {
            Ok(env) if (200..300).contains(&status) => match env.errors.as_deref() {
                Some(errors) if !errors.is_empty() && env.data.is_none() => Err(SourceError::Api {
                    backend: self.http.backend,
                    url,
                    error_type: "error".into(),
                    error: api_error(errors),
                }),
                _ => Ok(env.data),
            },
            Ok(env) => Err(SourceError::Http {
                backend: self.http.backend,
                url,
                status,
                body: env
                    .errors
                    .as_deref()
                    .map(api_error)
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| body.snippet()),
            }),
            Err(_) if !(200..300).contains(&status) => Err(SourceError::Http {
                backend: self.http.backend,
                url,
                status,
                body: body.snippet(),
            }),
            Err(e) => Err(self.decode_error(path, e.to_string())),
        }
    }

    fn decode_error(&self, path: &str, reason: String) -> SourceError {
        SourceError::Decode {
            backend: self.http.backend,
            url: self.http.url(path),
            reason,
        }
    }
}

/// A tag's value with its declared type: int64 may come as a string (beyond JavaScript's safe
/// integers), binary stays base64 text.
fn tag_value(tag: &JTag) -> Value {
    match (tag.kind.as_str(), &tag.value) {
        ("int64", Value::String(s)) => s
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(tag.value.clone()),
        ("float64", Value::String(s)) => s
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or(tag.value.clone()),
        ("bool", Value::String(s)) => Value::Bool(s == "true"),
        _ => tag.value.clone(),
    }
}

fn tags(list: &[JTag]) -> Attributes {
    list.iter().map(|t| (t.key.clone(), tag_value(t))).collect()
}

fn text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

fn convert_trace(t: JTrace) -> Result<Trace, String> {
    let trace_id = normalize_trace_id(&t.trace_id).map_err(|e| e.to_string())?;
    let mut spans = Vec::with_capacity(t.spans.len());
    for s in t.spans {
        let process = s
            .process
            .clone()
            .or_else(|| t.processes.get(&s.process_id).cloned());
        spans.push(convert_span(s, &trace_id, process)?);
    }
    Ok(Trace { trace_id, spans })
}

fn convert_span(s: JSpan, trace_id: &str, process: Option<JProcess>) -> Result<Span, String> {
    let span_id = normalize_span_id(&s.span_id).map_err(|e| e.to_string())?;
    let own_trace =
        |r: &&JReference| normalize_trace_id(&r.trace_id).is_ok_and(|id| id == trace_id);
    let parent = s
        .references
        .iter()
        .filter(own_trace)
        .find(|r| r.ref_type == "CHILD_OF")
        .or_else(|| {
            s.references
                .iter()
                .filter(own_trace)
                .find(|r| r.ref_type == "FOLLOWS_FROM")
        })
        .and_then(|r| normalize_span_id(&r.span_id).ok());
    let mut attributes = tags(&s.tags);
    let kind = match attributes.get("span.kind").map(text).as_deref() {
        Some("server") => SpanKind::Server,
        Some("client") => SpanKind::Client,
        Some("producer") => SpanKind::Producer,
        Some("consumer") => SpanKind::Consumer,
        Some("internal") => SpanKind::Internal,
        _ => SpanKind::Unspecified,
    };
    let error_tag = attributes
        .get("error")
        .is_some_and(|v| v == &Value::Bool(true) || v.as_str() == Some("true"));
    let status = match attributes.get("otel.status_code").map(text).as_deref() {
        Some("ERROR") => StatusCode::Error,
        Some("OK") => StatusCode::Ok,
        _ if error_tag => StatusCode::Error,
        _ => StatusCode::Unset,
    };
    let status_message = attributes
        .get("otel.status_description")
        .map(text)
        .unwrap_or_default();
    let scope = ["otel.scope.name", "otel.library.name"]
        .iter()
        .find_map(|k| attributes.get(*k).map(text));
    for k in [
        "span.kind",
        "otel.status_code",
        "otel.status_description",
        "otel.scope.name",
        "otel.scope.version",
        "otel.library.name",
        "otel.library.version",
    ] {
        attributes.remove(k);
    }
    let (service, resource) = match process {
        Some(p) => {
            let mut resource = tags(&p.tags);
            resource.insert("service.name".into(), Value::from(p.service_name.clone()));
            (p.service_name, resource)
        }
        None => ("unknown_service".to_string(), Attributes::new()),
    };
    let start = s.start_time.saturating_mul(1000);
    let events = s
        .logs
        .iter()
        .map(|log| {
            let mut fields = tags(&log.fields);
            let name = fields
                .remove("event")
                .map(|v| text(&v))
                .unwrap_or_else(|| "log".to_string());
            SpanEvent {
                time_unix_nano: log.timestamp.saturating_mul(1000),
                name,
                attributes: fields,
            }
        })
        .collect();
    Ok(Span {
        trace_id: trace_id.to_string(),
        span_id,
        parent_span_id: parent,
        name: s.operation_name,
        service: if service.is_empty() {
            "unknown_service".into()
        } else {
            service
        },
        kind,
        start_unix_nano: start,
        end_unix_nano: start.saturating_add(s.duration.saturating_mul(1000)),
        status,
        status_message,
        attributes,
        resource,
        scope,
        events,
        links: Vec::new(),
    })
}

/// A search hit from a whole trace: the root (the span without a parent in the trace, the
/// earliest if several), the trace's extent, whether any span failed.
fn summarize(t: &Trace) -> TraceSummary {
    let ids: std::collections::HashSet<&str> = t.spans.iter().map(|s| s.span_id.as_str()).collect();
    let root = t
        .spans
        .iter()
        .filter(|s| s.parent_span_id.as_deref().is_none_or(|p| !ids.contains(p)))
        .min_by_key(|s| s.start_unix_nano);
    let start = t.spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
    let end = t.spans.iter().map(|s| s.end_unix_nano).max().unwrap_or(0);
    TraceSummary {
        trace_id: t.trace_id.clone(),
        root_service: root.map(|s| s.service.clone()),
        root_name: root.map(|s| s.name.clone()),
        start_unix_nano: start,
        duration_ms: (end - start) as f64 / 1e6,
        span_count: Some(t.spans.len()),
        has_error: Some(t.spans.iter().any(Span::is_error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/real/jaeger")
            .join(name);
        std::fs::read(path).unwrap()
    }

    #[test]
    fn ui_model_trace_converts_references_processes_tags_and_logs() {
        let t: JTrace =
            serde_json::from_slice(&fixture("ui_model_single_trace_ui_01.json")).unwrap();
        let trace = convert_trace(t).unwrap();
        assert_eq!(trace.trace_id, "00000000000000000000000000000001");
        assert_eq!(trace.spans.len(), 5);
        let s0 = &trace.spans[0];
        assert_eq!(s0.span_id, "0000000000000002");
        assert_eq!(s0.service, "service-x");
        assert_eq!(s0.events.len(), 2);
        assert_eq!(s0.events[0].name, "some-event");
        assert_eq!(s0.events[1].attributes["x"], "y");
        assert_eq!(s0.end_unix_nano - s0.start_unix_nano, 5_000);
        let s1 = &trace.spans[1];
        assert_eq!(s1.status, StatusCode::Error, "error=true tag");
        assert_eq!(
            s1.attributes["javascript_limit"],
            Value::from(9223372036854775222i64)
        );
        assert_eq!(s1.attributes["temperature"], Value::from(72.5));
        // A reference into another trace is not a parent; the CHILD_OF in this trace is.
        let s3 = &trace.spans[3];
        assert_eq!(s3.parent_span_id.as_deref(), Some("0000000000000002"));
        assert_eq!(s3.service, "service-y");
    }

    #[test]
    fn envelope_trace_reads_kind_and_scope_from_tags() {
        let env: Envelope<Vec<JTrace>> =
            serde_json::from_slice(&fixture("api_traces_by_id_response_envelope.json")).unwrap();
        let trace = convert_trace(env.data.unwrap().remove(0)).unwrap();
        assert_eq!(trace.trace_id, "83a9efd15c1c98a977e0711cc93ee28b");
        let s = &trace.spans[0];
        assert_eq!(s.kind, SpanKind::Server);
        assert_eq!(s.scope.as_deref(), Some("telemetrygen"));
        assert_eq!(s.service, "telemetrygen");
        assert_eq!(s.parent_span_id.as_deref(), Some("909541b92cf05311"));
        assert!(!s.attributes.contains_key("span.kind"));
    }
}
