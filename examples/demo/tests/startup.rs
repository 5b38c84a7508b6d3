//! Startup errors of the real `portal-demo` binary: a data folder that cannot be
//! created or is read-only, a corrupt database file, a database of a newer schema.
//! Each stops the demo with exit status 1 and one error line that names the file and
//! says what to do, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const DEMO: &str = env!("CARGO_BIN_EXE_portal-demo");

/// Runs the demo server on `dir` (port 0: it must stop before it would listen).
fn demo_on(dir: &Path) -> Output {
    let mut child = Command::new(DEMO)
        .args(["--data-dir", dir.to_str().unwrap(), "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("portal-demo still ran after 30 s on {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Exit status 1, the file named, the hint there, no panic.
fn assert_refused(out: &Output, file: &Path, hint: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr:\n{stderr}\nstdout:\n{stdout}"
    );
    assert!(
        stderr.contains(&file.display().to_string()),
        "names {}:\n{stderr}",
        file.display()
    );
    assert!(stderr.contains(hint), "says {hint:?}:\n{stderr}");
    assert!(!stderr.contains("panicked") && !stdout.contains("panicked"));
    assert!(
        !stdout.contains("/i/"),
        "no invite link was printed:\n{stdout}"
    );
}

#[test]
fn a_data_folder_that_cannot_be_created() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"not a folder").unwrap();
    let dir = file.join("data");
    let out = demo_on(&dir);
    assert_refused(&out, &dir, "check the --data-dir path");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Not a directory"));
}

#[test]
fn a_read_only_data_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    // Root ignores permission bits: a read-only tmpfs there, or the mode elsewhere.
    let root = is_root();
    if root {
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("SKIPPED: running as root and mount failed (no read-only folder)");
            return;
        }
    } else {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    }
    let out = demo_on(&dir);
    if root {
        let _ = Command::new("umount").arg(&dir).status();
    } else {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    assert_refused(&out, &dir, "must be writable by this user");
}

#[test]
fn a_corrupt_database_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let db = dir.join("portal.db");
    // Not random bytes from the OS: a fixed pattern, so a failure is reproducible.
    let junk: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&db, &junk).unwrap();
    let out = demo_on(&dir);
    assert_refused(&out, &db, "Restore it from a backup");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a SQLite database or is damaged"));
    assert_eq!(
        std::fs::read(&db).unwrap(),
        junk,
        "the file is left as it was"
    );
}

#[test]
fn a_database_of_a_newer_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let db = dir.join("portal.db");
    let newer = portal_storage_sqlite::migrations::LATEST + 1;
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", newer).unwrap();
    }
    let out = demo_on(&dir);
    assert_refused(&out, &db, "upgrade the software");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("schema version {newer}")));
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
