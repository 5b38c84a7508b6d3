//! The storage seam of webhooks: endpoints, the tenant's cursor in the activity feed,
//! and the durable delivery queue.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{AttemptOutcome, DeliveryLease, WebhookDelivery, WebhookEndpoint};
use crate::error::Result;
use crate::ids::{ClaimToken, DeliveryId, EndpointId, TenantId};
use crate::store::{Page, PageKey};
use crate::workflow::ActivityEntry;

/// One entry of the activity feed with its key in the feed: the store's insertion
/// number, which only grows (never reused, even after entries are erased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// The key (1 or more; a cursor of 0 is before every entry).
    pub seq: u64,
    /// The portal's tenant.
    pub tenant_id: TenantId,
    /// The entry.
    pub entry: ActivityEntry,
}

/// Webhook endpoints, the feed cursor and the delivery queue.
///
/// # Contract
/// - **Endpoints by tenant.** `create_endpoint` stores a new endpoint of an existing
///   tenant (`NotFound(Tenant)` otherwise, an existing id is `Conflict`) with version
///   1; `endpoint(tenant, id)` and `delete_endpoint` of another tenant's endpoint are
///   `NotFound(WebhookEndpoint)`; `endpoints(tenant)` lists only that tenant's, oldest
///   first.
/// - **Compare-and-set.** `save_endpoint(e, expected)` replaces the stored endpoint
///   only if its version is `expected` (else `Stale`, nothing written) and stores it
///   with version `expected + 1`; its id, tenant and creation time are kept as stored.
/// - **The feed's key only grows.** `feed_since(tenant, after, limit)` answers the
///   tenant's feed entries (of all its portals) whose key is greater than `after`, in
///   key order, at most `limit`. A key is never reused: an entry appended after others
///   were erased (a portal deleted) gets a greater key than every entry before.
/// - **The cursor starts at the feed's end.** When a tenant's first endpoint is
///   created, in the same unit, the tenant's cursor is set to the greatest key of the
///   whole feed (0 if empty) unless it has one: history is not sent.
///   `webhook_cursor(tenant)` answers it (`None` before any endpoint).
/// - **Enqueue exactly once.** `enqueue(tenant, expected, to, deliveries)` is one
///   unit: if the cursor is not `expected` it is `Stale` and nothing is written;
///   otherwise the deliveries are stored (pending, due at their `next_attempt_at`)
///   and the cursor is set to `to`. A delivery of another tenant is `Invalid`, an
///   existing delivery id is `Conflict`, and nothing is written either way. So of two
///   dispatchers reading the same cursor exactly one enqueues.
/// - **Claims.** `claim_due(now, lease, limit)` answers at most `limit` pending
///   deliveries due at `now` (`next_attempt_at <= now`) of enabled endpoints whose
///   previous claim has run out, earliest due first, and marks them claimed by
///   `lease` until `lease.until`; a concurrent claim never gets the same delivery.
///   `record_attempt(id, claim, outcome)` applies the attempt only while `claim` is
///   the delivery's live claim (else `Stale`, nothing written): attempts + 1, the
///   record kept, `Delivered` on success, otherwise `Pending` at `retry_at` or
///   `Failed` when it is `None`; the claim is released; and in the same unit the
///   endpoint is changed by [`super::endpoint_after_attempt`].
/// - **Reads and replays.** `deliveries_page(tenant, endpoint, after, limit)` pages
///   an endpoint's deliveries newest first by key (see [`Page`]'s contract);
///   `delivery(tenant, id)` of another tenant is `NotFound(WebhookDelivery)`.
///   `replay(tenant, id, now)` makes a delivery pending and due at `now` with its
///   body and id unchanged (so receivers dedupe), releasing any claim.
/// - **Erasure.** Deleting an endpoint deletes its deliveries; deleting a portal
///   (`DirectoryStore::delete_portal`) deletes the deliveries about it.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Stores a new endpoint (see the contract on the cursor).
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()>;
    /// One endpoint of a tenant.
    async fn endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<WebhookEndpoint>;
    /// A tenant's endpoints, oldest first.
    async fn endpoints(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>>;
    /// Replaces an endpoint if its stored version is `expected`; answers it as stored.
    async fn save_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        expected: u64,
    ) -> Result<WebhookEndpoint>;
    /// Deletes an endpoint and its deliveries.
    async fn delete_endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<()>;
    /// The tenants that have at least one endpoint (the dispatcher's list).
    async fn webhook_tenants(&self) -> Result<Vec<TenantId>>;
    /// The tenant's cursor in the feed.
    async fn webhook_cursor(&self, tenant: TenantId) -> Result<Option<u64>>;
    /// The tenant's feed entries after key `after`, in key order.
    async fn feed_since(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEvent>>;
    /// Stores deliveries and moves the cursor from `expected` to `to`, in one unit.
    async fn enqueue(
        &self,
        tenant: TenantId,
        expected: u64,
        to: u64,
        deliveries: &[WebhookDelivery],
    ) -> Result<()>;
    /// Claims due deliveries.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: DeliveryLease,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>>;
    /// Records an attempt of a claimed delivery.
    async fn record_attempt(
        &self,
        delivery: DeliveryId,
        claim: ClaimToken,
        outcome: &AttemptOutcome,
    ) -> Result<()>;
    /// One delivery of a tenant.
    async fn delivery(&self, tenant: TenantId, id: DeliveryId) -> Result<WebhookDelivery>;
    /// An endpoint's deliveries, newest first, by key.
    async fn deliveries_page(
        &self,
        tenant: TenantId,
        endpoint: EndpointId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<WebhookDelivery>>;
    /// Makes a delivery due again now.
    async fn replay(
        &self,
        tenant: TenantId,
        id: DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<WebhookDelivery>;
}
