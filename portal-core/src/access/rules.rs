//! The access decisions, as pure functions over stored state.
//!
//! Boundaries: a thing that expires at `T` is accepted at `T` and refused at any
//! later instant (`now > expires_at`). Stores call these inside their transaction and
//! apply the outcome, so every adapter enforces identical rules.

use chrono::{DateTime, Utc};

use super::{AccessPolicy, SessionPolicy};
use crate::error::{Entity, Error, Limit, Result};
use crate::model::Contact;
use crate::secret::CodeHash;

/// Refuses every step of the access flow for a contact the MSP revoked.
pub fn judge_contact(contact: &Contact) -> Result<()> {
    if contact.revoked_at.is_some() {
        return Err(Error::revoked(Entity::Contact));
    }
    Ok(())
}

/// [`judge_contact`] at `now`: a guest whose access ended before `now` (see
/// [`crate::workflow::guests::access_ended`]) is refused like a revoked contact
/// (`Revoked(Contact)`), so every invite, verification step and session of theirs
/// stops on the first request after the end date.
pub fn judge_contact_at(contact: &Contact, now: DateTime<Utc>) -> Result<()> {
    judge_contact(contact)?;
    if crate::workflow::guests::access_ended(contact, now) {
        return Err(Error::revoked(Entity::Contact));
    }
    Ok(())
}

/// Whether `contact` counts as revoked for its sessions at `now`: revoked by the MSP,
/// or a guest past their end date (the `contact_revoked` of [`SessionState`]).
pub fn contact_revoked_at(contact: &Contact, now: DateTime<Utc>) -> bool {
    judge_contact_at(contact, now).is_err()
}

/// Judges an invite found by its hash at `now`: a revoked contact (or a guest past
/// their end date) answers `Revoked(Contact)` (whatever the invite says), a revoked
/// invite `Revoked(Invite)`.
pub fn judge_invite(invite_revoked: bool, contact: &Contact, now: DateTime<Utc>) -> Result<()> {
    judge_contact_at(contact, now)?;
    if invite_revoked {
        return Err(Error::revoked(Entity::Invite));
    }
    Ok(())
}

/// When a verification started at `started_at` ends: it lives
/// [`AccessPolicy::verification_ttl`], fixed at its start.
pub fn verification_expiry(started_at: DateTime<Utc>, policy: &AccessPolicy) -> DateTime<Utc> {
    started_at + policy.verification_ttl
}

/// A verification as stored, for [`judge_verification`].
#[derive(Debug, Clone, Copy)]
pub struct VerificationState {
    /// Last instant at which it is accepted ([`verification_expiry`] of its start).
    pub expires_at: DateTime<Utc>,
    /// Whether its invite died (re-issued or revoked) or its contact was revoked after
    /// it started: such a verification never works again, even after a re-invite.
    pub ended: bool,
}

/// Judges an unfinished verification at `now`, for every step that uses it: a
/// revoked contact is `Revoked(Contact)`, a verification whose invite died is
/// `NotFound(Verification)`, one past its lifetime `Expired(Verification)`.
pub fn judge_verification(
    v: &VerificationState,
    contact: &Contact,
    now: DateTime<Utc>,
) -> Result<()> {
    judge_verification_as(Entity::Verification, v, contact, now)
}

/// [`judge_verification`] for a step reached by a magic link: an ended verification's
/// link is `NotFound(MagicLink)` (like any link that no longer leads anywhere).
pub fn judge_link_verification(
    v: &VerificationState,
    contact: &Contact,
    now: DateTime<Utc>,
) -> Result<()> {
    judge_verification_as(Entity::MagicLink, v, contact, now)
}

fn judge_verification_as(
    missing: Entity,
    v: &VerificationState,
    contact: &Contact,
    now: DateTime<Utc>,
) -> Result<()> {
    judge_contact_at(contact, now)?;
    if v.ended {
        return Err(Error::not_found(missing));
    }
    if now > v.expires_at {
        return Err(Error::expired(Entity::Verification));
    }
    Ok(())
}

/// Whether another verification email (a first code or a resend) may be sent to a
/// contact at `now`, given when its recent ones were sent (a store may pass only the
/// newest `max_emails_per_contact`, in any order; withdrawn, undelivered ones are not
/// passed). One sent exactly `email_window` before `now` still counts, like every
/// boundary here.
pub fn judge_email(
    recent_sends: &[DateTime<Utc>],
    now: DateTime<Utc>,
    policy: &AccessPolicy,
) -> Result<()> {
    let since = now - policy.email_window;
    let in_window = recent_sends.iter().filter(|&&at| at >= since).count();
    if u32::try_from(in_window).unwrap_or(u32::MAX) >= policy.max_emails_per_contact {
        return Err(Error::LimitReached(Limit::EmailsPerContact));
    }
    Ok(())
}

/// A contact's record of wrong codes, across all its verifications, as stored (a
/// contact without one has the default: nothing counted, never locked out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodeGuard {
    /// Wrong codes counted in the current window.
    pub wrong_codes: u32,
    /// When the current window began (its first wrong code); `None`: no window open.
    pub window_start: Option<DateTime<Utc>>,
    /// The last instant of the latest lockout, if there was one.
    pub locked_until: Option<DateTime<Utc>>,
    /// Lockouts in the current streak (each one within a window of the previous one's
    /// end); the next lockout lasts `wrong_code_window` × 2^`lockouts`.
    pub lockouts: u32,
}

/// Refuses every code of a locked-out contact, before any code is compared:
/// `LimitReached(ContactLockedOut)` up to and including the lockout's last instant.
pub fn judge_lockout(guard: &CodeGuard, now: DateTime<Utc>) -> Result<()> {
    match guard.locked_until {
        Some(until) if now <= until => Err(Error::LimitReached(Limit::ContactLockedOut {
            until,
            started: false,
        })),
        _ => Ok(()),
    }
}

/// The guard after one more wrong code at `now`, and the lockout it starts, if any.
///
/// Wrong codes are counted in windows of `wrong_code_window` opened by the first wrong
/// code after the previous window closed. The `max_wrong_codes_per_contact`-th wrong
/// code of a window locks the contact out for `wrong_code_window` × 2^streak (capped
/// at `max_lockout`), where the streak counts the lockouts that each began within one
/// window of the previous one's end; the count starts again after the lockout.
pub fn count_wrong_code(
    guard: &CodeGuard,
    now: DateTime<Utc>,
    policy: &AccessPolicy,
) -> (CodeGuard, Option<DateTime<Utc>>) {
    let window = policy.wrong_code_window;
    let open = guard.window_start.filter(|&start| now <= start + window);
    let (window_start, wrong_codes) = match open {
        Some(start) => (start, guard.wrong_codes.saturating_add(1)),
        None => (now, 1),
    };
    if wrong_codes < policy.max_wrong_codes_per_contact {
        let next = CodeGuard {
            wrong_codes,
            window_start: Some(window_start),
            ..*guard
        };
        return (next, None);
    }
    let streak = match guard.locked_until {
        Some(until) if now <= until + window => guard.lockouts,
        _ => 0,
    };
    let factor = 1i32.checked_shl(streak.min(30)).unwrap_or(i32::MAX);
    let length = window
        .checked_mul(factor)
        .map_or(policy.max_lockout, |d| d.min(policy.max_lockout));
    let until = now + length;
    let next = CodeGuard {
        wrong_codes: 0,
        window_start: None,
        locked_until: Some(until),
        lockouts: streak.saturating_add(1),
    };
    (next, Some(until))
}

/// What to do with a code whose email could not be sent, so the failed attempt does
/// not use up one of the verification's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// It was the verification's first code: delete the verification, so it does not
    /// stay reachable (its email is not counted either: every withdrawal takes its
    /// email back from the contact's email limit).
    DropVerification,
    /// Clear the live code and magic link and store this count of issued codes.
    Uncount {
        /// Codes issued, without the withdrawn one.
        codes_issued: u32,
    },
}

/// Decides how a code that was never delivered is taken back.
pub fn judge_withdrawal(codes_issued: u32) -> Withdrawal {
    if codes_issued <= 1 {
        Withdrawal::DropVerification
    } else {
        Withdrawal::Uncount {
            codes_issued: codes_issued - 1,
        }
    }
}

/// The live code of a verification, as stored.
#[derive(Debug, Clone)]
pub struct CodeState {
    /// Keyed hash of the code.
    pub code_hash: CodeHash,
    /// Last instant at which it is accepted.
    pub expires_at: DateTime<Utc>,
    /// Wrong tries so far.
    pub wrong_attempts: u32,
}

/// What a store must do with a presented code.
#[derive(Debug)]
pub enum CodeOutcome {
    /// Right code: create the session and end the verification.
    Accept,
    /// Wrong code: persist `wrong_attempts` (the code's) and `guard` (the contact's),
    /// commit, then return `error`.
    CountWrongTry {
        /// The new count of wrong tries of the code.
        wrong_attempts: u32,
        /// The contact's guard with this wrong code counted.
        guard: CodeGuard,
        /// What to tell the caller.
        error: Error,
    },
    /// Refuse without changing anything.
    Refuse(Error),
}

/// Judges a typed code against the verification's live code (`None` when the last
/// code was replaced or the verification has none), for a contact whose wrong codes
/// so far are `guard`. A locked-out contact is refused before anything is compared,
/// so even the right code fails; a wrong code counts for the code and the contact.
pub fn judge_code(
    live: Option<&CodeState>,
    guard: &CodeGuard,
    presented: &CodeHash,
    now: DateTime<Utc>,
    policy: &AccessPolicy,
) -> CodeOutcome {
    if let Err(e) = judge_lockout(guard, now) {
        return CodeOutcome::Refuse(e);
    }
    let max_wrong = policy.max_wrong_attempts;
    let Some(live) = live else {
        return CodeOutcome::Refuse(Error::Expired {
            entity: Entity::Code,
        });
    };
    if live.wrong_attempts >= max_wrong {
        return CodeOutcome::Refuse(Error::LimitReached(Limit::WrongCodeAttempts));
    }
    if now > live.expires_at {
        return CodeOutcome::Refuse(Error::Expired {
            entity: Entity::Code,
        });
    }
    if live.code_hash.matches(presented) {
        return CodeOutcome::Accept;
    }
    let wrong_attempts = live.wrong_attempts + 1;
    let (guard, lockout) = count_wrong_code(guard, now, policy);
    let error = if let Some(until) = lockout {
        Error::LimitReached(Limit::ContactLockedOut {
            until,
            started: true,
        })
    } else if wrong_attempts >= max_wrong {
        Error::LimitReached(Limit::WrongCodeAttempts)
    } else {
        Error::WrongCode {
            attempts_left: max_wrong - wrong_attempts,
        }
    };
    CodeOutcome::CountWrongTry {
        wrong_attempts,
        guard,
        error,
    }
}

/// Judges a magic link, whose life is its code's: it dies with the code (expiry,
/// replacement, or too many wrong tries of the code).
pub fn judge_magic_link(live: &CodeState, now: DateTime<Utc>, max_wrong: u32) -> Result<()> {
    if live.wrong_attempts >= max_wrong {
        return Err(Error::LimitReached(Limit::WrongCodeAttempts));
    }
    if now > live.expires_at {
        return Err(Error::Expired {
            entity: Entity::MagicLink,
        });
    }
    Ok(())
}

/// Whether another code may be issued in a verification that has issued `issued`.
pub fn judge_code_request(issued: u32, max_codes: u32) -> Result<()> {
    if issued >= max_codes {
        Err(Error::LimitReached(Limit::CodesPerVerification))
    } else {
        Ok(())
    }
}

/// A session as stored.
#[derive(Debug, Clone, Copy)]
pub struct SessionState {
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last refreshed (creation counts).
    pub refreshed_at: DateTime<Utc>,
    /// The request last noted with it (creation counts; a store that has no such time
    /// for an older session gives `refreshed_at`).
    pub last_seen_at: DateTime<Utc>,
    /// Last instant at which it is valid.
    pub expires_at: DateTime<Utc>,
    /// Whether the MSP revoked this session.
    pub revoked: bool,
    /// Whether the MSP revoked the session's contact: such a session is revoked too,
    /// whatever its own flag says (and re-inviting the contact does not revive it).
    pub contact_revoked: bool,
    /// Whether the client signed out.
    pub ended: bool,
}

/// Whether a session still lets its contact in at `now` (listed on the contact's
/// settings page): not revoked (nor its contact), not ended, not past its expiry.
/// The same facts [`judge_session`] refuses, read without a policy: a listing never
/// slides a session.
pub fn session_live(state: &SessionState, now: DateTime<Utc>) -> bool {
    !state.revoked && !state.contact_revoked && !state.ended && now <= state.expires_at
}

/// The longest user-agent text kept with a session (enough to tell a browser and a
/// system apart; the rest is dropped).
pub const MAX_SESSION_USER_AGENT: usize = 300;

/// The user agent as kept with a session: control characters dropped, cut at
/// [`MAX_SESSION_USER_AGENT`] characters; `None` when nothing is left.
pub fn session_user_agent(raw: Option<&str>) -> Option<String> {
    let kept: String = raw?
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_SESSION_USER_AGENT)
        .collect();
    let kept = kept.trim().to_owned();
    (!kept.is_empty()).then_some(kept)
}

/// A refresh to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    /// New `refreshed_at`.
    pub refreshed_at: DateTime<Utc>,
    /// New `expires_at`.
    pub expires_at: DateTime<Utc>,
}

/// What an authenticated request writes back to its session, in one write: the
/// request as the session's last seen (its time, and its user agent through
/// [`session_user_agent`]), and the sliding refresh when it moves the expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionNote {
    /// New `last_seen_at`.
    pub seen_at: DateTime<Utc>,
    /// The slide, unless the expiry would not move (the absolute cap reached).
    pub refresh: Option<Refresh>,
}

/// Judges a session at `now`: an error when it may not be used; otherwise
/// `Ok(Some(note))` when it is due for a write, `Ok(None)` when not.
///
/// A session is written at most once per `policy.refresh_after` (the last write,
/// noted or sliding, counts), so an active client costs a session write every few
/// minutes, not one per request: the settings page's "last seen" is exact to within
/// that interval, and the sliding expiry moves in steps of it.
pub fn judge_session(
    s: &SessionState,
    now: DateTime<Utc>,
    policy: &SessionPolicy,
) -> Result<Option<SessionNote>> {
    if s.revoked || s.contact_revoked {
        return Err(Error::Revoked {
            entity: Entity::Session,
        });
    }
    if s.ended || now > s.expires_at {
        return Err(Error::Expired {
            entity: Entity::Session,
        });
    }
    if now - s.refreshed_at.max(s.last_seen_at) < policy.refresh_after {
        return Ok(None);
    }
    let expires_at = session_expiry(s.created_at, now, policy);
    Ok(Some(SessionNote {
        seen_at: now,
        refresh: (expires_at > s.expires_at).then_some(Refresh {
            refreshed_at: now,
            expires_at,
        }),
    }))
}

/// When a session refreshed at `refreshed_at` expires: `ttl` later, but never past
/// the absolute cap from creation.
pub fn session_expiry(
    created_at: DateTime<Utc>,
    refreshed_at: DateTime<Utc>,
    policy: &SessionPolicy,
) -> DateTime<Utc> {
    let idle = refreshed_at + policy.ttl;
    match policy.absolute_max {
        Some(cap) => idle.min(created_at + cap),
        None => idle,
    }
}

/// The instant before which access-log entries are removed when kept for `retention`
/// at `now`: `now - retention`. An entry *at* the cutoff is kept (it is exactly
/// `retention` old), an entry one microsecond older is removed. A negative retention
/// counts as zero (the cutoff is never in the future), and a retention reaching past
/// the earliest representable instant keeps everything.
pub fn retention_cutoff(now: DateTime<Utc>, retention: chrono::TimeDelta) -> DateTime<Utc> {
    let retention = retention.max(chrono::TimeDelta::zero());
    now.checked_sub_signed(retention)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn retention_cutoff_is_exactly_the_retention_ago() {
        let days = TimeDelta::days(400);
        let cutoff = retention_cutoff(t0(), days);
        assert_eq!(cutoff, t0() - days);
        assert_eq!(
            t0() - cutoff,
            days,
            "an entry at the cutoff is exactly 400 days old"
        );
        assert_eq!(retention_cutoff(t0(), TimeDelta::zero()), t0());
        assert_eq!(
            retention_cutoff(t0(), TimeDelta::seconds(-5)),
            t0(),
            "never in the future"
        );
        assert_eq!(
            retention_cutoff(t0(), TimeDelta::MAX),
            DateTime::<Utc>::MIN_UTC,
            "a retention past the earliest instant keeps everything"
        );
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn code(hash: u8, wrong: u32) -> CodeState {
        CodeState {
            code_hash: CodeHash::from_bytes([hash; 32]),
            expires_at: t0(),
            wrong_attempts: wrong,
        }
    }

    #[test]
    fn code_valid_at_expiry_refused_one_second_later() {
        let right = CodeHash::from_bytes([1; 32]);
        assert!(matches!(
            judge_code(
                Some(&code(1, 0)),
                &CodeGuard::default(),
                &right,
                t0(),
                &pol()
            ),
            CodeOutcome::Accept
        ));
        let later = t0() + TimeDelta::seconds(1);
        assert!(matches!(
            judge_code(
                Some(&code(1, 0)),
                &CodeGuard::default(),
                &right,
                later,
                &pol()
            ),
            CodeOutcome::Refuse(Error::Expired { .. })
        ));
    }

    #[test]
    fn wrong_tries_count_down_then_kill_the_code() {
        let wrong = CodeHash::from_bytes([2; 32]);
        match judge_code(
            Some(&code(1, 0)),
            &CodeGuard::default(),
            &wrong,
            t0(),
            &pol(),
        ) {
            CodeOutcome::CountWrongTry {
                wrong_attempts: 1,
                error: Error::WrongCode { attempts_left: 4 },
                ..
            } => {}
            other => panic!("{other:?}"),
        }
        match judge_code(
            Some(&code(1, 4)),
            &CodeGuard::default(),
            &wrong,
            t0(),
            &pol(),
        ) {
            CodeOutcome::CountWrongTry {
                wrong_attempts: 5,
                error: Error::LimitReached(Limit::WrongCodeAttempts),
                ..
            } => {}
            other => panic!("{other:?}"),
        }
        let right = CodeHash::from_bytes([1; 32]);
        assert!(matches!(
            judge_code(
                Some(&code(1, 5)),
                &CodeGuard::default(),
                &right,
                t0(),
                &pol()
            ),
            CodeOutcome::Refuse(Error::LimitReached(Limit::WrongCodeAttempts))
        ));
        assert!(judge_magic_link(&code(1, 5), t0(), 5).is_err());
        assert!(matches!(
            judge_code(None, &CodeGuard::default(), &right, t0(), &pol()),
            CodeOutcome::Refuse(Error::Expired { .. })
        ));
    }

    #[test]
    fn code_requests_stop_at_the_limit() {
        assert!(judge_code_request(4, 5).is_ok());
        assert!(matches!(
            judge_code_request(5, 5),
            Err(Error::LimitReached(Limit::CodesPerVerification))
        ));
    }

    #[test]
    fn session_slides_only_when_due_and_respects_cap() {
        let policy = SessionPolicy::default();
        let s = SessionState {
            created_at: t0(),
            refreshed_at: t0(),
            last_seen_at: t0(),
            expires_at: t0() + policy.ttl,
            revoked: false,
            contact_revoked: false,
            ended: false,
        };
        assert_eq!(
            judge_session(&s, t0() + TimeDelta::minutes(4), &policy).unwrap(),
            None
        );
        let due = t0() + TimeDelta::minutes(5);
        assert_eq!(
            judge_session(&s, due, &policy).unwrap(),
            Some(SessionNote {
                seen_at: due,
                refresh: Some(Refresh {
                    refreshed_at: due,
                    expires_at: due + policy.ttl
                })
            })
        );
        // A request noted since counts as the last write: nothing is due until one
        // interval after it.
        let noted = SessionState {
            last_seen_at: due,
            ..s
        };
        assert_eq!(
            judge_session(&noted, due + TimeDelta::minutes(4), &policy).unwrap(),
            None
        );
        assert!(judge_session(&s, s.expires_at, &policy).is_ok());
        assert!(matches!(
            judge_session(&s, s.expires_at + TimeDelta::seconds(1), &policy),
            Err(Error::Expired { .. })
        ));
        let capped = SessionPolicy {
            absolute_max: Some(TimeDelta::hours(30)),
            ..policy
        };
        let late = t0() + TimeDelta::hours(20);
        let s2 = SessionState {
            refreshed_at: t0() + TimeDelta::hours(10),
            last_seen_at: t0() + TimeDelta::hours(10),
            expires_at: t0() + TimeDelta::hours(30),
            ..s
        };
        assert_eq!(
            judge_session(&s2, late, &capped).unwrap(),
            Some(SessionNote {
                seen_at: late,
                refresh: None
            }),
            "cap reached: the request is noted, the expiry does not slide"
        );
        assert!(matches!(
            judge_session(&SessionState { revoked: true, ..s }, t0(), &policy),
            Err(Error::Revoked { .. })
        ));
        assert!(matches!(
            judge_session(
                &SessionState {
                    contact_revoked: true,
                    ..s
                },
                t0(),
                &policy
            ),
            Err(Error::Revoked {
                entity: Entity::Session
            })
        ));
        assert!(matches!(
            judge_session(&SessionState { ended: true, ..s }, t0(), &policy),
            Err(Error::Expired { .. })
        ));
    }

    fn pol() -> AccessPolicy {
        AccessPolicy::default()
    }

    fn emails(max: u32) -> AccessPolicy {
        AccessPolicy {
            max_emails_per_contact: max,
            email_window: TimeDelta::hours(1),
            ..pol()
        }
    }

    #[test]
    fn emails_count_inclusively_within_the_window() {
        let now = t0();
        let edge = now - TimeDelta::hours(1);
        let outside = edge - TimeDelta::seconds(1);
        // Two in the window (one exactly on its edge) reach a limit of 2.
        assert!(matches!(
            judge_email(&[edge, now], now, &emails(2)),
            Err(Error::LimitReached(Limit::EmailsPerContact))
        ));
        // One second older no longer counts.
        assert!(judge_email(&[outside, now], now, &emails(2)).is_ok());
        assert!(judge_email(&[], now, &emails(1)).is_ok());
        assert!(matches!(
            judge_email(&[now], now, &emails(1)),
            Err(Error::LimitReached(Limit::EmailsPerContact))
        ));
        assert!(matches!(
            judge_email(&[], now, &emails(0)),
            Err(Error::LimitReached(Limit::EmailsPerContact))
        ));
    }

    #[test]
    fn a_verification_lives_its_ttl_then_expires_and_dies_with_its_invite() {
        let contact = Contact {
            id: crate::ids::ContactId::random(&crate::random::SeededRandom::new(1)),
            portal_id: crate::ids::PortalId::random(&crate::random::SeededRandom::new(2)),
            name: "Jane".to_owned(),
            email: crate::model::EmailAddress::parse("jane@example.com").unwrap(),
            revoked_at: None,
            time_zone: Default::default(),
            created_at: t0(),
            invited_by: None,
            awaiting_approval: false,
            role: None,
            guest: None,
            language: None,
        };
        let expires_at = verification_expiry(t0(), &pol());
        assert_eq!(expires_at, t0() + TimeDelta::minutes(150));
        let live = VerificationState {
            expires_at,
            ended: false,
        };
        assert!(judge_verification(&live, &contact, expires_at).is_ok());
        assert!(matches!(
            judge_verification(&live, &contact, expires_at + TimeDelta::seconds(1)),
            Err(Error::Expired {
                entity: Entity::Verification
            })
        ));
        let ended = VerificationState {
            ended: true,
            ..live
        };
        assert!(matches!(
            judge_verification(&ended, &contact, t0()),
            Err(Error::NotFound {
                entity: Entity::Verification
            })
        ));
        assert!(matches!(
            judge_link_verification(&ended, &contact, t0()),
            Err(Error::NotFound {
                entity: Entity::MagicLink
            })
        ));
        let revoked = Contact {
            revoked_at: Some(t0()),
            ..contact
        };
        assert!(matches!(
            judge_verification(&ended, &revoked, t0()),
            Err(Error::Revoked {
                entity: Entity::Contact
            })
        ));
    }

    /// Counts `n` wrong codes one second apart from `at`; returns the guard and the
    /// last lockout started.
    fn wrongs(mut g: CodeGuard, at: DateTime<Utc>, n: i64) -> (CodeGuard, Option<DateTime<Utc>>) {
        let mut lockout = None;
        for i in 0..n {
            let (next, l) = count_wrong_code(&g, at + TimeDelta::seconds(i), &pol());
            g = next;
            lockout = l.or(lockout);
        }
        (g, lockout)
    }

    #[test]
    fn the_twentieth_wrong_code_of_a_day_locks_out_for_a_day() {
        let (g, lockout) = wrongs(CodeGuard::default(), t0(), 19);
        assert_eq!((g.wrong_codes, lockout), (19, None));
        assert!(judge_lockout(&g, t0() + TimeDelta::minutes(1)).is_ok());
        let at = t0() + TimeDelta::seconds(19);
        let (g, lockout) = count_wrong_code(&g, at, &pol());
        let until = at + TimeDelta::days(1);
        assert_eq!(lockout, Some(until));
        assert_eq!(g.lockouts, 1);
        assert!(matches!(
            judge_lockout(&g, until),
            Err(Error::LimitReached(Limit::ContactLockedOut { until: u, started: false })) if u == until
        ));
        assert!(judge_lockout(&g, until + TimeDelta::seconds(1)).is_ok());
        // A locked-out contact's right code is refused before it is compared.
        let right = CodeHash::from_bytes([1; 32]);
        let live = CodeState {
            expires_at: until,
            ..code(1, 0)
        };
        assert!(matches!(
            judge_code(Some(&live), &g, &right, at, &pol()),
            CodeOutcome::Refuse(Error::LimitReached(Limit::ContactLockedOut { .. }))
        ));
    }

    #[test]
    fn a_window_that_passed_starts_the_count_again() {
        let (g, _) = wrongs(CodeGuard::default(), t0(), 19);
        let next_day = t0() + TimeDelta::days(1) + TimeDelta::seconds(1);
        let (g, lockout) = count_wrong_code(&g, next_day, &pol());
        assert_eq!(
            (g.wrong_codes, g.window_start, lockout),
            (1, Some(next_day), None)
        );
        // Exactly a window after its start, the window still counts.
        let (g, _) = wrongs(CodeGuard::default(), t0(), 19);
        let (_, lockout) = count_wrong_code(&g, t0() + TimeDelta::days(1), &pol());
        assert!(lockout.is_some());
    }

    #[test]
    fn lockouts_double_while_they_follow_each_other_then_reset() {
        let day = TimeDelta::days(1);
        let (g, first) = wrongs(CodeGuard::default(), t0(), 20);
        let first = first.unwrap();
        assert_eq!(first, t0() + TimeDelta::seconds(19) + day);
        // Hit again right after it ends: two days.
        let after = first + TimeDelta::seconds(1);
        let (g, second) = wrongs(g, after, 20);
        let second = second.unwrap();
        assert_eq!(second, after + TimeDelta::seconds(19) + day * 2);
        assert_eq!(g.lockouts, 2);
        // Then four days.
        let (g, third) = wrongs(g, second + TimeDelta::seconds(1), 20);
        assert_eq!(third.unwrap(), second + TimeDelta::seconds(20) + day * 4);
        // More than a window after a lockout ends, the streak starts again.
        let much_later = third.unwrap() + day + TimeDelta::seconds(1);
        let (g, fourth) = wrongs(g, much_later, 20);
        assert_eq!(fourth.unwrap(), much_later + TimeDelta::seconds(19) + day);
        assert_eq!(g.lockouts, 1);
        // Capped at max_lockout.
        let long = CodeGuard { lockouts: 40, ..g };
        let (_, capped) = wrongs(long, fourth.unwrap(), 20);
        assert_eq!(
            capped.unwrap(),
            fourth.unwrap() + TimeDelta::seconds(19) + pol().max_lockout
        );
    }

    #[test]
    fn withdrawing_the_first_code_drops_the_verification() {
        assert_eq!(judge_withdrawal(1), Withdrawal::DropVerification);
        assert_eq!(judge_withdrawal(0), Withdrawal::DropVerification);
        assert_eq!(judge_withdrawal(2), Withdrawal::Uncount { codes_issued: 1 });
        assert_eq!(judge_withdrawal(5), Withdrawal::Uncount { codes_issued: 4 });
    }
}
