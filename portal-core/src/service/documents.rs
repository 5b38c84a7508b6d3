//! Document upload use cases: the client uploads (streamed, sniffed, sealed, scanned,
//! recorded), lists and downloads; the MSP works the review queue (download, approve,
//! reject with notes, rescan) and rotates the keys that wrap file keys.
//!
//! Order of an upload, so that nothing half-written is ever visible: the task is
//! checked before a byte is read; the first bytes are sniffed before anything is
//! stored; the content is sealed into a blob (limit enforced while streaming); the
//! scanner reads it back; only then is the record written, in one store unit with
//! the task change. A failure after the blob was written deletes the blob.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use super::PortalService;
use super::workflow::client_actor;
use crate::blob::envelope::{FileBinding, FileVault};
use crate::blob::keyring::KeyId;
use crate::blob::rotation::SealedKind;
use crate::blob::{ByteStream, stream_of};
use crate::error::{Error, Reason, Result};
use crate::files::{self, FileType};
use crate::ids::{BlobId, FileId, MailId, PortalId, TaskId};
use crate::mail;
use crate::model::Task;
use crate::outbox::{MailKind, OutboxMessage};
use crate::staff::{StaffContext, StaffRole};
use crate::store::ClientContext;
use crate::workflow::documents::{
    self, DocumentRow, FileDecision, NewUpload, UploadDecision, Verdict,
};
use crate::workflow::{Actor, DocumentFile};

/// Files a rotation reads from the store at a time.
const ROTATION_BATCH: usize = 200;

/// A file waiting in the MSP's review queue, with what a reviewer needs to see.
#[derive(Debug, Clone)]
pub struct QueueItem {
    /// The file.
    pub file: DocumentFile,
    /// The client company.
    pub client_name: String,
    /// The task's title.
    pub task_title: String,
    /// The requested document's name.
    pub document_name: String,
    /// Whether it can be downloaded and reviewed now: `false` while its scan verdict
    /// does not admit it (the scanner could not judge it and the policy blocks).
    pub reviewable: bool,
}

/// What a key rotation did with the keys of one kind of record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationCounts {
    /// Keys now wrapped by the active key.
    pub rewrapped: u64,
    /// Keys that changed under the rotation (another rotation got there first, or the
    /// record was removed meanwhile).
    pub skipped: u64,
    /// Keys that could not be re-wrapped (logged with their record; the content is
    /// untouched and still readable with the old key).
    pub failed: u64,
}

impl RotationCounts {
    fn add(&mut self, other: Self) {
        self.rewrapped += other.rewrapped;
        self.skipped += other.skipped;
        self.failed += other.failed;
    }
}

/// What a key rotation did, per kind of record that keeps a wrapped data key: a
/// retired key must leave no kind behind, so the report shows each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Uploaded documents' files.
    pub documents: RotationCounts,
    /// Drawn signature images.
    pub signature_images: RotationCounts,
    /// Documents attached to signature tasks.
    pub signature_documents: RotationCounts,
    /// Files of secure file drops (those whose bytes are still stored).
    pub dropped_files: RotationCounts,
    /// Sealed fields of credential handoffs (those not purged).
    pub credential_fields: RotationCounts,
    /// Files the MSP attached to tasks.
    pub task_attachments: RotationCounts,
}

impl RotationReport {
    /// The counts of `kind`.
    pub const fn of(&self, kind: SealedKind) -> RotationCounts {
        match kind {
            SealedKind::SignatureImage => self.signature_images,
            SealedKind::SignatureDocument => self.signature_documents,
            SealedKind::DroppedFile => self.dropped_files,
            SealedKind::CredentialField => self.credential_fields,
            SealedKind::TaskAttachment => self.task_attachments,
        }
    }

    fn of_mut(&mut self, kind: SealedKind) -> &mut RotationCounts {
        match kind {
            SealedKind::SignatureImage => &mut self.signature_images,
            SealedKind::SignatureDocument => &mut self.signature_documents,
            SealedKind::DroppedFile => &mut self.dropped_files,
            SealedKind::CredentialField => &mut self.credential_fields,
            SealedKind::TaskAttachment => &mut self.task_attachments,
        }
    }

    /// Every kind's counts added up.
    pub fn total(&self) -> RotationCounts {
        let mut total = self.documents;
        for kind in SealedKind::ALL {
            total.add(self.of(kind));
        }
        total
    }
}

impl PortalService {
    pub(super) fn vault(&self) -> Result<&FileVault> {
        self.inner.files.as_ref().ok_or_else(|| {
            Error::storage_msg(
                "file storage is not configured: give PortalServiceBuilder::files a FileVault",
            )
        })
    }

    /// Uploads a file for requested document `document` of a document upload task,
    /// as the signed-in client. `file_name` is the name the browser sent (cleaned
    /// here; it never decides the type). Refused before anything is stored: a task
    /// the client can't change, an approved document, an empty file, a type the
    /// request does not accept (judged from the content). More bytes than the
    /// document's limit is `Error::TooLarge`, found while streaming; nothing is kept.
    pub async fn upload_document(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        document: &str,
        file_name: &str,
        content: ByteStream,
    ) -> Result<DocumentFile> {
        let current = self.inner.store.task(ctx.portal_id, task).await?;
        // A locked or internal task takes no upload. Judged on the portal home's read
        // before the upload streams (a prerequisite reopened meanwhile is not seen;
        // the upload unit itself does not read the plan).
        let home = self.inner.store.portal_snapshot(ctx.portal_id).await?;
        crate::workflow::plan::client_may_act_in(&home, &current)?;
        let requested = documents::may_upload(&current, document)?.clone();
        let (prefix, complete, rest) = peek(content, files::SNIFF_LEN).await?;
        if prefix.is_empty() {
            return Err(Error::invalid(
                "file",
                Reason::message("reason-file-empty", &[]),
            ));
        }
        let accepted = accepted_types(&requested.accept);
        let file_type = files::sniff(&prefix, complete).ok_or_else(|| {
            let key = if files::looks_like_markup(&prefix) {
                "reason-file-markup"
            } else {
                "reason-file-unknown-type"
            };
            Error::invalid(
                "file",
                Reason::build(key).file_types("accepted", accepted).done(),
            )
        })?;
        if !files::accepts(&requested.accept, file_type) {
            return Err(Error::invalid(
                "file",
                Reason::build("reason-file-type-refused")
                    .arg("document", requested.name.as_str())
                    .file_types("type", &[file_type])
                    .file_types("accepted", accepted)
                    .done(),
            ));
        }
        // The stored name ends in the extension of what the content is, so the program
        // that opens a download is the one the content is for.
        let name = files::name_for_type(file_name, file_type);
        let content: ByteStream = Box::pin(stream_of(vec![prefix]).chain(rest));
        let binding = FileBinding {
            tenant: ctx.tenant_id,
            portal: ctx.portal_id,
            task: Some(task),
            blob: BlobId::random(self.inner.random.as_ref()),
        };
        let vault = self.vault()?;
        let sealed = vault.seal(&binding, content, requested.limit()).await?;
        let who = ctx.contact_name.clone();
        let title = current.title.clone();
        let detail = format!(
            "{}: {} ({})",
            requested.name,
            name,
            crate::wording::bytes(sealed.size)
        );
        let notice = self
            .staff_notices(ctx.portal_id, |client, to| {
                mail::upload_notification(to, client, &who, &title, &detail)
            })
            .await;
        let recorded = async {
            let scan = self
                .inner
                .scanner
                .scan(vault.open(&binding, &sealed.key).await?)
                .await?;
            let upload = NewUpload {
                id: FileId::random(self.inner.random.as_ref()),
                document_id: document.to_owned(),
                name,
                file_type,
                size: sealed.size,
                sha256: sealed.sha256,
                blob: sealed.blob,
                key: sealed.key.clone(),
                scan,
            };
            let actor = client_actor(ctx);
            let tenant = ctx.tenant_id;
            let now = self.inner.clock.now();
            let emails = notice.emails.clone();
            let decide: UploadDecision = Arc::new(move |t: &Task| {
                let mut change = documents::record_upload(t, &upload, &actor, tenant, now)?;
                change.emails = emails.clone();
                Ok(change)
            });
            self.inner
                .store
                .add_document_file(ctx.portal_id, task, decide)
                .await
        }
        .await;
        self.staff_notices_done(ctx.portal_id, notice, recorded.is_ok())
            .await;
        let file = match recorded {
            Ok(file) => file,
            Err(e) => {
                self.discard_blob(binding.blob, "failed upload").await;
                return Err(e);
            }
        };
        tracing::info!(
            portal = %ctx.portal_id,
            task = %task,
            file = %file.id,
            size = file.size,
            file_type = ?file.file_type,
            review = file.review.as_str(),
            "document uploaded"
        );
        Ok(file)
    }

    /// Every requested document of the portal's plan, in plan order, with its status,
    /// the reviewer's notes and every uploaded version (the Documents tab).
    pub async fn documents(&self, ctx: &ClientContext) -> Result<Vec<DocumentRow>> {
        self.document_rows(ctx.portal_id, false).await
    }

    /// The Documents tab of a portal of the staff member's tenant.
    pub async fn staff_documents(
        &self,
        staff: &StaffContext,
        portal: PortalId,
    ) -> Result<Vec<DocumentRow>> {
        staff.require(StaffRole::Member, "reading documents")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.document_rows(portal.id, true).await
    }

    /// The Documents tab's rows; `with_internal` is false for the client, who never
    /// sees an internal task's documents.
    async fn document_rows(
        &self,
        portal: PortalId,
        with_internal: bool,
    ) -> Result<Vec<DocumentRow>> {
        let mut snapshot = self.inner.store.portal_snapshot(portal).await?;
        if !with_internal {
            snapshot.tasks.retain(|t| !t.internal);
        }
        let files = self.inner.store.document_files(portal).await?;
        Ok(documents::document_rows(&snapshot.tasks, &files))
    }

    /// One file of the client's own portal and a stream of its plaintext. A file
    /// whose scan verdict does not admit it (quarantined, or not yet judged while the
    /// policy blocks) is never opened: `Forbidden`, saying why.
    pub async fn download_document(
        &self,
        ctx: &ClientContext,
        file: FileId,
    ) -> Result<(DocumentFile, ByteStream)> {
        let record = self.inner.store.document_file(ctx.portal_id, file).await?;
        // A file of an internal task is not the client's to see, not even by its id.
        self.task(ctx, record.task_id).await.map_err(|e| match e {
            Error::NotFound { .. } => Error::NotFound {
                entity: crate::error::Entity::File,
            },
            other => other,
        })?;
        self.open_file(record).await
    }

    /// One file of a portal of the staff member's tenant and a stream of its
    /// plaintext, under the same scan rule as the client's download.
    pub async fn staff_download_document(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        file: FileId,
    ) -> Result<(DocumentFile, ByteStream)> {
        staff.require(StaffRole::Member, "downloading a file")?;
        let portal = self.staff_portal(staff, portal).await?;
        let record = self.inner.store.document_file(portal.id, file).await?;
        self.open_file(record).await
    }

    /// Opens a file's plaintext if its scan verdict admits it.
    async fn open_file(&self, record: DocumentFile) -> Result<(DocumentFile, ByteStream)> {
        if !record.admitted(self.inner.unscannable) {
            return Err(Error::Forbidden {
                reason: if record.review == documents::FileReview::Quarantined {
                    "This file was quarantined by the virus scan and cannot be downloaded.".into()
                } else {
                    "This file has not passed the virus scan yet, so it cannot be downloaded."
                        .into()
                },
            });
        }
        let content = self.vault()?.open(&record.binding(), &record.key).await?;
        Ok((record, content))
    }

    // ----- MSP side --------------------------------------------------------------------

    /// The staff member's tenant's uploads awaiting review across its portals, oldest
    /// first, at most `limit`, with what a reviewer needs to see.
    pub async fn review_queue(&self, staff: &StaffContext, limit: usize) -> Result<Vec<QueueItem>> {
        staff.require(StaffRole::Member, "reading the review queue")?;
        let files = self.inner.store.review_queue(staff.tenant, limit).await?;
        let mut items = Vec::with_capacity(files.len());
        for file in files {
            let portal = self.inner.store.portal(file.portal_id).await?;
            let task = self.inner.store.task(file.portal_id, file.task_id).await?;
            let document_name = documents::requested(&task, &file.document_id)
                .map_or_else(|_| file.document_id.clone(), |d| d.name.clone());
            items.push(QueueItem {
                reviewable: file.admitted(self.inner.unscannable),
                file,
                client_name: portal.client_name,
                task_title: task.title,
                document_name,
            });
        }
        Ok(items)
    }

    /// Approves or rejects a file, as MSP staff. A rejection queues an email to the
    /// client who uploaded it, with the notes, in the same store unit as the review
    /// (none if the contact's access was revoked).
    pub async fn review_document(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        file: FileId,
        verdict: Verdict,
    ) -> Result<DocumentFile> {
        staff.require(StaffRole::Member, "reviewing a file")?;
        let portal = self.staff_portal(staff, portal).await?.id;
        let now = self.inner.clock.now();
        let policy = self.inner.unscannable;
        let by = staff.actor();
        let tell = match verdict {
            Verdict::Reject { .. } => self.rejection_mail(portal, file).await?,
            Verdict::Approve { .. } => None,
        };
        let queues = tell.is_some();
        let v = verdict.clone();
        let decide: FileDecision = Arc::new(move |t: &Task, f: &DocumentFile| {
            let mut change = documents::review(t, f, &v, &by, policy, now)?;
            if let Some(tell) = &tell {
                change.emails = tell.compose(&change.file, now);
            }
            Ok(change)
        });
        let reviewed = self
            .inner
            .store
            .update_document_file(portal, file, decide)
            .await?;
        if queues && matches!(reviewed.review, documents::FileReview::Rejected { .. }) {
            self.mail_queued().await;
        }
        Ok(reviewed)
    }

    /// What a rejection email of `file` needs, read before the review's unit: `None`
    /// when nobody is to be told (a file uploaded by staff, a revoked contact).
    async fn rejection_mail(&self, portal: PortalId, file: FileId) -> Result<Option<Rejection>> {
        let stored = self.inner.store.document_file(portal, file).await?;
        let Actor::Client { contact_id, .. } = &stored.uploaded_by else {
            return Ok(None);
        };
        let contact = self.inner.store.contact(*contact_id).await?;
        if contact.revoked_at.is_some() {
            return Ok(None);
        }
        let portal = self.inner.store.portal(stored.portal_id).await?;
        let task = self
            .inner
            .store
            .task(stored.portal_id, stored.task_id)
            .await?;
        let document = documents::requested(&task, &stored.document_id)
            .map_or_else(|_| stored.document_id.clone(), |d| d.name.clone());
        Ok(Some(Rejection {
            contact,
            portal,
            task_title: task.title,
            document,
            id: MailId::random(self.inner.random.as_ref()),
        }))
    }

    /// Scans a pending file again (after the scanner was down), as MSP staff: an
    /// infected file is quarantined and its document rejected with the explanation.
    pub async fn rescan_document(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        file: FileId,
    ) -> Result<DocumentFile> {
        staff.require(StaffRole::Member, "rescanning a file")?;
        let portal = self.staff_portal(staff, portal).await?.id;
        let staff = staff.actor();
        let record = self.inner.store.document_file(portal, file).await?;
        let vault = self.vault()?;
        let verdict = self
            .inner
            .scanner
            .scan(vault.open(&record.binding(), &record.key).await?)
            .await?;
        let now = self.inner.clock.now();
        let decide: FileDecision = Arc::new(move |t: &Task, f: &DocumentFile| {
            documents::rescan(t, f, &verdict, &staff, now)
        });
        self.inner
            .store
            .update_document_file(portal, file, decide)
            .await
    }

    /// Re-wraps every data key under the keyring's active key: uploaded documents,
    /// drawn signature images, signature documents, dropped files and credential
    /// fields. Contents are never read or rewritten. Safe to run while the portal
    /// serves and to run again (a key already under the active key is not listed; one
    /// changed meanwhile is skipped). Reports the counts per kind; failures are logged
    /// per record.
    pub async fn rotate_file_keys(&self) -> Result<RotationReport> {
        let vault = self.vault()?;
        let active = vault.active_key_id();
        let mut report = RotationReport {
            documents: self.rotate_document_keys(vault, &active).await?,
            ..RotationReport::default()
        };
        for kind in SealedKind::ALL {
            *report.of_mut(kind) = self.rotate_sealed_keys(vault, &active, kind).await?;
        }
        let total = report.total();
        tracing::info!(
            active_key = %active,
            rewrapped = total.rewrapped,
            skipped = total.skipped,
            failed = total.failed,
            documents = report.documents.rewrapped,
            signature_images = report.signature_images.rewrapped,
            signature_documents = report.signature_documents.rewrapped,
            dropped_files = report.dropped_files.rewrapped,
            credential_fields = report.credential_fields.rewrapped,
            task_attachments = report.task_attachments.rewrapped,
            "file keys rotated"
        );
        Ok(report)
    }

    /// The uploads' part of [`Self::rotate_file_keys`].
    async fn rotate_document_keys(
        &self,
        vault: &FileVault,
        active: &KeyId,
    ) -> Result<RotationCounts> {
        let mut counts = RotationCounts::default();
        let mut after = None;
        loop {
            let batch = self
                .inner
                .store
                .files_to_rewrap(active, after, ROTATION_BATCH)
                .await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id);
            for file in &batch {
                match vault.rewrap(&file.binding(), &file.key).await {
                    Ok(Some(new)) => {
                        if self
                            .inner
                            .store
                            .replace_file_key(file.id, &file.key, &new)
                            .await?
                        {
                            counts.rewrapped += 1;
                        } else {
                            counts.skipped += 1;
                        }
                    }
                    Ok(None) => counts.skipped += 1,
                    Err(e) => {
                        tracing::error!(error = %e, file = %file.id, "could not re-wrap a file key");
                        counts.failed += 1;
                    }
                }
            }
        }
        Ok(counts)
    }

    /// One other kind's part of [`Self::rotate_file_keys`]: the same walk, through
    /// the store's sealed-key listing.
    async fn rotate_sealed_keys(
        &self,
        vault: &FileVault,
        active: &KeyId,
        kind: SealedKind,
    ) -> Result<RotationCounts> {
        let mut counts = RotationCounts::default();
        let mut after = None;
        loop {
            let batch = self
                .inner
                .store
                .sealed_keys_to_rewrap(kind, active, after, ROTATION_BATCH)
                .await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.at);
            for sealed in &batch {
                match vault
                    .keys()
                    .rewrap(&sealed.key, &sealed.binding.aad())
                    .await
                {
                    Ok(Some(new)) => {
                        if self
                            .inner
                            .store
                            .replace_sealed_key(kind, sealed.at, &sealed.key, &new)
                            .await?
                        {
                            counts.rewrapped += 1;
                        } else {
                            counts.skipped += 1;
                        }
                    }
                    Ok(None) => counts.skipped += 1,
                    Err(e) => {
                        tracing::error!(
                            error = %e,
                            kind = kind.as_str(),
                            id = %sealed.at.id,
                            part = sealed.at.part,
                            "could not re-wrap a data key"
                        );
                        counts.failed += 1;
                    }
                }
            }
        }
        Ok(counts)
    }
}

/// "Accepted: PDF, Word document." for an error message (any known type if empty).
pub(super) fn accepted_list(accept: &[FileType]) -> String {
    let labels: Vec<&str> = accepted_types(accept).iter().map(|t| t.label()).collect();
    format!("Accepted: {}.", labels.join(", "))
}

/// The types a document accepts: those it names, or every type when it names none.
fn accepted_types(accept: &[FileType]) -> &[FileType] {
    if accept.is_empty() {
        FileType::ALL
    } else {
        accept
    }
}

/// Reads `content` until `want` bytes arrived or it ended: the bytes read, whether
/// that was all of it, and the rest of the stream (to be chained after the bytes).
pub(super) async fn peek(
    mut content: ByteStream,
    want: usize,
) -> Result<(Bytes, bool, ByteStream)> {
    let mut buf = BytesMut::new();
    while buf.len() < want {
        match content.next().await {
            Some(piece) => buf.extend_from_slice(&piece?),
            None => return Ok((buf.freeze(), true, Box::pin(futures_util::stream::empty()))),
        }
    }
    Ok((buf.freeze(), false, content))
}

/// A rejection email's facts, read before the review's unit; the email itself is
/// composed inside the unit from the review as decided (the cleaned notes).
struct Rejection {
    contact: crate::model::Contact,
    portal: crate::model::Portal,
    task_title: String,
    document: String,
    id: MailId,
}

impl Rejection {
    /// The email for `file` as the review left it: one email if it was rejected, none
    /// otherwise (or if it cannot be composed: logged, the review still stands).
    fn compose(&self, file: &DocumentFile, now: DateTime<Utc>) -> Vec<OutboxMessage> {
        let documents::FileReview::Rejected { notes, .. } = &file.review else {
            return Vec::new();
        };
        let email = mail::document_rejected_email(
            mail::Recipient {
                name: &self.contact.name,
                email: &self.contact.email,
                branding: &self.portal.branding,
                time_zone: self.contact.time_zone,
                language: self.contact.language.unwrap_or_default(),
            },
            mail::RejectedDocument {
                task: &self.task_title,
                document: &self.document,
                file: &file.name,
                notes,
            },
        );
        match email {
            Ok(email) => vec![OutboxMessage::new(
                self.id,
                self.portal.tenant_id,
                Some(self.portal.id),
                MailKind::DocumentRejected,
                email,
                now,
            )],
            Err(e) => {
                tracing::error!(error = %e, file = %file.id, "could not compose the email about a rejected document");
                Vec::new()
            }
        }
    }
}
