//! Group commit: many concurrent writes all land.

use portal_core::testkit::TestService;

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
    crate::authenticate_concurrently(&store, session.hash(), N).await;
    let log = store.access_log(portal.id, 10_000).await.unwrap();
    assert_eq!(log.len(), before + N);
    assert!(log.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
}
