//! Signed webhooks following the Standard Webhooks specification: a tenant's
//! endpoints, the events (one per activity-feed entry), the signature, the retry
//! schedule and the SSRF rules, as pure functions on plain types.
//!
//! How the parts fit:
//! - An admin registers an endpoint ([`WebhookEndpoint`]): an `https` URL, an optional
//!   event-type filter and a secret `whsec_…` ([`WebhookSecret`]) shown once. The store
//!   keeps the secret sealed ([`seal_secret`]) under a key derived from the server
//!   secret, never in clear.
//! - The dispatcher ([`service::Webhooks::dispatch`]) tails each tenant's activity feed
//!   by its key (the feed's insertion number) from a durable cursor, and turns every
//!   entry into one delivery per subscribed endpoint ([`WebhookDelivery`]), in one
//!   store unit with the cursor's move ([`WebhookStore::enqueue`]): an entry is
//!   enqueued exactly once, whatever crashes or concurrent dispatchers do.
//! - The delivery worker ([`service::Webhooks::deliver_due`]) claims due deliveries,
//!   signs them ([`signature_header`]) and POSTs them through a [`WebhookTransport`],
//!   records each attempt, and schedules a retry by [`RETRY_SCHEDULE`] with jitter.
//!   Delivery is at least once: a receiver dedupes by `webhook-id`, which is the same
//!   on every attempt and replay of a delivery.
//! - The transport must refuse addresses [`AddressClass::is_public`] says no to
//!   (unless the host allows private targets), checking the address it connects to.
//!
//! Every feed entry becomes an event, staff-only kinds included: the receiver is the
//! MSP's own system (its PSA), not a client, so what staff see in the feed it may see
//! too. No feed entry holds a secret (never a link, code or credential), so neither
//! does an event.

pub mod service;
mod store;

#[cfg(test)]
mod tests;

pub use store::{FeedEvent, WebhookStore};

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Key, Nonce};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::Mac;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};
use crate::ids::{ClaimToken, DeliveryId, EndpointId, PortalId, TenantId};
use crate::random::RandomSource;
use crate::secret::ServerSecret;
use crate::workflow::{ActivityEntry, ActivityKind, Actor};

/// The prefix of every endpoint secret, as the specification writes it.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the specification asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;
/// How long a replaced secret still signs after a rotation, so receivers can switch
/// over without dropping a delivery.
pub const ROTATION_OVERLAP: TimeDelta = TimeDelta::hours(24);
/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// The longest description accepted.
pub const MAX_DESCRIPTION_LEN: usize = 500;
/// The most bytes of a receiver's answer kept with an attempt (as text, for the
/// admin's "why did it fail"); the rest is never stored.
pub const RESPONSE_EXCERPT_LEN: usize = 256;
/// Endpoints a tenant may register.
pub const MAX_ENDPOINTS_PER_TENANT: usize = 20;

/// When the attempts after the first one are made, counted from the previous failed
/// attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (the Standard Webhooks
/// reference schedule), each with ±20 % jitter so that many deliveries failing at once
/// do not retry in lockstep. After the last one (about 28 h after the first) the
/// delivery is given up.
pub const RETRY_SCHEDULE: [TimeDelta; 7] = [
    TimeDelta::seconds(5),
    TimeDelta::minutes(5),
    TimeDelta::minutes(30),
    TimeDelta::hours(2),
    TimeDelta::hours(5),
    TimeDelta::hours(10),
    TimeDelta::hours(10),
];

/// An endpoint whose every attempt failed for this long is disabled (with the reason
/// recorded), so a dead receiver is not retried forever.
pub const DISABLE_AFTER: TimeDelta = TimeDelta::days(5);

// ---------------------------------------------------------------------------------
// Secrets and signatures.

/// An endpoint's signing secret in clear: `whsec_` and the base64 of its key bytes.
/// Wiped on drop; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// A fresh secret of [`SECRET_BYTES`] random bytes.
    pub fn generate(random: &dyn RandomSource) -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        random.fill(&mut bytes);
        Self(bytes)
    }

    /// Parses `whsec_<base64>` (24 to 64 key bytes).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::invalid("secret", "use whsec_ followed by base64 of 24 to 64 bytes");
        let body = text.strip_prefix(SECRET_PREFIX).ok_or_else(bad)?;
        let bytes = B64.decode(body).map_err(|_| bad())?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(bad());
        }
        Ok(Self(bytes))
    }

    /// The secret as the receiver configures it (`whsec_…`). The one way out in clear.
    pub fn expose_secret(&self) -> String {
        format!("{SECRET_PREFIX}{}", B64.encode(&self.0))
    }

    /// The key bytes HMAC is keyed with.
    fn key(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

/// One signature: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(secret.key()) else {
        // HMAC takes keys of any length: this branch cannot be taken.
        return String::new();
    };
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one `v1,` signature per secret in force
/// (space-separated), so during a rotation receivers holding either secret verify.
pub fn signature_header(
    secrets: &[WebhookSecret],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `webhook-id` of a delivery: `msg_` and its id without hyphens (stable across
/// retries and replays, so receivers dedupe on it).
pub fn message_id(delivery: DeliveryId) -> String {
    format!("msg_{}", delivery.as_uuid().simple())
}

/// A sealed secret as stores keep it, with the end of its validity once replaced.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    /// `version (1) | nonce (12) | ciphertext + tag`, bound to the endpoint.
    pub sealed: Vec<u8>,
    /// `None` for the current secret; the last instant a replaced one still signs.
    pub expires_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("sealed_len", &self.sealed.len())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

const SEAL_VERSION: u8 = 1;
const NONCE: usize = 12;

fn seal_cipher(server: &ServerSecret) -> Aes256GcmSiv {
    let key = Zeroizing::new(server.mac("portal/webhook-secret/v1", &[]));
    Aes256GcmSiv::new(&Key::<Aes256GcmSiv>::from(*key))
}

/// Seals an endpoint's secret for storage: AES-256-GCM-SIV under a key derived from
/// the server secret, bound to the endpoint (a sealed secret copied to another
/// endpoint does not open).
pub fn seal_secret(
    server: &ServerSecret,
    random: &dyn RandomSource,
    endpoint: EndpointId,
    secret: &WebhookSecret,
) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE];
    random.fill(&mut nonce);
    let body = seal_cipher(server)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: secret.key(),
                aad: endpoint.as_bytes(),
            },
        )
        .map_err(|_| Error::storage_msg("a webhook secret could not be encrypted"))?;
    let mut out = Vec::with_capacity(1 + NONCE + body.len());
    out.push(SEAL_VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens a sealed secret of `endpoint`: `Integrity` if altered, sealed for another
/// endpoint or under another server secret.
pub fn open_secret(
    server: &ServerSecret,
    endpoint: EndpointId,
    sealed: &[u8],
) -> Result<WebhookSecret> {
    let integrity = || Error::Integrity {
        message: "a webhook secret does not open for this endpoint".into(),
    };
    let (version, rest) = sealed.split_first().ok_or_else(integrity)?;
    if *version != SEAL_VERSION {
        return Err(integrity());
    }
    let (nonce, body) = rest.split_first_chunk::<NONCE>().ok_or_else(integrity)?;
    let plain = seal_cipher(server)
        .decrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: body,
                aad: endpoint.as_bytes(),
            },
        )
        .map_err(|_| integrity())?;
    Ok(WebhookSecret(plain))
}

// ---------------------------------------------------------------------------------
// Events.

/// The event type of a feed entry's kind (`task.completed`, …). Every kind has one:
/// the match is exhaustive, so a new kind does not compile without its event type.
pub const fn event_type(kind: ActivityKind) -> &'static str {
    use ActivityKind as K;
    match kind {
        K::TaskCompleted => "task.completed",
        K::ProgressSaved => "task.progress_saved",
        K::ItemChecked => "task.item_checked",
        K::ItemUnchecked => "task.item_unchecked",
        K::Approved => "task.approved",
        K::Rejected => "task.rejected",
        K::MeetingScheduled => "meeting.scheduled",
        K::MeetingRescheduled => "meeting.rescheduled",
        K::TaskBlocked => "task.blocked",
        K::TaskUnblocked => "task.unblocked",
        K::TaskReopened => "task.reopened",
        K::Commented => "comment.added",
        K::QuestionAsked => "question.asked",
        K::QuestionAnswered => "question.answered",
        K::DocumentUploaded => "document.uploaded",
        K::DocumentApproved => "document.approved",
        K::DocumentRejected => "document.rejected",
        K::DocumentQuarantined => "document.quarantined",
        K::DocumentScanned => "document.scanned",
        K::TaskAdded => "task.added",
        K::TaskEdited => "task.edited",
        K::TaskMoved => "task.moved",
        K::TaskDeleted => "task.deleted",
        K::TaskUnlocked => "task.unlocked",
        K::PhaseRenamed => "phase.renamed",
        K::PhaseMoved => "phase.moved",
        K::PhaseDeleted => "phase.deleted",
        K::PlanApplied => "plan.applied",
        K::ContactRemoved => "contact.removed",
        K::PortalRenamed => "portal.renamed",
        K::TargetDateSet => "portal.target_date_set",
        K::ContactEdited => "contact.edited",
        K::PortalCreated => "portal.created",
        K::PortalStatusChanged => "portal.status_changed",
        K::BrandingChanged => "portal.branding_changed",
        K::PhaseAdded => "phase.added",
        K::ContactAdded => "contact.added",
        K::ContactInvited => "contact.invited",
        K::InviteLinkIssued => "contact.invite_link_issued",
        K::InviteRevoked => "contact.invite_revoked",
        K::ContactRevoked => "contact.revoked",
        K::ReminderSettingsChanged => "portal.reminder_settings_changed",
        K::FileDropped => "file_drop.dropped",
        K::FileDeleted => "file_drop.deleted",
        K::FileDownloaded => "file_drop.downloaded",
        K::FileExpired => "file_drop.expired",
        K::StuckReported => "task.stuck_reported",
        K::StuckCleared => "task.stuck_cleared",
        K::DueDateRequested => "task.due_date_requested",
        K::DueDateApproved => "task.due_date_approved",
        K::DueDateDeclined => "task.due_date_declined",
        K::TeamChanged => "portal.team_changed",
        K::ColleagueInvited => "contact.colleague_invited",
        K::ColleagueApproved => "contact.colleague_approved",
        K::ColleagueDeclined => "contact.colleague_declined",
        K::TaskClaimed => "task.claimed",
        K::TaskHandedOff => "task.handed_off",
        K::ColleagueInvitationsSet => "portal.colleague_invitations_set",
        K::AttachmentAdded => "attachment.added",
        K::AttachmentDeleted => "attachment.deleted",
        K::GuestInvited => "guest.invited",
        K::GuestTaskShared => "guest.task_shared",
        K::GuestTaskUnshared => "guest.task_unshared",
        K::GuestAccessEnded => "guest.access_ended",
        K::HandoverStarted => "portal.handover_started",
    }
}

/// Every event type, in the order of the feed's kinds (for the filter's check and
/// the OpenAPI document).
pub const EVENT_TYPES: &[&str] = &[
    "task.completed",
    "task.progress_saved",
    "task.item_checked",
    "task.item_unchecked",
    "task.approved",
    "task.rejected",
    "meeting.scheduled",
    "meeting.rescheduled",
    "task.blocked",
    "task.unblocked",
    "task.reopened",
    "comment.added",
    "question.asked",
    "question.answered",
    "document.uploaded",
    "document.approved",
    "document.rejected",
    "document.quarantined",
    "document.scanned",
    "task.added",
    "task.edited",
    "task.moved",
    "task.deleted",
    "task.unlocked",
    "phase.renamed",
    "phase.moved",
    "phase.deleted",
    "plan.applied",
    "contact.removed",
    "portal.renamed",
    "portal.target_date_set",
    "contact.edited",
    "portal.created",
    "portal.status_changed",
    "portal.branding_changed",
    "phase.added",
    "contact.added",
    "contact.invited",
    "contact.invite_link_issued",
    "contact.invite_revoked",
    "contact.revoked",
    "portal.reminder_settings_changed",
    "file_drop.dropped",
    "file_drop.deleted",
    "file_drop.downloaded",
    "file_drop.expired",
    "task.stuck_reported",
    "task.stuck_cleared",
    "task.due_date_requested",
    "task.due_date_approved",
    "task.due_date_declined",
    "portal.team_changed",
    "contact.colleague_invited",
    "contact.colleague_approved",
    "contact.colleague_declined",
    "task.claimed",
    "task.handed_off",
    "portal.colleague_invitations_set",
    "attachment.added",
    "attachment.deleted",
    "guest.invited",
    "guest.task_shared",
    "guest.task_unshared",
    "guest.access_ended",
    "portal.handover_started",
];

/// Whether `filter` (empty: every type) lets events of `event_type` through.
pub fn subscribed(filter: &[String], event_type: &str) -> bool {
    filter.is_empty() || filter.iter().any(|f| f == event_type)
}

/// The event body sent for a feed entry: `{type, timestamp, data}` as the
/// specification suggests, serialised once and stored, so every attempt and replay
/// sends (and signs) the same bytes.
pub fn event_body(tenant: TenantId, entry: &ActivityEntry) -> Result<String> {
    let actor = match &entry.actor {
        Actor::Client {
            contact_id, name, ..
        } => json!({ "type": "client", "name": name, "contact_id": contact_id.to_string() }),
        Actor::Staff { name, .. } => json!({ "type": "staff", "name": name }),
    };
    let kind = serde_json::to_value(entry.kind)
        .map_err(|e| Error::storage("serialising an activity kind", e))?;
    let body = json!({
        "type": event_type(entry.kind),
        "timestamp": entry.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": {
            "tenant_id": tenant.to_string(),
            "portal_id": entry.portal_id.to_string(),
            "task_id": entry.task_id.map(|t| t.to_string()),
            "activity_kind": kind,
            "actor": actor,
            "subject": entry.subject,
            "detail": entry.detail,
            "summary": entry.summary(),
        },
    });
    serde_json::to_string(&body).map_err(|e| Error::storage("serialising a webhook event", e))
}

/// The JSON Schema of one event type's body (every type has the same `data` shape;
/// `type` is fixed per schema), for the OpenAPI document's components.
pub fn event_schema(event_type: &str) -> Value {
    json!({
        "type": "object",
        "description": format!("The `{event_type}` webhook event: sent when the activity feed records it."),
        "required": ["type", "timestamp", "data"],
        "additionalProperties": false,
        "properties": {
            "type": { "const": event_type },
            "timestamp": { "type": "string", "format": "date-time", "description": "When it happened (UTC)." },
            "data": {
                "type": "object",
                "required": ["tenant_id", "portal_id", "task_id", "activity_kind", "actor", "subject", "detail", "summary"],
                "additionalProperties": false,
                "properties": {
                    "tenant_id": { "type": "string", "format": "uuid" },
                    "portal_id": { "type": "string", "format": "uuid" },
                    "task_id": { "type": ["string", "null"], "format": "uuid" },
                    "activity_kind": { "type": "string", "description": "The feed entry's kind (snake_case)." },
                    "actor": {
                        "type": "object",
                        "required": ["type", "name"],
                        "additionalProperties": false,
                        "properties": {
                            "type": { "enum": ["client", "staff"] },
                            "name": { "type": "string" },
                            "contact_id": { "type": "string", "format": "uuid" },
                        },
                    },
                    "subject": { "type": "string" },
                    "detail": { "type": ["string", "null"] },
                    "summary": { "type": "string", "description": "One line for people, as the feed shows it." },
                },
            },
        },
    })
}

/// The schema component name of an event type (`task.completed` →
/// `WebhookEventTaskCompleted`).
pub fn event_schema_name(event_type: &str) -> String {
    let mut name = String::from("WebhookEvent");
    for part in event_type.split(['.', '_']) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name
}

// ---------------------------------------------------------------------------------
// Endpoints.

/// A tenant's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// The endpoint.
    pub id: EndpointId,
    /// Its tenant: only that tenant's events go there.
    pub tenant_id: TenantId,
    /// Where events are POSTed (checked by [`check_url`]).
    pub url: String,
    /// What the admin calls it.
    pub description: String,
    /// The event types sent (empty: every type).
    pub event_types: Vec<String>,
    /// Whether deliveries are made; a disabled endpoint's deliveries wait.
    pub enabled: bool,
    /// Why it was disabled by the worker (failing for too long), if it was.
    pub disabled_reason: Option<String>,
    /// The secrets in force, the current one first (see [`SealedSecret`]).
    pub secrets: Vec<SealedSecret>,
    /// Since when every attempt has failed (`None` after a success).
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// 1 when created, raised by every change (compare-and-set of
    /// [`WebhookStore::save_endpoint`]).
    pub version: u64,
}

impl WebhookEndpoint {
    /// The secrets that still sign at `now`: the current one and any replaced one
    /// within its overlap.
    pub fn live_secrets(&self, now: DateTime<Utc>) -> impl Iterator<Item = &SealedSecret> {
        self.secrets
            .iter()
            .filter(move |s| s.expires_at.is_none_or(|end| now <= end))
    }
}

/// Checks an endpoint URL: absolute, `https` (or `http` when `allow_http`), a host,
/// no credentials in it, at most [`MAX_URL_LEN`] characters. Returns it normalised.
pub fn check_url(raw: &str, allow_http: bool) -> Result<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_URL_LEN {
        return Err(Error::invalid(
            "url",
            format!("give the receiver's https URL (at most {MAX_URL_LEN} characters)"),
        ));
    }
    let url = url::Url::parse(raw).map_err(|_| {
        Error::invalid(
            "url",
            "not an absolute URL such as https://psa.example.com/hooks",
        )
    })?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err(Error::invalid("url", "must start with https://")),
    }
    if url.host().is_none() {
        return Err(Error::invalid("url", "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "url",
            "must not hold a user name or password: the signature authenticates us",
        ));
    }
    if url.fragment().is_some() {
        return Err(Error::invalid("url", "must not have a #fragment"));
    }
    Ok(url.to_string())
}

/// Checks a description (trimmed, at most [`MAX_DESCRIPTION_LEN`] characters, no
/// control characters).
pub fn check_description(raw: &str) -> Result<String> {
    let d = raw.trim();
    if d.chars().count() > MAX_DESCRIPTION_LEN || d.chars().any(char::is_control) {
        return Err(Error::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION_LEN} characters on one line"),
        ));
    }
    Ok(d.to_owned())
}

/// Checks an event-type filter: every name one of [`EVENT_TYPES`], no repeats.
pub fn check_event_types(types: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(types.len());
    for t in types {
        if !EVENT_TYPES.contains(&t.as_str()) {
            return Err(Error::invalid(
                "event_types",
                format!(
                    "{t:?} is not an event type (see the OpenAPI document's WebhookEvent schemas)"
                ),
            ));
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    Ok(out)
}

/// The endpoint after a secret rotation at `now`: the new sealed secret current, the
/// old current one valid for [`ROTATION_OVERLAP`], already expired ones dropped.
pub fn rotated(endpoint: &WebhookEndpoint, new: Vec<u8>, now: DateTime<Utc>) -> WebhookEndpoint {
    let mut next = endpoint.clone();
    let mut secrets = vec![SealedSecret {
        sealed: new,
        expires_at: None,
    }];
    for s in &endpoint.secrets {
        let end = s.expires_at.unwrap_or(now + ROTATION_OVERLAP);
        if now <= end {
            secrets.push(SealedSecret {
                sealed: s.sealed.clone(),
                expires_at: Some(end),
            });
        }
    }
    next.secrets = secrets;
    next
}

// ---------------------------------------------------------------------------------
// Deliveries.

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryState {
    /// Waiting for its next attempt (`next_attempt_at`).
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Every attempt of the schedule failed; a replay starts it again.
    Failed,
}

impl DeliveryState {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One event for one endpoint: the durable queue's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The delivery (its `webhook-id` is [`message_id`] of it).
    pub id: DeliveryId,
    /// The endpoint's tenant.
    pub tenant_id: TenantId,
    /// The endpoint.
    pub endpoint_id: EndpointId,
    /// The portal the event is about (its deliveries are erased with it).
    pub portal_id: PortalId,
    /// The feed entry's number in the feed (its key).
    pub feed_seq: u64,
    /// The event type.
    pub event_type: String,
    /// The exact body sent (see [`event_body`]).
    pub body: String,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last attempt: when, the HTTP status if any, and a short excerpt of the
    /// answer or the error.
    pub last_attempt: Option<AttemptRecord>,
}

/// What one attempt found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// At most [`RESPONSE_EXCERPT_LEN`] bytes of the answer, or what went wrong.
    pub excerpt: String,
}

impl AttemptRecord {
    /// Whether the receiver took it (2xx).
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Cuts a receiver's answer (or an error) to [`RESPONSE_EXCERPT_LEN`] bytes on a
/// character boundary, without control characters.
pub fn excerpt(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > RESPONSE_EXCERPT_LEN {
            break;
        }
        out.push(c);
    }
    out
}

/// When the attempt after `attempts_made` failed attempts is due, counted from `now`
/// (the last failure), with ±20 % jitter drawn from `random`; `None` when the
/// schedule is exhausted and the delivery is given up.
pub fn next_attempt(
    attempts_made: u32,
    now: DateTime<Utc>,
    random: &dyn RandomSource,
) -> Option<DateTime<Utc>> {
    let index = usize::try_from(attempts_made).ok()?.checked_sub(1)?;
    let base = *RETRY_SCHEDULE.get(index)?;
    let mut b = [0u8; 2];
    random.fill(&mut b);
    // A factor in [0.8, 1.2].
    let permille = 800 + i64::from(u16::from_le_bytes(b) % 401);
    let jittered = TimeDelta::milliseconds(base.num_milliseconds() * permille / 1000);
    Some(now + jittered)
}

/// What the worker writes after an attempt (see [`WebhookStore::record_attempt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// The attempt.
    pub record: AttemptRecord,
    /// The next attempt's time (`None`: delivered, or given up when it failed).
    pub retry_at: Option<DateTime<Utc>>,
}

/// How an attempt changes its endpoint: on success its failure streak ends; on a
/// failure the streak starts (or goes on), and an endpoint failing for
/// [`DISABLE_AFTER`] is disabled with the reason. Stores apply it in the attempt's
/// unit.
pub fn endpoint_after_attempt(
    endpoint: &WebhookEndpoint,
    record: &AttemptRecord,
) -> Option<WebhookEndpoint> {
    let mut next = endpoint.clone();
    if record.succeeded() {
        // Nothing to end when it was not failing.
        endpoint.failing_since?;
        next.failing_since = None;
    } else {
        let since = endpoint.failing_since.unwrap_or(record.at);
        next.failing_since = Some(since);
        if record.at - since >= DISABLE_AFTER && endpoint.enabled {
            next.enabled = false;
            next.disabled_reason = Some(format!(
                "disabled on {}: every delivery failed for {} days (last: {})",
                record.at.format("%Y-%m-%d %H:%M UTC"),
                DISABLE_AFTER.num_days(),
                match record.status {
                    Some(s) => format!("HTTP {s}"),
                    None => record.excerpt.clone(),
                }
            ));
        } else if endpoint.failing_since.is_some() {
            return None;
        }
    }
    next.version += 1;
    Some(next)
}

// ---------------------------------------------------------------------------------
// SSRF.

/// What kind of address a receiver's host resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressClass {
    /// A public unicast address: allowed.
    Public,
    /// Loopback (`127.0.0.0/8`, `::1`).
    Loopback,
    /// Private IPv4 (`10/8`, `172.16/12`, `192.168/16`), carrier-grade NAT (`100.64/10`).
    Private,
    /// Link-local (`169.254/16`, `fe80::/10`).
    LinkLocal,
    /// IPv6 unique-local (`fc00::/7`).
    UniqueLocal,
    /// Multicast or broadcast.
    Multicast,
    /// A cloud metadata service (`169.254.169.254`, `fd00:ec2::254`, `100.100.100.200`).
    Metadata,
    /// Unspecified, reserved, documentation or benchmarking ranges: never a receiver.
    Reserved,
}

impl AddressClass {
    /// The class of `ip`. IPv4-mapped and -compatible IPv6 addresses are judged as
    /// the IPv4 address they carry.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::of_v4(v4),
                None => Self::of_v6(v6),
            },
        }
    }

    fn of_v4(ip: Ipv4Addr) -> Self {
        let o = ip.octets();
        if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
            Self::Metadata
        } else if ip.is_loopback() {
            Self::Loopback
        } else if ip.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
            Self::Private
        } else if ip.is_link_local() {
            Self::LinkLocal
        } else if ip.is_multicast() || ip.is_broadcast() {
            Self::Multicast
        } else if ip.is_unspecified()
            || ip.is_documentation()
            || o[0] == 0
            || o[0] >= 240
            || (o[0] == 192 && o[1] == 0 && o[2] == 0)
            || (o[0] == 198 && (o[1] & 0xfe) == 18)
        {
            Self::Reserved
        } else {
            Self::Public
        }
    }

    fn of_v6(ip: Ipv6Addr) -> Self {
        let s = ip.segments();
        if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
            Self::Metadata
        } else if ip.is_loopback() {
            Self::Loopback
        } else if ip.is_unspecified() {
            Self::Reserved
        } else if (s[0] & 0xffc0) == 0xfe80 {
            Self::LinkLocal
        } else if (s[0] & 0xfe00) == 0xfc00 {
            Self::UniqueLocal
        } else if ip.is_multicast() {
            Self::Multicast
        } else if s[0] == 0x2001 && s[1] == 0x0db8 {
            Self::Reserved
        } else if s[0] == 0x64 && s[1] == 0xff9b {
            // NAT64: judge the IPv4 address inside.
            let [a, b] = s[6].to_be_bytes();
            let [c, d] = s[7].to_be_bytes();
            Self::of_v4(Ipv4Addr::new(a, b, c, d))
        } else if (s[0] & 0xe000) == 0x2000 {
            Self::Public
        } else {
            // Outside global unicast (2000::/3): reserved by IANA.
            Self::Reserved
        }
    }

    /// Whether a delivery may connect there: public addresses always; the others only
    /// when the host allows private targets (tests, demos, receivers on the same
    /// network), and never metadata services or reserved ranges.
    pub fn allowed(self, allow_private: bool) -> bool {
        match self {
            Self::Public => true,
            Self::Loopback | Self::Private | Self::LinkLocal | Self::UniqueLocal => allow_private,
            Self::Metadata | Self::Multicast | Self::Reserved => false,
        }
    }

    /// Whether it is a public unicast address.
    pub fn is_public(self) -> bool {
        self == Self::Public
    }
}

// ---------------------------------------------------------------------------------
// The transport seam.

/// One signed POST to make.
#[derive(Debug, Clone)]
pub struct OutgoingWebhook {
    /// The endpoint URL.
    pub url: String,
    /// `webhook-id`.
    pub msg_id: String,
    /// `webhook-timestamp` (seconds since the epoch).
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: String,
    /// The JSON body.
    pub body: String,
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportAnswer {
    /// Its HTTP status.
    pub status: u16,
    /// The start of its body (at most [`RESPONSE_EXCERPT_LEN`] bytes read).
    pub excerpt: String,
}

/// Sends webhook requests. The HTTP host's implementation resolves the URL's host,
/// refuses addresses [`AddressClass::allowed`] refuses, connects to the address it
/// checked (no second lookup), and bounds the whole exchange by a timeout.
///
/// # Contract
/// - `Ok` is the receiver's answer, whatever its status; `Err` is a request that got
///   no answer (refused address, DNS, connection, TLS, timeout), with the reason in
///   the error's message (no secret: the signature header is never part of it).
#[async_trait]
pub trait WebhookTransport: Send + Sync + 'static {
    /// POSTs one webhook.
    async fn post(&self, request: &OutgoingWebhook) -> Result<TransportAnswer>;
}

/// A claim on deliveries the worker took (see [`WebhookStore::claim_due`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryLease {
    /// The claim.
    pub claim: ClaimToken,
    /// Until when it holds.
    pub until: DateTime<Utc>,
}
