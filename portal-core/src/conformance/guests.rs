//! Guests ([`crate::store::AccessStore::add_guest`], `share_task`,
//! `end_guest_access`): a guest is written with their judged shared tasks, invite,
//! invitation email and feed entry in one unit; sharing and unsharing are judged in
//! the unit; and every access step refuses a guest past their end date.

use chrono::{DateTime, Utc};

use super::outbox::{absent, mail, parked, read};
use super::support::{
    World, assert_err, hours, limits, mins, new_code, new_contact, new_session, new_task, no_slide,
    phase, secs, t0, token, world,
};
use crate::error::{Entity, Error};
use crate::ids::TaskId;
use crate::model::{Contact, Guest, Side, Task};
use crate::store::{NewGuest, RequestInfo, Store};
use crate::workflow::evidence::Actor;
use crate::workflow::{ActivityEntry, ActivityKind};

fn entry(w: &World, kind: ActivityKind, subject: &str, at: DateTime<Utc>) -> ActivityEntry {
    ActivityEntry {
        portal_id: w.portal.id,
        at,
        actor: Actor::Staff {
            name: "Conformance".to_owned(),
            email: None,
        },
        kind,
        task_id: None,
        subject: subject.to_owned(),
        detail: None,
    }
}

/// A guest of `w`'s portal with `tasks` to share and an optional end.
fn new_guest(w: &World, email: &str, tasks: &[TaskId], ends: Option<DateTime<Utc>>) -> NewGuest {
    let mut c: Contact = new_contact(w.portal.id, email, t0() + mins(1));
    c.name = format!("Guest {email}");
    c.guest = Some(Guest {
        organisation: "Previous IT".to_owned(),
        access_ends_at: ends,
        shared_tasks: tasks.to_vec(),
        handover_phase: None,
        stall_alerted_at: None,
    });
    NewGuest {
        activity: entry(w, ActivityKind::GuestInvited, &c.name, c.created_at),
        guest: c,
        token: token(),
        emails: vec![mail(w, parked())],
    }
}

async fn add_task(store: &dyn Store, w: &World, title: &str, edit: impl FnOnce(&mut Task)) -> Task {
    let ph = phase(store, w.portal.id, "Guests").await;
    let mut t = new_task(w.portal.id, ph.id, title);
    edit(&mut t);
    store.add_task(&t, None).await.unwrap()
}

async fn feed_count(store: &dyn Store, w: &World, kind: ActivityKind) -> usize {
    store
        .activity(w.portal.id, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}

async fn assert_not_written(store: &dyn Store, new: &NewGuest, what: &str) {
    assert_err!(
        store.contact(new.guest.id).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    for m in &new.emails {
        absent(store, m.id, what).await;
    }
    assert_err!(
        store.open_invite(&new.token, t0() + mins(2)).await,
        Error::NotFound {
            entity: Entity::Invite
        }
    );
}

/// `add_guest` writes the guest (organisation, end, shared tasks without repeats),
/// their own invite, the invitation email and the feed entry; an internal task or a
/// task that is not the client's is `Invalid`, another portal's task
/// `NotFound(Task)`, a taken email `Conflict`, a contact without a guest record
/// `Invalid`, a missing portal `NotFound(Portal)`, and a refused call writes nothing.
/// A guest is not counted as one of the client's contacts by the colleague cap.
pub async fn guest_invites(store: &dyn Store) {
    let w = world(store).await;
    let a = add_task(store, &w, "Export documentation", |_| {}).await;
    let b = add_task(store, &w, "Transfer the domain", |_| {}).await;
    let ends = t0() + hours(48);
    let new = new_guest(
        &w,
        "gill@previous-it.example",
        &[a.id, b.id, a.id],
        Some(ends),
    );
    let target = store.add_guest(&new).await.unwrap();
    let guest = target
        .contact
        .guest
        .clone()
        .expect("the guest record is kept");
    assert_eq!(guest.shared_tasks, vec![a.id, b.id], "repeats are dropped");
    assert_eq!(guest.access_ends_at, Some(ends));
    assert_eq!(guest.organisation, "Previous IT");
    assert_eq!(store.contact(new.guest.id).await.unwrap(), target.contact);
    assert_eq!(
        store
            .open_invite(&new.token, t0() + mins(2))
            .await
            .unwrap()
            .contact
            .id,
        new.guest.id,
        "the guest's own invite is written"
    );
    read(store, new.emails[0].id).await;
    assert_eq!(feed_count(store, &w, ActivityKind::GuestInvited).await, 1);

    // Refusals write nothing.
    let internal = add_task(store, &w, "Staff only", |t| t.internal = true).await;
    let msp = add_task(store, &w, "MSP side", |t| t.assignee = Side::Msp).await;
    for (task, what) in [(internal.id, "an internal task"), (msp.id, "an MSP task")] {
        let bad = new_guest(&w, "vendor@isp.example", &[a.id, task], None);
        assert_err!(store.add_guest(&bad).await, Error::Invalid { .. });
        assert_not_written(store, &bad, what).await;
    }
    let other = world(store).await;
    let foreign = add_task(store, &other, "Other portal's", |_| {}).await;
    let bad = new_guest(&w, "vendor@isp.example", &[foreign.id], None);
    assert_err!(
        store.add_guest(&bad).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_not_written(store, &bad, "another portal's task").await;
    let taken = new_guest(&w, "gill@previous-it.example", &[a.id], None);
    assert_err!(store.add_guest(&taken).await, Error::Conflict { .. });
    assert_not_written(store, &taken, "a taken email").await;
    let mut plain = new_guest(&w, "plain@client.example", &[], None);
    plain.guest.guest = None;
    assert_err!(store.add_guest(&plain).await, Error::Invalid { .. });
    assert_not_written(store, &plain, "a contact that is no guest").await;
    let mut orphan = new_guest(&w, "orphan@isp.example", &[], None);
    orphan.guest.portal_id = super::support::portal_id();
    orphan.activity.portal_id = orphan.guest.portal_id;
    assert_err!(
        store.add_guest(&orphan).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
    assert_eq!(
        feed_count(store, &w, ActivityKind::GuestInvited).await,
        1,
        "refused calls append no entry"
    );
}

/// `share_task` shares a client task once (sharing twice keeps one), unshares it
/// (unsharing again changes nothing), refuses an internal task (`Invalid`), another
/// portal's task (`NotFound(Task)`), a contact that is no guest (`Invalid`) and a
/// missing contact (`NotFound(Contact)`), and writes the feed entry with the change.
pub async fn guest_sharing(store: &dyn Store) {
    let w = world(store).await;
    let a = add_task(store, &w, "Export documentation", |_| {}).await;
    let b = add_task(store, &w, "Licence transfer", |_| {}).await;
    let new = new_guest(&w, "gill@previous-it.example", &[a.id], None);
    let id = new.guest.id;
    store.add_guest(&new).await.unwrap();
    let shared = entry(&w, ActivityKind::GuestTaskShared, "Gill", t0() + mins(5));
    let unshared = entry(&w, ActivityKind::GuestTaskUnshared, "Gill", t0() + mins(6));
    let tasks = |c: Contact| c.guest.map(|g| g.shared_tasks).unwrap_or_default();

    let c = store.share_task(id, b.id, true, &shared).await.unwrap();
    assert_eq!(tasks(c.clone()), vec![a.id, b.id]);
    assert_eq!(store.contact(id).await.unwrap(), c, "the share is stored");
    let c = store.share_task(id, b.id, true, &shared).await.unwrap();
    assert_eq!(tasks(c), vec![a.id, b.id], "sharing twice keeps one");
    let c = store.share_task(id, a.id, false, &unshared).await.unwrap();
    assert_eq!(tasks(c), vec![b.id]);
    assert_eq!(
        tasks(store.contact(id).await.unwrap()),
        vec![b.id],
        "the unshare is stored"
    );
    let c = store.share_task(id, a.id, false, &unshared).await.unwrap();
    assert_eq!(tasks(c), vec![b.id], "unsharing twice changes nothing");
    assert_eq!(
        feed_count(store, &w, ActivityKind::GuestTaskShared).await,
        2
    );
    assert_eq!(
        feed_count(store, &w, ActivityKind::GuestTaskUnshared).await,
        2
    );

    let internal = add_task(store, &w, "Staff only", |t| t.internal = true).await;
    assert_err!(
        store.share_task(id, internal.id, true, &shared).await,
        Error::Invalid { .. }
    );
    let other = world(store).await;
    let foreign = add_task(store, &other, "Other portal's", |_| {}).await;
    assert_err!(
        store.share_task(id, foreign.id, true, &shared).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store.share_task(w.contact.id, a.id, true, &shared).await,
        Error::Invalid { .. }
    );
    assert_err!(
        store
            .share_task(super::support::contact_id(), a.id, true, &shared)
            .await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    assert_eq!(
        tasks(store.contact(id).await.unwrap()),
        vec![b.id],
        "refusals change nothing"
    );
    assert_eq!(
        feed_count(store, &w, ActivityKind::GuestTaskShared).await,
        2,
        "refusals append no entry"
    );
}

/// A guest past their end date is refused at every step, with no write by the MSP:
/// `open_invite` and `start_verification` answer `Revoked(Contact)`, and so do
/// `verification`, `issue_code` and `redeem_code` of a verification started before;
/// `authenticate` answers `Revoked(Session)` after the end instant and lets the
/// guest in at it. `end_guest_access` ends it earlier (an earlier end stays; not a
/// guest: `Invalid`) and appends its entry.
pub async fn guest_end_date(store: &dyn Store) {
    let w = world(store).await;
    let a = add_task(store, &w, "Export documentation", |_| {}).await;
    let ends = t0() + hours(4);
    let new = new_guest(&w, "gill@previous-it.example", &[a.id], Some(ends));
    let id = new.guest.id;
    store.add_guest(&new).await.unwrap();

    // Signed in before the end.
    let at = t0() + hours(1);
    let verification = token();
    let code = new_code(at);
    store
        .start_verification(&new.token, &verification, &code, &limits())
        .await
        .unwrap();
    let session = new_session(at);
    store
        .redeem_code(&verification, &code.code_hash, at, &limits(), &session)
        .await
        .unwrap();
    let req = RequestInfo::default();
    store
        .authenticate(&session.token_hash, ends, &no_slide(), &req)
        .await
        .expect("a guest is let in at their end instant");

    // A second verification started before the end, used after it.
    let late = token();
    let late_code = new_code(ends - mins(1));
    store
        .start_verification(&new.token, &late, &late_code, &limits())
        .await
        .unwrap();

    let after = ends + secs(1);
    assert_err!(
        store
            .authenticate(&session.token_hash, after, &no_slide(), &req)
            .await,
        Error::Revoked {
            entity: Entity::Session
        }
    );
    assert_err!(
        store.open_invite(&new.token, after).await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store
            .start_verification(&new.token, &token(), &new_code(after), &limits())
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store.verification(&late, after).await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store
            .redeem_code(
                &late,
                &late_code.code_hash,
                after,
                &limits(),
                &new_session(after)
            )
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );

    // Ending access earlier: the guest's next request is refused.
    let second = new_guest(&w, "isp@isp.example", &[a.id], None);
    store.add_guest(&second).await.unwrap();
    let s2 = new_session(at);
    let v2 = token();
    let c2 = new_code(at);
    store
        .start_verification(&second.token, &v2, &c2, &limits())
        .await
        .unwrap();
    store
        .redeem_code(&v2, &c2.code_hash, at, &limits(), &s2)
        .await
        .unwrap();
    let stop = t0() + hours(2);
    let ended = entry(&w, ActivityKind::GuestAccessEnded, "ISP", stop);
    let c = store
        .end_guest_access(second.guest.id, stop, &ended)
        .await
        .unwrap();
    assert_eq!(c.guest.as_ref().and_then(|g| g.access_ends_at), Some(stop));
    assert_eq!(store.contact(second.guest.id).await.unwrap(), c);
    assert_err!(
        store
            .authenticate(&s2.token_hash, stop + secs(1), &no_slide(), &req)
            .await,
        Error::Revoked {
            entity: Entity::Session
        }
    );
    let again = store
        .end_guest_access(second.guest.id, stop + hours(1), &ended)
        .await
        .unwrap();
    assert_eq!(
        again.guest.and_then(|g| g.access_ends_at),
        Some(stop),
        "an earlier end stays"
    );
    let first = store
        .end_guest_access(id, t0() + hours(9), &ended)
        .await
        .unwrap();
    assert_eq!(
        first.guest.and_then(|g| g.access_ends_at),
        Some(ends),
        "ending after the set end keeps the set end"
    );
    assert_err!(
        store.end_guest_access(w.contact.id, stop, &ended).await,
        Error::Invalid { .. }
    );
    assert_eq!(
        feed_count(store, &w, ActivityKind::GuestAccessEnded).await,
        3
    );
    // The client's own contact is untouched by any of it.
    assert!(store.contact(w.contact.id).await.unwrap().guest.is_none());
}
