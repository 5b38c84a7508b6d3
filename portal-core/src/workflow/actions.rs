//! The task workflow's rules: who may do what to a task in which state, and what the
//! task looks like afterwards. Pure functions: stores call [`apply`] inside their
//! transaction (through the closure the service hands them) and write the result
//! together with its activity entry.
//!
//! Statuses move `pending → in progress (first partial evidence) → completed`. MSP
//! staff can block a task (with a reason the client sees), unblock it, and reopen a
//! completed one. Clients act only on client-side tasks; a blocked or completed task
//! refuses their changes with a message saying why.

use chrono::{DateTime, Utc};

use super::activity::{ActivityEntry, ActivityKind};
use super::evidence::{Actor, ApprovalDecision, CheckMark, Completion, TaskEvidence};
use super::survey::Answers;
use crate::error::{Error, Reason, Result};
use crate::model::{MeetingSchedule, Side, Task, TaskKind, TaskStatus, clean_text};
use crate::store::RequestInfo;

/// Longest notes, comment or reason text.
pub const MAX_NOTE: usize = 5000;

/// Something a person does to a task.
#[derive(Debug, Clone)]
pub enum TaskAction {
    /// "Mark Complete", with optional notes (standard and training tasks; staff: any task).
    Complete {
        /// Notes or evidence text.
        notes: Option<String>,
    },
    /// Save a form's answers as a draft, or submit them (validated beforehand).
    SaveAnswers {
        /// The validated answers.
        answers: Answers,
        /// Submitting completes the task.
        submit: bool,
    },
    /// Check or uncheck a checklist item (client or staff).
    SetItem {
        /// The item id.
        item: String,
        /// Checked or not.
        checked: bool,
    },
    /// Approve or reject an approval task.
    Decide {
        /// Approve (`true`) or reject.
        approved: bool,
        /// Optional explanation.
        comment: Option<String>,
        /// Where the decision came from (recorded with it).
        request: RequestInfo,
        /// The task's documents the contact opened before deciding (see
        /// [`crate::attachments::ensure_opened`]), recorded with the decision.
        documents: Vec<crate::attachments::DecidedDocument>,
    },
    /// Schedule or reschedule a meeting (staff).
    Schedule(MeetingSchedule),
    /// Block a task with a reason shown to the client (staff).
    Block {
        /// Why.
        reason: String,
    },
    /// Unblock a task (staff).
    Unblock,
    /// Reopen a completed task (staff).
    Reopen,
}

/// A task after an action, and the activity entry that records it.
#[derive(Debug, Clone)]
pub struct TaskChange {
    /// The task as it must be stored.
    pub task: Task,
    /// The entry to append in the same unit of work.
    pub activity: ActivityEntry,
}

fn conflict(msg: &str) -> Error {
    Error::conflict(msg)
}

/// A conflict a client can meet: the catalog message `key` of `reason.ftl`.
fn client_conflict(key: &'static str) -> Error {
    Error::conflict(Reason::message(key, &[]))
}

/// Status implied by the evidence alone (used when unblocking and after checklist changes).
pub fn derived_status(task: &Task) -> TaskStatus {
    let e = &task.evidence;
    if e.completion.is_some() || e.decision.is_some() {
        return TaskStatus::Completed;
    }
    if matches!(task.kind, TaskKind::DocumentUpload { .. }) {
        return super::documents::documents_progress(task);
    }
    if let TaskKind::Checklist { items } = &task.kind
        && !items.is_empty()
        && items.iter().all(|i| e.checked.contains_key(&i.id))
    {
        return TaskStatus::Completed;
    }
    if !e.answers.is_empty() || !e.checked.is_empty() {
        TaskStatus::InProgress
    } else {
        TaskStatus::Pending
    }
}

fn optional_note(field: &'static str, note: Option<&str>) -> Result<Option<String>> {
    match note.map(|n| clean_text(field, n, MAX_NOTE)).transpose()? {
        Some(n) if n.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// Whether a client may change `task` at all: it must be a client-side task that is
/// neither blocked nor completed. Checked before anything else the client sent.
pub fn client_may_act(task: &Task) -> Result<()> {
    if task.assignee != Side::Client {
        return Err(Error::Forbidden {
            reason: crate::reason::Reason::message("reason-forbidden-msp-task", &[]),
        });
    }
    if task.status == TaskStatus::Blocked {
        return Err(Error::conflict(match task.blocked_reason.as_deref() {
            Some(why) => Reason::message("reason-task-blocked", &[("why", why.into())]),
            None => Reason::message("reason-task-blocked-no-reason", &[]),
        }));
    }
    if task.status == TaskStatus::Completed {
        return Err(client_conflict("reason-task-already-complete"));
    }
    Ok(())
}

/// Whether a client may uncheck an item of `task`: as [`client_may_act`], except that a
/// checklist its own ticks completed can still be unticked. A tick by mistake on the
/// last item would otherwise lock the client out of correcting it (the completion
/// came from the items alone, so taking one back takes the completion back too). A
/// checklist the MSP marked complete stays theirs to reopen.
pub fn client_may_untick(task: &Task) -> Result<()> {
    if task.assignee == Side::Client
        && task.status == TaskStatus::Completed
        && completed_by_items(task)
    {
        return Ok(());
    }
    client_may_act(task)
}

/// Whether `task` is a checklist that is complete only because every item is checked
/// (no one marked it complete, no decision was made).
fn completed_by_items(task: &Task) -> bool {
    matches!(task.kind, TaskKind::Checklist { .. })
        && task.evidence.completion.is_none()
        && task.evidence.decision.is_none()
        && derived_status(task) == TaskStatus::Completed
}

/// Applies `action` by `actor` to `task` at `now`, or says why it is not allowed.
/// The returned task has `updated_at = now`; nothing else outside the task changes.
pub fn apply(
    task: &Task,
    action: &TaskAction,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<TaskChange> {
    let staff = actor.side() == Side::Msp;
    let client_action = matches!(
        action,
        TaskAction::Complete { .. }
            | TaskAction::SaveAnswers { .. }
            | TaskAction::SetItem { .. }
            | TaskAction::Decide { .. }
    );
    let staff_only = matches!(
        action,
        TaskAction::Schedule(_)
            | TaskAction::Block { .. }
            | TaskAction::Unblock
            | TaskAction::Reopen
    );
    if staff_only && !staff {
        return Err(Error::Forbidden {
            reason: crate::reason::Reason::message("reason-forbidden-msp-only", &[]),
        });
    }
    if client_action && !staff {
        if matches!(action, TaskAction::SetItem { checked: false, .. }) {
            client_may_untick(task)?;
        } else {
            client_may_act(task)?;
        }
    }
    let mut next = task.clone();
    next.updated_at = now;
    let mut detail = None;
    let kind = match action {
        TaskAction::Complete { notes } => {
            if !staff && !matches!(task.kind, TaskKind::Standard | TaskKind::Training { .. }) {
                return Err(client_conflict("reason-task-not-marked-complete"));
            }
            if task.status == TaskStatus::Completed {
                return Err(client_conflict("reason-task-already-complete"));
            }
            let notes = optional_note("notes", notes.as_deref())?;
            detail.clone_from(&notes);
            next.evidence.completion = Some(Completion {
                by: actor.clone(),
                at: now,
                notes,
            });
            next.status = TaskStatus::Completed;
            next.blocked_reason = None;
            ActivityKind::TaskCompleted
        }
        TaskAction::SaveAnswers { answers, submit } => {
            if !matches!(task.kind, TaskKind::Survey { .. }) {
                return Err(client_conflict("reason-task-no-form"));
            }
            if task.status == TaskStatus::Completed {
                return Err(client_conflict("reason-form-already-submitted"));
            }
            next.evidence.answers = answers.clone();
            next.evidence.answers_saved = Some(CheckMark {
                by: actor.clone(),
                at: now,
            });
            if *submit {
                next.evidence.completion = Some(Completion {
                    by: actor.clone(),
                    at: now,
                    notes: None,
                });
                next.status = TaskStatus::Completed;
                next.blocked_reason = None;
                ActivityKind::TaskCompleted
            } else {
                if task.status != TaskStatus::Blocked {
                    next.status = if answers.is_empty() {
                        TaskStatus::Pending
                    } else {
                        TaskStatus::InProgress
                    };
                }
                ActivityKind::ProgressSaved
            }
        }
        TaskAction::SetItem { item, checked } => {
            let TaskKind::Checklist { items } = &task.kind else {
                return Err(client_conflict("reason-task-no-checklist"));
            };
            let Some(found) = items.iter().find(|i| &i.id == item) else {
                return Err(Error::invalid(
                    "item",
                    Reason::message("reason-checklist-no-such-item", &[]),
                ));
            };
            detail = Some(found.label.clone());
            if *checked {
                if next.evidence.checked.contains_key(item) {
                    return Err(client_conflict("reason-item-already-checked"));
                }
                next.evidence.checked.insert(
                    item.clone(),
                    CheckMark {
                        by: actor.clone(),
                        at: now,
                    },
                );
            } else if next.evidence.checked.remove(item).is_none() {
                return Err(client_conflict("reason-item-not-checked"));
            }
            if task.status != TaskStatus::Blocked {
                next.status = derived_status(&next);
            }
            // A task the MSP already marked complete stays complete while items change
            // (its completion stands until it is reopened), and a blocked one stays
            // blocked until it is unblocked.
            let completes =
                next.status == TaskStatus::Completed && task.status != TaskStatus::Completed;
            let reopens =
                task.status == TaskStatus::Completed && next.status != TaskStatus::Completed;
            match (*checked, completes, reopens) {
                // The last item completes the task: the feed says so.
                (true, true, _) => ActivityKind::TaskCompleted,
                (true, false, _) => ActivityKind::ItemChecked,
                // Unticking an item of a checklist its ticks completed reopens it: the
                // feed says so (the detail names the item), as it said "completed".
                (false, _, true) => ActivityKind::TaskReopened,
                (false, _, false) => ActivityKind::ItemUnchecked,
            }
        }
        TaskAction::Decide {
            approved,
            comment,
            request,
            documents,
        } => {
            if !matches!(task.kind, TaskKind::Approval { .. }) {
                return Err(client_conflict("reason-task-not-approval"));
            }
            if task.evidence.decision.is_some() {
                return Err(client_conflict("reason-approval-already-decided"));
            }
            let Actor::Client { name, email, .. } = actor else {
                return Err(Error::Forbidden {
                    reason: crate::reason::Reason::message(
                        "reason-forbidden-approvals-client",
                        &[],
                    ),
                });
            };
            let comment = optional_note("comment", comment.as_deref())?;
            detail.clone_from(&comment);
            next.evidence.decision = Some(ApprovalDecision {
                approved: *approved,
                comment,
                name: name.clone(),
                email: email.clone(),
                ip: request.ip,
                user_agent: request.user_agent.clone(),
                at: now,
                documents: documents.clone(),
            });
            next.status = TaskStatus::Completed;
            if *approved {
                ActivityKind::Approved
            } else {
                ActivityKind::Rejected
            }
        }
        TaskAction::Schedule(schedule) => {
            let TaskKind::Meeting { schedule: previous } = &task.kind else {
                return Err(conflict("Only meeting tasks can be scheduled."));
            };
            let mut schedule = schedule.clone();
            schedule.sequence = previous.as_ref().map_or(0, |p| p.sequence + 1);
            schedule.revised_at = Some(now);
            schedule.validate()?;
            let rescheduled = previous.is_some();
            next.kind = TaskKind::Meeting {
                schedule: Some(schedule),
            };
            if rescheduled {
                ActivityKind::MeetingRescheduled
            } else {
                ActivityKind::MeetingScheduled
            }
        }
        TaskAction::Block { reason } => {
            if task.status == TaskStatus::Completed {
                return Err(conflict(
                    "A completed task can't be blocked; reopen it first.",
                ));
            }
            let reason = clean_text("reason", reason, 2000)?;
            if reason.is_empty() {
                return Err(Error::invalid(
                    "reason",
                    "say why the task is blocked: the client sees it",
                ));
            }
            detail = Some(reason.clone());
            next.status = TaskStatus::Blocked;
            next.blocked_reason = Some(reason);
            ActivityKind::TaskBlocked
        }
        TaskAction::Unblock => {
            if task.status != TaskStatus::Blocked {
                return Err(conflict("This task is not blocked."));
            }
            next.blocked_reason = None;
            next.status = derived_status(&next);
            ActivityKind::TaskUnblocked
        }
        TaskAction::Reopen => {
            if task.status != TaskStatus::Completed {
                return Err(conflict("Only a completed task can be reopened."));
            }
            // Past decisions are kept: they are the audit record of who decided what.
            let mut previous = task.evidence.previous_decisions.clone();
            previous.extend(task.evidence.decision.clone());
            next.evidence = TaskEvidence {
                completion: None,
                decision: None,
                previous_decisions: previous,
                ..task.evidence.clone()
            };
            super::documents::reopen_documents(&mut next);
            // A fully checked checklist stays open until an item changes.
            next.status = if next.evidence.answers.is_empty()
                && next.evidence.checked.is_empty()
                && next.evidence.documents.is_empty()
            {
                TaskStatus::Pending
            } else {
                TaskStatus::InProgress
            };
            ActivityKind::TaskReopened
        }
    };
    let activity = ActivityEntry {
        portal_id: task.portal_id,
        at: now,
        actor: actor.clone(),
        kind,
        task_id: Some(task.id),
        subject: task.title.clone(),
        detail,
    };
    Ok(TaskChange {
        task: next,
        activity,
    })
}

#[cfg(test)]
mod tests;
