//! The Prometheus HTTP API client (also Mimir, Thanos, VictoriaMetrics and other
//! Prometheus-compatible backends): range queries, exemplars, metric names, label names and
//! metadata, converted to the model at this module's edge.
//!
//! API reference: <https://prometheus.io/docs/prometheus/latest/querying/api/>. Errors come back
//! as `{"status":"error","errorType":…,"error":…}`; their text is passed on unchanged, because it
//! is what a user searching for the message will find.

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::model::{Exemplar, Labels, MetricType, Series};
use crate::source::http::{HttpClient, SourceError, bytes_body::Body};

const BACKEND: &str = "prometheus";

#[derive(Debug, Clone)]
pub struct Prometheus {
    http: HttpClient,
}

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct QueryData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct MatrixEntry {
    metric: Labels,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
struct VectorEntry {
    metric: Labels,
    value: (f64, String),
}

#[derive(Deserialize)]
struct ExemplarSet {
    #[serde(rename = "seriesLabels")]
    series_labels: Labels,
    #[serde(default)]
    exemplars: Vec<RawExemplar>,
}

#[derive(Deserialize)]
struct RawExemplar {
    #[serde(default)]
    labels: Labels,
    value: String,
    timestamp: f64,
}

#[derive(Deserialize)]
struct TargetsData {
    #[serde(rename = "activeTargets", default)]
    active_targets: Vec<ActiveTarget>,
}

#[derive(Deserialize)]
struct ActiveTarget {
    #[serde(default)]
    labels: Labels,
    #[serde(rename = "scrapeInterval")]
    scrape_interval: Option<String>,
}

#[derive(Deserialize)]
struct MetadataEntry {
    #[serde(rename = "type")]
    kind: String,
}

impl Prometheus {
    pub fn new(http: HttpClient) -> Prometheus {
        Prometheus { http }
    }

    /// The configured client, for probes that ask more than the methods here.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    /// `/api/v1/query_range`: every series the expression returns, on the `start`/`step` grid.
    pub async fn query_range(
        &self,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<Series>, SourceError> {
        let path = "/api/v1/query_range";
        let data: QueryData = self
            .get(
                path,
                &[
                    ("query", promql.to_string()),
                    ("start", fmt_time(start)),
                    ("end", fmt_time(end)),
                    ("step", fmt_time(step)),
                ],
            )
            .await?;
        self.matrix(path, data)
    }

    /// `/api/v1/query` of `selector[range]` at `time`: the raw samples Prometheus holds for
    /// the selector in `[time - range, time]`, not the step grid of a range query.
    pub async fn raw_samples(
        &self,
        selector: &str,
        range_ms: i64,
        time: f64,
    ) -> Result<Vec<Series>, SourceError> {
        let path = "/api/v1/query";
        let data: QueryData = self
            .get(
                path,
                &[
                    ("query", format!("{selector}[{}ms]", range_ms.max(1))),
                    ("time", fmt_time(time)),
                ],
            )
            .await?;
        self.matrix(path, data)
    }

    /// `/api/v1/query` at `time`: the samples of an instant-vector expression (a scalar result
    /// is one sample without labels).
    pub async fn query_instant(
        &self,
        promql: &str,
        time: f64,
    ) -> Result<Vec<(Labels, f64)>, SourceError> {
        let path = "/api/v1/query";
        let data: QueryData = self
            .get(
                path,
                &[("query", promql.to_string()), ("time", fmt_time(time))],
            )
            .await?;
        let entries: Vec<VectorEntry> = match data.result_type.as_str() {
            "vector" => serde_json::from_value(data.result)
                .map_err(|e| self.decode_error(path, e.to_string()))?,
            "scalar" => {
                let value: (f64, String) = serde_json::from_value(data.result)
                    .map_err(|e| self.decode_error(path, e.to_string()))?;
                vec![VectorEntry {
                    metric: Labels::new(),
                    value,
                }]
            }
            other => {
                return Err(
                    self.decode_error(path, format!("expected a vector result, got {other:?}"))
                );
            }
        };
        entries
            .into_iter()
            .map(|entry| {
                let v = &entry.value.1;
                parse_sample(v).map(|v| (entry.metric, v)).ok_or_else(|| {
                    self.decode_error(path, format!("sample value {v:?} is not a number"))
                })
            })
            .collect()
    }

    /// `/api/v1/query_exemplars`: exemplars of the series an expression selects.
    pub async fn query_exemplars(
        &self,
        promql: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<Exemplar>, SourceError> {
        let path = "/api/v1/query_exemplars";
        let sets: Vec<ExemplarSet> = self
            .get(
                path,
                &[
                    ("query", promql.to_string()),
                    ("start", fmt_time(start)),
                    ("end", fmt_time(end)),
                ],
            )
            .await?;
        let mut out = Vec::new();
        for set in sets {
            for e in set.exemplars {
                let value = parse_sample(&e.value).ok_or_else(|| {
                    self.decode_error(
                        path,
                        format!("exemplar value {:?} is not a number", e.value),
                    )
                })?;
                out.push(Exemplar {
                    series_labels: set.series_labels.clone(),
                    labels: e.labels,
                    value,
                    timestamp: e.timestamp,
                });
            }
        }
        Ok(out)
    }

    /// `/api/v1/label/__name__/values`: metric names with samples in the window, optionally
    /// narrowed by a series selector.
    pub async fn metric_names(
        &self,
        matcher: Option<&str>,
        start: f64,
        end: f64,
    ) -> Result<Vec<String>, SourceError> {
        let mut query = vec![("start", fmt_time(start)), ("end", fmt_time(end))];
        if let Some(m) = matcher {
            query.push(("match[]", m.to_string()));
        }
        self.get("/api/v1/label/__name__/values", &query).await
    }

    /// `/api/v1/labels`: label names present on the series a selector matches in the window.
    pub async fn label_names(
        &self,
        matcher: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<String>, SourceError> {
        self.get(
            "/api/v1/labels",
            &[
                ("match[]", matcher.to_string()),
                ("start", fmt_time(start)),
                ("end", fmt_time(end)),
            ],
        )
        .await
    }

    /// `/api/v1/targets?state=active`: each active target's `job` and configured scrape
    /// interval in seconds (Prometheus 2.x reports `scrapeInterval`; targets without one, or
    /// with one that does not parse, are left out). Backends without a targets API (Mimir,
    /// Thanos, remote-written data) answer with an error, which callers treat as unknown.
    pub async fn scrape_intervals(&self) -> Result<Vec<(String, f64)>, SourceError> {
        let data: TargetsData = self
            .get("/api/v1/targets", &[("state", "active".to_string())])
            .await?;
        Ok(data
            .active_targets
            .into_iter()
            .filter_map(|t| {
                let job = t.labels.get("job").cloned().unwrap_or_default();
                let interval =
                    crate::timespec::parse_duration(t.scrape_interval.as_deref()?).ok()?;
                (!interval.is_zero()).then_some((job, interval.as_secs_f64()))
            })
            .collect())
    }

    /// `/api/v1/metadata`: the type of each metric family the server knows from scrapes.
    /// Backfilled or remote-written data may have none; callers fall back to names.
    pub async fn metadata(&self) -> Result<HashMap<String, MetricType>, SourceError> {
        let raw: HashMap<String, Vec<MetadataEntry>> = self.get("/api/v1/metadata", &[]).await?;
        Ok(raw
            .into_iter()
            .filter_map(|(name, entries)| {
                entries
                    .first()
                    .map(|e| (name, MetricType::from_prometheus(&e.kind)))
            })
            .collect())
    }

    /// A matrix result as series.
    fn matrix(&self, path: &str, data: QueryData) -> Result<Vec<Series>, SourceError> {
        if data.result_type != "matrix" {
            return Err(self.decode_error(
                path,
                format!("expected a matrix result, got {:?}", data.result_type),
            ));
        }
        let entries: Vec<MatrixEntry> = serde_json::from_value(data.result)
            .map_err(|e| self.decode_error(path, e.to_string()))?;
        entries
            .into_iter()
            .map(|entry| {
                let points = entry
                    .values
                    .into_iter()
                    .map(|(t, v)| {
                        parse_sample(&v).map(|v| (t, v)).ok_or_else(|| {
                            self.decode_error(path, format!("sample value {v:?} is not a number"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Series {
                    labels: entry.metric,
                    points,
                })
            })
            .collect()
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, SourceError> {
        let (status, body) = self.http.get(path, query).await?;
        self.decode(path, status, &body)
    }

    fn decode<T: DeserializeOwned>(
        &self,
        path: &str,
        status: u16,
        body: &Body,
    ) -> Result<T, SourceError> {
        let url = self.http.url(path);
        let envelope: Envelope<T> = match serde_json::from_slice(&body.0) {
            Ok(envelope) => envelope,
            Err(e) if (200..300).contains(&status) => {
                return Err(self.decode_error(path, format!("invalid JSON: {e}")));
            }
            // Proxies and gateways answer errors in HTML or plain text.
            Err(_) => {
                return Err(SourceError::Http {
                    backend: BACKEND,
                    url,
                    status,
                    body: body.snippet(),
                });
            }
        };
        if envelope.status == "success" {
            if let Some(data) = envelope.data {
                return Ok(data);
            }
            return Err(self.decode_error(path, "a success response without data".into()));
        }
        Err(SourceError::Api {
            backend: BACKEND,
            url,
            error_type: envelope
                .error_type
                .unwrap_or_else(|| format!("HTTP {status}")),
            error: envelope.error.unwrap_or_else(|| {
                format!("status {:?} without an error message", envelope.status)
            }),
        })
    }

    fn decode_error(&self, path: &str, reason: String) -> SourceError {
        SourceError::Decode {
            backend: BACKEND,
            url: self.http.url(path),
            reason,
        }
    }
}

/// Parses a Prometheus sample value: a decimal string, or `NaN`, `+Inf`, `-Inf`.
fn parse_sample(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// Formats unix seconds for the API without scientific notation or needless decimals.
fn fmt_time(t: f64) -> String {
    if t.fract() == 0.0 {
        format!("{}", t as i64)
    } else {
        format!("{t:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_values_include_special_floats() {
        assert_eq!(parse_sample("1.5"), Some(1.5));
        assert!(parse_sample("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_sample("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_sample("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_sample("abc"), None);
    }

    #[test]
    fn times_are_plain_decimals() {
        assert_eq!(fmt_time(1795238354.0), "1795238354");
        assert_eq!(fmt_time(1795238354.25), "1795238354.250");
    }
}
