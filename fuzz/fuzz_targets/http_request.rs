//! Arbitrary method, path, cookies and form body against the portal app over the
//! in-memory store: every request must get a response, never a panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use portal_core::memory::MemoryStore;
use portal_core::secret::ServerSecret;
use portal_core::{PortalService, RecordingMailer, SeededRandom};
use portal_http::{HttpConfig, PortalApp};

fn app() -> &'static (tokio::runtime::Runtime, PortalApp) {
    static APP: OnceLock<(tokio::runtime::Runtime, PortalApp)> = OnceLock::new();
    APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let config = HttpConfig::default();
        let rng = Arc::new(SeededRandom::new(1));
        let service = PortalService::builder(
            Arc::new(MemoryStore::new()),
            Arc::new(RecordingMailer::new()),
            Arc::new(config.links()),
            ServerSecret::generate(rng.as_ref()),
        )
        .random(rng)
        .build();
        (rt, PortalApp::new(service, config))
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let method = match parts.next().unwrap_or("").len() % 4 {
        0 => http::Method::GET,
        1 => http::Method::POST,
        2 => http::Method::HEAD,
        _ => http::Method::PUT,
    };
    let path = format!("/{}", parts.next().unwrap_or("").trim_start_matches('/'));
    let cookie = parts.next().unwrap_or("");
    let body = parts.next().unwrap_or("").as_bytes().to_vec();
    let Ok(req) = http::Request::builder()
        .method(method)
        .uri(path.as_str())
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
    else {
        return;
    };
    let (rt, app) = app();
    let res = rt.block_on(app.handle(req, "127.0.0.1:9".parse().unwrap()));
    assert!(res.status().as_u16() >= 200);
});
