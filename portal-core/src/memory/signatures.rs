//! [`SignatureStore`] for [`MemoryStore`]: records by task under the one lock; every
//! check runs before the first write, so a refused unit changes nothing.

use async_trait::async_trait;

use super::{MemoryStore, not_found};
use crate::audit::AuditEntry;
use crate::error::{Entity, Error, Result};
use crate::ids::BlobId;
use crate::ids::{PortalId, TaskId, TenantId};
use crate::model::Task;
use crate::outbox::OutboxMessage;
use crate::signatures::{
    AttachedDocument, SignatureRecord, ensure_signed_document, may_attach_document,
};
use crate::store::{SignatureStore, TaskDecision};

#[async_trait]
impl SignatureStore for MemoryStore {
    async fn submit_signature(
        &self,
        record: &SignatureRecord,
        decide: TaskDecision,
        audit: &AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task> {
        self.with(|st| {
            let current = st.portal_task(record.portal_id, record.task_id)?;
            if st.signatures.contains_key(&record.task_id) {
                return Err(Error::conflict("This task was already signed."));
            }
            let change = decide(current)?;
            let tenant = st.portal_tenant(record.portal_id)?;
            record.ensure_belongs(current, tenant)?;
            ensure_signed_document(
                st.signature_documents.get(&record.task_id),
                record.document.as_ref(),
            )?;
            st.check_audit(record.portal_id, Some(audit))?;
            let (next, activity) = change.apply_to(current)?;
            st.check_new_mail(emails)?;
            st.append_audit(audit)?;
            st.queue_mail(emails);
            st.signatures.insert(record.task_id, record.clone());
            st.tasks.insert(next.id, next.clone());
            st.activity.push(activity);
            Ok(next)
        })
    }

    async fn signature(&self, portal: PortalId, task: TaskId) -> Result<SignatureRecord> {
        self.with(|st| {
            st.portal_task(portal, task)?;
            st.signatures
                .get(&task)
                .cloned()
                .ok_or_else(|| not_found(Entity::Signature))
        })
    }

    async fn signatures_with_document(
        &self,
        tenant: TenantId,
        sha256: &[u8; 32],
        limit: usize,
    ) -> Result<Vec<SignatureRecord>> {
        self.with(|st| {
            let mut out: Vec<SignatureRecord> = st
                .signatures
                .values()
                .filter(|s| {
                    s.tenant_id == tenant
                        && s.document.as_ref().is_some_and(|d| d.sha256 == *sha256)
                })
                .cloned()
                .collect();
            out.sort_by_key(|s| (s.signed_at, s.task_id));
            out.truncate(limit);
            Ok(out)
        })
    }

    async fn attach_signature_document(
        &self,
        document: &AttachedDocument,
        audit: &AuditEntry,
    ) -> Result<Option<BlobId>> {
        self.with(|st| {
            let current = st.portal_task(document.portal_id, document.task_id)?;
            may_attach_document(current, st.signatures.contains_key(&document.task_id))?;
            let tenant = st.portal_tenant(document.portal_id)?;
            document.ensure_belongs(current, tenant)?;
            st.check_audit(document.portal_id, Some(audit))?;
            let replaced = st
                .signature_documents
                .get(&document.task_id)
                .map(|d| d.blob);
            let taken = st.files.values().any(|f| f.value.blob == document.blob)
                || st.drops.values().any(|d| d.value.blob == document.blob)
                || st.signatures.values().any(|s| {
                    matches!(&s.mark, crate::signatures::SignatureMark::Drawn(i) if i.blob == document.blob)
                })
                || st
                    .signature_documents
                    .values()
                    .any(|d| d.blob == document.blob && d.task_id != document.task_id)
                || replaced == Some(document.blob);
            if taken {
                return Err(Error::conflict(
                    "Another stored file already uses this blob.",
                ));
            }
            st.append_audit(audit)?;
            st.signature_documents
                .insert(document.task_id, document.clone());
            Ok(replaced)
        })
    }

    async fn signature_document(&self, portal: PortalId, task: TaskId) -> Result<AttachedDocument> {
        self.with(|st| {
            st.portal_task(portal, task)?;
            st.signature_documents
                .get(&task)
                .cloned()
                .ok_or_else(|| not_found(Entity::File))
        })
    }
}
