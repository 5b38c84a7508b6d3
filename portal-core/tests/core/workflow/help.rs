//! "I'm stuck" and due-date requests through the service: one unit for the task, the
//! thread, the feed and the emails; who is told what.

use chrono::{NaiveDate, TimeDelta};
use portal_core::model::{Side, TaskKind};
use portal_core::workflow::agenda::{self, Standing, WaitingOn};
use portal_core::workflow::{ActivityKind, stuck};
use portal_core::{Entity, Error};

use super::staff_emails;
use crate::{Harness, assert_err};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

#[tokio::test]
async fn stuck_reaches_the_msp_at_once_and_the_answer_reaches_the_client() {
    let h = Harness::new(150).await;
    let (ctx, phase) = h.client().await;
    let t = h
        .task(
            phase,
            "Firewall admin access",
            Side::Client,
            TaskKind::Standard,
        )
        .await;
    let before = staff_emails(&h).len();
    h.clock.advance(TimeDelta::minutes(1));
    let stuck_task = h
        .service
        .report_stuck(&ctx, t.id, "I don't have the admin password")
        .await
        .unwrap();
    assert!(stuck::is_stuck(&stuck_task));
    assert_eq!(stuck_task.version, t.version + 1);
    assert_eq!(
        agenda::standing(&stuck_task, false),
        Standing::Waiting(WaitingOn::Stuck)
    );
    // The MSP's recipients: one email each, at once.
    let sent = staff_emails(&h);
    assert_eq!(
        sent.len(),
        before + 2,
        "one email per notification recipient"
    );
    let email = &sent[before];
    assert_eq!(
        email.subject,
        "[Contoso Ltd] Jane Doe is stuck on “Firewall admin access”"
    );
    assert_snapshot!("core__workflow__stuck_notification_text", email.text);
    assert_snapshot!("core__workflow__stuck_notification_html", email.html);
    // The reason is in the thread, the feed has it.
    let thread = h.service.comments(&ctx, t.id).await.unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].body, "I'm stuck: I don't have the admin password");
    let feed = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 5)
        .await
        .unwrap()
        .items;
    assert_eq!(feed[0].kind, ActivityKind::StuckReported);

    // A second report while stuck is refused, and writes nothing.
    assert_err(
        h.service.report_stuck(&ctx, t.id, "still stuck").await,
        |e| matches!(e, Error::Conflict { .. }),
    );
    assert_eq!(h.service.comments(&ctx, t.id).await.unwrap().len(), 1);
    assert_eq!(staff_emails(&h).len(), before + 2);

    // The MSP answers and clears: the client is told, the answer is in the thread.
    h.clock.advance(TimeDelta::minutes(5));
    let cleared = h
        .service
        .clear_stuck(
            &h.staff,
            h.portal.id,
            t.id,
            Some("It's in the sealed envelope we sent on Monday."),
        )
        .await
        .unwrap();
    assert!(!stuck::is_stuck(&cleared));
    assert_eq!(agenda::standing(&cleared, false), Standing::ToDo);
    let thread = h.service.comments(&ctx, t.id).await.unwrap();
    assert_eq!(thread.len(), 2);
    assert_eq!(
        thread[1].body,
        "It's in the sealed envelope we sent on Monday."
    );
    let told = h.last_email(&h.contact);
    assert_eq!(
        told.subject,
        "Northwind IT answered you on “Firewall admin access”"
    );
    assert!(
        told.text.contains(&format!("/tasks/{}", t.id)),
        "{}",
        told.text
    );
    assert_snapshot!("core__workflow__stuck_cleared_text", told.text);
    assert_snapshot!("core__workflow__stuck_cleared_html", told.html);
    // Clearing twice: nothing to clear.
    assert_err(
        h.service
            .clear_stuck(&h.staff, h.portal.id, t.id, None)
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );
}

#[tokio::test]
async fn stuck_is_scoped_to_the_clients_portal_and_checks_the_reason() {
    let h = Harness::new(151).await;
    let (ctx, phase) = h.client().await;
    let t = h
        .task(phase, "Sign", Side::Client, TaskKind::Standard)
        .await;
    assert_err(
        h.service.report_stuck(&ctx, t.id, "  ").await,
        |e| matches!(e, Error::Invalid { field, .. } if *field == "reason"),
    );
    assert_err(
        h.service.report_stuck(&ctx, t.id, "a\u{1b}[31m").await,
        |e| matches!(e, Error::Invalid { field, .. } if *field == "reason"),
    );
    let other = portal_core::TaskId::from_uuid(uuid::Uuid::from_u128(77));
    assert_err(h.service.report_stuck(&ctx, other, "x").await, |e| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::Task
            }
        )
    });
    assert!(h.service.comments(&ctx, t.id).await.unwrap().is_empty());
    assert!(!stuck::is_stuck(&h.stored(t.id).await));
}

#[tokio::test]
async fn due_date_requests_are_approved_or_declined_with_emails() {
    let h = Harness::new(152).await;
    let (ctx, phase) = h.client().await;
    let t = h
        .task(
            phase,
            "Sign the agreement",
            Side::Client,
            TaskKind::Standard,
        )
        .await;
    assert_eq!(t.due_date, Some(day(12, 15)));
    let before = staff_emails(&h).len();
    // Today (2026-11-28 in the contact's zone) is the earliest date.
    assert_err(
        h.service
            .request_due_date(&ctx, t.id, day(11, 27), "CFO away")
            .await,
        |e| matches!(e, Error::Invalid { field, .. } if *field == "date"),
    );
    let asked = h
        .service
        .request_due_date(&ctx, t.id, day(12, 22), "Our CFO is away until the 20th")
        .await
        .unwrap();
    assert_eq!(asked.due_date, Some(day(12, 15)), "pending: the date stays");
    let sent = staff_emails(&h);
    assert_eq!(sent.len(), before + 2);
    assert_eq!(
        sent[before].subject,
        "[Contoso Ltd] Jane Doe asks for a new due date on “Sign the agreement”"
    );
    assert_snapshot!("core__workflow__due_date_request_text", sent[before].text);
    assert_err(
        h.service
            .request_due_date(&ctx, t.id, day(12, 23), "again")
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );
    let queue = h.service.pending_due_dates(&h.staff).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!((queue[0].task_id, queue[0].request.to), (t.id, day(12, 22)));

    // Declining needs a note; the client is told why.
    assert_err(
        h.service
            .decide_due_date(&h.staff, h.portal.id, t.id, 1, false, None)
            .await,
        |e| matches!(e, Error::Invalid { field, .. } if *field == "note"),
    );
    let declined = h
        .service
        .decide_due_date(
            &h.staff,
            h.portal.id,
            t.id,
            1,
            false,
            Some("The go-live can't move."),
        )
        .await
        .unwrap();
    assert_eq!(declined.due_date, Some(day(12, 15)));
    let told = h.last_email(&h.contact);
    assert_eq!(
        told.subject,
        "Your new due date for “Sign the agreement” was declined"
    );
    assert_snapshot!("core__workflow__due_date_declined_text", told.text);
    assert!(
        h.service
            .pending_due_dates(&h.staff)
            .await
            .unwrap()
            .is_empty()
    );

    // A new request, approved: the due date moves, the client is told.
    h.service
        .request_due_date(&ctx, t.id, day(12, 18), "Three more days, please")
        .await
        .unwrap();
    let approved = h
        .service
        .decide_due_date(&h.staff, h.portal.id, t.id, 2, true, None)
        .await
        .unwrap();
    assert_eq!(approved.due_date, Some(day(12, 18)));
    let told = h.last_email(&h.contact);
    assert_eq!(
        told.subject,
        "New due date for “Sign the agreement”: Fri 18 Dec 2026"
    );
    assert_snapshot!("core__workflow__due_date_approved_text", told.text);
    assert_snapshot!("core__workflow__due_date_approved_html", told.html);
    let history = &approved.evidence.due_date_requests;
    assert_eq!(history.len(), 2, "the history is kept");
    assert!(!history[0].decision.as_ref().unwrap().approved);
    assert!(history[1].decision.as_ref().unwrap().approved);
    let kinds: Vec<ActivityKind> = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 4)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            ActivityKind::DueDateApproved,
            ActivityKind::DueDateRequested,
            ActivityKind::DueDateDeclined,
            ActivityKind::DueDateRequested
        ]
    );
}
