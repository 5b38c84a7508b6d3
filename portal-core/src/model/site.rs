//! A tenant's own public address (custom domain) and sender: the rules that decide
//! what may be stored, so every store and every host refuses the same things.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{EmailAddress, clean_label};
use crate::error::{Error, Result};

/// The public base URL of one tenant's portals (its custom domain, with an optional
/// path prefix): `https://portal.northwind.example` or `https://northwind.example/portal`.
///
/// Links in the tenant's emails and pages are built on it, and the host serving every
/// tenant picks the tenant by the request's host name, so it must be unambiguous:
/// absolute, `https` (plain `http` only for `localhost` and loopback addresses, where
/// nothing crosses a network), no user, query or fragment, and a path that is only a
/// prefix. Stored normalised: lower-case host, no trailing slash.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantBaseUrl {
    /// `scheme://host[:port][/prefix]`, no trailing slash.
    url: String,
    /// The lower-case host name without the port: what a request's `Host` is matched by.
    host: String,
}

impl TenantBaseUrl {
    /// Longest accepted URL.
    pub const MAX_LEN: usize = 2000;

    /// Validates and normalises a base URL; `Error::Invalid("base_url")` says what to fix.
    pub fn parse(raw: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid("base_url", why.to_owned());
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(bad("must be 1 to 2000 characters"));
        }
        let url = url::Url::parse(raw).map_err(|_| {
            bad("is not an absolute URL; enter one like https://portal.example.com")
        })?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            None => return Err(bad("must name a host, like https://portal.example.com")),
        };
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(bad(
                    "must use https (plain http only for localhost and loopback addresses)",
                ));
            }
            _ => return Err(bad("must be an https URL")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not contain a user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() || raw.contains(['?', '#']) {
            return Err(bad(
                "must not have a query or fragment; give only the address and an optional path prefix",
            ));
        }
        let path = url.path().trim_end_matches('/');
        if path.contains("//") || path.split('/').any(|s| s == "." || s == "..") {
            return Err(bad("has a path that is not a plain prefix"));
        }
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        Ok(Self {
            url: format!("{}://{host}{port}{path}", url.scheme()),
            host,
        })
    }

    /// The URL, without a trailing slash (append `/c/...` routes to it).
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The lower-case host name (no port) a request's `Host` header is matched by;
    /// unique across tenants.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether a request's `Host` header value (`name[:port]`, any case) names this
    /// tenant's host.
    pub fn serves_host(&self, header: &str) -> bool {
        host_of(header) == self.host
    }
}

/// The lower-case host name of a `Host` header value, its port removed.
pub fn host_of(header: &str) -> String {
    let header = header.trim();
    let name = if header.starts_with('[') {
        // An IPv6 literal: `[::1]:8080`.
        header
            .find(']')
            .map_or(header, |end| header.get(..=end).unwrap_or(header))
    } else {
        header.rsplit_once(':').map_or(header, |(name, _)| name)
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Who a request's host name belongs to, for [`host_admits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostOwner {
    /// The host's own public address (its `public_base_url`): it serves every tenant,
    /// so links sent before a tenant moved to its own domain keep working.
    App,
    /// The own base URL of this tenant names it.
    Tenant(crate::ids::TenantId),
    /// No tenant claims it and it is not the app's (a proxy's internal name, an IP
    /// address): it serves every tenant, as before tenants had domains.
    Nobody,
}

/// Who owns the host name of `host_header`: the app when it is `app_host`'s (the host
/// name of the app's public base URL), else the tenant among `tenants` whose own base
/// URL serves it, else nobody.
pub fn host_owner<'a>(
    host_header: &str,
    app_host: &str,
    tenants: impl IntoIterator<Item = &'a super::Tenant>,
) -> HostOwner {
    if host_of(host_header) == host_of(app_host) {
        return HostOwner::App;
    }
    tenants
        .into_iter()
        .find(|t| {
            t.base_url
                .as_ref()
                .is_some_and(|u| u.serves_host(host_header))
        })
        .map_or(HostOwner::Nobody, |t| HostOwner::Tenant(t.id))
}

/// Whether a request on a host owned by `owner` may reach the portals, invites,
/// verifications and sessions of tenant `target`: a tenant's own host name serves that
/// tenant only (a link of tenant A opened on tenant B's domain is refused as unknown,
/// so one MSP's domain never shows another's clients); every other host serves every
/// tenant.
pub fn host_admits(owner: HostOwner, target: crate::ids::TenantId) -> bool {
    match owner {
        HostOwner::Tenant(owner) => owner == target,
        HostOwner::App | HostOwner::Nobody => true,
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl fmt::Debug for TenantBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl fmt::Display for TenantBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl TryFrom<String> for TenantBaseUrl {
    type Error = Error;
    fn try_from(raw: String) -> Result<Self> {
        Self::parse(&raw)
    }
}

impl From<TenantBaseUrl> for String {
    fn from(u: TenantBaseUrl) -> Self {
        u.url
    }
}

/// Who a tenant's emails come from: the `From` name and address and an optional
/// `Reply-To`, so clients see (and answer) the MSP rather than the portal software.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// The display name in `From` (`Northwind IT`).
    pub name: String,
    /// The address in `From`.
    pub address: EmailAddress,
    /// Where replies go, when not to `address`.
    pub reply_to: Option<EmailAddress>,
}

impl Sender {
    /// Longest display name.
    pub const MAX_NAME: usize = 120;

    /// A validated sender from user input; `Error::Invalid` names the field
    /// (`sender.name`, `sender.address`, `sender.reply_to`).
    pub fn new(name: &str, address: &str, reply_to: Option<&str>) -> Result<Self> {
        let name = clean_label("sender.name", name, Self::MAX_NAME)?;
        if name.contains(['"', '<', '>', '\\']) {
            return Err(Error::invalid(
                "sender.name",
                "must not contain quotes, backslashes or angle brackets",
            ));
        }
        let address = EmailAddress::parse(address)
            .map_err(|e| Error::invalid("sender.address", reason_of(e)))?;
        let reply_to = reply_to
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| {
                EmailAddress::parse(r).map_err(|e| Error::invalid("sender.reply_to", reason_of(e)))
            })
            .transpose()?;
        Ok(Self {
            name,
            address,
            reply_to,
        })
    }

    /// The `From` header value: `Name <address>` (the name is checked free of the
    /// characters that would need quoting).
    pub fn from_header(&self) -> String {
        format!("{} <{}>", self.name, self.address.as_str())
    }
}

/// The reason of an `Invalid` error, to re-file it under another field.
fn reason_of(e: Error) -> String {
    match e {
        Error::Invalid { reason, .. } => reason.into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn field(e: Error) -> &'static str {
        match e {
            Error::Invalid { field, .. } => field,
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn base_url_is_normalised() {
        let u = TenantBaseUrl::parse(" https://Portal.Northwind.Example/ ").unwrap();
        assert_eq!(u.as_str(), "https://portal.northwind.example");
        assert_eq!(u.host(), "portal.northwind.example");
        let u = TenantBaseUrl::parse("https://northwind.example:8443/portal/").unwrap();
        assert_eq!(u.as_str(), "https://northwind.example:8443/portal");
        assert_eq!(u.host(), "northwind.example");
    }

    #[test]
    fn plain_http_only_for_loopback() {
        assert!(TenantBaseUrl::parse("http://localhost:8080").is_ok());
        assert!(TenantBaseUrl::parse("http://a.localhost:8080").is_ok());
        assert!(TenantBaseUrl::parse("http://127.0.0.1:8080").is_ok());
        assert!(TenantBaseUrl::parse("http://[::1]:8080").is_ok());
        for bad in [
            "http://portal.example.com",
            "http://10.0.0.1",
            "ftp://portal.example.com",
            "portal.example.com",
            "/portal",
            "",
        ] {
            assert_eq!(
                field(TenantBaseUrl::parse(bad).unwrap_err()),
                "base_url",
                "{bad}"
            );
        }
    }

    #[test]
    fn base_url_has_only_a_prefix() {
        for bad in [
            "https://portal.example.com/?a=1",
            "https://portal.example.com/#top",
            "https://portal.example.com?",
            "https://user:pw@portal.example.com",
            "https://portal.example.com/a//b",
        ] {
            assert!(TenantBaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_header_matches_without_port_or_case() {
        let u = TenantBaseUrl::parse("https://portal.northwind.example").unwrap();
        assert!(u.serves_host("Portal.Northwind.Example:443"));
        assert!(u.serves_host("portal.northwind.example"));
        assert!(!u.serves_host("portal.contoso.example"));
        assert_eq!(host_of("[::1]:8080"), "[::1]");
        let v6 = TenantBaseUrl::parse("http://[::1]:8080").unwrap();
        assert!(v6.serves_host("[::1]:8080"));
    }

    fn tenant(id: u8, base_url: Option<&str>) -> super::super::Tenant {
        super::super::Tenant {
            id: crate::ids::TenantId::from_bytes([id; 16]),
            name: format!("MSP {id}"),
            branding: super::super::Branding::builder(format!("MSP {id}"))
                .build()
                .unwrap(),
            notification_recipients: Vec::new(),
            time_zone: super::super::TimeZone::default(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            base_url: base_url.map(|u| TenantBaseUrl::parse(u).unwrap()),
            sender: None,
            version: 1,
        }
    }

    #[test]
    fn a_tenants_host_serves_only_that_tenant() {
        let a = tenant(1, Some("https://portal.northwind.example"));
        let b = tenant(2, Some("https://portal.contoso.example:8443"));
        let plain = tenant(3, None);
        let all = [a.clone(), b.clone(), plain.clone()];
        let app = "portal.vendor.example";
        let owner = |host: &str| host_owner(host, app, &all);
        assert_eq!(owner("Portal.Northwind.Example"), HostOwner::Tenant(a.id));
        assert_eq!(
            owner("portal.contoso.example:8443"),
            HostOwner::Tenant(b.id)
        );
        assert_eq!(owner("portal.vendor.example:443"), HostOwner::App);
        assert_eq!(owner("10.0.0.7:8080"), HostOwner::Nobody);

        assert!(host_admits(owner("portal.northwind.example"), a.id));
        assert!(
            !host_admits(owner("portal.northwind.example"), b.id),
            "A's host refuses B"
        );
        assert!(
            !host_admits(owner("portal.northwind.example"), plain.id),
            "and a tenant without a domain"
        );
        for host in ["portal.vendor.example", "10.0.0.7"] {
            for t in &all {
                assert!(host_admits(owner(host), t.id), "{host} serves every tenant");
            }
        }
    }

    #[test]
    fn sender_fields_are_named() {
        let s = Sender::new(
            "Northwind IT",
            "Help@Northwind.Example",
            Some("desk@northwind.example"),
        )
        .unwrap();
        assert_eq!(s.from_header(), "Northwind IT <Help@northwind.example>");
        assert_eq!(s.reply_to.unwrap().as_str(), "desk@northwind.example");
        assert_eq!(
            field(Sender::new("", "a@b.example", None).unwrap_err()),
            "sender.name"
        );
        assert_eq!(
            field(Sender::new("A \"B\"", "a@b.example", None).unwrap_err()),
            "sender.name"
        );
        assert_eq!(
            field(Sender::new("A", "nope", None).unwrap_err()),
            "sender.address"
        );
        assert_eq!(
            field(Sender::new("A", "a@b.example", Some("x@")).unwrap_err()),
            "sender.reply_to"
        );
        assert!(
            Sender::new("A", "a@b.example", Some(" "))
                .unwrap()
                .reply_to
                .is_none()
        );
    }
}
