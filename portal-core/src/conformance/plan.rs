//! Checks of [`crate::store::PlanStore`]: the plan read whole, changes written as
//! decided and checked, deleted tasks taking their comments, refusals writing
//! nothing, and concurrent moves serialised.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::support::*;
use super::workflow::comment;
use crate::error::{Entity, Error};
use crate::ids::TemplateId;
use crate::ids::{MailId, PortalId, TaskId};
use crate::mail::Email;
use crate::model::{EmailAddress, Task, TaskStatus};
use crate::outbox::{MailKind, OutboxMessage};
use crate::random::OsRandom;
use crate::store::{PlanDecision, Store};
use crate::workflow::plan::{self, Plan, PlanChange, TaskEdit};
use crate::workflow::template::{PlanTemplate, TemplatePhase, TemplateTask};
use crate::workflow::{ActivityKind, TaskAction};

fn at(n: i64) -> DateTime<Utc> {
    t0() + secs(n)
}

fn decision(
    f: impl Fn(&Plan) -> crate::Result<PlanChange> + Send + Sync + 'static,
) -> PlanDecision {
    Arc::new(f)
}

fn mail_for(plan: &Plan) -> OutboxMessage {
    OutboxMessage::new(
        MailId::random(&OsRandom),
        plan.portal.tenant_id,
        Some(plan.portal.id),
        MailKind::TaskAssigned,
        Email {
            to: EmailAddress::parse("jane.doe@example.com").unwrap(),
            to_name: Some("Jane Doe".to_owned()),
            subject: "New task for you".to_owned(),
            text: "Hi".to_owned(),
            html: "<p>Hi</p>".to_owned(),
            sender: None,
            list_unsubscribe: None,
            attachments: Vec::new(),
        },
        at(0),
    )
}

/// Positions by phase, in snapshot order: `[[0, 1, 2], [0]]` for a good plan.
async fn positions(store: &dyn Store, portal: PortalId) -> Vec<Vec<u32>> {
    let snap = store.portal_snapshot(portal).await.unwrap();
    snap.phases
        .iter()
        .map(|ph| {
            snap.tasks
                .iter()
                .filter(|t| t.phase_id == ph.id)
                .map(|t| t.position)
                .collect()
        })
        .collect()
}

fn titles(plan: &Plan) -> Vec<&str> {
    plan.tasks.iter().map(|t| t.title.as_str()).collect()
}

/// `plan` reads the whole plan in order; `change_plan` writes what the decision
/// answered (every field, version included), appends its entries and queues its
/// emails; every read answers the new plan at once.
pub async fn plan_reads_and_changes(store: &dyn Store) {
    let w = world(store).await;
    let second = another_contact(store, &w, "ann@example.com").await;
    let p0 = phase(store, w.portal.id, "Kickoff").await;
    let p1 = phase(store, w.portal.id, "Network").await;
    let a = store
        .add_task(&new_task(w.portal.id, p1.id, "A"), None)
        .await
        .unwrap();
    let b = store
        .add_task(&new_task(w.portal.id, p0.id, "B"), None)
        .await
        .unwrap();
    let c = store
        .add_task(&new_task(w.portal.id, p0.id, "C"), None)
        .await
        .unwrap();

    let read = store.plan(w.portal.id).await.unwrap();
    assert_eq!(read.portal, w.portal);
    assert_eq!(
        read.phases,
        vec![p0.clone(), p1.clone()],
        "phases by position"
    );
    assert_eq!(
        titles(&read),
        ["B", "C", "A"],
        "tasks by phase, then position"
    );
    assert_eq!(
        read.contacts.iter().map(|k| k.id).collect::<Vec<_>>(),
        [w.contact.id, second.id],
        "contacts oldest first"
    );
    assert_err!(
        store.plan(PortalId::random(&OsRandom)).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );

    // Read the home first, so a store that caches it must invalidate it below.
    let cached = store.portal_snapshot(w.portal.id).await.unwrap();
    assert_eq!(cached.tasks, read.tasks);
    // One edit touching every plan field.
    let edit = TaskEdit {
        title: Some("A, renamed".to_owned()),
        due_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 12, 24)),
        assigned_to: Some(vec![second.id]),
        waits_on: Some(vec![b.id, c.id]),
        for_role: Some(Some("billing".to_owned())),
        ..TaskEdit::default()
    };
    let email = mail_for(&read);
    let mail_id = email.id;
    let changed = store
        .change_plan(
            w.portal.id,
            decision(move |p| {
                let mut ch = plan::edit_task(p, a.id, 1, &edit, &staff(), at(5))?;
                ch.emails = vec![email.clone()];
                Ok(ch)
            }),
        )
        .await
        .unwrap();
    let want = changed.tasks.iter().find(|t| t.id == a.id).unwrap().clone();
    assert_eq!(want.version, 2);
    let stored = store.task(w.portal.id, a.id).await.unwrap();
    assert_eq!(stored, want, "the task is stored as decided, every field");
    assert_eq!(stored.waits_on, vec![b.id, c.id]);
    assert_eq!(stored.assigned_to, vec![second.id]);
    assert_eq!(stored.for_role.as_deref(), Some("billing"));
    let snap = store.portal_snapshot(w.portal.id).await.unwrap();
    assert!(
        snap.tasks.contains(&want),
        "the portal home answers the new plan at once (caches included)"
    );
    assert_eq!(store.plan(w.portal.id).await.unwrap().tasks, snap.tasks);
    let feed = store.activity(w.portal.id, 10).await.unwrap();
    assert_eq!(feed[0].kind, ActivityKind::TaskEdited);
    assert_eq!(feed[0].task_id, Some(a.id));
    assert_eq!(
        store.outbox_message(mail_id).await.unwrap().email.subject,
        "New task for you",
        "the change's emails are queued with it"
    );

    // A task added for a role keeps it.
    let mut billing = new_task(w.portal.id, p1.id, "Confirm the billing details");
    billing.for_role = Some("billing".to_owned());
    let added = store
        .change_plan(
            w.portal.id,
            decision(move |p| plan::add_task(p, billing.clone(), None, &staff(), at(6))),
        )
        .await
        .unwrap();
    let stored = store
        .task(w.portal.id, added.subject.unwrap())
        .await
        .unwrap();
    assert_eq!(stored.for_role.as_deref(), Some("billing"));

    // Internal MSP tasks round-trip too.
    let mut internal = new_task(w.portal.id, p1.id, "Provision the firewall");
    internal.assignee = crate::model::Side::Msp;
    internal.internal = true;
    let added = store
        .change_plan(
            w.portal.id,
            decision(move |p| plan::add_task(p, internal.clone(), Some(0), &staff(), at(6))),
        )
        .await
        .unwrap();
    let id = added.subject.unwrap();
    let stored = store.task(w.portal.id, id).await.unwrap();
    assert!(stored.internal);
    assert_eq!(stored.position, 0, "added where asked");
    assert_eq!(
        positions(store, w.portal.id).await,
        vec![vec![0, 1], vec![0, 1, 2]]
    );
}

/// Moves within and across phases, phase moves and deletions leave positions
/// `0..n` in every phase, in the order decided.
pub async fn plan_moves_renumber(store: &dyn Store) {
    let w = world(store).await;
    let p0 = phase(store, w.portal.id, "One").await;
    let p1 = phase(store, w.portal.id, "Two").await;
    let mut ids = Vec::new();
    for (ph, title) in [(&p0, "a"), (&p0, "b"), (&p0, "c"), (&p1, "d"), (&p1, "e")] {
        ids.push(
            store
                .add_task(&new_task(w.portal.id, ph.id, title), None)
                .await
                .unwrap()
                .id,
        );
    }
    let change = |f: PlanDecision| store.change_plan(w.portal.id, f);
    // "c" to the top of its phase, then "a" to the middle of phase Two.
    let c = ids[2];
    let one = p0.id;
    change(decision(move |p| {
        plan::move_task(p, c, 1, one, 0, &staff(), at(1))
    }))
    .await
    .unwrap();
    let a = ids[0];
    let two = p1.id;
    change(decision(move |p| {
        plan::move_task(p, a, 1, two, 1, &staff(), at(2))
    }))
    .await
    .unwrap();
    let read = store.plan(w.portal.id).await.unwrap();
    assert_eq!(titles(&read), ["c", "b", "d", "a", "e"]);
    assert_eq!(
        positions(store, w.portal.id).await,
        vec![vec![0, 1], vec![0, 1, 2]]
    );
    // Phase Two first, then phase One deleted with its tasks.
    change(decision(move |p| {
        plan::move_phase(p, two, 1, 0, &staff(), at(3))
    }))
    .await
    .unwrap();
    change(decision(move |p| {
        plan::delete_phase(p, one, 1, plan::PhaseDeletion::WithTasks, &staff(), at(4))
    }))
    .await
    .unwrap();
    let read = store.plan(w.portal.id).await.unwrap();
    assert_eq!(read.phases.len(), 1);
    assert_eq!(read.phases[0].position, 0);
    assert_eq!(
        read.phases[0].version, 2,
        "the moved phase's version was raised"
    );
    assert_eq!(titles(&read), ["d", "a", "e"]);
    for gone in [ids[1], ids[2]] {
        assert_err!(
            store.task(w.portal.id, gone).await,
            Error::NotFound {
                entity: Entity::Task
            }
        );
    }
    assert_eq!(positions(store, w.portal.id).await, vec![vec![0, 1, 2]]);
}

/// Concurrent moves of one portal are serialised: none is lost, no two tasks share a
/// position.
pub async fn plan_concurrent_moves(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let from = phase(store.as_ref(), w.portal.id, "From").await;
    let to = phase(store.as_ref(), w.portal.id, "To").await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let t = new_task(w.portal.id, from.id, &format!("Task {i}"));
        ids.push(store.add_task(&t, None).await.unwrap().id);
    }
    let calls = ids
        .iter()
        .map(|&id| {
            let store = store.clone();
            let (portal, to) = (w.portal.id, to.id);
            async move {
                store
                    .change_plan(
                        portal,
                        decision(move |p| plan::move_task(p, id, 1, to, 0, &staff(), at(1))),
                    )
                    .await
            }
        })
        .collect();
    for r in race_all(calls).await {
        r.unwrap();
    }
    let read = store.plan(w.portal.id).await.unwrap();
    for id in &ids {
        let t = read.task(*id).unwrap();
        assert_eq!(t.phase_id, to.id, "a concurrent move was lost");
        assert_eq!(t.version, 2, "each task was moved once");
    }
    assert_eq!(
        positions(store.as_ref(), w.portal.id).await,
        vec![vec![], (0..8).collect::<Vec<u32>>()],
        "positions stay distinct and gap-free"
    );
}

/// `change_plan` appends the change's comments to their tasks' threads in the same
/// unit (after the thread's earlier comments, in the change's order); a comment on a
/// task that is not in the new plan is `Invalid("comment")` and nothing is written.
pub async fn plan_change_appends_comments(store: &dyn Store) {
    let w = world(store).await;
    let ph = phase(store, w.portal.id, "Only").await;
    let t = store
        .add_task(&new_task(w.portal.id, ph.id, "Stuck here"), None)
        .await
        .unwrap();
    let who = client(&w.contact);
    let first = comment(&w, t.id, &who, "earlier", at(1));
    let entry = crate::workflow::ActivityEntry {
        portal_id: w.portal.id,
        at: at(1),
        actor: who.clone(),
        kind: ActivityKind::Commented,
        task_id: Some(t.id),
        subject: "x".to_owned(),
        detail: None,
    };
    store.add_comment(&first, &entry, &[]).await.unwrap();
    let (a, b) = (
        comment(&w, t.id, &who, "I'm stuck: no password", at(2)),
        comment(&w, t.id, &staff(), "Sent it by phone", at(2)),
    );
    let (ca, cb) = (a.clone(), b.clone());
    let id = t.id;
    store
        .change_plan(
            w.portal.id,
            decision(move |p| {
                let mut ch = plan::edit_task(
                    p,
                    id,
                    1,
                    &TaskEdit {
                        title: Some("Stuck here, renamed".to_owned()),
                        ..TaskEdit::default()
                    },
                    &staff(),
                    at(2),
                )?;
                ch.comments = vec![ca.clone(), cb.clone()];
                Ok(ch)
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        store.comments(w.portal.id, t.id).await.unwrap(),
        vec![first.clone(), a, b],
        "the change's comments follow the thread's, in the change's order"
    );
    assert_eq!(
        store.task(w.portal.id, t.id).await.unwrap().title,
        "Stuck here, renamed"
    );

    // A comment on a task that is not in the plan: refused, nothing written.
    let mut stray = comment(&w, TaskId::random(&OsRandom), &who, "lost", at(3));
    stray.portal_id = w.portal.id;
    let before = store.comments(w.portal.id, t.id).await.unwrap();
    let result = store
        .change_plan(
            w.portal.id,
            decision(move |p| {
                let mut ch = plan::edit_task(
                    p,
                    id,
                    2,
                    &TaskEdit {
                        title: Some("Not written".to_owned()),
                        ..TaskEdit::default()
                    },
                    &staff(),
                    at(3),
                )?;
                ch.comments = vec![stray.clone()];
                Ok(ch)
            }),
        )
        .await;
    assert!(
        matches!(&result, Err(Error::Invalid { field, .. }) if *field == "comment"),
        "{result:?}"
    );
    assert_eq!(store.comments(w.portal.id, t.id).await.unwrap(), before);
    assert_eq!(
        store.task(w.portal.id, t.id).await.unwrap().title,
        "Stuck here, renamed",
        "nothing of the refused change is written"
    );
}

/// Deleting a task deletes its comment thread (and only its own).
pub async fn plan_delete_takes_comments(store: &dyn Store) {
    let w = world(store).await;
    let ph = phase(store, w.portal.id, "Only").await;
    let doomed = store
        .add_task(&new_task(w.portal.id, ph.id, "Doomed"), None)
        .await
        .unwrap();
    let kept = store
        .add_task(&new_task(w.portal.id, ph.id, "Kept"), None)
        .await
        .unwrap();
    let who = client(&w.contact);
    for (task, body) in [(doomed.id, "bye"), (kept.id, "stay")] {
        let c = comment(&w, task, &who, body, at(1));
        let entry = crate::workflow::ActivityEntry {
            portal_id: w.portal.id,
            at: at(1),
            actor: who.clone(),
            kind: ActivityKind::Commented,
            task_id: Some(task),
            subject: "x".to_owned(),
            detail: None,
        };
        store.add_comment(&c, &entry, &[]).await.unwrap();
    }
    let id = doomed.id;
    store
        .change_plan(
            w.portal.id,
            decision(move |p| plan::delete_task(p, id, 1, &staff(), at(2))),
        )
        .await
        .unwrap();
    assert_err!(
        store.comments(w.portal.id, doomed.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    let left = store.comments(w.portal.id, kept.id).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].body, "stay");
    let read = store.plan(w.portal.id).await.unwrap();
    assert_eq!(titles(&read), ["Kept"]);
    assert_eq!(read.tasks[0].position, 0);
}

/// A decision that errs, a plan `PlanChange::diff` refuses, a foreign activity entry
/// and a stale version all write nothing (no task, entry or email).
pub async fn plan_refusals_write_nothing(store: &dyn Store) {
    let w = world(store).await;
    let ph = phase(store, w.portal.id, "Only").await;
    let a = store
        .add_task(&new_task(w.portal.id, ph.id, "A"), None)
        .await
        .unwrap();
    store
        .add_task(&new_task(w.portal.id, ph.id, "B"), None)
        .await
        .unwrap();
    let before = store.plan(w.portal.id).await.unwrap();
    let feed = store.activity(w.portal.id, 50).await.unwrap();
    let email = mail_for(&before);
    let mail_id = email.id;

    let with_mail = move |mut ch: PlanChange| {
        ch.emails = vec![email.clone()];
        ch
    };
    let m = with_mail.clone();
    // The decision's own error comes back unchanged.
    assert_err!(
        store
            .change_plan(
                w.portal.id,
                decision(move |p| {
                    let _unsent = m(plan::delete_task(p, a.id, 1, &staff(), at(1))?);
                    Err(Error::conflict("nope"))
                })
            )
            .await,
        Error::Conflict { ref reason } if reason == "nope"
    );
    // Two tasks at one position.
    let m = with_mail.clone();
    assert_err!(
        store
            .change_plan(
                w.portal.id,
                decision(move |p| {
                    let mut ch = m(plan::edit_task(
                        p,
                        a.id,
                        1,
                        &TaskEdit {
                            title: Some("A2".into()),
                            ..TaskEdit::default()
                        },
                        &staff(),
                        at(1),
                    )?);
                    for t in &mut ch.tasks {
                        t.position = 0;
                    }
                    Ok(ch)
                })
            )
            .await,
        Error::Invalid { field: "plan", .. }
    );
    // An entry of another portal.
    let m = with_mail.clone();
    assert_err!(
        store
            .change_plan(
                w.portal.id,
                decision(move |p| {
                    let mut ch = m(plan::delete_task(p, a.id, 1, &staff(), at(1))?);
                    ch.activity[0].portal_id = PortalId::random(&OsRandom);
                    Ok(ch)
                })
            )
            .await,
        Error::Invalid {
            field: "activity",
            ..
        }
    );
    // A stale version.
    assert_err!(
        store
            .change_plan(
                w.portal.id,
                decision(move |p| {
                    Ok(with_mail(plan::delete_task(p, a.id, 7, &staff(), at(1))?))
                })
            )
            .await,
        Error::Stale { .. }
    );
    assert_eq!(
        store.plan(w.portal.id).await.unwrap(),
        before,
        "nothing written"
    );
    assert_eq!(store.activity(w.portal.id, 50).await.unwrap(), feed);
    assert_err!(
        store.outbox_message(mail_id).await,
        Error::NotFound {
            entity: Entity::Email
        }
    );
    assert_err!(
        store
            .change_plan(PortalId::random(&OsRandom), decision(|_| unreachable!()))
            .await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
}

/// A task action through the plan: completing the last task another one waits for
/// unlocks it in the same unit (entry in the feed); a client can't act on a task that
/// still waits, nor see an internal one.
pub async fn plan_unlocks_in_the_same_unit(store: &dyn Store) {
    let w = world(store).await;
    let ph = phase(store, w.portal.id, "Only").await;
    let first = store
        .add_task(&new_task(w.portal.id, ph.id, "First"), None)
        .await
        .unwrap();
    let mut then = new_task(w.portal.id, ph.id, "Then");
    then.waits_on = vec![first.id];
    let then = store.add_task(&then, None).await.unwrap();
    let who = client(&w.contact);
    let act = |task: TaskId, actor: crate::workflow::Actor| {
        decision(move |p| {
            plan::act_on_plan(
                p,
                task,
                &TaskAction::Complete { notes: None },
                &actor,
                at(3),
            )
        })
    };
    assert_err!(
        store.change_plan(w.portal.id, act(then.id, who.clone())).await,
        Error::Conflict { ref reason } if reason.contains("First")
    );
    let done = store
        .change_plan(w.portal.id, act(first.id, who.clone()))
        .await
        .unwrap();
    assert_eq!(done.notices.len(), 1);
    let feed = store.activity(w.portal.id, 2).await.unwrap();
    let kinds: Vec<ActivityKind> = feed.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&ActivityKind::TaskUnlocked), "{kinds:?}");
    let stored: Task = store.task(w.portal.id, first.id).await.unwrap();
    assert_eq!(stored.status, TaskStatus::Completed);
    assert_eq!(stored.version, 2);
    store
        .change_plan(w.portal.id, act(then.id, who))
        .await
        .unwrap();
}

pub(crate) fn new_template(tenant: crate::ids::TenantId, name: &str) -> PlanTemplate {
    PlanTemplate {
        id: TemplateId::random(&OsRandom),
        tenant_id: tenant,
        name: name.to_owned(),
        version: 1,
        phases: vec![TemplatePhase {
            name: "Kickoff".to_owned(),
            tasks: vec![TemplateTask {
                for_role: None,
                title: "Sign the agreement".to_owned(),
                description: "Both pages.".to_owned(),
                assignee: crate::model::Side::Client,
                kind: crate::model::TaskKind::Standard,
                due_offset_days: Some(7),
                waits_on: Vec::new(),
                internal: false,
            }],
        }],
        created_at: at(0),
        updated_at: at(0),
    }
}

/// Templates are kept whole, listed by name, scoped by tenant (another tenant's is
/// `NotFound(Template)`), and replaced only from the version the caller saw.
pub async fn templates_scoped_and_versioned(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let b = new_template(w.tenant.id, "B standard");
    let a = new_template(w.tenant.id, "A quick");
    store.create_template(&b).await.unwrap();
    store.create_template(&a).await.unwrap();
    store
        .create_template(&new_template(other.tenant.id, "Theirs"))
        .await
        .unwrap();
    assert_err!(store.create_template(&a).await, Error::Conflict { .. });
    assert_err!(
        store
            .create_template(&new_template(crate::ids::TenantId::random(&OsRandom), "X"))
            .await,
        Error::NotFound {
            entity: Entity::Tenant
        }
    );
    assert_eq!(store.template(w.tenant.id, b.id).await.unwrap(), b);
    let listed: Vec<String> = store
        .templates(w.tenant.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        listed,
        ["A quick", "B standard"],
        "by name, this tenant's only"
    );
    assert_err!(
        store.template(other.tenant.id, b.id).await,
        Error::NotFound {
            entity: Entity::Template
        }
    );
    let mut theirs = b.clone();
    theirs.tenant_id = other.tenant.id;
    theirs.version = 2;
    assert_err!(
        store.replace_template(&theirs, 1).await,
        Error::NotFound {
            entity: Entity::Template
        }
    );
    let mut renamed = b.clone();
    renamed.name = "B renamed".to_owned();
    renamed.version = 2;
    store.replace_template(&renamed, 1).await.unwrap();
    let mut late = b.clone();
    late.name = "Lost update".to_owned();
    late.version = 2;
    assert_err!(store.replace_template(&late, 1).await, Error::Stale { .. });
    assert_eq!(store.template(w.tenant.id, b.id).await.unwrap(), renamed);
}

/// A portal made with its plan is written in one unit: all of it, or (a refused
/// plan, a taken id) none of it. The portal keeps every field (its target go-live date too).
pub async fn portal_with_plan_in_one_unit(store: &dyn Store) {
    let w = world(store).await;
    let template = new_template(w.tenant.id, "Standard").validate().unwrap();
    // With a target go-live date: it is part of the portal the store keeps.
    let portal = crate::model::Portal {
        id: PortalId::random(&OsRandom),
        target_date: chrono::NaiveDate::from_ymd_opt(2027, 1, 15),
        ..w.portal.clone()
    };
    let (phases, tasks) = template
        .instantiate(
            portal.id,
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            at(1),
            &OsRandom,
        )
        .unwrap();
    // A bad plan (two phases at one position) writes nothing, not even the portal.
    let mut bad = phases.clone();
    bad.push(crate::model::Phase {
        id: crate::ids::PhaseId::random(&OsRandom),
        ..phases[0].clone()
    });
    assert_err!(
        store
            .create_portal_with_plan(&portal, &bad, &tasks, &[])
            .await,
        Error::Invalid { field: "plan", .. }
    );
    assert_err!(
        store.portal(portal.id).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
    store
        .create_portal_with_plan(&portal, &phases, &tasks, &[])
        .await
        .unwrap();
    let read = store.plan(portal.id).await.unwrap();
    assert_eq!(read.portal, portal);
    assert_eq!(store.portal(portal.id).await.unwrap(), portal);
    assert_eq!(read.phases, phases);
    assert_eq!(read.tasks, tasks);
    assert_eq!(
        read.tasks[0].due_date,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 8)
    );
    assert_err!(
        store.create_portal_with_plan(&portal, &[], &[], &[]).await,
        Error::Conflict { .. }
    );
}
