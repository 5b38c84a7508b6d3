//! "I'm stuck" and due-date requests: the use cases around
//! [`crate::workflow::stuck`] and [`crate::workflow::due_dates`]. Each runs as one
//! [`crate::store::PlanStore::change_plan`] unit: the task, its feed entry, the
//! thread comment and the emails are written together or not at all.

use chrono::NaiveDate;

use super::PortalService;
use crate::error::{Entity, Error, Result};
use crate::ids::{PortalId, TaskId};
use crate::mail::{self, Recipient, StaffRecipient};
use crate::model::{Contact, EmailAddress, Task};
use crate::outbox::{MailKind, OutboxMessage};
use crate::staff::{StaffContext, StaffRole};
use crate::store::ClientContext;
use crate::workflow::due_dates::{self, DueDateRequest};
use crate::workflow::plan::{Plan, PlanChange};
use crate::workflow::stuck::{self, help_on_plan};
use crate::workflow::{Actor, stuck::HelpChange};

use super::workflow::client_actor;

/// A pending due-date request, with where it is, for the staff console's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDueDate {
    /// The portal.
    pub portal_id: PortalId,
    /// The client company.
    pub client_name: String,
    /// The task.
    pub task_id: TaskId,
    /// The task's title.
    pub task_title: String,
    /// The task's version (for the admin API's `If-Match`).
    pub task_version: u64,
    /// The request.
    pub request: DueDateRequest,
}

impl PortalService {
    /// Runs a help rule on a task as one plan unit; `emails` composes, on the plan as
    /// stored and the change decided, what the unit queues.
    async fn help(
        &self,
        actor: Actor,
        portal: PortalId,
        task: TaskId,
        rule: impl Fn(&Task) -> Result<HelpChange> + Send + Sync + 'static,
        emails: impl Fn(&Plan, &Task) -> Result<Vec<OutboxMessage>> + Send + Sync + 'static,
    ) -> Result<Task> {
        let change = self
            .change_plan(portal, move |plan, _now| {
                let mut change: PlanChange = help_on_plan(plan, task, &actor, &rule)?;
                let after = change
                    .tasks
                    .iter()
                    .find(|t| t.id == task)
                    .ok_or_else(|| Error::storage_msg("a help rule lost its task"))?;
                change.emails = emails(plan, after)?;
                Ok(change)
            })
            .await
            .map_err(|e| match e {
                Error::NotFound {
                    entity: Entity::Portal,
                } => Error::NotFound {
                    entity: Entity::Task,
                },
                other => other,
            })?;
        change
            .tasks
            .into_iter()
            .find(|t| t.id == task)
            .ok_or_else(|| Error::storage_msg("a help rule lost its task"))
    }

    /// The tenant's notification recipients of `portal`.
    async fn recipients(&self, portal: PortalId) -> Result<Vec<EmailAddress>> {
        let tenant = self.inner.store.portal(portal).await?.tenant_id;
        Ok(self
            .inner
            .store
            .tenant(tenant)
            .await?
            .notification_recipients)
    }

    /// One staff email per recipient, composed on the plan's branding.
    fn staff_mail(
        &self,
        plan: &Plan,
        to: &[EmailAddress],
        compose: impl Fn(StaffRecipient<'_>) -> Result<mail::Email>,
    ) -> Result<Vec<OutboxMessage>> {
        to.iter()
            .map(|email| {
                let e = compose(StaffRecipient {
                    email,
                    branding: &plan.portal.branding,
                })?;
                Ok(self.outbox_mail(
                    plan.portal.tenant_id,
                    Some(plan.portal.id),
                    MailKind::StaffNotification,
                    e,
                ))
            })
            .collect()
    }

    /// The email to the contact behind `actor` (if still a contact of the portal and
    /// not revoked), composed by `compose`.
    fn contact_mail(
        &self,
        plan: &Plan,
        actor: &Actor,
        compose: impl Fn(Recipient<'_>) -> Result<mail::Email>,
    ) -> Result<Vec<OutboxMessage>> {
        let Actor::Client { contact_id, .. } = actor else {
            return Ok(Vec::new());
        };
        let Some(contact): Option<&Contact> = plan
            .contacts
            .iter()
            .find(|c| c.id == *contact_id && c.revoked_at.is_none())
        else {
            return Ok(Vec::new());
        };
        let email = compose(Recipient {
            name: &contact.name,
            email: &contact.email,
            branding: &plan.portal.branding,
            time_zone: contact.time_zone,
            language: contact.language.unwrap_or_default(),
        })?;
        Ok(vec![self.outbox_mail(
            plan.portal.tenant_id,
            Some(plan.portal.id),
            MailKind::ClientNotification,
            email,
        )])
    }

    /// "I'm stuck" on a task of the client's own portal: the task waits on the MSP,
    /// the reason is posted in its thread, the feed records it and the MSP's
    /// notification recipients are emailed at once (never held back or left to the
    /// digest: someone is waiting), all in one unit. A second report while one is
    /// open is `Conflict`.
    pub async fn report_stuck(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        reason: &str,
    ) -> Result<Task> {
        super::open_to_clients(ctx.portal_status)?;
        let actor = client_actor(ctx);
        let recipients = self.recipients(ctx.portal_id).await?;
        let (reason, who) = (reason.to_owned(), actor.name().to_owned());
        let language = ctx.language.unwrap_or_default();
        let service = self.clone();
        let now = self.inner.clock.now();
        self.help(
            actor.clone(),
            ctx.portal_id,
            task,
            move |t| stuck::report_stuck(t, &actor, &reason, now, language),
            move |plan, after| {
                let reason = stuck::open_report(after)
                    .map(|r| r.reason.as_str())
                    .unwrap_or_default();
                service.staff_mail(plan, &recipients, |to| {
                    mail::stuck_notification(
                        to,
                        &plan.portal.client_name,
                        &who,
                        &after.title,
                        reason,
                    )
                })
            },
        )
        .await
    }

    /// Staff answer and clear the open stuck report of a task of their tenant's
    /// portal: `answer` (optional) is posted in the thread, and the contact who was
    /// stuck is emailed, in the same unit. `Conflict` if nobody is stuck on it.
    pub async fn clear_stuck(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        answer: Option<&str>,
    ) -> Result<Task> {
        staff.require(StaffRole::Member, "clearing a stuck report")?;
        let portal = self.staff_portal(staff, portal).await?;
        let actor = staff.actor();
        let answer = answer.map(str::to_owned);
        let service = self.clone();
        let now = self.inner.clock.now();
        let acting = self.acting_for(portal.tenant_id, Some(portal.id)).await?;
        let link_of = {
            let links = self.inner.links.clone();
            move |t: TaskId| links.task_url(&acting, t)
        };
        let who = actor.name().to_owned();
        self.help(
            actor.clone(),
            portal.id,
            task,
            move |t| stuck::clear_stuck(t, &actor, answer.as_deref(), now),
            move |plan, after| {
                let Some(report) = after.evidence.stuck.last() else {
                    return Ok(Vec::new());
                };
                let answer = report.cleared.as_ref().and_then(|c| c.answer.as_deref());
                let link = link_of(after.id);
                service.contact_mail(plan, &report.by, |to| {
                    mail::stuck_cleared_email(to, &after.title, &who, answer, &link)
                })
            },
        )
        .await
    }

    /// A contact asks for a new due date on a task of their own portal. The date must
    /// be today or later in the contact's time zone; one request may be pending per
    /// task. The MSP's recipients are emailed in the same unit.
    pub async fn request_due_date(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        to: NaiveDate,
        reason: &str,
    ) -> Result<Task> {
        super::open_to_clients(ctx.portal_status)?;
        let actor = client_actor(ctx);
        let recipients = self.recipients(ctx.portal_id).await?;
        let now = self.inner.clock.now();
        let today = now.with_timezone(&ctx.time_zone.tz()).date_naive();
        let (reason, who) = (reason.to_owned(), actor.name().to_owned());
        let service = self.clone();
        self.help(
            actor.clone(),
            ctx.portal_id,
            task,
            move |t| due_dates::request_due_date(t, &actor, to, &reason, today, now),
            move |plan, after| {
                let Some(r) = due_dates::pending(after) else {
                    return Ok(Vec::new());
                };
                service.staff_mail(plan, &recipients, |rcpt| {
                    mail::due_date_request_notification(
                        rcpt,
                        &plan.portal.client_name,
                        &who,
                        mail::DueDateAsk {
                            task: &after.title,
                            from: r.from,
                            to: r.to,
                            reason: &r.reason,
                        },
                    )
                })
            },
        )
        .await
    }

    /// Staff approve (the due date becomes the requested one) or decline (with a
    /// `note`) due-date request `number` of a task of their tenant's portal; the
    /// contact who asked is emailed in the same unit.
    pub async fn decide_due_date(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        number: u32,
        approved: bool,
        note: Option<&str>,
    ) -> Result<Task> {
        staff.require(StaffRole::Member, "deciding a due-date request")?;
        let portal = self.staff_portal(staff, portal).await?;
        let actor = staff.actor();
        let note = note.map(str::to_owned);
        let service = self.clone();
        let now = self.inner.clock.now();
        let links = self.inner.links.clone();
        let acting = self.acting_for(portal.tenant_id, Some(portal.id)).await?;
        self.help(
            actor.clone(),
            portal.id,
            task,
            move |t| due_dates::decide_due_date(t, &actor, number, approved, note.as_deref(), now),
            move |plan, after| {
                let Some(r) = after
                    .evidence
                    .due_date_requests
                    .iter()
                    .find(|r| r.number == number)
                else {
                    return Ok(Vec::new());
                };
                let Some(d) = &r.decision else {
                    return Ok(Vec::new());
                };
                let link = links.task_url(&acting, after.id);
                service.contact_mail(plan, &r.by, |to| {
                    if d.approved {
                        mail::due_date_approved_email(
                            to,
                            &after.title,
                            r.to,
                            d.note.as_deref(),
                            &link,
                        )
                    } else {
                        mail::due_date_declined_email(
                            to,
                            &after.title,
                            r.to,
                            after.due_date,
                            d.note.as_deref().unwrap_or_default(),
                            &link,
                        )
                    }
                })
            },
        )
        .await
    }

    /// The pending due-date requests of every portal of the staff member's tenant,
    /// oldest first: the console's queue. Reads each portal's plan (one read per
    /// portal; a tenant has tens of active portals, not thousands).
    pub async fn pending_due_dates(&self, staff: &StaffContext) -> Result<Vec<PendingDueDate>> {
        staff.require(StaffRole::Member, "reading due-date requests")?;
        let mut out = Vec::new();
        for portal in self.inner.store.portals(staff.tenant).await? {
            let snapshot = match self.inner.store.portal_snapshot(portal.id).await {
                Ok(s) => s,
                Err(Error::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            for t in &snapshot.tasks {
                if let Some(r) = due_dates::pending(t) {
                    out.push(PendingDueDate {
                        portal_id: portal.id,
                        client_name: portal.client_name.clone(),
                        task_id: t.id,
                        task_title: t.title.clone(),
                        task_version: t.version,
                        request: r.clone(),
                    });
                }
            }
        }
        out.sort_by_key(|p| (p.request.at, p.task_id));
        Ok(out)
    }
}
