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
use chrono::{DateTime, NaiveDate, Utc};

use crate::access::{AccessPolicy, SessionPolicy};
use crate::blob::keyring::{KeyId, WrappedKey};
use crate::blob::rotation::{SealedAt, SealedKey, SealedKind};
use crate::error::{Error, Result};
use crate::idempotency::{IdempotencyKey, Reservation, Reserve, SavedResponse};
use crate::ids::{
    BlobId, ClaimToken, ContactId, FileId, MailId, PhaseId, PortalId, QuestionId, TaskId, TenantId,
};
use crate::model::{
    Branding, Contact, EmailAddress, Logo, Phase, Portal, PortalSnapshot, PortalStatus, Task,
    Tenant,
};
use crate::outbox::{FailedAttempt, OutboxMessage};
use crate::reminders::{ReminderSettings, ReminderState};
use crate::secret::{CodeHash, TokenHash};
use crate::workflow::documents::{FileDecision, UploadDecision};
use crate::workflow::{
    ActivityEntry, ClientQuestion, Comment, DocumentFile, QuestionAnswer, TaskChange,
};

/// Tenants, portals, contacts, phases, tasks and logos.
///
/// # Contract
/// - Records are created with ids chosen by the caller; creating an id that exists is
///   `Error::Conflict`. A tenant's base URL host is unique across tenants: creating
///   or editing a tenant onto another's host is `Error::Conflict` too.
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
/// - `edit_portal`, `edit_contact` and `edit_tenant` change exactly the edited
///   fields of an existing record (`NotFound` otherwise, nothing written) and every
///   later read returns the change; `edit_contact` keeps emails unique in the portal.
/// - **Versions.** A tenant and a portal carry a `version`, 1 when created (whatever
///   the caller passed). Every change of what it covers raises it by exactly one, in
///   the unit of the change: for a portal its name, status, target date, branding
///   and onboarding team (`edit_portal`, `set_portal_status`,
///   [`WorkflowStore::set_portal_branding`]); for
///   a tenant its name, notification recipients, branding, base URL and sender
///   (`edit_tenant`, `edit_tenant_settings`, [`WorkflowStore::set_tenant_branding`]). When `edit_portal` or `edit_tenant` is
///   given `expected: Some(v)`, it compares `v` with the stored version inside the
///   unit: another version is `Error::Stale` and nothing is written, so of two
///   concurrent edits naming the same version exactly one wins (a compare-and-set,
///   not a check before the write). `NotFound` comes before `Stale`.
/// - **Onboarding team.** [`PortalEdit::Team`] replaces a portal's whole team in the
///   unit of the edit (version, `expected` and activity as for any portal edit):
///   `portal_team` returns exactly the members last written, in their order, and
///   only that portal's (an empty team for a portal never given one; a missing
///   portal is `NotFound(Portal)`). A refused edit leaves the previous team whole,
///   and `delete_portal` erases the team with the portal.
/// - **Home versions.** A store that answers `home_version` with `Some(v)` for a
///   portal gives a different `v` after every acknowledged write that changes any of
///   what the home is built from: [`Self::portal_snapshot`] (the portal, its phases
///   and tasks), [`Self::contacts`], [`Self::portal_team`] and
///   [`WorkflowStore::activity`]. Equal values mean equal content: whenever the
///   store answers `v` for a portal, that content is what it was every earlier time
///   it answered `v` (within the life of the store object), so a page tagged `v` is
///   still right. The value may change more often than the content (a spurious
///   change only costs a rebuild), but two calls with no write between them give the
///   same value. A read that starts after `home_version` returned `v` sees at least
///   the state `v` stands for, so a page built from reads made after asking is never
///   older than its tag. `None` (the default) is always correct.
/// - **Setup entries.** `create_portal`, `add_contact`, `add_phase` and `add_task`
///   take the activity entry of the staff action that makes the record (`None` for
///   imports and fixtures that record no action). When given, it is appended in the
///   same unit as the record: a refused create (`Conflict`, `NotFound`) appends
///   nothing, and an entry of another portal is `Invalid` with nothing written. The
///   same holds for the access changes (`issue_invite`, `revoke_invite`,
///   `revoke_contact`) and `set_reminder_settings`.
#[async_trait]
pub trait DirectoryStore: Send + Sync + 'static {
    /// Stores a new tenant.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()>;
    /// Reads a tenant. `NotFound` if missing.
    async fn tenant(&self, id: TenantId) -> Result<Tenant>;
    /// All tenants, oldest first.
    async fn tenants(&self) -> Result<Vec<Tenant>>;
    /// Stores a new portal of an existing tenant, in one unit with appending
    /// `activity` when given (see [`DirectoryStore#contract`] on setup entries).
    async fn create_portal(&self, portal: &Portal, activity: Option<&ActivityEntry>) -> Result<()>;
    /// Reads a portal. `NotFound` if missing.
    async fn portal(&self, id: PortalId) -> Result<Portal>;
    /// A tenant's portals, oldest first.
    async fn portals(&self, tenant: TenantId) -> Result<Vec<Portal>>;
    /// One page of a tenant's portals in the order of [`Self::portals`] (oldest
    /// first: creation time, then the store's creation number): at most `limit`
    /// portals after `after` (from the oldest when `None`), read by key, never by
    /// offset (see [`Page`]'s contract), so a portal created or deleted between two
    /// page reads never repeats or hides another. An unknown tenant has none.
    async fn portals_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Portal>>;
    /// Changes a portal's lifecycle status and raises its version. `NotFound` if
    /// missing.
    async fn set_portal_status(&self, portal: PortalId, status: PortalStatus) -> Result<()>;
    /// Stores a new contact of an existing portal, in one unit with appending
    /// `activity` when given (see [`DirectoryStore#contract`] on setup entries).
    async fn add_contact(&self, contact: &Contact, activity: Option<&ActivityEntry>) -> Result<()>;
    /// Reads a contact. `NotFound` if missing.
    async fn contact(&self, id: ContactId) -> Result<Contact>;
    /// A portal's contacts, oldest first.
    async fn contacts(&self, portal: PortalId) -> Result<Vec<Contact>>;
    /// One page of a portal's contacts in the order of [`Self::contacts`] (oldest
    /// first: creation time, then the store's creation number): at most `limit`
    /// contacts after `after` (from the oldest when `None`), read by key, never by
    /// offset (see [`Page`]'s contract). An unknown portal has none.
    async fn contacts_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Contact>>;
    /// Appends a phase to a portal, in one unit with appending `activity` when given
    /// (see [`DirectoryStore#contract`] on setup entries); returns it with its position.
    async fn add_phase(
        &self,
        portal: PortalId,
        id: PhaseId,
        name: &str,
        activity: Option<&ActivityEntry>,
    ) -> Result<Phase>;
    /// Appends a task to a phase of the same portal (the position given is ignored),
    /// in one unit with appending `activity` when given (see
    /// [`DirectoryStore#contract`] on setup entries); returns it with its position.
    async fn add_task(&self, task: &Task, activity: Option<&ActivityEntry>) -> Result<Task>;
    /// Stores a logo under its SHA-256; storing the same bytes again is a no-op.
    async fn put_logo(&self, logo: &Logo) -> Result<()>;
    /// Reads a logo by lower-case hex SHA-256. `NotFound` if missing.
    async fn logo(&self, sha256: &str) -> Result<Logo>;
    /// A portal's onboarding team in display order, as the last
    /// [`PortalEdit::Team`] wrote it (empty if never set). `NotFound(Portal)` if
    /// missing. See [`DirectoryStore#contract`] on the onboarding team.
    async fn portal_team(&self, portal: PortalId) -> Result<crate::model::OnboardingTeam>;
    /// The portal with its phases and tasks, in display order.
    async fn portal_snapshot(&self, portal: PortalId) -> Result<PortalSnapshot>;
    /// A value that changes whenever what the portal's home is built from changes,
    /// so a host may keep a page it built and serve it again while the value holds
    /// (`portal-http` does). `None`: this store offers no such value, and every home
    /// is built from fresh reads (the default, always correct). See
    /// [`DirectoryStore#contract`] on home versions.
    async fn home_version(&self, portal: PortalId) -> Result<Option<u64>> {
        let _ = portal;
        Ok(None)
    }
    /// Changes one field of a portal, in one unit with appending `activity` (an entry
    /// of that portal, else `Invalid`), and raises its version; returns the portal as
    /// stored. See [`DirectoryStore#contract`]: `NotFound(Portal)` if missing,
    /// `Stale` if `expected` is given and is not the stored version, and the change
    /// is what [`Self::portal`] and [`Self::portal_snapshot`] return from then on.
    async fn edit_portal(
        &self,
        portal: PortalId,
        edit: &PortalEdit,
        expected: Option<u64>,
        activity: &ActivityEntry,
    ) -> Result<Portal>;
    /// Changes several fields of a portal in ONE unit (a PATCH of its name, status and
    /// target date together): every edit applied in order and every entry appended,
    /// the version raised by exactly one, and the portal as stored returned; or
    /// nothing written at all. `NotFound(Portal)` if missing, `Stale` if `expected`
    /// is given and is not the stored version, `Invalid("activity")` if any entry is
    /// of another portal, `Invalid("edits")` for an empty list. A single edit is
    /// exactly [`Self::edit_portal`].
    async fn edit_portal_fields(
        &self,
        portal: PortalId,
        edits: &[(PortalEdit, ActivityEntry)],
        expected: Option<u64>,
    ) -> Result<Portal>;
    /// Changes a contact's name, email, role and language (the edit is the whole new
    /// state: a `None` role or language clears it), in one unit with appending `activity` (an entry of the
    /// contact's portal, else `Invalid`); returns the contact as stored.
    /// `NotFound(Contact)` if missing; an email that another contact of the same
    /// portal has is `Conflict` and nothing changes (its own email again is fine).
    /// With `expected: Some(tag)`, the stored contact's
    /// [`Contact::content_tag`] is compared with `tag` inside the unit: another tag
    /// is `Stale` and nothing is written, so of two edits from the same read exactly
    /// one wins. `NotFound` comes before `Stale`, `Stale` before `Conflict`.
    async fn edit_contact(
        &self,
        contact: ContactId,
        edit: &ContactEdit,
        expected: Option<&str>,
        activity: &ActivityEntry,
    ) -> Result<Contact>;
    /// Changes one setting of a tenant and raises its version; returns the tenant as
    /// stored. `NotFound(Tenant)` if missing; `Stale` if `expected` is given and is
    /// not the stored version (see [`DirectoryStore#contract`] on versions). Exactly
    /// [`Self::edit_tenant_settings`] with one edit.
    async fn edit_tenant(
        &self,
        tenant: TenantId,
        edit: &TenantEdit,
        expected: Option<u64>,
    ) -> Result<Tenant>;
    /// Changes several settings of a tenant in ONE unit (a PATCH of its name,
    /// recipients, branding, base URL and sender together): every edit applied in
    /// order, the version raised by exactly one, and the tenant as stored returned;
    /// or nothing written at all.
    ///
    /// # Contract
    /// - `NotFound(Tenant)` if missing; then `Stale` if `expected` is given and is
    ///   not the stored version (compared inside the unit); then
    ///   `Invalid("edits")` for an empty list.
    /// - A [`TenantEdit::BaseUrl`] whose host ([`TenantBaseUrl::host`]) another
    ///   tenant's base URL has is `Conflict`, decided inside the unit (two tenants
    ///   racing for one host: exactly one gets it); its own host again is fine.
    /// - Any refusal writes none of the edits and leaves the version as it was.
    ///
    /// [`TenantBaseUrl::host`]: crate::model::TenantBaseUrl::host
    async fn edit_tenant_settings(
        &self,
        tenant: TenantId,
        edits: &[TenantEdit],
        expected: Option<u64>,
    ) -> Result<Tenant>;
    /// Deletes a portal and every record of it, in one unit with appending `erasure`
    /// to its tenant's erasure log: phases, tasks, contacts with all of their access
    /// records (invites, verifications, sessions, access log), comments, questions,
    /// activity, file records and the portal's emails still in the outbox. Returns
    /// the blobs of the deleted files, for the caller to delete their content after
    /// the unit. `NotFound(Portal)` if missing; an erasure naming another portal or
    /// tenant is `Invalid`; either way nothing is written.
    async fn delete_portal(&self, portal: PortalId, erasure: &Erasure) -> Result<Vec<BlobId>>;
    /// A tenant's erasure log, newest first (it outlives the portals it records).
    async fn erasures(&self, tenant: TenantId) -> Result<Vec<Erasure>>;
}

/// One portal deletion, in the tenant-level erasure log: what was erased, when and by
/// whom (the hash-chained audit trail of a later issue builds on it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The deleted portal's id.
    pub portal_id: PortalId,
    /// Its client company name at the time.
    pub client_name: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: crate::workflow::Actor,
    /// The portal's audit chain as it ended (its last number and hash; `None`: no
    /// events), set by the store inside the deletion unit whatever the caller passed:
    /// the chain is erased with the portal, and this head lets an export taken before
    /// be checked against what was erased.
    pub audit_head: Option<crate::audit::ChainHead>,
}

/// Where a page of a list read by key starts: the sort key of the last item of the
/// previous page, in the store's own terms (the item's time and the store's
/// tie-breaking number for equal times, e.g. a row id). Only the store that gave it
/// knows what it means; callers pass it back unchanged (the admin API's cursor
/// carries it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageKey {
    /// The last item's time, as the store orders by it.
    pub at: DateTime<Utc>,
    /// The store's tie-breaking number of the last item among equal times.
    pub seq: u64,
}

/// One page of a list read by key ([`WorkflowStore::activity_page`],
/// [`AccessStore::access_log_page`], [`DirectoryStore::portals_page`],
/// [`DirectoryStore::contacts_page`], [`TemplateStore::templates_page`]).
///
/// # Contract
/// - A page holds at most `limit` items: those that follow `after` in the list's
///   order (the first ones when `after` is `None`), in that order. `limit` 0 is an
///   empty page.
/// - `next` is the key of the last item of the page when more items follow it, and
///   `None` at the end of the list (read `limit + 1` items to know).
/// - Pages are found by key, not by position: an item added or removed between two
///   page reads shifts nothing. Reading page after page with each `next` returns
///   every item that existed throughout exactly once, in order (items added
///   meanwhile may or may not appear, each at most once).
/// - Reading a page with a key the store gave costs an index range read, not a
///   read of everything before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` when this is the last.
    pub next: Option<PageKey>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` keyed items read after the key: the first
    /// `limit` are the page, and one more means there is a next page (starting after
    /// the last kept item). Stores call it with what their range read returned.
    pub fn from_read(mut read: Vec<(PageKey, T)>, limit: usize) -> Self {
        let more = read.len() > limit;
        read.truncate(limit);
        let next = if more {
            read.last().map(|(k, _)| *k)
        } else {
            None
        };
        Self {
            items: read.into_iter().map(|(_, t)| t).collect(),
            next,
        }
    }

    /// The same page with its items changed by `f` (for views of the items).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// One change of a portal, applied by [`DirectoryStore::edit_portal`] alone so that
/// two staff members changing different fields never undo each other.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortalEdit {
    /// A new client company name (already cleaned).
    Rename(String),
    /// A new target go-live date, or none.
    TargetDate(Option<NaiveDate>),
    /// A new status (draft, active, completed, archived).
    Status(crate::model::PortalStatus),
    /// New branding for the portal (already validated).
    Branding(crate::model::Branding),
    /// A new onboarding team replacing the whole list, in its order (already
    /// validated by [`crate::model::OnboardingTeam::new`]); read back with
    /// [`DirectoryStore::portal_team`].
    Team(crate::model::OnboardingTeam),
    /// Whether its contacts may invite colleagues, and whether staff approve first.
    ColleagueInvitations(crate::workflow::team::InvitationMode),
}

/// A contact's corrected name, email and role (already cleaned and parsed): the whole
/// new state of those fields, so a store writes all three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEdit {
    /// The name.
    pub name: String,
    /// The email address.
    pub email: EmailAddress,
    /// The role (cleaned by [`crate::workflow::team::clean_role`]); `None` for none.
    pub role: Option<String>,
    /// The language of the contact's pages and emails; `None`: the browser's.
    pub language: Option<crate::i18n::Language>,
}

/// One change of a tenant's settings, applied by [`DirectoryStore::edit_tenant`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantEdit {
    /// The MSP's own name (already cleaned).
    Rename(String),
    /// Who is emailed about client messages (deduplicated).
    NotificationRecipients(Vec<EmailAddress>),
    /// The branding defaults of portals created from now on (already validated).
    Branding(Branding),
    /// The tenant's own public base URL (custom domain), or none (the host's).
    BaseUrl(Option<crate::model::TenantBaseUrl>),
    /// Who the tenant's emails come from, or none (the host's configured sender).
    Sender(Option<crate::model::Sender>),
}

/// A contact together with its portal (and so the portal's branding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInPortal {
    /// The contact.
    pub contact: Contact,
    /// Its portal.
    pub portal: Portal,
}

/// A colleague invited from the portal, for [`AccessStore::invite_colleague`].
#[derive(Debug, Clone)]
pub struct ColleagueInvite {
    /// The new contact: `invited_by` names the inviter; `awaiting_approval` is set
    /// when the portal wants staff to approve first.
    pub colleague: Contact,
    /// The hash of the colleague's own invite link, when it is issued at once (never
    /// shared with the inviter); `None` while awaiting approval.
    pub token: Option<TokenHash>,
    /// Most contacts (not revoked) the portal may have, counted inside the unit.
    pub cap: usize,
    /// Emails queued in the same unit: the colleague's invitation (at once) and the
    /// MSP's notification.
    pub emails: Vec<OutboxMessage>,
    /// The feed entry: who invited whom.
    pub activity: ActivityEntry,
}

/// A guest staff add to a portal, for [`AccessStore::add_guest`].
#[derive(Debug, Clone)]
pub struct NewGuest {
    /// The new contact: its [`Contact::guest`] is set, with the tasks to share in
    /// `shared_tasks` (each judged inside the unit).
    pub guest: Contact,
    /// The hash of the guest's own invite link (issued at the contact's `created_at`).
    pub token: TokenHash,
    /// Emails queued in the same unit: the guest's invitation.
    pub emails: Vec<OutboxMessage>,
    /// The feed entry: which staff member invited which guest.
    pub activity: ActivityEntry,
}

/// The handover from a client's previous provider, for
/// [`AccessStore::start_handover`]: what [`crate::workflow::handover::tasks`] builds,
/// with the guest who will do it.
#[derive(Debug, Clone)]
pub struct NewHandover {
    /// The phase (its position is the store's: appended last).
    pub phase: Phase,
    /// Its tasks in order (positions are the store's), all shared with the guest.
    pub tasks: Vec<Task>,
    /// The outgoing provider's guest: `guest.guest.handover_phase` names the phase
    /// and `shared_tasks` lists exactly the tasks; the token, the invitation email
    /// and the feed entry of the whole handover.
    pub guest: NewGuest,
}

/// A handover as stored by [`AccessStore::start_handover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// The phase, with its position.
    pub phase: Phase,
    /// Its tasks, with their positions.
    pub tasks: Vec<Task>,
    /// The guest, with the tasks shared.
    pub guest: Contact,
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
    /// The user agent of the request that signed in, as
    /// [`rules::session_user_agent`](crate::access::rules::session_user_agent) keeps
    /// it: the session's first "last seen".
    pub user_agent: Option<String>,
}

/// One live session of a contact, as their settings page lists it (never its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// The session's token hash, for the caller to tell the current session apart
    /// (compared, never shown).
    pub token_hash: TokenHash,
    /// When the contact signed in.
    pub created_at: DateTime<Utc>,
    /// The last request noted with it (its sign-in before any): a session is noted
    /// at most once per refresh interval, so this is exact to within that interval.
    pub last_seen_at: DateTime<Utc>,
    /// The user agent of that last request, as
    /// [`rules::session_user_agent`](crate::access::rules::session_user_agent) keeps it.
    pub user_agent: Option<String>,
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
    /// The contact's time zone: every time a page shows them is in it.
    pub time_zone: crate::model::TimeZone,
    /// Set when the participant is a guest: the tasks shared with them, the only
    /// things every client route lets them reach (see
    /// [`guests::judge_reach`](crate::workflow::guests::judge_reach)).
    pub guest: Option<crate::model::Guest>,
    /// The language the client reads in. A store fills it with the language the MSP
    /// set for the contact, if it did (it wins over the browser's `Accept-Language`);
    /// a host may fill it from the request when it is empty (`portal-http` does), so
    /// what the core writes as the client's own words (a thread line such as "I'm
    /// stuck: …") is in their language. Empty: English.
    pub language: Option<crate::i18n::Language>,
}

impl ClientContext {
    /// The context of a session of `target` that ends at `session_expires_at`: built
    /// here once, so every store answers the same fields.
    pub fn new(target: &ContactInPortal, session_expires_at: DateTime<Utc>) -> Self {
        Self::of(
            &target.contact,
            target.portal.tenant_id,
            target.portal.status,
            session_expires_at,
        )
    }

    /// The same, from the contact and the two portal fields a context needs (for a
    /// store that reads only those on its hot path).
    pub fn of(
        contact: &Contact,
        tenant_id: TenantId,
        portal_status: PortalStatus,
        session_expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            tenant_id,
            portal_id: contact.portal_id,
            contact_id: contact.id,
            contact_name: contact.name.clone(),
            contact_email: contact.email.clone(),
            session_expires_at,
            portal_status,
            time_zone: contact.time_zone,
            guest: contact.guest.clone(),
            language: contact.language,
        }
    }

    /// Whether this participant may reach `reach` (a task, or anything portal-wide):
    /// [`guests::judge_reach`](crate::workflow::guests::judge_reach) with the
    /// session's guest record. Every client route asks it first.
    pub fn judge_reach(&self, reach: crate::workflow::guests::Reach) -> Result<()> {
        crate::workflow::guests::judge_reach(self.guest.as_ref(), reach)
    }
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
/// - **A store decides nothing.** Every refusal below comes from a function of
///   [`crate::access::rules`] (or a core type) that the store calls with the state it
///   loaded inside the unit; the store writes what the function answers. The error
///   meanings listed here are therefore exact: the conformance suite checks each.
/// - Tokens are known to the store only as hashes; it never receives or keeps a raw
///   token or code.
/// - **Invites.** `issue_invite` gives the contact a new invite and kills the
///   previous one in the same unit (the old hash is then `NotFound(Invite)`); it also
///   clears a revocation of the contact, and keeps `now` as the invite's issue time.
///   A hash that is not a current invite is `NotFound(Invite)`; otherwise
///   [`rules::judge_invite`](crate::access::rules::judge_invite) answers: a revoked
///   contact is `Revoked(Contact)`, a revoked invite `Revoked(Invite)`.
///   `issue_invite` queues the emails it is given in the same unit (see
///   [`OutboxStore`]): a refused re-issue queues nothing.
///   `revoke_invite` keeps `now` as the revocation time (the first one stays) and
///   does not touch sessions. `open_invite` changes nothing.
///   `issue_invite` also clears the contact's `awaiting_approval` in the same unit:
///   issuing the invite of a colleague awaiting approval *is* the approval.
/// - **Colleagues.** `invite_colleague` creates a contact a signed-in contact
///   invited, in one unit: it reads the portal's `colleague_invitations` mode and
///   counts the portal's contacts that are not revoked **inside the unit**, then
///   calls [`team::judge_colleague_invite`](crate::workflow::team::judge_colleague_invite)
///   with them, the `cap` it is given, the new contact's `awaiting_approval` and
///   whether a `token` came with it (`Forbidden` when the mode is off,
///   `LimitReached(ContactsPerPortal)` at the cap, `Conflict` for a colleague
///   prepared for another mode); an email already on a contact of the portal is
///   `Conflict`, a missing portal `NotFound(Portal)`, an activity entry of another
///   portal `Invalid`. If allowed it writes the contact as given (with `invited_by`,
///   `awaiting_approval`, `role`), its invite when a `token` is given (issued at the
///   contact's `created_at`), the `emails` and the `activity` entry, all in the same
///   unit; a refused call writes none of them. Two invitations racing for the last
///   place: exactly one wins. Guests (contacts whose `guest` is set) are not
///   colleagues: they are not counted towards the cap.
/// - **Guests.** `add_guest` creates a guest staff invited, in one unit: a contact
///   without `guest` is `Invalid("contact")`, a missing portal `NotFound(Portal)`, an
///   email already on a contact of the portal `Conflict`, an activity entry of
///   another portal `Invalid`; each task of `guest.shared_tasks` is loaded inside the
///   unit and judged by
///   [`guests::judge_shareable`](crate::workflow::guests::judge_shareable) (a task
///   that is not the portal's: `NotFound(Task)`; internal or not the client's:
///   `Invalid("task_ids")`), repeats dropped by
///   [`guests::share`](crate::workflow::guests::share). If allowed it writes the
///   contact, its invite (issued at `created_at`), the `emails` and the `activity`
///   entry; a refused call writes none of them.
///   `share_task` shares (or, `shared: false`, unshares) one task with a guest: a
///   missing contact is `NotFound(Contact)`, a contact that is not a guest
///   `Invalid("contact")`; sharing loads the task inside the unit and asks
///   `judge_shareable` (unsharing does not need the task to exist), then writes
///   what `guests::share` answers with the `activity` entry, in one unit, and
///   returns the contact as stored. Sharing an already shared task, or unsharing
///   one that is not, keeps the list as it is (the entry is still appended).
///   `end_guest_access` sets the guest's end of access to what
///   [`guests::end_access`](crate::workflow::guests::end_access) answers for `at`
///   (an earlier end stays), with the `activity` entry in one unit, and returns the
///   contact as stored; not a guest: `Invalid("contact")`.
/// - **Handover from the previous provider.** `start_handover` writes the built-in
///   phase ([`crate::workflow::handover`]) in ONE unit: it asks
///   [`handover::judge_records`](crate::workflow::handover::judge_records) (the
///   tasks in the phase, the guest naming the phase and sharing exactly its tasks:
///   `Invalid` otherwise), then, with the portal's phases and contacts loaded inside
///   the unit, [`handover::judge_start`](crate::workflow::handover::judge_start): a
///   portal with a guest whose `handover_phase` is still one of its phases is
///   `Conflict` and nothing is written. If allowed it appends the phase last, its
///   tasks in the order given (positions numbered as `add_phase` / `add_task` do),
///   then creates the guest exactly as `add_guest` does (the shared tasks judged,
///   the invite, the `emails`, the `activity` entry) and returns the phase, the
///   tasks and the guest as stored. Every refusal of `add_guest` (a taken email, an
///   entry of another portal, a missing portal) refuses the whole handover: no
///   phase, no task, no guest, no invite, no email, no entry.
/// - **A guest past their end date.** Every judgement of a contact above is made at
///   the step's instant through
///   [`rules::judge_contact_at`](crate::access::rules::judge_contact_at): `open_invite`
///   (at its `now`), `start_verification` (at the code's `issued_at`), `verification`,
///   `issue_code`, `redeem_*` and `magic_link` answer `Revoked(Contact)`, and
///   `authenticate` passes
///   [`rules::contact_revoked_at`](crate::access::rules::contact_revoked_at) as the
///   session's `contact_revoked` (`Revoked(Session)`), for a guest whose
///   `access_ends_at` is before that instant: no write by the MSP is needed for the
///   end date to take effect.
/// - **A verification lives no longer than its invite.** `issue_invite`,
///   `revoke_invite` and `revoke_contact` *end* every unfinished verification of the
///   contact in the same unit (its live code and magic link die with it, and it never
///   works again, even after a re-invite). Every step on an unfinished verification
///   then asks [`rules::judge_verification`](crate::access::rules::judge_verification)
///   (by magic link: [`rules::judge_link_verification`](crate::access::rules::judge_link_verification))
///   with the verification's `ended` flag and its expiry, fixed at its start by
///   [`rules::verification_expiry`](crate::access::rules::verification_expiry): a
///   revoked contact is `Revoked(Contact)`, an ended verification
///   `NotFound(Verification)` (its links `NotFound(MagicLink)`), one past its lifetime
///   `Expired(Verification)` (for the view, new codes, codes and links alike).
/// - **Verification emails.** Every verification email is one code: the first code
///   of `start_verification` and every code of `issue_code`. Both count the codes sent
///   to the contact (of any verification) and ask
///   [`rules::judge_email`](crate::access::rules::judge_email) with their send times
///   (the newest `max_emails_per_contact` are enough): over the limit is
///   `LimitReached(EmailsPerContact)` and nothing is written.
/// - **Verification.** `start_verification` judges the invite as above, then the
///   email limit; if allowed, it creates the verification with its first code,
///   expiring at `verification_expiry(code.issued_at)`, and kills every other live
///   code and magic link of the contact.
///   `verification` is `NotFound(Verification)` for an unknown or completed one, then
///   judged as above at `now`.
///   `issue_code` is `NotFound(Verification)` likewise, judged as above at the code's
///   `issued_at`, then
///   [`rules::judge_code_request`](crate::access::rules::judge_code_request)
///   (`LimitReached(CodesPerVerification)`), then the email limit; otherwise it
///   replaces the live code and magic link **and kills every other live code of the
///   contact**: a contact has at most one live code across all its verifications, the
///   newest.
///   `withdraw_code` takes back a code whose email could not be sent: if `magic` is
///   still the live link of the verification, it applies
///   [`rules::judge_withdrawal`](crate::access::rules::judge_withdrawal) (delete the
///   verification, or clear its code and count it as never issued) and the email no
///   longer counts towards the contact's email limit; otherwise, or for an unknown
///   verification, it does nothing and is not an error.
/// - **Redeeming.** `redeem_code` is `NotFound(Verification)`, then judged as above,
///   then applies [`rules::judge_code`](crate::access::rules::judge_code) with the
///   live code and the contact's [`CodeGuard`](crate::access::rules::CodeGuard) (a
///   contact without one: the default): a locked-out contact is
///   `LimitReached(ContactLockedOut)` before any code is compared, right or wrong; no
///   live code (killed by a newer verification or a revocation) is `Expired(Code)`; a
///   wrong code counts one wrong try of the code and of the contact (the new guard),
///   persisted even though an error is returned (the try that reaches the contact's
///   cap answers `LimitReached(ContactLockedOut)`).
///   `magic_link` and `redeem_magic_link`: a hash that is not the latest link of an
///   unfinished verification (unknown, used, replaced by a newer code of the same
///   verification, withdrawn) is `NotFound(MagicLink)`; then the verification is
///   judged by `judge_link_verification` (a revoked contact is `Revoked(Contact)` even
///   though the revocation killed the link); then a link killed by a newer code of
///   the contact is `NotFound(MagicLink)`; then
///   [`rules::judge_magic_link`](crate::access::rules::judge_magic_link) answers. A
///   lockout does not refuse magic links: they need the mailbox, not a guess.
///   Success creates the session and completes the verification (its code and link
///   stop working). Two concurrent redemptions of one code or link create exactly one
///   session; N concurrent wrong codes count N tries, for the code and the contact.
/// - **Sessions.** `authenticate` is `NotFound(Session)` for an unknown hash, then
///   applies [`rules::judge_session`](crate::access::rules::judge_session) with the
///   session's own revocation and its contact's (`Revoked(Session)`; ended or expired:
///   `Expired(Session)`), writes the note it asks for (the request as the session's
///   last seen, and the slide if any) and nothing else to the session, so a session
///   is written at most once per `refresh_after` however busy its client, and appends
///   a `PortalRequest` access entry, all in one unit; a refused call writes nothing.
///   `end_session` keeps `now` as the end time (the first one stays); an unknown
///   session is not an error.
/// - **Revocation.** `revoke_contact` marks the contact revoked at `now` (the first
///   time stays) and, in the same unit, revokes its invite, ends its unfinished
///   verifications (killing their codes and magic links), and revokes its sessions:
///   any `authenticate`, `issue_code` or `redeem_*` that commits after it answers
///   `Revoked`.
/// - **Concurrency: what to lock.** A store with concurrent writers serialises each
///   unit on the record its decision reads: the *contact* (`SELECT … FOR UPDATE`) for
///   `start_verification` and `issue_code` (the email count: concurrent sends at the
///   limit count each other), `redeem_code` (the contact's guard: concurrent wrong
///   codes in different verifications each count), `withdraw_code` (it gives an
///   email back), `issue_invite`, `revoke_invite` and `revoke_contact` (they end the
///   contact's verifications); the *verification* too for `issue_code`,
///   `withdraw_code`, `redeem_code` and `redeem_magic_link` (so concurrent wrong codes
///   each count and a code is redeemed once); the *session* for `authenticate`.
///   Revocation must not be missed by a unit racing it: lock the contact (`FOR SHARE`
///   is enough) in the magic-link and session units too. Lock the contact before the
///   verification, always in that order. A store running SERIALIZABLE transactions
///   instead retries the whole unit on a serialization failure, invisibly to the
///   caller, including a wrong-code count.
/// - Access entries are append-only and returned newest first (ties: the later
///   appended first). The only removal is the retention prune.
/// - **Retention.** `prune_access_log(before, max_rows)` removes access entries of
///   *every* portal whose `at` is strictly before `before` (an entry exactly at
///   `before` stays), the oldest first (ties: the earlier appended first), at most
///   `max_rows` of them (`0` removes nothing), and returns exactly how many it removed.
///   It touches no entry at or after `before` and nothing but the access log. The
///   store does not choose `before`: the caller computes it with
///   [`rules::retention_cutoff`](crate::access::rules::retention_cutoff) and calls
///   again while a full batch comes back, so a store may run each call as one short
///   unit and never hold its writer for the whole prune. Pruning is idempotent:
///   concurrent or repeated prunes with the same `before` remove each entry once.
#[async_trait]
pub trait AccessStore: Send + Sync + 'static {
    /// Gives a contact a new invite (re-issue kills the old one; clears revocation),
    /// and queues `emails` (the invitation) and appends `activity` when given in the
    /// same unit (an entry of the contact's portal, else `Invalid` and nothing
    /// written; a missing contact writes no entry either).
    async fn issue_invite(
        &self,
        contact: ContactId,
        token: &TokenHash,
        now: DateTime<Utc>,
        emails: &[OutboxMessage],
        activity: Option<&ActivityEntry>,
    ) -> Result<ContactInPortal>;
    /// Kills a contact's invite and its unfinished verifications, without touching its
    /// sessions; appends `activity` when given in the same unit (as [`Self::issue_invite`]).
    async fn revoke_invite(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        activity: Option<&ActivityEntry>,
    ) -> Result<()>;
    /// Who an invite is for, judged at `now`. Changes nothing.
    async fn open_invite(&self, token: &TokenHash, now: DateTime<Utc>) -> Result<ContactInPortal>;
    /// Creates a guest with their shared tasks, invite, invitation email and feed
    /// entry in one unit (see the contract above).
    async fn add_guest(&self, guest: &NewGuest) -> Result<ContactInPortal>;
    /// Starts the handover from the client's previous provider: the phase, its
    /// tasks and the guest they are shared with, in one unit that refuses a second
    /// handover (see the contract above).
    async fn start_handover(&self, handover: &NewHandover) -> Result<Handover>;
    /// Shares (`shared: true`) or unshares a task with a guest, with `activity`, in
    /// one unit; returns the contact as stored (see the contract above).
    async fn share_task(
        &self,
        contact: ContactId,
        task: TaskId,
        shared: bool,
        activity: &ActivityEntry,
    ) -> Result<Contact>;
    /// Ends a guest's access at `at` (an earlier end stays), with `activity`, in one
    /// unit; returns the contact as stored (see the contract above).
    async fn end_guest_access(
        &self,
        contact: ContactId,
        at: DateTime<Utc>,
        activity: &ActivityEntry,
    ) -> Result<Contact>;
    /// Creates a colleague a signed-in contact invited, with its invite (when the
    /// portal sends invitations at once), its emails and its feed entry, in one unit
    /// that checks the portal's mode and contact cap (see the contract above).
    async fn invite_colleague(&self, invite: &ColleagueInvite) -> Result<ContactInPortal>;
    /// Starts a verification from an invite with its first code.
    async fn start_verification(
        &self,
        invite: &TokenHash,
        verification: &TokenHash,
        code: &NewCode,
        policy: &AccessPolicy,
    ) -> Result<ContactInPortal>;
    /// Where a verification stands at `now`. `NotFound` once completed, ended or if
    /// unknown; `Expired` past its lifetime.
    async fn verification(
        &self,
        verification: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<VerificationView>;
    /// Issues another code in a verification (at the code's `issued_at`), replacing
    /// the live one. Returns the number of codes issued so far, this one included.
    async fn issue_code(
        &self,
        verification: &TokenHash,
        code: &NewCode,
        policy: &AccessPolicy,
    ) -> Result<(ContactInPortal, u32)>;
    /// Takes back the code whose magic link is `magic` when its email could not be sent.
    async fn withdraw_code(&self, verification: &TokenHash, magic: &TokenHash) -> Result<()>;
    /// Checks a typed code and, if right, creates the session.
    async fn redeem_code(
        &self,
        verification: &TokenHash,
        presented: &CodeHash,
        now: DateTime<Utc>,
        policy: &AccessPolicy,
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
    /// The contact's live sessions at `now` (see
    /// [`rules::session_live`](crate::access::rules::session_live)), the most
    /// recently seen first. Changes nothing.
    ///
    /// # Contract
    /// Only `contact`'s sessions, only live ones (an ended, revoked or expired
    /// session is not listed); `last_seen_at` and `user_agent` are those of the last
    /// [`Self::authenticate`] of the session that wrote its note (before any: the
    /// creation time and [`NewSession::user_agent`]). An unknown contact has none
    /// (empty list).
    async fn contact_sessions(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionSummary>>;
    /// "Sign out other devices": ends every session of `contact` but `keep`, at `now`,
    /// in ONE unit; returns how many it ended.
    ///
    /// # Contract
    /// Afterwards `authenticate` of each other session of the contact answers as
    /// after [`Self::end_session`] (`Expired(Session)`); `keep` still authenticates;
    /// sessions of other contacts are untouched; already ended sessions keep their
    /// first end time and are not counted. `keep` need not belong to the contact (it
    /// is then simply not spared).
    async fn end_other_sessions(
        &self,
        contact: ContactId,
        keep: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<u32>;
    /// The contact changes the time zone every time they see is shown in (and their
    /// reminders are timed by); returns the contact as stored.
    ///
    /// # Contract
    /// `NotFound(Contact)` if missing (nothing written). Afterwards
    /// [`DirectoryStore::contact`] and the `ClientContext` of the contact's next
    /// `authenticate` carry `zone`; nothing else of the contact changes.
    async fn set_contact_time_zone(
        &self,
        contact: ContactId,
        zone: crate::model::TimeZone,
    ) -> Result<Contact>;
    /// Revokes a contact's access: invite, codes, links and sessions, at once, with
    /// `activity` when given appended in the same unit (as [`Self::issue_invite`]).
    async fn revoke_contact(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        activity: Option<&ActivityEntry>,
    ) -> Result<()>;
    /// Removes a contact for good, in one unit with `activity` (an entry of the
    /// contact's portal, else `Invalid` and nothing written): the contact record, its
    /// invite, verifications (codes and magic links), verification-email counts, code
    /// guard, sessions and access-log entries are deleted. Afterwards every token of
    /// it answers `NotFound`, and the contact is in no listing. Records that only name
    /// the contact (comments, questions, activity, uploaded files) are kept: they hold
    /// the name as it was. `NotFound(Contact)` if missing.
    async fn remove_contact(&self, contact: ContactId, activity: &ActivityEntry) -> Result<()>;
    /// Appends an access entry.
    async fn record_access(&self, entry: &AccessLogEntry) -> Result<()>;
    /// A portal's access log, newest first, at most `limit` entries.
    async fn access_log(&self, portal: PortalId, limit: usize) -> Result<Vec<AccessLogEntry>>;
    /// One page of a portal's access log in the order of [`Self::access_log`]: at most
    /// `limit` entries after `after` (from the newest when `None`), read by key, never
    /// by offset (see [`Page`]'s contract).
    async fn access_log_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<AccessLogEntry>>;
    /// Removes up to `max_rows` access entries (of any portal) older than `before`,
    /// the oldest first, and returns how many it removed. An entry exactly at
    /// `before` stays.
    async fn prune_access_log(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64>;
}

impl TaskChange {
    /// The task to store over `current` and the activity entry to append: the fields
    /// that a task action never changes (`id`, `portal_id`, `phase_id`, `position`,
    /// `created_at`, and the plan's `assigned_to`, `waits_on`, `internal`, `for_role`, which only
    /// plan edits change) are kept from `current`, whatever the decision returned, the
    /// `version` is `current`'s plus one, and an entry of another portal is refused
    /// (`Invalid("activity")`) before anything is written.
    pub fn apply_to(self, current: &Task) -> Result<(Task, ActivityEntry)> {
        self.activity.ensure_portal(current.portal_id)?;
        let task = Task {
            id: current.id,
            portal_id: current.portal_id,
            phase_id: current.phase_id,
            position: current.position,
            created_at: current.created_at,
            version: current.version.saturating_add(1),
            assigned_to: current.assigned_to.clone(),
            waits_on: current.waits_on.clone(),
            internal: current.internal,
            for_role: current.for_role.clone(),
            ..self.task
        };
        Ok((task, self.activity))
    }
}

impl ActivityEntry {
    /// Refuses an entry that would land in another portal's feed than the record it
    /// describes (`Invalid("activity")`); stores call it before writing anything.
    pub fn ensure_portal(&self, portal: PortalId) -> Result<()> {
        if self.portal_id == portal {
            Ok(())
        } else {
            Err(Error::invalid(
                "activity",
                "must belong to the portal of the change it records",
            ))
        }
    }
}

/// Decides a task's next state from its current one: the workflow's rules
/// ([`crate::workflow::apply`]) wrapped by the service. Stores call it inside their
/// transaction, with the task as stored, and write what it returns.
pub type TaskDecision = std::sync::Arc<dyn Fn(&Task) -> Result<TaskChange> + Send + Sync>;

/// The task workflow: task changes, comments, questions, the activity feed, branding.
///
/// # Contract
/// - Everything is scoped by portal: a task, comment or question asked for through
///   another portal is `NotFound` (`Task`, `Question`), and nothing is written.
///   Listing a portal's questions or activity is never an error (a missing portal has
///   none); listing comments is scoped by a task, so a task that is missing or of
///   another portal is `NotFound(Task)`.
/// - `update_task` is one unit: read the task, call `decide` once with it, and, if it
///   returns `Ok`, write what [`TaskChange::apply_to`] makes of it (the fields that
///   never change are kept; an activity entry of another portal is refused). If
///   `decide` errs, nothing is written and its error is returned unchanged.
///   Concurrent updates of one task are serialised: each `decide` sees the result of
///   the previous one (lock the task row: `SELECT … FOR UPDATE`).
/// - `add_comment` and `add_question` store the record, append the activity entry and
///   queue the emails they are given together (see [`OutboxStore`]); `answer_question` sets the answer, appends the entry and queues its emails together, and
///   refuses with `Conflict` if the question already has an answer (two concurrent
///   answers: exactly one wins). An activity entry of another portal than its record
///   is `Invalid("activity")` ([`ActivityEntry::ensure_portal`]); a foreign or missing
///   parent is `NotFound` first.
/// - **Order.** Comments are listed oldest first; questions and activity newest
///   first. Equal times are ordered by commit order (comments: earlier committed
///   first; questions and activity: later committed first). A store with concurrent
///   writers assigns the tie-breaking number inside the unit while holding a lock on
///   the parent (the task for comments, the portal for questions and activity), e.g.
///   `SELECT … FOR UPDATE` on the portal row, then `MAX(seq) + 1`: numbers are then
///   distinct and gap-free per parent, in commit order. A global sequence alone is not
///   enough: two units can commit in the other order than they drew their numbers.
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
    /// Adds a comment to a task of the comment's portal, with its activity entry, and
    /// queues `emails` (the MSP's notification, if any) in the same unit.
    async fn add_comment(
        &self,
        comment: &Comment,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<()>;
    /// A task's comments, oldest first.
    async fn comments(&self, portal: PortalId, task: TaskId) -> Result<Vec<Comment>>;
    /// Stores a client's question with its activity entry, and queues `emails` (the
    /// MSP's notification, if any) in the same unit.
    async fn add_question(
        &self,
        question: &ClientQuestion,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<()>;
    /// Answers a question (once), with its activity entry, and queues `emails` (the
    /// client's notification) in the same unit; returns the answered question.
    async fn answer_question(
        &self,
        portal: PortalId,
        question: QuestionId,
        answer: &QuestionAnswer,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<ClientQuestion>;
    /// A portal's questions, newest first.
    async fn questions(&self, portal: PortalId) -> Result<Vec<ClientQuestion>>;
    /// A portal's activity feed, newest first, at most `limit` entries.
    async fn activity(&self, portal: PortalId, limit: usize) -> Result<Vec<ActivityEntry>>;
    /// One page of a portal's activity feed in the order of [`Self::activity`]: at
    /// most `limit` entries after `after` (from the newest when `None`), read by key,
    /// never by offset (see [`Page`]'s contract).
    async fn activity_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<ActivityEntry>>;
    /// Replaces a tenant's branding defaults and raises its version.
    async fn set_tenant_branding(&self, tenant: TenantId, branding: &Branding) -> Result<()>;
    /// Replaces one portal's branding and raises its version.
    async fn set_portal_branding(&self, portal: PortalId, branding: &Branding) -> Result<()>;
}

/// Uploaded files of document upload tasks: their records (the bytes are in a
/// [`crate::blob::BlobStore`]), the review queue, and key rotation.
///
/// # Contract
/// - Everything is scoped by portal: a task or file asked for through another portal
///   is `NotFound` (`Task`, `File`) and nothing is written. `review_queue` is scoped
///   by tenant.
/// - `add_document_file` is one unit: read the task, call `decide` once with it, and,
///   if it returns `Ok`, check [`crate::workflow::DocumentChange::ensure_belongs`] with
///   the tenant of the portal as stored, insert the file record, set the review of
///   `superseded` (if any, and only if it is a pending file of the same task and
///   document) to [`crate::workflow::FileReview::Superseded`] by the new file, and
///   write the task and activity entry as `update_task` does
///   ([`TaskChange::apply_to`]), and queue the change's `emails` (see [`OutboxStore`]). A file id that exists, or a blob another file points
///   at, is `Conflict` and nothing is written. If `decide` errs,
///   nothing is written and its error is returned unchanged. Serialised with every
///   other change of the same task (`update_task` included): lock the task row.
/// - `update_document_file` is one unit: read the file (`NotFound(File)` if it is not
///   a file of `portal`) and its task, call `decide` once with both, and write the
///   file as [`crate::workflow::DocumentChange::file_over`] makes it (only the scan verdict and review
///   change), with the task and activity entry, and queue the change's `emails`.
///   Serialised like `add_document_file`.
/// - `document_files` lists a portal's files, all versions, ordered by upload time,
///   ties in commit order (earlier first). A missing portal has none.
/// - `review_queue` lists the files of `tenant` whose review is
///   [`crate::workflow::FileReview::Pending`], oldest upload first (ties in commit order), at most
///   `limit`. Superseded, reviewed and quarantined files are not in it.
/// - Key rotation: `files_to_rewrap` lists up to `limit` files (of every tenant) whose
///   wrapped key's id is not `active`, ordered by file id, starting after `after`;
///   `replace_file_key` sets a file's wrapped key to `new` only if it is still
///   `expected` (answers whether it did), so a concurrent rotation never overwrites a
///   newer key with an older one. It changes nothing else.
/// - Key rotation of every other sealed record: `sealed_keys_to_rewrap(kind, active,
///   after, limit)` lists up to `limit` wrapped keys of `kind` (of every tenant) whose
///   key id is not `active`, ordered by their [`SealedAt`] (see there for what it is per
///   kind), starting strictly after `after`, each with the binding of its record as
///   stored (see [`crate::blob::rotation::SealedBinding`]). It lists, per kind: the image of every drawn
///   signature ([`SignatureStore`]); every attached signature document; every dropped
///   file ([`FileDropStore`]) whose bytes are not removed; every sealed field of every
///   credential handoff that is not purged ([`CredentialStore`]), `part` being the
///   field's position in the record; every file attached to a task
///   ([`AttachmentStore`]). None may be left out: a kind a store skips stays
///   under the old key and becomes unreadable once that key is retired.
///   `replace_sealed_key(kind, at, expected, new)` sets that one wrapped key to `new`
///   only if it is still `expected` and answers whether it did; a record that is gone
///   (or a key that is not `expected`) answers `false` and nothing is written. It
///   changes nothing else (the content, its hash, the record's other fields).
/// - `blob_in_use` answers whether any file record, signature image
///   ([`SignatureStore`]) or task attachment ([`AttachmentStore`]) points at `blob` (orphan sweeps remove only blobs no record
///   points at).
#[async_trait]
pub trait DocumentStore: Send + Sync + 'static {
    /// Records a new upload with its task change, atomically.
    async fn add_document_file(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: UploadDecision,
    ) -> Result<DocumentFile>;
    /// Changes a file's scan verdict or review with its task change, atomically.
    async fn update_document_file(
        &self,
        portal: PortalId,
        file: FileId,
        decide: FileDecision,
    ) -> Result<DocumentFile>;
    /// One file of a portal.
    async fn document_file(&self, portal: PortalId, file: FileId) -> Result<DocumentFile>;
    /// A portal's files, every version, oldest first.
    async fn document_files(&self, portal: PortalId) -> Result<Vec<DocumentFile>>;
    /// A tenant's files awaiting review, oldest first, at most `limit`.
    async fn review_queue(&self, tenant: TenantId, limit: usize) -> Result<Vec<DocumentFile>>;
    /// Files whose data key is wrapped by another key than `active`, by file id.
    async fn files_to_rewrap(
        &self,
        active: &KeyId,
        after: Option<FileId>,
        limit: usize,
    ) -> Result<Vec<DocumentFile>>;
    /// Replaces a file's wrapped key if it is still `expected`; answers whether it did.
    async fn replace_file_key(
        &self,
        file: FileId,
        expected: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool>;
    /// Wrapped keys of `kind` under another key than `active`, by [`SealedAt`].
    async fn sealed_keys_to_rewrap(
        &self,
        kind: SealedKind,
        active: &KeyId,
        after: Option<SealedAt>,
        limit: usize,
    ) -> Result<Vec<SealedKey>>;
    /// Replaces one wrapped key of `kind` if it is still `expected`; answers whether
    /// it did.
    async fn replace_sealed_key(
        &self,
        kind: SealedKind,
        at: SealedAt,
        expected: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool>;
    /// Whether a file record points at `blob`.
    async fn blob_in_use(&self, blob: BlobId) -> Result<bool>;
}

/// The audit trail: each portal's append-only hash chain of evidence events (see
/// [`crate::audit`]).
///
/// # Contract
/// - **Append-only.** Nothing changes or removes an appended event except
///   `delete_portal`, which erases the portal's whole chain with the portal (its
///   erasure log entry keeps the chain's length and head hash). Every later read
///   answers an event exactly as its append returned it.
/// - **Sealed by the rule.** An append is one unit: load the portal (`NotFound(Portal)`
///   if missing), check [`crate::audit::ensure_portal`] with its id and tenant
///   (`Invalid("audit")`), load the head of the portal's chain (its last event, or
///   none), call [`crate::audit::seal`] with it and store exactly what it answers. A
///   refused append writes nothing.
/// - **Gap-free under concurrency.** Concurrent appends to one portal are serialised
///   on the portal (lock its row, or its chain head, for the whole unit): N concurrent
///   appends get N distinct, consecutive numbers, each linked to the one before. A
///   global counter is not enough; a number is never reused, even by a failed unit
///   (a failed unit writes nothing, so it draws none).
/// - **With its cause.** The units that record evidence append their event in the same
///   unit as the record: `add_document_file` and `update_document_file` append the
///   change's [`crate::workflow::DocumentChange::audit`] entry (if any) after the
///   change's other checks, so a refused upload or review appends nothing, and a
///   committed one is in the chain. An entry that cannot join the portal's chain
///   (`Invalid("audit")`, as above) refuses the whole unit: no file, no task change.
/// - `audit_events(portal, after, limit)` lists the events numbered above `after`, in
///   number order, at most `limit` (`0`: none). A portal with none (or missing) has an
///   empty list.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Appends one event to its portal's chain on its own; returns it as stored.
    async fn append_audit(
        &self,
        entry: &crate::audit::AuditEntry,
    ) -> Result<crate::audit::ChainedEvent>;
    /// A portal's events numbered above `after`, in order, at most `limit`.
    async fn audit_events(
        &self,
        portal: PortalId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<crate::audit::ChainedEvent>>;
}

/// Credential handoffs: each task's sealed fields ([`crate::credentials`]), submitted
/// once by the client, revealed and purged by staff, each step with its audit event.
///
/// # Contract
/// - **Scoped by portal.** A task that is missing or of another portal is
///   `NotFound(Task)` and nothing is written; a task without a submission is
///   `NotFound(Credentials)`.
/// - **Submitted once.** `submit_credentials` is one unit: read the task
///   (`NotFound(Task)`); if the task has a record (even a purged one) it is `Conflict`
///   and nothing is written, so a second submit never replaces the first; call
///   `decide` once with the task (its error is returned unchanged); check
///   [`CredentialRecord::ensure_belongs`](crate::credentials::CredentialRecord::ensure_belongs)
///   with the portal's tenant (`Invalid("credentials")`) and
///   [`crate::audit::ensure_portal`] (`Invalid("audit")`); then store the record,
///   write the task change as `update_task` does, and append the audit entry (see
///   [`AuditStore`]), and queue `emails` (the MSP's notices of the submission) in the
///   same unit: a refused submit queues none. Serialised with every other change of
///   the task.
/// - `credentials` reads the record as stored.
/// - **Reveal.** `reveal_credentials` is one unit: read the record (as above); a purged
///   one is `Conflict`; append the audit entry (`Invalid("audit")` if it is not of the
///   portal); answer the record. No reveal without its event.
/// - **Purge.** `purge_credentials` is one unit: read the record; a purged one is
///   `Conflict`; delete every sealed field (the ciphertext is gone from storage, not
///   flagged), keep `purged` as given, append the audit entry. Audit events stay.
/// - `delete_portal` erases the portal's records with everything else.
#[async_trait]
pub trait CredentialStore: Send + Sync + 'static {
    /// Stores a task's submission with its task change and audit event, once.
    async fn submit_credentials(
        &self,
        record: &crate::credentials::CredentialRecord,
        decide: TaskDecision,
        audit: &crate::audit::AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task>;
    /// A task's submission as stored.
    async fn credentials(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<crate::credentials::CredentialRecord>;
    /// Appends the reveal's audit event and answers the submission, atomically.
    async fn reveal_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        audit: &crate::audit::AuditEntry,
    ) -> Result<crate::credentials::CredentialRecord>;
    /// Deletes a submission's sealed fields, keeps who purged it, appends the event.
    async fn purge_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        purged: &crate::workflow::CheckMark,
        audit: &crate::audit::AuditEntry,
    ) -> Result<()>;
}

/// Secure file drops: the records of dropped files (the bytes are in a
/// [`crate::blob::BlobStore`]), each step with its audit event and feed entry.
///
/// # Contract
/// - **Scoped by portal.** A task that is missing or of another portal is
///   `NotFound(Task)`, a file that is missing or of another portal `NotFound(File)`,
///   and nothing is written.
/// - **Drop.** `add_dropped_file` is one unit: read the task (`NotFound(Task)`), call
///   `decide` once with it (its error is returned unchanged); check the answer's file
///   with [`DroppedFile::ensure_belongs`](crate::filedrop::DroppedFile::ensure_belongs)
///   and the portal's tenant (`Invalid("file")`) and
///   [`DropChange::ensure_portal`](crate::filedrop::DropChange::ensure_portal)
///   (`Invalid("audit")`, `Invalid("activity")`); a file id that exists, or a blob
///   another file (dropped or uploaded) points at, is `Conflict`. Then insert the
///   file, append the feed entry and the audit event. A refused drop writes nothing.
/// - **Change.** `change_dropped_file` is one unit: read the file (`NotFound(File)`)
///   and its task, call `decide` once with both, check the answer with
///   [`DroppedFile::ensure_same_file`](crate::filedrop::DroppedFile::ensure_same_file)
///   against the file as read (`Invalid("file")`) and `ensure_portal` as above, then
///   write the file's marks (downloaded, deleted, expired), the feed entry and the
///   audit event. Delete, download and expiry all go through it.
/// - **Serialised per file.** Concurrent changes of one file never interleave: each
///   `decide` sees the result of the previous unit (lock the file row). So of a
///   concurrent delete and download exactly one wins (the rules refuse the other).
/// - `dropped_file` reads one file as stored; `dropped_files(portal, task)` lists a
///   task's files (every state), oldest drop first, ties in commit order; a task with
///   none, missing or of another portal has an empty list.
/// - **Sweeping.** `drops_to_sweep(now, limit)` lists, across every tenant, up to
///   `limit` files that [`need a sweep`](crate::filedrop::DroppedFile::needs_sweep) at
///   `now` (due to expire: `now >= expires_at`, not marked; or deleted or expired with
///   their bytes not yet removed), the earliest `expires_at` first, ties by file id.
///   `mark_drop_bytes_removed(file)` sets `bytes_removed` on a file that is marked
///   deleted or expired and answers whether it changed anything (`false`: already
///   set); on an unmarked file it is `Conflict` and changes nothing (its bytes must
///   stay readable); a missing file is `NotFound(File)`.
/// - [`DocumentStore::blob_in_use`] answers `true` for a dropped file's blob too, until
///   its bytes are removed; `delete_portal` erases the portal's dropped files and
///   returns their blobs (those not removed yet) with the others.
#[async_trait]
pub trait FileDropStore: Send + Sync + 'static {
    /// Records a dropped file with its audit event and feed entry, atomically.
    async fn add_dropped_file(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: crate::filedrop::NewDropDecision,
    ) -> Result<crate::filedrop::DroppedFile>;
    /// Changes a dropped file's marks with its audit event and feed entry, atomically.
    async fn change_dropped_file(
        &self,
        portal: PortalId,
        file: FileId,
        decide: crate::filedrop::DropDecision,
    ) -> Result<crate::filedrop::DroppedFile>;
    /// One dropped file of a portal, as stored.
    async fn dropped_file(
        &self,
        portal: PortalId,
        file: FileId,
    ) -> Result<crate::filedrop::DroppedFile>;
    /// A task's dropped files, every state, oldest first.
    async fn dropped_files(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<crate::filedrop::DroppedFile>>;
    /// Files the sweeper has work on at `now`, earliest expiry first, at most `limit`.
    async fn drops_to_sweep(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<crate::filedrop::DroppedFile>>;
    /// Records that a marked file's bytes are gone; answers whether it changed.
    async fn mark_drop_bytes_removed(&self, file: FileId) -> Result<bool>;
}

/// Signature tasks: each task's one signature ([`crate::signatures`]), kept with its
/// task's completion, its feed entry, its audit event and the MSP's notices.
///
/// # Contract
/// - **Scoped by portal.** A task that is missing or of another portal is
///   `NotFound(Task)` and nothing is written; a task without a signature is
///   `NotFound(Signature)`.
/// - **Signed once.** `submit_signature` is one unit: read the task
///   (`NotFound(Task)`); if the task has a signature it is `Conflict` and nothing is
///   written, so a second signature never replaces the first; call `decide` once with
///   the task (its error is returned unchanged); check
///   [`SignatureRecord::ensure_belongs`](crate::signatures::SignatureRecord::ensure_belongs)
///   with the portal's tenant (`Invalid("signature")`) and
///   [`crate::audit::ensure_portal`] (`Invalid("audit")`); then store the record,
///   write the task change as `update_task` does (with its feed entry), append the
///   audit entry (see [`AuditStore`]) and queue `emails` in the same unit: a refused
///   submit writes, appends and queues nothing. Serialised with every other change of
///   the task.
/// - `signature` reads the record exactly as stored (every field, hash and the image's
///   blob and wrapped key).
/// - `signatures_with_document(tenant, sha256)` lists the tenant's signatures whose
///   signed document has that SHA-256, oldest first, at most `limit`; other tenants'
///   are never listed.
/// - **Signed as attached.** In `submit_signature`, after `decide`: the record's
///   document must be the task's attached document as stored (see
///   [`crate::signatures::ensure_signed_document`]: same name, size and SHA-256), or
///   none when none is attached; otherwise `Conflict` and nothing is written. So a
///   document replaced while the client looked at the page is never recorded as signed.
/// - **The document to sign.** `attach_signature_document` is one unit: read the task
///   (`NotFound(Task)`); if the task is signed it is `Conflict` and nothing is written
///   (a signed document never changes); check
///   [`AttachedDocument::ensure_belongs`](crate::signatures::AttachedDocument::ensure_belongs)
///   with the portal's tenant (`Invalid("document")`) and [`crate::audit::ensure_portal`]
///   (`Invalid("audit")`); a blob another record (file, drop, image, document of another
///   task) points at is `Conflict`. Then store the document, replacing the task's
///   earlier one, and append the audit entry. Answers the replaced document's blob
///   (`None` if there was none) for the caller to delete. Serialised with
///   `submit_signature` on the same task, so a document is never replaced after the
///   signature that recorded it.
/// - `signature_document` reads a task's document exactly as stored; a task without
///   one is `NotFound(File)`.
/// - [`DocumentStore::blob_in_use`] answers `true` for an attached document's blob
///   (until it is replaced); `delete_portal` erases the portal's signatures and
///   documents with everything else and returns the documents' blobs and the drawn
///   images' blobs with the others.
#[async_trait]
pub trait SignatureStore: Send + Sync + 'static {
    /// Stores a task's signature with its task change, audit event and emails, once.
    async fn submit_signature(
        &self,
        record: &crate::signatures::SignatureRecord,
        decide: TaskDecision,
        audit: &crate::audit::AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task>;
    /// A task's signature as stored.
    async fn signature(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<crate::signatures::SignatureRecord>;
    /// A tenant's signatures of the document with this SHA-256, oldest first.
    async fn signatures_with_document(
        &self,
        tenant: TenantId,
        sha256: &[u8; 32],
        limit: usize,
    ) -> Result<Vec<crate::signatures::SignatureRecord>>;
    /// Stores (or replaces, until signed) a task's document with its audit event;
    /// answers the replaced document's blob.
    async fn attach_signature_document(
        &self,
        document: &crate::signatures::AttachedDocument,
        audit: &crate::audit::AuditEntry,
    ) -> Result<Option<BlobId>>;
    /// A signature task's document as stored.
    async fn signature_document(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<crate::signatures::AttachedDocument>;
}

/// Documents the MSP shares on a task ([`crate::attachments`]): the records of files
/// staff attach to any task, and who opened which document when.
///
/// # Contract
/// - **Scoped by portal.** Every method takes the portal: a task or attachment that is
///   missing or of another portal is `NotFound(Task)` / `NotFound(File)` and nothing
///   is written or answered.
/// - **Added in one unit.** `add_attachment(attachment, max_per_task, activity)` reads
///   the task
///   (`NotFound(Task)`), checks
///   [`TaskAttachment::ensure_belongs`](crate::attachments::TaskAttachment::ensure_belongs)
///   with the portal's tenant (`Invalid("attachment")`) and
///   [`ActivityEntry::ensure_portal`](crate::workflow::ActivityEntry::ensure_portal)
///   (`Invalid("activity")`), counts the task's attachments and calls
///   [`crate::attachments::may_add`] with that count and `max_per_task` (`Conflict`
///   at the cap; counted
///   inside the unit, so racing uploads never pass it together); an id that exists,
///   or a blob another record points at (file, drop, signature image or document,
///   attachment) is `Conflict`. Then it stores the record exactly as given and
///   appends the feed entry. A refused add writes nothing.
/// - `task_attachments(portal, task)` lists a task's attachments, `portal_attachments`
///   a portal's, each in the order they were added (oldest first; ties in commit
///   order), every field as stored. `attachment(portal, id)` reads one.
/// - **Deleted in one unit.** `delete_attachment(portal, id, activity)` removes the
///   record (`NotFound(File)` if missing) and appends the feed entry
///   ([`ActivityEntry::ensure_portal`](crate::workflow::ActivityEntry::ensure_portal),
///   `Invalid("activity")`), and answers its blob for the caller to delete. The opens
///   of its content stay: they are the history of what contacts read.
/// - **Opens.** `record_document_open(open)` reads the task (`NotFound(Task)`) and the
///   contact, who must be a contact of the same portal (`NotFound(Contact)`), and
///   keeps one open per (task, contact, SHA-256): the first one's time stays, a later
///   open of the same bytes changes nothing. `document_opens(portal, task)` lists a
///   task's opens, by time (ties in commit order).
/// - **Erasure.** A task deleted by [`PlanStore::change_plan`], or a portal deleted
///   by `delete_portal`, takes its attachments and opens with it in the same unit, the
///   attachments' blobs answered with the others (`erased_blobs`, the returned list);
///   a contact removed from the portal takes its opens.
///   [`DocumentStore::blob_in_use`] answers `true` for an attachment's blob until its
///   record is deleted, and [`DocumentStore::sealed_keys_to_rewrap`] lists every
///   attachment's key under [`SealedKind::TaskAttachment`].
#[async_trait]
pub trait AttachmentStore: Send + Sync + 'static {
    /// Stores a new attachment with its feed entry, atomically.
    async fn add_attachment(
        &self,
        attachment: &crate::attachments::TaskAttachment,
        max_per_task: usize,
        activity: &ActivityEntry,
    ) -> Result<()>;
    /// A task's attachments, oldest first.
    async fn task_attachments(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<crate::attachments::TaskAttachment>>;
    /// A portal's attachments, oldest first.
    async fn portal_attachments(
        &self,
        portal: PortalId,
    ) -> Result<Vec<crate::attachments::TaskAttachment>>;
    /// One attachment of a portal.
    async fn attachment(
        &self,
        portal: PortalId,
        id: crate::ids::AttachmentId,
    ) -> Result<crate::attachments::TaskAttachment>;
    /// Removes an attachment with its feed entry; answers its blob.
    async fn delete_attachment(
        &self,
        portal: PortalId,
        id: crate::ids::AttachmentId,
        activity: &ActivityEntry,
    ) -> Result<BlobId>;
    /// Records that a contact opened a task's document (the first time per content).
    async fn record_document_open(&self, open: &crate::attachments::DocumentOpen) -> Result<()>;
    /// A task's document opens, by time.
    async fn document_opens(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<crate::attachments::DocumentOpen>>;
}

/// The email outbox: emails queued by the units that cause them, claimed by senders
/// under a lease, and the outcome of each attempt. Every decision (when to retry, when
/// to give up) is taken by [`crate::outbox`] before the store is called; a store keeps
/// what it is told, atomically, and never lets two claims hold one email.
///
/// # Contract
/// - **Queued with their cause.** The units that cause emails take them as an argument
///   and queue them in the same transaction: `issue_invite`, `add_comment`,
///   `add_question`, `answer_question`, and the `emails` of the [`crate::workflow::DocumentChange`] that
///   `add_document_file` and `update_document_file` write, and
///   [`ReminderStore::record_digest`] and [`ReminderStore::record_escalation`]. A unit that is refused or
///   fails queues nothing; one that commits queues every email it was given.
///   `enqueue` queues emails on their own, all or none. An email is stored as given
///   (state, lease, attempts, times, bodies, attachments byte for byte, in order); an
///   id that exists is `Conflict` and
///   nothing of the unit is written.
/// - **Claims.** `claim_due(now, lease_until, limit, claim)` is one unit: it takes up
///   to `limit` emails that are [`OutboxMessage::claimable`] at `now` (pending,
///   `next_attempt_at <= now`, and no lease or one that ended before `now`: a lease
///   ending at `T` still holds at `T`), the earliest `next_attempt_at` first (ties: the
///   one queued first), sets each one's lease to `(claim, lease_until)`, adds one to its
///   `attempts`, and returns them as stored after that. Concurrent claimers never get
///   the same email while its lease runs (lock the rows taken, e.g.
///   `SELECT … FOR UPDATE SKIP LOCKED`).
/// - **Only the current claim records an outcome.** `mark_sent(id, claim, at)` and
///   `mark_failed(id, claim, failure)` change an email only if it is pending and its
///   lease is still `claim` (also after the lease ended, as long as nobody claimed it
///   since); otherwise they change nothing and answer `false` (a stale claim: another
///   sender holds the email or has finished it). An unknown id is `NotFound(Email)`.
///   `mark_sent` sets the state `Sent` and `finished_at = at`. `mark_failed` with a
///   `retry_at` keeps the email pending, due at `retry_at`, with no lease and the error
///   as `last_error`; without one it sets the state `Failed`, `finished_at` and
///   `last_error`.
/// - **No body outlives the queue.** An email that is sent or failed keeps its envelope
///   (recipient, subject, kind, times, error) but its `text` and `html` are erased
///   (empty), and its `list_unsubscribe` and `attachments` removed, in the same unit:
///   invite links, codes and meeting links are in the store only while they wait.
/// - `outbox_message` reads one email (`NotFound(Email)`). `failed_mail` lists a
///   tenant's failed emails, the most recently failed first (ties: the later queued
///   first), at most `limit`; a tenant with none (or unknown) has an empty list.
/// - `prune_sent(before, max_rows)` removes up to `max_rows` sent emails whose
///   `finished_at` is strictly before `before`, the oldest first, and returns how many;
///   pending and failed emails stay. Idempotent like the access-log prune.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Queues emails on their own (all or none).
    async fn enqueue(&self, emails: &[OutboxMessage]) -> Result<()>;
    /// Claims up to `limit` due emails for `claim` until `lease_until`.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        claim: ClaimToken,
    ) -> Result<Vec<OutboxMessage>>;
    /// Records that `claim` sent the email; `false` if `claim` no longer holds it.
    async fn mark_sent(&self, id: MailId, claim: ClaimToken, at: DateTime<Utc>) -> Result<bool>;
    /// Records a failed attempt by `claim` (retry or give up); `false` if `claim` no
    /// longer holds it.
    async fn mark_failed(
        &self,
        id: MailId,
        claim: ClaimToken,
        failure: &FailedAttempt,
    ) -> Result<bool>;
    /// One email. `NotFound(Email)` if missing.
    async fn outbox_message(&self, id: MailId) -> Result<OutboxMessage>;
    /// A tenant's failed emails, the most recently failed first, at most `limit`.
    async fn failed_mail(&self, tenant: TenantId, limit: usize) -> Result<Vec<OutboxMessage>>;
    /// Removes up to `max_rows` sent emails finished before `before`; returns how many.
    async fn prune_sent(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64>;
}

/// A reminder digest that was sent: recorded with its email by
/// [`ReminderStore::record_digest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentDigest {
    /// The portal.
    pub portal_id: PortalId,
    /// Who got it.
    pub contact_id: ContactId,
    /// The contact's local date it was sent on.
    pub local_date: chrono::NaiveDate,
    /// When.
    pub sent_at: DateTime<Utc>,
    /// Each task listed, with the ladder step it was reminded at.
    pub steps: Vec<(TaskId, u32)>,
}

/// What the reminder pass remembers: each portal's settings, the digests sent, the
/// ladder step each task was reminded at, snoozes, unsubscribes and escalations. Every
/// decision (is a reminder due, does the MSP need telling) is taken by
/// [`crate::reminders`]; the store keeps what it is told and guards the two
/// uniqueness rules that must hold across processes.
///
/// # Contract
/// - **Scope.** Everything is scoped by portal: a contact or task of another portal
///   is `NotFound` (`Contact`, `Task`) and nothing is written; a missing portal is
///   `NotFound(Portal)` for `reminder_settings`, `set_reminder_settings`,
///   `reminder_state` and `record_escalation`, a missing contact `NotFound(Contact)`.
/// - **Settings.** `reminder_settings` answers the portal's settings as last set, or
///   [`ReminderSettings::default`](crate::reminders::ReminderSettings) if never set.
/// - **State.** `reminder_state` is one consistent read of a portal: its settings,
///   every contact (oldest first, revoked ones included) with its unsubscribe time,
///   the local date of its newest digest, the step each task was last reminded at,
///   its snoozes (as last set), and its newest visit: the time of its newest access
///   entry of kind `Verified` or `PortalRequest`; and the portal's last escalation.
/// - **One digest per contact and day.** `record_digest` is one unit: if a digest for
///   the same contact and `local_date` is recorded already, it is `Conflict` and
///   nothing is written (two passes racing: exactly one wins); otherwise it records
///   the digest, sets each listed task's step for the contact to the higher of the
///   stored and the given one, and queues `emails` (see [`OutboxStore`]).
/// - **One escalation per quiet spell.** `record_escalation(portal, previous, at,
///   emails)` is a compare-and-set: if the portal's last escalation is not `previous`
///   (`None`: never escalated), it is `Conflict` and nothing is written; otherwise the
///   last escalation becomes `at` and `emails` are queued, in one unit.
/// - **One stall alert per handover.** `record_handover_stall(contact, at, emails)`
///   loads the contact in the unit and asks
///   [`handover::record_stall`](crate::workflow::handover::record_stall): a missing
///   contact is `NotFound(Contact)`, a contact who is no handover guest
///   `Invalid("contact")`, an alert already recorded `Conflict` (two passes racing:
///   exactly one wins); otherwise it stores the guest's `stall_alerted_at = at` and
///   queues `emails`, in one unit; a refused call writes neither.
/// - `snooze_task` sets (replaces) the contact's snooze of the task to `until`.
/// - `unsubscribe_reminders` records that the contact turned reminders off at `at`;
///   the first time stays (a second click changes nothing and is not an error).
#[async_trait]
pub trait ReminderStore: Send + Sync + 'static {
    /// A portal's reminder settings (the defaults if never set).
    async fn reminder_settings(&self, portal: PortalId) -> Result<ReminderSettings>;
    /// Replaces a portal's reminder settings, in one unit with appending `activity`
    /// when given (an entry of that portal, else `Invalid` and nothing written).
    async fn set_reminder_settings(
        &self,
        portal: PortalId,
        settings: &ReminderSettings,
        activity: Option<&ActivityEntry>,
    ) -> Result<()>;
    /// Everything the reminder pass needs about one portal, in one read.
    async fn reminder_state(&self, portal: PortalId) -> Result<ReminderState>;
    /// Records a digest (one per contact and local date) and queues its email.
    async fn record_digest(&self, digest: &SentDigest, emails: &[OutboxMessage]) -> Result<()>;
    /// Records an escalation if the last one is still `previous`, and queues its emails.
    async fn record_escalation(
        &self,
        portal: PortalId,
        previous: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        emails: &[OutboxMessage],
    ) -> Result<()>;
    /// Records that the MSP was told a handover stalls (once per handover) and
    /// queues the alert's emails, in one unit; returns the guest as stored.
    async fn record_handover_stall(
        &self,
        contact: ContactId,
        at: DateTime<Utc>,
        emails: &[OutboxMessage],
    ) -> Result<Contact>;
    /// Holds a task's reminders for a contact until `until`.
    async fn snooze_task(
        &self,
        portal: PortalId,
        contact: ContactId,
        task: TaskId,
        until: DateTime<Utc>,
    ) -> Result<()>;
    /// Turns a contact's reminders off (the first time stays).
    async fn unsubscribe_reminders(&self, contact: ContactId, at: DateTime<Utc>) -> Result<()>;
}

/// Decides a change of a portal's plan from the plan as stored: a rule of
/// [`crate::workflow::plan`] wrapped by the service. Stores call it inside their unit.
pub type PlanDecision = std::sync::Arc<
    dyn Fn(&crate::workflow::plan::Plan) -> Result<crate::workflow::plan::PlanChange> + Send + Sync,
>;

/// The onboarding plan as a whole: read it, and change it in one unit (edit, move and
/// delete tasks and phases, assignments, dependencies, task actions that unlock others).
///
/// # Contract
/// - `plan` reads a portal's plan in one consistent read: the portal, its phases by
///   position, its tasks by their phase's position then their own (as
///   `portal_snapshot`), and its contacts oldest first. A missing portal is
///   `NotFound(Portal)`.
/// - `change_plan` is one unit: read the plan as `plan` does (`NotFound(Portal)`),
///   call `decide` once with it, and if it returns `Ok`, call
///   [`PlanChange::diff`](crate::workflow::plan::PlanChange::diff) with the plan read
///   and write exactly its answer: delete the deleted tasks **with their comments**,
///   delete the deleted phases, store the new and changed phases and tasks as given
///   (every field, the version included), append the change's activity entries in
///   their order, append its `comments` to their tasks' threads in their order (as
///   `add_comment` does: listed by `comments` after the thread's earlier ones), and
///   queue its `emails` (see [`OutboxStore`]; an email id that exists is `Conflict`). If `decide` or `diff` errs, nothing is written and the error is
///   returned unchanged. Returns the change as written.
/// - **A deleted task takes its sealed records with it**, in the same unit: its
///   dropped files (every state, [`FileDropStore`]), its signature and attached
///   signature document ([`SignatureStore`]), its credential record with its sealed
///   fields ([`CredentialStore`]) and its attachments and document opens
///   ([`AttachmentStore`]). The returned change's `erased_blobs` lists their
///   blobs (each dropped file whose bytes are not removed yet, the drawn image, the
///   document, each attachment), each once, for the caller to delete; afterwards `blob_in_use` is
///   `false` for each, and reads of those records are `NotFound`. Audit events stay
///   (append-only).
/// - **Serialised per portal.** Concurrent `change_plan` calls of one portal, and
///   every other write of its phases and tasks (`add_phase`, `add_task`,
///   `update_task`, document changes), never interleave: each `decide` sees the
///   result of the previous unit (lock the portal row: `SELECT … FOR UPDATE`). So
///   concurrent moves never leave two tasks at one position, nor lose a move.
/// - After a committed change, every read (`portal_snapshot`, `task`, `plan`, a
///   store's caches included) answers the new plan.
#[async_trait]
pub trait PlanStore: Send + Sync + 'static {
    /// A portal's whole plan, with its contacts.
    async fn plan(&self, portal: PortalId) -> Result<crate::workflow::plan::Plan>;
    /// Decides and writes a change of a portal's plan, atomically.
    async fn change_plan(
        &self,
        portal: PortalId,
        decide: PlanDecision,
    ) -> Result<crate::workflow::plan::PlanChange>;
}

/// A tenant's onboarding plan templates, and portals made from them.
///
/// # Contract
/// - Templates are scoped by tenant: a template asked for through another tenant is
///   `NotFound(Template)`, exactly like a missing one, and nothing is written.
/// - `create_template` stores a template as given; an id that exists (in any tenant)
///   is `Conflict`, a missing tenant `NotFound(Tenant)`.
/// - `replace_template` is a compare-and-set: it stores `template` (every field) only
///   if the stored one's `version` is `expected`, else `Stale` and nothing changes.
///   Two concurrent replaces from the same version: exactly one wins.
/// - `templates` lists a tenant's templates by name, then id (a tenant with none, or
///   unknown, has an empty list).
/// - `create_portal_with_plan` is one unit: the portal (as `create_portal`: a missing
///   tenant is `NotFound(Tenant)`, an existing id `Conflict`), its phases and tasks as
///   given (positions included; a task in a phase that is not given, or of another
///   portal, is `Invalid("plan")`) and the activity entries. Refused: nothing written.
#[async_trait]
pub trait TemplateStore: Send + Sync + 'static {
    /// Stores a new template.
    async fn create_template(
        &self,
        template: &crate::workflow::template::PlanTemplate,
    ) -> Result<()>;
    /// Replaces a template if it is still at version `expected`.
    async fn replace_template(
        &self,
        template: &crate::workflow::template::PlanTemplate,
        expected: u64,
    ) -> Result<()>;
    /// One template of a tenant.
    async fn template(
        &self,
        tenant: TenantId,
        id: crate::ids::TemplateId,
    ) -> Result<crate::workflow::template::PlanTemplate>;
    /// A tenant's templates, by name.
    async fn templates(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<crate::workflow::template::PlanTemplate>>;
    /// One page of a tenant's templates, oldest first (creation time, then the
    /// store's creation number; not by name, so that a rename between two page reads
    /// moves nothing): at most `limit` templates after `after` (from the oldest when
    /// `None`), read by key, never by offset (see [`Page`]'s contract). A copy is a
    /// new template, created when it is copied. An unknown tenant has none.
    async fn templates_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<crate::workflow::template::PlanTemplate>>;
    /// Creates a portal with its whole plan, atomically.
    async fn create_portal_with_plan(
        &self,
        portal: &Portal,
        phases: &[Phase],
        tasks: &[Task],
        activity: &[ActivityEntry],
    ) -> Result<()>;
}

/// Checks a new portal's plan for [`TemplateStore::create_portal_with_plan`]: every
/// phase and task of the portal, positions `0..n` (phases in the portal, tasks in
/// their phase), every task in a given phase, dependencies inside the plan, no cycle
/// (`Invalid("plan")`), and every activity entry of the portal (`Invalid("activity")`).
pub fn check_new_plan(
    portal: &Portal,
    phases: &[Phase],
    tasks: &[Task],
    activity: &[ActivityEntry],
) -> Result<()> {
    let empty = crate::workflow::plan::Plan {
        portal: portal.clone(),
        phases: Vec::new(),
        tasks: Vec::new(),
        contacts: Vec::new(),
    };
    let change = crate::workflow::plan::PlanChange {
        phases: phases.to_vec(),
        tasks: tasks.to_vec(),
        activity: activity.to_vec(),
        notices: Vec::new(),
        emails: Vec::new(),
        subject: None,
        comments: Vec::new(),
        erased_blobs: Vec::new(),
    };
    change.diff(&empty).map(|_| ())
}

/// `Idempotency-Key`s of creating requests (see [`crate::idempotency`]).
///
/// # Contract
/// - **Atomic reservation.** `reserve_idempotency` is one unit: it reads the record of
///   `(tenant, key)`, asks [`crate::idempotency::judge`], and on
///   [`Reservation::Reserved`] writes [`crate::idempotency::Reserve::record`] (replacing
///   an expired record or one whose lease ended). Concurrent reservations of one key
///   with one fingerprint: exactly one is `Reserved`, the others `InProgress`.
/// - **Replay.** After `complete_idempotency`, a reservation with the same fingerprint
///   answers `Replay` with the response exactly as completed; a different fingerprint
///   answers `KeyReused`. Nothing else changes the record.
/// - **Scoped by tenant.** The same key of two tenants is two records.
/// - **Expiry.** A record is remembered up to and including its `expires_at`; after
///   that the key reserves afresh. A running reservation holds up to and including its
///   `lease_until`; after that a new claim takes it over.
/// - **Only the current claim completes or releases.** `complete_idempotency` and
///   `release_idempotency` change the record only if it is still running under
///   `claim`; otherwise they change nothing and answer `false`. Release deletes the
///   record (the request failed on the server's side: a retry may run it again).
/// - `prune_idempotency(before, max_rows)` deletes up to `max_rows` records whose
///   `expires_at` is strictly before `before`, and returns how many.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Reserves `(tenant, key)` for a request, or says why not.
    async fn reserve_idempotency(&self, reserve: &Reserve) -> Result<Reservation>;
    /// Stores the response of the request that holds the key under `claim`.
    async fn complete_idempotency(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
        claim: ClaimToken,
        response: &SavedResponse,
    ) -> Result<bool>;
    /// Forgets the reservation `claim` holds, so the request may run again.
    async fn release_idempotency(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
        claim: ClaimToken,
    ) -> Result<bool>;
    /// Deletes up to `max_rows` records that expired before `before`; returns how many.
    async fn prune_idempotency(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64>;
}

/// Everything a complete store provides. Implemented for any type with all the parts.
pub trait Store:
    DirectoryStore
    + AccessStore
    + WorkflowStore
    + DocumentStore
    + OutboxStore
    + ReminderStore
    + PlanStore
    + TemplateStore
    + IdempotencyStore
    + AuditStore
    + CredentialStore
    + FileDropStore
    + SignatureStore
    + AttachmentStore
{
}

impl<
    T: DirectoryStore
        + AccessStore
        + WorkflowStore
        + DocumentStore
        + OutboxStore
        + ReminderStore
        + PlanStore
        + TemplateStore
        + IdempotencyStore
        + AuditStore
        + CredentialStore
        + FileDropStore
        + SignatureStore
        + AttachmentStore,
> Store for T
{
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The storage names of access events are a stored format: fixed, and read back.
    #[test]
    fn access_events_keep_their_storage_names() {
        let all = [
            (AccessEvent::InviteOpened, "invite_opened"),
            (AccessEvent::CodeSent, "code_sent"),
            (AccessEvent::Verified, "verified"),
            (AccessEvent::PortalRequest, "portal_request"),
            (AccessEvent::SignedOut, "signed_out"),
        ];
        for (event, name) in all {
            assert_eq!(event.as_str(), name);
            assert_eq!(AccessEvent::parse(name), Some(event));
        }
        assert_eq!(AccessEvent::parse("Verified"), None);
        assert_eq!(AccessEvent::parse(""), None);
    }

    #[test]
    fn request_info_drops_control_characters_and_truncates() {
        let long = "a".repeat(RequestInfo::MAX_USER_AGENT + 10);
        let info = RequestInfo::new(None, Some(&format!("x\u{0}y\n{long}")), Some("/p\r\nq"));
        let ua = info.user_agent.unwrap();
        assert_eq!(ua.chars().count(), RequestInfo::MAX_USER_AGENT);
        assert!(ua.starts_with("xya"));
        assert_eq!(info.path.as_deref(), Some("/pq"));
    }
}
