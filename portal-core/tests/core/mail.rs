//! The emails of the access flow: what they carry, and snapshots of their text.

use chrono::TimeDelta;
use portal_core::testkit::{TestLinks, request as req};
use portal_core::{Error, LinkBuilder};

use crate::Harness;

#[tokio::test]
async fn invite_email_carries_the_invite_link() {
    let h = Harness::new(11).await;
    let token = h
        .service
        .invite_contact(&h.staff, h.contact.id)
        .await
        .unwrap();
    let email = h.last_email(&h.contact);
    let link = TestLinks::default().invite_url(
        &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
        &token,
    );
    assert!(email.text.contains(&link), "{}", email.text);
    assert!(email.html.contains(&link), "{}", email.html);
    assert_eq!(email.to_name.as_deref(), Some("Jane Doe"));
}

#[tokio::test]
async fn email_snapshots() {
    let h = Harness::new(42).await;
    let invite = h
        .service
        .invite_contact(&h.staff, h.contact.id)
        .await
        .unwrap();
    let invite_email = h.last_email(&h.contact);
    assert_snapshot!("core__invite_email_text", invite_email.text);

    h.clock.advance(TimeDelta::minutes(7));
    h.service.start_verification(&invite, &req()).await.unwrap();
    let email = h.last_email(&h.contact);
    assert_snapshot!("core__verification_email_text", email.text);
    assert_snapshot!("core__verification_email_html", email.html);
}

#[tokio::test]
async fn lockout_notification_snapshots() {
    let h = Harness::new(42).await;
    let until = chrono::DateTime::parse_from_rfc3339("2026-11-29T14:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let email = portal_core::mail::lockout_notification(
        portal_core::mail::StaffRecipient {
            email: &h.tenant.notification_recipients[0],
            branding: &h.portal.branding,
        },
        &h.portal.client_name,
        &h.contact.name,
        20,
        until,
        portal_core::model::TimeZone::parse("Europe/London").unwrap(),
    )
    .unwrap();
    assert_eq!(
        email.subject,
        "[Contoso Ltd] Jane Doe was locked out of the portal"
    );
    assert_snapshot!("core__lockout_notification_text", email.text);
    assert_snapshot!("core__lockout_notification_html", email.html);
}

#[tokio::test]
async fn signature_notification_snapshots() {
    let h = Harness::new(42).await;
    let email = portal_core::mail::signature_notification(
        portal_core::mail::StaffRecipient {
            email: &h.tenant.notification_recipients[0],
            branding: &h.portal.branding,
        },
        &h.portal.client_name,
        &h.contact.name,
        "Sign the master services agreement",
        "drawn",
        &"ab".repeat(32),
    )
    .unwrap();
    assert_eq!(
        email.subject,
        "[Contoso Ltd] Jane Doe signed “Sign the master services agreement”"
    );
    assert!(email.text.contains(&"ab".repeat(32)));
    assert_snapshot!("core__signature_notification_text", email.text);
    assert_snapshot!("core__signature_notification_html", email.html);
}

/// A verification email the transport refuses uses up none of the client's codes and
/// does not count as a started verification: the client can simply try again.
#[tokio::test]
async fn an_undelivered_verification_email_uses_up_nothing() {
    let h = Harness::new(21).await;
    let invite = h.invite(&h.contact).await;
    let policy = *h.service.policy();
    h.mailer.set_failing(true);
    // More failed starts than the per-contact limit allows emails: each is a mail
    // failure, never the limit.
    for _ in 0..policy.max_emails_per_contact + 2 {
        match h.service.start_verification(&invite, &req()).await {
            Err(Error::Mail { .. }) => {}
            other => panic!("expected a mail failure, got {other:?}"),
        }
    }
    h.mailer.set_failing(false);
    let (verification, view) = h.service.start_verification(&invite, &req()).await.unwrap();
    assert_eq!(view.codes_issued, 1);

    // Failed resends give the code back, whatever their number.
    h.mailer.set_failing(true);
    for _ in 0..policy.max_codes_per_verification + 2 {
        match h.service.resend_code(&verification, &req()).await {
            Err(Error::Mail { .. }) => {}
            other => panic!("expected a mail failure, got {other:?}"),
        }
    }
    let view = h.service.verification(&verification).await.unwrap();
    assert_eq!(view.codes_issued, 1, "failed resends are not counted");
    h.mailer.set_failing(false);
    // So every code of the budget can still be sent, and then the limit holds.
    for n in 2..=policy.max_codes_per_verification {
        let view = h.service.resend_code(&verification, &req()).await.unwrap();
        assert_eq!(view.codes_issued, n);
    }
    match h.service.resend_code(&verification, &req()).await {
        Err(Error::LimitReached(portal_core::Limit::CodesPerVerification)) => {}
        other => panic!("expected the code limit, got {other:?}"),
    }
    // And the newest code signs in.
    let code = crate::code_in(&h.last_email(&h.contact));
    h.service
        .enter_code(&verification, &code, &req())
        .await
        .unwrap();
}

/// A staff notification the transport refuses does not undo the client's action: the
/// email stays queued for a retry, and the failure is logged.
#[tokio::test]
async fn a_failed_staff_notification_keeps_the_clients_question() {
    let h = Harness::new(22).await;
    let (_, ctx) = h.sign_in(&h.contact).await;
    let logs = crate::LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    h.mailer.set_failing(true);
    let asked = h
        .service
        .ask_question(&ctx, "Can we keep our old printer?")
        .await
        .unwrap();
    let questions = h.service.questions(&ctx).await.unwrap();
    assert_eq!(questions.first().map(|q| q.id), Some(asked.id));
    let feed = h.service.activity(&ctx, 5).await.unwrap();
    assert_eq!(
        feed.first().map(|e| e.kind),
        Some(portal_core::workflow::ActivityKind::QuestionAsked)
    );
    let text = logs.text();
    assert!(
        text.contains("email not sent; it will be tried again"),
        "the failure is logged: {text}"
    );
    // Once the mail server is back, the queued notifications go out.
    h.mailer.set_failing(false);
    h.clock.advance(chrono::TimeDelta::minutes(5));
    h.service.deliver_outbox().await.unwrap();
    assert!(
        h.mailer
            .sent()
            .iter()
            .any(|e| e.subject.contains("Question from")),
        "delivered after the retry"
    );
}

/// The verification email names the configured code lifetime, in words.
#[tokio::test]
async fn the_verification_email_names_the_configured_lifetime() {
    let policy = portal_core::AccessPolicy {
        code_ttl: TimeDelta::minutes(90),
        ..Default::default()
    };
    let kit = portal_core::testkit::TestService::builder(std::sync::Arc::new(
        portal_core::memory::MemoryStore::new(),
    ))
    .policy(policy)
    .build();
    let seeded = kit.seed_portal().await.unwrap();
    let invite = kit.invite(&seeded.contact).await.unwrap();
    kit.service
        .start_verification(&invite, &req())
        .await
        .unwrap();
    let email = kit.last_email_to(&seeded.contact).unwrap();
    for body in [&email.text, &email.html] {
        assert!(body.contains("work for 1 hour 30 minutes"), "{body}");
        assert!(!body.contains("work for 30 minutes"), "{body}");
    }
}

/// A contact the MSP set to Spanish gets the invitation and the verification email
/// in Spanish: subject, plain text and HTML, dates and durations; nothing the
/// catalog lacks, and no line of the English email left in the Spanish one.
#[tokio::test]
async fn spanish_emails() {
    let english = Harness::new(42).await;
    let invite = english
        .service
        .invite_contact(&english.staff, english.contact.id)
        .await
        .unwrap();
    let en_invite = english.last_email(&english.contact);
    english.clock.advance(TimeDelta::minutes(7));
    english
        .service
        .start_verification(&invite, &req())
        .await
        .unwrap();
    let en_code = english.last_email(&english.contact);

    let h = Harness::new(42).await;
    h.service
        .change_contact(
            &h.staff,
            h.contact.id,
            &portal_core::service::ContactChange {
                name: &h.contact.name,
                email: h.contact.email.as_str(),
                role: None,
                language: Some(Some(portal_core::i18n::Language::Es)),
            },
            None,
        )
        .await
        .unwrap();
    let invite = h
        .service
        .invite_contact(&h.staff, h.contact.id)
        .await
        .unwrap();
    let es_invite = h.last_email(&h.contact);
    h.clock.advance(TimeDelta::minutes(7));
    h.service.start_verification(&invite, &req()).await.unwrap();
    let es_code = h.last_email(&h.contact);
    assert_eq!(
        portal_core::i18n::missing(),
        Vec::new(),
        "messages the catalog lacks"
    );
    assert!(es_invite.html.contains(r#"<html lang="es">"#));
    for (en, es) in [(&en_invite, &es_invite), (&en_code, &es_code)] {
        assert_ne!(en.subject, es.subject);
        // Every line of prose differs; links, codes, names and the sign-off are data.
        for line in es
            .text
            .lines()
            .map(str::trim)
            .filter(|l| l.split(' ').count() > 3)
        {
            assert!(
                !en.text.lines().any(|e| e.trim() == line),
                "English left in the Spanish email: {line}"
            );
        }
    }
    assert_snapshot!("core__es_invite_email_subject", es_invite.subject);
    assert_snapshot!("core__es_invite_email_text", es_invite.text);
    assert_snapshot!("core__es_invite_email_html", es_invite.html);
    assert_snapshot!("core__es_verification_email_text", es_code.text);
}
