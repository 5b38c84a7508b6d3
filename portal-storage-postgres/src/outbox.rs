//! [`OutboxStore`] for [`PostgresStore`]: the email queue in the `outbox` table.
//!
//! Every write is one `SERIALIZABLE` unit: a claim reads the due rows and leases them
//! in one unit, so when two claimers (threads, or nodes sharing the database) read the
//! same due rows, PostgreSQL aborts one of them and [`crate::tx`] runs it again, when
//! it sees the other's leases: an email is claimed exactly once. Units that cause
//! emails call [`insert`] inside their own unit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use postgres::Row;

use portal_core::mail::{Attachment, Email};
use portal_core::outbox::{FailedAttempt, Lease, MailKind, MailState, OutboxMessage};
use portal_core::store::OutboxStore;
use portal_core::{ClaimToken, Entity, Error, MailId, PortalId, Result, TenantId};

use crate::PostgresStore;
use crate::codec::{self, DbResult, get, micros};
use crate::tx::Tx;

/// The columns [`message`] reads, in its order.
const COLS: &str = "id, tenant_id, portal_id, kind, to_address, to_name, subject, body_text, \
                    body_html, created_at, not_after, next_attempt_at, attempts, state, claim, \
                    lease_until, last_error, finished_at, list_unsubscribe, attachments, sender";

/// Queues `emails` as given, inside the caller's unit (an id that exists is a key
/// clash: `Conflict`, and the caller's whole unit rolls back).
pub(crate) fn insert(tx: &mut Tx<'_>, emails: &[OutboxMessage]) -> Result<()> {
    if emails.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare(
            "INSERT INTO outbox (id, tenant_id, portal_id, kind, to_address, to_name, subject,
                                 body_text, body_html, created_at, not_after, next_attempt_at,
                                 attempts, state, claim, lease_until, last_error, finished_at,
                                 list_unsubscribe, attachments, sender)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                     $17, $18, $19, $20, $21)",
        )
        .db("preparing to queue an email")?;
    for m in emails {
        let attachments = Attachment::to_stored(&m.email.attachments)?;
        let sender = m.email.sender.as_ref().map(codec::to_json).transpose()?;
        tx.execute(
            &stmt,
            &[
                &&m.id.as_bytes()[..],
                &&m.tenant_id.as_bytes()[..],
                &m.portal_id.as_ref().map(|p| &p.as_bytes()[..]),
                &m.kind.as_str(),
                &m.email.to.as_str(),
                &m.email.to_name,
                &m.email.subject,
                &m.email.text,
                &m.email.html,
                &micros(m.created_at),
                &m.not_after.map(micros),
                &micros(m.next_attempt_at),
                &i64::from(m.attempts),
                &m.state.as_str(),
                &m.lease.as_ref().map(|l| &l.claim.as_bytes()[..]),
                &m.lease.as_ref().map(|l| micros(l.until)),
                &m.last_error,
                &m.finished_at.map(micros),
                &m.email.list_unsubscribe,
                &attachments,
                &sender,
            ],
        )
        .db("queueing an email")?;
    }
    Ok(())
}

/// One stored email, from the columns of [`COLS`].
fn message(row: &Row) -> Result<OutboxMessage> {
    let claim = codec::opt_bytes_n::<16>(row, 14)?;
    let lease_until = codec::opt_time(row, 15)?;
    Ok(OutboxMessage {
        id: MailId::from_bytes(codec::bytes_n::<16>(row, 0)?),
        tenant_id: codec::tenant_id(row, 1)?,
        portal_id: codec::opt_bytes_n::<16>(row, 2)?.map(PortalId::from_bytes),
        kind: codec::parsed(row, 3, |s| {
            MailKind::parse(s).ok_or_else(|| Error::storage_msg("unknown email kind"))
        })?,
        email: Email {
            to: codec::email(row, 4)?,
            to_name: get(row, 5)?,
            subject: get(row, 6)?,
            text: get(row, 7)?,
            html: get(row, 8)?,
            sender: codec::opt_json(row, 20)?,
            list_unsubscribe: get(row, 18)?,
            attachments: {
                let stored: Option<&str> = get(row, 19)?;
                Attachment::from_stored(stored).map_err(|e| codec::corrupt(19, &e.to_string()))?
            },
        },
        created_at: codec::time(row, 9)?,
        not_after: codec::opt_time(row, 10)?,
        next_attempt_at: codec::time(row, 11)?,
        attempts: codec::count(row, 12)?,
        state: codec::parsed(row, 13, |s| {
            MailState::parse(s).ok_or_else(|| Error::storage_msg("unknown email state"))
        })?,
        lease: match (claim, lease_until) {
            (Some(claim), Some(until)) => Some(Lease {
                claim: ClaimToken::from_bytes(claim),
                until,
            }),
            _ => None,
        },
        last_error: get(row, 16)?,
        finished_at: codec::opt_time(row, 17)?,
    })
}

/// Whether `claim` still holds the pending email `id`; `NotFound(Email)` if there is no
/// such email.
fn held_by(tx: &mut Tx<'_>, id: MailId, claim: ClaimToken) -> Result<bool> {
    let row = tx
        .query_opt(
            "SELECT state, claim FROM outbox WHERE id = $1",
            &[&&id.as_bytes()[..]],
        )
        .db("reading an email's claim")?;
    match row {
        None => Err(Error::NotFound {
            entity: Entity::Email,
        }),
        Some(row) => {
            let state: &str = get(&row, 0)?;
            let holder = codec::opt_bytes_n::<16>(&row, 1)?;
            Ok(state == MailState::Pending.as_str() && holder == Some(*claim.as_bytes()))
        }
    }
}

fn to_limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn enqueue(&self, emails: &[OutboxMessage]) -> Result<()> {
        let emails = emails.to_vec();
        self.write(move |tx| insert(tx, &emails)).await
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        claim: ClaimToken,
    ) -> Result<Vec<OutboxMessage>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.write(move |tx| {
            let now = micros(now);
            // The partial index `outbox_due` holds only pending emails, by due time.
            let ids = tx
                .query(
                    "SELECT id FROM outbox
                     WHERE state = 'pending' AND next_attempt_at <= $1
                       AND (lease_until IS NULL OR lease_until < $1)
                     ORDER BY next_attempt_at, seq
                     LIMIT $2",
                    &[&now, &to_limit(limit)],
                )
                .db("finding due emails")?
                .iter()
                .map(|r| codec::bytes_n::<16>(r, 0))
                .collect::<Result<Vec<_>>>()?;
            let lease = tx
                .prepare(&format!(
                    "UPDATE outbox SET claim = $2, lease_until = $3, attempts = attempts + 1
                     WHERE id = $1
                     RETURNING {COLS}"
                ))
                .db("preparing to claim emails")?;
            let mut claimed = Vec::with_capacity(ids.len());
            for id in ids {
                let row = tx
                    .query_one(
                        &lease,
                        &[&&id[..], &&claim.as_bytes()[..], &micros(lease_until)],
                    )
                    .db("claiming an email")?;
                claimed.push(message(&row)?);
            }
            Ok(claimed)
        })
        .await
    }

    async fn mark_sent(&self, id: MailId, claim: ClaimToken, at: DateTime<Utc>) -> Result<bool> {
        self.write(move |tx| {
            if !held_by(tx, id, claim)? {
                return Ok(false);
            }
            tx.execute(
                "UPDATE outbox SET state = 'sent', finished_at = $2, body_text = '', body_html = '',
                                   list_unsubscribe = NULL, attachments = NULL
                 WHERE id = $1",
                &[&&id.as_bytes()[..], &micros(at)],
            )
            .db("recording a sent email")?;
            Ok(true)
        })
        .await
    }

    async fn mark_failed(
        &self,
        id: MailId,
        claim: ClaimToken,
        failure: &FailedAttempt,
    ) -> Result<bool> {
        let failure = failure.clone();
        self.write(move |tx| {
            if !held_by(tx, id, claim)? {
                return Ok(false);
            }
            match failure.retry_at {
                Some(retry_at) => tx.execute(
                    "UPDATE outbox SET next_attempt_at = $2, last_error = $3,
                                       claim = NULL, lease_until = NULL
                     WHERE id = $1",
                    &[&&id.as_bytes()[..], &micros(retry_at), &failure.error],
                ),
                None => tx.execute(
                    "UPDATE outbox SET state = 'failed', finished_at = $2, last_error = $3,
                                       claim = NULL, lease_until = NULL,
                                       body_text = '', body_html = '',
                                       list_unsubscribe = NULL, attachments = NULL
                     WHERE id = $1",
                    &[&&id.as_bytes()[..], &micros(failure.at), &failure.error],
                ),
            }
            .db("recording a failed email")?;
            Ok(true)
        })
        .await
    }

    async fn outbox_message(&self, id: MailId) -> Result<OutboxMessage> {
        self.read(move |tx| {
            let row = tx
                .query_opt(
                    &format!("SELECT {COLS} FROM outbox WHERE id = $1"),
                    &[&&id.as_bytes()[..]],
                )
                .db("reading an email")?
                .ok_or(Error::NotFound {
                    entity: Entity::Email,
                })?;
            message(&row)
        })
        .await
    }

    async fn failed_mail(&self, tenant: TenantId, limit: usize) -> Result<Vec<OutboxMessage>> {
        self.read(move |tx| {
            tx.query(
                &format!(
                    "SELECT {COLS} FROM outbox
                     WHERE tenant_id = $1 AND state = 'failed'
                     ORDER BY finished_at DESC, seq DESC
                     LIMIT $2"
                ),
                &[&&tenant.as_bytes()[..], &to_limit(limit)],
            )
            .db("listing failed emails")?
            .iter()
            .map(message)
            .collect()
        })
        .await
    }

    async fn prune_sent(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        if max_rows == 0 {
            return Ok(0);
        }
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM outbox WHERE seq IN (
                     SELECT seq FROM outbox
                     WHERE state = 'sent' AND finished_at < $1
                     ORDER BY finished_at, seq
                     LIMIT $2)",
                &[&micros(before), &to_limit(max_rows)],
            )
            .db("pruning sent emails")
        })
        .await
    }
}
