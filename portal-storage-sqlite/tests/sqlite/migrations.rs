//! Reopening keeps data; migrations run once, upgrade old databases and refuse newer ones.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use chrono::TimeDelta;
use portal_core::access::SessionPolicy;
use portal_core::model::{Branding, Side, TaskKind, TaskStatus};
use portal_core::testkit::{Seeded, TestService, request, t0};
use portal_core::workflow::TaskEvidence;
use portal_core::{
    DirectoryStore, Error, PhaseId, PortalId, SeededRandom, Store, TaskId, TaskSpec, TenantId,
    WorkflowStore,
};
use portal_storage_sqlite::SqliteStore;

use crate::temp_db;
use crate::workflow::{complete, evidence};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_data() {
    let (_dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let h = TestService::new(store, 11);
    let Seeded {
        tenant,
        portal,
        contact,
        staff,
    } = h.seed_portal().await.unwrap();
    let phase = h
        .service
        .add_phase(&staff, portal.id, "Kickoff")
        .await
        .unwrap();
    let task = h
        .service
        .add_task(
            &staff,
            portal.id,
            phase.id,
            TaskSpec {
                title: "Sign the contract".into(),
                description: "Please sign.".into(),
                assignee: Side::Client,
                kind: TaskKind::Training {
                    video_url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ".into(),
                },
                due_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()),
            },
        )
        .await
        .unwrap();
    let (session, _) = h.sign_in(&contact).await.unwrap();
    let before = h.service.store().portal_snapshot(portal.id).await.unwrap();
    drop(h);

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    assert_eq!(store.tenant(tenant.id).await.unwrap(), tenant);
    assert_eq!(store.portal(portal.id).await.unwrap(), portal);
    assert_eq!(store.contact(contact.id).await.unwrap(), contact);
    let after = store.portal_snapshot(portal.id).await.unwrap();
    assert_eq!(after, before);
    assert_eq!(after.tasks, vec![task]);
    let ctx = store
        .authenticate(
            &session.hash(),
            t0() + TimeDelta::minutes(1),
            &SessionPolicy::default(),
            &request(),
        )
        .await
        .unwrap();
    assert_eq!(ctx.contact_id, contact.id);
    assert!(
        store
            .access_log(portal.id, 100)
            .await
            .unwrap()
            .iter()
            .any(|e| e.request.ip == request().ip),
        "the access log survives reopening"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_schema_is_refused() {
    let (_dir, path) = temp_db();
    drop(SqliteStore::open(&path).await.unwrap());
    let newer = i64::from(portal_storage_sqlite::migrations::LATEST) + 1;
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", newer).unwrap();
    }
    match SqliteStore::open(&path).await {
        Err(Error::Storage { message, .. }) => {
            assert!(message.contains("newer version"), "{message}");
        }
        other => panic!("expected a storage error, got {other:?}"),
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, newer, "the newer database is left untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_applied_once() {
    let (_dir, path) = temp_db();
    drop(SqliteStore::open(&path).await.unwrap());
    drop(SqliteStore::open(&path).await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, portal_storage_sqlite::migrations::LATEST);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

/// A database created by the first release (schema version 1) opens, gains the
/// workflow tables, and its tasks read back with no evidence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_database_is_migrated() {
    use portal_storage_sqlite::migrations::{LATEST, MIGRATIONS};

    let (_dir, path) = temp_db();
    let rng = SeededRandom::new(10);
    let (tenant, portal, phase, task) = (
        TenantId::random(&rng),
        PortalId::random(&rng),
        PhaseId::random(&rng),
        TaskId::random(&rng),
    );
    let branding = Branding::new("Acme IT", "#1f6feb", "Welcome", None).unwrap();
    let branding = serde_json::to_string(&branding).unwrap();
    let us = t0().timestamp_micros();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO tenants VALUES (?1, 'Acme', ?2, '[]', ?3)",
            rusqlite::params![&tenant.as_bytes()[..], branding, us],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO portals VALUES (?1, ?2, 'Client Co', 'active', ?3, ?4)",
            rusqlite::params![&portal.as_bytes()[..], &tenant.as_bytes()[..], branding, us],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO phases VALUES (?1, 0, ?2, 'Kickoff')",
            rusqlite::params![&portal.as_bytes()[..], &phase.as_bytes()[..]],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO tasks (portal_id, phase_id, position, id, title, description,
                assignee, kind, status, blocked_reason, due_date, created_at, updated_at)
             VALUES (?1, ?2, 0, ?3, 'Sign', 'Please sign.', 'client', '{\"type\":\"standard\"}',
                'in_progress', NULL, '2026-12-24', ?4, ?4)",
            rusqlite::params![
                &portal.as_bytes()[..],
                &phase.as_bytes()[..],
                &task.as_bytes()[..],
                us
            ],
        )
        .unwrap();
    }

    let store = SqliteStore::open(&path).await.unwrap();
    let read = store.task(portal, task).await.unwrap();
    assert_eq!(read.title, "Sign");
    assert_eq!(read.status, TaskStatus::InProgress);
    assert_eq!(read.kind, TaskKind::Standard);
    assert_eq!(read.evidence, TaskEvidence::default());
    assert_eq!(read.created_at, t0());
    let snapshot = store.portal_snapshot(portal).await.unwrap();
    assert_eq!(snapshot.tasks, vec![read.clone()]);
    // The new tables work on the migrated database.
    let calls = Arc::new(AtomicUsize::new(0));
    let done = store
        .update_task(portal, task, complete(calls))
        .await
        .unwrap();
    assert_eq!(done.evidence, evidence());
    assert_eq!(store.activity(portal, 10).await.unwrap().len(), 1);
    drop(store);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, LATEST);
}

/// A version-2 database keeps its verifications, under the new rules: one started
/// before its invite was re-issued is ended (a re-invite cannot revive it), a later
/// one gets the default lifetime from its start, and its first email counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_database_gets_verification_lifetimes_and_ends() {
    use portal_core::secret::{CodeHash, TokenHash};
    use portal_core::store::NewCode;
    use portal_core::{AccessPolicy, AccessStore, ContactId, Entity, Limit};
    use portal_storage_sqlite::migrations::MIGRATIONS;

    let (_dir, path) = temp_db();
    let rng = SeededRandom::new(11);
    let (tenant, portal, contact) = (
        TenantId::random(&rng),
        PortalId::random(&rng),
        ContactId::random(&rng),
    );
    let branding = Branding::new("Acme IT", "#1f6feb", "Welcome", None).unwrap();
    let branding = serde_json::to_string(&branding).unwrap();
    let at = |d: TimeDelta| (t0() + d).timestamp_micros();
    let (old, live) = (
        TokenHash::from_bytes([1; 32]),
        TokenHash::from_bytes([2; 32]),
    );
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(MIGRATIONS[1]).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute(
            "INSERT INTO tenants VALUES (?1, 'Acme', ?2, '[]', ?3)",
            rusqlite::params![&tenant.as_bytes()[..], branding, at(TimeDelta::zero())],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO portals VALUES (?1, ?2, 'Client Co', 'active', ?3, ?4)",
            rusqlite::params![
                &portal.as_bytes()[..],
                &tenant.as_bytes()[..],
                branding,
                at(TimeDelta::zero())
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO contacts VALUES (?1, ?2, 'Jane', 'jane@client.example', NULL, ?3)",
            rusqlite::params![
                &contact.as_bytes()[..],
                &portal.as_bytes()[..],
                at(TimeDelta::zero())
            ],
        )
        .unwrap();
        // The invite was re-issued ten minutes in.
        conn.execute(
            "INSERT INTO invites VALUES (?1, ?2, ?3, NULL)",
            rusqlite::params![
                &contact.as_bytes()[..],
                &[9u8; 32][..],
                at(TimeDelta::minutes(10))
            ],
        )
        .unwrap();
        for (v, started, byte) in [(old, 0, 3u8), (live, 20, 5u8)] {
            conn.execute(
                "INSERT INTO verifications (token_hash, contact_id, started_at, codes_issued,
                    code_hash, magic_hash, code_expires_at, wrong_attempts)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, 0)",
                rusqlite::params![
                    &v.as_bytes()[..],
                    &contact.as_bytes()[..],
                    at(TimeDelta::minutes(started)),
                    &[byte; 32][..],
                    &[byte + 1; 32][..],
                    at(TimeDelta::minutes(started + 30))
                ],
            )
            .unwrap();
        }
    }

    let store = SqliteStore::open(&path).await.unwrap();
    let now = t0() + TimeDelta::minutes(21);
    match store.verification(&old, now).await {
        Err(Error::NotFound {
            entity: Entity::Verification,
        }) => {}
        other => panic!("a verification older than its invite was not ended: {other:?}"),
    }
    store.verification(&live, now).await.unwrap();
    let end = t0() + TimeDelta::minutes(20 + 150);
    store.verification(&live, end).await.unwrap();
    match store.verification(&live, end + TimeDelta::seconds(1)).await {
        Err(Error::Expired {
            entity: Entity::Verification,
        }) => {}
        other => panic!("a migrated verification got no lifetime: {other:?}"),
    }
    // Its first email counts: with a limit of one email, no resend goes.
    let one = AccessPolicy {
        max_emails_per_contact: 1,
        ..AccessPolicy::default()
    };
    let resend = NewCode {
        code_hash: CodeHash::from_bytes([7; 32]),
        magic_hash: TokenHash::from_bytes([8; 32]),
        issued_at: now,
        expires_at: now + TimeDelta::minutes(30),
    };
    match store.issue_code(&live, &resend, &one).await {
        Err(Error::LimitReached(Limit::EmailsPerContact)) => {}
        other => panic!("the migrated verification's email did not count: {other:?}"),
    }
    store
        .issue_code(&live, &resend, &AccessPolicy::default())
        .await
        .unwrap();
}

/// A version-4 database (before document uploads) with a document upload task, its
/// feed and a comment opens, gains the file table, keeps what it had, and takes
/// uploads, reviews and key rotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_4_database_takes_document_uploads() {
    use portal_core::blob::keyring::{KeyId, WrappedKey};
    use portal_core::files::FileType;
    use portal_core::ids::{BlobId, FileId};
    use portal_core::model::RequestedDocument;
    use portal_core::scan::{ScanVerdict, UnscannablePolicy};
    use portal_core::store::DocumentStore;
    use portal_core::workflow::documents::{self, NewUpload, UploadDecision, Verdict};
    use portal_core::workflow::{ActivityKind, Actor, FileReview};
    use portal_storage_sqlite::migrations::{LATEST, MIGRATIONS};

    let (_dir, path) = temp_db();
    let rng = SeededRandom::new(12);
    let (tenant, portal, phase, task) = (
        TenantId::random(&rng),
        PortalId::random(&rng),
        PhaseId::random(&rng),
        TaskId::random(&rng),
    );
    let branding = Branding::new("Acme IT", "#1f6feb", "Welcome", None).unwrap();
    let branding = serde_json::to_string(&branding).unwrap();
    let kind = TaskKind::DocumentUpload {
        documents: vec![RequestedDocument::new("diagram", "Network diagram")],
    };
    let staff = Actor::Staff {
        name: "Sam".into(),
        email: None,
    };
    let us = t0().timestamp_micros();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        conn.execute(
            "INSERT INTO tenants VALUES (?1, 'Acme', ?2, '[]', ?3)",
            rusqlite::params![&tenant.as_bytes()[..], branding, us],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO portals VALUES (?1, ?2, 'Client Co', 'active', ?3, ?4)",
            rusqlite::params![&portal.as_bytes()[..], &tenant.as_bytes()[..], branding, us],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO phases VALUES (?1, 0, ?2, 'Kickoff')",
            rusqlite::params![&portal.as_bytes()[..], &phase.as_bytes()[..]],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO tasks (portal_id, phase_id, position, id, title, description,
                assignee, kind, status, blocked_reason, due_date, created_at, updated_at)
             VALUES (?1, ?2, 0, ?3, 'Documents', 'Send them.', 'client', ?4,
                'pending', NULL, NULL, ?5, ?5)",
            rusqlite::params![
                &portal.as_bytes()[..],
                &phase.as_bytes()[..],
                &task.as_bytes()[..],
                serde_json::to_string(&kind).unwrap(),
                us
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO comments VALUES (?1, ?2, 0, ?3, ?4, 'Where is it?')",
            rusqlite::params![
                &portal.as_bytes()[..],
                &task.as_bytes()[..],
                us,
                serde_json::to_string(&staff).unwrap()
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO activity (portal_id, at, actor, kind, task_id, subject, detail)
             VALUES (?1, ?2, ?3, 'commented', ?4, 'Documents', NULL)",
            rusqlite::params![
                &portal.as_bytes()[..],
                us,
                serde_json::to_string(&staff).unwrap(),
                &task.as_bytes()[..]
            ],
        )
        .unwrap();
    }

    let store = SqliteStore::open(&path).await.unwrap();
    let before = store.task(portal, task).await.unwrap();
    assert_eq!(before.kind, kind);
    assert_eq!(before.evidence, TaskEvidence::default());
    assert!(store.document_files(portal).await.unwrap().is_empty());
    assert!(store.review_queue(tenant, 10).await.unwrap().is_empty());

    let file_id = FileId::random(&rng);
    let upload = NewUpload {
        id: file_id,
        document_id: "diagram".into(),
        name: "network.pdf".into(),
        file_type: FileType::Pdf,
        size: 2048,
        sha256: [3; 32],
        blob: BlobId::random(&rng),
        key: WrappedKey {
            key_id: KeyId::parse("k1").unwrap(),
            bytes: vec![4; 44],
        },
        scan: ScanVerdict::Clean,
    };
    let by = staff.clone();
    let decide: UploadDecision = Arc::new(move |t: &portal_core::model::Task| {
        documents::record_upload(t, &upload, &by, tenant, t0())
    });
    let file = store.add_document_file(portal, task, decide).await.unwrap();
    assert_eq!(
        store.document_files(portal).await.unwrap(),
        vec![file.clone()]
    );
    assert_eq!(
        store.review_queue(tenant, 10).await.unwrap(),
        vec![file.clone()]
    );
    let approve: documents::FileDecision = Arc::new(|t, f| {
        documents::review(
            t,
            f,
            &Verdict::Approve { notes: None },
            &Actor::Staff {
                name: "Sam".into(),
                email: None,
            },
            UnscannablePolicy::Block,
            t0(),
        )
    });
    let approved = store
        .update_document_file(portal, file_id, approve)
        .await
        .unwrap();
    assert!(matches!(approved.review, FileReview::Approved { .. }));
    assert_eq!(
        store.task(portal, task).await.unwrap().status,
        TaskStatus::Completed
    );
    let k2 = KeyId::parse("k2").unwrap();
    assert_eq!(
        store.files_to_rewrap(&k2, None, 10).await.unwrap(),
        vec![approved.clone()]
    );

    // What the database had is still there, in order.
    assert_eq!(store.comments(portal, task).await.unwrap().len(), 1);
    let feed: Vec<ActivityKind> = store
        .activity(portal, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        feed,
        [
            ActivityKind::DocumentApproved,
            ActivityKind::DocumentUploaded,
            ActivityKind::Commented
        ]
    );
    drop(store);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, LATEST);
}
