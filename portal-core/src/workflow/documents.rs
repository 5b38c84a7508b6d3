//! Document upload tasks: the MSP asks for named documents, the client uploads a file
//! for each, the MSP approves or rejects every upload, and the task completes when
//! every requested document is approved.
//!
//! Two records carry this, written together by the store in one unit:
//! - each uploaded file is a [`DocumentFile`] (one row per version, never rewritten
//!   except for its scan verdict and review), pointing at its encrypted blob;
//! - where each requested document stands is a [`DocumentState`] in the task's
//!   evidence, so the task's status follows from the evidence alone, as for every
//!   other task type.
//!
//! The rules here are pure: [`record_upload`] decides what a new upload does to the
//! task, [`review`] what an approval or rejection does, [`rescan`] what a new scan
//! verdict does. Stores call them (through the closures the service hands them)
//! inside their transaction and write what they return.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::TaskChange;
use super::actions::{MAX_NOTE, client_may_act};
use super::activity::{ActivityEntry, ActivityKind};
use super::evidence::{Actor, CheckMark};
use crate::audit::{AuditEntry, AuditEvent};
use crate::blob::envelope::FileBinding;
use crate::blob::keyring::WrappedKey;
use crate::error::{Entity, Error, Result};
use crate::files::FileType;
use crate::ids::{BlobId, FileId, PortalId, TaskId, TenantId};
use crate::model::{RequestedDocument, Side, Task, TaskKind, TaskStatus, clean_text};
use crate::scan::{ScanVerdict, UnscannablePolicy};

/// The size limit of a requested document when the MSP sets none: 100 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// The largest size limit an MSP can set: 2 GiB.
pub const MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Where a requested document stands, as the client sees it (the four statuses of
/// the Documents tab).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// Waiting for upload.
    Requested,
    /// Submitted, awaiting review.
    Uploaded,
    /// Reviewed and accepted.
    Approved,
    /// Needs to be re-uploaded (with the reviewer's notes).
    Rejected,
}

impl DocumentStatus {
    /// The status as the client reads it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Requested => "Requested",
            Self::Uploaded => "Uploaded",
            Self::Approved => "Approved",
            Self::Rejected => "Rejected",
        }
    }

    /// [`Self::label`] in `language`, from the message catalog.
    pub fn label_in(self, language: crate::i18n::Language) -> String {
        crate::i18n::message(
            language,
            "document-status",
            &[("status", self.slug().into())],
        )
    }

    fn slug(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Uploaded => "uploaded",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    /// [`Self::meaning`] in `language`, from the message catalog.
    pub fn meaning_in(self, language: crate::i18n::Language) -> String {
        crate::i18n::message(
            language,
            "document-meaning",
            &[("status", self.slug().into())],
        )
    }

    /// What the status means, in a few words.
    pub const fn meaning(self) -> &'static str {
        match self {
            Self::Requested => "Waiting for upload",
            Self::Uploaded => "Submitted, awaiting review",
            Self::Approved => "Reviewed and accepted",
            Self::Rejected => "Needs to be re-uploaded",
        }
    }
}

/// One requested document's state, kept in the task's evidence by document id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentState {
    /// Where it stands.
    pub status: DocumentStatus,
    /// The latest version (the one the status is about).
    pub current: FileId,
    /// How many versions were uploaded (the latest's number).
    pub versions: u32,
    /// When the latest version was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// The reviewer's notes (or the scan's explanation of a quarantine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Who reviewed the latest version, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed: Option<CheckMark>,
}

/// What became of one uploaded version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FileReview {
    /// Waiting for the MSP (or, if its scan verdict does not admit it, held).
    Pending,
    /// Accepted.
    Approved {
        /// The reviewer.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
        /// Optional notes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notes: Option<String>,
    },
    /// Refused; the client must upload again.
    Rejected {
        /// The reviewer.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
        /// What to fix (required for a rejection).
        notes: String,
    },
    /// Replaced by a newer upload before anyone reviewed it (kept for the MSP).
    Superseded {
        /// The newer version.
        by: FileId,
    },
    /// The scan found malware: never downloadable, never reviewed.
    Quarantined,
}

impl FileReview {
    /// The storage name of the state.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved { .. } => "approved",
            Self::Rejected { .. } => "rejected",
            Self::Superseded { .. } => "superseded",
            Self::Quarantined => "quarantined",
        }
    }
}

/// One uploaded file: a version of a requested document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFile {
    /// Its id.
    pub id: FileId,
    /// The MSP.
    pub tenant_id: TenantId,
    /// The portal.
    pub portal_id: PortalId,
    /// The document upload task.
    pub task_id: TaskId,
    /// The requested document's id within the task.
    pub document_id: String,
    /// 1 for the first upload of the document, then 2, 3, ...
    pub version: u32,
    /// The name the client's file had, cleaned ([`crate::files::clean_file_name`]).
    pub name: String,
    /// What the content is, sniffed from its bytes.
    pub file_type: FileType,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// The blob with the encrypted content.
    pub blob: BlobId,
    /// The file's data key, wrapped by the keyring.
    pub key: WrappedKey,
    /// Who uploaded it.
    pub uploaded_by: Actor,
    /// When.
    pub uploaded_at: DateTime<Utc>,
    /// What the content scan said.
    pub scan: ScanVerdict,
    /// What became of it.
    pub review: FileReview,
}

impl DocumentFile {
    /// What its encrypted content is bound to.
    pub fn binding(&self) -> FileBinding {
        FileBinding {
            tenant: self.tenant_id,
            portal: self.portal_id,
            task: Some(self.task_id),
            blob: self.blob,
        }
    }

    /// Whether its content may be downloaded and reviewed: its scan verdict admits it
    /// under `policy` and it was not quarantined.
    pub fn admitted(&self, policy: UnscannablePolicy) -> bool {
        self.review != FileReview::Quarantined && policy.admits(&self.scan)
    }
}

/// A change of a document task: the task (with its activity entry) and the file
/// record to write, in one unit.
#[derive(Debug, Clone)]
pub struct DocumentChange {
    /// The task as it must be stored, and the activity entry.
    pub task: TaskChange,
    /// The file record: inserted by an upload, replacing the stored one otherwise.
    pub file: DocumentFile,
    /// An earlier version that this upload replaces before it was reviewed: the store
    /// sets its review to [`FileReview::Superseded`] by `file.id`.
    pub superseded: Option<FileId>,
    /// Emails this change causes, queued in the same unit (the rules add none; the
    /// service adds the notifications it composed).
    pub emails: Vec<crate::outbox::OutboxMessage>,
    /// The evidence event this change appends to the portal's audit chain in the same
    /// unit (an upload, a review; a rescan appends none).
    pub audit: Option<crate::audit::AuditEntry>,
}

impl DocumentChange {
    /// Checks that the file belongs to the task it changes (same tenant as the task's
    /// portal, same portal, same task, a document the task requests); stores call it,
    /// with the tenant of the portal as stored, before writing anything.
    pub fn ensure_belongs(&self, task: &Task, tenant: TenantId) -> Result<()> {
        let f = &self.file;
        if f.tenant_id != tenant
            || f.portal_id != task.portal_id
            || f.task_id != task.id
            || requested(task, &f.document_id).is_err()
        {
            return Err(Error::invalid(
                "file",
                "must belong to a document of the task it changes",
            ));
        }
        Ok(())
    }

    /// The file to store over `current`: only the scan verdict and the review can
    /// change; every other field is kept from `current`, whatever the decision
    /// returned.
    pub fn file_over(&self, current: &DocumentFile) -> DocumentFile {
        DocumentFile {
            scan: self.file.scan.clone(),
            review: self.file.review.clone(),
            ..current.clone()
        }
    }
}

/// Decides what an upload does: the store calls it with the task as stored.
pub type UploadDecision = std::sync::Arc<dyn Fn(&Task) -> Result<DocumentChange> + Send + Sync>;
/// Decides what a review or rescan does: the store calls it with the task and the
/// file as stored.
pub type FileDecision =
    std::sync::Arc<dyn Fn(&Task, &DocumentFile) -> Result<DocumentChange> + Send + Sync>;

/// The requested document `document` of a document upload task.
pub fn requested<'a>(task: &'a Task, document: &str) -> Result<&'a RequestedDocument> {
    let TaskKind::DocumentUpload { documents } = &task.kind else {
        return Err(Error::conflict(crate::Reason::message(
            "reason-task-no-documents",
            &[],
        )));
    };
    documents.iter().find(|d| d.id == document).ok_or_else(|| {
        Error::invalid(
            "document",
            crate::Reason::message("reason-document-not-asked", &[]),
        )
    })
}

/// Whether the client may upload a version of `document` now: checked before any byte
/// is read, and again by [`record_upload`] inside the store's unit.
pub fn may_upload<'a>(task: &'a Task, document: &str) -> Result<&'a RequestedDocument> {
    let requested = requested(task, document)?;
    client_may_act(task)?;
    if task
        .evidence
        .documents
        .get(document)
        .is_some_and(|d| d.status == DocumentStatus::Approved)
    {
        return Err(Error::conflict(crate::Reason::message(
            "reason-document-approved",
            &[],
        )));
    }
    Ok(requested)
}

/// The facts of an upload whose bytes are stored and scanned.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// The new file's id.
    pub id: FileId,
    /// The requested document.
    pub document_id: String,
    /// The cleaned file name.
    pub name: String,
    /// The sniffed type.
    pub file_type: FileType,
    /// Plaintext size.
    pub size: u64,
    /// Plaintext SHA-256.
    pub sha256: [u8; 32],
    /// The blob.
    pub blob: BlobId,
    /// The wrapped data key.
    pub key: WrappedKey,
    /// The scan verdict.
    pub scan: ScanVerdict,
}

fn quarantine_note(signature: &str) -> String {
    format!(
        "Our virus scan found “{signature}” in this file, so it was quarantined and nobody can open it. Please check your computer and upload a clean copy."
    )
}

/// The status a document task's evidence implies: completed when every requested
/// document is approved, in progress once anything was uploaded, pending before.
pub fn documents_progress(task: &Task) -> TaskStatus {
    let TaskKind::DocumentUpload { documents } = &task.kind else {
        return task.status;
    };
    let states = &task.evidence.documents;
    if !documents.is_empty()
        && documents.iter().all(|d| {
            states
                .get(&d.id)
                .is_some_and(|s| s.status == DocumentStatus::Approved)
        })
    {
        TaskStatus::Completed
    } else if states.is_empty() {
        TaskStatus::Pending
    } else {
        TaskStatus::InProgress
    }
}

/// [`documents_progress`], except that a blocked task stays blocked.
fn documents_status(task: &Task) -> TaskStatus {
    if task.status == TaskStatus::Blocked {
        TaskStatus::Blocked
    } else {
        documents_progress(task)
    }
}

/// What an upload by `actor` does to `task`: a new version of the document (numbered
/// after the last one), the document's state `Uploaded` (or `Rejected` with the
/// scan's explanation if the file is infected), a pending earlier version superseded,
/// the task in progress.
pub fn record_upload(
    task: &Task,
    upload: &NewUpload,
    actor: &Actor,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<DocumentChange> {
    if actor.side() == Side::Client {
        may_upload(task, &upload.document_id)?;
    } else {
        requested(task, &upload.document_id)?;
    }
    let previous = task.evidence.documents.get(&upload.document_id);
    let version = previous.map_or(0, |p| p.versions).saturating_add(1);
    let superseded = previous
        .filter(|p| p.status == DocumentStatus::Uploaded)
        .map(|p| p.current);
    let (status, notes, review, kind) = match &upload.scan {
        ScanVerdict::Infected { signature } => (
            DocumentStatus::Rejected,
            Some(quarantine_note(signature)),
            FileReview::Quarantined,
            ActivityKind::DocumentQuarantined,
        ),
        _ => (
            DocumentStatus::Uploaded,
            None,
            FileReview::Pending,
            ActivityKind::DocumentUploaded,
        ),
    };
    let mut next = task.clone();
    next.updated_at = now;
    next.evidence.documents.insert(
        upload.document_id.clone(),
        DocumentState {
            status,
            current: upload.id,
            versions: version,
            uploaded_at: now,
            notes,
            reviewed: None,
        },
    );
    next.status = documents_status(&next);
    let file = DocumentFile {
        id: upload.id,
        tenant_id: tenant,
        portal_id: task.portal_id,
        task_id: task.id,
        document_id: upload.document_id.clone(),
        version,
        name: upload.name.clone(),
        file_type: upload.file_type,
        size: upload.size,
        sha256: upload.sha256,
        blob: upload.blob,
        key: upload.key.clone(),
        uploaded_by: actor.clone(),
        uploaded_at: now,
        scan: upload.scan.clone(),
        review,
    };
    let activity = entry(task, actor, kind, now, document_detail(task, &file));
    let audit = AuditEntry::new(
        tenant,
        task.portal_id,
        now,
        actor.clone(),
        &AuditEvent::DocumentUploaded {
            task: task.id,
            file: file.id,
            document: file.document_id.clone(),
            version: file.version,
            name: file.name.clone(),
            size: file.size,
            sha256: file.sha256,
        },
    );
    Ok(DocumentChange {
        audit: Some(audit),
        emails: Vec::new(),
        task: TaskChange {
            task: next,
            activity,
        },
        file,
        superseded,
    })
}

/// What reopening a document upload task does to its documents: every approved one
/// needs a new version (its state becomes `Rejected` with a note saying so; the
/// approved file stays in its history), so the client can upload again.
pub fn reopen_documents(task: &mut Task) {
    for state in task.evidence.documents.values_mut() {
        if state.status == DocumentStatus::Approved {
            state.status = DocumentStatus::Rejected;
            state.notes = Some(REOPENED_NOTE.to_owned());
        }
    }
}

/// The note a reopened task's approved documents get.
pub const REOPENED_NOTE: &str =
    "Your MSP reopened this task and needs a new version of this document.";

/// The activity entry of a change to a document task.
fn entry(
    task: &Task,
    actor: &Actor,
    kind: ActivityKind,
    now: DateTime<Utc>,
    detail: String,
) -> ActivityEntry {
    ActivityEntry {
        portal_id: task.portal_id,
        at: now,
        actor: actor.clone(),
        kind,
        task_id: Some(task.id),
        subject: task.title.clone(),
        detail: Some(detail),
    }
}

fn document_detail(task: &Task, file: &DocumentFile) -> String {
    let name = requested(task, &file.document_id).map_or("document", |d| d.name.as_str());
    format!("{name}: {} (version {})", file.name, file.version)
}

/// A reviewer's decision on one file.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Accept, with optional notes.
    Approve {
        /// Notes for the client.
        notes: Option<String>,
    },
    /// Refuse, with the notes that tell the client what to fix (required).
    Reject {
        /// What to fix.
        notes: String,
    },
}

fn clean_notes(notes: Option<&str>) -> Result<Option<String>> {
    match notes
        .map(|n| clean_text("notes", n, MAX_NOTE))
        .transpose()?
    {
        Some(n) if n.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// What a review by staff `actor` does: only the current version of a document, only
/// when its scan verdict admits it (under `policy`), only once (two reviewers at once:
/// the second is told it was already reviewed). The document's state follows the
/// verdict and the task completes when every document is approved.
pub fn review(
    task: &Task,
    file: &DocumentFile,
    verdict: &Verdict,
    actor: &Actor,
    policy: UnscannablePolicy,
    now: DateTime<Utc>,
) -> Result<DocumentChange> {
    if actor.side() != Side::Msp {
        return Err(Error::Forbidden {
            reason: crate::reason::Reason::message("reason-forbidden-review", &[]),
        });
    }
    if file.portal_id != task.portal_id || file.task_id != task.id {
        return Err(Error::not_found(Entity::File));
    }
    let state = task
        .evidence
        .documents
        .get(&file.document_id)
        .filter(|s| s.current == file.id)
        .ok_or_else(|| {
            Error::conflict("A newer version of this document was uploaded: review that one.")
        })?;
    if !file.admitted(policy) {
        return Err(Error::conflict(
            "This file has not passed the virus scan, so it cannot be reviewed.",
        ));
    }
    if task.status == TaskStatus::Blocked {
        return Err(Error::conflict(
            "This task is blocked: unblock it before reviewing its documents.",
        ));
    }
    if file.review != FileReview::Pending {
        return Err(Error::conflict(match file.review {
            FileReview::Approved { .. } => "This file was already approved.",
            FileReview::Rejected { .. } => "This file was already rejected.",
            _ => "This file cannot be reviewed.",
        }));
    }
    let (status, notes, review, kind) = match verdict {
        Verdict::Approve { notes } => {
            let notes = clean_notes(notes.as_deref())?;
            (
                DocumentStatus::Approved,
                notes.clone(),
                FileReview::Approved {
                    by: actor.clone(),
                    at: now,
                    notes,
                },
                ActivityKind::DocumentApproved,
            )
        }
        Verdict::Reject { notes } => {
            let notes = clean_notes(Some(notes))?.ok_or_else(|| {
                Error::invalid("notes", "say what is wrong so the client can fix it")
            })?;
            (
                DocumentStatus::Rejected,
                Some(notes.clone()),
                FileReview::Rejected {
                    by: actor.clone(),
                    at: now,
                    notes,
                },
                ActivityKind::DocumentRejected,
            )
        }
    };
    let mut next = task.clone();
    next.updated_at = now;
    next.evidence.documents.insert(
        file.document_id.clone(),
        DocumentState {
            status,
            notes: notes.clone(),
            reviewed: Some(CheckMark {
                by: actor.clone(),
                at: now,
            }),
            ..state.clone()
        },
    );
    next.status = documents_status(&next);
    let mut reviewed = file.clone();
    reviewed.review = review;
    let mut detail = document_detail(task, file);
    if let Some(n) = &notes {
        detail = format!("{detail}: {n}");
    }
    let activity = entry(task, actor, kind, now, detail);
    let audit = AuditEntry::new(
        file.tenant_id,
        task.portal_id,
        now,
        actor.clone(),
        &AuditEvent::DocumentReviewed {
            task: task.id,
            file: file.id,
            approved: matches!(verdict, Verdict::Approve { .. }),
            notes,
        },
    );
    Ok(DocumentChange {
        audit: Some(audit),
        emails: Vec::new(),
        task: TaskChange {
            task: next,
            activity,
        },
        file: reviewed,
        superseded: None,
    })
}

/// What a new scan verdict does to a file that is still pending (a rescan after the
/// scanner was down): an infected file is quarantined and its document rejected with
/// the scan's explanation; otherwise only the verdict changes.
pub fn rescan(
    task: &Task,
    file: &DocumentFile,
    verdict: &ScanVerdict,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<DocumentChange> {
    if file.portal_id != task.portal_id || file.task_id != task.id {
        return Err(Error::not_found(Entity::File));
    }
    if file.review != FileReview::Pending {
        return Err(Error::conflict(
            "Only a file waiting for review can be scanned again.",
        ));
    }
    let mut next = task.clone();
    next.updated_at = now;
    let mut scanned = file.clone();
    scanned.scan = verdict.clone();
    let mut kind = ActivityKind::DocumentScanned;
    if let ScanVerdict::Infected { signature } = verdict {
        scanned.review = FileReview::Quarantined;
        kind = ActivityKind::DocumentQuarantined;
        if let Some(state) = next.evidence.documents.get_mut(&file.document_id)
            && state.current == file.id
        {
            state.status = DocumentStatus::Rejected;
            state.notes = Some(quarantine_note(signature));
        }
        next.status = documents_status(&next);
    }
    let activity = entry(task, actor, kind, now, document_detail(task, file));
    Ok(DocumentChange {
        audit: None,
        emails: Vec::new(),
        task: TaskChange {
            task: next,
            activity,
        },
        file: scanned,
        superseded: None,
    })
}

/// One requested document of a task with where it stands, for the Documents tab and
/// the task page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    /// The task.
    pub task_id: TaskId,
    /// The task's title.
    pub task_title: String,
    /// The request.
    pub requested: RequestedDocument,
    /// Its status (`Requested` before any upload).
    pub status: DocumentStatus,
    /// The reviewer's notes on the latest version.
    pub notes: Option<String>,
    /// The latest version, if any was uploaded.
    pub current: Option<DocumentFile>,
    /// Every version, oldest first.
    pub versions: Vec<DocumentFile>,
}

/// Every requested document of `tasks`, in plan order, with the files uploaded for it
/// (`files`: a portal's files in any order).
pub fn document_rows(tasks: &[Task], files: &[DocumentFile]) -> Vec<DocumentRow> {
    let mut rows = Vec::new();
    for task in tasks {
        let TaskKind::DocumentUpload { documents } = &task.kind else {
            continue;
        };
        for d in documents {
            let state = task.evidence.documents.get(&d.id);
            let mut versions: Vec<DocumentFile> = files
                .iter()
                .filter(|f| f.task_id == task.id && f.document_id == d.id)
                .cloned()
                .collect();
            versions.sort_by_key(|f| f.version);
            rows.push(DocumentRow {
                task_id: task.id,
                task_title: task.title.clone(),
                requested: d.clone(),
                status: state.map_or(DocumentStatus::Requested, |s| s.status),
                notes: state.and_then(|s| s.notes.clone()),
                current: state.and_then(|s| versions.iter().find(|f| f.id == s.current).cloned()),
                versions,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests;
