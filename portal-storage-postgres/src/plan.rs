//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use portal_core::ids::BlobId;
use portal_core::model::{Phase, Portal, Task};
use portal_core::store::{Page, PageKey, PlanDecision, PlanStore, TemplateStore, check_new_plan};
use portal_core::workflow::ActivityEntry;
use portal_core::workflow::plan::{Plan, PlanChange, PlanWrite};
use portal_core::workflow::template::PlanTemplate;
use portal_core::{Entity, Error, PortalId, Result, TemplateId, TenantId};

use crate::PostgresStore;

#[async_trait]
impl PlanStore for PostgresStore {

    async fn plan(&self, portal: PortalId) -> Result<Plan> {
        Err(crate::not_ported("PlanStore::plan"))
    }

    async fn change_plan(&self, portal: PortalId, decide: PlanDecision) -> Result<PlanChange> {
        Err(crate::not_ported("PlanStore::change_plan"))
    }
}

#[async_trait]
impl TemplateStore for PostgresStore {

    async fn create_template(&self, template: &PlanTemplate) -> Result<()> {
        Err(crate::not_ported("TemplateStore::create_template"))
    }

    async fn replace_template(&self, template: &PlanTemplate, expected: u64) -> Result<()> {
        Err(crate::not_ported("TemplateStore::replace_template"))
    }

    async fn template(&self, tenant: TenantId, id: TemplateId) -> Result<PlanTemplate> {
        Err(crate::not_ported("TemplateStore::template"))
    }

    async fn templates(&self, tenant: TenantId) -> Result<Vec<PlanTemplate>> {
        Err(crate::not_ported("TemplateStore::templates"))
    }

    async fn templates_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<PlanTemplate>> {
        Err(crate::not_ported("TemplateStore::templates_page"))
    }

    async fn create_portal_with_plan(
        &self,
        portal: &Portal,
        phases: &[Phase],
        tasks: &[Task],
        activity: &[ActivityEntry],
    ) -> Result<()> {
        Err(crate::not_ported("TemplateStore::create_portal_with_plan"))
    }
}

/// A tenant's templates oldest first, by key (see [`crate::codec::PageQuery`]).
pub(crate) const TEMPLATE_PAGE: crate::codec::PageQuery = crate::codec::PageQuery {
    first: "SELECT id, tenant_id, name, version, plan, created_at, updated_at, seq
            FROM plan_templates WHERE tenant_id = $1 ORDER BY created_at, seq LIMIT $2",
    after: "SELECT id, tenant_id, name, version, plan, created_at, updated_at, seq
            FROM plan_templates WHERE tenant_id = $1 AND (created_at, seq) > ($2, $3)
            ORDER BY created_at, seq LIMIT $4",
    width: 7,
};
