//! Units of work: every store method runs as one PostgreSQL transaction on a pooled
//! connection, on Tokio's blocking pool (the `postgres` client blocks).
//!
//! - Writes run at `SERIALIZABLE`. PostgreSQL then guarantees that concurrent units,
//!   from this process or any other node, have the effect of running one after the
//!   other, exactly what the contracts of `portal_core::store` ask ("concurrent
//!   callers see it before or after, never half-way"), without the adapter choosing
//!   row locks per contract. A unit PostgreSQL aborts for that reason (a serialization
//!   failure or a deadlock) is rolled back and run again from the start, after a short
//!   random pause, until it commits: the caller never sees the retry. So a unit's
//!   closure must be safe to run more than once: it only reads and writes through
//!   the transaction it is given.
//! - Reads run at `REPEATABLE READ, READ ONLY`: one snapshot for every statement of
//!   the read, so a read never sees half of a unit that committed meanwhile.
//! - Every statement is prepared once per connection and kept ([`Tx`]): `postgres`
//!   would otherwise prepare a `&str` query on every call, a second round trip per
//!   statement. A connection is not tested when taken from the pool (another round
//!   trip per unit); a unit whose connection fails before its transaction started
//!   runs on a fresh one instead, which is what the test was for.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, Row, Statement, Transaction};
use r2d2_postgres::PostgresConnectionManager;

use portal_core::{Error, Result};

use crate::codec::map_error;

/// Statements kept per connection at most; beyond that a statement is prepared for
/// its one call, as `postgres` does by default. The crate's SQL is a fixed set far
/// smaller than this.
const MAX_STATEMENTS: usize = 512;

/// The connection pool.
pub(crate) type Pool = r2d2::Pool<Manager>;

/// A pooled connection: the client and the statements prepared on it.
pub(crate) struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Conn {
    /// The client, for work outside a unit (migrations).
    pub(crate) fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// `r2d2_postgres`'s connection manager, with a statement cache per connection.
pub(crate) struct Manager(pub(crate) PostgresConnectionManager<postgres::NoTls>);

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Manager")
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<Conn, postgres::Error> {
        Ok(Conn {
            client: r2d2::ManageConnection::connect(&self.0)?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> std::result::Result<(), postgres::Error> {
        r2d2::ManageConnection::is_valid(&self.0, &mut conn.client)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// The transaction a unit runs in: `postgres`'s, with the connection's prepared
/// statements. The methods are `Transaction`'s, taking the SQL text.
pub(crate) struct Tx<'a> {
    tx: Transaction<'a>,
    statements: &'a mut HashMap<String, Statement>,
}

/// A statement's parameters.
type Params<'p> = [&'p (dyn ToSql + Sync)];

/// What a [`Tx`] method runs: SQL text (prepared once per connection) or a statement
/// already prepared.
pub(crate) trait Sql {
    /// The statement to run on `tx`'s connection.
    fn statement(&self, tx: &mut Tx<'_>) -> std::result::Result<Statement, postgres::Error>;
}

impl Sql for str {
    fn statement(&self, tx: &mut Tx<'_>) -> std::result::Result<Statement, postgres::Error> {
        tx.prepare(self)
    }
}

impl Sql for String {
    fn statement(&self, tx: &mut Tx<'_>) -> std::result::Result<Statement, postgres::Error> {
        tx.prepare(self)
    }
}

impl Sql for Statement {
    fn statement(&self, _: &mut Tx<'_>) -> std::result::Result<Statement, postgres::Error> {
        Ok(self.clone())
    }
}

impl Tx<'_> {
    /// `sql` prepared on this connection, once.
    pub(crate) fn prepare(&mut self, sql: &str) -> std::result::Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(sql)?;
        if self.statements.len() < MAX_STATEMENTS {
            self.statements.insert(sql.to_owned(), statement.clone());
        }
        Ok(statement)
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) fn execute<S: Sql + ?Sized>(
        &mut self,
        sql: &S,
        params: &Params<'_>,
    ) -> std::result::Result<u64, postgres::Error> {
        let statement = sql.statement(self)?;
        self.tx.execute(&statement, params)
    }

    /// Runs a query; its rows.
    pub(crate) fn query<S: Sql + ?Sized>(
        &mut self,
        sql: &S,
        params: &Params<'_>,
    ) -> std::result::Result<Vec<Row>, postgres::Error> {
        let statement = sql.statement(self)?;
        self.tx.query(&statement, params)
    }

    /// Runs a query that returns exactly one row.
    pub(crate) fn query_one<S: Sql + ?Sized>(
        &mut self,
        sql: &S,
        params: &Params<'_>,
    ) -> std::result::Result<Row, postgres::Error> {
        let statement = sql.statement(self)?;
        self.tx.query_one(&statement, params)
    }

    /// Runs a query that returns at most one row.
    pub(crate) fn query_opt<S: Sql + ?Sized>(
        &mut self,
        sql: &S,
        params: &Params<'_>,
    ) -> std::result::Result<Option<Row>, postgres::Error> {
        let statement = sql.statement(self)?;
        self.tx.query_opt(&statement, params)
    }
}

/// How many times a unit runs before a serialization failure is returned as an error.
const MAX_ATTEMPTS: u32 = 500;

/// Codes that mean "run the unit again": PostgreSQL aborted it for a concurrent one.
pub(crate) fn retryable_code(code: &SqlState) -> bool {
    *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
}

/// Whether `err` (as mapped by [`crate::codec::map_error`]) is a serialization
/// failure or deadlock.
pub(crate) fn is_retryable(err: &Error) -> bool {
    match err {
        Error::Storage {
            source: Some(source),
            ..
        } => source
            .downcast_ref::<postgres::Error>()
            .and_then(postgres::Error::code)
            .is_some_and(retryable_code),
        _ => false,
    }
}

/// Which kind of unit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// `SERIALIZABLE`, retried on serialization failures.
    Write,
    /// `REPEATABLE READ READ ONLY`.
    Read,
}

/// Runs `f` in one transaction on a connection of `pool`, committing on `Ok`, rolling
/// back on `Err`, and running it again (writes) while PostgreSQL reports a conflict
/// with a concurrent unit.
pub(crate) fn run<T, F>(pool: &Pool, mode: Mode, retries: &AtomicU64, mut f: F) -> Result<T>
where
    F: FnMut(&mut Tx<'_>) -> Result<T>,
{
    let mut conn = pool
        .get()
        .map_err(|e| Error::storage("taking a PostgreSQL connection from the pool", e))?;
    let mut attempt = 0u32;
    let mut reconnected = false;
    loop {
        attempt += 1;
        let outcome = {
            let Conn { client, statements } = &mut *conn;
            let builder = client.build_transaction();
            let builder = match mode {
                Mode::Write => builder.isolation_level(IsolationLevel::Serializable),
                Mode::Read => builder
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true),
            };
            match builder.start() {
                Ok(tx) => {
                    let mut tx = Tx { tx, statements };
                    Some(match f(&mut tx) {
                        Ok(value) => tx
                            .tx
                            .commit()
                            .map(|()| value)
                            .map_err(|e| map_error("committing", e)),
                        Err(err) => {
                            // Dropping the transaction would roll back too; saying so
                            // keeps a broken connection's error out of the unit's own.
                            let _ = tx.tx.rollback();
                            Err(err)
                        }
                    })
                }
                // The connection failed before the unit began: the server closed it
                // while it sat idle in the pool (a restart, an idle timeout, an
                // administrator's `pg_terminate_backend`: the next read then gets the
                // FATAL notice or a closed socket). Nothing of the unit was sent, so it
                // runs on a fresh connection, once; the pool drops the broken one.
                Err(_) if !reconnected => None,
                Err(e) => Some(Err(map_error("starting a transaction", e))),
            }
        };
        let Some(outcome) = outcome else {
            reconnected = true;
            // Back to the pool first (which drops it as broken): a pool of one must
            // not wait for the connection this unit holds.
            drop(conn);
            conn = pool
                .get()
                .map_err(|e| Error::storage("taking a PostgreSQL connection from the pool", e))?;
            attempt -= 1;
            continue;
        };
        match outcome {
            Err(err) if is_retryable(&err) && attempt < MAX_ATTEMPTS => {
                retries.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(pause(attempt));
            }
            Err(err) if is_retryable(&err) => {
                tracing::error!(attempts = attempt, "PostgreSQL unit kept conflicting");
                return Err(err);
            }
            other => return other,
        }
    }
}

/// A random pause before attempt `attempt + 1`: up to 1 ms, doubling to at most 64 ms,
/// so racing units spread out instead of colliding again.
fn pause(attempt: u32) -> Duration {
    let cap_us = 1000u64 << attempt.min(6);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    let thread = {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(std::thread::current().id())
    };
    Duration::from_micros((seed ^ thread) % cap_us)
}

/// The next value of counter `name` (1 for a new counter), taken inside the unit: the
/// counter row stays locked until the unit ends, so values follow commit order.
pub(crate) fn next_counter(tx: &mut Tx<'_>, name: &str) -> Result<i64> {
    let row = tx
        .query_one(
            "INSERT INTO counters (name, value) VALUES ($1, 1)
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
             RETURNING value",
            &[&name],
        )
        .map_err(|e| map_error("taking the next key", e))?;
    crate::codec::get(&row, 0)
}

/// Takes the feed lock of `tenant` (see `counters` in the schema) for the rest of the
/// unit: the tenant's feed appends and webhook cursor starts are ordered by it.
pub(crate) fn lock_tenant_feed(tx: &mut Tx<'_>, tenant: &[u8]) -> Result<()> {
    let name = format!("activity:{}", hex(tenant));
    next_counter(tx, &name).map(|_| ())
}

/// Lowercase hex of `bytes` (a counter's name).
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
