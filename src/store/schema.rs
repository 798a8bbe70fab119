//! Opening a store file: connection settings, recognising what the file is, and migrations.
//!
//! Migrations are the SQL files in `migrations/`, applied in order inside one write
//! transaction each; the number applied is kept in `PRAGMA user_version`. A file with a higher
//! version than this build knows is refused rather than guessed at.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::{SqlContext, StoreError};

/// One schema version: its SQL file, then (for data the SQL cannot convert) a Rust step, in
/// the same transaction.
struct Migration {
    sql: &'static str,
    then: Option<fn(&Connection) -> rusqlite::Result<()>>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("migrations/0001_init.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0002_span_chunks.sql"),
        then: Some(super::v1::migrate_v1_spans),
    },
    Migration {
        sql: include_str!("migrations/0003_sample_chunks.sql"),
        then: Some(super::samples::migrate_v2_points),
    },
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// `PRAGMA application_id` of obs stores ("obs1"), so that obs recognises its own files.
const APPLICATION_ID: i32 = 0x6f62_7331;

/// How long a connection waits for another connection's lock before giving up with `Locked`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating if needed) a store for writing and brings its schema up to date.
pub(crate) fn open_read_write(path: &Path) -> Result<Connection, StoreError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT).at(path)?;

    let version = check_identity(&conn, path)?;
    if version == 0 {
        // Must precede the first table: lets retention give freed pages back to the file system.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .at(path)?;
    }
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .at(path)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Sqlite {
            path: path.to_path_buf(),
            source: rusqlite::Error::InvalidParameterName(format!(
                "journal_mode WAL refused (got {mode}); is the file on a network file system?"
            )),
        });
    }
    apply_connection_settings(&conn, path)?;
    migrate(&conn, path)?;
    Ok(conn)
}

/// Opens an existing store for reading only. Works while a sink writes to it (WAL readers).
/// A store of an older schema is upgraded first.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    open_read_only_inner(path, false)
}

fn open_read_only_inner(path: &Path, upgrading: bool) -> Result<Connection, StoreError> {
    let meta = std::fs::metadata(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            StoreError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            StoreError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    if meta.len() == 0 {
        return Err(StoreError::Missing {
            path: path.to_path_buf(),
        });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT).at(path)?;
    let version = check_identity(&conn, path)?;
    if version == 0 {
        return Err(StoreError::Missing {
            path: path.to_path_buf(),
        });
    }
    if version < SCHEMA_VERSION {
        // Written by an older obs: upgrade it in place once (what `obs sink` would do on
        // start), then read. Without write access it stays unreadable, and the error says why.
        drop(conn);
        let older = StoreError::OlderSchema {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        };
        if !upgrading {
            match open_read_write(path) {
                Ok(upgraded) => drop(upgraded),
                Err(StoreError::Sqlite { source, .. })
                    if source.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) =>
                {
                    return Err(older);
                }
                Err(StoreError::Io { .. }) => return Err(older),
                Err(e) => return Err(e),
            }
            return open_read_only_inner(path, true);
        }
        return Err(older);
    }
    conn.pragma_update(None, "query_only", true).at(path)?;
    Ok(conn)
}

fn open_error(path: &Path, e: rusqlite::Error) -> StoreError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) {
        return StoreError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("cannot open the file: {e}")),
        };
    }
    StoreError::sqlite(path, e)
}

/// Settings every connection of the writer uses (they are not stored in the file).
fn apply_connection_settings(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    // WAL + NORMAL: a commit is in the WAL (the OS's page cache) before the writer
    // acknowledges, so a killed sink loses nothing it acknowledged; only an OS crash or power
    // loss can roll back the last commits. See docs/store.md, "Durability".
    conn.pragma_update(None, "synchronous", "NORMAL").at(path)?;
    conn.pragma_update(None, "foreign_keys", false).at(path)?;
    conn.pragma_update(None, "temp_store", "MEMORY").at(path)?;
    conn.pragma_update(None, "cache_size", -32_000).at(path)?;
    // The writer checkpoints from a thread of its own (see `writer.rs`); a WAL that grew large
    // under load is cut back to this size when it restarts.
    conn.pragma_update(None, "journal_size_limit", 64 << 20)
        .at(path)?;
    Ok(())
}

/// A second read-write connection to an existing store, for the writer's checkpoint thread:
/// it copies committed WAL pages into the database file while the writer goes on writing.
pub(crate) fn open_checkpointer(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT).at(path)?;
    apply_connection_settings(&conn, path)?;
    Ok(conn)
}

/// Reads `user_version`, refusing files that are not SQLite, not ours, or too new.
fn check_identity(conn: &Connection, path: &Path) -> Result<u32, StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .at(path)?;
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .at(path)?;
    let version = u32::try_from(version).unwrap_or(u32::MAX);
    if app_id != 0 && app_id != APPLICATION_ID {
        return Err(StoreError::ForeignDatabase {
            path: path.to_path_buf(),
        });
    }
    if version == 0 || app_id == 0 {
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |row| row.get(0),
            )
            .at(path)?;
        if tables > 0 {
            return Err(StoreError::ForeignDatabase {
                path: path.to_path_buf(),
            });
        }
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(version)
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    loop {
        // Another process may migrate concurrently: decide inside the write transaction.
        let tx =
            rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate).at(path)?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .at(path)?;
        let version = u32::try_from(version).unwrap_or(u32::MAX);
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let Some(migration) = MIGRATIONS.get(version as usize) else {
            return Ok(());
        };
        tx.execute_batch(migration.sql).at(path)?;
        if let Some(step) = migration.then {
            step(&tx).at(path)?;
        }
        tx.pragma_update(None, "user_version", version + 1)
            .at(path)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .at(path)?;
        tx.commit().at(path)?;
    }
}

/// The main file's page size, its pages and its free pages.
fn pages(conn: &Connection) -> rusqlite::Result<(u64, u64, u64)> {
    let read = |pragma: &str| -> rusqlite::Result<u64> {
        let n: i64 = conn.pragma_query_value(None, pragma, |r| r.get(0))?;
        Ok(n.max(0) as u64)
    };
    Ok((
        read("page_size")?,
        read("page_count")?,
        read("freelist_count")?,
    ))
}

/// Bytes the data uses inside the main file (excluding free pages).
pub(crate) fn used_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let (size, pages, free) = pages(conn)?;
    Ok(pages.saturating_sub(free) * size)
}

/// Bytes of the file's free pages (the freelist), which new rows fill before the file grows.
pub(crate) fn free_page_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let (size, _, free) = pages(conn)?;
    Ok(free * size)
}

/// Size of the store's write-ahead log file (0 when there is none).
pub(crate) fn wal_bytes(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(Path::new(&wal)).map_or(0, |m| m.len())
}

/// Size of the store on disk: the database file plus its WAL.
pub(crate) fn file_bytes(path: &Path) -> u64 {
    let main = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    main + wal_bytes(path)
}
