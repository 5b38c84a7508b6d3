//! The access flow's guards against abuse: a verification lives no longer than its
//! invite nor than its own lifetime, every verification email counts towards one
//! per-contact limit, and wrong codes are capped per contact with a lockout.

use std::sync::Arc;

use super::race::race;
use super::support::{
    assert_err, code_hash, emails, hours, invite, limits, mins, new_code, new_session, no_slide,
    secs, start, t0, token, world,
};
use crate::access::AccessPolicy;
use crate::error::{Entity, Error, Limit};
use crate::secret::TokenHash;
use crate::store::{RequestInfo, Store};

async fn assert_no_session(store: &dyn Store, session: &TokenHash) {
    assert_err!(
        store
            .authenticate(session, t0(), &no_slide(), &RequestInfo::default())
            .await,
        Error::NotFound {
            entity: Entity::Session
        }
    );
}

/// How an invite dies in [`invite_death_ends_verifications`].
#[derive(Debug, Clone, Copy)]
enum Death {
    Reissued,
    InviteRevoked,
    ContactRevokedThenReinvited,
}

/// `issue_invite`, `revoke_invite` and `revoke_contact` (then a re-invite) each end
/// every unfinished verification of the contact: its view, new codes and codes are
/// `NotFound(Verification)`, its magic link `NotFound(MagicLink)`, and no session is
/// created; a verification started from the new invite works.
pub async fn invite_death_ends_verifications(store: &dyn Store) {
    for death in [
        Death::Reissued,
        Death::InviteRevoked,
        Death::ContactRevokedThenReinvited,
    ] {
        let w = world(store).await;
        let inv = invite(store, w.contact.id, t0()).await;
        let s = start(store, &inv, t0()).await;
        let second = new_code(t0() + mins(1));
        store
            .issue_code(&s.verification, &second, &limits())
            .await
            .unwrap();
        let at = t0() + mins(2);
        match death {
            Death::Reissued => {
                invite(store, w.contact.id, at).await;
            }
            Death::InviteRevoked => store.revoke_invite(w.contact.id, at, None).await.unwrap(),
            Death::ContactRevokedThenReinvited => {
                store.revoke_contact(w.contact.id, at, None).await.unwrap();
                invite(store, w.contact.id, at).await;
            }
        }
        let at = at + secs(1);
        let ended = |what: &str, r: Result<(), Error>| match r {
            Err(Error::NotFound {
                entity: Entity::Verification,
            }) => {}
            other => panic!(
                "{death:?}: {what} of a verification of the dead invite: expected \
                 NotFound(Verification), got {other:?}"
            ),
        };
        ended(
            "verification",
            store.verification(&s.verification, at).await.map(|_| ()),
        );
        ended(
            "issue_code",
            store
                .issue_code(&s.verification, &new_code(at), &limits())
                .await
                .map(|_| ()),
        );
        let lost = new_session(at);
        ended(
            "redeem_code (the right code)",
            store
                .redeem_code(&s.verification, &second.code_hash, at, &limits(), &lost)
                .await
                .map(|_| ()),
        );
        for magic in [second.magic_hash, s.code.magic_hash] {
            assert_err!(
                store
                    .magic_link(&magic, at, limits().max_wrong_attempts)
                    .await,
                Error::NotFound {
                    entity: Entity::MagicLink
                }
            );
            assert_err!(
                store
                    .redeem_magic_link(&magic, at, limits().max_wrong_attempts, &lost)
                    .await,
                Error::NotFound {
                    entity: Entity::MagicLink
                }
            );
        }
        assert_no_session(store, &lost.token_hash).await;
        if matches!(death, Death::InviteRevoked) {
            invite(store, w.contact.id, at).await;
        }
        // The contact's current invite starts a verification that works.
        let current = invite(store, w.contact.id, at).await;
        let fresh = start(store, &current, at).await;
        store
            .redeem_code(
                &fresh.verification,
                &fresh.code.code_hash,
                at,
                &limits(),
                &new_session(at),
            )
            .await
            .unwrap_or_else(|e| panic!("{death:?}: a fresh verification failed: {e:?}"));
    }
}

/// A verification lives `verification_ttl` from its start (fixed by the policy given
/// to `start_verification`), whatever its codes say: at its last instant it works,
/// one second later every step is `Expired(Verification)` and nothing is written.
pub async fn verification_lifetime(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let policy = AccessPolicy {
        verification_ttl: hours(2),
        ..limits()
    };
    let v = token();
    store
        .start_verification(&inv, &v, &new_code(t0()), &policy)
        .await
        .unwrap();
    // A late code outlives its verification.
    let late = new_code(t0() + hours(2) - mins(10));
    store.issue_code(&v, &late, &limits()).await.unwrap();
    let end = t0() + hours(2);
    store.verification(&v, end).await.unwrap();
    store
        .magic_link(&late.magic_hash, end, limits().max_wrong_attempts)
        .await
        .unwrap();
    let after = end + secs(1);
    let expired = |what: &str, r: Result<(), Error>| match r {
        Err(Error::Expired {
            entity: Entity::Verification,
        }) => {}
        other => panic!(
            "{what} one second after the verification's lifetime: expected \
             Expired(Verification), got {other:?}"
        ),
    };
    expired(
        "verification",
        store.verification(&v, after).await.map(|_| ()),
    );
    let refused = new_code(after);
    expired(
        "issue_code",
        store.issue_code(&v, &refused, &limits()).await.map(|_| ()),
    );
    let lost = new_session(after);
    expired(
        "redeem_code (the right code)",
        store
            .redeem_code(&v, &late.code_hash, after, &limits(), &lost)
            .await
            .map(|_| ()),
    );
    expired(
        "magic_link",
        store
            .magic_link(&late.magic_hash, after, limits().max_wrong_attempts)
            .await
            .map(|_| ()),
    );
    expired(
        "redeem_magic_link",
        store
            .redeem_magic_link(&late.magic_hash, after, limits().max_wrong_attempts, &lost)
            .await
            .map(|_| ()),
    );
    assert_no_session(store, &lost.token_hash).await;
    // Nothing was written: the late code still signs in at the last instant.
    assert_eq!(store.verification(&v, end).await.unwrap().codes_issued, 2);
    store
        .redeem_code(&v, &late.code_hash, end, &limits(), &new_session(end))
        .await
        .unwrap();
}

/// Starts and `issue_code` share one limit on the emails sent to a contact within
/// `email_window` (inclusive, like every boundary); over it, both are
/// `LimitReached(EmailsPerContact)` and write nothing; a withdrawn code's email no
/// longer counts; other contacts are not affected.
pub async fn email_limit_per_contact(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let three = emails(3);
    let v1 = token();
    store
        .start_verification(&inv, &v1, &new_code(t0()), &three)
        .await
        .unwrap();
    store
        .issue_code(&v1, &new_code(t0() + mins(1)), &three)
        .await
        .unwrap();
    let v2 = token();
    store
        .start_verification(&inv, &v2, &new_code(t0() + mins(2)), &three)
        .await
        .unwrap();
    let over = |at| new_code(at);
    let refused = token();
    assert_err!(
        store
            .start_verification(&inv, &refused, &over(t0() + mins(3)), &three)
            .await,
        Error::LimitReached(Limit::EmailsPerContact)
    );
    assert_err!(
        store.verification(&refused, t0() + mins(3)).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    // A resend counts like a start (four emails would be over the limit).
    let resend = over(t0() + hours(1));
    assert_err!(
        store.issue_code(&v2, &resend, &three).await,
        Error::LimitReached(Limit::EmailsPerContact)
    );
    let view = store.verification(&v2, t0() + hours(1)).await.unwrap();
    assert_eq!(view.codes_issued, 1, "a refused resend wrote something");
    assert_err!(
        store
            .magic_link(
                &resend.magic_hash,
                t0() + hours(1),
                limits().max_wrong_attempts
            )
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    // Another contact has its own count.
    let bob = super::support::another_contact(store, &w, "bob@client.example").await;
    let bob_inv = invite(store, bob.id, t0()).await;
    store
        .start_verification(&bob_inv, &token(), &new_code(t0() + mins(3)), &three)
        .await
        .unwrap();
    // One second after the window of the first email, one more may go.
    let later = t0() + hours(1) + secs(1);
    let third = new_code(later);
    store.issue_code(&v2, &third, &three).await.unwrap();
    assert_err!(
        store.issue_code(&v2, &new_code(later), &three).await,
        Error::LimitReached(Limit::EmailsPerContact)
    );
    // Withdrawn (undelivered), it no longer counts.
    store.withdraw_code(&v2, &third.magic_hash).await.unwrap();
    store
        .issue_code(&v2, &new_code(later), &three)
        .await
        .unwrap();
    assert_err!(
        store
            .start_verification(&inv, &token(), &new_code(later), &three)
            .await,
        Error::LimitReached(Limit::EmailsPerContact)
    );
}

/// The suite's policy with a cap of `cap` wrong codes per contact per day (and codes
/// that take 100 wrong tries before they die, so only the contact's cap bites).
fn capped(cap: u32) -> AccessPolicy {
    AccessPolicy {
        max_wrong_codes_per_contact: cap,
        max_wrong_attempts: 100,
        ..limits()
    }
}

/// Wrong codes count per contact across its verifications: the `cap`-th wrong code
/// of a window is `LimitReached(ContactLockedOut)` with the lockout's last instant;
/// until then (inclusive) every code, right or wrong, in any verification of the
/// contact, is refused with it before being compared, and nothing is counted or
/// created; magic links still work; other contacts are not affected; a second later
/// the right code signs in.
pub async fn wrong_codes_per_contact(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let policy = capped(6);
    let lost = new_session(t0());
    let v1 = start(store, &inv, t0()).await;
    for left in [99, 98, 97, 96] {
        assert_err!(
            store
                .redeem_code(&v1.verification, &code_hash(), t0(), &policy, &lost)
                .await,
            Error::WrongCode { attempts_left } if attempts_left == left
        );
    }
    let at = t0() + mins(1);
    let v2 = start(store, &inv, at).await;
    assert_err!(
        store
            .redeem_code(&v2.verification, &code_hash(), at, &policy, &lost)
            .await,
        Error::WrongCode { attempts_left: 99 }
    );
    let until = at + policy.wrong_code_window;
    assert_err!(
        store
            .redeem_code(&v2.verification, &code_hash(), at, &policy, &lost)
            .await,
        Error::LimitReached(Limit::ContactLockedOut { until: u, started: true }) if u == until
    );
    for (code, when) in [
        (v2.code.code_hash, at + mins(1)),
        (code_hash(), at + mins(1)),
        (v2.code.code_hash, until),
    ] {
        assert_err!(
            store
                .redeem_code(&v2.verification, &code, when, &policy, &lost)
                .await,
            Error::LimitReached(Limit::ContactLockedOut { until: u, started: false }) if u == until
        );
    }
    assert_no_session(store, &lost.token_hash).await;
    store
        .magic_link(&v2.code.magic_hash, at + mins(1), policy.max_wrong_attempts)
        .await
        .unwrap();
    // Another contact is not locked out.
    let bob = super::support::another_contact(store, &w, "bob@client.example").await;
    let bob_inv = invite(store, bob.id, at).await;
    let b = start(store, &bob_inv, at).await;
    store
        .redeem_code(
            &b.verification,
            &b.code.code_hash,
            at,
            &policy,
            &new_session(at),
        )
        .await
        .unwrap();
    // After the lockout, a fresh code of a fresh verification signs in; the refused
    // tries were not counted (one more wrong code is an ordinary wrong try).
    let after = until + secs(1);
    let v3 = start(store, &inv, after).await;
    assert_err!(
        store
            .redeem_code(&v3.verification, &code_hash(), after, &policy, &lost)
            .await,
        Error::WrongCode { attempts_left: 99 }
    );
    store
        .redeem_code(
            &v3.verification,
            &v3.code.code_hash,
            after,
            &policy,
            &new_session(after),
        )
        .await
        .unwrap();
}

/// Concurrent wrong codes each count towards the contact's cap, with the tries of
/// the contact's earlier verification: with a cap of 6 and 2 wrong codes already
/// counted in another verification, 8 concurrent wrong codes give exactly 3
/// `WrongCode` and 5 `LimitReached(ContactLockedOut)`, exactly one of which started
/// the lockout (so the MSP is told once); the right code is then refused.
pub async fn concurrent_wrong_codes_per_contact(store: Arc<dyn Store>) {
    let policy = capped(6);
    for round in 0..3 {
        let w = world(store.as_ref()).await;
        let inv = invite(store.as_ref(), w.contact.id, t0()).await;
        let at = t0() + mins(round);
        let v1 = start(store.as_ref(), &inv, at).await;
        let lost = new_session(at);
        for _ in 0..2 {
            assert_err!(
                store
                    .redeem_code(&v1.verification, &code_hash(), at, &policy, &lost)
                    .await,
                Error::WrongCode { .. }
            );
        }
        let v2 = start(store.as_ref(), &inv, at).await;
        let outcomes = race(8, |_| {
            let (store, v, lost) = (store.clone(), v2.verification, lost.clone());
            async move {
                store
                    .redeem_code(&v, &code_hash(), at, &policy, &lost)
                    .await
            }
        })
        .await;
        let (mut wrong, mut locked, mut started) = (0, 0, 0);
        for r in outcomes {
            match r {
                Err(Error::WrongCode { .. }) => wrong += 1,
                Err(Error::LimitReached(Limit::ContactLockedOut { started: s, .. })) => {
                    locked += 1;
                    started += u32::from(s);
                }
                other => panic!("round {round}: a concurrent wrong code answered {other:?}"),
            }
        }
        assert_eq!(
            (wrong, locked),
            (3, 5),
            "round {round}: concurrent wrong codes must each count towards the contact's cap"
        );
        assert_eq!(
            started, 1,
            "round {round}: exactly one concurrent wrong code starts the lockout"
        );
        assert_err!(
            store
                .redeem_code(&v2.verification, &v2.code.code_hash, at, &policy, &lost)
                .await,
            Error::LimitReached(Limit::ContactLockedOut { .. })
        );
        assert_no_session(store.as_ref(), &lost.token_hash).await;
    }
}

/// Concurrent starts and resends at the email limit let exactly the limit through:
/// with a limit of 3 and one email sent, 3 resends and 3 starts at once give exactly
/// 2 successes, the others `LimitReached(EmailsPerContact)`.
pub async fn concurrent_emails_at_the_limit(store: Arc<dyn Store>) {
    let three = emails(3);
    for round in 0..3 {
        let w = world(store.as_ref()).await;
        let inv = invite(store.as_ref(), w.contact.id, t0()).await;
        let at = t0() + mins(round);
        let v = token();
        store
            .start_verification(&inv, &v, &new_code(at), &three)
            .await
            .unwrap();
        let outcomes = race(6, |i| {
            let store = store.clone();
            async move {
                if i % 2 == 0 {
                    store
                        .issue_code(&v, &new_code(at), &three)
                        .await
                        .map(|_| ())
                } else {
                    store
                        .start_verification(&inv, &token(), &new_code(at), &three)
                        .await
                        .map(|_| ())
                }
            }
        })
        .await;
        let mut sent = 0;
        for r in outcomes {
            match r {
                Ok(()) => sent += 1,
                Err(Error::LimitReached(Limit::EmailsPerContact)) => {}
                other => panic!("round {round}: a concurrent send answered {other:?}"),
            }
        }
        assert_eq!(
            sent, 2,
            "round {round}: exactly the limit of concurrent emails may be sent"
        );
    }
}
