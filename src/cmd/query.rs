//! `obs query PROMQL`: one expression, instant (`--time`) or range (`--since`), against
//! Prometheus or a store (evaluated by `crate::promql`), printed as a table or as
//! Prometheus-API-like JSON by `promql::render`.

use std::io::IsTerminal;

use crate::cli::{Cli, Output, QueryArgs};
use crate::config::Overrides;
use crate::promql::{Sample, Value, render};
use crate::source::Metrics;
use crate::source::http::HttpClient;
use crate::source::prometheus::Prometheus;
use crate::timespec;

use super::{load_config, print, runtime};

fn unix(ts: jiff::Timestamp) -> f64 {
    ts.as_duration().as_secs_f64()
}

pub fn run(cli: &Cli, args: &QueryArgs) -> anyhow::Result<u8> {
    let metrics = resolve(cli, args)?;
    let now = jiff::Zoned::now();
    let json = cli.global.output == Output::Json;
    let pretty = args.pretty || std::io::stdout().is_terminal();
    let text = match &args.since {
        Some(since) => range(args, &metrics, since, &now, json, pretty)?,
        None => instant(args, &metrics, &now, json, pretty)?,
    };
    print(&text)?;
    Ok(0)
}

/// The store with `--store`, else the configured Prometheus.
fn resolve(cli: &Cli, args: &QueryArgs) -> anyhow::Result<Metrics> {
    Ok(match &args.store {
        Some(path) => crate::source::local::open_local_metrics(path)?,
        None => {
            let overrides = Overrides {
                prometheus_url: args.prometheus_url.clone(),
                tenant: args.tenant.clone(),
                ..Overrides::default()
            };
            let config = load_config(cli, &overrides)?;
            Metrics::Prometheus(Prometheus::new(HttpClient::new(
                "prometheus",
                &config.prometheus,
            )?))
        }
    })
}

/// A range query from `--since` to `--until` (default now) at `--step` (default 200–400
/// points).
fn range(
    args: &QueryArgs,
    metrics: &Metrics,
    since: &str,
    now: &jiff::Zoned,
    json: bool,
    pretty: bool,
) -> anyhow::Result<String> {
    let start = unix(timespec::parse_instant(since, now)?);
    let end = match &args.until {
        Some(u) => unix(timespec::parse_instant(u, now)?),
        None => unix(now.timestamp()),
    };
    let step = match &args.step {
        Some(s) => timespec::parse_duration(s)?,
        None => timespec::choose_step(
            std::time::Duration::from_secs_f64((end - start).max(1.0)),
            std::time::Duration::from_secs(1),
        ),
    };
    let series =
        runtime()?.block_on(metrics.query_range(&args.promql, start, end, step.as_secs_f64()))?;
    Ok(if json {
        render::range_json_text(&series, pretty)?
    } else {
        render::range_text(&series)
    })
}

/// An instant query at `--time` (default now).
fn instant(
    args: &QueryArgs,
    metrics: &Metrics,
    now: &jiff::Zoned,
    json: bool,
    pretty: bool,
) -> anyhow::Result<String> {
    let time = match &args.time {
        Some(t) => unix(timespec::parse_instant(t, now)?),
        None => unix(now.timestamp()),
    };
    let runtime = runtime()?;
    let value = match metrics {
        Metrics::Local(l) => runtime.block_on(l.query_instant(&args.promql, time))?,
        // A one-point range is the instant query, in the API obs already speaks.
        Metrics::Prometheus(_) | Metrics::Recording(_) => Value::Vector(
            runtime
                .block_on(metrics.query_range(&args.promql, time, time, 1.0))?
                .into_iter()
                .filter_map(|s| {
                    let value = s.points.first()?.1;
                    Some(Sample {
                        labels: s.labels.into(),
                        value,
                    })
                })
                .collect(),
        ),
    };
    Ok(if json {
        render::json_text(&render::instant_json(&value, time), pretty)?
    } else {
        render::instant_text(&value)
    })
}
