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
    /// Lines the thread has finished with (written or failed): its progress.
    done: AtomicU64,
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
            done: AtomicU64::new(0),
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
        shared.done.fetch_add(1, Relaxed);
    }
}

/// However slowly stderr takes lines, the exit waits for them at most this long.
const FLUSH_AT_MOST: Duration = Duration::from_secs(10);

/// Waits for the queued lines to be written (at exit, so the last lines are not lost): as
/// long as the log thread makes progress, up to [`FLUSH_AT_MOST`]; when it has written
/// nothing for `stall` (stderr does not take lines: a full pipe nobody reads), it gives up.
/// A busy machine slows the thread down but does not lose the last lines.
pub fn flush(stall: Duration) {
    let Some(QueuedStderr { shared, .. }) = QUEUE.get() else {
        return;
    };
    wait_for(shared, stall, FLUSH_AT_MOST);
}

fn wait_for(shared: &Shared, stall: Duration, at_most: Duration) {
    let started = Instant::now();
    let mut done = shared.done.load(Relaxed);
    let mut progressed = started;
    while shared.pending.load(Relaxed) > 0 && started.elapsed() < at_most {
        std::thread::sleep(Duration::from_millis(5));
        let now_done = shared.done.load(Relaxed);
        if now_done != done {
            done = now_done;
            progressed = Instant::now();
        } else if progressed.elapsed() >= stall {
            return;
        }
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
/// runs, waiting for it as [`flush`] does (giving up after `stall` without progress), so
/// that a stderr nobody reads cannot keep the process from exiting; else written directly,
/// ignoring failure.
pub fn stderr_line(text: &str, stall: Duration) {
    let line = format!("{text}\n").into_bytes();
    match QUEUE.get() {
        Some(writer) => {
            let mut queued = writer.make_writer();
            queued.buf = line;
            drop(queued);
            flush(stall);
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
            done: AtomicU64::new(0),
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

    /// A writer that takes each line slowly, as stderr can on a loaded machine.
    struct Slow(Vec<u8>);

    impl std::io::Write for Slow {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(Duration::from_millis(100));
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_flush_at_exit_waits_for_a_slow_stderr_and_gives_up_on_a_stuck_one() {
        let (tx, rx) = std::sync::mpsc::sync_channel(64);
        let shared = Arc::new(Shared {
            dropped: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            done: AtomicU64::new(0),
        });
        let writer = QueuedStderr {
            tx,
            shared: Arc::clone(&shared),
        };
        // 12 lines at 100 ms each: 1.2 s in all, more than twice the 0.5 s stall allowance
        // (the one used at exit), but always progressing, so every line is written before
        // the wait returns.
        for i in 0..12 {
            let mut line = writer.make_writer();
            let _ = writeln!(line, "line {i}");
        }
        drop(writer);
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            let mut out = Slow(Vec::new());
            write_lines(&rx, &thread_shared, &mut out);
            out.0
        });
        wait_for(&shared, Duration::from_millis(500), Duration::from_secs(30));
        assert_eq!(shared.pending.load(Relaxed), 0);
        let written = String::from_utf8(thread.join().unwrap()).unwrap();
        assert!(written.ends_with("line 11\n"), "{written}");

        // Nothing takes the lines (a pipe nobody reads): the wait ends after the stall.
        let (tx, _rx) = std::sync::mpsc::sync_channel(4);
        let stuck = Arc::new(Shared {
            dropped: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            done: AtomicU64::new(0),
        });
        let writer = QueuedStderr {
            tx,
            shared: Arc::clone(&stuck),
        };
        let mut line = writer.make_writer();
        let _ = writeln!(line, "never written");
        drop(line);
        let started = Instant::now();
        wait_for(&stuck, Duration::from_millis(100), Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(stuck.pending.load(Relaxed), 1);
    }
}
