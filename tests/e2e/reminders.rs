//! A reminder's links over HTTP: "remind me in 3 days" (GET shows a page and changes
//! nothing, the form's POST snoozes), one-click unsubscribe (RFC 8058: a POST from
//! the mailbox provider with no cookie, no CSRF token and a foreign origin turns the
//! contact's reminders off), and forged links refused.

use chrono::TimeDelta;
use http::{Method, StatusCode};
use portal_core::model::{Side, TaskKind};
use portal_core::{Clock, Email, TaskSpec};
use portal_tests::{Harness, Mail, Options};

/// The path of the first link in `text` after `marker`, without the host.
fn path_after(text: &str, marker: &str, h: &Harness) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {text}"))
        + marker.len();
    let url = text[start..].split_whitespace().next().unwrap();
    url.strip_prefix(&format!("http://{}", h.addr))
        .unwrap_or_else(|| panic!("{url} is not on this host"))
        .to_owned()
}

/// Starts the portal, adds a task due today and runs the reminder pass on Monday at
/// 10:00 UTC (the contact's zone): the contact's reminder email.
async fn reminded() -> (Harness, Email) {
    let h = Harness::start(Options::memory()).await;
    // The harness's clock starts on Saturday 28 November 2026: move to Monday 10:00.
    h.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Reminders")
        .await
        .unwrap();
    h.service
        .add_task(
            &h.staff,
            h.portal.id,
            phase.id,
            TaskSpec {
                title: "Send the floor plan".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::Standard,
                due_date: Some(h.clock.now().date_naive()),
            },
        )
        .await
        .unwrap();
    let report = h.service.send_due_reminders(h.clock.now()).await.unwrap();
    assert!(report.digests >= 1, "{report:?}");
    let Mail::Recording(mailer) = &h.mail else {
        unreachable!("Options::memory records mail")
    };
    let email = mailer.last_to(h.contact.email.as_str()).unwrap();
    assert!(email.text.contains("Send the floor plan"), "{}", email.text);
    (h, email)
}

async fn snoozes(h: &Harness) -> usize {
    let state = h.store.reminder_state(h.portal.id).await.unwrap();
    let me = state
        .contacts
        .iter()
        .find(|c| c.contact.id == h.contact.id)
        .unwrap();
    me.snoozes.len()
}

#[tokio::test]
async fn snooze_link_shows_a_page_and_only_its_form_snoozes() {
    let (h, email) = reminded().await;
    // The digest lists the seeded plan's due tasks too: take this task's own link.
    let ours = &email.text[email.text.find("- Send the floor plan").unwrap()..];
    let path = path_after(ours, "Remind me in 3 days: ", &h);
    let browser = h.browser();
    // Scanners and link previews GET: a page, nothing changes.
    for _ in 0..2 {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.text().contains("Remind me in 3 days"), "{}", page.body);
        assert_eq!(page.header("cache-control"), "no-store");
    }
    assert_eq!(snoozes(&h).await, 0, "a GET snoozes nothing");
    let head = browser.send(Method::HEAD, &path, None, Vec::new()).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(snoozes(&h).await, 0);

    // A cross-site POST (a page elsewhere trying it) is refused.
    let forged = h
        .browser()
        .post_with(&path, &[], &[("origin", "https://evil.example")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert_eq!(snoozes(&h).await, 0);

    // The button: no sign-in needed.
    let page = browser.get(&path).await;
    let done = browser.post(&path, &[("csrf", &page.csrf())]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.text().contains("Reminders paused"), "{}", done.body);
    assert_eq!(snoozes(&h).await, 1);

    // A day later the pass reminds nothing (the only due task is snoozed).
    h.clock.advance(TimeDelta::days(1));
    let report = h.service.send_due_reminders(h.clock.now()).await.unwrap();
    let Mail::Recording(mailer) = &h.mail else {
        unreachable!()
    };
    let latest = mailer.last_to(h.contact.email.as_str()).unwrap();
    assert!(report.digests >= 1, "the plan's other tasks are still due");
    assert!(latest != email, "a new digest");
    assert!(
        !latest.text.contains("Send the floor plan"),
        "reminded while snoozed: {}",
        latest.text
    );
}

#[tokio::test]
async fn one_click_unsubscribe_needs_no_cookie_or_token() {
    let (h, email) = reminded().await;
    let url = email.list_unsubscribe.clone().unwrap();
    let path = url
        .strip_prefix(&format!("http://{}", h.addr))
        .unwrap()
        .to_owned();
    // The same URL is in the body, for people.
    assert!(email.text.contains(&url));
    let page = h.browser().get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Stop reminders"), "{}", page.body);
    let state = h.store.reminder_state(h.portal.id).await.unwrap();
    assert!(
        state.contacts.iter().all(|c| c.unsubscribed_at.is_none()),
        "GET changes nothing"
    );

    // What Gmail or Yahoo send (RFC 8058): a POST from their servers, no cookie.
    let provider = h.browser();
    let done = provider
        .send_with(
            Method::POST,
            &path,
            Some("application/x-www-form-urlencoded"),
            &[("origin", "https://mail.example")],
            b"List-Unsubscribe=One-Click".to_vec(),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let state = h.store.reminder_state(h.portal.id).await.unwrap();
    let me = state
        .contacts
        .iter()
        .find(|c| c.contact.id == h.contact.id)
        .unwrap();
    assert!(me.unsubscribed_at.is_some());

    // The next business day brings no reminder.
    let Mail::Recording(mailer) = &h.mail else {
        unreachable!()
    };
    let before = mailer.sent().len();
    h.clock.advance(TimeDelta::days(1));
    h.service.send_due_reminders(h.clock.now()).await.unwrap();
    assert!(
        mailer.sent()[before..]
            .iter()
            .all(|e| e.to != h.contact.email),
        "no reminder after unsubscribing"
    );
}

#[tokio::test]
async fn forged_reminder_links_are_refused() {
    let (h, email) = reminded().await;
    let path = path_after(&email.text, "Remind me in 3 days: ", &h);
    let mut forged = path.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let page = h.browser().get(&forged).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
    assert!(
        page.text().contains("This link isn't valid"),
        "{}",
        page.body
    );
    let unsubscribe = "/r/unsubscribe/not-a-token";
    let page = h
        .browser()
        .send(
            Method::POST,
            unsubscribe,
            Some("application/x-www-form-urlencoded"),
            b"List-Unsubscribe=One-Click".to_vec(),
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    h.clock
        .advance(portal_core::reminders::SNOOZE_LINK_TTL + TimeDelta::days(1));
    let page = h.browser().get(&path).await;
    assert_eq!(page.status, StatusCode::GONE, "{}", page.body);
}
