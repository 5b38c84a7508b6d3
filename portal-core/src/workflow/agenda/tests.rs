//! Unit tests of the client's agenda: what is the client's to do, what waits on the
//! MSP (never overdue), the next step's order, the Your Tasks order, phase outlines.

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::ids::{FileId, PhaseId, PortalId, TaskId, TenantId};
use crate::model::{Branding, MeetingSchedule, Portal, PortalStatus};
use crate::workflow::TaskEvidence;
use crate::workflow::documents::DocumentState;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn today() -> NaiveDate {
    day(10)
}

fn portal_id() -> PortalId {
    PortalId::from_uuid(Uuid::from_u128(100))
}

fn phase_id(n: u128) -> PhaseId {
    PhaseId::from_uuid(Uuid::from_u128(200 + n))
}

fn contact(n: u128) -> ContactId {
    ContactId::from_uuid(Uuid::from_u128(400 + n))
}

fn task(n: u128, phase: u128) -> Task {
    Task {
        for_role: None,
        id: TaskId::from_uuid(Uuid::from_u128(300 + n)),
        portal_id: portal_id(),
        phase_id: phase_id(phase),
        position: 0,
        title: format!("Task {n}"),
        description: String::new(),
        assignee: Side::Client,
        kind: TaskKind::Standard,
        status: TaskStatus::Pending,
        blocked_reason: None,
        due_date: None,
        evidence: TaskEvidence::default(),
        created_at: t0(),
        updated_at: t0(),
        version: 1,
        assigned_to: Vec::new(),
        waits_on: Vec::new(),
        internal: false,
    }
}

fn due(mut t: Task, d: u32) -> Task {
    t.due_date = Some(day(d));
    t
}

fn with_status(mut t: Task, s: TaskStatus) -> Task {
    t.status = s;
    t
}

fn msp(mut t: Task) -> Task {
    t.assignee = Side::Msp;
    t
}

fn documents(t: Task, states: &[Option<DocumentStatus>]) -> Task {
    let mut t = t;
    let requested: Vec<RequestedDocument> = (0..states.len())
        .map(|i| RequestedDocument::new(format!("d{i}"), format!("Document {i}")))
        .collect();
    t.kind = TaskKind::DocumentUpload {
        documents: requested,
    };
    for (i, s) in states.iter().enumerate() {
        if let Some(status) = s {
            t.evidence.documents.insert(
                format!("d{i}"),
                DocumentState {
                    status: *status,
                    current: FileId::from_uuid(Uuid::from_u128(900 + i as u128)),
                    versions: 1,
                    uploaded_at: t0(),
                    notes: None,
                    reviewed: None,
                },
            );
        }
    }
    t
}

fn unlocked(_: &Task) -> bool {
    false
}

fn titles(tasks: &[(&Task, Standing)]) -> Vec<String> {
    tasks.iter().map(|(t, _)| t.title.clone()).collect()
}

#[test]
fn what_the_client_can_do_is_to_do_and_the_rest_waits() {
    use DocumentStatus::{Approved, Rejected, Requested, Uploaded};
    let t = || task(1, 1);
    assert_eq!(standing(&t(), false), Standing::ToDo);
    assert_eq!(
        standing(&with_status(t(), TaskStatus::InProgress), false),
        Standing::ToDo
    );
    assert_eq!(
        standing(&with_status(t(), TaskStatus::Completed), false),
        Standing::Done
    );
    // Completed beats everything else, even a lock left behind.
    assert_eq!(
        standing(&with_status(msp(t()), TaskStatus::Completed), true),
        Standing::Done
    );
    assert_eq!(
        standing(&msp(t()), false),
        Standing::Waiting(WaitingOn::Msp)
    );
    assert_eq!(
        standing(&with_status(t(), TaskStatus::Blocked), false),
        Standing::Waiting(WaitingOn::Blocked)
    );
    assert_eq!(
        standing(&t(), true),
        Standing::Waiting(WaitingOn::Prerequisites)
    );
    // A blocked task says it is blocked, even if it is also locked.
    assert_eq!(
        standing(&with_status(t(), TaskStatus::Blocked), true),
        Standing::Waiting(WaitingOn::Blocked)
    );

    // Meetings: the MSP schedules them first.
    let mut meeting = t();
    meeting.kind = TaskKind::Meeting { schedule: None };
    assert_eq!(
        standing(&meeting, false),
        Standing::Waiting(WaitingOn::Scheduling)
    );
    meeting.kind = TaskKind::Meeting {
        schedule: Some(MeetingSchedule::new(t0(), "UTC", 30, None, None)),
    };
    assert_eq!(standing(&meeting, false), Standing::ToDo);

    // Documents: under review only when everything is in and something awaits review.
    let review = Standing::Waiting(WaitingOn::Review);
    for (states, expected) in [
        (vec![None], Standing::ToDo),
        (vec![Some(Requested)], Standing::ToDo),
        (vec![Some(Uploaded)], review),
        (vec![Some(Uploaded), Some(Approved)], review),
        (vec![Some(Uploaded), None], Standing::ToDo),
        (vec![Some(Uploaded), Some(Rejected)], Standing::ToDo),
        (vec![Some(Rejected)], Standing::ToDo),
        // All approved but not (yet) completed: nothing waits for review, the
        // status decides; a document task with nothing requested is the client's.
        (vec![Some(Approved)], Standing::ToDo),
        (vec![], Standing::ToDo),
    ] {
        assert_eq!(
            standing(
                &with_status(documents(t(), &states), TaskStatus::InProgress),
                false
            ),
            expected,
            "{states:?}"
        );
    }
}

#[test]
fn waiting_tasks_are_never_overdue_against_the_client() {
    let late = || due(task(1, 1), 9);
    assert!(is_overdue(&late(), false, today()));
    // The boundary: due today is not overdue, due yesterday is.
    assert!(!is_overdue(&due(task(1, 1), 10), false, today()));
    assert!(is_overdue(&due(task(1, 1), 9), false, day(10)));
    assert!(!is_overdue(&task(1, 1), false, today()));
    assert!(!is_overdue(&late(), true, today()), "locked");
    assert!(!is_overdue(&msp(late()), false, today()), "an MSP task");
    assert!(
        !is_overdue(&with_status(late(), TaskStatus::Blocked), false, today()),
        "blocked"
    );
    assert!(
        !is_overdue(&with_status(late(), TaskStatus::Completed), false, today()),
        "done"
    );
    let in_review = documents(late(), &[Some(DocumentStatus::Uploaded)]);
    assert!(!is_overdue(&in_review, false, today()), "under review");
    let rejected = documents(late(), &[Some(DocumentStatus::Rejected)]);
    assert!(
        is_overdue(&rejected, false, today()),
        "rejected: the client's again"
    );
}

#[test]
fn next_step_is_overdue_first_then_by_due_date_then_plan_order() {
    let me = contact(1);
    let tasks = vec![
        task(1, 1),          // undated
        due(task(2, 1), 20), // later
        due(task(3, 2), 12), // soonest not overdue
        due(task(4, 2), 12), // same day, later in the plan
        due(task(5, 2), 8),  // overdue
        due(task(6, 2), 3),  // overdue the longest
    ];
    let pick = |tasks: &[Task]| next_step(tasks, me, today(), unlocked).map(|t| t.title.clone());
    assert_eq!(pick(&tasks).as_deref(), Some("Task 6"));
    assert_eq!(pick(&tasks[..5]).as_deref(), Some("Task 5"));
    assert_eq!(pick(&tasks[..4]).as_deref(), Some("Task 3"));
    // Same due date: plan order decides, whichever way round they are listed.
    let mut swapped = vec![tasks[3].clone(), tasks[2].clone()];
    assert_eq!(pick(&swapped).as_deref(), Some("Task 4"));
    swapped.reverse();
    assert_eq!(pick(&swapped).as_deref(), Some("Task 3"));
    assert_eq!(pick(&tasks[..2]).as_deref(), Some("Task 2"));
    assert_eq!(pick(&tasks[..1]).as_deref(), Some("Task 1"));
    assert_eq!(pick(&[]), None);
}

#[test]
fn next_step_skips_what_is_not_the_contacts_to_do() {
    let me = contact(1);
    let mut theirs = due(task(1, 1), 1);
    theirs.assigned_to = vec![contact(2)];
    let mut shared = due(task(2, 1), 25);
    shared.assigned_to = vec![contact(2), me];
    let tasks = vec![
        theirs,
        msp(due(task(3, 1), 1)),
        with_status(due(task(4, 1), 1), TaskStatus::Blocked),
        with_status(due(task(5, 1), 1), TaskStatus::Completed),
        documents(due(task(6, 1), 1), &[Some(DocumentStatus::Uploaded)]),
        due(task(7, 1), 2), // locked below
        shared,
        task(8, 1),
    ];
    let locked_7 = |t: &Task| t.title == "Task 7";
    assert_eq!(
        next_step(&tasks, me, today(), locked_7).map(|t| t.title.as_str()),
        Some("Task 2")
    );
    assert_eq!(
        next_step(&tasks, contact(2), today(), locked_7).map(|t| t.title.as_str()),
        Some("Task 1")
    );
    assert_eq!(next_step(&tasks[..6], me, today(), locked_7), None);
}

#[test]
fn your_tasks_lists_to_do_then_waiting_then_done() {
    let tasks = vec![
        with_status(due(task(1, 1), 1), TaskStatus::Completed),
        msp(due(task(2, 1), 2)),
        task(3, 1),
        due(task(4, 1), 30),
        with_status(due(task(5, 1), 5), TaskStatus::Blocked),
        due(task(6, 1), 4),
        task(7, 1),
        with_status(task(8, 1), TaskStatus::Completed),
    ];
    let order = client_order(&tasks, unlocked);
    assert_eq!(
        titles(&order),
        [
            "Task 6", "Task 4", "Task 3", "Task 7", // to do: dated first, then plan order
            "Task 2", "Task 5", // waiting
            "Task 1", "Task 8", // done
        ]
    );
    assert_eq!(order[4].1, Standing::Waiting(WaitingOn::Msp));
    assert_eq!(order[5].1, Standing::Waiting(WaitingOn::Blocked));
    assert_eq!(order[7].1, Standing::Done);
    let locked = client_order(&tasks, |t: &Task| t.title == "Task 6");
    assert_eq!(locked[0].0.title, "Task 4");
    assert_eq!(
        locked
            .iter()
            .find(|(t, _)| t.title == "Task 6")
            .map(|r| r.1),
        Some(Standing::Waiting(WaitingOn::Prerequisites))
    );
}

#[test]
fn msp_next_is_its_open_tasks_by_due_date() {
    let tasks = vec![
        msp(task(1, 1)),
        msp(due(task(2, 1), 20)),
        msp(with_status(due(task(3, 1), 1), TaskStatus::Completed)),
        due(task(4, 1), 1),
        msp(due(task(5, 2), 12)),
    ];
    let names: Vec<&str> = msp_next(&tasks, 2)
        .iter()
        .map(|t| t.title.as_str())
        .collect();
    assert_eq!(names, ["Task 5", "Task 2"]);
    assert_eq!(msp_next(&tasks, 10).len(), 3);
}

#[test]
fn phase_outlines_have_status_percent_dates_and_one_current_phase() {
    let phase = |n: u128, position: u32| Phase {
        id: phase_id(n),
        portal_id: portal_id(),
        position,
        name: format!("Phase {n}"),
        version: 1,
    };
    let snapshot = PortalSnapshot {
        portal: Portal {
            id: portal_id(),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            client_name: "Client".into(),
            status: PortalStatus::Active,
            branding: Branding::new("Acme MSP", "#0d6e7a", "", None).unwrap(),
            created_at: t0(),
            target_date: None,
            version: 1,
            colleague_invitations: Default::default(),
        },
        phases: vec![phase(1, 0), phase(2, 1), phase(3, 2), phase(4, 3)],
        tasks: vec![
            with_status(due(task(1, 1), 4), TaskStatus::Completed),
            with_status(due(task(2, 1), 2), TaskStatus::Completed),
            with_status(due(task(3, 2), 9), TaskStatus::Completed),
            msp(due(task(4, 2), 15)),
            task(5, 2),
            with_status(task(6, 2), TaskStatus::Blocked),
            task(7, 3),
        ],
    };
    let outlines = phase_outlines(&snapshot);
    let row = |i: usize| {
        let o = &outlines[i];
        (
            o.status,
            o.progress.percent(),
            o.starts,
            o.ends,
            o.current,
            o.tasks.len(),
        )
    };
    assert_eq!(
        row(0),
        (
            PhaseStatus::Completed,
            100,
            Some(day(2)),
            Some(day(4)),
            false,
            2
        )
    );
    assert_eq!(
        row(1),
        (
            PhaseStatus::InProgress,
            25,
            Some(day(9)),
            Some(day(15)),
            true,
            4
        )
    );
    assert_eq!(row(2), (PhaseStatus::Pending, 0, None, None, false, 1));
    // An empty phase counts as completed, has no dates and is not current.
    assert_eq!(row(3), (PhaseStatus::Completed, 0, None, None, false, 0));
    assert_eq!(outlines.iter().filter(|o| o.current).count(), 1);
}
