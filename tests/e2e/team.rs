//! Colleagues over HTTP: a contact invites a colleague from "Your team" (at once and
//! after approval, the cap, what a refused form says), the colleague signs in with
//! their own link, claims and hand-offs on the task page, and another portal's tasks
//! and contacts are out of reach.

use portal_core::workflow::team::{InvitationMode, MAX_CONTACTS_PER_PORTAL};
use portal_tests::{Browser, Harness, Mail, Options, code_in, link_in, sign_in_over_http};

async fn signed_in() -> (Harness, Browser) {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    (h, b)
}

fn last_to(h: &Harness, email: &str) -> Option<portal_core::Email> {
    let Mail::Recording(mail) = &h.mail else {
        unreachable!()
    };
    mail.last_to(email)
}

async fn set_mode(h: &Harness, mode: InvitationMode) {
    h.service
        .set_colleague_invitations(&h.staff, h.portal.id, mode, None)
        .await
        .unwrap();
}

async fn invite(b: &Browser, name: &str, email: &str) -> portal_tests::Page {
    let page = b.get("/team").await;
    assert_eq!(page.status, 200, "{}", page.body);
    b.post(
        "/team",
        &[("csrf", &page.csrf()), ("name", name), ("email", email)],
    )
    .await
}

#[tokio::test]
async fn a_contact_invites_a_colleague_who_signs_in_with_their_own_link() {
    let (h, b) = signed_in().await;
    set_mode(&h, InvitationMode::AtOnce).await;
    let page = b.get("/team").await;
    assert!(page.body.contains("Invite a colleague"), "{}", page.body);
    assert!(page.body.contains("(you)"));

    // Without the CSRF token: refused, nobody added.
    let forged = b
        .post(
            "/team",
            &[("name", "Eve"), ("email", "eve@contoso.example")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);

    // A bad email: 422 at the field, what was typed kept, nothing stored.
    let refused = invite(&b, "Sam Colleague", "not an email").await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"email-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"Sam Colleague\""));
    let before = h.service.store().contacts(h.portal.id).await.unwrap().len();

    let sent = invite(&b, "Sam Colleague", "sam@contoso.example").await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.header("location"), "/team?done=invited");
    let after = b.get(&sent.header("location")).await;
    assert!(after.text().contains("Invitation sent"), "{}", after.body);
    assert!(after.text().contains("Sam Colleague"));
    assert_eq!(
        h.service.store().contacts(h.portal.id).await.unwrap().len(),
        before + 1
    );
    // The same email again: refused at the field.
    let again = invite(&b, "Sam Again", "sam@contoso.example").await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(again.body.contains("already on your team"));

    // The colleague signs in with their own link, in their own browser.
    let email = last_to(&h, "sam@contoso.example").unwrap();
    let link = link_in(&email.text, "i");
    assert_ne!(link, h.invite_path(), "links are never shared");
    let sam = h.browser();
    sign_in_over_http(&sam, &link, || {
        code_in(&last_to(&h, "sam@contoso.example").unwrap().text)
    })
    .await;
    let home = sam.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
}

#[tokio::test]
async fn after_approval_the_colleague_waits_for_staff() {
    let (h, b) = signed_in().await;
    let sent = invite(&b, "Pat Pending", "pat@contoso.example").await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.header("location"), "/team?done=requested");
    let page = b.get("/team").await;
    assert!(
        page.text()
            .contains("Waiting for your onboarding team to approve")
    );
    assert!(
        last_to(&h, "pat@contoso.example").is_none(),
        "no link before approval"
    );
    let pat = h
        .service
        .pending_colleagues(&h.staff, h.portal.id)
        .await
        .unwrap()
        .remove(0);
    h.service.approve_colleague(&h.staff, pat.id).await.unwrap();
    let email = last_to(&h, "pat@contoso.example").unwrap();
    let pat_browser = h.browser();
    sign_in_over_http(&pat_browser, &link_in(&email.text, "i"), || {
        code_in(&last_to(&h, "pat@contoso.example").unwrap().text)
    })
    .await;
}

#[tokio::test]
async fn off_hides_the_form_and_the_cap_is_said() {
    let (h, b) = signed_in().await;
    set_mode(&h, InvitationMode::Off).await;
    let page = b.get("/team").await;
    assert!(!page.body.contains("Invite a colleague"), "{}", page.body);
    let refused = b
        .post(
            "/team",
            &[
                ("csrf", &page.csrf()),
                ("name", "X"),
                ("email", "x@contoso.example"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    set_mode(&h, InvitationMode::AtOnce).await;
    let have = h.service.store().contacts(h.portal.id).await.unwrap().len();
    for i in have..MAX_CONTACTS_PER_PORTAL {
        h.service
            .add_contact(
                &h.staff,
                h.portal.id,
                &format!("C {i}"),
                &format!("c{i}@contoso.example"),
            )
            .await
            .unwrap();
    }
    let full = invite(&b, "One Too Many", "many@contoso.example").await;
    assert_eq!(full.status, 422, "{}", full.body);
    assert!(
        full.body.contains("as many people as the portal allows"),
        "{}",
        full.body
    );
}

#[tokio::test]
async fn claim_and_hand_off_on_the_task_page() {
    let (h, b) = signed_in().await;
    let ann = h
        .service
        .add_contact(
            &h.staff,
            h.portal.id,
            "Ann Colleague",
            "ann@contoso.example",
        )
        .await
        .unwrap();
    let task = format!("/tasks/{}", h.tasks["standard"]);
    let page = b.get(&task).await;
    assert!(page.body.contains("Take this task on"), "{}", page.body);
    let claimed = b
        .post(&format!("{task}/claim"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(claimed.status, 303, "{}", claimed.body);
    let page = b.get(&claimed.header("location")).await;
    assert!(page.text().contains("It's yours now"), "{}", page.body);
    assert!(page.body.contains("Hand this task to a colleague"));

    // A note over the limit: 422 at the form, nothing handed over.
    let long = "n".repeat(1001);
    let refused = b
        .post(
            &format!("{task}/hand-off"),
            &[
                ("csrf", &page.csrf()),
                ("to", &ann.id.to_string()),
                ("note", &long),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"hand-off-error\""),
        "{}",
        refused.body
    );

    let handed = b
        .post(
            &format!("{task}/hand-off"),
            &[
                ("csrf", &page.csrf()),
                ("to", &ann.id.to_string()),
                ("note", "Over to you"),
            ],
        )
        .await;
    assert_eq!(handed.status, 303, "{}", handed.body);
    let stored = h
        .service
        .staff_task(&h.staff, h.portal.id, h.tasks["standard"])
        .await
        .unwrap();
    assert_eq!(stored.assigned_to, vec![ann.id]);
    let email = last_to(&h, "ann@contoso.example").unwrap();
    assert!(email.text.contains(&task), "{}", email.text);
    assert!(email.text.contains("Over to you"));
}

#[tokio::test]
async fn another_portal_is_out_of_reach() {
    let (h, b) = signed_in().await;
    let mine = format!("/tasks/{}", h.tasks["standard"]);
    let csrf = b.get(&mine).await.csrf();
    let theirs = h.other_tasks["standard"];
    let page = b
        .post(&format!("/tasks/{theirs}/claim"), &[("csrf", &csrf)])
        .await;
    assert_eq!(page.status, 404, "{}", page.body);
    // A colleague of another portal cannot be handed a task.
    let stranger = h
        .service
        .add_contact(
            &h.other_staff,
            h.other_portal.id,
            "Stranger",
            "s@other.example",
        )
        .await
        .unwrap();
    b.post(&format!("{mine}/claim"), &[("csrf", &csrf)]).await;
    let refused = b
        .post(
            &format!("{mine}/hand-off"),
            &[
                ("csrf", &csrf),
                ("to", &stranger.id.to_string()),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let other = h
        .service
        .staff_task(&h.other_staff, h.other_portal.id, theirs)
        .await
        .unwrap();
    assert!(other.assigned_to.is_empty());
    // An invitation always lands in the inviter's own portal.
    set_mode(&h, InvitationMode::AtOnce).await;
    invite(&b, "Mine", "mine@contoso.example").await;
    let others = h.service.store().contacts(h.other_portal.id).await.unwrap();
    assert!(
        others
            .iter()
            .all(|c| c.email.as_str() != "mine@contoso.example")
    );
}

/// A signed-in browser for `contact` of `portal`, through their own invite link.
async fn sign_in_as(h: &Harness, contact: &portal_core::model::Contact) -> Browser {
    let token = h
        .service
        .invite_contact(&h.staff, contact.id)
        .await
        .unwrap();
    let b = h.browser();
    let email = contact.email.as_str().to_owned();
    sign_in_over_http(&b, &format!("/i/{}", token.expose_secret()), || {
        code_in(&last_to(h, &email).unwrap().text)
    })
    .await;
    b
}

/// The card of the task titled `title` on a home page (its `<li>` up to the next).
fn card_of<'a>(body: &'a str, title: &str) -> &'a str {
    let at = body
        .find(&format!(">{title}</a></h4>"))
        .unwrap_or_else(|| panic!("no card for {title}: {body}"));
    let start = body[..at].rfind("<li class=\"task").unwrap();
    let end = body[at..].find("</li>").map_or(body.len(), |e| at + e);
    &body[start..end]
}

#[tokio::test]
async fn a_template_task_for_the_billing_role_goes_to_the_billing_contact() {
    use portal_core::model::{PortalStatus, Side, TaskKind};
    use portal_core::workflow::template::{TemplatePhase, TemplateTask};
    let h = Harness::start(Options::memory()).await;
    let task = |title: &str, for_role: Option<&str>| TemplateTask {
        title: title.to_owned(),
        description: String::new(),
        assignee: Side::Client,
        kind: TaskKind::Standard,
        due_offset_days: None,
        waits_on: Vec::new(),
        internal: false,
        for_role: for_role.map(str::to_owned),
    };
    let template = h
        .service
        .create_template(
            &h.staff,
            "With billing",
            vec![TemplatePhase {
                name: "Setup".to_owned(),
                tasks: vec![
                    task("Tell us about your office", None),
                    task("Confirm the billing contact details", Some("Billing")),
                ],
            }],
        )
        .await
        .unwrap();
    let billing_task = &template.phases[0].tasks[1];
    assert_eq!(billing_task.for_role.as_deref(), Some("billing"), "cleaned");
    let portal = h
        .service
        .create_portal_from_template(
            &h.staff,
            template.id,
            "Fabrikam",
            chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            PortalStatus::Active,
        )
        .await
        .unwrap();
    let pid = portal.id;
    let add = |name: &'static str, email: &'static str| {
        let h = &h;
        async move {
            h.service
                .add_contact(&h.staff, pid, name, email)
                .await
                .unwrap()
        }
    };
    let bill = add("Bill Payer", "bill@fabrikam.example").await;
    let cara = add("Cara Tech", "cara@fabrikam.example").await;
    // Staff give Bill the billing role afterwards (an edit of the contact).
    let bill = h
        .service
        .edit_contact(
            &h.staff,
            bill.id,
            &bill.name,
            bill.email.as_str(),
            Some("billing"),
            None,
        )
        .await
        .unwrap();

    let bb = sign_in_as(&h, &bill).await;
    let bills = bb.get("/").await;
    assert_eq!(bills.status, 200, "{}", bills.body);
    let card = card_of(&bills.body, "Confirm the billing contact details");
    assert!(card.contains("For the billing contact: you"), "{card}");
    let at = |body: &str, title: &str| body.find(&format!(">{title}</a></h4>")).unwrap();
    assert!(
        at(&bills.body, "Confirm the billing contact details")
            < at(&bills.body, "Tell us about your office"),
        "assigned to you comes before the team's tasks: {}",
        bills.body
    );

    let caras = sign_in_as(&h, &cara).await.get("/").await;
    assert_eq!(caras.status, 200, "{}", caras.body);
    let card = card_of(&caras.body, "Confirm the billing contact details");
    assert!(!card.contains("For the billing contact: you"), "{card}");
    assert!(
        card.contains("For the billing contact: Bill Payer"),
        "{card}"
    );
    assert!(
        at(&caras.body, "Tell us about your office")
            < at(&caras.body, "Confirm the billing contact details"),
        "Cara's own (the team's) task first, Bill's after: {}",
        caras.body
    );
    // The task page says whom it is for.
    let task_id = h
        .service
        .plan(&h.staff, portal.id)
        .await
        .unwrap()
        .tasks
        .iter()
        .find(|t| t.for_role.is_some())
        .unwrap()
        .id;
    let page = bb.get(&format!("/tasks/{task_id}")).await;
    assert!(
        page.body.contains("For the billing contact"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Hand this task to a colleague"),
        "Bill can hand it on"
    );
}

#[tokio::test]
async fn a_handed_task_is_with_the_colleague_on_the_status_line() {
    let (h, b) = signed_in().await;
    let sam = h
        .service
        .add_contact(&h.staff, h.portal.id, "Sam Lee", "sam@contoso.example")
        .await
        .unwrap();
    let task = format!("/tasks/{}", h.tasks["standard"]);
    let page = b.get(&task).await;
    let claimed = b
        .post(&format!("{task}/claim"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(claimed.status, 303, "{}", claimed.body);
    let title = h
        .service
        .staff_task(&h.staff, h.portal.id, h.tasks["standard"])
        .await
        .unwrap()
        .title;
    let progress = b.get("/?tab=progress").await;
    let card = card_of(&progress.body, &title);
    assert!(card.contains(r#"<span class="side">You</span>"#), "{card}");
    let page = b.get(&task).await;
    let handed = b
        .post(
            &format!("{task}/hand-off"),
            &[
                ("csrf", &page.csrf()),
                ("to", &sam.id.to_string()),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(handed.status, 303, "{}", handed.body);
    let progress = b.get("/?tab=progress").await;
    let card = card_of(&progress.body, &title);
    assert!(
        card.contains(r#"<span class="side">With Sam Lee</span>"#),
        "{card}"
    );
}
