//! End-to-end: `investigate::run` against a real Prometheus holding the planted incident of the
//! integration tests (4 h of 59 series at 15 s, backfilled with promtool).
//!
//! Run with `cargo bench --bench investigate` (needs `prometheus` and `promtool` installed).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../tests/support/mod.rs"]
mod support;

use obs::config::{self, Overrides};
use obs::investigate::{self, Options};
use obs::source::{Metrics, http::HttpClient, prometheus::Prometheus};
use support::prometheus::{Options as PromOptions, TestPrometheus, unix_now};
use support::scenario;

fn bench(c: &mut Criterion) {
    // A multiple of 90 minutes (the traffic wave of the scenario): the same report every run.
    let end = (unix_now() - 300) / 5400 * 5400;
    let planted = scenario::planted(end, 7);
    let prom = TestPrometheus::start(PromOptions {
        backfill: Some(planted.openmetrics.clone()),
        ..PromOptions::default()
    });
    let overrides = Overrides {
        prometheus_url: Some(prom.url().to_string()),
        ..Overrides::default()
    };
    let config = config::load(None, &overrides, &|_| None).expect("default config");
    let http = HttpClient::new("prometheus", &config.prometheus).expect("client");
    let metrics = Metrics::Prometheus(Prometheus::new(http));
    let since = (end - 2 * 3600) as f64;
    // The symptom and the scrape interval auto-detected, so the bench includes the measuring
    // queries.
    let options = Options::window(since, end as f64, since - 7200.0, 30.0);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("investigate");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("planted incident, 2h window at 30s, real prometheus", |b| {
        b.iter(|| {
            let report = runtime
                .block_on(investigate::run(&metrics, &options))
                .expect("investigation runs");
            assert_eq!(report.correlations[0].metric, planted.root_cause);
            report
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
