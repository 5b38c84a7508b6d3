//! The task workflow's use cases: clients completing tasks, commenting and asking
//! questions; MSP staff scheduling, blocking, reopening, answering and branding.
//! Every change goes through [`crate::workflow::apply`] inside one store call, which
//! also appends the activity entry.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use super::PortalService;
use crate::error::{Entity, Error, Result};
use crate::ids::{PortalId, QuestionId, TaskId};
use crate::mail;
use crate::model::{Branding, MeetingSchedule, Side, Task, TaskKind, clean_text};
use crate::outbox::{MailKind, OutboxMessage};
use crate::staff::{StaffContext, StaffRole};
use crate::store::{ClientContext, RequestInfo};
use crate::workflow::conversation::MAX_MESSAGE;
use crate::workflow::ics::{IcsMeeting, meeting_ics};
use crate::workflow::plan::act_on_plan;
use crate::workflow::survey::{self, SubmitMode};
use crate::workflow::{
    ActivityEntry, ActivityKind, Actor, ClientQuestion, Comment, QuestionAnswer, TaskAction,
};

/// The actor behind a client session.
pub fn client_actor(ctx: &ClientContext) -> Actor {
    Actor::Client {
        contact_id: ctx.contact_id,
        name: ctx.contact_name.clone(),
        email: ctx.contact_email.clone(),
    }
}

/// How far back the client's feed reads, in entries of every kind, to fill its page
/// with entries the client may see.
const CLIENT_FEED_REACH: usize = 10_000;

impl PortalService {
    /// Applies `action` by `actor` to a task of `portal`, atomically with its activity
    /// entry, through the plan ([`crate::workflow::plan::act_on_plan`]): a client can't
    /// see an internal task nor act on one that still waits for others, and the tasks
    /// this action unlocks say so in the feed and email their assignees, in the same
    /// unit. Callers have scoped `portal` already (a client's own, a staff member's
    /// tenant's).
    pub(super) async fn act(
        &self,
        actor: Actor,
        portal: PortalId,
        task: TaskId,
        action: TaskAction,
    ) -> Result<Task> {
        let change = self
            .change_plan(portal, move |plan, now| {
                act_on_plan(plan, task, &action, &actor, now)
            })
            .await
            .map_err(|e| match e {
                // The task is looked up through the plan: a missing portal is a
                // missing task to the caller, as `update_task` answers.
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
            .ok_or_else(|| Error::storage_msg("a task action lost its task"))
    }

    /// A task of the client's own portal (`NotFound` for any other portal's task, and
    /// for an internal one: a client never reaches it, not even by its id).
    pub async fn task(&self, ctx: &ClientContext, task: TaskId) -> Result<Task> {
        // A guest reaches only the tasks shared with them, here too and not only at
        // the HTTP routes: every client use case that reads a task goes through this.
        ctx.judge_reach(crate::workflow::guests::Reach::Task(task))?;
        let task = self.inner.store.task(ctx.portal_id, task).await?;
        crate::workflow::plan::visible_to(&client_actor(ctx), &task)?;
        Ok(task)
    }

    /// A task of a portal of the staff member's tenant.
    pub async fn staff_task(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Task> {
        staff.require(StaffRole::Member, "reading a task")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.inner.store.task(portal.id, task).await
    }

    // ----- client ----------------------------------------------------------------------

    /// "Mark Complete" on a standard or training task, with optional notes.
    pub async fn complete_task(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        notes: Option<String>,
    ) -> Result<Task> {
        self.act(
            client_actor(ctx),
            ctx.portal_id,
            task,
            TaskAction::Complete { notes },
        )
        .await
    }

    /// Saves (draft) or submits a form. Invalid answers come back as
    /// `Error::InvalidFields` with one message per question and nothing is saved.
    pub async fn save_answers(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        fields: &[(String, String)],
        mode: SubmitMode,
    ) -> Result<Task> {
        let current = self.inner.store.task(ctx.portal_id, task).await?;
        let TaskKind::Survey { questions } = &current.kind else {
            return Err(Error::conflict(crate::Reason::message(
                "reason-task-no-form",
                &[],
            )));
        };
        // The state decides before the content: a form that can't be changed says so,
        // whatever was typed into it.
        crate::workflow::actions::client_may_act(&current)?;
        let answers = survey::validate(questions, fields, mode)
            .map_err(|errors| Error::InvalidFields { errors })?;
        let submit = mode == SubmitMode::Submit;
        self.act(
            client_actor(ctx),
            ctx.portal_id,
            task,
            TaskAction::SaveAnswers { answers, submit },
        )
        .await
    }

    /// Checks or unchecks a checklist item of the client's own portal.
    pub async fn set_checklist_item(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        item: &str,
        checked: bool,
    ) -> Result<Task> {
        self.act(
            client_actor(ctx),
            ctx.portal_id,
            task,
            TaskAction::SetItem {
                item: item.to_owned(),
                checked,
            },
        )
        .await
    }

    /// Checks or unchecks a checklist item as staff (on the client's behalf).
    pub async fn staff_set_checklist_item(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        item: &str,
        checked: bool,
    ) -> Result<Task> {
        staff.require(StaffRole::Member, "checking a checklist item")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.act(
            staff.actor(),
            portal.id,
            task,
            TaskAction::SetItem {
                item: item.to_owned(),
                checked,
            },
        )
        .await
    }

    /// Approves or rejects an approval task; the decision records name, email, IP and
    /// time, and the SHA-256 of each document of the task. A task with documents (files
    /// the MSP attached) is refused (`Conflict`, "Open the document before you
    /// decide.") until this contact opened every one of them.
    pub async fn decide_approval(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        approved: bool,
        comment: Option<String>,
        request: &RequestInfo,
    ) -> Result<Task> {
        let current = self.task(ctx, task).await?;
        let documents = self.documents_opened(ctx, &current).await?;
        let action = TaskAction::Decide {
            approved,
            comment,
            request: request.clone(),
            documents,
        };
        self.act(client_actor(ctx), ctx.portal_id, task, action)
            .await
    }

    /// Adds the client's comment to a task's thread of their own portal; it is emailed
    /// to the MSP's notification recipients.
    pub async fn add_comment(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        body: &str,
    ) -> Result<Comment> {
        let found = self.task(ctx, task).await?;
        if !self.reads_thread(ctx, &found).await? {
            return Err(Error::Forbidden {
                reason: "the handover's thread is between your previous provider and your onboarding team".into(),
            });
        }
        self.comment(client_actor(ctx), ctx.portal_id, task, body)
            .await
    }

    /// Whether the signed-in participant reads `task`'s thread
    /// ([`crate::workflow::handover::reads_thread`]: not the client's own contacts on
    /// a handover task).
    async fn reads_thread(&self, ctx: &ClientContext, task: &Task) -> Result<bool> {
        if ctx.guest.is_some() {
            return Ok(true);
        }
        let contacts = self.inner.store.contacts(ctx.portal_id).await?;
        Ok(crate::workflow::handover::reads_thread(
            ctx.guest.as_ref(),
            task,
            &contacts,
        ))
    }

    /// Adds a staff member's comment (a reply) to a task's thread; the client sees it.
    pub async fn staff_add_comment(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        body: &str,
    ) -> Result<Comment> {
        staff.require(StaffRole::Member, "commenting")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.comment(staff.actor(), portal.id, task, body).await
    }

    /// A comment by `author` on a task of `portal` (already scoped by the caller).
    async fn comment(
        &self,
        author: Actor,
        portal: PortalId,
        task: TaskId,
        body: &str,
    ) -> Result<Comment> {
        let body = clean_text("comment", body, MAX_MESSAGE)?;
        if body.is_empty() {
            return Err(Error::invalid(
                "comment",
                crate::Reason::message("reason-comment-empty", &[]),
            ));
        }
        let task = self.inner.store.task(portal, task).await?;
        // A client never reaches an internal task, not even by its id.
        crate::workflow::plan::visible_to(&author, &task)?;
        let now = self.inner.clock.now();
        let comment = Comment {
            portal_id: portal,
            task_id: task.id,
            author: author.clone(),
            body,
            at: now,
        };
        let activity = ActivityEntry {
            portal_id: portal,
            at: now,
            actor: author.clone(),
            kind: ActivityKind::Commented,
            task_id: Some(task.id),
            subject: task.title.clone(),
            detail: None,
        };
        let notice = if author.side() == Side::Client {
            self.staff_notices(portal, |client, to| {
                mail::comment_notification(to, client, author.name(), &task.title, &comment.body)
            })
            .await
        } else {
            StaffNotices::none()
        };
        let replies = if author.side() == Side::Msp {
            self.reply_emails(portal, &task, &comment).await?
        } else {
            Vec::new()
        };
        let mut emails = notice.emails.clone();
        emails.extend(replies.iter().cloned());
        let added = self
            .inner
            .store
            .add_comment(&comment, &activity, &emails)
            .await;
        self.staff_notices_done(portal, notice, added.is_ok()).await;
        added?;
        if !replies.is_empty() {
            self.mail_queued().await;
        }
        Ok(comment)
    }

    /// A staff comment is a reply to every contact who commented on the task before:
    /// one email each (revoked contacts and contacts of other portals get none).
    async fn reply_emails(
        &self,
        portal: PortalId,
        task: &Task,
        reply: &Comment,
    ) -> Result<Vec<OutboxMessage>> {
        let mut commenters = Vec::new();
        for c in self.inner.store.comments(portal, task.id).await? {
            if let Actor::Client { contact_id, .. } = c.author
                && !commenters.contains(&contact_id)
            {
                commenters.push(contact_id);
            }
        }
        if commenters.is_empty() {
            return Ok(Vec::new());
        }
        let portal = self.inner.store.portal(portal).await?;
        let acting = self.acting_for(portal.tenant_id, Some(portal.id)).await?;
        let link = self.inner.links.task_url(&acting, task.id);
        let mut emails = Vec::new();
        for id in commenters {
            let contact = match self.inner.store.contact(id).await {
                Ok(c) if c.portal_id == portal.id && c.revoked_at.is_none() => c,
                Ok(_) | Err(Error::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            let email = mail::comment_reply_email(
                mail::Recipient {
                    name: &contact.name,
                    email: &contact.email,
                    branding: &portal.branding,
                    time_zone: contact.time_zone,
                    language: contact.language.unwrap_or_default(),
                },
                mail::CommentReply {
                    client: &portal.client_name,
                    who: reply.author.name(),
                    task: &task.title,
                    body: &reply.body,
                    link: &link,
                },
            )?;
            emails.push(self.outbox_mail(
                portal.tenant_id,
                Some(portal.id),
                MailKind::ClientNotification,
                email,
            ));
        }
        Ok(emails)
    }

    /// A task's comments of the client's own portal, oldest first (none for a thread
    /// the participant does not read: [`Self::thread`]).
    pub async fn comments(&self, ctx: &ClientContext, task: TaskId) -> Result<Vec<Comment>> {
        Ok(self.thread(ctx, task).await?.unwrap_or_default())
    }

    /// A task's thread as the signed-in participant sees it: its comments, oldest
    /// first, or `None` when the thread is not theirs (a handover task's thread is
    /// between the outgoing provider and the MSP), so the page offers no comment form
    /// that would be refused.
    pub async fn thread(&self, ctx: &ClientContext, task: TaskId) -> Result<Option<Vec<Comment>>> {
        let task = self.task(ctx, task).await?;
        if !self.reads_thread(ctx, &task).await? {
            return Ok(None);
        }
        Ok(Some(
            self.inner.store.comments(ctx.portal_id, task.id).await?,
        ))
    }

    /// A task's comments, oldest first, for staff of the portal's tenant.
    pub async fn staff_comments(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<Comment>> {
        staff.require(StaffRole::Member, "reading comments")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.inner.store.comments(portal.id, task).await
    }

    /// "Ask a Question": recorded in the activity feed, listed for the MSP and emailed
    /// to its notification recipients (the whole team).
    pub async fn ask_question(&self, ctx: &ClientContext, text: &str) -> Result<ClientQuestion> {
        self.ask_question_to(ctx, text, None).await
    }

    /// "Ask a Question" to the whole team (`to: None`, as [`Self::ask_question`]) or
    /// to one onboarding-team member, named by their email: the question records
    /// them (shown in the thread and to staff) and is emailed to them alone, queued
    /// in the unit that stores the question. A `to` that is not on the portal's team
    /// is `Invalid("to")` and nothing is stored.
    pub async fn ask_question_to(
        &self,
        ctx: &ClientContext,
        text: &str,
        to: Option<&str>,
    ) -> Result<ClientQuestion> {
        let text = clean_text("question", text, MAX_MESSAGE)?;
        if text.is_empty() {
            return Err(Error::invalid(
                "question",
                crate::Reason::message("reason-question-empty", &[]),
            ));
        }
        let member = match to.map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(email) => {
                let team = self.inner.store.portal_team(ctx.portal_id).await?;
                let member = team.member(email).cloned().ok_or_else(|| {
                    Error::invalid(
                        "to",
                        crate::Reason::message("reason-question-not-on-team", &[]),
                    )
                })?;
                Some(member)
            }
        };
        if let Some(member) = member {
            return self.ask_member(ctx, text, &member).await;
        }
        let now = self.inner.clock.now();
        let question = ClientQuestion {
            id: QuestionId::random(self.inner.random.as_ref()),
            portal_id: ctx.portal_id,
            asked_by: client_actor(ctx),
            text,
            asked_at: now,
            answer: None,
            to: None,
        };
        let activity = ActivityEntry {
            portal_id: ctx.portal_id,
            at: now,
            actor: question.asked_by.clone(),
            kind: ActivityKind::QuestionAsked,
            task_id: None,
            subject: excerpt(&question.text),
            detail: None,
        };
        let asker = ctx.contact_name.clone();
        let notice = self
            .staff_notices(ctx.portal_id, |client, to| {
                mail::question_notification(to, client, &asker, &question.text)
            })
            .await;
        let added = self
            .inner
            .store
            .add_question(&question, &activity, &notice.emails)
            .await;
        self.staff_notices_done(ctx.portal_id, notice, added.is_ok())
            .await;
        added?;
        Ok(question)
    }

    /// A question to one team member: stored with its addressee, its feed entry and
    /// the member's email in one unit.
    async fn ask_member(
        &self,
        ctx: &ClientContext,
        text: String,
        member: &crate::model::TeamMember,
    ) -> Result<ClientQuestion> {
        let now = self.inner.clock.now();
        let question = ClientQuestion {
            id: QuestionId::random(self.inner.random.as_ref()),
            portal_id: ctx.portal_id,
            asked_by: client_actor(ctx),
            text,
            asked_at: now,
            answer: None,
            to: Some(member.into()),
        };
        let activity = ActivityEntry {
            portal_id: ctx.portal_id,
            at: now,
            actor: question.asked_by.clone(),
            kind: ActivityKind::QuestionAsked,
            task_id: None,
            subject: excerpt(&question.text),
            detail: Some(format!("To: {}, {}", member.name, member.role)),
        };
        let email = self.question_to_member(ctx, member, &question.text).await?;
        self.inner
            .store
            .add_question(&question, &activity, std::slice::from_ref(&email))
            .await?;
        self.mail_queued().await;
        Ok(question)
    }

    /// The client's own portal's questions, newest first.
    pub async fn questions(&self, ctx: &ClientContext) -> Result<Vec<ClientQuestion>> {
        self.inner.store.questions(ctx.portal_id).await
    }

    /// A portal's questions, newest first, for staff of its tenant.
    pub async fn staff_questions(
        &self,
        staff: &StaffContext,
        portal: PortalId,
    ) -> Result<Vec<ClientQuestion>> {
        staff.require(StaffRole::Member, "reading questions")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.inner.store.questions(portal.id).await
    }

    /// The client's own portal's activity feed, newest first, without staff-only
    /// entries and entries about internal tasks: the newest `limit` the client may see.
    /// The store reads newest first, so a read that came back full but lost entries to
    /// the filter is repeated with twice the reach (setting a plan up writes one
    /// staff-only entry per task), up to `CLIENT_FEED_REACH` (10,000) entries.
    pub async fn activity(&self, ctx: &ClientContext, limit: usize) -> Result<Vec<ActivityEntry>> {
        let full = self.inner.store.portal_snapshot(ctx.portal_id).await?;
        let internal = crate::workflow::plan::internal_ids(&full.tasks);
        self.client_feed(ctx, limit, &internal).await
    }

    /// [`Self::activity`] beside a [`ClientPlan`](super::plan::ClientPlan) just read
    /// (the portal home reads both): the same feed, without reading the portal's
    /// snapshot a second time for its internal tasks.
    pub async fn plan_activity(
        &self,
        ctx: &ClientContext,
        plan: &super::plan::ClientPlan,
        limit: usize,
    ) -> Result<Vec<ActivityEntry>> {
        self.client_feed(ctx, limit, &plan.internal).await
    }

    /// The newest `limit` feed entries the client may see, `internal` tasks' left out.
    async fn client_feed(
        &self,
        ctx: &ClientContext,
        limit: usize,
        internal: &std::collections::HashSet<crate::TaskId>,
    ) -> Result<Vec<ActivityEntry>> {
        let mut reach = limit.max(1);
        loop {
            let feed = self.inner.store.activity(ctx.portal_id, reach).await?;
            let exhausted = feed.len() < reach || reach >= CLIENT_FEED_REACH;
            let mut visible = crate::workflow::plan::client_feed(feed, internal);
            if visible.len() >= limit || exhausted {
                visible.truncate(limit);
                return Ok(visible);
            }
            reach = reach.saturating_mul(2).min(CLIENT_FEED_REACH);
        }
    }

    /// One page of a portal's activity feed, newest first, for staff of its tenant:
    /// at most `limit` entries after `after` (the `next` of the page before; `None`
    /// for the newest), read by key.
    pub async fn staff_activity(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        after: Option<crate::store::PageKey>,
        limit: usize,
    ) -> Result<crate::store::Page<ActivityEntry>> {
        staff.require(StaffRole::Member, "reading the activity feed")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.inner
            .store
            .activity_page(portal.id, after, limit)
            .await
    }

    /// The calendar invite of a scheduled meeting task of the client's own portal.
    pub async fn meeting_ics(&self, ctx: &ClientContext, task: TaskId) -> Result<String> {
        let task = self.task(ctx, task).await?;
        self.ics(ctx.portal_id, task.id).await
    }

    /// The calendar invite of a scheduled meeting task, for staff of its tenant.
    pub async fn staff_meeting_ics(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<String> {
        staff.require(StaffRole::Member, "reading a meeting")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.ics(portal.id, task).await
    }

    async fn ics(&self, portal: PortalId, task: TaskId) -> Result<String> {
        let task = self.inner.store.task(portal, task).await?;
        let TaskKind::Meeting { schedule: Some(s) } = &task.kind else {
            return Err(Error::NotFound {
                entity: Entity::Meeting,
            });
        };
        let portal = self.inner.store.portal(portal).await?;
        let tenant = self.inner.store.tenant(portal.tenant_id).await?;
        let description = s.agenda.clone().unwrap_or_else(|| task.description.clone());
        Ok(meeting_ics(&IcsMeeting {
            task_id: task.id,
            title: &task.title,
            description: &description,
            starts_at: s.starts_at,
            duration_minutes: s.duration_minutes,
            meeting_url: s.meeting_url.as_deref(),
            sequence: s.sequence,
            revised_at: s.revised_at.unwrap_or(task.updated_at),
            organizer_name: &portal.branding.company_name,
            organizer_email: tenant.notification_recipients.first(),
        }))
    }

    // ----- MSP staff -------------------------------------------------------------------

    /// Schedules or reschedules a meeting task (raising its calendar SEQUENCE).
    pub async fn schedule_meeting(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        schedule: MeetingSchedule,
    ) -> Result<Task> {
        self.staff_act(
            staff,
            "scheduling a meeting",
            portal,
            task,
            TaskAction::Schedule(schedule),
        )
        .await
    }

    /// Blocks a task with a reason the client sees.
    pub async fn block_task(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        reason: &str,
    ) -> Result<Task> {
        self.staff_act(
            staff,
            "blocking a task",
            portal,
            task,
            TaskAction::Block {
                reason: reason.to_owned(),
            },
        )
        .await
    }

    /// Unblocks a task.
    pub async fn unblock_task(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Task> {
        self.staff_act(
            staff,
            "unblocking a task",
            portal,
            task,
            TaskAction::Unblock,
        )
        .await
    }

    /// Reopens a completed task.
    pub async fn reopen_task(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Task> {
        self.staff_act(staff, "reopening a task", portal, task, TaskAction::Reopen)
            .await
    }

    /// Marks any task complete as staff (e.g. an MSP task done, a meeting held).
    pub async fn staff_complete(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        task: TaskId,
        notes: Option<String>,
    ) -> Result<Task> {
        self.staff_act(
            staff,
            "completing a task",
            portal,
            task,
            TaskAction::Complete { notes },
        )
        .await
    }

    /// A member's `action` on a task of a portal of their tenant, attributed to them.
    async fn staff_act(
        &self,
        staff: &StaffContext,
        what: &str,
        portal: PortalId,
        task: TaskId,
        action: TaskAction,
    ) -> Result<Task> {
        staff.require(StaffRole::Member, what)?;
        let portal = self.staff_portal(staff, portal).await?;
        self.act(staff.actor(), portal.id, task, action).await
    }

    /// Answers a client's question; the client sees it in the portal.
    pub async fn answer_question(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        question: QuestionId,
        text: &str,
    ) -> Result<ClientQuestion> {
        staff.require(StaffRole::Member, "answering a question")?;
        let portal = self.staff_portal(staff, portal).await?.id;
        let text = clean_text("answer", text, MAX_MESSAGE)?;
        if text.is_empty() {
            return Err(Error::invalid("answer", "write the answer before sending"));
        }
        let asked = self
            .inner
            .store
            .questions(portal)
            .await?
            .into_iter()
            .find(|q| q.id == question)
            .ok_or(Error::NotFound {
                entity: Entity::Question,
            })?;
        let now = self.inner.clock.now();
        let answer = QuestionAnswer {
            by: staff.actor(),
            text,
            at: now,
        };
        let activity = ActivityEntry {
            portal_id: portal,
            at: now,
            actor: staff.actor(),
            kind: ActivityKind::QuestionAnswered,
            task_id: None,
            subject: excerpt(&asked.text),
            detail: None,
        };
        let emails = self.answer_emails(portal, &asked, &answer).await?;
        let answered = self
            .inner
            .store
            .answer_question(portal, question, &answer, &activity, &emails)
            .await?;
        if !emails.is_empty() {
            self.mail_queued().await;
        }
        Ok(answered)
    }

    /// The email telling the contact who asked that their question was answered (none
    /// if the contact is gone or revoked, or the question was not a client's).
    async fn answer_emails(
        &self,
        portal: PortalId,
        asked: &ClientQuestion,
        answer: &QuestionAnswer,
    ) -> Result<Vec<crate::outbox::OutboxMessage>> {
        let Actor::Client { contact_id, .. } = &asked.asked_by else {
            return Ok(Vec::new());
        };
        let contact = match self.inner.store.contact(*contact_id).await {
            Ok(c) if c.portal_id == portal && c.revoked_at.is_none() => c,
            Ok(_) | Err(Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let portal = self.inner.store.portal(portal).await?;
        let email = mail::answer_email(
            mail::Recipient {
                name: &contact.name,
                email: &contact.email,
                branding: &portal.branding,
                time_zone: contact.time_zone,
                language: contact.language.unwrap_or_default(),
            },
            &portal.client_name,
            &asked.text,
            answer.by.name(),
            &answer.text,
        )?;
        Ok(vec![self.outbox_mail(
            portal.tenant_id,
            Some(portal.id),
            crate::outbox::MailKind::ClientNotification,
            email,
        )])
    }

    /// Saves the staff member's tenant's branding defaults (admin): portals created
    /// afterwards start from them.
    pub async fn update_tenant_branding(
        &self,
        staff: &StaffContext,
        branding: Branding,
    ) -> Result<()> {
        staff.require(StaffRole::Admin, "changing the branding")?;
        let update = super::TenantUpdate {
            branding: Some(branding),
            ..super::TenantUpdate::default()
        };
        self.update_tenant(staff, update, None).await.map(drop)
    }

    /// Overrides one portal's branding (admin).
    pub async fn update_portal_branding(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        branding: Branding,
    ) -> Result<()> {
        staff.require(StaffRole::Admin, "changing a portal's branding")?;
        let update = super::PortalUpdate {
            branding: Some(branding),
            ..super::PortalUpdate::default()
        };
        self.update_portal(staff, portal, update, None)
            .await
            .map(drop)
    }

    /// The emails telling the MSP's notification recipients about a client's message,
    /// to be queued by the unit that stores the message: at most one notification per
    /// portal per [`crate::AccessPolicy::staff_notification_interval`] (a message
    /// inside the interval is held, only counted, and the next email names how many
    /// were held). A notification that cannot be composed is logged and never stops
    /// the client's action. Hand the result to [`Self::staff_notices_done`] after the
    /// unit.
    pub(super) async fn staff_notices<F>(&self, portal_id: PortalId, compose: F) -> StaffNotices
    where
        F: Fn(&str, mail::StaffRecipient<'_>) -> Result<mail::Email>,
    {
        let now = self.inner.clock.now();
        if self.staff_digest_on(portal_id).await {
            tracing::info!(portal = %portal_id, "staff notification left to the daily digest");
            return StaffNotices::none();
        }
        let interval = self.inner.policy.staff_notification_interval;
        let Some(claim) = self.inner.notifications.claim(portal_id, now, interval) else {
            tracing::info!(portal = %portal_id, "staff notification held: one was sent within the interval");
            return StaffNotices::none();
        };
        let composed: Result<Vec<OutboxMessage>> = async {
            let portal = self.inner.store.portal(portal_id).await?;
            let tenant = self.inner.store.tenant(portal.tenant_id).await?;
            let mut emails = Vec::with_capacity(tenant.notification_recipients.len());
            for to in &tenant.notification_recipients {
                let mut email = compose(
                    &portal.client_name,
                    mail::StaffRecipient {
                        email: to,
                        branding: &portal.branding,
                    },
                )?;
                mail::note_held_messages(&mut email, claim.held);
                emails.push(self.outbox_mail(
                    tenant.id,
                    Some(portal.id),
                    MailKind::StaffNotification,
                    email,
                ));
            }
            Ok(emails)
        }
        .await;
        match composed {
            Ok(emails) => StaffNotices {
                emails,
                claim: Some(claim),
            },
            Err(e) => {
                tracing::error!(error = %e, "could not notify the MSP");
                self.inner.notifications.release(portal_id, claim, true);
                StaffNotices::none()
            }
        }
    }

    /// Whether the portal's client events go to the MSP as one daily digest instead
    /// of one email each. If the settings cannot be read, the events are emailed one by
    /// one: a duplicate is better than a notice lost.
    pub(super) async fn staff_digest_on(&self, portal: PortalId) -> bool {
        match self.inner.store.reminder_settings(portal).await {
            Ok(settings) => settings.staff_digest,
            Err(e) => {
                tracing::warn!(portal = %portal, error = %e, "could not read the reminder settings; notifying the MSP at once");
                false
            }
        }
    }

    /// After the unit that was to queue `notice`: if it committed, the emails are on
    /// their way (delivered now or woken sender); if not, the coalescing slot is given
    /// back, as if the message had never come.
    pub(super) async fn staff_notices_done(
        &self,
        portal_id: PortalId,
        notice: StaffNotices,
        committed: bool,
    ) {
        match (committed, notice.claim) {
            (true, _) if !notice.emails.is_empty() => self.mail_queued().await,
            (false, Some(claim)) => self.inner.notifications.release(portal_id, claim, false),
            _ => {}
        }
    }
}

/// Staff notifications composed for one client message, waiting for its unit.
pub(super) struct StaffNotices {
    /// The emails to queue with the message (none if held or not composed).
    pub(super) emails: Vec<OutboxMessage>,
    /// The coalescing slot they took, given back if the unit fails.
    claim: Option<Claim>,
}

impl StaffNotices {
    pub(super) fn none() -> Self {
        Self {
            emails: Vec::new(),
            claim: None,
        }
    }
}

fn excerpt(text: &str) -> String {
    let first: String = text.lines().next().unwrap_or("").chars().take(80).collect();
    if first.chars().count() < text.chars().count() {
        format!("{first}…")
    } else {
        first
    }
}

/// A claim to send a staff notification now: the previous send time (restored if the
/// send fails) and how many messages were held since it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Claim {
    previous: Option<DateTime<Utc>>,
    held: u32,
}

/// One portal's coalescing state.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct PortalNotifications {
    last_sent: Option<DateTime<Utc>>,
    held: u32,
}

/// The rule: a notification at `now` is sent when none was sent within `interval`
/// (the send claims the slot and takes the held count); otherwise it is held.
fn claim_slot(
    state: &mut PortalNotifications,
    now: DateTime<Utc>,
    interval: TimeDelta,
) -> Option<Claim> {
    if state.last_sent.is_some_and(|t| now - t < interval) {
        state.held = state.held.saturating_add(1);
        return None;
    }
    let claim = Claim {
        previous: state.last_sent,
        held: state.held,
    };
    *state = PortalNotifications {
        last_sent: Some(now),
        held: 0,
    };
    Some(claim)
}

/// Staff notification coalescing for all portals, in this process's memory. Several
/// nodes each coalesce on their own (up to one email per node per interval); a shared
/// store would make the bound global.
#[derive(Debug, Default)]
pub(super) struct Notifications {
    portals: Mutex<HashMap<PortalId, PortalNotifications>>,
}

impl Notifications {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PortalId, PortalNotifications>> {
        // Poisoning only means another task panicked mid-update; the counts still hold.
        self.portals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn claim(&self, portal: PortalId, now: DateTime<Utc>, interval: TimeDelta) -> Option<Claim> {
        claim_slot(self.lock().entry(portal).or_default(), now, interval)
    }

    /// Undoes a claim whose emails will not go: the slot is free again. With
    /// `message_stands` (the client's message was stored, but its notification could
    /// not be composed) the message counts as held, so the next email mentions it;
    /// without (its unit failed, so there is no message) it does not.
    fn release(&self, portal: PortalId, claim: Claim, message_stands: bool) {
        let mut portals = self.lock();
        let state = portals.entry(portal).or_default();
        state.last_sent = claim.previous;
        state.held = state
            .held
            .saturating_add(claim.held)
            .saturating_add(u32::from(message_stands));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_notification_per_interval_and_the_held_ones_are_counted() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let minute = TimeDelta::minutes(1);
        let mut s = PortalNotifications::default();
        assert_eq!(claim_slot(&mut s, t0, minute).map(|c| c.held), Some(0));
        assert!(claim_slot(&mut s, t0, minute).is_none());
        let edge = t0 + minute - TimeDelta::milliseconds(1);
        assert!(claim_slot(&mut s, edge, minute).is_none(), "still inside");
        assert_eq!(
            claim_slot(&mut s, t0 + minute, minute).map(|c| c.held),
            Some(2),
            "the interval has passed: sent, naming the two held"
        );
        assert_eq!(s.held, 0);
        let n = Notifications::default();
        let p = PortalId::from_bytes([1; 16]);
        let claim = n.claim(p, t0, minute).unwrap();
        n.release(p, claim, true);
        let again = n.claim(p, t0, minute).unwrap();
        assert_eq!(
            again.held, 1,
            "a notification that could not be composed frees the slot; its message is counted"
        );
        n.release(p, again, false);
        assert_eq!(
            n.claim(p, t0, minute).map(|c| c.held),
            Some(1),
            "a failed unit frees the slot and counts nothing more"
        );
        assert!(
            n.claim(PortalId::from_bytes([2; 16]), t0, minute).is_some(),
            "per portal"
        );
    }
}
