//! `Cookie` headers as the app reads them (`cookie::Cookie::split_parse` of each header
//! value, first cookie of a name wins), checked from outside: up to three arbitrary
//! `Cookie` headers on a page request. The app keeps the CSRF cookie exactly when the
//! first `__Host-portal_csrf` cookie it can read is 43 characters, and otherwise sets a
//! fresh one (43 URL-safe characters, `Secure; HttpOnly`); the page's form token is the
//! same for the same cookies. Each cookie the parser reads prints and parses back to
//! the same name and value.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use cookie::Cookie;
use http::HeaderValue;
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use portal_core::testkit::TestService;
use portal_fuzz::{check_response, config, csrf_in, runtime, send};
use portal_http::PortalApp;

const CSRF: &str = "__Host-portal_csrf";

fn app() -> &'static PortalApp {
    static APP: OnceLock<PortalApp> = OnceLock::new();
    APP.get_or_init(|| PortalApp::new(TestService::in_memory(2).service, config()))
}

fn page(headers: &[HeaderValue]) -> (http::response::Parts, String) {
    let mut req = http::Request::builder()
        .uri("/signed-out")
        .header("host", portal_fuzz::HOST);
    for h in headers {
        req = req.header("cookie", h.clone());
    }
    let req = req.body(Full::new(Bytes::new())).unwrap();
    let (parts, body) = runtime().block_on(send(app(), req));
    (parts, String::from_utf8_lossy(&body).into_owned())
}

fuzz_target!(|data: &[u8]| {
    let headers: Vec<HeaderValue> = data
        .split(|b| *b == b'\n')
        .take(3)
        .filter_map(|raw| HeaderValue::from_bytes(raw).ok())
        .collect();

    // What the app should read: the first CSRF cookie of the readable headers.
    let cookies: Vec<Cookie<'_>> = headers
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .collect();
    for c in &cookies {
        let printed = c.to_string();
        let back = Cookie::parse(printed.as_str()).unwrap();
        assert_eq!(
            (back.name(), back.value()),
            (c.name(), c.value()),
            "{printed:?}"
        );
    }
    let kept = cookies
        .iter()
        .find(|c| c.name() == CSRF)
        .is_some_and(|c| c.value().len() == 43);

    let (res, html) = page(&headers);
    check_response(&res);
    assert_eq!(res.status, http::StatusCode::OK);
    let set: Vec<&str> = res
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with(&format!("{CSRF}=")))
        .collect();
    if kept {
        assert!(set.is_empty(), "a good CSRF cookie was replaced: {set:?}");
        let (_, again) = page(&headers);
        assert_eq!(
            csrf_in(&html),
            csrf_in(&again),
            "same cookies, other form token"
        );
    } else {
        assert_eq!(set.len(), 1, "no fresh CSRF cookie: {set:?}");
        let fresh = Cookie::parse(set[0]).unwrap();
        assert_eq!(fresh.value().len(), 43);
        assert!(
            fresh
                .value()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(fresh.secure(), Some(true));
        assert_eq!(fresh.http_only(), Some(true));
    }
});
