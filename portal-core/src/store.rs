//! The storage seam: what a backend must do, stated as atomic units of domain work.
//!
//! Every method is one atomic unit: it either happens whole or not at all, and
//! concurrent callers see it before or after, never half-way. Times are passed in by
//! the caller (the core reads the injected [`crate::Clock`]); stores never read a clock.
//! Where a rule decides the outcome (is this code still good? does this session
//! slide?), the store loads the state, asks the pure function in
//! [`crate::access::rules`], and applies the answer in the same transaction, so every
//! adapter enforces the same rules.
//!
//! The conformance suite (feature `conformance`) checks every contract point; run it
//! against a new adapter before trusting it (see `docs/adapter-guide.md`).

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::access::SessionPolicy;
use crate::error::Result;
use crate::ids::{ContactId, PhaseId, PortalId, QuestionId, TaskId, TenantId};
use crate::model::{
    Branding, Contact, EmailAddress, Logo, Phase, Portal, PortalSnapshot, PortalStatus, Task,
    Tenant,
};
use crate::secret::{CodeHash, TokenHash};
use crate::workflow::{ActivityEntry, ClientQuestion, Comment, QuestionAnswer, TaskChange};

/// Tenants, portals, contacts, phases, tasks and logos.
///
/// # Contract
/// - Records are created with ids chosen by the caller; creating an id that exists is
///   `Error::Conflict`.
/// - A record that refers to a missing parent (portal of a missing tenant, task in a
///   phase of another portal, ...) is refused with `Error::NotFound` and nothing is written.
/// - A contact's email is unique within its portal (case-sensitive on the mailbox,
///   as [`EmailAddress`] normalises the domain): a duplicate is `Error::Conflict`.
/// - `add_phase` and `add_task` assign the next position (0-based) atomically:
///   concurrent adds get distinct, gap-free positions.
/// - Every read scoped by a portal returns only that portal's records; asking for a
///   task through the wrong portal is `Error::NotFound`.
/// - `portal_snapshot` is one consistent read: phases ordered by position, tasks
///   ordered by their phase's position, then their own.
#[async_trait]
pub trait DirectoryStore: Send + Sync + 'static {
    /// Stores a new tenant.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()>;
    /// Reads a tenant. `NotFound` if missing.
    async fn tenant(&self, id: TenantId) -> Result<Tenant>;
    /// All tenants, oldest first.
    async fn tenants(&self) -> Result<Vec<Tenant>>;
    /// Stores a new portal of an existing tenant.
    async fn create_portal(&self, portal: &Portal) -> Result<()>;
    /// Reads a portal. `NotFound` if missing.
    async fn portal(&self, id: PortalId) -> Result<Portal>;
    /// A tenant's portals, oldest first.
    async fn portals(&self, tenant: TenantId) -> Result<Vec<Portal>>;
    /// Changes a portal's lifecycle status. `NotFound` if missing.
    async fn set_portal_status(&self, portal: PortalId, status: PortalStatus) -> Result<()>;
    /// Stores a new contact of an existing portal.
    async fn add_contact(&self, contact: &Contact) -> Result<()>;
    /// Reads a contact. `NotFound` if missing.
    async fn contact(&self, id: ContactId) -> Result<Contact>;
    /// A portal's contacts, oldest first.
    async fn contacts(&self, portal: PortalId) -> Result<Vec<Contact>>;
    /// Appends a phase to a portal; returns it with its position.
    async fn add_phase(&self, portal: PortalId, id: PhaseId, name: &str) -> Result<Phase>;
    /// Appends a task to a phase of the same portal (the position given is ignored);
    /// returns it with its position.
    async fn add_task(&self, task: &Task) -> Result<Task>;
    /// Stores a logo under its SHA-256; storing the same bytes again is a no-op.
    async fn put_logo(&self, logo: &Logo) -> Result<()>;
    /// Reads a logo by lower-case hex SHA-256. `NotFound` if missing.
    async fn logo(&self, sha256: &str) -> Result<Logo>;
    /// The portal with its phases and tasks, in display order.
    async fn portal_snapshot(&self, portal: PortalId) -> Result<PortalSnapshot>;
}

/// A contact together with its portal (and so the portal's branding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInPortal {
    /// The contact.
    pub contact: Contact,
    /// Its portal.
    pub portal: Portal,
}

/// A new code (and its magic link) for a verification.
#[derive(Debug, Clone)]
pub struct NewCode {
    /// Keyed hash of the code.
    pub code_hash: CodeHash,
    /// Hash of the magic link's token.
    pub magic_hash: TokenHash,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// Last instant at which it is still accepted.
    pub expires_at: DateTime<Utc>,
}

/// What a store is told about a session it must create.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Hash of the new session token.
    pub token_hash: TokenHash,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Last instant at which it is valid unless refreshed.
    pub expires_at: DateTime<Utc>,
}

/// Limits on starting verifications, so an invite link cannot flood an inbox.
#[derive(Debug, Clone, Copy)]
pub struct VerificationLimits {
    /// At most this many verifications per contact...
    pub max_per_contact: u32,
    /// ...started within this window before now.
    pub window: TimeDelta,
}

/// Where a verification stands, for the "check your email" page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationView {
    /// Who is verifying.
    pub target: ContactInPortal,
    /// Codes issued so far in this verification.
    pub codes_issued: u32,
    /// When the current code stops working, if one is live.
    pub code_expires_at: Option<DateTime<Utc>>,
}

/// The authenticated client behind a request: every portal read and write is scoped by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientContext {
    /// The MSP.
    pub tenant_id: TenantId,
    /// The client's portal.
    pub portal_id: PortalId,
    /// The contact.
    pub contact_id: ContactId,
    /// The contact's name.
    pub contact_name: String,
    /// The contact's email.
    pub contact_email: EmailAddress,
    /// When the session ends unless refreshed.
    pub session_expires_at: DateTime<Utc>,
    /// The portal's status as of this request (the service refuses closed portals).
    pub portal_status: PortalStatus,
}

/// What happened, in an access-log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessEvent {
    /// The invite page was opened.
    InviteOpened,
    /// A verification email was sent (first code or a new one).
    CodeSent,
    /// Verification succeeded and a session was created.
    Verified,
    /// An authenticated portal request.
    PortalRequest,
    /// The client signed out.
    SignedOut,
}

impl AccessEvent {
    /// Stable storage name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::InviteOpened => "invite_opened",
            Self::CodeSent => "code_sent",
            Self::Verified => "verified",
            Self::PortalRequest => "portal_request",
            Self::SignedOut => "signed_out",
        }
    }
    /// Reverse of [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "invite_opened" => Self::InviteOpened,
            "code_sent" => Self::CodeSent,
            "verified" => Self::Verified,
            "portal_request" => Self::PortalRequest,
            "signed_out" => Self::SignedOut,
            _ => return None,
        })
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Client IP (from the socket unless a trusted proxy is configured).
    pub ip: Option<IpAddr>,
    /// The User-Agent header, truncated to 512 characters.
    pub user_agent: Option<String>,
    /// The request path, without query string (never a token: token URLs are not logged).
    pub path: Option<String>,
}

impl RequestInfo {
    /// Longest user agent kept.
    pub const MAX_USER_AGENT: usize = 512;

    /// Builds the record, truncating the user agent and dropping control characters.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>, path: Option<&str>) -> Self {
        let clean = |s: &str, max: usize| {
            s.chars()
                .filter(|c| !c.is_control())
                .take(max)
                .collect::<String>()
        };
        Self {
            ip,
            user_agent: user_agent.map(|ua| clean(ua, Self::MAX_USER_AGENT)),
            path: path.map(|p| clean(p, 512)),
        }
    }
}

/// One line of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogEntry {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The portal accessed.
    pub portal_id: PortalId,
    /// Who.
    pub contact_id: ContactId,
    /// What.
    pub event: AccessEvent,
    /// From where.
    pub request: RequestInfo,
}

/// Invites, verifications, sessions and the access log.
///
/// # Contract
/// - Tokens are known to the store only as hashes; it never receives or keeps a raw
///   token or code.
/// - **Invites.** `issue_invite` gives the contact a new invite and kills the
///   previous one in the same step (the old hash is then `NotFound`); it also clears
///   a revocation of the contact. `open_invite` changes nothing.
///   A revoked invite or contact answers `Error::Revoked`.
/// - **Verification.** `start_verification` refuses with
///   `LimitReached(VerificationsPerContact)` when `max_per_contact` verifications were
///   started for the contact within `window` before the new code's `issued_at`;
///   otherwise it creates the verification with its first code and kills every other
///   live code (and magic link) of the contact. `issue_code` refuses with
///   `LimitReached(CodesPerVerification)` once `max_codes` were issued, and otherwise
///   replaces the live code and magic link (the previous ones stop working at once).
///   Under concurrency, at most `max_codes` codes are ever issued per verification.
/// - **Redeeming.** `redeem_code` and `redeem_magic_link` apply
///   [`crate::access::rules::judge_code`] / [`crate::access::rules::judge_magic_link`]:
///   a wrong code counts one wrong try (persisted even though an error is returned);
///   success creates the session and ends the verification, so its code and magic link
///   stop working. Two concurrent redemptions of one code or link create exactly one session.
/// - **Sessions.** `authenticate` applies [`crate::access::rules::judge_session`],
///   writes the refresh it asks for, and appends a `PortalRequest` access entry, all
///   in one unit. A session of a revoked contact answers `Revoked`.
/// - **Revocation.** `revoke_contact` marks the contact revoked and, in the same unit,
///   revokes its invite, kills its live codes and magic links, and revokes its
///   sessions: the very next `authenticate` with any of them answers `Revoked`.
/// - Access entries are append-only and returned newest first.
#[async_trait]
pub trait AccessStore: Send + Sync + 'static {
    /// Gives a contact a new invite (re-issue kills the old one; clears revocation).
    async fn issue_invite(
        &self,
        contact: ContactId,
        token: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<ContactInPortal>;
    /// Kills a contact's invite without touching its sessions.
    async fn revoke_invite(&self, contact: ContactId, now: DateTime<Utc>) -> Result<()>;
    /// Who an invite is for. Changes nothing.
    async fn open_invite(&self, token: &TokenHash) -> Result<ContactInPortal>;
    /// Starts a verification from an invite with its first code.
    async fn start_verification(
        &self,
        invite: &TokenHash,
        verification: &TokenHash,
        code: &NewCode,
        limits: VerificationLimits,
    ) -> Result<ContactInPortal>;
    /// Where a verification stands. `NotFound` once completed or if unknown.
    async fn verification(&self, verification: &TokenHash) -> Result<VerificationView>;
    /// Issues another code in a verification, replacing the live one. Returns the
    /// number of codes issued so far, this one included.
    async fn issue_code(
        &self,
        verification: &TokenHash,
        code: &NewCode,
        max_codes: u32,
    ) -> Result<(ContactInPortal, u32)>;
    /// Checks a typed code and, if right, creates the session.
    async fn redeem_code(
        &self,
        verification: &TokenHash,
        presented: &CodeHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
        session: &NewSession,
    ) -> Result<ClientContext>;
    /// Who a magic link is for, if it is still good. Changes nothing.
    async fn magic_link(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
    ) -> Result<ContactInPortal>;
    /// Consumes a magic link and creates the session.
    async fn redeem_magic_link(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
        session: &NewSession,
    ) -> Result<ClientContext>;
    /// Authenticates a request by session, sliding it when due, and logs the access.
    async fn authenticate(
        &self,
        session: &TokenHash,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
        request: &RequestInfo,
    ) -> Result<ClientContext>;
    /// Ends a session (sign-out). Unknown sessions are not an error.
    async fn end_session(&self, session: &TokenHash, now: DateTime<Utc>) -> Result<()>;
    /// Revokes a contact's access: invite, codes, links and sessions, at once.
    async fn revoke_contact(&self, contact: ContactId, now: DateTime<Utc>) -> Result<()>;
    /// Appends an access entry.
    async fn record_access(&self, entry: &AccessLogEntry) -> Result<()>;
    /// A portal's access log, newest first, at most `limit` entries.
    async fn access_log(&self, portal: PortalId, limit: usize) -> Result<Vec<AccessLogEntry>>;
}

/// Decides a task's next state from its current one: the workflow's rules
/// ([`crate::workflow::apply`]) wrapped by the service. Stores call it inside their
/// transaction, with the task as stored, and write what it returns.
pub type TaskDecision = std::sync::Arc<dyn Fn(&Task) -> Result<TaskChange> + Send + Sync>;

/// The task workflow: task changes, comments, questions, the activity feed, branding.
///
/// # Contract
/// - Everything is scoped by portal: a task, comment or question asked for through
///   another portal is `Error::NotFound`, and nothing is written.
/// - `update_task` is one unit: read the task, call `decide` once with it, and, if it
///   returns `Ok`, replace the task with the returned one (every field but `id`,
///   `portal_id`, `phase_id`, `position` and `created_at`, which stay) and append the
///   returned activity entry. If `decide` errs, nothing is written and its error is
///   returned unchanged. Concurrent updates of one task are serialised: each `decide`
///   sees the result of the previous one (so two concurrent approvals decide once).
/// - `add_comment` and `add_question` store the record and append the activity entry
///   together; `answer_question` sets the answer and appends the entry together, and
///   refuses with `Error::Conflict` if the question already has an answer.
/// - Comments are returned oldest first; questions and activity newest first (ties in
///   insertion order, newest first).
/// - `set_tenant_branding` changes only the tenant (portals keep their copy);
///   `set_portal_branding` changes only that portal.
#[async_trait]
pub trait WorkflowStore: Send + Sync + 'static {
    /// Reads one task of a portal.
    async fn task(&self, portal: PortalId, task: TaskId) -> Result<Task>;
    /// Applies a decision to a task and appends its activity entry, atomically.
    async fn update_task(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: TaskDecision,
    ) -> Result<Task>;
    /// Adds a comment to a task of the comment's portal, with its activity entry.
    async fn add_comment(&self, comment: &Comment, activity: &ActivityEntry) -> Result<()>;
    /// A task's comments, oldest first.
    async fn comments(&self, portal: PortalId, task: TaskId) -> Result<Vec<Comment>>;
    /// Stores a client's question with its activity entry.
    async fn add_question(&self, question: &ClientQuestion, activity: &ActivityEntry)
    -> Result<()>;
    /// Answers a question (once), with its activity entry; returns the answered question.
    async fn answer_question(
        &self,
        portal: PortalId,
        question: QuestionId,
        answer: &QuestionAnswer,
        activity: &ActivityEntry,
    ) -> Result<ClientQuestion>;
    /// A portal's questions, newest first.
    async fn questions(&self, portal: PortalId) -> Result<Vec<ClientQuestion>>;
    /// A portal's activity feed, newest first, at most `limit` entries.
    async fn activity(&self, portal: PortalId, limit: usize) -> Result<Vec<ActivityEntry>>;
    /// Replaces a tenant's branding defaults.
    async fn set_tenant_branding(&self, tenant: TenantId, branding: &Branding) -> Result<()>;
    /// Replaces one portal's branding.
    async fn set_portal_branding(&self, portal: PortalId, branding: &Branding) -> Result<()>;
}

/// Everything a complete store provides. Implemented for any type with all the parts.
pub trait Store: DirectoryStore + AccessStore + WorkflowStore {}

impl<T: DirectoryStore + AccessStore + WorkflowStore> Store for T {}
