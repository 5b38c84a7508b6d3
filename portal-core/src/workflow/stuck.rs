//! "I'm stuck": a contact tells the MSP they cannot go on with a client task, with a
//! reason. While the report is open the task waits on the MSP (it is not the client's
//! next step and never overdue, see [`super::agenda`]); the MSP answers in the task's
//! thread and clears it.
//!
//! Pure rules: they answer the task as it must be stored, the feed entry and the
//! comment to post in the thread; the service writes all of it, with the emails, in
//! one [`crate::store::PlanStore::change_plan`] unit (see [`help_on_plan`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::activity::{ActivityEntry, ActivityKind};
use super::conversation::{Comment, MAX_MESSAGE};
use super::evidence::Actor;
use super::plan::{Plan, PlanChange, visible_to};
use crate::error::{Error, Reason, Result};
use crate::ids::TaskId;
use crate::model::{Side, Task, TaskStatus, clean_text};

/// Longest reason a contact can give (a few sentences: the thread is for the rest).
pub const MAX_REASON: usize = 1000;

/// One "I'm stuck" report on a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StuckReport {
    /// The contact who said it.
    pub by: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// Why they are stuck; line breaks kept.
    pub reason: String,
    /// Set when the MSP cleared it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared: Option<StuckCleared>,
}

/// The MSP clearing a stuck report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StuckCleared {
    /// The staff member.
    pub by: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// The answer posted in the thread with it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// A rule's answer for one task: the task change (task and feed entry), and the
/// comment to post in its thread in the same unit.
#[derive(Debug, Clone)]
pub struct HelpChange {
    /// The task as it must be stored, and its feed entry.
    pub change: super::TaskChange,
    /// A comment for the task's thread.
    pub comment: Option<Comment>,
}

/// The open report of `task`, if a contact said they are stuck and the MSP has not
/// cleared it yet.
pub fn open_report(task: &Task) -> Option<&StuckReport> {
    task.evidence.stuck.last().filter(|r| r.cleared.is_none())
}

/// Whether `task` waits on the MSP because a contact is stuck on it (a completed task
/// never is).
pub fn is_stuck(task: &Task) -> bool {
    task.status != TaskStatus::Completed && open_report(task).is_some()
}

fn entry(
    task: &Task,
    actor: &Actor,
    kind: ActivityKind,
    detail: Option<String>,
    now: DateTime<Utc>,
) -> ActivityEntry {
    ActivityEntry {
        portal_id: task.portal_id,
        at: now,
        actor: actor.clone(),
        kind,
        task_id: Some(task.id),
        subject: task.title.clone(),
        detail,
    }
}

/// A contact's "I'm stuck" on `task` with `reason`: refused unless the actor is a
/// client, the task is a client task that is neither completed nor blocked, and no
/// report is open already; the reason is required (at most [`MAX_REASON`]
/// characters, no control characters). The reason is posted in the thread, as the
/// client's own message in the language they read (`language`).
pub fn report_stuck(
    task: &Task,
    actor: &Actor,
    reason: &str,
    now: DateTime<Utc>,
    language: crate::i18n::Language,
) -> Result<HelpChange> {
    if actor.side() != Side::Client {
        return Err(Error::Forbidden {
            reason: crate::reason::Reason::message("reason-forbidden-stuck-client", &[]),
        });
    }
    if task.assignee != Side::Client {
        return Err(Error::conflict(Reason::message(
            "reason-stuck-msp-task",
            &[],
        )));
    }
    match task.status {
        TaskStatus::Completed => {
            return Err(Error::conflict(Reason::message(
                "reason-task-already-complete",
                &[],
            )));
        }
        TaskStatus::Blocked => {
            return Err(Error::conflict(Reason::message(
                "reason-stuck-on-hold",
                &[],
            )));
        }
        TaskStatus::Pending | TaskStatus::InProgress => {}
    }
    if open_report(task).is_some() {
        return Err(Error::conflict(Reason::message(
            "reason-stuck-already",
            &[],
        )));
    }
    let reason = clean_text("reason", reason, MAX_REASON)?;
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            Reason::message("reason-stuck-why", &[]),
        ));
    }
    let mut next = task.clone();
    next.updated_at = now;
    next.evidence.stuck.push(StuckReport {
        by: actor.clone(),
        at: now,
        reason: reason.clone(),
        cleared: None,
    });
    let comment = Comment {
        portal_id: task.portal_id,
        task_id: task.id,
        author: actor.clone(),
        body: crate::i18n::message(
            language,
            "thread-stuck",
            &[("reason", reason.as_str().into())],
        ),
        at: now,
    };
    Ok(HelpChange {
        change: super::TaskChange {
            activity: entry(task, actor, ActivityKind::StuckReported, Some(reason), now),
            task: next,
        },
        comment: Some(comment),
    })
}

/// Staff clear the open stuck report of `task`, with an optional answer posted in
/// the thread (at most [`MAX_MESSAGE`] characters). `Conflict` if no report is open.
pub fn clear_stuck(
    task: &Task,
    actor: &Actor,
    answer: Option<&str>,
    now: DateTime<Utc>,
) -> Result<HelpChange> {
    if actor.side() != Side::Msp {
        return Err(Error::Forbidden {
            reason: crate::reason::Reason::message("reason-forbidden-msp-only", &[]),
        });
    }
    let answer = match answer
        .map(|a| clean_text("answer", a, MAX_MESSAGE))
        .transpose()?
    {
        Some(a) if a.is_empty() => None,
        other => other,
    };
    if open_report(task).is_none() {
        return Err(Error::conflict(
            "Nobody is stuck on this task: there is nothing to clear.",
        ));
    }
    let mut next = task.clone();
    next.updated_at = now;
    if let Some(open) = next.evidence.stuck.last_mut() {
        open.cleared = Some(StuckCleared {
            by: actor.clone(),
            at: now,
            answer: answer.clone(),
        });
    }
    let comment = answer.as_ref().map(|body| Comment {
        portal_id: task.portal_id,
        task_id: task.id,
        author: actor.clone(),
        body: body.clone(),
        at: now,
    });
    Ok(HelpChange {
        change: super::TaskChange {
            activity: entry(task, actor, ActivityKind::StuckCleared, answer, now),
            task: next,
        },
        comment,
    })
}

/// Runs `rule` on task `id` of `plan` and answers the plan change to write: the task
/// with its version raised (the fields a task rule never changes kept, see
/// [`super::TaskChange`]'s `apply_to`), its feed entry, and the rule's comment. A task
/// the actor cannot see (an internal one, for a client) is `NotFound(Task)`.
pub fn help_on_plan(
    plan: &Plan,
    id: TaskId,
    actor: &Actor,
    rule: impl FnOnce(&Task) -> Result<HelpChange>,
) -> Result<PlanChange> {
    let current = plan.task(id)?;
    visible_to(actor, current)?;
    let help = rule(current)?;
    let (next, activity) = help.change.apply_to(current)?;
    let tasks: Vec<Task> = plan
        .tasks
        .iter()
        .map(|t| if t.id == id { next.clone() } else { t.clone() })
        .collect();
    Ok(PlanChange {
        phases: plan.phases.clone(),
        tasks,
        activity: vec![activity],
        notices: Vec::new(),
        emails: Vec::new(),
        subject: Some(id),
        comments: help.comment.into_iter().collect(),
        erased_blobs: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
