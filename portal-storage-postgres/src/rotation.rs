//! Key rotation of the records other than uploads that keep a wrapped data key
//! ([`DocumentStore::sealed_keys_to_rewrap`](portal_core::store::DocumentStore::sealed_keys_to_rewrap)
//! and `replace_sealed_key`): drawn signature images (`signatures.image_*`), signature
//! documents (`signature_documents`), dropped files whose bytes are stored
//! (`dropped_files`), task attachments (`task_attachments`) and the fields of unpurged credential handoffs
//! (`credential_fields`). Blob kinds are walked by their blob id (each a `UNIQUE` or
//! indexed column), credential fields by `(task_id, position)`. Ids are 16-byte BYTEA
//! values, which PostgreSQL compares byte by byte: the order of their UUIDs, as the
//! contract's [`SealedAt`] order asks.
//!
//! A replacement is one compare-and-set `UPDATE` in a write unit: a concurrent rotation
//! that got there first leaves no row matching the key this one read.

use postgres::Row;

use portal_core::blob::envelope::FileBinding;
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::blob::rotation::{SealedAt, SealedBinding, SealedKey, SealedKind};
use portal_core::credentials::{CredentialBinding, CredentialField};
use portal_core::ids::BlobId;
use portal_core::{Error, Result};

use crate::codec::{DbResult, bytes_n, corrupt, get, parsed, portal_id, task_id, tenant_id};
use crate::tx::Tx;

/// Signature images after a blob id, by blob id (`signatures_by_image`).
const IMAGES: &str = "SELECT image_blob, tenant_id, portal_id, task_id, image_key_id, image_key
     FROM signatures
     WHERE image_blob IS NOT NULL AND image_key_id <> $1 AND image_blob > $2
     ORDER BY image_blob LIMIT $3";

/// Signature documents after a blob id, by blob id (its `UNIQUE` index).
const DOCUMENTS: &str = "SELECT blob_id, tenant_id, portal_id, task_id, key_id, wrapped_key
     FROM signature_documents
     WHERE key_id <> $1 AND blob_id > $2
     ORDER BY blob_id LIMIT $3";

/// Dropped files with stored bytes after a blob id, by blob id (its `UNIQUE` index).
const DROPS: &str = "SELECT blob_id, tenant_id, portal_id, task_id, key_id, wrapped_key
     FROM dropped_files
     WHERE bytes_removed = 0 AND key_id <> $1 AND blob_id > $2
     ORDER BY blob_id LIMIT $3";

/// Task attachments after a blob id, by blob id (its `UNIQUE` index).
const ATTACHMENTS: &str = "SELECT blob_id, tenant_id, portal_id, task_id, key_id, wrapped_key
     FROM task_attachments
     WHERE key_id <> $1 AND blob_id > $2
     ORDER BY blob_id LIMIT $3";

/// Fields of unpurged handoffs after `(task, position)`, in that order.
const FIELDS: &str = "SELECT f.task_id, f.position, c.tenant_id, f.portal_id, f.field,
        f.key_id, f.wrapped_key
     FROM credential_fields f
     JOIN credentials c ON c.portal_id = f.portal_id AND c.task_id = f.task_id
     WHERE c.purged IS NULL AND f.key_id <> $1
       AND (f.task_id > $2 OR (f.task_id = $2 AND f.position > $3))
     ORDER BY f.task_id, f.position LIMIT $4";

/// A stored 16-byte id, as a blob id (whose UUID is the cursor's `id`).
fn id16(row: &Row, idx: usize) -> Result<BlobId> {
    bytes_n::<16>(row, idx).map(BlobId::from_bytes)
}

fn wrapped(row: &Row, id: usize, bytes: usize) -> Result<WrappedKey> {
    Ok(WrappedKey {
        key_id: parsed(row, id, KeyId::parse)?,
        bytes: get(row, bytes)?,
    })
}

/// A blob kind's row: `blob, tenant, portal, task, key_id, wrapped_key`.
fn blob_row(kind: SealedKind) -> impl Fn(&Row) -> Result<SealedKey> {
    move |row| {
        let blob = id16(row, 0)?;
        Ok(SealedKey {
            kind,
            at: SealedAt {
                id: *blob.as_uuid(),
                part: 0,
            },
            binding: SealedBinding::File(FileBinding {
                tenant: tenant_id(row, 1)?,
                portal: portal_id(row, 2)?,
                task: Some(task_id(row, 3)?),
                blob,
            }),
            key: wrapped(row, 4, 5)?,
        })
    }
}

fn field_row(row: &Row) -> Result<SealedKey> {
    let part: i64 = get(row, 1)?;
    Ok(SealedKey {
        kind: SealedKind::CredentialField,
        at: SealedAt {
            id: *id16(row, 0)?.as_uuid(),
            part: u32::try_from(part).map_err(|_| corrupt(1, "position out of range"))?,
        },
        binding: SealedBinding::Credential {
            binding: CredentialBinding {
                tenant: tenant_id(row, 2)?,
                portal: portal_id(row, 3)?,
                task: task_id(row, 0)?,
            },
            field: parsed(row, 4, |name: &str| {
                CredentialField::parse(name)
                    .ok_or_else(|| Error::storage_msg("an unknown credential field"))
            })?,
        },
        key: wrapped(row, 5, 6)?,
    })
}

/// The keys of `kind` not under `active`, after `after`, at most `limit`.
pub(crate) fn to_rewrap(
    tx: &mut Tx<'_>,
    kind: SealedKind,
    active: &KeyId,
    after: Option<SealedAt>,
    limit: usize,
) -> Result<Vec<SealedKey>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // No cursor: start before every id (an empty BYTEA sorts before any 16-byte one).
    let (after_id, after_part): (Vec<u8>, i64) = match after {
        Some(a) => (a.id.as_bytes().to_vec(), i64::from(a.part)),
        None => (Vec::new(), -1),
    };
    let active = active.as_str();
    let sql = match kind {
        SealedKind::SignatureImage => IMAGES,
        SealedKind::SignatureDocument => DOCUMENTS,
        SealedKind::DroppedFile => DROPS,
        SealedKind::TaskAttachment => ATTACHMENTS,
        SealedKind::CredentialField => {
            let rows = tx
                .query(FIELDS, &[&active, &after_id, &after_part, &limit])
                .db("listing credential keys to re-wrap")?;
            return rows.iter().map(field_row).collect();
        }
    };
    let rows = tx
        .query(sql, &[&active, &after_id, &limit])
        .db("listing data keys to re-wrap")?;
    rows.iter().map(blob_row(kind)).collect()
}

/// Sets the key of `kind` at `at` to `new` if it is still `expected`; whether it did.
pub(crate) fn replace(
    tx: &mut Tx<'_>,
    kind: SealedKind,
    at: SealedAt,
    expected: &WrappedKey,
    new: &WrappedKey,
) -> Result<bool> {
    // `$4::BIGINT`: the part is bound as a 64-bit integer, which PostgreSQL would
    // otherwise infer as a 32-bit one from the literal it is compared with.
    let sql = match kind {
        SealedKind::SignatureImage => {
            "UPDATE signatures SET image_key_id = $1, image_key = $2
             WHERE image_blob = $3 AND $4::BIGINT = 0 AND image_key_id = $5 AND image_key = $6"
        }
        SealedKind::SignatureDocument => {
            "UPDATE signature_documents SET key_id = $1, wrapped_key = $2
             WHERE blob_id = $3 AND $4::BIGINT = 0 AND key_id = $5 AND wrapped_key = $6"
        }
        SealedKind::DroppedFile => {
            "UPDATE dropped_files SET key_id = $1, wrapped_key = $2
             WHERE blob_id = $3 AND $4::BIGINT = 0 AND bytes_removed = 0
               AND key_id = $5 AND wrapped_key = $6"
        }
        SealedKind::TaskAttachment => {
            "UPDATE task_attachments SET key_id = $1, wrapped_key = $2
             WHERE blob_id = $3 AND $4::BIGINT = 0 AND key_id = $5 AND wrapped_key = $6"
        }
        // Through the task's portal, so the primary key finds the row.
        SealedKind::CredentialField => {
            "UPDATE credential_fields SET key_id = $1, wrapped_key = $2
             WHERE portal_id = (SELECT portal_id FROM tasks WHERE id = $3)
               AND task_id = $3 AND position = $4::BIGINT AND key_id = $5 AND wrapped_key = $6
               AND EXISTS (SELECT 1 FROM credentials c
                           WHERE c.portal_id = credential_fields.portal_id
                             AND c.task_id = credential_fields.task_id
                             AND c.purged IS NULL)"
        }
    };
    let changed = tx
        .execute(
            sql,
            &[
                &new.key_id.as_str(),
                &new.bytes,
                &&at.id.as_bytes()[..],
                &i64::from(at.part),
                &expected.key_id.as_str(),
                &expected.bytes,
            ],
        )
        .db("replacing a wrapped data key")?;
    Ok(changed > 0)
}
