//! No plaintext of an uploaded or dropped file, no data key and no handed-off
//! password or API key reaches the disk (database, WAL, blob folder) or the logs.
//!
//! A file carrying a distinctive 64-byte marker is uploaded through the service over
//! the embedded defaults (`SqliteStore` + `FileBlobStore` + a key file), downloaded,
//! approved (and shared by staff on a task, opened by the client); then every byte of the database (with its WAL), of every file in the data
//! folder (blobs, parts, the key file) and every captured log line is searched for the
//! marker and for the file's 32-byte data key (unwrapped here with the keyring), raw,
//! in hex and in base64. Positive controls prove each scan would find them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use bytes::Bytes;
use portal_core::blob::keyring::{KeyProvider, Keyring};
use portal_core::blob::{read_all, stream_of};
use portal_core::credentials::{CredentialForm, SecretText};
use portal_core::model::{RequestedDocument, Side, TaskKind};
use portal_core::testkit::TestService;
use portal_core::workflow::documents::Verdict;
use portal_core::{OsRandom, RandomSource, Store, TaskSpec};
use portal_storage_sqlite::{FileBlobStore, SqliteStore};

use crate::logs;

/// Every regular file under `dir`, recursively, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `secret` in every spelling a leak could take: raw, hex (both cases), base64 (both
/// alphabets, padded or not), and Rust's `{:?}` of the bytes (`[12, 255, ...]`, what
/// a stray `?key` in a log macro prints).
fn spellings(what: &str, secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    let h = hex(secret);
    vec![
        (format!("{what} (raw)"), secret.to_vec()),
        (format!("{what} (hex)"), h.clone().into_bytes()),
        (format!("{what} (HEX)"), h.to_uppercase().into_bytes()),
        (
            format!("{what} (base64)"),
            STANDARD.encode(secret).into_bytes(),
        ),
        (
            format!("{what} (base64, no padding)"),
            STANDARD_NO_PAD.encode(secret).into_bytes(),
        ),
        (
            format!("{what} (base64url)"),
            URL_SAFE.encode(secret).into_bytes(),
        ),
        (
            format!("{what} (base64url, no padding)"),
            URL_SAFE_NO_PAD.encode(secret).into_bytes(),
        ),
        (
            format!("{what} (Debug)"),
            format!("{secret:?}").into_bytes(),
        ),
    ]
}

/// Which of `needles` occur in which of `haystacks` (empty when none does).
fn found(haystacks: &[(PathBuf, Vec<u8>)], needles: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut hits = Vec::new();
    for (path, bytes) in haystacks {
        for (what, needle) in needles {
            if contains(bytes, needle) {
                hits.push(format!("{what} in {}", path.display()));
            }
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_or_data_key_reaches_disk_or_logs() {
    let logs = logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let db = root.join("portal.db");
    let blob_dir = root.join("files");

    // A marker no other test writes: a fixed prefix and fresh random hex, 64 bytes.
    let mut nonce = [0u8; 24];
    OsRandom.fill(&mut nonce);
    let marker = format!("PLAINTEXT-MARKER-{}", hex(&nonce));
    let marker = &marker[..64];
    assert_eq!(marker.len(), 64);
    // The marker sits inside the file, in the second of three 64 KiB chunks.
    let mut content = b"%PDF-1.7\n".to_vec();
    content.extend(std::iter::repeat_n(b'.', 70_000));
    content.extend_from_slice(marker.as_bytes());
    content.extend(std::iter::repeat_n(b'.', 70_000));
    content.extend_from_slice(b"\n%%EOF\n");

    let (keyring, _) =
        Keyring::open_or_create(&root.join("keys").join("file-keys"), Arc::new(OsRandom)).unwrap();
    let keyring = Arc::new(keyring);
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let h = TestService::builder(store.clone() as Arc<dyn Store>)
        .blobs(Arc::new(FileBlobStore::open(&blob_dir).await.unwrap()))
        .keys(keyring.clone())
        .build();
    let seeded = h.seed_portal().await.unwrap();
    let portal = seeded.portal.id;
    let phase = h
        .service
        .add_phase(&seeded.staff, portal, "Discovery")
        .await
        .unwrap();
    let task = h
        .service
        .add_task(
            &seeded.staff,
            portal,
            phase.id,
            TaskSpec {
                title: "Upload the network diagram".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::DocumentUpload {
                    documents: vec![RequestedDocument::new("diagram", "Network diagram")],
                },
                due_date: None,
            },
        )
        .await
        .unwrap();
    let (_, ctx) = h.sign_in(&seeded.contact).await.unwrap();
    let file = h
        .service
        .upload_document(
            &ctx,
            task.id,
            "diagram",
            "network-diagram.pdf",
            stream_of(content.chunks(10_000).map(Bytes::copy_from_slice).collect()),
        )
        .await
        .unwrap();

    // Positive control: the file comes back whole, marker included.
    let (_, stream) = h
        .service
        .staff_download_document(&seeded.staff, portal, file.id)
        .await
        .unwrap();
    let back = read_all(stream, 1 << 20).await.unwrap();
    assert_eq!(back, content);
    assert!(contains(&back, marker.as_bytes()));
    h.service
        .review_document(
            &seeded.staff,
            portal,
            file.id,
            Verdict::Approve { notes: None },
        )
        .await
        .unwrap();

    // The data key, as only the keyring can give it.
    let data_key = keyring
        .unwrap(&file.key, &file.binding().aad())
        .await
        .unwrap();
    let data_key = data_key.expose_secret().to_vec();
    assert_eq!(data_key.len(), 32);

    // The same content dropped on a secure file drop task, downloaded by staff.
    let drop_task = h
        .service
        .add_task(
            &seeded.staff,
            portal,
            phase.id,
            TaskSpec {
                title: "Send the VPN backup".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::SecureFileDrop {
                    expires_after_days: 7,
                },
                due_date: None,
            },
        )
        .await
        .unwrap();
    let dropped = h
        .service
        .drop_file(
            &ctx,
            drop_task.id,
            "vpn-backup.conf",
            stream_of(content.chunks(10_000).map(Bytes::copy_from_slice).collect()),
        )
        .await
        .unwrap();
    let (_, stream) = h
        .service
        .download_dropped_file(&seeded.staff, portal, dropped.id)
        .await
        .unwrap();
    assert_eq!(read_all(stream, 1 << 20).await.unwrap(), content);
    let drop_key = keyring
        .unwrap(&dropped.key, &dropped.binding().aad())
        .await
        .unwrap();
    let drop_key = drop_key.expose_secret().to_vec();

    // The same content shared by staff on a task, opened by the client.
    let shared = h
        .service
        .attach_file(
            &seeded.staff,
            portal,
            task.id,
            "migration-plan.pdf",
            stream_of(content.chunks(10_000).map(Bytes::copy_from_slice).collect()),
        )
        .await
        .unwrap();
    let (_, stream) = h
        .service
        .open_attachment(&ctx, shared.task_id, shared.id)
        .await
        .unwrap();
    assert_eq!(read_all(stream, 1 << 20).await.unwrap(), content);
    let shared_key = keyring
        .unwrap(&shared.key, &shared.binding().aad())
        .await
        .unwrap();
    let shared_key = shared_key.expose_secret().to_vec();

    // A credential handoff: the password is sealed per field in the database (it
    // never goes to the blob store); the scan covers the blob folder all the same.
    let cred_task = h
        .service
        .add_task(
            &seeded.staff,
            portal,
            phase.id,
            TaskSpec {
                title: "Share the firewall admin login".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::CredentialHandoff { api_key: true },
                due_date: None,
            },
        )
        .await
        .unwrap();
    let password = format!("PASSWORD-MARKER-{}", hex(&nonce[..12]));
    let api_key = format!("APIKEY-MARKER-{}", hex(&nonce[12..]));
    h.service
        .submit_credentials(
            &ctx,
            cred_task.id,
            &CredentialForm {
                username: SecretText::new("fw-admin"),
                password: SecretText::new(&password),
                api_key: Some(SecretText::new(&api_key)),
                notes: None,
            },
        )
        .await
        .unwrap();
    // Positive control: the audited reveal gives the password back, so it was stored.
    let revealed = h
        .service
        .reveal_credentials(&seeded.staff, portal, cred_task.id, "scan control")
        .await
        .unwrap();
    assert!(revealed.iter().any(|(_, v)| v.expose_secret() == password));

    let mut needles = vec![
        ("the password".to_owned(), password.clone().into_bytes()),
        ("the API key".to_owned(), api_key.clone().into_bytes()),
        ("the marker".to_owned(), marker.as_bytes().to_vec()),
        (
            "the marker (hex)".to_owned(),
            hex(marker.as_bytes()).into_bytes(),
        ),
    ];
    needles.extend(spellings("the data key", &data_key));
    needles.extend(spellings("the dropped file's data key", &drop_key));
    needles.extend(spellings("the shared file's data key", &shared_key));

    // With the database open (its WAL holds the recent writes), then closed.
    let open_files = files_under(&root);
    let names: Vec<String> = open_files
        .iter()
        .map(|(p, _)| p.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert!(names.contains(&"portal.db-wal".to_owned()), "{names:?}");
    let blob = format!("files/{}", file.blob);
    assert!(names.contains(&blob), "the blob is scanned: {names:?}");
    let drop_blob = format!("files/{}", dropped.blob);
    assert!(
        names.contains(&drop_blob),
        "the dropped file's blob is scanned: {names:?}"
    );
    let shared_blob = format!("files/{}", shared.blob);
    assert!(
        names.contains(&shared_blob),
        "the shared file's blob is scanned: {names:?}"
    );
    assert_eq!(found(&open_files, &needles), Vec::<String>::new());
    drop(h);
    drop(store);
    let closed_files = files_under(&root);
    assert_eq!(found(&closed_files, &needles), Vec::<String>::new());

    // Controls of the disk scan: it sees what the database does hold, the blob is the
    // sealed form, and a marker or key written into the blob folder is found.
    let db_bytes = closed_files.iter().find(|(p, _)| p == &db).unwrap();
    assert!(
        contains(&db_bytes.1, b"network-diagram.pdf"),
        "scan sees data"
    );
    let sealed = closed_files
        .iter()
        .find(|(p, _)| p.ends_with(file.blob.to_string()))
        .unwrap();
    assert!(sealed.1.starts_with(b"PFE1") && sealed.1.len() > content.len());
    let control = blob_dir.join("control");
    let mut planted = marker.as_bytes().to_vec();
    planted.extend_from_slice(&data_key);
    planted.extend_from_slice(STANDARD.encode(&data_key).as_bytes());
    planted.extend_from_slice(password.as_bytes());
    std::fs::write(&control, &planted).unwrap();
    let hits = found(&files_under(&root), &needles);
    for what in [
        "the marker",
        "the data key (raw)",
        "the data key (base64)",
        "the password",
    ] {
        assert!(
            hits.contains(&format!("{what} in {}", control.display())),
            "the scan misses a planted {what}: {hits:?}"
        );
    }
    std::fs::remove_file(&control).unwrap();

    // The logs: the service logged the upload, but neither secret.
    let text = logs.text();
    assert!(text.contains("document uploaded"), "logs are captured");
    assert!(text.contains(&file.id.to_string()), "logs are captured");
    let log = [(PathBuf::from("captured logs"), text.into_bytes())];
    assert_eq!(found(&log, &needles), Vec::<String>::new());
    // Control of the log scan: a key logged on purpose is found.
    tracing::info!(control = %hex(&data_key), "log scan control");
    let log = [(PathBuf::from("captured logs"), logs.text().into_bytes())];
    assert!(
        found(&log, &needles).contains(&"the data key (hex) in captured logs".to_owned()),
        "the log scan misses a logged key"
    );
}
