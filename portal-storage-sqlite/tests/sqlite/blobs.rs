//! The file blob store: the public blob conformance suite on a fresh folder per check,
//! owner-only files, and a put killed with SIGKILL half-way (a child process) that
//! leaves nothing readable and only a part file, which a sweep removes.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use portal_core::blob::{BlobStore, ByteStream, read_all, stream_of};
use portal_core::{BlobId, Entity, Error, OsRandom};
use portal_storage_sqlite::FileBlobStore;
use tempfile::TempDir;

async fn fresh_blobs() -> (TempDir, Arc<dyn BlobStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileBlobStore::open(dir.path().join("files")).await.unwrap();
    (dir, Arc::new(store))
}

mod conformance {
    portal_core::blob_conformance_tests!(super::fresh_blobs());
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn blob_files_and_folders_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("files");
    let store = FileBlobStore::open(&root).await.unwrap();
    let id = BlobId::random(&OsRandom);
    store
        .put(id, stream_of(vec![Bytes::from_static(b"sealed")]))
        .await
        .unwrap();
    assert_eq!(mode(&root), 0o700, "the blob folder");
    assert_eq!(mode(&root.join("tmp")), 0o700, "the part folder");
    assert_eq!(mode(&root.join(id.to_string())), 0o600, "a blob file");
    let back = read_all(store.get(id).await.unwrap(), 100).await.unwrap();
    assert_eq!(back, b"sealed");
}

/// Opening a folder again sees the blobs put before, as the host does after a restart.
#[tokio::test]
async fn blobs_survive_reopening_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let id = BlobId::random(&OsRandom);
    {
        let store = FileBlobStore::open(dir.path()).await.unwrap();
        store
            .put(id, stream_of(vec![Bytes::from_static(b"kept")]))
            .await
            .unwrap();
    }
    let store = FileBlobStore::open(dir.path()).await.unwrap();
    assert_eq!(
        store.sweep().await.unwrap(),
        0,
        "a completed put leaves nothing"
    );
    let back = read_all(store.get(id).await.unwrap(), 100).await.unwrap();
    assert_eq!(back, b"kept");
}

const CRASH_DIR: &str = "PORTAL_BLOB_CRASH_DIR";
const CRASH_ID: &str = "PORTAL_BLOB_CRASH_ID";

/// A source that never ends: 64 KiB every 2 ms (a slow client).
fn slow_forever() -> ByteStream {
    let piece = Bytes::from(vec![0x5a; 64 * 1024]);
    Box::pin(futures_util::stream::unfold(piece, |piece| async move {
        tokio::time::sleep(Duration::from_millis(2)).await;
        Some((Ok(piece.clone()), piece))
    }))
}

/// The child of [`put_killed_mid_upload_leaves_only_a_swept_part`]: puts from a
/// source that never ends until its parent kills it. Does nothing when run by hand.
#[tokio::test]
#[ignore = "started by put_killed_mid_upload_leaves_only_a_swept_part"]
async fn crash_child_put_forever() {
    let (Ok(dir), Ok(id)) = (std::env::var(CRASH_DIR), std::env::var(CRASH_ID)) else {
        return;
    };
    let store = FileBlobStore::open(dir).await.unwrap();
    let id: BlobId = id.parse().unwrap();
    let r = store.put(id, slow_forever()).await;
    panic!("a put from an endless source ended: {:?}", r.map(|_| ()));
}

#[tokio::test]
async fn put_killed_mid_upload_leaves_only_a_swept_part() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("files");
    let id = BlobId::random(&OsRandom);
    let part = root.join("tmp").join(format!("{id}.part"));
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "blobs::crash_child_put_forever",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CRASH_DIR, &root)
        .env(CRASH_ID, id.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the child has written more than a megabyte of its part file.
    let started = Instant::now();
    loop {
        let written = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if written > 1024 * 1024 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the child ended before it was killed: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "the child wrote only {written} bytes in 4 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no guard runs.
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed: {status}");

    let store = FileBlobStore::open(&root).await.unwrap();
    match store.get(id).await {
        Err(Error::NotFound {
            entity: Entity::Blob,
        }) => {}
        Err(other) => panic!("expected NotFound(Blob), got {other:?}"),
        Ok(_) => panic!("the killed put's blob is readable"),
    }
    assert!(part.exists(), "the killed put left its part file");
    assert!(
        store.sweep().await.unwrap() >= 1,
        "the sweep removed the part"
    );
    assert_eq!(store.sweep().await.unwrap(), 0, "nothing left to sweep");
    let left: Vec<_> = std::fs::read_dir(root.join("tmp")).unwrap().collect();
    assert!(left.is_empty(), "the part folder is empty: {left:?}");
    let names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["tmp"], "no blob and no partial file in the folder");
    // The id is free again for a put that completes.
    store
        .put(id, stream_of(vec![Bytes::from_static(b"again")]))
        .await
        .unwrap();
    assert_eq!(
        read_all(store.get(id).await.unwrap(), 100).await.unwrap(),
        b"again"
    );
}

/// Sets a blob file's modification time `ago` into the past, as if its put had ended
/// then.
fn age_blob(root: &Path, id: BlobId, ago: Duration) {
    let file = std::fs::File::options()
        .write(true)
        .open(root.join(id.to_string()))
        .unwrap();
    file.set_modified(std::time::SystemTime::now() - ago)
        .unwrap();
}

/// The orphan sweep: a blob whose put completed but whose record was never written
/// (the process died between the two) is removed once it is older than the cut-off;
/// a recorded blob, however old, and a fresh unrecorded one (an upload that may still
/// be writing its record) are kept. Puts in progress and foreign names are not blobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_blobs_past_the_cutoff_are_removed_and_recorded_ones_kept() {
    use portal_core::model::{RequestedDocument, Side, TaskKind};
    use portal_core::testkit::TestService;

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn portal_core::Store> = Arc::new(
        portal_storage_sqlite::SqliteStore::open(dir.path().join("portal.db"))
            .await
            .unwrap(),
    );
    let root = dir.path().join("files");
    let blobs = Arc::new(FileBlobStore::open(&root).await.unwrap());
    let h = TestService::builder(store.clone())
        .blobs(blobs.clone())
        .build();

    // A recorded upload.
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
            portal_core::TaskSpec {
                title: "Upload the diagram".into(),
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
    let recorded = h
        .service
        .upload_document(
            &ctx,
            task.id,
            "diagram",
            "diagram.pdf",
            stream_of(vec![Bytes::from_static(b"%PDF-1.4\nrecorded\n%%EOF\n")]),
        )
        .await
        .unwrap();

    // Two puts that never got a record: one old, one fresh.
    let old_orphan = BlobId::random(&OsRandom);
    let fresh_orphan = BlobId::random(&OsRandom);
    for id in [old_orphan, fresh_orphan] {
        blobs
            .put(
                id,
                stream_of(vec![Bytes::from_static(b"sealed, unrecorded")]),
            )
            .await
            .unwrap();
    }
    let two_hours = Duration::from_secs(2 * 3600);
    age_blob(&root, recorded.blob, two_hours);
    age_blob(&root, old_orphan, two_hours);
    // Not blobs: a put in progress and a file someone put in the folder.
    std::fs::write(
        root.join("tmp")
            .join(format!("{}.part", BlobId::random(&OsRandom))),
        b"x",
    )
    .unwrap();
    std::fs::write(root.join("README"), b"not a blob").unwrap();

    let hour = Duration::from_secs(3600);
    let mut expected = vec![recorded.blob, old_orphan];
    expected.sort();
    assert_eq!(blobs.completed_older_than(hour).await.unwrap(), expected);
    assert_eq!(
        blobs
            .completed_older_than(Duration::ZERO)
            .await
            .unwrap()
            .len(),
        3,
        "every completed blob is at least 0 s old"
    );

    assert_eq!(blobs.remove_orphans(store.as_ref(), hour).await.unwrap(), 1);
    assert!(matches!(
        blobs.get(old_orphan).await,
        Err(Error::NotFound {
            entity: Entity::Blob
        })
    ));
    assert_eq!(
        read_all(blobs.get(fresh_orphan).await.unwrap(), 100)
            .await
            .unwrap(),
        b"sealed, unrecorded",
        "a fresh orphan may be an upload still recording: kept"
    );
    let (_, content) = h
        .service
        .staff_download_document(&seeded.staff, seeded.portal.id, recorded.id)
        .await
        .unwrap();
    assert_eq!(
        read_all(content, 100).await.unwrap(),
        b"%PDF-1.4\nrecorded\n%%EOF\n",
        "the recorded file is untouched"
    );
    assert!(root.join("README").exists(), "foreign files are left alone");
    assert_eq!(
        blobs.remove_orphans(store.as_ref(), hour).await.unwrap(),
        0,
        "nothing left"
    );
}

/// Deterministic bytes that differ at every offset of a block, so a block written at
/// the wrong offset, twice, or not at all is seen.
fn patterned(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[i % 4] ^ (i / 4096) as u8)
        .collect()
}

/// The writer stages pieces into whole 1 MiB blocks written around the page cache where
/// the file system allows it, and writes the unaligned tail through the page cache:
/// every size around those boundaries, in pieces that do not line up with them (the
/// envelope's 64 KiB + 16 sealed chunks, single bytes), reads back byte for byte with
/// the length and hash the put reported.
#[tokio::test]
async fn blob_sizes_around_block_boundaries_read_back_exactly() {
    use sha2::{Digest, Sha256};
    const MIB: usize = 1024 * 1024;
    let (_dir, store) = fresh_blobs().await;
    for len in [
        0,
        1,
        4095,
        4096,
        4097,
        65_552,
        MIB - 1,
        MIB,
        MIB + 1,
        MIB + 4096,
        3 * MIB + 17,
    ] {
        let content = patterned(len);
        let mut pieces = Vec::new();
        let mut rest = &content[..];
        for size in [65_552, 1, 7, 65_552, 300_000].iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let n = (*size).min(rest.len());
            pieces.push(Bytes::copy_from_slice(&rest[..n]));
            rest = &rest[n..];
        }
        let id = BlobId::random(&OsRandom);
        let info = store.put(id, stream_of(pieces)).await.unwrap();
        assert_eq!(info.size, len as u64, "size of {len}");
        let expected: [u8; 32] = Sha256::digest(&content).into();
        assert_eq!(info.sha256, expected, "hash of {len}");
        let back = read_all(store.get(id).await.unwrap(), 4 * MIB as u64)
            .await
            .unwrap();
        assert!(back == content, "{len} bytes did not read back as written");
    }
}
