//! The sink's log writer: lines go through a bounded queue to one thread that writes them to
//! stderr, so that writing a log line can never panic, fail a request or wedge a thread.
//!
//! A full disk, a closed pipe or a pipe nobody reads stalls or fails only the log thread: the
//! receivers hand over a line without waiting, lines that find the queue full are dropped and
//! counted, and the count is written once stderr takes lines again. It owns no formatting
//! (tracing-subscriber's) and must not be used where losing a line matters more than
//! blocking (the one-shot commands keep a plain stderr).

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

/// Lines waiting for the log thread at most.
const QUEUE_LINES: usize = 1024;

struct Shared {
    dropped: AtomicU64,
    /// Lines handed over and not yet written (or given up on).
    pending: AtomicU64,
}

/// The writer the log uses, once [`stderr_writer`] has started its thread.
static QUEUE: OnceLock<QueuedStderr> = OnceLock::new();

/// A tracing writer that queues each event's line for the log thread without blocking.
#[derive(Clone)]
pub struct QueuedStderr {
    tx: SyncSender<Vec<u8>>,
    shared: Arc<Shared>,
}

/// The writer for the sink's log: queued to a thread of its own, or plain stderr when that
/// thread cannot start.
pub fn stderr_writer() -> BoxMakeWriter {
    match QueuedStderr::spawn() {
        Ok(writer) => BoxMakeWriter::new(writer),
        Err(_) => BoxMakeWriter::new(std::io::stderr),
    }
}

impl QueuedStderr {
    fn spawn() -> std::io::Result<QueuedStderr> {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE_LINES);
        let shared = Arc::new(Shared {
            dropped: AtomicU64::new(0),
            pending: AtomicU64::new(0),
        });
        let thread_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("obs-log".into())
            .spawn(move || write_lines(&rx, &thread_shared, &mut std::io::stderr()))?;
        let writer = QueuedStderr { tx, shared };
        let _ = QUEUE.set(writer.clone());
        Ok(writer)
    }
}

fn write_lines(rx: &Receiver<Vec<u8>>, shared: &Shared, out: &mut dyn std::io::Write) {
    while let Ok(line) = rx.recv() {
        let dropped = shared.dropped.swap(0, Relaxed);
        if dropped > 0 {
            let note = format!(
                "obs: {dropped} log lines were dropped: stderr did not take them (a full disk, a closed or unread pipe)\n"
            );
            if out.write_all(note.as_bytes()).is_err() {
                shared.dropped.fetch_add(dropped, Relaxed);
            }
        }
        // An error (full disk, closed pipe) loses this line only.
        if out.write_all(&line).is_err() {
            shared.dropped.fetch_add(1, Relaxed);
        }
        let _ = out.flush();
        shared.pending.fetch_sub(1, Relaxed);
    }
}

/// Waits up to `timeout` for the queued lines to be written (at exit, so the last lines
/// are not lost); returns at once when stderr does not take them.
pub fn flush(timeout: Duration) {
    let Some(QueuedStderr { shared, .. }) = QUEUE.get() else {
        return;
    };
    let deadline = Instant::now() + timeout;
    while shared.pending.load(Relaxed) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One event's line, handed to the log thread when dropped.
pub struct Line {
    buf: Vec<u8>,
    writer: QueuedStderr,
}

impl std::io::Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let line = std::mem::take(&mut self.buf);
        self.writer.shared.pending.fetch_add(1, Relaxed);
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.writer.tx.try_send(line)
        {
            self.writer.shared.pending.fetch_sub(1, Relaxed);
            self.writer.shared.dropped.fetch_add(1, Relaxed);
        }
    }
}

impl<'a> MakeWriter<'a> for QueuedStderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            buf: Vec::new(),
            writer: self.clone(),
        }
    }
}

/// A line on stderr outside the log (the summary at exit): through the log's queue when it
/// runs, waiting at most `timeout` for it to be written, so that a stderr nobody reads
/// cannot keep the process from exiting; else written directly, ignoring failure.
pub fn stderr_line(text: &str, timeout: Duration) {
    let line = format!("{text}\n").into_bytes();
    match QUEUE.get() {
        Some(writer) => {
            let mut queued = writer.make_writer();
            queued.buf = line;
            drop(queued);
            flush(timeout);
        }
        None => {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&line);
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails like a full disk.
    struct Full;

    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_queue_drops_lines_without_waiting_and_a_failing_stderr_loses_only_lines() {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        let shared = Arc::new(Shared {
            dropped: AtomicU64::new(0),
            pending: AtomicU64::new(0),
        });
        let writer = QueuedStderr {
            tx,
            shared: Arc::clone(&shared),
        };
        // Nobody drains the queue (stderr is a pipe nobody reads): the third line is dropped
        // at once instead of blocking.
        let started = Instant::now();
        for i in 0..3 {
            let mut line = writer.make_writer();
            let _ = writeln!(line, "line {i}");
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(shared.dropped.load(Relaxed), 1);
        assert_eq!(shared.pending.load(Relaxed), 2);
        drop(writer);
        // Then stderr fails (a full disk): the thread writes nothing, counts, and ends.
        write_lines(&rx, &shared, &mut Full);
        assert_eq!(shared.pending.load(Relaxed), 0);
        assert!(shared.dropped.load(Relaxed) >= 2);
    }
}
