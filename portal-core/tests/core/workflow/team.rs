//! Colleagues through the service: invitations (at once, after approval, off, the
//! cap), who is told what, and claims and hand-offs in one plan unit with the
//! colleague's email.

use chrono::TimeDelta;
use portal_core::model::{Side, TaskKind};
use portal_core::testkit::{code_from_email, invite_from_email, request};
use portal_core::workflow::ActivityKind;
use portal_core::workflow::team::{self, InvitationMode, TaskOwner};
use portal_core::{Error, Limit};

use super::staff_emails;
use crate::{Harness, assert_err};

async fn set_mode(h: &Harness, mode: InvitationMode) {
    h.service
        .set_colleague_invitations(&h.staff, h.portal.id, mode, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_invitation_at_once_sends_the_colleague_their_own_link_and_tells_the_msp() {
    let h = Harness::new(1501).await;
    let (ctx, _) = h.client().await;
    set_mode(&h, InvitationMode::AtOnce).await;
    let before = staff_emails(&h).len();
    let invited = h
        .service
        .invite_colleague(&ctx, "Sam Colleague", "sam@contoso.example")
        .await
        .unwrap();
    assert!(invited.sent);
    let sam = invited.colleague;
    assert_eq!(sam.invited_by, Some(h.contact.id));
    assert!(!sam.awaiting_approval);
    assert_eq!(
        sam.time_zone, ctx.time_zone,
        "the inviter's zone until staff change it"
    );

    // The colleague's own link: they sign in with it.
    let email = h.last_email(&sam);
    let invite = invite_from_email(&email.text).expect("the colleague's email has their link");
    let (verification, _) = h
        .service
        .start_verification(&invite, &request())
        .await
        .unwrap();
    let code = code_from_email(&h.last_email(&sam).text).unwrap();
    let sam_ctx = h
        .service
        .enter_code(&verification, &code, &request())
        .await
        .unwrap()
        .1;
    assert_eq!(sam_ctx.contact_id, sam.id);
    // The inviter was not sent that link.
    assert!(
        h.mailer
            .sent()
            .iter()
            .filter(|e| e.to == h.contact.email)
            .all(|e| !e.text.contains(&email.text)),
    );

    // The MSP's recipients are told, without the link.
    let sent = staff_emails(&h);
    assert_eq!(
        sent.len(),
        before + 2,
        "one email per notification recipient"
    );
    assert_eq!(
        sent[before].subject,
        "[Contoso Ltd] Jane Doe invited Sam Colleague"
    );
    assert!(!sent[before].text.contains("/i/"), "{}", sent[before].text);
    assert_snapshot!("core__team__colleague_invited_text", sent[before].text);
    assert_snapshot!("core__team__colleague_invited_html", sent[before].html);

    // The feed records who invited whom.
    let feed = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 10)
        .await
        .unwrap()
        .items;
    let entry = feed
        .iter()
        .find(|e| e.kind == ActivityKind::ColleagueInvited)
        .unwrap();
    assert_eq!(
        entry.summary(),
        "Jane Doe invited their colleague “Sam Colleague”"
    );
}

#[tokio::test]
async fn after_approval_the_colleague_waits_and_staff_approve_or_decline() {
    let h = Harness::new(1502).await;
    let (ctx, _) = h.client().await;
    // The default mode.
    let invited = h
        .service
        .invite_colleague(&ctx, "Pat Pending", "pat@contoso.example")
        .await
        .unwrap();
    assert!(!invited.sent);
    let pat = invited.colleague;
    assert!(pat.awaiting_approval);
    assert!(
        h.last_email_to(&pat).is_err(),
        "no invitation before approval"
    );
    let waiting = h
        .service
        .pending_colleagues(&h.staff, h.portal.id)
        .await
        .unwrap();
    assert_eq!(waiting.iter().map(|c| c.id).collect::<Vec<_>>(), [pat.id]);
    assert!(
        staff_emails(&h)
            .last()
            .unwrap()
            .text
            .contains("waits for your approval")
    );

    let approved = h.service.approve_colleague(&h.staff, pat.id).await.unwrap();
    assert!(!approved.awaiting_approval);
    let link = invite_from_email(&h.last_email(&pat).text);
    assert!(
        link.is_some(),
        "approval emails the colleague their own link"
    );
    assert_err(h.service.approve_colleague(&h.staff, pat.id).await, |e| {
        matches!(e, Error::Conflict { .. })
    });

    let dan = h
        .service
        .invite_colleague(&ctx, "Dan Declined", "dan@contoso.example")
        .await
        .unwrap()
        .colleague;
    h.service.decline_colleague(&h.staff, dan.id).await.unwrap();
    assert!(
        h.service.store().contact(dan.id).await.is_err(),
        "declined: removed"
    );
    let kinds: Vec<ActivityKind> = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 10)
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&ActivityKind::ColleagueApproved));
    assert!(kinds.contains(&ActivityKind::ColleagueDeclined));
}

#[tokio::test]
async fn off_refuses_and_the_cap_holds() {
    let h = Harness::new(1503).await;
    let (ctx, _) = h.client().await;
    set_mode(&h, InvitationMode::Off).await;
    assert_err(
        h.service
            .invite_colleague(&ctx, "No One", "no@contoso.example")
            .await,
        |e| matches!(e, Error::Forbidden { .. }),
    );
    set_mode(&h, InvitationMode::AtOnce).await;
    assert_err(
        h.service
            .invite_colleague(&ctx, "Bad", "not-an-email")
            .await,
        |e| matches!(e, Error::Invalid { field: "email", .. }),
    );
    let existing = h.service.colleagues(&ctx).await.unwrap().len();
    for i in existing..team::MAX_CONTACTS_PER_PORTAL {
        h.service
            .invite_colleague(&ctx, &format!("C {i}"), &format!("c{i}@contoso.example"))
            .await
            .unwrap();
    }
    let before = h.mailer.sent().len();
    assert_err(
        h.service
            .invite_colleague(&ctx, "One Too Many", "many@contoso.example")
            .await,
        |e| matches!(e, Error::LimitReached(Limit::ContactsPerPortal)),
    );
    assert_eq!(
        h.mailer.sent().len(),
        before,
        "a refused invitation sends nothing"
    );
}

#[tokio::test]
async fn claim_and_hand_off_move_the_task_and_email_the_colleague() {
    let h = Harness::new(1504).await;
    let (ctx, phase) = h.client().await;
    let t = h
        .task(
            phase,
            "Billing contact form",
            Side::Client,
            TaskKind::Standard,
        )
        .await;
    let ann = h.add_contact("Ann Colleague", "ann@contoso.example").await;
    let (_, ann_ctx) = h.sign_in(&ann).await;
    assert_eq!(team::owner(&t, ctx.contact_id), TaskOwner::Team);

    h.clock.advance(TimeDelta::minutes(1));
    let claimed = h.service.claim_task(&ctx, t.id).await.unwrap();
    assert_eq!(claimed.assigned_to, vec![h.contact.id]);
    assert_eq!(claimed.version, t.version + 1);
    assert_eq!(team::owner(&claimed, ann.id), TaskOwner::Colleague);
    assert_err(h.service.claim_task(&ann_ctx, t.id).await, |e| {
        matches!(e, Error::Conflict { .. })
    });
    // Not hers to hand on.
    assert_err(
        h.service
            .hand_off_task(&ann_ctx, t.id, h.contact.id, "")
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );

    let handed = h
        .service
        .hand_off_task(&ctx, t.id, ann.id, "You have the invoices")
        .await
        .unwrap();
    assert_eq!(handed.assigned_to, vec![ann.id]);
    let email = h.last_email(&ann);
    assert_eq!(email.subject, "Jane Doe handed you “Billing contact form”");
    assert!(
        email.text.contains(&format!("/tasks/{}", t.id)),
        "{}",
        email.text
    );
    assert_snapshot!("core__team__task_handed_text", email.text);
    assert_snapshot!("core__team__task_handed_html", email.html);
    let thread = h.service.comments(&ctx, t.id).await.unwrap();
    assert_eq!(
        thread.last().unwrap().body,
        "Handed to Ann Colleague: You have the invoices"
    );

    // A revoked colleague cannot be handed a task.
    h.service
        .revoke_contact(&h.staff, h.contact.id)
        .await
        .unwrap();
    assert_err(
        h.service
            .hand_off_task(&ann_ctx, t.id, h.contact.id, "")
            .await,
        |e| matches!(e, Error::Invalid { field: "to", .. }),
    );
}

/// The MSP's notifications of colleague invitations obey the same per-portal
/// coalescing as every other client-triggered staff email: a contact inviting one
/// colleague after another within `staff_notification_interval` sends the MSP one
/// email per recipient, and the next one after the interval names the held ones.
#[tokio::test]
async fn colleague_invitations_do_not_flood_the_msp() {
    let h = Harness::new(1502).await;
    let (ctx, _) = h.client().await;
    set_mode(&h, InvitationMode::AtOnce).await;
    let before = staff_emails(&h).len();
    for (name, email) in [
        ("Sam One", "sam1@contoso.example"),
        ("Sam Two", "sam2@contoso.example"),
        ("Sam Three", "sam3@contoso.example"),
    ] {
        let invited = h.service.invite_colleague(&ctx, name, email).await.unwrap();
        // The colleague's own invitation is never held: it is theirs alone.
        assert!(
            invite_from_email(&h.last_email(&invited.colleague).text).is_some(),
            "{name} gets their link"
        );
    }
    let sent = staff_emails(&h);
    assert_eq!(
        sent.len(),
        before + 2,
        "one notification per recipient for the three invitations inside the interval"
    );
    h.clock.advance(TimeDelta::minutes(2));
    h.service
        .invite_colleague(&ctx, "Sam Four", "sam4@contoso.example")
        .await
        .unwrap();
    let sent = staff_emails(&h);
    assert_eq!(
        sent.len(),
        before + 4,
        "after the interval the MSP is told again"
    );
    assert!(
        sent[before + 2].text.contains("2 more client messages"),
        "the next notification names the held ones: {}",
        sent[before + 2].text
    );
}
