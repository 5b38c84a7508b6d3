//! The portal's cookies: names, attributes and parsing, in one place.
//!
//! All are `HttpOnly; SameSite=Lax; Path=/`. With secure cookies on (the default) they
//! are `Secure` and carry the `__Host-` prefix, which forbids a `Domain` attribute so a
//! sibling subdomain cannot plant or read them.

use cookie::{Cookie, SameSite};
use http::HeaderMap;
use http::header::COOKIE;

use crate::config::HttpConfig;

/// Which cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jar {
    /// The portal session.
    Session,
    /// Binds a verification to the browser tab that asked for the email.
    Verification,
    /// The CSRF double-submit secret.
    Csrf,
}

impl Jar {
    /// The cookie's name under `config`.
    pub fn name(self, config: &HttpConfig) -> &'static str {
        match (self, config.secure_cookies) {
            (Jar::Session, true) => "__Host-portal_session",
            (Jar::Session, false) => "portal_session",
            (Jar::Verification, true) => "__Host-portal_verify",
            (Jar::Verification, false) => "portal_verify",
            (Jar::Csrf, true) => "__Host-portal_csrf",
            (Jar::Csrf, false) => "portal_csrf",
        }
    }
}

/// Reads a cookie's value from the request headers.
pub fn read(headers: &HeaderMap, config: &HttpConfig, jar: Jar) -> Option<String> {
    let name = jar.name(config);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value; `max_age_secs` of `None` makes a browser-session cookie.
pub fn set(config: &HttpConfig, jar: Jar, value: &str, max_age_secs: Option<i64>) -> String {
    let mut c = Cookie::build((jar.name(config), value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.secure_cookies)
        .build();
    if let Some(secs) = max_age_secs {
        c.set_max_age(cookie::time::Duration::seconds(secs.max(0)));
    }
    c.to_string()
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear(config: &HttpConfig, jar: Jar) -> String {
    set(config, jar, "", Some(0))
}
