//! OTLP/JSON metrics: find what `opentelemetry-proto`'s flattened oneofs silently dropped.
//!
//! `Metric.data`, `NumberDataPoint.value` and `Exemplar.value` are `#[serde(flatten)]` options;
//! serde turns an error inside a flattened option into `None` instead of failing. So
//! `"summary": {"dataPoints": [{"sum": "1.5"}]}` decodes as a metric with no data, and
//! `"asDouble": "NaN"` (valid proto3 JSON) as a point with no value. When decoding leaves such a
//! oneof unset, this module looks at the JSON: a key that was there means the client sent data
//! that must not vanish. Values the proto3 JSON mapping allows as strings (`"NaN"`,
//! `"Infinity"`, `"-Infinity"`, `"1.5"`) are repaired; anything else is a 400 naming the field.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, Gauge, Histogram, Metric, NumberDataPoint, Sum, Summary,
    exemplar, metric::Data, number_data_point,
};
use serde_json::Value;

use super::{DecodeError, Signal};

/// The OTLP fields that are 32-bit integers (enums, counts, flags, exponential-histogram
/// scale and offset). proto3 JSON accepts them as numbers or as strings; the serde types only
/// as numbers. Object keys in OTLP/JSON are always field names (attribute names are values
/// of `key`), so a key alone says which field a value is.
const INT32_FIELDS: &[&str] = &[
    "kind",
    "code",
    "flags",
    "severityNumber",
    "aggregationTemporality",
    "droppedAttributesCount",
    "droppedEventsCount",
    "droppedLinksCount",
    "scale",
    "offset",
];

/// `body` as JSON with what proto3 JSON allows but the serde types refuse rewritten: `null`
/// fields removed (null means "default"), and 32-bit integer fields written as decimal
/// strings turned into numbers. `None` when the body is not JSON or nothing needed rewriting.
pub(super) fn proto3_normalized(body: &[u8]) -> Option<Value> {
    fn walk(value: &mut Value, changed: &mut bool) {
        match value {
            Value::Object(map) => {
                let before = map.len();
                map.retain(|_, v| !v.is_null());
                *changed |= map.len() != before;
                for (key, v) in map.iter_mut() {
                    if INT32_FIELDS.contains(&key.as_str())
                        && let Value::String(text) = v
                        && let Ok(n) = text.parse::<i64>()
                    {
                        *v = Value::from(n);
                        *changed = true;
                    } else {
                        walk(v, changed);
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, changed);
                }
            }
            _ => {}
        }
    }
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let mut changed = false;
    walk(&mut value, &mut changed);
    changed.then_some(value)
}

/// True when some metric has no data, or some number point or exemplar has no value: the
/// only cases in which the JSON needs a second look. Cheap; no allocation.
pub(super) fn has_unset_oneof(request: &ExportMetricsServiceRequest) -> bool {
    metrics(request).any(|m| match &m.data {
        None => true,
        Some(Data::Gauge(Gauge { data_points })) | Some(Data::Sum(Sum { data_points, .. })) => {
            data_points
                .iter()
                .any(|p| p.value.is_none() || p.exemplars.iter().any(|e| e.value.is_none()))
        }
        Some(Data::Histogram(h)) => h
            .data_points
            .iter()
            .any(|p| p.exemplars.iter().any(|e| e.value.is_none())),
        Some(Data::ExponentialHistogram(h)) => h
            .data_points
            .iter()
            .any(|p| p.exemplars.iter().any(|e| e.value.is_none())),
        Some(Data::Summary(_)) => false,
    })
}

fn metrics(request: &ExportMetricsServiceRequest) -> impl Iterator<Item = &Metric> {
    request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
}

const DATA_KEYS: [&str; 5] = [
    "gauge",
    "sum",
    "histogram",
    "exponentialHistogram",
    "summary",
];

/// Repairs the values proto3 JSON allows as strings, or explains what was dropped.
pub(super) fn repair_or_explain(
    request: &mut ExportMetricsServiceRequest,
    body: &[u8],
) -> Result<(), DecodeError> {
    // The body decoded once already, so it is valid JSON.
    let tree: Value = serde_json::from_slice(body).map_err(|e| json_error(e.to_string()))?;
    for (r, rm) in request.resource_metrics.iter_mut().enumerate() {
        for (s, sm) in rm.scope_metrics.iter_mut().enumerate() {
            for (m, metric) in sm.metrics.iter_mut().enumerate() {
                let json = &tree["resourceMetrics"][r]["scopeMetrics"][s]["metrics"][m];
                let path = format!("resourceMetrics[{r}].scopeMetrics[{s}].metrics[{m}]");
                repair_metric(metric, json, &path)?;
            }
        }
    }
    Ok(())
}

fn json_error(reason: String) -> DecodeError {
    DecodeError::Json {
        message: Signal::Metrics.request_message(),
        reason,
    }
}

fn repair_metric(metric: &mut Metric, json: &Value, path: &str) -> Result<(), DecodeError> {
    let Some(data) = &mut metric.data else {
        for key in DATA_KEYS {
            let Some(value) = json.get(key).filter(|v| !v.is_null()) else {
                continue;
            };
            // Decode the same object without flatten in the way, to get serde's own error.
            let error = match key {
                "gauge" => serde_json::from_value::<Gauge>(value.clone()).err(),
                "sum" => serde_json::from_value::<Sum>(value.clone()).err(),
                "histogram" => serde_json::from_value::<Histogram>(value.clone()).err(),
                "exponentialHistogram" => {
                    serde_json::from_value::<ExponentialHistogram>(value.clone()).err()
                }
                _ => serde_json::from_value::<Summary>(value.clone()).err(),
            };
            let reason = match error {
                Some(e) => format!("{path}.{key}: {e}"),
                None => format!(
                    "{path}.{key}: could not be decoded (NaN and Infinity are accepted only as point and exemplar values and summary quantiles)"
                ),
            };
            return Err(json_error(reason));
        }
        return Ok(());
    };
    let (key, points_json) = match data {
        Data::Gauge(_) => ("gauge", &json["gauge"]["dataPoints"]),
        Data::Sum(_) => ("sum", &json["sum"]["dataPoints"]),
        Data::Histogram(_) => ("histogram", &json["histogram"]["dataPoints"]),
        Data::ExponentialHistogram(_) => (
            "exponentialHistogram",
            &json["exponentialHistogram"]["dataPoints"],
        ),
        Data::Summary(_) => return Ok(()),
    };
    let exemplar_lists: Vec<&mut Vec<Exemplar>> = match data {
        Data::Gauge(Gauge { data_points }) | Data::Sum(Sum { data_points, .. }) => {
            for (p, point) in data_points.iter_mut().enumerate() {
                repair_point(
                    point,
                    &points_json[p],
                    &format!("{path}.{key}.dataPoints[{p}]"),
                )?;
            }
            data_points.iter_mut().map(|p| &mut p.exemplars).collect()
        }
        Data::Histogram(h) => h.data_points.iter_mut().map(|p| &mut p.exemplars).collect(),
        Data::ExponentialHistogram(h) => {
            h.data_points.iter_mut().map(|p| &mut p.exemplars).collect()
        }
        Data::Summary(_) => Vec::new(),
    };
    for (p, exemplars) in exemplar_lists.into_iter().enumerate() {
        for (e, exemplar) in exemplars.iter_mut().enumerate() {
            if exemplar.value.is_some() {
                continue;
            }
            let at = format!("{path}.{key}.dataPoints[{p}].exemplars[{e}]");
            let json = &points_json[p]["exemplars"][e];
            exemplar.value = number_value(json, &at)?.map(|n| match n {
                Number::Double(d) => exemplar::Value::AsDouble(d),
                Number::Int(i) => exemplar::Value::AsInt(i),
            });
        }
    }
    Ok(())
}

fn repair_point(point: &mut NumberDataPoint, json: &Value, path: &str) -> Result<(), DecodeError> {
    if point.value.is_none() {
        point.value = number_value(json, path)?.map(|n| match n {
            Number::Double(d) => number_data_point::Value::AsDouble(d),
            Number::Int(i) => number_data_point::Value::AsInt(i),
        });
    }
    Ok(())
}

enum Number {
    Double(f64),
    Int(i64),
}

/// The `asDouble` / `asInt` of a point or exemplar that serde could not read: `None` when
/// neither key is there (a point without a value is the store's business), the repaired value
/// when proto3 JSON allows it, else an error naming the field.
fn number_value(json: &Value, path: &str) -> Result<Option<Number>, DecodeError> {
    if let Some(v) = json.get("asDouble").filter(|v| !v.is_null()) {
        let parsed = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => match s.as_str() {
                "NaN" => Some(f64::NAN),
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                other => other.trim().parse::<f64>().ok().filter(|d| d.is_finite()),
            },
            _ => None,
        };
        return match parsed {
            Some(d) => Ok(Some(Number::Double(d))),
            None => Err(json_error(format!(
                "{path}.asDouble: expected a number (or \"NaN\", \"Infinity\", \"-Infinity\"), found {v}"
            ))),
        };
    }
    if let Some(v) = json.get("asInt").filter(|v| !v.is_null()) {
        let parsed = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        return match parsed {
            Some(i) => Ok(Some(Number::Int(i))),
            None => Err(json_error(format!(
                "{path}.asInt: expected a 64-bit integer (a number or a decimal string), found {v}"
            ))),
        };
    }
    Ok(None)
}
