//! How `obs query` shows a result: a table for an instant vector, one line per series for a
//! range, or Prometheus-API-like JSON (`{"resultType": …, "result": …}`), compact unless asked
//! to be pretty (a range over hundreds of series is megabytes; indenting it doubles that and
//! costs more than evaluating it). Pure: no I/O.

use comfy_table::{Cell, CellAlignment, ContentArrangement, LineStyle, Table, TableStyle};
use serde::Serialize;
use serde_json::{Value as Json, json};

use super::{Sample, Value, eval::fmt_labels};
use crate::model::Series;

/// A value as Prometheus's API writes it: a string, `NaN`, `+Inf`, `-Inf`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        v.to_string()
    }
}

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─')))
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// An instant query's result as text.
pub fn instant_text(value: &Value) -> String {
    match value {
        Value::Scalar(v) => format!("{}\n", format_value(*v)),
        Value::String(s) => format!("{s:?}\n"),
        Value::Vector(samples) if samples.is_empty() => "no series\n".into(),
        Value::Vector(samples) => {
            let mut t = table();
            t.set_header(["SERIES", "VALUE"]);
            for s in samples {
                t.add_row([
                    Cell::new(fmt_labels(&s.labels)),
                    Cell::new(format_value(s.value)).set_alignment(CellAlignment::Right),
                ]);
            }
            format!("{t}\n")
        }
    }
}

/// A range query's result as text: per series its number of points, min, max and last value.
pub fn range_text(series: &[Series]) -> String {
    if series.is_empty() {
        return "no series\n".into();
    }
    let mut t = table();
    t.set_header(["SERIES", "POINTS", "MIN", "MAX", "LAST"]);
    for s in series {
        let vals = s.points.iter().map(|p| p.1).filter(|v| !v.is_nan());
        let min = vals.clone().fold(f64::NAN, f64::min);
        let max = vals.fold(f64::NAN, f64::max);
        let last = s.points.last().map_or(f64::NAN, |p| p.1);
        let right = |v: f64| Cell::new(format_value(v)).set_alignment(CellAlignment::Right);
        t.add_row([
            Cell::new(fmt_labels(&s.labels)),
            Cell::new(s.points.len()).set_alignment(CellAlignment::Right),
            right(min),
            right(max),
            right(last),
        ]);
    }
    format!("{t}\n")
}

/// An instant query's result as the `data` of Prometheus's `/api/v1/query`.
pub fn instant_json(value: &Value, time: f64) -> Json {
    match value {
        Value::Scalar(v) => json!({"resultType": "scalar", "result": [time, format_value(*v)]}),
        Value::String(s) => json!({"resultType": "string", "result": [time, s]}),
        Value::Vector(samples) => json!({
            "resultType": "vector",
            "result": samples.iter().map(|Sample { labels, value }| json!({
                "metric": &**labels,
                "value": [time, format_value(*value)],
            })).collect::<Vec<_>>(),
        }),
    }
}

/// A range query's result as the `data` of Prometheus's `/api/v1/query_range`, serialised
/// straight from the series (no intermediate JSON tree).
pub fn range_json_text(series: &[Series], pretty: bool) -> serde_json::Result<String> {
    json_text(
        &Matrix {
            result_type: "matrix",
            result: series
                .iter()
                .map(|s| MatrixSeries {
                    metric: &s.labels,
                    values: Points(&s.points),
                })
                .collect(),
        },
        pretty,
    )
}

/// `value` as one line of compact JSON, or indented when `pretty`; ends with a newline.
pub fn json_text(value: &impl Serialize, pretty: bool) -> serde_json::Result<String> {
    let mut out = if pretty {
        serde_json::to_string_pretty(value)?
    } else {
        serde_json::to_string(value)?
    };
    out.push('\n');
    Ok(out)
}

#[derive(Serialize)]
struct Matrix<'a> {
    #[serde(rename = "resultType")]
    result_type: &'static str,
    result: Vec<MatrixSeries<'a>>,
}

#[derive(Serialize)]
struct MatrixSeries<'a> {
    metric: &'a crate::model::Labels,
    values: Points<'a>,
}

/// Points as Prometheus writes them: `[unix seconds, "value"]`.
struct Points<'a>(&'a [(f64, f64)]);

impl Serialize for Points<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (t, v) in self.0 {
            seq.serialize_element(&(t, format_value(*v)))?;
        }
        seq.end()
    }
}

/// A range query's result as the `data` of Prometheus's `/api/v1/query_range`.
pub fn range_json(series: &[Series]) -> Json {
    json!({
        "resultType": "matrix",
        "result": series.iter().map(|s| json!({
            "metric": s.labels,
            "values": s.points.iter().map(|(t, v)| json!([t, format_value(*v)])).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
