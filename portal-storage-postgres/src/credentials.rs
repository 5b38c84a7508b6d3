//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use portal_core::audit::AuditEntry;
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::credentials::{CredentialField, CredentialRecord, SealedField};
use portal_core::model::Task;
use portal_core::outbox::OutboxMessage;
use portal_core::store::{CredentialStore, TaskDecision};
use portal_core::workflow::CheckMark;
use portal_core::{Entity, Error, PortalId, Result, TaskId};

use crate::PostgresStore;

#[async_trait]
impl CredentialStore for PostgresStore {
    async fn submit_credentials(
        &self,
        record: &CredentialRecord,
        decide: TaskDecision,
        audit: &AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task> {
        Err(crate::not_ported("CredentialStore::submit_credentials"))
    }

    async fn credentials(&self, portal: PortalId, task: TaskId) -> Result<CredentialRecord> {
        Err(crate::not_ported("CredentialStore::credentials"))
    }

    async fn reveal_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        audit: &AuditEntry,
    ) -> Result<CredentialRecord> {
        Err(crate::not_ported("CredentialStore::reveal_credentials"))
    }

    async fn purge_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        purged: &CheckMark,
        audit: &AuditEntry,
    ) -> Result<()> {
        Err(crate::not_ported("CredentialStore::purge_credentials"))
    }
}
