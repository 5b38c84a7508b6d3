//! The access flow's rules as the client meets them: limits, expiry at the exact
//! boundary, revocation, re-issued invites, and the pages that explain each.

use chrono::TimeDelta;
use portal_tests::{Harness, Options, code_in};

fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test]
async fn wrong_codes_count_down_then_the_code_dies() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let check = h.start_verification(&b).await;
    let code = code_in(&h.last_email_text());
    let csrf = check.csrf();
    for left in [4, 3, 2, 1] {
        let page = b
            .post("/verify/code", &[("csrf", &csrf), ("code", &wrong(&code))])
            .await;
        assert_eq!(page.status, 422);
        let times = if left == 1 { "time" } else { "times" };
        assert!(
            page.body
                .contains(&format!("You can try {left} more {times}.")),
            "{}",
            page.body
        );
        assert!(page.body.contains(r#"aria-invalid="true""#));
    }
    let dead = b
        .post("/verify/code", &[("csrf", &csrf), ("code", &wrong(&code))])
        .await;
    assert_eq!(dead.status, 429);
    assert!(dead.body.contains("this code no longer works"));
    let right_too_late = b
        .post("/verify/code", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(right_too_late.status, 429, "a dead code stays dead");
    assert!(b.cookie("__Host-portal_session").is_none());

    // A new code works.
    assert_eq!(
        b.post("/verify/resend", &[("csrf", &csrf)]).await.status,
        303
    );
    let fresh = code_in(&h.last_email_text());
    assert_eq!(
        b.post("/verify/code", &[("csrf", &csrf), ("code", &fresh)])
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn malformed_code_is_explained() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let check = h.start_verification(&b).await;
    let page = b
        .post(
            "/verify/code",
            &[("csrf", &check.csrf()), ("code", "12ab<script>")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("Enter the 6-digit code from the email."));
    assert!(!page.body.contains("<script>"));
}

#[tokio::test]
async fn five_codes_per_verification_then_a_clear_page() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let check = h.start_verification(&b).await;
    let csrf = check.csrf();
    let mut codes = vec![code_in(&h.last_email_text())];
    for n in 2..=5 {
        let res = b.post("/verify/resend", &[("csrf", &csrf)]).await;
        assert_eq!(res.status, 303, "code {n}");
        let page = b.get("/verify?sent=1").await;
        assert!(page.body.contains("We sent a new code"));
        codes.push(code_in(&h.last_email_text()));
    }
    let page = b.get("/verify").await;
    assert!(
        page.body
            .contains("All 5 codes for this sign-in have been sent")
    );
    let refused = b.post("/verify/resend", &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, 429);
    assert!(refused.body.contains("Too many codes requested"));
    // A new code killed the previous one: only the fifth works.
    let old = b
        .post("/verify/code", &[("csrf", &csrf), ("code", &codes[3])])
        .await;
    assert_ne!(old.status, 303);
    let newest = b
        .post("/verify/code", &[("csrf", &csrf), ("code", &codes[4])])
        .await;
    assert_eq!(newest.status, 303);
}

#[tokio::test]
async fn code_valid_at_thirty_minutes_refused_one_second_later() {
    for (after, ok) in [
        (TimeDelta::minutes(30), true),
        (TimeDelta::minutes(30) + TimeDelta::seconds(1), false),
    ] {
        let h = Harness::start(Options::memory()).await;
        let b = h.browser();
        let check = h.start_verification(&b).await;
        let code = code_in(&h.last_email_text());
        h.clock.advance(after);
        let res = b
            .post("/verify/code", &[("csrf", &check.csrf()), ("code", &code)])
            .await;
        if ok {
            assert_eq!(res.status, 303);
        } else {
            assert_eq!(res.status, 410);
            assert!(res.body.contains("This code has expired"));
        }
    }
}

#[tokio::test]
async fn session_valid_at_24_hours_refused_one_second_later() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    h.clock.advance(TimeDelta::hours(24));
    assert_eq!(
        b.get("/").await.status,
        200,
        "valid at exactly 24 h (and now slid)"
    );
    h.clock
        .advance(TimeDelta::hours(24) + TimeDelta::seconds(1));
    let page = b.get("/").await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("Please sign in again"));
}

#[tokio::test]
async fn revoked_contact_is_refused_on_the_very_next_request() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    assert_eq!(b.get("/").await.status, 200);
    h.service
        .revoke_contact(&h.staff, h.contact.id)
        .await
        .unwrap();
    let page = b.get("/").await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("Access revoked"));
    let invite = h.browser().get(&h.invite_path()).await;
    assert_eq!(invite.status, 403);
}

#[tokio::test]
async fn reissued_invite_kills_the_old_link() {
    let h = Harness::start(Options::memory()).await;
    let new = h
        .service
        .invite_contact(&h.staff, h.contact.id)
        .await
        .unwrap();
    let old = h.browser().get(&h.invite_path()).await;
    assert_eq!(old.status, 404);
    assert!(old.text().contains("This link isn't valid"));
    assert_eq!(
        h.browser()
            .get(&format!("/i/{}", new.expose_secret()))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let invite = b.get(&h.invite_path()).await;

    let no_csrf = b.post(&h.invite_path(), &[]).await;
    assert_eq!(no_csrf.status, 403);
    assert!(no_csrf.body.contains("This page has expired"));
    let forged = b.post(&h.invite_path(), &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);

    let json = b
        .send(
            http::Method::POST,
            &h.invite_path(),
            Some("application/json"),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(json.status, 415);

    let huge = "x".repeat(70 * 1024);
    let big = b
        .post(
            &h.invite_path(),
            &[("csrf", &invite.csrf()), ("pad", &huge)],
        )
        .await;
    assert_eq!(big.status, 413);

    assert_eq!(b.get("/i/not-a-token").await.status, 404);
    assert_eq!(b.get(&format!("/i/{}", "A".repeat(43))).await.status, 404);
    assert_eq!(b.get("/no/such/page").await.status, 404);
    assert_eq!(
        b.send(http::Method::DELETE, "/", None, vec![]).await.status,
        405
    );
    assert_eq!(
        b.get("/verify").await.status,
        404,
        "no verification in this browser"
    );
    let signed_out = b.get("/").await;
    assert_eq!(signed_out.status, 401);
    // Nothing was started by the refused requests.
    assert!(
        h.service
            .access_log(&h.staff, h.portal.id, None, 100)
            .await
            .unwrap()
            .items
            .iter()
            .all(|e| e.event != portal_core::store::AccessEvent::CodeSent)
    );
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let home = b.get("/").await;
    let session = b.cookie("__Host-portal_session").unwrap();
    let out = b.post("/sign-out", &[("csrf", &home.csrf())]).await;
    assert_eq!(out.status, 303);
    assert!(
        b.get("/signed-out")
            .await
            .text()
            .contains("You're signed out")
    );
    // Even replaying the old cookie is refused.
    b.set_cookie("__Host-portal_session", &session);
    assert_eq!(b.get("/").await.status, 401);
}

#[tokio::test]
async fn sessions_of_one_portal_never_see_another() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    for tab in ["tasks", "progress", "documents", "approvals"] {
        let page = b.get(&format!("/?tab={tab}")).await;
        assert_eq!(page.status, 200);
        assert!(
            !page.body.contains("Fabrikam"),
            "tab {tab} leaks the other portal"
        );
    }
}

#[tokio::test]
async fn draft_and_archived_portals_are_closed_to_clients() {
    use portal_core::model::PortalStatus;
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    assert_eq!(b.get("/").await.status, 200);
    let fresh = h.browser();
    let csrf = fresh.get(&h.invite_path()).await.csrf();

    // Archiving closes the portal on the very next request, and the invite too.
    h.service
        .set_portal_status(&h.staff, h.portal.id, PortalStatus::Archived)
        .await
        .unwrap();
    let home = b.get("/").await;
    assert_eq!(home.status, 410);
    assert!(home.text().contains("This portal is closed"));
    assert_eq!(
        b.get(&format!("/tasks/{}", h.tasks["standard"]))
            .await
            .status,
        410
    );
    let invite = fresh.get(&h.invite_path()).await;
    assert_eq!(invite.status, 410);
    let send = fresh.post(&h.invite_path(), &[("csrf", &csrf)]).await;
    assert_eq!(
        send.status, 410,
        "no verification email for a closed portal"
    );

    // A draft isn't open yet.
    h.service
        .set_portal_status(&h.staff, h.portal.id, PortalStatus::Draft)
        .await
        .unwrap();
    let draft = fresh.get(&h.invite_path()).await;
    assert_eq!(draft.status, 403);
    assert!(draft.text().contains("This portal isn't open yet"));

    // Opened (or completed): the same session works again.
    h.service
        .set_portal_status(&h.staff, h.portal.id, PortalStatus::Completed)
        .await
        .unwrap();
    assert_eq!(b.get("/").await.status, 200);
    let portal_tests::Mail::Recording(mail) = &h.mail else {
        unreachable!()
    };
    let sent = mail
        .sent()
        .iter()
        .filter(|e| e.subject.contains("verification code"))
        .count();
    assert_eq!(sent, 1, "only the first sign-in sent a code");
}
