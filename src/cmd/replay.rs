//! `obs replay`: flags → [`replay::Options`], run on the runtime, and the summary as text or
//! JSON. The sending, retrying and resuming live in `replay`.

use std::time::Duration;

use crate::cli::{Cli, Output, ReplayArgs, SignalArg};
use crate::replay::{self, Options, Shift};
use crate::sink;
use crate::store::ExportSignal;
use crate::timespec;

use super::{UsageError, print, runtime};

pub fn run(cli: &Cli, args: &ReplayArgs) -> anyhow::Result<u8> {
    let options = resolve(args)?;
    let summary = runtime()?.block_on(replay::run(options))?;
    match cli.global.output {
        Output::Json => print(&(serde_json::to_string_pretty(&summary)? + "\n"))?,
        Output::Text | Output::Markdown => print(&render(&summary))?,
    }
    let rejected: u64 = summary.signals.values().map(|p| p.rejected).sum();
    Ok(u8::from(rejected > 0))
}

fn resolve(args: &ReplayArgs) -> anyhow::Result<Options> {
    let env = |k: &str| std::env::var(k).ok();
    let store = sink::store_path(args.store.as_deref(), &env)?;
    if !store.exists() {
        return Err(crate::store::StoreError::Missing { path: store }.into());
    }
    let shift = match args.shift.as_deref() {
        None => Shift::None,
        Some(s) if s.eq_ignore_ascii_case("now") => Shift::Now,
        Some(s) => {
            let (negative, d) = match s.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, s.strip_prefix('+').unwrap_or(s)),
            };
            let ns = i64::try_from(timespec::parse_duration(d)?.as_nanos()).unwrap_or(i64::MAX);
            Shift::By(if negative { -ns } else { ns })
        }
    };
    if args.batch == 0 {
        return Err(UsageError::Invalid("--batch must be at least 1".into()).into());
    }
    if args.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err(UsageError::Invalid(
            "--rate must be a positive number of items per second".into(),
        )
        .into());
    }
    if !(args.to.starts_with("http://") || args.to.starts_with("https://")) {
        return Err(UsageError::Invalid(format!(
            "--to {:?}: give the endpoint as an http:// or https:// URL, e.g. http://localhost:4318 (OTLP/HTTP) or, with --grpc, http://localhost:4317",
            args.to
        ))
        .into());
    }
    let mut headers = Vec::new();
    for h in &args.header {
        let Some((k, v)) = h.split_once(':') else {
            return Err(
                UsageError::Invalid(format!("--header {h:?}: expected `Name: value`")).into(),
            );
        };
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let signals = if args.signals.is_empty() {
        ExportSignal::ALL.to_vec()
    } else {
        let mut v: Vec<ExportSignal> = Vec::new();
        for s in &args.signals {
            let s = match s {
                SignalArg::Traces => ExportSignal::Traces,
                SignalArg::Logs => ExportSignal::Logs,
                SignalArg::Metrics => ExportSignal::Metrics,
            };
            if !v.contains(&s) {
                v.push(s);
            }
        }
        v
    };
    let timeout: Duration = timespec::parse_duration(&args.timeout)?;
    Ok(Options {
        state: args
            .state
            .clone()
            .unwrap_or_else(|| replay::default_state_path(&store)),
        store,
        to: args.to.clone(),
        grpc: args.grpc,
        shift,
        rate: args.rate,
        batch: args.batch,
        signals,
        restart: args.restart,
        headers,
        timeout,
    })
}

fn render(s: &replay::Summary) -> String {
    let mut out = format!(
        "replayed to {} (timestamps moved by {:.3} s) in {:.1} s; {} items sent this run, {} batches already acknowledged skipped\n",
        s.target,
        s.shift_ns as f64 / 1e9,
        s.seconds,
        s.sent_this_run,
        s.resumed_batches
    );
    out.push_str(&format!(
        "{:<8} {:>12} {:>14} {:>10} {:>8}  {}\n",
        "signal", "sent", "acknowledged", "rejected", "retries", "state"
    ));
    for (name, p) in &s.signals {
        out.push_str(&format!(
            "{:<8} {:>12} {:>14} {:>10} {:>8}  {}\n",
            name,
            p.sent,
            p.acknowledged,
            p.rejected,
            p.retries,
            if p.complete { "complete" } else { "incomplete" }
        ));
    }
    out
}
