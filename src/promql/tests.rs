//! Evaluator tests on hand-built series; expected values worked out from Prometheus's rules.

use super::*;
use crate::store::STALE_NAN;

const S: i64 = 1_000_000_000;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn series(pairs: &[(&str, &str)], samples: &[(i64, f64)]) -> RawSeries {
    RawSeries {
        labels: labels(pairs),
        samples: samples.iter().map(|(t, v)| (t * S, *v)).collect(),
    }
}

/// A counter scraped every 15 s from t=0 to t=600, rising by 1 per second.
fn counter(instance: &str, slope: f64) -> RawSeries {
    let samples: Vec<(i64, f64)> = (0..=40)
        .map(|i| (i * 15, i as f64 * 15.0 * slope))
        .collect();
    series(
        &[
            ("__name__", "req_total"),
            ("instance", instance),
            ("job", "api"),
        ],
        &samples,
    )
}

fn instant(src: &mut MemorySource, q: &str, t: f64) -> Vec<Sample> {
    match query_instant(src, q, t) {
        Ok(Value::Vector(v)) => v,
        other => panic!("{q}: {other:?}"),
    }
}

fn one(src: &mut MemorySource, q: &str, t: f64) -> f64 {
    let v = instant(src, q, t);
    assert_eq!(v.len(), 1, "{q}: {v:?}");
    v[0].value
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn rate_of_a_steady_counter_is_its_slope_and_drops_the_name() {
    let mut src = MemorySource(vec![counter("a", 1.0)]);
    let v = instant(&mut src, "rate(req_total[1m])", 300.0);
    assert_eq!(v.len(), 1);
    assert!(close(v[0].value, 1.0), "{}", v[0].value);
    assert!(!v[0].labels.contains_key("__name__"));
    // Samples land exactly on both window edges: no extrapolation needed, increase = 60.
    assert!(close(one(&mut src, "increase(req_total[1m])", 300.0), 60.0));
}

#[test]
fn extrapolation_stops_at_half_a_gap_when_the_series_starts_inside_the_window() {
    // Samples at 100..=160 every 15 s; window [40, 160]: the start is 60 s away (> 1.1 × 15),
    // so Prometheus extrapolates only 7.5 s back; first value 100 → zero point 1500 s away.
    let mut src = MemorySource(vec![series(
        &[("__name__", "c_total")],
        &[
            (100, 100.0),
            (115, 115.0),
            (130, 130.0),
            (145, 145.0),
            (160, 160.0),
        ],
    )]);
    let got = one(&mut src, "increase(c_total[2m])", 160.0);
    // sampled 60 s, extrapolated to 67.5 s: 60 × 67.5 / 60.
    assert!(close(got, 67.5), "{got}");
}

#[test]
fn extrapolation_never_goes_below_a_counters_zero() {
    let mut src = MemorySource(vec![series(
        &[("__name__", "c_total")],
        &[(50, 1.0), (60, 11.0), (70, 21.0)],
    )]);
    // Window [10, 70]: to_start 40 s ≥ threshold 11 → half gap 5 s; zero point is 1 s before
    // the first sample, closer than… the threshold check uses the zero point first (2.x): 1 s.
    let got = one(&mut src, "increase(c_total[1m])", 70.0);
    assert!(close(got, 21.0), "{got}");
}

#[test]
fn counter_resets_are_added_back() {
    let mut src = MemorySource(vec![series(
        &[("__name__", "c_total")],
        &[(0, 10.0), (15, 20.0), (30, 5.0), (45, 15.0), (60, 25.0)],
    )]);
    // Raw increase 15 + reset 20 = 35 over exactly the window [0, 60].
    assert!(close(one(&mut src, "increase(c_total[1m])", 60.0), 35.0));
    // irate over the last two samples: (25 - 15) / 15.
    assert!(close(
        one(&mut src, "irate(c_total[1m])", 60.0),
        10.0 / 15.0
    ));
    // irate across a reset takes the new value as the increase.
    assert!(close(one(&mut src, "irate(c_total[1m])", 30.0), 5.0 / 15.0));
    // delta does not know about resets.
    assert!(close(one(&mut src, "delta(c_total[1m])", 60.0), 15.0));
}

#[test]
fn instant_selectors_look_back_five_minutes_and_stop_at_staleness() {
    let mut src = MemorySource(vec![
        series(&[("__name__", "g"), ("k", "old")], &[(0, 1.0)]),
        series(
            &[("__name__", "g"), ("k", "stale")],
            &[(0, 2.0), (30, STALE_NAN)],
        ),
    ]);
    assert_eq!(instant(&mut src, "g", 20.0).len(), 2);
    let v = instant(&mut src, "g", 300.0);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].labels["k"], "old");
    assert!(instant(&mut src, "g", 300.001).is_empty());
}

#[test]
fn offset_shifts_the_evaluation_time() {
    let mut src = MemorySource(vec![series(&[("__name__", "g")], &[(0, 1.0), (60, 2.0)])]);
    assert_eq!(one(&mut src, "g offset 1m", 90.0), 1.0);
    assert_eq!(one(&mut src, "g", 90.0), 2.0);
    assert_eq!(one(&mut src, "max_over_time(g[1m] offset 30s)", 90.0), 2.0);
    // @ pins the selector's time; offset applies on top of it.
    assert_eq!(one(&mut src, "g @ 30", 90.0), 1.0);
    assert_eq!(one(&mut src, "g @ 120 offset 60s", 0.0), 2.0);
    let out = query_range(&mut src, "g @ end()", 0.0, 60.0, 30.0).unwrap();
    assert_eq!(out[0].points, [(0.0, 2.0), (30.0, 2.0), (60.0, 2.0)]);
    let out = query_range(&mut src, "g @ start()", 0.0, 60.0, 30.0).unwrap();
    assert_eq!(out[0].points, [(0.0, 1.0), (30.0, 1.0), (60.0, 1.0)]);
}

#[test]
fn matchers_are_anchored_and_missing_labels_match_empty() {
    let mut src = MemorySource(vec![
        series(&[("__name__", "g"), ("code", "500")], &[(0, 1.0)]),
        series(&[("__name__", "g"), ("code", "200")], &[(0, 2.0)]),
        series(&[("__name__", "g")], &[(0, 3.0)]),
    ]);
    assert_eq!(instant(&mut src, r#"g{code=~"5.."}"#, 0.0).len(), 1);
    assert_eq!(instant(&mut src, r#"g{code=~"5"}"#, 0.0).len(), 0);
    assert_eq!(instant(&mut src, r#"g{code!~"5.."}"#, 0.0).len(), 2);
    assert_eq!(instant(&mut src, r#"g{code!="200"}"#, 0.0).len(), 2);
    assert_eq!(instant(&mut src, r#"g{code=""}"#, 0.0).len(), 1);
    assert_eq!(instant(&mut src, r#"{__name__=~"g|h"}"#, 0.0).len(), 3);
    assert!(instant(&mut src, "nope", 0.0).is_empty());
}

#[test]
fn aggregations_group_by_and_without() {
    let mut src = MemorySource(vec![
        series(&[("__name__", "g"), ("a", "x"), ("b", "1")], &[(0, 1.0)]),
        series(&[("__name__", "g"), ("a", "x"), ("b", "2")], &[(0, 3.0)]),
        series(&[("__name__", "g"), ("a", "y"), ("b", "1")], &[(0, 10.0)]),
    ]);
    let v = instant(&mut src, "sum by (a) (g)", 0.0);
    assert_eq!(v.len(), 2);
    assert_eq!(*v[0].labels, labels(&[("a", "x")]));
    assert_eq!(v[0].value, 4.0);
    let v = instant(&mut src, "avg without (b) (g)", 0.0);
    assert_eq!(*v[0].labels, labels(&[("a", "x")]));
    assert_eq!(v[0].value, 2.0);
    assert_eq!(one(&mut src, "count(g)", 0.0), 3.0);
    assert_eq!(one(&mut src, "min(g)", 0.0), 1.0);
    assert_eq!(one(&mut src, "max(g)", 0.0), 10.0);
    let v = instant(&mut src, "topk(1, g)", 0.0);
    assert_eq!(v[0].value, 10.0);
    assert_eq!(v[0].labels["__name__"], "g");
    let v = instant(&mut src, "topk by (a) (1, g)", 0.0);
    assert_eq!(v.iter().map(|s| s.value).collect::<Vec<_>>(), [3.0, 10.0]);
    let v = instant(&mut src, "bottomk(2, g)", 0.0);
    assert_eq!(v.iter().map(|s| s.value).collect::<Vec<_>>(), [1.0, 3.0]);
}

#[test]
fn binary_operators_match_one_to_one_with_on_and_ignoring() {
    let mut src = MemorySource(vec![
        series(
            &[("__name__", "err"), ("svc", "a"), ("code", "500")],
            &[(0, 2.0)],
        ),
        series(&[("__name__", "req"), ("svc", "a")], &[(0, 8.0)]),
        series(&[("__name__", "req"), ("svc", "b")], &[(0, 4.0)]),
    ]);
    let v = instant(&mut src, "err / on(svc) req", 0.0);
    assert_eq!(v.len(), 1);
    assert_eq!(*v[0].labels, labels(&[("svc", "a")]));
    assert_eq!(v[0].value, 0.25);
    let v = instant(&mut src, "err / ignoring(code) req", 0.0);
    assert_eq!(*v[0].labels, labels(&[("svc", "a")]));
    // No modifier: label sets differ (code), nothing matches.
    assert!(instant(&mut src, "err / req", 0.0).is_empty());
    // Comparison filters and keeps the name; bool gives 0/1 and drops it.
    let v = instant(&mut src, "req > 5", 0.0);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].labels["__name__"], "req");
    let v = instant(&mut src, "req > bool 5", 0.0);
    assert_eq!(v.iter().map(|s| s.value).collect::<Vec<_>>(), [1.0, 0.0]);
    assert!(!v[0].labels.contains_key("__name__"));
    // Scalar on the left of a comparison keeps the vector's value.
    assert_eq!(one(&mut src, "5 < req", 0.0), 8.0);
    assert_eq!(
        instant(&mut src, "req * 2", 0.0)
            .iter()
            .map(|s| s.value)
            .collect::<Vec<_>>(),
        [16.0, 8.0]
    );
    assert!(matches!(
        query_instant(&mut src, "1 + 2 * 3", 0.0),
        Ok(Value::Scalar(7.0))
    ));
    let err = query_instant(&mut src, "req / on() req", 0.0).map(|_| ());
    assert!(
        err.as_ref()
            .is_err_and(|e| e.to_string().contains("duplicate series")),
        "{err:?}"
    );
}

#[test]
fn group_left_and_group_right_copy_labels_from_the_one_side() {
    let mut src = MemorySource(vec![
        series(
            &[("__name__", "req"), ("svc", "a"), ("pod", "1")],
            &[(0, 2.0)],
        ),
        series(
            &[("__name__", "req"), ("svc", "a"), ("pod", "2")],
            &[(0, 6.0)],
        ),
        series(
            &[("__name__", "owner"), ("svc", "a"), ("team", "x")],
            &[(0, 2.0)],
        ),
    ]);
    let v = instant(&mut src, "req / on(svc) group_left(team) owner", 0.0);
    assert_eq!(v.len(), 2);
    assert_eq!(
        *v[0].labels,
        labels(&[("pod", "1"), ("svc", "a"), ("team", "x")])
    );
    assert_eq!(v.iter().map(|s| s.value).collect::<Vec<_>>(), [1.0, 3.0]);
    let v = instant(&mut src, "owner / on(svc) group_right req", 0.0);
    assert_eq!(*v[0].labels, labels(&[("pod", "1"), ("svc", "a")]));
    assert_eq!(
        v.iter().map(|s| s.value).collect::<Vec<_>>(),
        [1.0, 2.0 / 6.0]
    );
    // Without group_left the same match is an error, as in Prometheus.
    let err = query_instant(&mut src, "req / on(svc) owner", 0.0).map(|_| ());
    assert!(
        err.as_ref().is_err_and(|e| e
            .to_string()
            .contains("many-to-one matching must be explicit")),
        "{err:?}"
    );
}

#[test]
fn subqueries_evaluate_on_multiples_of_their_step() {
    let mut src = MemorySource(vec![series(
        &[("__name__", "g")],
        &[(0, 1.0), (60, 5.0), (120, 3.0), (180, 4.0)],
    )]);
    // At t=180: evaluations at 60, 120, 180 (multiples of 60 in [60, 180]).
    assert_eq!(one(&mut src, "max_over_time(g[2m:1m])", 180.0), 5.0);
    assert_eq!(one(&mut src, "count_over_time(g[2m:1m])", 180.0), 3.0);
    // At t=150 with a 45 s step: multiples of 45 in [30, 150] are 45, 90, 135 → 1, 5, 3.
    assert_eq!(one(&mut src, "sum_over_time(g[2m:45s])", 150.0), 9.0);
    assert_eq!(
        one(&mut src, "min_over_time((g * 2)[2m:1m] offset 1m)", 180.0),
        2.0
    );
}

#[test]
fn histogram_quantile_interpolates_inside_buckets_and_stops_below_inf() {
    let b = |le: &str, v: f64| series(&[("__name__", "h_bucket"), ("le", le)], &[(0, v)]);
    let mut src = MemorySource(vec![
        b("0.1", 10.0),
        b("0.5", 30.0),
        b("1", 40.0),
        b("+Inf", 40.0),
    ]);
    // rank 20 lies in (0.1, 0.5] holding 20: halfway.
    assert!(close(
        one(&mut src, "histogram_quantile(0.5, h_bucket)", 0.0),
        0.3
    ));
    // rank 40 = total: the highest finite bound.
    assert!(close(
        one(&mut src, "histogram_quantile(1, h_bucket)", 0.0),
        1.0
    ));
    let mut src = MemorySource(vec![b("0.1", 10.0), b("+Inf", 20.0)]);
    // rank 19 falls in the +Inf bucket: the highest finite bound.
    assert!(close(
        one(&mut src, "histogram_quantile(0.95, h_bucket)", 0.0),
        0.1
    ));
    let v = instant(&mut src, "histogram_quantile(0.5, h_bucket)", 0.0);
    assert!(v[0].labels.is_empty());
    // Without +Inf the quantile is NaN.
    let mut src = MemorySource(vec![b("0.1", 10.0)]);
    assert!(one(&mut src, "histogram_quantile(0.5, h_bucket)", 0.0).is_nan());
}

#[test]
fn functions_abs_clamp_label_replace() {
    let mut src = MemorySource(vec![series(
        &[("__name__", "g"), ("instance", "host-1:9090")],
        &[(0, -3.0)],
    )]);
    assert_eq!(one(&mut src, "abs(g)", 0.0), 3.0);
    assert_eq!(one(&mut src, "clamp(g, -1, 1)", 0.0), -1.0);
    assert_eq!(one(&mut src, "clamp_min(g, 0)", 0.0), 0.0);
    assert_eq!(one(&mut src, "clamp_max(g, -5)", 0.0), -5.0);
    let v = instant(
        &mut src,
        r#"label_replace(g, "host", "$1", "instance", "(.*):.*")"#,
        0.0,
    );
    assert_eq!(v[0].labels["host"], "host-1");
    assert_eq!(v[0].labels["__name__"], "g");
    assert!(matches!(
        query_instant(&mut src, "scalar(g) * 2", 0.0),
        Ok(Value::Scalar(-6.0))
    ));
}

#[test]
fn range_queries_evaluate_on_the_step_grid() {
    let mut src = MemorySource(vec![counter("a", 1.0), counter("b", 2.0)]);
    let out = query_range(&mut src, "rate(req_total[1m])", 120.0, 300.0, 60.0).unwrap();
    assert_eq!(out.len(), 2);
    let ts: Vec<f64> = out[0].points.iter().map(|p| p.0).collect();
    assert_eq!(ts, [120.0, 180.0, 240.0, 300.0]);
    assert!(out[1].points.iter().all(|p| close(p.1, 2.0)));
}

#[test]
fn unsupported_constructs_say_so() {
    let mut src = MemorySource::default();
    for (q, what) in [
        ("x[5m:1m] @ 100", "@ modifier on a subquery"),
        ("count_values(\"v\", x)", "aggregation `count_values`"),
        ("sort_desc(x)", "function `sort_desc`"),
    ] {
        let err = query_instant(&mut src, q, 0.0).map(|_| ());
        let msg = err
            .as_ref()
            .map_err(ToString::to_string)
            .err()
            .unwrap_or_default();
        assert!(
            msg.starts_with("not supported offline: ") && msg.contains(what),
            "{q}: {msg}"
        );
    }
    let err = query_instant(&mut src, "x[5m:1m]", 0.0).map(|_| ());
    assert!(err.is_err_and(|e| e.to_string().contains("subquery")));
    let err = query_range(&mut src, "x", 0.0, 86_400.0, 1.0).map(|_| ());
    assert!(err.is_err_and(|e| e.to_string().contains("maximum resolution of 11000 points")));
    let err = query_instant(&mut src, "rate(", 0.0).map(|_| ());
    assert!(err.is_err_and(|e| e.to_string().starts_with("invalid PromQL")));
}

#[test]
fn sample_windows_cover_each_selectors_range_lookback_and_offset_once() {
    let q = r#"sum(rate(req_total{job="api"}[5m])) / sum(rate(req_total{job="api"}[1m] offset 10m)) + up"#;
    let w = sample_windows(q, 1000.0, 2000.0).unwrap();
    let get = |sel: &str| w.iter().find(|x| x.0 == sel).map(|x| (x.1, x.2));
    // One fetch for both uses of req_total: from the widest start (10m offset + 1m range
    // before 1000 s) to the latest end (2000 s, no offset); the selector has no offset left.
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(
        get(r#"req_total{job="api"}"#),
        Some((1_000_000 - 660_000, 2_000_000))
    );
    // An instant selector looks back 5 minutes before the first step.
    assert_eq!(get("up"), Some((1_000_000 - LOOKBACK_MS, 2_000_000)));
    assert!(sample_windows("sum(", 0.0, 1.0).is_err());
}
