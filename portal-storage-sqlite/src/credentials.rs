//! [`CredentialStore`] for [`SqliteStore`]: a `credentials` row per submitted task and
//! a `credential_fields` row per sealed field (wrapped key and ciphertext, never a
//! plaintext). Each unit is one job on the writer: the checks first, then the writes,
//! the task change and the audit append ([`crate::audit::append`]); any error rolls
//! the whole job back. A purge deletes the field rows; the writer's `secure_delete`
//! overwrites their bytes in the file.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use portal_core::audit::AuditEntry;
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::credentials::{CredentialField, CredentialRecord, SealedField};
use portal_core::model::Task;
use portal_core::outbox::OutboxMessage;
use portal_core::store::{CredentialStore, TaskDecision};
use portal_core::workflow::CheckMark;
use portal_core::{Entity, Error, PortalId, Result, TaskId};

use crate::SqliteStore;
use crate::codec::{
    self, DbResult, json, micros, opt_json, parsed, portal_id, task_id, tenant_id, time,
};
use crate::directory::load_task;
use crate::workflow::write_task;

/// Reads a task's record: `NotFound(Task)` if the task is not the portal's,
/// `NotFound(Credentials)` if nothing was submitted.
fn load(conn: &Connection, portal: PortalId, task: TaskId) -> Result<CredentialRecord> {
    load_task(conn, portal, task)?;
    let key = params![&portal.as_bytes()[..], &task.as_bytes()[..]];
    let head = conn
        .prepare_cached(
            "SELECT tenant_id, portal_id, task_id, submitted_by, submitted_at, purged
             FROM credentials WHERE portal_id = ?1 AND task_id = ?2",
        )
        .and_then(|mut s| {
            s.query_row(key, |row| {
                Ok(CredentialRecord {
                    tenant_id: tenant_id(row, 0)?,
                    portal_id: portal_id(row, 1)?,
                    task_id: task_id(row, 2)?,
                    submitted_by: json(row, 3)?,
                    submitted_at: time(row, 4)?,
                    fields: Vec::new(),
                    purged: opt_json(row, 5)?,
                })
            })
            .optional()
        })
        .db("reading submitted credentials")?;
    let mut record = head.ok_or(Error::NotFound {
        entity: Entity::Credentials,
    })?;
    record.fields = conn
        .prepare_cached(
            "SELECT field, key_id, wrapped_key, ciphertext FROM credential_fields
             WHERE portal_id = ?1 AND task_id = ?2 ORDER BY position",
        )
        .and_then(|mut s| {
            s.query_map(key, |row| {
                Ok(SealedField {
                    field: parsed(row, 0, |name: &str| {
                        CredentialField::parse(name)
                            .ok_or_else(|| Error::storage_msg("an unknown credential field"))
                    })?,
                    key: WrappedKey {
                        key_id: parsed(row, 1, KeyId::parse)?,
                        bytes: row.get(2)?,
                    },
                    ciphertext: row.get(3)?,
                })
            })
            .and_then(Iterator::collect)
        })
        .db("reading sealed credential fields")?;
    Ok(record)
}

/// A record that may still be revealed or purged.
fn load_live(conn: &Connection, portal: PortalId, task: TaskId) -> Result<CredentialRecord> {
    let record = load(conn, portal, task)?;
    if record.purged.is_some() {
        return Err(Error::conflict("These credentials were purged."));
    }
    Ok(record)
}

fn insert(conn: &Connection, r: &CredentialRecord) -> Result<()> {
    let by = codec::to_json(&r.submitted_by)?;
    let key = (&r.portal_id.as_bytes()[..], &r.task_id.as_bytes()[..]);
    conn.prepare_cached(
        "INSERT INTO credentials (portal_id, task_id, tenant_id, submitted_by, submitted_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            key.0,
            key.1,
            &r.tenant_id.as_bytes()[..],
            by,
            micros(r.submitted_at)
        ])
    })
    .db("storing submitted credentials")?;
    for (position, f) in r.fields.iter().enumerate() {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        conn.prepare_cached(
            "INSERT INTO credential_fields
                (portal_id, task_id, position, field, key_id, wrapped_key, ciphertext)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![
                key.0,
                key.1,
                position,
                f.field.as_str(),
                f.key.key_id.as_str(),
                f.key.bytes,
                f.ciphertext
            ])
        })
        .db("storing a sealed credential field")?;
    }
    Ok(())
}

#[async_trait]
impl CredentialStore for SqliteStore {
    async fn submit_credentials(
        &self,
        record: &CredentialRecord,
        decide: TaskDecision,
        audit: &AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task> {
        let (record, audit, emails) = (record.clone(), audit.clone(), emails.to_vec());
        let portal = record.portal_id;
        self.write_content(portal, move |conn| {
            let current = load_task(conn, portal, record.task_id)?;
            match load(conn, portal, record.task_id) {
                Ok(_) => return Err(Error::conflict("These credentials were already submitted.")),
                Err(Error::NotFound {
                    entity: Entity::Credentials,
                }) => {}
                Err(e) => return Err(e),
            }
            let change = decide(&current)?;
            let tenant = crate::documents::portal_tenant(conn, portal)?;
            record.ensure_belongs(&current, tenant)?;
            portal_core::audit::ensure_portal(&audit, portal, tenant)?;
            let (next, activity) = change.apply_to(&current)?;
            insert(conn, &record)?;
            write_task(conn, &next, &activity)?;
            crate::audit::append(conn, portal, &audit)?;
            crate::outbox::insert(conn, &emails)?;
            Ok(next)
        })
        .await
    }

    async fn credentials(&self, portal: PortalId, task: TaskId) -> Result<CredentialRecord> {
        self.read(move |conn| load(conn, portal, task)).await
    }

    async fn reveal_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        audit: &AuditEntry,
    ) -> Result<CredentialRecord> {
        let audit = audit.clone();
        self.write(move |conn| {
            let record = load_live(conn, portal, task)?;
            let tenant = crate::documents::portal_tenant(conn, portal)?;
            portal_core::audit::ensure_portal(&audit, portal, tenant)?;
            crate::audit::append(conn, portal, &audit)?;
            Ok(record)
        })
        .await
    }

    async fn purge_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        purged: &CheckMark,
        audit: &AuditEntry,
    ) -> Result<()> {
        let (audit, purged) = (audit.clone(), codec::to_json(purged)?);
        self.write(move |conn| {
            load_live(conn, portal, task)?;
            let tenant = crate::documents::portal_tenant(conn, portal)?;
            portal_core::audit::ensure_portal(&audit, portal, tenant)?;
            let key = params![&portal.as_bytes()[..], &task.as_bytes()[..]];
            conn.prepare_cached(
                "DELETE FROM credential_fields WHERE portal_id = ?1 AND task_id = ?2",
            )
            .and_then(|mut s| s.execute(key))
            .db("purging sealed credential fields")?;
            conn.prepare_cached(
                "UPDATE credentials SET purged = ?3 WHERE portal_id = ?1 AND task_id = ?2",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &portal.as_bytes()[..],
                    &task.as_bytes()[..],
                    purged
                ])
            })
            .db("marking credentials purged")?;
            crate::audit::append(conn, portal, &audit)?;
            Ok(())
        })
        .await
    }
}
