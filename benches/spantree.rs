//! The span tree of a 100 000-span trace: build (parent links, anomalies, self times, critical
//! path), the waterfall's layout (filters and row order) and a screenful of rows, and the JSON
//! view. Goal: build + critical path + layout well under 1 s in release.

use std::hint::black_box;

mod common;

use common::big_trace;
use criterion::{Criterion, criterion_group, criterion_main};
use obs::analysis::spantree::{SpanTree, build};
use obs::model::trace::Attributes;
use obs::model::{Span, SpanKind, StatusCode, Trace};
use obs::report::waterfall::{WaterfallOptions, render_rows, trace_view, visible_rows};

const SPANS: usize = 100_000;

/// A chain 100 000 spans deep (each span the only child of the previous one).
fn deep_chain(n: usize) -> Trace {
    let spans = (0..n)
        .map(|k| Span {
            trace_id: "aa3683ad52e9b569c004436d55771b03".into(),
            span_id: format!("{:016x}", k + 1),
            parent_span_id: (k > 0).then(|| format!("{k:016x}")),
            name: "recurse".into(),
            service: "svc".into(),
            kind: SpanKind::Internal,
            start_unix_nano: k as i64,
            end_unix_nano: (2 * n - k) as i64,
            status: StatusCode::Unset,
            status_message: String::new(),
            attributes: Attributes::new(),
            resource: Attributes::new(),
            scope: None,
            events: Vec::new(),
            links: Vec::new(),
        })
        .collect();
    Trace {
        trace_id: "aa3683ad52e9b569c004436d55771b03".into(),
        spans,
    }
}

fn bench(c: &mut Criterion) {
    let trace = big_trace(SPANS);
    let opts = WaterfallOptions::default();
    let mut g = c.benchmark_group("spantree 100k spans");
    g.sample_size(20);

    g.bench_function("build + critical path (moving the spans)", |b| {
        b.iter_batched(
            || trace.clone(),
            |t| black_box(SpanTree::from_trace(t)),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("build + critical path + layout (cloning the trace)", |b| {
        b.iter(|| {
            let tree = build(black_box(&trace));
            black_box(visible_rows(&tree, &opts).len())
        })
    });

    let tree = build(&trace);
    let errors_only = WaterfallOptions {
        errors_only: true,
        ..WaterfallOptions::default()
    };
    g.bench_function("layout (all rows)", |b| {
        b.iter(|| black_box(visible_rows(&tree, &opts).len()))
    });
    g.bench_function("layout (errors and their ancestors)", |b| {
        b.iter(|| black_box(visible_rows(&tree, &errors_only).len()))
    });
    g.bench_function("render 50 rows at row 50 000, width 160", |b| {
        let wide = WaterfallOptions {
            width: 160,
            color: true,
            ..WaterfallOptions::default()
        };
        b.iter(|| black_box(render_rows(&tree, &wide, 50_000, 50)))
    });
    g.bench_function("trace_view (obs trace -o json model)", |b| {
        b.iter(|| black_box(trace_view(&tree).spans.len()))
    });

    let chain = deep_chain(SPANS);
    g.bench_function("build a 100k-deep chain", |b| {
        b.iter(|| black_box(build(&chain)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
