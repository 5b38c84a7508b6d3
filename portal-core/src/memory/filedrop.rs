//! [`FileDropStore`] for [`MemoryStore`]: dropped files by id under the one lock; every
//! check runs before the first write, so a refused unit changes nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, Seq, State, not_found};
use crate::error::{Entity, Error, Result};
use crate::filedrop::{DropChange, DropDecision, DroppedFile, NewDropDecision};
use crate::ids::{FileId, PortalId, TaskId};
use crate::store::FileDropStore;

impl State {
    /// A dropped file of `portal` (`NotFound(File)` otherwise).
    fn drop_of(&self, portal: PortalId, file: FileId) -> Result<&Seq<DroppedFile>> {
        match self.drops.get(&file) {
            Some(d) if d.value.portal_id == portal => Ok(d),
            _ => Err(not_found(Entity::File)),
        }
    }

    /// Checks a change's audit event and feed entry, then writes the file, the entry
    /// and the event.
    fn write_drop(&mut self, change: &DropChange, seq: u64) -> Result<DroppedFile> {
        let tenant = self.portal_tenant(change.file.portal_id)?;
        change.ensure_portal(tenant)?;
        self.append_audit(&change.audit)?;
        self.activity.push(change.activity.clone());
        self.drops.insert(
            change.file.id,
            Seq {
                seq,
                value: change.file.clone(),
            },
        );
        Ok(change.file.clone())
    }
}

#[async_trait]
impl FileDropStore for MemoryStore {
    async fn add_dropped_file(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: NewDropDecision,
    ) -> Result<DroppedFile> {
        self.with(|st| {
            let current = st.portal_task(portal, task)?;
            let change = decide(current)?;
            let tenant = st.portal_tenant(portal)?;
            change.file.ensure_belongs(current, tenant)?;
            change.ensure_portal(tenant)?;
            let blob = change.file.blob;
            if st.drops.contains_key(&change.file.id)
                || st.drops.values().any(|d| d.value.blob == blob)
                || st.files.values().any(|f| f.value.blob == blob)
            {
                return Err(Error::conflict(
                    "a file with this id or blob is already stored",
                ));
            }
            let seq = st.seq();
            st.write_drop(&change, seq)
        })
    }

    async fn change_dropped_file(
        &self,
        portal: PortalId,
        file: FileId,
        decide: DropDecision,
    ) -> Result<DroppedFile> {
        self.with(|st| {
            let stored = st.drop_of(portal, file)?;
            let seq = stored.seq;
            let stored = stored.value.clone();
            let task = st.portal_task(portal, stored.task_id)?;
            let change = decide(task, &stored)?;
            stored.ensure_same_file(&change.file)?;
            st.write_drop(&change, seq)
        })
    }

    async fn dropped_file(&self, portal: PortalId, file: FileId) -> Result<DroppedFile> {
        self.with(|st| st.drop_of(portal, file).map(|d| d.value.clone()))
    }

    async fn dropped_files(&self, portal: PortalId, task: TaskId) -> Result<Vec<DroppedFile>> {
        self.with(|st| {
            let mut v: Vec<&Seq<DroppedFile>> = st
                .drops
                .values()
                .filter(|d| d.value.portal_id == portal && d.value.task_id == task)
                .collect();
            v.sort_by_key(|d| (d.value.uploaded_at, d.seq));
            Ok(v.into_iter().map(|d| d.value.clone()).collect())
        })
    }

    async fn drops_to_sweep(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<DroppedFile>> {
        self.with(|st| {
            let mut v: Vec<&DroppedFile> = st
                .drops
                .values()
                .map(|d| &d.value)
                .filter(|d| d.needs_sweep(now))
                .collect();
            v.sort_by_key(|d| (d.expires_at, d.id));
            Ok(v.into_iter().take(limit).cloned().collect())
        })
    }

    async fn mark_drop_bytes_removed(&self, file: FileId) -> Result<bool> {
        self.with(|st| {
            let d = st
                .drops
                .get_mut(&file)
                .ok_or_else(|| not_found(Entity::File))?;
            if !d.value.marked_gone() {
                return Err(Error::conflict(
                    "a dropped file's bytes stay until it is deleted or expired",
                ));
            }
            let changed = !d.value.bytes_removed;
            d.value.bytes_removed = true;
            Ok(changed)
        })
    }
}
