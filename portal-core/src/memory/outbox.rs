//! [`OutboxStore`] for [`MemoryStore`]: the email queue. Claims take the one lock, so
//! two claimers never take the same email.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, not_found};
use crate::error::{Entity, Result};
use crate::ids::{ClaimToken, MailId, TenantId};
use crate::outbox::{FailedAttempt, Lease, MailState, OutboxMessage};
use crate::store::OutboxStore;

/// Erases the bodies of an email that leaves the queue (the contract's "no body
/// outlives the queue").
fn erase_bodies(m: &mut OutboxMessage) {
    m.email.text.clear();
    m.email.html.clear();
    m.email.list_unsubscribe = None;
    m.email.attachments.clear();
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn enqueue(&self, emails: &[OutboxMessage]) -> Result<()> {
        self.with(|st| {
            st.check_new_mail(emails)?;
            st.queue_mail(emails);
            Ok(())
        })
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        claim: ClaimToken,
    ) -> Result<Vec<OutboxMessage>> {
        self.with(|st| {
            let mut due: Vec<(DateTime<Utc>, u64, MailId)> = st
                .outbox
                .values()
                .filter(|m| m.value.claimable(now))
                .map(|m| (m.value.next_attempt_at, m.seq, m.value.id))
                .collect();
            due.sort();
            let mut claimed = Vec::new();
            for (_, _, id) in due.into_iter().take(limit) {
                if let Some(rec) = st.outbox.get_mut(&id) {
                    rec.value.lease = Some(Lease {
                        claim,
                        until: lease_until,
                    });
                    rec.value.attempts = rec.value.attempts.saturating_add(1);
                    claimed.push(rec.value.clone());
                }
            }
            Ok(claimed)
        })
    }

    async fn mark_sent(&self, id: MailId, claim: ClaimToken, at: DateTime<Utc>) -> Result<bool> {
        self.with(|st| {
            let m = &mut st
                .outbox
                .get_mut(&id)
                .ok_or_else(|| not_found(Entity::Email))?
                .value;
            if m.state != MailState::Pending || m.lease.is_none_or(|l| l.claim != claim) {
                return Ok(false);
            }
            m.state = MailState::Sent;
            m.finished_at = Some(at);
            erase_bodies(m);
            Ok(true)
        })
    }

    async fn mark_failed(
        &self,
        id: MailId,
        claim: ClaimToken,
        failure: &FailedAttempt,
    ) -> Result<bool> {
        self.with(|st| {
            let m = &mut st
                .outbox
                .get_mut(&id)
                .ok_or_else(|| not_found(Entity::Email))?
                .value;
            if m.state != MailState::Pending || m.lease.is_none_or(|l| l.claim != claim) {
                return Ok(false);
            }
            m.last_error = Some(failure.error.clone());
            m.lease = None;
            match failure.retry_at {
                Some(at) => m.next_attempt_at = at,
                None => {
                    m.state = MailState::Failed;
                    m.finished_at = Some(failure.at);
                    erase_bodies(m);
                }
            }
            Ok(true)
        })
    }

    async fn outbox_message(&self, id: MailId) -> Result<OutboxMessage> {
        self.with(|st| {
            st.outbox
                .get(&id)
                .map(|m| m.value.clone())
                .ok_or_else(|| not_found(Entity::Email))
        })
    }

    async fn failed_mail(&self, tenant: TenantId, limit: usize) -> Result<Vec<OutboxMessage>> {
        self.with(|st| {
            let mut failed: Vec<_> = st
                .outbox
                .values()
                .filter(|m| m.value.tenant_id == tenant && m.value.state == MailState::Failed)
                .collect();
            failed.sort_by_key(|m| std::cmp::Reverse((m.value.finished_at, m.seq)));
            Ok(failed
                .into_iter()
                .take(limit)
                .map(|m| m.value.clone())
                .collect())
        })
    }

    async fn prune_sent(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        self.with(|st| {
            let mut old: Vec<(DateTime<Utc>, u64, MailId)> = st
                .outbox
                .values()
                .filter_map(|m| match (m.value.state, m.value.finished_at) {
                    (MailState::Sent, Some(at)) if at < before => Some((at, m.seq, m.value.id)),
                    _ => None,
                })
                .collect();
            old.sort();
            let mut removed = 0u64;
            for (_, _, id) in old.into_iter().take(max_rows) {
                st.outbox.remove(&id);
                removed += 1;
            }
            Ok(removed)
        })
    }
}
