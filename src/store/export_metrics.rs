//! Stored metrics back as OTLP: each Prometheus family becomes the cumulative OTLP metric that
//! the store's own mapping (`metric_ingest.rs`, `promname.rs`) turns into exactly its series
//! again — counters as monotonic sums, gauges as gauges (or non-monotonic sums), `_bucket{le}`
//! with `_sum` and `_count` as explicit-bucket histograms, `{quantile}` with `_sum` and `_count`
//! as summaries, exemplars on the point nearest after them, staleness markers as
//! `NoRecordedValue` points. `job` and `instance` go back into the resource
//! (`service.namespace`/`service.name`, `service.instance.id`), `otel_scope_name`/`_version`
//! into the scope, every other label into the point's attributes.
//!
//! Exponential histograms were stored as explicit buckets, so they come back as such; delta
//! streams come back cumulative. Both are what the store holds, so storing the export again
//! gives the same series, samples and exemplars.

use std::collections::{BTreeMap, HashMap};

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, exemplar,
    metric::Data, number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use rusqlite::params;

use super::export::{ExportWindow, unhex};
use super::promname::{FamilyKind, family_name};
use super::read::{STALE_NAN_BITS, Store};
use super::v1::key_values;
use super::{ExportMetricsServiceRequest, Payload, SqlContext as _, StoreError, gorilla, samples};
use crate::model::Labels;
use crate::model::trace::Attributes;

/// `DataPointFlags.NO_RECORDED_VALUE_MASK`.
const NO_RECORDED_VALUE: u32 = 1;

/// A family as `metric_families` describes it, with the OTLP shape it goes back to.
struct Family {
    name: String,
    shape: Shape,
    otel_name: String,
    unit: String,
    help: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Gauge,
    Counter,
    UpDownCounter,
    Histogram,
    Summary,
}

/// One stored series of a stream: `__name__`, its `le` or `quantile` label if any, samples.
type Part = (String, Option<String>, Vec<(i64, u64)>);

/// One stream: the series of a family that share their labels but `__name__`, `le` and
/// `quantile`, each with its samples (unix ns, value bits).
#[derive(Default)]
struct Stream {
    /// (`__name__`, `le` or `quantile` label if any, samples).
    parts: Vec<Part>,
    exemplars: Vec<Exemplar>,
}

/// One data point of a family, before it is put into a request.
enum Point {
    Number(NumberDataPoint),
    Histogram(HistogramDataPoint),
    Summary(SummaryDataPoint),
}

impl Point {
    fn time(&self) -> u64 {
        match self {
            Point::Number(p) => p.time_unix_nano,
            Point::Histogram(p) => p.time_unix_nano,
            Point::Summary(p) => p.time_unix_nano,
        }
    }

    fn exemplars(&mut self) -> Option<&mut Vec<Exemplar>> {
        match self {
            Point::Number(p) => Some(&mut p.exemplars),
            Point::Histogram(p) => Some(&mut p.exemplars),
            Point::Summary(_) => None,
        }
    }
}

impl Store {
    pub(super) fn export_metrics<E: From<StoreError>>(
        &self,
        window: ExportWindow,
        batch: usize,
        emit: &mut dyn FnMut(Payload) -> Result<(), E>,
    ) -> Result<(), E> {
        let p = self.path();
        let conn = self.connection();
        // One read transaction: every family is of the same commit while a sink writes.
        let tx = conn.unchecked_transaction().at(p)?;
        let families: Vec<Family> = conn
            .prepare("SELECT name, type, unit, help, otel_name FROM metric_families ORDER BY name")
            .at(p)?
            .query_map([], |r| {
                let name: String = r.get(0)?;
                let kind: String = r.get(1)?;
                let unit: String = r.get(2)?;
                let otel: String = r.get(4)?;
                Ok(family(name, &kind, unit, r.get(3)?, otel))
            })
            .at(p)?
            .collect::<Result<_, _>>()
            .at(p)?;
        let mut out = Batch::default();
        for fam in &families {
            let streams = self.streams(&fam.name, window)?;
            for (labels, stream) in streams {
                let (group, attributes) = split_labels(labels);
                for point in points(fam, stream, attributes) {
                    out.push(&group, fam, point);
                    if out.items >= batch {
                        emit(Payload::Metrics(out.take()))?;
                    }
                }
            }
        }
        if out.items > 0 {
            emit(Payload::Metrics(out.take()))?;
        }
        tx.commit().at(p)?;
        Ok(())
    }

    /// The family's streams with their samples and exemplars in `window`, in label order.
    fn streams(
        &self,
        family: &str,
        window: ExportWindow,
    ) -> Result<BTreeMap<Labels, Stream>, StoreError> {
        let p = self.path();
        let conn = self.connection();
        let corrupt = |message: String| StoreError::Corrupt {
            path: p.to_path_buf(),
            message,
        };
        let series: Vec<(i64, String)> = conn
            .prepare_cached(
                "SELECT id, labels FROM series
                 WHERE family = ?1 AND first_ts <= ?3 AND last_ts >= ?2 ORDER BY id",
            )
            .at(p)?
            .query_map(params![family, window.start, window.end], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .at(p)?
            .collect::<Result<_, _>>()
            .at(p)?;
        let mut streams: BTreeMap<Labels, Stream> = BTreeMap::new();
        for (id, labels) in series {
            let mut labels: Labels = serde_json::from_str(&labels)
                .map_err(|e| corrupt(format!("series {id}: labels: {e}")))?;
            let name = labels.remove("__name__").unwrap_or_default();
            let bound = labels.remove("le").or_else(|| labels.remove("quantile"));
            let mut samples = Vec::new();
            for chunk in samples::chunks_in_window(conn, id, window.start, window.end).at(p)? {
                let decoded = gorilla::decode(&chunk.data)
                    .map_err(|e| corrupt(format!("sample chunk {}: {e}", chunk.id)))?;
                samples.extend(
                    decoded
                        .into_iter()
                        .filter(|(t, _)| (window.start..=window.end).contains(t)),
                );
            }
            let stream = streams.entry(labels).or_default();
            stream.exemplars.extend(self.series_exemplars(id, window)?);
            if !samples.is_empty() {
                stream.parts.push((name, bound, samples));
            }
        }
        streams.retain(|_, s| !s.parts.is_empty());
        for s in streams.values_mut() {
            s.exemplars.sort_by_key(|e| e.time_unix_nano);
        }
        Ok(streams)
    }

    fn series_exemplars(&self, id: i64, window: ExportWindow) -> Result<Vec<Exemplar>, StoreError> {
        let p = self.path();
        let rows: Vec<(i64, Option<f64>, String, String, String)> = self
            .connection()
            .prepare_cached(
                "SELECT ts, value, trace_id, span_id, attributes FROM exemplars
                 WHERE series_id = ?1 AND ts >= ?2 AND ts <= ?3 ORDER BY ts, id",
            )
            .at(p)?
            .query_map(params![id, window.start, window.end], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .at(p)?
            .collect::<Result<_, _>>()
            .at(p)?;
        rows.into_iter()
            .map(|(ts, value, trace, span, attrs)| {
                let attrs: Attributes =
                    serde_json::from_str(&attrs).map_err(|e| StoreError::Corrupt {
                        path: p.to_path_buf(),
                        message: format!("exemplar attributes of series {id}: {e}"),
                    })?;
                Ok(Exemplar {
                    filtered_attributes: key_values(&attrs),
                    time_unix_nano: ts.max(0) as u64,
                    span_id: unhex(Some(&span)),
                    trace_id: unhex(Some(&trace)),
                    value: Some(exemplar::Value::AsDouble(value.unwrap_or(f64::NAN))),
                })
            })
            .collect()
    }
}

/// The OTLP shape, name and unit that map back to the family `name`: the OTLP name and unit
/// it was stored from when they do (a gauge with unit `1` that got no `_ratio` was a
/// non-monotonic sum), else the family name itself with no unit.
fn family(name: String, kind: &str, unit: String, help: String, otel_name: String) -> Family {
    let candidates: &[(Shape, FamilyKind)] = match kind {
        "counter" => &[(Shape::Counter, FamilyKind::Counter)],
        "histogram" => &[(Shape::Histogram, FamilyKind::Histogram)],
        "summary" => &[(Shape::Summary, FamilyKind::Summary)],
        _ => &[
            (Shape::Gauge, FamilyKind::Gauge),
            (Shape::UpDownCounter, FamilyKind::UpDownCounter),
        ],
    };
    for &(shape, k) in candidates {
        if family_name(&otel_name, &unit, k) == name {
            return Family {
                name,
                shape,
                otel_name,
                unit,
                help,
            };
        }
    }
    Family {
        otel_name: name.clone(),
        name,
        shape: candidates[0].0,
        unit: String::new(),
        help,
    }
}

/// (job, instance, scope name, scope version): the resource and scope a stream goes under.
type Group = (String, String, String, String);

/// Takes the resource- and scope-derived labels out of a stream's labels (when not empty:
/// only non-empty ones come from there); the rest become the point's attributes.
fn split_labels(mut labels: Labels) -> (Group, Vec<KeyValue>) {
    let mut take = |k: &str| match labels.get(k) {
        Some(v) if !v.is_empty() => labels.remove(k).unwrap_or_default(),
        _ => String::new(),
    };
    let group = (
        take("job"),
        take("instance"),
        take("otel_scope_name"),
        take("otel_scope_version"),
    );
    let attributes = labels.into_iter().map(|(k, v)| string_kv(&k, v)).collect();
    (group, attributes)
}

fn string_kv(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value)),
        }),
        ..KeyValue::default()
    }
}

fn resource_of(job: &str, instance: &str) -> Resource {
    let mut attributes = Vec::new();
    if !job.is_empty() {
        // `job` is `service.namespace/service.name`, or the name alone: any split at a `/`
        // with both sides non-empty joins back to the same `job`.
        match job.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
                attributes.push(string_kv("service.namespace", ns.to_string()));
                attributes.push(string_kv("service.name", name.to_string()));
            }
            _ => attributes.push(string_kv("service.name", job.to_string())),
        }
    }
    if !instance.is_empty() {
        attributes.push(string_kv("service.instance.id", instance.to_string()));
    }
    Resource {
        attributes,
        ..Resource::default()
    }
}

fn parse_bound(s: &str) -> f64 {
    match s {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().unwrap_or(f64::NAN),
    }
}

fn is_stale(bits: u64) -> bool {
    bits == STALE_NAN_BITS
}

/// A stream's points in time order, exemplars attached to the first point at or after them
/// (the last point for later ones).
fn points(fam: &Family, stream: Stream, attributes: Vec<KeyValue>) -> Vec<Point> {
    let Stream { parts, exemplars } = stream;
    let mut out: Vec<Point> = match fam.shape {
        Shape::Gauge | Shape::Counter | Shape::UpDownCounter => parts
            .into_iter()
            .flat_map(|(_, _, samples)| samples)
            .map(|(t, bits)| {
                let stale = is_stale(bits);
                Point::Number(NumberDataPoint {
                    attributes: attributes.clone(),
                    start_time_unix_nano: 0,
                    time_unix_nano: t.max(0) as u64,
                    exemplars: Vec::new(),
                    flags: if stale { NO_RECORDED_VALUE } else { 0 },
                    // A value on a marker too (NaN): OTLP/JSON readers drop a point
                    // without one before they look at its flags.
                    value: Some(number_data_point::Value::AsDouble(if stale {
                        f64::NAN
                    } else {
                        f64::from_bits(bits)
                    })),
                })
            })
            .collect(),
        Shape::Histogram => histogram_points(parts, &fam.name, &attributes),
        Shape::Summary => summary_points(parts, &fam.name, &attributes),
    };
    out.sort_by_key(Point::time);
    let mut i = 0;
    for ex in exemplars {
        while i + 1 < out.len() && out[i].time() < ex.time_unix_nano {
            i += 1;
        }
        if let Some(list) = out.get_mut(i).and_then(Point::exemplars) {
            list.push(ex);
        }
    }
    out
}

/// Per timestamp: the `_bucket` series' values there (by bound), `_sum` and `_count`.
#[derive(Default)]
struct AtTime {
    bounds: Vec<(f64, u64)>,
    sum: Option<u64>,
    count: Option<u64>,
}

fn by_time(parts: Vec<Part>, family: &str) -> BTreeMap<i64, AtTime> {
    let sum_name = format!("{family}_sum");
    let mut at: BTreeMap<i64, AtTime> = BTreeMap::new();
    for (name, bound, samples) in parts {
        for (t, bits) in samples {
            let slot = at.entry(t).or_default();
            match &bound {
                Some(b) => slot.bounds.push((parse_bound(b), bits)),
                None if name == sum_name => slot.sum = Some(bits),
                None => slot.count = Some(bits),
            }
        }
    }
    for slot in at.values_mut() {
        slot.bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    at
}

fn histogram_points(parts: Vec<Part>, family: &str, attributes: &[KeyValue]) -> Vec<Point> {
    by_time(parts, family)
        .into_iter()
        .map(|(t, slot)| {
            let inf = slot
                .bounds
                .iter()
                .find(|b| b.0 == f64::INFINITY)
                .map(|b| b.1);
            let count_bits = slot.count.or(inf).unwrap_or(0);
            let stale = is_stale(count_bits);
            let count = f64::from_bits(count_bits) as u64;
            let mut explicit_bounds = Vec::new();
            let mut bucket_counts = Vec::new();
            let mut previous = 0u64;
            for &(bound, bits) in slot.bounds.iter().filter(|b| b.0.is_finite()) {
                let cumulative = f64::from_bits(bits) as u64;
                explicit_bounds.push(bound);
                bucket_counts.push(cumulative.saturating_sub(previous));
                previous = cumulative;
            }
            if !explicit_bounds.is_empty() {
                bucket_counts.push(count.saturating_sub(previous));
            }
            Point::Histogram(HistogramDataPoint {
                attributes: attributes.to_vec(),
                start_time_unix_nano: 0,
                time_unix_nano: t.max(0) as u64,
                count,
                sum: slot.sum.map(f64::from_bits),
                bucket_counts,
                explicit_bounds,
                exemplars: Vec::new(),
                flags: if stale { NO_RECORDED_VALUE } else { 0 },
                min: None,
                max: None,
            })
        })
        .collect()
}

fn summary_points(parts: Vec<Part>, family: &str, attributes: &[KeyValue]) -> Vec<Point> {
    by_time(parts, family)
        .into_iter()
        .map(|(t, slot)| {
            let count_bits = slot.count.unwrap_or(0);
            Point::Summary(SummaryDataPoint {
                attributes: attributes.to_vec(),
                start_time_unix_nano: 0,
                time_unix_nano: t.max(0) as u64,
                count: f64::from_bits(count_bits) as u64,
                sum: slot.sum.map_or(0.0, f64::from_bits),
                quantile_values: slot
                    .bounds
                    .iter()
                    .map(|&(quantile, bits)| ValueAtQuantile {
                        quantile,
                        value: f64::from_bits(bits),
                    })
                    .collect(),
                flags: if is_stale(count_bits) {
                    NO_RECORDED_VALUE
                } else {
                    0
                },
            })
        })
        .collect()
}

/// The request being filled: one resource per (job, instance), one scope per scope name and
/// version, one metric per family under it.
#[derive(Default)]
struct Batch {
    request: ExportMetricsServiceRequest,
    resources: HashMap<(String, String), usize>,
    scopes: HashMap<Group, usize>,
    items: usize,
}

impl Batch {
    fn take(&mut self) -> ExportMetricsServiceRequest {
        self.resources.clear();
        self.scopes.clear();
        self.items = 0;
        std::mem::take(&mut self.request)
    }

    fn push(&mut self, group: &Group, fam: &Family, point: Point) {
        let rms = &mut self.request.resource_metrics;
        let r = *self
            .resources
            .entry((group.0.clone(), group.1.clone()))
            .or_insert_with(|| {
                rms.push(ResourceMetrics {
                    resource: Some(resource_of(&group.0, &group.1)),
                    scope_metrics: Vec::new(),
                    schema_url: String::new(),
                });
                rms.len() - 1
            });
        let sms = &mut rms[r].scope_metrics;
        let s = *self.scopes.entry(group.clone()).or_insert_with(|| {
            sms.push(ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: group.2.clone(),
                    version: group.3.clone(),
                    attributes: Vec::new(),
                    dropped_attributes_count: 0,
                }),
                metrics: Vec::new(),
                schema_url: String::new(),
            });
            sms.len() - 1
        });
        let metrics = &mut sms[s].metrics;
        if metrics
            .last()
            .is_none_or(|m| m.name != fam.otel_name || m.unit != fam.unit)
        {
            metrics.push(empty_metric(fam));
        }
        let Some(data) = metrics.last_mut().and_then(|m| m.data.as_mut()) else {
            return;
        };
        match (data, point) {
            (Data::Gauge(g), Point::Number(p)) => g.data_points.push(p),
            (Data::Sum(s), Point::Number(p)) => s.data_points.push(p),
            (Data::Histogram(h), Point::Histogram(p)) => h.data_points.push(p),
            (Data::Summary(s), Point::Summary(p)) => s.data_points.push(p),
            _ => return,
        }
        self.items += 1;
    }
}

fn empty_metric(fam: &Family) -> Metric {
    let cumulative = AggregationTemporality::Cumulative as i32;
    let data = match fam.shape {
        Shape::Gauge => Data::Gauge(Gauge {
            data_points: Vec::new(),
        }),
        Shape::Counter | Shape::UpDownCounter => Data::Sum(Sum {
            data_points: Vec::new(),
            aggregation_temporality: cumulative,
            is_monotonic: fam.shape == Shape::Counter,
        }),
        Shape::Histogram => Data::Histogram(Histogram {
            data_points: Vec::new(),
            aggregation_temporality: cumulative,
        }),
        Shape::Summary => Data::Summary(Summary {
            data_points: Vec::new(),
        }),
    };
    Metric {
        name: fam.otel_name.clone(),
        description: fam.help.clone(),
        unit: fam.unit.clone(),
        metadata: Vec::new(),
        data: Some(data),
    }
}
