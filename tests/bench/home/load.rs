//! The bare hyper handler and the load generator.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};

use crate::{Args, USER_AGENT};

/// A hyper server (same builder settings as `portal_http::serve`) answering every
/// request with `body` and `headers`, until `stop` fires.
pub(crate) async fn serve_bare(
    listener: TcpListener,
    headers: HeaderMap,
    body: Bytes,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(100);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let headers = Arc::new(headers);
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let (headers, body) = (headers.clone(), body.clone());
                let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                    let mut res = Response::new(Full::new(body.clone()));
                    *res.headers_mut() = (*headers).clone();
                    async move { Ok::<_, Infallible>(res) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut stop => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) ok: u64,
    /// The errors (a status, a timeout, a closed connection), counted by kind, so a
    /// failed run says why.
    pub(crate) kinds: std::collections::BTreeMap<String, u64>,
    /// Every 200 of the right length, warm-up included (for CPU per request).
    pub(crate) all_ok: u64,
    /// CPU time the whole process used during warm-up and run.
    pub(crate) cpu: Option<Duration>,
    /// Latencies of the measured requests, in microseconds, sorted.
    pub(crate) micros: Vec<u32>,
}

impl Stats {
    fn failed(&mut self, kind: &str) {
        *self.kinds.entry(kind.to_owned()).or_default() += 1;
    }
    pub(crate) fn errors(&self) -> u64 {
        self.kinds.values().sum()
    }
    /// The errors by kind, e.g. `3 × no answer within 5 s`.
    pub(crate) fn error_kinds(&self) -> String {
        self.kinds
            .iter()
            .map(|(kind, n)| format!("{n} × {kind}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
    pub(crate) fn rate(&self, window: Duration) -> f64 {
        self.ok as f64 / window.as_secs_f64()
    }
    pub(crate) fn cpu_per_request(&self) -> Option<f64> {
        let cpu = self.cpu?;
        (self.all_ok > 0).then(|| cpu.as_secs_f64() * 1e6 / self.all_ok as f64)
    }
    /// Adds `other`, the same target's next turn (`--rounds`), to these figures.
    pub(crate) fn absorb(&mut self, other: Stats) {
        self.ok += other.ok;
        for (kind, n) in other.kinds {
            *self.kinds.entry(kind).or_default() += n;
        }
        self.all_ok += other.all_ok;
        self.cpu = match (self.cpu, other.cpu) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.micros.extend(other.micros);
        self.micros.sort_unstable();
    }
    pub(crate) fn percentile(&self, q: f64) -> u32 {
        if self.micros.is_empty() {
            return 0;
        }
        let i = ((self.micros.len() as f64 * q).ceil() as usize).clamp(1, self.micros.len()) - 1;
        self.micros[i]
    }
}

pub(crate) use portal_tests::process_cpu;

pub(crate) fn fmt_micros(us: u32) -> String {
    if us >= 10_000 {
        format!("{:.1} ms", f64::from(us) / 1000.0)
    } else {
        format!("{:.2} ms", f64::from(us) / 1000.0)
    }
}

/// `args.connections` keep-alive HTTP/1.1 connections each sending `GET /` back to back
/// for warm-up + `duration`; counts the 200s of `expected_len` bytes completed within
/// the measured window. Every request has a timeout, so the run always ends.
pub(crate) async fn load(
    addr: SocketAddr,
    cookie: &str,
    expected_len: usize,
    args: &Args,
    duration: Duration,
) -> Stats {
    let cookies = Arc::new(vec![cookie.to_owned()]);
    load_with(
        addr,
        cookies,
        Some(expected_len),
        args.warmup,
        duration,
        args.connections,
    )
    .await
}

/// Pages shorter than this are not a portal home (with `expected_len` of `None`).
const MIN_HOME_BYTES: usize = 10_000;

/// [`load`] with the `Cookie` header of each request taken in turn from `cookies` (all
/// connections share one cursor, so requests go round every session in order), and each
/// response checked against `expected_len`, or, with `None` (pages of different
/// portals), only for being a 200 of a home page's size.
pub(crate) async fn load_with(
    addr: SocketAddr,
    cookies: Arc<Vec<String>>,
    expected_len: Option<usize>,
    warmup: Duration,
    duration: Duration,
    connections: usize,
) -> Stats {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let cursor = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (cookies, cursor) = (cookies.clone(), cursor.clone());
        tasks.spawn(async move {
            let mut stats = Stats::default();
            'connect: while Instant::now() < end {
                let Ok(stream) = TcpStream::connect(addr).await else {
                    stats.failed("connect refused");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let Ok((mut sender, conn)) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
                else {
                    stats.failed("handshake failed");
                    continue;
                };
                let driver = tokio::spawn(conn);
                while Instant::now() < end {
                    let req = Request::get("/")
                        .header(http::header::HOST, addr.to_string())
                        .header(http::header::USER_AGENT, USER_AGENT)
                        .header(
                            http::header::COOKIE,
                            &cookies[cursor.fetch_add(1, Ordering::Relaxed) % cookies.len()],
                        )
                        .body(Empty::<Bytes>::new())
                        .unwrap();
                    let t = Instant::now();
                    let one = async {
                        sender.ready().await.ok()?;
                        let res = sender.send_request(req).await.ok()?;
                        let status = res.status();
                        let body = res.into_body().collect().await.ok()?.to_bytes();
                        Some((status, body.len()))
                    };
                    let outcome = tokio::time::timeout(Duration::from_secs(5), one).await;
                    let done = Instant::now();
                    let counted = done >= measure_from && done <= end;
                    match outcome {
                        Ok(Some((StatusCode::OK, len)))
                            if expected_len.map_or(len >= MIN_HOME_BYTES, |e| e == len) =>
                        {
                            stats.all_ok += 1;
                            if counted {
                                stats.ok += 1;
                                let us = (done - t).as_micros();
                                stats.micros.push(u32::try_from(us).unwrap_or(u32::MAX));
                            }
                        }
                        Ok(Some((status, len))) => {
                            stats.failed(&format!("status {} with {len} bytes", status.as_u16()));
                        }
                        Ok(None) => {
                            stats.failed("connection failed mid-request");
                            driver.abort();
                            continue 'connect;
                        }
                        Err(_) => {
                            stats.failed("no answer within 5 s");
                            driver.abort();
                            continue 'connect;
                        }
                    }
                }
                drop(sender);
                let _ = driver.await;
            }
            stats
        });
    }
    let mut all = Stats::default();
    while let Some(done) = tasks.join_next().await {
        let s = done.unwrap();
        all.ok += s.ok;
        all.all_ok += s.all_ok;
        for (kind, n) in s.kinds {
            *all.kinds.entry(kind).or_default() += n;
        }
        all.micros.extend(s.micros);
    }
    all.micros.sort_unstable();
    all
}
