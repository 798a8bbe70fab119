//! `obs sink` as a process: open the store, bind, announce, serve until SIGINT/SIGTERM, then
//! stop accepting, answer what is in flight, commit what was queued, and return.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{Receiver, ReceiverConfig};
use crate::store::{self, Retention, WriterConfig};

/// Everything `obs sink` needs, resolved from flags and environment.
#[derive(Debug, Clone)]
pub struct SinkOptions {
    /// Where to listen for OTLP/gRPC (`host:port`); `None` turns it off.
    pub grpc: Option<String>,
    /// Where to listen for OTLP/HTTP (`host:port`); `None` turns it off.
    pub http: Option<String>,
    pub store: PathBuf,
    pub retention: Retention,
    pub receiver: ReceiverConfig,
    /// Print the addresses as one JSON object instead of text.
    pub json: bool,
    /// No summary on stderr at exit.
    pub quiet: bool,
    /// How long to wait for requests in flight after a stop signal.
    pub drain_timeout: Duration,
}

/// A flag value `obs sink` cannot use; a usage error (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkUsageError {
    #[error(
        "invalid size {input:?} for {flag}: expected a number of bytes with an optional unit, such as 500MB, 2GiB or 1048576 (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
    )]
    Size { flag: &'static str, input: String },
    #[error("{flag} must be positive")]
    Zero { flag: &'static str },
    #[error("no receiver: both --grpc and --http are off; turn at least one on")]
    NoReceiver,
    #[error(
        "cannot find a place for the store: neither XDG_DATA_HOME nor HOME is set; pass --store PATH"
    )]
    NoStorePath,
}

/// Parses a size such as `500MB`, `2GiB` or `1048576` (bytes). Decimal units are powers of
/// 1000 and binary units (`KiB`…) powers of 1024, as in IEC 80000-13; units are
/// case-insensitive.
pub fn parse_size(flag: &'static str, input: &str) -> Result<u64, SinkUsageError> {
    let invalid = || SinkUsageError::Size {
        flag,
        input: input.to_string(),
    };
    let s = input.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000_u64.pow(2),
        "gb" => 1000_u64.pow(3),
        "tb" => 1000_u64.pow(4),
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(invalid()),
    };
    number.checked_mul(multiplier).ok_or_else(invalid)
}

/// `$XDG_DATA_HOME/obs/sink.db` when `XDG_DATA_HOME` is an absolute path, else
/// `$HOME/.local/share/obs/sink.db` (the XDG base directory default).
/// One definition, in `config`, shared with the commands that read the default store.
pub fn default_store_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    crate::config::default_store_path(env)
}

/// Runs the sink until SIGINT or SIGTERM; `Ok` after a clean stop (everything acknowledged is
/// committed).
pub async fn run(options: SinkOptions) -> anyhow::Result<()> {
    if options.grpc.is_none() && options.http.is_none() {
        return Err(SinkUsageError::NoReceiver.into());
    }
    // Register for the signals before announcing: whoever reads the addresses may signal at
    // once, and the default action would kill the process without a commit.
    let mut stop = StopSignals::install()?;

    if let Some(dir) = options.store.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create the store directory {}; pass --store with a writable path",
                dir.display()
            )
        })?;
    }
    let (writer_handle, writer) = store::spawn_writer(
        &options.store,
        WriterConfig {
            retention: options.retention.clone(),
            ..WriterConfig::default()
        },
    )
    .context("cannot open the store for writing")?;

    let grpc = bind(options.grpc.as_deref(), "OTLP/gRPC", "--grpc").await?;
    let http = bind(options.http.as_deref(), "OTLP/HTTP", "--http").await?;
    let grpc_addr = grpc.as_ref().map(local_addr).transpose()?;
    let http_addr = http.as_ref().map(local_addr).transpose()?;
    if options.receiver.token.is_none() {
        for (name, addr) in [("OTLP/gRPC", grpc_addr), ("OTLP/HTTP", http_addr)] {
            if let Some(addr) = addr.filter(|a| !a.ip().is_loopback()) {
                tracing::warn!(
                    "{name} listens on {addr}, reachable from other hosts, without a token: anyone who can connect can write to the store; set OBS_SINK_TOKEN (or --token)"
                );
            }
        }
    }
    if let Err(e) = announce(&options, grpc_addr, http_addr) {
        // stdout on a full disk or a closed pipe: the sink serves all the same.
        tracing::warn!("cannot print the listening addresses on stdout: {e}");
    }

    let receiver = Receiver::new(writer_handle, options.receiver.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    let mut servers = tokio::task::JoinSet::new();
    if let Some(listener) = grpc {
        let receiver = receiver.clone();
        let shutdown = stopped();
        servers.spawn(async move {
            super::grpc::serve(listener, receiver, shutdown)
                .await
                .context("the OTLP/gRPC server failed")
        });
    }
    if let Some(listener) = http {
        let receiver = receiver.clone();
        let shutdown = stopped();
        servers.spawn(async move {
            super::http::serve(listener, receiver, shutdown)
                .await
                .context("the OTLP/HTTP server failed")
        });
    }

    // Serve until a signal, or until a server fails on its own.
    let mut failure: Option<anyhow::Error> = None;
    tokio::select! {
        name = stop.next() => tracing::info!("{name}: stopping; answering requests in flight"),
        Some(ended) = servers.join_next() => {
            failure = Some(match ended {
                Ok(Ok(())) => anyhow::anyhow!("a server stopped unexpectedly"),
                Ok(Err(e)) => e,
                Err(e) => anyhow::Error::new(e).context("a server task panicked"),
            });
        }
    }
    let _ = stop_tx.send(true);
    let drained = drain(&mut servers, options.drain_timeout, &mut stop).await;
    if !drained {
        tracing::warn!(
            "requests still in flight were cut off; whatever was queued is committed, but those clients got no answer and will retry"
        );
        servers.abort_all();
    }
    drop(receiver);
    let writer_result = tokio::task::spawn_blocking(move || writer.shutdown())
        .await
        .context("the store writer panicked")?;
    if let Some(e) = failure {
        super::log::flush(Duration::from_millis(500));
        return Err(e);
    }
    writer_result.context("could not commit the last requests to the store")?;
    super::log::flush(Duration::from_millis(500));
    if !options.quiet {
        super::log::stderr_line(
            &format!(
                "obs sink: stopped; everything acknowledged is in {}",
                options.store.display()
            ),
            Duration::from_millis(500),
        );
    }
    Ok(())
}

/// Waits for the servers to finish their requests in flight. False when cut short by the
/// timeout or a second signal.
async fn drain(
    servers: &mut tokio::task::JoinSet<anyhow::Result<()>>,
    timeout: Duration,
    stop: &mut StopSignals,
) -> bool {
    let all = async {
        while let Some(ended) = servers.join_next().await {
            match ended {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("{e:#}"),
                Err(e) => tracing::error!("a server task failed: {e}"),
            }
        }
    };
    tokio::select! {
        () = all => true,
        () = tokio::time::sleep(timeout) => false,
        name = stop.next() => {
            tracing::warn!("{name} again: not waiting for requests in flight");
            false
        }
    }
}

async fn bind(addr: Option<&str>, name: &str, flag: &str) -> anyhow::Result<Option<TcpListener>> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot listen for {name} on {addr:?}; stop what uses it, or pass {flag} with another host:port (port 0 picks a free one) or {flag} off"
        )
    })?;
    Ok(Some(listener))
}

fn local_addr(listener: &TcpListener) -> anyhow::Result<SocketAddr> {
    listener
        .local_addr()
        .context("cannot read the address of a bound socket")
}

/// Tells the user (and scripts: tests bind port 0) where the sink listens and stores.
fn announce(
    options: &SinkOptions,
    grpc: Option<SocketAddr>,
    http: Option<SocketAddr>,
) -> anyhow::Result<()> {
    let store = options.store.display().to_string();
    let http_url = http.map(|a| format!("http://{a}"));
    let text = if options.json {
        serde_json::json!({
            "grpc": grpc.map(|a| a.to_string()),
            "http": http_url,
            "store": store,
        })
        .to_string()
            + "\n"
    } else {
        let mut text = String::new();
        if let Some(a) = grpc {
            text += &format!("OTLP/gRPC listening on {a}\n");
        }
        if let Some(url) = &http_url {
            text += &format!("OTLP/HTTP listening on {url}\n");
        }
        text += &format!("storing in {store}\n");
        text
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), registered once up front.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt())
                    .context("cannot install the SIGINT handler")?,
                terminate: signal(SignalKind::terminate())
                    .context("cannot install the SIGTERM handler")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    /// The name of the next stop signal to arrive.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// Resolves the store path: the flag, else the XDG default.
pub(crate) fn store_path(
    flag: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, SinkUsageError> {
    match flag {
        Some(p) => Ok(p.to_path_buf()),
        None => default_store_path(env).ok_or(SinkUsageError::NoStorePath),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        assert_eq!(parse_size("--max-size", "1048576"), Ok(1 << 20));
        assert_eq!(parse_size("--max-size", "500MB"), Ok(500_000_000));
        assert_eq!(parse_size("--max-size", "2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("--max-size", "8 mib"), Ok(8 << 20));
        for bad in ["", "MB", "1.5GB", "-1", "10 parsecs", "99999999999999TB"] {
            let err = parse_size("--max-size", bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn the_default_store_follows_xdg_data_home_then_home() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            default_store_path(&env(&[("XDG_DATA_HOME", "/data"), ("HOME", "/home/u")])),
            Some(PathBuf::from("/data/obs/sink.db"))
        );
        assert_eq!(
            default_store_path(&env(&[("XDG_DATA_HOME", "relative"), ("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.local/share/obs/sink.db"))
        );
        assert_eq!(default_store_path(&env(&[])), None);
    }
}
