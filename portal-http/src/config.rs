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
    /// Absolute path the admin JSON API is mounted under (`/api/v1` by default), when
    /// the app has a [`StaffAuth`](crate::StaffAuth) (see
    /// [`PortalApp::with_staff_auth`](crate::PortalApp::with_staff_auth)). Matched
    /// before the client pages, so it must not be a client page's path.
    pub admin_prefix: String,
    /// `true` (the default) marks cookies `Secure` and gives them the `__Host-` prefix.
    /// Set `false` only for a plain-http localhost demo: browsers drop `Secure` cookies
    /// over plain http on other hosts.
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` is believed. Empty (the default): the socket
    /// address is the client, and the header is ignored, so a client cannot pick the
    /// address its per-network limits and access log are counted against. Behind a
    /// reverse proxy, list it here, or every client shares the proxy's limits.
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
    /// Verifications (posts of an invite page, each of which emails a code) one client
    /// network may start per sliding hour, across all contacts and portals (30). A
    /// network is an IPv4 address or an IPv6 /64, after
    /// [`trusted_proxies`](Self::trusted_proxies). A person starts one to three per
    /// sign-in, so a whole office of ten behind one NAT signing in at once stays under
    /// it; someone holding many contacts' invites is held to 30 code emails an hour.
    /// Counted in this process's memory, so per node (see `ip_limit`).
    pub verification_starts_per_ip_per_hour: u32,
    /// Codes (right or wrong) one client network may submit per sliding hour, across
    /// all contacts and portals (60). Ten people behind one NAT each mistyping their
    /// code four times and then getting it right is 50; a guesser spreading guesses
    /// over many contacts (each capped at 20 wrong codes a day by the core) gets 60 an
    /// hour instead of 20 per contact. Counted per node, like the starts.
    pub code_entries_per_ip_per_hour: u32,
    /// Client networks each per-network limit tracks at most (10,000): a flood of
    /// addresses cannot grow memory beyond about 10,000 × the limit's timestamps;
    /// past it, ended windows and then the least recently seen networks are forgotten.
    pub ip_limit_max_tracked: usize,
    /// How long a new connection may stay silent before the server has the first bytes
    /// it needs to tell HTTP/1.1 from HTTP/2 (the 24-byte HTTP/2 preface, or any byte
    /// that rules it out). A socket that sends nothing is closed after this, so silent
    /// sockets cannot pile up and exhaust file descriptors.
    pub first_byte_timeout: Duration,
    /// How long a connection may go with no request in flight before it is closed: an
    /// idle HTTP/2 connection, or one that sent only the preface, would otherwise stay
    /// open forever. (HTTP/1.1 keep-alive idling is also bounded by
    /// [`header_read_timeout`](Self::header_read_timeout), which runs while hyper waits
    /// for the next request head.)
    pub idle_timeout: Duration,
    /// How long the whole body of one request may take to arrive, from when its headers
    /// were read. A body trickled in more slowly is cut off (the request fails with
    /// 400), so one byte a second cannot hold a connection and a handler for minutes.
    pub body_timeout: Duration,
    /// Uploads have no [`body_timeout`](Self::body_timeout): a 2 GiB file on a slow
    /// line takes hours. Instead each upload body must bring at least
    /// `upload_min_rate` bytes a second, measured over every `upload_rate_window`
    /// (by default 1 KiB/s over 30 s: 30 KiB per window, far below any real line), or
    /// it is cut off and nothing is stored. A client that sends a byte now and then
    /// cannot hold a connection; how large an upload may be is the requested
    /// document's own limit, enforced while streaming.
    pub upload_rate_window: Duration,
    /// Bytes a second an upload must average over each
    /// [`upload_rate_window`](Self::upload_rate_window).
    pub upload_min_rate: u64,
    /// Interval of HTTP/2 PINGs, so a peer that vanished without closing its socket is
    /// noticed even while a request is in flight.
    pub http2_keep_alive_interval: Duration,
    /// How long an HTTP/2 PING may go unanswered before the connection is closed.
    pub http2_keep_alive_timeout: Duration,
    /// Most connections open at once (at least 1). Beyond it the server stops accepting
    /// (new connections wait in the kernel's backlog) until one closes, so the process
    /// stays below its open-file limit and keeps serving the clients it has. Keep it well
    /// under `ulimit -n`.
    pub max_connections: usize,
    /// `max-age` of the `Strict-Transport-Security` header, sent on every response
    /// whenever [`secure_cookies`](Self::secure_cookies) is on (a deployment with secure
    /// cookies is served over https, and HSTS stops a first plain-http request from
    /// being intercepted). Rounded down to whole seconds.
    pub hsts_max_age: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            public_base_url: "http://localhost:8080".to_owned(),
            mount_prefix: String::new(),
            admin_prefix: "/api/v1".to_owned(),
            secure_cookies: true,
            trusted_proxies: Vec::new(),
            frame_ancestors: "'none'".to_owned(),
            header_read_timeout: Duration::from_secs(10),
            max_form_bytes: 64 * 1024,
            client_writes_per_minute: 20,
            verification_starts_per_ip_per_hour: 30,
            code_entries_per_ip_per_hour: 60,
            ip_limit_max_tracked: 10_000,
            first_byte_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            upload_rate_window: Duration::from_secs(30),
            upload_min_rate: 1024,
            http2_keep_alive_interval: Duration::from_secs(20),
            http2_keep_alive_timeout: Duration::from_secs(10),
            max_connections: 1024,
            hsts_max_age: Duration::from_secs(365 * 24 * 60 * 60),
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
    fn task_url(&self, task: portal_core::TaskId) -> String {
        format!("{}/tasks/{task}", self.base)
    }
    fn snooze_url(&self, token: &str) -> String {
        format!("{}/r/snooze/{token}", self.base)
    }
    fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}/r/unsubscribe/{token}", self.base)
    }
}
