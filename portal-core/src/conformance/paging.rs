//! Lists read by key ([`crate::store::Page`]'s contract): the activity feed and the
//! access log, paged while entries are added and removed between pages.

use std::collections::HashSet;

use super::support::{another_contact, secs, staff, t0, world};
use crate::store::{AccessEvent, AccessLogEntry, PageKey, PortalEdit, RequestInfo, Store};
use crate::workflow::{ActivityEntry, ActivityKind};

fn feed_entry(portal: crate::ids::PortalId, at: i64, subject: &str) -> ActivityEntry {
    ActivityEntry {
        portal_id: portal,
        at: t0() + secs(at),
        actor: staff(),
        kind: ActivityKind::PortalRenamed,
        task_id: None,
        subject: subject.to_owned(),
        detail: None,
    }
}

/// Times with runs of equal ones, so page boundaries fall inside ties.
const TIMES: [i64; 11] = [1, 2, 2, 2, 3, 3, 4, 5, 5, 5, 5];

/// The activity feed paged by key: every page is the next slice of the full feed;
/// entries appended between pages (newer ones, one at the exact time of the last
/// key, an older one) never make an entry of the first read appear twice or go
/// missing; the last page says so (`next: None`); `limit` 0 is an empty page.
pub async fn activity_pages_by_key(store: &dyn Store) {
    let w = world(store).await;
    let id = w.portal.id;
    for (i, at) in TIMES.iter().enumerate() {
        store
            .edit_portal(
                id,
                &PortalEdit::Rename(format!("Name {i}")),
                None,
                &feed_entry(id, *at, &format!("entry {i}")),
            )
            .await
            .unwrap();
    }
    let full = store.activity(id, 1000).await.unwrap();
    assert_eq!(full.len(), TIMES.len());
    let empty = store.activity_page(id, None, 0).await.unwrap();
    assert!(
        empty.items.is_empty() && empty.next.is_none(),
        "limit 0 is an empty page"
    );
    let first = store.activity_page(id, None, 100).await.unwrap();
    assert_eq!(
        first.items, full,
        "one page holds the whole feed, in the feed's order"
    );
    assert_eq!(first.next, None, "the last page has no next");

    let mut seen = Vec::new();
    let mut after: Option<PageKey> = None;
    let mut round = 0;
    loop {
        let page = store.activity_page(id, after, 3).await.unwrap();
        assert!(
            page.items.len() <= 3,
            "a page holds at most `limit` entries"
        );
        seen.extend(page.items.iter().cloned());
        let Some(next) = page.next else { break };
        assert!(!page.items.is_empty(), "a page with a next is not empty");
        after = Some(next);
        // Between pages: newer entries, one at the last key's time, one older.
        let last_at = page.items.last().map(|e| e.at).unwrap();
        for (n, at) in [(0, 100), (1, (last_at - t0()).num_seconds()), (2, -5)] {
            store
                .edit_portal(
                    id,
                    &PortalEdit::Rename(format!("Later {round}.{n}")),
                    None,
                    &feed_entry(id, at, &format!("later {round}.{n}")),
                )
                .await
                .unwrap();
        }
        round += 1;
        assert!(round < 50, "paging never ends");
    }
    let originals: Vec<&ActivityEntry> = seen
        .iter()
        .filter(|e| e.subject.starts_with("entry "))
        .collect();
    assert_eq!(
        originals,
        full.iter().collect::<Vec<_>>(),
        "every entry of the first read exactly once, in order, whatever was added between pages"
    );
    let distinct: HashSet<&str> = seen.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(distinct.len(), seen.len(), "no entry appears twice");
    for pair in seen.windows(2) {
        assert!(
            pair[0].at >= pair[1].at,
            "pages keep the feed's order (newest first)"
        );
    }
}

/// The access log paged by key while entries are added (newer ones) and removed (a
/// removed contact's, before and after the page boundary) between pages: every entry
/// that existed throughout comes exactly once, in order.
pub async fn access_log_pages_by_key(store: &dyn Store) {
    let w = world(store).await;
    let id = w.portal.id;
    let gone = another_contact(store, &w, "gone@example.com").await;
    let record = |contact: crate::ids::ContactId, at: i64, path: String| AccessLogEntry {
        portal_id: id,
        contact_id: contact,
        at: t0() + secs(at),
        event: AccessEvent::PortalRequest,
        request: RequestInfo::new(None, None, Some(&path)),
    };
    for (i, at) in TIMES.iter().enumerate() {
        // Every other entry is the contact removed after the first page.
        let contact = if i % 2 == 0 { w.contact.id } else { gone.id };
        store
            .record_access(&record(contact, *at, format!("/p/{i}")))
            .await
            .unwrap();
    }
    let full = store.access_log(id, 1000).await.unwrap();
    assert_eq!(full.len(), TIMES.len());
    let whole = store.access_log_page(id, None, 1000).await.unwrap();
    assert_eq!(
        whole.items, full,
        "one page holds the whole log, in the log's order"
    );
    assert_eq!(whole.next, None);
    let empty = store.access_log_page(id, None, 0).await.unwrap();
    assert!(
        empty.items.is_empty() && empty.next.is_none(),
        "limit 0 is an empty page"
    );

    let mut seen = Vec::new();
    let mut after = None;
    let mut round = 0;
    loop {
        let page = store.access_log_page(id, after, 3).await.unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().cloned());
        let Some(next) = page.next else { break };
        after = Some(next);
        if round == 0 {
            // The removed contact's entries go, on both sides of the boundary.
            store
                .remove_contact(gone.id, &feed_entry(id, 0, "removed"))
                .await
                .unwrap();
        }
        store
            .record_access(&record(
                w.contact.id,
                100 + round,
                format!("/later/{round}"),
            ))
            .await
            .unwrap();
        round += 1;
        assert!(round < 50, "paging never ends");
    }
    let survivors: Vec<&AccessLogEntry> = full
        .iter()
        .filter(|e| e.contact_id == w.contact.id)
        .collect();
    let seen_originals: Vec<&AccessLogEntry> = seen
        .iter()
        .filter(|e| {
            e.contact_id == w.contact.id
                && !e
                    .request
                    .path
                    .as_deref()
                    .unwrap_or("")
                    .starts_with("/later/")
        })
        .collect();
    assert_eq!(
        seen_originals, survivors,
        "every entry that existed throughout exactly once, in order, whatever was added or removed between pages"
    );
}
