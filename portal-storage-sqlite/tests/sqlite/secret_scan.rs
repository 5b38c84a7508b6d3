//! No token or code reaches the database files, raw or as text; nor does an uploaded
//! file's content or any key in clear (only the wrapped data key is stored).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::TimeDelta;
use portal_core::testkit::{Seeded, TestService, code_from_email, request, token_after};
use portal_core::{Error, Store};
use portal_storage_sqlite::SqliteStore;

use crate::temp_db;

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
    let h = TestService::new(store, 7);
    let Seeded {
        portal,
        contact,
        staff,
        ..
    } = h.seed_portal().await.unwrap();

    let invite = h.service.invite_contact(&staff, contact.id).await.unwrap();
    let invite_mail = h.mailer.sent().last().unwrap().clone();
    assert_eq!(
        token_after(&invite_mail.text, "/invite/").as_deref(),
        Some(invite.expose_secret())
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
        magic_tokens.push(token_after(&mail.text, "/magic/").unwrap());
        codes.push(code_from_email(&mail.text).unwrap());
    }
    assert_eq!(magic_tokens.len(), 2, "first code and the resent one");

    // A wrong try is counted, then the live (resent) code works.
    let wrong = if codes[1] == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert!(matches!(
        h.service.enter_code(&verification, wrong, &request()).await,
        Err(Error::WrongCode { attempts_left: 4 })
    ));
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
    // A link handed to staff to pass on: its feed entry names the contact, not the link.
    let ann = h
        .service
        .add_contact(&staff, portal.id, "Ann Lee", "ann@example.com")
        .await
        .unwrap();
    let link = h.service.invite_link(&staff, ann.id).await.unwrap();
    drop(h);

    let mut tokens = vec![
        ("invite token", invite.expose_secret().to_owned()),
        ("invite link token", link.token.expose_secret().to_owned()),
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
            assert!(
                contains(bytes, contact.email.as_str().as_bytes()),
                "scan sees data"
            );
        }
    }
    let texts = text_values(&path);
    assert!(texts.iter().any(|t| t.contains(&portal.client_name)));
    for text in &texts {
        for code in &codes {
            assert!(!text.contains(code.as_str()), "a code is stored as text");
        }
        for (what, token) in &tokens {
            assert!(!text.contains(token.as_str()), "a {what} is stored as text");
        }
    }
}

/// An upload through the service, reviewed: the database files hold the file's record
/// (its name and wrapped data key are found, so the scan sees it) but not a byte run of
/// its content, not its data key in clear, and not the key-encryption key that wraps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_file_content_or_clear_key_reaches_the_database_files() {
    use base64::Engine as _;
    use bytes::Bytes;
    use portal_core::blob::keyring::{KeyId, KeyProvider, Keyring};
    use portal_core::blob::stream_of;
    use portal_core::model::{RequestedDocument, Side, TaskKind};
    use portal_core::workflow::documents::Verdict;
    use portal_core::{SeededRandom, TaskSpec};

    let (dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let keyring = Arc::new(Keyring::generate(
        KeyId::parse("k1").unwrap(),
        Arc::new(SeededRandom::new(77)),
    ));
    let key_file = dir.path().join("keys");
    keyring.save(&key_file).unwrap();
    let kek_b64 = std::fs::read_to_string(&key_file)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("key k1 ").map(str::to_owned))
        .unwrap();
    let kek = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(&kek_b64)
        .unwrap();
    assert_eq!(kek.len(), 32);

    let h = TestService::builder(store)
        .seed(8)
        .keys(keyring.clone())
        .build();
    let Seeded {
        portal,
        contact,
        staff,
        ..
    } = h.seed_portal().await.unwrap();
    let phase = h
        .service
        .add_phase(&staff, portal.id, "Documents")
        .await
        .unwrap();
    let task = h
        .service
        .add_task(
            &staff,
            portal.id,
            phase.id,
            TaskSpec {
                title: "Network documentation".into(),
                description: "Please upload it.".into(),
                assignee: Side::Client,
                kind: TaskKind::DocumentUpload {
                    documents: vec![RequestedDocument::new("diagram", "Network diagram")],
                },
                due_date: None,
            },
        )
        .await
        .unwrap();
    let (_session, ctx) = h.sign_in(&contact).await.unwrap();
    let marker = "CONFIDENTIAL core switch password is hunter2-7f3a9c";
    let content: String = (0..200).map(|i| format!("{marker} line {i}\n")).collect();
    let file = h
        .service
        .upload_document(
            &ctx,
            task.id,
            "diagram",
            "network-diagram.txt",
            stream_of(vec![Bytes::from(content)]),
        )
        .await
        .unwrap();
    h.service
        .review_document(&staff, portal.id, file.id, Verdict::Approve { notes: None })
        .await
        .unwrap();
    let data_key = keyring
        .unwrap(&file.key, &file.binding().aad())
        .await
        .unwrap()
        .expose_secret()
        .to_vec();
    drop(h);

    let files = raw_files(&path);
    assert!(!files.is_empty());
    for (name, bytes) in &files {
        assert!(
            !contains(bytes, marker.as_bytes()),
            "{name} holds the file's content"
        );
        assert!(
            !contains(bytes, b"hunter2"),
            "{name} holds part of the file's content"
        );
        assert!(
            !contains(bytes, &data_key),
            "{name} holds the data key in clear"
        );
        assert!(
            !contains(bytes, &kek),
            "{name} holds the key-encryption key"
        );
        assert!(
            !contains(bytes, kek_b64.as_bytes()),
            "{name} holds the key file's key"
        );
        if name.ends_with(".db") {
            assert!(
                contains(bytes, b"network-diagram.txt"),
                "scan sees the file's row"
            );
            assert!(
                contains(bytes, &file.key.bytes),
                "the wrapped key is stored"
            );
        }
    }
    for text in text_values(&path) {
        assert!(!text.contains("hunter2"), "the content is stored as text");
    }
}

/// A webhook endpoint's secrets (the first and a rotated one) never reach the database
/// files: not as `whsec_…`, not as their base64, not as their key bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_webhook_secret_reaches_the_database_files() {
    use base64::Engine as _;
    use portal_core::webhooks::service::{NewEndpoint, WebhookSettings, Webhooks};
    use portal_core::webhooks::{OutgoingWebhook, TransportAnswer, WebhookTransport};

    struct Nowhere;
    #[async_trait::async_trait]
    impl WebhookTransport for Nowhere {
        async fn post(&self, _: &OutgoingWebhook) -> portal_core::Result<TransportAnswer> {
            Err(Error::storage_msg("not sent in this test"))
        }
    }

    let (_dir, path) = temp_db();
    let db = Arc::new(SqliteStore::open(&path).await.unwrap());
    let h = TestService::new(db.clone(), 11);
    let seeded = h.seed_portal().await.unwrap();
    let admin = portal_core::testkit::admin(seeded.tenant.id);
    let hooks = Webhooks::new(
        &h.service,
        db.clone(),
        Arc::new(Nowhere),
        WebhookSettings::default(),
    );
    let (endpoint, first) = hooks
        .create_endpoint(
            &admin,
            &NewEndpoint {
                url: "https://psa.example.com/hooks".into(),
                ..NewEndpoint::default()
            },
        )
        .await
        .unwrap();
    let (_, second) = hooks.rotate_secret(&admin, endpoint.id).await.unwrap();
    drop(hooks);
    drop(db);
    let files = raw_files(&path);
    let texts = text_values(&path);
    for secret in [first, second] {
        let text = secret.expose_secret();
        let encoded = text.trim_start_matches("whsec_").to_owned();
        let key = base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .unwrap();
        for needle in [text.as_bytes(), encoded.as_bytes(), &key[..]] {
            for (name, bytes) in &files {
                assert!(!contains(bytes, needle), "a webhook secret is in {name}");
            }
        }
        assert!(texts.iter().all(|t| !t.contains(&encoded)));
    }
}
