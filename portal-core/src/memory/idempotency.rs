//! [`IdempotencyStore`] for [`MemoryStore`]: one map, one lock, the rule decides.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::error::Result;
use crate::idempotency::{IdempotencyKey, Reservation, Reserve, SavedResponse, judge};
use crate::ids::{ClaimToken, TenantId};
use crate::store::IdempotencyStore;

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn reserve_idempotency(&self, reserve: &Reserve) -> Result<Reservation> {
        self.with(|st| {
            let id = (reserve.tenant, reserve.key.clone());
            let answer = judge(st.idempotency.get(&id), &reserve.fingerprint, reserve.now);
            if answer == Reservation::Reserved {
                st.idempotency.insert(id, reserve.record());
            }
            Ok(answer)
        })
    }

    async fn complete_idempotency(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
        claim: ClaimToken,
        response: &SavedResponse,
    ) -> Result<bool> {
        self.with(|st| match st.idempotency.get_mut(&(tenant, key.clone())) {
            Some(rec) if rec.claim == claim && rec.response.is_none() => {
                rec.response = Some(response.clone());
                Ok(true)
            }
            _ => Ok(false),
        })
    }

    async fn release_idempotency(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
        claim: ClaimToken,
    ) -> Result<bool> {
        self.with(|st| {
            let id = (tenant, key.clone());
            match st.idempotency.get(&id) {
                Some(rec) if rec.claim == claim && rec.response.is_none() => {
                    st.idempotency.remove(&id);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
    }

    async fn prune_idempotency(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        self.with(|st| {
            let mut old: Vec<(DateTime<Utc>, (TenantId, IdempotencyKey))> = st
                .idempotency
                .iter()
                .filter(|(_, r)| r.expires_at < before)
                .map(|(id, r)| (r.expires_at, id.clone()))
                .collect();
            old.sort();
            let mut removed = 0u64;
            for (_, id) in old.into_iter().take(max_rows) {
                st.idempotency.remove(&id);
                removed += 1;
            }
            Ok(removed)
        })
    }
}
