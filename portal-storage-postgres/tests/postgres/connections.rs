//! The pool's connections: a connection the server closed while it sat idle in the
//! pool (a server restart, an idle timeout, an administrator's `pg_terminate_backend`)
//! costs the next unit nothing: the pool does not test connections on checkout, so
//! the store moves that unit to a fresh connection itself.

use portal_core::store::DirectoryStore;
use portal_core::testkit::TestService;
use portal_storage_postgres::{PostgresOptions, PostgresStore};
use std::sync::Arc;

/// Ends every session of `db` but the caller's, as an administrator (or a restart)
/// would, and waits until they are gone.
async fn terminate_connections(db: &crate::Database) {
    let url = db.to_string();
    tokio::task::spawn_blocking(move || {
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let ended = admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap();
        assert!(!ended.is_empty(), "the store held no connection to end");
        for _ in 0..100 {
            let left: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity
                      WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    &[],
                )
                .unwrap()
                .get(0);
            if left == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the terminated connections did not go away");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_closed_by_the_server_is_replaced_without_an_error() {
    if crate::server_url().is_none() {
        return;
    }
    let db = crate::new_database().await;
    // One connection: the next unit must take the very one that was closed.
    let store = Arc::new(
        PostgresStore::connect_with(&db, PostgresOptions::default().with_max_connections(1))
            .await
            .unwrap(),
    );
    let h = TestService::new(store.clone(), 5);
    let seeded = h.seed_portal().await.unwrap();
    assert!(store.portal(seeded.portal.id).await.is_ok());

    terminate_connections(&db).await;
    // A read and a write, each finding its pooled connection closed.
    let portal = store
        .portal(seeded.portal.id)
        .await
        .expect("a read after the server closed the pool's connection");
    assert_eq!(portal.id, seeded.portal.id);
    terminate_connections(&db).await;
    h.service
        .add_phase(&seeded.staff, seeded.portal.id, "After the restart")
        .await
        .expect("a write after the server closed the pool's connection");
    let snapshot = store.portal_snapshot(seeded.portal.id).await.unwrap();
    assert!(
        snapshot
            .phases
            .iter()
            .any(|p| p.name == "After the restart")
    );
}
