//! Keys: every file's random data key is stored *wrapped* (encrypted) by a
//! key-encryption key (KEK) of a keyring. The [`KeyProvider`] seam lets a host keep
//! its KEKs in a KMS instead; [`Keyring`] is the local implementation (a key file).
//!
//! Rotation adds a KEK and makes it active: new files are wrapped under it, older
//! wrapped keys still unwrap under their own key id, and re-wrapping a data key
//! ([`KeyProvider::rewrap`]) touches a few dozen bytes, never the file's content.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use zeroize::Zeroizing;

use crate::error::{Entity, Error, Result};
use crate::random::RandomSource;

/// The name of a key-encryption key: 1 to 32 characters of `A-Z a-z 0-9 - _`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Checks the shape of a key id.
    pub fn parse(raw: &str) -> Result<Self> {
        let ok = (1..=32).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::invalid(
                "key id",
                "must be 1 to 32 letters, digits, '-' or '_'",
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file's 256-bit data key, in clear: only ever in memory, zeroized on drop,
/// never printed.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A fresh random key.
    pub fn generate(rng: &dyn RandomSource) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rng.fill(key.as_mut());
        Self(key)
    }

    /// The key bytes, for the cipher.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([redacted])")
    }
}

/// A data key encrypted under a KEK: safe to store beside the file's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The KEK that wrapped it.
    pub key_id: KeyId,
    /// Provider-specific bytes (for [`Keyring`]: 12-byte nonce, then the
    /// AES-256-GCM-SIV ciphertext of the data key with its tag).
    pub bytes: Vec<u8>,
}

/// Wraps and unwraps data keys. `aad` binds a wrapped key to the file it belongs to:
/// a wrapped key copied to another file's record does not unwrap there.
#[async_trait]
pub trait KeyProvider: Send + Sync + 'static {
    /// Wraps `key` under the active KEK.
    async fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<WrappedKey>;
    /// Unwraps a key wrapped under any KEK this provider still has. An unknown key id
    /// is `NotFound(Key)`; a wrong `aad` or tampered bytes are `Integrity`.
    async fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<DataKey>;
    /// The KEK new keys are wrapped under.
    fn active_key_id(&self) -> KeyId;

    /// Re-wraps `wrapped` under the active KEK, or `None` if it already is.
    async fn rewrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<Option<WrappedKey>> {
        if wrapped.key_id == self.active_key_id() {
            return Ok(None);
        }
        let key = self.unwrap(wrapped, aad).await?;
        self.wrap(&key, aad).await.map(Some)
    }
}

/// The local keyring: KEKs in memory, loaded from and saved to a key file.
pub struct Keyring {
    keys: BTreeMap<KeyId, Zeroizing<[u8; 32]>>,
    active: KeyId,
    random: std::sync::Arc<dyn RandomSource>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

const FILE_HEADER: &str = "portal-keyring v1";

impl Keyring {
    /// A keyring with one new random key, active.
    pub fn generate(id: KeyId, random: std::sync::Arc<dyn RandomSource>) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        random.fill(key.as_mut());
        Self {
            keys: BTreeMap::from([(id.clone(), key)]),
            active: id,
            random,
        }
    }

    /// Adds a new random key and makes it active (key rotation). Existing keys stay,
    /// so files wrapped under them remain readable until re-wrapped.
    pub fn rotate(&mut self, id: KeyId) -> Result<()> {
        if self.keys.contains_key(&id) {
            return Err(Error::conflict(format!(
                "the keyring already has a key {id}"
            )));
        }
        let mut key = Zeroizing::new([0u8; 32]);
        self.random.fill(key.as_mut());
        self.keys.insert(id.clone(), key);
        self.active = id;
        Ok(())
    }

    /// The ids of every key, sorted.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.keys().cloned().collect()
    }

    /// The keyring as the text of a key file (keys in base64). Secret: write it
    /// owner-only, as [`Keyring::save`] does.
    fn to_file_text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(format!("{FILE_HEADER}\nactive {}\n", self.active));
        for (id, key) in &self.keys {
            let encoded = Zeroizing::new(STANDARD_NO_PAD.encode(key.as_ref()));
            out.push_str(&format!("key {id} {}\n", encoded.as_str()));
        }
        out
    }

    fn from_file_text(text: &str, random: std::sync::Arc<dyn RandomSource>) -> Result<Self> {
        let bad = |why: &str| Error::invalid("key file", why.to_owned());
        let mut lines = text.lines();
        if lines.next() != Some(FILE_HEADER) {
            return Err(bad("it does not start with \"portal-keyring v1\""));
        }
        let mut active = None;
        let mut keys = BTreeMap::new();
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["active", id] => active = Some(KeyId::parse(id)?),
                ["key", id, b64] => {
                    let bytes = Zeroizing::new(
                        STANDARD_NO_PAD
                            .decode(b64)
                            .map_err(|_| bad("a key is not valid base64"))?,
                    );
                    let key: [u8; 32] = bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| bad("a key is not 32 bytes"))?;
                    if keys
                        .insert(KeyId::parse(id)?, Zeroizing::new(key))
                        .is_some()
                    {
                        return Err(bad("a key id appears twice"));
                    }
                }
                _ => return Err(bad("a line is neither \"active ID\" nor \"key ID BASE64\"")),
            }
        }
        let active = active.ok_or_else(|| bad("no \"active\" line"))?;
        if !keys.contains_key(&active) {
            return Err(bad("the active key is not in the file"));
        }
        Ok(Self {
            keys,
            active,
            random,
        })
    }

    /// Reads a key file written by [`Keyring::save`].
    pub fn load(path: &Path, random: std::sync::Arc<dyn RandomSource>) -> Result<Self> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            Error::storage(format!("cannot read the key file {}", path.display()), e)
        })?);
        Self::from_file_text(&text, random)
    }

    /// Writes the key file owner-only (0600 on Unix), replacing it atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        let text = self.to_file_text();
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write()
            .map_err(|e| Error::storage(format!("cannot write the key file {}", path.display()), e))
    }

    /// Loads the key file at `path`, or creates one with a new key `k1` if there is
    /// none. Returns the keyring and whether it was created.
    pub fn open_or_create(
        path: &Path,
        random: std::sync::Arc<dyn RandomSource>,
    ) -> Result<(Self, bool)> {
        if path.exists() {
            return Self::load(path, random).map(|k| (k, false));
        }
        let ring = Self::generate(KeyId::parse("k1")?, random);
        ring.save(path)?;
        Ok((ring, true))
    }

    fn cipher(&self, id: &KeyId) -> Result<Aes256GcmSiv> {
        let key = self.keys.get(id).ok_or(Error::not_found(Entity::Key))?;
        Aes256GcmSiv::new_from_slice(key.as_ref())
            .map_err(|_| Error::storage_msg("a keyring key has the wrong length"))
    }
}

/// What a KEK authenticates besides the data key: the key id and the caller's binding.
fn wrap_aad(key_id: &KeyId, aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key_id.as_str().len() + 1 + aad.len());
    out.extend_from_slice(key_id.as_str().as_bytes());
    out.push(0);
    out.extend_from_slice(aad);
    out
}

#[async_trait]
impl KeyProvider for Keyring {
    async fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<WrappedKey> {
        let cipher = self.cipher(&self.active)?;
        let mut nonce = [0u8; 12];
        self.random.fill(&mut nonce);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: key.expose_secret(),
                    aad: &wrap_aad(&self.active, aad),
                },
            )
            .map_err(|_| Error::storage_msg("wrapping a data key failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(WrappedKey {
            key_id: self.active.clone(),
            bytes,
        })
    }

    async fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<DataKey> {
        let cipher = self.cipher(&wrapped.key_id)?;
        let integrity = || Error::Integrity {
            message: format!("a data key did not unwrap under key {}", wrapped.key_id),
        };
        let (nonce, sealed) = wrapped
            .bytes
            .split_first_chunk::<12>()
            .ok_or_else(integrity)?;
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    &Nonce::from(*nonce),
                    Payload {
                        msg: sealed,
                        aad: &wrap_aad(&wrapped.key_id, aad),
                    },
                )
                .map_err(|_| integrity())?,
        );
        let key: [u8; 32] = plain.as_slice().try_into().map_err(|_| integrity())?;
        Ok(DataKey(Zeroizing::new(key)))
    }

    fn active_key_id(&self) -> KeyId {
        self.active.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::random::SeededRandom;

    fn ring() -> Keyring {
        Keyring::generate(KeyId::parse("k1").unwrap(), Arc::new(SeededRandom::new(7)))
    }

    #[tokio::test]
    async fn wrapped_keys_unwrap_only_with_their_binding() {
        let ring = ring();
        let key = DataKey::generate(&SeededRandom::new(1));
        let wrapped = ring.wrap(&key, b"file-a").await.unwrap();
        assert_eq!(wrapped.key_id.as_str(), "k1");
        assert_eq!(wrapped.bytes.len(), 12 + 32 + 16);
        let back = ring.unwrap(&wrapped, b"file-a").await.unwrap();
        assert_eq!(back.expose_secret(), key.expose_secret());
        assert!(matches!(
            ring.unwrap(&wrapped, b"file-b").await,
            Err(Error::Integrity { .. })
        ));
        let mut flipped = wrapped.clone();
        flipped.bytes[20] ^= 1;
        assert!(matches!(
            ring.unwrap(&flipped, b"file-a").await,
            Err(Error::Integrity { .. })
        ));
        let unknown = WrappedKey {
            key_id: KeyId::parse("k9").unwrap(),
            ..wrapped
        };
        assert!(matches!(
            ring.unwrap(&unknown, b"file-a").await,
            Err(Error::NotFound {
                entity: Entity::Key
            })
        ));
    }

    #[tokio::test]
    async fn rotation_keeps_old_keys_readable_and_rewraps() {
        let mut ring = ring();
        let key = DataKey::generate(&SeededRandom::new(2));
        let old = ring.wrap(&key, b"f").await.unwrap();
        ring.rotate(KeyId::parse("k2").unwrap()).unwrap();
        assert!(matches!(
            ring.rotate(KeyId::parse("k2").unwrap()),
            Err(Error::Conflict { .. })
        ));
        assert_eq!(ring.active_key_id().as_str(), "k2");
        let new = ring.rewrap(&old, b"f").await.unwrap().unwrap();
        assert_eq!(new.key_id.as_str(), "k2");
        assert_eq!(ring.rewrap(&new, b"f").await.unwrap(), None);
        for w in [&old, &new] {
            let k = ring.unwrap(w, b"f").await.unwrap();
            assert_eq!(k.expose_secret(), key.expose_secret());
        }
    }

    #[test]
    fn key_file_round_trips_and_is_owner_only() {
        let dir = std::env::temp_dir().join(format!(
            "portal-keyring-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys");
        let random: Arc<dyn RandomSource> = Arc::new(SeededRandom::new(3));
        let (mut ring, created) = Keyring::open_or_create(&path, random.clone()).unwrap();
        assert!(created);
        ring.rotate(KeyId::parse("k2").unwrap()).unwrap();
        ring.save(&path).unwrap();
        let (again, created) = Keyring::open_or_create(&path, random.clone()).unwrap();
        assert!(!created);
        assert_eq!(again.key_ids(), ring.key_ids());
        assert_eq!(again.active_key_id(), ring.active_key_id());
        assert_eq!(*again.to_file_text(), *ring.to_file_text());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // Debug never shows key material.
        let debug = format!("{again:?}");
        assert!(debug.contains("k2") && !debug.contains(&again.to_file_text()[40..60]));
        for broken in [
            "nope\n",
            "portal-keyring v1\nkey k1 AAAA\n",
            "portal-keyring v1\nactive k1\n",
            "portal-keyring v1\nactive k1\nkey k1 !!!\n",
        ] {
            assert!(matches!(
                Keyring::from_file_text(broken, random.clone()),
                Err(Error::Invalid {
                    field: "key file",
                    ..
                })
            ));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
