//! "Your team": the colleagues page and the invitation form; claims and hand-offs of
//! tasks are task actions (see `tasks.rs`).

use bytes::Bytes;
use http::StatusCode;
use hyper::body::Body as HttpBody;
use portal_core::error::{Error, Limit};
use portal_core::store::ClientContext;

use super::portal::query_param;
use super::tasks::field;
use super::{Failure, PortalApp, Req};
use crate::pages::team::{TeamForm, team_page};
use crate::respond::Reply;

impl PortalApp {
    pub(super) async fn team(&self, req: &Req) -> Result<Reply, Failure> {
        let (token, ctx) = self.authenticated(req).await?;
        let notice = match query_param(req, "done").as_deref() {
            Some("invited") => Some("team-notice-invited"),
            Some("requested") => Some("team-notice-requested"),
            _ => None,
        };
        let form = TeamForm {
            notice: notice.map(|key| req.texts().text(key)),
            ..TeamForm::default()
        };
        Ok(self
            .render_team(req, &ctx, StatusCode::OK, form)
            .await?
            .cookie(self.session_cookie(&token, &ctx)))
    }

    async fn render_team(
        &self,
        req: &Req,
        ctx: &ClientContext,
        status: StatusCode,
        form: TeamForm,
    ) -> Result<Reply, Failure> {
        let portal = self.service.client_portal(ctx).await?;
        let colleagues = self.service.colleagues(ctx).await?;
        let c = self
            .chrome(req, &req.texts().text("nav-team"), Some(&portal.branding))
            .in_zone(ctx.time_zone);
        let page = team_page(
            c,
            self.config.prefix(),
            ctx.contact_id,
            portal.colleague_invitations,
            &colleagues,
            form,
        );
        Ok(self.render(status, &page))
    }

    pub(super) async fn invite_colleague<B>(&self, req: &Req, body: B) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (fields, token, ctx) = self.signed_in_form(req, body).await?;
        let name = field(&fields, "name").unwrap_or("").to_owned();
        let email = field(&fields, "email").unwrap_or("").to_owned();
        let refused = |form: TeamForm| TeamForm {
            name: name.clone(),
            email: email.clone(),
            ..form
        };
        let form = match self.service.invite_colleague(&ctx, &name, &email).await {
            Ok(invited) => {
                let done = if invited.sent { "invited" } else { "requested" };
                return Ok(
                    Reply::see_other(self.config.path(&format!("/team?done={done}")))
                        .cookie(self.session_cookie(&token, &ctx)),
                );
            }
            Err(Error::Invalid { field, reason }) => {
                let _ = reason;
                let t = req.texts();
                if field == "email" {
                    let msg = Some(t.text("team-error-email"));
                    refused(TeamForm {
                        email_error: msg,
                        ..TeamForm::default()
                    })
                } else {
                    let msg = Some(t.text("team-error-name"));
                    refused(TeamForm {
                        name_error: msg,
                        ..TeamForm::default()
                    })
                }
            }
            Err(Error::Conflict { .. }) => refused(TeamForm {
                email_error: Some(req.texts().text("team-error-taken")),
                ..TeamForm::default()
            }),
            Err(Error::LimitReached(Limit::ContactsPerPortal)) => refused(TeamForm {
                error: Some(req.texts().text("team-error-full")),
                ..TeamForm::default()
            }),
            Err(e) => return Err(e.into()),
        };
        self.render_team(req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, form)
            .await
    }
}
