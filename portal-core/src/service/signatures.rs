//! Signature task use cases: the client signs (a drawn PNG sealed into a blob, or a
//! typed name, with the consent ticked), once; staff and the client read the evidence
//! with every hash recomputed; staff ask whether some bytes are a signed document.

use std::sync::Arc;

use crate::audit::{AuditEntry, AuditEvent, ChainHead, hash_hex};
use crate::blob::envelope::FileBinding;
use crate::blob::{read_all, stream_of};
use crate::error::{Entity, Error, Result};
use crate::ids::{BlobId, PortalId, TaskId};
use crate::model::{Task, TaskKind};
use crate::outbox::{MailKind, OutboxMessage};
use futures_util::StreamExt;
use sha2::Digest;

use crate::blob::ByteStream;
use crate::signatures::{
    self, AttachedDocument, NewSignature, SignatureMark, SignatureRecord, SigningContext,
    StoredImage, Verification, check_png, check_typed_name, consent_text, decode_data_url,
    record_signature, sha256,
};
use crate::staff::{StaffContext, StaffRole};
use crate::store::{ClientContext, TaskDecision};

use super::PortalService;
use super::workflow::client_actor;
use crate::i18n::Language;

/// What the client's form sends.
#[derive(Debug, Clone, Default)]
pub struct SignatureInput {
    /// The pad's `data:image/png;base64,…` URL, if the signer drew (empty or `None`:
    /// the typed name is the signature).
    pub drawn: Option<String>,
    /// The typed name, used when nothing was drawn.
    pub typed_name: Option<String>,
    /// Whether the consent box was ticked.
    pub consent: bool,
    /// The SHA-256 (lower-case hex) of the document the page presented, if it
    /// presented one: the signature is refused (`Conflict`) unless it is still the
    /// task's document, so a document replaced meanwhile is never recorded as signed.
    pub document_sha256: Option<String>,
    /// The language the page showed the consent statement in (the form says which):
    /// the default statement is recorded in it, word for word as the signer read it.
    pub consent_language: Language,
}

/// A signature with its evidence checked: the record, what recomputing each hash
/// found, and where its audit event sits in the portal's chain.
#[derive(Debug, Clone)]
pub struct SignatureEvidence {
    /// The record as stored.
    pub record: SignatureRecord,
    /// Each part recomputed.
    pub verification: Verification,
    /// The `signature_submitted` event's number and hash, if found.
    pub chain: Option<ChainHead>,
}

impl PortalService {
    /// Signs a signature task of the client's own portal: consent must be ticked
    /// (`Invalid("consent")`); a drawn PNG ([`check_png`]) or else a typed name
    /// ([`check_typed_name`]). The drawn image is sealed into a blob first; the record,
    /// the task's completion, its feed entry, the `signature_submitted` audit event and
    /// the MSP's notices are then written in one store unit. A second signature is
    /// `Conflict` and stores nothing.
    pub async fn sign_task(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        input: &SignatureInput,
        context: SigningContext,
    ) -> Result<(Task, SignatureRecord)> {
        let current = self.task(ctx, task).await?;
        if !matches!(current.kind, TaskKind::Signature { .. }) {
            return Err(Error::conflict(crate::Reason::message(
                "reason-task-no-signature",
                &[],
            )));
        }
        crate::workflow::actions::client_may_act(&current)?;
        // A task waiting for an earlier one takes no signature yet (as for uploads,
        // judged on the home's read: the signature unit does not read the plan).
        let home = self.inner.store.portal_snapshot(ctx.portal_id).await?;
        crate::workflow::plan::client_may_act_in(&home, &current)?;
        if !input.consent {
            return Err(Error::invalid(
                "consent",
                crate::Reason::message("reason-consent-not-ticked", &[]),
            ));
        }
        let drawn = input.drawn.as_deref().filter(|d| !d.trim().is_empty());
        let (png, typed) = match drawn {
            Some(url) => {
                let png = decode_data_url(url)?;
                check_png(&png)?;
                (Some(png), None)
            }
            None => (
                None,
                Some(check_typed_name(input.typed_name.as_deref().unwrap_or(""))?),
            ),
        };
        // A document the MSP shared (the one to sign, or an attachment) must have been
        // opened by this contact first.
        self.documents_opened(ctx, &current).await?;
        let attached = self.attached_document(ctx.portal_id, task).await?;
        let presented = input
            .document_sha256
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty());
        let same = match (&attached, presented) {
            (Some(doc), Some(shown)) => hash_hex(&doc.sha256) == shown.to_ascii_lowercase(),
            (None, None) => true,
            _ => false,
        };
        if !same {
            return Err(Error::conflict(crate::Reason::message(
                "reason-signature-document-changed",
                &[],
            )));
        }
        let actor = client_actor(ctx);
        let now = self.inner.clock.now();
        let (mark, mark_sha256, blob) = match (png, typed) {
            (Some(png), _) => {
                let vault = self.vault()?;
                let binding = FileBinding {
                    tenant: ctx.tenant_id,
                    portal: ctx.portal_id,
                    task: Some(task),
                    blob: BlobId::random(self.inner.random.as_ref()),
                };
                let sealed = vault
                    .seal(
                        &binding,
                        stream_of(vec![png.into()]),
                        signatures::MAX_IMAGE as u64,
                    )
                    .await?;
                (
                    SignatureMark::Drawn(StoredImage {
                        blob: sealed.blob,
                        key: sealed.key,
                        size: sealed.size,
                    }),
                    sealed.sha256,
                    Some(sealed.blob),
                )
            }
            (None, Some(name)) => {
                let hash = sha256(name.as_bytes());
                (SignatureMark::Typed(name), hash, None)
            }
            (None, None) => {
                return Err(Error::invalid(
                    "typed_name",
                    crate::Reason::message("reason-typed-name-blank", &[]),
                ));
            }
        };
        let record = NewSignature {
            tenant_id: ctx.tenant_id,
            portal_id: ctx.portal_id,
            task_id: task,
            signer: actor.clone(),
            context,
            at: now,
            document: attached.as_ref().map(AttachedDocument::as_signed),
            mark,
            mark_sha256,
            consent_text: consent_text(&current, input.consent_language),
        }
        .into_record();
        let audit = AuditEntry::new(
            ctx.tenant_id,
            ctx.portal_id,
            now,
            actor.clone(),
            &AuditEvent::SignatureSubmitted {
                task,
                record_sha256: record.record_sha256,
            },
        );
        let emails = self.signature_notices(ctx, &current.title, &record).await?;
        let decide: TaskDecision = Arc::new(move |t: &Task| record_signature(t, &actor, now));
        let done = self
            .inner
            .store
            .submit_signature(&record, decide, &audit, &emails)
            .await;
        let done = match done {
            Ok(done) => done,
            Err(e) => {
                if let Some(blob) = blob {
                    self.discard_blob(blob, "refused signature's image").await;
                }
                return Err(e);
            }
        };
        if !emails.is_empty() {
            self.mail_queued().await;
        }
        tracing::info!(portal = %ctx.portal_id, task = %task, method = record.mark.method(), "signature submitted");
        Ok((done, record))
    }

    /// The MSP's notice of a signature, to every notification recipient, queued in the
    /// signature's unit (none when client events go to the daily digest).
    async fn signature_notices(
        &self,
        ctx: &ClientContext,
        task_title: &str,
        record: &SignatureRecord,
    ) -> Result<Vec<OutboxMessage>> {
        if self.staff_digest_on(ctx.portal_id).await {
            return Ok(Vec::new());
        }
        let portal = self.inner.store.portal(ctx.portal_id).await?;
        let tenant = self.inner.store.tenant(portal.tenant_id).await?;
        let mut out = Vec::with_capacity(tenant.notification_recipients.len());
        for to in &tenant.notification_recipients {
            let email = crate::mail::signature_notification(
                crate::mail::StaffRecipient {
                    email: to,
                    branding: &portal.branding,
                },
                &portal.client_name,
                record.signer.name(),
                task_title,
                record.mark.method(),
                &hash_hex(&record.record_sha256),
            )?;
            out.push(self.outbox_mail(
                tenant.id,
                Some(portal.id),
                MailKind::StaffNotification,
                email,
            ));
        }
        Ok(out)
    }

    /// The client's own task's signature, if signed (`None` otherwise).
    pub async fn task_signature(
        &self,
        ctx: &ClientContext,
        task: TaskId,
    ) -> Result<Option<SignatureRecord>> {
        self.task(ctx, task).await?;
        match self.inner.store.signature(ctx.portal_id, task).await {
            Ok(r) => Ok(Some(r)),
            Err(Error::NotFound {
                entity: Entity::Signature,
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The evidence of the client's own signature (their certificate).
    pub async fn client_signature_evidence(
        &self,
        ctx: &ClientContext,
        task: TaskId,
    ) -> Result<SignatureEvidence> {
        self.task(ctx, task).await?;
        let record = self.inner.store.signature(ctx.portal_id, task).await?;
        self.evidence(record).await
    }

    /// A task's signature with every hash recomputed (member): the record, which
    /// part, if any, no longer matches, and its audit event's chain position. A portal
    /// of another tenant is `NotFound(Portal)`.
    pub async fn signature_evidence(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<SignatureEvidence> {
        staff.require(StaffRole::Member, "reading a signature")?;
        let portal = self.staff_portal(staff, portal).await?;
        let record = self.inner.store.signature(portal.id, task).await?;
        let evidence = self.evidence(record).await?;
        if !evidence.verification.intact() {
            tracing::warn!(portal = %portal.id, task = %task, failures = ?evidence.verification.failures(),
                "a signature does not verify");
        }
        Ok(evidence)
    }

    /// The drawn PNG of a signature (member), decrypted, for the admin view.
    pub async fn signature_image(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<u8>> {
        staff.require(StaffRole::Member, "reading a signature")?;
        let portal = self.staff_portal(staff, portal).await?;
        let record = self.inner.store.signature(portal.id, task).await?;
        self.image_of(&record).await?.ok_or(Error::NotFound {
            entity: Entity::Blob,
        })
    }

    /// "Verify a document" (member): which of the tenant's signatures signed exactly
    /// these bytes (by SHA-256), oldest first; empty if none.
    pub async fn signatures_of_document(
        &self,
        staff: &StaffContext,
        bytes: &[u8],
    ) -> Result<Vec<SignatureRecord>> {
        staff.require(StaffRole::Member, "verifying a document")?;
        self.inner
            .store
            .signatures_with_document(staff.tenant, &sha256(bytes), 100)
            .await
    }

    async fn image_of(&self, record: &SignatureRecord) -> Result<Option<Vec<u8>>> {
        let SignatureMark::Drawn(image) = &record.mark else {
            return Ok(None);
        };
        let vault = self.vault()?;
        let content = vault
            .open(&record.image_binding(image.blob), &image.key)
            .await?;
        Ok(Some(read_all(content, signatures::MAX_IMAGE as u64).await?))
    }

    /// A task's attached document, `None` if it has none.
    pub(super) async fn attached_document(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Option<AttachedDocument>> {
        match self.inner.store.signature_document(portal, task).await {
            Ok(d) => Ok(Some(d)),
            Err(Error::NotFound {
                entity: Entity::File,
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Attaches the document to sign to a signature task (member), replacing the one
    /// attached before, until the task is signed (`Conflict` after). The content is
    /// streamed: its first bytes sniffed (an empty file, markup, or a kind of file the
    /// portal does not know are `Invalid("file")`), then sealed into a blob with
    /// [`signatures::MAX_DOCUMENT`] enforced while streaming (`TooLarge`); the record
    /// and its `signature_document_attached` audit event are written in one store
    /// unit, and the replaced document's blob is deleted after it. Nothing is kept of
    /// a refused attachment.
    pub async fn attach_signature_document(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        file_name: &str,
        content: ByteStream,
    ) -> Result<AttachedDocument> {
        staff.require(StaffRole::Member, "attaching a document to sign")?;
        let portal = self.staff_portal(staff, portal).await?;
        let current = self.inner.store.task(portal.id, task).await?;
        let signed = self.has_signature(portal.id, task).await?;
        signatures::may_attach_document(&current, signed)?;
        let file = self
            .seal_staff_file(&portal, task, file_name, content, signatures::MAX_DOCUMENT)
            .await?;
        let sealed = file.sealed;
        let now = self.inner.clock.now();
        let actor = staff.actor();
        let document = AttachedDocument {
            tenant_id: portal.tenant_id,
            portal_id: portal.id,
            task_id: task,
            name: file.name,
            file_type: file.file_type,
            size: sealed.size,
            sha256: sealed.sha256,
            blob: sealed.blob,
            key: sealed.key,
            attached_by: actor.clone(),
            attached_at: now,
        };
        let audit = AuditEntry::new(
            portal.tenant_id,
            portal.id,
            now,
            actor,
            &AuditEvent::SignatureDocumentAttached {
                task,
                name: document.name.clone(),
                size: document.size,
                sha256: document.sha256,
            },
        );
        let replaced = match self
            .inner
            .store
            .attach_signature_document(&document, &audit)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                self.discard_blob(sealed.blob, "refused signature document")
                    .await;
                return Err(e);
            }
        };
        if let Some(old) = replaced {
            self.discard_blob(old, "replaced signature document").await;
        }
        tracing::info!(portal = %portal.id, task = %task, size = document.size, "signature document attached");
        Ok(document)
    }

    async fn has_signature(&self, portal: PortalId, task: TaskId) -> Result<bool> {
        match self.inner.store.signature(portal, task).await {
            Ok(_) => Ok(true),
            Err(Error::NotFound {
                entity: Entity::Signature,
            }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The document of a signature task of the client's own portal, if one is
    /// attached (what the signature page presents).
    pub async fn signature_document(
        &self,
        ctx: &ClientContext,
        task: TaskId,
    ) -> Result<Option<AttachedDocument>> {
        self.task(ctx, task).await?;
        self.attached_document(ctx.portal_id, task).await
    }

    /// The client's own signature task's document and a stream of exactly its stored
    /// bytes (what the page shows and the signature records the hash of), recorded as
    /// opened by this contact; `NotFound(File)` if none is attached.
    pub async fn open_signature_document(
        &self,
        ctx: &ClientContext,
        task: TaskId,
    ) -> Result<(AttachedDocument, ByteStream)> {
        self.task(ctx, task).await?;
        let doc = self
            .inner
            .store
            .signature_document(ctx.portal_id, task)
            .await?;
        let stream = self.vault()?.open(&doc.binding(), &doc.key).await?;
        // The client opened it: a signature of this document may follow.
        self.record_open(ctx, task, doc.sha256).await?;
        Ok((doc, stream))
    }

    /// A signature task's document for staff (member), with a stream of its bytes.
    pub async fn staff_signature_document(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<(AttachedDocument, ByteStream)> {
        staff.require(StaffRole::Member, "reading a document to sign")?;
        let portal = self.staff_portal(staff, portal).await?;
        let doc = self.inner.store.signature_document(portal.id, task).await?;
        let stream = self.vault()?.open(&doc.binding(), &doc.key).await?;
        Ok((doc, stream))
    }

    /// SHA-256 of the task's stored document, streamed from its blob (`None` if it
    /// is gone or cannot be read: logged).
    async fn stored_document_hash(&self, record: &SignatureRecord) -> Option<[u8; 32]> {
        record.document.as_ref()?;
        let read = async {
            let Some(doc) = self
                .attached_document(record.portal_id, record.task_id)
                .await?
            else {
                return Ok(None);
            };
            let mut stream = self.vault()?.open(&doc.binding(), &doc.key).await?;
            let mut hasher = sha2::Sha256::new();
            while let Some(piece) = stream.next().await {
                hasher.update(&piece?);
            }
            Ok::<_, Error>(Some(hasher.finalize().into()))
        };
        match read.await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, task = %record.task_id, "a signed document could not be read back");
                None
            }
        }
    }

    async fn evidence(&self, record: SignatureRecord) -> Result<SignatureEvidence> {
        let image = match self.image_of(&record).await {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, task = %record.task_id, "a signature image could not be read back");
                None
            }
        };
        let chain = self.audit_chain(record.portal_id).await?;
        let task = record.task_id.to_string();
        let event = chain.iter().find(|e| {
            e.entry.kind == "signature_submitted" && e.entry.field("task") == Some(task.as_str())
        });
        let document = self.stored_document_hash(&record).await;
        let verification = signatures::verify_hashed(
            &record,
            document,
            image.as_deref(),
            event.and_then(|e| e.entry.field("record_sha256")),
        );
        Ok(SignatureEvidence {
            chain: event.map(crate::audit::ChainedEvent::head),
            record,
            verification,
        })
    }
}
