//! Standard, checklist, approval and training tasks; blocking, reopening, who may act
//! where, and branding.

use chrono::TimeDelta;
use portal_core::model::{Branding, PortalStatus, Progress, Side, TaskKind, TaskStatus};
use portal_core::service::client_actor;
use portal_core::testkit::request as req;
use portal_core::workflow::{ActivityKind, CheckMark, Completion};
use portal_core::{Entity, Error, PortalId, SeededRandom};

use super::{items, spec, staff, x_of_y};
use crate::{Harness, assert_err};

#[tokio::test]
async fn mark_complete_records_who_when_and_notes() {
    let h = Harness::new(100).await;
    let (ctx, phase) = h.client().await;
    let t = h
        .task(
            phase,
            "Confirm office hours",
            Side::Client,
            TaskKind::Standard,
        )
        .await;
    h.task(phase, "Order hardware", Side::Msp, TaskKind::Standard)
        .await;
    assert_eq!(
        h.progress().await,
        Progress {
            completed: 0,
            total: 2
        }
    );

    h.clock.advance(TimeDelta::minutes(5));
    let done = h
        .service
        .complete_task(
            &ctx,
            t.id,
            Some("  Mon–Fri 8–6;\r\nclosed on holidays  ".to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(
        done.evidence.completion,
        Some(Completion {
            by: client_actor(&ctx),
            at: h.now(),
            notes: Some("Mon–Fri 8–6;\nclosed on holidays".to_owned()),
        })
    );
    assert_eq!(done.updated_at, h.now());
    assert_eq!(h.stored(t.id).await, done);
    assert_eq!(
        h.progress().await,
        Progress {
            completed: 1,
            total: 2
        }
    );
    assert_eq!(h.progress().await.percent(), 50);

    let feed = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 10)
            .await
            .unwrap()
            .items,
    );
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].kind, ActivityKind::TaskCompleted);
    assert_eq!(feed[0].actor, client_actor(&ctx));
    assert_eq!(feed[0].at, h.now());
    assert_eq!(feed[0].task_id, Some(t.id));
    assert_eq!(feed[0].subject, "Confirm office hours");
    assert_eq!(
        feed[0].detail.as_deref(),
        Some("Mon–Fri 8–6;\nclosed on holidays")
    );
    assert_eq!(
        feed[0].summary(),
        "Jane Doe completed “Confirm office hours”"
    );

    assert_err(h.service.complete_task(&ctx, t.id, None).await, |e| {
        matches!(e, Error::Conflict { .. })
    });
    assert_eq!(
        h.stored(t.id).await,
        done,
        "a second completion changed nothing"
    );
    assert_eq!(
        crate::after_setup(
            h.service
                .staff_activity(&h.staff, h.portal.id, None, 10)
                .await
                .unwrap()
                .items
        )
        .len(),
        1
    );
}

#[tokio::test]
async fn checklist_by_client_and_staff() {
    let h = Harness::new(102).await;
    let (ctx, phase) = h.client().await;
    let t = h
        .task(
            phase,
            "Prepare the office",
            Side::Client,
            items(&["Badge", "Desk", "Wi-Fi"]),
        )
        .await;
    let jane = client_actor(&ctx);
    assert_eq!(x_of_y(&t), (0, 3));

    h.clock.advance(TimeDelta::minutes(1));
    let t1 = h.now();
    let after = h
        .service
        .set_checklist_item(&ctx, t.id, "i0", true)
        .await
        .unwrap();
    assert_eq!(
        (x_of_y(&after), after.status),
        ((1, 3), TaskStatus::InProgress)
    );
    h.clock.advance(TimeDelta::minutes(1));
    let t2 = h.now();
    let after = h
        .service
        .staff_set_checklist_item(&h.staff, h.portal.id, t.id, "i1", true)
        .await
        .unwrap();
    assert_eq!(x_of_y(&after), (2, 3));
    assert_eq!(
        after.evidence.checked["i0"],
        CheckMark {
            by: jane.clone(),
            at: t1
        }
    );
    assert_eq!(
        after.evidence.checked["i1"],
        CheckMark {
            by: staff(),
            at: t2
        }
    );

    // Unchecking before completion works (and unchecking twice does not).
    h.clock.advance(TimeDelta::minutes(1));
    let after = h
        .service
        .set_checklist_item(&ctx, t.id, "i0", false)
        .await
        .unwrap();
    assert_eq!(
        (x_of_y(&after), after.status),
        ((1, 3), TaskStatus::InProgress)
    );
    assert!(!after.evidence.checked.contains_key("i0"));
    assert_err(
        h.service.set_checklist_item(&ctx, t.id, "i0", false).await,
        |e| matches!(e, Error::Conflict { .. }),
    );
    assert_err(
        h.service.set_checklist_item(&ctx, t.id, "nope", true).await,
        |e| matches!(e, Error::Invalid { .. }),
    );

    h.clock.advance(TimeDelta::minutes(1));
    h.service
        .set_checklist_item(&ctx, t.id, "i0", true)
        .await
        .unwrap();
    let done = h
        .service
        .set_checklist_item(&ctx, t.id, "i2", true)
        .await
        .unwrap();
    assert_eq!(
        (x_of_y(&done), done.status),
        ((3, 3), TaskStatus::Completed)
    );
    assert_eq!(
        done.evidence.checked["i2"],
        CheckMark {
            by: jane.clone(),
            at: h.now()
        }
    );
    assert_eq!(h.stored(t.id).await, done);
    // The last tick was a mistake: the client takes it back, the task reopens (issue
    // 14), and ticking it again completes it again.
    let reopened = h
        .service
        .set_checklist_item(&ctx, t.id, "i2", false)
        .await
        .unwrap();
    assert_eq!(
        (x_of_y(&reopened), reopened.status),
        ((2, 3), TaskStatus::InProgress)
    );
    let done = h
        .service
        .set_checklist_item(&ctx, t.id, "i2", true)
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(h.stored(t.id).await, done);

    let feed = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 10)
            .await
            .unwrap()
            .items,
    );
    let kinds: Vec<ActivityKind> = feed.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            // Newest first: the last check completed the task, its untick reopened
            // it, and ticking it again completed it again.
            ActivityKind::TaskCompleted,
            ActivityKind::TaskReopened,
            ActivityKind::TaskCompleted,
            ActivityKind::ItemChecked,
            ActivityKind::ItemUnchecked,
            ActivityKind::ItemChecked,
            ActivityKind::ItemChecked,
        ]
    );
    assert_eq!(feed[0].detail.as_deref(), Some("Wi-Fi"));
    assert_eq!(feed[1].detail.as_deref(), Some("Wi-Fi"));
    assert_eq!(feed[1].actor, jane);
    assert_eq!(feed[5].actor, staff());
}

#[tokio::test]
async fn approval_records_the_decider_and_decides_once() {
    let h = Harness::new(103).await;
    let (ctx, phase) = h.client().await;
    let approve = h
        .task(
            phase,
            "Approve the project plan",
            Side::Client,
            TaskKind::Approval { document: None },
        )
        .await;
    let reject = h
        .task(
            phase,
            "Approve the quote",
            Side::Client,
            TaskKind::Approval { document: None },
        )
        .await;

    h.clock.advance(TimeDelta::minutes(3));
    let request = req();
    let approved = h
        .service
        .decide_approval(&ctx, approve.id, true, None, &request)
        .await
        .unwrap();
    let d = approved.evidence.decision.clone().unwrap();
    assert!(d.approved);
    assert_eq!(d.name, "Jane Doe");
    assert_eq!(d.email.as_str(), "jane.doe@contoso.example");
    assert_eq!(d.ip, Some("198.51.100.23".parse().unwrap()));
    assert_eq!(d.user_agent.as_deref(), Some("Mozilla/5.0 (test)"));
    assert_eq!(d.at, h.now());
    assert_eq!(d.at.to_rfc3339(), "2026-11-28T10:03:00+00:00", "UTC");
    assert_eq!(d.comment, None);
    assert_eq!(approved.status, TaskStatus::Completed);

    h.clock.advance(TimeDelta::minutes(1));
    for second in [true, false] {
        assert_err(
            h.service
                .decide_approval(&ctx, approve.id, second, None, &request)
                .await,
            |e| matches!(e, Error::Conflict { .. }),
        );
    }
    assert_eq!(
        h.stored(approve.id).await,
        approved,
        "a second decision changed nothing"
    );

    let rejected = h
        .service
        .decide_approval(
            &ctx,
            reject.id,
            false,
            Some("Too expensive; try again".to_owned()),
            &request,
        )
        .await
        .unwrap();
    let d = rejected.evidence.decision.clone().unwrap();
    assert!(!d.approved);
    assert_eq!(d.comment.as_deref(), Some("Too expensive; try again"));
    assert_eq!(rejected.status, TaskStatus::Completed);

    let feed = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 10)
            .await
            .unwrap()
            .items,
    );
    assert_eq!(feed.len(), 2);
    assert_eq!(feed[0].kind, ActivityKind::Rejected);
    assert_eq!(feed[0].detail.as_deref(), Some("Too expensive; try again"));
    assert_eq!(feed[1].kind, ActivityKind::Approved);
}

#[tokio::test]
async fn training_tasks_accept_only_youtube_vimeo_and_loom() {
    let h = Harness::new(105).await;
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Training")
        .await
        .unwrap();
    let training = |url: &str| {
        spec(
            "Watch the intro",
            Side::Client,
            TaskKind::Training {
                video_url: url.to_owned(),
            },
        )
    };
    for bad in [
        "https://evil.example/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        "javascript:alert(1)",
        "https://dailymotion.com/video/x7tgad0",
        "",
    ] {
        assert_err(
            h.service
                .add_task(&h.staff, h.portal.id, phase.id, training(bad))
                .await,
            |e| matches!(e, Error::Invalid { .. }),
        );
    }
    let snap = h
        .service
        .store()
        .portal_snapshot(h.portal.id)
        .await
        .unwrap();
    assert!(snap.tasks.is_empty(), "no refused task was stored");
    for good in [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://vimeo.com/76979871",
        "https://www.loom.com/share/0123456789abcdef0123456789abcdef",
    ] {
        let t = h
            .service
            .add_task(&h.staff, h.portal.id, phase.id, training(good))
            .await
            .unwrap();
        assert_eq!(
            t.kind,
            TaskKind::Training {
                video_url: good.to_owned()
            }
        );
    }
}

#[tokio::test]
async fn staff_block_unblock_and_reopen() {
    let h = Harness::new(106).await;
    let (ctx, phase) = h.client().await;
    let list = h
        .task(
            phase,
            "Set up devices",
            Side::Client,
            items(&["Laptop", "Phone"]),
        )
        .await;
    let plain = h
        .task(phase, "Sign the NDA", Side::Client, TaskKind::Standard)
        .await;
    h.service
        .set_checklist_item(&ctx, list.id, "i0", true)
        .await
        .unwrap();

    h.clock.advance(TimeDelta::minutes(1));
    let reason = "Waiting for the laptop delivery";
    let blocked = h
        .service
        .block_task(&h.staff, h.portal.id, list.id, reason)
        .await
        .unwrap();
    assert_eq!(blocked.status, TaskStatus::Blocked);
    assert_eq!(blocked.blocked_reason.as_deref(), Some(reason));
    let blocked_plain = h
        .service
        .block_task(&h.staff, h.portal.id, plain.id, "Legal review")
        .await
        .unwrap();
    assert_err(
        h.service
            .block_task(&h.staff, h.portal.id, plain.id, "   ")
            .await,
        |e| matches!(e, Error::Invalid { .. }),
    );
    let feed_len = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 100)
            .await
            .unwrap()
            .items,
    )
    .len();

    h.clock.advance(TimeDelta::minutes(1));
    match h
        .service
        .set_checklist_item(&ctx, list.id, "i1", true)
        .await
    {
        Err(Error::Conflict { reason: why }) => assert!(why.contains(reason), "{why}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_err(
        h.service
            .set_checklist_item(&ctx, list.id, "i0", false)
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );
    assert_err(h.service.complete_task(&ctx, plain.id, None).await, |e| {
        matches!(e, Error::Conflict { .. })
    });
    assert_eq!(
        h.stored(list.id).await,
        blocked,
        "refused client actions changed nothing"
    );
    assert_eq!(h.stored(plain.id).await, blocked_plain);
    assert_eq!(
        crate::after_setup(
            h.service
                .staff_activity(&h.staff, h.portal.id, None, 100)
                .await
                .unwrap()
                .items
        )
        .len(),
        feed_len
    );

    let unblocked = h
        .service
        .unblock_task(&h.staff, h.portal.id, list.id)
        .await
        .unwrap();
    assert_eq!(
        unblocked.status,
        TaskStatus::InProgress,
        "derived from the one checked item"
    );
    assert_eq!(unblocked.blocked_reason, None);
    let unblocked_plain = h
        .service
        .unblock_task(&h.staff, h.portal.id, plain.id)
        .await
        .unwrap();
    assert_eq!(unblocked_plain.status, TaskStatus::Pending);
    assert_err(
        h.service
            .unblock_task(&h.staff, h.portal.id, plain.id)
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );

    // Reopen a completed task; the client can then complete it again.
    let done = h
        .service
        .complete_task(&ctx, plain.id, Some("Signed".to_owned()))
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert_err(
        h.service
            .block_task(&h.staff, h.portal.id, plain.id, "Too late")
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );
    h.clock.advance(TimeDelta::minutes(1));
    let reopened = h
        .service
        .reopen_task(&h.staff, h.portal.id, plain.id)
        .await
        .unwrap();
    assert_eq!(reopened.status, TaskStatus::Pending);
    assert_eq!(reopened.evidence.completion, None);
    assert_err(
        h.service.reopen_task(&h.staff, h.portal.id, plain.id).await,
        |e| matches!(e, Error::Conflict { .. }),
    );
    let again = h.service.complete_task(&ctx, plain.id, None).await.unwrap();
    assert_eq!(again.status, TaskStatus::Completed);

    let feed = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 100)
            .await
            .unwrap()
            .items,
    );
    let blocked_entry = feed
        .iter()
        .find(|e| e.kind == ActivityKind::TaskBlocked && e.task_id == Some(list.id))
        .unwrap();
    assert_eq!(blocked_entry.detail.as_deref(), Some(reason));
    assert_eq!(blocked_entry.actor, staff());
    assert!(feed.iter().any(|e| e.kind == ActivityKind::TaskReopened));
    assert!(feed.iter().any(|e| e.kind == ActivityKind::TaskUnblocked));
}

#[tokio::test]
async fn client_cannot_act_on_msp_tasks_or_other_portals() {
    let h = Harness::new(107).await;
    let (ctx, phase) = h.client().await;
    let msp = h
        .task(
            phase,
            "Configure the firewall",
            Side::Msp,
            TaskKind::Standard,
        )
        .await;
    let msp_list = h
        .task(phase, "MSP checklist", Side::Msp, items(&["One"]))
        .await;
    assert_err(h.service.complete_task(&ctx, msp.id, None).await, |e| {
        matches!(e, Error::Forbidden { .. })
    });
    assert_err(
        h.service
            .set_checklist_item(&ctx, msp_list.id, "i0", true)
            .await,
        |e| matches!(e, Error::Forbidden { .. }),
    );
    assert_eq!(h.stored(msp.id).await, msp);
    assert_eq!(h.stored(msp_list.id).await, msp_list);
    // Staff do it.
    let done = h
        .service
        .staff_complete(&h.staff, h.portal.id, msp.id, None)
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    h.service
        .staff_set_checklist_item(&h.staff, h.portal.id, msp_list.id, "i0", true)
        .await
        .unwrap();

    // Another portal's task, through this client's portal.
    let other = h
        .service
        .create_portal(&h.staff, "Fabrikam", PortalStatus::Active)
        .await
        .unwrap();
    let other_phase = h
        .service
        .add_phase(&h.staff, other.id, "Theirs")
        .await
        .unwrap();
    let theirs = h
        .service
        .add_task(
            &h.staff,
            other.id,
            other_phase.id,
            spec("Their task", Side::Client, TaskKind::Standard),
        )
        .await
        .unwrap();
    let not_found = |e: &Error| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::Task
            }
        )
    };
    assert_err(
        h.service.complete_task(&ctx, theirs.id, None).await,
        not_found,
    );
    assert_err(h.service.task(&ctx, theirs.id).await, not_found);
    assert_err(h.service.comments(&ctx, theirs.id).await, not_found);
    assert_err(
        h.service.add_comment(&ctx, theirs.id, "hi").await,
        not_found,
    );
    assert_err(h.service.meeting_ics(&ctx, theirs.id).await, not_found);
    assert_err(
        h.service
            .set_checklist_item(&ctx, theirs.id, "i0", true)
            .await,
        not_found,
    );
    assert_eq!(
        h.service
            .staff_task(&h.staff, other.id, theirs.id)
            .await
            .unwrap(),
        theirs,
        "unchanged"
    );
    assert!(
        crate::after_setup(
            h.service
                .staff_activity(&h.staff, other.id, None, 10)
                .await
                .unwrap()
                .items
        )
        .is_empty()
    );
}

#[tokio::test]
async fn branding_updates_affect_new_portals_or_one_portal() {
    let h = Harness::new(111).await;
    let before = h
        .service
        .create_portal(&h.staff, "Fabrikam", PortalStatus::Active)
        .await
        .unwrap();
    let rebrand = Branding::new("Northwind Cloud", "#d1242f", "Hello again", None).unwrap();
    h.service
        .update_tenant_branding(&h.staff, rebrand.clone())
        .await
        .unwrap();
    assert_eq!(
        h.service
            .store()
            .tenant(h.tenant.id)
            .await
            .unwrap()
            .branding,
        rebrand
    );
    let store = h.service.store();
    assert_eq!(
        store.portal(h.portal.id).await.unwrap(),
        h.portal,
        "existing portals keep theirs"
    );
    assert_eq!(store.portal(before.id).await.unwrap(), before);
    let after = h
        .service
        .create_portal(&h.staff, "Litware", PortalStatus::Draft)
        .await
        .unwrap();
    assert_eq!(
        after.branding, rebrand,
        "new portals start from the new defaults"
    );

    let own = Branding::new("Northwind for Fabrikam", "#0a3069", "Just for you", None).unwrap();
    h.service
        .update_portal_branding(&h.staff, before.id, own.clone())
        .await
        .unwrap();
    assert_eq!(store.portal(before.id).await.unwrap().branding, own);
    assert_eq!(store.portal(h.portal.id).await.unwrap(), h.portal);
    assert_eq!(store.portal(after.id).await.unwrap().branding, rebrand);
    assert_eq!(store.tenant(h.tenant.id).await.unwrap().branding, rebrand);
    assert_err(
        h.service
            .update_portal_branding(&h.staff, PortalId::random(&SeededRandom::new(1)), own)
            .await,
        |e| {
            matches!(
                e,
                Error::NotFound {
                    entity: Entity::Portal
                }
            )
        },
    );
}

#[tokio::test]
async fn a_client_completion_tells_the_msp_and_a_staff_one_does_not() {
    let h = Harness::new(131).await;
    let (ctx, phase) = h.client().await;
    let mine = h
        .task(
            phase,
            "Confirm office hours",
            Side::Client,
            TaskKind::Standard,
        )
        .await;
    let theirs = h
        .task(
            phase,
            "Send the asset list",
            Side::Client,
            TaskKind::Standard,
        )
        .await;
    let before = super::staff_emails(&h).len();
    h.clock.advance(TimeDelta::minutes(5));
    h.service
        .complete_task(&ctx, mine.id, Some("Mon–Fri 8–6".to_owned()))
        .await
        .unwrap();
    let told = super::staff_emails(&h);
    assert_eq!(
        told.len(),
        before + portal_core::testkit::RECIPIENTS.len(),
        "one email per notification recipient"
    );
    let email = told.last().unwrap();
    assert_eq!(
        email.subject,
        format!(
            "[{}] {} completed “Confirm office hours”",
            h.portal.client_name, h.contact.name
        )
    );
    assert!(email.text.contains("Mon–Fri 8–6"), "{}", email.text);
    assert!(email.list_unsubscribe.is_none() && email.attachments.is_empty());
    assert_snapshot!("core__task_completed_notification_text", email.text.clone());
    assert_snapshot!("core__task_completed_notification_html", email.html.clone());

    // Staff completing a client task, or completing it again, tells nobody.
    h.service
        .staff_complete(&h.staff, h.portal.id, theirs.id, None)
        .await
        .unwrap();
    assert_eq!(super::staff_emails(&h).len(), told.len());
    assert!(
        h.service.complete_task(&ctx, mine.id, None).await.is_err(),
        "a completed task cannot be completed again"
    );
    assert_eq!(super::staff_emails(&h).len(), told.len());
}
