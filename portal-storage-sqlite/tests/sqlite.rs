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
    conformance,
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

macro_rules! conformance_tests {
    (ref: $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let (_dir, store) = fresh_store().await;
            conformance::$name(store.as_ref()).await;
        }
    )*};
    (arc: $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let (_dir, store) = fresh_store().await;
            conformance::$name(store).await;
        }
    )*};
}

mod conformance_suite {
    use super::*;

    conformance_tests!(ref:
        tenants_and_portals,
        contacts,
        phases_and_tasks,
        portal_snapshot_order,
        logos,
        tenant_isolation,
        invites,
        revoke_invite_keeps_sessions,
        start_verification,
        verification_limit_per_contact,
        code_redeem_creates_session,
        issue_code_replaces_code_and_link,
        code_limit,
        wrong_code_attempts,
        code_expiry_boundary,
        magic_link_expiry_boundary,
        magic_link_read_then_redeem_once,
        session_expiry_boundary,
        session_slides,
        session_absolute_cap,
        end_session,
        revoke_contact,
        access_log,
    );

    conformance_tests!(arc:
        concurrent_positions,
        concurrent_issue_code,
        concurrent_magic_link_redeem,
        concurrent_code_redeem,
    );

    /// The whole suite in one go on one database (the functions share a store).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn run_all() {
        let (_dir, store) = fresh_store().await;
        conformance::run_all(store).await;
    }
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
                    video_url: "https://www.youtube.com/watch?v=abc".into(),
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
