//! [`ReminderStore`] for [`SqliteStore`]: reminder settings, digests, steps, snoozes,
//! unsubscribes and escalations (tables of migration 7).
//!
//! "One digest per contact and local date" is the primary key of `reminder_digests`,
//! checked inside the write that queues the email; "one escalation per quiet spell"
//! is a compare-and-set of `escalations.at` in the write that queues its emails. The
//! single writer makes both exact across the processes sharing the file.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use portal_core::model::Contact;
use portal_core::outbox::OutboxMessage;
use portal_core::reminders::{ContactReminders, ReminderSettings, ReminderState};
use portal_core::store::{ReminderStore, SentDigest};
use portal_core::workflow::ActivityEntry;
use portal_core::{ContactId, Entity, Error, PortalId, Result, TaskId};

use crate::SqliteStore;
use crate::codec::{self, DbResult, contact_cols, micros};
use crate::directory::{exists, portal_exists};

fn check_portal(conn: &Connection, portal: PortalId) -> Result<()> {
    if portal_exists(conn, portal)? {
        Ok(())
    } else {
        Err(Error::NotFound {
            entity: Entity::Portal,
        })
    }
}

fn check_contact(conn: &Connection, portal: PortalId, contact: ContactId) -> Result<()> {
    if exists(
        conn,
        "SELECT 1 FROM contacts WHERE id = ?1 AND portal_id = ?2",
        params![&contact.as_bytes()[..], &portal.as_bytes()[..]],
    )? {
        Ok(())
    } else {
        Err(Error::NotFound {
            entity: Entity::Contact,
        })
    }
}

fn check_task(conn: &Connection, portal: PortalId, task: TaskId) -> Result<()> {
    if exists(
        conn,
        "SELECT 1 FROM tasks WHERE id = ?1 AND portal_id = ?2",
        params![&task.as_bytes()[..], &portal.as_bytes()[..]],
    )? {
        Ok(())
    } else {
        Err(Error::NotFound {
            entity: Entity::Task,
        })
    }
}

fn settings(conn: &Connection, portal: PortalId) -> Result<ReminderSettings> {
    let stored: Option<ReminderSettings> = conn
        .prepare_cached("SELECT settings FROM reminder_settings WHERE portal_id = ?1")
        .and_then(|mut s| {
            s.query_row([&portal.as_bytes()[..]], |row| codec::json(row, 0))
                .optional()
        })
        .db("reading reminder settings")?;
    Ok(stored.unwrap_or_default())
}

fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Error::storage_msg("a reminder date is not YYYY-MM-DD"))
}

/// Rows of one of the per-contact tables of a portal: (contact, task, value).
fn per_task(
    conn: &Connection,
    sql: &str,
    portal: PortalId,
    what: &'static str,
) -> Result<Vec<(ContactId, TaskId, i64)>> {
    let mut stmt = conn.prepare_cached(sql).db(what)?;
    stmt.query_map([&portal.as_bytes()[..]], |row| {
        Ok((
            codec::contact_id(row, 0)?,
            codec::task_id(row, 1)?,
            row.get::<_, i64>(2)?,
        ))
    })
    .and_then(Iterator::collect)
    .db(what)
}

fn state(conn: &Connection, portal: PortalId) -> Result<ReminderState> {
    check_portal(conn, portal)?;
    let p = &portal.as_bytes()[..];
    let mut contacts: Vec<ContactReminders> = {
        let mut stmt = conn
            .prepare_cached(concat!(
                "SELECT ",
                contact_cols!(),
                ", r.unsubscribed_at,
                   (SELECT MAX(d.local_date) FROM reminder_digests d WHERE d.contact_id = c.id),
                   (SELECT MAX(a.at) FROM access_log a
                     WHERE a.portal_id = c.portal_id AND a.contact_id = c.id
                       AND a.event IN ('verified', 'portal_request'))
                 FROM contacts c LEFT JOIN reminder_contacts r ON r.contact_id = c.id
                WHERE c.portal_id = ?1 ORDER BY c.created_at, c.rowid"
            ))
            .db("reading reminder contacts")?;
        let rows: Vec<(ContactReminders, Option<String>)> = stmt
            .query_map([p], |row| {
                let base = codec::CONTACT_WIDTH;
                let mut c = ContactReminders::new(codec::contact_at(row, 0)?);
                c.unsubscribed_at = codec::opt_time(row, base)?;
                c.last_visit = codec::opt_time(row, base + 2)?;
                Ok((c, row.get::<_, Option<String>>(base + 1)?))
            })
            .and_then(Iterator::collect)
            .db("reading reminder contacts")?;
        rows.into_iter()
            .map(|(mut c, date)| {
                c.last_digest_on = date.as_deref().map(parse_date).transpose()?;
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
        conn,
        "SELECT s.contact_id, s.task_id, s.step FROM reminder_steps s
           JOIN contacts c ON c.id = s.contact_id WHERE c.portal_id = ?1
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
        conn,
        "SELECT s.contact_id, s.task_id, s.until FROM reminder_snoozes s
           JOIN contacts c ON c.id = s.contact_id WHERE c.portal_id = ?1
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
    let last_escalation = conn
        .prepare_cached("SELECT at FROM escalations WHERE portal_id = ?1")
        .and_then(|mut s| s.query_row([p], |row| codec::time(row, 0)).optional())
        .db("reading the last escalation")?;
    Ok(ReminderState {
        settings: settings(conn, portal)?,
        contacts,
        last_escalation,
    })
}

#[async_trait]
impl ReminderStore for SqliteStore {
    async fn reminder_settings(&self, portal: PortalId) -> Result<ReminderSettings> {
        self.read(move |conn| {
            check_portal(conn, portal)?;
            settings(conn, portal)
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
        self.write_recorded(entry.portal(), move |conn| {
            check_portal(conn, portal)?;
            entry.insert(conn, portal)?;
            conn.prepare_cached(
                "INSERT INTO reminder_settings (portal_id, settings) VALUES (?1, ?2)
                 ON CONFLICT (portal_id) DO UPDATE SET settings = excluded.settings",
            )
            .and_then(|mut s| s.execute(params![&portal.as_bytes()[..], json]))
            .db("storing reminder settings")?;
            Ok(())
        })
        .await
    }

    async fn reminder_state(&self, portal: PortalId) -> Result<ReminderState> {
        // The last visits come from the access log: queued entries count.
        self.flush_access_log().await?;
        self.read(move |conn| {
            // One read transaction: every table seen at the same commit.
            let tx = conn.transaction().db("starting a read")?;
            let state = state(&tx, portal)?;
            tx.finish().db("ending a read")?;
            Ok(state)
        })
        .await
    }

    async fn record_digest(&self, digest: &SentDigest, emails: &[OutboxMessage]) -> Result<()> {
        let d = digest.clone();
        let emails = emails.to_vec();
        self.write(move |conn| {
            check_contact(conn, d.portal_id, d.contact_id)?;
            for (task, _) in &d.steps {
                check_task(conn, d.portal_id, *task)?;
            }
            let contact = &d.contact_id.as_bytes()[..];
            let date = codec::date_str(d.local_date);
            if exists(
                conn,
                "SELECT 1 FROM reminder_digests WHERE contact_id = ?1 AND local_date = ?2",
                params![contact, date],
            )? {
                return Err(Error::conflict(
                    "a reminder digest was already sent to this contact on this date",
                ));
            }
            conn.prepare_cached(
                "INSERT INTO reminder_digests (contact_id, local_date, portal_id, sent_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    contact,
                    date,
                    &d.portal_id.as_bytes()[..],
                    micros(d.sent_at)
                ])
            })
            .db("recording a reminder digest")?;
            let mut step = conn
                .prepare_cached(
                    "INSERT INTO reminder_steps (contact_id, task_id, step) VALUES (?1, ?2, ?3)
                     ON CONFLICT (contact_id, task_id)
                     DO UPDATE SET step = MAX(step, excluded.step)",
                )
                .db("recording reminder steps")?;
            for (task, n) in &d.steps {
                step.execute(params![contact, &task.as_bytes()[..], i64::from(*n)])
                    .db("recording reminder steps")?;
            }
            crate::outbox::insert(conn, &emails)
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
        self.write(move |conn| {
            check_portal(conn, portal)?;
            let p = &portal.as_bytes()[..];
            let stored = conn
                .prepare_cached("SELECT at FROM escalations WHERE portal_id = ?1")
                .and_then(|mut s| s.query_row([p], |row| codec::time(row, 0)).optional())
                .db("reading the last escalation")?;
            if stored != previous {
                return Err(Error::conflict(
                    "the portal was escalated since its state was read",
                ));
            }
            conn.prepare_cached(
                "INSERT INTO escalations (portal_id, at) VALUES (?1, ?2)
                 ON CONFLICT (portal_id) DO UPDATE SET at = excluded.at",
            )
            .and_then(|mut s| s.execute(params![p, micros(at)]))
            .db("recording an escalation")?;
            crate::outbox::insert(conn, &emails)
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
        self.write(move |conn| {
            let current = crate::access::load_target(conn, contact)?.contact;
            let next = portal_core::workflow::handover::record_stall(&current, at)?;
            crate::access::write_guest(conn, contact, &next)?;
            crate::outbox::insert(conn, &emails)?;
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
        self.write(move |conn| {
            check_contact(conn, portal, contact)?;
            check_task(conn, portal, task)?;
            conn.prepare_cached(
                "INSERT INTO reminder_snoozes (contact_id, task_id, until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (contact_id, task_id) DO UPDATE SET until = excluded.until",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &contact.as_bytes()[..],
                    &task.as_bytes()[..],
                    micros(until)
                ])
            })
            .db("snoozing a task's reminders")?;
            Ok(())
        })
        .await
    }

    async fn unsubscribe_reminders(&self, contact: ContactId, at: DateTime<Utc>) -> Result<()> {
        self.write(move |conn| {
            let c = &contact.as_bytes()[..];
            if !exists(conn, "SELECT 1 FROM contacts WHERE id = ?1", [c])? {
                return Err(Error::NotFound {
                    entity: Entity::Contact,
                });
            }
            conn.prepare_cached(
                "INSERT INTO reminder_contacts (contact_id, unsubscribed_at) VALUES (?1, ?2)
                 ON CONFLICT (contact_id) DO UPDATE
                 SET unsubscribed_at = COALESCE(unsubscribed_at, excluded.unsubscribed_at)",
            )
            .and_then(|mut s| s.execute(params![c, micros(at)]))
            .db("turning reminders off")?;
            Ok(())
        })
        .await
    }
}
