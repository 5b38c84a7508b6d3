//! `ClamdScanner` against a fake clamd: a listener in the test that reads the
//! `INSTREAM` exchange exactly as the protocol frames it (command, length-prefixed
//! chunks, the zero-length end) and answers what each test asks for. The framing the
//! scanner sends is checked on the server's side; the real daemon is in `clamd.rs`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use portal_core::Error;
use portal_core::blob::ByteStream;
use portal_core::scan::clamd::{ClamdConfig, ClamdScanner};
use portal_core::scan::{ContentScanner, ScanVerdict};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};
use tokio::task::JoinHandle;

/// What the fake clamd answers.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Reads the whole file, then sends these bytes and closes.
    Answer(&'static [u8]),
    /// Reads this many file bytes (or the whole file), then sends the bytes and closes
    /// without reading the rest: clamd at its `StreamMaxLength`.
    AnswerAfter(usize, &'static [u8]),
    /// Reads the whole file and never answers (until the client goes away).
    Silent,
    /// Accepts and never reads anything (until the client goes away).
    Deaf,
}

/// What the fake clamd received on one connection.
#[derive(Debug, Default)]
struct Received {
    /// The command, up to and without its NUL.
    command: Vec<u8>,
    /// The length of every chunk, the zero-length end included.
    lengths: Vec<u32>,
    /// The file bytes, reassembled.
    data: Vec<u8>,
    /// Whether the zero-length chunk arrived.
    ended: bool,
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, behaviour: Behaviour) -> Received {
    let mut got = Received::default();
    if let Behaviour::Deaf = behaviour {
        // Hold the connection open, reading nothing; the test ends first.
        tokio::time::sleep(Duration::from_secs(30)).await;
        return got;
    }
    loop {
        match s.read_u8().await {
            Ok(0) => break,
            Ok(b) => got.command.push(b),
            Err(_) => return got,
        }
    }
    if got.command == b"zINSTREAM" {
        loop {
            if let Behaviour::AnswerAfter(n, reply) = behaviour
                && got.data.len() >= n
            {
                s.write_all(reply).await.unwrap();
                // Closed with the rest of the file unread, as clamd does.
                return got;
            }
            let Ok(len) = s.read_u32().await else {
                return got;
            };
            got.lengths.push(len);
            if len == 0 {
                got.ended = true;
                break;
            }
            let mut chunk = vec![0; len as usize];
            if s.read_exact(&mut chunk).await.is_err() {
                return got;
            }
            got.data.extend_from_slice(&chunk);
        }
    }
    match behaviour {
        Behaviour::Answer(reply) | Behaviour::AnswerAfter(_, reply) => {
            s.write_all(reply).await.unwrap();
            s.shutdown().await.unwrap();
        }
        Behaviour::Silent | Behaviour::Deaf => {
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest).await;
        }
    }
    got
}

/// A fake clamd on a fresh loopback port, serving one connection.
async fn fake_tcp(behaviour: Behaviour) -> (ClamdConfig, JoinHandle<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (conn, _) = listener.accept().await.unwrap();
        serve(conn, behaviour).await
    });
    (config(ClamdConfig::tcp(addr.to_string())), server)
}

/// A fake clamd on a Unix socket in a fresh folder, serving one connection.
async fn fake_unix(behaviour: Behaviour) -> (ClamdConfig, JoinHandle<Received>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clamd.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = tokio::spawn(async move {
        let (conn, _) = listener.accept().await.unwrap();
        serve(conn, behaviour).await
    });
    (config(ClamdConfig::unix(path)), server, dir)
}

/// Test timeouts: short enough that a hang fails the test quickly.
fn config(config: ClamdConfig) -> ClamdConfig {
    config
        .with_timeout(Duration::from_secs(10))
        .with_connect_timeout(Duration::from_secs(2))
}

/// `len` bytes of a fixed pseudo-random sequence (no runs, so a misplaced chunk shows).
fn file(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x2545_f491;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// `data` as a stream of pieces of the given sizes (the last one takes the rest).
fn pieces(data: &[u8], sizes: &[usize]) -> ByteStream {
    let mut out = Vec::new();
    let mut rest = data;
    for &size in sizes {
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        out.push(Bytes::copy_from_slice(piece));
        rest = tail;
    }
    out.push(Bytes::copy_from_slice(rest));
    portal_core::blob::stream_of(out)
}

/// `total` bytes in 64 KiB pieces, produced as they are read (nothing held).
fn endless(total: usize) -> ByteStream {
    let piece = Bytes::from(file(64 * 1024));
    let n = total / piece.len();
    Box::pin(futures_util::stream::iter(
        (0..n).map(move |_| Ok(piece.clone())),
    ))
}

#[track_caller]
fn assert_unscannable(verdict: &ScanVerdict, words: &str) {
    match verdict {
        ScanVerdict::Unscannable { reason } => {
            assert!(reason.contains(words), "{reason:?} does not say {words:?}")
        }
        other => panic!("expected Unscannable ({words}), got {other:?}"),
    }
}

#[tokio::test]
async fn a_multi_chunk_file_is_framed_and_reassembled() {
    let (config, server) = fake_tcp(Behaviour::Answer(b"stream: OK\0")).await;
    let data = file(200 * 1024 + 17);
    let scanner = ClamdScanner::new(config);
    let verdict = scanner
        .scan(pieces(&data, &[1, 70_000, 3, 100_000, 4096]))
        .await
        .unwrap();
    assert_eq!(verdict, ScanVerdict::Clean);

    let got = server.await.unwrap();
    assert_eq!(got.command, b"zINSTREAM");
    assert!(got.ended, "no zero-length chunk");
    assert_eq!(got.data, data, "reassembled bytes differ");
    // Small pieces are gathered into full 64 KiB chunks; only the last is partial,
    // and the zero-length chunk comes once, at the end.
    let (end, chunks) = got.lengths.split_last().unwrap();
    assert_eq!(*end, 0);
    let (last, full) = chunks.split_last().unwrap();
    assert!(full.iter().all(|&l| l == 64 * 1024), "{:?}", got.lengths);
    assert_eq!(*last as usize, data.len() % (64 * 1024));
    assert_eq!(full.len(), 3);
}

#[tokio::test]
async fn the_chunk_size_bounds_every_chunk() {
    let (config, server) = fake_tcp(Behaviour::Answer(b"stream: OK\0")).await;
    let data = file(10_000);
    let scanner = ClamdScanner::new(config.with_chunk_size(999));
    let verdict = scanner.scan(pieces(&data, &[5000, 1])).await.unwrap();
    assert_eq!(verdict, ScanVerdict::Clean);
    let got = server.await.unwrap();
    assert_eq!(got.data, data);
    assert!(got.lengths.iter().all(|&l| l <= 999), "{:?}", got.lengths);
    assert_eq!(got.lengths.len(), 10 + 1 + 1, "{:?}", got.lengths);
}

#[tokio::test]
async fn an_empty_file_is_only_the_end_chunk() {
    let (config, server) = fake_tcp(Behaviour::Answer(b"stream: OK\0")).await;
    let verdict = ClamdScanner::new(config)
        .scan(portal_core::blob::stream_of(vec![Bytes::new()]))
        .await
        .unwrap();
    assert_eq!(verdict, ScanVerdict::Clean);
    let got = server.await.unwrap();
    assert_eq!(got.lengths, [0]);
    assert!(got.ended && got.data.is_empty());
}

#[tokio::test]
async fn found_is_infected_with_the_signature() {
    let (config, server) =
        fake_tcp(Behaviour::Answer(b"stream: Win.Test.EICAR_HDB-1 FOUND\0")).await;
    let verdict = ClamdScanner::new(config)
        .scan(pieces(b"anything", &[]))
        .await
        .unwrap();
    assert_eq!(verdict, ScanVerdict::infected("Win.Test.EICAR_HDB-1"));
    assert!(server.await.unwrap().ended);
}

#[tokio::test]
async fn over_a_unix_socket() {
    let (config, server, _dir) = fake_unix(Behaviour::Answer(b"stream: Test.Sig FOUND\0")).await;
    let data = file(150_000);
    let verdict = ClamdScanner::new(config)
        .scan(pieces(&data, &[10]))
        .await
        .unwrap();
    assert_eq!(verdict, ScanVerdict::infected("Test.Sig"));
    let got = server.await.unwrap();
    assert_eq!(got.command, b"zINSTREAM");
    assert_eq!(got.data, data);
    assert!(got.ended);
}

#[tokio::test]
async fn an_error_reply_is_unscannable_in_clamds_words() {
    let (config, _server) =
        fake_tcp(Behaviour::Answer(b"stream: Can't allocate memory ERROR\0")).await;
    let verdict = ClamdScanner::new(config)
        .scan(pieces(b"x", &[]))
        .await
        .unwrap();
    assert_unscannable(&verdict, "clamd: stream: Can't allocate memory ERROR");
}

#[tokio::test]
async fn an_unexpected_reply_is_unscannable() {
    let (config, _server) = fake_tcp(Behaviour::Answer(b"HTTP/1.1 400 Bad Request\r\n\r\n")).await;
    let verdict = ClamdScanner::new(config)
        .scan(pieces(b"x", &[]))
        .await
        .unwrap();
    assert_unscannable(&verdict, "unexpected reply from clamd: \"HTTP/1.1 400");
}

#[tokio::test]
async fn a_reply_ended_by_closing_instead_of_nul_still_counts() {
    let (config, _server) = fake_tcp(Behaviour::Answer(b"stream: OK")).await;
    let verdict = ClamdScanner::new(config)
        .scan(pieces(b"x", &[]))
        .await
        .unwrap();
    assert_eq!(verdict, ScanVerdict::Clean);
}

#[tokio::test]
async fn closing_without_a_reply_is_unscannable() {
    let (config, _server) = fake_tcp(Behaviour::Answer(b"")).await;
    let verdict = ClamdScanner::new(config.clone())
        .scan(pieces(b"x", &[]))
        .await
        .unwrap();
    assert_unscannable(&verdict, "the connection closed without a reply");
    let ScanVerdict::Unscannable { reason } = verdict else {
        unreachable!()
    };
    assert!(
        reason.starts_with(&format!("clamd at {}: ", config.address())),
        "{reason}"
    );
}

#[tokio::test]
async fn size_limit_answer_while_sending_is_unscannable() {
    // clamd answers at 1 MiB and closes; the scanner is still sending 32 MiB, so its
    // writes fail, and it reads the answer instead of reporting the broken pipe.
    let marker = b"CLIENT-SECRET-CONTENT";
    let (config, server) = fake_tcp(Behaviour::AnswerAfter(
        1024 * 1024,
        b"INSTREAM size limit exceeded. ERROR\0",
    ))
    .await;
    let content = futures_util::StreamExt::chain(
        portal_core::blob::stream_of(vec![Bytes::from_static(marker)]),
        endless(32 * 1024 * 1024),
    );
    let verdict = ClamdScanner::new(config)
        .scan(Box::pin(content))
        .await
        .unwrap();
    assert_unscannable(&verdict, "clamd: INSTREAM size limit exceeded. ERROR");
    let ScanVerdict::Unscannable { reason } = &verdict else {
        unreachable!()
    };
    assert!(!reason.contains("CLIENT-SECRET"), "{reason}");
    let got = server.await.unwrap();
    assert!(!got.ended);
}

#[tokio::test]
async fn a_silent_server_is_unscannable_after_the_timeout() {
    let (config, server) = fake_tcp(Behaviour::Silent).await;
    let scanner = ClamdScanner::new(config.with_timeout(Duration::from_millis(300)));
    let started = Instant::now();
    let verdict = scanner.scan(pieces(&file(1000), &[])).await.unwrap();
    assert_unscannable(&verdict, "timed out after 0.3 s waiting for the verdict");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The whole file went out before the wait began.
    let got = server.await.unwrap();
    assert!(got.ended);
}

#[tokio::test]
async fn a_server_that_stops_reading_is_unscannable_after_the_timeout() {
    let (config, _server) = fake_tcp(Behaviour::Deaf).await;
    let scanner = ClamdScanner::new(config.with_timeout(Duration::from_millis(500)));
    let started = Instant::now();
    let verdict = scanner.scan(endless(256 * 1024 * 1024)).await.unwrap();
    assert_unscannable(&verdict, "timed out after 0.5 s while sending the file");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_refused_connection_is_unscannable() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let scanner = ClamdScanner::new(config(ClamdConfig::tcp(format!("127.0.0.1:{port}"))));
    let verdict = scanner.scan(pieces(b"x", &[])).await.unwrap();
    assert_unscannable(
        &verdict,
        &format!("clamd at tcp:127.0.0.1:{port}: cannot connect"),
    );
    let err = scanner.ping().await.unwrap_err();
    assert!(err.reason().contains("cannot connect"), "{err}");
}

#[tokio::test]
async fn a_missing_unix_socket_is_unscannable() {
    let dir = tempfile::tempdir().unwrap();
    let scanner = ClamdScanner::new(config(ClamdConfig::unix(dir.path().join("none.sock"))));
    let verdict = scanner.scan(pieces(b"x", &[])).await.unwrap();
    assert_unscannable(&verdict, "cannot connect");
}

#[tokio::test]
async fn a_content_error_passes_through_and_the_file_is_not_ended() {
    let (config, server) = fake_tcp(Behaviour::Answer(b"stream: OK\0")).await;
    let content: ByteStream = Box::pin(futures_util::stream::iter(vec![
        Ok(Bytes::from(file(100_000))),
        Err(Error::Integrity {
            message: "chunk 3 failed".into(),
        }),
        Ok(Bytes::from_static(b"never read")),
    ]));
    let result = ClamdScanner::new(config).scan(content).await;
    assert!(
        matches!(&result, Err(Error::Integrity { message }) if message == "chunk 3 failed"),
        "{result:?}"
    );
    // The connection was dropped without the zero-length chunk: clamd never judges
    // half a file.
    let got = server.await.unwrap();
    assert!(!got.ended, "{:?}", got.lengths);
}

#[tokio::test]
async fn ping_and_version() {
    let (config, server) = fake_tcp(Behaviour::Answer(b"PONG\0")).await;
    ClamdScanner::new(config).ping().await.unwrap();
    assert_eq!(server.await.unwrap().command, b"zPING");

    let (config, server, _dir) = fake_unix(Behaviour::Answer(
        b"ClamAV 1.4.6/27500/Sat Dec  5 09:12:00 2026\0",
    ))
    .await;
    let version = ClamdScanner::new(config).version().await.unwrap();
    assert_eq!(version, "ClamAV 1.4.6/27500/Sat Dec  5 09:12:00 2026");
    assert_eq!(server.await.unwrap().command, b"zVERSION");

    let (config, _server) = fake_tcp(Behaviour::Answer(b"NOPE\0")).await;
    let err = ClamdScanner::new(config).ping().await.unwrap_err();
    assert!(
        err.reason().contains("unexpected reply to PING: \"NOPE\""),
        "{err}"
    );

    let (config, _server) = fake_tcp(Behaviour::Silent).await;
    let err = ClamdScanner::new(config.with_timeout(Duration::from_millis(200)))
        .ping()
        .await
        .unwrap_err();
    assert!(err.reason().contains("no answer within 0.2 s"), "{err}");
}
