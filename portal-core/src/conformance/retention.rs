//! The access log's retention prune.
//!
//! Pruning is global (every portal's entries before a cutoff), so these checks write
//! their entries in years no other check uses (1990 and 1991) and first prune
//! everything before 1992 left over from an earlier run. They assume that no other
//! prune before 1992 runs on the same store at the same time.

use chrono::{DateTime, Utc};

use super::support::{secs, world};
use crate::ids::{ContactId, PortalId};
use crate::store::{AccessEvent, AccessLogEntry, RequestInfo, Store};

/// The first instant after both checks' windows.
fn window_end() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("1992-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn instant(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// Removes whatever an earlier run left in the checks' years.
async fn clear_window(store: &dyn Store) {
    while store.prune_access_log(window_end(), 10_000).await.unwrap() > 0 {}
}

async fn append(store: &dyn Store, portal: PortalId, contact: ContactId, at: DateTime<Utc>) {
    store
        .record_access(&AccessLogEntry {
            at,
            portal_id: portal,
            contact_id: contact,
            event: AccessEvent::PortalRequest,
            request: RequestInfo::default(),
        })
        .await
        .unwrap();
}

async fn times(store: &dyn Store, portal: PortalId) -> Vec<DateTime<Utc>> {
    store
        .access_log(portal, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.at)
        .collect()
}

/// `prune_access_log(before, _)` removes the entries strictly before `before`, of
/// every portal, and returns exactly how many: an entry exactly at `before` stays, one
/// a microsecond or a second older goes, newer entries of every portal stay, and a
/// second prune with the same cutoff removes nothing.
pub async fn prune_access_log_boundary(store: &dyn Store) {
    clear_window(store).await;
    let w = world(store).await;
    let other = world(store).await;
    let cut = instant("1990-06-01T12:00:00Z");
    let micro = chrono::TimeDelta::microseconds(1);
    for at in [cut - secs(1), cut - micro, cut, cut + secs(1)] {
        append(store, w.portal.id, w.contact.id, at).await;
    }
    for at in [cut - secs(2), cut, cut + secs(3600)] {
        append(store, other.portal.id, other.contact.id, at).await;
    }

    let removed = store.prune_access_log(cut, 100).await.unwrap();
    assert_eq!(
        removed, 3,
        "the entries strictly before the cutoff are removed, of every portal, and counted \
         exactly (an entry exactly at the cutoff stays)"
    );
    assert_eq!(
        times(store, w.portal.id).await,
        vec![cut + secs(1), cut],
        "the entry exactly at the cutoff and the newer one stay"
    );
    assert_eq!(
        times(store, other.portal.id).await,
        vec![cut + secs(3600), cut],
        "another portal's entries at and after the cutoff stay"
    );
    assert_eq!(
        store.prune_access_log(cut, 100).await.unwrap(),
        0,
        "a second prune with the same cutoff removes nothing"
    );
    assert_eq!(times(store, w.portal.id).await.len(), 2);
}

/// `prune_access_log(before, max_rows)` removes at most `max_rows` entries per call,
/// the oldest first, across portals: a caller looping until a short batch removes
/// every old entry, and `max_rows` 0 removes nothing.
pub async fn prune_access_log_batches(store: &dyn Store) {
    clear_window(store).await;
    let w = world(store).await;
    let other = world(store).await;
    let cut = instant("1991-03-01T08:00:00Z");
    // Five old entries, alternating portals, oldest first: cut-5s … cut-1s.
    for i in (1..=5).rev() {
        let (portal, contact) = if i % 2 == 1 {
            (w.portal.id, w.contact.id)
        } else {
            (other.portal.id, other.contact.id)
        };
        append(store, portal, contact, cut - secs(i)).await;
    }
    append(store, w.portal.id, w.contact.id, cut).await;
    append(store, other.portal.id, other.contact.id, cut + secs(1)).await;

    assert_eq!(
        store.prune_access_log(cut, 0).await.unwrap(),
        0,
        "max_rows 0 removes nothing"
    );
    assert_eq!(
        times(store, w.portal.id).await.len(),
        4,
        "max_rows 0 removes nothing"
    );
    assert_eq!(
        times(store, other.portal.id).await.len(),
        3,
        "max_rows 0 removes nothing"
    );

    assert_eq!(
        store.prune_access_log(cut, 2).await.unwrap(),
        2,
        "one call removes at most max_rows entries"
    );
    assert_eq!(
        times(store, w.portal.id).await,
        vec![cut, cut - secs(1), cut - secs(3)],
        "the oldest entries go first (cut-5s, then cut-4s of the other portal)"
    );
    assert_eq!(
        times(store, other.portal.id).await,
        vec![cut + secs(1), cut - secs(2)],
        "the oldest entries go first, across portals"
    );
    assert_eq!(store.prune_access_log(cut, 2).await.unwrap(), 2);
    assert_eq!(
        store.prune_access_log(cut, 2).await.unwrap(),
        1,
        "the last, short batch counts what was left"
    );
    assert_eq!(store.prune_access_log(cut, 2).await.unwrap(), 0);
    assert_eq!(times(store, w.portal.id).await, vec![cut]);
    assert_eq!(times(store, other.portal.id).await, vec![cut + secs(1)]);
}
