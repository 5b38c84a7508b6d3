//! # portal-http
//!
//! A minimal hyper 1.x host for the MSP client portal: the client's pages (invite,
//! email verification, portal home) as server-rendered, autoescaped HTML that works
//! without JavaScript, with strict security headers and CSRF protection.
//!
//! ```no_run
//! # async fn run(service: portal_core::PortalService) -> std::io::Result<()> {
//! use std::sync::Arc;
//! let config = portal_http::HttpConfig::default();
//! let app = Arc::new(portal_http::PortalApp::new(service, config));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! portal_http::serve(listener, app, portal_http::shutdown_signal()).await
//! # }
//! ```
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod app;
mod assets;
mod config;
mod cookies;
mod csrf;
mod host;
mod ip_limit;
mod multipart;
mod pages;
mod respond;
mod server;
mod service;
mod throttle;
mod webhook_client;

pub use admin::{AuthRefusal, PROBLEM_BASE, PROBLEM_JSON, StaffAuth, bearer_token};
pub use app::PortalApp;
pub use app::routes::{CLIENT_ROUTES, TASK_ACTIONS};
pub use config::{ConfigError, HttpConfig, HttpConfigBuilder, HttpLinks};
pub use host::HostPages;
pub use respond::Body;
pub use respond::Reply;
pub use server::{SHUTDOWN_GRACE, serve, serve_with_fallback, shutdown_signal};
pub use service::{AppService, ClientAddr, ResponseFuture};
pub use webhook_client::{HttpWebhookTransport, WEBHOOK_TIMEOUT};
