//! Secure file drop: the rules of a dropped file's life, as pure functions.
//!
//! A client drops sensitive files on a secure file drop task; each is sealed into a
//! blob like an uploaded document ([`crate::blob::envelope::FileVault`]) and recorded
//! as a [`DroppedFile`] whose `expires_at` is its upload time plus the task's
//! `expires_after_days`, exactly. A file is **available** (listed as live, downloadable
//! by the MSP) while it is neither deleted nor marked expired and `now < expires_at`:
//! available at `expires_at - 1 s`, gone at `expires_at` ([`DroppedFile::available`]).
//!
//! Each step is a rule answering a [`DropChange`] (the file as it must be stored, its
//! audit event, its feed entry) that a [`crate::store::FileDropStore`] writes in one
//! unit: [`record_drop`] (client), [`delete`] (client, only until the MSP downloaded
//! the file), [`download`] (staff: marks the first download, audits every one) and
//! [`expire`] (the sweeper, once `expires_at` has come). The sweeper then removes the
//! bytes from the blob store and [`crate::store::FileDropStore::mark_drop_bytes_removed`]
//! records it; a crash between the two leaves a marked file (unreadable: the rules
//! refuse it) whose bytes a later sweep removes.
//!
//! Expired, deleted and missing files answer the same error, [`not_available`]
//! (`NotFound(File)`), so a caller learns nothing about which happened.

use chrono::{DateTime, TimeDelta, Utc};

use crate::audit::{AuditEntry, AuditEvent};
use crate::blob::envelope::FileBinding;
use crate::blob::keyring::WrappedKey;
use crate::error::{Entity, Error, Result};
use crate::ids::{BlobId, FileId, PortalId, TaskId, TenantId};
use crate::model::{Side, Task, TaskKind};
use crate::workflow::{ActivityEntry, ActivityKind, Actor, CheckMark};

/// The largest file a client may drop: 100 MiB, as for a requested document.
pub const MAX_DROP_BYTES: u64 = crate::workflow::documents::DEFAULT_MAX_BYTES;

/// A dropped file as stored. The bytes are in a blob; this is everything else.
#[derive(Clone, PartialEq, Eq)]
pub struct DroppedFile {
    /// Its id.
    pub id: FileId,
    /// The MSP.
    pub tenant_id: TenantId,
    /// The portal.
    pub portal_id: PortalId,
    /// The secure file drop task.
    pub task_id: TaskId,
    /// The client's file name, cleaned ([`crate::files::clean_file_name`]).
    pub name: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// The blob with the encrypted content.
    pub blob: BlobId,
    /// The file's data key, wrapped by the keyring.
    pub key: WrappedKey,
    /// Who dropped it.
    pub uploaded_by: Actor,
    /// When.
    pub uploaded_at: DateTime<Utc>,
    /// The first instant it is no longer available: `uploaded_at` plus the task's
    /// `expires_after_days`.
    pub expires_at: DateTime<Utc>,
    /// Who downloaded it first, and when (MSP staff).
    pub downloaded: Option<CheckMark>,
    /// Who deleted it, and when (the client, before any download).
    pub deleted: Option<CheckMark>,
    /// When the sweeper marked it expired.
    pub expired_at: Option<DateTime<Utc>>,
    /// Whether its bytes were removed from the blob store (after a delete or expiry).
    pub bytes_removed: bool,
}

impl std::fmt::Debug for DroppedFile {
    /// Everything but the wrapped key's bytes (a name and a size are not the content,
    /// but a key has no business in a log line).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DroppedFile")
            .field("id", &self.id)
            .field("portal_id", &self.portal_id)
            .field("task_id", &self.task_id)
            .field("name", &self.name)
            .field("size", &self.size)
            .field("uploaded_at", &self.uploaded_at)
            .field("expires_at", &self.expires_at)
            .field("downloaded", &self.downloaded.is_some())
            .field("deleted", &self.deleted.is_some())
            .field("expired_at", &self.expired_at)
            .field("bytes_removed", &self.bytes_removed)
            .finish_non_exhaustive()
    }
}

impl DroppedFile {
    /// What its encrypted content is bound to.
    pub fn binding(&self) -> FileBinding {
        FileBinding {
            tenant: self.tenant_id,
            portal: self.portal_id,
            task: Some(self.task_id),
            blob: self.blob,
        }
    }

    /// Whether it may be listed as live and downloaded at `now`: not deleted, not
    /// marked expired, and `now < expires_at` (gone at `expires_at` exactly, even
    /// before the sweeper has marked it).
    pub fn available(&self, now: DateTime<Utc>) -> bool {
        self.deleted.is_none() && self.expired_at.is_none() && now < self.expires_at
    }

    /// Whether a delete or an expiry was recorded: its bytes must go (the sweeper
    /// removes them if they are still there).
    pub const fn marked_gone(&self) -> bool {
        self.deleted.is_some() || self.expired_at.is_some()
    }

    /// Whether the sweeper has work on it at `now`: due to be marked expired, or
    /// marked gone with its bytes still stored.
    pub fn needs_sweep(&self, now: DateTime<Utc>) -> bool {
        !self.bytes_removed && (self.marked_gone() || now >= self.expires_at)
    }

    /// The time left until it expires, if it is still available.
    pub fn time_left(&self, now: DateTime<Utc>) -> Option<TimeDelta> {
        self.available(now).then(|| self.expires_at - now)
    }

    /// Checks that a new record belongs to `task` (a secure file drop task of the same
    /// portal, tenant `tenant`) and starts its life unmarked; stores call it before
    /// inserting (`Invalid("file")`).
    pub fn ensure_belongs(&self, task: &Task, tenant: TenantId) -> Result<()> {
        let ok = self.tenant_id == tenant
            && self.portal_id == task.portal_id
            && self.task_id == task.id
            && matches!(task.kind, TaskKind::SecureFileDrop { .. })
            && self.downloaded.is_none()
            && self.deleted.is_none()
            && self.expired_at.is_none()
            && !self.bytes_removed;
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "file",
                "must be a new dropped file of a secure file drop task of this portal",
            ))
        }
    }

    /// Checks that `next` is this record with only its marks changed (downloaded,
    /// deleted, expired): stores call it before writing a change (`Invalid("file")`).
    pub fn ensure_same_file(&self, next: &Self) -> Result<()> {
        let same = Self {
            downloaded: next.downloaded.clone(),
            deleted: next.deleted.clone(),
            expired_at: next.expired_at,
            bytes_removed: self.bytes_removed,
            ..self.clone()
        };
        if &same == next {
            Ok(())
        } else {
            Err(Error::invalid(
                "file",
                "a change may only set a dropped file's download, delete or expiry",
            ))
        }
    }
}

/// The answer for a dropped file that is missing, of another portal, deleted or
/// expired: one and the same, so nobody learns which.
pub fn not_available() -> Error {
    Error::NotFound {
        entity: Entity::File,
    }
}

/// When a file dropped at `uploaded_at` on `task` expires: exactly
/// `expires_after_days` days later (`Conflict` if `task` is not a file drop).
pub fn expiry(task: &Task, uploaded_at: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let TaskKind::SecureFileDrop { expires_after_days } = task.kind else {
        return Err(Error::conflict(crate::Reason::message(
            "reason-task-no-drops",
            &[],
        )));
    };
    Ok(uploaded_at + TimeDelta::days(i64::from(expires_after_days)))
}

/// What a file drop step writes, in one store unit.
#[derive(Debug, Clone)]
pub struct DropChange {
    /// The file as it must be stored.
    pub file: DroppedFile,
    /// Its audit event (appended to the portal's chain in the same unit).
    pub audit: AuditEntry,
    /// Its feed entry.
    pub activity: ActivityEntry,
}

impl DropChange {
    /// Checks that the audit event and feed entry belong to the file's portal
    /// (`Invalid("audit")` / `Invalid("activity")`), before a store writes anything.
    pub fn ensure_portal(&self, tenant: TenantId) -> Result<()> {
        crate::audit::ensure_portal(&self.audit, self.file.portal_id, tenant)?;
        self.activity.ensure_portal(self.file.portal_id)
    }
}

/// Decides a new drop from the task as stored (a store calls it inside its unit).
pub type NewDropDecision = std::sync::Arc<dyn Fn(&Task) -> Result<DropChange> + Send + Sync>;
/// Decides a change of a stored file from its task and the file as stored.
pub type DropDecision =
    std::sync::Arc<dyn Fn(&Task, &DroppedFile) -> Result<DropChange> + Send + Sync>;

/// The sealed content of a new drop, before it has a record.
#[derive(Debug, Clone)]
pub struct NewDrop {
    /// The record's id.
    pub id: FileId,
    /// The cleaned file name.
    pub name: String,
    /// Plaintext size.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// The blob holding it.
    pub blob: BlobId,
    /// Its wrapped data key.
    pub key: WrappedKey,
}

fn entry(
    file: &DroppedFile,
    task: &Task,
    actor: &Actor,
    now: DateTime<Utc>,
    kind: ActivityKind,
    event: &AuditEvent,
) -> (AuditEntry, ActivityEntry) {
    (
        AuditEntry::new(file.tenant_id, file.portal_id, now, actor.clone(), event),
        ActivityEntry {
            portal_id: file.portal_id,
            at: now,
            actor: actor.clone(),
            kind,
            task_id: Some(task.id),
            subject: task.title.clone(),
            detail: Some(file.name.clone()),
        },
    )
}

/// A client drops a file on a secure file drop task they may act on: recorded
/// unmarked, expiring [`expiry`] after `now`, with `FileDropped` and its feed entry.
pub fn record_drop(
    task: &Task,
    new: &NewDrop,
    actor: &Actor,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<DropChange> {
    if actor.side() != Side::Client {
        return Err(Error::Forbidden {
            reason: "only the client drops files".into(),
        });
    }
    let expires_at = expiry(task, now)?;
    crate::workflow::actions::client_may_act(task)?;
    if new.size == 0 {
        return Err(Error::invalid(
            "file",
            crate::Reason::message("reason-file-empty", &[]),
        ));
    }
    let file = DroppedFile {
        id: new.id,
        tenant_id: tenant,
        portal_id: task.portal_id,
        task_id: task.id,
        name: new.name.clone(),
        size: new.size,
        sha256: new.sha256,
        blob: new.blob,
        key: new.key.clone(),
        uploaded_by: actor.clone(),
        uploaded_at: now,
        expires_at,
        downloaded: None,
        deleted: None,
        expired_at: None,
        bytes_removed: false,
    };
    let (audit, activity) = entry(
        &file,
        task,
        actor,
        now,
        ActivityKind::FileDropped,
        &AuditEvent::FileDropped {
            task: task.id,
            file: file.id,
            size: file.size,
            sha256: file.sha256,
        },
    );
    Ok(DropChange {
        file,
        audit,
        activity,
    })
}

/// The client deletes a file they dropped, while it is available and the MSP has not
/// downloaded it (then `Conflict`, saying so). Not available: [`not_available`].
pub fn delete(
    task: &Task,
    file: &DroppedFile,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<DropChange> {
    if actor.side() != Side::Client {
        return Err(Error::Forbidden {
            reason: "only the client deletes a dropped file".into(),
        });
    }
    if file.task_id != task.id || !file.available(now) {
        return Err(not_available());
    }
    if let Some(d) = &file.downloaded {
        return Err(Error::conflict(crate::Reason::message(
            "reason-drop-downloaded",
            &[
                ("name", file.name.as_str().into()),
                ("on", d.at.format("%Y-%m-%d").to_string().into()),
            ],
        )));
    }
    let mut next = file.clone();
    next.deleted = Some(CheckMark {
        by: actor.clone(),
        at: now,
    });
    let (audit, activity) = entry(
        &next,
        task,
        actor,
        now,
        ActivityKind::FileDeleted,
        &AuditEvent::FileDeleted {
            task: task.id,
            file: file.id,
        },
    );
    Ok(DropChange {
        file: next,
        audit,
        activity,
    })
}

/// MSP staff download an available file: the first download is kept as the file's
/// `downloaded` mark (after which the client can no longer delete it); every download
/// is a `FileDownloaded` event and a feed entry. Not available: [`not_available`].
pub fn download(
    task: &Task,
    file: &DroppedFile,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<DropChange> {
    if actor.side() != Side::Msp {
        return Err(Error::Forbidden {
            reason: "only your MSP downloads dropped files".into(),
        });
    }
    if file.task_id != task.id || !file.available(now) {
        return Err(not_available());
    }
    let mut next = file.clone();
    if next.downloaded.is_none() {
        next.downloaded = Some(CheckMark {
            by: actor.clone(),
            at: now,
        });
    }
    let (audit, activity) = entry(
        &next,
        task,
        actor,
        now,
        ActivityKind::FileDownloaded,
        &AuditEvent::FileDownloaded {
            task: task.id,
            file: file.id,
        },
    );
    Ok(DropChange {
        file: next,
        audit,
        activity,
    })
}

/// Who the sweeper's events name.
pub fn sweeper() -> Actor {
    Actor::Staff {
        name: "Automatic expiry".into(),
        email: None,
    }
}

/// The sweeper marks a file expired once `now >= expires_at`, with `FileExpired` and
/// its feed entry. A file not due yet, deleted, or already marked is `Conflict`
/// (nothing to do: a later or concurrent sweep got there).
pub fn expire(task: &Task, file: &DroppedFile, now: DateTime<Utc>) -> Result<DropChange> {
    if file.task_id != task.id {
        return Err(not_available());
    }
    if file.marked_gone() || now < file.expires_at {
        return Err(Error::conflict("This file is not due to expire."));
    }
    let mut next = file.clone();
    next.expired_at = Some(now);
    let (audit, activity) = entry(
        &next,
        task,
        &sweeper(),
        now,
        ActivityKind::FileExpired,
        &AuditEvent::FileExpired {
            task: task.id,
            file: file.id,
        },
    );
    Ok(DropChange {
        file: next,
        audit,
        activity,
    })
}

#[cfg(test)]
mod tests;
