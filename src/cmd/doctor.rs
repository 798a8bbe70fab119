//! `obs doctor`: the context's backends (or the URLs given) probed at once, each probe bounded
//! by a short timeout, printed as a table (`report::doctor`) or JSON. Exit 1 when something
//! investigate needs is missing. With no backend configured and the default store present,
//! it says that commands read the store instead of probing `localhost:9090`.

use std::time::Duration;

use crate::cli::{Cli, DoctorArgs, Output};
use crate::config::Overrides;
use crate::model::capabilities::DoctorReport;
use crate::source::probe::{self, ProbeOptions};

use super::{load_config, print, runtime, terminal_width};

/// Probes wait at most this long unless `--timeout` says otherwise: a dead URL is a row, not
/// a 30-second hang.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(cli: &Cli, args: &DoctorArgs) -> anyhow::Result<u8> {
    let overrides = Overrides {
        prometheus_url: args.prometheus_url.clone(),
        tempo_url: args.traces_backend.tempo_url.clone(),
        jaeger_url: args.traces_backend.jaeger_url.clone(),
        loki_url: args.loki_url.clone(),
        tenant: args.tenant.clone(),
        timeout: args.timeout.clone(),
        ..Overrides::default()
    };
    let mut config = load_config(cli, &overrides)?;
    if args.timeout.is_none() {
        let settings = std::iter::once(&mut config.prometheus)
            .chain(config.loki.as_mut())
            .chain(config.tempo.as_mut())
            .chain(config.jaeger.as_mut());
        for s in settings {
            s.timeout = s.timeout.min(PROBE_TIMEOUT);
        }
    }
    let default_store = crate::config::default_store_path(&|k| std::env::var(k).ok())
        .filter(|p| p.is_file())
        .map(|p| p.display().to_string());
    let backends = if super::nothing_configured(&config) && default_store.is_some() {
        // What investigate, trace and logs would read: the store, not localhost:9090.
        Vec::new()
    } else {
        let now = jiff::Timestamp::now().as_duration().as_secs_f64();
        runtime()?.block_on(probe::doctor(&config, &ProbeOptions::new(&config, now)))
    };
    let report = DoctorReport::new(config.context.clone(), backends, default_store);
    match cli.global.output {
        Output::Json => print(&(serde_json::to_string_pretty(&report)? + "\n"))?,
        Output::Text | Output::Markdown => {
            print(&crate::report::doctor::render(&report, terminal_width()))?
        }
    }
    Ok(if report.ok { 0 } else { 1 })
}
