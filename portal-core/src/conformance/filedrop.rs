//! Conformance checks of [`crate::store::FileDropStore`]: drops and their changes each
//! with their audit event and feed entry in one unit, refusals that write nothing,
//! portal scoping, the delete-versus-download race (exactly one wins), the sweeper's
//! listing and byte marks, blobs in use, and erasure.

use std::sync::Arc;

use super::race::race_all;
use super::support::{World, assert_err, client, mins, secs, staff, t0, world};
use super::workflow::task_in;
use crate::blob::keyring::{KeyId, WrappedKey};
use crate::error::{Entity, Error};
use crate::filedrop::{self, DropDecision, DroppedFile, NewDrop, NewDropDecision};
use crate::ids::{BlobId, FileId, PortalId};
use crate::model::{Task, TaskKind};
use crate::random::OsRandom;
use crate::store::{Erasure, Store};
use crate::workflow::{ActivityKind, Actor};

fn new_drop(name: &str) -> NewDrop {
    NewDrop {
        id: FileId::random(&OsRandom),
        name: name.to_owned(),
        size: 4096,
        sha256: [9; 32],
        blob: BlobId::random(&OsRandom),
        key: WrappedKey {
            key_id: KeyId::parse("k1").unwrap(),
            bytes: vec![7; 40],
        },
    }
}

async fn drop_task(store: &dyn Store, w: &World) -> Task {
    task_in(
        store,
        w,
        TaskKind::SecureFileDrop {
            expires_after_days: 7,
        },
    )
    .await
}

/// The service's decision for a drop by the world's contact at `at`.
pub(super) fn dropping(
    w: &World,
    new: NewDrop,
    at: chrono::DateTime<chrono::Utc>,
) -> NewDropDecision {
    let (actor, tenant) = (client(&w.contact), w.tenant.id);
    Arc::new(move |t: &Task| filedrop::record_drop(t, &new, &actor, tenant, at))
}

fn deleting(actor: Actor, at: chrono::DateTime<chrono::Utc>) -> DropDecision {
    Arc::new(move |t: &Task, f: &DroppedFile| filedrop::delete(t, f, &actor, at))
}

fn downloading(at: chrono::DateTime<chrono::Utc>) -> DropDecision {
    Arc::new(move |t: &Task, f: &DroppedFile| filedrop::download(t, f, &staff(), at))
}

fn expiring(at: chrono::DateTime<chrono::Utc>) -> DropDecision {
    Arc::new(move |t: &Task, f: &DroppedFile| filedrop::expire(t, f, at))
}

async fn chain(store: &dyn Store, portal: PortalId) -> Vec<String> {
    store
        .audit_events(portal, 0, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.entry.kind)
        .collect()
}

async fn feed(store: &dyn Store, portal: PortalId) -> Vec<ActivityKind> {
    let mut v: Vec<ActivityKind> = store
        .activity(portal, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    v.reverse();
    v
}

async fn dropped(
    store: &dyn Store,
    w: &World,
    task: &Task,
    name: &str,
    minute: i64,
) -> DroppedFile {
    store
        .add_dropped_file(
            w.portal.id,
            task.id,
            dropping(w, new_drop(name), t0() + mins(minute)),
        )
        .await
        .unwrap()
}

/// `add_dropped_file` stores the file as decided with its `file_dropped` event and
/// feed entry; reads are scoped by portal; listings are oldest first; the blob is in
/// use.
pub async fn file_drops_recorded_with_their_events(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let task = drop_task(store, &w).await;
    let first = dropped(store, &w, &task, "diagram.pdf", 2).await;
    let second = dropped(store, &w, &task, "firewall.conf", 1).await;
    assert_eq!(
        first.expires_at,
        t0() + mins(2) + chrono::TimeDelta::days(7)
    );
    assert_eq!(
        store.dropped_file(w.portal.id, first.id).await.unwrap(),
        first,
        "a dropped file reads back as stored"
    );
    assert_eq!(
        store.dropped_files(w.portal.id, task.id).await.unwrap(),
        vec![second.clone(), first.clone()],
        "a task's files are listed oldest drop first"
    );
    assert_eq!(chain(store, w.portal.id).await, ["file_dropped"; 2]);
    let kinds = feed(store, w.portal.id).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ActivityKind::FileDropped)
            .count(),
        2,
        "each drop has its feed entry"
    );
    assert!(store.blob_in_use(first.blob).await.unwrap());
    // Another portal sees nothing of it and cannot drop on the task.
    assert_err!(
        store.dropped_file(other.portal.id, first.id).await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert!(
        store
            .dropped_files(other.portal.id, task.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_err!(
        store
            .add_dropped_file(
                other.portal.id,
                task.id,
                dropping(&other, new_drop("x.pdf"), t0())
            )
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store
            .change_dropped_file(other.portal.id, first.id, downloading(t0() + mins(3)))
            .await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert_eq!(
        store.dropped_file(w.portal.id, first.id).await.unwrap(),
        first
    );
    assert!(chain(store, other.portal.id).await.is_empty());
}

/// Refused drops and changes write nothing: a refusing decision, an id or blob that
/// exists, a record of another tenant, an event of another portal, a change that
/// touches more than the marks.
pub async fn file_drop_refusals_write_nothing(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let task = drop_task(store, &w).await;
    let kept = dropped(store, &w, &task, "kept.pdf", 1).await;
    let before = (
        chain(store, w.portal.id).await,
        feed(store, w.portal.id).await,
    );
    let refuse: NewDropDecision = Arc::new(|_: &Task| Err(Error::conflict("no")));
    assert_err!(
        store.add_dropped_file(w.portal.id, task.id, refuse).await,
        Error::Conflict { .. }
    );
    let same_id = NewDrop {
        id: kept.id,
        ..new_drop("again.pdf")
    };
    assert_err!(
        store
            .add_dropped_file(w.portal.id, task.id, dropping(&w, same_id, t0() + mins(2)))
            .await,
        Error::Conflict { .. }
    );
    let same_blob = NewDrop {
        blob: kept.blob,
        ..new_drop("again.pdf")
    };
    assert_err!(
        store
            .add_dropped_file(
                w.portal.id,
                task.id,
                dropping(&w, same_blob, t0() + mins(2))
            )
            .await,
        Error::Conflict { .. }
    );
    // A record naming another tenant; an audit event of another portal.
    let foreign = dropping(&other, new_drop("foreign.pdf"), t0() + mins(2));
    let foreign_tenant: NewDropDecision = Arc::new(move |t: &Task| foreign(t));
    assert_err!(
        store
            .add_dropped_file(w.portal.id, task.id, foreign_tenant)
            .await,
        Error::Invalid { .. }
    );
    let ours = dropping(&w, new_drop("foreign-event.pdf"), t0() + mins(2));
    let other_portal = other.portal.id;
    let foreign_event: NewDropDecision = Arc::new(move |t: &Task| {
        let mut c = ours(t)?;
        c.audit.portal_id = other_portal;
        Ok(c)
    });
    assert_err!(
        store
            .add_dropped_file(w.portal.id, task.id, foreign_event)
            .await,
        Error::Invalid { .. }
    );
    // A change that renames the file, or whose decision errs.
    let renaming: DropDecision = Arc::new(|t: &Task, f: &DroppedFile| {
        let mut c = filedrop::download(t, f, &staff(), t0() + mins(3))?;
        c.file.name = "renamed.pdf".into();
        Ok(c)
    });
    assert_err!(
        store
            .change_dropped_file(w.portal.id, kept.id, renaming)
            .await,
        Error::Invalid { .. }
    );
    assert_err!(
        store
            .change_dropped_file(w.portal.id, kept.id, deleting(staff(), t0() + mins(3)))
            .await,
        Error::Forbidden { .. }
    );
    assert_eq!(
        store.dropped_files(w.portal.id, task.id).await.unwrap(),
        vec![kept],
        "a refused drop or change wrote nothing"
    );
    assert_eq!(
        (
            chain(store, w.portal.id).await,
            feed(store, w.portal.id).await
        ),
        before,
        "a refused drop or change appended no event and no feed entry"
    );
}

/// `change_dropped_file` writes the marks the rule decides, with the event and feed
/// entry: a delete, a download (then a delete is refused), an expiry.
pub async fn file_drop_changes_with_their_events(store: &dyn Store) {
    let w = world(store).await;
    let task = drop_task(store, &w).await;
    let a = dropped(store, &w, &task, "a.pdf", 1).await;
    let b = dropped(store, &w, &task, "b.pdf", 2).await;
    let c = dropped(store, &w, &task, "c.pdf", 3).await;
    let deleted = store
        .change_dropped_file(
            w.portal.id,
            a.id,
            deleting(client(&w.contact), t0() + mins(10)),
        )
        .await
        .unwrap();
    assert_eq!(deleted.deleted.as_ref().unwrap().at, t0() + mins(10));
    assert_eq!(
        store.dropped_file(w.portal.id, a.id).await.unwrap(),
        deleted,
        "the delete is stored"
    );
    let got = store
        .change_dropped_file(w.portal.id, b.id, downloading(t0() + mins(11)))
        .await
        .unwrap();
    assert_eq!(got.downloaded.as_ref().unwrap().by, staff());
    assert_err!(
        store
            .change_dropped_file(
                w.portal.id,
                b.id,
                deleting(client(&w.contact), t0() + mins(12))
            )
            .await,
        Error::Conflict { .. }
    );
    let due = c.expires_at;
    let expired = store
        .change_dropped_file(w.portal.id, c.id, expiring(due))
        .await
        .unwrap();
    assert_eq!(expired.expired_at, Some(due));
    assert_eq!(
        chain(store, w.portal.id).await,
        [
            "file_dropped",
            "file_dropped",
            "file_dropped",
            "file_deleted",
            "file_downloaded",
            "file_expired"
        ]
    );
    let kinds = feed(store, w.portal.id).await;
    for k in [
        ActivityKind::FileDeleted,
        ActivityKind::FileDownloaded,
        ActivityKind::FileExpired,
    ] {
        assert!(kinds.contains(&k), "no feed entry {k:?} in {kinds:?}");
    }
}

/// A delete and a download of one file, racing: exactly one wins, and the file is
/// stored as the winner left it (deleted and never downloaded, or downloaded and not
/// deleted), with exactly one event for the pair.
pub async fn concurrent_delete_and_download(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let task = drop_task(store.as_ref(), &w).await;
    for round in 0..8 {
        let f = dropped(store.as_ref(), &w, &task, "race.pdf", round).await;
        let before = chain(store.as_ref(), w.portal.id).await.len();
        let (s1, s2) = (store.clone(), store.clone());
        let (portal, file, who) = (w.portal.id, f.id, client(&w.contact));
        let at = t0() + mins(30);
        let outcomes = race_all(vec![
            Box::pin(async move {
                s1.change_dropped_file(portal, file, deleting(who, at))
                    .await
                    .is_ok()
            }) as std::pin::Pin<Box<dyn Future<Output = bool> + Send>>,
            Box::pin(async move {
                s2.change_dropped_file(portal, file, downloading(at))
                    .await
                    .is_ok()
            }),
        ])
        .await;
        assert_eq!(
            outcomes.iter().filter(|ok| **ok).count(),
            1,
            "exactly one of a racing delete and download wins: {outcomes:?}"
        );
        let stored = store.dropped_file(w.portal.id, f.id).await.unwrap();
        assert_eq!(
            stored.deleted.is_some(),
            outcomes[0],
            "the file is deleted iff the delete won"
        );
        assert_eq!(
            stored.downloaded.is_some(),
            outcomes[1],
            "the file is downloaded iff the download won"
        );
        assert_eq!(chain(store.as_ref(), w.portal.id).await.len(), before + 1);
    }
}

/// `drops_to_sweep` lists a file from its `expires_at` on (not a second before), and
/// marked files until their bytes are removed; `mark_drop_bytes_removed` refuses an
/// unmarked file and answers `false` the second time; a removed file's blob is no
/// longer in use.
pub async fn file_drop_sweep_marks(store: &dyn Store) {
    let w = world(store).await;
    let task = drop_task(store, &w).await;
    let f = dropped(store, &w, &task, "sweep.pdf", 1).await;
    let gone = dropped(store, &w, &task, "gone.pdf", 2).await;
    let due = f.expires_at;
    let listed = |v: Vec<DroppedFile>, id: FileId| v.iter().any(|d| d.id == id);
    assert!(
        !listed(
            store
                .drops_to_sweep(due - secs(1), usize::MAX)
                .await
                .unwrap(),
            f.id
        ),
        "a file is not due a second before its expiry"
    );
    assert!(
        listed(store.drops_to_sweep(due, usize::MAX).await.unwrap(), f.id),
        "a file is due at its expiry"
    );
    assert_eq!(store.drops_to_sweep(due, 0).await.unwrap(), Vec::new());
    assert_err!(
        store.mark_drop_bytes_removed(f.id).await,
        Error::Conflict { .. }
    );
    assert_err!(
        store
            .mark_drop_bytes_removed(FileId::random(&OsRandom))
            .await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    // A deleted file is listed at once (its bytes must go), whatever its expiry.
    store
        .change_dropped_file(
            w.portal.id,
            gone.id,
            deleting(client(&w.contact), t0() + mins(5)),
        )
        .await
        .unwrap();
    assert!(listed(
        store
            .drops_to_sweep(t0() + mins(5), usize::MAX)
            .await
            .unwrap(),
        gone.id
    ));
    store
        .change_dropped_file(w.portal.id, f.id, expiring(due))
        .await
        .unwrap();
    for d in [&f, &gone] {
        assert!(store.blob_in_use(d.blob).await.unwrap());
        assert!(store.mark_drop_bytes_removed(d.id).await.unwrap());
        assert!(
            !store.mark_drop_bytes_removed(d.id).await.unwrap(),
            "marking removed bytes twice changes nothing"
        );
        assert!(!store.blob_in_use(d.blob).await.unwrap());
        assert!(
            store
                .dropped_file(w.portal.id, d.id)
                .await
                .unwrap()
                .bytes_removed
        );
    }
    let later = store.drops_to_sweep(due, usize::MAX).await.unwrap();
    assert!(!listed(later.clone(), f.id) && !listed(later, gone.id));
    // The order: earliest expiry first.
    let all = store
        .drops_to_sweep(t0() + chrono::TimeDelta::days(3650), usize::MAX)
        .await
        .unwrap();
    assert!(
        all.windows(2)
            .all(|p| (p[0].expires_at, p[0].id) <= (p[1].expires_at, p[1].id)),
        "drops_to_sweep lists the earliest expiry first"
    );
}

/// `delete_portal` erases the portal's dropped files and returns their blobs.
pub async fn delete_portal_erases_drops(store: &dyn Store) {
    let w = world(store).await;
    let task = drop_task(store, &w).await;
    let f = dropped(store, &w, &task, "erase.pdf", 1).await;
    let blobs = store
        .delete_portal(
            w.portal.id,
            &Erasure {
                tenant_id: w.tenant.id,
                portal_id: w.portal.id,
                client_name: w.portal.client_name.clone(),
                at: t0() + mins(2),
                by: staff(),
                audit_head: None,
            },
        )
        .await
        .unwrap();
    assert!(
        blobs.contains(&f.blob),
        "the dropped file's blob is returned"
    );
    assert_err!(
        store.dropped_file(w.portal.id, f.id).await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert!(!store.blob_in_use(f.blob).await.unwrap());
}
