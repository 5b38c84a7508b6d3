//! [`DocumentStore`] for [`PostgresStore`]: uploaded files of document upload tasks,
//! their review queue and key rotation. The file bytes are not here: a row points at
//! its encrypted blob and keeps the blob's data key wrapped by the keyring.
//!
//! An upload or a review is one `SERIALIZABLE` unit, like `update_task`: the unit
//! reads the task (and the file), calls the caller's decision, and writes the file, the
//! task and the activity entry it answers. PostgreSQL runs concurrent units as if one
//! after the other (a unit that lost a race runs again on the new state), which is the
//! lock on the task row that the contract asks for, so every change of a task (through
//! this store or `update_task`) decides on the result of the one before. The decision
//! may therefore run more than once; only the run that commits counts. Refusals come
//! in the reference store's order: the task or file (`NotFound`), the decision's own
//! error,
//! [`DocumentChange::ensure_belongs`](portal_core::workflow::DocumentChange::ensure_belongs),
//! a file id that exists (`Conflict`), then [`TaskChange::apply_to`](portal_core::workflow::TaskChange::apply_to).
//!
//! Equal upload times list in commit order: `seq` is `MAX(seq) + 1` over the whole
//! table, taken inside the unit (two units taking the same number conflict, and one
//! runs again), so it orders a portal's files and a tenant's review queue (which spans
//! portals) alike.

use async_trait::async_trait;
use postgres::Row;

use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::blob::rotation::{SealedAt, SealedKey, SealedKind};
use portal_core::ids::{BlobId, FileId};
use portal_core::store::DocumentStore;
use portal_core::workflow::documents::{FileDecision, UploadDecision};
use portal_core::workflow::{DocumentFile, FileReview};
use portal_core::{Entity, Error, PortalId, Result, TaskId, TenantId};

use crate::PostgresStore;
use crate::codec::{
    self, DbResult, byte_size, bytes_n, count, from_serde_name, get, json, micros, parsed,
    portal_id, task_id, tenant_id, time,
};
use crate::directory::{exists, load_task};
use crate::tx::Tx;
use crate::workflow::write_task;

/// Columns read by [`file_row`] (a macro, so the queries below are constants).
macro_rules! file_cols {
    () => {
        "id, tenant_id, portal_id, task_id, document_id, version, name, file_type, size, \
         sha256, blob_id, key_id, wrapped_key, uploaded_by, uploaded_at, scan, review"
    };
}

/// Inserts a file; `seq` is drawn in the same statement, inside the write unit.
const INSERT_FILE: &str = "INSERT INTO document_files (id, tenant_id, portal_id, task_id,
        document_id, version, name, file_type, size, sha256, blob_id, key_id, wrapped_key,
        uploaded_by, uploaded_at, seq, scan, review_state, review)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
        (SELECT COALESCE(MAX(seq), 0) + 1 FROM document_files), $16, $17, $18)";

/// One file, through its portal.
const ONE_FILE: &str = concat!(
    "SELECT ",
    file_cols!(),
    " FROM document_files WHERE id = $1 AND portal_id = $2"
);

/// A portal's files, oldest first, ties in commit order.
const PORTAL_FILES: &str = concat!(
    "SELECT ",
    file_cols!(),
    " FROM document_files WHERE portal_id = $1 ORDER BY uploaded_at, seq"
);

/// A tenant's pending files, oldest first, ties in commit order. The literal state
/// lets the planner use the partial index that holds only pending files.
const REVIEW_QUEUE: &str = concat!(
    "SELECT ",
    file_cols!(),
    " FROM document_files WHERE tenant_id = $1 AND review_state = 'pending' \
     ORDER BY uploaded_at, seq LIMIT $2"
);

/// The distinct wrapping key ids other than the active one, found by hopping through
/// the key index (one seek per key id, not a scan of the files).
const STALE_KEYS: &str = "WITH RECURSIVE keys (k) AS (
        SELECT MIN(key_id) FROM document_files
        UNION ALL
        SELECT (SELECT MIN(key_id) FROM document_files WHERE key_id > keys.k)
          FROM keys WHERE keys.k IS NOT NULL
     )
     SELECT k FROM keys WHERE k IS NOT NULL AND k <> $1";

/// The first files wrapped by one key after an id: one range of the key index. An
/// absent `after` is bound as the empty byte string, which sorts before every id.
const FILES_OF_KEY: &str = concat!(
    "SELECT ",
    file_cols!(),
    " FROM document_files WHERE key_id = $1 AND id > $2 ORDER BY id LIMIT $3"
);

/// A file from `file_cols!()`.
fn file_row(row: &Row) -> Result<DocumentFile> {
    Ok(DocumentFile {
        id: FileId::from_bytes(bytes_n::<16>(row, 0)?),
        tenant_id: tenant_id(row, 1)?,
        portal_id: portal_id(row, 2)?,
        task_id: task_id(row, 3)?,
        document_id: get(row, 4)?,
        version: count(row, 5)?,
        name: get(row, 6)?,
        file_type: parsed(row, 7, from_serde_name)?,
        size: byte_size(row, 8)?,
        sha256: bytes_n::<32>(row, 9)?,
        blob: BlobId::from_bytes(bytes_n::<16>(row, 10)?),
        key: WrappedKey {
            key_id: parsed(row, 11, KeyId::parse)?,
            bytes: get(row, 12)?,
        },
        uploaded_by: json(row, 13)?,
        uploaded_at: time(row, 14)?,
        scan: json(row, 15)?,
        review: json(row, 16)?,
    })
}

/// Inserts a new file (its id checked free by the caller).
fn insert_file(tx: &mut Tx<'_>, f: &DocumentFile) -> Result<()> {
    let file_type = codec::serde_name(&f.file_type)?;
    let size = codec::size_value(f.size)?;
    let uploaded_by = codec::to_json(&f.uploaded_by)?;
    let scan = codec::to_json(&f.scan)?;
    let review = codec::to_json(&f.review)?;
    tx.execute(
        INSERT_FILE,
        &[
            &&f.id.as_bytes()[..],
            &&f.tenant_id.as_bytes()[..],
            &&f.portal_id.as_bytes()[..],
            &&f.task_id.as_bytes()[..],
            &f.document_id,
            &i64::from(f.version),
            &f.name,
            &file_type,
            &size,
            &&f.sha256[..],
            &&f.blob.as_bytes()[..],
            &f.key.key_id.as_str(),
            &f.key.bytes,
            &uploaded_by,
            &micros(f.uploaded_at),
            &scan,
            &f.review.as_str(),
            &review,
        ],
    )
    .db("storing an uploaded file")?;
    Ok(())
}

/// Writes the two fields a review or rescan may change: the scan verdict and the
/// review (with its state, for the indexes).
fn write_outcome(tx: &mut Tx<'_>, f: &DocumentFile) -> Result<()> {
    let scan = codec::to_json(&f.scan)?;
    let review = codec::to_json(&f.review)?;
    tx.execute(
        "UPDATE document_files SET scan = $1, review_state = $2, review = $3 WHERE id = $4",
        &[&scan, &f.review.as_str(), &review, &&f.id.as_bytes()[..]],
    )
    .db("updating a file's scan verdict and review")?;
    Ok(())
}

/// Marks `old` superseded by `new`, only if it is a pending version of the same task
/// and document (otherwise nothing happens, as in the reference store).
fn supersede(tx: &mut Tx<'_>, old: FileId, new: &DocumentFile) -> Result<()> {
    let review = FileReview::Superseded { by: new.id };
    let encoded = codec::to_json(&review)?;
    tx.execute(
        "UPDATE document_files SET review_state = $1, review = $2
         WHERE id = $3 AND task_id = $4 AND document_id = $5 AND review_state = 'pending'",
        &[
            &review.as_str(),
            &encoded,
            &&old.as_bytes()[..],
            &&new.task_id.as_bytes()[..],
            &new.document_id,
        ],
    )
    .db("superseding an earlier version")?;
    Ok(())
}

/// Reads a file through its portal: `NotFound(File)` if it is not in that portal.
fn load_file(tx: &mut Tx<'_>, portal: PortalId, file: FileId) -> Result<DocumentFile> {
    let row = tx
        .query_opt(ONE_FILE, &[&&file.as_bytes()[..], &&portal.as_bytes()[..]])
        .db("reading an uploaded file")?
        .ok_or(Error::NotFound {
            entity: Entity::File,
        })?;
    file_row(&row)
}

/// The tenant of a portal, as stored (the file a decision returns must name it).
pub(crate) fn portal_tenant(tx: &mut crate::tx::Tx<'_>, portal: PortalId) -> Result<TenantId> {
    let row = tx
        .query_opt(
            "SELECT tenant_id FROM portals WHERE id = $1",
            &[&&portal.as_bytes()[..]],
        )
        .map_err(|e| crate::codec::map_error("reading a portal's tenant", e))?
        .ok_or(Error::NotFound {
            entity: Entity::Portal,
        })?;
    crate::codec::tenant_id(&row, 0)
}

fn file_exists(tx: &mut Tx<'_>, file: FileId) -> Result<bool> {
    exists(
        tx,
        "SELECT 1 FROM document_files WHERE id = $1",
        &[&&file.as_bytes()[..]],
    )
}

/// A `usize` limit as PostgreSQL's signed 64-bit `LIMIT`.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Decodes every row with `f`.
fn all<T>(rows: &[Row], f: impl Fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

/// The first `limit` files after `after`, by id, whose key is not `active`: the first
/// `limit` of each stale key's range of the key index, merged. Every one of the
/// answer's files is among the first `limit` of its own key, so the merge is exact,
/// and a rotation in progress reads only the files it returns (times the few key ids).
fn stale_files(
    tx: &mut Tx<'_>,
    active: &str,
    after: Option<FileId>,
    limit: usize,
) -> Result<Vec<DocumentFile>> {
    let keys: Vec<String> = tx
        .query(STALE_KEYS, &[&active])
        .db("listing the keys that wrap files")?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_>>()?;
    let after: &[u8] = match &after {
        Some(id) => &id.as_bytes()[..],
        None => &[],
    };
    let mut files = Vec::new();
    for key in keys {
        let rows = tx
            .query(FILES_OF_KEY, &[&key, &after, &sql_limit(limit)])
            .db("listing files to re-wrap")?;
        files.extend(all(&rows, file_row)?);
    }
    // FileId orders as its 16 bytes, as PostgreSQL orders the BYTEA values.
    files.sort_by_key(|f| f.id);
    files.truncate(limit);
    Ok(files)
}

#[async_trait]
impl DocumentStore for PostgresStore {
    async fn add_document_file(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: UploadDecision,
    ) -> Result<DocumentFile> {
        self.write_content(portal, move |tx| {
            let current = load_task(tx, portal, task)?;
            let tenant = portal_tenant(tx, portal)?;
            // The decision's error is returned as it is; nothing was written yet.
            let change = decide(&current)?;
            change.ensure_belongs(&current, tenant)?;
            if file_exists(tx, change.file.id)? {
                return Err(Error::conflict("a file with this id already exists"));
            }
            let (next, activity) = change.task.apply_to(&current)?;
            let file = change.file;
            if let Some(old) = change.superseded {
                supersede(tx, old, &file)?;
            }
            insert_file(tx, &file)?;
            write_task(tx, &next, &activity)?;
            crate::outbox::insert(tx, &change.emails)?;
            if let Some(entry) = &change.audit {
                crate::audit::append(tx, portal, entry)?;
            }
            Ok(file)
        })
        .await
    }

    async fn update_document_file(
        &self,
        portal: PortalId,
        file: FileId,
        decide: FileDecision,
    ) -> Result<DocumentFile> {
        self.write_content(portal, move |tx| {
            let stored = load_file(tx, portal, file)?;
            let current = load_task(tx, portal, stored.task_id)?;
            let tenant = portal_tenant(tx, portal)?;
            let change = decide(&current, &stored)?;
            change.ensure_belongs(&current, tenant)?;
            let written = change.file_over(&stored);
            let (next, activity) = change.task.apply_to(&current)?;
            write_outcome(tx, &written)?;
            write_task(tx, &next, &activity)?;
            crate::outbox::insert(tx, &change.emails)?;
            if let Some(entry) = &change.audit {
                crate::audit::append(tx, portal, entry)?;
            }
            Ok(written)
        })
        .await
    }

    async fn document_file(&self, portal: PortalId, file: FileId) -> Result<DocumentFile> {
        self.read(move |tx| load_file(tx, portal, file)).await
    }

    async fn document_files(&self, portal: PortalId) -> Result<Vec<DocumentFile>> {
        self.read(move |tx| {
            let rows = tx
                .query(PORTAL_FILES, &[&&portal.as_bytes()[..]])
                .db("listing a portal's files")?;
            all(&rows, file_row)
        })
        .await
    }

    async fn review_queue(&self, tenant: TenantId, limit: usize) -> Result<Vec<DocumentFile>> {
        self.read(move |tx| {
            let rows = tx
                .query(REVIEW_QUEUE, &[&&tenant.as_bytes()[..], &sql_limit(limit)])
                .db("reading the review queue")?;
            all(&rows, file_row)
        })
        .await
    }

    async fn files_to_rewrap(
        &self,
        active: &KeyId,
        after: Option<FileId>,
        limit: usize,
    ) -> Result<Vec<DocumentFile>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let active = active.as_str().to_owned();
        // One read unit: the key list and the ranges see the same snapshot.
        self.read(move |tx| stale_files(tx, &active, after, limit))
            .await
    }

    async fn replace_file_key(
        &self,
        file: FileId,
        expected: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool> {
        let (expected, new) = (expected.clone(), new.clone());
        self.write(move |tx| {
            // Compare and set in one statement: a concurrent rotation that got there
            // first leaves no row matching the key it read, so this one changes nothing.
            let changed = tx
                .execute(
                    "UPDATE document_files SET key_id = $1, wrapped_key = $2
                     WHERE id = $3 AND key_id = $4 AND wrapped_key = $5",
                    &[
                        &new.key_id.as_str(),
                        &new.bytes,
                        &&file.as_bytes()[..],
                        &expected.key_id.as_str(),
                        &expected.bytes,
                    ],
                )
                .db("replacing a file's wrapped key")?;
            if changed > 0 {
                Ok(true)
            } else if file_exists(tx, file)? {
                Ok(false)
            } else {
                Err(Error::NotFound {
                    entity: Entity::File,
                })
            }
        })
        .await
    }

    async fn sealed_keys_to_rewrap(
        &self,
        kind: SealedKind,
        active: &KeyId,
        after: Option<SealedAt>,
        limit: usize,
    ) -> Result<Vec<SealedKey>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let active = active.clone();
        self.read(move |tx| crate::rotation::to_rewrap(tx, kind, &active, after, limit))
            .await
    }

    async fn replace_sealed_key(
        &self,
        kind: SealedKind,
        at: SealedAt,
        expected: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool> {
        let (expected, new) = (expected.clone(), new.clone());
        self.write(move |tx| crate::rotation::replace(tx, kind, at, &expected, &new))
            .await
    }

    async fn blob_in_use(&self, blob: BlobId) -> Result<bool> {
        self.read(move |tx| {
            exists(
                tx,
                "SELECT 1 FROM document_files WHERE blob_id = $1
                 UNION ALL
                 SELECT 1 FROM dropped_files WHERE blob_id = $1 AND bytes_removed = 0
                 UNION ALL SELECT 1 FROM signatures WHERE image_blob = $1
                 UNION ALL SELECT 1 FROM signature_documents WHERE blob_id = $1
                 UNION ALL SELECT 1 FROM task_attachments WHERE blob_id = $1
                 LIMIT 1",
                &[&&blob.as_bytes()[..]],
            )
        })
        .await
    }
}
