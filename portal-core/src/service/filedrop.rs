//! Secure file drop use cases: the client drops files (streamed, size-limited while
//! streaming, sealed into the blob store like documents), lists and deletes them; MSP
//! staff list and download them (each download audited, the first one marking the
//! file downloaded); the sweeper removes the bytes of expired and deleted files.
//!
//! Every "this file is gone" answer — missing, of another portal, deleted, expired —
//! is the one [`filedrop::not_available`] error, so no caller learns which.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::PortalService;
use super::workflow::client_actor;
use crate::blob::ByteStream;
use crate::blob::envelope::FileBinding;
use crate::error::{Entity, Error, Result};
use crate::filedrop::{self, DropDecision, DroppedFile, NewDrop, NewDropDecision};
use crate::ids::{BlobId, FileId, PortalId, TaskId};
use crate::model::{Task, TaskKind};
use crate::staff::{StaffContext, StaffRole};
use crate::store::ClientContext;

/// Files a sweep reads from the store at a time.
const SWEEP_BATCH: usize = 200;

/// Maps every "not there" of a dropped file to the one uniform answer.
fn uniform(e: Error) -> Error {
    match e {
        Error::NotFound {
            entity: Entity::File | Entity::Blob,
        } => filedrop::not_available(),
        other => other,
    }
}

impl PortalService {
    /// Drops a file on a secure file drop task of the client's own portal. Refused
    /// before a byte is stored: a task that is not a file drop or that the client may
    /// not act on. The content is sealed while it streams; more than
    /// [`filedrop::MAX_DROP_BYTES`] is `Error::TooLarge` and an empty file
    /// `Invalid("file")`, and then nothing is kept.
    pub async fn drop_file(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        file_name: &str,
        content: ByteStream,
    ) -> Result<DroppedFile> {
        let current = self.task(ctx, task).await?;
        if !matches!(current.kind, TaskKind::SecureFileDrop { .. }) {
            return Err(Error::conflict(crate::Reason::message(
                "reason-task-no-drops",
                &[],
            )));
        }
        let home = self.inner.store.portal_snapshot(ctx.portal_id).await?;
        crate::workflow::plan::client_may_act_in(&home, &current)?;
        let binding = FileBinding {
            tenant: ctx.tenant_id,
            portal: ctx.portal_id,
            task: Some(task),
            blob: BlobId::random(self.inner.random.as_ref()),
        };
        let vault = self.vault()?;
        let sealed = vault
            .seal(&binding, content, filedrop::MAX_DROP_BYTES)
            .await?;
        let new = NewDrop {
            id: FileId::random(self.inner.random.as_ref()),
            name: crate::files::clean_file_name(file_name, "file"),
            size: sealed.size,
            sha256: sealed.sha256,
            blob: sealed.blob,
            key: sealed.key,
        };
        let (actor, tenant, now) = (client_actor(ctx), ctx.tenant_id, self.inner.clock.now());
        let decide: NewDropDecision =
            Arc::new(move |t: &Task| filedrop::record_drop(t, &new, &actor, tenant, now));
        match self
            .inner
            .store
            .add_dropped_file(ctx.portal_id, task, decide)
            .await
        {
            Ok(file) => {
                tracing::info!(portal = %ctx.portal_id, task = %task, file = %file.id, size = file.size, "file dropped");
                Ok(file)
            }
            Err(e) => {
                self.discard_blob(binding.blob, "refused drop").await;
                Err(e)
            }
        }
    }

    /// The files dropped on a task of the client's own portal, every state, oldest
    /// first (the page shows the live ones with their time left).
    pub async fn dropped_files(
        &self,
        ctx: &ClientContext,
        task: TaskId,
    ) -> Result<Vec<DroppedFile>> {
        self.task(ctx, task).await?;
        self.inner.store.dropped_files(ctx.portal_id, task).await
    }

    /// The client deletes a file they dropped, until the MSP has downloaded it (then
    /// `Conflict`, saying so). Its bytes are removed right after the unit that marks
    /// it (if that fails, the sweeper removes them). Not available:
    /// [`filedrop::not_available`].
    pub async fn delete_dropped_file(
        &self,
        ctx: &ClientContext,
        file: FileId,
    ) -> Result<DroppedFile> {
        let stored = self
            .inner
            .store
            .dropped_file(ctx.portal_id, file)
            .await
            .map_err(uniform)?;
        // A file of a task the client cannot see is not theirs, not even by its id.
        self.task(ctx, stored.task_id)
            .await
            .map_err(|_| filedrop::not_available())?;
        let (actor, now) = (client_actor(ctx), self.inner.clock.now());
        let decide: DropDecision =
            Arc::new(move |t: &Task, f: &DroppedFile| filedrop::delete(t, f, &actor, now));
        let deleted = self
            .inner
            .store
            .change_dropped_file(ctx.portal_id, file, decide)
            .await
            .map_err(uniform)?;
        self.remove_drop_bytes(&deleted).await;
        Ok(deleted)
    }

    /// Removes a marked file's bytes and records it; failures are logged (the next
    /// sweep tries again). Answers whether the bytes are gone now.
    async fn remove_drop_bytes(&self, file: &DroppedFile) -> bool {
        let Ok(vault) = self.vault() else {
            return false;
        };
        if let Err(e) = vault.blobs().delete(file.blob).await {
            tracing::warn!(error = %e, file = %file.id, "could not remove a dropped file's bytes; the next sweep retries");
            return false;
        }
        match self.inner.store.mark_drop_bytes_removed(file.id).await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, file = %file.id, "could not record a dropped file's bytes as removed; the next sweep retries");
                false
            }
        }
    }

    /// The files dropped on a task of a portal of the staff member's tenant, every
    /// state, oldest first.
    pub async fn staff_dropped_files(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<DroppedFile>> {
        staff.require(StaffRole::Member, "reading dropped files")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.inner.store.task(portal.id, task).await?;
        self.inner.store.dropped_files(portal.id, task).await
    }

    /// MSP staff download a dropped file: its plaintext, streamed and decrypted. The
    /// unit that answers marks the first download (the client can no longer delete it)
    /// and appends `file_downloaded`; the content is opened before, so a file whose
    /// bytes cannot be read is not marked. Expired, deleted or missing:
    /// [`filedrop::not_available`].
    pub async fn download_dropped_file(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        file: FileId,
    ) -> Result<(DroppedFile, ByteStream)> {
        staff.require(StaffRole::Member, "downloading a dropped file")?;
        let portal = self.staff_portal(staff, portal).await?;
        let now = self.inner.clock.now();
        let stored = self
            .inner
            .store
            .dropped_file(portal.id, file)
            .await
            .map_err(uniform)?;
        if !stored.available(now) {
            return Err(filedrop::not_available());
        }
        let content = self
            .vault()?
            .open(&stored.binding(), &stored.key)
            .await
            .map_err(uniform)?;
        let actor = staff.actor();
        let decide: DropDecision =
            Arc::new(move |t: &Task, f: &DroppedFile| filedrop::download(t, f, &actor, now));
        let marked = self
            .inner
            .store
            .change_dropped_file(portal.id, file, decide)
            .await
            .map_err(uniform)?;
        Ok((marked, content))
    }

    /// Sweeps the file drops of the staff member's own tenant now (admin): see
    /// [`Self::sweep_file_drops`]. Answers how many files' bytes were removed.
    pub async fn staff_sweep_file_drops(&self, staff: &StaffContext) -> Result<u64> {
        staff.require(StaffRole::Admin, "sweeping expired files")?;
        let now = self.inner.clock.now();
        self.sweep(now, Some(staff.tenant)).await
    }

    /// The sweeper, for a host to schedule (and run in the background by
    /// [`spawn_file_drop_sweeper`]): marks every file whose `expires_at` has come
    /// (`now >= expires_at`) expired with its `file_expired` event, then removes the
    /// bytes of every expired or deleted file from the blob store and records it.
    /// Answers how many files' bytes it removed. Idempotent: a file already swept is
    /// not listed again; a crash between the mark and the removal leaves a marked,
    /// unreadable file that the next sweep finishes.
    pub async fn sweep_file_drops(&self, now: DateTime<Utc>) -> Result<u64> {
        self.sweep(now, None).await
    }

    async fn sweep(&self, now: DateTime<Utc>, tenant: Option<crate::ids::TenantId>) -> Result<u64> {
        let mut removed = 0;
        // Files this sweep leaves alone: another tenant's, changed meanwhile, or failed
        // (logged; the next sweep tries again). Listing past them keeps it moving.
        let mut skipped = std::collections::HashSet::new();
        loop {
            let batch = self
                .inner
                .store
                .drops_to_sweep(now, SWEEP_BATCH + skipped.len())
                .await?;
            let todo: Vec<DroppedFile> = batch
                .into_iter()
                .filter(|f| !skipped.contains(&f.id))
                .collect();
            if todo.is_empty() {
                break;
            }
            for file in todo {
                if tenant.is_some_and(|t| t != file.tenant_id) {
                    skipped.insert(file.id);
                    continue;
                }
                let marked = if file.marked_gone() {
                    Ok(file.clone())
                } else {
                    let decide: DropDecision =
                        Arc::new(move |t: &Task, f: &DroppedFile| filedrop::expire(t, f, now));
                    self.inner
                        .store
                        .change_dropped_file(file.portal_id, file.id, decide)
                        .await
                };
                match marked {
                    Ok(f) if self.remove_drop_bytes(&f).await => removed += 1,
                    Ok(_) => {
                        skipped.insert(file.id);
                    }
                    Err(e) => {
                        if !matches!(e, Error::Conflict { .. }) {
                            tracing::warn!(error = %e, file = %file.id, "could not mark a dropped file expired");
                        }
                        skipped.insert(file.id);
                    }
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "dropped files swept");
        }
        Ok(removed)
    }
}

#[cfg(feature = "tokio")]
mod background {
    use super::PortalService;

    /// Spawns the file drop sweeper on the current Tokio runtime: it runs
    /// [`PortalService::sweep_file_drops`] at the injected clock's now at once, then
    /// every `every` (expiry does not wait for it: an expired file is refused from its
    /// `expires_at` on; the sweep removes the bytes). A failed sweep is logged and
    /// retried at the next tick. The task runs until the handle is aborted.
    ///
    /// # Panics
    ///
    /// Panics when called outside a Tokio runtime, like [`tokio::spawn`].
    pub fn spawn_file_drop_sweeper(
        service: PortalService,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let every = every.max(std::time::Duration::from_millis(10));
        tokio::spawn(async move {
            loop {
                let now = service.clock().now();
                if let Err(e) = service.sweep_file_drops(now).await {
                    tracing::warn!(error = %e, "a file drop sweep failed; retrying at the next tick");
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}

#[cfg(feature = "tokio")]
pub use background::spawn_file_drop_sweeper;
