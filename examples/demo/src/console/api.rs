//! The console's client of the admin JSON API, called in process: each call builds an
//! `http::Request` with `Authorization: Bearer <key>` and hands it to the app's
//! [`PortalApp::handle`], exactly as a vendor's own UI would over the network. The
//! console never calls `PortalService` itself, which is what proves the API is enough.

use std::net::{Ipv4Addr, SocketAddr};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use portal_http::{Body, PortalApp};
use serde_json::Value;

use super::session::ApiKey;

/// The address in-process calls come from (the console itself, on loopback).
const SELF: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// An answer of the API that is not a success: its problem document, read into what
/// the console shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// The problem's title and detail, in words for the staff member.
    pub message: String,
    /// Validation errors: `(field, what to fix)`, shown next to the field.
    pub fields: Vec<(String, String)>,
}

impl Problem {
    fn from_answer(status: StatusCode, body: &[u8]) -> Self {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let text = |name: &str| v.get(name).and_then(Value::as_str).unwrap_or_default();
        let fields = v
            .get("errors")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|e| {
                        let f = |n: &str| e.get(n).and_then(Value::as_str).unwrap_or_default();
                        (f("field").to_owned(), f("detail").to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let message = match status.as_u16() {
            401 => "Your API key is not valid any more: sign in again.".to_owned(),
            403 => format!(
                "Only an admin may do that; you are signed in with a member key. ({})",
                text("detail")
            ),
            404 => "That no longer exists (or belongs to another MSP).".to_owned(),
            412 | 428 => "Someone else changed this meanwhile: the page now shows their \
                          version. Make your change again."
                .to_owned(),
            _ if text("detail").is_empty() => format!("The request failed ({status})."),
            _ => text("detail").to_owned(),
        };
        Self {
            status: status.as_u16(),
            message,
            fields,
        }
    }

    /// A problem the console itself found (before calling the API).
    pub fn local(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
            fields: Vec::new(),
        }
    }
}

/// A successful JSON answer and its `ETag`.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The JSON body (`null` when there is none).
    pub json: Value,
    /// The resource version to send back as `If-Match`.
    pub etag: Option<String>,
}

/// The admin API of one app, with the prefix it is mounted under.
#[derive(Debug, Clone)]
pub struct Api {
    app: PortalApp,
    prefix: String,
}

impl Api {
    /// Calls `app`'s admin API (mounted at its configured prefix).
    pub fn new(app: PortalApp) -> Self {
        let prefix = app.config().admin_prefix.trim_end_matches('/').to_owned();
        Self { app, prefix }
    }

    /// The raw answer to one request (a download is passed on as it is).
    pub async fn send(
        &self,
        key: &ApiKey,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Response<Body> {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.prefix))
            .header(AUTHORIZATION, format!("Bearer {}", key.expose()));
        if let Some(tag) = if_match {
            builder = builder.header(IF_MATCH, tag);
        }
        let bytes = match body {
            Some(v) => {
                builder = builder.header(CONTENT_TYPE, "application/json");
                Bytes::from(v.to_string())
            }
            None => Bytes::new(),
        };
        match builder.body(Full::new(bytes)) {
            // Boxed: the app's request future is large (every client page's state);
            // on the heap it does not add to the console's own future.
            Ok(request) => Box::pin(self.app.handle(request, SELF)).await,
            Err(_) => portal_http::Reply::text(StatusCode::BAD_REQUEST, "bad request")
                .finish("default-src 'none'"),
        }
    }

    /// One JSON call: the answer, or the problem.
    pub async fn call(
        &self,
        key: &ApiKey,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Answer, Problem> {
        let response = self.send(key, method, path, body, if_match).await;
        let status = response.status();
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .map_err(|_| Problem::local("The answer could not be read."))?;
        if !status.is_success() {
            return Err(Problem::from_answer(status, &bytes));
        }
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|_| Problem::local("The answer was not JSON."))?
        };
        Ok(Answer { json, etag })
    }

    /// `method path` with a file as the raw body (`PUT` for a route that replaces one,
    /// `POST` for one that adds one): the JSON answer, or the problem.
    pub async fn send_file(
        &self,
        key: &ApiKey,
        method: Method,
        path: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<Answer, Problem> {
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.prefix))
            .header(AUTHORIZATION, format!("Bearer {}", key.expose()))
            .header(CONTENT_TYPE, content_type)
            .body(Full::new(bytes))
            .map_err(|_| Problem::local("The file could not be sent."))?;
        let response = Box::pin(self.app.handle(request, SELF)).await;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .map_err(|_| Problem::local("The answer could not be read."))?;
        if !status.is_success() {
            return Err(Problem::from_answer(status, &body));
        }
        let json = serde_json::from_slice(&body)
            .map_err(|_| Problem::local("The answer was not JSON."))?;
        Ok(Answer { json, etag: None })
    }

    /// `GET path`.
    pub async fn get(&self, key: &ApiKey, path: &str) -> Result<Answer, Problem> {
        self.call(key, Method::GET, path, None, None).await
    }

    /// Every item of a paged list, following `next_cursor` up to `max` items.
    pub async fn list(&self, key: &ApiKey, path: &str, max: usize) -> Result<Vec<Value>, Problem> {
        let mut items = Vec::new();
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next = format!("{path}{sep}limit=100");
        loop {
            let page = self.get(key, &next).await?.json;
            if let Some(list) = page.get("items").and_then(Value::as_array) {
                items.extend(list.iter().cloned());
            }
            match page.get("next_cursor").and_then(Value::as_str) {
                Some(c) if items.len() < max => next = format!("{path}{sep}limit=100&cursor={c}"),
                _ => break,
            }
        }
        items.truncate(max);
        Ok(items)
    }

    /// One page of a list: its items and the cursor of the next page.
    pub async fn page(
        &self,
        key: &ApiKey,
        path: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<(Vec<Value>, Option<String>), Problem> {
        let mut url = format!("{path}?limit={limit}");
        if let Some(c) = cursor {
            url.push_str("&cursor=");
            url.push_str(&percent(c));
        }
        let page = self.get(key, &url).await?.json;
        let items = page
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let next = page
            .get("next_cursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok((items, next))
    }
}

/// Percent-encodes a query value (cursors are URL-safe base64, but a hand-edited one
/// may not be).
pub fn percent(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
