//! Editing the onboarding plan (MSP staff): add, edit, move and delete tasks and
//! phases, assign client tasks to contacts, make tasks wait for others, keep MSP tasks
//! internal; and what the client sees of the plan (internal tasks hidden, locked tasks
//! with what they wait for).
//!
//! Every staff use case takes a [`StaffContext`], loads the portal and checks its
//! tenant first (another MSP's portal is `NotFound` and nothing changes), then hands
//! the store one [`PlanDecision`]: the rule of [`crate::workflow::plan`] and the emails
//! its notices call for, decided on the plan as stored and written in the same unit.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::PortalService;
use crate::error::{Error, Result};
use crate::ids::{ContactId, PhaseId, PortalId, TaskId};
use crate::mail::{self, MeetingChange, MeetingFacts, Recipient, TaskForYou};
use crate::model::{
    Contact, EmailAddress, MeetingSchedule, Phase, Portal, PortalSnapshot, Side, Task, TaskKind,
    TaskStatus,
};
use crate::outbox::{MailKind, OutboxMessage};
use crate::staff::{StaffContext, StaffRole};
use crate::store::{ClientContext, PlanDecision};
use crate::workflow::ics::{IcsAttendee, IcsMeeting, IcsMethod, meeting_itip_in};
use crate::workflow::plan::{self, PhaseDeletion, Plan, PlanChange, PlanNotice, TaskEdit};

/// What staff give to add a task to the plan.
#[derive(Debug, Clone)]
pub struct PlanTaskSpec {
    /// Short title.
    pub title: String,
    /// Plain-text description.
    pub description: String,
    /// Who does it.
    pub assignee: Side,
    /// Its type and settings.
    pub kind: TaskKind,
    /// When it is due, if set.
    pub due_date: Option<NaiveDate>,
    /// The contacts a client task is for (empty: everyone); each is emailed.
    pub assigned_to: Vec<ContactId>,
    /// Tasks of the portal it waits for.
    pub waits_on: Vec<TaskId>,
    /// An MSP task the client never sees.
    pub internal: bool,
    /// The contact role a client task is for ("billing"; cleaned here); `None`: no role.
    pub for_role: Option<String>,
}

/// What the client sees of the plan: the portal home without internal tasks, and for
/// each locked task what it waits for (internal steps named "a step by `<MSP>`").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPlan {
    /// The portal home, internal tasks removed (so not counted in the progress).
    pub snapshot: PortalSnapshot,
    /// Locked tasks → what they wait for, in plan order.
    pub waiting: BTreeMap<TaskId, Vec<String>>,
    /// Names of the contacts tasks are assigned to (read only when some task is
    /// assigned to named contacts), for "Assigned to Ann Lee".
    pub assignees: BTreeMap<ContactId, String>,
    /// The internal tasks left out of `snapshot`, whose feed entries the client's feed
    /// leaves out too ([`PortalService::plan_activity`]).
    pub(crate) internal: HashSet<TaskId>,
}

impl PortalService {
    /// The portal, if it is `staff`'s tenant's (`NotFound(Portal)` otherwise) and they
    /// may edit plans.
    pub(super) async fn plan_portal(
        &self,
        staff: &StaffContext,
        portal: PortalId,
    ) -> Result<Portal> {
        staff.require(StaffRole::Member, "editing the plan")?;
        self.staff_portal(staff, portal).await
    }

    /// Runs a plan rule as one store unit, with the emails it calls for: its notices
    /// (a task assigned or unlocked), a meeting scheduled, moved or cancelled (to its
    /// contacts, with the calendar object), and a task the client completed (to the
    /// tenant's notification recipients). All are decided on the plan as stored, in
    /// the decision, so they are queued exactly when the change commits.
    pub(super) async fn change_plan(
        &self,
        portal: PortalId,
        rule: impl Fn(&Plan, DateTime<Utc>) -> Result<PlanChange> + Send + Sync + 'static,
    ) -> Result<PlanChange> {
        let service = self.clone();
        let now = self.inner.clock.now();
        // The tenant's recipients: the MSP's notices, and the meeting's organizer (the
        // same one the downloaded invite names).
        let tenant_id = self.inner.store.portal(portal).await?.tenant_id;
        let recipients = self
            .inner
            .store
            .tenant(tenant_id)
            .await?
            .notification_recipients;
        // With a daily digest the completion waits for it (the feed has it).
        let completions_to = if self.staff_digest_on(portal).await {
            Vec::new()
        } else {
            recipients.clone()
        };
        let decide: PlanDecision = Arc::new(move |plan: &Plan| {
            let mut change = rule(plan, now)?;
            // The rule's own emails (composed by the use case) first.
            let mut emails = std::mem::take(&mut change.emails);
            emails.extend(service.plan_emails(plan, &change)?);
            emails.extend(service.meeting_emails(plan, &change, recipients.first())?);
            emails.extend(service.completion_emails(plan, &change, &completions_to)?);
            change.emails = emails;
            Ok(change)
        });
        let change = self.inner.store.change_plan(portal, decide).await?;
        if !change.emails.is_empty() {
            self.mail_queued().await;
        }
        self.delete_erased_blobs(portal, &change.erased_blobs).await;
        Ok(change)
    }

    /// Deletes the content of the records a plan change erased with its deleted tasks
    /// (dropped files, signature images and documents). After the unit, so a failed
    /// unit deletes nothing; a blob that cannot be deleted is logged (unreadable
    /// ciphertext whose record and wrapped key are gone; the orphan sweep takes it).
    async fn delete_erased_blobs(&self, portal: PortalId, blobs: &[crate::ids::BlobId]) {
        for blob in blobs {
            let gone = match &self.inner.files {
                Some(vault) => vault.blobs().delete(*blob).await,
                None => Err(Error::storage_msg(
                    "file storage is not configured, so a deleted task's files stay",
                )),
            };
            if let Err(e) = gone {
                tracing::error!(portal = %portal, blob = %blob, error = %e, "could not delete a deleted task's file content");
            }
        }
        if !blobs.is_empty() {
            tracing::info!(portal = %portal, files = blobs.len(), "a deleted task's files erased");
        }
    }

    /// The contacts a client task is for: those it is assigned to, everyone when it
    /// names nobody; never revoked ones.
    fn task_contacts<'p>(plan: &'p Plan, task: &Task) -> Vec<&'p Contact> {
        plan.contacts
            .iter()
            .filter(|c| task.assigned_to.is_empty() || task.assigned_to.contains(&c.id))
            .filter(|c| c.revoked_at.is_none())
            .collect()
    }

    /// Meeting emails of a change: for each meeting task the client sees whose
    /// schedule the change sets or replaces, a `REQUEST` to its contacts (scheduled,
    /// or moved when it had a schedule), and for each scheduled meeting the change
    /// deletes, a `CANCEL`. The calendar object is the one the download gives (same
    /// `UID`, `SEQUENCE` and organizer); a cancellation raises the `SEQUENCE` once more.
    fn meeting_emails(
        &self,
        plan: &Plan,
        change: &PlanChange,
        organizer: Option<&EmailAddress>,
    ) -> Result<Vec<OutboxMessage>> {
        let mut out = Vec::new();
        let schedule_of = |t: &Task| match &t.kind {
            TaskKind::Meeting { schedule: Some(s) } => Some(s.clone()),
            _ => None,
        };
        let mut events: Vec<(&Task, MeetingSchedule, MeetingChange)> = Vec::new();
        for before in &plan.tasks {
            let Some(old) = schedule_of(before) else {
                continue;
            };
            match change.tasks.iter().find(|t| t.id == before.id) {
                None => {
                    let mut cancelled = old;
                    cancelled.sequence = cancelled.sequence.saturating_add(1);
                    events.push((before, cancelled, MeetingChange::Cancelled));
                }
                Some(after) => {
                    if let Some(new) = schedule_of(after).filter(|new| *new != old) {
                        events.push((after, new, MeetingChange::Moved));
                    }
                }
            }
        }
        for after in &change.tasks {
            let before = plan.tasks.iter().find(|t| t.id == after.id);
            if let Some(new) = schedule_of(after)
                && before.and_then(schedule_of).is_none()
            {
                events.push((after, new, MeetingChange::Scheduled));
            }
        }
        for (task, schedule, what) in events {
            if task.internal || task.assignee != Side::Client {
                continue;
            }
            let description = schedule
                .agenda
                .clone()
                .unwrap_or_else(|| task.description.clone());
            let meeting = IcsMeeting {
                task_id: task.id,
                title: &task.title,
                description: &description,
                starts_at: schedule.starts_at,
                duration_minutes: schedule.duration_minutes,
                meeting_url: schedule.meeting_url.as_deref(),
                sequence: schedule.sequence,
                revised_at: match what {
                    MeetingChange::Cancelled => {
                        change.activity.first().map_or(task.updated_at, |a| a.at)
                    }
                    _ => schedule.revised_at.unwrap_or(task.updated_at),
                },
                organizer_name: &plan.portal.branding.company_name,
                organizer_email: organizer,
            };
            let method = match what {
                MeetingChange::Cancelled => IcsMethod::Cancel,
                _ => IcsMethod::Request,
            };
            for contact in Self::task_contacts(plan, task) {
                let ics = meeting_itip_in(
                    &meeting,
                    method,
                    Some(IcsAttendee {
                        name: &contact.name,
                        email: &contact.email,
                    }),
                    contact.language.unwrap_or_default(),
                );
                let email = mail::meeting_email(
                    Recipient {
                        name: &contact.name,
                        email: &contact.email,
                        branding: &plan.portal.branding,
                        time_zone: contact.time_zone,
                        language: contact.language.unwrap_or_default(),
                    },
                    MeetingFacts {
                        change: what,
                        title: &task.title,
                        starts_at: schedule.starts_at,
                        duration_minutes: schedule.duration_minutes,
                        meeting_url: schedule.meeting_url.as_deref(),
                    },
                    ics,
                )?;
                out.push(self.outbox_mail(
                    plan.portal.tenant_id,
                    Some(plan.portal.id),
                    MailKind::Meeting,
                    email,
                ));
            }
        }
        Ok(out)
    }

    /// The MSP's notice of each task a client completed in this change (the task was
    /// not complete before, is now, and the change's feed entry about it is the
    /// client's), to every notification recipient.
    fn completion_emails(
        &self,
        plan: &Plan,
        change: &PlanChange,
        recipients: &[EmailAddress],
    ) -> Result<Vec<OutboxMessage>> {
        let mut out = Vec::new();
        for after in &change.tasks {
            if after.status != TaskStatus::Completed {
                continue;
            }
            let was_done = plan
                .tasks
                .iter()
                .find(|t| t.id == after.id)
                .is_none_or(|t| t.status == TaskStatus::Completed);
            if was_done {
                continue;
            }
            let Some(by) = change
                .activity
                .iter()
                .find(|a| a.task_id == Some(after.id) && a.actor.side() == Side::Client)
            else {
                continue;
            };
            let notes = after
                .evidence
                .completion
                .as_ref()
                .and_then(|c| c.notes.clone())
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "No notes were added.".to_owned());
            for to in recipients {
                let email = mail::completion_notification(
                    mail::StaffRecipient {
                        email: to,
                        branding: &plan.portal.branding,
                    },
                    &plan.portal.client_name,
                    by.actor.name(),
                    &after.title,
                    &notes,
                )?;
                out.push(self.outbox_mail(
                    plan.portal.tenant_id,
                    Some(plan.portal.id),
                    MailKind::StaffNotification,
                    email,
                ));
            }
        }
        Ok(out)
    }

    /// The emails of a change's notices: a newly assigned task to the contacts named,
    /// an unlocked client task to its assignees (everyone when it names nobody).
    /// Revoked contacts, MSP tasks and internal tasks are never emailed.
    fn plan_emails(&self, plan: &Plan, change: &PlanChange) -> Result<Vec<OutboxMessage>> {
        let mut emails = Vec::new();
        for notice in &change.notices {
            let (task_id, why) = match notice {
                PlanNotice::Assigned { task, .. } => (*task, TaskForYou::Assigned),
                PlanNotice::Unlocked { task } => (*task, TaskForYou::Ready),
            };
            let Some(task) = change.tasks.iter().find(|t| t.id == task_id) else {
                continue;
            };
            if task.assignee != Side::Client || task.internal {
                continue;
            }
            let to: Vec<&Contact> = match notice {
                PlanNotice::Assigned { contacts, .. } => plan
                    .contacts
                    .iter()
                    .filter(|c| contacts.contains(&c.id) && c.revoked_at.is_none())
                    .collect(),
                PlanNotice::Unlocked { .. } => Self::task_contacts(plan, task),
            };
            for contact in to {
                let email = mail::task_email(
                    Recipient {
                        name: &contact.name,
                        email: &contact.email,
                        branding: &plan.portal.branding,
                        time_zone: contact.time_zone,
                        language: contact.language.unwrap_or_default(),
                    },
                    why,
                    &task.title,
                    task.due_date,
                )?;
                emails.push(self.outbox_mail(
                    plan.portal.tenant_id,
                    Some(plan.portal.id),
                    MailKind::TaskAssigned,
                    email,
                ));
            }
        }
        Ok(emails)
    }

    /// A portal's whole plan with its contacts, for staff.
    pub async fn plan(&self, staff: &StaffContext, portal: PortalId) -> Result<Plan> {
        self.plan_portal(staff, portal).await?;
        self.inner.store.plan(portal).await
    }

    /// Adds a task to a phase at `position` (the end when `None`); assigned contacts
    /// are emailed in the same unit.
    pub async fn add_plan_task(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        phase: PhaseId,
        spec: PlanTaskSpec,
        position: Option<u32>,
    ) -> Result<Task> {
        self.plan_portal(staff, portal).await?;
        let now = self.inner.clock.now();
        let task = Task {
            id: TaskId::random(self.inner.random.as_ref()),
            portal_id: portal,
            phase_id: phase,
            position: 0,
            title: spec.title,
            description: spec.description,
            assignee: spec.assignee,
            kind: spec.kind,
            status: TaskStatus::Pending,
            blocked_reason: None,
            due_date: spec.due_date,
            evidence: Default::default(),
            created_at: now,
            updated_at: now,
            version: crate::model::first_version(),
            assigned_to: spec.assigned_to,
            waits_on: spec.waits_on,
            internal: spec.internal,
            for_role: crate::workflow::team::task_role(spec.assignee, spec.for_role.as_deref())?,
        };
        let actor = staff.actor();
        let change = self
            .change_plan(portal, move |p, now| {
                plan::add_task(p, task.clone(), position, &actor, now)
            })
            .await?;
        subject(&change)
    }

    /// Edits a task the caller saw at version `expected` (stale: `Stale`, nothing
    /// changes). Newly assigned contacts are emailed in the same unit.
    pub async fn edit_task(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        expected: u64,
        edit: TaskEdit,
    ) -> Result<Task> {
        self.plan_portal(staff, portal).await?;
        let actor = staff.actor();
        let change = self
            .change_plan(portal, move |p, now| {
                plan::edit_task(p, task, expected, &edit, &actor, now)
            })
            .await?;
        subject(&change)
    }

    /// Sets or clears a task's due date (an [`Self::edit_task`] of that field alone).
    pub async fn set_due_date(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        expected: u64,
        due: Option<NaiveDate>,
    ) -> Result<Task> {
        let edit = TaskEdit {
            due_date: Some(due),
            ..TaskEdit::default()
        };
        self.edit_task(staff, portal, task, expected, edit).await
    }

    /// Moves a task to `position` of `to_phase` (clamped to its end).
    pub async fn move_task(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        expected: u64,
        to_phase: PhaseId,
        position: u32,
    ) -> Result<Task> {
        self.plan_portal(staff, portal).await?;
        let actor = staff.actor();
        let change = self
            .change_plan(portal, move |p, now| {
                plan::move_task(p, task, expected, to_phase, position, &actor, now)
            })
            .await?;
        subject(&change)
    }

    /// Deletes a task with its comments (one with uploaded files is refused); tasks
    /// that waited for it stop waiting, and their assignees are told if that unlocks
    /// them.
    pub async fn delete_task(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        expected: u64,
    ) -> Result<()> {
        self.plan_portal(staff, portal).await?;
        let actor = staff.actor();
        self.change_plan(portal, move |p, now| {
            plan::delete_task(p, task, expected, &actor, now)
        })
        .await?;
        Ok(())
    }

    /// Adds a phase at `position` (the end when `None`).
    pub async fn add_plan_phase(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        name: &str,
        position: Option<u32>,
    ) -> Result<Phase> {
        self.plan_portal(staff, portal).await?;
        let (actor, name) = (staff.actor(), name.to_owned());
        let id = PhaseId::random(self.inner.random.as_ref());
        let change = self
            .change_plan(portal, move |p, now| {
                plan::add_phase(p, id, &name, position, &actor, now)
            })
            .await?;
        phase_of(&change, id)
    }

    /// Renames a phase the caller saw at version `expected`.
    pub async fn rename_phase(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        phase: PhaseId,
        expected: u64,
        name: &str,
    ) -> Result<Phase> {
        self.plan_portal(staff, portal).await?;
        let (actor, name) = (staff.actor(), name.to_owned());
        let change = self
            .change_plan(portal, move |p, now| {
                plan::rename_phase(p, phase, expected, &name, &actor, now)
            })
            .await?;
        phase_of(&change, phase)
    }

    /// Moves a phase the caller saw at version `expected` to `position`.
    pub async fn move_phase(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        phase: PhaseId,
        expected: u64,
        position: u32,
    ) -> Result<Phase> {
        self.plan_portal(staff, portal).await?;
        let actor = staff.actor();
        let change = self
            .change_plan(portal, move |p, now| {
                plan::move_phase(p, phase, expected, position, &actor, now)
            })
            .await?;
        phase_of(&change, phase)
    }

    /// Deletes a phase: only an empty one, or with its tasks when asked.
    pub async fn delete_phase(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        phase: PhaseId,
        expected: u64,
        how: PhaseDeletion,
    ) -> Result<()> {
        self.plan_portal(staff, portal).await?;
        let actor = staff.actor();
        self.change_plan(portal, move |p, now| {
            plan::delete_phase(p, phase, expected, how, &actor, now)
        })
        .await?;
        Ok(())
    }

    // ----- the client's view ----------------------------------------------------------

    /// The store's version of what the client's portal home is built from (see
    /// [`crate::store::DirectoryStore::home_version`]): while it holds, a home built
    /// for this client after asking is still right, so a host may serve it again.
    /// `None` when the store offers no versions.
    pub async fn home_version(&self, ctx: &ClientContext) -> Result<Option<u64>> {
        self.inner.store.home_version(ctx.portal_id).await
    }

    /// The plan as the client sees it: internal tasks removed, locked tasks with what
    /// they wait for.
    pub async fn client_plan(&self, ctx: &ClientContext) -> Result<ClientPlan> {
        let full = self.inner.store.portal_snapshot(ctx.portal_id).await?;
        let msp = full.portal.branding.company_name.clone();
        let waiting = full
            .tasks
            .iter()
            .filter(|t| !t.internal)
            .filter_map(|t| {
                let labels = match &ctx.guest {
                    None => plan::waiting_for_labels(&full.tasks, t, &msp),
                    Some(guest) => {
                        crate::workflow::guests::waiting_labels(guest, &full.tasks, t, &msp)
                    }
                };
                (!labels.is_empty()).then_some((t.id, labels))
            })
            .collect();
        let named = full
            .tasks
            .iter()
            .any(|t| !t.internal && (!t.assigned_to.is_empty() || t.for_role.is_some()));
        let contacts = if named {
            self.inner.store.contacts(ctx.portal_id).await?
        } else {
            Vec::new()
        };
        let internal = plan::internal_ids(&full.tasks);
        let mut snapshot = plan::client_view(full);
        // A task for a role is the role's contacts' on every client page (ordering,
        // "assigned to you", the next step, claim and hand-off).
        snapshot.tasks = crate::workflow::team::with_roles_resolved(snapshot.tasks, &contacts);
        let assignees = contacts.into_iter().map(|c| (c.id, c.name)).collect();
        Ok(ClientPlan {
            internal,
            snapshot,
            waiting,
            assignees,
        })
    }
}

/// The task a change was about, as written.
fn subject(change: &PlanChange) -> Result<Task> {
    change
        .subject
        .and_then(|id| change.tasks.iter().find(|t| t.id == id))
        .cloned()
        .ok_or_else(|| Error::storage_msg("a plan change lost the task it was about"))
}

fn phase_of(change: &PlanChange, id: PhaseId) -> Result<Phase> {
    change
        .phases
        .iter()
        .find(|p| p.id == id)
        .cloned()
        .ok_or_else(|| Error::storage_msg("a plan change lost the phase it was about"))
}
