//! Turning one OTLP request into rows, inside the writer's open transaction.
//!
//! Bad items are rejected one by one with a reason (OTLP partial success) and never abort the
//! request; only a SQLite error does, and then the whole group is rolled back. Retried data is
//! recognised and counted as duplicate: span chunks by (trace id, span ids), log records by a content
//! hash, metric samples by (series, timestamp), delta points by their stream's last timestamp.

use std::collections::{BTreeMap, HashMap, HashSet};

use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint,
    NumberDataPoint, SummaryDataPoint, exemplar, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::chunks::{self, TraceBatch};
use super::convert::{self, Fnv128, any_to_label, attributes, float_text, nanos};
use super::promname::{FamilyKind, family_name, label_name};
use super::samples::{Heads, stored_bits};
use super::{ExportLogsServiceRequest, ExportMetricsServiceRequest};
use crate::model::Labels;

/// How many rejection reasons one response carries; the rest are counted.
const MAX_MESSAGES: usize = 5;
/// Delta exponential histograms are merged at a scale that keeps at most this many buckets.
const MAX_EXP_BUCKETS: i64 = 4096;
/// `DataPointFlags.NO_RECORDED_VALUE_MASK`.
const NO_RECORDED_VALUE: u32 = 1;

/// Ids the writer already knows, so that hot paths skip a lookup. Only valid for committed
/// data: the writer clears it when a transaction rolls back or retention deletes series.
#[derive(Default)]
pub(crate) struct Caches {
    resources: HashMap<[u8; 16], i64>,
    scopes: HashMap<[u8; 16], i64>,
    series: HashMap<(String, String), i64>,
    families: HashSet<String>,
    heads: Heads,
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
    series_times: HashMap<i64, (i64, i64, i64)>,
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

    fn note(&mut self, note: String) {
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

enum PointResult {
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

    // ---------------------------------------------------------------------------------------
    // Metrics

    pub(crate) fn metrics(
        &mut self,
        req: &ExportMetricsServiceRequest,
    ) -> rusqlite::Result<Outcome> {
        let mut out = Outcome::default();
        for rm in &req.resource_metrics {
            let (base, target) = resource_labels(rm.resource.as_ref());
            let mut newest: Option<i64> = None;
            for sm in &rm.scope_metrics {
                let mut scope_base = base.clone();
                if let Some(scope) = &sm.scope {
                    if !scope.name.is_empty() {
                        scope_base.insert("otel_scope_name".into(), scope.name.clone());
                    }
                    if !scope.version.is_empty() {
                        scope_base.insert("otel_scope_version".into(), scope.version.clone());
                    }
                }
                // Resource-derived `job`/`instance` win over same-named point attributes.
                for (k, v) in &base {
                    scope_base.insert(k.clone(), v.clone());
                }
                for metric in &sm.metrics {
                    let Some(data) = &metric.data else { continue };
                    let (kind, temporality) = match data {
                        Data::Gauge(_) => (FamilyKind::Gauge, None),
                        Data::Sum(s) => (
                            if s.is_monotonic {
                                FamilyKind::Counter
                            } else {
                                FamilyKind::UpDownCounter
                            },
                            Some(s.aggregation_temporality),
                        ),
                        Data::Histogram(h) => {
                            (FamilyKind::Histogram, Some(h.aggregation_temporality))
                        }
                        Data::ExponentialHistogram(h) => {
                            (FamilyKind::Histogram, Some(h.aggregation_temporality))
                        }
                        Data::Summary(_) => (FamilyKind::Summary, None),
                    };
                    let family = family_name(&metric.name, &metric.unit, kind);
                    if family.is_empty() {
                        let n = point_count(data);
                        for _ in 0..n {
                            out.reject(format!("metric {:?}: empty name", metric.name));
                        }
                        continue;
                    }
                    self.family(&family, kind, metric)?;
                    let delta = match temporality {
                        Some(t) if t == AggregationTemporality::Delta as i32 => true,
                        Some(t) if t == AggregationTemporality::Cumulative as i32 => false,
                        Some(t) => {
                            for _ in 0..point_count(data) {
                                out.reject(format!(
                                    "metric {:?}: aggregation temporality {t} is neither delta nor cumulative",
                                    metric.name
                                ));
                            }
                            continue;
                        }
                        None => false,
                    };
                    let ctx = MetricCtx {
                        family: &family,
                        base: &scope_base,
                        delta,
                    };
                    let mut results = Vec::new();
                    match data {
                        Data::Gauge(g) => {
                            for p in &g.data_points {
                                results.push((
                                    p.time_unix_nano,
                                    self.number_point(&ctx, p, &mut out)?,
                                ));
                            }
                        }
                        Data::Sum(s) => {
                            for p in &s.data_points {
                                results.push((
                                    p.time_unix_nano,
                                    self.number_point(&ctx, p, &mut out)?,
                                ));
                            }
                        }
                        Data::Histogram(h) => {
                            for p in &h.data_points {
                                results.push((
                                    p.time_unix_nano,
                                    self.histogram_point(&ctx, p, &mut out)?,
                                ));
                            }
                        }
                        Data::ExponentialHistogram(h) => {
                            for p in &h.data_points {
                                results.push((
                                    p.time_unix_nano,
                                    self.exp_histogram_point(&ctx, p, &mut out)?,
                                ));
                            }
                        }
                        Data::Summary(s) => {
                            for p in &s.data_points {
                                results.push((
                                    p.time_unix_nano,
                                    self.summary_point(&ctx, p, &mut out)?,
                                ));
                            }
                        }
                    }
                    for (time, result) in results {
                        match result {
                            PointResult::Stored => {
                                out.accepted += 1;
                                if let Ok(t) = i64::try_from(time) {
                                    newest = Some(newest.map_or(t, |n| n.max(t)));
                                }
                            }
                            PointResult::Duplicate => {
                                out.accepted += 1;
                                out.duplicates += 1;
                            }
                            PointResult::Rejected(reason) => {
                                out.reject(format!("metric {:?}: {reason}", metric.name))
                            }
                        }
                    }
                }
            }
            // Other resource attributes go to `target_info`, as the Collector's exporters do.
            if let (Some(ts), false) = (newest, target.is_empty()) {
                let mut labels = base.clone();
                labels.extend(target);
                self.family_raw("target_info", "gauge", "", "Target metadata", "target_info")?;
                self.write_rows(
                    "target_info",
                    ts,
                    false,
                    &[Row {
                        name: "target_info".into(),
                        labels,
                        value: 1.0,
                    }],
                )?;
            }
        }
        Ok(out)
    }

    fn family(
        &mut self,
        family: &str,
        kind: FamilyKind,
        metric: &opentelemetry_proto::tonic::metrics::v1::Metric,
    ) -> rusqlite::Result<()> {
        self.family_raw(
            family,
            kind.prometheus_type(),
            &metric.unit,
            &metric.description,
            &metric.name,
        )
    }

    fn family_raw(
        &mut self,
        family: &str,
        kind: &str,
        unit: &str,
        help: &str,
        otel_name: &str,
    ) -> rusqlite::Result<()> {
        if self.caches.families.contains(family) {
            return Ok(());
        }
        self.conn
            .prepare_cached(
                "INSERT INTO metric_families (name, type, unit, help, otel_name)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (name) DO UPDATE SET type = excluded.type, unit = excluded.unit,
                    help = excluded.help, otel_name = excluded.otel_name",
            )?
            .execute(params![family, kind, unit, help, otel_name])?;
        self.caches.families.insert(family.to_string());
        Ok(())
    }

    fn number_point(
        &mut self,
        ctx: &MetricCtx<'_>,
        p: &NumberDataPoint,
        out: &mut Outcome,
    ) -> rusqlite::Result<PointResult> {
        let ts = match nanos(p.time_unix_nano, "time_unix_nano") {
            Ok(ts) => ts,
            Err(e) => return Ok(PointResult::Rejected(e)),
        };
        let stale = p.flags & NO_RECORDED_VALUE != 0;
        let mut value = match p.value {
            Some(number_data_point::Value::AsDouble(d)) => d,
            Some(number_data_point::Value::AsInt(i)) => i as f64,
            None if stale => f64::NAN,
            None => return Ok(PointResult::Rejected("data point has no value".into())),
        };
        let labels = point_labels(ctx.base, &p.attributes);
        if ctx.delta && !stale {
            let key = stream_key(ctx.family, &labels);
            let state = self.delta_state(&key)?;
            let total = match state {
                Some((last, _)) if ts <= last => return Ok(PointResult::Duplicate),
                Some((_, DeltaState::Sum { value_bits })) => f64::from_bits(value_bits) + value,
                _ => value,
            };
            self.save_delta(
                &key,
                ts,
                &DeltaState::Sum {
                    value_bits: total.to_bits(),
                },
            )?;
            value = total;
        }
        let rows = [Row {
            name: ctx.family.to_string(),
            labels,
            value,
        }];
        let (inserted, ids) = self.write_rows(ctx.family, ts, stale, &rows)?;
        if inserted == 0 {
            return Ok(PointResult::Duplicate);
        }
        let series = ids.first().copied().unwrap_or_default();
        self.exemplars(&p.exemplars, ts, &|_| series, out)?;
        Ok(PointResult::Stored)
    }

    fn histogram_point(
        &mut self,
        ctx: &MetricCtx<'_>,
        p: &HistogramDataPoint,
        out: &mut Outcome,
    ) -> rusqlite::Result<PointResult> {
        let ts = match nanos(p.time_unix_nano, "time_unix_nano") {
            Ok(ts) => ts,
            Err(e) => return Ok(PointResult::Rejected(e)),
        };
        let bounds = &p.explicit_bounds;
        if !(p.bucket_counts.is_empty() && bounds.is_empty())
            && p.bucket_counts.len() != bounds.len() + 1
        {
            return Ok(PointResult::Rejected(format!(
                "histogram point has {} bucket counts for {} explicit bounds; OTLP requires one more count than bounds",
                p.bucket_counts.len(),
                bounds.len()
            )));
        }
        if bounds.iter().any(|b| b.is_nan()) || bounds.windows(2).any(|w| w[0] >= w[1]) {
            return Ok(PointResult::Rejected(
                "histogram explicit bounds are not strictly increasing numbers".into(),
            ));
        }
        let stale = p.flags & NO_RECORDED_VALUE != 0;
        let labels = point_labels(ctx.base, &p.attributes);
        let mut counts = p.bucket_counts.clone();
        let mut count = p.count;
        let mut sum = p.sum;
        if ctx.delta && !stale {
            let key = stream_key(ctx.family, &labels);
            let state = self.delta_state(&key)?;
            match state {
                Some((last, _)) if ts <= last => return Ok(PointResult::Duplicate),
                Some((
                    _,
                    DeltaState::Histogram {
                        bounds: old_bounds,
                        counts: old_counts,
                        count: old_count,
                        sum_bits,
                    },
                )) if old_bounds.len() == bounds.len()
                    && old_bounds
                        .iter()
                        .zip(bounds)
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                    && old_counts.len() == counts.len() =>
                {
                    for (c, o) in counts.iter_mut().zip(&old_counts) {
                        *c = c.saturating_add(*o);
                    }
                    count = count.saturating_add(old_count);
                    sum = match (sum, sum_bits) {
                        (Some(s), Some(o)) => Some(s + f64::from_bits(o)),
                        (s, None) => s,
                        (None, Some(o)) => Some(f64::from_bits(o)),
                    };
                }
                _ => {}
            }
            self.save_delta(
                &key,
                ts,
                &DeltaState::Histogram {
                    bounds: bounds.clone(),
                    counts: counts.clone(),
                    count,
                    sum_bits: sum.map(f64::to_bits),
                },
            )?;
        }
        let buckets: Vec<(f64, u64)> = bounds.iter().copied().zip(counts.iter().copied()).collect();
        let rows = histogram_rows(ctx.family, &labels, &buckets, count, sum);
        let (inserted, ids) = self.write_rows(ctx.family, ts, stale, &rows)?;
        if inserted == 0 {
            return Ok(PointResult::Duplicate);
        }
        let pick = |v: f64| bucket_series(&buckets, &ids, v);
        self.exemplars(&p.exemplars, ts, &pick, out)?;
        Ok(PointResult::Stored)
    }

    fn exp_histogram_point(
        &mut self,
        ctx: &MetricCtx<'_>,
        p: &ExponentialHistogramDataPoint,
        out: &mut Outcome,
    ) -> rusqlite::Result<PointResult> {
        let ts = match nanos(p.time_unix_nano, "time_unix_nano") {
            Ok(ts) => ts,
            Err(e) => return Ok(PointResult::Rejected(e)),
        };
        if !(-10..=20).contains(&p.scale) {
            return Ok(PointResult::Rejected(format!(
                "exponential histogram scale {} is outside -10..=20",
                p.scale
            )));
        }
        if p.zero_threshold.is_nan() || p.zero_threshold < 0.0 {
            return Ok(PointResult::Rejected(
                "exponential histogram zero threshold is negative or NaN".into(),
            ));
        }
        let stale = p.flags & NO_RECORDED_VALUE != 0;
        let labels = point_labels(ctx.base, &p.attributes);
        let buckets_of = |b: &Option<_>| -> Dense {
            let b: &Option<
                opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets,
            > = b;
            b.as_ref()
                .map(|b| Dense {
                    offset: i64::from(b.offset),
                    counts: b.bucket_counts.clone(),
                })
                .unwrap_or_default()
        };
        let mut h = ExpState {
            scale: p.scale,
            zero_threshold_bits: p.zero_threshold.to_bits(),
            zero_count: p.zero_count,
            positive: buckets_of(&p.positive),
            negative: buckets_of(&p.negative),
            count: p.count,
            sum_bits: p.sum.map(f64::to_bits),
        };
        if ctx.delta && !stale {
            let key = stream_key(ctx.family, &labels);
            match self.delta_state(&key)? {
                Some((last, _)) if ts <= last => return Ok(PointResult::Duplicate),
                Some((_, DeltaState::Exponential(old))) => h = old.merge(h),
                _ => {}
            }
            self.save_delta(&key, ts, &DeltaState::Exponential(h.clone()))?;
        }
        let buckets = h.explicit_buckets();
        let rows = histogram_rows(
            ctx.family,
            &labels,
            &buckets,
            h.count,
            h.sum_bits.map(f64::from_bits),
        );
        let (inserted, ids) = self.write_rows(ctx.family, ts, stale, &rows)?;
        if inserted == 0 {
            return Ok(PointResult::Duplicate);
        }
        let pick = |v: f64| bucket_series(&buckets, &ids, v);
        self.exemplars(&p.exemplars, ts, &pick, out)?;
        Ok(PointResult::Stored)
    }

    fn summary_point(
        &mut self,
        ctx: &MetricCtx<'_>,
        p: &SummaryDataPoint,
        _out: &mut Outcome,
    ) -> rusqlite::Result<PointResult> {
        let ts = match nanos(p.time_unix_nano, "time_unix_nano") {
            Ok(ts) => ts,
            Err(e) => return Ok(PointResult::Rejected(e)),
        };
        let stale = p.flags & NO_RECORDED_VALUE != 0;
        let labels = point_labels(ctx.base, &p.attributes);
        let mut rows = Vec::with_capacity(p.quantile_values.len() + 2);
        let mut quantiles: Vec<_> = p.quantile_values.iter().collect();
        quantiles.sort_by(|a, b| a.quantile.total_cmp(&b.quantile));
        for q in quantiles {
            let mut l = labels.clone();
            l.insert("quantile".into(), float_text(q.quantile));
            rows.push(Row {
                name: ctx.family.to_string(),
                labels: l,
                value: q.value,
            });
        }
        rows.push(Row {
            name: format!("{}_sum", ctx.family),
            labels: labels.clone(),
            value: p.sum,
        });
        rows.push(Row {
            name: format!("{}_count", ctx.family),
            labels,
            value: p.count as f64,
        });
        let (inserted, _) = self.write_rows(ctx.family, ts, stale, &rows)?;
        Ok(if inserted == 0 {
            PointResult::Duplicate
        } else {
            PointResult::Stored
        })
    }

    fn exemplars(
        &mut self,
        exemplars: &[Exemplar],
        point_ts: i64,
        series_for: &dyn Fn(f64) -> i64,
        out: &mut Outcome,
    ) -> rusqlite::Result<()> {
        if exemplars.is_empty() {
            return Ok(());
        }
        let mut insert = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO exemplars (series_id, ts, value, trace_id, span_id, attributes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for ex in exemplars {
            let ids = convert::id(&ex.trace_id, 16, "trace id")
                .and_then(|t| Ok((t, convert::id(&ex.span_id, 8, "span id")?)));
            let (trace_id, span_id) = match ids {
                Ok(v) => v,
                Err(reason) => {
                    out.note(format!("exemplar dropped: {reason}"));
                    continue;
                }
            };
            let value = match ex.value {
                Some(exemplar::Value::AsDouble(d)) => d,
                Some(exemplar::Value::AsInt(i)) => i as f64,
                None => f64::NAN,
            };
            let ts = match i64::try_from(ex.time_unix_nano) {
                Ok(0) | Err(_) => point_ts,
                Ok(t) => t,
            };
            let attrs =
                serde_json::to_string(&attributes(&ex.filtered_attributes)).unwrap_or_default();
            insert.execute(params![
                series_for(value),
                ts,
                real(value),
                trace_id.unwrap_or_default(),
                span_id.unwrap_or_default(),
                attrs
            ])?;
        }
        Ok(())
    }

    /// Inserts one sample per row at `ts`; returns how many were new and the rows' series ids.
    fn write_rows(
        &mut self,
        family: &str,
        ts: i64,
        stale: bool,
        rows: &[Row],
    ) -> rusqlite::Result<(usize, Vec<i64>)> {
        let mut inserted = 0;
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            let id = self.series_id(family, row, ts)?;
            ids.push(id);
            let bits = stored_bits(row.value, stale);
            if !self.caches.heads.add(self.conn, id, ts, bits)? {
                continue;
            }
            inserted += 1;
            let span = self.group.series_times.entry(id).or_insert((ts, ts, 0));
            span.0 = span.0.min(ts);
            span.1 = span.1.max(ts);
            span.2 += 1;
        }
        Ok((inserted, ids))
    }

    fn series_id(&mut self, family: &str, row: &Row, ts: i64) -> rusqlite::Result<i64> {
        let mut labels = row.labels.clone();
        labels.insert("__name__".into(), row.name.clone());
        let json = serde_json::to_string(&labels).unwrap_or_default();
        let key = (row.name.clone(), json);
        if let Some(&id) = self.caches.series.get(&key) {
            return Ok(id);
        }
        let existing: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM series WHERE metric_name = ?1 AND labels = ?2")?
            .query_row(params![key.0, key.1], |r| r.get(0))
            .optional()?;
        let id = match existing {
            Some(id) => id,
            None => {
                self.conn
                    .prepare_cached(
                        "INSERT INTO series (metric_name, family, labels, first_ts, last_ts)
                         VALUES (?1, ?2, ?3, ?4, ?4)",
                    )?
                    .execute(params![key.0, family, key.1, ts])?;
                self.conn.last_insert_rowid()
            }
        };
        self.caches.series.insert(key, id);
        Ok(id)
    }

    fn delta_state(&mut self, key: &str) -> rusqlite::Result<Option<(i64, DeltaState)>> {
        let row: Option<(i64, String)> = self
            .conn
            .prepare_cached("SELECT last_ts, state FROM delta_state WHERE stream = ?1")?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.and_then(|(ts, s)| serde_json::from_str(&s).ok().map(|st| (ts, st))))
    }

    fn save_delta(&mut self, key: &str, ts: i64, state: &DeltaState) -> rusqlite::Result<()> {
        let json = serde_json::to_string(state).unwrap_or_default();
        self.conn
            .prepare_cached(
                "INSERT INTO delta_state (stream, last_ts, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (stream) DO UPDATE SET last_ts = excluded.last_ts, state = excluded.state",
            )?
            .execute(params![key, ts, json])?;
        Ok(())
    }

    /// Writes the per-group aggregates (the series' open chunks, time spans and sample
    /// counts). Call before COMMIT.
    pub(crate) fn finish_group(&mut self) -> rusqlite::Result<()> {
        self.caches.heads.flush(self.conn)?;
        let mut update = self.conn.prepare_cached(
            "UPDATE series SET first_ts = min(first_ts, ?2), last_ts = max(last_ts, ?3),
                samples = samples + ?4 WHERE id = ?1",
        )?;
        for (id, (first, last, new)) in self.group.series_times.drain() {
            update.execute(params![id, first, last, new])?;
        }
        Ok(())
    }
}

/// SQLite turns NaN into NULL; the store says so explicitly (NULL = NaN).
fn real(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

struct MetricCtx<'a> {
    family: &'a str,
    base: &'a Labels,
    delta: bool,
}

/// One sample to store: the series' `__name__` and its other labels.
struct Row {
    name: String,
    labels: Labels,
    value: f64,
}

fn point_count(data: &Data) -> usize {
    match data {
        Data::Gauge(g) => g.data_points.len(),
        Data::Sum(s) => s.data_points.len(),
        Data::Histogram(h) => h.data_points.len(),
        Data::ExponentialHistogram(h) => h.data_points.len(),
        Data::Summary(s) => s.data_points.len(),
    }
}

/// `job` and `instance` from a resource, and the other resource attributes for `target_info`.
fn resource_labels(resource: Option<&Resource>) -> (Labels, Labels) {
    let mut base = Labels::new();
    let mut target = Vec::new();
    let mut name = None;
    let mut namespace = None;
    for kv in resource
        .map(|r| r.attributes.as_slice())
        .unwrap_or_default()
    {
        let v = any_to_label(kv.value.as_ref());
        match kv.key.as_str() {
            "service.name" => name = Some(v),
            "service.namespace" => namespace = Some(v),
            "service.instance.id" => {
                if !v.is_empty() {
                    base.insert("instance".into(), v);
                }
            }
            _ => target.push(kv),
        }
    }
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        let job = match namespace.filter(|n| !n.is_empty()) {
            Some(ns) => format!("{ns}/{name}"),
            None => name,
        };
        base.insert("job".into(), job);
    }
    let target_kvs: Vec<KeyValue> = target.into_iter().cloned().collect();
    (base, sanitized_labels(&target_kvs))
}

/// Attribute sets as Prometheus labels; keys that sanitise to the same name have their values
/// joined with `;` in the order of the original keys, as the specification says.
fn sanitized_labels(attrs: &[KeyValue]) -> Labels {
    let mut by_key: BTreeMap<&str, String> = BTreeMap::new();
    for kv in attrs {
        by_key.insert(kv.key.as_str(), any_to_label(kv.value.as_ref()));
    }
    let mut out = Labels::new();
    for (key, value) in by_key {
        let name = label_name(key);
        if name.is_empty() {
            continue;
        }
        match out.get_mut(&name) {
            Some(existing) => {
                existing.push(';');
                existing.push_str(&value);
            }
            None => {
                out.insert(name, value);
            }
        }
    }
    out
}

fn point_labels(base: &Labels, attrs: &[KeyValue]) -> Labels {
    let mut labels = sanitized_labels(attrs);
    labels.remove("__name__");
    for (k, v) in base {
        labels.insert(k.clone(), v.clone());
    }
    labels
}

fn stream_key(family: &str, labels: &Labels) -> String {
    format!(
        "{family}\n{}",
        serde_json::to_string(labels).unwrap_or_default()
    )
}

/// `_bucket{le}` rows (cumulative, ending with `+Inf` = count), then `_sum` (when known) and
/// `_count`. `buckets` are (upper bound, count) in increasing bound order, without `+Inf`.
fn histogram_rows(
    family: &str,
    labels: &Labels,
    buckets: &[(f64, u64)],
    count: u64,
    sum: Option<f64>,
) -> Vec<Row> {
    let mut rows = Vec::with_capacity(buckets.len() + 3);
    let mut cumulative = 0u64;
    let bucket_name = format!("{family}_bucket");
    for &(bound, c) in buckets {
        cumulative = cumulative.saturating_add(c);
        let mut l = labels.clone();
        l.insert("le".into(), float_text(bound));
        rows.push(Row {
            name: bucket_name.clone(),
            labels: l,
            value: cumulative as f64,
        });
    }
    let mut l = labels.clone();
    l.insert("le".into(), "+Inf".into());
    rows.push(Row {
        name: bucket_name,
        labels: l,
        value: count as f64,
    });
    if let Some(sum) = sum {
        rows.push(Row {
            name: format!("{family}_sum"),
            labels: labels.clone(),
            value: sum,
        });
    }
    rows.push(Row {
        name: format!("{family}_count"),
        labels: labels.clone(),
        value: count as f64,
    });
    rows
}

/// The `_bucket` series whose bound is the first at or above `value` (`+Inf` otherwise).
fn bucket_series(buckets: &[(f64, u64)], ids: &[i64], value: f64) -> i64 {
    let i = buckets
        .iter()
        .position(|&(bound, _)| value <= bound)
        .unwrap_or(buckets.len());
    ids.get(i).or(ids.first()).copied().unwrap_or_default()
}

/// Running totals of a delta stream. Floats are kept as bits: JSON has no NaN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DeltaState {
    Sum {
        value_bits: u64,
    },
    Histogram {
        bounds: Vec<f64>,
        counts: Vec<u64>,
        count: u64,
        sum_bits: Option<u64>,
    },
    Exponential(ExpState),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Dense {
    offset: i64,
    counts: Vec<u64>,
}

impl Dense {
    /// The same buckets at a scale `by` steps coarser: index i becomes i >> by.
    fn downscale(&self, by: u32) -> Dense {
        if by == 0 || self.counts.is_empty() {
            return Dense {
                offset: self.offset >> by.min(62),
                counts: self.counts.clone(),
            };
        }
        let by = by.min(62);
        let first = self.offset >> by;
        let last = (self.offset + self.counts.len() as i64 - 1) >> by;
        let mut counts = vec![0u64; (last - first + 1) as usize];
        for (k, &c) in self.counts.iter().enumerate() {
            let idx = ((self.offset + k as i64) >> by) - first;
            counts[idx as usize] = counts[idx as usize].saturating_add(c);
        }
        Dense {
            offset: first,
            counts,
        }
    }

    fn span(a: &Dense, b: &Dense) -> i64 {
        let ranges: Vec<(i64, i64)> = [a, b]
            .iter()
            .filter(|d| !d.counts.is_empty())
            .map(|d| (d.offset, d.offset + d.counts.len() as i64))
            .collect();
        let lo = ranges.iter().map(|r| r.0).min().unwrap_or(0);
        let hi = ranges.iter().map(|r| r.1).max().unwrap_or(0);
        hi - lo
    }

    fn add(&self, other: &Dense) -> Dense {
        if self.counts.is_empty() {
            return other.clone();
        }
        if other.counts.is_empty() {
            return self.clone();
        }
        let lo = self.offset.min(other.offset);
        let hi =
            (self.offset + self.counts.len() as i64).max(other.offset + other.counts.len() as i64);
        let mut counts = vec![0u64; (hi - lo) as usize];
        for d in [self, other] {
            for (k, &c) in d.counts.iter().enumerate() {
                let i = (d.offset - lo) as usize + k;
                counts[i] = counts[i].saturating_add(c);
            }
        }
        Dense { offset: lo, counts }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExpState {
    scale: i32,
    zero_threshold_bits: u64,
    zero_count: u64,
    positive: Dense,
    negative: Dense,
    count: u64,
    sum_bits: Option<u64>,
}

impl ExpState {
    /// Adds a delta point to the running total, at the coarser of the two scales (coarser
    /// still if the result would have more than `MAX_EXP_BUCKETS` buckets).
    fn merge(self, new: ExpState) -> ExpState {
        let mut scale = self.scale.min(new.scale);
        loop {
            let a = (self.scale - scale) as u32;
            let b = (new.scale - scale) as u32;
            let pos = (self.positive.downscale(a), new.positive.downscale(b));
            let neg = (self.negative.downscale(a), new.negative.downscale(b));
            let fits = Dense::span(&pos.0, &pos.1) <= MAX_EXP_BUCKETS
                && Dense::span(&neg.0, &neg.1) <= MAX_EXP_BUCKETS;
            if fits || scale <= -10 {
                let zt = f64::from_bits(self.zero_threshold_bits)
                    .max(f64::from_bits(new.zero_threshold_bits));
                return ExpState {
                    scale,
                    zero_threshold_bits: zt.to_bits(),
                    zero_count: self.zero_count.saturating_add(new.zero_count),
                    positive: pos.0.add(&pos.1),
                    negative: neg.0.add(&neg.1),
                    count: self.count.saturating_add(new.count),
                    sum_bits: match (self.sum_bits, new.sum_bits) {
                        (Some(a), Some(b)) => {
                            Some((f64::from_bits(a) + f64::from_bits(b)).to_bits())
                        }
                        (a, b) => a.or(b),
                    },
                };
            }
            scale -= 1;
        }
    }

    /// The buckets as explicit (upper bound, count) pairs in increasing bound order: negative
    /// buckets (`le` = their upper end, −base^i), the zero bucket (`le` = zero threshold), then
    /// positive buckets (`le` = base^(i+1)). Buckets whose bound overflows go to `+Inf`.
    fn explicit_buckets(&self) -> Vec<(f64, u64)> {
        let bound = |index: i64| -> f64 { (index as f64 * (-f64::from(self.scale)).exp2()).exp2() };
        let mut out =
            Vec::with_capacity(self.negative.counts.len() + self.positive.counts.len() + 1);
        for (k, &c) in self.negative.counts.iter().enumerate().rev() {
            let b = -bound(self.negative.offset + k as i64);
            if b.is_finite() {
                out.push((b, c));
            } else {
                // Below −f64::MAX: counted in the first finite bucket.
                out.push((f64::MIN, c));
            }
        }
        out.push((f64::from_bits(self.zero_threshold_bits), self.zero_count));
        for (k, &c) in self.positive.counts.iter().enumerate() {
            let b = bound(self.positive.offset + k as i64 + 1);
            if b.is_finite() {
                out.push((b, c));
            }
        }
        // Equal or out-of-order bounds (extreme offsets) fold into the previous bucket.
        let mut merged: Vec<(f64, u64)> = Vec::with_capacity(out.len());
        for (b, c) in out {
            match merged.last_mut() {
                Some(last) if b <= last.0 => last.1 = last.1.saturating_add(c),
                _ => merged.push((b, c)),
            }
        }
        merged
    }
}

/// A span validated and converted to column values.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_buckets_become_explicit_bounds() {
        // scale 0: base 2; positive offset 0 → buckets (1,2], (2,4]; negative offset 1 → [-4,-2).
        let h = ExpState {
            scale: 0,
            zero_threshold_bits: 0f64.to_bits(),
            zero_count: 1,
            positive: Dense {
                offset: 0,
                counts: vec![2, 3],
            },
            negative: Dense {
                offset: 1,
                counts: vec![4],
            },
            count: 10,
            sum_bits: None,
        };
        assert_eq!(
            h.explicit_buckets(),
            vec![(-2.0, 4), (0.0, 1), (2.0, 2), (4.0, 3)]
        );
    }

    #[test]
    fn delta_exponential_histograms_merge_at_the_coarser_scale() {
        let a = ExpState {
            scale: 1,
            zero_threshold_bits: 0,
            zero_count: 0,
            positive: Dense {
                offset: 0,
                counts: vec![1, 1, 1, 1],
            },
            negative: Dense::default(),
            count: 4,
            sum_bits: Some(1f64.to_bits()),
        };
        let b = ExpState {
            scale: 0,
            zero_threshold_bits: 0,
            zero_count: 2,
            positive: Dense {
                offset: 1,
                counts: vec![5],
            },
            negative: Dense::default(),
            count: 7,
            sum_bits: Some(2f64.to_bits()),
        };
        let m = a.merge(b);
        assert_eq!(m.scale, 0);
        // scale-1 indexes 0..4 → scale-0 indexes 0,0,1,1; plus 5 at index 1.
        assert_eq!(m.positive.offset, 0);
        assert_eq!(m.positive.counts, vec![2, 7]);
        assert_eq!(m.zero_count, 2);
        assert_eq!(m.count, 11);
        assert_eq!(m.sum_bits.map(f64::from_bits), Some(3.0));
    }

    #[test]
    fn colliding_label_names_join_values_in_key_order() {
        use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value};
        let kv = |k: &str, v: &str| KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(v.into())),
            }),
            ..Default::default()
        };
        let labels =
            sanitized_labels(&[kv("foo.bar", "b"), kv("foo_bar", "c"), kv("foo-bar", "a")]);
        assert_eq!(labels.get("foo_bar").map(String::as_str), Some("a;b;c"));
    }
}
