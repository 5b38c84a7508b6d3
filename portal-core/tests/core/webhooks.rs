//! Webhooks: the store checks on the in-memory store, deliberately broken webhook
//! stores (one per contract point) that the checks must catch, and the dispatcher
//! and worker end to end with a recording transport.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use portal_core::conformance;
use portal_core::conformance::race::panics;
use portal_core::ids::{ClaimToken, DeliveryId, EndpointId};
use portal_core::memory::MemoryStore;
use portal_core::store::{Page, PageKey};
use portal_core::testkit::{self, TestService};
use portal_core::webhooks::service::{EndpointPatch, NewEndpoint, WebhookSettings, Webhooks};
use portal_core::webhooks::{
    AttemptOutcome, DeliveryLease, DeliveryState, FeedEvent, OutgoingWebhook, TransportAnswer,
    WebhookDelivery, WebhookEndpoint, WebhookSecret, WebhookStore, WebhookTransport,
};
use portal_core::{Error, Result, StaffContext, Store, TenantId};

// ----- the checks on the reference store ----------------------------------------------

macro_rules! on_memory {
    ($($kind:ident $name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let m = Arc::new(MemoryStore::new());
            on_memory!(@call $kind $name, m);
        }
    )*};
    (@call ref $name:ident, $m:expr) => {
        conformance::$name($m.as_ref(), $m.as_ref()).await
    };
    (@call arc $name:ident, $m:expr) => {{
        let (s, h): (Arc<dyn Store>, Arc<dyn WebhookStore>) = ($m.clone(), $m.clone());
        conformance::$name(s, h).await
    }};
}

on_memory!(
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
async fn every_webhook_check_on_one_memory_store() {
    let m = Arc::new(MemoryStore::new());
    conformance::run_webhook_checks(m.clone(), m).await;
}

// ----- broken stores ------------------------------------------------------------------

/// The one contract point a [`Broken`] webhook store breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breakage {
    /// Breaks nothing.
    None,
    /// `endpoint` answers whatever tenant it is asked through.
    EndpointIgnoresTenant,
    /// `save_endpoint` passes the stored version as the expected one (no compare).
    SaveIgnoresVersion,
    /// `feed_since` numbers the tenant's entries by position, so keys shift when
    /// entries are erased.
    KeysByPosition,
    /// `webhook_cursor` answers 0: the whole history would be sent.
    CursorFromZero,
    /// `enqueue` moves the cursor from wherever it is (no compare).
    EnqueueIgnoresCursor,
    /// `enqueue` checks the cursor, pauses, then writes: a check-then-act race.
    UnlockedEnqueue,
    /// `claim_due` claims deliveries that are not due yet.
    ClaimsUndue,
    /// `claim_due` claims with a lease that has already run out.
    ClaimWithoutLease,
    /// `record_attempt` accepts any claim (it substitutes the last one it gave).
    AnyClaimRecords,
    /// `replay` answers the replayed delivery without storing it.
    ReplayNotStored,
    /// `delivery` still answers deliveries that were erased.
    ErasedStillRead,
}

struct Broken {
    inner: Arc<MemoryStore>,
    breakage: Breakage,
    tenants: Mutex<HashMap<EndpointId, TenantId>>,
    claims: Mutex<HashMap<DeliveryId, ClaimToken>>,
    seen: Mutex<HashMap<DeliveryId, WebhookDelivery>>,
}

fn broken(breakage: Breakage) -> (Arc<MemoryStore>, Arc<Broken>) {
    let inner = Arc::new(MemoryStore::new());
    let b = Arc::new(Broken {
        inner: inner.clone(),
        breakage,
        tenants: Mutex::default(),
        claims: Mutex::default(),
        seen: Mutex::default(),
    });
    (inner, b)
}

#[async_trait]
impl WebhookStore for Broken {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        self.tenants
            .lock()
            .unwrap()
            .insert(endpoint.id, endpoint.tenant_id);
        self.inner.create_endpoint(endpoint).await
    }
    async fn endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<WebhookEndpoint> {
        let tenant = match self.breakage {
            Breakage::EndpointIgnoresTenant => {
                let owner = self.tenants.lock().unwrap().get(&id).copied();
                owner.unwrap_or(tenant)
            }
            _ => tenant,
        };
        self.inner.endpoint(tenant, id).await
    }
    async fn endpoints(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>> {
        self.inner.endpoints(tenant).await
    }
    async fn save_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        expected: u64,
    ) -> Result<WebhookEndpoint> {
        let expected = match self.breakage {
            Breakage::SaveIgnoresVersion => {
                self.inner
                    .endpoint(endpoint.tenant_id, endpoint.id)
                    .await?
                    .version
            }
            _ => expected,
        };
        self.inner.save_endpoint(endpoint, expected).await
    }
    async fn delete_endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<()> {
        self.inner.delete_endpoint(tenant, id).await
    }
    async fn webhook_tenants(&self) -> Result<Vec<TenantId>> {
        self.inner.webhook_tenants().await
    }
    async fn webhook_cursor(&self, tenant: TenantId) -> Result<Option<u64>> {
        let c = self.inner.webhook_cursor(tenant).await?;
        Ok(match self.breakage {
            Breakage::CursorFromZero => c.map(|_| 0),
            _ => c,
        })
    }
    async fn feed_since(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEvent>> {
        if self.breakage != Breakage::KeysByPosition {
            return self.inner.feed_since(tenant, after, limit).await;
        }
        let all = self.inner.feed_since(tenant, 0, usize::MAX).await?;
        Ok(all
            .into_iter()
            .enumerate()
            .map(|(i, e)| FeedEvent {
                seq: i as u64 + 1,
                ..e
            })
            .filter(|e| e.seq > after)
            .take(limit)
            .collect())
    }
    async fn enqueue(
        &self,
        tenant: TenantId,
        expected: u64,
        to: u64,
        deliveries: &[WebhookDelivery],
    ) -> Result<()> {
        {
            let mut seen = self.seen.lock().unwrap();
            for d in deliveries {
                seen.insert(d.id, d.clone());
            }
        }
        match self.breakage {
            Breakage::EnqueueIgnoresCursor => {
                let now = self.inner.webhook_cursor(tenant).await?.unwrap_or(0);
                self.inner.enqueue(tenant, now, to, deliveries).await
            }
            Breakage::UnlockedEnqueue => {
                if self.inner.webhook_cursor(tenant).await? != Some(expected) {
                    return Err(Error::stale("moved"));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                let now = self.inner.webhook_cursor(tenant).await?.unwrap_or(0);
                self.inner.enqueue(tenant, now, to, deliveries).await
            }
            _ => self.inner.enqueue(tenant, expected, to, deliveries).await,
        }
    }
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: DeliveryLease,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>> {
        let (now, lease) = match self.breakage {
            Breakage::ClaimsUndue => (now + TimeDelta::days(365), lease),
            Breakage::ClaimWithoutLease => (
                now,
                DeliveryLease {
                    until: now,
                    ..lease
                },
            ),
            _ => (now, lease),
        };
        let got = self.inner.claim_due(now, lease, limit).await?;
        let mut claims = self.claims.lock().unwrap();
        for d in &got {
            claims.insert(d.id, lease.claim);
        }
        Ok(got)
    }
    async fn record_attempt(
        &self,
        delivery: DeliveryId,
        claim: ClaimToken,
        outcome: &AttemptOutcome,
    ) -> Result<()> {
        let claim = match self.breakage {
            Breakage::AnyClaimRecords => self
                .claims
                .lock()
                .unwrap()
                .get(&delivery)
                .copied()
                .unwrap_or(claim),
            _ => claim,
        };
        self.inner.record_attempt(delivery, claim, outcome).await
    }
    async fn delivery(&self, tenant: TenantId, id: DeliveryId) -> Result<WebhookDelivery> {
        match self.inner.delivery(tenant, id).await {
            Err(e) if self.breakage == Breakage::ErasedStillRead => {
                let seen = self.seen.lock().unwrap().get(&id).cloned();
                seen.ok_or(e)
            }
            other => other,
        }
    }
    async fn deliveries_page(
        &self,
        tenant: TenantId,
        endpoint: EndpointId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<WebhookDelivery>> {
        self.inner
            .deliveries_page(tenant, endpoint, after, limit)
            .await
    }
    async fn replay(
        &self,
        tenant: TenantId,
        id: DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<WebhookDelivery> {
        if self.breakage == Breakage::ReplayNotStored {
            let d = self.inner.delivery(tenant, id).await?;
            return Ok(WebhookDelivery {
                state: DeliveryState::Pending,
                next_attempt_at: Some(now),
                ..d
            });
        }
        self.inner.replay(tenant, id, now).await
    }
}

macro_rules! run_check {
    (ref $name:ident, $breakage:expr) => {{
        let (inner, b) = broken($breakage);
        async move { conformance::$name(inner.as_ref(), b.as_ref()).await }
    }};
    (arc $name:ident, $breakage:expr) => {{
        let (inner, b) = broken($breakage);
        async move {
            let (s, h): (Arc<dyn Store>, Arc<dyn WebhookStore>) = (inner, b);
            conformance::$name(s, h).await
        }
    }};
}

macro_rules! caught {
    ($($test:ident: $breakage:ident => $kind:ident $check:ident;)*) => {
        $(
            #[doc = concat!("`", stringify!($breakage), "` is caught by `", stringify!($check), "`.")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                assert!(
                    panics(run_check!($kind $check, Breakage::$breakage)).await,
                    "{} did not catch {:?}",
                    stringify!($check),
                    Breakage::$breakage
                );
            }
        )*

        /// The unbroken wrapper passes every catching check.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn the_unbroken_wrapper_passes_the_catching_checks() {
            $(
                assert!(
                    !panics(run_check!($kind $check, Breakage::None)).await,
                    "the unbroken wrapper fails {}",
                    stringify!($check)
                );
            )*
        }
    };
}

caught! {
    tenant_ignored_is_caught: EndpointIgnoresTenant => ref webhook_endpoints_by_tenant;
    save_without_compare_is_caught: SaveIgnoresVersion => ref webhook_endpoint_compare_and_set;
    keys_by_position_are_caught: KeysByPosition => ref webhook_feed_keys_only_grow;
    cursor_from_zero_is_caught: CursorFromZero => ref webhook_cursor_starts_at_the_end;
    enqueue_without_compare_is_caught: EnqueueIgnoresCursor => ref webhook_enqueue_exactly_once;
    unlocked_enqueue_is_caught: UnlockedEnqueue => arc webhook_concurrent_enqueues;
    undue_claims_are_caught: ClaimsUndue => ref webhook_claims_and_attempts;
    claims_without_lease_are_caught: ClaimWithoutLease => arc webhook_concurrent_claims;
    any_claim_recording_is_caught: AnyClaimRecords => ref webhook_claims_and_attempts;
    unstored_replay_is_caught: ReplayNotStored => ref webhook_reads_and_replays;
    erased_deliveries_still_read_are_caught: ErasedStillRead => ref webhook_erasure;
}

// ----- the dispatcher and the worker ---------------------------------------------------

/// A transport that records every request and answers from a script (then 204).
#[derive(Default)]
struct Recording {
    sent: Mutex<Vec<OutgoingWebhook>>,
    script: Mutex<Vec<u16>>,
}

#[async_trait]
impl WebhookTransport for Recording {
    async fn post(&self, request: &OutgoingWebhook) -> Result<TransportAnswer> {
        self.sent.lock().unwrap().push(request.clone());
        let status = {
            let mut s = self.script.lock().unwrap();
            if s.is_empty() { 204 } else { s.remove(0) }
        };
        Ok(TransportAnswer {
            status,
            excerpt: "answer".into(),
        })
    }
}

struct Setup {
    kit: TestService,
    hooks: Webhooks,
    transport: Arc<Recording>,
    admin: StaffContext,
    member: StaffContext,
    portal: portal_core::PortalId,
}

impl Setup {
    /// Appends a feed entry (a rename is recorded in the portal's feed).
    async fn rename(&self, name: &str) {
        self.kit
            .service
            .rename_portal(&self.admin, self.portal, name)
            .await
            .unwrap();
    }
}

async fn setup() -> Setup {
    let store = Arc::new(MemoryStore::new());
    let kit = TestService::new(store.clone(), 1);
    let seeded = kit.seed_portal().await.unwrap();
    let transport = Arc::new(Recording::default());
    let hooks = Webhooks::new(
        &kit.service,
        store,
        transport.clone(),
        WebhookSettings::default(),
    );
    Setup {
        admin: testkit::admin(seeded.tenant.id),
        member: testkit::member(seeded.tenant.id),
        portal: seeded.portal.id,
        kit,
        hooks,
        transport,
    }
}

fn verify(secret: &WebhookSecret, sent: &OutgoingWebhook) -> bool {
    sent.signature.split(' ').any(|s| {
        s == portal_core::webhooks::sign(secret, &sent.msg_id, sent.timestamp, sent.body.as_bytes())
    })
}

#[tokio::test]
async fn feed_entries_are_delivered_signed_once_each() {
    let s = setup().await;
    let (endpoint, secret) = s
        .hooks
        .create_endpoint(
            &s.admin,
            &NewEndpoint {
                url: "https://psa.example.com/hooks".into(),
                description: "PSA".into(),
                event_types: vec![],
            },
        )
        .await
        .unwrap();
    assert_eq!(endpoint.secrets.len(), 1);
    assert!(matches!(
        s.hooks.list_endpoints(&s.member).await,
        Err(Error::Forbidden { .. })
    ));
    s.rename("Renamed once").await;
    s.rename("Renamed twice").await;
    s.hooks.run_once().await.unwrap();
    s.hooks.run_once().await.unwrap();
    let sent = s.transport.sent.lock().unwrap().clone();
    assert_eq!(
        sent.len(),
        2,
        "one delivery per entry, none twice: {sent:?}"
    );
    for w in &sent {
        assert!(verify(&secret, w), "signed with the endpoint's secret");
        let body: serde_json::Value = serde_json::from_str(&w.body).unwrap();
        assert_eq!(body["type"], "portal.renamed");
        assert!(w.msg_id.starts_with("msg_"));
    }
}

#[tokio::test]
async fn failures_are_retried_with_the_same_id_and_rotation_signs_twice() {
    let s = setup().await;
    let (endpoint, old) = s
        .hooks
        .create_endpoint(
            &s.admin,
            &NewEndpoint {
                url: "https://psa.example.com/hooks".into(),
                ..NewEndpoint::default()
            },
        )
        .await
        .unwrap();
    s.transport.script.lock().unwrap().extend([500, 503]);
    s.rename("Renamed").await;
    let r = s.hooks.run_once().await.unwrap();
    assert_eq!(r.retrying, 1);
    // Not due yet: nothing is sent.
    s.hooks.run_once().await.unwrap();
    assert_eq!(s.transport.sent.lock().unwrap().len(), 1);
    s.kit.clock.advance(TimeDelta::seconds(7));
    let r = s.hooks.run_once().await.unwrap();
    assert_eq!(r.retrying, 1);
    let (_, new) = s.hooks.rotate_secret(&s.admin, endpoint.id).await.unwrap();
    s.kit.clock.advance(TimeDelta::minutes(7));
    let r = s.hooks.run_once().await.unwrap();
    assert_eq!(r.delivered, 1);
    let sent = s.transport.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter().all(|w| w.msg_id == sent[0].msg_id),
        "one webhook-id for every attempt"
    );
    assert!(
        verify(&old, &sent[2]) && verify(&new, &sent[2]),
        "both secrets sign during the rotation"
    );
    assert_eq!(sent[2].signature.split(' ').count(), 2);
    let page = s
        .hooks
        .deliveries(&s.admin, endpoint.id, None, 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].attempts, 3);
    assert_eq!(page.items[0].state, DeliveryState::Delivered);
    // A replay sends it again with the same id.
    s.hooks
        .replay_delivery(&s.admin, page.items[0].id)
        .await
        .unwrap();
    s.hooks.run_once().await.unwrap();
    let sent = s.transport.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[3].msg_id, sent[0].msg_id);
    // After the overlap only the new secret signs.
    s.kit.clock.advance(TimeDelta::hours(25));
    s.hooks
        .replay_delivery(&s.admin, page.items[0].id)
        .await
        .unwrap();
    s.hooks.run_once().await.unwrap();
    let last = s.transport.sent.lock().unwrap().last().cloned().unwrap();
    assert!(verify(&new, &last) && !verify(&old, &last));
}

#[tokio::test]
async fn filters_disabling_and_bad_input() {
    let s = setup().await;
    for bad in [
        NewEndpoint {
            url: "http://psa.example.com/hooks".into(),
            ..NewEndpoint::default()
        },
        NewEndpoint {
            url: "https://psa.example.com/hooks".into(),
            event_types: vec!["task.nope".into()],
            ..NewEndpoint::default()
        },
    ] {
        assert!(matches!(
            s.hooks.create_endpoint(&s.admin, &bad).await,
            Err(Error::Invalid { .. })
        ));
    }
    let (only_tasks, _) = s
        .hooks
        .create_endpoint(
            &s.admin,
            &NewEndpoint {
                url: "https://psa.example.com/tasks".into(),
                event_types: vec!["task.completed".into()],
                ..NewEndpoint::default()
            },
        )
        .await
        .unwrap();
    s.rename("Renamed").await;
    s.hooks.run_once().await.unwrap();
    assert!(
        s.transport.sent.lock().unwrap().is_empty(),
        "a filtered endpoint gets only its types"
    );
    let off = s
        .hooks
        .update_endpoint(
            &s.admin,
            only_tasks.id,
            1,
            &EndpointPatch {
                enabled: Some(false),
                event_types: Some(vec![]),
                ..EndpointPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(off.version, 2);
    assert!(matches!(
        s.hooks
            .update_endpoint(&s.admin, only_tasks.id, 1, &EndpointPatch::default())
            .await,
        Err(Error::Stale { .. })
    ));
}

#[tokio::test]
async fn an_endpoint_failing_for_days_is_disabled() {
    let s = setup().await;
    let (endpoint, _) = s
        .hooks
        .create_endpoint(
            &s.admin,
            &NewEndpoint {
                url: "https://psa.example.com/hooks".into(),
                ..NewEndpoint::default()
            },
        )
        .await
        .unwrap();
    s.transport.script.lock().unwrap().extend([500; 100]);
    for day in 0..7 {
        s.rename(&format!("Day {day}")).await;
        for _ in 0..24 {
            s.hooks.run_once().await.unwrap();
            s.kit.clock.advance(TimeDelta::hours(1));
        }
    }
    let e = s.hooks.get_endpoint(&s.admin, endpoint.id).await.unwrap();
    assert!(!e.enabled, "disabled after five days of failures");
    assert!(e.disabled_reason.unwrap().contains("HTTP 500"));
    let page = s
        .hooks
        .deliveries(&s.admin, endpoint.id, None, 50)
        .await
        .unwrap();
    assert!(
        page.items.iter().any(|d| d.state == DeliveryState::Failed),
        "the first ones were given up"
    );
    assert!(page.items.iter().all(|d| {
        d.last_attempt
            .as_ref()
            .is_none_or(|a| a.excerpt.len() <= 256)
    }));
}
