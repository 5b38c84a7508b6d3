//! # portal-storage-postgres
//!
//! PostgreSQL storage for the MSP client onboarding portal, for hosts that run several
//! portal nodes behind a load balancer: [`PostgresStore`] implements every store seam
//! of `portal_core` ([`portal_core::Store`] and
//! [`WebhookStore`](portal_core::webhooks::WebhookStore)) on one PostgreSQL database
//! that all nodes share.
//!
//! ```no_run
//! # async fn demo() -> portal_core::Result<()> {
//! use std::sync::Arc;
//! use portal_storage_postgres::PostgresStore;
//!
//! let store: Arc<dyn portal_core::Store> =
//!     Arc::new(PostgresStore::connect("postgresql://portal@db.internal/portal").await?);
//! # let _ = store;
//! # Ok(()) }
//! ```
//!
//! How it works:
//! - The schema and the rows are the SQLite store's (same tables, columns and storage
//!   forms), in PostgreSQL's types; versioned [`migrations`] run under an advisory lock,
//!   so nodes starting together apply each exactly once.
//! - Every store method is one transaction: writes at
//!   `SERIALIZABLE`, run again when PostgreSQL reports a conflict with a concurrent
//!   unit (invisible to the caller); reads at `REPEATABLE READ READ ONLY`. The rules are
//!   `portal_core`'s: a unit loads, calls the core's decision, and writes.
//! - No read cache: every read sees every unit any node committed before it started,
//!   so a revocation through one node holds on every node's very next request.
//! - The `postgres` client blocks, so units run on Tokio's blocking pool over an
//!   `r2d2` pool of connections, never on an async worker thread.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod attachments;
mod audit;
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
mod tx;
mod webhooks;
mod workflow;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;

use portal_core::{Error, PortalId, Result};

use crate::tx::{Mode, Pool, Tx};

/// How a [`PostgresStore`] connects: [`PostgresStore::connect_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// Most connections this node holds open (default 16). Every node has its own
    /// pool: keep the sum under the server's `max_connections`.
    pub max_connections: u32,
    /// How long a unit waits for a free connection before failing (default 30 s).
    pub connect_timeout: Duration,
}

impl PostgresOptions {
    /// These options with at most `n` connections.
    #[must_use]
    pub fn with_max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// The PostgreSQL store: a pool of connections to one database.
pub struct PostgresStore {
    pool: PoolOwner,
    /// Units run again after a serialization failure or deadlock, since opening.
    retries: Arc<AtomicU64>,
    /// Host and database, for logs and `Debug` (never the password).
    describe: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.describe)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgresql://user:password@host:port/db`
    /// or the key=value form) and brings its schema up to date. A database written by
    /// a newer version of this crate is refused with `Error::Storage`, untouched.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, PostgresOptions::default()).await
    }

    /// [`Self::connect`] with `options`.
    pub async fn connect_with(url: &str, options: PostgresOptions) -> Result<Self> {
        let config: postgres::Config = url.parse().map_err(|e| {
            Error::storage(
                "the PostgreSQL address is not a connection string or URL",
                e,
            )
        })?;
        let describe = describe(&config);
        tokio::task::spawn_blocking(move || Self::connect_blocking(config, describe, options))
            .await
            .map_err(|e| Error::storage("connecting to PostgreSQL", e))?
    }

    fn connect_blocking(
        config: postgres::Config,
        describe: String,
        options: PostgresOptions,
    ) -> Result<Self> {
        let manager = tx::Manager(PostgresConnectionManager::new(config, postgres::NoTls));
        let pool = r2d2::Pool::builder()
            .max_size(options.max_connections.max(1))
            // No round trip to test a connection on every unit: `tx::run` moves a unit
            // whose connection turns out closed to a fresh one.
            .test_on_check_out(false)
            .min_idle(Some(1))
            .connection_timeout(options.connect_timeout)
            .build(manager)
            .map_err(|e| {
                Error::storage(
                    format!("cannot connect to the PostgreSQL database {describe}"),
                    e,
                )
            })?;
        {
            let mut conn = pool.get().map_err(|e| {
                Error::storage(
                    format!("cannot connect to the PostgreSQL database {describe}"),
                    e,
                )
            })?;
            migrations::migrate(conn.client()).map_err(|e| match e {
                Error::Storage { message, source } => Error::Storage {
                    message: format!("cannot open the PostgreSQL database {describe}: {message}"),
                    source,
                },
                other => other,
            })?;
        }
        tracing::debug!(database = %describe, "opened PostgreSQL store");
        Ok(Self {
            pool: PoolOwner(Some(pool)),
            retries: Arc::new(AtomicU64::new(0)),
            describe,
        })
    }

    /// The database as `host:port/name`, for a host's logs and start-up lines (never
    /// the user or password of the URL).
    pub fn database(&self) -> &str {
        &self.describe
    }

    /// How many units this store ran again because PostgreSQL aborted them for a
    /// concurrent unit (serialization failures and deadlocks), since it was opened: a
    /// host's metric of write contention. Retries are invisible to callers; a high
    /// rate means many requests write the same rows at once.
    pub fn retried_units(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<u32> {
        let pool = self.pool.get()?;
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| Error::storage("taking a PostgreSQL connection from the pool", e))?;
            migrations::version(conn.client())
        })
        .await
        .map_err(|e| Error::storage("reading the schema version", e))?
    }

    /// Runs a read in one `REPEATABLE READ READ ONLY` transaction, off the async
    /// worker threads.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>) -> Result<T> + Send + 'static,
    {
        let pool = self.pool.get()?;
        let retries = self.retries.clone();
        tokio::task::spawn_blocking(move || tx::run(&pool, Mode::Read, &retries, f))
            .await
            .map_err(|e| Error::storage("running a PostgreSQL read", e))?
    }

    /// Runs one atomic write in a `SERIALIZABLE` transaction and waits for its commit;
    /// an `Err` from `f` rolls back everything `f` did. `f` may run more than once
    /// (see [`tx`](crate::tx)).
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>) -> Result<T> + Send + 'static,
    {
        let pool = self.pool.get()?;
        let retries = self.retries.clone();
        tokio::task::spawn_blocking(move || tx::run(&pool, Mode::Write, &retries, f))
            .await
            .map_err(|e| Error::storage("running a PostgreSQL write", e))?
    }

    /// [`Self::write`] for a change that records itself in `portal`'s feed. The same
    /// as `write` here (no cache to invalidate); kept so units read as on SQLite.
    pub(crate) async fn write_recorded<T, F>(&self, portal: Option<PortalId>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>) -> Result<T> + Send + 'static,
    {
        let _ = portal;
        self.write(f).await
    }

    /// [`Self::write`] for a change to what `portal`'s home shows. The same as `write`
    /// here (no cache to invalidate); kept so units read as on SQLite.
    pub(crate) async fn write_content<T, F>(&self, portal: PortalId, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>) -> Result<T> + Send + 'static,
    {
        let _ = portal;
        self.write(f).await
    }
}

/// Owns the pool, and closes its connections off the async threads when the store is
/// dropped: the blocking client's `Drop` runs a small runtime of its own, which must
/// not happen on a Tokio worker (it would panic), and a host drops its store wherever
/// it likes.
struct PoolOwner(Option<Pool>);

impl PoolOwner {
    /// A handle on the pool for one unit.
    fn get(&self) -> Result<Pool> {
        self.0
            .clone()
            .ok_or_else(|| Error::storage_msg("the PostgreSQL store is closed"))
    }
}

impl Drop for PoolOwner {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            let closing = std::thread::Builder::new()
                .name("portal-postgres-close".into())
                .spawn(move || drop(pool));
            if let Err(e) = closing {
                tracing::warn!(error = %e, "could not start a thread to close PostgreSQL connections");
            }
        }
    }
}

/// `host:port/db` of a configuration, for messages (never user or password).
fn describe(config: &postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("(default)");
    format!("{host}:{port}/{db}")
}
