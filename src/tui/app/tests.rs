//! `update` over the recorded demo report: navigation edge cases, fetch answers (late, missing,
//! failing), huge and empty traces, and resizes.

use std::sync::Arc;

use super::*;
use crate::analysis::spantree::testdata::{span, trace};
use crate::model::{LogRecord, TraceSummary};
use crate::model::{StatusCode, Trace};
use crate::report::Report;

fn demo_trace() -> Trace {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tui/demo-trace.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

pub(crate) fn demo_report() -> Report {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tui/demo-report.json");
    let mut report = crate::tui::parse_report(&std::fs::read(path).unwrap()).unwrap();
    report.worst_trace = Some(demo_trace());
    report
}

fn app_with(report: Report, traces: bool, logs: bool) -> App {
    let mut app = App::from_report(report, traces, logs);
    update(&mut app, Action::Resize(80, 24));
    app
}

/// A trace of `n` spans: a root with chains of ten under it, every 97th span failing.
pub(crate) fn big_trace(n: usize) -> Trace {
    // Chains of ten under the root; each span starts 1 µs after its parent and ends with it
    // or before, so the tree has no anomalies.
    let mut spans = vec![span("s0", "", 0, n as i64 * 1000 + 10_000)];
    for k in 1..n {
        let p = (k - 1) % 10;
        let parent = if p == 0 {
            "s0".to_string()
        } else {
            format!("s{}", k - 1)
        };
        let start = k as i64 * 1000;
        let mut s = span(
            &format!("s{k}"),
            &parent,
            start,
            start + 10_000 - p as i64 * 1000,
        );
        if k % 97 == 0 {
            s.status = StatusCode::Error;
        }
        spans.push(s);
    }
    trace(spans)
}

fn open_waterfall(app: &mut App, t: Trace) {
    app.waterfall = Some(WaterfallState::with_tree(Arc::new(SpanTree::from_trace(t))));
    update(app, Action::Goto(View::Waterfall));
    assert_eq!(app.view(), View::Waterfall);
}

/// The selection of the current list is a row that exists and is on screen.
fn assert_in_view(app: &App) {
    let height = layout::list_rows(app, app.view());
    let (list, len) = match app.view() {
        View::Overview | View::Candidate => (&app.candidates, app.correlations_len()),
        View::Traces => (&app.trace_list, app.visible_traces().len()),
        View::Waterfall => {
            let w = app.waterfall.as_ref().unwrap();
            (&w.list, w.len())
        }
        View::Logs => (&app.logs.list, app.logs.lines.len()),
    };
    if len == 0 {
        assert_eq!((list.selected, list.top), (0, 0));
        return;
    }
    assert!(list.selected < len, "selected {} of {len}", list.selected);
    assert!(
        list.top <= list.selected && list.selected < list.top + height,
        "selected {} not in rows {}..{}+{height}",
        list.selected,
        list.top,
        list.top
    );
}

#[test]
fn drill_down_and_back_follows_the_breadcrumb() {
    let mut app = app_with(demo_report(), false, false);
    assert_eq!(app.view(), View::Overview);
    update(&mut app, Action::Open);
    assert_eq!(app.stack, [View::Overview, View::Candidate]);
    assert_eq!(app.candidate, 0);
    update(&mut app, Action::Goto(View::Traces));
    // The worst trace is the report's own: it opens without a fetch, even with no backend.
    let fetches = update(&mut app, Action::Open);
    assert!(fetches.is_empty(), "{fetches:?}");
    assert_eq!(app.view(), View::Waterfall);
    let fetches = update(&mut app, Action::TraceLogs);
    assert!(fetches.is_empty());
    assert_eq!(
        app.stack,
        [
            View::Overview,
            View::Candidate,
            View::Traces,
            View::Waterfall,
            View::Logs
        ]
    );
    // No logs backend: the report's logs of this trace.
    assert_eq!(app.logs.lines.len(), 3);
    assert!(app.message.as_deref().unwrap().contains("no logs backend"));
    for expected in [
        View::Waterfall,
        View::Traces,
        View::Candidate,
        View::Overview,
    ] {
        update(&mut app, Action::Back);
        assert_eq!(app.view(), expected);
    }
    assert!(!app.quit);
    update(&mut app, Action::Back);
    assert!(app.quit, "q on the first view quits");
}

#[test]
fn an_empty_report_navigates_without_panicking_and_says_why_nothing_opens() {
    let mut report = demo_report();
    report.correlations.clear();
    report.traces.clear();
    report.exemplars.clear();
    report.logs.clear();
    report.worst_trace = None;
    let mut app = app_with(report, false, false);
    for action in [
        Action::Down,
        Action::PageDown,
        Action::Bottom,
        Action::Up,
        Action::ClickRow(3),
        Action::Open,
    ] {
        assert!(update(&mut app, action).is_empty());
        assert_in_view(&app);
    }
    assert_eq!(app.view(), View::Overview);
    assert_eq!(app.message.as_deref(), Some("no ranked candidates to open"));
    update(&mut app, Action::Goto(View::Waterfall));
    assert_eq!(app.view(), View::Overview);
    assert!(
        app.message
            .as_deref()
            .unwrap()
            .contains("no trace opened yet")
    );
    update(&mut app, Action::Goto(View::Traces));
    update(&mut app, Action::Open);
    assert_eq!(app.message.as_deref(), Some("no trace to open"));
    for action in [
        Action::SpanLogs,
        Action::NextError,
        Action::Collapse,
        Action::StartSearch,
    ] {
        update(&mut app, action);
    }
    assert_eq!(app.view(), View::Traces);
    assert!(app.search_input.is_none());
}

#[test]
fn a_trace_the_backend_does_not_have_is_an_inline_error_not_a_crash() {
    let mut app = app_with(demo_report(), true, true);
    update(&mut app, Action::Goto(View::Traces));
    let other = app
        .visible_traces()
        .iter()
        .position(|t| t.trace_id != "d46ac305788366dee355e1d384ec081c")
        .unwrap();
    update(&mut app, Action::ClickRow(other));
    let fetches = update(&mut app, Action::Open);
    let [Fetch::Trace { seq, trace_id }] = fetches.as_slice() else {
        panic!("{fetches:?}")
    };
    assert_eq!(app.view(), View::Waterfall);
    assert!(app.busy(), "the spinner turns while the trace is fetched");
    update(
        &mut app,
        Action::Data(Data::Trace {
            seq: *seq,
            trace_id: trace_id.clone(),
            result: Ok(None),
        }),
    );
    assert!(!app.busy());
    let w = app.waterfall.as_ref().unwrap();
    let Loading::Failed(msg) = &w.loading else {
        panic!("{:?}", w.loading)
    };
    assert!(
        msg.starts_with(&format!("trace {trace_id} not found")),
        "{msg}"
    );
    // Keys still work, and opening it again fetches again.
    for action in [
        Action::Down,
        Action::NextError,
        Action::SpanLogs,
        Action::Collapse,
    ] {
        update(&mut app, action);
    }
    update(&mut app, Action::Back);
    assert_eq!(app.view(), View::Traces);
    let again = update(&mut app, Action::Open);
    assert!(
        matches!(again.as_slice(), [Fetch::Trace { .. }]),
        "{again:?}"
    );
}

#[test]
fn a_failing_backend_and_a_late_answer_are_handled() {
    let mut app = app_with(demo_report(), true, true);
    update(&mut app, Action::Goto(View::Traces));
    update(&mut app, Action::Bottom);
    let first = update(&mut app, Action::Open);
    let [
        Fetch::Trace {
            seq: old,
            trace_id: old_id,
        },
    ] = first.as_slice()
    else {
        panic!("{first:?}")
    };
    // The user goes back and opens another trace before the first answer.
    update(&mut app, Action::Back);
    update(&mut app, Action::Up);
    let second = update(&mut app, Action::Open);
    let [
        Fetch::Trace {
            seq: new,
            trace_id: new_id,
        },
    ] = second.as_slice()
    else {
        panic!("{second:?}")
    };
    assert_ne!(old, new);
    let tree = Arc::new(SpanTree::from_trace(trace(vec![span("a", "", 0, 10)])));
    update(
        &mut app,
        Action::Data(Data::Trace {
            seq: *old,
            trace_id: old_id.clone(),
            result: Ok(Some(tree)),
        }),
    );
    let w = app.waterfall.as_ref().unwrap();
    assert_eq!(
        &w.trace_id, new_id,
        "a late answer does not replace the trace asked for"
    );
    assert!(w.tree.is_none());
    update(
        &mut app,
        Action::Data(Data::Trace {
            seq: *new,
            trace_id: new_id.clone(),
            result: Err("tempo http://127.0.0.1:9/: connection refused".into()),
        }),
    );
    let Loading::Failed(msg) = &app.waterfall.as_ref().unwrap().loading else {
        panic!()
    };
    assert!(msg.contains("connection refused"), "{msg}");
}

#[test]
fn logs_backend_down_is_an_inline_error_and_the_trace_stays() {
    let mut app = app_with(demo_report(), true, true);
    update(&mut app, Action::Goto(View::Traces));
    update(&mut app, Action::Open);
    let fetches = update(&mut app, Action::TraceLogs);
    let [
        Fetch::Logs {
            seq,
            span,
            start_ns,
            end_ns,
            ..
        },
    ] = fetches.as_slice()
    else {
        panic!("{fetches:?}")
    };
    assert!(span.is_none());
    assert!(
        end_ns - start_ns > 600_000_000_000,
        "five minutes either side"
    );
    update(
        &mut app,
        Action::Data(Data::Logs {
            seq: *seq,
            result: Err("loki http://127.0.0.1:9/: connection refused".into()),
        }),
    );
    assert!(matches!(&app.logs.loading, Loading::Failed(m) if m.contains("connection refused")));
    update(&mut app, Action::Back);
    assert!(app.waterfall.as_ref().unwrap().tree.is_some());
}

#[test]
fn span_logs_keep_the_span_and_a_log_line_opens_its_trace() {
    let mut app = app_with(demo_report(), true, true);
    update(&mut app, Action::Goto(View::Traces));
    update(&mut app, Action::Open);
    // The root fails too: the second error after it is the query.
    update(&mut app, Action::NextError);
    update(&mut app, Action::NextError);
    let w = app.waterfall.as_ref().unwrap();
    let tree = w.tree.clone().unwrap();
    let i = w.selected_span().unwrap();
    assert_eq!(tree.spans()[i].name, "SELECT orders");
    let fetches = update(&mut app, Action::SpanLogs);
    let [
        Fetch::Logs {
            seq,
            span: Some(scope),
            start_ns,
            end_ns,
            ..
        },
    ] = fetches.as_slice()
    else {
        panic!("{fetches:?}")
    };
    assert_eq!(scope.span_id, tree.spans()[i].span_id);
    assert_eq!(scope.start_ns, tree.spans()[i].start_unix_nano);
    assert_eq!(scope.end_ns, tree.end_unix_nano(i) + 1);
    // The fetch covers the trace's window: records that name the span are kept wherever their
    // clock put them.
    assert!(*start_ns < tree.start_unix_nano() && *end_ns > tree.end_unix_nano(0));
    let after_the_span = scope.end_ns + 1_000_000;
    let record = |span_id: Option<&str>, body: &str, at: i64| LogRecord {
        timestamp_unix_nano: at,
        severity: Some("ERROR".into()),
        severity_number: Some(17),
        service: Some("checkout".into()),
        body: body.into(),
        trace_id: None,
        span_id: span_id.map(str::to_string),
        labels: Default::default(),
    };
    update(
        &mut app,
        Action::Data(Data::Logs {
            seq: *seq,
            result: Ok(vec![
                record(
                    Some(&scope.span_id),
                    "timeout acquiring a connection",
                    after_the_span,
                ),
                record(
                    Some("ffffffffffffffff"),
                    "another span's line",
                    scope.start_ns,
                ),
                record(None, "a line outside the span's window", after_the_span),
                record(
                    None,
                    "retry of 3760ee0bacab8fbe65ebb55576067d97 queued",
                    scope.start_ns + 5,
                ),
            ]),
        }),
    );
    let bodies: Vec<&str> = app.logs.lines.iter().map(|l| l.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "retry of 3760ee0bacab8fbe65ebb55576067d97 queued",
            "timeout acquiring a connection"
        ]
    );
    update(&mut app, Action::Down);
    update(&mut app, Action::Open);
    assert_eq!(app.message.as_deref(), Some("this line names no trace"));
    update(&mut app, Action::Up);
    let fetches = update(&mut app, Action::Open);
    assert!(
        matches!(fetches.as_slice(), [Fetch::Trace { trace_id, .. }] if trace_id == "3760ee0bacab8fbe65ebb55576067d97"),
        "{fetches:?}"
    );
    assert_eq!(app.view(), View::Waterfall);
}

#[test]
fn a_zero_span_trace_opens_and_every_waterfall_key_is_safe() {
    let mut app = app_with(demo_report(), false, false);
    open_waterfall(&mut app, trace(Vec::new()));
    for action in [
        Action::Down,
        Action::Up,
        Action::PageDown,
        Action::Bottom,
        Action::Collapse,
        Action::Expand,
        Action::ToggleCollapse,
        Action::ExpandAll,
        Action::CollapseAll,
        Action::NextCritical,
        Action::PrevError,
        Action::NextMatch,
        Action::ToggleDetail,
        Action::ClickRow(4),
    ] {
        update(&mut app, action);
        assert_in_view(&app);
    }
    update(&mut app, Action::StartSearch);
    for c in "pool".chars() {
        update(&mut app, Action::SearchInput(c));
    }
    update(&mut app, Action::SearchConfirm);
    assert_eq!(app.message.as_deref(), Some("no span matches \"pool\""));
    update(&mut app, Action::SpanLogs);
    assert_eq!(app.view(), View::Logs);
}

#[test]
fn a_100_000_span_trace_scrolls_collapses_and_jumps() {
    let mut app = app_with(demo_report(), false, false);
    open_waterfall(&mut app, big_trace(100_000));
    let height = layout::list_rows(&app, View::Waterfall);
    update(&mut app, Action::Bottom);
    let w = app.waterfall.as_ref().unwrap();
    assert_eq!(w.list.selected, 99_999);
    assert_eq!(w.list.top, 100_000 - height);
    update(&mut app, Action::Top);
    update(&mut app, Action::PageDown);
    assert_eq!(app.waterfall.as_ref().unwrap().list.selected, height);
    assert_in_view(&app);

    // Errors: s97 is the first, and previous from the top wraps to the last one.
    update(&mut app, Action::Top);
    update(&mut app, Action::NextError);
    let w = app.waterfall.as_ref().unwrap();
    let tree = w.tree.clone().unwrap();
    assert_eq!(tree.spans()[w.selected_span().unwrap()].span_id, "s97");
    update(&mut app, Action::Top);
    update(&mut app, Action::PrevError);
    let last_error = (1..100_000).rev().find(|k| k % 97 == 0).unwrap();
    let w = app.waterfall.as_ref().unwrap();
    assert_eq!(
        tree.spans()[w.selected_span().unwrap()].span_id,
        format!("s{last_error}")
    );
    assert_in_view(&app);

    // Collapse all: the root and its 10 000 direct children; an error inside a collapsed
    // chain is revealed by the error key.
    update(&mut app, Action::CollapseAll);
    assert_eq!(app.waterfall.as_ref().unwrap().len(), 1 + 10_000);
    update(&mut app, Action::Top);
    update(&mut app, Action::NextError);
    let w = app.waterfall.as_ref().unwrap();
    assert_eq!(tree.spans()[w.selected_span().unwrap()].span_id, "s97");
    assert!(w.len() > 10_001, "the chain holding s97 was expanded");
    update(&mut app, Action::ExpandAll);
    assert_eq!(app.waterfall.as_ref().unwrap().len(), 100_000);

    // Search by name.
    update(&mut app, Action::StartSearch);
    for c in "op-s9999".chars() {
        update(&mut app, Action::SearchInput(c));
    }
    update(&mut app, Action::SearchConfirm);
    let w = app.waterfall.as_ref().unwrap();
    // s9999 and s99990..=s99999.
    assert_eq!(w.matches.len(), 11);
    assert_eq!(tree.spans()[w.selected_span().unwrap()].name, "op-s9999");
    update(&mut app, Action::NextMatch);
    let w = app.waterfall.as_ref().unwrap();
    assert_eq!(tree.spans()[w.selected_span().unwrap()].name, "op-s99990");
    assert_in_view(&app);
}

#[test]
fn collapsing_keeps_the_selection_and_h_on_a_leaf_goes_to_its_parent() {
    let mut app = app_with(demo_report(), false, false);
    open_waterfall(&mut app, demo_trace());
    let tree = app.waterfall.as_ref().unwrap().tree.clone().unwrap();
    let names = |app: &App| -> Vec<String> {
        let w = app.waterfall.as_ref().unwrap();
        w.rows
            .as_ref()
            .unwrap()
            .spans()
            .iter()
            .map(|&i| tree.spans()[i].name.clone())
            .collect()
    };
    assert_eq!(
        names(&app),
        ["POST /checkout", "POST /api/checkout", "SELECT orders"]
    );
    update(&mut app, Action::Bottom);
    update(&mut app, Action::Collapse);
    let w = app.waterfall.as_ref().unwrap();
    assert_eq!(
        tree.spans()[w.selected_span().unwrap()].name,
        "POST /api/checkout"
    );
    update(&mut app, Action::Collapse);
    assert_eq!(names(&app), ["POST /checkout", "POST /api/checkout"]);
    update(&mut app, Action::Expand);
    assert_eq!(names(&app).len(), 3);
    update(&mut app, Action::Top);
    update(&mut app, Action::ToggleCollapse);
    assert_eq!(names(&app), ["POST /checkout"]);
    update(&mut app, Action::ToggleCollapse);
    assert_eq!(names(&app).len(), 3);
}

#[test]
fn rapid_resizes_keep_every_selection_on_screen() {
    let mut app = app_with(demo_report(), false, false);
    open_waterfall(&mut app, big_trace(2_000));
    update(&mut app, Action::Bottom);
    update(&mut app, Action::Goto(View::Overview));
    update(&mut app, Action::Bottom);
    let sizes = [
        (80, 24),
        (0, 0),
        (1, 1),
        (39, 9),
        (500, 3),
        (40, 10),
        (200, 50),
        (3, 500),
        (80, 24),
    ];
    for _ in 0..50 {
        for (w, h) in sizes {
            update(&mut app, Action::Resize(w, h));
            for view in [View::Overview, View::Waterfall] {
                app.stack = vec![View::Overview, view];
                assert_in_view(&app);
            }
        }
    }
    let w = app.waterfall.as_ref().unwrap();
    assert_eq!(w.list.selected, 1_999, "resizing never moves the selection");
}

#[test]
fn traces_sort_and_filter_by_service() {
    let mut app = app_with(demo_report(), false, false);
    update(&mut app, Action::Goto(View::Traces));
    let durations =
        |app: &App| -> Vec<f64> { app.visible_traces().iter().map(|t| t.duration_ms).collect() };
    let d = durations(&app);
    assert!(d.windows(2).all(|w| w[0] >= w[1]), "slowest first: {d:?}");
    update(&mut app, Action::CycleSort);
    assert_eq!(app.trace_sort, TraceSort::Errors);
    update(&mut app, Action::CycleSort);
    assert_eq!(app.trace_sort, TraceSort::Time);
    let starts: Vec<i64> = app
        .visible_traces()
        .iter()
        .map(|t| t.start_unix_nano)
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");
    update(&mut app, Action::CycleServiceFilter);
    assert_eq!(app.service_filter.as_deref(), Some("checkout"));
    assert_eq!(app.visible_traces().len(), 5);
    update(&mut app, Action::CycleServiceFilter);
    assert_eq!(app.service_filter.as_deref(), Some("frontend"));
    update(&mut app, Action::CycleServiceFilter);
    assert_eq!(app.service_filter, None);
}

#[test]
fn a_candidate_without_exemplars_says_so() {
    let mut app = app_with(demo_report(), false, false);
    update(&mut app, Action::Open);
    update(&mut app, Action::ToggleLagShift);
    assert!(app.lag_shift);
    update(&mut app, Action::Exemplars);
    assert_eq!(app.view(), View::Candidate);
    assert_eq!(
        app.message.as_deref(),
        Some("db_client_connection_count has no exemplars in the spike window")
    );
    update(&mut app, Action::Down);
    assert_eq!(
        app.candidate, 1,
        "j walks the ranking from the candidate view"
    );
}

#[test]
fn the_store_list_refreshes_on_the_clock_and_keeps_its_rows_when_a_refresh_fails() {
    let mut app = App::for_store("shop.db".into());
    let first = app.initial_fetches();
    let [Fetch::StoreTraces { seq }] = first.as_slice() else {
        panic!("{first:?}")
    };
    let summary = |id: &str, start: i64| TraceSummary {
        trace_id: id.into(),
        root_service: Some("frontend".into()),
        root_name: Some("POST /checkout".into()),
        start_unix_nano: start,
        duration_ms: 12.0,
        span_count: Some(3),
        has_error: Some(false),
    };
    update(
        &mut app,
        Action::Data(Data::StoreTraces {
            seq: *seq,
            result: Ok(vec![summary("a", 1), summary("b", 2)]),
        }),
    );
    assert_eq!(app.visible_traces().len(), 2);
    assert_eq!(app.visible_traces()[0].trace_id, "b", "newest first");
    let mut fetches = Vec::new();
    for _ in 0..app.refresh_ticks {
        fetches.extend(update(&mut app, Action::Tick));
    }
    let [Fetch::StoreTraces { seq }] = fetches.as_slice() else {
        panic!("{fetches:?}")
    };
    // No second refresh while one is in flight.
    for _ in 0..100 {
        assert!(update(&mut app, Action::Tick).is_empty());
    }
    update(
        &mut app,
        Action::Data(Data::StoreTraces {
            seq: *seq,
            result: Err("store shop.db: database is locked".into()),
        }),
    );
    assert_eq!(app.visible_traces().len(), 2);
    assert!(matches!(&app.store_loading, Loading::Failed(m) if m.contains("locked")));
    // Overview is not there without a report.
    update(&mut app, Action::Goto(View::Overview));
    assert_eq!(app.view(), View::Traces);
    assert!(app.message.as_deref().unwrap().contains("no report"));
}

#[test]
fn reports_of_another_version_or_not_json_are_refused_with_what_to_do() {
    let err = crate::tui::parse_report(b"<html>").unwrap_err();
    assert!(err.starts_with("not a JSON report"), "{err}");
    let err = crate::tui::parse_report(br#"{"schema_version": 7}"#).unwrap_err();
    assert!(
        err.contains("report schema version 7, but this obs reads version 1"),
        "{err}"
    );
    let err = crate::tui::parse_report(br#"{"traces": []}"#).unwrap_err();
    assert!(err.contains("no schema_version"), "{err}");
    let err = crate::tui::parse_report(br#"{"schema_version": 1}"#).unwrap_err();
    assert!(err.contains("missing field"), "{err}");
    // The demo's report reads back with its missing samples as NaN.
    let r = demo_report();
    assert!(r.symptom.values[0].is_nan());
    assert_eq!(r.correlations[0].metric, "db_client_connection_count");
}
