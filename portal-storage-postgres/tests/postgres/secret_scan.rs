//! No token or code reaches the database, raw or as text; nor does an uploaded file's
//! content or any key in clear (only the wrapped data key is stored). The database is
//! read back whole with `pg_dump` (every row of every table, bytea as hex) and scanned.

use std::sync::Arc;

use chrono::TimeDelta;
use portal_core::testkit::{Seeded, TestService, code_from_email, request, token_after};
use portal_core::{Error, Store};
use portal_storage_postgres::PostgresStore;

/// The whole database as `pg_dump --data-only` prints it: text as text, bytea as
/// `\x` and lowercase hex.
fn dump(url: &str) -> String {
    let pg_dump = pg_dump_binary();
    let out = std::process::Command::new(&pg_dump)
        .arg("--data-only")
        .arg("--no-owner")
        .arg(format!("--dbname={url}"))
        .output()
        .unwrap_or_else(|e| panic!("running {pg_dump}: {e}"));
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `pg_dump`: `PORTAL_TEST_PG_DUMP`, else the newest under /usr/lib/postgresql, else PATH.
fn pg_dump_binary() -> String {
    if let Ok(p) = std::env::var("PORTAL_TEST_PG_DUMP") {
        return p;
    }
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.path().join("bin/pg_dump"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
        .pop()
        .map_or_else(|| "pg_dump".to_owned(), |p| p.display().to_string())
}

/// Bytes as the dump shows bytea: lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A store on a database of its own (so the dump holds only this test's rows), and
/// that database's address; `None` without a server.
async fn own_store() -> Option<(crate::Database, Arc<PostgresStore>)> {
    crate::server_url()?;
    let db = crate::new_database().await;
    let store = Arc::new(PostgresStore::connect(&db).await.unwrap());
    Some((db, store))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_database() {
    let Some((url, db)) = own_store().await else {
        return;
    };
    let store: Arc<dyn Store> = db;
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

    let dump = dump(&url);
    // Sanity check of the scan itself: data we did store is found.
    assert!(dump.contains(contact.email.as_str()), "scan sees data");
    assert!(dump.contains(&portal.client_name), "scan sees data");
    for (what, token) in &tokens {
        assert!(
            !dump.contains(token.as_str()),
            "the dump holds the raw {what}"
        );
    }
    for code in &codes {
        // A code is six digits: it may occur by chance inside hex or a timestamp, so
        // look for it as a whole value (a column of its own, or in JSON).
        for pattern in [
            format!("\t{code}\t"),
            format!("\t{code}\n"),
            format!("\"{code}\""),
        ] {
            assert!(!dump.contains(&pattern), "a code is stored as text");
        }
    }
}

/// An upload through the service, reviewed: the database holds the file's record
/// (its name and wrapped data key are found, so the scan sees it) but not a byte run of
/// its content, not its data key in clear, and not the key-encryption key that wraps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_file_content_or_clear_key_reaches_the_database() {
    use base64::Engine as _;
    use bytes::Bytes;
    use portal_core::blob::keyring::{KeyId, KeyProvider, Keyring};
    use portal_core::blob::stream_of;

    use portal_core::SeededRandom;
    use portal_core::workflow::documents::Verdict;

    let Some((url, db)) = own_store().await else {
        return;
    };
    let store: Arc<dyn Store> = db;
    let dir = std::env::temp_dir().join(format!("portal-pg-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let keyring = Arc::new(Keyring::generate(
        KeyId::parse("k1").unwrap(),
        Arc::new(SeededRandom::new(77)),
    ));
    let key_file = dir.join("keys");
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
    let task = crate::document_task(&h, &staff, portal.id).await;
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

    std::fs::remove_dir_all(&dir).unwrap();
    let dump = dump(&url);
    assert!(
        dump.contains("network-diagram.txt"),
        "scan sees the file's row"
    );
    assert!(
        dump.contains(&hex(&file.key.bytes)),
        "the wrapped key is stored"
    );
    assert!(!dump.contains(marker), "the dump holds the file's content");
    assert!(
        !dump.contains("hunter2"),
        "the dump holds part of the file's content"
    );
    assert!(
        !dump.contains(&hex(&data_key)),
        "the dump holds the data key in clear"
    );
    assert!(
        !dump.contains(&hex(&kek)),
        "the dump holds the key-encryption key"
    );
    assert!(
        !dump.contains(&kek_b64),
        "the dump holds the key file's key"
    );
}

/// A webhook endpoint's secrets (the first and a rotated one) never reach the database: not as `whsec_…`, not as their base64, not as their key bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_webhook_secret_reaches_the_database() {
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

    let Some((url, db)) = own_store().await else {
        return;
    };
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
    let dump = dump(&url);
    assert!(dump.contains("psa.example.com"), "scan sees the endpoint");
    for secret in [first, second] {
        let text = secret.expose_secret();
        let encoded = text.trim_start_matches("whsec_").to_owned();
        let key = base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .unwrap();
        assert!(
            !dump.contains(text.as_str()),
            "a webhook secret is in the dump"
        );
        assert!(!dump.contains(&encoded), "a webhook secret is in the dump");
        assert!(!dump.contains(&hex(&key)), "a webhook key is in the dump");
    }
}
