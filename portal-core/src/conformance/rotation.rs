//! Conformance check of key rotation beyond uploads
//! ([`crate::store::DocumentStore::sealed_keys_to_rewrap`] and `replace_sealed_key`):
//! every kind of record that keeps a wrapped data key is listed, in cursor order, and
//! after its key is swapped in, reads back openable with the new key alone.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::support::{World, client, decide, secs, staff, t0, world};
use super::workflow::task_in;
use crate::blob::envelope::{FileBinding, FileVault, SealedFile};
use crate::blob::keyring::{DataKey, KeyId, KeyProvider, Keyring, WrappedKey};
use crate::blob::rotation::{SealedAt, SealedKey, SealedKind};
use crate::blob::{read_all, stream_of};
use crate::credentials::{
    CredentialBinding, CredentialField, CredentialRecord, SecretText, open_field, seal_field,
};
use crate::filedrop::NewDrop;
use crate::ids::{BlobId, FileId};
use crate::memory::MemoryBlobStore;
use crate::model::{Task, TaskKind};
use crate::random::{OsRandom, RandomSource};
use crate::signatures::{
    AttachedDocument, NewSignature, SignatureMark, SigningContext, StoredImage, sha256,
};
use crate::store::Store;
use crate::workflow::TaskAction;

/// A key id of this check's own (the store may hold other checks' keys).
fn fresh_key_id(prefix: &str) -> KeyId {
    let mut bytes = [0u8; 8];
    OsRandom.fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    KeyId::parse(&format!("{prefix}-{hex}")).unwrap()
}

/// The keys during a rotation: wraps under `new`, unwraps under whichever key a
/// wrapped key names (as a keyring holding both would).
struct Rotating {
    old: Arc<Keyring>,
    new: Arc<Keyring>,
}

#[async_trait]
impl KeyProvider for Rotating {
    async fn wrap(&self, key: &DataKey, aad: &[u8]) -> crate::Result<WrappedKey> {
        self.new.wrap(key, aad).await
    }

    async fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> crate::Result<DataKey> {
        if wrapped.key_id == self.old.active_key_id() {
            self.old.unwrap(wrapped, aad).await
        } else {
            self.new.unwrap(wrapped, aad).await
        }
    }

    fn active_key_id(&self) -> KeyId {
        self.new.active_key_id()
    }
}

async fn seal(vault: &FileVault, w: &World, task: &Task, content: &[u8]) -> SealedFile {
    let binding = FileBinding {
        tenant: w.tenant.id,
        portal: w.portal.id,
        task: Some(task.id),
        blob: BlobId::random(&OsRandom),
    };
    vault
        .seal(
            &binding,
            stream_of(vec![Bytes::copy_from_slice(content)]),
            u64::MAX,
        )
        .await
        .unwrap()
}

async fn opens(vault: &FileVault, binding: &FileBinding, key: &WrappedKey) -> Vec<u8> {
    read_all(vault.open(binding, key).await.unwrap(), u64::MAX)
        .await
        .unwrap()
}

/// Every key of `kind` the store lists under another key than `active`, walking the
/// cursor one page of `page` at a time, checked for order, cursor and key.
async fn walk(store: &dyn Store, kind: SealedKind, active: &KeyId, page: usize) -> Vec<SealedKey> {
    let mut all = Vec::new();
    let mut after: Option<SealedAt> = None;
    loop {
        let batch = store
            .sealed_keys_to_rewrap(kind, active, after, page)
            .await
            .unwrap();
        assert!(batch.len() <= page, "{kind:?}: at most limit");
        assert!(
            batch.windows(2).all(|p| p[0].at < p[1].at),
            "{kind:?}: ordered by SealedAt"
        );
        assert!(
            batch.iter().all(|k| after.is_none_or(|a| k.at > a)),
            "{kind:?}: strictly after the cursor"
        );
        assert!(
            batch
                .iter()
                .all(|k| &k.key.key_id != active && k.kind == kind),
            "{kind:?}: never a key under the active key, never another kind"
        );
        let Some(last) = batch.last() else { break };
        after = Some(last.at);
        all.extend(batch);
    }
    all
}

/// Rotation of everything sealed besides uploads: a drawn signature image, a
/// signature task's document, a dropped file and a credential handoff's fields are
/// each listed by `sealed_keys_to_rewrap` (every kind, in cursor order, with the
/// binding they were sealed under), `replace_sealed_key` swaps each key only if it is
/// still the one read (a stale compare-and-set changes nothing), and afterwards every
/// one of them opens with the new key alone, the old key gone. A purged handoff and a
/// dropped file whose bytes were removed are not listed. Nothing is left to list.
pub async fn sealed_key_rotation(store: &dyn Store) {
    let random: Arc<dyn RandomSource> = Arc::new(OsRandom);
    let old = Arc::new(Keyring::generate(fresh_key_id("old"), random.clone()));
    let new = Arc::new(Keyring::generate(fresh_key_id("new"), random.clone()));
    let (old_id, new_id) = (old.active_key_id(), new.active_key_id());
    let blobs = Arc::new(MemoryBlobStore::new());
    let before = FileVault::new(blobs.clone(), old.clone(), random.clone());
    let w = world(store).await;

    // A signature task with its document and a drawn signature.
    let sig_task = task_in(
        store,
        &w,
        TaskKind::Signature {
            document: None,
            consent: None,
        },
    )
    .await;
    let doc_bytes = b"%PDF-1.7 the agreement".to_vec();
    let sealed_doc = seal(&before, &w, &sig_task, &doc_bytes).await;
    let doc = AttachedDocument {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        task_id: sig_task.id,
        name: "MSA.pdf".into(),
        file_type: crate::files::FileType::Pdf,
        size: sealed_doc.size,
        sha256: sealed_doc.sha256,
        blob: sealed_doc.blob,
        key: sealed_doc.key.clone(),
        attached_by: staff(),
        attached_at: t0(),
    };
    store
        .attach_signature_document(&doc, &super::signatures::attach_event(&w, &doc))
        .await
        .unwrap();
    let png = b"\x89PNG a drawn signature".to_vec();
    let sealed_png = seal(&before, &w, &sig_task, &png).await;
    let signature = NewSignature {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        task_id: sig_task.id,
        signer: client(&w.contact),
        context: SigningContext {
            ip: None,
            user_agent: None,
            time_zone: "Europe/Berlin".into(),
        },
        at: t0() + secs(1),
        document: Some(doc.as_signed()),
        mark: SignatureMark::Drawn(StoredImage {
            blob: sealed_png.blob,
            key: sealed_png.key.clone(),
            size: sealed_png.size,
        }),
        mark_sha256: sha256(&png),
        consent_text: crate::signatures::DEFAULT_CONSENT.into(),
    }
    .into_record();
    store
        .submit_signature(
            &signature,
            super::signatures::sign(&w, 1),
            &super::signatures::submitted(&w, &signature),
            &[],
        )
        .await
        .unwrap();

    // A file staff attached to a task (any task: here a standard one).
    let guide_task = task_in(store, &w, TaskKind::Standard).await;
    let guide_bytes = b"%PDF-1.7 how to enrol your laptops".to_vec();
    let sealed_guide = seal(&before, &w, &guide_task, &guide_bytes).await;
    let guide = crate::attachments::TaskAttachment {
        id: crate::ids::AttachmentId::random(&OsRandom),
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        task_id: guide_task.id,
        name: "Enrolment guide.pdf".into(),
        file_type: crate::files::FileType::Pdf,
        size: sealed_guide.size,
        sha256: sealed_guide.sha256,
        blob: sealed_guide.blob,
        key: sealed_guide.key.clone(),
        added_by: staff(),
        added_at: t0(),
    };
    store
        .add_attachment(
            &guide,
            crate::attachments::MAX_PER_TASK,
            &super::attachments::added(&guide),
        )
        .await
        .unwrap();

    // A secure file drop with one file, and one whose bytes were removed.
    let drop_task = task_in(
        store,
        &w,
        TaskKind::SecureFileDrop {
            expires_after_days: 7,
        },
    )
    .await;
    let drop_bytes = b"firewall config backup".to_vec();
    let mut dropped = Vec::new();
    for i in 0..2 {
        let sealed = seal(&before, &w, &drop_task, &drop_bytes).await;
        let new_drop = NewDrop {
            id: FileId::random(&OsRandom),
            name: format!("backup-{i}.conf"),
            size: sealed.size,
            sha256: sealed.sha256,
            blob: sealed.blob,
            key: sealed.key,
        };
        dropped.push(
            store
                .add_dropped_file(
                    w.portal.id,
                    drop_task.id,
                    super::filedrop::dropping(&w, new_drop, t0() + secs(2 + i)),
                )
                .await
                .unwrap(),
        );
    }
    let gone = dropped.pop().unwrap();
    let actor = client(&w.contact);
    store
        .change_dropped_file(
            w.portal.id,
            gone.id,
            Arc::new(move |t: &Task, f: &crate::filedrop::DroppedFile| {
                crate::filedrop::delete(t, f, &actor, t0() + secs(5))
            }),
        )
        .await
        .unwrap();
    assert!(store.mark_drop_bytes_removed(gone.id).await.unwrap());
    let live_drop = dropped.pop().unwrap();

    // A credential handoff with two fields, and a purged one.
    let mut handoffs = Vec::new();
    for _ in 0..2 {
        let task = task_in(store, &w, TaskKind::CredentialHandoff { api_key: false }).await;
        let binding = CredentialBinding {
            tenant: w.tenant.id,
            portal: w.portal.id,
            task: task.id,
        };
        let mut fields = Vec::new();
        for (field, value) in [
            (CredentialField::Username, "admin"),
            (CredentialField::Password, "correct horse battery staple"),
        ] {
            fields.push(
                seal_field(
                    old.as_ref(),
                    random.as_ref(),
                    &binding,
                    field,
                    &SecretText::new(value),
                )
                .await
                .unwrap(),
            );
        }
        let record = CredentialRecord {
            tenant_id: w.tenant.id,
            portal_id: w.portal.id,
            task_id: task.id,
            submitted_by: client(&w.contact),
            submitted_at: t0() + secs(1),
            fields,
            purged: None,
        };
        store
            .submit_credentials(
                &record,
                decide(
                    TaskAction::Complete { notes: None },
                    staff(),
                    t0() + secs(1),
                ),
                &super::credentials::submitted(&w, &task),
                &[],
            )
            .await
            .unwrap();
        handoffs.push(task);
    }
    let purged = handoffs.pop().unwrap();
    store
        .purge_credentials(
            w.portal.id,
            purged.id,
            &crate::workflow::CheckMark {
                by: staff(),
                at: t0() + secs(3),
            },
            &crate::audit::AuditEntry::new(
                w.tenant.id,
                w.portal.id,
                t0() + secs(3),
                staff(),
                &crate::audit::AuditEvent::CredentialsPurged { task: purged.id },
            ),
        )
        .await
        .unwrap();
    let handoff = handoffs.pop().unwrap();

    // Rotate: list each kind (a page of one, so the cursor is walked), keep this
    // check's keys, re-wrap and swap each in.
    let rotating = Rotating {
        old: old.clone(),
        new: new.clone(),
    };
    let expected = [
        (SealedKind::SignatureImage, 1),
        (SealedKind::SignatureDocument, 1),
        (SealedKind::DroppedFile, 1),
        (SealedKind::CredentialField, 2),
        (SealedKind::TaskAttachment, 1),
    ];
    for (kind, count) in expected {
        let mine: Vec<SealedKey> = walk(store, kind, &new_id, 1)
            .await
            .into_iter()
            .filter(|k| k.key.key_id == old_id)
            .collect();
        assert_eq!(
            mine.len(),
            count,
            "{kind:?}: every key of the kind under another key is listed, once (a purged \
             handoff or a dropped file whose bytes are removed is not)"
        );
        for sealed in &mine {
            let rewrapped = rotating
                .rewrap(&sealed.key, &sealed.binding.aad())
                .await
                .unwrap_or_else(|e| {
                    panic!("{kind:?}: the listed binding is the one the key was wrapped with: {e}")
                })
                .unwrap();
            assert!(
                !store
                    .replace_sealed_key(kind, sealed.at, &rewrapped, &rewrapped)
                    .await
                    .unwrap(),
                "{kind:?}: a compare-and-set with a key that is not stored changes nothing"
            );
            assert!(
                store
                    .replace_sealed_key(kind, sealed.at, &sealed.key, &rewrapped)
                    .await
                    .unwrap(),
                "{kind:?}: the key read is swapped"
            );
            assert!(
                !store
                    .replace_sealed_key(kind, sealed.at, &sealed.key, &rewrapped)
                    .await
                    .unwrap(),
                "{kind:?}: a second swap from the old key loses"
            );
        }
        assert!(
            walk(store, kind, &new_id, 100)
                .await
                .iter()
                .all(|k| k.key.key_id != old_id),
            "{kind:?}: nothing of this check is left under the old key"
        );
    }

    // The old key is gone: everything opens with the new key alone, as stored.
    let after = FileVault::new(blobs, new.clone(), random);
    let read = store.signature(w.portal.id, sig_task.id).await.unwrap();
    let SignatureMark::Drawn(image) = &read.mark else {
        panic!("the drawn mark reads back drawn");
    };
    assert_eq!(image.key.key_id, new_id, "the image's key was replaced");
    assert_eq!(
        StoredImage {
            key: sealed_png.key.clone(),
            ..image.clone()
        },
        StoredImage {
            blob: sealed_png.blob,
            key: sealed_png.key.clone(),
            size: sealed_png.size,
        },
        "only the image's key changed"
    );
    assert_eq!(
        read.record_sha256, signature.record_sha256,
        "the record is unchanged"
    );
    assert_eq!(
        opens(&after, &read.image_binding(image.blob), &image.key).await,
        png,
        "the signature image opens with the new key alone"
    );
    let read = store
        .signature_document(w.portal.id, sig_task.id)
        .await
        .unwrap();
    assert_eq!(
        AttachedDocument {
            key: doc.key.clone(),
            ..read.clone()
        },
        doc,
        "only the document's key changed"
    );
    assert_eq!(
        opens(&after, &read.binding(), &read.key).await,
        doc_bytes,
        "the signature document opens with the new key alone"
    );
    let read = store.attachment(w.portal.id, guide.id).await.unwrap();
    assert_eq!(
        crate::attachments::TaskAttachment {
            key: guide.key.clone(),
            ..read.clone()
        },
        guide,
        "only the attachment's key changed"
    );
    assert_eq!(
        opens(&after, &read.binding(), &read.key).await,
        guide_bytes,
        "a task attachment opens with the new key alone"
    );
    let read = store.dropped_file(w.portal.id, live_drop.id).await.unwrap();
    assert_eq!(
        crate::filedrop::DroppedFile {
            key: live_drop.key.clone(),
            ..read.clone()
        },
        live_drop,
        "only the dropped file's key changed"
    );
    assert_eq!(
        opens(&after, &read.binding(), &read.key).await,
        drop_bytes,
        "the dropped file opens with the new key alone"
    );
    let read = store.credentials(w.portal.id, handoff.id).await.unwrap();
    assert_eq!(read.fields.len(), 2);
    for (sealed, value) in read
        .fields
        .iter()
        .zip(["admin", "correct horse battery staple"])
    {
        let opened = open_field(new.as_ref(), &read.binding(), sealed)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "the credential field {:?} opens with the new key alone: {e}",
                    sealed.field
                )
            });
        assert_eq!(opened.expose_secret(), value);
    }
    assert_eq!(
        store
            .dropped_file(w.portal.id, gone.id)
            .await
            .unwrap()
            .key
            .key_id,
        old_id,
        "a dropped file whose bytes are removed is left alone"
    );
}
