//! [`AttachmentStore`] for [`PostgresStore`]: a `task_attachments` row per file staff
//! attached to a task (its blob id and wrapped key, never its bytes) and a
//! `document_opens` row per (task, contact, content hash). Each change is one
//! `SERIALIZABLE` unit: checks first, then the rows and the feed entry; any error rolls
//! the whole unit back. Concurrent additions to one task run as if one after the
//! other, so the count a unit checks against the cap is the count it adds to.

use async_trait::async_trait;
use postgres::Row;
use postgres::types::ToSql;

use portal_core::attachments::{DocumentOpen, TaskAttachment, may_add};
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::ids::{AttachmentId, BlobId};
use portal_core::store::AttachmentStore;
use portal_core::workflow::ActivityEntry;
use portal_core::{Entity, Error, PortalId, Result, TaskId};

use crate::PostgresStore;
use crate::codec::{
    self, DbResult, byte_size, bytes_n, contact_id, from_serde_name, get, json, micros, parsed,
    portal_id, task_id, tenant_id, time,
};
use crate::directory::{exists, load_task};
use crate::tx::Tx;
use crate::workflow::rows::ActivityRow;

const COLUMNS: &str = "id, tenant_id, portal_id, task_id, name, file_type, size, sha256,
    blob_id, key_id, wrapped_key, added_by, added_at";

fn attachment(row: &Row) -> Result<TaskAttachment> {
    Ok(TaskAttachment {
        id: AttachmentId::from_bytes(bytes_n::<16>(row, 0)?),
        tenant_id: tenant_id(row, 1)?,
        portal_id: portal_id(row, 2)?,
        task_id: task_id(row, 3)?,
        name: get(row, 4)?,
        file_type: parsed(row, 5, from_serde_name)?,
        size: byte_size(row, 6)?,
        sha256: bytes_n::<32>(row, 7)?,
        blob: BlobId::from_bytes(bytes_n::<16>(row, 8)?),
        key: WrappedKey {
            key_id: parsed(row, 9, KeyId::parse)?,
            bytes: get(row, 10)?,
        },
        added_by: json(row, 11)?,
        added_at: time(row, 12)?,
    })
}

fn open_row(row: &Row) -> Result<DocumentOpen> {
    Ok(DocumentOpen {
        portal_id: portal_id(row, 0)?,
        task_id: task_id(row, 1)?,
        contact_id: contact_id(row, 2)?,
        sha256: bytes_n::<32>(row, 3)?,
        at: time(row, 4)?,
    })
}

fn list(tx: &mut Tx<'_>, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<Vec<TaskAttachment>> {
    tx.query(sql, args)
        .db("listing attachments")?
        .iter()
        .map(attachment)
        .collect()
}

fn load(tx: &mut Tx<'_>, portal: PortalId, id: AttachmentId) -> Result<TaskAttachment> {
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM task_attachments WHERE id = $1 AND portal_id = $2"),
            &[&&id.as_bytes()[..], &&portal.as_bytes()[..]],
        )
        .db("reading an attachment")?
        .ok_or(Error::NotFound {
            entity: Entity::File,
        })?;
    attachment(&row)
}

fn blob_taken(tx: &mut Tx<'_>, a: &TaskAttachment) -> Result<bool> {
    // `LIMIT 1`: `exists` reads at most one row of the union.
    exists(
        tx,
        "SELECT 1 FROM document_files WHERE blob_id = $1
         UNION ALL SELECT 1 FROM dropped_files WHERE blob_id = $1
         UNION ALL SELECT 1 FROM signatures WHERE image_blob = $1
         UNION ALL SELECT 1 FROM signature_documents WHERE blob_id = $1
         UNION ALL SELECT 1 FROM task_attachments WHERE blob_id = $1 OR id = $2
         LIMIT 1",
        &[&&a.blob.as_bytes()[..], &&a.id.as_bytes()[..]],
    )
}

fn insert(tx: &mut Tx<'_>, a: &TaskAttachment) -> Result<()> {
    let file_type = codec::serde_name(&a.file_type)?;
    let by = codec::to_json(&a.added_by)?;
    let size = codec::size_value(a.size)?;
    tx.execute(
        &format!(
            "INSERT INTO task_attachments ({COLUMNS}) VALUES
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ),
        &[
            &&a.id.as_bytes()[..],
            &&a.tenant_id.as_bytes()[..],
            &&a.portal_id.as_bytes()[..],
            &&a.task_id.as_bytes()[..],
            &a.name,
            &file_type,
            &size,
            &&a.sha256[..],
            &&a.blob.as_bytes()[..],
            &a.key.key_id.as_str(),
            &a.key.bytes,
            &by,
            &micros(a.added_at),
        ],
    )
    .db("storing an attachment")?;
    Ok(())
}

#[async_trait]
impl AttachmentStore for PostgresStore {
    async fn add_attachment(
        &self,
        attachment: &TaskAttachment,
        max_per_task: usize,
        activity: &ActivityEntry,
    ) -> Result<()> {
        let (a, activity) = (attachment.clone(), activity.clone());
        let portal = a.portal_id;
        self.write_content(portal, move |tx| {
            let task = load_task(tx, portal, a.task_id)?;
            let tenant = crate::documents::portal_tenant(tx, portal)?;
            a.ensure_belongs(&task, tenant)?;
            activity.ensure_portal(portal)?;
            let row = tx
                .query_one(
                    "SELECT count(*) FROM task_attachments WHERE portal_id = $1 AND task_id = $2",
                    &[&&portal.as_bytes()[..], &&a.task_id.as_bytes()[..]],
                )
                .db("counting a task's attachments")?;
            let count: i64 = get(&row, 0)?;
            may_add(usize::try_from(count).unwrap_or(usize::MAX), max_per_task)?;
            if blob_taken(tx, &a)? {
                return Err(Error::conflict(
                    "This attachment or its blob is already stored.",
                ));
            }
            insert(tx, &a)?;
            ActivityRow::new(&activity)?.insert(tx)
        })
        .await
    }

    async fn task_attachments(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<TaskAttachment>> {
        self.read(move |tx| {
            load_task(tx, portal, task)?;
            list(
                tx,
                &format!(
                    "SELECT {COLUMNS} FROM task_attachments WHERE portal_id = $1 AND task_id = $2
                     ORDER BY added_at, seq"
                ),
                &[&&portal.as_bytes()[..], &&task.as_bytes()[..]],
            )
        })
        .await
    }

    async fn portal_attachments(&self, portal: PortalId) -> Result<Vec<TaskAttachment>> {
        self.read(move |tx| {
            crate::documents::portal_tenant(tx, portal)?;
            list(
                tx,
                &format!(
                    "SELECT {COLUMNS} FROM task_attachments WHERE portal_id = $1
                     ORDER BY added_at, seq"
                ),
                &[&&portal.as_bytes()[..]],
            )
        })
        .await
    }

    async fn attachment(&self, portal: PortalId, id: AttachmentId) -> Result<TaskAttachment> {
        self.read(move |tx| load(tx, portal, id)).await
    }

    async fn delete_attachment(
        &self,
        portal: PortalId,
        id: AttachmentId,
        activity: &ActivityEntry,
    ) -> Result<BlobId> {
        let activity = activity.clone();
        self.write_content(portal, move |tx| {
            let found = load(tx, portal, id)?;
            activity.ensure_portal(portal)?;
            tx.execute(
                "DELETE FROM task_attachments WHERE id = $1 AND portal_id = $2",
                &[&&id.as_bytes()[..], &&portal.as_bytes()[..]],
            )
            .db("deleting an attachment")?;
            ActivityRow::new(&activity)?.insert(tx)?;
            Ok(found.blob)
        })
        .await
    }

    async fn record_document_open(&self, open: &DocumentOpen) -> Result<()> {
        let open = open.clone();
        self.write(move |tx| {
            load_task(tx, open.portal_id, open.task_id)?;
            let of_portal = exists(
                tx,
                "SELECT 1 FROM contacts WHERE id = $1 AND portal_id = $2",
                &[
                    &&open.contact_id.as_bytes()[..],
                    &&open.portal_id.as_bytes()[..],
                ],
            )?;
            if !of_portal {
                return Err(Error::NotFound {
                    entity: Entity::Contact,
                });
            }
            // The first open of these bytes by this contact stays: a later one is
            // no new fact.
            tx.execute(
                "INSERT INTO document_opens (portal_id, task_id, contact_id, sha256, at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (task_id, contact_id, sha256) DO NOTHING",
                &[
                    &&open.portal_id.as_bytes()[..],
                    &&open.task_id.as_bytes()[..],
                    &&open.contact_id.as_bytes()[..],
                    &&open.sha256[..],
                    &micros(open.at),
                ],
            )
            .db("recording a document open")?;
            Ok(())
        })
        .await
    }

    async fn document_opens(&self, portal: PortalId, task: TaskId) -> Result<Vec<DocumentOpen>> {
        self.read(move |tx| {
            load_task(tx, portal, task)?;
            tx.query(
                "SELECT portal_id, task_id, contact_id, sha256, at FROM document_opens
                 WHERE portal_id = $1 AND task_id = $2 ORDER BY at, seq",
                &[&&portal.as_bytes()[..], &&task.as_bytes()[..]],
            )
            .db("listing document opens")?
            .iter()
            .map(open_row)
            .collect()
        })
        .await
    }
}
