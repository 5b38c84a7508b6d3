//! [`PlanStore`] for [`MemoryStore`]: the plan read and changed under the one lock.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{MemoryStore, State, not_found};
use crate::error::{Entity, Result};
use crate::ids::{PhaseId, PortalId};
use crate::model::{Contact, Phase, Task};
use crate::store::{PlanDecision, PlanStore};
use crate::workflow::plan::{Plan, PlanChange};

/// A portal's plan as stored, in the contract's order.
pub(super) fn plan_of(st: &State, portal: PortalId) -> Result<Plan> {
    let p = st
        .portals
        .get(&portal)
        .map(|p| p.value.clone())
        .ok_or_else(|| not_found(Entity::Portal))?;
    let mut phases: Vec<Phase> = st
        .phases
        .values()
        .filter(|ph| ph.portal_id == portal)
        .cloned()
        .collect();
    phases.sort_by_key(|ph| ph.position);
    let phase_pos: HashMap<PhaseId, u32> = phases.iter().map(|ph| (ph.id, ph.position)).collect();
    let mut tasks: Vec<Task> = st
        .tasks
        .values()
        .filter(|t| t.portal_id == portal)
        .cloned()
        .collect();
    tasks.sort_by_key(|t| (phase_pos.get(&t.phase_id).copied(), t.position));
    let mut contacts: Vec<(chrono::DateTime<chrono::Utc>, u64, Contact)> = st
        .contacts
        .values()
        .filter(|c| c.value.portal_id == portal)
        .map(|c| (c.value.created_at, c.seq, c.value.clone()))
        .collect();
    contacts.sort_by_key(|c| (c.0, c.1));
    Ok(Plan {
        portal: p,
        phases,
        tasks,
        contacts: contacts.into_iter().map(|c| c.2).collect(),
    })
}

#[async_trait]
impl PlanStore for MemoryStore {
    async fn plan(&self, portal: PortalId) -> Result<Plan> {
        self.with(|st| plan_of(st, portal))
    }

    async fn change_plan(&self, portal: PortalId, decide: PlanDecision) -> Result<PlanChange> {
        self.with(|st| {
            let before = plan_of(st, portal)?;
            // The lock is held across `decide`: every other write waits, so each
            // decision sees the previous one's result.
            let change = decide(&before)?;
            let write = change.diff(&before)?;
            st.check_new_mail(&change.emails)?;
            for id in &write.deleted_tasks {
                st.tasks.remove(id);
            }
            st.comments
                .retain(|c| !write.deleted_tasks.contains(&c.value.task_id));
            for id in &write.deleted_phases {
                st.phases.remove(id);
            }
            for phase in write.new_phases.iter().chain(&write.changed_phases) {
                st.phases.insert(phase.id, phase.clone());
            }
            for task in write.new_tasks.iter().chain(&write.changed_tasks) {
                st.tasks.insert(task.id, task.clone());
            }
            st.activity.extend(change.activity.iter().cloned());
            st.queue_mail(&change.emails);
            Ok(change)
        })
    }
}
