//! The HTTP transport of signed webhooks: one POST per attempt over a fresh
//! connection, with the SSRF guard in front of the connection.
//!
//! The guard resolves the URL's host once, keeps only the addresses
//! [`AddressClass::allowed`] accepts (public ones; private and loopback too when the
//! host sets `allow_private_targets`; metadata services and reserved ranges never),
//! and connects to exactly the address it checked: there is no second lookup a
//! rebinding DNS server could answer differently. TLS (rustls, ring, Mozilla's roots
//! from `webpki-roots`) verifies the certificate for the URL's host name. The whole
//! attempt (lookup, connect, TLS, request, the first bytes of the answer) is bounded
//! by one timeout, and at most [`RESPONSE_EXCERPT_LEN`] bytes of the answer are read.
//! Redirects are not followed (a 3xx is a failed attempt).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use portal_core::webhooks::{
    AddressClass, OutgoingWebhook, RESPONSE_EXCERPT_LEN, TransportAnswer, WebhookTransport,
};
use portal_core::{Error, Result};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, pki_types::ServerName};

/// The default bound on one attempt.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends webhooks over HTTP/1.1 with the SSRF guard (see the module's docs).
#[derive(Clone)]
pub struct HttpWebhookTransport {
    allow_private_targets: bool,
    timeout: Duration,
    tls: TlsConnector,
}

impl std::fmt::Debug for HttpWebhookTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpWebhookTransport")
            .field("allow_private_targets", &self.allow_private_targets)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpWebhookTransport {
    /// A transport that refuses private, loopback, link-local and unique-local targets
    /// unless `allow_private_targets` (tests, demos, a receiver on the same network).
    pub fn new(allow_private_targets: bool) -> Result<Self> {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::storage("setting up TLS for webhooks", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            allow_private_targets,
            timeout: WEBHOOK_TIMEOUT,
            tls: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Replaces the bound on one attempt (default [`WEBHOOK_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The address to connect to: the first one `host:port` resolves to that the
    /// guard allows; an error naming why when none is.
    pub async fn checked_address(&self, host: &str, port: u16) -> Result<SocketAddr> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| Error::storage("resolving the webhook receiver's host", e))?
            .collect();
        let mut refused = None;
        for a in &addrs {
            let class = AddressClass::of(a.ip());
            if class.allowed(self.allow_private_targets) {
                return Ok(*a);
            }
            refused.get_or_insert(class);
        }
        Err(Error::invalid(
            "url",
            match refused {
                Some(class) => format!(
                    "the receiver's host resolves to a {class:?} address, where webhooks are not sent"
                ),
                None => "the receiver's host does not resolve".to_owned(),
            },
        ))
    }

    async fn exchange(&self, request: &OutgoingWebhook) -> Result<TransportAnswer> {
        let url = url::Url::parse(&request.url).map_err(|_| Error::invalid("url", "not a URL"))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(Error::invalid("url", "must be http or https")),
        };
        let host = url
            .host_str()
            .ok_or_else(|| Error::invalid("url", "must name a host"))?
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let addr = self.checked_address(&host, port).await?;
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| Error::storage("connecting to the webhook receiver", e))?;
        let _ = tcp.set_nodelay(true);
        let mut path = url.path().to_owned();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        let authority = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let req = http::Request::post(path)
            .header(http::header::HOST, authority)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, "portal-webhooks/1")
            .header("webhook-id", &request.msg_id)
            .header("webhook-timestamp", request.timestamp.to_string())
            .header("webhook-signature", &request.signature)
            .body(Full::new(Bytes::from(request.body.clone())))
            .map_err(|e| Error::storage("building a webhook request", e))?;
        if https {
            let name = ServerName::try_from(host)
                .map_err(|_| Error::invalid("url", "not a valid TLS server name"))?;
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| Error::storage("TLS with the webhook receiver", e))?;
            send(TokioIo::new(tls), req).await
        } else {
            send(TokioIo::new(tcp), req).await
        }
    }
}

async fn send<T>(io: T, req: http::Request<Full<Bytes>>) -> Result<TransportAnswer>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| Error::storage("an HTTP handshake with the webhook receiver", e))?;
    let driver = tokio::spawn(conn);
    let result = async {
        let response = sender
            .send_request(req)
            .await
            .map_err(|e| Error::storage("sending a webhook", e))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut read = Vec::new();
        while read.len() < RESPONSE_EXCERPT_LEN {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        read.extend_from_slice(data);
                    }
                }
                // A broken body after the status: the status is the answer.
                Some(Err(_)) | None => break,
            }
        }
        read.truncate(RESPONSE_EXCERPT_LEN);
        Ok(TransportAnswer {
            status,
            excerpt: String::from_utf8_lossy(&read).into_owned(),
        })
    }
    .await;
    driver.abort();
    result
}

#[async_trait]
impl WebhookTransport for HttpWebhookTransport {
    async fn post(&self, request: &OutgoingWebhook) -> Result<TransportAnswer> {
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(Error::storage_msg(format!(
                "the webhook receiver did not answer within {} s",
                self.timeout.as_secs()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loopback_is_refused_unless_allowed() {
        let strict = HttpWebhookTransport::new(false).unwrap();
        let err = strict.checked_address("127.0.0.1", 80).await.unwrap_err();
        assert!(err.to_string().contains("Loopback"), "{err}");
        assert!(strict.checked_address("localhost", 80).await.is_err());
        assert!(strict.checked_address("169.254.169.254", 80).await.is_err());
        let lax = HttpWebhookTransport::new(true).unwrap();
        assert_eq!(
            lax.checked_address("127.0.0.1", 80).await.unwrap(),
            "127.0.0.1:80".parse().unwrap()
        );
        assert!(
            lax.checked_address("169.254.169.254", 80).await.is_err(),
            "metadata is refused even when private targets are allowed"
        );
    }

    #[tokio::test]
    async fn a_refused_target_is_never_connected_to() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let strict = HttpWebhookTransport::new(false).unwrap();
        let req = OutgoingWebhook {
            url: format!("http://127.0.0.1:{port}/hook"),
            msg_id: "msg_1".into(),
            timestamp: 1,
            signature: "v1,x".into(),
            body: "{}".into(),
        };
        assert!(strict.post(&req).await.is_err());
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(
            accepted.is_err(),
            "the guard connected to a loopback address"
        );
    }
}
