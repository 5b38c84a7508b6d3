//! The S3 blob store against an S3-compatible server on loopback (`PORTAL_TEST_S3_URL`,
//! e.g. `http://127.0.0.1:9000`, started by `tests/start-s3.sh`): the public blob
//! conformance suite, each check on a fresh key prefix of one test bucket, plus the
//! leftovers of a put that died half-way (its marker and its unfinished multipart
//! upload), which a sweep removes.
//!
//! Without the variable every test prints a skip line and passes, unless
//! `PORTAL_REQUIRE_S3=1`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use portal_blob_s3::{PART_SIZE, S3BlobStore, S3Config};
use portal_core::blob::{BlobStore, ByteStream, read_all, stream_of};
use portal_core::{BlobId, Entity, Error, OsRandom};

/// The bucket the tests use (created if missing).
const BUCKET: &str = "portal-test";

/// The server's URL, or `None` (after a skip line) when the tests are to be skipped.
fn server() -> Option<String> {
    match std::env::var("PORTAL_TEST_S3_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("PORTAL_REQUIRE_S3").as_deref() != Ok("1"),
                "PORTAL_REQUIRE_S3=1 but PORTAL_TEST_S3_URL is not set"
            );
            eprintln!("skipped: set PORTAL_TEST_S3_URL to run the S3 blob store tests");
            None
        }
    }
}

/// Creates the test bucket (an existing one is fine). Test servers such as moto accept
/// this request unsigned.
async fn create_bucket(url: &str) {
    let response = reqwest::Client::new()
        .put(format!("{}/{BUCKET}", url.trim_end_matches('/')))
        .send()
        .await
        .unwrap_or_else(|e| panic!("cannot reach the S3 test server at {url}: {e}"));
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert!(
        status.is_success() || body.contains("BucketAlreadyOwnedByYou"),
        "creating the test bucket: {status} {body}"
    );
}

/// A store on a fresh prefix of the test bucket, so checks neither see nor sweep each
/// other's keys.
async fn store_on(url: &str) -> S3BlobStore {
    store_under(url, &fresh_prefix()).await
}

fn fresh_prefix() -> String {
    format!("t-{}", BlobId::random(&OsRandom))
}

async fn store_under(url: &str, prefix: &str) -> S3BlobStore {
    let config = S3Config::new(url, BUCKET, "us-east-1", "testing", "testing-secret")
        .prefix(prefix)
        .allow_loopback_http(true);
    // First: it installs the TLS provider the tests' own reqwest clients need too.
    let store = S3BlobStore::new(&config).unwrap();
    create_bucket(url).await;
    store.check().await.unwrap();
    store
}

/// What the conformance macro makes: `None` for the guard when skipped.
async fn fresh_blobs() -> (Option<()>, Arc<dyn BlobStore>) {
    match server() {
        Some(url) => (Some(()), Arc::new(store_on(&url).await)),
        None => (None, Arc::new(Skipped)),
    }
}

/// Stands in for the store when no server is configured: every check passes without
/// a request (the skip line was printed).
struct Skipped;

mod conformance {
    use super::*;

    /// Runs a conformance check only when a server is configured.
    macro_rules! when_configured {
        ($($name:ident),* $(,)?) => {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let (configured, store) = fresh_blobs().await;
                if configured.is_some() {
                    run(stringify!($name), store).await;
                }
            }
        )*};
    }

    async fn run(name: &str, store: Arc<dyn BlobStore>) {
        use portal_core::conformance as c;
        let s = store.as_ref();
        match name {
            "blob_round_trip" => c::blob_round_trip(s).await,
            "blob_put_existing_id" => c::blob_put_existing_id(s).await,
            "blob_failed_put_leaves_nothing" => c::blob_failed_put_leaves_nothing(s).await,
            "blob_dropped_put_leaves_nothing" => c::blob_dropped_put_leaves_nothing(s).await,
            "blob_delete" => c::blob_delete(s).await,
            "blob_concurrent_puts" => c::blob_concurrent_puts(store.clone()).await,
            "blob_put_while_putting" => c::blob_put_while_putting(store.clone()).await,
            "blob_checks_on_one_store" => c::run_blob_checks(store.clone()).await,
            other => panic!("no blob check named {other}"),
        }
    }

    when_configured!(
        blob_round_trip,
        blob_put_existing_id,
        blob_failed_put_leaves_nothing,
        blob_dropped_put_leaves_nothing,
        blob_delete,
        blob_concurrent_puts,
        blob_put_while_putting,
        blob_checks_on_one_store,
    );
}

#[async_trait::async_trait]
impl BlobStore for Skipped {
    async fn put(
        &self,
        _: BlobId,
        _: ByteStream,
    ) -> portal_core::Result<portal_core::blob::BlobInfo> {
        Err(Error::storage_msg("skipped"))
    }
    async fn get(&self, _: BlobId) -> portal_core::Result<ByteStream> {
        Err(Error::storage_msg("skipped"))
    }
    async fn delete(&self, _: BlobId) -> portal_core::Result<()> {
        Err(Error::storage_msg("skipped"))
    }
    async fn sweep(&self) -> portal_core::Result<u64> {
        Err(Error::storage_msg("skipped"))
    }
}

/// `len` bytes that differ at every offset of a part.
fn patterned(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[i % 4] ^ (i / 4096) as u8)
        .collect()
}

/// Blobs of several parts, with sizes around the part boundary, read back byte for byte
/// with the size and hash the put reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn multipart_sizes_around_the_part_boundary_read_back_exactly() {
    use sha2::{Digest, Sha256};
    let Some(url) = server() else { return };
    let store = store_on(&url).await;
    for len in [
        PART_SIZE - 1,
        PART_SIZE,
        PART_SIZE + 1,
        2 * PART_SIZE + 65_552,
    ] {
        let content = patterned(len);
        let pieces: Vec<Bytes> = content.chunks(65_552).map(Bytes::copy_from_slice).collect();
        let id = BlobId::random(&OsRandom);
        let info = store.put(id, stream_of(pieces)).await.unwrap();
        assert_eq!(info.size, len as u64, "size of {len}");
        let expected: [u8; 32] = Sha256::digest(&content).into();
        assert_eq!(info.sha256, expected, "hash of {len}");
        let back = read_all(store.get(id).await.unwrap(), u64::MAX)
            .await
            .unwrap();
        assert!(back == content, "{len} bytes did not read back as written");
    }
    assert_eq!(
        store.sweep().await.unwrap(),
        0,
        "completed puts leave nothing"
    );
}

/// The unfinished multipart uploads of the bucket, as the server lists them
/// (`GET /<bucket>?uploads`, unsigned: test servers allow it), whose key contains `part`.
async fn unfinished_uploads(url: &str, part: &str) -> usize {
    let body = reqwest::Client::new()
        .get(format!("{}/{BUCKET}?uploads", url.trim_end_matches('/')))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    body.split("<Key>")
        .skip(1)
        .filter(|rest| {
            rest.split("</Key>")
                .next()
                .is_some_and(|k| k.contains(part))
        })
        .count()
}

/// A put whose process dies half-way (here: its future is leaked, so no clean-up
/// runs, as after SIGKILL) leaves nothing readable; for the next process (a second
/// store on the same prefix) its marker keeps the id taken, and its unfinished upload
/// stays; a sweep aborts the upload and removes the marker, and the id is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_put_that_died_leaves_leftovers_a_sweep_removes() {
    let Some(url) = server() else { return };
    let prefix = fresh_prefix();
    let dying = store_under(&url, &prefix).await;
    let id = BlobId::random(&OsRandom);
    // More than one part, then a source that never ends.
    let head: Vec<Bytes> = patterned(PART_SIZE + 1000)
        .chunks(65_536)
        .map(Bytes::copy_from_slice)
        .collect();
    let source: ByteStream = Box::pin(futures_util::StreamExt::chain(
        futures_util::stream::iter(head.into_iter().map(Ok)),
        futures_util::stream::pending(),
    ));
    let mut put = Box::pin(dying.put(id, source));
    tokio::select! {
        r = &mut put => panic!("a put from a stalled source ended: {:?}", r.map(|_| ())),
        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
    }
    std::mem::forget(put); // no destructor runs: as if the process died
    // The next process (or another node) opens the same bucket and prefix.
    let store = store_under(&url, &prefix).await;

    assert!(matches!(
        store.get(id).await,
        Err(Error::NotFound {
            entity: Entity::Blob
        })
    ));
    assert_eq!(
        unfinished_uploads(&url, &id.to_string()).await,
        1,
        "the dead put's upload"
    );
    match store
        .put(id, stream_of(vec![Bytes::from_static(b"x")]))
        .await
    {
        Err(Error::Conflict { .. }) => {}
        other => panic!(
            "the id of a dead put before a sweep (its marker): expected Conflict, got {other:?}"
        ),
    }
    assert_eq!(
        unfinished_uploads(&url, &id.to_string()).await,
        1,
        "a refused put leaves no upload"
    );

    assert_eq!(
        store.sweep().await.unwrap(),
        1,
        "the sweep removed the marker"
    );
    assert_eq!(
        unfinished_uploads(&url, &id.to_string()).await,
        0,
        "the upload was aborted"
    );
    assert_eq!(store.sweep().await.unwrap(), 0, "nothing left to sweep");
    store
        .put(id, stream_of(vec![Bytes::from_static(b"again")]))
        .await
        .unwrap();
    assert_eq!(
        read_all(store.get(id).await.unwrap(), 100).await.unwrap(),
        b"again"
    );
}

/// A put that fails or is dropped aborts its upload at once: no part stays billed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_and_dropped_puts_abort_their_uploads() {
    let Some(url) = server() else { return };
    let store = store_on(&url).await;
    let big: Vec<Bytes> = patterned(PART_SIZE + 1000)
        .chunks(65_536)
        .map(Bytes::copy_from_slice)
        .collect();

    let failed = BlobId::random(&OsRandom);
    let source: ByteStream = Box::pin(futures_util::stream::iter(
        big.clone()
            .into_iter()
            .map(Ok)
            .chain([Err(Error::invalid("upload", "the client went away"))]),
    ));
    assert!(matches!(
        store.put(failed, source).await,
        Err(Error::Invalid {
            field: "upload",
            ..
        })
    ));
    assert_eq!(unfinished_uploads(&url, &failed.to_string()).await, 0);

    let dropped = BlobId::random(&OsRandom);
    let source: ByteStream = Box::pin(futures_util::StreamExt::chain(
        futures_util::stream::iter(big.into_iter().map(Ok)),
        futures_util::stream::pending(),
    ));
    assert!(
        tokio::time::timeout(Duration::from_secs(2), store.put(dropped, source))
            .await
            .is_err()
    );
    // The clean-up runs on its own task: give it a moment.
    let mut left = 1;
    for _ in 0..50 {
        left = unfinished_uploads(&url, &dropped.to_string()).await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the dropped put's upload was aborted");
    assert_eq!(store.sweep().await.unwrap(), 0, "and its marker removed");
    // Both ids are free.
    for id in [failed, dropped] {
        store
            .put(id, stream_of(vec![Bytes::from_static(b"ok")]))
            .await
            .unwrap();
    }
}

/// The orphan sweep: a blob whose put completed but whose record was never written is
/// removed once it is older than the cut-off; a recorded blob, however old, and a
/// fresh unrecorded one (an upload that may still be writing its record) are kept.
/// Puts in progress and foreign keys are not blobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_blobs_past_the_cutoff_are_removed_and_recorded_ones_kept() {
    use object_store::ObjectStoreExt;
    use portal_core::model::{RequestedDocument, Side, TaskKind};
    use portal_core::testkit::TestService;

    let Some(url) = server() else { return };
    let prefix = fresh_prefix();
    let blobs = Arc::new(store_under(&url, &prefix).await);
    let store: Arc<dyn portal_core::Store> = Arc::new(portal_core::memory::MemoryStore::new());
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
    let sealed = || stream_of(vec![Bytes::from_static(b"sealed, unrecorded")]);
    let old_orphan = BlobId::random(&OsRandom);
    blobs.put(old_orphan, sealed()).await.unwrap();

    // S3 cannot backdate an object: let these two age instead (Last-Modified has
    // whole seconds), then put a fresh orphan.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fresh_orphan = BlobId::random(&OsRandom);
    blobs.put(fresh_orphan, sealed()).await.unwrap();

    // Not blobs: a put in progress and a key someone else put under the prefix.
    let raw = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&url)
        .with_bucket_name(BUCKET)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing-secret")
        .with_allow_http(true)
        .build()
        .unwrap();
    let in_progress = BlobId::random(&OsRandom);
    raw.put(
        &object_store::path::Path::from(format!("{prefix}/puts/{in_progress}")),
        "upload id".into(),
    )
    .await
    .unwrap();
    for foreign in ["README", "blobs/README", "blobs/nested/x"] {
        raw.put(
            &object_store::path::Path::from(format!("{prefix}/{foreign}")),
            "not a blob".into(),
        )
        .await
        .unwrap();
    }

    let cutoff = Duration::from_secs(2);
    let mut expected = vec![recorded.blob, old_orphan];
    expected.sort();
    assert_eq!(blobs.completed_older_than(cutoff).await.unwrap(), expected);
    assert_eq!(
        blobs
            .completed_older_than(Duration::from_secs(3600))
            .await
            .unwrap(),
        [],
        "nothing is an hour old"
    );

    assert_eq!(
        blobs.remove_orphans(store.as_ref(), cutoff).await.unwrap(),
        1
    );
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
    for foreign in ["README", "blobs/README", "blobs/nested/x"] {
        raw.head(&object_store::path::Path::from(format!(
            "{prefix}/{foreign}"
        )))
        .await
        .unwrap_or_else(|e| panic!("foreign key {foreign} is left alone: {e}"));
    }
    assert_eq!(
        blobs.remove_orphans(store.as_ref(), cutoff).await.unwrap(),
        0,
        "nothing left"
    );
}
