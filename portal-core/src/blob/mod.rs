//! File content: the [`BlobStore`] seam (bytes in, bytes out, always streamed) and
//! the envelope encryption ([`envelope`], [`keyring`]) every file goes through before
//! its bytes reach a store.
//!
//! A `BlobStore` only keeps opaque bytes under an id: it never sees a file name, a
//! type or plaintext. What a file is (who uploaded it, for which task, its name and
//! review status) is a record of the workflow; its bytes are a blob that record
//! points to, written first, so a crash can leave an orphan blob (removed by
//! [`BlobStore::sweep`] or a later delete) but never a record pointing at nothing.

pub mod envelope;
pub mod keyring;
pub mod rotation;
mod worker;

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::ids::BlobId;

/// A stream of bytes: what a put reads and a get yields. An `Err` item ends it: for a
/// put, the error of the source (the client went away, a limit was exceeded).
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// What a completed put stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo {
    /// Bytes stored.
    pub size: u64,
    /// SHA-256 of exactly those bytes.
    pub sha256: [u8; 32],
}

/// Counts and hashes bytes as they pass, so every store computes [`BlobInfo`] the
/// same way, while streaming, without holding the bytes.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    size: u64,
    hasher: Sha256,
}

impl Tally {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.size += bytes.len() as u64;
        self.hasher.update(bytes);
    }

    /// Bytes seen so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The size and SHA-256 of everything seen.
    pub fn finish(self) -> BlobInfo {
        BlobInfo {
            size: self.size,
            sha256: self.hasher.finalize().into(),
        }
    }
}

/// Encrypted file content, kept by id.
///
/// # Contract
/// - **Put.** `put` reads `content` to its end, a piece at a time (never the whole
///   blob in memory), stores exactly the bytes it yielded under `id`, and returns
///   their size and SHA-256 computed while streaming (use [`Tally`]). When `put`
///   returns `Ok`, the blob is durable as far as the store's medium goes (a disk
///   store has synced the file and its folder): the caller writes the record that
///   points to it next. A `put` with an id that exists, or whose put is still in
///   progress, is `Conflict`, and the other blob or put is not disturbed.
/// - **All or nothing.** If `content` yields an `Err`, `put` stops reading, returns
///   that error unchanged, and nothing is readable under `id`. The same holds when the
///   `put` future is dropped before it completes (the client went away) and when the
///   process dies during a put: `get` answers `NotFound(Blob)` until a put of that
///   id has completed, and whatever a failed put left behind is removed by `sweep`.
/// - **Get.** `get` of a completed blob yields its bytes in order, streamed; of an
///   unknown or deleted one it is `NotFound(Blob)`. A blob being put is not visible
///   until its put completes.
/// - **Delete.** `delete` removes the blob; later gets are `NotFound(Blob)`. Deleting
///   an unknown blob is not an error (deletes are retried after crashes). A get
///   already streaming may finish or fail, but never yields bytes of another blob.
/// - **Sweep.** `sweep` removes what unfinished puts left behind and returns how many
///   leftovers it removed. Hosts run it at start-up, before serving; it must not be
///   run while puts of the same store are in progress (several nodes sharing one
///   store need an age cut-off, which the seam does not offer yet).
/// - Blobs are independent: concurrent puts, gets and deletes of different ids never
///   see each other's bytes.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Streams `content` into a new blob.
    async fn put(&self, id: BlobId, content: ByteStream) -> Result<BlobInfo>;
    /// Streams a blob's bytes.
    async fn get(&self, id: BlobId) -> Result<ByteStream>;
    /// Removes a blob (unknown ids included).
    async fn delete(&self, id: BlobId) -> Result<()>;
    /// Removes the leftovers of unfinished puts; returns how many were removed.
    async fn sweep(&self) -> Result<u64>;
}

/// A stream over bytes already in memory (tests, small payloads).
pub fn stream_of(chunks: Vec<Bytes>) -> ByteStream {
    Box::pin(futures_util::stream::iter(chunks.into_iter().map(Ok)))
}

/// Ends `content` with `Error::TooLarge` as soon as more than `max_bytes` arrived,
/// so a limit is enforced while streaming, before the excess is stored anywhere.
pub fn limited(content: ByteStream, max_bytes: u64) -> ByteStream {
    Box::pin(futures_util::stream::unfold(
        Some((content, 0u64)),
        move |state| async move {
            let (mut content, seen) = state?;
            match content.next().await? {
                Ok(bytes) => {
                    let seen = seen.saturating_add(bytes.len() as u64);
                    if seen > max_bytes {
                        Some((Err(Error::TooLarge { max_bytes }), None))
                    } else {
                        Some((Ok(bytes), Some((content, seen))))
                    }
                }
                Err(e) => Some((Err(e), None)),
            }
        },
    ))
}

/// Reads a whole stream into memory, refusing more than `max_bytes` (for small
/// contents such as a signature image, and for tests).
pub async fn read_all(mut content: ByteStream, max_bytes: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(item) = content.next().await {
        let bytes = item?;
        if (out.len() + bytes.len()) as u64 > max_bytes {
            return Err(Error::TooLarge { max_bytes });
        }
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

/// Removes each blob of `candidates` that no record of `records` points at
/// ([`crate::store::DocumentStore::blob_in_use`]); answers how many it removed.
///
/// The second half of an orphan sweep, the same for every blob store: the first half,
/// listing the completed blobs old enough that no upload in flight can still be
/// writing their record, is the store's own (a folder's modification times, a
/// bucket's `Last-Modified`). Each candidate is checked against the records just
/// before it goes, so a record written since the listing keeps its blob.
pub async fn remove_unrecorded(
    blobs: &dyn BlobStore,
    records: &dyn crate::store::DocumentStore,
    candidates: Vec<BlobId>,
) -> Result<u64> {
    let mut removed = 0;
    for id in candidates {
        if !records.blob_in_use(id).await? {
            blobs.delete(id).await?;
            tracing::info!(blob = %id, "removed an orphan blob (its upload never got a record)");
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limited_stops_right_after_the_limit() {
        let parts = || vec![Bytes::from_static(b"abc"), Bytes::from_static(b"de")];
        // Exactly the limit passes.
        assert_eq!(
            read_all(limited(stream_of(parts()), 5), 100).await.unwrap(),
            b"abcde"
        );
        // One byte less fails on the piece that crosses it.
        let mut s = limited(stream_of(parts()), 4);
        assert_eq!(&s.next().await.unwrap().unwrap()[..], b"abc");
        assert!(matches!(
            s.next().await,
            Some(Err(Error::TooLarge { max_bytes: 4 }))
        ));
        assert!(s.next().await.is_none(), "nothing after the error");
    }

    #[test]
    fn tally_counts_and_hashes() {
        let mut t = Tally::new();
        t.update(b"ab");
        t.update(b"c");
        assert_eq!(t.size(), 3);
        let info = t.finish();
        assert_eq!(info.size, 3);
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            info.sha256[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "{:02x?}",
            info.sha256
        );
    }
}
