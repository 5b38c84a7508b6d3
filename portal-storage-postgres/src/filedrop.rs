//! [`FileDropStore`] for [`PostgresStore`]: a `dropped_files` row per dropped file
//! (wrapped key and metadata; the bytes are in a blob). Each drop or change is one
//! `SERIALIZABLE` unit: read the task and file, call the caller's decision, check its
//! answer, then write the file, the feed entry and the audit event
//! ([`crate::audit::append`]); any error rolls the whole unit back. Serializable
//! isolation is the per-file lock the contract asks for: of a racing delete and
//! download, one commits first and the other is run again from the start, so it
//! decides on the first's result.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use postgres::Row;
use postgres::types::ToSql;

use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::filedrop::{DropChange, DropDecision, DroppedFile, NewDropDecision};
use portal_core::ids::{BlobId, FileId};
use portal_core::store::FileDropStore;
use portal_core::{Entity, Error, PortalId, Result, TaskId};

use crate::PostgresStore;
use crate::codec::{
    self, DbResult, byte_size, bytes_n, flag, get, json, micros, opt_json, parsed, portal_id,
    task_id, tenant_id, time,
};
use crate::directory::{exists, load_task};
use crate::tx::Tx;
use crate::workflow::rows::ActivityRow;

/// Columns read by [`drop_row`].
macro_rules! drop_cols {
    () => {
        "id, tenant_id, portal_id, task_id, name, size, sha256, blob_id, key_id, wrapped_key, \
         uploaded_by, uploaded_at, expires_at, downloaded, deleted, expired_at, bytes_removed"
    };
}

const ONE_DROP: &str = concat!(
    "SELECT ",
    drop_cols!(),
    " FROM dropped_files WHERE id = $1 AND portal_id = $2"
);

const TASK_DROPS: &str = concat!(
    "SELECT ",
    drop_cols!(),
    " FROM dropped_files WHERE portal_id = $1 AND task_id = $2 ORDER BY uploaded_at, seq"
);

const TO_SWEEP: &str = concat!(
    "SELECT ",
    drop_cols!(),
    " FROM dropped_files WHERE bytes_removed = 0
       AND (expires_at <= $1 OR deleted IS NOT NULL OR expired_at IS NOT NULL)
     ORDER BY expires_at, id LIMIT $2"
);

fn drop_row(row: &Row) -> Result<DroppedFile> {
    Ok(DroppedFile {
        id: FileId::from_bytes(bytes_n::<16>(row, 0)?),
        tenant_id: tenant_id(row, 1)?,
        portal_id: portal_id(row, 2)?,
        task_id: task_id(row, 3)?,
        name: get(row, 4)?,
        size: byte_size(row, 5)?,
        sha256: bytes_n::<32>(row, 6)?,
        blob: BlobId::from_bytes(bytes_n::<16>(row, 7)?),
        key: WrappedKey {
            key_id: parsed(row, 8, KeyId::parse)?,
            bytes: get(row, 9)?,
        },
        uploaded_by: json(row, 10)?,
        uploaded_at: time(row, 11)?,
        expires_at: time(row, 12)?,
        downloaded: opt_json(row, 13)?,
        deleted: opt_json(row, 14)?,
        expired_at: codec::opt_time(row, 15)?,
        bytes_removed: flag(row, 16)?,
    })
}

fn load(tx: &mut Tx<'_>, portal: PortalId, file: FileId) -> Result<DroppedFile> {
    let row = tx
        .query_opt(ONE_DROP, &[&&file.as_bytes()[..], &&portal.as_bytes()[..]])
        .db("reading a dropped file")?
        .ok_or(Error::NotFound {
            entity: Entity::File,
        })?;
    drop_row(&row)
}

/// Appends a change's feed entry and audit event (already checked).
fn write_events(tx: &mut Tx<'_>, change: &DropChange) -> Result<()> {
    ActivityRow::new(&change.activity)?.insert(tx)?;
    crate::audit::append(tx, change.file.portal_id, &change.audit)?;
    Ok(())
}

fn insert(tx: &mut Tx<'_>, f: &DroppedFile) -> Result<()> {
    let size = codec::size_value(f.size)?;
    let by = codec::to_json(&f.uploaded_by)?;
    tx.execute(
        "INSERT INTO dropped_files (id, tenant_id, portal_id, task_id, name, size, sha256,
            blob_id, key_id, wrapped_key, uploaded_by, uploaded_at, expires_at, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
            (SELECT COALESCE(MAX(seq), 0) + 1 FROM dropped_files))",
        &[
            &&f.id.as_bytes()[..],
            &&f.tenant_id.as_bytes()[..],
            &&f.portal_id.as_bytes()[..],
            &&f.task_id.as_bytes()[..],
            &f.name,
            &size,
            &&f.sha256[..],
            &&f.blob.as_bytes()[..],
            &f.key.key_id.as_str(),
            &f.key.bytes,
            &by,
            &micros(f.uploaded_at),
            &micros(f.expires_at),
        ],
    )
    .db("storing a dropped file")?;
    Ok(())
}

fn write_marks(tx: &mut Tx<'_>, f: &DroppedFile) -> Result<()> {
    let downloaded = f.downloaded.as_ref().map(codec::to_json).transpose()?;
    let deleted = f.deleted.as_ref().map(codec::to_json).transpose()?;
    tx.execute(
        "UPDATE dropped_files SET downloaded = $2, deleted = $3, expired_at = $4 WHERE id = $1",
        &[
            &&f.id.as_bytes()[..],
            &downloaded,
            &deleted,
            &f.expired_at.map(micros),
        ],
    )
    .db("changing a dropped file")?;
    Ok(())
}

fn list(tx: &mut Tx<'_>, sql: &str, p: &[&(dyn ToSql + Sync)]) -> Result<Vec<DroppedFile>> {
    let rows = tx.query(sql, p).db("listing dropped files")?;
    rows.iter().map(drop_row).collect()
}

#[async_trait]
impl FileDropStore for PostgresStore {
    async fn add_dropped_file(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: NewDropDecision,
    ) -> Result<DroppedFile> {
        self.write_content(portal, move |tx| {
            let current = load_task(tx, portal, task)?;
            let change = decide(&current)?;
            let tenant = crate::documents::portal_tenant(tx, portal)?;
            change.file.ensure_belongs(&current, tenant)?;
            change.ensure_portal(tenant)?;
            let (id, blob) = (
                &change.file.id.as_bytes()[..],
                &change.file.blob.as_bytes()[..],
            );
            if exists(
                tx,
                "SELECT 1 FROM dropped_files WHERE id = $1 OR blob_id = $2",
                &[&id, &blob],
            )? || exists(
                tx,
                "SELECT 1 FROM document_files WHERE blob_id = $1",
                &[&blob],
            )? {
                return Err(Error::conflict(
                    "a file with this id or blob is already stored",
                ));
            }
            insert(tx, &change.file)?;
            write_events(tx, &change)?;
            Ok(change.file)
        })
        .await
    }

    async fn change_dropped_file(
        &self,
        portal: PortalId,
        file: FileId,
        decide: DropDecision,
    ) -> Result<DroppedFile> {
        self.write_content(portal, move |tx| {
            let stored = load(tx, portal, file)?;
            let task = load_task(tx, portal, stored.task_id)?;
            let change = decide(&task, &stored)?;
            stored.ensure_same_file(&change.file)?;
            let tenant = crate::documents::portal_tenant(tx, portal)?;
            change.ensure_portal(tenant)?;
            write_marks(tx, &change.file)?;
            write_events(tx, &change)?;
            Ok(change.file)
        })
        .await
    }

    async fn dropped_file(&self, portal: PortalId, file: FileId) -> Result<DroppedFile> {
        self.read(move |tx| load(tx, portal, file)).await
    }

    async fn dropped_files(&self, portal: PortalId, task: TaskId) -> Result<Vec<DroppedFile>> {
        self.read(move |tx| {
            list(
                tx,
                TASK_DROPS,
                &[&&portal.as_bytes()[..], &&task.as_bytes()[..]],
            )
        })
        .await
    }

    async fn drops_to_sweep(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<DroppedFile>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |tx| list(tx, TO_SWEEP, &[&micros(now), &limit]))
            .await
    }

    async fn mark_drop_bytes_removed(&self, file: FileId) -> Result<bool> {
        self.write(move |tx| {
            let row = tx
                .query_opt(
                    "SELECT CASE WHEN deleted IS NOT NULL OR expired_at IS NOT NULL
                                 THEN 1 ELSE 0 END::BIGINT,
                            bytes_removed
                     FROM dropped_files WHERE id = $1",
                    &[&&file.as_bytes()[..]],
                )
                .db("reading a dropped file")?
                .ok_or(Error::NotFound {
                    entity: Entity::File,
                })?;
            let (marked, removed) = (flag(&row, 0)?, flag(&row, 1)?);
            if !marked {
                return Err(Error::conflict(
                    "a dropped file's bytes stay until it is deleted or expired",
                ));
            }
            if removed {
                return Ok(false);
            }
            tx.execute(
                "UPDATE dropped_files SET bytes_removed = 1 WHERE id = $1",
                &[&&file.as_bytes()[..]],
            )
            .db("marking a dropped file's bytes removed")?;
            Ok(true)
        })
        .await
    }
}
