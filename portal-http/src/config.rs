//! How a host configures the portal's HTTP side, and the links it puts in emails.

use std::net::IpAddr;
use std::time::Duration;

use portal_core::secret::{InviteToken, MagicToken};
use portal_core::{ActingFor, LinkBuilder};

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
    /// The stem of the portal's cookie names (`portal`): the cookies are
    /// `<stem>_session`, `<stem>_verify` and `<stem>_csrf`, with `__Host-` (mounted at
    /// the root) or `__Secure-` (under a prefix) in front when cookies are secure. Two
    /// portals on one origin under different prefixes stay apart by their `Path`; give
    /// them different stems as well if one is mounted inside the other.
    pub cookie_name: String,
    /// Bytes of memory for portal homes kept as built (see `docs/PERFORMANCE.md`): a
    /// home is built once per client, portal version, tab, language, zone and day,
    /// and served again while the store's home version holds. 0 builds every home.
    /// Only stores that offer home versions (the SQLite store does) use it.
    pub home_cache_bytes: u64,
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
            cookie_name: "portal".to_owned(),
            home_cache_bytes: 32 * 1024 * 1024,
        }
    }
}

impl HttpConfig {
    /// A configuration for the portal at `public_base_url` (for example
    /// `https://portal.example-msp.com`), every other setting at its default;
    /// [`HttpConfigBuilder::build`] checks the whole for missing or contradictory
    /// settings.
    ///
    /// ```
    /// let config = portal_http::HttpConfig::builder("https://portal.example-msp.com")
    ///     .mount_prefix("/portal")
    ///     .build()?;
    /// assert_eq!(config.path("/tasks"), "/portal/tasks");
    ///
    /// // Secure cookies (the default) need https, except on this machine.
    /// let err = portal_http::HttpConfig::builder("http://portal.example-msp.com").build();
    /// assert_eq!(err.map_err(|e| e.setting).err(), Some("public_base_url"));
    /// # Ok::<(), portal_http::ConfigError>(())
    /// ```
    pub fn builder(public_base_url: impl Into<String>) -> HttpConfigBuilder {
        HttpConfigBuilder {
            config: Self {
                public_base_url: public_base_url.into(),
                ..Self::default()
            },
        }
    }

    /// Checks the settings hang together; the first problem found names its setting
    /// and what to change. [`PortalApp::try_new`](crate::PortalApp::try_new) and the
    /// builder call it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::base_url(self)?;
        validate::path_prefix("mount_prefix", &self.mount_prefix, true)?;
        validate::path_prefix("admin_prefix", &self.admin_prefix, false)?;
        if self.admin_prefix.trim_end_matches('/') == self.prefix() {
            return Err(ConfigError::new(
                "admin_prefix",
                "must differ from mount_prefix: the admin API would hide the client pages",
            ));
        }
        validate::frame_ancestors(self)?;
        validate::cookie_name(&self.cookie_name)?;
        for (setting, value) in [
            ("header_read_timeout", self.header_read_timeout),
            ("first_byte_timeout", self.first_byte_timeout),
            ("idle_timeout", self.idle_timeout),
            ("body_timeout", self.body_timeout),
            ("upload_rate_window", self.upload_rate_window),
            ("http2_keep_alive_interval", self.http2_keep_alive_interval),
            ("http2_keep_alive_timeout", self.http2_keep_alive_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::new(setting, "must be longer than zero"));
            }
        }
        for (setting, value) in [
            ("max_connections", self.max_connections as u64),
            ("ip_limit_max_tracked", self.ip_limit_max_tracked as u64),
            (
                "client_writes_per_minute",
                u64::from(self.client_writes_per_minute),
            ),
            (
                "verification_starts_per_ip_per_hour",
                u64::from(self.verification_starts_per_ip_per_hour),
            ),
            (
                "code_entries_per_ip_per_hour",
                u64::from(self.code_entries_per_ip_per_hour),
            ),
            ("upload_min_rate", self.upload_min_rate),
        ] {
            if value == 0 {
                return Err(ConfigError::new(setting, "must be at least 1"));
            }
        }
        if self.max_form_bytes < 1024 {
            return Err(ConfigError::new(
                "max_form_bytes",
                "must be at least 1024: the portal's own forms need that much",
            ));
        }
        Ok(())
    }

    /// Whether another site may frame the portal ([`frame_ancestors`](Self::frame_ancestors)
    /// names something besides `'none'` and `'self'`). Then the cookies are
    /// `SameSite=None; Secure; Partitioned` (CHIPS): a browser sends `Lax` cookies to
    /// no cross-site frame, so the sign-in inside the vendor's app would loop; the
    /// partition keeps them to that one embedding site.
    pub fn framed_by_other_sites(&self) -> bool {
        self.frame_ancestors
            .split_ascii_whitespace()
            .any(|source| source != "'none'" && source != "'self'")
    }

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
            public: self.public_base_url.trim_end_matches('/').to_owned(),
            prefix: self.prefix().to_owned(),
        }
    }
}

/// A setting of [`HttpConfig`] that is missing, malformed or contradicts another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field of [`HttpConfig`] to change.
    pub setting: &'static str,
    /// What is wrong and what to do, for the operator.
    pub problem: String,
}

impl ConfigError {
    fn new(setting: &'static str, problem: impl Into<String>) -> Self {
        Self {
            setting,
            problem: problem.into(),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "portal HTTP setting `{}` {}", self.setting, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// Sets [`HttpConfig`] by name; see [`HttpConfig::builder`]. Settings without a
/// method here are reached through [`with`](Self::with).
#[derive(Debug, Clone)]
#[must_use = "call .build() to get the HttpConfig"]
pub struct HttpConfigBuilder {
    config: HttpConfig,
}

impl HttpConfigBuilder {
    /// Mount the client pages under `prefix` (`"/portal"`; `""` for the root).
    pub fn mount_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.mount_prefix = prefix.into();
        self
    }

    /// Serve the admin JSON API under `prefix` (`/api/v1` by default).
    pub fn admin_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.admin_prefix = prefix.into();
        self
    }

    /// Plain-http cookies without `Secure` or a name prefix: only for a demo on this
    /// machine (`build` refuses it with an https base URL).
    pub fn insecure_cookies_for_localhost(mut self) -> Self {
        self.config.secure_cookies = false;
        self
    }

    /// Believe `X-Forwarded-For` from these reverse proxies.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpAddr>) -> Self {
        self.config.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// The CSP `frame-ancestors` value (`'none'` by default).
    pub fn frame_ancestors(mut self, value: impl Into<String>) -> Self {
        self.config.frame_ancestors = value.into();
        self
    }

    /// The stem of the cookie names (`portal` by default).
    pub fn cookie_name(mut self, stem: impl Into<String>) -> Self {
        self.config.cookie_name = stem.into();
        self
    }

    /// Any other setting: `.with(|c| c.max_connections = 256)`.
    pub fn with(mut self, change: impl FnOnce(&mut HttpConfig)) -> Self {
        change(&mut self.config);
        self
    }

    /// The checked configuration ([`HttpConfig::validate`]).
    pub fn build(self) -> Result<HttpConfig, ConfigError> {
        self.config.validate()?;
        Ok(self.config)
    }
}

/// The checks behind [`HttpConfig::validate`], one per kind of setting.
mod validate {
    use super::{ConfigError, HttpConfig};

    pub(super) fn base_url(config: &HttpConfig) -> Result<(), ConfigError> {
        const SETTING: &str = "public_base_url";
        let raw = config.public_base_url.trim_end_matches('/');
        let uri: http::Uri = raw.parse().map_err(|_| {
            ConfigError::new(
                SETTING,
                "must be an absolute URL such as https://portal.example-msp.com",
            )
        })?;
        let scheme = uri.scheme_str().unwrap_or_default();
        let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
            return Err(ConfigError::new(
                SETTING,
                "must be an absolute URL with a host, such as https://portal.example-msp.com",
            ));
        };
        if scheme != "https" && scheme != "http" {
            return Err(ConfigError::new(
                SETTING,
                "must start with https:// (or http:// on this machine)",
            ));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(ConfigError::new(
                SETTING,
                "must be the origin only (no path or query): put a path in mount_prefix",
            ));
        }
        let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
            || host.ends_with(".localhost");
        if config.secure_cookies && scheme == "http" && !local {
            return Err(ConfigError::new(
                SETTING,
                "is plain http, but secure cookies (the default) only travel over https: \
                 serve the portal over https, or turn secure cookies off for a demo on this machine",
            ));
        }
        if !config.secure_cookies && scheme == "https" {
            return Err(ConfigError::new(
                "secure_cookies",
                "is off for an https portal: keep it on (only a plain-http demo on this machine turns it off)",
            ));
        }
        Ok(())
    }

    pub(super) fn path_prefix(
        setting: &'static str,
        raw: &str,
        may_be_root: bool,
    ) -> Result<(), ConfigError> {
        let prefix = raw.trim_end_matches('/');
        if prefix.is_empty() {
            return if may_be_root {
                Ok(())
            } else {
                Err(ConfigError::new(setting, "must be a path such as /api/v1"))
            };
        }
        let safe = prefix.starts_with('/')
            && prefix.split('/').skip(1).all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            });
        if safe {
            Ok(())
        } else {
            Err(ConfigError::new(
                setting,
                "must start with / and hold only letters, digits, - . _ ~ between slashes (for example /portal)",
            ))
        }
    }

    pub(super) fn frame_ancestors(config: &HttpConfig) -> Result<(), ConfigError> {
        let value = config.frame_ancestors.trim();
        if value.is_empty()
            || value
                .bytes()
                .any(|b| b == b';' || b == b',' || b.is_ascii_control())
        {
            return Err(ConfigError::new(
                "frame_ancestors",
                "must be a CSP source list such as 'none' or https://psa.example.com, without ; or ,",
            ));
        }
        let sources: Vec<&str> = value.split_ascii_whitespace().collect();
        if sources.contains(&"'none'") && sources.len() > 1 {
            return Err(ConfigError::new(
                "frame_ancestors",
                "lists 'none' with other sources: give either 'none' or the origins allowed",
            ));
        }
        if config.framed_by_other_sites() && !config.secure_cookies {
            return Err(ConfigError::new(
                "frame_ancestors",
                "lets other sites frame the portal, which needs SameSite=None cookies, and those \
                 must be Secure: turn secure cookies on (localhost counts as secure in browsers)",
            ));
        }
        Ok(())
    }

    pub(super) fn cookie_name(stem: &str) -> Result<(), ConfigError> {
        let ok = !stem.is_empty()
            && stem.len() <= 32
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && !stem.starts_with("__");
        if ok {
            Ok(())
        } else {
            Err(ConfigError::new(
                "cookie_name",
                "must be 1 to 32 letters, digits, _ or -, not starting with __",
            ))
        }
    }
}

/// Builds invite and magic links for the routes of [`crate::PortalApp`]: on the
/// tenant's own base URL when it has one (which takes the place of
/// [`HttpConfig::public_base_url`]; the mount prefix follows either), so a tenant on its
/// own domain hands out links to that domain only.
#[derive(Debug, Clone)]
pub struct HttpLinks {
    /// `public_base_url` without a trailing slash.
    public: String,
    /// The mount prefix (`""` at the root).
    prefix: String,
}

impl HttpLinks {
    /// The base every link of `acting` starts with.
    fn base(&self, acting: &ActingFor) -> String {
        format!("{}{}", acting.base_url_or(&self.public), self.prefix)
    }
}

impl LinkBuilder for HttpLinks {
    fn invite_url(&self, acting: &ActingFor, token: &InviteToken) -> String {
        format!("{}/i/{}", self.base(acting), token.expose_secret())
    }
    fn magic_link_url(&self, acting: &ActingFor, token: &MagicToken) -> String {
        format!("{}/m/{}", self.base(acting), token.expose_secret())
    }
    fn task_url(&self, acting: &ActingFor, task: portal_core::TaskId) -> String {
        format!("{}/tasks/{task}", self.base(acting))
    }
    fn snooze_url(&self, acting: &ActingFor, token: &str) -> String {
        format!("{}/r/snooze/{token}", self.base(acting))
    }
    fn unsubscribe_url(&self, acting: &ActingFor, token: &str) -> String {
        format!("{}/r/unsubscribe/{token}", self.base(acting))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(builder: HttpConfigBuilder) -> &'static str {
        match builder.build() {
            Ok(config) => panic!("accepted {config:?}"),
            Err(e) => {
                assert!(!e.problem.is_empty());
                e.setting
            }
        }
    }

    #[test]
    fn the_defaults_and_a_typical_host_pass() {
        assert_eq!(HttpConfig::default().validate(), Ok(()));
        let config = HttpConfig::builder("https://portal.example-msp.com/")
            .mount_prefix("/portal")
            .trusted_proxies(["10.0.0.1".parse().unwrap()])
            .frame_ancestors("https://psa.example.com")
            .cookie_name("msp_a")
            .with(|c| c.max_connections = 256)
            .build()
            .unwrap();
        assert_eq!(config.prefix(), "/portal");
        assert_eq!(config.max_connections, 256);
        // A demo on this machine may be plain http, with secure cookies on or off.
        HttpConfig::builder("http://localhost:8080")
            .build()
            .unwrap();
        HttpConfig::builder("http://127.0.0.1:8080")
            .insecure_cookies_for_localhost()
            .build()
            .unwrap();
    }

    #[test]
    fn contradictions_and_malformed_settings_name_their_setting() {
        let b = |url: &str| HttpConfig::builder(url);
        assert_eq!(refused(b("portal.example.com")), "public_base_url");
        assert_eq!(refused(b("ftp://portal.example.com")), "public_base_url");
        assert_eq!(
            refused(b("https://portal.example.com/client")),
            "public_base_url"
        );
        assert_eq!(
            refused(b("https://portal.example.com/?a=1")),
            "public_base_url"
        );
        // Secure cookies never travel over plain http to another host.
        assert_eq!(refused(b("http://portal.example.com")), "public_base_url");
        // An https portal with cookies any script on http could read.
        assert_eq!(
            refused(b("https://portal.example.com").insecure_cookies_for_localhost()),
            "secure_cookies"
        );
        let ok = || b("https://portal.example.com");
        assert_eq!(refused(ok().mount_prefix("portal")), "mount_prefix");
        assert_eq!(refused(ok().mount_prefix("/a/../b")), "mount_prefix");
        assert_eq!(refused(ok().mount_prefix("/a b")), "mount_prefix");
        assert_eq!(refused(ok().mount_prefix("//evil")), "mount_prefix");
        assert_eq!(refused(ok().admin_prefix("")), "admin_prefix");
        assert_eq!(
            refused(ok().mount_prefix("/p").admin_prefix("/p/")),
            "admin_prefix"
        );
        assert_eq!(
            refused(ok().frame_ancestors("'self'; script-src *")),
            "frame_ancestors"
        );
        assert_eq!(refused(ok().frame_ancestors(" ")), "frame_ancestors");
        assert_eq!(
            refused(ok().frame_ancestors("'none' https://psa.example.com")),
            "frame_ancestors"
        );
        // Framed by another site needs SameSite=None, which needs Secure.
        assert_eq!(
            refused(
                b("http://localhost:8080")
                    .insecure_cookies_for_localhost()
                    .frame_ancestors("http://127.0.0.1:9000")
            ),
            "frame_ancestors"
        );
        HttpConfig::builder("http://localhost:8080")
            .frame_ancestors("http://127.0.0.1:9000")
            .build()
            .unwrap();
        assert_eq!(refused(ok().cookie_name("__Host-x")), "cookie_name");
        assert_eq!(refused(ok().cookie_name("a;b")), "cookie_name");
        assert_eq!(
            refused(ok().with(|c| c.max_connections = 0)),
            "max_connections"
        );
        assert_eq!(
            refused(ok().with(|c| c.header_read_timeout = Duration::ZERO)),
            "header_read_timeout"
        );
        assert_eq!(
            refused(ok().with(|c| c.max_form_bytes = 10)),
            "max_form_bytes"
        );
    }

    #[test]
    fn the_error_reads_as_a_sentence_naming_the_setting() {
        let e = HttpConfig::builder("http://portal.example.com")
            .build()
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("portal HTTP setting `public_base_url` "),
            "{text}"
        );
        assert!(text.contains("https"), "{text}");
    }
}
