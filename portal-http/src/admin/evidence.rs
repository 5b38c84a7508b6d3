//! The credential handoff and audit trail operations of the admin API: an admin
//! reveals a task's credentials with a stated reason (answered `Cache-Control:
//! no-store`, never replayable through `Idempotency-Key`) or purges them; staff verify
//! a portal's audit chain and an admin exports it as JSON Lines. The core records each
//! reveal and purge in the audit trail itself.
//!
//! Kept in a module of its own so the route table's other operations stay as they are.

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::BodyExt;
use hyper::body::Body as HttpBody;
use portal_core::audit::{ChainHead, ChainProblem, ChainReport};
use portal_core::blob::ByteStream;
use portal_core::credentials::{CredentialField, SecretText};
use portal_core::error::{Entity, Error};
use portal_core::filedrop::{self, DroppedFile};
use portal_core::ids::{FileId, TaskId};
use portal_core::service::SignatureEvidence;
use portal_core::signatures::{AttachedDocument, SignatureMark, SignatureRecord};
use serde_json::{Map, Value, json};

use super::input::{object, req_str};
use super::problem::ApiError;
use super::routes::{Op, Route};
use super::{ApiReply, Call};
use crate::PortalApp;

type Answer = Result<ApiReply, ApiError>;

/// The largest document `POST /signatures/verify-document` checks: 25 MiB, the
/// default document upload limit.
pub(crate) const MAX_CHECKED_DOCUMENT: usize = 25 * 1024 * 1024;

/// A signature record as the admin API shows it (every hash in hex, never the image).
pub(crate) fn signature(r: &SignatureRecord) -> Value {
    let email = match &r.signer {
        portal_core::workflow::Actor::Client { email, .. } => Some(email.to_string()),
        portal_core::workflow::Actor::Staff { email, .. } => {
            email.as_ref().map(ToString::to_string)
        }
    };
    let (typed_name, image_size) = match &r.mark {
        SignatureMark::Typed(name) => (Some(name.clone()), None),
        SignatureMark::Drawn(i) => (None, Some(i.size)),
    };
    json!({
        "portal_id": r.portal_id.to_string(),
        "task_id": r.task_id.to_string(),
        "signer": { "name": r.signer.name(), "email": email },
        "ip": r.ip,
        "user_agent": r.user_agent,
        "signed_at": portal_core::audit::canonical_time(r.signed_at),
        "time_zone": r.time_zone,
        "document": r.document.as_ref().map(|d| json!({
            "name": d.name, "size": d.size, "sha256": hex(&d.sha256),
        })),
        "method": r.mark.method(),
        "typed_name": typed_name,
        "image_size": image_size,
        "mark_sha256": hex(&r.mark_sha256),
        "consent_text": r.consent_text,
        "consent_sha256": hex(&r.consent_sha256),
        "record_sha256": hex(&r.record_sha256),
    })
}

/// A signature with its verification and chain position.
pub(crate) fn evidence_view(e: &SignatureEvidence) -> Value {
    let parts: Map<String, Value> = e
        .verification
        .parts
        .iter()
        .map(|(p, st)| {
            (
                serde_json::to_value(p)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                serde_json::to_value(st).unwrap_or(Value::Null),
            )
        })
        .collect();
    json!({
        "signature": signature(&e.record),
        "intact": e.verification.intact(),
        "parts": parts,
        "audit_event": e.chain.as_ref().map(head),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The revealed values of a task, by field name (`username`, `password`, `api_key`,
/// `notes`; a field the client left empty is absent). The JSON copy is the one place
/// a value leaves the core in clear, on purpose: the admin asked, and it is audited.
pub(crate) fn revealed(task: TaskId, values: &[(CredentialField, SecretText)]) -> Value {
    let fields: Map<String, Value> = values
        .iter()
        .map(|(f, v)| (f.as_str().to_owned(), Value::from(v.expose_secret())))
        .collect();
    json!({ "task_id": task.to_string(), "fields": fields })
}

fn head(h: &ChainHead) -> Value {
    json!({ "seq": h.seq, "hash": hex(&h.hash) })
}

/// A chain verification: how many events, the head to pin elsewhere, and the first
/// event that does not hold (`problem`: `sequence` with the number expected, `link`
/// or `hash`).
pub(crate) fn chain_report(r: &ChainReport) -> Value {
    let fault = r.fault.map(|f| {
        let (problem, expected) = match f.problem {
            ChainProblem::Sequence { expected } => ("sequence", Some(expected)),
            ChainProblem::Link => ("link", None),
            // `Hash`, and whatever a later core adds: the event does not hold.
            _ => ("hash", None),
        };
        json!({
            "position": f.position,
            "seq": f.seq,
            "problem": problem,
            "expected_seq": expected,
        })
    });
    json!({
        "intact": r.intact(),
        "events": r.events,
        "head": r.head.as_ref().map(head),
        "fault": fault,
    })
}

/// The task id of the path; one that does not parse is simply not found. The core
/// checks the role before it looks the task up, so a member is told 403 whatever the id.
fn task_param(call: &Call<'_>) -> Result<TaskId, ApiError> {
    call.params
        .get(1)
        .and_then(|raw| raw.parse().ok())
        .ok_or(ApiError::Core(Error::NotFound {
            entity: Entity::Task,
        }))
}

impl PortalApp {
    /// The credential and audit operations.
    pub(super) async fn dispatch_evidence(&self, route: &Route, call: &Call<'_>) -> Answer {
        let s = self.service();
        match route.op {
            Op::RevealCredentials => {
                let p = self.portal_in(call, 0).await?;
                let t = task_param(call)?;
                let m = object(&call.body)?;
                let reason = req_str(m, "reason")?;
                let values = s.reveal_credentials(&call.staff, p.id, t, &reason).await?;
                Ok(ApiReply::ok(revealed(t, &values)))
            }
            Op::PurgeCredentials => {
                let p = self.portal_in(call, 0).await?;
                let t = task_param(call)?;
                s.purge_credentials(&call.staff, p.id, t).await?;
                Ok(ApiReply::empty(http::StatusCode::NO_CONTENT))
            }
            Op::ExportAudit => {
                let p = self.portal_in(call, 0).await?;
                let lines = s.export_audit_chain(&call.staff, p.id).await?;
                let len = u64::try_from(lines.len()).unwrap_or(u64::MAX);
                let stream = portal_core::blob::stream_of(vec![bytes::Bytes::from(lines)]);
                Ok(ApiReply::file(
                    stream,
                    len,
                    "application/x-ndjson",
                    &format!("audit-{}.jsonl", p.id),
                ))
            }
            Op::VerifyAudit => {
                let p = self.portal_in(call, 0).await?;
                let report = s.verify_audit_chain(&call.staff, p.id).await?;
                Ok(ApiReply::ok(chain_report(&report)))
            }
            Op::ListDrops => {
                let p = self.portal_in(call, 0).await?;
                let t = task_param(call)?;
                let now = s.clock().now();
                let files = s.staff_dropped_files(&call.staff, p.id, t).await?;
                Ok(call.page(files.iter().map(|f| dropped_file(f, now)).collect()))
            }
            Op::DownloadDrop => {
                let p = self.portal_in(call, 0).await?;
                // An id that does not parse is as unavailable as any other.
                let f: FileId = call
                    .params
                    .get(1)
                    .and_then(|raw| raw.parse().ok())
                    .ok_or(ApiError::Core(filedrop::not_available()))?;
                let (record, stream) = s.download_dropped_file(&call.staff, p.id, f).await?;
                Ok(ApiReply::file(
                    stream,
                    record.size,
                    "application/octet-stream",
                    &record.name,
                ))
            }
            Op::SweepDrops => {
                let removed = s.staff_sweep_file_drops(&call.staff).await?;
                Ok(ApiReply::ok(json!({ "removed": removed })))
            }
            Op::SignatureEvidence => {
                let p = self.portal_in(call, 0).await?;
                let t = task_param(call)?;
                let e = s.signature_evidence(&call.staff, p.id, t).await?;
                Ok(ApiReply::ok(evidence_view(&e)))
            }
            Op::SignatureImage => {
                let p = self.portal_in(call, 0).await?;
                let t = task_param(call)?;
                let png = s.signature_image(&call.staff, p.id, t).await?;
                let len = u64::try_from(png.len()).unwrap_or(u64::MAX);
                let stream = portal_core::blob::stream_of(vec![bytes::Bytes::from(png)]);
                Ok(ApiReply::file(
                    stream,
                    len,
                    "image/png",
                    &format!("signature-{t}.png"),
                ))
            }
            Op::SignatureDocument => {
                let p = self.portal_in(call, 0).await?;
                let t = task_param(call)?;
                let (doc, stream) = s.staff_signature_document(&call.staff, p.id, t).await?;
                Ok(ApiReply::file(
                    stream,
                    doc.size,
                    doc.file_type.media_type(),
                    &doc.name,
                ))
            }
            Op::SignatureDocumentInfo => {
                let p = self.portal_in(call, 0).await?;
                let t = task_param(call)?;
                // The content stream is opened and dropped unread.
                let (doc, _) = s.staff_signature_document(&call.staff, p.id, t).await?;
                Ok(ApiReply::ok(signature_document(&doc)))
            }
            Op::ListAttachments => {
                let p = self.portal_in(call, 0).await?;
                let t = task_param(call)?;
                let all = s.staff_task_attachments(&call.staff, p.id, t).await?;
                Ok(call.page(all.iter().map(attachment).collect()))
            }
            Op::DownloadAttachment => {
                let p = self.portal_in(call, 0).await?;
                let a = attachment_param(call)?;
                let (record, stream) = s.staff_attachment(&call.staff, p.id, a).await?;
                Ok(ApiReply::file(
                    stream,
                    record.size,
                    record.file_type.media_type(),
                    &record.name,
                ))
            }
            Op::DeleteAttachment => {
                let p = self.portal_in(call, 0).await?;
                let a = attachment_param(call)?;
                s.delete_attachment(&call.staff, p.id, a).await?;
                Ok(ApiReply::empty(http::StatusCode::NO_CONTENT))
            }
            Op::VerifyDocument => {
                use base64::Engine as _;
                let m = object(&call.body)?;
                let raw = req_str(m, "data_base64")?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(raw.trim())
                    .map_err(|_| super::input::invalid("data_base64", "must be standard base64"))?;
                let found = s.signatures_of_document(&call.staff, &bytes).await?;
                Ok(ApiReply::ok(json!({
                    "sha256": hex(&portal_core::signatures::sha256(&bytes)),
                    "signed": !found.is_empty(),
                    "signatures": found.iter().map(signature).collect::<Vec<_>>(),
                })))
            }
            _ => Err(ApiError::NoRoute),
        }
    }
}

/// The attachment id from the path; one that does not parse is simply not found.
fn attachment_param(call: &Call<'_>) -> Result<portal_core::ids::AttachmentId, ApiError> {
    call.params
        .get(1)
        .and_then(|raw| raw.parse().ok())
        .ok_or(ApiError::Core(Error::NotFound {
            entity: Entity::File,
        }))
}

/// A file shared on a task as the API shows it (never its content or key).
pub(crate) fn attachment(a: &portal_core::attachments::TaskAttachment) -> Value {
    json!({
        "id": a.id.to_string(),
        "task_id": a.task_id.to_string(),
        "name": a.name,
        "file_type": a.file_type.name(),
        "size": a.size,
        "sha256": hex(&a.sha256),
        "added_by": super::views::actor(&a.added_by),
        "added_at": portal_core::audit::canonical_time(a.added_at),
    })
}

/// An attached signature document as the API shows it (never its content or key).
pub(crate) fn signature_document(d: &AttachedDocument) -> Value {
    json!({
        "task_id": d.task_id.to_string(),
        "name": d.name,
        "file_type": d.file_type.name(),
        "size": d.size,
        "sha256": hex(&d.sha256),
        "attached_by": super::views::actor(&d.attached_by),
        "attached_at": portal_core::audit::canonical_time(d.attached_at),
    })
}

impl PortalApp {
    /// `PUT …/signature/document`: the file is the body, raw (its name in `?name=`)
    /// or `multipart/form-data` (its `file` part, the part's file name). A declared
    /// `Content-Length` beyond the limit is refused unread; otherwise the limit is
    /// enforced while streaming, and the core sniffs, seals and records it.
    pub(super) async fn admin_upload<B>(&self, route: &Route, call: &Call<'_>, body: B) -> Answer
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let limit = match route.op {
            Op::AttachSignatureDocument => portal_core::signatures::MAX_DOCUMENT,
            Op::AttachFile => portal_core::attachments::MAX_ATTACHMENT,
            _ => return Err(ApiError::NoRoute),
        };
        let p = self.portal_in(call, 0).await?;
        let t = task_param(call)?;
        let declared = call
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit.saturating_add(crate::multipart::ENVELOPE_BYTES)) {
            return Err(ApiError::Core(Error::TooLarge { max_bytes: limit }));
        }
        let content_type = call
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let multipart = content_type.is_some_and(|c| {
            c.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
        let (name, content): (String, ByteStream) = if multipart {
            let upload = crate::multipart::UploadBody::new(content_type, body, limit)?;
            let (_, file) = upload.until_file().await?;
            (file.file_name, file.content)
        } else {
            let name = form_urlencoded::parse(call.query.unwrap_or_default().as_bytes())
                .find(|(k, _)| k == "name")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let stream = body.into_data_stream().map_err(|e| {
                tracing::debug!(error = %e, "a document body stopped arriving");
                Error::invalid(
                    "file",
                    "did not arrive whole: the connection dropped. Nothing was saved",
                )
            });
            (name, Box::pin(stream))
        };
        if name.trim().is_empty() {
            return Err(super::input::invalid(
                "name",
                "is required: the document's file name (?name=… with a raw body, or the multipart part's filename)",
            ));
        }
        if route.op == Op::AttachFile {
            let a = self
                .service()
                .attach_file(&call.staff, p.id, t, &name, content)
                .await?;
            let location = self.api_path(&format!("/portals/{}/attachments/{}", p.id, a.id));
            return Ok(ApiReply::created(attachment(&a), Some(location)));
        }
        let doc = self
            .service()
            .attach_signature_document(&call.staff, p.id, t, &name, content)
            .await?;
        Ok(ApiReply::ok(signature_document(&doc)))
    }
}

/// A dropped file as the API shows it: never its content or key; `state` as the rules
/// see it at `now` (expired from `expires_at` on, before the sweep too).
pub(crate) fn dropped_file(f: &DroppedFile, now: chrono::DateTime<chrono::Utc>) -> Value {
    let state = if f.deleted.is_some() {
        "deleted"
    } else if f.available(now) {
        "available"
    } else {
        "expired"
    };
    let rfc =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "id": f.id.to_string(),
        "task_id": f.task_id.to_string(),
        "name": f.name,
        "size": f.size,
        "sha256": hex(&f.sha256),
        "uploaded_by": super::views::actor(&f.uploaded_by),
        "uploaded_at": rfc(f.uploaded_at),
        "expires_at": rfc(f.expires_at),
        "state": state,
        "downloaded_by": f.downloaded.as_ref().map(|d| super::views::actor(&d.by)),
        "downloaded_at": f.downloaded.as_ref().map(|d| rfc(d.at)),
    })
}
