//! Schema v1 → v2: v1 kept one row per span (fields as columns, attributes as JSON); v2 keeps
//! spans in chunks ([`super::chunks`]). The migration turns the rows back into OTLP spans and
//! stores them as chunks, exactly as if they had just been received.

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as OtlpSpan, Status, span,
};
use rusqlite::Connection;
use serde::Deserialize;

use super::ExportTraceServiceRequest;
use super::chunks::{insert, prepare};
use crate::model::trace::Attributes;

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
/// drops the `spans` and `traces` tables. Runs inside the migration's transaction.
pub(crate) fn migrate_v1_spans(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT s.trace_id, s.span_id, s.parent_span_id, s.trace_state, s.flags, s.name, s.kind,
                s.start_ns, s.end_ns, s.status_code, s.status_message, s.attributes, s.events,
                s.links, s.dropped_attributes_count, s.dropped_events_count,
                s.dropped_links_count, s.resource_id, s.scope_id,
                r.attributes AS resource_attributes,
                r.dropped_attributes_count AS resource_dropped_attributes_count,
                r.schema_url AS resource_schema_url,
                sc.name AS scope_name, sc.version AS scope_version,
                sc.attributes AS scope_attributes,
                sc.dropped_attributes_count AS scope_dropped_attributes_count,
                sc.schema_url AS scope_schema_url
         FROM spans s
         JOIN resources r ON r.id = s.resource_id
         JOIN scopes sc ON sc.id = s.scope_id
         ORDER BY s.trace_id, s.resource_id, s.scope_id, s.rowid",
    )?;
    // Messages name the stored value that could not be converted ("events"), not its index.
    let columns: Vec<String> = stmt.column_names().map(String::from).collect();
    let mut rows = stmt.query([])?;
    let mut trace: Option<String> = None;
    let mut request = ExportTraceServiceRequest::default();
    // (resource id, scope id) of the last ResourceSpans / ScopeSpans in `request`.
    let mut last: (i64, i64) = (-1, -1);
    let bad = |i: usize, e: String| {
        let column = columns.get(i).map_or("?", String::as_str);
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("a schema v1 span's {column} cannot be converted: {e}").into(),
        )
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
    conn.execute_batch("DROP TABLE spans; DROP TABLE traces;")
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
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A stored JSON attribute object (schema v1) back as OTLP key-values: the inverse of
/// [`convert::attributes`], except that bytes (kept as base64) and NaN/±Inf doubles (kept as
/// strings) come back as strings.
pub(crate) fn key_values<'a>(
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

pub(crate) fn any_value(v: &serde_json::Value) -> AnyValue {
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
