//! Due-date change requests: a contact asks for a new due date on a client task with
//! a reason; the request is pending until staff approve it (the due date changes) or
//! decline it with a note. One pending request per task; every request and decision
//! is kept on the task, so the history of requested and granted dates is its own.
//!
//! Pure rules, answering a [`HelpChange`] the service writes through
//! [`super::stuck::help_on_plan`] with the emails, in one unit.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::activity::{ActivityEntry, ActivityKind};
use super::evidence::Actor;
use super::stuck::HelpChange;
use crate::error::{Error, Reason, Result};
use crate::model::{Side, Task, TaskStatus, clean_text};

/// Longest reason or note.
pub const MAX_REASON: usize = 1000;

/// One request for a new due date, and its decision once made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueDateRequest {
    /// Its number on the task: 1, 2, … in the order asked (names it in the admin API).
    pub number: u32,
    /// The contact who asked.
    pub by: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// The due date when they asked (`None`: the task had none).
    pub from: Option<NaiveDate>,
    /// The date they asked for.
    pub to: NaiveDate,
    /// Why; line breaks kept.
    pub reason: String,
    /// Staff's decision; `None` while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DueDateDecision>,
}

/// Staff's decision on a due-date request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueDateDecision {
    /// The staff member.
    pub by: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// Granted (the due date became the requested one) or declined.
    pub approved: bool,
    /// The note given with it (required to decline: the client is told why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl DueDateRequest {
    /// Whether it still waits for a decision.
    pub fn is_pending(&self) -> bool {
        self.decision.is_none()
    }
}

/// The pending request of `task`, if any.
pub fn pending(task: &Task) -> Option<&DueDateRequest> {
    task.evidence
        .due_date_requests
        .iter()
        .find(|r| r.is_pending())
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

fn reason_text(field: &'static str, raw: &str) -> Result<String> {
    clean_text(field, raw, MAX_REASON)
}

/// A contact asks for `to` as the new due date of `task`, because `reason`.
/// `today` is the contact's today (in their time zone): `to` must be today or later.
/// Refused: not a client, not a client task, a completed task (`Conflict`), a request
/// already pending (`Conflict`), a date in the past or equal to the due date, an empty
/// or too long reason (`Invalid`).
pub fn request_due_date(
    task: &Task,
    actor: &Actor,
    to: NaiveDate,
    reason: &str,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<HelpChange> {
    if actor.side() != Side::Client {
        return Err(Error::Forbidden {
            reason: crate::reason::Reason::message("reason-forbidden-due-client", &[]),
        });
    }
    if task.assignee != Side::Client {
        return Err(Error::conflict(Reason::message(
            "reason-due-date-msp-task",
            &[],
        )));
    }
    if task.status == TaskStatus::Completed {
        return Err(Error::conflict(Reason::message(
            "reason-task-already-complete",
            &[],
        )));
    }
    if pending(task).is_some() {
        return Err(Error::conflict(Reason::message(
            "reason-due-date-pending",
            &[],
        )));
    }
    if to < today {
        return Err(Error::invalid(
            "date",
            Reason::build("reason-due-date-past")
                .date("today", today)
                .done(),
        ));
    }
    if task.due_date == Some(to) {
        return Err(Error::invalid(
            "date",
            Reason::message("reason-due-date-same", &[]),
        ));
    }
    let reason = reason_text("reason", reason)?;
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            Reason::message("reason-due-date-why", &[]),
        ));
    }
    let number = u32::try_from(task.evidence.due_date_requests.len())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    let mut next = task.clone();
    next.updated_at = now;
    next.evidence.due_date_requests.push(DueDateRequest {
        number,
        by: actor.clone(),
        at: now,
        from: task.due_date,
        to,
        reason: reason.clone(),
        decision: None,
    });
    let detail = format!("{to}: {reason}");
    Ok(HelpChange {
        change: super::TaskChange {
            activity: entry(
                task,
                actor,
                ActivityKind::DueDateRequested,
                Some(detail),
                now,
            ),
            task: next,
        },
        comment: None,
    })
}

/// Staff approve or decline request `number` of `task`. Approving sets the due date to
/// the requested one; declining needs a `note` (the client is told why). Refused: not
/// staff, no such request (`Invalid("request")`), already decided (`Conflict`).
pub fn decide_due_date(
    task: &Task,
    actor: &Actor,
    number: u32,
    approved: bool,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<HelpChange> {
    if actor.side() != Side::Msp {
        return Err(Error::Forbidden {
            reason: crate::reason::Reason::message("reason-forbidden-msp-only", &[]),
        });
    }
    let note = match note.map(|n| reason_text("note", n)).transpose()? {
        Some(n) if n.is_empty() => None,
        other => other,
    };
    let Some(index) = task
        .evidence
        .due_date_requests
        .iter()
        .position(|r| r.number == number)
    else {
        return Err(Error::invalid(
            "request",
            "this task has no due-date request with that number",
        ));
    };
    let request = &task.evidence.due_date_requests[index];
    if !request.is_pending() {
        return Err(Error::conflict(
            "This due-date request was already decided.",
        ));
    }
    if !approved && note.is_none() {
        return Err(Error::invalid(
            "note",
            "say why the date can't change: the client reads it",
        ));
    }
    let to = request.to;
    let mut next = task.clone();
    next.updated_at = now;
    if approved {
        next.due_date = Some(to);
    }
    if let Some(r) = next.evidence.due_date_requests.get_mut(index) {
        r.decision = Some(DueDateDecision {
            by: actor.clone(),
            at: now,
            approved,
            note: note.clone(),
        });
    }
    let (kind, detail) = if approved {
        (ActivityKind::DueDateApproved, Some(to.to_string()))
    } else {
        (ActivityKind::DueDateDeclined, note)
    };
    Ok(HelpChange {
        change: super::TaskChange {
            activity: entry(task, actor, kind, detail, now),
            task: next,
        },
        comment: None,
    })
}

#[cfg(test)]
mod tests;
