//! The webhook store checks on SQLite, each on a fresh database, the whole set on one,
//! and the migration that makes the feed's keys never reused.

use std::sync::Arc;

use portal_core::Store;
use portal_core::conformance;
use portal_core::webhooks::WebhookStore;
use portal_storage_sqlite::SqliteStore;
use tempfile::TempDir;

async fn fresh() -> (TempDir, Arc<SqliteStore>) {
    let (dir, path) = crate::temp_db();
    (dir, Arc::new(SqliteStore::open(&path).await.unwrap()))
}

macro_rules! on_sqlite {
    ($($kind:ident $name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let (_dir, db) = fresh().await;
            on_sqlite!(@call $kind $name, db);
        }
    )*};
    (@call ref $name:ident, $db:expr) => {
        conformance::$name($db.as_ref(), $db.as_ref()).await
    };
    (@call arc $name:ident, $db:expr) => {{
        let (s, h): (Arc<dyn Store>, Arc<dyn WebhookStore>) = ($db.clone(), $db.clone());
        conformance::$name(s, h).await
    }};
}

on_sqlite!(
    ref webhook_endpoints_by_tenant,
    ref webhook_endpoint_compare_and_set,
    ref webhook_feed_keys_only_grow,
    ref webhook_cursor_starts_at_the_end,
    ref webhook_enqueue_exactly_once,
    ref webhook_claims_and_attempts,
    ref webhook_reads_and_replays,
    ref webhook_erasure,
    arc webhook_concurrent_enqueues,
    arc webhook_concurrent_claims,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_webhook_check_on_one_database() {
    let (_dir, db) = fresh().await;
    conformance::run_webhook_checks(db.clone(), db).await;
}

/// A database written before the webhook migration keeps every feed entry with its
/// number, and from then on a number is never given twice, even after the newest
/// entries are deleted.
#[tokio::test]
async fn the_feed_keeps_its_numbers_through_the_migration() {
    use portal_storage_sqlite::migrations::MIGRATIONS;
    let (_dir, path) = crate::temp_db();
    let webhook_migration = MIGRATIONS
        .iter()
        .position(|m| m.contains("CREATE TABLE webhook_endpoints"))
        .unwrap();
    let insert = "INSERT INTO activity (portal_id, at, actor, kind, subject)
                  VALUES (zeroblob(16), 0, '{}', 'portal_renamed', 's')";
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for m in &MIGRATIONS[..webhook_migration] {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO tenants (id, name, branding, notification_recipients, created_at)
                 VALUES (zeroblob(16), 'MSP', '{}', '[]', 0);
             INSERT INTO portals (id, tenant_id, client_name, status, branding, created_at)
                 VALUES (zeroblob(16), zeroblob(16), 'Client', 'active', '{}', 0);",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", webhook_migration as i64)
            .unwrap();
        for _ in 0..3 {
            conn.execute(insert, []).unwrap();
        }
    }
    drop(SqliteStore::open(&path).await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let seqs = |conn: &rusqlite::Connection| -> Vec<i64> {
        let mut s = conn
            .prepare("SELECT seq FROM activity ORDER BY seq")
            .unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(seqs(&conn), [1, 2, 3], "every entry keeps its number");
    conn.execute("DELETE FROM activity WHERE seq >= 2", [])
        .unwrap();
    conn.execute(insert, []).unwrap();
    assert_eq!(
        seqs(&conn),
        [1, 4],
        "numbers of deleted entries are not given again"
    );
}
