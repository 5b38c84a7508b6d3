//! `Idempotency-Key`: a PSA that retries a creating request after a timeout must not
//! create a second portal. The host reserves the (tenant, key) before doing the work,
//! with a fingerprint of the request; a retry with the same fingerprint gets the first
//! response back, a different request under the same key is refused, and a retry that
//! arrives while the first is still running is told so.
//!
//! The decision is the pure function [`judge`]; a store loads the record, asks it, and
//! writes its answer in one atomic unit (see [`crate::store::IdempotencyStore`]).

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::{Error, Result};
use crate::ids::{ClaimToken, TenantId};

/// How long a completed key is remembered: a day, as the spec's PSA retry window
/// (and the common practice of payment APIs). After that the key is free again.
pub const KEY_TTL: TimeDelta = TimeDelta::hours(24);

/// How long a reservation holds while its request runs. A request that crashed the
/// process never completes its reservation; after this the key can be taken again,
/// rather than refused for a whole day.
pub const LEASE: TimeDelta = TimeDelta::minutes(2);

/// Longest key accepted (bytes). UUIDs are 36; 255 leaves room for a PSA's own scheme.
pub const MAX_KEY_LEN: usize = 255;

/// A client's idempotency key: 1 to [`MAX_KEY_LEN`] visible ASCII characters.
///
/// Not a secret (the client picks it and may log it), but bounded and printable so it
/// can be stored and logged as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates a header value.
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN {
            return Err(Error::invalid(
                "Idempotency-Key",
                format!("use 1 to {MAX_KEY_LEN} characters"),
            ));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                "Idempotency-Key",
                "use visible ASCII characters only (no spaces)",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A SHA-256 of what makes two requests "the same" (method, path, body), computed by
/// the host.
pub type Fingerprint = [u8; 32];

/// A response kept for replay. Never holds a secret: hosts do not accept keys on
/// requests whose answer carries one (an invite link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers to send again (`Content-Type`, `Location`, `ETag`).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// A stored key, as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The request's fingerprint.
    pub fingerprint: Fingerprint,
    /// Who holds the reservation while it runs.
    pub claim: ClaimToken,
    /// Until when the running request holds it (ignored once completed).
    pub lease_until: DateTime<Utc>,
    /// Last instant the record is remembered.
    pub expires_at: DateTime<Utc>,
    /// The response, once the request completed.
    pub response: Option<SavedResponse>,
}

/// A request to reserve a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserve {
    /// The tenant the key belongs to: keys of two MSPs never meet.
    pub tenant: TenantId,
    /// The key.
    pub key: IdempotencyKey,
    /// The request's fingerprint.
    pub fingerprint: Fingerprint,
    /// Who reserves (completes or releases with it).
    pub claim: ClaimToken,
    /// Now, from the caller's clock.
    pub now: DateTime<Utc>,
}

impl Reserve {
    /// The record a successful reservation writes: leased for [`LEASE`], remembered
    /// for [`KEY_TTL`].
    pub fn record(&self) -> IdempotencyRecord {
        IdempotencyRecord {
            fingerprint: self.fingerprint,
            claim: self.claim,
            lease_until: self.now + LEASE,
            expires_at: self.now + KEY_TTL,
            response: None,
        }
    }
}

/// The answer to a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key is now the caller's: do the work, then complete (or release) it.
    Reserved,
    /// The same request completed before: send this response again, do nothing.
    Replay(SavedResponse),
    /// The same request is running right now (its lease holds): try again later.
    InProgress,
    /// The key was used for a different request: refuse.
    KeyReused,
}

/// What to do with a reservation, given the stored record (if any) at `now`:
/// - no record, or one past `expires_at` (inclusive: a record still holds at its last
///   instant): [`Reservation::Reserved`], replacing it;
/// - another fingerprint: [`Reservation::KeyReused`];
/// - completed: [`Reservation::Replay`];
/// - running and `now <= lease_until`: [`Reservation::InProgress`];
/// - running but its lease ended (the request died): [`Reservation::Reserved`], taken
///   over by the new claim.
pub fn judge(
    existing: Option<&IdempotencyRecord>,
    fingerprint: &Fingerprint,
    now: DateTime<Utc>,
) -> Reservation {
    let Some(rec) = existing.filter(|r| now <= r.expires_at) else {
        return Reservation::Reserved;
    };
    if rec.fingerprint != *fingerprint {
        return Reservation::KeyReused;
    }
    match &rec.response {
        Some(saved) => Reservation::Replay(saved.clone()),
        None if now <= rec.lease_until => Reservation::InProgress,
        None => Reservation::Reserved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(1_800_000_000 + s)
    }

    fn rec(response: Option<SavedResponse>) -> IdempotencyRecord {
        IdempotencyRecord {
            fingerprint: [1; 32],
            claim: ClaimToken::from_bytes([9; 16]),
            lease_until: at(120),
            expires_at: at(86_400),
            response,
        }
    }

    #[test]
    fn keys_are_bounded_and_printable() {
        assert!(IdempotencyKey::parse("abc-123_X").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a b").is_err());
        assert!(IdempotencyKey::parse("é").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_KEY_LEN)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_KEY_LEN + 1)).is_err());
    }

    #[test]
    fn judging_a_key() {
        let saved = SavedResponse {
            status: 201,
            headers: vec![],
            body: b"{}".to_vec(),
        };
        let same = [1; 32];
        assert_eq!(judge(None, &same, at(0)), Reservation::Reserved);
        let running = rec(None);
        assert_eq!(
            judge(Some(&running), &same, at(120)),
            Reservation::InProgress
        );
        assert_eq!(judge(Some(&running), &same, at(121)), Reservation::Reserved);
        assert_eq!(
            judge(Some(&running), &[2; 32], at(10)),
            Reservation::KeyReused
        );
        let done = rec(Some(saved.clone()));
        assert_eq!(
            judge(Some(&done), &same, at(86_400)),
            Reservation::Replay(saved)
        );
        assert_eq!(judge(Some(&done), &same, at(86_401)), Reservation::Reserved);
        assert_eq!(
            judge(Some(&done), &[2; 32], at(86_401)),
            Reservation::Reserved
        );
    }
}
