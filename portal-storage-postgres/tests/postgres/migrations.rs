//! Migrations: applied once when several nodes open the database together, and a
//! newer schema refused untouched.

use portal_storage_postgres::PostgresStore;
use portal_storage_postgres::migrations::LATEST;

/// Eight stores opening one new database at the same moment all succeed and leave it
/// at the latest version, each migration applied once (a second application of V1
/// would fail on its `CREATE TABLE`s, so any double run shows as an error).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_opening_together_migrate_once() {
    if crate::server_url().is_none() {
        return;
    }
    let db = crate::new_database().await;
    let opens = (0..8).map(|_| {
        let url = db.to_string();
        tokio::spawn(async move { PostgresStore::connect(&url).await })
    });
    for open in futures_util::future::join_all(opens).await {
        let store = open.unwrap().unwrap();
        assert_eq!(store.schema_version().await.unwrap(), LATEST);
    }
}

/// A database at a version this build does not know is refused, and left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_newer_schema_is_refused_untouched() {
    if crate::server_url().is_none() {
        return;
    }
    let db = crate::new_database().await;
    let url = db.to_string();
    PostgresStore::connect(&url).await.unwrap();
    let newer = i64::from(LATEST) + 1;
    let set = url.clone();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&set, postgres::NoTls).unwrap();
        client
            .execute("UPDATE portal_schema SET version = $1", &[&newer])
            .unwrap();
    })
    .await
    .unwrap();
    let err = PostgresStore::connect(&url).await.unwrap_err().to_string();
    assert!(err.contains("newer version"), "{err}");
    let check = url.clone();
    let after: i64 = tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&check, postgres::NoTls).unwrap();
        client
            .query_one("SELECT version FROM portal_schema", &[])
            .unwrap()
            .get(0)
    })
    .await
    .unwrap();
    assert_eq!(after, newer);
}
