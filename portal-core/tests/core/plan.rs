//! Editing the plan through `PortalService` as MSP staff: tenant isolation, versions,
//! assignment and unlock emails, and what the client sees of locked and internal tasks.

use chrono::{NaiveDate, TimeDelta};
use portal_core::model::{Branding, PortalStatus, Progress, Side, TaskKind};
use portal_core::service::PlanTaskSpec;
use portal_core::workflow::ActivityKind;
use portal_core::workflow::plan::{PhaseDeletion, TaskEdit};
use portal_core::workflow::template::{TaskRef, TemplatePhase, TemplateTask};
use portal_core::{Entity, Error, StaffContext, StaffRole};

use crate::{Harness, assert_err};

fn staff_of(h: &Harness, role: StaffRole) -> StaffContext {
    StaffContext::new(h.tenant.id, "u-17", "Sam Tech", None, role).unwrap()
}

fn spec(title: &str, side: Side) -> PlanTaskSpec {
    PlanTaskSpec {
        for_role: None,
        title: title.to_owned(),
        description: String::new(),
        assignee: side,
        kind: TaskKind::Standard,
        due_date: None,
        assigned_to: Vec::new(),
        waits_on: Vec::new(),
        internal: false,
    }
}

#[tokio::test]
async fn another_tenants_staff_find_nothing_and_change_nothing() {
    let h = Harness::new(501).await;
    let ours = staff_of(&h, StaffRole::Admin);
    let phase = h
        .service
        .add_plan_phase(&ours, h.portal.id, "Kickoff", None)
        .await
        .unwrap();
    let task = h
        .service
        .add_plan_task(
            &ours,
            h.portal.id,
            phase.id,
            spec("Sign", Side::Client),
            None,
        )
        .await
        .unwrap();
    let before = h.service.plan(&ours, h.portal.id).await.unwrap();

    let other_tenant = h
        .service
        .create_tenant(
            "Elsewhere",
            Branding::new("Elsewhere IT", "#000000", "", None).unwrap(),
            Vec::new(),
        )
        .await
        .unwrap();
    let theirs = StaffContext::new(other_tenant.id, "u-9", "Eve", None, StaffRole::Admin).unwrap();
    let portal_not_found = |e: &Error| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::Portal
            }
        )
    };
    let p = h.portal.id;
    assert_err(h.service.plan(&theirs, p).await, portal_not_found);
    assert_err(
        h.service
            .add_plan_task(&theirs, p, phase.id, spec("Sneak", Side::Client), None)
            .await,
        portal_not_found,
    );
    let rename = TaskEdit {
        title: Some("Pwned".into()),
        ..TaskEdit::default()
    };
    assert_err(
        h.service.edit_task(&theirs, p, task.id, 1, rename).await,
        portal_not_found,
    );
    assert_err(
        h.service
            .move_task(&theirs, p, task.id, 1, phase.id, 0)
            .await,
        portal_not_found,
    );
    assert_err(
        h.service.delete_task(&theirs, p, task.id, 1).await,
        portal_not_found,
    );
    assert_err(
        h.service.rename_phase(&theirs, p, phase.id, 1, "X").await,
        portal_not_found,
    );
    assert_err(
        h.service.move_phase(&theirs, p, phase.id, 1, 0).await,
        portal_not_found,
    );
    assert_err(
        h.service
            .delete_phase(&theirs, p, phase.id, 1, PhaseDeletion::WithTasks)
            .await,
        portal_not_found,
    );
    assert_err(
        h.service.add_plan_phase(&theirs, p, "X", None).await,
        portal_not_found,
    );
    assert_eq!(h.service.plan(&ours, p).await.unwrap(), before);
}

#[tokio::test]
async fn a_member_edits_every_field_and_a_stale_version_changes_nothing() {
    let h = Harness::new(502).await;
    let member = staff_of(&h, StaffRole::Member);
    let p = h.portal.id;
    let one = h
        .service
        .add_plan_phase(&member, p, "One", None)
        .await
        .unwrap();
    let two = h
        .service
        .add_plan_phase(&member, p, "Two", None)
        .await
        .unwrap();
    let t = h
        .service
        .add_plan_task(&member, p, one.id, spec("Draft", Side::Client), None)
        .await
        .unwrap();
    assert_eq!(t.version, 1);
    let due = NaiveDate::from_ymd_opt(2026, 12, 1);
    let edit = TaskEdit {
        title: Some("Share the network diagram".into()),
        description: Some("PDF or Visio".into()),
        kind: Some(TaskKind::Training {
            video_url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ".into(),
        }),
        side: Some(Side::Client),
        due_date: Some(due),
        ..TaskEdit::default()
    };
    let edited = h
        .service
        .edit_task(&member, p, t.id, 1, edit)
        .await
        .unwrap();
    assert_eq!(edited.version, 2);
    assert_eq!(edited.title, "Share the network diagram");
    assert_eq!(edited.due_date, due);
    let cleared = h
        .service
        .set_due_date(&member, p, t.id, 2, None)
        .await
        .unwrap();
    assert_eq!(cleared.due_date, None);
    assert_eq!(cleared.version, 3);

    let stale = TaskEdit {
        title: Some("Lost update".into()),
        ..TaskEdit::default()
    };
    assert_err(
        h.service.edit_task(&member, p, t.id, 2, stale).await,
        |e| matches!(e, Error::Stale { reason } if reason.contains("version 3")),
    );
    let moved = h
        .service
        .move_task(&member, p, t.id, 3, two.id, 0)
        .await
        .unwrap();
    assert_eq!(
        (moved.phase_id, moved.position, moved.version),
        (two.id, 0, 4)
    );
    let renamed = h
        .service
        .rename_phase(&member, p, two.id, 1, "Network")
        .await
        .unwrap();
    assert_eq!(renamed.version, 2);
    assert_err(
        h.service
            .delete_phase(&member, p, two.id, 2, PhaseDeletion::OnlyIfEmpty)
            .await,
        |e| matches!(e, Error::Conflict { reason } if reason.contains("still has 1 task")),
    );
    h.service.delete_task(&member, p, t.id, 4).await.unwrap();
    h.service
        .delete_phase(&member, p, two.id, 2, PhaseDeletion::OnlyIfEmpty)
        .await
        .unwrap();
    let plan = h.service.plan(&member, p).await.unwrap();
    assert_eq!(plan.phases.len(), 1);
    assert!(plan.tasks.is_empty());
    let feed = crate::after_setup(
        h.service
            .staff_activity(&member, p, None, 20)
            .await
            .unwrap()
            .items,
    );
    assert!(
        feed.iter().all(|e| e.actor.name() == "Sam Tech"),
        "every staff action is attributed to the named staff member"
    );
    assert_eq!(feed[0].kind, ActivityKind::PhaseDeleted);
}

#[tokio::test]
async fn assigning_a_task_emails_the_contacts_named_and_only_them() {
    let h = Harness::new(503).await;
    let staff = staff_of(&h, StaffRole::Member);
    let ann = h.add_contact("Ann Lee", "ann.lee@contoso.example").await;
    let p = h.portal.id;
    let phase = h
        .service
        .add_plan_phase(&staff, p, "Kickoff", None)
        .await
        .unwrap();
    let sent = h.mailer.sent().len();
    h.service
        .add_plan_task(
            &staff,
            p,
            phase.id,
            spec("For everyone", Side::Client),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        h.mailer.sent().len(),
        sent,
        "a task for everyone emails nobody"
    );

    let mut for_ann = spec("Approve the firewall change", Side::Client);
    for_ann.assigned_to = vec![ann.id];
    for_ann.due_date = NaiveDate::from_ymd_opt(2026, 12, 15);
    let task = h
        .service
        .add_plan_task(&staff, p, phase.id, for_ann, None)
        .await
        .unwrap();
    assert_eq!(task.assigned_to, [ann.id]);
    let mail = h.mailer.sent();
    assert_eq!(mail.len(), sent + 1, "one email, to Ann");
    let email = h.last_email(&ann);
    assert_eq!(
        email.subject,
        "New task for you: “Approve the firewall change”"
    );
    assert!(email.html.contains("Tuesday 15 December 2026"));
    assert_snapshot!("core__plan__task_assigned_text", email.text);
    assert_snapshot!("core__plan__task_assigned_html", email.html);

    // Adding Jane emails Jane only; a revoked contact can't be assigned.
    let edit = TaskEdit {
        assigned_to: Some(vec![ann.id, h.contact.id]),
        ..TaskEdit::default()
    };
    h.service
        .edit_task(&staff, p, task.id, 1, edit)
        .await
        .unwrap();
    assert_eq!(h.mailer.sent().len(), sent + 2);
    assert_eq!(
        h.last_email(&h.contact).subject,
        "New task for you: “Approve the firewall change”"
    );
    h.service
        .revoke_contact(&staff_of(&h, StaffRole::Admin), ann.id)
        .await
        .unwrap();
    let again = TaskEdit {
        assigned_to: Some(vec![ann.id]),
        ..TaskEdit::default()
    };
    assert_err(
        h.service.edit_task(&staff, p, task.id, 2, again).await,
        |e| {
            matches!(
                e,
                Error::Invalid {
                    field: "assigned_to",
                    ..
                }
            )
        },
    );
}

#[tokio::test]
async fn a_locked_task_waits_then_unlocks_with_an_email_and_internal_tasks_stay_hidden() {
    let h = Harness::new(504).await;
    let staff = staff_of(&h, StaffRole::Member);
    let p = h.portal.id;
    let phase = h
        .service
        .add_plan_phase(&staff, p, "Setup", None)
        .await
        .unwrap();
    let mut firewall = spec("Provision the firewall", Side::Msp);
    firewall.internal = true;
    let firewall = h
        .service
        .add_plan_task(&staff, p, phase.id, firewall, None)
        .await
        .unwrap();
    let mut vpn = spec("Install the VPN client", Side::Client);
    vpn.waits_on = vec![firewall.id];
    let vpn = h
        .service
        .add_plan_task(&staff, p, phase.id, vpn, None)
        .await
        .unwrap();
    let (_, ctx) = h.sign_in(&h.contact).await;
    // Every client read refuses the internal task by id, not only the pages.
    assert_err(h.service.task(&ctx, firewall.id).await, |e| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::Task
            }
        )
    });
    assert_err(h.service.comments(&ctx, firewall.id).await, |e| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::Task
            }
        )
    });
    assert!(h.service.task(&ctx, vpn.id).await.is_ok());

    // The client sees the VPN task locked, not the firewall.
    let home = h.service.portal_home(&ctx).await.unwrap();
    assert_eq!(home.tasks.len(), 1);
    assert_eq!(
        Progress::of(&home.tasks).total,
        1,
        "internal tasks don't count"
    );
    let view = h.service.client_plan(&ctx).await.unwrap();
    assert_eq!(view.snapshot, home);
    assert_eq!(view.waiting[&vpn.id], ["a step by Northwind IT"]);
    assert_err(
        h.service.complete_task(&ctx, vpn.id, None).await,
        |e| matches!(e, Error::Conflict { reason } if reason.contains("waiting for: a step by Northwind IT")),
    );
    assert_err(
        h.service.complete_task(&ctx, firewall.id, None).await,
        |e| {
            matches!(
                e,
                Error::NotFound {
                    entity: Entity::Task
                }
            )
        },
    );
    assert_err(
        h.service.add_comment(&ctx, firewall.id, "hello?").await,
        |e| {
            matches!(
                e,
                Error::NotFound {
                    entity: Entity::Task
                }
            )
        },
    );

    // Staff finish the firewall: the VPN task unlocks in the same unit.
    h.clock.advance(TimeDelta::minutes(5));
    let before = h.mailer.sent().len();
    h.service
        .staff_complete(&staff, p, firewall.id, None)
        .await
        .unwrap();
    let ready = h.last_email(&h.contact);
    assert_eq!(ready.subject, "“Install the VPN client” is ready for you");
    assert_eq!(h.mailer.sent().len(), before + 1);
    assert_snapshot!("core__plan__task_ready_text", ready.text);
    let feed = crate::after_setup(
        h.service
            .staff_activity(&staff, p, None, 10)
            .await
            .unwrap()
            .items,
    );
    assert_eq!(feed[0].kind, ActivityKind::TaskUnlocked);
    assert_eq!(feed[0].task_id, Some(vpn.id));
    let client_feed = h.service.activity(&ctx, 10).await.unwrap();
    assert!(
        client_feed.iter().all(|e| e.task_id != Some(firewall.id)),
        "nothing about the internal task reaches the client"
    );
    assert!(
        client_feed
            .iter()
            .any(|e| e.kind == ActivityKind::TaskUnlocked)
    );
    assert!(
        h.service
            .client_plan(&ctx)
            .await
            .unwrap()
            .waiting
            .is_empty()
    );
    let done = h.service.complete_task(&ctx, vpn.id, None).await.unwrap();
    assert_eq!(done.version, 2);

    // Staff prepare a draft portal's plan too.
    h.service
        .set_portal_status(&staff_of(&h, StaffRole::Admin), p, PortalStatus::Draft)
        .await
        .unwrap();
    h.service
        .add_plan_task(&staff, p, phase.id, spec("Later", Side::Msp), None)
        .await
        .unwrap();
}

fn every_type() -> Vec<TemplatePhase> {
    use portal_core::model::{
        ChecklistItem, DocumentRef, Question, QuestionKind, RequestedDocument,
    };
    let t = |title: &str, side: Side, kind: TaskKind, due: Option<i32>| TemplateTask {
        for_role: None,
        title: title.into(),
        description: format!("About {title}."),
        assignee: side,
        kind,
        due_offset_days: due,
        waits_on: Vec::new(),
        internal: false,
    };
    let mut firewall = t(
        "Provision the firewall",
        Side::Msp,
        TaskKind::Standard,
        Some(-3),
    );
    firewall.internal = true;
    let mut vpn = t(
        "Watch the VPN video",
        Side::Client,
        TaskKind::Training {
            video_url: "https://youtu.be/dQw4w9WgXcQ".into(),
        },
        Some(10),
    );
    vpn.waits_on = vec![TaskRef { phase: 0, task: 0 }];
    vec![
        TemplatePhase {
            name: "Kickoff".into(),
            tasks: vec![
                firewall,
                t(
                    "Kickoff call",
                    Side::Msp,
                    TaskKind::Meeting { schedule: None },
                    Some(2),
                ),
                t(
                    "Sign the agreement",
                    Side::Client,
                    TaskKind::Signature {
                        document: Some(DocumentRef {
                            name: "MSA.pdf".into(),
                        }),
                        consent: None,
                    },
                    Some(5),
                ),
                t(
                    "Share admin credentials",
                    Side::Client,
                    TaskKind::CredentialHandoff { api_key: true },
                    None,
                ),
                t(
                    "Drop the license files",
                    Side::Client,
                    TaskKind::SecureFileDrop {
                        expires_after_days: 7,
                    },
                    None,
                ),
            ],
        },
        TemplatePhase {
            name: "Discovery".into(),
            tasks: vec![
                t(
                    "Upload network docs",
                    Side::Client,
                    TaskKind::DocumentUpload {
                        documents: vec![RequestedDocument::new("d", "Network diagram")],
                    },
                    Some(7),
                ),
                t(
                    "Tell us about your office",
                    Side::Client,
                    TaskKind::Survey {
                        questions: vec![Question {
                            id: "seats".into(),
                            prompt: "How many seats?".into(),
                            required: true,
                            kind: QuestionKind::Rating { min: 1, max: 5 },
                        }],
                    },
                    None,
                ),
                t(
                    "Prepare workstations",
                    Side::Client,
                    TaskKind::Checklist {
                        items: vec![ChecklistItem {
                            id: "a".into(),
                            label: "Back up files".into(),
                        }],
                    },
                    None,
                ),
                t(
                    "Approve the migration date",
                    Side::Client,
                    TaskKind::Approval { document: None },
                    Some(14),
                ),
                vpn,
                t(
                    "Confirm opening hours",
                    Side::Client,
                    TaskKind::Standard,
                    None,
                ),
            ],
        },
    ]
}

#[tokio::test]
async fn templates_are_created_edited_copied_listed_and_make_portals() {
    let h = Harness::new(505).await;
    let staff = staff_of(&h, StaffRole::Member);
    let standard = h
        .service
        .create_template(&staff, "Standard onboarding", every_type())
        .await
        .unwrap();
    assert_eq!(standard.version, 1);
    // Edit: rename, drop the last task; a stale edit changes nothing.
    let mut phases = standard.phases.clone();
    phases[1].tasks.pop();
    let edited = h
        .service
        .edit_template(&staff, standard.id, 1, "Standard (2026)", phases.clone())
        .await
        .unwrap();
    assert_eq!(edited.version, 2);
    assert_err(
        h.service
            .edit_template(&staff, standard.id, 1, "Lost", phases)
            .await,
        |e| matches!(e, Error::Stale { .. }),
    );
    let copy = h
        .service
        .copy_template(&staff, standard.id, "Small office")
        .await
        .unwrap();
    assert_ne!(copy.id, standard.id);
    assert_eq!(copy.phases, edited.phases);
    let names: Vec<String> = h
        .service
        .templates(&staff, None, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["Standard (2026)", "Small office"], "oldest first");

    // Another tenant's staff see none of it.
    let elsewhere = h
        .service
        .create_tenant(
            "Elsewhere",
            Branding::new("Elsewhere IT", "#000000", "", None).unwrap(),
            Vec::new(),
        )
        .await
        .unwrap();
    let eve = StaffContext::new(elsewhere.id, "u-9", "Eve", None, StaffRole::Admin).unwrap();
    assert!(
        h.service
            .templates(&eve, None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let start = NaiveDate::from_ymd_opt(2026, 12, 28).unwrap();
    assert_err(
        h.service
            .create_portal_from_template(&eve, standard.id, "Fabrikam", start, PortalStatus::Draft)
            .await,
        |e| {
            matches!(
                e,
                Error::NotFound {
                    entity: Entity::Template
                }
            )
        },
    );

    // A portal from the template: every task, dates from the start, dependencies kept.
    let portal = h
        .service
        .create_portal_from_template(
            &staff,
            standard.id,
            "Fabrikam Inc",
            start,
            PortalStatus::Draft,
        )
        .await
        .unwrap();
    assert_eq!(portal.status, PortalStatus::Draft);
    let plan = h.service.plan(&staff, portal.id).await.unwrap();
    assert_eq!(plan.phases.len(), 2);
    assert_eq!(plan.tasks.len(), 10);
    let by_title = |t: &str| plan.tasks.iter().find(|x| x.title == t).unwrap();
    assert_eq!(
        by_title("Provision the firewall").due_date,
        NaiveDate::from_ymd_opt(2026, 12, 25)
    );
    assert!(by_title("Provision the firewall").internal);
    assert_eq!(
        by_title("Approve the migration date").due_date,
        NaiveDate::from_ymd_opt(2027, 1, 11)
    );
    assert_eq!(
        by_title("Watch the VPN video").waits_on,
        [by_title("Provision the firewall").id]
    );
    let feed = crate::after_setup(
        h.service
            .staff_activity(&staff, portal.id, None, 5)
            .await
            .unwrap()
            .items,
    );
    assert_eq!(feed[0].kind, ActivityKind::PlanApplied);
    assert_eq!(feed[0].subject, "Standard (2026)");
    // Bad templates are refused with the field.
    let mut cyclic = every_type();
    cyclic[0].tasks[0].waits_on = vec![TaskRef { phase: 1, task: 4 }];
    assert_err(
        h.service.create_template(&staff, "Loop", cyclic).await,
        |e| {
            matches!(
                e,
                Error::Invalid {
                    field: "waits_on",
                    ..
                }
            )
        },
    );
}

/// A member creates drafts (from scratch and from a template); creating a portal in
/// any other status is opening it, the admin's like a status change: `Forbidden`,
/// nothing created.
#[tokio::test]
async fn a_member_creates_drafts_but_only_an_admin_opens_a_portal() {
    let h = Harness::new(977).await;
    let member = staff_of(&h, StaffRole::Member);
    let admin = staff_of(&h, StaffRole::Admin);
    let template = h
        .service
        .create_template(&member, "Quick", Vec::new())
        .await
        .unwrap();
    let start = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    let count = async || {
        h.service
            .list_portals(&admin, None, 100)
            .await
            .unwrap()
            .items
            .len()
    };
    let before = count().await;
    for status in [
        PortalStatus::Active,
        PortalStatus::Completed,
        PortalStatus::Archived,
    ] {
        assert_err(
            h.service.create_portal(&member, "Fabrikam", status).await,
            |e| matches!(e, Error::Forbidden { .. }),
        );
        assert_err(
            h.service
                .create_portal_from_template(&member, template.id, "Fabrikam", start, status)
                .await,
            |e| matches!(e, Error::Forbidden { .. }),
        );
    }
    assert_eq!(count().await, before, "nothing created");
    let draft = h
        .service
        .create_portal(&member, "Fabrikam", PortalStatus::Draft)
        .await
        .unwrap();
    assert_eq!(draft.status, PortalStatus::Draft);
    h.service
        .create_portal_from_template(&member, template.id, "Tailspin", start, PortalStatus::Draft)
        .await
        .unwrap();
    let opened = h
        .service
        .create_portal_from_template(&admin, template.id, "Contoso", start, PortalStatus::Active)
        .await
        .unwrap();
    assert_eq!(opened.status, PortalStatus::Active);
    assert_eq!(count().await, before + 3);
}
