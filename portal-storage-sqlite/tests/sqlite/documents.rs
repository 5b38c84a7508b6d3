//! The document store, directly: every field of a file through uploads, reviews,
//! rescans and a reopened database, with the same outcome as the reference store; the
//! order of the review queue and of a portal's files when times are equal; supersede;
//! refusals that write nothing; the key compare-and-set and rotation paging;
//! concurrent uploads of one document; and uploads killed with SIGKILL (a child
//! process) that leave the files, the task and the feed consistent.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::files::FileType;
use portal_core::ids::{BlobId, FileId};
use portal_core::memory::MemoryStore;
use portal_core::model::{
    EmailAddress, PortalStatus, RequestedDocument, Side, Task, TaskKind, TaskStatus,
};
use portal_core::scan::{ScanVerdict, UnscannablePolicy};
use portal_core::store::DocumentStore;
use portal_core::testkit::{Seeded, TestService, t0};
use portal_core::workflow::documents::{
    self, DocumentStatus, FileDecision, MAX_UPLOAD_BYTES, NewUpload, UploadDecision, Verdict,
};
use portal_core::workflow::{
    ActivityEntry, ActivityKind, Actor, DocumentChange, DocumentFile, FileReview,
};
use portal_core::{
    Entity, Error, OsRandom, PortalId, SeededRandom, Store, TaskId, TaskSpec, TenantId,
};
use portal_storage_sqlite::SqliteStore;

use crate::{fresh_store, temp_db};

// ----- fixtures -------------------------------------------------------------------------

fn at(us: i64) -> DateTime<Utc> {
    t0() + TimeDelta::microseconds(us)
}

fn staff() -> Actor {
    Actor::Staff {
        name: "Sam Staff".into(),
        email: Some(EmailAddress::parse("sam@msp.example").unwrap()),
    }
}

fn key(id: &str, fill: u8) -> WrappedKey {
    WrappedKey {
        key_id: KeyId::parse(id).unwrap(),
        // Zero bytes and 0xFF included: the BLOB must keep every byte.
        bytes: [0u8, fill, 0xFF, 0, fill]
            .into_iter()
            .chain((0..39u8).map(|i| i.wrapping_mul(fill)))
            .collect(),
    }
}

/// File number `n`: ids descend as `n` grows, so id order is never upload order.
fn file_id(n: u8) -> FileId {
    FileId::from_bytes([255 - n; 16])
}

fn new_upload(n: u8, document: &str, name: &str, file_type: FileType, size: u64) -> NewUpload {
    let mut sha256 = [n; 32];
    sha256[0] = 0xFF;
    sha256[31] = 0;
    NewUpload {
        id: file_id(n),
        document_id: document.to_owned(),
        name: name.to_owned(),
        file_type,
        size,
        sha256,
        blob: BlobId::from_bytes([n; 16]),
        key: key("k1", n),
        scan: ScanVerdict::NotScanned,
    }
}

fn scanned(mut upload: NewUpload, scan: ScanVerdict) -> NewUpload {
    upload.scan = scan;
    upload
}

fn upload_by(
    upload: NewUpload,
    actor: Actor,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> UploadDecision {
    Arc::new(move |t: &Task| documents::record_upload(t, &upload, &actor, tenant, now))
}

fn review_by_staff(
    verdict: Verdict,
    policy: UnscannablePolicy,
    now: DateTime<Utc>,
) -> FileDecision {
    Arc::new(move |t: &Task, f: &DocumentFile| {
        documents::review(t, f, &verdict, &staff(), policy, now)
    })
}

fn rescan_by_staff(verdict: ScanVerdict, now: DateTime<Utc>) -> FileDecision {
    Arc::new(move |t: &Task, f: &DocumentFile| documents::rescan(t, f, &verdict, &staff(), now))
}

/// A tenant, its portal and contact (from the testkit), and a client document upload
/// task asking for `documents`.
struct Docs {
    h: TestService,
    tenant: TenantId,
    portal: PortalId,
    task: Task,
    client: Actor,
}

async fn doc_task(h: &TestService, portal: PortalId, documents: &[&str]) -> Task {
    let tenant = h.service.store().portal(portal).await.unwrap().tenant_id;
    let staff = portal_core::testkit::admin(tenant);
    let phase = h
        .service
        .add_phase(&staff, portal, "Documents")
        .await
        .unwrap();
    h.service
        .add_task(
            &staff,
            portal,
            phase.id,
            TaskSpec {
                title: "Send us your documents".into(),
                description: "What we need to start.".into(),
                assignee: Side::Client,
                kind: TaskKind::DocumentUpload {
                    documents: documents
                        .iter()
                        .map(|d| RequestedDocument::new(*d, format!("The {d}")))
                        .collect(),
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
}

async fn docs(store: Arc<dyn Store>, seed: u64, documents: &[&str]) -> Docs {
    let h = TestService::new(store, seed);
    let Seeded {
        tenant,
        portal,
        contact,
        ..
    } = h.seed_portal().await.unwrap();
    let task = doc_task(&h, portal.id, documents).await;
    Docs {
        h,
        tenant: tenant.id,
        portal: portal.id,
        task,
        client: Actor::Client {
            contact_id: contact.id,
            name: contact.name,
            email: contact.email,
        },
    }
}

impl Docs {
    fn store(&self) -> Arc<dyn Store> {
        self.h.service.store().clone()
    }
}

/// Everything a reader can see of one task's files.
#[derive(Debug, PartialEq)]
struct Outcome {
    files: Vec<DocumentFile>,
    one_by_one: Vec<DocumentFile>,
    task: Task,
    feed: Vec<ActivityEntry>,
    queue: Vec<DocumentFile>,
}

async fn outcome(store: &dyn Store, tenant: TenantId, portal: PortalId, task: TaskId) -> Outcome {
    let files = store.document_files(portal).await.unwrap();
    let mut one_by_one = Vec::new();
    for f in &files {
        one_by_one.push(store.document_file(portal, f.id).await.unwrap());
    }
    Outcome {
        files,
        one_by_one,
        task: store.task(portal, task).await.unwrap(),
        feed: store.activity(portal, 1000).await.unwrap(),
        queue: store.review_queue(tenant, 1000).await.unwrap(),
    }
}

// ----- every field, both stores, reopened -------------------------------------------------

/// Uploads, reviews and rescans that leave one file in each review state and pass
/// through every scan verdict. Returns every file as a store call answered it.
async fn every_state(d: &Docs) -> Vec<DocumentFile> {
    let store = d.store();
    let (portal, task, tenant) = (d.portal, d.task.id, d.tenant);
    let mut answered = Vec::new();
    let add = |upload: NewUpload, actor: Actor, now| {
        let store = store.clone();
        async move {
            store
                .add_document_file(portal, task, upload_by(upload, actor, tenant, now))
                .await
                .unwrap()
        }
    };
    // 1: pending, then superseded by 3.
    let a = add(
        scanned(
            new_upload(1, "diagram", "network.pdf", FileType::Pdf, 1),
            ScanVerdict::Clean,
        ),
        d.client.clone(),
        at(1_234_567),
    )
    .await;
    answered.push(a);
    // 2: infected, so quarantined at once (the largest size a document may have).
    answered.push(
        add(
            scanned(
                new_upload(
                    2,
                    "contract",
                    "contract.png",
                    FileType::Png,
                    MAX_UPLOAD_BYTES,
                ),
                ScanVerdict::Infected {
                    signature: "EICAR-Test-File".into(),
                },
            ),
            d.client.clone(),
            at(2_000_001),
        )
        .await,
    );
    // 3: a second version by staff (no email), unscannable, then approved.
    answered.push(
        add(
            scanned(
                new_upload(3, "diagram", "network v2.txt", FileType::Text, 42),
                ScanVerdict::Unscannable {
                    reason: "a password-protected “archive”".into(),
                },
            ),
            Actor::Staff {
                name: "Uploader at the MSP".into(),
                email: None,
            },
            at(3_000_000),
        )
        .await,
    );
    // 4: not scanned, then rejected.
    answered.push(
        add(
            new_upload(
                4,
                "policy",
                "Política de segurança \"final\"\n.pdf",
                FileType::Pdf,
                123_456_789,
            ),
            d.client.clone(),
            at(4_000_000),
        )
        .await,
    );
    let reject = review_by_staff(
        Verdict::Reject {
            notes: "Please sign page 2.\nThanks!".into(),
        },
        UnscannablePolicy::Block,
        at(5_000_000),
    );
    answered.push(
        store
            .update_document_file(portal, file_id(4), reject)
            .await
            .unwrap(),
    );
    let approve = review_by_staff(
        Verdict::Approve {
            notes: Some("Looks good".into()),
        },
        UnscannablePolicy::Allow,
        at(6_000_000),
    );
    answered.push(
        store
            .update_document_file(portal, file_id(3), approve)
            .await
            .unwrap(),
    );
    // 5: a new version of the quarantined contract, not scanned, then rescanned clean.
    answered.push(
        add(
            new_upload(5, "contract", "contract-clean.pdf", FileType::Pdf, 0),
            d.client.clone(),
            at(7_000_000),
        )
        .await,
    );
    answered.push(
        store
            .update_document_file(
                portal,
                file_id(5),
                rescan_by_staff(ScanVerdict::Clean, at(8_000_000)),
            )
            .await
            .unwrap(),
    );
    answered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_round_trips_and_matches_the_reference_store() {
    let (_dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let d = docs(store, 31, &["diagram", "contract", "policy"]).await;
    let answered = every_state(&d).await;
    let seen = outcome(d.store().as_ref(), d.tenant, d.portal, d.task.id).await;

    // What the script was meant to cover, so a change to it cannot hollow the test.
    let reviews: BTreeSet<&str> = seen.files.iter().map(|f| f.review.as_str()).collect();
    assert_eq!(
        reviews,
        BTreeSet::from([
            "approved",
            "pending",
            "quarantined",
            "rejected",
            "superseded"
        ])
    );
    let verdicts: Vec<&ScanVerdict> = seen.files.iter().map(|f| &f.scan).collect();
    assert!(verdicts.contains(&&ScanVerdict::NotScanned));
    assert!(verdicts.contains(&&ScanVerdict::Clean));
    assert!(
        verdicts
            .iter()
            .any(|v| matches!(v, ScanVerdict::Infected { .. }))
    );
    assert!(
        verdicts
            .iter()
            .any(|v| matches!(v, ScanVerdict::Unscannable { .. }))
    );
    let review_of = |n: u8| {
        seen.files
            .iter()
            .find(|f| f.id == file_id(n))
            .map(|f| f.review.clone())
            .unwrap()
    };
    assert_eq!(review_of(1), FileReview::Superseded { by: file_id(3) });
    assert_eq!(review_of(2), FileReview::Quarantined);
    assert!(
        matches!(review_of(3), FileReview::Approved { notes: Some(ref n), .. } if n == "Looks good")
    );
    assert!(
        matches!(review_of(4), FileReview::Rejected { ref notes, .. } if notes == "Please sign page 2.\nThanks!")
    );
    assert_eq!(review_of(5), FileReview::Pending);

    // What each call answered is what is stored (the last answer for each file; the
    // superseded one was changed by the upload that replaced it).
    for f in &seen.files {
        let mut last = answered
            .iter()
            .rev()
            .find(|a| a.id == f.id)
            .unwrap()
            .clone();
        if f.id == file_id(1) {
            last.review = FileReview::Superseded { by: file_id(3) };
        }
        assert_eq!(&last, f, "file {}", f.id);
    }
    assert_eq!(seen.one_by_one, seen.files);
    let ids: Vec<FileId> = seen.files.iter().map(|f| f.id).collect();
    assert_eq!(
        ids,
        [1, 2, 3, 4, 5].map(file_id),
        "oldest upload first, not id order"
    );
    assert_eq!(
        seen.queue.iter().map(|f| f.id).collect::<Vec<_>>(),
        [file_id(5)]
    );
    assert_eq!(seen.task.evidence.documents.len(), 3);
    assert_eq!(seen.task.status, TaskStatus::InProgress);
    // The setup's entries (the portal, its contact, phase and task) aside.
    let setup = |k: ActivityKind| {
        k.is_staff_only() || k == ActivityKind::PhaseAdded || k == ActivityKind::TaskAdded
    };
    assert_eq!(
        seen.feed.iter().filter(|e| !setup(e.kind)).count(),
        8,
        "one entry per upload, review and rescan"
    );

    // The reference store, given the same calls, ends in the same state.
    let memory = docs(
        Arc::new(MemoryStore::new()),
        31,
        &["diagram", "contract", "policy"],
    )
    .await;
    assert_eq!(
        (memory.tenant, memory.portal, memory.task.id),
        (d.tenant, d.portal, d.task.id)
    );
    let memory_answered = every_state(&memory).await;
    assert_eq!(memory_answered, answered);
    assert_eq!(
        outcome(memory.store().as_ref(), d.tenant, d.portal, d.task.id).await,
        seen
    );

    // And a reopened database reads the same, field for field.
    let (tenant, portal, task) = (d.tenant, d.portal, d.task.id);
    drop(d);
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(outcome(&store, tenant, portal, task).await, seen);
    for f in &seen.files {
        assert!(store.blob_in_use(f.blob).await.unwrap());
    }
    assert!(!store.blob_in_use(BlobId::random(&OsRandom)).await.unwrap());
}

// ----- order ----------------------------------------------------------------------------

/// Files of one tenant in two portals (and of another tenant), most at the same
/// instant, committed in an order that is neither id order nor portal order.
struct Queue {
    tenant: TenantId,
    other_tenant: TenantId,
    p1: PortalId,
    p2: PortalId,
    p3: PortalId,
}

async fn queue_script(store: Arc<dyn Store>) -> Queue {
    let documents = ["d0", "d1", "d2", "d3"];
    let one = docs(store.clone(), 41, &documents).await;
    let p2 = one
        .h
        .service
        .create_portal(
            &portal_core::testkit::admin(one.tenant),
            "Fabrikam",
            PortalStatus::Active,
        )
        .await
        .unwrap();
    let t2 = doc_task(&one.h, p2.id, &documents).await;
    let other = docs(store.clone(), 42, &documents).await;
    let (p1, t1) = (one.portal, one.task.id);
    let (p3, t3) = (other.portal, other.task.id);
    let same = at(10_000_000);
    // Where each file goes: the tenant's two portals, then the other tenant's.
    let targets = [
        (p1, t1, one.tenant),
        (p2.id, t2.id, one.tenant),
        (p3, t3, other.tenant),
    ];
    let plan: [(u8, usize, &str, DateTime<Utc>); 9] = [
        (1, 0, "d0", same),
        (2, 1, "d0", same),
        (3, 2, "d0", same),
        (4, 0, "d1", same),
        (5, 1, "d1", at(5_000_000)),
        (6, 0, "d2", same),
        (7, 1, "d2", same),
        (8, 0, "d3", same),
        (9, 0, "d3", same),
    ];
    for (n, target, document, now) in plan {
        let (portal, task, tenant) = targets[target];
        let scan = if n == 7 {
            ScanVerdict::Infected {
                signature: "Eicar".into(),
            }
        } else {
            ScanVerdict::Clean
        };
        let upload = scanned(new_upload(n, document, "file.pdf", FileType::Pdf, 10), scan);
        store
            .add_document_file(portal, task, upload_by(upload, staff(), tenant, now))
            .await
            .unwrap();
        if n == 6 {
            let approve = review_by_staff(
                Verdict::Approve { notes: None },
                UnscannablePolicy::Block,
                same,
            );
            store
                .update_document_file(portal, file_id(6), approve)
                .await
                .unwrap();
        }
    }
    Queue {
        tenant: one.tenant,
        other_tenant: other.tenant,
        p1,
        p2: p2.id,
        p3,
    }
}

fn ids(files: &[DocumentFile]) -> Vec<FileId> {
    files.iter().map(|f| f.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equal_times_list_in_commit_order() {
    let (_dir, store) = fresh_store().await;
    let q = queue_script(store.clone()).await;

    // Pending only (6 approved, 7 quarantined, 8 superseded by 9), oldest first, ties in
    // commit order across the tenant's portals; never another tenant's.
    let queue = store.review_queue(q.tenant, 100).await.unwrap();
    assert_eq!(ids(&queue), [5, 1, 2, 4, 9].map(file_id));
    assert_eq!(
        ids(&store.review_queue(q.tenant, 2).await.unwrap()),
        [5, 1].map(file_id)
    );
    assert!(store.review_queue(q.tenant, 0).await.unwrap().is_empty());
    assert_eq!(
        ids(&store.review_queue(q.other_tenant, 100).await.unwrap()),
        [file_id(3)]
    );
    assert!(
        store
            .review_queue(TenantId::random(&OsRandom), 100)
            .await
            .unwrap()
            .is_empty()
    );

    // A portal's files: every version, whatever its review.
    assert_eq!(
        ids(&store.document_files(q.p1).await.unwrap()),
        [1, 4, 6, 8, 9].map(file_id)
    );
    assert_eq!(
        ids(&store.document_files(q.p2).await.unwrap()),
        [5, 2, 7].map(file_id)
    );
    assert_eq!(
        ids(&store.document_files(q.p3).await.unwrap()),
        [file_id(3)]
    );
    assert!(
        store
            .document_files(PortalId::random(&OsRandom))
            .await
            .unwrap()
            .is_empty()
    );

    // The reference store orders them the same way.
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let m = queue_script(memory.clone()).await;
    for limit in [0, 1, 3, 100] {
        assert_eq!(
            memory.review_queue(m.tenant, limit).await.unwrap(),
            store.review_queue(q.tenant, limit).await.unwrap()
        );
    }
    for (mp, sp) in [(m.p1, q.p1), (m.p2, q.p2), (m.p3, q.p3)] {
        assert_eq!(
            memory.document_files(mp).await.unwrap(),
            store.document_files(sp).await.unwrap()
        );
    }
}

// ----- supersede and refusals -----------------------------------------------------------

/// What a refused call must leave as it was.
async fn state(d: &Docs) -> (Vec<DocumentFile>, Task, Vec<ActivityEntry>) {
    let store = d.store();
    (
        store.document_files(d.portal).await.unwrap(),
        store.task(d.portal, d.task.id).await.unwrap(),
        store.activity(d.portal, 1000).await.unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_supersedes_only_a_pending_version_of_its_document() {
    let (_dir, store) = fresh_store().await;
    let d = docs(store.clone(), 51, &["diagram", "contract"]).await;
    let (portal, task, tenant) = (d.portal, d.task.id, d.tenant);
    let add = |n: u8, document: &str| {
        upload_by(
            new_upload(n, document, "f.pdf", FileType::Pdf, 1),
            d.client.clone(),
            tenant,
            at(i64::from(n)),
        )
    };
    let v1 = store
        .add_document_file(portal, task, add(1, "diagram"))
        .await
        .unwrap();
    let v2 = store
        .add_document_file(portal, task, add(2, "diagram"))
        .await
        .unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(
        store.document_file(portal, v1.id).await.unwrap().review,
        FileReview::Superseded { by: v2.id }
    );
    let contract = store
        .add_document_file(portal, task, add(3, "contract"))
        .await
        .unwrap();
    assert_eq!(
        store.document_file(portal, v2.id).await.unwrap().review,
        FileReview::Pending,
        "another document's upload supersedes nothing"
    );

    // A change that names a file of another document (or one that does not exist) as
    // superseded: the store leaves it alone, as the reference store does.
    for (n, named) in [(4u8, contract.id), (5, FileId::random(&OsRandom))] {
        let base = add(n, "diagram");
        let stray: UploadDecision = Arc::new(move |t: &Task| {
            let mut change = base(t)?;
            change.superseded = Some(named);
            Ok(change)
        });
        store.add_document_file(portal, task, stray).await.unwrap();
    }
    assert_eq!(
        store
            .document_file(portal, contract.id)
            .await
            .unwrap()
            .review,
        FileReview::Pending
    );
    assert_eq!(
        store.document_file(portal, v2.id).await.unwrap().review,
        FileReview::Pending,
        "only the file the change names is superseded"
    );

    // After a review, the next version supersedes nothing.
    let reject = review_by_staff(
        Verdict::Reject {
            notes: "Blurry".into(),
        },
        UnscannablePolicy::Block,
        at(6),
    );
    store
        .update_document_file(portal, file_id(5), reject)
        .await
        .unwrap();
    let v6 = store
        .add_document_file(portal, task, add(6, "diagram"))
        .await
        .unwrap();
    assert_eq!(
        v6.version, 5,
        "numbered after the last version of the document"
    );
    assert!(matches!(
        store
            .document_file(portal, file_id(5))
            .await
            .unwrap()
            .review,
        FileReview::Rejected { .. }
    ));
    let t = store.task(portal, task).await.unwrap();
    let diagram = &t.evidence.documents["diagram"];
    assert_eq!((diagram.current, diagram.versions), (v6.id, 5));
    assert_eq!(diagram.status, DocumentStatus::Uploaded);
}

/// What a crafted decision points at: another portal's task, and a stored file.
#[derive(Clone)]
struct Stray {
    portal: PortalId,
    task: TaskId,
    pending: DocumentFile,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_uploads_write_nothing() {
    let (_dir, store) = fresh_store().await;
    let d = docs(store.clone(), 61, &["diagram"]).await;
    let other = docs(store.clone(), 62, &["diagram"]).await;
    let (portal, task, tenant) = (d.portal, d.task.id, d.tenant);
    let upload = |n: u8| new_upload(n, "diagram", "f.pdf", FileType::Pdf, 1);
    let pending = store
        .add_document_file(
            portal,
            task,
            upload_by(upload(1), d.client.clone(), tenant, at(1)),
        )
        .await
        .unwrap();
    let before = state(&d).await;
    let other_before = state(&other).await;

    // Through another portal: NotFound(Task), and the decision is never asked.
    let calls = Arc::new(AtomicUsize::new(0));
    let counted: UploadDecision = {
        let (calls, base) = (
            calls.clone(),
            upload_by(upload(2), d.client.clone(), tenant, at(2)),
        );
        Arc::new(move |t: &Task| {
            calls.fetch_add(1, Ordering::SeqCst);
            base(t)
        })
    };
    assert!(matches!(
        store
            .add_document_file(other.portal, task, counted.clone())
            .await,
        Err(Error::NotFound {
            entity: Entity::Task
        })
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // The decision's own error comes back unchanged.
    let forbidden: UploadDecision = Arc::new(|_t: &Task| {
        Err(Error::Forbidden {
            reason: "not yours".into(),
        })
    });
    assert!(matches!(
        store.add_document_file(portal, task, forbidden).await,
        Err(Error::Forbidden { reason }) if reason == "not yours"
    ));

    let stray = Stray {
        portal: other.portal,
        task: other.task.id,
        pending: pending.clone(),
    };
    let crafted = |n: u8, edit: fn(&mut DocumentChange, &Stray)| {
        let base = upload_by(upload(n), d.client.clone(), tenant, at(i64::from(n)));
        let stray = stray.clone();
        let decide: UploadDecision = Arc::new(move |t: &Task| {
            let mut change = base(t)?;
            edit(&mut change, &stray);
            Ok(change)
        });
        decide
    };
    // A file of another task, or of a document the task does not ask for.
    let foreign_task = crafted(3, |c, s| c.file.task_id = s.task);
    assert!(matches!(
        store.add_document_file(portal, task, foreign_task).await,
        Err(Error::Invalid { field: "file", .. })
    ));
    let unknown_document = crafted(4, |c, _| c.file.document_id = "nope".into());
    assert!(matches!(
        store
            .add_document_file(portal, task, unknown_document)
            .await,
        Err(Error::Invalid { field: "file", .. })
    ));
    // A file id that exists.
    let existing = crafted(5, |c, s| c.file.id = s.pending.id);
    assert!(matches!(
        store.add_document_file(portal, task, existing).await,
        Err(Error::Conflict { .. })
    ));
    // An activity entry of another portal.
    let foreign_feed = crafted(6, |c, s| c.task.activity.portal_id = s.portal);
    assert!(matches!(
        store.add_document_file(portal, task, foreign_feed).await,
        Err(Error::Invalid {
            field: "activity",
            ..
        })
    ));
    // A write that fails half-way (the pending version was already superseded when the
    // new row's blob clashes with it) is rolled back whole. The reference store has no
    // blob uniqueness; this store refuses a blob that two records would share.
    let half_way = crafted(7, |c, s| c.file.blob = s.pending.blob);
    let Err(Error::Conflict { .. }) = store.add_document_file(portal, task, half_way).await else {
        panic!("a shared blob was accepted");
    };

    assert_eq!(
        state(&d).await,
        before,
        "nothing of the refused uploads was written"
    );
    assert_eq!(state(&other).await, other_before);
    assert_eq!(
        store
            .document_file(portal, pending.id)
            .await
            .unwrap()
            .review,
        FileReview::Pending
    );
    // The decision that was refused through the wrong portal works through its own.
    let file = store
        .add_document_file(portal, task, counted)
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(file.version, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_changes_only_the_verdict_and_the_review() {
    let (_dir, store) = fresh_store().await;
    let d = docs(store.clone(), 71, &["diagram"]).await;
    let other = docs(store.clone(), 72, &["diagram"]).await;
    let (portal, task, tenant) = (d.portal, d.task.id, d.tenant);
    let file = store
        .add_document_file(
            portal,
            task,
            upload_by(
                new_upload(1, "diagram", "f.pdf", FileType::Pdf, 1),
                d.client.clone(),
                tenant,
                at(1),
            ),
        )
        .await
        .unwrap();
    let before = state(&d).await;

    let calls = Arc::new(AtomicUsize::new(0));
    let approve = review_by_staff(
        Verdict::Approve { notes: None },
        UnscannablePolicy::Block,
        at(2),
    );
    let counted: FileDecision = {
        let (calls, approve) = (calls.clone(), approve.clone());
        Arc::new(move |t: &Task, f: &DocumentFile| {
            calls.fetch_add(1, Ordering::SeqCst);
            approve(t, f)
        })
    };
    for (through, id) in [(other.portal, file.id), (portal, FileId::random(&OsRandom))] {
        assert!(matches!(
            store
                .update_document_file(through, id, counted.clone())
                .await,
            Err(Error::NotFound {
                entity: Entity::File
            })
        ));
        assert!(matches!(
            store.document_file(through, id).await,
            Err(Error::NotFound {
                entity: Entity::File
            })
        ));
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "never asked about a file it cannot see"
    );
    let refuse: FileDecision =
        Arc::new(|_t: &Task, _f: &DocumentFile| Err(Error::conflict("already reviewed")));
    assert!(matches!(
        store.update_document_file(portal, file.id, refuse).await,
        Err(Error::Conflict { reason }) if reason == "already reviewed"
    ));
    let (other_portal, other_task) = (other.portal, other.task.id);
    for edit in [
        Box::new(move |c: &mut DocumentChange| c.file.portal_id = other_portal)
            as Box<dyn Fn(&mut DocumentChange) + Send + Sync>,
        Box::new(move |c: &mut DocumentChange| c.file.task_id = other_task),
        Box::new(move |c: &mut DocumentChange| c.task.activity.portal_id = other_portal),
    ] {
        let approve = approve.clone();
        let stray: FileDecision = Arc::new(move |t: &Task, f: &DocumentFile| {
            let mut change = approve(t, f)?;
            edit(&mut change);
            Ok(change)
        });
        assert!(matches!(
            store.update_document_file(portal, file.id, stray).await,
            Err(Error::Invalid { .. })
        ));
    }
    assert_eq!(
        state(&d).await,
        before,
        "nothing of the refused reviews was written"
    );

    // A decision that also rewrites what an upload fixed: only the verdict and the
    // review are kept.
    let greedy: FileDecision = Arc::new(move |t: &Task, f: &DocumentFile| {
        let mut change = approve(t, f)?;
        let mut rewritten = new_upload(9, "diagram", "renamed.exe", FileType::Text, 999);
        rewritten.id = f.id;
        change.file.name = rewritten.name;
        change.file.size = rewritten.size;
        change.file.file_type = rewritten.file_type;
        change.file.sha256 = rewritten.sha256;
        change.file.blob = rewritten.blob;
        change.file.key = rewritten.key;
        change.file.version = 7;
        change.file.uploaded_at = at(99);
        change.file.uploaded_by = staff();
        change.file.scan = ScanVerdict::Clean;
        Ok(change)
    });
    let written = store
        .update_document_file(portal, file.id, greedy)
        .await
        .unwrap();
    let FileReview::Approved {
        ref by,
        at: when,
        notes: None,
    } = written.review
    else {
        panic!("not approved: {:?}", written.review);
    };
    assert_eq!((by, when), (&staff(), at(2)));
    assert_eq!(
        written,
        DocumentFile {
            scan: ScanVerdict::Clean,
            review: written.review.clone(),
            ..file.clone()
        }
    );
    assert_eq!(store.document_file(portal, file.id).await.unwrap(), written);
    let t = store.task(portal, task).await.unwrap();
    assert_eq!(
        t.status,
        TaskStatus::Completed,
        "its only document is approved"
    );
    assert_eq!(
        store.activity(portal, 1).await.unwrap()[0].kind,
        ActivityKind::DocumentApproved
    );
    assert!(store.review_queue(tenant, 10).await.unwrap().is_empty());
}

// ----- key rotation ---------------------------------------------------------------------

/// Thirty files of one task, wrapped by three keys in turn, with random ids.
async fn thirty_files(store: Arc<dyn Store>) -> Docs {
    let names: Vec<String> = (0..30).map(|i| format!("d{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let d = docs(store.clone(), 81, &refs).await;
    let rng = SeededRandom::new(82);
    for (i, name) in names.iter().enumerate() {
        let n = u8::try_from(i).unwrap() + 1;
        let mut upload = new_upload(n, name, "f.pdf", FileType::Pdf, 1);
        upload.id = FileId::random(&rng);
        upload.key = key(["k1", "k2", "k3"][i % 3], n);
        store
            .add_document_file(
                d.portal,
                d.task.id,
                upload_by(upload, staff(), d.tenant, at(1)),
            )
            .await
            .unwrap();
    }
    d
}

async fn all_pages(store: &dyn Store, active: &KeyId, limit: usize) -> Vec<DocumentFile> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.files_to_rewrap(active, after, limit).await.unwrap();
        assert!(page.len() <= limit);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        out.extend(page);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_pages_through_stale_keys_by_id() {
    let (_dir, store) = fresh_store().await;
    let d = thirty_files(store.clone()).await;
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    thirty_files(memory.clone()).await;

    let k1 = KeyId::parse("k1").unwrap();
    let mut expected: Vec<DocumentFile> = store
        .document_files(d.portal)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.key.key_id != k1)
        .collect();
    expected.sort_by_key(|f| f.id);
    assert_eq!(expected.len(), 20);
    for limit in [1, 2, 7, 20, 100] {
        assert_eq!(
            all_pages(store.as_ref(), &k1, limit).await,
            expected,
            "pages of {limit}"
        );
        assert_eq!(
            store.files_to_rewrap(&k1, None, limit).await.unwrap(),
            memory.files_to_rewrap(&k1, None, limit).await.unwrap()
        );
    }
    let middle = expected[9].id;
    assert_eq!(
        store.files_to_rewrap(&k1, Some(middle), 5).await.unwrap(),
        memory.files_to_rewrap(&k1, Some(middle), 5).await.unwrap()
    );
    assert_eq!(
        store.files_to_rewrap(&k1, Some(middle), 5).await.unwrap(),
        expected[10..15].to_vec()
    );
    assert!(
        store
            .files_to_rewrap(&k1, None, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let unused = KeyId::parse("k9").unwrap();
    assert_eq!(all_pages(store.as_ref(), &unused, 8).await.len(), 30);

    // Re-wrapping every stale file leaves nothing to do.
    for f in &expected {
        assert!(
            store
                .replace_file_key(f.id, &f.key, &key("k1", 200))
                .await
                .unwrap()
        );
    }
    assert!(
        store
            .files_to_rewrap(&k1, None, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replace_file_key_is_a_compare_and_set() {
    let (_dir, store) = fresh_store().await;
    let d = docs(store.clone(), 91, &["diagram"]).await;
    let file = store
        .add_document_file(
            d.portal,
            d.task.id,
            upload_by(
                new_upload(1, "diagram", "f.pdf", FileType::Pdf, 1),
                d.client.clone(),
                d.tenant,
                at(1),
            ),
        )
        .await
        .unwrap();
    let task_before = store.task(d.portal, d.task.id).await.unwrap();
    let old = file.key.clone();
    let new = key("k2", 2);
    assert!(store.replace_file_key(file.id, &old, &new).await.unwrap());
    let stored = store.document_file(d.portal, file.id).await.unwrap();
    assert_eq!(
        stored,
        DocumentFile {
            key: new.clone(),
            ..file.clone()
        },
        "only the key changed"
    );
    // The key it was read with is gone: a second rotation with it changes nothing.
    assert!(
        !store
            .replace_file_key(file.id, &old, &key("k3", 3))
            .await
            .unwrap()
    );
    // Same key id, other bytes: not the same key.
    let other_bytes = WrappedKey {
        key_id: new.key_id.clone(),
        bytes: old.bytes.clone(),
    };
    assert!(
        !store
            .replace_file_key(file.id, &other_bytes, &key("k3", 3))
            .await
            .unwrap()
    );
    assert_eq!(
        store.document_file(d.portal, file.id).await.unwrap().key,
        new
    );
    assert!(matches!(
        store
            .replace_file_key(FileId::random(&OsRandom), &new, &key("k3", 3))
            .await,
        Err(Error::NotFound {
            entity: Entity::File
        })
    ));

    // Sixteen rotations racing from the same key: exactly one wins, and its key stays.
    let mut racers = Vec::new();
    for i in 0..16u8 {
        let (store, expected) = (store.clone(), new.clone());
        racers.push(tokio::spawn(async move {
            let mine = key("k4", 100 + i);
            let won = store
                .replace_file_key(file.id, &expected, &mine)
                .await
                .unwrap();
            (won, mine)
        }));
    }
    let mut winners = Vec::new();
    for r in racers {
        let (won, mine) = r.await.unwrap();
        if won {
            winners.push(mine);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation replaced the key");
    assert_eq!(
        store.document_file(d.portal, file.id).await.unwrap().key,
        winners[0]
    );
    assert_eq!(
        store.task(d.portal, d.task.id).await.unwrap(),
        task_before,
        "a rotation does not touch the task"
    );
}

// ----- concurrency and crashes ----------------------------------------------------------

/// Checks that a document's versions form one chain: numbered 1..=n in upload order,
/// each superseded by the next, the last pending and current in the task's evidence,
/// one feed entry per upload. Returns the versions' ids.
async fn check_chain(store: &dyn Store, portal: PortalId, task: TaskId) -> Vec<FileId> {
    let files = store.document_files(portal).await.unwrap();
    let versions: Vec<u32> = files.iter().map(|f| f.version).collect();
    let n = u32::try_from(files.len()).unwrap();
    assert_eq!(
        versions,
        (1..=n).collect::<Vec<_>>(),
        "versions 1..={n} in upload order"
    );
    for pair in files.windows(2) {
        assert_eq!(pair[0].review, FileReview::Superseded { by: pair[1].id });
    }
    let t = store.task(portal, task).await.unwrap();
    match files.last() {
        Some(last) => {
            assert_eq!(last.review, FileReview::Pending);
            let state = &t.evidence.documents["diagram"];
            assert_eq!((state.current, state.versions), (last.id, n));
        }
        None => assert!(t.evidence.documents.is_empty()),
    }
    let uploads = store
        .activity(portal, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == ActivityKind::DocumentUploaded)
        .count();
    assert_eq!(uploads, files.len(), "one feed entry per stored upload");
    files.iter().map(|f| f.id).collect()
}

fn fresh_upload(document: &str) -> NewUpload {
    NewUpload {
        id: FileId::random(&OsRandom),
        blob: BlobId::random(&OsRandom),
        ..new_upload(1, document, "f.pdf", FileType::Pdf, 1)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uploads_of_a_document_number_its_versions() {
    let (_dir, store) = fresh_store().await;
    let d = docs(store.clone(), 101, &["diagram"]).await;
    let mut handles = Vec::new();
    for _ in 0..24 {
        let (store, portal, task, tenant) = (store.clone(), d.portal, d.task.id, d.tenant);
        // One instant for all: the versions list in commit order.
        let decide = upload_by(fresh_upload("diagram"), d.client.clone(), tenant, at(7));
        handles.push(tokio::spawn(async move {
            store.add_document_file(portal, task, decide).await
        }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    assert_eq!(
        check_chain(store.as_ref(), d.portal, d.task.id).await.len(),
        24
    );
}

const CRASH_DB: &str = "PORTAL_DOCS_CRASH_DB";
const CRASH_TARGET: &str = "PORTAL_DOCS_CRASH_TARGET";
const CRASH_ACKED: &str = "PORTAL_DOCS_CRASH_ACKED";
/// Uploads the child keeps in flight at once.
const CRASH_WORKERS: usize = 4;

/// The child of [`killed_uploads_leave_consistent_records`]: uploads new versions of
/// one document from several workers until its parent kills it, appending each
/// acknowledged file id to a file. Does nothing when run by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "started by killed_uploads_leave_consistent_records"]
async fn crash_child_upload_forever() {
    let (Ok(db), Ok(target), Ok(acked)) = (
        std::env::var(CRASH_DB),
        std::env::var(CRASH_TARGET),
        std::env::var(CRASH_ACKED),
    ) else {
        return;
    };
    let parts: Vec<&str> = target.split(' ').collect();
    let tenant: TenantId = parts[0].parse().unwrap();
    let portal: PortalId = parts[1].parse().unwrap();
    let task: TaskId = parts[2].parse().unwrap();
    let store = Arc::new(SqliteStore::open(db).await.unwrap());
    let log = Arc::new(Mutex::new(
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(acked)
            .unwrap(),
    ));
    let mut workers = Vec::new();
    for _ in 0..CRASH_WORKERS {
        let (store, log) = (store.clone(), log.clone());
        workers.push(tokio::spawn(async move {
            for _ in 0u64.. {
                let upload = fresh_upload("diagram");
                let id = upload.id;
                // One instant for all: the versions list in commit order.
                let decide = upload_by(upload, staff(), tenant, at(7));
                store.add_document_file(portal, task, decide).await.unwrap();
                writeln!(log.lock().unwrap(), "{id}").unwrap();
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
}

/// Kills the child if the parent fails before it does, so no uploader outlives a test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIGKILL while uploads are being written and committed: every acknowledged upload is
/// there after reopening, and whatever else is there forms whole units (file, superseded
/// version, task evidence and feed entry together).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_uploads_leave_consistent_records() {
    let (dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let d = docs(store, 111, &["diagram"]).await;
    let (tenant, portal, task) = (d.tenant, d.portal, d.task.id);
    drop(d);
    let acked_path = dir.path().join("acked");
    let mut child = KillOnDrop(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "documents::crash_child_upload_forever",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(CRASH_DB, &path)
            .env(CRASH_TARGET, format!("{tenant} {portal} {task}"))
            .env(CRASH_ACKED, &acked_path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let acked = |p: &Path| -> Vec<FileId> {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect()
    };
    let started = Instant::now();
    while acked(&acked_path).len() < 40 {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("the child ended before it was killed: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the child acknowledged only {} uploads in 30 s",
            acked(&acked_path).len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.0.kill().unwrap(); // SIGKILL: the writer thread dies wherever it is.
    let status = child.0.wait().unwrap();
    assert!(!status.success(), "the child was killed: {status}");

    let acked = acked(&acked_path);
    let store = SqliteStore::open(&path).await.unwrap();
    let stored = check_chain(&store, portal, task).await;
    let stored_set: BTreeSet<FileId> = stored.iter().copied().collect();
    for id in &acked {
        assert!(stored_set.contains(id), "acknowledged upload {id} was lost");
    }
    assert!(
        stored.len() <= acked.len() + CRASH_WORKERS,
        "{} stored, {} acknowledged: more than the uploads in flight",
        stored.len(),
        acked.len()
    );
    // The store keeps working on the recovered database.
    let next = store
        .add_document_file(
            portal,
            task,
            upload_by(fresh_upload("diagram"), staff(), tenant, at(1_000_000_000)),
        )
        .await
        .unwrap();
    assert_eq!(next.version as usize, stored.len() + 1);
    check_chain(&store, portal, task).await;
}
