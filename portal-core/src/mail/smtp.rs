//! The SMTP mailer: lettre's async SMTP transport over Tokio, TLS by rustls (ring),
//! with a connection pool, optional AUTH and a bound on every delivery attempt.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use zeroize::Zeroizing;

use super::message::build_message;
use super::{ActingFor, Email, Mailer};
use crate::error::{Error, Result};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SmtpSecurity {
    /// Plain text, no TLS: only for a relay on the same machine or a test server.
    /// Credentials would travel in clear, so prefer the other two.
    None,
    /// Connect in plain text, then upgrade with `STARTTLS` (submission port 587).
    /// The upgrade is required: a server that does not offer it is an error, never a
    /// silent fallback to plain text.
    #[default]
    StartTls,
    /// TLS from the first byte ("implicit TLS", submissions port 465; RFC 8314
    /// prefers it).
    Tls,
}

impl SmtpSecurity {
    /// `none`, `starttls` or `tls`: the words configuration files and logs use.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::StartTls => "starttls",
            Self::Tls => "tls",
        }
    }

    /// The usual port for this mode: 25, 587 or 465.
    pub const fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// A user name and password for SMTP AUTH (PLAIN or LOGIN, whichever the server
/// offers). The password is wiped from memory on drop and `Debug` never prints it,
/// so a config logged by mistake leaks nothing.
#[derive(Clone)]
pub struct SmtpCredentials {
    user: String,
    password: Zeroizing<String>,
}

impl SmtpCredentials {
    /// Credentials for `user`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: Zeroizing::new(password.into()),
        }
    }

    /// The user name (not secret; shown in `Debug`).
    pub fn user(&self) -> &str {
        &self.user
    }
}

impl fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Where and how [`SmtpMailer`] delivers. Start from [`SmtpConfig::new`] and set the
/// fields that differ; `#[non_exhaustive]` so later options do not break hosts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SmtpConfig {
    /// The server's host name. With TLS it must match the server's certificate.
    pub host: String,
    /// The server's port (see [`SmtpSecurity::default_port`]).
    pub port: u16,
    /// Plain, STARTTLS or implicit TLS.
    pub security: SmtpSecurity,
    /// AUTH credentials, if the server wants them.
    pub credentials: Option<SmtpCredentials>,
    /// The sender, `Name <address>` or a bare address. Each MSP may send as itself.
    pub from: String,
    /// The bound on one delivery attempt as a whole (connecting, TLS, AUTH and the
    /// message), so a dead or stalled server fails a send instead of hanging the
    /// request that triggered it.
    pub timeout: Duration,
    /// Extra trusted root certificates (PEM, one or more), added to the bundled
    /// Mozilla roots: for a relay with a private CA, and for tests.
    pub extra_root_pem: Option<Vec<u8>>,
    /// The name given in `EHLO` (default: this machine's host name). Some relays
    /// want a fully qualified name.
    pub hello_name: Option<String>,
    /// At most this many open connections are kept for reuse (lettre's pool), so a
    /// burst of emails does not open one connection each.
    pub max_connections: u32,
}

impl SmtpConfig {
    /// `host` on the submission port with required STARTTLS, no credentials, a
    /// 30-second timeout and up to 4 pooled connections.
    pub fn new(host: impl Into<String>, from: impl Into<String>) -> Self {
        let security = SmtpSecurity::default();
        Self {
            host: host.into(),
            port: security.default_port(),
            security,
            credentials: None,
            from: from.into(),
            timeout: Duration::from_secs(30),
            extra_root_pem: None,
            hello_name: None,
            max_connections: 4,
        }
    }
}

/// Sends every email through an SMTP server.
///
/// Failures are `Error::Mail` whose message starts with `permanent:` when the server
/// refused for good (a 5xx reply, e.g. an unknown recipient or failed authentication:
/// retrying the same message will not help) or `transient:` when trying again later
/// may succeed (a 4xx reply, a connection, TLS or timeout failure). Authentication
/// failures say `authentication failed`.
///
/// Needs a Tokio runtime: [`SmtpMailer::new`] starts the pool's clean-up task on it.
///
/// ```no_run
/// use std::sync::Arc;
/// use portal_core::mail::{SmtpConfig, SmtpCredentials, SmtpMailer, SmtpSecurity};
///
/// # async fn mailer() -> portal_core::Result<Arc<dyn portal_core::Mailer>> {
/// let mut smtp = SmtpConfig::new("smtp.example-msp.com", "Example MSP <onboarding@example-msp.com>");
/// smtp.security = SmtpSecurity::Tls;
/// smtp.port = smtp.security.default_port(); // 465
/// smtp.credentials = Some(SmtpCredentials::new("portal", "app-password"));
/// Ok(Arc::new(SmtpMailer::new(smtp)?))
/// # }
/// ```
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
    timeout: Duration,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from.email)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `config`. Nothing is connected yet: the first send connects.
    ///
    /// Errors: `Error::Invalid` for a bad sender, certificate or host name, and when
    /// called outside a Tokio runtime.
    pub fn new(config: SmtpConfig) -> Result<Self> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::invalid(
                "runtime",
                "the SMTP mailer must be created inside a Tokio runtime",
            ));
        }
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| Error::invalid("from", format!("{e}")))?;
        if config.host.is_empty() {
            return Err(Error::invalid("host", "the SMTP host is empty"));
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(config.timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(config.max_connections.max(1))
                    .idle_timeout(Duration::from_secs(60)),
            );
        if config.security != SmtpSecurity::None {
            let mut tls = TlsParameters::builder(config.host.clone());
            if let Some(pem) = &config.extra_root_pem {
                let cert = Certificate::from_pem(pem)
                    .map_err(|e| Error::invalid("extra_root_pem", format!("{e}")))?;
                tls = tls.add_root_certificate(cert);
            }
            let tls = tls
                .build_rustls()
                .map_err(|e| Error::invalid("tls", format!("{e}")))?;
            builder = builder.tls(match config.security {
                SmtpSecurity::Tls => Tls::Wrapper(tls),
                _ => Tls::Required(tls),
            });
        }
        if let Some(name) = &config.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        if let Some(c) = &config.credentials {
            builder = builder
                .credentials(Credentials::new(
                    c.user.clone(),
                    c.password.as_str().to_owned(),
                ))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(Self {
            transport: builder.build(),
            from,
            host: config.host,
            port: config.port,
            timeout: config.timeout,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, _acting: &ActingFor, email: &Email) -> Result<()> {
        let message = build_message(&self.from, email)?;
        let sent = tokio::time::timeout(self.timeout, self.transport.send(message)).await;
        let server = format!("{}:{}", self.host, self.port);
        match sent {
            Ok(Ok(response)) => {
                tracing::info!(
                    server = %server,
                    to = %email.to.masked(),
                    reply = %response.code(),
                    "email handed to the SMTP server"
                );
                Ok(())
            }
            Ok(Err(e)) => Err(Error::Mail {
                message: format!("{} (SMTP server {server})", describe(&e)),
            }),
            Err(_) => Err(Error::Mail {
                message: format!(
                    "transient: no answer within {:?} (SMTP server {server})",
                    self.timeout
                ),
            }),
        }
    }
}

/// The `Error::Mail` message for a lettre SMTP error: `permanent:` or `transient:`
/// first, then what happened in words, then lettre's own text.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let code = e.status().map(u16::from);
    match code {
        // 530 authentication required, 534 mechanism too weak, 535 credentials
        // invalid, 538 encryption required for the mechanism (RFC 4954).
        Some(530 | 534 | 535 | 538) => format!("permanent: authentication failed: {e}"),
        // 454 temporary authentication failure.
        Some(454) => format!("transient: authentication failed for now: {e}"),
        _ if e.is_permanent() => format!("permanent: the server refused: {e}"),
        _ if e.is_transient() => format!("transient: the server deferred: {e}"),
        _ if e.is_timeout() => format!("transient: timed out: {e}"),
        _ if e.is_tls() => format!("transient: TLS failed: {e}"),
        // No common AUTH mechanism, a malformed address, ...: a configuration problem
        // that retrying will not fix.
        _ if e.is_client() && e.to_string().to_lowercase().contains("authentication") => {
            format!("permanent: authentication failed: {e}")
        }
        _ if e.is_client() => format!("permanent: {e}"),
        _ => format!("transient: connection failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let mut config = SmtpConfig::new("smtp.example.com", "Portal <p@example.com>");
        config.credentials = Some(SmtpCredentials::new("portal", "hunter2-secret"));
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("[redacted]"), "{printed}");
        assert!(printed.contains("portal"), "{printed}");
    }

    #[test]
    fn new_outside_a_runtime_is_an_error_not_a_panic() {
        let config = SmtpConfig::new("smtp.example.com", "p@example.com");
        assert!(matches!(
            SmtpMailer::new(config),
            Err(Error::Invalid {
                field: "runtime",
                ..
            })
        ));
    }
}
