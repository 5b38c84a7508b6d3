//! [`DocumentStore`] for [`MemoryStore`]: uploaded files, their review and key
//! rotation. Changes hold the one lock while `decide` runs, so they are serialised
//! with every other change of the task.

use async_trait::async_trait;

use super::{MemoryStore, Seq, State, not_found, oldest_first};
use crate::blob::keyring::{KeyId, WrappedKey};
use crate::blob::rotation::{SealedAt, SealedBinding, SealedKey, SealedKind};
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

    async fn sealed_keys_to_rewrap(
        &self,
        kind: SealedKind,
        active: &KeyId,
        after: Option<SealedAt>,
        limit: usize,
    ) -> Result<Vec<SealedKey>> {
        self.with(|st| {
            let mut keys: Vec<SealedKey> = sealed_keys(st, kind)
                .into_iter()
                .filter(|k| &k.key.key_id != active && after.is_none_or(|a| k.at > a))
                .collect();
            keys.sort_by_key(|k| k.at);
            keys.truncate(limit);
            Ok(keys)
        })
    }

    async fn replace_sealed_key(
        &self,
        kind: SealedKind,
        at: SealedAt,
        expected: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool> {
        self.with(|st| {
            let Some(key) = sealed_key_mut(st, kind, at) else {
                return Ok(false);
            };
            if key != expected {
                return Ok(false);
            }
            *key = new.clone();
            Ok(true)
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
                || st.signature_documents.values().any(|d| d.blob == blob)
                || st.attachments.values().any(|a| a.value.blob == blob))
        })
    }
}

/// Every wrapped key of `kind` in the state, as `sealed_keys_to_rewrap` lists them
/// (unordered, every key id).
fn sealed_keys(st: &State, kind: SealedKind) -> Vec<SealedKey> {
    let at = |id: uuid::Uuid, part: u32| SealedAt { id, part };
    match kind {
        SealedKind::SignatureImage => st
            .signatures
            .values()
            .filter_map(|s| match &s.mark {
                crate::signatures::SignatureMark::Drawn(image) => Some(SealedKey {
                    kind,
                    at: at(*image.blob.as_uuid(), 0),
                    binding: SealedBinding::File(s.image_binding(image.blob)),
                    key: image.key.clone(),
                }),
                crate::signatures::SignatureMark::Typed(_) => None,
            })
            .collect(),
        SealedKind::SignatureDocument => st
            .signature_documents
            .values()
            .map(|d| SealedKey {
                kind,
                at: at(*d.blob.as_uuid(), 0),
                binding: SealedBinding::File(d.binding()),
                key: d.key.clone(),
            })
            .collect(),
        SealedKind::DroppedFile => st
            .drops
            .values()
            .filter(|d| !d.value.bytes_removed)
            .map(|d| SealedKey {
                kind,
                at: at(*d.value.blob.as_uuid(), 0),
                binding: SealedBinding::File(d.value.binding()),
                key: d.value.key.clone(),
            })
            .collect(),
        SealedKind::TaskAttachment => st
            .attachments
            .values()
            .map(|a| SealedKey {
                kind,
                at: at(*a.value.blob.as_uuid(), 0),
                binding: SealedBinding::File(a.value.binding()),
                key: a.value.key.clone(),
            })
            .collect(),
        SealedKind::CredentialField => st
            .credentials
            .values()
            .filter(|c| c.purged.is_none())
            .flat_map(|c| {
                c.fields.iter().zip(0u32..).map(|(f, part)| SealedKey {
                    kind,
                    at: at(*c.task_id.as_uuid(), part),
                    binding: SealedBinding::Credential {
                        binding: c.binding(),
                        field: f.field,
                    },
                    key: f.key.clone(),
                })
            })
            .collect(),
    }
}

/// The wrapped key of `kind` kept at `at`, to replace in place (`None`: no such record
/// any more, or not one `sealed_keys` would list).
fn sealed_key_mut(st: &mut State, kind: SealedKind, at: SealedAt) -> Option<&mut WrappedKey> {
    let blob = BlobId::from_uuid(at.id);
    match kind {
        SealedKind::SignatureImage => st.signatures.values_mut().find_map(|s| match &mut s.mark {
            crate::signatures::SignatureMark::Drawn(image)
                if image.blob == blob && at.part == 0 =>
            {
                Some(&mut image.key)
            }
            _ => None,
        }),
        SealedKind::SignatureDocument => st
            .signature_documents
            .values_mut()
            .find(|d| d.blob == blob && at.part == 0)
            .map(|d| &mut d.key),
        SealedKind::DroppedFile => st
            .drops
            .values_mut()
            .find(|d| d.value.blob == blob && !d.value.bytes_removed && at.part == 0)
            .map(|d| &mut d.value.key),
        SealedKind::TaskAttachment => st
            .attachments
            .values_mut()
            .find(|a| a.value.blob == blob && at.part == 0)
            .map(|a| &mut a.value.key),
        SealedKind::CredentialField => st
            .credentials
            .get_mut(&TaskId::from_uuid(at.id))
            .filter(|c| c.purged.is_none())
            .and_then(|c| c.fields.get_mut(usize::try_from(at.part).ok()?))
            .map(|f| &mut f.key),
    }
}
