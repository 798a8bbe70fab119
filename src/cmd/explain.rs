//! `obs explain REPORT.json`, and `--explain` on `investigate` and `demo`: resolve the LLM
//! settings (the context's `[contexts.NAME.llm]`, `OPENAI_*`, flags), then either print the
//! dry run (the exact request body; nothing sent) or ask the server, streaming the answer to
//! stderr while it arrives, and print the checked explanation (text) or the report with its
//! `explanation` (JSON). Ctrl-C cancels the request; the rest of the report has printed.
//!
//! Glue only: packing, redaction, the request and answer checking live in `crate::explain`.
//! Nothing here prints a secret.

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

use crate::cli::{Cli, ExplainArgs, LlmArgs, Output};
use crate::config::Overrides;
use crate::explain::settings::{self, LlmFile, LlmFlags, LlmSettings};
use crate::explain::{DryRun, Explanation, render};

use super::{load_config, print, runtime};

/// `obs explain` cannot run as asked (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ExplainUsageError {
    #[error(
        "no API key for the LLM: set {var} (or api_key in [contexts.NAME.llm]); servers that \
         need none, such as a local Ollama, accept any value; --dry-run shows the request \
         without one",
        var = settings::ENV_API_KEY
    )]
    NoApiKey,
    #[error("{path} is not an obs report (the JSON of `obs investigate -o json`): {reason}")]
    NotAReport { path: String, reason: String },
    #[error("--dry-run only applies with --explain")]
    DryRunWithoutExplain,
}

/// What an explain step produced.
pub enum Outcome {
    DryRun(Box<DryRun>),
    Explained(Box<Explanation>),
}

impl Outcome {
    /// 1 when the explanation failed (the report still printed).
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Explained(e) if e.failed() => 1,
            _ => 0,
        }
    }
}

pub fn run(cli: &Cli, args: &ExplainArgs) -> anyhow::Result<u8> {
    let report = read_report(&args.report)?;
    let config = load_config(cli, &Overrides::default())?;
    let outcome = explain_value(cli, &report, config.llm.as_ref(), &args.llm)?;
    match &outcome {
        Outcome::DryRun(d) => print_dry_run(cli, d)?,
        Outcome::Explained(e) => match cli.global.output {
            Output::Json => {
                print(&(serde_json::to_string_pretty(&with_explanation(report, e))? + "\n"))?
            }
            Output::Text | Output::Markdown => print(&render::text(e))?,
        },
    }
    Ok(outcome.exit_code())
}

/// The report `path` (or `-` for stdin) as JSON, checked to be an obs report.
fn read_report(path: &Path) -> anyhow::Result<Value> {
    let shown = path.display().to_string();
    let text = if shown == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read the report from stdin")?
    } else {
        std::fs::read_to_string(path).map_err(|e| ExplainUsageError::NotAReport {
            path: shown.clone(),
            reason: format!("cannot read it: {e}"),
        })?
    };
    let not = |reason: String| ExplainUsageError::NotAReport {
        path: shown.clone(),
        reason,
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| not(format!("not JSON: {e}")))?;
    match value.get("schema_version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(crate::report::SCHEMA_VERSION) => Ok(value),
        Some(v) => Err(not(format!(
            "schema_version {v}, this obs reads {}",
            crate::report::SCHEMA_VERSION
        ))
        .into()),
        None => Err(not("it has no schema_version".to_string()).into()),
    }
}

/// The report JSON with `explanation` added.
pub fn with_explanation(mut report: Value, e: &Explanation) -> Value {
    if let (Some(map), Ok(v)) = (report.as_object_mut(), serde_json::to_value(e)) {
        map.insert("explanation".to_string(), v);
    }
    report
}

fn llm_settings(file: Option<&LlmFile>, args: &LlmArgs) -> anyhow::Result<LlmSettings> {
    let flags = LlmFlags {
        model: args.model.clone(),
        max_input_tokens: args.max_input_tokens,
        timeout: args.llm_timeout.clone(),
    };
    Ok(settings::resolve(file, &flags, &|k| std::env::var(k).ok())?)
}

/// The dry run, or the explanation of `report` (its JSON form). Streams the answer to stderr
/// when stderr is a terminal.
pub fn explain_value(
    cli: &Cli,
    report: &Value,
    file: Option<&LlmFile>,
    args: &LlmArgs,
) -> anyhow::Result<Outcome> {
    let settings = llm_settings(file, args)?;
    if args.dry_run {
        let d = crate::explain::dry_run(report, &settings);
        return Ok(Outcome::DryRun(Box::new(d)));
    }
    if settings.api_key.is_none() {
        return Err(ExplainUsageError::NoApiKey.into());
    }
    let quiet = cli.global.quiet;
    let live = !quiet && std::io::stderr().is_terminal();
    if !quiet {
        eprintln!(
            "explain: asking {} at {} (Ctrl-C cancels)…",
            settings.model,
            crate::explain::redact::url_for_log(&settings.base_url)
        );
    }
    let rt = runtime()?;
    let explanation = rt.block_on(async {
        let mut on_delta = |d: &str| {
            if live {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(d.as_bytes());
                let _ = err.flush();
            }
        };
        tokio::select! {
            e = crate::explain::explain(report, &settings, &mut on_delta) => Some(e),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    if live {
        eprintln!();
    }
    let e = match explanation {
        Some(e) => e,
        None => cancelled(&settings, report),
    };
    if let Some(err) = &e.error
        && !quiet
    {
        tracing::warn!("explain: {err}");
    }
    Ok(Outcome::Explained(Box::new(e)))
}

/// The explanation of a request cancelled with Ctrl-C.
fn cancelled(settings: &LlmSettings, report: &Value) -> Explanation {
    let p = crate::explain::prepare(report, settings);
    let mut e = Explanation::unanswered(&p, crate::explain::request::Format::JsonSchema);
    e.error = Some("cancelled with Ctrl-C before the answer was complete".to_string());
    e
}

/// The dry run: the body on stdout (text), or the whole dry run as JSON; the summary on
/// stderr.
pub fn print_dry_run(cli: &Cli, d: &DryRun) -> anyhow::Result<()> {
    match cli.global.output {
        Output::Json => print(&(serde_json::to_string_pretty(d)? + "\n"))?,
        Output::Text | Output::Markdown => {
            print(&(serde_json::to_string_pretty(&d.body)? + "\n"))?;
            if !cli.global.quiet {
                eprintln!("{}", render::dry_run_summary(d));
            }
        }
    }
    Ok(())
}

/// After a text report: the explanation's block (or the dry run). After a JSON report the
/// caller adds `explanation` itself.
pub fn print_after_text(cli: &Cli, outcome: &Outcome) -> anyhow::Result<()> {
    match outcome {
        Outcome::DryRun(d) => print_dry_run(cli, d),
        Outcome::Explained(e) => print(&format!("\n{}", render::text(e))),
    }
}

/// A report with its explanation (`--explain`): the text report first, so it is read while
/// the model answers, then the explanation's block; or one JSON document, the report with
/// `explanation` (a dry run prints the dry run instead). Returns 1 when the explanation failed.
pub fn report_and_explain(
    cli: &Cli,
    report: &impl serde::Serialize,
    file: Option<&LlmFile>,
    args: &LlmArgs,
    text: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<u8> {
    let value = serde_json::to_value(report)?;
    match cli.global.output {
        // Markdown reads like the text report here: the document, then the explanation.
        Output::Text | Output::Markdown => {
            print(&text()?)?;
            let outcome = explain_value(cli, &value, file, args)?;
            print_after_text(cli, &outcome)?;
            Ok(outcome.exit_code())
        }
        Output::Json => {
            let outcome = explain_value(cli, &value, file, args)?;
            match &outcome {
                Outcome::DryRun(d) => print_dry_run(cli, d)?,
                Outcome::Explained(e) => {
                    print(&(serde_json::to_string_pretty(&with_explanation(value, e))? + "\n"))?
                }
            }
            Ok(outcome.exit_code())
        }
    }
}
