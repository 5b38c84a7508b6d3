//! The webhook store checks on PostgreSQL.

use std::sync::Arc;

use portal_core::Store;
use portal_core::conformance;
use portal_core::webhooks::WebhookStore;

macro_rules! on_postgres {
    ($($kind:ident $name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let Some((_database, db)) = crate::store().await else { return };
            on_postgres!(@call $kind $name, db);
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

on_postgres!(
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
    let Some((_database, db)) = crate::store().await else {
        return;
    };
    conformance::run_webhook_checks(db.clone(), db).await;
}
