//! No token or code reaches the database files, raw or as text.

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
        portal, contact, ..
    } = h.seed_portal().await.unwrap();

    let invite = h.service.invite_contact(contact.id).await.unwrap();
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
