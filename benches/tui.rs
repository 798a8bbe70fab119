//! The TUI's frame times: one frame of the waterfall of a 100 000-span (and a 1 000 000-span)
//! trace, everything expanded, scrolled to the middle, at 200×50 and 80×24; a key press to the
//! next frame with a fetch in flight; opening the UI on the demo's report (tree of its worst
//! trace, first frame). Goals: a frame ≤ 16 ms, key to frame ≤ 50 ms, opening ≤ 50 ms. It also
//! prints the memory a 1 000 000-span trace takes (the trace, then its tree and the UI state).
//!
//! Frames are drawn into ratatui's `TestBackend`: the same layout, diffing and buffer work as a
//! real terminal, without the terminal's own write time.

use std::hint::black_box;
use std::sync::Arc;

mod common;

use common::big_trace;
use criterion::{Criterion, criterion_group, criterion_main};
use obs::analysis::spantree::SpanTree;
use obs::tui::app::{Loading, WaterfallState};
use obs::tui::{Action, App, View, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn demo_report() -> obs::report::Report {
    let dir = env!("CARGO_MANIFEST_DIR");
    let bytes = std::fs::read(format!("{dir}/fixtures/tui/demo-report.json"))
        .expect("fixtures/tui/demo-report.json");
    let mut report = obs::tui::parse_report(&bytes).expect("the demo report parses");
    let trace = std::fs::read(format!("{dir}/fixtures/tui/demo-trace.json"))
        .expect("fixtures/tui/demo-trace.json");
    report.worst_trace = Some(serde_json::from_slice(&trace).expect("the demo trace parses"));
    report
}

/// Resident memory of this process, from /proc (Linux).
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The app with `tree`'s waterfall open, fully expanded, the selection in the middle.
fn app_at_middle(tree: SpanTree, width: u16, height: u16) -> App {
    let mut app = App::from_report(demo_report(), false, false);
    update(&mut app, Action::Resize(width, height));
    let n = tree.len();
    app.waterfall = Some(WaterfallState::with_tree(Arc::new(tree)));
    update(&mut app, Action::Goto(View::Waterfall));
    while app
        .waterfall
        .as_ref()
        .is_some_and(|w| w.list.selected < n / 2)
    {
        update(&mut app, Action::PageDown);
    }
    app
}

fn frame(c: &mut Criterion) {
    let mut g = c.benchmark_group("tui");
    g.sample_size(30);
    for n in [100_000usize, 1_000_000] {
        let before = rss_bytes();
        let trace = big_trace(n);
        let with_trace = rss_bytes();
        let tree = SpanTree::from_trace(trace);
        let mut app = app_at_middle(tree, 200, 50);
        let with_app = rss_bytes();
        if let (Some(a), Some(b), Some(c)) = (before, with_trace, with_app) {
            eprintln!(
                "{n} spans: the trace {:.0} MiB; the trace as a span tree with the waterfall's \
                 state {:.0} MiB (resident, whole process {:.0} MiB)",
                mib(b.saturating_sub(a)),
                mib(c.saturating_sub(a)),
                mib(c)
            );
        }
        for (w, h) in [(200u16, 50u16), (80, 24)] {
            update(&mut app, Action::Resize(w, h));
            let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
            g.bench_function(
                format!("waterfall frame, {n} spans, middle, {w}x{h}"),
                |b| {
                    b.iter(|| {
                        terminal
                            .draw(|f| obs::tui::ui::render(f, black_box(&app)))
                            .expect("draw");
                    })
                },
            );
        }
        // A key press while a fetch is in flight (the spinner turns): update, then draw.
        update(&mut app, Action::Resize(200, 50));
        if let Some(w) = app.waterfall.as_mut() {
            w.loading = Loading::Idle;
        }
        app.logs.loading = Loading::InFlight {
            seq: 1,
            what: "logs of the trace".into(),
        };
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
        let mut down = true;
        g.bench_function(format!("key to frame, {n} spans, fetch in flight"), |b| {
            b.iter(|| {
                let key = if down { Action::Down } else { Action::Up };
                down = !down;
                update(&mut app, key);
                update(&mut app, Action::Tick);
                terminal
                    .draw(|f| obs::tui::ui::render(f, &app))
                    .expect("draw");
            })
        });
    }
    let report = demo_report();
    g.bench_function(
        "open the demo report: state, worst trace's tree, first frame",
        |b| {
            b.iter_batched(
                || report.clone(),
                |report| {
                    let mut app = App::from_report(report, true, true);
                    update(&mut app, Action::Resize(200, 50));
                    let mut terminal =
                        Terminal::new(TestBackend::new(200, 50)).expect("test backend");
                    terminal
                        .draw(|f| obs::tui::ui::render(f, &app))
                        .expect("draw");
                    black_box(app.view())
                },
                criterion::BatchSize::SmallInput,
            )
        },
    );
    g.finish();
}

criterion_group!(benches, frame);
criterion_main!(benches);
