//! Readiness: whether the sink accepts data now, and why not — the store's file system above
//! the free-space floor (`--min-free`), its queue not full, its last commit not failed.
//!
//! Owns the free-space floor: [`Health::check_floor`] is asked before each request is decoded
//! (and once a second by the receiver's watch) and looks at the file system (`statvfs`) at
//! most once a second, so a sink whose disk is
//! nearly full refuses with "retry later" *before* SQLite runs out of room, tells the store
//! writer to make room when size retention is configured, and accepts again by itself once
//! space returns. It does not answer requests or serve HTTP: `/readyz` and `/metrics` render
//! what [`Health::readiness`] returns.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::store::WriterHandle;

/// How long a client is asked to wait while the disk is under the floor.
pub const LOW_DISK_RETRY_AFTER: Duration = Duration::from_secs(5);
/// Requests look at the file system at most this often; the receiver's watch looks this
/// often when no request comes.
pub(crate) const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The store's file system has less free space than the floor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the store's file system ({dir}) has {free} free: it went under the --min-free floor of {floor}, and the sink refuses data until {resume} are free (free disk space, or set --max-size so that retention makes room); retry after {retry}s",
    dir = .dir.display(),
    free = human_bytes(*.free),
    floor = human_bytes(*.floor),
    resume = human_bytes(resume_at(*.floor)),
    retry = LOW_DISK_RETRY_AFTER.as_secs()
)]
pub struct LowDisk {
    pub dir: PathBuf,
    pub free: u64,
    pub floor: u64,
}

/// Free bytes from which a sink that went under `floor` accepts again: an eighth of the floor
/// (at least 1 MiB) above it, so that a disk hovering at the floor does not flip between
/// refusing and accepting — and `/readyz` between false and true — with every checkpoint, as
/// the free-space watermarks of storage servers do.
pub fn resume_at(floor: u64) -> u64 {
    floor.saturating_add((floor / 8).max(1 << 20))
}

/// Whether `free` bytes (`u64::MAX`: unknown) are too few, for a sink that was refusing or not.
fn refusing(free: u64, floor: u64, was_refusing: bool) -> bool {
    let need = if was_refusing {
        resume_at(floor)
    } else {
        floor
    };
    free != u64::MAX && free < need
}

/// Bytes in the largest binary unit that keeps a number ≥ 1, one decimal (`212.4 MiB`).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The free-space floor of one store's file system.
pub struct Health {
    dir: PathBuf,
    floor: u64,
    origin: Instant,
    /// Milliseconds since `origin` of the last look, plus one (0: never looked).
    checked_at: AtomicU64,
    /// Free bytes at the last look; `u64::MAX` when unknown.
    free: AtomicU64,
    low: AtomicBool,
}

impl Health {
    /// `store` is the store file; its directory's file system is the one watched.
    pub fn new(store: &Path, floor: u64) -> Health {
        let dir = match store.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Health {
            dir,
            floor,
            origin: Instant::now(),
            checked_at: AtomicU64::new(0),
            free: AtomicU64::new(u64::MAX),
            low: AtomicBool::new(false),
        }
    }

    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// Free bytes at the last look (`None` when unknown or the floor is off).
    pub fn free_bytes(&self) -> Option<u64> {
        Some(self.free.load(Relaxed)).filter(|&f| f != u64::MAX)
    }

    /// `Err` while the file system is under the floor. Looks again when the last look is
    /// more than a second old (or always with `fresh`).
    fn check(&self, writer: &WriterHandle, fresh: bool) -> Result<(), LowDisk> {
        if self.floor == 0 {
            return Ok(());
        }
        let now = u64::try_from(self.origin.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.checked_at.load(Relaxed);
        let stale = last == 0 || now.saturating_sub(last) >= CHECK_EVERY.as_millis() as u64;
        if (fresh || stale)
            && self
                .checked_at
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_ok()
        {
            self.look(writer);
        }
        if self.low.load(Relaxed) {
            let free = self.free.load(Relaxed);
            return Err(LowDisk {
                dir: self.dir.clone(),
                free,
                floor: self.floor,
            });
        }
        Ok(())
    }

    /// The check before a request is decoded.
    pub fn check_floor(&self, writer: &WriterHandle) -> Result<(), LowDisk> {
        self.check(writer, false)
    }

    /// A fresh look, from the receiver's watch.
    pub(crate) fn look_now(&self, writer: &WriterHandle) {
        let _ = self.check(writer, true);
    }

    fn look(&self, writer: &WriterHandle) {
        let free = match free_bytes(&self.dir) {
            // The file's own free pages are room too: new data fills them before the file
            // grows (retention under the floor frees them without shrinking the file). The
            // WAL is not: a checkpoint copies its pages into the database file, which grows
            // by as much at worst, so room for that is kept.
            Ok(free) => free
                .saturating_add(writer.reusable_bytes())
                .saturating_sub(writer.wal_bytes()),
            Err(e) => {
                // Unknown is not low: a file system that cannot say must not stop ingestion.
                tracing::debug!("cannot read the free space of {}: {e}", self.dir.display());
                u64::MAX
            }
        };
        self.free.store(free, Relaxed);
        let low = refusing(free, self.floor, self.low.load(Relaxed));
        if self.low.swap(low, Relaxed) != low {
            writer.set_low_space(low);
            if low {
                tracing::warn!(
                    "{} has {} free, under the --min-free floor of {}: refusing data (503, UNAVAILABLE) until space is freed{}",
                    self.dir.display(),
                    human_bytes(free),
                    human_bytes(self.floor),
                    if writer.has_size_retention() {
                        "; size retention is deleting the oldest data"
                    } else {
                        ""
                    }
                );
            } else {
                tracing::warn!(
                    "{} has {} free again, {} above the --min-free floor: accepting data",
                    self.dir.display(),
                    human_bytes(free),
                    human_bytes(resume_at(self.floor) - self.floor)
                );
            }
        }
    }

    /// Everything `/readyz` reports, with a fresh look at the disk.
    pub fn readiness(&self, writer: &WriterHandle) -> Readiness {
        let mut reasons = Vec::new();
        if let Err(low) = self.check(writer, true) {
            reasons.push(Reason {
                check: "disk",
                message: low.to_string(),
            });
        }
        let stats = writer.stats();
        let depth = stats.queue_depth.load(Relaxed);
        let capacity = writer.queue_capacity() as u64;
        if depth >= capacity {
            reasons.push(Reason {
                check: "queue",
                message: format!(
                    "the store queue is full ({depth} of {capacity} requests): requests are refused with 503 / UNAVAILABLE until the writer catches up"
                ),
            });
        }
        if let Some(error) = stats.last_commit_error() {
            reasons.push(Reason {
                check: "store",
                message: format!("the last commit failed and none has succeeded since: {error}"),
            });
        }
        if writer.is_closing() {
            reasons.push(Reason {
                check: "shutdown",
                message: "the sink is shutting down".into(),
            });
        }
        Readiness {
            ready: reasons.is_empty(),
            reasons,
            disk: Disk {
                path: self.dir.display().to_string(),
                free_bytes: self.free_bytes(),
                min_free_bytes: self.floor,
            },
            queue: Queue { depth, capacity },
        }
    }
}

/// What `/readyz` answers, as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub ready: bool,
    /// Why not, one entry per failing check (`disk`, `queue`, `store`, `shutdown`).
    pub reasons: Vec<Reason>,
    pub disk: Disk,
    pub queue: Queue,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub check: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Disk {
    pub path: String,
    pub free_bytes: Option<u64>,
    pub min_free_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Queue {
    pub depth: u64,
    pub capacity: u64,
}

/// The checks `/readyz` makes, for `/metrics`.
const CHECKS: [&str; 4] = ["disk", "queue", "store", "shutdown"];

/// `obs_sink_ready`, `obs_sink_ready_check{check}`, and the disk's free bytes and floor.
pub fn render_prometheus(readiness: &Readiness, health: &Health, out: &mut String) {
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "# HELP obs_sink_ready Whether the sink accepts data now (1) or refuses it (0); /readyz says why.\n# TYPE obs_sink_ready gauge\nobs_sink_ready {}",
        u8::from(readiness.ready)
    );
    let _ = writeln!(
        out,
        "# HELP obs_sink_ready_check Each readiness check: 1 passing, 0 failing.\n# TYPE obs_sink_ready_check gauge"
    );
    for check in CHECKS {
        let failing = readiness.reasons.iter().any(|r| r.check == check);
        let _ = writeln!(
            out,
            "obs_sink_ready_check{{check=\"{check}\"}} {}",
            u8::from(!failing)
        );
    }
    if let Some(free) = health.free_bytes() {
        let _ = writeln!(
            out,
            "# HELP obs_sink_disk_free_bytes Free bytes of the store's file system, for unprivileged users.\n# TYPE obs_sink_disk_free_bytes gauge\nobs_sink_disk_free_bytes {free}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP obs_sink_disk_min_free_bytes The free-space floor (--min-free); 0 is off.\n# TYPE obs_sink_disk_min_free_bytes gauge\nobs_sink_disk_min_free_bytes {}",
        health.floor()
    );
}

/// Bytes available to unprivileged users on the file system holding `dir`.
#[cfg(unix)]
fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is NUL-terminated and outlives the call; `st` is writable memory of the
    // right type, which statvfs fills when it returns 0.
    let rc = unsafe { libc::statvfs(path.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it initialised `st`.
    let st = unsafe { st.assume_init() };
    #[expect(
        clippy::useless_conversion,
        reason = "the field types differ between platforms"
    )]
    Ok(u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
}

#[cfg(not(unix))]
fn free_bytes(_dir: &Path) -> std::io::Result<u64> {
    Ok(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(256 * 1024 * 1024), "256.0 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }

    #[test]
    fn under_the_floor_the_sink_refuses_until_an_eighth_more_is_free() {
        const MIB: u64 = 1 << 20;
        let floor = 256 * MIB;
        assert!(!refusing(floor, floor, false));
        assert!(refusing(floor - 1, floor, false));
        // Back above the floor by less than an eighth of it: still refusing.
        assert!(refusing(floor + 1, floor, true));
        assert!(refusing(floor + 32 * MIB - 1, floor, true));
        assert!(!refusing(floor + 32 * MIB, floor, true));
        // Small floors: at least 1 MiB above.
        assert!(refusing(8 * MIB + MIB - 1, 8 * MIB, true));
        assert!(!refusing(9 * MIB, 8 * MIB, true));
        // Unknown free space never refuses.
        assert!(!refusing(u64::MAX, floor, true));
    }

    #[test]
    fn the_refusal_says_the_floor_and_from_how_much_it_accepts_again() {
        const MIB: u64 = 1 << 20;
        // Back above the floor, not yet above the resume point: the message stays true.
        let low = LowDisk {
            dir: PathBuf::from("/data"),
            free: 8 * MIB + MIB / 2,
            floor: 8 * MIB,
        };
        assert_eq!(
            low.to_string(),
            "the store's file system (/data) has 8.5 MiB free: it went under the --min-free floor of 8.0 MiB, and the sink refuses data until 9.0 MiB are free (free disk space, or set --max-size so that retention makes room); retry after 5s"
        );
    }

    #[test]
    fn the_free_space_of_a_real_directory_is_known() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_bytes(dir.path()).unwrap();
        assert!(free > 0);
        assert!(free_bytes(Path::new("/nonexistent-obs-dir")).is_err());
    }
}
