//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use std::sync::Arc;
use async_trait::async_trait;
use portal_core::model::{
    Contact, Logo, OnboardingTeam, Phase, Portal, PortalSnapshot, PortalStatus, Task, Tenant,
};
use portal_core::store::{ContactEdit, Erasure, Page, PageKey, PortalEdit, TenantEdit};
use portal_core::workflow::ActivityEntry;
use portal_core::{
    BlobId, ContactId, DirectoryStore, Entity, Error, PhaseId, PortalId, Result, TaskId, TenantId,
};

use crate::PostgresStore;

#[async_trait]
impl DirectoryStore for PostgresStore {

    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        Err(crate::not_ported("DirectoryStore::create_tenant"))
    }

    async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        Err(crate::not_ported("DirectoryStore::tenant"))
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        Err(crate::not_ported("DirectoryStore::tenants"))
    }

    async fn create_portal(&self, portal: &Portal, activity: Option<&ActivityEntry>) -> Result<()> {
        Err(crate::not_ported("DirectoryStore::create_portal"))
    }

    async fn portal(&self, id: PortalId) -> Result<Portal> {
        Err(crate::not_ported("DirectoryStore::portal"))
    }

    async fn portals(&self, tenant: TenantId) -> Result<Vec<Portal>> {
        Err(crate::not_ported("DirectoryStore::portals"))
    }

    async fn portals_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Portal>> {
        Err(crate::not_ported("DirectoryStore::portals_page"))
    }

    async fn set_portal_status(&self, portal: PortalId, status: PortalStatus) -> Result<()> {
        Err(crate::not_ported("DirectoryStore::set_portal_status"))
    }

    async fn contacts_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Contact>> {
        Err(crate::not_ported("DirectoryStore::contacts_page"))
    }

    async fn add_contact(&self, contact: &Contact, activity: Option<&ActivityEntry>) -> Result<()> {
        Err(crate::not_ported("DirectoryStore::add_contact"))
    }

    async fn contact(&self, id: ContactId) -> Result<Contact> {
        Err(crate::not_ported("DirectoryStore::contact"))
    }

    async fn contacts(&self, portal: PortalId) -> Result<Vec<Contact>> {
        Err(crate::not_ported("DirectoryStore::contacts"))
    }

    async fn add_phase(
        &self,
        portal: PortalId,
        id: PhaseId,
        name: &str,
        activity: Option<&ActivityEntry>,
    ) -> Result<Phase> {
        Err(crate::not_ported("DirectoryStore::add_phase"))
    }

    async fn add_task(&self, task: &Task, activity: Option<&ActivityEntry>) -> Result<Task> {
        Err(crate::not_ported("DirectoryStore::add_task"))
    }

    async fn put_logo(&self, logo: &Logo) -> Result<()> {
        Err(crate::not_ported("DirectoryStore::put_logo"))
    }

    async fn logo(&self, sha256: &str) -> Result<Logo> {
        Err(crate::not_ported("DirectoryStore::logo"))
    }

    async fn portal_team(&self, portal: PortalId) -> Result<OnboardingTeam> {
        Err(crate::not_ported("DirectoryStore::portal_team"))
    }

    async fn portal_snapshot(&self, portal: PortalId) -> Result<PortalSnapshot> {
        Err(crate::not_ported("DirectoryStore::portal_snapshot"))
    }

    async fn edit_portal(
        &self,
        portal: PortalId,
        edit: &PortalEdit,
        expected: Option<u64>,
        activity: &ActivityEntry,
    ) -> Result<Portal> {
        Err(crate::not_ported("DirectoryStore::edit_portal"))
    }

    async fn edit_portal_fields(
        &self,
        portal: PortalId,
        edits: &[(PortalEdit, ActivityEntry)],
        expected: Option<u64>,
    ) -> Result<Portal> {
        Err(crate::not_ported("DirectoryStore::edit_portal_fields"))
    }

    async fn edit_contact(
        &self,
        contact: ContactId,
        edit: &ContactEdit,
        expected: Option<&str>,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        Err(crate::not_ported("DirectoryStore::edit_contact"))
    }

    async fn edit_tenant(
        &self,
        tenant: TenantId,
        edit: &TenantEdit,
        expected: Option<u64>,
    ) -> Result<Tenant> {
        Err(crate::not_ported("DirectoryStore::edit_tenant"))
    }

    async fn edit_tenant_settings(
        &self,
        tenant: TenantId,
        edits: &[TenantEdit],
        expected: Option<u64>,
    ) -> Result<Tenant> {
        Err(crate::not_ported("DirectoryStore::edit_tenant_settings"))
    }

    async fn delete_portal(&self, portal: PortalId, erasure: &Erasure) -> Result<Vec<BlobId>> {
        Err(crate::not_ported("DirectoryStore::delete_portal"))
    }

    async fn erasures(&self, tenant: TenantId) -> Result<Vec<Erasure>> {
        Err(crate::not_ported("DirectoryStore::erasures"))
    }
}

// ----- shared with the other modules (ported by the lead; signatures fixed) ---------

use postgres::types::ToSql;

use crate::codec::{self as pgcodec, DbResult as _};
use crate::tx::Tx;

/// Whether a query returns a row.
pub(crate) fn exists(tx: &mut Tx<'_>, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<bool> {
    tx.query_opt(sql, params)
        .map(|row| row.is_some())
        .map_err(|e| pgcodec::map_error("checking a record exists", e))
}

/// Whether a portal exists.
pub(crate) fn portal_exists(tx: &mut Tx<'_>, portal: PortalId) -> Result<bool> {
    exists(
        tx,
        "SELECT 1 FROM portals WHERE id = $1",
        &[&&portal.as_bytes()[..]],
    )
}

/// Reads a task through its portal: `NotFound` if it is not in that portal.
pub(crate) fn load_task(tx: &mut Tx<'_>, portal: PortalId, task: TaskId) -> Result<Task> {
    let row = tx
        .query_opt(
            concat!(
                "SELECT ",
                pgcodec::task_cols!(),
                " FROM tasks t WHERE t.id = $1 AND t.portal_id = $2"
            ),
            &[&&task.as_bytes()[..], &&portal.as_bytes()[..]],
        )
        .map_err(|e| pgcodec::map_error("reading a task", e))?
        .ok_or(Error::NotFound {
            entity: Entity::Task,
        })?;
    pgcodec::task(&row)
}

/// Inserts a task row (TO PORT from SQLite's `directory::insert_task`).
pub(crate) fn insert_task(tx: &mut Tx<'_>, t: &Task) -> Result<()> {
    Err(crate::not_ported("directory::insert_task"))
}

/// A portal with its phases and tasks (TO PORT from SQLite's `directory::load_snapshot`).
pub(crate) fn load_snapshot(tx: &mut Tx<'_>, portal: PortalId) -> Result<PortalSnapshot> {
    Err(crate::not_ported("directory::load_snapshot"))
}

/// A portal's contacts (TO PORT from SQLite's `directory::load_contacts`).
pub(crate) fn load_contacts(tx: &mut Tx<'_>, portal: PortalId) -> Result<Vec<Contact>> {
    Err(crate::not_ported("directory::load_contacts"))
}

/// Inserts a portal row (TO PORT from SQLite's `directory::insert_portal`).
pub(crate) fn insert_portal(tx: &mut Tx<'_>, p: &Portal, branding: &str) -> Result<()> {
    Err(crate::not_ported("directory::insert_portal"))
}

/// Inserts a contact row (TO PORT from SQLite's `directory::insert_contact`).
pub(crate) fn insert_contact(tx: &mut Tx<'_>, c: &Contact) -> Result<()> {
    Err(crate::not_ported("directory::insert_contact"))
}

/// A tenant's portals oldest first, by key `(created_at, rowid)` (TO PORT).
pub(crate) const PORTAL_PAGE: pgcodec::PageQuery = pgcodec::PageQuery {
    first: "TO PORT",
    after: "TO PORT",
    width: 9,
};

/// A portal's contacts oldest first, by key `(created_at, rowid)` (TO PORT).
pub(crate) const CONTACT_PAGE: pgcodec::PageQuery = pgcodec::PageQuery {
    first: "TO PORT",
    after: "TO PORT",
    width: 12,
};
