//! Runs `obs investigate` on a planted incident, with nothing to set up but the Debian
//! `prometheus` package: starts a throw-away Prometheus on a free loopback port, backfills four
//! hours of a small shop whose checkout error rate spikes after its database pool saturates
//! (plus decoys: random walks, a trend, an unrelated step, a lagging consequence), and prints
//! the report. Extra arguments are passed to `obs investigate` (e.g. `-o json`).
//!
//! `cargo run --example planted_incident`

use clap::Parser;

#[path = "../tests/support/mod.rs"]
mod support;

use support::prometheus::{Options, TestPrometheus, unix_now};
use support::scenario;

fn main() -> std::process::ExitCode {
    // A multiple of 90 minutes (the traffic wave of the scenario): the same report every run.
    let end = (unix_now() - 300) / 5400 * 5400;
    let planted = scenario::planted(end, 7);
    eprintln!(
        "planted: checkout errors from {} for 20 min; root cause {} (rises 90 s earlier); starting prometheus…",
        planted.onset, planted.root_cause
    );
    let prom = TestPrometheus::start(Options {
        backfill: Some(planted.openmetrics.clone()),
        ..Options::default()
    });
    let since = (end - 2 * 3600).to_string();
    let until = end.to_string();
    let mut args = vec![
        "obs".to_string(),
        "investigate".into(),
        "--prometheus-url".into(),
        prom.url().to_string(),
        "--since".into(),
        since,
        "--until".into(),
        until,
    ];
    args.extend(std::env::args().skip(1));
    let cli = obs::cli::Cli::parse_from(args);
    match obs::run(cli) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(obs::exit_code(&err))
        }
    }
}
