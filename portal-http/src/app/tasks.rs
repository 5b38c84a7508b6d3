//! The task page and its actions (complete, form, checklist, decision, comments), the
//! meeting's calendar file, and "Ask a Question". Every action is scoped to the signed-in
//! client's portal: a task id from another portal is "not found".

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{Method, StatusCode};
use hyper::body::Body as HttpBody;
use portal_core::credentials::{CredentialField, CredentialForm, SecretText};
use portal_core::error::{Entity, Error};
use portal_core::i18n::{Language, Texts};
use portal_core::ids::TaskId;
use portal_core::model::TaskKind;
use portal_core::service::SignatureInput;
use portal_core::signatures::SigningContext;
use portal_core::store::ClientContext;
use portal_core::workflow::survey::SubmitMode;

use super::portal::query_param;
use super::{Failure, PortalApp, Req};
use crate::pages::questions::{QuestionsInput, questions_page};
use crate::pages::task::{TaskPageInput, task_page};
use crate::pages::{PlanMarks, PortalNav};
use crate::respond::Reply;
use zeroize::Zeroize;

/// What a failed action leaves on the re-rendered page.
#[derive(Default)]
pub(super) struct Outcome {
    pub(super) status: Option<StatusCode>,
    pub(super) error: Option<String>,
    pub(super) field_errors: BTreeMap<String, String>,
    pub(super) submitted: Option<Vec<(String, String)>>,
    pub(super) draft: String,
    /// A refused upload: `(document id, message)`, shown at that document.
    pub(super) upload_error: Option<(String, String)>,
    /// The credential field a refused submission was about.
    pub(super) credential_error: Option<String>,
    /// The signature field a refused submission was about.
    pub(super) signature_error: Option<String>,
    /// A refused "I'm stuck" or due-date form's fields, kept.
    pub(super) help_values: Vec<(String, String)>,
}

/// The signature form's body limit: a drawn PNG of the largest accepted size, in
/// base64 and percent-encoded (at worst 4 bytes per byte), and the other fields. The PNG's own limit is checked
/// after decoding ([`portal_core::signatures::MAX_IMAGE`]).
const MAX_SIGNATURE_FORM: usize = portal_core::signatures::MAX_IMAGE * 4 + 64 * 1024;

/// The handoff form's values, each in a zeroizing [`SecretText`]; blank optional
/// fields are `None`.
fn credential_form(fields: &[(String, String)]) -> CredentialForm {
    let secret = |name| field(fields, name).map(SecretText::new);
    CredentialForm {
        username: secret("username").unwrap_or_else(|| SecretText::new("")),
        password: secret("password").unwrap_or_else(|| SecretText::new("")),
        api_key: secret("api_key"),
        notes: secret("notes"),
    }
}

pub(super) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A safe ASCII file name from a title: "Kickoff call" → "kickoff-call".
fn file_stem(title: &str) -> String {
    let mut stem = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            stem.push(c.to_ascii_lowercase());
        } else if !stem.ends_with('-') && !stem.is_empty() {
            stem.push('-');
        }
    }
    let stem = stem.trim_end_matches('-');
    let stem: String = stem.chars().take(60).collect();
    if stem.is_empty() {
        "meeting".to_owned()
    } else {
        stem
    }
}

/// The name of a refused field inside "Please check the {field}: …", in the page's
/// language. English keeps the field's own name (as before the catalog); another
/// language names the fields a client can meet on the task page and says "the
/// form" for any other.
pub(super) fn field_label(field: &str, t: Texts) -> String {
    let key = match field {
        "file" => "reason-field-file",
        "upload" => "reason-field-upload",
        "document" => "reason-field-document",
        "comment" => "reason-field-comment",
        "notes" => "reason-field-notes",
        "item" => "reason-field-item",
        "reason" => "reason-field-reason",
        "date" => "reason-field-date",
        "note" => "reason-field-note",
        "to" => "reason-field-to",
        "decision" => "reason-field-decision",
        _ if t.language == Language::En => return field.to_owned(),
        _ => "reason-field-other",
    };
    t.text(key)
}

/// "the reason" → "The reason".
fn capital(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn notice_for(done: &str, t: portal_core::i18n::Texts) -> Option<String> {
    const KNOWN: &[&str] = &[
        "completed",
        "saved",
        "submitted",
        "checked",
        "unchecked",
        "approved",
        "rejected",
        "commented",
        "stuck",
        "due-date",
        "asked",
        "claim",
        "hand-off",
        "signed",
        "credentials",
        "uploaded",
        "dropped",
        "dropped-several",
        "deleted",
        "quarantined",
    ];
    KNOWN
        .contains(&done)
        .then(|| t.text(&format!("notice-{done}")))
}

impl PortalApp {
    pub(super) fn parse_task_id(id: &str) -> Result<TaskId, Error> {
        id.parse::<TaskId>().map_err(|_| Error::NotFound {
            entity: Entity::Task,
        })
    }

    pub(super) async fn task_page(&self, req: &Req, id: &str) -> Result<Reply, Failure> {
        let (token, ctx) = self.authenticated(req).await?;
        let notice = query_param(req, "done").and_then(|d| notice_for(&d, req.texts()));
        let reply = self
            .render_task(req, &ctx, id, Outcome::default(), notice)
            .await?;
        Ok(reply.cookie(self.session_cookie(&token, &ctx)))
    }

    pub(super) async fn render_task(
        &self,
        req: &Req,
        ctx: &ClientContext,
        id: &str,
        outcome: Outcome,
        notice: Option<String>,
    ) -> Result<Reply, Failure> {
        let task_id = Self::parse_task_id(id)?;
        let plan = self.service.client_plan(ctx).await?;
        let snap = &plan.snapshot;
        let Some(task) = snap.tasks.iter().find(|t| t.id == task_id) else {
            return Err(Failure::from(Error::not_found(Entity::Task))
                .branded(Some(snap.portal.branding.clone())));
        };
        let thread = self.service.thread(ctx, task_id).await?;
        let comments = thread.clone().unwrap_or_default();
        let colleagues = if task.assignee == portal_core::model::Side::Client && ctx.guest.is_none()
        {
            self.service.colleagues(ctx).await?
        } else {
            Vec::new()
        };
        // Who submitted a handoff and when, never a value.
        let credentials = if matches!(task.kind, TaskKind::CredentialHandoff { .. }) {
            self.service.submitted_credentials(ctx, task_id).await?
        } else {
            None
        };
        let drops = if matches!(task.kind, TaskKind::SecureFileDrop { .. }) {
            self.service.dropped_files(ctx, task_id).await?
        } else {
            Vec::new()
        };
        let (signature, sign_document) = if matches!(task.kind, TaskKind::Signature { .. }) {
            (
                self.service.task_signature(ctx, task_id).await?,
                self.service.signature_document(ctx, task_id).await?,
            )
        } else {
            (None, None)
        };
        let shared = self.service.task_attachments(ctx, task_id).await?;
        // Files are read only for a task that asks for documents.
        let documents = if task.kind.is_document() {
            self.service.documents(ctx).await?
        } else {
            Vec::new()
        };
        let phase = snap
            .phases
            .iter()
            .find(|p| p.id == task.phase_id)
            .map(|p| p.name.as_str())
            .unwrap_or("");
        let prefix = self.config.prefix();
        let c = self
            .chrome(req, &task.title, Some(&snap.portal.branding))
            .in_zone(ctx.time_zone);
        let page = task_page(
            c,
            PortalNav::of(prefix, ctx.guest.is_some()),
            TaskPageInput {
                guest: ctx.guest.is_some(),
                task,
                phase,
                company: &snap.portal.branding.company_name,
                comments: &comments,
                thread: thread.is_some(),
                today: self
                    .service
                    .clock()
                    .now()
                    .with_timezone(&ctx.time_zone.tz())
                    .date_naive(),
                prefix,
                notice,
                error: outcome.error,
                field_errors: outcome.field_errors,
                submitted: outcome.submitted.as_deref(),
                draft: outcome.draft,
                documents: &documents,
                unscannable: self.service.unscannable(),
                upload_error: outcome
                    .upload_error
                    .as_ref()
                    .map(|(id, message)| (id.as_str(), message.as_str())),
                marks: PlanMarks {
                    waiting: &plan.waiting,
                    me: ctx.contact_id,
                    names: &plan.assignees,
                },
                credentials: credentials.as_ref(),
                credential_error: outcome.credential_error,
                drops: &drops,
                now: self.service.clock().now(),
                signature: signature.as_ref(),
                colleagues: &colleagues,
                signature_error: outcome.signature_error,
                sign_document: sign_document.as_ref(),
                help_values: &outcome.help_values,
                shared: &shared,
            },
        );
        let frames_document = page
            .signature
            .as_ref()
            .and_then(|s| s.document_file.as_ref())
            .is_some_and(|d| d.inline);
        let mut reply = self.render(outcome.status.unwrap_or(StatusCode::OK), &page);
        if frames_document {
            reply.csp = Some(crate::respond::csp_framing_self(
                &req.nonce,
                &self.config.frame_ancestors,
            ));
        }
        Ok(reply)
    }

    pub(super) async fn task_action<B>(
        &self,
        req: &Req,
        id: &str,
        action: &str,
        body: B,
    ) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let limit = if action == "signature" {
            MAX_SIGNATURE_FORM
        } else {
            self.config.max_form_bytes
        };
        let (mut fields, token, ctx) = self.signed_in_form_max(req, body, limit).await?;
        let task = Self::parse_task_id(id)?;
        if action == "signature" {
            let input = SignatureInput {
                drawn: field(&fields, "drawn").map(str::to_owned),
                typed_name: field(&fields, "typed_name").map(str::to_owned),
                consent: field(&fields, "consent") == Some("1"),
                document_sha256: field(&fields, "document_sha256").map(str::to_owned),
                // The page names the language it showed the statement in; a form
                // without it (or with an unknown code) was shown in the request's.
                consent_language: field(&fields, "consent_language")
                    .and_then(portal_core::i18n::Language::from_code)
                    .unwrap_or_else(|| req.language()),
            };
            drop(fields);
            let context = SigningContext {
                ip: req.info.ip.map(|ip| ip.to_string()),
                user_agent: req.info.user_agent.clone(),
                time_zone: ctx.time_zone.name().to_owned(),
            };
            return match self.service.sign_task(&ctx, task, &input, context).await {
                Ok(_) => Ok(Reply::see_other(
                    self.config.path(&format!("/tasks/{task}?done=signed")),
                )
                .cookie(self.session_cookie(&token, &ctx))),
                Err(Error::Invalid { field, reason }) => {
                    let key = match field {
                        "consent" => "reason-signature-refused-consent",
                        "typed_name" => "reason-signature-refused-typed-name",
                        _ => "reason-signature-refused-drawn",
                    };
                    let t = req.texts();
                    let outcome = Outcome {
                        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                        error: Some(
                            t.text_with(key, &[("reason", reason.in_language(t.language).into())]),
                        ),
                        signature_error: Some(field.to_owned()),
                        ..Outcome::default()
                    };
                    self.render_task(req, &ctx, id, outcome, None).await
                }
                Err(e) => self.action_failed(req, &ctx, id, e, Vec::new(), None).await,
            };
        }
        if action == "credentials" {
            let form = credential_form(&fields);
            // The form's own copies of the values are wiped now; only the
            // zeroizing `SecretText`s live on until they are sealed.
            for (_, value) in &mut fields {
                value.zeroize();
            }
            drop(fields);
            return match self.service.submit_credentials(&ctx, task, &form).await {
                Ok(_) => Ok(Reply::see_other(
                    self.config.path(&format!("/tasks/{task}?done=credentials")),
                )
                .cookie(self.session_cookie(&token, &ctx))),
                Err(e) => self.credentials_refused(req, &ctx, id, e).await,
            };
        }
        if action == "claim" || action == "hand-off" {
            return self
                .team_action(req, &ctx, &token, id, action, fields)
                .await;
        }
        if action == "stuck" || action == "due-date" {
            return self
                .help_action(req, &ctx, &token, id, action, fields)
                .await;
        }
        let text = |name| field(&fields, name).map(str::to_owned);
        let (result, done, draft) = match action {
            "complete" => {
                let notes = text("notes");
                (
                    self.service
                        .complete_task(&ctx, task, notes.clone())
                        .await
                        .map(|_| ()),
                    "completed",
                    notes,
                )
            }
            "form" => {
                let submit = field(&fields, "action") == Some("submit");
                let mode = if submit {
                    SubmitMode::Submit
                } else {
                    SubmitMode::SaveDraft
                };
                let r = self
                    .service
                    .save_answers(&ctx, task, &fields, mode)
                    .await
                    .map(|_| ());
                (r, if submit { "submitted" } else { "saved" }, None)
            }
            "checklist" => {
                let checked = field(&fields, "checked") == Some("1");
                let item = field(&fields, "item").unwrap_or("");
                let r = self
                    .service
                    .set_checklist_item(&ctx, task, item, checked)
                    .await;
                (
                    r.map(|_| ()),
                    if checked { "checked" } else { "unchecked" },
                    None,
                )
            }
            "decision" => {
                let comment = text("comment");
                let (approved, done) = match field(&fields, "decision") {
                    Some("approve") => (true, "approved"),
                    Some("reject") => (false, "rejected"),
                    _ => {
                        let e = Error::invalid(
                            "decision",
                            portal_core::Reason::message("reason-decision-choose", &[]),
                        );
                        return self.action_failed(req, &ctx, id, e, fields, comment).await;
                    }
                };
                let r = self
                    .service
                    .decide_approval(&ctx, task, approved, comment.clone(), &req.info)
                    .await;
                (r.map(|_| ()), done, comment)
            }
            "comments" => {
                let body = text("comment").unwrap_or_default();
                let r = self.service.add_comment(&ctx, task, &body).await;
                (r.map(|_| ()), "commented", Some(body))
            }
            _ => return Err(Error::not_found(Entity::Page).into()),
        };
        match result {
            Ok(()) => Ok(
                Reply::see_other(self.config.path(&format!("/tasks/{task}?done={done}")))
                    .cookie(self.session_cookie(&token, &ctx)),
            ),
            Err(e) => self.action_failed(req, &ctx, id, e, fields, draft).await,
        }
    }

    /// "Take this task on" and "Hand this task to a colleague" (`to`, `note`): on
    /// success back to the task with a notice; a refused hand-off re-renders the page
    /// with the message at the form and the note kept (nothing was stored).
    async fn team_action(
        &self,
        req: &Req,
        ctx: &ClientContext,
        token: &portal_core::secret::SessionToken,
        id: &str,
        action: &str,
        fields: Vec<(String, String)>,
    ) -> Result<Reply, Failure> {
        let task = Self::parse_task_id(id)?;
        let result = if action == "claim" {
            self.service.claim_task(ctx, task).await
        } else {
            match field(&fields, "to").and_then(|t| t.parse::<portal_core::ContactId>().ok()) {
                Some(to) => {
                    let note = field(&fields, "note").unwrap_or("");
                    self.service.hand_off_task(ctx, task, to, note).await
                }
                None => Err(Error::invalid(
                    "to",
                    portal_core::Reason::message("reason-hand-off-choose", &[]),
                )),
            }
        };
        match result {
            Ok(_) => Ok(Reply::see_other(
                self.config.path(&format!("/tasks/{task}?done={action}")),
            )
            .cookie(self.session_cookie(token, ctx))),
            Err(Error::Invalid { field, reason }) if action == "hand-off" => {
                let t = req.texts();
                let mut field_errors = BTreeMap::new();
                field_errors.insert(
                    format!("team:{field}"),
                    format!("{}.", capital(&reason.in_language(t.language))),
                );
                let outcome = Outcome {
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    error: Some(t.text("reason-hand-off-check-form")),
                    field_errors,
                    help_values: fields,
                    ..Outcome::default()
                };
                self.render_task(req, ctx, id, outcome, None).await
            }
            Err(e) => self.action_failed(req, ctx, id, e, Vec::new(), None).await,
        }
    }

    /// "I'm stuck" (`reason`) and "Ask for a new due date" (`date`, `due_reason`):
    /// on success back to the task with a notice; a refused form re-renders the page
    /// with the message at its field and what was typed kept (nothing was stored).
    async fn help_action(
        &self,
        req: &Req,
        ctx: &ClientContext,
        token: &portal_core::secret::SessionToken,
        id: &str,
        action: &str,
        fields: Vec<(String, String)>,
    ) -> Result<Reply, Failure> {
        let task = Self::parse_task_id(id)?;
        let get = |name| field(&fields, name).unwrap_or("").to_owned();
        let result = if action == "stuck" {
            self.service.report_stuck(ctx, task, &get("reason")).await
        } else {
            let raw = get("date");
            match chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
                Ok(date) => {
                    self.service
                        .request_due_date(ctx, task, date, &get("due_reason"))
                        .await
                }
                Err(_) => Err(Error::invalid(
                    "date",
                    portal_core::Reason::message("reason-due-date-format", &[]),
                )),
            }
        };
        match result {
            Ok(_) => Ok(Reply::see_other(
                self.config.path(&format!("/tasks/{task}?done={action}")),
            )
            .cookie(self.session_cookie(token, ctx))),
            Err(Error::Invalid { field, reason }) => {
                let key = match (action, field) {
                    ("stuck", _) => "help:reason",
                    (_, "date") => "help:date",
                    _ => "help:due_reason",
                };
                let summary = match key {
                    "help:reason" => "reason-stuck-check-reason",
                    "help:due_reason" => "reason-due-date-check-reason",
                    _ => "reason-due-date-check-date",
                };
                let t = req.texts();
                let mut field_errors = BTreeMap::new();
                field_errors.insert(
                    key.to_owned(),
                    format!("{}.", capital(&reason.in_language(t.language))),
                );
                let outcome = Outcome {
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    error: Some(t.text(summary)),
                    field_errors,
                    help_values: fields,
                    ..Outcome::default()
                };
                self.render_task(req, ctx, id, outcome, None).await
            }
            Err(e) => self.action_failed(req, ctx, id, e, Vec::new(), None).await,
        }
    }

    /// Re-renders a credential handoff page after a refused submission: its status,
    /// what to fix, the field marked, and an empty form (a value is never written back
    /// into a page). Nothing was stored.
    async fn credentials_refused(
        &self,
        req: &Req,
        ctx: &ClientContext,
        id: &str,
        err: Error,
    ) -> Result<Reply, Failure> {
        let outcome = match err {
            Error::Invalid { field, reason } => {
                // "password", "API key": the form's labels, read mid-sentence.
                let label = match CredentialField::parse(field) {
                    Some(CredentialField::Username) => "reason-field-username",
                    Some(CredentialField::Password) => "reason-field-password",
                    Some(CredentialField::ApiKey) => "reason-field-api-key",
                    Some(CredentialField::Notes) => "reason-field-notes",
                    _ => "reason-field-other",
                };
                let t = req.texts();
                Outcome {
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    error: Some(t.text_with(
                        "reason-credentials-refused",
                        &[
                            ("field", t.text(label).into()),
                            ("reason", reason.in_language(t.language).into()),
                        ],
                    )),
                    credential_error: Some(field.to_owned()),
                    ..Outcome::default()
                }
            }
            other => {
                return self
                    .action_failed(req, ctx, id, other, Vec::new(), None)
                    .await;
            }
        };
        self.render_task(req, ctx, id, outcome, None).await
    }

    /// Re-renders the task page with what went wrong, keeping what the client typed;
    /// errors the client cannot fix there get the error page.
    async fn action_failed(
        &self,
        req: &Req,
        ctx: &ClientContext,
        id: &str,
        err: Error,
        fields: Vec<(String, String)>,
        draft: Option<String>,
    ) -> Result<Reply, Failure> {
        let mut outcome = Outcome {
            draft: draft.unwrap_or_default(),
            ..Outcome::default()
        };
        let t = req.texts();
        match err {
            Error::InvalidFields { errors } => {
                outcome.status = Some(StatusCode::UNPROCESSABLE_ENTITY);
                outcome.error =
                    Some(t.text_with("reason-fix-answers", &[("count", errors.len().into())]));
                outcome.field_errors = errors
                    .into_iter()
                    .map(|(field, reason)| (field, reason.in_language(t.language)))
                    .collect();
                outcome.submitted = Some(fields);
            }
            Error::Invalid { field, reason } => {
                outcome.status = Some(StatusCode::UNPROCESSABLE_ENTITY);
                outcome.error = Some(t.text_with(
                    "reason-check-field",
                    &[
                        ("field", field_label(field, t).into()),
                        ("reason", reason.in_language(t.language).into()),
                    ],
                ));
            }
            Error::Conflict { reason } => {
                outcome.status = Some(StatusCode::CONFLICT);
                outcome.error = Some(reason.in_language(t.language));
            }
            Error::Forbidden { reason } => {
                outcome.status = Some(StatusCode::FORBIDDEN);
                outcome.error = Some(t.text_with(
                    "task-forbidden",
                    &[(
                        "reason",
                        reason.in_language(t.language).trim_end_matches('.').into(),
                    )],
                ));
            }
            other => return Err(other.into()),
        }
        self.render_task(req, ctx, id, outcome, None).await
    }

    /// The client's evidence certificate of their signature (`NotFound` until signed).
    pub(super) async fn certificate(&self, req: &Req, id: &str) -> Result<Reply, Failure> {
        let (token, ctx) = self.authenticated(req).await?;
        let task = Self::parse_task_id(id)?;
        let current = self.service.task(&ctx, task).await?;
        let evidence = self.service.client_signature_evidence(&ctx, task).await?;
        let portal = self.service.store().portal(ctx.portal_id).await?;
        let c = self
            .chrome(
                req,
                &req.texts().text("certpage-page-title"),
                Some(&portal.branding),
            )
            .in_zone(ctx.time_zone);
        let page = crate::pages::certificate::certificate_page(
            c,
            &current.title,
            self.config.path(&format!("/tasks/{task}")),
            &evidence,
            ctx.time_zone,
        );
        Ok(self
            .render(StatusCode::OK, &page)
            .cookie(self.session_cookie(&token, &ctx)))
    }

    /// A signature task's document, exactly the stored bytes (the hash a signature
    /// records): a PDF inline, to be framed by the task page (its own CSP lets only
    /// the portal frame it), anything else, or `?download=1`, as an attachment.
    pub(super) async fn signature_document(&self, req: &Req, id: &str) -> Result<Reply, Failure> {
        let (_, ctx) = self.authenticated(req).await?;
        let task = Self::parse_task_id(id)?;
        let (doc, content) = self.service.open_signature_document(&ctx, task).await?;
        let task_id = doc.task_id;
        let content: portal_core::blob::ByteStream = Box::pin(
            futures_util::TryStreamExt::inspect_err(content, move |e| {
                tracing::error!(error = %e, task = %task_id, "a signature document failed half-way; the response was cut off");
            }),
        );
        let inline = doc.file_type == portal_core::files::FileType::Pdf
            && query_param(req, "download").is_none();
        let disposition = portal_core::files::attachment_disposition(&doc.name);
        let disposition = if inline {
            disposition.replacen("attachment", "inline", 1)
        } else {
            disposition
        };
        let mut reply = Reply {
            content_type: doc.file_type.media_type(),
            cache: "private, no-store",
            stream: Some((content, doc.size)),
            csp: Some(crate::respond::framed_document_csp(
                &self.config.frame_ancestors,
            )),
            ..Reply::html(StatusCode::OK, String::new())
        };
        reply
            .extra
            .push((http::header::CONTENT_DISPOSITION, disposition));
        Ok(reply)
    }

    /// A file the MSP shared on a task: exactly the stored bytes, with the type sniffed
    /// when it was attached and `nosniff`; a PDF or an image inline ("Open"), anything
    /// else, or `?download=1`, as an attachment. Serving it records that this contact
    /// opened it (what a decision on the task waits for). Another portal's file, or one
    /// of a task the client does not see, is a 404.
    pub(super) async fn open_shared(
        &self,
        req: &Req,
        id: &str,
        file: &str,
    ) -> Result<Reply, Failure> {
        let (_, ctx) = self.authenticated(req).await?;
        let task = Self::parse_task_id(id)?;
        let not_found = || Failure::from(Error::not_found(Entity::File));
        let file: portal_core::ids::AttachmentId = file.parse().map_err(|_| not_found())?;
        let (a, content) = if req.method == Method::HEAD {
            // HEAD answers like GET but records no open: no byte was read.
            let a = self.service.attachment_info(&ctx, task, file).await?;
            let nothing: portal_core::blob::ByteStream = Box::pin(futures_util::stream::empty());
            (a, nothing)
        } else {
            self.service.open_attachment(&ctx, task, file).await?
        };
        let attachment_id = a.id;
        let content: portal_core::blob::ByteStream = Box::pin(
            futures_util::TryStreamExt::inspect_err(content, move |e| {
                tracing::error!(error = %e, attachment = %attachment_id, "a shared file failed half-way; the response was cut off");
            }),
        );
        let inline = crate::pages::documents::opens_inline(a.file_type)
            && query_param(req, "download").is_none();
        let disposition = portal_core::files::attachment_disposition(&a.name);
        let disposition = if inline {
            disposition.replacen("attachment", "inline", 1)
        } else {
            disposition
        };
        let mut reply = Reply {
            content_type: a.file_type.media_type(),
            cache: "private, no-store",
            stream: Some((content, a.size)),
            csp: Some(crate::respond::framed_document_csp(
                &self.config.frame_ancestors,
            )),
            ..Reply::html(StatusCode::OK, String::new())
        };
        reply
            .extra
            .push((http::header::CONTENT_DISPOSITION, disposition));
        Ok(reply)
    }

    pub(super) async fn task_ics(&self, req: &Req, id: &str) -> Result<Reply, Failure> {
        let (_, ctx) = self.authenticated(req).await?;
        let task = Self::parse_task_id(id)?;
        let ics = self.service.meeting_ics(&ctx, task).await?;
        let title = self.service.task(&ctx, task).await?.title;
        let mut reply = Reply::html(StatusCode::OK, ics);
        reply.content_type = "text/calendar; charset=utf-8";
        reply.extra.push((
            http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.ics\"", file_stem(&title)),
        ));
        Ok(reply)
    }

    pub(super) async fn questions(&self, req: &Req) -> Result<Reply, Failure> {
        let (token, ctx) = self.authenticated(req).await?;
        let notice = query_param(req, "done").and_then(|d| notice_for(&d, req.texts()));
        // `?to=` (the home page's team card) chooses that member in the form.
        let to = query_param(req, "to");
        Ok(self
            .render_questions(req, &ctx, StatusCode::OK, notice, None, (String::new(), to))
            .await?
            .cookie(self.session_cookie(&token, &ctx)))
    }

    /// `kept`: the draft and the chosen addressee, kept across a refused send.
    async fn render_questions(
        &self,
        req: &Req,
        ctx: &ClientContext,
        status: StatusCode,
        notice: Option<String>,
        error: Option<String>,
        kept: (String, Option<String>),
    ) -> Result<Reply, Failure> {
        let (draft, to) = kept;
        let portal = self.service.store().portal(ctx.portal_id).await?;
        let questions = self.service.questions(ctx).await?;
        let team = self.service.team(ctx).await?;
        let c = self
            .chrome(req, &req.texts().text("nav-ask"), Some(&portal.branding))
            .in_zone(ctx.time_zone);
        let page = questions_page(
            c,
            QuestionsInput {
                prefix: self.config.prefix(),
                questions: &questions,
                team: &team,
                to: to.as_deref(),
                notice,
                error,
                draft,
            },
        );
        Ok(self.render(status, &page))
    }

    pub(super) async fn ask_question<B>(&self, req: &Req, body: B) -> Result<Reply, Failure>
    where
        B: HttpBody<Data = Bytes> + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (fields, token, ctx) = self.signed_in_form(req, body).await?;
        let text = field(&fields, "question").unwrap_or("").to_owned();
        let to = field(&fields, "to")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        match self
            .service
            .ask_question_to(&ctx, &text, to.as_deref())
            .await
        {
            Ok(_) => Ok(Reply::see_other(self.config.path("/questions?done=asked"))
                .cookie(self.session_cookie(&token, &ctx))),
            Err(Error::Invalid { field, reason }) => {
                let _ = reason;
                let msg = if field == "to" {
                    req.texts().text("questions-error-to")
                } else {
                    req.texts().text("questions-error-text")
                };
                self.render_questions(
                    req,
                    &ctx,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some(msg),
                    (text, to),
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    }
}
