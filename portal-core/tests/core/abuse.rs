//! The findings of the access security test, each pinned through `PortalService`:
//! verifications die with their invite and have a lifetime of their own; every
//! verification email counts towards one per-contact limit; wrong codes are capped
//! per contact per day, with a growing lockout after the cap.

use chrono::TimeDelta;
use portal_core::secret::VerificationToken;
use portal_core::testkit::request as req;
use portal_core::{Entity, Error, Limit};

use crate::{Harness, assert_err, code_in, magic_in, wrong};

fn verification_gone(e: &Error) -> bool {
    matches!(
        e,
        Error::NotFound {
            entity: Entity::Verification
        }
    )
}

fn link_gone(e: &Error) -> bool {
    matches!(
        e,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    )
}

/// Starts a verification and returns it with its code and magic link.
async fn started(
    h: &Harness,
    invite: &portal_core::secret::InviteToken,
) -> (VerificationToken, String, portal_core::secret::MagicToken) {
    let (v, _) = h.service.start_verification(invite, &req()).await.unwrap();
    let email = h.last_email(&h.contact);
    (v, code_in(&email), magic_in(&email))
}

#[tokio::test]
async fn a_reissued_invite_ends_unfinished_verifications() {
    let h = Harness::new(301).await;
    let invite = h.invite(&h.contact).await;
    let (v, code, magic) = started(&h, &invite).await;
    h.invite(&h.contact).await;
    assert_err(h.service.resend_code(&v, &req()).await, verification_gone);
    assert_err(h.service.verification(&v).await, verification_gone);
    assert_err(
        h.service.enter_code(&v, &code, &req()).await,
        verification_gone,
    );
    assert_err(h.service.magic_link(&magic).await, link_gone);
    assert_err(
        h.service.confirm_magic_link(&magic, &req()).await,
        link_gone,
    );
}

#[tokio::test]
async fn a_revoked_invite_ends_unfinished_verifications() {
    let h = Harness::new(302).await;
    let invite = h.invite(&h.contact).await;
    let (v, code, magic) = started(&h, &invite).await;
    h.service
        .revoke_invite(&h.staff, h.contact.id)
        .await
        .unwrap();
    assert_err(h.service.resend_code(&v, &req()).await, verification_gone);
    assert_err(
        h.service.enter_code(&v, &code, &req()).await,
        verification_gone,
    );
    assert_err(h.service.magic_link(&magic).await, link_gone);
}

/// Revoking a contact and inviting it again hands back neither the old verification
/// nor its unused codes.
#[tokio::test]
async fn a_revocation_then_reinvite_does_not_hand_back_old_codes() {
    let h = Harness::new(303).await;
    let invite = h.invite(&h.contact).await;
    let (v, _, _) = started(&h, &invite).await;
    h.service
        .revoke_contact(&h.staff, h.contact.id)
        .await
        .unwrap();
    h.invite(&h.contact).await;
    // Before the fix, asking for a new code here revived the old verification.
    assert_err(h.service.resend_code(&v, &req()).await, verification_gone);
    assert_err(h.service.verification(&v).await, verification_gone);
}

/// A verification lives `verification_ttl` from its start, whatever its codes say.
#[tokio::test]
async fn a_verification_expires_after_its_own_lifetime() {
    let h = Harness::new(304).await;
    let invite = h.invite(&h.contact).await;
    let (v, _, _) = started(&h, &invite).await;
    let start = h.now();
    let lifetime = TimeDelta::minutes(150);
    // A code issued late in the verification would outlive it.
    h.clock.advance(lifetime - TimeDelta::minutes(10));
    h.service.resend_code(&v, &req()).await.unwrap();
    let email = h.last_email(&h.contact);
    let (code, magic) = (code_in(&email), magic_in(&email));
    h.clock.advance(start + lifetime - h.now());
    h.service.verification(&v).await.unwrap();
    h.clock.advance(TimeDelta::seconds(1));
    let expired = |e: &Error| {
        matches!(
            e,
            Error::Expired {
                entity: Entity::Verification
            }
        )
    };
    assert_err(h.service.verification(&v).await, expired);
    assert_err(h.service.resend_code(&v, &req()).await, expired);
    assert_err(h.service.enter_code(&v, &code, &req()).await, expired);
    assert_err(h.service.confirm_magic_link(&magic, &req()).await, expired);
}

/// Starts and resends share one per-contact limit on emails.
#[tokio::test]
async fn resends_count_towards_the_email_limit() {
    let h = Harness::new(305).await;
    let invite = h.invite(&h.contact).await;
    let before = h.mailer.sent().len();
    // Two verifications with five codes each: ten emails.
    for _ in 0..2 {
        let (v, _, _) = started(&h, &invite).await;
        for _ in 0..4 {
            h.service.resend_code(&v, &req()).await.unwrap();
        }
    }
    assert_eq!(h.mailer.sent().len() - before, 10);
    let limited = |e: &Error| matches!(e, Error::LimitReached(Limit::EmailsPerContact));
    assert_err(h.service.start_verification(&invite, &req()).await, limited);
    assert_eq!(h.mailer.sent().len() - before, 10, "no eleventh email");
    // An hour after the first email, one more may go.
    h.clock.advance(TimeDelta::hours(1) + TimeDelta::seconds(1));
    started(&h, &invite).await;
}

/// Enters `n` wrong codes for the contact, spread over verifications (four per code,
/// so no code dies), advancing the clock so no other limit is hit.
async fn wrong_codes(h: &Harness, invite: &portal_core::secret::InviteToken, n: u32) {
    let mut left = n;
    while left > 0 {
        let (v, code, _) = started(h, invite).await;
        let mut code = code;
        for issued in 1..=h.service.policy().max_codes_per_verification {
            if issued > 1 {
                h.service.resend_code(&v, &req()).await.unwrap();
                code = code_in(&h.last_email(&h.contact));
            }
            for _ in 0..4.min(left) {
                match h.service.enter_code(&v, &wrong(&code), &req()).await {
                    Err(Error::WrongCode { .. }) => {}
                    other => panic!("expected a wrong code, got {other:?}"),
                }
                left -= 1;
            }
            if left == 0 {
                return;
            }
        }
        h.clock.advance(TimeDelta::minutes(61));
    }
}

#[tokio::test]
async fn a_few_wrong_codes_do_not_lock_a_client_out() {
    let h = Harness::new(306).await;
    let invite = h.invite(&h.contact).await;
    let (v, code, _) = started(&h, &invite).await;
    for _ in 0..4 {
        assert_err(h.service.enter_code(&v, &wrong(&code), &req()).await, |e| {
            matches!(e, Error::WrongCode { .. })
        });
    }
    h.service.enter_code(&v, &code, &req()).await.unwrap();

    let h = Harness::new(307).await;
    let invite = h.invite(&h.contact).await;
    wrong_codes(&h, &invite, 19).await;
    let (v, code, _) = started(&h, &invite).await;
    h.service.enter_code(&v, &code, &req()).await.unwrap();
}

/// The twentieth wrong code of a day locks the contact out: even the right code is
/// refused until the lockout ends.
#[tokio::test]
async fn wrong_codes_are_capped_per_contact_per_day() {
    let h = Harness::new(308).await;
    let invite = h.invite(&h.contact).await;
    wrong_codes(&h, &invite, 19).await;
    let (v, code, _) = started(&h, &invite).await;
    let until = h.now() + TimeDelta::days(1);
    let locked = |e: &Error| matches!(e, Error::LimitReached(Limit::ContactLockedOut { until: u, .. }) if *u == until);
    assert_err(
        h.service.enter_code(&v, &wrong(&code), &req()).await,
        locked,
    );
    assert_err(h.service.enter_code(&v, &code, &req()).await, locked);
    // In a new verification too, until the lockout's last instant.
    h.clock.advance(until - h.now());
    let (v, code, magic) = started(&h, &invite).await;
    assert_err(h.service.enter_code(&v, &code, &req()).await, locked);
    // The magic link needs the mailbox, not a guess: it still works.
    h.service.magic_link(&magic).await.unwrap();
    // A second later the right code works again.
    h.clock.advance(TimeDelta::seconds(1));
    h.service.enter_code(&v, &code, &req()).await.unwrap();
}

/// A contact hit again soon after a lockout ends is locked out twice as long.
#[tokio::test]
async fn the_lockout_doubles_when_hit_again() {
    let h = Harness::new(309).await;
    let invite = h.invite(&h.contact).await;
    wrong_codes(&h, &invite, 20 - 1).await;
    let (v, code, _) = started(&h, &invite).await;
    let first = h.now() + TimeDelta::days(1);
    assert_err(
        h.service.enter_code(&v, &wrong(&code), &req()).await,
        |e| matches!(e, Error::LimitReached(Limit::ContactLockedOut { until, started: true }) if *until == first),
    );
    h.clock.advance(first - h.now() + TimeDelta::seconds(1));
    wrong_codes(&h, &invite, 19).await;
    let (v, code, _) = started(&h, &invite).await;
    let second = h.now() + TimeDelta::days(2);
    assert_err(
        h.service.enter_code(&v, &wrong(&code), &req()).await,
        |e| matches!(e, Error::LimitReached(Limit::ContactLockedOut { until, started: true }) if *until == second),
    );
}

/// The emails telling the MSP of a lockout, so far.
fn lockout_emails(h: &Harness) -> Vec<portal_core::mail::Email> {
    h.mailer
        .sent()
        .into_iter()
        .filter(|e| e.subject.contains("was locked out"))
        .collect()
}

/// The 20th wrong code tells each of the MSP's notification recipients once; wrong
/// codes while locked out tell nobody again.
#[tokio::test]
async fn a_lockout_is_told_to_the_msp_once() {
    let h = Harness::new(310).await;
    let invite = h.invite(&h.contact).await;
    wrong_codes(&h, &invite, 19).await;
    assert!(lockout_emails(&h).is_empty(), "19 wrong codes tell nobody");
    let (v, code, _) = started(&h, &invite).await;
    let until = h.now() + TimeDelta::days(1);
    assert_err(h.service.enter_code(&v, &wrong(&code), &req()).await, |e| {
        matches!(
            e,
            Error::LimitReached(Limit::ContactLockedOut { started: true, .. })
        )
    });
    let told = lockout_emails(&h);
    let mut to: Vec<&str> = told.iter().map(|e| e.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        portal_core::testkit::RECIPIENTS,
        "one email per recipient"
    );
    let text = &told[0].text;
    assert!(
        text.contains("Jane Doe (Contoso Ltd) was locked out of the onboarding portal after 20 wrong verification codes"),
        "{text}"
    );
    assert!(
        text.contains(&format!("until {} UTC", until.format("%-d %B %Y, %H:%M"))),
        "{text}"
    );
    assert!(text.contains("revoke their invite"), "{text}");

    // The 21st wrong code (and the right one) while locked out tell nobody again.
    for typed in [wrong(&code), code.clone()] {
        assert_err(h.service.enter_code(&v, &typed, &req()).await, |e| {
            matches!(
                e,
                Error::LimitReached(Limit::ContactLockedOut { started: false, .. })
            )
        });
    }
    assert_eq!(lockout_emails(&h).len(), told.len());
}

/// A client who mistypes a few times and then gets it right bothers nobody.
#[tokio::test]
async fn a_few_mistypes_then_the_right_code_tell_nobody() {
    let h = Harness::new(311).await;
    let invite = h.invite(&h.contact).await;
    let (v, code, _) = started(&h, &invite).await;
    for _ in 0..3 {
        assert_err(h.service.enter_code(&v, &wrong(&code), &req()).await, |e| {
            matches!(e, Error::WrongCode { .. })
        });
    }
    h.service.enter_code(&v, &code, &req()).await.unwrap();
    assert!(lockout_emails(&h).is_empty());
}
