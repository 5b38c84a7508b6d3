//! [`ReminderStore`] for [`PostgresStore`]: reminder settings, digests, steps, snoozes,
//! unsubscribes and escalations.
//!
//! "One digest per contact and local date" is the primary key of `reminder_digests`,
//! checked inside the unit that queues the email; "one escalation per quiet spell"
//! is a compare-and-set of `escalations.at` in the unit that queues its emails. Units
//! run `SERIALIZABLE` (see [`crate::tx`]), which makes both exact across the nodes
//! sharing the database: of two racing units one commits, the other runs again and
//! sees it.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use portal_core::model::Contact;
use portal_core::outbox::OutboxMessage;
use portal_core::reminders::{ContactReminders, ReminderSettings, ReminderState};
use portal_core::store::{ReminderStore, SentDigest};
use portal_core::workflow::ActivityEntry;
use portal_core::{ContactId, Entity, Error, PortalId, Result, TaskId};

use crate::PostgresStore;
use crate::codec::{self, DbResult, contact_cols, micros};
use crate::directory::{exists, portal_exists};
use crate::tx::Tx;

fn check_portal(tx: &mut Tx<'_>, portal: PortalId) -> Result<()> {
    if portal_exists(tx, portal)? {
        Ok(())
    } else {
        Err(Error::NotFound {
            entity: Entity::Portal,
        })
    }
}

fn check_contact(tx: &mut Tx<'_>, portal: PortalId, contact: ContactId) -> Result<()> {
    if exists(
        tx,
        "SELECT 1 FROM contacts WHERE id = $1 AND portal_id = $2",
        &[&&contact.as_bytes()[..], &&portal.as_bytes()[..]],
    )? {
        Ok(())
    } else {
        Err(Error::NotFound {
            entity: Entity::Contact,
        })
    }
}

fn check_task(tx: &mut Tx<'_>, portal: PortalId, task: TaskId) -> Result<()> {
    if exists(
        tx,
        "SELECT 1 FROM tasks WHERE id = $1 AND portal_id = $2",
        &[&&task.as_bytes()[..], &&portal.as_bytes()[..]],
    )? {
        Ok(())
    } else {
        Err(Error::NotFound {
            entity: Entity::Task,
        })
    }
}

fn settings(tx: &mut Tx<'_>, portal: PortalId) -> Result<ReminderSettings> {
    let row = tx
        .query_opt(
            "SELECT settings FROM reminder_settings WHERE portal_id = $1",
            &[&&portal.as_bytes()[..]],
        )
        .db("reading reminder settings")?;
    let stored: Option<ReminderSettings> = row.map(|r| codec::json(&r, 0)).transpose()?;
    Ok(stored.unwrap_or_default())
}

fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Error::storage_msg("a reminder date is not YYYY-MM-DD"))
}

/// Rows of one of the per-contact tables of a portal: (contact, task, value).
fn per_task(
    tx: &mut Tx<'_>,
    sql: &str,
    portal: PortalId,
    what: &'static str,
) -> Result<Vec<(ContactId, TaskId, i64)>> {
    tx.query(sql, &[&&portal.as_bytes()[..]])
        .db(what)?
        .iter()
        .map(|row| {
            Ok((
                codec::contact_id(row, 0)?,
                codec::task_id(row, 1)?,
                codec::get::<i64>(row, 2)?,
            ))
        })
        .collect()
}

/// The last escalation of a portal, if any.
fn last_escalation(tx: &mut Tx<'_>, portal: PortalId) -> Result<Option<DateTime<Utc>>> {
    tx.query_opt(
        "SELECT at FROM escalations WHERE portal_id = $1",
        &[&&portal.as_bytes()[..]],
    )
    .db("reading the last escalation")?
    .map(|row| codec::time(&row, 0))
    .transpose()
}

fn state(tx: &mut Tx<'_>, portal: PortalId) -> Result<ReminderState> {
    check_portal(tx, portal)?;
    let p = &portal.as_bytes()[..];
    let mut contacts: Vec<ContactReminders> = {
        let rows = tx
            .query(
                concat!(
                    "SELECT ",
                    contact_cols!(),
                    ", r.unsubscribed_at,
                       (SELECT MAX(d.local_date) FROM reminder_digests d WHERE d.contact_id = c.id),
                       (SELECT MAX(a.at) FROM access_log a
                         WHERE a.portal_id = c.portal_id AND a.contact_id = c.id
                           AND a.event IN ('verified', 'portal_request'))
                     FROM contacts c LEFT JOIN reminder_contacts r ON r.contact_id = c.id
                    WHERE c.portal_id = $1 ORDER BY c.created_at, c.rowid"
                ),
                &[&p],
            )
            .db("reading reminder contacts")?;
        rows.iter()
            .map(|row| {
                let base = codec::CONTACT_WIDTH;
                let mut c = ContactReminders::new(codec::contact_at(row, 0)?);
                c.unsubscribed_at = codec::opt_time(row, base)?;
                c.last_visit = codec::opt_time(row, base + 2)?;
                c.last_digest_on = codec::get::<Option<&str>>(row, base + 1)?
                    .map(parse_date)
                    .transpose()?;
                Ok(c)
            })
            .collect::<Result<_>>()?
    };
    let index: HashMap<ContactId, usize> = contacts
        .iter()
        .enumerate()
        .map(|(i, c)| (c.contact.id, i))
        .collect();
    for (contact, task, step) in per_task(
        tx,
        "SELECT s.contact_id, s.task_id, s.step FROM reminder_steps s
           JOIN contacts c ON c.id = s.contact_id WHERE c.portal_id = $1
          ORDER BY s.contact_id, s.task_id",
        portal,
        "reading reminder steps",
    )? {
        if let Some(&i) = index.get(&contact) {
            let step = u32::try_from(step)
                .map_err(|_| Error::storage_msg("a reminder step is out of range"))?;
            contacts[i].steps.push((task, step));
        }
    }
    for (contact, task, until) in per_task(
        tx,
        "SELECT s.contact_id, s.task_id, s.until FROM reminder_snoozes s
           JOIN contacts c ON c.id = s.contact_id WHERE c.portal_id = $1
          ORDER BY s.contact_id, s.task_id",
        portal,
        "reading reminder snoozes",
    )? {
        if let Some(&i) = index.get(&contact) {
            let until = DateTime::<Utc>::from_timestamp_micros(until)
                .ok_or_else(|| Error::storage_msg("a snooze time is out of range"))?;
            contacts[i].snoozes.push((task, until));
        }
    }
    let last_escalation = last_escalation(tx, portal)?;
    Ok(ReminderState {
        settings: settings(tx, portal)?,
        contacts,
        last_escalation,
    })
}

#[async_trait]
impl ReminderStore for PostgresStore {
    async fn reminder_settings(&self, portal: PortalId) -> Result<ReminderSettings> {
        self.read(move |tx| {
            check_portal(tx, portal)?;
            settings(tx, portal)
        })
        .await
    }

    async fn set_reminder_settings(
        &self,
        portal: PortalId,
        settings: &ReminderSettings,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        let json = codec::to_json(settings)?;
        let entry = crate::workflow::rows::Recorded::new(activity)?;
        self.write_recorded(entry.portal(), move |tx| {
            check_portal(tx, portal)?;
            entry.insert(tx, portal)?;
            tx.execute(
                "INSERT INTO reminder_settings (portal_id, settings) VALUES ($1, $2)
                 ON CONFLICT (portal_id) DO UPDATE SET settings = excluded.settings",
                &[&&portal.as_bytes()[..], &json],
            )
            .db("storing reminder settings")?;
            Ok(())
        })
        .await
    }

    async fn reminder_state(&self, portal: PortalId) -> Result<ReminderState> {
        // One REPEATABLE READ unit: every table seen at the same commit.
        self.read(move |tx| state(tx, portal)).await
    }

    async fn record_digest(&self, digest: &SentDigest, emails: &[OutboxMessage]) -> Result<()> {
        let d = digest.clone();
        let emails = emails.to_vec();
        self.write(move |tx| {
            check_contact(tx, d.portal_id, d.contact_id)?;
            for (task, _) in &d.steps {
                check_task(tx, d.portal_id, *task)?;
            }
            let contact = &d.contact_id.as_bytes()[..];
            let date = codec::date_str(d.local_date);
            if exists(
                tx,
                "SELECT 1 FROM reminder_digests WHERE contact_id = $1 AND local_date = $2",
                &[&contact, &date],
            )? {
                return Err(Error::conflict(
                    "a reminder digest was already sent to this contact on this date",
                ));
            }
            tx.execute(
                "INSERT INTO reminder_digests (contact_id, local_date, portal_id, sent_at)
                 VALUES ($1, $2, $3, $4)",
                &[
                    &contact,
                    &date,
                    &&d.portal_id.as_bytes()[..],
                    &micros(d.sent_at),
                ],
            )
            .db("recording a reminder digest")?;
            let step = tx
                .prepare(
                    "INSERT INTO reminder_steps (contact_id, task_id, step) VALUES ($1, $2, $3)
                     ON CONFLICT (contact_id, task_id)
                     DO UPDATE SET step = GREATEST(reminder_steps.step, excluded.step)",
                )
                .db("recording reminder steps")?;
            for (task, n) in &d.steps {
                tx.execute(&step, &[&contact, &&task.as_bytes()[..], &i64::from(*n)])
                    .db("recording reminder steps")?;
            }
            crate::outbox::insert(tx, &emails)
        })
        .await
    }

    async fn record_escalation(
        &self,
        portal: PortalId,
        previous: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        let emails = emails.to_vec();
        self.write(move |tx| {
            check_portal(tx, portal)?;
            let stored = last_escalation(tx, portal)?;
            if stored != previous {
                return Err(Error::conflict(
                    "the portal was escalated since its state was read",
                ));
            }
            tx.execute(
                "INSERT INTO escalations (portal_id, at) VALUES ($1, $2)
                 ON CONFLICT (portal_id) DO UPDATE SET at = excluded.at",
                &[&&portal.as_bytes()[..], &micros(at)],
            )
            .db("recording an escalation")?;
            crate::outbox::insert(tx, &emails)
        })
        .await
    }

    async fn record_handover_stall(
        &self,
        contact: ContactId,
        at: DateTime<Utc>,
        emails: &[OutboxMessage],
    ) -> Result<Contact> {
        let emails = emails.to_vec();
        self.write(move |tx| {
            let current = crate::access::load_target(tx, contact)?.contact;
            let next = portal_core::workflow::handover::record_stall(&current, at)?;
            crate::access::write_guest(tx, contact, &next)?;
            crate::outbox::insert(tx, &emails)?;
            Ok(Contact {
                guest: Some(next),
                ..current
            })
        })
        .await
    }

    async fn snooze_task(
        &self,
        portal: PortalId,
        contact: ContactId,
        task: TaskId,
        until: DateTime<Utc>,
    ) -> Result<()> {
        self.write(move |tx| {
            check_contact(tx, portal, contact)?;
            check_task(tx, portal, task)?;
            tx.execute(
                "INSERT INTO reminder_snoozes (contact_id, task_id, until) VALUES ($1, $2, $3)
                 ON CONFLICT (contact_id, task_id) DO UPDATE SET until = excluded.until",
                &[
                    &&contact.as_bytes()[..],
                    &&task.as_bytes()[..],
                    &micros(until),
                ],
            )
            .db("snoozing a task's reminders")?;
            Ok(())
        })
        .await
    }

    async fn unsubscribe_reminders(&self, contact: ContactId, at: DateTime<Utc>) -> Result<()> {
        self.write(move |tx| {
            let c = &contact.as_bytes()[..];
            if !exists(tx, "SELECT 1 FROM contacts WHERE id = $1", &[&c])? {
                return Err(Error::NotFound {
                    entity: Entity::Contact,
                });
            }
            tx.execute(
                "INSERT INTO reminder_contacts (contact_id, unsubscribed_at) VALUES ($1, $2)
                 ON CONFLICT (contact_id) DO UPDATE
                 SET unsubscribed_at =
                     COALESCE(reminder_contacts.unsubscribed_at, excluded.unsubscribed_at)",
                &[&c, &micros(at)],
            )
            .db("turning reminders off")?;
            Ok(())
        })
        .await
    }
}
