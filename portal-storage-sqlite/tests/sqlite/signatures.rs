//! A signature's evidence tampered with where it is kept: a field of the record edited
//! in the SQLite file, the consent text rewritten, one byte of the sealed signature
//! image or of the signed document flipped in the blob folder. Each time the
//! verification, read back through the service as the MSP's API and certificate read
//! it, names exactly the part that no longer matches (and an untouched copy is intact).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use portal_core::blob::keyring::Keyring;
use portal_core::blob::stream_of;
use portal_core::model::{Side, TaskKind};
use portal_core::service::SignatureInput;
use portal_core::signatures::{SignatureMark, SignaturePart, SigningContext};
use portal_core::testkit::{Seeded, TestService};
use portal_core::{OsRandom, Store, TaskId, TaskSpec};
use portal_storage_sqlite::{FileBlobStore, SqliteStore};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

/// One signed task on a SQLite file with a file blob store and a key file under `dir`.
struct Signed {
    dir: tempfile::TempDir,
    seeded: Seeded,
    task: TaskId,
    image_blob: String,
    document_blob: String,
}

impl Signed {
    fn db(&self) -> PathBuf {
        self.dir.path().join("portal.db")
    }

    fn blob(&self, id: &str) -> PathBuf {
        self.dir.path().join("files").join(id)
    }
}

async fn kit(dir: &Path) -> TestService {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("portal.db")).await.unwrap());
    let (keys, _) = Keyring::open_or_create(&dir.join("file-keys"), Arc::new(OsRandom)).unwrap();
    TestService::builder(store)
        .seed(77)
        .blobs(Arc::new(
            FileBlobStore::open(&dir.join("files")).await.unwrap(),
        ))
        .keys(Arc::new(keys))
        .build()
}

async fn signed() -> Signed {
    let dir = tempfile::tempdir().unwrap();
    let k = kit(dir.path()).await;
    let seeded = k.seed_portal().await.unwrap();
    let (portal, staff) = (seeded.portal.id, &seeded.staff);
    let phase = k.service.add_phase(staff, portal, "Kickoff").await.unwrap();
    let task = k
        .service
        .add_task(
            staff,
            portal,
            phase.id,
            TaskSpec {
                title: "Sign the MSA".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::Signature {
                    document: None,
                    consent: None,
                },
                due_date: None,
            },
        )
        .await
        .unwrap();
    let mut agreement = PDF.to_vec();
    agreement.resize(5000, b'x');
    let doc = k
        .service
        .attach_signature_document(
            staff,
            portal,
            task.id,
            "msa.pdf",
            stream_of(agreement.chunks(999).map(Bytes::copy_from_slice).collect()),
        )
        .await
        .unwrap();
    let (_, ctx) = k.sign_in(&seeded.contact).await.unwrap();
    // Opened first: a document is signed only after the signer opened it.
    let _opened = k
        .service
        .open_signature_document(&ctx, task.id)
        .await
        .unwrap();
    let (_, record) = k
        .service
        .sign_task(
            &ctx,
            task.id,
            &SignatureInput {
                drawn: Some(portal_core::testkit::drawn_signature()),
                typed_name: None,
                consent: true,
                document_sha256: Some(portal_core::audit::hash_hex(&doc.sha256)),
                consent_language: portal_core::i18n::Language::En,
            },
            SigningContext::default(),
        )
        .await
        .unwrap();
    let SignatureMark::Drawn(image) = &record.mark else {
        panic!("drawn")
    };
    Signed {
        image_blob: image.blob.to_string(),
        document_blob: doc.blob.to_string(),
        dir,
        seeded,
        task: task.id,
    }
}

/// The parts that fail, read through a freshly opened service as staff read them.
async fn failures(s: &Signed) -> Vec<SignaturePart> {
    let k = kit(s.dir.path()).await;
    let evidence = k
        .service
        .signature_evidence(&s.seeded.staff, s.seeded.portal.id, s.task)
        .await
        .unwrap();
    assert_eq!(
        evidence.verification.intact(),
        evidence.verification.failures().is_empty()
    );
    evidence.verification.failures()
}

fn sql(s: &Signed, statement: &str) {
    let conn = rusqlite::Connection::open(s.db()).unwrap();
    assert_eq!(conn.execute(statement, []).unwrap(), 1, "{statement}");
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = at.min(bytes.len() - 1);
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test]
async fn untouched_evidence_verifies_intact() {
    let s = signed().await;
    assert_eq!(failures(&s).await, vec![]);
}

#[tokio::test]
async fn a_record_field_edited_in_the_file_fails_the_record() {
    let s = signed().await;
    // The signer is stored as JSON: swap the name inside it, keep the rest.
    let conn = rusqlite::Connection::open(s.db()).unwrap();
    let signer: String = conn
        .query_row("SELECT signer FROM signatures", [], |r| r.get(0))
        .unwrap();
    let name = &s.seeded.contact.name;
    assert!(signer.contains(name.as_str()), "{signer}");
    let forged = signer.replace(name.as_str(), "Mallory Example");
    conn.execute("UPDATE signatures SET signer = ?1", [forged])
        .unwrap();
    drop(conn);
    assert_eq!(failures(&s).await, vec![SignaturePart::Record]);
}

#[tokio::test]
async fn an_edited_ip_fails_the_record() {
    let s = signed().await;
    sql(&s, "UPDATE signatures SET ip = '203.0.113.66'");
    assert_eq!(failures(&s).await, vec![SignaturePart::Record]);
}

#[tokio::test]
async fn a_rewritten_consent_text_fails_the_consent() {
    let s = signed().await;
    sql(
        &s,
        "UPDATE signatures SET consent_text = consent_text || ' Amended later.'",
    );
    assert!(
        failures(&s).await.contains(&SignaturePart::Consent),
        "{:?}",
        failures(&s).await
    );
}

#[tokio::test]
async fn one_flipped_byte_of_the_sealed_image_fails_the_mark() {
    let s = signed().await;
    flip_byte(&s.blob(&s.image_blob), 200);
    assert_eq!(failures(&s).await, vec![SignaturePart::Mark]);
}

#[tokio::test]
async fn one_flipped_byte_of_the_signed_document_fails_the_document() {
    let s = signed().await;
    flip_byte(&s.blob(&s.document_blob), 3000);
    assert_eq!(failures(&s).await, vec![SignaturePart::Document]);
}
