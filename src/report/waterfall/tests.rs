//! Waterfall rendering and views over hand-built and recorded traces: widths, filters, marks,
//! and messy trees that must render without a panic.

use console::measure_text_width;

use super::*;
use crate::analysis::spantree::build;
use crate::analysis::spantree::testdata::{span, tempo_incident_trace, trace};
use crate::model::{Span, StatusCode};

fn opts(width: u16) -> WaterfallOptions {
    WaterfallOptions {
        width,
        ..WaterfallOptions::default()
    }
}

/// The row of the span whose line contains `needle`.
fn line_with<'a>(out: &'a str, needle: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{out}"))
}

#[test]
fn incident_trace_header_rows_and_footer() {
    let tree = build(&tempo_incident_trace());
    let out = render(&tree, &opts(120));
    let mut lines = out.lines();
    let title = lines.next().unwrap();
    assert!(
        title
            .starts_with("Trace aa3683ad52e9b569c004436d55771b03  frontend GET /checkout  1.82s  "),
        "{title}"
    );
    assert!(title.ends_with("05:23:24.757 UTC"), "{title}");
    assert_eq!(
        lines.next().unwrap(),
        "20 spans, 5 errors, 4 services: checkout 8, payments 6, frontend 3, inventory 3"
    );
    assert_eq!(
        lines.next().unwrap(),
        "critical path (20 spans): db.pool.acquire 1.5s (82%), INSERT orders 99.6ms (5%), \
         POST /v1/void 66.7ms (4%)"
    );
    assert!(!out.contains("anomalies"), "{out}");

    let pool = line_with(&out, "db.pool.acquire ✗");
    assert!(pool.starts_with("*! "), "{pool}");
    assert!(pool.contains("✗ pool exhausted"), "{pool}");
    assert!(pool.contains('█'), "{pool}");
    let insert = line_with(&out, "INSERT orders ✗");
    assert!(insert.starts_with("*! "), "{insert}");
    assert!(insert.contains("✗ __main__.PoolTimeout"), "{insert}");
    let root = line_with(&out, "frontend GET /checkout ✗");
    assert!(
        root.starts_with("*!       0   1.82s frontend GET"),
        "{root}"
    );
    let redis = line_with(&out, "redis GET");
    // PlaceOrder has a later sibling (render error page), POST /api/orders has none,
    // validate-cart has one (inventory.Reserve).
    assert!(
        redis.starts_with("*  +7.97ms  1.99ms │     │  └─ checkout redis GET"),
        "{redis}"
    );

    // The footer has the errors in full.
    assert!(out.contains("\nerrors:\n"), "{out}");
    assert!(out.contains(
        "  ! checkout INSERT orders: PoolTimeout: QueuePool limit of size 100 overflow 0 reached\n      __main__.PoolTimeout: "
    ), "{out}");
}

#[test]
fn tree_lines_follow_the_visible_siblings() {
    let tree = build(&trace(vec![
        span("r", "", 0, 100),
        span("a", "r", 0, 50),
        span("c", "a", 10, 20),
        span("b", "r", 60, 70),
    ]));
    let rows = render_rows(&tree, &opts(100), 0, 10);
    // Width 100: marks 3, offset 8, duration 8, then a 48-column label.
    let labels: Vec<String> = rows
        .lines()
        .map(|l| {
            l.chars()
                .skip(19)
                .take(48)
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect();
    assert_eq!(
        labels,
        ["svc op-r", "├─ svc op-a", "│  └─ svc op-c", "└─ svc op-b"]
    );
}

#[test]
fn bars_mark_the_critical_part_of_a_span() {
    // b runs in parallel with c, which finishes later: b is off the critical path.
    let tree = build(&trace(vec![
        span("a", "", 0, 100),
        span("b", "a", 10, 80),
        span("c", "a", 20, 90),
    ]));
    let out = render_rows(&tree, &opts(100), 0, 10);
    let b = line_with(&out, "op-b");
    assert!(b.starts_with("   "), "{b}");
    assert!(b.contains('▒') && !b.contains('█'), "{b}");
    let c = line_with(&out, "op-c");
    assert!(c.starts_with("*  "), "{c}");
    assert!(c.contains('█') && !c.contains('▒'), "{c}");
    // a is on the path before c starts and after it ends, not in between.
    let a = line_with(&out, "op-a");
    let bar: String = a.chars().filter(|c| *c == '█' || *c == '▒').collect();
    assert!(
        bar.starts_with('█') && bar.ends_with('█') && bar.contains('▒'),
        "{a}"
    );
}

#[test]
fn every_line_fits_the_width_even_a_tiny_one() {
    let tree = build(&tempo_incident_trace());
    let mut odd = tempo_incident_trace();
    odd.spans[3].parent_span_id = Some("ffffffffffffffff".into());
    odd.spans[5].end_unix_nano = odd.spans[5].start_unix_nano - 10;
    let odd = build(&odd);
    for t in [&tree, &odd] {
        for width in [1u16, 5, 20, 29, 30, 49, 50, 80, 200] {
            for color in [false, true] {
                let o = WaterfallOptions {
                    width,
                    color,
                    ..WaterfallOptions::default()
                };
                let out = render(t, &o);
                let plain = console::strip_ansi_codes(&out);
                let rows = render_rows(t, &o, 0, 100);
                assert_eq!(rows.lines().count(), 20);
                // The footer's error and anomaly lines wrap instead; the rest must fit.
                let body = plain.split("\nerrors:\n").next().unwrap();
                let body = body.split("\nanomalies:\n").next().unwrap();
                for l in body.lines().chain(rows.lines()) {
                    assert!(
                        measure_text_width(l) <= usize::from(width),
                        "width {width}, color {color}: {l:?}"
                    );
                }
                assert!(!body.trim().is_empty());
            }
        }
    }
    let narrow = render_rows(&tree, &opts(5), 0, 1);
    assert_eq!(narrow, "*! f…\n");
}

#[test]
fn filters_depth_service_and_errors_only() {
    let tree = build(&tempo_incident_trace());
    let names = |o: &WaterfallOptions| -> Vec<String> {
        visible_rows(&tree, o)
            .into_iter()
            .map(|i| tree.spans()[i].name.clone())
            .collect()
    };
    let depth1 = WaterfallOptions {
        max_depth: Some(1),
        ..opts(100)
    };
    assert_eq!(
        names(&depth1),
        ["GET /checkout", "checkout.PlaceOrder", "render error page"]
    );
    let payments = WaterfallOptions {
        service: Some("payments".into()),
        ..opts(100)
    };
    assert_eq!(names(&payments).len(), 6);
    let out = render(&tree, &payments);
    assert!(out.contains("14 of 20 spans hidden by filters"), "{out}");
    // Filtered rows keep their depth and tree lines.
    // (hidden ancestors still draw their lines, so depth reads the same as unfiltered)
    assert!(
        line_with(&out, "payments fraud-check").contains("│  │  │     ├─ payments"),
        "{out}"
    );
    let errors = WaterfallOptions {
        errors_only: true,
        ..opts(100)
    };
    assert_eq!(
        names(&errors),
        [
            "GET /checkout",
            "checkout.PlaceOrder",
            "POST /api/orders",
            "db.pool.acquire",
            "INSERT orders"
        ]
    );
    // Error spans keep their ancestors even when these are fine.
    let t = build(&trace(vec![
        span("r", "", 0, 100),
        span("a", "r", 0, 50),
        {
            let mut e = span("e", "a", 10, 20);
            e.status = StatusCode::Error;
            e
        },
        span("b", "r", 60, 70),
    ]));
    let rows: Vec<String> = visible_rows(&t, &errors)
        .into_iter()
        .map(|i| t.spans()[i].span_id.clone())
        .collect();
    assert_eq!(rows, ["r", "a", "e"]);
}

#[test]
fn max_rows_and_windows_of_rows() {
    let tree = build(&tempo_incident_trace());
    let all = render_rows(&tree, &opts(100), 0, usize::MAX);
    let all: Vec<&str> = all.lines().collect();
    assert_eq!(all.len(), 20);
    let window = render_rows(&tree, &opts(100), 3, 2);
    assert_eq!(window.lines().collect::<Vec<_>>(), all[3..5]);
    assert_eq!(render_rows(&tree, &opts(100), 19, 5).lines().count(), 1);
    assert_eq!(render_rows(&tree, &opts(100), 50, 5), "");
    let out = render(
        &tree,
        &WaterfallOptions {
            max_rows: Some(5),
            ..opts(100)
        },
    );
    assert!(out.contains("… 15 more rows (showing 5 of 20)"), "{out}");
    assert!(out.contains(all[4]) && !out.contains(all[5]));
}

#[test]
fn anomalies_are_said_in_the_header_and_listed_below() {
    let tree = build(&trace(vec![
        span("r", "", 0, 100),
        span("o", "gone", 10, 20),
        span("k", "r", 90, 130),
        span("k", "r", 1, 2),
    ]));
    let out = render(&tree, &opts(200));
    let header = line_with(&out, "anomalies:");
    assert_eq!(
        header,
        "anomalies: 1 × orphan span (parent missing), 1 × duplicate span id, \
         1 × child outside its parent (clock skew?) (details below)"
    );
    assert!(
        out.contains(
            "\nanomalies:\n  ~ span o: its parent gone is not in the trace; shown under the root\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("  ~ span k runs 30ns outside its parent r"),
        "{out}"
    );
}

#[test]
fn a_deep_chain_renders_a_depth_marker_not_a_wall_of_lines() {
    let spans = (0..2000i64)
        .map(|k| {
            let parent = if k == 0 {
                String::new()
            } else {
                format!("s{}", k - 1)
            };
            span(&format!("s{k}"), &parent, k, 10_000 - k)
        })
        .collect();
    let tree = build(&trace(spans));
    let out = render_rows(&tree, &opts(80), 1500, 1);
    assert!(out.contains("[1500] └─ svc op-s1500"), "{out}");
    assert!(measure_text_width(out.trim_end()) <= 80);
}

#[test]
fn empty_trace_renders_a_header() {
    let tree = build(&trace(Vec::new()));
    let out = render(&tree, &opts(80));
    assert!(
        out.starts_with("Trace 0af7651916cd43dd8448eb211c80319c  0ns  1970-01-01"),
        "{out}"
    );
    assert!(out.contains("0 spans, no errors, 0 services"));
    let view = trace_view(&tree);
    assert_eq!(view.root, None);
    assert!(view.spans.is_empty());
}

#[test]
fn trace_view_json_carries_everything_obs_trace_prints() {
    let tree = build(&tempo_incident_trace());
    let v = serde_json::to_value(trace_view(&tree)).unwrap();
    assert_eq!(v["trace_id"], "aa3683ad52e9b569c004436d55771b03");
    assert_eq!(v["duration_ms"], 1822.2);
    assert_eq!(v["span_count"], 20);
    assert_eq!(v["root"]["service"], "frontend");
    assert_eq!(v["start"], "2026-11-21T05:23:24.757521408Z");
    assert_eq!(v["services"]["checkout"], 8);
    let spans = v["spans"].as_array().unwrap();
    assert_eq!(spans[0]["name"], "GET /checkout");
    assert_eq!(spans[0]["depth"], 0);
    assert_eq!(spans[0]["parent_span_id"], serde_json::Value::Null);
    let insert = spans.iter().find(|s| s["name"] == "INSERT orders").unwrap();
    assert_eq!(insert["exception"]["type"], "__main__.PoolTimeout");
    assert_eq!(insert["status"], "error");
    assert_eq!(insert["kind"], "client");
    assert_eq!(insert["on_critical_path"], true);
    assert_eq!(insert["attributes"]["db.system"], "postgresql");
    let pool = spans
        .iter()
        .find(|s| s["name"] == "db.pool.acquire")
        .unwrap();
    assert_eq!(pool["self_time_ms"], 1495.598);
    assert_eq!(pool["critical_path_ms"], 1495.598);
    assert!(
        v["critical_path"]
            .as_array()
            .unwrap()
            .contains(&"4d591ea4fd6b5619".into())
    );
    let segs = v["critical_path_segments"].as_array().unwrap();
    assert_eq!(segs[0]["start_offset_ms"], 0.0);
    assert_eq!(v["error_spans"].as_array().unwrap().len(), 5);
    assert_eq!(v["anomalies"], serde_json::json!([]));

    let orphan = build(&trace(vec![span("r", "", 0, 10), span("o", "gone", 1, 2)]));
    let v = serde_json::to_value(trace_view(&orphan)).unwrap();
    assert_eq!(
        v["anomalies"][0],
        serde_json::json!({
            "kind": "orphan",
            "span_id": "o",
            "missing_parent": "gone",
            "shown_as_root": false,
            "message": "span o: its parent gone is not in the trace; shown under the root"
        })
    );
    assert_eq!(v["spans"][1]["parent_span_id"], "gone");
    assert_eq!(v["spans"][1]["depth"], 1);
}

#[test]
fn summary_names_the_pool_and_the_exception() {
    let tree = build(&tempo_incident_trace());
    let s = summarize(&tree, 5);
    assert_eq!(s.critical_path.len(), 5);
    assert_eq!(s.critical_path[0].name, "db.pool.acquire");
    assert_eq!(s.critical_path[0].service, "checkout");
    assert_eq!(s.critical_path[1].name, "INSERT orders");
    assert_eq!(s.error_span_count, 5);
    let insert = s
        .error_spans
        .iter()
        .find(|e| e.name == "INSERT orders")
        .unwrap();
    let exc = insert.exception.as_ref().unwrap();
    assert!(exc.kind.ends_with("PoolTimeout"));
    assert!(exc.message.contains("QueuePool limit"));
    assert_eq!(s.root.as_ref().unwrap().name, "GET /checkout");
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["critical_path"][0]["critical_path_ms"], 1495.598);
    assert_eq!(v["anomalies_total"], 0);
}

/// The index of the span with id `id`.
fn idx(tree: &SpanTree, id: &str) -> usize {
    tree.find(id).unwrap()
}

// Trees of extreme and messy data, checked as trees and then rendered.

#[test]
fn extreme_timestamps_do_not_overflow() {
    let tree = build(&trace(vec![
        span("a", "", i64::MIN, i64::MAX),
        span("b", "a", i64::MIN, 0),
        span("c", "a", 0, i64::MAX),
        span("d", "", i64::MAX, i64::MIN),
    ]));
    assert_eq!(tree.duration_nanos(), i64::MAX);
    assert_eq!(tree.self_time_nanos(idx(&tree, "a")), 0);
    assert_eq!(tree.critical_path_span_ids(), ["b", "c"]);
    let view = trace_view(&tree);
    assert_eq!(view.spans.len(), 4);
    let out = render(&tree, &Default::default());
    assert!(out.contains("op-d"));
}

/// Random messy traces (duplicates, cycles, orphans, skew, negative durations): the
/// invariants hold and nothing panics.
#[test]
fn random_messy_traces_keep_the_invariants() {
    let mut rng = crate::analysis::test_rng::Rng(0x7ace);
    let mut pick = |n: usize| ((rng.uniform() * n as f64) as usize).min(n.saturating_sub(1));
    for round in 0..500 {
        let n = 1 + pick(40);
        let spans: Vec<Span> = (0..n)
            .map(|i| {
                let id = format!("s{}", pick(n + n / 4)); // some duplicates
                let parent = match pick(10) {
                    0 => String::new(),
                    1 => "nowhere".to_string(),
                    _ => format!("s{}", pick(n + 2)), // may be missing, or a cycle
                };
                let start = pick(1000) as i64;
                let end = start + pick(600) as i64 - 50; // some negative
                let mut s = span(&id, &parent, start, end);
                s.name = format!("op{i}");
                s
            })
            .collect();
        let tree = build(&trace(spans));
        let n = tree.len();
        let mut order = tree.display_order().to_vec();
        order.sort_unstable();
        assert_eq!(order, (0..n).collect::<Vec<_>>(), "round {round}");
        for i in 0..n {
            let dur = tree.end_unix_nano(i) - tree.spans()[i].start_unix_nano;
            assert!(
                (0..=dur).contains(&tree.self_time_nanos(i)),
                "round {round}"
            );
            match tree.parent(i) {
                Some(p) => assert_eq!(tree.depth(i), tree.depth(p) + 1),
                None => assert!(tree.roots().contains(&i)),
            }
        }
        let cp = tree.critical_path();
        let root = tree.root().unwrap();
        assert_eq!(cp[0].start_unix_nano, tree.spans()[root].start_unix_nano);
        assert_eq!(cp[cp.len() - 1].end_unix_nano, tree.end_unix_nano(root));
        assert!(
            cp.windows(2)
                .all(|w| w[0].end_unix_nano == w[1].start_unix_nano)
        );
        for width in [5u16, 20, 80] {
            let o = WaterfallOptions {
                width,
                errors_only: round % 2 == 0,
                max_depth: (round % 3 == 0).then_some(2),
                ..Default::default()
            };
            let _ = render(&tree, &o);
        }
    }
}
