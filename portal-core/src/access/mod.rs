//! The access model: invite link → email verification (magic link or 6-digit code)
//! → sliding session. [`AccessPolicy`] holds every number; [`rules`] holds every
//! decision, as pure functions the stores apply inside their transactions.

pub mod rules;

use chrono::TimeDelta;

/// Every limit and lifetime of the access flow. The defaults are the spec's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPolicy {
    /// How long a code and its magic link stay valid (spec: 30 minutes).
    pub code_ttl: TimeDelta,
    /// Codes that may be issued in one verification (spec: 5).
    pub max_codes_per_verification: u32,
    /// Wrong tries after which a code (and its magic link) dies (5).
    pub max_wrong_attempts: u32,
    /// Verifications one contact may start within `verification_window` (10), so a
    /// forwarded invite link cannot be used to flood the contact's inbox.
    pub max_verifications_per_contact: u32,
    /// The window for `max_verifications_per_contact` (1 hour).
    pub verification_window: TimeDelta,
    /// Session rules.
    pub session: SessionPolicy,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        Self {
            code_ttl: TimeDelta::minutes(30),
            max_codes_per_verification: 5,
            max_wrong_attempts: 5,
            max_verifications_per_contact: 10,
            verification_window: TimeDelta::hours(1),
            session: SessionPolicy::default(),
        }
    }
}

/// How sessions live and slide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Idle lifetime: a session ends this long after its last refresh (spec: 24 hours).
    pub ttl: TimeDelta,
    /// A request refreshes the session only when the last refresh is at least this old,
    /// so an active client causes one write every few minutes, not one per request (5 minutes).
    pub refresh_after: TimeDelta,
    /// Optional hard cap from creation, whatever the activity (ASVS 3.3.4). `None` by default.
    pub absolute_max: Option<TimeDelta>,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            ttl: TimeDelta::hours(24),
            refresh_after: TimeDelta::minutes(5),
            absolute_max: None,
        }
    }
}
