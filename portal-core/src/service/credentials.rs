//! Credential handoff use cases: the client submits (sealed field by field under the
//! keyring, never readable back), staff reveal with a stated reason (admin, audited)
//! and purge (admin, audited). Each store unit appends its audit event itself.

use std::sync::Arc;

use crate::audit::{AuditEntry, AuditEvent};
use crate::credentials::{
    self, CredentialField, CredentialForm, CredentialRecord, SecretText, open_field,
    record_submission, seal_field,
};
use crate::error::{Error, Result};
use crate::ids::{PortalId, TaskId};
use crate::model::{Task, TaskKind, clean_text};
use crate::outbox::{MailKind, OutboxMessage};
use crate::staff::{StaffContext, StaffRole};
use crate::store::{ClientContext, TaskDecision};
use crate::workflow::{Actor, CheckMark};

use super::PortalService;
use super::workflow::client_actor;

/// The longest reveal reason kept.
const MAX_REASON: usize = 500;

/// What the client sees of a submission: who and when, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedCredentials {
    /// Who submitted them.
    pub by: Actor,
    /// When (UTC; pages show it in the contact's time zone).
    pub at: chrono::DateTime<chrono::Utc>,
    /// Whether the MSP purged them since.
    pub purged: bool,
}

impl PortalService {
    fn keys(&self) -> Result<&Arc<dyn crate::blob::keyring::KeyProvider>> {
        self.inner
            .files
            .as_ref()
            .map(crate::blob::envelope::FileVault::keys)
            .ok_or_else(|| {
                Error::storage_msg("no keyring is configured, so credentials cannot be sealed")
            })
    }

    /// Submits the values of a credential handoff task of the client's own portal:
    /// checked ([`CredentialForm::checked`]), each field sealed on its own, stored once
    /// with the task's completion and a `credentials_submitted` audit event (field
    /// names only). A second submission is `Conflict` and changes nothing.
    pub async fn submit_credentials(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        form: &CredentialForm,
    ) -> Result<Task> {
        let current = self.task(ctx, task).await?;
        let TaskKind::CredentialHandoff { api_key } = current.kind else {
            return Err(Error::conflict(crate::Reason::message(
                "reason-task-no-credentials",
                &[],
            )));
        };
        // The state decides before the content, as for forms.
        crate::workflow::actions::client_may_act(&current)?;
        // A task waiting for an earlier one takes no credentials yet (as for uploads
        // and signatures, judged on the home's read).
        let home = self.inner.store.portal_snapshot(ctx.portal_id).await?;
        crate::workflow::plan::client_may_act_in(&home, &current)?;
        let fields = form.checked(api_key)?;
        let binding = credentials::CredentialBinding {
            tenant: ctx.tenant_id,
            portal: ctx.portal_id,
            task,
        };
        let keys = self.keys()?;
        let mut sealed = Vec::with_capacity(fields.len());
        for (field, value) in &fields {
            sealed.push(
                seal_field(
                    keys.as_ref(),
                    self.inner.random.as_ref(),
                    &binding,
                    *field,
                    value,
                )
                .await?,
            );
        }
        let actor = client_actor(ctx);
        let now = self.inner.clock.now();
        let record = CredentialRecord {
            tenant_id: ctx.tenant_id,
            portal_id: ctx.portal_id,
            task_id: task,
            submitted_by: actor.clone(),
            submitted_at: now,
            fields: sealed,
            purged: None,
        };
        let audit = AuditEntry::new(
            ctx.tenant_id,
            ctx.portal_id,
            now,
            actor.clone(),
            &AuditEvent::CredentialsSubmitted {
                task,
                fields: fields.iter().map(|(f, _)| f.as_str().to_owned()).collect(),
            },
        );
        let emails = self
            .credentials_notices(ctx, &current.title, actor.name())
            .await?;
        let decide: TaskDecision = Arc::new(move |t: &Task| record_submission(t, &actor, now));
        let done = self
            .inner
            .store
            .submit_credentials(&record, decide, &audit, &emails)
            .await?;
        if !emails.is_empty() {
            self.mail_queued().await;
        }
        Ok(done)
    }

    /// The MSP's notice of a submission, to every notification recipient, queued in
    /// the submission's unit (none when the portal's client events go to the daily
    /// digest instead). Never throttled like messages: a handoff is what the MSP waits
    /// for. It names the task and who submitted, never a value.
    async fn credentials_notices(
        &self,
        ctx: &ClientContext,
        task_title: &str,
        who: &str,
    ) -> Result<Vec<OutboxMessage>> {
        if self.staff_digest_on(ctx.portal_id).await {
            return Ok(Vec::new());
        }
        let portal = self.inner.store.portal(ctx.portal_id).await?;
        let tenant = self.inner.store.tenant(portal.tenant_id).await?;
        let mut out = Vec::with_capacity(tenant.notification_recipients.len());
        for to in &tenant.notification_recipients {
            let email = crate::mail::credentials_notification(
                crate::mail::StaffRecipient {
                    email: to,
                    branding: &portal.branding,
                },
                &portal.client_name,
                who,
                task_title,
            )?;
            out.push(self.outbox_mail(
                tenant.id,
                Some(portal.id),
                MailKind::StaffNotification,
                email,
            ));
        }
        Ok(out)
    }

    /// What the client may know of a task's submission: who and when (`None` if
    /// nothing was submitted). Never a value.
    pub async fn submitted_credentials(
        &self,
        ctx: &ClientContext,
        task: TaskId,
    ) -> Result<Option<SubmittedCredentials>> {
        self.task(ctx, task).await?;
        match self.inner.store.credentials(ctx.portal_id, task).await {
            Ok(r) => Ok(Some(SubmittedCredentials {
                by: r.submitted_by,
                at: r.submitted_at,
                purged: r.purged.is_some(),
            })),
            Err(Error::NotFound {
                entity: crate::Entity::Credentials,
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reveals a task's submitted values to an admin who states why: the
    /// `credentials_revealed` event (who, when, reason, which fields) is appended in
    /// the same unit that reads them. A blank reason is `Invalid("reason")`; a purged
    /// submission `Conflict`.
    pub async fn reveal_credentials(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        reason: &str,
    ) -> Result<Vec<(CredentialField, SecretText)>> {
        staff.require(StaffRole::Admin, "revealing credentials")?;
        let portal = self.staff_portal(staff, portal).await?;
        let reason = clean_text("reason", reason, MAX_REASON)?;
        if reason.is_empty() {
            return Err(Error::invalid(
                "reason",
                "say why you need these credentials",
            ));
        }
        let stored = self.inner.store.credentials(portal.id, task).await?;
        let audit = AuditEntry::new(
            portal.tenant_id,
            portal.id,
            self.inner.clock.now(),
            staff.actor(),
            &AuditEvent::CredentialsRevealed {
                task,
                reason,
                fields: stored
                    .fields
                    .iter()
                    .map(|f| f.field.as_str().to_owned())
                    .collect(),
            },
        );
        let record = self
            .inner
            .store
            .reveal_credentials(portal.id, task, &audit)
            .await?;
        let keys = self.keys()?;
        let mut out = Vec::with_capacity(record.fields.len());
        for sealed in &record.fields {
            out.push((
                sealed.field,
                open_field(keys.as_ref(), &record.binding(), sealed).await?,
            ));
        }
        Ok(out)
    }

    /// Purges a task's submitted values when the work is done (admin): the ciphertext
    /// is deleted, who submitted and who purged stay, with a `credentials_purged`
    /// event. A second purge is `Conflict`.
    pub async fn purge_credentials(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<()> {
        staff.require(StaffRole::Admin, "purging credentials")?;
        let portal = self.staff_portal(staff, portal).await?;
        let now = self.inner.clock.now();
        let audit = AuditEntry::new(
            portal.tenant_id,
            portal.id,
            now,
            staff.actor(),
            &AuditEvent::CredentialsPurged { task },
        );
        let mark = CheckMark {
            by: staff.actor(),
            at: now,
        };
        self.inner
            .store
            .purge_credentials(portal.id, task, &mark, &audit)
            .await
    }
}
