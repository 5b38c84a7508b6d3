//! Documents the MSP shares on a task: files staff attach to any task (an approval's
//! supporting document, an agreement, a how-to guide) for the client to open or
//! download, and the record of who opened which document when.
//!
//! The content is sealed like an upload (a data key per file, wrapped by the keyring,
//! bound to the task: [`TaskAttachment::binding`]); the record keeps the plaintext's
//! SHA-256, so a decision taken after opening a document can say exactly which bytes
//! were in front of the client. A decision (an approval, a signature) on a task with
//! documents is refused until the deciding contact opened each of them at least once
//! ([`ensure_opened`]): "I approve" must not be a click on a document nobody read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::blob::envelope::FileBinding;
use crate::blob::keyring::WrappedKey;
use crate::error::{Error, Result};
use crate::files::FileType;
use crate::ids::{AttachmentId, BlobId, ContactId, PortalId, TaskId, TenantId};
use crate::model::Task;
use crate::workflow::Actor;

/// The largest file staff may attach to a task: 25 MiB, the default document upload
/// limit (a guide or an agreement is far smaller), as for a signature document.
pub const MAX_ATTACHMENT: u64 = 25 * 1024 * 1024;

/// The most files one task may carry: a task is one step, not a file share.
pub const MAX_PER_TASK: usize = 20;

/// What a client is told when they try to decide before opening the documents, in
/// English: the English entry of `reason-open-first` in `locales/*/reason.ftl`, which
/// a client page shows in the client's language.
pub const OPEN_FIRST: &str = "Open the document before you decide.";

/// A file the MSP attached to a task, as stored. Its content lives sealed in a blob.
#[derive(Clone, PartialEq, Eq)]
pub struct TaskAttachment {
    /// Its id (the URL of its download).
    pub id: AttachmentId,
    /// The MSP.
    pub tenant_id: TenantId,
    /// The portal.
    pub portal_id: PortalId,
    /// The task it belongs to.
    pub task_id: TaskId,
    /// The cleaned file name, its extension agreeing with `file_type`
    /// ([`crate::files::name_for_type`]).
    pub name: String,
    /// What the content is (sniffed, never taken from the name or a header).
    pub file_type: FileType,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext: what a decision taken after opening it records.
    pub sha256: [u8; 32],
    /// The blob with the encrypted content.
    pub blob: BlobId,
    /// Its data key, wrapped under [`Self::binding`].
    pub key: WrappedKey,
    /// The staff member who attached it.
    pub added_by: Actor,
    /// When (UTC, whole microseconds).
    pub added_at: DateTime<Utc>,
}

impl std::fmt::Debug for TaskAttachment {
    // The wrapped key stays out of logs: only which KEK wraps it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskAttachment")
            .field("id", &self.id)
            .field("portal_id", &self.portal_id)
            .field("task_id", &self.task_id)
            .field("name", &self.name)
            .field("file_type", &self.file_type)
            .field("size", &self.size)
            .field("blob", &self.blob)
            .field("key_id", &self.key.key_id)
            .finish_non_exhaustive()
    }
}

impl TaskAttachment {
    /// The file binding its content was sealed under (the task's, like uploads).
    pub const fn binding(&self) -> FileBinding {
        FileBinding {
            tenant: self.tenant_id,
            portal: self.portal_id,
            task: Some(self.task_id),
            blob: self.blob,
        }
    }

    /// Checks that the attachment belongs to `task` (same portal, tenant `tenant`),
    /// was attached by staff, has a name and is within [`MAX_ATTACHMENT`]; stores
    /// call it before writing (`Invalid("attachment")`).
    pub fn ensure_belongs(&self, task: &Task, tenant: TenantId) -> Result<()> {
        let ok = self.tenant_id == tenant
            && self.portal_id == task.portal_id
            && self.task_id == task.id
            && matches!(self.added_by, Actor::Staff { .. })
            && self.size <= MAX_ATTACHMENT
            && !self.name.trim().is_empty();
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "attachment",
                "must be a file staff attached to a task of this portal",
            ))
        }
    }

    /// The SHA-256 as lower-case hex (how pages, evidence and the API show it).
    pub fn sha256_hex(&self) -> String {
        crate::audit::hash_hex(&self.sha256)
    }
}

/// Whether one more attachment may be added to a task that has `existing` ones, at
/// most `max` (the service passes [`MAX_PER_TASK`]): `Conflict` at the cap. Stores
/// call it in the unit that adds, so concurrent uploads cannot pass the cap together.
pub fn may_add(existing: usize, max: usize) -> Result<()> {
    if existing >= max {
        return Err(Error::conflict(format!(
            "This task already has {max} attached files: delete one before attaching another."
        )));
    }
    Ok(())
}

/// "Contact X opened the document with this SHA-256 on task T at time A": kept once
/// per (task, contact, document hash), with the first time. Keyed by the content's
/// hash rather than a record id, so it serves attachments and a signature task's
/// document alike, and a document replaced by other bytes must be opened again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentOpen {
    /// The portal.
    pub portal_id: PortalId,
    /// The task the document belongs to.
    pub task_id: TaskId,
    /// Who opened it.
    pub contact_id: ContactId,
    /// SHA-256 of the bytes served.
    pub sha256: [u8; 32],
    /// When it was first opened (UTC, whole microseconds).
    pub at: DateTime<Utc>,
}

/// A document a decision was taken on, as the decision records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedDocument {
    /// Its file name at the time.
    pub name: String,
    /// SHA-256 of its content (lower-case hex).
    pub sha256: String,
}

/// The decision gate: `contact` may decide on a task whose documents have the hashes
/// `documents` only once it opened every one of them (`opens` are the task's opens,
/// of every contact). Answers the documents as the decision records them, or
/// `Conflict(`[`OPEN_FIRST`]`)`. A task without documents passes with none.
pub fn ensure_opened(
    documents: &[(String, [u8; 32])],
    opens: &[DocumentOpen],
    contact: ContactId,
) -> Result<Vec<DecidedDocument>> {
    let unopened = documents.iter().any(|(_, hash)| {
        !opens
            .iter()
            .any(|o| o.contact_id == contact && o.sha256 == *hash)
    });
    if unopened {
        return Err(Error::conflict(crate::Reason::message(
            "reason-open-first",
            &[],
        )));
    }
    Ok(documents
        .iter()
        .map(|(name, hash)| DecidedDocument {
            name: name.clone(),
            sha256: crate::audit::hash_hex(hash),
        })
        .collect())
}

/// Whether a task's documents gate its decision: approvals and signatures are
/// decisions on what the documents say; other tasks only share them.
pub const fn gates_decision(task: &Task) -> bool {
    matches!(
        task.kind,
        crate::model::TaskKind::Approval { .. } | crate::model::TaskKind::Signature { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn open(contact: ContactId, sha256: [u8; 32]) -> DocumentOpen {
        DocumentOpen {
            portal_id: PortalId::from_bytes([1; 16]),
            task_id: TaskId::from_bytes([2; 16]),
            contact_id: contact,
            sha256,
            at: Utc
                .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
                .single()
                .unwrap_or_default(),
        }
    }

    #[test]
    fn a_decision_waits_until_the_contact_opened_every_document() {
        let ann = ContactId::from_bytes([3; 16]);
        let bob = ContactId::from_bytes([4; 16]);
        let docs = vec![
            ("plan.pdf".to_owned(), [7; 32]),
            ("b.pdf".to_owned(), [8; 32]),
        ];
        // Nobody opened anything.
        assert!(matches!(
            ensure_opened(&docs, &[], ann),
            Err(Error::Conflict { .. })
        ));
        // Bob's opens do not count for Ann; one of two is not enough.
        let opens = vec![open(bob, [7; 32]), open(bob, [8; 32]), open(ann, [7; 32])];
        assert!(ensure_opened(&docs, &opens, ann).is_err());
        // Other bytes (a replaced document) do not count either.
        let opens = vec![open(ann, [7; 32]), open(ann, [9; 32])];
        assert!(ensure_opened(&docs, &opens, ann).is_err());
        let opens = vec![open(ann, [7; 32]), open(ann, [8; 32])];
        let decided = ensure_opened(&docs, &opens, ann).unwrap();
        assert_eq!(decided.len(), 2);
        assert_eq!(decided[0].name, "plan.pdf");
        assert_eq!(decided[0].sha256, "07".repeat(32));
        // No documents: nothing to open.
        assert_eq!(ensure_opened(&[], &[], ann).unwrap(), Vec::new());
    }

    #[test]
    fn a_task_takes_at_most_max_per_task_files() {
        assert!(may_add(MAX_PER_TASK - 1, MAX_PER_TASK).is_ok());
        assert!(matches!(
            may_add(MAX_PER_TASK, MAX_PER_TASK),
            Err(Error::Conflict { .. })
        ));
    }
}
