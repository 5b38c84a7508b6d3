//! [`ClamdScanner`]: ClamAV's daemon, `clamd`, as a [`ContentScanner`] (feature
//! `clamd`).
//!
//! Speaks clamd's `INSTREAM` command over TCP (`host:port`) or a Unix socket: the file
//! is streamed to the daemon in length-prefixed chunks, so nothing is written to a
//! disk clamd can see and the portal never holds the whole file. The exchange:
//!
//! ```text
//! → zINSTREAM\0
//! → [len: u32 big-endian][len bytes]   (repeated; len ≤ the chunk size)
//! → [0, 0, 0, 0]                       (end of the file)
//! ← stream: OK\0                       → Clean
//! ← stream: <signature> FOUND\0        → Infected { signature }
//! ← <message> ERROR\0                  → Unscannable (e.g. "INSTREAM size limit exceeded. ERROR")
//! ```
//!
//! clamd refuses a file larger than its `StreamMaxLength` by answering
//! `INSTREAM size limit exceeded. ERROR` and closing the connection while the portal is
//! still sending; the scanner then reads that answer instead of reporting the failed
//! write. Everything is bounded by a connect timeout and an overall timeout, and every
//! failure of clamd (down, refused, timed out, an answer it cannot parse) is
//! [`ScanVerdict::Unscannable`] with a reason naming the address and what went wrong,
//! never bytes of the file.
//!
//! Hosts should [`ClamdScanner::ping`] at start-up, to learn about a wrong address
//! before the first upload rather than from an unscannable file.

use std::fmt;
#[cfg(unix)]
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::{ContentScanner, ScanVerdict};
use crate::blob::ByteStream;
use crate::error::Result;

/// The default chunk size: 64 KiB, far below any `StreamMaxLength` clamd accepts and
/// the size the portal's file envelope already works in.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

/// The largest chunk size a config accepts: 1 MiB. Each scan holds one chunk in
/// memory, so this bounds a scan's memory whatever the configuration says.
pub const MAX_CHUNK_SIZE: usize = 1024 * 1024;

/// The default connect timeout: 5 s. clamd runs beside the portal (loopback or a Unix
/// socket), so a connection that takes longer means it is not there.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The default overall timeout of one scan: 60 s, from connecting to clamd's answer,
/// reading the file included. clamd scans tens of megabytes a second, and its own
/// `StreamMaxLength` (25 MiB in Debian's default configuration) bounds the file.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest reply accepted from clamd. Real replies are a line (a signature name or
/// an error message); a server that sends more is not clamd.
const MAX_REPLY: usize = 4096;

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClamdAddress {
    /// A TCP address as `host:port` (clamd's `TCPAddr` and `TCPSocket`), resolved at
    /// each connection so a changed DNS entry is followed.
    Tcp(String),
    /// The path of clamd's Unix socket (its `LocalSocket`, e.g.
    /// `/run/clamav/clamd.ctl` on Debian).
    #[cfg(unix)]
    Unix(PathBuf),
}

impl fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(addr) => write!(f, "tcp:{addr}"),
            #[cfg(unix)]
            Self::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// How to reach clamd and how long to wait for it.
///
/// Start from [`ClamdConfig::tcp`] or [`ClamdConfig::unix`] and adjust with the `with_`
/// methods; the defaults suit a clamd on the same machine.
#[derive(Debug, Clone)]
pub struct ClamdConfig {
    address: ClamdAddress,
    connect_timeout: Duration,
    timeout: Duration,
    chunk_size: usize,
}

impl ClamdConfig {
    /// clamd at a TCP address, `host:port` (e.g. `127.0.0.1:3310`).
    pub fn tcp(addr: impl Into<String>) -> Self {
        Self::at(ClamdAddress::Tcp(addr.into()))
    }

    /// clamd at a Unix socket path.
    #[cfg(unix)]
    pub fn unix(path: impl Into<PathBuf>) -> Self {
        Self::at(ClamdAddress::Unix(path.into()))
    }

    fn at(address: ClamdAddress) -> Self {
        Self {
            address,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }

    /// How long connecting may take before the scan is `Unscannable`
    /// ([`DEFAULT_CONNECT_TIMEOUT`] unless set).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a whole scan may take, from connecting to clamd's answer, reading the
    /// file included, before it is `Unscannable` ([`DEFAULT_TIMEOUT`] unless set). Also
    /// bounds [`ClamdScanner::ping`] and [`ClamdScanner::version`]. Set it above the time
    /// clamd needs for the largest file its `StreamMaxLength` admits.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most file bytes sent in one `INSTREAM` chunk ([`DEFAULT_CHUNK_SIZE`] unless
    /// set), clamped to `1..=`[`MAX_CHUNK_SIZE`]. Small pieces of the file are gathered
    /// into full chunks, so the chunk size, not the stream's pieces, sets the framing.
    pub fn with_chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.clamp(1, MAX_CHUNK_SIZE);
        self
    }

    /// Where clamd listens.
    pub fn address(&self) -> &ClamdAddress {
        &self.address
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The overall timeout of one scan (or ping).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The chunk size.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }
}

/// clamd could not be asked ([`ClamdScanner::ping`], [`ClamdScanner::version`]): not
/// reachable, timed out, or it answered something unexpected. The message names the
/// address and what went wrong, for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ClamdUnavailable {
    reason: String,
}

impl ClamdUnavailable {
    /// What went wrong, with clamd's address.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// ClamAV's daemon as a [`ContentScanner`], over its `INSTREAM` protocol.
///
/// One connection per scan (clamd answers one `INSTREAM` per connection), so concurrent
/// scans run in parallel up to clamd's `MaxThreads`. It logs nothing itself: every
/// answer, trouble included, is in the verdict the caller records.
#[derive(Debug, Clone)]
pub struct ClamdScanner {
    config: ClamdConfig,
}

/// How far a scan got, kept outside its future so a timeout can say where it stalled:
/// in the file's own source, or in clamd.
#[derive(Debug, Default)]
struct Progress {
    phase: AtomicU8,
    sent: AtomicU64,
}

const CONNECTING: u8 = 0;
const SENDING: u8 = 1;
const AWAITING_REPLY: u8 = 2;

/// A connection to clamd, TCP or Unix.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

impl ClamdScanner {
    /// A scanner for the clamd of `config`. Connects only when asked (a scan, a ping),
    /// so a host can start before clamd does.
    pub fn new(config: ClamdConfig) -> Self {
        Self { config }
    }

    /// Its configuration.
    pub fn config(&self) -> &ClamdConfig {
        &self.config
    }

    /// Sends `PING` and expects `PONG`: whether clamd is there and answering, for a
    /// host's start-up check or health probe.
    pub async fn ping(&self) -> std::result::Result<(), ClamdUnavailable> {
        let reply = self.command(b"zPING\0").await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(self.unavailable(format!(
                "unexpected reply to PING: {}",
                quoted_prefix(&reply)
            )))
        }
    }

    /// Sends `VERSION`: clamd's version and the version and date of its signature
    /// database (e.g. `ClamAV 1.4.6/27500/Sat Dec  5 09:12:00 2026`), for a host's
    /// start-up log.
    pub async fn version(&self) -> std::result::Result<String, ClamdUnavailable> {
        self.command(b"zVERSION\0").await
    }

    /// `Unscannable`, the reason naming clamd's address.
    fn unscannable(&self, reason: impl fmt::Display) -> ScanVerdict {
        ScanVerdict::unscannable(self.unavailable(reason).reason)
    }

    fn unavailable(&self, reason: impl fmt::Display) -> ClamdUnavailable {
        ClamdUnavailable {
            reason: format!("clamd at {}: {reason}", self.config.address),
        }
    }

    /// Sends one command (`z` form, NUL-terminated) and reads its one reply, all within
    /// the overall timeout.
    async fn command(&self, command: &[u8]) -> std::result::Result<String, ClamdUnavailable> {
        let exchange = async {
            let mut conn = self.connect().await?;
            conn.write_all(command)
                .await
                .map_err(|e| format!("sending the command failed: {e}"))?;
            read_reply(&mut conn).await
        };
        match tokio::time::timeout(self.config.timeout, exchange).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(reason)) => Err(self.unavailable(reason)),
            Err(_) => {
                Err(self.unavailable(format!("no answer within {}", seconds(self.config.timeout))))
            }
        }
    }

    /// Opens a connection within the connect timeout; `Err` is the reason, without
    /// the address.
    async fn connect(&self) -> std::result::Result<Box<dyn Connection>, String> {
        let connect = async {
            match &self.config.address {
                ClamdAddress::Tcp(addr) => {
                    let stream = tokio::net::TcpStream::connect(addr.as_str()).await?;
                    // The end of the file is a 4-byte write: never hold it back for
                    // Nagle's algorithm while clamd waits for it.
                    stream.set_nodelay(true)?;
                    Ok::<Box<dyn Connection>, std::io::Error>(Box::new(stream))
                }
                #[cfg(unix)]
                ClamdAddress::Unix(path) => {
                    let stream = tokio::net::UnixStream::connect(path).await?;
                    Ok::<Box<dyn Connection>, std::io::Error>(Box::new(stream))
                }
            }
        };
        match tokio::time::timeout(self.config.connect_timeout, connect).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(format!("cannot connect: {e}")),
            Err(_) => Err(format!(
                "cannot connect: no connection within {}",
                seconds(self.config.connect_timeout)
            )),
        }
    }

    /// The whole `INSTREAM` exchange. `Err` only for an error of `content`.
    async fn instream(&self, mut content: ByteStream, progress: &Progress) -> Result<ScanVerdict> {
        let mut conn = match self.connect().await {
            Ok(conn) => conn,
            Err(reason) => return Ok(self.unscannable(reason)),
        };
        progress.phase.store(SENDING, Ordering::SeqCst);
        if let Err(e) = conn.write_all(b"zINSTREAM\0").await {
            return Ok(self.after_write_error(&mut conn, e).await);
        }
        let chunk_size = self.config.chunk_size;
        // One frame: 4 bytes of length, then up to `chunk_size` bytes of the file.
        let mut frame: Vec<u8> = Vec::with_capacity(4 + chunk_size);
        frame.extend_from_slice(&[0; 4]);
        while let Some(piece) = content.next().await {
            let piece = piece?;
            let mut rest: &[u8] = &piece;
            while !rest.is_empty() {
                let take = (4 + chunk_size - frame.len()).min(rest.len());
                frame.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if frame.len() == 4 + chunk_size {
                    if let Err(e) = send_frame(&mut conn, &mut frame, false).await {
                        return Ok(self.after_write_error(&mut conn, e).await);
                    }
                    progress.sent.fetch_add(chunk_size as u64, Ordering::SeqCst);
                }
            }
        }
        // The last, partial chunk (if any) and the zero-length chunk that ends the file.
        if let Err(e) = send_frame(&mut conn, &mut frame, true).await {
            return Ok(self.after_write_error(&mut conn, e).await);
        }
        progress.phase.store(AWAITING_REPLY, Ordering::SeqCst);
        Ok(match read_reply(&mut conn).await {
            Ok(reply) => verdict_of(&reply),
            Err(reason) => self.unscannable(reason),
        })
    }

    /// A write to clamd failed. clamd closes the connection after refusing a file
    /// (size limit) while the rest is still being sent: its reply, if it sent one,
    /// says why, so read it before blaming the write.
    async fn after_write_error(
        &self,
        conn: &mut Box<dyn Connection>,
        error: std::io::Error,
    ) -> ScanVerdict {
        match read_reply(conn).await {
            Ok(reply) => match verdict_of(&reply) {
                // clamd only answers OK for a whole file; this one was not delivered.
                ScanVerdict::Clean => self.unscannable(format!(
                    "sending the file failed ({error}), yet clamd answered OK"
                )),
                verdict => verdict,
            },
            Err(reason) => self.unscannable(format!("sending the file failed: {error}; {reason}")),
        }
    }
}

#[async_trait]
impl ContentScanner for ClamdScanner {
    async fn scan(&self, content: ByteStream) -> Result<ScanVerdict> {
        let progress = Progress::default();
        let deadline = Instant::now() + self.config.timeout;
        match tokio::time::timeout_at(deadline, self.instream(content, &progress)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                let limit = seconds(self.config.timeout);
                let sent = progress.sent.load(Ordering::SeqCst);
                let reason = match progress.phase.load(Ordering::SeqCst) {
                    CONNECTING => format!("no connection within the scan's {limit}"),
                    SENDING => format!(
                        "timed out after {limit} while sending the file ({sent} bytes sent)"
                    ),
                    _ => format!("timed out after {limit} waiting for the verdict"),
                };
                Ok(self.unscannable(reason))
            }
        }
    }
}

/// Writes `frame` (4 placeholder bytes, then file bytes) with its length filled in,
/// then empties it to its 4 placeholder bytes. With `last`, also writes the zero-length
/// chunk that ends the file, in the same write; an empty frame is then left out.
async fn send_frame(
    conn: &mut Box<dyn Connection>,
    frame: &mut Vec<u8>,
    last: bool,
) -> std::io::Result<()> {
    let len = frame.len() - 4;
    let start = if len == 0 && last {
        4
    } else {
        let len =
            u32::try_from(len).map_err(|_| std::io::Error::other("chunk larger than 4 GiB"))?;
        frame[..4].copy_from_slice(&len.to_be_bytes());
        0
    };
    if last {
        frame.extend_from_slice(&[0; 4]);
    }
    conn.write_all(&frame[start..]).await?;
    conn.flush().await?;
    frame.truncate(4);
    Ok(())
}

/// Reads one reply up to its NUL (or the end of the connection); `Err` is the reason.
async fn read_reply(conn: &mut Box<dyn Connection>) -> std::result::Result<String, String> {
    let mut reply = Vec::with_capacity(64);
    let mut buf = [0u8; 512];
    loop {
        let n = conn
            .read(&mut buf)
            .await
            .map_err(|e| format!("reading the reply failed: {e}"))?;
        if n == 0 {
            break;
        }
        if let Some(nul) = buf[..n].iter().position(|&b| b == 0) {
            reply.extend_from_slice(&buf[..nul]);
            break;
        }
        reply.extend_from_slice(&buf[..n]);
        if reply.len() > MAX_REPLY {
            return Err(format!("the reply is longer than {MAX_REPLY} bytes"));
        }
    }
    if reply.is_empty() {
        return Err("the connection closed without a reply".to_owned());
    }
    Ok(String::from_utf8_lossy(&reply).trim().to_owned())
}

/// The verdict of clamd's reply to `INSTREAM` (without its NUL).
fn verdict_of(reply: &str) -> ScanVerdict {
    if reply.ends_with(" ERROR") {
        return ScanVerdict::unscannable(format!("clamd: {}", shortened(reply)));
    }
    if let Some(answer) = reply.strip_prefix("stream: ") {
        if answer == "OK" {
            return ScanVerdict::Clean;
        }
        if let Some(signature) = answer.strip_suffix(" FOUND") {
            let signature = signature.trim();
            if !signature.is_empty() {
                return ScanVerdict::infected(signature);
            }
        }
    }
    ScanVerdict::unscannable(format!(
        "unexpected reply from clamd: {}",
        quoted_prefix(reply)
    ))
}

/// At most 200 characters of a reply, for a reason: a reply is clamd's words, but one
/// that is not clamd's could be anything, and a reason is not the place for a lot of it.
fn shortened(reply: &str) -> String {
    const MAX: usize = 200;
    if reply.chars().count() <= MAX {
        reply.to_owned()
    } else {
        let mut short: String = reply.chars().take(MAX).collect();
        short.push('…');
        short
    }
}

/// [`shortened`], quoted and escaped: an unexpected reply may hold control characters.
fn quoted_prefix(reply: &str) -> String {
    format!("{:?}", shortened(reply))
}

/// A duration as the operator configured it, in seconds (`0.3 s`, `60 s`).
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn replies_map_to_verdicts() {
        assert_eq!(verdict_of("stream: OK"), ScanVerdict::Clean);
        assert_eq!(
            verdict_of("stream: Eicar-Test-Signature FOUND"),
            ScanVerdict::infected("Eicar-Test-Signature")
        );
        assert_eq!(
            verdict_of("stream: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND"),
            ScanVerdict::infected("Win.Test.EICAR_HDB-1.UNOFFICIAL")
        );
        assert_eq!(
            verdict_of("INSTREAM size limit exceeded. ERROR"),
            ScanVerdict::unscannable("clamd: INSTREAM size limit exceeded. ERROR")
        );
        assert_eq!(
            verdict_of("stream: Can't allocate memory ERROR"),
            ScanVerdict::unscannable("clamd: stream: Can't allocate memory ERROR")
        );
        for odd in [
            "OK",
            "stream: ",
            "stream:  FOUND",
            "PONG",
            "stream: OK FOUND?",
            "",
        ] {
            let verdict = verdict_of(odd);
            assert!(
                matches!(&verdict, ScanVerdict::Unscannable { reason } if reason.starts_with("unexpected reply from clamd: ")),
                "{odd:?}: {verdict:?}"
            );
        }
    }

    #[test]
    fn long_odd_replies_are_cut_and_escaped() {
        let reply = format!("\u{1b}[31m{}", "x".repeat(1000));
        let ScanVerdict::Unscannable { reason } = verdict_of(&reply) else {
            panic!("not unscannable");
        };
        assert!(reason.len() < 260, "{reason}");
        assert!(reason.contains("\\u{1b}"), "{reason}");
        assert!(reason.ends_with("…\""), "{reason}");
    }

    #[test]
    fn chunk_size_is_clamped() {
        let config = ClamdConfig::tcp("127.0.0.1:3310");
        assert_eq!(config.chunk_size(), DEFAULT_CHUNK_SIZE);
        assert_eq!(config.clone().with_chunk_size(0).chunk_size(), 1);
        assert_eq!(
            config.with_chunk_size(usize::MAX).chunk_size(),
            MAX_CHUNK_SIZE
        );
    }

    #[test]
    fn addresses_display_with_their_kind() {
        assert_eq!(
            ClamdAddress::Tcp("127.0.0.1:3310".into()).to_string(),
            "tcp:127.0.0.1:3310"
        );
        #[cfg(unix)]
        assert_eq!(
            ClamdAddress::Unix("/run/clamav/clamd.ctl".into()).to_string(),
            "unix:/run/clamav/clamd.ctl"
        );
    }
}
