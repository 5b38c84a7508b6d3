//! When a signed-in request's access entry is committed (`AccessLogWrites`): queued
//! entries all reach the file when the store is dropped (graceful shutdown loses
//! nothing), and strict ones are in the file before `authenticate` returns.

use std::sync::Arc;

use portal_core::Store;
use portal_core::testkit::TestService;
use portal_storage_sqlite::{AccessLogWrites, SqliteOptions, SqliteStore};

use crate::temp_db;

/// Signs a contact in and authenticates `n` requests, concurrently, through
/// `store`; returns how many portal requests the file holds right after (read past
/// the store, with a connection of its own).
async fn authenticate_n(store: Arc<dyn Store>, path: &std::path::Path, n: usize) -> i64 {
    let h = TestService::new(store.clone(), 5);
    let seeded = h.seed_portal().await.unwrap();
    let (session, _) = h.sign_in(&seeded.contact).await.unwrap();
    crate::authenticate_concurrently(&store, session.hash(), n).await;
    portal_requests_in(path)
}

fn portal_requests_in(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT count(*) FROM access_log WHERE event = 'portal_request'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queued_entries_are_all_committed_when_the_store_is_dropped() {
    let (_dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    authenticate_n(store.clone(), &path, 500).await;
    // The store itself shows every queued entry to its readers at once.
    let portal = store.tenants().await.unwrap()[0].id;
    let portals = store.portals(portal).await.unwrap();
    let shown = store.access_log(portals[0].id, 10_000).await.unwrap();
    assert_eq!(
        shown
            .iter()
            .filter(|e| e.event == portal_core::store::AccessEvent::PortalRequest)
            .count(),
        500
    );
    drop(store);
    assert_eq!(
        portal_requests_in(&path),
        500,
        "a dropped store commits the queue"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn strict_entries_are_in_the_file_before_authenticate_returns() {
    let (_dir, path) = temp_db();
    let options = SqliteOptions::default().with_access_log(AccessLogWrites::Strict);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_with(&path, options).await.unwrap());
    assert_eq!(authenticate_n(store, &path, 200).await, 200);
}
