//! Snapshots of every page a client meets, so a change to what people see is reviewed.
//! Per-response values (CSP nonce, CSRF token, ids) are masked.

use portal_tests::{Harness, Options, link_in};

/// The insta settings of every page snapshot: the per-response nonce, CSRF token and
/// ids replaced by placeholders, snapshot names without the module prefix.
pub(crate) fn settings() -> insta::Settings {
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

/// A task for the billing contact on the home of the contact with that role: listed
/// first ("assigned to you") and saying why; the team page shows the role.
#[tokio::test]
async fn portal_home_with_a_task_for_your_role() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    h.service
        .edit_contact(
            &h.staff,
            h.contact.id,
            &h.contact.name,
            h.contact.email.as_str(),
            Some("billing"),
            None,
        )
        .await
        .unwrap();
    let phase = h.service.plan(&h.staff, h.portal.id).await.unwrap().phases[0].id;
    h.service
        .add_plan_task(
            &h.staff,
            h.portal.id,
            phase,
            portal_core::service::PlanTaskSpec {
                title: "Confirm the billing contact details".to_owned(),
                description: "So invoices reach the right person.".to_owned(),
                assignee: portal_core::model::Side::Client,
                kind: portal_core::model::TaskKind::Standard,
                due_date: None,
                assigned_to: Vec::new(),
                waits_on: Vec::new(),
                internal: false,
                for_role: Some("billing".to_owned()),
            },
            None,
        )
        .await
        .unwrap();
    let page = b.get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("For the billing contact: you"));
    let team = b.get("/team").await;
    assert!(
        team.body.contains(r#"<span class="badge">Billing</span>"#),
        "{}",
        team.body
    );
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("home_task_for_your_role", page.body);
}

/// When every open task of the client waits on the MSP (here: blocked), the home says
/// so instead of listing chores: the all-done card with what happens next and the
/// go-live date, the tasks shown as waiting and none of them marked overdue (the
/// document upload is past due).
#[tokio::test]
async fn portal_home_when_everything_waits_on_the_msp() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    for key in [
        "meeting",
        "survey",
        "upload",
        "checklist",
        "approval",
        "standard",
        "training",
    ] {
        h.service
            .block_task(
                &h.staff,
                h.portal.id,
                h.tasks[key],
                "We are setting up your tenant",
            )
            .await
            .unwrap();
    }
    let go_live = chrono::NaiveDate::from_ymd_opt(2027, 1, 15);
    h.service
        .set_target_date(&h.staff, h.portal.id, go_live)
        .await
        .unwrap();
    let page = b.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("You're all done — here's what happens next")
    );
    assert!(
        page.body
            .contains("7 of your tasks are waiting on Acme MSP")
    );
    assert_eq!(
        page.body
            .matches("Target go-live: <strong>Fri 15 Jan 2027</strong>")
            .count(),
        1
    );
    assert!(
        !page.body.contains("Overdue"),
        "a waiting task is never overdue"
    );
    assert!(
        page.body.contains(
            r#"<span class="pill pill-waiting">On hold: Acme MSP will unblock it</span>"#
        )
    );
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("home_all_waiting", page.body);
}

#[tokio::test]
async fn error_pages() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    let invalid = b.get(&format!("/i/{}", "A".repeat(43))).await;
    let signed_out = b.get("/").await;
    h.sign_in(&b).await;
    let branded_missing = b.get("/no-such-page").await;
    assert_eq!(branded_missing.status, 404);
    let settings_page = b.get("/settings").await;
    assert_eq!(settings_page.status, 200);
    h.service
        .revoke_contact(&h.staff, h.contact.id)
        .await
        .unwrap();
    let revoked = b.get(&h.invite_path()).await;
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("page_not_found_signed_in", branded_missing.body);
    // The zone list is the tz database's (its own test checks it): only the selected
    // zone is kept in the snapshot, so a tz update does not churn it.
    let settings_body: Vec<&str> = settings_page
        .body
        .lines()
        .filter(|l| !l.trim_start().starts_with("<option") || l.contains(" selected"))
        .collect();
    insta::assert_snapshot!("page_settings", settings_body.join("\n"));
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
        .staff_set_checklist_item(&h.staff, h.portal.id, h.tasks["checklist"], "a", true)
        .await
        .unwrap();
    h.service
        .staff_add_comment(
            &h.staff,
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

/// A document upload task with a document in each of the four statuses (one with an
/// earlier version), the same task after a refused upload, and the Documents tab.
#[tokio::test]
async fn document_task_in_each_status_and_the_documents_tab() {
    use portal_core::files::FileType;
    use portal_core::model::{RequestedDocument, Side, TaskKind};
    use portal_core::workflow::documents::Verdict;
    use portal_tests::multipart::{content_type, upload_form};

    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Paperwork")
        .await
        .unwrap()
        .id;
    let doc = |id: &str, name: &str| RequestedDocument::new(id, name);
    let mut diagram = doc("diagram", "Network diagram");
    diagram.note = Some("The current one, as exported from Visio.".into());
    diagram.accept = vec![FileType::Pdf];
    diagram.max_bytes = Some(10 * 1024 * 1024);
    let task = h
        .service
        .add_task(
            &h.staff,
            h.portal.id,
            phase,
            portal_core::TaskSpec {
                title: "Send us your paperwork".into(),
                description: "Four documents we need before the migration.".into(),
                assignee: Side::Client,
                kind: TaskKind::DocumentUpload {
                    documents: vec![
                        diagram,
                        doc("isp", "ISP contract"),
                        doc("lease", "Office lease"),
                        doc("insurance", "Cyber insurance policy"),
                    ],
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let page_path = format!("/tasks/{task}");
    let csrf = b.get(&page_path).await.csrf();
    let upload = |document: &'static str, name: &'static str, content: &'static [u8]| {
        let body = upload_form(&csrf, name, content);
        let path = format!("/tasks/{task}/documents/{document}");
        let b = &b;
        async move {
            let sent = b
                .send(http::Method::POST, &path, Some(&content_type()), body)
                .await;
            assert_eq!(sent.status, 303, "{}", sent.body);
        }
    };
    let pdf: &'static [u8] = b"%PDF-1.7\n% a network diagram\n%%EOF\n";
    upload("isp", "contract-2024.txt", b"Fibre 500/500\n").await;
    upload("lease", "lease.pdf", pdf).await;
    upload("insurance", "policy-2025.pdf", pdf).await;
    let file = |document: &'static str| {
        let store = h.store.clone();
        let portal = h.portal.id;
        async move {
            store
                .document_files(portal)
                .await
                .unwrap()
                .into_iter()
                .filter(|f| f.document_id == document)
                .max_by_key(|f| f.version)
                .unwrap()
        }
    };
    let review = async |id, verdict| {
        h.service
            .review_document(&h.staff, h.portal.id, id, verdict)
            .await
            .unwrap()
    };
    review(
        file("lease").await.id,
        Verdict::Approve {
            notes: Some("Thanks, this is the one we needed.".into()),
        },
    )
    .await;
    review(
        file("insurance").await.id,
        Verdict::Reject {
            notes: "This policy expired in March. Please upload the current one.".into(),
        },
    )
    .await;
    // An earlier, rejected version of the ISP contract, then the one under review.
    review(
        file("isp").await.id,
        Verdict::Reject {
            notes: "Only page 1 came through.".into(),
        },
    )
    .await;
    upload(
        "isp",
        "contract-2024-all-pages.txt",
        b"Fibre 500/500, all pages\n",
    )
    .await;
    let page = b.get(&page_path).await;
    assert_eq!(page.status, 200);
    let refused = b
        .send(
            http::Method::POST,
            &format!("/tasks/{task}/documents/diagram"),
            Some(&content_type()),
            upload_form(&csrf, "diagram.pdf", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
        )
        .await;
    assert_eq!(refused.status, 400);
    let tab = b.get("/?tab=documents").await;
    assert_eq!(tab.status, 200);
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("task_documents_each_status", page.body);
    insta::assert_snapshot!("task_documents_refused", refused.body);
    insta::assert_snapshot!("home_documents_each_status", tab.body);
}

/// The task page with "I'm stuck" sent and a due-date request pending (the states a
/// client reads, times in their zone with the zone named), then after the MSP answered
/// and approved.
#[tokio::test]
async fn task_help_pages() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let task = format!("/tasks/{}", h.tasks["standard"]);
    let open = b.get(&task).await;
    let csrf = open.csrf();
    let stuck = b
        .post(
            &format!("{task}/stuck"),
            &[("csrf", &csrf), ("reason", "Which admin account?")],
        )
        .await;
    assert_eq!(stuck.status, 303, "{}", stuck.body);
    let asked = b
        .post(
            &format!("{task}/due-date"),
            &[
                ("csrf", &csrf),
                ("date", "2026-12-20"),
                ("due_reason", "Our admin is away"),
            ],
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let waiting = b.get(&task).await;
    let refused = b
        .post(
            &format!("/tasks/{}/due-date", h.tasks["checklist"]),
            &[("csrf", &csrf), ("date", "2026-11-01"), ("due_reason", "x")],
        )
        .await;
    let id = h.tasks["standard"];
    h.service
        .clear_stuck(&h.staff, h.portal.id, id, Some("The one named fw-admin."))
        .await
        .unwrap();
    h.service
        .decide_due_date(&h.staff, h.portal.id, id, 1, true, None)
        .await
        .unwrap();
    let answered = b.get(&task).await;
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("task_help_open", open.body);
    insta::assert_snapshot!("task_help_waiting", waiting.body);
    insta::assert_snapshot!("task_help_refused", refused.body);
    insta::assert_snapshot!("task_help_answered", answered.body);
}

/// Issue 14: the home page's onboarding-team card (a photo, initials, roles, mailto
/// links) and the questions page with its "To" choice and a question to one member.
#[tokio::test]
async fn onboarding_team_card_and_a_question_to_one_member() {
    use portal_core::model::TeamMember;
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let photo = h
        .service
        .upload_team_photo(&h.staff, png.to_vec())
        .await
        .unwrap();
    let members = vec![
        TeamMember::new("Sam Lee", "Project lead", "sam@msp.example", Some(photo)).unwrap(),
        TeamMember::new("Ana Diaz", "Network engineer", "ana@msp.example", None).unwrap(),
        TeamMember::new("Mo Chen", "Account manager", "mo@msp.example", None).unwrap(),
    ];
    h.service
        .set_team(&h.staff, h.portal.id, members, None)
        .await
        .unwrap();
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    let form = b.get("/questions?to=sam%40msp.example").await;
    let asked = b
        .post(
            "/questions",
            &[
                ("csrf", &form.csrf()),
                ("to", "sam@msp.example"),
                ("question", "Can we move the kickoff call?"),
            ],
        )
        .await;
    assert_eq!(asked.status, 303);
    let thread = b.get("/questions?done=asked").await;
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("home_with_onboarding_team", home.body);
    insta::assert_snapshot!("questions_to_one_member", thread.body);
}

/// Issue 15: the colleagues page and the task page's claim / hand-off panel.
#[tokio::test]
async fn team_pages() {
    use portal_core::workflow::team::InvitationMode;
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    h.service
        .add_contact(
            &h.staff,
            h.portal.id,
            "Ann Colleague",
            "ann@contoso.example",
        )
        .await
        .unwrap();
    let team = b.get("/team").await;
    let refused = b
        .post(
            "/team",
            &[("csrf", &team.csrf()), ("name", "Sam"), ("email", "nope")],
        )
        .await;
    let requested = b
        .post(
            "/team",
            &[
                ("csrf", &team.csrf()),
                ("name", "Pat Pending"),
                ("email", "pat@contoso.example"),
            ],
        )
        .await;
    let requested = b.get(&requested.header("location")).await;
    h.service
        .set_colleague_invitations(&h.staff, h.portal.id, InvitationMode::Off, None)
        .await
        .unwrap();
    let off = b.get("/team").await;
    let task = format!("/tasks/{}", h.tasks["standard"]);
    let claimable = b.get(&task).await;
    b.post(&format!("{task}/claim"), &[("csrf", &claimable.csrf())])
        .await;
    let mine = b.get(&task).await;
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("team_page", team.body);
    insta::assert_snapshot!("team_page_refused", refused.body);
    insta::assert_snapshot!("team_page_requested", requested.body);
    insta::assert_snapshot!("team_page_off", off.body);
    insta::assert_snapshot!("task_team_claimable", claimable.body);
    insta::assert_snapshot!("task_team_mine", mine.body);
}
