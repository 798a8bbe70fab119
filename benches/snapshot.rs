//! What `obs snapshot` costs next to the investigation it captures: the planted incident of the
//! integration tests in a real Prometheus (4 h of 59 series at 15 s, backfilled with promtool),
//! investigated (A) through the plain Prometheus source, and (B) through the recording source
//! followed by the raw-sample fetches and writing the store file, as `obs snapshot` does.
//! A and B alternate, so a loaded machine slows both alike; the ratio of the medians is the
//! number the README quotes (target: B ≤ 1.5 × A).
//!
//! Run with `cargo bench --bench snapshot` (needs `prometheus` and `promtool` installed).
//! `OBS_BENCH_ROUNDS` sets the rounds (default 15).

use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod support;

use obs::config::{self, Overrides};
use obs::investigate::{self, Options};
use obs::source::recording::{self, Recorder};
use obs::source::{Metrics, http::HttpClient, prometheus::Prometheus};
use obs::store::{self, Captured};
use support::prometheus::{Options as PromOptions, TestPrometheus, unix_now};
use support::scenario;

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("OBS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
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
    let since = (end - 2 * 3600) as f64;
    // The symptom and the scrape interval auto-detected, so the bench includes the measuring
    // queries.
    let options = Options::window(since, end as f64, since - 7200.0, 30.0);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = Metrics::Prometheus(Prometheus::new(http.clone()));
    let (mut a, mut b, mut raw_part, mut write_part) = (vec![], vec![], vec![], vec![]);
    let mut samples = 0;
    for round in 0..rounds + 1 {
        let t = Instant::now();
        let report = runtime
            .block_on(investigate::run(&plain, &options))
            .expect("investigation runs");
        let ta = t.elapsed();
        assert_eq!(report.correlations[0].metric, planted.root_cause);

        let t = Instant::now();
        let rec = Recorder::new();
        let metrics =
            recording::record_metrics(Metrics::Prometheus(Prometheus::new(http.clone())), &rec);
        runtime
            .block_on(investigate::run(&metrics, &options))
            .expect("investigation runs");
        let Metrics::Recording(m) = &metrics else {
            unreachable!("a Prometheus source is recorded")
        };
        let t_raw = Instant::now();
        let raw = runtime.block_on(recording::raw_samples(m, 16, &|_, _| {}));
        let raw_time = t_raw.elapsed();
        let t_write = Instant::now();
        let recording = rec.take();
        let path = dir.path().join(format!("incident-{round}.db"));
        let counts = store::write_captured(
            &path,
            &Captured {
                families: recording.metadata.into_iter().collect(),
                series: raw,
                exemplars: recording.exemplars,
            },
        )
        .expect("written");
        store::write_manifest(&path, &recording.manifest, "2026-01-01T00:00:00Z")
            .expect("manifest");
        let write_time = t_write.elapsed();
        let tb = t.elapsed();
        samples = counts.samples;
        // The first round warms Prometheus's caches for both; it is not counted.
        if round > 0 {
            a.push(ta);
            b.push(tb);
            raw_part.push(raw_time);
            write_part.push(write_time);
        }
    }
    let (ma, mb) = (median(&mut a), median(&mut b));
    println!(
        "snapshot bench, {rounds} interleaved rounds, planted incident (2 h window at 30 s + 2 h baseline), {samples} raw samples captured"
    );
    println!("  investigation alone (A):                      median {ma:?}");
    println!(
        "  snapshot (B: recorded investigation + raw samples + write): median {mb:?} (raw samples {:?}, write {:?})",
        median(&mut raw_part),
        median(&mut write_part)
    );
    println!(
        "  B / A = {:.2} (target ≤ 1.5)",
        mb.as_secs_f64() / ma.as_secs_f64()
    );
}
