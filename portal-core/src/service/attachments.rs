//! Documents the MSP shares on a task: staff attach, list, download and delete them;
//! a client lists the documents of the tasks it sees and opens them (each open
//! recorded, per content hash); a decision on a task with documents waits until the
//! deciding contact opened each of them ([`crate::attachments::ensure_opened`]).

use crate::attachments::{
    self, DecidedDocument, DocumentOpen, MAX_ATTACHMENT, MAX_PER_TASK, TaskAttachment,
};
use crate::blob::ByteStream;
use crate::error::{Error, Result};
use crate::ids::{AttachmentId, PortalId, TaskId};
use crate::model::Task;
use crate::staff::{StaffContext, StaffRole};
use crate::store::ClientContext;
use crate::workflow::{ActivityEntry, ActivityKind};

use super::PortalService;

/// A task's attachment as a client sees it: the record and whether this contact has
/// opened its content.
#[derive(Debug, Clone)]
pub struct SharedDocument {
    /// The attachment.
    pub attachment: TaskAttachment,
    /// Whether the contact opened these exact bytes at least once.
    pub opened: bool,
}

impl PortalService {
    /// Attaches a file to any task of a portal (member): the content is streamed, its
    /// first bytes sniffed (an empty file, markup, or a kind the portal does not know
    /// are `Invalid("file")`), then sealed into a blob with [`MAX_ATTACHMENT`] enforced
    /// while streaming (`TooLarge`); the record and its `attachment_added` feed entry,
    /// attributed to the staff member, are written in one store unit (at most
    /// [`MAX_PER_TASK`] per task, `Conflict` past it). Nothing is kept of a refused
    /// attachment: its blob is deleted.
    pub async fn attach_file(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        file_name: &str,
        content: ByteStream,
    ) -> Result<TaskAttachment> {
        staff.require(StaffRole::Member, "attaching a file to a task")?;
        let portal = self.staff_portal(staff, portal).await?;
        let current = self.inner.store.task(portal.id, task).await?;
        let file = self
            .seal_staff_file(&portal, task, file_name, content, MAX_ATTACHMENT)
            .await?;
        let sealed = file.sealed;
        let now = self.inner.clock.now();
        let attachment = TaskAttachment {
            id: AttachmentId::random(self.inner.random.as_ref()),
            tenant_id: portal.tenant_id,
            portal_id: portal.id,
            task_id: task,
            name: file.name,
            file_type: file.file_type,
            size: sealed.size,
            sha256: sealed.sha256,
            blob: sealed.blob,
            key: sealed.key,
            added_by: staff.actor(),
            added_at: now,
        };
        let activity = ActivityEntry {
            portal_id: portal.id,
            at: now,
            actor: staff.actor(),
            kind: ActivityKind::AttachmentAdded,
            task_id: Some(task),
            subject: current.title.clone(),
            detail: Some(format!(
                "{} (SHA-256 {})",
                attachment.name,
                attachment.sha256_hex()
            )),
        };
        if let Err(e) = self
            .inner
            .store
            .add_attachment(&attachment, MAX_PER_TASK, &activity)
            .await
        {
            self.discard_blob(sealed.blob, "refused attachment").await;
            return Err(e);
        }
        tracing::info!(portal = %portal.id, task = %task, size = attachment.size, "file attached to a task");
        Ok(attachment)
    }

    /// A task's attachments for staff (member), oldest first.
    pub async fn staff_task_attachments(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<TaskAttachment>> {
        staff.require(StaffRole::Member, "reading a task's files")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.inner.store.task_attachments(portal.id, task).await
    }

    /// One attachment for staff (member) with a stream of its bytes.
    pub async fn staff_attachment(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        id: AttachmentId,
    ) -> Result<(TaskAttachment, ByteStream)> {
        staff.require(StaffRole::Member, "reading a task's files")?;
        let portal = self.staff_portal(staff, portal).await?;
        let a = self.inner.store.attachment(portal.id, id).await?;
        let stream = self.vault()?.open(&a.binding(), &a.key).await?;
        Ok((a, stream))
    }

    /// Deletes an attachment (member): the record with its `attachment_deleted` feed
    /// entry in one unit, then its blob. A decision already taken keeps the name and
    /// hash it recorded.
    pub async fn delete_attachment(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        id: AttachmentId,
    ) -> Result<()> {
        staff.require(StaffRole::Member, "deleting a task's file")?;
        let portal = self.staff_portal(staff, portal).await?;
        let a = self.inner.store.attachment(portal.id, id).await?;
        let task = self.inner.store.task(portal.id, a.task_id).await?;
        let activity = ActivityEntry {
            portal_id: portal.id,
            at: self.inner.clock.now(),
            actor: staff.actor(),
            kind: ActivityKind::AttachmentDeleted,
            task_id: Some(a.task_id),
            subject: task.title,
            detail: Some(a.name.clone()),
        };
        let blob = self
            .inner
            .store
            .delete_attachment(portal.id, id, &activity)
            .await?;
        self.discard_blob(blob, "deleted attachment").await;
        Ok(())
    }

    /// The attachments of a task of the client's own portal, each with whether this
    /// contact opened it.
    pub async fn task_attachments(
        &self,
        ctx: &ClientContext,
        task: TaskId,
    ) -> Result<Vec<SharedDocument>> {
        self.task(ctx, task).await?;
        let all = self
            .inner
            .store
            .task_attachments(ctx.portal_id, task)
            .await?;
        let opens = self.inner.store.document_opens(ctx.portal_id, task).await?;
        Ok(all
            .into_iter()
            .map(|attachment| {
                let opened = opens
                    .iter()
                    .any(|o| o.contact_id == ctx.contact_id && o.sha256 == attachment.sha256);
                SharedDocument { attachment, opened }
            })
            .collect())
    }

    /// Everything the MSP shared on the tasks this contact sees (the Documents tab's
    /// "Shared by" section), oldest first, each with whether this contact opened it.
    pub async fn shared_documents(&self, ctx: &ClientContext) -> Result<Vec<SharedDocument>> {
        let all = self.inner.store.portal_attachments(ctx.portal_id).await?;
        let mut out = Vec::with_capacity(all.len());
        let mut opens: std::collections::HashMap<TaskId, Vec<DocumentOpen>> =
            std::collections::HashMap::new();
        for attachment in all {
            // A task the client cannot see (internal) keeps its files to itself.
            if self.task(ctx, attachment.task_id).await.is_err() {
                continue;
            }
            let task_opens = match opens.entry(attachment.task_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(
                    self.inner
                        .store
                        .document_opens(ctx.portal_id, attachment.task_id)
                        .await?,
                ),
            };
            let opened = task_opens
                .iter()
                .any(|o| o.contact_id == ctx.contact_id && o.sha256 == attachment.sha256);
            out.push(SharedDocument { attachment, opened });
        }
        Ok(out)
    }

    /// Opens an attachment of `task` of the client's own portal: records that this
    /// contact opened these bytes (the first time counts), then streams them. Another
    /// portal's attachment, another task's, or one of a task the client does not see,
    /// is `NotFound(File)`, and nothing is recorded.
    pub async fn open_attachment(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        id: AttachmentId,
    ) -> Result<(TaskAttachment, ByteStream)> {
        let a = self.attachment_info(ctx, task, id).await?;
        let stream = self.vault()?.open(&a.binding(), &a.key).await?;
        self.record_open(ctx, a.task_id, a.sha256).await?;
        Ok((a, stream))
    }

    /// An attachment's record without its bytes, and without recording an open (what
    /// a `HEAD` request answers: nobody read the document). Refused as
    /// [`Self::open_attachment`] refuses.
    pub async fn attachment_info(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        id: AttachmentId,
    ) -> Result<TaskAttachment> {
        let not_found = || Error::NotFound {
            entity: crate::error::Entity::File,
        };
        let a = self.inner.store.attachment(ctx.portal_id, id).await?;
        if a.task_id != task {
            return Err(not_found());
        }
        self.task(ctx, a.task_id).await.map_err(|_| not_found())?;
        Ok(a)
    }

    /// Records that the contact opened the content with `sha256` on `task`.
    pub(super) async fn record_open(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        sha256: [u8; 32],
    ) -> Result<()> {
        self.inner
            .store
            .record_document_open(&DocumentOpen {
                portal_id: ctx.portal_id,
                task_id: task,
                contact_id: ctx.contact_id,
                sha256,
                at: self.inner.clock.now(),
            })
            .await
    }

    /// The documents a decision on `task` is about (its attachments, and a signature
    /// task's document to sign), by name and SHA-256; empty for a task whose kind
    /// takes no decision.
    async fn decision_documents(
        &self,
        portal: PortalId,
        task: &Task,
    ) -> Result<Vec<(String, [u8; 32])>> {
        if !attachments::gates_decision(task) {
            return Ok(Vec::new());
        }
        let mut docs: Vec<(String, [u8; 32])> = self
            .inner
            .store
            .task_attachments(portal, task.id)
            .await?
            .into_iter()
            .map(|a| (a.name, a.sha256))
            .collect();
        if let Some(doc) = self.attached_document(portal, task.id).await? {
            docs.push((doc.name, doc.sha256));
        }
        Ok(docs)
    }

    /// Whether the contact may decide on `task` yet: the documents the decision
    /// records, or `Conflict(`[`attachments::OPEN_FIRST`]`)` while one is unopened.
    pub async fn documents_opened(
        &self,
        ctx: &ClientContext,
        task: &Task,
    ) -> Result<Vec<DecidedDocument>> {
        let docs = self.decision_documents(ctx.portal_id, task).await?;
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        let opens = self
            .inner
            .store
            .document_opens(ctx.portal_id, task.id)
            .await?;
        attachments::ensure_opened(&docs, &opens, ctx.contact_id)
    }
}
