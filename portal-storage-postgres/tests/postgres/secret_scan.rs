//! No token or code reaches the database, raw or as text; nor does an uploaded file's
//! content or any key in clear (only the wrapped data key is stored). The database is
//! read back whole with `pg_dump` (every row of every table, bytea as hex) and scanned.

use std::sync::Arc;

use portal_core::Store;
use portal_core::testkit::secrets::{
    Planted, plant_access_secrets, plant_file_secrets, plant_webhook_secrets,
};
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

/// A store on a database of its own (so the dump holds only this test's rows), and
/// that database's address; `None` without a server.
async fn own_store() -> Option<(crate::Database, Arc<PostgresStore>)> {
    crate::server_url()?;
    let db = crate::new_database().await;
    let store = Arc::new(PostgresStore::connect(&db).await.unwrap());
    Some((db, store))
}

/// Scans the whole database (`url`, read back with `pg_dump`) for what `planted` must
/// never show, as text and as bytea's hex, and checks the scan finds what it stored.
fn scan(url: &str, planted: &Planted) {
    let dump = dump(url);
    for needle in &planted.never {
        if let Some(text) = needle.text() {
            assert!(!dump.contains(text), "the dump holds the {}", needle.what);
        }
        assert!(
            !dump.contains(&needle.hex()),
            "the dump holds the {} as bytes",
            needle.what
        );
    }
    // Sanity check of the scan itself: data the store did write is found.
    for needle in &planted.stored {
        let found =
            needle.text().is_some_and(|text| dump.contains(text)) || dump.contains(&needle.hex());
        assert!(found, "the scan does not see the {}", needle.what);
    }
    for code in &planted.codes {
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

/// Every access secret (invite, invite link, verification, magic link, session, the
/// codes) through its whole flow: none in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_database() {
    let Some((url, db)) = own_store().await else {
        return;
    };
    let store: Arc<dyn Store> = db;
    let planted = plant_access_secrets(store).await.unwrap();
    assert_eq!(planted.codes.len(), 2);
    scan(&url, &planted);
}

/// An upload through the service, reviewed: the database holds the file's record
/// (its name and wrapped data key are found, so the scan sees it) but not a byte run of
/// its content, not its data key in clear, and not the key-encryption key that wraps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_file_content_or_clear_key_reaches_the_database() {
    let Some((url, db)) = own_store().await else {
        return;
    };
    let store: Arc<dyn Store> = db;
    let planted = plant_file_secrets(store).await.unwrap();
    scan(&url, &planted);
}

/// A webhook endpoint's secrets (the first and a rotated one) never reach the
/// database: not as `whsec_…`, not as their base64, not as their key bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_webhook_secret_reaches_the_database() {
    let Some((url, db)) = own_store().await else {
        return;
    };
    let planted = plant_webhook_secrets(db.clone(), db).await.unwrap();
    scan(&url, &planted);
}
