//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use portal_core::audit::AuditEntry;
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::ids::BlobId;
use portal_core::model::Task;
use portal_core::outbox::OutboxMessage;
use portal_core::signatures::{
    AttachedDocument, SignatureMark, SignatureRecord, SignedDocument, StoredImage,
    ensure_signed_document, may_attach_document,
};
use portal_core::store::{SignatureStore, TaskDecision};
use portal_core::{Entity, Error, PortalId, Result, TaskId, TenantId};

use crate::PostgresStore;

#[async_trait]
impl SignatureStore for PostgresStore {
    async fn submit_signature(
        &self,
        record: &SignatureRecord,
        decide: TaskDecision,
        audit: &AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task> {
        Err(crate::not_ported("SignatureStore::submit_signature"))
    }

    async fn signature(&self, portal: PortalId, task: TaskId) -> Result<SignatureRecord> {
        Err(crate::not_ported("SignatureStore::signature"))
    }

    async fn signatures_with_document(
        &self,
        tenant: TenantId,
        sha256: &[u8; 32],
        limit: usize,
    ) -> Result<Vec<SignatureRecord>> {
        Err(crate::not_ported(
            "SignatureStore::signatures_with_document",
        ))
    }

    async fn attach_signature_document(
        &self,
        document: &AttachedDocument,
        audit: &AuditEntry,
    ) -> Result<Option<BlobId>> {
        Err(crate::not_ported(
            "SignatureStore::attach_signature_document",
        ))
    }

    async fn signature_document(&self, portal: PortalId, task: TaskId) -> Result<AttachedDocument> {
        Err(crate::not_ported("SignatureStore::signature_document"))
    }
}
