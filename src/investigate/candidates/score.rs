//! The first pass over every candidate name, for when there are more than `--max-candidates`:
//! one instant query per name asks the backend for six numbers per series — the maximum and
//! minimum in the window, and the maximum, minimum, mean and standard deviation in the baseline
//! — of the same expression the full fetch would range-query, on the same step. A name scores
//! how far its most changed series left its baseline range, in baseline standard deviations.
//! The cap then bounds the full fetches: names near the symptom first, then names the first
//! pass could not score (never skipped unseen while there is room), then the changed names by
//! score. Names whose every series stayed inside its baseline range are counted, not fetched.
//!
//! This does the queries and the bookkeeping; [`series_score`] is the whole statistic.

use std::collections::{BTreeSet, HashMap};

use futures_util::StreamExt as _;

use crate::model::Labels;
use crate::report::{CandidateStats, Symptom};
use crate::source::{Metrics, SourceError};

use super::super::{Grid, Options, SERVICE_LABELS};
use super::{Plan, progress_bar};

/// The label a score query tags each statistic with (removed again here).
const STAT_LABEL: &str = "__obs_stat";

/// Labels whose value ties a series to the symptom's service (or the node/pod it runs on).
const NEAR_LABELS: [&str; 6] = ["namespace", "pod", "node", "app", "container", "instance"];

/// A series present in the window but not in the baseline: new, so worth a look, but not more
/// than a clear move of an old series.
const NEW_SERIES_SCORE: f64 = 3.0;

/// Scores above this are clipped (a constant baseline makes any move infinitely many SDs).
const MAX_SCORE: f64 = 1e6;

/// The six statistics of one series (NaN = the backend returned none).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeriesStats {
    pub(crate) window_max: f64,
    pub(crate) window_min: f64,
    pub(crate) baseline_max: f64,
    pub(crate) baseline_min: f64,
    pub(crate) baseline_mean: f64,
    pub(crate) baseline_sd: f64,
}

impl Default for SeriesStats {
    fn default() -> Self {
        SeriesStats {
            window_max: f64::NAN,
            window_min: f64::NAN,
            baseline_max: f64::NAN,
            baseline_min: f64::NAN,
            baseline_mean: f64::NAN,
            baseline_sd: f64::NAN,
        }
    }
}

/// How far the series left its baseline range in the window, in baseline standard deviations
/// (0 when it stayed inside it): a step, a ramp or a burst beyond anything the baseline showed
/// scores high; a spiky series whose baseline already had spikes as large scores 0, however
/// spiky the window is.
pub(crate) fn series_score(s: &SeriesStats) -> f64 {
    if s.window_max.is_nan() || s.window_min.is_nan() {
        return 0.0;
    }
    if s.baseline_max.is_nan() || s.baseline_min.is_nan() {
        return NEW_SERIES_SCORE;
    }
    let level = s.baseline_mean.abs().max(s.window_max.abs()).max(1e-12);
    let scale = if s.baseline_sd.is_finite() {
        s.baseline_sd.max(1e-9 * level)
    } else {
        1e-9 * level
    };
    let up = (s.window_max - s.baseline_max) / scale;
    let down = (s.baseline_min - s.window_min) / scale;
    let score = up.max(down);
    if score.is_nan() || score <= 0.0 {
        0.0
    } else {
        score.min(MAX_SCORE)
    }
}

/// The instant query that returns the six statistics of `expr`, evaluated at the grid's end:
/// each as a subquery on the grid's step (or, for a plain selector, over its raw samples),
/// tagged with [`STAT_LABEL`], joined with `or`.
pub(crate) fn score_query(
    expr: &str,
    window_seconds: f64,
    baseline_seconds: f64,
    step: f64,
) -> String {
    let ms = |s: f64| format!("{}ms", (s * 1000.0).round().max(1.0) as u64);
    // A computed expression is read as a subquery on the step, its NaN steps dropped first
    // (`>= -Inf` is false for NaN only): a p99 of a sparse histogram is NaN wherever nothing
    // was observed, and one NaN step would make the baseline's mean and deviation NaN. A plain
    // selector (a gauge) is read raw, without a subquery: the same statistics of the scraped
    // samples, for a fraction of the backend's work.
    let (window, baseline) = if expr.contains('(') {
        (
            format!("(({expr}) >= -Inf)[{}:{}]", ms(window_seconds), ms(step)),
            format!(
                "(({expr}) >= -Inf)[{}:{}] offset {}",
                ms(baseline_seconds),
                ms(step),
                ms(window_seconds)
            ),
        )
    } else {
        (
            format!("{expr}[{}]", ms(window_seconds)),
            format!(
                "{expr}[{}] offset {}",
                ms(baseline_seconds),
                ms(window_seconds)
            ),
        )
    };
    let tag = |f: &str, range: &str, stat: &str| {
        format!("label_replace({f}({range}), \"{STAT_LABEL}\", \"{stat}\", \"\", \"\")")
    };
    [
        tag("max_over_time", &window, "wmax"),
        tag("min_over_time", &window, "wmin"),
        tag("max_over_time", &baseline, "bmax"),
        tag("min_over_time", &baseline, "bmin"),
        tag("avg_over_time", &baseline, "bavg"),
        tag("stddev_over_time", &baseline, "bsd"),
    ]
    .join(" or ")
}

/// The statistics per series of one score query's answer.
pub(crate) fn collect_stats(samples: Vec<(Labels, f64)>) -> HashMap<Labels, SeriesStats> {
    let mut out: HashMap<Labels, SeriesStats> = HashMap::new();
    for (mut labels, value) in samples {
        let Some(stat) = labels.remove(STAT_LABEL) else {
            continue;
        };
        let s = out.entry(labels).or_default();
        match stat.as_str() {
            "wmax" => s.window_max = value,
            "wmin" => s.window_min = value,
            "bmax" => s.baseline_max = value,
            "bmin" => s.baseline_min = value,
            "bavg" => s.baseline_mean = value,
            "bsd" => s.baseline_sd = value,
            _ => {}
        }
    }
    out
}

/// What the first pass learnt about one name.
#[derive(Debug, Clone, Copy)]
struct NameScore {
    /// The highest [`series_score`] of its series.
    score: f64,
    /// Whether a series carries one of the symptom's service, namespace, node or pod values.
    near: bool,
}

/// The label values that make a candidate "near" the symptom: its service (from `--service`
/// or the symptom's own), which candidates carry in a service label or in one of
/// [`NEAR_LABELS`].
pub(super) fn near_values(symptom: &Symptom, opts: &Options) -> BTreeSet<String> {
    symptom
        .service
        .iter()
        .chain(opts.service.iter())
        .filter(|s| !s.is_empty())
        .cloned()
        .collect()
}

fn is_near(labels: &Labels, near: &BTreeSet<String>, service_label: &str) -> bool {
    !near.is_empty()
        && labels.iter().any(|(k, v)| {
            (k == service_label
                || SERVICE_LABELS.contains(&k.as_str())
                || NEAR_LABELS.contains(&k.as_str()))
                && near.contains(v)
        })
}

/// Scores every typed plan with one instant query each, `concurrency` in flight, and returns
/// the plans to fetch in full: at most `--max-candidates` typed ones (near the symptom, then
/// unscored, then changed by score, then unchanged near ones), plus every explicit one.
/// Fills in the first-pass counts and warns about any name not fetched that changed or was
/// never scored.
pub(super) async fn select(
    metrics: &Metrics,
    plans: Vec<Plan>,
    grid: &Grid,
    opts: &Options,
    near: &BTreeSet<String>,
    stats: &mut CandidateStats,
    warnings: &mut Vec<String>,
) -> Vec<Plan> {
    let (explicit, typed): (Vec<Plan>, Vec<Plan>) = plans.into_iter().partition(|p| p.explicit);
    let window_first = grid.start + grid.window_start as f64 * grid.step;
    // Half a step off the grid on either side: subquery steps are aligned to the step, so each
    // range holds exactly the grid's window (or baseline) points, whichever end is inclusive.
    let window_seconds = (grid.end - window_first + grid.step / 2.0).max(grid.step / 2.0);
    let baseline_seconds = (window_first - grid.start).max(grid.step);
    let service_label = opts.service_label.as_deref().unwrap_or(SERVICE_LABELS[0]);

    let progress = progress_bar(opts.progress, typed.len(), "scoring candidates");
    let scores: Vec<(usize, Result<NameScore, SourceError>)> =
        futures_util::stream::iter(typed.iter().enumerate().map(|(i, plan)| {
            let progress = progress.clone();
            let query = score_query(&plan.query, window_seconds, baseline_seconds, grid.step);
            async move {
                let result = metrics
                    .query_instant(&query, grid.end)
                    .await
                    .map(|samples| {
                        let stats = collect_stats(samples);
                        NameScore {
                            score: stats.values().map(series_score).fold(0.0, f64::max),
                            near: stats.keys().any(|l| is_near(l, near, service_label)),
                        }
                    });
                if let Some(p) = &progress {
                    p.inc(1);
                }
                (i, result)
            }
        }))
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    if let Some(p) = progress {
        p.finish_and_clear();
    }

    // Priority classes, then score (highest first), then name: the same choice every run.
    let mut order: Vec<(u8, f64, usize)> = Vec::with_capacity(scores.len());
    let mut first_error: Option<String> = None;
    for (i, result) in scores {
        match result {
            Ok(s) => {
                stats.scored_names += 1;
                let class = match (s.near, s.score > 0.0) {
                    (true, true) => 0,
                    (false, true) => 2,
                    (true, false) => 3,
                    (false, false) => 4,
                };
                order.push((class, s.score, i));
            }
            Err(e) => {
                stats.score_failed += 1;
                first_error.get_or_insert_with(|| e.to_string());
                order.push((1, 0.0, i));
            }
        }
    }
    order.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.1.total_cmp(&a.1))
            .then_with(|| typed[a.2].metric.cmp(&typed[b.2].metric))
    });
    let mut take = vec![false; typed.len()];
    let mut fetched = 0usize;
    for &(class, _, i) in &order {
        let wanted = class < 4;
        if wanted && fetched < opts.max_candidates {
            take[i] = true;
            fetched += 1;
            stats.near_names += usize::from(class == 0 || class == 3);
        } else {
            match class {
                1 => stats.skipped_over_cap += 1,
                0 | 2 => stats.below_cap_names += 1,
                _ => stats.unchanged_names += 1,
            }
        }
    }
    stats.fetched_names = fetched;

    if let Some(e) = first_error {
        warnings.push(format!(
            "{} of {} candidate names could not be scored in the first pass (first error: {e}); they are fetched in full while --max-candidates allows",
            stats.score_failed,
            typed.len()
        ));
    }
    if stats.skipped_over_cap > 0 {
        warnings.push(format!(
            "{} candidate names were neither scored nor fetched: their first-pass query failed and all {} full fetches of --max-candidates were taken (raise the cap or narrow with --candidate-match)",
            stats.skipped_over_cap, opts.max_candidates
        ));
    }
    if stats.below_cap_names > 0 {
        warnings.push(format!(
            "{} candidate names left their baseline range but scored below the {} fetched in full (raise --max-candidates to rank them too)",
            stats.below_cap_names, opts.max_candidates
        ));
    }

    let mut out: Vec<Plan> = typed
        .into_iter()
        .zip(take)
        .filter_map(|(p, t)| t.then_some(p))
        .collect();
    out.extend(explicit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(wmax: f64, wmin: f64, bmax: f64, bmin: f64, mean: f64, sd: f64) -> SeriesStats {
        SeriesStats {
            window_max: wmax,
            window_min: wmin,
            baseline_max: bmax,
            baseline_min: bmin,
            baseline_mean: mean,
            baseline_sd: sd,
        }
    }

    #[test]
    fn a_move_beyond_the_baseline_range_scores_in_baseline_sds() {
        // Baseline 10 ± 1 (range 7..13); the window reaches 33: 20 SDs beyond the range.
        assert_eq!(series_score(&stats(33.0, 9.0, 13.0, 7.0, 10.0, 1.0)), 20.0);
        // A drop scores the same way.
        assert_eq!(series_score(&stats(12.0, 2.0, 13.0, 7.0, 10.0, 1.0)), 5.0);
    }

    #[test]
    fn a_spiky_series_whose_baseline_spiked_as_high_scores_zero() {
        // A sparse p99: mostly 0.1, spikes to 5 in the baseline and to 4.9 in the window.
        assert_eq!(series_score(&stats(4.9, 0.1, 5.0, 0.1, 0.3, 0.9)), 0.0);
    }

    #[test]
    fn constant_series_score_zero_unless_they_move() {
        assert_eq!(series_score(&stats(3.0, 3.0, 3.0, 3.0, 3.0, 0.0)), 0.0);
        assert_eq!(series_score(&stats(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)), 0.0);
        assert_eq!(
            series_score(&stats(4.0, 3.0, 3.0, 3.0, 3.0, 0.0)),
            MAX_SCORE
        );
    }

    #[test]
    fn new_series_score_moderately_and_missing_ones_zero() {
        let nan = f64::NAN;
        assert_eq!(
            series_score(&stats(1.0, 1.0, nan, nan, nan, nan)),
            NEW_SERIES_SCORE
        );
        assert_eq!(series_score(&stats(nan, nan, 1.0, 1.0, 1.0, 0.0)), 0.0);
    }

    #[test]
    fn the_score_query_asks_six_tagged_statistics_of_the_same_expression() {
        let q = score_query("rate(x_total[1m])", 6000.0, 3600.0, 30.0);
        assert_eq!(q.matches(" or ").count(), 5, "{q}");
        assert!(
            q.contains("max_over_time(((rate(x_total[1m])) >= -Inf)[6000000ms:30000ms])"),
            "{q}"
        );
        assert!(
            q.contains(
                "stddev_over_time(((rate(x_total[1m])) >= -Inf)[3600000ms:30000ms] offset 6000000ms)"
            ),
            "{q}"
        );
        for stat in ["wmax", "wmin", "bmax", "bmin", "bavg", "bsd"] {
            assert!(q.contains(&format!("\"{STAT_LABEL}\", \"{stat}\"")), "{q}");
        }
        promql_parser::parser::parse(&q).expect("valid PromQL");
        let raw = score_query(r#"temp{service!="a"}"#, 6000.0, 3600.0, 30.0);
        assert!(
            raw.contains(r#"min_over_time(temp{service!="a"}[3600000ms] offset 6000000ms)"#),
            "{raw}"
        );
        promql_parser::parser::parse(&raw).expect("valid PromQL");
    }

    #[test]
    fn nan_steps_of_a_computed_expression_do_not_poison_the_baseline() {
        // `abs(x / x)` is NaN wherever x is 0 (as a sparse histogram's p99 is where nothing was
        // observed) and 1 elsewhere: the baseline's mean and deviation are of the 1s.
        let samples: Vec<(i64, f64)> = (0..=120)
            .map(|i| (i * 30 * 1_000_000_000, if i % 3 == 0 { 0.0 } else { 5.0 }))
            .collect();
        let labels: Labels = [("__name__", "x"), ("service", "a")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut src =
            crate::promql::MemorySource(vec![crate::store::RawSeries { labels, samples }]);
        let q = score_query("abs(x / x)", 1200.0, 2400.0, 30.0);
        let crate::promql::Value::Vector(answer) =
            crate::promql::query_instant(&mut src, &q, 3600.0).expect("evaluates")
        else {
            panic!("not a vector: {q}");
        };
        let stats = collect_stats(
            answer
                .into_iter()
                .map(|s| ((*s.labels).clone(), s.value))
                .collect(),
        );
        let s = stats.values().next().expect("one series");
        assert_eq!(stats.len(), 1, "{stats:?}");
        assert_eq!(s.baseline_mean, 1.0, "{s:?}");
        assert_eq!(s.baseline_sd, 0.0, "{s:?}");
        assert_eq!((s.window_min, s.window_max), (1.0, 1.0), "{s:?}");
        assert_eq!(series_score(s), 0.0);
    }

    #[test]
    fn stats_are_grouped_by_series_without_the_tag() {
        let tagged = |series: &str, stat: &str, v: f64| {
            let mut l = Labels::new();
            l.insert("pod".into(), series.into());
            l.insert(STAT_LABEL.into(), stat.into());
            (l, v)
        };
        let got = collect_stats(vec![
            tagged("a", "wmax", 9.0),
            tagged("a", "bmax", 2.0),
            tagged("b", "wmax", 1.0),
        ]);
        assert_eq!(got.len(), 2);
        let a = got
            .iter()
            .find(|(l, _)| l.get("pod").map(String::as_str) == Some("a"))
            .map(|(_, s)| *s)
            .expect("series a");
        assert_eq!(a.window_max, 9.0);
        assert_eq!(a.baseline_max, 2.0);
        assert!(a.window_min.is_nan());
    }

    #[test]
    fn near_means_a_service_or_placement_label_holds_the_symptoms_value() {
        let near: BTreeSet<String> = ["checkout".to_string()].into();
        let mut l = Labels::new();
        l.insert("namespace".into(), "checkout".into());
        assert!(is_near(&l, &near, "service"));
        let mut l = Labels::new();
        l.insert("service".into(), "frontend".into());
        l.insert("instance".into(), "host:9100".into());
        assert!(!is_near(&l, &near, "service"));
        assert!(!is_near(&l, &BTreeSet::new(), "service"));
    }
}
