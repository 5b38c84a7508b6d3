//! [`CredentialStore`] for [`PostgresStore`]: a `credentials` row per submitted task
//! and a `credential_fields` row per sealed field (wrapped key and ciphertext, never a
//! plaintext). Each unit is one `SERIALIZABLE` transaction: the checks first, then the
//! writes, the task change and the audit append ([`crate::audit::append`]); any error
//! rolls the whole unit back. A purge deletes the field rows (PostgreSQL reclaims the
//! dead tuples at its next vacuum; the ciphertexts were sealed, never plaintext).

use async_trait::async_trait;

use portal_core::audit::AuditEntry;
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::credentials::{CredentialField, CredentialRecord, SealedField};
use portal_core::model::Task;
use portal_core::outbox::OutboxMessage;
use portal_core::store::{CredentialStore, TaskDecision};
use portal_core::workflow::CheckMark;
use portal_core::{Entity, Error, PortalId, Result, TaskId};

use crate::PostgresStore;
use crate::codec::{
    self, DbResult, get, json, micros, opt_json, parsed, portal_id, task_id, tenant_id, time,
};
use crate::directory::load_task;
use crate::tx::Tx;
use crate::workflow::write_task;

/// Reads a task's record: `NotFound(Task)` if the task is not the portal's,
/// `NotFound(Credentials)` if nothing was submitted.
fn load(tx: &mut Tx<'_>, portal: PortalId, task: TaskId) -> Result<CredentialRecord> {
    load_task(tx, portal, task)?;
    let (p, t) = (&portal.as_bytes()[..], &task.as_bytes()[..]);
    let head = tx
        .query_opt(
            "SELECT tenant_id, portal_id, task_id, submitted_by, submitted_at, purged
             FROM credentials WHERE portal_id = $1 AND task_id = $2",
            &[&p, &t],
        )
        .db("reading submitted credentials")?
        .ok_or(Error::NotFound {
            entity: Entity::Credentials,
        })?;
    let mut record = CredentialRecord {
        tenant_id: tenant_id(&head, 0)?,
        portal_id: portal_id(&head, 1)?,
        task_id: task_id(&head, 2)?,
        submitted_by: json(&head, 3)?,
        submitted_at: time(&head, 4)?,
        fields: Vec::new(),
        purged: opt_json(&head, 5)?,
    };
    let rows = tx
        .query(
            "SELECT field, key_id, wrapped_key, ciphertext FROM credential_fields
             WHERE portal_id = $1 AND task_id = $2 ORDER BY position",
            &[&p, &t],
        )
        .db("reading sealed credential fields")?;
    record.fields = rows
        .iter()
        .map(|row| {
            Ok(SealedField {
                field: parsed(row, 0, |name: &str| {
                    CredentialField::parse(name)
                        .ok_or_else(|| Error::storage_msg("an unknown credential field"))
                })?,
                key: WrappedKey {
                    key_id: parsed(row, 1, KeyId::parse)?,
                    bytes: get(row, 2)?,
                },
                ciphertext: get(row, 3)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(record)
}

/// A record that may still be revealed or purged.
fn load_live(tx: &mut Tx<'_>, portal: PortalId, task: TaskId) -> Result<CredentialRecord> {
    let record = load(tx, portal, task)?;
    if record.purged.is_some() {
        return Err(Error::conflict("These credentials were purged."));
    }
    Ok(record)
}

fn insert(tx: &mut Tx<'_>, r: &CredentialRecord) -> Result<()> {
    let by = codec::to_json(&r.submitted_by)?;
    let key = (&r.portal_id.as_bytes()[..], &r.task_id.as_bytes()[..]);
    tx.execute(
        "INSERT INTO credentials (portal_id, task_id, tenant_id, submitted_by, submitted_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &key.0,
            &key.1,
            &&r.tenant_id.as_bytes()[..],
            &by,
            &micros(r.submitted_at),
        ],
    )
    .db("storing submitted credentials")?;
    for (position, f) in r.fields.iter().enumerate() {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO credential_fields
                (portal_id, task_id, position, field, key_id, wrapped_key, ciphertext)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &key.0,
                &key.1,
                &position,
                &f.field.as_str(),
                &f.key.key_id.as_str(),
                &f.key.bytes,
                &f.ciphertext,
            ],
        )
        .db("storing a sealed credential field")?;
    }
    Ok(())
}

#[async_trait]
impl CredentialStore for PostgresStore {
    async fn submit_credentials(
        &self,
        record: &CredentialRecord,
        decide: TaskDecision,
        audit: &AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task> {
        let (record, audit, emails) = (record.clone(), audit.clone(), emails.to_vec());
        let portal = record.portal_id;
        self.write_content(portal, move |tx| {
            let current = load_task(tx, portal, record.task_id)?;
            match load(tx, portal, record.task_id) {
                Ok(_) => return Err(Error::conflict("These credentials were already submitted.")),
                Err(Error::NotFound {
                    entity: Entity::Credentials,
                }) => {}
                Err(e) => return Err(e),
            }
            let change = decide(&current)?;
            let tenant = crate::documents::portal_tenant(tx, portal)?;
            record.ensure_belongs(&current, tenant)?;
            portal_core::audit::ensure_portal(&audit, portal, tenant)?;
            let (next, activity) = change.apply_to(&current)?;
            insert(tx, &record)?;
            write_task(tx, &next, &activity)?;
            crate::audit::append(tx, portal, &audit)?;
            crate::outbox::insert(tx, &emails)?;
            Ok(next)
        })
        .await
    }

    async fn credentials(&self, portal: PortalId, task: TaskId) -> Result<CredentialRecord> {
        self.read(move |tx| load(tx, portal, task)).await
    }

    async fn reveal_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        audit: &AuditEntry,
    ) -> Result<CredentialRecord> {
        let audit = audit.clone();
        self.write(move |tx| {
            let record = load_live(tx, portal, task)?;
            let tenant = crate::documents::portal_tenant(tx, portal)?;
            portal_core::audit::ensure_portal(&audit, portal, tenant)?;
            crate::audit::append(tx, portal, &audit)?;
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
        self.write(move |tx| {
            load_live(tx, portal, task)?;
            let tenant = crate::documents::portal_tenant(tx, portal)?;
            portal_core::audit::ensure_portal(&audit, portal, tenant)?;
            let (p, t) = (&portal.as_bytes()[..], &task.as_bytes()[..]);
            tx.execute(
                "DELETE FROM credential_fields WHERE portal_id = $1 AND task_id = $2",
                &[&p, &t],
            )
            .db("purging sealed credential fields")?;
            tx.execute(
                "UPDATE credentials SET purged = $3 WHERE portal_id = $1 AND task_id = $2",
                &[&p, &t, &purged],
            )
            .db("marking credentials purged")?;
            crate::audit::append(tx, portal, &audit)?;
            Ok(())
        })
        .await
    }
}
