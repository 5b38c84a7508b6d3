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
    /// How long a verification lives from its start, whatever its codes say (150
    /// minutes: `code_ttl` × `max_codes_per_verification`), so a verification cannot
    /// be kept alive by resending codes, nor reused days later.
    pub verification_ttl: TimeDelta,
    /// Verification emails (first codes and resends alike) one contact may be sent
    /// within `email_window` (10), so a forwarded invite link cannot be used to flood
    /// the contact's inbox.
    pub max_emails_per_contact: u32,
    /// The window for `max_emails_per_contact` (1 hour).
    pub email_window: TimeDelta,
    /// Wrong codes one contact may enter, across all its verifications, within
    /// `wrong_code_window` (20): the twentieth locks the contact's codes out. This
    /// bounds guessing to about 600 tries in 30 days (odds below 0.1 %, see
    /// `docs/security.md`), far above what a client who mistypes needs.
    pub max_wrong_codes_per_contact: u32,
    /// The window for `max_wrong_codes_per_contact`, and the first lockout's length
    /// (a day); each lockout that follows the previous one within a window lasts
    /// twice as long, up to `max_lockout`.
    pub wrong_code_window: TimeDelta,
    /// The longest lockout (30 days).
    pub max_lockout: TimeDelta,
    /// Session rules.
    pub session: SessionPolicy,
    /// At most one staff notification email (per recipient) per portal within this
    /// interval (1 minute), so a burst of client messages is one email, not sixty.
    /// Messages inside the interval are not emailed on their own: the next email after
    /// it says how many were held; every message stays in the activity feed.
    pub staff_notification_interval: TimeDelta,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        Self {
            code_ttl: TimeDelta::minutes(30),
            max_codes_per_verification: 5,
            max_wrong_attempts: 5,
            verification_ttl: TimeDelta::minutes(150),
            max_emails_per_contact: 10,
            email_window: TimeDelta::hours(1),
            max_wrong_codes_per_contact: 20,
            wrong_code_window: TimeDelta::days(1),
            max_lockout: TimeDelta::days(30),
            session: SessionPolicy::default(),
            staff_notification_interval: TimeDelta::minutes(1),
        }
    }
}

/// How long records are kept, and how the prune that enforces it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// How long an access-log entry is kept (400 days: a year of history plus a margin
    /// for a yearly review). An entry exactly this old is still kept; older ones are
    /// removed by [`crate::PortalService::prune_access_log`]. See
    /// [`rules::retention_cutoff`].
    pub access_log: TimeDelta,
    /// Entries one store call removes at most (1000), so one prune never holds a
    /// store's writer for long: the service calls the store in batches until less
    /// than a full batch is removed. Zero is taken as one.
    pub batch: usize,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            access_log: TimeDelta::days(400),
            batch: 1000,
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
