//! How a host configures the portal's HTTP side, and the links it puts in emails.

use std::net::IpAddr;
use std::time::Duration;

use portal_core::LinkBuilder;
use portal_core::secret::{InviteToken, MagicToken};

/// Settings of the HTTP host.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Public address the portal is reached at, without trailing slash and without the
    /// mount prefix, e.g. `https://portal.example-msp.com`. Used for links in emails.
    pub public_base_url: String,
    /// Path prefix the portal is mounted under (`""` for the root, or e.g. `"/portal"`).
    pub mount_prefix: String,
    /// `true` (the default) marks cookies `Secure` and gives them the `__Host-` prefix.
    /// Set `false` only for a plain-http localhost demo: browsers drop `Secure` cookies
    /// over plain http on other hosts.
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` is believed. Empty: the socket address is the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// The CSP `frame-ancestors` value: who may frame the portal (`'none'` by default;
    /// a vendor embedding the portal in its own app sets its origin here).
    pub frame_ancestors: String,
    /// How long a client may take to send request headers (slowloris guard).
    pub header_read_timeout: Duration,
    /// Largest accepted form body (enforced while reading the stream).
    pub max_form_bytes: usize,
    /// Writes (comments, questions, task actions) one signed-in session may post per
    /// minute (20): far above a person's pace, far below a script's. Counted in this
    /// process's memory, so per node (see `throttle`).
    pub client_writes_per_minute: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            public_base_url: "http://localhost:8080".to_owned(),
            mount_prefix: String::new(),
            secure_cookies: true,
            trusted_proxies: Vec::new(),
            frame_ancestors: "'none'".to_owned(),
            header_read_timeout: Duration::from_secs(10),
            max_form_bytes: 64 * 1024,
            client_writes_per_minute: 20,
        }
    }
}

impl HttpConfig {
    /// The mount prefix normalised: empty, or starting with `/` and not ending with one.
    pub fn prefix(&self) -> &str {
        self.mount_prefix.trim_end_matches('/')
    }

    /// An absolute path under the mount prefix (`path` starts with `/`).
    pub fn path(&self, path: &str) -> String {
        format!("{}{}", self.prefix(), path)
    }

    /// The [`LinkBuilder`] for emails, matching this host's routes.
    pub fn links(&self) -> HttpLinks {
        HttpLinks {
            base: format!(
                "{}{}",
                self.public_base_url.trim_end_matches('/'),
                self.prefix()
            ),
        }
    }
}

/// Builds invite and magic links for the routes of [`crate::PortalApp`].
#[derive(Debug, Clone)]
pub struct HttpLinks {
    base: String,
}

impl LinkBuilder for HttpLinks {
    fn invite_url(&self, token: &InviteToken) -> String {
        format!("{}/i/{}", self.base, token.expose_secret())
    }
    fn magic_link_url(&self, token: &MagicToken) -> String {
        format!("{}/m/{}", self.base, token.expose_secret())
    }
}
