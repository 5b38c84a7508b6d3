//! Conformance checks of [`crate::store::SignatureStore`]: one signature per task with
//! its task change, feed entry, audit event and emails in one unit; refusals that write
//! nothing; records read back exactly; "verify a document" scoped by tenant; image
//! blobs counted as in use; erasure with the portal.

use super::outbox::{absent, mail, parked, read};
use super::support::{World, assert_err, client, secs, staff, t0, world};
use super::workflow::task_in;
use crate::audit::{AuditEntry, AuditEvent};
use crate::blob::keyring::{KeyId, WrappedKey};
use crate::error::{Entity, Error};
use crate::ids::{BlobId, PortalId};
use crate::model::{Task, TaskKind, TaskStatus};
use crate::random::OsRandom;
use crate::signatures::{
    AttachedDocument, NewSignature, SignatureMark, SignatureRecord, SignedDocument, SigningContext,
    StoredImage, record_signature, sha256,
};
use crate::store::{Erasure, Store, TaskDecision};
use crate::workflow::ActivityKind;

fn record(w: &World, task: &Task, doc: Option<&[u8]>, drawn: bool, at: i64) -> SignatureRecord {
    let (mark, mark_sha256) = if drawn {
        (
            SignatureMark::Drawn(StoredImage {
                blob: BlobId::random(&OsRandom),
                key: WrappedKey {
                    key_id: KeyId::parse("k1").unwrap(),
                    bytes: vec![7; 40],
                },
                size: 1234,
            }),
            sha256(b"png bytes"),
        )
    } else {
        (
            SignatureMark::Typed(w.contact.name.clone()),
            sha256(w.contact.name.as_bytes()),
        )
    };
    NewSignature {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        task_id: task.id,
        signer: client(&w.contact),
        context: SigningContext {
            ip: Some("203.0.113.7".into()),
            user_agent: Some("Mozilla/5.0 (conformance)".into()),
            time_zone: "America/New_York".into(),
        },
        at: t0() + secs(at),
        document: doc.map(|d| SignedDocument {
            name: "MSA.pdf".into(),
            size: d.len() as u64,
            sha256: sha256(d),
        }),
        mark,
        mark_sha256,
        consent_text: crate::signatures::DEFAULT_CONSENT.into(),
    }
    .into_record()
}

pub(super) fn submitted(w: &World, r: &SignatureRecord) -> AuditEntry {
    AuditEntry::new(
        w.tenant.id,
        w.portal.id,
        r.signed_at,
        r.signer.clone(),
        &AuditEvent::SignatureSubmitted {
            task: r.task_id,
            record_sha256: r.record_sha256,
        },
    )
}

pub(super) fn sign(w: &World, at: i64) -> TaskDecision {
    let actor = client(&w.contact);
    std::sync::Arc::new(move |t: &Task| record_signature(t, &actor, t0() + secs(at)))
}

async fn signature_task(store: &dyn Store, w: &World) -> Task {
    task_in(
        store,
        w,
        TaskKind::Signature {
            document: None,
            consent: None,
        },
    )
    .await
}

async fn chain_len(store: &dyn Store, portal: PortalId) -> usize {
    store
        .audit_events(portal, 0, usize::MAX)
        .await
        .unwrap()
        .len()
}

/// `submit_signature`: stored with its task change, feed entry, event and emails; a
/// second submit, a refused decision, a foreign or altered record, a foreign audit
/// entry, another portal: nothing written, nothing queued.
pub async fn signature_submitted_once(store: &dyn Store) {
    let w = world(store).await;
    let task = signature_task(store, &w).await;
    let rec = record(&w, &task, Some(b"%PDF the agreement"), true, 1);
    attach(store, &w, &task, b"%PDF the agreement").await;
    assert_err!(
        store.signature(w.portal.id, task.id).await,
        Error::NotFound {
            entity: Entity::Signature
        }
    );
    let other = world(store).await;
    let lost = mail(&w, parked());
    let refuse: TaskDecision = std::sync::Arc::new(|_: &Task| Err(Error::conflict("no")));
    assert_err!(
        store
            .submit_signature(
                &rec,
                refuse,
                &submitted(&w, &rec),
                std::slice::from_ref(&lost)
            )
            .await,
        Error::Conflict { .. }
    );
    let mut foreign = rec.clone();
    foreign.tenant_id = other.tenant.id;
    foreign.record_sha256 = crate::signatures::record_hash(&foreign);
    assert_err!(
        store
            .submit_signature(
                &foreign,
                sign(&w, 1),
                &submitted(&w, &rec),
                std::slice::from_ref(&lost)
            )
            .await,
        Error::Invalid {
            field: "signature",
            ..
        }
    );
    let mut altered = rec.clone();
    altered.ip = Some("198.51.100.1".into());
    assert_err!(
        store
            .submit_signature(
                &altered,
                sign(&w, 1),
                &submitted(&w, &rec),
                std::slice::from_ref(&lost)
            )
            .await,
        Error::Invalid {
            field: "signature",
            ..
        }
    );
    let foreign_audit = AuditEntry {
        portal_id: other.portal.id,
        tenant_id: other.tenant.id,
        ..submitted(&w, &rec)
    };
    assert_err!(
        store
            .submit_signature(
                &rec,
                sign(&w, 1),
                &foreign_audit,
                std::slice::from_ref(&lost)
            )
            .await,
        Error::Invalid { field: "audit", .. }
    );
    let mut elsewhere = rec.clone();
    elsewhere.portal_id = other.portal.id;
    assert_err!(
        store
            .submit_signature(&elsewhere, sign(&w, 1), &submitted(&w, &rec), &[])
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_eq!(store.task(w.portal.id, task.id).await.unwrap(), task);
    assert_eq!(
        chain_len(store, w.portal.id).await,
        1,
        "refusals append nothing (the document's attachment is the one event)"
    );
    assert_err!(
        store.signature(w.portal.id, task.id).await,
        Error::NotFound {
            entity: Entity::Signature
        }
    );
    absent(store, lost.id, "a refused submit_signature queues nothing").await;
    let feed_before = store.activity(w.portal.id, 100).await.unwrap().len();

    let told = mail(&w, parked());
    let done = store
        .submit_signature(
            &rec,
            sign(&w, 1),
            &submitted(&w, &rec),
            std::slice::from_ref(&told),
        )
        .await
        .unwrap();
    assert_eq!(
        done.status,
        TaskStatus::Completed,
        "the task change is written"
    );
    assert_eq!(store.task(w.portal.id, task.id).await.unwrap(), done);
    assert_eq!(
        store.signature(w.portal.id, task.id).await.unwrap(),
        rec,
        "a signature reads back exactly as submitted"
    );
    let feed = store.activity(w.portal.id, 100).await.unwrap();
    assert_eq!(
        feed.len(),
        feed_before + 1,
        "the feed entry is written in the unit"
    );
    assert!(
        feed.iter()
            .any(|e| e.kind == ActivityKind::TaskCompleted && e.task_id == Some(task.id)),
        "the feed says the task was completed"
    );
    let chain = store.audit_events(w.portal.id, 0, 10).await.unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[1].entry.kind, "signature_submitted");
    assert_eq!(
        chain[1].entry.field("record_sha256"),
        Some(crate::audit::hash_hex(&rec.record_sha256).as_str())
    );
    assert_eq!(
        read(store, told.id).await,
        told,
        "submit_signature queues its emails in its unit"
    );

    // A second submit never replaces the first.
    let again = record(&w, &task, None, false, 5);
    let reopen: TaskDecision = std::sync::Arc::new(|t: &Task| {
        Ok(crate::workflow::TaskChange {
            task: t.clone(),
            activity: super::workflow::entry(
                t.portal_id,
                t0() + secs(5),
                &staff(),
                ActivityKind::TaskCompleted,
                "again",
            ),
        })
    });
    assert_err!(
        store
            .submit_signature(&again, reopen, &submitted(&w, &again), &[])
            .await,
        Error::Conflict { .. }
    );
    assert_eq!(store.signature(w.portal.id, task.id).await.unwrap(), rec);
    assert_eq!(chain_len(store, w.portal.id).await, 2);
    assert_err!(
        store.signature(other.portal.id, task.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );

    // A typed signature without a document round-trips too.
    let typed_task = signature_task(store, &w).await;
    let typed = record(&w, &typed_task, None, false, 7);
    store
        .submit_signature(&typed, sign(&w, 7), &submitted(&w, &typed), &[])
        .await
        .unwrap();
    assert_eq!(
        store.signature(w.portal.id, typed_task.id).await.unwrap(),
        typed
    );
}

/// `signatures_with_document` finds a tenant's signatures of exactly one document,
/// oldest first, at most `limit`, never another tenant's; a drawn image's blob is in
/// use; erasing the portal erases its signatures.
pub async fn signatures_found_by_document(store: &dyn Store) {
    let doc: &[u8] = b"%PDF-1.7 master services agreement v3";
    let w = world(store).await;
    let other = world(store).await;
    let first = signature_task(store, &w).await;
    let second = signature_task(store, &w).await;
    let unrelated = signature_task(store, &w).await;
    let theirs = signature_task(store, &other).await;
    // Written newest first, so insertion order is not the answer.
    let late = record(&w, &second, Some(doc), false, 9);
    let early = record(&w, &first, Some(doc), true, 3);
    let none = record(&w, &unrelated, Some(b"another document"), false, 4);
    let foreign = record(&other, &theirs, Some(doc), false, 1);
    for (world, task, content) in [
        (&w, &second, doc),
        (&w, &first, doc),
        (&w, &unrelated, &b"another document"[..]),
        (&other, &theirs, doc),
    ] {
        attach(store, world, task, content).await;
    }
    for (world, r) in [(&w, &late), (&w, &early), (&w, &none), (&other, &foreign)] {
        let at = (r.signed_at - t0()).num_seconds();
        store
            .submit_signature(r, sign(world, at), &submitted(world, r), &[])
            .await
            .unwrap();
    }
    let found = store
        .signatures_with_document(w.tenant.id, &sha256(doc), 10)
        .await
        .unwrap();
    assert_eq!(
        found,
        vec![early.clone(), late.clone()],
        "oldest first, this tenant only"
    );
    let one = store
        .signatures_with_document(w.tenant.id, &sha256(doc), 1)
        .await
        .unwrap();
    assert_eq!(one, vec![early.clone()], "at most limit");
    assert!(
        store
            .signatures_with_document(w.tenant.id, &sha256(b"never signed"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .signatures_with_document(other.tenant.id, &sha256(doc), 10)
            .await
            .unwrap(),
        vec![foreign]
    );
    let SignatureMark::Drawn(image) = &early.mark else {
        unreachable!("the early signature is drawn")
    };
    assert!(
        store.blob_in_use(image.blob).await.unwrap(),
        "a signature image's blob is in use (orphan sweeps keep it)"
    );

    let erasure = Erasure {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        client_name: w.portal.client_name.clone(),
        at: t0() + secs(10),
        by: staff(),
        audit_head: None,
    };
    store.delete_portal(w.portal.id, &erasure).await.unwrap();
    assert!(
        store
            .signatures_with_document(w.tenant.id, &sha256(doc), 10)
            .await
            .unwrap()
            .is_empty(),
        "erasing the portal erases its signatures"
    );
    assert!(!store.blob_in_use(image.blob).await.unwrap());
}

fn attached(w: &World, task: &Task, content: &[u8], at: i64) -> AttachedDocument {
    AttachedDocument {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        task_id: task.id,
        name: "MSA.pdf".into(),
        file_type: crate::files::FileType::Pdf,
        size: content.len() as u64,
        sha256: sha256(content),
        blob: BlobId::random(&OsRandom),
        key: WrappedKey {
            key_id: KeyId::parse("k1").unwrap(),
            bytes: vec![9; 40],
        },
        attached_by: staff(),
        attached_at: t0() + secs(at),
    }
}

/// Attaches `content` (named `MSA.pdf`, as [`record`] names a signed document).
async fn attach(store: &dyn Store, w: &World, task: &Task, content: &[u8]) -> AttachedDocument {
    let d = attached(w, task, content, 0);
    store
        .attach_signature_document(&d, &attach_event(w, &d))
        .await
        .unwrap();
    d
}

pub(super) fn attach_event(w: &World, d: &AttachedDocument) -> AuditEntry {
    AuditEntry::new(
        w.tenant.id,
        w.portal.id,
        d.attached_at,
        staff(),
        &AuditEvent::SignatureDocumentAttached {
            task: d.task_id,
            name: d.name.clone(),
            size: d.size,
            sha256: d.sha256,
        },
    )
}

/// `attach_signature_document` and `signature_document`: a document reads back exactly
/// with its audit event in the chain; replacing it answers the replaced blob; refusals
/// (another portal, not a signature task, a foreign audit entry, a blob in use) write
/// nothing; a signature must name exactly the attached document (else `Conflict`);
/// once signed the document is never replaced; its blob is in use until replaced;
/// erasing the portal returns its blob.
pub async fn signature_document_attached(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let task = signature_task(store, &w).await;
    assert_err!(
        store.signature_document(w.portal.id, task.id).await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    let first = attached(&w, &task, b"%PDF-1.7 draft agreement", 1);
    assert_eq!(
        store
            .attach_signature_document(&first, &attach_event(&w, &first))
            .await
            .unwrap(),
        None,
        "nothing was replaced"
    );
    assert_eq!(
        store
            .signature_document(w.portal.id, task.id)
            .await
            .unwrap(),
        first,
        "a document reads back exactly as attached"
    );
    assert!(store.blob_in_use(first.blob).await.unwrap());
    let chain = store.audit_events(w.portal.id, 0, 10).await.unwrap();
    assert_eq!(chain.len(), 1, "the audit event is appended in the unit");
    assert_eq!(chain[0].entry.kind, "signature_document_attached");
    assert_err!(
        store.signature_document(other.portal.id, task.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );

    // Refusals write nothing.
    let mut elsewhere = attached(&w, &task, b"%PDF other", 2);
    elsewhere.portal_id = other.portal.id;
    assert_err!(
        store
            .attach_signature_document(&elsewhere, &attach_event(&w, &elsewhere))
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    let plain = task_in(store, &w, TaskKind::Standard).await;
    let not_signature = attached(&w, &plain, b"%PDF other", 2);
    assert_err!(
        store
            .attach_signature_document(&not_signature, &attach_event(&w, &not_signature))
            .await,
        Error::Conflict { .. } | Error::Invalid { .. }
    );
    let mut foreign = attached(&w, &task, b"%PDF other", 2);
    foreign.tenant_id = other.tenant.id;
    assert_err!(
        store
            .attach_signature_document(&foreign, &attach_event(&w, &foreign))
            .await,
        Error::Invalid {
            field: "document",
            ..
        }
    );
    let ok = attached(&w, &task, b"%PDF other", 2);
    let foreign_audit = AuditEntry {
        portal_id: other.portal.id,
        tenant_id: other.tenant.id,
        ..attach_event(&w, &ok)
    };
    assert_err!(
        store.attach_signature_document(&ok, &foreign_audit).await,
        Error::Invalid { field: "audit", .. }
    );
    let mut reused = attached(&w, &task, b"%PDF other", 2);
    reused.blob = first.blob;
    assert_err!(
        store
            .attach_signature_document(&reused, &attach_event(&w, &reused))
            .await,
        Error::Conflict { .. }
    );
    assert_eq!(
        store
            .signature_document(w.portal.id, task.id)
            .await
            .unwrap(),
        first,
        "refusals leave the document as it was"
    );
    assert_eq!(
        chain_len(store, w.portal.id).await,
        1,
        "refusals append nothing"
    );

    // Replacing answers the replaced blob; the old blob is no longer in use.
    let second = attached(&w, &task, b"%PDF-1.7 final agreement", 3);
    assert_eq!(
        store
            .attach_signature_document(&second, &attach_event(&w, &second))
            .await
            .unwrap(),
        Some(first.blob),
        "replacing answers the replaced blob"
    );
    assert_eq!(
        store
            .signature_document(w.portal.id, task.id)
            .await
            .unwrap(),
        second
    );
    assert!(!store.blob_in_use(first.blob).await.unwrap());
    assert!(store.blob_in_use(second.blob).await.unwrap());

    // A signature names exactly the attached document.
    // No document while one is attached, and the replaced document.
    for doc in [None, Some(&b"%PDF-1.7 draft agreement"[..])] {
        let wrong = record(&w, &task, doc, false, 4);
        assert_err!(
            store
                .submit_signature(&wrong, sign(&w, 4), &submitted(&w, &wrong), &[])
                .await,
            Error::Conflict { .. }
        );
    }
    assert_err!(
        store.signature(w.portal.id, task.id).await,
        Error::NotFound {
            entity: Entity::Signature
        }
    );
    let bare = signature_task(store, &w).await;
    let phantom = record(&w, &bare, Some(b"%PDF-1.7 final agreement"), false, 4);
    // A document where none is attached.
    assert_err!(
        store
            .submit_signature(&phantom, sign(&w, 4), &submitted(&w, &phantom), &[])
            .await,
        Error::Conflict { .. }
    );
    let mut rec = record(&w, &task, None, false, 5);
    rec.document = Some(second.as_signed());
    rec.record_sha256 = crate::signatures::record_hash(&rec);
    store
        .submit_signature(&rec, sign(&w, 5), &submitted(&w, &rec), &[])
        .await
        .unwrap();
    assert_eq!(store.signature(w.portal.id, task.id).await.unwrap(), rec);

    // Signed: never replaced.
    let late = attached(&w, &task, b"%PDF-1.7 sneaky change", 6);
    let before = chain_len(store, w.portal.id).await;
    assert_err!(
        store
            .attach_signature_document(&late, &attach_event(&w, &late))
            .await,
        Error::Conflict { .. }
    );
    assert_eq!(
        store
            .signature_document(w.portal.id, task.id)
            .await
            .unwrap(),
        second,
        "a signed document is never replaced"
    );
    assert_eq!(chain_len(store, w.portal.id).await, before);

    let erasure = Erasure {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        client_name: w.portal.client_name.clone(),
        at: t0() + secs(10),
        by: staff(),
        audit_head: None,
    };
    let blobs = store.delete_portal(w.portal.id, &erasure).await.unwrap();
    assert!(
        blobs.contains(&second.blob),
        "erasing the portal returns its documents' blobs"
    );
    assert!(!store.blob_in_use(second.blob).await.unwrap());
}
