//! Guests over HTTP: a guest staff invited to one task signs in with their own link,
//! sees a home with only that task, completes it and comments on it; every other
//! client route (walked from the router's own list, `portal_http::CLIENT_ROUTES`)
//! answers 404 for them and changes nothing; after their end date the session is
//! refused; and a contact of another portal with the guest's email reaches nothing
//! here.

use chrono::TimeDelta;
use portal_core::TaskId;
use portal_core::model::TaskStatus;
use portal_core::{Clock, GuestSpec};
use portal_http::{CLIENT_ROUTES, TASK_ACTIONS};
use portal_tests::{Browser, Harness, Mail, Options, code_in, link_in, sign_in_over_http};

const GILL: &str = "gill@previous-it.example";

fn last_to(h: &Harness, email: &str) -> portal_core::Email {
    let Mail::Recording(mail) = &h.mail else {
        unreachable!()
    };
    mail.last_to(email).expect("an email to the guest")
}

/// The harness with Gill, a guest of Acme's portal for Contoso, invited to the
/// standard task and signed in from her own invitation in `b`.
async fn guest_signed_in() -> (Harness, Browser, TaskId) {
    let h = Harness::start(Options::memory()).await;
    let shared = h.tasks["standard"];
    h.service
        .add_guest(
            &h.staff,
            h.portal.id,
            &GuestSpec {
                name: "Gill Guest",
                email: GILL,
                organisation: "Previous IT",
                access_ends_at: Some(h.clock.now() + TimeDelta::days(2)),
                tasks: &[shared],
            },
        )
        .await
        .unwrap();
    let b = h.browser();
    let invite = link_in(&last_to(&h, GILL).text, "i");
    sign_in_over_http(&b, &invite, || code_in(&last_to(&h, GILL).text)).await;
    (h, b, shared)
}

/// Everything a guest could change, as text: the portal's plan, contacts, feed,
/// questions and every task's thread, and the other portal's plan and feed.
async fn state(h: &Harness) -> String {
    let s = &h.store;
    let mut out = vec![
        format!("{:?}", s.portal_snapshot(h.portal.id).await),
        format!("{:?}", s.contacts(h.portal.id).await),
        format!("{:?}", s.activity(h.portal.id, 1000).await),
        format!("{:?}", s.questions(h.portal.id).await),
        format!("{:?}", s.document_files(h.portal.id).await),
        format!("{:?}", s.portal_snapshot(h.other_portal.id).await),
        format!("{:?}", s.activity(h.other_portal.id, 1000).await),
    ];
    for task in h.tasks.values() {
        out.push(format!("{:?}", s.comments(h.portal.id, *task).await));
    }
    out.join("\n")
}

/// Whether the route at `pattern` is one the guest rule judges (the pages before
/// sign-in, reminder links, assets, the home page and signing out are not: they
/// reach nothing of the portal's or show a guest only their own tasks).
fn judged(pattern: &str) -> bool {
    !matches!(
        pattern,
        "/" | "/sign-out" | "/signed-out" | "/verify" | "/favicon.svg" | "/favicon.ico"
    ) && !["/i/", "/m/", "/verify/", "/r/", "/assets/", "/brand/"]
        .iter()
        .any(|p| pattern.starts_with(p))
}

/// The concrete paths of `pattern` for the task ids `tasks`.
fn paths(pattern: &str, tasks: &[TaskId]) -> Vec<String> {
    let fill = |p: &str| {
        p.replace("{document}", "d0")
            .replace("{file}", "00000000-0000-4000-8000-000000000001")
            .replace("{token}", "x")
            .replace("{sha}", "0")
    };
    if !pattern.contains("{id}") {
        return vec![fill(pattern)];
    }
    let mut out = Vec::new();
    for task in tasks {
        let p = pattern.replace("{id}", &task.to_string());
        if p.contains("{action}") {
            for action in TASK_ACTIONS {
                out.push(fill(&p.replace("{action}", action)));
            }
        } else {
            out.push(fill(&p));
        }
    }
    out
}

#[tokio::test]
async fn a_guest_reaches_only_their_shared_task_over_every_route() {
    let (h, b, shared) = guest_signed_in().await;

    // The guest's home: only their task, under a plain heading, no portal links.
    let home = b.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(
        home.text().contains("Tasks shared with you by Acme MSP"),
        "{}",
        home.body
    );
    let titles = h
        .service
        .store()
        .portal_snapshot(h.portal.id)
        .await
        .unwrap();
    for task in &titles.tasks {
        let listed = home.body.contains(&format!("/tasks/{}", task.id));
        assert_eq!(listed, task.id == shared, "{}", task.title);
    }
    for link in ["/team", "/questions", "/settings", "?tab="] {
        assert!(!home.body.contains(link), "{link} on a guest's home");
    }
    {
        let _guard = super::snapshots::settings().bind_to_scope();
        insta::assert_snapshot!("guest_home", home.body);
    }

    // Every judged client route, for every task not shared and for the other
    // portal's tasks, and every portal-wide page: 404, and nothing changes.
    let csrf = home.csrf();
    let mut unshared: Vec<TaskId> = h.tasks.values().copied().filter(|t| *t != shared).collect();
    unshared.extend(h.other_tasks.values().copied());
    let before = state(&h).await;
    let mut walked = 0;
    for (method, pattern) in CLIENT_ROUTES.iter().filter(|(_, p)| judged(p)) {
        for path in paths(pattern, &unshared) {
            let page = if *method == "GET" {
                b.get(&path).await
            } else {
                b.post(
                    &path,
                    &[
                        ("csrf", csrf.as_str()),
                        ("comment", "hello"),
                        ("text", "hello"),
                        ("name", "Eve"),
                        ("email", "eve@previous-it.example"),
                        ("zone", "Europe/Paris"),
                        ("reason", "stuck"),
                    ],
                )
                .await
            };
            assert_eq!(page.status, 404, "{method} {path}: {}", page.body);
            walked += 1;
        }
    }
    assert!(walked > 100, "walked only {walked} requests");
    assert_eq!(state(&h).await, before, "a refused guest changed nothing");

    // The shared task works: its page (no claim or hand-off, no portal links), a
    // comment, completing it.
    let task = b.get(&format!("/tasks/{shared}")).await;
    assert_eq!(task.status, 200, "{}", task.body);
    for link in ["/team", "/questions", "/settings", "/claim", "/hand-off"] {
        assert!(!task.body.contains(link), "{link} on a guest's task page");
    }
    let commented = b
        .post(
            &format!("/tasks/{shared}/comments"),
            &[
                ("csrf", &task.csrf()),
                ("comment", "Export attached to the ticket"),
            ],
        )
        .await;
    assert_eq!(commented.status, 303, "{}", commented.body);
    let done = b
        .post(
            &format!("/tasks/{shared}/complete"),
            &[("csrf", &task.csrf())],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let stored = h
        .service
        .staff_task(&h.staff, h.portal.id, shared)
        .await
        .unwrap();
    assert_eq!(stored.status, TaskStatus::Completed);
    let thread = h.store.comments(h.portal.id, shared).await.unwrap();
    assert!(
        thread
            .iter()
            .any(|c| c.body == "Export attached to the ticket")
    );

    // After the end date: the very next request is refused.
    h.clock.advance(TimeDelta::days(2) + TimeDelta::seconds(1));
    let after = b.get(&format!("/tasks/{shared}")).await;
    assert_ne!(after.status, 200, "{}", after.body);
    assert_ne!(b.get("/").await.status, 200);
}

#[tokio::test]
async fn a_contact_of_another_portal_with_the_guests_email_reaches_nothing_here() {
    let (h, _gill, shared) = guest_signed_in().await;
    // Fabrikam's MSP adds a contact with the same email to their own portal.
    let twin = h
        .service
        .add_contact(&h.other_staff, h.other_portal.id, "Gill Twin", GILL)
        .await
        .unwrap();
    let link = h
        .service
        .invite_link(&h.other_staff, twin.id)
        .await
        .unwrap();
    let b = h.browser();
    let path = format!("/i/{}", link.token.expose_secret());
    sign_in_over_http(&b, &path, || code_in(&last_to(&h, GILL).text)).await;
    let page = b.get(&format!("/tasks/{shared}")).await;
    assert_eq!(page.status, 404, "{}", page.body);
    let home = b.get("/").await;
    assert!(!home.body.contains(&shared.to_string()));
}

/// A file the MSP shared on a task the guest cannot reach stays out of reach through
/// the guest's own task's URL too, and opening it is not recorded (no write at all):
/// the core's client use cases judge the guest, not only the HTTP routes.
#[tokio::test]
async fn a_guest_cannot_open_a_file_of_another_task_through_their_own() {
    let (h, b, shared) = guest_signed_in().await;
    let other = h.tasks["approval"];
    let pdf: &[u8] = b"%PDF-1.4\n% the migration plan\n%%EOF\n";
    let file = h
        .service
        .attach_file(
            &h.staff,
            h.portal.id,
            other,
            "Migration plan.pdf",
            Box::pin(portal_core::blob::stream_of(vec![
                bytes::Bytes::from_static(pdf),
            ])),
        )
        .await
        .unwrap();
    for path in [
        format!("/tasks/{shared}/shared/{}", file.id),
        format!("/tasks/{other}/shared/{}", file.id),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.body);
        assert!(!page.body.contains("migration plan"), "{path}");
    }
    let opens = h.store.document_opens(h.portal.id, other).await.unwrap();
    assert!(opens.is_empty(), "a refused open was recorded: {opens:?}");
}

/// The handover from the previous provider: the provider's guest signs in from
/// their invitation, sees only the two handover tasks, ticks the checklist off (which
/// completes it) and writes in its thread; the client follows the phase's progress
/// in Our Progress but never reads (nor writes in) the guest's thread.
#[tokio::test]
async fn the_client_follows_the_handover_but_not_its_thread() {
    const OLLY: &str = "olly@previous-it.example";
    let h = Harness::start(Options::memory()).await;
    let handover = h
        .service
        .start_handover(
            &h.staff,
            h.portal.id,
            &portal_core::HandoverSpec {
                organisation: "Previous IT",
                name: "Olly Outgoing",
                email: OLLY,
                access_ends_at: None,
                due_date: None,
            },
        )
        .await
        .unwrap();
    let (checklist, credentials) = (handover.tasks[0].id, handover.tasks[1].id);
    let g = h.browser();
    let invite = link_in(&last_to(&h, OLLY).text, "i");
    sign_in_over_http(&g, &invite, || code_in(&last_to(&h, OLLY).text)).await;

    // The guest: only the two handover tasks.
    let home = g.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    let snapshot = h.store.portal_snapshot(h.portal.id).await.unwrap();
    for task in &snapshot.tasks {
        let listed = home.body.contains(&format!("/tasks/{}", task.id));
        let shared = task.id == checklist || task.id == credentials;
        assert_eq!(listed, shared, "{}", task.title);
    }
    assert!(!home.body.contains("?tab="), "no tabs for a guest");
    let page = g.get(&format!("/tasks/{checklist}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for item in ["documentation", "domain", "licences"] {
        let ticked = g
            .post(
                &format!("/tasks/{checklist}/checklist"),
                &[("csrf", &page.csrf()), ("item", item), ("checked", "1")],
            )
            .await;
        assert_eq!(ticked.status, 303, "{item}: {}", ticked.body);
    }
    let stored = h.store.task(h.portal.id, checklist).await.unwrap();
    assert_eq!(
        stored.status,
        TaskStatus::Completed,
        "the last item ticked completes the checklist"
    );
    let said = g
        .post(
            &format!("/tasks/{checklist}/comments"),
            &[
                ("csrf", &page.csrf()),
                ("comment", "The old firewall is a FG-60F"),
            ],
        )
        .await;
    assert_eq!(said.status, 303, "{}", said.body);

    // The client: the phase and its progress, like any phase.
    let c = h.browser();
    h.sign_in(&c).await;
    let progress = c.get("/?tab=progress").await;
    assert_eq!(progress.status, 200, "{}", progress.body);
    let text = progress.text();
    let at = text
        .find("Handover from your previous provider")
        .expect("the handover phase in Our Progress");
    let facts = &text[at..];
    assert!(
        facts.contains("<strong>50%</strong> done (1 of 2 tasks"),
        "the handover's progress: {facts}"
    );
    // ... but not the guest's thread, and no way to write in it.
    let task = c.get(&format!("/tasks/{checklist}")).await;
    assert_eq!(task.status, 200, "{}", task.body);
    assert!(
        !task.body.contains("FG-60F"),
        "the guest's thread on the client's page: {}",
        task.body
    );
    assert!(
        !task
            .body
            .contains(&format!(r#"action="/tasks/{checklist}/comments""#)),
        "no comment form the portal would refuse: {}",
        task.body
    );
    assert!(task.body.contains("talk about this handover between them"));
    let thread = h.store.comments(h.portal.id, checklist).await.unwrap();
    let written = c
        .post(
            &format!("/tasks/{checklist}/comments"),
            &[("csrf", &task.csrf()), ("comment", "What did Olly say?")],
        )
        .await;
    assert_ne!(written.status, 303, "{}", written.body);
    assert_eq!(
        h.store.comments(h.portal.id, checklist).await.unwrap(),
        thread,
        "the client wrote nothing in the guest's thread"
    );
}
