//! Cross-site request forgery and write floods, as a security test found them: form
//! tokens are bound to the session, foreign origins are refused, and a client's burst
//! of posts is throttled while the MSP gets one email for it.

use chrono::TimeDelta;
use portal_tests::{Browser, Harness, Mail, Options, Page};

const CSRF_COOKIE: &str = "__Host-portal_csrf";

async fn signed_in() -> (Harness, Browser) {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    (h, b)
}

fn task_path(h: &Harness) -> String {
    format!("/tasks/{}", h.tasks["upload"])
}

async fn comment_count(h: &Harness) -> usize {
    h.service
        .staff_comments(&h.staff, h.portal.id, h.tasks["upload"])
        .await
        .unwrap()
        .len()
}

fn staff_emails(h: &Harness) -> usize {
    let Mail::Recording(mail) = &h.mail else {
        unreachable!()
    };
    mail.sent()
        .iter()
        .filter(|e| e.to.as_str() == "alerts@acme-msp.example")
        .count()
}

/// Posts a comment with the token of `page` and extra request headers.
async fn comment_with(
    h: &Harness,
    b: &Browser,
    token: &str,
    text: &str,
    headers: &[(&str, &str)],
) -> Page {
    b.post_with(
        &format!("{}/comments", task_path(h)),
        &[("csrf", token), ("comment", text)],
        headers,
    )
    .await
}

#[tokio::test]
async fn a_token_from_another_session_is_refused() {
    let (h, a) = signed_in().await;
    let b = h.browser();
    h.sign_in(&b).await;
    let token_a = a.get(&task_path(&h)).await.csrf();
    // Session B carries session A's CSRF cookie and token: only the session differs.
    b.set_cookie(CSRF_COOKIE, &a.cookie(CSRF_COOKIE).unwrap());
    let refused = comment_with(&h, &b, &token_a, "planted", &[]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.text().contains("This page has expired"));
    assert_eq!(comment_count(&h).await, 0, "nothing changed");
    // The same token still works in the session it was minted for.
    let ok = comment_with(&h, &a, &token_a, "mine", &[]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(comment_count(&h).await, 1);
}

#[tokio::test]
async fn sign_in_renews_the_csrf_cookie() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let check = h.start_verification(&b).await;
    let before = b.cookie(CSRF_COOKIE).unwrap();
    let code = portal_tests::code_in(&h.last_email_text());
    let done = b
        .post("/verify/code", &[("csrf", &check.csrf()), ("code", &code)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        done.set_cookies()
            .iter()
            .any(|c| c.starts_with(&format!("{CSRF_COOKIE}="))),
        "set with the session cookie: {:?}",
        done.set_cookies()
    );
    let after = b.cookie(CSRF_COOKIE).unwrap();
    assert_ne!(before, after, "a new secret at sign-in");
    // Forms of the signed-in portal work with the new cookie.
    let token = b.get(&task_path(&h)).await.csrf();
    assert_eq!(comment_with(&h, &b, &token, "hello", &[]).await.status, 303);
    // A form of the pre-session page no longer does.
    let stale = b.post("/sign-out", &[("csrf", &check.csrf())]).await;
    assert_eq!(stale.status, 403);
}

#[tokio::test]
async fn posts_from_another_origin_are_refused() {
    let (h, b) = signed_in().await;
    let token = b.get(&task_path(&h)).await.csrf();
    let own = format!("http://{}", h.addr);
    let other_port = format!("http://127.0.0.1:{}", h.addr.port().wrapping_add(1));
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", other_port.as_str())],
        vec![
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "same-origin"),
        ],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
    ] {
        let refused = comment_with(&h, &b, &token, "forged", &headers).await;
        assert_eq!(refused.status, 403, "{headers:?}: {}", refused.body);
        assert!(
            refused
                .text()
                .contains("The portal only accepts forms sent from its own pages"),
            "{}",
            refused.body
        );
    }
    let refused = b
        .post_with(
            "/sign-out",
            &[("csrf", &token)],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(refused.status, 403, "every POST is checked");
    assert_eq!(comment_count(&h).await, 0, "nothing changed");
    for headers in [
        vec![("origin", own.as_str())],
        vec![("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
        // Old clients and curl send neither; the token still guards them.
        vec![],
        // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` even on
        // same-origin form posts; Sec-Fetch-Site tells them apart.
        vec![("origin", "null"), ("sec-fetch-site", "same-origin")],
    ] {
        let ok = comment_with(&h, &b, &token, "fine", &headers).await;
        assert_eq!(ok.status, 303, "{headers:?}: {}", ok.body);
    }
    assert_eq!(comment_count(&h).await, 4);
}

#[tokio::test]
async fn the_twenty_first_post_in_a_minute_is_refused() {
    let (h, b) = signed_in().await;
    let token = b.get(&task_path(&h)).await.csrf();
    for i in 0..20 {
        let ok = comment_with(&h, &b, &token, &format!("comment {i}"), &[]).await;
        assert_eq!(ok.status, 303, "post {i}: {}", ok.body);
    }
    let refused = comment_with(&h, &b, &token, "one too many", &[]).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(
        refused
            .text()
            .contains("You're sending a lot quickly — wait a minute"),
        "{}",
        refused.body
    );
    assert_eq!(refused.header("retry-after"), "60");
    // Questions and task actions count too.
    let asked = b
        .post(
            "/questions",
            &[("csrf", &token), ("question", "Still there?")],
        )
        .await;
    assert_eq!(asked.status, 429);
    assert_eq!(
        comment_count(&h).await,
        20,
        "the refused posts changed nothing"
    );
    assert!(
        h.service
            .staff_questions(&h.staff, h.portal.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Reading is never throttled.
    assert_eq!(b.get(&task_path(&h)).await.status, 200);
    // The limit is per session: another sign-in is not held back by this one.
    let other = h.browser();
    h.sign_in(&other).await;
    let other_token = other.get(&task_path(&h)).await.csrf();
    assert_eq!(
        comment_with(&h, &other, &other_token, "me too", &[])
            .await
            .status,
        303
    );
    // A minute later the first session may post again.
    h.clock.advance(TimeDelta::seconds(60));
    let again = comment_with(&h, &b, &token, "after a minute", &[]).await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(comment_count(&h).await, 22);
}

#[tokio::test]
async fn a_burst_of_comments_sends_the_msp_one_email() {
    let (h, b) = signed_in().await;
    let token = b.get(&task_path(&h)).await.csrf();
    let before = staff_emails(&h);
    for i in 0..20 {
        let ok = comment_with(&h, &b, &token, &format!("burst {i}"), &[]).await;
        assert_eq!(ok.status, 303);
    }
    assert_eq!(comment_count(&h).await, 20, "every comment is stored");
    assert_eq!(staff_emails(&h) - before, 1, "one email for the burst");
    let feed = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 100)
        .await
        .unwrap()
        .items;
    assert_eq!(
        feed.iter()
            .filter(|e| e.kind == portal_core::workflow::ActivityKind::Commented)
            .count(),
        20,
        "the activity feed records every comment"
    );
}
