//! The Grafana Tempo HTTP API client: a trace by id, and search with TraceQL (`q=`) or, for
//! versions before TraceQL, with `tags=`. Converts Tempo's JSON to `model::Trace` here.
//!
//! API reference: <https://grafana.com/docs/tempo/latest/api_docs/>. What Tempo really sends
//! (see `fixtures/real/tempo/` and its README), and this module copes with:
//! - `GET /api/traces/<id>` with `Accept: application/json` answers
//!   `{"batches":[{resource, scopeSpans:[{scope, spans}]}]}`; newer versions and the v2 API say
//!   `resourceSpans` (v2 wraps it in `{"trace":…}`), and pre-1.0 OTLP said
//!   `instrumentationLibrarySpans`;
//! - ids are base64 in Tempo's JSON but hex in OTLP/JSON proper: both are accepted;
//! - `kind` and `status.code` are enum names (`SPAN_KIND_SERVER`) or numbers; int attribute
//!   values and nanosecond timestamps are strings;
//! - an unknown id is HTTP 404 with the text body `trace not found`; errors are plain text;
//! - search results drop leading zeros from trace ids (`0eec…` comes back as `eec…`).

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

pub use crate::model::query::SearchMode;
use crate::model::trace::{Attributes, SpanEvent, SpanLink, normalize_trace_id};
use crate::model::{Span, SpanKind, StatusCode, Trace, TraceSummary};
use crate::source::TraceSearch;
use crate::source::http::{HttpClient, SourceError, bytes_body::Body};

#[derive(Debug, Clone)]
pub struct Tempo {
    http: HttpClient,
    mode: SearchMode,
}

impl Tempo {
    pub fn new(http: HttpClient) -> Tempo {
        Tempo {
            http,
            mode: SearchMode::TraceQl,
        }
    }

    pub fn with_search_mode(mut self, mode: SearchMode) -> Tempo {
        self.mode = mode;
        self
    }

    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    /// `GET /api/traces/<id>`; `None` when Tempo says the trace is not found.
    pub async fn trace(&self, trace_id: &str) -> Result<Option<Trace>, SourceError> {
        let id = normalize_trace_id(trace_id).map_err(|e| SourceError::Setup {
            backend: self.http.backend,
            reason: e.to_string(),
        })?;
        let path = format!("/api/traces/{id}");
        let (status, body) = self
            .http
            .get_with_headers(&path, &[], &[("Accept", "application/json")])
            .await?;
        if status == 404 {
            return Ok(None);
        }
        self.check(&path, status, &body)?;
        let trace = parse_trace(&body.0, &id).map_err(|reason| self.decode_error(&path, reason))?;
        if trace.spans.is_empty() {
            return Ok(None);
        }
        Ok(Some(trace))
    }

    /// `GET /api/search`: with TraceQL or tags (see [`SearchMode`]), newest first as Tempo
    /// returns them.
    pub async fn search(&self, search: &TraceSearch) -> Result<Vec<TraceSummary>, SourceError> {
        let path = "/api/search";
        let mut query: Vec<(&str, String)> = Vec::new();
        let errors_known = search.errors_only && search.native.is_none();
        match (&search.native, self.mode) {
            (Some(q), _) => query.push(("q", q.clone())),
            (None, SearchMode::TraceQl) => query.push(("q", traceql(search))),
            (None, SearchMode::Tags) => {
                query.push(("tags", tags_query(search)));
                if let Some(d) = search.min_duration {
                    query.push(("minDuration", crate::timespec::format_duration(d)));
                }
            }
        }
        if search.limit > 0 {
            query.push(("limit", search.limit.to_string()));
        }
        if search.end > search.start && search.start > 0.0 {
            query.push(("start", format!("{}", search.start.floor() as i64)));
            query.push(("end", format!("{}", search.end.ceil() as i64)));
        }
        let (status, body) = self.http.get(path, &query).await?;
        self.check(path, status, &body)?;
        let parsed: SearchResponse =
            serde_json::from_slice(&body.0).map_err(|e| self.decode_error(path, e.to_string()))?;
        parsed
            .traces
            .into_iter()
            .map(|t| {
                let trace_id = normalize_trace_id(&t.trace_id)
                    .map_err(|e| self.decode_error(path, format!("search result has an {e}")))?;
                Ok(TraceSummary {
                    trace_id,
                    root_service: t.root_service_name.filter(|s| !s.is_empty()),
                    root_name: t.root_trace_name.filter(|s| !s.is_empty()),
                    start_unix_nano: int_of(&t.start_time_unix_nano).unwrap_or(0),
                    duration_ms: t.duration_ms.as_ref().and_then(float_of).unwrap_or(0.0),
                    span_count: None,
                    has_error: errors_known.then_some(true),
                })
            })
            .collect()
    }

    /// Service names Tempo has seen (`/api/search/tag/service.name/values`).
    pub async fn services(&self) -> Result<Vec<String>, SourceError> {
        let path = "/api/search/tag/service.name/values";
        let (status, body) = self.http.get(path, &[]).await?;
        self.check(path, status, &body)?;
        #[derive(Deserialize)]
        struct TagValues {
            #[serde(rename = "tagValues", default)]
            tag_values: Vec<String>,
        }
        let parsed: TagValues =
            serde_json::from_slice(&body.0).map_err(|e| self.decode_error(path, e.to_string()))?;
        Ok(parsed.tag_values)
    }

    fn check(&self, path: &str, status: u16, body: &Body) -> Result<(), SourceError> {
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(SourceError::Http {
            backend: self.http.backend,
            url: self.http.url(path),
            status,
            body: body.snippet(),
        })
    }

    fn decode_error(&self, path: &str, reason: String) -> SourceError {
        SourceError::Decode {
            backend: self.http.backend,
            url: self.http.url(path),
            reason,
        }
    }
}

/// A TraceQL string literal.
fn traceql_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A TraceQL value: numbers and booleans bare (attributes keep their type), the rest quoted.
fn traceql_value(value: &str) -> String {
    if value.parse::<f64>().is_ok() || value == "true" || value == "false" {
        value.to_string()
    } else {
        traceql_string(value)
    }
}

/// The TraceQL for a neutral search: one span set whose conditions all hold on one span, e.g.
/// `{ status = error && resource.service.name = "checkout" }`. `duration` is the span's, which
/// for the root span is the trace's.
pub fn traceql(search: &TraceSearch) -> String {
    let mut conditions: Vec<String> = Vec::new();
    if search.errors_only {
        conditions.push("status = error".into());
    }
    if let Some(service) = &search.service {
        conditions.push(format!(
            "resource.service.name = {}",
            traceql_string(service)
        ));
    }
    if let Some(operation) = &search.operation {
        conditions.push(format!("name = {}", traceql_string(operation)));
    }
    for (key, value) in &search.tags {
        let key =
            if key.starts_with('.') || key.starts_with("span.") || key.starts_with("resource.") {
                key.clone()
            } else {
                format!(".{key}")
            };
        conditions.push(format!("{key} = {}", traceql_value(value)));
    }
    if let Some(d) = search.min_duration {
        conditions.push(format!(
            "duration >= {}",
            crate::timespec::format_duration(d)
        ));
    }
    if conditions.is_empty() {
        "{ }".to_string()
    } else {
        format!("{{ {} }}", conditions.join(" && "))
    }
}

/// The `tags=` value of Tempo's tag search: logfmt pairs, e.g. `service.name=checkout
/// http.status_code=500`.
fn tags_query(search: &TraceSearch) -> String {
    let mut pairs: Vec<String> = Vec::new();
    let mut push = |k: &str, v: &str| {
        let v = if v.contains([' ', '"', '=']) {
            traceql_string(v)
        } else {
            v.to_string()
        };
        pairs.push(format!("{k}={v}"));
    };
    if let Some(service) = &search.service {
        push("service.name", service);
    }
    if let Some(operation) = &search.operation {
        push("name", operation);
    }
    for (k, v) in &search.tags {
        push(k, v);
    }
    if search.errors_only {
        push("status.code", "error");
    }
    pairs.join(" ")
}

#[derive(Deserialize)]
struct SearchResponse {
    #[serde(default)]
    traces: Vec<SearchTrace>,
}

#[derive(Deserialize)]
struct SearchTrace {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "rootServiceName")]
    root_service_name: Option<String>,
    #[serde(rename = "rootTraceName")]
    root_trace_name: Option<String>,
    #[serde(rename = "startTimeUnixNano", default)]
    start_time_unix_nano: Value,
    #[serde(rename = "durationMs")]
    duration_ms: Option<Value>,
}

// ---- OTLP-shaped trace JSON -------------------------------------------------------------

#[derive(Deserialize)]
struct TraceBody {
    #[serde(default, alias = "resourceSpans")]
    batches: Option<Vec<ResourceSpans>>,
    /// Tempo's v2 API: `{"trace":{"resourceSpans":[…]}}`.
    trace: Option<Box<TraceBody>>,
}

#[derive(Deserialize)]
struct ResourceSpans {
    #[serde(default)]
    resource: Resource,
    #[serde(default, rename = "scopeSpans", alias = "instrumentationLibrarySpans")]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize, Default)]
struct Resource {
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct ScopeSpans {
    #[serde(default, alias = "instrumentationLibrary")]
    scope: Option<Scope>,
    #[serde(default)]
    spans: Vec<OtlpSpan>,
}

#[derive(Deserialize)]
struct Scope {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OtlpSpan {
    trace_id: String,
    span_id: String,
    #[serde(default)]
    parent_span_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: Value,
    #[serde(default)]
    start_time_unix_nano: Value,
    #[serde(default)]
    end_time_unix_nano: Value,
    #[serde(default)]
    attributes: Vec<KeyValue>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    events: Vec<Event>,
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    code: Value,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(default)]
    time_unix_nano: Value,
    #[serde(default)]
    name: String,
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Link {
    trace_id: String,
    span_id: String,
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Value,
}

/// Parses Tempo's (or any OTLP/JSON) trace body into a `Trace` with id `trace_id`.
pub fn parse_trace(body: &[u8], trace_id: &str) -> Result<Trace, String> {
    let mut parsed: TraceBody = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    while parsed.batches.is_none() {
        match parsed.trace {
            Some(inner) => parsed = *inner,
            None => break,
        }
    }
    let mut spans = Vec::new();
    for batch in parsed.batches.unwrap_or_default() {
        let resource = attributes(&batch.resource.attributes);
        let service = resource
            .get("service.name")
            .and_then(Value::as_str)
            .unwrap_or("unknown_service")
            .to_string();
        for scope_spans in batch.scope_spans {
            let scope = scope_spans.scope.map(|s| s.name).filter(|n| !n.is_empty());
            for s in scope_spans.spans {
                spans.push(convert_span(s, &service, &resource, scope.clone())?);
            }
        }
    }
    let trace_id = spans
        .first()
        .map(|s| s.trace_id.clone())
        .unwrap_or_else(|| trace_id.to_string());
    Ok(Trace { trace_id, spans })
}

fn convert_span(
    s: OtlpSpan,
    service: &str,
    resource: &Attributes,
    scope: Option<String>,
) -> Result<Span, String> {
    let trace_id = decode_id(&s.trace_id, 16).ok_or_else(|| bad_id("traceId", &s.trace_id))?;
    let span_id = decode_id(&s.span_id, 8).ok_or_else(|| bad_id("spanId", &s.span_id))?;
    let parent_span_id = match s.parent_span_id.as_deref() {
        None | Some("") => None,
        Some(p) => {
            let id = decode_id(p, 8).ok_or_else(|| bad_id("parentSpanId", p))?;
            (!id.bytes().all(|b| b == b'0')).then_some(id)
        }
    };
    let status = s.status.unwrap_or(Status {
        code: Value::Null,
        message: String::new(),
    });
    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        name: s.name,
        service: service.to_string(),
        kind: span_kind(&s.kind),
        start_unix_nano: int_of(&s.start_time_unix_nano)
            .ok_or_else(|| format!("span {}: startTimeUnixNano is not a number", s.span_id))?,
        end_unix_nano: int_of(&s.end_time_unix_nano)
            .ok_or_else(|| format!("span {}: endTimeUnixNano is not a number", s.span_id))?,
        status: status_code(&status.code),
        status_message: status.message,
        attributes: attributes(&s.attributes),
        resource: resource.clone(),
        scope,
        events: s
            .events
            .into_iter()
            .map(|e| SpanEvent {
                time_unix_nano: int_of(&e.time_unix_nano).unwrap_or(0),
                name: e.name,
                attributes: attributes(&e.attributes),
            })
            .collect(),
        links: s
            .links
            .into_iter()
            .filter_map(|l| {
                Some(SpanLink {
                    trace_id: decode_id(&l.trace_id, 16)?,
                    span_id: decode_id(&l.span_id, 8)?,
                    attributes: attributes(&l.attributes),
                })
            })
            .collect(),
    })
}

fn bad_id(field: &str, value: &str) -> String {
    format!("{field} {value:?} is neither hex nor base64 of the right length")
}

/// An id as lowercase hex: hex as it is (OTLP/JSON), base64 decoded (Tempo's JSON).
pub fn decode_id(value: &str, bytes: usize) -> Option<String> {
    let v = value.trim();
    if v.len() == bytes * 2 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(v.to_ascii_lowercase());
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(v))
        .ok()?;
    (raw.len() == bytes).then(|| raw.iter().map(|b| format!("{b:02x}")).collect())
}

fn span_kind(v: &Value) -> SpanKind {
    let name = match v {
        Value::String(s) => s.trim_start_matches("SPAN_KIND_").to_ascii_uppercase(),
        Value::Number(n) => match n.as_u64() {
            Some(1) => "INTERNAL".into(),
            Some(2) => "SERVER".into(),
            Some(3) => "CLIENT".into(),
            Some(4) => "PRODUCER".into(),
            Some(5) => "CONSUMER".into(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    match name.as_str() {
        "INTERNAL" => SpanKind::Internal,
        "SERVER" => SpanKind::Server,
        "CLIENT" => SpanKind::Client,
        "PRODUCER" => SpanKind::Producer,
        "CONSUMER" => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    }
}

fn status_code(v: &Value) -> StatusCode {
    match v {
        Value::String(s) => match s
            .trim_start_matches("STATUS_CODE_")
            .to_ascii_uppercase()
            .as_str()
        {
            "OK" => StatusCode::Ok,
            "ERROR" => StatusCode::Error,
            _ => StatusCode::Unset,
        },
        Value::Number(n) => match n.as_u64() {
            Some(1) => StatusCode::Ok,
            Some(2) => StatusCode::Error,
            _ => StatusCode::Unset,
        },
        _ => StatusCode::Unset,
    }
}

/// An integer sent as a JSON number or, as Tempo does for 64-bit values, a string.
fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn float_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn attributes(list: &[KeyValue]) -> Attributes {
    list.iter()
        .map(|kv| (kv.key.clone(), any_value(&kv.value)))
        .collect()
}

/// An OTLP `AnyValue` as plain JSON: `{"intValue":"500"}` → `500`.
fn any_value(v: &Value) -> Value {
    let Some(obj) = v.as_object() else {
        return v.clone();
    };
    if let Some(s) = obj.get("stringValue") {
        return s.clone();
    }
    if let Some(i) = obj.get("intValue") {
        return int_of(i).map(Value::from).unwrap_or_else(|| i.clone());
    }
    if let Some(d) = obj.get("doubleValue") {
        return float_of(d).map(Value::from).unwrap_or_else(|| d.clone());
    }
    if let Some(b) = obj.get("boolValue") {
        return b.clone();
    }
    if let Some(b) = obj.get("bytesValue") {
        return b.clone();
    }
    if let Some(a) = obj.get("arrayValue") {
        let values = a.get("values").and_then(Value::as_array);
        return Value::Array(values.into_iter().flatten().map(any_value).collect());
    }
    if let Some(kv) = obj.get("kvlistValue") {
        let values = kv.get("values").and_then(Value::as_array);
        let map: serde_json::Map<String, Value> = values
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let key = e.get("key")?.as_str()?.to_string();
                Some((key, any_value(e.get("value").unwrap_or(&Value::Null))))
            })
            .collect();
        return Value::Object(map);
    }
    Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/real/tempo")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn recorded_incident_trace_converts_ids_kinds_statuses_and_values() {
        let trace = parse_trace(&fixture("trace_by_id_incident_error.json"), "x").unwrap();
        assert_eq!(trace.trace_id, "aa3683ad52e9b569c004436d55771b03");
        assert_eq!(trace.spans.len(), 20);
        let root = trace
            .spans
            .iter()
            .find(|s| s.parent_span_id.is_none())
            .unwrap();
        assert_eq!(root.name, "GET /checkout");
        assert_eq!(root.service, "frontend");
        assert_eq!(root.kind, SpanKind::Server);
        assert_eq!(root.status, StatusCode::Error);
        assert_eq!(root.span_id, "9c64b48b34b13f93");
        assert_eq!(root.attributes["http.status_code"], Value::from(500));
        assert_eq!(root.start_unix_nano, 1_795_238_604_757_521_408);
        assert_eq!(root.scope.as_deref(), Some("shop.demo"));
        assert_eq!(root.resource["k8s.namespace.name"], "shop");
        let insert = trace
            .spans
            .iter()
            .find(|s| s.name == "INSERT orders")
            .unwrap();
        let (kind, message) = insert.exception().unwrap();
        assert!(kind.ends_with("PoolTimeout"), "{kind}");
        assert!(message.contains("QueuePool limit"), "{message}");
        assert_eq!(insert.service, "checkout");
        // Every parent is a span of the trace.
        for s in &trace.spans {
            if let Some(p) = &s.parent_span_id {
                assert!(trace.spans.iter().any(|x| &x.span_id == p), "{p}");
            }
        }
    }

    /// Tempo 2.0 says `batches`; newer versions and OTLP/JSON say `resourceSpans`, with hex ids
    /// and numeric enums. No newer Tempo was recorded, so this rewrites the recorded body into
    /// that form (same spans) and checks both give the same trace.
    #[test]
    fn resource_spans_form_with_hex_ids_and_numeric_enums_gives_the_same_trace() {
        let body = fixture("trace_by_id_ok.json");
        let recorded = parse_trace(&body, "x").unwrap();
        let mut v: Value = serde_json::from_slice(&body).unwrap();
        let batches = v["batches"].take();
        let mut rewritten = serde_json::json!({ "trace": { "resourceSpans": batches } });
        for batch in rewritten["trace"]["resourceSpans"].as_array_mut().unwrap() {
            for ss in batch["scopeSpans"].as_array_mut().unwrap() {
                for span in ss["spans"].as_array_mut().unwrap() {
                    for (field, len) in [("traceId", 16), ("spanId", 8), ("parentSpanId", 8)] {
                        if let Some(id) = span[field].as_str() {
                            span[field] = decode_id(id, len).unwrap().into();
                        }
                    }
                    let kind = span_kind(&span["kind"]);
                    span["kind"] = match kind {
                        SpanKind::Server => 2,
                        SpanKind::Client => 3,
                        SpanKind::Internal => 1,
                        SpanKind::Producer => 4,
                        SpanKind::Consumer => 5,
                        SpanKind::Unspecified => 0,
                    }
                    .into();
                }
            }
        }
        let converted = parse_trace(&serde_json::to_vec(&rewritten).unwrap(), "x").unwrap();
        assert_eq!(converted, recorded);
        assert_eq!(recorded.trace_id, "481a39364315ad7ca3fc1c64a0c790e2");
        assert_eq!(recorded.spans.len(), 18);
    }

    #[test]
    fn traceql_reads_like_the_recorded_queries() {
        let s = TraceSearch {
            service: Some("checkout".into()),
            errors_only: true,
            ..TraceSearch::default()
        };
        assert_eq!(
            traceql(&s),
            r#"{ status = error && resource.service.name = "checkout" }"#
        );
        let s = TraceSearch {
            tags: vec![("http.status_code".into(), "500".into())],
            min_duration: Some(std::time::Duration::from_secs(1)),
            ..TraceSearch::default()
        };
        assert_eq!(traceql(&s), "{ .http.status_code = 500 && duration >= 1s }");
        let s = TraceSearch {
            service: Some("checkout".into()),
            tags: vec![("http.status_code".into(), "500".into())],
            ..TraceSearch::default()
        };
        assert_eq!(tags_query(&s), "service.name=checkout http.status_code=500");
    }

    #[test]
    fn ids_decode_from_base64_or_hex() {
        assert_eq!(
            decode_id("qjaDrVLptWnABENtVXcbAw==", 16).unwrap(),
            "aa3683ad52e9b569c004436d55771b03"
        );
        assert_eq!(decode_id("nGS0izSxP5M=", 8).unwrap(), "9c64b48b34b13f93");
        assert_eq!(
            decode_id("9C64B48B34B13F93", 8).unwrap(),
            "9c64b48b34b13f93"
        );
        assert_eq!(decode_id("nGS0izSx", 8), None);
    }
}
