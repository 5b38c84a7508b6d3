//! The SQLite store's one integration test binary: the public conformance suite on
//! temp-file databases, reopening, refusing a newer schema, group commit under load,
//! and a scan of the raw database files for secrets after a full access flow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tempfile::TempDir;

use portal_core::access::SessionPolicy;
use portal_core::model::{Branding, PortalStatus, Side, TaskKind};
use portal_core::secret::{InviteToken, MagicToken, ServerSecret};
use portal_core::store::RequestInfo;
use portal_core::{
    Error, LinkBuilder, ManualClock, PortalService, RecordingMailer, SeededRandom, Store, TaskSpec,
};
use portal_storage_sqlite::SqliteStore;

/// A fresh database file in its own temp dir (the dir lives as long as the guard).
fn temp_db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.db");
    (dir, path)
}

async fn fresh_store() -> (TempDir, Arc<dyn Store>) {
    let (dir, path) = temp_db();
    let store = SqliteStore::open(&path).await.unwrap();
    (dir, Arc::new(store))
}

// ----- the conformance suite, one test per function, each on a fresh database ---------

mod conformance_suite {
    portal_core::conformance_tests!(super::fresh_store());
}

// ----- a service over a SqliteStore, for the flows below -------------------------------

struct Links;

impl LinkBuilder for Links {
    fn invite_url(&self, token: &InviteToken) -> String {
        format!("https://portal.example/invite/{}", token.expose_secret())
    }
    fn magic_link_url(&self, token: &MagicToken) -> String {
        format!("https://portal.example/magic/{}", token.expose_secret())
    }
}

fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

struct Harness {
    service: PortalService,
    mailer: Arc<RecordingMailer>,
    clock: Arc<ManualClock>,
}

fn harness(store: Arc<dyn Store>, seed: u64) -> Harness {
    let mailer = Arc::new(RecordingMailer::new());
    let clock = Arc::new(ManualClock::new(start_time()));
    let random = Arc::new(SeededRandom::new(seed));
    let secret = ServerSecret::generate(random.as_ref());
    let service = PortalService::builder(store, mailer.clone(), Arc::new(Links), secret)
        .clock(clock.clone())
        .random(random)
        .build();
    Harness {
        service,
        mailer,
        clock,
    }
}

fn request() -> RequestInfo {
    RequestInfo::new(
        Some("203.0.113.9".parse().unwrap()),
        Some("Mozilla/5.0 (test)"),
        Some("/portal"),
    )
}

/// The value after `marker` in `text`, up to the next non-token character.
fn token_after(text: &str, marker: &str) -> String {
    let start = text.find(marker).unwrap() + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The 6-digit code in a verification email's text.
fn code_in(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_owned()
}

// ----- reopening -----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_data() {
    let (_dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let h = harness(store, 11);
    let branding = Branding::new("Acme IT", "#1f6feb", "Welcome\naboard", None).unwrap();
    let tenant = h
        .service
        .create_tenant("Acme MSP", branding, vec![])
        .await
        .unwrap();
    let portal = h
        .service
        .create_portal(tenant.id, "Client Co", PortalStatus::Active)
        .await
        .unwrap();
    let contact = h
        .service
        .add_contact(portal.id, "Jane", "jane@client.example")
        .await
        .unwrap();
    let phase = h.service.add_phase(portal.id, "Kickoff").await.unwrap();
    let task = h
        .service
        .add_task(
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
    let invite = h.service.invite_contact(contact.id).await.unwrap();
    let (verification, _) = h
        .service
        .start_verification(&invite, &request())
        .await
        .unwrap();
    let code = code_in(&h.mailer.sent().last().unwrap().text);
    let (session, _) = h
        .service
        .enter_code(&verification, &code, &request())
        .await
        .unwrap();
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
            start_time() + TimeDelta::minutes(1),
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

// ----- a newer schema is refused --------------------------------------------------------

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

// ----- group commit -------------------------------------------------------------------

/// Many concurrent authentications (each a refresh check plus an access-log append)
/// all succeed, and every one of them is in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_authentications_are_all_logged() {
    let (_dir, store) = fresh_store().await;
    let h = harness(store.clone(), 21);
    let branding = Branding::new("Acme IT", "#1f6feb", "", None).unwrap();
    let tenant = h
        .service
        .create_tenant("Acme", branding, vec![])
        .await
        .unwrap();
    let portal = h
        .service
        .create_portal(tenant.id, "Client", PortalStatus::Active)
        .await
        .unwrap();
    let contact = h
        .service
        .add_contact(portal.id, "Jane", "jane@client.example")
        .await
        .unwrap();
    let invite = h.service.invite_contact(contact.id).await.unwrap();
    let (verification, _) = h
        .service
        .start_verification(&invite, &RequestInfo::default())
        .await
        .unwrap();
    let code = code_in(&h.mailer.sent().last().unwrap().text);
    let (session, _) = h
        .service
        .enter_code(&verification, &code, &RequestInfo::default())
        .await
        .unwrap();
    let before = store.access_log(portal.id, 10_000).await.unwrap().len();

    const N: usize = 400;
    let mut tasks = Vec::with_capacity(N);
    for i in 0..N {
        let store = store.clone();
        let hash = session.hash();
        tasks.push(tokio::spawn(async move {
            let at = start_time() + TimeDelta::seconds(i as i64);
            store
                .authenticate(
                    &hash,
                    at,
                    &SessionPolicy::default(),
                    &RequestInfo::default(),
                )
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let log = store.access_log(portal.id, 10_000).await.unwrap();
    assert_eq!(log.len(), before + N);
    assert!(log.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
}

// ----- secret scan --------------------------------------------------------------------

/// The database file and its WAL/shared-memory companions, as raw bytes.
fn raw_files(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(bytes) = std::fs::read(&p) {
            out.push((p.display().to_string(), bytes));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every TEXT value in every table of the database.
fn text_values(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                if let rusqlite::types::ValueRef::Text(t) = row.get_ref(i).unwrap() {
                    out.push(String::from_utf8_lossy(t).into_owned());
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_database_files() {
    let (_dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let h = harness(store, 7);
    let branding = Branding::new("Acme IT", "#1f6feb", "Welcome", None).unwrap();
    let tenant = h
        .service
        .create_tenant("Acme MSP", branding, vec![])
        .await
        .unwrap();
    let portal = h
        .service
        .create_portal(tenant.id, "Client Co", PortalStatus::Active)
        .await
        .unwrap();
    let contact = h
        .service
        .add_contact(portal.id, "Jane Doe", "jane@client.example")
        .await
        .unwrap();

    let invite = h.service.invite_contact(contact.id).await.unwrap();
    let invite_mail = h.mailer.sent().last().unwrap().clone();
    assert_eq!(
        token_after(&invite_mail.text, "/invite/"),
        invite.expose_secret()
    );
    h.service.open_invite(&invite, &request()).await.unwrap();
    let (verification, _) = h
        .service
        .start_verification(&invite, &request())
        .await
        .unwrap();
    h.clock.advance(TimeDelta::minutes(1));
    h.service
        .resend_code(&verification, &request())
        .await
        .unwrap();

    let mut magic_tokens = Vec::new();
    let mut codes = Vec::new();
    for mail in h
        .mailer
        .sent()
        .iter()
        .filter(|m| m.text.contains("/magic/"))
    {
        magic_tokens.push(token_after(&mail.text, "/magic/"));
        codes.push(code_in(&mail.text));
    }
    assert_eq!(magic_tokens.len(), 2, "first code and the resent one");

    // A wrong try is counted, then the live (resent) code works.
    let wrong = if codes[1] == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert!(
        h.service
            .enter_code(&verification, wrong, &request())
            .await
            .is_err()
    );
    let (session, ctx) = h
        .service
        .enter_code(&verification, &codes[1], &request())
        .await
        .unwrap();
    h.clock.advance(TimeDelta::minutes(10));
    h.service.authenticate(&session, &request()).await.unwrap();
    h.service
        .sign_out(&session, &ctx, &request())
        .await
        .unwrap();
    drop(h);

    let mut tokens = vec![
        ("invite token", invite.expose_secret().to_owned()),
        (
            "verification token",
            verification.expose_secret().to_owned(),
        ),
        ("session token", session.expose_secret().to_owned()),
    ];
    for m in &magic_tokens {
        tokens.push(("magic token", m.clone()));
    }
    for (_, t) in &tokens {
        assert_eq!(t.len(), 43, "parsed a whole token");
    }

    let files = raw_files(&path);
    assert!(!files.is_empty());
    for (file, bytes) in &files {
        for (what, token) in &tokens {
            assert!(
                !contains(bytes, token.as_bytes()),
                "{file} contains the raw {what}"
            );
        }
        // Sanity check of the scan itself: data we did store is found.
        if file.ends_with(".db") {
            assert!(contains(bytes, b"jane@client.example"), "scan sees data");
        }
    }
    let texts = text_values(&path);
    assert!(texts.iter().any(|t| t.contains("Client Co")));
    for text in &texts {
        for code in &codes {
            assert!(!text.contains(code.as_str()), "a code is stored as text");
        }
        for (what, token) in &tokens {
            assert!(!text.contains(token.as_str()), "a {what} is stored as text");
        }
    }
}

// ----- the workflow store, directly -----------------------------------------------------

mod workflow {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use portal_core::model::{EmailAddress, Phase, Portal, Task, TaskStatus, Tenant};
    use portal_core::store::TaskDecision;
    use portal_core::workflow::survey::Answer;
    use portal_core::workflow::{
        ActivityEntry, ActivityKind, Actor, CheckMark, ClientQuestion, Comment, Completion,
        QuestionAnswer, TaskChange, TaskEvidence,
    };
    use portal_core::{
        DirectoryStore, PhaseId, PortalId, QuestionId, SeededRandom, TaskId, TenantId,
        WorkflowStore,
    };

    use super::*;

    /// A tenant, a portal with one phase, and one client task in it.
    struct Plan {
        tenant: Tenant,
        portal: Portal,
        phase: Phase,
        task: Task,
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        start_time() + TimeDelta::seconds(seconds)
    }

    fn staff() -> Actor {
        Actor::Staff {
            name: "Sam Staff".into(),
            email: Some(EmailAddress::parse("sam@msp.example").unwrap()),
        }
    }

    async fn plan(store: &dyn Store, seed: u64) -> Plan {
        let rng = SeededRandom::new(seed);
        let branding = Branding::new("Acme IT", "#1f6feb", "Welcome", None).unwrap();
        let tenant = Tenant {
            id: TenantId::random(&rng),
            name: "Acme MSP".into(),
            branding: branding.clone(),
            notification_recipients: vec![],
            created_at: at(0),
        };
        store.create_tenant(&tenant).await.unwrap();
        let portal = Portal {
            id: PortalId::random(&rng),
            tenant_id: tenant.id,
            client_name: "Client Co".into(),
            status: PortalStatus::Active,
            branding,
            created_at: at(0),
        };
        store.create_portal(&portal).await.unwrap();
        let phase = store
            .add_phase(portal.id, PhaseId::random(&rng), "Kickoff")
            .await
            .unwrap();
        let task = store
            .add_task(&Task {
                id: TaskId::random(&rng),
                portal_id: portal.id,
                phase_id: phase.id,
                position: 0,
                title: "Fill in the form".into(),
                description: "Please.".into(),
                assignee: Side::Client,
                kind: TaskKind::Standard,
                status: TaskStatus::Pending,
                blocked_reason: None,
                due_date: None,
                evidence: TaskEvidence::default(),
                created_at: at(0),
                updated_at: at(0),
            })
            .await
            .unwrap();
        Plan {
            tenant,
            portal,
            phase,
            task,
        }
    }

    fn entry(portal: PortalId, task: Option<TaskId>, kind: ActivityKind, t: i64) -> ActivityEntry {
        ActivityEntry {
            portal_id: portal,
            at: at(t),
            actor: staff(),
            kind,
            task_id: task,
            subject: "Fill in the form".into(),
            detail: Some(format!("at {t}")),
        }
    }

    fn evidence() -> TaskEvidence {
        let mark = CheckMark {
            by: staff(),
            at: at(5),
        };
        TaskEvidence {
            completion: Some(Completion {
                by: staff(),
                at: at(5),
                notes: Some("Done\nwith notes".into()),
            }),
            answers: BTreeMap::from([("q1".to_owned(), Answer::Text("yes".into()))]),
            answers_saved: Some(mark.clone()),
            checked: BTreeMap::from([("item".to_owned(), mark)]),
            decision: None,
            previous_decisions: Vec::new(),
        }
    }

    /// A decision that completes the task with [`evidence`] and tries to move it too.
    fn complete(calls: Arc<AtomicUsize>) -> TaskDecision {
        Arc::new(move |task: &Task| {
            calls.fetch_add(1, Ordering::SeqCst);
            let mut next = task.clone();
            next.status = TaskStatus::Completed;
            next.title = "Form filled".into();
            next.evidence = evidence();
            next.updated_at = at(5);
            // These must stay as stored.
            next.id = TaskId::random(&SeededRandom::new(99));
            next.position = 42;
            next.created_at = at(1000);
            Ok(TaskChange {
                activity: entry(
                    task.portal_id,
                    Some(task.id),
                    ActivityKind::TaskCompleted,
                    5,
                ),
                task: next,
            })
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn update_task_round_trips_evidence() {
        let (_dir, path) = temp_db();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
        let p = plan(store.as_ref(), 1).await;
        let calls = Arc::new(AtomicUsize::new(0));
        let updated = store
            .update_task(p.portal.id, p.task.id, complete(calls.clone()))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1, "decided once");
        let expected = Task {
            status: TaskStatus::Completed,
            title: "Form filled".into(),
            evidence: evidence(),
            updated_at: at(5),
            ..p.task.clone()
        };
        assert_eq!(updated, expected, "identity, place and creation time stay");
        assert_eq!(store.task(p.portal.id, p.task.id).await.unwrap(), expected);
        let snapshot = store.portal_snapshot(p.portal.id).await.unwrap();
        assert_eq!(snapshot.tasks, vec![expected.clone()]);
        let feed = store.activity(p.portal.id, 10).await.unwrap();
        assert_eq!(
            feed,
            vec![entry(
                p.portal.id,
                Some(p.task.id),
                ActivityKind::TaskCompleted,
                5
            )]
        );
        drop(store);

        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.task(p.portal.id, p.task.id).await.unwrap(), expected);
        assert_eq!(store.activity(p.portal.id, 10).await.unwrap(), feed);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_decision_writes_nothing() {
        let (_dir, store) = fresh_store().await;
        let p = plan(store.as_ref(), 2).await;

        let refuse: TaskDecision = Arc::new(|_task: &Task| {
            Err(Error::Forbidden {
                reason: "not yours".into(),
            })
        });
        match store.update_task(p.portal.id, p.task.id, refuse).await {
            Err(Error::Forbidden { reason }) => assert_eq!(reason, "not yours"),
            other => panic!("the decision's error comes back unchanged, got {other:?}"),
        }
        let conflict: TaskDecision =
            Arc::new(|_task: &Task| Err(Error::conflict("already completed")));
        assert!(matches!(
            store.update_task(p.portal.id, p.task.id, conflict).await,
            Err(Error::Conflict { reason }) if reason == "already completed"
        ));

        // The wrong portal: NotFound, and the decision is never asked.
        let other = plan(store.as_ref(), 3).await;
        let calls = Arc::new(AtomicUsize::new(0));
        assert!(matches!(
            store
                .update_task(other.portal.id, p.task.id, complete(calls.clone()))
                .await,
            Err(Error::NotFound { .. })
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        // A change whose activity entry names another portal is refused whole.
        let foreign_portal = other.portal.id;
        let foreign: TaskDecision = Arc::new(move |task: &Task| {
            let mut next = task.clone();
            next.status = TaskStatus::Completed;
            Ok(TaskChange {
                task: next,
                activity: entry(foreign_portal, None, ActivityKind::TaskCompleted, 1),
            })
        });
        assert!(
            store
                .update_task(p.portal.id, p.task.id, foreign)
                .await
                .is_err()
        );

        assert_eq!(store.task(p.portal.id, p.task.id).await.unwrap(), p.task);
        assert!(store.activity(p.portal.id, 10).await.unwrap().is_empty());
        assert!(
            store
                .activity(other.portal.id, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }

    /// Concurrent updates of one task each see the previous one's result.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_updates_are_serialised() {
        let (_dir, store) = fresh_store().await;
        let p = plan(store.as_ref(), 4).await;
        const N: usize = 64;
        let bump: TaskDecision = Arc::new(|task: &Task| {
            let n: usize = task.description.parse().unwrap_or(0);
            let mut next = task.clone();
            next.description = (n + 1).to_string();
            Ok(TaskChange {
                activity: entry(
                    task.portal_id,
                    Some(task.id),
                    ActivityKind::ProgressSaved,
                    1,
                ),
                task: next,
            })
        });
        let mut handles = Vec::with_capacity(N);
        for _ in 0..N {
            let (store, bump) = (store.clone(), bump.clone());
            let (portal, task) = (p.portal.id, p.task.id);
            handles.push(tokio::spawn(async move {
                store.update_task(portal, task, bump).await
            }));
        }
        for h in handles {
            h.await.unwrap().unwrap();
        }
        let task = store.task(p.portal.id, p.task.id).await.unwrap();
        assert_eq!(task.description, N.to_string());
        assert_eq!(store.activity(p.portal.id, 1000).await.unwrap().len(), N);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn comments_questions_and_the_feed_are_ordered() {
        let (_dir, store) = fresh_store().await;
        let p = plan(store.as_ref(), 5).await;
        let other = plan(store.as_ref(), 6).await;
        let comment = |body: &str, t: i64| Comment {
            portal_id: p.portal.id,
            task_id: p.task.id,
            author: staff(),
            body: body.into(),
            at: at(t),
        };
        let commented = |t| entry(p.portal.id, Some(p.task.id), ActivityKind::Commented, t);
        // Two comments share a time: they keep their insertion order.
        for (body, t) in [("first", 10), ("second", 10), ("third", 11)] {
            store
                .add_comment(&comment(body, t), &commented(t))
                .await
                .unwrap();
        }
        let bodies: Vec<String> = store
            .comments(p.portal.id, p.task.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.body)
            .collect();
        assert_eq!(bodies, ["first", "second", "third"], "oldest first");
        // Through another portal: NotFound, for reading and for writing.
        assert!(matches!(
            store.comments(other.portal.id, p.task.id).await,
            Err(Error::NotFound { .. })
        ));
        let stray = Comment {
            portal_id: other.portal.id,
            ..comment("stray", 12)
        };
        assert!(matches!(
            store
                .add_comment(
                    &stray,
                    &entry(other.portal.id, None, ActivityKind::Commented, 12)
                )
                .await,
            Err(Error::NotFound { .. })
        ));
        assert!(
            store
                .comments(other.portal.id, other.task.id)
                .await
                .unwrap()
                .is_empty()
        );

        let rng = SeededRandom::new(7);
        let question = |text: &str, t: i64| ClientQuestion {
            id: QuestionId::random(&rng),
            portal_id: p.portal.id,
            asked_by: staff(),
            text: text.into(),
            asked_at: at(t),
            answer: None,
        };
        let asked = |t| entry(p.portal.id, None, ActivityKind::QuestionAsked, t);
        let (q1, q2, q3) = (
            question("one", 20),
            question("two", 20),
            question("three", 19),
        );
        for q in [&q1, &q2, &q3] {
            store
                .add_question(q, &asked(q.asked_at.timestamp() - start_time().timestamp()))
                .await
                .unwrap();
        }
        assert!(matches!(
            store.add_question(&q1, &asked(20)).await,
            Err(Error::Conflict { .. })
        ));
        let texts: Vec<String> = store
            .questions(p.portal.id)
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.text)
            .collect();
        assert_eq!(
            texts,
            ["two", "one", "three"],
            "newest first, ties newest first"
        );

        let answer = QuestionAnswer {
            by: staff(),
            text: "Yes.".into(),
            at: at(30),
        };
        let answered = entry(p.portal.id, None, ActivityKind::QuestionAnswered, 30);
        assert!(matches!(
            store
                .answer_question(other.portal.id, q1.id, &answer, &answered)
                .await,
            Err(Error::NotFound { .. })
        ));
        let got = store
            .answer_question(p.portal.id, q1.id, &answer, &answered)
            .await
            .unwrap();
        assert_eq!(
            got,
            ClientQuestion {
                answer: Some(answer.clone()),
                ..q1.clone()
            }
        );
        assert!(matches!(
            store
                .answer_question(p.portal.id, q1.id, &answer, &answered)
                .await,
            Err(Error::Conflict { .. })
        ));
        let stored = store.questions(p.portal.id).await.unwrap();
        assert_eq!(stored.iter().find(|q| q.id == q1.id), Some(&got));

        let feed: Vec<(ActivityKind, DateTime<Utc>)> = store
            .activity(p.portal.id, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.at))
            .collect();
        assert_eq!(feed.len(), 7, "3 comments, 3 questions, 1 answer");
        assert!(feed.windows(2).all(|w| w[0].1 >= w[1].1), "newest first");
        assert_eq!(feed[0].0, ActivityKind::QuestionAnswered);
        let feed_details: Vec<Option<String>> = store
            .activity(p.portal.id, 3)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.detail)
            .collect();
        assert_eq!(feed_details.len(), 3, "limited");
        assert!(
            store
                .activity(other.portal.id, 100)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.activity(p.portal.id, 0).await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn branding_changes_only_its_row() {
        let (_dir, store) = fresh_store().await;
        let p = plan(store.as_ref(), 8).await;
        let new = Branding::new("Acme Blue", "#0000ff", "Hello", None).unwrap();
        store.set_tenant_branding(p.tenant.id, &new).await.unwrap();
        assert_eq!(store.tenant(p.tenant.id).await.unwrap().branding, new);
        assert_eq!(
            store.portal(p.portal.id).await.unwrap().branding,
            p.portal.branding,
            "portals keep their copy"
        );
        let mine = Branding::new("Acme Red", "#ff0000", "Hi", None).unwrap();
        store.set_portal_branding(p.portal.id, &mine).await.unwrap();
        assert_eq!(store.portal(p.portal.id).await.unwrap().branding, mine);
        assert_eq!(store.tenant(p.tenant.id).await.unwrap().branding, new);
        let rng = SeededRandom::new(9);
        assert!(matches!(
            store
                .set_tenant_branding(TenantId::random(&rng), &new)
                .await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            store
                .set_portal_branding(PortalId::random(&rng), &new)
                .await,
            Err(Error::NotFound { .. })
        ));
        let _ = p.phase;
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
        let us = start_time().timestamp_micros();
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
        assert_eq!(read.created_at, start_time());
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
}

/// The read cache behind the portal home never serves what a write has changed.
#[tokio::test(flavor = "multi_thread")]
async fn cached_snapshot_and_activity_follow_every_write() {
    let (_dir, store) = fresh_store().await;
    let h = harness(store.clone(), 77);
    let s = &h.service;
    let branding = Branding::new("Acme", "#123456", "Hi", None).unwrap();
    let tenant = s
        .create_tenant("Acme", branding.clone(), vec![])
        .await
        .unwrap();
    let portal = s
        .create_portal(tenant.id, "Client", PortalStatus::Active)
        .await
        .unwrap();
    let phase = s.add_phase(portal.id, "One").await.unwrap();
    let spec = |title: &str| portal_core::TaskSpec {
        title: title.into(),
        description: String::new(),
        assignee: Side::Client,
        kind: TaskKind::Standard,
        due_date: None,
    };
    let first = s
        .add_task(portal.id, phase.id, spec("First"))
        .await
        .unwrap();
    // Fill the cache, twice, then change things and read again.
    for _ in 0..2 {
        assert_eq!(
            store.portal_snapshot(portal.id).await.unwrap().tasks.len(),
            1
        );
        assert!(store.activity(portal.id, 10).await.unwrap().is_empty());
    }
    s.add_task(portal.id, phase.id, spec("Second"))
        .await
        .unwrap();
    assert_eq!(
        store.portal_snapshot(portal.id).await.unwrap().tasks.len(),
        2
    );
    let staff = portal_core::workflow::Actor::Staff {
        name: "Sam".into(),
        email: None,
    };
    s.staff_complete(staff, portal.id, first.id, None)
        .await
        .unwrap();
    let snap = store.portal_snapshot(portal.id).await.unwrap();
    assert_eq!(
        snap.tasks[0].status,
        portal_core::model::TaskStatus::Completed
    );
    assert_eq!(store.activity(portal.id, 10).await.unwrap().len(), 1);
    let renamed = Branding::new("Acme Renamed", "#123456", "Hi", None).unwrap();
    s.update_portal_branding(portal.id, renamed).await.unwrap();
    assert_eq!(
        store
            .portal_snapshot(portal.id)
            .await
            .unwrap()
            .portal
            .branding
            .company_name,
        "Acme Renamed"
    );
    // Access-flow writes (every portal request logs one) leave the cached content valid
    // and correct.
    let entry = portal_core::store::AccessLogEntry {
        at: start_time(),
        portal_id: portal.id,
        contact_id: s
            .add_contact(portal.id, "Dana", "dana@client.example")
            .await
            .unwrap()
            .id,
        event: portal_core::store::AccessEvent::InviteOpened,
        request: request(),
    };
    store.record_access(&entry).await.unwrap();
    assert_eq!(
        store.portal_snapshot(portal.id).await.unwrap().tasks.len(),
        2
    );
}
