//! The access decisions, as pure functions over stored state.
//!
//! Boundaries: a thing that expires at `T` is accepted at `T` and refused at any
//! later instant (`now > expires_at`). Stores call these inside their transaction and
//! apply the outcome, so every adapter enforces identical rules.

use chrono::{DateTime, Utc};

use super::SessionPolicy;
use crate::error::{Entity, Error, Limit, Result};
use crate::model::Contact;
use crate::secret::CodeHash;
use crate::store::VerificationLimits;

/// Refuses every step of the access flow for a contact the MSP revoked.
pub fn judge_contact(contact: &Contact) -> Result<()> {
    if contact.revoked_at.is_some() {
        return Err(Error::revoked(Entity::Contact));
    }
    Ok(())
}

/// Judges an invite found by its hash: a revoked contact answers `Revoked(Contact)`
/// (whatever the invite says), a revoked invite `Revoked(Invite)`.
pub fn judge_invite(invite_revoked: bool, contact: &Contact) -> Result<()> {
    judge_contact(contact)?;
    if invite_revoked {
        return Err(Error::revoked(Entity::Invite));
    }
    Ok(())
}

/// Whether a contact may start another verification at `issued_at`, given when its
/// most recent verifications started (a store may pass only the newest
/// `limits.max_per_contact` of them, in any order). A start exactly `window` before
/// `issued_at` still counts, like every boundary here.
pub fn judge_verification_start(
    recent_starts: &[DateTime<Utc>],
    issued_at: DateTime<Utc>,
    limits: VerificationLimits,
) -> Result<()> {
    let since = issued_at - limits.window;
    let in_window = recent_starts.iter().filter(|&&at| at >= since).count();
    if u32::try_from(in_window).unwrap_or(u32::MAX) >= limits.max_per_contact {
        return Err(Error::LimitReached(Limit::VerificationsPerContact));
    }
    Ok(())
}

/// What to do with a code whose email could not be sent, so the failed attempt does
/// not use up one of the verification's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// It was the verification's first code: delete the verification, so it neither
    /// counts towards the contact's verification limit nor stays reachable.
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
    /// Wrong code: persist `wrong_attempts`, commit, then return `error`.
    CountWrongTry {
        /// The new count of wrong tries.
        wrong_attempts: u32,
        /// What to tell the caller.
        error: Error,
    },
    /// Refuse without changing anything.
    Refuse(Error),
}

/// Judges a typed code against the verification's live code (`None` when the last
/// code was replaced or the verification has none).
pub fn judge_code(
    live: Option<&CodeState>,
    presented: &CodeHash,
    now: DateTime<Utc>,
    max_wrong: u32,
) -> CodeOutcome {
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
    let error = if wrong_attempts >= max_wrong {
        Error::LimitReached(Limit::WrongCodeAttempts)
    } else {
        Error::WrongCode {
            attempts_left: max_wrong - wrong_attempts,
        }
    };
    CodeOutcome::CountWrongTry {
        wrong_attempts,
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

/// A refresh to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    /// New `refreshed_at`.
    pub refreshed_at: DateTime<Utc>,
    /// New `expires_at`.
    pub expires_at: DateTime<Utc>,
}

/// Judges a session at `now`: `Ok(Some(refresh))` when it is valid and due for a
/// sliding refresh, `Ok(None)` when valid and not due, an error otherwise.
pub fn judge_session(
    s: &SessionState,
    now: DateTime<Utc>,
    policy: &SessionPolicy,
) -> Result<Option<Refresh>> {
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
    if now - s.refreshed_at < policy.refresh_after {
        return Ok(None);
    }
    let expires_at = session_expiry(s.created_at, now, policy);
    if expires_at <= s.expires_at {
        return Ok(None);
    }
    Ok(Some(Refresh {
        refreshed_at: now,
        expires_at,
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

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

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
            judge_code(Some(&code(1, 0)), &right, t0(), 5),
            CodeOutcome::Accept
        ));
        let later = t0() + TimeDelta::seconds(1);
        assert!(matches!(
            judge_code(Some(&code(1, 0)), &right, later, 5),
            CodeOutcome::Refuse(Error::Expired { .. })
        ));
    }

    #[test]
    fn wrong_tries_count_down_then_kill_the_code() {
        let wrong = CodeHash::from_bytes([2; 32]);
        match judge_code(Some(&code(1, 0)), &wrong, t0(), 5) {
            CodeOutcome::CountWrongTry {
                wrong_attempts: 1,
                error: Error::WrongCode { attempts_left: 4 },
            } => {}
            other => panic!("{other:?}"),
        }
        match judge_code(Some(&code(1, 4)), &wrong, t0(), 5) {
            CodeOutcome::CountWrongTry {
                wrong_attempts: 5,
                error: Error::LimitReached(Limit::WrongCodeAttempts),
            } => {}
            other => panic!("{other:?}"),
        }
        let right = CodeHash::from_bytes([1; 32]);
        assert!(matches!(
            judge_code(Some(&code(1, 5)), &right, t0(), 5),
            CodeOutcome::Refuse(Error::LimitReached(Limit::WrongCodeAttempts))
        ));
        assert!(judge_magic_link(&code(1, 5), t0(), 5).is_err());
        assert!(matches!(
            judge_code(None, &right, t0(), 5),
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
            Some(Refresh {
                refreshed_at: due,
                expires_at: due + policy.ttl
            })
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
            expires_at: t0() + TimeDelta::hours(30),
            ..s
        };
        assert_eq!(
            judge_session(&s2, late, &capped).unwrap(),
            None,
            "cap reached: no further slide"
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

    fn limits(max: u32) -> VerificationLimits {
        VerificationLimits {
            max_per_contact: max,
            window: TimeDelta::hours(1),
        }
    }

    #[test]
    fn verification_starts_count_inclusively_within_the_window() {
        let now = t0();
        let edge = now - TimeDelta::hours(1);
        let outside = edge - TimeDelta::seconds(1);
        // Two in the window (one exactly on its edge) reach a limit of 2.
        assert!(matches!(
            judge_verification_start(&[edge, now], now, limits(2)),
            Err(Error::LimitReached(Limit::VerificationsPerContact))
        ));
        // One second older no longer counts.
        assert!(judge_verification_start(&[outside, now], now, limits(2)).is_ok());
        assert!(judge_verification_start(&[], now, limits(1)).is_ok());
        assert!(matches!(
            judge_verification_start(&[now], now, limits(1)),
            Err(Error::LimitReached(Limit::VerificationsPerContact))
        ));
        assert!(matches!(
            judge_verification_start(&[], now, limits(0)),
            Err(Error::LimitReached(Limit::VerificationsPerContact))
        ));
    }

    #[test]
    fn withdrawing_the_first_code_drops_the_verification() {
        assert_eq!(judge_withdrawal(1), Withdrawal::DropVerification);
        assert_eq!(judge_withdrawal(0), Withdrawal::DropVerification);
        assert_eq!(judge_withdrawal(2), Withdrawal::Uncount { codes_issued: 1 });
        assert_eq!(judge_withdrawal(5), Withdrawal::Uncount { codes_issued: 4 });
    }
}
