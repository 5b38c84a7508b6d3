//! Uploaded files in the demo: encrypted blobs in `<data-dir>/files` (or in an
//! S3-compatible bucket, `--s3-url`), their keys in `<data-dir>/keys/file-keys`, the
//! start-up sweeps, and key rotation.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use portal_blob_s3::{S3BlobStore, S3Config};
use portal_core::blob::BlobStore;
use portal_core::blob::envelope::FileVault;
use portal_core::blob::keyring::{KeyId, KeyProvider, Keyring};
use portal_core::mail::Email;
use portal_core::secret::ServerSecret;
use portal_core::service::{RotationCounts, RotationReport};
use portal_core::{Error, Mailer, OsRandom, PortalService, Result, Store};
use portal_http::HttpConfig;
use portal_storage_sqlite::FileBlobStore;

use crate::data::DataDir;

/// How old an unreferenced blob must be before the start-up sweep removes it. The
/// demo holds its data folder's lock, so no upload of another process can be in
/// flight; the margin is what a host with several nodes on one folder needs (longer
/// than any upload takes from its stored bytes to its record), kept here so the demo
/// shows the safe call.
pub const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// Where the demo keeps file content (always ciphertext).
#[derive(Debug, Clone)]
pub enum BlobPlace {
    /// `<data-dir>/files`.
    Folder,
    /// An S3-compatible bucket (`--s3-url`), shared by every node of a cluster, and
    /// how to name it in messages (endpoint and bucket, never the key).
    S3(S3Config, String),
}

/// The opened blob store.
#[derive(Debug, Clone)]
pub enum DemoBlobs {
    /// A folder.
    Folder(Arc<FileBlobStore>),
    /// A bucket, and its name for messages.
    S3(Arc<S3BlobStore>, String),
}

impl DemoBlobs {
    /// Opens `place`; a bucket is checked (reachable, credentials accepted) at once, so
    /// a wrong URL or key stops the start with a clear error instead of a failed upload.
    pub async fn open(data: &DataDir, place: &BlobPlace) -> Result<Self> {
        Ok(match place {
            BlobPlace::Folder => Self::Folder(Arc::new(FileBlobStore::open(data.files()).await?)),
            BlobPlace::S3(config, named) => {
                let store = S3BlobStore::new(config)?;
                store.check().await?;
                Self::S3(Arc::new(store), named.clone())
            }
        })
    }

    /// The store for the vault.
    pub fn as_blob_store(&self) -> Arc<dyn BlobStore> {
        match self {
            Self::Folder(b) => b.clone(),
            Self::S3(b, _) => b.clone(),
        }
    }

    /// Removes what puts cut short by a crash left behind; how many.
    async fn sweep(&self) -> Result<u64> {
        match self {
            Self::Folder(b) => b.sweep().await,
            Self::S3(b, _) => b.sweep().await,
        }
    }

    /// Removes blobs older than `age` that no record points at; how many.
    async fn remove_orphans(&self, store: &dyn Store, age: Duration) -> Result<u64> {
        match self {
            Self::Folder(b) => b.remove_orphans(store, age).await,
            Self::S3(b, _) => b.remove_orphans(store, age).await,
        }
    }

    /// Where the files are, for the start-up lines and logs.
    pub fn describe(&self) -> String {
        match self {
            Self::Folder(b) => b.dir().display().to_string(),
            Self::S3(_, named) => named.clone(),
        }
    }
}

/// The demo's file storage, opened and swept, ready for the service builder.
pub struct DemoFiles {
    /// Seals and opens files: hand it to `PortalServiceBuilder::files`.
    pub vault: FileVault,
    /// The blob store.
    pub blobs: DemoBlobs,
    /// The key file.
    pub key_file: PathBuf,
    /// Whether this run created the key file (first run).
    pub key_created: bool,
    /// Leftovers of uploads cut short by a crash, removed at opening.
    pub swept: u64,
}

/// Opens the blob folder, removes what crashed uploads left in it (`sweep`), and opens
/// the key file, creating it (owner-only, in an owner-only folder) on first run. A key
/// file others can read is refused (`Keyring::load` checks): the error names the
/// `chmod`. A cluster node does not sweep: another node's upload may be in flight in
/// the shared folder (old orphans still go, by age: [`remove_orphans`]).
pub async fn open(data: &DataDir, place: &BlobPlace, sweep: bool) -> Result<DemoFiles> {
    let blobs = DemoBlobs::open(data, place).await?;
    let swept = if sweep { blobs.sweep().await? } else { 0 };
    tracing::info!(
        removed = swept,
        at = %blobs.describe(),
        "swept the leftovers of unfinished uploads"
    );
    let key_file = data.key_file();
    let path = key_file.clone();
    let (keyring, key_created) =
        tokio::task::spawn_blocking(move || Keyring::open_or_create(&path, Arc::new(OsRandom)))
            .await
            .map_err(|e| Error::storage("opening the key file", e))??;
    let vault = FileVault::new(blobs.as_blob_store(), Arc::new(keyring), Arc::new(OsRandom));
    Ok(DemoFiles {
        vault,
        blobs,
        key_file,
        key_created,
        swept,
    })
}

/// Removes blobs older than [`ORPHAN_AGE`] that no record points at (an upload whose
/// process died between storing its bytes and writing its record); returns how many.
pub async fn remove_orphans(files: &DemoFiles, store: &dyn Store) -> Result<u64> {
    let removed = files.blobs.remove_orphans(store, ORPHAN_AGE).await?;
    tracing::info!(
        removed,
        min_age_secs = ORPHAN_AGE.as_secs(),
        "removed orphan blobs"
    );
    Ok(removed)
}

/// What `rotate-keys` did.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The key added and made active.
    pub new_key: KeyId,
    /// Every key the key file holds now.
    pub key_ids: Vec<KeyId>,
    /// The key file.
    pub key_file: PathBuf,
    /// The re-wrapping's counts.
    pub report: RotationReport,
}

/// The rotation's service sends no email; a send would be a bug, so it fails loudly.
struct NoMail;

#[async_trait]
impl Mailer for NoMail {
    async fn send(&self, _acting: &portal_core::ActingFor, _email: &Email) -> Result<()> {
        Err(Error::Mail {
            message: "permanent: rotate-keys sends no email".to_owned(),
        })
    }
}

/// `portal-demo rotate-keys`: adds a key `k<N+1>` to the key file and makes it active,
/// saves the file (atomically and durably, old keys kept, so files not yet re-wrapped
/// stay readable), and only then re-wraps every file's data key under it. File
/// contents are never read or rewritten.
///
/// Holds the data folder's lock, so it refuses to run beside the server (which keeps
/// the keyring in memory and would not see the new key). Run again after a crash or
/// failures: it adds one more key and re-wraps whatever is not under it.
pub async fn rotate_keys(
    data: &DataDir,
    store: Arc<dyn Store>,
    place: &BlobPlace,
) -> Result<Rotation> {
    let key_file = data.key_file();
    let path = key_file.clone();
    let (keyring, new_key) = tokio::task::spawn_blocking(move || -> Result<_> {
        if !path.try_exists().map_err(|e| {
            Error::storage(format!("cannot check the key file {}", path.display()), e)
        })? {
            return Err(Error::invalid(
                "key file",
                format!(
                    "there is none at {}: start the demo once to create it, or restore it \
                     from your backup (without it, uploaded files cannot be read)",
                    path.display()
                ),
            ));
        }
        let mut keyring = Keyring::load(&path, Arc::new(OsRandom))?;
        let new_key = keyring.next_key_id()?;
        keyring.rotate(new_key.clone())?;
        // Durable before any record names the new key.
        keyring.save(&path)?;
        Ok((keyring, new_key))
    })
    .await
    .map_err(|e| Error::storage("rotating the key file", e))??;
    let key_ids = keyring.key_ids();
    tracing::info!(key = %new_key, file = %key_file.display(), "added a file key and made it active");

    let blobs = DemoBlobs::open(data, place).await?;
    let keys: Arc<dyn KeyProvider> = Arc::new(keyring);
    let vault = FileVault::new(blobs.as_blob_store(), keys, Arc::new(OsRandom));
    // Only the store and the vault are used; the secret keys nothing a rotation does.
    let service = PortalService::builder(
        store,
        Arc::new(NoMail),
        Arc::new(HttpConfig::default().links()),
        ServerSecret::generate(&OsRandom),
    )
    .files(vault)
    .build();
    let report = service.rotate_file_keys().await?;
    Ok(Rotation {
        new_key,
        key_ids,
        key_file,
        report,
    })
}

/// The rotation's counts per kind of sealed record, for the `rotate-keys` output:
/// `uploads 2, signature images 1, …` (re-wrapped; skipped and failed added in
/// brackets when there are any), so an operator sees that no kind was left behind.
pub fn per_kind(report: &RotationReport) -> String {
    let kinds: [(&str, RotationCounts); 6] = [
        ("uploads", report.documents),
        ("signature images", report.signature_images),
        ("signature documents", report.signature_documents),
        ("dropped files", report.dropped_files),
        ("credential fields", report.credential_fields),
        ("task attachments", report.task_attachments),
    ];
    let parts: Vec<String> = kinds
        .iter()
        .map(|(name, c)| {
            if c.skipped == 0 && c.failed == 0 {
                format!("{name} {}", c.rewrapped)
            } else {
                format!(
                    "{name} {} ({} already current, {} failed)",
                    c.rewrapped, c.skipped, c.failed
                )
            }
        })
        .collect();
    parts.join(", ")
}
