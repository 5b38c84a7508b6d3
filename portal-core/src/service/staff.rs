//! The MSP's lists and settings: portals with their progress, contacts with their
//! last access, invite links for hosts that send their own email, and edits of
//! portals, contacts and tenant settings. Every use case takes a [`StaffContext`] and
//! is scoped by its tenant like the rest of the staff side.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{MAX_NAME, PortalService};
use crate::error::{Error, Result};
use crate::ids::{ContactId, PortalId};
use crate::model::{Contact, EmailAddress, Portal, Progress, Tenant, clean_label};
use crate::secret::InviteToken;
use crate::staff::{StaffContext, StaffRole};
use crate::store::{AccessEvent, ContactEdit, Erasure, Page, PageKey};
use crate::workflow::{ActivityEntry, ActivityKind};

/// How many access-log entries of a portal are read to find its contacts' last
/// access: enough for months of a portal's use; a contact whose last access is older
/// than the newest this many entries shows none.
const LAST_ACCESS_WINDOW: usize = 10_000;

/// Most notification recipients a tenant may have (each client message emails all).
pub const MAX_RECIPIENTS: usize = 20;

/// A staff edit of a contact ([`PortalService::change_contact`]): name and email
/// (required), role and language (`None`: keep what the contact has).
#[derive(Debug, Clone, Copy)]
pub struct ContactChange<'a> {
    /// The name.
    pub name: &'a str,
    /// The email address.
    pub email: &'a str,
    /// `None` keeps the role; `Some("")` clears it.
    pub role: Option<&'a str>,
    /// `None` keeps the language; `Some(None)` clears it (pages follow the
    /// browser's `Accept-Language`).
    pub language: Option<Option<crate::i18n::Language>>,
}

/// A portal as the MSP's portal list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSummary {
    /// The portal (name, status, target go-live date, branding).
    pub portal: Portal,
    /// Completed and total tasks of its plan.
    pub progress: Progress,
}

/// A contact as the MSP's contact list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactSummary {
    /// The contact (name, email, revoked or not).
    pub contact: Contact,
    /// The last time they signed in or used the portal, if they have (within the
    /// newest entries of the portal's access log).
    pub last_access: Option<DateTime<Utc>>,
}

/// A fresh invite link, for a host that emails it itself. The token is shown once;
/// only its hash is stored. Debug output leaves both out.
#[derive(Clone)]
pub struct InviteLink {
    /// The invite token.
    pub token: InviteToken,
    /// The full link, as the invite email would carry it.
    pub url: String,
}

impl std::fmt::Debug for InviteLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteLink(<redacted>)")
    }
}

impl PortalService {
    /// One page of the staff member's tenant's portals, oldest first, with their
    /// progress: at most `limit` after `after` (from the first when `None`), read by
    /// key in the store, so a portal created or deleted between two page reads never
    /// repeats or hides another (see [`Page`]).
    pub async fn list_portals(
        &self,
        staff: &StaffContext,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<PortalSummary>> {
        staff.require(StaffRole::Member, "listing portals")?;
        let page = self
            .inner
            .store
            .portals_page(staff.tenant, after, limit)
            .await?;
        let mut out = Vec::with_capacity(page.items.len());
        for portal in page.items {
            let snapshot = self.inner.store.portal_snapshot(portal.id).await?;
            out.push(PortalSummary {
                progress: Progress::of(&snapshot.tasks),
                portal: snapshot.portal,
            });
        }
        Ok(Page {
            items: out,
            next: page.next,
        })
    }

    /// One page of a portal's contacts, oldest first, each with their last access:
    /// at most `limit` after `after`, read by key in the store (see [`Page`]).
    pub async fn list_contacts(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<ContactSummary>> {
        staff.require(StaffRole::Member, "listing contacts")?;
        let portal = self.staff_portal(staff, portal).await?;
        let page = self
            .inner
            .store
            .contacts_page(portal.id, after, limit)
            .await?;
        let mut last: HashMap<ContactId, DateTime<Utc>> = HashMap::new();
        if !page.items.is_empty() {
            let log = self
                .inner
                .store
                .access_log(portal.id, LAST_ACCESS_WINDOW)
                .await?;
            for entry in log {
                if matches!(
                    entry.event,
                    AccessEvent::Verified | AccessEvent::PortalRequest
                ) {
                    let at = last.entry(entry.contact_id).or_insert(entry.at);
                    *at = (*at).max(entry.at);
                }
            }
        }
        Ok(page.map(|contact| ContactSummary {
            last_access: last.get(&contact.id).copied(),
            contact,
        }))
    }

    /// Issues a new invite link for a contact WITHOUT emailing it, for a host that
    /// sends its own email: like [`Self::invite_contact`], the new link kills the
    /// contact's previous one (sessions keep working).
    pub async fn invite_link(
        &self,
        staff: &StaffContext,
        contact: ContactId,
    ) -> Result<InviteLink> {
        staff.require(StaffRole::Member, "issuing an invite link")?;
        let (target, portal) = self.staff_contact(staff, contact).await?;
        let token = InviteToken::generate(self.inner.random.as_ref());
        // The entry says a link was issued, never which: the feed is no place for it.
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::InviteLinkIssued,
            &target.name,
            None,
        );
        self.inner
            .store
            .issue_invite(
                contact,
                &token.hash(),
                self.inner.clock.now(),
                &[],
                Some(&activity),
            )
            .await?;
        let acting = self.acting_for(portal.tenant_id, Some(portal.id)).await?;
        let url = self.inner.links.invite_url(&acting, &token);
        Ok(InviteLink { token, url })
    }

    /// Renames a portal (the client company's name).
    pub async fn rename_portal(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        client_name: &str,
    ) -> Result<Portal> {
        staff.require(StaffRole::Member, "renaming a portal")?;
        let update = super::PortalUpdate {
            client_name: Some(client_name.to_owned()),
            ..super::PortalUpdate::default()
        };
        self.update_portal(staff, portal, update, None).await
    }

    /// Sets (or with `None` clears) a portal's target go-live date.
    pub async fn set_target_date(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        date: Option<NaiveDate>,
    ) -> Result<Portal> {
        staff.require(StaffRole::Member, "setting a target date")?;
        let update = super::PortalUpdate {
            target_date: Some(date),
            ..super::PortalUpdate::default()
        };
        self.update_portal(staff, portal, update, None).await
    }

    /// Corrects a contact's name and email, and sets its role: `role: None` keeps the
    /// role it has, `Some(raw)` sets it (cleaned by [`crate::workflow::team::clean_role`];
    /// an empty one clears it). A new email must not be another contact's of the same
    /// portal (`Conflict`). With `expected` (a [`Contact::content_tag`] the caller
    /// read), the contact must still be as read (`Stale` otherwise, compared by the
    /// store inside its unit; nothing written). The feed entry names the role, so the
    /// MSP sees who was made the billing contact.
    pub async fn edit_contact(
        &self,
        staff: &StaffContext,
        contact: ContactId,
        name: &str,
        email: &str,
        role: Option<&str>,
        expected: Option<&str>,
    ) -> Result<Contact> {
        let change = ContactChange {
            name,
            email,
            role,
            language: None,
        };
        self.change_contact(staff, contact, &change, expected).await
    }

    /// [`Self::edit_contact`] that may also set or clear the contact's language
    /// (`change.language`: `None` keeps it, `Some(None)` clears it, so the contact's
    /// pages follow the browser again). One store unit writes every field with the
    /// feed entry, which names what changed.
    pub async fn change_contact(
        &self,
        staff: &StaffContext,
        contact: ContactId,
        change: &ContactChange<'_>,
        expected: Option<&str>,
    ) -> Result<Contact> {
        staff.require(StaffRole::Member, "editing a contact")?;
        let name = clean_label("name", change.name, MAX_NAME)?;
        let email = EmailAddress::parse(change.email)?;
        let role = change
            .role
            .map(crate::workflow::team::clean_role)
            .transpose()?;
        let (current, portal) = self.staff_contact(staff, contact).await?;
        let edit = ContactEdit {
            name,
            email,
            role: role.unwrap_or_else(|| current.role.clone()),
            language: change.language.unwrap_or(current.language),
        };
        let mut details = Vec::new();
        match (&current.role, &edit.role) {
            (_, Some(role)) => details.push(format!("role: {role}")),
            (Some(_), None) => details.push("role removed".to_owned()),
            (None, None) => {}
        }
        if edit.language != current.language {
            details.push(match edit.language {
                Some(language) => format!("language: {language}"),
                None => "language: the browser's".to_owned(),
            });
        }
        let detail = (!details.is_empty()).then(|| details.join(", "));
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::ContactEdited,
            &edit.name,
            detail,
        );
        self.inner
            .store
            .edit_contact(contact, &edit, expected, &activity)
            .await
    }

    /// An activity entry of a staff action on `portal` that concerns no task.
    pub(super) fn staff_entry(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        kind: ActivityKind,
        subject: &str,
        detail: Option<String>,
    ) -> ActivityEntry {
        ActivityEntry {
            portal_id: portal,
            at: self.inner.clock.now(),
            actor: staff.actor(),
            kind,
            task_id: None,
            subject: subject.to_owned(),
            detail,
        }
    }

    /// Removes a contact for good (admin): the contact, its invite, verifications,
    /// sessions and access-log entries are deleted at once; the activity feed records
    /// who removed whom, and earlier entries, comments and questions keep the name.
    pub async fn remove_contact(&self, staff: &StaffContext, contact: ContactId) -> Result<()> {
        staff.require(StaffRole::Admin, "removing a contact")?;
        let (target, portal) = self.staff_contact(staff, contact).await?;
        let activity = ActivityEntry {
            portal_id: portal.id,
            at: self.inner.clock.now(),
            actor: staff.actor(),
            kind: ActivityKind::ContactRemoved,
            task_id: None,
            subject: target.name,
            detail: None,
        };
        self.inner.store.remove_contact(contact, &activity).await
    }

    /// Deletes a portal with all of its data and files (admin): every record of it
    /// goes in one store unit that also appends an entry to the tenant's erasure log;
    /// then the files' encrypted content is deleted from the blob store. Returns how
    /// many files' content was deleted. A blob that cannot be deleted is logged (an
    /// orphan of unreadable ciphertext: its record and wrapped key are gone).
    pub async fn delete_portal(&self, staff: &StaffContext, portal: PortalId) -> Result<u64> {
        staff.require(StaffRole::Admin, "deleting a portal")?;
        let portal = self.staff_portal(staff, portal).await?;
        let erasure = Erasure {
            tenant_id: portal.tenant_id,
            portal_id: portal.id,
            client_name: portal.client_name.clone(),
            at: self.inner.clock.now(),
            by: staff.actor(),
            audit_head: None,
        };
        let blobs = self.inner.store.delete_portal(portal.id, &erasure).await?;
        let mut deleted = 0u64;
        for blob in blobs {
            let gone = match &self.inner.files {
                Some(vault) => vault.blobs().delete(blob).await,
                None => Err(Error::storage_msg(
                    "file storage is not configured, so a deleted portal's files stay",
                )),
            };
            match gone {
                Ok(()) => deleted += 1,
                Err(e) => {
                    tracing::error!(blob = %blob, error = %e, "could not delete a deleted portal's file content");
                }
            }
        }
        tracing::info!(portal = %portal.id, files = deleted, "portal deleted");
        Ok(deleted)
    }

    /// The staff member's tenant's erasure log (deleted portals), newest first.
    pub async fn erasure_log(&self, staff: &StaffContext) -> Result<Vec<Erasure>> {
        staff.require(StaffRole::Member, "reading the erasure log")?;
        self.inner.store.erasures(staff.tenant).await
    }

    /// Renames the staff member's tenant (admin; its own name, not the branding).
    pub async fn rename_tenant(&self, staff: &StaffContext, name: &str) -> Result<Tenant> {
        staff.require(StaffRole::Admin, "renaming the account")?;
        let update = super::TenantUpdate {
            name: Some(name.to_owned()),
            ..super::TenantUpdate::default()
        };
        self.update_tenant(staff, update, None).await
    }

    /// Replaces who at the MSP is emailed about client messages (admin). Duplicates
    /// are dropped; at most [`MAX_RECIPIENTS`].
    pub async fn set_notification_recipients(
        &self,
        staff: &StaffContext,
        recipients: &[&str],
    ) -> Result<Tenant> {
        staff.require(StaffRole::Admin, "changing notification recipients")?;
        let update = super::TenantUpdate {
            notification_recipients: Some(recipients.iter().map(|r| (*r).to_owned()).collect()),
            ..super::TenantUpdate::default()
        };
        self.update_tenant(staff, update, None).await
    }
}
