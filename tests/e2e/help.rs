//! "I'm stuck" and due-date requests as a client does them over HTTP: the forms, what
//! a refused form says (and that nothing is stored), CSRF, another portal's task, and
//! the page after the MSP answered or decided.

use portal_core::workflow::{due_dates, stuck};
use portal_tests::{Browser, Harness, Options, Page};

async fn signed_in() -> (Harness, Browser) {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    (h, b)
}

async fn act(b: &Browser, task: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let page = b.get(task).await;
    assert_eq!(page.status, 200, "{task}: {}", page.body);
    let csrf = page.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post(&format!("{task}/{action}"), &all).await
}

async fn stored(h: &Harness, key: &str) -> portal_core::model::Task {
    h.service
        .staff_task(&h.staff, h.portal.id, h.tasks[key])
        .await
        .unwrap()
}

fn msp_mail(h: &Harness) -> Vec<portal_core::Email> {
    let portal_tests::Mail::Recording(mail) = &h.mail else {
        unreachable!()
    };
    mail.sent()
        .into_iter()
        .filter(|e| e.to.as_str() == "alerts@acme-msp.example")
        .collect()
}

#[tokio::test]
async fn stuck_reaches_the_msp_and_the_answer_reaches_the_client() {
    let (h, b) = signed_in().await;
    let task = format!("/tasks/{}", h.tasks["standard"]);
    let page = b.get(&task).await;
    assert!(page.body.contains("I'm stuck"), "{}", page.body);
    let before = msp_mail(&h).len();

    // An empty reason: 422, said at the field, nothing stored or sent.
    let refused = act(&b, &task, "stuck", &[("reason", "   ")]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"stuck-reason-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    assert!(!stuck::is_stuck(&stored(&h, "standard").await));
    assert_eq!(msp_mail(&h).len(), before);
    // Control characters: refused too, and what was typed is kept.
    let refused = act(&b, &task, "stuck", &[("reason", "ring\u{7}")]).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("control characters"),
        "{}",
        refused.body
    );

    // Without the CSRF token: refused, nothing stored.
    let forged = b
        .post(&format!("{task}/stuck"), &[("reason", "forged")])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(!stuck::is_stuck(&stored(&h, "standard").await));

    let sent = act(&b, &task, "stuck", &[("reason", "Which admin account?")]).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.header("location"), format!("{task}?done=stuck"));
    let after = b.get(&sent.header("location")).await;
    assert!(after.text().contains("has been told you're stuck"));
    assert!(
        after.body.contains("Waiting for Acme MSP to help."),
        "{}",
        after.body
    );
    assert!(
        after.body.contains("I&#39;m stuck: Which admin account?")
            || after.body.contains("I'm stuck: Which admin account?")
    );
    assert!(
        !after.body.contains("Tell Acme MSP I&#39;m stuck"),
        "no second report offered"
    );
    let mails = msp_mail(&h);
    assert_eq!(mails.len(), before + 1, "the MSP is emailed at once");
    assert!(
        mails[before].subject.contains("is stuck on"),
        "{}",
        mails[before].subject
    );
    assert!(mails[before].text.contains("Which admin account?"));
    // The home says it waits on the MSP, not overdue.
    let home = b.get("/").await;
    assert!(
        home.body.contains("Waiting for Acme MSP to help"),
        "{}",
        home.body
    );
    // A replayed report: 409 with the reason, nothing added.
    let again = act(&b, &task, "stuck", &[("reason", "still")]).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("You already said you are stuck"));
    assert_eq!(msp_mail(&h).len(), before + 1);

    // The MSP answers and clears: the client is emailed and the page says so.
    h.service
        .clear_stuck(
            &h.staff,
            h.portal.id,
            h.tasks["standard"],
            Some("The one named fw-admin."),
        )
        .await
        .unwrap();
    let cleared = b.get(&task).await;
    assert!(cleared.body.contains("answered on"), "{}", cleared.body);
    assert!(cleared.body.contains("The one named fw-admin."));
    assert!(
        cleared.body.contains("I'm stuck") || cleared.body.contains("I&#39;m stuck"),
        "can report again"
    );
    let told = h.last_email_text();
    assert!(told.contains("The one named fw-admin."), "{told}");
}

#[tokio::test]
async fn another_portals_task_is_not_found() {
    let (h, b) = signed_in().await;
    let mine = format!("/tasks/{}", h.tasks["standard"]);
    let csrf = b.get(&mine).await.csrf();
    let theirs = h.other_tasks["standard"];
    for (action, fields) in [
        ("stuck", vec![("reason", "x")]),
        (
            "due-date",
            vec![("date", "2026-12-20"), ("due_reason", "x")],
        ),
    ] {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        let page = b.post(&format!("/tasks/{theirs}/{action}"), &all).await;
        assert_eq!(page.status, 404, "{action}: {}", page.body);
    }
    let other = h
        .service
        .staff_task(&h.other_staff, h.other_portal.id, theirs)
        .await
        .unwrap();
    assert!(!stuck::is_stuck(&other));
    assert!(other.evidence.due_date_requests.is_empty());
}

#[tokio::test]
async fn due_date_requests_over_http() {
    let (h, b) = signed_in().await;
    let task = format!("/tasks/{}", h.tasks["standard"]);
    let page = b.get(&task).await;
    assert!(page.body.contains("Ask for a new due date"));
    // Today is 2026-11-28 in the contact's zone: the field says so.
    assert!(page.body.contains("min=\"2026-11-28\""), "{}", page.body);
    for (date, reason, error_id) in [
        ("2026-11-27", "Away", "due-date-error"),
        ("soon", "Away", "due-date-error"),
        ("2026-12-20", "", "due-reason-error"),
    ] {
        let refused = act(
            &b,
            &task,
            "due-date",
            &[("date", date), ("due_reason", reason)],
        )
        .await;
        assert_eq!(refused.status, 422, "{date}: {}", refused.body);
        assert!(
            refused.body.contains(&format!("id=\"{error_id}\"")),
            "{date}: {}",
            refused.body
        );
        assert!(refused.body.contains("Nothing was asked"));
    }
    assert!(
        stored(&h, "standard")
            .await
            .evidence
            .due_date_requests
            .is_empty()
    );

    let before = stored(&h, "standard").await.due_date;
    let asked = act(
        &b,
        &task,
        "due-date",
        &[("date", "2026-12-20"), ("due_reason", "Our admin is away")],
    )
    .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let after = b.get(&asked.header("location")).await;
    assert!(after.body.contains("Sun 20 Dec 2026"), "{}", after.body);
    assert!(after.body.contains("Waiting for Acme MSP"));
    assert!(
        !after.body.contains("Ask for this date"),
        "one pending request"
    );
    assert_eq!(stored(&h, "standard").await.due_date, before, "pending");
    let again = act(
        &b,
        &task,
        "due-date",
        &[("date", "2026-12-21"), ("due_reason", "again")],
    )
    .await;
    assert_eq!(again.status, 409);

    // Declined, then asked again and approved: the history shows both.
    h.service
        .decide_due_date(
            &h.staff,
            h.portal.id,
            h.tasks["standard"],
            1,
            false,
            Some("Go-live is fixed."),
        )
        .await
        .unwrap();
    let asked = act(
        &b,
        &task,
        "due-date",
        &[("date", "2026-12-18"), ("due_reason", "Two days then?")],
    )
    .await;
    assert_eq!(asked.status, 303);
    h.service
        .decide_due_date(&h.staff, h.portal.id, h.tasks["standard"], 2, true, None)
        .await
        .unwrap();
    let t = stored(&h, "standard").await;
    assert_eq!(t.due_date, chrono::NaiveDate::from_ymd_opt(2026, 12, 18));
    assert!(due_dates::pending(&t).is_none());
    let page = b.get(&task).await;
    assert!(page.body.contains("Due Fri 18 Dec 2026"), "{}", page.body);
    assert!(page.body.contains("Declined"));
    assert!(page.body.contains("Go-live is fixed."));
    assert!(page.body.contains("Approved"));
    let told = h.last_email_text();
    assert!(told.contains("it is now due Fri 18 Dec 2026"), "{told}");
}
