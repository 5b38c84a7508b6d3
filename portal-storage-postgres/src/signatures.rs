//! [`SignatureStore`] for [`PostgresStore`]: a `signatures` row per signed task (the
//! drawn image's blob id and wrapped key, never its bytes). The submission is one
//! `SERIALIZABLE` unit: checks first, then the row, the task change, the audit append
//! and the emails; any error rolls the whole unit back.

use async_trait::async_trait;
use postgres::Row;

use portal_core::audit::AuditEntry;
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::ids::BlobId;
use portal_core::model::Task;
use portal_core::outbox::OutboxMessage;
use portal_core::signatures::{
    AttachedDocument, SignatureMark, SignatureRecord, SignedDocument, StoredImage,
    ensure_signed_document, may_attach_document,
};
use portal_core::store::{SignatureStore, TaskDecision};
use portal_core::{Entity, Error, PortalId, Result, TaskId, TenantId};

use crate::PostgresStore;
use crate::codec::{
    self, DbResult, byte_size, bytes_n, corrupt, from_serde_name, get, json, micros, parsed,
    portal_id, task_id, tenant_id, time,
};
use crate::directory::load_task;
use crate::tx::Tx;
use crate::workflow::write_task;

const COLUMNS: &str = "tenant_id, portal_id, task_id, signer, ip, user_agent, signed_at,
    time_zone, document_name, document_size, document_sha256, method, image_blob,
    image_key_id, image_key, image_size, typed_name, mark_sha256, consent_text,
    consent_sha256, record_sha256";

fn hash(row: &Row, idx: usize) -> Result<[u8; 32]> {
    bytes_n::<32>(row, idx)
}

fn record(row: &Row) -> Result<SignatureRecord> {
    let document = match get::<Option<String>>(row, 8)? {
        Some(name) => Some(SignedDocument {
            name,
            size: byte_size(row, 9)?,
            sha256: hash(row, 10)?,
        }),
        None => None,
    };
    let method: &str = get(row, 11)?;
    let mark = match method {
        "drawn" => SignatureMark::Drawn(StoredImage {
            blob: BlobId::from_bytes(bytes_n::<16>(row, 12)?),
            key: WrappedKey {
                key_id: parsed(row, 13, KeyId::parse)?,
                bytes: get(row, 14)?,
            },
            size: byte_size(row, 15)?,
        }),
        "typed" => SignatureMark::Typed(get(row, 16)?),
        _ => return Err(corrupt(11, "an unknown signature method")),
    };
    Ok(SignatureRecord {
        tenant_id: tenant_id(row, 0)?,
        portal_id: portal_id(row, 1)?,
        task_id: task_id(row, 2)?,
        signer: json(row, 3)?,
        ip: get(row, 4)?,
        user_agent: get(row, 5)?,
        signed_at: time(row, 6)?,
        time_zone: get(row, 7)?,
        document,
        mark,
        mark_sha256: hash(row, 17)?,
        consent_text: get(row, 18)?,
        consent_sha256: hash(row, 19)?,
        record_sha256: hash(row, 20)?,
    })
}

/// Reads a task's signature: `NotFound(Task)` if the task is not the portal's,
/// `NotFound(Signature)` if it is not signed.
fn load(tx: &mut Tx<'_>, portal: PortalId, task: TaskId) -> Result<SignatureRecord> {
    load_task(tx, portal, task)?;
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM signatures WHERE portal_id = $1 AND task_id = $2"),
            &[&&portal.as_bytes()[..], &&task.as_bytes()[..]],
        )
        .db("reading a signature")?
        .ok_or(Error::NotFound {
            entity: Entity::Signature,
        })?;
    record(&row)
}

fn insert(tx: &mut Tx<'_>, r: &SignatureRecord) -> Result<()> {
    let signer = codec::to_json(&r.signer)?;
    let (doc_name, doc_size, doc_hash) = match &r.document {
        Some(d) => (
            Some(d.name.clone()),
            Some(codec::size_value(d.size)?),
            Some(d.sha256.to_vec()),
        ),
        None => (None, None, None),
    };
    let (blob, key_id, key, size, typed) = match &r.mark {
        SignatureMark::Drawn(i) => (
            Some(i.blob.as_bytes().to_vec()),
            Some(i.key.key_id.as_str().to_owned()),
            Some(i.key.bytes.clone()),
            Some(codec::size_value(i.size)?),
            None,
        ),
        SignatureMark::Typed(name) => (None, None, None, None, Some(name.clone())),
    };
    tx.execute(
        &format!(
            "INSERT INTO signatures ({COLUMNS}) VALUES
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
              $19, $20, $21)"
        ),
        &[
            &&r.tenant_id.as_bytes()[..],
            &&r.portal_id.as_bytes()[..],
            &&r.task_id.as_bytes()[..],
            &signer,
            &r.ip,
            &r.user_agent,
            &micros(r.signed_at),
            &r.time_zone,
            &doc_name,
            &doc_size,
            &doc_hash,
            &r.mark.method(),
            &blob,
            &key_id,
            &key,
            &size,
            &typed,
            &&r.mark_sha256[..],
            &r.consent_text,
            &&r.consent_sha256[..],
            &&r.record_sha256[..],
        ],
    )
    .db("storing a signature")?;
    Ok(())
}

const DOCUMENT_COLUMNS: &str = "tenant_id, portal_id, task_id, name, file_type, size, sha256,
    blob_id, key_id, wrapped_key, attached_by, attached_at";

fn document(row: &Row) -> Result<AttachedDocument> {
    Ok(AttachedDocument {
        tenant_id: tenant_id(row, 0)?,
        portal_id: portal_id(row, 1)?,
        task_id: task_id(row, 2)?,
        name: get(row, 3)?,
        file_type: parsed(row, 4, from_serde_name)?,
        size: byte_size(row, 5)?,
        sha256: hash(row, 6)?,
        blob: BlobId::from_bytes(bytes_n::<16>(row, 7)?),
        key: WrappedKey {
            key_id: parsed(row, 8, KeyId::parse)?,
            bytes: get(row, 9)?,
        },
        attached_by: json(row, 10)?,
        attached_at: time(row, 11)?,
    })
}

/// A task's attached document, if any (the task is not checked).
fn load_document(
    tx: &mut Tx<'_>,
    portal: PortalId,
    task: TaskId,
) -> Result<Option<AttachedDocument>> {
    tx.query_opt(
        &format!(
            "SELECT {DOCUMENT_COLUMNS} FROM signature_documents
             WHERE portal_id = $1 AND task_id = $2"
        ),
        &[&&portal.as_bytes()[..], &&task.as_bytes()[..]],
    )
    .db("reading a signature document")?
    .map(|row| document(&row))
    .transpose()
}

fn signed(tx: &mut Tx<'_>, portal: PortalId, task: TaskId) -> Result<bool> {
    crate::directory::exists(
        tx,
        "SELECT 1 FROM signatures WHERE portal_id = $1 AND task_id = $2",
        &[&&portal.as_bytes()[..], &&task.as_bytes()[..]],
    )
}

fn blob_taken(tx: &mut Tx<'_>, d: &AttachedDocument) -> Result<bool> {
    crate::directory::exists(
        tx,
        "SELECT 1 FROM document_files WHERE blob_id = $1
         UNION ALL SELECT 1 FROM dropped_files WHERE blob_id = $1
         UNION ALL SELECT 1 FROM signatures WHERE image_blob = $1
         UNION ALL SELECT 1 FROM signature_documents WHERE blob_id = $1
         UNION ALL SELECT 1 FROM task_attachments WHERE blob_id = $1",
        &[&&d.blob.as_bytes()[..]],
    )
}

/// Stores a task's document, replacing the one attached before (SQLite's
/// `INSERT OR REPLACE` on the key `(portal_id, task_id)`).
fn upsert_document(tx: &mut Tx<'_>, d: &AttachedDocument) -> Result<()> {
    let file_type = codec::serde_name(&d.file_type)?;
    let by = codec::to_json(&d.attached_by)?;
    let size = codec::size_value(d.size)?;
    tx.execute(
        &format!(
            "INSERT INTO signature_documents ({DOCUMENT_COLUMNS}) VALUES
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (portal_id, task_id) DO UPDATE SET
                tenant_id = EXCLUDED.tenant_id, name = EXCLUDED.name,
                file_type = EXCLUDED.file_type, size = EXCLUDED.size,
                sha256 = EXCLUDED.sha256, blob_id = EXCLUDED.blob_id,
                key_id = EXCLUDED.key_id, wrapped_key = EXCLUDED.wrapped_key,
                attached_by = EXCLUDED.attached_by, attached_at = EXCLUDED.attached_at"
        ),
        &[
            &&d.tenant_id.as_bytes()[..],
            &&d.portal_id.as_bytes()[..],
            &&d.task_id.as_bytes()[..],
            &d.name,
            &file_type,
            &size,
            &&d.sha256[..],
            &&d.blob.as_bytes()[..],
            &d.key.key_id.as_str(),
            &d.key.bytes,
            &by,
            &micros(d.attached_at),
        ],
    )
    .db("storing a signature document")?;
    Ok(())
}

#[async_trait]
impl SignatureStore for PostgresStore {
    async fn submit_signature(
        &self,
        record: &SignatureRecord,
        decide: TaskDecision,
        audit: &AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task> {
        let (record, audit, emails) = (record.clone(), audit.clone(), emails.to_vec());
        let portal = record.portal_id;
        self.write_content(portal, move |tx| {
            let current = load_task(tx, portal, record.task_id)?;
            match load(tx, portal, record.task_id) {
                Ok(_) => return Err(Error::conflict("This task was already signed.")),
                Err(Error::NotFound {
                    entity: Entity::Signature,
                }) => {}
                Err(e) => return Err(e),
            }
            let change = decide(&current)?;
            let tenant = crate::documents::portal_tenant(tx, portal)?;
            record.ensure_belongs(&current, tenant)?;
            let attached = load_document(tx, portal, record.task_id)?;
            ensure_signed_document(attached.as_ref(), record.document.as_ref())?;
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

    async fn signature(&self, portal: PortalId, task: TaskId) -> Result<SignatureRecord> {
        self.read(move |tx| load(tx, portal, task)).await
    }

    async fn signatures_with_document(
        &self,
        tenant: TenantId,
        sha256: &[u8; 32],
        limit: usize,
    ) -> Result<Vec<SignatureRecord>> {
        let sha256 = *sha256;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |tx| {
            let rows = tx
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM signatures
                         WHERE tenant_id = $1 AND document_sha256 = $2
                         ORDER BY signed_at, task_id LIMIT $3"
                    ),
                    &[&&tenant.as_bytes()[..], &&sha256[..], &limit],
                )
                .db("finding the signatures of a document")?;
            rows.iter().map(record).collect()
        })
        .await
    }

    async fn attach_signature_document(
        &self,
        document: &AttachedDocument,
        audit: &AuditEntry,
    ) -> Result<Option<BlobId>> {
        let (doc, audit) = (document.clone(), audit.clone());
        let portal = doc.portal_id;
        self.write_content(portal, move |tx| {
            let current = load_task(tx, portal, doc.task_id)?;
            may_attach_document(&current, signed(tx, portal, doc.task_id)?)?;
            let tenant = crate::documents::portal_tenant(tx, portal)?;
            doc.ensure_belongs(&current, tenant)?;
            portal_core::audit::ensure_portal(&audit, portal, tenant)?;
            if blob_taken(tx, &doc)? {
                return Err(Error::conflict(
                    "Another stored file already uses this blob.",
                ));
            }
            let replaced = load_document(tx, portal, doc.task_id)?.map(|d| d.blob);
            upsert_document(tx, &doc)?;
            crate::audit::append(tx, portal, &audit)?;
            Ok(replaced)
        })
        .await
    }

    async fn signature_document(&self, portal: PortalId, task: TaskId) -> Result<AttachedDocument> {
        self.read(move |tx| {
            load_task(tx, portal, task)?;
            load_document(tx, portal, task)?.ok_or(Error::NotFound {
                entity: Entity::File,
            })
        })
        .await
    }
}
