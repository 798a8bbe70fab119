//! `obs demo`: the flags (`--keep`), the runtime and the printing around `crate::demo`, which
//! runs the sink, the simulated shop and the investigation and judges the report.

use std::io::IsTerminal as _;
use std::time::SystemTime;

use crate::cli::{Cli, DemoArgs, Output};
use crate::demo::{self, CAUSE_METRIC, KeepExists, TempDir, Verdict, shop};
use crate::report::Report;
use crate::report::text::{TextOptions, render};
use crate::source::local_traces::LocalStore;

use super::runtime;

pub fn run(cli: &Cli, args: &DemoArgs) -> anyhow::Result<u8> {
    if args.llm.dry_run && !args.explain {
        return Err(super::explain::ExplainUsageError::DryRunWithoutExplain.into());
    }
    if let Some(path) = &args.keep
        && path.exists()
    {
        return Err(KeepExists { path: path.clone() }.into());
    }
    let dir = TempDir::new()?;
    let store_path = match &args.keep {
        Some(path) => path.clone(),
        None => dir.path.join("demo.db"),
    };
    let runtime = runtime()?;
    let quiet = cli.global.quiet;
    let say = |line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    let plan = shop::Plan::default();
    say(&format!(
        "obs demo: a shop (frontend → checkout → payments, inventory; checkout → postgres) \
         sending OTLP to an embedded sink; store {}",
        store_path.display()
    ));
    say(&format!(
        "injecting: checkout's database pool \"orders\" saturates {:.0}s into the run \
         ({}/{} connections held by a leaking query); checkout times out waiting for \
         connections and frontend answers 502",
        plan.tick.as_secs_f64() * f64::from(plan.fault_tick),
        plan.pool_size,
        plan.pool_size
    ));
    let timeline = runtime.block_on(demo::simulate(&plan, &store_path, &say))?;
    say(&format!(
        "sent {} requests ({} failed) in {:.0}s; investigating the store",
        timeline.requests,
        timeline.failed_requests,
        demo::secs(timeline.end) - demo::secs(timeline.start)
    ));
    let store = LocalStore::open(&store_path)?;
    let metrics = crate::source::local::open_local_metrics(store.path());
    let code = match metrics {
        Ok(metrics) => {
            let report = runtime.block_on(demo::investigation(
                &metrics,
                &store,
                &plan,
                &timeline,
                !quiet && std::io::stderr().is_terminal(),
            ))?;
            let verdict = demo::judge(&report, &timeline, &plan);
            let explained = if args.explain {
                explain_demo(cli, args, &report, &verdict, &timeline)?
            } else {
                print_outcome(cli, &report, &verdict, &timeline, None)?;
                0
            };
            if verdict.found { explained } else { 1 }
        }
        Err(e) => {
            // No investigation without metrics: say so, and show what the store can show.
            let evidence = runtime.block_on(demo::trace_evidence(&store, &timeline))?;
            println!("investigation not run: {e:#}");
            println!("{evidence}");
            0
        }
    };
    if let Some(path) = &args.keep {
        say(&format!(
            "kept the store; the same investigation: {}\n\
             and: obs store info --store {p}; obs logs --store {p} --service checkout --level error",
            demo::investigate_command_line(path, &timeline, &plan),
            p = path.display(),
        ));
    }
    drop(dir);
    Ok(code)
}

/// `--explain`: the outcome, then the explanation of the demo's report (text), or the
/// outcome with the report's `explanation` (JSON); a dry run prints the request after the
/// text outcome, or alone as JSON.
fn explain_demo(
    cli: &Cli,
    args: &DemoArgs,
    report: &Report,
    verdict: &Verdict,
    timeline: &shop::Timeline,
) -> anyhow::Result<u8> {
    use super::explain::{Outcome, explain_value, print_after_text, print_dry_run};
    let config = super::load_config(cli, &crate::config::Overrides::default())?;
    let value = serde_json::to_value(report)?;
    if cli.global.output != Output::Json {
        print_outcome(cli, report, verdict, timeline, None)?;
    }
    let outcome = explain_value(cli, &value, config.llm.as_ref(), &args.llm)?;
    match (&outcome, cli.global.output) {
        (_, Output::Text | Output::Markdown) => print_after_text(cli, &outcome)?,
        (Outcome::DryRun(d), Output::Json) => print_dry_run(cli, d)?,
        (Outcome::Explained(e), Output::Json) => {
            print_outcome(cli, report, verdict, timeline, Some(e))?
        }
    }
    Ok(outcome.exit_code())
}

fn print_outcome(
    cli: &Cli,
    report: &Report,
    verdict: &Verdict,
    timeline: &shop::Timeline,
    explanation: Option<&crate::explain::Explanation>,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if cli.global.output == Output::Json {
        let mut report = serde_json::to_value(report)?;
        if let Some(e) = explanation {
            report = super::explain::with_explanation(report, e);
        }
        let json = serde_json::json!({
            "injected": demo::injected_json(timeline),
            "verdict": verdict,
            "report": report,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
        return Ok(());
    }
    let tz = jiff::tz::TimeZone::system();
    if cli.global.output == Output::Markdown {
        let text = crate::report::markdown::render(
            report,
            &crate::report::markdown::MarkdownOptions {
                top: 10,
                time_zone: tz,
                grafana: None,
                log_service_label: None,
                context: None,
                store: None,
                scrape_interval: None,
            },
        );
        out.write_all(text.as_bytes())?;
        return Ok(());
    }
    let text = render(
        report,
        &TextOptions {
            color: std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            width: 120,
            top: 10,
            time_zone: tz.clone(),
        },
    );
    out.write_all(text.as_bytes())?;
    let clock = |t: SystemTime, format: &str| {
        jiff::Timestamp::try_from(t)
            .map(|t| t.to_zoned(tz.clone()).strftime(format).to_string())
            .unwrap_or_default()
    };
    let at = format!(
        "{} → {}",
        clock(timeline.fault, "%H:%M:%S"),
        clock(timeline.fault_end, "%H:%M:%S %Z")
    );
    writeln!(out)?;
    writeln!(
        out,
        "Injected  checkout's database pool \"orders\" saturated {at} ({CAUSE_METRIC}{{db_client_connection_pool_name=\"orders\"}} → 20/20)"
    )?;
    let rank = match verdict.root_cause_rank {
        Some(1) => "ranked first".to_string(),
        Some(n) => format!("ranked #{n}, not first"),
        None => "not among the correlated metrics".to_string(),
    };
    let onset = match verdict.onset_after_injection_s {
        Some(d) => format!("onset {d:+.1}s from the injection"),
        None => "no onset found".to_string(),
    };
    writeln!(
        out,
        "Found it  {}: root cause {rank}; {onset}{}",
        if verdict.found { "yes" } else { "no" },
        if verdict.trace_shows_cause {
            "; a followed trace shows the pool timeout"
        } else {
            ""
        }
    )?;
    out.flush()?;
    Ok(())
}
