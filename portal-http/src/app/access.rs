//! The access flow's pages: invite, "check your email" with code entry, magic-link
//! confirmation. Tokens are shape-checked before lookup; after use the browser is
//! redirected to a URL without them.

use bytes::Bytes;
use http::{Method, StatusCode};
use hyper::body::Body as HttpBody;
use portal_core::error::{Entity, Error, Limit};
use portal_core::secret::{InviteToken, MagicToken, VerificationToken};
use portal_core::store::VerificationView;

use super::{Failure, PortalApp, Req};
use crate::cookies::{self, Jar};
use crate::pages::{InvitePage, MagicPage, VerifyPage};
use crate::respond::Reply;

impl PortalApp {
    // ----- access flow ---------------------------------------------------------------

    pub(super) async fn invite_page(&self, req: &Req, token: &str) -> Result<Reply, Failure> {
        let token = InviteToken::parse(token)?;
        // Looked up first without a trace, so an invite used on another tenant's host
        // leaves nothing in the access log.
        let found = self
            .service
            .store()
            .open_invite(&token.hash(), self.service.clock().now())
            .await?;
        self.admit_host(req, found.portal.tenant_id, Entity::Invite)
            .await?;
        let target = if req.method == Method::HEAD {
            // HEAD answers like GET but changes nothing, not even the access log.
            found
        } else {
            self.service.open_invite(&token, &req.info).await?
        };
        let b = &target.portal.branding;
        let page = InvitePage {
            c: self.chrome(req, &req.texts().text("title-invite"), Some(b)),
            name: target.contact.name.clone(),
            client: target.portal.client_name.clone(),
            masked_email: target.contact.email.masked(),
            error: None,
        };
        Ok(self.render(StatusCode::OK, &page))
    }

    pub(super) async fn start_verification<B>(
        &self,
        req: &Req,
        token: &str,
        body: B,
    ) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.form(req, body).await?;
        let invite = InviteToken::parse(token)?;
        if let Ok(found) = self
            .service
            .store()
            .open_invite(&invite.hash(), self.service.clock().now())
            .await
        {
            self.admit_host(req, found.portal.tenant_id, Entity::Invite)
                .await?;
        }
        self.admit_network(
            req,
            &self.starts_by_network,
            self.config.verification_starts_per_ip_per_hour,
        )?;
        match self.service.start_verification(&invite, &req.info).await {
            Ok((verification, _)) => {
                let max_age = self.service.policy().code_ttl.num_seconds()
                    * i64::from(self.service.policy().max_codes_per_verification);
                Ok(
                    Reply::see_other(self.config.path("/verify")).cookie(cookies::set(
                        &self.config,
                        Jar::Verification,
                        verification.expose_secret(),
                        Some(max_age),
                    )),
                )
            }
            Err(e) => {
                let branding = self
                    .service
                    .store()
                    .open_invite(&invite.hash(), self.service.clock().now())
                    .await
                    .ok()
                    .map(|t| t.portal.branding);
                let failure = Failure::from(e).branded(branding);
                // The way back is this page's own address (the invite link), so the
                // token never appears in the HTML.
                Err(match failure.error() {
                    Some(Error::Mail { .. }) => {
                        failure.back_to(String::new(), "back-to-invitation")
                    }
                    _ => failure,
                })
            }
        }
    }

    /// [`PortalApp::admit_host`] for the verification in the request's cookie (one
    /// that cannot be read is left to the service to refuse).
    async fn admit_verification_host(
        &self,
        req: &Req,
        verification: &VerificationToken,
    ) -> Result<(), Failure> {
        match self.service.verification(verification).await {
            Ok(view) => {
                self.admit_host(req, view.target.portal.tenant_id, Entity::Verification)
                    .await
            }
            Err(_) => Ok(()),
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
            c: self.chrome(
                req,
                &req.texts().text("title-verify"),
                Some(&view.target.portal.branding),
            ),
            masked_email: view.target.contact.email.masked(),
            expires: view.code_expires_at.map(|t| {
                portal_core::wording::local_clock_in(
                    t,
                    view.target.contact.time_zone,
                    req.language(),
                )
            }),
            notice,
            error,
            codes_left: max.saturating_sub(view.codes_issued),
            max_codes: max,
            code_action: self.config.path("/verify/code"),
            resend_action: self.config.path("/verify/resend"),
        }
    }

    pub(super) async fn verify_page(&self, req: &Req) -> Result<Reply, Failure> {
        let view = self
            .service
            .verification(&self.verification_token(req)?)
            .await?;
        self.admit_host(req, view.target.portal.tenant_id, Entity::Verification)
            .await?;
        let notice = (req.query.as_deref() == Some("sent=1"))
            .then(|| req.texts().text("verify-notice-sent"));
        Ok(self.render(StatusCode::OK, &self.verify_view(req, &view, notice, None)))
    }

    pub(super) async fn enter_code<B>(&self, req: &Req, body: B) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let fields = self.form(req, body).await?;
        let verification = self.verification_token(req)?;
        self.admit_verification_host(req, &verification).await?;
        self.admit_network(
            req,
            &self.codes_by_network,
            self.config.code_entries_per_ip_per_hour,
        )?;
        let typed = fields
            .iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let err = match self
            .service
            .enter_code(&verification, typed, &req.info)
            .await
        {
            Ok((session, ctx)) => return Ok(self.signed_in(&session, &ctx)),
            Err(err) => err,
        };
        // Refusals the client can fix on this page are shown on it, next to the code.
        let (status, message) = match &err {
            Error::WrongCode { attempts_left } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                req.texts()
                    .text_with("verify-error-wrong", &[("count", (*attempts_left).into())]),
            ),
            Error::Invalid { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                req.texts().text("verify-error-format"),
            ),
            Error::Expired { .. } => (StatusCode::GONE, req.texts().text("verify-error-expired")),
            Error::LimitReached(Limit::WrongCodeAttempts) => (
                StatusCode::TOO_MANY_REQUESTS,
                req.texts().text("verify-error-too-many"),
            ),
            // A lockout: its own page, with its end in the contact's zone.
            Error::LimitReached(Limit::ContactLockedOut { .. }) => {
                let failure = Failure::from(err);
                return Err(match self.service.verification(&verification).await {
                    Ok(view) => failure
                        .in_zone(view.target.contact.time_zone)
                        .branded(Some(view.target.portal.branding)),
                    Err(_) => failure,
                });
            }
            _ => return Err(err.into()),
        };
        let view = self.service.verification(&verification).await?;
        Ok(self.render(status, &self.verify_view(req, &view, None, Some(message))))
    }

    pub(super) async fn resend_code<B>(&self, req: &Req, body: B) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.form(req, body).await?;
        let verification = self.verification_token(req)?;
        self.admit_verification_host(req, &verification).await?;
        match self.service.resend_code(&verification, &req.info).await {
            Ok(_) => Ok(Reply::see_other(self.config.path("/verify?sent=1"))),
            Err(e @ Error::Mail { .. }) => {
                let branding = self
                    .service
                    .verification(&verification)
                    .await
                    .ok()
                    .map(|v| v.target.portal.branding);
                Err(Failure::from(e)
                    .branded(branding)
                    .back_to(self.config.path("/verify"), "back-to-sign-in"))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn magic_page(&self, req: &Req, token: &str) -> Result<Reply, Failure> {
        let target = self.service.magic_link(&MagicToken::parse(token)?).await?;
        self.admit_host(req, target.portal.tenant_id, Entity::MagicLink)
            .await?;
        let page = MagicPage {
            c: self.chrome(
                req,
                &req.texts().text("title-magic"),
                Some(&target.portal.branding),
            ),
            name: target.contact.name.clone(),
            client: target.portal.client_name.clone(),
        };
        Ok(self.render(StatusCode::OK, &page))
    }

    pub(super) async fn confirm_magic<B>(
        &self,
        req: &Req,
        token: &str,
        body: B,
    ) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.form(req, body).await?;
        let magic = MagicToken::parse(token)?;
        if let Ok(target) = self.service.magic_link(&magic).await {
            self.admit_host(req, target.portal.tenant_id, Entity::MagicLink)
                .await?;
        }
        let (session, ctx) = self.service.confirm_magic_link(&magic, &req.info).await?;
        Ok(self.signed_in(&session, &ctx))
    }
}
