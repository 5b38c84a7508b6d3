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

    /// A data key from its 32 bytes, as a [`KeyProvider`] of the host's (a KMS
    /// client, say) gets them back from unwrapping. The bytes are copied into memory
    /// that is wiped on drop; wiping `bytes` is the caller's part. Any other length is
    /// `Integrity`: a wrapped key that unwraps to the wrong length was not a data key.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() != key.len() {
            return Err(Error::Integrity {
                message: format!("a data key has {} bytes, not 32", bytes.len()),
            });
        }
        key.copy_from_slice(bytes);
        Ok(Self(key))
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
///
/// [`Keyring`] keeps its KEKs in a local key file. A host with a KMS implements this
/// trait instead, so the KEKs never leave the KMS and the portal only ever holds one
/// file's data key at a time. A sketch (the `Kms` client stands for the host's own):
///
/// ```no_run
/// use async_trait::async_trait;
/// use portal_core::blob::keyring::{DataKey, KeyId, KeyProvider, WrappedKey};
/// use portal_core::{Error, Result};
/// # struct Kms;
/// # impl Kms {
/// #     async fn encrypt(&self, _: &str, _: &[u8], _: &[u8]) -> std::io::Result<Vec<u8>> { todo!() }
/// #     async fn decrypt(&self, _: &str, _: &[u8], _: &[u8]) -> std::io::Result<Vec<u8>> { todo!() }
/// #     fn key_name(&self, _: &KeyId) -> &str { todo!() }
/// # }
///
/// /// File keys wrapped by KMS keys. Key ids are short names (at most 32 of
/// /// `A-Z a-z 0-9 - _`) that the host maps to its KMS key names or ARNs.
/// struct KmsKeys {
///     kms: Kms,
///     /// New files are wrapped under this one; change it (then run
///     /// `PortalService::rotate_file_keys`) to rotate.
///     active: KeyId,
/// }
///
/// #[async_trait]
/// impl KeyProvider for KmsKeys {
///     async fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<WrappedKey> {
///         // `aad` goes along as the KMS's encryption context: the wrapped key then
///         // unwraps only for the same file.
///         let bytes = self
///             .kms
///             .encrypt(self.kms.key_name(&self.active), key.expose_secret(), aad)
///             .await
///             .map_err(|e| Error::storage("the KMS did not wrap a file key", e))?;
///         Ok(WrappedKey { key_id: self.active.clone(), bytes })
///     }
///
///     async fn unwrap(&self, wrapped: &WrappedKey, aad: &[u8]) -> Result<DataKey> {
///         // Under the key it was wrapped with, which may be an older one.
///         let plain = zeroize::Zeroizing::new(
///             self.kms
///                 .decrypt(self.kms.key_name(&wrapped.key_id), &wrapped.bytes, aad)
///                 .await
///                 .map_err(|e| Error::storage("the KMS did not unwrap a file key", e))?,
///         );
///         DataKey::from_slice(&plain)
///     }
///
///     fn active_key_id(&self) -> KeyId {
///         self.active.clone()
///     }
/// }
/// ```
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

    /// The id a rotation should add next: `k<N+1>`, where `N` is the highest number of
    /// the keyring's ids of the form `k<N>` (0 if none), so ids keep counting up and
    /// never name a key that exists.
    pub fn next_key_id(&self) -> Result<KeyId> {
        let highest = self
            .keys
            .keys()
            .filter_map(|id| id.as_str().strip_prefix('k')?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        KeyId::parse(&format!("k{}", highest.saturating_add(1)))
    }

    /// The ids of every key, sorted.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.keys().cloned().collect()
    }

    /// The bytes of key `id`: the testkit's secret scans look for the key-encryption
    /// key in storage, so they must know it. Nothing else in the crate reads a key out.
    #[cfg(feature = "testkit")]
    pub(crate) fn key_bytes(&self, id: &KeyId) -> Option<&[u8; 32]> {
        self.keys.get(id).map(|key| &**key)
    }

    /// The keyring as the text of a key file (keys in base64). Secret: write it
    /// owner-only, as [`Keyring::save`] does.
    fn to_file_text(&self) -> Zeroizing<String> {
        // Sized up front and written piece by piece, so no reallocation or temporary
        // string leaves an unzeroized copy of a key behind.
        let per_key = "key  \n".len() + 32 + 43;
        let mut out = Zeroizing::new(String::with_capacity(
            FILE_HEADER.len() + "\nactive \n".len() + 32 + self.keys.len() * per_key,
        ));
        out.push_str(FILE_HEADER);
        out.push_str("\nactive ");
        out.push_str(self.active.as_str());
        out.push('\n');
        for (id, key) in &self.keys {
            let encoded = Zeroizing::new(STANDARD_NO_PAD.encode(key.as_ref()));
            out.push_str("key ");
            out.push_str(id.as_str());
            out.push(' ');
            out.push_str(&encoded);
            out.push('\n');
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
    ///
    /// On Unix a key file that other users could read or change (any group or other
    /// permission bit) is refused with `Error::Invalid` naming the `chmod 600` that
    /// fixes it, before a byte is read: whoever can read the file can read every
    /// uploaded file, and whoever can write it can swap the keys new files are sealed
    /// under. Refusing here, rather than in each host, gives every host the check.
    pub fn load(path: &Path, random: std::sync::Arc<dyn RandomSource>) -> Result<Self> {
        use std::io::Read as _;
        let cannot_read =
            |e| Error::storage(format!("cannot read the key file {}", path.display()), e);
        let mut file = std::fs::File::open(path).map_err(cannot_read)?;
        let meta = file.metadata().map_err(cannot_read)?;
        check_owner_only(path, &meta)?;
        // Room for the whole file up front, so the text is never reallocated and no
        // unzeroized copy of the keys is left behind in freed memory.
        let capacity = usize::try_from(meta.len()).unwrap_or(0).saturating_add(1);
        let mut text = Zeroizing::new(String::with_capacity(capacity));
        file.read_to_string(&mut text).map_err(cannot_read)?;
        Self::from_file_text(&text, random)
    }

    /// Writes the key file owner-only (0600 on Unix), replacing it atomically: a new
    /// file is written beside it, synced, renamed over it, and the folder is synced,
    /// so after `Ok` the new keys survive a power loss. That order matters for
    /// rotation: records may be re-wrapped under the new key only once the key file
    /// that holds it is durable.
    ///
    /// Saves are not merged: two processes saving different keyrings to one path
    /// lose one of them. Rotate from one process at a time (the demo holds a lock on
    /// its data folder for this).
    pub fn save(&self, path: &Path) -> Result<()> {
        let cannot_write =
            |e| Error::storage(format!("cannot write the key file {}", path.display()), e);
        let tmp = self.write_temp(path)?;
        if let Err(e) = std::fs::rename(&tmp, path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(cannot_write(e));
        }
        sync_parent(path).map_err(cannot_write)
    }

    /// Writes the keyring to a new owner-only file beside `path` (a random name, so
    /// concurrent writers never share one) and syncs it; answers its path.
    fn write_temp(&self, path: &Path) -> Result<std::path::PathBuf> {
        let name = path
            .file_name()
            .ok_or_else(|| Error::invalid("key file", "the path does not name a file"))?;
        let mut suffix = [0u8; 8];
        self.random.fill(&mut suffix);
        let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let mut tmp_name = name.to_os_string();
        tmp_name.push(format!(".{suffix}.tmp"));
        let tmp = path.with_file_name(tmp_name);
        let text = self.to_file_text();
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut options = std::fs::OpenOptions::new();
            // `create_new`: the mode below applies only to a file this call creates.
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()
        };
        match write() {
            Ok(()) => Ok(tmp),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(Error::storage(
                    format!("cannot write the key file {}", path.display()),
                    e,
                ))
            }
        }
    }

    /// Loads the key file at `path`, or creates one with a new key `k1` if there is
    /// none. Returns the keyring and whether it was created.
    ///
    /// Creating makes the missing folders of `path` owner-only (0700 on Unix; an
    /// existing folder keeps its mode) and never replaces a key file: the new file is
    /// linked into place, so if another process created one meanwhile, that one is
    /// loaded instead and no key that may already wrap a file is ever overwritten. A
    /// path whose existence cannot be checked (a folder without permission) is an
    /// error, never taken for "no key file yet".
    pub fn open_or_create(
        path: &Path,
        random: std::sync::Arc<dyn RandomSource>,
    ) -> Result<(Self, bool)> {
        let cannot_create =
            |e| Error::storage(format!("cannot create the key file {}", path.display()), e);
        if path.try_exists().map_err(|e| {
            Error::storage(format!("cannot check the key file {}", path.display()), e)
        })? {
            return Self::load(path, random).map(|k| (k, false));
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder.create(parent).map_err(cannot_create)?;
        }
        let ring = Self::generate(KeyId::parse("k1")?, random.clone());
        let tmp = ring.write_temp(path)?;
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_parent(path).map_err(cannot_create)?;
                Ok((ring, true))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::load(path, random).map(|k| (k, false))
            }
            Err(e) => Err(cannot_create(e)),
        }
    }

    fn cipher(&self, id: &KeyId) -> Result<Aes256GcmSiv> {
        let key = self.keys.get(id).ok_or(Error::not_found(Entity::Key))?;
        Aes256GcmSiv::new_from_slice(key.as_ref())
            .map_err(|_| Error::storage_msg("a keyring key has the wrong length"))
    }
}

/// Refuses a key file that other users may read or change (Unix mode bits only; other
/// systems rely on the folder's access control).
fn check_owner_only(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(Error::invalid(
                "key file",
                format!(
                    "{path} can be read or changed by other users (mode {mode:04o}), and it \
                     holds the keys to every uploaded file. Make it owner-only with \
                     `chmod 600 {path}`, then start again",
                    path = path.display()
                ),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, meta);
    Ok(())
}

/// Makes a new or renamed name in `path`'s folder durable. Where a folder cannot be
/// opened for this (not Unix), the rename is as durable as the system makes it.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::File::open(parent)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
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

    /// A fresh folder under the system's temp folder, unique to this process and test.
    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "portal-keyring-{name}-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_or_write_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("mode");
        let path = dir.join("keys");
        let random: Arc<dyn RandomSource> = Arc::new(SeededRandom::new(4));
        Keyring::open_or_create(&path, random.clone()).unwrap();
        for bad in [0o644, 0o640, 0o604, 0o620, 0o602, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(bad)).unwrap();
            for result in [
                Keyring::load(&path, random.clone()),
                Keyring::open_or_create(&path, random.clone()).map(|(k, _)| k),
            ] {
                match result {
                    Err(Error::Invalid {
                        field: "key file",
                        reason,
                    }) => {
                        assert!(
                            reason.contains(&format!("chmod 600 {}", path.display())),
                            "{reason}"
                        );
                        assert!(reason.contains(&format!("{bad:04o}")), "{reason}");
                    }
                    other => panic!("mode {bad:o} was accepted: {other:?}"),
                }
            }
        }
        // The fix the message names works, and owner read-only is fine too.
        for good in [0o600, 0o400] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(good)).unwrap();
            Keyring::load(&path, random.clone()).unwrap();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn creating_makes_owner_only_folders_and_never_replaces_a_key_file() {
        let dir = temp_dir("create");
        let path = dir.join("data").join("keys").join("file-keys");
        let (first, created) =
            Keyring::open_or_create(&path, Arc::new(SeededRandom::new(5))).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
            assert_eq!(mode(&dir.join("data")), 0o700);
        }
        // Another source would draw another key; the existing file wins.
        let (second, created) =
            Keyring::open_or_create(&path, Arc::new(SeededRandom::new(6))).unwrap();
        assert!(!created);
        assert_eq!(*second.to_file_text(), *first.to_file_text());
        // Saving leaves no temporary file behind.
        second.save(&path).unwrap();
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["file-keys"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_data_key_from_bytes_must_be_32_bytes() {
        let key = DataKey::from_slice(&[9u8; 32]).unwrap();
        assert_eq!(key.expose_secret(), &[9u8; 32]);
        for len in [0, 16, 31, 33, 64] {
            assert!(matches!(
                DataKey::from_slice(&vec![1u8; len]),
                Err(Error::Integrity { .. })
            ));
        }
    }

    #[test]
    fn next_key_ids_count_up_past_the_highest() {
        let mut ring = ring();
        assert_eq!(ring.next_key_id().unwrap().as_str(), "k2");
        ring.rotate(KeyId::parse("k7").unwrap()).unwrap();
        ring.rotate(KeyId::parse("kms-main").unwrap()).unwrap();
        assert_eq!(ring.next_key_id().unwrap().as_str(), "k8");
        let other = Keyring::generate(
            KeyId::parse("primary").unwrap(),
            Arc::new(SeededRandom::new(1)),
        );
        assert_eq!(other.next_key_id().unwrap().as_str(), "k1");
    }
}
