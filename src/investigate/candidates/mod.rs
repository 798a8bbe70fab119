//! The candidates step: every metric name with samples in the window (less the symptom's own
//! families), typed and turned into a query comparable with the symptom — counters as rates,
//! histograms as p99, summaries at their 0.99 quantile, gauges as they are — plus the explicit
//! `--candidate`s, queried concurrently with at most `concurrency` in flight.
//!
//! When there are more names than `--max-candidates`, none is dropped by its name: a first pass
//! ([`score`]) scores every name with one small instant query, and the cap bounds only which
//! names are then fetched at full resolution — those near the symptom, those the first pass
//! could not score, then the most changed (docs/method.md, "Cluster-sized investigations").

mod score;

use std::collections::{BTreeSet, HashMap, HashSet};

use futures_util::StreamExt as _;

use crate::model::{MetricType, Series};
use crate::report::{CandidateStats, Symptom};
use crate::source::{Metrics, SourceError};

use super::symptom::{Discovery, promql_string};
use super::{Grid, Options, SERVICE_LABELS};

/// A query that returns more series than this is re-run aggregated by service, so that one
/// high-cardinality metric cannot drown the ranking (or the backend).
const MAX_SERIES_PER_QUERY: usize = 50;

/// One candidate query.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) metric: String,
    pub(super) query: String,
    /// The same query aggregated by service, for when `query` returns too many series.
    pub(super) aggregated: Option<String>,
    /// A `--candidate` given by hand: always fetched, never scored.
    pub(super) explicit: bool,
}

/// A candidate query and what it returned.
pub(super) type Fetched = (Plan, Result<Vec<Series>, SourceError>);

/// The queries to run: one per typed candidate metric name (all of them; [`fetch`] applies
/// `--max-candidates`), then the explicit candidates.
pub(super) fn plan(
    discovery: &Discovery,
    opts: &Options,
    rate_range: &str,
) -> (Vec<Plan>, CandidateStats) {
    let window_names = &discovery.window_names;
    let (excluded, other_services) = own_families(discovery, window_names);
    let stats = CandidateStats {
        metric_names: window_names.len(),
        excluded_symptom: excluded.len(),
        ..CandidateStats::default()
    };
    let service_label = resolve_service_label_for_candidates(opts);
    let mut plans: Vec<Plan> = Vec::new();
    let mut names: Vec<&String> = window_names
        .iter()
        .filter(|n| !excluded.contains(*n))
        .collect();
    names.sort();
    let known: HashSet<&str> = window_names.iter().map(String::as_str).collect();
    for name in names {
        let selector = match &other_services {
            Some((own, selector)) if own.contains(name) => selector.as_str(),
            _ => "",
        };
        if let Some(plan) = plan_candidate(
            name,
            selector,
            &known,
            &discovery.metadata,
            rate_range,
            service_label,
        ) {
            plans.push(plan);
        }
    }
    for query in &opts.candidates {
        plans.push(Plan {
            metric: query.clone(),
            query: query.clone(),
            aggregated: None,
            explicit: true,
        });
    }
    (plans, stats)
}

/// The symptom's own metrics: the families in its queries (every one examined) and the latency
/// histogram its exemplars come from (the same requests' errors and latency are the symptom,
/// not a cause). Returns the names excluded from the candidates and, with `--service`, the
/// families that stay candidates for the other services with the matcher that selects those.
fn own_families(
    discovery: &Discovery,
    window_names: &[String],
) -> (BTreeSet<String>, Option<(BTreeSet<String>, String)>) {
    let symptom = &discovery.plan;
    let mut own_text = String::new();
    for plan in discovery.plans() {
        own_text.push_str(&plan.query);
        own_text.push(' ');
        if let Some(latency) = &plan.latency_selector {
            own_text.push_str(latency);
            own_text.push(' ');
        }
    }
    let own = symptom_metric_names(&own_text, window_names);
    match &symptom.service_matcher {
        Some((label, service)) => (
            BTreeSet::new(),
            Some((own, format!("{label}!={}", promql_string(service)))),
        ),
        None => (own, None),
    }
}

/// Chooses the plans to fetch in full (all of them when the typed ones fit under
/// `--max-candidates`, else by the first pass), then runs them concurrently (a progress bar on
/// stderr when asked); the results in the order they finished.
pub(super) async fn fetch(
    metrics: &Metrics,
    plans: Vec<Plan>,
    grid: &Grid,
    opts: &Options,
    symptom: &Symptom,
    stats: &mut CandidateStats,
    warnings: &mut Vec<String>,
) -> Vec<Fetched> {
    let typed = plans.iter().filter(|p| !p.explicit).count();
    let plans = if typed > opts.max_candidates {
        let near = score::near_values(symptom, opts);
        score::select(metrics, plans, grid, opts, &near, stats, warnings).await
    } else {
        stats.fetched_names = typed;
        plans
    };
    stats.queries = plans.len();
    let progress = progress_bar(opts.progress, plans.len(), "querying candidates");
    let results: Vec<Fetched> = futures_util::stream::iter(plans.into_iter().map(|plan| {
        let progress = progress.clone();
        async move {
            let result = query_plan(metrics, &plan, grid.start, grid.end, grid.step).await;
            if let Some(p) = &progress {
                p.inc(1);
            }
            (plan, result)
        }
    }))
    .buffer_unordered(opts.concurrency.max(1))
    .collect()
    .await;
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    results
}

/// Metric names the symptom query is made of, with their histogram/summary family, so they are
/// not ranked as causes of themselves.
pub(super) fn symptom_metric_names(query: &str, names: &[String]) -> BTreeSet<String> {
    let words: BTreeSet<&str> = query
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| !w.is_empty())
        .collect();
    let families: BTreeSet<&str> = words.iter().map(|w| family(w)).collect();
    names
        .iter()
        .filter(|n| words.contains(n.as_str()) || families.contains(family(n)))
        .cloned()
        .collect()
}

/// The family name of a series name: without `_total`, `_count`, `_sum`, `_bucket`, `_created`.
fn family(name: &str) -> &str {
    for suffix in ["_total", "_count", "_sum", "_bucket", "_created"] {
        if let Some(base) = name.strip_suffix(suffix) {
            return base;
        }
    }
    name
}

fn resolve_service_label_for_candidates(opts: &Options) -> &str {
    opts.service_label.as_deref().unwrap_or(SERVICE_LABELS[0])
}

/// Chooses how to query one metric name so that its series is comparable with an error ratio:
/// counters as rates, histograms as p99, summaries at their 0.99 quantile, gauges as they are.
/// `matchers` (`""` or e.g. `service!="checkout"`) narrows the series queried.
pub(super) fn plan_candidate(
    name: &str,
    matchers: &str,
    names: &HashSet<&str>,
    metadata: &HashMap<String, MetricType>,
    range: &str,
    service_label: &str,
) -> Option<Plan> {
    if name.ends_with("_created") || name.starts_with("ALERTS") {
        return None;
    }
    let has = |n: String| names.contains(n.as_str());
    let type_of = |n: &str| {
        metadata
            .get(n)
            .or_else(|| metadata.get(family(n)))
            .copied()
            .unwrap_or(MetricType::Unknown)
    };
    let base = family(name);
    let by = |inner: &str| format!("sum by ({service_label}) ({inner})");
    let select = |extra: &str| {
        let inner: Vec<&str> = [matchers, extra]
            .into_iter()
            .filter(|m| !m.is_empty())
            .collect();
        if inner.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{}}}", inner.join(","))
        }
    };
    let series = select("");
    if let Some(base) = name.strip_suffix("_bucket") {
        let q = |rate: String| format!("histogram_quantile(0.99, {rate})");
        return Some(Plan {
            metric: name.to_string(),
            query: q(format!("rate({series}[{range}])")),
            aggregated: Some(q(format!(
                "sum by (le, {service_label}) (rate({series}[{range}]))"
            ))),
            explicit: false,
        })
        .filter(|_| !base.is_empty());
    }
    if (name.ends_with("_sum") || name.ends_with("_count"))
        && (has(format!("{base}_bucket")) || type_of(base) == MetricType::Summary)
    {
        // Part of a histogram or summary family, which is queried as a quantile instead.
        return None;
    }
    let kind = match type_of(name) {
        MetricType::Unknown
            if name.ends_with("_total") || name.ends_with("_count") || name.ends_with("_sum") =>
        {
            MetricType::Counter
        }
        other => other,
    };
    let (query, aggregated) = match kind {
        MetricType::Counter => {
            let rate = format!("rate({series}[{range}])");
            (rate.clone(), by(&rate))
        }
        MetricType::Summary => {
            let q = select("quantile=\"0.99\"");
            (q.clone(), format!("max by ({service_label}) ({q})"))
        }
        MetricType::Histogram | MetricType::GaugeHistogram => return None,
        _ => (series.clone(), by(&series)),
    };
    Some(Plan {
        metric: name.to_string(),
        query,
        aggregated: Some(aggregated),
        explicit: false,
    })
}

async fn query_plan(
    metrics: &Metrics,
    plan: &Plan,
    start: f64,
    end: f64,
    step: f64,
) -> Result<Vec<Series>, SourceError> {
    let series = metrics.query_range(&plan.query, start, end, step).await?;
    match &plan.aggregated {
        Some(aggregated) if series.len() > MAX_SERIES_PER_QUERY => {
            let mut series = metrics.query_range(aggregated, start, end, step).await?;
            // Keep the metric name: aggregation drops it.
            for s in &mut series {
                s.labels.insert("__name__".into(), plan.metric.clone());
            }
            Ok(series)
        }
        _ => Ok(series),
    }
}

fn progress_bar(enabled: bool, len: usize, what: &str) -> Option<indicatif::ProgressBar> {
    if !enabled || len == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} {what} {{pos}}/{{len}} {{wide_bar}}"
    )) {
        bar.set_style(style);
    }
    Some(bar)
}
