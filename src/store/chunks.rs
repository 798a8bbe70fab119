//! Spans as the store keeps them: in *chunks*. A chunk is one trace's spans from one resource
//! in one request, stored as a `span_chunks` row whose `data` is the OTLP protobuf
//! `opentelemetry.proto.trace.v1.ResourceSpans` message holding them — resource, scopes and
//! every span field exactly as received — next to the few columns that search needs (trace id,
//! service, time span, span and error counts, span names).
//!
//! A typical request (512 spans of 32 traces) becomes 32 rows instead of 512, and the
//! per-span work — validating ids and times, grouping by trace, encoding — happens in
//! [`prepare`] on the receiving thread, so that the single writer thread only inserts rows.
//! Reading a trace decodes its chunks ([`spans_of`]).

use std::collections::{HashMap, HashSet};

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as OtlpSpan, Status, span,
};
use prost::Message as _;
use rusqlite::{Connection, params};
use serde::Deserialize;

use super::ExportTraceServiceRequest;
use super::convert::{self, Fnv128, attributes, nanos};
use super::ingest::{Outcome, PreparedResource};
use crate::model::trace::{Attributes, Span, SpanEvent, SpanKind, SpanLink, StatusCode};

/// `Status.StatusCode.STATUS_CODE_ERROR`.
const STATUS_ERROR: i32 = 2;

/// A request's spans, validated and grouped into chunks, ready for the writer.
#[derive(Debug, Default)]
pub(crate) struct TraceBatch {
    pub resources: Vec<PreparedResource>,
    pub chunks: Vec<Chunk>,
    /// Spans refused (with reasons); `accepted` is left for the writer to count.
    pub outcome: Outcome,
}

/// One trace's spans from one resource of one request.
#[derive(Debug)]
pub(crate) struct Chunk {
    /// Index into [`TraceBatch::resources`].
    pub resource: usize,
    pub trace_id: String,
    /// A hash of the chunk's span ids: a retried request's chunk is recognised and not stored
    /// twice (`UNIQUE (trace_id, span_ids_hash)`).
    pub span_ids_hash: i64,
    pub start: i64,
    pub end: i64,
    pub spans: i64,
    pub errors: i64,
    /// The name of the trace's root span, when this chunk holds it.
    pub root_name: Option<String>,
    /// The distinct span names, each between newlines (`"\nGET /\nSELECT\n"`), so that a
    /// search by operation is one `instr` per chunk.
    pub names: String,
    /// Encoded `ResourceSpans`, compressed ([`compress`]).
    pub data: Vec<u8>,
}

/// Validates the spans of `req` and groups them by trace and resource into encoded chunks.
/// Invalid spans are refused one by one (OTLP partial success); the rest are kept.
pub(crate) fn prepare(req: ExportTraceServiceRequest) -> TraceBatch {
    let mut batch = TraceBatch::default();
    for rs in req.resource_spans {
        let ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        } = rs;
        let resource_index = batch.resources.len();
        batch
            .resources
            .push(PreparedResource::new(resource.as_ref(), &schema_url));
        // Chunks of this resource, in order of first appearance of their trace.
        let mut groups: Vec<Building> = Vec::new();
        let mut by_trace: HashMap<[u8; 16], usize> = HashMap::new();
        for (scope_index, ss) in scope_spans.into_iter().enumerate() {
            let ScopeSpans {
                scope,
                spans,
                schema_url: scope_schema_url,
            } = ss;
            for span in spans {
                let trace_id = match check(&span) {
                    Ok(id) => id,
                    Err(reason) => {
                        batch.outcome.reject(reason);
                        continue;
                    }
                };
                let at = *by_trace.entry(trace_id).or_insert_with(|| {
                    groups.push(Building::new(&span.trace_id));
                    groups.len() - 1
                });
                let group = &mut groups[at];
                if group.scope_index != Some(scope_index) {
                    group.scope_index = Some(scope_index);
                    group.scopes.push(ScopeSpans {
                        scope: scope.clone(),
                        spans: Vec::new(),
                        schema_url: scope_schema_url.clone(),
                    });
                }
                group.add(span);
            }
        }
        if groups.is_empty() {
            continue;
        }
        let mut head = Vec::new();
        if let Some(resource) = &resource {
            prost::encoding::message::encode(1, resource, &mut head);
        }
        for group in groups {
            batch
                .chunks
                .push(group.finish(resource_index, &head, &schema_url));
        }
    }
    batch
}

/// A chunk being assembled.
struct Building {
    trace_id: String,
    /// Which of the request's scopes the last entry of `scopes` is.
    scope_index: Option<usize>,
    scopes: Vec<ScopeSpans>,
    ids: Fnv128,
    start: i64,
    end: i64,
    spans: i64,
    errors: i64,
    root_name: Option<String>,
}

impl Building {
    fn new(trace_id: &[u8]) -> Building {
        Building {
            trace_id: convert::hex(trace_id),
            scope_index: None,
            scopes: Vec::new(),
            ids: Fnv128::new(),
            start: i64::MAX,
            end: i64::MIN,
            spans: 0,
            errors: 0,
            root_name: None,
        }
    }

    /// Adds a span that [`check`] accepted to the last scope.
    fn add(&mut self, span: OtlpSpan) {
        // Checked: both fit in an i64.
        let start = span.start_time_unix_nano as i64;
        let end = span.end_time_unix_nano as i64;
        self.start = self.start.min(start);
        self.end = self.end.max(end);
        self.spans += 1;
        self.ids.bytes(&span.span_id);
        if span.status.as_ref().is_some_and(|s| s.code == STATUS_ERROR) {
            self.errors += 1;
        }
        if span.parent_span_id.is_empty() {
            self.root_name = Some(span.name.clone());
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.spans.push(span);
        }
    }

    fn finish(mut self, resource: usize, head: &[u8], schema_url: &str) -> Chunk {
        let mut names = String::from("\n");
        let mut seen = HashSet::new();
        for span in self.scopes.iter().flat_map(|s| &s.spans) {
            if seen.insert(span.name.as_str()) {
                names.push_str(&span.name);
                names.push('\n');
            }
        }
        let body: usize = self
            .scopes
            .iter()
            .map(|s| prost::encoding::message::encoded_len(2, s))
            .sum::<usize>()
            + head.len()
            + if schema_url.is_empty() {
                0
            } else {
                prost::encoding::string::encoded_len(3, &schema_url.to_string())
            };
        let mut data = Vec::with_capacity(body);
        data.extend_from_slice(head);
        for scope in &self.scopes {
            prost::encoding::message::encode(2, scope, &mut data);
        }
        if !schema_url.is_empty() {
            prost::encoding::string::encode(3, &schema_url.to_string(), &mut data);
        }
        let data = compress(&data);
        let hash = self.ids.int(self.spans).finish();
        Chunk {
            resource,
            trace_id: self.trace_id,
            span_ids_hash: i64::from_be_bytes(hash[..8].try_into().unwrap_or_default()),
            start: self.start,
            end: self.end,
            spans: self.spans,
            errors: self.errors,
            root_name: self.root_name,
            names,
            data,
        }
    }
}

/// The largest chunk [`decompress`] accepts: far above any request the sink takes, and a
/// bound on what a damaged length prefix can make it allocate.
const MAX_CHUNK_BYTES: usize = 1 << 30;

/// `data` as stored: an LZ4 block (little-endian u32 uncompressed length, then the block).
/// Span attributes repeat their keys and often their values; a chunk shrinks 3–5×, which
/// is that much less to write to the WAL and copy into the database file.
fn compress(data: &[u8]) -> Vec<u8> {
    lz4_flex::block::compress_prepend_size(data)
}

fn decompress(data: &[u8]) -> Result<Vec<u8>, String> {
    let len = data
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or("truncated span chunk")?;
    if len as usize > MAX_CHUNK_BYTES {
        return Err(format!("span chunk claims {len} bytes"));
    }
    lz4_flex::block::decompress_size_prepended(data).map_err(|e| format!("damaged span chunk: {e}"))
}

/// The span's trace id when the span can be stored; otherwise why not.
fn check(span: &OtlpSpan) -> Result<[u8; 16], String> {
    let ctx = |e: String| format!("span {:?}: {e}", span.name);
    convert::id(&span.trace_id, 16, "trace id")
        .map_err(ctx)?
        .ok_or_else(|| ctx("missing trace id".into()))?;
    convert::id(&span.span_id, 8, "span id")
        .map_err(ctx)?
        .ok_or_else(|| ctx("missing span id".into()))?;
    convert::id(&span.parent_span_id, 8, "parent span id").map_err(ctx)?;
    nanos(span.start_time_unix_nano, "start time").map_err(ctx)?;
    nanos(span.end_time_unix_nano, "end time").map_err(ctx)?;
    for e in &span.events {
        nanos(e.time_unix_nano, "event time").map_err(ctx)?;
    }
    for l in &span.links {
        convert::id(&l.trace_id, 16, "link trace id")
            .map_err(ctx)?
            .ok_or_else(|| ctx("link without trace id".into()))?;
        convert::id(&l.span_id, 8, "link span id")
            .map_err(ctx)?
            .ok_or_else(|| ctx("link without span id".into()))?;
    }
    span.trace_id
        .as_slice()
        .try_into()
        .map_err(|_| ctx("invalid trace id".into()))
}

/// Appends the spans of the chunk `data` (of a resource whose service is `service`) to `out`.
pub(crate) fn spans_of(data: &[u8], service: &str, out: &mut Vec<Span>) -> Result<(), String> {
    let rs = decode(data)?;
    let resource: Attributes = rs
        .resource
        .as_ref()
        .map(|r| attributes(&r.attributes))
        .unwrap_or_default();
    for ss in rs.scope_spans {
        let scope = ss
            .scope
            .as_ref()
            .map(|s| s.name.clone())
            .filter(|s| !s.is_empty());
        for span in ss.spans {
            out.push(model_span(span, service, &resource, scope.clone()));
        }
    }
    Ok(())
}

/// A stored chunk's `data` as the `ResourceSpans` it holds.
pub(crate) fn decode(data: &[u8]) -> Result<ResourceSpans, String> {
    let data = decompress(data)?;
    ResourceSpans::decode(data.as_slice()).map_err(|e| format!("undecodable span chunk: {e}"))
}

fn model_span(span: OtlpSpan, service: &str, resource: &Attributes, scope: Option<String>) -> Span {
    let (status, status_message) = span
        .status
        .map(|s| {
            let code = match s.code {
                1 => StatusCode::Ok,
                STATUS_ERROR => StatusCode::Error,
                _ => StatusCode::Unset,
            };
            (code, s.message)
        })
        .unwrap_or((StatusCode::Unset, String::new()));
    Span {
        trace_id: convert::hex(&span.trace_id),
        span_id: convert::hex(&span.span_id),
        parent_span_id: (!span.parent_span_id.is_empty())
            .then(|| convert::hex(&span.parent_span_id)),
        name: span.name,
        service: service.to_string(),
        kind: match span.kind {
            1 => SpanKind::Internal,
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Unspecified,
        },
        start_unix_nano: span.start_time_unix_nano.min(i64::MAX as u64) as i64,
        end_unix_nano: span.end_time_unix_nano.min(i64::MAX as u64) as i64,
        status,
        status_message,
        attributes: attributes(&span.attributes),
        resource: resource.clone(),
        scope,
        events: span
            .events
            .into_iter()
            .map(|e| SpanEvent {
                time_unix_nano: e.time_unix_nano.min(i64::MAX as u64) as i64,
                name: e.name,
                attributes: attributes(&e.attributes),
            })
            .collect(),
        links: span
            .links
            .into_iter()
            .map(|l| SpanLink {
                trace_id: convert::hex(&l.trace_id),
                span_id: convert::hex(&l.span_id),
                attributes: attributes(&l.attributes),
            })
            .collect(),
    }
}

/// A stored JSON attribute object (schema v1) back as OTLP key-values: the inverse of
/// [`convert::attributes`], except that bytes (kept as base64) and NaN/±Inf doubles (kept as
/// strings) come back as strings.
fn key_values<'a>(
    json: impl IntoIterator<Item = (&'a String, &'a serde_json::Value)>,
) -> Vec<KeyValue> {
    json.into_iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: Some(any_value(v)),
            ..KeyValue::default()
        })
        .collect()
}

fn any_value(v: &serde_json::Value) -> AnyValue {
    use serde_json::Value as Json;
    let value = match v {
        Json::Null => None,
        Json::Bool(b) => Some(Value::BoolValue(*b)),
        Json::Number(n) => Some(match n.as_i64() {
            Some(i) => Value::IntValue(i),
            None => Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Json::String(s) => Some(Value::StringValue(s.clone())),
        Json::Array(a) => Some(Value::ArrayValue(ArrayValue {
            values: a.iter().map(any_value).collect(),
        })),
        Json::Object(m) => Some(Value::KvlistValue(KeyValueList {
            values: key_values(m),
        })),
    };
    AnyValue { value }
}

/// Inserts `chunk` (of a resource whose service is `service`); `false` when the same chunk is
/// already stored (a retried request).
pub(crate) fn insert(conn: &Connection, chunk: &Chunk, service: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO span_chunks (trace_id, span_ids_hash, service, start_ns, end_ns,
                span_count, error_count, names, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            chunk.trace_id,
            chunk.span_ids_hash,
            service,
            chunk.start,
            chunk.end,
            chunk.spans,
            chunk.errors,
            chunk.names,
            chunk.data,
        ])?;
    Ok(n > 0)
}

// -------------------------------------------------------------------------------------------
// Schema v1 → v2: one row per span (fields as columns, attributes as JSON) → chunks.

/// A span event as schema v1 kept it (`spans.events`, a JSON array).
#[derive(Debug, Deserialize)]
struct EventRow {
    time_unix_nano: i64,
    name: String,
    attributes: Attributes,
    #[serde(default)]
    dropped_attributes_count: u32,
}

/// A span link as schema v1 kept it (`spans.links`, a JSON array).
#[derive(Debug, Deserialize)]
struct LinkRow {
    trace_id: String,
    span_id: String,
    #[serde(default)]
    trace_state: String,
    attributes: Attributes,
    #[serde(default)]
    dropped_attributes_count: u32,
    #[serde(default)]
    flags: u32,
}

/// Moves every schema-v1 `spans` row into `span_chunks` (one chunk per trace and resource) and
/// drops the `spans` table. The `traces` summaries are unchanged. Runs inside the migration's
/// transaction.
pub(crate) fn migrate_v1_spans(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT s.trace_id, s.span_id, s.parent_span_id, s.trace_state, s.flags, s.name, s.kind,
                s.start_ns, s.end_ns, s.status_code, s.status_message, s.attributes, s.events,
                s.links, s.dropped_attributes_count, s.dropped_events_count,
                s.dropped_links_count, s.resource_id, s.scope_id,
                r.attributes, r.dropped_attributes_count, r.schema_url,
                sc.name, sc.version, sc.attributes, sc.dropped_attributes_count, sc.schema_url
         FROM spans s
         JOIN resources r ON r.id = s.resource_id
         JOIN scopes sc ON sc.id = s.scope_id
         ORDER BY s.trace_id, s.resource_id, s.scope_id, s.rowid",
    )?;
    let mut rows = stmt.query([])?;
    let mut trace: Option<String> = None;
    let mut request = ExportTraceServiceRequest::default();
    // (resource id, scope id) of the last ResourceSpans / ScopeSpans in `request`.
    let mut last: (i64, i64) = (-1, -1);
    let bad = |i: usize, e: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    };
    let json = |i: usize, row: &rusqlite::Row<'_>| -> rusqlite::Result<Attributes> {
        serde_json::from_str(&row.get::<_, String>(i)?).map_err(|e| bad(i, e.to_string()))
    };
    while let Some(row) = rows.next()? {
        let trace_id: String = row.get(0)?;
        if trace.as_deref() != Some(trace_id.as_str()) {
            flush_v1(conn, std::mem::take(&mut request))?;
            trace = Some(trace_id.clone());
            last = (-1, -1);
        }
        let (resource_id, scope_id): (i64, i64) = (row.get(17)?, row.get(18)?);
        if last.0 != resource_id {
            request.resource_spans.push(ResourceSpans {
                resource: Some(Resource {
                    attributes: key_values(&json(19, row)?),
                    dropped_attributes_count: row.get(20)?,
                    entity_refs: Vec::new(),
                }),
                scope_spans: Vec::new(),
                schema_url: row.get(21)?,
            });
            last = (resource_id, -1);
        }
        let Some(rs) = request.resource_spans.last_mut() else {
            continue;
        };
        if last.1 != scope_id {
            rs.scope_spans.push(ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: row.get(22)?,
                    version: row.get(23)?,
                    attributes: key_values(&json(24, row)?),
                    dropped_attributes_count: row.get(25)?,
                }),
                spans: Vec::new(),
                schema_url: row.get(26)?,
            });
            last.1 = scope_id;
        }
        let events: Vec<EventRow> =
            serde_json::from_str(&row.get::<_, String>(12)?).map_err(|e| bad(12, e.to_string()))?;
        let links: Vec<LinkRow> =
            serde_json::from_str(&row.get::<_, String>(13)?).map_err(|e| bad(13, e.to_string()))?;
        let id = |i: usize, hex: &str| unhex(hex).ok_or_else(|| bad(i, format!("bad id {hex:?}")));
        let span = OtlpSpan {
            trace_id: id(0, &trace_id)?,
            span_id: id(1, &row.get::<_, String>(1)?)?,
            trace_state: row.get(3)?,
            parent_span_id: match row.get::<_, Option<String>>(2)? {
                Some(p) => id(2, &p)?,
                None => Vec::new(),
            },
            flags: row.get(4)?,
            name: row.get(5)?,
            kind: row.get(6)?,
            start_time_unix_nano: row.get::<_, i64>(7)?.max(0) as u64,
            end_time_unix_nano: row.get::<_, i64>(8)?.max(0) as u64,
            attributes: key_values(&json(11, row)?),
            dropped_attributes_count: row.get(14)?,
            events: events
                .into_iter()
                .map(|e| span::Event {
                    time_unix_nano: e.time_unix_nano.max(0) as u64,
                    name: e.name,
                    attributes: key_values(&e.attributes),
                    dropped_attributes_count: e.dropped_attributes_count,
                })
                .collect(),
            dropped_events_count: row.get(15)?,
            links: links
                .into_iter()
                .map(|l| {
                    Ok(span::Link {
                        trace_id: id(13, &l.trace_id)?,
                        span_id: id(13, &l.span_id)?,
                        trace_state: l.trace_state,
                        attributes: key_values(&l.attributes),
                        dropped_attributes_count: l.dropped_attributes_count,
                        flags: l.flags,
                    })
                })
                .collect::<rusqlite::Result<_>>()?,
            dropped_links_count: row.get(16)?,
            status: Some(Status {
                message: row.get(10)?,
                code: row.get(9)?,
            }),
        };
        if let Some(ss) = rs.scope_spans.last_mut() {
            ss.spans.push(span);
        }
    }
    flush_v1(conn, request)?;
    drop(rows);
    drop(stmt);
    conn.execute_batch("DROP TABLE spans")
}

/// Stores the chunks of one v1 trace.
fn flush_v1(conn: &Connection, request: ExportTraceServiceRequest) -> rusqlite::Result<()> {
    if request.resource_spans.is_empty() {
        return Ok(());
    }
    let batch = prepare(request);
    for chunk in &batch.chunks {
        insert(conn, chunk, &batch.resources[chunk.resource].service)?;
    }
    Ok(())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
