//! [`PlanStore`] and [`TemplateStore`] for [`MemoryStore`]: the plan read and changed,
//! templates kept and portals made from them, each under the one lock.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{MemoryStore, Seq, State, not_found, oldest_page};
use crate::error::{Entity, Error, Result};
use crate::ids::{PhaseId, PortalId, TemplateId, TenantId};
use crate::model::{Contact, Phase, Portal, Task};
use crate::store::{Page, PageKey, PlanDecision, PlanStore, TemplateStore, check_new_plan};
use crate::workflow::ActivityEntry;
use crate::workflow::plan::{Plan, PlanChange};
use crate::workflow::template::PlanTemplate;

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
            let mut erased_blobs = Vec::new();
            for id in &write.deleted_tasks {
                st.tasks.remove(id);
                erased_blobs.extend(st.erase_task_records(*id));
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
            for comment in &change.comments {
                let seq = st.seq();
                st.comments.push(Seq {
                    seq,
                    value: comment.clone(),
                });
            }
            st.activity.extend(change.activity.iter().cloned());
            st.queue_mail(&change.emails);
            Ok(PlanChange {
                erased_blobs,
                ..change
            })
        })
    }
}

#[async_trait]
impl TemplateStore for MemoryStore {
    async fn create_template(&self, template: &PlanTemplate) -> Result<()> {
        self.with(|st| {
            if st.templates.contains_key(&template.id) {
                return Err(Error::conflict("a template with this id already exists"));
            }
            if !st.tenants.contains_key(&template.tenant_id) {
                return Err(not_found(Entity::Tenant));
            }
            let seq = st.seq();
            st.template_seq.insert(template.id, seq);
            st.templates.insert(template.id, template.clone());
            Ok(())
        })
    }

    async fn replace_template(&self, template: &PlanTemplate, expected: u64) -> Result<()> {
        self.with(|st| {
            let stored = st
                .templates
                .get(&template.id)
                .filter(|t| t.tenant_id == template.tenant_id)
                .ok_or_else(|| not_found(Entity::Template))?;
            if stored.version != expected {
                return Err(Error::stale(
                    "this template was changed by someone else since you opened it",
                ));
            }
            st.templates.insert(template.id, template.clone());
            Ok(())
        })
    }

    async fn template(&self, tenant: TenantId, id: TemplateId) -> Result<PlanTemplate> {
        self.with(|st| {
            st.templates
                .get(&id)
                .filter(|t| t.tenant_id == tenant)
                .cloned()
                .ok_or_else(|| not_found(Entity::Template))
        })
    }

    async fn templates(&self, tenant: TenantId) -> Result<Vec<PlanTemplate>> {
        self.with(|st| {
            let mut list: Vec<PlanTemplate> = st
                .templates
                .values()
                .filter(|t| t.tenant_id == tenant)
                .cloned()
                .collect();
            list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
            Ok(list)
        })
    }

    async fn templates_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<PlanTemplate>> {
        self.with(|st| {
            Ok(oldest_page(
                st.templates
                    .values()
                    .filter(|t| t.tenant_id == tenant)
                    .map(|t| {
                        let seq = st.template_seq.get(&t.id).copied().unwrap_or_default();
                        (t.created_at, seq, t.clone())
                    }),
                after,
                limit,
            ))
        })
    }

    async fn create_portal_with_plan(
        &self,
        portal: &Portal,
        phases: &[Phase],
        tasks: &[Task],
        activity: &[ActivityEntry],
    ) -> Result<()> {
        self.with(|st| {
            if st.portals.contains_key(&portal.id) {
                return Err(Error::conflict("portal id already exists"));
            }
            if !st.tenants.contains_key(&portal.tenant_id) {
                return Err(not_found(Entity::Tenant));
            }
            check_new_plan(portal, phases, tasks, activity)?;
            if phases.iter().any(|p| st.phases.contains_key(&p.id))
                || tasks.iter().any(|t| st.tasks.contains_key(&t.id))
            {
                return Err(Error::conflict("a phase or task id already exists"));
            }
            let seq = st.seq();
            st.portals.insert(
                portal.id,
                super::Seq {
                    seq,
                    value: Portal {
                        version: crate::model::first_version(),
                        ..portal.clone()
                    },
                },
            );
            for p in phases {
                st.phases.insert(p.id, p.clone());
            }
            for t in tasks {
                st.tasks.insert(t.id, t.clone());
            }
            st.activity.extend(activity.iter().cloned());
            Ok(())
        })
    }
}
