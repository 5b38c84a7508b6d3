//! The signed-in portal: authentication of each request, the home page, sign-out.

use bytes::Bytes;
use http::StatusCode;
use hyper::body::Body as HttpBody;
use portal_core::error::{Entity, Error};
use portal_core::secret::SessionToken;
use portal_core::store::ClientContext;

use askama::Template as _;

use super::home_cache::HomeKey;
use super::{Failure, PortalApp, Refusal, Req};
use crate::cookies::{self, Jar};
use crate::csrf;
use crate::pages::{self, Chrome, HomeInput, HomePage, PlanMarks, Tab};
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

    /// The signed-in client. A session that is gone for good also loses its cookie.
    pub(super) async fn authenticated(
        &self,
        req: &Req,
    ) -> Result<(SessionToken, ClientContext), Failure> {
        let result = match cookies::read(&req.headers, &self.config, Jar::Session)
            .ok_or(Error::NotFound {
                entity: Entity::Session,
            })
            .and_then(|t| SessionToken::parse(&t))
        {
            Ok(t) => self
                .service
                .authenticate(&t, &req.info)
                .await
                .map(|ctx| (t, ctx)),
            Err(e) => Err(e),
        };
        if let Ok((_, ctx)) = &result {
            self.admit_host(req, ctx.tenant_id, Entity::Session).await?;
        }
        let (token, mut ctx) = result.map_err(|e| {
            let gone = matches!(
                e,
                Error::Revoked { .. } | Error::Expired { .. } | Error::NotFound { .. }
            );
            let failure = Failure::from(e);
            if gone {
                failure.clearing_session()
            } else {
                failure
            }
        })?;
        // The one guest check of every client route: a guest reaches the tasks shared
        // with them and nothing portal-wide; the refusal is a plain 404 (their session
        // stays: they are still signed in to their own tasks).
        if let Some(reach) = req.reach {
            ctx.judge_reach(reach)?;
        }
        // From here on the request's pages are in the contact's language, if the MSP
        // set one (a request authenticates once; a second set is the same value).
        if let Some(language) = ctx.language {
            let _ = req.contact_language.set(language);
        }
        // What the core writes as the contact's own words is in the language they
        // read this page in (the MSP's setting, else the browser's).
        ctx.language = Some(req.language());
        Ok((token, ctx))
    }

    /// A guest's home: only the tasks shared with them (no plan, tabs, progress,
    /// documents, team or activity).
    async fn guest_home(
        &self,
        req: &Req,
        token: &SessionToken,
        ctx: &ClientContext,
        guest: &portal_core::model::Guest,
    ) -> Result<Reply, Failure> {
        let portal = self.service.client_portal(ctx).await?;
        let tasks = self.service.guest_tasks(ctx).await?;
        let today = self
            .service
            .clock()
            .now()
            .with_timezone(&ctx.time_zone.tz())
            .date_naive();
        let c = self
            .chrome(
                req,
                &req.texts().text("guest-page-title"),
                Some(&portal.branding),
            )
            .in_zone(ctx.time_zone);
        let page = pages::home::guest_home(
            c,
            guest,
            &ctx.contact_name,
            &portal.client_name,
            &tasks,
            today,
            self.config.prefix(),
        );
        Ok(self
            .render(StatusCode::OK, &page)
            .cookie(self.session_cookie(token, ctx)))
    }

    /// A failure answered to a signed-in client carries their MSP's branding, zone
    /// and a way back to their portal, as every other page they see (a 404 for a
    /// mistyped address, a 403, a 500): the client stays "inside" the portal rather
    /// than landing on an unbranded page. A failure that already knows its portal,
    /// one that ends the session, or a request without a valid session is left as is.
    pub(super) async fn brand_for_session(&self, req: &Req, failure: Failure) -> Failure {
        if failure.has_branding()
            || failure.ends_session()
            || cookies::read(&req.headers, &self.config, Jar::Session).is_none()
        {
            return failure;
        }
        let Ok((_, ctx)) = self.authenticated(req).await else {
            return failure;
        };
        let Ok(portal) = self.service.store().portal(ctx.portal_id).await else {
            return failure;
        };
        let failure = failure
            .branded(Some(portal.branding))
            .in_zone(ctx.time_zone);
        if failure.has_back() {
            failure
        } else {
            failure.back_to(self.config.path("/"), "back-to-portal")
        }
    }

    /// A write posted by a signed-in client (comment, question, task action): the form
    /// (size limit, CSRF) first, then the session, then the session's write throttle
    /// (a refused write changes nothing).
    pub(super) async fn signed_in_form<B>(
        &self,
        req: &Req,
        body: B,
    ) -> Result<(Vec<(String, String)>, SessionToken, ClientContext), Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.signed_in_form_max(req, body, self.config.max_form_bytes)
            .await
    }

    /// [`Self::signed_in_form`] with its own size limit.
    pub(super) async fn signed_in_form_max<B>(
        &self,
        req: &Req,
        body: B,
        max_bytes: usize,
    ) -> Result<(Vec<(String, String)>, SessionToken, ClientContext), Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let fields = self.form_max(req, body, max_bytes).await?;
        let (token, ctx) = self.authenticated(req).await?;
        let per_minute = self.config.client_writes_per_minute;
        if !self
            .throttle
            .admit(&token.hash(), self.service.clock().now(), per_minute)
        {
            return Err(Refusal::TooManyWrites { per_minute }.into());
        }
        Ok((fields, token, ctx))
    }

    /// The portal home. A home the store's version still vouches for is served as
    /// kept (see [`super::home_cache`]); otherwise it is built, and kept when it can be.
    pub(super) async fn home(&self, req: &Req) -> Result<Reply, Failure> {
        let (token, ctx) = self.authenticated(req).await?;
        if let Some(guest) = &ctx.guest {
            return self.guest_home(req, &token, &ctx, guest).await;
        }
        let tab = Tab::from_query(query_param(req, "tab").as_deref());
        // "Today" is the contact's: a task due today is not overdue in Auckland at
        // noon just because it is already tomorrow in UTC, nor the other way round.
        let today = self
            .service
            .clock()
            .now()
            .with_timezone(&ctx.time_zone.tz())
            .date_naive();
        let csrf = csrf::token_for(self.service.secret(), &req.csrf_secret, &req.csrf_binding);
        // Asked before anything is read: a page built from what is read next is
        // never older than this version.
        let version = if tab != Tab::Documents && self.home_cache.enabled() {
            self.service.home_version(&ctx).await?
        } else {
            None
        };
        let key = version.map(|version| HomeKey {
            portal: ctx.portal_id,
            version,
            contact: ctx.contact_id,
            contact_name: ctx.contact_name.clone(),
            tab,
            language: req.language(),
            zone: ctx.time_zone,
            today,
        });
        if let Some(kept) = key.as_ref().and_then(|k| self.home_cache.get(k)) {
            return Ok(
                Reply::html_pieces(StatusCode::OK, kept.pieces(&req.nonce, &csrf))
                    .cookie(self.session_cookie(&token, &ctx)),
            );
        }
        let plan = self.service.client_plan(&ctx).await?;
        let snap = &plan.snapshot;
        let activity = self
            .service
            .plan_activity(&ctx, &plan, HOME_ACTIVITY)
            .await?;
        // Files are read only for the tab that lists them.
        let documents = if tab == Tab::Documents {
            self.service.documents(&ctx).await?
        } else {
            Vec::new()
        };
        let shared = if tab == Tab::Documents {
            self.service.shared_documents(&ctx).await?
        } else {
            Vec::new()
        };
        let team = self.service.team(&ctx).await?;
        // A page to keep is built with the marks in place of this request's values.
        let (nonce, form_token) = match key {
            Some(_) => (
                self.home_cache.nonce_mark.clone(),
                self.home_cache.csrf_mark.clone(),
            ),
            None => (req.nonce.clone(), csrf.clone()),
        };
        let c = Chrome::new(
            &tab.label_in(req.language()),
            Some(&snap.portal.branding),
            self.config.prefix(),
            nonce,
            form_token,
        )
        .in_language(req.language())
        .in_zone(ctx.time_zone);
        let page: HomePage = pages::home(
            c,
            HomeInput {
                snap,
                contact_name: &ctx.contact_name,
                tab,
                today,
                prefix: self.config.prefix(),
                activity: &activity,
                documents: &documents,
                unscannable: self.service.unscannable(),
                marks: PlanMarks {
                    waiting: &plan.waiting,
                    me: ctx.contact_id,
                    names: &plan.assignees,
                },
                team: &team,
                shared: &shared,
            },
        );
        let reply = match key {
            Some(key) => match page.render() {
                Ok(html) => {
                    let kept = self.home_cache.keep(key, &html);
                    Reply::html_pieces(StatusCode::OK, kept.pieces(&req.nonce, &csrf))
                }
                // Rendering again answers the failure as every page does (logged, 500).
                Err(_) => self.render(StatusCode::OK, &page),
            },
            None => self.render(StatusCode::OK, &page),
        };
        Ok(reply.cookie(self.session_cookie(&token, &ctx)))
    }

    pub(super) async fn sign_out<B>(&self, req: &Req, body: B) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.form(req, body).await?;
        if let Ok((token, ctx)) = self.authenticated(req).await {
            self.service.sign_out(&token, &ctx, &req.info).await?;
        }
        Ok(Reply::see_other(self.config.path("/signed-out"))
            .cookie(cookies::clear(&self.config, Jar::Session)))
    }

    pub(super) fn signed_out(&self, req: &Req) -> Reply {
        self.message(
            req,
            StatusCode::OK,
            None,
            &req.texts().text("signed-out-title"),
            &[&req.texts().text("signed-out-text")],
            None,
        )
    }
}
