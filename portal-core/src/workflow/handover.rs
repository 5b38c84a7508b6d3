//! The built-in "Handover from your previous provider" phase: the outgoing MSP takes
//! part as a guest ([`crate::workflow::guests`]) and hands over what the new MSP needs
//! (the documentation, the domain, the licences, the admin credentials).
//!
//! Staff start it with one call ([`crate::PortalService::start_handover`]); the store
//! writes the phase, its two tasks, the guest with both tasks shared and their
//! invitation in one unit ([`crate::store::AccessStore::start_handover`]). What the
//! phase holds is decided here, as pure functions: [`phase_name`], [`checklist`] and
//! [`tasks`]. The guest record names the phase ([`crate::model::Guest::handover_phase`]),
//! which is how a portal knows it has a handover: [`judge_start`] refuses a second one
//! while that phase exists (`Conflict`), and the reminders find its tasks
//! ([`handover_tasks`]) to tell the MSP when the handover stalls ([`stalled`]).
//!
//! The tasks are the client's (the progress bar and Our Progress count them like any
//! other) but assigned to the guest, so the client's own contacts see them as "with"
//! the outgoing provider and are never reminded of them.
//!
//! Every client-facing sentence of the phase is in this module (the i18n catalog
//! takes them from here).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::error::{Error, Result};
use crate::ids::{PhaseId, PortalId, TaskId};
use crate::model::{Contact, Phase, Side, Task, TaskStatus};
use crate::task_kind::{ChecklistItem, TaskKind};

/// The phase's name, as the client and the guest read it.
pub const PHASE_NAME: &str = "Handover from your previous provider";

/// Title of the checklist task the outgoing provider ticks off.
pub const CHECKLIST_TITLE: &str = "Hand over the documentation, domain and licences";

/// Title of the credential-handoff task for the admin credentials.
pub const CREDENTIALS_TITLE: &str = "Hand over the admin credentials";

/// Days a handover task may stay untouched (not completed, no progress saved) before
/// the MSP is told the handover stalls, when it has no due date. Five days is one
/// working week: an outgoing provider who has not started within a week usually
/// needs a phone call, while a shorter spell would alert on every weekend.
pub const STALL_AFTER_DAYS: i64 = 5;

/// The phase's name ([`PHASE_NAME`]); a function so the stores and the service
/// share one source.
pub fn phase_name() -> &'static str {
    PHASE_NAME
}

/// The checklist the outgoing provider ticks off: the documentation export, the
/// domain transfer and the licence transfers (the admin credentials have their own
/// encrypted task, [`tasks`]).
pub fn checklist() -> Vec<ChecklistItem> {
    [
        (
            "documentation",
            "Export the documentation (network diagram, asset list, runbooks) and send it to the new provider",
        ),
        (
            "domain",
            "Start the domain transfer: unlock the domain and send the transfer authorisation code",
        ),
        (
            "licences",
            "Transfer the software licences and subscriptions to the client's own account",
        ),
    ]
    .into_iter()
    .map(|(id, label)| ChecklistItem {
        id: id.to_owned(),
        label: label.to_owned(),
    })
    .collect()
}

/// The ids of the records one handover writes (drawn by the caller, so this stays
/// pure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandoverIds {
    /// The portal.
    pub portal: PortalId,
    /// The new phase.
    pub phase: PhaseId,
    /// The checklist task.
    pub checklist: TaskId,
    /// The credential-handoff task.
    pub credentials: TaskId,
    /// The guest (the outgoing provider's contact), whom both tasks are assigned to.
    pub guest: crate::ids::ContactId,
}

/// The phase (its position is the store's: appended last) and its two tasks, for the
/// outgoing provider `organisation`, handing over to `msp` for `client`, due on `due`
/// if given, created at `now`.
pub fn tasks(
    ids: HandoverIds,
    organisation: &str,
    msp: &str,
    client: &str,
    due: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> (Phase, Vec<Task>) {
    let phase = Phase {
        id: ids.phase,
        portal_id: ids.portal,
        position: 0,
        name: PHASE_NAME.to_owned(),
        version: crate::model::first_version(),
    };
    let task = |id: TaskId, title: &str, description: String, kind: TaskKind| Task {
        id,
        portal_id: ids.portal,
        phase_id: ids.phase,
        position: 0,
        title: title.to_owned(),
        description,
        assignee: Side::Client,
        kind,
        status: TaskStatus::Pending,
        blocked_reason: None,
        due_date: due,
        evidence: Default::default(),
        created_at: now,
        updated_at: now,
        version: 1,
        assigned_to: vec![ids.guest],
        waits_on: Vec::new(),
        internal: false,
        for_role: None,
    };
    let tasks = vec![
        task(
            ids.checklist,
            CHECKLIST_TITLE,
            format!(
                "{client} is moving to {msp}. {organisation}: please tick each item once it is done."
            ),
            TaskKind::Checklist { items: checklist() },
        ),
        task(
            ids.credentials,
            CREDENTIALS_TITLE,
            format!(
                "The administrator accounts {organisation} holds for {client}. They are encrypted as soon as you submit them and only {msp} can read them."
            ),
            TaskKind::CredentialHandoff { api_key: false },
        ),
    ];
    (phase, tasks)
}

/// Whether a new handover can start in a portal whose phases are `phases` and whose
/// contacts are `contacts`: not while a guest of the portal names one of its phases
/// as their handover (`Conflict`, saying what to do instead). Once staff delete that
/// phase, a new handover may start.
pub fn judge_start(phases: &[PhaseId], contacts: &[Contact]) -> Result<()> {
    let running = contacts.iter().any(|c| {
        c.guest
            .as_ref()
            .and_then(|g| g.handover_phase)
            .is_some_and(|p| phases.contains(&p))
    });
    if running {
        return Err(Error::conflict(
            "this portal already has a handover from a previous provider; share more tasks with its guest, or delete its phase to start again",
        ));
    }
    Ok(())
}

/// Checks that a handover's records belong together before a store writes them:
/// every task in the phase and the portal, the guest of the same portal, naming the
/// phase as their handover and having exactly the phase's tasks shared. `Invalid`
/// otherwise (a caller's mistake, never the user's).
pub fn judge_records(phase: &Phase, tasks: &[Task], guest: &Contact) -> Result<()> {
    let Some(record) = &guest.guest else {
        return Err(Error::invalid(
            "contact",
            "the outgoing provider must be a guest",
        ));
    };
    if guest.portal_id != phase.portal_id || record.handover_phase != Some(phase.id) {
        return Err(Error::invalid(
            "contact",
            "the guest must name the handover phase",
        ));
    }
    if tasks
        .iter()
        .any(|t| t.phase_id != phase.id || t.portal_id != phase.portal_id)
    {
        return Err(Error::invalid(
            "task_ids",
            "the handover's tasks belong to its phase",
        ));
    }
    let ids: Vec<TaskId> = tasks.iter().map(|t| t.id).collect();
    if record.shared_tasks != ids {
        return Err(Error::invalid(
            "task_ids",
            "the guest must have exactly the handover's tasks shared",
        ));
    }
    Ok(())
}

/// The tasks of the portal's running handover (those in a phase a guest of
/// `contacts` names as their handover), in plan order.
pub fn handover_tasks<'a>(tasks: &'a [Task], contacts: &[Contact]) -> Vec<&'a Task> {
    let phases: Vec<PhaseId> = contacts
        .iter()
        .filter_map(|c| c.guest.as_ref().and_then(|g| g.handover_phase))
        .collect();
    tasks
        .iter()
        .filter(|t| phases.contains(&t.phase_id))
        .collect()
}

/// Whether a participant reads (and writes in) the thread of `task`, given their
/// guest record (`None`: one of the client's own contacts) and the portal's
/// `contacts`: the thread of a handover task is between the outgoing provider and
/// the MSP, so the client's own contacts see the task and its progress but not its
/// thread. A guest's reach is judged by [`crate::workflow::guests::judge_reach`].
pub fn reads_thread(
    guest: Option<&crate::model::Guest>,
    task: &Task,
    contacts: &[Contact],
) -> bool {
    guest.is_some() || handover_tasks(std::slice::from_ref(task), contacts).is_empty()
}

/// Whether one handover task stalls at `now` (`today` is the MSP's local date): not
/// completed, and either past its due date, or (with no due date) untouched for
/// [`STALL_AFTER_DAYS`] since it was created (pending, never saved).
pub fn stalled(task: &Task, today: NaiveDate, now: DateTime<Utc>) -> bool {
    if task.status == TaskStatus::Completed {
        return false;
    }
    match task.due_date {
        Some(due) => due < today,
        None => {
            task.status == TaskStatus::Pending
                && now - task.updated_at >= TimeDelta::days(STALL_AFTER_DAYS)
        }
    }
}

/// The tasks of `guest`'s handover that stall at `now` (`today`: the MSP's local
/// date), in plan order, if the MSP is to be told: empty for a contact who is no
/// handover guest, a revoked guest, and once the alert was recorded
/// ([`crate::model::Guest::stall_alerted_at`]: one alert per handover, not one per
/// reminder pass).
pub fn judge_stall<'a>(
    guest: &Contact,
    tasks: &'a [Task],
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<&'a Task> {
    let Some(record) = &guest.guest else {
        return Vec::new();
    };
    let Some(phase) = record.handover_phase else {
        return Vec::new();
    };
    if guest.revoked_at.is_some() || record.stall_alerted_at.is_some() {
        return Vec::new();
    }
    tasks
        .iter()
        .filter(|t| t.phase_id == phase && stalled(t, today, now))
        .collect()
}

/// The guest record after the stall alert was sent at `at`: `Conflict` if it was
/// already recorded (a racing pass sent it first), `Invalid("contact")` for a contact
/// who is no handover guest.
pub fn record_stall(guest: &Contact, at: DateTime<Utc>) -> Result<crate::model::Guest> {
    let Some(record) = guest.guest.as_ref().filter(|g| g.handover_phase.is_some()) else {
        return Err(Error::invalid(
            "contact",
            "only a handover's guest has a stall alert",
        ));
    };
    if record.stall_alerted_at.is_some() {
        return Err(Error::conflict(
            "the handover's stall alert was already sent",
        ));
    }
    Ok(crate::model::Guest {
        stall_alerted_at: Some(at),
        ..record.clone()
    })
}

/// Checks the due date staff give the handover at `today` (the MSP's local date): a
/// date in the past would start the handover overdue (and alert the MSP at once).
pub fn judge_due_date(due: Option<NaiveDate>, today: NaiveDate) -> Result<()> {
    match due {
        Some(d) if d < today => Err(Error::invalid(
            "due_date",
            "must be today or later; leave it empty for no due date",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
