//! A plain-hyper host with its own routes next to the portal, on one port.
//!
//! `portal_http::serve_with_fallback` serves the portal (here under `/portal`) and hands
//! every other path to the host's routes, which keep the server's protections: the
//! header-read and body deadlines, the connection cap, HTTP/2 and graceful shutdown.
//!
//! Run it with `cargo run -p portal-demo --example own_routes`, then open
//! <http://127.0.0.1:8080/> (the host's page) and <http://127.0.0.1:8080/portal/>
//! (the portal). Emails go to `./own-routes-outbox`, data to `./own-routes.db`.

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use portal_core::mail::OutboxMailer;
use portal_core::prelude::*;
use portal_http::{Body, HostPages, HttpConfig, PortalApp, Reply};
use portal_storage_sqlite::SqliteStore;

/// The host's own routes: everything outside the portal's `/portal` mount.
struct OwnRoutes;

#[async_trait]
impl HostPages for OwnRoutes {
    async fn handle(&self, request: Request<Bytes>, _remote: SocketAddr) -> Response<Body> {
        // The body has been read whole already (up to the limit given to
        // `serve_with_fallback`; a larger one was answered 413).
        match request.uri().path() {
            "/" => Reply::text(
                StatusCode::OK,
                "The host's own home page. The client portal is under /portal/.",
            )
            .finish("default-src 'none'"),
            "/healthz" => Reply::text(StatusCode::OK, "ok").finish("default-src 'none'"),
            _ => Reply::text(StatusCode::NOT_FOUND, "Not found").finish("default-src 'none'"),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The portal under a prefix: a portal at the root would own every path.
    let config = HttpConfig::builder("http://127.0.0.1:8080")
        .mount_prefix("/portal")
        .with(|c| c.secure_cookies = false) // plain http on loopback, for the example
        .build()?;
    let store = Arc::new(SqliteStore::open("own-routes.db").await?);
    let mailer = Arc::new(OutboxMailer::new(
        "own-routes-outbox",
        "Example MSP <portal@example-msp.example>",
    )?);
    // A real host keeps this secret in its key store.
    let secret = ServerSecret::from_bytes(vec![7; 32])?;
    let service = PortalService::builder(store, mailer, Arc::new(config.links()), secret).build();
    let sender = portal_core::service::spawn_outbox_sender(service.clone());

    let app = Arc::new(PortalApp::try_new(service, config)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    portal_http::serve_with_fallback(
        listener,
        app,
        Arc::new(OwnRoutes),
        64 * 1024, // the largest body the host's routes accept
        portal_http::shutdown_signal(),
    )
    .await?;
    sender.stop().await;
    Ok(())
}
