//! Edits of the versioned records of the staff side that are not part of a plan: a
//! portal's own fields (name, target date, status, branding) and the tenant's settings
//! (name, notification recipients, branding, base URL, sender). A caller may name the version it saw;
//! the store compares it inside the unit of each change (`Stale` otherwise), so two
//! staff members editing at once never silently overwrite each other.

use chrono::NaiveDate;

use super::staff::MAX_RECIPIENTS;
use super::{MAX_NAME, PortalService};
use crate::error::{Error, Result};
use crate::ids::PortalId;
use crate::model::{
    Branding, EmailAddress, Portal, PortalStatus, Sender, Tenant, TenantBaseUrl,
    check_expected_version, clean_label,
};
use crate::staff::{StaffContext, StaffRole};
use crate::store::{PortalEdit, TenantEdit};
use crate::workflow::{ActivityEntry, ActivityKind};

/// What one staff request changes of a portal's own fields; `None` keeps a field.
/// Renaming and the target date are a member's; status and branding an admin's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortalUpdate {
    /// A new client company name.
    pub client_name: Option<String>,
    /// A new target go-live date (`Some(None)` clears it).
    pub target_date: Option<Option<NaiveDate>>,
    /// A new lifecycle status.
    pub status: Option<PortalStatus>,
    /// New branding for this portal.
    pub branding: Option<Branding>,
}

/// What one admin request changes of the tenant's settings; `None` keeps a setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantUpdate {
    /// The MSP's own name.
    pub name: Option<String>,
    /// Who is emailed about client messages (raw addresses, parsed here).
    pub notification_recipients: Option<Vec<String>>,
    /// The branding defaults of portals created from now on.
    pub branding: Option<Branding>,
    /// The tenant's own public base URL (raw, parsed here by
    /// [`TenantBaseUrl::parse`]); `Some(None)` goes back to the host's.
    pub base_url: Option<Option<String>>,
    /// Who the tenant's emails come from (validated by [`Sender::new`]);
    /// `Some(None)` goes back to the host's configured sender.
    pub sender: Option<Option<Sender>>,
}

impl PortalUpdate {
    /// Refuses the whole update if the staff member may not make one of its changes.
    fn require_roles(&self, staff: &StaffContext) -> Result<()> {
        staff.require(StaffRole::Member, "changing a portal")?;
        if self.status.is_some() {
            staff.require(StaffRole::Admin, "changing a portal's status")?;
        }
        if self.branding.is_some() {
            staff.require(StaffRole::Admin, "changing a portal's branding")?;
        }
        Ok(())
    }
}

impl PortalService {
    /// Changes a portal's own fields. With `expected`, the portal must still be at
    /// that version (`Stale` otherwise, nothing written). Every field is checked
    /// (roles, names) before anything is written; then every changed field, each
    /// with its feed entry, is written in ONE store unit
    /// ([`DirectoryStore::edit_portal_fields`](crate::store::DirectoryStore::edit_portal_fields)):
    /// one version step, and a refusal (a stale version, a field the store refuses)
    /// writes none of them. Returns the portal as stored.
    pub async fn update_portal(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        update: PortalUpdate,
        expected: Option<u64>,
    ) -> Result<Portal> {
        update.require_roles(staff)?;
        let name = update
            .client_name
            .as_deref()
            .map(|n| clean_label("client name", n, MAX_NAME))
            .transpose()?;
        let current = self.staff_portal(staff, portal).await?;
        let shown_name = name.clone().unwrap_or_else(|| current.client_name.clone());
        let mut edits: Vec<(PortalEdit, ActivityEntry)> = Vec::new();
        if let Some(name) = name {
            let entry = self.staff_entry(staff, portal, ActivityKind::PortalRenamed, &name, None);
            edits.push((PortalEdit::Rename(name), entry));
        }
        if let Some(date) = update.target_date {
            let detail = Some(date.map_or_else(|| "none".to_owned(), |d| d.to_string()));
            let entry = self.staff_entry(
                staff,
                portal,
                ActivityKind::TargetDateSet,
                &shown_name,
                detail,
            );
            edits.push((PortalEdit::TargetDate(date), entry));
        }
        if let Some(status) = update.status {
            let entry = self.staff_entry(
                staff,
                portal,
                ActivityKind::PortalStatusChanged,
                status.as_str(),
                None,
            );
            edits.push((PortalEdit::Status(status), entry));
        }
        if let Some(branding) = update.branding {
            let entry = self.staff_entry(
                staff,
                portal,
                ActivityKind::BrandingChanged,
                &branding.company_name,
                None,
            );
            edits.push((PortalEdit::Branding(branding), entry));
        }
        if edits.is_empty() {
            check_expected_version("portal", current.version, expected)?;
            return Ok(current);
        }
        // One unit for every field: one version step, all or nothing.
        self.inner
            .store
            .edit_portal_fields(portal, &edits, expected)
            .await
    }

    /// Changes the staff member's tenant's settings (admin). With `expected`, the
    /// settings must still be at that version (`Stale` otherwise, nothing written).
    /// Every setting is checked (roles, names, addresses, the base URL) before
    /// anything is written; then every changed setting is written in ONE store unit
    /// ([`DirectoryStore::edit_tenant_settings`](crate::store::DirectoryStore::edit_tenant_settings)):
    /// one version step, and a refusal (a stale version, a host another tenant has)
    /// writes none of them. Returns the tenant as stored.
    pub async fn update_tenant(
        &self,
        staff: &StaffContext,
        update: TenantUpdate,
        expected: Option<u64>,
    ) -> Result<Tenant> {
        staff.require(StaffRole::Admin, "changing the account settings")?;
        let mut edits = Vec::new();
        if let Some(name) = &update.name {
            edits.push(TenantEdit::Rename(clean_label("name", name, MAX_NAME)?));
        }
        if let Some(recipients) = &update.notification_recipients {
            let mut list: Vec<EmailAddress> = Vec::with_capacity(recipients.len());
            for raw in recipients {
                let email = EmailAddress::parse(raw)?;
                if !list.contains(&email) {
                    list.push(email);
                }
            }
            if list.len() > MAX_RECIPIENTS {
                return Err(Error::invalid(
                    "recipients",
                    format!("give at most {MAX_RECIPIENTS} addresses"),
                ));
            }
            edits.push(TenantEdit::NotificationRecipients(list));
        }
        if let Some(branding) = update.branding {
            edits.push(TenantEdit::Branding(branding));
        }
        if let Some(url) = update.base_url {
            let url = url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(TenantBaseUrl::parse)
                .transpose()?;
            edits.push(TenantEdit::BaseUrl(url));
        }
        if let Some(sender) = update.sender {
            edits.push(TenantEdit::Sender(sender));
        }
        if edits.is_empty() {
            let current = self.inner.store.tenant(staff.tenant).await?;
            check_expected_version("account settings", current.version, expected)?;
            return Ok(current);
        }
        // One unit for every setting: one version step, all or nothing (a host
        // another tenant has refuses the whole PATCH).
        self.inner
            .store
            .edit_tenant_settings(staff.tenant, &edits, expected)
            .await
    }
}
