//! Versioned schema migrations, applied once however many nodes start together.
//!
//! The version lives in `portal_schema`. A node that opens the store takes a
//! session-level advisory lock (`pg_advisory_lock`) before it reads the version, so
//! when two nodes start at the same moment the second waits, then finds the schema
//! already current and applies nothing. Each migration runs in its own transaction
//! with the version bump. A database whose version is newer than this build knows is
//! refused, untouched, as the SQLite store does.

use postgres::Client;

use portal_core::{Error, Result};

use crate::codec::DbResult;

/// The key of the advisory lock that serialises migrations (any fixed number that
/// other software on the database does not use: "portal" in ASCII).
const LOCK_KEY: i64 = 0x706f_7274_616c;

const V1: &str = include_str!("schema/v1.sql");

/// The migrations, in order: the schema version is the number applied.
pub const MIGRATIONS: &[&str] = &[V1];

/// The schema version this build writes: the number of migrations.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// Brings the database up to [`LATEST`] under the advisory lock.
pub(crate) fn migrate(client: &mut Client) -> Result<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
        .db("waiting for the migration lock")?;
    let outcome = migrate_locked(client);
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .db("releasing the migration lock");
    outcome.and(unlocked.map(|_| ()))
}

fn migrate_locked(client: &mut Client) -> Result<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS portal_schema (
                 singleton BOOLEAN NOT NULL PRIMARY KEY DEFAULT TRUE CHECK (singleton),
                 version   BIGINT  NOT NULL CHECK (version >= 0)
             )",
        )
        .db("creating the schema version table")?;
    let found = version(client)?;
    check_not_newer(found)?;
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let target = index as u32 + 1;
        if target <= found {
            continue;
        }
        let mut tx = client.transaction().db("starting a migration")?;
        tx.batch_execute(sql).db("applying a migration")?;
        tx.execute(
            "INSERT INTO portal_schema (singleton, version) VALUES (TRUE, $1)
             ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version",
            &[&i64::from(target)],
        )
        .db("recording the schema version")?;
        tx.commit().db("committing a migration")?;
        tracing::info!(version = target, "applied PostgreSQL schema migration");
    }
    Ok(())
}

/// The schema version recorded in the database (0: none yet).
pub(crate) fn version(client: &mut Client) -> Result<u32> {
    let row = client
        .query_opt("SELECT version FROM portal_schema", &[])
        .db("reading the schema version")?;
    let raw: i64 = match row {
        None => 0,
        Some(row) => crate::codec::get(&row, 0)?,
    };
    u32::try_from(raw).map_err(|_| {
        Error::storage_msg(format!("the database has an invalid schema version {raw}"))
    })
}

fn check_not_newer(found: u32) -> Result<()> {
    if found > LATEST {
        return Err(Error::storage_msg(format!(
            "the database was written by a newer version of portal-storage-postgres \
             (schema version {found}, this build knows up to {LATEST}); \
             upgrade the software instead of opening it with this one"
        )));
    }
    Ok(())
}
