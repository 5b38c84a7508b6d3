//! Checks of [`crate::store::IdempotencyStore`]: atomic reservation, replay, tenant
//! scoping, expiry and lease boundaries, claims, and the prune.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::support::{hours, race_all, secs, t0, tenant_id};
use crate::idempotency::{
    Fingerprint, IdempotencyKey, KEY_TTL, LEASE, Reservation, Reserve, SavedResponse,
};
use crate::ids::{ClaimToken, TenantId};
use crate::random::{OsRandom, RandomSource};
use crate::store::Store;

fn claim() -> ClaimToken {
    ClaimToken::random(&OsRandom)
}

fn key() -> IdempotencyKey {
    let mut b = [0u8; 12];
    OsRandom.fill(&mut b);
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    IdempotencyKey::parse(&format!("key-{hex}")).unwrap()
}

fn reserve(
    tenant: TenantId,
    key: &IdempotencyKey,
    fp: Fingerprint,
    claim: ClaimToken,
    now: DateTime<Utc>,
) -> Reserve {
    Reserve {
        tenant,
        key: key.clone(),
        fingerprint: fp,
        claim,
        now,
    }
}

fn response(n: u8) -> SavedResponse {
    SavedResponse {
        status: 201,
        headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("location".to_owned(), format!("/api/v1/portals/{n}")),
        ],
        body: format!("{{\"n\":{n},\"bytes\":\"\\u0000é\"}}").into_bytes(),
    }
}

/// Reserve, in progress, complete, replay exactly; another body is `KeyReused`; the
/// same key of another tenant is its own record; a stale claim changes nothing.
pub async fn idempotency_reserve_and_replay(store: &dyn Store) {
    let (tenant, other_tenant, k) = (tenant_id(), tenant_id(), key());
    let (c1, c2) = (claim(), claim());
    let t = t0();
    assert_eq!(
        store
            .reserve_idempotency(&reserve(tenant, &k, [1; 32], c1, t))
            .await
            .unwrap(),
        Reservation::Reserved,
        "a new key is reserved"
    );
    assert_eq!(
        store
            .reserve_idempotency(&reserve(tenant, &k, [1; 32], c2, t + secs(1)))
            .await
            .unwrap(),
        Reservation::InProgress,
        "the same request while the first runs is in progress"
    );
    assert_eq!(
        store
            .reserve_idempotency(&reserve(tenant, &k, [2; 32], c2, t + secs(1)))
            .await
            .unwrap(),
        Reservation::KeyReused,
        "another request under a running key is refused"
    );
    assert_eq!(
        store
            .reserve_idempotency(&reserve(other_tenant, &k, [2; 32], c2, t + secs(1)))
            .await
            .unwrap(),
        Reservation::Reserved,
        "another tenant's same key is its own record"
    );
    assert!(
        !store
            .complete_idempotency(tenant, &k, c2, &response(9))
            .await
            .unwrap(),
        "a claim that does not hold the key cannot complete it"
    );
    assert!(
        !store.release_idempotency(tenant, &k, c2).await.unwrap(),
        "a claim that does not hold the key cannot release it"
    );
    assert!(
        store
            .complete_idempotency(tenant, &k, c1, &response(1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .complete_idempotency(tenant, &k, c1, &response(7))
            .await
            .unwrap(),
        "a completed key is not completed twice"
    );
    assert_eq!(
        store
            .reserve_idempotency(&reserve(tenant, &k, [1; 32], claim(), t + secs(2)))
            .await
            .unwrap(),
        Reservation::Replay(response(1)),
        "the same request replays the first response exactly"
    );
    assert_eq!(
        store
            .reserve_idempotency(&reserve(tenant, &k, [3; 32], claim(), t + secs(2)))
            .await
            .unwrap(),
        Reservation::KeyReused,
        "another request under a completed key is refused"
    );
    assert!(
        store
            .complete_idempotency(other_tenant, &k, c2, &response(2))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .reserve_idempotency(&reserve(other_tenant, &k, [2; 32], claim(), t + secs(3)))
            .await
            .unwrap(),
        Reservation::Replay(response(2)),
        "each tenant replays its own response"
    );
}

/// A completed key holds up to its `expires_at` inclusive; a running one up to its
/// lease's end inclusive, then a new claim takes it over and the old claim is stale.
/// A released key reserves afresh.
pub async fn idempotency_expiry_and_lease(store: &dyn Store) {
    let (tenant, k) = (tenant_id(), key());
    let t = t0() + hours(100);
    let c1 = claim();
    store
        .reserve_idempotency(&reserve(tenant, &k, [1; 32], c1, t))
        .await
        .unwrap();
    assert!(
        store
            .complete_idempotency(tenant, &k, c1, &response(1))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .reserve_idempotency(&reserve(tenant, &k, [1; 32], claim(), t + KEY_TTL))
            .await
            .unwrap(),
        Reservation::Replay(response(1)),
        "a key is remembered up to its last instant"
    );
    let later = t + KEY_TTL + TimeDelta::microseconds(1);
    let c2 = claim();
    assert_eq!(
        store
            .reserve_idempotency(&reserve(tenant, &k, [2; 32], c2, later))
            .await
            .unwrap(),
        Reservation::Reserved,
        "after its expiry a key is free for any request"
    );
    assert_eq!(
        store
            .reserve_idempotency(&reserve(tenant, &k, [2; 32], claim(), later + LEASE))
            .await
            .unwrap(),
        Reservation::InProgress,
        "a running reservation holds up to its lease's last instant"
    );
    let c3 = claim();
    assert_eq!(
        store
            .reserve_idempotency(&reserve(
                tenant,
                &k,
                [2; 32],
                c3,
                later + LEASE + TimeDelta::microseconds(1)
            ))
            .await
            .unwrap(),
        Reservation::Reserved,
        "a reservation whose lease ended is taken over"
    );
    assert!(
        !store
            .complete_idempotency(tenant, &k, c2, &response(2))
            .await
            .unwrap(),
        "the claim that was taken over cannot complete"
    );
    assert!(store.release_idempotency(tenant, &k, c3).await.unwrap());
    assert_eq!(
        store
            .reserve_idempotency(&reserve(
                tenant,
                &k,
                [4; 32],
                claim(),
                later + LEASE + secs(1)
            ))
            .await
            .unwrap(),
        Reservation::Reserved,
        "a released key reserves afresh, for any request"
    );
}

/// Racing reservations of one key: exactly one is reserved.
pub async fn concurrent_idempotency_reserves(store: Arc<dyn Store>) {
    let (tenant, k) = (tenant_id(), key());
    let t = t0() + hours(300);
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (store, k) = (store.clone(), k.clone());
            async move {
                store
                    .reserve_idempotency(&reserve(tenant, &k, [5; 32], claim(), t))
                    .await
                    .unwrap()
            }
        })
        .collect();
    let answers = race_all(racers).await;
    let reserved = answers
        .iter()
        .filter(|a| **a == Reservation::Reserved)
        .count();
    assert_eq!(
        reserved, 1,
        "exactly one racer reserves the key: {answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|a| matches!(a, Reservation::Reserved | Reservation::InProgress)),
        "the others are told it is in progress: {answers:?}"
    );
}

/// The prune removes expired records strictly before its cutoff, oldest first, at
/// most `max_rows` per call.
pub async fn idempotency_prune(store: &dyn Store) {
    // Its own years (1971..), so no other check's records are pruned.
    let base = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(366);
    // Nothing but this check writes keys expiring before `sweep`: clear what an earlier
    // run on the same store left, so the counts below are this run's.
    let sweep = base + KEY_TTL + TimeDelta::days(1);
    store.prune_idempotency(sweep, usize::MAX).await.unwrap();
    let tenant = tenant_id();
    let keys: Vec<IdempotencyKey> = (0..4).map(|_| key()).collect();
    for (i, k) in keys.iter().enumerate() {
        let at = base + hours(i as i64);
        store
            .reserve_idempotency(&reserve(tenant, k, [6; 32], claim(), at))
            .await
            .unwrap();
    }
    // Records expire at base + KEY_TTL + i hours. Cut at the third one's expiry:
    // the first two go, the third stays (strictly before).
    let cutoff = base + KEY_TTL + hours(2);
    assert_eq!(store.prune_idempotency(cutoff, 1).await.unwrap(), 1);
    assert_eq!(store.prune_idempotency(cutoff, 0).await.unwrap(), 0);
    assert_eq!(store.prune_idempotency(cutoff, 10).await.unwrap(), 1);
    assert_eq!(store.prune_idempotency(cutoff, 10).await.unwrap(), 0);
    // Pruned keys reserve afresh with any fingerprint; kept ones are still running
    // (their lease long over, so they are taken over, but only by the same request).
    let then = base + hours(1);
    assert_eq!(
        store
            .reserve_idempotency(&reserve(tenant, &keys[0], [7; 32], claim(), then))
            .await
            .unwrap(),
        Reservation::Reserved,
        "the oldest record was pruned first"
    );
    assert_eq!(
        store
            .reserve_idempotency(&reserve(tenant, &keys[2], [7; 32], claim(), then))
            .await
            .unwrap(),
        Reservation::KeyReused,
        "the record exactly at the cutoff is kept"
    );
    store.prune_idempotency(sweep, usize::MAX).await.unwrap();
}
