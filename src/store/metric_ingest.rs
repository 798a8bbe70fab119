//! OTLP metrics into Prometheus series, inside the writer's open transaction: names and labels
//! (the Collector's Prometheus exporter mapping), histograms as `_bucket{le}`/`_sum`/`_count`,
//! delta streams made cumulative, exemplars, and each sample handed to the series' open chunk.
//! It does not encode chunks (`samples.rs`) or keep delta totals' arithmetic (`delta.rs`).

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogramDataPoint, Gauge, HistogramDataPoint,
    NumberDataPoint, Sum, SummaryDataPoint, exemplar, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use rusqlite::{OptionalExtension, params};

use super::ExportMetricsServiceRequest;
use super::convert::{self, any_to_label, attributes, float_text, nanos};
use super::delta::{DeltaState, Dense, ExpState};
use super::ingest::{Ingest, Outcome, PointResult};
use super::promname::{FamilyKind, family_name, label_name};
use super::samples::stored_bits;
use super::series_ids::SeriesRef;
use crate::model::Labels;

/// `DataPointFlags.NO_RECORDED_VALUE_MASK`.
const NO_RECORDED_VALUE: u32 = 1;

impl Ingest<'_> {
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
                        Data::Gauge(Gauge { data_points, .. })
                        | Data::Sum(Sum { data_points, .. }) => {
                            for p in data_points {
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
                        labels: &labels,
                        extra: None,
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
            labels: &labels,
            extra: None,
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
            rows.push(Row {
                name: ctx.family.to_string(),
                labels: &labels,
                extra: Some(("quantile", float_text(q.quantile))),
                value: q.value,
            });
        }
        rows.push(Row {
            name: format!("{}_sum", ctx.family),
            labels: &labels,
            extra: None,
            value: p.sum,
        });
        rows.push(Row {
            name: format!("{}_count", ctx.family),
            labels: &labels,
            extra: None,
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
        let series = SeriesRef {
            name: &row.name,
            labels: row.labels,
            extra: row.extra.as_ref().map(|(k, v)| (*k, v.as_str())),
        };
        if let Some(id) = self.caches.series.get(&series) {
            return Ok(id);
        }
        let labels = series.labels();
        let json = serde_json::to_string(&labels).unwrap_or_default();
        let key = (row.name.as_str(), json);
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
        self.caches.series.insert(&series, labels, id);
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

/// One sample to store: the series' `__name__`, the point's labels and a label of the sample's
/// own (a bucket's `le`, a summary's `quantile`), which replaces a same-named point label.
struct Row<'a> {
    name: String,
    labels: &'a Labels,
    extra: Option<(&'static str, String)>,
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
fn histogram_rows<'a>(
    family: &str,
    labels: &'a Labels,
    buckets: &[(f64, u64)],
    count: u64,
    sum: Option<f64>,
) -> Vec<Row<'a>> {
    let mut rows = Vec::with_capacity(buckets.len() + 3);
    let mut cumulative = 0u64;
    let bucket_name = format!("{family}_bucket");
    for &(bound, c) in buckets {
        cumulative = cumulative.saturating_add(c);
        rows.push(Row {
            name: bucket_name.clone(),
            labels,
            extra: Some(("le", float_text(bound))),
            value: cumulative as f64,
        });
    }
    rows.push(Row {
        name: bucket_name,
        labels,
        extra: Some(("le", "+Inf".into())),
        value: count as f64,
    });
    if let Some(sum) = sum {
        rows.push(Row {
            name: format!("{family}_sum"),
            labels,
            extra: None,
            value: sum,
        });
    }
    rows.push(Row {
        name: format!("{family}_count"),
        labels,
        extra: None,
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

#[cfg(test)]
mod tests {
    use super::*;

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
