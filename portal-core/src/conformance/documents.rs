//! Conformance checks of [`crate::store::DocumentStore`]: uploads recorded with their
//! task change, refusals that write nothing, superseding, the fields that never
//! change, the review queue's order and scope, key rotation's compare-and-set, and
//! uploads and reviews that race.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};

use super::support::{
    World, assert_err, client, mins, new_portal, new_tenant, race_all, secs, staff, t0, world,
};
use super::workflow::{task_activity, task_in};
use crate::blob::keyring::{KeyId, WrappedKey};
use crate::error::{Entity, Error};
use crate::files::FileType;
use crate::ids::{BlobId, FileId};
use crate::model::{Portal, RequestedDocument, Task, TaskKind, TaskStatus};
use crate::random::{OsRandom, RandomSource};
use crate::scan::{ScanVerdict, UnscannablePolicy};
use crate::store::Store;
use crate::workflow::documents::{
    DocumentChange, FileDecision, NewUpload, UploadDecision, Verdict, record_upload, review,
};
use crate::workflow::{ActivityKind, Actor, DocumentFile, DocumentStatus, FileReview};

pub(super) fn documents_kind() -> TaskKind {
    TaskKind::DocumentUpload {
        documents: vec![
            RequestedDocument::new("diagram", "Network diagram"),
            RequestedDocument::new("isp", "ISP contract"),
        ],
    }
}

fn wrapped(key: &str) -> WrappedKey {
    let mut bytes = vec![0u8; 60];
    OsRandom.fill(&mut bytes);
    WrappedKey {
        key_id: KeyId::parse(key).unwrap(),
        bytes,
    }
}

pub(super) fn upload(document: &str, name: &str, scan: ScanVerdict) -> NewUpload {
    let mut sha256 = [0u8; 32];
    OsRandom.fill(&mut sha256);
    NewUpload {
        id: FileId::random(&OsRandom),
        document_id: document.to_owned(),
        name: name.to_owned(),
        file_type: FileType::Pdf,
        size: 123_456,
        sha256,
        blob: BlobId::random(&OsRandom),
        key: wrapped("k1"),
        scan,
    }
}

/// The decision the service hands `add_document_file` for `upload` by `actor` at `at`.
pub(super) fn upload_decision(
    w: &World,
    upload: NewUpload,
    actor: Actor,
    at: DateTime<Utc>,
) -> UploadDecision {
    let tenant = w.tenant.id;
    Arc::new(move |t: &Task| record_upload(t, &upload, &actor, tenant, at))
}

pub(super) fn review_decision(verdict: Verdict, at: DateTime<Utc>) -> FileDecision {
    let actor = staff();
    Arc::new(move |t: &Task, f: &DocumentFile| {
        review(t, f, &verdict, &actor, UnscannablePolicy::Block, at)
    })
}

pub(super) async fn uploaded(
    store: &dyn Store,
    w: &World,
    task: &Task,
    document: &str,
    at: DateTime<Utc>,
) -> DocumentFile {
    store
        .add_document_file(
            w.portal.id,
            task.id,
            upload_decision(
                w,
                upload(document, "diagram.pdf", ScanVerdict::Clean),
                client(&w.contact),
                at,
            ),
        )
        .await
        .unwrap()
}

/// An upload is one unit: the file record, the task's evidence and status, and the
/// activity entry are all written, and read back exactly.
pub async fn document_upload_recorded(store: &dyn Store) {
    let w = world(store).await;
    let task = task_in(store, &w, documents_kind()).await;
    let up = upload("diagram", "Network diagram v3.pdf", ScanVerdict::Clean);
    let at = t0() + mins(1);
    let file = store
        .add_document_file(
            w.portal.id,
            task.id,
            upload_decision(&w, up.clone(), client(&w.contact), at),
        )
        .await
        .unwrap();
    assert_eq!(file.id, up.id);
    assert_eq!(file.version, 1);
    assert_eq!(file.review, FileReview::Pending);
    assert_eq!(
        store.document_file(w.portal.id, file.id).await.unwrap(),
        file
    );
    assert_eq!(
        store.document_files(w.portal.id).await.unwrap(),
        vec![file.clone()]
    );
    let stored = store.task(w.portal.id, task.id).await.unwrap();
    assert_eq!(
        stored.status,
        TaskStatus::InProgress,
        "an upload starts the task"
    );
    let state = &stored.evidence.documents["diagram"];
    assert_eq!(
        (state.status, state.current, state.versions),
        (DocumentStatus::Uploaded, file.id, 1)
    );
    assert_eq!(stored.updated_at, at);
    let feed = task_activity(store, w.portal.id, task.id).await;
    assert_eq!(feed.len(), 1, "one activity entry per upload");
    assert_eq!(feed[0].kind, ActivityKind::DocumentUploaded);
    assert!(store.blob_in_use(file.blob).await.unwrap());
    assert!(!store.blob_in_use(BlobId::random(&OsRandom)).await.unwrap());
}

/// Every field of a file, with every scan verdict and review state, reads back as
/// written (after `update_document_file`, which may change only those two).
pub async fn document_file_round_trips(store: &dyn Store) {
    let w = world(store).await;
    let task = task_in(store, &w, documents_kind()).await;
    let verdicts = [
        ScanVerdict::Clean,
        ScanVerdict::NotScanned,
        ScanVerdict::Unscannable {
            reason: "clamd: connection refused “now”\nretry".to_owned(),
        },
        ScanVerdict::Infected {
            signature: "Eicar-Test-Signature".to_owned(),
        },
    ];
    let reviews = [
        FileReview::Pending,
        FileReview::Approved {
            by: staff(),
            at: t0() + secs(7),
            notes: None,
        },
        FileReview::Approved {
            by: staff(),
            at: t0() + secs(8),
            notes: Some("Thanks — “perfect”".to_owned()),
        },
        FileReview::Rejected {
            by: Actor::Staff {
                name: "No Email".to_owned(),
                email: None,
            },
            at: t0() + secs(9),
            notes: "Page 2 is missing.\nPlease send all pages.".to_owned(),
        },
        FileReview::Superseded {
            by: FileId::random(&OsRandom),
        },
        FileReview::Quarantined,
    ];
    for (i, (scan, review)) in verdicts.iter().cycle().zip(reviews.iter()).enumerate() {
        let mut up = upload(
            "diagram",
            &format!("Ünïcode “name” {i}.pdf"),
            ScanVerdict::Clean,
        );
        up.file_type = [FileType::Pdf, FileType::Png, FileType::Text][i % 3];
        up.size = u64::MAX >> (i + 1);
        let file = store
            .add_document_file(
                w.portal.id,
                task.id,
                upload_decision(&w, up, client(&w.contact), t0() + secs(i as i64)),
            )
            .await
            .unwrap();
        let (scan, review) = (scan.clone(), review.clone());
        let set: FileDecision = Arc::new(move |t: &Task, f: &DocumentFile| {
            let mut file = f.clone();
            file.scan = scan.clone();
            file.review = review.clone();
            Ok(DocumentChange {
                audit: None,
                emails: Vec::new(),
                task: crate::workflow::TaskChange {
                    task: t.clone(),
                    activity: super::workflow::entry(
                        t.portal_id,
                        t0(),
                        &staff(),
                        ActivityKind::DocumentScanned,
                        "round trip",
                    ),
                },
                file,
                superseded: None,
            })
        });
        let written = store
            .update_document_file(w.portal.id, file.id, set)
            .await
            .unwrap();
        assert_eq!(
            (&written.scan, &written.review),
            (&verdicts[i % 4], &reviews[i])
        );
        let read = store.document_file(w.portal.id, file.id).await.unwrap();
        assert_eq!(read, written, "file {i} reads back as written");
        assert_eq!(read.uploaded_by, client(&w.contact));
    }
}

/// Refusals write nothing: a decision that errs (its error returned unchanged), a
/// file id that exists, a file of another task, and calls through another portal
/// (which never call `decide`).
pub async fn document_refusals_write_nothing(store: &dyn Store) {
    let w = world(store).await;
    let task = task_in(store, &w, documents_kind()).await;
    let first = uploaded(store, &w, &task, "diagram", t0()).await;
    let before_task = store.task(w.portal.id, task.id).await.unwrap();
    let before_files = store.document_files(w.portal.id).await.unwrap();
    let before_feed = task_activity(store, w.portal.id, task.id).await;
    let unchanged = || async {
        assert_eq!(store.task(w.portal.id, task.id).await.unwrap(), before_task);
        assert_eq!(
            store.document_files(w.portal.id).await.unwrap(),
            before_files
        );
        assert_eq!(
            task_activity(store, w.portal.id, task.id).await,
            before_feed
        );
    };

    let refuse: UploadDecision = Arc::new(|_: &Task| Err(Error::conflict("decided no")));
    assert_err!(
        store.add_document_file(w.portal.id, task.id, refuse).await,
        Error::Conflict { reason } if reason == "decided no"
    );
    unchanged().await;

    let mut dup = upload("diagram", "again.pdf", ScanVerdict::Clean);
    dup.id = first.id;
    assert_err!(
        store
            .add_document_file(
                w.portal.id,
                task.id,
                upload_decision(&w, dup, client(&w.contact), t0() + secs(5))
            )
            .await,
        Error::Conflict { .. }
    );
    unchanged().await;

    // A decision whose file claims another task.
    let other = task_in(store, &w, documents_kind()).await;
    let up = upload("diagram", "x.pdf", ScanVerdict::Clean);
    let tenant = w.tenant.id;
    let actor = client(&w.contact);
    let elsewhere: UploadDecision = Arc::new(move |t: &Task| {
        let mut change = record_upload(t, &up, &actor, tenant, t0())?;
        change.file.task_id = other.id;
        Ok(change)
    });
    assert_err!(
        store
            .add_document_file(w.portal.id, task.id, elsewhere)
            .await,
        Error::Invalid { field: "file", .. }
    );
    unchanged().await;

    // A decision whose file names another tenant than the portal's.
    let up = upload("diagram", "x.pdf", ScanVerdict::Clean);
    let actor = client(&w.contact);
    let foreign_tenant: UploadDecision = Arc::new(move |t: &Task| {
        record_upload(
            t,
            &up,
            &actor,
            crate::ids::TenantId::random(&OsRandom),
            t0(),
        )
    });
    assert_err!(
        store
            .add_document_file(w.portal.id, task.id, foreign_tenant)
            .await,
        Error::Invalid { field: "file", .. }
    );
    unchanged().await;
    // A new file pointing at a blob another file points at.
    let mut shared = upload("diagram", "x.pdf", ScanVerdict::Clean);
    shared.blob = first.blob;
    assert_err!(
        store
            .add_document_file(
                w.portal.id,
                task.id,
                upload_decision(&w, shared, client(&w.contact), t0())
            )
            .await,
        Error::Conflict { .. }
    );
    unchanged().await;

    // Another portal: the task and the file are not there, and decide is never called.
    let stranger = world(store).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let counted: UploadDecision = Arc::new(move |_: &Task| {
        counter.fetch_add(1, Ordering::SeqCst);
        Err(Error::conflict("must not be called"))
    });
    assert_err!(
        store
            .add_document_file(stranger.portal.id, task.id, counted)
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    let counter = calls.clone();
    let counted_file: FileDecision = Arc::new(move |_: &Task, _: &DocumentFile| {
        counter.fetch_add(1, Ordering::SeqCst);
        Err(Error::conflict("must not be called"))
    });
    assert_err!(
        store
            .update_document_file(stranger.portal.id, first.id, counted_file)
            .await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "decide is never called across portals"
    );
    assert_err!(
        store.document_file(stranger.portal.id, first.id).await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert_err!(
        store
            .update_document_file(
                w.portal.id,
                FileId::random(&OsRandom),
                review_decision(Verdict::Approve { notes: None }, t0())
            )
            .await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert!(
        store
            .document_files(stranger.portal.id)
            .await
            .unwrap()
            .is_empty()
    );
    // A review decision that errs writes nothing either.
    let refuse_review: FileDecision =
        Arc::new(|_: &Task, _: &DocumentFile| Err(Error::invalid("notes", "decided no")));
    assert_err!(
        store
            .update_document_file(w.portal.id, first.id, refuse_review)
            .await,
        Error::Invalid { field: "notes", .. }
    );
    unchanged().await;
}

/// A new upload of a document that was still waiting for review supersedes the
/// earlier version (kept, marked superseded by the new one); a rejected version is
/// not superseded; a `superseded` id of another task or document is ignored.
pub async fn document_supersede(store: &dyn Store) {
    let w = world(store).await;
    let task = task_in(store, &w, documents_kind()).await;
    let v1 = uploaded(store, &w, &task, "diagram", t0()).await;
    let v2 = uploaded(store, &w, &task, "diagram", t0() + secs(1)).await;
    assert_eq!(v2.version, 2);
    assert_eq!(
        store
            .document_file(w.portal.id, v1.id)
            .await
            .unwrap()
            .review,
        FileReview::Superseded { by: v2.id }
    );
    let rejected = store
        .update_document_file(
            w.portal.id,
            v2.id,
            review_decision(
                Verdict::Reject {
                    notes: "Blurry".into(),
                },
                t0() + secs(2),
            ),
        )
        .await
        .unwrap();
    let v3 = uploaded(store, &w, &task, "diagram", t0() + secs(3)).await;
    assert_eq!(v3.version, 3);
    assert_eq!(
        store.document_file(w.portal.id, v2.id).await.unwrap(),
        rejected,
        "a rejected version stays rejected"
    );

    // A decision naming a version that is not pending (v2 was rejected): ignored.
    let up = upload("diagram", "v3b.pdf", ScanVerdict::Clean);
    let (tenant, actor) = (w.tenant.id, client(&w.contact));
    let v2_id = v2.id;
    let not_pending: UploadDecision = Arc::new(move |t: &Task| {
        let mut change = record_upload(t, &up, &actor, tenant, t0() + secs(3))?;
        change.superseded = Some(v2_id);
        Ok(change)
    });
    store
        .add_document_file(w.portal.id, task.id, not_pending)
        .await
        .unwrap();
    assert_eq!(
        store.document_file(w.portal.id, v2.id).await.unwrap(),
        rejected,
        "only a pending version is superseded"
    );
    // A decision naming a file of another document as superseded: ignored.
    let isp = uploaded(store, &w, &task, "isp", t0() + secs(4)).await;
    let up = upload("diagram", "v4.pdf", ScanVerdict::Clean);
    let (tenant, actor) = (w.tenant.id, client(&w.contact));
    let wrong: UploadDecision = Arc::new(move |t: &Task| {
        let mut change = record_upload(t, &up, &actor, tenant, t0() + secs(5))?;
        change.superseded = Some(isp.id);
        Ok(change)
    });
    store
        .add_document_file(w.portal.id, task.id, wrong)
        .await
        .unwrap();
    assert_eq!(
        store
            .document_file(w.portal.id, isp.id)
            .await
            .unwrap()
            .review,
        FileReview::Pending
    );
}

/// `update_document_file` changes only the scan verdict and the review: whatever else
/// the decision returns (name, size, blob, key, version, uploader, owner) is kept.
pub async fn document_file_keeps_immutable_fields(store: &dyn Store) {
    let w = world(store).await;
    let task = task_in(store, &w, documents_kind()).await;
    let file = uploaded(store, &w, &task, "diagram", t0()).await;
    let tamper: FileDecision = Arc::new(move |t: &Task, f: &DocumentFile| {
        let mut change = review(
            t,
            f,
            &Verdict::Approve { notes: None },
            &staff(),
            UnscannablePolicy::Block,
            t0() + secs(9),
        )?;
        let g = &mut change.file;
        g.name = "renamed.exe".into();
        g.size = 1;
        g.version = 77;
        g.blob = BlobId::random(&OsRandom);
        g.key = wrapped("k9");
        g.uploaded_at = t0() + mins(99);
        g.uploaded_by = staff();
        g.file_type = FileType::Png;
        g.sha256 = [0; 32];
        Ok(change)
    });
    let written = store
        .update_document_file(w.portal.id, file.id, tamper)
        .await
        .unwrap();
    let expected = DocumentFile {
        review: written.review.clone(),
        ..file.clone()
    };
    assert!(matches!(written.review, FileReview::Approved { .. }));
    assert_eq!(written, expected, "only the review changed");
    assert_eq!(
        store.document_file(w.portal.id, file.id).await.unwrap(),
        expected
    );
    let stored = store.task(w.portal.id, task.id).await.unwrap();
    assert_eq!(
        stored.evidence.documents["diagram"].status,
        DocumentStatus::Approved
    );
}

/// The review queue: files of one tenant (every portal of it, no other tenant's)
/// whose review is pending, oldest upload first, equal times in commit order, at most
/// `limit`; superseded, reviewed and quarantined files are not in it. `document_files`
/// lists every version of a portal, oldest first, ties in commit order.
pub async fn review_queue_order_and_scope(store: &dyn Store) {
    let w = world(store).await;
    let second = Portal {
        id: crate::ids::PortalId::random(&OsRandom),
        ..w.portal.clone()
    };
    store.create_portal(&second, None).await.unwrap();
    let w2 = World {
        tenant: w.tenant.clone(),
        portal: second.clone(),
        contact: w.contact.clone(),
    };
    let a = task_in(store, &w, documents_kind()).await;
    let b = task_in(store, &w2, documents_kind()).await;
    let same = t0() + mins(5);
    // Committed in this order; times: later, same, same, earlier.
    let late = uploaded(store, &w, &a, "diagram", t0() + mins(9)).await;
    let tie1 = uploaded(store, &w2, &b, "diagram", same).await;
    let tie2 = uploaded(store, &w, &a, "isp", same).await;
    let early = uploaded(store, &w2, &b, "isp", t0() + mins(1)).await;
    // Another tenant's upload never shows.
    let other = world(store).await;
    let ot = task_in(store, &other, documents_kind()).await;
    uploaded(store, &other, &ot, "diagram", t0()).await;
    let ids = |v: Vec<DocumentFile>| v.into_iter().map(|f| f.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.review_queue(w.tenant.id, 100).await.unwrap()),
        [early.id, tie1.id, tie2.id, late.id],
        "oldest first, equal times in commit order, one tenant only"
    );
    assert_eq!(
        ids(store.review_queue(w.tenant.id, 2).await.unwrap()),
        [early.id, tie1.id]
    );
    assert!(
        store
            .review_queue(new_tenant(t0()).id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ids(store.document_files(w.portal.id).await.unwrap()),
        [tie2.id, late.id],
        "a portal's files, oldest first"
    );
    // Reviewed, superseded and quarantined files leave the queue.
    store
        .update_document_file(
            w2.portal.id,
            early.id,
            review_decision(Verdict::Approve { notes: None }, same),
        )
        .await
        .unwrap();
    let newer = uploaded(store, &w2, &b, "diagram", t0() + mins(10)).await;
    let mut infected = upload(
        "isp",
        "bad.pdf",
        ScanVerdict::Infected {
            signature: "X".into(),
        },
    );
    infected.blob = BlobId::random(&OsRandom);
    let quarantined = store
        .add_document_file(
            w.portal.id,
            a.id,
            upload_decision(&w, infected, client(&w.contact), t0()),
        )
        .await
        .unwrap();
    assert_eq!(quarantined.review, FileReview::Quarantined);
    assert_eq!(
        ids(store.review_queue(w.tenant.id, 100).await.unwrap()),
        [late.id, newer.id],
        "approved, superseded (tie1, tie2) and quarantined files are not in the queue"
    );
}

/// Key rotation: files not under the active key, by file id, after a cursor, at most
/// `limit`; `replace_file_key` is a compare-and-set that changes nothing else.
pub async fn file_key_rotation(store: &dyn Store) {
    let w = world(store).await;
    let task = task_in(store, &w, documents_kind()).await;
    // A key id no other check (or run) uses, so files of other checks don't show.
    let mut tag = [0u8; 6];
    OsRandom.fill(&mut tag);
    let old_id = format!(
        "old-{}",
        tag.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let mut files = Vec::new();
    for i in 0..5 {
        let mut up = upload(
            if i % 2 == 0 { "diagram" } else { "isp" },
            "f.pdf",
            ScanVerdict::Clean,
        );
        up.key = wrapped(&old_id);
        files.push(
            store
                .add_document_file(
                    w.portal.id,
                    task.id,
                    upload_decision(&w, up, client(&w.contact), t0() + secs(i)),
                )
                .await
                .unwrap(),
        );
    }
    let mine = |v: Vec<DocumentFile>| {
        v.into_iter()
            .filter(|f| f.key.key_id.as_str() == old_id)
            .map(|f| f.id)
            .collect::<Vec<_>>()
    };
    let mut sorted: Vec<FileId> = files.iter().map(|f| f.id).collect();
    sorted.sort();
    let active = KeyId::parse("k1").unwrap();
    // Walk all pages with a cursor (other checks' files may be listed too).
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.files_to_rewrap(&active, after, 2).await.unwrap();
        assert!(page.len() <= 2, "at most limit");
        assert!(
            page.windows(2).all(|p| p[0].id < p[1].id),
            "ordered by file id"
        );
        assert!(
            page.iter().all(|f| after.is_none_or(|a| f.id > a)),
            "strictly after the cursor"
        );
        assert!(
            page.iter().all(|f| f.key.key_id != active),
            "never a file under the active key"
        );
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        seen.extend(mine(page));
    }
    assert_eq!(
        seen, sorted,
        "every file under another key, once, in id order"
    );

    // Re-read: later uploads superseded earlier versions of the same document.
    let current = store.document_files(w.portal.id).await.unwrap();
    let target = &current[2];
    let new = wrapped("k1");
    assert!(
        !store
            .replace_file_key(target.id, &wrapped(&old_id), &new)
            .await
            .unwrap(),
        "CAS refuses a stale expected key"
    );
    assert_eq!(
        store.document_file(w.portal.id, target.id).await.unwrap(),
        *target
    );
    assert!(
        store
            .replace_file_key(target.id, &target.key, &new)
            .await
            .unwrap()
    );
    let after_cas = store.document_file(w.portal.id, target.id).await.unwrap();
    assert_eq!(
        after_cas,
        DocumentFile {
            key: new.clone(),
            ..target.clone()
        },
        "only the key changed"
    );
    assert!(
        !store
            .replace_file_key(target.id, &target.key, &wrapped("k1"))
            .await
            .unwrap(),
        "a second CAS with the old key loses"
    );
    assert_eq!(
        store
            .document_file(w.portal.id, target.id)
            .await
            .unwrap()
            .key,
        new
    );
    assert_err!(
        store
            .replace_file_key(FileId::random(&OsRandom), &new, &new)
            .await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    let mut left = Vec::new();
    let mut after = None;
    loop {
        let page = store.files_to_rewrap(&active, after, 100).await.unwrap();
        assert!(
            page.iter().all(|f| f.key.key_id != active),
            "a re-wrapped file is no longer listed"
        );
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        left.extend(mine(page));
    }
    assert!(!left.contains(&target.id));
    assert_eq!(left.len(), 4);
}

/// Concurrent uploads of one document: every one is recorded, with distinct versions
/// 1..=n, exactly one current (the last committed), the others superseded, one
/// activity entry each.
pub async fn concurrent_document_uploads(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let task = task_in(store.as_ref(), &w, documents_kind()).await;
    let n = 8;
    let calls = (0..n)
        .map(|i| {
            let (store, portal, task_id) = (store.clone(), w.portal.id, task.id);
            let d = upload_decision(
                &w,
                upload("diagram", &format!("{i}.pdf"), ScanVerdict::Clean),
                client(&w.contact),
                t0() + secs(i),
            );
            async move { store.add_document_file(portal, task_id, d).await }
        })
        .collect();
    for r in race_all(calls).await {
        r.expect("every concurrent upload is recorded");
    }
    let files = store.document_files(w.portal.id).await.unwrap();
    let mut versions: Vec<u32> = files.iter().map(|f| f.version).collect();
    versions.sort_unstable();
    assert_eq!(
        versions,
        (1..=n as u32).collect::<Vec<_>>(),
        "distinct versions 1..=n"
    );
    let stored = store.task(w.portal.id, task.id).await.unwrap();
    let state = &stored.evidence.documents["diagram"];
    assert_eq!(state.versions, n as u32);
    let current = files
        .iter()
        .find(|f| f.id == state.current)
        .expect("the current file");
    assert_eq!(
        current.version, n as u32,
        "the current file is the last version"
    );
    assert_eq!(current.review, FileReview::Pending);
    assert_eq!(
        files
            .iter()
            .filter(|f| matches!(f.review, FileReview::Superseded { .. }))
            .count(),
        n as usize - 1,
        "every earlier version is superseded"
    );
    assert_eq!(
        task_activity(store.as_ref(), w.portal.id, task.id)
            .await
            .len(),
        n as usize
    );
}

/// Two reviewers deciding the same file at once: exactly one wins, the other is a
/// `Conflict`, and one activity entry is written.
pub async fn concurrent_document_reviews(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    for round in 0..5 {
        let task = task_in(store.as_ref(), &w, documents_kind()).await;
        let file = uploaded(store.as_ref(), &w, &task, "diagram", t0()).await;
        let calls = (0..2)
            .map(|i| {
                let (store, portal, id) = (store.clone(), w.portal.id, file.id);
                let verdict = if i == 0 {
                    Verdict::Approve { notes: None }
                } else {
                    Verdict::Reject { notes: "No".into() }
                };
                let d = review_decision(verdict, t0() + mins(1));
                async move { store.update_document_file(portal, id, d).await }
            })
            .collect();
        let mut winners = Vec::new();
        for r in race_all(calls).await {
            match r {
                Ok(f) => winners.push(f),
                Err(Error::Conflict { .. }) => {}
                Err(e) => panic!("a concurrent review failed with {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one review wins (round {round})");
        assert_eq!(
            store.document_file(w.portal.id, file.id).await.unwrap(),
            winners[0]
        );
        let reviews = task_activity(store.as_ref(), w.portal.id, task.id)
            .await
            .into_iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    ActivityKind::DocumentApproved | ActivityKind::DocumentRejected
                )
            })
            .count();
        assert_eq!(reviews, 1, "one review entry (round {round})");
    }
}

/// `delete_portal`: every record of the portal is gone (the portal, its plan,
/// contacts and their sessions, comments, questions, activity, access log, file
/// records, queued emails), the blobs of its files are returned, the erasure is in
/// the tenant's log (newest first) and outlives the portal; the tenant's other
/// portals are untouched; a wrong erasure or a missing portal writes nothing.
pub async fn delete_portal_erases_everything(store: &dyn Store) {
    use crate::store::{AccessEvent, AccessLogEntry, Erasure, RequestInfo};
    use crate::workflow::{ActivityEntry, Comment};

    let w = world(store).await;
    let keep = new_portal(w.tenant.id, t0());
    store.create_portal(&keep, None).await.unwrap();
    let task = task_in(store, &w, documents_kind()).await;
    let first = uploaded(store, &w, &task, "diagram", t0() + mins(1)).await;
    let second = uploaded(store, &w, &task, "isp", t0() + mins(2)).await;
    let (session, _) = super::support::signed_in(store, w.contact.id, t0()).await;
    store
        .record_access(&AccessLogEntry {
            at: t0() + mins(3),
            portal_id: w.portal.id,
            contact_id: w.contact.id,
            event: AccessEvent::PortalRequest,
            request: RequestInfo::default(),
        })
        .await
        .unwrap();
    let comment = Comment {
        portal_id: w.portal.id,
        task_id: task.id,
        author: client(&w.contact),
        body: "Here it is".to_owned(),
        at: t0() + mins(4),
    };
    let activity = ActivityEntry {
        portal_id: w.portal.id,
        at: t0() + mins(4),
        actor: client(&w.contact),
        kind: ActivityKind::Commented,
        task_id: Some(task.id),
        subject: task.title.clone(),
        detail: None,
    };
    store.add_comment(&comment, &activity, &[]).await.unwrap();
    // Reminder state of the portal and its contacts goes with it.
    store
        .set_reminder_settings(
            w.portal.id,
            &crate::reminders::ReminderSettings::default(),
            None,
        )
        .await
        .unwrap();
    store
        .snooze_task(w.portal.id, w.contact.id, task.id, t0() + mins(60))
        .await
        .unwrap();
    store
        .unsubscribe_reminders(w.contact.id, t0() + mins(4))
        .await
        .unwrap();
    let erasure = |portal: &crate::model::Portal, minutes| Erasure {
        tenant_id: portal.tenant_id,
        portal_id: portal.id,
        client_name: portal.client_name.clone(),
        at: t0() + mins(minutes),
        by: staff(),
        audit_head: None,
    };
    let head = |chain: Vec<crate::audit::ChainedEvent>| chain.last().map(|e| e.head());
    let w_head = head(
        store
            .audit_events(w.portal.id, 0, usize::MAX)
            .await
            .unwrap(),
    );
    let keep_head = head(store.audit_events(keep.id, 0, usize::MAX).await.unwrap());
    let with_head = |e: Erasure, audit_head| Erasure { audit_head, ..e };
    assert_err!(
        store.delete_portal(w.portal.id, &erasure(&keep, 5)).await,
        Error::Invalid { .. }
    );
    assert_eq!(store.portal(w.portal.id).await.unwrap(), w.portal);
    assert!(store.erasures(w.tenant.id).await.unwrap().is_empty());

    let mut blobs = store
        .delete_portal(w.portal.id, &erasure(&w.portal, 6))
        .await
        .unwrap();
    blobs.sort_by_key(|b| b.to_string());
    let mut expected = vec![first.blob, second.blob];
    expected.sort_by_key(|b| b.to_string());
    assert_eq!(blobs, expected, "the deleted files' blobs are returned");
    assert_err!(
        store.portal(w.portal.id).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
    assert!(store.portal_snapshot(w.portal.id).await.is_err());
    assert!(store.contact(w.contact.id).await.is_err(), "contacts go");
    assert!(
        store
            .authenticate(
                &session,
                t0() + mins(7),
                &super::support::no_slide(),
                &RequestInfo::default()
            )
            .await
            .is_err(),
        "sessions go"
    );
    assert!(store.task(w.portal.id, task.id).await.is_err());
    assert!(store.reminder_state(w.portal.id).await.is_err());
    assert!(store.document_file(w.portal.id, first.id).await.is_err());
    assert!(
        store
            .document_files(w.portal.id)
            .await
            .unwrap_or_default()
            .is_empty()
    );
    assert!(
        store
            .access_log(w.portal.id, 10)
            .await
            .unwrap_or_default()
            .is_empty()
    );
    assert!(
        store
            .activity(w.portal.id, 10)
            .await
            .unwrap_or_default()
            .is_empty()
    );
    assert!(
        store
            .questions(w.portal.id)
            .await
            .unwrap_or_default()
            .is_empty()
    );
    assert!(
        !store
            .review_queue(w.tenant.id, 100)
            .await
            .unwrap()
            .iter()
            .any(|f| f.portal_id == w.portal.id)
    );
    assert_eq!(
        store.portals(w.tenant.id).await.unwrap(),
        vec![keep.clone()]
    );
    assert_eq!(
        store.erasures(w.tenant.id).await.unwrap(),
        vec![with_head(erasure(&w.portal, 6), w_head)],
        "the erasure keeps the chain's head"
    );
    assert_err!(
        store
            .delete_portal(w.portal.id, &erasure(&w.portal, 7))
            .await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
    // A second deletion: the log lists the newest first.
    store
        .delete_portal(keep.id, &erasure(&keep, 8))
        .await
        .unwrap();
    assert_eq!(
        store.erasures(w.tenant.id).await.unwrap(),
        vec![
            with_head(erasure(&keep, 8), keep_head),
            with_head(erasure(&w.portal, 6), w_head)
        ]
    );
}
