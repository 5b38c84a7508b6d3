//! [`AuditStore`] for [`SqliteStore`]: each portal's hash chain in `audit_events`,
//! clustered by `(portal_id, seq)` so the head is one seek and a chain one range.
//!
//! An append is one job on the writer thread: load the portal and the chain's head,
//! call [`audit::seal`], insert what it answers. The single writer (and `BEGIN
//! IMMEDIATE` across processes) serialises appends, so numbers are gap-free; the
//! primary key refuses a duplicate number outright. Units that record evidence
//! (uploads, reviews) call [`append`] inside their own job. Triggers refuse any
//! `UPDATE` of an event and any `DELETE` while its portal exists: a mistaken statement
//! cannot rewrite history, and only `delete_portal` (after deleting the portal row)
//! erases a chain. Someone editing the file directly can drop the triggers; the hash
//! chain is what catches that ([`audit::verify_chain`]).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use portal_core::audit::{self, AuditEntry, ChainHead, ChainedEvent};
use portal_core::store::AuditStore;
use portal_core::{Entity, Error, PortalId, Result};

use crate::SqliteStore;
use crate::codec::{self, DbResult, json, micros, portal_id, tenant_id, time};

/// The head of a portal's chain: its last event's number and hash.
const HEAD: &str = "SELECT seq, hash FROM audit_events WHERE portal_id = ?1 \
                    ORDER BY seq DESC LIMIT 1";

/// A portal's events after a number, in order.
const EVENTS: &str = "SELECT seq, tenant_id, portal_id, at, actor, kind, fields, prev_hash, hash \
                      FROM audit_events WHERE portal_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";

const INSERT: &str = "INSERT INTO audit_events \
                      (portal_id, seq, tenant_id, at, actor, kind, fields, prev_hash, hash) \
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

fn hash32(row: &Row<'_>, idx: usize) -> rusqlite::Result<[u8; 32]> {
    let bytes: Vec<u8> = row.get(idx)?;
    bytes.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Blob,
            "a stored audit hash is not 32 bytes".into(),
        )
    })
}

fn seq_of(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let n: i64 = row.get(idx)?;
    u64::try_from(n).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Integer, e.into())
    })
}

fn event_row(row: &Row<'_>) -> rusqlite::Result<ChainedEvent> {
    Ok(ChainedEvent {
        seq: seq_of(row, 0)?,
        entry: AuditEntry {
            tenant_id: tenant_id(row, 1)?,
            portal_id: portal_id(row, 2)?,
            at: time(row, 3)?,
            actor: json(row, 4)?,
            kind: row.get(5)?,
            fields: json(row, 6)?,
        },
        prev_hash: hash32(row, 7)?,
        hash: hash32(row, 8)?,
    })
}

/// Appends `entry` to `portal`'s chain inside the caller's write job (the portal the
/// unit acts on, not the one the entry names): the portal (`NotFound(Portal)`),
/// [`audit::ensure_portal`] (an entry of another portal or tenant is
/// `Invalid("audit")` and fails the whole job), the head, [`audit::seal`], insert.
pub(crate) fn append(
    conn: &Connection,
    portal: PortalId,
    entry: &AuditEntry,
) -> Result<ChainedEvent> {
    let tenant = conn
        .prepare_cached("SELECT tenant_id FROM portals WHERE id = ?1")
        .and_then(|mut s| {
            s.query_row([&portal.as_bytes()[..]], |row| tenant_id(row, 0))
                .optional()
        })
        .db("reading an audit event's portal")?
        .ok_or(Error::NotFound {
            entity: Entity::Portal,
        })?;
    audit::ensure_portal(entry, portal, tenant)?;
    let head = conn
        .prepare_cached(HEAD)
        .and_then(|mut s| {
            s.query_row([&portal.as_bytes()[..]], |row| {
                Ok(ChainHead {
                    seq: seq_of(row, 0)?,
                    hash: hash32(row, 1)?,
                })
            })
            .optional()
        })
        .db("reading the audit chain's head")?;
    let event = audit::seal(head, entry);
    let seq = i64::try_from(event.seq)
        .map_err(|_| Error::storage_msg("the audit chain is too long to number"))?;
    let actor = codec::to_json(&event.entry.actor)?;
    let fields = codec::to_json(&event.entry.fields)?;
    conn.prepare_cached(INSERT)
        .and_then(|mut s| {
            s.execute(params![
                &portal.as_bytes()[..],
                seq,
                &tenant.as_bytes()[..],
                micros(event.entry.at),
                actor,
                event.entry.kind,
                fields,
                &event.prev_hash[..],
                &event.hash[..],
            ])
        })
        .db("appending an audit event")?;
    Ok(event)
}

/// The erased chain's head, for the erasure log (read before the events go).
pub(crate) fn head(conn: &Connection, portal: PortalId) -> Result<Option<ChainHead>> {
    conn.prepare_cached(HEAD)
        .and_then(|mut s| {
            s.query_row([&portal.as_bytes()[..]], |row| {
                Ok(ChainHead {
                    seq: seq_of(row, 0)?,
                    hash: hash32(row, 1)?,
                })
            })
            .optional()
        })
        .db("reading the audit chain's head")
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<ChainedEvent> {
        let entry = entry.clone();
        self.write(move |conn| append(conn, entry.portal_id, &entry))
            .await
    }

    async fn audit_events(
        &self,
        portal: PortalId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChainedEvent>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            conn.prepare_cached(EVENTS)
                .and_then(|mut s| {
                    s.query_map(params![&portal.as_bytes()[..], after, limit], event_row)
                        .and_then(Iterator::collect)
                })
                .db("reading an audit chain")
        })
        .await
    }
}
