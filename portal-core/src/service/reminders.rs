//! The reminder pass ([`PortalService::send_due_reminders`]), the signed links of a
//! reminder email (snooze, one-click unsubscribe), the MSP's reminder settings, and
//! (feature `tokio`) the background task that runs the pass.
//!
//! The rules are [`crate::reminders`]'s; the memory is [`crate::store::ReminderStore`]'s.
//! Each digest is recorded in the same unit as its email is queued, and the store
//! refuses a second digest for the same contact and local date, so several processes
//! may run the pass on one store: a contact still gets one reminder a day.

use chrono::{DateTime, Utc};

use super::PortalService;
use crate::error::{Error, Result};
use crate::ids::{ContactId, PortalId, TaskId};
use crate::mail::{self, DigestItem, EscalatedTask, QuietContact, Recipient, StaffRecipient};
use crate::model::{Portal, PortalStatus, Task, Tenant};
use crate::outbox::MailKind;
use crate::reminders::{
    self, ContactReminders, Digest, ReminderLink, ReminderSettings, ReminderState, SNOOZE_LINK_TTL,
    STEP_BEFORE, STEP_DUE, UNSUBSCRIBE_LINK_TTL,
};
use crate::staff::{StaffContext, StaffRole};
use crate::store::{ContactInPortal, SentDigest};

/// The most feed entries one staff digest reads (newest first): a day of a client's
/// events is far fewer.
const STAFF_DIGEST_MAX_EVENTS: usize = 1000;

/// The id of the staff digest of `portal` for the tenant's `date` to `to`: the first
/// 16 bytes of a SHA-256 of the three, so every pass in every process computes the
/// same id and the outbox queues it once.
fn staff_digest_id(
    portal: PortalId,
    date: chrono::NaiveDate,
    to: &crate::model::EmailAddress,
) -> crate::ids::MailId {
    use sha2::{Digest as _, Sha256};
    let mut hash = Sha256::new();
    hash.update(b"staff-digest\0");
    hash.update(portal.as_bytes());
    hash.update(date.to_string().as_bytes());
    hash.update(b"\0");
    hash.update(to.as_str().as_bytes());
    let full = hash.finalize();
    let mut id = [0u8; 16];
    id.copy_from_slice(&full[..16]);
    crate::ids::MailId::from_bytes(id)
}

/// What one [`PortalService::send_due_reminders`] pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderReport {
    /// Reminder digests queued (one per contact at most).
    pub digests: u32,
    /// Escalations queued (one per portal at most).
    pub escalations: u32,
    /// Digests or escalations another pass recorded first (nothing queued twice).
    pub raced: u32,
    /// Daily digests of client events queued for the MSP (one per portal and day at
    /// most, each to every notification recipient).
    pub staff_digests: u32,
    /// Handover stall alerts queued for the MSP (one per handover, ever).
    pub stall_alerts: u32,
    /// Portals skipped because reading or writing them failed (logged).
    pub failed_portals: u32,
}

/// What a reminder link leads to, for its confirmation page.
#[derive(Debug, Clone)]
pub struct ReminderTarget {
    /// The link's action.
    pub link: ReminderLink,
    /// The contact with their portal (branding for the page).
    pub target: ContactInPortal,
    /// The task, for a snooze link.
    pub task: Option<Task>,
}

impl PortalService {
    /// One reminder pass at `now` (normally the injected clock's now): for every active
    /// portal, asks [`reminders::judge_digest`] for each contact and
    /// [`reminders::judge_escalation`] for the portal, and records each digest or
    /// escalation with its email in one store unit. A portal whose reading or writing
    /// fails is logged and skipped; the next pass tries it again.
    ///
    /// Run it every few minutes ([`spawn_reminder_pass`] does): a reminder goes out at
    /// the first pass after the contact's local hour.
    pub async fn send_due_reminders(&self, now: DateTime<Utc>) -> Result<ReminderReport> {
        let mut report = ReminderReport::default();
        for tenant in self.inner.store.tenants().await? {
            for portal in self.inner.store.portals(tenant.id).await? {
                if portal.status != PortalStatus::Active {
                    continue;
                }
                if let Err(e) = self.remind_portal(&tenant, &portal, now, &mut report).await {
                    report.failed_portals += 1;
                    tracing::error!(portal = %portal.id, error = %e, "a portal's reminders failed; retried at the next pass");
                }
            }
        }
        if report.digests + report.escalations + report.staff_digests + report.stall_alerts > 0 {
            tracing::info!(
                digests = report.digests,
                escalations = report.escalations,
                stall_alerts = report.stall_alerts,
                raced = report.raced,
                "reminder pass"
            );
            self.mail_queued().await;
        }
        Ok(report)
    }

    async fn remind_portal(
        &self,
        tenant: &Tenant,
        portal: &Portal,
        now: DateTime<Utc>,
        report: &mut ReminderReport,
    ) -> Result<()> {
        let state = self.inner.store.reminder_state(portal.id).await?;
        let tasks = self.inner.store.portal_snapshot(portal.id).await?.tasks;
        // A task for a contact role is reminded to the contacts with that role
        // (`team::task_for`), not to the whole team, like the client's pages show it.
        let contacts: Vec<_> = state.contacts.iter().map(|c| c.contact.clone()).collect();
        let tasks = crate::workflow::team::with_roles_resolved(tasks, &contacts);
        for contact in &state.contacts {
            let Some(digest) = reminders::judge_digest(now, &state.settings, true, contact, &tasks)
            else {
                continue;
            };
            let email = self.digest_email(tenant, portal, contact, &digest, &tasks, now)?;
            let message = self.outbox_mail(tenant.id, Some(portal.id), MailKind::Reminder, email);
            let sent = SentDigest {
                portal_id: portal.id,
                contact_id: contact.contact.id,
                local_date: digest.local_date,
                sent_at: now,
                steps: digest.tasks.iter().map(|t| (t.task_id, t.step)).collect(),
            };
            match self.inner.store.record_digest(&sent, &[message]).await {
                Ok(()) => report.digests += 1,
                Err(Error::Conflict { .. }) => report.raced += 1,
                Err(e) => return Err(e),
            }
        }
        self.escalate(tenant, portal, &state, &tasks, now, report)
            .await?;
        self.alert_stalled_handovers(tenant, portal, &state, &tasks, now, report)
            .await?;
        self.staff_digest(tenant, portal, &state.settings, now, report)
            .await
    }

    /// The MSP's daily digest of a portal's client events, if the portal asks for one
    /// ([`ReminderSettings::staff_digest`]) and it is due
    /// ([`reminders::staff_digest_window`]). Each recipient's email has an id derived
    /// from the portal, the tenant's local date and the recipient, so the outbox's
    /// refusal of a taken id (`Conflict`, nothing queued) is what keeps it to one a
    /// day across passes and processes. A day without client events sends nothing.
    async fn staff_digest(
        &self,
        tenant: &Tenant,
        portal: &Portal,
        settings: &ReminderSettings,
        now: DateTime<Utc>,
        report: &mut ReminderReport,
    ) -> Result<()> {
        let Some(window) = reminders::staff_digest_window(now, settings, tenant.time_zone) else {
            return Ok(());
        };
        let feed = self
            .inner
            .store
            .activity(portal.id, STAFF_DIGEST_MAX_EVENTS)
            .await?;
        let events = reminders::staff_digest_events(&feed, &window);
        if events.is_empty() || tenant.notification_recipients.is_empty() {
            return Ok(());
        }
        let items: Vec<mail::StaffDigestItem> = events
            .iter()
            .map(|e| mail::StaffDigestItem {
                at: crate::wording::local_time(e.at, tenant.time_zone),
                summary: e.summary(),
            })
            .collect();
        let mut emails = Vec::with_capacity(tenant.notification_recipients.len());
        for to in &tenant.notification_recipients {
            let email = mail::staff_digest_email(
                StaffRecipient {
                    email: to,
                    branding: &portal.branding,
                },
                &portal.client_name,
                &crate::wording::date(window.local_date),
                &items,
            )?;
            let mut message = self.outbox_mail(
                tenant.id,
                Some(portal.id),
                MailKind::StaffNotification,
                email,
            );
            message.id = staff_digest_id(portal.id, window.local_date, to);
            emails.push(message);
        }
        match self.inner.store.enqueue(&emails).await {
            Ok(()) => report.staff_digests += 1,
            Err(Error::Conflict { .. }) => report.raced += 1,
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn digest_email(
        &self,
        tenant: &Tenant,
        portal: &Portal,
        contact: &ContactReminders,
        digest: &Digest,
        tasks: &[Task],
        now: DateTime<Utc>,
    ) -> Result<crate::mail::Email> {
        let secret = &self.inner.secret;
        let links = &self.inner.links;
        let acting = crate::mail::ActingFor::new(tenant, Some(portal.id));
        let who = &contact.contact;
        let items = digest
            .tasks
            .iter()
            .filter_map(|due| {
                let task = tasks.iter().find(|t| t.id == due.task_id)?;
                let step = match due.step {
                    STEP_BEFORE => mail::DueStep::Soon,
                    STEP_DUE => mail::DueStep::Today,
                    _ => mail::DueStep::Overdue,
                };
                let when = mail::digest_when(step, due.due, who.language.unwrap_or_default());
                let snooze = ReminderLink::Snooze {
                    contact: who.id,
                    task: task.id,
                }
                .sign(secret, now + SNOOZE_LINK_TTL);
                Some(DigestItem {
                    title: task.title.clone(),
                    when,
                    task_url: links.task_url(&acting, task.id),
                    snooze_url: links.snooze_url(&acting, &snooze),
                })
            })
            .collect::<Vec<_>>();
        let unsubscribe =
            ReminderLink::Unsubscribe { contact: who.id }.sign(secret, now + UNSUBSCRIBE_LINK_TTL);
        mail::reminder_digest_email(
            Recipient {
                name: &who.name,
                email: &who.email,
                branding: &portal.branding,
                time_zone: who.time_zone,
                language: who.language.unwrap_or_default(),
            },
            &portal.client_name,
            &items,
            &links.unsubscribe_url(&acting, &unsubscribe),
        )
        .map(|email| acting.sign(email))
    }

    /// Tells the MSP's notification recipients once that a handover from the
    /// client's previous provider stalls ([`crate::workflow::handover::judge_stall`]),
    /// recorded on the guest with the emails in one store unit, so later passes (and a
    /// racing one) send nothing more. The MSP learns it even while the client itself
    /// is active: the quiet-client escalation does not look at the provider.
    async fn alert_stalled_handovers(
        &self,
        tenant: &Tenant,
        portal: &Portal,
        state: &ReminderState,
        tasks: &[Task],
        now: DateTime<Utc>,
        report: &mut ReminderReport,
    ) -> Result<()> {
        if tenant.notification_recipients.is_empty() || !state.settings.enabled {
            return Ok(());
        }
        let today = now.with_timezone(&tenant.time_zone.tz()).date_naive();
        for c in &state.contacts {
            let guest = &c.contact;
            let stalled = crate::workflow::handover::judge_stall(guest, tasks, today, now);
            if stalled.is_empty() {
                continue;
            }
            let provider = guest
                .guest
                .as_ref()
                .map_or(guest.name.as_str(), |g| g.organisation.as_str());
            let lines: Vec<(String, String)> = stalled
                .iter()
                .map(|t| {
                    let why = match t.due_date {
                        Some(due) => format!("was due {}", crate::wording::date(due)),
                        None => format!(
                            "untouched for {}",
                            crate::wording::count((now - t.updated_at).num_days(), "day")
                        ),
                    };
                    (t.title.clone(), why)
                })
                .collect();
            let mut emails = Vec::with_capacity(tenant.notification_recipients.len());
            for to in &tenant.notification_recipients {
                let email = mail::handover_stall_notification(
                    StaffRecipient {
                        email: to,
                        branding: &portal.branding,
                    },
                    &portal.client_name,
                    provider,
                    &lines,
                )?;
                emails.push(self.outbox_mail(
                    tenant.id,
                    Some(portal.id),
                    MailKind::Escalation,
                    email,
                ));
            }
            match self
                .inner
                .store
                .record_handover_stall(guest.id, now, &emails)
                .await
            {
                Ok(_) => report.stall_alerts += 1,
                Err(Error::Conflict { .. }) => report.raced += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn escalate(
        &self,
        tenant: &Tenant,
        portal: &Portal,
        state: &ReminderState,
        tasks: &[Task],
        now: DateTime<Utc>,
        report: &mut ReminderReport,
    ) -> Result<()> {
        if tenant.notification_recipients.is_empty() {
            return Ok(());
        }
        let Some(escalation) =
            reminders::judge_escalation(now, tenant.time_zone, &state.settings, true, state, tasks)
        else {
            return Ok(());
        };
        let zone = tenant.time_zone;
        let overdue: Vec<EscalatedTask> = escalation
            .overdue
            .iter()
            .filter_map(|id| tasks.iter().find(|t| t.id == *id))
            .map(|t| EscalatedTask {
                title: t.title.clone(),
                due: t.due_date.map(crate::wording::date).unwrap_or_default(),
            })
            .collect();
        let contacts: Vec<QuietContact> = state
            .contacts
            .iter()
            .filter(|c| c.contact.revoked_at.is_none())
            .map(|c| QuietContact {
                name: c.contact.name.clone(),
                email: c.contact.email.to_string(),
                last_visit: c.last_visit.map_or_else(
                    || "never".to_owned(),
                    |at| crate::wording::local_time(at, zone),
                ),
            })
            .collect();
        let quiet_since = crate::wording::local_time(escalation.quiet_since, zone);
        let quiet_days = crate::wording::count((now - escalation.quiet_since).num_days(), "day");
        let again = crate::wording::count(i64::from(state.settings.reescalate_after_days), "day");
        let mut emails = Vec::with_capacity(tenant.notification_recipients.len());
        for to in &tenant.notification_recipients {
            let email = mail::escalation_email(
                StaffRecipient {
                    email: to,
                    branding: &portal.branding,
                },
                mail::EscalationFacts {
                    client: &portal.client_name,
                    quiet_since: &quiet_since,
                    quiet_days: &quiet_days,
                    tasks: &overdue,
                    contacts: &contacts,
                    again: &again,
                },
            )?;
            emails.push(self.outbox_mail(tenant.id, Some(portal.id), MailKind::Escalation, email));
        }
        match self
            .inner
            .store
            .record_escalation(portal.id, state.last_escalation, now, &emails)
            .await
        {
            Ok(()) => report.escalations += 1,
            Err(Error::Conflict { .. }) => report.raced += 1,
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// What a reminder link (its signed token) is for, checked at the injected clock's
    /// now: for the confirmation page its GET shows (mail scanners follow GETs, so a
    /// GET never changes anything). A bad signature is `NotFound(ReminderLink)`, an
    /// expired link `Expired(ReminderLink)`; a contact or task that no longer exists
    /// `NotFound`.
    pub async fn reminder_link(&self, token: &str) -> Result<ReminderTarget> {
        let link = ReminderLink::verify(token, &self.inner.secret, self.inner.clock.now())?;
        let contact = match link {
            ReminderLink::Snooze { contact, .. } | ReminderLink::Unsubscribe { contact } => contact,
        };
        let contact = self.inner.store.contact(contact).await?;
        let portal = self.inner.store.portal(contact.portal_id).await?;
        let task = match link {
            ReminderLink::Snooze { task, .. } => {
                Some(self.inner.store.task(portal.id, task).await?)
            }
            ReminderLink::Unsubscribe { .. } => None,
        };
        Ok(ReminderTarget {
            link,
            target: ContactInPortal { contact, portal },
            task,
        })
    }

    /// Carries out a reminder link (the POST of its page, or a mailbox provider's
    /// one-click unsubscribe): snoozes the task for [`reminders::SNOOZE_FOR`] from now,
    /// or turns the contact's reminders off. No sign-in is needed: the signature is
    /// the proof. Returns what was done.
    pub async fn follow_reminder_link(&self, token: &str) -> Result<ReminderTarget> {
        let found = self.reminder_link(token).await?;
        let now = self.inner.clock.now();
        let contact = found.target.contact.id;
        match found.link {
            ReminderLink::Snooze { task, .. } => {
                self.snooze_task(found.target.portal.id, contact, task, now)
                    .await?;
            }
            ReminderLink::Unsubscribe { .. } => {
                self.inner.store.unsubscribe_reminders(contact, now).await?;
                tracing::info!(contact = %contact, "a contact turned reminders off");
            }
        }
        Ok(found)
    }

    async fn snooze_task(
        &self,
        portal: PortalId,
        contact: ContactId,
        task: TaskId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.inner
            .store
            .snooze_task(portal, contact, task, now + reminders::SNOOZE_FOR)
            .await
    }

    /// A portal of the staff member's tenant's reminder settings.
    pub async fn reminder_settings(
        &self,
        staff: &StaffContext,
        portal: PortalId,
    ) -> Result<ReminderSettings> {
        let portal = self.staff_portal(staff, portal).await?;
        self.inner.store.reminder_settings(portal.id).await
    }

    /// Changes a portal's reminder ladder, hour and escalation (validated first).
    pub async fn set_reminder_settings(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        settings: ReminderSettings,
    ) -> Result<()> {
        staff.require(StaffRole::Member, "changing reminder settings")?;
        let portal = self.staff_portal(staff, portal).await?;
        settings.validate()?;
        let activity = self.staff_entry(
            staff,
            portal.id,
            crate::workflow::ActivityKind::ReminderSettingsChanged,
            &portal.client_name,
            None,
        );
        self.inner
            .store
            .set_reminder_settings(portal.id, &settings, Some(&activity))
            .await
    }
}

#[cfg(feature = "tokio")]
pub use pass::{ReminderPass, spawn_reminder_pass};

#[cfg(feature = "tokio")]
mod pass {
    use std::sync::Arc;

    use tokio::task::JoinHandle;

    use super::PortalService;

    /// A running background reminder pass; [`ReminderPass::stop`] ends it cleanly.
    #[derive(Debug)]
    pub struct ReminderPass {
        stop: Arc<tokio::sync::Notify>,
        handle: JoinHandle<()>,
    }

    impl ReminderPass {
        /// Asks the task to stop and waits for it (a pass under way finishes first).
        pub async fn stop(self) {
            self.stop.notify_one();
            if let Err(e) = self.handle.await {
                tracing::error!(error = %e, "the reminder pass ended abnormally");
            }
        }

        /// Whether the task has ended.
        pub fn is_finished(&self) -> bool {
            self.handle.is_finished()
        }
    }

    /// Spawns the reminder pass on the current Tokio runtime: it runs
    /// [`PortalService::send_due_reminders`] at the injected clock's now at once, then
    /// every `every` (5 minutes is plenty: a reminder goes out at the first pass after
    /// the contact's local hour). A failed pass is logged and retried at the next tick.
    /// Several processes sharing a store may each run one: the store keeps a contact
    /// to one digest a day and a portal to one escalation.
    ///
    /// # Panics
    ///
    /// Panics when called outside a Tokio runtime, like [`tokio::spawn`].
    pub fn spawn_reminder_pass(service: PortalService, every: std::time::Duration) -> ReminderPass {
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = stop.clone();
        let every = every.max(std::time::Duration::from_millis(10));
        let handle = tokio::spawn(async move {
            loop {
                let now = service.clock().now();
                if let Err(e) = service.send_due_reminders(now).await {
                    tracing::warn!(error = %e, "a reminder pass failed; retrying at the next tick");
                }
                tokio::select! {
                    () = stopped.notified() => break,
                    () = tokio::time::sleep(every) => {}
                }
            }
            tracing::info!("the reminder pass stopped");
        });
        ReminderPass { stop, handle }
    }
}
