//! The admin JSON API: every staff use case over HTTP, for a PSA vendor's own UI and
//! the demo's console, mounted under [`HttpConfig::admin_prefix`](crate::HttpConfig)
//! inside [`PortalApp`] (one process, one store and its home cache).
//!
//! Around every handler the framework does, from the route table (`routes.rs`):
//! authentication through the host's [`StaffAuth`] (401 with `WWW-Authenticate`), the
//! route's least role (403), JSON bodies read with a size limit while streaming and a
//! `Content-Type` check (415, 413, 400, 422), `ETag` on versioned resources and
//! `If-Match` on their updates (428, 412), `Idempotency-Key` on creating requests
//! (replay, 409, 422), cursor paging on lists (`{items, next_cursor}`), and every error
//! as `application/problem+json` from the one mapping in `problem.rs`.
//!
//! Tasks, phases, templates, the tenant's settings and portals (their own fields:
//! name, status, target date, branding) have version counters: their `ETag` is
//! `"v<version>"` and the version `If-Match` names goes into the use case, which the
//! store compares inside its unit (a lost race is `Error::Stale`, 412). Contacts have
//! no counter: their `ETag` is `"c<tag>"` of their record's content tag, which the
//! store compares inside its unit too. Reminder settings have no counter yet: their
//! `ETag` is a hash of their JSON, checked just before the update.

mod auth;
mod evidence;
mod handlers;
mod input;
pub(crate) mod openapi;
mod problem;
mod routes;
mod views;
mod webhooks;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, IF_MATCH};
use http::request::Parts;
use http::{HeaderName, Method, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Body as HttpBody;
use portal_core::StaffContext;
use portal_core::blob::ByteStream;
use portal_core::idempotency::{IdempotencyKey, Reservation, Reserve, SavedResponse};
use portal_core::ids::ClaimToken;
use portal_core::store::{Page, PageKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use auth::{AuthRefusal, StaffAuth, bearer_token};
pub use problem::{PROBLEM_BASE, PROBLEM_JSON};

use crate::PortalApp;
use crate::respond::{Body, Reply};
use problem::{ApiError, problem};
use routes::{Matched, Route};

/// The Content-Security-Policy of API answers: nothing may load or frame them.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Largest page a list answers.
const MAX_LIMIT: usize = 100;
/// Page size when `limit` is not given.
const DEFAULT_LIMIT: usize = 50;
/// Deepest offset a cursor may point at (lists are read up to there).
const MAX_OFFSET: usize = 100_000;

/// The host's [`StaffAuth`], with a `Debug` that says nothing about it.
#[derive(Clone)]
pub(crate) struct Auth(pub Arc<dyn StaffAuth>);

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaffAuth")
    }
}

/// What a handler answers.
pub(crate) struct ApiReply {
    status: StatusCode,
    body: Option<Value>,
    headers: Vec<(HeaderName, String)>,
    stream: Option<(ByteStream, u64, &'static str)>,
}

impl ApiReply {
    pub(crate) fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body: Some(body),
            headers: Vec::new(),
            stream: None,
        }
    }

    pub(crate) fn created(body: Value, location: Option<String>) -> Self {
        let mut r = Self::ok(body);
        r.status = StatusCode::CREATED;
        if let Some(l) = location {
            r.headers.push((http::header::LOCATION, l));
        }
        r
    }

    /// Adds the `ETag` of the body's content, unless the handler gave one from a
    /// version already.
    pub(crate) fn with_etag(mut self) -> Self {
        let has = self.headers.iter().any(|(n, _)| n == http::header::ETAG);
        if let (Some(body), false) = (&self.body, has) {
            self.headers.push((http::header::ETAG, etag_of(body)));
        }
        self
    }

    /// Answers with the `ETag` of a record's version counter (tasks, phases,
    /// templates): the store compares that version inside its unit, so `If-Match`
    /// is a real compare-and-set, not a check before the write.
    pub(crate) fn with_version(mut self, version: u64) -> Self {
        self.headers
            .push((http::header::ETAG, version_etag(version)));
        self
    }

    /// Answers with the `ETag` of a contact's content tag
    /// ([`portal_core::model::Contact::content_tag`]): contacts have no version
    /// counter, and the store compares this tag inside its unit on an edit.
    pub(crate) fn with_contact_tag(mut self, tag: &str) -> Self {
        self.headers.push((http::header::ETAG, contact_etag(tag)));
        self
    }

    /// A success without a body.
    pub(crate) fn empty(status: StatusCode) -> Self {
        Self {
            status,
            body: None,
            headers: Vec::new(),
            stream: None,
        }
    }

    pub(crate) fn file(
        stream: ByteStream,
        len: u64,
        content_type: &'static str,
        name: &str,
    ) -> Self {
        Self {
            status: StatusCode::OK,
            body: None,
            headers: vec![(
                http::header::CONTENT_DISPOSITION,
                portal_core::files::attachment_disposition(name),
            )],
            stream: Some((stream, len, content_type)),
        }
    }
}

/// The strong `ETag` of a resource's JSON view.
pub(crate) fn etag_of(view: &Value) -> String {
    let digest = Sha256::digest(view.to_string().as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The `ETag` of version `n` of a versioned record.
pub(crate) fn version_etag(n: u64) -> String {
    format!("\"v{n}\"")
}

/// The `ETag` of a contact whose content tag is `tag`.
pub(crate) fn contact_etag(tag: &str) -> String {
    format!("\"c{tag}\"")
}

/// Per-request facts a handler needs.
pub(crate) struct Call<'a> {
    pub staff: StaffContext,
    pub params: Vec<&'a str>,
    pub body: Value,
    pub headers: &'a http::HeaderMap,
    pub offset: usize,
    /// Where a keyset page starts (routes paged by key in the store).
    pub after: Option<PageKey>,
    pub limit: usize,
    /// The raw query string, for routes that take options (`?with_tasks=true`).
    pub query: Option<&'a str>,
}

impl Call<'_> {
    /// Checks `If-Match` against the current view of the resource: missing is 428,
    /// another version 412 (`*` matches any).
    pub(crate) fn if_match(&self, current: &Value) -> Result<(), ApiError> {
        self.if_match_etag(&etag_of(current))
    }

    /// Checks `If-Match` against the resource's current `ETag` `now`: missing is
    /// 428, another tag 412 (`*` matches any).
    pub(crate) fn if_match_etag(&self, now: &str) -> Result<(), ApiError> {
        let Some(given) = self.headers.get(IF_MATCH).and_then(|v| v.to_str().ok()) else {
            return Err(ApiError::PreconditionRequired);
        };
        let fits = given
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t == now || t.strip_prefix("W/") == Some(now));
        if fits {
            Ok(())
        } else {
            Err(ApiError::PreconditionFailed)
        }
    }

    /// The version `If-Match` names for a record now at version `current`: missing is
    /// 428, `*` is `current`, a tag that is not `"v<n>"` (or names another version
    /// than `current`) is 412. The version goes to the use case, whose store compares
    /// it again inside its unit, so a change that lands between this check and the
    /// write is still refused (`Stale`, 412).
    pub(crate) fn if_match_version(&self, current: u64) -> Result<u64, ApiError> {
        let Some(given) = self.headers.get(IF_MATCH).and_then(|v| v.to_str().ok()) else {
            return Err(ApiError::PreconditionRequired);
        };
        let now = version_etag(current);
        let fits = given
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t == now || t.strip_prefix("W/") == Some(now.as_str()));
        if fits {
            Ok(current)
        } else {
            Err(ApiError::PreconditionFailed)
        }
    }

    /// One page of `items` (read from offset 0, at least `offset + limit + 1` of them
    /// when there are more).
    pub(crate) fn page(&self, items: Vec<Value>) -> ApiReply {
        let more = items.len() > self.offset + self.limit;
        let page: Vec<Value> = items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        let next = more.then(|| encode_cursor(self.offset + self.limit));
        ApiReply::ok(serde_json::json!({ "items": page, "next_cursor": next }))
    }

    /// How many items a list must read for this page (and to know if there are more).
    pub(crate) fn wanted(&self) -> usize {
        self.offset + self.limit + 1
    }

    /// A page the store read by key: its items, and the cursor of the next page
    /// carrying the key of its last item.
    pub(crate) fn key_page(page: Page<Value>) -> ApiReply {
        let next = page.next.map(encode_key);
        ApiReply::ok(serde_json::json!({ "items": page.items, "next_cursor": next }))
    }
}

/// Where a page starts, as a cursor says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    /// A position in a list read whole (lists small enough to read whole).
    Offset(usize),
    /// The key of the last item of the page before (lists paged in the store).
    Key(PageKey),
}

/// Version 1 of key cursors: `k1:<seconds>:<nanoseconds>:<number>`, base64url. Opaque to
/// clients; the version lets a later format refuse old cursors clearly.
const KEY_CURSOR: &str = "k1:";

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn encode_key(key: PageKey) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{KEY_CURSOR}{}:{}:{}",
        key.at.timestamp(),
        key.at.timestamp_subsec_nanos(),
        key.seq
    ))
}

fn decode_cursor(raw: &str) -> Option<Cursor> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    if let Some(key) = text.strip_prefix(KEY_CURSOR) {
        let mut parts = key.splitn(3, ':');
        let (secs, nanos, seq) = (parts.next()?, parts.next()?, parts.next()?);
        let nanos: u32 = nanos.parse().ok().filter(|n| *n < 1_000_000_000)?;
        let at = chrono::DateTime::from_timestamp(secs.parse().ok()?, nanos)?;
        return Some(Cursor::Key(PageKey {
            at,
            seq: seq.parse().ok()?,
        }));
    }
    text.strip_prefix("o:")?
        .parse()
        .ok()
        .filter(|o| *o <= MAX_OFFSET)
        .map(Cursor::Offset)
}

/// `limit` and `cursor` from the query (422 naming the parameter when wrong): a
/// route paged by key takes only key cursors, the others only offsets.
fn paging(query: Option<&str>, keyset: bool) -> Result<(usize, Option<PageKey>, usize), ApiError> {
    let mut limit = DEFAULT_LIMIT;
    let mut offset = 0;
    let mut after = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        input::invalid("limit", format!("must be from 1 to {MAX_LIMIT}"))
                    })?;
            }
            "cursor" => match decode_cursor(&v) {
                Some(Cursor::Key(k)) if keyset => after = Some(k),
                Some(Cursor::Offset(o)) if !keyset => offset = o,
                _ => {
                    return Err(input::invalid(
                        "cursor",
                        "pass back a next_cursor this list gave",
                    ));
                }
            },
            _ => {}
        }
    }
    Ok((offset, after, limit))
}

fn is_json(headers: &http::HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| {
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        })
}

impl PortalApp {
    /// The part of `path` under the admin prefix, when the admin API is mounted and the
    /// path is under it.
    pub(crate) fn admin_path<'p>(&self, path: &'p str) -> Option<&'p str> {
        self.staff_auth.as_ref()?;
        let prefix = self.config().admin_prefix.trim_end_matches('/');
        if prefix.is_empty() {
            return None;
        }
        let rest = path.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    }

    /// Answers one admin API request.
    pub(crate) async fn admin<B>(&self, parts: Parts, body: B, path: &str) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let method = parts.method.clone();
        let (reply, route_id) = match routes::find(&method, path) {
            Matched::None => (Err(ApiError::NoRoute), "no_route"),
            Matched::OtherMethods(allowed) => {
                let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
                (
                    Err(ApiError::MethodNotAllowed(allow.join(", "))),
                    "method_not_allowed",
                )
            }
            Matched::Route(route, params) => {
                let id = route.id;
                (self.admin_route(&parts, body, route, params).await, id)
            }
        };
        let response = match reply {
            Ok(Answer::Fresh(r)) => self.finish_api(r),
            Ok(Answer::Replayed(saved)) => replayed(saved),
            Err(e) => self.problem_response(&e),
        };
        tracing::info!(route = route_id, %method, status = response.status().as_u16(), "admin request");
        response
    }

    async fn admin_route<B>(
        &self,
        parts: &Parts,
        body: B,
        route: Route,
        params: Vec<&str>,
    ) -> Result<Answer, ApiError>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        if route.op == routes::Op::OpenApi {
            return Ok(Answer::Fresh(ApiReply::ok(openapi::document(
                &self.config().admin_prefix,
            ))));
        }
        let Some(Auth(auth)) = &self.staff_auth else {
            return Err(ApiError::NoRoute);
        };
        let staff = auth
            .authenticate(parts)
            .await
            .map_err(ApiError::Unauthorized)?;
        if let Some(role) = route.role {
            staff.require(role, route.summary)?;
        }
        if route.upload {
            // A file body: streamed to the handler, never read as JSON, never
            // replayed through an idempotency key (PUT replaces, so a retry is safe).
            let call = Call {
                staff,
                params,
                body: Value::Null,
                headers: &parts.headers,
                offset: 0,
                after: None,
                limit: DEFAULT_LIMIT,
                query: parts.uri.query(),
            };
            return self
                .admin_upload(&route, &call, body)
                .await
                .map(Answer::Fresh);
        }
        let (offset, after, limit) = if route.paged {
            paging(parts.uri.query(), route.keyset)?
        } else {
            (0, None, DEFAULT_LIMIT)
        };
        let raw = if route.body.is_some() {
            // A logo comes as base64 inside JSON: room for the largest logo's text.
            let max = if route.op == routes::Op::UploadLogo {
                portal_core::model::Logo::MAX_BYTES / 3 * 4 + 4096
            } else if route.op == routes::Op::UploadTeamPhoto {
                portal_core::model::TeamMember::MAX_PHOTO_BYTES / 3 * 4 + 4096
            } else if route.op == routes::Op::VerifyDocument {
                // A document to check comes as base64 inside JSON, like a logo.
                evidence::MAX_CHECKED_DOCUMENT / 3 * 4 + 4096
            } else {
                self.config().max_form_bytes
            };
            self.read_json(&parts.headers, body, max).await?
        } else {
            Bytes::new()
        };
        let value = if raw.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&raw).map_err(|e| input::parse_error(&e))?
        };
        let idempotency = match parts.headers.get("idempotency-key") {
            Some(v) if route.idempotent => {
                let key = v
                    .to_str()
                    .ok()
                    .ok_or_else(|| input::invalid("Idempotency-Key", "use visible ASCII"))
                    .and_then(|s| IdempotencyKey::parse(s).map_err(ApiError::Core))?;
                let mut h = Sha256::new();
                h.update(route.method.as_str());
                h.update(b"\n");
                h.update(parts.uri.path());
                h.update(b"\n");
                h.update(&raw);
                let reserve = Reserve {
                    tenant: staff.tenant,
                    key,
                    fingerprint: h.finalize().into(),
                    claim: ClaimToken::random(self.service().random().as_ref()),
                    now: self.service().clock().now(),
                };
                match self.service().store().reserve_idempotency(&reserve).await? {
                    Reservation::Reserved => Some(reserve),
                    Reservation::Replay(saved) => return Ok(Answer::Replayed(saved)),
                    Reservation::InProgress => return Err(ApiError::KeyInUse),
                    Reservation::KeyReused => return Err(ApiError::KeyReused),
                }
            }
            _ => None,
        };
        let call = Call {
            staff,
            params,
            body: value,
            headers: &parts.headers,
            offset,
            after,
            limit,
            query: parts.uri.query(),
        };
        let etag = route.etag;
        let result = self
            .dispatch(route, &call)
            .await
            .map(|r| if etag { r.with_etag() } else { r });
        if let Some(reserve) = idempotency {
            let saved = saved_response(&result);
            self.settle_key(&reserve, saved).await;
        }
        result.map(Answer::Fresh)
    }

    /// Stores the answer under the key (any answer but a server error, which a retry
    /// may fix), or frees the key.
    async fn settle_key(&self, reserve: &Reserve, saved: Option<SavedResponse>) {
        let store = self.service().store();
        let done = match saved {
            Some(s) => {
                store
                    .complete_idempotency(reserve.tenant, &reserve.key, reserve.claim, &s)
                    .await
            }
            None => {
                store
                    .release_idempotency(reserve.tenant, &reserve.key, reserve.claim)
                    .await
            }
        };
        if let Err(e) = done {
            tracing::error!(error = %e, "could not record an idempotency key's outcome");
        }
    }

    async fn read_json<B>(
        &self,
        headers: &http::HeaderMap,
        body: B,
        max: usize,
    ) -> Result<Bytes, ApiError>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        if !is_json(headers) {
            return Err(ApiError::UnsupportedMediaType);
        }
        match Limited::new(body, max).collect().await {
            Ok(c) => Ok(c.to_bytes()),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(ApiError::TooLarge { max_bytes: max })
            }
            Err(_) => Err(ApiError::BodyUnreadable),
        }
    }

    fn finish_api(&self, r: ApiReply) -> Response<Body> {
        let mut reply = match r.stream {
            Some((stream, len, content_type)) => Reply {
                content_type,
                stream: Some((stream, len)),
                ..Reply::text(r.status, "")
            },
            None => match &r.body {
                Some(v) => Reply::json(r.status, "application/json", v),
                None => Reply::text(r.status, ""),
            },
        };
        reply.extra.extend(r.headers);
        reply.finish(API_CSP)
    }

    fn problem_response(&self, e: &ApiError) -> Response<Body> {
        let p = problem(e);
        let value = serde_json::to_value(&p).unwrap_or(Value::Null);
        let mut reply = Reply::json(p.status(), PROBLEM_JSON, &value);
        match e {
            ApiError::Unauthorized(_) => {
                let challenge = self
                    .staff_auth
                    .as_ref()
                    .map(|Auth(a)| a.challenge().to_owned())
                    .unwrap_or_default();
                reply
                    .extra
                    .push((http::header::WWW_AUTHENTICATE, challenge));
            }
            ApiError::MethodNotAllowed(allow) => {
                reply.extra.push((http::header::ALLOW, allow.clone()));
            }
            _ => {}
        }
        reply.finish(API_CSP)
    }
}

/// What an idempotency key keeps of an answer: `None` for a server error (a retry may
/// succeed, so the key is freed) and for a streamed file (never idempotent).
fn saved_response(result: &Result<ApiReply, ApiError>) -> Option<SavedResponse> {
    match result {
        Ok(r) if r.stream.is_none() => Some(SavedResponse {
            status: r.status.as_u16(),
            headers: r
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.clone()))
                .chain(std::iter::once((
                    CONTENT_TYPE.as_str().to_owned(),
                    "application/json".to_owned(),
                )))
                .collect(),
            body: r
                .body
                .as_ref()
                .map(|b| b.to_string().into_bytes())
                .unwrap_or_default(),
        }),
        Ok(_) => None,
        Err(e) => {
            let p = problem(e);
            (p.status < 500).then(|| SavedResponse {
                status: p.status,
                headers: vec![(CONTENT_TYPE.as_str().to_owned(), PROBLEM_JSON.to_owned())],
                body: serde_json::to_vec(&p).unwrap_or_default(),
            })
        }
    }
}

/// A handler's answer, or one replayed from an idempotency key.
enum Answer {
    Fresh(ApiReply),
    Replayed(SavedResponse),
}

fn replayed(saved: SavedResponse) -> Response<Body> {
    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    let mut reply = Reply::text(status, "");
    reply.body = Bytes::from(saved.body);
    let mut content_type = "application/json";
    for (name, value) in saved.headers {
        if name.eq_ignore_ascii_case("content-type") {
            if value == PROBLEM_JSON {
                content_type = PROBLEM_JSON;
            }
            continue;
        }
        if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
            reply.extra.push((n, value));
        }
    }
    reply.content_type = content_type;
    reply.extra.push((
        HeaderName::from_static("idempotent-replayed"),
        "true".to_owned(),
    ));
    reply.finish(API_CSP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        assert_eq!(
            decode_cursor(&encode_cursor(150)),
            Some(Cursor::Offset(150))
        );
        assert_eq!(decode_cursor("nope"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("o:999999999")), None);
        assert!(paging(Some("limit=0"), false).is_err());
        assert!(paging(Some("limit=101"), false).is_err());
        assert_eq!(paging(Some("limit=5"), false).unwrap(), (0, None, 5));
        assert!(paging(Some("cursor=%%%"), false).is_err());
    }

    #[test]
    fn key_cursors_round_trip_and_tampered_ones_are_refused() {
        let key = PageKey {
            at: chrono::DateTime::from_timestamp(1_764_000_000, 123_456_789).unwrap(),
            seq: 42,
        };
        let cursor = encode_key(key);
        assert_eq!(decode_cursor(&cursor), Some(Cursor::Key(key)));
        let query = format!("cursor={cursor}&limit=3");
        assert_eq!(paging(Some(&query), true).unwrap(), (0, Some(key), 3));
        // A key cursor on an offset list, and an offset cursor on a keyset list.
        assert!(paging(Some(&query), false).is_err());
        let offset = format!("cursor={}", encode_cursor(3));
        assert!(paging(Some(&offset), true).is_err());
        for tampered in [
            "k1:notanumber:0:1",
            "k1:5:0",
            "k1:5:0:-1",
            "k1:5:1000000000:1",
            "k1:99999999999999999999:0:1",
            "k2:5:0:1",
            "k1:5:0:1:extra",
        ] {
            let q = format!("cursor={}", URL_SAFE_NO_PAD.encode(tampered));
            let refused = paging(Some(&q), true).unwrap_err();
            let p = problem(&refused);
            assert_eq!(p.status, 422, "{tampered}");
            assert!(
                serde_json::to_string(&p).unwrap().contains("cursor"),
                "{tampered} names the field"
            );
        }
    }

    #[test]
    fn etags_follow_the_content() {
        let a = serde_json::json!({"title": "A"});
        let b = serde_json::json!({"title": "B"});
        assert_ne!(etag_of(&a), etag_of(&b));
        assert_eq!(etag_of(&a), etag_of(&a.clone()));
        assert!(etag_of(&a).starts_with('"'));
    }
}
