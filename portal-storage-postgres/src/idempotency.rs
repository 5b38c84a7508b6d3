//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portal_core::idempotency::{
    IdempotencyKey, IdempotencyRecord, Reservation, Reserve, SavedResponse, judge,
};
use portal_core::store::IdempotencyStore;
use portal_core::{ClaimToken, Error, Result, TenantId};

use crate::PostgresStore;

#[async_trait]
impl IdempotencyStore for PostgresStore {

    async fn reserve_idempotency(&self, reserve: &Reserve) -> Result<Reservation> {
        Err(crate::not_ported("IdempotencyStore::reserve_idempotency"))
    }

    async fn complete_idempotency(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
        claim: ClaimToken,
        response: &SavedResponse,
    ) -> Result<bool> {
        Err(crate::not_ported("IdempotencyStore::complete_idempotency"))
    }

    async fn release_idempotency(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
        claim: ClaimToken,
    ) -> Result<bool> {
        Err(crate::not_ported("IdempotencyStore::release_idempotency"))
    }

    async fn prune_idempotency(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        Err(crate::not_ported("IdempotencyStore::prune_idempotency"))
    }
}
