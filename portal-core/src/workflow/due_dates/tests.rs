//! Unit tests of due-date requests: the date boundary (today in the contact's zone),
//! one pending request, approval and decline, the history kept.

use chrono::{NaiveDate, TimeDelta, TimeZone};
use uuid::Uuid;

use super::*;
use crate::ids::{ContactId, PhaseId, PortalId, TaskId};
use crate::model::{EmailAddress, TaskKind};
use crate::workflow::TaskEvidence;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn task() -> Task {
    Task {
        for_role: None,
        id: TaskId::from_uuid(Uuid::from_u128(300)),
        portal_id: PortalId::from_uuid(Uuid::from_u128(100)),
        phase_id: PhaseId::from_uuid(Uuid::from_u128(200)),
        position: 0,
        title: "Sign the agreement".into(),
        description: String::new(),
        assignee: Side::Client,
        kind: TaskKind::Standard,
        status: TaskStatus::Pending,
        blocked_reason: None,
        due_date: Some(day(5)),
        evidence: TaskEvidence::default(),
        created_at: t0(),
        updated_at: t0(),
        version: 1,
        assigned_to: Vec::new(),
        waits_on: Vec::new(),
        internal: false,
    }
}

fn client() -> Actor {
    Actor::Client {
        contact_id: ContactId::from_uuid(Uuid::from_u128(400)),
        name: "Dana Whitfield".into(),
        email: EmailAddress::parse("dana@client.example").unwrap(),
    }
}

fn staff() -> Actor {
    Actor::Staff {
        name: "Sam Tech".into(),
        email: None,
    }
}

fn requested(t: &Task, to: NaiveDate) -> Task {
    request_due_date(t, &client(), to, "Our CFO is away", day(1), t0())
        .unwrap()
        .change
        .task
}

#[test]
fn a_request_is_pending_and_keeps_the_old_date() {
    let help =
        request_due_date(&task(), &client(), day(20), "Our CFO is away", day(1), t0()).unwrap();
    let t = help.change.task;
    assert_eq!(
        t.due_date,
        Some(day(5)),
        "nothing changes until staff decide"
    );
    let p = pending(&t).unwrap();
    assert_eq!((p.number, p.from, p.to), (1, Some(day(5)), day(20)));
    assert_eq!(p.reason, "Our CFO is away");
    assert_eq!(help.change.activity.kind, ActivityKind::DueDateRequested);
    assert_eq!(
        help.change.activity.detail.as_deref(),
        Some("2026-03-20: Our CFO is away")
    );
    assert!(help.comment.is_none());
}

#[test]
fn the_date_is_today_or_later_in_the_contacts_zone() {
    let today = day(10);
    let ok = request_due_date(&task(), &client(), today, "r", today, t0());
    assert!(ok.is_ok(), "today itself is fine");
    let err = request_due_date(&task(), &client(), day(9), "r", today, t0()).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { field, .. } if *field == "date"),
        "{err:?}"
    );
    let same = request_due_date(&task(), &client(), day(5), "r", day(1), t0()).unwrap_err();
    assert!(matches!(&same, Error::Invalid { field, .. } if *field == "date"));
}

#[test]
fn a_task_without_a_due_date_can_get_one() {
    let mut t = task();
    t.due_date = None;
    let asked = requested(&t, day(20));
    assert_eq!(pending(&asked).unwrap().from, None);
    let approved = decide_due_date(&asked, &staff(), 1, true, None, t0()).unwrap();
    assert_eq!(approved.change.task.due_date, Some(day(20)));
}

#[test]
fn one_pending_request_per_task() {
    let asked = requested(&task(), day(20));
    let err = request_due_date(&asked, &client(), day(21), "again", day(1), t0()).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
}

#[test]
fn the_reason_is_required_and_clean() {
    for bad in ["", "  ", "nul\u{0}"] {
        let err = request_due_date(&task(), &client(), day(20), bad, day(1), t0()).unwrap_err();
        assert!(
            matches!(&err, Error::Invalid { field, .. } if *field == "reason"),
            "{bad:?}: {err:?}"
        );
    }
    let long = "x".repeat(MAX_REASON + 1);
    assert!(request_due_date(&task(), &client(), day(20), &long, day(1), t0()).is_err());
}

#[test]
fn only_clients_ask_on_open_client_tasks() {
    assert!(matches!(
        request_due_date(&task(), &staff(), day(20), "r", day(1), t0()),
        Err(Error::Forbidden { .. })
    ));
    let mut done = task();
    done.status = TaskStatus::Completed;
    assert!(matches!(
        request_due_date(&done, &client(), day(20), "r", day(1), t0()),
        Err(Error::Conflict { .. })
    ));
    let mut msp = task();
    msp.assignee = Side::Msp;
    assert!(matches!(
        request_due_date(&msp, &client(), day(20), "r", day(1), t0()),
        Err(Error::Conflict { .. })
    ));
}

#[test]
fn approving_moves_the_date_and_keeps_the_history() {
    let asked = requested(&task(), day(20));
    let at = t0() + TimeDelta::hours(2);
    let help = decide_due_date(&asked, &staff(), 1, true, Some("Fine"), at).unwrap();
    let t = help.change.task;
    assert_eq!(t.due_date, Some(day(20)));
    assert!(pending(&t).is_none());
    let d = t.evidence.due_date_requests[0].decision.as_ref().unwrap();
    assert!(d.approved);
    assert_eq!((d.at, d.note.as_deref()), (at, Some("Fine")));
    assert_eq!(help.change.activity.kind, ActivityKind::DueDateApproved);
    // A second request gets the next number; the first stays in the history.
    let again = request_due_date(&t, &client(), day(25), "more", day(1), at).unwrap();
    let history = &again.change.task.evidence.due_date_requests;
    assert_eq!(history.len(), 2);
    assert_eq!((history[1].number, history[1].from), (2, Some(day(20))));
}

#[test]
fn declining_needs_a_note_and_keeps_the_date() {
    let asked = requested(&task(), day(20));
    let err = decide_due_date(&asked, &staff(), 1, false, Some(" "), t0()).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { field, .. } if *field == "note"),
        "{err:?}"
    );
    let help =
        decide_due_date(&asked, &staff(), 1, false, Some("Go-live can't move"), t0()).unwrap();
    assert_eq!(help.change.task.due_date, Some(day(5)));
    assert_eq!(help.change.activity.kind, ActivityKind::DueDateDeclined);
    assert_eq!(
        help.change.activity.detail.as_deref(),
        Some("Go-live can't move")
    );
}

#[test]
fn a_decision_is_made_once_by_staff_on_an_existing_request() {
    let asked = requested(&task(), day(20));
    assert!(matches!(
        decide_due_date(&asked, &client(), 1, true, None, t0()),
        Err(Error::Forbidden { .. })
    ));
    let err = decide_due_date(&asked, &staff(), 7, true, None, t0()).unwrap_err();
    assert!(matches!(&err, Error::Invalid { field, .. } if *field == "request"));
    let decided = decide_due_date(&asked, &staff(), 1, true, None, t0())
        .unwrap()
        .change
        .task;
    assert!(matches!(
        decide_due_date(&decided, &staff(), 1, false, Some("no"), t0()),
        Err(Error::Conflict { .. })
    ));
}
