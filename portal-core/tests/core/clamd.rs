//! `ClamdScanner` against a real clamd (Debian's `clamav-daemon`), started by each test
//! as a child process with a configuration and a signature database written into a
//! fresh folder: one MD5 signature (`.hdb`) of the EICAR test file, generated here, so
//! nothing is downloaded (no freshclam) and no system service is touched. clamd
//! listens on a free loopback port and on a Unix socket in that folder, with
//! `StreamMaxLength 1M` so the size limit is cheap to reach.
//!
//! `PORTAL_TEST_CLAMD` names the clamd binary (CI sets it), else `clamd` on the PATH,
//! else `/usr/sbin/clamd`. Without one a test prints why it is skipped and returns,
//! except when `CI` is set: then it fails, so CI never passes without running them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use portal_core::blob::{ByteStream, stream_of};
use portal_core::scan::clamd::{ClamdConfig, ClamdScanner};
use portal_core::scan::{ContentScanner, ScanVerdict};

/// The name the generated database gives the EICAR file. clamd appends `.UNOFFICIAL`
/// when it reports it, as it does for every signature outside ClamAV's signed
/// databases.
const EICAR_SIGNATURE: &str = "Eicar-Test-Signature";

/// The EICAR anti-virus test file (68 bytes), put together at run time so the
/// repository never holds it in one piece (scanners flag files that do).
fn eicar() -> Vec<u8> {
    let parts = [
        "X5O!P%@AP[4\\PZX5",
        "4(P^)7CC)7}$",
        "EICAR-STANDARD-",
        "ANTIVIRUS-TEST-",
        "FILE!$H+H*",
    ];
    let file = parts.concat().into_bytes();
    assert_eq!(file.len(), 68);
    file
}

/// The clamd binary, or `None` after saying why the test is skipped.
fn clamd_binary() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("PORTAL_TEST_CLAMD") {
        Some(path) => vec![path.into()],
        None => vec!["clamd".into(), "/usr/sbin/clamd".into()],
    };
    for candidate in &candidates {
        let runs = Command::new(candidate)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if runs {
            return Some(candidate.clone());
        }
    }
    let why = format!(
        "the real-clamd tests need clamd, and none of {candidates:?} runs \
         (apt-get install clamav-daemon, or set PORTAL_TEST_CLAMD to the clamd binary)"
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}; CI is set, so this fails"
    );
    // Straight to stderr, past libtest's capture of `eprintln!`: a skip must be seen.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
    None
}

/// A running clamd in its own folder; killed on drop.
struct Clamd {
    child: Child,
    port: u16,
    socket: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Clamd {
    /// Starts clamd and waits until it answers PING, or `None` when the test is skipped
    /// (see [`clamd_binary`]).
    async fn start() -> Option<Self> {
        let binary = clamd_binary()?;
        // The port is picked free and then given to clamd, so another process may take
        // it in between: a clamd that exits at start-up is started again on a new port.
        let mut last_log = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let port = free_port();
            let conf = write_config(dir.path(), port);
            let log = std::fs::File::create(dir.path().join("stdout.log")).unwrap();
            let child = Command::new(&binary)
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            let mut clamd = Self {
                child,
                port,
                socket: dir.path().join("clamd.sock"),
                dir,
            };
            if clamd.wait_ready().await {
                return Some(clamd);
            }
            last_log = clamd.logs();
        }
        panic!("clamd did not start; its last logs:\n{last_log}");
    }

    /// Waits up to 60 s for PONG on the Unix socket; `false` if clamd exited.
    async fn wait_ready(&mut self) -> bool {
        let started = Instant::now();
        let scanner = ClamdScanner::new(self.unix());
        while started.elapsed() < Duration::from_secs(60) {
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            if scanner.ping().await.is_ok() {
                eprintln!(
                    "clamd answered PING {} ms after it was started",
                    started.elapsed().as_millis()
                );
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "clamd did not answer PING within 60 s; its logs:\n{}",
            self.logs()
        );
    }

    fn logs(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("stdout.log"), read("clamd.log"))
    }

    fn tcp(&self) -> ClamdConfig {
        ClamdConfig::tcp(format!("127.0.0.1:{}", self.port)).with_timeout(Duration::from_secs(30))
    }

    fn unix(&self) -> ClamdConfig {
        ClamdConfig::unix(&self.socket).with_timeout(Duration::from_secs(30))
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The generated database and a clamd.conf for a clamd of this test alone; returns
/// the config's path.
fn write_config(dir: &Path, port: u16) -> PathBuf {
    let db = dir.join("db");
    let tmp = dir.join("tmp");
    std::fs::create_dir(&db).unwrap();
    std::fs::create_dir(&tmp).unwrap();
    // `MD5:size:name`: the MD5 of the 68-byte EICAR file.
    std::fs::write(
        db.join("portal-test.hdb"),
        format!("44d88612fea8a8f36de82e1278abb02f:68:{EICAR_SIGNATURE}\n"),
    )
    .unwrap();
    let d = dir.display();
    // No `User`: clamd keeps the user that starts it (root in CI), which owns the folder.
    let conf = format!(
        "DatabaseDirectory {d}/db\n\
         TemporaryDirectory {d}/tmp\n\
         LocalSocket {d}/clamd.sock\n\
         TCPSocket {port}\n\
         TCPAddr 127.0.0.1\n\
         Foreground yes\n\
         LogFile {d}/clamd.log\n\
         PidFile {d}/clamd.pid\n\
         StreamMaxLength 1M\n\
         MaxThreads 4\n"
    );
    let path = dir.join("clamd.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

/// `data` in pieces of `size` bytes.
fn in_pieces(data: &[u8], size: usize) -> ByteStream {
    stream_of(data.chunks(size).map(Bytes::copy_from_slice).collect())
}

#[tokio::test]
async fn real_clamd_finds_eicar_over_tcp_and_unix() {
    let Some(clamd) = Clamd::start().await else {
        return;
    };
    let infected = ScanVerdict::infected(format!("{EICAR_SIGNATURE}.UNOFFICIAL"));
    for config in [clamd.tcp(), clamd.unix()] {
        let scanner = ClamdScanner::new(config.clone());
        let verdict = scanner.scan(in_pieces(&eicar(), 68)).await.unwrap();
        assert_eq!(verdict, infected, "{config:?}");

        // Split into 7-byte pieces and 16-byte chunks: clamd reassembles the file.
        let scanner = ClamdScanner::new(config.clone().with_chunk_size(16));
        let verdict = scanner.scan(in_pieces(&eicar(), 7)).await.unwrap();
        assert_eq!(verdict, infected, "{config:?}");

        let text = b"Quarterly onboarding checklist for Contoso Ltd.\n".repeat(5000);
        let verdict = scanner.scan(in_pieces(&text, 10_000)).await.unwrap();
        assert_eq!(verdict, ScanVerdict::Clean, "{config:?}");

        // One byte more and the hash no longer matches.
        let mut almost = eicar();
        almost.push(b'\n');
        almost.push(b'x');
        let verdict = ClamdScanner::new(config.clone())
            .scan(in_pieces(&almost, 68))
            .await
            .unwrap();
        assert_eq!(verdict, ScanVerdict::Clean, "{config:?}");
    }
}

#[tokio::test]
async fn real_clamd_answers_unscannable_over_its_stream_limit() {
    let Some(clamd) = Clamd::start().await else {
        return;
    };
    let just_over = vec![b'a'; 1024 * 1024 + 1];
    // Far over: clamd closes while the scanner is still sending (a failed write).
    let far_over = Bytes::from(vec![b'b'; 64 * 1024]);
    for config in [clamd.tcp(), clamd.unix()] {
        let scanner = ClamdScanner::new(config.clone());
        let verdict = scanner
            .scan(in_pieces(&just_over, 64 * 1024))
            .await
            .unwrap();
        let ScanVerdict::Unscannable { reason } = &verdict else {
            panic!("{config:?}: {verdict:?}");
        };
        assert!(reason.contains("INSTREAM size limit exceeded"), "{reason}");

        let piece = far_over.clone();
        let content = futures_util::stream::iter((0..1024).map(move |_| Ok(piece.clone())));
        let verdict = scanner.scan(Box::pin(content)).await.unwrap();
        let ScanVerdict::Unscannable { reason } = &verdict else {
            panic!("{config:?}: {verdict:?}");
        };
        assert!(reason.contains("INSTREAM size limit exceeded"), "{reason}");

        // Exactly at the limit is still scanned.
        let at_limit = vec![b'c'; 1024 * 1024];
        let verdict = scanner.scan(in_pieces(&at_limit, 64 * 1024)).await.unwrap();
        assert_eq!(verdict, ScanVerdict::Clean, "{config:?}");
    }
}

#[tokio::test]
async fn real_clamd_pings_and_tells_its_version() {
    let Some(clamd) = Clamd::start().await else {
        return;
    };
    let scanner = ClamdScanner::new(clamd.tcp());
    scanner.ping().await.unwrap();
    let version = scanner.version().await.unwrap();
    assert!(version.starts_with("ClamAV "), "{version}");
    // The scanner is usable for several scans at once, one connection each.
    let scans = (0..4).map(|_| scanner.scan(in_pieces(&eicar(), 10)));
    for verdict in futures_util::future::join_all(scans).await {
        assert!(verdict.unwrap().is_infected());
    }
}
