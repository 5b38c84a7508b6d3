//! Document upload tasks through `PortalService`: upload (sniffed, limited, sealed,
//! scanned, recorded), the Documents rows, download, the review queue, approval and
//! rejection (with its email), quarantine, held files, reopening, and key rotation.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use portal_core::blob::BlobStore;
use portal_core::blob::keyring::{KeyId, KeyProvider, Keyring};
use portal_core::blob::{ByteStream, read_all, stream_of};
use portal_core::files::FileType;
use portal_core::memory::{MemoryBlobStore, MemoryStore};
use portal_core::model::{RequestedDocument, Side, TaskKind, TaskStatus};
use portal_core::scan::{ContentScanner, ScanVerdict, UnscannablePolicy};
use portal_core::store::ClientContext;
use portal_core::testkit::{Seeded, TestService};
use portal_core::workflow::documents::{REOPENED_NOTE, Verdict};
use portal_core::workflow::{ActivityKind, DocumentStatus, FileReview};
use portal_core::{Entity, Error, SeededRandom, TaskId};

use super::spec;
use crate::{Harness, assert_err};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n";

fn pdf(len: usize) -> Vec<u8> {
    let mut v = PDF.to_vec();
    v.resize(len.max(PDF.len()), b'x');
    v
}

/// `data` as a stream of `piece`-byte pieces.
fn pieces(data: &[u8], piece: usize) -> ByteStream {
    stream_of(
        data.chunks(piece.max(1))
            .map(Bytes::copy_from_slice)
            .collect(),
    )
}

fn doc_kind() -> TaskKind {
    let mut diagram = RequestedDocument::new("diagram", "Network diagram");
    diagram.accept = vec![FileType::Pdf];
    diagram.max_bytes = Some(64 * 1024);
    TaskKind::DocumentUpload {
        documents: vec![diagram, RequestedDocument::new("isp", "ISP contract")],
    }
}

/// A scanner that answers what it was told, after reading the whole content.
struct Fixed(ScanVerdict);

#[async_trait]
impl ContentScanner for Fixed {
    async fn scan(&self, content: ByteStream) -> portal_core::Result<ScanVerdict> {
        read_all(content, u64::MAX).await?;
        Ok(self.0.clone())
    }
}

struct Docs {
    h: Harness,
    ctx: ClientContext,
    task: TaskId,
    blobs: Arc<MemoryBlobStore>,
}

async fn docs_with(seed: u64, scanner: Option<ScanVerdict>, policy: UnscannablePolicy) -> Docs {
    let blobs = Arc::new(MemoryBlobStore::new());
    let mut builder = TestService::builder(Arc::new(MemoryStore::new()))
        .seed(seed)
        .blobs(blobs.clone())
        .unscannable(policy);
    if let Some(v) = scanner {
        builder = builder.scanner(Arc::new(Fixed(v)));
    }
    let kit = builder.build();
    let Seeded {
        tenant,
        portal,
        contact,
        staff,
    } = kit.seed_portal().await.unwrap();
    let h = Harness {
        kit,
        staff,
        tenant,
        portal,
        contact,
    };
    let (ctx, phase) = h.client().await;
    let task = h
        .service
        .add_task(
            &h.staff,
            h.portal.id,
            phase,
            spec("Send us your documents", Side::Client, doc_kind()),
        )
        .await
        .unwrap();
    Docs {
        h,
        ctx,
        task: task.id,
        blobs,
    }
}

async fn docs(seed: u64) -> Docs {
    docs_with(seed, None, UnscannablePolicy::Block).await
}

impl Docs {
    async fn upload(
        &self,
        doc: &str,
        name: &str,
        data: &[u8],
    ) -> portal_core::Result<portal_core::workflow::DocumentFile> {
        self.h
            .service
            .upload_document(&self.ctx, self.task, doc, name, pieces(data, 7000))
            .await
    }

    async fn nothing_stored(&self) {
        assert!(
            self.h
                .service
                .store()
                .document_files(self.h.portal.id)
                .await
                .unwrap()
                .is_empty(),
            "no record"
        );
        assert!(self.blobs.is_empty(), "no blob");
        let task = self
            .h
            .service
            .staff_task(&self.h.staff, self.h.portal.id, self.task)
            .await
            .unwrap();
        assert!(task.evidence.documents.is_empty());
        assert_eq!(task.status, TaskStatus::Pending);
    }

    async fn download(&self, file: portal_core::ids::FileId) -> portal_core::Result<Vec<u8>> {
        let (_, content) = self
            .h
            .service
            .staff_download_document(&self.h.staff, self.h.portal.id, file)
            .await?;
        read_all(content, u64::MAX).await
    }
}

#[tokio::test]
async fn upload_review_reupload_approve_completes_the_task() {
    let d = docs(400).await;
    let data = pdf(50_000);
    let v1 = d
        .upload("diagram", "C:\\Users\\jane\\Network diagram.pdf", &data)
        .await
        .unwrap();
    assert_eq!(
        (v1.version, v1.name.as_str(), v1.file_type, v1.size),
        (1, "Network diagram.pdf", FileType::Pdf, 50_000)
    );
    assert_eq!(v1.scan, ScanVerdict::NotScanned, "no scanner configured");
    assert_eq!(d.blobs.len(), 1);
    assert_eq!(
        d.download(v1.id).await.unwrap(),
        data,
        "downloads the exact bytes"
    );
    let rows =
        d.h.service
            .staff_documents(&d.h.staff, d.h.portal.id)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2, "every requested document is listed");
    assert_eq!(
        (rows[0].status, rows[1].status),
        (DocumentStatus::Uploaded, DocumentStatus::Requested)
    );
    assert_eq!(rows[0].current.as_ref().map(|f| f.id), Some(v1.id));

    // The MSP's queue shows it, with what a reviewer needs.
    let queue = d.h.service.review_queue(&d.h.staff, 10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(
        (
            queue[0].document_name.as_str(),
            queue[0].client_name.as_str(),
            queue[0].reviewable
        ),
        ("Network diagram", d.h.portal.client_name.as_str(), true)
    );

    // Rejected with notes: the client is emailed the notes.
    let before = d.h.mailer.sent().len();
    let rejected =
        d.h.service
            .review_document(
                &d.h.staff,
                d.h.portal.id,
                v1.id,
                Verdict::Reject {
                    notes: "Page 2 is missing.".into(),
                },
            )
            .await
            .unwrap();
    assert!(
        matches!(&rejected.review, FileReview::Rejected { notes, .. } if notes == "Page 2 is missing.")
    );
    let mail = d.h.last_email(&d.h.contact);
    assert_eq!(d.h.mailer.sent().len(), before + 1);
    assert!(mail.subject.contains("Network diagram"), "{}", mail.subject);
    assert!(mail.text.contains("Page 2 is missing.") && mail.html.contains("Page 2 is missing."));
    let rows =
        d.h.service
            .staff_documents(&d.h.staff, d.h.portal.id)
            .await
            .unwrap();
    assert_eq!(
        (rows[0].status, rows[0].notes.as_deref()),
        (DocumentStatus::Rejected, Some("Page 2 is missing."))
    );
    assert!(
        d.h.service
            .review_queue(&d.h.staff, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Re-upload: a second version; the first stays for the MSP.
    let v2 = d
        .upload("diagram", "diagram-fixed.pdf", &pdf(60_000))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let v3 = d.upload("isp", "contract.pdf", &pdf(10)).await.unwrap();
    for (file, doc) in [(v2.id, "diagram"), (v3.id, "isp")] {
        d.h.service
            .review_document(
                &d.h.staff,
                d.h.portal.id,
                file,
                Verdict::Approve { notes: None },
            )
            .await
            .unwrap_or_else(|e| panic!("{doc}: {e}"));
    }
    let task =
        d.h.service
            .staff_task(&d.h.staff, d.h.portal.id, d.task)
            .await
            .unwrap();
    assert_eq!(
        task.status,
        TaskStatus::Completed,
        "every requested document approved"
    );
    let rows =
        d.h.service
            .staff_documents(&d.h.staff, d.h.portal.id)
            .await
            .unwrap();
    assert_eq!(rows[0].versions.len(), 2);
    assert!(rows.iter().all(|r| r.status == DocumentStatus::Approved));
    let kinds: Vec<ActivityKind> =
        d.h.service
            .staff_activity(&d.h.staff, d.h.portal.id, None, 50)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.kind)
            .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ActivityKind::DocumentApproved)
            .count(),
        2
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ActivityKind::DocumentUploaded)
            .count(),
        3
    );

    // An approved document cannot be replaced; the completed task refuses first.
    assert_err(d.upload("diagram", "again.pdf", &pdf(100)).await, |e| {
        matches!(e, Error::Conflict { .. })
    });
    // Reopening asks for new versions of the approved documents.
    d.h.service
        .reopen_task(&d.h.staff, d.h.portal.id, d.task)
        .await
        .unwrap();
    let rows =
        d.h.service
            .staff_documents(&d.h.staff, d.h.portal.id)
            .await
            .unwrap();
    assert!(
        rows.iter()
            .all(|r| r.status == DocumentStatus::Rejected
                && r.notes.as_deref() == Some(REOPENED_NOTE))
    );
    let v4 = d.upload("diagram", "v4.pdf", &pdf(100)).await.unwrap();
    assert_eq!(v4.version, 3);
}

#[tokio::test]
async fn bad_uploads_are_refused_and_nothing_is_stored() {
    let d = docs(401).await;
    // Empty.
    assert_err(
        d.upload("diagram", "empty.pdf", b"").await,
        |e| matches!(e, Error::Invalid { field: "file", reason } if reason.contains("empty")),
    );
    d.nothing_stored().await;
    // A PNG named .pdf for a PDF-only document: judged by content.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    assert_err(
        d.upload("diagram", "diagram.pdf", png).await,
        |e| matches!(e, Error::Invalid { field: "file", reason } if reason.contains("Accepted: PDF")),
    );
    d.nothing_stored().await;
    // Unknown content.
    assert_err(
        d.upload("isp", "x.pdf", &[0u8, 159, 146, 150, 0, 1]).await,
        |e| matches!(e, Error::Invalid { field: "file", .. }),
    );
    d.nothing_stored().await;
    // Over the document's 64 KiB limit: found while streaming.
    assert_err(
        d.upload("diagram", "big.pdf", &pdf(64 * 1024 + 1)).await,
        |e| matches!(e, Error::TooLarge { max_bytes: 65536 }),
    );
    d.nothing_stored().await;
    // A stream that breaks half-way (the client went away).
    let broken: ByteStream = Box::pin(stream_of(vec![Bytes::from(pdf(30_000))]).chain(
        futures_util::stream::iter([Err(Error::invalid("body", "the upload stopped half-way"))]),
    ));
    assert_err(
        d.h.service
            .upload_document(&d.ctx, d.task, "diagram", "cut.pdf", broken)
            .await,
        |e| matches!(e, Error::Invalid { field: "body", .. }),
    );
    d.nothing_stored().await;
    // A document the task does not ask for; another portal's task.
    assert_err(d.upload("nope", "x.pdf", PDF).await, |e| {
        matches!(
            e,
            Error::Invalid {
                field: "document",
                ..
            }
        )
    });
    let other = Harness::new(402).await;
    let (_, other_ctx) = other.sign_in(&other.contact).await;
    assert_err(
        d.h.service
            .upload_document(&other_ctx, d.task, "diagram", "x.pdf", pieces(PDF, 10))
            .await,
        |e| {
            matches!(
                e,
                Error::NotFound {
                    entity: Entity::Task
                }
            )
        },
    );
    d.nothing_stored().await;
    // A hostile name is cleaned.
    let name = format!(
        "../../etc/{}\u{202e}fdp.exe\u{0}\n{}",
        "a".repeat(10_000),
        ".pdf"
    );
    let f = d.upload("diagram", &name, PDF).await.unwrap();
    assert!(
        !f.name.contains('/')
            && !f.name.contains('\u{202e}')
            && !f.name.chars().any(char::is_control),
        "{:?}",
        f.name
    );
    assert!(f.name.chars().count() <= 200);
}

#[tokio::test]
async fn infected_files_are_quarantined_and_never_downloadable() {
    let d = docs_with(
        403,
        Some(ScanVerdict::Infected {
            signature: "Eicar-Test-Signature".into(),
        }),
        UnscannablePolicy::Block,
    )
    .await;
    let f = d.upload("diagram", "eicar.pdf", PDF).await.unwrap();
    assert_eq!(f.review, FileReview::Quarantined);
    assert_err(
        d.download(f.id).await,
        |e| matches!(e, Error::Forbidden { reason } if reason.contains("quarantined")),
    );
    let rows =
        d.h.service
            .staff_documents(&d.h.staff, d.h.portal.id)
            .await
            .unwrap();
    assert_eq!(
        rows[0].status,
        DocumentStatus::Rejected,
        "the client is told to upload a clean copy"
    );
    assert!(
        rows[0]
            .notes
            .as_deref()
            .unwrap()
            .contains("Eicar-Test-Signature")
    );
    assert!(
        d.h.service
            .review_queue(&d.h.staff, 10)
            .await
            .unwrap()
            .is_empty(),
        "never offered for review"
    );
    assert_err(
        d.h.service
            .review_document(
                &d.h.staff,
                d.h.portal.id,
                f.id,
                Verdict::Approve { notes: None },
            )
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );
}

#[tokio::test]
async fn unscannable_files_are_held_unless_the_host_lets_them_through() {
    let reason = ScanVerdict::Unscannable {
        reason: "clamd is down".into(),
    };
    let held = docs_with(404, Some(reason.clone()), UnscannablePolicy::Block).await;
    let f = held.upload("diagram", "d.pdf", PDF).await.unwrap();
    assert_eq!(f.review, FileReview::Pending);
    assert_err(
        held.download(f.id).await,
        |e| matches!(e, Error::Forbidden { reason } if reason.contains("not passed")),
    );
    let queue = held
        .h
        .service
        .review_queue(&held.h.staff, 10)
        .await
        .unwrap();
    assert_eq!(
        (queue.len(), queue[0].reviewable),
        (1, false),
        "listed, but not reviewable"
    );
    assert_err(
        held.h
            .service
            .review_document(
                &held.h.staff,
                held.h.portal.id,
                f.id,
                Verdict::Approve { notes: None },
            )
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );

    let allowed = docs_with(405, Some(reason), UnscannablePolicy::Allow).await;
    let f = allowed.upload("diagram", "d.pdf", PDF).await.unwrap();
    assert_eq!(allowed.download(f.id).await.unwrap(), PDF);
    allowed
        .h
        .service
        .review_document(
            &allowed.h.staff,
            allowed.h.portal.id,
            f.id,
            Verdict::Approve { notes: None },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn rejections_need_notes_and_another_tenants_file_is_not_found() {
    let d = docs(406).await;
    let f = d.upload("diagram", "d.pdf", PDF).await.unwrap();
    assert_err(
        d.h.service
            .review_document(
                &d.h.staff,
                d.h.portal.id,
                f.id,
                Verdict::Reject { notes: "  ".into() },
            )
            .await,
        |e| matches!(e, Error::Invalid { field: "notes", .. }),
    );
    let other = Harness::new(407).await;
    assert_err(
        d.h.service
            .review_document(
                &d.h.staff,
                other.portal.id,
                f.id,
                Verdict::Approve { notes: None },
            )
            .await,
        // Another tenant's portal: refused before the file is even looked up.
        |e| {
            matches!(
                e,
                Error::NotFound {
                    entity: Entity::Portal
                }
            )
        },
    );
    // Another portal of the same tenant does not have the file either.
    let sibling =
        d.h.service
            .create_portal(
                &d.h.staff,
                "Fabrikam",
                portal_core::model::PortalStatus::Active,
            )
            .await
            .unwrap();
    assert_err(
        d.h.service
            .staff_download_document(&d.h.staff, sibling.id, f.id)
            .await
            .map(|_| ()),
        |e| {
            matches!(
                e,
                Error::NotFound {
                    entity: Entity::File
                }
            )
        },
    );
    // Superseded before review: only the new version can be reviewed.
    let f2 = d.upload("diagram", "d2.pdf", PDF).await.unwrap();
    assert_err(
        d.h.service
            .review_document(
                &d.h.staff,
                d.h.portal.id,
                f.id,
                Verdict::Approve { notes: None },
            )
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );
    d.h.service
        .review_document(
            &d.h.staff,
            d.h.portal.id,
            f2.id,
            Verdict::Approve { notes: None },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn rotation_rewraps_keys_only_and_files_still_open() {
    let store = Arc::new(MemoryStore::new());
    let blobs = Arc::new(MemoryBlobStore::new());
    let dir = std::env::temp_dir().join(format!("portal-rotation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys");
    let _ = std::fs::remove_file(&path);
    let random = || Arc::new(SeededRandom::new(9));
    let (ring, created) = Keyring::open_or_create(&path, random()).unwrap();
    assert!(created);
    let kit = |keys: Arc<dyn KeyProvider>| {
        TestService::builder(store.clone())
            .seed(408)
            .blobs(blobs.clone())
            .keys(keys)
            .build()
    };
    let before = kit(Arc::new(ring));
    let Seeded {
        portal,
        contact,
        staff,
        ..
    } = before.seed_portal().await.unwrap();
    let (_, ctx) = before.sign_in(&contact).await.unwrap();
    let phase = before
        .service
        .add_phase(&staff, portal.id, "P")
        .await
        .unwrap();
    let task = before
        .service
        .add_task(
            &staff,
            portal.id,
            phase.id,
            spec("Docs", Side::Client, doc_kind()),
        )
        .await
        .unwrap();
    let a = before
        .service
        .upload_document(&ctx, task.id, "diagram", "a.pdf", pieces(&pdf(5000), 999))
        .await
        .unwrap();
    let b = before
        .service
        .upload_document(&ctx, task.id, "isp", "b.pdf", pieces(&pdf(70_000), 4096))
        .await
        .unwrap();
    let stored_before: Vec<Vec<u8>> = {
        let mut v = Vec::new();
        for f in [&a, &b] {
            v.push(
                read_all(blobs.get(f.blob).await.unwrap(), u64::MAX)
                    .await
                    .unwrap(),
            );
        }
        v
    };

    let mut ring = Keyring::load(&path, random()).unwrap();
    ring.rotate(KeyId::parse("k2").unwrap()).unwrap();
    let after = kit(Arc::new(ring));
    let report = after.service.rotate_file_keys().await.unwrap();
    let total = report.total();
    assert_eq!((total.rewrapped, total.skipped, total.failed), (2, 0, 0));
    assert_eq!(report.documents.rewrapped, 2);
    for (f, stored) in [&a, &b].into_iter().zip(&stored_before) {
        let now = after
            .service
            .store()
            .document_file(portal.id, f.id)
            .await
            .unwrap();
        assert_eq!(now.key.key_id.as_str(), "k2");
        assert_ne!(now.key, f.key);
        let bytes = read_all(blobs.get(f.blob).await.unwrap(), u64::MAX)
            .await
            .unwrap();
        assert_eq!(&bytes, stored, "the content is never re-encrypted");
        let (_, content) = after
            .service
            .staff_download_document(&staff, portal.id, f.id)
            .await
            .unwrap();
        assert_eq!(
            read_all(content, u64::MAX).await.unwrap().len() as u64,
            f.size
        );
    }
    let again = after.service.rotate_file_keys().await.unwrap();
    assert_eq!(again.total().rewrapped, 0, "nothing left to re-wrap");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// One rotation moves every kind of sealed record to the new key, counted per kind:
/// an upload, a signature document, a drawn signature image, a dropped file and a
/// credential handoff's two fields. Afterwards the old key is removed from the key
/// file, and every one of them still opens; the stored blobs are byte for byte the
/// same. Without the per-kind re-wrap, all but the upload would fail to open here.
#[tokio::test]
async fn rotation_rewraps_every_kind_and_the_old_key_can_go() {
    let store = Arc::new(MemoryStore::new());
    let blobs = Arc::new(MemoryBlobStore::new());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    let random = || Arc::new(SeededRandom::new(11));
    let (ring, _) = Keyring::open_or_create(&path, random()).unwrap();
    let kit = |keys: Arc<dyn KeyProvider>| {
        TestService::builder(store.clone())
            .seed(409)
            .blobs(blobs.clone())
            .keys(keys)
            .build()
    };
    let before = kit(Arc::new(ring));
    let Seeded {
        portal,
        contact,
        staff,
        ..
    } = before.seed_portal().await.unwrap();
    let service = &before.service;
    let (_, ctx) = before.sign_in(&contact).await.unwrap();
    let phase = service.add_phase(&staff, portal.id, "P").await.unwrap();
    let add = |title: &str, kind: TaskKind| {
        let spec = spec(title, Side::Client, kind);
        let staff = staff.clone();
        async move {
            service
                .add_task(&staff, portal.id, phase.id, spec)
                .await
                .unwrap()
        }
    };
    let docs = add("Docs", doc_kind()).await;
    let upload = service
        .upload_document(&ctx, docs.id, "diagram", "a.pdf", pieces(&pdf(3000), 999))
        .await
        .unwrap();
    let to_sign = add(
        "Sign",
        TaskKind::Signature {
            document: None,
            consent: None,
        },
    )
    .await;
    let agreement = pdf(4000);
    let doc = service
        .attach_signature_document(
            &staff,
            portal.id,
            to_sign.id,
            "agreement.pdf",
            pieces(&agreement, 1000),
        )
        .await
        .unwrap();
    // Opened first: a document is signed only after the signer opened it.
    let _opened = service
        .open_signature_document(&ctx, to_sign.id)
        .await
        .unwrap();
    service
        .sign_task(
            &ctx,
            to_sign.id,
            &portal_core::service::SignatureInput {
                drawn: Some(portal_core::testkit::drawn_signature()),
                typed_name: None,
                consent: true,
                document_sha256: Some(portal_core::audit::hash_hex(&doc.sha256)),
                consent_language: portal_core::i18n::Language::En,
            },
            portal_core::signatures::SigningContext::default(),
        )
        .await
        .unwrap();
    let png = service
        .signature_image(&staff, portal.id, to_sign.id)
        .await
        .unwrap();
    let drop_task = add(
        "Drop",
        TaskKind::SecureFileDrop {
            expires_after_days: 7,
        },
    )
    .await;
    let dropped_bytes = pdf(2500);
    let dropped = service
        .drop_file(
            &ctx,
            drop_task.id,
            "backup.pdf",
            pieces(&dropped_bytes, 700),
        )
        .await
        .unwrap();
    let handoff = add(
        "Firewall account",
        TaskKind::CredentialHandoff { api_key: false },
    )
    .await;
    service
        .submit_credentials(
            &ctx,
            handoff.id,
            &portal_core::credentials::CredentialForm {
                username: portal_core::credentials::SecretText::new("fw-admin"),
                password: portal_core::credentials::SecretText::new("rotation-password"),
                api_key: None,
                notes: None,
            },
        )
        .await
        .unwrap();
    let blob_ids = [upload.blob, doc.blob, dropped.blob];
    let mut stored_before = Vec::new();
    for blob in blob_ids {
        stored_before.push(
            read_all(blobs.get(blob).await.unwrap(), u64::MAX)
                .await
                .unwrap(),
        );
    }

    // Rotate to k2 under a key file holding k1 and k2.
    let mut ring = Keyring::load(&path, random()).unwrap();
    ring.rotate(KeyId::parse("k2").unwrap()).unwrap();
    ring.save(&path).unwrap();
    let during = kit(Arc::new(ring));
    let report = during.service.rotate_file_keys().await.unwrap();
    let rewrapped = [
        report.documents.rewrapped,
        report.signature_images.rewrapped,
        report.signature_documents.rewrapped,
        report.dropped_files.rewrapped,
        report.credential_fields.rewrapped,
    ];
    assert_eq!(rewrapped, [1, 1, 1, 1, 2], "{report:?}");
    let total = report.total();
    assert_eq!((total.rewrapped, total.skipped, total.failed), (6, 0, 0));
    assert_eq!(
        during.service.rotate_file_keys().await.unwrap().total(),
        portal_core::service::RotationCounts::default(),
        "nothing left to re-wrap"
    );

    // Remove k1 from the key file: only k2 is left.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\nkey k1 "), "the rotated file keeps k1");
    let only_k2: String = text
        .lines()
        .filter(|l| !l.starts_with("key k1 "))
        .map(|l| format!("{l}\n"))
        .collect();
    let path2 = dir.path().join("keys-k2");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path2)
            .unwrap();
        f.write_all(only_k2.as_bytes()).unwrap();
    }
    let ring = Keyring::load(&path2, random()).unwrap();
    assert_eq!(ring.key_ids(), vec![KeyId::parse("k2").unwrap()]);
    let after = kit(Arc::new(ring));
    let svc = &after.service;

    let (_, content) = svc
        .staff_download_document(&staff, portal.id, upload.id)
        .await
        .unwrap();
    assert_eq!(read_all(content, u64::MAX).await.unwrap(), pdf(3000));
    let (_, content) = svc
        .staff_signature_document(&staff, portal.id, to_sign.id)
        .await
        .unwrap();
    assert_eq!(read_all(content, u64::MAX).await.unwrap(), agreement);
    assert_eq!(
        svc.signature_image(&staff, portal.id, to_sign.id)
            .await
            .unwrap(),
        png
    );
    let (_, content) = svc
        .download_dropped_file(&staff, portal.id, dropped.id)
        .await
        .unwrap();
    assert_eq!(read_all(content, u64::MAX).await.unwrap(), dropped_bytes);
    let revealed = svc
        .reveal_credentials(&staff, portal.id, handoff.id, "rotation check")
        .await
        .unwrap();
    let values: Vec<&str> = revealed.iter().map(|(_, v)| v.expose_secret()).collect();
    assert_eq!(values, ["fw-admin", "rotation-password"]);
    for (blob, stored) in blob_ids.into_iter().zip(&stored_before) {
        assert_eq!(
            &read_all(blobs.get(blob).await.unwrap(), u64::MAX)
                .await
                .unwrap(),
            stored,
            "the content is never re-encrypted"
        );
    }
}
