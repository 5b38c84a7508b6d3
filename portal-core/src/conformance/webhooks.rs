//! [`WebhookStore`]'s contract, one check per point. Each check takes the store twice:
//! as a [`Store`] (to make tenants, portals and feed entries) and as the
//! [`WebhookStore`] under test (the same object for a complete adapter).

use std::collections::HashSet;
use std::sync::Arc;

use super::support::{new_portal, new_tenant, secs, staff, t0, world};
use crate::error::{Entity, Error};
use crate::ids::{ClaimToken, DeliveryId, EndpointId, PortalId, TenantId};
use crate::random::{OsRandom, SeededRandom};
use crate::store::{Erasure, PortalEdit, Store};
use crate::webhooks::{
    AttemptOutcome, AttemptRecord, DeliveryLease, DeliveryState, SealedSecret, WebhookDelivery,
    WebhookEndpoint, WebhookStore,
};
use crate::workflow::{ActivityEntry, ActivityKind};

fn endpoint(tenant: TenantId, n: u8) -> WebhookEndpoint {
    WebhookEndpoint {
        id: EndpointId::random(&OsRandom),
        tenant_id: tenant,
        url: format!("https://psa{n}.example.com/hooks"),
        description: format!("endpoint {n}"),
        event_types: vec![],
        enabled: true,
        disabled_reason: None,
        secrets: vec![SealedSecret {
            sealed: vec![1, 2, 3, n],
            expires_at: None,
        }],
        failing_since: None,
        created_at: t0() + secs(i64::from(n)),
        version: 7,
    }
}

fn entry(portal: PortalId, at: i64, subject: &str) -> ActivityEntry {
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

/// Appends a feed entry to `portal` (through a rename, the plainest recorded change).
async fn append(store: &dyn Store, portal: PortalId, at: i64, subject: &str) {
    store
        .edit_portal(
            portal,
            &PortalEdit::Rename(subject.to_owned()),
            None,
            &entry(portal, at, subject),
        )
        .await
        .unwrap();
}

fn delivery(e: &WebhookEndpoint, portal: PortalId, n: u64, due: i64) -> WebhookDelivery {
    WebhookDelivery {
        id: DeliveryId::random(&OsRandom),
        tenant_id: e.tenant_id,
        endpoint_id: e.id,
        portal_id: portal,
        feed_seq: n,
        event_type: "portal.renamed".into(),
        body: format!("{{\"n\":{n}}}"),
        created_at: t0() + secs(i64::try_from(n).unwrap()),
        state: DeliveryState::Pending,
        attempts: 0,
        next_attempt_at: Some(t0() + secs(due)),
        last_attempt: None,
    }
}

async fn cursor(hooks: &dyn WebhookStore, t: TenantId) -> u64 {
    hooks.webhook_cursor(t).await.unwrap().unwrap()
}

/// Endpoints by tenant: created with version 1, read back as stored, listed oldest
/// first and only the tenant's; other tenants' are `NotFound`, an existing id is
/// `Conflict`, a missing tenant is `NotFound(Tenant)`; deleted ones are gone.
pub async fn webhook_endpoints_by_tenant(store: &dyn Store, hooks: &dyn WebhookStore) {
    let a = world(store).await;
    let b = world(store).await;
    let (e1, e2) = (endpoint(a.tenant.id, 1), endpoint(a.tenant.id, 2));
    hooks.create_endpoint(&e2).await.unwrap();
    hooks.create_endpoint(&e1).await.unwrap();
    let read = hooks.endpoint(a.tenant.id, e1.id).await.unwrap();
    assert_eq!(read.version, 1, "a new endpoint has version 1");
    assert_eq!(
        WebhookEndpoint { version: 7, ..read },
        e1,
        "read back as stored"
    );
    let ids: Vec<EndpointId> = hooks
        .endpoints(a.tenant.id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, [e2.id, e1.id], "oldest (first created) first");
    assert!(hooks.endpoints(b.tenant.id).await.unwrap().is_empty());
    assert!(matches!(
        hooks.endpoint(b.tenant.id, e1.id).await,
        Err(Error::NotFound {
            entity: Entity::WebhookEndpoint
        })
    ));
    assert!(matches!(
        hooks.create_endpoint(&e1).await,
        Err(Error::Conflict { .. })
    ));
    let orphan = endpoint(crate::conformance::support::tenant_id(), 3);
    assert!(matches!(
        hooks.create_endpoint(&orphan).await,
        Err(Error::NotFound {
            entity: Entity::Tenant
        })
    ));
    assert!(matches!(
        hooks.delete_endpoint(b.tenant.id, e1.id).await,
        Err(Error::NotFound { .. })
    ));
    hooks.endpoint(a.tenant.id, e1.id).await.unwrap();
    hooks.delete_endpoint(a.tenant.id, e1.id).await.unwrap();
    assert!(hooks.endpoint(a.tenant.id, e1.id).await.is_err());
    assert!(
        hooks
            .webhook_tenants()
            .await
            .unwrap()
            .contains(&a.tenant.id)
    );
}

/// `save_endpoint` is a compare-and-set on the version: the expected version writes
/// (version + 1, id, tenant and creation time kept), another is `Stale` with nothing
/// written.
pub async fn webhook_endpoint_compare_and_set(store: &dyn Store, hooks: &dyn WebhookStore) {
    let a = world(store).await;
    let e = endpoint(a.tenant.id, 1);
    hooks.create_endpoint(&e).await.unwrap();
    let changed = WebhookEndpoint {
        url: "https://new.example.com/h".into(),
        enabled: false,
        created_at: t0() + secs(999),
        ..e.clone()
    };
    let saved = hooks.save_endpoint(&changed, 1).await.unwrap();
    assert_eq!(saved.version, 2);
    assert_eq!(saved.url, "https://new.example.com/h");
    assert_eq!(saved.created_at, e.created_at, "creation time kept");
    let again = WebhookEndpoint {
        url: "https://lost.example.com/h".into(),
        ..changed.clone()
    };
    assert!(matches!(
        hooks.save_endpoint(&again, 1).await,
        Err(Error::Stale { .. })
    ));
    let read = hooks.endpoint(a.tenant.id, e.id).await.unwrap();
    assert_eq!(
        read.url, "https://new.example.com/h",
        "a stale save writes nothing"
    );
    assert_eq!(read.version, 2);
    assert!(!read.enabled);
}

/// The feed's keys: a tenant's entries of all its portals in key order, nobody
/// else's; an entry appended after the newest entries were erased gets a greater key
/// than every key given before.
pub async fn webhook_feed_keys_only_grow(store: &dyn Store, hooks: &dyn WebhookStore) {
    let a = world(store).await;
    let b = world(store).await;
    let second = new_portal(a.tenant.id, t0());
    store.create_portal(&second, None).await.unwrap();
    hooks
        .create_endpoint(&endpoint(a.tenant.id, 1))
        .await
        .unwrap();
    let start = cursor(hooks, a.tenant.id).await;
    append(store, a.portal.id, 1, "a1").await;
    append(store, b.portal.id, 2, "b1").await;
    append(store, second.id, 3, "s1").await;
    append(store, second.id, 4, "s2").await;
    let feed = hooks.feed_since(a.tenant.id, start, 100).await.unwrap();
    let subjects: Vec<&str> = feed.iter().map(|e| e.entry.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["a1", "s1", "s2"],
        "the tenant's entries in key order"
    );
    assert!(feed.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(feed.iter().all(|e| e.seq > start));
    let limited = hooks.feed_since(a.tenant.id, start, 2).await.unwrap();
    assert_eq!(limited.len(), 2);
    let rest = hooks
        .feed_since(a.tenant.id, limited[1].seq, 100)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    let highest = feed.iter().map(|e| e.seq).max().unwrap();
    // Erase the portal with the newest entries, then append elsewhere.
    store
        .delete_portal(
            second.id,
            &Erasure {
                tenant_id: a.tenant.id,
                portal_id: second.id,
                client_name: second.client_name.clone(),
                at: t0() + secs(5),
                by: staff(),
                audit_head: None,
            },
        )
        .await
        .unwrap();
    append(store, a.portal.id, 6, "a2").await;
    let after = hooks.feed_since(a.tenant.id, highest, 100).await.unwrap();
    assert_eq!(
        after
            .iter()
            .map(|e| e.entry.subject.as_str())
            .collect::<Vec<_>>(),
        ["a2"],
        "an entry after an erasure has a key past every earlier one (keys are never reused)"
    );
}

/// The cursor starts at the feed's end when the tenant's first endpoint is created,
/// and a later endpoint does not move it.
pub async fn webhook_cursor_starts_at_the_end(store: &dyn Store, hooks: &dyn WebhookStore) {
    let a = world(store).await;
    append(store, a.portal.id, 1, "before 1").await;
    append(store, a.portal.id, 2, "before 2").await;
    assert_eq!(hooks.webhook_cursor(a.tenant.id).await.unwrap(), None);
    hooks
        .create_endpoint(&endpoint(a.tenant.id, 1))
        .await
        .unwrap();
    let start = cursor(hooks, a.tenant.id).await;
    assert!(
        hooks
            .feed_since(a.tenant.id, start, 100)
            .await
            .unwrap()
            .is_empty(),
        "history before the first endpoint is not sent"
    );
    let all = hooks.feed_since(a.tenant.id, 0, 100).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|e| e.seq <= start));
    append(store, a.portal.id, 3, "after").await;
    hooks
        .create_endpoint(&endpoint(a.tenant.id, 2))
        .await
        .unwrap();
    assert_eq!(
        cursor(hooks, a.tenant.id).await,
        start,
        "a second endpoint leaves the cursor"
    );
}

/// `enqueue` is a compare-and-set of the cursor with the deliveries: a wrong expected
/// cursor is `Stale`, another tenant's delivery `Invalid`, an existing id `Conflict`,
/// each writing nothing.
pub async fn webhook_enqueue_exactly_once(store: &dyn Store, hooks: &dyn WebhookStore) {
    let a = world(store).await;
    let b = world(store).await;
    let e = endpoint(a.tenant.id, 1);
    hooks.create_endpoint(&e).await.unwrap();
    let start = cursor(hooks, a.tenant.id).await;
    let d1 = delivery(&e, a.portal.id, 1, 0);
    assert!(matches!(
        hooks
            .enqueue(a.tenant.id, start + 1, start + 5, std::slice::from_ref(&d1))
            .await,
        Err(Error::Stale { .. })
    ));
    assert_eq!(cursor(hooks, a.tenant.id).await, start);
    assert!(hooks.delivery(a.tenant.id, d1.id).await.is_err());
    let foreign = WebhookDelivery {
        tenant_id: b.tenant.id,
        ..delivery(&e, a.portal.id, 2, 0)
    };
    assert!(matches!(
        hooks
            .enqueue(a.tenant.id, start, start + 5, &[d1.clone(), foreign])
            .await,
        Err(Error::Invalid { .. })
    ));
    assert_eq!(cursor(hooks, a.tenant.id).await, start, "nothing written");
    assert!(hooks.delivery(a.tenant.id, d1.id).await.is_err());
    hooks
        .enqueue(a.tenant.id, start, start + 5, std::slice::from_ref(&d1))
        .await
        .unwrap();
    assert_eq!(cursor(hooks, a.tenant.id).await, start + 5);
    assert_eq!(hooks.delivery(a.tenant.id, d1.id).await.unwrap(), d1);
    assert!(matches!(
        hooks
            .enqueue(a.tenant.id, start, start + 5, std::slice::from_ref(&d1))
            .await,
        Err(Error::Stale { .. })
    ));
    assert!(matches!(
        hooks
            .enqueue(a.tenant.id, start + 5, start + 6, std::slice::from_ref(&d1))
            .await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(cursor(hooks, a.tenant.id).await, start + 5);
}

/// Of concurrent enqueues from one cursor exactly one wins.
pub async fn webhook_concurrent_enqueues(store: Arc<dyn Store>, hooks: Arc<dyn WebhookStore>) {
    let a = world(store.as_ref()).await;
    let e = endpoint(a.tenant.id, 1);
    hooks.create_endpoint(&e).await.unwrap();
    let start = cursor(hooks.as_ref(), a.tenant.id).await;
    let mut tasks = Vec::new();
    for n in 0..8u64 {
        let hooks = hooks.clone();
        let d = delivery(&e, a.portal.id, 100 + n, 0);
        let t = a.tenant.id;
        tasks.push(tokio::spawn(async move {
            hooks.enqueue(t, start, start + 1, &[d]).await.is_ok()
        }));
    }
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap() {
            won += 1;
        }
    }
    assert_eq!(
        won, 1,
        "exactly one concurrent enqueue from one cursor wins"
    );
    let page = hooks
        .deliveries_page(a.tenant.id, e.id, None, 100)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

/// Claims: due pending deliveries of enabled endpoints, earliest first, at most
/// `limit`, none twice while a claim holds; attempts only under the live claim;
/// success, retry and giving up as the contract says; the endpoint's failure streak
/// kept in the same unit.
pub async fn webhook_claims_and_attempts(store: &dyn Store, hooks: &dyn WebhookStore) {
    let a = world(store).await;
    let e = endpoint(a.tenant.id, 1);
    let off = WebhookEndpoint {
        enabled: false,
        ..endpoint(a.tenant.id, 2)
    };
    hooks.create_endpoint(&e).await.unwrap();
    hooks.create_endpoint(&off).await.unwrap();
    let start = cursor(hooks, a.tenant.id).await;
    let late = delivery(&e, a.portal.id, 1, 30);
    let early = delivery(&e, a.portal.id, 2, 10);
    let future = delivery(&e, a.portal.id, 3, 10_000);
    let disabled = delivery(&off, a.portal.id, 4, 0);
    let batch = [
        late.clone(),
        early.clone(),
        future.clone(),
        disabled.clone(),
    ];
    hooks
        .enqueue(a.tenant.id, start, start + 1, &batch)
        .await
        .unwrap();
    let now = t0() + secs(100);
    let lease = |n: u64, until: i64| DeliveryLease {
        claim: ClaimToken::random(&SeededRandom::new(n)),
        until: t0() + secs(until),
    };
    let l1 = lease(1, 200);
    let one = hooks.claim_due(now, l1, 1).await.unwrap();
    assert_eq!(
        one.iter().map(|d| d.id).collect::<Vec<_>>(),
        [early.id],
        "earliest due first, at most limit"
    );
    let rest = hooks.claim_due(now, lease(2, 200), 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|d| d.id).collect::<Vec<_>>(),
        [late.id],
        "not the claimed one, not a future one, not a disabled endpoint's"
    );
    assert!(
        hooks
            .claim_due(now, lease(3, 200), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let fail = AttemptOutcome {
        record: AttemptRecord {
            at: now,
            status: Some(500),
            excerpt: "boom".into(),
        },
        retry_at: Some(t0() + secs(150)),
    };
    assert!(matches!(
        hooks
            .record_attempt(early.id, lease(9, 0).claim, &fail)
            .await,
        Err(Error::Stale { .. })
    ));
    assert_eq!(
        hooks
            .delivery(a.tenant.id, early.id)
            .await
            .unwrap()
            .attempts,
        0,
        "another claim's attempt writes nothing"
    );
    hooks
        .record_attempt(early.id, l1.claim, &fail)
        .await
        .unwrap();
    let d = hooks.delivery(a.tenant.id, early.id).await.unwrap();
    assert_eq!(d.attempts, 1);
    assert_eq!(d.state, DeliveryState::Pending);
    assert_eq!(d.next_attempt_at, fail.retry_at);
    assert_eq!(d.last_attempt.as_ref(), Some(&fail.record));
    assert_eq!(
        hooks
            .endpoint(a.tenant.id, e.id)
            .await
            .unwrap()
            .failing_since,
        Some(now),
        "the failure streak is recorded with the attempt"
    );
    assert!(matches!(
        hooks.record_attempt(early.id, l1.claim, &fail).await,
        Err(Error::Stale { .. })
    ));
    // Due again at 150; the claim was released, so it is claimable then.
    let later = t0() + secs(160);
    let again = hooks.claim_due(later, lease(4, 300), 10).await.unwrap();
    assert_eq!(again.iter().map(|d| d.id).collect::<Vec<_>>(), [early.id]);
    let ok = AttemptOutcome {
        record: AttemptRecord {
            at: later,
            status: Some(204),
            excerpt: String::new(),
        },
        retry_at: None,
    };
    hooks
        .record_attempt(early.id, lease(4, 300).claim, &ok)
        .await
        .unwrap();
    let d = hooks.delivery(a.tenant.id, early.id).await.unwrap();
    assert_eq!((d.state, d.attempts), (DeliveryState::Delivered, 2));
    assert_eq!(
        hooks
            .endpoint(a.tenant.id, e.id)
            .await
            .unwrap()
            .failing_since,
        None
    );
    // An expired claim comes back; giving up marks the delivery failed.
    let expired = hooks
        .claim_due(t0() + secs(250), lease(5, 400), 10)
        .await
        .unwrap();
    assert_eq!(expired.iter().map(|d| d.id).collect::<Vec<_>>(), [late.id]);
    let give_up = AttemptOutcome {
        retry_at: None,
        ..fail.clone()
    };
    hooks
        .record_attempt(late.id, lease(5, 400).claim, &give_up)
        .await
        .unwrap();
    let d = hooks.delivery(a.tenant.id, late.id).await.unwrap();
    assert_eq!((d.state, d.next_attempt_at), (DeliveryState::Failed, None));
}

/// Concurrent claims never hand out one delivery twice.
pub async fn webhook_concurrent_claims(store: Arc<dyn Store>, hooks: Arc<dyn WebhookStore>) {
    let a = world(store.as_ref()).await;
    let e = endpoint(a.tenant.id, 1);
    hooks.create_endpoint(&e).await.unwrap();
    let start = cursor(hooks.as_ref(), a.tenant.id).await;
    let batch: Vec<WebhookDelivery> = (0..20).map(|n| delivery(&e, a.portal.id, n, 0)).collect();
    hooks
        .enqueue(a.tenant.id, start, start + 1, &batch)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..6u64 {
        let hooks = hooks.clone();
        tasks.push(tokio::spawn(async move {
            let lease = DeliveryLease {
                claim: ClaimToken::random(&SeededRandom::new(500 + n)),
                until: t0() + secs(1000),
            };
            hooks.claim_due(t0() + secs(10), lease, 5).await.unwrap()
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        for d in t.await.unwrap() {
            total += 1;
            assert!(seen.insert(d.id), "a delivery was claimed twice");
        }
    }
    assert_eq!(total, 20, "every due delivery claimed once");
}

/// Reads and replays: an endpoint's deliveries newest first by key, another
/// tenant's delivery `NotFound`, a replay due now with id and body unchanged.
pub async fn webhook_reads_and_replays(store: &dyn Store, hooks: &dyn WebhookStore) {
    let a = world(store).await;
    let b = world(store).await;
    let e = endpoint(a.tenant.id, 1);
    hooks.create_endpoint(&e).await.unwrap();
    let start = cursor(hooks, a.tenant.id).await;
    let batch: Vec<WebhookDelivery> = [1, 2, 2, 3, 4]
        .iter()
        .enumerate()
        .map(|(i, s)| WebhookDelivery {
            created_at: t0() + secs(*s),
            ..delivery(&e, a.portal.id, 10 + i as u64, 0)
        })
        .collect();
    hooks
        .enqueue(a.tenant.id, start, start + 1, &batch)
        .await
        .unwrap();
    let mut after = None;
    let mut read = Vec::new();
    loop {
        let page = hooks
            .deliveries_page(a.tenant.id, e.id, after, 2)
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        read.extend(page.items.iter().map(|d| d.id));
        match page.next {
            Some(k) => after = Some(k),
            None => break,
        }
    }
    let mut expected: Vec<&WebhookDelivery> = batch.iter().collect();
    expected.reverse();
    // Equal times: the later enqueued first.
    assert_eq!(read, expected.iter().map(|d| d.id).collect::<Vec<_>>());
    assert!(
        hooks
            .deliveries_page(b.tenant.id, e.id, None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(matches!(
        hooks.delivery(b.tenant.id, batch[0].id).await,
        Err(Error::NotFound {
            entity: Entity::WebhookDelivery
        })
    ));
    let lease = DeliveryLease {
        claim: ClaimToken::random(&SeededRandom::new(9)),
        until: t0() + secs(1000),
    };
    let claimed = hooks.claim_due(t0() + secs(5), lease, 1).await.unwrap();
    let fail = AttemptOutcome {
        record: AttemptRecord {
            at: t0() + secs(5),
            status: None,
            excerpt: "refused".into(),
        },
        retry_at: None,
    };
    hooks
        .record_attempt(claimed[0].id, lease.claim, &fail)
        .await
        .unwrap();
    let now = t0() + secs(50);
    let replayed = hooks.replay(a.tenant.id, claimed[0].id, now).await.unwrap();
    assert_eq!(replayed.state, DeliveryState::Pending);
    assert_eq!(replayed.next_attempt_at, Some(now));
    assert_eq!(replayed.body, claimed[0].body);
    assert_eq!(
        hooks.delivery(a.tenant.id, claimed[0].id).await.unwrap(),
        replayed,
        "the replay is stored"
    );
    assert!(hooks.replay(b.tenant.id, claimed[0].id, now).await.is_err());
}

/// Erasure: an endpoint's deliveries go with it, a portal's deliveries with the
/// portal.
pub async fn webhook_erasure(store: &dyn Store, hooks: &dyn WebhookStore) {
    let tenant = new_tenant(t0());
    store.create_tenant(&tenant).await.unwrap();
    let (p1, p2) = (new_portal(tenant.id, t0()), new_portal(tenant.id, t0()));
    store.create_portal(&p1, None).await.unwrap();
    store.create_portal(&p2, None).await.unwrap();
    let (e1, e2) = (endpoint(tenant.id, 1), endpoint(tenant.id, 2));
    hooks.create_endpoint(&e1).await.unwrap();
    hooks.create_endpoint(&e2).await.unwrap();
    let start = cursor(hooks, tenant.id).await;
    let of_e1 = delivery(&e1, p1.id, 1, 0);
    let of_p2 = delivery(&e2, p2.id, 2, 0);
    let kept = delivery(&e2, p1.id, 3, 0);
    hooks
        .enqueue(
            tenant.id,
            start,
            start + 1,
            &[of_e1.clone(), of_p2.clone(), kept.clone()],
        )
        .await
        .unwrap();
    hooks.delete_endpoint(tenant.id, e1.id).await.unwrap();
    assert!(
        hooks.delivery(tenant.id, of_e1.id).await.is_err(),
        "a deleted endpoint's deliveries are deleted"
    );
    store
        .delete_portal(
            p2.id,
            &Erasure {
                tenant_id: tenant.id,
                portal_id: p2.id,
                client_name: p2.client_name.clone(),
                at: t0() + secs(5),
                by: staff(),
                audit_head: None,
            },
        )
        .await
        .unwrap();
    assert!(
        hooks.delivery(tenant.id, of_p2.id).await.is_err(),
        "a deleted portal's deliveries are erased with it"
    );
    assert_eq!(hooks.delivery(tenant.id, kept.id).await.unwrap(), kept);
}

/// Runs every webhook check against one store.
pub async fn run_webhook_checks(store: Arc<dyn Store>, hooks: Arc<dyn WebhookStore>) {
    let (s, h) = (store.as_ref(), hooks.as_ref());
    // Claims are not scoped by tenant: the checks that claim run first, and each
    // leaves nothing due at the times the next one claims at.
    webhook_claims_and_attempts(s, h).await;
    webhook_concurrent_claims(store.clone(), hooks.clone()).await;
    webhook_reads_and_replays(s, h).await;
    webhook_endpoints_by_tenant(s, h).await;
    webhook_endpoint_compare_and_set(s, h).await;
    webhook_feed_keys_only_grow(s, h).await;
    webhook_cursor_starts_at_the_end(s, h).await;
    webhook_enqueue_exactly_once(s, h).await;
    webhook_erasure(s, h).await;
    webhook_concurrent_enqueues(store, hooks).await;
}
