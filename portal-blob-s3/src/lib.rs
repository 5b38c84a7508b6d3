//! [`S3BlobStore`]: the portal's file content ([`BlobStore`]) on S3-compatible object
//! storage (AWS S3, MinIO, Ceph RGW, Cloudflare R2, ...), through the `object_store`
//! crate.
//!
//! The store only ever sees ciphertext: the envelope encryption
//! ([`portal_core::blob::envelope`]) seals every file above the [`BlobStore`] seam,
//! with keys that never reach the bucket, so the bucket (and whoever can list it)
//! holds nothing readable without the portal's keyring.
//!
//! # Layout in the bucket
//! Under an optional key prefix (several portals, or a portal and other data, can share
//! one bucket):
//! - `blobs/<id>`: a completed blob. Only a completed multipart upload creates it, so
//!   a key under `blobs/` always holds complete bytes, never part of a put.
//! - `puts/<id>`: the marker of a put in progress. It is created with
//!   `If-None-Match: *` (so two puts of one id, even on two nodes, cannot both claim
//!   it) and holds the id of the put's multipart upload, so [`BlobStore::sweep`] can
//!   abort the upload a crashed put left behind: S3 keeps (and bills) the parts of an
//!   unfinished upload until it is aborted, and `object_store` cannot list them.
//!
//! # A put
//! 0. Take the id in the store's in-process set of running puts (a second put of it in
//!    this process is `Conflict` before any request).
//! 1. `HEAD blobs/<id>`: an existing blob is `Conflict`.
//! 2. Start a multipart upload to `blobs/<id>`; claim `puts/<id>` (holding the upload
//!    id) with `If-None-Match: *`; a marker already there is a put in progress:
//!    `Conflict` (our own upload is aborted, the other put is not touched).
//! 3. `HEAD blobs/<id>` again: a put of the same id may have completed between 1 and 2.
//! 4. Stream the source into parts of exactly [`PART_SIZE`] bytes (the last one
//!    shorter), counting and hashing the bytes as they pass ([`Tally`]). At most
//!    [`PARTS_IN_FLIGHT`] parts are being sent while the next one fills, so a put holds
//!    about `(PARTS_IN_FLIGHT + 1) × PART_SIZE` bytes whatever the blob's size.
//! 5. Complete the upload (the blob becomes readable at once, whole), then remove the
//!    marker.
//!
//! A source error, a failed request or a put future dropped before it completes aborts
//! the upload (never completes it) and removes the marker: nothing becomes readable. A
//! process that dies during a put leaves its marker and its unfinished upload, which
//! [`BlobStore::sweep`] removes; until then the id stays taken (`Conflict`), as a part
//! file does in the file store.
//!
//! The low-level multipart calls ([`MultipartStore`]) are used rather than
//! `ObjectStore::put_multipart`/`WriteMultipart` because a sweep needs the upload's id,
//! which those hide; the part size and the bounded number of parts in flight are the
//! same as `WriteMultipart`'s.
//!
//! # TLS
//! `https://` endpoints use rustls with the ring provider (the portal's one crypto
//! provider, no aws-lc-rs): [`S3BlobStore::new`] installs ring as the process's default
//! rustls provider unless one is installed already (see the README).

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::{
    ClientOptions, MultipartId, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
};
use tokio::task::JoinSet;

use portal_core::blob::{BlobInfo, BlobStore, ByteStream, Tally};
use portal_core::store::DocumentStore;
use portal_core::{BlobId, Entity, Error, Result};

/// Bytes per part of a multipart upload: S3's minimum for every part but the last,
/// and the same for every part (some stores, e.g. R2, require equal sizes).
pub const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts being sent at once while the next one fills: the put's memory bound is about
/// `(PARTS_IN_FLIGHT + 1) × PART_SIZE`.
pub const PARTS_IN_FLIGHT: usize = 2;
/// The folder of completed blobs, under the prefix.
const BLOBS: &str = "blobs";
/// The folder of put markers, under the prefix.
const PUTS: &str = "puts";

/// Where and how to reach the bucket.
///
/// `Debug` prints everything but the secret key.
#[derive(Clone)]
pub struct S3Config {
    endpoint: String,
    bucket: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    prefix: String,
    allow_http: bool,
    virtual_hosted_style: bool,
}

impl S3Config {
    /// A bucket at `endpoint` (`https://s3.eu-west-1.amazonaws.com`,
    /// `https://minio.example.net:9000`, ...), reached with a static access key.
    /// Requests are path-style (`<endpoint>/<bucket>/<key>`), which every S3-compatible
    /// server understands; see [`Self::virtual_hosted_style`].
    pub fn new(
        endpoint: impl Into<String>,
        bucket: impl Into<String>,
        region: impl Into<String>,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            bucket: bucket.into(),
            region: region.into(),
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            prefix: String::new(),
            allow_http: false,
            virtual_hosted_style: false,
        }
    }

    /// Keeps every key under `prefix` (e.g. `portal/`), so the bucket can hold other
    /// things too. Leading and trailing slashes do not matter.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Allows a plain `http://` endpoint, and only on a loopback address (`127.0.0.0/8`,
    /// `::1`, `localhost`): a test server or a local gateway. Anything else must be
    /// `https://`: the bytes are ciphertext, but the requests carry the access key's
    /// signatures and the bucket's listing.
    pub fn allow_loopback_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Uses virtual-hosted-style requests (`<bucket>.<endpoint host>/<key>`) instead of
    /// path-style, for servers that require it.
    pub fn virtual_hosted_style(mut self, on: bool) -> Self {
        self.virtual_hosted_style = on;
        self
    }

    /// Checks the endpoint's scheme against [`Self::allow_loopback_http`].
    fn check_endpoint(&self) -> Result<()> {
        let url = url::Url::parse(&self.endpoint)
            .map_err(|_| Error::invalid("s3 endpoint", "not a URL"))?;
        match url.scheme() {
            "https" => Ok(()),
            "http" if !self.allow_http => Err(Error::invalid(
                "s3 endpoint",
                "plain http is refused (use https, or allow http for a loopback test server)",
            )),
            "http" if is_loopback(&url) => Ok(()),
            "http" => Err(Error::invalid(
                "s3 endpoint",
                "plain http is only allowed on a loopback address",
            )),
            _ => Err(Error::invalid("s3 endpoint", "the scheme must be https")),
        }
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("prefix", &self.prefix)
            .field("allow_http", &self.allow_http)
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .finish()
    }
}

/// File content kept as one object per blob in an S3-compatible bucket (see the crate
/// docs for the layout and the put protocol). The bytes are the envelope's ciphertext.
///
/// Cheap to clone and to share behind an `Arc`; several nodes may share one bucket and
/// prefix, as long as [`BlobStore::sweep`] runs only while none is putting.
#[derive(Clone)]
pub struct S3BlobStore {
    inner: Arc<Inner>,
}

struct Inner {
    s3: Arc<AmazonS3>,
    /// The ids this store is putting right now: a second put of one of them is
    /// `Conflict` at once, before any request (the marker does the same across
    /// processes, a few round trips later).
    putting: Mutex<HashSet<BlobId>>,
    /// The prefix as a path (empty for none).
    prefix: Path,
    bucket: String,
}

impl fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("bucket", &self.inner.bucket)
            .field("prefix", &self.inner.prefix.as_ref())
            .finish()
    }
}

impl S3BlobStore {
    /// A store on the bucket `config` names. Makes no request: a wrong endpoint, bucket
    /// or key shows as a `Storage` error on the first call ([`Self::check`] makes one).
    pub fn new(config: &S3Config) -> Result<Self> {
        config.check_endpoint()?;
        // reqwest's rustls needs a process-wide crypto provider; ring is the one the
        // rest of the portal uses. A host that installed one already keeps it.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race to another installer is fine: a provider is installed.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let prefix = Path::parse(config.prefix.trim_matches('/'))
            .map_err(|_| Error::invalid("s3 prefix", "not a valid key prefix"))?;
        let s3 = AmazonS3Builder::new()
            .with_endpoint(&config.endpoint)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_allow_http(config.allow_http)
            .with_virtual_hosted_style_request(config.virtual_hosted_style)
            .with_client_options(ClientOptions::new().with_allow_http(config.allow_http))
            .build()
            // object_store's builder errors name the setting, never its value.
            .map_err(|e| storage("cannot set up the S3 client", e))?;
        Ok(Self {
            inner: Arc::new(Inner {
                s3: Arc::new(s3),
                putting: Mutex::new(HashSet::new()),
                prefix,
                bucket: config.bucket.clone(),
            }),
        })
    }

    /// Lists the put markers once: fails if the bucket cannot be reached, does not
    /// exist, or the key may not list it. For a host's start-up check.
    pub async fn check(&self) -> Result<()> {
        let puts = self.inner.folder(PUTS);
        self.inner
            .s3
            .list_with_delimiter(Some(&puts))
            .await
            .map(|_| ())
            .map_err(|e| storage("cannot list the bucket", e))
    }

    /// The completed blobs whose upload started at least `age` ago, sorted (puts in
    /// progress are not listed; keys that are not blob ids are ignored).
    ///
    /// This is the first half of an orphan sweep: a put that completed but whose
    /// record was never written (the process died between the two) leaves a blob no
    /// record points at, which [`BlobStore::sweep`] cannot tell from a live one. The
    /// age is the bucket's `Last-Modified`, which S3 sets for a multipart upload to
    /// the time the upload **started** (the file store measures from the end of the
    /// put), by the server's clock; so `age` must be longer than any upload takes,
    /// plus its scan and its record. [`Self::remove_orphans`] is the whole sweep.
    pub async fn completed_older_than(&self, age: Duration) -> Result<Vec<BlobId>> {
        let blobs = self.inner.folder(BLOBS);
        let now = chrono::Utc::now();
        let mut listing = self.inner.s3.list(Some(&blobs));
        let mut old = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| storage("cannot list the blobs", e))?;
            // Only `blobs/<id>` itself: nothing deeper, nothing else.
            if meta.location.parts_count() != blobs.parts_count() + 1 {
                continue;
            }
            let Some(id) = meta
                .location
                .filename()
                .and_then(|name| name.parse::<BlobId>().ok())
            else {
                continue;
            };
            // A time in the future (clocks apart) is not old.
            if now
                .signed_duration_since(meta.last_modified)
                .to_std()
                .is_ok_and(|elapsed| elapsed >= age)
            {
                old.push(id);
            }
        }
        old.sort();
        Ok(old)
    }

    /// Removes the completed blobs at least `min_age` old that no record of `records`
    /// points at ([`DocumentStore::blob_in_use`]); returns how many it removed.
    ///
    /// Run it at start-up, after [`BlobStore::sweep`]. `min_age` protects uploads in
    /// flight on other nodes sharing the bucket: their blob exists before their record
    /// does (see [`Self::completed_older_than`] for how the age is measured); an hour
    /// is plenty. `records` must know every kind of record that points at blobs of
    /// this bucket and prefix, or live blobs would be removed.
    pub async fn remove_orphans(
        &self,
        records: &dyn DocumentStore,
        min_age: Duration,
    ) -> Result<u64> {
        let old = self.completed_older_than(min_age).await?;
        portal_core::blob::remove_unrecorded(self, records, old).await
    }
}

impl Inner {
    fn folder(&self, name: &str) -> Path {
        self.prefix.clone().join(name)
    }

    fn blob_path(&self, id: BlobId) -> Path {
        self.folder(BLOBS).join(id.to_string())
    }

    fn marker_path(&self, id: BlobId) -> Path {
        self.folder(PUTS).join(id.to_string())
    }

    /// Whether a completed blob exists under `path`.
    async fn exists(&self, path: &Path) -> Result<bool> {
        match self.s3.head(path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(storage("cannot check the blob", e)),
        }
    }

    /// Undoes what a put that will not complete left: aborts its upload, removes the
    /// object if the completion may have gone through (`completing`), and removes its
    /// marker. Best effort: what fails here is logged and left to [`BlobStore::sweep`]
    /// (the marker is removed last, so a sweep still finds the upload).
    async fn clean_up(&self, id: BlobId, upload: &MultipartId, completing: bool) {
        let blob = self.blob_path(id);
        match self.s3.abort_multipart(&blob, upload).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => {
                tracing::warn!(blob = %id, error = %e, "cannot abort an unfinished blob upload; a sweep will");
                return;
            }
        }
        if completing {
            // We hold the marker, so no other put of this id wrote this object.
            if let Err(e) = self.delete_if_exists(&blob).await {
                tracing::warn!(blob = %id, error = %e, "cannot remove the object of an abandoned put");
                return;
            }
        }
        if let Err(e) = self.delete_if_exists(&self.marker_path(id)).await {
            tracing::warn!(blob = %id, error = %e, "cannot remove a put marker; a sweep will");
        }
    }

    async fn delete_if_exists(&self, path: &Path) -> object_store::Result<()> {
        match self.s3.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// An `object_store` error as a `Storage` error. Its text names the bucket, the key
/// and the server's answer, never the credentials (requests are signed, the secret is
/// never sent).
fn storage(what: &str, e: object_store::Error) -> Error {
    Error::storage(what, e)
}

/// An id this store is putting, taken from [`Inner::putting`] until dropped.
struct Putting {
    inner: Arc<Inner>,
    id: BlobId,
}

impl Putting {
    /// Takes `id`, or `None` if a put of it is running in this store.
    fn take(inner: &Arc<Inner>, id: BlobId) -> Option<Self> {
        // The set stays consistent whatever panicked while holding it (one insert or
        // remove), so a poisoned lock is used as it is.
        let mut ids = inner.putting.lock().unwrap_or_else(|p| p.into_inner());
        ids.insert(id).then(|| Self {
            inner: inner.clone(),
            id,
        })
    }
}

impl Drop for Putting {
    fn drop(&mut self) {
        let mut ids = self.inner.putting.lock().unwrap_or_else(|p| p.into_inner());
        ids.remove(&self.id);
    }
}

/// Where a put is, for its clean-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sending parts: a clean-up aborts the upload.
    Uploading,
    /// The completion was sent: it may have gone through, so a clean-up also removes
    /// the object.
    Completing,
    /// Completed (or cleaned up already): nothing to undo.
    Done,
}

/// Cleans up a put that does not complete: awaited on an error, spawned when the put
/// future is dropped (the client went away).
struct PutGuard {
    inner: Arc<Inner>,
    id: BlobId,
    upload: MultipartId,
    phase: Phase,
}

impl PutGuard {
    /// Cleans up now and disarms the guard. Disarmed only once the clean-up ran, so
    /// a put dropped during its clean-up still has it spawned (every step tolerates
    /// running twice).
    async fn abandon(&mut self) {
        if self.phase != Phase::Done {
            let completing = self.phase == Phase::Completing;
            self.inner.clean_up(self.id, &self.upload, completing).await;
            self.phase = Phase::Done;
        }
    }
}

impl Drop for PutGuard {
    fn drop(&mut self) {
        if self.phase == Phase::Done {
            return;
        }
        let completing = self.phase == Phase::Completing;
        let (inner, id, upload) = (self.inner.clone(), self.id, self.upload.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { inner.clean_up(id, &upload, completing).await });
            }
            // No runtime to clean up on (it is shutting down): the marker stays for
            // the next sweep.
            Err(_) => {
                tracing::warn!(blob = %id, "a put was dropped without a runtime; a sweep will clean up")
            }
        }
    }
}

/// Sends one part on its own task, so parts go out while the source is read; the
/// task's result carries the part's index.
fn send_part(
    parts: &mut JoinSet<(usize, object_store::Result<PartId>)>,
    inner: &Arc<Inner>,
    blob: &Path,
    upload: &MultipartId,
    index: usize,
    data: PutPayload,
) {
    let (s3, blob, upload) = (inner.s3.clone(), blob.clone(), upload.clone());
    parts.spawn(async move { (index, s3.put_part(&blob, &upload, index, data).await) });
}

/// Waits for the next part to be sent and records its id.
async fn part_sent(
    parts: &mut JoinSet<(usize, object_store::Result<PartId>)>,
    done: &mut [Option<PartId>],
) -> Result<()> {
    match parts.join_next().await {
        Some(Ok((index, Ok(part)))) => {
            if let Some(slot) = done.get_mut(index) {
                *slot = Some(part);
            }
            Ok(())
        }
        Some(Ok((_, Err(e)))) => Err(storage("cannot upload a part of the blob", e)),
        Some(Err(e)) => Err(Error::storage("a blob part's upload task failed", e)),
        None => Ok(()),
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, id: BlobId, mut content: ByteStream) -> Result<BlobInfo> {
        let inner = &self.inner;
        // Taken before the first await, so a put that has been polled once holds its
        // id; dropped last, after the clean-up below.
        let Some(_putting) = Putting::take(inner, id) else {
            return Err(Error::conflict("a put of this blob is running"));
        };
        let blob = inner.blob_path(id);
        if inner.exists(&blob).await? {
            return Err(Error::conflict("a blob with this id exists"));
        }
        let upload = inner
            .s3
            .create_multipart(&blob)
            .await
            .map_err(|e| storage("cannot start the blob's upload", e))?;
        let claim = match inner
            .s3
            .put_opts(
                &inner.marker_path(id),
                PutPayload::from(upload.clone()),
                PutOptions::from(PutMode::Create),
            )
            .await
        {
            // A retried request may find the marker its first attempt created: it is
            // ours if it holds our upload's id.
            Err(e @ object_store::Error::AlreadyExists { .. }) => {
                match inner.s3.get(&inner.marker_path(id)).await {
                    Ok(found) => match found.bytes().await {
                        Ok(held) if held == upload.as_bytes() => Ok(()),
                        _ => Err(e),
                    },
                    Err(_) => Err(e),
                }
            }
            other => other.map(|_| ()),
        };
        if let Err(e) = claim {
            // Our own upload only: the marker (and its upload) belong to another put.
            if let Err(abort) = inner.s3.abort_multipart(&blob, &upload).await {
                tracing::warn!(blob = %id, error = %abort, "cannot abort an unclaimed blob upload");
            }
            return Err(match e {
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. } => {
                    Error::conflict("a put of this blob is running")
                }
                e => storage("cannot mark the blob's put", e),
            });
        }
        // From here on, the marker is ours: the guard cleans up unless we complete.
        let mut guard = PutGuard {
            inner: inner.clone(),
            id,
            upload: upload.clone(),
            phase: Phase::Uploading,
        };
        // A put of this id may have completed (and removed its marker) since the
        // first check.
        match inner.exists(&blob).await {
            Ok(false) => {}
            Ok(true) => {
                guard.abandon().await;
                return Err(Error::conflict("a blob with this id exists"));
            }
            Err(e) => {
                guard.abandon().await;
                return Err(e);
            }
        }

        // Declared after the guard, so a dropped put stops its part tasks before the
        // guard aborts the upload.
        let mut sending = JoinSet::new();
        let mut sent: Vec<Option<PartId>> = Vec::new();
        let mut part: Vec<Bytes> = Vec::new();
        let mut part_len = 0usize;
        let mut tally = Tally::new();
        let streamed: Result<()> = async {
            while let Some(item) = content.next().await {
                let mut bytes = item?;
                tally.update(&bytes);
                while !bytes.is_empty() {
                    let take = (PART_SIZE - part_len).min(bytes.len());
                    part.push(bytes.split_to(take));
                    part_len += take;
                    if part_len == PART_SIZE {
                        while sending.len() >= PARTS_IN_FLIGHT {
                            part_sent(&mut sending, &mut sent).await?;
                        }
                        let data: PutPayload = std::mem::take(&mut part).into_iter().collect();
                        part_len = 0;
                        sent.push(None);
                        send_part(&mut sending, inner, &blob, &upload, sent.len() - 1, data);
                    }
                }
            }
            // The last, shorter part (or the only one, even empty: an upload needs one).
            if part_len > 0 || sent.is_empty() {
                let data: PutPayload = std::mem::take(&mut part).into_iter().collect();
                sent.push(None);
                send_part(&mut sending, inner, &blob, &upload, sent.len() - 1, data);
            }
            while !sending.is_empty() {
                part_sent(&mut sending, &mut sent).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = streamed {
            sending.abort_all();
            guard.abandon().await;
            return Err(e);
        }
        let Some(parts) = sent.into_iter().collect::<Option<Vec<PartId>>>() else {
            guard.abandon().await;
            return Err(Error::storage_msg("a part of the blob's upload was lost"));
        };

        guard.phase = Phase::Completing;
        if let Err(e) = inner.s3.complete_multipart(&blob, &upload, parts).await {
            guard.abandon().await;
            return Err(storage("cannot complete the blob's upload", e));
        }
        guard.phase = Phase::Done;
        // The blob is complete and durable. A marker left here (the delete failed)
        // only costs a sweep's request: the sweep aborts an upload that no longer
        // exists and keeps the blob.
        if let Err(e) = inner.delete_if_exists(&inner.marker_path(id)).await {
            tracing::warn!(blob = %id, error = %e, "cannot remove a completed put's marker; a sweep will");
        }
        Ok(tally.finish())
    }

    async fn get(&self, id: BlobId) -> Result<ByteStream> {
        // object_store resumes a broken download with a range request only while the
        // object's ETag is unchanged, so a get never mixes in bytes of a later blob.
        match self.inner.s3.get(&self.inner.blob_path(id)).await {
            Ok(found) => {
                Ok(Box::pin(found.into_stream().map(|piece| {
                    piece.map_err(|e| storage("cannot read the blob", e))
                })))
            }
            Err(object_store::Error::NotFound { .. }) => Err(Error::not_found(Entity::Blob)),
            Err(e) => Err(storage("cannot read the blob", e)),
        }
    }

    async fn delete(&self, id: BlobId) -> Result<()> {
        self.inner
            .delete_if_exists(&self.inner.blob_path(id))
            .await
            .map_err(|e| storage("cannot delete the blob", e))
    }

    async fn sweep(&self) -> Result<u64> {
        let inner = &self.inner;
        let puts = inner.folder(PUTS);
        let mut markers = inner.s3.list(Some(&puts));
        let mut found = Vec::new();
        while let Some(meta) = markers.next().await {
            found.push(meta.map_err(|e| storage("cannot list the put markers", e))?);
        }
        let mut removed = 0u64;
        for meta in found {
            let marker = meta.location;
            let id = marker
                .filename()
                .and_then(|name| name.parse::<BlobId>().ok());
            if let Some(id) = id {
                // The marker holds its upload's id; abort that upload (gone already
                // if the put completed or was cleaned up half-way).
                let upload = match inner.s3.get(&marker).await {
                    Ok(body) => Some(
                        body.bytes()
                            .await
                            .map_err(|e| storage("cannot read a put marker", e))?,
                    ),
                    Err(object_store::Error::NotFound { .. }) => None,
                    Err(e) => return Err(storage("cannot read a put marker", e)),
                };
                if let Some(upload) = upload.and_then(|b| String::from_utf8(b.to_vec()).ok()) {
                    match inner
                        .s3
                        .abort_multipart(&inner.blob_path(id), &upload)
                        .await
                    {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(storage("cannot abort an unfinished upload", e)),
                    }
                }
            }
            inner
                .delete_if_exists(&marker)
                .await
                .map_err(|e| storage("cannot remove a put marker", e))?;
            removed += 1;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(endpoint: &str) -> S3Config {
        S3Config::new(
            endpoint,
            "files",
            "us-east-1",
            "AKIDEXAMPLE",
            "very-secret-key",
        )
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let printed = format!("{:?}", config("https://s3.example.net").prefix("p/"));
        assert!(!printed.contains("very-secret-key"), "{printed}");
        assert!(printed.contains("AKIDEXAMPLE"), "{printed}");
        let store = S3BlobStore::new(&config("https://s3.example.net")).unwrap();
        assert!(!format!("{store:?}").contains("very-secret-key"));
    }

    #[test]
    fn plain_http_only_when_allowed_and_on_loopback() {
        for ok in [
            "http://127.0.0.1:9000",
            "http://localhost:9000",
            "http://[::1]:9000",
        ] {
            assert!(
                S3BlobStore::new(&config(ok).allow_loopback_http(true)).is_ok(),
                "{ok}"
            );
            assert!(
                matches!(
                    S3BlobStore::new(&config(ok)),
                    Err(Error::Invalid {
                        field: "s3 endpoint",
                        ..
                    })
                ),
                "{ok} without the flag"
            );
        }
        for refused in ["http://10.0.0.5:9000", "http://s3.example.net", "ftp://x"] {
            assert!(
                matches!(
                    S3BlobStore::new(&config(refused).allow_loopback_http(true)),
                    Err(Error::Invalid { .. })
                ),
                "{refused}"
            );
        }
        assert!(S3BlobStore::new(&config("https://s3.example.net")).is_ok());
    }

    #[test]
    fn keys_sit_under_the_prefix() {
        let store =
            S3BlobStore::new(&config("https://s3.example.net").prefix("/tenant-a/files/")).unwrap();
        let id: BlobId = "0b6f3b8e-3f0a-4c3e-9d55-7f0d2e1a9c11".parse().unwrap();
        assert_eq!(
            store.inner.blob_path(id).as_ref(),
            "tenant-a/files/blobs/0b6f3b8e-3f0a-4c3e-9d55-7f0d2e1a9c11"
        );
        assert_eq!(
            store.inner.marker_path(id).as_ref(),
            "tenant-a/files/puts/0b6f3b8e-3f0a-4c3e-9d55-7f0d2e1a9c11"
        );
        let bare = S3BlobStore::new(&config("https://s3.example.net")).unwrap();
        assert_eq!(
            bare.inner.blob_path(id).as_ref(),
            "blobs/0b6f3b8e-3f0a-4c3e-9d55-7f0d2e1a9c11"
        );
    }
}
