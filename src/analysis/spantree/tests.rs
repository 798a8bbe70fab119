//! Span trees: shape, self time, the critical path, and every kind of odd data.

use super::testdata::{span, tempo_incident_trace, trace};
use super::*;
use crate::model::StatusCode;

fn ids(tree: &SpanTree, idx: &[usize]) -> Vec<String> {
    idx.iter()
        .map(|&i| tree.spans()[i].span_id.clone())
        .collect()
}

fn idx(tree: &SpanTree, id: &str) -> usize {
    tree.find(id).unwrap()
}

/// The critical path as `(span id, start, end)`, in time order.
fn path(tree: &SpanTree) -> Vec<(String, i64, i64)> {
    tree.critical_path()
        .iter()
        .map(|s| {
            (
                tree.spans()[s.span].span_id.clone(),
                s.start_unix_nano,
                s.end_unix_nano,
            )
        })
        .collect()
}

fn seg(id: &str, a: i64, b: i64) -> (String, i64, i64) {
    (id.to_string(), a, b)
}

#[test]
fn tree_shape_children_by_start_and_depth() {
    let tree = build(&trace(vec![
        span("c", "a", 50, 60),
        span("a", "", 0, 100),
        span("b", "a", 10, 40),
        span("d", "b", 20, 30),
    ]));
    assert_eq!(ids(&tree, tree.roots()), ["a"]);
    let a = idx(&tree, "a");
    assert_eq!(ids(&tree, tree.children(a)), ["b", "c"]);
    assert_eq!(tree.depth(idx(&tree, "d")), 2);
    assert_eq!(ids(&tree, tree.display_order()), ["a", "b", "d", "c"]);
    assert_eq!(tree.parent(idx(&tree, "d")), Some(idx(&tree, "b")));
    assert_eq!(tree.duration_nanos(), 100);
    assert_eq!(tree.start_unix_nano(), 0);
    assert!(tree.anomalies().is_empty(), "{:?}", tree.anomalies());
    assert!(tree.children(999).is_empty());
}

#[test]
fn self_time_subtracts_the_union_of_overlapping_children_clipped_to_the_span() {
    // Children [10,40] and [30,60] overlap (union 50); [80,120] sticks out by 20 and counts
    // only up to the parent's end (20). 100 - 70 = 30.
    let tree = build(&trace(vec![
        span("p", "", 0, 100),
        span("a", "p", 10, 40),
        span("b", "p", 30, 60),
        span("c", "p", 80, 120),
        span("d", "b", 35, 36), // nested inside b: does not change p's union
    ]));
    assert_eq!(tree.self_time_nanos(idx(&tree, "p")), 30);
    assert_eq!(tree.self_time_nanos(idx(&tree, "b")), 29);
    assert_eq!(tree.self_time_nanos(idx(&tree, "c")), 40);
    // A child covering the whole parent leaves no self time, never a negative one.
    let tree = build(&trace(vec![
        span("p", "", 0, 100),
        span("a", "p", -10, 110),
        span("b", "p", 0, 100),
    ]));
    assert_eq!(tree.self_time_nanos(idx(&tree, "p")), 0);
    // Children entirely outside the span cover none of it (a regression: the sweep once
    // subtracted a negative length for them).
    let tree = build(&trace(vec![
        span("p", "", 100, 200),
        span("early", "p", 0, 50),
        span("late", "p", 300, 400),
    ]));
    assert_eq!(tree.self_time_nanos(idx(&tree, "p")), 100);
}

#[test]
fn critical_path_sequential_children_alternate_with_the_parent() {
    // Jaeger's doc example: |----A----| with B then C inside.
    let tree = build(&trace(vec![
        span("a", "", 0, 100),
        span("b", "a", 10, 40),
        span("c", "a", 50, 90),
    ]));
    assert_eq!(
        path(&tree),
        [
            seg("a", 0, 10),
            seg("b", 10, 40),
            seg("a", 40, 50),
            seg("c", 50, 90),
            seg("a", 90, 100),
        ]
    );
    assert_eq!(tree.critical_path_span_ids(), ["a", "b", "c"]);
    assert_eq!(tree.critical_path_nanos(idx(&tree, "a")), 30);
    let of_a: Vec<(i64, i64)> = tree
        .critical_segments_of(idx(&tree, "a"))
        .iter()
        .map(|s| (s.start_unix_nano, s.end_unix_nano))
        .collect();
    assert_eq!(of_a, [(0, 10), (40, 50), (90, 100)]);
    assert!(tree.critical_segments_of(99).is_empty());
    assert_eq!(
        tree.top_self_time_on_critical_path(2),
        [(idx(&tree, "c"), 40), (idx(&tree, "a"), 30)]
    );
}

#[test]
fn critical_path_skips_a_parallel_child_that_overlaps_the_last_finishing_one() {
    // C finishes last; B ran in parallel with C (ends after C started), so the walk back
    // from C's start finds no earlier child and B is not on the path.
    let tree = build(&trace(vec![
        span("a", "", 0, 100),
        span("b", "a", 10, 80),
        span("c", "a", 20, 90),
    ]));
    assert_eq!(
        path(&tree),
        [seg("a", 0, 20), seg("c", 20, 90), seg("a", 90, 100)]
    );
    assert!(!tree.is_on_critical_path(idx(&tree, "b")));
}

#[test]
fn critical_path_descends_and_returns_through_nested_spans() {
    let tree = build(&trace(vec![
        span("a", "", 0, 100),
        span("b", "a", 10, 90),
        span("c", "b", 20, 50),
        span("d", "b", 40, 85),
        span("e", "a", 92, 98),
    ]));
    assert_eq!(
        path(&tree),
        [
            seg("a", 0, 10),
            seg("b", 10, 40),
            seg("d", 40, 85),
            seg("b", 85, 90),
            seg("a", 90, 92),
            seg("e", 92, 98),
            seg("a", 98, 100),
        ]
    );
    assert_eq!(tree.critical_path_span_ids(), ["a", "b", "d", "e"]);
}

#[test]
fn critical_path_keeps_back_to_back_siblings() {
    // B ends exactly when C starts: with jaeger-ui's strict `<` B would be skipped and its
    // 50 ns charged to A; the inclusive bound (Jaeger's Go port) keeps it.
    let tree = build(&trace(vec![
        span("a", "", 0, 100),
        span("b", "a", 0, 50),
        span("c", "a", 50, 100),
    ]));
    assert_eq!(path(&tree), [seg("b", 0, 50), seg("c", 50, 100)]);
    assert!(!tree.is_on_critical_path(idx(&tree, "a")));
}

#[test]
fn critical_path_clips_children_to_their_clipped_parent_and_drops_those_outside() {
    // jaeger-ui test7's shape: B overflows A, C overflows B; C is clipped to B's clipped
    // end (30), not to B's own end (35). D lies entirely after A and is dropped.
    let tree = build(&trace(vec![
        span("a", "", 1, 30),
        span("b", "a", 15, 35),
        span("c", "b", 20, 40),
        span("d", "a", 31, 33),
    ]));
    assert_eq!(
        path(&tree),
        [seg("a", 1, 15), seg("b", 15, 20), seg("c", 20, 30)]
    );
    assert!(!tree.is_on_critical_path(idx(&tree, "d")));
    // Shown and flagged, not dropped from the tree.
    assert_eq!(tree.len(), 4);
    let outside: Vec<_> = tree
        .anomalies()
        .iter()
        .filter_map(|a| match a {
            Anomaly::ChildOutsideParent {
                span_id, by_nanos, ..
            } => Some((span_id.as_str(), *by_nanos)),
            _ => None,
        })
        .collect();
    assert_eq!(outside, [("b", 5), ("c", 5), ("d", 3)]);
    // A child that started before its parent is clipped at the parent's start.
    let tree = build(&trace(vec![span("a", "", 10, 100), span("b", "a", 0, 60)]));
    assert_eq!(path(&tree), [seg("b", 10, 60), seg("a", 60, 100)]);
}

#[test]
fn orphans_are_shown_under_the_root_and_flagged() {
    let tree = build(&trace(vec![
        span("root", "", 0, 100),
        span("x", "missing", 20, 90),
        span("y", "x", 30, 40),
    ]));
    let x = idx(&tree, "x");
    assert_eq!(tree.parent(x), Some(idx(&tree, "root")));
    assert!(tree.is_adopted(x));
    assert_eq!(tree.depth(idx(&tree, "y")), 2);
    assert_eq!(
        tree.anomalies(),
        [Anomaly::Orphan {
            span_id: "x".into(),
            missing_parent: "missing".into(),
            shown_as_root: false,
        }]
    );
    assert!(
        tree.anomalies()[0]
            .message()
            .contains("shown under the root")
    );
    // An orphan counts toward its adoptive root's self time and critical path.
    assert_eq!(tree.self_time_nanos(idx(&tree, "root")), 30);
    assert!(tree.is_on_critical_path(x));
}

#[test]
fn without_a_root_span_the_earliest_orphan_is_the_root_and_its_siblings_are_roots_too() {
    // The root span was never received: a and b both point at it; c's parent is another
    // missing span.
    let tree = build(&trace(vec![
        span("b", "gone", 50, 80),
        span("a", "gone", 10, 60),
        span("c", "other", 20, 30),
    ]));
    assert_eq!(ids(&tree, tree.roots()), ["a", "b"]);
    assert_eq!(tree.parent(idx(&tree, "c")), Some(idx(&tree, "a")));
    let kinds: Vec<&str> = tree.anomalies().iter().map(Anomaly::kind).collect();
    assert_eq!(kinds, ["multiple_roots", "orphan", "orphan", "orphan"]);
    assert!(tree.anomalies().iter().any(|a| matches!(
        a,
        Anomaly::Orphan { span_id, shown_as_root: true, .. } if span_id == "b"
    )));
    // The critical path covers the chosen root's tree only.
    assert_eq!(tree.critical_path_span_ids(), ["a", "c"]);
}

#[test]
fn duplicate_span_ids_keep_the_first() {
    let mut dup = span("b", "a", 70, 80);
    dup.name = "second".into();
    let tree = build(&trace(vec![
        span("a", "", 0, 100),
        span("b", "a", 10, 20),
        dup.clone(),
        dup,
    ]));
    assert_eq!(tree.len(), 2);
    assert_eq!(tree.spans()[idx(&tree, "b")].name, "op-b");
    assert_eq!(
        tree.anomalies(),
        [Anomaly::DuplicateSpanId {
            span_id: "b".into(),
            kept: "svc op-b".into(),
            dropped: 2,
        }]
    );
    assert!(tree.anomalies()[0].message().contains("appears 3 times"));
}

#[test]
fn cycles_are_broken_at_the_earliest_member_and_shown_under_the_root() {
    let tree = build(&trace(vec![
        span("root", "", 0, 100),
        span("x", "y", 30, 40),
        span("y", "z", 20, 50),
        span("z", "x", 10, 60),
        span("self", "self", 70, 80),
    ]));
    let z = idx(&tree, "z");
    assert_eq!(tree.parent(z), Some(idx(&tree, "root")));
    assert_eq!(tree.parent(idx(&tree, "y")), Some(z));
    assert_eq!(tree.depth(idx(&tree, "x")), 3);
    let cycles: Vec<_> = tree
        .anomalies()
        .iter()
        .filter_map(|a| match a {
            Anomaly::Cycle {
                span_ids,
                broken_at,
            } => Some((span_ids.clone(), broken_at.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        cycles,
        [
            (vec!["z".into(), "x".into(), "y".into()], "z".into()),
            (vec!["self".into()], "self".into()),
        ]
    );
    assert_eq!(tree.display_order().len(), 5);
    // A trace that is nothing but a cycle still gets a root.
    let tree = build(&trace(vec![span("p", "q", 5, 9), span("q", "p", 0, 10)]));
    assert_eq!(ids(&tree, tree.roots()), ["q"]);
    assert_eq!(tree.depth(idx(&tree, "p")), 1);
}

#[test]
fn multiple_roots_pick_the_earliest_then_longest() {
    let tree = build(&trace(vec![
        span("late", "", 50, 500),
        span("short", "", 0, 10),
        span("long", "", 0, 100),
        span("kid", "late", 60, 70),
    ]));
    assert_eq!(ids(&tree, tree.roots()), ["long", "short", "late"]);
    assert_eq!(
        tree.anomalies(),
        [Anomaly::MultipleRoots {
            root: "long".into(),
            others: vec!["short".into(), "late".into()],
        }]
    );
    assert_eq!(tree.critical_path_span_ids(), ["long"]);
    assert_eq!(tree.duration_nanos(), 500);
    assert_eq!(
        ids(&tree, tree.display_order()),
        ["long", "short", "late", "kid"]
    );
}

#[test]
fn zero_and_negative_durations_are_flagged_and_never_negative() {
    let tree = build(&trace(vec![
        span("a", "", 0, 100),
        span("z", "a", 50, 50),
        span("n", "a", 60, 40),
    ]));
    let n = idx(&tree, "n");
    assert_eq!(tree.end_unix_nano(n), 60);
    assert_eq!(tree.self_time_nanos(n), 0);
    assert!(tree.anomalies().contains(&Anomaly::ZeroLength {
        span_id: "z".into()
    }));
    assert!(tree.anomalies().contains(&Anomaly::NegativeDuration {
        span_id: "n".into(),
        by_nanos: 20
    }));
    assert_eq!(path(&tree), [seg("a", 0, 100)]);
    // A lone zero-length root is its own critical path.
    let tree = build(&trace(vec![span("a", "", 5, 5)]));
    assert_eq!(tree.critical_path_span_ids(), ["a"]);
}

#[test]
fn empty_trace_is_empty_not_a_panic() {
    let tree = build(&trace(Vec::new()));
    assert!(tree.is_empty());
    assert!(tree.roots().is_empty());
    assert!(tree.critical_path().is_empty());
    assert_eq!(tree.duration_nanos(), 0);
    assert!(tree.top_self_time_on_critical_path(5).is_empty());
}

#[test]
fn a_100k_deep_chain_does_not_overflow_the_stack() {
    const N: i64 = 100_000;
    let spans = (0..N)
        .map(|k| {
            let parent = if k == 0 {
                String::new()
            } else {
                format!("s{:x}", k - 1)
            };
            span(&format!("s{k:x}"), &parent, k, 2 * N - k)
        })
        .collect();
    let tree = build(&trace(spans));
    let last = idx(&tree, &format!("s{:x}", N - 1));
    assert_eq!(tree.depth(last), (N - 1) as usize);
    assert_eq!(tree.critical_path_span_ids().len(), N as usize);
    assert_eq!(tree.critical_path().len(), 2 * N as usize - 1);
    assert!(tree.anomalies().is_empty());
}

#[test]
fn format_nanos_reads_like_a_person_wrote_it() {
    assert_eq!(format_nanos(850), "850ns");
    assert_eq!(format_nanos(12_300), "12.3µs");
    assert_eq!(format_nanos(4_560_000), "4.56ms");
    assert_eq!(format_nanos(1_822_200_000), "1.82s");
    assert_eq!(format_nanos(100_000_000), "100ms");
    assert_eq!(format_nanos(123_000_000_000), "2m03s");
    assert_eq!(format_nanos(-2_000), "-2µs");
    assert_eq!(format_nanos(i64::MIN).chars().next(), Some('-'));
}

#[test]
fn recorded_tempo_incident_trace_blames_the_pool() {
    let tree = build(&tempo_incident_trace());
    assert_eq!(tree.len(), 20);
    assert!(tree.anomalies().is_empty(), "{:?}", tree.anomalies());
    let root = &tree.spans()[tree.roots()[0]];
    assert_eq!(
        (root.service.as_str(), root.name.as_str()),
        ("frontend", "GET /checkout")
    );
    let name_of = |i: usize| tree.spans()[i].name.as_str();
    let on_path: Vec<&str> = tree
        .critical_path_span_ids()
        .iter()
        .map(|id| name_of(idx(&tree, id)))
        .collect();
    // db.pool.acquire ends at exactly the nanosecond INSERT orders starts: the inclusive
    // bound keeps it on the path.
    for name in [
        "GET /checkout",
        "POST /api/orders",
        "db.pool.acquire",
        "INSERT orders",
    ] {
        assert!(on_path.contains(&name), "{name} not in {on_path:?}");
    }
    let top = tree.top_self_time_on_critical_path(5);
    assert_eq!(name_of(top[0].0), "db.pool.acquire");
    assert_eq!(top[0].1, 1_495_598_032);
    assert_eq!(name_of(top[1].0), "INSERT orders");
    // The path tiles the root exactly, without gaps or overlaps.
    let cp = tree.critical_path();
    assert_eq!(cp[0].start_unix_nano, root.start_unix_nano);
    assert_eq!(cp[cp.len() - 1].end_unix_nano, root.end_unix_nano);
    assert!(
        cp.windows(2)
            .all(|w| w[0].end_unix_nano == w[1].start_unix_nano)
    );
    let errors: Vec<&str> = tree.error_spans().iter().map(|&i| name_of(i)).collect();
    assert_eq!(
        errors,
        [
            "GET /checkout",
            "checkout.PlaceOrder",
            "POST /api/orders",
            "db.pool.acquire",
            "INSERT orders"
        ]
    );
    let insert = &tree.spans()[idx(&tree, "751bb19ed14fb11f")];
    assert_eq!(insert.status, StatusCode::Error);
    let (kind, message) = insert.exception().unwrap();
    assert_eq!(kind, "__main__.PoolTimeout");
    assert!(message.contains("QueuePool limit"), "{message}");
    assert_eq!(
        tree.services(),
        [
            ("checkout".to_string(), 8),
            ("payments".to_string(), 6),
            ("frontend".to_string(), 3),
            ("inventory".to_string(), 3),
        ]
    );
}
