//! The access-log prune of the SQLite store beyond the conformance suite: times are
//! kept in whole microseconds, so a cutoff between two of them still keeps what is at
//! or after it.

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::store::{AccessEvent, AccessLogEntry, RequestInfo};
use portal_core::testkit::TestService;

#[tokio::test]
async fn a_sub_microsecond_cutoff_rounds_up() {
    let (_dir, store) = crate::fresh_store().await;
    let kit = TestService::new(store.clone(), 1);
    let seeded = kit.seed_portal().await.unwrap();
    let base = DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    for at in [base, base + TimeDelta::microseconds(1)] {
        store
            .record_access(&AccessLogEntry {
                at,
                portal_id: seeded.portal.id,
                contact_id: seeded.contact.id,
                event: AccessEvent::PortalRequest,
                request: RequestInfo::default(),
            })
            .await
            .unwrap();
    }
    // Half a microsecond after `base`: `base` is older, `base + 1µs` is not.
    let cut = base + TimeDelta::nanoseconds(500);
    assert_eq!(store.prune_access_log(cut, 10).await.unwrap(), 1);
    let left = store.access_log(seeded.portal.id, 10).await.unwrap();
    assert_eq!(
        left.iter().map(|e| e.at).collect::<Vec<_>>(),
        vec![base + TimeDelta::microseconds(1)]
    );
}
