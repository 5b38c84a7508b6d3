//! Envelope encryption of file content, as age and the AWS Encryption SDK do it.
//!
//! Each file gets a random 256-bit data key, stored only wrapped by the keyring
//! ([`super::keyring`]). The content is cut into 64 KiB chunks, each sealed with
//! AES-256-GCM-SIV under the STREAM construction (Hoang, Reyhanitabar, Rogaway,
//! Vizár 2015) as RustCrypto's `aead-stream` implements it (`StreamBE32`): the 12-byte
//! nonce is a random 7-byte prefix per file, a 32-bit big-endian chunk counter and a
//! last-chunk flag. So a chunk moved to another position, a file cut at a chunk
//! boundary (its new last chunk was not sealed as last), or chunks swapped between
//! files (other key, other prefix) all fail to open. Every chunk's associated data
//! binds the file to its place: tenant, portal, task and blob id, so a blob copied
//! under another record does not open either. GCM-SIV keeps a repeated nonce from
//! being catastrophic, should a random prefix ever repeat under one data key (it
//! cannot today: one key per file).
//!
//! Stored layout of a blob: `"PFE1"` | nonce prefix (7 bytes) | sealed chunks, each
//! 65,536 bytes of plaintext + a 16-byte tag, the last one shorter (possibly empty)
//! and flagged. The plaintext's size and SHA-256 are computed while streaming.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use aes_gcm_siv::aead::KeyInit;
use aes_gcm_siv::{Aes256GcmSiv, Key};
use bytes::{Bytes, BytesMut};
use futures_channel::oneshot;
use futures_core::Stream;
use futures_util::StreamExt;

use super::keyring::{DataKey, KeyId, KeyProvider, WrappedKey};
use super::worker::{self, Worker};
use super::{BlobInfo, BlobStore, ByteStream, Tally, limited};
use crate::error::{Error, Result};
use crate::ids::{BlobId, PortalId, TaskId, TenantId};
use crate::random::RandomSource;

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// Bytes a sealed chunk adds (the AEAD tag).
pub const TAG: usize = 16;
const MAGIC: &[u8; 4] = b"PFE1";
const PREFIX: usize = 7;
const HEADER: usize = MAGIC.len() + PREFIX;

/// Where a file belongs. Its bytes are bound to it: they open only for the same
/// binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileBinding {
    /// The MSP.
    pub tenant: TenantId,
    /// The client portal.
    pub portal: PortalId,
    /// The task the file belongs to, if any.
    pub task: Option<TaskId>,
    /// The blob holding the content.
    pub blob: BlobId,
}

impl FileBinding {
    /// The associated data of every chunk and of the wrapped data key.
    pub fn aad(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 4 * 16);
        out.extend_from_slice(b"portal-file v1\0\0");
        out.extend_from_slice(self.tenant.as_bytes());
        out.extend_from_slice(self.portal.as_bytes());
        out.extend_from_slice(&self.task.map_or([0u8; 16], |t| *t.as_bytes()));
        out.extend_from_slice(self.blob.as_bytes());
        out
    }
}

/// A file sealed into a blob: what its record keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedFile {
    /// The blob with the encrypted content.
    pub blob: BlobId,
    /// The file's data key, wrapped.
    pub key: WrappedKey,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// What the blob store holds (ciphertext size and hash).
    pub stored: BlobInfo,
}

type Cipher = StreamBE32<Aes256GcmSiv>;

fn aead(key: &DataKey) -> Aes256GcmSiv {
    Aes256GcmSiv::new(&Key::<Aes256GcmSiv>::from(*key.expose_secret()))
}

fn cipher(key: &DataKey, prefix: &[u8; PREFIX]) -> Cipher {
    Cipher::from_aead(aead(key), &(*prefix).into())
}

/// Plaintext bytes sealed as one job: 16 chunks. Large enough that handing a batch to
/// another thread costs nothing next to sealing it (about half a millisecond of AES and
/// POLYVAL), small enough that the batches in flight stay a few MiB.
pub const BATCH: usize = 16 * CHUNK;
/// Batches handed to the sealing and hashing threads and not yet taken back: what
/// bounds an upload's memory (about `2 * IN_FLIGHT` MiB of plaintext and ciphertext)
/// while letting reading, hashing and sealing overlap.
const IN_FLIGHT: usize = 3;

/// Encrypts `content` into the stored layout, tallying the plaintext into `tally`
/// (complete once the stream has ended).
///
/// The work is pipelined for large files. Plaintext is gathered into [`BATCH`]es; a
/// file that fits in one batch is sealed and hashed right here, but from the first
/// full batch that has more bytes after it, two threads of the file's own take over:
/// one seals each batch (AES-256-GCM-SIV, chunk by chunk), the other hashes the
/// plaintext (SHA-256), while this stream goes on reading the next batch. Measured by
/// `bench-upload` (docs/PERFORMANCE.md), SHA-256 and sealing each cost about 0.6 s of
/// CPU per GiB, so done in line with parsing the request they capped an upload at one
/// core. At most `IN_FLIGHT` batches are out, so memory stays bounded whatever the
/// file's size; the output (and the stored layout) is the same as sealing the chunks
/// one by one. If the stream is dropped, the threads see their queues close and end.
pub fn encrypt(
    content: ByteStream,
    key: &DataKey,
    prefix: [u8; PREFIX],
    aad: Vec<u8>,
    tally: Arc<Mutex<Tally>>,
) -> ByteStream {
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&prefix);
    Box::pin(Sealing {
        input: content,
        input_done: false,
        header: Some(Bytes::from(header)),
        pending: VecDeque::new(),
        pending_len: 0,
        position: 0,
        cipher: Arc::new(cipher(key, &prefix)),
        aad: Arc::from(aad),
        tally,
        hasher: Hasher::Here(Tally::new()),
        sealer: None,
        slot: None,
        workers_tried: false,
        sealed: VecDeque::new(),
        hashed: VecDeque::new(),
        finishing: None,
        done: false,
    })
}

/// What the hashing thread is asked.
enum HashJob {
    /// Take in the next batch of plaintext.
    Add(Batch),
    /// Hand over the tally of everything taken in.
    Finish,
}

/// Where the plaintext is hashed: here (a small file) or on a thread of its own.
enum Hasher {
    Here(Tally),
    Thread(Worker<HashJob, Option<Tally>>),
}

/// A batch of plaintext: the input's pieces as they came (not copied together; the
/// sealer copies them once, into the sealed buffer).
type Batch = Arc<[Bytes]>;

/// A sealing job: the batch's first chunk position, its plaintext, whether it ends the file.
type SealJob = (u32, Batch, bool);

/// The state of [`encrypt`]'s stream.
struct Sealing {
    input: ByteStream,
    input_done: bool,
    header: Option<Bytes>,
    /// Plaintext not yet handed out (at most one batch and one piece of the input),
    /// and its length.
    pending: VecDeque<Bytes>,
    pending_len: usize,
    /// The position of the next chunk to seal.
    position: u32,
    cipher: Arc<Cipher>,
    aad: Arc<[u8]>,
    tally: Arc<Mutex<Tally>>,
    hasher: Hasher,
    sealer: Option<Worker<SealJob, Result<Bytes>>>,
    /// This file's share of the process-wide bound on files sealed on threads of their
    /// own, held while its threads live.
    slot: Option<worker::Slot>,
    /// The threads are started once at most: a file hashed here stays hashed here.
    workers_tried: bool,
    /// Sealed batches on their way, oldest first: the order they are stored in.
    sealed: VecDeque<oneshot::Receiver<Result<Bytes>>>,
    /// Batches the hashing thread has not confirmed yet.
    hashed: VecDeque<oneshot::Receiver<Option<Tally>>>,
    /// The hashing thread's final tally, once the last batch went out.
    finishing: Option<oneshot::Receiver<Option<Tally>>>,
    done: bool,
}

fn worker_stopped() -> Error {
    Error::storage_msg("a file's sealing thread stopped")
}

/// Seals one batch: its chunks from `position` on, the last one flagged when `last`
/// (a last batch may be empty: it is then one empty, flagged chunk). One buffer for the
/// whole batch, each chunk followed by its tag, so the batch is one write.
fn seal_batch(
    cipher: &Cipher,
    aad: &[u8],
    mut position: u32,
    plain: &[Bytes],
    last: bool,
) -> Result<Bytes> {
    let len: usize = plain.iter().map(Bytes::len).sum();
    let chunks = len.div_ceil(CHUNK).max(1);
    let mut out = Vec::with_capacity(len + chunks * TAG);
    let mut pieces = plain.iter();
    let mut current: &[u8] = &[];
    for i in 0..chunks {
        let start = out.len();
        // Gathers the chunk's bytes from the pieces, the one copy of the plaintext.
        let mut want = CHUNK.min(len - i * CHUNK);
        while want > 0 {
            if current.is_empty() {
                match pieces.next() {
                    Some(piece) => current = piece,
                    None => break,
                }
                continue;
            }
            let (head, tail) = current.split_at(want.min(current.len()));
            out.extend_from_slice(head);
            want -= head.len();
            current = tail;
        }
        let is_last = last && i + 1 == chunks;
        cipher
            .encrypt_in_place(
                position,
                is_last,
                aad,
                &mut Tail {
                    out: &mut out,
                    start,
                },
            )
            .map_err(|_| too_large_to_encrypt())?;
        position = position.checked_add(1).ok_or_else(too_large_to_encrypt)?;
    }
    Ok(Bytes::from(out))
}

fn too_large_to_encrypt() -> Error {
    Error::storage_msg("a file is too large to encrypt")
}

/// The end of a batch's buffer, from `start`: one chunk, sealed in place (the tag is
/// appended after it).
struct Tail<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
}

impl AsRef<[u8]> for Tail<'_> {
    fn as_ref(&self) -> &[u8] {
        self.out.get(self.start..).unwrap_or_default()
    }
}

impl AsMut<[u8]> for Tail<'_> {
    fn as_mut(&mut self) -> &mut [u8] {
        self.out.get_mut(self.start..).unwrap_or_default()
    }
}

impl aes_gcm_siv::aead::Buffer for Tail<'_> {
    fn extend_from_slice(&mut self, other: &[u8]) -> aes_gcm_siv::aead::Result<()> {
        self.out.extend_from_slice(other);
        Ok(())
    }

    fn truncate(&mut self, len: usize) {
        self.out.truncate(self.start + len);
    }
}

impl Sealing {
    /// Stops the stream with `error`; the threads end as their queues close.
    fn fail(&mut self, error: Error) -> Poll<Option<Result<Bytes>>> {
        self.done = true;
        self.sealer = None;
        self.slot = None;
        self.hasher = Hasher::Here(Tally::new());
        self.sealed.clear();
        self.hashed.clear();
        self.finishing = None;
        Poll::Ready(Some(Err(error)))
    }

    /// Starts the two threads (once): the sealer with the cipher, the hasher with the
    /// tally so far. If either cannot start, the file is done here.
    fn start_workers(&mut self) {
        if self.workers_tried {
            return;
        }
        self.workers_tried = true;
        let Hasher::Here(so_far) = &self.hasher else {
            return;
        };
        // Many large uploads at once must not start two threads each: past the bound,
        // a file is sealed on the task that reads it, as a small one is.
        let Some(slot) = worker::Slots::process().take() else {
            return;
        };
        let mut tally = so_far.clone();
        let Some(hasher) = Worker::start("portal-hash", move |job: HashJob| match job {
            HashJob::Add(batch) => {
                for bytes in batch.iter() {
                    tally.update(bytes);
                }
                None
            }
            HashJob::Finish => Some(std::mem::take(&mut tally)),
        }) else {
            return;
        };
        let (cipher, aad) = (self.cipher.clone(), self.aad.clone());
        let Some(sealer) = Worker::start("portal-seal", move |(position, plain, last): SealJob| {
            seal_batch(&cipher, &aad, position, &plain, last)
        }) else {
            return;
        };
        self.sealer = Some(sealer);
        self.hasher = Hasher::Thread(hasher);
        self.slot = Some(slot);
    }

    /// Hands out the next batch: all of `pending` if `last`, else its first [`BATCH`]
    /// bytes (more follow, so none of its chunks is the last).
    fn dispatch(&mut self, last: bool) -> Result<()> {
        let mut plain = Vec::with_capacity(self.pending.len());
        let mut len = 0;
        while let Some(mut piece) = self.pending.pop_front() {
            if !last && len + piece.len() > BATCH {
                // The batch ends inside this piece: the rest of it stays (no copy).
                let rest = piece.split_off(BATCH - len);
                self.pending.push_front(rest);
            }
            len += piece.len();
            plain.push(piece);
            if !last && len == BATCH {
                break;
            }
        }
        self.pending_len -= len;
        let plain: Batch = Arc::from(plain);
        let chunks =
            u32::try_from(len.div_ceil(CHUNK).max(1)).map_err(|_| too_large_to_encrypt())?;
        let position = self.position;
        self.position = position
            .checked_add(chunks)
            .ok_or_else(too_large_to_encrypt)?;
        if !last {
            self.start_workers();
        }
        match &mut self.hasher {
            Hasher::Here(tally) => {
                for bytes in plain.iter() {
                    tally.update(bytes);
                }
            }
            Hasher::Thread(worker) => self
                .hashed
                .push_back(worker.run(HashJob::Add(plain.clone()))),
        }
        let sealed = match &self.sealer {
            Some(worker) => worker.run((position, plain, last)),
            None => worker::ready(seal_batch(&self.cipher, &self.aad, position, &plain, last)),
        };
        self.sealed.push_back(sealed);
        Ok(())
    }
}

impl Stream for Sealing {
    type Item = Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(header) = this.header.take() {
            return Poll::Ready(Some(Ok(header)));
        }
        loop {
            // The oldest sealed batch, as soon as it is ready: the store writes it
            // while the next ones are sealed.
            if let Some(front) = this.sealed.front_mut()
                && let Poll::Ready(answer) = Pin::new(front).poll(cx)
            {
                this.sealed.pop_front();
                return match answer {
                    Ok(Ok(bytes)) => Poll::Ready(Some(Ok(bytes))),
                    Ok(Err(e)) => this.fail(e),
                    Err(_) => this.fail(worker_stopped()),
                };
            }
            while let Some(front) = this.hashed.front_mut() {
                match Pin::new(front).poll(cx) {
                    Poll::Ready(Ok(_)) => {
                        this.hashed.pop_front();
                    }
                    Poll::Ready(Err(_)) => return this.fail(worker_stopped()),
                    Poll::Pending => break,
                }
            }
            if !this.input_done {
                if this.sealed.len() >= IN_FLIGHT || this.hashed.len() >= IN_FLIGHT {
                    // Full: the oldest answers' wakers were registered above.
                    return Poll::Pending;
                }
                match this.input.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(bytes))) => {
                        if !bytes.is_empty() {
                            this.pending_len += bytes.len();
                            this.pending.push_back(bytes);
                        }
                        // A full batch goes out only once a byte after it shows that
                        // it does not hold the last chunk.
                        while this.pending_len > BATCH {
                            if let Err(e) = this.dispatch(false) {
                                return this.fail(e);
                            }
                        }
                    }
                    Poll::Ready(Some(Err(e))) => return this.fail(e),
                    Poll::Ready(None) => {
                        this.input_done = true;
                        if let Err(e) = this.dispatch(true) {
                            return this.fail(e);
                        }
                        if let Hasher::Thread(worker) = &this.hasher {
                            this.finishing = Some(worker.run(HashJob::Finish));
                        }
                    }
                    Poll::Pending => return Poll::Pending,
                }
                continue;
            }
            if !this.sealed.is_empty() {
                return Poll::Pending;
            }
            // Everything sealed and handed on: the tally is complete before the
            // stream ends, so whoever drained it reads the whole file's.
            let total = if let Some(finishing) = this.finishing.as_mut() {
                match Pin::new(finishing).poll(cx) {
                    Poll::Ready(Ok(Some(total))) => total,
                    Poll::Ready(_) => return this.fail(worker_stopped()),
                    Poll::Pending => return Poll::Pending,
                }
            } else if let Hasher::Here(tally) = &mut this.hasher {
                std::mem::take(tally)
            } else {
                return this.fail(worker_stopped());
            };
            let stored = this.tally.lock().map(|mut shared| *shared = total).is_ok();
            if !stored {
                return this.fail(Error::storage_msg("a file tally was poisoned"));
            }
            this.done = true;
            this.sealer = None;
            return Poll::Ready(None);
        }
    }
}

fn integrity(what: impl Into<String>) -> Error {
    Error::Integrity {
        message: what.into(),
    }
}

/// Decrypts a blob in the stored layout. Any tampering, truncation, reordering, wrong
/// key or wrong binding ends the stream with `Error::Integrity`, before the bytes of
/// the failing chunk are released.
pub fn decrypt(stored: ByteStream, key: &DataKey, aad: Vec<u8>) -> ByteStream {
    struct St {
        input: ByteStream,
        aead: Aes256GcmSiv,
        cipher: Option<Cipher>,
        aad: Vec<u8>,
        pending: BytesMut,
        position: u32,
        eof: bool,
    }
    let st = St {
        input: stored,
        aead: aead(key),
        cipher: None,
        aad,
        pending: BytesMut::new(),
        position: 0,
        eof: false,
    };
    const SEALED: usize = CHUNK + TAG;
    Box::pin(futures_util::stream::unfold(Some(st), |st| async move {
        let mut st = st?;
        loop {
            if st.cipher.is_none() && st.pending.len() >= HEADER {
                let header = st.pending.split_to(HEADER);
                if &header[..MAGIC.len()] != MAGIC {
                    return Some((Err(integrity("not an encrypted file (bad header)")), None));
                }
                let mut prefix = [0u8; PREFIX];
                prefix.copy_from_slice(&header[MAGIC.len()..]);
                st.cipher = Some(Cipher::from_aead(st.aead.clone(), &prefix.into()));
            }
            if let Some(c) = &st.cipher {
                let last = st.eof;
                if st.pending.len() > SEALED || (last && st.pending.len() >= TAG) {
                    let take = st.pending.len().min(SEALED);
                    let mut buf = st.pending.split_to(take).to_vec();
                    // At the end, only the final sealed chunk is opened as the last.
                    let is_last = last && st.pending.is_empty();
                    let opened = c.decrypt_in_place(st.position, is_last, &st.aad, &mut buf);
                    if opened.is_err() {
                        let chunk = st.position;
                        return Some((
                            Err(integrity(format!(
                                "file content failed its integrity check at chunk {chunk}"
                            ))),
                            None,
                        ));
                    }
                    st.position += 1;
                    let next = if is_last { None } else { Some(st) };
                    return Some((Ok(Bytes::from(buf)), next));
                }
            }
            if st.eof {
                return Some((Err(integrity("file content is truncated")), None));
            }
            match st.input.next().await {
                Some(Ok(bytes)) => st.pending.extend_from_slice(&bytes),
                Some(Err(e)) => return Some((Err(e), None)),
                None => st.eof = true,
            }
        }
    }))
}

/// Seals files into a [`BlobStore`] and opens them again: envelope encryption with
/// keys from a [`KeyProvider`], limits enforced while streaming.
#[derive(Clone)]
pub struct FileVault {
    blobs: Arc<dyn BlobStore>,
    keys: Arc<dyn KeyProvider>,
    random: Arc<dyn RandomSource>,
}

impl std::fmt::Debug for FileVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileVault")
            .field("active_key", &self.keys.active_key_id())
            .finish_non_exhaustive()
    }
}

impl FileVault {
    /// A vault over `blobs`, with keys from `keys`.
    pub fn new(
        blobs: Arc<dyn BlobStore>,
        keys: Arc<dyn KeyProvider>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            blobs,
            keys,
            random,
        }
    }

    /// The keyring it wraps data keys with (credential fields are sealed under it too).
    pub fn keys(&self) -> &Arc<dyn KeyProvider> {
        &self.keys
    }

    /// The blob store underneath.
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.blobs
    }

    /// The key new files are wrapped under (rotation moves every file to it).
    pub fn active_key_id(&self) -> KeyId {
        self.keys.active_key_id()
    }

    /// Encrypts `content` into the blob `binding.blob`. More than `max_bytes` of
    /// plaintext is `Error::TooLarge`, and then, as for any failure, nothing is kept.
    pub async fn seal(
        &self,
        binding: &FileBinding,
        content: ByteStream,
        max_bytes: u64,
    ) -> Result<SealedFile> {
        let aad = binding.aad();
        let key = DataKey::generate(self.random.as_ref());
        let wrapped = self.keys.wrap(&key, &aad).await?;
        let mut prefix = [0u8; PREFIX];
        self.random.fill(&mut prefix);
        let tally = Arc::new(Mutex::new(Tally::new()));
        let sealed = encrypt(
            limited(content, max_bytes),
            &key,
            prefix,
            aad,
            tally.clone(),
        );
        let stored = self.blobs.put(binding.blob, sealed).await?;
        let plain = tally
            .lock()
            .map_err(|_| Error::storage_msg("a file tally was poisoned"))?
            .clone()
            .finish();
        Ok(SealedFile {
            blob: binding.blob,
            key: wrapped,
            size: plain.size,
            sha256: plain.sha256,
            stored,
        })
    }

    /// Streams the plaintext of a sealed file.
    pub async fn open(&self, binding: &FileBinding, key: &WrappedKey) -> Result<ByteStream> {
        let aad = binding.aad();
        let key = self.keys.unwrap(key, &aad).await?;
        let stored = self.blobs.get(binding.blob).await?;
        Ok(decrypt(stored, &key, aad))
    }

    /// Re-wraps a file's data key under the active key (`None` if it already is):
    /// key rotation touches the wrapped key only, never the content.
    pub async fn rewrap(
        &self,
        binding: &FileBinding,
        key: &WrappedKey,
    ) -> Result<Option<WrappedKey>> {
        self.keys.rewrap(key, &binding.aad()).await
    }
}

#[cfg(test)]
mod tests {
    use aes_gcm_siv::Nonce;
    use aes_gcm_siv::aead::{Aead, Payload};

    use super::*;
    use crate::blob::keyring::{KeyId, Keyring};
    use crate::blob::{read_all, stream_of};
    use crate::memory::MemoryBlobStore;
    use crate::random::SeededRandom;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8452, appendix C.2 (AEAD_AES_256_GCM_SIV): key 01 00…, nonce 03 00…, no AAD.
    #[test]
    fn aes_256_gcm_siv_known_answers() {
        let vectors = [
            ("", "07f5f4169bbf55a8400cd47ea6fd400f"),
            (
                "0100000000000000",
                "c2ef328e5c71c83b843122130f7364b761e0b97427e3df28",
            ),
            (
                "010000000000000000000000",
                "9aab2aeb3faa0a34aea8e2b18ca50da9ae6559e48fd10f6e5c9ca17e",
            ),
            (
                "01000000000000000000000000000000",
                "85a01b63025ba19b7fd3ddfc033b3e76c9eac6fa700942702e90862383c6c366",
            ),
            (
                "0100000000000000000000000000000002000000000000000000000000000000",
                "4a6a9db4c8c6549201b9edb53006cba821ec9cf850948a7c86c68ac7539d027fe819e63abcd020b006a976397632eb5d",
            ),
        ];
        let mut key = [0u8; 32];
        key[0] = 1;
        let mut nonce = [0u8; 12];
        nonce[0] = 3;
        let aead = Aes256GcmSiv::new(&Key::<Aes256GcmSiv>::from(key));
        for (plain, expected) in vectors {
            let plain = unhex(plain);
            let sealed = aead
                .encrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: &plain,
                        aad: b"",
                    },
                )
                .unwrap();
            assert_eq!(sealed, unhex(expected));
            let opened = aead
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: &sealed,
                        aad: b"",
                    },
                )
                .unwrap();
            assert_eq!(opened, plain);
        }
    }

    fn binding(seed: u64) -> FileBinding {
        let rng = SeededRandom::new(seed);
        FileBinding {
            tenant: TenantId::random(&rng),
            portal: PortalId::random(&rng),
            task: Some(TaskId::random(&rng)),
            blob: BlobId::random(&rng),
        }
    }

    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    /// The content in uneven pieces, as a network delivers it.
    fn pieces(data: &[u8]) -> ByteStream {
        let sizes = [1usize, 7000, 65_535, 3, 100_000];
        let mut out = Vec::new();
        let mut at = 0;
        let mut i = 0;
        while at < data.len() {
            let n = sizes[i % sizes.len()].min(data.len() - at);
            out.push(Bytes::copy_from_slice(&data[at..at + n]));
            at += n;
            i += 1;
        }
        stream_of(out)
    }

    fn vault() -> (FileVault, Arc<MemoryBlobStore>) {
        let blobs = Arc::new(MemoryBlobStore::new());
        let random: Arc<dyn RandomSource> = Arc::new(SeededRandom::new(11));
        let keys = Arc::new(Keyring::generate(
            KeyId::parse("k1").unwrap(),
            random.clone(),
        ));
        (FileVault::new(blobs.clone(), keys, random), blobs)
    }

    async fn stored(blobs: &MemoryBlobStore, id: BlobId) -> Vec<u8> {
        read_all(blobs.get(id).await.unwrap(), u64::MAX)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn every_size_round_trips_and_is_stored_encrypted() {
        let (vault, blobs) = vault();
        // Up to one batch is sealed in line; beyond, by the file's own threads.
        for (i, len) in [
            0,
            1,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            3 * CHUNK + 17,
            BATCH,
            BATCH + 1,
            2 * BATCH + CHUNK + 5,
        ]
        .into_iter()
        .enumerate()
        {
            let b = binding(i as u64);
            let data = content(len);
            let sealed = vault.seal(&b, pieces(&data), 10 << 20).await.unwrap();
            assert_eq!(sealed.size, len as u64);
            let mut t = Tally::new();
            t.update(&data);
            assert_eq!(sealed.sha256, t.finish().sha256);
            let chunks = len.div_ceil(CHUNK).max(1);
            assert_eq!(
                sealed.stored.size,
                (HEADER + len + chunks * TAG) as u64,
                "len {len}"
            );
            let raw = stored(&blobs, b.blob).await;
            if len >= 64 {
                assert!(
                    !raw.windows(64).any(|w| w == &data[..64]),
                    "plaintext visible in the blob (len {len})"
                );
            }
            let back = read_all(vault.open(&b, &sealed.key).await.unwrap(), u64::MAX)
                .await
                .unwrap();
            assert_eq!(back, data, "len {len}");
        }
    }

    /// What sealing chunk by chunk, with aead-stream directly, stores for `data`.
    fn sealed_one_chunk_at_a_time(data: &[u8], key: &DataKey, prefix: [u8; PREFIX]) -> Vec<u8> {
        let c = cipher(key, &prefix);
        let mut out = [&MAGIC[..], &prefix[..]].concat();
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![&[]]
        } else {
            data.chunks(CHUNK).collect()
        };
        for (i, chunk) in chunks.iter().enumerate() {
            let mut buf = chunk.to_vec();
            c.encrypt_in_place(i as u32, i + 1 == chunks.len(), b"aad", &mut buf)
                .unwrap();
            out.extend_from_slice(&buf);
        }
        out
    }

    #[tokio::test]
    async fn batches_store_exactly_what_sealing_chunk_by_chunk_stores() {
        let key = DataKey::generate(&SeededRandom::new(3));
        let prefix = *b"prefix7";
        for len in [
            0,
            CHUNK,
            BATCH - 1,
            BATCH,
            BATCH + 1,
            2 * BATCH,
            2 * BATCH + CHUNK + 17,
            5 * BATCH + 3,
        ] {
            let data = content(len);
            let want = sealed_one_chunk_at_a_time(&data, &key, prefix);
            // In network-sized pieces, and in one piece of several batches.
            for input in [pieces(&data), stream_of(vec![Bytes::from(data.clone())])] {
                let tally = Arc::new(Mutex::new(Tally::new()));
                let got = read_all(
                    encrypt(input, &key, prefix, b"aad".to_vec(), tally.clone()),
                    u64::MAX,
                )
                .await
                .unwrap();
                assert!(got == want, "len {len}: not the chunk-by-chunk layout");
                let mut reference = Tally::new();
                reference.update(&data);
                assert_eq!(
                    tally.lock().unwrap().clone().finish(),
                    reference.finish(),
                    "len {len}: the plaintext tally"
                );
            }
        }
    }

    #[tokio::test]
    async fn a_source_error_after_several_batches_ends_the_stream_with_it() {
        let key = DataKey::generate(&SeededRandom::new(4));
        let data = content(3 * BATCH + 10);
        let failing: ByteStream = Box::pin(
            futures_util::stream::iter(
                data.chunks(100_000)
                    .map(|c| Ok(Bytes::copy_from_slice(c)))
                    .collect::<Vec<_>>(),
            )
            .chain(futures_util::stream::iter([Err(Error::TooLarge {
                max_bytes: 9,
            })])),
        );
        let tally = Arc::new(Mutex::new(Tally::new()));
        let mut sealed = encrypt(failing, &key, *b"prefix7", b"aad".to_vec(), tally);
        let mut items = Vec::new();
        while let Some(item) = sealed.next().await {
            items.push(item);
        }
        assert!(
            matches!(items.last(), Some(Err(Error::TooLarge { max_bytes: 9 }))),
            "the source's error, last"
        );
        assert!(items[..items.len() - 1].iter().all(Result::is_ok));
        // Never a last chunk before the error: what came out cannot pass for a whole file.
        let stored: usize = items.iter().flatten().map(Bytes::len).sum();
        assert!(stored < HEADER + data.len(), "{stored}");
    }

    #[tokio::test]
    async fn over_the_limit_is_refused_and_nothing_is_kept() {
        let (vault, blobs) = vault();
        let b = binding(1);
        let err = vault
            .seal(&b, pieces(&content(1001)), 1000)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::TooLarge { max_bytes: 1000 }),
            "{err:?}"
        );
        assert!(blobs.is_empty());
        assert!(matches!(
            blobs.get(b.blob).await,
            Err(Error::NotFound {
                entity: crate::Entity::Blob
            })
        ));
        // Exactly the limit is fine.
        vault.seal(&b, pieces(&content(1000)), 1000).await.unwrap();
    }

    /// Opens `raw` (a tampered blob) as the file `b` with `sealed`'s key.
    async fn open_raw(
        vault: &FileVault,
        b: &FileBinding,
        key: &WrappedKey,
        raw: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let other = binding(999);
        let blob = FileBinding {
            blob: other.blob,
            ..*b
        };
        vault
            .blobs()
            .put(blob.blob, stream_of(vec![Bytes::from(raw)]))
            .await?;
        // The key is bound to `b`'s blob id: unwrap with `b`, decrypt the tampered bytes.
        let data_key = vault.keys.unwrap(key, &b.aad()).await?;
        let opened = decrypt(vault.blobs().get(blob.blob).await?, &data_key, b.aad());
        let out = read_all(opened, u64::MAX).await;
        vault.blobs().delete(blob.blob).await?;
        out
    }

    fn integrity_failed(r: Result<Vec<u8>>) -> bool {
        matches!(r, Err(Error::Integrity { .. }))
    }

    #[tokio::test]
    async fn tampering_fails_to_open() {
        let (vault, blobs) = vault();
        let b = binding(5);
        let data = content(3 * CHUNK + 100);
        let sealed = vault.seal(&b, pieces(&data), 10 << 20).await.unwrap();
        let raw = stored(&blobs, b.blob).await;
        let sealed_len = CHUNK + TAG;
        let chunk =
            |i: usize| HEADER + i * sealed_len..(HEADER + (i + 1) * sealed_len).min(raw.len());

        // Untouched, through the same path: opens.
        assert_eq!(
            open_raw(&vault, &b, &sealed.key, raw.clone())
                .await
                .unwrap(),
            data
        );
        // A flipped bit.
        let mut flipped = raw.clone();
        flipped[HEADER + 5000] ^= 0x10;
        assert!(integrity_failed(
            open_raw(&vault, &b, &sealed.key, flipped).await
        ));
        // Truncated at a chunk boundary (the new last chunk was not sealed as last).
        let cut = raw[..chunk(2).end].to_vec();
        assert!(integrity_failed(
            open_raw(&vault, &b, &sealed.key, cut).await
        ));
        // Truncated inside a chunk, and inside the header.
        assert!(integrity_failed(
            open_raw(&vault, &b, &sealed.key, raw[..raw.len() - 1].to_vec()).await
        ));
        assert!(integrity_failed(
            open_raw(&vault, &b, &sealed.key, raw[..5].to_vec()).await
        ));
        // Two chunks swapped.
        let mut swapped = raw[..HEADER].to_vec();
        swapped.extend_from_slice(&raw[chunk(1)]);
        swapped.extend_from_slice(&raw[chunk(0)]);
        swapped.extend_from_slice(&raw[chunk(2).start..]);
        assert!(integrity_failed(
            open_raw(&vault, &b, &sealed.key, swapped).await
        ));
        // A chunk of another file sealed with the same key material is not accepted.
        let b2 = binding(6);
        let sealed2 = vault.seal(&b2, pieces(&data), 10 << 20).await.unwrap();
        let raw2 = stored(&blobs, b2.blob).await;
        let mut mixed = raw[..chunk(0).end].to_vec();
        mixed.extend_from_slice(&raw2[chunk(1)]);
        mixed.extend_from_slice(&raw[chunk(2).start..]);
        assert!(integrity_failed(
            open_raw(&vault, &b, &sealed.key, mixed).await
        ));
        // The other file's wrapped key does not unwrap for this file (binding).
        assert!(matches!(
            vault.open(&b, &sealed2.key).await.map(|_| ()),
            Err(Error::Integrity { .. })
        ));
        // The right key, the wrong binding (another task): the content does not open.
        let data_key = vault.keys.unwrap(&sealed.key, &b.aad()).await.unwrap();
        let moved = FileBinding { task: None, ..b };
        let opened = decrypt(blobs.get(b.blob).await.unwrap(), &data_key, moved.aad());
        assert!(integrity_failed(read_all(opened, u64::MAX).await));
        // A wrong data key.
        let wrong = DataKey::generate(&SeededRandom::new(77));
        let opened = decrypt(blobs.get(b.blob).await.unwrap(), &wrong, b.aad());
        assert!(integrity_failed(read_all(opened, u64::MAX).await));
    }

    #[tokio::test]
    async fn rotation_rewraps_keys_and_leaves_content_alone() {
        let blobs = Arc::new(MemoryBlobStore::new());
        let random: Arc<dyn RandomSource> = Arc::new(SeededRandom::new(12));
        let b = binding(8);
        let data = content(CHUNK + 5);
        let mut keys = Keyring::generate(KeyId::parse("k1").unwrap(), random.clone());
        let before = {
            let vault = FileVault::new(blobs.clone(), Arc::new(clone_ring(&keys)), random.clone());
            vault.seal(&b, pieces(&data), 1 << 20).await.unwrap()
        };
        let raw_before = stored(&blobs, b.blob).await;
        keys.rotate(KeyId::parse("k2").unwrap()).unwrap();
        let vault = FileVault::new(blobs.clone(), Arc::new(clone_ring(&keys)), random.clone());
        let rewrapped = vault.rewrap(&b, &before.key).await.unwrap().unwrap();
        assert_eq!(rewrapped.key_id.as_str(), "k2");
        assert_eq!(vault.rewrap(&b, &rewrapped).await.unwrap(), None);
        assert_eq!(
            stored(&blobs, b.blob).await,
            raw_before,
            "content untouched"
        );
        for key in [&before.key, &rewrapped] {
            let back = read_all(vault.open(&b, key).await.unwrap(), u64::MAX)
                .await
                .unwrap();
            assert_eq!(back, data);
        }
    }

    /// A copy of a keyring through its key file text (keyrings are not `Clone`, on purpose).
    fn clone_ring(ring: &Keyring) -> Keyring {
        let dir = std::env::temp_dir().join(format!(
            "portal-ring-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys");
        ring.save(&path).unwrap();
        let copy = Keyring::load(&path, Arc::new(SeededRandom::new(13))).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        copy
    }
}
