//! The portal's HTML pages: askama templates (autoescaped) and the view models that
//! turn domain data into what a page shows. No domain rule is decided here; progress
//! and phase status come from `portal_core::model`.

pub mod access;
pub mod certificate;
pub mod documents;
pub mod frame;
pub mod home;
pub mod questions;
pub mod settings;
pub mod task;
pub mod team;

pub use access::{InvitePage, MagicPage, MessagePage, ReminderLinkPage, VerifyPage};
pub use frame::{Chrome, PortalNav};
pub(crate) use home::card;
pub use home::{HomeInput, HomePage, PlanMarks, Tab, TaskCard, home};
