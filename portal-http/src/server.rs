//! Serving a [`PortalApp`] with hyper: HTTP/1.1 and HTTP/2 on one port, deadlines on
//! every phase of a connection so no socket can be held open forever, a cap on open
//! connections, and graceful shutdown that lets in-flight requests finish.
//!
//! The deadlines, all in [`HttpConfig`](crate::HttpConfig):
//!
//! - `first_byte_timeout`: the bytes that tell HTTP/1.1 from HTTP/2 (read here, before
//!   hyper sees the connection, and replayed to it).
//! - `header_read_timeout`: each HTTP/1.1 request head, and so the keep-alive wait for
//!   the next one (hyper).
//! - `body_timeout`: each request body, by a wrapper body the app reads through; except
//!   uploads, which may take hours on a slow line: their body must instead keep
//!   arriving at `upload_min_rate` over every `upload_rate_window` (the app names
//!   which routes are uploads, see [`BodyDeadline`]).
//! - `idle_timeout`: no request in flight (both protocols; the only bound on an idle
//!   HTTP/2 connection, or one that sent nothing but the preface).
//! - `http2_keep_alive_*`: PINGs notice a vanished HTTP/2 peer (hyper).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::app::PortalApp;

/// How long in-flight requests get to finish after shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long a connection closed for idleness gets to say goodbye (an HTTP/2 GOAWAY, or
/// the end of a response still being written) before it is dropped.
const IDLE_CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The HTTP/2 client connection preface.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

type ConnBuilder = auto::Builder<TokioExecutor>;

/// Serves `app` on `listener` until `shutdown` resolves, then drains connections.
///
/// At most [`HttpConfig::max_connections`](crate::HttpConfig::max_connections) are open
/// at once: at the cap the listener is not polled, so further clients wait in the
/// kernel's backlog instead of costing a file descriptor each.
pub async fn serve(
    listener: TcpListener,
    app: Arc<PortalApp>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_inner(listener, app, None, shutdown).await
}

/// The host's own routes next to the portal on one port: what
/// [`serve`] does, plus every request whose path the app does not own
/// ([`PortalApp::owns_path`]: outside the portal's mount, the admin API and mounted
/// host pages) goes to `fallback` instead of the portal's 404.
///
/// The fallback keeps the server's protections: the header-read, first-byte, idle and
/// body deadlines, the connection cap, HTTP/2 and graceful shutdown. Its request body
/// is read whole first, up to `max_body` bytes (a larger one is `413` before the host
/// sees it); its responses get the app's transport headers (HSTS when configured).
/// Mount the portal under a prefix (`HttpConfig::mount_prefix`) for the fallback to
/// receive anything: a portal at the root owns every path.
pub async fn serve_with_fallback(
    listener: TcpListener,
    app: Arc<PortalApp>,
    fallback: Arc<dyn crate::HostPages>,
    max_body: usize,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let fallback = Fallback {
        pages: fallback,
        max_body,
    };
    serve_inner(listener, app, Some(Arc::new(fallback)), shutdown).await
}

/// The host's routes of [`serve_with_fallback`].
struct Fallback {
    pages: Arc<dyn crate::HostPages>,
    max_body: usize,
}

impl Fallback {
    /// Reads the body whole (413 beyond `max_body`, 400 when it breaks off or its
    /// deadline passes) and hands the request to the host.
    async fn handle(
        &self,
        app: &PortalApp,
        req: http::Request<TimedBody>,
        remote: SocketAddr,
    ) -> http::Response<crate::Body> {
        use http_body_util::BodyExt as _;
        let (parts, body) = req.into_parts();
        let mut response = match http_body_util::Limited::new(body, self.max_body)
            .collect()
            .await
        {
            Ok(c) => {
                self.pages
                    .handle(http::Request::from_parts(parts, c.to_bytes()), remote)
                    .await
            }
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                crate::Reply::text(
                    http::StatusCode::PAYLOAD_TOO_LARGE,
                    "The request is too large.",
                )
                .finish("default-src 'none'")
            }
            Err(_) => {
                crate::Reply::text(http::StatusCode::BAD_REQUEST, "The request body broke off.")
                    .finish("default-src 'none'")
            }
        };
        crate::respond::transport_headers(response.headers_mut(), app.config());
        response
    }
}

async fn serve_inner(
    listener: TcpListener,
    app: Arc<PortalApp>,
    fallback: Option<Arc<Fallback>>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let config = app.config();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(100)
        .keep_alive_interval(Some(config.http2_keep_alive_interval))
        .keep_alive_timeout(config.http2_keep_alive_timeout);
    let builder = Arc::new(builder);
    let limit = config
        .max_connections
        .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let permits = Arc::new(Semaphore::new(limit));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                // Never closed; were it, nothing more could be served.
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, remote) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            remote,
            Arc::clone(&app),
            Arc::clone(&builder),
            fallback.clone(),
            permit,
            stopping.clone(),
        ));
    }
    drop(listener);
    tracing::info!("shutting down: waiting for in-flight requests");
    stop.send_replace(true);
    // Every connection holds a permit until it ends: all of them back means all closed.
    let all = u32::try_from(limit).unwrap_or(u32::MAX);
    tokio::select! {
        _ = permits.acquire_many(all) => tracing::info!("all connections closed"),
        () = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("grace period over; closing remaining connections"),
    }
    Ok(())
}

/// Why a connection is being closed by the server.
enum Closing {
    Idle,
    Shutdown,
}

/// Serves one connection, holding `_permit` (its place under the connection cap) until
/// it ends.
async fn connection(
    mut stream: TcpStream,
    remote: SocketAddr,
    app: Arc<PortalApp>,
    builder: Arc<ConnBuilder>,
    fallback: Option<Arc<Fallback>>,
    _permit: OwnedSemaphorePermit,
    mut stopping: watch::Receiver<bool>,
) {
    let config = app.config();
    let idle_timeout = config.idle_timeout;
    let prefix = tokio::select! {
        read = tokio::time::timeout(config.first_byte_timeout, read_prefix(&mut stream)) => match read {
            Ok(Ok(prefix)) => prefix,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "connection ended before its first request");
                return;
            }
            Err(_) => {
                tracing::debug!("connection closed: nothing sent before the first-byte deadline");
                return;
            }
        },
        () = stopped(&mut stopping) => return,
    };

    let (busy, busy_rx) = watch::channel(0usize);
    let busy = Arc::new(busy);
    let service = service_fn(move |req: http::Request<Incoming>| {
        let app = Arc::clone(&app);
        let fallback = fallback.clone();
        let in_flight = InFlight::start(Arc::clone(&busy));
        async move {
            let _in_flight = in_flight;
            let deadline = app.body_deadline(req.method(), req.uri().path());
            let req = req.map(|body| TimedBody::new(body, deadline));
            if let Some(fallback) = fallback.filter(|_| !app.owns_path(req.uri().path())) {
                return Ok::<_, Infallible>(fallback.handle(&app, req, remote).await);
            }
            Ok::<_, Infallible>(app.handle(req, remote).await)
        }
    });
    let conn = builder
        .serve_connection(TokioIo::new(Rewind::new(prefix, stream)), service)
        .into_owned();
    let mut conn = std::pin::pin!(conn);
    let closing = tokio::select! {
        ended = conn.as_mut() => {
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            return;
        }
        () = idle(busy_rx, idle_timeout) => Closing::Idle,
        () = stopped(&mut stopping) => Closing::Shutdown,
    };
    conn.as_mut().graceful_shutdown();
    let grace = match closing {
        Closing::Idle => {
            tracing::debug!("closing an idle connection");
            IDLE_CLOSE_GRACE
        }
        Closing::Shutdown => SHUTDOWN_GRACE,
    };
    if let Ok(Err(e)) = tokio::time::timeout(grace, conn).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Resolves once the server stops (or is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Resolves once no request has been in flight for `timeout`.
async fn idle(mut busy: watch::Receiver<usize>, timeout: Duration) {
    loop {
        let waited = busy.wait_for(|n| *n == 0).await.is_ok();
        if !waited {
            // The connection is gone; the caller's other branch ends it.
            std::future::pending::<()>().await;
        }
        if tokio::time::timeout(timeout, busy.changed()).await.is_err() {
            return;
        }
    }
}

/// Counts a request in flight on its connection while alive.
struct InFlight(Arc<watch::Sender<usize>>);

impl InFlight {
    fn start(busy: Arc<watch::Sender<usize>>) -> Self {
        busy.send_modify(|n| *n += 1);
        Self(busy)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Reads until the bytes tell HTTP/1.1 from HTTP/2: the whole preface, or any byte
/// that departs from it. Returns what was read, for [`Rewind`] to replay.
async fn read_prefix(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while prefix.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(&prefix) {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        prefix.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    Ok(prefix)
}

/// A stream that first yields bytes already read from it.
struct Rewind {
    prefix: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl Rewind {
    fn new(prefix: Vec<u8>, inner: TcpStream) -> Self {
        Self {
            prefix,
            pos: 0,
            inner,
        }
    }
}

impl AsyncRead for Rewind {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let rest = this.prefix.get(this.pos..).unwrap_or_default();
        if rest.is_empty() {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let n = rest.len().min(buf.remaining());
        buf.put_slice(rest.get(..n).unwrap_or_default());
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// How long a request body may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyDeadline {
    /// The whole body within this time (forms: a few kilobytes).
    Whole(Duration),
    /// No total deadline, but at least `min_bytes` in every `window` (uploads: a 2 GiB
    /// file on a slow line takes hours, while a client trickling a byte now and then
    /// is still cut off).
    Progress {
        /// The stretch of time measured.
        window: Duration,
        /// Bytes each window must bring.
        min_bytes: u64,
    },
}

/// A request body that must keep arriving: whole before a deadline, or at a minimum
/// rate (see [`BodyDeadline`]). Trickling one byte a second cannot hold a handler (and
/// its connection) for minutes.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    rule: BodyDeadline,
    /// Bytes received since the current window started (`Progress` only).
    in_window: u64,
}

impl TimedBody {
    fn new(inner: Incoming, rule: BodyDeadline) -> Self {
        let first = match rule {
            BodyDeadline::Whole(limit) => limit,
            BodyDeadline::Progress { window, .. } => window,
        };
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(first)),
            rule,
            in_window: 0,
        }
    }
}

/// Why a [`TimedBody`] failed.
#[derive(Debug)]
enum BodyError {
    Read(hyper::Error),
    TooSlow(BodyDeadline),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(e) => write!(f, "reading the request body failed: {e}"),
            Self::TooSlow(BodyDeadline::Whole(limit)) => {
                write!(f, "the request body took longer than {limit:?}")
            }
            Self::TooSlow(BodyDeadline::Progress { window, min_bytes }) => write!(
                f,
                "the request body brought less than {min_bytes} bytes in {window:?}"
            ),
        }
    }
}

/// Whether a body read failed because the client sent it too slowly (a body deadline
/// of [`TimedBody`]), so the app can answer 408 instead of "unreadable".
pub(crate) fn body_too_slow(error: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        error.downcast_ref::<BodyError>(),
        Some(BodyError::TooSlow(_))
    )
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read(e) => Some(e),
            Self::TooSlow(_) => None,
        }
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
                this.in_window += data.map_or(0, |d| d.len() as u64);
            }
            return Poll::Ready(frame.map(|f| f.map_err(BodyError::Read)));
        }
        while this.deadline.as_mut().poll(cx).is_ready() {
            match this.rule {
                BodyDeadline::Progress { window, min_bytes } if this.in_window >= min_bytes => {
                    // Enough arrived in this window: measure the next one (polled again
                    // by the loop, so its timer is registered).
                    this.in_window = 0;
                    let next = tokio::time::Instant::now() + window;
                    this.deadline.as_mut().reset(next);
                }
                rule => {
                    tracing::debug!(?rule, "request body cut off: too slow");
                    return Poll::Ready(Some(Err(BodyError::TooSlow(rule))));
                }
            }
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Resolves on Ctrl-C (or SIGTERM on Unix), for [`serve`]'s `shutdown`.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
