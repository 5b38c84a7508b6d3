//! [`DocumentStore`] for [`MemoryStore`]: uploaded files, their review and key
//! rotation. Changes hold the one lock while `decide` runs, so they are serialised
//! with every other change of the task.

use async_trait::async_trait;

use super::{MemoryStore, Seq, not_found, oldest_first};
use crate::blob::keyring::{KeyId, WrappedKey};
use crate::error::{Entity, Error, Result};
use crate::ids::{BlobId, FileId, PortalId, TaskId, TenantId};
use crate::store::DocumentStore;
use crate::workflow::documents::{FileDecision, UploadDecision};
use crate::workflow::{DocumentFile, FileReview};

#[async_trait]
impl DocumentStore for MemoryStore {
    async fn add_document_file(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: UploadDecision,
    ) -> Result<DocumentFile> {
        self.with(|st| {
            let current = st.portal_task(portal, task)?;
            let tenant = st.portal_tenant(portal)?;
            let change = decide(current)?;
            change.ensure_belongs(current, tenant)?;
            if st.files.contains_key(&change.file.id) {
                return Err(Error::conflict("file id already exists"));
            }
            if st.files.values().any(|f| f.value.blob == change.file.blob) {
                return Err(Error::conflict("another file already points at this blob"));
            }
            let (next, activity) = change.task.apply_to(current)?;
            st.check_new_mail(&change.emails)?;
            st.check_audit(portal, change.audit.as_ref())?;
            st.queue_mail(&change.emails);
            if let Some(entry) = &change.audit {
                st.append_audit(entry)?;
            }
            let file = change.file;
            if let Some(old) = change.superseded
                && let Some(rec) = st.files.get_mut(&old)
                && rec.value.task_id == file.task_id
                && rec.value.document_id == file.document_id
                && rec.value.review == FileReview::Pending
            {
                rec.value.review = FileReview::Superseded { by: file.id };
            }
            let seq = st.seq();
            st.files.insert(
                file.id,
                Seq {
                    seq,
                    value: file.clone(),
                },
            );
            st.tasks.insert(next.id, next);
            st.activity.push(activity);
            Ok(file)
        })
    }

    async fn update_document_file(
        &self,
        portal: PortalId,
        file: FileId,
        decide: FileDecision,
    ) -> Result<DocumentFile> {
        self.with(|st| {
            let stored = match st.files.get(&file) {
                Some(f) if f.value.portal_id == portal => f.value.clone(),
                _ => return Err(not_found(Entity::File)),
            };
            let current = st.portal_task(portal, stored.task_id)?;
            let tenant = st.portal_tenant(portal)?;
            let change = decide(current, &stored)?;
            change.ensure_belongs(current, tenant)?;
            let written = change.file_over(&stored);
            let (next, activity) = change.task.apply_to(current)?;
            st.check_new_mail(&change.emails)?;
            st.check_audit(portal, change.audit.as_ref())?;
            st.queue_mail(&change.emails);
            if let Some(entry) = &change.audit {
                st.append_audit(entry)?;
            }
            if let Some(rec) = st.files.get_mut(&file) {
                rec.value = written.clone();
            }
            st.tasks.insert(next.id, next);
            st.activity.push(activity);
            Ok(written)
        })
    }

    async fn document_file(&self, portal: PortalId, file: FileId) -> Result<DocumentFile> {
        self.with(|st| match st.files.get(&file) {
            Some(f) if f.value.portal_id == portal => Ok(f.value.clone()),
            _ => Err(not_found(Entity::File)),
        })
    }

    async fn document_files(&self, portal: PortalId) -> Result<Vec<DocumentFile>> {
        self.with(|st| {
            Ok(oldest_first(
                st.files
                    .values()
                    .filter(|f| f.value.portal_id == portal)
                    .map(|f| (f.value.uploaded_at, f.seq, f.value.clone())),
            ))
        })
    }

    async fn review_queue(&self, tenant: TenantId, limit: usize) -> Result<Vec<DocumentFile>> {
        self.with(|st| {
            let mut queue = oldest_first(
                st.files
                    .values()
                    .filter(|f| {
                        f.value.tenant_id == tenant && f.value.review == FileReview::Pending
                    })
                    .map(|f| (f.value.uploaded_at, f.seq, f.value.clone())),
            );
            queue.truncate(limit);
            Ok(queue)
        })
    }

    async fn files_to_rewrap(
        &self,
        active: &KeyId,
        after: Option<FileId>,
        limit: usize,
    ) -> Result<Vec<DocumentFile>> {
        self.with(|st| {
            let mut files: Vec<DocumentFile> = st
                .files
                .values()
                .filter(|f| &f.value.key.key_id != active && after.is_none_or(|a| f.value.id > a))
                .map(|f| f.value.clone())
                .collect();
            files.sort_by_key(|f| f.id);
            files.truncate(limit);
            Ok(files)
        })
    }

    async fn replace_file_key(
        &self,
        file: FileId,
        expected: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool> {
        self.with(|st| match st.files.get_mut(&file) {
            Some(f) if &f.value.key == expected => {
                f.value.key = new.clone();
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(not_found(Entity::File)),
        })
    }

    async fn blob_in_use(&self, blob: BlobId) -> Result<bool> {
        self.with(|st| {
            Ok(st.files.values().any(|f| f.value.blob == blob)
                || st
                    .drops
                    .values()
                    .any(|d| d.value.blob == blob && !d.value.bytes_removed)
                || st.signatures.values().any(|s| {
                    matches!(&s.mark, crate::signatures::SignatureMark::Drawn(i) if i.blob == blob)
                })
                || st.signature_documents.values().any(|d| d.blob == blob))
        })
    }
}
