//! The signed-in portal: authentication of each request, the home page, sign-out.

use bytes::Bytes;
use http::StatusCode;
use hyper::body::Body as HttpBody;
use portal_core::error::{Entity, Error};
use portal_core::secret::SessionToken;
use portal_core::store::ClientContext;

use super::{PortalApp, Req};
use crate::cookies::{self, Jar};
use crate::pages::{self, HomePage, Tab};
use crate::respond::Reply;

/// Activity entries shown on the portal home.
const HOME_ACTIVITY: usize = 10;

/// The first value of a query parameter.
pub(super) fn query_param(req: &Req, name: &str) -> Option<String> {
    let q = req.query.as_deref()?;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl PortalApp {
    // ----- the portal ----------------------------------------------------------------

    pub(super) async fn authenticated(
        &self,
        req: &Req,
    ) -> Result<(SessionToken, ClientContext), Reply> {
        let token = cookies::read(&req.headers, &self.config, Jar::Session)
            .ok_or(Error::NotFound {
                entity: Entity::Session,
            })
            .and_then(|t| SessionToken::parse(&t));
        let result = match token {
            Ok(t) => self
                .service
                .authenticate(&t, &req.info)
                .await
                .map(|ctx| (t, ctx)),
            Err(e) => Err(e),
        };
        result.map_err(|e| {
            let reply = self.error_page(req, &e, None);
            if matches!(
                e,
                Error::Revoked { .. } | Error::Expired { .. } | Error::NotFound { .. }
            ) {
                reply.cookie(cookies::clear(&self.config, Jar::Session))
            } else {
                reply
            }
        })
    }

    /// A form posted by a signed-in client: the form (size limit, CSRF) first, then
    /// the session. `Err` is the reply to send instead.
    pub(super) async fn signed_in_form<B>(
        &self,
        req: &Req,
        body: B,
    ) -> Result<(Vec<(String, String)>, SessionToken, ClientContext), Reply>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let fields = self.form(req, body).await?;
        let (token, ctx) = self.authenticated(req).await?;
        Ok((fields, token, ctx))
    }

    pub(super) async fn home(&self, req: &Req) -> Reply {
        let (token, ctx) = match self.authenticated(req).await {
            Ok(pair) => pair,
            Err(reply) => return reply,
        };
        let snap = match self.service.portal_home(&ctx).await {
            Ok(s) => s,
            Err(e) => return self.error_page(req, &e, None),
        };
        let tab = Tab::from_query(query_param(req, "tab").as_deref());
        let activity = match self.service.activity(ctx.portal_id, HOME_ACTIVITY).await {
            Ok(a) => a,
            Err(e) => return self.error_page(req, &e, None),
        };
        let today = self.service.clock().now().date_naive();
        let c = self.chrome(req, tab.label(), Some(&snap.portal.branding));
        let page: HomePage = pages::home(
            c,
            &snap,
            &ctx.contact_name,
            tab,
            today,
            self.config.prefix(),
            &activity,
        );
        self.render(StatusCode::OK, &page)
            .cookie(self.session_cookie(&token, &ctx))
    }

    pub(super) async fn sign_out<B>(&self, req: &Req, body: B) -> Reply
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        if let Err(reply) = self.form(req, body).await {
            return reply;
        }
        if let Ok((token, ctx)) = self.authenticated(req).await
            && let Err(e) = self.service.sign_out(&token, &ctx, &req.info).await
        {
            return self.error_page(req, &e, None);
        }
        Reply::see_other(self.config.path("/signed-out"))
            .cookie(cookies::clear(&self.config, Jar::Session))
    }

    pub(super) fn signed_out(&self, req: &Req) -> Reply {
        self.message(
            req,
            StatusCode::OK,
            None,
            "You're signed out",
            &["To come back, open the invitation link from your email. We'll send you a new verification code."],
            None,
        )
    }
}
