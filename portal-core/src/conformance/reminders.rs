//! Conformance checks of [`crate::store::ReminderStore`]: settings (defaults until
//! set), one digest per contact and local date (also under a race), steps kept at
//! their highest, the digest's email queued with it or not at all, snoozes and
//! unsubscribes, last visits from the access log, escalation as a compare-and-set, and
//! the portal scoping of all of it. Emails queued here are due in 2999, so the outbox
//! checks never claim them.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::support::{World, another_contact, assert_err, new_contact, race_all, secs, t0, world};
use super::workflow::task_in;
use crate::error::{Entity, Error};
use crate::ids::{MailId, TaskId};
use crate::mail::Email;
use crate::model::{EmailAddress, TaskKind};
use crate::outbox::{MailKind, OutboxMessage};
use crate::random::OsRandom;
use crate::reminders::{ContactReminders, ReminderSettings};
use crate::store::{AccessEvent, AccessLogEntry, RequestInfo, SentDigest, Store};

/// A pending email of `w`'s tenant, parked in 2999.
pub(super) fn parked_mail(w: &World) -> OutboxMessage {
    let at = DateTime::parse_from_rfc3339("2999-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    OutboxMessage::new(
        MailId::random(&OsRandom),
        w.tenant.id,
        Some(w.portal.id),
        MailKind::Reminder,
        Email {
            to: EmailAddress::parse("jane@client.example").unwrap(),
            to_name: None,
            subject: "Reminder".to_owned(),
            text: "t".to_owned(),
            html: "h".to_owned(),
            sender: None,
            list_unsubscribe: Some("https://portal.example/r/unsubscribe/x".to_owned()),
            attachments: Vec::new(),
        },
        at,
    )
}

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, n).unwrap()
}

fn digest(w: &World, date: NaiveDate, steps: Vec<(TaskId, u32)>) -> SentDigest {
    SentDigest {
        portal_id: w.portal.id,
        contact_id: w.contact.id,
        local_date: date,
        sent_at: t0(),
        steps,
    }
}

async fn mine(store: &dyn Store, w: &World) -> ContactReminders {
    store
        .reminder_state(w.portal.id)
        .await
        .unwrap()
        .contacts
        .into_iter()
        .find(|c| c.contact.id == w.contact.id)
        .expect("reminder_state lists every contact of the portal")
}

/// Settings are the defaults until set, then as set; a missing portal is `NotFound`.
pub async fn reminder_settings_round_trip(store: &dyn Store) {
    let w = world(store).await;
    assert_eq!(
        store.reminder_settings(w.portal.id).await.unwrap(),
        ReminderSettings::default(),
        "never set: the defaults"
    );
    let tuned = ReminderSettings {
        days_before: 5,
        on_due_date: false,
        repeat_every_days: 3,
        local_hour: 14,
        escalate_after_days: 0,
        ..ReminderSettings::default()
    };
    store
        .set_reminder_settings(w.portal.id, &tuned, None)
        .await
        .unwrap();
    assert_eq!(store.reminder_settings(w.portal.id).await.unwrap(), tuned);
    assert_eq!(
        store.reminder_state(w.portal.id).await.unwrap().settings,
        tuned
    );
    let other = world(store).await;
    assert_eq!(
        store.reminder_settings(other.portal.id).await.unwrap(),
        ReminderSettings::default(),
        "settings are per portal"
    );
    let missing = new_contact(crate::ids::PortalId::random(&OsRandom), "x@y.example", t0());
    assert_err!(
        store.reminder_settings(missing.portal_id).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
    assert_err!(
        store
            .set_reminder_settings(missing.portal_id, &tuned, None)
            .await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
    assert_err!(
        store.reminder_state(missing.portal_id).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
}

/// One digest per contact and local date: a second is `Conflict` and queues nothing;
/// steps are kept at their highest; the digest's email is queued with it.
pub async fn reminder_digest_once_per_day(store: &dyn Store) {
    let w = world(store).await;
    let a = task_in(store, &w, TaskKind::Standard).await;
    let b = task_in(store, &w, TaskKind::Standard).await;
    let fresh = mine(store, &w).await;
    assert_eq!(fresh.last_digest_on, None);
    assert!(fresh.steps.is_empty() && fresh.snoozes.is_empty());
    assert_eq!(fresh.unsubscribed_at, None);

    let first = parked_mail(&w);
    store
        .record_digest(
            &digest(&w, day(2), vec![(a.id, 2), (b.id, 0)]),
            std::slice::from_ref(&first),
        )
        .await
        .unwrap();
    let queued = store.outbox_message(first.id).await.unwrap();
    assert_eq!(queued, first, "the digest's email is queued as given");
    let after = mine(store, &w).await;
    assert_eq!(after.last_digest_on, Some(day(2)));
    let mut steps = after.steps.clone();
    steps.sort();
    let mut want = vec![(a.id, 2), (b.id, 0)];
    want.sort();
    assert_eq!(steps, want);

    let again = parked_mail(&w);
    assert_err!(
        store
            .record_digest(
                &digest(&w, day(2), vec![(a.id, 3)]),
                std::slice::from_ref(&again)
            )
            .await,
        Error::Conflict { .. }
    );
    assert_err!(
        store.outbox_message(again.id).await,
        Error::NotFound {
            entity: Entity::Email
        }
    );
    assert_eq!(
        mine(store, &w).await,
        after,
        "a refused digest writes nothing"
    );

    // The next day: steps go up, never down.
    store
        .record_digest(&digest(&w, day(3), vec![(a.id, 1), (b.id, 1)]), &[])
        .await
        .unwrap();
    let next = mine(store, &w).await;
    assert_eq!(next.last_digest_on, Some(day(3)));
    let step = |id: TaskId| next.steps.iter().find(|(t, _)| *t == id).unwrap().1;
    assert_eq!(step(a.id), 2, "a lower step does not replace a higher one");
    assert_eq!(step(b.id), 1);
    // An older date recorded late does not move the newest date back.
    store
        .record_digest(&digest(&w, day(1), vec![]), &[])
        .await
        .unwrap();
    assert_eq!(mine(store, &w).await.last_digest_on, Some(day(3)));

    // Scoping: a contact or task of another portal.
    let other = world(store).await;
    let foreign_task = task_in(store, &other, TaskKind::Standard).await;
    let mut foreign = digest(&w, day(4), vec![]);
    foreign.contact_id = other.contact.id;
    assert_err!(
        store.record_digest(&foreign, &[]).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    let mail = parked_mail(&w);
    assert_err!(
        store
            .record_digest(
                &digest(&w, day(4), vec![(foreign_task.id, 0)]),
                std::slice::from_ref(&mail)
            )
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert!(store.outbox_message(mail.id).await.is_err());
    assert_eq!(mine(store, &w).await.last_digest_on, Some(day(3)));
}

/// Racing digests for one contact and date: exactly one is recorded and queued.
pub async fn concurrent_digests(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let mails: Vec<OutboxMessage> = (0..8).map(|_| parked_mail(&w)).collect();
    let results = race_all(
        mails
            .iter()
            .map(|m| {
                let store = store.clone();
                let d = digest(&w, day(9), vec![]);
                let m = m.clone();
                async move { store.record_digest(&d, &[m]).await }
            })
            .collect(),
    )
    .await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "exactly one racing digest wins: {results:?}");
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(Error::Conflict { .. })))
    );
    let mut queued = 0;
    for m in &mails {
        if store.outbox_message(m.id).await.is_ok() {
            queued += 1;
        }
    }
    assert_eq!(queued, 1, "only the winner's email is queued");
}

/// Snoozes are set and replaced, scoped by portal, task and contact; unsubscribing
/// keeps the first time.
pub async fn reminder_snooze_and_unsubscribe(store: &dyn Store) {
    let w = world(store).await;
    let task = task_in(store, &w, TaskKind::Standard).await;
    // Another task of the same portal: snoozing one task leaves it due.
    let _unsnoozed = task_in(store, &w, TaskKind::Standard).await;
    store
        .snooze_task(w.portal.id, w.contact.id, task.id, t0() + secs(60))
        .await
        .unwrap();
    assert_eq!(
        mine(store, &w).await.snoozes,
        vec![(task.id, t0() + secs(60))]
    );
    store
        .snooze_task(w.portal.id, w.contact.id, task.id, t0() + secs(30))
        .await
        .unwrap();
    assert_eq!(
        mine(store, &w).await.snoozes,
        vec![(task.id, t0() + secs(30))],
        "a snooze replaces the previous one"
    );
    let other = world(store).await;
    let foreign = task_in(store, &other, TaskKind::Standard).await;
    assert_err!(
        store
            .snooze_task(w.portal.id, w.contact.id, foreign.id, t0())
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store
            .snooze_task(w.portal.id, other.contact.id, task.id, t0())
            .await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    // Another contact of the same portal is untouched.
    let second = another_contact(store, &w, "second@client.example").await;
    store
        .unsubscribe_reminders(w.contact.id, t0() + secs(5))
        .await
        .unwrap();
    store
        .unsubscribe_reminders(w.contact.id, t0() + secs(9))
        .await
        .unwrap();
    let state = store.reminder_state(w.portal.id).await.unwrap();
    let of = |id| {
        state
            .contacts
            .iter()
            .find(|c| c.contact.id == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        of(w.contact.id).unsubscribed_at,
        Some(t0() + secs(5)),
        "the first unsubscribe time stays"
    );
    assert_eq!(
        of(w.contact.id).snoozes.len(),
        1,
        "unsubscribing keeps snoozes"
    );
    assert_eq!(of(second.id).unsubscribed_at, None, "only that contact");
    assert!(
        of(second.id).snoozes.is_empty(),
        "a snooze is the contact's own: another contact of the portal is still reminded"
    );
    assert_eq!(
        state
            .contacts
            .iter()
            .map(|c| c.contact.id)
            .collect::<Vec<_>>(),
        vec![w.contact.id, second.id],
        "contacts oldest first"
    );
    assert_err!(
        store
            .unsubscribe_reminders(crate::ids::ContactId::random(&OsRandom), t0())
            .await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
}

/// A contact's last visit is its newest `Verified` or `PortalRequest` access entry.
pub async fn reminder_last_visit(store: &dyn Store) {
    let w = world(store).await;
    assert_eq!(mine(store, &w).await.last_visit, None);
    let entry = |at, event| AccessLogEntry {
        at,
        portal_id: w.portal.id,
        contact_id: w.contact.id,
        event,
        request: RequestInfo::default(),
    };
    for (at, event) in [
        (t0() + secs(10), AccessEvent::Verified),
        (t0() + secs(30), AccessEvent::PortalRequest),
        (t0() + secs(20), AccessEvent::PortalRequest),
        (t0() + secs(99), AccessEvent::InviteOpened),
        (t0() + secs(98), AccessEvent::CodeSent),
    ] {
        store.record_access(&entry(at, event)).await.unwrap();
    }
    assert_eq!(
        mine(store, &w).await.last_visit,
        Some(t0() + secs(30)),
        "opening the invite or asking for a code is not a visit"
    );
}

/// Escalation is a compare-and-set of the portal's last escalation.
pub async fn reminder_escalation_compare_and_set(store: &dyn Store) {
    let w = world(store).await;
    assert_eq!(
        store
            .reminder_state(w.portal.id)
            .await
            .unwrap()
            .last_escalation,
        None
    );
    let m1 = parked_mail(&w);
    store
        .record_escalation(w.portal.id, None, t0(), std::slice::from_ref(&m1))
        .await
        .unwrap();
    assert!(store.outbox_message(m1.id).await.is_ok());
    let m2 = parked_mail(&w);
    assert_err!(
        store
            .record_escalation(w.portal.id, None, t0() + secs(1), std::slice::from_ref(&m2))
            .await,
        Error::Conflict { .. }
    );
    assert!(
        store.outbox_message(m2.id).await.is_err(),
        "a refused escalation queues nothing"
    );
    store
        .record_escalation(w.portal.id, Some(t0()), t0() + secs(2), &[])
        .await
        .unwrap();
    assert_eq!(
        store
            .reminder_state(w.portal.id)
            .await
            .unwrap()
            .last_escalation,
        Some(t0() + secs(2))
    );
    let other = world(store).await;
    assert_eq!(
        store
            .reminder_state(other.portal.id)
            .await
            .unwrap()
            .last_escalation,
        None,
        "per portal"
    );
}
