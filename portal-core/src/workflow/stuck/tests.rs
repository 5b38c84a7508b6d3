//! Unit tests of "I'm stuck": who may report and clear, what is refused, and how a
//! stuck task stands on the client's agenda.

use chrono::{NaiveDate, TimeDelta, TimeZone};
use uuid::Uuid;

use super::*;
use crate::ids::{ContactId, PhaseId, PortalId};
use crate::model::{EmailAddress, TaskKind};
use crate::workflow::TaskEvidence;
use crate::workflow::agenda::{self, Standing, WaitingOn};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

fn task() -> Task {
    Task {
        for_role: None,
        id: TaskId::from_uuid(Uuid::from_u128(300)),
        portal_id: PortalId::from_uuid(Uuid::from_u128(100)),
        phase_id: PhaseId::from_uuid(Uuid::from_u128(200)),
        position: 0,
        title: "Firewall admin access".into(),
        description: String::new(),
        assignee: Side::Client,
        kind: TaskKind::Standard,
        status: TaskStatus::Pending,
        blocked_reason: None,
        due_date: NaiveDate::from_ymd_opt(2026, 3, 2),
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

fn stuck(t: &Task) -> Task {
    report_stuck(
        t,
        &client(),
        "I don't have the password",
        t0(),
        crate::i18n::Language::En,
    )
    .unwrap()
    .change
    .task
}

#[test]
fn a_report_makes_the_task_wait_on_the_msp_and_posts_the_reason() {
    let t = task();
    let help = report_stuck(
        &t,
        &client(),
        "  I don't have the password \n",
        t0(),
        crate::i18n::Language::En,
    )
    .unwrap();
    let next = &help.change.task;
    assert!(is_stuck(next));
    assert_eq!(
        open_report(next).unwrap().reason,
        "I don't have the password"
    );
    assert_eq!(
        next.status,
        TaskStatus::Pending,
        "the status is the task's own"
    );
    assert_eq!(
        help.comment.as_ref().unwrap().body,
        "I'm stuck: I don't have the password"
    );
    assert_eq!(help.comment.unwrap().author, client());
    assert_eq!(help.change.activity.kind, ActivityKind::StuckReported);
    assert_eq!(
        help.change.activity.detail.as_deref(),
        Some("I don't have the password")
    );
    assert_eq!(
        agenda::standing(next, false),
        Standing::Waiting(WaitingOn::Stuck)
    );
    let later = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    assert!(
        !agenda::is_overdue(next, false, later),
        "never overdue while stuck"
    );
    assert!(agenda::is_overdue(&t, false, later), "overdue before");
    assert!(
        agenda::next_step(
            std::slice::from_ref(next),
            ContactId::from_uuid(Uuid::from_u128(400)),
            later,
            |_| false
        )
        .is_none(),
        "not the client's next step while stuck"
    );
}

#[test]
fn a_second_report_while_stuck_is_refused() {
    let once = stuck(&task());
    let err = report_stuck(&once, &client(), "still", t0(), crate::i18n::Language::En).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
}

#[test]
fn the_reason_is_required_limited_and_clean() {
    let t = task();
    for bad in ["", "   ", "bell\u{7}", "rtl\u{202e}"] {
        let err = report_stuck(&t, &client(), bad, t0(), crate::i18n::Language::En).unwrap_err();
        assert!(
            matches!(&err, Error::Invalid { field, .. } if *field == "reason"),
            "{bad:?}: {err:?}"
        );
    }
    let long = "x".repeat(MAX_REASON + 1);
    assert!(report_stuck(&t, &client(), &long, t0(), crate::i18n::Language::En).is_err());
    assert!(
        report_stuck(
            &t,
            &client(),
            &"x".repeat(MAX_REASON),
            t0(),
            crate::i18n::Language::En
        )
        .is_ok()
    );
}

#[test]
fn only_open_client_tasks_of_a_client_can_be_reported() {
    let t = task();
    assert!(matches!(
        report_stuck(&t, &staff(), "x", t0(), crate::i18n::Language::En),
        Err(Error::Forbidden { .. })
    ));
    let mut msp = task();
    msp.assignee = Side::Msp;
    assert!(matches!(
        report_stuck(&msp, &client(), "x", t0(), crate::i18n::Language::En),
        Err(Error::Conflict { .. })
    ));
    for status in [TaskStatus::Completed, TaskStatus::Blocked] {
        let mut t = task();
        t.status = status;
        assert!(matches!(
            report_stuck(&t, &client(), "x", t0(), crate::i18n::Language::En),
            Err(Error::Conflict { .. })
        ));
    }
}

#[test]
fn staff_clear_with_an_answer_in_the_thread() {
    let once = stuck(&task());
    let at = t0() + TimeDelta::hours(1);
    let help = clear_stuck(&once, &staff(), Some("It's in the sealed envelope"), at).unwrap();
    let next = &help.change.task;
    assert!(!is_stuck(next));
    assert_eq!(next.evidence.stuck.len(), 1, "the report is kept");
    let cleared = next.evidence.stuck[0].cleared.as_ref().unwrap();
    assert_eq!(cleared.at, at);
    assert_eq!(
        cleared.answer.as_deref(),
        Some("It's in the sealed envelope")
    );
    assert_eq!(help.comment.unwrap().body, "It's in the sealed envelope");
    assert_eq!(help.change.activity.kind, ActivityKind::StuckCleared);
    assert_eq!(agenda::standing(next, false), Standing::ToDo);
    // A new report after clearing is allowed.
    assert!(
        report_stuck(
            next,
            &client(),
            "stuck again",
            at,
            crate::i18n::Language::En
        )
        .is_ok()
    );
}

#[test]
fn clearing_without_an_answer_posts_nothing() {
    let once = stuck(&task());
    let help = clear_stuck(&once, &staff(), Some("  "), t0()).unwrap();
    assert!(help.comment.is_none());
    assert!(!is_stuck(&help.change.task));
}

#[test]
fn clearing_is_for_staff_and_needs_an_open_report() {
    let once = stuck(&task());
    assert!(matches!(
        clear_stuck(&once, &client(), None, t0()),
        Err(Error::Forbidden { .. })
    ));
    assert!(matches!(
        clear_stuck(&task(), &staff(), None, t0()),
        Err(Error::Conflict { .. })
    ));
}

#[test]
fn a_completed_task_is_never_stuck() {
    let mut once = stuck(&task());
    once.status = TaskStatus::Completed;
    assert!(!is_stuck(&once));
    assert_eq!(agenda::standing(&once, false), Standing::Done);
}
