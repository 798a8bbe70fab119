//! Turning one OTLP request into rows, inside the writer's open transaction: the shared parts
//! (outcome, caches, resources, scopes), spans and logs here; metrics in `metric_ingest.rs`,
//! delta → cumulative state in `delta.rs`.
//!
//! Bad items are rejected one by one with a reason (OTLP partial success) and never abort the
//! request; only a SQLite error does, and then the whole group is rolled back. Retried data is
//! recognised and counted as duplicate: span chunks by (trace id, span ids), log records by a content
//! hash, metric samples by (series, timestamp), delta points by their stream's last timestamp.

use std::collections::{HashMap, HashSet};

use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use rusqlite::{Connection, params};

use super::ExportLogsServiceRequest;
use super::chunks::{self, TraceBatch};
use super::convert::{self, Fnv128, attributes, nanos};
use super::samples::Heads;
use super::series_ids::SeriesIds;

/// How many rejection reasons one response carries; the rest are counted.
const MAX_MESSAGES: usize = 5;

/// Ids the writer already knows, so that hot paths skip a lookup. Only valid for committed
/// data: the writer clears it when a transaction rolls back or retention deletes series.
#[derive(Default)]
pub(crate) struct Caches {
    resources: HashMap<[u8; 16], i64>,
    scopes: HashMap<[u8; 16], i64>,
    pub(super) series: SeriesIds,
    pub(super) families: HashSet<String>,
    pub(super) heads: Heads,
}

impl Caches {
    pub(crate) fn clear(&mut self) {
        *self = Caches::default();
    }
}

/// Per-transaction aggregates, written once per group just before COMMIT.
#[derive(Default)]
pub(crate) struct Group {
    /// Per series touched: first and last new sample time, and how many samples are new.
    pub(super) series_times: HashMap<i64, (i64, i64, i64)>,
}

/// The result of one request: OTLP partial success.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    reasons: Vec<String>,
    notes: Vec<String>,
}

impl Outcome {
    pub(crate) fn reject(&mut self, reason: String) {
        self.rejected += 1;
        if self.reasons.len() < MAX_MESSAGES {
            self.reasons.push(reason);
        }
    }

    pub(crate) fn note(&mut self, note: String) {
        if self.notes.len() < MAX_MESSAGES {
            self.notes.push(note);
        }
    }

    /// The partial-success message: why items were rejected (the first few reasons).
    pub(crate) fn message(&self, unit: &str) -> Option<String> {
        let mut parts = Vec::new();
        if self.rejected > 0 {
            let mut s = format!(
                "{} {unit} rejected: {}",
                self.rejected,
                self.reasons.join("; ")
            );
            if self.rejected as usize > self.reasons.len() {
                s.push_str("; …");
            }
            parts.push(s);
        }
        parts.extend(self.notes.iter().cloned());
        (!parts.is_empty()).then(|| parts.join(". "))
    }
}

pub(crate) enum PointResult {
    Stored,
    Duplicate,
    Rejected(String),
}

/// Writes requests into the transaction open on `conn`.
pub(crate) struct Ingest<'a> {
    pub conn: &'a Connection,
    pub caches: &'a mut Caches,
    pub group: &'a mut Group,
}

struct ResourceInfo {
    id: i64,
    hash: [u8; 16],
    service: String,
}

/// A resource's stored form (attributes as JSON, content hash, service), computed before the
/// writer thread needs it.
#[derive(Debug, Clone)]
pub(crate) struct PreparedResource {
    json: String,
    hash: [u8; 16],
    pub service: String,
    dropped: u32,
    schema_url: String,
}

impl PreparedResource {
    pub(crate) fn new(resource: Option<&Resource>, schema_url: &str) -> PreparedResource {
        let (attrs, dropped) = resource
            .map(|r| (attributes(&r.attributes), r.dropped_attributes_count))
            .unwrap_or_default();
        let service = attrs
            .get("service.name")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown_service")
            .to_string();
        let json = serde_json::to_string(&attrs).unwrap_or_default();
        let hash = Fnv128::new()
            .field(json.as_bytes())
            .int(i64::from(dropped))
            .field(schema_url.as_bytes())
            .finish();
        PreparedResource {
            json,
            hash,
            service,
            dropped,
            schema_url: schema_url.to_string(),
        }
    }
}

impl Ingest<'_> {
    fn resource(
        &mut self,
        resource: Option<&Resource>,
        schema_url: &str,
    ) -> rusqlite::Result<ResourceInfo> {
        self.stored_resource(PreparedResource::new(resource, schema_url))
    }

    fn stored_resource(&mut self, r: PreparedResource) -> rusqlite::Result<ResourceInfo> {
        let PreparedResource {
            json,
            hash,
            service,
            dropped,
            schema_url,
        } = r;
        if let Some(&id) = self.caches.resources.get(&hash) {
            return Ok(ResourceInfo { id, hash, service });
        }
        self.conn
            .prepare_cached(
                "INSERT INTO resources (hash, service, attributes, dropped_attributes_count, schema_url)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (hash) DO NOTHING",
            )?
            .execute(params![&hash[..], service, json, dropped, schema_url])?;
        let id: i64 = self
            .conn
            .prepare_cached("SELECT id FROM resources WHERE hash = ?1")?
            .query_row([&hash[..]], |r| r.get(0))?;
        self.caches.resources.insert(hash, id);
        Ok(ResourceInfo { id, hash, service })
    }

    fn scope(
        &mut self,
        scope: Option<&InstrumentationScope>,
        schema_url: &str,
    ) -> rusqlite::Result<(i64, [u8; 16])> {
        let empty = InstrumentationScope::default();
        let scope = scope.unwrap_or(&empty);
        let json = serde_json::to_string(&attributes(&scope.attributes)).unwrap_or_default();
        let hash = Fnv128::new()
            .field(scope.name.as_bytes())
            .field(scope.version.as_bytes())
            .field(json.as_bytes())
            .int(i64::from(scope.dropped_attributes_count))
            .field(schema_url.as_bytes())
            .finish();
        if let Some(&id) = self.caches.scopes.get(&hash) {
            return Ok((id, hash));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO scopes (hash, name, version, attributes, dropped_attributes_count, schema_url)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (hash) DO NOTHING",
            )?
            .execute(params![
                &hash[..],
                scope.name,
                scope.version,
                json,
                scope.dropped_attributes_count,
                schema_url
            ])?;
        let id: i64 = self
            .conn
            .prepare_cached("SELECT id FROM scopes WHERE hash = ?1")?
            .query_row([&hash[..]], |r| r.get(0))?;
        self.caches.scopes.insert(hash, id);
        Ok((id, hash))
    }

    // ---------------------------------------------------------------------------------------
    // Traces

    pub(crate) fn traces(&mut self, batch: &TraceBatch) -> rusqlite::Result<Outcome> {
        let mut out = batch.outcome.clone();
        for resource in &batch.resources {
            if self.caches.resources.contains_key(&resource.hash) {
                continue;
            }
            self.stored_resource(resource.clone())?;
        }
        for chunk in &batch.chunks {
            let service = &batch.resources[chunk.resource].service;
            let spans = chunk.spans.max(0) as u64;
            out.accepted += spans;
            if !chunks::insert(self.conn, chunk, service)? {
                out.duplicates += spans;
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------------------------------
    // Logs

    pub(crate) fn logs(&mut self, req: &ExportLogsServiceRequest) -> rusqlite::Result<Outcome> {
        let mut out = Outcome::default();
        let conn = self.conn;
        let mut insert = conn.prepare_cached(
            "INSERT OR IGNORE INTO logs (hash, ts, time_ns, observed_ns, severity_number,
                severity_text, body, body_json, attributes, trace_id, span_id, flags, event_name,
                dropped_attributes_count, service, resource_id, scope_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?;
        for rl in &req.resource_logs {
            let resource = self.resource(rl.resource.as_ref(), &rl.schema_url)?;
            for sl in &rl.scope_logs {
                let (scope_id, scope_hash) = self.scope(sl.scope.as_ref(), &sl.schema_url)?;
                for rec in &sl.log_records {
                    let checked = (|| {
                        let trace_id = convert::id(&rec.trace_id, 16, "trace id")?;
                        let span_id = convert::id(&rec.span_id, 8, "span id")?;
                        let time = nanos(rec.time_unix_nano, "time_unix_nano")?;
                        let observed =
                            nanos(rec.observed_time_unix_nano, "observed_time_unix_nano")?;
                        Ok::<_, String>((trace_id, span_id, time, observed))
                    })();
                    let (trace_id, span_id, time, observed) = match checked {
                        Ok(v) => v,
                        Err(reason) => {
                            out.reject(format!("log record: {reason}"));
                            continue;
                        }
                    };
                    let ts = if time != 0 { time } else { observed };
                    let body = convert::any_to_json(rec.body.as_ref());
                    let body_text = convert::json_text(&body);
                    let body_json = body.to_string();
                    let typed_body =
                        (!matches!(body, serde_json::Value::String(_) | serde_json::Value::Null))
                            .then_some(body_json.as_str());
                    let attrs =
                        serde_json::to_string(&attributes(&rec.attributes)).unwrap_or_default();
                    let hash = Fnv128::new()
                        .bytes(&resource.hash)
                        .bytes(&scope_hash)
                        .int(time)
                        .int(observed)
                        .int(i64::from(rec.severity_number))
                        .field(rec.severity_text.as_bytes())
                        .field(body_json.as_bytes())
                        .field(attrs.as_bytes())
                        .field(trace_id.as_deref().unwrap_or("").as_bytes())
                        .field(span_id.as_deref().unwrap_or("").as_bytes())
                        .int(i64::from(rec.flags))
                        .field(rec.event_name.as_bytes())
                        .int(i64::from(rec.dropped_attributes_count))
                        .finish();
                    let n = insert.execute(params![
                        &hash[..],
                        ts,
                        time,
                        observed,
                        rec.severity_number,
                        rec.severity_text,
                        body_text,
                        typed_body,
                        attrs,
                        trace_id,
                        span_id,
                        rec.flags,
                        rec.event_name,
                        rec.dropped_attributes_count,
                        resource.service,
                        resource.id,
                        scope_id,
                    ])?;
                    out.accepted += 1;
                    if n == 0 {
                        out.duplicates += 1;
                    }
                }
            }
        }
        Ok(out)
    }
}
