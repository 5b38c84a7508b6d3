//! # portal-storage-sqlite
//!
//! The embedded default store of the MSP client onboarding portal: [`SqliteStore`]
//! implements `portal_core`'s [`DirectoryStore`](portal_core::DirectoryStore),
//! [`AccessStore`](portal_core::AccessStore),
//! [`WorkflowStore`](portal_core::WorkflowStore) and
//! [`DocumentStore`](portal_core::store::DocumentStore) and
//! [`OutboxStore`](portal_core::OutboxStore) on one SQLite file (rusqlite,
//! bundled SQLite), so a host needs no database server. File content lives beside it:
//! [`FileBlobStore`] implements [`BlobStore`](portal_core::blob::BlobStore) as one
//! file per blob in a folder (the envelope's ciphertext, never plaintext).
//!
//! ```no_run
//! # async fn demo() -> portal_core::Result<()> {
//! use std::sync::Arc;
//! use portal_core::blob::BlobStore;
//! use portal_storage_sqlite::{FileBlobStore, SqliteStore};
//!
//! let store: Arc<dyn portal_core::Store> = Arc::new(SqliteStore::open("portal.db").await?);
//! let blobs = FileBlobStore::open("portal-files").await?;
//! // Before serving: remove what puts cut short by a crash left behind.
//! blobs.sweep().await?;
//! let blobs: Arc<dyn BlobStore> = Arc::new(blobs);
//! # let _ = (store, blobs);
//! # Ok(()) }
//! ```
//!
//! How it works:
//! - The database runs in WAL mode with `synchronous=NORMAL`, foreign keys on and a
//!   5 s busy timeout; the writer has `secure_delete` on, so erased email bodies (codes,
//!   links) do not linger in free pages. The schema is applied by embedded, versioned [`migrations`].
//! - All writes go to one writer connection owned by a dedicated thread, which runs
//!   each write in `BEGIN IMMEDIATE` and commits concurrent writes together (group
//!   commit); a caller is answered only after its write is committed. The one
//!   exception, by default: the access entry of a signed-in request is queued and
//!   appended with the entries of the next few milliseconds, without the request
//!   waiting ([`AccessLogWrites`] states the loss window; `Strict` turns it off).
//! - A read cache keeps each portal's home data and each live session's check until
//!   a write changes what they were read from (per-portal generations, and SQLite's
//!   update hook for contacts and portals), within a byte budget the host sets; the
//!   same generations answer `home_version`, so `portal-http` can keep built homes.
//! - Reads run on a small pool of read connections, on tokio's blocking pool, so no
//!   SQLite call ever blocks an async worker thread.
//! - Decisions about codes and sessions are taken by `portal_core::access::rules`
//!   inside the write transaction, exactly as the contracts in `portal_core::store` say;
//!   so are task changes, by the decision the service hands to `update_task`, and
//!   uploads and reviews of documents, by the decisions handed to `add_document_file`
//!   and `update_document_file` (the file row, the task and its activity entry are
//!   written in one job), and plan edits, by the decision handed to `change_plan`
//!   (the whole plan read, decided, checked by `PlanChange::diff` and the difference
//!   written in one job, the portal's cached home invalidated).
//! - The email outbox (`OutboxStore`) is a table written in the same jobs as the
//!   actions that queue emails; a claim takes due rows and leases them in one
//!   `BEGIN IMMEDIATE` job, which SQLite serialises across processes, so several host
//!   processes sharing the file never claim the same email.
//! - File bytes do not go into the database: a file's row keeps the plaintext's size
//!   and SHA-256, the blob's id and the data key wrapped by the keyring, never the
//!   content or an unwrapped key. [`FileBlobStore`] streams each put into
//!   `tmp/<id>.part` (owner-only), fsyncs it, links it to `<id>` (never replacing a
//!   blob), fsyncs the folder, and only then answers; a get streams the file in
//!   pieces; `sweep` removes the parts of puts a crash cut short. Rows of 64 KiB in
//!   SQLite were measured and rejected (docs/file-storage.md): a quarter of the
//!   throughput, every byte written twice (WAL, then checkpoint), and an upload
//!   would share the one writer with every other write of the portal.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod access_queue;
mod attachments;
mod audit;
mod blobs;
mod cache;
mod codec;
mod credentials;
mod directory;
mod documents;
mod filedrop;
mod idempotency;
pub mod migrations;
mod outbox;
mod plan;
mod reminders;
mod rotation;
mod signatures;
mod webhooks;
mod workflow;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use portal_core::{Error, PortalId, Result};

use crate::codec::DbResult;
use crate::writer::Writer;

pub use crate::blobs::FileBlobStore;

/// Read connections in the pool.
const READERS: usize = 4;
/// How long a connection waits for a lock held by another connection or process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection (more than the store uses).
const STATEMENT_CACHE: usize = 128;

/// How a [`SqliteStore`] is opened: [`SqliteStore::open_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// Bytes of memory the read cache of portal homes (each portal's snapshot and
    /// activity feed, kept until the next write to that portal) may hold, each entry
    /// weighed at about its heap size (twice its JSON-encoded size, as measured by the
    /// scale run in `docs/PERFORMANCE.md`); 0 turns the cache off. Default
    /// [`Self::DEFAULT_CACHE_BYTES`]: a portal's entries weigh about 60–120 KB, so the
    /// default keeps the homes of about 500–1 000 active portals, and the process's
    /// memory stays bounded however many portals the database holds.
    pub cache_bytes: u64,
    /// When the access-log entry of a signed-in request is committed. Default
    /// [`AccessLogWrites::Queued`].
    pub access_log: AccessLogWrites,
}

/// When the access-log entry of a signed-in request (`authenticate`) is committed.
/// Every other write, and every other access entry (sign-in, sign-out, the access
/// flow), is committed before its call returns either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AccessLogWrites {
    /// Queued for the writer, which appends what is queued in one job: the request
    /// is answered without waiting for a commit of its own, and the session check
    /// reads (from the read cache while nothing it reads changed). A process that
    /// dies without shutting down loses the entries not yet committed: at most 4 096
    /// (a request that finds that many queued waits for them), normally those of the
    /// last few milliseconds. Dropping the store commits them all, and reads of the
    /// access log through the store see every entry queued before them.
    #[default]
    Queued,
    /// In the unit that checks the session, committed before the request is
    /// answered: a crash loses nothing, and each request waits for a commit (shared
    /// by the requests of the same moment).
    Strict,
}

impl SqliteOptions {
    /// The read cache's default budget: 64 MiB.
    pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

    /// These options with a read cache of at most `bytes` (0: none).
    pub fn with_cache_bytes(mut self, bytes: u64) -> Self {
        self.cache_bytes = bytes;
        self
    }

    /// These options with access-log entries of signed-in requests committed as `writes` says.
    pub fn with_access_log(mut self, writes: AccessLogWrites) -> Self {
        self.access_log = writes;
        self
    }
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            cache_bytes: Self::DEFAULT_CACHE_BYTES,
            access_log: AccessLogWrites::default(),
        }
    }
}

/// A portal store in one SQLite database file.
///
/// Cheap to share behind an `Arc`. Dropping it waits for queued writes to commit and
/// closes the database (which checkpoints the write-ahead log).
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<Readers>,
    path: PathBuf,
    cache: cache::ContentCache,
    /// Access entries waiting for the writer ([`AccessLogWrites::Queued`]).
    access_queue: Arc<access_queue::AccessQueue>,
    access_log_writes: AccessLogWrites,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The read connections. A read takes a free one if any, else waits for one.
struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let n = self.conns.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n.max(1);
        for i in 0..n {
            if let Some(Ok(mut conn)) = self.conns.get((start + i) % n).map(Mutex::try_lock) {
                return f(&mut conn);
            }
        }
        let Some(slot) = self.conns.get(start) else {
            return Err(Error::storage_msg("no SQLite read connection"));
        };
        // A poisoned lock only means a reader panicked mid-read; the connection is fine.
        let mut conn = slot.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }
}

/// Creates the database file owner-only (0600) if it does not exist yet: it holds
/// hashes of live tokens and everything the clients entered. SQLite gives its `-wal`
/// and `-shm` files the database file's mode, so they are owner-only too. An existing
/// file keeps the mode its owner chose.
fn create_owner_only(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(Error::storage(
                format!("cannot create the database file {}", path.display()),
                e,
            )),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to
    /// date. A database written by a newer version of this crate is refused with
    /// `Error::Storage`, untouched.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// [`Self::open`] with `options` (the read cache's memory budget).
    pub async fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(path, options))
            .await
            .map_err(|e| Error::storage("opening the SQLite database", e))?
    }

    fn open_blocking(path: PathBuf, options: SqliteOptions) -> Result<Self> {
        Self::open_checked(path.clone(), options).map_err(|e| explain_open(&path, e))
    }

    fn open_checked(path: PathBuf, options: SqliteOptions) -> Result<Self> {
        create_owner_only(&path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags).db("opening the database")?;
        configure(&conn)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .db("enabling WAL")?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "SQLite could not enable WAL for this database");
        }
        // Queued emails carry invite links and codes until they are sent; erasing
        // their bodies must not leave the old bytes in the file's free space.
        conn.pragma_update(None, "secure_delete", true)
            .db("enabling secure delete")?;
        migrations::migrate(&mut conn)?;

        let mut conns = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .db("opening a read connection")?;
            configure(&reader)?;
            reader
                .pragma_update(None, "query_only", true)
                .db("making a read connection read-only")?;
            conns.push(Mutex::new(reader));
        }
        let cache = cache::ContentCache::new(options.cache_bytes);
        let writer = Writer::start(conn, cache.generations())?;
        tracing::debug!(path = %path.display(), "opened SQLite store");
        Ok(Self {
            writer,
            readers: Arc::new(Readers {
                conns,
                next: AtomicUsize::new(0),
            }),
            path,
            cache,
            access_queue: Arc::default(),
            access_log_writes: options.access_log,
        })
    }

    /// Bytes the read cache holds now, as weighed against
    /// [`SqliteOptions::cache_bytes`] (for a host's metrics; never above the budget).
    pub fn cache_bytes_used(&self) -> u64 {
        self.cache.weight()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read on a pooled read connection, off the async worker threads.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || readers.with(f))
            .await
            .map_err(|e| Error::storage("running a SQLite read", e))?
    }

    /// Runs one atomic write on the writer thread and waits for its commit; an `Err`
    /// from `f` rolls back everything `f` did.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.writer.write(f).await
    }

    /// [`Self::write`] for writes that change live sessions' rows: cached session
    /// checks are invalidated once the write has committed (or failed). The
    /// `sessions` table is `WITHOUT ROWID`, which SQLite's update hook does not
    /// report, so these writes say so themselves (changes to contacts and portals
    /// are seen by the hook).
    pub(crate) async fn write_sessions<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.write_then(f, cache::ContentCache::sessions_changed)
            .await
    }

    /// [`Self::write_sessions`] for a write to the one session `token` (a sign-out,
    /// the session's note): only the cached checks in its stripe are invalidated, so
    /// one client's note does not send every other live session back to SQL.
    pub(crate) async fn write_session<T, F>(
        &self,
        token: &portal_core::secret::TokenHash,
        f: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.write_then(f, |cache| cache.session_changed(token))
            .await
    }

    /// [`Self::write_content`] for the portal of a change's activity entry when there
    /// is one (the change records itself in that portal's feed), else [`Self::write`].
    pub(crate) async fn write_recorded<T, F>(&self, portal: Option<PortalId>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        match portal {
            Some(portal) => self.write_content(portal, f).await,
            None => self.write(f).await,
        }
    }

    /// [`Self::write`] for writes that can change what one portal's home shows (the
    /// portal, its phases, tasks and activity): that portal's cached reads are
    /// invalidated once the write has committed (or failed).
    pub(crate) async fn write_content<T, F>(&self, portal: PortalId, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.write_then(f, |cache| cache.invalidate(portal)).await
    }

    /// [`Self::write`], then `invalidate` on the read cache once the write has
    /// committed (or failed): the one shape of the `write_*` helpers above.
    async fn write_then<T, F>(
        &self,
        f: F,
        invalidate: impl FnOnce(&cache::ContentCache),
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let result = self.writer.write(f).await;
        invalidate(&self.cache);
        result
    }
}

/// A failure to open the database, reworded for the operator who has to act on it:
/// the file's path, what is wrong with it, and what to do. Still `Error::Storage`.
fn explain_open(path: &Path, err: Error) -> Error {
    let (message, source) = match err {
        Error::Storage { message, source } => (message, source),
        Error::StorageFull { message } => {
            return Error::storage_msg(format!(
                "cannot open the database {}: {message}; the disk is full: free some space and start again",
                path.display()
            ));
        }
        other => return other,
    };
    let code = source
        .as_deref()
        .and_then(|s| s.downcast_ref::<rusqlite::Error>())
        .and_then(rusqlite::Error::sqlite_error_code);
    let io = source
        .as_deref()
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    let detail = match &source {
        Some(s) => format!("{message}: {s}"),
        None => message,
    };
    use rusqlite::ErrorCode as C;
    let hint = match (code, io) {
        (Some(C::NotADatabase | C::DatabaseCorrupt), _) => {
            "the file is not a SQLite database or is damaged. Restore it from a backup, \
             or move it (with any -wal and -shm files beside it) out of the way to start \
             with empty data"
        }
        (Some(C::ReadOnly | C::CannotOpen | C::PermissionDenied), _)
        | (
            _,
            Some(std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem),
        ) => {
            "check that its folder exists and that this user may write to the file and \
             the folder (a read-only file system or missing permissions), or choose another place"
        }
        (Some(C::DiskFull), _) | (_, Some(std::io::ErrorKind::StorageFull)) => {
            "the disk is full: free some space and start again"
        }
        _ if detail.contains("newer version") => "",
        _ => "check the file and its folder, or restore the database from a backup",
    };
    let message = if hint.is_empty() {
        format!("cannot open the database {}: {detail}", path.display())
    } else {
        format!(
            "cannot open the database {}: {detail}; {hint}",
            path.display()
        )
    };
    Error::Storage {
        message,
        source: None,
    }
}

/// Settings every connection needs.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .db("setting the busy timeout")?;
    conn.pragma_update(None, "foreign_keys", true)
        .db("enabling foreign keys")?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .db("setting synchronous mode")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use portal_core::DirectoryStore;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn a_new_database_and_its_wal_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portal.db");
        let store = SqliteStore::open(&path).await.unwrap();
        // A write makes SQLite create the WAL and shared-memory files.
        store.tenants().await.unwrap();
        let tenant = portal_core::model::Tenant {
            id: portal_core::TenantId::random(&portal_core::OsRandom),
            name: "Mode check".to_owned(),
            branding: portal_core::model::Branding::new("Mode check", "#336699", "", None).unwrap(),
            notification_recipients: Vec::new(),
            time_zone: portal_core::model::TimeZone::UTC,
            created_at: chrono::Utc::now(),
            base_url: None,
            sender: None,
            version: portal_core::model::first_version(),
        };
        store.create_tenant(&tenant).await.unwrap();
        for file in ["portal.db", "portal.db-wal", "portal.db-shm"] {
            let p = dir.path().join(file);
            assert!(p.exists(), "{file} exists");
            assert_eq!(mode(&p), 0o600, "{file}");
        }
    }
}
