//! Static assets compiled into the binary.

/// The portal stylesheet.
pub const CSS: &str = include_str!("../assets/portal.css");

/// The upload script of document upload tasks: drag and drop, several files at once,
/// a progress bar per file. The pages work without it.
pub const DOCUMENTS_JS: &str = include_str!("../assets/documents.js");

/// Changes whenever the stylesheet or the script changes, for cache busting.
pub const CSS_VERSION: &str = env!("CARGO_PKG_VERSION");
