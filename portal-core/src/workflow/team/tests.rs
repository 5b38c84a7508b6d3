//! Unit tests of the colleague rules: the invitation decision (mode, cap, what the
//! caller prepared), roles, claims, hand-offs and the "Your tasks" order.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::ids::{PhaseId, PortalId, TaskId};
use crate::model::{EmailAddress, TaskKind, TimeZone as Zone};
use crate::workflow::TaskEvidence;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

fn portal() -> PortalId {
    PortalId::from_uuid(Uuid::from_u128(100))
}

fn id(n: u128) -> ContactId {
    ContactId::from_uuid(Uuid::from_u128(n))
}

fn task(n: u128, assigned_to: Vec<ContactId>) -> Task {
    Task {
        for_role: None,
        id: TaskId::from_uuid(Uuid::from_u128(300 + n)),
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
        assigned_to,
        waits_on: Vec::new(),
        internal: false,
    }
}

fn contact(n: u128) -> Contact {
    Contact {
        id: id(n),
        portal_id: portal(),
        name: format!("Contact {n}"),
        email: EmailAddress::parse(&format!("c{n}@client.example")).unwrap(),
        revoked_at: None,
        time_zone: Zone::default(),
        created_at: t0(),
        invited_by: None,
        awaiting_approval: false,
        role: None,
        guest: None,
        language: None,
    }
}

#[test]
fn mode_off_refuses_every_invitation() {
    let err = judge_colleague_invite(InvitationMode::Off, 1, 50, false, true).unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
}

#[test]
fn the_cap_counts_up_to_but_not_past_it() {
    judge_colleague_invite(InvitationMode::AtOnce, 49, 50, false, true).unwrap();
    let err = judge_colleague_invite(InvitationMode::AtOnce, 50, 50, false, true).unwrap_err();
    assert!(
        matches!(err, Error::LimitReached(Limit::ContactsPerPortal)),
        "{err:?}"
    );
    let err =
        judge_colleague_invite(InvitationMode::AfterApproval, 50, 50, true, false).unwrap_err();
    assert!(
        matches!(err, Error::LimitReached(Limit::ContactsPerPortal)),
        "{err:?}"
    );
}

#[test]
fn the_prepared_colleague_must_match_the_stored_mode() {
    judge_colleague_invite(InvitationMode::AfterApproval, 1, 50, true, false).unwrap();
    // Prepared for "at once" while the portal now wants approval, and the reverse.
    for (mode, awaiting, invite) in [
        (InvitationMode::AfterApproval, false, true),
        (InvitationMode::AfterApproval, true, true),
        (InvitationMode::AtOnce, true, false),
        (InvitationMode::AtOnce, false, false),
    ] {
        let err = judge_colleague_invite(mode, 1, 50, awaiting, invite).unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{mode:?}: {err:?}");
    }
}

#[test]
fn modes_round_trip_and_default_to_approval() {
    assert_eq!(InvitationMode::default(), InvitationMode::AfterApproval);
    for m in [
        InvitationMode::Off,
        InvitationMode::AtOnce,
        InvitationMode::AfterApproval,
    ] {
        assert_eq!(InvitationMode::parse("mode", m.as_str()).unwrap(), m);
    }
    assert!(matches!(
        InvitationMode::parse("mode", "sometimes"),
        Err(Error::Invalid { field: "mode", .. })
    ));
}

#[test]
fn roles_are_short_lower_case_labels() {
    assert_eq!(clean_role("  Billing ").unwrap(), Some("billing".into()));
    assert_eq!(clean_role("   ").unwrap(), None);
    assert!(matches!(
        clean_role(&"x".repeat(MAX_ROLE + 1)),
        Err(Error::Invalid { field: "role", .. })
    ));
    assert!(clean_role(&"x".repeat(MAX_ROLE)).is_ok());
    assert!(clean_role("bill\u{7}ing").is_err());
}

#[test]
fn only_an_unassigned_open_client_task_can_be_claimed() {
    assert_eq!(claim(&task(1, vec![]), id(1)).unwrap(), vec![id(1)]);
    assert!(matches!(
        claim(&task(1, vec![id(2)]), id(1)),
        Err(Error::Conflict { .. })
    ));
    let mut done = task(1, vec![]);
    done.status = TaskStatus::Completed;
    assert!(claim(&done, id(1)).is_err());
    let mut msp = task(1, vec![]);
    msp.assignee = Side::Msp;
    assert!(claim(&msp, id(1)).is_err());
}

#[test]
fn a_hand_off_moves_your_task_to_an_active_colleague() {
    let (assigned, note) = hand_off(
        &task(1, vec![id(1), id(3)]),
        id(1),
        &contact(2),
        "  over to you ",
    )
    .unwrap();
    assert_eq!(assigned, vec![id(3), id(2)]);
    assert_eq!(note, "over to you");
}

#[test]
fn a_hand_off_is_refused_for_others_tasks_and_inactive_colleagues() {
    // Not yours (a team task, or a colleague's).
    for t in [task(1, vec![]), task(1, vec![id(3)])] {
        assert!(matches!(
            hand_off(&t, id(1), &contact(2), ""),
            Err(Error::Conflict { .. })
        ));
    }
    let mine = task(1, vec![id(1)]);
    let mut revoked = contact(2);
    revoked.revoked_at = Some(t0());
    let mut pending = contact(2);
    pending.awaiting_approval = true;
    let mut elsewhere = contact(2);
    elsewhere.portal_id = PortalId::from_uuid(Uuid::from_u128(999));
    for to in [revoked, pending, elsewhere, contact(1)] {
        assert!(matches!(
            hand_off(&mine, id(1), &to, ""),
            Err(Error::Invalid { field: "to", .. })
        ));
    }
    assert!(matches!(
        hand_off(&mine, id(1), &contact(2), &"n".repeat(MAX_HANDOFF_NOTE + 1)),
        Err(Error::Invalid { field: "note", .. })
    ));
    assert!(hand_off(&mine, id(1), &contact(2), &"n".repeat(MAX_HANDOFF_NOTE)).is_ok());
}

#[test]
fn your_tasks_come_first_then_the_teams_then_colleagues() {
    let tasks = [
        task(1, vec![id(2)]),
        task(2, vec![]),
        task(3, vec![id(1)]),
        task(4, vec![]),
        task(5, vec![id(2), id(1)]),
    ];
    let order: Vec<u32> = order_for(&tasks, id(1))
        .iter()
        .map(|t| t.position)
        .collect();
    assert_eq!(order, [3, 5, 2, 4, 1]);
}

fn with_role(n: u128, role: &str) -> Contact {
    Contact {
        role: Some(role.to_owned()),
        ..contact(n)
    }
}

fn for_role(n: u128, role: &str, assigned_to: Vec<ContactId>) -> Task {
    Task {
        for_role: Some(role.to_owned()),
        ..task(n, assigned_to)
    }
}

#[test]
fn a_role_task_is_for_every_active_contact_with_the_role() {
    let mut revoked = with_role(3, "billing");
    revoked.revoked_at = Some(t0());
    let mut waiting = with_role(4, "billing");
    waiting.awaiting_approval = true;
    let team = [
        with_role(1, "billing"),
        with_role(2, "technical"),
        revoked,
        waiting,
        with_role(5, "billing"),
        contact(6),
    ];
    let billing = for_role(1, "billing", Vec::new());
    assert_eq!(task_for(&billing, &team), vec![id(1), id(5)]);
    assert_eq!(
        owner(&task(0, task_for(&billing, &team)), id(1)),
        TaskOwner::You
    );
    assert_eq!(
        owner(&task(0, task_for(&billing, &team)), id(2)),
        TaskOwner::Colleague
    );
}

#[test]
fn an_explicit_assignee_wins_over_the_role() {
    let team = [with_role(1, "billing"), contact(2)];
    let named = for_role(1, "billing", vec![id(2)]);
    assert_eq!(task_for(&named, &team), vec![id(2)]);
    let resolved = with_roles_resolved(vec![named.clone()], &team);
    assert_eq!(resolved[0].assigned_to, vec![id(2)]);
}

#[test]
fn a_role_nobody_has_leaves_the_task_to_the_team() {
    let team = [with_role(1, "technical"), contact(2)];
    let billing = for_role(1, "billing", Vec::new());
    assert!(task_for(&billing, &team).is_empty());
    let resolved = with_roles_resolved(vec![billing, task(2, Vec::new())], &team);
    assert!(resolved.iter().all(|t| t.assigned_to.is_empty()));
    assert_eq!(owner(&resolved[0], id(2)), TaskOwner::Team);
}

#[test]
fn task_roles_are_cleaned_and_only_for_client_tasks() {
    assert_eq!(
        task_role(Side::Client, Some(" Billing "))
            .unwrap()
            .as_deref(),
        Some("billing")
    );
    assert_eq!(task_role(Side::Client, Some("  ")).unwrap(), None);
    assert_eq!(task_role(Side::Msp, None).unwrap(), None);
    let err = task_role(Side::Msp, Some("billing")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                field: "for_role",
                ..
            }
        ),
        "{err:?}"
    );
    let err = task_role(Side::Client, Some(&"x".repeat(MAX_ROLE + 1))).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                field: "for_role",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn roles_read_as_labels() {
    assert_eq!(role_label("billing"), "Billing");
    assert_eq!(role_label(""), "");
}
