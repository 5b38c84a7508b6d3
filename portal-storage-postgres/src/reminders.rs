//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

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

#[async_trait]
impl ReminderStore for PostgresStore {

    async fn reminder_settings(&self, portal: PortalId) -> Result<ReminderSettings> {
        Err(crate::not_ported("ReminderStore::reminder_settings"))
    }

    async fn set_reminder_settings(
        &self,
        portal: PortalId,
        settings: &ReminderSettings,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        Err(crate::not_ported("ReminderStore::set_reminder_settings"))
    }

    async fn reminder_state(&self, portal: PortalId) -> Result<ReminderState> {
        Err(crate::not_ported("ReminderStore::reminder_state"))
    }

    async fn record_digest(&self, digest: &SentDigest, emails: &[OutboxMessage]) -> Result<()> {
        Err(crate::not_ported("ReminderStore::record_digest"))
    }

    async fn record_escalation(
        &self,
        portal: PortalId,
        previous: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        Err(crate::not_ported("ReminderStore::record_escalation"))
    }

    async fn record_handover_stall(
        &self,
        contact: ContactId,
        at: DateTime<Utc>,
        emails: &[OutboxMessage],
    ) -> Result<Contact> {
        Err(crate::not_ported("ReminderStore::record_handover_stall"))
    }

    async fn snooze_task(
        &self,
        portal: PortalId,
        contact: ContactId,
        task: TaskId,
        until: DateTime<Utc>,
    ) -> Result<()> {
        Err(crate::not_ported("ReminderStore::snooze_task"))
    }

    async fn unsubscribe_reminders(&self, contact: ContactId, at: DateTime<Utc>) -> Result<()> {
        Err(crate::not_ported("ReminderStore::unsubscribe_reminders"))
    }
}
