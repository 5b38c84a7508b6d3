//! # portal-core
//!
//! The storage-agnostic domain of the MSP client onboarding portal: the model
//! (tenants, portals, contacts, phases, tasks), the access flow (invite link → email
//! verification → sliding session), the rules that govern it, and the seams a host
//! plugs into: storage traits ([`store`]), [`Mailer`], [`Clock`], [`RandomSource`].
//!
//! Start with [`PortalService`]; see `docs/embedding.md` for wiring a host and
//! `docs/adapter-guide.md` for writing a storage adapter.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod access;
pub mod attachments;
pub mod audit;
pub mod blob;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod filedrop;
pub mod files;
pub mod i18n;
pub mod idempotency;
pub mod ids;
pub mod mail;
pub mod model;
pub mod outbox;
pub mod random;
pub mod reason;
pub mod reminders;
pub mod scan;
pub mod secret;
pub mod service;
pub mod signatures;
pub mod staff;
pub mod store;
mod task_kind;
pub mod webhooks;
pub mod wording;
pub mod workflow;

#[cfg(test)]
mod stored_json;

#[cfg(feature = "memory")]
pub mod memory;

#[cfg(feature = "conformance")]
pub mod conformance;

#[cfg(feature = "testkit")]
pub mod testkit;

/// The attribute the storage and mail traits are written with: an adapter or mailer
/// implements them with `#[portal_core::async_trait]`, without depending on
/// `async-trait` itself.
pub use async_trait::async_trait;

/// What a host or an adapter usually needs, in one `use portal_core::prelude::*;`.
pub mod prelude {
    pub use crate::async_trait;
    pub use crate::model::{
        Branding, Contact, EmailAddress, Phase, Portal, PortalStatus, Side, Task, TaskKind,
        TaskStatus, Tenant, TimeZone,
    };
    pub use crate::secret::ServerSecret;
    pub use crate::{
        ActingFor, Clock, ContactId, Email, Error, LinkBuilder, Mailer, PhaseId, PortalId,
        PortalService, Result, StaffContext, StaffRole, Store, SystemClock, TaskId, TaskSpec,
        TenantId,
    };
}

pub use access::{AccessPolicy, RetentionPolicy, SessionPolicy};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Entity, Error, Limit, Result};
pub use ids::{
    BlobId, ClaimToken, ContactId, MailId, PhaseId, PortalId, QuestionId, TaskId, TemplateId,
    TenantId,
};
pub use mail::{ActingFor, Email, LinkBuilder, Mailer, RecordingMailer};
pub use random::{OsRandom, RandomSource, SeededRandom};
pub use reason::Reason;
pub use service::{
    GuestSpec, HandoverSpec, PortalService, PortalServiceBuilder, PruneReport, TaskSpec,
};
pub use staff::{StaffContext, StaffRole};
pub use store::{
    AccessStore, AttachmentStore, AuditStore, CredentialStore, DirectoryStore, FileDropStore,
    IdempotencyStore, OutboxStore, PlanStore, ReminderStore, SignatureStore, Store, TemplateStore,
    WorkflowStore,
};
