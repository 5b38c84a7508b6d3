//! CSRF protection: a signed double-submit token bound to the session, and a check of
//! where a state-changing request comes from.
//!
//! A random secret lives in an `HttpOnly` cookie; each form carries an HMAC, under a key
//! derived from the server secret, of that secret *and of the hash of the session token*
//! the page was rendered for (empty before sign-in). A cross-site page can neither read
//! the cookie nor compute the MAC, and a token minted in one session is worthless in
//! another even if an attacker plants the same CSRF cookie there. The secret is renewed
//! at sign-in, so a pre-session token never carries over into the session.
//!
//! On top of that every POST is refused whose `Origin` names another origin, or which
//! the browser marks `Sec-Fetch-Site: cross-site` (see [`from_elsewhere`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use portal_core::RandomSource;
use portal_core::secret::{ServerSecret, SessionToken};
use subtle::ConstantTimeEq;

/// A new cookie secret.
pub fn new_secret(rng: &dyn RandomSource) -> String {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What a token is bound to besides the cookie: the hash of the session cookie's token,
/// or nothing when there is no (well-formed) session cookie. Only the hash enters the
/// MAC, so the token never depends on the session secret itself.
pub fn session_binding(session_cookie: Option<&str>) -> Vec<u8> {
    session_cookie
        .and_then(|c| SessionToken::parse(c).ok())
        .map(|t| t.hash().as_bytes().to_vec())
        .unwrap_or_default()
}

/// The form token for a cookie secret in the session `binding` names.
pub fn token_for(key: &ServerSecret, cookie_secret: &str, binding: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(key.mac("portal/csrf/v2", &[cookie_secret.as_bytes(), binding]))
}

/// Whether a submitted form token matches the cookie secret and the session.
pub fn verify(
    key: &ServerSecret,
    cookie_secret: Option<&str>,
    binding: &[u8],
    submitted: Option<&str>,
) -> bool {
    match (cookie_secret, submitted) {
        (Some(c), Some(s)) if !c.is_empty() => token_for(key, c, binding)
            .as_bytes()
            .ct_eq(s.as_bytes())
            .into(),
        _ => false,
    }
}

/// An origin as browsers compare them: scheme, host, port (the scheme's default port
/// when none is written), all lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses `scheme://host[:port]` (a trailing path is ignored, as in a base URL).
    /// `None` for anything else, including the opaque origin `null`.
    pub fn parse(s: &str) -> Option<Self> {
        let (scheme, rest) = s.trim().split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.split('/').next()?;
        Self::with_authority(&scheme, authority)
    }

    /// The origin of `scheme` and an authority `host[:port]` (as in a `Host` header).
    fn with_authority(scheme: &str, authority: &str) -> Option<Self> {
        let default_port = match scheme {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        // `[v6]:port`, `host:port` or a bare host.
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => (h, p.parse().ok()?),
            _ => (authority, default_port),
        };
        if host.is_empty() {
            return None;
        }
        Some(Self {
            scheme: scheme.to_owned(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

/// Whether a state-changing request comes from somewhere other than the portal's own
/// pages.
///
/// - An `Origin` other than `null` must be the portal's: the configured `public`
///   origin, or the request's own `host` (the `Host` header, or the HTTP/2 authority)
///   under the public origin's scheme (a portal reached by another name, such as a
///   demo on `127.0.0.1` configured as `localhost`).
/// - With no `Origin`, or `Origin: null`, the request is refused only when the browser
///   says `Sec-Fetch-Site: cross-site`. `null` must not be refused outright: under the
///   portal's `Referrer-Policy: no-referrer`, browsers send `Origin: null` on the
///   portal's own form posts. Old clients (and curl) send neither header; the token
///   still guards them.
pub fn from_elsewhere(headers: &HeaderMap, host: Option<&str>, public: Option<&Origin>) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("<not text>").trim().to_owned())
    };
    match header("origin") {
        Some(origin) if origin != "null" => {
            let Some(origin) = Origin::parse(&origin) else {
                return true;
            };
            let is_public = public == Some(&origin);
            let is_host = public.is_some_and(|p| p.scheme == origin.scheme)
                && host
                    .and_then(|host| Origin::with_authority(&origin.scheme, host.trim()))
                    .is_some_and(|h| h == origin);
            !(is_public || is_host)
        }
        _ => header("sec-fetch-site").is_some_and(|s| s.eq_ignore_ascii_case("cross-site")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins_compare_by_scheme_host_and_port() {
        let p = Origin::parse("https://Portal.example.com/").unwrap();
        assert_eq!(
            Some(p.clone()),
            Origin::parse("https://portal.example.com:443")
        );
        assert_ne!(Some(p.clone()), Origin::parse("http://portal.example.com"));
        assert_ne!(Some(p), Origin::parse("https://portal.example.com:8443"));
        assert_eq!(Origin::parse("null"), None);
        assert_eq!(Origin::parse("ftp://x"), None);
        assert_eq!(
            Origin::parse("http://[::1]:8080").map(|o| (o.host, o.port)),
            Some(("[::1]".to_owned(), 8080))
        );
        assert_eq!(Origin::parse("http://[::1]").map(|o| o.port), Some(80));
    }

    #[test]
    fn only_the_portals_own_origin_may_post() {
        let public = Origin::parse("https://portal.example.com");
        let p = public.as_ref();
        let check = |pairs: &[(&'static str, &'static str)]| {
            let h = headers(pairs);
            let host = h.get("host").and_then(|v| v.to_str().ok());
            from_elsewhere(&h, host, p)
        };
        assert!(!check(&[]), "no Origin, no Sec-Fetch-Site: allowed");
        assert!(!check(&[("origin", "https://portal.example.com")]));
        assert!(check(&[("origin", "https://evil.example")]));
        assert!(check(&[("origin", "http://portal.example.com")]), "scheme");
        assert!(
            check(&[("origin", "https://portal.example.com:444")]),
            "port"
        );
        assert!(check(&[("origin", "garbage")]));
        assert!(check(&[("sec-fetch-site", "cross-site")]));
        assert!(!check(&[("sec-fetch-site", "same-origin")]));
        assert!(
            !check(&[("sec-fetch-site", "same-site")]),
            "the token decides"
        );
        assert!(!check(&[
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ]));
        assert!(check(&[
            ("origin", "null"),
            ("sec-fetch-site", "cross-site")
        ]));
        assert!(
            check(&[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin")
            ]),
            "Origin decides when it names one"
        );
        // Reached by another name: the Host header names the same origin.
        assert!(!check(&[
            ("origin", "https://127.0.0.1:8443"),
            ("host", "127.0.0.1:8443")
        ]));
        assert!(check(&[
            ("origin", "https://127.0.0.1:8443"),
            ("host", "127.0.0.1:8444")
        ]));
        assert!(check(&[
            ("origin", "http://127.0.0.1"),
            ("host", "127.0.0.1")
        ]));
    }

    #[test]
    fn tokens_are_bound_to_the_session() {
        let key = ServerSecret::from_bytes(vec![7; 32]).unwrap();
        let a = session_binding(Some(&"a".repeat(43)));
        let b = session_binding(Some(&"b".repeat(43)));
        let t = token_for(&key, "cookie", &a);
        assert!(verify(&key, Some("cookie"), &a, Some(&t)));
        assert!(!verify(&key, Some("cookie"), &b, Some(&t)));
        assert!(!verify(&key, Some("cookie"), &[], Some(&t)));
        assert!(!verify(&key, Some("other"), &a, Some(&t)));
        assert!(!verify(&key, None, &a, Some(&t)));
        assert!(!verify(
            &key,
            Some(""),
            &[],
            Some(&token_for(&key, "", &[]))
        ));
    }
}
