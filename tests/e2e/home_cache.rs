//! The portal home kept as built (`portal-http`'s home cache): every response still
//! carries its own nonce and a CSRF token that works, and a kept home never outlives
//! a change to what it shows: a task, a contact's name (read past the store's own
//! cache), the day in the contact's zone. On the SQLite store (whose home versions
//! are generations) and on the in-memory one (fingerprints).

use std::sync::Arc;

use portal_core::Store;
use portal_tests::{Browser, Harness, Options};

async fn sqlite() -> (Harness, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        portal_storage_sqlite::SqliteStore::open(dir.path().join("portal.db"))
            .await
            .unwrap(),
    );
    let h = Harness::start(Options {
        store,
        webhooks: None,
        ..Options::memory()
    })
    .await;
    (h, dir)
}

async fn signed_in(h: &Harness) -> Browser {
    let b = h.browser();
    h.sign_in(&b).await;
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

async fn each_request_gets_its_own_nonce_and_a_working_form_token(h: Harness) {
    let b = signed_in(&h).await;
    let one = b.get("/").await;
    let two = b.get("/").await;
    assert_eq!(one.status, 200);
    assert_eq!(two.status, 200);
    let (n1, n2) = (one.csp_nonce(), two.csp_nonce());
    assert!(!n1.is_empty());
    assert_ne!(n1, n2, "every response has its own nonce");
    for (page, nonce, other) in [(&one, &n1, &n2), (&two, &n2, &n1)] {
        assert!(
            page.body.contains(&format!("<style nonce=\"{nonce}\">")),
            "the page's style carries the header's nonce: {}",
            page.body
        );
        assert!(!page.body.contains(other.as_str()));
    }
    // Apart from the nonce, the second is the first, served as kept.
    assert_eq!(one.body.replace(&n1, "N"), two.body.replace(&n2, "N"));
    // The kept page's form token is this session's: signing out with it works.
    let out = b.post("/sign-out", &[("csrf", &two.csrf())]).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(b.get("/").await.status, 401, "signed out");
}

#[tokio::test]
async fn kept_homes_get_their_own_nonce_and_form_token_on_sqlite() {
    let (h, _dir) = sqlite().await;
    each_request_gets_its_own_nonce_and_a_working_form_token(h).await;
}

#[tokio::test]
async fn kept_homes_get_their_own_nonce_and_form_token_in_memory() {
    each_request_gets_its_own_nonce_and_a_working_form_token(
        Harness::start(Options::memory()).await,
    )
    .await;
}

async fn a_kept_home_follows_a_colleagues_new_name(h: Harness) {
    let b = signed_in(&h).await;
    let sam = h
        .service
        .add_contact(&h.staff, h.portal.id, "Sam Lee", "sam@contoso.example")
        .await
        .unwrap();
    let task = format!("/tasks/{}", h.tasks["standard"]);
    let title = h
        .service
        .staff_task(&h.staff, h.portal.id, h.tasks["standard"])
        .await
        .unwrap()
        .title;
    let page = b.get(&task).await;
    let claimed = b
        .post(&format!("{task}/claim"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(claimed.status, 303, "{}", claimed.body);
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
    let before = b.get("/?tab=progress").await;
    assert!(card_of(&before.body, &title).contains("With Sam Lee"));
    // Kept now; the MSP renames Sam, a change to the contacts only (no task, no
    // feed entry the client sees).
    assert_eq!(b.get("/?tab=progress").await.body.len(), before.body.len());
    h.service
        .edit_contact(
            &h.staff,
            sam.id,
            "Samuel Lee",
            sam.email.as_str(),
            None,
            None,
        )
        .await
        .unwrap();
    let after = b.get("/?tab=progress").await;
    let card = card_of(&after.body, &title);
    assert!(
        card.contains(r#"<span class="side">With Samuel Lee</span>"#),
        "the kept home was served after the rename: {card}"
    );
}

#[tokio::test]
async fn a_kept_home_follows_a_colleagues_new_name_on_sqlite() {
    let (h, _dir) = sqlite().await;
    a_kept_home_follows_a_colleagues_new_name(h).await;
}

#[tokio::test]
async fn a_kept_home_follows_a_colleagues_new_name_in_memory() {
    a_kept_home_follows_a_colleagues_new_name(Harness::start(Options::memory()).await).await;
}

async fn a_kept_home_follows_the_clients_own_change_and_the_day(h: Harness) {
    let b = signed_in(&h).await;
    let title = h
        .service
        .staff_task(&h.staff, h.portal.id, h.tasks["standard"])
        .await
        .unwrap()
        .title;
    let first = b.get("/?tab=progress").await;
    b.get("/?tab=progress").await;
    let task = format!("/tasks/{}", h.tasks["standard"]);
    let page = b.get(&task).await;
    let done = b
        .post(&format!("{task}/complete"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    // Read-your-writes: the very next home shows the task done.
    let after = b.get("/?tab=progress").await;
    assert_ne!(
        card_of(&first.body, &title),
        card_of(&after.body, &title),
        "the kept home was served after the client completed the task"
    );
    // The day moves "today" in the contact's zone: a page kept yesterday is not
    // served today, even with nothing written. Half a day at a time (each request
    // slides the session); three days on, the task due in two is overdue.
    let overdue = |body: &str| body.matches("overdue").count();
    let before = overdue(&b.get("/?tab=progress").await.body);
    for _ in 0..6 {
        h.clock.advance(chrono::TimeDelta::hours(12));
        assert_eq!(b.get("/?tab=progress").await.status, 200);
    }
    let later = overdue(&b.get("/?tab=progress").await.body);
    assert!(
        later > before,
        "three days later the home is built again: {before} overdue marks, then {later}"
    );
}

#[tokio::test]
async fn a_kept_home_follows_the_clients_own_change_and_the_day_on_sqlite() {
    let (h, _dir) = sqlite().await;
    a_kept_home_follows_the_clients_own_change_and_the_day(h).await;
}
