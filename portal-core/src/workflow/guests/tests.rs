//! Unit tests of the guest rules: what a guest reaches, the end date, sharing.

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::ids::{ContactId, PhaseId, PortalId};
use crate::model::{EmailAddress, TaskKind, TaskStatus, TimeZone as Zone};
use crate::workflow::TaskEvidence;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

fn portal() -> PortalId {
    PortalId::from_uuid(Uuid::from_u128(100))
}

fn tid(n: u128) -> TaskId {
    TaskId::from_uuid(Uuid::from_u128(300 + n))
}

fn task(n: u128) -> Task {
    Task {
        id: tid(n),
        portal_id: portal(),
        phase_id: PhaseId::from_uuid(Uuid::from_u128(200)),
        position: n as u32,
        title: format!("Task {n}"),
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
        for_role: None,
        waits_on: Vec::new(),
        internal: false,
    }
}

fn contact(guest: Option<Guest>) -> Contact {
    Contact {
        id: ContactId::from_uuid(Uuid::from_u128(7)),
        portal_id: portal(),
        name: "Gill Guest".into(),
        email: EmailAddress::parse("gill@previous-it.example").unwrap(),
        revoked_at: None,
        time_zone: Zone::default(),
        created_at: t0(),
        invited_by: None,
        awaiting_approval: false,
        role: None,
        guest,
        language: None,
    }
}

fn guest(shared: &[u128], ends: Option<DateTime<Utc>>) -> Contact {
    contact(Some(Guest {
        organisation: "Previous IT".into(),
        access_ends_at: ends,
        shared_tasks: shared.iter().map(|n| tid(*n)).collect(),
        handover_phase: None,
        stall_alerted_at: None,
    }))
}

#[test]
fn a_guest_reaches_only_shared_tasks_and_no_portal_page() {
    let g = guest(&[1], None);
    assert!(judge_reach(g.guest.as_ref(), Reach::Task(tid(1))).is_ok());
    assert!(matches!(
        judge_reach(g.guest.as_ref(), Reach::Task(tid(2))),
        Err(Error::NotFound {
            entity: Entity::Task
        })
    ));
    assert!(matches!(
        judge_reach(g.guest.as_ref(), Reach::Portal),
        Err(Error::NotFound {
            entity: Entity::Page
        })
    ));
}

#[test]
fn a_client_contact_reaches_everything() {
    let c = contact(None);
    assert!(judge_reach(c.guest.as_ref(), Reach::Task(tid(2))).is_ok());
    assert!(judge_reach(c.guest.as_ref(), Reach::Portal).is_ok());
    assert!(judge_team_action(c.guest.as_ref()).is_ok());
    assert!(is_colleague(&c));
}

#[test]
fn a_guest_is_no_colleague_and_cannot_act_for_the_team() {
    let g = guest(&[1], None);
    assert!(!is_colleague(&g));
    assert!(matches!(
        judge_team_action(g.guest.as_ref()),
        Err(Error::Forbidden { .. })
    ));
}

#[test]
fn access_ends_after_the_end_instant() {
    let ends = t0() + TimeDelta::days(3);
    let g = guest(&[], Some(ends));
    assert!(!access_ended(&g, ends));
    assert!(access_ended(&g, ends + TimeDelta::microseconds(1)));
    assert!(!access_ended(
        &guest(&[], None),
        ends + TimeDelta::days(999)
    ));
    assert!(!access_ended(&contact(None), ends + TimeDelta::days(999)));
}

#[test]
fn an_end_date_must_be_in_the_future() {
    assert!(judge_end_date(None, t0()).is_ok());
    assert!(judge_end_date(Some(t0() + TimeDelta::seconds(1)), t0()).is_ok());
    assert!(matches!(
        judge_end_date(Some(t0()), t0()),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn ending_access_keeps_an_earlier_end() {
    let early = t0() + TimeDelta::days(1);
    let g = guest(&[], Some(early));
    assert_eq!(
        end_access(&g, t0() + TimeDelta::days(5))
            .unwrap()
            .access_ends_at,
        Some(early)
    );
    assert_eq!(end_access(&g, t0()).unwrap().access_ends_at, Some(t0()));
    assert!(end_access(&contact(None), t0()).is_err());
}

#[test]
fn sharing_is_idempotent_and_capped() {
    let g = guest(&[1], None).guest.unwrap();
    let twice = share(&g, tid(1), true).unwrap();
    assert_eq!(twice.shared_tasks, vec![tid(1)]);
    let more = share(&g, tid(2), true).unwrap();
    assert_eq!(more.shared_tasks, vec![tid(1), tid(2)]);
    assert_eq!(
        share(&more, tid(1), false).unwrap().shared_tasks,
        vec![tid(2)]
    );
    assert_eq!(share(&g, tid(9), false).unwrap().shared_tasks, vec![tid(1)]);
    let full = Guest {
        shared_tasks: (0..MAX_SHARED_TASKS as u128).map(tid).collect(),
        ..g
    };
    assert!(share(&full, tid(999), true).is_err());
}

#[test]
fn only_open_client_tasks_of_the_portal_are_shareable() {
    let g = guest(&[], None);
    assert!(judge_shareable(&g, &task(1)).is_ok());
    let mut internal = task(2);
    internal.internal = true;
    assert!(matches!(
        judge_shareable(&g, &internal),
        Err(Error::Invalid { .. })
    ));
    let mut msp = task(3);
    msp.assignee = Side::Msp;
    assert!(judge_shareable(&g, &msp).is_err());
    let mut other = task(4);
    other.portal_id = PortalId::from_uuid(Uuid::from_u128(999));
    assert!(matches!(
        judge_shareable(&g, &other),
        Err(Error::NotFound {
            entity: Entity::Task
        })
    ));
    assert!(judge_shareable(&contact(None), &task(1)).is_err());
}

/// A guest's locked task names the shared tasks it waits for, but not the client's
/// other steps (their titles are not the guest's to read).
#[test]
fn a_guest_reads_only_shared_titles_in_what_their_task_waits_for() {
    let mut mine = task(1);
    mine.waits_on = vec![tid(2), tid(3)];
    let mut internal = task(3);
    internal.internal = true;
    let tasks = vec![mine.clone(), task(2), internal, task(4)];
    let Some(only_mine) = guest(&[1], None).guest else {
        panic!("a guest")
    };
    assert_eq!(
        waiting_labels(&only_mine, &tasks, &mine, "Acme MSP"),
        vec!["another step of the onboarding", "a step by Acme MSP"]
    );
    let Some(both) = guest(&[1, 2], None).guest else {
        panic!("a guest")
    };
    assert_eq!(
        waiting_labels(&both, &tasks, &mine, "Acme MSP"),
        vec!["Task 2", "a step by Acme MSP"]
    );
}
