//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::filedrop::{DropChange, DropDecision, DroppedFile, NewDropDecision};
use portal_core::ids::{BlobId, FileId};
use portal_core::store::FileDropStore;
use portal_core::{Entity, Error, PortalId, Result, TaskId};

use crate::PostgresStore;

#[async_trait]
impl FileDropStore for PostgresStore {
    async fn add_dropped_file(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: NewDropDecision,
    ) -> Result<DroppedFile> {
        Err(crate::not_ported("FileDropStore::add_dropped_file"))
    }

    async fn change_dropped_file(
        &self,
        portal: PortalId,
        file: FileId,
        decide: DropDecision,
    ) -> Result<DroppedFile> {
        Err(crate::not_ported("FileDropStore::change_dropped_file"))
    }

    async fn dropped_file(&self, portal: PortalId, file: FileId) -> Result<DroppedFile> {
        Err(crate::not_ported("FileDropStore::dropped_file"))
    }

    async fn dropped_files(&self, portal: PortalId, task: TaskId) -> Result<Vec<DroppedFile>> {
        Err(crate::not_ported("FileDropStore::dropped_files"))
    }

    async fn drops_to_sweep(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<DroppedFile>> {
        Err(crate::not_ported("FileDropStore::drops_to_sweep"))
    }

    async fn mark_drop_bytes_removed(&self, file: FileId) -> Result<bool> {
        Err(crate::not_ported("FileDropStore::mark_drop_bytes_removed"))
    }
}
