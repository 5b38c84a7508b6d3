//! Group commit: many concurrent writes all land.

use chrono::TimeDelta;
use portal_core::access::SessionPolicy;
use portal_core::store::RequestInfo;
use portal_core::testkit::{TestService, t0};

use crate::fresh_store;

/// Many concurrent authentications (each a refresh check plus an access-log append)
/// all succeed, and every one of them is in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_authentications_are_all_logged() {
    let (_dir, store) = fresh_store().await;
    let h = TestService::new(store.clone(), 21);
    let seeded = h.seed_portal().await.unwrap();
    let (session, _) = h.sign_in(&seeded.contact).await.unwrap();
    let portal = seeded.portal;
    let before = store.access_log(portal.id, 10_000).await.unwrap().len();

    const N: usize = 400;
    let mut tasks = Vec::with_capacity(N);
    for i in 0..N {
        let store = store.clone();
        let hash = session.hash();
        tasks.push(tokio::spawn(async move {
            let at = t0() + TimeDelta::seconds(i as i64);
            store
                .authenticate(
                    &hash,
                    at,
                    &SessionPolicy::default(),
                    &RequestInfo::default(),
                )
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let log = store.access_log(portal.id, 10_000).await.unwrap();
    assert_eq!(log.len(), before + N);
    assert!(log.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
}
