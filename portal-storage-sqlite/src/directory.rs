//! [`DirectoryStore`] for [`SqliteStore`]: tenants, portals, contacts, phases, tasks
//! and logos.
//!
//! Every create checks its parent and its id inside the write transaction (so the
//! answer is `NotFound` or `Conflict`, never a half write); positions are taken from
//! the current maximum inside the same transaction, and the single writer makes them
//! gap-free under concurrency. The portal snapshot is one read transaction.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Params, params};

use portal_core::model::{
    Contact, Logo, OnboardingTeam, Phase, Portal, PortalSnapshot, PortalStatus, Task, Tenant,
};
use portal_core::store::{ContactEdit, Erasure, Page, PageKey, PortalEdit, TenantEdit};
use portal_core::workflow::ActivityEntry;
use portal_core::{
    BlobId, ContactId, DirectoryStore, Entity, Error, PhaseId, PortalId, Result, TaskId, TenantId,
};

use crate::SqliteStore;
use crate::codec::{
    self, DbResult, PHASE_COLS, TENANT_COLS, contact_cols, micros, portal_cols, task_cols,
};

/// Whether a query returns a row.
pub(crate) fn exists(conn: &Connection, sql: &str, params: impl Params) -> Result<bool> {
    let mut stmt = conn.prepare_cached(sql).db("checking a record exists")?;
    stmt.exists(params).db("checking a record exists")
}

/// Whether a portal exists.
pub(crate) fn portal_exists(conn: &Connection, portal: PortalId) -> Result<bool> {
    exists(
        conn,
        "SELECT 1 FROM portals WHERE id = ?1",
        [&portal.as_bytes()[..]],
    )
}

fn load_portal(conn: &Connection, portal: PortalId) -> Result<Portal> {
    let mut stmt = conn
        .prepare_cached(concat!(
            "SELECT ",
            portal_cols!(),
            " FROM portals p WHERE p.id = ?1"
        ))
        .db("reading a portal")?;
    stmt.query_row([&portal.as_bytes()[..]], |row| codec::portal_at(row, 0))
        .optional()
        .db("reading a portal")?
        .ok_or(Error::NotFound {
            entity: Entity::Portal,
        })
}

/// Reads a task through its portal: `NotFound` if it is not in that portal.
pub(crate) fn load_task(conn: &Connection, portal: PortalId, task: TaskId) -> Result<Task> {
    let mut stmt = conn
        .prepare_cached(concat!(
            "SELECT ",
            task_cols!(),
            " FROM tasks t WHERE t.id = ?1 AND t.portal_id = ?2"
        ))
        .db("reading a task")?;
    stmt.query_row(
        params![&task.as_bytes()[..], &portal.as_bytes()[..]],
        codec::task,
    )
    .optional()
    .db("reading a task")?
    .ok_or(Error::NotFound {
        entity: Entity::Task,
    })
}

/// A tenant's portals oldest first, by key `(created_at, rowid)` (see
/// [`codec::PageQuery`]); `portals_by_tenant` ends with the rowid, so a page is one
/// range read of it.
pub(crate) const PORTAL_PAGE: codec::PageQuery = codec::PageQuery {
    first: concat!(
        "SELECT ",
        portal_cols!(),
        ", p.rowid FROM portals p WHERE p.tenant_id = ?1 ORDER BY p.created_at, p.rowid LIMIT ?2"
    ),
    after: concat!(
        "SELECT ",
        portal_cols!(),
        ", p.rowid FROM portals p WHERE p.tenant_id = ?1 AND (p.created_at, p.rowid) > (?2, ?3)
         ORDER BY p.created_at, p.rowid LIMIT ?4"
    ),
    width: 9,
};

/// A portal's contacts oldest first, by key `(created_at, rowid)` (see
/// [`codec::PageQuery`]), one range read of `contacts_by_portal`.
pub(crate) const CONTACT_PAGE: codec::PageQuery = codec::PageQuery {
    first: concat!(
        "SELECT ",
        contact_cols!(),
        ", c.rowid FROM contacts c WHERE c.portal_id = ?1 ORDER BY c.created_at, c.rowid LIMIT ?2"
    ),
    after: concat!(
        "SELECT ",
        contact_cols!(),
        ", c.rowid FROM contacts c WHERE c.portal_id = ?1 AND (c.created_at, c.rowid) > (?2, ?3)
         ORDER BY c.created_at, c.rowid LIMIT ?4"
    ),
    width: codec::CONTACT_WIDTH,
};

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        let branding = codec::to_json(&tenant.branding)?;
        let recipients = codec::to_json(&tenant.notification_recipients)?;
        let sender = tenant.sender.as_ref().map(codec::to_json).transpose()?;
        let t = tenant.clone();
        self.write(move |conn| {
            if exists(
                conn,
                "SELECT 1 FROM tenants WHERE id = ?1",
                [&t.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a tenant with this id already exists"));
            }
            if let Some(url) = &t.base_url {
                host_free(conn, url, t.id)?;
            }
            conn.prepare_cached(
                "INSERT INTO tenants (id, name, branding, notification_recipients, created_at,
                                      time_zone, base_url, base_host, sender)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &t.id.as_bytes()[..],
                    t.name,
                    branding,
                    recipients,
                    micros(t.created_at),
                    t.time_zone.name(),
                    t.base_url.as_ref().map(|u| u.as_str()),
                    t.base_url.as_ref().map(|u| u.host()),
                    sender
                ])
            })
            .db("storing a tenant")?;
            Ok(())
        })
        .await
    }

    async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!("SELECT {TENANT_COLS} FROM tenants WHERE id = ?1"))
                .db("reading a tenant")?;
            stmt.query_row([&id.as_bytes()[..]], codec::tenant)
                .optional()
                .db("reading a tenant")?
                .ok_or(Error::NotFound {
                    entity: Entity::Tenant,
                })
        })
        .await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {TENANT_COLS} FROM tenants ORDER BY created_at, rowid"
                ))
                .db("listing tenants")?;
            stmt.query_map([], codec::tenant)
                .and_then(Iterator::collect)
                .db("listing tenants")
        })
        .await
    }

    async fn create_portal(&self, portal: &Portal, activity: Option<&ActivityEntry>) -> Result<()> {
        let branding = codec::to_json(&portal.branding)?;
        let p = portal.clone();
        let entry = crate::workflow::rows::Recorded::new(activity)?;
        self.write_content(portal.id, move |conn| {
            if !exists(
                conn,
                "SELECT 1 FROM tenants WHERE id = ?1",
                [&p.tenant_id.as_bytes()[..]],
            )? {
                return Err(Error::NotFound {
                    entity: Entity::Tenant,
                });
            }
            if portal_exists(conn, p.id)? {
                return Err(Error::conflict("a portal with this id already exists"));
            }
            insert_portal(conn, &p, &branding)?;
            entry.insert(conn, p.id)?;
            Ok(())
        })
        .await
    }

    async fn portal(&self, id: PortalId) -> Result<Portal> {
        self.read(move |conn| load_portal(conn, id)).await
    }

    async fn portals(&self, tenant: TenantId) -> Result<Vec<Portal>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(concat!(
                    "SELECT ",
                    portal_cols!(),
                    " FROM portals p WHERE p.tenant_id = ?1 ORDER BY p.created_at, p.rowid"
                ))
                .db("listing portals")?;
            stmt.query_map([&tenant.as_bytes()[..]], |row| codec::portal_at(row, 0))
                .and_then(Iterator::collect)
                .db("listing portals")
        })
        .await
    }

    async fn portals_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Portal>> {
        self.read(move |conn| {
            codec::newest_page(
                conn,
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
        self.write_content(portal, move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE portals SET status = ?1, version = version + 1 WHERE id = ?2",
                )
                .and_then(|mut s| s.execute(params![status.as_str(), &portal.as_bytes()[..]]))
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
        self.read(move |conn| {
            codec::newest_page(
                conn,
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
        self.write_content(contact.portal_id, move |conn| {
            if !portal_exists(conn, c.portal_id)? {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            if exists(
                conn,
                "SELECT 1 FROM contacts WHERE id = ?1",
                [&c.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a contact with this id already exists"));
            }
            if exists(
                conn,
                "SELECT 1 FROM contacts WHERE portal_id = ?1 AND email = ?2",
                params![&c.portal_id.as_bytes()[..], c.email.as_str()],
            )? {
                return Err(Error::conflict(
                    "a contact with this email already exists in the portal",
                ));
            }
            insert_contact(conn, &c)?;
            entry.insert(conn, c.portal_id)?;
            Ok(())
        })
        .await
    }

    async fn contact(&self, id: ContactId) -> Result<Contact> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(concat!(
                    "SELECT ",
                    contact_cols!(),
                    " FROM contacts c WHERE c.id = ?1"
                ))
                .db("reading a contact")?;
            stmt.query_row([&id.as_bytes()[..]], |row| codec::contact_at(row, 0))
                .optional()
                .db("reading a contact")?
                .ok_or(Error::NotFound {
                    entity: Entity::Contact,
                })
        })
        .await
    }

    async fn contacts(&self, portal: PortalId) -> Result<Vec<Contact>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(concat!(
                    "SELECT ",
                    contact_cols!(),
                    " FROM contacts c WHERE c.portal_id = ?1 ORDER BY c.created_at, c.rowid"
                ))
                .db("listing contacts")?;
            stmt.query_map([&portal.as_bytes()[..]], |row| codec::contact_at(row, 0))
                .and_then(Iterator::collect)
                .db("listing contacts")
        })
        .await
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
        self.write_content(portal, move |conn| {
            if !portal_exists(conn, portal)? {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            if exists(
                conn,
                "SELECT 1 FROM phases WHERE id = ?1",
                [&id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a phase with this id already exists"));
            }
            let position: i64 = conn
                .prepare_cached(
                    "SELECT COALESCE(MAX(position) + 1, 0) FROM phases WHERE portal_id = ?1",
                )
                .and_then(|mut s| s.query_row([&portal.as_bytes()[..]], |r| r.get(0)))
                .db("numbering a phase")?;
            let position = u32::try_from(position)
                .map_err(|_| Error::storage_msg("phase position out of range"))?;
            conn.prepare_cached(
                "INSERT INTO phases (portal_id, position, id, name) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &portal.as_bytes()[..],
                    position,
                    &id.as_bytes()[..],
                    name
                ])
            })
            .db("storing a phase")?;
            entry.insert(conn, portal)?;
            Ok(Phase {
                id,
                portal_id: portal,
                position,
                name,
                version: portal_core::model::first_version(),
            })
        })
        .await
    }

    async fn add_task(&self, task: &Task, activity: Option<&ActivityEntry>) -> Result<Task> {
        let mut t = task.clone();
        let entry = crate::workflow::rows::Recorded::new(activity)?;
        self.write_content(task.portal_id, move |conn| {
            if !portal_exists(conn, t.portal_id)? {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            if !exists(
                conn,
                "SELECT 1 FROM phases WHERE id = ?1 AND portal_id = ?2",
                params![&t.phase_id.as_bytes()[..], &t.portal_id.as_bytes()[..]],
            )? {
                return Err(Error::NotFound {
                    entity: Entity::Phase,
                });
            }
            if exists(
                conn,
                "SELECT 1 FROM tasks WHERE id = ?1",
                [&t.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a task with this id already exists"));
            }
            let position: i64 = conn
                .prepare_cached(
                    "SELECT COALESCE(MAX(position) + 1, 0) FROM tasks
                     WHERE portal_id = ?1 AND phase_id = ?2",
                )
                .and_then(|mut s| {
                    s.query_row(
                        params![&t.portal_id.as_bytes()[..], &t.phase_id.as_bytes()[..]],
                        |r| r.get(0),
                    )
                })
                .db("numbering a task")?;
            t.position = u32::try_from(position)
                .map_err(|_| Error::storage_msg("task position out of range"))?;
            insert_task(conn, &t)?;
            entry.insert(conn, t.portal_id)?;
            Ok(t)
        })
        .await
    }

    async fn put_logo(&self, logo: &Logo) -> Result<()> {
        let sha256 = logo.reference().sha256;
        let image_type = codec::image_type_str(logo.image_type);
        let bytes = logo.bytes.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO logos (sha256, image_type, bytes) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![sha256, image_type, bytes]))
            .db("storing a logo")?;
            Ok(())
        })
        .await
    }

    async fn logo(&self, sha256: &str) -> Result<Logo> {
        let key = sha256.to_owned();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT image_type, bytes FROM logos WHERE sha256 = ?1")
                .db("reading a logo")?;
            stmt.query_row([key], codec::logo)
                .optional()
                .db("reading a logo")?
                .ok_or(Error::NotFound {
                    entity: Entity::Logo,
                })
        })
        .await
    }

    async fn portal_team(&self, portal: PortalId) -> Result<OnboardingTeam> {
        let generation = self.cache.generation(portal);
        if let Some(hit) = self.cache.team(portal, generation) {
            return Ok(OnboardingTeam::clone(&hit));
        }
        let json: String = self
            .read(move |conn| {
                conn.prepare_cached("SELECT team FROM portals WHERE id = ?1")
                    .and_then(|mut s| {
                        s.query_row([&portal.as_bytes()[..]], |r| r.get(0))
                            .optional()
                    })
                    .db("reading a portal's team")?
                    .ok_or(Error::NotFound {
                        entity: Entity::Portal,
                    })
            })
            .await?;
        let team: OnboardingTeam = serde_json::from_str(&json)
            .map_err(|e| Error::storage("reading a portal's team", e))?;
        self.cache
            .put_team(portal, generation, Arc::new(team.clone()));
        Ok(team)
    }

    /// The portal's generation and the contacts' as one value (see `cache`): no read
    /// of the database, whether the read cache is on or not.
    async fn home_version(&self, portal: PortalId) -> Result<Option<u64>> {
        Ok(Some(self.cache.home_version(portal)))
    }

    async fn portal_snapshot(&self, portal: PortalId) -> Result<PortalSnapshot> {
        let generation = self.cache.generation(portal);
        if let Some(hit) = self.cache.snapshot(portal, generation) {
            return Ok(PortalSnapshot::clone(&hit));
        }
        let snapshot = self
            .read(move |conn| {
                // One read transaction: the three reads see the same committed state.
                let tx = conn.transaction().db("starting a snapshot read")?;
                let snapshot = load_snapshot(&tx, portal)?;
                tx.finish().db("ending a snapshot read")?;
                Ok(snapshot)
            })
            .await?;
        self.cache
            .put_snapshot(portal, generation, Arc::new(snapshot.clone()));
        Ok(snapshot)
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
        self.write_content(portal, move |conn| {
            let key = &portal.as_bytes()[..];
            let stored = stored_version(conn, "SELECT version FROM portals WHERE id = ?1", key)?
                .ok_or(Error::NotFound {
                    entity: Entity::Portal,
                })?;
            portal_core::model::check_expected_version("portal", stored, expected)?;
            if prepared.is_empty() {
                return Err(Error::invalid("edits", "give at least one change"));
            }
            for (edit, branding, _) in &prepared {
                match edit {
                    PortalEdit::Rename(name) => conn
                        .prepare_cached("UPDATE portals SET client_name = ?1 WHERE id = ?2")
                        .and_then(|mut s| s.execute(params![name, key])),
                    PortalEdit::TargetDate(date) => conn
                        .prepare_cached("UPDATE portals SET target_date = ?1 WHERE id = ?2")
                        .and_then(|mut s| s.execute(params![date.map(codec::date_str), key])),
                    PortalEdit::Status(status) => conn
                        .prepare_cached("UPDATE portals SET status = ?1 WHERE id = ?2")
                        .and_then(|mut s| s.execute(params![status.as_str(), key])),
                    PortalEdit::Branding(_) => conn
                        .prepare_cached("UPDATE portals SET branding = ?1 WHERE id = ?2")
                        .and_then(|mut s| s.execute(params![branding, key])),
                    // `branding` holds the team's JSON for a team edit.
                    PortalEdit::Team(_) => conn
                        .prepare_cached("UPDATE portals SET team = ?1 WHERE id = ?2")
                        .and_then(|mut s| s.execute(params![branding, key])),
                    PortalEdit::ColleagueInvitations(mode) => conn
                        .prepare_cached(
                            "UPDATE portals SET colleague_invitations = ?1 WHERE id = ?2",
                        )
                        .and_then(|mut s| s.execute(params![mode.as_str(), key])),
                    _ => return Err(Error::storage_msg("an edit this store does not know")),
                }
                .db("editing a portal")?;
            }
            let changed = conn
                .prepare_cached("UPDATE portals SET version = version + 1 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![key]))
                .db("editing a portal")?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            for (_, _, row) in &prepared {
                row.insert(conn)?;
            }
            load_portal(conn, portal)
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
        // The entry must be of the contact's portal (checked inside): that portal's
        // cached feed is invalidated.
        self.write_content(entry_portal, move |conn| {
            let key = &contact.as_bytes()[..];
            let portal: Option<Vec<u8>> = conn
                .prepare_cached("SELECT portal_id FROM contacts WHERE id = ?1")
                .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
                .db("reading a contact")?;
            let Some(portal) = portal else {
                return Err(Error::NotFound {
                    entity: Entity::Contact,
                });
            };
            if let Some(tag) = &expected {
                let stored = conn
                    .prepare_cached(concat!(
                        "SELECT ",
                        contact_cols!(),
                        " FROM contacts c WHERE c.id = ?1"
                    ))
                    .and_then(|mut s| s.query_row([key], |row| codec::contact_at(row, 0)))
                    .db("reading a contact")?;
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
                conn,
                "SELECT 1 FROM contacts WHERE portal_id = ?1 AND email = ?2 AND id <> ?3",
                params![portal, edit.email.as_str(), key],
            )? {
                return Err(Error::conflict(
                    "a contact with this email already exists in the portal",
                ));
            }
            conn.prepare_cached(
                "UPDATE contacts SET name = ?1, email = ?2, role = ?3, language = ?4 WHERE id = ?5",
            )
            .and_then(|mut s| {
                s.execute(params![
                    edit.name,
                    edit.email.as_str(),
                    edit.role,
                    edit.language.map(|l| l.code()),
                    key
                ])
            })
            .db("editing a contact")?;
            row.insert(conn)?;
            let mut stmt = conn
                .prepare_cached(concat!(
                    "SELECT ",
                    contact_cols!(),
                    " FROM contacts c WHERE c.id = ?1"
                ))
                .db("reading a contact")?;
            stmt.query_row([key], |row| codec::contact_at(row, 0))
                .db("reading a contact")
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
        self.write(move |conn| {
            let key = &tenant.as_bytes()[..];
            let stored = stored_version(conn, "SELECT version FROM tenants WHERE id = ?1", key)?
                .ok_or(Error::NotFound {
                    entity: Entity::Tenant,
                })?;
            portal_core::model::check_expected_version("account settings", stored, expected)?;
            if prepared.is_empty() {
                return Err(Error::invalid("edits", "give at least one change"));
            }
            for (edit, _) in &prepared {
                if let TenantEdit::BaseUrl(Some(url)) = edit {
                    host_free(conn, url, tenant)?;
                }
            }
            for (edit, json) in &prepared {
                match edit {
                    TenantEdit::Rename(name) => conn
                        .prepare_cached("UPDATE tenants SET name = ?1 WHERE id = ?2")
                        .and_then(|mut s| s.execute(params![name, key])),
                    TenantEdit::NotificationRecipients(_) => conn
                        .prepare_cached(
                            "UPDATE tenants SET notification_recipients = ?1 WHERE id = ?2",
                        )
                        .and_then(|mut s| s.execute(params![json, key])),
                    TenantEdit::Branding(_) => conn
                        .prepare_cached("UPDATE tenants SET branding = ?1 WHERE id = ?2")
                        .and_then(|mut s| s.execute(params![json, key])),
                    TenantEdit::BaseUrl(url) => conn
                        .prepare_cached(
                            "UPDATE tenants SET base_url = ?1, base_host = ?2 WHERE id = ?3",
                        )
                        .and_then(|mut s| {
                            s.execute(params![
                                url.as_ref().map(|u| u.as_str()),
                                url.as_ref().map(|u| u.host()),
                                key
                            ])
                        }),
                    TenantEdit::Sender(_) => conn
                        .prepare_cached("UPDATE tenants SET sender = ?1 WHERE id = ?2")
                        .and_then(|mut s| s.execute(params![json, key])),
                    _ => return Err(Error::storage_msg("an edit this store does not know")),
                }
                .db("editing a tenant")?;
            }
            let changed = conn
                .prepare_cached("UPDATE tenants SET version = version + 1 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![key]))
                .db("editing a tenant")?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: Entity::Tenant,
                });
            }
            let mut stmt = conn
                .prepare_cached(&format!("SELECT {TENANT_COLS} FROM tenants WHERE id = ?1"))
                .db("reading a tenant")?;
            stmt.query_row([key], codec::tenant).db("reading a tenant")
        })
        .await
    }

    async fn delete_portal(&self, portal: PortalId, erasure: &Erasure) -> Result<Vec<BlobId>> {
        let erasure = erasure.clone();
        let by = codec::to_json(&erasure.by)?;
        self.write_content(portal, move |conn| {
            let p = load_portal(conn, portal)?;
            if erasure.portal_id != portal || erasure.tenant_id != p.tenant_id {
                return Err(Error::invalid(
                    "erasure",
                    "must name the deleted portal and its tenant",
                ));
            }
            let key = &portal.as_bytes()[..];
            let blobs: Vec<BlobId> = {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT blob_id FROM document_files WHERE portal_id = ?1
                         UNION ALL
                         SELECT blob_id FROM dropped_files
                         WHERE portal_id = ?1 AND bytes_removed = 0
                         UNION ALL
                         SELECT blob_id FROM signature_documents WHERE portal_id = ?1
                         UNION ALL
                         SELECT blob_id FROM task_attachments WHERE portal_id = ?1
                         UNION ALL
                         SELECT image_blob FROM signatures
                         WHERE portal_id = ?1 AND image_blob IS NOT NULL",
                    )
                    .db("listing a portal's files")?;
                let rows = stmt
                    .query_map([key], |row| {
                        let bytes: Vec<u8> = row.get(0)?;
                        Ok(bytes)
                    })
                    .db("listing a portal's files")?;
                let mut out = Vec::new();
                for bytes in rows {
                    let bytes = bytes.db("listing a portal's files")?;
                    let id: [u8; 16] = bytes
                        .try_into()
                        .map_err(|_| Error::storage_msg("a stored blob id is not 16 bytes"))?;
                    out.push(BlobId::from_bytes(id));
                }
                out
            };
            let audit_head = crate::audit::head(conn, portal)?;
            let of_contacts = "contact_id IN (SELECT id FROM contacts WHERE portal_id = ?1)";
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
                    "DELETE FROM reminder_settings WHERE portal_id = ?1".to_owned(),
                    "reminder settings",
                ),
                (
                    "DELETE FROM escalations WHERE portal_id = ?1".to_owned(),
                    "escalations",
                ),
                (
                    "DELETE FROM access_log WHERE portal_id = ?1".to_owned(),
                    "access log",
                ),
                (
                    "DELETE FROM comments WHERE portal_id = ?1".to_owned(),
                    "comments",
                ),
                (
                    "DELETE FROM questions WHERE portal_id = ?1".to_owned(),
                    "questions",
                ),
                (
                    "DELETE FROM activity WHERE portal_id = ?1".to_owned(),
                    "activity",
                ),
                (
                    "DELETE FROM document_files WHERE portal_id = ?1".to_owned(),
                    "files",
                ),
                (
                    "DELETE FROM dropped_files WHERE portal_id = ?1".to_owned(),
                    "dropped files",
                ),
                (
                    "DELETE FROM credential_fields WHERE portal_id = ?1".to_owned(),
                    "credential fields",
                ),
                (
                    "DELETE FROM credentials WHERE portal_id = ?1".to_owned(),
                    "credentials",
                ),
                (
                    "DELETE FROM signatures WHERE portal_id = ?1".to_owned(),
                    "signatures",
                ),
                (
                    "DELETE FROM signature_documents WHERE portal_id = ?1".to_owned(),
                    "signature documents",
                ),
                (
                    "DELETE FROM task_attachments WHERE portal_id = ?1".to_owned(),
                    "task attachments",
                ),
                (
                    "DELETE FROM document_opens WHERE portal_id = ?1".to_owned(),
                    "document opens",
                ),
                ("DELETE FROM tasks WHERE portal_id = ?1".to_owned(), "tasks"),
                (
                    "DELETE FROM phases WHERE portal_id = ?1".to_owned(),
                    "phases",
                ),
                (
                    "DELETE FROM contacts WHERE portal_id = ?1".to_owned(),
                    "contacts",
                ),
                (
                    "DELETE FROM outbox WHERE portal_id = ?1".to_owned(),
                    "emails",
                ),
                ("DELETE FROM portals WHERE id = ?1".to_owned(), "portal"),
                // After the portal row: the trigger keeps a live portal's chain.
                (
                    "DELETE FROM audit_events WHERE portal_id = ?1".to_owned(),
                    "audit trail",
                ),
            ] {
                conn.prepare_cached(&sql)
                    .and_then(|mut s| s.execute([key]))
                    .map_err(|e| Error::storage(format!("deleting a portal's {what}"), e))?;
            }
            conn.prepare_cached(
                "INSERT INTO erasures (tenant_id, portal_id, client_name, at, by_actor,
                    audit_seq, audit_head)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &erasure.tenant_id.as_bytes()[..],
                    key,
                    erasure.client_name,
                    micros(erasure.at),
                    by,
                    audit_head.map(|h| i64::try_from(h.seq).unwrap_or(i64::MAX)),
                    audit_head.map(|h| h.hash.to_vec()),
                ])
            })
            .db("recording an erasure")?;
            Ok(blobs)
        })
        .await
    }

    async fn erasures(&self, tenant: TenantId) -> Result<Vec<Erasure>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT tenant_id, portal_id, client_name, at, by_actor, audit_seq, audit_head
                     FROM erasures
                     WHERE tenant_id = ?1 ORDER BY id DESC",
                )
                .db("reading the erasure log")?;
            stmt.query_map([&tenant.as_bytes()[..]], codec::erasure)
                .and_then(Iterator::collect)
                .db("reading the erasure log")
        })
        .await
    }
}

/// Inserts a task row as given (position included): shared by `add_task` and the plan
/// store, so both write every column the same way.
pub(crate) fn insert_task(conn: &Connection, t: &Task) -> Result<()> {
    let kind = codec::to_json(&t.kind)?;
    let evidence = codec::to_json(&t.evidence)?;
    let assigned_to = codec::to_json(&t.assigned_to)?;
    let waits_on = codec::to_json(&t.waits_on)?;
    let version =
        i64::try_from(t.version).map_err(|_| Error::storage_msg("task version out of range"))?;
    conn.prepare_cached(
        "INSERT INTO tasks (portal_id, phase_id, position, id, title, description,
            assignee, kind, status, blocked_reason, due_date, created_at, updated_at,
            evidence, version, assigned_to, waits_on, internal, for_role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19)",
    )
    .and_then(|mut s| {
        s.execute(params![
            &t.portal_id.as_bytes()[..],
            &t.phase_id.as_bytes()[..],
            t.position,
            &t.id.as_bytes()[..],
            t.title,
            t.description,
            t.assignee.as_str(),
            kind,
            t.status.as_str(),
            t.blocked_reason,
            t.due_date.map(codec::date_str),
            micros(t.created_at),
            micros(t.updated_at),
            evidence,
            version,
            assigned_to,
            waits_on,
            t.internal,
            t.for_role
        ])
    })
    .db("storing a task")?;
    Ok(())
}

/// A portal's snapshot (portal, phases by position, tasks by phase then position),
/// read on `conn` (inside the caller's transaction).
pub(crate) fn load_snapshot(conn: &Connection, portal: PortalId) -> Result<PortalSnapshot> {
    let p = load_portal(conn, portal)?;
    let phases = conn
        .prepare_cached(&format!(
            "SELECT {PHASE_COLS} FROM phases WHERE portal_id = ?1 ORDER BY position"
        ))
        .and_then(|mut s| {
            s.query_map([&portal.as_bytes()[..]], codec::phase)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        })
        .db("reading a portal's phases")?;
    let tasks = conn
        .prepare_cached(concat!(
            "SELECT ",
            task_cols!(),
            " FROM phases ph JOIN tasks t
                ON t.portal_id = ph.portal_id AND t.phase_id = ph.id
             WHERE ph.portal_id = ?1
             ORDER BY ph.position, t.position"
        ))
        .and_then(|mut s| {
            s.query_map([&portal.as_bytes()[..]], codec::task)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        })
        .db("reading a portal's tasks")?;
    Ok(PortalSnapshot {
        portal: p,
        phases,
        tasks,
    })
}

/// A portal's contacts, oldest first (ties in insertion order).
pub(crate) fn load_contacts(conn: &Connection, portal: PortalId) -> Result<Vec<Contact>> {
    let mut stmt = conn
        .prepare_cached(concat!(
            "SELECT ",
            contact_cols!(),
            " FROM contacts c WHERE c.portal_id = ?1 ORDER BY c.created_at, c.rowid"
        ))
        .db("listing contacts")?;
    stmt.query_map([&portal.as_bytes()[..]], |row| codec::contact_at(row, 0))
        .and_then(Iterator::collect)
        .db("listing contacts")
}

/// The version of a versioned row (`sql` selects it by id), `None` if missing: read
/// inside the unit that changes the row, for its compare-and-set.
fn stored_version(conn: &rusqlite::Connection, sql: &str, key: &[u8]) -> Result<Option<u64>> {
    let v: Option<i64> = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
        .db("reading a version")?;
    v.map(|v| u64::try_from(v).map_err(|_| Error::storage_msg("a stored version is negative")))
        .transpose()
}

/// Writes a new portal's row with every field it keeps (`branding` already encoded):
/// the one insert both `create_portal` and `create_portal_with_plan` use, so neither
/// can forget a column.
pub(crate) fn insert_portal(conn: &Connection, p: &Portal, branding: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO portals
           (id, tenant_id, client_name, status, branding, created_at, target_date,
            colleague_invitations)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            &p.id.as_bytes()[..],
            &p.tenant_id.as_bytes()[..],
            p.client_name,
            p.status.as_str(),
            branding,
            micros(p.created_at),
            p.target_date.map(codec::date_str),
            p.colleague_invitations.as_str()
        ])
    })
    .db("storing a portal")?;
    Ok(())
}

/// `Conflict` if a tenant other than `own` has a base URL on `url`'s host (read in
/// the writing unit, so two tenants racing for one host cannot both get it).
fn host_free(
    conn: &rusqlite::Connection,
    url: &portal_core::model::TenantBaseUrl,
    own: TenantId,
) -> Result<()> {
    if exists(
        conn,
        "SELECT 1 FROM tenants WHERE base_host = ?1 AND id <> ?2",
        params![url.host(), &own.as_bytes()[..]],
    )? {
        return Err(Error::conflict(
            "another account already uses this host name for its portal",
        ));
    }
    Ok(())
}

/// Writes a new contact row, every column of [`Contact`] (the caller checked the
/// portal, the id and the email).
pub(crate) fn insert_contact(conn: &rusqlite::Connection, c: &Contact) -> Result<()> {
    let guest = crate::codec::guest_json(c.guest.as_ref())?;
    conn.prepare_cached(
        "INSERT INTO contacts (id, portal_id, name, email, revoked_at, created_at, time_zone,
                               invited_by, awaiting_approval, role, guest, language)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .and_then(|mut s| {
        s.execute(params![
            &c.id.as_bytes()[..],
            &c.portal_id.as_bytes()[..],
            c.name,
            c.email.as_str(),
            c.revoked_at.map(micros),
            micros(c.created_at),
            c.time_zone.name(),
            c.invited_by.map(|i| i.as_bytes().to_vec()),
            c.awaiting_approval,
            c.role,
            guest,
            c.language.map(|l| l.code())
        ])
    })
    .db("storing a contact")?;
    Ok(())
}
