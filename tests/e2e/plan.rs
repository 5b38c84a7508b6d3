//! What the client sees of the MSP's plan edits, over HTTP: a task that waits for
//! others is shown locked with what it waits for and its action is refused; it
//! unlocks when the last one completes; internal MSP tasks are nowhere (home, task
//! URL, feed, progress).

use super::snapshots::settings;
use portal_core::model::{Side, TaskKind};
use portal_core::service::PlanTaskSpec;
use portal_core::workflow::plan::TaskEdit;
use portal_core::{StaffContext, StaffRole};
use portal_tests::{Harness, Options};

fn staff(h: &Harness) -> StaffContext {
    StaffContext::new(
        h.portal.tenant_id,
        "u-1",
        "Sam Staff",
        None,
        StaffRole::Member,
    )
    .unwrap()
}

#[tokio::test]
async fn a_waiting_task_is_locked_with_what_it_waits_for_then_unlocks() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let sam = staff(&h);
    let (standard, checklist) = (h.tasks["standard"], h.tasks["checklist"]);
    let version = h
        .service
        .plan(&sam, h.portal.id)
        .await
        .unwrap()
        .task(standard)
        .unwrap()
        .version;
    let edit = TaskEdit {
        waits_on: Some(vec![checklist]),
        ..TaskEdit::default()
    };
    h.service
        .edit_task(&sam, h.portal.id, standard, version, edit)
        .await
        .unwrap();

    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    let locked = "<strong>Waiting for:</strong> Prepare workstations";
    assert!(home.body.contains(locked), "{}", home.body);
    let path = format!("/tasks/{standard}");
    let page = b.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(locked));
    assert!(
        !page.body.contains("Mark Complete"),
        "no action offered on a locked task"
    );
    {
        let _guard = settings().bind_to_scope();
        insta::assert_snapshot!("page_task_locked", page.body);
    }
    // A hand-made POST is refused by the core, not only hidden.
    let refused = b
        .post(&format!("{path}/complete"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused
            .text()
            .contains("This task is waiting for: Prepare workstations.")
    );

    // The MSP completes the checklist on the client's behalf: the task unlocks.
    h.service
        .staff_complete(&staff(&h), h.portal.id, checklist, None)
        .await
        .unwrap();
    let page = b.get(&path).await;
    assert!(!page.body.contains("Waiting for:"));
    assert!(page.body.contains("Mark Complete"));
    let home = b.get("/").await;
    assert!(
        home.text()
            .contains("“Confirm opening hours” is ready: everything it waited for is done"),
        "the feed says so"
    );
    let done = b
        .post(&format!("{path}/complete"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(done.status, 303);
}

#[tokio::test]
async fn an_internal_task_is_nowhere_for_the_client() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let sam = staff(&h);
    let before = b.get("/?tab=progress").await;
    let progress = |body: &str| {
        let at = body.find("Overall progress").unwrap();
        body[at..at + 120].to_owned()
    };
    let phase = h.service.plan(&sam, h.portal.id).await.unwrap().phases[0].id;
    let internal = h
        .service
        .add_plan_task(
            &sam,
            h.portal.id,
            phase,
            PlanTaskSpec {
                for_role: None,
                title: "Rotate the domain admin password".into(),
                description: "Internal only.".into(),
                assignee: Side::Msp,
                kind: TaskKind::Standard,
                due_date: None,
                assigned_to: Vec::new(),
                waits_on: Vec::new(),
                internal: true,
            },
            None,
        )
        .await
        .unwrap();
    h.service
        .staff_complete(&staff(&h), h.portal.id, internal.id, None)
        .await
        .unwrap();
    for tab in ["/", "/?tab=progress", "/?tab=documents", "/?tab=approvals"] {
        let page = b.get(tab).await;
        assert_eq!(page.status, 200);
        assert!(
            !page.body.contains("Rotate the domain admin password"),
            "{tab} shows the internal task or its activity"
        );
    }
    let after = b.get("/?tab=progress").await;
    assert_eq!(
        progress(&after.body),
        progress(&before.body),
        "internal tasks don't count in the client's progress"
    );
    let page = b.get(&format!("/tasks/{}", internal.id)).await;
    assert_eq!(page.status, 404);
    assert!(!page.body.contains("Rotate the domain admin password"));
    // The MSP still sees it whole.
    let plan = h.service.plan(&sam, h.portal.id).await.unwrap();
    assert!(plan.tasks.iter().any(|t| t.id == internal.id && t.internal));
}

#[tokio::test]
async fn assigned_tasks_say_to_whom() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let sam = staff(&h);
    let ann = h
        .service
        .add_contact(&sam, h.portal.id, "Ann Lee", "ann.lee@example.com")
        .await
        .unwrap();
    let (standard, training) = (h.tasks["standard"], h.tasks["training"]);
    for (task, who) in [(standard, ann.id), (training, h.contact.id)] {
        let edit = TaskEdit {
            assigned_to: Some(vec![who]),
            ..TaskEdit::default()
        };
        h.service
            .edit_task(&sam, h.portal.id, task, 1, edit)
            .await
            .unwrap();
    }
    let home = b.get("/").await;
    assert!(
        home.body
            .contains(r#"<p class="hint assigned">Assigned to Ann Lee</p>"#)
    );
    assert!(
        home.body
            .contains(r#"<p class="hint assigned">Assigned to you</p>"#)
    );
    let page = b.get(&format!("/tasks/{training}")).await;
    assert!(page.body.contains("Assigned to you"));
}
