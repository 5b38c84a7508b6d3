//! [`DirectoryStore`] for [`MemoryStore`]: tenants, portals, contacts, the plan, logos.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{MemoryStore, Seq, not_found, oldest_first, oldest_page};
use crate::error::{Entity, Error, Result};
use crate::ids::{BlobId, ContactId, PhaseId, PortalId, TenantId};
use crate::model::{Contact, Logo, Phase, Portal, PortalSnapshot, PortalStatus, Task, Tenant};
use crate::store::{ContactEdit, DirectoryStore, Erasure, Page, PageKey, PortalEdit, TenantEdit};
use crate::workflow::ActivityEntry;

#[async_trait]
impl DirectoryStore for MemoryStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.with(|st| {
            if st.tenants.contains_key(&tenant.id) {
                return Err(Error::conflict("tenant id already exists"));
            }
            if let Some(url) = &tenant.base_url {
                host_free(st, url, None)?;
            }
            let seq = st.seq();
            st.tenants.insert(
                tenant.id,
                Seq {
                    seq,
                    value: Tenant {
                        version: crate::model::first_version(),
                        ..tenant.clone()
                    },
                },
            );
            Ok(())
        })
    }

    async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        self.with(|st| {
            st.tenants
                .get(&id)
                .map(|t| t.value.clone())
                .ok_or_else(|| not_found(Entity::Tenant))
        })
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        self.with(|st| {
            Ok(oldest_first(
                st.tenants
                    .values()
                    .map(|t| (t.value.created_at, t.seq, t.value.clone())),
            ))
        })
    }

    async fn create_portal(&self, portal: &Portal, activity: Option<&ActivityEntry>) -> Result<()> {
        self.with(|st| {
            if st.portals.contains_key(&portal.id) {
                return Err(Error::conflict("portal id already exists"));
            }
            if !st.tenants.contains_key(&portal.tenant_id) {
                return Err(not_found(Entity::Tenant));
            }
            if let Some(entry) = activity {
                entry.ensure_portal(portal.id)?;
                st.activity.push(entry.clone());
            }
            let seq = st.seq();
            st.portals.insert(
                portal.id,
                Seq {
                    seq,
                    value: Portal {
                        version: crate::model::first_version(),
                        ..portal.clone()
                    },
                },
            );
            Ok(())
        })
    }

    async fn portal(&self, id: PortalId) -> Result<Portal> {
        self.with(|st| {
            st.portals
                .get(&id)
                .map(|p| p.value.clone())
                .ok_or_else(|| not_found(Entity::Portal))
        })
    }

    async fn portals(&self, tenant: TenantId) -> Result<Vec<Portal>> {
        self.with(|st| {
            Ok(oldest_first(
                st.portals
                    .values()
                    .filter(|p| p.value.tenant_id == tenant)
                    .map(|p| (p.value.created_at, p.seq, p.value.clone())),
            ))
        })
    }

    async fn portals_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Portal>> {
        self.with(|st| {
            Ok(oldest_page(
                st.portals
                    .values()
                    .filter(|p| p.value.tenant_id == tenant)
                    .map(|p| (p.value.created_at, p.seq, p.value.clone())),
                after,
                limit,
            ))
        })
    }

    async fn set_portal_status(&self, portal: PortalId, status: PortalStatus) -> Result<()> {
        self.with(|st| {
            let p = st
                .portals
                .get_mut(&portal)
                .ok_or_else(|| not_found(Entity::Portal))?;
            p.value.status = status;
            p.value.version += 1;
            Ok(())
        })
    }

    async fn add_contact(&self, contact: &Contact, activity: Option<&ActivityEntry>) -> Result<()> {
        self.with(|st| {
            if st.contacts.contains_key(&contact.id) {
                return Err(Error::conflict("contact id already exists"));
            }
            if !st.portals.contains_key(&contact.portal_id) {
                return Err(not_found(Entity::Portal));
            }
            if st
                .contacts
                .values()
                .any(|c| c.value.portal_id == contact.portal_id && c.value.email == contact.email)
            {
                return Err(Error::conflict(
                    "a contact with this email already exists in this portal",
                ));
            }
            if let Some(entry) = activity {
                entry.ensure_portal(contact.portal_id)?;
                st.activity.push(entry.clone());
            }
            let seq = st.seq();
            st.contacts.insert(
                contact.id,
                Seq {
                    seq,
                    value: contact.clone(),
                },
            );
            Ok(())
        })
    }

    async fn contact(&self, id: ContactId) -> Result<Contact> {
        self.with(|st| st.contact(id).cloned())
    }

    async fn contacts(&self, portal: PortalId) -> Result<Vec<Contact>> {
        self.with(|st| {
            Ok(oldest_first(
                st.contacts
                    .values()
                    .filter(|c| c.value.portal_id == portal)
                    .map(|c| (c.value.created_at, c.seq, c.value.clone())),
            ))
        })
    }

    async fn contacts_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Contact>> {
        self.with(|st| {
            Ok(oldest_page(
                st.contacts
                    .values()
                    .filter(|c| c.value.portal_id == portal)
                    .map(|c| (c.value.created_at, c.seq, c.value.clone())),
                after,
                limit,
            ))
        })
    }

    async fn add_phase(
        &self,
        portal: PortalId,
        id: PhaseId,
        name: &str,
        activity: Option<&ActivityEntry>,
    ) -> Result<Phase> {
        self.with(|st| {
            if st.phases.contains_key(&id) {
                return Err(Error::conflict("phase id already exists"));
            }
            if !st.portals.contains_key(&portal) {
                return Err(not_found(Entity::Portal));
            }
            let count = st.phases.values().filter(|p| p.portal_id == portal).count();
            let position = u32::try_from(count)
                .map_err(|_| Error::conflict("too many phases in this portal"))?;
            if let Some(entry) = activity {
                entry.ensure_portal(portal)?;
                st.activity.push(entry.clone());
            }
            let phase = Phase {
                id,
                portal_id: portal,
                position,
                name: name.to_owned(),
                version: crate::model::first_version(),
            };
            st.phases.insert(id, phase.clone());
            Ok(phase)
        })
    }

    async fn add_task(&self, task: &Task, activity: Option<&ActivityEntry>) -> Result<Task> {
        self.with(|st| {
            if st.tasks.contains_key(&task.id) {
                return Err(Error::conflict("task id already exists"));
            }
            if !st.portals.contains_key(&task.portal_id) {
                return Err(not_found(Entity::Portal));
            }
            match st.phases.get(&task.phase_id) {
                Some(phase) if phase.portal_id == task.portal_id => {}
                _ => return Err(not_found(Entity::Phase)),
            }
            let count = st
                .tasks
                .values()
                .filter(|t| t.phase_id == task.phase_id)
                .count();
            let position = u32::try_from(count)
                .map_err(|_| Error::conflict("too many tasks in this phase"))?;
            if let Some(entry) = activity {
                entry.ensure_portal(task.portal_id)?;
                st.activity.push(entry.clone());
            }
            let task = Task {
                position,
                ..task.clone()
            };
            st.tasks.insert(task.id, task.clone());
            Ok(task)
        })
    }

    async fn put_logo(&self, logo: &Logo) -> Result<()> {
        let key = logo.reference().sha256;
        self.with(|st| {
            st.logos.entry(key).or_insert_with(|| logo.clone());
            Ok(())
        })
    }

    async fn logo(&self, sha256: &str) -> Result<Logo> {
        self.with(|st| {
            st.logos
                .get(sha256)
                .cloned()
                .ok_or_else(|| not_found(Entity::Logo))
        })
    }

    async fn portal_team(&self, portal: PortalId) -> Result<crate::model::OnboardingTeam> {
        self.with(|st| {
            if !st.portals.contains_key(&portal) {
                return Err(not_found(Entity::Portal));
            }
            Ok(st.teams.get(&portal).cloned().unwrap_or_default())
        })
    }

    async fn portal_snapshot(&self, portal: PortalId) -> Result<PortalSnapshot> {
        self.with(|st| {
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
            let phase_pos: HashMap<PhaseId, u32> =
                phases.iter().map(|ph| (ph.id, ph.position)).collect();
            let mut tasks: Vec<Task> = st
                .tasks
                .values()
                .filter(|t| t.portal_id == portal)
                .cloned()
                .collect();
            tasks.sort_by_key(|t| (phase_pos.get(&t.phase_id).copied(), t.position));
            Ok(PortalSnapshot {
                portal: p,
                phases,
                tasks,
            })
        })
    }

    /// The plainest reading of the contract: a fingerprint (SHA-256 of the JSON) of
    /// everything the home is built from, so it changes exactly when that content
    /// does. Each part is one unit; a write landing between two of them gives a
    /// value for a mix that is never older than what the caller reads next.
    async fn home_version(&self, portal: PortalId) -> Result<Option<u64>> {
        use sha2::Digest as _;
        let snapshot = self.portal_snapshot(portal).await?;
        let contacts = self.contacts(portal).await?;
        let team = self.portal_team(portal).await?;
        let feed = crate::store::WorkflowStore::activity(self, portal, usize::MAX).await?;
        let json = serde_json::to_vec(&(
            &snapshot.portal,
            &snapshot.phases,
            &snapshot.tasks,
            &contacts,
            &team,
            &feed,
        ))
        .map_err(|e| Error::storage("fingerprinting a portal's home", e))?;
        let digest = sha2::Sha256::digest(&json);
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        Ok(Some(u64::from_le_bytes(first)))
    }

    async fn edit_portal(
        &self,
        portal: PortalId,
        edit: &PortalEdit,
        expected: Option<u64>,
        activity: &ActivityEntry,
    ) -> Result<Portal> {
        self.edit_portal_fields(portal, &[(edit.clone(), activity.clone())], expected)
            .await
    }

    async fn edit_portal_fields(
        &self,
        portal: PortalId,
        edits: &[(PortalEdit, ActivityEntry)],
        expected: Option<u64>,
    ) -> Result<Portal> {
        self.with(|st| {
            let stored = st
                .portals
                .get(&portal)
                .map(|p| p.value.version)
                .ok_or_else(|| not_found(Entity::Portal))?;
            crate::model::check_expected_version("portal", stored, expected)?;
            if edits.is_empty() {
                return Err(Error::invalid("edits", "give at least one change"));
            }
            // Every check before the first write: all or nothing.
            for (edit, activity) in edits {
                activity.ensure_portal(portal)?;
                if !matches!(
                    edit,
                    PortalEdit::Rename(_)
                        | PortalEdit::TargetDate(_)
                        | PortalEdit::Status(_)
                        | PortalEdit::Branding(_)
                        | PortalEdit::Team(_)
                        | PortalEdit::ColleagueInvitations(_)
                ) {
                    return Err(Error::storage_msg("an edit this store does not know"));
                }
            }
            let p = st
                .portals
                .get_mut(&portal)
                .ok_or_else(|| not_found(Entity::Portal))?;
            for (edit, _) in edits {
                match edit {
                    PortalEdit::Rename(name) => p.value.client_name.clone_from(name),
                    PortalEdit::TargetDate(date) => p.value.target_date = *date,
                    PortalEdit::Status(status) => p.value.status = *status,
                    PortalEdit::Branding(branding) => p.value.branding = branding.clone(),
                    PortalEdit::Team(_) => {}
                    PortalEdit::ColleagueInvitations(mode) => p.value.colleague_invitations = *mode,
                }
            }
            p.value.version += 1;
            let edited = p.value.clone();
            // The team lives beside the portal record, written in the same lock.
            for (edit, _) in edits {
                if let PortalEdit::Team(team) = edit {
                    st.teams.insert(portal, team.clone());
                }
            }
            for (_, activity) in edits {
                st.activity.push(activity.clone());
            }
            Ok(edited)
        })
    }

    async fn edit_contact(
        &self,
        contact: ContactId,
        edit: &ContactEdit,
        expected: Option<&str>,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        self.with(|st| {
            let stored = st
                .contacts
                .get(&contact)
                .ok_or_else(|| not_found(Entity::Contact))?;
            let portal = stored.value.portal_id;
            if expected.is_some_and(|tag| tag != stored.value.content_tag()) {
                return Err(Error::stale(
                    "this contact was changed by someone else since you opened it",
                ));
            }
            activity.ensure_portal(portal)?;
            if st.contacts.values().any(|c| {
                c.value.portal_id == portal && c.value.id != contact && c.value.email == edit.email
            }) {
                return Err(Error::conflict(
                    "a contact with this email already exists in this portal",
                ));
            }
            let c = st
                .contacts
                .get_mut(&contact)
                .ok_or_else(|| not_found(Entity::Contact))?;
            c.value.name.clone_from(&edit.name);
            c.value.email = edit.email.clone();
            c.value.role.clone_from(&edit.role);
            c.value.language = edit.language;
            let stored = c.value.clone();
            st.activity.push(activity.clone());
            Ok(stored)
        })
    }

    async fn edit_tenant(
        &self,
        tenant: TenantId,
        edit: &TenantEdit,
        expected: Option<u64>,
    ) -> Result<Tenant> {
        self.edit_tenant_settings(tenant, std::slice::from_ref(edit), expected)
            .await
    }

    async fn edit_tenant_settings(
        &self,
        tenant: TenantId,
        edits: &[TenantEdit],
        expected: Option<u64>,
    ) -> Result<Tenant> {
        self.with(|st| {
            let stored = st
                .tenants
                .get(&tenant)
                .map(|t| t.value.version)
                .ok_or_else(|| not_found(Entity::Tenant))?;
            crate::model::check_expected_version("account settings", stored, expected)?;
            if edits.is_empty() {
                return Err(Error::invalid("edits", "give at least one change"));
            }
            // Every check before the first write: all or nothing.
            for edit in edits {
                match edit {
                    TenantEdit::BaseUrl(Some(url)) => host_free(st, url, Some(tenant))?,
                    TenantEdit::Rename(_)
                    | TenantEdit::NotificationRecipients(_)
                    | TenantEdit::Branding(_)
                    | TenantEdit::BaseUrl(None)
                    | TenantEdit::Sender(_) => {}
                }
            }
            let t = st
                .tenants
                .get_mut(&tenant)
                .ok_or_else(|| not_found(Entity::Tenant))?;
            for edit in edits {
                match edit {
                    TenantEdit::Rename(name) => t.value.name.clone_from(name),
                    TenantEdit::NotificationRecipients(list) => {
                        t.value.notification_recipients.clone_from(list);
                    }
                    TenantEdit::Branding(branding) => t.value.branding = branding.clone(),
                    TenantEdit::BaseUrl(url) => t.value.base_url.clone_from(url),
                    TenantEdit::Sender(sender) => t.value.sender.clone_from(sender),
                }
            }
            t.value.version += 1;
            Ok(t.value.clone())
        })
    }

    async fn delete_portal(&self, portal: PortalId, erasure: &Erasure) -> Result<Vec<BlobId>> {
        self.with(|st| {
            let p = st
                .portals
                .get(&portal)
                .map(|p| p.value.clone())
                .ok_or_else(|| not_found(Entity::Portal))?;
            if erasure.portal_id != portal || erasure.tenant_id != p.tenant_id {
                return Err(Error::invalid(
                    "erasure",
                    "must name the deleted portal and its tenant",
                ));
            }
            let contacts: Vec<ContactId> = st
                .contacts
                .values()
                .filter(|c| c.value.portal_id == portal)
                .map(|c| c.value.id)
                .collect();
            for contact in contacts {
                st.erase_contact(contact);
            }
            st.portals.remove(&portal);
            st.teams.remove(&portal);
            st.reminder_settings.remove(&portal);
            st.escalations.remove(&portal);
            st.phases.retain(|_, ph| ph.portal_id != portal);
            st.tasks.retain(|_, t| t.portal_id != portal);
            st.credentials.retain(|_, c| c.portal_id != portal);
            // The drawn images' blobs go with the other files' (below).
            let images: Vec<crate::ids::BlobId> = st
                .signatures
                .values()
                .filter(|s| s.portal_id == portal)
                .filter_map(|s| match &s.mark {
                    crate::signatures::SignatureMark::Drawn(image) => Some(image.blob),
                    crate::signatures::SignatureMark::Typed(_) => None,
                })
                .collect();
            st.signatures.retain(|_, s| s.portal_id != portal);
            st.access_log.retain(|e| e.portal_id != portal);
            st.comments.retain(|c| c.value.portal_id != portal);
            st.questions.retain(|_, q| q.value.portal_id != portal);
            st.activity.retain(|a| a.portal_id != portal);
            st.webhooks.erase_portal(portal);
            let audit_head = st
                .audit
                .remove(&portal)
                .and_then(|chain| chain.last().map(crate::audit::ChainedEvent::head));
            let blobs = st
                .files
                .values()
                .filter(|f| f.value.portal_id == portal)
                .map(|f| f.value.blob)
                .chain(
                    st.drops
                        .values()
                        .filter(|d| d.value.portal_id == portal && !d.value.bytes_removed)
                        .map(|d| d.value.blob),
                )
                .chain(
                    st.signature_documents
                        .values()
                        .filter(|d| d.portal_id == portal)
                        .map(|d| d.blob),
                )
                .chain(images)
                .chain(
                    st.attachments
                        .values()
                        .filter(|a| a.value.portal_id == portal)
                        .map(|a| a.value.blob),
                )
                .collect();
            st.signature_documents.retain(|_, d| d.portal_id != portal);
            st.attachments.retain(|_, a| a.value.portal_id != portal);
            st.document_opens.retain(|o| o.portal_id != portal);
            st.files.retain(|_, f| f.value.portal_id != portal);
            st.drops.retain(|_, d| d.value.portal_id != portal);
            st.outbox.retain(|_, m| m.value.portal_id != Some(portal));
            st.erasures.push(Erasure {
                audit_head,
                ..erasure.clone()
            });
            Ok(blobs)
        })
    }

    async fn erasures(&self, tenant: TenantId) -> Result<Vec<Erasure>> {
        self.with(|st| {
            Ok(st
                .erasures
                .iter()
                .rev()
                .filter(|e| e.tenant_id == tenant)
                .cloned()
                .collect())
        })
    }
}

/// `Conflict` if a tenant other than `own` has a base URL on `url`'s host.
fn host_free(
    st: &super::State,
    url: &crate::model::TenantBaseUrl,
    own: Option<TenantId>,
) -> Result<()> {
    let taken = st.tenants.values().any(|t| {
        Some(t.value.id) != own
            && t.value
                .base_url
                .as_ref()
                .is_some_and(|u| u.host() == url.host())
    });
    if taken {
        return Err(Error::conflict(
            "another account already uses this host name for its portal",
        ));
    }
    Ok(())
}
