//! [`WebhookStore`] for [`SqliteStore`] (tables of migration 21). Every write is one
//! job on the writer thread, so the cursor's compare-and-set, a claim and an attempt's
//! record are each one transaction; the feed is tailed by `activity.seq`, which
//! `AUTOINCREMENT` keeps from ever being reused.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use portal_core::ids::{ClaimToken, DeliveryId, EndpointId};
use portal_core::store::{Page, PageKey};
use portal_core::webhooks::{
    AttemptOutcome, DeliveryLease, DeliveryState, FeedEvent, WebhookDelivery, WebhookEndpoint,
    WebhookStore, endpoint_after_attempt,
};
use portal_core::{Entity, Error, Result, TenantId};

use crate::SqliteStore;
use crate::codec::{self, DbResult, micros, opt_json, portal_id, tenant_id, time};
use crate::directory::exists;

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

fn load_endpoint(conn: &Connection, tenant: TenantId, id: EndpointId) -> Result<WebhookEndpoint> {
    let record: Option<String> = conn
        .prepare_cached("SELECT record FROM webhook_endpoints WHERE id = ?1 AND tenant_id = ?2")
        .and_then(|mut s| {
            s.query_row(params![&id.as_bytes()[..], &tenant.as_bytes()[..]], |r| {
                r.get(0)
            })
            .optional()
        })
        .db("reading a webhook endpoint")?;
    let record = record.ok_or_else(no_endpoint)?;
    serde_json::from_str(&record).map_err(|e| Error::storage("reading a webhook endpoint", e))
}

fn write_endpoint(conn: &Connection, e: &WebhookEndpoint) -> Result<()> {
    let record = codec::to_json(e)?;
    conn.prepare_cached(
        "UPDATE webhook_endpoints SET record = ?2, enabled = ?3, version = ?4 WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            &e.id.as_bytes()[..],
            record,
            e.enabled,
            i64::try_from(e.version).unwrap_or(i64::MAX)
        ])
    })
    .db("changing a webhook endpoint")?;
    Ok(())
}

/// Columns read by [`delivery_row`].
const DELIVERY_COLS: &str = "id, tenant_id, endpoint_id, portal_id, feed_seq, event_type, body, \
     created_at, state, attempts, next_attempt_at, last_attempt, seq";

fn delivery_row(row: &Row<'_>) -> rusqlite::Result<(PageKey, WebhookDelivery)> {
    let state: String = row.get(8)?;
    let state = DeliveryState::parse(&state).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            8,
            rusqlite::types::Type::Text,
            "an unknown delivery state".into(),
        )
    })?;
    let created_at = time(row, 7)?;
    let seq: i64 = row.get(12)?;
    let d = WebhookDelivery {
        id: DeliveryId::from_bytes(row.get(0)?),
        tenant_id: tenant_id(row, 1)?,
        endpoint_id: EndpointId::from_bytes(row.get(2)?),
        portal_id: portal_id(row, 3)?,
        feed_seq: u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
        event_type: row.get(5)?,
        body: row.get(6)?,
        created_at,
        state,
        attempts: row.get(9)?,
        next_attempt_at: codec::opt_time(row, 10)?,
        last_attempt: opt_json(row, 11)?,
    };
    let key = PageKey {
        at: created_at,
        seq: u64::try_from(seq).unwrap_or(0),
    };
    Ok((key, d))
}

fn load_delivery(conn: &Connection, tenant: TenantId, id: DeliveryId) -> Result<WebhookDelivery> {
    conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = ?1 AND tenant_id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row(
            params![&id.as_bytes()[..], &tenant.as_bytes()[..]],
            delivery_row,
        )
        .optional()
    })
    .db("reading a webhook delivery")?
    .map(|(_, d)| d)
    .ok_or_else(no_delivery)
}

fn limit_value(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        let endpoint = WebhookEndpoint {
            version: 1,
            ..endpoint.clone()
        };
        self.write(move |conn| {
            let tenant = &endpoint.tenant_id.as_bytes()[..];
            if !exists(conn, "SELECT 1 FROM tenants WHERE id = ?1", [tenant])? {
                return Err(Error::NotFound {
                    entity: Entity::Tenant,
                });
            }
            if exists(
                conn,
                "SELECT 1 FROM webhook_endpoints WHERE id = ?1",
                [&endpoint.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a webhook endpoint with this id exists"));
            }
            let record = codec::to_json(&endpoint)?;
            conn.prepare_cached(
                "INSERT INTO webhook_endpoints (id, tenant_id, seq, enabled, version, record)
                 VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM webhook_endpoints),
                         ?3, 1, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &endpoint.id.as_bytes()[..],
                    tenant,
                    endpoint.enabled,
                    record
                ])
            })
            .db("storing a webhook endpoint")?;
            // The feed's end: the greatest key ever given (sqlite_sequence survives the
            // erasure of the newest entries).
            conn.prepare_cached(
                "INSERT OR IGNORE INTO webhook_cursors (tenant_id, seq)
                 VALUES (?1, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'activity'),
                                      (SELECT MAX(seq) FROM activity), 0))",
            )
            .and_then(|mut s| s.execute([tenant]))
            .db("starting a webhook cursor")?;
            Ok(())
        })
        .await
    }

    async fn endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<WebhookEndpoint> {
        self.read(move |conn| load_endpoint(conn, tenant, id)).await
    }

    async fn endpoints(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>> {
        self.read(move |conn| {
            let records: Vec<String> = conn
                .prepare_cached(
                    "SELECT record FROM webhook_endpoints WHERE tenant_id = ?1 ORDER BY seq",
                )
                .and_then(|mut s| {
                    s.query_map([&tenant.as_bytes()[..]], |r| r.get(0))?
                        .collect()
                })
                .db("listing webhook endpoints")?;
            records
                .iter()
                .map(|r| {
                    serde_json::from_str(r)
                        .map_err(|e| Error::storage("reading a webhook endpoint", e))
                })
                .collect()
        })
        .await
    }

    async fn save_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        expected: u64,
    ) -> Result<WebhookEndpoint> {
        let endpoint = endpoint.clone();
        self.write(move |conn| {
            let stored = load_endpoint(conn, endpoint.tenant_id, endpoint.id)?;
            if stored.version != expected {
                return Err(Error::stale("the webhook endpoint was changed meanwhile"));
            }
            let next = WebhookEndpoint {
                id: stored.id,
                tenant_id: stored.tenant_id,
                created_at: stored.created_at,
                version: expected + 1,
                ..endpoint
            };
            write_endpoint(conn, &next)?;
            Ok(next)
        })
        .await
    }

    async fn delete_endpoint(&self, tenant: TenantId, id: EndpointId) -> Result<()> {
        self.write(move |conn| {
            load_endpoint(conn, tenant, id)?;
            conn.prepare_cached("DELETE FROM webhook_endpoints WHERE id = ?1")
                .and_then(|mut s| s.execute([&id.as_bytes()[..]]))
                .db("deleting a webhook endpoint")?;
            Ok(())
        })
        .await
    }

    async fn webhook_tenants(&self) -> Result<Vec<TenantId>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT DISTINCT tenant_id FROM webhook_endpoints ORDER BY tenant_id",
            )
            .and_then(|mut s| s.query_map([], |r| tenant_id(r, 0))?.collect())
            .db("listing the tenants with webhooks")
        })
        .await
    }

    async fn webhook_cursor(&self, tenant: TenantId) -> Result<Option<u64>> {
        self.read(move |conn| {
            let seq: Option<i64> = conn
                .prepare_cached("SELECT seq FROM webhook_cursors WHERE tenant_id = ?1")
                .and_then(|mut s| {
                    s.query_row([&tenant.as_bytes()[..]], |r| r.get(0))
                        .optional()
                })
                .db("reading a webhook cursor")?;
            Ok(seq.map(|s| u64::try_from(s).unwrap_or(0)))
        })
        .await
    }

    async fn feed_since(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEvent>> {
        self.read(move |conn| {
            let after = i64::try_from(after).unwrap_or(i64::MAX);
            conn.prepare_cached(
                "SELECT a.portal_id, a.at, a.actor, a.kind, a.task_id, a.subject, a.detail, a.seq
                 FROM activity a JOIN portals p ON p.id = a.portal_id
                 WHERE p.tenant_id = ?1 AND a.seq > ?2 ORDER BY a.seq LIMIT ?3",
            )
            .and_then(|mut s| {
                s.query_map(
                    params![&tenant.as_bytes()[..], after, limit_value(limit)],
                    |row| {
                        let entry = crate::workflow::rows::activity(row)?;
                        let seq: i64 = row.get(7)?;
                        Ok(FeedEvent {
                            seq: u64::try_from(seq).unwrap_or(0),
                            tenant_id: tenant,
                            entry,
                        })
                    },
                )?
                .collect()
            })
            .db("reading the feed for webhooks")
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
        self.write(move |conn| {
            let t = &tenant.as_bytes()[..];
            let moved = conn
                .prepare_cached(
                    "UPDATE webhook_cursors SET seq = ?3 WHERE tenant_id = ?1 AND seq = ?2",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        t,
                        i64::try_from(expected).unwrap_or(i64::MAX),
                        i64::try_from(to).unwrap_or(i64::MAX)
                    ])
                })
                .db("moving a webhook cursor")?;
            if moved != 1 {
                return Err(Error::stale("another dispatcher moved the webhook cursor"));
            }
            for d in &deliveries {
                if d.tenant_id != tenant {
                    return Err(Error::invalid("delivery", "a delivery of another tenant"));
                }
                if exists(
                    conn,
                    "SELECT 1 FROM webhook_deliveries WHERE id = ?1",
                    [&d.id.as_bytes()[..]],
                )? {
                    return Err(Error::conflict("a webhook delivery with this id exists"));
                }
                conn.prepare_cached(
                    "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, portal_id,
                        feed_seq, event_type, body, created_at, state, attempts, next_attempt_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        &d.id.as_bytes()[..],
                        t,
                        &d.endpoint_id.as_bytes()[..],
                        &d.portal_id.as_bytes()[..],
                        i64::try_from(d.feed_seq).unwrap_or(i64::MAX),
                        d.event_type,
                        d.body,
                        micros(d.created_at),
                        d.state.as_str(),
                        d.attempts,
                        d.next_attempt_at.map(micros),
                    ])
                })
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
        self.write(move |conn| {
            let due: Vec<(PageKey, WebhookDelivery)> = conn
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLS} FROM webhook_deliveries d
                     WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
                       AND (d.claim_until IS NULL OR d.claim_until <= ?1)
                       AND EXISTS (SELECT 1 FROM webhook_endpoints e
                                   WHERE e.id = d.endpoint_id AND e.enabled = 1)
                     ORDER BY d.next_attempt_at, d.seq LIMIT ?2"
                ))
                .and_then(|mut s| {
                    s.query_map(params![micros(now), limit_value(limit)], delivery_row)?
                        .collect()
                })
                .db("finding due webhook deliveries")?;
            for (_, d) in &due {
                conn.prepare_cached(
                    "UPDATE webhook_deliveries SET claim = ?2, claim_until = ?3 WHERE id = ?1",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        &d.id.as_bytes()[..],
                        &lease.claim.as_bytes()[..],
                        micros(lease.until)
                    ])
                })
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
        self.write(move |conn| {
            let found: Option<(Option<[u8; 16]>, [u8; 16], [u8; 16])> = conn
                .prepare_cached(
                    "SELECT claim, tenant_id, endpoint_id FROM webhook_deliveries WHERE id = ?1",
                )
                .and_then(|mut s| {
                    s.query_row([&delivery.as_bytes()[..]], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()
                })
                .db("reading a webhook delivery")?;
            let (held, tenant, endpoint) = found.ok_or_else(no_delivery)?;
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
            conn.prepare_cached(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt = ?2,
                    state = ?3, next_attempt_at = ?4, claim = NULL, claim_until = NULL
                 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &delivery.as_bytes()[..],
                    record,
                    state.as_str(),
                    next.map(micros)
                ])
            })
            .db("recording a webhook attempt")?;
            let e = load_endpoint(
                conn,
                TenantId::from_bytes(tenant),
                EndpointId::from_bytes(endpoint),
            )?;
            if let Some(changed) = endpoint_after_attempt(&e, &outcome.record) {
                write_endpoint(conn, &changed)?;
            }
            Ok(())
        })
        .await
    }

    async fn delivery(&self, tenant: TenantId, id: DeliveryId) -> Result<WebhookDelivery> {
        self.read(move |conn| load_delivery(conn, tenant, id)).await
    }

    async fn deliveries_page(
        &self,
        tenant: TenantId,
        endpoint: EndpointId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<WebhookDelivery>> {
        self.read(move |conn| {
            let (at, seq) = match after {
                Some(k) => (micros(k.at), i64::try_from(k.seq).unwrap_or(i64::MAX)),
                None => (i64::MAX, i64::MAX),
            };
            let read: Vec<(PageKey, WebhookDelivery)> = conn
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLS} FROM webhook_deliveries
                     WHERE endpoint_id = ?1 AND tenant_id = ?2 AND (created_at, seq) < (?3, ?4)
                     ORDER BY created_at DESC, seq DESC LIMIT ?5"
                ))
                .and_then(|mut s| {
                    s.query_map(
                        params![
                            &endpoint.as_bytes()[..],
                            &tenant.as_bytes()[..],
                            at,
                            seq,
                            limit_value(limit.saturating_add(1))
                        ],
                        delivery_row,
                    )?
                    .collect()
                })
                .db("paging webhook deliveries")?;
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
        self.write(move |conn| {
            load_delivery(conn, tenant, id)?;
            conn.prepare_cached(
                "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?2,
                    claim = NULL, claim_until = NULL WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![&id.as_bytes()[..], micros(now)]))
            .db("replaying a webhook delivery")?;
            load_delivery(conn, tenant, id)
        })
        .await
    }
}
