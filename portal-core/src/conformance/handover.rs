//! The handover from a client's previous provider
//! ([`crate::store::AccessStore::start_handover`]): the built-in phase, its tasks and
//! the outgoing provider's guest (both tasks shared, invite, invitation, entry) in
//! one unit, and one handover per portal while its phase exists.

use super::outbox::{absent, mail, parked, read};
use super::support::{World, assert_err, mins, new_contact, phase, t0, token, world};
use crate::error::{Entity, Error};
use crate::ids::{ContactId, PhaseId, TaskId};
use crate::model::{Contact, Guest};
use crate::random::OsRandom;
use crate::store::{NewGuest, NewHandover, Store};
use crate::workflow::evidence::Actor;
use crate::workflow::handover::{self, HandoverIds};
use crate::workflow::{ActivityEntry, ActivityKind};

/// A handover of `w`'s portal for a guest with `email`, its feed entry for `entry_portal`.
fn new_handover(w: &World, email: &str) -> NewHandover {
    let ids = HandoverIds {
        portal: w.portal.id,
        phase: PhaseId::random(&OsRandom),
        checklist: TaskId::random(&OsRandom),
        credentials: TaskId::random(&OsRandom),
        guest: ContactId::random(&OsRandom),
    };
    let at = t0() + mins(1);
    let (phase, tasks) = handover::tasks(ids, "Previous IT", "MSP", "Client", None, at);
    let mut c: Contact = new_contact(w.portal.id, email, at);
    c.id = ids.guest;
    c.name = "Gill Previous".to_owned();
    c.guest = Some(Guest {
        organisation: "Previous IT".to_owned(),
        access_ends_at: None,
        shared_tasks: tasks.iter().map(|t| t.id).collect(),
        handover_phase: Some(phase.id),
        stall_alerted_at: None,
    });
    NewHandover {
        phase,
        tasks,
        guest: NewGuest {
            activity: ActivityEntry {
                portal_id: w.portal.id,
                at,
                actor: Actor::Staff {
                    name: "Conformance".to_owned(),
                    email: None,
                },
                kind: ActivityKind::HandoverStarted,
                task_id: None,
                subject: "Previous IT".to_owned(),
                detail: Some(c.name.clone()),
            },
            guest: c,
            token: token(),
            emails: vec![mail(w, parked())],
        },
    }
}

async fn handover_entries(store: &dyn Store, w: &World) -> usize {
    store
        .activity(w.portal.id, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == ActivityKind::HandoverStarted)
        .count()
}

/// Nothing of `new` was written: no phase, no task, no guest, no invite, no email.
async fn assert_not_written(store: &dyn Store, w: &World, new: &NewHandover, what: &str) {
    let snap = store.portal_snapshot(w.portal.id).await.unwrap();
    assert!(
        snap.phases.iter().all(|p| p.id != new.phase.id),
        "{what}: the refused handover's phase was written"
    );
    assert!(
        snap.tasks
            .iter()
            .all(|t| new.tasks.iter().all(|n| n.id != t.id)),
        "{what}: a task of the refused handover was written"
    );
    assert_err!(
        store.contact(new.guest.guest.id).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store.open_invite(&new.guest.token, t0() + mins(2)).await,
        Error::NotFound {
            entity: Entity::Invite
        }
    );
    for m in &new.guest.emails {
        absent(store, m.id, what).await;
    }
}

/// `start_handover` appends the phase last with its tasks in order, and writes the
/// guest with exactly the phase's tasks shared and the phase named as their handover,
/// their invite, the invitation and the entry; a second handover while the phase
/// exists is `Conflict`; any refusal (a taken email, an entry of another portal,
/// records that do not belong together, a second handover) writes nothing at all.
pub async fn handover_in_one_unit(store: &dyn Store) {
    let w = world(store).await;
    let before = phase(store, w.portal.id, "Kick-off").await;

    // A refusal of the guest's part refuses the phase and its tasks too.
    let taken = new_handover(&w, w.contact.email.as_str());
    assert_err!(store.start_handover(&taken).await, Error::Conflict { .. });
    assert_not_written(store, &w, &taken, "a handover to a taken email").await;
    let other = world(store).await;
    let mut foreign = new_handover(&w, "gill@previous-it.example");
    foreign.guest.activity.portal_id = other.portal.id;
    assert_err!(store.start_handover(&foreign).await, Error::Invalid { .. });
    assert_not_written(
        store,
        &w,
        &foreign,
        "a handover with another portal's entry",
    )
    .await;
    let mut half = new_handover(&w, "gill@previous-it.example");
    if let Some(g) = half.guest.guest.guest.as_mut() {
        g.shared_tasks.truncate(1);
    }
    assert_err!(store.start_handover(&half).await, Error::Invalid { .. });
    assert_not_written(store, &w, &half, "a handover sharing one task of two").await;
    assert_eq!(
        handover_entries(store, &w).await,
        0,
        "refusals append nothing"
    );

    let new = new_handover(&w, "gill@previous-it.example");
    let done = store.start_handover(&new).await.unwrap();
    assert_eq!(done.phase.position, before.position + 1, "appended last");
    assert_eq!(done.phase.name, handover::PHASE_NAME);
    let ids: Vec<TaskId> = new.tasks.iter().map(|t| t.id).collect();
    assert_eq!(
        done.tasks
            .iter()
            .map(|t| (t.id, t.position))
            .collect::<Vec<_>>(),
        vec![(ids[0], 0), (ids[1], 1)],
        "the tasks in the order given"
    );
    let snap = store.portal_snapshot(w.portal.id).await.unwrap();
    assert_eq!(
        snap.phases.last(),
        Some(&done.phase),
        "the phase as answered"
    );
    for t in &done.tasks {
        assert_eq!(
            snap.tasks.iter().find(|s| s.id == t.id),
            Some(t),
            "each task as answered"
        );
    }
    let guest = store.contact(new.guest.guest.id).await.unwrap();
    assert_eq!(guest, done.guest, "the guest as answered");
    let record = guest.guest.clone().expect("a guest record");
    assert_eq!(record.shared_tasks, ids, "both tasks shared with the guest");
    assert_eq!(record.handover_phase, Some(done.phase.id));
    assert_eq!(
        store
            .open_invite(&new.guest.token, t0() + mins(2))
            .await
            .unwrap()
            .contact
            .id,
        guest.id,
        "the guest's invite is written"
    );
    read(store, new.guest.emails[0].id).await;
    assert_eq!(handover_entries(store, &w).await, 1, "one entry");

    // One handover per portal while its phase exists.
    let second = new_handover(&w, "vendor@isp.example");
    assert_err!(store.start_handover(&second).await, Error::Conflict { .. });
    assert_not_written(store, &w, &second, "a second handover").await;
    assert_eq!(handover_entries(store, &w).await, 1, "no second entry");
    // Another portal's handover is its own.
    let elsewhere = new_handover(&other, "gill@previous-it.example");
    store.start_handover(&elsewhere).await.unwrap();
}

/// `record_handover_stall` stores the guest's `stall_alerted_at` with the alert's
/// emails in one unit and answers the guest as stored; a second alert of the same
/// handover is `Conflict` with nothing queued; a contact who is no handover guest is
/// `Invalid`, a missing one `NotFound(Contact)`, both with nothing queued.
pub async fn handover_stall_alerted_once(store: &dyn Store) {
    let w = world(store).await;
    let new = new_handover(&w, "gill@previous-it.example");
    store.start_handover(&new).await.unwrap();
    let guest = new.guest.guest.id;
    let at = t0() + mins(30);
    let alert = [mail(&w, parked())];
    let stored = store
        .record_handover_stall(guest, at, &alert)
        .await
        .unwrap();
    let record = stored.guest.clone().expect("a guest record");
    assert_eq!(record.stall_alerted_at, Some(at), "the alert is recorded");
    assert_eq!(
        store.contact(guest).await.unwrap(),
        stored,
        "the guest as answered"
    );
    read(store, alert[0].id).await;
    let again = [mail(&w, parked())];
    assert_err!(
        store
            .record_handover_stall(guest, at + mins(15), &again)
            .await,
        Error::Conflict { .. }
    );
    absent(store, again[0].id, "a second stall alert").await;
    assert_eq!(
        store
            .contact(guest)
            .await
            .unwrap()
            .guest
            .unwrap()
            .stall_alerted_at,
        Some(at),
        "the first alert stays"
    );
    let plain = [mail(&w, parked())];
    assert_err!(
        store.record_handover_stall(w.contact.id, at, &plain).await,
        Error::Invalid { .. }
    );
    absent(store, plain[0].id, "a stall alert for a client contact").await;
    let missing = [mail(&w, parked())];
    assert_err!(
        store
            .record_handover_stall(ContactId::random(&OsRandom), at, &missing)
            .await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    absent(store, missing[0].id, "a stall alert for a missing contact").await;
}
