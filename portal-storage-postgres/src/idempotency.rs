//! [`IdempotencyStore`] for [`PostgresStore`]: the `idempotency_keys` table.
//!
//! A reservation is one `SERIALIZABLE` unit: it reads the row, asks [`judge`], and
//! writes its answer, so of racing reservations (threads or nodes) exactly one
//! commits first; PostgreSQL aborts the others with a serialization failure, and
//! [`crate::tx`] runs them again: they then see the winner's row and are judged
//! against it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use portal_core::idempotency::{
    IdempotencyKey, IdempotencyRecord, Reservation, Reserve, SavedResponse, judge,
};
use portal_core::store::IdempotencyStore;
use portal_core::{ClaimToken, Error, Result, TenantId};

use crate::PostgresStore;
use crate::codec::{self, DbResult, micros};
use crate::tx::Tx;

fn read(tx: &mut Tx<'_>, tenant: TenantId, key: &str) -> Result<Option<IdempotencyRecord>> {
    let row = tx
        .query_opt(
            "SELECT fingerprint, claim, lease_until, expires_at, status, headers, body
             FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
            &[&&tenant.as_bytes()[..], &key],
        )
        .db("reading an idempotency key")?;
    let Some(row) = row else {
        return Ok(None);
    };
    let fingerprint = codec::bytes_n::<32>(&row, 0)?;
    let claim = codec::bytes_n::<16>(&row, 1)?;
    let lease_until = codec::time(&row, 2)?;
    let expires_at = codec::time(&row, 3)?;
    let status: Option<i64> = codec::get(&row, 4)?;
    let headers: Option<String> = codec::get(&row, 5)?;
    let body: Option<Vec<u8>> = codec::get(&row, 6)?;
    let response = match (status, headers, body) {
        (Some(status), Some(headers), Some(body)) => Some(SavedResponse {
            status: u16::try_from(status)
                .map_err(|_| Error::storage_msg("a stored response status is out of range"))?,
            headers: serde_json::from_str(&headers)
                .map_err(|e| Error::storage("decoding stored response headers", e))?,
            body,
        }),
        _ => None,
    };
    Ok(Some(IdempotencyRecord {
        fingerprint,
        claim: ClaimToken::from_bytes(claim),
        lease_until,
        expires_at,
        response,
    }))
}

/// Whether `(tenant, key)` is running under `claim`.
fn held_by(tx: &mut Tx<'_>, tenant: TenantId, key: &str, claim: ClaimToken) -> Result<bool> {
    Ok(read(tx, tenant, key)?.is_some_and(|r| r.claim == claim && r.response.is_none()))
}

#[async_trait]
impl IdempotencyStore for PostgresStore {
    async fn reserve_idempotency(&self, reserve: &Reserve) -> Result<Reservation> {
        let reserve = reserve.clone();
        self.write(move |tx| {
            let existing = read(tx, reserve.tenant, reserve.key.as_str())?;
            let answer = judge(existing.as_ref(), &reserve.fingerprint, reserve.now);
            if answer == Reservation::Reserved {
                let rec = reserve.record();
                tx.execute(
                    "INSERT INTO idempotency_keys
                         (tenant_id, key, fingerprint, claim, lease_until, expires_at,
                          status, headers, body)
                     VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, NULL)
                     ON CONFLICT (tenant_id, key) DO UPDATE SET
                         fingerprint = excluded.fingerprint, claim = excluded.claim,
                         lease_until = excluded.lease_until, expires_at = excluded.expires_at,
                         status = NULL, headers = NULL, body = NULL",
                    &[
                        &&reserve.tenant.as_bytes()[..],
                        &reserve.key.as_str(),
                        &&rec.fingerprint[..],
                        &&rec.claim.as_bytes()[..],
                        &micros(rec.lease_until),
                        &micros(rec.expires_at),
                    ],
                )
                .db("reserving an idempotency key")?;
            }
            Ok(answer)
        })
        .await
    }

    async fn complete_idempotency(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
        claim: ClaimToken,
        response: &SavedResponse,
    ) -> Result<bool> {
        let (key, response) = (key.clone(), response.clone());
        let headers = serde_json::to_string(&response.headers)
            .map_err(|e| Error::storage("encoding response headers", e))?;
        self.write(move |tx| {
            if !held_by(tx, tenant, key.as_str(), claim)? {
                return Ok(false);
            }
            tx.execute(
                "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5
                 WHERE tenant_id = $1 AND key = $2",
                &[
                    &&tenant.as_bytes()[..],
                    &key.as_str(),
                    &i64::from(response.status),
                    &headers,
                    &response.body,
                ],
            )
            .db("completing an idempotency key")?;
            Ok(true)
        })
        .await
    }

    async fn release_idempotency(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
        claim: ClaimToken,
    ) -> Result<bool> {
        let key = key.clone();
        self.write(move |tx| {
            if !held_by(tx, tenant, key.as_str(), claim)? {
                return Ok(false);
            }
            tx.execute(
                "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
                &[&&tenant.as_bytes()[..], &key.as_str()],
            )
            .db("releasing an idempotency key")?;
            Ok(true)
        })
        .await
    }

    async fn prune_idempotency(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        if max_rows == 0 {
            return Ok(0);
        }
        self.write(move |tx| {
            let n = tx
                .execute(
                    "DELETE FROM idempotency_keys WHERE (tenant_id, key) IN (
                         SELECT tenant_id, key FROM idempotency_keys
                         WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)",
                    &[
                        &micros(before),
                        &i64::try_from(max_rows).unwrap_or(i64::MAX),
                    ],
                )
                .db("pruning idempotency keys")?;
            Ok(n)
        })
        .await
    }
}
