//! The symptom step: which metric names the window has, the symptom query (given, or built
//! from the first error-rate convention found: OpenTelemetry's HTTP server duration, then
//! `http_requests_total`), and its values on the grid with the spike `analysis::spike` finds
//! in them.

use std::collections::HashMap;

use crate::analysis::spike::{SpikeOutcome, SpikeParams, detect};
use crate::model::{MetricType, Series};
use crate::report::{Symptom, Verdict};
use crate::source::Metrics;

use super::{Grid, InvestigateError, Options, SERVICE_LABELS};

/// What the discovery step found: the window's metric names, their types, and the symptom.
pub(super) struct Discovery {
    pub(super) window_names: Vec<String>,
    pub(super) metadata: HashMap<String, MetricType>,
    pub(super) plan: SymptomPlan,
}

/// The symptom query, built or given, and the metric names it is made of.
pub(super) struct SymptomPlan {
    pub(super) query: String,
    pub(super) origin: String,
    /// Error-only selector whose exemplars point at failing requests.
    pub(super) error_selector: Option<String>,
    /// Latency histogram bucket selector whose exemplars point at slow requests.
    pub(super) latency_selector: Option<String>,
    /// `(label, service)` when `--service` narrowed the symptom: the symptom's metric families
    /// then stay candidates for every *other* service (an upstream service's errors or latency
    /// can be the cause).
    pub(super) service_matcher: Option<(String, String)>,
}

/// Discovery: which metric names exist (narrowed by `--candidate-match`), which of them make
/// the symptom, and the metric types (guessed from names when the backend has no metadata).
pub(super) async fn discover(
    metrics: &Metrics,
    opts: &Options,
    rate_range: &str,
    warnings: &mut Vec<String>,
) -> Result<Discovery, InvestigateError> {
    let window_names = metrics
        .metric_names(opts.candidate_match.as_deref(), opts.since, opts.until)
        .await?;
    let plan = plan_symptom(metrics, opts, rate_range).await?;
    if let (Some(service), Some(_)) = (&opts.service, &opts.error_query) {
        warnings.push(format!(
            "--service {service:?} does not narrow an explicit --error-query: put the service's matcher in the query"
        ));
    }
    let metadata = match metrics.metadata().await {
        Ok(m) => m,
        Err(e) => {
            warnings.push(format!("metric types guessed from names: {e}"));
            HashMap::new()
        }
    };
    Ok(Discovery {
        window_names,
        metadata,
        plan,
    })
}

/// The symptom's values over the grid and its spike (onset, peak and end as times).
pub(super) async fn measure(
    metrics: &Metrics,
    plan: &SymptomPlan,
    opts: &Options,
    grid: &Grid,
    warnings: &mut Vec<String>,
) -> Result<(Symptom, Vec<f64>), InvestigateError> {
    let series = metrics
        .query_range(&plan.query, grid.start, grid.end, grid.step)
        .await?;
    let values = merge_symptom(&series, grid.start, grid.step, grid.len, warnings);
    let (baseline_part, window_part) = values.split_at(grid.window_start.min(grid.len));
    let outcome = detect(baseline_part, window_part, &SpikeParams::default());
    let mut symptom = symptom_report(plan, opts, &outcome, values.clone());
    if let SpikeOutcome::Spike(s) = &outcome {
        symptom.set_times(
            Some(grid.window_at(s.onset_index)),
            Some(grid.window_at(s.peak_index)),
            s.end_index.map(|i| grid.window_at(i)),
        );
    }
    Ok((symptom, values))
}

/// Builds the symptom query: the one given, or the first error-rate metric found.
async fn plan_symptom(
    metrics: &Metrics,
    opts: &Options,
    range: &str,
) -> Result<SymptomPlan, InvestigateError> {
    if let Some((query, origin)) = &opts.error_query {
        return Ok(SymptomPlan {
            query: query.clone(),
            origin: origin.clone(),
            error_selector: None,
            latency_selector: opts.latency_query.clone(),
            service_matcher: None,
        });
    }
    let start = opts.baseline_since;
    let end = opts.until;
    // (metric, status labels, origin, latency histogram family)
    let conventions: [(&str, &[&str], &str, &str); 2] = [
        (
            "http_server_request_duration_seconds_count",
            &["http_response_status_code"],
            "auto:opentelemetry",
            "http_server_request_duration_seconds_bucket",
        ),
        (
            "http_requests_total",
            &["code", "status"],
            "auto:http_requests_total",
            "http_request_duration_seconds_bucket",
        ),
    ];
    for (metric, status_labels, origin, latency) in conventions {
        let labels = metrics.label_names(metric, start, end).await?;
        let Some(status) = status_labels
            .iter()
            .find(|l| labels.iter().any(|x| x == *l))
        else {
            continue;
        };
        let mut selector = String::new();
        let mut service_matcher = None;
        if let Some(service) = &opts.service {
            let label = match &opts.service_label {
                Some(l) => Some(l.as_str()),
                None => SERVICE_LABELS
                    .iter()
                    .copied()
                    .find(|l| labels.iter().any(|x| x == l)),
            };
            let Some(label) = label else {
                return Err(InvestigateError::NoServiceLabel {
                    service: service.clone(),
                    metric: metric.to_string(),
                    tried: SERVICE_LABELS.join(", "),
                });
            };
            selector = format!("{label}={}", promql_string(service));
            service_matcher = Some((label.to_string(), service.clone()));
        }
        let with = |extra: &str| {
            let parts: Vec<&str> = [selector.as_str(), extra]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            format!("{{{}}}", parts.join(","))
        };
        let errors = with(&format!("{status}=~\"5..\""));
        let all = with("");
        let all = if all == "{}" { String::new() } else { all };
        let query =
            format!("sum(rate({metric}{errors}[{range}])) / sum(rate({metric}{all}[{range}]))");
        let latency_selector = match &opts.latency_query {
            Some(q) => Some(q.clone()),
            None => {
                let present = metrics.label_names(latency, start, end).await?;
                (!present.is_empty()).then(|| format!("{latency}{all}"))
            }
        };
        return Ok(SymptomPlan {
            query,
            origin: origin.to_string(),
            error_selector: Some(format!("{metric}{errors}")),
            latency_selector,
            service_matcher,
        });
    }
    Err(InvestigateError::NoSymptomMetric {
        since: crate::report::Instant::from_unix(start).rfc3339.to_string(),
        until: crate::report::Instant::from_unix(end).rfc3339.to_string(),
    })
}

/// Quotes a value as a PromQL string literal.
pub(super) fn promql_string(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// The symptom should be one series; several (a query with `by`) are summed, which is what a
/// ratio of sums would give for counts and is said in a warning.
fn merge_symptom(
    series: &[Series],
    start: f64,
    step: f64,
    len: usize,
    warnings: &mut Vec<String>,
) -> Vec<f64> {
    match series {
        [] => vec![f64::NAN; len],
        [one] => one.on_grid(start, step, len),
        many => {
            warnings.push(format!(
                "the symptom query returned {} series; they were summed (aggregate it with sum() to choose yourself)",
                many.len()
            ));
            let grids: Vec<Vec<f64>> = many.iter().map(|s| s.on_grid(start, step, len)).collect();
            (0..len)
                .map(|i| {
                    let vals: Vec<f64> = grids
                        .iter()
                        .map(|g| g[i])
                        .filter(|v| v.is_finite())
                        .collect();
                    if vals.is_empty() {
                        f64::NAN
                    } else {
                        vals.iter().sum()
                    }
                })
                .collect()
        }
    }
}

fn symptom_report(
    plan: &SymptomPlan,
    opts: &Options,
    outcome: &SpikeOutcome,
    values: Vec<f64>,
) -> Symptom {
    let mut symptom = Symptom {
        query: plan.query.clone(),
        origin: plan.origin.clone(),
        service: opts.service.clone(),
        verdict: Verdict::NoData,
        summary: String::new(),
        baseline: None,
        threshold: None,
        peak: None,
        peak_at: None,
        peak_unix: None,
        onset: None,
        onset_unix: None,
        end: None,
        end_unix: None,
        values,
    };
    match outcome {
        SpikeOutcome::Spike(s) => {
            symptom.verdict = Verdict::Spike;
            symptom.baseline = Some(s.baseline);
            symptom.threshold = Some(s.threshold);
            symptom.peak = Some(s.peak);
            symptom.summary = format!(
                "spike: from a baseline of {} to a peak of {}",
                fmt_value(s.baseline),
                fmt_value(s.peak)
            );
        }
        SpikeOutcome::NoSpike {
            baseline,
            peak,
            threshold,
            reason,
        } => {
            symptom.verdict = Verdict::NoSpike;
            symptom.baseline = Some(*baseline);
            symptom.threshold = Some(*threshold);
            symptom.peak = Some(*peak);
            symptom.summary = format!("no spike in this window: {reason}");
        }
        SpikeOutcome::NoData { reason } => {
            symptom.summary = format!("no data for the symptom in this window: {reason}");
        }
    }
    symptom
}

/// Formats a symptom level: ratios as percentages, anything else as a number.
pub fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if (0.0..=1.0).contains(&v) {
        format!("{:.2}%", v * 100.0)
    } else {
        format!("{v:.4}")
    }
}
