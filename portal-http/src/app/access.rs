//! The access flow's pages: invite, "check your email" with code entry, magic-link
//! confirmation. Tokens are shape-checked before lookup; after use the browser is
//! redirected to a URL without them.

use bytes::Bytes;
use http::{Method, StatusCode};
use hyper::body::Body as HttpBody;
use portal_core::error::{Entity, Error, Limit};
use portal_core::secret::{InviteToken, MagicToken, VerificationToken};
use portal_core::store::VerificationView;

use super::{PortalApp, Req};
use crate::cookies::{self, Jar};
use crate::pages::{InvitePage, MagicPage, VerifyPage};
use crate::respond::Reply;

impl PortalApp {
    // ----- access flow ---------------------------------------------------------------

    pub(super) async fn invite_page(&self, req: &Req, token: &str) -> Reply {
        let result = match InviteToken::parse(token) {
            // HEAD answers like GET but changes nothing, not even the access log.
            Ok(t) if req.method == Method::HEAD => {
                self.service.store().open_invite(&t.hash()).await
            }
            Ok(t) => self.service.open_invite(&t, &req.info).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(target) => {
                let b = &target.portal.branding;
                let page = InvitePage {
                    c: self.chrome(req, "Your onboarding portal", Some(b)),
                    name: target.contact.name.clone(),
                    client: target.portal.client_name.clone(),
                    masked_email: target.contact.email.masked(),
                    error: None,
                };
                self.render(StatusCode::OK, &page)
            }
            Err(e) => self.error_page(req, &e, None),
        }
    }

    pub(super) async fn start_verification<B>(&self, req: &Req, token: &str, body: B) -> Reply
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        if let Err(reply) = self.form(req, body).await {
            return reply;
        }
        let invite = match InviteToken::parse(token) {
            Ok(t) => t,
            Err(e) => return self.error_page(req, &e, None),
        };
        match self.service.start_verification(&invite, &req.info).await {
            Ok((verification, _)) => {
                let max_age = self.service.policy().code_ttl.num_seconds()
                    * i64::from(self.service.policy().max_codes_per_verification);
                Reply::see_other(self.config.path("/verify")).cookie(cookies::set(
                    &self.config,
                    Jar::Verification,
                    verification.expose_secret(),
                    Some(max_age),
                ))
            }
            Err(e) => {
                let branding = self
                    .service
                    .store()
                    .open_invite(&invite.hash())
                    .await
                    .ok()
                    .map(|t| t.portal.branding);
                self.error_page(req, &e, branding.as_ref())
            }
        }
    }

    pub(super) fn verification_token(&self, req: &Req) -> Result<VerificationToken, Error> {
        cookies::read(&req.headers, &self.config, Jar::Verification)
            .ok_or(Error::NotFound {
                entity: Entity::Verification,
            })
            .and_then(|v| VerificationToken::parse(&v))
    }

    pub(super) fn verify_view(
        &self,
        req: &Req,
        view: &VerificationView,
        notice: Option<String>,
        error: Option<String>,
    ) -> VerifyPage {
        let max = self.service.policy().max_codes_per_verification;
        VerifyPage {
            c: self.chrome(req, "Check your email", Some(&view.target.portal.branding)),
            masked_email: view.target.contact.email.masked(),
            expires: view
                .code_expires_at
                .map(|t| t.format("%H:%M UTC").to_string()),
            notice,
            error,
            codes_left: max.saturating_sub(view.codes_issued),
            max_codes: max,
            code_action: self.config.path("/verify/code"),
            resend_action: self.config.path("/verify/resend"),
        }
    }

    pub(super) async fn verify_page(&self, req: &Req) -> Reply {
        let view = match self.verification_token(req) {
            Ok(v) => self.service.verification(&v).await,
            Err(e) => Err(e),
        };
        match view {
            Ok(view) => {
                let notice = (req.query.as_deref() == Some("sent=1"))
                    .then(|| "We sent a new code. It replaces the previous one.".to_owned());
                self.render(StatusCode::OK, &self.verify_view(req, &view, notice, None))
            }
            Err(e) => self.error_page(req, &e, None),
        }
    }

    pub(super) async fn enter_code<B>(&self, req: &Req, body: B) -> Reply
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let fields = match self.form(req, body).await {
            Ok(f) => f,
            Err(reply) => return reply,
        };
        let verification = match self.verification_token(req) {
            Ok(v) => v,
            Err(e) => return self.error_page(req, &e, None),
        };
        let typed = fields
            .iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        match self
            .service
            .enter_code(&verification, typed, &req.info)
            .await
        {
            Ok((session, ctx)) => Reply::see_other(self.config.path("/"))
                .cookie(self.session_cookie(&session, &ctx))
                .cookie(cookies::clear(&self.config, Jar::Verification)),
            Err(err) => {
                let (status, message) = match &err {
                    Error::WrongCode { attempts_left } => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!(
                            "That code isn't right. You can try {attempts_left} more {}.",
                            if *attempts_left == 1 { "time" } else { "times" }
                        ),
                    ),
                    Error::Invalid { reason, .. } => {
                        (StatusCode::UNPROCESSABLE_ENTITY, reason.clone())
                    }
                    Error::Expired { .. } => (
                        StatusCode::GONE,
                        "This code has expired. Send a new code below.".to_owned(),
                    ),
                    Error::LimitReached(Limit::WrongCodeAttempts) => (
                        StatusCode::TOO_MANY_REQUESTS,
                        "Too many wrong tries: this code no longer works. Send a new code below."
                            .to_owned(),
                    ),
                    _ => return self.error_page(req, &err, None),
                };
                match self.service.verification(&verification).await {
                    Ok(view) => {
                        self.render(status, &self.verify_view(req, &view, None, Some(message)))
                    }
                    Err(e) => self.error_page(req, &e, None),
                }
            }
        }
    }

    pub(super) async fn resend_code<B>(&self, req: &Req, body: B) -> Reply
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        if let Err(reply) = self.form(req, body).await {
            return reply;
        }
        let result = match self.verification_token(req) {
            Ok(v) => self.service.resend_code(&v, &req.info).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(_) => Reply::see_other(self.config.path("/verify?sent=1")),
            Err(e) => self.error_page(req, &e, None),
        }
    }

    pub(super) async fn magic_page(&self, req: &Req, token: &str) -> Reply {
        let target = match MagicToken::parse(token) {
            Ok(t) => self.service.magic_link(&t).await,
            Err(e) => Err(e),
        };
        match target {
            Ok(target) => {
                let page = MagicPage {
                    c: self.chrome(req, "Confirm it's you", Some(&target.portal.branding)),
                    name: target.contact.name.clone(),
                    client: target.portal.client_name.clone(),
                };
                self.render(StatusCode::OK, &page)
            }
            Err(e) => self.error_page(req, &e, None),
        }
    }

    pub(super) async fn confirm_magic<B>(&self, req: &Req, token: &str, body: B) -> Reply
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        if let Err(reply) = self.form(req, body).await {
            return reply;
        }
        let result = match MagicToken::parse(token) {
            Ok(t) => self.service.confirm_magic_link(&t, &req.info).await,
            Err(e) => Err(e),
        };
        match result {
            Ok((session, ctx)) => Reply::see_other(self.config.path("/"))
                .cookie(self.session_cookie(&session, &ctx))
                .cookie(cookies::clear(&self.config, Jar::Verification)),
            Err(e) => self.error_page(req, &e, None),
        }
    }
}
