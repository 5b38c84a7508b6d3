//! Document upload tasks over HTTP: `POST /tasks/{task}/documents/{document}` (one
//! file, `multipart/form-data`, streamed into the service) and
//! `GET /tasks/{task}/files/{file}` (an uploaded file, streamed out). Both are scoped
//! to the signed-in client's portal: a task or file of another portal is "not found".
//!
//! An upload answers the plain form with a redirect back to the task (or the task
//! page again, saying at the document what was wrong), and the upload script, which
//! sends `Accept: application/json`, with a small JSON document (or a problem
//! document with the same words).
//!
//! The order of an upload, so that nothing is read or stored for a request that may
//! not make it: the session (from the cookie, no body read yet); the task and the
//! document (may the client upload to it, and how large may it be: a declared
//! `Content-Length` beyond that is refused unread); the CSRF token (the script's
//! `X-CSRF-Token` header, or the form's first part) before any byte of the file is
//! used; the session's write throttle; then the service streams the file, sniffs its
//! type, seals, scans and records it. Any error in the stream (too large, cut off,
//! malformed) leaves nothing stored.

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use hyper::body::Body as HttpBody;
use portal_core::blob::ByteStream;
use portal_core::error::{Entity, Error};
use portal_core::files::attachment_disposition;
use portal_core::i18n::Texts;
use portal_core::ids::{FileId, TaskId};
use portal_core::model::TaskKind;
use portal_core::secret::SessionToken;
use portal_core::store::ClientContext;
use portal_core::wording;
use portal_core::workflow::documents::may_upload;
use portal_core::workflow::{DocumentFile, FileReview};

use super::failure::{Refusal, problem_json};
use super::tasks::{Outcome, field_label};
use super::{Failure, PortalApp, Req};
use crate::csrf;
use crate::multipart::{ENVELOPE_BYTES, UploadBody};
use crate::pages::documents::decode_segment;
use crate::respond::Reply;

/// The header the upload script sends the page's CSRF token in.
const CSRF_HEADER: &str = "x-csrf-token";

/// Whether the client asked for JSON (the upload script does).
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn sentence(mut s: String) -> String {
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// A refused upload the client can do something about, as its status and words: the
/// task page (or the script) shows them at the document. `None` for errors that get
/// the general error page (session, not found, storage).
fn upload_problem(err: &Error, t: Texts) -> Option<(StatusCode, String)> {
    Some(match err {
        // A malformed body, an empty file, a type the document does not accept: all
        // the request's own fault, so 400 rather than the forms' 422.
        Error::Invalid { field, reason } => (
            StatusCode::BAD_REQUEST,
            sentence(t.text_with(
                "reason-upload-refused",
                &[
                    ("field", field_label(field, t).into()),
                    ("reason", reason.in_language(t.language).into()),
                ],
            )),
        ),
        Error::TooLarge { max_bytes } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            t.text_with(
                "reason-upload-too-large",
                &[("size", wording::bytes_in(*max_bytes, t.language).into())],
            ),
        ),
        Error::Conflict { reason } => (StatusCode::CONFLICT, reason.in_language(t.language)),
        Error::Forbidden { reason } => (
            StatusCode::FORBIDDEN,
            t.text_with(
                "upload-forbidden",
                &[(
                    "reason",
                    reason.in_language(t.language).trim_end_matches('.').into(),
                )],
            ),
        ),
        _ => return None,
    })
}

/// What an upload request came to, once the client was known.
struct Received {
    token: SessionToken,
    ctx: ClientContext,
    task: TaskId,
    document: String,
    stored: Result<DocumentFile, Failure>,
}

impl PortalApp {
    pub(super) async fn upload<B>(
        &self,
        req: &Req,
        task: &str,
        document: &str,
        body: B,
    ) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let json = wants_json(&req.headers);
        let received = match self.receive_upload(req, task, document, body).await {
            Ok(received) => received,
            Err(failure) if json => return Ok(self.failure_json(req, failure)),
            Err(failure) => return Err(failure),
        };
        let Received {
            token,
            ctx,
            task,
            document,
            stored,
        } = received;
        let session = self.session_cookie(&token, &ctx);
        let failure = match stored {
            Ok(file) => return Ok(self.uploaded(&ctx, task, &file, json).await.cookie(session)),
            Err(failure) => failure,
        };
        let Some((status, message)) = failure.error().and_then(|e| upload_problem(e, req.texts()))
        else {
            return if json {
                Ok(self.failure_json(req, failure))
            } else {
                Err(failure)
            };
        };
        if json {
            let title = req.texts().text("upload-refused-title");
            return Ok(problem_json(status, &title, &message).cookie(session));
        }
        let name = self
            .service
            .task(&ctx, task)
            .await
            .ok()
            .and_then(|t| match t.kind {
                TaskKind::DocumentUpload { documents } => documents
                    .into_iter()
                    .find(|d| d.id == document)
                    .map(|d| d.name),
                _ => None,
            });
        let outcome = Outcome {
            status: Some(status),
            error: Some(match name {
                Some(name) => req.texts().text_with(
                    "upload-refused-for",
                    &[("name", name.into()), ("reason", message.as_str().into())],
                ),
                None => req
                    .texts()
                    .text_with("upload-refused", &[("reason", message.as_str().into())]),
            }),
            upload_error: Some((document, message)),
            ..Outcome::default()
        };
        Ok(self
            .render_task(req, &ctx, &task.to_string(), outcome, None)
            .await?
            .cookie(session))
    }

    /// Who is uploading what, then the upload itself; failures before the client is
    /// known are the request's (no task page can be shown for them).
    async fn receive_upload<B>(
        &self,
        req: &Req,
        task: &str,
        document: &str,
        body: B,
    ) -> Result<Received, Failure>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let task = Self::parse_task_id(task)?;
        let document = decode_segment(document).ok_or(Error::not_found(Entity::Page))?;
        let (token, ctx) = self.authenticated(req).await?;
        let stored = self
            .store_upload(req, &token, &ctx, task, &document, body)
            .await;
        Ok(Received {
            token,
            ctx,
            task,
            document,
            stored,
        })
    }

    async fn store_upload<B>(
        &self,
        req: &Req,
        token: &SessionToken,
        ctx: &ClientContext,
        task: TaskId,
        document: &str,
        body: B,
    ) -> Result<DocumentFile, Failure>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let current = self.service.task(ctx, task).await?;
        let limit = may_upload(&current, document)?.limit();
        let declared = req
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit.saturating_add(ENVELOPE_BYTES)) {
            return Err(Error::TooLarge { max_bytes: limit }.into());
        }
        let content_type = req.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let upload = UploadBody::new(content_type, body, limit)?;
        let cookie = (!req.csrf_is_new).then_some(req.csrf_secret.as_str());
        let genuine =
            |t: Option<&str>| csrf::verify(self.service.secret(), cookie, &req.csrf_binding, t);
        // The script's header, checked before the body is touched; a wrong one is
        // refused even if the form's field would do.
        let header = req
            .headers
            .get(CSRF_HEADER)
            .map(|v| v.to_str().unwrap_or(""));
        if header.is_some_and(|t| !genuine(Some(t))) {
            return Err(Refusal::StaleForm.into());
        }
        let (field, file) = upload.until_file().await?;
        if header.is_none() && !genuine(field.as_deref()) {
            return Err(Refusal::StaleForm.into());
        }
        if file.file_name.trim().is_empty() {
            // What a browser sends for a form submitted with no file chosen.
            return Err(
                Error::invalid("file", "was not chosen: choose a file, then press Upload").into(),
            );
        }
        let per_minute = self.config.client_writes_per_minute;
        if !self
            .throttle
            .admit(&token.hash(), self.service.clock().now(), per_minute)
        {
            return Err(Refusal::TooManyWrites { per_minute }.into());
        }
        Ok(self
            .service
            .upload_document(ctx, task, document, &file.file_name, file.content)
            .await?)
    }

    /// The answer to a stored upload: JSON for the script, or back to the task's page
    /// at the document.
    async fn uploaded(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        file: &DocumentFile,
        json: bool,
    ) -> Reply {
        let quarantined = file.review == FileReview::Quarantined;
        if json {
            return Reply::json(
                StatusCode::OK,
                "application/json",
                &serde_json::json!({
                    "status": if quarantined { "rejected" } else { "uploaded" },
                    "file": { "name": file.name, "size": file.size },
                }),
            );
        }
        let position = match self.service.task(ctx, task).await.map(|t| t.kind) {
            Ok(TaskKind::DocumentUpload { documents }) => documents
                .iter()
                .position(|d| d.id == file.document_id)
                .unwrap_or_default(),
            _ => 0,
        };
        let done = if quarantined {
            "quarantined"
        } else {
            "uploaded"
        };
        Reply::see_other(
            self.config
                .path(&format!("/tasks/{task}?done={done}#doc-{position}")),
        )
    }

    /// Streams an uploaded file of the signed-in client's portal, as an attachment
    /// (never shown inline: an uploaded HTML or SVG file must not run as a page of
    /// the portal).
    pub(super) async fn download(
        &self,
        req: &Req,
        task: &str,
        file: &str,
    ) -> Result<Reply, Failure> {
        let (_, ctx) = self.authenticated(req).await?;
        let task = Self::parse_task_id(task)?;
        let file: FileId = file.parse().map_err(|_| Error::not_found(Entity::File))?;
        let (record, content) = match self.service.download_document(&ctx, file).await {
            Ok(found) => found,
            Err(Error::Forbidden { reason }) => {
                return Ok(self.message(
                    req,
                    StatusCode::FORBIDDEN,
                    None,
                    &req.texts().text("download-refused-title"),
                    &[&reason.in_language(req.language())],
                    Some((
                        self.config.path(&format!("/tasks/{task}")),
                        &req.texts().text("back-to-task"),
                    )),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if record.task_id != task {
            return Err(Error::not_found(Entity::File).into());
        }
        let id = record.id;
        let content: ByteStream = Box::pin(content.inspect_err(move |e| {
            tracing::error!(error = %e, file = %id, "a download failed half-way; the response was cut off");
        }));
        let mut reply = Reply {
            content_type: record.file_type.content_type(),
            // The file is the client's own and private: never kept by a cache.
            cache: "private, no-store",
            stream: Some((content, record.size)),
            ..Reply::html(StatusCode::OK, String::new())
        };
        reply
            .extra
            .push((CONTENT_DISPOSITION, attachment_disposition(&record.name)));
        Ok(reply)
    }
}
