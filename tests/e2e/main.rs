//! End-to-end tests: the portal over real HTTP on loopback, as a client's browser
//! would use it. One binary (fast linking); modules by concern.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod access_pages;
mod admin_api;
mod attachments;
mod connections;
mod credentials;
mod csrf;
mod documents;
mod embedding;
mod errors;
mod filedrop;
mod guests;
mod headers;
mod help;
mod home_cache;
mod hosts;
mod i18n;
mod i18n_email;
mod i18n_reason;
mod i18n_task;
mod ip_limits;
mod journey;
mod logs;
mod outbox;
mod plaintext_scan;
mod plan;
mod polish;
mod reminders;
mod server;
mod signatures;
mod smtp;
mod snapshots;
mod team;
mod webhooks;
mod workflow;
