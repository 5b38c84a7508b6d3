//! Conformance checks of [`crate::store::AttachmentStore`]: files staff attach to a
//! task read back exactly, in the order added, with their feed entry; refusals write
//! nothing; the per-task cap holds inside the unit (also under a race); deletion
//! answers the blob; opens keep the first time per (task, contact, content); erasure
//! of a task, a portal or a contact takes their records with it.

use std::sync::Arc;

use super::race::race_all;
use super::support::{World, assert_err, client, secs, staff, t0, world};
use super::workflow::task_in;
use crate::attachments::{DocumentOpen, MAX_PER_TASK, TaskAttachment};
use crate::blob::keyring::{KeyId, WrappedKey};
use crate::error::{Entity, Error};
use crate::ids::{AttachmentId, BlobId};
use crate::model::{Task, TaskKind};
use crate::random::OsRandom;
use crate::store::{PlanDecision, Store};
use crate::workflow::{ActivityEntry, ActivityKind};

/// An attachment of `task` with fresh ids, added `at` seconds after [`t0`].
pub(super) fn attachment(w: &World, task: &Task, name: &str, at: i64) -> TaskAttachment {
    TaskAttachment {
        id: AttachmentId::random(&OsRandom),
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        task_id: task.id,
        name: name.into(),
        file_type: crate::files::FileType::Pdf,
        size: 1234,
        sha256: crate::signatures::sha256(name.as_bytes()),
        blob: BlobId::random(&OsRandom),
        key: WrappedKey {
            key_id: KeyId::parse("k1").unwrap(),
            bytes: vec![4; 40],
        },
        added_by: staff(),
        added_at: t0() + secs(at),
    }
}

/// The feed entry of adding `a`, as the service writes it.
pub(super) fn added(a: &TaskAttachment) -> ActivityEntry {
    ActivityEntry {
        portal_id: a.portal_id,
        at: a.added_at,
        actor: staff(),
        kind: ActivityKind::AttachmentAdded,
        task_id: Some(a.task_id),
        subject: "Review the migration plan".into(),
        detail: Some(a.name.clone()),
    }
}

fn deleted(a: &TaskAttachment, at: i64) -> ActivityEntry {
    ActivityEntry {
        kind: ActivityKind::AttachmentDeleted,
        at: t0() + secs(at),
        ..added(a)
    }
}

fn opened(w: &World, task: &Task, content: &[u8], at: i64) -> DocumentOpen {
    DocumentOpen {
        portal_id: w.portal.id,
        task_id: task.id,
        contact_id: w.contact.id,
        sha256: crate::signatures::sha256(content),
        at: t0() + secs(at),
    }
}

async fn feed_count(store: &dyn Store, w: &World, kind: ActivityKind) -> usize {
    store
        .activity(w.portal.id, usize::MAX)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.kind == kind)
        .count()
}

/// `add_attachment`, `task_attachments`, `portal_attachments`, `attachment`: read back
/// exactly, oldest first (equal times in commit order), with the feed entry written in
/// the unit; scoped by portal; refusals (another portal's task, a foreign record, one
/// not added by staff, a foreign feed entry, a blob or id in use) write nothing; the
/// blob is in use.
pub async fn attachments_added_and_listed(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let task = task_in(store, &w, TaskKind::Standard).await;
    let second_task = task_in(store, &w, TaskKind::Standard).await;
    assert!(
        store
            .task_attachments(w.portal.id, task.id)
            .await
            .unwrap()
            .is_empty()
    );
    let first = attachment(&w, &task, "Migration plan.pdf", 5);
    let same_time = attachment(&w, &task, "Cut-over checklist.pdf", 5);
    let earlier = attachment(&w, &task, "Scope.pdf", 1);
    let elsewhere = attachment(&w, &second_task, "Guide.pdf", 2);
    for a in [&first, &same_time, &earlier, &elsewhere] {
        store
            .add_attachment(a, MAX_PER_TASK, &added(a))
            .await
            .unwrap();
    }
    assert_eq!(
        store.task_attachments(w.portal.id, task.id).await.unwrap(),
        vec![earlier.clone(), first.clone(), same_time.clone()],
        "a task's attachments read back exactly, oldest first, equal times in commit order"
    );
    assert_eq!(
        store.portal_attachments(w.portal.id).await.unwrap(),
        vec![
            earlier.clone(),
            elsewhere.clone(),
            first.clone(),
            same_time.clone()
        ],
        "a portal's attachments, oldest first"
    );
    assert_eq!(
        store.attachment(w.portal.id, first.id).await.unwrap(),
        first,
        "one attachment reads back exactly"
    );
    assert_eq!(
        feed_count(store, &w, ActivityKind::AttachmentAdded).await,
        4,
        "each add appends its feed entry in the unit"
    );
    assert!(store.blob_in_use(first.blob).await.unwrap());
    assert_err!(
        store.attachment(other.portal.id, first.id).await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert_err!(
        store.task_attachments(other.portal.id, task.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert!(
        store
            .portal_attachments(other.portal.id)
            .await
            .unwrap()
            .is_empty(),
        "another portal lists none of them"
    );

    // Refusals write nothing.
    let mut through_other = attachment(&w, &task, "x.pdf", 6);
    through_other.portal_id = other.portal.id;
    assert_err!(
        store
            .add_attachment(&through_other, MAX_PER_TASK, &added(&through_other))
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    let mut foreign = attachment(&w, &task, "x.pdf", 6);
    foreign.tenant_id = other.tenant.id;
    assert_err!(
        store
            .add_attachment(&foreign, MAX_PER_TASK, &added(&foreign))
            .await,
        Error::Invalid {
            field: "attachment",
            ..
        }
    );
    let mut by_client = attachment(&w, &task, "x.pdf", 6);
    by_client.added_by = client(&w.contact);
    assert_err!(
        store
            .add_attachment(&by_client, MAX_PER_TASK, &added(&by_client))
            .await,
        Error::Invalid {
            field: "attachment",
            ..
        }
    );
    let ok = attachment(&w, &task, "x.pdf", 6);
    let foreign_entry = ActivityEntry {
        portal_id: other.portal.id,
        ..added(&ok)
    };
    assert_err!(
        store
            .add_attachment(&ok, MAX_PER_TASK, &foreign_entry)
            .await,
        Error::Invalid { .. }
    );
    let mut reused_blob = attachment(&w, &task, "x.pdf", 6);
    reused_blob.blob = first.blob;
    assert_err!(
        store
            .add_attachment(&reused_blob, MAX_PER_TASK, &added(&reused_blob))
            .await,
        Error::Conflict { .. }
    );
    let mut reused_id = attachment(&w, &second_task, "x.pdf", 6);
    reused_id.id = first.id;
    assert_err!(
        store
            .add_attachment(&reused_id, MAX_PER_TASK, &added(&reused_id))
            .await,
        Error::Conflict { .. }
    );
    assert_eq!(
        store.portal_attachments(w.portal.id).await.unwrap().len(),
        4,
        "refused adds store nothing"
    );
    assert_eq!(
        feed_count(store, &w, ActivityKind::AttachmentAdded).await,
        4,
        "refused adds append nothing"
    );
    assert!(!store.blob_in_use(ok.blob).await.unwrap());
}

/// The per-task cap ([`crate::attachments::may_add`]) is counted inside the unit: a
/// task at the cap takes no more, and racing adds to a task one short of it store
/// exactly one.
pub async fn attachment_cap_holds(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let w = world(s).await;
    let task = task_in(s, &w, TaskKind::Standard).await;
    for i in 0..MAX_PER_TASK - 1 {
        let a = attachment(&w, &task, &format!("file {i}.pdf"), 1);
        s.add_attachment(&a, MAX_PER_TASK, &added(&a))
            .await
            .unwrap();
    }
    let racers: Vec<TaskAttachment> = (0..4)
        .map(|i| attachment(&w, &task, &format!("racer {i}.pdf"), 2))
        .collect();
    let results = race_all(
        racers
            .into_iter()
            .map(|a| {
                let store = Arc::clone(&store);
                async move { store.add_attachment(&a, MAX_PER_TASK, &added(&a)).await }
            })
            .collect(),
    )
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "racing adds one short of the cap: exactly one is stored"
    );
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(
            matches!(r, Err(Error::Conflict { .. })),
            "an add past the cap is Conflict: {r:?}"
        );
    }
    assert_eq!(
        s.task_attachments(w.portal.id, task.id)
            .await
            .unwrap()
            .len(),
        MAX_PER_TASK,
        "the task holds exactly the cap"
    );
    let late = attachment(&w, &task, "late.pdf", 3);
    assert_err!(
        s.add_attachment(&late, MAX_PER_TASK, &added(&late)).await,
        Error::Conflict { .. }
    );
    assert_eq!(
        s.task_attachments(w.portal.id, task.id)
            .await
            .unwrap()
            .len(),
        MAX_PER_TASK,
        "an add at the cap stores nothing"
    );
}

/// `delete_attachment`: answers the blob, the record is gone and its blob no longer
/// in use, the feed entry is appended; through another portal it is `NotFound(File)`
/// and writes nothing; the opens of its content stay.
pub async fn attachment_deleted(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let task = task_in(store, &w, TaskKind::Approval { document: None }).await;
    let a = attachment(&w, &task, "Migration plan.pdf", 1);
    let keep = attachment(&w, &task, "Appendix.pdf", 2);
    for x in [&a, &keep] {
        store
            .add_attachment(x, MAX_PER_TASK, &added(x))
            .await
            .unwrap();
    }
    store
        .record_document_open(&opened(&w, &task, a.name.as_bytes(), 3))
        .await
        .unwrap();
    assert_err!(
        store
            .delete_attachment(other.portal.id, a.id, &deleted(&a, 4))
            .await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert_eq!(
        store.attachment(w.portal.id, a.id).await.unwrap(),
        a,
        "a refused delete keeps the record"
    );
    assert_eq!(
        store
            .delete_attachment(w.portal.id, a.id, &deleted(&a, 4))
            .await
            .unwrap(),
        a.blob,
        "a delete answers the blob for the caller to delete"
    );
    assert_err!(
        store.attachment(w.portal.id, a.id).await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert_eq!(
        store.task_attachments(w.portal.id, task.id).await.unwrap(),
        vec![keep.clone()],
        "only the deleted one is gone"
    );
    assert!(!store.blob_in_use(a.blob).await.unwrap());
    assert!(store.blob_in_use(keep.blob).await.unwrap());
    assert_eq!(
        feed_count(store, &w, ActivityKind::AttachmentDeleted).await,
        1,
        "the delete appends its feed entry"
    );
    assert_err!(
        store
            .delete_attachment(w.portal.id, a.id, &deleted(&a, 5))
            .await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert_eq!(
        store
            .document_opens(w.portal.id, task.id)
            .await
            .unwrap()
            .len(),
        1,
        "the opens stay: they are what contacts read"
    );
}

/// `record_document_open` and `document_opens`: one open per (task, contact,
/// content), its first time kept; other content is another open; a contact or task
/// of another portal is refused and writes nothing; listed by time.
pub async fn document_opens_keep_the_first(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let task = task_in(store, &w, TaskKind::Approval { document: None }).await;
    let first = opened(&w, &task, b"plan v1", 5);
    store.record_document_open(&first).await.unwrap();
    store
        .record_document_open(&opened(&w, &task, b"plan v1", 9))
        .await
        .unwrap();
    let earlier_other = opened(&w, &task, b"plan v2", 2);
    store.record_document_open(&earlier_other).await.unwrap();
    assert_eq!(
        store.document_opens(w.portal.id, task.id).await.unwrap(),
        vec![earlier_other.clone(), first.clone()],
        "the first open of each content is kept, listed by time"
    );
    let stranger = DocumentOpen {
        contact_id: other.contact.id,
        ..opened(&w, &task, b"plan v3", 6)
    };
    assert_err!(
        store.record_document_open(&stranger).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    let other_task = task_in(store, &other, TaskKind::Standard).await;
    let wrong_portal = DocumentOpen {
        task_id: other_task.id,
        ..opened(&w, &task, b"plan v3", 6)
    };
    assert_err!(
        store.record_document_open(&wrong_portal).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store.document_opens(other.portal.id, task.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_eq!(
        store.document_opens(w.portal.id, task.id).await.unwrap(),
        vec![earlier_other, first],
        "refused opens write nothing"
    );
}

/// A task deleted through `change_plan` answers its attachments' blobs in
/// `erased_blobs` and takes its attachments and opens with it; `delete_portal`
/// answers every attachment blob of the portal; removing a contact removes its opens.
pub async fn attachments_erased_with_their_owners(store: &dyn Store) {
    let w = world(store).await;
    let task = task_in(store, &w, TaskKind::Standard).await;
    let kept_task = task_in(store, &w, TaskKind::Standard).await;
    let a = attachment(&w, &task, "Guide.pdf", 1);
    let kept = attachment(&w, &kept_task, "Other guide.pdf", 1);
    for x in [&a, &kept] {
        store
            .add_attachment(x, MAX_PER_TASK, &added(x))
            .await
            .unwrap();
    }
    store
        .record_document_open(&opened(&w, &task, b"guide", 2))
        .await
        .unwrap();
    store
        .record_document_open(&opened(&w, &kept_task, b"other", 2))
        .await
        .unwrap();

    let plan = store.plan(w.portal.id).await.unwrap();
    let version = plan.task(task.id).unwrap().version;
    let id = task.id;
    let decide: PlanDecision = Arc::new(move |p| {
        crate::workflow::plan::delete_task(p, id, version, &staff(), t0() + secs(60))
    });
    let change = store.change_plan(w.portal.id, decide).await.unwrap();
    assert_eq!(
        change.erased_blobs,
        vec![a.blob],
        "a deleted task's attachment blobs are answered"
    );
    assert_err!(
        store.attachment(w.portal.id, a.id).await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert!(!store.blob_in_use(a.blob).await.unwrap());
    assert_eq!(
        store.portal_attachments(w.portal.id).await.unwrap(),
        vec![kept.clone()],
        "another task's attachment stays"
    );

    // Removing the contact removes its opens.
    let removal = ActivityEntry {
        portal_id: w.portal.id,
        at: t0() + secs(70),
        actor: staff(),
        kind: ActivityKind::ContactRemoved,
        task_id: None,
        subject: w.contact.name.clone(),
        detail: None,
    };
    store.remove_contact(w.contact.id, &removal).await.unwrap();
    assert!(
        store
            .document_opens(w.portal.id, kept_task.id)
            .await
            .unwrap()
            .is_empty(),
        "a removed contact's opens are removed"
    );

    let erasure = crate::store::Erasure {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        client_name: w.portal.client_name.clone(),
        at: t0() + secs(80),
        by: staff(),
        audit_head: None,
    };
    let blobs = store.delete_portal(w.portal.id, &erasure).await.unwrap();
    assert!(
        blobs.contains(&kept.blob),
        "a deleted portal's attachment blobs are returned for deletion"
    );
    assert!(!store.blob_in_use(kept.blob).await.unwrap());
}
