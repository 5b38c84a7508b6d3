//! [`crate::store::AccessStore`]: invites, verifications, codes and magic links.

use std::sync::Arc;

use super::support::{
    MAX_CODES, MAX_WRONG, Started, another_contact, assert_err, code_hash, code_ttl, codes,
    contact_id, emails, hours, invite, limits, mins, new_code, new_session, no_slide, race_all,
    secs, signed_in, start, t0, token, world,
};
use crate::error::{Entity, Error, Limit};
use crate::store::{ContactInPortal, RequestInfo, Store};

/// Invites: issue, open (changes nothing), re-issue kills the old hash (`NotFound`),
/// `revoke_invite` makes it `Revoked`, `revoke_contact` too, and issuing again after
/// a revocation reinstates the contact.
pub async fn invites(store: &dyn Store) {
    let w = world(store).await;
    let expected = ContactInPortal {
        contact: w.contact.clone(),
        portal: w.portal.clone(),
    };
    let inv1 = token();
    let target = store
        .issue_invite(w.contact.id, &inv1, t0(), &[], None)
        .await
        .unwrap();
    assert_eq!(target, expected);
    assert_eq!(
        store
            .open_invite(&inv1, super::support::t0())
            .await
            .unwrap(),
        expected
    );
    assert_eq!(
        store
            .open_invite(&inv1, super::support::t0())
            .await
            .unwrap(),
        expected,
        "opening twice works"
    );
    assert_eq!(store.contact(w.contact.id).await.unwrap(), w.contact);

    let inv2 = invite(store, w.contact.id, t0() + mins(1)).await;
    assert_err!(
        store.open_invite(&inv1, super::support::t0()).await,
        Error::NotFound {
            entity: Entity::Invite
        }
    );
    assert_eq!(
        store
            .open_invite(&inv2, super::support::t0())
            .await
            .unwrap(),
        expected
    );
    assert_err!(
        store
            .start_verification(&inv1, &token(), &new_code(t0() + mins(1)), &limits())
            .await,
        Error::NotFound {
            entity: Entity::Invite
        }
    );

    assert_err!(
        store.open_invite(&token(), super::support::t0()).await,
        Error::NotFound {
            entity: Entity::Invite
        }
    );
    assert_err!(
        store
            .issue_invite(contact_id(), &token(), t0(), &[], None)
            .await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store.revoke_invite(contact_id(), t0(), None).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );

    store
        .revoke_invite(w.contact.id, t0() + mins(2), None)
        .await
        .unwrap();
    assert_err!(
        store.open_invite(&inv2, super::support::t0()).await,
        Error::Revoked {
            entity: Entity::Invite
        }
    );
    let refused = token();
    assert_err!(
        store
            .start_verification(&inv2, &refused, &new_code(t0() + mins(2)), &limits())
            .await,
        Error::Revoked {
            entity: Entity::Invite
        }
    );
    assert_err!(
        store.verification(&refused, t0()).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );

    let inv3 = invite(store, w.contact.id, t0() + mins(3)).await;
    assert_eq!(
        store
            .open_invite(&inv3, super::support::t0())
            .await
            .unwrap(),
        expected
    );

    store
        .revoke_contact(w.contact.id, t0() + mins(4), None)
        .await
        .unwrap();
    assert_err!(
        store.open_invite(&inv3, super::support::t0()).await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_eq!(
        store.contact(w.contact.id).await.unwrap().revoked_at,
        Some(t0() + mins(4))
    );
    assert_err!(
        store
            .start_verification(&inv3, &token(), &new_code(t0() + mins(4)), &limits())
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );

    let inv4 = token();
    let reinstated = store
        .issue_invite(w.contact.id, &inv4, t0() + mins(5), &[], None)
        .await
        .unwrap();
    assert_eq!(reinstated, expected, "re-issuing clears the revocation");
    assert_eq!(store.contact(w.contact.id).await.unwrap().revoked_at, None);
    assert_err!(
        store.open_invite(&inv3, super::support::t0()).await,
        Error::NotFound {
            entity: Entity::Invite
        }
    );
    assert_eq!(
        store
            .open_invite(&inv4, super::support::t0())
            .await
            .unwrap(),
        expected
    );
    start(store, &inv4, t0() + mins(5)).await;
}

/// `revoke_invite` kills the invite but not the contact's sessions.
pub async fn revoke_invite_keeps_sessions(store: &dyn Store) {
    let w = world(store).await;
    let (session, _) = signed_in(store, w.contact.id, t0()).await;
    store
        .revoke_invite(w.contact.id, t0() + mins(1), None)
        .await
        .unwrap();
    let ctx = store
        .authenticate(
            &session,
            t0() + mins(2),
            &no_slide(),
            &RequestInfo::default(),
        )
        .await
        .unwrap();
    assert_eq!(ctx.contact_id, w.contact.id);
}

/// `start_verification` returns the target and creates the verification with its
/// first code; a second verification kills the first one's code and magic link.
pub async fn start_verification(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let v1 = token();
    let code1 = new_code(t0());
    let target = store
        .start_verification(&inv, &v1, &code1, &limits())
        .await
        .unwrap();
    assert_eq!(target.contact, w.contact);
    assert_eq!(target.portal, w.portal);
    let view = store.verification(&v1, t0()).await.unwrap();
    assert_eq!(view.target, target);
    assert_eq!(view.codes_issued, 1);
    assert_eq!(view.code_expires_at, Some(code1.expires_at));
    assert_eq!(
        store
            .magic_link(&code1.magic_hash, t0(), MAX_WRONG)
            .await
            .unwrap(),
        target
    );

    assert_err!(
        store.verification(&token(), t0()).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert_err!(
        store
            .start_verification(&token(), &token(), &new_code(t0()), &limits())
            .await,
        Error::NotFound {
            entity: Entity::Invite
        }
    );

    // A second verification of the same contact kills the first one's code and link.
    let s2 = start(store, &inv, t0() + mins(1)).await;
    let at = t0() + mins(2);
    assert_err!(
        store.magic_link(&code1.magic_hash, at, MAX_WRONG).await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    let lost = new_session(at);
    assert_err!(
        store
            .redeem_magic_link(&code1.magic_hash, at, MAX_WRONG, &lost)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store
            .redeem_code(&v1, &code1.code_hash, at, &limits(), &lost)
            .await,
        Error::Expired {
            entity: Entity::Code
        }
    );
    assert_session_missing(store, &lost.token_hash).await;
    assert_eq!(
        store.verification(&v1, t0()).await.unwrap().code_expires_at,
        None
    );

    let ctx = store
        .redeem_code(
            &s2.verification,
            &s2.code.code_hash,
            at,
            &limits(),
            &new_session(at),
        )
        .await
        .unwrap();
    assert_eq!(ctx.contact_id, w.contact.id);
}

/// The per-contact limit: at most `max_emails_per_contact` verification emails (here: starts) within
/// `window` before the new code's `issued_at` (a start exactly `window` earlier still
/// counts); a refused start creates nothing and kills nothing; other contacts are not
/// affected.
pub async fn verification_limit_per_contact(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let limits = emails(3);
    let go = async |at, v: &crate::secret::TokenHash| {
        store
            .start_verification(&inv, v, &new_code(at), &limits)
            .await
    };
    go(t0(), &token()).await.unwrap();
    go(t0() + mins(10), &token()).await.unwrap();
    let third = token();
    go(t0() + mins(20), &third).await.unwrap();

    let refused = token();
    assert_err!(
        go(t0() + mins(30), &refused).await,
        Error::LimitReached(Limit::EmailsPerContact)
    );
    assert_err!(
        store.verification(&refused, t0()).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert!(
        store
            .verification(&third, t0())
            .await
            .unwrap()
            .code_expires_at
            .is_some(),
        "a refused start kills no code"
    );
    assert_err!(
        go(t0() + hours(1), &token()).await,
        Error::LimitReached(Limit::EmailsPerContact)
    );
    go(t0() + hours(1) + secs(1), &token()).await.unwrap();

    let other = another_contact(store, &w, "other@client.example").await;
    let other_inv = invite(store, other.id, t0()).await;
    store
        .start_verification(&other_inv, &token(), &new_code(t0() + mins(30)), &limits)
        .await
        .unwrap();
}

/// Redeeming the right code creates the session and ends the verification: the
/// verification is `NotFound`, its code and magic link stop working.
pub async fn code_redeem_creates_session(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let s = start(store, &inv, t0()).await;
    let at = t0() + mins(1);
    let session = new_session(at);
    let ctx = store
        .redeem_code(&s.verification, &s.code.code_hash, at, &limits(), &session)
        .await
        .unwrap();
    assert_eq!(ctx.tenant_id, w.tenant.id);
    assert_eq!(ctx.portal_id, w.portal.id);
    assert_eq!(ctx.contact_id, w.contact.id);
    assert_eq!(ctx.contact_name, w.contact.name);
    assert_eq!(ctx.contact_email, w.contact.email);
    assert_eq!(ctx.session_expires_at, session.expires_at);

    assert_err!(
        store.verification(&s.verification, t0()).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    let again = new_session(at);
    assert_err!(
        store
            .redeem_code(&s.verification, &s.code.code_hash, at, &limits(), &again)
            .await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert_err!(
        store.magic_link(&s.code.magic_hash, at, MAX_WRONG).await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store
            .redeem_magic_link(&s.code.magic_hash, at, MAX_WRONG, &again)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store
            .issue_code(&s.verification, &new_code(at), &limits())
            .await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert_session_missing(store, &again.token_hash).await;

    let auth = store
        .authenticate(
            &session.token_hash,
            at,
            &no_slide(),
            &RequestInfo::default(),
        )
        .await
        .unwrap();
    assert_eq!(auth, ctx);

    assert_err!(
        store
            .redeem_code(&token(), &code_hash(), at, &limits(), &new_session(at))
            .await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
}

/// `issue_code` replaces the live code and magic link at once: the old link stops
/// working, the old code is just a wrong code now, the new ones work.
pub async fn issue_code_replaces_code_and_link(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let s = start(store, &inv, t0()).await;
    let code2 = new_code(t0() + mins(1));
    let (target, issued) = store
        .issue_code(&s.verification, &code2, &limits())
        .await
        .unwrap();
    assert_eq!(issued, 2);
    assert_eq!(target.contact, w.contact);
    let view = store.verification(&s.verification, t0()).await.unwrap();
    assert_eq!(view.codes_issued, 2);
    assert_eq!(view.code_expires_at, Some(code2.expires_at));

    let at = t0() + mins(2);
    let lost = new_session(at);
    assert_err!(
        store.magic_link(&s.code.magic_hash, at, MAX_WRONG).await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store
            .redeem_magic_link(&s.code.magic_hash, at, MAX_WRONG, &lost)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store
            .redeem_code(&s.verification, &s.code.code_hash, at, &limits(), &lost)
            .await,
        Error::WrongCode { attempts_left: 4 }
    );
    assert_session_missing(store, &lost.token_hash).await;

    assert_eq!(
        store
            .magic_link(&code2.magic_hash, at, MAX_WRONG)
            .await
            .unwrap(),
        target
    );
    store
        .redeem_code(
            &s.verification,
            &code2.code_hash,
            at,
            &limits(),
            &new_session(at),
        )
        .await
        .unwrap();
}

/// `issue_code` refuses with `LimitReached(CodesPerVerification)` once `max_codes`
/// were issued; the refusal changes nothing (the last code still works).
pub async fn code_limit(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let s = start(store, &inv, t0()).await;
    let c2 = new_code(t0() + mins(1));
    assert_eq!(
        store
            .issue_code(&s.verification, &c2, &codes(3))
            .await
            .unwrap()
            .1,
        2
    );
    let c3 = new_code(t0() + mins(2));
    assert_eq!(
        store
            .issue_code(&s.verification, &c3, &codes(3))
            .await
            .unwrap()
            .1,
        3
    );
    let c4 = new_code(t0() + mins(3));
    assert_err!(
        store.issue_code(&s.verification, &c4, &codes(3)).await,
        Error::LimitReached(Limit::CodesPerVerification)
    );
    let view = store.verification(&s.verification, t0()).await.unwrap();
    assert_eq!(view.codes_issued, 3);
    assert_eq!(view.code_expires_at, Some(c3.expires_at));
    let at = t0() + mins(4);
    assert_err!(
        store.magic_link(&c4.magic_hash, at, MAX_WRONG).await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    store
        .magic_link(&c3.magic_hash, at, MAX_WRONG)
        .await
        .unwrap();
    store
        .redeem_code(
            &s.verification,
            &c3.code_hash,
            at,
            &limits(),
            &new_session(at),
        )
        .await
        .unwrap();
    assert_err!(
        store.issue_code(&token(), &new_code(at), &codes(3)).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
}

/// 20 concurrent `issue_code` calls on one verification (`max_codes` 5, one code
/// already issued by the start) issue at most 5 codes in all; every refusal is
/// `LimitReached(CodesPerVerification)`; exactly one of the issued links is live.
pub async fn concurrent_issue_code(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let inv = invite(store.as_ref(), w.contact.id, t0()).await;
    let s = start(store.as_ref(), &inv, t0()).await;

    let calls = (0..20)
        .map(|i| {
            let (store, v) = (store.clone(), s.verification);
            let code = new_code(t0() + secs(i + 1));
            async move {
                let r = store.issue_code(&v, &code, &limits()).await;
                (code, r)
            }
        })
        .collect();
    let mut issued = Vec::new();
    for outcome in race_all(calls).await {
        match outcome {
            (code, Ok((_, n))) => issued.push((code, n)),
            (_, Err(Error::LimitReached(Limit::CodesPerVerification))) => {}
            (_, Err(e)) => panic!("issue_code under concurrency failed with {e:?}"),
        }
    }
    let total = 1 + issued.len() as u32;
    assert!(
        total <= MAX_CODES,
        "{total} codes issued, limit {MAX_CODES}"
    );
    let view = store.verification(&s.verification, t0()).await.unwrap();
    assert_eq!(view.codes_issued, total);
    assert_eq!(
        total, MAX_CODES,
        "with only limit refusals, the first calls must have succeeded"
    );
    let mut counts: Vec<u32> = issued.iter().map(|(_, n)| *n).collect();
    counts.sort_unstable();
    assert_eq!(counts, (2..=MAX_CODES).collect::<Vec<u32>>());

    let at = t0() + mins(1);
    let mut live = 0;
    for (code, _) in &issued {
        if store
            .magic_link(&code.magic_hash, at, MAX_WRONG)
            .await
            .is_ok()
        {
            live += 1;
            assert_eq!(view.code_expires_at, Some(code.expires_at));
        }
    }
    assert_eq!(live, 1, "exactly one issued code is live");
    assert_err!(
        store.magic_link(&s.code.magic_hash, at, MAX_WRONG).await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
}

/// Wrong codes count down (4, 3, 2, 1 tries left), the fifth wrong try kills the
/// code; then even the right code and the magic link are refused. A new code starts
/// a fresh count.
pub async fn wrong_code_attempts(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let s = start(store, &inv, t0()).await;
    let at = t0() + mins(1);
    let lost = new_session(at);
    for left in [4, 3, 2, 1] {
        match store
            .redeem_code(&s.verification, &code_hash(), at, &limits(), &lost)
            .await
        {
            Err(Error::WrongCode { attempts_left }) => assert_eq!(attempts_left, left),
            other => panic!("expected WrongCode {{ attempts_left: {left} }}, got {other:?}"),
        }
    }
    assert_err!(
        store
            .redeem_code(&s.verification, &code_hash(), at, &limits(), &lost)
            .await,
        Error::LimitReached(Limit::WrongCodeAttempts)
    );
    assert_err!(
        store
            .redeem_code(&s.verification, &s.code.code_hash, at, &limits(), &lost)
            .await,
        Error::LimitReached(Limit::WrongCodeAttempts)
    );
    assert_err!(
        store.magic_link(&s.code.magic_hash, at, MAX_WRONG).await,
        Error::LimitReached(Limit::WrongCodeAttempts)
    );
    assert_err!(
        store
            .redeem_magic_link(&s.code.magic_hash, at, MAX_WRONG, &lost)
            .await,
        Error::LimitReached(Limit::WrongCodeAttempts)
    );
    assert_session_missing(store, &lost.token_hash).await;

    let fresh = new_code(at);
    store
        .issue_code(&s.verification, &fresh, &limits())
        .await
        .unwrap();
    assert_err!(
        store
            .redeem_code(&s.verification, &code_hash(), at, &limits(), &lost)
            .await,
        Error::WrongCode { attempts_left: 4 }
    );
    store
        .redeem_code(&s.verification, &fresh.code_hash, at, &limits(), &lost)
        .await
        .unwrap();
}

/// A code is accepted at its `expires_at` and refused one second later (`Expired`,
/// without counting a wrong try).
pub async fn code_expiry_boundary(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let s = start(store, &inv, t0()).await;
    let expires = t0() + code_ttl();
    assert_eq!(s.code.expires_at, expires);
    let late = new_session(expires + secs(1));
    for _ in 0..MAX_WRONG {
        assert_err!(
            store
                .redeem_code(
                    &s.verification,
                    &s.code.code_hash,
                    expires + secs(1),
                    &limits(),
                    &late,
                )
                .await,
            Error::Expired {
                entity: Entity::Code
            }
        );
    }
    assert_session_missing(store, &late.token_hash).await;
    store
        .redeem_code(
            &s.verification,
            &s.code.code_hash,
            expires,
            &limits(),
            &new_session(expires),
        )
        .await
        .unwrap();
}

/// A magic link is good at its code's `expires_at` and `Expired` one second later,
/// both to read and to redeem.
pub async fn magic_link_expiry_boundary(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let s = start(store, &inv, t0()).await;
    let expires = s.code.expires_at;
    let late = expires + secs(1);
    assert_err!(
        store.magic_link(&s.code.magic_hash, late, MAX_WRONG).await,
        Error::Expired {
            entity: Entity::MagicLink
        }
    );
    let lost = new_session(late);
    assert_err!(
        store
            .redeem_magic_link(&s.code.magic_hash, late, MAX_WRONG, &lost)
            .await,
        Error::Expired {
            entity: Entity::MagicLink
        }
    );
    assert_session_missing(store, &lost.token_hash).await;
    store
        .magic_link(&s.code.magic_hash, expires, MAX_WRONG)
        .await
        .unwrap();
    let ctx = store
        .redeem_magic_link(
            &s.code.magic_hash,
            expires,
            MAX_WRONG,
            &new_session(expires),
        )
        .await
        .unwrap();
    assert_eq!(ctx.contact_id, w.contact.id);
}

/// Reading a magic link changes nothing; redeeming it works once, then the link is
/// `NotFound` (as is an unknown link) and the verification is over.
pub async fn magic_link_read_then_redeem_once(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let s = start(store, &inv, t0()).await;
    let before = store.verification(&s.verification, t0()).await.unwrap();
    let at = t0() + mins(1);
    for _ in 0..3 {
        let target = store
            .magic_link(&s.code.magic_hash, at, MAX_WRONG)
            .await
            .unwrap();
        assert_eq!(target.contact, w.contact);
    }
    assert_eq!(
        store.verification(&s.verification, t0()).await.unwrap(),
        before
    );

    let session = new_session(at);
    let ctx = store
        .redeem_magic_link(&s.code.magic_hash, at, MAX_WRONG, &session)
        .await
        .unwrap();
    assert_eq!(ctx.contact_id, w.contact.id);
    assert_eq!(ctx.session_expires_at, session.expires_at);

    let again = new_session(at);
    assert_err!(
        store
            .redeem_magic_link(&s.code.magic_hash, at, MAX_WRONG, &again)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store.magic_link(&s.code.magic_hash, at, MAX_WRONG).await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store.verification(&s.verification, t0()).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert_err!(
        store
            .redeem_code(&s.verification, &s.code.code_hash, at, &limits(), &again)
            .await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert_session_missing(store, &again.token_hash).await;
    assert_err!(
        store.magic_link(&token(), at, MAX_WRONG).await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store
            .redeem_magic_link(&token(), at, MAX_WRONG, &again)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    store
        .authenticate(
            &session.token_hash,
            at,
            &no_slide(),
            &RequestInfo::default(),
        )
        .await
        .unwrap();
}

/// Two concurrent redemptions of one magic link create exactly one session (ten rounds).
pub async fn concurrent_magic_link_redeem(store: Arc<dyn Store>) {
    race_redeem(store, true).await;
}

/// Two concurrent redemptions of one right code create exactly one session (ten rounds).
pub async fn concurrent_code_redeem(store: Arc<dyn Store>) {
    race_redeem(store, false).await;
}

async fn race_redeem(store: Arc<dyn Store>, by_link: bool) {
    let w = world(store.as_ref()).await;
    let inv = invite(store.as_ref(), w.contact.id, t0()).await;
    for round in 0..10 {
        let at = t0() + mins(round);
        let Started { verification, code } = start(store.as_ref(), &inv, at).await;
        let calls = (0..2)
            .map(|_| {
                let (store, code) = (store.clone(), code.clone());
                let session = new_session(at);
                async move {
                    let r = if by_link {
                        store
                            .redeem_magic_link(&code.magic_hash, at, MAX_WRONG, &session)
                            .await
                    } else {
                        store
                            .redeem_code(&verification, &code.code_hash, at, &limits(), &session)
                            .await
                    };
                    (session, r)
                }
            })
            .collect();
        let mut won = 0;
        for (session, r) in race_all(calls).await {
            match r {
                Ok(ctx) => {
                    won += 1;
                    assert_eq!(ctx.contact_id, w.contact.id);
                    store
                        .authenticate(
                            &session.token_hash,
                            at,
                            &no_slide(),
                            &RequestInfo::default(),
                        )
                        .await
                        .unwrap();
                }
                Err(e) => {
                    assert!(
                        if by_link {
                            matches!(
                                e,
                                Error::NotFound {
                                    entity: Entity::MagicLink
                                }
                            )
                        } else {
                            matches!(
                                e,
                                Error::NotFound {
                                    entity: Entity::Verification
                                }
                            )
                        },
                        "the losing redemption failed with {e:?}"
                    );
                    assert_session_missing(store.as_ref(), &session.token_hash).await;
                }
            }
        }
        assert_eq!(won, 1, "round {round}: exactly one redemption wins");
    }
}

/// Asserts no session exists for a hash.
async fn assert_session_missing(store: &dyn Store, session: &crate::secret::TokenHash) {
    assert_err!(
        store
            .authenticate(session, t0(), &no_slide(), &RequestInfo::default())
            .await,
        Error::NotFound {
            entity: Entity::Session
        }
    );
}
