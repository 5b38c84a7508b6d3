//! The one error type of the portal: a list of *meanings*, not of causes.
//!
//! Storage adapters, mailers and the HTTP host map their own failures into these
//! variants, so a host can decide a status code or a page from the meaning alone.

use std::fmt;

pub use crate::reason::Reason;

/// What went wrong, in domain terms.
///
/// `#[non_exhaustive]`: later capabilities add meanings; match with a wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing does not exist, or is not visible to the caller (never says which).
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for.
        entity: Entity,
    },
    /// The thing existed but its time is up (a code, a magic link, a session).
    #[error("{entity} expired")]
    Expired {
        /// What expired.
        entity: Entity,
    },
    /// Access was withdrawn by the MSP (contact, invite or session revoked).
    #[error("{entity} revoked")]
    Revoked {
        /// What was revoked.
        entity: Entity,
    },
    /// The portal is not open to clients (still a draft, or archived).
    #[error("portal is {}", status.as_str())]
    PortalClosed {
        /// The portal's status.
        status: crate::model::PortalStatus,
    },
    /// A configured limit was reached; the action was refused and changed nothing.
    #[error("limit reached: {0}")]
    LimitReached(Limit),
    /// A verification code did not match; one wrong try was counted.
    #[error("wrong code, {attempts_left} attempts left")]
    WrongCode {
        /// Wrong tries still allowed before the code dies.
        attempts_left: u32,
    },
    /// Input failed validation; `reason` says what to fix, in words a user understands.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field (or parameter) was wrong.
        field: &'static str,
        /// What is wrong with it and how to fix it: English text, and for a reason a
        /// client can meet, the catalog message a client page shows in its language.
        reason: Reason,
    },
    /// A form failed validation; one message per field, keyed by field id.
    #[error("invalid form: {} field(s) to fix", errors.len())]
    InvalidFields {
        /// What to fix, by field id (`"_form"` for the form as a whole), each a
        /// [`Reason`] (English, and translatable where a client fills the form in).
        errors: std::collections::BTreeMap<String, Reason>,
    },
    /// The change clashes with the current state (duplicate, wrong status, ...).
    #[error("conflict: {reason}")]
    Conflict {
        /// What clashed: English text, and for a conflict a client can meet, the
        /// catalog message a client page shows in its language.
        reason: Reason,
    },
    /// The caller changed a version of a record that is no longer the current one:
    /// someone else changed it since they read it, and nothing was written. Apart
    /// from [`Error::Conflict`] because the remedy differs: reload and redo the edit
    /// (HTTP `412 Precondition Failed`), not "this clashes with the state" (`409`).
    #[error("stale: {reason}")]
    Stale {
        /// What changed, and what to do (reload and edit again).
        reason: String,
    },
    /// The caller may not do this.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why not; in the client's language where a client can meet it (see
        /// [`crate::reason::Reason`]).
        reason: crate::reason::Reason,
    },
    /// The storage backend failed. The detail is for logs, never for clients.
    #[error("storage failure: {message}")]
    Storage {
        /// Backend detail for the operator's log.
        message: String,
        /// The backend's own error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The store could not write because its disk (or the filesystem's quota) is
    /// full; nothing was changed. Writing again once space is freed may succeed.
    /// The detail is for logs, never for clients.
    #[error("storage full: {message}")]
    StorageFull {
        /// What could not be written, for the operator's log.
        message: String,
    },
    /// More bytes arrived than the limit allows; reading stopped there and nothing
    /// was kept.
    #[error("too large: the limit is {max_bytes} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        max_bytes: u64,
    },
    /// Stored content failed its integrity check (wrong key, tampered, truncated or
    /// moved): it is never returned. The detail is for logs.
    #[error("integrity check failed: {message}")]
    Integrity {
        /// What failed, for the operator's log.
        message: String,
    },
    /// An email could not be handed to the mail transport.
    ///
    /// A transport that can tell starts `message` with `permanent:` (the server
    /// refused for good, e.g. a 5xx reply: retrying will not help) or `transient:`
    /// (a 4xx reply, connection, TLS or timeout failure: retrying later may succeed);
    /// the SMTP mailer does.
    #[error("mail failure: {message}")]
    Mail {
        /// Transport detail for the operator's log.
        message: String,
    },
}

impl Error {
    /// `NotFound` for `entity`.
    pub const fn not_found(entity: Entity) -> Self {
        Self::NotFound { entity }
    }

    /// `Expired` for `entity`.
    pub const fn expired(entity: Entity) -> Self {
        Self::Expired { entity }
    }

    /// `Revoked` for `entity`.
    pub const fn revoked(entity: Entity) -> Self {
        Self::Revoked { entity }
    }

    /// A storage error carrying the backend's error as its source.
    pub fn storage(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Storage {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// A storage error without an underlying source (e.g. a corrupt row).
    pub fn storage_msg(message: impl Into<String>) -> Self {
        Self::Storage {
            message: message.into(),
            source: None,
        }
    }

    /// A `StorageFull` error: `message` says what could not be written.
    pub fn storage_full(message: impl Into<String>) -> Self {
        Self::StorageFull {
            message: message.into(),
        }
    }

    /// An input validation error: `reason` is plain English text (`&str`, `String`)
    /// or a translated [`Reason::message`].
    pub fn invalid(field: &'static str, reason: impl Into<Reason>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// A state conflict: `reason` is plain English text or a translated
    /// [`Reason::message`].
    pub fn conflict(reason: impl Into<Reason>) -> Self {
        Self::Conflict {
            reason: reason.into(),
        }
    }

    /// A stale version: the record changed since the caller read it.
    pub fn stale(reason: impl Into<String>) -> Self {
        Self::Stale {
            reason: reason.into(),
        }
    }
}

/// What an error is about: the record or credential that was missing, expired or
/// revoked. A host picks its page or status from this (never from a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// An MSP.
    Tenant,
    /// A client portal.
    Portal,
    /// A contact of a portal.
    Contact,
    /// A phase of a portal's plan.
    Phase,
    /// A task of a portal's plan.
    Task,
    /// A stored logo image.
    Logo,
    /// An invite link.
    Invite,
    /// An email verification (the "check your email" step).
    Verification,
    /// A 6-digit verification code.
    Code,
    /// A magic sign-in link.
    MagicLink,
    /// A signed-in session.
    Session,
    /// A client question.
    Question,
    /// A meeting of a meeting task (not scheduled yet).
    Meeting,
    /// A record that another one refers to (a storage foreign key).
    ParentRecord,
    /// A page of the HTTP host.
    Page,
    /// Stored file content.
    Blob,
    /// An uploaded file (a document version).
    File,
    /// A key of the keyring.
    Key,
    /// An email in the outbox.
    Email,
    /// A signed link of a reminder email ("remind me in 3 days", unsubscribe).
    ReminderLink,
    /// An onboarding plan template.
    Template,
    /// Submitted credentials of a credential handoff task.
    Credentials,
    /// The signature of a signature task.
    Signature,
    /// A webhook endpoint.
    WebhookEndpoint,
    /// A delivery of an event to a webhook endpoint.
    WebhookDelivery,
}

impl Entity {
    /// The entity in words, for logs and messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::Portal => "portal",
            Self::Contact => "contact",
            Self::Phase => "phase",
            Self::Task => "task",
            Self::Logo => "logo",
            Self::Invite => "invite",
            Self::Verification => "verification",
            Self::Code => "code",
            Self::MagicLink => "magic link",
            Self::Session => "session",
            Self::Question => "question",
            Self::Meeting => "meeting",
            Self::ParentRecord => "parent record",
            Self::Page => "page",
            Self::File => "file",
            Self::Blob => "blob",
            Self::Key => "key",
            Self::Email => "email",
            Self::ReminderLink => "reminder link",
            Self::Template => "template",
            Self::Credentials => "credentials",
            Self::Signature => "signature",
            Self::WebhookEndpoint => "webhook endpoint",
            Self::WebhookDelivery => "webhook delivery",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// All verification codes allowed for one verification session were issued.
    CodesPerVerification,
    /// A code took too many wrong tries and is dead; request a new one.
    WrongCodeAttempts,
    /// Too many verification emails (first codes and resends) were sent to one
    /// contact within the policy's `email_window`.
    EmailsPerContact,
    /// The contact entered too many wrong codes: its codes are refused, right or
    /// wrong, until `until` has passed (its magic links still work).
    ContactLockedOut {
        /// The last instant of the lockout.
        until: chrono::DateTime<chrono::Utc>,
        /// Whether this very try started the lockout (the wrong code that reached the
        /// cap), rather than being refused by one already running: exactly one try per
        /// lockout says `true`, so the MSP is told of each lockout once.
        started: bool,
    },
    /// The portal has as many contacts (not revoked) as it may have
    /// ([`crate::workflow::team::MAX_CONTACTS_PER_PORTAL`]).
    ContactsPerPortal,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::CodesPerVerification => "no more codes can be sent for this verification",
            Limit::WrongCodeAttempts => "too many wrong tries for this code",
            Limit::EmailsPerContact => "too many verification emails sent recently",
            Limit::ContactLockedOut { .. } => "too many wrong codes: codes are locked out for now",
            Limit::ContactsPerPortal => "the portal has as many contacts as it may have",
        })
    }
}

/// The portal's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
