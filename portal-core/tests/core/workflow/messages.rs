//! Comments and questions: who is notified, what is kept, what is refused.

use chrono::TimeDelta;
use portal_core::model::{PortalStatus, Side, TaskKind};
use portal_core::service::client_actor;
use portal_core::testkit::RECIPIENTS;
use portal_core::workflow::ActivityKind;
use portal_core::{Entity, Error};

use super::{staff, staff_emails};
use crate::{Harness, assert_err};

#[tokio::test]
async fn comments_from_the_client_notify_the_msp() {
    let h = Harness::new(108).await;
    let (ctx, phase) = h.client().await;
    let t = h
        .task(
            phase,
            "Share the network diagram",
            Side::Client,
            TaskKind::Standard,
        )
        .await;
    let before = staff_emails(&h).len();

    h.clock.advance(TimeDelta::minutes(1));
    let body = "Where do I find it?\nOur old MSP never sent one.";
    let c = h.service.add_comment(&ctx, t.id, body).await.unwrap();
    assert_eq!(c.body, body);
    assert_eq!(c.at, h.now());
    let sent = staff_emails(&h);
    assert_eq!(
        sent.len(),
        before + 2,
        "one email per notification recipient"
    );
    let mut to: Vec<&str> = sent[before..].iter().map(|e| e.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, RECIPIENTS.to_vec());
    let email = &sent[before];
    assert_eq!(
        email.subject,
        "[Contoso Ltd] Jane Doe commented on “Share the network diagram”"
    );
    assert!(email.html.contains("Where do I find it?"));
    assert_snapshot!("core__workflow__comment_notification_text", email.text);

    h.clock.advance(TimeDelta::minutes(1));
    let reply = h
        .service
        .staff_add_comment(&h.staff, h.portal.id, t.id, "I will send it today.")
        .await
        .unwrap();
    assert_eq!(
        staff_emails(&h).len(),
        before + 2,
        "staff comments notify no staff"
    );
    // The contact who commented is told of the reply, once.
    let told = h.last_email(&h.contact);
    assert_eq!(
        told.subject,
        "Sam Staff replied on “Share the network diagram”"
    );
    assert!(told.text.contains("I will send it today."), "{}", told.text);
    assert!(
        told.text.contains(&format!("/tasks/{}", t.id)),
        "{}",
        told.text
    );
    assert_snapshot!("core__workflow__comment_reply_text", told.text);
    assert_snapshot!("core__workflow__comment_reply_html", told.html);
    let to_jane = |h: &Harness| {
        h.mailer
            .sent()
            .iter()
            .filter(|e| e.to == h.contact.email)
            .count()
    };
    let replies_before = to_jane(&h);
    assert_eq!(
        h.service.comments(&ctx, t.id).await.unwrap(),
        vec![c, reply]
    );
    let feed = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 10)
            .await
            .unwrap()
            .items,
    );
    assert_eq!(feed.len(), 2);
    assert!(
        feed.iter()
            .all(|e| e.kind == ActivityKind::Commented && e.task_id == Some(t.id))
    );
    assert_eq!(feed[0].actor, staff());
    // A second reply is another email; a staff comment on a task nobody of the client
    // commented on tells nobody.
    h.service
        .staff_add_comment(&h.staff, h.portal.id, t.id, "Sent.")
        .await
        .unwrap();
    assert_eq!(to_jane(&h), replies_before + 1);
    let quiet = h
        .task(phase, "Quiet task", Side::Client, TaskKind::Standard)
        .await;
    h.service
        .staff_add_comment(&h.staff, h.portal.id, quiet.id, "Note to self.")
        .await
        .unwrap();
    assert_eq!(to_jane(&h), replies_before + 1);
}

#[tokio::test]
async fn questions_are_emailed_listed_and_answered_once() {
    let h = Harness::new(109).await;
    let (ctx, _) = h.client().await;
    let before = staff_emails(&h).len();

    h.clock.advance(TimeDelta::minutes(1));
    let text = "Can we move the go-live to March?\nOur CFO is away in February.";
    let q = h.service.ask_question(&ctx, text).await.unwrap();
    assert_eq!(q.text, text);
    assert_eq!(q.asked_by, client_actor(&ctx));
    assert_eq!(q.answer, None);
    let sent = staff_emails(&h);
    assert_eq!(sent.len(), before + 2);
    let email = &sent[before];
    assert_eq!(email.subject, "[Contoso Ltd] Question from Jane Doe");
    assert_snapshot!("core__workflow__question_notification_text", email.text);

    let feed = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 10)
            .await
            .unwrap()
            .items,
    );
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].kind, ActivityKind::QuestionAsked);
    assert_eq!(feed[0].subject, "Can we move the go-live to March?…");
    assert_eq!(
        h.service
            .staff_questions(&h.staff, h.portal.id)
            .await
            .unwrap(),
        vec![q.clone()]
    );

    h.clock.advance(TimeDelta::minutes(30));
    let answered = h
        .service
        .answer_question(&h.staff, h.portal.id, q.id, "Yes, we moved it to 3 March.")
        .await
        .unwrap();
    let a = answered.answer.clone().unwrap();
    assert_eq!(a.text, "Yes, we moved it to 3 March.");
    assert_eq!(a.by, staff());
    assert_eq!(a.at, h.now());
    // The client sees it in their portal, and is told by email.
    assert_eq!(
        h.service.questions(&ctx).await.unwrap(),
        vec![answered.clone()]
    );
    let told = h.last_email(&h.contact);
    assert_eq!(told.subject, "Northwind IT answered your question");
    assert!(
        told.text.contains("Yes, we moved it to 3 March."),
        "{}",
        told.text
    );
    assert!(
        told.list_unsubscribe.is_none(),
        "an event email, not a reminder"
    );
    assert_snapshot!("core__workflow__question_answered_text", told.text);
    assert_snapshot!("core__workflow__question_answered_html", told.html);
    // A second answer is refused and tells nobody again.
    let sent = h.mailer.sent().len();
    assert!(
        h.service
            .answer_question(&h.staff, h.portal.id, q.id, "Again")
            .await
            .is_err()
    );
    assert_eq!(h.mailer.sent().len(), sent);
    let feed = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 10)
            .await
            .unwrap()
            .items,
    );
    assert_eq!(feed[0].kind, ActivityKind::QuestionAnswered);

    assert_err(
        h.service
            .answer_question(&h.staff, h.portal.id, q.id, "No, sorry.")
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );
    assert_eq!(
        h.service
            .staff_questions(&h.staff, h.portal.id)
            .await
            .unwrap(),
        vec![answered]
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
        2
    );
    // Another portal cannot answer it.
    let other = h
        .service
        .create_portal(&h.staff, "Fabrikam", PortalStatus::Active)
        .await
        .unwrap();
    assert_err(
        h.service
            .answer_question(&h.staff, other.id, q.id, "Sneaky")
            .await,
        |e| {
            matches!(
                e,
                Error::NotFound {
                    entity: Entity::Question
                }
            )
        },
    );
    assert!(
        h.service
            .staff_questions(&h.staff, other.id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn hostile_input_is_kept_as_text_or_refused() {
    let h = Harness::new(110).await;
    let (ctx, phase) = h.client().await;
    let t = h
        .task(phase, "Anything", Side::Client, TaskKind::Standard)
        .await;

    let script = "<script>alert('x')</script> & <b>bold</b>";
    let c = h.service.add_comment(&ctx, t.id, script).await.unwrap();
    assert_eq!(c.body, script, "markup is kept verbatim, as text");
    let q = h.service.ask_question(&ctx, script).await.unwrap();
    assert_eq!(q.text, script);
    let emails = h.mailer.sent().len();
    let feed = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 100)
            .await
            .unwrap()
            .items,
    );
    let comments = h.service.comments(&ctx, t.id).await.unwrap();
    let questions = h
        .service
        .staff_questions(&h.staff, h.portal.id)
        .await
        .unwrap();

    let long = "x".repeat(5001);
    let invalid = |e: &Error| matches!(e, Error::Invalid { .. });
    for bad in [long.as_str(), "bell \u{7} here", "nul\u{0}", "", "   \n\t "] {
        assert_err(h.service.add_comment(&ctx, t.id, bad).await, invalid);
        assert_err(
            h.service
                .staff_add_comment(&h.staff, h.portal.id, t.id, bad)
                .await,
            invalid,
        );
        assert_err(h.service.ask_question(&ctx, bad).await, invalid);
        assert_err(
            h.service
                .answer_question(&h.staff, h.portal.id, q.id, bad)
                .await,
            invalid,
        );
    }
    for bad in [long.as_str(), "escape \u{1b}[31m"] {
        assert_err(
            h.service
                .complete_task(&ctx, t.id, Some(bad.to_owned()))
                .await,
            invalid,
        );
    }
    assert_eq!(h.service.comments(&ctx, t.id).await.unwrap(), comments);
    assert_eq!(
        h.service
            .staff_questions(&h.staff, h.portal.id)
            .await
            .unwrap(),
        questions
    );
    assert_eq!(
        crate::after_setup(
            h.service
                .staff_activity(&h.staff, h.portal.id, None, 100)
                .await
                .unwrap()
                .items
        ),
        feed
    );
    assert_eq!(h.mailer.sent().len(), emails, "no email for refused input");
    assert_eq!(h.stored(t.id).await, t);
    // Exactly at the limit is fine.
    let max = "y".repeat(5000);
    assert_eq!(
        h.service.add_comment(&ctx, t.id, &max).await.unwrap().body,
        max
    );
}

/// Sixty comments in a burst: every one is stored and in the activity feed, but the MSP
/// gets one email per recipient for the burst; the next email after the notification
/// interval says how many messages were not emailed.
#[tokio::test]
async fn a_burst_of_comments_is_one_staff_email() {
    let h = Harness::new(131).await;
    let (ctx, phase) = h.client().await;
    let t = h
        .task(
            phase,
            "Send the floor plan",
            Side::Client,
            TaskKind::Standard,
        )
        .await;
    let before = staff_emails(&h).len();
    for i in 0..60 {
        h.service
            .add_comment(&ctx, t.id, &format!("part {i}"))
            .await
            .unwrap();
    }
    assert_eq!(h.service.comments(&ctx, t.id).await.unwrap().len(), 60);
    let feed = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 100)
            .await
            .unwrap()
            .items,
    );
    assert_eq!(feed.len(), 60, "the feed records every comment");
    let sent = staff_emails(&h);
    assert_eq!(
        sent.len(),
        before + 2,
        "one email per recipient for the burst"
    );
    assert!(sent[before].text.contains("part 0"));

    // Still inside the interval: a question is held too.
    let interval = h.service.policy().staff_notification_interval;
    h.clock.advance(interval - TimeDelta::seconds(1));
    h.service
        .ask_question(&ctx, "Anything else?")
        .await
        .unwrap();
    assert_eq!(staff_emails(&h).len(), before + 2);

    // After the interval the next message is emailed, with the held ones counted.
    h.clock.advance(TimeDelta::seconds(1));
    h.service.add_comment(&ctx, t.id, "last one").await.unwrap();
    let sent = staff_emails(&h);
    assert_eq!(sent.len(), before + 4);
    let last = &sent[before + 2];
    assert!(last.text.contains("last one"));
    assert!(
        last.text.contains("60 more client messages"),
        "{}",
        last.text
    );
    assert!(last.html.contains("60 more client messages"));
}
