//! [`MemoryStore`]: the in-memory reference implementation of the storage traits.
//!
//! This store *is* the reference semantics of [`crate::store`]: every contract point
//! is implemented here in the plainest possible way, and the conformance suite
//! ([`crate::conformance`]) passes against it. When an adapter author wonders what a
//! contract sentence means, the code below is the answer.
//!
//! All state sits behind one [`Mutex`]; every trait method takes the lock once, checks
//! everything it needs, and only then writes, so each method is one atomic unit and
//! a refused call changes nothing (the one deliberate exception is a wrong code,
//! whose counted try is persisted before the error is returned, as the rules demand).
//! Decisions are taken by the pure functions of [`crate::access::rules`], by core
//! types ([`crate::store::ClientContext::new`], [`crate::workflow::TaskChange::apply_to`],
//! [`crate::workflow::ActivityEntry::ensure_portal`]) and, for tasks, by the
//! [`crate::store::TaskDecision`] the caller hands in, never re-implemented here.
//!
//! The store is split like the SQLite adapter: [`directory`](self) (tenants, portals,
//! contacts, plan), `access` (invites, verifications, sessions, access log),
//! `workflow` (task changes, comments, questions, activity, branding) and `documents`
//! (uploaded files and their review).
//!
//! Only hashes of tokens and codes are kept ([`TokenHash`], [`CodeHash`]).
//!
//! The contract fixes every error meaning (see [`crate::store`]); the choices left
//! to a store are only about storage: this one keeps the records that stop working
//! (killed codes, revoked sessions, replaced invites' times) in place with a flag,
//! and numbers every insertion so equal times list in commit order.

mod access;
mod attachments;
mod audit;
mod blob;
mod credentials;
mod directory;
mod documents;
mod filedrop;
mod idempotency;
mod outbox;
mod plan;
mod reminders;
mod signatures;
mod webhooks;
mod workflow;

pub use blob::MemoryBlobStore;

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::access::rules::{CodeGuard, CodeState, SessionState, VerificationState};
use crate::error::{Entity, Error, Result};
use crate::idempotency::{IdempotencyKey, IdempotencyRecord};
use crate::ids::{ContactId, FileId, MailId, PhaseId, PortalId, QuestionId, TaskId, TenantId};
use crate::model::{Contact, Logo, Phase, Portal, Task, Tenant};
use crate::outbox::OutboxMessage;
use crate::secret::{CodeHash, TokenHash};
use crate::store::{AccessLogEntry, ContactInPortal, NewCode, Page, PageKey};
use crate::workflow::{ActivityEntry, ClientQuestion, Comment, DocumentFile};

/// The in-memory reference store: a complete [`crate::Store`] kept in process memory.
///
/// Good for tests, demos and as the executable definition of the storage contract;
/// everything is lost when it is dropped.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("MemoryStore")
            .field("tenants", &st.tenants.len())
            .field("portals", &st.portals.len())
            .field("contacts", &st.contacts.len())
            .field("sessions", &st.sessions.len())
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every method checks before it writes, so a panic while holding the lock
        // cannot leave half a unit behind: the state is safe to keep using.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs one atomic unit under the lock.
    fn with<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        f(&mut self.lock())
    }
}

/// A record with its insertion number, for "oldest first" listings.
#[derive(Debug, Clone)]
struct Seq<T> {
    seq: u64,
    value: T,
}

#[derive(Debug)]
struct InviteRec {
    contact: ContactId,
    /// Kept as an audit fact (the `now` of `issue_invite`).
    #[expect(
        dead_code,
        reason = "an audit fact the contract asks stores to keep; the reference store never reads it back"
    )]
    issued_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct LiveCode {
    code_hash: CodeHash,
    magic_hash: TokenHash,
    expires_at: DateTime<Utc>,
    wrong_attempts: u32,
}

impl LiveCode {
    fn from_new(code: &NewCode) -> Self {
        Self {
            code_hash: code.code_hash,
            magic_hash: code.magic_hash,
            expires_at: code.expires_at,
            wrong_attempts: 0,
        }
    }

    fn state(&self) -> CodeState {
        CodeState {
            code_hash: self.code_hash,
            expires_at: self.expires_at,
            wrong_attempts: self.wrong_attempts,
        }
    }
}

#[derive(Debug)]
struct VerificationRec {
    contact: ContactId,
    codes_issued: u32,
    /// The verification's latest magic link, live or killed (a revoked contact's
    /// killed link answers `Revoked(Contact)`, not `NotFound`); `None` once withdrawn
    /// or redeemed. Replaced links are not kept here.
    latest_magic: Option<TokenHash>,
    /// The one live code (and its magic link); `None` once killed (another code of the
    /// contact issued, the contact revoked) or redeemed.
    live: Option<LiveCode>,
    /// Redeemed: the verification is over and answers `NotFound`.
    completed: bool,
    /// Ended by its invite's death or its contact's revocation (see the contract).
    ended: bool,
    /// Last instant at which it is accepted, fixed at its start.
    expires_at: DateTime<Utc>,
}

impl VerificationRec {
    fn state(&self) -> VerificationState {
        VerificationState {
            expires_at: self.expires_at,
            ended: self.ended,
        }
    }
}

#[derive(Debug)]
struct SessionRec {
    contact: ContactId,
    created_at: DateTime<Utc>,
    refreshed_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    /// The last successful authentication (creation before any).
    last_seen_at: DateTime<Utc>,
    /// Its user agent, as kept.
    user_agent: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    next_seq: u64,
    tenants: HashMap<TenantId, Seq<Tenant>>,
    portals: HashMap<PortalId, Seq<Portal>>,
    contacts: HashMap<ContactId, Seq<Contact>>,
    phases: HashMap<PhaseId, Phase>,
    tasks: HashMap<TaskId, Task>,
    logos: HashMap<String, Logo>,
    /// Each portal's onboarding team (absent: never set, an empty team).
    teams: HashMap<PortalId, crate::model::OnboardingTeam>,
    /// Current invites (revoked ones included); a re-issued invite's old hash is removed.
    invites: HashMap<TokenHash, InviteRec>,
    current_invite: HashMap<ContactId, TokenHash>,
    verifications: HashMap<TokenHash, VerificationRec>,
    contact_verifications: HashMap<ContactId, Vec<TokenHash>>,
    /// Every magic link ever issued → its verification (hashes are unique forever).
    magic_links: HashMap<TokenHash, TokenHash>,
    /// Verification emails sent to each contact: when, and the magic link they carried
    /// (so a withdrawn, undelivered email can be taken back).
    emails: HashMap<ContactId, Vec<(DateTime<Utc>, TokenHash)>>,
    /// Each contact's record of wrong codes (none: the default).
    code_guards: HashMap<ContactId, CodeGuard>,
    sessions: HashMap<TokenHash, SessionRec>,
    contact_sessions: HashMap<ContactId, Vec<TokenHash>>,
    /// Append-only, in insertion order, each entry with its number.
    access_log: Log<AccessLogEntry>,
    /// Every task comment with its insertion number.
    comments: Vec<Seq<Comment>>,
    /// Questions with their insertion number (answers are set in place).
    questions: HashMap<QuestionId, Seq<ClientQuestion>>,
    /// The activity feed of every portal: append-only, in insertion order, each entry
    /// with its number.
    activity: Log<ActivityEntry>,
    /// Uploaded files (document versions) with their insertion number.
    files: HashMap<FileId, Seq<DocumentFile>>,
    /// The email outbox, with each email's insertion number.
    outbox: HashMap<MailId, Seq<OutboxMessage>>,
    /// Reminder settings of the portals whose MSP changed the defaults.
    reminder_settings: HashMap<PortalId, crate::reminders::ReminderSettings>,
    /// What each contact's reminders remember.
    reminder_contacts: HashMap<ContactId, reminders::ContactRec>,
    /// Each portal's last escalation.
    escalations: HashMap<PortalId, DateTime<Utc>>,
    /// Plan templates of every tenant.
    templates: HashMap<crate::ids::TemplateId, crate::workflow::template::PlanTemplate>,
    /// Each template's creation number (the tie-break of its page key).
    template_seq: HashMap<crate::ids::TemplateId, u64>,
    /// Every tenant's erasure log, in insertion order.
    erasures: Vec<crate::store::Erasure>,
    /// Idempotency keys by (tenant, key).
    idempotency: HashMap<(TenantId, IdempotencyKey), IdempotencyRecord>,
    /// Each portal's audit chain, in number order (append-only).
    audit: HashMap<PortalId, Vec<crate::audit::ChainedEvent>>,
    /// Credential handoffs by task.
    credentials: HashMap<TaskId, crate::credentials::CredentialRecord>,
    /// Dropped files of secure file drop tasks, with their insertion number.
    drops: HashMap<FileId, Seq<crate::filedrop::DroppedFile>>,
    /// Signatures by task.
    signatures: HashMap<TaskId, crate::signatures::SignatureRecord>,
    /// Documents attached to signature tasks, by task.
    signature_documents: HashMap<TaskId, crate::signatures::AttachedDocument>,
    /// Webhook endpoints, cursors and deliveries.
    webhooks: webhooks::WebhookState,
    /// Files staff attached to tasks, with their insertion number.
    attachments: HashMap<crate::ids::AttachmentId, Seq<crate::attachments::TaskAttachment>>,
    /// Document opens, in insertion order.
    document_opens: Vec<crate::attachments::DocumentOpen>,
}

impl State {
    /// Removes a deleted task's sealed records (dropped files, signature, signature
    /// document, credentials, attachments and their opens) and answers their blobs that still hold content.
    fn erase_task_records(&mut self, task: TaskId) -> Vec<crate::ids::BlobId> {
        let mut blobs = Vec::new();
        self.drops.retain(|_, d| {
            if d.value.task_id != task {
                return true;
            }
            if !d.value.bytes_removed {
                blobs.push(d.value.blob);
            }
            false
        });
        if let Some(s) = self.signatures.remove(&task)
            && let crate::signatures::SignatureMark::Drawn(image) = s.mark
        {
            blobs.push(image.blob);
        }
        if let Some(d) = self.signature_documents.remove(&task) {
            blobs.push(d.blob);
        }
        self.credentials.remove(&task);
        self.attachments.retain(|_, a| {
            if a.value.task_id != task {
                return true;
            }
            blobs.push(a.value.blob);
            false
        });
        self.document_opens.retain(|o| o.task_id != task);
        blobs
    }

    /// Deletes a contact and all of its access records (invite, verifications and
    /// their magic links, email counts, code guard, sessions, access-log entries).
    fn erase_contact(&mut self, contact: ContactId) {
        self.contacts.remove(&contact);
        self.document_opens.retain(|o| o.contact_id != contact);
        if let Some(hash) = self.current_invite.remove(&contact) {
            self.invites.remove(&hash);
        }
        self.invites.retain(|_, rec| rec.contact != contact);
        let verifications = self
            .contact_verifications
            .remove(&contact)
            .unwrap_or_default();
        for v in &verifications {
            self.verifications.remove(v);
        }
        self.magic_links.retain(|_, v| !verifications.contains(v));
        self.emails.remove(&contact);
        self.code_guards.remove(&contact);
        let sessions = self.contact_sessions.remove(&contact).unwrap_or_default();
        for session in &sessions {
            self.sessions.remove(session);
        }
        self.access_log.retain(|e| e.contact_id != contact);
        self.reminder_contacts.remove(&contact);
    }
}

fn not_found(entity: Entity) -> Error {
    Error::NotFound { entity }
}

/// Newest first by time; entries with the same time, latest appended first. `items`
/// must come in insertion order.
/// An append-only list whose entries keep the number they were appended with, so a
/// removal never renumbers the others: the tie-breaking `seq` of a [`PageKey`].
#[derive(Debug)]
struct Log<T> {
    next: u64,
    items: Vec<(u64, T)>,
}

impl<T> Default for Log<T> {
    fn default() -> Self {
        Self {
            next: 0,
            items: Vec::new(),
        }
    }
}

impl<T> Log<T> {
    fn push(&mut self, item: T) {
        self.items.push((self.next, item));
        self.next += 1;
    }

    fn extend(&mut self, items: impl IntoIterator<Item = T>) {
        for item in items {
            self.push(item);
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.items.retain(|(_, item)| keep(item));
    }

    fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.items.iter().map(|(_, item)| item)
    }

    /// A page of the entries `keep` selects, newest first (equal times: the later
    /// appended first), after `after` in that order.
    fn newest_page(
        &self,
        keep: impl Fn(&T) -> bool,
        at: impl Fn(&T) -> DateTime<Utc>,
        after: Option<PageKey>,
        limit: usize,
    ) -> Page<T>
    where
        T: Clone,
    {
        let mut read: Vec<(PageKey, &T)> = self
            .items
            .iter()
            .filter(|(_, item)| keep(item))
            .map(|(seq, item)| {
                (
                    PageKey {
                        at: at(item),
                        seq: *seq,
                    },
                    item,
                )
            })
            .filter(|(key, _)| after.is_none_or(|a| *key < a))
            .collect();
        read.sort_by_key(|item| std::cmp::Reverse(item.0));
        read.truncate(limit.saturating_add(1));
        Page::from_read(
            read.into_iter().map(|(k, t)| (k, t.clone())).collect(),
            limit,
        )
    }
}

fn newest_first<'a, T: 'a>(
    items: impl DoubleEndedIterator<Item = &'a T>,
    at: impl Fn(&T) -> DateTime<Utc>,
) -> Vec<&'a T> {
    let mut v: Vec<&T> = items.rev().collect();
    // A stable sort keeps the reversed insertion order among equal times.
    v.sort_by_key(|e| std::cmp::Reverse(at(e)));
    v
}

/// A page of `items` (each with its time and creation number) oldest first, after
/// `after` in that order: the keyset page of [`Page`]'s contract.
fn oldest_page<T>(
    items: impl Iterator<Item = (DateTime<Utc>, u64, T)>,
    after: Option<PageKey>,
    limit: usize,
) -> Page<T> {
    let mut read: Vec<(PageKey, T)> = items
        .map(|(at, seq, t)| (PageKey { at, seq }, t))
        .filter(|(key, _)| after.is_none_or(|a| *key > a))
        .collect();
    read.sort_by_key(|item| item.0);
    read.truncate(limit.saturating_add(1));
    Page::from_read(read, limit)
}

fn oldest_first<T: Clone>(items: impl Iterator<Item = (DateTime<Utc>, u64, T)>) -> Vec<T> {
    let mut v: Vec<_> = items.collect();
    v.sort_by_key(|a| (a.0, a.1));
    v.into_iter().map(|(_, _, t)| t).collect()
}

impl State {
    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Refuses emails whose id is taken (stored, or twice in `emails`); units call it
    /// with their other checks, before writing anything.
    fn check_new_mail(&self, emails: &[OutboxMessage]) -> Result<()> {
        for (i, m) in emails.iter().enumerate() {
            if self.outbox.contains_key(&m.id) || emails[..i].iter().any(|o| o.id == m.id) {
                return Err(Error::conflict("an email with this id is already queued"));
            }
        }
        Ok(())
    }

    /// Queues emails already checked by [`Self::check_new_mail`], as given.
    fn queue_mail(&mut self, emails: &[OutboxMessage]) {
        for m in emails {
            let seq = self.seq();
            self.outbox.insert(
                m.id,
                Seq {
                    seq,
                    value: m.clone(),
                },
            );
        }
    }

    /// A task, if it belongs to `portal` (`NotFound` otherwise, whether it is missing
    /// or another portal's).
    fn portal_task(&self, portal: PortalId, task: TaskId) -> Result<&Task> {
        match self.tasks.get(&task) {
            Some(t) if t.portal_id == portal => Ok(t),
            _ => Err(not_found(Entity::Task)),
        }
    }

    /// Appends `entry` to its portal's chain as [`crate::audit::seal`] answers, after
    /// [`crate::audit::ensure_portal`]; units call it after their other checks, so a
    /// refused unit appends nothing.
    fn append_audit(
        &mut self,
        entry: &crate::audit::AuditEntry,
    ) -> Result<crate::audit::ChainedEvent> {
        let tenant = self.portal_tenant(entry.portal_id)?;
        crate::audit::ensure_portal(entry, entry.portal_id, tenant)?;
        let chain = self.audit.entry(entry.portal_id).or_default();
        let event = crate::audit::seal(chain.last().map(crate::audit::ChainedEvent::head), entry);
        chain.push(event.clone());
        Ok(event)
    }

    /// Refuses an audit entry that cannot join `portal`'s chain, before a unit writes.
    fn check_audit(
        &self,
        portal: PortalId,
        entry: Option<&crate::audit::AuditEntry>,
    ) -> Result<()> {
        match entry {
            Some(e) => crate::audit::ensure_portal(e, portal, self.portal_tenant(portal)?),
            None => Ok(()),
        }
    }

    /// The tenant of a portal (a task was found in it, so it exists).
    fn portal_tenant(&self, portal: PortalId) -> Result<TenantId> {
        self.portals
            .get(&portal)
            .map(|p| p.value.tenant_id)
            .ok_or_else(|| not_found(Entity::Portal))
    }

    fn contact(&self, id: ContactId) -> Result<&Contact> {
        self.contacts
            .get(&id)
            .map(|c| &c.value)
            .ok_or_else(|| not_found(Entity::Contact))
    }

    fn target(&self, id: ContactId) -> Result<ContactInPortal> {
        let contact = self.contact(id)?;
        let portal = self
            .portals
            .get(&contact.portal_id)
            .ok_or_else(|| Error::storage_msg("contact refers to a missing portal"))?;
        Ok(ContactInPortal {
            contact: contact.clone(),
            portal: portal.value.clone(),
        })
    }
}

impl SessionRec {
    fn state(&self, contact_revoked: bool) -> SessionState {
        SessionState {
            created_at: self.created_at,
            refreshed_at: self.refreshed_at,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
            revoked: self.revoked_at.is_some(),
            contact_revoked,
            ended: self.ended_at.is_some(),
        }
    }
}
