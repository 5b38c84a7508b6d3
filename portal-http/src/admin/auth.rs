//! The [`StaffAuth`] seam: how a host turns an admin API request into the
//! [`StaffContext`] every staff use case takes. The demo checks hashed API keys; a
//! vendor embedding the portal checks its own session cookie or SSO token.

use async_trait::async_trait;
use http::request::Parts;
use portal_core::StaffContext;

/// Why a request carries no usable staff identity. Always answered `401` with a
/// `WWW-Authenticate` challenge; the reason goes into the problem's `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthRefusal {
    /// No credentials at all.
    Missing,
    /// Credentials were given but are not valid (unknown, revoked, malformed).
    Invalid,
}

impl AuthRefusal {
    /// What the problem document says.
    pub fn detail(&self) -> &'static str {
        match self {
            AuthRefusal::Missing => "Send an API key: Authorization: Bearer <key>.",
            AuthRefusal::Invalid => "The credentials are not valid.",
        }
    }
}

/// Authenticates staff for the admin API.
///
/// Called once per request with the request's head (never its body), before any use
/// case runs. An implementation must not log the credentials it reads. The
/// `challenge` is sent as `WWW-Authenticate` on every `401`.
#[async_trait]
pub trait StaffAuth: Send + Sync + 'static {
    /// The staff member the request acts as, or why not.
    async fn authenticate(&self, request: &Parts) -> Result<StaffContext, AuthRefusal>;

    /// The `WWW-Authenticate` value (default: a Bearer challenge).
    fn challenge(&self) -> &str {
        "Bearer realm=\"portal-admin\""
    }
}

/// The `Authorization: Bearer` token of a request, if it has exactly one.
pub fn bearer_token(request: &Parts) -> Option<&str> {
    let mut values = request.headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = value.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
