//! Secure file drop tasks over HTTP: `POST /tasks/{task}/drops` (a file,
//! `multipart/form-data`, streamed into the service like a document upload) and
//! `POST /tasks/{task}/drops/{file}/delete` (a form with the CSRF token). Both answer
//! with a redirect back to the task, or the task page again with what went wrong
//! (too big, empty, already downloaded), nothing stored.
//!
//! A file that is missing, of another portal, deleted or expired answers the one "not
//! found" page, the same bytes whichever it is.

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::body::Body as HttpBody;
use portal_core::error::{Entity, Error};
use portal_core::filedrop::{self, MAX_DROP_BYTES};
use portal_core::files;
use portal_core::i18n::Texts;
use portal_core::ids::FileId;
use portal_core::wording;

use super::failure::Refusal;
use super::tasks::{Outcome, field_label};
use super::{Failure, PortalApp, Req};
use crate::csrf;
use crate::multipart::UploadBody;
use crate::respond::Reply;

/// The most files one request may drop (each up to [`MAX_DROP_BYTES`]): bounds the
/// body a request may send.
const MAX_FILES_PER_DROP: u64 = 20;

/// What the page says about a refused drop or delete; `None` for the error page.
fn drop_problem(err: &Error, t: Texts) -> Option<(StatusCode, String)> {
    Some(match err {
        Error::Invalid { field, reason } => (
            StatusCode::BAD_REQUEST,
            t.text_with(
                "reason-drop-refused",
                &[
                    ("field", field_label(field, t).into()),
                    ("reason", reason.in_language(t.language).into()),
                ],
            ),
        ),
        Error::TooLarge { max_bytes } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            t.text_with(
                "reason-drop-too-large",
                &[("size", wording::bytes_in(*max_bytes, t.language).into())],
            ),
        ),
        Error::Conflict { reason } => (StatusCode::CONFLICT, reason.in_language(t.language)),
        Error::Forbidden { reason } => (
            StatusCode::FORBIDDEN,
            t.text_with(
                "drop-forbidden",
                &[(
                    "reason",
                    reason.in_language(t.language).trim_end_matches('.').into(),
                )],
            ),
        ),
        _ => return None,
    })
}

impl PortalApp {
    /// `POST /tasks/{task}/drops`: one file or several (the form's input takes several,
    /// and a drop onto it sends them together), each streamed and sealed in turn, each
    /// its own drop within [`MAX_DROP_BYTES`]. A refused file stops the request there:
    /// the files before it stay dropped, it and those after it are not, and the page
    /// says which is which.
    pub(super) async fn drop_file<B>(&self, req: &Req, id: &str, body: B) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let task = Self::parse_task_id(id)?;
        let (token, ctx) = self.authenticated(req).await?;
        let mut dropped: Vec<String> = Vec::new();
        // The file being dropped when the request stopped, if one was.
        let mut refused: Option<String> = None;
        let stored = async {
            let content_type = req.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
            let (upload, whole) =
                UploadBody::several(content_type, body, MAX_DROP_BYTES, MAX_FILES_PER_DROP)?;
            let declared = req
                .headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if declared.is_some_and(|n| n > whole) {
                return Err(Failure::from(Error::TooLarge {
                    max_bytes: MAX_DROP_BYTES,
                }));
            }
            let (field, mut files) = upload.until_files().await?;
            let cookie = (!req.csrf_is_new).then_some(req.csrf_secret.as_str());
            if !csrf::verify(
                self.service.secret(),
                cookie,
                &req.csrf_binding,
                field.as_deref(),
            ) {
                return Err(Refusal::StaleForm.into());
            }
            // One write per request, however many files it carries (the script sends
            // one request per file, the plain form one for all).
            let per_minute = self.config.client_writes_per_minute;
            if !self
                .throttle
                .admit(&token.hash(), self.service.clock().now(), per_minute)
            {
                return Err(Refusal::TooManyWrites { per_minute }.into());
            }
            let mut count = 0u64;
            while let Some(file) = files.next_file().await? {
                if file.file_name.trim().is_empty() {
                    // What a browser sends for an input with no file chosen.
                    continue;
                }
                count += 1;
                if count > MAX_FILES_PER_DROP {
                    return Err(Error::invalid(
                        "upload",
                        format!(
                            "had more than {MAX_FILES_PER_DROP} files in it: drop at most {MAX_FILES_PER_DROP} at a time"
                        ),
                    )
                    .into());
                }
                refused = Some(file.file_name.clone());
                let d = self
                    .service
                    .drop_file(&ctx, task, &file.file_name, file.content)
                    .await?;
                refused = None;
                dropped.push(d.name);
            }
            if dropped.is_empty() {
                return Err(Error::invalid(
                    "file",
                    "was not chosen: choose a file, then press Drop files",
                )
                .into());
            }
            Ok(())
        }
        .await;
        let session = self.session_cookie(&token, &ctx);
        match stored {
            Ok(()) => {
                let done = if dropped.len() == 1 {
                    "dropped"
                } else {
                    "dropped-several"
                };
                Ok(Reply::see_other(
                    self.config
                        .path(&format!("/tasks/{task}?done={done}#drops")),
                )
                .cookie(session))
            }
            Err(failure) => {
                let Some((status, message)) =
                    failure.error().and_then(|e| drop_problem(e, req.texts()))
                else {
                    return Err(failure);
                };
                let t = req.texts();
                let refused = refused
                    .as_deref()
                    .map(|n| files::clean_file_name(n, ""))
                    .filter(|name| !name.is_empty());
                let outcome = Outcome {
                    status: Some(status),
                    // One file, or the first of several: as for a single drop.
                    error: Some(match (dropped.is_empty(), refused) {
                        (true, _) => t.text_with("drop-refused", &[("reason", message.into())]),
                        (false, Some(name)) => t.text_with(
                            "drop-refused-after",
                            &[
                                ("dropped", dropped.join(", ").into()),
                                ("name", name.into()),
                                ("reason", message.into()),
                            ],
                        ),
                        (false, None) => t.text_with(
                            "drop-refused-next",
                            &[
                                ("dropped", dropped.join(", ").into()),
                                ("reason", message.into()),
                            ],
                        ),
                    }),
                    ..Outcome::default()
                };
                Ok(self
                    .render_task(req, &ctx, id, outcome, None)
                    .await?
                    .cookie(session))
            }
        }
    }

    /// `POST /tasks/{task}/drops/{file}/delete`: the client deletes a file they
    /// dropped, until the MSP downloaded it.
    pub(super) async fn delete_drop<B>(
        &self,
        req: &Req,
        id: &str,
        file: &str,
        body: B,
    ) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (_, token, ctx) = self.signed_in_form(req, body).await?;
        let task = Self::parse_task_id(id)?;
        let file: FileId = file.parse().map_err(|_| filedrop::not_available())?;
        match self.service.delete_dropped_file(&ctx, file).await {
            Ok(deleted) if deleted.task_id == task => Ok(Reply::see_other(
                self.config
                    .path(&format!("/tasks/{task}?done=deleted#drops")),
            )
            .cookie(self.session_cookie(&token, &ctx))),
            Ok(_) => Err(Error::not_found(Entity::File).into()),
            Err(Error::Conflict { reason }) => {
                let outcome = Outcome {
                    status: Some(StatusCode::CONFLICT),
                    error: Some(reason.in_language(req.texts().language)),
                    ..Outcome::default()
                };
                Ok(self
                    .render_task(req, &ctx, id, outcome, None)
                    .await?
                    .cookie(self.session_cookie(&token, &ctx)))
            }
            Err(e) => Err(e.into()),
        }
    }
}
