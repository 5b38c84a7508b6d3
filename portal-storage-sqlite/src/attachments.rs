//! [`AttachmentStore`] for [`SqliteStore`]: a `task_attachments` row per file staff
//! attached to a task (its blob id and wrapped key, never its bytes) and a
//! `document_opens` row per (task, contact, content hash). Each change is one job on
//! the writer: checks first, then the rows and the feed entry; any error rolls the
//! whole job back.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use portal_core::attachments::{DocumentOpen, TaskAttachment, may_add};
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::ids::{AttachmentId, BlobId};
use portal_core::store::AttachmentStore;
use portal_core::workflow::ActivityEntry;
use portal_core::{Entity, Error, PortalId, Result, TaskId};

use crate::SqliteStore;
use crate::codec::{
    self, DbResult, byte_size, contact_id, from_serde_name, json, micros, parsed, portal_id,
    task_id, tenant_id, time,
};
use crate::directory::{exists, load_task};
use crate::workflow::rows::ActivityRow;

const COLUMNS: &str = "id, tenant_id, portal_id, task_id, name, file_type, size, sha256,
    blob_id, key_id, wrapped_key, added_by, added_at";

fn bad(idx: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        rusqlite::types::Type::Blob,
        what.to_owned().into(),
    )
}

fn hash(row: &Row<'_>, idx: usize) -> rusqlite::Result<[u8; 32]> {
    let bytes: Vec<u8> = row.get(idx)?;
    bytes
        .try_into()
        .map_err(|_| bad(idx, "a stored hash is not 32 bytes"))
}

fn id16(row: &Row<'_>, idx: usize) -> rusqlite::Result<[u8; 16]> {
    let bytes: Vec<u8> = row.get(idx)?;
    bytes
        .try_into()
        .map_err(|_| bad(idx, "a stored id is not 16 bytes"))
}

fn attachment(row: &Row<'_>) -> rusqlite::Result<TaskAttachment> {
    let key_id: String = row.get(9)?;
    Ok(TaskAttachment {
        id: AttachmentId::from_bytes(id16(row, 0)?),
        tenant_id: tenant_id(row, 1)?,
        portal_id: portal_id(row, 2)?,
        task_id: task_id(row, 3)?,
        name: row.get(4)?,
        file_type: parsed(row, 5, from_serde_name)?,
        size: byte_size(row, 6)?,
        sha256: hash(row, 7)?,
        blob: BlobId::from_bytes(id16(row, 8)?),
        key: WrappedKey {
            key_id: KeyId::parse(&key_id).map_err(|_| bad(9, "a bad key id"))?,
            bytes: row.get(10)?,
        },
        added_by: json(row, 11)?,
        added_at: time(row, 12)?,
    })
}

fn open_row(row: &Row<'_>) -> rusqlite::Result<DocumentOpen> {
    Ok(DocumentOpen {
        portal_id: portal_id(row, 0)?,
        task_id: task_id(row, 1)?,
        contact_id: contact_id(row, 2)?,
        sha256: hash(row, 3)?,
        at: time(row, 4)?,
    })
}

fn list(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<Vec<TaskAttachment>> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.query_map(args, attachment).and_then(Iterator::collect))
        .db("listing attachments")
}

fn load(conn: &Connection, portal: PortalId, id: AttachmentId) -> Result<TaskAttachment> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM task_attachments WHERE id = ?1 AND portal_id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row(
            params![&id.as_bytes()[..], &portal.as_bytes()[..]],
            attachment,
        )
        .optional()
    })
    .db("reading an attachment")?
    .ok_or(Error::NotFound {
        entity: Entity::File,
    })
}

fn blob_taken(conn: &Connection, a: &TaskAttachment) -> Result<bool> {
    exists(
        conn,
        "SELECT 1 FROM document_files WHERE blob_id = ?1
         UNION ALL SELECT 1 FROM dropped_files WHERE blob_id = ?1
         UNION ALL SELECT 1 FROM signatures WHERE image_blob = ?1
         UNION ALL SELECT 1 FROM signature_documents WHERE blob_id = ?1
         UNION ALL SELECT 1 FROM task_attachments WHERE blob_id = ?1 OR id = ?2",
        params![&a.blob.as_bytes()[..], &a.id.as_bytes()[..]],
    )
}

fn insert(conn: &Connection, a: &TaskAttachment) -> Result<()> {
    let file_type = codec::serde_name(&a.file_type)?;
    let by = codec::to_json(&a.added_by)?;
    let size = codec::size_value(a.size)?;
    conn.prepare_cached(&format!(
        "INSERT INTO task_attachments ({COLUMNS}) VALUES
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            &a.id.as_bytes()[..],
            &a.tenant_id.as_bytes()[..],
            &a.portal_id.as_bytes()[..],
            &a.task_id.as_bytes()[..],
            a.name,
            file_type,
            size,
            &a.sha256[..],
            &a.blob.as_bytes()[..],
            a.key.key_id.as_str(),
            a.key.bytes,
            by,
            micros(a.added_at),
        ])
    })
    .db("storing an attachment")?;
    Ok(())
}

#[async_trait]
impl AttachmentStore for SqliteStore {
    async fn add_attachment(
        &self,
        attachment: &TaskAttachment,
        max_per_task: usize,
        activity: &ActivityEntry,
    ) -> Result<()> {
        let (a, activity) = (attachment.clone(), activity.clone());
        let portal = a.portal_id;
        self.write_content(portal, move |conn| {
            let task = load_task(conn, portal, a.task_id)?;
            let tenant = crate::documents::portal_tenant(conn, portal)?;
            a.ensure_belongs(&task, tenant)?;
            activity.ensure_portal(portal)?;
            let count: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM task_attachments WHERE portal_id = ?1 AND task_id = ?2",
                )
                .and_then(|mut s| {
                    s.query_row(
                        params![&portal.as_bytes()[..], &a.task_id.as_bytes()[..]],
                        |r| r.get(0),
                    )
                })
                .db("counting a task's attachments")?;
            may_add(usize::try_from(count).unwrap_or(usize::MAX), max_per_task)?;
            if blob_taken(conn, &a)? {
                return Err(Error::conflict(
                    "This attachment or its blob is already stored.",
                ));
            }
            insert(conn, &a)?;
            ActivityRow::new(&activity)?.insert(conn)
        })
        .await
    }

    async fn task_attachments(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<TaskAttachment>> {
        self.read(move |conn| {
            load_task(conn, portal, task)?;
            list(
                conn,
                &format!(
                    "SELECT {COLUMNS} FROM task_attachments WHERE portal_id = ?1 AND task_id = ?2
                     ORDER BY added_at, seq"
                ),
                params![&portal.as_bytes()[..], &task.as_bytes()[..]],
            )
        })
        .await
    }

    async fn portal_attachments(&self, portal: PortalId) -> Result<Vec<TaskAttachment>> {
        self.read(move |conn| {
            crate::documents::portal_tenant(conn, portal)?;
            list(
                conn,
                &format!(
                    "SELECT {COLUMNS} FROM task_attachments WHERE portal_id = ?1
                     ORDER BY added_at, seq"
                ),
                params![&portal.as_bytes()[..]],
            )
        })
        .await
    }

    async fn attachment(&self, portal: PortalId, id: AttachmentId) -> Result<TaskAttachment> {
        self.read(move |conn| load(conn, portal, id)).await
    }

    async fn delete_attachment(
        &self,
        portal: PortalId,
        id: AttachmentId,
        activity: &ActivityEntry,
    ) -> Result<BlobId> {
        let activity = activity.clone();
        self.write_content(portal, move |conn| {
            let found = load(conn, portal, id)?;
            activity.ensure_portal(portal)?;
            conn.prepare_cached("DELETE FROM task_attachments WHERE id = ?1 AND portal_id = ?2")
                .and_then(|mut s| s.execute(params![&id.as_bytes()[..], &portal.as_bytes()[..]]))
                .db("deleting an attachment")?;
            ActivityRow::new(&activity)?.insert(conn)?;
            Ok(found.blob)
        })
        .await
    }

    async fn record_document_open(&self, open: &DocumentOpen) -> Result<()> {
        let open = open.clone();
        self.write(move |conn| {
            load_task(conn, open.portal_id, open.task_id)?;
            let of_portal = exists(
                conn,
                "SELECT 1 FROM contacts WHERE id = ?1 AND portal_id = ?2",
                params![
                    &open.contact_id.as_bytes()[..],
                    &open.portal_id.as_bytes()[..]
                ],
            )?;
            if !of_portal {
                return Err(Error::NotFound {
                    entity: Entity::Contact,
                });
            }
            conn.prepare_cached(
                "INSERT INTO document_opens (portal_id, task_id, contact_id, sha256, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (task_id, contact_id, sha256) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &open.portal_id.as_bytes()[..],
                    &open.task_id.as_bytes()[..],
                    &open.contact_id.as_bytes()[..],
                    &open.sha256[..],
                    micros(open.at),
                ])
            })
            .db("recording a document open")?;
            Ok(())
        })
        .await
    }

    async fn document_opens(&self, portal: PortalId, task: TaskId) -> Result<Vec<DocumentOpen>> {
        self.read(move |conn| {
            load_task(conn, portal, task)?;
            conn.prepare_cached(
                "SELECT portal_id, task_id, contact_id, sha256, at FROM document_opens
                 WHERE portal_id = ?1 AND task_id = ?2 ORDER BY at, seq",
            )
            .and_then(|mut s| {
                s.query_map(
                    params![&portal.as_bytes()[..], &task.as_bytes()[..]],
                    open_row,
                )
                .and_then(Iterator::collect)
            })
            .db("listing document opens")
        })
        .await
    }
}
