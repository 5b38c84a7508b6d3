//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portal_core::mail::{Attachment, Email};
use portal_core::outbox::{FailedAttempt, Lease, MailKind, MailState, OutboxMessage};
use portal_core::store::OutboxStore;
use portal_core::{ClaimToken, Entity, Error, MailId, PortalId, Result, TenantId};

use crate::PostgresStore;

#[async_trait]
impl OutboxStore for PostgresStore {

    async fn enqueue(&self, emails: &[OutboxMessage]) -> Result<()> {
        Err(crate::not_ported("OutboxStore::enqueue"))
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        claim: ClaimToken,
    ) -> Result<Vec<OutboxMessage>> {
        Err(crate::not_ported("OutboxStore::claim_due"))
    }

    async fn mark_sent(&self, id: MailId, claim: ClaimToken, at: DateTime<Utc>) -> Result<bool> {
        Err(crate::not_ported("OutboxStore::mark_sent"))
    }

    async fn mark_failed(
        &self,
        id: MailId,
        claim: ClaimToken,
        failure: &FailedAttempt,
    ) -> Result<bool> {
        Err(crate::not_ported("OutboxStore::mark_failed"))
    }

    async fn outbox_message(&self, id: MailId) -> Result<OutboxMessage> {
        Err(crate::not_ported("OutboxStore::outbox_message"))
    }

    async fn failed_mail(&self, tenant: TenantId, limit: usize) -> Result<Vec<OutboxMessage>> {
        Err(crate::not_ported("OutboxStore::failed_mail"))
    }

    async fn prune_sent(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        Err(crate::not_ported("OutboxStore::prune_sent"))
    }
}

/// Queues `emails` inside the caller's unit (TO PORT from SQLite's `outbox::insert`).
pub(crate) fn insert(tx: &mut crate::tx::Tx<'_>, emails: &[OutboxMessage]) -> Result<()> {
    Err(crate::not_ported("outbox::insert"))
}
