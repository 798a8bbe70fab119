//! `obs trace TRACE_ID`: one trace from Tempo, Jaeger or a store, drawn as a waterfall (text)
//! or its span tree (JSON). The pattern every command follows: resolve the arguments and
//! configuration into what to run, run it, render it for `-o`.

use crate::analysis::spantree::{self, SpanTree};
use crate::cli::{Cli, Output, TraceArgs};
use crate::config::Overrides;
use crate::model::trace::normalize_trace_id;
use crate::report::waterfall::{self, WaterfallOptions};
use crate::source::Traces;
use crate::source::local_traces::{LocalStore, LocalTraces};

use super::{UsageError, load_config, local_zone, print, runtime, terminal_width, use_color};

/// The trace backend answered that it does not have the trace (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error(
    "trace {trace_id} not found in {backend} at {url}: check the id, or whether the trace is \
     older than the backend's retention"
)]
pub struct TraceNotFound {
    pub trace_id: String,
    pub backend: &'static str,
    pub url: String,
}

pub fn run(cli: &Cli, args: &TraceArgs) -> anyhow::Result<u8> {
    let (trace_id, traces) = resolve(cli, args)?;
    tracing::info!(backend = traces.kind(), url = traces.url(), %trace_id, "fetching trace");
    let Some(trace) = runtime()?.block_on(traces.trace(&trace_id))? else {
        return Err(TraceNotFound {
            trace_id,
            backend: traces.kind(),
            url: traces.url().to_string(),
        }
        .into());
    };
    let tree = spantree::build(&trace);
    print(&render(cli, args, &tree)?)?;
    Ok(0)
}

/// The normalised trace id and the backend to ask: the store with `--store`, else the
/// configured Tempo or Jaeger.
fn resolve(cli: &Cli, args: &TraceArgs) -> anyhow::Result<(String, Traces)> {
    let trace_id = normalize_trace_id(&args.trace_id)?;
    let overrides = Overrides {
        tempo_url: args.backend.tempo_url.clone(),
        jaeger_url: args.backend.jaeger_url.clone(),
        tenant: args.tenant.clone(),
        timeout: args.timeout.clone(),
        ..Overrides::default()
    };
    let config = load_config(cli, &overrides)?;
    let store = args
        .store
        .clone()
        .or_else(|| super::zero_config_store(config.traces().is_none(), cli.global.quiet));
    let traces = match &store {
        Some(path) => Traces::Local(LocalTraces::new(LocalStore::open(path)?)),
        None => super::traces_backend(&config)?.ok_or(UsageError::NoTraces)?,
    };
    Ok((trace_id, traces))
}

fn render(cli: &Cli, args: &TraceArgs, tree: &SpanTree) -> anyhow::Result<String> {
    Ok(match cli.global.output {
        Output::Json => serde_json::to_string_pretty(&waterfall::trace_view(tree))? + "\n",
        Output::Markdown => {
            let text = waterfall::render(
                tree,
                &WaterfallOptions {
                    width: 120,
                    color: false,
                    max_depth: args.depth,
                    service: args.service.clone(),
                    errors_only: args.errors_only,
                    max_rows: None,
                    time_zone: local_zone(),
                },
            );
            format!(
                "## Trace {}\n\n```text\n{}\n```\n",
                tree.trace_id(),
                text.trim_end()
            )
        }
        Output::Text => waterfall::render(
            tree,
            &WaterfallOptions {
                width: terminal_width(),
                color: use_color(cli.global.color),
                max_depth: args.depth,
                service: args.service.clone(),
                errors_only: args.errors_only,
                max_rows: None,
                time_zone: local_zone(),
            },
        ),
    })
}
