//! [`PortalService`]: the portal's use cases, for the client (the access flow and the
//! portal pages) and for the MSP (setting portals up, inviting and revoking contacts).
//! Hosts call these; they hold no HTTP, SQL or transport knowledge.

mod attachments;
mod audit;
mod credentials;
mod documents;
mod filedrop;
mod guests;
mod handover;
mod help;
mod onboarding;
mod outbox;
mod plan;
mod reminders;
#[cfg(feature = "tokio")]
mod retention;
mod signatures;
mod staff;
mod staff_files;
mod team;
mod template;
mod versioned;
mod workflow;

pub use attachments::SharedDocument;
pub use credentials::SubmittedCredentials;
pub use documents::{QueueItem, RotationCounts, RotationReport};
#[cfg(feature = "tokio")]
pub use filedrop::spawn_file_drop_sweeper;
pub use guests::GuestSpec;
pub use handover::HandoverSpec;
pub use help::PendingDueDate;
pub use outbox::{DeliveryReport, MailDelivery};
#[cfg(feature = "tokio")]
pub use outbox::{OutboxSender, spawn_outbox_sender};
pub use plan::{ClientPlan, PlanTaskSpec};
#[cfg(feature = "tokio")]
pub use reminders::{ReminderPass, spawn_reminder_pass};
pub use reminders::{ReminderReport, ReminderTarget};
#[cfg(feature = "tokio")]
pub use retention::spawn_retention;
pub use signatures::{SignatureEvidence, SignatureInput};
pub use staff::{ContactChange, ContactSummary, InviteLink, MAX_RECIPIENTS, PortalSummary};
pub use team::InvitedColleague;
pub use versioned::{PortalUpdate, TenantUpdate};
pub use workflow::client_actor;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use chrono::{DateTime, NaiveDate, Utc};

use crate::access::{AccessPolicy, RetentionPolicy, rules};
use crate::blob::envelope::FileVault;
use crate::clock::{Clock, SystemClock};
use crate::error::{Entity, Error, Limit, Result};
use crate::ids::{ClaimToken, ContactId, PhaseId, PortalId, TaskId, TenantId};
use crate::mail::{self, LinkBuilder, Mailer, Recipient};
use crate::model::{
    Branding, Contact, EmailAddress, Logo, LogoRef, Phase, Portal, PortalSnapshot, PortalStatus,
    Side, Task, TaskKind, TaskStatus, Tenant, TimeZone, clean_label, clean_text,
};
use crate::outbox::{FailedAttempt, Lease, MailKind, OutboxPolicy};
use crate::random::{OsRandom, RandomSource};
use crate::scan::{ContentScanner, NoScanner, UnscannablePolicy};
use crate::secret::{
    InviteToken, MagicToken, ServerSecret, SessionToken, VerificationCode, VerificationToken,
};
use crate::staff::{StaffContext, StaffRole};
use crate::store::{
    AccessEvent, AccessLogEntry, ClientContext, ContactInPortal, NewCode, NewSession, RequestInfo,
    Store, VerificationView,
};
use crate::workflow::{ActivityEntry, ActivityKind};

/// Longest task title.
pub const MAX_TITLE: usize = 200;
/// Longest task description.
pub const MAX_DESCRIPTION: usize = 10_000;
/// Longest contact, client or phase name.
pub const MAX_NAME: usize = 200;

/// What one [`PortalService::prune_access_log`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneReport {
    /// Entries strictly before this instant were removed; entries at or after it stay.
    pub cutoff: DateTime<Utc>,
    /// How many entries were removed, over all portals.
    pub removed: u64,
}

/// What the MSP gives to create a task.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    /// Short title.
    pub title: String,
    /// Plain-text description.
    pub description: String,
    /// Who does it.
    pub assignee: Side,
    /// Its type and settings.
    pub kind: TaskKind,
    /// When it is due, if set.
    pub due_date: Option<NaiveDate>,
}

impl TaskSpec {
    /// A client task of `kind` titled `title`, with no description and no due date:
    /// the common case, refined with the `with_…`/`for_msp` methods below.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use portal_core::TaskSpec;
    /// use portal_core::model::TaskKind;
    ///
    /// let spec = TaskSpec::new("Sign the agreement", TaskKind::Standard)
    ///     .with_description("Read it, then mark the task complete.")
    ///     .due_on(NaiveDate::from_ymd_opt(2027, 1, 15).unwrap_or_default());
    /// assert_eq!(spec.assignee, portal_core::model::Side::Client);
    /// ```
    pub fn new(title: impl Into<String>, kind: TaskKind) -> Self {
        Self {
            title: title.into(),
            description: String::new(),
            assignee: Side::Client,
            kind,
            due_date: None,
        }
    }

    /// The same task with this plain-text description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// The same task done by the MSP's staff instead of the client.
    #[must_use]
    pub fn for_msp(mut self) -> Self {
        self.assignee = Side::Msp;
        self
    }

    /// The same task due on `date` (the portal's calendar day, in the contact's zone).
    #[must_use]
    pub fn due_on(mut self, date: NaiveDate) -> Self {
        self.due_date = Some(date);
        self
    }
}

struct Inner {
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    links: Arc<dyn LinkBuilder>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    secret: ServerSecret,
    policy: AccessPolicy,
    /// Per-portal state of staff notification coalescing (this process only).
    notifications: workflow::Notifications,
    retention: RetentionPolicy,
    /// Where uploaded files go (none: uploads are refused).
    files: Option<FileVault>,
    scanner: Arc<dyn ContentScanner>,
    unscannable: UnscannablePolicy,
    /// Retries, leases and the sender's pace.
    outbox: OutboxPolicy,
    /// Whether requests deliver their emails or leave them to a sender.
    delivery: MailDelivery,
    /// Wakes this process's sender when an email is queued.
    #[cfg(feature = "tokio")]
    wake: tokio::sync::Notify,
    /// This process's running senders.
    senders: AtomicUsize,
    /// Whether "queued but nobody sends" was logged already (once is enough).
    warned_no_sender: AtomicBool,
}

/// Batches one prune run deletes at most (a run is resumed by the next one).
const MAX_PRUNE_BATCHES: u32 = 10_000;

/// The portal's use cases over injected store, mailer, links, clock and randomness.
/// Cheap to clone (shared inside).
#[derive(Clone)]
pub struct PortalService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PortalService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalService")
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

/// Builds a [`PortalService`]; clock, randomness and policy have production defaults.
pub struct PortalServiceBuilder {
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    links: Arc<dyn LinkBuilder>,
    secret: ServerSecret,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    policy: AccessPolicy,
    retention: RetentionPolicy,
    files: Option<FileVault>,
    scanner: Arc<dyn ContentScanner>,
    unscannable: UnscannablePolicy,
    outbox: OutboxPolicy,
    delivery: MailDelivery,
}

impl PortalServiceBuilder {
    /// Replaces the default retry, lease and polling settings of the email outbox.
    pub fn outbox(mut self, policy: OutboxPolicy) -> Self {
        self.outbox = policy;
        self
    }
    /// Whether a request delivers the emails it queued before it returns
    /// ([`MailDelivery::Inline`]) or leaves them to a sender (the default).
    pub fn mail_delivery(mut self, delivery: MailDelivery) -> Self {
        self.delivery = delivery;
        self
    }
    /// Where uploaded files are sealed and kept. Without it, uploads are refused (a
    /// storage error naming this method).
    pub fn files(mut self, vault: FileVault) -> Self {
        self.files = Some(vault);
        self
    }
    /// The scanner every upload goes through before it is offered for review
    /// (default: none, files are recorded as not scanned).
    pub fn scanner(mut self, scanner: Arc<dyn ContentScanner>) -> Self {
        self.scanner = scanner;
        self
    }
    /// Whether a file the scanner could not judge is held (the default) or let
    /// through to review and download.
    pub fn unscannable(mut self, policy: UnscannablePolicy) -> Self {
        self.unscannable = policy;
        self
    }
    /// Replaces the system clock (tests use [`crate::ManualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Replaces the OS-seeded CSPRNG (tests use [`crate::SeededRandom`]).
    pub fn random(mut self, random: Arc<dyn RandomSource>) -> Self {
        self.random = random;
        self
    }
    /// Replaces the spec's default limits and lifetimes.
    pub fn policy(mut self, policy: AccessPolicy) -> Self {
        self.policy = policy;
        self
    }
    /// Replaces the default retention (access log: 400 days, pruned 1000 entries a
    /// batch).
    pub fn retention(mut self, retention: RetentionPolicy) -> Self {
        self.retention = retention;
        self
    }
    /// The service.
    pub fn build(self) -> PortalService {
        PortalService {
            inner: Arc::new(Inner {
                store: self.store,
                mailer: self.mailer,
                links: self.links,
                clock: self.clock,
                random: self.random,
                secret: self.secret,
                policy: self.policy,
                notifications: workflow::Notifications::default(),
                retention: self.retention,
                files: self.files,
                scanner: self.scanner,
                unscannable: self.unscannable,
                outbox: self.outbox,
                delivery: self.delivery,
                #[cfg(feature = "tokio")]
                wake: tokio::sync::Notify::new(),
                senders: AtomicUsize::new(0),
                warned_no_sender: AtomicBool::new(false),
            }),
        }
    }
}

impl PortalService {
    /// Starts building a service from its required parts.
    pub fn builder(
        store: Arc<dyn Store>,
        mailer: Arc<dyn Mailer>,
        links: Arc<dyn LinkBuilder>,
        secret: ServerSecret,
    ) -> PortalServiceBuilder {
        PortalServiceBuilder {
            store,
            mailer,
            links,
            secret,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            policy: AccessPolicy::default(),
            retention: RetentionPolicy::default(),
            files: None,
            scanner: Arc::new(NoScanner),
            unscannable: UnscannablePolicy::default(),
            outbox: OutboxPolicy::default(),
            delivery: MailDelivery::default(),
        }
    }

    /// The store, for reads the service does not wrap.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }
    /// The injected clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }
    /// The injected random source.
    pub fn random(&self) -> &Arc<dyn RandomSource> {
        &self.inner.random
    }
    /// The limits and lifetimes in force.
    pub fn policy(&self) -> &AccessPolicy {
        &self.inner.policy
    }
    /// The email outbox's settings in force.
    pub fn outbox_policy(&self) -> &OutboxPolicy {
        &self.inner.outbox
    }
    /// The server secret (hosts derive their own keys from it, e.g. for CSRF).
    pub fn secret(&self) -> &ServerSecret {
        &self.inner.secret
    }
    /// What happens to files the scanner could not judge: a host asks
    /// [`DocumentFile::admitted`](crate::workflow::DocumentFile::admitted) with it, so it
    /// offers a Download link only where [`PortalService::download_document`] will
    /// hand the file out.
    pub fn unscannable(&self) -> UnscannablePolicy {
        self.inner.unscannable
    }

    // ----- MSP side: setting up ------------------------------------------------------

    /// Creates a tenant (an MSP) with its branding defaults; its contacts' default
    /// time zone is UTC ([`Self::create_tenant_in_zone`] chooses another).
    pub async fn create_tenant(
        &self,
        name: &str,
        branding: Branding,
        notification_recipients: Vec<EmailAddress>,
    ) -> Result<Tenant> {
        self.create_tenant_in_zone(name, branding, notification_recipients, TimeZone::UTC)
            .await
    }

    /// Creates a tenant whose contacts read times in `time_zone` unless they are given
    /// their own (an MSP's clients are mostly where the MSP is).
    pub async fn create_tenant_in_zone(
        &self,
        name: &str,
        branding: Branding,
        notification_recipients: Vec<EmailAddress>,
        time_zone: TimeZone,
    ) -> Result<Tenant> {
        let tenant = Tenant {
            id: TenantId::random(self.inner.random.as_ref()),
            name: clean_label("name", name, MAX_NAME)?,
            branding,
            notification_recipients,
            time_zone,
            created_at: self.inner.clock.now(),
            base_url: None,
            sender: None,
            version: crate::model::first_version(),
        };
        self.inner.store.create_tenant(&tenant).await?;
        Ok(tenant)
    }

    /// Validates and stores a logo; returns the reference to put in a [`Branding`].
    /// Branding is the tenant's settings, so this needs the admin role.
    pub async fn upload_logo(&self, staff: &StaffContext, bytes: Vec<u8>) -> Result<LogoRef> {
        staff.require(StaffRole::Admin, "uploading a logo")?;
        let logo = Logo::from_upload(bytes)?;
        self.inner.store.put_logo(&logo).await?;
        Ok(logo.reference())
    }

    /// Creates a portal of the staff member's tenant for a client company, copying
    /// the tenant's branding defaults. Any staff member may create a draft; creating
    /// it in another status (opening it to the client at once) is a status change,
    /// which is the admin's ([`Self::update_portal`]): a member's is `Forbidden`.
    pub async fn create_portal(
        &self,
        staff: &StaffContext,
        client_name: &str,
        status: PortalStatus,
    ) -> Result<Portal> {
        staff.require(StaffRole::Member, "creating a portal")?;
        require_opening_role(staff, status)?;
        let tenant = self.inner.store.tenant(staff.tenant).await?;
        let portal = Portal {
            id: PortalId::random(self.inner.random.as_ref()),
            tenant_id: tenant.id,
            client_name: clean_label("client name", client_name, MAX_NAME)?,
            status,
            branding: tenant.branding,
            created_at: self.inner.clock.now(),
            target_date: None,
            version: crate::model::first_version(),
            colleague_invitations: Default::default(),
        };
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::PortalCreated,
            &portal.client_name,
            None,
        );
        self.inner
            .store
            .create_portal(&portal, Some(&activity))
            .await?;
        Ok(portal)
    }

    /// Adds a contact to a portal of the staff member's tenant, in the tenant's time zone.
    pub async fn add_contact(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        name: &str,
        email: &str,
    ) -> Result<Contact> {
        self.add_contact_in_zone(staff, portal, name, email, None, None)
            .await
    }

    /// Adds a contact who reads times and gets reminders in `time_zone` (`None`: the
    /// tenant's zone), with a role (`None` or empty: none; cleaned by
    /// [`crate::workflow::team::clean_role`]) so role-targeted tasks find them from the
    /// start.
    pub async fn add_contact_in_zone(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        name: &str,
        email: &str,
        time_zone: Option<TimeZone>,
        role: Option<&str>,
    ) -> Result<Contact> {
        self.add_contact_in_language(staff, portal, name, email, time_zone, role, None)
            .await
    }

    /// [`Self::add_contact_in_zone`] with the language of the contact's pages and
    /// emails (`None`: pages follow the browser, emails are in English).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_contact_in_language(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        name: &str,
        email: &str,
        time_zone: Option<TimeZone>,
        role: Option<&str>,
        language: Option<crate::i18n::Language>,
    ) -> Result<Contact> {
        staff.require(StaffRole::Member, "adding a contact")?;
        let portal = self.staff_portal(staff, portal).await?;
        let name = clean_label("name", name, MAX_NAME)?;
        let email = EmailAddress::parse(email)?;
        let role = match role {
            Some(raw) => crate::workflow::team::clean_role(raw)?,
            None => None,
        };
        let time_zone = match time_zone {
            Some(zone) => zone,
            None => self.inner.store.tenant(portal.tenant_id).await?.time_zone,
        };
        let contact = Contact {
            id: ContactId::random(self.inner.random.as_ref()),
            portal_id: portal.id,
            name,
            email,
            revoked_at: None,
            time_zone,
            created_at: self.inner.clock.now(),
            invited_by: None,
            awaiting_approval: false,
            role,
            guest: None,
            language,
        };
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::ContactAdded,
            &contact.name,
            contact.role.as_ref().map(|r| format!("role: {r}")),
        );
        self.inner
            .store
            .add_contact(&contact, Some(&activity))
            .await?;
        Ok(contact)
    }

    /// Appends a phase to a portal's plan.
    pub async fn add_phase(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        name: &str,
    ) -> Result<Phase> {
        staff.require(StaffRole::Member, "adding a phase")?;
        let portal = self.staff_portal(staff, portal).await?;
        let name = clean_label("phase name", name, MAX_NAME)?;
        let activity = self.staff_entry(staff, portal.id, ActivityKind::PhaseAdded, &name, None);
        self.inner
            .store
            .add_phase(
                portal.id,
                PhaseId::random(self.inner.random.as_ref()),
                &name,
                Some(&activity),
            )
            .await
    }

    /// Appends a task to a phase.
    pub async fn add_task(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        phase: PhaseId,
        spec: TaskSpec,
    ) -> Result<Task> {
        staff.require(StaffRole::Member, "adding a task")?;
        let portal = self.staff_portal(staff, portal).await?;
        spec.kind.validate()?;
        let now = self.inner.clock.now();
        let task = Task {
            for_role: None,
            id: TaskId::random(self.inner.random.as_ref()),
            portal_id: portal.id,
            phase_id: phase,
            position: 0,
            title: clean_label("title", &spec.title, MAX_TITLE)?,
            description: clean_text("description", &spec.description, MAX_DESCRIPTION)?,
            assignee: spec.assignee,
            kind: spec.kind,
            status: TaskStatus::Pending,
            evidence: Default::default(),
            blocked_reason: None,
            due_date: spec.due_date,
            created_at: now,
            updated_at: now,
            version: 1,
            assigned_to: Vec::new(),
            waits_on: Vec::new(),
            internal: false,
        };
        let activity = ActivityEntry {
            task_id: Some(task.id),
            ..self.staff_entry(staff, portal.id, ActivityKind::TaskAdded, &task.title, None)
        };
        self.inner.store.add_task(&task, Some(&activity)).await
    }

    // ----- MSP side: access ----------------------------------------------------------

    /// Issues (or re-issues, killing the old link) a contact's invite and queues its
    /// email in the same store unit, so an invite that exists always has its email on
    /// the way (delivered by the outbox sender, retried if the mail server is away).
    /// Returns the token so a host can show the link once; it is not stored in clear.
    pub async fn invite_contact(
        &self,
        staff: &StaffContext,
        contact: ContactId,
    ) -> Result<InviteToken> {
        staff.require(StaffRole::Member, "inviting a contact")?;
        let (target, portal) = self.staff_contact(staff, contact).await?;
        let acting = self.acting_for(portal.tenant_id, Some(portal.id)).await?;
        let (token, message) = self.invite_mail(&acting, &portal, &target)?;
        // The entry names the contact, never the link: the feed is no place for a token.
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::ContactInvited,
            &target.name,
            None,
        );
        self.inner
            .store
            .issue_invite(
                contact,
                &token.hash(),
                self.inner.clock.now(),
                &[message],
                Some(&activity),
            )
            .await?;
        self.mail_queued().await;
        Ok(token)
    }

    /// Moves a portal through its lifecycle (admin). Clients can use it only while it
    /// is active or completed: a draft isn't open yet, and archiving closes it at once
    /// (the very next request of a signed-in client is refused).
    pub async fn set_portal_status(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        status: PortalStatus,
    ) -> Result<()> {
        staff.require(StaffRole::Admin, "changing a portal's status")?;
        let update = PortalUpdate {
            status: Some(status),
            ..PortalUpdate::default()
        };
        self.update_portal(staff, portal, update, None)
            .await
            .map(drop)
    }

    /// Kills a contact's invite link (its sessions keep working). Revocation is an
    /// admin's.
    pub async fn revoke_invite(&self, staff: &StaffContext, contact: ContactId) -> Result<()> {
        staff.require(StaffRole::Admin, "revoking an invite")?;
        let (target, portal) = self.staff_contact(staff, contact).await?;
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::InviteRevoked,
            &target.name,
            None,
        );
        self.inner
            .store
            .revoke_invite(contact, self.inner.clock.now(), Some(&activity))
            .await
    }

    /// Revokes a contact's access at once (admin): invite, codes, magic links and
    /// sessions.
    pub async fn revoke_contact(&self, staff: &StaffContext, contact: ContactId) -> Result<()> {
        staff.require(StaffRole::Admin, "revoking a contact")?;
        let (target, portal) = self.staff_contact(staff, contact).await?;
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::ContactRevoked,
            &target.name,
            None,
        );
        self.inner
            .store
            .revoke_contact(contact, self.inner.clock.now(), Some(&activity))
            .await
    }

    /// One page of a portal's access log, newest first: at most `limit` entries after
    /// `after` (the `next` of the page before; `None` for the newest), read by key.
    pub async fn access_log(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        after: Option<crate::store::PageKey>,
        limit: usize,
    ) -> Result<crate::store::Page<AccessLogEntry>> {
        staff.require(StaffRole::Member, "reading the access log")?;
        let portal = self.staff_portal(staff, portal).await?;
        self.inner
            .store
            .access_log_page(portal.id, after, limit)
            .await
    }

    /// A portal of `staff`'s tenant: another tenant's portal is `NotFound(Portal)`,
    /// exactly like a portal that does not exist. A portal never changes tenant, so
    /// checking before a write is as good as checking inside it.
    pub(crate) async fn staff_portal(
        &self,
        staff: &StaffContext,
        portal: PortalId,
    ) -> Result<Portal> {
        let portal = self.inner.store.portal(portal).await?;
        staff.scope(portal.tenant_id, Entity::Portal)?;
        Ok(portal)
    }

    /// A contact of a portal of `staff`'s tenant, with its portal: another tenant's
    /// contact is `NotFound(Contact)`.
    pub(crate) async fn staff_contact(
        &self,
        staff: &StaffContext,
        contact: ContactId,
    ) -> Result<(Contact, Portal)> {
        let contact = self.inner.store.contact(contact).await?;
        let portal = match self.inner.store.portal(contact.portal_id).await {
            Ok(portal) => portal,
            Err(Error::NotFound { .. }) => {
                return Err(Error::NotFound {
                    entity: Entity::Contact,
                });
            }
            Err(e) => return Err(e),
        };
        staff.scope(portal.tenant_id, Entity::Contact)?;
        Ok((contact, portal))
    }

    /// Deletes expired `Idempotency-Key` records (see [`crate::idempotency`]), in
    /// batches, up to `MAX_PRUNE_BATCHES` of them; returns how many went.
    pub async fn prune_idempotency_keys(&self) -> Result<u64> {
        let now = self.inner.clock.now();
        let mut removed = 0u64;
        for _ in 0..MAX_PRUNE_BATCHES {
            let n = self.inner.store.prune_idempotency(now, 1000).await?;
            removed += n;
            if n < 1000 {
                break;
            }
        }
        Ok(removed)
    }

    /// The retention in force.
    pub fn retention(&self) -> &RetentionPolicy {
        &self.inner.retention
    }

    /// Removes every access-log entry older than the retention
    /// ([`RetentionPolicy::access_log`]) at the injected clock's now, in batches of
    /// [`RetentionPolicy::batch`] (one short store call each), and logs one `info` line
    /// with the count and the cutoff (no personal data). The prune is the audit record
    /// of itself: that line and the returned [`PruneReport`]. Idempotent: running it
    /// again, or on two nodes at once, removes nothing more.
    ///
    /// A store error stops the prune; what earlier batches removed stays removed (the
    /// oldest first, so the log is still a clean suffix) and the next run goes on.
    pub async fn prune_access_log(&self) -> Result<PruneReport> {
        let cutoff =
            rules::retention_cutoff(self.inner.clock.now(), self.inner.retention.access_log);
        let batch = self.inner.retention.batch.max(1);
        let mut removed: u64 = 0;
        let mut batches: u32 = 0;
        loop {
            let n = match self.inner.store.prune_access_log(cutoff, batch).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(
                        removed,
                        cutoff = %cutoff.to_rfc3339(),
                        error = %e,
                        "access-log prune stopped by a store error"
                    );
                    return Err(e);
                }
            };
            removed = removed.saturating_add(n);
            batches = batches.saturating_add(1);
            if n < u64::try_from(batch).unwrap_or(u64::MAX) {
                break;
            }
            // A store that keeps answering full batches is broken or racing a flood
            // of writes: stop this run (the next one continues) instead of spinning.
            if batches >= MAX_PRUNE_BATCHES {
                tracing::warn!(
                    removed,
                    batches,
                    "access-log prune stopped after its batch budget; the next run continues"
                );
                break;
            }
        }
        tracing::info!(
            removed,
            batches,
            cutoff = %cutoff.to_rfc3339(),
            "pruned the access log"
        );
        Ok(PruneReport { cutoff, removed })
    }

    // ----- Client side: the access flow ----------------------------------------------

    /// Opens an invite link: says who it is for (the page masks the email). Changes
    /// nothing but the access log.
    pub async fn open_invite(
        &self,
        token: &InviteToken,
        request: &RequestInfo,
    ) -> Result<ContactInPortal> {
        let now = self.inner.clock.now();
        let target = self.inner.store.open_invite(&token.hash(), now).await?;
        open_to_clients(target.portal.status)?;
        self.log(&target, AccessEvent::InviteOpened, request)
            .await?;
        Ok(target)
    }

    /// Starts email verification from an invite: sends the email with a magic link
    /// and a code, and returns the token that binds this verification to the browser.
    pub async fn start_verification(
        &self,
        invite: &InviteToken,
        request: &RequestInfo,
    ) -> Result<(VerificationToken, VerificationView)> {
        let now = self.inner.clock.now();
        let invited = self.inner.store.open_invite(&invite.hash(), now).await?;
        open_to_clients(invited.portal.status)?;
        let rng = self.inner.random.as_ref();
        let verification = VerificationToken::generate(rng);
        let (code, magic, new_code) = self.new_code(&verification);
        let target = self
            .inner
            .store
            .start_verification(
                &invite.hash(),
                &verification.hash(),
                &new_code,
                &self.inner.policy,
            )
            .await?;
        self.send_code(&target, &verification, &code, &magic, &new_code, request)
            .await?;
        let view = self.verification(&verification).await?;
        Ok((verification, view))
    }

    /// Where a verification stands (for the "check your email" page).
    pub async fn verification(&self, verification: &VerificationToken) -> Result<VerificationView> {
        self.inner
            .store
            .verification(&verification.hash(), self.inner.clock.now())
            .await
    }

    /// Sends a new code (killing the previous one), up to the per-verification limit
    /// and the contact's email limit.
    pub async fn resend_code(
        &self,
        verification: &VerificationToken,
        request: &RequestInfo,
    ) -> Result<VerificationView> {
        let current = self.verification(verification).await?;
        open_to_clients(current.target.portal.status)?;
        let (code, magic, new_code) = self.new_code(verification);
        let (target, _) = self
            .inner
            .store
            .issue_code(&verification.hash(), &new_code, &self.inner.policy)
            .await?;
        self.send_code(&target, verification, &code, &magic, &new_code, request)
            .await?;
        self.verification(verification).await
    }

    /// Checks a typed code; if right, creates a fresh session (a new token, never the
    /// verification's).
    pub async fn enter_code(
        &self,
        verification: &VerificationToken,
        typed: &str,
        request: &RequestInfo,
    ) -> Result<(SessionToken, ClientContext)> {
        let code = VerificationCode::parse(typed)?;
        let current = self.verification(verification).await?;
        open_to_clients(current.target.portal.status)?;
        let presented = self.inner.secret.code_hash(&verification.hash(), &code);
        let (token, session) = self.new_session(request);
        let redeemed = self
            .inner
            .store
            .redeem_code(
                &verification.hash(),
                &presented,
                session.created_at,
                &self.inner.policy,
                &session,
            )
            .await;
        if let Err(Error::LimitReached(Limit::ContactLockedOut {
            until,
            started: true,
        })) = &redeemed
        {
            self.tell_lockout(&current.target, *until).await;
        }
        let ctx = redeemed?;
        self.log_ctx(&ctx, AccessEvent::Verified, request).await?;
        Ok((token, ctx))
    }

    /// Emails the tenant's notification recipients that `target`'s codes were just
    /// locked out until `until` (called once per lockout: only the wrong code that
    /// started it says `started`).
    ///
    /// Trade-off: the lockout is decided inside the store's `redeem_code` unit, which
    /// commits the wrong-code count and then answers with an error, and that unit
    /// does not carry emails (unlike `issue_invite` or `add_comment`). Rather than
    /// widen that seam for every store, the emails are queued with
    /// [`OutboxStore::enqueue`](crate::store::OutboxStore::enqueue) right after it.
    /// If the process dies between the two, or the enqueue fails, the lockout still
    /// holds but the MSP is not told of it (logged as an error); the client's answer
    /// never depends on it.
    async fn tell_lockout(&self, target: &ContactInPortal, until: DateTime<Utc>) {
        let queued: Result<usize> = async {
            let portal = &target.portal;
            let tenant = self.inner.store.tenant(portal.tenant_id).await?;
            let mut emails = Vec::with_capacity(tenant.notification_recipients.len());
            for to in &tenant.notification_recipients {
                let email = mail::lockout_notification(
                    mail::StaffRecipient {
                        email: to,
                        branding: &portal.branding,
                    },
                    &portal.client_name,
                    &target.contact.name,
                    self.inner.policy.max_wrong_codes_per_contact,
                    until,
                    tenant.time_zone,
                )?;
                emails.push(self.outbox_mail(
                    tenant.id,
                    Some(portal.id),
                    MailKind::StaffNotification,
                    email,
                ));
            }
            if !emails.is_empty() {
                self.inner.store.enqueue(&emails).await?;
            }
            Ok(emails.len())
        }
        .await;
        match queued {
            Ok(0) => {}
            Ok(_) => self.mail_queued().await,
            Err(e) => tracing::error!(
                contact = %target.contact.id,
                error = %e,
                "a contact was locked out but the MSP could not be told"
            ),
        }
    }

    /// Who a magic link is for, if still good. Changes nothing (mail scanners open links).
    pub async fn magic_link(&self, magic: &MagicToken) -> Result<ContactInPortal> {
        let target = self
            .inner
            .store
            .magic_link(
                &magic.hash(),
                self.inner.clock.now(),
                self.inner.policy.max_wrong_attempts,
            )
            .await?;
        open_to_clients(target.portal.status)?;
        Ok(target)
    }

    /// Consumes a magic link (only on the confirmation page's POST) and creates a session.
    pub async fn confirm_magic_link(
        &self,
        magic: &MagicToken,
        request: &RequestInfo,
    ) -> Result<(SessionToken, ClientContext)> {
        self.magic_link(magic).await?;
        let (token, session) = self.new_session(request);
        let ctx = self
            .inner
            .store
            .redeem_magic_link(
                &magic.hash(),
                session.created_at,
                self.inner.policy.max_wrong_attempts,
                &session,
            )
            .await?;
        self.log_ctx(&ctx, AccessEvent::Verified, request).await?;
        Ok((token, ctx))
    }

    /// Authenticates a request by its session token, sliding the session when due and
    /// logging the access.
    pub async fn authenticate(
        &self,
        session: &SessionToken,
        request: &RequestInfo,
    ) -> Result<ClientContext> {
        let ctx = self
            .inner
            .store
            .authenticate(
                &session.hash(),
                self.inner.clock.now(),
                &self.inner.policy.session,
                request,
            )
            .await?;
        open_to_clients(ctx.portal_status)?;
        Ok(ctx)
    }

    /// Ends a session.
    pub async fn sign_out(
        &self,
        session: &SessionToken,
        ctx: &ClientContext,
        request: &RequestInfo,
    ) -> Result<()> {
        self.inner
            .store
            .end_session(&session.hash(), self.inner.clock.now())
            .await?;
        self.log_ctx(ctx, AccessEvent::SignedOut, request).await
    }

    /// The contact's live sessions, the most recently seen first, each with whether
    /// it is `current` (the session of this request): their settings page lists them.
    pub async fn client_sessions(
        &self,
        current: &SessionToken,
        ctx: &ClientContext,
    ) -> Result<Vec<(crate::store::SessionSummary, bool)>> {
        let mine = current.hash();
        let sessions = self
            .inner
            .store
            .contact_sessions(ctx.contact_id, self.inner.clock.now())
            .await?;
        Ok(sessions
            .into_iter()
            .map(|s| {
                let is_current = s.token_hash == mine;
                (s, is_current)
            })
            .collect())
    }

    /// "Sign out other devices": ends every other session of the contact at once
    /// (a phone left signed in, a shared computer), keeping this one; returns how many
    /// were ended.
    pub async fn sign_out_other_sessions(
        &self,
        current: &SessionToken,
        ctx: &ClientContext,
    ) -> Result<u32> {
        self.inner
            .store
            .end_other_sessions(ctx.contact_id, &current.hash(), self.inner.clock.now())
            .await
    }

    /// The contact picks the time zone their times are shown in (and their reminders
    /// timed by): `raw` must be an IANA name ([`TimeZone::parse`]), else
    /// `Invalid("time zone")` and nothing changes.
    pub async fn set_own_time_zone(&self, ctx: &ClientContext, raw: &str) -> Result<TimeZone> {
        let zone = TimeZone::parse(raw)?;
        let contact = self
            .inner
            .store
            .set_contact_time_zone(ctx.contact_id, zone)
            .await?;
        Ok(contact.time_zone)
    }

    // ----- Client side: the portal ---------------------------------------------------

    /// Everything the portal home shows, scoped to the client's own portal: internal
    /// MSP tasks are not in it (nor, so, in the progress).
    pub async fn portal_home(&self, ctx: &ClientContext) -> Result<PortalSnapshot> {
        let snapshot = self.inner.store.portal_snapshot(ctx.portal_id).await?;
        Ok(crate::workflow::plan::client_view(snapshot))
    }

    // ----- helpers -------------------------------------------------------------------

    fn new_code(
        &self,
        verification: &VerificationToken,
    ) -> (VerificationCode, MagicToken, NewCode) {
        let rng = self.inner.random.as_ref();
        let code = VerificationCode::generate(rng);
        let magic = MagicToken::generate(rng);
        let now = self.inner.clock.now();
        let new_code = NewCode {
            code_hash: self.inner.secret.code_hash(&verification.hash(), &code),
            magic_hash: magic.hash(),
            issued_at: now,
            expires_at: now + self.inner.policy.code_ttl,
        };
        (code, magic, new_code)
    }

    fn new_session(&self, request: &RequestInfo) -> (SessionToken, NewSession) {
        let token = SessionToken::generate(self.inner.random.as_ref());
        let now = self.inner.clock.now();
        let expires_at = crate::access::rules::session_expiry(now, now, &self.inner.policy.session);
        let session = NewSession {
            token_hash: token.hash(),
            created_at: now,
            expires_at,
            user_agent: crate::access::rules::session_user_agent(request.user_agent.as_deref()),
        };
        (token, session)
    }

    /// Emails a code just issued, at once (the client is waiting for it), and records
    /// the email in the outbox: queued already claimed by this request, then marked
    /// sent. If the email cannot be sent, it is given up in the outbox (listed for the
    /// MSP), the code is taken back (it does not use up one of the verification's
    /// codes, nor count towards the contact's email limit) and the mail error is
    /// returned, so the client can simply try again. If this process dies before the
    /// outcome is recorded, the sender delivers the email once the claim's lease ends,
    /// unless the code has expired by then (`not_after`).
    async fn send_code(
        &self,
        target: &ContactInPortal,
        verification: &VerificationToken,
        code: &VerificationCode,
        magic: &MagicToken,
        new_code: &NewCode,
        request: &RequestInfo,
    ) -> Result<()> {
        let acting = self
            .acting_for(target.portal.tenant_id, Some(target.portal.id))
            .await?;
        let link = self.inner.links.magic_link_url(&acting, magic);
        let claim = ClaimToken::random(self.inner.random.as_ref());
        let sent = async {
            let email = mail::verification_email(
                recipient(target),
                code,
                &link,
                new_code.expires_at,
                self.inner.policy.code_ttl,
            )
            .map(|email| acting.sign(email))?;
            let mut message = self.outbox_mail(
                target.portal.tenant_id,
                Some(target.portal.id),
                MailKind::Verification,
                email,
            );
            message.not_after = Some(new_code.expires_at);
            message.attempts = 1;
            message.lease = Some(Lease {
                claim,
                until: message.created_at + self.inner.outbox.lease,
            });
            self.inner
                .store
                .enqueue(std::slice::from_ref(&message))
                .await?;
            match self.inner.mailer.send(&acting, &message.email).await {
                Ok(()) => Ok(message.id),
                Err(e) => {
                    let given_up = FailedAttempt {
                        at: self.inner.clock.now(),
                        error: format!(
                            "not delivered while the client waited (they were told, and the code was taken back): {e}"
                        ),
                        retry_at: None,
                    };
                    if let Err(undo) = self
                        .inner
                        .store
                        .mark_failed(message.id, claim, &given_up)
                        .await
                    {
                        tracing::error!(error = %undo, "could not record an undelivered verification email");
                    }
                    Err(e)
                }
            }
        }
        .await;
        let id = match sent {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(error = %e, "could not send a verification email; the code is withdrawn");
                if let Err(undo) = self
                    .inner
                    .store
                    .withdraw_code(&verification.hash(), &magic.hash())
                    .await
                {
                    tracing::error!(error = %undo, "could not withdraw an undelivered code");
                }
                return Err(e);
            }
        };
        // The client has its email: a failure to record that is only logged (the
        // sender would send it again after the lease, while the code lives).
        match self
            .inner
            .store
            .mark_sent(id, claim, self.inner.clock.now())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(mail = %id, "a verification email was sent after its claim was lost")
            }
            Err(e) => {
                tracing::error!(mail = %id, error = %e, "a verification email was sent but could not be recorded as sent")
            }
        }
        self.log(target, AccessEvent::CodeSent, request).await
    }

    async fn log(
        &self,
        target: &ContactInPortal,
        event: AccessEvent,
        request: &RequestInfo,
    ) -> Result<()> {
        self.record(target.portal.id, target.contact.id, event, request)
            .await
    }

    async fn log_ctx(
        &self,
        ctx: &ClientContext,
        event: AccessEvent,
        request: &RequestInfo,
    ) -> Result<()> {
        self.record(ctx.portal_id, ctx.contact_id, event, request)
            .await
    }

    async fn record(
        &self,
        portal: PortalId,
        contact: ContactId,
        event: AccessEvent,
        request: &RequestInfo,
    ) -> Result<()> {
        // Paths of token-bearing pages would put the token in the log: keep only the
        // address and user agent for access-flow events.
        let request = RequestInfo {
            path: None,
            ..request.clone()
        };
        let entry = AccessLogEntry {
            at: self.inner.clock.now(),
            portal_id: portal,
            contact_id: contact,
            event,
            request,
        };
        self.inner.store.record_access(&entry).await
    }
}

fn recipient(target: &ContactInPortal) -> Recipient<'_> {
    Recipient {
        name: &target.contact.name,
        email: &target.contact.email,
        branding: &target.portal.branding,
        time_zone: target.contact.time_zone,
        language: target.contact.language.unwrap_or_default(),
    }
}

/// Refuses the client flow for a portal that is not open to clients.
fn open_to_clients(status: PortalStatus) -> Result<()> {
    if status.is_open_to_clients() {
        Ok(())
    } else {
        Err(Error::PortalClosed { status })
    }
}

/// Creating a portal in any status but draft decides its status, as a status change
/// does: the admin's. A draft is any staff member's to create and prepare.
pub(crate) fn require_opening_role(staff: &StaffContext, status: PortalStatus) -> Result<()> {
    if status == PortalStatus::Draft {
        Ok(())
    } else {
        staff.require(StaffRole::Admin, "opening a portal")
    }
}
