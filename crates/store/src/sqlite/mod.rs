//! The SQLite backend: one file `<data>/passerelle.db` in WAL mode with
//! `synchronous=FULL`, one writer connection behind a mutex and a small pool of
//! readers. Writes run on tokio's blocking pool (the group commit's leader may run
//! others' writes too); reads run in place.

mod accounts;
mod collections;
mod dump;
mod group_commit;
mod leases;
mod ledger;
mod migrate;
mod object_ids;
mod objects;
mod statuses;
mod store_impl;
mod sync;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Result, StoreError};
use crate::time::Clock;

pub use migrate::{SCHEMA_VERSION, schema_version};
pub use object_ids::recent_limit;
pub use objects::id_hash;

/// The database file's name inside the node's data folder.
pub const FILE_NAME: &str = "passerelle.db";

/// Idle reader connections kept open; more are opened under load and closed after.
const MAX_IDLE_READERS: usize = 4;

/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The page size of a new database file, in bytes (SQLite's largest).
const PAGE_SIZE: i64 = 65536;

/// The writer's page cache, in KiB.
const WRITER_CACHE_KIB: i64 = 64 * 1024;

/// How much of the file connections read through a memory map rather than `read`
/// calls, so pages are used where they lie instead of being copied (SQLite caps it
/// at its compile-time maximum, 2 GiB by default; the rest is read as before).
const MMAP_BYTES: i64 = 1 << 31;

/// The SQLite [`Store`](crate::Store). Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Writes waiting to share the writer's next transaction.
    grouped: group_commit::Queue,
    /// The versions stored after the id index's watermark, found in memory.
    recent: Arc<object_ids::RecentIds>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `<data_dir>/passerelle.db` and applies pending migrations.
    /// The folder must exist.
    pub fn open(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<SqliteStore> {
        SqliteStore::open_file(&data_dir.join(FILE_NAME), clock)
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    ///
    /// Fails with [`StoreError::SchemaTooNew`] if a newer program wrote it.
    /// Blocks: call it before serving, or from `spawn_blocking`.
    pub fn open_file(path: &Path, clock: Arc<dyn Clock>) -> Result<SqliteStore> {
        let mut writer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&writer)?;
        // The page size is fixed when the first table is written, so this only
        // affects a new file. Objects average a kilobyte or more: with small pages a
        // batch costs a system call per page written, read back and checkpointed,
        // and that, not SQLite's own work, dominated inserting.
        writer.pragma_update(None, "page_size", PAGE_SIZE)?;
        // The writer walks the same index pages for every object of a batch; keeping
        // them saves reading them back from the file.
        writer.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        // WAL is a property of the file; set once by the writer, readers inherit it.
        let mode: String =
            writer.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::backend(format!(
                "could not switch {} to WAL (journal mode is {mode})",
                path.display()
            )));
        }
        migrate::migrate(&mut writer)?;
        tracing::debug!(path = %path.display(), "opened sqlite store");
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                grouped: group_commit::Queue::default(),
                recent: Arc::default(),
                clock,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The recent id map, for a write closure to hold.
    fn recent(&self) -> Arc<object_ids::RecentIds> {
        Arc::clone(&self.inner.recent)
    }

    /// The recent id map, for reads.
    fn recent_ids(&self) -> &object_ids::RecentIds {
        &self.inner.recent
    }

    /// The store's clock, for reads that judge time (which leases are in force).
    fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.inner.clock)
    }

    /// Runs `f` with the writer connection on the blocking pool.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &dyn Clock) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // A panic inside `f` poisons the mutex; its transaction was rolled back
            // when dropped, so the connection is still sound.
            let mut conn = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn, inner.clock.as_ref())
        })
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))?
    }

    /// Runs `f` inside a transaction shared with the writes queued at the same time
    /// ([`group_commit`]); its result arrives once that transaction is durable. For
    /// writes that only add (objects, statuses), where sharing a commit is safe. `f`
    /// may run more than once: when a write beside it fails, the shared transaction is
    /// rolled back and run again without it.
    async fn write_grouped<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection, &dyn Clock) -> Result<T> + Send + 'static,
    {
        let result = self.inner.grouped.push(f);
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            inner.grouped.run(&mut conn, inner.clock.as_ref(), &|| {
                inner.recent.invalidate()
            });
        })
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let (result, _work) = result
            .await
            .map_err(|_| StoreError::backend("the write was dropped before it finished"))?;
        result
    }

    /// Runs `f` with a reader connection, in place ([`crate::blocking::in_place`]):
    /// most reads are a few lookups, and a request makes several.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send,
    {
        crate::blocking::in_place(|| self.read_now(f))
    }

    /// Runs `f`, a lookup by key (a token, an account, a collection, a status), with a
    /// reader connection on the calling thread as it is. Such a read takes tens of
    /// microseconds, about what handing the worker's other tasks over first
    /// ([`SqliteStore::read`]) costs; a TAXII request makes two or three of them before
    /// its page, and the handovers were a tenth of the server's CPU while paging.
    async fn read_point<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send,
    {
        self.read_now(f)
    }

    fn read_now<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.inner.checkout_reader()?;
        let result = f(&conn);
        self.inner.checkin_reader(conn);
        result
    }
}

impl Inner {
    fn checkout_reader(&self) -> Result<Connection> {
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(conn) = idle {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        // Readers only: the writer has its own cache, and mapped pages it touched
        // would count towards its memory while a large import runs.
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        Ok(conn)
    }

    fn checkin_reader(&self, conn: Connection) {
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
    }
}

/// Per-connection settings: durability before acknowledgement, foreign keys, lock waits.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    object_ids::prepare_connection(conn)?;
    Ok(())
}

/// Whether `e` is a constraint violation (a UNIQUE or foreign key failure).
fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

/// What the backend's unit tests share: a store with a collection, a minimal object.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod testing {
    use std::path::Path;
    use std::sync::Arc;

    use uuid::Uuid;

    use super::SqliteStore;
    use crate::time::Clock;
    use crate::{NewCollection, NewObject, Store};

    /// A store on a new file in `dir`, holding one empty collection `collection`.
    pub async fn store_with_collection(
        dir: &Path,
        clock: Arc<dyn Clock>,
        collection: Uuid,
    ) -> SqliteStore {
        let store = SqliteStore::open(dir, clock).unwrap();
        store
            .create_collection(NewCollection {
                id: collection,
                title: "c".into(),
                description: None,
                alias: None,
            })
            .await
            .unwrap();
        store
    }

    /// An indicator with only the common properties, built as intake builds objects.
    pub fn indicator(id: &str, modified: &str) -> NewObject {
        let bytes = format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2020-01-01T00:00:00.000Z","modified":"{modified}"}}"#
        );
        let value = stix::json::parse(bytes.as_bytes()).unwrap();
        NewObject::from_object(bytes.clone().into_bytes(), value.as_object().unwrap()).unwrap()
    }
}
