//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portal_core::ids::{ClaimToken, DeliveryId, EndpointId};
use portal_core::store::{Page, PageKey};
use portal_core::webhooks::{
    AttemptOutcome, DeliveryLease, DeliveryState, FeedEvent, WebhookDelivery, WebhookEndpoint,
    WebhookStore, endpoint_after_attempt,
};
use portal_core::{Entity, Error, Result, TenantId};

use crate::PostgresStore;

#[async_trait]
impl WebhookStore for PostgresStore {

    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        Err(crate::not_ported("WebhookStore::create_endpoint"))
    }

    async fn endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<WebhookEndpoint> {
        Err(crate::not_ported("WebhookStore::endpoint"))
    }

    async fn endpoints(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>> {
        Err(crate::not_ported("WebhookStore::endpoints"))
    }

    async fn save_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        expected: u64,
    ) -> Result<WebhookEndpoint> {
        Err(crate::not_ported("WebhookStore::save_endpoint"))
    }

    async fn delete_endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<()> {
        Err(crate::not_ported("WebhookStore::delete_endpoint"))
    }

    async fn webhook_tenants(&self) -> Result<Vec<TenantId>> {
        Err(crate::not_ported("WebhookStore::webhook_tenants"))
    }

    async fn webhook_cursor(&self, tenant: TenantId) -> Result<Option<u64>> {
        Err(crate::not_ported("WebhookStore::webhook_cursor"))
    }

    async fn feed_since(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEvent>> {
        Err(crate::not_ported("WebhookStore::feed_since"))
    }

    async fn enqueue(
        &self,
        tenant: TenantId,
        expected: u64,
        to: u64,
        deliveries: &[WebhookDelivery],
    ) -> Result<()> {
        Err(crate::not_ported("WebhookStore::enqueue"))
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: DeliveryLease,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>> {
        Err(crate::not_ported("WebhookStore::claim_due"))
    }

    async fn record_attempt(
        &self,
        delivery: DeliveryId,
        claim: ClaimToken,
        outcome: &AttemptOutcome,
    ) -> Result<()> {
        Err(crate::not_ported("WebhookStore::record_attempt"))
    }

    async fn delivery(&self, tenant: TenantId, id: DeliveryId) -> Result<WebhookDelivery> {
        Err(crate::not_ported("WebhookStore::delivery"))
    }

    async fn deliveries_page(
        &self,
        tenant: TenantId,
        endpoint: EndpointId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<WebhookDelivery>> {
        Err(crate::not_ported("WebhookStore::deliveries_page"))
    }

    async fn replay(
        &self,
        tenant: TenantId,
        id: DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<WebhookDelivery> {
        Err(crate::not_ported("WebhookStore::replay"))
    }
}
