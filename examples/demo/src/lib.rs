//! The demo's data folder and its file storage, as a library so that the demo's tests
//! open a data folder exactly as the `portal-demo` binary does (same paths, same
//! checks) instead of copying the layout.
//!
//! - [`api_keys`]: the admin API's keys, hashed in the data folder;
//! - [`console`]: the staff console's pages under `/console`, built on the admin API;
//! - [`data`]: where everything lives in the data folder, and the lock that keeps two
//!   demo processes (a server and a key rotation, say) off one folder;
//! - [`mailbox`]: the demo-only `/mailbox` page that shows the outbox's emails;
//! - [`files`]: uploaded files: the blob folder, the key file, the start-up sweeps and
//!   the `rotate-keys` command.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod api_keys;
pub mod console;
pub mod data;
pub mod files;
pub mod mailbox;
