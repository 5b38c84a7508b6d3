//! Unit tests of the handover rules: the phase's content, one handover per portal,
//! the records belonging together, and when a handover stalls.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::ids::ContactId;
use crate::model::{EmailAddress, Guest, TimeZone as Zone};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn ids() -> HandoverIds {
    HandoverIds {
        portal: PortalId::from_uuid(Uuid::from_u128(1)),
        phase: PhaseId::from_uuid(Uuid::from_u128(2)),
        checklist: TaskId::from_uuid(Uuid::from_u128(3)),
        credentials: TaskId::from_uuid(Uuid::from_u128(4)),
        guest: ContactId::from_uuid(Uuid::from_u128(5)),
    }
}

fn guest(phase: Option<PhaseId>, shared: Vec<TaskId>) -> Contact {
    Contact {
        id: ids().guest,
        portal_id: ids().portal,
        name: "Gill Guest".into(),
        email: EmailAddress::parse("gill@previous-it.example").unwrap(),
        revoked_at: None,
        time_zone: Zone::default(),
        created_at: t0(),
        invited_by: None,
        awaiting_approval: false,
        role: None,
        language: None,
        guest: Some(Guest {
            organisation: "Previous IT".into(),
            access_ends_at: None,
            shared_tasks: shared,
            handover_phase: phase,
            stall_alerted_at: None,
        }),
    }
}

fn plan(due: Option<NaiveDate>) -> (Phase, Vec<Task>) {
    tasks(ids(), "Previous IT", "Acme IT", "Dana's Bakery", due, t0())
}

#[test]
fn the_phase_has_the_checklist_and_the_credentials_task_for_the_guest() {
    let due = NaiveDate::from_ymd_opt(2026, 3, 16);
    let (phase, tasks) = plan(due);
    assert_eq!(phase.name, "Handover from your previous provider");
    assert_eq!(phase.id, ids().phase);
    assert_eq!(tasks.len(), 2);
    let TaskKind::Checklist { items } = &tasks[0].kind else {
        panic!("the first task is a checklist: {:?}", tasks[0].kind);
    };
    let item_ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(item_ids, ["documentation", "domain", "licences"]);
    assert!(tasks[0].kind.validate().is_ok(), "a valid checklist");
    assert_eq!(
        tasks[1].kind,
        TaskKind::CredentialHandoff { api_key: false }
    );
    for t in &tasks {
        assert_eq!(t.phase_id, phase.id);
        assert_eq!(t.assignee, Side::Client, "the client's progress counts it");
        assert!(!t.internal);
        assert_eq!(t.assigned_to, vec![ids().guest], "the guest's to do");
        assert_eq!(t.due_date, due);
        assert!(t.description.contains("Previous IT"));
        assert!(t.description.contains("Acme IT"));
    }
}

#[test]
fn a_second_handover_waits_until_the_first_phase_is_gone() {
    let (phase, _) = plan(None);
    let running = guest(Some(phase.id), vec![]);
    let other = PhaseId::from_uuid(Uuid::from_u128(99));
    assert!(judge_start(&[other], &[]).is_ok(), "no guest: free");
    assert!(matches!(
        judge_start(&[other, phase.id], std::slice::from_ref(&running)),
        Err(Error::Conflict { .. })
    ));
    assert!(
        judge_start(&[other], std::slice::from_ref(&running)).is_ok(),
        "the phase was deleted: a new handover may start"
    );
    let plain = guest(None, vec![]);
    assert!(judge_start(&[phase.id], &[plain]).is_ok(), "another guest");
}

#[test]
fn the_records_must_belong_together() {
    let (phase, tasks) = plan(None);
    let all = vec![ids().checklist, ids().credentials];
    assert!(judge_records(&phase, &tasks, &guest(Some(phase.id), all.clone())).is_ok());
    let unshared = guest(Some(phase.id), vec![ids().checklist]);
    assert!(matches!(
        judge_records(&phase, &tasks, &unshared),
        Err(Error::Invalid {
            field: "task_ids",
            ..
        })
    ));
    assert!(matches!(
        judge_records(&phase, &tasks, &guest(None, all.clone())),
        Err(Error::Invalid {
            field: "contact",
            ..
        })
    ));
    let mut elsewhere = tasks.clone();
    elsewhere[1].phase_id = PhaseId::from_uuid(Uuid::from_u128(99));
    assert!(judge_records(&phase, &elsewhere, &guest(Some(phase.id), all)).is_err());
}

#[test]
fn only_the_running_handovers_tasks_are_handover_tasks() {
    let (phase, mut tasks) = plan(None);
    let mut other = tasks[0].clone();
    other.id = TaskId::from_uuid(Uuid::from_u128(50));
    other.phase_id = PhaseId::from_uuid(Uuid::from_u128(99));
    tasks.push(other);
    let found: Vec<TaskId> = handover_tasks(&tasks, &[guest(Some(phase.id), vec![])])
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(found, vec![ids().checklist, ids().credentials]);
    assert!(handover_tasks(&tasks, &[guest(None, vec![])]).is_empty());
}

#[test]
fn a_task_stalls_when_overdue_or_untouched_for_a_working_week() {
    let today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    let (_, tasks) = plan(NaiveDate::from_ymd_opt(2026, 3, 9));
    let mut t = tasks[0].clone();
    assert!(stalled(&t, today, t0()), "past its due date");
    t.due_date = Some(today);
    assert!(!stalled(&t, today, t0()), "due today is not late");
    t.due_date = None;
    let later = t0() + TimeDelta::days(STALL_AFTER_DAYS);
    assert!(stalled(&t, today, later), "untouched for the whole spell");
    assert!(!stalled(&t, today, later - TimeDelta::seconds(1)));
    t.status = TaskStatus::InProgress;
    assert!(!stalled(&t, today, later), "started: not untouched");
    t.status = TaskStatus::Completed;
    t.due_date = NaiveDate::from_ymd_opt(2026, 3, 1);
    assert!(!stalled(&t, today, later), "done");
}

#[test]
fn the_client_does_not_read_the_handovers_thread() {
    let (phase, tasks) = plan(None);
    let running = guest(Some(phase.id), vec![]);
    let record = running.guest.clone();
    let contacts = [running];
    assert!(
        !reads_thread(None, &tasks[0], &contacts),
        "the client's contact"
    );
    assert!(
        reads_thread(record.as_ref(), &tasks[0], &contacts),
        "the guest"
    );
    let mut other = tasks[0].clone();
    other.phase_id = PhaseId::from_uuid(Uuid::from_u128(99));
    assert!(reads_thread(None, &other, &contacts), "any other task");
}

#[test]
fn the_msp_is_told_once_per_handover() {
    let today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    let (phase, tasks) = plan(NaiveDate::from_ymd_opt(2026, 3, 9));
    let g = guest(Some(phase.id), vec![]);
    assert_eq!(
        judge_stall(&g, &tasks, today, t0()).len(),
        2,
        "both overdue"
    );
    let alerted = Contact {
        guest: Some(record_stall(&g, t0()).unwrap()),
        ..g.clone()
    };
    assert!(
        judge_stall(&alerted, &tasks, today, t0()).is_empty(),
        "told once"
    );
    assert!(matches!(
        record_stall(&alerted, t0()),
        Err(Error::Conflict { .. })
    ));
    let plain = guest(None, vec![]);
    assert!(judge_stall(&plain, &tasks, today, t0()).is_empty());
    assert!(matches!(
        record_stall(&plain, t0()),
        Err(Error::Invalid {
            field: "contact",
            ..
        })
    ));
    let revoked = Contact {
        revoked_at: Some(t0()),
        ..g
    };
    assert!(judge_stall(&revoked, &tasks, today, t0()).is_empty());
}
