//! A demo-only stand-in for the MSP's side of document reviews, until the admin API
//! exists: with `--staff-port PORT`, a second listener on 127.0.0.1 lets a script
//! review uploads as the demo's staff member. It lives in the demo's own process
//! because the SQLite store caches each portal's home for the process that writes it:
//! a review written by another process would not show until the demo restarts.
//!
//! Every request needs `Authorization: Bearer <token>`; the token is new at every
//! start and written to `staff-token` in the data folder (owner-only), so only someone
//! who can read the demo's data can act as its MSP. The browser test uses it.
//!
//! - `GET /review-queue`: uploads waiting for review, oldest first:
//!   `[{"file", "portal", "task", "document", "name", "reviewable"}]`.
//! - `POST /review` with `{"file": id, "verdict": "approve" | "reject", "notes": text}`:
//!   reviews that file as the demo's staff member (a rejection needs notes and emails
//!   the client, into the outbox). Answers `{"file", "review"}`, or `{"error"}`.

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use portal_core::ids::{FileId, TenantId};
use portal_core::workflow::documents::Verdict;
use portal_core::{Error, PortalService, RandomSource};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The largest request body read.
const MAX_BODY: usize = 16 * 1024;

/// A new token, written owner-only to `path` (replacing the previous run's).
pub fn new_token(path: &Path, random: &dyn RandomSource) -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    random.fill(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let _ = std::fs::remove_file(path);
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(token.as_bytes())?;
    }
    #[cfg(not(unix))]
    std::fs::write(path, &token)?;
    Ok(token)
}

/// Serves the console on `listener` for `tenant` until the process ends.
pub async fn serve(listener: TcpListener, service: PortalService, tenant: TenantId, token: String) {
    let token = Arc::new(token);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("staff console: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (service, token) = (service.clone(), Arc::clone(&token));
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let (service, token) = (service.clone(), Arc::clone(&token));
                async move { Ok::<_, Infallible>(handle(req, &service, tenant, &token).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn answer(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body.to_string())));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    res
}

fn refused(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    answer(status, &json!({ "error": message }))
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn handle(
    req: Request<Incoming>,
    service: &PortalService,
    tenant: TenantId,
    token: &str,
) -> Response<Full<Bytes>> {
    let presented = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same(presented.as_bytes(), token.as_bytes()) {
        return refused(
            StatusCode::UNAUTHORIZED,
            "the staff token is missing or wrong",
        );
    }
    match (req.method().clone(), req.uri().path()) {
        (Method::GET, "/review-queue") => queue(service, tenant).await,
        (Method::POST, "/review") => {
            let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => return refused(StatusCode::BAD_REQUEST, "the body could not be read"),
            };
            match serde_json::from_slice::<Value>(&body) {
                Ok(request) => review(service, tenant, &request).await,
                Err(_) => refused(StatusCode::BAD_REQUEST, "the body is not JSON"),
            }
        }
        _ => refused(StatusCode::NOT_FOUND, "no such address"),
    }
}

async fn queue(service: &PortalService, tenant: TenantId) -> Response<Full<Bytes>> {
    let listed = match crate::seed::staff(tenant) {
        Ok(staff) => service.review_queue(&staff, 1000).await,
        Err(e) => Err(e),
    };
    match listed {
        Ok(items) => answer(
            StatusCode::OK,
            &Value::Array(
                items
                    .iter()
                    .map(|i| {
                        json!({
                            "file": i.file.id.to_string(),
                            "portal": i.file.portal_id.to_string(),
                            "task": i.task_title,
                            "document": i.document_name,
                            "name": i.file.name,
                            "reviewable": i.reviewable,
                        })
                    })
                    .collect(),
            ),
        ),
        Err(e) => refused(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn review(
    service: &PortalService,
    tenant: TenantId,
    request: &Value,
) -> Response<Full<Bytes>> {
    let Some(file) = request
        .get("file")
        .and_then(Value::as_str)
        .and_then(|f| f.parse::<FileId>().ok())
    else {
        return refused(StatusCode::BAD_REQUEST, "\"file\" must be a file id");
    };
    let notes = request
        .get("notes")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let verdict = match request.get("verdict").and_then(Value::as_str) {
        Some("approve") => Verdict::Approve { notes },
        Some("reject") => Verdict::Reject {
            notes: notes.unwrap_or_default(),
        },
        _ => {
            return refused(
                StatusCode::BAD_REQUEST,
                "\"verdict\" must be approve or reject",
            );
        }
    };
    // The queue says which portal the file is in (and that it is this MSP's).
    let staff = match crate::seed::staff(tenant) {
        Ok(staff) => staff,
        Err(e) => return refused(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let portal = match service.review_queue(&staff, 1000).await {
        Ok(items) => items
            .into_iter()
            .find(|i| i.file.id == file)
            .map(|i| i.file.portal_id),
        Err(e) => return refused(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let Some(portal) = portal else {
        return refused(
            StatusCode::NOT_FOUND,
            "no file with this id is waiting for review",
        );
    };
    let result = service.review_document(&staff, portal, file, verdict).await;
    match result {
        Ok(reviewed) => answer(
            StatusCode::OK,
            &json!({ "file": reviewed.id.to_string(), "review": reviewed.review.as_str() }),
        ),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            refused(StatusCode::CONFLICT, &e.to_string())
        }
        Err(e) => refused(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}
