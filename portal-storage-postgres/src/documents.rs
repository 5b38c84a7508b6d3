//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::blob::rotation::{SealedAt, SealedKey, SealedKind};
use portal_core::ids::{BlobId, FileId};
use portal_core::store::DocumentStore;
use portal_core::workflow::documents::{FileDecision, UploadDecision};
use portal_core::workflow::{DocumentFile, FileReview};
use portal_core::{Entity, Error, PortalId, Result, TaskId, TenantId};

use crate::PostgresStore;

#[async_trait]
impl DocumentStore for PostgresStore {

    async fn add_document_file(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: UploadDecision,
    ) -> Result<DocumentFile> {
        Err(crate::not_ported("DocumentStore::add_document_file"))
    }

    async fn update_document_file(
        &self,
        portal: PortalId,
        file: FileId,
        decide: FileDecision,
    ) -> Result<DocumentFile> {
        Err(crate::not_ported("DocumentStore::update_document_file"))
    }

    async fn document_file(&self, portal: PortalId, file: FileId) -> Result<DocumentFile> {
        Err(crate::not_ported("DocumentStore::document_file"))
    }

    async fn document_files(&self, portal: PortalId) -> Result<Vec<DocumentFile>> {
        Err(crate::not_ported("DocumentStore::document_files"))
    }

    async fn review_queue(&self, tenant: TenantId, limit: usize) -> Result<Vec<DocumentFile>> {
        Err(crate::not_ported("DocumentStore::review_queue"))
    }

    async fn files_to_rewrap(
        &self,
        active: &KeyId,
        after: Option<FileId>,
        limit: usize,
    ) -> Result<Vec<DocumentFile>> {
        Err(crate::not_ported("DocumentStore::files_to_rewrap"))
    }

    async fn replace_file_key(
        &self,
        file: FileId,
        expected: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool> {
        Err(crate::not_ported("DocumentStore::replace_file_key"))
    }

    async fn sealed_keys_to_rewrap(
        &self,
        kind: SealedKind,
        active: &KeyId,
        after: Option<SealedAt>,
        limit: usize,
    ) -> Result<Vec<SealedKey>> {
        Err(crate::not_ported("DocumentStore::sealed_keys_to_rewrap"))
    }

    async fn replace_sealed_key(
        &self,
        kind: SealedKind,
        at: SealedAt,
        expected: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool> {
        Err(crate::not_ported("DocumentStore::replace_sealed_key"))
    }

    async fn blob_in_use(&self, blob: BlobId) -> Result<bool> {
        Err(crate::not_ported("DocumentStore::blob_in_use"))
    }
}

/// The tenant of a portal, as stored (the file a decision returns must name it).
pub(crate) fn portal_tenant(tx: &mut crate::tx::Tx<'_>, portal: PortalId) -> Result<TenantId> {
    let row = tx
        .query_opt(
            "SELECT tenant_id FROM portals WHERE id = $1",
            &[&&portal.as_bytes()[..]],
        )
        .map_err(|e| crate::codec::map_error("reading a portal's tenant", e))?
        .ok_or(Error::NotFound {
            entity: Entity::Portal,
        })?;
    crate::codec::tenant_id(&row, 0)
}
