//! `obs sink`: the flags checked and resolved into `sink::SinkOptions` (sizes, retention, the
//! free-space floor, connection cap and timeouts, the token as a `Secret`), then the receivers run until SIGINT/SIGTERM (`sink::run`).

use crate::cli::{Cli, Output, SinkArgs};
use crate::config::Secret;
use crate::sink::{self, SinkUsageError};
use crate::timespec;

use super::runtime;

pub fn run(cli: &Cli, args: &SinkArgs) -> anyhow::Result<u8> {
    let options = resolve(cli, args)?;
    runtime()?.block_on(sink::run(options))?;
    Ok(0)
}

fn resolve(cli: &Cli, args: &SinkArgs) -> anyhow::Result<sink::SinkOptions> {
    let env = |k: &str| std::env::var(k).ok();
    let off = |addr: &str| (!addr.eq_ignore_ascii_case("off")).then(|| addr.to_string());
    let max_age = args
        .max_age
        .as_deref()
        .map(timespec::parse_duration)
        .transpose()?;
    if max_age.is_some_and(|d| d.is_zero()) {
        return Err(SinkUsageError::Zero { flag: "--max-age" }.into());
    }
    let max_size = args
        .max_size
        .as_deref()
        .map(|s| sink::parse_size("--max-size", s))
        .transpose()?;
    let max_request = sink::parse_size("--max-request-size", &args.max_request_size)?;
    if max_size == Some(0) {
        return Err(SinkUsageError::Zero { flag: "--max-size" }.into());
    }
    if max_request == 0 {
        return Err(SinkUsageError::Zero {
            flag: "--max-request-size",
        }
        .into());
    }
    let min_free = sink::parse_size("--min-free", &args.min_free)?;
    let timeout = |flag: &'static str, value: &str| -> anyhow::Result<std::time::Duration> {
        let d = timespec::parse_duration(value)?;
        if d.is_zero() {
            return Err(SinkUsageError::Zero { flag }.into());
        }
        Ok(d)
    };
    if args.max_connections == 0 {
        return Err(SinkUsageError::Zero {
            flag: "--max-connections",
        }
        .into());
    }
    Ok(sink::SinkOptions {
        grpc: off(&args.grpc),
        http: off(&args.http),
        store: sink::store_path(args.store.as_deref(), &env)?,
        retention: crate::store::Retention {
            max_age,
            max_size_bytes: max_size,
        },
        receiver: sink::ReceiverConfig {
            max_request_bytes: usize::try_from(max_request).unwrap_or(usize::MAX),
            min_free_bytes: min_free,
            max_connections: args.max_connections,
            header_timeout: timeout("--header-timeout", &args.header_timeout)?,
            body_timeout: timeout("--body-timeout", &args.body_timeout)?,
            idle_timeout: timeout("--idle-timeout", &args.idle_timeout)?,
            token: args
                .token
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            ..sink::ReceiverConfig::default()
        },
        json: cli.global.output == Output::Json,
        quiet: cli.global.quiet,
        drain_timeout: std::time::Duration::from_secs(30),
    })
}
