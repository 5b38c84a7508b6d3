//! [`FileBlobStore`]: the embedded default [`BlobStore`], one file per blob in a folder
//! beside the database. docs/file-storage.md says why files and not rows, measured.
//!
//! Layout: `<dir>/<id>` is a completed blob; `<dir>/tmp/<id>.part` is a put in
//! progress. A put writes its part file (owner-only, `create_new`), fsyncs it, links
//! it to `<dir>/<id>` (a hard link never replaces an existing name, so a put of an
//! existing id is `Conflict` even across processes), removes the part and fsyncs the
//! folder before it answers. A completed name therefore only ever points at complete,
//! durable bytes; whatever a crash leaves is a part file, which [`BlobStore::sweep`]
//! removes.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use portal_core::blob::{BlobInfo, BlobStore, ByteStream, Tally};
use portal_core::store::DocumentStore;
use portal_core::{BlobId, Entity, Error, Result};

/// Bytes gathered from the source before they are handed to the blocking pool to be
/// hashed and written. One batch is hashed and written while the next is read, so a put
/// holds at most about two batches plus the source's current piece, whatever the
/// blob's size.
const WRITE_BATCH: usize = 1024 * 1024;
/// Bytes per piece a get yields (four of the envelope's 64 KiB sealed chunks).
const READ_PIECE: usize = 256 * 1024;
/// The folder of puts in progress, inside the store's folder.
const TMP: &str = "tmp";
/// The suffix of a put in progress.
const PART: &str = ".part";

/// File content kept as one file per blob in a folder (the embedded default beside
/// [`SqliteStore`](crate::SqliteStore)); the bytes are the envelope's ciphertext, so
/// the folder holds nothing readable without the keyring.
///
/// Cheap to share behind an `Arc`; several stores (even in several processes) may
/// use one folder, as long as [`BlobStore::sweep`] runs only while none is putting.
#[derive(Debug, Clone)]
pub struct FileBlobStore {
    dir: PathBuf,
    tmp: PathBuf,
}

impl FileBlobStore {
    /// Opens (creating if needed, owner-only 0700) the folder `dir` and its `tmp`
    /// folder. An existing folder keeps the mode its owner chose.
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        blocking("opening the blob folder", move || {
            let tmp = dir.join(TMP);
            create_dir_owner_only(&dir)?;
            create_dir_owner_only(&tmp)?;
            Ok(Self { dir, tmp })
        })
        .await
    }

    /// The folder this store keeps its blobs in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The completed blobs whose bytes were last written at least `age` ago, sorted
    /// (puts in progress, in `tmp/`, are not listed; names that are not blob ids are
    /// ignored).
    ///
    /// This is the first half of an orphan sweep: a put that completed but whose
    /// record was never written (the process died between the two) leaves a blob no
    /// record points at, which [`BlobStore::sweep`] cannot tell from a live one. The
    /// age is measured from the end of the put (the file's modification time), so a
    /// blob whose upload is still being scanned and recorded is not listed as long as
    /// `age` is longer than any upload takes to finish. [`Self::remove_orphans`] is
    /// the whole sweep.
    pub async fn completed_older_than(&self, age: Duration) -> Result<Vec<BlobId>> {
        let dir = self.dir.clone();
        blocking("listing the blobs", move || {
            let now = SystemTime::now();
            let mut old = Vec::new();
            let entries =
                std::fs::read_dir(&dir).map_err(|e| io("cannot list the blobs", &dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| io("cannot list the blobs", &dir, e))?;
                let Some(id) = entry
                    .file_name()
                    .to_str()
                    .and_then(|name| name.parse::<BlobId>().ok())
                else {
                    continue;
                };
                let meta = match entry.metadata() {
                    Ok(meta) => meta,
                    // Deleted since the listing: not a blob any more.
                    Err(e) if e.kind() == ErrorKind::NotFound => continue,
                    Err(e) => return Err(io("cannot read the blob's metadata", &entry.path(), e)),
                };
                if !meta.is_file() {
                    continue;
                }
                let written = meta.modified().map_err(|e| {
                    io("cannot read the blob's modification time", &entry.path(), e)
                })?;
                // A time in the future (a clock set back) is not old.
                if now
                    .duration_since(written)
                    .is_ok_and(|elapsed| elapsed >= age)
                {
                    old.push(id);
                }
            }
            old.sort();
            Ok(old)
        })
        .await
    }

    /// Removes the completed blobs at least `min_age` old that no record of `records`
    /// points at ([`DocumentStore::blob_in_use`]); returns how many it removed.
    ///
    /// Run it at start-up, after [`BlobStore::sweep`]. `min_age` protects uploads in
    /// flight in other processes sharing the folder: their blob exists before their
    /// record does, so it must be longer than an upload takes from the end of its put
    /// to its record (the scan runs in between); an hour is plenty. `records` must
    /// know every kind of record that points at blobs of this folder, or live blobs
    /// would be removed.
    pub async fn remove_orphans(
        &self,
        records: &dyn DocumentStore,
        min_age: Duration,
    ) -> Result<u64> {
        let old = self.completed_older_than(min_age).await?;
        portal_core::blob::remove_unrecorded(self, records, old).await
    }

    fn blob_path(&self, id: BlobId) -> PathBuf {
        self.dir.join(id.to_string())
    }

    fn part_path(&self, id: BlobId) -> PathBuf {
        self.tmp.join(format!("{id}{PART}"))
    }
}

/// Runs blocking file work on tokio's blocking pool, so no file system call ever
/// blocks an async worker thread.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::storage(what, e))?
}

/// A file system error as the core's meaning: a full disk (or a used-up quota) is
/// `StorageFull`, anything else `Storage`; both name the path for the log.
fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    match e.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            tracing::error!(error = %e, path = %path.display(), "the disk is full: {what}");
            Error::storage_full(format!("{what} {}: {e}", path.display()))
        }
        _ => Error::storage(format!("{what} {}", path.display()), e),
    }
}

fn create_dir_owner_only(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| io("cannot create the blob folder", dir, e))
}

/// Creates a new file owner-only (0600); an existing one is `AlreadyExists`.
fn create_new_owner_only(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes the folder's entries (a new or removed name) durable. On systems where a
/// folder cannot be opened for this, the rename or unlink is as durable as they allow.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("cannot sync the blob folder", dir, e))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn remove_if_exists(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// How far a put got, shared between the put's future and its blocking steps, so a
/// put that is dropped (the client went away) is undone whatever step was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Bytes go to the part file.
    Writing,
    /// The completed name exists, the folder is being synced: not answered yet.
    Linked,
    /// The put answered `Ok`: the blob is the caller's now.
    Done,
    /// The put was dropped: the finishing step must not link.
    Abandoned,
}

/// Undoes an unfinished put when its future ends without completing: removes the part
/// file, and the completed name if the link already happened. An error return goes
/// through here too, so a failed put leaves nothing (a crash leaves the part file,
/// for [`BlobStore::sweep`]).
struct PutGuard {
    phase: Arc<Mutex<Phase>>,
    part: PathBuf,
    blob: PathBuf,
}

impl PutGuard {
    fn set(phase: &Mutex<Phase>, to: Phase) -> Phase {
        let mut p = phase.lock().unwrap_or_else(|p| p.into_inner());
        let was = *p;
        if was != Phase::Abandoned {
            *p = to;
        }
        was
    }
}

impl Drop for PutGuard {
    fn drop(&mut self) {
        let was = Self::set(&self.phase, Phase::Abandoned);
        if was == Phase::Done {
            return;
        }
        // Best effort: what cannot be removed now is a part file for the next sweep.
        let _ = remove_if_exists(&self.part);
        if was == Phase::Linked {
            let _ = remove_if_exists(&self.blob);
        }
    }
}

/// One batch's two jobs on the blocking pool, running side by side: hashing it into
/// the tally and writing it to the part file. Each hands its state (the tally, the
/// writer) on to the next batch's job, so batches are hashed and written in order.
///
/// Hashing here rather than as the bytes arrive puts the SHA-256 of the stored bytes
/// on another core than the one producing them (parsing the upload, encrypting it),
/// and hashing beside the write rather than before it keeps the write from waiting for
/// the hash: measured by `bench-upload` (docs/PERFORMANCE.md), SHA-256 is the largest
/// single cost of an upload, about 0.6 s of CPU per GiB.
struct InFlight {
    hash: JoinHandle<Tally>,
    write: JoinHandle<Result<PartWriter>>,
}

impl InFlight {
    fn start(mut writer: PartWriter, mut tally: Tally, batch: Vec<Bytes>) -> Self {
        let to_hash = batch.clone();
        let hash = tokio::task::spawn_blocking(move || {
            for bytes in &to_hash {
                tally.update(bytes);
            }
            tally
        });
        let write = tokio::task::spawn_blocking(move || {
            for bytes in &batch {
                writer.write(bytes)?;
            }
            Ok(writer)
        });
        Self { hash, write }
    }

    /// Waits for both jobs; the writer and the tally with the batch in them.
    async fn join(self) -> Result<(PartWriter, Tally)> {
        let writer = self
            .write
            .await
            .map_err(|e| Error::storage("writing a blob", e))??;
        let tally = self
            .hash
            .await
            .map_err(|e| Error::storage("hashing a blob", e))?;
        Ok((writer, tally))
    }
}

/// Alignment of direct writes: file offsets, lengths and memory addresses must be
/// multiples of the device's logical block size, which is at most 4 KiB on the disks
/// this runs on (a larger one makes the first direct write fail, and the writer falls
/// back to the page cache).
const ALIGN: usize = 4096;

/// Writes a part file in whole [`WRITE_BATCH`] blocks from a staging buffer, around the
/// page cache where the file system allows it (Linux `O_DIRECT`).
///
/// Why: the sealed chunks arrive as 64 KiB pieces, and writing them through the page
/// cache cost the upload's write thread about as much CPU as `dd` spends on the same
/// gigabyte (the kernel copies every byte into cache pages it allocates, then writes
/// them back). A blob is written once and read rarely, so caching it is of no use; a
/// direct write hands the disk the staging buffer instead. `bench-upload` measures it
/// (docs/PERFORMANCE.md). The staging buffer (1 MiB, aligned by slicing, no `unsafe`)
/// is the only copy, and it turns 16 writes of 64 KiB into one.
///
/// Bytes staged but not yet written (at most one block) are written by
/// [`Self::finish`]; the tail that is not a whole [`ALIGN`] goes through the page
/// cache on a second, ordinary handle of the same file, which then fsyncs it all.
struct PartWriter {
    /// The ordinary handle: fsyncs, and writes whatever a direct write cannot.
    plain: File,
    /// The same file opened for direct writes, while they work.
    direct: Option<File>,
    /// `WRITE_BATCH + ALIGN` bytes; `buf[start..start + WRITE_BATCH]` is aligned.
    buf: Vec<u8>,
    start: usize,
    /// Bytes staged from `start`.
    filled: usize,
    /// File offset of the first staged byte.
    offset: u64,
    path: PathBuf,
}

impl PartWriter {
    /// A writer for the part file `path`, just created (and so owned) as `plain`.
    fn new(plain: File, path: PathBuf) -> Self {
        let buf = vec![0u8; WRITE_BATCH + ALIGN];
        let start = buf.as_ptr().align_offset(ALIGN);
        let direct = if start < ALIGN {
            open_direct(&path)
        } else {
            None
        };
        Self {
            plain,
            direct,
            buf,
            start: start.min(ALIGN),
            filled: 0,
            offset: 0,
            path,
        }
    }

    fn write(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let room = WRITE_BATCH - self.filled;
            let n = room.min(bytes.len());
            let at = self.start + self.filled;
            self.buf[at..at + n].copy_from_slice(&bytes[..n]);
            self.filled += n;
            bytes = &bytes[n..];
            if self.filled == WRITE_BATCH {
                self.flush_aligned()?;
            }
        }
        Ok(())
    }

    /// Writes the whole [`ALIGN`] blocks staged and keeps the rest at the front.
    fn flush_aligned(&mut self) -> Result<()> {
        let whole = self.filled - self.filled % ALIGN;
        if whole == 0 {
            return Ok(());
        }
        self.write_at(self.start, whole)?;
        self.buf
            .copy_within(self.start + whole..self.start + self.filled, self.start);
        self.filled -= whole;
        Ok(())
    }

    /// Writes `buf[from..from + len]` at the current offset: directly if it can, else
    /// (the file system refused a direct write) through the page cache from now on.
    fn write_at(&mut self, from: usize, len: usize) -> Result<()> {
        let bytes = &self.buf[from..from + len];
        if let Some(direct) = &self.direct {
            match write_direct(direct, bytes, self.offset) {
                Ok(()) => {
                    self.offset += len as u64;
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::InvalidInput => {
                    tracing::debug!(error = %e, "direct writes refused: writing through the page cache");
                    self.direct = None;
                }
                Err(e) => return Err(io("cannot write the blob part", &self.path, e)),
            }
        }
        self.plain
            .seek(SeekFrom::Start(self.offset))
            .and_then(|_| self.plain.write_all(bytes))
            .map_err(|e| io("cannot write the blob part", &self.path, e))?;
        self.offset += len as u64;
        Ok(())
    }

    /// Writes what is staged and makes the whole file durable; the ordinary handle,
    /// for the caller to drop.
    fn finish(mut self) -> Result<File> {
        self.flush_aligned()?;
        if self.filled > 0 {
            // Less than one ALIGN block: a direct write cannot take it.
            self.direct = None;
            self.write_at(self.start, self.filled)?;
            self.filled = 0;
        }
        self.plain
            .sync_all()
            .map_err(|e| io("cannot sync the blob part", &self.path, e))?;
        Ok(self.plain)
    }
}

/// One direct write of whole aligned blocks at `offset`.
#[cfg(target_os = "linux")]
fn write_direct(file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(bytes, offset)
}

#[cfg(not(target_os = "linux"))]
fn write_direct(_: &File, _: &[u8], _: u64) -> std::io::Result<()> {
    Err(ErrorKind::InvalidInput.into())
}

/// The part file opened a second time for direct writes, or `None` where the system or
/// the file system has none (then every write goes through the page cache).
fn open_direct(path: &Path) -> Option<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
        {
            Ok(file) => Some(file),
            Err(e) => {
                tracing::debug!(error = %e, "no direct writes here: writing through the page cache");
                None
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

#[async_trait]
impl BlobStore for FileBlobStore {
    async fn put(&self, id: BlobId, mut content: ByteStream) -> Result<BlobInfo> {
        let (part, blob) = (self.part_path(id), self.blob_path(id));
        let exists = {
            let blob = blob.clone();
            blocking("checking a blob", move || {
                blob.try_exists()
                    .map_err(|e| io("cannot check the blob", &blob, e))
            })
            .await?
        };
        if exists {
            return Err(Error::conflict("a blob with this id exists"));
        }
        let file = {
            let part = part.clone();
            blocking("creating a blob part", move || {
                create_new_owner_only(&part).map_err(|e| match e.kind() {
                    ErrorKind::AlreadyExists => Error::conflict("a put of this blob is running"),
                    _ => io("cannot create the blob part", &part, e),
                })
            })
            .await?
        };
        // From here on, the part file is ours: the guard removes it unless we finish.
        let phase = Arc::new(Mutex::new(Phase::Writing));
        let _guard = PutGuard {
            phase: phase.clone(),
            part: part.clone(),
            blob: blob.clone(),
        };

        let mut idle = Some((PartWriter::new(file, part.clone()), Tally::new()));
        let mut in_flight: Option<InFlight> = None;
        let mut batch: Vec<Bytes> = Vec::new();
        let mut batched = 0usize;
        loop {
            let next = content.next().await;
            let end = match next {
                Some(item) => {
                    let bytes = item?;
                    batched += bytes.len();
                    if !bytes.is_empty() {
                        batch.push(bytes);
                    }
                    false
                }
                None => true,
            };
            if batched >= WRITE_BATCH || (end && !batch.is_empty()) {
                let (writer, tally) = match (idle.take(), in_flight.take()) {
                    (Some(state), _) => state,
                    (None, Some(jobs)) => jobs.join().await?,
                    (None, None) => return Err(Error::storage_msg("blob part file lost")),
                };
                in_flight = Some(InFlight::start(writer, tally, std::mem::take(&mut batch)));
                batched = 0;
            }
            if end {
                break;
            }
        }
        let (writer, tally) = match (idle.take(), in_flight.take()) {
            (Some(state), _) => state,
            (None, Some(jobs)) => jobs.join().await?,
            (None, None) => return Err(Error::storage_msg("blob part file lost")),
        };

        // Finish on the blocking pool: write the staged tail, fsync, link (never
        // replaces), unlink the part, sync the folder. Checks the phase under its lock, so a dropped put either
        // stops before the link or has its link removed by the guard.
        let dir = self.dir.clone();
        let finish_phase = phase.clone();
        blocking("finishing a blob", move || {
            drop(writer.finish()?);
            {
                let mut p = finish_phase.lock().unwrap_or_else(|p| p.into_inner());
                if *p == Phase::Abandoned {
                    let _ = remove_if_exists(&part);
                    return Err(Error::storage_msg("the put was abandoned"));
                }
                std::fs::hard_link(&part, &blob).map_err(|e| match e.kind() {
                    ErrorKind::AlreadyExists => Error::conflict("a blob with this id exists"),
                    _ => io("cannot link the blob", &blob, e),
                })?;
                *p = Phase::Linked;
            }
            remove_if_exists(&part).map_err(|e| io("cannot remove the blob part", &part, e))?;
            sync_dir(&dir)
        })
        .await?;
        if PutGuard::set(&phase, Phase::Done) == Phase::Abandoned {
            return Err(Error::storage_msg("the put was abandoned"));
        }
        Ok(tally.finish())
    }

    async fn get(&self, id: BlobId) -> Result<ByteStream> {
        let path = self.blob_path(id);
        let file = blocking("opening a blob", move || match File::open(&path) {
            Ok(f) => Ok(f),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::not_found(Entity::Blob)),
            Err(e) => Err(io("cannot open the blob", &path, e)),
        })
        .await?;
        // An open file keeps its bytes even if the blob is deleted meanwhile, so a get
        // already streaming finishes with the blob it opened.
        Ok(Box::pin(futures_util::stream::unfold(
            Some(file),
            |state| async move {
                let mut file = state?;
                let read = tokio::task::spawn_blocking(move || {
                    let mut buf = BytesMut::zeroed(READ_PIECE);
                    let mut filled = 0;
                    while filled < buf.len() {
                        match file.read(&mut buf[filled..]) {
                            Ok(0) => break,
                            Ok(n) => filled += n,
                            Err(e) if e.kind() == ErrorKind::Interrupted => {}
                            Err(e) => return Err(Error::storage("cannot read a blob", e)),
                        }
                    }
                    buf.truncate(filled);
                    Ok((file, buf.freeze()))
                })
                .await
                .map_err(|e| Error::storage("reading a blob", e));
                match read {
                    Ok(Ok((_, bytes))) if bytes.is_empty() => None,
                    Ok(Ok((file, bytes))) => Some((Ok(bytes), Some(file))),
                    Ok(Err(e)) | Err(e) => Some((Err(e), None)),
                }
            },
        )))
    }

    async fn delete(&self, id: BlobId) -> Result<()> {
        let (path, dir) = (self.blob_path(id), self.dir.clone());
        blocking("deleting a blob", move || {
            // Synced, so a deleted file (a client's withdrawn upload) does not come
            // back after a power loss.
            if remove_if_exists(&path).map_err(|e| io("cannot delete the blob", &path, e))? {
                sync_dir(&dir)?;
            }
            Ok(())
        })
        .await
    }

    async fn sweep(&self) -> Result<u64> {
        let tmp = self.tmp.clone();
        blocking("sweeping blob parts", move || {
            let mut removed = 0u64;
            let entries =
                std::fs::read_dir(&tmp).map_err(|e| io("cannot list the blob parts", &tmp, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| io("cannot list the blob parts", &tmp, e))?;
                let path = entry.path();
                if remove_if_exists(&path)
                    .map_err(|e| io("cannot remove the blob part", &path, e))?
                {
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where direct writes are refused (or not offered), the same staging writes
    /// everything through the page cache, at the right offsets.
    #[test]
    fn the_writer_without_direct_writes_keeps_every_byte_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part");
        let plain = create_new_owner_only(&path).unwrap();
        let mut writer = PartWriter::new(plain, path.clone());
        writer.direct = None;
        let content: Vec<u8> = (0..(2 * WRITE_BATCH + 5000))
            .map(|i| (i % 251) as u8 ^ (i / ALIGN) as u8)
            .collect();
        for piece in content.chunks(65_552) {
            writer.write(piece).unwrap();
        }
        drop(writer.finish().unwrap());
        assert!(std::fs::read(&path).unwrap() == content);
    }
}
