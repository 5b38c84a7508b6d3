//! A minimal HTTP/1.1 client that keeps cookies like a browser, for journey tests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A response as a test looks at it.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The body's bytes as they came (downloads).
    pub raw: Bytes,
}

impl Page {
    /// The header's value, or "".
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
    /// All `Set-Cookie` values.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
    /// The body with HTML's character references for quotes undone, for matching
    /// human text such as "isn't" (askama escapes `'` as `&#39;`).
    pub fn text(&self) -> String {
        self.body.replace("&#39;", "'").replace("&quot;", "\"")
    }
    /// The nonce of the response's `Content-Security-Policy` header.
    pub fn csp_nonce(&self) -> String {
        self.header("content-security-policy")
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_default()
            .to_owned()
    }
    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no csrf field in:\n{}", self.body))
            + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

/// Keeps cookies across requests to one server (or, [`Browser::alternating`], to the
/// nodes of a cluster in turn).
pub struct Browser {
    addrs: Vec<SocketAddr>,
    /// Requests sent, to pick the next node.
    sent: std::sync::atomic::AtomicUsize,
    client: Client<HttpConnector, Full<Bytes>>,
    cookies: Mutex<BTreeMap<String, String>>,
    pub user_agent: String,
    /// The `Accept-Language` header sent with every request, if any.
    pub accept_language: Option<String>,
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Self {
        Self::with_connector(addr, HttpConnector::new())
    }

    /// A browser whose connections come from `local` (e.g. 127.0.0.2: Linux routes
    /// all of 127/8 to the loopback interface), so a test can be two clients on two
    /// networks as far as the server's per-network limits can tell.
    pub fn from_ip(addr: SocketAddr, local: std::net::IpAddr) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_local_address(Some(local));
        Self::with_connector(addr, connector)
    }

    /// A browser whose requests go to each of `addrs` in turn (one keep-alive
    /// connection per node), from `local` like [`Browser::from_ip`]: a client behind a
    /// load balancer that spreads every request over the cluster's nodes.
    pub fn alternating(addrs: &[SocketAddr], local: std::net::IpAddr) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_local_address(Some(local));
        let mut browser = Self::with_connector(addrs[0], connector);
        browser.addrs = addrs.to_vec();
        browser
    }

    fn with_connector(addr: SocketAddr, connector: HttpConnector) -> Self {
        Self {
            addrs: vec![addr],
            sent: std::sync::atomic::AtomicUsize::new(0),
            client: Client::builder(TokioExecutor::new()).build(connector),
            cookies: Mutex::new(BTreeMap::new()),
            user_agent: "journey-test/1.0".to_owned(),
            accept_language: None,
        }
    }

    /// The `Cookie` header this browser sends (for requests written by hand).
    pub fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The value of a cookie in the jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    /// Puts a cookie in the jar by hand.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }

    /// Sends a request; stores cookies it sets (an empty value or Max-Age=0 deletes).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Page {
        self.send_with(method, path, content_type, &[], body).await
    }

    /// [`Browser::send`] with extra request headers (`Origin`, `Sec-Fetch-Site`, ...).
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Page {
        let cookie_header = self.cookie_header();
        let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let addr = self.addrs[n % self.addrs.len()];
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .header("user-agent", &self.user_agent);
        if !cookie_header.is_empty() {
            req = req.header("cookie", cookie_header);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(lang) = &self.accept_language {
            req = req.header("accept-language", lang.as_str());
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = self
            .client
            .request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let raw = res.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&raw).into_owned();
        let page = Page {
            status,
            headers,
            body,
            raw,
        };
        let mut jar = self.cookies.lock().unwrap();
        for c in page.set_cookies() {
            let first = c.split(';').next().unwrap();
            let (name, value) = first.split_once('=').unwrap();
            if value.is_empty() || c.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(Method::GET, path, None, Vec::new()).await
    }

    /// Posts an urlencoded form.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_encode(fields);
        self.send(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
        )
        .await
    }
}

impl Browser {
    /// Posts an urlencoded form with extra request headers.
    pub async fn post_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        self.send_with(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            headers,
            form_encode(fields).into_bytes(),
        )
        .await
    }
}

fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
