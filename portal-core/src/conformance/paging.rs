//! Lists read by key ([`crate::store::Page`]'s contract): the activity feed, the
//! access log, and the admin lists of portals, contacts and templates, paged while
//! entries are added, removed or renamed between pages.

use std::collections::HashSet;

use super::support::{another_contact, new_portal, secs, staff, t0, world};
use crate::ids::PortalId;
use crate::store::{AccessEvent, AccessLogEntry, PageKey, PortalEdit, RequestInfo, Store};
use crate::workflow::{ActivityEntry, ActivityKind};

fn feed_entry(portal: PortalId, at: i64, subject: &str) -> ActivityEntry {
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

/// Reads a list page by page, `$size` a page: `$read` reads the page after
/// `after` (an `Option<PageKey>` in scope), and `$between` runs after every page that
/// has a next, with `round` and `key` (that next) in scope. Evaluates to what the
/// pages held. Checks on the way that a page holds at most `$size` items and that a
/// page with a next is not empty. (A macro, not a function taking async closures:
/// the checks' futures must stay `Send` for every caller.)
macro_rules! read_by_key {
    (|$after:ident| $read:expr, $size:expr, |$round:ident, $key:ident| $between:block) => {{
        let mut seen = Vec::new();
        let mut $after: Option<PageKey> = None;
        let mut $round: usize = 0;
        loop {
            let page = $read;
            assert!(page.items.len() <= $size, "a page holds at most `limit` items");
            let next = page.next;
            if next.is_some() {
                assert!(!page.items.is_empty(), "a page with a next is not empty");
            }
            seen.extend(page.items);
            let Some($key) = next else { break };
            $after = Some($key);
            $between
            $round += 1;
            assert!($round < 50, "paging never ends");
        }
        seen
    }};
}

/// What every keyset list must show: `expected` (the items that existed throughout,
/// in the list's order) exactly once each and in that order among `seen`, and no
/// item twice.
fn assert_every_item_once<T, K: Eq + std::hash::Hash + std::fmt::Debug>(
    seen: &[T],
    expected: &[K],
    id: impl Fn(&T) -> K,
    what: &str,
) {
    let ids: Vec<K> = seen.iter().map(&id).collect();
    let distinct: HashSet<&K> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "no {what} appears twice: {ids:?}"
    );
    let wanted: HashSet<&K> = expected.iter().collect();
    let seen_originals: Vec<&K> = ids.iter().filter(|k| wanted.contains(k)).collect();
    assert_eq!(
        seen_originals,
        expected.iter().collect::<Vec<_>>(),
        "every {what} that existed throughout exactly once, in order, whatever was added or removed between pages"
    );
}

/// A tenant's portals paged by key ([`crate::store::DirectoryStore::portals_page`]):
/// one page is the whole list in the order of `portals`; `limit` 0 is empty;
/// portals created between page reads (newer ones, one at the exact time of the
/// last key, an older one) never make a portal of the first read repeat or go
/// missing; another tenant's portals never appear.
pub async fn portals_page_by_key(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let tenant = w.tenant.id;
    for at in TIMES {
        add_portal(store, tenant, at).await;
    }
    let full: Vec<PortalId> = store
        .portals(tenant)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(full.len(), TIMES.len() + 1);
    let whole = store.portals_page(tenant, None, 100).await.unwrap();
    assert_eq!(
        whole.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        full,
        "one page holds the whole list, in the order of `portals`"
    );
    assert_eq!(whole.next, None, "the last page has no next");
    let empty = store.portals_page(tenant, None, 0).await.unwrap();
    assert!(
        empty.items.is_empty() && empty.next.is_none(),
        "limit 0 is an empty page"
    );
    let seen = read_by_key!(
        |after| store.portals_page(tenant, after, 3).await.unwrap(),
        3,
        |_round, key| {
            for at in [100, (key.at - t0()).num_seconds(), -5] {
                add_portal(store, tenant, at).await;
            }
        }
    );
    assert!(
        seen.iter()
            .all(|p| p.tenant_id == tenant && p.id != other.portal.id),
        "only the tenant's portals"
    );
    for pair in seen.windows(2) {
        assert!(pair[0].created_at <= pair[1].created_at, "oldest first");
    }
    assert_every_item_once(&seen, &full, |p| p.id, "portal");
}

/// A portal's contacts paged by key ([`crate::store::DirectoryStore::contacts_page`]),
/// while contacts are added (newer, at the last key's time, older) and one already
/// read is removed between page reads: every contact that existed throughout comes
/// exactly once, in order; another portal's contacts never appear.
pub async fn contacts_page_by_key(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let portal = w.portal.id;
    for (i, at) in TIMES.iter().enumerate() {
        add_contact(store, portal, *at, &format!("c{i}@example.com")).await;
    }
    let full: Vec<crate::ids::ContactId> = store
        .contacts(portal)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(full.len(), TIMES.len() + 1);
    let whole = store.contacts_page(portal, None, 100).await.unwrap();
    assert_eq!(
        whole.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        full,
        "one page holds the whole list, in the order of `contacts`"
    );
    assert_eq!(whole.next, None);
    let empty = store.contacts_page(portal, None, 0).await.unwrap();
    assert!(
        empty.items.is_empty() && empty.next.is_none(),
        "limit 0 is an empty page"
    );
    // The first contact read (the world's) is removed after the first page.
    let removed = full[0];
    let seen = read_by_key!(
        |after| store.contacts_page(portal, after, 3).await.unwrap(),
        3,
        |round, key| {
            if round == 0 {
                store
                    .remove_contact(removed, &feed_entry(portal, 0, "removed"))
                    .await
                    .unwrap();
            }
            let at = (key.at - t0()).num_seconds();
            for (n, t) in [100, at, -5].into_iter().enumerate() {
                add_contact(store, portal, t, &format!("later{round}.{n}@example.com")).await;
            }
        }
    );
    assert!(
        seen.iter()
            .all(|c| c.portal_id == portal && c.id != other.contact.id),
        "only the portal's contacts"
    );
    for pair in seen.windows(2) {
        assert!(pair[0].created_at <= pair[1].created_at, "oldest first");
    }
    let survivors: Vec<_> = full.iter().copied().filter(|c| *c != removed).collect();
    assert_every_item_once(&seen, &survivors, |c| c.id, "contact");
}

/// A tenant's templates paged by key ([`crate::store::TemplateStore::templates_page`]):
/// oldest first whatever their names, renames between page reads move nothing, and
/// templates created between page reads never make one of the first read repeat or
/// go missing; another tenant's templates never appear.
pub async fn templates_page_by_key(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let tenant = w.tenant.id;
    store
        .create_template(&super::plan::new_template(other.tenant.id, "Theirs"))
        .await
        .unwrap();
    let mut made = Vec::new();
    for (i, at) in TIMES.iter().enumerate() {
        // Names against creation order: a store paging by name fails the order.
        made.push(add_template(store, tenant, *at, &format!("{} template", 99 - i)).await);
    }
    let whole = store.templates_page(tenant, None, 100).await.unwrap();
    assert_eq!(whole.next, None);
    assert_eq!(
        whole.items.len(),
        TIMES.len(),
        "the tenant's templates only"
    );
    // Oldest first; equal times in creation order.
    let full: Vec<crate::ids::TemplateId> = made.iter().map(|t| t.id).collect();
    assert_eq!(
        whole.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        full,
        "one page holds the whole list, oldest first (equal times in creation order)"
    );
    assert_eq!(whole.items[0], made[0], "templates round-trip");
    let empty = store.templates_page(tenant, None, 0).await.unwrap();
    assert!(
        empty.items.is_empty() && empty.next.is_none(),
        "limit 0 is an empty page"
    );
    let seen = read_by_key!(
        |after| store.templates_page(tenant, after, 3).await.unwrap(),
        3,
        |round, key| {
            // A template not read yet is renamed to sort first by name.
            let last = made.last().unwrap();
            let renamed = crate::workflow::template::PlanTemplate {
                name: format!("0 renamed {round}"),
                version: last.version + u64::try_from(round).unwrap() + 1,
                ..last.clone()
            };
            store
                .replace_template(&renamed, renamed.version - 1)
                .await
                .unwrap();
            let at = (key.at - t0()).num_seconds();
            for (n, t) in [100, at, -5].into_iter().enumerate() {
                add_template(store, tenant, t, &format!("later {round}.{n}")).await;
            }
        }
    );
    assert!(
        seen.iter().all(|t| t.tenant_id == tenant),
        "only the tenant's templates"
    );
    assert_every_item_once(&seen, &full, |t| t.id, "template");
}

async fn add_portal(store: &dyn Store, tenant: crate::ids::TenantId, at: i64) -> PortalId {
    let p = new_portal(tenant, t0() + secs(at));
    store.create_portal(&p, None).await.unwrap();
    p.id
}

async fn add_contact(
    store: &dyn Store,
    portal: PortalId,
    at: i64,
    email: &str,
) -> crate::ids::ContactId {
    let c = crate::model::Contact {
        created_at: t0() + secs(at),
        ..super::support::new_contact(portal, email, t0())
    };
    store.add_contact(&c, None).await.unwrap();
    c.id
}

async fn add_template(
    store: &dyn Store,
    tenant: crate::ids::TenantId,
    at: i64,
    name: &str,
) -> crate::workflow::template::PlanTemplate {
    let t = crate::workflow::template::PlanTemplate {
        created_at: t0() + secs(at),
        updated_at: t0() + secs(at),
        ..super::plan::new_template(tenant, name)
    };
    store.create_template(&t).await.unwrap();
    t
}
