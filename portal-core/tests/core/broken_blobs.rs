//! The blob checks prove they can fail: each broken [`BlobStore`] below breaks ONE
//! point of the contract in `portal_core::blob`, and the named check must panic on
//! it, while the plain [`MemoryBlobStore`] passes the same check.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use portal_core::blob::{BlobInfo, BlobStore, ByteStream, Tally};
use portal_core::conformance;
use portal_core::memory::MemoryBlobStore;
use portal_core::{BlobId, Entity, Error, Result};

/// The one contract point a [`Broken`] blob store breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breakage {
    /// Breaks nothing: the wrapper alone.
    None,
    /// `put` reports one byte more than it stored.
    WrongSize,
    /// `put` of an existing id replaces the blob.
    Overwrites,
    /// A put whose source fails keeps (and serves) what it read so far.
    KeepsPartial,
    /// A put whose source fails reports success with what it read.
    SwallowsSourceError,
    /// A put publishes every piece as it arrives, so a dropped put leaves a readable
    /// partial blob.
    PublishesEarly,
    /// `delete` does nothing.
    DeleteIgnored,
    /// `get` of an unknown blob yields an empty stream instead of `NotFound`.
    UnknownIsEmpty,
    /// Concurrent puts share one scratch buffer: their pieces mix.
    SharedScratch,
    /// A put claims its id only when it ends: a second put of an id being put is
    /// accepted (and the later one to finish wins).
    ClaimsLate,
}

struct Broken {
    inner: MemoryBlobStore,
    breakage: Breakage,
    /// Blobs this wrapper serves itself (for the breakages that bypass `inner`).
    own: Mutex<HashMap<BlobId, Vec<Bytes>>>,
    scratch: tokio::sync::Mutex<Vec<Bytes>>,
}

fn broken(breakage: Breakage) -> Arc<dyn BlobStore> {
    Arc::new(Broken {
        inner: MemoryBlobStore::new(),
        breakage,
        own: Mutex::new(HashMap::new()),
        scratch: tokio::sync::Mutex::new(Vec::new()),
    })
}

fn stream(pieces: Vec<Bytes>) -> ByteStream {
    portal_core::blob::stream_of(pieces)
}

#[async_trait]
impl BlobStore for Broken {
    async fn put(&self, id: BlobId, mut content: ByteStream) -> Result<BlobInfo> {
        match self.breakage {
            Breakage::WrongSize => {
                let info = self.inner.put(id, content).await?;
                Ok(BlobInfo {
                    size: info.size + 1,
                    ..info
                })
            }
            Breakage::Overwrites => {
                self.inner.delete(id).await?;
                self.inner.put(id, content).await
            }
            Breakage::KeepsPartial | Breakage::SwallowsSourceError => {
                let mut pieces = Vec::new();
                let mut tally = Tally::new();
                let mut failed = None;
                while let Some(item) = content.next().await {
                    match item {
                        Ok(b) => {
                            tally.update(&b);
                            pieces.push(b);
                        }
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                self.inner.put(id, stream(pieces)).await?;
                match failed {
                    Some(e) if self.breakage == Breakage::KeepsPartial => Err(e),
                    _ => Ok(tally.finish()),
                }
            }
            Breakage::PublishesEarly => {
                let mut tally = Tally::new();
                while let Some(item) = content.next().await {
                    let b = item?;
                    tally.update(&b);
                    self.own.lock().unwrap().entry(id).or_default().push(b);
                }
                Ok(tally.finish())
            }
            Breakage::SharedScratch => {
                let mut tally = Tally::new();
                self.scratch.lock().await.clear();
                while let Some(item) = content.next().await {
                    let b = item?;
                    tally.update(&b);
                    self.scratch.lock().await.push(b);
                    tokio::task::yield_now().await;
                }
                let pieces = self.scratch.lock().await.clone();
                self.inner.put(id, stream(pieces)).await?;
                Ok(tally.finish())
            }
            Breakage::ClaimsLate => {
                let mut pieces = Vec::new();
                let mut tally = Tally::new();
                while let Some(item) = content.next().await {
                    let b = item?;
                    tally.update(&b);
                    pieces.push(b);
                }
                self.inner.delete(id).await?;
                self.inner.put(id, stream(pieces)).await?;
                Ok(tally.finish())
            }
            _ => self.inner.put(id, content).await,
        }
    }

    async fn get(&self, id: BlobId) -> Result<ByteStream> {
        if let Some(pieces) = self.own.lock().unwrap().get(&id) {
            return Ok(stream(pieces.clone()));
        }
        match self.inner.get(id).await {
            Err(Error::NotFound {
                entity: Entity::Blob,
            }) if self.breakage == Breakage::UnknownIsEmpty => Ok(stream(Vec::new())),
            other => other,
        }
    }

    async fn delete(&self, id: BlobId) -> Result<()> {
        if self.breakage == Breakage::DeleteIgnored {
            return Ok(());
        }
        self.own.lock().unwrap().remove(&id);
        self.inner.delete(id).await
    }

    async fn sweep(&self) -> Result<u64> {
        self.inner.sweep().await
    }
}

use portal_core::conformance::race::panics;

macro_rules! check {
    (ref $name:ident, $store:expr) => {{
        let store = $store;
        async move { conformance::$name(store.as_ref()).await }
    }};
    (arc $name:ident, $store:expr) => {{
        let store = $store;
        async move { conformance::$name(store).await }
    }};
}

macro_rules! caught {
    ($($test:ident: $breakage:ident => $kind:ident $check:ident;)*) => {
        $(
            #[doc = concat!("`", stringify!($breakage), "` is caught by `", stringify!($check), "`.")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                assert!(
                    panics(check!($kind $check, broken(Breakage::$breakage))).await,
                    "{} did not catch {:?}",
                    stringify!($check),
                    Breakage::$breakage
                );
            }
        )*

        /// The plain store and the unbroken wrapper pass every catching check.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn unbroken_blob_stores_pass_the_catching_checks() {
            $(
                let plain: Arc<dyn BlobStore> = Arc::new(MemoryBlobStore::new());
                assert!(!panics(check!($kind $check, plain)).await, "MemoryBlobStore fails {}", stringify!($check));
                assert!(!panics(check!($kind $check, broken(Breakage::None))).await, "the unbroken wrapper fails {}", stringify!($check));
            )*
        }
    };
}

caught! {
    wrong_size_is_caught_by_blob_round_trip: WrongSize => ref blob_round_trip;
    overwriting_is_caught_by_blob_put_existing_id: Overwrites => ref blob_put_existing_id;
    keeping_partial_is_caught_by_blob_failed_put_leaves_nothing: KeepsPartial => ref blob_failed_put_leaves_nothing;
    swallowed_error_is_caught_by_blob_failed_put_leaves_nothing: SwallowsSourceError => ref blob_failed_put_leaves_nothing;
    publishing_early_is_caught_by_blob_dropped_put_leaves_nothing: PublishesEarly => ref blob_dropped_put_leaves_nothing;
    ignored_delete_is_caught_by_blob_delete: DeleteIgnored => ref blob_delete;
    unknown_as_empty_is_caught_by_blob_delete: UnknownIsEmpty => ref blob_delete;
    shared_scratch_is_caught_by_blob_concurrent_puts: SharedScratch => arc blob_concurrent_puts;
    late_claim_is_caught_by_blob_put_while_putting: ClaimsLate => arc blob_put_while_putting;
}
