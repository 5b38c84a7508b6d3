//! The client's first walk: invite link → verification email → code → portal home,
//! with emails read from the outbox, and proof that no secret leaks on the way.

use portal_core::store::AccessEvent;
use portal_tests::{Harness, Options, code_in, eml, link_in};

use crate::logs;

#[tokio::test]
async fn invite_to_portal_home_with_outbox_mailer() {
    let logs = logs::capture();
    let h = Harness::start(Options {
        outbox: true,
        ..Options::memory()
    })
    .await;
    let portal_tests::Mail::Outbox(outbox) = &h.mail else {
        unreachable!()
    };

    // The invite email is in the outbox, addressed to the contact, with the link.
    let invite_mail = eml::newest(outbox);
    assert!(
        invite_mail.to.contains(h.contact.email.as_str()),
        "{}",
        invite_mail.to
    );
    assert!(
        invite_mail.subject.contains("invited you"),
        "{}",
        invite_mail.subject
    );
    let invite_path = link_in(&invite_mail.text, "i");
    assert_eq!(invite_path, h.invite_path());

    let browser = h.browser();
    let invite = browser.get(&invite_path).await;
    assert_eq!(invite.status, 200);
    assert!(
        invite.body.contains("d•••a@contoso.example"),
        "masked email shown"
    );
    assert!(
        !invite.body.contains("dana@contoso.example"),
        "full email hidden before verification"
    );
    assert!(invite.body.contains("Send verification email"));

    let sent = browser
        .post(&invite_path, &[("csrf", &invite.csrf())])
        .await;
    assert_eq!(sent.status, 303);
    assert_eq!(
        sent.header("location"),
        "/verify",
        "lands on a URL without the token"
    );
    let verification_cookie = browser
        .cookie("__Host-portal_verify")
        .expect("verification cookie");

    let email = eml::newest(outbox);
    assert!(
        email.subject.contains("verification code"),
        "{}",
        email.subject
    );
    let code = code_in(&email.text);
    let magic = link_in(&email.text, "m");
    assert!(email.text.contains("30 minutes"));

    let check = browser.get("/verify").await;
    assert_eq!(check.status, 200);
    assert!(check.body.contains("Check your email"));
    assert!(
        check.body.contains("4 more codes"),
        "4 more of 5 codes can be sent"
    );

    let done = browser
        .post("/verify/code", &[("csrf", &check.csrf()), ("code", &code)])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.header("location"), "/");
    let session = browser
        .cookie("__Host-portal_session")
        .expect("session cookie");
    assert_ne!(session, verification_cookie, "the session token is new");
    assert_ne!(session, h.invite.expose_secret());
    assert!(
        browser.cookie("__Host-portal_verify").is_none(),
        "verification cookie cleared"
    );

    let home = browser.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Contoso Dental Group onboarding"));
    assert!(home.body.contains("Signed in as Dana Whitfield"));
    // 1 of 9 tasks complete → 11% (rounded down).
    assert!(
        home.body
            .contains(r#"<progress id="overall-progress" max="100" value="11">"#),
        "{}",
        home.body
    );
    assert!(home.body.contains("(1 of 9 tasks complete)"));
    for tab in ["Your Tasks", "Our Progress", "Documents", "Approvals"] {
        assert!(home.body.contains(tab), "tab {tab}");
    }
    assert!(
        home.body.contains("Signature") && home.body.contains("Form"),
        "evidence badges"
    );
    assert!(
        !home.body.contains("Fabrikam"),
        "another portal's data never shows"
    );

    // The magic link from the same email died with the verification.
    let used = browser.get(&magic).await;
    assert_eq!(used.status, 404);

    // Access was logged with IP and user agent.
    let log = h
        .service
        .access_log(&h.staff, h.portal.id, None, 50)
        .await
        .unwrap()
        .items;
    let events: Vec<_> = log.iter().map(|e| e.event).collect();
    for e in [
        AccessEvent::InviteOpened,
        AccessEvent::CodeSent,
        AccessEvent::Verified,
        AccessEvent::PortalRequest,
    ] {
        assert!(events.contains(&e), "{e:?} logged: {events:?}");
    }
    assert!(
        log.iter()
            .all(|e| e.request.ip.is_some_and(|ip| ip.is_loopback()))
    );
    assert!(
        log.iter()
            .any(|e| e.request.user_agent.as_deref() == Some("journey-test/1.0"))
    );

    // The capture is real: it holds a request line for every step of this walk, with
    // its status, so a silent capture cannot pass the secret check below.
    let printed = logs.text();
    let request_lines: Vec<&str> = printed.lines().filter(|l| l.contains("route=")).collect();
    for (route, status) in [
        ("invite", 200),
        ("start_verification", 303),
        ("verify", 200),
        ("enter_code", 303),
        ("home", 200),
        ("magic_link", 404),
    ] {
        let (route, status) = (format!("route=\"{route}\""), format!("status={status}"));
        assert!(
            request_lines
                .iter()
                .any(|l| l.contains(&route) && l.contains(&status)),
            "no `{route} … {status}` line in the captured logs:\n{printed}"
        );
    }
    assert!(
        request_lines.len() >= 6,
        "{} request lines captured",
        request_lines.len()
    );

    // No secret reached the logs or any page.
    for secret in [
        h.invite.expose_secret(),
        &session,
        &verification_cookie,
        &magic[3..],
        &code,
    ] {
        assert!(!printed.contains(secret), "a secret leaked into the logs");
        for page in [&invite.body, &check.body, &home.body] {
            if secret != code.as_str() {
                assert!(!page.contains(secret), "a secret leaked into a page");
            }
        }
    }
    assert!(!home.body.contains(&code) && !check.body.contains(&code));
}

#[tokio::test]
async fn magic_link_get_changes_nothing_and_post_signs_in() {
    let h = Harness::start(Options::memory()).await;
    let browser = h.browser();
    let invite = browser.get(&h.invite_path()).await;
    browser
        .post(&h.invite_path(), &[("csrf", &invite.csrf())])
        .await;
    let magic = link_in(&h.last_email_text(), "m");

    // A mail scanner (no cookies) opens the link twice: nothing is consumed.
    let scanner = h.browser();
    assert_eq!(scanner.get(&magic).await.status, 200);
    assert_eq!(
        scanner
            .send(http::Method::HEAD, &magic, None, vec![])
            .await
            .status,
        200
    );
    assert!(scanner.cookie("__Host-portal_session").is_none());

    // The person clicks it on their phone: confirmation page, then the POST signs in.
    let phone = h.browser();
    let confirm = phone.get(&magic).await;
    assert!(confirm.body.contains("Continue to the portal"));
    let signed_in = phone.post(&magic, &[("csrf", &confirm.csrf())]).await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.header("location"), "/");
    assert_eq!(phone.get("/").await.status, 200);

    // Used once: a second POST (another browser) is refused.
    let again = scanner.get(&magic).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn head_on_invite_answers_200_and_logs_nothing() {
    let h = Harness::start(Options::memory()).await;
    let before = h
        .service
        .access_log(&h.staff, h.portal.id, None, 100)
        .await
        .unwrap()
        .items
        .len();
    let res = h
        .browser()
        .send(http::Method::HEAD, &h.invite_path(), None, vec![])
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        h.service
            .access_log(&h.staff, h.portal.id, None, 100)
            .await
            .unwrap()
            .items
            .len(),
        before
    );
}
