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

use std::sync::{Arc, Mutex};

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use aes_gcm_siv::aead::KeyInit;
use aes_gcm_siv::{Aes256GcmSiv, Key};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use super::keyring::{DataKey, KeyId, KeyProvider, WrappedKey};
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

/// Encrypts `content` into the stored layout, tallying the plaintext into `tally`.
pub fn encrypt(
    content: ByteStream,
    key: &DataKey,
    prefix: [u8; PREFIX],
    aad: Vec<u8>,
    tally: Arc<Mutex<Tally>>,
) -> ByteStream {
    struct St {
        input: ByteStream,
        cipher: Cipher,
        aad: Vec<u8>,
        tally: Arc<Mutex<Tally>>,
        pending: BytesMut,
        position: u32,
        header: Option<Bytes>,
    }
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&prefix);
    let st = St {
        input: content,
        cipher: cipher(key, &prefix),
        aad,
        tally,
        pending: BytesMut::new(),
        position: 0,
        header: Some(Bytes::from(header)),
    };
    let seal = |st: &St, plain: &[u8], last: bool| -> Result<Bytes> {
        let mut buf = Vec::with_capacity(plain.len() + TAG);
        buf.extend_from_slice(plain);
        st.cipher
            .encrypt_in_place(st.position, last, &st.aad, &mut buf)
            .map_err(|_| Error::storage_msg("a file is too large to encrypt"))?;
        Ok(Bytes::from(buf))
    };
    Box::pin(futures_util::stream::unfold(
        Some(st),
        move |st| async move {
            let mut st = st?;
            if let Some(header) = st.header.take() {
                return Some((Ok(header), Some(st)));
            }
            loop {
                // A full chunk is sealed only once a byte after it shows it isn't the last.
                if st.pending.len() > CHUNK {
                    let plain = st.pending.split_to(CHUNK);
                    let sealed = seal(&st, &plain, false);
                    st.position += 1;
                    return Some((sealed, Some(st)));
                }
                match st.input.next().await {
                    Some(Ok(bytes)) => {
                        if let Ok(mut t) = st.tally.lock() {
                            t.update(&bytes);
                        }
                        st.pending.extend_from_slice(&bytes);
                    }
                    Some(Err(e)) => return Some((Err(e), None)),
                    None => {
                        let plain = std::mem::take(&mut st.pending);
                        return Some((seal(&st, &plain, true), None));
                    }
                }
            }
        },
    ))
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
        for (i, len) in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17]
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
