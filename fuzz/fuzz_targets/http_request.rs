//! Whole requests against the portal app, over an empty in-memory store: arbitrary
//! method, path and query, cookies, content type, origin and body. Every request gets
//! an answer that is not a server error and carries the security headers; a redirect
//! has its `Location`; and since no session exists, no cookie opens a signed-in page.
//!
//! Input: lines `method`, `path?query`, `cookie`, `content-type`, `origin`, then the body.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use portal_core::testkit::TestService;
use portal_fuzz::{check_response, config, runtime, send};
use portal_http::PortalApp;

fn app() -> &'static PortalApp {
    static APP: OnceLock<PortalApp> = OnceLock::new();
    APP.get_or_init(|| {
        let kit = TestService::in_memory(1);
        PortalApp::new(kit.service, config())
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(6, '\n');
    let mut next = || parts.next().unwrap_or("");
    let method = match next() {
        "" | "GET" => http::Method::GET,
        "POST" => http::Method::POST,
        "HEAD" => http::Method::HEAD,
        other => match http::Method::from_bytes(other.as_bytes()) {
            Ok(m) => m,
            Err(_) => return,
        },
    };
    let target = format!("/{}", next().trim_start_matches('/'));
    let cookie = next();
    let content_type = next();
    let origin = next();
    let body = Bytes::copy_from_slice(next().as_bytes());
    let mut builder = http::Request::builder()
        .method(method.clone())
        .uri(target.as_str())
        .header("host", portal_fuzz::HOST);
    for (name, value) in [
        ("cookie", cookie),
        ("content-type", content_type),
        ("origin", origin),
    ] {
        if !value.is_empty() {
            builder = builder.header(name, value);
        }
    }
    let Ok(req) = builder.body(Full::new(body)) else {
        return;
    };
    let path = req.uri().path().to_owned();
    let (res, _body) = runtime().block_on(send(app(), req));
    check_response(&res);
    if res.status.is_redirection() {
        assert!(
            res.headers.contains_key("location"),
            "{path}: redirect without Location"
        );
    }
    // Nothing here is signed in: the pages behind the session are never shown.
    let signed_in_page = path == "/" || path.starts_with("/tasks/") || path == "/questions";
    if signed_in_page && method == http::Method::GET {
        assert_ne!(
            res.status,
            http::StatusCode::OK,
            "{path} shown without a session"
        );
    }
});
