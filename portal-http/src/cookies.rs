//! The portal's cookies: names, attributes and parsing, in one place.
//!
//! All are `HttpOnly; SameSite=Lax` (`SameSite=None; Partitioned` when other sites may
//! frame the portal: [`HttpConfig::framed_by_other_sites`]) with `Path` set to the mount prefix, so a host's own
//! routes beside the portal never receive them and two portals on one origin under
//! different prefixes keep apart. With secure cookies on (the default) they are `Secure`
//! and carry a name prefix browsers enforce: `__Host-` when the portal is mounted at the
//! root (it also forbids a `Domain` attribute, so a sibling subdomain cannot plant or
//! read them, but requires `Path=/`), `__Secure-` under a prefix. The stem of the names
//! is [`HttpConfig::cookie_name`].

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
    /// The cookie's name under `config`, e.g. `__Host-portal_session`.
    pub fn name(self, config: &HttpConfig) -> String {
        format!("{}{}_{}", guard(config), config.cookie_name, self.kind())
    }

    /// Whether `candidate` is this cookie's name under `config`: [`Jar::name`] without
    /// building it (every request reads up to three cookies).
    fn is_named(self, candidate: &str, config: &HttpConfig) -> bool {
        candidate
            .strip_prefix(guard(config))
            .and_then(|rest| rest.strip_prefix(config.cookie_name.as_str()))
            .and_then(|rest| rest.strip_prefix('_'))
            == Some(self.kind())
    }

    /// The last part of the name.
    fn kind(self) -> &'static str {
        match self {
            Jar::Session => "session",
            Jar::Verification => "verify",
            Jar::Csrf => "csrf",
        }
    }
}

/// The prefix browsers enforce for secure cookies (see the module's doc).
fn guard(config: &HttpConfig) -> &'static str {
    match (config.secure_cookies, config.prefix().is_empty()) {
        (false, _) => "",
        (true, true) => "__Host-",
        (true, false) => "__Secure-",
    }
}

/// The cookies' `Path`: the mount prefix, or `/` at the root.
fn path(config: &HttpConfig) -> String {
    match config.prefix() {
        "" => "/".to_owned(),
        prefix => prefix.to_owned(),
    }
}

/// Reads a cookie's value from the request headers.
///
/// Only the pair with the cookie's name is parsed (by the `cookie` crate, as
/// `Cookie::split_parse` would parse it); the others are passed over by name.
pub fn read(headers: &HeaderMap, config: &HttpConfig, jar: Jar) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter(|pair| {
            pair.split_once('=')
                .is_some_and(|(name, _)| jar.is_named(name.trim(), config))
        })
        .find_map(|pair| Cookie::parse(pair.trim()).ok())
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value; `max_age_secs` of `None` makes a browser-session cookie.
pub fn set(config: &HttpConfig, jar: Jar, value: &str, max_age_secs: Option<i64>) -> String {
    let framed = config.framed_by_other_sites();
    let mut c = Cookie::build((jar.name(config), value.to_owned()))
        .path(path(config))
        .http_only(true)
        // In a cross-site frame (an opt-in), `Lax` cookies never arrive: `None`, kept
        // to the embedding site by `Partitioned` (CHIPS), and always `Secure`.
        .same_site(if framed {
            SameSite::None
        } else {
            SameSite::Lax
        })
        .secure(config.secure_cookies || framed)
        .partitioned(framed)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(prefix: &str, secure: bool) -> HttpConfig {
        HttpConfig {
            mount_prefix: prefix.to_owned(),
            secure_cookies: secure,
            ..HttpConfig::default()
        }
    }

    #[test]
    fn cookies_are_scoped_to_the_mount() {
        let root = set(&config("", true), Jar::Session, "v", None);
        assert!(root.starts_with("__Host-portal_session=v"), "{root}");
        assert!(
            root.contains("Path=/;") || root.ends_with("Path=/"),
            "{root}"
        );

        let mounted = set(&config("/portal/", true), Jar::Session, "v", None);
        assert!(
            mounted.starts_with("__Secure-portal_session=v"),
            "{mounted}"
        );
        assert!(mounted.contains("Path=/portal"), "{mounted}");
        assert!(!mounted.contains("Path=/;"), "{mounted}");

        let plain = set(&config("/portal", false), Jar::Csrf, "v", None);
        assert!(plain.starts_with("portal_csrf=v"), "{plain}");
        assert!(!plain.contains("Secure"), "{plain}");
    }

    #[test]
    fn framing_by_another_site_makes_partitioned_same_site_none_cookies() {
        let mut c = config("", true);
        assert!(set(&c, Jar::Session, "v", None).contains("SameSite=Lax"));
        c.frame_ancestors = "'self'".to_owned();
        assert!(set(&c, Jar::Session, "v", None).contains("SameSite=Lax"));
        c.frame_ancestors = "'self' https://psa.example.com".to_owned();
        let framed = set(&c, Jar::Session, "v", None);
        for attr in ["SameSite=None", "Secure", "Partitioned", "HttpOnly"] {
            assert!(framed.contains(attr), "{framed} lacks {attr}");
        }
        assert!(!framed.contains("Lax"), "{framed}");
    }

    #[test]
    fn the_stem_is_configurable_and_read_back() {
        let mut c = config("/a", true);
        c.cookie_name = "msp_a".to_owned();
        assert_eq!(Jar::Verification.name(&c), "__Secure-msp_a_verify");
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            http::HeaderValue::from_static(
                "__Secure-portal_verify=other; __Secure-msp_a_verify=mine",
            ),
        );
        assert_eq!(
            read(&headers, &c, Jar::Verification).as_deref(),
            Some("mine")
        );
    }

    #[test]
    fn only_the_exact_name_is_read() {
        let c = config("", true);
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            http::HeaderValue::from_static(
                "portal_session=unguarded; __Host-portal_sessions=longer; \
                 x__Host-portal_session=prefixed;__Host-portal_csrf=c1 ; broken",
            ),
        );
        headers.append(
            COOKIE,
            http::HeaderValue::from_static("  __Host-portal_session = s1 ;other=1"),
        );
        assert_eq!(read(&headers, &c, Jar::Session).as_deref(), Some("s1"));
        assert_eq!(read(&headers, &c, Jar::Csrf).as_deref(), Some("c1"));
        assert_eq!(read(&headers, &c, Jar::Verification), None);
        // The same answers as parsing every pair with the `cookie` crate.
        for jar in [Jar::Session, Jar::Csrf, Jar::Verification] {
            let name = jar.name(&c);
            let every = headers
                .get_all(COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(Cookie::split_parse)
                .filter_map(Result::ok)
                .find(|k| k.name() == name)
                .map(|k| k.value().to_owned());
            assert_eq!(read(&headers, &c, jar), every, "{name}");
        }
    }
}
