//! Conformance checks of the [`BlobStore`] contract (see [`crate::blob`]).
//!
//! A blob store is its own seam (a host may keep file bytes on disk or in object
//! storage beside any [`crate::Store`]), so its checks have their own macro,
//! [`crate::blob_conformance_tests!`], and [`run_blob_checks`] runs them all.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::blob::{BlobStore, ByteStream, Tally, read_all, stream_of};
use crate::error::{Entity, Error};
use crate::ids::BlobId;
use crate::random::{OsRandom, RandomSource};

fn blob_id() -> BlobId {
    BlobId::random(&OsRandom)
}

/// `len` bytes that differ from one call to the next (`seed`).
fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// `data` cut into uneven pieces (including an empty one), as a network delivers it.
fn pieces(data: &[u8]) -> Vec<Bytes> {
    let sizes = [1usize, 0, 4093, 65_536, 17, 100_003];
    let mut out = Vec::new();
    let (mut at, mut i) = (0, 0);
    while at < data.len() {
        let n = sizes[i % sizes.len()].min(data.len() - at);
        out.push(Bytes::copy_from_slice(&data[at..at + n]));
        at += n;
        i += 1;
    }
    out
}

fn info_of(data: &[u8]) -> crate::blob::BlobInfo {
    let mut t = Tally::new();
    t.update(data);
    t.finish()
}

async fn get_all(store: &dyn BlobStore, id: BlobId) -> Vec<u8> {
    read_all(store.get(id).await.unwrap(), u64::MAX)
        .await
        .unwrap()
}

fn assert_not_found(r: crate::Result<ByteStream>, what: &str) {
    match r {
        Err(Error::NotFound {
            entity: Entity::Blob,
        }) => {}
        Err(other) => panic!("{what}: expected NotFound(Blob), got {other:?}"),
        Ok(_) => panic!("{what}: expected NotFound(Blob), got a readable blob"),
    }
}

/// A put stores exactly the bytes streamed, reports their size and SHA-256, and a
/// get streams them back; the empty blob too.
pub async fn blob_round_trip(store: &dyn BlobStore) {
    for len in [0usize, 1, 65_536, 300_001] {
        let data = content(len, len as u8);
        let id = blob_id();
        let info = store.put(id, stream_of(pieces(&data))).await.unwrap();
        assert_eq!(info, info_of(&data), "put of {len} bytes: size and SHA-256");
        assert_eq!(get_all(store, id).await, data, "get of {len} bytes");
        // Reading twice gives the same bytes.
        assert_eq!(get_all(store, id).await, data, "second get of {len} bytes");
    }
}

/// A put with an id that exists is `Conflict`, and the stored blob stays as it was.
pub async fn blob_put_existing_id(store: &dyn BlobStore) {
    let id = blob_id();
    let first = content(1000, 1);
    store.put(id, stream_of(pieces(&first))).await.unwrap();
    let second = content(2000, 2);
    match store.put(id, stream_of(pieces(&second))).await {
        Err(Error::Conflict { .. }) => {}
        other => panic!("a second put of one id: expected Conflict, got {other:?}"),
    }
    assert_eq!(
        get_all(store, id).await,
        first,
        "the first blob is untouched"
    );
}

/// A source that fails after `ok_bytes` bytes.
fn failing_after(data: &[u8], ok_bytes: usize) -> ByteStream {
    let mut items: Vec<crate::Result<Bytes>> =
        pieces(&data[..ok_bytes]).into_iter().map(Ok).collect();
    items.push(Err(Error::invalid("upload", "the client went away")));
    items.extend(pieces(&data[ok_bytes..]).into_iter().map(Ok));
    Box::pin(futures_util::stream::iter(items))
}

/// A put of an id whose put is still running is `Conflict`; the running put then
/// completes with its own bytes.
pub async fn blob_put_while_putting(store: Arc<dyn BlobStore>) {
    let id = blob_id();
    let data = content(100_000, 9);
    let (release, gate) = tokio::sync::oneshot::channel::<()>();
    let head = futures_util::stream::iter(pieces(&data[..50_000]).into_iter().map(Ok));
    let tail = futures_util::stream::once(async move {
        let _ = gate.await;
        Ok(Bytes::new())
    });
    let rest = futures_util::stream::iter(pieces(&data[50_000..]).into_iter().map(Ok));
    let source: ByteStream = Box::pin(futures_util::StreamExt::chain(
        futures_util::StreamExt::chain(head, tail),
        rest,
    ));
    let first = {
        let store = store.clone();
        tokio::spawn(async move { store.put(id, source).await })
    };
    // Let the first put start and block on its gate.
    tokio::time::sleep(Duration::from_millis(100)).await;
    match store.put(id, stream_of(pieces(&content(10, 1)))).await {
        Err(Error::Conflict { .. }) => {}
        other => panic!("a put of an id being put: expected Conflict, got {other:?}"),
    }
    let _ = release.send(());
    let info = first.await.unwrap().unwrap();
    assert_eq!(
        info,
        info_of(&data),
        "the running put completes with its own bytes"
    );
    assert_eq!(get_all(store.as_ref(), id).await, data);
}

/// A put whose source fails at a random byte returns that error unchanged and leaves
/// nothing readable; a sweep afterwards succeeds.
pub async fn blob_failed_put_leaves_nothing(store: &dyn BlobStore) {
    let data = content(200_000, 3);
    let mut at = [0u8; 4];
    OsRandom.fill(&mut at);
    for ok_bytes in [0, 1 + (u32::from_le_bytes(at) as usize % (data.len() - 1))] {
        let id = blob_id();
        match store.put(id, failing_after(&data, ok_bytes)).await {
            Err(Error::Invalid {
                field: "upload", ..
            }) => {}
            other => panic!(
                "a put whose source failed after {ok_bytes} bytes: expected the source's error, got {other:?}"
            ),
        }
        assert_not_found(store.get(id).await, "get after a failed put");
    }
    store.sweep().await.unwrap();
}

/// A source that yields `ok_bytes` and then never ends (a stalled client).
fn stalled_after(data: Vec<u8>, ok_bytes: usize) -> ByteStream {
    let head = futures_util::stream::iter(pieces(&data[..ok_bytes]).into_iter().map(Ok));
    Box::pin(futures_util::StreamExt::chain(
        head,
        futures_util::stream::pending(),
    ))
}

/// A put dropped half-way (the client went away) leaves nothing readable, and a sweep
/// afterwards succeeds.
pub async fn blob_dropped_put_leaves_nothing(store: &dyn BlobStore) {
    let data = content(150_000, 4);
    let id = blob_id();
    let put = store.put(id, stalled_after(data, 100_000));
    match tokio::time::timeout(Duration::from_millis(300), put).await {
        Err(_elapsed) => {}
        Ok(r) => panic!("a put whose source stalled completed: {:?}", r.map(|_| ())),
    }
    assert_not_found(store.get(id).await, "get after a dropped put");
    store.sweep().await.unwrap();
    assert_not_found(store.get(id).await, "get after a dropped put and a sweep");
}

/// Unknown blobs are `NotFound(Blob)`; a deleted blob is gone; deleting twice or
/// deleting an unknown blob is not an error; other blobs are untouched.
pub async fn blob_delete(store: &dyn BlobStore) {
    assert_not_found(store.get(blob_id()).await, "get of an unknown blob");
    let (a, b) = (blob_id(), blob_id());
    let data_a = content(70_000, 5);
    let data_b = content(70_000, 6);
    store.put(a, stream_of(pieces(&data_a))).await.unwrap();
    store.put(b, stream_of(pieces(&data_b))).await.unwrap();
    store.delete(a).await.unwrap();
    assert_not_found(store.get(a).await, "get of a deleted blob");
    store.delete(a).await.unwrap();
    store.delete(blob_id()).await.unwrap();
    assert_eq!(
        get_all(store, b).await,
        data_b,
        "another blob survives a delete"
    );
    store.sweep().await.unwrap();
    assert_eq!(
        get_all(store, b).await,
        data_b,
        "a sweep keeps completed blobs"
    );
}

/// Concurrent puts of different ids each store their own bytes.
pub async fn blob_concurrent_puts(store: Arc<dyn BlobStore>) {
    let mut tasks = Vec::new();
    for seed in 0..8u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let id = blob_id();
            let data = content(90_000 + usize::from(seed) * 1000, seed);
            let info = store.put(id, stream_of(pieces(&data))).await.unwrap();
            (id, data, info)
        }));
    }
    for t in tasks {
        let (id, data, info) = t.await.unwrap();
        assert_eq!(info, info_of(&data));
        assert_eq!(
            get_all(store.as_ref(), id).await,
            data,
            "concurrent put {id}"
        );
    }
}

/// Runs every blob check against `store`.
pub async fn run_blob_checks(store: Arc<dyn BlobStore>) {
    let s = store.as_ref();
    blob_round_trip(s).await;
    blob_put_existing_id(s).await;
    blob_failed_put_leaves_nothing(s).await;
    blob_dropped_put_leaves_nothing(s).await;
    blob_delete(s).await;
    blob_concurrent_puts(store.clone()).await;
    blob_put_while_putting(store.clone()).await;
}

/// Generates one `#[tokio::test]` per [`BlobStore`] check. `$make` is evaluated afresh
/// for every test and yields a future of `(guard, Arc<dyn BlobStore>)`, like
/// [`crate::conformance_tests!`].
#[macro_export]
macro_rules! blob_conformance_tests {
    ($make:expr) => {
        $crate::blob_conformance_tests!(@each ref $make;
            blob_round_trip, blob_put_existing_id, blob_failed_put_leaves_nothing,
            blob_dropped_put_leaves_nothing, blob_delete
        );
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn blob_concurrent_puts() {
            let (_guard, store) = $make.await;
            $crate::conformance::blob_concurrent_puts(store).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn blob_put_while_putting() {
            let (_guard, store) = $make.await;
            $crate::conformance::blob_put_while_putting(store).await;
        }
        /// Every blob check on one shared store: the checks do not interfere.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn blob_checks_on_one_store() {
            let (_guard, store) = $make.await;
            $crate::conformance::run_blob_checks(store).await;
        }
    };
    (@each ref $make:expr; $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let (_guard, store) = $make.await;
            $crate::conformance::$name(store.as_ref()).await;
        }
    )*};
}
