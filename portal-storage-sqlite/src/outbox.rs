//! [`OutboxStore`] for [`SqliteStore`]: the email queue in the `outbox` table
//! (migration 6).
//!
//! Every write is one writer job, and the writer runs in `BEGIN IMMEDIATE`, which holds
//! SQLite's write lock for the whole job, across processes too: a claim reads the due
//! rows and leases them in one job, so two claimers (threads or processes sharing the
//! file) never take the same email. Units that cause emails call [`insert`] inside
//! their own job.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use portal_core::mail::{Attachment, Email};
use portal_core::outbox::{FailedAttempt, Lease, MailKind, MailState, OutboxMessage};
use portal_core::store::OutboxStore;
use portal_core::{ClaimToken, Entity, Error, MailId, PortalId, Result, TenantId};

use crate::SqliteStore;
use crate::codec::{self, DbResult, micros};

/// The columns [`message`] reads, in its order.
const COLS: &str = "id, tenant_id, portal_id, kind, to_address, to_name, subject, body_text, \
                    body_html, created_at, not_after, next_attempt_at, attempts, state, claim, \
                    lease_until, last_error, finished_at, list_unsubscribe, attachments, sender";

/// Queues `emails` as given, inside the caller's job (an id that exists is a key clash:
/// `Conflict`, and the caller's whole job rolls back).
pub(crate) fn insert(conn: &Connection, emails: &[OutboxMessage]) -> Result<()> {
    if emails.is_empty() {
        return Ok(());
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO outbox (id, tenant_id, portal_id, kind, to_address, to_name, subject,
                                 body_text, body_html, created_at, not_after, next_attempt_at,
                                 attempts, state, claim, lease_until, last_error, finished_at,
                                 list_unsubscribe, attachments, sender)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19, ?20, ?21)",
        )
        .db("preparing to queue an email")?;
    for m in emails {
        stmt.execute(params![
            &m.id.as_bytes()[..],
            &m.tenant_id.as_bytes()[..],
            m.portal_id.map(|p| p.as_bytes().to_vec()),
            m.kind.as_str(),
            m.email.to.as_str(),
            m.email.to_name,
            m.email.subject,
            m.email.text,
            m.email.html,
            micros(m.created_at),
            m.not_after.map(micros),
            micros(m.next_attempt_at),
            i64::from(m.attempts),
            m.state.as_str(),
            m.lease.map(|l| l.claim.as_bytes().to_vec()),
            m.lease.map(|l| micros(l.until)),
            m.last_error,
            m.finished_at.map(micros),
            m.email.list_unsubscribe,
            Attachment::to_stored(&m.email.attachments)?,
            m.email.sender.as_ref().map(codec::to_json).transpose()?,
        ])
        .db("queueing an email")?;
    }
    Ok(())
}

/// One stored email, from the columns of [`COLS`].
fn message(row: &Row<'_>) -> rusqlite::Result<OutboxMessage> {
    let claim: Option<[u8; 16]> = row.get(14)?;
    let lease_until = codec::opt_time(row, 15)?;
    Ok(OutboxMessage {
        id: MailId::from_bytes(row.get(0)?),
        tenant_id: TenantId::from_bytes(row.get(1)?),
        portal_id: row.get::<_, Option<[u8; 16]>>(2)?.map(PortalId::from_bytes),
        kind: codec::parsed(row, 3, |s| {
            MailKind::parse(s).ok_or_else(|| Error::storage_msg("unknown email kind"))
        })?,
        email: Email {
            to: codec::email(row, 4)?,
            to_name: row.get(5)?,
            subject: row.get(6)?,
            text: row.get(7)?,
            html: row.get(8)?,
            sender: codec::opt_json(row, 20)?,
            list_unsubscribe: row.get(18)?,
            attachments: {
                let stored: Option<String> = row.get(19)?;
                Attachment::from_stored(stored.as_deref()).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        19,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?
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
        last_error: row.get(16)?,
        finished_at: codec::opt_time(row, 17)?,
    })
}

/// Whether `claim` still holds the pending email `id`; `NotFound(Email)` if there is no
/// such email.
fn held_by(conn: &Connection, id: MailId, claim: ClaimToken) -> Result<bool> {
    let row: Option<(String, Option<[u8; 16]>)> = conn
        .prepare_cached("SELECT state, claim FROM outbox WHERE id = ?1")
        .and_then(|mut s| {
            s.query_row([&id.as_bytes()[..]], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .db("reading an email's claim")?;
    match row {
        None => Err(Error::NotFound {
            entity: Entity::Email,
        }),
        Some((state, holder)) => {
            Ok(state == MailState::Pending.as_str() && holder == Some(*claim.as_bytes()))
        }
    }
}

fn to_limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn enqueue(&self, emails: &[OutboxMessage]) -> Result<()> {
        let emails = emails.to_vec();
        self.write(move |conn| insert(conn, &emails)).await
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
        self.write(move |conn| {
            let now = micros(now);
            // The partial index `outbox_due` holds only pending emails, by due time.
            let ids: Vec<[u8; 16]> = conn
                .prepare_cached(
                    "SELECT id FROM outbox
                     WHERE state = 'pending' AND next_attempt_at <= ?1
                       AND (lease_until IS NULL OR lease_until < ?1)
                     ORDER BY next_attempt_at, seq
                     LIMIT ?2",
                )
                .and_then(|mut s| {
                    s.query_map(params![now, to_limit(limit)], |r| r.get(0))?
                        .collect()
                })
                .db("finding due emails")?;
            let mut lease = conn
                .prepare_cached(
                    "UPDATE outbox SET claim = ?2, lease_until = ?3, attempts = attempts + 1
                     WHERE id = ?1",
                )
                .db("preparing to claim emails")?;
            let mut read = conn
                .prepare_cached(&format!("SELECT {COLS} FROM outbox WHERE id = ?1"))
                .db("preparing to read claimed emails")?;
            let mut claimed = Vec::with_capacity(ids.len());
            for id in ids {
                lease
                    .execute(params![&id[..], &claim.as_bytes()[..], micros(lease_until)])
                    .db("claiming an email")?;
                claimed.push(
                    read.query_row([&id[..]], message)
                        .db("reading a claimed email")?,
                );
            }
            Ok(claimed)
        })
        .await
    }

    async fn mark_sent(&self, id: MailId, claim: ClaimToken, at: DateTime<Utc>) -> Result<bool> {
        self.write(move |conn| {
            if !held_by(conn, id, claim)? {
                return Ok(false);
            }
            conn.prepare_cached(
                "UPDATE outbox SET state = 'sent', finished_at = ?2, body_text = '', body_html = '',
                                           list_unsubscribe = NULL, attachments = NULL
                 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![&id.as_bytes()[..], micros(at)]))
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
        self.write(move |conn| {
            if !held_by(conn, id, claim)? {
                return Ok(false);
            }
            match failure.retry_at {
                Some(retry_at) => conn
                    .prepare_cached(
                        "UPDATE outbox SET next_attempt_at = ?2, last_error = ?3,
                                           claim = NULL, lease_until = NULL
                         WHERE id = ?1",
                    )
                    .and_then(|mut s| {
                        s.execute(params![&id.as_bytes()[..], micros(retry_at), failure.error])
                    }),
                None => conn
                    .prepare_cached(
                        "UPDATE outbox SET state = 'failed', finished_at = ?2, last_error = ?3,
                                           claim = NULL, lease_until = NULL,
                                           body_text = '', body_html = '',
                                           list_unsubscribe = NULL, attachments = NULL
                         WHERE id = ?1",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            &id.as_bytes()[..],
                            micros(failure.at),
                            failure.error
                        ])
                    }),
            }
            .db("recording a failed email")?;
            Ok(true)
        })
        .await
    }

    async fn outbox_message(&self, id: MailId) -> Result<OutboxMessage> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {COLS} FROM outbox WHERE id = ?1"))
                .and_then(|mut s| s.query_row([&id.as_bytes()[..]], message).optional())
                .db("reading an email")?
                .ok_or(Error::NotFound {
                    entity: Entity::Email,
                })
        })
        .await
    }

    async fn failed_mail(&self, tenant: TenantId, limit: usize) -> Result<Vec<OutboxMessage>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLS} FROM outbox
                 WHERE tenant_id = ?1 AND state = 'failed'
                 ORDER BY finished_at DESC, seq DESC
                 LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![&tenant.as_bytes()[..], to_limit(limit)], message)?
                    .collect()
            })
            .db("listing failed emails")
        })
        .await
    }

    async fn prune_sent(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        if max_rows == 0 {
            return Ok(0);
        }
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "DELETE FROM outbox WHERE seq IN (
                         SELECT seq FROM outbox
                         WHERE state = 'sent' AND finished_at < ?1
                         ORDER BY finished_at, seq
                         LIMIT ?2)",
                )
                .and_then(|mut s| s.execute(params![micros(before), to_limit(max_rows)]))
                .db("pruning sent emails")?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
        .await
    }
}
