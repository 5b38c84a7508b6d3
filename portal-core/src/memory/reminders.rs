//! [`ReminderStore`] for [`MemoryStore`]: reminder settings, digests, steps, snoozes,
//! unsubscribes and escalations.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::{MemoryStore, State, not_found};
use crate::error::{Entity, Error, Result};
use crate::ids::{ContactId, PortalId, TaskId};
use crate::model::Contact;
use crate::outbox::OutboxMessage;
use crate::reminders::{ContactReminders, ReminderSettings, ReminderState};
use crate::store::{AccessEvent, ReminderStore, SentDigest};
use crate::workflow::ActivityEntry;

/// What is remembered about one contact's reminders.
#[derive(Debug, Default)]
pub(super) struct ContactRec {
    unsubscribed_at: Option<DateTime<Utc>>,
    digests: BTreeSet<NaiveDate>,
    steps: HashMap<TaskId, u32>,
    snoozes: HashMap<TaskId, DateTime<Utc>>,
}

impl State {
    fn portal_contact(&self, portal: PortalId, contact: ContactId) -> Result<()> {
        match self.contacts.get(&contact) {
            Some(c) if c.value.portal_id == portal => Ok(()),
            _ => Err(not_found(Entity::Contact)),
        }
    }

    fn check_portal(&self, portal: PortalId) -> Result<()> {
        if self.portals.contains_key(&portal) {
            Ok(())
        } else {
            Err(not_found(Entity::Portal))
        }
    }
}

#[async_trait]
impl ReminderStore for MemoryStore {
    async fn reminder_settings(&self, portal: PortalId) -> Result<ReminderSettings> {
        self.with(|st| {
            st.check_portal(portal)?;
            Ok(st
                .reminder_settings
                .get(&portal)
                .copied()
                .unwrap_or_default())
        })
    }

    async fn set_reminder_settings(
        &self,
        portal: PortalId,
        settings: &ReminderSettings,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        self.with(|st| {
            st.check_portal(portal)?;
            if let Some(entry) = activity {
                entry.ensure_portal(portal)?;
                st.activity.push(entry.clone());
            }
            st.reminder_settings.insert(portal, *settings);
            Ok(())
        })
    }

    async fn reminder_state(&self, portal: PortalId) -> Result<ReminderState> {
        self.with(|st| {
            st.check_portal(portal)?;
            let mut contacts: Vec<_> = st
                .contacts
                .values()
                .filter(|c| c.value.portal_id == portal)
                .collect();
            contacts.sort_by_key(|c| (c.value.created_at, c.seq));
            let contacts = contacts
                .into_iter()
                .map(|c| {
                    let id = c.value.id;
                    let mut out = ContactReminders::new(c.value.clone());
                    if let Some(rec) = st.reminder_contacts.get(&id) {
                        out.unsubscribed_at = rec.unsubscribed_at;
                        out.last_digest_on = rec.digests.last().copied();
                        out.steps = rec.steps.iter().map(|(t, s)| (*t, *s)).collect();
                        out.steps.sort();
                        out.snoozes = rec.snoozes.iter().map(|(t, u)| (*t, *u)).collect();
                        out.snoozes.sort();
                    }
                    out.last_visit = st
                        .access_log
                        .iter()
                        .filter(|e| {
                            e.contact_id == id
                                && matches!(
                                    e.event,
                                    AccessEvent::Verified | AccessEvent::PortalRequest
                                )
                        })
                        .map(|e| e.at)
                        .max();
                    out
                })
                .collect();
            Ok(ReminderState {
                settings: st
                    .reminder_settings
                    .get(&portal)
                    .copied()
                    .unwrap_or_default(),
                contacts,
                last_escalation: st.escalations.get(&portal).copied(),
            })
        })
    }

    async fn record_digest(&self, digest: &SentDigest, emails: &[OutboxMessage]) -> Result<()> {
        self.with(|st| {
            st.portal_contact(digest.portal_id, digest.contact_id)?;
            for (task, _) in &digest.steps {
                st.portal_task(digest.portal_id, *task)?;
            }
            if st
                .reminder_contacts
                .get(&digest.contact_id)
                .is_some_and(|r| r.digests.contains(&digest.local_date))
            {
                return Err(Error::conflict(
                    "a reminder digest was already sent to this contact on this date",
                ));
            }
            st.check_new_mail(emails)?;
            let rec = st.reminder_contacts.entry(digest.contact_id).or_default();
            rec.digests.insert(digest.local_date);
            for (task, step) in &digest.steps {
                let stored = rec.steps.entry(*task).or_insert(*step);
                *stored = (*stored).max(*step);
            }
            st.queue_mail(emails);
            Ok(())
        })
    }

    async fn record_escalation(
        &self,
        portal: PortalId,
        previous: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        self.with(|st| {
            st.check_portal(portal)?;
            if st.escalations.get(&portal).copied() != previous {
                return Err(Error::conflict(
                    "the portal was escalated since its state was read",
                ));
            }
            st.check_new_mail(emails)?;
            st.escalations.insert(portal, at);
            st.queue_mail(emails);
            Ok(())
        })
    }

    async fn record_handover_stall(
        &self,
        contact: ContactId,
        at: DateTime<Utc>,
        emails: &[OutboxMessage],
    ) -> Result<Contact> {
        self.with(|st| {
            let current = st.contact(contact)?.clone();
            let next = crate::workflow::handover::record_stall(&current, at)?;
            st.check_new_mail(emails)?;
            st.queue_mail(emails);
            let stored = Contact {
                guest: Some(next),
                ..current
            };
            if let Some(c) = st.contacts.get_mut(&contact) {
                c.value = stored.clone();
            }
            Ok(stored)
        })
    }

    async fn snooze_task(
        &self,
        portal: PortalId,
        contact: ContactId,
        task: TaskId,
        until: DateTime<Utc>,
    ) -> Result<()> {
        self.with(|st| {
            st.portal_contact(portal, contact)?;
            st.portal_task(portal, task)?;
            st.reminder_contacts
                .entry(contact)
                .or_default()
                .snoozes
                .insert(task, until);
            Ok(())
        })
    }

    async fn unsubscribe_reminders(&self, contact: ContactId, at: DateTime<Utc>) -> Result<()> {
        self.with(|st| {
            st.contact(contact)?;
            let rec = st.reminder_contacts.entry(contact).or_default();
            rec.unsubscribed_at.get_or_insert(at);
            Ok(())
        })
    }
}
