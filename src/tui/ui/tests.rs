//! Every view pinned at 80×24 and 200×50 (TestBackend + insta), the "too small" screen, and
//! monochrome: no colour anywhere, meaning still carried by markers.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::*;
use crate::analysis::spantree::SpanTree;
use crate::analysis::spantree::testdata::tempo_incident_trace;
use crate::tui::app::tests::{big_trace, demo_report};
use crate::tui::app::{Action, WaterfallState, update};

fn app(w: u16, h: u16) -> App {
    let mut app = App::from_report(demo_report(), false, false);
    update(&mut app, Action::Resize(w, h));
    app
}

fn draw(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    terminal.draw(|f| render(f, app)).unwrap();
    terminal
}

fn text(app: &App) -> String {
    draw(app).backend().to_string()
}

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

fn snap(name: &str, app: &App) {
    insta::assert_snapshot!(
        format!("{name}_{}x{}", app.width, app.height),
        draw(app).backend()
    );
}

#[test]
fn overview() {
    for (w, h) in SIZES {
        let a = app(w, h);
        let screen = text(&a);
        assert!(screen.contains("db_client_connection_count"), "{screen}");
        assert!(
            screen.contains("onset") && screen.contains("peak"),
            "{screen}"
        );
        snap("overview", &a);
    }
}

#[test]
fn candidate() {
    for (w, h) in SIZES {
        let mut a = app(w, h);
        update(&mut a, Action::Open);
        snap("candidate", &a);
        update(&mut a, Action::ToggleLagShift);
        snap("candidate_shifted", &a);
    }
}

#[test]
fn traces() {
    for (w, h) in SIZES {
        let mut a = app(w, h);
        update(&mut a, Action::Goto(View::Traces));
        snap("traces", &a);
    }
}

#[test]
fn waterfall() {
    for (w, h) in SIZES {
        let mut a = app(w, h);
        update(&mut a, Action::Goto(View::Traces));
        update(&mut a, Action::Open);
        update(&mut a, Action::Bottom);
        let screen = text(&a);
        assert!(
            screen.contains(if w >= 100 {
                "SELECT orders ✗ PoolTimeoutError"
            } else {
                "SELECT orders ✗"
            }),
            "{screen}"
        );
        snap("waterfall", &a);
        update(&mut a, Action::ToggleDetail);
        snap("waterfall_detail", &a);
    }
}

#[test]
fn waterfall_of_the_recorded_tempo_incident_with_a_search() {
    for (w, h) in SIZES {
        let mut a = app(w, h);
        a.waterfall = Some(WaterfallState::with_tree(std::sync::Arc::new(
            SpanTree::from_trace(tempo_incident_trace()),
        )));
        update(&mut a, Action::Goto(View::Waterfall));
        update(&mut a, Action::StartSearch);
        for c in "pool".chars() {
            update(&mut a, Action::SearchInput(c));
        }
        update(&mut a, Action::SearchConfirm);
        update(&mut a, Action::ToggleDetail);
        snap("waterfall_tempo", &a);
    }
}

#[test]
fn waterfall_of_a_100_000_span_trace_in_the_middle() {
    let mut a = app(200, 50);
    a.waterfall = Some(WaterfallState::with_tree(std::sync::Arc::new(
        SpanTree::from_trace(big_trace(100_000)),
    )));
    update(&mut a, Action::Goto(View::Waterfall));
    for _ in 0..1000 {
        update(&mut a, Action::PageDown);
    }
    snap("waterfall_big", &a);
}

#[test]
fn logs() {
    for (w, h) in SIZES {
        let mut a = app(w, h);
        update(&mut a, Action::Goto(View::Traces));
        update(&mut a, Action::Open);
        update(&mut a, Action::TraceLogs);
        snap("logs", &a);
        update(&mut a, Action::ToggleWrap);
        snap("logs_wrapped", &a);
    }
}

#[test]
fn help_lists_the_keys_of_the_view() {
    for (w, h) in SIZES {
        let mut a = app(w, h);
        update(&mut a, Action::Goto(View::Traces));
        update(&mut a, Action::Open);
        update(&mut a, Action::ToggleHelp);
        let screen = text(&a);
        for k in ["/", "c C", "e E", "Space", "L", "Q Ctrl-C"] {
            assert!(screen.contains(k), "{k}: {screen}");
        }
        snap("help_waterfall", &a);
    }
}

#[test]
fn too_small() {
    for (w, h) in [(39, 24), (80, 9), (1, 1)] {
        let a = app(w, h);
        let screen = text(&a);
        if w > 30 {
            assert!(screen.contains("terminal too small"), "{screen}");
        }
    }
    snap("too_small", &app(39, 9));
    // At the minimum it draws the view.
    assert!(text(&app(40, 10)).contains("obs › overview"));
}

#[test]
fn loading_and_failed_fetches_are_drawn_inline() {
    let mut a = App::from_report(demo_report(), true, true);
    update(&mut a, Action::Resize(80, 24));
    update(&mut a, Action::Goto(View::Traces));
    update(&mut a, Action::Bottom);
    let fetches = update(&mut a, Action::Open);
    let screen = text(&a);
    assert!(screen.contains("loading trace"), "{screen}");
    assert!(
        screen.contains("loading  ? help"),
        "the spinner is in the breadcrumb: {screen}"
    );
    let Some(crate::tui::app::Fetch::Trace { seq, trace_id }) = fetches.into_iter().next() else {
        panic!()
    };
    update(
        &mut a,
        Action::Data(crate::tui::app::Data::Trace {
            seq,
            trace_id,
            result: Err("tempo http://127.0.0.1:9: connection refused".into()),
        }),
    );
    snap("waterfall_failed", &a);
}

#[test]
fn monochrome_has_no_colour_and_keeps_the_markers() {
    let mut a = app(200, 50);
    a.monochrome = true;
    update(&mut a, Action::Goto(View::Traces));
    update(&mut a, Action::Open);
    for view in [View::Overview, View::Traces, View::Waterfall] {
        update(&mut a, Action::Goto(view));
        let terminal = draw(&a);
        for cell in terminal.backend().buffer().content() {
            assert_eq!(cell.fg, Color::Reset, "{view:?}: {cell:?}");
            assert_eq!(cell.bg, Color::Reset, "{view:?}: {cell:?}");
        }
    }
    let screen = text(&a);
    let row = screen
        .lines()
        .find(|l| l.contains("checkout SELECT orders"))
        .unwrap();
    assert!(row.contains("*!"), "critical path and error marks: {row}");
    // With colour, the same screen does use colour.
    a.monochrome = false;
    let terminal = draw(&a);
    assert!(
        terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg == Color::Red)
    );
}

/// A `-o json` report keeps series values for its top rows only: a row without values opens
/// and draws (no overlay, the symptom still charted) instead of failing.
#[test]
fn rows_without_series_values_still_render() {
    let mut report = demo_report();
    report.trim_series(0);
    let json = serde_json::to_string(&report).unwrap();
    let loaded: crate::report::Report = serde_json::from_str(&json).unwrap();
    assert!(loaded.correlations.iter().all(|c| c.values.is_empty()));
    assert_eq!(loaded.candidates.values_rows, Some(0));
    for (w, h) in SIZES {
        let mut a = App::from_report(loaded.clone(), false, false);
        update(&mut a, Action::Resize(w, h));
        assert!(text(&a).contains("db_client_connection_count"));
        update(&mut a, Action::Open);
        let screen = text(&a);
        assert!(screen.contains("db_client_connection_count"), "{screen}");
        update(&mut a, Action::ToggleLagShift);
        let _ = text(&a);
    }
}
