//! The symptom step: which metric names the window has, the symptom query (given, or built
//! from the first error-rate convention found: OpenTelemetry's HTTP server duration, then
//! `http_requests_total`), and its values on the grid with the spike `analysis::spike` finds
//! in them.

use std::collections::HashMap;

use crate::analysis::spike::{Direction, SpikeOutcome, SpikeParams, detect_directed};
use crate::model::{MetricType, Series};
use crate::report::{Symptom, SymptomCheck, Verdict};
use crate::source::Metrics;

use super::{Grid, InvestigateError, Options, SERVICE_LABELS, SymptomKind};

/// What the discovery step found: the window's metric names, their types, and the symptom.
pub(super) struct Discovery {
    pub(super) window_names: Vec<String>,
    pub(super) metadata: HashMap<String, MetricType>,
    /// The symptom: before [`measure`], the first query to examine; after it, the one that
    /// moved.
    pub(super) plan: SymptomPlan,
    /// The other symptom queries examined (`--symptom auto`'s latency, further
    /// `--symptom-query`s); after [`measure`], those not chosen.
    pub(super) others: Vec<SymptomPlan>,
}

impl Discovery {
    /// Every symptom query, the chosen one first.
    pub(super) fn plans(&self) -> impl Iterator<Item = &SymptomPlan> {
        std::iter::once(&self.plan).chain(&self.others)
    }

    /// [`Discovery::plans`], to change.
    pub(super) fn plans_mut(&mut self) -> impl Iterator<Item = &mut SymptomPlan> {
        std::iter::once(&mut self.plan).chain(self.others.iter_mut())
    }
}

/// The symptom query, built or given, and the metric names it is made of.
pub(super) struct SymptomPlan {
    /// What it measures: `errors`, `latency` (both auto-detected) or `query` (given).
    pub(super) kind: &'static str,
    pub(super) query: String,
    /// The metric an auto-detected symptom is made of (its samples' spacing is the scrape
    /// interval's evidence); `None` for a given query.
    pub(super) metric: Option<String>,
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
    // Without --candidate-match the window's names are all names: conventions not among them
    // need no label lookup.
    let present = opts
        .candidate_match
        .is_none()
        .then_some(window_names.as_slice());
    // The symptom's plan and the metric types at once.
    let (plans, metadata) = futures_util::future::join(
        plan_symptom(metrics, opts, rate_range, present),
        metrics.metadata(),
    )
    .await;
    let mut plans = plans?;
    if let (Some(service), false) = (&opts.service, opts.symptom_queries.is_empty()) {
        warnings.push(format!(
            "--service {service:?} does not narrow an explicit --symptom-query: put the service's matcher in the query"
        ));
    }
    let plan = plans.remove(0);
    let metadata = match metadata {
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
        others: plans,
    })
}

/// Each symptom query's values over the grid and its spike; the one that moved (first, when
/// several did) becomes `discovery.plan` and the report's symptom, with its onset, peak and
/// end as times, and the others are said in `also_examined`. Without a spike anywhere, the
/// first query stays the symptom.
pub(super) async fn measure(
    metrics: &Metrics,
    discovery: &mut Discovery,
    opts: &Options,
    grid: &Grid,
    warnings: &mut Vec<String>,
) -> Result<(Symptom, Vec<f64>), InvestigateError> {
    let mut measured: Vec<(SpikeOutcome, Vec<f64>)> = Vec::new();
    // Every symptom query at once; the answers read in order.
    let answers = futures_util::future::join_all(
        discovery
            .plans()
            .map(|plan| metrics.query_range(&plan.query, grid.start, grid.end, grid.step)),
    )
    .await;
    for ((i, plan), answer) in discovery.plans_mut().enumerate().zip(answers) {
        let series = match answer {
            Ok(s) => s,
            // An auto-detected alternative that cannot be read is said; the first query
            // and every given one must be read.
            Err(e) if i > 0 && plan.kind != "query" => {
                warnings.push(format!("symptom {} not read: {e}", plan.query));
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        let values = merge_symptom(&series, grid.start, grid.step, grid.len, warnings);
        let (baseline_part, window_part) = values.split_at(grid.window_start.min(grid.len));
        let outcome = detect_directed(
            baseline_part,
            window_part,
            &spike_params(plan.kind),
            opts.direction,
        );
        measured.push((outcome, values));
    }
    let onset = |o: &SpikeOutcome| match o {
        SpikeOutcome::Spike(s) => Some(s.onset_index),
        _ => None,
    };
    // The earliest onset; the first examined among equals.
    let chosen = measured
        .iter()
        .enumerate()
        .filter_map(|(i, (outcome, _))| onset(outcome).map(|o| (o, i)))
        .min()
        .map_or(0, |(_, i)| i);
    if chosen > 0 {
        // The chosen one first, the rest in the order examined.
        std::mem::swap(&mut discovery.plan, &mut discovery.others[chosen - 1]);
        discovery.others[..chosen].rotate_right(1);
        measured[..=chosen].rotate_right(1);
    }
    let mut measured = measured.into_iter();
    let (outcome, values) = measured.next().expect("one symptom at least");
    let mut symptom = symptom_report(&discovery.plan, opts, &outcome, values.clone());
    if let SpikeOutcome::Spike(s) = &outcome {
        symptom.set_times(
            Some(grid.window_at(s.onset_index)),
            Some(grid.window_at(s.peak_index)),
            s.end_index.map(|i| grid.window_at(i)),
        );
    }
    for (plan, (outcome, values)) in discovery.others.iter().zip(measured) {
        let other = symptom_report(plan, opts, &outcome, values);
        symptom.also_examined.push(SymptomCheck {
            query: other.query,
            origin: other.origin,
            kind: other.kind,
            verdict: other.verdict,
            summary: other.summary,
            onset_unix: onset(&outcome).map(|i| grid.window_at(i)),
        });
    }
    symptom.why = why(&symptom);
    Ok((symptom, values))
}

/// How much a p99 latency must rise to be a spike: to twice its baseline median at least. A
/// histogram quantile sits on a bucket bound most of the time (its MAD is near zero) and
/// jumps into the next bucket whenever a few slow requests land in one step; tens of percent
/// are its ordinary noise. Error ratios and given queries keep the detector's defaults.
const LATENCY_MIN_RELATIVE_RISE: f64 = 1.0;

fn spike_params(kind: &str) -> SpikeParams {
    SpikeParams {
        min_relative_rise: if kind == "latency" {
            LATENCY_MIN_RELATIVE_RISE
        } else {
            0.0
        },
        ..SpikeParams::default()
    }
}

/// Why the symptom is the one chosen among those examined; `None` when only one was.
fn why(symptom: &Symptom) -> Option<String> {
    let others = &symptom.also_examined;
    if others.is_empty() {
        return None;
    }
    let name = |kind: &str, query: &str| match kind {
        "errors" => "the error ratio".to_string(),
        "latency" => "the p99 latency".to_string(),
        _ => query.to_string(),
    };
    let also_moved = others
        .iter()
        .filter(|o| o.verdict == Verdict::Spike)
        .count();
    let steady: Vec<String> = others
        .iter()
        .filter(|o| o.verdict != Verdict::Spike)
        .map(|o| name(&o.kind, &o.query))
        .collect();
    let this = name(&symptom.kind, &symptom.query);
    let mut why = match (symptom.verdict == Verdict::Spike, also_moved) {
        (true, 0) => format!("{this} moved"),
        (true, n) => format!(
            "{this} moved first ({n} other{} moved later)",
            if n == 1 { "" } else { "s" }
        ),
        (false, _) => format!("nothing examined moved; {this} is shown"),
    };
    if !steady.is_empty() && symptom.verdict == Verdict::Spike {
        why.push_str(&format!("; steady: {}", steady.join(", ")));
    }
    Some(why)
}

/// Builds the symptom queries: the ones given, or from the first convention found, its error
/// ratio and (`--symptom auto|latency`) the p99 of its latency histogram.
async fn plan_symptom(
    metrics: &Metrics,
    opts: &Options,
    range: &str,
    present: Option<&[String]>,
) -> Result<Vec<SymptomPlan>, InvestigateError> {
    if !opts.symptom_queries.is_empty() {
        return Ok(opts
            .symptom_queries
            .iter()
            .map(|(query, origin)| SymptomPlan {
                kind: "query",
                query: query.clone(),
                metric: None,
                origin: origin.clone(),
                error_selector: None,
                latency_selector: opts.latency_query.clone(),
                service_matcher: None,
            })
            .collect());
    }
    let start = opts.baseline_since;
    let end = opts.until;
    let errors_wanted = opts.symptom != SymptomKind::Latency;
    let latency_wanted = opts.symptom != SymptomKind::Errors;
    for c in CONVENTIONS {
        let (metric, status_labels, origin, latency) =
            (c.metric, c.status_labels, c.origin, c.latency);
        if present.is_some_and(|names| !names.iter().any(|n| n == metric)) {
            continue;
        }
        // The counter's labels and the histogram's at once.
        let (labels, histogram) = futures_util::future::join(
            metrics.label_names(metric, start, end),
            metrics.label_names(latency, start, end),
        )
        .await;
        let labels = labels?;
        let status = status_labels
            .iter()
            .find(|l| labels.iter().any(|x| x == *l));
        if labels.is_empty() || (status.is_none() && !latency_wanted) {
            continue;
        }
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
        let errors = status.map(|status| with(&format!("{status}{}", c.error_match)));
        let all = with("");
        let all = if all == "{}" { String::new() } else { all };
        let histogram = histogram?;
        let has_histogram = !histogram.is_empty() && histogram.iter().any(|l| l == "le");
        if !has_histogram && status.is_none() {
            continue;
        }
        let latency_selector = match &opts.latency_query {
            Some(q) => Some(q.clone()),
            None => has_histogram.then(|| format!("{latency}{all}")),
        };
        // Histogram exemplars live on the `_bucket` series, a counter's on the counter.
        let error_selector = errors
            .as_ref()
            .map(|errors| match metric.strip_suffix("_count") {
                Some(family) if latency.ends_with("_bucket") => format!("{family}_bucket{errors}"),
                _ => format!("{metric}{errors}"),
            });
        let plan = |kind: &'static str, query: String, origin: String| SymptomPlan {
            kind,
            query,
            metric: Some(metric.to_string()),
            origin,
            error_selector: error_selector.clone(),
            latency_selector: latency_selector.clone(),
            service_matcher: service_matcher.clone(),
        };
        let mut plans = Vec::new();
        if let (Some(errors), true) = (&errors, errors_wanted) {
            // No error series until the first error (OpenTelemetry creates none): zero, not
            // missing, wherever there were requests.
            let query = format!(
                "(sum(rate({metric}{errors}[{range}])) or vector(0)) / sum(rate({metric}{all}[{range}]))"
            );
            plans.push(plan("errors", query, origin.to_string()));
        }
        if has_histogram && latency_wanted {
            let query =
                format!("histogram_quantile(0.99, sum by (le) (rate({latency}{all}[{range}])))");
            plans.push(plan("latency", query, format!("{origin}:p99")));
        }
        if plans.is_empty() {
            continue;
        }
        return Ok(plans);
    }
    let (since, until) = (
        crate::report::Instant::from_unix(start).rfc3339.to_string(),
        crate::report::Instant::from_unix(end).rfc3339.to_string(),
    );
    Err(if opts.symptom == SymptomKind::Latency {
        InvestigateError::NoLatencyMetric { since, until }
    } else {
        InvestigateError::NoSymptomMetric { since, until }
    })
}

/// One way SDKs and exporters name request counts and their status.
struct Convention {
    /// The request counter (a histogram's `_count`, or a counter).
    metric: &'static str,
    /// Status labels, the first present is used.
    status_labels: &'static [&'static str],
    /// What makes a request failed, after the status label.
    error_match: &'static str,
    origin: &'static str,
    /// The latency histogram's bucket series (exemplars of slow requests).
    latency: &'static str,
}

const HTTP_5XX: &str = "=~\"5..\"";
/// gRPC status codes: 0 is OK; everything else failed.
const GRPC_FAILED: &str = "!=\"0\"";

/// Tried in order: OpenTelemetry's stable HTTP server convention, its pre-stable ones
/// (`http_server_duration` in milliseconds or seconds, `http.status_code`), RPC servers,
/// classic `http_requests_total`, then the client side of the same conventions.
const CONVENTIONS: [Convention; 9] = [
    Convention {
        metric: "http_server_request_duration_seconds_count",
        status_labels: &["http_response_status_code"],
        error_match: HTTP_5XX,
        origin: "auto:opentelemetry",
        latency: "http_server_request_duration_seconds_bucket",
    },
    Convention {
        metric: "http_server_duration_milliseconds_count",
        status_labels: &["http_status_code", "http_response_status_code"],
        error_match: HTTP_5XX,
        origin: "auto:opentelemetry-pre-stable",
        latency: "http_server_duration_milliseconds_bucket",
    },
    Convention {
        metric: "http_server_duration_seconds_count",
        status_labels: &["http_status_code", "http_response_status_code"],
        error_match: HTTP_5XX,
        origin: "auto:opentelemetry-pre-stable",
        latency: "http_server_duration_seconds_bucket",
    },
    Convention {
        metric: "http_server_duration_count",
        status_labels: &["http_status_code", "http_response_status_code"],
        error_match: HTTP_5XX,
        origin: "auto:opentelemetry-pre-stable",
        latency: "http_server_duration_bucket",
    },
    Convention {
        metric: "rpc_server_duration_milliseconds_count",
        status_labels: &["rpc_grpc_status_code"],
        error_match: GRPC_FAILED,
        origin: "auto:opentelemetry-rpc",
        latency: "rpc_server_duration_milliseconds_bucket",
    },
    Convention {
        metric: "http_requests_total",
        status_labels: &["code", "status"],
        error_match: HTTP_5XX,
        origin: "auto:http_requests_total",
        latency: "http_request_duration_seconds_bucket",
    },
    Convention {
        metric: "http_client_request_duration_seconds_count",
        status_labels: &["http_response_status_code"],
        error_match: HTTP_5XX,
        origin: "auto:opentelemetry-client",
        latency: "http_client_request_duration_seconds_bucket",
    },
    Convention {
        metric: "http_client_duration_milliseconds_count",
        status_labels: &["http_status_code", "http_response_status_code"],
        error_match: HTTP_5XX,
        origin: "auto:opentelemetry-client-pre-stable",
        latency: "http_client_duration_milliseconds_bucket",
    },
    Convention {
        metric: "rpc_client_duration_milliseconds_count",
        status_labels: &["rpc_grpc_status_code"],
        error_match: GRPC_FAILED,
        origin: "auto:opentelemetry-rpc-client",
        latency: "rpc_client_duration_milliseconds_bucket",
    },
];

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
        kind: plan.kind.to_string(),
        why: None,
        also_examined: Vec::new(),
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
            symptom.summary = match s.direction {
                Direction::Down => format!(
                    "drop: from a baseline of {} to a low of {}",
                    fmt_value(s.baseline),
                    fmt_value(s.peak)
                ),
                _ => format!(
                    "spike: from a baseline of {} to a peak of {}",
                    fmt_value(s.baseline),
                    fmt_value(s.peak)
                ),
            };
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
