//! Onboarding plan templates for MSP staff: create, edit, copy and list a tenant's
//! templates, and make a new portal from one in a single unit.
//!
//! Every use case takes a [`StaffContext`]: templates are the tenant's (another
//! tenant's are `NotFound(Template)`), and members may manage them (they run
//! onboarding).

use chrono::NaiveDate;

use super::{MAX_NAME, PortalService};
use crate::error::Result;
use crate::ids::{PortalId, TemplateId};
use crate::model::{Portal, PortalStatus, clean_label};
use crate::staff::{StaffContext, StaffRole};
use crate::store::{Page, PageKey};
use crate::workflow::template::{PlanTemplate, TemplatePhase};
use crate::workflow::{ActivityEntry, ActivityKind};

impl PortalService {
    fn template_staff(&self, staff: &StaffContext) -> Result<()> {
        staff.require(StaffRole::Member, "managing plan templates")
    }

    /// Creates a template of `staff`'s tenant (validated whole).
    pub async fn create_template(
        &self,
        staff: &StaffContext,
        name: &str,
        phases: Vec<TemplatePhase>,
    ) -> Result<PlanTemplate> {
        self.template_staff(staff)?;
        let now = self.inner.clock.now();
        let template = PlanTemplate {
            id: TemplateId::random(self.inner.random.as_ref()),
            tenant_id: staff.tenant,
            name: name.to_owned(),
            version: crate::model::first_version(),
            phases,
            created_at: now,
            updated_at: now,
        }
        .validate()?;
        self.inner.store.create_template(&template).await?;
        Ok(template)
    }

    /// Replaces a template's name and plan, from the version the caller saw
    /// (`Stale` if someone changed it since).
    pub async fn edit_template(
        &self,
        staff: &StaffContext,
        id: TemplateId,
        expected: u64,
        name: &str,
        phases: Vec<TemplatePhase>,
    ) -> Result<PlanTemplate> {
        self.template_staff(staff)?;
        let current = self.inner.store.template(staff.tenant, id).await?;
        let template = PlanTemplate {
            name: name.to_owned(),
            phases,
            version: expected.saturating_add(1),
            updated_at: self.inner.clock.now(),
            ..current
        }
        .validate()?;
        self.inner
            .store
            .replace_template(&template, expected)
            .await?;
        Ok(template)
    }

    /// Copies a template under a new name (a new template at version 1).
    pub async fn copy_template(
        &self,
        staff: &StaffContext,
        id: TemplateId,
        name: &str,
    ) -> Result<PlanTemplate> {
        self.template_staff(staff)?;
        let source = self.inner.store.template(staff.tenant, id).await?;
        self.create_template(staff, name, source.phases).await
    }

    /// One template of `staff`'s tenant.
    pub async fn template(&self, staff: &StaffContext, id: TemplateId) -> Result<PlanTemplate> {
        self.template_staff(staff)?;
        self.inner.store.template(staff.tenant, id).await
    }

    /// One page of `staff`'s tenant's templates, oldest first (by creation, so a
    /// rename between two page reads moves nothing): at most `limit` after `after`,
    /// read by key in the store (see [`Page`]).
    pub async fn templates(
        &self,
        staff: &StaffContext,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<PlanTemplate>> {
        self.template_staff(staff)?;
        self.inner
            .store
            .templates_page(staff.tenant, after, limit)
            .await
    }

    /// Creates a portal for `client_name` with the template's plan, due dates counted
    /// from `start_date`, in one unit (the portal never exists without its plan), with
    /// `status` (a host usually makes a draft, adds contacts and opens it when ready;
    /// one that opens it at once needs no second call, as with
    /// [`Self::create_portal`], and like it: a draft is any staff member's, another
    /// status the admin's). The feed records who made it from which template.
    pub async fn create_portal_from_template(
        &self,
        staff: &StaffContext,
        template: TemplateId,
        client_name: &str,
        start_date: NaiveDate,
        status: PortalStatus,
    ) -> Result<Portal> {
        self.template_staff(staff)?;
        super::require_opening_role(staff, status)?;
        let template = self.inner.store.template(staff.tenant, template).await?;
        let tenant = self.inner.store.tenant(staff.tenant).await?;
        let now = self.inner.clock.now();
        let portal = Portal {
            id: PortalId::random(self.inner.random.as_ref()),
            tenant_id: tenant.id,
            client_name: clean_label("client name", client_name, MAX_NAME)?,
            status,
            branding: tenant.branding,
            created_at: now,
            target_date: None,
            version: crate::model::first_version(),
            colleague_invitations: Default::default(),
        };
        let (phases, tasks) =
            template.instantiate(portal.id, start_date, now, self.inner.random.as_ref())?;
        let created = ActivityEntry {
            portal_id: portal.id,
            at: now,
            actor: staff.actor(),
            kind: ActivityKind::PlanApplied,
            task_id: None,
            subject: template.name.clone(),
            detail: Some(format!("starting {start_date}")),
        };
        self.inner
            .store
            .create_portal_with_plan(&portal, &phases, &tasks, &[created])
            .await?;
        Ok(portal)
    }
}
