//! `obs replay`: re-sends a store's traces, logs and metrics to an OTLP endpoint, optionally
//! moved in time, at a bounded rate, resumably.
//!
//! The store's export ([`Store::export`]) yields the same batches in the same order every
//! time, so progress is a number per signal: batches `0..acked` and those in `ahead` were
//! acknowledged. It is kept in a small JSON state file, replaced atomically after every
//! acknowledgement, so a replay that is killed and started again sends only what was not
//! acknowledged. A few requests are in flight at once (acknowledged out of order, hence
//! `ahead`). Only a 2xx OTLP answer marks a batch done; an answer that is not OTLP stops the
//! replay with nothing more marked. The shift chosen by `--shift now` is recorded too, so a
//! resumed replay moves timestamps exactly as the first run did.

mod send;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use serde::{Deserialize, Serialize};

pub use send::{SendError, Sender};

use crate::store::{ExportSignal, ExportWindow, Payload, Store, StoreError};

/// Requests in flight at once.
const IN_FLIGHT: usize = 4;

/// How timestamps are moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    None,
    /// The store's newest timestamp lands at the time the replay starts.
    Now,
    /// Everything moves this many nanoseconds later.
    By(i64),
}

#[derive(Debug, Clone)]
pub struct Options {
    pub store: PathBuf,
    pub to: String,
    pub grpc: bool,
    pub shift: Shift,
    pub rate: Option<f64>,
    pub batch: usize,
    pub signals: Vec<ExportSignal>,
    pub state: PathBuf,
    pub restart: bool,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
}

/// Progress of one signal, as recorded in the state file and reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignalProgress {
    /// Batches `0..acked` are acknowledged.
    pub acked: u64,
    /// Later batches acknowledged while an earlier one was still in flight.
    pub ahead: BTreeSet<u64>,
    /// Items sent in acknowledged requests, over every run.
    pub sent: u64,
    /// Of those, items the target accepted.
    pub acknowledged: u64,
    /// Of those, items the target refused (OTLP partial success).
    pub rejected: u64,
    /// Retries after 429/503/UNAVAILABLE or connection failures, over every run.
    pub retries: u64,
    /// Set once every batch of the signal is acknowledged.
    pub complete: bool,
}

/// The state file: which target, how batched and shifted, and the progress per signal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub target: String,
    pub grpc: bool,
    pub batch: usize,
    /// Nanoseconds every timestamp is moved by.
    pub shift_ns: i64,
    pub signals: BTreeMap<String, SignalProgress>,
}

/// What a replay did, for the command's output.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub target: String,
    pub shift_ns: i64,
    /// Progress per signal over every run of this replay.
    pub signals: BTreeMap<String, SignalProgress>,
    /// Batches skipped this run because an earlier run had them acknowledged.
    pub resumed_batches: u64,
    /// Items sent this run.
    pub sent_this_run: u64,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error("{}: the replay state cannot be written: {source}", path.display())]
    State {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: the replay state is not readable JSON ({reason}); delete it or pass --restart", path.display())]
    BadState { path: PathBuf, reason: String },
    #[error("{0}")]
    Setup(String),
    #[error("the store has nothing to replay")]
    Empty,
}

/// The default state file of a store: next to it.
pub fn default_state_path(store: &Path) -> PathBuf {
    let mut s = store.as_os_str().to_owned();
    s.push(".replay.json");
    PathBuf::from(s)
}

fn load_state(path: &Path) -> Result<Option<State>, ReplayError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ReplayError::BadState {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReplayError::State {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn save_state(path: &Path, state: &State) -> Result<(), ReplayError> {
    let err = |source| ReplayError::State {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let bytes = serde_json::to_vec_pretty(state).map_err(|e| err(std::io::Error::other(e)))?;
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Runs a replay to the end (or the first error that is not retried).
pub async fn run(options: Options) -> Result<Summary, ReplayError> {
    let started = Instant::now();
    let sender = if options.grpc {
        Sender::grpc(&options.to, &options.headers, options.timeout)
    } else {
        Sender::http(&options.to, &options.headers, options.timeout)
    }
    .map_err(ReplayError::Setup)?;

    let newest = {
        let path = options.store.clone();
        tokio::task::spawn_blocking(move || Store::open_read_only(&path)?.newest_timestamp())
            .await
            .map_err(|e| ReplayError::Setup(e.to_string()))??
    };
    let Some(newest) = newest else {
        return Err(ReplayError::Empty);
    };
    let previous = if options.restart {
        None
    } else {
        load_state(&options.state)?
    };
    let mut state = match previous {
        Some(s) if s.target == options.to && s.grpc == options.grpc && s.batch == options.batch => {
            s
        }
        other => {
            if other.is_some() {
                tracing::warn!(
                    "{}: recorded progress is for another target or batch size; starting over",
                    options.state.display()
                );
            }
            State {
                target: options.to.clone(),
                grpc: options.grpc,
                batch: options.batch,
                shift_ns: match options.shift {
                    Shift::None => 0,
                    Shift::By(d) => d,
                    Shift::Now => {
                        let now = i64::try_from(jiff::Timestamp::now().as_nanosecond())
                            .unwrap_or(i64::MAX);
                        now.saturating_sub(newest)
                    }
                },
                signals: BTreeMap::new(),
            }
        }
    };
    save_state(&options.state, &state)?;

    // The store is read on a blocking thread; batches come over a small channel.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(ExportSignal, u64, Payload)>(IN_FLIGHT * 2);
    let skip: Vec<(ExportSignal, SignalProgress)> = options
        .signals
        .iter()
        .map(|s| (*s, state.signals.get(s.name()).cloned().unwrap_or_default()))
        .collect();
    let (store_path, batch, shift_ns) = (options.store.clone(), options.batch, state.shift_ns);
    let producer = tokio::task::spawn_blocking(
        move || -> Result<(u64, Vec<(ExportSignal, u64)>), StoreError> {
            let store = Store::open_read_only(&store_path)?;
            let mut resumed = 0u64;
            let mut totals = Vec::new();
            for (signal, progress) in skip {
                let mut index = 0u64;
                let r = store.export(signal, ExportWindow::ALL, batch, &mut |mut payload| {
                    let i = index;
                    index += 1;
                    if i < progress.acked || progress.ahead.contains(&i) {
                        resumed += 1;
                        return Ok(());
                    }
                    shift(&mut payload, shift_ns);
                    tx.blocking_send((signal, i, payload))
                        .map_err(|_| Stop::Closed)
                });
                match r {
                    Ok(()) => totals.push((signal, index)),
                    Err(Stop::Closed) => return Ok((resumed, totals)),
                    Err(Stop::Store(e)) => return Err(e),
                }
            }
            Ok((resumed, totals))
        },
    );

    let mut in_flight = FuturesUnordered::new();
    let mut sent_this_run = 0u64;
    let mut next_slot = Instant::now();
    let mut failure: Option<ReplayError> = None;
    let mut channel_open = true;
    while channel_open || !in_flight.is_empty() {
        tokio::select! {
            next = rx.recv(), if channel_open && in_flight.len() < IN_FLIGHT && failure.is_none() => {
                match next {
                    Some((signal, index, payload)) => {
                        let items = payload.item_count();
                        if let Some(rate) = options.rate.filter(|r| *r > 0.0) {
                            let now = Instant::now();
                            if next_slot > now {
                                tokio::time::sleep(next_slot - now).await;
                            }
                            next_slot = next_slot.max(now) + Duration::from_secs_f64(items as f64 / rate);
                        }
                        let sender = &sender;
                        in_flight.push(async move {
                            let r = sender.send(&payload).await;
                            (signal, index, items, r)
                        });
                    }
                    None => channel_open = false,
                }
            }
            Some((signal, index, items, result)) = in_flight.next(), if !in_flight.is_empty() => {
                match result {
                    Ok(answer) => {
                        let p = state.signals.entry(signal.name().to_string()).or_default();
                        if index == p.acked {
                            p.acked += 1;
                            while p.ahead.remove(&p.acked) {
                                p.acked += 1;
                            }
                        } else {
                            p.ahead.insert(index);
                        }
                        p.sent += items;
                        p.rejected += answer.rejected.min(items);
                        p.acknowledged += items - answer.rejected.min(items);
                        p.retries += u64::from(answer.retries);
                        sent_this_run += items;
                        save_state(&options.state, &state)?;
                    }
                    Err(e) => {
                        if failure.is_none() {
                            failure = Some(e.into());
                        }
                        // Stop reading: the producer sees the channel closed.
                        rx.close();
                        channel_open = false;
                    }
                }
            }
        }
    }
    if let Some(e) = failure {
        drop(rx);
        let _ = producer.await;
        return Err(e);
    }
    let (resumed, totals) = producer
        .await
        .map_err(|e| ReplayError::Setup(e.to_string()))??;
    for (signal, total) in totals {
        let p = state.signals.entry(signal.name().to_string()).or_default();
        p.complete = p.acked >= total;
    }
    save_state(&options.state, &state)?;
    Ok(Summary {
        target: state.target.clone(),
        shift_ns: state.shift_ns,
        signals: state.signals.clone(),
        resumed_batches: resumed,
        sent_this_run,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Why the export stopped early: the replay stopped taking batches, or the store failed.
enum Stop {
    Closed,
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Store(e)
    }
}

fn add(t: u64, d: i64) -> u64 {
    if t == 0 {
        0
    } else {
        t.saturating_add_signed(d)
    }
}

/// Moves every timestamp of `payload` by `d` nanoseconds (unset ones stay unset).
pub fn shift(payload: &mut Payload, d: i64) {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    if d == 0 {
        return;
    }
    match payload {
        Payload::Traces(r) => {
            for span in r
                .resource_spans
                .iter_mut()
                .flat_map(|rs| &mut rs.scope_spans)
                .flat_map(|ss| &mut ss.spans)
            {
                span.start_time_unix_nano = add(span.start_time_unix_nano, d);
                span.end_time_unix_nano = add(span.end_time_unix_nano, d);
                for e in &mut span.events {
                    e.time_unix_nano = add(e.time_unix_nano, d);
                }
            }
        }
        Payload::Logs(r) => {
            for rec in r
                .resource_logs
                .iter_mut()
                .flat_map(|rl| &mut rl.scope_logs)
                .flat_map(|sl| &mut sl.log_records)
            {
                rec.time_unix_nano = add(rec.time_unix_nano, d);
                rec.observed_time_unix_nano = add(rec.observed_time_unix_nano, d);
            }
        }
        Payload::Metrics(r) => {
            macro_rules! points {
                ($points:expr) => {
                    for p in $points {
                        p.time_unix_nano = add(p.time_unix_nano, d);
                        p.start_time_unix_nano = add(p.start_time_unix_nano, d);
                    }
                };
            }
            macro_rules! exemplar_points {
                ($points:expr) => {
                    for p in $points {
                        p.time_unix_nano = add(p.time_unix_nano, d);
                        p.start_time_unix_nano = add(p.start_time_unix_nano, d);
                        for e in &mut p.exemplars {
                            e.time_unix_nano = add(e.time_unix_nano, d);
                        }
                    }
                };
            }
            for m in r
                .resource_metrics
                .iter_mut()
                .flat_map(|rm| &mut rm.scope_metrics)
                .flat_map(|sm| &mut sm.metrics)
            {
                match &mut m.data {
                    Some(Data::Gauge(g)) => exemplar_points!(&mut g.data_points),
                    Some(Data::Sum(s)) => exemplar_points!(&mut s.data_points),
                    Some(Data::Histogram(h)) => exemplar_points!(&mut h.data_points),
                    Some(Data::ExponentialHistogram(h)) => exemplar_points!(&mut h.data_points),
                    Some(Data::Summary(s)) => points!(&mut s.data_points),
                    None => {}
                }
            }
        }
    }
}
