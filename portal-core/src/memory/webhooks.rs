//! [`WebhookStore`] for [`MemoryStore`]: endpoints, cursors and deliveries in the one
//! locked state, so the feed read and the cursor's compare-and-set see the same feed.
//! A feed entry's key is its number in the activity log plus one (the log numbers
//! from 0 and never renumbers).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, not_found};
use crate::error::{Entity, Error, Result};
use crate::ids::{ClaimToken, DeliveryId, EndpointId, PortalId, TenantId};
use crate::store::{Page, PageKey};
use crate::webhooks::{
    AttemptOutcome, DeliveryLease, DeliveryState, FeedEvent, WebhookDelivery, WebhookEndpoint,
    WebhookStore, endpoint_after_attempt,
};

#[derive(Debug, Default)]
pub(super) struct WebhookState {
    next: u64,
    endpoints: HashMap<EndpointId, (u64, WebhookEndpoint)>,
    cursors: HashMap<TenantId, u64>,
    deliveries: HashMap<DeliveryId, DeliveryRec>,
}

#[derive(Debug, Clone)]
struct DeliveryRec {
    seq: u64,
    delivery: WebhookDelivery,
    lease: Option<DeliveryLease>,
}

impl WebhookState {
    fn seq(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Erases the deliveries about a deleted portal (called in its unit).
    pub(super) fn erase_portal(&mut self, portal: PortalId) {
        self.deliveries
            .retain(|_, d| d.delivery.portal_id != portal);
    }

    fn endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<&WebhookEndpoint> {
        match self.endpoints.get(&id) {
            Some((_, e)) if e.tenant_id == tenant => Ok(e),
            _ => Err(not_found(Entity::WebhookEndpoint)),
        }
    }

    fn delivery(&mut self, tenant: TenantId, id: DeliveryId) -> Result<&mut DeliveryRec> {
        match self.deliveries.get_mut(&id) {
            Some(d) if d.delivery.tenant_id == tenant => Ok(d),
            _ => Err(not_found(Entity::WebhookDelivery)),
        }
    }
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        self.with(|st| {
            if !st.tenants.contains_key(&endpoint.tenant_id) {
                return Err(not_found(Entity::Tenant));
            }
            if st.webhooks.endpoints.contains_key(&endpoint.id) {
                return Err(Error::conflict("a webhook endpoint with this id exists"));
            }
            let end = st.activity.next;
            st.webhooks.cursors.entry(endpoint.tenant_id).or_insert(end);
            let seq = st.webhooks.seq();
            let stored = WebhookEndpoint {
                version: 1,
                ..endpoint.clone()
            };
            st.webhooks.endpoints.insert(endpoint.id, (seq, stored));
            Ok(())
        })
    }

    async fn endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<WebhookEndpoint> {
        self.with(|st| st.webhooks.endpoint(tenant, id).cloned())
    }

    async fn endpoints(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>> {
        self.with(|st| {
            let mut v: Vec<&(u64, WebhookEndpoint)> = st
                .webhooks
                .endpoints
                .values()
                .filter(|(_, e)| e.tenant_id == tenant)
                .collect();
            v.sort_by_key(|(seq, _)| *seq);
            Ok(v.into_iter().map(|(_, e)| e.clone()).collect())
        })
    }

    async fn save_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        expected: u64,
    ) -> Result<WebhookEndpoint> {
        self.with(|st| {
            let (_, stored) = st
                .webhooks
                .endpoints
                .get_mut(&endpoint.id)
                .filter(|(_, e)| e.tenant_id == endpoint.tenant_id)
                .ok_or_else(|| not_found(Entity::WebhookEndpoint))?;
            if stored.version != expected {
                return Err(Error::stale("the webhook endpoint was changed meanwhile"));
            }
            *stored = WebhookEndpoint {
                id: stored.id,
                tenant_id: stored.tenant_id,
                created_at: stored.created_at,
                version: expected + 1,
                ..endpoint.clone()
            };
            Ok(stored.clone())
        })
    }

    async fn delete_endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<()> {
        self.with(|st| {
            st.webhooks.endpoint(tenant, id)?;
            st.webhooks.endpoints.remove(&id);
            st.webhooks
                .deliveries
                .retain(|_, d| d.delivery.endpoint_id != id);
            Ok(())
        })
    }

    async fn webhook_tenants(&self) -> Result<Vec<TenantId>> {
        self.with(|st| {
            let mut v: Vec<TenantId> = st
                .webhooks
                .endpoints
                .values()
                .map(|(_, e)| e.tenant_id)
                .collect();
            v.sort();
            v.dedup();
            Ok(v)
        })
    }

    async fn webhook_cursor(&self, tenant: TenantId) -> Result<Option<u64>> {
        self.with(|st| Ok(st.webhooks.cursors.get(&tenant).copied()))
    }

    async fn feed_since(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEvent>> {
        self.with(|st| {
            Ok(st
                .activity
                .items
                .iter()
                .map(|(n, e)| (n + 1, e))
                .filter(|(key, _)| *key > after)
                .filter_map(|(key, e)| {
                    let portal = st.portals.get(&e.portal_id)?;
                    (portal.value.tenant_id == tenant).then(|| FeedEvent {
                        seq: key,
                        tenant_id: tenant,
                        entry: e.clone(),
                    })
                })
                .take(limit)
                .collect())
        })
    }

    async fn enqueue(
        &self,
        tenant: TenantId,
        expected: u64,
        to: u64,
        deliveries: &[WebhookDelivery],
    ) -> Result<()> {
        self.with(|st| {
            if st.webhooks.cursors.get(&tenant) != Some(&expected) {
                return Err(Error::stale("another dispatcher moved the webhook cursor"));
            }
            for (i, d) in deliveries.iter().enumerate() {
                if d.tenant_id != tenant {
                    return Err(Error::invalid("delivery", "a delivery of another tenant"));
                }
                if st.webhooks.deliveries.contains_key(&d.id)
                    || deliveries[..i].iter().any(|o| o.id == d.id)
                {
                    return Err(Error::conflict("a webhook delivery with this id exists"));
                }
            }
            for d in deliveries {
                let seq = st.webhooks.seq();
                st.webhooks.deliveries.insert(
                    d.id,
                    DeliveryRec {
                        seq,
                        delivery: d.clone(),
                        lease: None,
                    },
                );
            }
            st.webhooks.cursors.insert(tenant, to);
            Ok(())
        })
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: DeliveryLease,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>> {
        self.with(|st| {
            let w = &mut st.webhooks;
            let mut due: Vec<(DateTime<Utc>, u64, DeliveryId)> = w
                .deliveries
                .values()
                .filter(|d| d.delivery.state == DeliveryState::Pending)
                .filter(|d| d.lease.is_none_or(|l| l.until <= now))
                .filter(|d| {
                    w.endpoints
                        .get(&d.delivery.endpoint_id)
                        .is_some_and(|(_, e)| e.enabled)
                })
                .filter_map(|d| {
                    let at = d.delivery.next_attempt_at?;
                    (at <= now).then_some((at, d.seq, d.delivery.id))
                })
                .collect();
            due.sort();
            due.truncate(limit);
            let mut out = Vec::with_capacity(due.len());
            for (_, _, id) in due {
                if let Some(d) = w.deliveries.get_mut(&id) {
                    d.lease = Some(lease);
                    out.push(d.delivery.clone());
                }
            }
            Ok(out)
        })
    }

    async fn record_attempt(
        &self,
        delivery: DeliveryId,
        claim: ClaimToken,
        outcome: &AttemptOutcome,
    ) -> Result<()> {
        self.with(|st| {
            let w = &mut st.webhooks;
            let d = w
                .deliveries
                .get_mut(&delivery)
                .ok_or_else(|| not_found(Entity::WebhookDelivery))?;
            if d.lease.is_none_or(|l| l.claim != claim) {
                return Err(Error::stale("the delivery's claim was lost"));
            }
            let endpoint_id = d.delivery.endpoint_id;
            d.lease = None;
            d.delivery.attempts += 1;
            d.delivery.last_attempt = Some(outcome.record.clone());
            if outcome.record.succeeded() {
                d.delivery.state = DeliveryState::Delivered;
                d.delivery.next_attempt_at = None;
            } else if let Some(at) = outcome.retry_at {
                d.delivery.state = DeliveryState::Pending;
                d.delivery.next_attempt_at = Some(at);
            } else {
                d.delivery.state = DeliveryState::Failed;
                d.delivery.next_attempt_at = None;
            }
            if let Some((_, e)) = w.endpoints.get_mut(&endpoint_id)
                && let Some(next) = endpoint_after_attempt(e, &outcome.record)
            {
                *e = next;
            }
            Ok(())
        })
    }

    async fn delivery(&self, tenant: TenantId, id: DeliveryId) -> Result<WebhookDelivery> {
        self.with(|st| Ok(st.webhooks.delivery(tenant, id)?.delivery.clone()))
    }

    async fn deliveries_page(
        &self,
        tenant: TenantId,
        endpoint: EndpointId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<WebhookDelivery>> {
        self.with(|st| {
            let mut read: Vec<(PageKey, WebhookDelivery)> = st
                .webhooks
                .deliveries
                .values()
                .filter(|d| d.delivery.tenant_id == tenant && d.delivery.endpoint_id == endpoint)
                .map(|d| {
                    (
                        PageKey {
                            at: d.delivery.created_at,
                            seq: d.seq,
                        },
                        d.delivery.clone(),
                    )
                })
                .filter(|(k, _)| after.is_none_or(|a| *k < a))
                .collect();
            read.sort_by_key(|(k, _)| std::cmp::Reverse(*k));
            read.truncate(limit.saturating_add(1));
            Ok(Page::from_read(read, limit))
        })
    }

    async fn replay(
        &self,
        tenant: TenantId,
        id: DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<WebhookDelivery> {
        self.with(|st| {
            let d = st.webhooks.delivery(tenant, id)?;
            d.lease = None;
            d.delivery.state = DeliveryState::Pending;
            d.delivery.next_attempt_at = Some(now);
            Ok(d.delivery.clone())
        })
    }
}
