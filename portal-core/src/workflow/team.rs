//! Colleagues: a signed-in contact invites a colleague, claims an unassigned client
//! task, or hands one of theirs to a colleague; the MSP gives contacts a role.
//!
//! Pure rules. Stores call [`judge_colleague_invite`] inside the unit of
//! [`crate::store::AccessStore::invite_colleague`] (the cap and the portal's
//! invitation mode are read in the same unit that writes the contact, so two
//! invitations racing at the cap cannot both pass); claims and hand-offs are
//! [`crate::store::WorkflowStore::update_task`] decisions ([`claim`], [`hand_off`]),
//! judged on the task as locked inside its unit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::activity::{ActivityEntry, ActivityKind};
use super::conversation::Comment;
use super::evidence::Actor;
use super::plan::{Plan, PlanChange, visible_to};
use crate::error::{Error, Limit, Reason, Result};
use crate::ids::{ContactId, TaskId};
use crate::model::{Contact, Side, Task, TaskStatus, clean_label, clean_text};

/// Most contacts a portal can have (revoked ones do not count): a client team is a
/// handful of people, and a cap keeps one signed-in contact from turning the portal
/// into a mailing list.
pub const MAX_CONTACTS_PER_PORTAL: usize = 50;

/// Longest note a contact can give with a hand-off (a few sentences; the task's
/// thread is for the rest).
pub const MAX_HANDOFF_NOTE: usize = 1000;

/// Longest contact role ("primary", "technical", "billing"): a short label shown
/// next to a name.
pub const MAX_ROLE: usize = 40;

/// Whether a portal's contacts may invite colleagues, and whether the MSP approves
/// each invitation first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationMode {
    /// Contacts cannot invite colleagues (only the MSP adds contacts).
    Off,
    /// The colleague's invitation goes out at once; the MSP is told.
    AtOnce,
    /// The colleague waits until MSP staff approve them, then gets the invitation.
    /// The default: an MSP decides who can see its client's onboarding.
    #[default]
    AfterApproval,
}

impl InvitationMode {
    /// Stable storage and API name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::AtOnce => "at_once",
            Self::AfterApproval => "after_approval",
        }
    }

    /// Words shown to people.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::Off => "Contacts cannot invite colleagues",
            Self::AtOnce => "Invitations go out at once",
            Self::AfterApproval => "Staff approve each invitation first",
        }
    }

    /// Reverse of [`Self::as_str`]; `field` names the input for the error.
    pub fn parse(field: &'static str, s: &str) -> Result<Self> {
        match s {
            "off" => Ok(Self::Off),
            "at_once" => Ok(Self::AtOnce),
            "after_approval" => Ok(Self::AfterApproval),
            _ => Err(Error::invalid(
                field,
                "must be off, at_once or after_approval",
            )),
        }
    }
}

/// The decision of [`crate::store::AccessStore::invite_colleague`], called inside
/// its unit with the portal's mode and its count of contacts not revoked, both read
/// in that unit, and with what the caller prepared: whether the new contact awaits
/// approval and whether an invite token came with it.
///
/// Refuses: mode `Off` (`Forbidden`); the cap reached
/// (`LimitReached(ContactsPerPortal)`); a colleague prepared for another mode than
/// the stored one (`Conflict`: the MSP changed the setting meanwhile; nothing is
/// written, the caller tries again). In `AtOnce` the colleague comes with an invite
/// and does not await approval; in `AfterApproval` it awaits approval and has no
/// invite yet (links are only issued once staff approve).
pub fn judge_colleague_invite(
    mode: InvitationMode,
    active_contacts: usize,
    cap: usize,
    awaiting_approval: bool,
    with_invite: bool,
) -> Result<()> {
    if mode == InvitationMode::Off {
        return Err(Error::Forbidden {
            reason: crate::reason::Reason::message("reason-forbidden-no-invites", &[]),
        });
    }
    if active_contacts >= cap {
        return Err(Error::LimitReached(Limit::ContactsPerPortal));
    }
    let expected = mode == InvitationMode::AfterApproval;
    if awaiting_approval != expected || with_invite == expected {
        return Err(Error::conflict(Reason::message(
            "reason-colleague-setting-changed",
            &[],
        )));
    }
    Ok(())
}

/// A contact's role from input: trimmed, at most [`MAX_ROLE`] characters, no
/// control characters, lower-cased so "Billing" and "billing" target the same
/// people; empty clears it.
pub fn clean_role(raw: &str) -> Result<Option<String>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    clean_label("role", raw, MAX_ROLE).map(|r| Some(r.to_lowercase()))
}

/// A role as shown next to a name ("billing" → "Billing"): roles are stored
/// lower-cased so targeting ignores case, but people read them as labels.
pub fn role_label(role: &str) -> String {
    let mut chars = role.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The role a task is for, from input (`None` or empty: none): cleaned like a
/// contact's role by [`clean_role`], so "Billing" targets the "billing" contacts;
/// only a client task can target a role (`Invalid` on `for_role` otherwise: the MSP's
/// own tasks are not the client's people's).
pub fn task_role(side: Side, raw: Option<&str>) -> Result<Option<String>> {
    let role = match raw {
        Some(raw) => clean_role(raw).map_err(|e| match e {
            Error::Invalid { reason, .. } => Error::Invalid {
                field: "for_role",
                reason,
            },
            other => other,
        })?,
        None => None,
    };
    if role.is_some() && side != Side::Client {
        return Err(Error::invalid(
            "for_role",
            "only a client task can be for a contact role",
        ));
    }
    Ok(role)
}

/// Who a client task is for, among the portal's `contacts`: the contacts named in
/// its `assigned_to` (an explicit assignee wins); else, for a task with a
/// `for_role`, every active contact ([`is_active`]) with that role; else nobody in
/// particular, i.e. the whole team (empty), which is also the answer when no active
/// contact has the role, so a billing task never goes unseen.
pub fn task_for(task: &Task, contacts: &[Contact]) -> Vec<ContactId> {
    if !task.assigned_to.is_empty() {
        return task.assigned_to.clone();
    }
    let Some(role) = &task.for_role else {
        return Vec::new();
    };
    contacts
        .iter()
        .filter(|c| is_active(c) && c.role.as_ref() == Some(role))
        .map(|c| c.id)
        .collect()
}

/// `tasks` with each one's assignment as [`task_for`] decides it: what the client's
/// pages order, mark and count by (the stored `assigned_to` keeps the explicit
/// assignment only, so a contact given the role later gets the task at once).
pub fn with_roles_resolved(tasks: Vec<Task>, contacts: &[Contact]) -> Vec<Task> {
    tasks
        .into_iter()
        .map(|mut t| {
            if t.assigned_to.is_empty() && t.for_role.is_some() {
                t.assigned_to = task_for(&t, contacts);
            }
            t
        })
        .collect()
}

/// Whether `contact` can act in the portal and receive work: not revoked and not
/// awaiting the MSP's approval.
pub fn is_active(contact: &Contact) -> bool {
    contact.revoked_at.is_none() && !contact.awaiting_approval
}

fn open_client_task(task: &Task) -> Result<()> {
    if task.assignee != Side::Client || task.internal {
        return Err(Error::conflict(Reason::message(
            "reason-claim-client-tasks-only",
            &[],
        )));
    }
    if task.status == TaskStatus::Completed {
        return Err(Error::conflict(Reason::message(
            "reason-claim-completed",
            &[],
        )));
    }
    Ok(())
}

/// Who a client task is assigned to after `me` claims it: only an open client task
/// left to the whole team (no contact named) can be claimed; it becomes `me`'s.
pub fn claim(task: &Task, me: ContactId) -> Result<Vec<ContactId>> {
    open_client_task(task)?;
    if !task.assigned_to.is_empty() {
        return Err(Error::conflict(Reason::message(
            "reason-claim-assigned",
            &[],
        )));
    }
    Ok(vec![me])
}

/// Who a client task is assigned to after `me` hands it to `to`, and the cleaned
/// note: only an open client task assigned to `me` can be handed on, to an active
/// contact of the same portal other than `me`, with a note of at most
/// [`MAX_HANDOFF_NOTE`] characters. `me` leaves the assignment, `to` joins it (others
/// already on it stay).
pub fn hand_off(
    task: &Task,
    me: ContactId,
    to: &Contact,
    note: &str,
) -> Result<(Vec<ContactId>, String)> {
    open_client_task(task)?;
    if !task.assigned_to.contains(&me) {
        return Err(Error::conflict(Reason::message(
            "reason-hand-off-not-yours",
            &[],
        )));
    }
    if to.portal_id != task.portal_id || to.id == me || !super::guests::is_colleague(to) {
        return Err(Error::invalid(
            "to",
            Reason::message("reason-hand-off-choose", &[]),
        ));
    }
    let note = clean_text("note", note, MAX_HANDOFF_NOTE)?;
    let mut assigned: Vec<ContactId> = task
        .assigned_to
        .iter()
        .copied()
        .filter(|c| *c != me)
        .collect();
    if !assigned.contains(&to.id) {
        assigned.push(to.id);
    }
    Ok((assigned, note))
}

/// Where a client task sits on a contact's "Your tasks" list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOwner {
    /// Assigned to the contact.
    You,
    /// Left to the whole client team: anyone can do it, or claim it.
    Team,
    /// Assigned to colleagues, not to the contact.
    Colleague,
}

/// Whose `task` is from `me`'s point of view.
pub fn owner(task: &Task, me: ContactId) -> TaskOwner {
    if task.assigned_to.contains(&me) {
        TaskOwner::You
    } else if task.assigned_to.is_empty() {
        TaskOwner::Team
    } else {
        TaskOwner::Colleague
    }
}

/// Orders a contact's tasks for "Your tasks": assigned to them first, then the
/// team's unassigned ones, then the ones a colleague has; the order within each
/// group is kept (the plan's order).
pub fn order_for<'a>(tasks: impl IntoIterator<Item = &'a Task>, me: ContactId) -> Vec<&'a Task> {
    let mut tasks: Vec<&Task> = tasks.into_iter().collect();
    tasks.sort_by_key(|t| owner(t, me));
    tasks
}

/// A claim or hand-off decided on the plan as the store loaded it inside
/// [`crate::store::PlanStore::change_plan`]'s unit: the task's new assignment (its
/// `version` raised), the feed entry, and for a hand-off the note posted in the
/// task's thread (in `language`, the one the contact reads). `me` is the acting contact (`Actor::Client`); `to` (hand-off) is
/// looked up among the plan's contacts, so a colleague revoked or removed a moment
/// ago is refused.
pub fn assign_on_plan(
    plan: &Plan,
    task: TaskId,
    actor: &Actor,
    to: Option<(ContactId, &str)>,
    now: DateTime<Utc>,
    language: crate::i18n::Language,
) -> Result<PlanChange> {
    let Actor::Client { contact_id: me, .. } = actor else {
        return Err(Error::Forbidden {
            reason: crate::reason::Reason::message("reason-forbidden-contact-only", &[]),
        });
    };
    let stored = plan.task(task)?;
    visible_to(actor, stored)?;
    // Judged on the assignment as the client sees it: a task for the billing contacts
    // is theirs to hand on, and not the rest of the team's to claim.
    let mut resolved = stored.clone();
    resolved.assigned_to = task_for(stored, &plan.contacts);
    let current = &resolved;
    let (assigned, kind, detail, comment) = match to {
        None => (claim(current, *me)?, ActivityKind::TaskClaimed, None, None),
        Some((to, note)) => {
            let colleague =
                plan.contacts.iter().find(|c| c.id == to).ok_or_else(|| {
                    Error::invalid("to", "choose an active colleague of this portal")
                })?;
            let (assigned, note) = hand_off(current, *me, colleague, note)?;
            let detail = if note.is_empty() {
                format!("to {}", colleague.name)
            } else {
                format!("to {}: {note}", colleague.name)
            };
            // The contact's own message in the thread, in the language they read.
            let name = colleague.name.as_str();
            let body = if note.is_empty() {
                crate::i18n::message(language, "thread-handed", &[("name", name.into())])
            } else {
                crate::i18n::message(
                    language,
                    "thread-handed-note",
                    &[("name", name.into()), ("note", note.as_str().into())],
                )
            };
            let comment = Comment {
                portal_id: current.portal_id,
                task_id: current.id,
                author: actor.clone(),
                body,
                at: now,
            };
            (
                assigned,
                ActivityKind::TaskHandedOff,
                Some(detail),
                Some(comment),
            )
        }
    };
    let mut next = stored.clone();
    next.assigned_to = assigned;
    next.version += 1;
    next.updated_at = now;
    let entry = ActivityEntry {
        portal_id: current.portal_id,
        at: now,
        actor: actor.clone(),
        kind,
        task_id: Some(current.id),
        subject: current.title.clone(),
        detail,
    };
    Ok(PlanChange {
        phases: plan.phases.clone(),
        tasks: plan
            .tasks
            .iter()
            .map(|t| {
                if t.id == task {
                    next.clone()
                } else {
                    t.clone()
                }
            })
            .collect(),
        activity: vec![entry],
        notices: Vec::new(),
        emails: Vec::new(),
        subject: Some(task),
        comments: comment.into_iter().collect(),
        erased_blobs: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
