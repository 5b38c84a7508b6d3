//! The demo's staff console: server-rendered pages under `/console` where a staff
//! member, signed in with a demo API key, runs the MSP's side of onboarding. Every
//! page is built on the admin JSON API, called in process through [`api::Api`] (never
//! `PortalService` directly), so the console is also the proof that the API is enough
//! for a vendor's own UI. Pages work without JavaScript and on a phone, in the client
//! pages' visual language (the same stylesheet).
//!
//! Security: the API key stays on the server behind a random session id (cookie
//! `console_session`: HttpOnly, SameSite=Strict, Secure behind TLS); every POST form
//! carries the session's CSRF token; pages are sent with a strict CSP, no caching and
//! no referrer. The console's role is the key's: the API refuses a member's admin
//! action (403) and the console says so.

pub mod api;
mod handlers;
pub mod pages;
pub mod session;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use portal_core::RandomSource;
use portal_http::{Body, HostPages, PortalApp, Reply};

use api::{Api, Problem};
use session::{COOKIE, Session, Sessions};

/// Where the console is mounted.
pub const PREFIX: &str = "/console";
/// The largest form the console reads (a branding form with its logo).
pub const MAX_BODY: usize = 512 * 1024;

/// The console: the admin API it calls, its sessions, the demo's key file.
#[derive(Clone)]
pub struct Console {
    api: Api,
    sessions: Sessions,
    keys_file: PathBuf,
    secure_cookies: bool,
    random: Arc<dyn RandomSource>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("keys_file", &self.keys_file)
            .finish_non_exhaustive()
    }
}

/// Per-request facts the handlers need.
pub(crate) struct Ctx {
    /// The session id (from the cookie), when the session is live.
    pub sid: Option<String>,
    /// The live session.
    pub session: Option<Session>,
    /// The CSP nonce of this page's style block.
    pub nonce: String,
    /// The query string's pairs.
    pub query: Vec<(String, String)>,
}

impl Ctx {
    /// A query parameter.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a handler answers.
pub(crate) enum Out {
    /// An HTML page.
    Page(StatusCode, String),
    /// A `303` to a console path (after a POST, or to the sign-in page).
    Redirect(String),
    /// A `303` that also sets the session cookie (a new session id).
    RedirectWithSession(String, String),
    /// A page that also sets the session cookie.
    PageWithSession(String, String),
    /// An API answer passed on as it is (a download).
    Raw(Response<Body>),
}

impl Console {
    /// A console over `api_app` (the app with the admin API mounted, without the
    /// console itself), creating keys in `keys_file`.
    pub fn new(api_app: PortalApp, keys_file: PathBuf) -> Self {
        let random = api_app.service().random().clone();
        let secure_cookies = api_app.config().secure_cookies;
        Self {
            api: Api::new(api_app),
            sessions: Sessions::new(random.clone()),
            keys_file,
            secure_cookies,
            random,
        }
    }

    /// Mounts the console on `app` under [`PREFIX`].
    pub fn mount(self, app: PortalApp) -> PortalApp {
        app.with_host_pages(PREFIX, MAX_BODY, Arc::new(self))
    }

    /// The live sessions (tests).
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    fn nonce(&self) -> String {
        let mut b = [0u8; 16];
        self.random.fill(&mut b);
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn cookie(&self, sid: &str) -> String {
        format!(
            "{COOKIE}={sid}; Path={PREFIX}; HttpOnly; SameSite=Strict{}",
            if self.secure_cookies { "; Secure" } else { "" }
        )
    }

    fn clear_cookie(&self) -> String {
        format!(
            "{COOKIE}=; Path={PREFIX}; Max-Age=0; HttpOnly; SameSite=Strict{}",
            if self.secure_cookies { "; Secure" } else { "" }
        )
    }

    fn finish(&self, out: Out, nonce: &str, clear: bool) -> Response<Body> {
        let csp = format!(
            "default-src 'none'; style-src 'self' 'nonce-{nonce}'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
        let mut reply = match out {
            Out::Raw(r) => return r,
            Out::Page(status, html) => Reply::html(status, html),
            Out::Redirect(to) => Reply::see_other(to),
            Out::RedirectWithSession(to, sid) => Reply::see_other(to).cookie(self.cookie(&sid)),
            Out::PageWithSession(html, sid) => {
                Reply::html(StatusCode::OK, html).cookie(self.cookie(&sid))
            }
        };
        if clear {
            reply = reply.cookie(self.clear_cookie());
        }
        reply.finish(&csp)
    }
}

/// The session id in the request's cookies.
fn session_id(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && value.len() == 64)
        .map(|(_, value)| value.to_owned())
}

/// A form body's fields.
pub(crate) fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// An uploaded file of a multipart form.
pub(crate) struct Upload {
    /// Its bytes.
    pub bytes: Bytes,
    /// The file name the browser sent.
    pub file_name: String,
}

/// A POST body's fields, and its file when it is a multipart form with one.
pub(crate) async fn read_form(
    headers: &http::HeaderMap,
    body: Bytes,
) -> (Vec<(String, String)>, Option<Upload>) {
    let boundary = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok());
    let Some(boundary) = boundary else {
        return (form(&body), None);
    };
    let stream =
        futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    let mut upload = None;
    while let Ok(Some(part)) = multipart.next_field().await {
        let name = part.name().unwrap_or_default().to_owned();
        let file_name = part.file_name().map(str::to_owned);
        let Ok(bytes) = part.bytes().await else {
            break;
        };
        if let Some(file_name) = file_name {
            if !bytes.is_empty() {
                upload = Some(Upload { bytes, file_name });
            }
        } else {
            fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    (fields, upload)
}

/// One field of a form (empty when absent).
pub(crate) fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

#[async_trait]
impl HostPages for Console {
    async fn handle(&self, request: Request<Bytes>, _remote: SocketAddr) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let nonce = self.nonce();
        let sid = session_id(&parts.headers);
        let session = sid.as_deref().and_then(|id| self.sessions.get(id));
        let had_cookie = sid.is_some();
        let ctx = Ctx {
            sid: session.as_ref().and(sid),
            session,
            nonce: nonce.clone(),
            query: form(parts.uri.query().unwrap_or_default().as_bytes()),
        };
        let path = parts
            .uri
            .path()
            .strip_prefix(PREFIX)
            .unwrap_or_default()
            .to_owned();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let post = parts.method == Method::POST;
        let (fields, upload) = if post {
            read_form(&parts.headers, body).await
        } else {
            (Vec::new(), None)
        };
        // Every POST carries the session's CSRF token; sign-in's comes from the
        // session the sign-in page opened.
        if post {
            let token_ok = ctx
                .session
                .as_ref()
                .is_some_and(|s| session::same(&s.csrf, field(&fields, "csrf")));
            if !token_ok {
                let html = pages::refused(&nonce);
                return self.finish(Out::Page(StatusCode::FORBIDDEN, html), &nonce, false);
            }
        }
        let signed_in = ctx.session.as_ref().is_some_and(|s| s.staff.is_some());
        let public = matches!(segments.as_slice(), ["sign-in"] | ["console.css"]);
        if !signed_in && !public {
            if post {
                return self.finish(Out::Redirect(format!("{PREFIX}/sign-in")), &nonce, false);
            }
            return self.finish(
                Out::Redirect(format!("{PREFIX}/sign-in")),
                &nonce,
                had_cookie && ctx.session.is_none(),
            );
        }
        let out = self
            .route(&ctx, &parts.method, &segments, &fields, upload)
            .await
            .unwrap_or_else(|p| {
                if p.status == 401 {
                    if let Some(id) = &ctx.sid {
                        self.sessions.remove(id);
                    }
                    return Out::Redirect(format!("{PREFIX}/sign-in"));
                }
                let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
                Out::Page(status, pages::error_page(&ctx, &p))
            });
        self.finish(out, &nonce, false)
    }
}

impl Console {
    async fn route(
        &self,
        ctx: &Ctx,
        method: &Method,
        segments: &[&str],
        form: &[(String, String)],
        upload: Option<Upload>,
    ) -> Result<Out, Problem> {
        let get = matches!(*method, Method::GET | Method::HEAD);
        let post = *method == Method::POST;
        match (segments, get, post) {
            ([""], true, _) => Ok(Out::Redirect(format!("{PREFIX}/portals"))),
            (["console.css"], true, _) => Ok(Out::Raw(pages::css())),
            (["sign-in"], true, _) => Ok(self.sign_in_page(ctx, None)),
            (["sign-in"], _, true) => self.sign_in(ctx, form).await,
            (["sign-out"], _, true) => Ok(self.sign_out(ctx)),
            (["portals"], true, _) => self.portals_page(ctx).await,
            (["portals"], _, true) => self.create_portal(ctx, form).await,
            (["portals", p], true, _) => self.portal_page(ctx, p).await,
            (["portals", p, "settings"], _, true) => self.portal_settings(ctx, p, form).await,
            (["portals", p, "delete"], _, true) => self.delete_portal(ctx, p, form).await,
            (["portals", p, "phases"], _, true) => self.add_phase(ctx, p, form).await,
            (["portals", p, "phases", ph, "tasks"], _, true) => {
                self.add_task(ctx, p, ph, form).await
            }
            (["portals", p, "phases", ph, action], _, true) => {
                self.phase_action(ctx, p, ph, action, form).await
            }
            (["portals", p, "tasks", t], true, _) => self.task_page(ctx, p, t).await,
            (["portals", p, "tasks", t], _, true) => self.edit_task(ctx, p, t, form).await,
            (["portals", p, "tasks", t, "comments"], _, true) => self.reply(ctx, p, t, form).await,
            (["portals", p, "tasks", t, "document"], _, true) => {
                self.attach_document(ctx, p, t, upload).await
            }
            (["portals", p, "tasks", t, "attachments"], _, true) => {
                self.share_file(ctx, p, t, upload).await
            }
            (["portals", p, "attachments", a], true, _) => self.shared_file(ctx, p, a).await,
            (["portals", p, "attachments", a, "delete"], _, true) => {
                self.delete_shared(ctx, p, a, form).await
            }
            (["portals", p, "tasks", t, "document"], true, _) => {
                self.signature_file(ctx, p, t, "document").await
            }
            (["portals", p, "tasks", t, "signature.png"], true, _) => {
                self.signature_file(ctx, p, t, "image").await
            }
            (["portals", p, "tasks", t, "certificate"], true, _) => {
                self.certificate_page(ctx, p, t).await
            }
            (["portals", p, "tasks", t, action], _, true) => {
                self.task_action(ctx, p, t, action, form).await
            }
            (["portals", p, "contacts"], _, true) => self.add_contact(ctx, p, form).await,
            (["portals", p, "team"], _, true) => self.set_team(ctx, p, form).await,
            (["portals", p, "team", "photo"], _, true) => {
                self.team_photo(ctx, p, form, upload).await
            }
            (["portals", p, "colleague-invitations"], _, true) => {
                self.set_invitations(ctx, p, form).await
            }
            (["portals", p, "contacts", c, action], _, true) => {
                self.contact_action(ctx, p, c, action, form).await
            }
            (["portals", p, "questions", q, "answer"], _, true) => {
                self.answer(ctx, p, q, form).await
            }
            (["portals", p, "files", f], true, _) => self.download(ctx, p, f).await,
            (["portals", p, "drops", f], true, _) => self.download_drop(ctx, p, f).await,
            (["portals", p, "files", f, "review"], _, true) => self.review(ctx, p, f, form).await,
            (["portals", p, "branding"], true, _) => self.branding_page(ctx, Some(p), None).await,
            (["portals", p, "branding"], _, true) => {
                self.branding(ctx, Some(p), form, upload).await
            }
            (["branding"], true, _) => self.branding_page(ctx, None, None).await,
            (["branding"], _, true) => self.branding(ctx, None, form, upload).await,
            (["review"], true, _) => self.review_page(ctx).await,
            (["settings"], true, _) => self.settings_page(ctx).await,
            (["settings"], _, true) => self.save_settings(ctx, form).await,
            (["webhooks"], true, _) => self.webhooks_page(ctx).await,
            (["keys"], true, _) => self.keys_page(ctx).await,
            (["keys"], _, true) => self.create_key(ctx, form).await,
            (["templates"], true, _) => self.templates_page(ctx).await,
            (["templates"], _, true) => self.create_template(ctx, form).await,
            (["templates", t], true, _) => self.template_page(ctx, t).await,
            (["templates", t, action], _, true) => self.template_action(ctx, t, action, form).await,
            _ => Err(Problem {
                status: 404,
                message: "There is no such page in the console.".into(),
                fields: Vec::new(),
            }),
        }
    }
}
