//! The store's contents back as OTLP export requests, in batches: what `obs store export`
//! writes as OTLP JSON Lines and `obs replay` sends to another OTLP endpoint.
//!
//! Traces come from the chunks as received (every span field, resource and scope byte for
//! byte); logs from their rows with their resource and scope; metrics (`export_metrics.rs`)
//! from the Prometheus series they became, as cumulative OTLP metrics that a store turns back
//! into exactly those series. Storing what is exported gives the same rows again — the round
//! trip is lossless for everything the store keeps. The order is fixed (insertion order for
//! spans and logs, family and series order for metrics), so that the batches of one store are
//! the same every time: replay counts acknowledged batches to resume.

use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;
use rusqlite::params;

use super::read::Store;
use super::v1::{any_value, key_values};
use super::{
    ExportLogsServiceRequest, ExportTraceServiceRequest, Payload, SqlContext as _, StoreError,
    chunks,
};
use crate::model::trace::Attributes;

/// An inclusive time window in unix nanoseconds; [`ExportWindow::ALL`] holds everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportWindow {
    pub start: i64,
    pub end: i64,
}

impl ExportWindow {
    pub const ALL: ExportWindow = ExportWindow {
        start: i64::MIN,
        end: i64::MAX,
    };
}

/// The signals a store holds, in the order replay sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportSignal {
    Traces,
    Logs,
    Metrics,
}

impl ExportSignal {
    pub const ALL: [ExportSignal; 3] = [
        ExportSignal::Traces,
        ExportSignal::Logs,
        ExportSignal::Metrics,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ExportSignal::Traces => "traces",
            ExportSignal::Logs => "logs",
            ExportSignal::Metrics => "metrics",
        }
    }
}

impl Store {
    /// Hands `emit` the `signal`'s data in `window` as export requests of about `batch` items
    /// each (spans, log records or data points; a trace chunk or a metric stream's point is
    /// never split, so a request may hold a little more). Stops at the first error of `emit`.
    pub fn export<E: From<StoreError>>(
        &self,
        signal: ExportSignal,
        window: ExportWindow,
        batch: usize,
        emit: &mut dyn FnMut(Payload) -> Result<(), E>,
    ) -> Result<(), E> {
        let batch = batch.max(1);
        match signal {
            ExportSignal::Traces => self.export_traces(window, batch, emit),
            ExportSignal::Logs => self.export_logs(window, batch, emit),
            ExportSignal::Metrics => self.export_metrics(window, batch, emit),
        }
    }

    /// The newest timestamp held over all signals (span end, log time, sample time), if any:
    /// where `replay --shift now` puts "now".
    pub fn newest_timestamp(&self) -> Result<Option<i64>, StoreError> {
        self.connection()
            .query_row(
                "SELECT max(hi) FROM (
                    SELECT (SELECT max(end_ns) FROM span_chunks) AS hi
                    UNION ALL SELECT (SELECT max(ts) FROM logs)
                    UNION ALL SELECT max(last_ts) FROM series)",
                [],
                |r| r.get(0),
            )
            .at(self.path())
    }

    fn export_traces<E: From<StoreError>>(
        &self,
        window: ExportWindow,
        batch: usize,
        emit: &mut dyn FnMut(Payload) -> Result<(), E>,
    ) -> Result<(), E> {
        let p = self.path();
        let tx = self.connection().unchecked_transaction().at(p)?;
        let mut stmt = self
            .connection()
            .prepare(
                "SELECT id, span_count, data FROM span_chunks
                 WHERE end_ns >= ?1 AND start_ns <= ?2 ORDER BY id",
            )
            .at(p)?;
        let mut rows = stmt.query(params![window.start, window.end]).at(p)?;
        let mut request = ExportTraceServiceRequest::default();
        let mut items = 0usize;
        while let Some(row) = rows.next().at(p)? {
            let id: i64 = row.get(0).at(p)?;
            let spans: i64 = row.get(1).at(p)?;
            let data: Vec<u8> = row.get(2).at(p)?;
            let rs = chunks::decode(&data).map_err(|e| StoreError::Corrupt {
                path: p.to_path_buf(),
                message: format!("span chunk {id}: {e}"),
            })?;
            merge_resource_spans(&mut request.resource_spans, rs);
            items += usize::try_from(spans).unwrap_or(0);
            if items >= batch {
                emit(Payload::Traces(std::mem::take(&mut request)))?;
                items = 0;
            }
        }
        if !request.resource_spans.is_empty() {
            emit(Payload::Traces(request))?;
        }
        drop(rows);
        drop(stmt);
        tx.commit().at(p)?;
        Ok(())
    }

    fn export_logs<E: From<StoreError>>(
        &self,
        window: ExportWindow,
        batch: usize,
        emit: &mut dyn FnMut(Payload) -> Result<(), E>,
    ) -> Result<(), E> {
        let p = self.path();
        let tx = self.connection().unchecked_transaction().at(p)?;
        let mut stmt = self
            .connection()
            .prepare(
                "SELECT l.time_ns, l.observed_ns, l.severity_number, l.severity_text, l.body,
                        l.body_json, l.attributes, l.trace_id, l.span_id, l.flags, l.event_name,
                        l.dropped_attributes_count, l.resource_id, l.scope_id,
                        r.attributes, r.dropped_attributes_count, r.schema_url,
                        s.name, s.version, s.attributes, s.dropped_attributes_count, s.schema_url
                 FROM logs l JOIN resources r ON r.id = l.resource_id
                             JOIN scopes s ON s.id = l.scope_id
                 WHERE l.ts >= ?1 AND l.ts <= ?2 ORDER BY l.id",
            )
            .at(p)?;
        let mut rows = stmt.query(params![window.start, window.end]).at(p)?;
        let mut request = ExportLogsServiceRequest::default();
        // (resource id, scope id) of the last ScopeLogs appended.
        let mut last: Option<(i64, i64)> = None;
        let mut items = 0usize;
        let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt {
            path: p.to_path_buf(),
            message: format!("a log record's {what} is not JSON: {e}"),
        };
        while let Some(row) = rows.next().at(p)? {
            let body_text: String = row.get(4).at(p)?;
            let body_json: Option<String> = row.get(5).at(p)?;
            let body = match body_json {
                Some(json) => {
                    let v: serde_json::Value =
                        serde_json::from_str(&json).map_err(|e| corrupt("body", e))?;
                    Some(any_value(&v))
                }
                None => Some(AnyValue {
                    value: Some(Value::StringValue(body_text)),
                }),
            };
            let attrs: Attributes = serde_json::from_str(&row.get::<_, String>(6).at(p)?)
                .map_err(|e| corrupt("attributes", e))?;
            let record = LogRecord {
                time_unix_nano: row.get::<_, i64>(0).at(p)?.max(0) as u64,
                observed_time_unix_nano: row.get::<_, i64>(1).at(p)?.max(0) as u64,
                severity_number: row.get(2).at(p)?,
                severity_text: row.get(3).at(p)?,
                body,
                attributes: key_values(&attrs),
                dropped_attributes_count: row.get(11).at(p)?,
                flags: row.get(9).at(p)?,
                trace_id: unhex(row.get::<_, Option<String>>(7).at(p)?.as_deref()),
                span_id: unhex(row.get::<_, Option<String>>(8).at(p)?.as_deref()),
                event_name: row.get(10).at(p)?,
            };
            let key = (row.get::<_, i64>(12).at(p)?, row.get::<_, i64>(13).at(p)?);
            if last.map(|(r, _)| r) != Some(key.0) {
                let attrs: Attributes = serde_json::from_str(&row.get::<_, String>(14).at(p)?)
                    .map_err(|e| corrupt("resource", e))?;
                request.resource_logs.push(ResourceLogs {
                    resource: Some(Resource {
                        attributes: key_values(&attrs),
                        dropped_attributes_count: row.get(15).at(p)?,
                        ..Resource::default()
                    }),
                    scope_logs: Vec::new(),
                    schema_url: row.get(16).at(p)?,
                });
            }
            if last != Some(key) {
                let attrs: Attributes = serde_json::from_str(&row.get::<_, String>(19).at(p)?)
                    .map_err(|e| corrupt("scope", e))?;
                if let Some(rl) = request.resource_logs.last_mut() {
                    rl.scope_logs.push(ScopeLogs {
                        scope: Some(InstrumentationScope {
                            name: row.get(17).at(p)?,
                            version: row.get(18).at(p)?,
                            attributes: key_values(&attrs),
                            dropped_attributes_count: row.get(20).at(p)?,
                        }),
                        log_records: Vec::new(),
                        schema_url: row.get(21).at(p)?,
                    });
                }
                last = Some(key);
            }
            if let Some(sl) = request
                .resource_logs
                .last_mut()
                .and_then(|rl| rl.scope_logs.last_mut())
            {
                sl.log_records.push(record);
            }
            items += 1;
            if items >= batch {
                emit(Payload::Logs(std::mem::take(&mut request)))?;
                items = 0;
                last = None;
            }
        }
        if !request.resource_logs.is_empty() {
            emit(Payload::Logs(request))?;
        }
        drop(rows);
        drop(stmt);
        tx.commit().at(p)?;
        Ok(())
    }
}

/// Adds a chunk's `ResourceSpans` to a request, into the entry of the same resource (and its
/// scope) when there is one, so that a file does not repeat a resource per trace.
fn merge_resource_spans(into: &mut Vec<ResourceSpans>, rs: ResourceSpans) {
    let same = into
        .iter_mut()
        .rev()
        .take(8)
        .find(|r| r.resource == rs.resource && r.schema_url == rs.schema_url);
    let Some(target) = same else {
        into.push(rs);
        return;
    };
    for ss in rs.scope_spans {
        match target
            .scope_spans
            .iter_mut()
            .find(|t| t.scope == ss.scope && t.schema_url == ss.schema_url)
        {
            Some(t) => t.spans.extend(ss.spans),
            None => target.scope_spans.push(ss),
        }
    }
}

/// A stored lowercase hex id back as bytes (empty for none).
pub(crate) fn unhex(s: Option<&str>) -> Vec<u8> {
    let Some(s) = s else { return Vec::new() };
    if !s.len().is_multiple_of(2) {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_default()
}
