//! Conformance check of deleting a task that holds sealed records
//! ([`crate::store::PlanStore::change_plan`]'s contract point "a deleted task takes its
//! sealed records with it"): a secure file drop's files, a signature task's image and
//! document, a credential handoff's fields.

use std::sync::Arc;

use super::support::{World, assert_err, client, secs, staff, t0, world};
use super::workflow::task_in;
use crate::blob::keyring::{KeyId, WrappedKey};
use crate::error::{Entity, Error};
use crate::filedrop::NewDrop;
use crate::ids::{BlobId, FileId};
use crate::model::{Task, TaskKind};
use crate::random::OsRandom;
use crate::signatures::{
    AttachedDocument, NewSignature, SignatureMark, SigningContext, StoredImage, sha256,
};
use crate::store::{PlanDecision, Store};

fn key() -> WrappedKey {
    WrappedKey {
        key_id: KeyId::parse("k1").unwrap(),
        bytes: vec![5; 40],
    }
}

async fn drop_file(
    store: &dyn Store,
    w: &World,
    task: &Task,
    at: i64,
) -> crate::filedrop::DroppedFile {
    let new = NewDrop {
        id: FileId::random(&OsRandom),
        name: "backup.conf".into(),
        size: 10,
        sha256: [3; 32],
        blob: BlobId::random(&OsRandom),
        key: key(),
    };
    store
        .add_dropped_file(
            w.portal.id,
            task.id,
            super::filedrop::dropping(w, new, t0() + secs(at)),
        )
        .await
        .unwrap()
}

/// Deletes `task` through `change_plan` as the plan rule does; the change as written.
/// A signature task of `w` signed with a drawn image, with an attached document: the
/// image and the document.
async fn signed_with_image(store: &dyn Store, w: &World) -> (Task, AttachedDocument, StoredImage) {
    let sig = task_in(
        store,
        w,
        TaskKind::Signature {
            document: None,
            consent: None,
        },
    )
    .await;
    let doc = AttachedDocument {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        task_id: sig.id,
        name: "MSA.pdf".into(),
        file_type: crate::files::FileType::Pdf,
        size: 10,
        sha256: sha256(b"the agreement"),
        blob: BlobId::random(&OsRandom),
        key: key(),
        attached_by: staff(),
        attached_at: t0(),
    };
    store
        .attach_signature_document(&doc, &super::signatures::attach_event(w, &doc))
        .await
        .unwrap();
    let image = StoredImage {
        blob: BlobId::random(&OsRandom),
        key: key(),
        size: 20,
    };
    let record = NewSignature {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        task_id: sig.id,
        signer: client(&w.contact),
        context: SigningContext {
            ip: None,
            user_agent: None,
            time_zone: "UTC".into(),
        },
        at: t0() + secs(5),
        document: Some(doc.as_signed()),
        mark: SignatureMark::Drawn(image.clone()),
        mark_sha256: sha256(b"png"),
        consent_text: crate::signatures::DEFAULT_CONSENT.into(),
    }
    .into_record();
    store
        .submit_signature(
            &record,
            super::signatures::sign(w, 5),
            &super::signatures::submitted(w, &record),
            &[],
        )
        .await
        .unwrap();
    (sig, doc, image)
}

/// `delete_portal` returns the blob of every drawn signature image of the portal with
/// the other files' (the image is encrypted content like a document), and afterwards
/// none of them is in use.
pub async fn delete_portal_erases_signature_images(store: &dyn Store) {
    let w = world(store).await;
    let (_, doc, image) = signed_with_image(store, &w).await;
    let erasure = crate::store::Erasure {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        client_name: w.portal.client_name.clone(),
        at: t0() + secs(30),
        by: staff(),
        audit_head: None,
    };
    let blobs = store.delete_portal(w.portal.id, &erasure).await.unwrap();
    assert!(
        blobs.contains(&image.blob),
        "a deleted portal's signature image blob is returned for deletion"
    );
    assert!(blobs.contains(&doc.blob));
    assert!(!store.blob_in_use(image.blob).await.unwrap());
}

async fn delete(store: &dyn Store, w: &World, task: &Task) -> crate::workflow::plan::PlanChange {
    let plan = store.plan(w.portal.id).await.unwrap();
    let version = plan.task(task.id).unwrap().version;
    let id = task.id;
    let decide: PlanDecision = Arc::new(move |p| {
        crate::workflow::plan::delete_task(p, id, version, &staff(), t0() + secs(60))
    });
    store.change_plan(w.portal.id, decide).await.unwrap()
}

fn sorted(mut v: Vec<BlobId>) -> Vec<BlobId> {
    v.sort();
    v
}

/// Deleting a secure file drop task erases its dropped files (every state) and answers
/// the blobs still holding content (not one whose bytes were removed); deleting a
/// signature task erases its signature and document and answers the image's and the
/// document's blobs; deleting a credential handoff erases its record. Afterwards no
/// blob of a deleted task is in use, its records read as `NotFound`, and another
/// task's drop in the same portal is untouched.
pub async fn delete_task_erases_its_files(store: &dyn Store) {
    let w = world(store).await;
    let drop_kind = TaskKind::SecureFileDrop {
        expires_after_days: 7,
    };
    let drops = task_in(store, &w, drop_kind.clone()).await;
    let keep = task_in(store, &w, drop_kind).await;
    let live = drop_file(store, &w, &drops, 1).await;
    let removed = drop_file(store, &w, &drops, 2).await;
    let kept = drop_file(store, &w, &keep, 3).await;
    let actor = client(&w.contact);
    store
        .change_dropped_file(
            w.portal.id,
            removed.id,
            Arc::new(move |t: &Task, f: &crate::filedrop::DroppedFile| {
                crate::filedrop::delete(t, f, &actor, t0() + secs(4))
            }),
        )
        .await
        .unwrap();
    assert!(store.mark_drop_bytes_removed(removed.id).await.unwrap());

    let change = delete(store, &w, &drops).await;
    assert_eq!(
        sorted(change.erased_blobs.clone()),
        vec![live.blob],
        "the deleted drop task's blobs with content are answered, once each"
    );
    assert!(
        !store.blob_in_use(live.blob).await.unwrap(),
        "a deleted task's dropped file is not in use"
    );
    for f in [&live, &removed] {
        assert_err!(
            store.dropped_file(w.portal.id, f.id).await,
            Error::NotFound {
                entity: Entity::File
            }
        );
    }
    assert!(
        store
            .dropped_files(w.portal.id, drops.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.dropped_file(w.portal.id, kept.id).await.unwrap(),
        kept,
        "another task's drop stays"
    );
    assert!(store.blob_in_use(kept.blob).await.unwrap());

    // A signature task with its document and a drawn signature.
    let (sig, doc, image) = signed_with_image(store, &w).await;
    let change = delete(store, &w, &sig).await;
    assert_eq!(
        sorted(change.erased_blobs.clone()),
        sorted(vec![doc.blob, image.blob]),
        "the deleted signature task's image and document blobs are answered"
    );
    for blob in [doc.blob, image.blob] {
        assert!(!store.blob_in_use(blob).await.unwrap());
    }
    assert!(store.signature(w.portal.id, sig.id).await.is_err());
    assert!(store.signature_document(w.portal.id, sig.id).await.is_err());

    // A credential handoff: its sealed fields go with it.
    let handoff = task_in(store, &w, TaskKind::CredentialHandoff { api_key: false }).await;
    let creds = crate::credentials::CredentialRecord {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        task_id: handoff.id,
        submitted_by: client(&w.contact),
        submitted_at: t0() + secs(6),
        fields: vec![crate::credentials::SealedField {
            field: crate::credentials::CredentialField::Username,
            key: key(),
            ciphertext: vec![1; 40],
        }],
        purged: None,
    };
    store
        .submit_credentials(
            &creds,
            super::support::decide(
                crate::workflow::TaskAction::Complete { notes: None },
                staff(),
                t0() + secs(6),
            ),
            &super::credentials::submitted(&w, &handoff),
            &[],
        )
        .await
        .unwrap();
    let change = delete(store, &w, &handoff).await;
    assert!(change.erased_blobs.is_empty(), "credentials have no blob");
    assert!(
        store.credentials(w.portal.id, handoff.id).await.is_err(),
        "a deleted handoff's sealed fields are gone"
    );
}
