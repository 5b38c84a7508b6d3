//! Snapshots of every page a client meets, so a change to what people see is reviewed.
//! Per-response values (CSP nonce, CSRF token, ids) are masked.

use portal_tests::{Harness, Options, link_in};

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r#"nonce="[0-9a-f]{32}""#, r#"nonce="[nonce]""#);
    s.add_filter(
        r#"name="csrf" value="[A-Za-z0-9_-]{43}""#,
        r#"name="csrf" value="[csrf]""#,
    );
    s.add_filter(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[uuid]",
    );
    s.set_prepend_module_to_snapshot(false);
    s
}

#[tokio::test]
async fn access_flow_pages() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let invite = b.get(&h.invite_path()).await;
    let check = h.start_verification(&b).await;
    let magic = b.get(&link_in(&h.last_email_text(), "m")).await;
    let wrong = b
        .post(
            "/verify/code",
            &[("csrf", &check.csrf()), ("code", "000000")],
        )
        .await;
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("page_invite", invite.body);
    insta::assert_snapshot!("page_verify", check.body);
    insta::assert_snapshot!("page_verify_wrong_code", wrong.body);
    insta::assert_snapshot!("page_magic_link", magic.body);
}

#[tokio::test]
async fn portal_home_tabs() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let pages = [
        ("home_your_tasks", b.get("/").await),
        ("home_our_progress", b.get("/?tab=progress").await),
        ("home_documents", b.get("/?tab=documents").await),
        ("home_approvals", b.get("/?tab=approvals").await),
    ];
    let _guard = settings().bind_to_scope();
    for (name, page) in pages {
        assert_eq!(page.status, 200);
        insta::assert_snapshot!(name, page.body);
    }
}

#[tokio::test]
async fn error_pages() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let invalid = b.get(&format!("/i/{}", "A".repeat(43))).await;
    let signed_out = b.get("/").await;
    h.sign_in(&b).await;
    h.service.revoke_contact(h.contact.id).await.unwrap();
    let revoked = b.get(&h.invite_path()).await;
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("page_invalid_link", invalid.body);
    insta::assert_snapshot!("page_session_needed", signed_out.body);
    insta::assert_snapshot!("page_revoked", revoked.body);
}

#[tokio::test]
async fn task_pages_of_each_type() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    h.service
        .set_checklist_item(
            portal_tests::staff(),
            h.portal.id,
            h.tasks["checklist"],
            "a",
            true,
        )
        .await
        .unwrap();
    h.service
        .add_comment(
            portal_tests::staff(),
            h.portal.id,
            h.tasks["upload"],
            "A photo is fine.\nThanks!",
        )
        .await
        .unwrap();
    let mut pages = Vec::new();
    for key in [
        "standard",
        "meeting",
        "training",
        "survey",
        "checklist",
        "approval",
        "upload",
        "assign",
    ] {
        let page = b.get(&format!("/tasks/{}", h.tasks[key])).await;
        assert_eq!(page.status, 200, "{key}");
        pages.push((format!("task_{key}"), page.body));
    }
    // A refused form keeps answers and marks fields; a decided approval shows the outcome.
    let survey = format!("/tasks/{}", h.tasks["survey"]);
    let csrf = b.get(&survey).await.csrf();
    let refused = b
        .post(
            &format!("{survey}/form"),
            &[
                ("csrf", &csrf),
                ("q.sites", "two"),
                ("q.score", "9"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    pages.push(("task_survey_refused".into(), refused.body));
    let approval = format!("/tasks/{}", h.tasks["approval"]);
    let done = b
        .post(
            &format!("{approval}/decision"),
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(done.status, 303);
    pages.push(("task_approval_decided".into(), b.get(&approval).await.body));
    let asked = b
        .post(
            "/questions",
            &[("csrf", &csrf), ("question", "When is go-live?")],
        )
        .await;
    assert_eq!(asked.status, 303);
    pages.push((
        "questions".into(),
        b.get("/questions?done=asked").await.body,
    ));
    let _guard = settings().bind_to_scope();
    for (name, body) in pages {
        insta::assert_snapshot!(name, body);
    }
}
