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
//! Decisions are taken by the pure functions of [`crate::access::rules`] and, for
//! tasks, by the [`TaskDecision`] the caller hands in, never re-implemented here.
//!
//! Only hashes of tokens and codes are kept ([`TokenHash`], [`CodeHash`]).
//!
//! Choices where the contract leaves room, made here and checked by the suite:
//! - *Verification limit window*: a verification started exactly `window` before
//!   the new code's `issued_at` still counts (the boundary is inclusive, like every
//!   expiry in [`crate::access::rules`]).
//! - *Errors*: an unknown or used magic link is `NotFound { entity: Entity::MagicLink }`;
//!   a replaced or killed one is `Expired { entity: Entity::MagicLink }` (as a replaced
//!   code is `Expired { entity: Entity::Code }`); any step of the access flow for a revoked
//!   contact is `Revoked` (`entity: Entity::Session` from `authenticate`, `"invite"` for a
//!   revoked invite, `"contact"` otherwise).
//! - Sessions of a revoked contact stay stored with their revoked flag, so
//!   `authenticate` answers `Revoked`, not `NotFound`, and re-inviting the contact
//!   does not bring them back.
//! - Listing children of a missing parent (`portals`, `contacts`, `access_log`,
//!   `questions`, `activity`) answers an empty list; `comments` is scoped by a task,
//!   so it answers `NotFound` for a task that is missing or of another portal.
//! - *Workflow*: `update_task` holds the one lock while `decide` runs, so updates are
//!   serialised; the activity entry `decide` returns is appended as it is. A question
//!   of another portal, like a missing one, is `NotFound`; answering it twice is
//!   `Conflict`. Questions, comments and activity entries keep their insertion
//!   number, which breaks ties between equal times.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::access::SessionPolicy;
use crate::access::rules::{
    CodeOutcome, CodeState, SessionState, judge_code, judge_code_request, judge_magic_link,
    judge_session,
};
use crate::error::{Entity, Error, Limit, Result};
use crate::ids::{ContactId, PhaseId, PortalId, QuestionId, TaskId, TenantId};
use crate::model::{
    Branding, Contact, Logo, Phase, Portal, PortalSnapshot, PortalStatus, Task, Tenant,
};
use crate::secret::{CodeHash, TokenHash};
use crate::store::{
    AccessEvent, AccessLogEntry, AccessStore, ClientContext, ContactInPortal, DirectoryStore,
    NewCode, NewSession, RequestInfo, TaskDecision, VerificationLimits, VerificationView,
    WorkflowStore,
};
use crate::workflow::{ActivityEntry, ClientQuestion, Comment, QuestionAnswer};

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
    revoked: bool,
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
    /// The first code's `issued_at`: what the per-contact limit counts.
    started_at: DateTime<Utc>,
    codes_issued: u32,
    /// The one live code (and its magic link); `None` once killed (another verification
    /// of the contact started, the contact revoked) or redeemed.
    live: Option<LiveCode>,
    /// Redeemed: the verification is over and answers `NotFound`.
    completed: bool,
}

#[derive(Debug)]
struct SessionRec {
    contact: ContactId,
    state: SessionState,
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
    /// Live and revoked invites; a re-issued invite's old hash is removed.
    invites: HashMap<TokenHash, InviteRec>,
    current_invite: HashMap<ContactId, TokenHash>,
    verifications: HashMap<TokenHash, VerificationRec>,
    contact_verifications: HashMap<ContactId, Vec<TokenHash>>,
    /// Every magic link ever issued → its verification (so a dead link can be told
    /// from an unknown one).
    magic_links: HashMap<TokenHash, TokenHash>,
    sessions: HashMap<TokenHash, SessionRec>,
    contact_sessions: HashMap<ContactId, Vec<TokenHash>>,
    /// Append-only, in insertion order.
    access_log: Vec<AccessLogEntry>,
    /// Every task comment, in insertion order.
    comments: Vec<Comment>,
    /// Questions with their insertion number (answers are set in place).
    questions: HashMap<QuestionId, Seq<ClientQuestion>>,
    /// The activity feed of every portal: append-only, in insertion order.
    activity: Vec<ActivityEntry>,
}

fn not_found(entity: Entity) -> Error {
    Error::NotFound { entity }
}

/// Newest first by time; entries with the same time, latest appended first. `items`
/// must come in insertion order.
fn newest_first<'a, T: 'a>(
    items: impl DoubleEndedIterator<Item = &'a T>,
    at: impl Fn(&T) -> DateTime<Utc>,
) -> Vec<&'a T> {
    let mut v: Vec<&T> = items.rev().collect();
    // A stable sort keeps the reversed insertion order among equal times.
    v.sort_by_key(|e| std::cmp::Reverse(at(e)));
    v
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

    /// A task, if it belongs to `portal` (`NotFound` otherwise, whether it is missing
    /// or another portal's).
    fn portal_task(&self, portal: PortalId, task: TaskId) -> Result<&Task> {
        match self.tasks.get(&task) {
            Some(t) if t.portal_id == portal => Ok(t),
            _ => Err(not_found(Entity::Task)),
        }
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

    fn context(&self, id: ContactId, session_expires_at: DateTime<Utc>) -> Result<ClientContext> {
        let t = self.target(id)?;
        Ok(ClientContext {
            tenant_id: t.portal.tenant_id,
            portal_id: t.portal.id,
            contact_id: t.contact.id,
            contact_name: t.contact.name,
            contact_email: t.contact.email,
            session_expires_at,
            portal_status: t.portal.status,
        })
    }

    fn refuse_if_revoked(&self, id: ContactId) -> Result<()> {
        if self.contact(id)?.revoked_at.is_some() {
            return Err(Error::Revoked {
                entity: Entity::Contact,
            });
        }
        Ok(())
    }

    /// The contact an invite is for, if the invite and the contact are in good standing.
    fn invite_contact(&self, invite: &TokenHash) -> Result<ContactId> {
        let rec = self
            .invites
            .get(invite)
            .ok_or_else(|| not_found(Entity::Invite))?;
        self.refuse_if_revoked(rec.contact)?;
        if rec.revoked {
            return Err(Error::Revoked {
                entity: Entity::Invite,
            });
        }
        Ok(rec.contact)
    }

    /// A verification that is still running.
    fn open_verification(&self, v: &TokenHash) -> Result<&VerificationRec> {
        match self.verifications.get(v) {
            Some(rec) if !rec.completed => Ok(rec),
            _ => Err(not_found(Entity::Verification)),
        }
    }

    /// The verification a magic link belongs to and its live code, if the link is
    /// the live one. Errors: unknown or used → `NotFound`; revoked contact →
    /// `Revoked`; replaced or killed → `Expired`.
    fn magic_target(&self, magic: &TokenHash) -> Result<(TokenHash, CodeState, ContactId)> {
        let v = *self
            .magic_links
            .get(magic)
            .ok_or_else(|| not_found(Entity::MagicLink))?;
        let rec = self
            .open_verification(&v)
            .map_err(|_| not_found(Entity::MagicLink))?;
        self.refuse_if_revoked(rec.contact)?;
        match &rec.live {
            Some(live) if live.magic_hash == *magic => Ok((v, live.state(), rec.contact)),
            _ => Err(Error::Expired {
                entity: Entity::MagicLink,
            }),
        }
    }

    /// Kills every live code and magic link of a contact.
    fn kill_live_codes(&mut self, contact: ContactId) {
        let Some(list) = self.contact_verifications.get(&contact) else {
            return;
        };
        for v in list {
            if let Some(rec) = self.verifications.get_mut(v) {
                rec.live = None;
            }
        }
    }

    /// Checks a session can be created; call before any write.
    fn check_new_session(&self, session: &NewSession) -> Result<()> {
        if self.sessions.contains_key(&session.token_hash) {
            return Err(Error::conflict("session token already exists"));
        }
        Ok(())
    }

    /// Creates the session and ends the verification. Checks were done by the caller.
    fn complete(
        &mut self,
        v: &TokenHash,
        contact: ContactId,
        session: &NewSession,
    ) -> Result<ClientContext> {
        let ctx = self.context(contact, session.expires_at)?;
        if let Some(rec) = self.verifications.get_mut(v) {
            rec.completed = true;
            rec.live = None;
        }
        self.sessions.insert(
            session.token_hash,
            SessionRec {
                contact,
                state: SessionState {
                    created_at: session.created_at,
                    refreshed_at: session.created_at,
                    expires_at: session.expires_at,
                    revoked: false,
                    ended: false,
                },
            },
        );
        self.contact_sessions
            .entry(contact)
            .or_default()
            .push(session.token_hash);
        Ok(ctx)
    }
}

#[async_trait]
impl DirectoryStore for MemoryStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.with(|st| {
            if st.tenants.contains_key(&tenant.id) {
                return Err(Error::conflict("tenant id already exists"));
            }
            let seq = st.seq();
            st.tenants.insert(
                tenant.id,
                Seq {
                    seq,
                    value: tenant.clone(),
                },
            );
            Ok(())
        })
    }

    async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        self.with(|st| {
            st.tenants
                .get(&id)
                .map(|t| t.value.clone())
                .ok_or_else(|| not_found(Entity::Tenant))
        })
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        self.with(|st| {
            Ok(oldest_first(
                st.tenants
                    .values()
                    .map(|t| (t.value.created_at, t.seq, t.value.clone())),
            ))
        })
    }

    async fn create_portal(&self, portal: &Portal) -> Result<()> {
        self.with(|st| {
            if st.portals.contains_key(&portal.id) {
                return Err(Error::conflict("portal id already exists"));
            }
            if !st.tenants.contains_key(&portal.tenant_id) {
                return Err(not_found(Entity::Tenant));
            }
            let seq = st.seq();
            st.portals.insert(
                portal.id,
                Seq {
                    seq,
                    value: portal.clone(),
                },
            );
            Ok(())
        })
    }

    async fn portal(&self, id: PortalId) -> Result<Portal> {
        self.with(|st| {
            st.portals
                .get(&id)
                .map(|p| p.value.clone())
                .ok_or_else(|| not_found(Entity::Portal))
        })
    }

    async fn portals(&self, tenant: TenantId) -> Result<Vec<Portal>> {
        self.with(|st| {
            Ok(oldest_first(
                st.portals
                    .values()
                    .filter(|p| p.value.tenant_id == tenant)
                    .map(|p| (p.value.created_at, p.seq, p.value.clone())),
            ))
        })
    }

    async fn set_portal_status(&self, portal: PortalId, status: PortalStatus) -> Result<()> {
        self.with(|st| {
            let p = st
                .portals
                .get_mut(&portal)
                .ok_or_else(|| not_found(Entity::Portal))?;
            p.value.status = status;
            Ok(())
        })
    }

    async fn add_contact(&self, contact: &Contact) -> Result<()> {
        self.with(|st| {
            if st.contacts.contains_key(&contact.id) {
                return Err(Error::conflict("contact id already exists"));
            }
            if !st.portals.contains_key(&contact.portal_id) {
                return Err(not_found(Entity::Portal));
            }
            if st
                .contacts
                .values()
                .any(|c| c.value.portal_id == contact.portal_id && c.value.email == contact.email)
            {
                return Err(Error::conflict(
                    "a contact with this email already exists in this portal",
                ));
            }
            let seq = st.seq();
            st.contacts.insert(
                contact.id,
                Seq {
                    seq,
                    value: contact.clone(),
                },
            );
            Ok(())
        })
    }

    async fn contact(&self, id: ContactId) -> Result<Contact> {
        self.with(|st| st.contact(id).cloned())
    }

    async fn contacts(&self, portal: PortalId) -> Result<Vec<Contact>> {
        self.with(|st| {
            Ok(oldest_first(
                st.contacts
                    .values()
                    .filter(|c| c.value.portal_id == portal)
                    .map(|c| (c.value.created_at, c.seq, c.value.clone())),
            ))
        })
    }

    async fn add_phase(&self, portal: PortalId, id: PhaseId, name: &str) -> Result<Phase> {
        self.with(|st| {
            if st.phases.contains_key(&id) {
                return Err(Error::conflict("phase id already exists"));
            }
            if !st.portals.contains_key(&portal) {
                return Err(not_found(Entity::Portal));
            }
            let count = st.phases.values().filter(|p| p.portal_id == portal).count();
            let position = u32::try_from(count)
                .map_err(|_| Error::conflict("too many phases in this portal"))?;
            let phase = Phase {
                id,
                portal_id: portal,
                position,
                name: name.to_owned(),
            };
            st.phases.insert(id, phase.clone());
            Ok(phase)
        })
    }

    async fn add_task(&self, task: &Task) -> Result<Task> {
        self.with(|st| {
            if st.tasks.contains_key(&task.id) {
                return Err(Error::conflict("task id already exists"));
            }
            if !st.portals.contains_key(&task.portal_id) {
                return Err(not_found(Entity::Portal));
            }
            match st.phases.get(&task.phase_id) {
                Some(phase) if phase.portal_id == task.portal_id => {}
                _ => return Err(not_found(Entity::Phase)),
            }
            let count = st
                .tasks
                .values()
                .filter(|t| t.phase_id == task.phase_id)
                .count();
            let position = u32::try_from(count)
                .map_err(|_| Error::conflict("too many tasks in this phase"))?;
            let task = Task {
                position,
                ..task.clone()
            };
            st.tasks.insert(task.id, task.clone());
            Ok(task)
        })
    }

    async fn put_logo(&self, logo: &Logo) -> Result<()> {
        let key = logo.reference().sha256;
        self.with(|st| {
            st.logos.entry(key).or_insert_with(|| logo.clone());
            Ok(())
        })
    }

    async fn logo(&self, sha256: &str) -> Result<Logo> {
        self.with(|st| {
            st.logos
                .get(sha256)
                .cloned()
                .ok_or_else(|| not_found(Entity::Logo))
        })
    }

    async fn portal_snapshot(&self, portal: PortalId) -> Result<PortalSnapshot> {
        self.with(|st| {
            let p = st
                .portals
                .get(&portal)
                .map(|p| p.value.clone())
                .ok_or_else(|| not_found(Entity::Portal))?;
            let mut phases: Vec<Phase> = st
                .phases
                .values()
                .filter(|ph| ph.portal_id == portal)
                .cloned()
                .collect();
            phases.sort_by_key(|ph| ph.position);
            let phase_pos: HashMap<PhaseId, u32> =
                phases.iter().map(|ph| (ph.id, ph.position)).collect();
            let mut tasks: Vec<Task> = st
                .tasks
                .values()
                .filter(|t| t.portal_id == portal)
                .cloned()
                .collect();
            tasks.sort_by_key(|t| (phase_pos.get(&t.phase_id).copied(), t.position));
            Ok(PortalSnapshot {
                portal: p,
                phases,
                tasks,
            })
        })
    }
}

#[async_trait]
impl AccessStore for MemoryStore {
    async fn issue_invite(
        &self,
        contact: ContactId,
        token: &TokenHash,
        _now: DateTime<Utc>,
    ) -> Result<ContactInPortal> {
        self.with(|st| {
            st.contact(contact)?;
            if st.invites.contains_key(token) {
                return Err(Error::conflict("invite token already exists"));
            }
            if let Some(old) = st.current_invite.insert(contact, *token) {
                st.invites.remove(&old);
            }
            st.invites.insert(
                *token,
                InviteRec {
                    contact,
                    revoked: false,
                },
            );
            if let Some(c) = st.contacts.get_mut(&contact) {
                c.value.revoked_at = None;
            }
            st.target(contact)
        })
    }

    async fn revoke_invite(&self, contact: ContactId, _now: DateTime<Utc>) -> Result<()> {
        self.with(|st| {
            st.contact(contact)?;
            if let Some(hash) = st.current_invite.get(&contact).copied()
                && let Some(rec) = st.invites.get_mut(&hash)
            {
                rec.revoked = true;
            }
            Ok(())
        })
    }

    async fn open_invite(&self, token: &TokenHash) -> Result<ContactInPortal> {
        self.with(|st| {
            let contact = st.invite_contact(token)?;
            st.target(contact)
        })
    }

    async fn start_verification(
        &self,
        invite: &TokenHash,
        verification: &TokenHash,
        code: &NewCode,
        limits: VerificationLimits,
    ) -> Result<ContactInPortal> {
        self.with(|st| {
            let contact = st.invite_contact(invite)?;
            if st.verifications.contains_key(verification) {
                return Err(Error::conflict("verification token already exists"));
            }
            if st.magic_links.contains_key(&code.magic_hash) {
                return Err(Error::conflict("magic link token already exists"));
            }
            let since = code.issued_at - limits.window;
            let recent = st
                .contact_verifications
                .get(&contact)
                .into_iter()
                .flatten()
                .filter_map(|v| st.verifications.get(v))
                .filter(|rec| rec.started_at >= since)
                .count();
            if u32::try_from(recent).unwrap_or(u32::MAX) >= limits.max_per_contact {
                return Err(Error::LimitReached(Limit::VerificationsPerContact));
            }
            let target = st.target(contact)?;
            st.kill_live_codes(contact);
            st.verifications.insert(
                *verification,
                VerificationRec {
                    contact,
                    started_at: code.issued_at,
                    codes_issued: 1,
                    live: Some(LiveCode::from_new(code)),
                    completed: false,
                },
            );
            st.contact_verifications
                .entry(contact)
                .or_default()
                .push(*verification);
            st.magic_links.insert(code.magic_hash, *verification);
            Ok(target)
        })
    }

    async fn verification(&self, verification: &TokenHash) -> Result<VerificationView> {
        self.with(|st| {
            let rec = st.open_verification(verification)?;
            st.refuse_if_revoked(rec.contact)?;
            Ok(VerificationView {
                target: st.target(rec.contact)?,
                codes_issued: rec.codes_issued,
                code_expires_at: rec.live.as_ref().map(|l| l.expires_at),
            })
        })
    }

    async fn issue_code(
        &self,
        verification: &TokenHash,
        code: &NewCode,
        max_codes: u32,
    ) -> Result<(ContactInPortal, u32)> {
        self.with(|st| {
            let rec = st.open_verification(verification)?;
            let contact = rec.contact;
            st.refuse_if_revoked(contact)?;
            judge_code_request(rec.codes_issued, max_codes)?;
            if st.magic_links.contains_key(&code.magic_hash) {
                return Err(Error::conflict("magic link token already exists"));
            }
            let target = st.target(contact)?;
            let rec = st
                .verifications
                .get_mut(verification)
                .ok_or_else(|| not_found(Entity::Verification))?;
            rec.codes_issued += 1;
            rec.live = Some(LiveCode::from_new(code));
            let issued = rec.codes_issued;
            st.magic_links.insert(code.magic_hash, *verification);
            Ok((target, issued))
        })
    }

    async fn redeem_code(
        &self,
        verification: &TokenHash,
        presented: &CodeHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
        session: &NewSession,
    ) -> Result<ClientContext> {
        self.with(|st| {
            let rec = st.open_verification(verification)?;
            let contact = rec.contact;
            st.refuse_if_revoked(contact)?;
            let live = rec.live.as_ref().map(LiveCode::state);
            match judge_code(live.as_ref(), presented, now, max_wrong_attempts) {
                CodeOutcome::Accept => {
                    st.check_new_session(session)?;
                    st.complete(verification, contact, session)
                }
                CodeOutcome::CountWrongTry {
                    wrong_attempts,
                    error,
                } => {
                    if let Some(live) = st
                        .verifications
                        .get_mut(verification)
                        .and_then(|r| r.live.as_mut())
                    {
                        live.wrong_attempts = wrong_attempts;
                    }
                    Err(error)
                }
                CodeOutcome::Refuse(error) => Err(error),
            }
        })
    }

    async fn magic_link(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
    ) -> Result<ContactInPortal> {
        self.with(|st| {
            let (_, live, contact) = st.magic_target(magic)?;
            judge_magic_link(&live, now, max_wrong_attempts)?;
            st.target(contact)
        })
    }

    async fn redeem_magic_link(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
        session: &NewSession,
    ) -> Result<ClientContext> {
        self.with(|st| {
            let (v, live, contact) = st.magic_target(magic)?;
            judge_magic_link(&live, now, max_wrong_attempts)?;
            st.check_new_session(session)?;
            st.complete(&v, contact, session)
        })
    }

    async fn authenticate(
        &self,
        session: &TokenHash,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
        request: &RequestInfo,
    ) -> Result<ClientContext> {
        self.with(|st| {
            let rec = st
                .sessions
                .get(session)
                .ok_or_else(|| not_found(Entity::Session))?;
            let contact = rec.contact;
            let contact_revoked = st.contact(contact)?.revoked_at.is_some();
            let state = SessionState {
                revoked: rec.state.revoked || contact_revoked,
                ..rec.state
            };
            let refresh = judge_session(&state, now, policy)?;
            let expires_at = refresh.map_or(state.expires_at, |r| r.expires_at);
            let ctx = st.context(contact, expires_at)?;
            if let Some(r) = refresh
                && let Some(rec) = st.sessions.get_mut(session)
            {
                rec.state.refreshed_at = r.refreshed_at;
                rec.state.expires_at = r.expires_at;
            }
            st.access_log.push(AccessLogEntry {
                at: now,
                portal_id: ctx.portal_id,
                contact_id: ctx.contact_id,
                event: AccessEvent::PortalRequest,
                request: request.clone(),
            });
            Ok(ctx)
        })
    }

    async fn end_session(&self, session: &TokenHash, _now: DateTime<Utc>) -> Result<()> {
        self.with(|st| {
            if let Some(rec) = st.sessions.get_mut(session) {
                rec.state.ended = true;
            }
            Ok(())
        })
    }

    async fn revoke_contact(&self, contact: ContactId, now: DateTime<Utc>) -> Result<()> {
        self.with(|st| {
            st.contact(contact)?;
            if let Some(c) = st.contacts.get_mut(&contact) {
                c.value.revoked_at.get_or_insert(now);
            }
            if let Some(hash) = st.current_invite.get(&contact).copied()
                && let Some(rec) = st.invites.get_mut(&hash)
            {
                rec.revoked = true;
            }
            st.kill_live_codes(contact);
            let sessions = st
                .contact_sessions
                .get(&contact)
                .cloned()
                .unwrap_or_default();
            for s in sessions {
                if let Some(rec) = st.sessions.get_mut(&s) {
                    rec.state.revoked = true;
                }
            }
            Ok(())
        })
    }

    async fn record_access(&self, entry: &AccessLogEntry) -> Result<()> {
        self.with(|st| {
            if !st.portals.contains_key(&entry.portal_id) {
                return Err(not_found(Entity::Portal));
            }
            if st.contact(entry.contact_id)?.portal_id != entry.portal_id {
                return Err(not_found(Entity::Contact));
            }
            st.access_log.push(entry.clone());
            Ok(())
        })
    }

    async fn access_log(&self, portal: PortalId, limit: usize) -> Result<Vec<AccessLogEntry>> {
        self.with(|st| {
            let entries = newest_first(
                st.access_log.iter().filter(|e| e.portal_id == portal),
                |e| e.at,
            );
            Ok(entries.into_iter().take(limit).cloned().collect())
        })
    }
}

#[async_trait]
impl WorkflowStore for MemoryStore {
    async fn task(&self, portal: PortalId, task: TaskId) -> Result<Task> {
        self.with(|st| st.portal_task(portal, task).cloned())
    }

    async fn update_task(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: TaskDecision,
    ) -> Result<Task> {
        self.with(|st| {
            let current = st.portal_task(portal, task)?;
            // The lock is held across `decide`: concurrent updates of the task (of any
            // task) wait, so each decision sees the previous one's result.
            let change = decide(current)?;
            let next = Task {
                id: current.id,
                portal_id: current.portal_id,
                phase_id: current.phase_id,
                position: current.position,
                created_at: current.created_at,
                ..change.task
            };
            st.tasks.insert(next.id, next.clone());
            st.activity.push(change.activity);
            Ok(next)
        })
    }

    async fn add_comment(&self, comment: &Comment, activity: &ActivityEntry) -> Result<()> {
        self.with(|st| {
            st.portal_task(comment.portal_id, comment.task_id)?;
            st.comments.push(comment.clone());
            st.activity.push(activity.clone());
            Ok(())
        })
    }

    async fn comments(&self, portal: PortalId, task: TaskId) -> Result<Vec<Comment>> {
        self.with(|st| {
            st.portal_task(portal, task)?;
            Ok(oldest_first(
                st.comments
                    .iter()
                    .zip(0u64..)
                    .filter(|(c, _)| c.portal_id == portal && c.task_id == task)
                    .map(|(c, seq)| (c.at, seq, c.clone())),
            ))
        })
    }

    async fn add_question(
        &self,
        question: &ClientQuestion,
        activity: &ActivityEntry,
    ) -> Result<()> {
        self.with(|st| {
            if st.questions.contains_key(&question.id) {
                return Err(Error::conflict("question id already exists"));
            }
            if !st.portals.contains_key(&question.portal_id) {
                return Err(not_found(Entity::Portal));
            }
            let seq = st.seq();
            st.questions.insert(
                question.id,
                Seq {
                    seq,
                    value: question.clone(),
                },
            );
            st.activity.push(activity.clone());
            Ok(())
        })
    }

    async fn answer_question(
        &self,
        portal: PortalId,
        question: QuestionId,
        answer: &QuestionAnswer,
        activity: &ActivityEntry,
    ) -> Result<ClientQuestion> {
        self.with(|st| {
            let q = match st.questions.get_mut(&question) {
                Some(q) if q.value.portal_id == portal => &mut q.value,
                _ => return Err(not_found(Entity::Question)),
            };
            if q.answer.is_some() {
                return Err(Error::conflict("This question has already been answered."));
            }
            q.answer = Some(answer.clone());
            let answered = q.clone();
            st.activity.push(activity.clone());
            Ok(answered)
        })
    }

    async fn questions(&self, portal: PortalId) -> Result<Vec<ClientQuestion>> {
        self.with(|st| {
            let mut qs: Vec<&Seq<ClientQuestion>> = st
                .questions
                .values()
                .filter(|q| q.value.portal_id == portal)
                .collect();
            qs.sort_by_key(|q| std::cmp::Reverse((q.value.asked_at, q.seq)));
            Ok(qs.into_iter().map(|q| q.value.clone()).collect())
        })
    }

    async fn activity(&self, portal: PortalId, limit: usize) -> Result<Vec<ActivityEntry>> {
        self.with(|st| {
            let entries = newest_first(st.activity.iter().filter(|e| e.portal_id == portal), |e| {
                e.at
            });
            Ok(entries.into_iter().take(limit).cloned().collect())
        })
    }

    async fn set_tenant_branding(&self, tenant: TenantId, branding: &Branding) -> Result<()> {
        self.with(|st| {
            let t = st
                .tenants
                .get_mut(&tenant)
                .ok_or_else(|| not_found(Entity::Tenant))?;
            t.value.branding = branding.clone();
            Ok(())
        })
    }

    async fn set_portal_branding(&self, portal: PortalId, branding: &Branding) -> Result<()> {
        self.with(|st| {
            let p = st
                .portals
                .get_mut(&portal)
                .ok_or_else(|| not_found(Entity::Portal))?;
            p.value.branding = branding.clone();
            Ok(())
        })
    }
}
