//! The access flow through `PortalService`: invite, verification by code or magic link,
//! sessions, and every limit and boundary on the way.

use chrono::TimeDelta;
use portal_core::store::AccessEvent;
use portal_core::testkit::request as req;
use portal_core::{Entity, Error, Limit};

use crate::{Harness, assert_err, code_in, magic_in, wrong};

#[tokio::test]
async fn full_journey_invite_verify_by_code_authenticate() {
    let h = Harness::new(1).await;
    let invite = h.invite(&h.contact).await;
    let invite_email = h.last_email(&h.contact);
    assert_eq!(invite_email.to, h.contact.email);
    assert_eq!(
        invite_email.subject,
        "Northwind IT invited you to your onboarding portal"
    );

    h.clock.advance(TimeDelta::minutes(1));
    let target = h.service.open_invite(&invite, &req()).await.unwrap();
    assert_eq!(target.contact.id, h.contact.id);
    assert_eq!(target.portal.id, h.portal.id);

    h.clock.advance(TimeDelta::minutes(1));
    let (verification, view) = h.service.start_verification(&invite, &req()).await.unwrap();
    assert_eq!(view.codes_issued, 1);
    assert_eq!(view.code_expires_at, Some(h.now() + TimeDelta::minutes(30)));
    let email = h.last_email(&h.contact);
    assert_eq!(email.subject, "Your Northwind IT portal verification code");
    let code = code_in(&email);
    assert!(email.html.contains(&code));
    let magic = magic_in(&email);
    assert!(email.html.contains(magic.expose_secret()));

    h.clock.advance(TimeDelta::minutes(3));
    let (session, ctx) = h
        .service
        .enter_code(&verification, &code, &req())
        .await
        .unwrap();
    assert_eq!(ctx.contact_id, h.contact.id);
    assert_eq!(ctx.portal_id, h.portal.id);
    assert_eq!(ctx.session_expires_at, h.now() + TimeDelta::hours(24));
    assert_err(h.service.verification(&verification).await, |e| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::Verification
            }
        )
    });
    assert_err(h.service.magic_link(&magic).await, |e| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::MagicLink
            }
        )
    });

    h.clock.advance(TimeDelta::minutes(1));
    let authed = h.service.authenticate(&session, &req()).await.unwrap();
    assert_eq!(authed.contact_id, h.contact.id);
    let home = h.service.portal_home(&authed).await.unwrap();
    assert_eq!(home.portal, h.portal);

    let log = h
        .service
        .access_log(&h.staff, h.portal.id, None, 10)
        .await
        .unwrap()
        .items;
    let events: Vec<AccessEvent> = log.iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        vec![
            AccessEvent::PortalRequest,
            AccessEvent::Verified,
            AccessEvent::CodeSent,
            AccessEvent::InviteOpened
        ]
    );
    assert_eq!(log[0].request, req(), "the portal request keeps its path");
    assert_eq!(
        log[1].request.path, None,
        "token-bearing access-flow paths are not logged"
    );
    assert_eq!(log[1].request.ip, req().ip);
}

#[tokio::test]
async fn full_journey_by_magic_link() {
    let h = Harness::new(2).await;
    let invite = h.invite(&h.contact).await;
    h.service.start_verification(&invite, &req()).await.unwrap();
    let magic = magic_in(&h.last_email(&h.contact));
    // A mail scanner opening the link changes nothing.
    for _ in 0..3 {
        let target = h.service.magic_link(&magic).await.unwrap();
        assert_eq!(target.contact.id, h.contact.id);
    }
    let (session, ctx) = h.service.confirm_magic_link(&magic, &req()).await.unwrap();
    assert_eq!(ctx.contact_id, h.contact.id);
    h.service.authenticate(&session, &req()).await.unwrap();
    assert_err(h.service.confirm_magic_link(&magic, &req()).await, |e| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::MagicLink
            }
        )
    });
}

#[tokio::test]
async fn code_expires_exactly_at_the_boundary() {
    let h = Harness::new(3).await;
    let invite = h.invite(&h.contact).await;

    let (late, _) = h.service.start_verification(&invite, &req()).await.unwrap();
    let late_code = code_in(&h.last_email(&h.contact));
    h.clock
        .advance(TimeDelta::minutes(30) + TimeDelta::seconds(1));
    assert_err(h.service.enter_code(&late, &late_code, &req()).await, |e| {
        matches!(
            e,
            Error::Expired {
                entity: Entity::Code
            }
        )
    });

    let (on_time, _) = h.service.start_verification(&invite, &req()).await.unwrap();
    let code = code_in(&h.last_email(&h.contact));
    h.clock.advance(TimeDelta::minutes(30));
    h.service.enter_code(&on_time, &code, &req()).await.unwrap();
}

#[tokio::test]
async fn session_expires_exactly_at_the_boundary() {
    let h = Harness::new(4).await;
    let bob = h.add_contact("Bob Roe", "bob@contoso.example").await;
    let (jane_session, _) = h.sign_in(&h.contact).await;
    let (bob_session, _) = h.sign_in(&bob).await;

    h.clock.advance(TimeDelta::hours(24));
    let ctx = h.service.authenticate(&jane_session, &req()).await.unwrap();
    assert_eq!(
        ctx.session_expires_at,
        h.now() + TimeDelta::hours(24),
        "an active session slides"
    );

    h.clock.advance(TimeDelta::seconds(1));
    assert_err(h.service.authenticate(&bob_session, &req()).await, |e| {
        matches!(
            e,
            Error::Expired {
                entity: Entity::Session
            }
        )
    });
    h.service.authenticate(&jane_session, &req()).await.unwrap();
}

#[tokio::test]
async fn wrong_codes_kill_the_code_after_five_tries() {
    let h = Harness::new(5).await;
    let invite = h.invite(&h.contact).await;
    let (verification, _) = h.service.start_verification(&invite, &req()).await.unwrap();
    let code = code_in(&h.last_email(&h.contact));
    let bad = wrong(&code);
    for left in [4, 3, 2, 1] {
        match h.service.enter_code(&verification, &bad, &req()).await {
            Err(Error::WrongCode { attempts_left }) => assert_eq!(attempts_left, left),
            other => panic!("expected WrongCode, got {other:?}"),
        }
    }
    for typed in [&bad, &code] {
        assert_err(
            h.service.enter_code(&verification, typed, &req()).await,
            |e| matches!(e, Error::LimitReached(Limit::WrongCodeAttempts)),
        );
    }
    // A new code starts over.
    h.service.resend_code(&verification, &req()).await.unwrap();
    let fresh = code_in(&h.last_email(&h.contact));
    h.service
        .enter_code(&verification, &fresh, &req())
        .await
        .unwrap();
}

#[tokio::test]
async fn at_most_five_codes_per_verification() {
    let h = Harness::new(6).await;
    let invite = h.invite(&h.contact).await;
    let (verification, _) = h.service.start_verification(&invite, &req()).await.unwrap();
    let first = code_in(&h.last_email(&h.contact));
    for n in 2..=5 {
        h.clock.advance(TimeDelta::minutes(1));
        let view = h.service.resend_code(&verification, &req()).await.unwrap();
        assert_eq!(view.codes_issued, n);
    }
    let sent_before = h.mailer.sent().len();
    assert_err(h.service.resend_code(&verification, &req()).await, |e| {
        matches!(e, Error::LimitReached(Limit::CodesPerVerification))
    });
    assert_eq!(
        h.mailer.sent().len(),
        sent_before,
        "no email for a refused code"
    );
    let last = code_in(&h.last_email(&h.contact));
    assert_err(
        h.service.enter_code(&verification, &first, &req()).await,
        |e| matches!(e, Error::WrongCode { .. }),
    );
    h.service
        .enter_code(&verification, &last, &req())
        .await
        .unwrap();
}

#[tokio::test]
async fn verification_emails_per_contact_are_limited() {
    let h = Harness::new(7).await;
    let invite = h.invite(&h.contact).await;
    for _ in 0..10 {
        h.service.start_verification(&invite, &req()).await.unwrap();
    }
    assert_err(h.service.start_verification(&invite, &req()).await, |e| {
        matches!(e, Error::LimitReached(Limit::EmailsPerContact))
    });
    h.clock.advance(TimeDelta::hours(1) + TimeDelta::seconds(1));
    h.service.start_verification(&invite, &req()).await.unwrap();
}

#[tokio::test]
async fn reissued_invite_kills_the_old_link() {
    let h = Harness::new(8).await;
    let old = h.invite(&h.contact).await;
    let new = h.invite(&h.contact).await;
    assert_ne!(old, new);
    assert_err(h.service.open_invite(&old, &req()).await, |e| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::Invite
            }
        )
    });
    assert_err(h.service.start_verification(&old, &req()).await, |e| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::Invite
            }
        )
    });
    h.service.open_invite(&new, &req()).await.unwrap();
}

#[tokio::test]
async fn revoked_contact_is_refused_on_the_very_next_request() {
    let h = Harness::new(9).await;
    let (session, _) = h.sign_in(&h.contact).await;
    h.service.authenticate(&session, &req()).await.unwrap();
    h.service
        .revoke_contact(&h.staff, h.contact.id)
        .await
        .unwrap();
    assert_err(h.service.authenticate(&session, &req()).await, |e| {
        matches!(
            e,
            Error::Revoked {
                entity: Entity::Session
            }
        )
    });
}

#[tokio::test]
async fn session_token_is_new_at_verification() {
    let h = Harness::new(10).await;
    let invite = h.invite(&h.contact).await;
    let (verification, _) = h.service.start_verification(&invite, &req()).await.unwrap();
    let email = h.last_email(&h.contact);
    let magic = magic_in(&email);
    let (session, _) = h
        .service
        .enter_code(&verification, &code_in(&email), &req())
        .await
        .unwrap();
    let s = session.expose_secret();
    assert_ne!(s, verification.expose_secret());
    assert_ne!(s, invite.expose_secret());
    assert_ne!(s, magic.expose_secret());
}
