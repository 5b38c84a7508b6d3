//! The transactional email outbox: what a queued email is, and the rules that decide
//! what happens to it after each delivery attempt.
//!
//! Emails are never sent from inside an action. The action's store unit *queues* them
//! ([`OutboxMessage`]) in the same transaction as the change that causes them, so an
//! action that commits always has its emails, and a refused or failed action has none.
//! A sender ([`crate::service::spawn_outbox_sender`], or
//! [`crate::PortalService::deliver_outbox`] called by the host) then claims due
//! messages with a lease, hands each to the host's [`crate::Mailer`], and records the
//! outcome. The storage side is [`crate::store::OutboxStore`]; every decision (when to
//! try again, when to give up, what counts as permanent) is a pure function here, so
//! every store behaves alike.
//!
//! Not to be confused with [`crate::mail::OutboxMailer`] (feature `outbox`): that is a
//! *mailer* that writes `.eml` files (the demo's stand-in for a mail server), and it
//! sits behind this queue like any other mailer.

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::Error;
use crate::ids::{ClaimToken, MailId, PortalId, TenantId};
use crate::mail::Email;

/// Why an email is sent: kept with it, for the MSP's list of failed emails and the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MailKind {
    /// A contact's invitation with their invite link.
    Invite,
    /// A verification code and magic link (sent at once by the request, and recorded).
    Verification,
    /// A client's comment, question or upload, or a contact's lockout after too many
    /// wrong codes, told to the MSP's recipients.
    StaffNotification,
    /// A rejected document, told to the client who uploaded it.
    DocumentRejected,
    /// A contact's daily reminder digest of due tasks.
    Reminder,
    /// An event told to a contact: the MSP answered their question.
    ClientNotification,
    /// The MSP told that a client went quiet with tasks overdue.
    Escalation,
    /// A task for a contact: newly assigned to them, or ready now that what it waited
    /// for is done.
    TaskAssigned,
    /// A meeting scheduled, moved or cancelled, told to its contacts with the calendar
    /// object attached.
    Meeting,
}

impl MailKind {
    /// Stable storage name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Verification => "verification",
            Self::StaffNotification => "staff_notification",
            Self::DocumentRejected => "document_rejected",
            Self::Reminder => "reminder",
            Self::ClientNotification => "client_notification",
            Self::Escalation => "escalation",
            Self::TaskAssigned => "task_assigned",
            Self::Meeting => "meeting",
        }
    }

    /// Reverse of [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "invite" => Self::Invite,
            "verification" => Self::Verification,
            "staff_notification" => Self::StaffNotification,
            "document_rejected" => Self::DocumentRejected,
            "reminder" => Self::Reminder,
            "client_notification" => Self::ClientNotification,
            "escalation" => Self::Escalation,
            "task_assigned" => Self::TaskAssigned,
            "meeting" => Self::Meeting,
            _ => return None,
        })
    }
}

/// Where a queued email stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailState {
    /// Waiting for its next attempt (or being attempted, under a lease).
    Pending,
    /// Handed to the mail server: done.
    Sent,
    /// Given up on (a permanent refusal, or too long undeliverable): listed for the MSP.
    Failed,
}

impl MailState {
    /// Stable storage name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// Reverse of [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A claim on a pending email: until `until` (inclusive) no other sender may claim it,
/// and only the holder of `claim` can record its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The claim that holds it.
    pub claim: ClaimToken,
    /// The last instant of the lease (it can be claimed again after this).
    pub until: DateTime<Utc>,
}

/// One email in the outbox.
///
/// Bodies carry secrets (invite links, codes), so a store keeps them only while the
/// email waits: once it is sent or given up, its `text` and `html` are erased and only
/// the envelope (recipient, subject, kind, times, error) stays. `Debug` shows no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Its id, chosen by the caller.
    pub id: MailId,
    /// The MSP it is sent for (its list of failed emails).
    pub tenant_id: TenantId,
    /// The portal it is about, if any.
    pub portal_id: Option<PortalId>,
    /// Why it is sent.
    pub kind: MailKind,
    /// The rendered email.
    pub email: Email,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Not worth sending after this instant (a verification code that has expired): a
    /// sender gives it up instead.
    pub not_after: Option<DateTime<Utc>>,
    /// When it may be attempted (again).
    pub next_attempt_at: DateTime<Utc>,
    /// How many times it was claimed for sending (a claim that died mid-send counts).
    pub attempts: u32,
    /// Pending, sent or failed.
    pub state: MailState,
    /// The claim that holds it, while one does (also kept after the lease ended, until
    /// another claim or an outcome replaces it).
    pub lease: Option<Lease>,
    /// What the last failed attempt reported (the transport's words, for the MSP).
    pub last_error: Option<String>,
    /// When it was sent or given up.
    pub finished_at: Option<DateTime<Utc>>,
}

impl OutboxMessage {
    /// A new email, pending and due at `now`.
    pub fn new(
        id: MailId,
        tenant_id: TenantId,
        portal_id: Option<PortalId>,
        kind: MailKind,
        email: Email,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            tenant_id,
            portal_id,
            kind,
            email,
            created_at: now,
            not_after: None,
            next_attempt_at: now,
            attempts: 0,
            state: MailState::Pending,
            lease: None,
            last_error: None,
            finished_at: None,
        }
    }

    /// Whether a claimer may take it at `now`: pending, due, and not under a lease that
    /// still runs (a lease ending at `T` still holds at `T`).
    pub fn claimable(&self, now: DateTime<Utc>) -> bool {
        self.state == MailState::Pending
            && self.next_attempt_at <= now
            && self.lease.is_none_or(|l| now > l.until)
    }
}

/// What a failed attempt leaves: the store records it with
/// [`crate::store::OutboxStore::mark_failed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAttempt {
    /// When the attempt failed.
    pub at: DateTime<Utc>,
    /// What the transport said (kept for the MSP; never a body).
    pub error: String,
    /// When to try again; `None` gives the email up (state [`MailState::Failed`]).
    pub retry_at: Option<DateTime<Utc>>,
}

/// How the outbox retries and how the sender runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPolicy {
    /// The wait after the first failed attempt; it doubles after each further one.
    pub first_retry: TimeDelta,
    /// The longest wait between two attempts.
    pub max_retry: TimeDelta,
    /// An email still undelivered this long after it was queued is given up.
    pub give_up_after: TimeDelta,
    /// An email claimed this many times is given up (a message that kills its sender
    /// every time must not be retried forever).
    pub max_attempts: u32,
    /// How long a claim hides an email from other senders. Longer than a send can take
    /// (the SMTP mailer's timeout is 30 s), so a live sender never loses its claim.
    pub lease: TimeDelta,
    /// Emails claimed at a time.
    pub batch: usize,
    /// How often an idle sender looks for due emails (it also wakes when this process
    /// queues one).
    pub poll: TimeDelta,
    /// Sent emails (envelopes only) are kept this long, then pruned.
    pub keep_sent: TimeDelta,
}

impl Default for OutboxPolicy {
    /// Retries after 30 s, 1, 2, 4 ... minutes up to an hour apart, for two days at
    /// most; 5-minute leases, batches of 20, a poll every 15 s, sent emails kept 30 days.
    fn default() -> Self {
        Self {
            first_retry: TimeDelta::seconds(30),
            max_retry: TimeDelta::hours(1),
            give_up_after: TimeDelta::days(2),
            max_attempts: 50,
            lease: TimeDelta::minutes(5),
            batch: 20,
            poll: TimeDelta::seconds(15),
            keep_sent: TimeDelta::days(30),
        }
    }
}

/// Whether retrying may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permanence {
    /// The server refused for good (a 5xx, failed authentication, a malformed address):
    /// the same email will be refused again.
    Permanent,
    /// Trying again later may work (a 4xx, a connection, TLS or timeout failure).
    Transient,
}

/// Classifies a send error. Mailers say `permanent:` or `transient:` at the start of an
/// `Error::Mail` message ([`crate::mail::SmtpMailer`] does); an unmarked mail error, a
/// storage or I/O error is transient (retrying is bounded, losing an email is not), and
/// an email the transport cannot even build (`Invalid`) is permanent.
pub fn permanence(error: &Error) -> Permanence {
    match error {
        Error::Mail { message } if message.starts_with("permanent:") => Permanence::Permanent,
        Error::Invalid { .. } | Error::InvalidFields { .. } => Permanence::Permanent,
        _ => Permanence::Transient,
    }
}

/// The wait before attempt `attempts + 1`, after `attempts` failed ones: exponential
/// backoff (`first_retry`, doubled per attempt, at most `max_retry`) with "equal
/// jitter": half of it fixed, the other half drawn from `jitter` (any random number),
/// so senders that failed together do not retry together, and no retry comes sooner
/// than half the backoff.
pub fn retry_delay(attempts: u32, policy: &OutboxPolicy, jitter: u64) -> TimeDelta {
    let first = policy
        .first_retry
        .num_microseconds()
        .unwrap_or(i64::MAX)
        .max(1);
    let max = policy
        .max_retry
        .num_microseconds()
        .unwrap_or(i64::MAX)
        .max(first);
    let doublings = attempts.saturating_sub(1).min(62);
    let backoff = first.saturating_mul(1_i64 << doublings).min(max);
    let half = backoff / 2;
    let spread = u64::try_from(backoff - half).unwrap_or(0).saturating_add(1);
    let drawn = i64::try_from(jitter % spread).unwrap_or(0);
    TimeDelta::microseconds(half.saturating_add(drawn))
}

/// What a failed send of `message` (claimed, so `message.attempts` counts this attempt)
/// leaves: given up if the error is permanent, if the next attempt would come after
/// `not_after` or after `give_up_after`, or if it was claimed `max_attempts` times;
/// otherwise a retry after [`retry_delay`].
pub fn judge_failure(
    message: &OutboxMessage,
    error: &Error,
    now: DateTime<Utc>,
    policy: &OutboxPolicy,
    jitter: u64,
) -> FailedAttempt {
    // A mail error's own words (`permanent: ...`), without the error's prefix.
    let said = match error {
        Error::Mail { message } => message.clone(),
        other => other.to_string(),
    };
    let give_up = |why: String| FailedAttempt {
        at: now,
        error: why,
        retry_at: None,
    };
    if permanence(error) == Permanence::Permanent {
        return give_up(said);
    }
    if message.attempts >= policy.max_attempts {
        return give_up(format!(
            "gave up after {} attempts; the last one: {said}",
            message.attempts
        ));
    }
    let retry_at = now + retry_delay(message.attempts, policy, jitter);
    let deadline = message.created_at + policy.give_up_after;
    if retry_at > deadline {
        return give_up(format!(
            "gave up: still undeliverable after {}; the last attempt: {said}",
            crate::wording::duration(policy.give_up_after)
        ));
    }
    if message.not_after.is_some_and(|last| retry_at > last) {
        return give_up(format!(
            "gave up: it would no longer be useful by the next attempt; the last attempt: {said}"
        ));
    }
    FailedAttempt {
        at: now,
        error: said,
        retry_at: Some(retry_at),
    }
}

/// Before sending a message just claimed: whether it must be given up unsent, because
/// it is past its `not_after` or was claimed more than `max_attempts` times (earlier
/// claims died without an outcome).
pub fn judge_claimed(
    message: &OutboxMessage,
    now: DateTime<Utc>,
    policy: &OutboxPolicy,
) -> Option<FailedAttempt> {
    let why = if message.not_after.is_some_and(|last| now > last) {
        "not sent: it was no longer useful when its turn came".to_owned()
    } else if message.attempts > policy.max_attempts {
        format!(
            "gave up after {} attempts that ended without an outcome",
            policy.max_attempts
        )
    } else {
        return None;
    };
    Some(FailedAttempt {
        at: now,
        error: why,
        retry_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EmailAddress;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_860_000 + s, 0).unwrap()
    }

    fn message(attempts: u32) -> OutboxMessage {
        let email = Email {
            to: EmailAddress::parse("jane@contoso.example").unwrap(),
            to_name: None,
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
            sender: None,
            list_unsubscribe: None,
            attachments: Vec::new(),
        };
        let mut m = OutboxMessage::new(
            MailId::from_bytes([1; 16]),
            TenantId::from_bytes([2; 16]),
            None,
            MailKind::Invite,
            email,
            t(0),
        );
        m.attempts = attempts;
        m
    }

    fn mail(message: &str) -> Error {
        Error::Mail {
            message: message.to_owned(),
        }
    }

    #[test]
    fn storage_names_are_fixed() {
        for kind in [
            MailKind::Invite,
            MailKind::Verification,
            MailKind::StaffNotification,
            MailKind::DocumentRejected,
        ] {
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(MailKind::StaffNotification.as_str(), "staff_notification");
        for state in [MailState::Pending, MailState::Sent, MailState::Failed] {
            assert_eq!(MailState::parse(state.as_str()), Some(state));
        }
        assert_eq!(MailState::parse("Sent"), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_half_of_it_jittered() {
        let p = OutboxPolicy::default();
        // Without jitter: exactly half the backoff.
        assert_eq!(retry_delay(1, &p, 0), TimeDelta::seconds(15));
        assert_eq!(retry_delay(2, &p, 0), TimeDelta::seconds(30));
        assert_eq!(retry_delay(3, &p, 0), TimeDelta::seconds(60));
        // The most jitter adds the other half exactly.
        let full = |n: u32| {
            let first = p.first_retry.num_microseconds().unwrap();
            let backoff = (first << (n - 1)).min(p.max_retry.num_microseconds().unwrap());
            u64::try_from(backoff - backoff / 2).unwrap()
        };
        assert_eq!(retry_delay(1, &p, full(1)), TimeDelta::seconds(30));
        assert_eq!(retry_delay(1, &p, full(1) + 1), TimeDelta::seconds(15));
        // Capped at an hour, whatever the attempt.
        assert_eq!(retry_delay(40, &p, 0), TimeDelta::minutes(30));
        assert_eq!(retry_delay(u32::MAX, &p, full(8)), TimeDelta::hours(1));
        assert_eq!(retry_delay(0, &p, 0), TimeDelta::seconds(15));
        // Every draw lands within [half, whole].
        for jitter in [1, 7, 1 << 40, u64::MAX] {
            let d = retry_delay(5, &p, jitter);
            assert!(
                d >= TimeDelta::minutes(4) && d <= TimeDelta::minutes(8),
                "{d}"
            );
        }
    }

    #[test]
    fn permanence_follows_the_mailers_marker() {
        assert_eq!(
            permanence(&mail("permanent: the server refused: 550")),
            Permanence::Permanent
        );
        assert_eq!(
            permanence(&mail("transient: the server deferred: 451")),
            Permanence::Transient
        );
        assert_eq!(permanence(&mail("no marker")), Permanence::Transient);
        assert_eq!(
            permanence(&Error::storage_msg("disk full")),
            Permanence::Transient
        );
        assert_eq!(
            permanence(&Error::invalid("from", "bad")),
            Permanence::Permanent
        );
    }

    #[test]
    fn a_transient_failure_is_retried_and_a_permanent_one_given_up() {
        let p = OutboxPolicy::default();
        let retry = judge_failure(&message(1), &mail("transient: 421"), t(10), &p, 0);
        assert_eq!(retry.retry_at, Some(t(25)));
        assert_eq!(retry.at, t(10));
        assert!(retry.error.contains("421"));
        let gone = judge_failure(
            &message(1),
            &mail("permanent: 550 no such user"),
            t(10),
            &p,
            0,
        );
        assert_eq!(gone.retry_at, None);
        assert!(gone.error.contains("550 no such user"), "{}", gone.error);
    }

    #[test]
    fn giving_up_by_attempts_age_and_usefulness() {
        let p = OutboxPolicy::default();
        let transient = mail("transient: connection refused");
        assert_eq!(
            judge_failure(&message(p.max_attempts), &transient, t(10), &p, 0).retry_at,
            None
        );
        assert!(
            judge_failure(&message(p.max_attempts - 1), &transient, t(10), &p, 0)
                .retry_at
                .is_some()
        );
        // A retry landing exactly on the deadline is still allowed; one past it is not.
        let deadline = p.give_up_after.num_seconds();
        assert_eq!(
            judge_failure(&message(1), &transient, t(deadline - 15), &p, 0).retry_at,
            Some(t(deadline))
        );
        let late = judge_failure(&message(1), &transient, t(deadline - 14), &p, 0);
        assert_eq!(late.retry_at, None);
        assert!(late.error.contains("2 days"), "{}", late.error);
        // Not after: the same boundary.
        let mut code = message(1);
        code.not_after = Some(t(25));
        assert_eq!(
            judge_failure(&code, &transient, t(10), &p, 0).retry_at,
            Some(t(25))
        );
        assert_eq!(
            judge_failure(&code, &transient, t(11), &p, 0).retry_at,
            None
        );
    }

    #[test]
    fn a_claimed_message_past_its_use_or_its_attempts_is_not_sent() {
        let p = OutboxPolicy::default();
        let mut m = message(1);
        m.not_after = Some(t(60));
        assert_eq!(judge_claimed(&m, t(60), &p), None);
        assert!(judge_claimed(&m, t(61), &p).is_some_and(|f| f.retry_at.is_none()));
        assert_eq!(judge_claimed(&message(p.max_attempts), t(0), &p), None);
        assert!(judge_claimed(&message(p.max_attempts + 1), t(0), &p).is_some());
    }

    #[test]
    fn claimable_only_when_pending_due_and_unleased() {
        let mut m = message(0);
        m.next_attempt_at = t(10);
        assert!(!m.claimable(t(9)));
        assert!(m.claimable(t(10)));
        m.lease = Some(Lease {
            claim: ClaimToken::from_bytes([3; 16]),
            until: t(20),
        });
        assert!(!m.claimable(t(20)), "a lease holds at its last instant");
        assert!(m.claimable(t(20) + TimeDelta::microseconds(1)));
        m.state = MailState::Sent;
        assert!(!m.claimable(t(30)));
    }
}
