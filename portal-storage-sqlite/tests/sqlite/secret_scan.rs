//! No token or code reaches the database files, raw or as text; nor does an uploaded
//! file's content or any key in clear (only the wrapped data key is stored).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use portal_core::Store;
use portal_core::testkit::secrets::{
    Planted, plant_access_secrets, plant_file_secrets, plant_webhook_secrets,
};
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

/// Scans the database files at `path`, raw and as the text values of every table,
/// for what `planted` must never show, and checks the scan finds what it stored.
fn scan(path: &Path, planted: &Planted) {
    let files = raw_files(path);
    assert!(!files.is_empty());
    for (file, bytes) in &files {
        for needle in &planted.never {
            assert!(
                !contains(bytes, &needle.bytes),
                "{file} holds the {}",
                needle.what
            );
        }
    }
    // Sanity check of the scan itself: data the store did write is found.
    for needle in &planted.stored {
        assert!(
            files
                .iter()
                .any(|(_, bytes)| contains(bytes, &needle.bytes)),
            "the scan does not see the {}",
            needle.what
        );
    }
    let texts = text_values(path);
    assert!(!texts.is_empty());
    for text in &texts {
        for code in &planted.codes {
            assert!(!text.contains(code.as_str()), "a code is stored as text");
        }
        for needle in &planted.never {
            if let Some(secret) = needle.text() {
                assert!(
                    !text.contains(secret),
                    "the {} is stored as text",
                    needle.what
                );
            }
        }
    }
}

/// Every access secret (invite, invite link, verification, magic link, session, the
/// codes) through its whole flow: none in the database files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_database_files() {
    let (_dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let planted = plant_access_secrets(store).await.unwrap();
    assert_eq!(planted.codes.len(), 2);
    scan(&path, &planted);
}

/// An upload through the service, reviewed: the database files hold the file's record
/// (its name and wrapped data key are found, so the scan sees it) but not a byte run of
/// its content, not its data key in clear, and not the key-encryption key that wraps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_file_content_or_clear_key_reaches_the_database_files() {
    let (_dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let planted = plant_file_secrets(store).await.unwrap();
    scan(&path, &planted);
}

/// A webhook endpoint's secrets (the first and a rotated one) never reach the database
/// files: not as `whsec_…`, not as their base64, not as their key bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_webhook_secret_reaches_the_database_files() {
    let (_dir, path) = temp_db();
    let db = Arc::new(SqliteStore::open(&path).await.unwrap());
    let planted = plant_webhook_secrets(db.clone(), db).await.unwrap();
    scan(&path, &planted);
}
