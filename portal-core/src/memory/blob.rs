//! [`MemoryBlobStore`]: the reference [`BlobStore`], bytes kept in memory.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;

use crate::blob::{BlobInfo, BlobStore, ByteStream, Tally};
use crate::error::{Entity, Error, Result};
use crate::ids::BlobId;

/// The in-memory reference [`BlobStore`]: a completed blob is a list of the pieces
/// its put read; a put in progress holds its pieces in its own future, so a failed
/// or dropped put leaves nothing behind but its claim on the id, which a guard
/// releases when the put ends either way.
#[derive(Debug, Default)]
pub struct MemoryBlobStore {
    state: Arc<Mutex<BlobState>>,
}

#[derive(Debug, Default)]
struct BlobState {
    blobs: HashMap<BlobId, Arc<Vec<Bytes>>>,
    /// Ids with a put in progress.
    writing: HashSet<BlobId>,
}

impl MemoryBlobStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(state: &Mutex<BlobState>) -> std::sync::MutexGuard<'_, BlobState> {
        state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many completed blobs are held (for tests of cleanup).
    pub fn len(&self) -> usize {
        Self::lock(&self.state).blobs.len()
    }

    /// Whether no blob is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Releases a put's claim on its id when the put ends, however it ends.
struct Claim {
    state: Arc<Mutex<BlobState>>,
    id: BlobId,
}

impl Drop for Claim {
    fn drop(&mut self) {
        MemoryBlobStore::lock(&self.state).writing.remove(&self.id);
    }
}

#[async_trait]
impl BlobStore for MemoryBlobStore {
    async fn put(&self, id: BlobId, mut content: ByteStream) -> Result<BlobInfo> {
        let _claim = {
            let mut st = Self::lock(&self.state);
            if st.blobs.contains_key(&id) || !st.writing.insert(id) {
                return Err(Error::conflict("a blob with this id exists"));
            }
            Claim {
                state: self.state.clone(),
                id,
            }
        };
        let mut pieces = Vec::new();
        let mut tally = Tally::new();
        while let Some(item) = content.next().await {
            let bytes = item?;
            tally.update(&bytes);
            pieces.push(bytes);
        }
        Self::lock(&self.state).blobs.insert(id, Arc::new(pieces));
        Ok(tally.finish())
    }

    async fn get(&self, id: BlobId) -> Result<ByteStream> {
        let pieces = Self::lock(&self.state)
            .blobs
            .get(&id)
            .cloned()
            .ok_or(Error::not_found(Entity::Blob))?;
        let count = pieces.len();
        Ok(Box::pin(futures_util::stream::iter(
            (0..count).map(move |i| Ok(pieces[i].clone())),
        )))
    }

    async fn delete(&self, id: BlobId) -> Result<()> {
        Self::lock(&self.state).blobs.remove(&id);
        Ok(())
    }

    async fn sweep(&self) -> Result<u64> {
        // Unfinished puts hold their bytes in their own futures: nothing is left here.
        Ok(0)
    }
}

#[cfg(test)]
mod conformance {
    use std::sync::Arc;

    use super::MemoryBlobStore;
    use crate::blob::BlobStore;

    async fn fresh() -> ((), Arc<dyn BlobStore>) {
        ((), Arc::new(MemoryBlobStore::new()))
    }

    crate::blob_conformance_tests!(fresh());
}
