//! `obs store info`: what a store file holds (counts, services, first and last timestamps),
//! read-only so it works while a sink writes to it.

use crate::cli::{Cli, Output, StoreCommand};
use crate::sink;
use crate::store::{Store, StoreInfo};

use super::print;

pub fn run(cli: &Cli, command: &StoreCommand) -> anyhow::Result<u8> {
    match command {
        StoreCommand::Info(args) => info(cli, args.store.as_deref()),
    }
}

fn info(cli: &Cli, store: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let env = |k: &str| std::env::var(k).ok();
    let path = sink::store_path(store, &env)?;
    let info = Store::open_read_only(&path)?.info()?;
    match cli.global.output {
        Output::Json => print(&(serde_json::to_string_pretty(&info)? + "\n"))?,
        Output::Text | Output::Markdown => print(&render_info(&info))?,
    }
    Ok(0)
}

/// `obs store info` as text: one aligned line per fact.
fn render_info(info: &StoreInfo) -> String {
    let services = if info.services.is_empty() {
        "(none)".to_string()
    } else {
        info.services.join(", ")
    };
    let none = || "-".to_string();
    let rows = [
        ("store", info.path.clone()),
        ("schema", format!("v{}", info.schema_version)),
        ("size", format_bytes(info.size_bytes)),
        ("spans", info.spans.to_string()),
        ("traces", info.traces.to_string()),
        ("logs", info.logs.to_string()),
        ("metric points", info.metric_points.to_string()),
        ("series", info.series.to_string()),
        ("exemplars", info.exemplars.to_string()),
        ("services", services),
        ("first", info.first.clone().unwrap_or_else(none)),
        ("last", info.last.clone().unwrap_or_else(none)),
    ];
    rows.iter().map(|(k, v)| format!("{k:<14} {v}\n")).collect()
}

fn format_bytes(n: u64) -> String {
    crate::sink::health::human_bytes(n)
}
