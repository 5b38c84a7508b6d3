//! Guests: participants from outside the client company (the outgoing MSP, the ISP,
//! a software vendor) whom MSP staff invite to specific tasks only.
//!
//! A guest is a [`Contact`] whose [`Contact::guest`] is set. They sign in exactly like
//! a contact, but every client route asks [`judge_reach`] first: a guest reaches the
//! tasks shared with them (and those tasks' threads) and nothing else: not the other
//! tasks, documents, progress, the onboarding team, questions, the activity feed or
//! colleagues. What a guest may not reach is answered `NotFound`, never `Forbidden`,
//! so a guest learns nothing about what exists beyond their tasks.
//!
//! Guest access can end: [`access_ended`] is asked by the access rules
//! ([`crate::access::rules::judge_contact_at`]) on every invite, verification step
//! and session, so the first request after the end date is refused.
//!
//! Pure rules. Stores call [`share`] and [`judge_shareable`] inside the unit of
//! [`crate::store::AccessStore::add_guest`] / [`crate::store::AccessStore::share_task`]
//! and [`end_access`] inside [`crate::store::AccessStore::end_guest_access`].

use chrono::{DateTime, Utc};

use crate::error::{Entity, Error, Result};
use crate::ids::TaskId;
use crate::model::{Contact, Guest, Side, Task, clean_label};

/// Longest organisation name of a guest.
pub const MAX_ORGANISATION: usize = 120;

/// Most tasks one guest can have shared with them: a guest comes for a handful of
/// handover steps, not the whole plan.
pub const MAX_SHARED_TASKS: usize = 50;

/// What a participant asks to see or do on a client route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// One task: its page, its thread, completing it, its files.
    Task(TaskId),
    /// Anything portal-wide: the home page's plan, documents, progress, questions,
    /// the onboarding team, colleagues, the activity feed, the portal's settings.
    Portal,
}

/// Whether `contact` is a guest.
pub fn is_guest(contact: &Contact) -> bool {
    contact.guest.is_some()
}

/// Whether `contact` is one of the client's own people who can act and receive work:
/// not revoked, not awaiting approval, and not a guest. Only such contacts count as
/// colleagues (the team page, hand-offs, the per-portal contact cap).
pub fn is_colleague(contact: &Contact) -> bool {
    contact.revoked_at.is_none() && !contact.awaiting_approval && contact.guest.is_none()
}

/// The one check every client route makes before it reads or changes anything,
/// given the signed-in participant's guest record (`None`: one of the client's own
/// contacts, see [`crate::store::ClientContext::guest`]): the client's own contacts
/// reach everything of their portal; a guest reaches only the tasks shared with
/// them (`NotFound(Task)` for any other task, `NotFound(Page)` for every
/// portal-wide page), so a refusal looks exactly like a missing thing.
pub fn judge_reach(guest: Option<&Guest>, reach: Reach) -> Result<()> {
    let Some(guest) = guest else {
        return Ok(());
    };
    match reach {
        Reach::Task(task) if guest.shared_tasks.contains(&task) => Ok(()),
        Reach::Task(_) => Err(Error::not_found(Entity::Task)),
        Reach::Portal => Err(Error::not_found(Entity::Page)),
    }
}

/// Whether a participant (given their guest record, `None` for the client's own
/// contacts) may act for the client team as a whole: invite colleagues, claim or
/// hand off tasks. A guest never may (`Forbidden`).
pub fn judge_team_action(guest: Option<&Guest>) -> Result<()> {
    if guest.is_some() {
        return Err(Error::Forbidden {
            reason: crate::reason::Reason::message("reason-forbidden-guest", &[]),
        });
    }
    Ok(())
}

/// Whether a guest's access has ended at `now`: an end date is the last instant
/// accepted, like every expiry of [`crate::access::rules`]. Never for a non-guest.
pub fn access_ended(contact: &Contact, now: DateTime<Utc>) -> bool {
    contact
        .guest
        .as_ref()
        .and_then(|g| g.access_ends_at)
        .is_some_and(|ends| now > ends)
}

/// A guest's organisation from input: trimmed, 1 to [`MAX_ORGANISATION`] characters,
/// no control characters.
pub fn clean_organisation(raw: &str) -> Result<String> {
    clean_label("organisation", raw, MAX_ORGANISATION)
}

/// Checks an end date given by staff at `now`: it must be in the future (an end in
/// the past would create a guest who can never sign in; ending access now is
/// [`end_access`]).
pub fn judge_end_date(ends_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<()> {
    match ends_at {
        Some(ends) if ends <= now => Err(Error::invalid(
            "access_ends_at",
            "must be in the future; leave it empty for no end date",
        )),
        _ => Ok(()),
    }
}

/// Whether `task` can be shared with `guest` (a contact of `task`'s portal): only a
/// client task that is not internal (staff-only tasks never reach any client);
/// another portal's task is `NotFound(Task)` (it does not exist from here), a
/// non-guest contact `Invalid("contact")`.
pub fn judge_shareable(guest: &Contact, task: &Task) -> Result<()> {
    if guest.guest.is_none() {
        return Err(Error::invalid("contact", "only a guest has tasks shared"));
    }
    if task.portal_id != guest.portal_id {
        return Err(Error::not_found(Entity::Task));
    }
    if task.internal || task.assignee != Side::Client {
        return Err(Error::invalid(
            "task_ids",
            "only the client's tasks can be shared with a guest",
        ));
    }
    Ok(())
}

/// The guest record after sharing (`shared: true`) or unsharing `task`: sharing
/// appends it once (sharing twice changes nothing), unsharing removes it (unsharing
/// a task that was not shared changes nothing). More than [`MAX_SHARED_TASKS`] is
/// `Invalid("task_ids")`.
pub fn share(guest: &Guest, task: TaskId, shared: bool) -> Result<Guest> {
    let mut next = guest.clone();
    if shared {
        if !next.shared_tasks.contains(&task) {
            if next.shared_tasks.len() >= MAX_SHARED_TASKS {
                return Err(Error::invalid(
                    "task_ids",
                    format!("a guest can have at most {MAX_SHARED_TASKS} tasks shared"),
                ));
            }
            next.shared_tasks.push(task);
        }
    } else {
        next.shared_tasks.retain(|t| *t != task);
    }
    Ok(next)
}

/// The guest record after staff end their access at `at`: the end date becomes `at`
/// unless an earlier one is already set (ending twice keeps the first end). A
/// non-guest is `Invalid("contact")`.
pub fn end_access(contact: &Contact, at: DateTime<Utc>) -> Result<Guest> {
    let Some(guest) = &contact.guest else {
        return Err(Error::invalid("contact", "only a guest's access can end"));
    };
    let mut next = guest.clone();
    next.access_ends_at = Some(match guest.access_ends_at {
        Some(ends) if ends <= at => ends,
        _ => at,
    });
    Ok(next)
}

/// How a guest reads what their locked task waits for: the titles of the tasks shared
/// with them; any other step only as "another step of the onboarding" (its title is
/// the client's business, and a guest never reaches the rest of the plan), an internal
/// one as "a step by `<MSP>`" as for every client.
pub fn waiting_labels(guest: &Guest, tasks: &[Task], task: &Task, msp: &str) -> Vec<String> {
    crate::workflow::plan::waiting_for(tasks, task)
        .into_iter()
        .map(|t| {
            if t.internal {
                format!("a step by {msp}")
            } else if guest.shared_tasks.contains(&t.id) {
                t.title.clone()
            } else {
                "another step of the onboarding".to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
