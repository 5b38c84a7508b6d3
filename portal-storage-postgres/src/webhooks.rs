//! [`WebhookStore`] for [`PostgresStore`] (the SQLite store's tables of its migration
//! 21). Every write is one `SERIALIZABLE` unit, so the cursor's compare-and-set, a
//! claim and an attempt's record are each one transaction, and two dispatchers racing
//! for the same cursor or delivery are serialized (the loser runs again and then sees
//! the winner's change). A tenant's feed is tailed by `activity.seq`, drawn from
//! `activity_seq` under the tenant's feed lock ([`crate::tx::lock_tenant_feed`]):
//! within a tenant, numbers follow commit order and are never reused, so a dispatcher
//! that read up to `n` never meets a later commit below `n`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use postgres::Row;

use portal_core::ids::{ClaimToken, DeliveryId, EndpointId};
use portal_core::store::{Page, PageKey};
use portal_core::webhooks::{
    AttemptOutcome, DeliveryLease, DeliveryState, FeedEvent, WebhookDelivery, WebhookEndpoint,
    WebhookStore, endpoint_after_attempt,
};
use portal_core::{Entity, Error, Result, TenantId};

use crate::PostgresStore;
use crate::codec::{
    self, DbResult, bytes_n, count, get, int, micros, number, opt_json, portal_id, tenant_id, time,
};
use crate::directory::exists;
use crate::tx::Tx;

fn no_endpoint() -> Error {
    Error::NotFound {
        entity: Entity::WebhookEndpoint,
    }
}

fn no_delivery() -> Error {
    Error::NotFound {
        entity: Entity::WebhookDelivery,
    }
}

fn load_endpoint(tx: &mut Tx<'_>, tenant: TenantId, id: EndpointId) -> Result<WebhookEndpoint> {
    let row = tx
        .query_opt(
            "SELECT record FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2",
            &[&&id.as_bytes()[..], &&tenant.as_bytes()[..]],
        )
        .db("reading a webhook endpoint")?
        .ok_or_else(no_endpoint)?;
    endpoint_record(&row)
}

/// An endpoint from its stored JSON record (column 0).
fn endpoint_record(row: &Row) -> Result<WebhookEndpoint> {
    let record: &str = get(row, 0)?;
    serde_json::from_str(record).map_err(|e| Error::storage("reading a webhook endpoint", e))
}

fn write_endpoint(tx: &mut Tx<'_>, e: &WebhookEndpoint) -> Result<()> {
    let record = codec::to_json(e)?;
    tx.execute(
        "UPDATE webhook_endpoints SET record = $2, enabled = $3, version = $4 WHERE id = $1",
        &[
            &&e.id.as_bytes()[..],
            &record,
            &i64::from(e.enabled),
            &int(e.version),
        ],
    )
    .db("changing a webhook endpoint")?;
    Ok(())
}

/// Columns read by [`delivery_row`].
const DELIVERY_COLS: &str = "id, tenant_id, endpoint_id, portal_id, feed_seq, event_type, body, \
     created_at, state, attempts, next_attempt_at, last_attempt, seq";

fn delivery_row(row: &Row) -> Result<(PageKey, WebhookDelivery)> {
    let state: &str = get(row, 8)?;
    let state = DeliveryState::parse(state)
        .ok_or_else(|| codec::corrupt(8, "an unknown delivery state"))?;
    let created_at = time(row, 7)?;
    let d = WebhookDelivery {
        id: DeliveryId::from_bytes(bytes_n::<16>(row, 0)?),
        tenant_id: tenant_id(row, 1)?,
        endpoint_id: EndpointId::from_bytes(bytes_n::<16>(row, 2)?),
        portal_id: portal_id(row, 3)?,
        feed_seq: number(row, 4)?,
        event_type: get(row, 5)?,
        body: get(row, 6)?,
        created_at,
        state,
        attempts: count(row, 9)?,
        next_attempt_at: codec::opt_time(row, 10)?,
        last_attempt: opt_json(row, 11)?,
    };
    let key = PageKey {
        at: created_at,
        seq: number(row, 12)?,
    };
    Ok((key, d))
}

fn load_delivery(tx: &mut Tx<'_>, tenant: TenantId, id: DeliveryId) -> Result<WebhookDelivery> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = $1 AND tenant_id = $2"
            ),
            &[&&id.as_bytes()[..], &&tenant.as_bytes()[..]],
        )
        .db("reading a webhook delivery")?
        .ok_or_else(no_delivery)?;
    delivery_row(&row).map(|(_, d)| d)
}

fn limit_value(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        let endpoint = WebhookEndpoint {
            version: 1,
            ..endpoint.clone()
        };
        self.write(move |tx| {
            let tenant = &endpoint.tenant_id.as_bytes()[..];
            if !exists(tx, "SELECT 1 FROM tenants WHERE id = $1", &[&tenant])? {
                return Err(Error::NotFound {
                    entity: Entity::Tenant,
                });
            }
            if exists(
                tx,
                "SELECT 1 FROM webhook_endpoints WHERE id = $1",
                &[&&endpoint.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a webhook endpoint with this id exists"));
            }
            let record = codec::to_json(&endpoint)?;
            tx.execute(
                "INSERT INTO webhook_endpoints (id, tenant_id, seq, enabled, version, record)
                 VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM webhook_endpoints),
                         $3, 1, $4)",
                &[
                    &&endpoint.id.as_bytes()[..],
                    &tenant,
                    &i64::from(endpoint.enabled),
                    &record,
                ],
            )
            .db("storing a webhook endpoint")?;
            // The feed's end: the greatest key ever given (`activity_seq` survives the
            // erasure of the newest entries, as SQLite's `sqlite_sequence`), read under
            // the tenant's feed lock, so an append of the tenant still in flight either
            // committed before (and is behind the cursor) or draws a greater key.
            crate::tx::lock_tenant_feed(tx, tenant)?;
            tx.execute(
                "INSERT INTO webhook_cursors (tenant_id, seq)
                 VALUES ($1, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END
                              FROM activity_seq))
                 ON CONFLICT (tenant_id) DO NOTHING",
                &[&tenant],
            )
            .db("starting a webhook cursor")?;
            Ok(())
        })
        .await
    }

    async fn endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<WebhookEndpoint> {
        self.read(move |tx| load_endpoint(tx, tenant, id)).await
    }

    async fn endpoints(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>> {
        self.read(move |tx| {
            let rows = tx
                .query(
                    "SELECT record FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY seq",
                    &[&&tenant.as_bytes()[..]],
                )
                .db("listing webhook endpoints")?;
            rows.iter().map(endpoint_record).collect()
        })
        .await
    }

    async fn save_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        expected: u64,
    ) -> Result<WebhookEndpoint> {
        let endpoint = endpoint.clone();
        self.write(move |tx| {
            let stored = load_endpoint(tx, endpoint.tenant_id, endpoint.id)?;
            if stored.version != expected {
                return Err(Error::stale("the webhook endpoint was changed meanwhile"));
            }
            let next = WebhookEndpoint {
                id: stored.id,
                tenant_id: stored.tenant_id,
                created_at: stored.created_at,
                version: expected + 1,
                ..endpoint.clone()
            };
            write_endpoint(tx, &next)?;
            Ok(next)
        })
        .await
    }

    async fn delete_endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<()> {
        self.write(move |tx| {
            load_endpoint(tx, tenant, id)?;
            tx.execute(
                "DELETE FROM webhook_endpoints WHERE id = $1",
                &[&&id.as_bytes()[..]],
            )
            .db("deleting a webhook endpoint")?;
            Ok(())
        })
        .await
    }

    async fn webhook_tenants(&self) -> Result<Vec<TenantId>> {
        self.read(|tx| {
            let rows = tx
                .query(
                    "SELECT DISTINCT tenant_id FROM webhook_endpoints ORDER BY tenant_id",
                    &[],
                )
                .db("listing the tenants with webhooks")?;
            rows.iter().map(|r| tenant_id(r, 0)).collect()
        })
        .await
    }

    async fn webhook_cursor(&self, tenant: TenantId) -> Result<Option<u64>> {
        self.read(move |tx| {
            let row = tx
                .query_opt(
                    "SELECT seq FROM webhook_cursors WHERE tenant_id = $1",
                    &[&&tenant.as_bytes()[..]],
                )
                .db("reading a webhook cursor")?;
            row.map(|r| number(&r, 0)).transpose()
        })
        .await
    }

    async fn feed_since(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEvent>> {
        self.read(move |tx| {
            let rows = tx
                .query(
                    "SELECT a.portal_id, a.at, a.actor, a.kind, a.task_id, a.subject, a.detail,
                            a.seq
                     FROM activity a JOIN portals p ON p.id = a.portal_id
                     WHERE p.tenant_id = $1 AND a.seq > $2 ORDER BY a.seq LIMIT $3",
                    &[&&tenant.as_bytes()[..], &int(after), &limit_value(limit)],
                )
                .db("reading the feed for webhooks")?;
            rows.iter()
                .map(|row| {
                    Ok(FeedEvent {
                        seq: number(row, 7)?,
                        tenant_id: tenant,
                        entry: crate::workflow::rows::activity(row)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn enqueue(
        &self,
        tenant: TenantId,
        expected: u64,
        to: u64,
        deliveries: &[WebhookDelivery],
    ) -> Result<()> {
        let deliveries = deliveries.to_vec();
        self.write(move |tx| {
            let t = &tenant.as_bytes()[..];
            let moved = tx
                .execute(
                    "UPDATE webhook_cursors SET seq = $3 WHERE tenant_id = $1 AND seq = $2",
                    &[&t, &int(expected), &int(to)],
                )
                .db("moving a webhook cursor")?;
            if moved != 1 {
                return Err(Error::stale("another dispatcher moved the webhook cursor"));
            }
            for d in &deliveries {
                if d.tenant_id != tenant {
                    return Err(Error::invalid("delivery", "a delivery of another tenant"));
                }
                if exists(
                    tx,
                    "SELECT 1 FROM webhook_deliveries WHERE id = $1",
                    &[&&d.id.as_bytes()[..]],
                )? {
                    return Err(Error::conflict("a webhook delivery with this id exists"));
                }
                tx.execute(
                    "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, portal_id,
                        feed_seq, event_type, body, created_at, state, attempts, next_attempt_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    &[
                        &&d.id.as_bytes()[..],
                        &t,
                        &&d.endpoint_id.as_bytes()[..],
                        &&d.portal_id.as_bytes()[..],
                        &int(d.feed_seq),
                        &d.event_type,
                        &d.body,
                        &micros(d.created_at),
                        &d.state.as_str(),
                        &i64::from(d.attempts),
                        &d.next_attempt_at.map(micros),
                    ],
                )
                .db("queueing a webhook delivery")?;
            }
            Ok(())
        })
        .await
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: DeliveryLease,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>> {
        self.write(move |tx| {
            let rows = tx
                .query(
                    &format!(
                        "SELECT {DELIVERY_COLS} FROM webhook_deliveries d
                         WHERE d.state = 'pending' AND d.next_attempt_at <= $1
                           AND (d.claim_until IS NULL OR d.claim_until <= $1)
                           AND EXISTS (SELECT 1 FROM webhook_endpoints e
                                       WHERE e.id = d.endpoint_id AND e.enabled = 1)
                         ORDER BY d.next_attempt_at, d.seq LIMIT $2"
                    ),
                    &[&micros(now), &limit_value(limit)],
                )
                .db("finding due webhook deliveries")?;
            let due = rows.iter().map(delivery_row).collect::<Result<Vec<_>>>()?;
            for (_, d) in &due {
                tx.execute(
                    "UPDATE webhook_deliveries SET claim = $2, claim_until = $3 WHERE id = $1",
                    &[
                        &&d.id.as_bytes()[..],
                        &&lease.claim.as_bytes()[..],
                        &micros(lease.until),
                    ],
                )
                .db("claiming a webhook delivery")?;
            }
            Ok(due.into_iter().map(|(_, d)| d).collect())
        })
        .await
    }

    async fn record_attempt(
        &self,
        delivery: DeliveryId,
        claim: ClaimToken,
        outcome: &AttemptOutcome,
    ) -> Result<()> {
        let outcome = outcome.clone();
        self.write(move |tx| {
            let row = tx
                .query_opt(
                    "SELECT claim, tenant_id, endpoint_id FROM webhook_deliveries WHERE id = $1",
                    &[&&delivery.as_bytes()[..]],
                )
                .db("reading a webhook delivery")?
                .ok_or_else(no_delivery)?;
            let held = codec::opt_bytes_n::<16>(&row, 0)?;
            let tenant = tenant_id(&row, 1)?;
            let endpoint = EndpointId::from_bytes(bytes_n::<16>(&row, 2)?);
            if held != Some(*claim.as_bytes()) {
                return Err(Error::stale("the delivery's claim was lost"));
            }
            let (state, next) = if outcome.record.succeeded() {
                (DeliveryState::Delivered, None)
            } else {
                match outcome.retry_at {
                    Some(at) => (DeliveryState::Pending, Some(at)),
                    None => (DeliveryState::Failed, None),
                }
            };
            let record = codec::to_json(&outcome.record)?;
            tx.execute(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt = $2,
                    state = $3, next_attempt_at = $4, claim = NULL, claim_until = NULL
                 WHERE id = $1",
                &[
                    &&delivery.as_bytes()[..],
                    &record,
                    &state.as_str(),
                    &next.map(micros),
                ],
            )
            .db("recording a webhook attempt")?;
            let e = load_endpoint(tx, tenant, endpoint)?;
            if let Some(changed) = endpoint_after_attempt(&e, &outcome.record) {
                write_endpoint(tx, &changed)?;
            }
            Ok(())
        })
        .await
    }

    async fn delivery(&self, tenant: TenantId, id: DeliveryId) -> Result<WebhookDelivery> {
        self.read(move |tx| load_delivery(tx, tenant, id)).await
    }

    async fn deliveries_page(
        &self,
        tenant: TenantId,
        endpoint: EndpointId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<WebhookDelivery>> {
        self.read(move |tx| {
            let (at, seq) = match after {
                Some(k) => (micros(k.at), int(k.seq)),
                None => (i64::MAX, i64::MAX),
            };
            let rows = tx
                .query(
                    &format!(
                        "SELECT {DELIVERY_COLS} FROM webhook_deliveries
                         WHERE endpoint_id = $1 AND tenant_id = $2 AND (created_at, seq) < ($3, $4)
                         ORDER BY created_at DESC, seq DESC LIMIT $5"
                    ),
                    &[
                        &&endpoint.as_bytes()[..],
                        &&tenant.as_bytes()[..],
                        &at,
                        &seq,
                        &limit_value(limit.saturating_add(1)),
                    ],
                )
                .db("paging webhook deliveries")?;
            let read = rows.iter().map(delivery_row).collect::<Result<Vec<_>>>()?;
            Ok(Page::from_read(read, limit))
        })
        .await
    }

    async fn replay(
        &self,
        tenant: TenantId,
        id: DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<WebhookDelivery> {
        self.write(move |tx| {
            load_delivery(tx, tenant, id)?;
            tx.execute(
                "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $2,
                    claim = NULL, claim_until = NULL WHERE id = $1",
                &[&&id.as_bytes()[..], &micros(now)],
            )
            .db("replaying a webhook delivery")?;
            load_delivery(tx, tenant, id)
        })
        .await
    }
}
