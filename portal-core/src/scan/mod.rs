//! Content scanning: the [`ContentScanner`] seam every uploaded file passes through
//! after its bytes are stored and before it is offered to MSP staff for review (like
//! tusd's pre-finish hook), and what the portal does with the answer.
//!
//! The service streams the *plaintext* of one file (decrypted from its blob) into
//! [`ContentScanner::scan`] and keeps the [`ScanVerdict`] with the file's record. Whether
//! the file may then be reviewed and downloaded is [`UnscannablePolicy::admits`]: the
//! one place that decides, so a verdict never reaches a page or a download without the
//! host's policy being applied to it.
//!
//! Scanners here:
//! - [`NoScanner`]: the host chose not to scan; every file is [`ScanVerdict::NotScanned`].
//! - `clamd::ClamdScanner` (feature `clamd`): ClamAV's daemon over TCP or a Unix socket.
//! - [`FixedScanner`] and [`MarkerScanner`]: test doubles for tests of the workflow and
//!   of hosts.

#[cfg(feature = "clamd")]
pub mod clamd;

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use futures_util::StreamExt;

use crate::blob::ByteStream;
use crate::error::Result;

/// What a scan found.
///
/// Serialised with a `verdict` tag (`{"verdict":"infected","signature":"..."}`), so a
/// store can keep it with the file's record as a small document and a host can show or
/// filter by it without knowing the scanner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum ScanVerdict {
    /// Nothing found.
    Clean,
    /// Malware found; `signature` is the scanner's name for it (e.g. "Eicar-Test-Signature").
    Infected {
        /// The scanner's name for what it found: for the operator and the audit trail,
        /// never file content.
        signature: String,
    },
    /// The scanner could not give an answer (down, timed out, file over its limit, ...);
    /// `reason` is for the operator.
    Unscannable {
        /// Why there is no answer, in the operator's terms (never file content).
        reason: String,
    },
    /// No scanner is configured: the host chose not to scan.
    NotScanned,
}

impl ScanVerdict {
    /// Whether the scanner looked and found nothing. Only [`ScanVerdict::Clean`] is:
    /// a file that was not scanned, or could not be, is not known to be clean. Whether
    /// a file may be offered is [`UnscannablePolicy::admits`], not this.
    pub fn is_clean(&self) -> bool {
        matches!(self, Self::Clean)
    }

    /// Whether the scanner found malware: such a file is never offered, whatever the
    /// policy.
    pub fn is_infected(&self) -> bool {
        matches!(self, Self::Infected { .. })
    }

    /// A short fixed word for logs and metrics (`clean`, `infected`, `unscannable`,
    /// `not_scanned`: the serialised tag), without the signature or the reason.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Infected { .. } => "infected",
            Self::Unscannable { .. } => "unscannable",
            Self::NotScanned => "not_scanned",
        }
    }

    /// `Unscannable` with `reason`.
    pub fn unscannable(reason: impl Into<String>) -> Self {
        Self::Unscannable {
            reason: reason.into(),
        }
    }

    /// `Infected` with `signature`.
    pub fn infected(signature: impl Into<String>) -> Self {
        Self::Infected {
            signature: signature.into(),
        }
    }
}

/// What happens to a file the scanner could not judge.
///
/// A scanner that is down, too slow or whose size limit a file exceeds answers
/// [`ScanVerdict::Unscannable`]; the host decides whether such files wait (`Block`, the
/// default: nothing unjudged reaches staff) or go through as if no scanner were
/// configured (`Allow`: availability over caution, e.g. for files larger than the
/// scanner's limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnscannablePolicy {
    /// Unscannable files are not offered for review or download.
    #[default]
    Block,
    /// Unscannable files are offered like clean ones.
    Allow,
}

impl UnscannablePolicy {
    /// Whether a file with this verdict may be offered for review and downloaded.
    ///
    /// `Clean` and `NotScanned` (the host chose not to scan): yes. `Infected`: never.
    /// `Unscannable`: only with [`UnscannablePolicy::Allow`].
    pub fn admits(self, verdict: &ScanVerdict) -> bool {
        match verdict {
            ScanVerdict::Clean | ScanVerdict::NotScanned => true,
            ScanVerdict::Infected { .. } => false,
            ScanVerdict::Unscannable { .. } => self == Self::Allow,
        }
    }
}

/// Looks into the plaintext of a file and says whether it is safe to offer.
///
/// # Contract
/// - **Stream.** `scan` reads `content` a piece at a time and hands each piece on (to
///   a daemon, a hash, a matcher) before reading the next: it never holds the whole
///   file in memory, whatever its size. It reads to the end of `content`, or stops as
///   soon as it has its answer (a match found, the scanner's size limit hit); the
///   caller drops whatever was not read.
/// - **Always an answer, in bounded time.** Trouble with the scanner itself (not
///   reachable, refused, a protocol error, the file over the scanner's limit) is
///   `Ok(ScanVerdict::Unscannable { reason })`, not `Err`. A scanner that talks to
///   anything outside the process has a timeout and answers `Unscannable` when it
///   passes, so a hung daemon never holds an upload forever. What happens to an
///   unscannable file is the host's [`UnscannablePolicy`], not the scanner's choice.
/// - **Content errors pass through.** If `content` yields an `Err` (the blob could not
///   be read or failed its integrity check), `scan` stops reading and returns that
///   error unchanged: it is not the scanner's trouble, and the caller must see why the
///   file could not be read rather than a verdict about half of it.
/// - **Never log or echo file contents.** Logs, errors, `reason`s and `signature`s carry
///   the scanner's words (its reply, its signature name, an I/O error), never bytes of
///   the file: a file may be a client's secrets.
/// - **Cancellation.** Dropping the `scan` future stops the scan and releases what it
///   held (a connection, a child process); nothing is left running.
/// - Scans are independent: one scanner serves concurrent scans of different files.
#[async_trait]
pub trait ContentScanner: Send + Sync + 'static {
    /// Reads `content` (the plaintext of one file) to its end, or until the scanner has its answer,
    /// and says what it found. Scanner trouble is `Ok(ScanVerdict::Unscannable{..})`, not `Err`;
    /// `Err` only for an error of `content` itself (passed through unchanged).
    async fn scan(&self, content: ByteStream) -> Result<ScanVerdict>;
}

/// The scanner of a host that does not scan: every file is [`ScanVerdict::NotScanned`].
///
/// It does not read `content` at all: decrypting a whole file to throw it away would
/// cost time and I/O for nothing, and `NotScanned` says exactly that nobody looked. So
/// it also never reports a content error: a file that cannot be read fails later, when
/// it is downloaded, as it would without any scanner.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoScanner;

#[async_trait]
impl ContentScanner for NoScanner {
    async fn scan(&self, _content: ByteStream) -> Result<ScanVerdict> {
        Ok(ScanVerdict::NotScanned)
    }
}

/// Reads `content` to its end, a piece at a time, and returns how many bytes it
/// yielded; the first `Err` is returned unchanged.
async fn drain(mut content: ByteStream) -> Result<u64> {
    let mut total = 0u64;
    while let Some(piece) = content.next().await {
        total += piece?.len() as u64;
    }
    Ok(total)
}

/// A test double that answers the same verdict for every file, after reading the
/// file to its end like a real scanner (so a content error still passes through).
///
/// It counts the scans and the bytes it read, so a test can check that the workflow
/// scanned each upload once and scanned the plaintext (its size), not the ciphertext.
#[derive(Debug)]
pub struct FixedScanner {
    verdict: ScanVerdict,
    scans: AtomicU64,
    bytes: AtomicU64,
}

impl FixedScanner {
    /// A scanner that always answers `verdict`.
    pub fn new(verdict: ScanVerdict) -> Self {
        Self {
            verdict,
            scans: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// The verdict it answers.
    pub fn verdict(&self) -> &ScanVerdict {
        &self.verdict
    }

    /// Scans started so far (whether or not their content could be read).
    pub fn scans(&self) -> u64 {
        self.scans.load(Ordering::SeqCst)
    }

    /// Bytes read by all scans so far.
    pub fn bytes_scanned(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl ContentScanner for FixedScanner {
    async fn scan(&self, mut content: ByteStream) -> Result<ScanVerdict> {
        self.scans.fetch_add(1, Ordering::SeqCst);
        while let Some(piece) = content.next().await {
            self.bytes.fetch_add(piece?.len() as u64, Ordering::SeqCst);
        }
        Ok(self.verdict.clone())
    }
}

/// A test double that finds "malware" wherever a marker byte string occurs in a file,
/// also across the pieces of the stream: `Infected { signature }` if it does, `Clean`
/// if not.
///
/// It streams (keeping only the last `marker.len() - 1` bytes between pieces) and stops
/// reading at the first match, as a real scanner may: tests of callers see a scanner
/// that does not always read to the end. An empty marker matches every file.
#[derive(Debug, Clone)]
pub struct MarkerScanner {
    marker: Vec<u8>,
    signature: String,
}

impl MarkerScanner {
    /// Flags files containing `marker` as infected with `signature`.
    pub fn new(marker: impl Into<Vec<u8>>, signature: impl Into<String>) -> Self {
        Self {
            marker: marker.into(),
            signature: signature.into(),
        }
    }
}

#[async_trait]
impl ContentScanner for MarkerScanner {
    async fn scan(&self, mut content: ByteStream) -> Result<ScanVerdict> {
        let infected = || ScanVerdict::infected(self.signature.clone());
        if self.marker.is_empty() {
            drain(content).await?;
            return Ok(infected());
        }
        let keep = self.marker.len() - 1;
        // The tail of what came before, so a marker split between pieces is found.
        let mut window: Vec<u8> = Vec::with_capacity(keep * 2);
        while let Some(piece) = content.next().await {
            let piece = piece?;
            // Only the bytes a match could span: the kept tail and the new piece.
            window.extend_from_slice(&piece);
            if window
                .windows(self.marker.len())
                .any(|w| w == self.marker.as_slice())
            {
                return Ok(infected());
            }
            let cut = window.len().saturating_sub(keep);
            window.drain(..cut);
        }
        Ok(ScanVerdict::Clean)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use bytes::Bytes;

    use super::*;
    use crate::blob::stream_of;
    use crate::error::Error;

    fn pieces(parts: &[&str]) -> ByteStream {
        stream_of(
            parts
                .iter()
                .map(|p| Bytes::copy_from_slice(p.as_bytes()))
                .collect(),
        )
    }

    /// A stream that yields `first` and then fails with `TooLarge`.
    fn failing(first: &str) -> ByteStream {
        Box::pin(futures_util::stream::iter(vec![
            Ok(Bytes::copy_from_slice(first.as_bytes())),
            Err(Error::TooLarge { max_bytes: 7 }),
        ]))
    }

    /// A stream that fails the test if it is ever polled.
    fn untouchable() -> ByteStream {
        Box::pin(futures_util::stream::poll_fn(
            |_| -> std::task::Poll<Option<Result<Bytes>>> { panic!("the content was read") },
        ))
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn only_clean_is_clean() {
        assert!(ScanVerdict::Clean.is_clean());
        assert!(!ScanVerdict::NotScanned.is_clean());
        assert!(!ScanVerdict::unscannable("down").is_clean());
        assert!(!ScanVerdict::infected("X").is_clean());
        assert!(ScanVerdict::infected("X").is_infected());
        assert!(!ScanVerdict::Clean.is_infected());
    }

    #[test]
    fn policy_admits_clean_and_not_scanned_never_infected() {
        for policy in [UnscannablePolicy::Block, UnscannablePolicy::Allow] {
            assert!(policy.admits(&ScanVerdict::Clean), "{policy:?}");
            assert!(policy.admits(&ScanVerdict::NotScanned), "{policy:?}");
            assert!(!policy.admits(&ScanVerdict::infected("X")), "{policy:?}");
        }
        let unscannable = ScanVerdict::unscannable("clamd down");
        assert!(!UnscannablePolicy::Block.admits(&unscannable));
        assert!(UnscannablePolicy::Allow.admits(&unscannable));
        assert_eq!(UnscannablePolicy::default(), UnscannablePolicy::Block);
    }

    #[test]
    fn verdicts_serialise_with_a_verdict_tag() {
        let cases = [
            (ScanVerdict::Clean, r#"{"verdict":"clean"}"#),
            (
                ScanVerdict::infected("Eicar-Test-Signature"),
                r#"{"verdict":"infected","signature":"Eicar-Test-Signature"}"#,
            ),
            (
                ScanVerdict::unscannable("timed out"),
                r#"{"verdict":"unscannable","reason":"timed out"}"#,
            ),
            (ScanVerdict::NotScanned, r#"{"verdict":"not_scanned"}"#),
        ];
        for (verdict, json) in cases {
            assert_eq!(serde_json::to_string(&verdict).unwrap(), json);
            assert_eq!(serde_json::from_str::<ScanVerdict>(json).unwrap(), verdict);
            let tag = serde_json::to_value(&verdict).unwrap()["verdict"].clone();
            assert_eq!(tag, verdict.label());
        }
    }

    #[test]
    fn no_scanner_answers_not_scanned_without_reading() {
        let verdict = block_on(NoScanner.scan(untouchable())).unwrap();
        assert_eq!(verdict, ScanVerdict::NotScanned);
    }

    #[test]
    fn fixed_scanner_reads_everything_and_counts() {
        let scanner = FixedScanner::new(ScanVerdict::infected("Test"));
        let verdict = block_on(scanner.scan(pieces(&["abc", "", "defg"]))).unwrap();
        assert_eq!(verdict, ScanVerdict::infected("Test"));
        assert_eq!((scanner.scans(), scanner.bytes_scanned()), (1, 7));
    }

    #[test]
    fn content_errors_pass_through_the_doubles() {
        let fixed = FixedScanner::new(ScanVerdict::Clean);
        let r = block_on(fixed.scan(failing("abc")));
        assert!(matches!(r, Err(Error::TooLarge { max_bytes: 7 })), "{r:?}");
        let marker = MarkerScanner::new("zzz", "Z");
        let r = block_on(marker.scan(failing("abc")));
        assert!(matches!(r, Err(Error::TooLarge { max_bytes: 7 })), "{r:?}");
    }

    #[test]
    fn marker_is_found_across_pieces() {
        let scanner = MarkerScanner::new("MALWARE", "Test.Marker");
        let cases: [(&[&str], bool); 7] = [
            (&["clean text"], false),
            (&["xx MALWARE yy"], true),
            (&["xx MAL", "WARE yy"], true),
            (&["M", "A", "L", "W", "A", "R", "E"], true),
            (&["MALWAR", "", "e MALWAR"], false),
            (&["MALWAR", "x", "ALWARE"], false),
            (&[], false),
        ];
        for (parts, infected) in cases {
            let verdict = block_on(scanner.scan(pieces(parts))).unwrap();
            let expected = if infected {
                ScanVerdict::infected("Test.Marker")
            } else {
                ScanVerdict::Clean
            };
            assert_eq!(verdict, expected, "{parts:?}");
        }
    }

    #[test]
    fn marker_scanner_stops_at_the_first_match() {
        let scanner = MarkerScanner::new("bad", "B");
        // The stream fails after the match: a scanner that stops reading never sees it.
        let verdict = block_on(scanner.scan(failing("so bad"))).unwrap();
        assert_eq!(verdict, ScanVerdict::infected("B"));
    }
}
