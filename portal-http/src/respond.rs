//! Building responses: security headers on every one, `no-store` on pages. (Which
//! page and status an error gets is decided in `app::failure`.)

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use portal_core::blob::ByteStream;

use crate::HttpConfig;

/// The body type of every response: a page in one piece, or a download streamed from
/// the file vault (never a whole file in memory). A download whose stream fails half-way
/// ends with that error, so the server aborts the response instead of sending a file
/// that looks complete but is not (its `Content-Length` was promised up front).
pub type Body = UnsyncBoxBody<Bytes, portal_core::Error>;

/// Frame sources allowed for training videos: exactly the three players the spec names.
pub const VIDEO_FRAME_SOURCES: &str =
    "https://www.youtube-nocookie.com https://player.vimeo.com https://www.loom.com";

/// The Content-Security-Policy for a page whose inline style and script tags carry
/// `nonce`. Scripts run only from a tag with the nonce (the upload script), and may
/// talk only to the portal itself (`connect-src 'self'`: its uploads and page reloads).
pub fn csp(nonce: &str, frame_ancestors: &str) -> String {
    format!(
        "default-src 'none'; style-src 'self' 'nonce-{nonce}'; script-src 'nonce-{nonce}'; \
         connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
         frame-src {VIDEO_FRAME_SOURCES}; frame-ancestors {frame_ancestors}"
    )
}

/// [`csp`] for a page that also frames a document of the portal itself (a signature
/// task's PDF, shown inline): `frame-src` adds `'self'`, on that page only.
pub fn csp_framing_self(nonce: &str, frame_ancestors: &str) -> String {
    csp(nonce, frame_ancestors).replace(
        &format!("frame-src {VIDEO_FRAME_SOURCES}"),
        &format!("frame-src 'self' {VIDEO_FRAME_SOURCES}"),
    )
}

/// The Content-Security-Policy of a document the portal serves to be framed by its own
/// page (a signature task's PDF): nothing may load from it, and only the portal (and
/// whoever may frame the portal, as every ancestor is checked) may frame it.
pub fn framed_document_csp(frame_ancestors: &str) -> String {
    let ancestors = if frame_ancestors.trim() == "'none'" {
        "'self'".to_owned()
    } else {
        format!("'self' {frame_ancestors}")
    };
    format!("default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}")
}

/// Adds the headers that belong to the transport rather than to a page, on every
/// response the server sends: `Strict-Transport-Security` whenever cookies are `Secure`
/// (such a deployment is reached over https, and HSTS keeps browsers from ever trying
/// plain http first, where the first request could be intercepted). Absent for the
/// plain-http demo, where it would be meaningless.
pub(crate) fn transport_headers(headers: &mut HeaderMap, config: &HttpConfig) {
    if !config.secure_cookies {
        return;
    }
    let hsts = format!(
        "max-age={}; includeSubDomains",
        config.hsts_max_age.as_secs()
    );
    if let Ok(value) = HeaderValue::from_str(&hsts) {
        headers.insert(http::header::STRICT_TRANSPORT_SECURITY, value);
    }
}

/// The security headers every response carries, whatever it is.
const FIXED_HEADERS: [(http::HeaderName, HeaderValue); 4] = [
    (
        http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        http::header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (
        http::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        http::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    ),
];

/// A response under construction.
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Content type.
    pub content_type: &'static str,
    /// Body bytes.
    pub body: Bytes,
    /// `Location`, for redirects.
    pub location: Option<String>,
    /// `Cache-Control`.
    pub cache: &'static str,
    /// `Set-Cookie` values.
    pub cookies: Vec<String>,
    /// Extra headers.
    pub extra: Vec<(http::HeaderName, String)>,
    /// A streamed body of the given length, sent instead of `body` (downloads).
    pub stream: Option<(ByteStream, u64)>,
    /// This response's own Content-Security-Policy, instead of the one `finish` is
    /// given (a page framing the portal's own document, the framed document).
    pub csp: Option<String>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("location", &self.location)
            .field("streamed", &self.stream.as_ref().map(|(_, len)| len))
            .finish_non_exhaustive()
    }
}

impl Reply {
    /// An HTML page (never cached: portal pages are private).
    pub fn html(status: StatusCode, html: String) -> Self {
        Self {
            status,
            content_type: "text/html; charset=utf-8",
            body: Bytes::from(html),
            location: None,
            cache: "no-store",
            cookies: Vec::new(),
            extra: Vec::new(),
            stream: None,
            csp: None,
        }
    }

    /// An HTML page sent as `pieces` one after the other, none of them copied (a kept
    /// home: its shared text with this request's values between).
    pub fn html_pieces(status: StatusCode, pieces: Vec<Bytes>) -> Self {
        let len = pieces.iter().map(|p| p.len() as u64).sum();
        Self {
            stream: Some((
                Box::pin(futures_util::stream::iter(pieces.into_iter().map(Ok))),
                len,
            )),
            ..Self::html(status, String::new())
        }
    }

    /// JSON for the upload script (`application/json`, or `application/problem+json`
    /// for an error): never cached, like the pages.
    pub fn json(status: StatusCode, content_type: &'static str, value: &serde_json::Value) -> Self {
        Self {
            content_type,
            ..Self::html(status, value.to_string())
        }
    }

    /// A `303 See Other` to `location` (the POST-redirect-GET step).
    pub fn see_other(location: String) -> Self {
        Self {
            location: Some(location),
            ..Self::html(StatusCode::SEE_OTHER, String::new())
        }
    }

    /// A `301 Moved Permanently` to `location`, cacheable for a day (a fixed alias
    /// such as `/favicon.ico`, never a page of someone's portal).
    pub fn redirect_permanent(location: String) -> Self {
        Self {
            location: Some(location),
            cache: "public, max-age=86400",
            ..Self::html(StatusCode::MOVED_PERMANENTLY, String::new())
        }
    }

    /// Plain text (for low-level errors before a page can be rendered).
    pub fn text(status: StatusCode, text: &str) -> Self {
        Self {
            content_type: "text/plain; charset=utf-8",
            ..Self::html(status, text.to_owned())
        }
    }

    /// Adds a `Set-Cookie`.
    pub fn cookie(mut self, value: String) -> Self {
        self.cookies.push(value);
        self
    }

    /// Finishes the response with the security headers.
    ///
    /// The fixed ones are constants, checked when this crate is compiled, so sending
    /// them costs no parsing or copying per response.
    pub fn finish(self, csp: &str) -> Response<Body> {
        let (body, streamed_len) = match self.stream {
            Some((content, len)) => (
                StreamBody::new(content.map_ok(Frame::data)).boxed_unsync(),
                Some(len),
            ),
            None => (
                Full::new(self.body)
                    .map_err(|never| match never {})
                    .boxed_unsync(),
                None,
            ),
        };
        let mut res = Response::new(body);
        *res.status_mut() = self.status;
        let h = res.headers_mut();
        let put = |h: &mut HeaderMap, name: http::HeaderName, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.append(name, v);
            }
        };
        put(h, CONTENT_TYPE, self.content_type);
        put(h, CACHE_CONTROL, self.cache);
        put(
            h,
            http::header::CONTENT_SECURITY_POLICY,
            self.csp.as_deref().unwrap_or(csp),
        );
        for (name, value) in FIXED_HEADERS {
            h.append(name, value);
        }
        if let Some(location) = &self.location {
            put(h, LOCATION, location);
        }
        for c in &self.cookies {
            put(h, SET_COOKIE, c);
        }
        for (name, value) in self.extra {
            put(h, name, &value);
        }
        if let Some(len) = streamed_len {
            // A stream has no length of its own; the file's size is known up front.
            put(h, CONTENT_LENGTH, &len.to_string());
        }
        res
    }
}
