//! The SQLite store's one integration test binary, by topic: the public conformance
//! suite on temp-file databases, the file blob store (its conformance suite and a put
//! killed mid-upload), migrations and reopening, group commit under load, the
//! workflow store, the document store (against the reference store, and uploads killed
//! mid-write), the email outbox on one file opened twice, the read cache, and a scan
//! of the raw database files for secrets after a full access flow and an upload.
//! Services are built with portal-core's `testkit`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use portal_core::Store;
use portal_storage_sqlite::SqliteStore;
use tempfile::TempDir;

mod access_queue;
mod audit;
mod blobs;
mod cache;
mod conformance;
mod credentials;
mod documents;
mod group_commit;
mod migrations;
mod outbox;
mod retention;
mod secret_scan;
mod signatures;
mod webhooks;
mod workflow;

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

/// Authenticates `n` requests of `session` through `store` at once (each on its own
/// task, the i-th at `t0 + i` seconds) and waits until every one has succeeded.
async fn authenticate_concurrently(
    store: &Arc<dyn Store>,
    session: portal_core::secret::TokenHash,
    n: usize,
) {
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let at = portal_core::testkit::t0() + chrono::TimeDelta::seconds(i as i64);
            store
                .authenticate(
                    &session,
                    at,
                    &portal_core::access::SessionPolicy::default(),
                    &portal_core::store::RequestInfo::default(),
                )
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}
