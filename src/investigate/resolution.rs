//! Resolution from the data: the scrape interval (given, else read from Prometheus's targets
//! API for the symptom's jobs, else measured from the spacing of the symptom's raw samples —
//! offline, from the stored points), the step that follows from it (`--step` still wins), and
//! the `rate`/`increase` window derived the way Grafana's `$__rate_interval` is: at least four
//! scrape intervals, and at least a step plus a scrape interval, so every window holds enough
//! samples and consecutive windows overlap.
//!
//! Queries are written with the `$__rate_interval` placeholder ([`RATE_VAR`]) and resolved
//! here, once the interval is known.

use crate::report::Resolution;
use crate::source::Metrics;

use super::Options;

/// The placeholder symptom and candidate queries carry for their range, as in Grafana.
pub const RATE_VAR: &str = "$__rate_interval";

/// Scrape intervals people configure; a measured spacing within 10 % of one is that one.
const COMMON_INTERVALS: [f64; 17] = [
    0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0,
    900.0,
];

/// Probe windows for measuring the spacing, seconds.
const PROBE_WIDTHS: [f64; 5] = [10.0, 30.0, 120.0, 600.0, 3600.0];

/// Samples a probe window must hold for the spacing to be within 10 % (a window can hold one
/// sample more than its width over the spacing, when a sample sits on its edge).
const PRECISE_COUNT: f64 = 10.0;

/// Resolves the scrape interval, step and rate window. `probe` is the metric name whose
/// samples are spaced like the symptom's; without one the configured default stands.
pub(super) async fn resolve(
    metrics: &Metrics,
    opts: &Options,
    probe: Option<&str>,
    warnings: &mut Vec<String>,
) -> Resolution {
    let (scrape, scrape_origin) = match &opts.scrape_interval_origin {
        Some(origin) => (opts.scrape_interval, origin.clone()),
        None => match probe {
            Some(metric) => match measure(metrics, opts, metric).await {
                Ok(Some(found)) => found,
                Ok(None) => (
                    opts.scrape_interval,
                    format!("default: {metric} has too few samples to measure their spacing"),
                ),
                Err(e) => {
                    warnings.push(format!(
                        "scrape interval not measured ({e}); assumed {}s",
                        opts.scrape_interval
                    ));
                    (opts.scrape_interval, "default: not measurable".into())
                }
            },
            None => (
                opts.scrape_interval,
                "default: no symptom metric to measure".into(),
            ),
        },
    };
    let (step, step_origin) = if opts.step_explicit {
        (opts.step, "flag".to_string())
    } else if scrape > opts.step {
        (
            scrape,
            "the scrape interval (finer has no new samples)".into(),
        )
    } else {
        (opts.step, "auto: 200–400 points over the window".into())
    };
    let rate = rate_window(scrape, step);
    Resolution {
        scrape_interval_seconds: scrape,
        scrape_interval_origin: scrape_origin,
        step_seconds: step,
        step_origin,
        rate_window: format_range(rate),
        rate_window_seconds: rate.ceil(),
        rate_window_origin: "max(4 × scrape interval, step + scrape interval)".into(),
    }
}

/// Grafana's `$__rate_interval`: at least four scrapes, at least one step plus one scrape.
pub(super) fn rate_window(scrape: f64, step: f64) -> f64 {
    (4.0 * scrape).max(step + scrape)
}

/// The scrape interval of `metric`'s series: the targets API's when it names the jobs those
/// series come from and agrees with the data, else the samples' own spacing. `None` when the
/// series have too few samples to tell.
async fn measure(
    metrics: &Metrics,
    opts: &Options,
    metric: &str,
) -> Result<Option<(f64, String)>, crate::source::SourceError> {
    let span = (opts.until - opts.baseline_since).max(1.0);
    // Probe windows from short to long: the first in which every job's fullest window holds
    // enough samples for a precise spacing wins. Short windows first, because a series that
    // exists only for part of a long window would look sparser than it is.
    // Every probe (and the targets API) at once: one round trip instead of one per window;
    // the answers are then read in order, as if asked one after the other.
    let probes = PROBE_WIDTHS.map(|width| async move {
        let query = format!(
            "max by (job) (count_over_time({metric}[{}]))",
            format_range(width)
        );
        let start = (opts.baseline_since + width).min(opts.until);
        let step = (width / 2.0).max(span / 500.0);
        metrics.query_range(&query, start, opts.until, step).await
    });
    let (answers, targets) = futures_util::future::join(
        futures_util::future::join_all(probes),
        metrics.scrape_intervals(),
    )
    .await;
    let mut found: Option<(f64, Vec<(String, f64)>)> = None;
    for (width, series) in PROBE_WIDTHS.into_iter().zip(answers) {
        let series = series?;
        let per_job: Vec<(String, f64)> = series
            .iter()
            .map(|s| {
                let job = s.labels.get("job").cloned().unwrap_or_default();
                let most = s
                    .points
                    .iter()
                    .map(|(_, count)| *count)
                    .filter(|c| c.is_finite())
                    .fold(0.0, f64::max);
                (job, most)
            })
            .filter(|(_, most)| *most >= 2.0)
            .collect();
        if per_job.is_empty() {
            continue;
        }
        let fewest = per_job
            .iter()
            .map(|(_, most)| *most)
            .fold(f64::INFINITY, f64::min);
        // Data shorter than the window holds no more samples in a longer one: keep the
        // shortest window with the most samples.
        if found.as_ref().is_none_or(|(best, _)| fewest > *best) {
            found = Some((
                fewest,
                per_job
                    .into_iter()
                    .map(|(job, most)| (job, width / most))
                    .collect(),
            ));
        }
        if fewest >= PRECISE_COUNT {
            break;
        }
    }
    let Some((fewest, per_job)) = found else {
        return Ok(None);
    };
    let precise = fewest >= PRECISE_COUNT;
    // The slowest series decides: every window must hold enough of its samples.
    let Some(spacing) = per_job.iter().map(|(_, s)| *s).reduce(f64::max) else {
        return Ok(None);
    };
    let spacing = snap(spacing);
    let jobs: Vec<&str> = per_job
        .iter()
        .map(|(j, _)| j.as_str())
        .filter(|j| !j.is_empty())
        .collect();
    if let Ok(targets) = targets
        && !jobs.is_empty()
    {
        let configured: Vec<f64> = jobs
            .iter()
            .filter_map(|job| {
                targets
                    .iter()
                    .filter(|(j, _)| j == job)
                    .map(|(_, s)| *s)
                    .reduce(f64::max)
            })
            .collect();
        if configured.len() == jobs.len()
            && let Some(interval) = configured.into_iter().reduce(f64::max)
        {
            let names = jobs.join(", ");
            // Backfilled or relabelled data can carry a job whose target scrapes at another
            // rate: the data decides when the two disagree, if it holds enough samples to say.
            if !precise || (interval / spacing - 1.0).abs() <= 0.25 {
                return Ok(Some((
                    interval,
                    format!("prometheus targets API (job {names})"),
                )));
            }
            return Ok(Some((
                spacing,
                format!(
                    "spacing of {metric}'s samples (the targets API says {interval}s for job {names}, the data disagrees)"
                ),
            )));
        }
    }
    let origin = if precise {
        format!("spacing of {metric}'s samples")
    } else {
        format!("spacing of {metric}'s samples (few: {fewest} in the fullest probe window)")
    };
    Ok(Some((spacing, origin)))
}

/// A measured spacing within 10 % of a common interval is that interval; otherwise it is kept
/// to the millisecond.
pub(super) fn snap(spacing: f64) -> f64 {
    COMMON_INTERVALS
        .iter()
        .copied()
        .find(|c| (spacing / c - 1.0).abs() <= 0.1)
        .unwrap_or_else(|| (spacing * 1000.0).round() / 1000.0)
}

/// The metric a symptom query is made of, for measuring the spacing: the longest metric name
/// of the window that occurs in the query as a whole word.
pub(super) fn probe_metric<'a>(query: &str, names: &'a [String]) -> Option<&'a str> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    names
        .iter()
        .filter(|name| {
            query.match_indices(name.as_str()).any(|(i, _)| {
                let before = query[..i].chars().next_back();
                let after = query[i + name.len()..].chars().next();
                !before.is_some_and(is_word) && !after.is_some_and(is_word)
            })
        })
        .max_by_key(|name| name.len())
        .map(String::as_str)
}

/// `60s`, `2m`: a PromQL range literal for a number of seconds (rounded up to a second).
pub(super) fn format_range(seconds: f64) -> String {
    let s = (seconds.ceil() as u64).max(1);
    if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_window_follows_grafana() {
        // Grafana's $__rate_interval = max($__interval + scrape, 4 × scrape).
        assert_eq!(rate_window(1.0, 1.0), 4.0);
        assert_eq!(rate_window(1.0, 15.0), 16.0);
        assert_eq!(rate_window(15.0, 30.0), 60.0);
        assert_eq!(rate_window(0.5, 1.0), 2.0);
        assert_eq!(format_range(rate_window(15.0, 30.0)), "1m");
        assert_eq!(format_range(rate_window(0.5, 1.0)), "2s");
        assert_eq!(format_range(0.2), "1s");
    }

    #[test]
    fn spacing_snaps_to_configured_intervals_only_when_close() {
        assert_eq!(snap(1.0033), 1.0);
        assert_eq!(snap(0.498), 0.5);
        assert_eq!(snap(14.2), 15.0);
        assert_eq!(snap(7.0), 7.0);
        assert_eq!(snap(43.21234), 43.212);
    }

    #[test]
    fn probe_is_a_whole_metric_name_of_the_query() {
        let names = vec![
            "http_requests".to_string(),
            "http_requests_total".to_string(),
            "up".to_string(),
        ];
        let q = "sum(rate(http_requests_total{code=~\"5..\"}[$__rate_interval])) / sum(rate(http_requests_total[1m]))";
        assert_eq!(probe_metric(q, &names), Some("http_requests_total"));
        assert_eq!(probe_metric("sum(errors_total)", &names), None);
        assert_eq!(probe_metric("up == 0", &names), Some("up"));
    }
}
