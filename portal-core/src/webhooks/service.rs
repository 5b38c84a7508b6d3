//! The webhook use cases: the admin's endpoint management, the dispatcher that turns
//! the activity feed into deliveries, and the delivery worker.
//!
//! Kept beside [`crate::PortalService`] rather than inside it: webhooks need a store
//! seam ([`WebhookStore`]) and a transport ([`WebhookTransport`]) that a host without
//! webhooks does not provide.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::{
    AttemptOutcome, AttemptRecord, DeliveryLease, DeliveryState, OutgoingWebhook, WebhookDelivery,
    WebhookEndpoint, WebhookSecret, WebhookStore, WebhookTransport, check_description,
    check_event_types, check_url, event_body, event_type, excerpt, message_id, next_attempt,
    open_secret, rotated, seal_secret, subscribed,
};
use crate::error::{Entity, Error, Result};
use crate::ids::{ClaimToken, DeliveryId, EndpointId};
use crate::staff::{StaffContext, StaffRole};
use crate::store::Page;
use crate::store::PageKey;
use crate::{Clock, RandomSource, secret::ServerSecret};

/// The settings of webhooks in a host.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Accept `http://` endpoint URLs (tests and demos with a local receiver).
    pub allow_http: bool,
    /// Feed entries one dispatch pass reads per tenant.
    pub dispatch_batch: usize,
    /// Deliveries one worker pass claims.
    pub delivery_batch: usize,
    /// How long a claim holds: longer than a whole pass (`delivery_batch` attempts,
    /// one after the other, each bounded by the transport's timeout), so a live
    /// worker's claim never runs out under it, and a crashed worker's deliveries come
    /// back after it.
    pub lease: TimeDelta,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_http: false,
            dispatch_batch: 200,
            delivery_batch: 20,
            lease: TimeDelta::seconds(600),
        }
    }
}

/// A new endpoint as the admin asks for it.
#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    /// The receiver's URL.
    pub url: String,
    /// What the admin calls it.
    pub description: String,
    /// The event types to send (empty: all).
    pub event_types: Vec<String>,
}

/// A change of an endpoint (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    /// A new URL.
    pub url: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new filter.
    pub event_types: Option<Vec<String>>,
    /// Enable (clearing the reason it was disabled and its failure streak) or disable.
    pub enabled: Option<bool>,
}

/// What one worker pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Attempts answered 2xx.
    pub delivered: u32,
    /// Attempts that failed and will be retried.
    pub retrying: u32,
    /// Deliveries given up.
    pub failed: u32,
}

/// The webhook use cases over a store, a transport and the core's clock, randomness
/// and server secret. Cheap to clone.
#[derive(Clone)]
pub struct Webhooks {
    store: Arc<dyn WebhookStore>,
    transport: Arc<dyn WebhookTransport>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    secret: ServerSecret,
    settings: WebhookSettings,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    /// Webhooks with the clock, randomness and server secret of `service`.
    pub fn new(
        service: &crate::PortalService,
        store: Arc<dyn WebhookStore>,
        transport: Arc<dyn WebhookTransport>,
        settings: WebhookSettings,
    ) -> Self {
        Self {
            store,
            transport,
            clock: service.clock().clone(),
            random: service.random().clone(),
            secret: service.secret().clone(),
            settings,
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn WebhookStore> {
        &self.store
    }

    /// The settings in force.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    // --- The admin's endpoint management (admin role; own tenant only). ---------

    /// Registers an endpoint; answers it with its secret, shown this once.
    pub async fn create_endpoint(
        &self,
        staff: &StaffContext,
        new: &NewEndpoint,
    ) -> Result<(WebhookEndpoint, WebhookSecret)> {
        staff.require(StaffRole::Admin, "adding a webhook endpoint")?;
        let url = check_url(&new.url, self.settings.allow_http)?;
        let description = check_description(&new.description)?;
        let event_types = check_event_types(&new.event_types)?;
        if self.store.endpoints(staff.tenant).await?.len() >= super::MAX_ENDPOINTS_PER_TENANT {
            return Err(Error::conflict(format!(
                "a tenant has at most {} webhook endpoints: delete one first",
                super::MAX_ENDPOINTS_PER_TENANT
            )));
        }
        let id = EndpointId::random(self.random.as_ref());
        let secret = WebhookSecret::generate(self.random.as_ref());
        let sealed = seal_secret(&self.secret, self.random.as_ref(), id, &secret)?;
        let endpoint = WebhookEndpoint {
            id,
            tenant_id: staff.tenant,
            url,
            description,
            event_types,
            enabled: true,
            disabled_reason: None,
            secrets: vec![super::SealedSecret {
                sealed,
                expires_at: None,
            }],
            failing_since: None,
            created_at: self.clock.now(),
            version: 1,
        };
        self.store.create_endpoint(&endpoint).await?;
        Ok((endpoint, secret))
    }

    /// The tenant's endpoints, oldest first.
    pub async fn list_endpoints(&self, staff: &StaffContext) -> Result<Vec<WebhookEndpoint>> {
        staff.require(StaffRole::Admin, "reading webhook endpoints")?;
        self.store.endpoints(staff.tenant).await
    }

    /// One endpoint of the tenant.
    pub async fn get_endpoint(
        &self,
        staff: &StaffContext,
        id: EndpointId,
    ) -> Result<WebhookEndpoint> {
        staff.require(StaffRole::Admin, "reading a webhook endpoint")?;
        self.store.endpoint(staff.tenant, id).await
    }

    /// Changes an endpoint if it is still at version `expected`.
    pub async fn update_endpoint(
        &self,
        staff: &StaffContext,
        id: EndpointId,
        expected: u64,
        patch: &EndpointPatch,
    ) -> Result<WebhookEndpoint> {
        staff.require(StaffRole::Admin, "changing a webhook endpoint")?;
        let mut next = self.store.endpoint(staff.tenant, id).await?;
        if let Some(url) = &patch.url {
            next.url = check_url(url, self.settings.allow_http)?;
        }
        if let Some(d) = &patch.description {
            next.description = check_description(d)?;
        }
        if let Some(t) = &patch.event_types {
            next.event_types = check_event_types(t)?;
        }
        if let Some(enabled) = patch.enabled {
            next.enabled = enabled;
            if enabled {
                next.disabled_reason = None;
                next.failing_since = None;
            }
        }
        self.store.save_endpoint(&next, expected).await
    }

    /// Deletes an endpoint and its deliveries.
    pub async fn delete_endpoint(&self, staff: &StaffContext, id: EndpointId) -> Result<()> {
        staff.require(StaffRole::Admin, "deleting a webhook endpoint")?;
        self.store.delete_endpoint(staff.tenant, id).await
    }

    /// Replaces an endpoint's secret; the old one still signs for
    /// [`super::ROTATION_OVERLAP`]. Answers the new secret, shown this once.
    pub async fn rotate_secret(
        &self,
        staff: &StaffContext,
        id: EndpointId,
    ) -> Result<(WebhookEndpoint, WebhookSecret)> {
        staff.require(StaffRole::Admin, "rotating a webhook secret")?;
        let current = self.store.endpoint(staff.tenant, id).await?;
        let secret = WebhookSecret::generate(self.random.as_ref());
        let sealed = seal_secret(&self.secret, self.random.as_ref(), id, &secret)?;
        let next = rotated(&current, sealed, self.clock.now());
        let saved = self.store.save_endpoint(&next, current.version).await?;
        Ok((saved, secret))
    }

    /// An endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        staff: &StaffContext,
        endpoint: EndpointId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<WebhookDelivery>> {
        staff.require(StaffRole::Admin, "reading webhook deliveries")?;
        self.store.endpoint(staff.tenant, endpoint).await?;
        self.store
            .deliveries_page(staff.tenant, endpoint, after, limit)
            .await
    }

    /// Sends a delivery again (same `webhook-id` and body) at the next worker pass.
    pub async fn replay_delivery(
        &self,
        staff: &StaffContext,
        id: DeliveryId,
    ) -> Result<WebhookDelivery> {
        staff.require(StaffRole::Admin, "replaying a webhook delivery")?;
        let d = self.store.delivery(staff.tenant, id).await?;
        let endpoint = self.store.endpoint(staff.tenant, d.endpoint_id).await?;
        if !endpoint.enabled {
            return Err(Error::conflict(
                "the endpoint is disabled: enable it first, then replay",
            ));
        }
        self.store.replay(staff.tenant, id, self.clock.now()).await
    }

    // --- The dispatcher and the worker (the host runs them in the background). ----

    /// One dispatch pass: for every tenant with endpoints, reads the feed after its
    /// cursor and enqueues one delivery per entry and subscribed enabled endpoint,
    /// moving the cursor in the same unit. Answers how many deliveries it enqueued.
    /// A pass that loses the cursor to another dispatcher (`Stale`) leaves it to that
    /// one.
    pub async fn dispatch(&self) -> Result<usize> {
        let mut total = 0;
        for tenant in self.store.webhook_tenants().await? {
            loop {
                let Some(cursor) = self.store.webhook_cursor(tenant).await? else {
                    break;
                };
                let events = self
                    .store
                    .feed_since(tenant, cursor, self.settings.dispatch_batch)
                    .await?;
                let Some(last) = events.last().map(|e| e.seq) else {
                    break;
                };
                let endpoints = self.store.endpoints(tenant).await?;
                let now = self.clock.now();
                let mut deliveries = Vec::new();
                for event in &events {
                    let kind = event_type(event.entry.kind);
                    let mut body = None;
                    for e in endpoints
                        .iter()
                        .filter(|e| e.enabled && subscribed(&e.event_types, kind))
                    {
                        let body = match &body {
                            Some(b) => b,
                            None => body.insert(event_body(tenant, &event.entry)?),
                        };
                        deliveries.push(WebhookDelivery {
                            id: DeliveryId::random(self.random.as_ref()),
                            tenant_id: tenant,
                            endpoint_id: e.id,
                            portal_id: event.entry.portal_id,
                            feed_seq: event.seq,
                            event_type: kind.to_owned(),
                            body: body.clone(),
                            created_at: now,
                            state: DeliveryState::Pending,
                            attempts: 0,
                            next_attempt_at: Some(now),
                            last_attempt: None,
                        });
                    }
                }
                match self.store.enqueue(tenant, cursor, last, &deliveries).await {
                    Ok(()) => total += deliveries.len(),
                    Err(Error::Stale { .. }) => break,
                    Err(e) => return Err(e),
                }
                if events.len() < self.settings.dispatch_batch {
                    break;
                }
            }
        }
        Ok(total)
    }

    /// One worker pass: claims due deliveries and attempts each once.
    pub async fn deliver_due(&self) -> Result<DeliveryReport> {
        let now = self.clock.now();
        let lease = DeliveryLease {
            claim: ClaimToken::random(self.random.as_ref()),
            until: now + self.settings.lease,
        };
        let due = self
            .store
            .claim_due(now, lease, self.settings.delivery_batch)
            .await?;
        let mut report = DeliveryReport::default();
        for d in due {
            let outcome = self.attempt(&d).await;
            match (&outcome.retry_at, outcome.record.succeeded()) {
                (_, true) => report.delivered += 1,
                (Some(_), false) => report.retrying += 1,
                (None, false) => report.failed += 1,
            }
            if let Err(e) = self.store.record_attempt(d.id, lease.claim, &outcome).await {
                tracing::warn!(error = %e, delivery = %d.id, "a webhook attempt could not be recorded");
            }
        }
        Ok(report)
    }

    /// Makes one attempt of `d` and decides what follows.
    async fn attempt(&self, d: &WebhookDelivery) -> AttemptOutcome {
        let sent = self.send(d).await;
        let at = self.clock.now();
        let record = match sent {
            Ok(answer) => AttemptRecord {
                at,
                status: Some(answer.status),
                excerpt: excerpt(&answer.excerpt),
            },
            Err(e) => AttemptRecord {
                at,
                status: None,
                excerpt: excerpt(&e.to_string()),
            },
        };
        let retry_at = if record.succeeded() {
            None
        } else {
            next_attempt(d.attempts + 1, at, self.random.as_ref())
        };
        AttemptOutcome { record, retry_at }
    }

    async fn send(&self, d: &WebhookDelivery) -> Result<super::TransportAnswer> {
        let endpoint = self.store.endpoint(d.tenant_id, d.endpoint_id).await?;
        let now = self.clock.now();
        let secrets = endpoint
            .live_secrets(now)
            .map(|s| open_secret(&self.secret, endpoint.id, &s.sealed))
            .collect::<Result<Vec<_>>>()?;
        if secrets.is_empty() {
            return Err(Error::NotFound {
                entity: Entity::WebhookEndpoint,
            });
        }
        let msg_id = message_id(d.id);
        let timestamp = now.timestamp();
        let signature = super::signature_header(&secrets, &msg_id, timestamp, d.body.as_bytes());
        self.transport
            .post(&OutgoingWebhook {
                url: endpoint.url.clone(),
                msg_id,
                timestamp,
                signature,
                body: d.body.clone(),
            })
            .await
    }

    /// One dispatch pass and one worker pass, for hosts and tests that drive them.
    pub async fn run_once(&self) -> Result<DeliveryReport> {
        self.dispatch().await?;
        self.deliver_due().await
    }

    /// The instant the host's clock shows (for views of deliveries).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

#[cfg(feature = "tokio")]
impl Webhooks {
    /// Spawns the dispatcher and worker on the current Tokio runtime: one
    /// [`Self::run_once`] at once, then every `every`. A failed pass is logged and the
    /// next tick tries again. Runs until the handle is aborted.
    ///
    /// # Panics
    ///
    /// Panics when called outside a Tokio runtime, like [`tokio::spawn`].
    pub fn spawn(self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let every = every.max(std::time::Duration::from_millis(10));
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.run_once().await {
                    tracing::warn!(error = %e, "a webhook pass failed; retrying at the next tick");
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}
