//! The demo's file storage, through the real `portal-demo` binary where it matters:
//! `rotate-keys` re-wraps every file key under a new key without touching a byte of
//! content, refuses while the server holds the data folder, and a key file others can
//! read stops both the server and the rotation with the `chmod` that fixes it.
//!
//! Files are uploaded through `PortalService::upload_document` over the demo's own data
//! folder (opened by `portal_demo::files::open`, as the server opens it), since the
//! demo has no upload page yet.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use portal_core::blob::keyring::{KeyProvider, Keyring};
use portal_core::blob::{read_all, stream_of};
use portal_core::model::{RequestedDocument, Side, TaskKind};
use portal_core::testkit::{TestService, admin};
use portal_core::workflow::DocumentFile;
use portal_core::{OsRandom, PortalId, Store, TaskSpec};
use portal_demo::data::DataDir;
use portal_storage_sqlite::SqliteStore;

const DEMO: &str = env!("CARGO_BIN_EXE_portal-demo");

/// Runs `portal-demo` with `args` to its end (at most a minute).
fn demo(args: &[&str]) -> Output {
    let child = Command::new(DEMO)
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_at_most(child, Duration::from_secs(60))
}

/// Waits for `child`, killing it (and failing) if it outlives `limit`: a check that
/// should have stopped the demo must not hang the test run with a server.
fn wait_at_most(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "portal-demo still ran after {limit:?}; stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Two files of the test: a PDF spanning three 64 KiB chunks and a small one.
fn contents() -> [Vec<u8>; 2] {
    let mut big = b"%PDF-1.7\n".to_vec();
    big.extend((0..150_000u32).map(|i| (i % 251) as u8 | 0x20));
    big.extend_from_slice(b"\n%%EOF\n");
    let small = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".to_vec();
    [big, small]
}

/// A service over the demo's data folder (its database, blob folder and key file).
async fn service_over(data: &DataDir) -> (TestService, Arc<SqliteStore>) {
    let blobs = portal_storage_sqlite::FileBlobStore::open(data.files())
        .await
        .unwrap();
    let keys = Keyring::load(&data.key_file(), Arc::new(OsRandom)).unwrap();
    let store = Arc::new(SqliteStore::open(data.database()).await.unwrap());
    let h = TestService::builder(store.clone() as Arc<dyn Store>)
        .blobs(Arc::new(blobs))
        .keys(Arc::new(keys))
        .build();
    (h, store)
}

/// Seeds a portal with a document upload task and uploads the two files as its
/// signed-in contact, into a data folder set up as the demo server sets it up.
async fn uploaded(root: &Path) -> (PortalId, Vec<DocumentFile>) {
    let data = DataDir::lock(root).unwrap();
    let opened = portal_demo::files::open(&data, &portal_demo::files::BlobPlace::Folder, true)
        .await
        .unwrap();
    assert!(opened.key_created, "the first run creates the key file");
    assert_eq!(opened.key_file, data.key_file());
    drop(opened);
    let (h, _store) = service_over(&data).await;
    let seeded = h.seed_portal().await.unwrap();
    let phase = h
        .service
        .add_phase(&seeded.staff, seeded.portal.id, "Discovery")
        .await
        .unwrap();
    let task = h
        .service
        .add_task(
            &seeded.staff,
            seeded.portal.id,
            phase.id,
            TaskSpec {
                title: "Upload your network documentation".into(),
                description: "Diagrams and the ISP contract.".into(),
                assignee: Side::Client,
                kind: TaskKind::DocumentUpload {
                    documents: vec![
                        RequestedDocument::new("diagram", "Network diagram"),
                        RequestedDocument::new("isp", "ISP contract"),
                    ],
                },
                due_date: None,
            },
        )
        .await
        .unwrap();
    let (_, ctx) = h.sign_in(&seeded.contact).await.unwrap();
    let mut files = Vec::new();
    for (document, content) in ["diagram", "isp"].into_iter().zip(contents()) {
        let file = h
            .service
            .upload_document(
                &ctx,
                task.id,
                document,
                &format!("{document}.pdf"),
                stream_of(vec![Bytes::from(content)]),
            )
            .await
            .unwrap();
        assert_eq!(file.key.key_id.as_str(), "k1");
        files.push(file);
    }
    (seeded.portal.id, files)
}

/// The stored (encrypted) bytes of each file's blob.
fn blob_bytes(root: &Path, files: &[DocumentFile]) -> Vec<Vec<u8>> {
    files
        .iter()
        .map(|f| std::fs::read(root.join("files").join(f.blob.to_string())).unwrap())
        .collect()
}

/// The rotation's promise, end to end through the binary: every record's key moves to
/// the new key, the stored bytes stay byte for byte the same, the files still open to
/// their exact content, and a rotation run again finds nothing left to re-wrap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_keys_rewraps_every_file_key_and_never_touches_contents() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    let (portal, files) = uploaded(&root).await;
    let sealed_before = blob_bytes(&root, &files);
    for (sealed, plain) in sealed_before.iter().zip(contents()) {
        assert!(sealed.len() > plain.len(), "the blob is the sealed form");
    }

    let out = demo(&["rotate-keys", "--data-dir", root.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("Re-wrapped 2 file keys under k2 (0 already current, 0 failed)"),
        "{stdout}"
    );
    assert!(stdout.contains("keys now: k1, k2"), "{stdout}");
    assert!(
        stdout.contains(
            "uploads 2, signature images 0, signature documents 0, dropped files 0, credential fields 0, task attachments 0"
        ),
        "the counts per kind: {stdout}"
    );

    let data = DataDir::lock(&root).unwrap();
    let keyring = Keyring::load(&data.key_file(), Arc::new(OsRandom)).unwrap();
    assert_eq!(keyring.active_key_id().as_str(), "k2");
    let (h, store) = service_over(&data).await;
    let records = portal_core::store::DocumentStore::document_files(store.as_ref(), portal)
        .await
        .unwrap();
    assert_eq!(records.len(), 2);
    for record in &records {
        assert_eq!(record.key.key_id.as_str(), "k2", "{}", record.name);
        let before = files.iter().find(|f| f.id == record.id).unwrap();
        assert_ne!(
            record.key.bytes, before.key.bytes,
            "the wrapped key changed"
        );
        assert_eq!(record.blob, before.blob, "the same blob");
    }
    assert_eq!(
        blob_bytes(&root, &files),
        sealed_before,
        "contents are never re-encrypted"
    );
    let staff = admin(h.service.store().portal(portal).await.unwrap().tenant_id);
    for (file, plain) in files.iter().zip(contents()) {
        let (_, stream) = h
            .service
            .staff_download_document(&staff, portal, file.id)
            .await
            .unwrap();
        assert_eq!(read_all(stream, 1 << 20).await.unwrap(), plain);
    }

    // Again without a new key: everything is under the active key already.
    let again = h.service.rotate_file_keys().await.unwrap();
    let again = again.total();
    assert_eq!((again.rewrapped, again.skipped, again.failed), (0, 0, 0));
    drop((h, store, data));

    // Again through the command: one more key, the same two files moved to it, the
    // older keys kept in the file.
    let out = demo(&["rotate-keys", "--data-dir", root.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("Re-wrapped 2 file keys under k3 (0 already current, 0 failed)"),
        "{stdout}"
    );
    assert!(stdout.contains("keys now: k1, k2, k3"), "{stdout}");
    assert_eq!(blob_bytes(&root, &files), sealed_before);
    let data = DataDir::lock(&root).unwrap();
    let (h, _store) = service_over(&data).await;
    for (file, plain) in files.iter().zip(contents()) {
        let (record, stream) = h
            .service
            .staff_download_document(&staff, portal, file.id)
            .await
            .unwrap();
        assert_eq!(record.key.key_id.as_str(), "k3");
        assert_eq!(read_all(stream, 1 << 20).await.unwrap(), plain);
    }
}

/// The server holds the data folder: `rotate-keys` beside it is refused and changes
/// nothing; the server's start-up says where the key file is and what losing it means.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_keys_refuses_while_the_server_runs_on_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    let mut server = Command::new(DEMO)
        .args(["--data-dir", root.to_str().unwrap(), "--port", "0"])
        .env("RUST_LOG", "info")
        .env_remove("PORTAL_SMTP_HOST")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the start-up output until the key file's lines, on a thread so a silent
    // server cannot hang the test.
    let stdout = server.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut startup = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !startup
        .iter()
        .any(|l: &String| l.contains("Back it up apart"))
    {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => startup.push(line),
            Err(_) => {
                server.kill().unwrap();
                let out = server.wait_with_output().unwrap();
                panic!(
                    "no key file lines from the server; stdout:\n{}\nstderr:\n{}",
                    startup.join("\n"),
                    text(&out.stderr)
                );
            }
        }
    }
    let startup = startup.join("\n");
    let key_file = root.canonicalize().unwrap().join("keys").join("file-keys");
    assert!(
        startup.contains(&format!("    {}", key_file.display())),
        "{startup}"
    );
    assert!(startup.contains("(created now)"), "{startup}");
    assert!(
        startup.contains("if it is lost, every uploaded file is unreadable"),
        "{startup}"
    );
    assert!(
        startup.contains("swept the leftovers of unfinished uploads")
            && startup.contains("removed=0"),
        "the sweep is logged with its count: {startup}"
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&key_file), 0o600);
        assert_eq!(mode(key_file.parent().unwrap()), 0o700);
    }
    let keys_before = std::fs::read(&key_file).unwrap();

    let out = demo(&["rotate-keys", "--data-dir", root.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(!out.status.success(), "rotation ran beside the server");
    assert!(
        stderr.contains("another portal-demo process") && stderr.contains("stop it first"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&key_file).unwrap(),
        keys_before,
        "the key file is untouched"
    );

    // Stopped, the same command runs. No upload yet; the seed's signature task has its
    // agreement attached and its approval the migration plan, sealed like files, and
    // they move to the new key too.
    let out = demo(&["rotate-keys", "--data-dir", root.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("Re-wrapped 2 file keys under k2 (0 already current, 0 failed)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "uploads 0, signature images 0, signature documents 1, dropped files 0, credential fields 0, task attachments 1"
        ),
        "{stdout}"
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A key file group or others can read stops the server and the rotation, before
/// either serves or changes anything, with the command that fixes it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_others_can_read_stops_the_demo_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    uploaded(&root).await;
    let key_file: PathBuf = root.canonicalize().unwrap().join("keys").join("file-keys");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let keys_before = std::fs::read(&key_file).unwrap();
    let fix = format!("chmod 600 {}", key_file.display());

    let root_arg = root.to_str().unwrap();
    for args in [
        vec!["--data-dir", root_arg, "--port", "0"],
        vec!["rotate-keys", "--data-dir", root_arg],
    ] {
        let out = demo(&args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} ran with a 0644 key file");
        assert!(stderr.contains(&fix), "{args:?}: {stderr}");
        assert!(stderr.contains("mode 0644"), "{args:?}: {stderr}");
        assert!(
            !text(&out.stdout).contains("Invite link"),
            "{args:?} got as far as serving"
        );
    }
    assert_eq!(std::fs::read(&key_file).unwrap(), keys_before);

    // The fix it names works.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = demo(&["rotate-keys", "--data-dir", root_arg]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `rotate-keys` on a folder without demo data (a typo) creates nothing.
#[test]
fn rotate_keys_needs_existing_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("no-such-data");
    let out = demo(&["rotate-keys", "--data-dir", root.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("has no demo database"),
        "{}",
        text(&out.stderr)
    );
    assert!(!root.exists(), "nothing was created");
}
