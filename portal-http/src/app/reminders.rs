//! The links of reminder emails: "remind me in 3 days" and one-click unsubscribe.
//!
//! - `GET /r/snooze/{token}` and `GET /r/unsubscribe/{token}` show what the link does
//!   and a button; they change nothing (mail scanners follow links).
//! - `POST /r/snooze/{token}` (the button, CSRF-checked like every form) snoozes the
//!   task for 3 days.
//! - `POST /r/unsubscribe/{token}` turns the contact's reminders off. It is also the
//!   RFC 8058 one-click target: a mailbox provider POSTs `List-Unsubscribe=One-Click`
//!   from its own servers, with no cookie and no CSRF token, so this route checks
//!   neither; the HMAC-signed, expiring token is the proof, and the action only turns
//!   reminders off for that one contact.
//!
//! No sign-in is needed for either: the signed token names the contact (and task).

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Limited};
use hyper::body::Body as HttpBody;
use portal_core::reminders::ReminderLink;

use super::failure::Refusal;
use super::{Failure, PortalApp, Req};
use crate::pages::ReminderLinkPage;
use crate::respond::Reply;

/// Largest body read from a one-click unsubscribe (`List-Unsubscribe=One-Click`).
const MAX_ONE_CLICK_BODY: usize = 1024;

impl PortalApp {
    pub(super) async fn reminder_page(&self, req: &Req, token: &str) -> Result<Reply, Failure> {
        let found = self.service.reminder_link(token).await?;
        self.admit_host(
            req,
            found.target.portal.tenant_id,
            portal_core::error::Entity::ReminderLink,
        )
        .await?;
        let branding = &found.target.portal.branding;
        let company = &branding.company_name;
        let t = req.texts();
        let page = match (found.link, &found.task) {
            (ReminderLink::Snooze { .. }, Some(task)) => ReminderLinkPage {
                c: self.chrome(req, &t.text("snooze-title"), Some(branding)),
                heading: t.text("snooze-title"),
                question: t.text_with(
                    "snooze-question",
                    &[
                        ("task", task.title.as_str().into()),
                        ("name", found.target.contact.name.as_str().into()),
                    ],
                ),
                button: t.text("snooze-button"),
                hint: t.text("snooze-hint"),
            },
            _ => ReminderLinkPage {
                c: self.chrome(req, &t.text("stop-title"), Some(branding)),
                heading: t.text("stop-title"),
                question: t.text_with(
                    "stop-question",
                    &[
                        ("client", found.target.portal.client_name.as_str().into()),
                        ("email", found.target.contact.email.masked().into()),
                    ],
                ),
                button: t.text("stop-title"),
                hint: t.text_with("stop-hint", &[("company", company.as_str().into())]),
            },
        };
        Ok(self.render(StatusCode::OK, &page))
    }

    pub(super) async fn snooze<B>(&self, req: &Req, token: &str, body: B) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.form(req, body).await?;
        if let Ok(found) = self.service.reminder_link(token).await {
            self.admit_host(
                req,
                found.target.portal.tenant_id,
                portal_core::error::Entity::ReminderLink,
            )
            .await?;
        }
        let done = self.service.follow_reminder_link(token).await?;
        let title = done.task.map(|t| t.title).unwrap_or_default();
        Ok(self.message(
            req,
            StatusCode::OK,
            Some(&done.target.portal.branding),
            &req.texts().text("snoozed-title"),
            &[&req
                .texts()
                .text_with("snoozed-text", &[("task", title.into())])],
            None,
        ))
    }

    pub(super) async fn unsubscribe<B>(
        &self,
        req: &Req,
        token: &str,
        body: B,
    ) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        // The body is read (bounded) and not needed: the one-click POST carries
        // `List-Unsubscribe=One-Click`, the page's button a CSRF token; neither adds
        // anything to the signed token.
        if Limited::new(body, MAX_ONE_CLICK_BODY)
            .collect()
            .await
            .is_err()
        {
            return Err(Refusal::FormTooLarge.into());
        }
        if let Ok(found) = self.service.reminder_link(token).await {
            self.admit_host(
                req,
                found.target.portal.tenant_id,
                portal_core::error::Entity::ReminderLink,
            )
            .await?;
        }
        let done = self.service.follow_reminder_link(token).await?;
        Ok(self.message(
            req,
            StatusCode::OK,
            Some(&done.target.portal.branding),
            &req.texts().text("stopped-title"),
            &[&req.texts().text_with(
                "stopped-text",
                &[("email", done.target.contact.email.masked().into())],
            )],
            None,
        ))
    }
}
