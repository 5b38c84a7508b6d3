//! The client's agenda: which tasks are the client's to do now and which wait on the
//! MSP, the one task the portal home puts forward as the next step, the order of the
//! Your Tasks list, and each phase's outline (status, percent done, planned dates) for
//! Our Progress.
//!
//! Pure functions over the client's view of a plan; the portal home only renders
//! their answers, so the same rule decides the next-step card, the list and the
//! "Overdue" marks.
//!
//! Choices this module makes:
//! - **Waiting is not overdue.** A task the client cannot move (a document under
//!   review, a blocked task, a task they said they are stuck on, a task locked by a dependency, a meeting not scheduled
//!   yet, any MSP task) is shown as waiting and is never marked overdue against the
//!   client, whatever its due date.
//! - **The next step** is the client's most urgent task that is theirs to do now and
//!   is for the signed-in contact (assigned to nobody in particular, or to them):
//!   overdue first, then by due date (undated last), then plan order.
//! - **Phase dates.** Phases carry no dates of their own, so a phase's planned span
//!   runs from the earliest to the latest due date of its tasks.

use chrono::NaiveDate;

use super::documents::DocumentStatus;
use crate::ids::ContactId;
use crate::model::{
    Phase, PhaseStatus, PortalSnapshot, Progress, RequestedDocument, Side, Task, TaskKind,
    TaskStatus,
};

/// Where a task stands from the client's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The client can act on it now.
    ToDo,
    /// Nothing for the client to do until the MSP (or another task) moves.
    Waiting(WaitingOn),
    /// Completed.
    Done,
}

/// What a waiting task waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitingOn {
    /// Every requested document is uploaded and some still wait for the MSP's review.
    Review,
    /// The MSP blocked it (the reason is shown with it).
    Blocked,
    /// It waits for other tasks to be completed (a dependency).
    Prerequisites,
    /// A meeting the MSP has not scheduled yet.
    Scheduling,
    /// The MSP does it.
    Msp,
    /// A contact said they are stuck on it: the MSP owes them an answer.
    Stuck,
}

impl WaitingOn {
    /// [`Self::label`] in `language`, from the message catalog.
    pub fn label_in(self, msp: &str, language: crate::i18n::Language) -> String {
        let on = match self {
            Self::Review => "review",
            Self::Blocked => "blocked",
            Self::Prerequisites => "prerequisites",
            Self::Scheduling => "scheduling",
            Self::Msp => "msp",
            Self::Stuck => "stuck",
        };
        crate::i18n::message(
            language,
            "waiting-on",
            &[("on", on.into()), ("msp", msp.into())],
        )
    }

    /// The words a client reads, naming the MSP (`msp`).
    pub fn label(self, msp: &str) -> String {
        match self {
            Self::Review => format!("Waiting for {msp} to review"),
            Self::Blocked => format!("On hold: {msp} will unblock it"),
            Self::Prerequisites => "Waiting for an earlier step".to_owned(),
            Self::Scheduling => format!("Waiting for {msp} to schedule it"),
            Self::Msp => format!("With {msp}"),
            Self::Stuck => format!("Waiting for {msp} to help"),
        }
    }
}

/// Where `task` stands for the client; `locked` says whether it still waits for
/// other tasks (see [`super::plan::is_locked`], decided on the whole plan, internal
/// tasks included).
pub fn standing(task: &Task, locked: bool) -> Standing {
    if task.status == TaskStatus::Completed {
        return Standing::Done;
    }
    if task.assignee == Side::Msp {
        return Standing::Waiting(WaitingOn::Msp);
    }
    if super::stuck::is_stuck(task) {
        return Standing::Waiting(WaitingOn::Stuck);
    }
    if task.status == TaskStatus::Blocked {
        return Standing::Waiting(WaitingOn::Blocked);
    }
    if locked {
        return Standing::Waiting(WaitingOn::Prerequisites);
    }
    match &task.kind {
        TaskKind::Meeting { schedule: None } => Standing::Waiting(WaitingOn::Scheduling),
        TaskKind::DocumentUpload { documents } if under_review(task, documents) => {
            Standing::Waiting(WaitingOn::Review)
        }
        _ => Standing::ToDo,
    }
}

/// Every requested document was uploaded, none was rejected, and some wait for review.
fn under_review(task: &Task, requested: &[RequestedDocument]) -> bool {
    let mut pending = false;
    for d in requested {
        match task.evidence.documents.get(&d.id).map(|s| s.status) {
            None | Some(DocumentStatus::Requested | DocumentStatus::Rejected) => return false,
            Some(DocumentStatus::Uploaded) => pending = true,
            Some(DocumentStatus::Approved) => {}
        }
    }
    pending
}

/// Whether `task` is overdue against the client on `today` (the contact's today):
/// only a task that is the client's to do now, due before today.
pub fn is_overdue(task: &Task, locked: bool, today: NaiveDate) -> bool {
    standing(task, locked) == Standing::ToDo && task.due_date.is_some_and(|d| d < today)
}

/// Whether a client task is for `contact`: assigned to nobody in particular (every
/// contact of the portal) or to them among others.
pub fn is_for(task: &Task, contact: ContactId) -> bool {
    task.assigned_to.is_empty() || task.assigned_to.contains(&contact)
}

/// The next step for `contact`: of the tasks (in plan order) that are theirs to do
/// now, the overdue ones first, then by due date (undated ones last), then plan order.
/// `None`: nothing is left for them to do.
pub fn next_step(
    tasks: &[Task],
    contact: ContactId,
    today: NaiveDate,
    locked: impl Fn(&Task) -> bool,
) -> Option<&Task> {
    tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.assignee == Side::Client && is_for(t, contact))
        .filter(|(_, t)| standing(t, locked(t)) == Standing::ToDo)
        .min_by_key(|(i, t)| {
            let overdue = t.due_date.is_some_and(|d| d < today);
            (!overdue, t.due_date.is_none(), t.due_date, *i)
        })
        .map(|(_, t)| t)
}

/// The order of a phase's tasks in Your Tasks: what the client can do now, then what
/// waits on the MSP, then what is done; within each, by due date (undated last), then
/// plan order (the order of `tasks`).
pub fn client_order<'a>(
    tasks: impl IntoIterator<Item = &'a Task>,
    locked: impl Fn(&Task) -> bool,
) -> Vec<(&'a Task, Standing)> {
    let mut rows: Vec<(usize, &Task, Standing)> = tasks
        .into_iter()
        .enumerate()
        .map(|(i, t)| (i, t, standing(t, locked(t))))
        .collect();
    rows.sort_by_key(|(i, t, s)| {
        let rank = match s {
            Standing::ToDo => 0,
            Standing::Waiting(_) => 1,
            Standing::Done => 2,
        };
        (rank, t.due_date.is_none(), t.due_date, *i)
    });
    rows.into_iter().map(|(_, t, s)| (t, s)).collect()
}

/// What the MSP works on next: its open tasks, by due date (undated last), then plan
/// order, at most `limit` of them. Shown when the client has nothing left to do.
pub fn msp_next(tasks: &[Task], limit: usize) -> Vec<&Task> {
    let mut open: Vec<(usize, &Task)> = tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.assignee == Side::Msp && t.status != TaskStatus::Completed)
        .collect();
    open.sort_by_key(|(i, t)| (t.due_date.is_none(), t.due_date, *i));
    open.into_iter().take(limit).map(|(_, t)| t).collect()
}

/// One phase as Our Progress outlines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseOutline<'a> {
    /// The phase.
    pub phase: &'a Phase,
    /// Its tasks, in plan order.
    pub tasks: Vec<&'a Task>,
    /// Derived from its tasks.
    pub status: PhaseStatus,
    /// Its tasks done, of all its tasks.
    pub progress: Progress,
    /// The earliest due date of its tasks.
    pub starts: Option<NaiveDate>,
    /// The latest due date of its tasks.
    pub ends: Option<NaiveDate>,
    /// The current phase: the first one not completed (at most one).
    pub current: bool,
}

/// Every phase of `snapshot` with its outline, in plan order.
pub fn phase_outlines(snapshot: &PortalSnapshot) -> Vec<PhaseOutline<'_>> {
    let mut current_found = false;
    snapshot
        .phases
        .iter()
        .map(|phase| {
            let tasks: Vec<&Task> = snapshot
                .tasks
                .iter()
                .filter(|t| t.phase_id == phase.id)
                .collect();
            let status = PhaseStatus::of(tasks.iter().copied());
            let current = !current_found && status != PhaseStatus::Completed;
            current_found |= current;
            let dates = tasks.iter().filter_map(|t| t.due_date);
            PhaseOutline {
                phase,
                status,
                progress: Progress::of(tasks.iter().copied()),
                starts: dates.clone().min(),
                ends: dates.max(),
                current,
                tasks,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
