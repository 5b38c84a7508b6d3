//! [`CredentialStore`] for [`MemoryStore`]: records by task under the one lock; every
//! check runs before the first write, so a refused unit changes nothing.

use async_trait::async_trait;

use super::{MemoryStore, State, not_found};
use crate::audit::AuditEntry;
use crate::credentials::CredentialRecord;
use crate::error::{Entity, Error, Result};
use crate::ids::{PortalId, TaskId};
use crate::model::Task;
use crate::outbox::OutboxMessage;
use crate::store::{CredentialStore, TaskDecision};
use crate::workflow::CheckMark;

impl State {
    /// The record of a task of `portal`: `NotFound(Task)`, then `NotFound(Credentials)`.
    fn credential(&self, portal: PortalId, task: TaskId) -> Result<&CredentialRecord> {
        self.portal_task(portal, task)?;
        self.credentials
            .get(&task)
            .ok_or_else(|| not_found(Entity::Credentials))
    }

    /// A record that may still be revealed or purged.
    fn live_credential(&self, portal: PortalId, task: TaskId) -> Result<&CredentialRecord> {
        let record = self.credential(portal, task)?;
        if record.purged.is_some() {
            return Err(Error::conflict("These credentials were purged."));
        }
        Ok(record)
    }
}

#[async_trait]
impl CredentialStore for MemoryStore {
    async fn submit_credentials(
        &self,
        record: &CredentialRecord,
        decide: TaskDecision,
        audit: &AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task> {
        self.with(|st| {
            let current = st.portal_task(record.portal_id, record.task_id)?;
            if st.credentials.contains_key(&record.task_id) {
                return Err(Error::conflict("These credentials were already submitted."));
            }
            let change = decide(current)?;
            let tenant = st.portal_tenant(record.portal_id)?;
            record.ensure_belongs(current, tenant)?;
            st.check_audit(record.portal_id, Some(audit))?;
            let (next, activity) = change.apply_to(current)?;
            st.check_new_mail(emails)?;
            st.append_audit(audit)?;
            st.queue_mail(emails);
            st.credentials.insert(record.task_id, record.clone());
            st.tasks.insert(next.id, next.clone());
            st.activity.push(activity);
            Ok(next)
        })
    }

    async fn credentials(&self, portal: PortalId, task: TaskId) -> Result<CredentialRecord> {
        self.with(|st| st.credential(portal, task).cloned())
    }

    async fn reveal_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        audit: &AuditEntry,
    ) -> Result<CredentialRecord> {
        self.with(|st| {
            let record = st.live_credential(portal, task)?.clone();
            st.check_audit(portal, Some(audit))?;
            st.append_audit(audit)?;
            Ok(record)
        })
    }

    async fn purge_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        purged: &CheckMark,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.with(|st| {
            st.live_credential(portal, task)?;
            st.check_audit(portal, Some(audit))?;
            st.append_audit(audit)?;
            if let Some(record) = st.credentials.get_mut(&task) {
                record.fields.clear();
                record.purged = Some(purged.clone());
            }
            Ok(())
        })
    }
}
