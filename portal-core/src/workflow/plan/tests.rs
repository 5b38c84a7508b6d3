//! Unit tests of the plan's rules: edits with versions, moves and deletions keeping
//! positions dense, assignments, dependencies (cycles refused, checked against a
//! brute-force oracle on random graphs), locks and internal tasks.

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::model::{Branding, EmailAddress, PortalStatus};
use crate::workflow::TaskEvidence;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 30, 0).unwrap()
}

fn staff() -> Actor {
    Actor::Staff {
        name: "Sam Tech".into(),
        email: None,
    }
}

fn client() -> Actor {
    Actor::Client {
        contact_id: contact(1).id,
        name: "Dana".into(),
        email: EmailAddress::parse("dana@client.example").unwrap(),
    }
}

fn portal_id() -> crate::ids::PortalId {
    crate::ids::PortalId::from_uuid(Uuid::from_u128(100))
}

fn phase_id(n: u128) -> PhaseId {
    PhaseId::from_uuid(Uuid::from_u128(200 + n))
}

fn task_id(n: u128) -> TaskId {
    TaskId::from_uuid(Uuid::from_u128(300 + n))
}

fn contact(n: u128) -> Contact {
    Contact {
        id: ContactId::from_uuid(Uuid::from_u128(400 + n)),
        portal_id: portal_id(),
        name: format!("Contact {n}"),
        email: EmailAddress::parse(&format!("c{n}@client.example")).unwrap(),
        revoked_at: None,
        time_zone: crate::model::TimeZone::UTC,
        created_at: t0(),
        invited_by: None,
        awaiting_approval: false,
        role: None,
        guest: None,
        language: None,
    }
}

fn task(n: u128, phase: u128, position: u32) -> Task {
    Task {
        for_role: None,
        id: task_id(n),
        portal_id: portal_id(),
        phase_id: phase_id(phase),
        position,
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

/// Two phases: 0 with tasks 1, 2, 3; 1 with tasks 4, 5. Two contacts, 2 revoked.
fn plan() -> Plan {
    let phases = (0..2)
        .map(|n| Phase {
            id: phase_id(n),
            portal_id: portal_id(),
            position: n as u32,
            name: format!("Phase {n}"),
            version: 1,
        })
        .collect();
    let mut revoked = contact(2);
    revoked.revoked_at = Some(t0());
    Plan {
        portal: Portal {
            id: portal_id(),
            tenant_id: crate::ids::TenantId::from_bytes([1; 16]),
            client_name: "Contoso".into(),
            status: PortalStatus::Active,
            branding: Branding::new("Northwind IT", "#1f6feb", "", None).unwrap(),
            created_at: t0(),
            target_date: None,
            version: crate::model::first_version(),
            colleague_invitations: Default::default(),
        },
        phases,
        tasks: vec![
            task(1, 0, 0),
            task(2, 0, 1),
            task(3, 0, 2),
            task(4, 1, 0),
            task(5, 1, 1),
        ],
        contacts: vec![contact(1), revoked],
    }
}

/// Applies a change to a plan, as a store would after `diff` accepted it.
fn applied(before: &Plan, change: &PlanChange) -> Plan {
    change
        .diff(before)
        .expect("the rules' answers pass the store's check");
    Plan {
        phases: change.phases.clone(),
        tasks: change.tasks.clone(),
        ..before.clone()
    }
}

fn order(p: &Plan) -> Vec<(u128, u32)> {
    p.tasks
        .iter()
        .map(|t| {
            let n = t.id.as_uuid().as_u128() - 300;
            (n, t.position)
        })
        .collect()
}

#[test]
fn an_edit_changes_the_fields_given_and_raises_the_version() {
    let p = plan();
    let edit = TaskEdit {
        title: Some("  Send the VPN details ".into()),
        due_date: Some(NaiveDate::from_ymd_opt(2026, 4, 1)),
        ..TaskEdit::default()
    };
    let change = edit_task(&p, task_id(2), 1, &edit, &staff(), now()).unwrap();
    let t = change.tasks.iter().find(|t| t.id == task_id(2)).unwrap();
    assert_eq!(t.title, "Send the VPN details");
    assert_eq!(t.due_date, NaiveDate::from_ymd_opt(2026, 4, 1));
    assert_eq!(t.version, 2);
    assert_eq!(t.updated_at, now());
    assert_eq!(change.activity[0].kind, ActivityKind::TaskEdited);
    assert_eq!(
        change.activity[0].detail.as_deref(),
        Some("changed: title, due date")
    );
    // Clearing the due date is an edit too.
    let p2 = applied(&p, &change);
    let clear = TaskEdit {
        due_date: Some(None),
        ..TaskEdit::default()
    };
    let cleared = edit_task(&p2, task_id(2), 2, &clear, &staff(), now()).unwrap();
    assert_eq!(cleared.tasks[1].due_date, None);
    assert_eq!(cleared.tasks[1].version, 3);
}

#[test]
fn a_stale_version_is_stale() {
    let p = plan();
    let edit = TaskEdit {
        title: Some("New".into()),
        ..TaskEdit::default()
    };
    for stale in [0, 2, 99] {
        assert!(matches!(
            edit_task(&p, task_id(1), stale, &edit, &staff(), now()),
            Err(Error::Stale { ref reason }) if reason.contains("version 1")
        ));
        assert!(matches!(
            move_task(&p, task_id(1), stale, phase_id(1), 0, &staff(), now()),
            Err(Error::Stale { .. })
        ));
        assert!(matches!(
            delete_task(&p, task_id(1), stale, &staff(), now()),
            Err(Error::Stale { .. })
        ));
        assert!(matches!(
            rename_phase(&p, phase_id(0), stale, "X", &staff(), now()),
            Err(Error::Stale { .. })
        ));
    }
    assert!(matches!(
        edit_task(&p, task_id(1), 1, &TaskEdit::default(), &staff(), now()),
        Err(Error::Invalid { field: "edit", .. })
    ));
}

#[test]
fn moves_keep_positions_dense_within_and_across_phases() {
    let p = plan();
    let down = move_task(&p, task_id(1), 1, phase_id(0), 2, &staff(), now()).unwrap();
    let p1 = applied(&p, &down);
    assert_eq!(order(&p1), [(2, 0), (3, 1), (1, 2), (4, 0), (5, 1)]);
    // Only the moved task's version is raised.
    let versions: Vec<u64> = p1.tasks.iter().map(|t| t.version).collect();
    assert_eq!(versions, [1, 1, 2, 1, 1]);
    let across = move_task(&p1, task_id(3), 1, phase_id(1), 1, &staff(), now()).unwrap();
    let p2 = applied(&p1, &across);
    assert_eq!(order(&p2), [(2, 0), (1, 1), (4, 0), (3, 1), (5, 2)]);
    assert_eq!(
        across.activity[0].detail.as_deref(),
        Some("to the phase “Phase 1”")
    );
    // Past the end means the end.
    let end = move_task(&p2, task_id(2), 1, phase_id(1), 99, &staff(), now()).unwrap();
    assert_eq!(
        order(&applied(&p2, &end)),
        [(1, 0), (4, 0), (3, 1), (5, 2), (2, 3)]
    );
    assert!(matches!(
        move_task(&p, task_id(1), 1, phase_id(0), 0, &staff(), now()),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        move_task(&p, task_id(1), 1, phase_id(9), 0, &staff(), now()),
        Err(Error::NotFound {
            entity: Entity::Phase
        })
    ));
}

#[test]
fn deleting_a_task_renumbers_and_frees_its_dependents() {
    let mut p = plan();
    p.tasks[3].waits_on = vec![task_id(2)];
    let change = delete_task(&p, task_id(2), 1, &staff(), now()).unwrap();
    let after = applied(&p, &change);
    assert_eq!(order(&after), [(1, 0), (3, 1), (4, 0), (5, 1)]);
    let t4 = after.task(task_id(4)).unwrap();
    assert!(t4.waits_on.is_empty());
    assert_eq!(t4.version, 2, "the dependent changed");
    assert_eq!(change.notices, [PlanNotice::Unlocked { task: task_id(4) }]);
    let kinds: Vec<ActivityKind> = change.activity.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [ActivityKind::TaskDeleted, ActivityKind::TaskUnlocked]
    );
    let write = change.diff(&p).unwrap();
    assert_eq!(write.deleted_tasks, [task_id(2)]);
}

#[test]
fn a_task_with_uploaded_files_is_not_deleted() {
    let mut p = plan();
    p.tasks[0].evidence.documents.insert(
        "diagram".into(),
        crate::workflow::documents::DocumentState {
            status: crate::workflow::DocumentStatus::Uploaded,
            current: crate::ids::FileId::from_uuid(Uuid::from_u128(9)),
            versions: 1,
            uploaded_at: t0(),
            notes: None,
            reviewed: None,
        },
    );
    assert!(matches!(
        delete_task(&p, task_id(1), 1, &staff(), now()),
        Err(Error::Conflict { ref reason }) if reason.contains("uploaded files")
    ));
    assert!(matches!(
        delete_phase(
            &p,
            phase_id(0),
            1,
            PhaseDeletion::WithTasks,
            &staff(),
            now()
        ),
        Err(Error::Conflict { .. })
    ));
}

#[test]
fn a_phase_is_deleted_only_empty_unless_asked() {
    let p = plan();
    assert!(matches!(
        delete_phase(&p, phase_id(1), 1, PhaseDeletion::OnlyIfEmpty, &staff(), now()),
        Err(Error::Conflict { ref reason }) if reason.contains("2 tasks")
    ));
    let change = delete_phase(
        &p,
        phase_id(0),
        1,
        PhaseDeletion::WithTasks,
        &staff(),
        now(),
    )
    .unwrap();
    let after = applied(&p, &change);
    assert_eq!(after.phases.len(), 1);
    assert_eq!(after.phases[0].position, 0);
    assert_eq!(order(&after), [(4, 0), (5, 1)]);
    assert_eq!(change.activity.len(), 4, "three tasks and the phase");
    // An empty phase goes without asking.
    let empty = add_phase(&after, phase_id(7), "Later", None, &staff(), now()).unwrap();
    let with_empty = applied(&after, &empty);
    assert_eq!(with_empty.phases[1].position, 1);
    let gone = delete_phase(
        &with_empty,
        phase_id(7),
        1,
        PhaseDeletion::OnlyIfEmpty,
        &staff(),
        now(),
    )
    .unwrap();
    assert_eq!(applied(&with_empty, &gone).phases.len(), 1);
}

#[test]
fn phases_rename_and_reorder() {
    let p = plan();
    let renamed = rename_phase(&p, phase_id(1), 1, " Go-live ", &staff(), now()).unwrap();
    assert_eq!(renamed.phases[1].name, "Go-live");
    assert_eq!(renamed.phases[1].version, 2);
    let moved = move_phase(&p, phase_id(1), 1, 0, &staff(), now()).unwrap();
    let after = applied(&p, &moved);
    assert_eq!(after.phases[0].id, phase_id(1));
    assert_eq!(after.phases[1].position, 1);
    assert_eq!(order(&after), [(4, 0), (5, 1), (1, 0), (2, 1), (3, 2)]);
}

#[test]
fn assignment_names_active_contacts_of_the_portal_and_notices_only_new_ones() {
    let p = plan();
    let assign = |who: Vec<ContactId>| TaskEdit {
        assigned_to: Some(who),
        ..TaskEdit::default()
    };
    let change = edit_task(
        &p,
        task_id(1),
        1,
        &assign(vec![contact(1).id, contact(1).id]),
        &staff(),
        now(),
    )
    .unwrap();
    assert_eq!(change.tasks[0].assigned_to, [contact(1).id], "deduplicated");
    assert_eq!(
        change.notices,
        [PlanNotice::Assigned {
            task: task_id(1),
            contacts: vec![contact(1).id]
        }]
    );
    let after = applied(&p, &change);
    let again = edit_task(
        &after,
        task_id(1),
        2,
        &TaskEdit {
            title: Some("Renamed".into()),
            ..TaskEdit::default()
        },
        &staff(),
        now(),
    )
    .unwrap();
    assert!(
        again.notices.is_empty(),
        "no email for an unchanged assignment"
    );
    assert!(matches!(
        edit_task(&p, task_id(1), 1, &assign(vec![contact(2).id]), &staff(), now()),
        Err(Error::Invalid { field: "assigned_to", ref reason }) if reason.contains("revoked")
    ));
    assert!(matches!(
        edit_task(
            &p,
            task_id(1),
            1,
            &assign(vec![contact(9).id]),
            &staff(),
            now()
        ),
        Err(Error::Invalid {
            field: "assigned_to",
            ..
        })
    ));
    let msp = TaskEdit {
        side: Some(Side::Msp),
        assigned_to: Some(vec![contact(1).id]),
        ..TaskEdit::default()
    };
    assert!(matches!(
        edit_task(&p, task_id(1), 1, &msp, &staff(), now()),
        Err(Error::Invalid {
            field: "assigned_to",
            ..
        })
    ));
}

#[test]
fn only_msp_tasks_are_internal() {
    let p = plan();
    let internal = TaskEdit {
        internal: Some(true),
        ..TaskEdit::default()
    };
    assert!(matches!(
        edit_task(&p, task_id(1), 1, &internal, &staff(), now()),
        Err(Error::Invalid {
            field: "internal",
            ..
        })
    ));
    let ok = TaskEdit {
        side: Some(Side::Msp),
        internal: Some(true),
        ..TaskEdit::default()
    };
    let change = edit_task(&p, task_id(1), 1, &ok, &staff(), now()).unwrap();
    assert!(change.tasks[0].internal);
}

#[test]
fn a_cycle_is_refused_naming_the_tasks() {
    let mut p = plan();
    p.tasks[1].waits_on = vec![task_id(1)]; // 2 waits for 1
    p.tasks[2].waits_on = vec![task_id(2)]; // 3 waits for 2
    let edit = TaskEdit {
        waits_on: Some(vec![task_id(3)]),
        ..TaskEdit::default()
    };
    match edit_task(&p, task_id(1), 1, &edit, &staff(), now()) {
        Err(Error::Invalid {
            field: "waits_on",
            reason,
        }) => {
            assert!(reason.contains("circle"), "{reason}");
            for n in 1..=3 {
                assert!(reason.contains(&format!("“Task {n}”")), "{reason}");
            }
        }
        other => panic!("{other:?}"),
    }
    let itself = TaskEdit {
        waits_on: Some(vec![task_id(1)]),
        ..TaskEdit::default()
    };
    assert!(matches!(
        edit_task(&p, task_id(1), 1, &itself, &staff(), now()),
        Err(Error::Invalid { field: "waits_on", ref reason }) if reason.contains("itself")
    ));
    let foreign = TaskEdit {
        waits_on: Some(vec![task_id(77)]),
        ..TaskEdit::default()
    };
    assert!(matches!(
        edit_task(&p, task_id(1), 1, &foreign, &staff(), now()),
        Err(Error::Invalid {
            field: "waits_on",
            ..
        })
    ));
}

/// A small deterministic generator (xorshift), so the property test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The oracle: a graph has a cycle iff repeatedly removing the tasks that wait for
/// nothing left does not remove them all (Kahn).
fn has_cycle_oracle(tasks: &[Task]) -> bool {
    let mut left: Vec<&Task> = tasks.iter().collect();
    loop {
        let ids: HashSet<TaskId> = left.iter().map(|t| t.id).collect();
        let before = left.len();
        left.retain(|t| t.waits_on.iter().any(|w| ids.contains(w)));
        if left.len() == before {
            return !left.is_empty();
        }
    }
}

#[test]
fn cycle_detection_matches_the_oracle_on_random_graphs() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut with_cycles = 0;
    for _ in 0..3000 {
        let n = 1 + rng.below(9) as u128;
        let edges = rng.below(2 * n as u64 + 1);
        let mut tasks: Vec<Task> = (0..n).map(|i| task(i, 0, i as u32)).collect();
        for _ in 0..edges {
            let from = rng.below(n as u64) as usize;
            let to = rng.below(n as u64) as u128;
            if !tasks[from].waits_on.contains(&task_id(to)) {
                tasks[from].waits_on.push(task_id(to));
            }
        }
        let found = first_cycle(&tasks);
        assert_eq!(found.is_some(), has_cycle_oracle(&tasks), "{tasks:?}");
        if let Some(cycle) = found {
            with_cycles += 1;
            // What is reported is a real cycle: each waits for the next, the last for
            // the first.
            for (i, id) in cycle.iter().enumerate() {
                let next = cycle[(i + 1) % cycle.len()];
                let t = tasks.iter().find(|t| t.id == *id).unwrap();
                assert!(t.waits_on.contains(&next), "{cycle:?} in {tasks:?}");
            }
        }
    }
    assert!(
        with_cycles > 300,
        "the generator makes cycles: {with_cycles}"
    );
}

#[test]
fn the_rules_never_accept_a_cycle_whatever_is_asked() {
    // Random sequences of dependency edits: every accepted plan stays acyclic.
    let mut rng = Rng(42);
    for _ in 0..300 {
        let mut p = plan();
        for _ in 0..12 {
            let who = 1 + rng.below(5) as u128;
            let deps: Vec<TaskId> = (0..rng.below(3))
                .map(|_| task_id(1 + rng.below(5) as u128))
                .collect();
            let version = p.task(task_id(who)).unwrap().version;
            let edit = TaskEdit {
                waits_on: Some(deps),
                ..TaskEdit::default()
            };
            if let Ok(change) = edit_task(&p, task_id(who), version, &edit, &staff(), now()) {
                p = applied(&p, &change);
                assert!(first_cycle(&p.tasks).is_none());
            }
        }
    }
}

#[test]
fn a_waiting_task_is_locked_for_the_client_and_unlocks_with_its_last_prerequisite() {
    let mut p = plan();
    p.tasks[2].waits_on = vec![task_id(1), task_id(2)];
    let done = TaskAction::Complete { notes: None };
    match act_on_plan(&p, task_id(3), &done, &client(), now()) {
        Err(Error::Conflict { reason }) => {
            assert_eq!(
                reason,
                "This task is waiting for: Task 1, Task 2. You can do it once those are done."
            );
        }
        other => panic!("{other:?}"),
    }
    // Staff may still act on it (complete it on the client's behalf).
    assert!(act_on_plan(&p, task_id(3), &done, &staff(), now()).is_ok());
    let first = act_on_plan(&p, task_id(1), &done, &client(), now()).unwrap();
    assert!(first.notices.is_empty(), "one prerequisite left");
    let p1 = applied(&p, &first);
    assert_eq!(first.tasks[0].version, 2);
    let second = act_on_plan(&p1, task_id(2), &done, &client(), now()).unwrap();
    assert_eq!(second.notices, [PlanNotice::Unlocked { task: task_id(3) }]);
    let kinds: Vec<ActivityKind> = second.activity.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [ActivityKind::TaskCompleted, ActivityKind::TaskUnlocked]
    );
    assert_eq!(
        second.activity[1].summary(),
        "“Task 3” is ready: everything it waited for is done"
    );
    let p2 = applied(&p1, &second);
    assert!(act_on_plan(&p2, task_id(3), &done, &client(), now()).is_ok());
}

#[test]
fn internal_tasks_are_invisible_to_the_client() {
    let mut p = plan();
    p.tasks[0].assignee = Side::Msp;
    p.tasks[0].internal = true;
    p.tasks[1].waits_on = vec![task_id(1)];
    let done = TaskAction::Complete { notes: None };
    assert!(matches!(
        act_on_plan(&p, task_id(1), &done, &client(), now()),
        Err(Error::NotFound {
            entity: Entity::Task
        })
    ));
    let view = client_view(p.snapshot());
    assert_eq!(view.tasks.len(), 4);
    assert!(view.tasks.iter().all(|t| !t.internal));
    assert_eq!(
        waiting_for_labels(&p.tasks, &p.tasks[1], "Northwind IT"),
        ["a step by Northwind IT"]
    );
    let entries = vec![
        entry(
            &p.tasks[0],
            ActivityKind::TaskCompleted,
            &staff(),
            now(),
            None,
        ),
        entry(
            &p.tasks[1],
            ActivityKind::TaskUnlocked,
            &staff(),
            now(),
            None,
        ),
    ];
    let feed = client_feed(entries, &internal_ids(&p.tasks));
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].task_id, Some(task_id(2)));
}

#[test]
fn the_stores_check_refuses_broken_plans() {
    let p = plan();
    let good = edit_task(
        &p,
        task_id(1),
        1,
        &TaskEdit {
            title: Some("X".into()),
            ..TaskEdit::default()
        },
        &staff(),
        now(),
    )
    .unwrap();
    let mut dup = good.clone();
    dup.tasks[1].position = 0;
    assert!(matches!(
        dup.diff(&p),
        Err(Error::Invalid { field: "plan", .. })
    ));
    let mut unraised = good.clone();
    unraised.tasks[0].version = 1;
    assert!(matches!(
        unraised.diff(&p),
        Err(Error::Invalid { field: "plan", .. })
    ));
    let mut cyclic = good.clone();
    cyclic.tasks[0].waits_on = vec![task_id(2)];
    cyclic.tasks[0].version = 2;
    cyclic.tasks[1].waits_on = vec![task_id(1)];
    cyclic.tasks[1].version = 2;
    assert!(matches!(
        cyclic.diff(&p),
        Err(Error::Invalid { field: "plan", .. })
    ));
    let mut orphan = good.clone();
    orphan.phases.remove(1);
    assert!(matches!(
        orphan.diff(&p),
        Err(Error::Invalid { field: "plan", .. })
    ));
    let mut foreign = good;
    foreign.activity[0].portal_id = crate::ids::PortalId::from_uuid(Uuid::from_u128(9));
    assert!(matches!(
        foreign.diff(&p),
        Err(Error::Invalid {
            field: "activity",
            ..
        })
    ));
}
