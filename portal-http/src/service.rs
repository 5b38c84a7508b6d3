//! The portal as a service a host's own server calls: a hyper [`Service`] always, and a
//! `tower::Service` with the `tower` feature (axum, tonic-style routers, tower layers).
//!
//! [`serve`](crate::serve) is the simplest host, with every connection deadline. A host
//! with its own server or router uses [`AppService`] instead and keeps the portal's
//! page-level protections (CSRF, security headers, per-network limits, throttles,
//! request size limits); the connection-level ones — header and body deadlines, the
//! connection cap — are then its server's job (see `docs/embedding.md`).
//!
//! The per-network limits and the access log need the client's address. A per-connection
//! [`AppService::for_connection`] knows it; behind a router, put a [`ClientAddr`] in the
//! request's extensions (one line of middleware, shown in `examples/axum-host`). A
//! request with neither is counted against the unspecified address `0.0.0.0:0`, so all
//! such clients share one network's limits: safe, but strict.

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Body as HttpBody;

use crate::app::PortalApp;
use crate::respond::Body;

/// The client's socket address, as a request extension a host's router inserts for
/// [`AppService`] (for example from axum's `ConnectInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// [`PortalApp`] as a cloneable service answering `http::Request`s with any body.
#[derive(Clone)]
pub struct AppService {
    app: Arc<PortalApp>,
    remote: Option<SocketAddr>,
}

impl std::fmt::Debug for AppService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppService")
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}

/// The future of one request: the portal's response (it never fails; errors are pages
/// or problem+json).
pub type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

/// Whether "no client address" was logged already (once per process is enough).
static WARNED_NO_ADDR: AtomicBool = AtomicBool::new(false);

impl AppService {
    /// The service for requests whose address comes in a [`ClientAddr`] extension.
    pub fn new(app: Arc<PortalApp>) -> Self {
        Self { app, remote: None }
    }

    /// The service for one accepted connection from `remote` (a hyper server's
    /// per-connection service).
    pub fn for_connection(app: Arc<PortalApp>, remote: SocketAddr) -> Self {
        Self {
            app,
            remote: Some(remote),
        }
    }

    fn remote_of<B>(&self, request: &Request<B>) -> SocketAddr {
        if let Some(ClientAddr(addr)) = request.extensions().get::<ClientAddr>() {
            return *addr;
        }
        if let Some(addr) = self.remote {
            return addr;
        }
        if !WARNED_NO_ADDR.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "a request reached the portal without a ClientAddr extension: every such \
                 client shares the per-network limits of 0.0.0.0 (see portal_http::ClientAddr)"
            );
        }
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
    }

    /// Answers one request.
    pub fn respond<B>(&self, request: Request<B>) -> ResponseFuture
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let remote = self.remote_of(&request);
        let app = Arc::clone(&self.app);
        Box::pin(async move { Ok(app.handle(request, remote).await) })
    }
}

impl<B> hyper::service::Service<Request<B>> for AppService
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, request: Request<B>) -> Self::Future {
        self.respond(request)
    }
}

#[cfg(feature = "tower")]
impl<B> tower_service::Service<Request<B>> for AppService
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        // Always ready: back-pressure is the host server's (its connection cap).
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        self.respond(request)
    }
}
