//! Static assets compiled into the binary.

/// The portal stylesheet.
pub const CSS: &str = include_str!("../assets/portal.css");

/// Changes whenever the stylesheet changes, for cache busting.
pub const CSS_VERSION: &str = env!("CARGO_PKG_VERSION");
