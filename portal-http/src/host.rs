//! The [`HostPages`] seam: pages of the host's own (a vendor's staff screens, the demo's
//! staff console) served by the same [`PortalApp`](crate::PortalApp) under a path prefix,
//! so one port, one set of connection deadlines and one process serve the client pages,
//! the admin API and the host's pages. Without it a host would need a second server
//! (and a second port) only to put its own pages next to the portal.

use std::net::SocketAddr;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response};

use crate::respond::Body;

/// Pages the host serves under a prefix of the app (see
/// [`PortalApp::with_host_pages`](crate::PortalApp::with_host_pages)).
///
/// The request's body has been read whole (up to the limit given when mounting: a
/// larger body is answered `413` before the host sees it), so the host parses forms
/// from bytes. The response gets the app's transport headers (HSTS when configured);
/// everything else (content type, Content-Security-Policy, cookies) is the host's.
#[async_trait]
pub trait HostPages: Send + Sync + 'static {
    /// Answers one request whose path starts with the mounted prefix.
    async fn handle(&self, request: Request<Bytes>, remote: SocketAddr) -> Response<Body>;
}

/// A mounted [`HostPages`], with a `Debug` that says nothing about it.
#[derive(Clone)]
pub(crate) struct Mounted {
    pub prefix: String,
    pub max_body: usize,
    pub pages: std::sync::Arc<dyn HostPages>,
}

impl std::fmt::Debug for Mounted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostPages")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Mounted {
    /// Whether `path` is the prefix or under it (`/console`, `/console/…`, never
    /// `/consoles`).
    pub(crate) fn owns(&self, path: &str) -> bool {
        path.strip_prefix(self.prefix.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;

    #[async_trait]
    impl HostPages for Nothing {
        async fn handle(&self, _: Request<Bytes>, _: SocketAddr) -> Response<Body> {
            crate::respond::Reply::text(http::StatusCode::OK, "").finish("")
        }
    }

    #[test]
    fn owns_only_whole_segments() {
        let m = Mounted {
            prefix: "/console".into(),
            max_body: 1,
            pages: std::sync::Arc::new(Nothing),
        };
        assert!(m.owns("/console"));
        assert!(m.owns("/console/portals"));
        assert!(!m.owns("/consoles"));
        assert!(!m.owns("/"));
    }
}
