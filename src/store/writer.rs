//! The single writer: a bounded queue in front of one thread that owns the write connection.
//!
//! Receivers call [`WriterHandle::submit`], which never blocks: a full queue is answered at
//! once with [`SubmitError::Overloaded`] (HTTP 503 / gRPC UNAVAILABLE). The thread takes
//! everything queued (up to `max_group_items` items) into ONE transaction, commits it, and only
//! then resolves the group's [`Receipt`]s, so an acknowledged request is durable and the cost
//! of a commit is shared by every request that arrived while the previous one was running.
//! Between groups (and when idle) it enforces retention.

use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use super::ingest::{Caches, Group, Ingest, Outcome};
use super::{Prepared, PreparedKind, Retention, SqlContext, StoreError, retention, schema};

/// How long the thread waits for work before doing idle chores (retention).
const IDLE_TICK: Duration = Duration::from_secs(1);
/// WAL pages (4 KiB each) after a commit beyond which the checkpoint thread copies the WAL
/// into the database file (~64 MB): the default of [`WriterConfig::checkpoint_pages`].
const CHECKPOINT_PAGES: u32 = 16_384;

/// Writer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterConfig {
    /// Requests (payloads) that may wait for the writer; beyond it `submit` answers Overloaded.
    pub queue_capacity: usize,
    /// Items (spans, log records, data points) committed in one transaction at most; a single
    /// larger request is still committed whole, alone.
    pub max_group_items: usize,
    pub retention: Retention,
    /// WAL pages after a commit beyond which the checkpoint thread copies the WAL into the
    /// database file; the writer does not wait for it. Past four times this, the writer
    /// checkpoints itself at the end of a commit (the thread has not caught up), which bounds
    /// the WAL under any load.
    pub checkpoint_pages: u32,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            queue_capacity: 256,
            max_group_items: 20_000,
            retention: Retention::default(),
            checkpoint_pages: CHECKPOINT_PAGES,
        }
    }
}

/// Why a request was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The queue is full: tell the client to retry later (503 + Retry-After / UNAVAILABLE).
    #[error("the store writer is overloaded; retry after {} s", retry_after.as_secs())]
    Overloaded { retry_after: Duration },
    /// Shutdown has begun; nothing new is accepted.
    #[error("the store writer is shutting down")]
    Closed,
}

/// What a committed request amounted to: OTLP partial success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// Items stored, including ones already stored by an earlier (retried) request.
    pub accepted: u64,
    /// Items refused (invalid ids, malformed histograms, …); `message` says why.
    pub rejected: u64,
    pub message: Option<String>,
}

/// Resolves once the request's rows are committed (or the commit failed).
#[derive(Debug)]
pub struct Receipt {
    rx: oneshot::Receiver<Result<Committed, StoreError>>,
    path: Arc<PathBuf>,
}

impl Receipt {
    pub async fn wait(self) -> Result<Committed, StoreError> {
        self.rx.await.unwrap_or_else(|_| {
            Err(StoreError::Closed {
                path: self.path.to_path_buf(),
            })
        })
    }

    /// [`Receipt::wait`] for callers outside an async runtime (imports, tests). Must not be
    /// called from inside one.
    pub fn wait_blocking(self) -> Result<Committed, StoreError> {
        self.rx.blocking_recv().unwrap_or_else(|_| {
            Err(StoreError::Closed {
                path: self.path.to_path_buf(),
            })
        })
    }
}

/// Upper bounds (seconds) of the commit-duration histogram.
pub const COMMIT_SECONDS_BUCKETS: [f64; 10] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
/// Upper bounds (items) of the group-size histogram.
pub const GROUP_ITEMS_BUCKETS: [f64; 6] = [1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0];

/// Counters of the writer, shared with the receivers for `/metrics`.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Items in requests accepted into the queue.
    pub received_items: AtomicU64,
    /// Items newly stored (duplicates excluded).
    pub committed_items: AtomicU64,
    pub rejected_items: AtomicU64,
    /// Items that were already stored (client retries).
    pub duplicate_items: AtomicU64,
    /// Successful group commits.
    pub commits: AtomicU64,
    pub failed_commits: AtomicU64,
    /// Requests waiting in the queue (gauge).
    pub queue_depth: AtomicU64,
    pub commit_seconds_sum_nanos: AtomicU64,
    pub commit_seconds_count: AtomicU64,
    /// Per bucket of [`COMMIT_SECONDS_BUCKETS`] (+Inf last), not cumulative.
    pub commit_seconds_buckets: [AtomicU64; 11],
    pub group_items_sum: AtomicU64,
    pub group_requests_sum: AtomicU64,
    /// Per bucket of [`GROUP_ITEMS_BUCKETS`] (+Inf last), not cumulative.
    pub group_items_buckets: [AtomicU64; 7],
    /// Rows deleted by retention.
    pub retention_deleted_rows: AtomicU64,
    /// Why the last commit failed, while no commit has succeeded since (readiness).
    last_commit_error: std::sync::Mutex<Option<String>>,
}

impl WriterStats {
    /// Why the last commit failed, when no commit has succeeded since.
    pub fn last_commit_error(&self) -> Option<String> {
        self.last_commit_error.lock().ok().and_then(|e| e.clone())
    }

    fn set_last_commit_error(&self, error: Option<String>) {
        if let Ok(mut last) = self.last_commit_error.lock() {
            *last = error;
        }
    }

    fn observe_commit(&self, elapsed: Duration, items: u64, requests: u64) {
        let secs = elapsed.as_secs_f64();
        let i = COMMIT_SECONDS_BUCKETS
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(COMMIT_SECONDS_BUCKETS.len());
        self.commit_seconds_buckets[i].fetch_add(1, Ordering::Relaxed);
        self.commit_seconds_sum_nanos
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
        self.commit_seconds_count.fetch_add(1, Ordering::Relaxed);
        let j = GROUP_ITEMS_BUCKETS
            .iter()
            .position(|&b| items as f64 <= b)
            .unwrap_or(GROUP_ITEMS_BUCKETS.len());
        self.group_items_buckets[j].fetch_add(1, Ordering::Relaxed);
        self.group_items_sum.fetch_add(items, Ordering::Relaxed);
        self.group_requests_sum
            .fetch_add(requests, Ordering::Relaxed);
    }

    /// A Retry-After estimate: the time to commit what is queued, 1–30 s.
    fn retry_after(&self) -> Duration {
        let count = self.commit_seconds_count.load(Ordering::Relaxed).max(1);
        let avg_commit =
            self.commit_seconds_sum_nanos.load(Ordering::Relaxed) as f64 / 1e9 / count as f64;
        let per_group =
            (self.group_requests_sum.load(Ordering::Relaxed) as f64 / count as f64).max(1.0);
        let queued = self.queue_depth.load(Ordering::Relaxed) as f64;
        let secs = (avg_commit * queued / per_group).ceil().clamp(1.0, 30.0);
        Duration::from_secs(secs as u64)
    }

    /// Appends Prometheus text exposition lines (`obs_sink_store_…`) to `out`.
    pub fn render_prometheus(&self, out: &mut String) {
        use std::fmt::Write as _;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut counter = |name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP obs_sink_store_{name} {help}\n# TYPE obs_sink_store_{name} counter\nobs_sink_store_{name} {v}"
            );
        };
        counter(
            "received_items_total",
            "Spans, log records and data points queued for the store.",
            load(&self.received_items),
        );
        counter(
            "committed_items_total",
            "Items newly committed to the store.",
            load(&self.committed_items),
        );
        counter(
            "rejected_items_total",
            "Items refused as invalid (OTLP partial success).",
            load(&self.rejected_items),
        );
        counter(
            "duplicate_items_total",
            "Items that were already stored (client retries).",
            load(&self.duplicate_items),
        );
        counter("commits_total", "Group commits.", load(&self.commits));
        counter(
            "failed_commits_total",
            "Group commits that failed and were rolled back.",
            load(&self.failed_commits),
        );
        counter(
            "retention_deleted_rows_total",
            "Rows deleted by retention.",
            load(&self.retention_deleted_rows),
        );
        let _ = writeln!(
            out,
            "# HELP obs_sink_store_queue_depth Requests waiting for the store writer.\n# TYPE obs_sink_store_queue_depth gauge\nobs_sink_store_queue_depth {}",
            load(&self.queue_depth)
        );
        histogram(
            out,
            "obs_sink_store_commit_duration_seconds",
            "Duration of one group commit (BEGIN to COMMIT).",
            &COMMIT_SECONDS_BUCKETS,
            &self.commit_seconds_buckets,
            load(&self.commit_seconds_sum_nanos) as f64 / 1e9,
            load(&self.commit_seconds_count),
        );
        histogram(
            out,
            "obs_sink_store_group_items",
            "Items committed per group commit.",
            &GROUP_ITEMS_BUCKETS,
            &self.group_items_buckets,
            load(&self.group_items_sum) as f64,
            load(&self.commit_seconds_count),
        );
    }
}

fn histogram(
    out: &mut String,
    name: &str,
    help: &str,
    bounds: &[f64],
    buckets: &[AtomicU64],
    sum: f64,
    count: u64,
) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    let mut cumulative = 0;
    for (i, b) in buckets.iter().enumerate() {
        cumulative += b.load(Ordering::Relaxed);
        let le = bounds
            .get(i)
            .map(|b| super::convert::float_text(*b))
            .unwrap_or_else(|| "+Inf".into());
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
    }
    let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
}

struct Job {
    payload: Prepared,
    items: u64,
    reply: oneshot::Sender<Result<Committed, StoreError>>,
}

enum Msg {
    Job(Job),
    Shutdown,
}

struct Shared {
    closing: AtomicBool,
    stats: Arc<WriterStats>,
    path: Arc<PathBuf>,
    queue_capacity: usize,
    /// The file system is under the receivers' free-space floor: size retention (when
    /// configured) deletes the oldest data now, whatever the file's size.
    low_space: AtomicBool,
    size_retention: bool,
    /// Bytes of the file's free pages (SQLite's freelist): room the store reuses before the
    /// file grows, as of the last housekeeping.
    reusable_bytes: AtomicU64,
}

/// Queues requests for the writer; cheap to clone, one per receiver task.
#[derive(Clone)]
pub struct WriterHandle {
    tx: SyncSender<Msg>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for WriterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterHandle")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

impl WriterHandle {
    /// Queues `payload` without blocking.
    /// A plain [`Payload`] is prepared first, on the calling thread.
    pub fn submit(&self, payload: impl Into<Prepared>) -> Result<Receipt, SubmitError> {
        let payload = payload.into();
        if self.shared.closing.load(Ordering::Acquire) {
            return Err(SubmitError::Closed);
        }
        let items = payload.item_count();
        let (reply, rx) = oneshot::channel();
        // Counted before sending so that the thread never decrements below zero.
        self.shared
            .stats
            .queue_depth
            .fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(Msg::Job(Job {
            payload,
            items,
            reply,
        })) {
            Ok(()) => {
                self.shared
                    .stats
                    .received_items
                    .fetch_add(items, Ordering::Relaxed);
                Ok(Receipt {
                    rx,
                    path: self.shared.path.clone(),
                })
            }
            Err(e) => {
                self.shared
                    .stats
                    .queue_depth
                    .fetch_sub(1, Ordering::Relaxed);
                match e {
                    TrySendError::Full(_) => Err(SubmitError::Overloaded {
                        retry_after: self.shared.stats.retry_after(),
                    }),
                    TrySendError::Disconnected(_) => Err(SubmitError::Closed),
                }
            }
        }
    }

    pub fn stats(&self) -> Arc<WriterStats> {
        self.shared.stats.clone()
    }

    /// The store file this writer writes.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Requests the queue holds at most.
    pub fn queue_capacity(&self) -> usize {
        self.shared.queue_capacity
    }

    /// Shutdown has begun: nothing new is accepted.
    pub fn is_closing(&self) -> bool {
        self.shared.closing.load(Ordering::Acquire)
    }

    /// Whether a size limit (`max_size_bytes`) is configured, so retention can make room.
    pub fn has_size_retention(&self) -> bool {
        self.shared.size_retention
    }

    /// Tells the writer the file system is under (or back over) the free-space floor; while
    /// under it, size retention deletes the oldest data even below `max_size_bytes`.
    pub fn set_low_space(&self, low: bool) {
        self.shared.low_space.store(low, Ordering::Relaxed);
    }

    /// Bytes of free pages inside the file, which new data fills before the file grows:
    /// free space for the store as much as the file system's.
    pub fn reusable_bytes(&self) -> u64 {
        self.shared.reusable_bytes.load(Ordering::Relaxed)
    }

    /// Size of the write-ahead log file: what a checkpoint may still have to copy into the
    /// database file (it grows by as much at worst).
    pub fn wal_bytes(&self) -> u64 {
        schema::wal_bytes(&self.shared.path)
    }
}

/// Owns the writer thread; [`Writer::shutdown`] (or drop) stops it after committing the queue.
pub struct Writer {
    tx: SyncSender<Msg>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Result<(), StoreError>>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// Stops accepting requests, commits everything already queued, and joins the thread.
    pub fn shutdown(mut self) -> Result<(), StoreError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), StoreError> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.shared.closing.store(true, Ordering::Release);
        // Blocks while the queue is full, which is what shutdown should do; fails only if
        // the thread is gone already.
        let _ = self.tx.send(Msg::Shutdown);
        match thread.join() {
            Ok(result) => result,
            Err(_) => Err(StoreError::Commit {
                path: self.shared.path.to_path_buf(),
                message: "the writer thread panicked".into(),
            }),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!("store writer: {e}");
        }
    }
}

/// Opens (creating and migrating) the store at `path` and starts its writer thread.
pub fn spawn_writer(
    path: &Path,
    config: WriterConfig,
) -> Result<(WriterHandle, Writer), StoreError> {
    let conn = schema::open_read_write(path)?;
    let (tx, rx) = std::sync::mpsc::sync_channel(config.queue_capacity.max(1));
    let shared = Arc::new(Shared {
        closing: AtomicBool::new(false),
        stats: Arc::new(WriterStats::default()),
        path: Arc::new(path.to_path_buf()),
        queue_capacity: config.queue_capacity.max(1),
        low_space: AtomicBool::new(false),
        size_retention: config.retention.max_size_bytes.is_some(),
        reusable_bytes: AtomicU64::new(0),
    });
    let thread_shared = shared.clone();
    let thread = std::thread::Builder::new()
        .name("obs-store-writer".into())
        .spawn(move || WriterThread::new(conn, thread_shared, config).run(rx))
        .map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok((
        WriterHandle {
            tx: tx.clone(),
            shared: shared.clone(),
        },
        Writer {
            tx,
            shared,
            thread: Some(thread),
        },
    ))
}

struct WriterThread {
    conn: Connection,
    shared: Arc<Shared>,
    config: WriterConfig,
    caches: Caches,
    retention: retention::Runner,
}

/// The checkpoint thread: a PASSIVE checkpoint each time the writer's hook asks for one.
fn checkpoints(conn: &Connection, asked: &Receiver<()>) {
    while asked.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::debug!("store checkpoint: {e}");
        }
    }
}

impl WriterThread {
    fn new(conn: Connection, shared: Arc<Shared>, config: WriterConfig) -> WriterThread {
        let retention = retention::Runner::new(config.retention.clone());
        WriterThread {
            conn,
            shared,
            config,
            caches: Caches::default(),
            retention,
        }
    }

    fn run(mut self, rx: Receiver<Msg>) -> Result<(), StoreError> {
        let checkpointer = self.start_checkpointer();
        let result = self.serve(rx);
        // Dropping the hook closes the checkpoint thread's channel.
        let _ = self
            .conn
            .wal_hook(None::<fn(&mut Wal, c_int) -> rusqlite::Result<()>>);
        if let Some(thread) = checkpointer {
            let _ = thread.join();
        }
        // Leave a self-contained file behind when no reader holds the WAL open.
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        result
    }

    /// Moves checkpoints (copying the WAL into the database file, and its fsync) off the
    /// writer thread: a commit's hook signals a second connection on a thread of its own,
    /// which runs PASSIVE checkpoints that never block the writer. Without the thread (it
    /// could not start) the hook checkpoints inline, as SQLite's autocheckpoint would.
    fn start_checkpointer(&mut self) -> Option<JoinHandle<()>> {
        let path = self.shared.path.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = schema::open_checkpointer(&path)
            .and_then(|conn| {
                std::thread::Builder::new()
                    .name("obs-store-checkpoint".into())
                    .spawn(move || checkpoints(&conn, &rx))
                    .map_err(|source| StoreError::Io {
                        path: path.to_path_buf(),
                        source,
                    })
            })
            .map_err(|e| tracing::warn!("checkpoints run on the writer thread: {e}"))
            .ok();
        let background = thread.is_some();
        let threshold = c_int::try_from(self.config.checkpoint_pages.max(1)).unwrap_or(c_int::MAX);
        let inline = threshold.saturating_mul(4);
        let hook = move |wal: &mut Wal, pages: c_int| -> rusqlite::Result<()> {
            // The commit has happened: an error returned here would report it as failed, so
            // checkpoint failures (BUSY while the thread runs one) are left for the next commit.
            if pages >= inline || (!background && pages >= threshold) {
                let _ = wal.checkpoint_v2(CheckpointMode::PASSIVE);
            } else if pages >= threshold {
                let _ = tx.try_send(());
            }
            Ok(())
        };
        if let Err(e) = self.conn.wal_hook(Some(hook)) {
            tracing::warn!("store writer: cannot install the WAL hook: {e}");
        }
        thread
    }

    fn serve(&mut self, rx: Receiver<Msg>) -> Result<(), StoreError> {
        let mut pending: Option<Job> = None;
        let mut stopping = false;
        self.housekeeping(true);
        loop {
            let first = match pending.take() {
                Some(job) => job,
                None if stopping => match rx.try_recv() {
                    Ok(Msg::Job(job)) => self.dequeued(job),
                    Ok(Msg::Shutdown) => continue,
                    Err(_) => break,
                },
                None => match rx.recv_timeout(IDLE_TICK) {
                    Ok(Msg::Job(job)) => self.dequeued(job),
                    Ok(Msg::Shutdown) => {
                        stopping = true;
                        continue;
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        self.housekeeping(true);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            };
            let mut items = first.items;
            let mut group = vec![first];
            while items < self.config.max_group_items as u64 {
                match rx.try_recv() {
                    Ok(Msg::Job(job)) => {
                        let job = self.dequeued(job);
                        if items + job.items > self.config.max_group_items as u64 {
                            pending = Some(job);
                            break;
                        }
                        items += job.items;
                        group.push(job);
                    }
                    Ok(Msg::Shutdown) => stopping = true,
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            self.commit_group(group);
            self.housekeeping(false);
        }
        Ok(())
    }

    fn dequeued(&self, job: Job) -> Job {
        self.shared
            .stats
            .queue_depth
            .fetch_sub(1, Ordering::Relaxed);
        job
    }

    fn housekeeping(&mut self, idle: bool) {
        let path = self.shared.path.clone();
        let low_space = self.shared.low_space.load(Ordering::Relaxed);
        match self.retention.maybe_run(&mut self.conn, idle, low_space) {
            Ok(step) => {
                if step.deleted_rows > 0 {
                    self.shared
                        .stats
                        .retention_deleted_rows
                        .fetch_add(step.deleted_rows, Ordering::Relaxed);
                }
                match schema::free_page_bytes(&self.conn) {
                    Ok(bytes) => self.shared.reusable_bytes.store(bytes, Ordering::Relaxed),
                    Err(e) => tracing::debug!("{}: free pages: {e}", path.display()),
                }
                if low_space {
                    // Deleting writes to the WAL, and the WAL's pages must still be copied
                    // into the database file: the file system gets the room back only once
                    // the WAL is checkpointed and emptied. Passive checkpoints leave the WAL
                    // file at its largest.
                    if let Err(e) =
                        self.conn
                            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                    {
                        tracing::debug!("{}: checkpoint under the floor: {e}", path.display());
                    }
                }
                if step.series_removed || step.samples_changed {
                    self.caches.clear();
                }
            }
            Err(e) => {
                self.caches.clear();
                tracing::warn!("{}: retention failed: {e}", path.display());
            }
        }
    }

    fn commit_group(&mut self, group: Vec<Job>) {
        let started = Instant::now();
        match self.try_commit(&group) {
            Ok(outcomes) => {
                let items: u64 = group.iter().map(|j| j.items).sum();
                self.shared
                    .stats
                    .observe_commit(started.elapsed(), items, group.len() as u64);
                self.shared.stats.commits.fetch_add(1, Ordering::Relaxed);
                self.shared.stats.set_last_commit_error(None);
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    self.reply(job, Ok(outcome));
                }
            }
            Err(e) if group.len() > 1 => {
                // Something in the group made SQLite fail: commit the requests one by one so
                // that one bad request cannot take the others down with it.
                tracing::warn!(
                    "{}: group commit of {} requests failed ({e}); retrying them one by one",
                    self.shared.path.display(),
                    group.len()
                );
                self.shared
                    .stats
                    .failed_commits
                    .fetch_add(1, Ordering::Relaxed);
                for job in group {
                    self.commit_group(vec![job]);
                }
            }
            Err(e) => {
                self.shared
                    .stats
                    .failed_commits
                    .fetch_add(1, Ordering::Relaxed);
                let message = e.to_string();
                self.shared
                    .stats
                    .set_last_commit_error(Some(message.clone()));
                for job in group {
                    let err = StoreError::Commit {
                        path: self.shared.path.to_path_buf(),
                        message: message.clone(),
                    };
                    self.reply(job, Err(err));
                }
            }
        }
    }

    fn reply(&self, job: Job, result: Result<Outcome, StoreError>) {
        let stats = &self.shared.stats;
        let result = result.map(|o| {
            stats
                .committed_items
                .fetch_add(o.accepted - o.duplicates, Ordering::Relaxed);
            stats
                .duplicate_items
                .fetch_add(o.duplicates, Ordering::Relaxed);
            stats
                .rejected_items
                .fetch_add(o.rejected, Ordering::Relaxed);
            let unit = match job.payload.kind {
                PreparedKind::Traces(_) => "spans",
                PreparedKind::Logs(_) => "log records",
                PreparedKind::Metrics(_) => "data points",
            };
            Committed {
                accepted: o.accepted,
                rejected: o.rejected,
                message: o.message(unit),
            }
        });
        // The client may have gone away; its data is committed regardless.
        let _ = job.reply.send(result);
    }

    fn try_commit(&mut self, group: &[Job]) -> Result<Vec<Outcome>, StoreError> {
        let path = self.shared.path.clone();
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut state = Group::default();
            let mut outcomes = Vec::with_capacity(group.len());
            {
                let mut ingest = Ingest {
                    conn: &tx,
                    caches: &mut self.caches,
                    group: &mut state,
                };
                for job in group {
                    outcomes.push(match &job.payload.kind {
                        PreparedKind::Traces(b) => ingest.traces(b)?,
                        PreparedKind::Logs(r) => ingest.logs(r)?,
                        PreparedKind::Metrics(r) => ingest.metrics(r)?,
                    });
                }
                ingest.finish_group()?;
            }
            tx.commit()?;
            Ok(outcomes)
        })();
        if result.is_err() {
            // Ids cached during the failed transaction do not exist.
            self.caches.clear();
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
        }
        result.at(&path)
    }
}
