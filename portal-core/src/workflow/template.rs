//! Onboarding plan templates: a tenant's reusable plan (phases and tasks of every
//! type, due dates as offsets in days from a start date, dependencies by position),
//! and the rule that turns one into a new portal's plan.
//!
//! A template is validated whole ([`PlanTemplate::validate`]) every time it is saved,
//! with the same rules as a portal's plan (titles, task settings, no dependency
//! cycles, internal tasks only on the MSP side), so a portal built from it is always a
//! valid plan.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::plan::{MAX_DESCRIPTION, MAX_PHASE_NAME, MAX_TITLE, MAX_WAITS_ON, first_cycle};
use crate::error::{Error, Result};
use crate::ids::{PhaseId, PortalId, TaskId, TemplateId, TenantId};
use crate::model::{Phase, Side, Task, TaskKind, TaskStatus, clean_label, clean_text};
use crate::random::RandomSource;

/// Longest template name.
pub const MAX_TEMPLATE_NAME: usize = 200;
/// Most phases in a template.
pub const MAX_TEMPLATE_PHASES: usize = 50;
/// Most tasks in a template (over all its phases).
pub const MAX_TEMPLATE_TASKS: usize = 500;
/// The furthest a due date may be from the start date, in days (about ten years).
pub const MAX_OFFSET_DAYS: i32 = 3660;

/// Where a task sits in a template: its phase's index and its index in that phase
/// (both 0-based). Dependencies name tasks this way, since a template's tasks have
/// no ids until a portal is made from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TaskRef {
    /// The phase's index.
    pub phase: u32,
    /// The task's index within the phase.
    pub task: u32,
}

/// A task of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateTask {
    /// Short title.
    pub title: String,
    /// Plain-text description.
    #[serde(default)]
    pub description: String,
    /// Who does it.
    pub assignee: Side,
    /// Its type and settings.
    pub kind: TaskKind,
    /// Due this many days after the portal's start date (negative: before it).
    #[serde(default)]
    pub due_offset_days: Option<i32>,
    /// The tasks of the template it waits for.
    #[serde(default)]
    pub waits_on: Vec<TaskRef>,
    /// An MSP task the client never sees.
    #[serde(default)]
    pub internal: bool,
    /// The contact role a client task is for ("billing"): in a portal built from the
    /// template, the contacts with that role get it as theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_role: Option<String>,
}

/// A phase of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplatePhase {
    /// Display name.
    pub name: String,
    /// Its tasks, in order.
    pub tasks: Vec<TemplateTask>,
}

/// A tenant's onboarding plan template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTemplate {
    /// Its id.
    pub id: TemplateId,
    /// The MSP it belongs to; only its staff see it.
    pub tenant_id: TenantId,
    /// Its name, as staff pick it from a list.
    pub name: String,
    /// Raised by every change, starting at 1 (edits name the version they saw).
    pub version: u64,
    /// The plan: phases with their tasks, in order.
    pub phases: Vec<TemplatePhase>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl PlanTemplate {
    /// The template cleaned and checked: name and every phase and task as a plan
    /// would take them; dependencies point at other tasks of the template, without a
    /// cycle; due offsets within [`MAX_OFFSET_DAYS`]; internal tasks on the MSP side.
    pub fn validate(mut self) -> Result<Self> {
        self.name = clean_label("name", &self.name, MAX_TEMPLATE_NAME)?;
        if self.phases.len() > MAX_TEMPLATE_PHASES {
            return Err(Error::invalid(
                "phases",
                format!("a template has at most {MAX_TEMPLATE_PHASES} phases"),
            ));
        }
        let total: usize = self.phases.iter().map(|p| p.tasks.len()).sum();
        if total > MAX_TEMPLATE_TASKS {
            return Err(Error::invalid(
                "tasks",
                format!("a template has at most {MAX_TEMPLATE_TASKS} tasks"),
            ));
        }
        let exists = |r: &TaskRef| {
            usize::try_from(r.phase)
                .ok()
                .and_then(|p| self.phases.get(p))
                .and_then(|p| usize::try_from(r.task).ok().and_then(|t| p.tasks.get(t)))
                .is_some()
        };
        let mut checked = Vec::with_capacity(self.phases.len());
        for (pi, phase) in self.phases.iter().enumerate() {
            let name = clean_label("phase name", &phase.name, MAX_PHASE_NAME)?;
            let mut tasks = Vec::with_capacity(phase.tasks.len());
            for (ti, task) in phase.tasks.iter().enumerate() {
                let mut t = task.clone();
                t.title = clean_label("title", &t.title, MAX_TITLE)?;
                t.description = clean_text("description", &t.description, MAX_DESCRIPTION)?;
                t.kind.validate()?;
                t.for_role = crate::workflow::team::task_role(t.assignee, t.for_role.as_deref())?;
                if t.internal && t.assignee == Side::Client {
                    return Err(Error::invalid(
                        "internal",
                        format!(
                            "“{}” is a client task: only an MSP task can be internal",
                            t.title
                        ),
                    ));
                }
                if t.due_offset_days.is_some_and(|d| d.abs() > MAX_OFFSET_DAYS) {
                    return Err(Error::invalid(
                        "due_offset_days",
                        format!("a due date is at most {MAX_OFFSET_DAYS} days from the start"),
                    ));
                }
                if t.waits_on.len() > MAX_WAITS_ON {
                    return Err(Error::invalid(
                        "waits_on",
                        format!("a task can wait for at most {MAX_WAITS_ON} tasks"),
                    ));
                }
                let me = TaskRef {
                    phase: u32::try_from(pi).unwrap_or(u32::MAX),
                    task: u32::try_from(ti).unwrap_or(u32::MAX),
                };
                t.waits_on.sort_unstable();
                t.waits_on.dedup();
                for w in &t.waits_on {
                    if *w == me {
                        return Err(Error::invalid(
                            "waits_on",
                            format!("“{}” can't wait for itself", t.title),
                        ));
                    }
                    if !exists(w) {
                        return Err(Error::invalid(
                            "waits_on",
                            format!(
                                "“{}” waits for a task that is not in the template (phase {}, task {})",
                                t.title,
                                w.phase + 1,
                                w.task + 1
                            ),
                        ));
                    }
                }
                tasks.push(t);
            }
            checked.push(TemplatePhase { name, tasks });
        }
        self.phases = checked;
        // The same cycle rule as a plan's: build the plan with stand-in ids.
        let (_, tasks) = self.plan_with(
            PortalId::from_bytes([0; 16]),
            NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default(),
            DateTime::<Utc>::MIN_UTC,
            |p, t| {
                let mut b = [0u8; 16];
                b[..4].copy_from_slice(&p.to_be_bytes());
                b[4..8].copy_from_slice(&t.to_be_bytes());
                (PhaseId::from_bytes(b), TaskId::from_bytes(b))
            },
        )?;
        if first_cycle(&tasks).is_some() {
            return Err(Error::invalid(
                "waits_on",
                "the template's tasks would wait for each other in a circle",
            ));
        }
        Ok(self)
    }

    /// The plan of a new portal made from this template: phases and tasks with fresh
    /// ids from `rng`, due dates `start + offset`, dependencies resolved to the new
    /// tasks' ids, every task pending at version 1, created at `now`.
    pub fn instantiate(
        &self,
        portal: PortalId,
        start: NaiveDate,
        now: DateTime<Utc>,
        rng: &dyn RandomSource,
    ) -> Result<(Vec<Phase>, Vec<Task>)> {
        let phase_ids: Vec<PhaseId> = self.phases.iter().map(|_| PhaseId::random(rng)).collect();
        let task_ids: Vec<Vec<TaskId>> = self
            .phases
            .iter()
            .map(|p| p.tasks.iter().map(|_| TaskId::random(rng)).collect())
            .collect();
        self.plan_with(portal, start, now, |p, t| {
            let (pi, ti) = (p as usize, t as usize);
            (
                phase_ids
                    .get(pi)
                    .copied()
                    .unwrap_or(PhaseId::from_bytes([0; 16])),
                task_ids
                    .get(pi)
                    .and_then(|ts| ts.get(ti))
                    .copied()
                    .unwrap_or(TaskId::from_bytes([0; 16])),
            )
        })
    }

    fn plan_with(
        &self,
        portal: PortalId,
        start: NaiveDate,
        now: DateTime<Utc>,
        ids: impl Fn(u32, u32) -> (PhaseId, TaskId),
    ) -> Result<(Vec<Phase>, Vec<Task>)> {
        let mut phases = Vec::with_capacity(self.phases.len());
        let mut tasks = Vec::new();
        for (pi, phase) in self.phases.iter().enumerate() {
            let p = u32::try_from(pi).map_err(|_| Error::invalid("phases", "too many phases"))?;
            let (phase_id, _) = ids(p, 0);
            phases.push(Phase {
                id: phase_id,
                portal_id: portal,
                position: p,
                name: phase.name.clone(),
                version: crate::model::first_version(),
            });
            for (ti, task) in phase.tasks.iter().enumerate() {
                let t = u32::try_from(ti).map_err(|_| Error::invalid("tasks", "too many tasks"))?;
                let due_date = match task.due_offset_days {
                    None => None,
                    Some(days) => Some(
                        start
                            .checked_add_signed(TimeDelta::days(i64::from(days)))
                            .ok_or_else(|| {
                                Error::invalid("start_date", "the due dates would be out of range")
                            })?,
                    ),
                };
                tasks.push(Task {
                    id: ids(p, t).1,
                    portal_id: portal,
                    phase_id,
                    position: t,
                    title: task.title.clone(),
                    description: task.description.clone(),
                    assignee: task.assignee,
                    kind: task.kind.clone(),
                    status: TaskStatus::Pending,
                    blocked_reason: None,
                    due_date,
                    evidence: Default::default(),
                    created_at: now,
                    updated_at: now,
                    version: crate::model::first_version(),
                    assigned_to: Vec::new(),
                    waits_on: task
                        .waits_on
                        .iter()
                        .map(|w| ids(w.phase, w.task).1)
                        .collect(),
                    internal: task.internal,
                    for_role: task.for_role.clone(),
                });
            }
        }
        Ok((phases, tasks))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::random::SeededRandom;

    fn task(title: &str, side: Side) -> TemplateTask {
        TemplateTask {
            for_role: None,
            title: title.into(),
            description: String::new(),
            assignee: side,
            kind: TaskKind::Standard,
            due_offset_days: None,
            waits_on: Vec::new(),
            internal: false,
        }
    }

    fn template(phases: Vec<TemplatePhase>) -> PlanTemplate {
        let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
        PlanTemplate {
            id: TemplateId::from_bytes([7; 16]),
            tenant_id: TenantId::from_bytes([1; 16]),
            name: " Standard onboarding ".into(),
            version: 1,
            phases,
            created_at: at,
            updated_at: at,
        }
    }

    fn r(phase: u32, task: u32) -> TaskRef {
        TaskRef { phase, task }
    }

    #[test]
    fn a_portal_plan_comes_out_with_dates_and_dependencies_resolved() {
        let mut vpn = task("Install the VPN client", Side::Client);
        vpn.due_offset_days = Some(14);
        vpn.waits_on = vec![r(0, 0)];
        let mut firewall = task("Provision the firewall", Side::Msp);
        firewall.internal = true;
        firewall.due_offset_days = Some(-2);
        let t = template(vec![
            TemplatePhase {
                name: "Setup".into(),
                tasks: vec![firewall],
            },
            TemplatePhase {
                name: "Rollout".into(),
                tasks: vec![task("Kickoff call", Side::Msp), vpn],
            },
        ])
        .validate()
        .unwrap();
        assert_eq!(t.name, "Standard onboarding");
        let start = NaiveDate::from_ymd_opt(2026, 12, 28).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        let portal = PortalId::from_bytes([3; 16]);
        let (phases, tasks) = t
            .instantiate(portal, start, now, &SeededRandom::new(1))
            .unwrap();
        assert_eq!(phases.len(), 2);
        assert_eq!(tasks.len(), 3);
        assert_eq!(tasks[0].due_date, NaiveDate::from_ymd_opt(2026, 12, 26));
        assert!(tasks[0].internal);
        assert_eq!(
            tasks[2].due_date,
            NaiveDate::from_ymd_opt(2027, 1, 11),
            "offsets cross the year"
        );
        assert_eq!(tasks[2].waits_on, vec![tasks[0].id]);
        assert_eq!(tasks[2].phase_id, phases[1].id);
        assert_eq!((tasks[1].position, tasks[2].position), (0, 1));
        assert!(
            tasks
                .iter()
                .all(|t| t.portal_id == portal && t.version == 1)
        );
        // Fresh ids each time.
        let (_, again) = t
            .instantiate(portal, start, now, &SeededRandom::new(2))
            .unwrap();
        assert_ne!(again[0].id, tasks[0].id);
    }

    #[test]
    fn bad_templates_are_refused_with_the_field() {
        let refused = |phases: Vec<TemplatePhase>, field: &str| match template(phases).validate() {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{other:?}"),
        };
        let one = |t: TemplateTask| {
            vec![TemplatePhase {
                name: "P".into(),
                tasks: vec![t],
            }]
        };
        let mut selfish = task("A", Side::Client);
        selfish.waits_on = vec![r(0, 0)];
        refused(one(selfish), "waits_on");
        let mut dangling = task("A", Side::Client);
        dangling.waits_on = vec![r(3, 0)];
        refused(one(dangling), "waits_on");
        let mut internal = task("A", Side::Client);
        internal.internal = true;
        refused(one(internal), "internal");
        let mut far = task("A", Side::Client);
        far.due_offset_days = Some(MAX_OFFSET_DAYS + 1);
        refused(one(far), "due_offset_days");
        refused(one(task(" ", Side::Client)), "title");
        let mut a = task("A", Side::Client);
        a.waits_on = vec![r(0, 1)];
        let mut b = task("B", Side::Client);
        b.waits_on = vec![r(0, 0)];
        refused(
            vec![TemplatePhase {
                name: "P".into(),
                tasks: vec![a, b],
            }],
            "waits_on",
        );
    }
}
