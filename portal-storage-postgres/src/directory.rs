//! [`DirectoryStore`] for [`PostgresStore`]: tenants, portals, contacts, phases, tasks
//! and logos.
//!
//! Every create checks its parent and its id inside the write transaction (so the
//! answer is `NotFound` or `Conflict`, never a half write); positions are taken from
//! the current maximum inside the same transaction, and `SERIALIZABLE` (units rerun on
//! a conflict, see [`crate::tx`]) makes them gap-free under concurrency. The portal
//! snapshot is one read transaction.

use async_trait::async_trait;
use postgres::types::ToSql;

use portal_core::model::{
    Contact, Logo, OnboardingTeam, Phase, Portal, PortalSnapshot, PortalStatus, Task, Tenant,
};
use portal_core::store::{ContactEdit, Erasure, Page, PageKey, PortalEdit, TenantEdit};
use portal_core::workflow::ActivityEntry;
use portal_core::{
    BlobId, ContactId, DirectoryStore, Entity, Error, PhaseId, PortalId, Result, TaskId, TenantId,
};

use crate::PostgresStore;
use crate::codec::{
    self, DbResult, PHASE_COLS, TENANT_COLS, contact_cols, micros, portal_cols, task_cols,
};
use crate::tx::Tx;

/// Whether a query returns a row.
pub(crate) fn exists(tx: &mut Tx<'_>, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<bool> {
    tx.query_opt(sql, params)
        .map(|row| row.is_some())
        .map_err(|e| codec::map_error("checking a record exists", e))
}

/// Whether a portal exists.
pub(crate) fn portal_exists(tx: &mut Tx<'_>, portal: PortalId) -> Result<bool> {
    exists(
        tx,
        "SELECT 1 FROM portals WHERE id = $1",
        &[&&portal.as_bytes()[..]],
    )
}

fn load_portal(tx: &mut Tx<'_>, portal: PortalId) -> Result<Portal> {
    let row = tx
        .query_opt(
            concat!("SELECT ", portal_cols!(), " FROM portals p WHERE p.id = $1"),
            &[&&portal.as_bytes()[..]],
        )
        .db("reading a portal")?
        .ok_or(Error::NotFound {
            entity: Entity::Portal,
        })?;
    codec::portal_at(&row, 0)
}

/// Reads a task through its portal: `NotFound` if it is not in that portal.
pub(crate) fn load_task(tx: &mut Tx<'_>, portal: PortalId, task: TaskId) -> Result<Task> {
    let row = tx
        .query_opt(
            concat!(
                "SELECT ",
                task_cols!(),
                " FROM tasks t WHERE t.id = $1 AND t.portal_id = $2"
            ),
            &[&&task.as_bytes()[..], &&portal.as_bytes()[..]],
        )
        .db("reading a task")?
        .ok_or(Error::NotFound {
            entity: Entity::Task,
        })?;
    codec::task(&row)
}

/// A tenant's portals oldest first, by key `(created_at, rowid)` (see
/// [`codec::PageQuery`]); `portals_by_tenant` leads with the tenant and the time, so
/// a page is one range read of it.
pub(crate) const PORTAL_PAGE: codec::PageQuery = codec::PageQuery {
    first: concat!(
        "SELECT ",
        portal_cols!(),
        ", p.rowid FROM portals p WHERE p.tenant_id = $1 ORDER BY p.created_at, p.rowid LIMIT $2"
    ),
    after: concat!(
        "SELECT ",
        portal_cols!(),
        ", p.rowid FROM portals p WHERE p.tenant_id = $1 AND (p.created_at, p.rowid) > ($2, $3)
         ORDER BY p.created_at, p.rowid LIMIT $4"
    ),
    width: 9,
};

/// A portal's contacts oldest first, by key `(created_at, rowid)` (see
/// [`codec::PageQuery`]), one range read of `contacts_by_portal`.
pub(crate) const CONTACT_PAGE: codec::PageQuery = codec::PageQuery {
    first: concat!(
        "SELECT ",
        contact_cols!(),
        ", c.rowid FROM contacts c WHERE c.portal_id = $1 ORDER BY c.created_at, c.rowid LIMIT $2"
    ),
    after: concat!(
        "SELECT ",
        contact_cols!(),
        ", c.rowid FROM contacts c WHERE c.portal_id = $1 AND (c.created_at, c.rowid) > ($2, $3)
         ORDER BY c.created_at, c.rowid LIMIT $4"
    ),
    width: codec::CONTACT_WIDTH,
};

#[async_trait]
impl DirectoryStore for PostgresStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        let branding = codec::to_json(&tenant.branding)?;
        let recipients = codec::to_json(&tenant.notification_recipients)?;
        let sender = tenant.sender.as_ref().map(codec::to_json).transpose()?;
        let t = tenant.clone();
        self.write(move |tx| {
            if exists(
                tx,
                "SELECT 1 FROM tenants WHERE id = $1",
                &[&&t.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a tenant with this id already exists"));
            }
            if let Some(url) = &t.base_url {
                host_free(tx, url, t.id)?;
            }
            tx.execute(
                "INSERT INTO tenants (id, name, branding, notification_recipients, created_at,
                                      time_zone, base_url, base_host, sender)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &&t.id.as_bytes()[..],
                    &t.name,
                    &branding,
                    &recipients,
                    &micros(t.created_at),
                    &t.time_zone.name(),
                    &t.base_url.as_ref().map(|u| u.as_str()),
                    &t.base_url.as_ref().map(|u| u.host()),
                    &sender,
                ],
            )
            .db("storing a tenant")?;
            Ok(())
        })
        .await
    }

    async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        self.read(move |tx| {
            let row = tx
                .query_opt(
                    &format!("SELECT {TENANT_COLS} FROM tenants WHERE id = $1"),
                    &[&&id.as_bytes()[..]],
                )
                .db("reading a tenant")?
                .ok_or(Error::NotFound {
                    entity: Entity::Tenant,
                })?;
            codec::tenant(&row)
        })
        .await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        self.read(move |tx| {
            tx.query(
                &format!("SELECT {TENANT_COLS} FROM tenants ORDER BY created_at, rowid"),
                &[],
            )
            .db("listing tenants")?
            .iter()
            .map(codec::tenant)
            .collect()
        })
        .await
    }

    async fn create_portal(&self, portal: &Portal, activity: Option<&ActivityEntry>) -> Result<()> {
        let branding = codec::to_json(&portal.branding)?;
        let p = portal.clone();
        let entry = crate::workflow::rows::Recorded::new(activity)?;
        self.write_content(portal.id, move |tx| {
            if !exists(
                tx,
                "SELECT 1 FROM tenants WHERE id = $1",
                &[&&p.tenant_id.as_bytes()[..]],
            )? {
                return Err(Error::NotFound {
                    entity: Entity::Tenant,
                });
            }
            if portal_exists(tx, p.id)? {
                return Err(Error::conflict("a portal with this id already exists"));
            }
            insert_portal(tx, &p, &branding)?;
            entry.insert(tx, p.id)?;
            Ok(())
        })
        .await
    }

    async fn portal(&self, id: PortalId) -> Result<Portal> {
        self.read(move |tx| load_portal(tx, id)).await
    }

    async fn portals(&self, tenant: TenantId) -> Result<Vec<Portal>> {
        self.read(move |tx| {
            tx.query(
                concat!(
                    "SELECT ",
                    portal_cols!(),
                    " FROM portals p WHERE p.tenant_id = $1 ORDER BY p.created_at, p.rowid"
                ),
                &[&&tenant.as_bytes()[..]],
            )
            .db("listing portals")?
            .iter()
            .map(|row| codec::portal_at(row, 0))
            .collect()
        })
        .await
    }

    async fn portals_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Portal>> {
        self.read(move |tx| {
            codec::newest_page(
                tx,
                &PORTAL_PAGE,
                &tenant.as_bytes()[..],
                after,
                limit,
                |row| codec::portal_at(row, 0),
                |p| p.created_at,
            )
        })
        .await
    }

    async fn set_portal_status(&self, portal: PortalId, status: PortalStatus) -> Result<()> {
        self.write_content(portal, move |tx| {
            let changed = tx
                .execute(
                    "UPDATE portals SET status = $1, version = version + 1 WHERE id = $2",
                    &[&status.as_str(), &&portal.as_bytes()[..]],
                )
                .db("changing a portal's status")?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            Ok(())
        })
        .await
    }

    async fn contacts_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Contact>> {
        self.read(move |tx| {
            codec::newest_page(
                tx,
                &CONTACT_PAGE,
                &portal.as_bytes()[..],
                after,
                limit,
                |row| codec::contact_at(row, 0),
                |c| c.created_at,
            )
        })
        .await
    }

    async fn add_contact(&self, contact: &Contact, activity: Option<&ActivityEntry>) -> Result<()> {
        let c = contact.clone();
        let entry = crate::workflow::rows::Recorded::new(activity)?;
        self.write_content(contact.portal_id, move |tx| {
            if !portal_exists(tx, c.portal_id)? {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            if exists(
                tx,
                "SELECT 1 FROM contacts WHERE id = $1",
                &[&&c.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a contact with this id already exists"));
            }
            if exists(
                tx,
                "SELECT 1 FROM contacts WHERE portal_id = $1 AND email = $2",
                &[&&c.portal_id.as_bytes()[..], &c.email.as_str()],
            )? {
                return Err(Error::conflict(
                    "a contact with this email already exists in the portal",
                ));
            }
            insert_contact(tx, &c)?;
            entry.insert(tx, c.portal_id)?;
            Ok(())
        })
        .await
    }

    async fn contact(&self, id: ContactId) -> Result<Contact> {
        self.read(move |tx| {
            let row = tx
                .query_opt(
                    concat!(
                        "SELECT ",
                        contact_cols!(),
                        " FROM contacts c WHERE c.id = $1"
                    ),
                    &[&&id.as_bytes()[..]],
                )
                .db("reading a contact")?
                .ok_or(Error::NotFound {
                    entity: Entity::Contact,
                })?;
            codec::contact_at(&row, 0)
        })
        .await
    }

    async fn contacts(&self, portal: PortalId) -> Result<Vec<Contact>> {
        self.read(move |tx| load_contacts(tx, portal)).await
    }

    async fn add_phase(
        &self,
        portal: PortalId,
        id: PhaseId,
        name: &str,
        activity: Option<&ActivityEntry>,
    ) -> Result<Phase> {
        let name = name.to_owned();
        let entry = crate::workflow::rows::Recorded::new(activity)?;
        self.write_content(portal, move |tx| {
            if !portal_exists(tx, portal)? {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            if exists(
                tx,
                "SELECT 1 FROM phases WHERE id = $1",
                &[&&id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a phase with this id already exists"));
            }
            let row = tx
                .query_one(
                    "SELECT COALESCE(MAX(position) + 1, 0) FROM phases WHERE portal_id = $1",
                    &[&&portal.as_bytes()[..]],
                )
                .db("numbering a phase")?;
            let position: i64 = codec::get(&row, 0)?;
            let position = u32::try_from(position)
                .map_err(|_| Error::storage_msg("phase position out of range"))?;
            tx.execute(
                "INSERT INTO phases (portal_id, position, id, name) VALUES ($1, $2, $3, $4)",
                &[
                    &&portal.as_bytes()[..],
                    &i64::from(position),
                    &&id.as_bytes()[..],
                    &name,
                ],
            )
            .db("storing a phase")?;
            entry.insert(tx, portal)?;
            Ok(Phase {
                id,
                portal_id: portal,
                position,
                name: name.clone(),
                version: portal_core::model::first_version(),
            })
        })
        .await
    }

    async fn add_task(&self, task: &Task, activity: Option<&ActivityEntry>) -> Result<Task> {
        let mut t = task.clone();
        let entry = crate::workflow::rows::Recorded::new(activity)?;
        self.write_content(task.portal_id, move |tx| {
            if !portal_exists(tx, t.portal_id)? {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            if !exists(
                tx,
                "SELECT 1 FROM phases WHERE id = $1 AND portal_id = $2",
                &[&&t.phase_id.as_bytes()[..], &&t.portal_id.as_bytes()[..]],
            )? {
                return Err(Error::NotFound {
                    entity: Entity::Phase,
                });
            }
            if exists(
                tx,
                "SELECT 1 FROM tasks WHERE id = $1",
                &[&&t.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a task with this id already exists"));
            }
            let row = tx
                .query_one(
                    "SELECT COALESCE(MAX(position) + 1, 0) FROM tasks
                     WHERE portal_id = $1 AND phase_id = $2",
                    &[&&t.portal_id.as_bytes()[..], &&t.phase_id.as_bytes()[..]],
                )
                .db("numbering a task")?;
            let position: i64 = codec::get(&row, 0)?;
            t.position = u32::try_from(position)
                .map_err(|_| Error::storage_msg("task position out of range"))?;
            insert_task(tx, &t)?;
            entry.insert(tx, t.portal_id)?;
            Ok(t.clone())
        })
        .await
    }

    async fn put_logo(&self, logo: &Logo) -> Result<()> {
        let sha256 = logo.reference().sha256;
        let image_type = codec::image_type_str(logo.image_type);
        let bytes = logo.bytes.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO logos (sha256, image_type, bytes) VALUES ($1, $2, $3)
                 ON CONFLICT (sha256) DO NOTHING",
                &[&sha256, &image_type, &bytes],
            )
            .db("storing a logo")?;
            Ok(())
        })
        .await
    }

    async fn logo(&self, sha256: &str) -> Result<Logo> {
        let key = sha256.to_owned();
        self.read(move |tx| {
            let row = tx
                .query_opt(
                    "SELECT image_type, bytes FROM logos WHERE sha256 = $1",
                    &[&key],
                )
                .db("reading a logo")?
                .ok_or(Error::NotFound {
                    entity: Entity::Logo,
                })?;
            codec::logo(&row)
        })
        .await
    }

    async fn portal_team(&self, portal: PortalId) -> Result<OnboardingTeam> {
        let json: String = self
            .read(move |tx| {
                let row = tx
                    .query_opt(
                        "SELECT team FROM portals WHERE id = $1",
                        &[&&portal.as_bytes()[..]],
                    )
                    .db("reading a portal's team")?
                    .ok_or(Error::NotFound {
                        entity: Entity::Portal,
                    })?;
                codec::get(&row, 0)
            })
            .await?;
        serde_json::from_str(&json).map_err(|e| Error::storage("reading a portal's team", e))
    }

    async fn portal_snapshot(&self, portal: PortalId) -> Result<PortalSnapshot> {
        // One read transaction: the three reads see the same committed state.
        self.read(move |tx| load_snapshot(tx, portal)).await
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
        // Everything checked and encoded before the unit; the unit writes all of it.
        let mut prepared = Vec::with_capacity(edits.len());
        for (edit, activity) in edits {
            activity.ensure_portal(portal)?;
            let row = crate::workflow::rows::ActivityRow::new(activity)?;
            let branding = match edit {
                PortalEdit::Branding(b) => Some(codec::to_json(b)?),
                PortalEdit::Team(team) => Some(codec::to_json(team)?),
                _ => None,
            };
            prepared.push((edit.clone(), branding, row));
        }
        self.write_content(portal, move |tx| {
            let key = &portal.as_bytes()[..];
            let stored = stored_version(tx, "SELECT version FROM portals WHERE id = $1", key)?
                .ok_or(Error::NotFound {
                    entity: Entity::Portal,
                })?;
            portal_core::model::check_expected_version("portal", stored, expected)?;
            if prepared.is_empty() {
                return Err(Error::invalid("edits", "give at least one change"));
            }
            for (edit, branding, _) in &prepared {
                match edit {
                    PortalEdit::Rename(name) => tx.execute(
                        "UPDATE portals SET client_name = $1 WHERE id = $2",
                        &[name, &key],
                    ),
                    PortalEdit::TargetDate(date) => tx.execute(
                        "UPDATE portals SET target_date = $1 WHERE id = $2",
                        &[&date.map(codec::date_str), &key],
                    ),
                    PortalEdit::Status(status) => tx.execute(
                        "UPDATE portals SET status = $1 WHERE id = $2",
                        &[&status.as_str(), &key],
                    ),
                    PortalEdit::Branding(_) => tx.execute(
                        "UPDATE portals SET branding = $1 WHERE id = $2",
                        &[branding, &key],
                    ),
                    // `branding` holds the team's JSON for a team edit.
                    PortalEdit::Team(_) => tx.execute(
                        "UPDATE portals SET team = $1 WHERE id = $2",
                        &[branding, &key],
                    ),
                    PortalEdit::ColleagueInvitations(mode) => tx.execute(
                        "UPDATE portals SET colleague_invitations = $1 WHERE id = $2",
                        &[&mode.as_str(), &key],
                    ),
                    _ => return Err(Error::storage_msg("an edit this store does not know")),
                }
                .db("editing a portal")?;
            }
            let changed = tx
                .execute(
                    "UPDATE portals SET version = version + 1 WHERE id = $1",
                    &[&key],
                )
                .db("editing a portal")?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            for (_, _, row) in &prepared {
                row.insert(tx)?;
            }
            load_portal(tx, portal)
        })
        .await
    }

    async fn edit_contact(
        &self,
        contact: ContactId,
        edit: &ContactEdit,
        expected: Option<&str>,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        let edit = edit.clone();
        let expected = expected.map(str::to_owned);
        let row = crate::workflow::rows::ActivityRow::new(activity)?;
        let entry_portal = activity.portal_id;
        // The entry must be of the contact's portal (checked inside).
        self.write_content(entry_portal, move |tx| {
            let key = &contact.as_bytes()[..];
            let portal: Option<Vec<u8>> = match tx
                .query_opt("SELECT portal_id FROM contacts WHERE id = $1", &[&key])
                .db("reading a contact")?
            {
                Some(r) => Some(codec::get(&r, 0)?),
                None => None,
            };
            let Some(portal) = portal else {
                return Err(Error::NotFound {
                    entity: Entity::Contact,
                });
            };
            if let Some(tag) = &expected {
                let stored = tx
                    .query_one(
                        concat!(
                            "SELECT ",
                            contact_cols!(),
                            " FROM contacts c WHERE c.id = $1"
                        ),
                        &[&key],
                    )
                    .db("reading a contact")?;
                let stored = codec::contact_at(&stored, 0)?;
                if *tag != stored.content_tag() {
                    return Err(Error::stale(
                        "this contact was changed by someone else since you opened it",
                    ));
                }
            }
            if portal[..] != entry_portal.as_bytes()[..] {
                return Err(Error::invalid(
                    "activity",
                    "must belong to the portal of the change it records",
                ));
            }
            if exists(
                tx,
                "SELECT 1 FROM contacts WHERE portal_id = $1 AND email = $2 AND id <> $3",
                &[&portal, &edit.email.as_str(), &key],
            )? {
                return Err(Error::conflict(
                    "a contact with this email already exists in the portal",
                ));
            }
            tx.execute(
                "UPDATE contacts SET name = $1, email = $2, role = $3, language = $4 WHERE id = $5",
                &[
                    &edit.name,
                    &edit.email.as_str(),
                    &edit.role,
                    &edit.language.map(|l| l.code()),
                    &key,
                ],
            )
            .db("editing a contact")?;
            row.insert(tx)?;
            let stored = tx
                .query_one(
                    concat!(
                        "SELECT ",
                        contact_cols!(),
                        " FROM contacts c WHERE c.id = $1"
                    ),
                    &[&key],
                )
                .db("reading a contact")?;
            codec::contact_at(&stored, 0)
        })
        .await
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
        // Everything encoded before the unit; the unit checks and writes all of it.
        let mut prepared = Vec::with_capacity(edits.len());
        for edit in edits {
            let json = match edit {
                TenantEdit::NotificationRecipients(list) => Some(codec::to_json(list)?),
                TenantEdit::Branding(b) => Some(codec::to_json(b)?),
                TenantEdit::Sender(sender) => sender.as_ref().map(codec::to_json).transpose()?,
                _ => None,
            };
            prepared.push((edit.clone(), json));
        }
        self.write(move |tx| {
            let key = &tenant.as_bytes()[..];
            let stored = stored_version(tx, "SELECT version FROM tenants WHERE id = $1", key)?
                .ok_or(Error::NotFound {
                    entity: Entity::Tenant,
                })?;
            portal_core::model::check_expected_version("account settings", stored, expected)?;
            if prepared.is_empty() {
                return Err(Error::invalid("edits", "give at least one change"));
            }
            for (edit, _) in &prepared {
                if let TenantEdit::BaseUrl(Some(url)) = edit {
                    host_free(tx, url, tenant)?;
                }
            }
            for (edit, json) in &prepared {
                match edit {
                    TenantEdit::Rename(name) => {
                        tx.execute("UPDATE tenants SET name = $1 WHERE id = $2", &[name, &key])
                    }
                    TenantEdit::NotificationRecipients(_) => tx.execute(
                        "UPDATE tenants SET notification_recipients = $1 WHERE id = $2",
                        &[json, &key],
                    ),
                    TenantEdit::Branding(_) => tx.execute(
                        "UPDATE tenants SET branding = $1 WHERE id = $2",
                        &[json, &key],
                    ),
                    TenantEdit::BaseUrl(url) => tx.execute(
                        "UPDATE tenants SET base_url = $1, base_host = $2 WHERE id = $3",
                        &[
                            &url.as_ref().map(|u| u.as_str()),
                            &url.as_ref().map(|u| u.host()),
                            &key,
                        ],
                    ),
                    TenantEdit::Sender(_) => tx.execute(
                        "UPDATE tenants SET sender = $1 WHERE id = $2",
                        &[json, &key],
                    ),
                    _ => return Err(Error::storage_msg("an edit this store does not know")),
                }
                .db("editing a tenant")?;
            }
            let changed = tx
                .execute(
                    "UPDATE tenants SET version = version + 1 WHERE id = $1",
                    &[&key],
                )
                .db("editing a tenant")?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: Entity::Tenant,
                });
            }
            let row = tx
                .query_one(
                    &format!("SELECT {TENANT_COLS} FROM tenants WHERE id = $1"),
                    &[&key],
                )
                .db("reading a tenant")?;
            codec::tenant(&row)
        })
        .await
    }

    async fn delete_portal(&self, portal: PortalId, erasure: &Erasure) -> Result<Vec<BlobId>> {
        let erasure = erasure.clone();
        let by = codec::to_json(&erasure.by)?;
        self.write_content(portal, move |tx| {
            let p = load_portal(tx, portal)?;
            if erasure.portal_id != portal || erasure.tenant_id != p.tenant_id {
                return Err(Error::invalid(
                    "erasure",
                    "must name the deleted portal and its tenant",
                ));
            }
            let key = &portal.as_bytes()[..];
            let blobs: Vec<BlobId> = {
                let rows = tx
                    .query(
                        "SELECT blob_id FROM document_files WHERE portal_id = $1
                         UNION ALL
                         SELECT blob_id FROM dropped_files
                         WHERE portal_id = $1 AND bytes_removed = 0
                         UNION ALL
                         SELECT blob_id FROM signature_documents WHERE portal_id = $1
                         UNION ALL
                         SELECT blob_id FROM task_attachments WHERE portal_id = $1
                         UNION ALL
                         SELECT image_blob FROM signatures
                         WHERE portal_id = $1 AND image_blob IS NOT NULL",
                        &[&key],
                    )
                    .db("listing a portal's files")?;
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    let bytes: &[u8] = codec::get(row, 0)?;
                    let id: [u8; 16] = bytes
                        .try_into()
                        .map_err(|_| Error::storage_msg("a stored blob id is not 16 bytes"))?;
                    out.push(BlobId::from_bytes(id));
                }
                out
            };
            let audit_head = crate::audit::head(tx, portal)?;
            let of_contacts = "contact_id IN (SELECT id FROM contacts WHERE portal_id = $1)";
            for (sql, what) in [
                (
                    format!("DELETE FROM sessions WHERE {of_contacts}"),
                    "sessions",
                ),
                (
                    format!("DELETE FROM verification_emails WHERE {of_contacts}"),
                    "email counts",
                ),
                (
                    format!("DELETE FROM code_guards WHERE {of_contacts}"),
                    "code guards",
                ),
                (
                    format!("DELETE FROM verifications WHERE {of_contacts}"),
                    "verifications",
                ),
                (
                    format!("DELETE FROM invites WHERE {of_contacts}"),
                    "invites",
                ),
                (
                    format!("DELETE FROM reminder_contacts WHERE {of_contacts}"),
                    "reminder choices",
                ),
                (
                    format!("DELETE FROM reminder_digests WHERE {of_contacts}"),
                    "reminder digests",
                ),
                (
                    format!("DELETE FROM reminder_steps WHERE {of_contacts}"),
                    "reminder steps",
                ),
                (
                    format!("DELETE FROM reminder_snoozes WHERE {of_contacts}"),
                    "reminder snoozes",
                ),
                (
                    "DELETE FROM reminder_settings WHERE portal_id = $1".to_owned(),
                    "reminder settings",
                ),
                (
                    "DELETE FROM escalations WHERE portal_id = $1".to_owned(),
                    "escalations",
                ),
                (
                    "DELETE FROM access_log WHERE portal_id = $1".to_owned(),
                    "access log",
                ),
                (
                    "DELETE FROM comments WHERE portal_id = $1".to_owned(),
                    "comments",
                ),
                (
                    "DELETE FROM questions WHERE portal_id = $1".to_owned(),
                    "questions",
                ),
                (
                    "DELETE FROM activity WHERE portal_id = $1".to_owned(),
                    "activity",
                ),
                (
                    "DELETE FROM document_files WHERE portal_id = $1".to_owned(),
                    "files",
                ),
                (
                    "DELETE FROM dropped_files WHERE portal_id = $1".to_owned(),
                    "dropped files",
                ),
                (
                    "DELETE FROM credential_fields WHERE portal_id = $1".to_owned(),
                    "credential fields",
                ),
                (
                    "DELETE FROM credentials WHERE portal_id = $1".to_owned(),
                    "credentials",
                ),
                (
                    "DELETE FROM signatures WHERE portal_id = $1".to_owned(),
                    "signatures",
                ),
                (
                    "DELETE FROM signature_documents WHERE portal_id = $1".to_owned(),
                    "signature documents",
                ),
                (
                    "DELETE FROM task_attachments WHERE portal_id = $1".to_owned(),
                    "task attachments",
                ),
                (
                    "DELETE FROM document_opens WHERE portal_id = $1".to_owned(),
                    "document opens",
                ),
                ("DELETE FROM tasks WHERE portal_id = $1".to_owned(), "tasks"),
                (
                    "DELETE FROM phases WHERE portal_id = $1".to_owned(),
                    "phases",
                ),
                (
                    "DELETE FROM contacts WHERE portal_id = $1".to_owned(),
                    "contacts",
                ),
                (
                    "DELETE FROM outbox WHERE portal_id = $1".to_owned(),
                    "emails",
                ),
                // `webhook_deliveries` goes with the portal row (ON DELETE CASCADE).
                ("DELETE FROM portals WHERE id = $1".to_owned(), "portal"),
                // After the portal row: the trigger keeps a live portal's chain.
                (
                    "DELETE FROM audit_events WHERE portal_id = $1".to_owned(),
                    "audit trail",
                ),
            ] {
                tx.execute(&sql, &[&key])
                    .map_err(|e| Error::storage(format!("deleting a portal's {what}"), e))?;
            }
            tx.execute(
                "INSERT INTO erasures (tenant_id, portal_id, client_name, at, by_actor,
                    audit_seq, audit_head)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &&erasure.tenant_id.as_bytes()[..],
                    &key,
                    &erasure.client_name,
                    &micros(erasure.at),
                    &by,
                    &audit_head.map(|h| codec::int(h.seq)),
                    &audit_head.map(|h| h.hash.to_vec()),
                ],
            )
            .db("recording an erasure")?;
            Ok(blobs)
        })
        .await
    }

    async fn erasures(&self, tenant: TenantId) -> Result<Vec<Erasure>> {
        self.read(move |tx| {
            tx.query(
                "SELECT tenant_id, portal_id, client_name, at, by_actor, audit_seq, audit_head
                 FROM erasures
                 WHERE tenant_id = $1 ORDER BY id DESC",
                &[&&tenant.as_bytes()[..]],
            )
            .db("reading the erasure log")?
            .iter()
            .map(codec::erasure)
            .collect()
        })
        .await
    }
}

/// Inserts a task row as given (position included): shared by `add_task` and the plan
/// store, so both write every column the same way.
pub(crate) fn insert_task(tx: &mut Tx<'_>, t: &Task) -> Result<()> {
    let kind = codec::to_json(&t.kind)?;
    let evidence = codec::to_json(&t.evidence)?;
    let assigned_to = codec::to_json(&t.assigned_to)?;
    let waits_on = codec::to_json(&t.waits_on)?;
    let version =
        i64::try_from(t.version).map_err(|_| Error::storage_msg("task version out of range"))?;
    tx.execute(
        "INSERT INTO tasks (portal_id, phase_id, position, id, title, description,
            assignee, kind, status, blocked_reason, due_date, created_at, updated_at,
            evidence, version, assigned_to, waits_on, internal, for_role)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19)",
        &[
            &&t.portal_id.as_bytes()[..],
            &&t.phase_id.as_bytes()[..],
            &i64::from(t.position),
            &&t.id.as_bytes()[..],
            &t.title,
            &t.description,
            &t.assignee.as_str(),
            &kind,
            &t.status.as_str(),
            &t.blocked_reason,
            &t.due_date.map(codec::date_str),
            &micros(t.created_at),
            &micros(t.updated_at),
            &evidence,
            &version,
            &assigned_to,
            &waits_on,
            &i64::from(t.internal),
            &t.for_role,
        ],
    )
    .db("storing a task")?;
    Ok(())
}

/// A portal's snapshot (portal, phases by position, tasks by phase then position),
/// read on `tx` (inside the caller's transaction).
pub(crate) fn load_snapshot(tx: &mut Tx<'_>, portal: PortalId) -> Result<PortalSnapshot> {
    let p = load_portal(tx, portal)?;
    let phases = tx
        .query(
            &format!("SELECT {PHASE_COLS} FROM phases WHERE portal_id = $1 ORDER BY position"),
            &[&&portal.as_bytes()[..]],
        )
        .db("reading a portal's phases")?
        .iter()
        .map(codec::phase)
        .collect::<Result<Vec<_>>>()?;
    let tasks = tx
        .query(
            concat!(
                "SELECT ",
                task_cols!(),
                " FROM phases ph JOIN tasks t
                    ON t.portal_id = ph.portal_id AND t.phase_id = ph.id
                 WHERE ph.portal_id = $1
                 ORDER BY ph.position, t.position"
            ),
            &[&&portal.as_bytes()[..]],
        )
        .db("reading a portal's tasks")?
        .iter()
        .map(codec::task)
        .collect::<Result<Vec<_>>>()?;
    Ok(PortalSnapshot {
        portal: p,
        phases,
        tasks,
    })
}

/// A portal's contacts, oldest first (ties in insertion order).
pub(crate) fn load_contacts(tx: &mut Tx<'_>, portal: PortalId) -> Result<Vec<Contact>> {
    tx.query(
        concat!(
            "SELECT ",
            contact_cols!(),
            " FROM contacts c WHERE c.portal_id = $1 ORDER BY c.created_at, c.rowid"
        ),
        &[&&portal.as_bytes()[..]],
    )
    .db("listing contacts")?
    .iter()
    .map(|row| codec::contact_at(row, 0))
    .collect()
}

/// The version of a versioned row (`sql` selects it by id), `None` if missing: read
/// inside the unit that changes the row, for its compare-and-set.
fn stored_version(tx: &mut Tx<'_>, sql: &str, key: &[u8]) -> Result<Option<u64>> {
    tx.query_opt(sql, &[&key])
        .db("reading a version")?
        .map(|row| codec::stored_version(&row, 0))
        .transpose()
}

/// Writes a new portal's row with every field it keeps (`branding` already encoded):
/// the one insert both `create_portal` and `create_portal_with_plan` use, so neither
/// can forget a column.
pub(crate) fn insert_portal(tx: &mut Tx<'_>, p: &Portal, branding: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO portals
           (id, tenant_id, client_name, status, branding, created_at, target_date,
            colleague_invitations)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &&p.id.as_bytes()[..],
            &&p.tenant_id.as_bytes()[..],
            &p.client_name,
            &p.status.as_str(),
            &branding,
            &micros(p.created_at),
            &p.target_date.map(codec::date_str),
            &p.colleague_invitations.as_str(),
        ],
    )
    .db("storing a portal")?;
    Ok(())
}

/// `Conflict` if a tenant other than `own` has a base URL on `url`'s host (read in
/// the writing unit, so two tenants racing for one host cannot both get it).
fn host_free(
    tx: &mut Tx<'_>,
    url: &portal_core::model::TenantBaseUrl,
    own: TenantId,
) -> Result<()> {
    if exists(
        tx,
        "SELECT 1 FROM tenants WHERE base_host = $1 AND id <> $2",
        &[&url.host(), &&own.as_bytes()[..]],
    )? {
        return Err(Error::conflict(
            "another account already uses this host name for its portal",
        ));
    }
    Ok(())
}

/// Writes a new contact row, every column of [`Contact`] (the caller checked the
/// portal, the id and the email).
pub(crate) fn insert_contact(tx: &mut Tx<'_>, c: &Contact) -> Result<()> {
    let guest = codec::guest_json(c.guest.as_ref())?;
    tx.execute(
        "INSERT INTO contacts (id, portal_id, name, email, revoked_at, created_at, time_zone,
                               invited_by, awaiting_approval, role, guest, language)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &&c.id.as_bytes()[..],
            &&c.portal_id.as_bytes()[..],
            &c.name,
            &c.email.as_str(),
            &c.revoked_at.map(micros),
            &micros(c.created_at),
            &c.time_zone.name(),
            &c.invited_by.map(|i| i.as_bytes().to_vec()),
            &i64::from(c.awaiting_approval),
            &c.role,
            &guest,
            &c.language.map(|l| l.code()),
        ],
    )
    .db("storing a contact")?;
    Ok(())
}
