//! [`crate::store::WorkflowStore`]: task updates with their activity entry, comments,
//! questions, the activity feed and branding.
//!
//! Decisions are built as the service builds them: [`crate::workflow::apply`] with a
//! real [`TaskAction`] and [`Actor`], so the suite checks what stores will really see.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, Utc};

use super::support::{
    World, another_contact, assert_err, client, decide, mins, new_portal, new_task_of, new_tenant,
    phase, portal_id, race_all, secs, staff, t0, task_id, tenant_id, world,
};
use crate::error::{Entity, Error, Result};
use crate::ids::{PortalId, QuestionId, TaskId};
use crate::model::{
    Branding, ChecklistItem, MeetingSchedule, Question, QuestionKind, Side, Task, TaskKind,
    TaskStatus,
};
use crate::random::OsRandom;
use crate::store::{RequestInfo, Store, TaskDecision};
use crate::workflow::survey::Answer;
use crate::workflow::{
    ActivityEntry, ActivityKind, Actor, ApprovalDecision, CheckMark, ClientQuestion, Comment,
    Completion, QuestionAnswer, TaskAction, TaskChange, TaskEvidence, apply,
};

/// Adds a client-side task of `kind` to a new phase of the world's portal.
pub(super) async fn task_in(store: &dyn Store, w: &World, kind: TaskKind) -> Task {
    let ph = phase(store, w.portal.id, "Workflow").await;
    store
        .add_task(
            &new_task_of(w.portal.id, ph.id, "Workflow task", kind),
            None,
        )
        .await
        .unwrap()
}

/// A decision that counts how often the store calls it.
fn counted(inner: TaskDecision) -> (TaskDecision, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let decision: TaskDecision = Arc::new(move |t: &Task| {
        counter.fetch_add(1, Ordering::SeqCst);
        inner(t)
    });
    (decision, calls)
}

/// The activity entries of one task, newest first.
pub(super) async fn task_activity(
    store: &dyn Store,
    portal: PortalId,
    task: TaskId,
) -> Vec<ActivityEntry> {
    store
        .activity(portal, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.task_id == Some(task))
        .collect()
}

pub(super) fn entry(
    portal: PortalId,
    at: DateTime<Utc>,
    actor: &Actor,
    kind: ActivityKind,
    subject: &str,
) -> ActivityEntry {
    ActivityEntry {
        portal_id: portal,
        at,
        actor: actor.clone(),
        kind,
        task_id: None,
        subject: subject.to_owned(),
        detail: None,
    }
}

pub(super) fn comment(
    w: &World,
    task: TaskId,
    author: &Actor,
    body: &str,
    at: DateTime<Utc>,
) -> Comment {
    Comment {
        portal_id: w.portal.id,
        task_id: task,
        author: author.clone(),
        body: body.to_owned(),
        at,
    }
}

pub(super) fn question(w: &World, text: &str, at: DateTime<Utc>) -> ClientQuestion {
    ClientQuestion {
        id: QuestionId::random(&OsRandom),
        portal_id: w.portal.id,
        asked_by: client(&w.contact),
        text: text.to_owned(),
        asked_at: at,
        answer: None,
        to: None,
    }
}

pub(super) fn answer(text: &str, at: DateTime<Utc>) -> QuestionAnswer {
    QuestionAnswer {
        by: staff(),
        text: text.to_owned(),
        at,
    }
}

pub(super) fn checklist(n: usize) -> TaskKind {
    TaskKind::Checklist {
        items: (0..n)
            .map(|i| ChecklistItem {
                id: format!("item-{i}"),
                label: format!("Step {i}"),
            })
            .collect(),
    }
}

fn approval() -> TaskKind {
    TaskKind::Approval { document: None }
}

fn request() -> RequestInfo {
    RequestInfo::new(
        Some("2001:db8::17".parse().unwrap()),
        Some("Mozilla/5.0 (X11; Linux x86_64) Conformance/1.0"),
        Some("/portal/tasks"),
    )
}

/// `update_task` is one unit: it calls `decide` exactly once with the stored task,
/// stores the returned task, appends the returned activity entry, and returns what it
/// stored; `task` and `portal_snapshot` read it back. The next update's `decide` sees
/// the result of the previous one.
pub async fn update_task_applies_with_activity(store: &dyn Store) {
    let w = world(store).await;
    let t = task_in(store, &w, TaskKind::Standard).await;
    let at = t0() + mins(10);
    let action = TaskAction::Complete {
        notes: Some("Done; see ticket #12,\nline two".to_owned()),
    };
    let expected = apply(&t, &action, &client(&w.contact), at).unwrap();
    let (decision, calls) = counted(decide(action, client(&w.contact), at));
    let done = store
        .update_task(w.portal.id, t.id, decision)
        .await
        .unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "decide is called exactly once"
    );
    assert_eq!(
        done,
        Task {
            version: t.version + 1,
            ..expected.task
        },
        "the decided task is stored as returned, its version raised"
    );
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(done.updated_at, at);
    assert_eq!(
        done.evidence.completion,
        Some(Completion {
            by: client(&w.contact),
            at,
            notes: Some("Done; see ticket #12,\nline two".to_owned()),
        })
    );
    assert_eq!(store.task(w.portal.id, t.id).await.unwrap(), done);
    let snap = store.portal_snapshot(w.portal.id).await.unwrap();
    assert_eq!(snap.tasks, vec![done.clone()]);
    assert_eq!(
        store.activity(w.portal.id, 10).await.unwrap(),
        vec![expected.activity.clone()],
        "the activity entry is appended with the change"
    );

    // The next decision sees the stored result: reopening needs a completed task.
    let later = at + mins(1);
    let (decision, calls) = counted(decide(TaskAction::Reopen, staff(), later));
    let reopened = store
        .update_task(w.portal.id, t.id, decision)
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(reopened.status, TaskStatus::Pending);
    assert_eq!(reopened.evidence.completion, None);
    assert_eq!(reopened.updated_at, later);
    let feed = store.activity(w.portal.id, 10).await.unwrap();
    assert_eq!(feed.len(), 2);
    assert_eq!(feed[0].kind, ActivityKind::TaskReopened);
    assert_eq!(feed[0].at, later);
    assert_eq!(feed[1], expected.activity);
}

/// When `decide` errs, `update_task` returns its error unchanged and writes nothing:
/// the task and the activity feed stay as they were.
pub async fn update_task_refusal_writes_nothing(store: &dyn Store) {
    let w = world(store).await;
    let t = task_in(store, &w, TaskKind::Standard).await;
    let at = t0() + mins(10);
    let complete = TaskAction::Complete { notes: None };
    store
        .update_task(
            w.portal.id,
            t.id,
            decide(complete.clone(), client(&w.contact), at),
        )
        .await
        .unwrap();
    let before = store.task(w.portal.id, t.id).await.unwrap();
    let feed_before = store.activity(w.portal.id, 100).await.unwrap();

    // The rules' own refusal: completing a completed task.
    let later = at + mins(1);
    let want = apply(&before, &complete, &client(&w.contact), later).unwrap_err();
    let (decision, calls) = counted(decide(complete, client(&w.contact), later));
    match store.update_task(w.portal.id, t.id, decision).await {
        Err(Error::Conflict { reason }) => {
            assert_eq!(
                Error::Conflict { reason }.to_string(),
                want.to_string(),
                "the rules' error is returned unchanged"
            );
        }
        other => panic!("expected the rules' Conflict, got {other:?}"),
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "decide is called exactly once"
    );

    // Any error of the decision comes back as it is.
    let custom: TaskDecision = Arc::new(|_: &Task| -> Result<TaskChange> {
        Err(Error::invalid("notes", "a custom refusal"))
    });
    match store.update_task(w.portal.id, t.id, custom).await {
        Err(Error::Invalid { field, reason }) => {
            assert_eq!((field, reason.as_str()), ("notes", "a custom refusal"));
        }
        other => panic!("expected the decision's Invalid, got {other:?}"),
    }
    let forbidden: TaskDecision = Arc::new(|_: &Task| -> Result<TaskChange> {
        Err(Error::Forbidden {
            reason: "not yours".into(),
        })
    });
    assert_err!(
        store.update_task(w.portal.id, t.id, forbidden).await,
        Error::Forbidden { .. }
    );

    // A client acting on an MSP task: the rules refuse with Forbidden.
    let msp = Task {
        assignee: Side::Msp,
        ..new_task_of(w.portal.id, t.phase_id, "MSP task", TaskKind::Standard)
    };
    let msp = store.add_task(&msp, None).await.unwrap();
    assert_err!(
        store
            .update_task(
                w.portal.id,
                msp.id,
                decide(
                    TaskAction::Complete { notes: None },
                    client(&w.contact),
                    later
                ),
            )
            .await,
        Error::Forbidden { .. }
    );

    assert_eq!(
        store.task(w.portal.id, t.id).await.unwrap(),
        before,
        "a refused decision changed the task"
    );
    assert_eq!(store.task(w.portal.id, msp.id).await.unwrap(), msp);
    assert_eq!(
        store.activity(w.portal.id, 100).await.unwrap(),
        feed_before,
        "a refused decision appended an activity entry"
    );
}

/// `update_task` keeps `id`, `portal_id`, `phase_id`, `position` and `created_at`
/// even when `decide` returns other values, and stores every other field as returned.
pub async fn update_task_keeps_immutable_fields(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let ph = phase(store, w.portal.id, "First").await;
    store
        .add_task(
            &new_task_of(w.portal.id, ph.id, "Before", TaskKind::Standard),
            None,
        )
        .await
        .unwrap();
    let t = store
        .add_task(
            &new_task_of(w.portal.id, ph.id, "Target", TaskKind::Standard),
            None,
        )
        .await
        .unwrap();
    assert_eq!(t.position, 1);
    let foreign_phase = phase(store, other.portal.id, "Theirs").await;
    let at = t0() + mins(30);
    let actor = staff();
    let evidence = TaskEvidence {
        checked: BTreeMap::from([(
            "item-1".to_owned(),
            CheckMark {
                by: actor.clone(),
                at,
            },
        )]),
        ..TaskEvidence::default()
    };
    let (foreign_id, foreign_portal, foreign_phase_id) =
        (task_id(), other.portal.id, foreign_phase.id);
    let rewritten = evidence.clone();
    let sneaky: TaskDecision = Arc::new(move |cur: &Task| {
        let task = Task {
            for_role: None,
            id: foreign_id,
            portal_id: foreign_portal,
            phase_id: foreign_phase_id,
            position: 42,
            created_at: at,
            title: "Renamed".to_owned(),
            description: "New description".to_owned(),
            assignee: Side::Msp,
            kind: checklist(3),
            status: TaskStatus::Blocked,
            blocked_reason: Some("Waiting on the vendor".to_owned()),
            due_date: NaiveDate::from_ymd_opt(2026, 12, 24),
            evidence: rewritten.clone(),
            updated_at: at,
            version: 99,
            assigned_to: Vec::new(),
            waits_on: vec![foreign_id],
            internal: true,
        };
        let activity = ActivityEntry {
            task_id: Some(cur.id),
            ..entry(
                cur.portal_id,
                at,
                &staff(),
                ActivityKind::TaskBlocked,
                &cur.title,
            )
        };
        Ok(TaskChange { task, activity })
    });
    let stored = store.update_task(w.portal.id, t.id, sneaky).await.unwrap();
    let want = Task {
        for_role: None,
        id: t.id,
        portal_id: t.portal_id,
        phase_id: t.phase_id,
        position: 1,
        created_at: t.created_at,
        title: "Renamed".to_owned(),
        description: "New description".to_owned(),
        assignee: Side::Msp,
        kind: checklist(3),
        status: TaskStatus::Blocked,
        blocked_reason: Some("Waiting on the vendor".to_owned()),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 24),
        evidence,
        updated_at: at,
        version: t.version + 1,
        assigned_to: Vec::new(),
        waits_on: Vec::new(),
        internal: false,
    };
    assert_eq!(
        stored, want,
        "immutable and plan fields kept, the version raised by one, the rest as decided"
    );
    assert_eq!(store.task(w.portal.id, t.id).await.unwrap(), want);
    assert_err!(
        store.task(other.portal.id, foreign_id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store.task(w.portal.id, foreign_id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    let theirs = store.portal_snapshot(other.portal.id).await.unwrap();
    assert!(theirs.tasks.is_empty(), "nothing moved to the other portal");
    let snap = store.portal_snapshot(w.portal.id).await.unwrap();
    assert_eq!(snap.tasks.len(), 2);
    assert_eq!(snap.tasks[1], want);
}

/// Scoping: through another portal, `task`, `update_task` (without calling `decide`),
/// `add_comment`, `comments` and `answer_question` are `NotFound` and write nothing;
/// questions and activity of one portal never show in another's.
pub async fn workflow_portal_scoping(store: &dyn Store) {
    let a = world(store).await;
    let b = world(store).await;
    let ta = task_in(store, &a, TaskKind::Standard).await;
    let tb = task_in(store, &b, TaskKind::Standard).await;
    let at = t0() + mins(5);
    let jane = client(&a.contact);
    let c = comment(&a, ta.id, &jane, "Ours", at);
    let c_entry = ActivityEntry {
        task_id: Some(ta.id),
        ..entry(a.portal.id, at, &jane, ActivityKind::Commented, &ta.title)
    };
    store.add_comment(&c, &c_entry, &[]).await.unwrap();
    let q = question(&a, "When do we start?", at);
    let q_entry = entry(a.portal.id, at, &jane, ActivityKind::QuestionAsked, &q.text);
    store.add_question(&q, &q_entry, &[]).await.unwrap();
    let feed_a = store.activity(a.portal.id, 100).await.unwrap();
    assert_eq!(feed_a.len(), 2);

    assert_err!(
        store.task(b.portal.id, ta.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store.task(a.portal.id, task_id()).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store.task(portal_id(), ta.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    let (decision, calls) = counted(decide(TaskAction::Complete { notes: None }, staff(), at));
    assert_err!(
        store
            .update_task(b.portal.id, ta.id, decision.clone())
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store.update_task(a.portal.id, task_id(), decision).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "decide is never shown another portal's task"
    );

    // A comment on A's task filed under B, and one on a missing task.
    let bob = client(&b.contact);
    let sneaky = Comment {
        portal_id: b.portal.id,
        ..comment(&a, ta.id, &bob, "Sneaky", at)
    };
    let sneaky_entry = ActivityEntry {
        task_id: Some(ta.id),
        ..entry(b.portal.id, at, &bob, ActivityKind::Commented, "Sneaky")
    };
    assert_err!(
        store.add_comment(&sneaky, &sneaky_entry, &[]).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    let missing = comment(&b, task_id(), &bob, "Nowhere", at);
    assert_err!(
        store.add_comment(&missing, &sneaky_entry, &[]).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store.comments(b.portal.id, ta.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store.comments(a.portal.id, task_id()).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_eq!(store.comments(a.portal.id, ta.id).await.unwrap(), vec![c]);
    assert_eq!(store.comments(b.portal.id, tb.id).await.unwrap(), vec![]);

    // Answering A's question through B.
    assert_err!(
        store
            .answer_question(
                b.portal.id,
                q.id,
                &answer("Monday", at),
                &entry(
                    b.portal.id,
                    at,
                    &staff(),
                    ActivityKind::QuestionAnswered,
                    ""
                ),
                &[]
            )
            .await,
        Error::NotFound {
            entity: Entity::Question
        }
    );
    assert_err!(
        store
            .answer_question(
                a.portal.id,
                QuestionId::random(&OsRandom),
                &answer("Monday", at),
                &entry(
                    a.portal.id,
                    at,
                    &staff(),
                    ActivityKind::QuestionAnswered,
                    ""
                ),
                &[]
            )
            .await,
        Error::NotFound {
            entity: Entity::Question
        }
    );
    // A question of a missing portal is refused too.
    let orphan = ClientQuestion {
        portal_id: portal_id(),
        ..question(&a, "Orphan", at)
    };
    let orphan_entry = entry(
        orphan.portal_id,
        at,
        &jane,
        ActivityKind::QuestionAsked,
        "Orphan",
    );
    assert_err!(
        store.add_question(&orphan, &orphan_entry, &[]).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );

    assert_eq!(store.questions(a.portal.id).await.unwrap(), vec![q]);
    assert_eq!(store.questions(b.portal.id).await.unwrap(), vec![]);
    assert_eq!(store.questions(orphan.portal_id).await.unwrap(), vec![]);
    assert_eq!(store.activity(a.portal.id, 100).await.unwrap(), feed_a);
    assert_eq!(
        store.activity(b.portal.id, 100).await.unwrap(),
        vec![],
        "refused calls appended nothing"
    );
    assert_eq!(store.task(a.portal.id, ta.id).await.unwrap(), ta);
    assert_eq!(store.task(b.portal.id, tb.id).await.unwrap(), tb);
}

/// Two concurrent approvals of one approval task (by two contacts, ten rounds):
/// exactly one succeeds, the other gets the rules' `Conflict`, and exactly one
/// activity entry is appended. The stored decision is the winner's.
pub async fn concurrent_approvals(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let bob = another_contact(store.as_ref(), &w, "bob@client.example").await;
    let people = [client(&w.contact), client(&bob)];
    for round in 0..10 {
        let t = task_in(store.as_ref(), &w, approval()).await;
        let at = t0() + mins(round);
        let calls = (0..2)
            .map(|i| {
                let (store, portal, task) = (store.clone(), w.portal.id, t.id);
                let action = TaskAction::Decide {
                    approved: i == 0,
                    comment: Some(format!("decided by {i}")),
                    request: request(),
                    documents: Vec::new(),
                };
                let d = decide(action, people[i].clone(), at + secs(i as i64));
                async move { store.update_task(portal, task, d).await }
            })
            .collect();
        let mut winners = Vec::new();
        for r in race_all(calls).await {
            match r {
                Ok(task) => winners.push(task),
                Err(Error::Conflict { .. }) => {}
                Err(e) => panic!("a concurrent approval failed with {e:?}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "exactly one approval wins (round {round})"
        );
        let won = &winners[0];
        let decision = won
            .evidence
            .decision
            .clone()
            .expect("the winner's decision");
        assert_eq!(won.status, TaskStatus::Completed);
        assert_eq!(store.task(w.portal.id, t.id).await.unwrap(), *won);
        let entries = task_activity(store.as_ref(), w.portal.id, t.id).await;
        assert_eq!(
            entries.len(),
            1,
            "exactly one activity entry (round {round})"
        );
        let kind = if decision.approved {
            ActivityKind::Approved
        } else {
            ActivityKind::Rejected
        };
        assert_eq!(entries[0].kind, kind);
        assert_eq!(entries[0].actor.name(), decision.name);
    }
}

/// Twenty concurrent checks of twenty distinct items of one checklist (clients and
/// staff alternating): all twenty are recorded with who and when, the task ends
/// `Completed` (decided by exactly one of the calls), with twenty activity entries.
pub async fn concurrent_checklist_items(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let t = task_in(store.as_ref(), &w, checklist(20)).await;
    let actor = |i: usize| {
        if i.is_multiple_of(2) {
            client(&w.contact)
        } else {
            staff()
        }
    };
    let at = |i: usize| t0() + secs(i as i64 + 1);
    let calls = (0..20)
        .map(|i| {
            let (store, portal, task) = (store.clone(), w.portal.id, t.id);
            let action = TaskAction::SetItem {
                item: format!("item-{i}"),
                checked: true,
            };
            let d = decide(action, actor(i), at(i));
            async move { store.update_task(portal, task, d).await }
        })
        .collect();
    let statuses: Vec<TaskStatus> = race_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().status)
        .collect();
    let stored = store.task(w.portal.id, t.id).await.unwrap();
    assert_eq!(
        stored.evidence.checked.len(),
        20,
        "every check was recorded (a lost update means updates are not serialised)"
    );
    assert_eq!(stored.status, TaskStatus::Completed);
    let completed_by = statuses
        .iter()
        .filter(|s| **s == TaskStatus::Completed)
        .count();
    assert_eq!(completed_by, 1, "exactly one check saw all twenty items");
    assert!(
        statuses
            .iter()
            .all(|s| matches!(s, TaskStatus::Completed | TaskStatus::InProgress)),
        "{statuses:?}"
    );
    for i in 0..20 {
        assert_eq!(
            stored.evidence.checked.get(&format!("item-{i}")),
            Some(&CheckMark {
                by: actor(i),
                at: at(i),
            }),
            "item {i}"
        );
    }
    let entries = task_activity(store.as_ref(), w.portal.id, t.id).await;
    assert_eq!(entries.len(), 20);
    // The check that completed the task is recorded as the completion.
    let completions = entries
        .iter()
        .filter(|e| e.kind == ActivityKind::TaskCompleted)
        .count();
    assert_eq!(completions, 1);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.kind == ActivityKind::ItemChecked)
            .count(),
        19
    );
}

/// Comments: stored verbatim (line breaks, markup as text) with their activity
/// entry, listed per task oldest first (equal times in insertion order).
pub async fn comments_order_and_scope(store: &dyn Store) {
    let w = world(store).await;
    let t1 = task_in(store, &w, TaskKind::Standard).await;
    let t2 = task_in(store, &w, TaskKind::Standard).await;
    let jane = client(&w.contact);
    let sam = staff();
    let c1 = comment(
        &w,
        t1.id,
        &jane,
        "First,\nwith a line break",
        t0() + mins(2),
    );
    let c2 = comment(
        &w,
        t1.id,
        &sam,
        "<script>alert(1)</script> & co",
        t0() + mins(2),
    );
    let c3 = comment(&w, t1.id, &jane, "Third", t0() + mins(3));
    let early = comment(&w, t1.id, &sam, "Backdated", t0() + mins(1));
    let other = comment(&w, t2.id, &jane, "On the other task", t0() + mins(2));
    for c in [&c1, &c2, &c3, &early, &other] {
        let e = ActivityEntry {
            task_id: Some(c.task_id),
            ..entry(
                w.portal.id,
                c.at,
                &c.author,
                ActivityKind::Commented,
                "Workflow task",
            )
        };
        store.add_comment(c, &e, &[]).await.unwrap();
    }
    assert_eq!(
        store.comments(w.portal.id, t1.id).await.unwrap(),
        vec![early, c1, c2, c3],
        "oldest first, equal times in insertion order"
    );
    assert_eq!(
        store.comments(w.portal.id, t2.id).await.unwrap(),
        vec![other]
    );
    let t3 = task_in(store, &w, TaskKind::Standard).await;
    assert_eq!(store.comments(w.portal.id, t3.id).await.unwrap(), vec![]);
    let entries = task_activity(store, w.portal.id, t1.id).await;
    assert_eq!(entries.len(), 4, "one activity entry per comment");
    assert!(entries.iter().all(|e| e.kind == ActivityKind::Commented));
}

/// Questions: listed newest first (equal times, the later-asked first), a duplicate
/// id is `Conflict`; an answer is stored with its activity entry and returned; a
/// second answer is `Conflict` and changes nothing.
pub async fn questions_answered_once(store: &dyn Store) {
    let w = world(store).await;
    let jane = client(&w.contact);
    let q1 = question(&w, "First?", t0() + mins(1));
    let q2 = question(&w, "Second?\nTwo lines.", t0() + mins(2));
    let q3 = question(&w, "Third, same minute?", t0() + mins(2));
    for q in [&q1, &q2, &q3] {
        let e = entry(
            w.portal.id,
            q.asked_at,
            &jane,
            ActivityKind::QuestionAsked,
            &q.text,
        );
        store.add_question(q, &e, &[]).await.unwrap();
    }
    let dup = ClientQuestion {
        text: "Again".to_owned(),
        ..q1.clone()
    };
    let dup_entry = entry(
        w.portal.id,
        t0(),
        &jane,
        ActivityKind::QuestionAsked,
        "Again",
    );
    assert_err!(
        store.add_question(&dup, &dup_entry, &[]).await,
        Error::Conflict { .. }
    );
    assert_eq!(
        store.questions(w.portal.id).await.unwrap(),
        vec![q3.clone(), q2.clone(), q1.clone()],
        "newest first, equal times: the later-asked first"
    );
    assert_eq!(store.activity(w.portal.id, 100).await.unwrap().len(), 3);

    let at = t0() + mins(10);
    let a = answer("Monday at nine.", at);
    let answered_entry = entry(
        w.portal.id,
        at,
        &staff(),
        ActivityKind::QuestionAnswered,
        "",
    );
    let told = super::reminders::parked_mail(&w);
    let told_again = super::reminders::parked_mail(&w);
    let answered = store
        .answer_question(
            w.portal.id,
            q1.id,
            &a,
            &answered_entry,
            std::slice::from_ref(&told),
        )
        .await
        .unwrap();
    assert_eq!(
        store.outbox_message(told.id).await.unwrap(),
        told,
        "the answer's email is queued with it"
    );
    let want = ClientQuestion {
        answer: Some(a.clone()),
        to: None,
        ..q1.clone()
    };
    assert_eq!(answered, want);
    let listed = store.questions(w.portal.id).await.unwrap();
    assert_eq!(listed, vec![q3.clone(), q2, want.clone()]);

    let second = answer("Actually Tuesday.", at + mins(1));
    let second_entry = entry(
        w.portal.id,
        at + mins(1),
        &staff(),
        ActivityKind::QuestionAnswered,
        "",
    );
    assert_err!(
        store
            .answer_question(
                w.portal.id,
                q1.id,
                &second,
                &second_entry,
                std::slice::from_ref(&told_again)
            )
            .await,
        Error::Conflict { .. }
    );
    assert_err!(
        store.outbox_message(told_again.id).await,
        Error::NotFound {
            entity: Entity::Email
        }
    );
    assert_eq!(
        store.questions(w.portal.id).await.unwrap(),
        listed,
        "a second answer changed nothing"
    );
    let feed = store.activity(w.portal.id, 100).await.unwrap();
    assert_eq!(
        feed.len(),
        4,
        "one entry per question and one for the answer"
    );
    assert_eq!(feed[0], answered_entry);
    assert_eq!(
        feed.iter()
            .filter(|e| e.kind == ActivityKind::QuestionAnswered)
            .count(),
        1
    );
}

/// The activity feed: newest first by time, equal times the latest appended first,
/// cut at `limit` (0 gives nothing), whichever call appended the entry.
pub async fn activity_feed_order(store: &dyn Store) {
    let w = world(store).await;
    let t = task_in(store, &w, TaskKind::Standard).await;
    let jane = client(&w.contact);
    let e1 = ActivityEntry {
        task_id: Some(t.id),
        ..entry(
            w.portal.id,
            t0() + mins(1),
            &jane,
            ActivityKind::Commented,
            "e1",
        )
    };
    store
        .add_comment(&comment(&w, t.id, &jane, "one", t0() + mins(1)), &e1, &[])
        .await
        .unwrap();
    let e2 = entry(
        w.portal.id,
        t0() + mins(3),
        &jane,
        ActivityKind::QuestionAsked,
        "e2",
    );
    store
        .add_question(&question(&w, "two", t0() + mins(3)), &e2, &[])
        .await
        .unwrap();
    let e3 = entry(
        w.portal.id,
        t0() + mins(2),
        &jane,
        ActivityKind::QuestionAsked,
        "e3",
    );
    store
        .add_question(&question(&w, "three", t0() + mins(2)), &e3, &[])
        .await
        .unwrap();
    let done = apply(
        &t,
        &TaskAction::Complete { notes: None },
        &jane,
        t0() + mins(3),
    )
    .unwrap();
    let e4 = done.activity.clone();
    store
        .update_task(
            w.portal.id,
            t.id,
            decide(
                TaskAction::Complete { notes: None },
                jane.clone(),
                t0() + mins(3),
            ),
        )
        .await
        .unwrap();
    let all = vec![e4, e2, e3, e1];
    assert_eq!(store.activity(w.portal.id, 100).await.unwrap(), all);
    assert_eq!(
        store.activity(w.portal.id, 2).await.unwrap(),
        all[..2].to_vec()
    );
    assert_eq!(store.activity(w.portal.id, 4).await.unwrap(), all);
    assert_eq!(store.activity(w.portal.id, 0).await.unwrap(), vec![]);
    assert_eq!(store.activity(portal_id(), 10).await.unwrap(), vec![]);
}

/// Branding: `set_tenant_branding` changes the tenant only (its portals keep their
/// copy); `set_portal_branding` changes that one portal only. Missing records are
/// `NotFound`.
pub async fn branding_changes(store: &dyn Store) {
    let tenant = new_tenant(t0());
    store.create_tenant(&tenant).await.unwrap();
    let other_tenant = new_tenant(t0());
    store.create_tenant(&other_tenant).await.unwrap();
    let p1 = new_portal(tenant.id, t0());
    let p2 = new_portal(tenant.id, t0() + secs(1));
    let p3 = new_portal(other_tenant.id, t0());
    for p in [&p1, &p2, &p3] {
        store.create_portal(p, None).await.unwrap();
    }

    let defaults =
        Branding::new("Renamed IT", "#0a3069", "New welcome;\nwith, commas", None).unwrap();
    store
        .set_tenant_branding(tenant.id, &defaults)
        .await
        .unwrap();
    assert_eq!(store.tenant(tenant.id).await.unwrap().branding, defaults);
    assert_eq!(store.tenant(other_tenant.id).await.unwrap(), other_tenant);
    for p in [&p1, &p2, &p3] {
        assert_eq!(
            store.portal(p.id).await.unwrap(),
            *p,
            "portals keep their copy of the branding"
        );
    }

    let own = Branding::new("Contoso's IT team", "#d1242f", "Just for you", None).unwrap();
    store.set_portal_branding(p1.id, &own).await.unwrap();
    let p1_now = store.portal(p1.id).await.unwrap();
    assert_eq!(p1_now.branding, own);
    assert_eq!(
        p1_now,
        crate::model::Portal {
            branding: own.clone(),
            version: p1.version + 1,
            ..p1.clone()
        },
        "only the branding (and so the version) changed"
    );
    assert_eq!(
        store.portal_snapshot(p1.id).await.unwrap().portal.branding,
        own
    );
    assert_eq!(store.portal(p2.id).await.unwrap(), p2);
    assert_eq!(store.portal(p3.id).await.unwrap(), p3);
    assert_eq!(store.tenant(tenant.id).await.unwrap().branding, defaults);

    assert_err!(
        store.set_tenant_branding(tenant_id(), &defaults).await,
        Error::NotFound {
            entity: Entity::Tenant
        }
    );
    assert_err!(
        store.set_portal_branding(portal_id(), &own).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
}

/// Evidence round-trips through `update_task`, `task` and `portal_snapshot`:
/// completion notes, every kind of survey answer, checklist marks by clients and
/// staff, an approval with IP and user agent, a rescheduled meeting, and a task with
/// every kind of evidence at once.
pub async fn evidence_round_trips(store: &dyn Store) {
    let w = world(store).await;
    let jane = client(&w.contact);
    let at = t0() + mins(20);
    let mut written = Vec::new();

    // Standard, completed with notes.
    let standard = task_in(store, &w, TaskKind::Standard).await;
    let notes = "Done: see \"ticket\" #12, ünïcødé ✓\n\ttabbed line";
    let action = TaskAction::Complete {
        notes: Some(notes.to_owned()),
    };
    written.push(
        store
            .update_task(w.portal.id, standard.id, decide(action, jane.clone(), at))
            .await
            .unwrap(),
    );

    // Survey: a draft, then a submission with every answer type.
    let q = |id: &str, kind| Question {
        id: id.to_owned(),
        prompt: format!("Prompt {id}"),
        required: false,
        kind,
    };
    let survey = task_in(
        store,
        &w,
        TaskKind::Survey {
            questions: vec![
                q("text", QuestionKind::LongText { max_len: 500 }),
                q(
                    "one",
                    QuestionKind::SingleSelect {
                        choices: vec!["M365".to_owned(), "Google".to_owned()],
                    },
                ),
                q(
                    "many",
                    QuestionKind::MultiSelect {
                        choices: vec!["A".to_owned(), "B, with comma".to_owned(), "C".to_owned()],
                    },
                ),
                q("score", QuestionKind::Rating { min: -5, max: 5 }),
            ],
        },
    )
    .await;
    let answers = BTreeMap::from([
        (
            "text".to_owned(),
            Answer::Text("Line one\nLine \"two\"; ✓".to_owned()),
        ),
        ("one".to_owned(), Answer::Choice("Google".to_owned())),
        (
            "many".to_owned(),
            Answer::Choices(vec!["A".to_owned(), "B, with comma".to_owned()]),
        ),
        ("score".to_owned(), Answer::Rating(-3)),
    ]);
    let draft = TaskAction::SaveAnswers {
        answers: BTreeMap::from([("score".to_owned(), Answer::Rating(4))]),
        submit: false,
    };
    let saved = store
        .update_task(w.portal.id, survey.id, decide(draft, jane.clone(), at))
        .await
        .unwrap();
    assert_eq!(saved.status, TaskStatus::InProgress);
    assert_eq!(store.task(w.portal.id, survey.id).await.unwrap(), saved);
    let submit = TaskAction::SaveAnswers {
        answers: answers.clone(),
        submit: true,
    };
    let submitted = store
        .update_task(
            w.portal.id,
            survey.id,
            decide(submit, jane.clone(), at + secs(1)),
        )
        .await
        .unwrap();
    assert_eq!(submitted.evidence.answers, answers);
    written.push(submitted);

    // Checklist: one item by the client, one by staff.
    let list = task_in(store, &w, checklist(3)).await;
    for (i, who) in [(0, jane.clone()), (2, staff())] {
        let action = TaskAction::SetItem {
            item: format!("item-{i}"),
            checked: true,
        };
        store
            .update_task(w.portal.id, list.id, decide(action, who, at + secs(i)))
            .await
            .unwrap();
    }
    let list_now = store.task(w.portal.id, list.id).await.unwrap();
    assert_eq!(list_now.evidence.checked.len(), 2);
    assert_eq!(list_now.status, TaskStatus::InProgress);
    written.push(list_now);

    // Approval, rejected, with the request it came from.
    let appr = task_in(store, &w, approval()).await;
    let action = TaskAction::Decide {
        approved: false,
        comment: Some("Not yet; the budget, line two\nis pending".to_owned()),
        request: request(),
        documents: vec![crate::attachments::DecidedDocument {
            name: "Budget.pdf".to_owned(),
            sha256: "ab".repeat(32),
        }],
    };
    let rejected = store
        .update_task(w.portal.id, appr.id, decide(action, jane.clone(), at))
        .await
        .unwrap();
    assert_eq!(
        rejected.evidence.decision,
        Some(ApprovalDecision {
            approved: false,
            comment: Some("Not yet; the budget, line two\nis pending".to_owned()),
            name: w.contact.name.clone(),
            email: w.contact.email.clone(),
            ip: request().ip,
            user_agent: request().user_agent,
            at,
            documents: vec![crate::attachments::DecidedDocument {
                name: "Budget.pdf".to_owned(),
                sha256: "ab".repeat(32),
            }],
        })
    );
    written.push(rejected);

    // Meeting, scheduled then moved: the kind is replaced too.
    let meeting = task_in(store, &w, TaskKind::Meeting { schedule: None }).await;
    for (n, start) in [(0, t0() + mins(24 * 60)), (1, t0() + mins(48 * 60))] {
        let schedule = MeetingSchedule::new(
            start,
            "Europe/Berlin",
            45,
            Some("https://meet.example/kickoff?a=1&b=2"),
            Some("Agenda; items, and\nmore"),
        );
        let moved = store
            .update_task(
                w.portal.id,
                meeting.id,
                decide(TaskAction::Schedule(schedule), staff(), at + mins(n)),
            )
            .await
            .unwrap();
        let TaskKind::Meeting { schedule: Some(s) } = &moved.kind else {
            panic!("the schedule was not stored: {:?}", moved.kind);
        };
        assert_eq!((s.sequence, s.revised_at), (n as u32, Some(at + mins(n))));
    }
    written.push(store.task(w.portal.id, meeting.id).await.unwrap());

    // Everything at once.
    let full = task_in(store, &w, checklist(2)).await;
    let evidence = TaskEvidence {
        completion: Some(Completion {
            by: staff(),
            at,
            notes: None,
        }),
        answers: answers.clone(),
        answers_saved: Some(CheckMark {
            by: jane.clone(),
            at,
        }),
        checked: BTreeMap::from([
            (
                "item-0".to_owned(),
                CheckMark {
                    by: jane.clone(),
                    at,
                },
            ),
            (
                "item-1".to_owned(),
                CheckMark {
                    by: Actor::Staff {
                        name: "No Email".to_owned(),
                        email: None,
                    },
                    at: at + secs(1),
                },
            ),
        ]),
        decision: Some(ApprovalDecision {
            approved: true,
            comment: None,
            name: "Jane".to_owned(),
            email: w.contact.email.clone(),
            ip: Some("198.51.100.7".parse().unwrap()),
            user_agent: None,
            at,
            documents: Vec::new(),
        }),
        previous_decisions: vec![ApprovalDecision {
            approved: false,
            comment: Some("earlier".to_owned()),
            name: "Jane".to_owned(),
            email: w.contact.email.clone(),
            ip: None,
            user_agent: Some("ua".to_owned()),
            at: at - secs(60),
            documents: vec![crate::attachments::DecidedDocument {
                name: "Plan.pdf".to_owned(),
                sha256: "cd".repeat(32),
            }],
        }],
        documents: BTreeMap::from([(
            "diagram".to_owned(),
            crate::workflow::documents::DocumentState {
                status: crate::workflow::DocumentStatus::Rejected,
                current: crate::ids::FileId::from_bytes([9; 16]),
                versions: 3,
                uploaded_at: at - secs(5),
                notes: Some("Please send the\nwhole “diagram”".to_owned()),
                reviewed: Some(CheckMark { by: staff(), at }),
            },
        )]),
        stuck: vec![
            crate::workflow::stuck::StuckReport {
                by: jane.clone(),
                at: at - secs(30),
                reason: "No “admin”\npassword".to_owned(),
                cleared: Some(crate::workflow::stuck::StuckCleared {
                    by: staff(),
                    at: at - secs(20),
                    answer: Some("Sent".to_owned()),
                }),
            },
            crate::workflow::stuck::StuckReport {
                by: jane.clone(),
                at: at - secs(10),
                reason: "Again".to_owned(),
                cleared: None,
            },
        ],
        due_date_requests: vec![crate::workflow::due_dates::DueDateRequest {
            number: 1,
            by: jane.clone(),
            at: at - secs(9),
            from: None,
            to: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            reason: "CFO away".to_owned(),
            decision: Some(crate::workflow::due_dates::DueDateDecision {
                by: staff(),
                at: at - secs(8),
                approved: false,
                note: Some("No".to_owned()),
            }),
        }],
    };
    let all = evidence.clone();
    let set_all: TaskDecision = Arc::new(move |cur: &Task| {
        let task = Task {
            evidence: all.clone(),
            status: TaskStatus::Completed,
            updated_at: at,
            version: 1,
            assigned_to: Vec::new(),
            waits_on: Vec::new(),
            internal: false,
            ..cur.clone()
        };
        let activity = ActivityEntry {
            task_id: Some(cur.id),
            ..entry(
                cur.portal_id,
                at,
                &staff(),
                ActivityKind::TaskCompleted,
                &cur.title,
            )
        };
        Ok(TaskChange { task, activity })
    });
    let full = store
        .update_task(w.portal.id, full.id, set_all)
        .await
        .unwrap();
    assert_eq!(full.evidence, evidence);
    written.push(full);

    let snap = store.portal_snapshot(w.portal.id).await.unwrap();
    for t in &written {
        assert!(!t.evidence.is_empty() || matches!(t.kind, TaskKind::Meeting { .. }));
        assert_eq!(
            &store.task(w.portal.id, t.id).await.unwrap(),
            t,
            "task() of {}",
            t.id
        );
        let in_snap = snap
            .tasks
            .iter()
            .find(|s| s.id == t.id)
            .expect("task in snapshot");
        assert_eq!(
            in_snap, t,
            "portal_snapshot carries the evidence of {}",
            t.id
        );
    }
}
