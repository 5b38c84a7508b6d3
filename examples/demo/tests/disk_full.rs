//! Disk full, through the real `portal-demo` binary: its data folder on a 16 MiB tmpfs
//! that the test fills up. Writes then get the "out of storage space" page (a 503 with
//! `Retry-After`, quickly, and the server stays up), an upload gets the same as a
//! problem document and leaves no blob behind, what was committed before is still
//! shown, and once the filler file is deleted writes work again.
//!
//! Needs root (to mount the tmpfs): otherwise, or when the mount fails, it prints
//! SKIPPED and passes, unless `CI` is set and it runs as root (then a failed mount
//! fails the test).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::Method;
use portal_tests::{Browser, Page, code_in, eml, multipart, sign_in_over_http};

const DEMO: &str = env!("CARGO_BIN_EXE_portal-demo");
const FULL: &str =
    "The server is out of storage space, so your change was not saved. Please try again later.";

/// The tmpfs and the server on it: the server is killed first, then the tmpfs
/// unmounted, however the test ends.
struct Mounted {
    dir: PathBuf,
    server: Option<Child>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the demo on `data` and returns the invite link's path once it is printed.
fn start(mounted: &mut Mounted, data: &Path, port: u16, log: &Path) -> String {
    let out = std::fs::File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    let child = Command::new(DEMO)
        .args(["--data-dir", &data.display().to_string()])
        .args(["--port", &port.to_string()])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    mounted.server = Some(child);
    let started = Instant::now();
    let needle = format!("localhost:{port}");
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(i) = text.find(&format!("{needle}/i/")) {
            return text[i + needle.len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
        }
        if let Some(status) = mounted.server.as_mut().unwrap().try_wait().unwrap() {
            panic!("the demo exited during startup ({status}):\n{text}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no invite link within 60 s:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `f` within 30 s: a full disk must give an answer, not a hang.
async fn soon<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(30), f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no answer within 30 s"),
    }
}

/// Writes a filler file until the file system says it is full; returns its size.
fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).unwrap();
    let mut written = 0u64;
    for chunk in [1 << 20, 4096, 1] {
        let buf = vec![0x5au8; chunk];
        loop {
            match file.write(&buf) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
    }
    written
}

/// The task ids linked from the portal home.
fn task_ids(home: &str) -> Vec<String> {
    let mut ids: Vec<String> = home
        .split("tasks/")
        .skip(1)
        .filter_map(|s| s.get(..36))
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        .map(str::to_owned)
        .collect();
    ids.dedup();
    ids
}

/// Blob files and leftover parts under the data folder's `files/`.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_in(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

async fn comment(b: &Browser, task: &str, text: &str) -> Page {
    let page = soon("task page", b.get(&format!("/tasks/{task}"))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    soon(
        "comment",
        b.post(
            &format!("/tasks/{task}/comments"),
            &[("csrf", &page.csrf()), ("comment", text)],
        ),
    )
    .await
}

async fn upload(b: &Browser, task: &str, name: &str) -> Page {
    let page = soon("task page", b.get(&format!("/tasks/{task}"))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let content = format!("%PDF-1.4\n% {name}\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n");
    let body = multipart::upload_form(&page.csrf(), name, content.as_bytes());
    soon(
        "upload",
        b.send_with(
            Method::POST,
            &format!("/tasks/{task}/documents/diagram"),
            Some(&multipart::content_type()),
            &[("accept", "application/json")],
            body,
        ),
    )
    .await
}

#[tokio::test]
async fn a_full_disk_refuses_writes_clearly_and_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("small");
    std::fs::create_dir(&dir).unwrap();
    let root = is_root();
    let mounted = root
        && Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
    if !mounted {
        assert!(
            !(root && std::env::var_os("CI").is_some()),
            "running as root in CI, and mounting a tmpfs failed"
        );
        eprintln!("SKIPPED: needs root and `mount -t tmpfs` (root: {root})");
        return;
    }
    let mut guard = Mounted {
        dir: dir.clone(),
        server: None,
    };
    let data = dir.join("data");
    // The log stays off the small file system: it must be readable after the fill.
    let log = tmp.path().join("demo.log");
    let port = free_port();
    let invite = start(&mut guard, &data, port, &log);
    let b = Browser::new(SocketAddr::from(([127, 0, 0, 1], port)));
    let outbox = data.join("outbox");
    sign_in_over_http(&b, &invite, || {
        code_in(&eml::newest_with_code(&outbox).text)
    })
    .await;

    let home = soon("home", b.get("/")).await;
    assert_eq!(home.status, 200);
    let tasks = task_ids(&home.body);
    assert!(
        !tasks.is_empty(),
        "no task links on the home page:\n{}",
        home.body
    );
    let task = tasks[0].clone();
    let upload_task = {
        let mut found = None;
        for t in &tasks {
            let page = soon("task page", b.get(&format!("/tasks/{t}"))).await;
            if page.body.contains("documents/diagram") {
                found = Some(t.clone());
                break;
            }
        }
        found.expect("the demo has a document upload task")
    };

    // Writes before the disk fills.
    for n in 0..3 {
        let r = comment(&b, &task, &format!("before-full-{n}")).await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let before = upload(&b, &upload_task, "before-full.pdf").await;
    assert_eq!(before.status, 200, "{}", before.body);
    let blobs_before = files_in(&data.join("files"));

    let filler = dir.join("filler");
    let filled = fill(&filler);
    eprintln!("filled the tmpfs with {filled} bytes");

    // A write: the clear page, quickly, and the server lives on.
    let refused = comment(&b, &task, "while-full").await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(refused.body.contains(FULL), "{}", refused.body);
    assert_eq!(refused.header("retry-after"), "300");
    {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r#"nonce="[0-9a-f]{32}""#, r#"nonce="[nonce]""#);
        settings.set_prepend_module_to_snapshot(false);
        let _guard = settings.bind_to_scope();
        insta::assert_snapshot!("page_storage_full", refused.body);
    }
    let again = comment(&b, &task, "while-full-again").await;
    assert_eq!(again.status, 503, "{}", again.body);
    assert!(
        guard.server.as_mut().unwrap().try_wait().unwrap().is_none(),
        "the server died on the full disk"
    );

    // An upload: a problem document with the same words, and no blob or part left.
    let up = upload(&b, &upload_task, "while-full.pdf").await;
    assert_eq!(up.status, 503, "{}", up.body);
    assert!(
        up.header("content-type")
            .starts_with("application/problem+json"),
        "{}",
        up.header("content-type")
    );
    assert!(up.body.contains(FULL), "{}", up.body);
    assert_eq!(files_in(&data.join("files")), blobs_before);

    // Everything committed before is still shown; nothing of the refused writes.
    let page = soon("task page", b.get(&format!("/tasks/{task}"))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for n in 0..3 {
        assert!(page.body.contains(&format!("before-full-{n}")));
    }
    assert!(!page.body.contains("while-full"));
    let docs = soon("upload task page", b.get(&format!("/tasks/{upload_task}"))).await;
    assert_eq!(docs.status, 200, "{}", docs.body);
    assert!(docs.body.contains("before-full.pdf"));
    assert!(!docs.body.contains("while-full.pdf"));

    // Space freed: writes work again.
    std::fs::remove_file(&filler).unwrap();
    let ok = comment(&b, &task, "after-freed").await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let up = upload(&b, &upload_task, "after-freed.pdf").await;
    assert_eq!(up.status, 200, "{}", up.body);
    let page = soon("task page", b.get(&format!("/tasks/{task}"))).await;
    assert!(page.body.contains("after-freed"));
    assert!(page.body.contains("before-full-2"));

    let log_text = std::fs::read_to_string(&log).unwrap();
    for line in log_text.lines().filter(|l| l.contains("full")) {
        eprintln!("server log: {line}");
    }
    assert!(
        log_text
            .lines()
            .any(|l| l.contains("ERROR") && l.contains("out of storage space")),
        "no error-level log line names the full disk:\n{log_text}"
    );
    assert!(!log_text.contains("panicked"), "{log_text}");
    drop(guard);
}
