//! [`PortalApp`]: routes a request to the client portal's pages.
//!
//! Routes (under the mount prefix):
//! - `GET /i/{invite}`: invite page; `POST` sends the verification email and lands on `/verify`.
//! - `GET /verify`: "check your email" with code entry; `POST /verify/code`, `POST /verify/resend`.
//! - `GET /m/{magic}`: confirmation page (mail scanners only ever GET); its `POST` signs in.
//! - `GET /?tab=tasks|progress|documents|approvals`: the portal home; `POST /sign-out`.
//! - `GET /tasks/{task}`: a task; `POST /tasks/{task}/{action}`: its actions.
//! - `POST /tasks/{task}/documents/{document}`: uploads a file for a requested document
//!   (`multipart/form-data`, streamed); `GET /tasks/{task}/files/{file}` downloads one.
//! - `GET /r/snooze/{token}`, `GET /r/unsubscribe/{token}`: a reminder link's page; its
//!   `POST` snoozes the task or turns reminders off (the unsubscribe `POST` is also
//!   the RFC 8058 one-click target, so it takes no CSRF token: see `reminders`).
//! - `GET /assets/portal.css`, `GET /assets/documents.js`, `GET /brand/logo/{sha256}`:
//!   static assets.
//!
//! Token-bearing URLs are never logged, and after a token is used the browser is
//! redirected to a URL without it.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use askama::Template;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Body as HttpBody;
use portal_core::error::{Entity, Error};
use portal_core::i18n::{Language, Texts};
use portal_core::model::Branding;
use portal_core::secret::SessionToken;
use portal_core::store::{ClientContext, RequestInfo};
use portal_core::workflow::guests::Reach;
use portal_core::{PortalService, TenantId};

mod access;
mod documents;
mod failure;
mod filedrop;
mod home_cache;
mod portal;
mod reminders;
pub mod routes;
mod settings;
mod tasks;
mod team;

use failure::{Failure, Refusal};

use crate::config::HttpConfig;
use crate::cookies::{self, Jar};
use crate::csrf::{self, Origin};
use crate::ip_limit::IpLimiter;
use crate::pages::{Chrome, MessagePage};
use crate::respond::{Body, Reply, csp};
use crate::server::BodyDeadline;
use crate::throttle::WriteThrottle;

/// The client address a trusted proxy vouches for: the *last* `X-Forwarded-For` entry
/// (the one the proxy appended). Earlier entries come from the client and are not
/// believed; an unparsable last entry means no vouched address.
fn client_ip_from_forwarded(headers: &HeaderMap) -> Option<IpAddr> {
    let last_header = headers.get_all("x-forwarded-for").iter().next_back()?;
    let last_entry = last_header.to_str().ok()?.rsplit(',').next()?;
    last_entry.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_proxys_entry_is_believed() {
        let mut h = HeaderMap::new();
        assert_eq!(client_ip_from_forwarded(&h), None);
        h.append(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.4".parse().unwrap(),
        );
        assert_eq!(
            client_ip_from_forwarded(&h),
            Some("198.51.100.4".parse().unwrap())
        );
        h.append("x-forwarded-for", "2001:db8::1".parse().unwrap());
        assert_eq!(
            client_ip_from_forwarded(&h),
            Some("2001:db8::1".parse().unwrap())
        );
        let mut spoof = HeaderMap::new();
        spoof.append("x-forwarded-for", "10.0.0.1, garbage".parse().unwrap());
        assert_eq!(
            client_ip_from_forwarded(&spoof),
            None,
            "never falls back to a client-supplied entry"
        );
    }
}

/// Whether `path` (under the mount prefix) is an upload's address,
/// `/tasks/{task}/documents/{document}`.
fn is_upload_path(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        ["tasks", _, "documents", _] | ["tasks", _, "drops"]
    )
}

/// The portal's HTTP application: a function from request to response.
#[derive(Debug, Clone)]
pub struct PortalApp {
    service: PortalService,
    config: HttpConfig,
    /// The origin of `config.public_base_url`, which form posts must come from.
    public_origin: Option<Origin>,
    /// The host name of `config.public_base_url`: it serves every tenant
    /// (see [`portal_core::model::host_admits`]).
    app_host: String,
    /// Per-session write windows (shared by clones of the app).
    throttle: Arc<WriteThrottle>,
    /// Per-network windows of verification starts (shared by clones of the app).
    starts_by_network: Arc<IpLimiter>,
    /// Per-network windows of code entries (shared by clones of the app).
    codes_by_network: Arc<IpLimiter>,
    /// How admin API requests are authenticated; `None`: the admin API is not mounted.
    pub(crate) staff_auth: Option<crate::admin::Auth>,
    /// The host's own pages, each under its prefix (the demo mounts its console and
    /// its mailbox).
    host_pages: Vec<crate::host::Mounted>,
    /// Signed webhooks, when the host runs them (their admin routes answer 404
    /// otherwise).
    webhooks: Option<portal_core::webhooks::service::Webhooks>,
    /// Portal homes kept as built (shared by clones of the app).
    home_cache: Arc<home_cache::HomeCache>,
}

/// Per-request facts every handler needs.
struct Req {
    method: Method,
    headers: HeaderMap,
    query: Option<String>,
    info: RequestInfo,
    csrf_secret: String,
    csrf_is_new: bool,
    /// What this request's form tokens are bound to (see [`csrf::session_binding`]).
    csrf_binding: Vec<u8>,
    nonce: String,
    /// The request's `Host` (or HTTP/2 authority), checked by [`PortalApp::admit_host`].
    host: Option<String>,
    /// What a signed-in participant reaches through this route (see [`reach_of`]):
    /// [`PortalApp::authenticated`] asks the core's guest rule with it, so every
    /// client route is checked in one place.
    reach: Option<Reach>,
    /// The language the browser asks for (`Accept-Language`, negotiated once).
    accept_language: Language,
    /// The language the MSP set for the signed-in contact, once
    /// [`PortalApp::authenticated`] knows who it is: it wins over the browser's.
    contact_language: OnceLock<Language>,
}

impl Req {
    /// The language of this request's pages: the signed-in contact's when the MSP
    /// set one, else the browser's `Accept-Language` (pages before sign-in: always
    /// the browser's).
    fn language(&self) -> Language {
        self.contact_language
            .get()
            .copied()
            .unwrap_or(self.accept_language)
    }

    /// The catalog in [`Self::language`].
    fn texts(&self) -> Texts {
        Texts::new(self.language())
    }
}

/// What the client route at `segments` reaches, for the guest rule
/// ([`portal_core::workflow::guests::judge_reach`]): a task's pages and actions reach
/// that task; the home page (which shows a guest only their tasks), signing out and
/// the pages before sign-in reach nothing to judge; every other signed-in page is
/// portal-wide. A task id that does not parse is portal-wide (it answers 404 anyway).
fn reach_of(segments: &[&str]) -> Option<Reach> {
    match segments {
        [""] | ["sign-out"] | ["signed-out"] => None,
        ["i" | "m" | "verify" | "r" | "assets" | "brand", ..] => None,
        ["favicon.svg" | "favicon.ico"] => None,
        ["tasks", id, ..] => Some(
            id.parse::<portal_core::ids::TaskId>()
                .map_or(Reach::Portal, Reach::Task),
        ),
        _ => Some(Reach::Portal),
    }
}

impl PortalApp {
    /// An app serving `service` with `config`, once [`HttpConfig::validate`] finds
    /// nothing missing or contradictory: prefer it to [`new`](Self::new).
    pub fn try_new(service: PortalService, config: HttpConfig) -> Result<Self, crate::ConfigError> {
        config.validate()?;
        Ok(Self::new(service, config))
    }

    /// An app serving `service` with `config` as given (a problem
    /// [`HttpConfig::validate`] would report is only logged).
    pub fn new(service: PortalService, config: HttpConfig) -> Self {
        if let Err(problem) = config.validate() {
            tracing::warn!(%problem, "the portal's HTTP configuration has a problem");
        }
        let public_origin = Origin::parse(&config.public_base_url);
        if public_origin.is_none() {
            tracing::warn!(
                "public_base_url is not an http(s) origin; form posts naming an Origin will be refused"
            );
        }
        let tracked = config.ip_limit_max_tracked;
        let app_host = config
            .public_base_url
            .split_once("://")
            .map_or("", |(_, rest)| rest)
            .split('/')
            .next()
            .map(portal_core::model::host_of)
            .unwrap_or_default();
        let home_cache = Arc::new(home_cache::HomeCache::new(
            config.home_cache_bytes,
            service.random().as_ref(),
        ));
        Self {
            home_cache,
            service,
            config,
            public_origin,
            app_host,
            throttle: Arc::new(WriteThrottle::default()),
            starts_by_network: Arc::new(IpLimiter::new(tracked)),
            codes_by_network: Arc::new(IpLimiter::new(tracked)),
            staff_auth: None,
            host_pages: Vec::new(),
            webhooks: None,
        }
    }

    /// Mounts the admin JSON API under [`HttpConfig::admin_prefix`], authenticating
    /// staff with `auth` (the demo's API keys, a host's own session or SSO).
    pub fn with_staff_auth(mut self, auth: Arc<dyn crate::StaffAuth>) -> Self {
        self.staff_auth = Some(crate::admin::Auth(auth));
        self
    }

    /// Serves `pages` for every path under `prefix` (e.g. `/console`), their request
    /// bodies read whole up to `max_body` bytes. The host's pages come before the
    /// client pages and the admin API, so pick a prefix neither uses. Call it once per
    /// prefix to mount several hosts' pages; mounting a prefix again replaces its pages.
    pub fn with_host_pages(
        mut self,
        prefix: &str,
        max_body: usize,
        pages: Arc<dyn crate::HostPages>,
    ) -> Self {
        let prefix = prefix.trim_end_matches('/').to_owned();
        self.host_pages.retain(|m| m.prefix != prefix);
        self.host_pages.push(crate::host::Mounted {
            prefix,
            max_body,
            pages,
        });
        self
    }

    /// Serves the webhook operations of the admin API with `webhooks` (the host runs
    /// its dispatcher and worker itself, e.g. with
    /// [`Webhooks::spawn`](portal_core::webhooks::service::Webhooks::spawn)).
    pub fn with_webhooks(mut self, webhooks: portal_core::webhooks::service::Webhooks) -> Self {
        self.webhooks = Some(webhooks);
        self
    }

    /// The webhooks the app serves, if any.
    pub fn webhooks(&self) -> Option<&portal_core::webhooks::service::Webhooks> {
        self.webhooks.as_ref()
    }

    /// The service behind the app.
    pub fn service(&self) -> &PortalService {
        &self.service
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Whether a request to `path` is the app's: a mounted [`HostPages`](crate::HostPages)
    /// prefix, the admin API, or the portal's mount (the whole site when the portal is
    /// mounted at the root). [`serve_with_fallback`](crate::serve_with_fallback) hands
    /// every other path to the host's own routes.
    pub fn owns_path(&self, path: &str) -> bool {
        if self.host_pages.iter().any(|h| h.owns(path)) || self.admin_path(path).is_some() {
            return true;
        }
        path.strip_prefix(self.config.prefix())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// Handles one request from `remote`.
    ///
    /// The body must be `'static` (hyper's `Incoming` is): an upload's file is handed
    /// to the service as a stream that owns the body. A host serving the app from its
    /// own server bounds how slowly bodies may arrive itself; [`serve`](crate::serve)
    /// does it per route (see [`HttpConfig::upload_min_rate`]).
    pub async fn handle<B>(&self, request: Request<B>, remote: SocketAddr) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        // Here rather than in `serve`, so a host serving the app from its own server
        // gets HSTS too.
        let mut response = self.route(request, remote).await;
        crate::respond::transport_headers(response.headers_mut(), &self.config);
        response
    }

    /// Reads the body whole (413 beyond the mount's limit, 400 when it breaks off) and
    /// hands the request to the host's pages.
    async fn host_page<B>(
        &self,
        host: &crate::host::Mounted,
        parts: http::request::Parts,
        body: B,
        remote: SocketAddr,
    ) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let bytes = match Limited::new(body, host.max_body).collect().await {
            Ok(c) => c.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Reply::text(StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.")
                    .finish("default-src 'none'");
            }
            Err(_) => {
                return Reply::text(StatusCode::BAD_REQUEST, "The request body broke off.")
                    .finish("default-src 'none'");
            }
        };
        host.pages
            .handle(Request::from_parts(parts, bytes), remote)
            .await
    }

    /// How long the body of a request to `path` may take to arrive: uploads must keep
    /// arriving at a minimum rate, everything else (forms of a few kilobytes) arrives
    /// whole within `body_timeout`.
    pub(crate) fn body_deadline(&self, method: &Method, path: &str) -> BodyDeadline {
        let upload = *method == Method::POST
            && path
                .strip_prefix(self.config.prefix())
                .is_some_and(is_upload_path);
        if !upload {
            return BodyDeadline::Whole(self.config.body_timeout);
        }
        let window = self.config.upload_rate_window;
        let per_window =
            u64::try_from(u128::from(self.config.upload_min_rate) * window.as_millis() / 1000)
                .unwrap_or(u64::MAX);
        BodyDeadline::Progress {
            window,
            min_bytes: per_window.max(1),
        }
    }

    async fn route<B>(&self, request: Request<B>, remote: SocketAddr) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (parts, body) = request.into_parts();
        let full_path = parts.uri.path().to_owned();
        if let Some(host) = self.host_pages.iter().find(|h| h.owns(&full_path)) {
            return Box::pin(self.host_page(host, parts, body, remote)).await;
        }
        if let Some(rest) = self.admin_path(&full_path) {
            let rest = rest.to_owned();
            return Box::pin(self.admin(parts, body, &rest)).await;
        }
        // HTTP/2 carries the host as the URI's authority rather than a `Host` header.
        let authority = parts.uri.authority().map(|a| a.as_str().to_owned());
        let mut nonce_bytes = [0u8; 16];
        self.service.random().fill(&mut nonce_bytes);
        let mut nonce = String::with_capacity(2 * nonce_bytes.len());
        for b in nonce_bytes {
            let _ = write!(nonce, "{b:02x}");
        }
        let csp_value = csp(&nonce, &self.config.frame_ancestors);

        let Some(path) = full_path.strip_prefix(self.config.prefix()) else {
            return Reply::text(StatusCode::NOT_FOUND, "Not found").finish(&csp_value);
        };
        let path = if path.is_empty() { "/" } else { path };
        let existing_csrf =
            cookies::read(&parts.headers, &self.config, Jar::Csrf).filter(|c| c.len() == 43);
        let (csrf_secret, csrf_is_new) = match existing_csrf {
            Some(c) => (c, false),
            None => (csrf::new_secret(self.service.random().as_ref()), true),
        };
        let csrf_binding = csrf::session_binding(
            cookies::read(&parts.headers, &self.config, Jar::Session).as_deref(),
        );
        let ip = self.client_ip(&parts.headers, remote.ip());
        let user_agent = parts.headers.get(USER_AGENT).and_then(|v| v.to_str().ok());
        let request_host = parts
            .headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| authority.clone());
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let reach = reach_of(&segments);
        let accept_language = Language::negotiate(
            parts
                .headers
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let req = Req {
            reach,
            accept_language,
            contact_language: OnceLock::new(),
            method: parts.method.clone(),
            query: parts.uri.query().map(str::to_owned),
            info: RequestInfo::new(Some(ip), user_agent, Some(path)),
            headers: parts.headers,
            csrf_secret,
            csrf_is_new,
            csrf_binding,
            nonce,
            host: request_host,
        };

        let is_get = matches!(req.method, Method::GET | Method::HEAD);
        let is_post = req.method == Method::POST;
        let host = req
            .headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .or(authority.as_deref());
        // A one-click unsubscribe comes from the mailbox provider's servers: the signed
        // token in its URL is its only credential, by design (RFC 8058).
        let one_click = matches!(segments.as_slice(), ["r", "unsubscribe", _]);
        let cross_origin = is_post
            && !one_click
            && csrf::from_elsewhere(&req.headers, host, self.public_origin.as_ref());
        // The home is awaited in place; every other route is boxed, so this future
        // (which hyper moves into place for every request) is the home's size rather
        // than the largest route's: 17 KB, copied on each request, before.
        let (route, result) = match (segments.as_slice(), is_get, is_post) {
            _ if cross_origin => ("cross_origin", Err(Refusal::CrossOrigin.into())),
            ([""], true, _) => ("home", self.home(&req).await),
            _ => Box::pin(self.client_route(&req, &segments, is_get, is_post, body)).await,
        };
        let mut reply = match result {
            Ok(reply) => reply,
            Err(failure) => {
                let failure = Box::pin(self.brand_for_session(&req, failure)).await;
                self.failure_page(&req, failure)
            }
        };
        let csrf_cookie = format!("{}=", Jar::Csrf.name(&self.config));
        let renewed = reply.cookies.iter().any(|c| c.starts_with(&csrf_cookie));
        if req.csrf_is_new && !renewed && reply.content_type.starts_with("text/html") {
            reply = reply.cookie(cookies::set(
                &self.config,
                Jar::Csrf,
                &req.csrf_secret,
                None,
            ));
        }
        tracing::info!(route, method = %req.method, status = reply.status.as_u16(), "request");
        reply.finish(&csp_value)
    }

    /// Every route but the home's: the route's name for the log, and its answer.
    async fn client_route<B>(
        &self,
        req: &Req,
        segments: &[&str],
        is_get: bool,
        is_post: bool,
        body: B,
    ) -> (&'static str, Result<Reply, Failure>)
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        match (segments, is_get, is_post) {
            (["sign-out"], _, true) => ("sign_out", self.sign_out(req, body).await),
            (["signed-out"], true, _) => ("signed_out", Ok(self.signed_out(req))),
            (["i", token], true, _) => ("invite", self.invite_page(req, token).await),
            (["i", token], _, true) => (
                "start_verification",
                self.start_verification(req, token, body).await,
            ),
            (["verify"], true, _) => ("verify", self.verify_page(req).await),
            (["verify", "code"], _, true) => ("enter_code", self.enter_code(req, body).await),
            (["verify", "resend"], _, true) => ("resend_code", self.resend_code(req, body).await),
            (["m", token], true, _) => ("magic_link", self.magic_page(req, token).await),
            (["m", token], _, true) => (
                "confirm_magic_link",
                self.confirm_magic(req, token, body).await,
            ),
            (["tasks", id], true, _) => ("task", self.task_page(req, id).await),
            (["tasks", id, "invite.ics"], true, _) => ("meeting_ics", self.task_ics(req, id).await),
            (["tasks", id, "document"], true, _) => {
                ("signature_document", self.signature_document(req, id).await)
            }
            (["tasks", id, "shared", file], true, _) => {
                ("open_shared", self.open_shared(req, id, file).await)
            }
            (["tasks", id, "certificate"], true, _) => {
                ("signature_certificate", self.certificate(req, id).await)
            }
            (["tasks", id, "documents", document], _, true) => (
                "upload_document",
                self.upload(req, id, document, body).await,
            ),
            (["tasks", id, "files", file], true, _) => {
                ("download_document", self.download(req, id, file).await)
            }
            (["tasks", id, "drops"], _, true) => ("drop_file", self.drop_file(req, id, body).await),
            (["tasks", id, "drops", file, "delete"], _, true) => {
                ("delete_drop", self.delete_drop(req, id, file, body).await)
            }
            (["tasks", id, action], _, true) => {
                ("task_action", self.task_action(req, id, action, body).await)
            }
            (["team"], true, _) => ("team", self.team(req).await),
            (["team"], _, true) => ("invite_colleague", self.invite_colleague(req, body).await),
            (["questions"], true, _) => ("questions", self.questions(req).await),
            (["questions"], _, true) => ("ask_question", self.ask_question(req, body).await),
            (["settings"], true, _) => ("settings", self.settings(req).await),
            (["settings", "time-zone"], _, true) => {
                ("set_time_zone", self.set_time_zone(req, body).await)
            }
            (["settings", "sign-out-others"], _, true) => {
                ("sign_out_others", self.sign_out_others(req, body).await)
            }
            (["r", "snooze" | "unsubscribe", token], true, _) => {
                ("reminder_link", self.reminder_page(req, token).await)
            }
            (["r", "snooze", token], _, true) => ("snooze", self.snooze(req, token, body).await),
            (["r", "unsubscribe", token], _, true) => {
                ("unsubscribe", self.unsubscribe(req, token, body).await)
            }
            (["assets", "portal.css"], true, _) => ("css", Ok(Self::css())),
            (["assets", "documents.js"], true, _) => ("js", Ok(Self::documents_js())),
            (["brand", "logo", sha], true, _) => ("logo", self.logo(sha).await),
            (["favicon.svg"], true, _) => ("favicon", Ok(self.favicon(req))),
            // Browsers ask for /favicon.ico on their own: sent to the SVG (every
            // browser the portal supports shows an SVG icon) rather than a 404.
            (["favicon.ico"], true, _) => (
                "favicon_ico",
                Ok(Reply::redirect_permanent(self.config.path("/favicon.svg"))),
            ),
            (
                [""]
                | ["sign-out"]
                | ["signed-out"]
                | ["i", _]
                | ["verify"]
                | ["verify", _]
                | ["m", _]
                | ["tasks", _]
                | ["tasks", _, _]
                | ["tasks", _, "documents" | "files", _]
                | ["tasks", _, "drops", _, "delete"]
                | ["questions"]
                | ["favicon.svg" | "favicon.ico"]
                | ["settings"]
                | ["settings", "time-zone" | "sign-out-others"]
                | ["team"]
                | ["r", "snooze" | "unsubscribe", _],
                _,
                _,
            ) => ("method_not_allowed", Err(Refusal::MethodNotAllowed.into())),
            _ => ("not_found", Err(Error::not_found(Entity::Page).into())),
        }
    }

    /// Counts one access-flow attempt of the request's network against `limit` per
    /// hour in `limiter`; refused with how long to wait, before the core is asked
    /// anything (so a refused attempt sends no email and checks no code).
    fn admit_network(&self, req: &Req, limiter: &IpLimiter, limit: u32) -> Result<(), Refusal> {
        // The request's address is always known here (the socket's, or a trusted
        // proxy's); a host without one is not limited rather than refused.
        let Some(ip) = req.info.ip else {
            return Ok(());
        };
        limiter
            .admit(ip, self.service.clock().now(), limit)
            .map_err(|wait| {
                tracing::warn!(network = %ip, "per-network access limit reached");
                Refusal::TooManyFromNetwork {
                    // Rounded up, so a client that waits this long is let in.
                    retry_after_secs: wait.num_milliseconds().saturating_add(999) / 1000,
                }
            })
    }

    /// The one place a request's host is checked against the tenant whose invite,
    /// verification, magic link, reminder link or session it uses: on a tenant's own
    /// host name only that tenant's are found (the rule:
    /// [`portal_core::model::host_admits`]). Anything else answers as unknown
    /// (`NotFound(entity)`), the same page as a mistyped link, so a domain never
    /// tells whether another MSP's link exists.
    async fn admit_host(&self, req: &Req, tenant: TenantId, entity: Entity) -> Result<(), Failure> {
        use portal_core::model::{HostOwner, host_admits, host_of, host_owner};
        let Some(host) = req.host.as_deref() else {
            return Ok(());
        };
        let owner = if host_of(host) == self.app_host {
            HostOwner::App
        } else {
            let own = self.service.store().tenant(tenant).await?;
            if own.base_url.as_ref().is_some_and(|u| u.serves_host(host)) {
                HostOwner::Tenant(tenant)
            } else {
                let tenants = self.service.store().tenants().await?;
                host_owner(host, &self.app_host, &tenants)
            }
        };
        if host_admits(owner, tenant) {
            Ok(())
        } else {
            tracing::warn!(host = %host_of(host), "a link or session of one tenant was used on another tenant's host; answered as unknown");
            Err(Error::NotFound { entity }.into())
        }
    }

    fn client_ip(&self, headers: &HeaderMap, socket: IpAddr) -> IpAddr {
        if !self.config.trusted_proxies.contains(&socket) {
            return socket;
        }
        client_ip_from_forwarded(headers).unwrap_or(socket)
    }

    fn chrome(&self, req: &Req, title: &str, branding: Option<&Branding>) -> Chrome {
        Chrome::new(
            title,
            branding,
            self.config.prefix(),
            req.nonce.clone(),
            csrf::token_for(self.service.secret(), &req.csrf_secret, &req.csrf_binding),
        )
        .in_language(req.language())
    }

    fn render(&self, status: StatusCode, page: &impl Template) -> Reply {
        match page.render() {
            Ok(html) => Reply::html(status, html),
            Err(e) => {
                tracing::error!(error = %e, "template rendering failed");
                Reply::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side. Please try again.",
                )
            }
        }
    }

    fn message(
        &self,
        req: &Req,
        status: StatusCode,
        branding: Option<&Branding>,
        heading: &str,
        paragraphs: &[&str],
        action: Option<(String, &str)>,
    ) -> Reply {
        let page = MessagePage {
            c: self.chrome(req, heading, branding),
            heading: heading.to_owned(),
            paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
            action_link: action.map(|(href, label)| (href, label.to_owned())),
        };
        self.render(status, &page)
    }

    /// Reads an urlencoded form, enforcing the size limit while streaming, and checks
    /// its CSRF token.
    async fn form<B>(&self, req: &Req, body: B) -> Result<Vec<(String, String)>, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.form_max(req, body, self.config.max_form_bytes).await
    }

    /// [`Self::form`] with its own size limit (the signature form carries a PNG).
    async fn form_max<B>(
        &self,
        req: &Req,
        body: B,
        max_bytes: usize,
    ) -> Result<Vec<(String, String)>, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let is_form = req
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(Refusal::NotAForm.into());
        }
        let bytes = match Limited::new(body, max_bytes).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Err(Refusal::FormTooLarge.into());
            }
            Err(e) if crate::server::body_too_slow(e.as_ref()) => {
                return Err(Refusal::BodyTooSlow.into());
            }
            Err(_) => return Err(Refusal::BodyUnreadable.into()),
        };
        let fields: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
        let submitted = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str());
        let cookie = if req.csrf_is_new {
            None
        } else {
            Some(req.csrf_secret.as_str())
        };
        if !csrf::verify(self.service.secret(), cookie, &req.csrf_binding, submitted) {
            return Err(Refusal::StaleForm.into());
        }
        Ok(fields)
    }

    /// The answer to a successful sign-in: to the portal home with the session cookie,
    /// the verification cookie deleted, and a new CSRF secret, so no form token from
    /// before the sign-in carries over into the session.
    fn signed_in(&self, token: &SessionToken, ctx: &ClientContext) -> Reply {
        let csrf_secret = csrf::new_secret(self.service.random().as_ref());
        Reply::see_other(self.config.path("/"))
            .cookie(self.session_cookie(token, ctx))
            .cookie(cookies::clear(&self.config, Jar::Verification))
            .cookie(cookies::set(&self.config, Jar::Csrf, &csrf_secret, None))
    }

    fn session_cookie(&self, token: &SessionToken, ctx: &ClientContext) -> String {
        let remaining = (ctx.session_expires_at - self.service.clock().now()).num_seconds();
        cookies::set(
            &self.config,
            Jar::Session,
            token.expose_secret(),
            Some(remaining),
        )
    }

    // ----- assets --------------------------------------------------------------------

    fn css() -> Reply {
        Reply {
            content_type: "text/css; charset=utf-8",
            cache: "public, max-age=31536000, immutable",
            ..Reply::html(StatusCode::OK, crate::assets::CSS.to_owned())
        }
    }

    /// The favicon in the accent color the page's URL names (`?c=rrggbb`); the
    /// neutral portal color for anything else. Public and cacheable: a color is no
    /// secret, and every page of a portal links the same URL.
    fn favicon(&self, req: &Req) -> Reply {
        let accent = portal::query_param(req, "c")
            .and_then(|c| portal_core::model::AccentColor::parse(&c).ok())
            .or_else(|| {
                portal_core::model::AccentColor::parse(crate::pages::frame::NEUTRAL_ACCENT).ok()
            });
        let Some(accent) = accent else {
            return Reply::text(StatusCode::NOT_FOUND, "Not found");
        };
        Reply {
            content_type: "image/svg+xml",
            cache: "public, max-age=86400",
            ..Reply::html(StatusCode::OK, crate::assets::favicon_svg(accent))
        }
    }

    fn documents_js() -> Reply {
        Reply {
            content_type: "text/javascript; charset=utf-8",
            cache: "public, max-age=31536000, immutable",
            ..Reply::html(StatusCode::OK, crate::assets::DOCUMENTS_JS.to_owned())
        }
    }

    async fn logo(&self, sha: &str) -> Result<Reply, Failure> {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::not_found(Entity::Logo).into());
        }
        let logo = self.service.store().logo(sha).await?;
        Ok(Reply {
            content_type: logo.image_type.mime(),
            cache: "public, max-age=31536000, immutable",
            body: Bytes::from(logo.bytes),
            ..Reply::html(StatusCode::OK, String::new())
        })
    }
}
