//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use portal_core::attachments::{DocumentOpen, TaskAttachment, may_add};
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::ids::{AttachmentId, BlobId};
use portal_core::store::AttachmentStore;
use portal_core::workflow::ActivityEntry;
use portal_core::{Entity, Error, PortalId, Result, TaskId};

use crate::PostgresStore;

#[async_trait]
impl AttachmentStore for PostgresStore {

    async fn add_attachment(
        &self,
        attachment: &TaskAttachment,
        max_per_task: usize,
        activity: &ActivityEntry,
    ) -> Result<()> {
        Err(crate::not_ported("AttachmentStore::add_attachment"))
    }

    async fn task_attachments(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<TaskAttachment>> {
        Err(crate::not_ported("AttachmentStore::task_attachments"))
    }

    async fn portal_attachments(&self, portal: PortalId) -> Result<Vec<TaskAttachment>> {
        Err(crate::not_ported("AttachmentStore::portal_attachments"))
    }

    async fn attachment(&self, portal: PortalId, id: AttachmentId) -> Result<TaskAttachment> {
        Err(crate::not_ported("AttachmentStore::attachment"))
    }

    async fn delete_attachment(
        &self,
        portal: PortalId,
        id: AttachmentId,
        activity: &ActivityEntry,
    ) -> Result<BlobId> {
        Err(crate::not_ported("AttachmentStore::delete_attachment"))
    }

    async fn record_document_open(&self, open: &DocumentOpen) -> Result<()> {
        Err(crate::not_ported("AttachmentStore::record_document_open"))
    }

    async fn document_opens(&self, portal: PortalId, task: TaskId) -> Result<Vec<DocumentOpen>> {
        Err(crate::not_ported("AttachmentStore::document_opens"))
    }
}
