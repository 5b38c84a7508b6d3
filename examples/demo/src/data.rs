//! The data folder: what lives where, and who may use it.
//!
//! ```text
//! <data-dir>/
//!   portal.db (+ -wal, -shm)   the SQLite database: every record
//!   files/                     uploaded files, encrypted, one file per blob (0700)
//!   keys/file-keys             the keys that unlock those files (0600, folder 0700)
//!   server-secret.key          keys code hashes and CSRF tokens (0600)
//!   outbox/                    emails as .eml files (when no SMTP server is set)
//!   demo.lock                  held by the running demo process
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};

use portal_core::secret::ServerSecret;
use portal_core::{Error, OsRandom, Result};

/// The lock file's name inside the data folder.
const LOCK: &str = "demo.lock";

/// A data folder this process has locked: no other `portal-demo` process can use it
/// until this value is dropped (or the process ends, however it ends).
///
/// Why a lock: the server keeps the keyring in memory. A key rotation run beside it
/// would re-wrap file keys under a key the server has never loaded (its downloads of
/// those files would fail until a restart) while the server kept wrapping new files
/// under the old key; two servers on one folder would each re-issue the invite. The
/// lock is an OS advisory lock (`flock` on Unix) on `demo.lock`: the kernel releases
/// it when the process dies, so a crash never leaves a stale lock behind.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Creates the folder if needed and locks it. `Conflict` if another `portal-demo`
    /// process holds it.
    pub fn lock(dir: &Path) -> Result<Self> {
        let (root, path, file) = lock_file(dir)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { root, _lock: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::conflict(format!(
                "another portal-demo process (the server, or a rotate-keys run) is using the \
                 data folder {}; stop it first, or give this one another --data-dir",
                root.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(io("cannot lock", &path, e)),
        }
    }

    /// Creates the folder if needed and takes a shared lock on it, for a node of a
    /// cluster (`--database-url`): several nodes share the folder (server secret, key
    /// file, API keys, files, outbox), while a single-node server or `rotate-keys`,
    /// which need it alone, are kept out. `Conflict` if one of those holds it.
    pub fn lock_shared(dir: &Path) -> Result<Self> {
        let (root, path, file) = lock_file(dir)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(Self { root, _lock: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::conflict(format!(
                "a single-node portal-demo server or a rotate-keys run is using the data \
                 folder {}; stop it first (cluster nodes only share the folder with each other)",
                root.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(io("cannot lock", &path, e)),
        }
    }

    /// Locks an existing data folder: `Invalid` if it holds no demo database, so a
    /// command that only works on existing data (`rotate-keys`) never creates a folder
    /// from a mistyped `--data-dir`.
    pub fn lock_existing(dir: &Path) -> Result<Self> {
        if !dir.join("portal.db").is_file() {
            return Err(Error::invalid(
                "data folder",
                format!(
                    "{} has no demo database (portal.db): check --data-dir, or start the demo once",
                    dir.display()
                ),
            ));
        }
        Self::lock(dir)
    }

    /// The folder (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.root.join("portal.db")
    }

    /// The folder of encrypted uploaded files.
    pub fn files(&self) -> PathBuf {
        self.root.join("files")
    }

    /// The key file that unlocks the uploaded files.
    pub fn key_file(&self) -> PathBuf {
        self.root.join("keys").join("file-keys")
    }

    /// The outbox of emails.
    pub fn outbox(&self) -> PathBuf {
        self.root.join("outbox")
    }

    /// Deletes everything in the folder but the lock (`--reset`), while holding the
    /// lock, so a reset can never pull the data out from under a running server.
    pub fn reset(&self) -> Result<()> {
        let entries = std::fs::read_dir(&self.root)
            .map_err(|e| io("cannot list the data folder", &self.root, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io("cannot list the data folder", &self.root, e))?;
            if entry.file_name() == LOCK {
                continue;
            }
            let path = entry.path();
            let is_dir = entry
                .file_type()
                .map_err(|e| io("cannot read", &path, e))?
                .is_dir();
            let removed = if is_dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|e| io("cannot delete", &path, e))?;
        }
        Ok(())
    }

    /// Loads the server secret, creating it (owner-only) on first run.
    pub fn server_secret(&self) -> Result<ServerSecret> {
        let path = self.root.join("server-secret.key");
        if let Ok(bytes) = std::fs::read(&path) {
            return ServerSecret::from_bytes(bytes);
        }
        let secret = ServerSecret::generate(&OsRandom);
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut options = File::options();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            options.open(&path)?.write_all(secret.expose_secret())
        };
        write().map_err(|e| io("cannot write the server secret", &path, e))?;
        Ok(secret)
    }
}

/// Creates the folder if needed and opens its lock file (not locked yet): the folder's
/// absolute path, the lock file's path, the file.
fn lock_file(dir: &Path) -> Result<(PathBuf, PathBuf, File)> {
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create the data folder", dir, e))?;
    let root =
        std::fs::canonicalize(dir).map_err(|e| io("cannot resolve the data folder", dir, e))?;
    let path = root.join(LOCK);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io("cannot open the lock file", &path, e))?;
    Ok((root, path, file))
}

/// An I/O failure on the data folder, with the OS's reason and what to do about it.
fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    use std::io::ErrorKind as K;
    let hint = match e.kind() {
        K::PermissionDenied | K::ReadOnlyFilesystem => {
            "; the data folder must be writable by this user: fix its permissions, or give \
             another --data-dir"
        }
        K::NotADirectory | K::NotFound | K::AlreadyExists => {
            "; check the --data-dir path: it must be a folder, or a place where one can be created"
        }
        K::StorageFull => "; the disk is full: free some space and start again",
        _ => "; check the --data-dir folder, or give another one",
    };
    Error::storage_msg(format!("{what} {}: {e}{hint}", path.display()))
}
