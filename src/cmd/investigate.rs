//! `obs investigate`: resolve the window and the configuration into `investigate::Options`,
//! pick the backends (or a store), run the investigation and follow its exemplars to traces
//! and logs, then print the `Report` as text or JSON. The exit code is 1 when a source failed.

use std::io::IsTerminal as _;

use crate::analysis::spike::Direction;
use crate::cli::{Cli, DirectionArg, InvestigateArgs, InvestigationArgs, Output, SymptomArg};
use crate::config::{Config, Overrides};
use crate::investigate::{self, FollowOptions, Options};
use crate::report::Report;
use crate::report::markdown::{self, MarkdownOptions};
use crate::report::text::{TextOptions, render};
use crate::source::http::HttpClient;
use crate::source::local_traces::{LocalLogs, LocalStore, LocalTraces};
use crate::source::prometheus::Prometheus;
use crate::source::{Logs, Metrics, Traces};
use crate::timespec;

use super::{load_config, origin_of, print, runtime, terminal_width, use_color};

pub fn run(cli: &Cli, args: &InvestigateArgs) -> anyhow::Result<u8> {
    if args.tui {
        // Before the investigation: a pipe cannot show the UI, so say so at once.
        if cli.global.output == Output::Json {
            return Err(crate::tui::TuiError::TuiAndJson.into());
        }
        crate::tui::require_terminal()?;
    }
    if args.llm.dry_run && !args.explain {
        return Err(super::explain::ExplainUsageError::DryRunWithoutExplain.into());
    }
    let config = load_config(cli, &overrides(&args.investigation))?;
    let now = jiff::Zoned::now();
    let options = options(cli, &args.investigation, &config, &now)?;
    tracing::info!(
        context = %config.context,
        prometheus = %config.prometheus.url,
        step_seconds = options.step,
        "investigating"
    );
    let store = args
        .store
        .clone()
        .or_else(|| super::zero_config_store(super::nothing_configured(&config), cli.global.quiet));
    let (metrics, traces, logs) = backends(store.as_deref(), &config)?;
    let runtime = runtime()?;
    let mut options = options;
    if let Metrics::Prometheus(p) = &metrics {
        // Two small requests that let investigate skip what the backend cannot give.
        let (exemplars, why) = runtime.block_on(crate::source::probe::exemplar_support(
            p.http(),
            options.until.max(options.since),
            config
                .prometheus
                .timeout
                .min(std::time::Duration::from_secs(5)),
        ));
        if exemplars == crate::model::Support::No {
            tracing::info!("{why}");
        }
        options.capabilities.exemplars = exemplars;
    }
    let report = gather(
        &runtime,
        &args.investigation,
        &config,
        &options,
        &metrics,
        &traces,
        &logs,
    )?;
    if args.tui {
        let failed = report.any_source_failed();
        let sources = crate::tui::Sources { traces, logs };
        let options = super::tui::options(cli.global.color);
        crate::tui::run_report(report, sources, &options, runtime.handle())?;
        return Ok(if failed { 1 } else { 0 });
    }
    if !cli.global.quiet {
        for warning in &report.warnings {
            tracing::warn!("{warning}");
        }
    }
    let code = if report.any_source_failed() { 1 } else { 0 };
    let tz = now.time_zone().clone();
    if args.explain {
        let explained = super::explain::report_and_explain(
            cli,
            &report,
            config.llm.as_ref(),
            &args.llm,
            || render_report(cli, args, store.as_deref(), &config, &report, tz),
        )?;
        return Ok(code.max(explained));
    }
    print(&render_report(
        cli,
        args,
        store.as_deref(),
        &config,
        &report,
        tz,
    )?)?;
    Ok(code)
}

/// Everything an investigation fetches and concludes, from the backends given: the metrics
/// investigation, then its traces and their logs, log patterns, the timeline, markers and
/// findings. `obs snapshot` runs the same steps over recording backends.
pub(super) fn gather(
    runtime: &tokio::runtime::Runtime,
    args: &InvestigationArgs,
    config: &Config,
    options: &Options,
    metrics: &Metrics,
    traces: &Option<Traces>,
    logs: &Option<Logs>,
) -> anyhow::Result<Report> {
    let mut report = runtime.block_on(investigate::run(metrics, options))?;
    let (start, end) = investigate::spike_window(&report);
    let follow = FollowOptions {
        traces: args.traces,
        service: args.service.clone(),
        start,
        end,
        trace_match: config.trace_match,
        log_selector: config.log_selector.clone(),
        logs_per_trace: 50,
        concurrency: config.concurrency.min(8),
    };
    let followed = runtime.block_on(investigate::follow(
        &report.exemplars,
        traces.as_ref(),
        logs.as_ref(),
        &follow,
    ));
    followed.apply(&mut report);
    if let Some(logs) = logs.as_ref() {
        let opts = investigate::log_patterns::Options {
            service: args.service.clone(),
            selector: config.log_selector.clone(),
            concurrency: config.concurrency.min(8),
            ..investigate::log_patterns::Options::default()
        };
        runtime
            .block_on(investigate::log_patterns::run(&report, logs, &opts))
            .apply(&mut report);
    }
    report.timeline = investigate::timeline::build(&report);
    if report.symptom.verdict != crate::report::Verdict::NoData {
        let (markers, warnings) = runtime.block_on(investigate::markers::find(metrics, &report));
        report.warnings.extend(warnings);
        investigate::markers::merge(&mut report.timeline, markers);
    }
    report.findings = investigate::findings::build(&report);
    Ok(report)
}

/// The command's flags as the highest configuration layer.
pub(super) fn overrides(args: &InvestigationArgs) -> Overrides {
    Overrides {
        tempo_url: args.traces_backend.tempo_url.clone(),
        jaeger_url: args.traces_backend.jaeger_url.clone(),
        loki_url: args.loki_url.clone(),
        trace_match: args.trace_match.map(|m| m.as_str().to_string()),
        log_selector: args.log_selector.clone(),
        prometheus_url: args.prometheus_url.clone(),
        tenant: args.tenant.clone(),
        timeout: args.timeout.clone(),
        error_query: args.symptom_queries.first().cloned(),
        latency_query: args.latency_query.clone(),
        service_label: args.service_label.clone(),
        candidate_match: args.candidate_match.clone(),
        candidates: args.candidates.clone(),
        max_candidates: args.max_candidates,
        concurrency: args.concurrency,
        scrape_interval: args.scrape_interval.clone(),
        ..Overrides::default()
    }
}

/// The window (relative to `now`) and the resolved settings as the investigation's options.
pub(super) fn options(
    cli: &Cli,
    args: &InvestigationArgs,
    config: &Config,
    now: &jiff::Zoned,
) -> anyhow::Result<Options> {
    // A scrape interval someone set is the smallest step; otherwise the investigation
    // measures it and raises the automatic step to it.
    let scrape_origin = match config.source("scrape_interval") {
        Some(crate::config::Source::Default) | None => None,
        Some(_) => Some(origin_of(config, "scrape_interval")),
    };
    let min_step = if scrape_origin.is_some() {
        config.scrape_interval
    } else {
        std::time::Duration::ZERO
    };
    let window = timespec::resolve_window(
        &args.since,
        args.until.as_deref(),
        args.baseline.as_deref(),
        args.step.as_deref(),
        min_step,
        now,
    )?;
    let tz = now.time_zone();
    let unix = |ts: jiff::Timestamp| ts.as_duration().as_secs_f64();
    Ok(Options {
        since: unix(window.since),
        until: unix(window.until),
        baseline_since: unix(window.baseline_since),
        step: window.step.as_secs_f64(),
        step_explicit: args.step.is_some(),
        direction: match args.direction {
            None | Some(DirectionArg::Up) => Direction::Up,
            Some(DirectionArg::Down) => Direction::Down,
            Some(DirectionArg::Auto) => Direction::Auto,
        },
        symptom: match args.symptom {
            None | Some(SymptomArg::Auto) => investigate::SymptomKind::Auto,
            Some(SymptomArg::Errors) => investigate::SymptomKind::Errors,
            Some(SymptomArg::Latency) => investigate::SymptomKind::Latency,
        },
        // Every --symptom-query given, else the configured error_query.
        symptom_queries: if args.symptom_queries.is_empty() {
            config
                .error_query
                .iter()
                .map(|q| (q.clone(), origin_of(config, "error_query")))
                .collect()
        } else {
            args.symptom_queries
                .iter()
                .map(|q| (q.clone(), "flag".to_string()))
                .collect()
        },
        latency_query: config.latency_query.clone(),
        service: args.service.clone(),
        service_label: config.service_label.clone(),
        candidate_match: config.candidate_match.clone(),
        candidates: config.candidates.clone(),
        max_candidates: config.max_candidates,
        concurrency: config.concurrency,
        scrape_interval: config.scrape_interval.as_secs_f64(),
        scrape_interval_origin: scrape_origin,
        max_exemplars: args.exemplars,
        progress: !cli.global.quiet && std::io::stderr().is_terminal(),
        time_zone: tz
            .iana_name()
            .map(str::to_string)
            .unwrap_or_else(|| tz.to_offset(window.since).to_string()),
        capabilities: crate::model::Capabilities::default(),
    })
}

/// Metrics, traces and logs: all three from the store (`--store`, or the default store when
/// nothing is configured), else the configured Prometheus and whichever traces and logs
/// backends are configured.
fn backends(
    store: Option<&std::path::Path>,
    config: &Config,
) -> anyhow::Result<(Metrics, Option<Traces>, Option<Logs>)> {
    Ok(match store {
        Some(path) => {
            let store = LocalStore::open(path)?;
            (
                crate::source::local::open_local_metrics(store.path())?,
                Some(Traces::Local(LocalTraces::new(store.clone()))),
                Some(Logs::Local(LocalLogs::new(store))),
            )
        }
        None => {
            let http = HttpClient::new("prometheus", &config.prometheus)?;
            (
                Metrics::Prometheus(Prometheus::new(http)),
                super::traces_backend(config)?,
                super::logs_backend(config)?,
            )
        }
    })
}

/// Correlation rows whose values `-o json` carries without `--full-series`: enough for any
/// chart a script draws, and a report of thousands of rows stays a few megabytes.
pub const JSON_SERIES_ROWS: usize = 50;

fn render_report(
    cli: &Cli,
    args: &InvestigateArgs,
    store: Option<&std::path::Path>,
    config: &Config,
    report: &Report,
    time_zone: jiff::tz::TimeZone,
) -> anyhow::Result<String> {
    Ok(match cli.global.output {
        Output::Json if !args.full_series && report.correlations.len() > JSON_SERIES_ROWS => {
            let mut trimmed = report.clone();
            trimmed.trim_series(JSON_SERIES_ROWS);
            serde_json::to_string_pretty(&trimmed)? + "\n"
        }
        Output::Json => serde_json::to_string_pretty(report)? + "\n",
        Output::Markdown => markdown::render(
            report,
            &MarkdownOptions {
                top: args.top,
                time_zone,
                grafana: config.grafana.clone(),
                log_service_label: config.log_service_label.clone(),
                context: cli.global.context.clone(),
                store: store.map(|p| p.display().to_string()),
                scrape_interval: Some(
                    report
                        .window
                        .resolution
                        .as_ref()
                        .map_or(config.scrape_interval.as_secs_f64(), |r| {
                            r.scrape_interval_seconds
                        }),
                ),
            },
        ),
        Output::Text => render(
            report,
            &TextOptions {
                color: use_color(cli.global.color),
                width: terminal_width(),
                top: args.top,
                time_zone,
            },
        ),
    })
}
