//! The workflow store, directly: task updates, refusals, comments, questions, the feed
//! and branding.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::model::{
    Branding, EmailAddress, Phase, Portal, PortalStatus, Side, Task, TaskKind, TaskStatus, Tenant,
};
use portal_core::store::TaskDecision;
use portal_core::testkit::t0;
use portal_core::workflow::survey::Answer;
use portal_core::workflow::{
    ActivityEntry, ActivityKind, Actor, CheckMark, ClientQuestion, Comment, Completion,
    QuestionAnswer, TaskChange, TaskEvidence,
};
use portal_core::{
    Entity, Error, PhaseId, PortalId, QuestionId, SeededRandom, Store, TaskId, TenantId,
    WorkflowStore,
};
use portal_storage_sqlite::SqliteStore;

use crate::{fresh_store, temp_db};

/// A tenant, a portal with one phase, and one client task in it.
struct Plan {
    tenant: Tenant,
    portal: Portal,
    phase: Phase,
    task: Task,
}

fn at(seconds: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(seconds)
}

fn staff() -> Actor {
    Actor::Staff {
        name: "Sam Staff".into(),
        email: Some(EmailAddress::parse("sam@msp.example").unwrap()),
    }
}

async fn plan(store: &dyn Store, seed: u64) -> Plan {
    let rng = SeededRandom::new(seed);
    let branding = Branding::new("Acme IT", "#1f6feb", "Welcome", None).unwrap();
    let tenant = Tenant {
        id: TenantId::random(&rng),
        name: "Acme MSP".into(),
        branding: branding.clone(),
        notification_recipients: vec![],
        time_zone: Default::default(),
        created_at: at(0),
        base_url: None,
        sender: None,
        version: portal_core::model::first_version(),
    };
    store.create_tenant(&tenant).await.unwrap();
    let portal = Portal {
        id: PortalId::random(&rng),
        tenant_id: tenant.id,
        client_name: "Client Co".into(),
        status: PortalStatus::Active,
        branding,
        created_at: at(0),
        target_date: None,
        version: portal_core::model::first_version(),
        colleague_invitations: Default::default(),
    };
    store.create_portal(&portal, None).await.unwrap();
    let phase = store
        .add_phase(portal.id, PhaseId::random(&rng), "Kickoff", None)
        .await
        .unwrap();
    let task = store
        .add_task(
            &Task {
                for_role: None,
                id: TaskId::random(&rng),
                portal_id: portal.id,
                phase_id: phase.id,
                position: 0,
                title: "Fill in the form".into(),
                description: "Please.".into(),
                assignee: Side::Client,
                kind: TaskKind::Standard,
                status: TaskStatus::Pending,
                blocked_reason: None,
                due_date: None,
                evidence: TaskEvidence::default(),
                created_at: at(0),
                updated_at: at(0),
                version: 1,
                assigned_to: Vec::new(),
                waits_on: Vec::new(),
                internal: false,
            },
            None,
        )
        .await
        .unwrap();
    Plan {
        tenant,
        portal,
        phase,
        task,
    }
}

fn entry(portal: PortalId, task: Option<TaskId>, kind: ActivityKind, t: i64) -> ActivityEntry {
    ActivityEntry {
        portal_id: portal,
        at: at(t),
        actor: staff(),
        kind,
        task_id: task,
        subject: "Fill in the form".into(),
        detail: Some(format!("at {t}")),
    }
}

pub(crate) fn evidence() -> TaskEvidence {
    let mark = CheckMark {
        by: staff(),
        at: at(5),
    };
    TaskEvidence {
        completion: Some(Completion {
            by: staff(),
            at: at(5),
            notes: Some("Done\nwith notes".into()),
        }),
        answers: BTreeMap::from([("q1".to_owned(), Answer::Text("yes".into()))]),
        answers_saved: Some(mark.clone()),
        checked: BTreeMap::from([("item".to_owned(), mark)]),
        decision: None,
        previous_decisions: Vec::new(),
        documents: BTreeMap::new(),
        stuck: Vec::new(),
        due_date_requests: Vec::new(),
    }
}

/// A decision that completes the task with [`evidence`] and tries to move it too.
pub(crate) fn complete(calls: Arc<AtomicUsize>) -> TaskDecision {
    Arc::new(move |task: &Task| {
        calls.fetch_add(1, Ordering::SeqCst);
        let mut next = task.clone();
        next.status = TaskStatus::Completed;
        next.title = "Form filled".into();
        next.evidence = evidence();
        next.updated_at = at(5);
        // These must stay as stored.
        next.id = TaskId::random(&SeededRandom::new(99));
        next.position = 42;
        next.created_at = at(1000);
        Ok(TaskChange {
            activity: entry(
                task.portal_id,
                Some(task.id),
                ActivityKind::TaskCompleted,
                5,
            ),
            task: next,
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_task_round_trips_evidence() {
    let (_dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let p = plan(store.as_ref(), 1).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let updated = store
        .update_task(p.portal.id, p.task.id, complete(calls.clone()))
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1, "decided once");
    let expected = Task {
        status: TaskStatus::Completed,
        title: "Form filled".into(),
        evidence: evidence(),
        updated_at: at(5),
        version: 2,
        ..p.task.clone()
    };
    assert_eq!(
        updated, expected,
        "identity, place and creation time stay; the version is raised"
    );
    assert_eq!(store.task(p.portal.id, p.task.id).await.unwrap(), expected);
    let snapshot = store.portal_snapshot(p.portal.id).await.unwrap();
    assert_eq!(snapshot.tasks, vec![expected.clone()]);
    let feed = store.activity(p.portal.id, 10).await.unwrap();
    assert_eq!(
        feed,
        vec![entry(
            p.portal.id,
            Some(p.task.id),
            ActivityKind::TaskCompleted,
            5
        )]
    );
    drop(store);

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.task(p.portal.id, p.task.id).await.unwrap(), expected);
    assert_eq!(store.activity(p.portal.id, 10).await.unwrap(), feed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_decision_writes_nothing() {
    let (_dir, store) = fresh_store().await;
    let p = plan(store.as_ref(), 2).await;

    let refuse: TaskDecision = Arc::new(|_task: &Task| {
        Err(Error::Forbidden {
            reason: "not yours".into(),
        })
    });
    match store.update_task(p.portal.id, p.task.id, refuse).await {
        Err(Error::Forbidden { reason }) => assert_eq!(reason, "not yours"),
        other => panic!("the decision's error comes back unchanged, got {other:?}"),
    }
    let conflict: TaskDecision = Arc::new(|_task: &Task| Err(Error::conflict("already completed")));
    assert!(matches!(
        store.update_task(p.portal.id, p.task.id, conflict).await,
        Err(Error::Conflict { reason }) if reason == "already completed"
    ));

    // The wrong portal: NotFound, and the decision is never asked.
    let other = plan(store.as_ref(), 3).await;
    let calls = Arc::new(AtomicUsize::new(0));
    assert!(matches!(
        store
            .update_task(other.portal.id, p.task.id, complete(calls.clone()))
            .await,
        Err(Error::NotFound {
            entity: Entity::Task
        })
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // A change whose activity entry names another portal is refused whole.
    let foreign_portal = other.portal.id;
    let foreign: TaskDecision = Arc::new(move |task: &Task| {
        let mut next = task.clone();
        next.status = TaskStatus::Completed;
        Ok(TaskChange {
            task: next,
            activity: entry(foreign_portal, None, ActivityKind::TaskCompleted, 1),
        })
    });
    assert!(matches!(
        store.update_task(p.portal.id, p.task.id, foreign).await,
        Err(Error::Invalid {
            field: "activity",
            ..
        })
    ));

    assert_eq!(store.task(p.portal.id, p.task.id).await.unwrap(), p.task);
    assert!(store.activity(p.portal.id, 10).await.unwrap().is_empty());
    assert!(
        store
            .activity(other.portal.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Concurrent updates of one task each see the previous one's result.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_are_serialised() {
    let (_dir, store) = fresh_store().await;
    let p = plan(store.as_ref(), 4).await;
    const N: usize = 64;
    let bump: TaskDecision = Arc::new(|task: &Task| {
        let n: usize = task.description.parse().unwrap_or(0);
        let mut next = task.clone();
        next.description = (n + 1).to_string();
        Ok(TaskChange {
            activity: entry(
                task.portal_id,
                Some(task.id),
                ActivityKind::ProgressSaved,
                1,
            ),
            task: next,
        })
    });
    let mut handles = Vec::with_capacity(N);
    for _ in 0..N {
        let (store, bump) = (store.clone(), bump.clone());
        let (portal, task) = (p.portal.id, p.task.id);
        handles.push(tokio::spawn(async move {
            store.update_task(portal, task, bump).await
        }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    let task = store.task(p.portal.id, p.task.id).await.unwrap();
    assert_eq!(task.description, N.to_string());
    assert_eq!(store.activity(p.portal.id, 1000).await.unwrap().len(), N);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_questions_and_the_feed_are_ordered() {
    let (_dir, store) = fresh_store().await;
    let p = plan(store.as_ref(), 5).await;
    let other = plan(store.as_ref(), 6).await;
    let comment = |body: &str, t: i64| Comment {
        portal_id: p.portal.id,
        task_id: p.task.id,
        author: staff(),
        body: body.into(),
        at: at(t),
    };
    let commented = |t| entry(p.portal.id, Some(p.task.id), ActivityKind::Commented, t);
    // Two comments share a time: they keep their insertion order.
    for (body, t) in [("first", 10), ("second", 10), ("third", 11)] {
        store
            .add_comment(&comment(body, t), &commented(t), &[])
            .await
            .unwrap();
    }
    let bodies: Vec<String> = store
        .comments(p.portal.id, p.task.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.body)
        .collect();
    assert_eq!(bodies, ["first", "second", "third"], "oldest first");
    // Through another portal: NotFound, for reading and for writing.
    assert!(matches!(
        store.comments(other.portal.id, p.task.id).await,
        Err(Error::NotFound {
            entity: Entity::Task
        })
    ));
    let stray = Comment {
        portal_id: other.portal.id,
        ..comment("stray", 12)
    };
    assert!(matches!(
        store
            .add_comment(
                &stray,
                &entry(other.portal.id, None, ActivityKind::Commented, 12),
                &[]
            )
            .await,
        Err(Error::NotFound {
            entity: Entity::Task
        })
    ));
    assert!(
        store
            .comments(other.portal.id, other.task.id)
            .await
            .unwrap()
            .is_empty()
    );

    let rng = SeededRandom::new(7);
    let question = |text: &str, t: i64| ClientQuestion {
        id: QuestionId::random(&rng),
        portal_id: p.portal.id,
        asked_by: staff(),
        text: text.into(),
        asked_at: at(t),
        answer: None,
        to: None,
    };
    let asked = |t| entry(p.portal.id, None, ActivityKind::QuestionAsked, t);
    let (q1, q2, q3) = (
        question("one", 20),
        question("two", 20),
        question("three", 19),
    );
    for q in [&q1, &q2, &q3] {
        store
            .add_question(q, &asked(q.asked_at.timestamp() - t0().timestamp()), &[])
            .await
            .unwrap();
    }
    assert!(matches!(
        store.add_question(&q1, &asked(20), &[]).await,
        Err(Error::Conflict { .. })
    ));
    let texts: Vec<String> = store
        .questions(p.portal.id)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.text)
        .collect();
    assert_eq!(
        texts,
        ["two", "one", "three"],
        "newest first, ties newest first"
    );

    let answer = QuestionAnswer {
        by: staff(),
        text: "Yes.".into(),
        at: at(30),
    };
    let answered = entry(p.portal.id, None, ActivityKind::QuestionAnswered, 30);
    assert!(matches!(
        store
            .answer_question(other.portal.id, q1.id, &answer, &answered, &[])
            .await,
        Err(Error::NotFound {
            entity: Entity::Question
        })
    ));
    let got = store
        .answer_question(p.portal.id, q1.id, &answer, &answered, &[])
        .await
        .unwrap();
    assert_eq!(
        got,
        ClientQuestion {
            answer: Some(answer.clone()),
            to: None,
            ..q1.clone()
        }
    );
    assert!(matches!(
        store
            .answer_question(p.portal.id, q1.id, &answer, &answered, &[])
            .await,
        Err(Error::Conflict { .. })
    ));
    let stored = store.questions(p.portal.id).await.unwrap();
    assert_eq!(stored.iter().find(|q| q.id == q1.id), Some(&got));

    let feed: Vec<(ActivityKind, DateTime<Utc>)> = store
        .activity(p.portal.id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.at))
        .collect();
    assert_eq!(feed.len(), 7, "3 comments, 3 questions, 1 answer");
    assert!(feed.windows(2).all(|w| w[0].1 >= w[1].1), "newest first");
    assert_eq!(feed[0].0, ActivityKind::QuestionAnswered);
    let feed_details: Vec<Option<String>> = store
        .activity(p.portal.id, 3)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect();
    assert_eq!(feed_details.len(), 3, "limited");
    assert!(
        store
            .activity(other.portal.id, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.activity(p.portal.id, 0).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branding_changes_only_its_row() {
    let (_dir, store) = fresh_store().await;
    let p = plan(store.as_ref(), 8).await;
    let new = Branding::new("Acme Blue", "#0000ff", "Hello", None).unwrap();
    store.set_tenant_branding(p.tenant.id, &new).await.unwrap();
    assert_eq!(store.tenant(p.tenant.id).await.unwrap().branding, new);
    assert_eq!(
        store.portal(p.portal.id).await.unwrap().branding,
        p.portal.branding,
        "portals keep their copy"
    );
    let mine = Branding::new("Acme Red", "#ff0000", "Hi", None).unwrap();
    store.set_portal_branding(p.portal.id, &mine).await.unwrap();
    assert_eq!(store.portal(p.portal.id).await.unwrap().branding, mine);
    assert_eq!(store.tenant(p.tenant.id).await.unwrap().branding, new);
    let rng = SeededRandom::new(9);
    assert!(matches!(
        store
            .set_tenant_branding(TenantId::random(&rng), &new)
            .await,
        Err(Error::NotFound {
            entity: Entity::Tenant
        })
    ));
    assert!(matches!(
        store
            .set_portal_branding(PortalId::random(&rng), &new)
            .await,
        Err(Error::NotFound {
            entity: Entity::Portal
        })
    ));
    let _ = p.phase;
}
