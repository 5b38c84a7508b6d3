//! [`crate::store::AccessStore::invite_colleague`]: colleagues a signed-in contact
//! invites, the portal's invitation mode and contact cap judged inside the unit, the
//! invite, emails and feed entry written with the contact, and approval through
//! `issue_invite`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::outbox::{absent, mail, parked, read};
use super::support::{World, assert_err, mins, new_contact, portal_id, race_all, t0, token, world};
use crate::error::{Entity, Error, Limit};
use crate::model::Contact;
use crate::secret::TokenHash;
use crate::store::{ColleagueInvite, PortalEdit, Store};
use crate::workflow::evidence::Actor;
use crate::workflow::team::InvitationMode;
use crate::workflow::{ActivityEntry, ActivityKind};

async fn set_mode(store: &dyn Store, w: &World, mode: InvitationMode, at: DateTime<Utc>) {
    let entry = ActivityEntry {
        portal_id: w.portal.id,
        at,
        actor: Actor::Staff {
            name: "Conformance".to_owned(),
            email: None,
        },
        kind: ActivityKind::ColleagueInvitationsSet,
        task_id: None,
        subject: w.portal.client_name.clone(),
        detail: Some(mode.as_str().to_owned()),
    };
    let portal = store
        .edit_portal(
            w.portal.id,
            &PortalEdit::ColleagueInvitations(mode),
            None,
            &entry,
        )
        .await
        .unwrap();
    assert_eq!(
        portal.colleague_invitations, mode,
        "edit_portal keeps the invitation mode"
    );
}

/// A colleague of `w`'s contact, prepared for `mode` (an invite hash when at once).
fn colleague(
    w: &World,
    email: &str,
    mode: InvitationMode,
    cap: usize,
) -> (ColleagueInvite, Option<TokenHash>) {
    let mut c: Contact = new_contact(w.portal.id, email, t0() + mins(1));
    c.name = format!("Colleague {email}");
    c.invited_by = Some(w.contact.id);
    c.awaiting_approval = mode == InvitationMode::AfterApproval;
    c.role = Some("billing".to_owned());
    let tok = (mode == InvitationMode::AtOnce).then(token);
    let activity = ActivityEntry {
        portal_id: w.portal.id,
        at: c.created_at,
        actor: Actor::Client {
            contact_id: w.contact.id,
            name: w.contact.name.clone(),
            email: w.contact.email.clone(),
        },
        kind: ActivityKind::ColleagueInvited,
        task_id: None,
        subject: c.name.clone(),
        detail: None,
    };
    let invite = ColleagueInvite {
        colleague: c,
        token: tok,
        cap,
        emails: vec![mail(w, parked()), mail(w, parked())],
        activity,
    };
    (invite, tok)
}

async fn feed_has(store: &dyn Store, w: &World, subject: &str) -> bool {
    store
        .activity(w.portal.id, 1000)
        .await
        .unwrap()
        .iter()
        .any(|e| e.kind == ActivityKind::ColleagueInvited && e.subject == subject)
}

async fn assert_nothing_written(
    store: &dyn Store,
    w: &World,
    invite: &ColleagueInvite,
    what: &str,
) {
    assert_err!(
        store.contact(invite.colleague.id).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    for m in &invite.emails {
        absent(store, m.id, what).await;
    }
    assert!(
        !feed_has(store, w, &invite.colleague.name).await,
        "{what}: no feed entry"
    );
    if let Some(tok) = &invite.token {
        assert_err!(
            store.open_invite(tok, super::support::t0()).await,
            Error::NotFound {
                entity: Entity::Invite
            }
        );
    }
}

/// `invite_colleague` at once: the contact (with its inviter and role), its own
/// invite, both emails and the feed entry in one unit; after approval mode: the
/// contact awaits approval with no invite, and `issue_invite` (the approval) clears
/// the flag; mode off is `Forbidden`, a colleague prepared for another mode
/// `Conflict`, a taken email `Conflict`, a missing portal `NotFound(Portal)`, and a
/// refused call writes nothing.
pub async fn colleague_invites(store: &dyn Store) {
    let w = world(store).await;
    // The default mode is after approval.
    assert_eq!(
        store
            .portal(w.portal.id)
            .await
            .unwrap()
            .colleague_invitations,
        InvitationMode::AfterApproval
    );

    // At once.
    set_mode(store, &w, InvitationMode::AtOnce, t0()).await;
    let (invite, tok) = colleague(&w, "ann@client.example", InvitationMode::AtOnce, 50);
    let target = store.invite_colleague(&invite).await.unwrap();
    assert_eq!(target.contact, invite.colleague);
    assert_eq!(
        store.contact(invite.colleague.id).await.unwrap(),
        invite.colleague
    );
    let opened = store
        .open_invite(&tok.unwrap(), super::support::t0())
        .await
        .unwrap();
    assert_eq!(
        opened.contact.id, invite.colleague.id,
        "the colleague's own invite is issued in the unit"
    );
    for m in &invite.emails {
        assert_eq!(
            &read(store, m.id).await,
            m,
            "invite_colleague queues its emails"
        );
    }
    assert!(
        feed_has(store, &w, &invite.colleague.name).await,
        "invite_colleague appends its feed entry"
    );

    // A taken email.
    let (mut dup, _) = colleague(&w, "ann@client.example", InvitationMode::AtOnce, 50);
    dup.colleague.name = "Duplicate".to_owned();
    dup.activity.subject = "Duplicate".to_owned();
    assert_err!(store.invite_colleague(&dup).await, Error::Conflict { .. });
    assert_nothing_written(store, &w, &dup, "a colleague with a taken email").await;

    // Prepared for approval while the portal sends at once.
    let (stale, _) = colleague(
        &w,
        "stale@client.example",
        InvitationMode::AfterApproval,
        50,
    );
    assert_err!(store.invite_colleague(&stale).await, Error::Conflict { .. });
    assert_nothing_written(store, &w, &stale, "a colleague prepared for another mode").await;

    // After approval.
    set_mode(store, &w, InvitationMode::AfterApproval, t0() + mins(2)).await;
    let (pending, _) = colleague(&w, "bob@client.example", InvitationMode::AfterApproval, 50);
    store.invite_colleague(&pending).await.unwrap();
    let stored = store.contact(pending.colleague.id).await.unwrap();
    assert!(stored.awaiting_approval, "the colleague awaits approval");
    assert_eq!(stored.invited_by, Some(w.contact.id));
    let (at_once, _) = colleague(&w, "late@client.example", InvitationMode::AtOnce, 50);
    assert_err!(
        store.invite_colleague(&at_once).await,
        Error::Conflict { .. }
    );
    assert_nothing_written(store, &w, &at_once, "an invite prepared for at once").await;

    // Approval: issuing the invite clears the flag.
    let approved = token();
    let target = store
        .issue_invite(pending.colleague.id, &approved, t0() + mins(3), &[], None)
        .await
        .unwrap();
    assert!(!target.contact.awaiting_approval);
    assert!(
        !store
            .contact(pending.colleague.id)
            .await
            .unwrap()
            .awaiting_approval,
        "issue_invite (the approval) clears awaiting_approval"
    );
    assert_eq!(
        store
            .open_invite(&approved, super::support::t0())
            .await
            .unwrap()
            .contact
            .id,
        pending.colleague.id
    );

    // Off.
    set_mode(store, &w, InvitationMode::Off, t0() + mins(4)).await;
    let (off, _) = colleague(&w, "off@client.example", InvitationMode::AfterApproval, 50);
    assert_err!(store.invite_colleague(&off).await, Error::Forbidden { .. });
    assert_nothing_written(store, &w, &off, "an invite while the mode is off").await;

    // A missing portal.
    let (mut lost, _) = colleague(&w, "lost@client.example", InvitationMode::AfterApproval, 50);
    lost.colleague.portal_id = portal_id();
    assert_err!(
        store.invite_colleague(&lost).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
}

/// The cap counts the portal's contacts that are not revoked, inside the unit: at the
/// cap an invitation is `LimitReached(ContactsPerPortal)` and writes nothing (no
/// contact, invite, email or entry); a revoked contact frees its place.
pub async fn colleague_cap(store: &dyn Store) {
    let w = world(store).await;
    set_mode(store, &w, InvitationMode::AtOnce, t0()).await;
    // The world's contact and two colleagues: a cap of 3 is reached.
    for email in ["one@client.example", "two@client.example"] {
        let (invite, _) = colleague(&w, email, InvitationMode::AtOnce, 3);
        store.invite_colleague(&invite).await.unwrap();
    }
    let (over, _) = colleague(&w, "three@client.example", InvitationMode::AtOnce, 3);
    assert_err!(
        store.invite_colleague(&over).await,
        Error::LimitReached(Limit::ContactsPerPortal)
    );
    assert_nothing_written(store, &w, &over, "an invitation over the cap").await;

    store
        .revoke_contact(w.contact.id, t0() + mins(5), None)
        .await
        .unwrap();
    store
        .invite_colleague(&over)
        .await
        .expect("a revoked contact does not count towards the cap");
}

/// Invitations racing for the last place under the cap: exactly one wins, the others
/// are `LimitReached(ContactsPerPortal)` and leave nothing behind.
pub async fn concurrent_colleague_invites(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    set_mode(store.as_ref(), &w, InvitationMode::AtOnce, t0()).await;
    let invites: Vec<ColleagueInvite> = (0..6)
        .map(|i| {
            colleague(
                &w,
                &format!("racer{i}@client.example"),
                InvitationMode::AtOnce,
                2,
            )
            .0
        })
        .collect();
    let outcomes = race_all(
        invites
            .iter()
            .cloned()
            .map(|invite| {
                let store = store.clone();
                async move { store.invite_colleague(&invite).await.map(drop) }
            })
            .collect(),
    )
    .await;
    let won = outcomes.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        won, 1,
        "exactly one invitation takes the last place: {outcomes:?}"
    );
    for (invite, outcome) in invites.iter().zip(&outcomes) {
        if outcome.is_err() {
            assert!(
                matches!(outcome, Err(Error::LimitReached(Limit::ContactsPerPortal))),
                "a losing racer is at the cap: {outcome:?}"
            );
            assert_nothing_written(store.as_ref(), &w, invite, "a losing racer").await;
        }
    }
    let active = store
        .contacts(w.portal.id)
        .await
        .unwrap()
        .iter()
        .filter(|c| c.revoked_at.is_none())
        .count();
    assert_eq!(active, 2, "the cap holds under a race");
}
