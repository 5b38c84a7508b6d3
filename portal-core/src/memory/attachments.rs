//! [`AttachmentStore`] for [`MemoryStore`]: attachments by id with their insertion
//! number, opens in insertion order; every check runs before the first write.

use async_trait::async_trait;

use super::{MemoryStore, Seq, State, not_found};
use crate::attachments::{DocumentOpen, TaskAttachment, may_add};
use crate::error::{Entity, Error, Result};
use crate::ids::{AttachmentId, BlobId, PortalId, TaskId};
use crate::store::AttachmentStore;
use crate::workflow::ActivityEntry;

impl State {
    /// Whether any record (upload, drop, signature image or document, attachment)
    /// points at `blob`.
    fn blob_taken(&self, blob: BlobId) -> bool {
        self.files.values().any(|f| f.value.blob == blob)
            || self.drops.values().any(|d| d.value.blob == blob)
            || self.signatures.values().any(
                |s| matches!(&s.mark, crate::signatures::SignatureMark::Drawn(i) if i.blob == blob),
            )
            || self.signature_documents.values().any(|d| d.blob == blob)
            || self.attachments.values().any(|a| a.value.blob == blob)
    }

    /// A portal's attachments matching `keep`, oldest first.
    fn attachments_where(&self, keep: impl Fn(&TaskAttachment) -> bool) -> Vec<TaskAttachment> {
        let mut out: Vec<&Seq<TaskAttachment>> = self
            .attachments
            .values()
            .filter(|a| keep(&a.value))
            .collect();
        out.sort_by_key(|a| (a.value.added_at, a.seq));
        out.into_iter().map(|a| a.value.clone()).collect()
    }
}

#[async_trait]
impl AttachmentStore for MemoryStore {
    async fn add_attachment(
        &self,
        attachment: &TaskAttachment,
        max_per_task: usize,
        activity: &ActivityEntry,
    ) -> Result<()> {
        self.with(|st| {
            let task = st.portal_task(attachment.portal_id, attachment.task_id)?;
            let tenant = st.portal_tenant(attachment.portal_id)?;
            attachment.ensure_belongs(task, tenant)?;
            activity.ensure_portal(attachment.portal_id)?;
            let count = st
                .attachments
                .values()
                .filter(|a| a.value.task_id == attachment.task_id)
                .count();
            may_add(count, max_per_task)?;
            if st.attachments.contains_key(&attachment.id) || st.blob_taken(attachment.blob) {
                return Err(Error::conflict(
                    "This attachment or its blob is already stored.",
                ));
            }
            let seq = st.seq();
            st.attachments.insert(
                attachment.id,
                Seq {
                    seq,
                    value: attachment.clone(),
                },
            );
            st.activity.push(activity.clone());
            Ok(())
        })
    }

    async fn task_attachments(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<TaskAttachment>> {
        self.with(|st| {
            st.portal_task(portal, task)?;
            Ok(st.attachments_where(|a| a.portal_id == portal && a.task_id == task))
        })
    }

    async fn portal_attachments(&self, portal: PortalId) -> Result<Vec<TaskAttachment>> {
        self.with(|st| {
            st.portal_tenant(portal)?;
            Ok(st.attachments_where(|a| a.portal_id == portal))
        })
    }

    async fn attachment(&self, portal: PortalId, id: AttachmentId) -> Result<TaskAttachment> {
        self.with(|st| {
            st.attachments
                .get(&id)
                .filter(|a| a.value.portal_id == portal)
                .map(|a| a.value.clone())
                .ok_or_else(|| not_found(Entity::File))
        })
    }

    async fn delete_attachment(
        &self,
        portal: PortalId,
        id: AttachmentId,
        activity: &ActivityEntry,
    ) -> Result<BlobId> {
        self.with(|st| {
            let blob = st
                .attachments
                .get(&id)
                .filter(|a| a.value.portal_id == portal)
                .map(|a| a.value.blob)
                .ok_or_else(|| not_found(Entity::File))?;
            activity.ensure_portal(portal)?;
            st.attachments.remove(&id);
            st.activity.push(activity.clone());
            Ok(blob)
        })
    }

    async fn record_document_open(&self, open: &DocumentOpen) -> Result<()> {
        self.with(|st| {
            st.portal_task(open.portal_id, open.task_id)?;
            let contact = st.contact(open.contact_id)?;
            if contact.portal_id != open.portal_id {
                return Err(not_found(Entity::Contact));
            }
            let seen = st.document_opens.iter().any(|o| {
                o.task_id == open.task_id
                    && o.contact_id == open.contact_id
                    && o.sha256 == open.sha256
            });
            if !seen {
                st.document_opens.push(open.clone());
            }
            Ok(())
        })
    }

    async fn document_opens(&self, portal: PortalId, task: TaskId) -> Result<Vec<DocumentOpen>> {
        self.with(|st| {
            st.portal_task(portal, task)?;
            let mut out: Vec<DocumentOpen> = st
                .document_opens
                .iter()
                .filter(|o| o.portal_id == portal && o.task_id == task)
                .cloned()
                .collect();
            // Stable: equal times stay in insertion (commit) order.
            out.sort_by_key(|o| o.at);
            Ok(out)
        })
    }
}
