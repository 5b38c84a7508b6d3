//! [`AuditStore`] for [`PostgresStore`]: each portal's hash chain in `audit_events`,
//! keyed by `(portal_id, seq)` so the head is one seek and a chain one range.
//!
//! An append is one `SERIALIZABLE` unit: load the portal and the chain's head, call
//! [`audit::seal`], insert what it answers. Two concurrent appends to one chain read
//! the same head; PostgreSQL aborts one of them (a serialization failure, or the
//! primary key's clash on the number, which is also reported as a serialization
//! failure under `SERIALIZABLE` when the clash comes from a concurrent unit) and
//! [`crate::tx`] runs it again on the new head, so numbers are gap-free. Units that
//! record evidence (uploads, reviews) call [`append`] inside their own unit. Triggers
//! refuse any `UPDATE` of an event and any `DELETE` while its portal exists: a
//! mistaken statement cannot rewrite history, and only `delete_portal` (after deleting
//! the portal row) erases a chain. Someone with the database's owner role can drop the
//! triggers; the hash chain is what catches that ([`audit::verify_chain`]).

use async_trait::async_trait;
use postgres::Row;

use portal_core::audit::{self, AuditEntry, ChainHead, ChainedEvent};
use portal_core::store::AuditStore;
use portal_core::{Entity, Error, PortalId, Result};

use crate::PostgresStore;
use crate::codec::{self, DbResult, get, json, micros, portal_id, tenant_id, time};
use crate::tx::Tx;

/// The head of a portal's chain: its last event's number and hash.
const HEAD: &str = "SELECT seq, hash FROM audit_events WHERE portal_id = $1 \
                    ORDER BY seq DESC LIMIT 1";

/// A portal's events after a number, in order.
const EVENTS: &str = "SELECT seq, tenant_id, portal_id, at, actor, kind, fields, prev_hash, hash \
                      FROM audit_events WHERE portal_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

const INSERT: &str = "INSERT INTO audit_events \
                      (portal_id, seq, tenant_id, at, actor, kind, fields, prev_hash, hash) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

fn hash32(row: &Row, idx: usize) -> Result<[u8; 32]> {
    codec::bytes_n::<32>(row, idx)
}

fn seq_of(row: &Row, idx: usize) -> Result<u64> {
    codec::number(row, idx)
}

fn event_row(row: &Row) -> Result<ChainedEvent> {
    Ok(ChainedEvent {
        seq: seq_of(row, 0)?,
        entry: AuditEntry {
            tenant_id: tenant_id(row, 1)?,
            portal_id: portal_id(row, 2)?,
            at: time(row, 3)?,
            actor: json(row, 4)?,
            kind: get(row, 5)?,
            fields: json(row, 6)?,
        },
        prev_hash: hash32(row, 7)?,
        hash: hash32(row, 8)?,
    })
}

fn head_row(row: &Row) -> Result<ChainHead> {
    Ok(ChainHead {
        seq: seq_of(row, 0)?,
        hash: hash32(row, 1)?,
    })
}

/// Appends `entry` to `portal`'s chain inside the caller's unit (the portal the unit
/// acts on, not the one the entry names): the portal (`NotFound(Portal)`),
/// [`audit::ensure_portal`] (an entry of another portal or tenant is
/// `Invalid("audit")` and fails the whole unit), the head, [`audit::seal`], insert.
pub(crate) fn append(
    tx: &mut Tx<'_>,
    portal: PortalId,
    entry: &AuditEntry,
) -> Result<ChainedEvent> {
    let tenant = match tx
        .query_opt(
            "SELECT tenant_id FROM portals WHERE id = $1",
            &[&&portal.as_bytes()[..]],
        )
        .db("reading an audit event's portal")?
    {
        Some(row) => tenant_id(&row, 0)?,
        None => {
            return Err(Error::NotFound {
                entity: Entity::Portal,
            });
        }
    };
    audit::ensure_portal(entry, portal, tenant)?;
    let head = head(tx, portal)?;
    let event = audit::seal(head, entry);
    let seq = i64::try_from(event.seq)
        .map_err(|_| Error::storage_msg("the audit chain is too long to number"))?;
    let actor = codec::to_json(&event.entry.actor)?;
    let fields = codec::to_json(&event.entry.fields)?;
    tx.execute(
        INSERT,
        &[
            &&portal.as_bytes()[..],
            &seq,
            &&tenant.as_bytes()[..],
            &micros(event.entry.at),
            &actor,
            &event.entry.kind,
            &fields,
            &&event.prev_hash[..],
            &&event.hash[..],
        ],
    )
    .db("appending an audit event")?;
    Ok(event)
}

/// The erased chain's head, for the erasure log (read before the events go).
pub(crate) fn head(tx: &mut Tx<'_>, portal: PortalId) -> Result<Option<ChainHead>> {
    tx.query_opt(HEAD, &[&&portal.as_bytes()[..]])
        .db("reading the audit chain's head")?
        .as_ref()
        .map(head_row)
        .transpose()
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<ChainedEvent> {
        let entry = entry.clone();
        self.write(move |tx| append(tx, entry.portal_id, &entry))
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
        self.read(move |tx| {
            tx.query(EVENTS, &[&&portal.as_bytes()[..], &after, &limit])
                .db("reading an audit chain")?
                .iter()
                .map(event_row)
                .collect()
        })
        .await
    }
}
