//! The contact's settings page: their time zone, their signed-in devices and "Sign
//! out other devices". Plain forms (POST, CSRF, redirect), no script needed.

use bytes::Bytes;
use http::StatusCode;
use hyper::body::Body as HttpBody;
use portal_core::error::Error;
use portal_core::secret::SessionToken;
use portal_core::store::ClientContext;

use super::portal::query_param;
use super::{Failure, PortalApp, Req};
use crate::pages::settings::settings_page;
use crate::respond::Reply;

/// What a `?done=` after a settings form says.
fn notice_for(done: &str, t: portal_core::i18n::Texts) -> Option<String> {
    match done {
        "zone" => Some(t.text("settings-notice-zone")),
        "others" => Some(t.text("settings-notice-others")),
        _ => None,
    }
}

impl PortalApp {
    pub(super) async fn settings(&self, req: &Req) -> Result<Reply, Failure> {
        let (token, ctx) = self.authenticated(req).await?;
        let notice = query_param(req, "done").and_then(|d| notice_for(&d, req.texts()));
        self.render_settings(req, &token, &ctx, StatusCode::OK, notice, None)
            .await
    }

    async fn render_settings(
        &self,
        req: &Req,
        token: &SessionToken,
        ctx: &ClientContext,
        status: StatusCode,
        notice: Option<String>,
        error: Option<String>,
    ) -> Result<Reply, Failure> {
        let portal = self.service.store().portal(ctx.portal_id).await?;
        let sessions = self.service.client_sessions(token, ctx).await?;
        let c = self
            .chrome(
                req,
                &req.texts().text("nav-settings"),
                Some(&portal.branding),
            )
            .in_zone(ctx.time_zone);
        let page = settings_page(c, self.config.prefix(), &sessions, notice, error);
        Ok(self
            .render(status, &page)
            .cookie(self.session_cookie(token, ctx)))
    }

    pub(super) async fn set_time_zone<B>(&self, req: &Req, body: B) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (fields, token, ctx) = self.signed_in_form(req, body).await?;
        let raw = fields
            .iter()
            .find(|(k, _)| k == "time_zone")
            .map_or("", |(_, v)| v.as_str());
        match self.service.set_own_time_zone(&ctx, raw).await {
            Ok(_) => Ok(Reply::see_other(self.config.path("/settings?done=zone"))
                .cookie(self.session_cookie(&token, &ctx))),
            Err(Error::Invalid { .. }) => {
                let msg = req.texts().text("settings-error-zone");
                self.render_settings(
                    req,
                    &token,
                    &ctx,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some(msg),
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn sign_out_others<B>(&self, req: &Req, body: B) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (_, token, ctx) = self.signed_in_form(req, body).await?;
        self.service.sign_out_other_sessions(&token, &ctx).await?;
        Ok(Reply::see_other(self.config.path("/settings?done=others"))
            .cookie(self.session_cookie(&token, &ctx)))
    }
}
