//! Completing each task type as a client does, over HTTP: the pages, the rules, the
//! messages when something is not allowed, and what the MSP sees afterwards.

use portal_core::Error;
use portal_core::model::TimeZone;
use portal_core::model::{Logo, TaskStatus};
use portal_core::wording;
use portal_core::workflow::ActivityKind;
use portal_tests::{Browser, Harness, Mail, Options, Page, code_in};

async fn signed_in() -> (Harness, Browser) {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    (h, b)
}

fn task_path(h: &Harness, key: &str) -> String {
    format!("/tasks/{}", h.tasks[key])
}

async fn post(b: &Browser, path: &str, fields: &[(&str, &str)]) -> Page {
    let page = b.get(path).await;
    assert_eq!(page.status, 200, "{path}: {}", page.body);
    let csrf = page.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post(path, &all).await
}

async fn act(b: &Browser, task: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let page = b.get(task).await;
    assert_eq!(page.status, 200, "{task}: {}", page.body);
    let csrf = page.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post(&format!("{task}/{action}"), &all).await
}

async fn status(h: &Harness, key: &str) -> TaskStatus {
    h.service
        .staff_task(&h.staff, h.portal.id, h.tasks[key])
        .await
        .unwrap()
        .status
}

#[tokio::test]
async fn standard_task_mark_complete_with_notes() {
    let (h, b) = signed_in().await;
    let task = task_path(&h, "standard");
    let page = b.get(&task).await;
    assert!(page.body.contains("Mark Complete"));
    let done = act(
        &b,
        &task,
        "complete",
        &[("notes", "Mon–Fri 8:00–17:00\nSat closed")],
    )
    .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.header("location"), format!("{task}?done=completed"));
    let after = b.get(&done.header("location")).await;
    assert!(after.text().contains("Marked complete. Thank you!"));
    assert!(
        after
            .body
            .contains("✓ Completed by Dana Whitfield on Sat 28 Nov 2026, 10:00 UTC")
    );
    assert!(after.body.contains("Mon–Fri 8:00–17:00\nSat closed"));
    assert!(
        !after.body.contains("Mark Complete"),
        "no second completion offered"
    );
    assert_eq!(status(&h, "standard").await, TaskStatus::Completed);
    // A second completion (replayed form) is refused with a message and changes nothing.
    let again = b
        .post(&format!("{task}/complete"), &[("csrf", &after.csrf())])
        .await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("This task is already complete."));
    // The home page shows progress and the activity.
    let home = b.get("/").await;
    assert!(
        home.body.contains("(2 of 9 tasks complete)"),
        "progress moved"
    );
    assert!(
        home.body
            .contains("Dana Whitfield completed “Confirm opening hours”")
    );
}

#[tokio::test]
async fn survey_keeps_answers_and_marks_each_wrong_field() {
    let (h, b) = signed_in().await;
    let task = task_path(&h, "survey");
    let long = "x".repeat(51);
    let bad = act(
        &b,
        &task,
        "form",
        &[
            ("q.sites", &long),
            ("q.host", "7"),
            ("q.apps", "9"),
            ("q.score", "6"),
            ("q.notes", "<script>alert(1)</script>"),
            ("action", "submit"),
        ],
    )
    .await;
    assert_eq!(bad.status, 422);
    let text = bad.text();
    assert!(text.contains("Please fix the answers marked below. Your answers are kept."));
    assert!(text.contains("Keep it to 50 characters (this is 51)."));
    assert!(text.contains("Pick one of the options shown."));
    assert!(text.contains("Choose a whole number from 1 to 5."));
    assert!(
        bad.body.contains(&format!(r#"value="{long}""#)),
        "typed answer kept"
    );
    assert!(
        bad.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;</textarea>"),
        "kept, escaped"
    );
    assert!(bad.body.contains(r#"aria-invalid="true""#));
    assert_eq!(
        status(&h, "survey").await,
        TaskStatus::Pending,
        "nothing saved"
    );

    let draft = act(&b, &task, "form", &[("q.sites", "3"), ("action", "save")]).await;
    assert_eq!(draft.status, 303);
    assert_eq!(
        status(&h, "survey").await,
        TaskStatus::InProgress,
        "a partly saved form is in progress"
    );
    let page = b.get(&task).await;
    assert!(page.body.contains(r#"value="3""#), "draft answer shown");

    let missing = act(&b, &task, "form", &[("q.sites", "3"), ("action", "submit")]).await;
    assert_eq!(missing.status, 422);
    assert_eq!(
        missing
            .text()
            .matches("This question needs an answer.")
            .count(),
        2
    );

    let ok = act(
        &b,
        &task,
        "form",
        &[
            ("q.sites", "3"),
            ("q.host", "1"),
            ("q.apps", "0"),
            ("q.apps", "2"),
            ("q.score", "4"),
            ("action", "submit"),
        ],
    )
    .await;
    assert_eq!(ok.status, 303);
    let t = h
        .service
        .staff_task(&h.staff, h.portal.id, h.tasks["survey"])
        .await
        .unwrap();
    assert_eq!(t.status, TaskStatus::Completed);
    let answers: Vec<String> = t.evidence.answers.values().map(|a| a.display()).collect();
    assert_eq!(
        answers,
        vec!["Dentrix, Other", "Google Workspace", "4", "3"],
        "the MSP reads the answers"
    );
}

#[tokio::test]
async fn checklist_progress_and_completion() {
    let (h, b) = signed_in().await;
    let task = task_path(&h, "checklist");
    assert!(
        b.get(&task)
            .await
            .body
            .contains("<strong>0 of 2</strong> done")
    );
    assert_eq!(
        act(&b, &task, "checklist", &[("item", "a"), ("checked", "1")])
            .await
            .status,
        303
    );
    let page = b.get(&task).await;
    assert!(page.body.contains("<strong>1 of 2</strong> done"));
    assert!(page.body.contains("Checked by Dana Whitfield on"));
    assert_eq!(status(&h, "checklist").await, TaskStatus::InProgress);
    // Staff can check items too, recorded as them.
    h.service
        .staff_set_checklist_item(&h.staff, h.portal.id, h.tasks["checklist"], "b", true)
        .await
        .unwrap();
    let page = b.get(&task).await;
    assert!(page.body.contains("Checked by Sam Staff on"));
    assert!(page.body.contains("<strong>2 of 2</strong> done"));
    assert_eq!(status(&h, "checklist").await, TaskStatus::Completed);
    let unknown = act(
        &b,
        &task_path(&h, "checklist"),
        "checklist",
        &[("item", "zzz"), ("checked", "1")],
    )
    .await;
    assert_eq!(
        unknown.status, 409,
        "completed: refused before looking at the item"
    );
}

#[tokio::test]
async fn a_tick_by_mistake_on_the_last_item_can_be_taken_back_without_js() {
    let (h, b) = signed_in().await;
    let task = task_path(&h, "checklist");
    for item in ["a", "b"] {
        let r = act(&b, &task, "checklist", &[("item", item), ("checked", "1")]).await;
        assert_eq!(r.status, 303);
    }
    assert_eq!(status(&h, "checklist").await, TaskStatus::Completed);
    // The completed page still offers a plain form button to uncheck each item.
    let page = b.get(&task).await;
    assert!(
        page.body.contains(
            r#"<button class="link-button" type="submit" name="checked" value="0">Uncheck"#
        ),
        "{}",
        page.body
    );
    let r = act(&b, &task, "checklist", &[("item", "b"), ("checked", "0")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(status(&h, "checklist").await, TaskStatus::InProgress);
    let page = b.get(&task).await;
    assert!(page.body.contains("<strong>1 of 2</strong> done"));
    // The feed records the reopening, by the client, naming the item.
    let feed = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 10)
        .await
        .unwrap()
        .items;
    let reopened = feed
        .iter()
        .find(|a| a.kind == ActivityKind::TaskReopened)
        .expect("a reopened entry");
    assert_eq!(reopened.actor.name(), "Dana Whitfield");
    assert_eq!(reopened.task_id, Some(h.tasks["checklist"]));
    assert!(reopened.detail.is_some());
}

#[tokio::test]
async fn unknown_checklist_item_is_refused() {
    let (h, b) = signed_in().await;
    let task = task_path(&h, "checklist");
    let page = act(
        &b,
        &task,
        "checklist",
        &[("item", "../../etc"), ("checked", "1")],
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(page.text().contains("that checklist item does not exist"));
    assert_eq!(status(&h, "checklist").await, TaskStatus::Pending);
}

#[tokio::test]
async fn approval_records_who_when_and_from_where() {
    let (h, b) = signed_in().await;
    let task = task_path(&h, "approval");
    let page = b.get(&task).await;
    assert!(page.body.contains("Approve") && page.body.contains("Reject"));
    assert!(page.body.contains("Plan.pdf"));
    let done = act(
        &b,
        &task,
        "decision",
        &[
            ("decision", "reject"),
            ("comment", "Weekend of the 19th works better"),
        ],
    )
    .await;
    assert_eq!(done.status, 303);
    let t = h
        .service
        .staff_task(&h.staff, h.portal.id, h.tasks["approval"])
        .await
        .unwrap();
    let d = t.evidence.decision.unwrap();
    assert!(!d.approved);
    assert_eq!(d.name, "Dana Whitfield");
    assert_eq!(d.email.as_str(), "dana@contoso.example");
    assert!(d.ip.unwrap().is_loopback());
    assert_eq!(d.user_agent.as_deref(), Some("journey-test/1.0"));
    assert_eq!(d.at, portal_tests::t0());
    assert_eq!(
        d.comment.as_deref(),
        Some("Weekend of the 19th works better")
    );
    let after = b.get(&task).await;
    assert!(after.body.contains(
        r#"✗ Rejected by Dana Whitfield <span class="who-email">(dana@contoso.example)</span>"#
    ));
    let again = b
        .post(
            &format!("{task}/decision"),
            &[("csrf", &after.csrf()), ("decision", "approve")],
        )
        .await;
    assert_eq!(again.status, 409);
    let missing = act(
        &b,
        &task_path(&h, "standard"),
        "decision",
        &[("decision", "maybe")],
    )
    .await;
    assert_eq!(missing.status, 422);
    // The Approvals tab lists it with its outcome.
    let tab = b.get("/?tab=approvals").await;
    assert!(tab.body.contains("Approve the migration date"));
    assert!(
        tab.body
            .contains(r#"<span class="pill pill-rejected">Rejected</span>"#)
    );
}

/// A contact in Pacific/Auckland reads every time on every page in their zone, named:
/// the meeting (scheduled in Chicago), comments, the feed, questions and answers,
/// uploads, a completion, and the code's expiry on the "check your email" page.
#[tokio::test]
async fn pages_show_every_time_in_the_contacts_zone_named() {
    let h = Harness::start(Options::memory()).await;
    let zone = TimeZone::parse("Pacific/Auckland").unwrap();
    let kiwi = h
        .service
        .add_contact_in_zone(
            &h.staff,
            h.portal.id,
            "Aroha Ngata",
            "aroha@contoso.example",
            Some(zone),
            None,
        )
        .await
        .unwrap();
    let invite = h.service.invite_contact(&h.staff, kiwi.id).await.unwrap();
    let Mail::Recording(mailer) = &h.mail else {
        panic!("Options::memory records emails")
    };
    let b = h.browser();
    let invite_path = format!("/i/{}", invite.expose_secret());
    let invite_page = b.get(&invite_path).await;
    b.post(&invite_path, &[("csrf", &invite_page.csrf())]).await;
    let check = b.get("/verify").await;
    // The clock stands at t0 (2026-11-28T10:00Z, 23:00 NZDT): so does the code's expiry.
    assert!(
        check.body.contains("NZDT (Pacific/Auckland)"),
        "{}",
        check.body
    );
    let code = code_in(&mailer.last_to("aroha@contoso.example").unwrap().text);
    let done = b
        .post("/verify/code", &[("csrf", &check.csrf()), ("code", &code)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);

    // 2026-11-30T10:00Z is 23:00 on the same day in Auckland (NZDT, UTC+13).
    let meeting = b.get(&task_path(&h, "meeting")).await;
    assert!(
        meeting
            .body
            .contains("Monday 30 November 2026, 11:00 PM – 11:45 PM NZDT"),
        "{}",
        meeting.body
    );
    assert!(meeting.body.contains("(Pacific/Auckland)"));
    let local = |at| wording::local_time(at, zone);
    let t0 = h.service.clock().now();
    assert_eq!(
        t0,
        portal_tests::t0(),
        "the clock stands still: every time below is t0"
    );
    assert_eq!(local(t0), "Sat 28 Nov 2026, 23:00 NZDT (Pacific/Auckland)");

    let commented = act(
        &b,
        &task_path(&h, "standard"),
        "comments",
        &[("comment", "Hello")],
    )
    .await;
    assert_eq!(commented.status, 303, "{}", commented.body);
    let completed = act(
        &b,
        &task_path(&h, "standard"),
        "complete",
        &[("notes", "Done")],
    )
    .await;
    assert_eq!(completed.status, 303, "{}", completed.body);
    let task = b.get(&task_path(&h, "standard")).await;
    assert!(
        task.body.contains(&format!("<time>{}</time>", local(t0))),
        "the comment's time: {}",
        task.body
    );
    let asked = post(
        &b,
        "/questions",
        &[("question", "Do we need to be on site?")],
    )
    .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let questions = b.get("/questions").await;
    assert!(questions.body.contains(&local(t0)), "{}", questions.body);
    let home = b.get("/").await;
    assert!(
        home.body.contains(&format!("<time>{}</time>", local(t0))),
        "{}",
        home.body
    );
    for (what, page) in [
        ("meeting", &meeting),
        ("task", &task),
        ("questions", &questions),
        ("home", &home),
    ] {
        assert!(
            !page.body.contains(" UTC"),
            "{what}: a time in UTC for a contact in Auckland: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn meeting_shows_zone_join_link_and_calendar_file() {
    let (h, b) = signed_in().await;
    let task = task_path(&h, "meeting");
    let page = b.get(&task).await;
    // The demo contact reads times in UTC (the tenant's zone): the meeting, set in
    // Chicago, is shown in theirs.
    assert!(
        page.body
            .contains("Monday 30 November 2026, 10:00 AM – 10:45 AM UTC"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("(UTC)"), "the zone is named once");
    assert!(page.body.contains("45 minutes"));
    assert!(page.body.contains(r#"href="https://meet.example.com/acme" target="_blank" rel="noopener noreferrer">Join Meeting</a>"#));
    assert!(page.body.contains("Download Calendar Invite"));
    let ics = b.get(&format!("{task}/invite.ics")).await;
    assert_eq!(ics.status, 200);
    assert!(ics.header("content-type").starts_with("text/calendar"));
    assert!(ics.header("content-disposition").contains("attachment"));
    assert!(
        ics.body
            .contains(&format!("UID:{}@msp-client-portal", h.tasks["meeting"]))
    );
    assert!(ics.body.contains("DTSTART:20261130T100000Z"));
    assert!(ics.body.contains("SEQUENCE:0"));
    // Another portal's meeting (or a non-meeting) is not found.
    assert_eq!(
        b.get(&format!("/tasks/{}/invite.ics", h.other_tasks["meeting"]))
            .await
            .status,
        404
    );
    assert_eq!(
        b.get(&format!("{}/invite.ics", task_path(&h, "standard")))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn training_embeds_the_nocookie_player() {
    let (h, b) = signed_in().await;
    let task = task_path(&h, "training");
    let page = b.get(&task).await;
    assert!(
        page.body
            .contains(r#"<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ""#)
    );
    // Under the player, a plain link to the video on its site: it works when the
    // embedded player is blocked, and after the task is completed.
    let link = r#"<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ" target="_blank" rel="noopener noreferrer">Open the video on YouTube</a>"#;
    assert!(page.body.contains(link), "{}", page.body);
    assert!(page.header("content-security-policy").contains(
        "frame-src https://www.youtube-nocookie.com https://player.vimeo.com https://www.loom.com"
    ));
    assert_eq!(act(&b, &task, "complete", &[]).await.status, 303);
    assert_eq!(status(&h, "training").await, TaskStatus::Completed);
    assert!(b.get(&task).await.body.contains(link));
}

#[tokio::test]
async fn comments_thread_and_msp_notification() {
    let (h, b) = signed_in().await;
    let task = task_path(&h, "upload");
    let posted = act(
        &b,
        &task,
        "comments",
        &[("comment", "Is a photo of the rack OK?\n<script>x</script>")],
    )
    .await;
    assert_eq!(posted.status, 303);
    h.service
        .staff_add_comment(
            &h.staff,
            h.portal.id,
            h.tasks["upload"],
            "Yes, a photo is perfect.",
        )
        .await
        .unwrap();
    let page = b.get(&task).await;
    assert!(
        page.body
            .contains("Is a photo of the rack OK?\n&#60;script&#62;x&#60;/script&#62;")
    );
    assert!(page.body.contains("Yes, a photo is perfect."));
    assert!(
        page.body.find("Is a photo").unwrap() < page.body.find("Yes, a photo").unwrap(),
        "oldest first"
    );
    let portal_tests::Mail::Recording(mail) = &h.mail else {
        unreachable!()
    };
    let note = mail
        .last_to("alerts@acme-msp.example")
        .expect("MSP notified");
    assert!(
        note.subject
            .contains("Dana Whitfield commented on “Upload network docs”"),
        "{}",
        note.subject
    );
    assert!(note.text.contains("Is a photo of the rack OK?"));
    let too_long = "y".repeat(5001);
    let refused = act(&b, &task, "comments", &[("comment", &too_long)]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("must be at most 5000 characters"));
    let empty = act(&b, &task, "comments", &[("comment", "   ")]).await;
    assert_eq!(empty.status, 422);
    assert_eq!(
        h.service
            .staff_comments(&h.staff, h.portal.id, h.tasks["upload"])
            .await
            .unwrap()
            .len(),
        2,
        "refused comments changed nothing"
    );
}

#[tokio::test]
async fn ask_a_question_and_see_the_answer() {
    let (h, b) = signed_in().await;
    assert!(
        b.get("/").await.body.contains("Ask a Question"),
        "on every portal page"
    );
    assert!(
        b.get(&task_path(&h, "standard"))
            .await
            .body
            .contains("Ask a Question")
    );
    let asked = post(
        &b,
        "/questions",
        &[("question", "Do we need to be on site for the migration?")],
    )
    .await;
    assert_eq!(asked.status, 303);
    let portal_tests::Mail::Recording(mail) = &h.mail else {
        unreachable!()
    };
    let note = mail
        .last_to("alerts@acme-msp.example")
        .expect("MSP notified");
    assert!(note.subject.contains("Question from Dana Whitfield"));
    let questions = h
        .service
        .staff_questions(&h.staff, h.portal.id)
        .await
        .unwrap();
    assert_eq!(questions.len(), 1, "listed for the MSP");
    h.service
        .answer_question(
            &h.staff,
            h.portal.id,
            questions[0].id,
            "No, we do it remotely.",
        )
        .await
        .unwrap();
    let page = b.get("/questions").await;
    assert!(
        page.body
            .contains("Do we need to be on site for the migration?")
    );
    assert!(page.body.contains("No, we do it remotely."));
    let feed = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 10)
        .await
        .unwrap()
        .items;
    assert!(feed.iter().any(|a| a.kind == ActivityKind::QuestionAsked));
    let empty = post(&b, "/questions", &[("question", "")]).await;
    assert_eq!(empty.status, 422);
}

#[tokio::test]
async fn clients_only_act_on_their_own_client_tasks() {
    let (h, b) = signed_in().await;
    // Another portal's task: not found, for reading and for acting.
    let theirs = format!("/tasks/{}", h.other_tasks["standard"]);
    assert_eq!(b.get(&theirs).await.status, 404);
    let home = b.get("/").await;
    let res = b
        .post(&format!("{theirs}/complete"), &[("csrf", &home.csrf())])
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(
        h.service
            .staff_task(&h.other_staff, h.other_portal.id, h.other_tasks["standard"])
            .await
            .unwrap()
            .status,
        TaskStatus::Pending
    );
    // An MSP task: readable, not changeable.
    let msp = task_path(&h, "assign");
    let page = b.get(&msp).await;
    assert!(page.body.contains("Acme MSP does this task."));
    assert!(!page.body.contains("Mark Complete"));
    let res = b
        .post(&format!("{msp}/complete"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(status(&h, "assign").await, TaskStatus::Pending);
    // Nonsense ids and actions.
    assert_eq!(b.get("/tasks/not-a-uuid").await.status, 404);
    assert_eq!(
        b.post(
            &format!("{}/explode", task_path(&h, "standard")),
            &[("csrf", &page.csrf())]
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn blocked_task_explains_why_and_refuses_changes() {
    let (h, b) = signed_in().await;
    h.service
        .block_task(
            &h.staff,
            h.portal.id,
            h.tasks["standard"],
            "Waiting for your building manager",
        )
        .await
        .unwrap();
    let task = task_path(&h, "standard");
    let page = b.get(&task).await;
    assert!(
        page.body
            .contains("<strong>Blocked:</strong> Waiting for your building manager")
    );
    assert!(!page.body.contains("Mark Complete"));
    let res = b
        .post(&format!("{task}/complete"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(res.status, 409);
    assert!(
        res.text()
            .contains("This task is blocked (Waiting for your building manager)")
    );
    h.service
        .unblock_task(&h.staff, h.portal.id, h.tasks["standard"])
        .await
        .unwrap();
    assert_eq!(act(&b, &task, "complete", &[]).await.status, 303);
    h.service
        .reopen_task(&h.staff, h.portal.id, h.tasks["standard"])
        .await
        .unwrap();
    assert_eq!(status(&h, "standard").await, TaskStatus::Pending);
}

#[tokio::test]
async fn our_progress_marks_phases() {
    let (h, b) = signed_in().await;
    let page = b.get("/?tab=progress").await;
    // Kickoff has a completed task and open ones: in progress and current.
    assert!(
        page.body.contains("phase phase-in_progress phase-current"),
        "{}",
        page.body
    );
    for key in ["meeting"] {
        h.service
            .staff_complete(&h.staff, h.portal.id, h.tasks[key], None)
            .await
            .unwrap();
    }
    h.service
        .staff_complete(&h.staff, h.portal.id, h.tasks["assign"], None)
        .await
        .unwrap();
    let page = b.get("/?tab=progress").await;
    assert!(
        page.body.contains("phase phase-completed"),
        "Kickoff completed"
    );
    assert!(page.body.contains("✓"));
    assert!(page.body.contains("(3 of 9 tasks complete)"));
}

#[tokio::test]
async fn branding_logo_is_served_and_applies_to_new_portals_only() {
    let (h, b) = signed_in().await;
    let png = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/demo/assets/logo.png"
    ))
    .unwrap();
    match h
        .service
        .upload_logo(&h.staff, b"<svg onload=alert(1)/>".to_vec())
        .await
    {
        Err(Error::Invalid {
            field: "logo",
            reason,
        }) => assert!(reason.contains("PNG, JPEG, GIF or WebP"), "{reason}"),
        other => panic!("only raster images, got {other:?}"),
    }
    // A real PNG, one byte over the limit.
    let mut too_big = png.clone();
    too_big.resize(Logo::MAX_BYTES + 1, 0);
    match h.service.upload_logo(&h.staff, too_big).await {
        Err(Error::Invalid {
            field: "logo",
            reason,
        }) => assert!(reason.contains("at most 512 KiB"), "{reason}"),
        other => panic!("size-limited, got {other:?}"),
    }
    let logo = h.service.upload_logo(&h.staff, png.clone()).await.unwrap();
    let branding = portal_core::model::Branding::new(
        "Acme Rebrand",
        "#ffd33d",
        "New hello",
        Some(logo.clone()),
    )
    .unwrap();
    h.service
        .update_tenant_branding(&h.staff, branding)
        .await
        .unwrap();
    // The existing portal keeps its branding until overridden.
    let home = b.get("/").await;
    assert!(
        home.body
            .contains(r#"<span class="company">Acme MSP</span>"#)
    );
    assert!(!home.body.contains("/brand/logo/"));
    // A portal created now starts from the new defaults.
    let newer = h
        .service
        .create_portal(
            &h.staff,
            "Northwind",
            portal_core::model::PortalStatus::Active,
        )
        .await
        .unwrap();
    assert_eq!(newer.branding.company_name, "Acme Rebrand");
    assert_eq!(newer.branding.logo.as_ref(), Some(&logo));
    // Overriding this portal shows the logo, with readable text on the yellow accent.
    let mine = portal_core::model::Branding::new(
        "Acme Rebrand",
        "#ffd33d",
        "Hello\nthere",
        Some(logo.clone()),
    )
    .unwrap();
    h.service
        .update_portal_branding(&h.staff, h.portal.id, mine)
        .await
        .unwrap();
    let home = b.get("/").await;
    let src = format!("/brand/logo/{}", logo.sha256);
    assert!(home.body.contains(&format!(
        r#"<img class="logo" src="{src}" alt="Acme Rebrand logo">"#
    )));
    assert!(home.body.contains("--accent:#ffd33d;--accent-text:#000000"));
    assert!(home.body.contains("Hello\nthere"));
    let img = b.get(&src).await;
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type"), "image/png");
    assert!(img.header("cache-control").contains("immutable"));
    assert_eq!(
        img.headers
            .get("content-length")
            .map(|v| v.to_str().unwrap().to_owned()),
        Some(png.len().to_string())
    );
    assert_eq!(
        b.get(&format!("/brand/logo/{}", "0".repeat(64)))
            .await
            .status,
        404
    );
    assert_eq!(b.get("/brand/logo/../../etc/passwd").await.status, 404);
}

/// A task key, an action and its form fields.
type Attempt = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

#[tokio::test]
async fn no_action_reaches_another_portals_task() {
    let (h, b) = signed_in().await;
    let csrf = b.get("/").await.csrf();
    let before = h
        .service
        .staff_activity(&h.other_staff, h.other_portal.id, None, 100)
        .await
        .unwrap()
        .items
        .len();
    let attempts: [Attempt; 5] = [
        ("standard", "complete", vec![("notes", "x")]),
        ("survey", "form", vec![("q.sites", "1"), ("action", "save")]),
        (
            "checklist",
            "checklist",
            vec![("item", "a"), ("checked", "1")],
        ),
        ("approval", "decision", vec![("decision", "approve")]),
        ("upload", "comments", vec![("comment", "hello")]),
    ];
    for (key, action, fields) in attempts {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        let res = b
            .post(&format!("/tasks/{}/{action}", h.other_tasks[key]), &all)
            .await;
        assert_eq!(res.status, 404, "{action} on another portal's {key}");
        assert!(!res.body.contains("Fabrikam"));
    }
    assert_eq!(
        h.service
            .staff_activity(&h.other_staff, h.other_portal.id, None, 100)
            .await
            .unwrap()
            .items
            .len(),
        before,
        "nothing recorded"
    );
    assert!(
        h.service
            .staff_comments(&h.other_staff, h.other_portal.id, h.other_tasks["upload"])
            .await
            .unwrap()
            .is_empty()
    );
    for key in ["standard", "survey", "checklist", "approval"] {
        let t = h
            .service
            .staff_task(&h.other_staff, h.other_portal.id, h.other_tasks[key])
            .await
            .unwrap();
        assert!(t.evidence.is_empty(), "{key} untouched");
    }
}

/// Issue 14: the home page shows the onboarding team (names, roles, mailto links,
/// initials without a photo); "Ask a Question" may go to one member, who alone is
/// emailed, and the thread and the staff API's read name them.
#[tokio::test]
async fn a_question_to_one_team_member_emails_them_and_names_them() {
    use portal_core::model::TeamMember;
    let (h, b) = signed_in().await;
    let home = b.get("/").await;
    assert!(
        !home.body.contains("Your onboarding team"),
        "no team, no card"
    );
    let members = vec![
        TeamMember::new("Sam Lee", "Project lead", "sam@msp.example", None).unwrap(),
        TeamMember::new("Ana Diaz", "Network engineer", "ana@msp.example", None).unwrap(),
    ];
    h.service
        .set_team(&h.staff, h.portal.id, members, None)
        .await
        .unwrap();
    let home = b.get("/").await;
    assert!(home.body.contains("Your onboarding team"), "{}", home.body);
    assert!(
        home.body
            .contains(r#"<a href="mailto:sam@msp.example">sam@msp.example</a>"#)
    );
    assert!(
        home.body
            .contains(r#"<span class="team-initials" aria-hidden="true">SL</span>"#)
    );
    let sam = home.body.find("Sam Lee").unwrap();
    let ana = home.body.find("Ana Diaz").unwrap();
    assert!(sam < ana, "the team in the MSP's order");

    let form = b.get("/questions?to=ana%40msp.example").await;
    assert!(
        form.body
            .contains(r#"<option value="">The whole onboarding team</option>"#),
        "{}",
        form.body
    );
    assert!(
        form.body.contains(
            r#"<option value="ana@msp.example" selected>Ana Diaz, Network engineer</option>"#
        ),
        "{}",
        form.body
    );

    let Mail::Recording(mail) = &h.mail else {
        unreachable!()
    };
    let to_msp_before = mail
        .sent()
        .iter()
        .filter(|e| e.to.as_str() == "alerts@acme-msp.example")
        .count();
    let asked = post(
        &b,
        "/questions",
        &[
            ("to", "sam@msp.example"),
            ("question", "When do you switch the firewall?"),
        ],
    )
    .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let note = mail.last_to("sam@msp.example").expect("Sam is emailed");
    assert!(note.text.contains("When do you switch the firewall?"));
    assert!(
        mail.last_to("ana@msp.example").is_none(),
        "only the one asked"
    );
    assert_eq!(
        mail.sent()
            .iter()
            .filter(|e| e.to.as_str() == "alerts@acme-msp.example")
            .count(),
        to_msp_before,
        "a question to one person does not go to the whole team"
    );
    let page = b.get("/questions").await;
    assert!(
        page.body.contains("To: Sam Lee, Project lead"),
        "{}",
        page.body
    );
    let staff = h
        .service
        .staff_questions(&h.staff, h.portal.id)
        .await
        .unwrap();
    let to = staff[0].to.as_ref().expect("the addressee is recorded");
    assert_eq!(
        (to.name.as_str(), to.email.as_str()),
        ("Sam Lee", "sam@msp.example")
    );

    // Someone not on the team: refused with what to fix, nothing stored.
    let refused = post(
        &b,
        "/questions",
        &[("to", "eve@elsewhere.example"), ("question", "Hello?")],
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("Please choose who to ask"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("Hello?"), "the draft is kept");
    assert_eq!(
        h.service
            .staff_questions(&h.staff, h.portal.id)
            .await
            .unwrap()
            .len(),
        1
    );
    // The team change is in the staff feed, not the client's.
    let feed = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 50)
        .await
        .unwrap()
        .items;
    assert!(feed.iter().any(|a| a.kind == ActivityKind::TeamChanged));
    assert!(
        !b.get("/")
            .await
            .body
            .contains("changed the onboarding team")
    );
}
