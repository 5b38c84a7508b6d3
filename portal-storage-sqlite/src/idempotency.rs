//! [`IdempotencyStore`] for [`SqliteStore`]: the `idempotency_keys` table (migration 8).
//!
//! A reservation is one writer job (`BEGIN IMMEDIATE`): it reads the row, asks
//! [`judge`], and writes its answer, so racing reservations (threads or processes)
//! are serialised by SQLite's write lock and exactly one wins.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use portal_core::idempotency::{
    IdempotencyKey, IdempotencyRecord, Reservation, Reserve, SavedResponse, judge,
};
use portal_core::store::IdempotencyStore;
use portal_core::{ClaimToken, Error, Result, TenantId};

use crate::SqliteStore;
use crate::codec::{self, DbResult, micros};

fn read(conn: &Connection, tenant: TenantId, key: &str) -> Result<Option<IdempotencyRecord>> {
    let row = conn
        .prepare_cached(
            "SELECT fingerprint, claim, lease_until, expires_at, status, headers, body
             FROM idempotency_keys WHERE tenant_id = ?1 AND key = ?2",
        )
        .and_then(|mut s| {
            s.query_row(params![&tenant.as_bytes()[..], key], |r| {
                Ok((
                    r.get::<_, [u8; 32]>(0)?,
                    r.get::<_, [u8; 16]>(1)?,
                    codec::time(r, 2)?,
                    codec::time(r, 3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<Vec<u8>>>(6)?,
                ))
            })
            .optional()
        })
        .db("reading an idempotency key")?;
    let Some((fingerprint, claim, lease_until, expires_at, status, headers, body)) = row else {
        return Ok(None);
    };
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
fn held_by(conn: &Connection, tenant: TenantId, key: &str, claim: ClaimToken) -> Result<bool> {
    Ok(read(conn, tenant, key)?.is_some_and(|r| r.claim == claim && r.response.is_none()))
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn reserve_idempotency(&self, reserve: &Reserve) -> Result<Reservation> {
        let reserve = reserve.clone();
        self.write(move |conn| {
            let existing = read(conn, reserve.tenant, reserve.key.as_str())?;
            let answer = judge(existing.as_ref(), &reserve.fingerprint, reserve.now);
            if answer == Reservation::Reserved {
                let rec = reserve.record();
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO idempotency_keys
                         (tenant_id, key, fingerprint, claim, lease_until, expires_at,
                          status, headers, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL, NULL)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        &reserve.tenant.as_bytes()[..],
                        reserve.key.as_str(),
                        &rec.fingerprint[..],
                        &rec.claim.as_bytes()[..],
                        micros(rec.lease_until),
                        micros(rec.expires_at),
                    ])
                })
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
        self.write(move |conn| {
            if !held_by(conn, tenant, key.as_str(), claim)? {
                return Ok(false);
            }
            conn.prepare_cached(
                "UPDATE idempotency_keys SET status = ?3, headers = ?4, body = ?5
                 WHERE tenant_id = ?1 AND key = ?2",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &tenant.as_bytes()[..],
                    key.as_str(),
                    i64::from(response.status),
                    headers,
                    response.body,
                ])
            })
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
        self.write(move |conn| {
            if !held_by(conn, tenant, key.as_str(), claim)? {
                return Ok(false);
            }
            conn.prepare_cached("DELETE FROM idempotency_keys WHERE tenant_id = ?1 AND key = ?2")
                .and_then(|mut s| s.execute(params![&tenant.as_bytes()[..], key.as_str()]))
                .db("releasing an idempotency key")?;
            Ok(true)
        })
        .await
    }

    async fn prune_idempotency(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        if max_rows == 0 {
            return Ok(0);
        }
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "DELETE FROM idempotency_keys WHERE (tenant_id, key) IN (
                         SELECT tenant_id, key FROM idempotency_keys
                         WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        micros(before),
                        i64::try_from(max_rows).unwrap_or(i64::MAX)
                    ])
                })
                .db("pruning idempotency keys")?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
        .await
    }
}
