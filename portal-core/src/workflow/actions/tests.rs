//! Unit tests of the task workflow rules: every action, in every state that matters,
//! by each side. Written to kill the mutants `cargo mutants` generates for
//! `actions.rs` (see `docs/mutation-testing.md`).

use std::net::{IpAddr, Ipv4Addr};

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::ids::{ContactId, PhaseId, PortalId, TaskId};
use crate::model::{ChecklistItem, DocumentRef, EmailAddress, Question, QuestionKind};
use crate::workflow::survey::Answer;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 2, 10, 30, 0).unwrap()
}

fn client() -> Actor {
    Actor::Client {
        contact_id: ContactId::from_uuid(Uuid::from_u128(7)),
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

fn task(kind: TaskKind) -> Task {
    Task {
        for_role: None,
        id: TaskId::from_uuid(Uuid::from_u128(1)),
        portal_id: PortalId::from_uuid(Uuid::from_u128(2)),
        phase_id: PhaseId::from_uuid(Uuid::from_u128(3)),
        position: 0,
        title: "Do the thing".into(),
        description: String::new(),
        assignee: Side::Client,
        kind,
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

fn with_status(mut t: Task, status: TaskStatus) -> Task {
    t.status = status;
    if status == TaskStatus::Blocked {
        t.blocked_reason = Some("waiting for the firewall".into());
    }
    t
}

fn checklist() -> TaskKind {
    TaskKind::Checklist {
        items: ["a", "b", "c"]
            .iter()
            .map(|id| ChecklistItem {
                id: (*id).into(),
                label: format!("Item {id}"),
            })
            .collect(),
    }
}

fn survey() -> TaskKind {
    TaskKind::Survey {
        questions: vec![Question {
            id: "q1".into(),
            prompt: "Which mail host?".into(),
            required: true,
            kind: QuestionKind::ShortText { max_len: 50 },
        }],
    }
}

fn approval() -> TaskKind {
    TaskKind::Approval {
        document: Some(DocumentRef {
            name: "Proposal".into(),
        }),
    }
}

fn meeting() -> TaskKind {
    TaskKind::Meeting { schedule: None }
}

fn training() -> TaskKind {
    TaskKind::Training {
        video_url: "https://youtu.be/dQw4w9WgXcQ".into(),
    }
}

fn complete(notes: Option<&str>) -> TaskAction {
    TaskAction::Complete {
        notes: notes.map(str::to_owned),
    }
}

fn set(item: &str, checked: bool) -> TaskAction {
    TaskAction::SetItem {
        item: item.into(),
        checked,
    }
}

fn decide(approved: bool, comment: Option<&str>) -> TaskAction {
    TaskAction::Decide {
        approved,
        comment: comment.map(str::to_owned),
        request: RequestInfo {
            ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))),
            user_agent: Some("Firefox".into()),
            path: None,
        },
        documents: Vec::new(),
    }
}

fn answers(value: &str) -> Answers {
    let mut a = Answers::new();
    a.insert("q1".into(), Answer::Text(value.into()));
    a
}

fn mark(by: Actor) -> CheckMark {
    CheckMark { by, at: t0() }
}

fn a_decision(approved: bool) -> ApprovalDecision {
    ApprovalDecision {
        approved,
        comment: None,
        name: "Dana Whitfield".into(),
        email: EmailAddress::parse("dana@client.example").unwrap(),
        ip: None,
        user_agent: None,
        at: t0(),
        documents: Vec::new(),
    }
}

fn ok(t: &Task, action: &TaskAction, actor: &Actor) -> TaskChange {
    match apply(t, action, actor, now()) {
        Ok(change) => change,
        Err(e) => panic!("{action:?} by {actor:?} refused: {e}"),
    }
}

fn conflict_of(t: &Task, action: &TaskAction, actor: &Actor) -> String {
    match apply(t, action, actor, now()) {
        Err(Error::Conflict { reason }) => reason.into(),
        other => panic!("{action:?} by {actor:?}: expected a conflict, got {other:?}"),
    }
}

fn is_forbidden(t: &Task, action: &TaskAction, actor: &Actor) -> bool {
    matches!(apply(t, action, actor, now()), Err(Error::Forbidden { .. }))
}

fn invalid_field(t: &Task, action: &TaskAction, actor: &Actor) -> &'static str {
    match apply(t, action, actor, now()) {
        Err(Error::Invalid { field, .. }) => field,
        other => panic!("{action:?} by {actor:?}: expected invalid input, got {other:?}"),
    }
}

// ---- Mark Complete -------------------------------------------------------------------

#[test]
fn a_client_marks_complete_only_standard_and_training_tasks() {
    for kind in [TaskKind::Standard, training()] {
        let change = ok(&task(kind.clone()), &complete(None), &client());
        assert_eq!(change.task.status, TaskStatus::Completed, "{kind:?}");
        let done = change.task.evidence.completion.unwrap();
        assert_eq!((done.by, done.at, done.notes), (client(), now(), None));
        assert_eq!(change.activity.kind, ActivityKind::TaskCompleted);
    }
    // Every type whose spec asks for something else (answers, a decision, items, a
    // meeting, files, credentials) is refused, and nothing is recorded.
    for kind in [
        survey(),
        approval(),
        checklist(),
        meeting(),
        TaskKind::DocumentUpload { documents: vec![] },
        TaskKind::Signature {
            document: None,
            consent: None,
        },
        TaskKind::CredentialHandoff { api_key: true },
        TaskKind::SecureFileDrop {
            expires_after_days: 7,
        },
    ] {
        let why = conflict_of(&task(kind.clone()), &complete(Some("done")), &client());
        assert!(
            why.contains("not by marking it complete"),
            "{kind:?}: {why}"
        );
    }
}

#[test]
fn staff_may_mark_any_task_complete_including_msp_and_blocked_ones() {
    for kind in [survey(), approval(), checklist(), meeting()] {
        let change = ok(&task(kind), &complete(None), &staff());
        assert_eq!(change.task.status, TaskStatus::Completed);
        assert_eq!(change.task.evidence.completion.unwrap().by, staff());
    }
    let mut msp_task = task(TaskKind::Standard);
    msp_task.assignee = Side::Msp;
    assert_eq!(
        ok(&msp_task, &complete(None), &staff()).task.status,
        TaskStatus::Completed
    );
    let blocked = with_status(task(TaskKind::Standard), TaskStatus::Blocked);
    let change = ok(&blocked, &complete(None), &staff());
    assert_eq!(change.task.status, TaskStatus::Completed);
    assert_eq!(change.task.blocked_reason, None);
}

#[test]
fn a_completed_task_cannot_be_completed_again() {
    let done = with_status(task(TaskKind::Standard), TaskStatus::Completed);
    assert!(conflict_of(&done, &complete(None), &staff()).contains("already complete"));
    assert!(conflict_of(&done, &complete(None), &client()).contains("already complete"));
}

#[test]
fn notes_are_trimmed_and_blank_notes_are_not_stored() {
    let t = task(TaskKind::Standard);
    let change = ok(&t, &complete(Some("  router replaced \r\n")), &client());
    assert_eq!(
        change.task.evidence.completion.unwrap().notes.as_deref(),
        Some("router replaced")
    );
    assert_eq!(change.activity.detail.as_deref(), Some("router replaced"));
    for blank in ["", "   ", " \n\t "] {
        let change = ok(&t, &complete(Some(blank)), &client());
        assert_eq!(
            change.task.evidence.completion.unwrap().notes,
            None,
            "{blank:?}"
        );
        assert_eq!(change.activity.detail, None);
    }
    assert!(
        ok(&t, &complete(Some(&"n".repeat(MAX_NOTE))), &client())
            .task
            .evidence
            .completion
            .is_some()
    );
    assert_eq!(
        invalid_field(&t, &complete(Some(&"n".repeat(MAX_NOTE + 1))), &client()),
        "notes"
    );
}

#[test]
fn the_change_is_stamped_and_described_by_its_activity_entry() {
    let t = task(TaskKind::Standard);
    let change = ok(&t, &complete(Some("ok")), &client());
    assert_eq!(change.task.updated_at, now());
    assert_eq!(change.task.created_at, t0());
    let a = change.activity;
    assert_eq!(a.portal_id, t.portal_id);
    assert_eq!(a.at, now());
    assert_eq!(a.actor, client());
    assert_eq!(a.task_id, Some(t.id));
    assert_eq!(a.subject, "Do the thing");
}

// ---- Who may act -----------------------------------------------------------------------

#[test]
fn clients_may_act_only_on_open_client_tasks() {
    let t = task(TaskKind::Standard);
    assert!(client_may_act(&t).is_ok());
    assert!(client_may_act(&with_status(t.clone(), TaskStatus::InProgress)).is_ok());

    let mut msp = t.clone();
    msp.assignee = Side::Msp;
    assert!(matches!(client_may_act(&msp), Err(Error::Forbidden { .. })));
    assert!(is_forbidden(&msp, &complete(None), &client()));

    let blocked = with_status(t.clone(), TaskStatus::Blocked);
    match client_may_act(&blocked) {
        Err(Error::Conflict { reason }) => assert!(reason.contains("waiting for the firewall")),
        other => panic!("{other:?}"),
    }
    let mut no_reason = blocked.clone();
    no_reason.blocked_reason = None;
    match client_may_act(&no_reason) {
        Err(Error::Conflict { reason }) => assert!(reason.contains("no reason given")),
        other => panic!("{other:?}"),
    }
    let why = conflict_of(&blocked, &complete(None), &client());
    assert!(why.contains("blocked"), "{why}");

    let done = with_status(t, TaskStatus::Completed);
    match client_may_act(&done) {
        Err(Error::Conflict { reason }) => assert!(reason.contains("already complete")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn staff_only_actions_are_refused_to_clients() {
    let mut schedule = meeting_schedule();
    schedule.sequence = 0;
    let open = task(meeting());
    let blocked = with_status(task(TaskKind::Standard), TaskStatus::Blocked);
    let done = with_status(task(TaskKind::Standard), TaskStatus::Completed);
    assert!(is_forbidden(
        &open,
        &TaskAction::Schedule(schedule),
        &client()
    ));
    assert!(is_forbidden(
        &open,
        &TaskAction::Block { reason: "x".into() },
        &client()
    ));
    assert!(is_forbidden(&blocked, &TaskAction::Unblock, &client()));
    assert!(is_forbidden(&done, &TaskAction::Reopen, &client()));
}

// ---- Survey answers ----------------------------------------------------------------------

#[test]
fn a_draft_moves_a_survey_to_in_progress_or_back_to_pending() {
    let t = task(survey());
    let change = ok(
        &t,
        &TaskAction::SaveAnswers {
            answers: answers("M365"),
            submit: false,
        },
        &client(),
    );
    assert_eq!(change.task.status, TaskStatus::InProgress);
    assert_eq!(change.task.evidence.answers, answers("M365"));
    assert_eq!(
        change.task.evidence.answers_saved,
        Some(CheckMark {
            by: client(),
            at: now()
        })
    );
    assert_eq!(change.task.evidence.completion, None);
    assert_eq!(change.activity.kind, ActivityKind::ProgressSaved);

    let cleared = ok(
        &change.task,
        &TaskAction::SaveAnswers {
            answers: Answers::new(),
            submit: false,
        },
        &client(),
    );
    assert_eq!(cleared.task.status, TaskStatus::Pending);
    assert!(cleared.task.evidence.answers.is_empty());
}

#[test]
fn a_draft_saved_by_staff_leaves_a_blocked_survey_blocked() {
    let t = with_status(task(survey()), TaskStatus::Blocked);
    let change = ok(
        &t,
        &TaskAction::SaveAnswers {
            answers: answers("M365"),
            submit: false,
        },
        &staff(),
    );
    assert_eq!(change.task.status, TaskStatus::Blocked);
    assert_eq!(change.task.blocked_reason, t.blocked_reason);
}

#[test]
fn submitting_completes_the_survey() {
    let t = with_status(task(survey()), TaskStatus::InProgress);
    let change = ok(
        &t,
        &TaskAction::SaveAnswers {
            answers: answers("Google"),
            submit: true,
        },
        &client(),
    );
    assert_eq!(change.task.status, TaskStatus::Completed);
    let done = change.task.evidence.completion.unwrap();
    assert_eq!((done.by, done.at, done.notes), (client(), now(), None));
    assert_eq!(change.activity.kind, ActivityKind::TaskCompleted);

    let blocked = with_status(task(survey()), TaskStatus::Blocked);
    let change = ok(
        &blocked,
        &TaskAction::SaveAnswers {
            answers: answers("Google"),
            submit: true,
        },
        &staff(),
    );
    assert_eq!(change.task.status, TaskStatus::Completed);
    assert_eq!(change.task.blocked_reason, None);
}

#[test]
fn answers_are_refused_on_other_types_and_after_submission() {
    let save = TaskAction::SaveAnswers {
        answers: answers("x"),
        submit: false,
    };
    assert!(conflict_of(&task(TaskKind::Standard), &save, &client()).contains("no form"));
    let done = with_status(task(survey()), TaskStatus::Completed);
    assert!(conflict_of(&done, &save, &staff()).contains("already submitted"));
}

// ---- Checklists ------------------------------------------------------------------------

#[test]
fn checking_items_moves_a_checklist_along_and_the_last_one_completes_it() {
    let t = task(checklist());
    let one = ok(&t, &set("a", true), &client());
    assert_eq!(one.task.status, TaskStatus::InProgress);
    assert_eq!(one.activity.kind, ActivityKind::ItemChecked);
    assert_eq!(one.activity.detail.as_deref(), Some("Item a"));
    assert_eq!(
        one.task.evidence.checked["a"],
        CheckMark {
            by: client(),
            at: now()
        }
    );

    let two = ok(&one.task, &set("b", true), &staff());
    assert_eq!(two.task.status, TaskStatus::InProgress);
    assert_eq!(two.task.evidence.checked["b"].by, staff());

    let three = ok(&two.task, &set("c", true), &client());
    assert_eq!(three.task.status, TaskStatus::Completed);
    assert_eq!(three.activity.kind, ActivityKind::TaskCompleted);
    assert_eq!(three.task.evidence.completion, None);

    let back = ok(&one.task, &set("a", false), &client());
    assert_eq!(back.task.status, TaskStatus::Pending);
    assert_eq!(back.activity.kind, ActivityKind::ItemUnchecked);
    assert!(back.task.evidence.checked.is_empty());
}

#[test]
fn a_re_tick_keeps_who_ticked_and_when() {
    let mut t = task(checklist());
    t.evidence.checked.insert("a".into(), mark(client()));
    t.status = TaskStatus::InProgress;
    assert!(conflict_of(&t, &set("a", true), &staff()).contains("already checked"));
    assert!(conflict_of(&t, &set("a", true), &client()).contains("already checked"));
    assert!(conflict_of(&t, &set("b", false), &client()).contains("not checked"));
}

#[test]
fn items_must_exist_and_only_checklists_have_items() {
    assert_eq!(
        invalid_field(&task(checklist()), &set("zz", true), &client()),
        "item"
    );
    assert!(
        conflict_of(&task(TaskKind::Standard), &set("a", true), &client()).contains("no checklist")
    );
}

#[test]
fn a_staff_tick_does_not_unblock_a_blocked_checklist() {
    let mut t = with_status(task(checklist()), TaskStatus::Blocked);
    t.evidence.checked.insert("a".into(), mark(client()));
    t.evidence.checked.insert("b".into(), mark(client()));
    let change = ok(&t, &set("c", true), &staff());
    assert_eq!(change.task.status, TaskStatus::Blocked);
    assert_eq!(change.task.blocked_reason, t.blocked_reason);
    assert_eq!(change.activity.kind, ActivityKind::ItemChecked);
    // Unblocking then shows what the evidence says: every item is checked.
    let unblocked = ok(&change.task, &TaskAction::Unblock, &staff());
    assert_eq!(unblocked.task.status, TaskStatus::Completed);
    assert_eq!(unblocked.task.blocked_reason, None);

    let untick = ok(&t, &set("a", false), &staff());
    assert_eq!(untick.task.status, TaskStatus::Blocked);
}

#[test]
fn a_checklist_staff_marked_complete_stays_complete_while_items_change() {
    let mut t = task(checklist());
    t.evidence.checked.insert("a".into(), mark(client()));
    let done = ok(&t, &complete(Some("done on site")), &staff()).task;
    assert_eq!(done.status, TaskStatus::Completed);

    let tick = ok(&done, &set("b", true), &staff());
    assert_eq!(tick.task.status, TaskStatus::Completed);
    assert_eq!(
        tick.activity.kind,
        ActivityKind::ItemChecked,
        "not completed a second time"
    );
    let untick = ok(&done, &set("a", false), &staff());
    assert_eq!(untick.task.status, TaskStatus::Completed);
    assert_eq!(untick.activity.kind, ActivityKind::ItemUnchecked);
    // Checking the remaining items of an already completed checklist is not a new completion.
    let all = ok(
        &ok(&done, &set("b", true), &staff()).task,
        &set("c", true),
        &staff(),
    );
    assert_eq!(all.task.status, TaskStatus::Completed);
    assert_eq!(all.activity.kind, ActivityKind::ItemChecked);
}

#[test]
fn unticking_a_checklist_completed_by_its_items_reopens_it() {
    let mut t = task(checklist());
    for id in ["a", "b", "c"] {
        t.evidence.checked.insert(id.into(), mark(client()));
    }
    t.status = TaskStatus::Completed;
    let change = ok(&t, &set("b", false), &staff());
    assert_eq!(change.task.status, TaskStatus::InProgress);
    assert_eq!(change.activity.kind, ActivityKind::TaskReopened);
    assert_eq!(change.activity.detail.as_deref(), Some("Item b"));
}

#[test]
fn a_client_can_untick_the_tick_that_completed_their_checklist() {
    let t = task(checklist());
    let mut done = t;
    for id in ["a", "b"] {
        done = ok(&done, &set(id, true), &client()).task;
    }
    let last = ok(&done, &set("c", true), &client());
    assert_eq!(last.task.status, TaskStatus::Completed);

    // The tick was a mistake: the client takes it back and the task reopens.
    let untick = ok(&last.task, &set("c", false), &client());
    assert_eq!(untick.task.status, TaskStatus::InProgress);
    assert_eq!(untick.activity.kind, ActivityKind::TaskReopened);
    assert_eq!(untick.activity.detail.as_deref(), Some("Item c"));
    assert_eq!(untick.activity.actor, client());
    assert!(!untick.task.evidence.checked.contains_key("c"));
    assert!(client_may_untick(&last.task).is_ok());

    // Ticking is still refused on the completed task (nothing left to tick anyway),
    // and an unticked item can't be unticked twice.
    assert!(conflict_of(&last.task, &set("c", true), &client()).contains("already complete"));
    assert!(conflict_of(&untick.task, &set("c", false), &client()).contains("not checked"));
}

#[test]
fn a_client_cannot_untick_a_checklist_the_msp_completed_or_blocked() {
    let mut t = task(checklist());
    t.evidence.checked.insert("a".into(), mark(client()));
    let done = ok(&t, &complete(None), &staff()).task;
    assert!(conflict_of(&done, &set("a", false), &client()).contains("already complete"));
    assert!(client_may_untick(&done).is_err());

    let mut all = task(checklist());
    for id in ["a", "b", "c"] {
        all.evidence.checked.insert(id.into(), mark(client()));
    }
    let blocked = with_status(all.clone(), TaskStatus::Blocked);
    assert!(conflict_of(&blocked, &set("a", false), &client()).contains("blocked"));

    let mut msp_side = with_status(all, TaskStatus::Completed);
    msp_side.assignee = Side::Msp;
    assert!(is_forbidden(&msp_side, &set("a", false), &client()));
}

// ---- Derived status ----------------------------------------------------------------------

#[test]
fn derived_status_follows_the_evidence() {
    assert_eq!(derived_status(&task(checklist())), TaskStatus::Pending);
    assert_eq!(
        derived_status(&task(TaskKind::Checklist { items: vec![] })),
        TaskStatus::Pending,
        "an empty checklist is not complete by itself"
    );
    let mut t = task(TaskKind::Standard);
    t.evidence.completion = Some(Completion {
        by: staff(),
        at: t0(),
        notes: None,
    });
    assert_eq!(derived_status(&t), TaskStatus::Completed);

    let mut t = task(approval());
    t.evidence.decision = Some(a_decision(false));
    assert_eq!(derived_status(&t), TaskStatus::Completed);

    let mut t = task(survey());
    t.evidence.answers = answers("x");
    assert_eq!(derived_status(&t), TaskStatus::InProgress);

    let mut t = task(checklist());
    t.evidence.checked.insert("a".into(), mark(client()));
    assert_eq!(derived_status(&t), TaskStatus::InProgress);
    // Marks on a task that is not a checklist (left from an older version) are progress.
    let mut t = task(TaskKind::Standard);
    t.evidence.checked.insert("a".into(), mark(client()));
    assert_eq!(derived_status(&t), TaskStatus::InProgress);
}

// ---- Approvals -------------------------------------------------------------------------

#[test]
fn a_decision_records_who_decided_from_where_and_completes_the_task() {
    let change = ok(
        &task(approval()),
        &decide(true, Some(" looks good ")),
        &client(),
    );
    assert_eq!(change.task.status, TaskStatus::Completed);
    assert_eq!(change.activity.kind, ActivityKind::Approved);
    assert_eq!(change.activity.detail.as_deref(), Some("looks good"));
    let d = change.task.evidence.decision.unwrap();
    assert!(d.approved);
    assert_eq!(d.comment.as_deref(), Some("looks good"));
    assert_eq!(d.name, "Dana Whitfield");
    assert_eq!(d.email.as_str(), "dana@client.example");
    assert_eq!(d.ip, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))));
    assert_eq!(d.user_agent.as_deref(), Some("Firefox"));
    assert_eq!(d.at, now());

    let change = ok(&task(approval()), &decide(false, Some("   ")), &client());
    assert_eq!(change.activity.kind, ActivityKind::Rejected);
    assert_eq!(change.task.status, TaskStatus::Completed);
    let d = change.task.evidence.decision.unwrap();
    assert!(!d.approved);
    assert_eq!(d.comment, None, "a blank comment is not stored");
}

#[test]
fn only_the_client_decides_an_undecided_approval() {
    assert!(is_forbidden(
        &task(approval()),
        &decide(true, None),
        &staff()
    ));
    assert!(
        conflict_of(&task(TaskKind::Standard), &decide(true, None), &client())
            .contains("not an approval")
    );
    let mut decided = task(approval());
    decided.evidence.decision = Some(a_decision(true));
    assert!(
        conflict_of(&decided, &decide(false, None), &client()).contains("already been decided")
    );
    decided.status = TaskStatus::Completed;
    assert!(conflict_of(&decided, &decide(false, None), &staff()).contains("already been decided"));
}

// ---- Meetings --------------------------------------------------------------------------

fn meeting_schedule() -> MeetingSchedule {
    MeetingSchedule::new(
        t0(),
        "Europe/London",
        45,
        Some("https://meet.example/x"),
        None,
    )
}

#[test]
fn scheduling_numbers_each_revision() {
    let mut given = meeting_schedule();
    given.sequence = 9;
    let first = ok(
        &task(meeting()),
        &TaskAction::Schedule(given.clone()),
        &staff(),
    );
    assert_eq!(first.activity.kind, ActivityKind::MeetingScheduled);
    let TaskKind::Meeting { schedule: Some(s) } = &first.task.kind else {
        panic!("not scheduled");
    };
    assert_eq!((s.sequence, s.revised_at), (0, Some(now())));
    assert_eq!(s.duration_minutes, 45);

    let mut moved = first.task.clone();
    if let TaskKind::Meeting { schedule: Some(s) } = &mut moved.kind {
        s.sequence = 3;
    }
    let second = ok(&moved, &TaskAction::Schedule(given), &staff());
    assert_eq!(second.activity.kind, ActivityKind::MeetingRescheduled);
    let TaskKind::Meeting { schedule: Some(s) } = &second.task.kind else {
        panic!("not scheduled");
    };
    assert_eq!(s.sequence, 4);
}

#[test]
fn only_valid_schedules_of_meetings_are_accepted() {
    let mut bad = meeting_schedule();
    bad.duration_minutes = 1;
    assert_eq!(
        invalid_field(&task(meeting()), &TaskAction::Schedule(bad), &staff()),
        "duration"
    );
    assert!(
        conflict_of(
            &task(TaskKind::Standard),
            &TaskAction::Schedule(meeting_schedule()),
            &staff()
        )
        .contains("Only meeting")
    );
}

// ---- Block, unblock, reopen --------------------------------------------------------------

#[test]
fn blocking_needs_a_reason_and_an_open_task() {
    let t = with_status(task(TaskKind::Standard), TaskStatus::InProgress);
    let block = |r: &str| TaskAction::Block { reason: r.into() };
    let change = ok(&t, &block("  waiting for access  "), &staff());
    assert_eq!(change.task.status, TaskStatus::Blocked);
    assert_eq!(
        change.task.blocked_reason.as_deref(),
        Some("waiting for access")
    );
    assert_eq!(change.activity.kind, ActivityKind::TaskBlocked);
    assert_eq!(
        change.activity.detail.as_deref(),
        Some("waiting for access")
    );

    assert_eq!(invalid_field(&t, &block("   "), &staff()), "reason");
    assert!(
        ok(&t, &block(&"r".repeat(2000)), &staff())
            .task
            .blocked_reason
            .is_some()
    );
    assert_eq!(
        invalid_field(&t, &block(&"r".repeat(2001)), &staff()),
        "reason"
    );
    let done = with_status(task(TaskKind::Standard), TaskStatus::Completed);
    assert!(conflict_of(&done, &block("x"), &staff()).contains("reopen it first"));
}

#[test]
fn unblocking_restores_the_status_the_evidence_implies() {
    assert!(
        conflict_of(&task(TaskKind::Standard), &TaskAction::Unblock, &staff())
            .contains("not blocked")
    );
    let blocked = with_status(task(survey()), TaskStatus::Blocked);
    let change = ok(&blocked, &TaskAction::Unblock, &staff());
    assert_eq!(change.task.status, TaskStatus::Pending);
    assert_eq!(change.task.blocked_reason, None);
    assert_eq!(change.activity.kind, ActivityKind::TaskUnblocked);
    let mut started = blocked;
    started.evidence.answers = answers("draft");
    assert_eq!(
        ok(&started, &TaskAction::Unblock, &staff()).task.status,
        TaskStatus::InProgress
    );
}

#[test]
fn reopening_keeps_past_decisions_in_order_and_clears_the_current_one() {
    assert!(
        conflict_of(&task(approval()), &TaskAction::Reopen, &staff()).contains("Only a completed")
    );
    let mut t = with_status(task(approval()), TaskStatus::Completed);
    t.evidence.previous_decisions = vec![a_decision(false)];
    let mut latest = a_decision(true);
    latest.comment = Some("second look".into());
    t.evidence.decision = Some(latest.clone());
    let change = ok(&t, &TaskAction::Reopen, &staff());
    assert_eq!(change.task.status, TaskStatus::Pending);
    assert_eq!(change.task.evidence.decision, None);
    assert_eq!(
        change.task.evidence.previous_decisions,
        vec![a_decision(false), latest]
    );
    assert_eq!(change.activity.kind, ActivityKind::TaskReopened);
    // The client can decide again; the history stays.
    let again = ok(&change.task, &decide(false, None), &client());
    assert_eq!(again.task.evidence.previous_decisions.len(), 2);
    assert!(!again.task.evidence.decision.unwrap().approved);
}

#[test]
fn reopening_clears_the_completion_and_keeps_partial_work() {
    let done = ok(&task(TaskKind::Standard), &complete(Some("n")), &client()).task;
    let reopened = ok(&done, &TaskAction::Reopen, &staff()).task;
    assert_eq!(reopened.status, TaskStatus::Pending);
    assert_eq!(reopened.evidence.completion, None);
    assert!(reopened.evidence.is_empty());

    let submitted = ok(
        &task(survey()),
        &TaskAction::SaveAnswers {
            answers: answers("M365"),
            submit: true,
        },
        &client(),
    )
    .task;
    let reopened = ok(&submitted, &TaskAction::Reopen, &staff()).task;
    assert_eq!(reopened.status, TaskStatus::InProgress);
    assert_eq!(reopened.evidence.answers, answers("M365"));
    assert!(reopened.evidence.answers_saved.is_some());
    assert_eq!(reopened.evidence.completion, None);

    // A partly checked checklist the MSP had marked complete goes back to in progress,
    // and so does a fully checked one: it stays open until an item changes.
    let mut part = task(checklist());
    part.evidence.checked.insert("a".into(), mark(client()));
    let part_done = ok(&part, &complete(None), &staff()).task;
    let reopened = ok(&part_done, &TaskAction::Reopen, &staff()).task;
    assert_eq!(reopened.status, TaskStatus::InProgress);
    assert_eq!(reopened.evidence.checked.len(), 1);
    let mut full = with_status(task(checklist()), TaskStatus::Completed);
    for id in ["a", "b", "c"] {
        full.evidence.checked.insert(id.into(), mark(client()));
    }
    assert_eq!(
        ok(&full, &TaskAction::Reopen, &staff()).task.status,
        TaskStatus::InProgress
    );
}
