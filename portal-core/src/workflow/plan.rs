//! The onboarding plan's rules: editing, moving and deleting tasks and phases,
//! assigning client tasks to contacts, dependencies between tasks (never a cycle),
//! internal MSP tasks, and what the client may see and do of all that.
//!
//! Pure functions over a [`Plan`] (a portal's phases, tasks and contacts as stored):
//! each answers the whole new plan as a [`PlanChange`], with its activity entries and
//! the [`PlanNotice`]s the service turns into emails. A store loads the plan inside
//! its unit, calls the decision the service hands it, checks the answer with
//! [`PlanChange::diff`] and writes the difference, so every store writes the same
//! plan (see [`crate::store::PlanStore`]).
//!
//! Choices this module makes (and documents, because staff meet them):
//! - **Versions.** A task's or phase's `version` is raised by every change *of that
//!   record*; the other tasks renumbered around a move or a deletion keep theirs, so a
//!   colleague reordering the plan does not make your open edit of another task stale.
//!   A stale expected version is `Stale` and nothing changes.
//! - **Deleting a task** deletes its evidence (kept in the task) and its comment
//!   thread with it, and removes it from the tasks that waited for it (which may
//!   unlock them). A task with uploaded files is refused: files are erased through
//!   the blob store with an audited erasure (deleting the portal), never as a side
//!   effect of tidying the plan.
//! - **Deleting a phase** is refused while it has tasks, unless the caller asks to
//!   delete it with its tasks (each one then as above).
//! - **Assignment** emails go only to contacts newly named on a client task; a task
//!   for everyone (the default) emails nobody, so adding tasks to a plan does not
//!   flood every contact.
//! - **Internal tasks** are MSP tasks; a client task can't be internal. A client task
//!   waiting for an internal one shows "a step by `<MSP>`" instead of its title.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::actions::{TaskAction, apply};
use super::activity::{ActivityEntry, ActivityKind};
use super::evidence::Actor;
use crate::error::{Entity, Error, Result};
use crate::ids::{ContactId, PhaseId, TaskId};
use crate::model::{
    Contact, Phase, Portal, PortalSnapshot, Side, Task, TaskKind, TaskStatus, clean_label,
    clean_text,
};
use crate::outbox::OutboxMessage;

/// Longest task title.
pub const MAX_TITLE: usize = 200;
/// Longest task description.
pub const MAX_DESCRIPTION: usize = 10_000;
/// Longest phase name.
pub const MAX_PHASE_NAME: usize = 200;
/// Most tasks one task may wait for.
pub const MAX_WAITS_ON: usize = 50;
/// Most contacts one task may be assigned to.
pub const MAX_ASSIGNEES: usize = 50;

/// A portal's plan as stored: what plan decisions are taken on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The portal.
    pub portal: Portal,
    /// Its phases, by position.
    pub phases: Vec<Phase>,
    /// Its tasks, by their phase's position, then their own.
    pub tasks: Vec<Task>,
    /// Its contacts, oldest first (revoked ones included).
    pub contacts: Vec<Contact>,
}

impl Plan {
    /// A task of this plan (`NotFound(Task)` otherwise).
    pub fn task(&self, id: TaskId) -> Result<&Task> {
        self.tasks
            .iter()
            .find(|t| t.id == id)
            .ok_or(Error::NotFound {
                entity: Entity::Task,
            })
    }

    /// A phase of this plan (`NotFound(Phase)` otherwise).
    pub fn phase(&self, id: PhaseId) -> Result<&Phase> {
        self.phases
            .iter()
            .find(|p| p.id == id)
            .ok_or(Error::NotFound {
                entity: Entity::Phase,
            })
    }

    /// The plan as the portal home reads it.
    pub fn snapshot(&self) -> PortalSnapshot {
        PortalSnapshot {
            portal: self.portal.clone(),
            phases: self.phases.clone(),
            tasks: self.tasks.clone(),
        }
    }
}

/// Something the service tells people about a plan change (the rules don't write
/// emails: the service composes them inside the same decision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanNotice {
    /// These contacts were just assigned this client task.
    Assigned {
        /// The task.
        task: TaskId,
        /// Who to tell.
        contacts: Vec<ContactId>,
    },
    /// This task no longer waits for anything: tell its assignees.
    Unlocked {
        /// The task.
        task: TaskId,
    },
}

/// A plan decision's answer: the whole new plan, what to append to the feed, and what
/// to queue, all written in one unit.
#[derive(Debug, Clone)]
pub struct PlanChange {
    /// Every phase of the portal after the change, by position.
    pub phases: Vec<Phase>,
    /// Every task of the portal after the change, by phase, then position.
    pub tasks: Vec<Task>,
    /// Entries to append to the portal's feed.
    pub activity: Vec<ActivityEntry>,
    /// Who to tell what (the service turns these into `emails`).
    pub notices: Vec<PlanNotice>,
    /// Emails to queue in the same unit.
    pub emails: Vec<OutboxMessage>,
    /// The task the change is about, if any (the use case returns it).
    pub subject: Option<TaskId>,
    /// Comments to append to the threads of tasks of the new plan, in this order
    /// (an "I'm stuck" reason, the MSP's answer that clears it).
    pub comments: Vec<crate::workflow::Comment>,
    /// Filled by the store, never by a rule: the blobs of the records the unit erased
    /// with its deleted tasks (their dropped files whose bytes are still stored, a
    /// drawn signature's image, an attached signature document), for the service to
    /// delete from the blob store once the unit committed. A rule leaves it empty.
    pub erased_blobs: Vec<crate::ids::BlobId>,
}

/// What a store writes for a [`PlanChange`]: the records that differ from the plan it
/// was decided on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanWrite {
    /// Phases that are new.
    pub new_phases: Vec<Phase>,
    /// Phases that exist and changed (name, position, version).
    pub changed_phases: Vec<Phase>,
    /// Phases to delete (none of the new plan's tasks is in them).
    pub deleted_phases: Vec<PhaseId>,
    /// Tasks that are new.
    pub new_tasks: Vec<Task>,
    /// Tasks that exist and changed (any field, the phase and position included).
    pub changed_tasks: Vec<Task>,
    /// Tasks to delete, with their comment threads.
    pub deleted_tasks: Vec<TaskId>,
}

fn bad_plan(reason: impl Into<crate::Reason>) -> Error {
    Error::invalid("plan", reason)
}

impl PlanChange {
    /// Checks this change against the plan it was decided on and answers what to
    /// write. Stores call it inside their unit and write exactly its answer.
    ///
    /// Refused with `Invalid("plan")`, before anything is written: a phase or task of
    /// another portal, a duplicate id, positions that are not `0..n` in order (phases
    /// in the portal, tasks in their phase), a task in a phase that is not in the
    /// plan, a kept record whose `id`, `portal_id` or `created_at` changed, a changed
    /// record whose version was not raised, a dependency on a task that is not in the
    /// plan or a cycle of dependencies. `Conflict`: deleting a task with uploaded
    /// files. `Invalid("activity")`: an entry of another portal. `Invalid("comment")`:
    /// a comment of another portal or on a task that is not in the new plan.
    pub fn diff(&self, before: &Plan) -> Result<PlanWrite> {
        let portal = before.portal.id;
        for entry in &self.activity {
            entry.ensure_portal(portal)?;
        }
        for c in &self.comments {
            if c.portal_id != portal || !self.tasks.iter().any(|t| t.id == c.task_id) {
                return Err(Error::invalid(
                    "comment",
                    "must be on a task of the plan it is written with",
                ));
            }
        }
        let mut write = PlanWrite::default();
        let old_phases: HashMap<PhaseId, &Phase> =
            before.phases.iter().map(|p| (p.id, p)).collect();
        let mut phase_ids = HashSet::new();
        for (i, phase) in self.phases.iter().enumerate() {
            if phase.portal_id != portal {
                return Err(bad_plan("a phase of another portal"));
            }
            if !phase_ids.insert(phase.id) {
                return Err(bad_plan("a phase appears twice"));
            }
            if usize::try_from(phase.position).ok() != Some(i) {
                return Err(bad_plan("phase positions must be 0, 1, 2, … in order"));
            }
            match old_phases.get(&phase.id) {
                None => write.new_phases.push(phase.clone()),
                Some(old) if *old == phase => {}
                Some(old) => {
                    if phase.version <= old.version && (old.name != phase.name) {
                        return Err(bad_plan("a renamed phase must have a higher version"));
                    }
                    write.changed_phases.push(phase.clone());
                }
            }
        }
        for old in &before.phases {
            if !phase_ids.contains(&old.id) {
                write.deleted_phases.push(old.id);
            }
        }
        let old_tasks: HashMap<TaskId, &Task> = before.tasks.iter().map(|t| (t.id, t)).collect();
        let mut task_ids = HashSet::new();
        let mut per_phase: HashMap<PhaseId, Vec<u32>> = HashMap::new();
        for task in &self.tasks {
            if task.portal_id != portal {
                return Err(bad_plan("a task of another portal"));
            }
            if !phase_ids.contains(&task.phase_id) {
                return Err(bad_plan("a task in a phase that is not in the plan"));
            }
            if !task_ids.insert(task.id) {
                return Err(bad_plan("a task appears twice"));
            }
            per_phase
                .entry(task.phase_id)
                .or_default()
                .push(task.position);
            match old_tasks.get(&task.id) {
                None => write.new_tasks.push(task.clone()),
                Some(old) if *old == task => {}
                Some(old) => {
                    if old.created_at != task.created_at {
                        return Err(bad_plan("a task's creation time never changes"));
                    }
                    if task.version <= old.version && !same_content(old, task) {
                        return Err(bad_plan("a changed task must have a higher version"));
                    }
                    write.changed_tasks.push(task.clone());
                }
            }
        }
        for positions in per_phase.values() {
            let dense = positions
                .iter()
                .enumerate()
                .all(|(i, p)| usize::try_from(*p).ok() == Some(i));
            if !dense {
                return Err(bad_plan(
                    "task positions must be 0, 1, 2, … in order within each phase",
                ));
            }
        }
        for task in &self.tasks {
            if task.waits_on.iter().any(|w| !task_ids.contains(w)) {
                return Err(bad_plan("a task waits for a task that is not in the plan"));
            }
        }
        if let Some(cycle) = first_cycle(&self.tasks) {
            return Err(bad_plan(format!(
                "the tasks would wait for each other in a circle ({} tasks)",
                cycle.len()
            )));
        }
        for old in &before.tasks {
            if !task_ids.contains(&old.id) {
                if has_files(old) {
                    return Err(Error::conflict(format!(
                        "“{}” has uploaded files and can't be deleted",
                        old.title
                    )));
                }
                write.deleted_tasks.push(old.id);
            }
        }
        Ok(write)
    }
}

/// Whether two versions of a task differ only in where they sit (phase, position),
/// which renumbering around another task's move does without raising the version.
fn same_content(a: &Task, b: &Task) -> bool {
    Task {
        phase_id: a.phase_id,
        position: a.position,
        ..b.clone()
    } == *a
}

fn has_files(task: &Task) -> bool {
    !task.evidence.documents.is_empty()
}

/// The first cycle of dependencies among `tasks`, as the task ids around it, if any.
/// Dependencies on tasks that are not in `tasks` are ignored.
pub fn first_cycle(tasks: &[Task]) -> Option<Vec<TaskId>> {
    let edges: BTreeMap<TaskId, &[TaskId]> = tasks
        .iter()
        .map(|t| (t.id, t.waits_on.as_slice()))
        .collect();
    // Iterative depth-first search with colors: 0 unseen, 1 on the path, 2 done.
    let mut color: BTreeMap<TaskId, u8> = BTreeMap::new();
    for &start in edges.keys() {
        if color.get(&start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut path: Vec<(TaskId, usize)> = vec![(start, 0)];
        color.insert(start, 1);
        while let Some((node, next)) = path.last().copied() {
            let deps = edges.get(&node).copied().unwrap_or(&[]);
            if let Some(&dep) = deps.get(next) {
                if let Some(top) = path.last_mut() {
                    top.1 += 1;
                }
                if !edges.contains_key(&dep) {
                    continue;
                }
                match color.get(&dep).copied().unwrap_or(0) {
                    0 => {
                        color.insert(dep, 1);
                        path.push((dep, 0));
                    }
                    1 => {
                        let from = path.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                        return Some(path[from..].iter().map(|(n, _)| *n).collect());
                    }
                    _ => {}
                }
            } else {
                color.insert(node, 2);
                path.pop();
            }
        }
    }
    None
}

/// The tasks `task` still waits for (its prerequisites that are not completed), in
/// plan order. Empty: the task is not locked.
pub fn waiting_for<'a>(tasks: &'a [Task], task: &Task) -> Vec<&'a Task> {
    tasks
        .iter()
        .filter(|t| task.waits_on.contains(&t.id) && t.status != TaskStatus::Completed)
        .collect()
}

/// Whether a task waits for something (the client sees it locked).
pub fn is_locked(tasks: &[Task], task: &Task) -> bool {
    !waiting_for(tasks, task).is_empty()
}

/// How the client reads what a locked task waits for: the titles of the tasks it
/// waits for, an internal one as "a step by `<MSP>`" (its title is not the client's).
pub fn waiting_for_labels(tasks: &[Task], task: &Task, msp: &str) -> Vec<String> {
    waiting_for(tasks, task)
        .into_iter()
        .map(|t| {
            if t.internal {
                format!("a step by {msp}")
            } else {
                t.title.clone()
            }
        })
        .collect()
}

/// What the client sees of a plan: internal tasks removed (so they are not shown and
/// not counted in the progress).
pub fn client_view(mut snapshot: PortalSnapshot) -> PortalSnapshot {
    let internal: HashSet<TaskId> = snapshot
        .tasks
        .iter()
        .filter(|t| t.internal)
        .map(|t| t.id)
        .collect();
    if internal.is_empty() {
        return snapshot;
    }
    snapshot.tasks.retain(|t| !t.internal);
    snapshot
}

/// The client's feed: staff-only entries ([`ActivityKind::is_staff_only`]) and entries
/// about internal tasks removed. `internal` are the ids of
/// the portal's internal tasks.
pub fn client_feed(entries: Vec<ActivityEntry>, internal: &HashSet<TaskId>) -> Vec<ActivityEntry> {
    entries
        .into_iter()
        .filter(|e| !e.kind.is_staff_only())
        .filter(|e| e.task_id.is_none_or(|t| !internal.contains(&t)))
        .collect()
}

/// Whether `actor` may see `task`: an internal task is `NotFound(Task)` to a client,
/// as if it did not exist.
pub fn visible_to(actor: &Actor, task: &Task) -> Result<()> {
    if task.internal && actor.side() == Side::Client {
        return Err(Error::NotFound {
            entity: Entity::Task,
        });
    }
    Ok(())
}

/// Refuses a client's action on a task that still waits for others, naming them.
pub fn client_may_act_on_plan(plan: &Plan, task: &Task) -> Result<()> {
    client_may_act_among(&plan.tasks, task, &plan.portal.branding.company_name)
}

/// [`client_may_act_on_plan`] over a snapshot (the portal home's read), for use
/// cases that do not change the plan (uploads): an internal task is
/// `NotFound(Task)`, a waiting one `Conflict` naming what it waits for.
pub fn client_may_act_in(snapshot: &PortalSnapshot, task: &Task) -> Result<()> {
    if task.internal {
        return Err(Error::NotFound {
            entity: Entity::Task,
        });
    }
    client_may_act_among(
        &snapshot.tasks,
        task,
        &snapshot.portal.branding.company_name,
    )
}

fn client_may_act_among(tasks: &[Task], task: &Task, msp: &str) -> Result<()> {
    use crate::reason::{ListItem, Reason};
    // As `waiting_for_labels`, with the MSP's steps worded in the page's language.
    let items: Vec<ListItem> = waiting_for(tasks, task)
        .into_iter()
        .map(|t| {
            if t.internal {
                ListItem::Message("reason-waiting-msp-step", vec![("msp", msp.into())])
            } else {
                ListItem::Text(t.title.clone())
            }
        })
        .collect();
    if items.is_empty() {
        return Ok(());
    }
    let count = items.len();
    Err(Error::conflict(
        Reason::build("reason-task-waiting")
            .list("tasks", items)
            .arg("count", count)
            .done(),
    ))
}

fn stale(entity: &str, current: u64) -> Error {
    Error::stale(format!(
        "this {entity} was changed by someone else since you opened it (it is now at version {current}); reload it and make your change again"
    ))
}

fn check_version(entity: &str, current: u64, expected: u64) -> Result<()> {
    if current == expected {
        Ok(())
    } else {
        Err(stale(entity, current))
    }
}

/// Tasks that waited for something before the change and wait for nothing after it:
/// [`PlanNotice::Unlocked`] and a feed entry each (by `actor`, at `now`).
fn unlocks(before: &[Task], after: &[Task], actor: &Actor, now: DateTime<Utc>) -> Unlocks {
    let mut out = Unlocks::default();
    for task in after {
        let was_locked = before
            .iter()
            .find(|b| b.id == task.id)
            .is_some_and(|b| is_locked(before, b));
        if was_locked && !is_locked(after, task) {
            out.notices.push(PlanNotice::Unlocked { task: task.id });
            out.activity
                .push(entry(task, ActivityKind::TaskUnlocked, actor, now, None));
        }
    }
    out
}

#[derive(Default)]
struct Unlocks {
    notices: Vec<PlanNotice>,
    activity: Vec<ActivityEntry>,
}

fn entry(
    task: &Task,
    kind: ActivityKind,
    actor: &Actor,
    now: DateTime<Utc>,
    detail: Option<String>,
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

fn phase_entry(
    phase: &Phase,
    kind: ActivityKind,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ActivityEntry {
    ActivityEntry {
        portal_id: phase.portal_id,
        at: now,
        actor: actor.clone(),
        kind,
        task_id: None,
        subject: phase.name.clone(),
        detail: None,
    }
}

/// Renumbers tasks 0.. within each phase (keeping their order) and orders the list
/// by phase position, then task position.
fn renumber(phases: &[Phase], tasks: &mut [Task]) {
    let order: HashMap<PhaseId, u32> = phases.iter().map(|p| (p.id, p.position)).collect();
    tasks.sort_by_key(|t| {
        (
            order.get(&t.phase_id).copied().unwrap_or(u32::MAX),
            t.position,
        )
    });
    let mut next: HashMap<PhaseId, u32> = HashMap::new();
    for t in tasks.iter_mut() {
        let n = next.entry(t.phase_id).or_insert(0);
        t.position = *n;
        *n += 1;
    }
}

fn renumber_phases(phases: &mut [Phase]) {
    for (i, p) in phases.iter_mut().enumerate() {
        p.position = u32::try_from(i).unwrap_or(u32::MAX);
    }
}

fn change(
    plan: &Plan,
    tasks: Vec<Task>,
    phases: Vec<Phase>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> PlanChange {
    let unlocked = unlocks(&plan.tasks, &tasks, actor, now);
    PlanChange {
        phases,
        tasks,
        activity: unlocked.activity,
        notices: unlocked.notices,
        emails: Vec::new(),
        subject: None,
        comments: Vec::new(),
        erased_blobs: Vec::new(),
    }
}

/// What staff change on a task; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskEdit {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New settings of the task's type (the type itself changes only while nothing
    /// was done on the task).
    pub kind: Option<TaskKind>,
    /// Who does it.
    pub side: Option<Side>,
    /// Set (`Some(Some(d))`) or clear (`Some(None)`) the due date.
    pub due_date: Option<Option<NaiveDate>>,
    /// The contacts a client task is for (empty: everyone).
    pub assigned_to: Option<Vec<ContactId>>,
    /// The tasks it waits for.
    pub waits_on: Option<Vec<TaskId>>,
    /// Whether the client never sees it (MSP tasks only).
    pub internal: Option<bool>,
    /// Set (`Some(Some(role))`, cleaned by [`crate::workflow::team::task_role`]) or
    /// clear (`Some(None)`) the contact role a client task is for.
    pub for_role: Option<Option<String>>,
}

impl TaskEdit {
    fn changed_fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        let fields: [(&'static str, bool); 9] = [
            ("title", self.title.is_some()),
            ("description", self.description.is_some()),
            ("settings", self.kind.is_some()),
            ("who does it", self.side.is_some()),
            ("due date", self.due_date.is_some()),
            ("assignees", self.assigned_to.is_some()),
            ("dependencies", self.waits_on.is_some()),
            ("visibility", self.internal.is_some()),
            ("role", self.for_role.is_some()),
        ];
        for (name, set) in fields {
            if set {
                f.push(name);
            }
        }
        f
    }
}

/// Validates a task's plan fields against the plan: assignees are contacts of the
/// portal (client tasks only), dependencies are other tasks of the portal without a
/// cycle, internal tasks are MSP tasks. `task` is the task as it would be stored;
/// `others` the rest of the plan.
fn check_plan_fields(plan: &Plan, task: &Task, others: &[Task]) -> Result<()> {
    if task.internal && task.assignee == Side::Client {
        return Err(Error::invalid(
            "internal",
            "only an MSP task can be internal: the client does client tasks",
        ));
    }
    if task.for_role.is_some() && task.assignee != Side::Client {
        return Err(Error::invalid(
            "for_role",
            "only a client task can be for a contact role",
        ));
    }
    if !task.assigned_to.is_empty() && task.assignee != Side::Client {
        return Err(Error::invalid(
            "assigned_to",
            "only a client task can be assigned to contacts",
        ));
    }
    if task.assigned_to.len() > MAX_ASSIGNEES {
        return Err(Error::invalid(
            "assigned_to",
            format!("assign at most {MAX_ASSIGNEES} contacts"),
        ));
    }
    for c in &task.assigned_to {
        match plan.contacts.iter().find(|k| k.id == *c) {
            Some(k) if k.revoked_at.is_none() => {}
            Some(k) => {
                return Err(Error::invalid(
                    "assigned_to",
                    format!("{}'s access is revoked: assign someone else", k.name),
                ));
            }
            None => {
                return Err(Error::invalid(
                    "assigned_to",
                    "that contact is not a contact of this portal",
                ));
            }
        }
    }
    if task.waits_on.len() > MAX_WAITS_ON {
        return Err(Error::invalid(
            "waits_on",
            format!("a task can wait for at most {MAX_WAITS_ON} tasks"),
        ));
    }
    if task.waits_on.contains(&task.id) {
        return Err(Error::invalid("waits_on", "a task can't wait for itself"));
    }
    for w in &task.waits_on {
        if !others.iter().any(|t| t.id == *w) {
            return Err(Error::invalid(
                "waits_on",
                "a task can only wait for another task of the same portal",
            ));
        }
    }
    let mut all: Vec<Task> = others.to_vec();
    all.push(task.clone());
    if let Some(cycle) = first_cycle(&all) {
        let names: Vec<String> = cycle
            .iter()
            .chain(cycle.first())
            .filter_map(|id| all.iter().find(|t| t.id == *id))
            .map(|t| format!("“{}”", t.title))
            .collect();
        return Err(Error::invalid(
            "waits_on",
            format!(
                "that would make tasks wait for each other in a circle: {}",
                names.join(" waits for ")
            ),
        ));
    }
    Ok(())
}

fn dedup<T: Ord + Copy>(items: &[T]) -> Vec<T> {
    let mut seen = BTreeSet::new();
    items.iter().copied().filter(|i| seen.insert(*i)).collect()
}

/// Contacts on `after` who were not on `before`, for an assignment email: only for a
/// client task that is not internal, only contacts named explicitly.
fn newly_assigned(before: Option<&Task>, after: &Task) -> Vec<ContactId> {
    if after.assignee != Side::Client || after.internal {
        return Vec::new();
    }
    let was: &[ContactId] = before.map_or(&[], |b| b.assigned_to.as_slice());
    after
        .assigned_to
        .iter()
        .copied()
        .filter(|c| !was.contains(c))
        .collect()
}

/// Edits a task at `expected` version: every field of [`TaskEdit`] that is set.
pub fn edit_task(
    plan: &Plan,
    id: TaskId,
    expected: u64,
    edit: &TaskEdit,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<PlanChange> {
    let current = plan.task(id)?;
    check_version("task", current.version, expected)?;
    let mut next = current.clone();
    if let Some(title) = &edit.title {
        next.title = clean_label("title", title, MAX_TITLE)?;
    }
    if let Some(description) = &edit.description {
        next.description = clean_text("description", description, MAX_DESCRIPTION)?;
    }
    if let Some(kind) = &edit.kind {
        kind.validate()?;
        let same_type = std::mem::discriminant(kind) == std::mem::discriminant(&current.kind);
        let untouched = current.evidence == Default::default();
        if !same_type && !untouched {
            return Err(Error::conflict(
                "this task's type can't change once something was done on it; add a new task instead",
            ));
        }
        next.kind = kind.clone();
    }
    if let Some(side) = edit.side {
        next.assignee = side;
        if side == Side::Msp && edit.assigned_to.is_none() {
            next.assigned_to.clear();
        }
        if side == Side::Msp && edit.for_role.is_none() {
            next.for_role = None;
        }
        if side == Side::Client && edit.internal.is_none() {
            next.internal = false;
        }
    }
    if let Some(due) = edit.due_date {
        next.due_date = due;
    }
    if let Some(contacts) = &edit.assigned_to {
        next.assigned_to = dedup(contacts);
    }
    if let Some(waits) = &edit.waits_on {
        next.waits_on = dedup(waits);
    }
    if let Some(internal) = edit.internal {
        next.internal = internal;
    }
    if let Some(role) = &edit.for_role {
        // Cleaned here; whether the task may target a role at all (a client task)
        // is checked with the other plan fields below.
        next.for_role = crate::workflow::team::task_role(Side::Client, role.as_deref())?;
    }
    let others: Vec<Task> = plan.tasks.iter().filter(|t| t.id != id).cloned().collect();
    check_plan_fields(plan, &next, &others)?;
    if next == *current {
        return Err(Error::invalid("edit", "nothing to change"));
    }
    next.version = current.version.saturating_add(1);
    next.updated_at = now;
    let assigned = newly_assigned(Some(current), &next);
    let tasks: Vec<Task> = plan
        .tasks
        .iter()
        .map(|t| if t.id == id { next.clone() } else { t.clone() })
        .collect();
    let mut out = change(plan, tasks, plan.phases.clone(), actor, now);
    let detail = Some(format!("changed: {}", edit.changed_fields().join(", ")));
    out.activity.insert(
        0,
        entry(&next, ActivityKind::TaskEdited, actor, now, detail),
    );
    if !assigned.is_empty() {
        out.notices.insert(
            0,
            PlanNotice::Assigned {
                task: id,
                contacts: assigned,
            },
        );
    }
    out.subject = Some(id);
    Ok(out)
}

/// Adds `task` to its phase at `position` (the end when `None` or past it). The task's
/// plan fields are checked as [`edit_task`] checks them.
pub fn add_task(
    plan: &Plan,
    mut task: Task,
    position: Option<u32>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<PlanChange> {
    plan.phase(task.phase_id)?;
    if task.portal_id != plan.portal.id {
        return Err(Error::NotFound {
            entity: Entity::Phase,
        });
    }
    if plan.tasks.iter().any(|t| t.id == task.id) {
        return Err(Error::conflict("a task with this id already exists"));
    }
    task.kind.validate()?;
    task.title = clean_label("title", &task.title, MAX_TITLE)?;
    task.description = clean_text("description", &task.description, MAX_DESCRIPTION)?;
    task.assigned_to = dedup(&task.assigned_to);
    task.waits_on = dedup(&task.waits_on);
    task.version = crate::model::first_version();
    check_plan_fields(plan, &task, &plan.tasks)?;
    let mut tasks = plan.tasks.clone();
    let in_phase = tasks.iter().filter(|t| t.phase_id == task.phase_id).count();
    let at = position.map_or(in_phase, |p| {
        usize::try_from(p).unwrap_or(usize::MAX).min(in_phase)
    });
    // Make room: tasks at or after `at` in the phase move down one.
    for t in tasks.iter_mut().filter(|t| t.phase_id == task.phase_id) {
        if usize::try_from(t.position).unwrap_or(usize::MAX) >= at {
            t.position = t.position.saturating_add(1);
        }
    }
    task.position = u32::try_from(at).unwrap_or(u32::MAX);
    let assigned = newly_assigned(None, &task);
    let id = task.id;
    let added = entry(&task, ActivityKind::TaskAdded, actor, now, None);
    tasks.push(task);
    renumber(&plan.phases, &mut tasks);
    let mut out = change(plan, tasks, plan.phases.clone(), actor, now);
    out.activity.insert(0, added);
    if !assigned.is_empty() {
        out.notices.insert(
            0,
            PlanNotice::Assigned {
                task: id,
                contacts: assigned,
            },
        );
    }
    out.subject = Some(id);
    Ok(out)
}

/// Moves a task (at `expected` version) to `position` of `to_phase` (clamped to the
/// end of that phase). The moved task's version is raised; the tasks renumbered
/// around it keep theirs.
pub fn move_task(
    plan: &Plan,
    id: TaskId,
    expected: u64,
    to_phase: PhaseId,
    position: u32,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<PlanChange> {
    let current = plan.task(id)?;
    check_version("task", current.version, expected)?;
    let target = plan.phase(to_phase)?;
    let mut rest: Vec<Task> = plan.tasks.iter().filter(|t| t.id != id).cloned().collect();
    renumber(&plan.phases, &mut rest);
    let in_phase = rest.iter().filter(|t| t.phase_id == to_phase).count();
    let at = usize::try_from(position)
        .unwrap_or(usize::MAX)
        .min(in_phase);
    if current.phase_id == to_phase && usize::try_from(current.position).ok() == Some(at) {
        return Err(Error::invalid("position", "the task is already there"));
    }
    for t in rest.iter_mut().filter(|t| t.phase_id == to_phase) {
        if usize::try_from(t.position).unwrap_or(usize::MAX) >= at {
            t.position = t.position.saturating_add(1);
        }
    }
    let mut moved = current.clone();
    moved.phase_id = to_phase;
    moved.position = u32::try_from(at).unwrap_or(u32::MAX);
    moved.version = current.version.saturating_add(1);
    moved.updated_at = now;
    let detail = (current.phase_id != to_phase).then(|| format!("to the phase “{}”", target.name));
    let moved_entry = entry(&moved, ActivityKind::TaskMoved, actor, now, detail);
    rest.push(moved);
    renumber(&plan.phases, &mut rest);
    let mut out = change(plan, rest, plan.phases.clone(), actor, now);
    out.activity.insert(0, moved_entry);
    out.subject = Some(id);
    Ok(out)
}

/// Deletes a task at `expected` version (see the module's choices: its comments go
/// with it; one with uploaded files is refused). Tasks that waited for it no longer
/// do, which may unlock them.
pub fn delete_task(
    plan: &Plan,
    id: TaskId,
    expected: u64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<PlanChange> {
    let current = plan.task(id)?;
    check_version("task", current.version, expected)?;
    refuse_files(current)?;
    let mut tasks = without_tasks(plan, &[id], now);
    renumber(&plan.phases, &mut tasks);
    let mut out = change(plan, tasks, plan.phases.clone(), actor, now);
    out.activity.insert(
        0,
        entry(current, ActivityKind::TaskDeleted, actor, now, None),
    );
    Ok(out)
}

fn refuse_files(task: &Task) -> Result<()> {
    if has_files(task) {
        return Err(Error::conflict(format!(
            "“{}” has uploaded files: they are kept for the audit trail, so the task can't be deleted (complete or block it instead)",
            task.title
        )));
    }
    Ok(())
}

/// The plan's tasks without `gone`, and without them in anyone's `waits_on` (those
/// tasks change: version raised).
fn without_tasks(plan: &Plan, gone: &[TaskId], now: DateTime<Utc>) -> Vec<Task> {
    plan.tasks
        .iter()
        .filter(|t| !gone.contains(&t.id))
        .map(|t| {
            if t.waits_on.iter().any(|w| gone.contains(w)) {
                let mut t = t.clone();
                t.waits_on.retain(|w| !gone.contains(w));
                t.version = t.version.saturating_add(1);
                t.updated_at = now;
                t
            } else {
                t.clone()
            }
        })
        .collect()
}

/// Adds a phase at `position` (the end when `None` or past it).
pub fn add_phase(
    plan: &Plan,
    id: PhaseId,
    name: &str,
    position: Option<u32>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<PlanChange> {
    if plan.phases.iter().any(|p| p.id == id) {
        return Err(Error::conflict("a phase with this id already exists"));
    }
    let name = clean_label("phase name", name, MAX_PHASE_NAME)?;
    let mut phases = plan.phases.clone();
    let at = position.map_or(phases.len(), |p| {
        usize::try_from(p).unwrap_or(usize::MAX).min(phases.len())
    });
    let phase = Phase {
        id,
        portal_id: plan.portal.id,
        position: 0,
        name,
        version: crate::model::first_version(),
    };
    phases.insert(at, phase);
    renumber_phases(&mut phases);
    let mut tasks = plan.tasks.clone();
    renumber(&phases, &mut tasks);
    let mut out = change(plan, tasks, phases.clone(), actor, now);
    if let Some(p) = phases.iter().find(|p| p.id == id) {
        out.activity
            .insert(0, phase_entry(p, ActivityKind::PhaseAdded, actor, now));
    }
    Ok(out)
}

/// Renames a phase at `expected` version.
pub fn rename_phase(
    plan: &Plan,
    id: PhaseId,
    expected: u64,
    name: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<PlanChange> {
    let current = plan.phase(id)?;
    check_version("phase", current.version, expected)?;
    let name = clean_label("phase name", name, MAX_PHASE_NAME)?;
    if name == current.name {
        return Err(Error::invalid(
            "phase name",
            "the phase already has this name",
        ));
    }
    let phases: Vec<Phase> = plan
        .phases
        .iter()
        .map(|p| {
            if p.id == id {
                Phase {
                    name: name.clone(),
                    version: p.version.saturating_add(1),
                    ..p.clone()
                }
            } else {
                p.clone()
            }
        })
        .collect();
    let mut out = change(plan, plan.tasks.clone(), phases.clone(), actor, now);
    if let Some(p) = phases.iter().find(|p| p.id == id) {
        out.activity
            .insert(0, phase_entry(p, ActivityKind::PhaseRenamed, actor, now));
    }
    Ok(out)
}

/// Moves a phase at `expected` version to `position` (clamped to the end).
pub fn move_phase(
    plan: &Plan,
    id: PhaseId,
    expected: u64,
    position: u32,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<PlanChange> {
    let current = plan.phase(id)?;
    check_version("phase", current.version, expected)?;
    let mut phases: Vec<Phase> = plan.phases.iter().filter(|p| p.id != id).cloned().collect();
    let at = usize::try_from(position)
        .unwrap_or(usize::MAX)
        .min(phases.len());
    if usize::try_from(current.position).ok() == Some(at) {
        return Err(Error::invalid("position", "the phase is already there"));
    }
    let mut moved = current.clone();
    moved.version = current.version.saturating_add(1);
    phases.insert(at, moved.clone());
    renumber_phases(&mut phases);
    let mut tasks = plan.tasks.clone();
    renumber(&phases, &mut tasks);
    let mut out = change(plan, tasks, phases, actor, now);
    out.activity
        .insert(0, phase_entry(&moved, ActivityKind::PhaseMoved, actor, now));
    Ok(out)
}

/// What happens to a phase's tasks when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseDeletion {
    /// Refuse while the phase has tasks.
    OnlyIfEmpty,
    /// Delete its tasks too (each as [`delete_task`] would).
    WithTasks,
}

/// Deletes a phase at `expected` version.
pub fn delete_phase(
    plan: &Plan,
    id: PhaseId,
    expected: u64,
    how: PhaseDeletion,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<PlanChange> {
    let current = plan.phase(id)?;
    check_version("phase", current.version, expected)?;
    let inside: Vec<&Task> = plan.tasks.iter().filter(|t| t.phase_id == id).collect();
    if !inside.is_empty() && how == PhaseDeletion::OnlyIfEmpty {
        return Err(Error::conflict(format!(
            "the phase “{}” still has {} task{}: move or delete them first, or delete the phase with its tasks",
            current.name,
            inside.len(),
            if inside.len() == 1 { "" } else { "s" }
        )));
    }
    for t in &inside {
        refuse_files(t)?;
    }
    let gone: Vec<TaskId> = inside.iter().map(|t| t.id).collect();
    let mut phases: Vec<Phase> = plan.phases.iter().filter(|p| p.id != id).cloned().collect();
    renumber_phases(&mut phases);
    let mut tasks = without_tasks(plan, &gone, now);
    renumber(&phases, &mut tasks);
    let mut out = change(plan, tasks, phases, actor, now);
    let mut entries: Vec<ActivityEntry> = inside
        .iter()
        .map(|t| entry(t, ActivityKind::TaskDeleted, actor, now, None))
        .collect();
    entries.push(phase_entry(current, ActivityKind::PhaseDeleted, actor, now));
    out.activity.splice(0..0, entries);
    Ok(out)
}

/// A task action ([`apply`]) taken on the plan: a client may not see an internal task
/// (`NotFound(Task)`) nor act on a task that still waits for others (`Conflict`
/// naming them); the tasks the change unlocks get a feed entry and a notice.
pub fn act_on_plan(
    plan: &Plan,
    id: TaskId,
    action: &TaskAction,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<PlanChange> {
    let current = plan.task(id)?;
    visible_to(actor, current)?;
    if actor.side() == Side::Client {
        client_may_act_on_plan(plan, current)?;
    }
    let (next, activity) = apply(current, action, actor, now)?.apply_to(current)?;
    let tasks: Vec<Task> = plan
        .tasks
        .iter()
        .map(|t| if t.id == id { next.clone() } else { t.clone() })
        .collect();
    let mut out = change(plan, tasks, plan.phases.clone(), actor, now);
    out.activity.insert(0, activity);
    out.subject = Some(id);
    Ok(out)
}

/// The ids of a plan's internal tasks.
pub fn internal_ids(tasks: &[Task]) -> HashSet<TaskId> {
    tasks.iter().filter(|t| t.internal).map(|t| t.id).collect()
}

#[cfg(test)]
mod tests;
