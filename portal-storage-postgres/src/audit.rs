//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use portal_core::audit::{self, AuditEntry, ChainHead, ChainedEvent};
use portal_core::store::AuditStore;
use portal_core::{Entity, Error, PortalId, Result};

use crate::PostgresStore;

#[async_trait]
impl AuditStore for PostgresStore {

    async fn append_audit(&self, entry: &AuditEntry) -> Result<ChainedEvent> {
        Err(crate::not_ported("AuditStore::append_audit"))
    }

    async fn audit_events(
        &self,
        portal: PortalId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChainedEvent>> {
        Err(crate::not_ported("AuditStore::audit_events"))
    }
}

/// Appends `entry` to `portal`'s chain inside the caller's unit (TO PORT from SQLite's
/// `audit::append`).
pub(crate) fn append(
    tx: &mut crate::tx::Tx<'_>,
    portal: PortalId,
    entry: &AuditEntry,
) -> Result<ChainedEvent> {
    Err(crate::not_ported("audit::append"))
}

/// The head of `portal`'s chain (TO PORT from SQLite's `audit::head`).
pub(crate) fn head(tx: &mut crate::tx::Tx<'_>, portal: PortalId) -> Result<Option<ChainHead>> {
    Err(crate::not_ported("audit::head"))
}
