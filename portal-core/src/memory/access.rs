//! [`AccessStore`] for [`MemoryStore`]: invites, verifications, sessions and the
//! access log. Every refusal comes from [`crate::access::rules`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    InviteRec, LiveCode, MemoryStore, Seq, SessionRec, State, VerificationRec, newest_first,
    not_found,
};
use crate::access::rules::{self, CodeOutcome, CodeState, Withdrawal};
use crate::access::{AccessPolicy, SessionPolicy};
use crate::error::{Entity, Error, Result};
use crate::ids::{ContactId, PhaseId, PortalId, TaskId};
use crate::model::{Contact, Guest, Phase, Task};
use crate::outbox::OutboxMessage;
use crate::secret::{CodeHash, TokenHash};
use crate::store::{
    AccessEvent, AccessLogEntry, AccessStore, ClientContext, ColleagueInvite, ContactInPortal,
    Handover, NewCode, NewGuest, NewHandover, NewSession, Page, PageKey, RequestInfo,
    SessionSummary, VerificationView,
};
use crate::workflow::ActivityEntry;
use crate::workflow::{guests, handover, team};

impl State {
    /// Judges a new guest as [`AccessStore::add_guest`]'s contract says, their shared
    /// tasks looked up in `extra` (tasks of the same unit, not written yet) and the
    /// stored ones; answers the contact to store, writes nothing.
    fn judge_guest(&self, new: &NewGuest, extra: &[Task]) -> Result<Contact> {
        let c = &new.guest;
        let Some(guest) = &c.guest else {
            return Err(Error::invalid(
                "contact",
                "a guest must carry its guest record",
            ));
        };
        if !self.portals.contains_key(&c.portal_id) {
            return Err(not_found(Entity::Portal));
        }
        if self.contacts.contains_key(&c.id) {
            return Err(Error::conflict("contact id already exists"));
        }
        if self
            .contacts
            .values()
            .any(|o| o.value.portal_id == c.portal_id && o.value.email == c.email)
        {
            return Err(Error::conflict(
                "a contact with this email already exists in this portal",
            ));
        }
        if self.invites.contains_key(&new.token) {
            return Err(Error::conflict("invite token already exists"));
        }
        let mut shared = Guest {
            shared_tasks: Vec::new(),
            ..guest.clone()
        };
        for task in &guest.shared_tasks {
            let found = extra
                .iter()
                .find(|t| t.id == *task)
                .or_else(|| self.tasks.get(task))
                .ok_or_else(|| not_found(Entity::Task))?;
            guests::judge_shareable(c, found)?;
            shared = guests::share(&shared, *task, true)?;
        }
        new.activity.ensure_portal(c.portal_id)?;
        self.check_new_mail(&new.emails)?;
        Ok(Contact {
            guest: Some(shared),
            ..c.clone()
        })
    }

    /// Writes a guest [`Self::judge_guest`] allowed: the contact, their invite, the
    /// emails and the entry.
    fn write_guest(&mut self, new: &NewGuest, stored: Contact) {
        let c = &new.guest;
        let seq = self.seq();
        self.contacts.insert(c.id, Seq { seq, value: stored });
        self.current_invite.insert(c.id, new.token);
        self.invites.insert(
            new.token,
            InviteRec {
                contact: c.id,
                issued_at: c.created_at,
                revoked_at: None,
            },
        );
        self.activity.push(new.activity.clone());
        self.queue_mail(&new.emails);
    }

    /// The contact an invite is for, judged by [`rules::judge_invite`].
    fn invite_target(&self, invite: &TokenHash, now: DateTime<Utc>) -> Result<ContactInPortal> {
        let rec = self
            .invites
            .get(invite)
            .ok_or_else(|| not_found(Entity::Invite))?;
        let target = self.target(rec.contact)?;
        rules::judge_invite(rec.revoked_at.is_some(), &target.contact, now)?;
        Ok(target)
    }

    /// A verification that is still running, judged at `now` with its contact.
    fn open_verification(
        &self,
        v: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<(&VerificationRec, ContactInPortal)> {
        let rec = match self.verifications.get(v) {
            Some(rec) if !rec.completed => rec,
            _ => return Err(not_found(Entity::Verification)),
        };
        let target = self.target(rec.contact)?;
        rules::judge_verification(&rec.state(), &target.contact, now)?;
        Ok((rec, target))
    }

    /// Judges one more verification email to `contact` at `now`.
    fn judge_email(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        policy: &AccessPolicy,
    ) -> Result<()> {
        let sends: Vec<DateTime<Utc>> = self
            .emails
            .get(&contact)
            .into_iter()
            .flatten()
            .map(|(at, _)| *at)
            .collect();
        rules::judge_email(&sends, now, policy)
    }

    /// Counts a verification email carrying `code`.
    fn count_email(&mut self, contact: ContactId, code: &NewCode) {
        self.emails
            .entry(contact)
            .or_default()
            .push((code.issued_at, code.magic_hash));
    }

    /// Ends every unfinished verification of a contact: its code and link die, and it
    /// never works again.
    fn end_verifications(&mut self, contact: ContactId) {
        let Some(list) = self.contact_verifications.get(&contact) else {
            return;
        };
        for v in list {
            if let Some(rec) = self.verifications.get_mut(v)
                && !rec.completed
            {
                rec.ended = true;
                rec.live = None;
            }
        }
    }

    /// The verification whose *live* link `magic` is, with its code and contact.
    fn magic_target(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<(TokenHash, CodeState, ContactInPortal)> {
        let v = *self
            .magic_links
            .get(magic)
            .ok_or_else(|| not_found(Entity::MagicLink))?;
        let rec = self
            .verifications
            .get(&v)
            .filter(|rec| !rec.completed && rec.latest_magic == Some(*magic))
            .ok_or_else(|| not_found(Entity::MagicLink))?;
        // The contact first: a revoked contact's link (killed by the revocation)
        // answers `Revoked(Contact)`.
        let target = self.target(rec.contact)?;
        rules::judge_link_verification(&rec.state(), &target.contact, now)?;
        let live = rec
            .live
            .as_ref()
            .filter(|live| live.magic_hash == *magic)
            .ok_or_else(|| not_found(Entity::MagicLink))?
            .state();
        Ok((v, live, target))
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

    /// Creates the session and ends the verification, after checking the new token.
    fn complete(
        &mut self,
        v: &TokenHash,
        target: &ContactInPortal,
        session: &NewSession,
    ) -> Result<ClientContext> {
        if self.sessions.contains_key(&session.token_hash) {
            return Err(Error::conflict("session token already exists"));
        }
        if let Some(rec) = self.verifications.get_mut(v) {
            rec.completed = true;
            rec.live = None;
            rec.latest_magic = None;
        }
        let contact = target.contact.id;
        self.sessions.insert(
            session.token_hash,
            SessionRec {
                contact,
                created_at: session.created_at,
                refreshed_at: session.created_at,
                expires_at: session.expires_at,
                revoked_at: None,
                ended_at: None,
                last_seen_at: session.created_at,
                user_agent: session.user_agent.clone(),
            },
        );
        self.contact_sessions
            .entry(contact)
            .or_default()
            .push(session.token_hash);
        Ok(ClientContext::new(target, session.expires_at))
    }
}

#[async_trait]
impl AccessStore for MemoryStore {
    async fn issue_invite(
        &self,
        contact: ContactId,
        token: &TokenHash,
        now: DateTime<Utc>,
        emails: &[OutboxMessage],
        activity: Option<&ActivityEntry>,
    ) -> Result<ContactInPortal> {
        self.with(|st| {
            let portal = st.contact(contact)?.portal_id;
            if st.invites.contains_key(token) {
                return Err(Error::conflict("invite token already exists"));
            }
            st.check_new_mail(emails)?;
            if let Some(entry) = activity {
                entry.ensure_portal(portal)?;
                st.activity.push(entry.clone());
            }
            st.queue_mail(emails);
            if let Some(old) = st.current_invite.insert(contact, *token) {
                st.invites.remove(&old);
            }
            st.invites.insert(
                *token,
                InviteRec {
                    contact,
                    issued_at: now,
                    revoked_at: None,
                },
            );
            if let Some(c) = st.contacts.get_mut(&contact) {
                c.value.revoked_at = None;
                c.value.awaiting_approval = false;
            }
            st.end_verifications(contact);
            st.target(contact)
        })
    }

    async fn invite_colleague(&self, invite: &ColleagueInvite) -> Result<ContactInPortal> {
        self.with(|st| {
            let c = &invite.colleague;
            let mode = st
                .portals
                .get(&c.portal_id)
                .ok_or_else(|| not_found(Entity::Portal))?
                .value
                .colleague_invitations;
            let active = st
                .contacts
                .values()
                .filter(|o| {
                    o.value.portal_id == c.portal_id
                        && o.value.revoked_at.is_none()
                        && o.value.guest.is_none()
                })
                .count();
            team::judge_colleague_invite(
                mode,
                active,
                invite.cap,
                c.awaiting_approval,
                invite.token.is_some(),
            )?;
            if st.contacts.contains_key(&c.id) {
                return Err(Error::conflict("contact id already exists"));
            }
            if st
                .contacts
                .values()
                .any(|o| o.value.portal_id == c.portal_id && o.value.email == c.email)
            {
                return Err(Error::conflict(
                    "a contact with this email already exists in this portal",
                ));
            }
            if let Some(token) = &invite.token
                && st.invites.contains_key(token)
            {
                return Err(Error::conflict("invite token already exists"));
            }
            invite.activity.ensure_portal(c.portal_id)?;
            st.check_new_mail(&invite.emails)?;
            let seq = st.seq();
            st.contacts.insert(
                c.id,
                Seq {
                    seq,
                    value: c.clone(),
                },
            );
            if let Some(token) = invite.token {
                st.current_invite.insert(c.id, token);
                st.invites.insert(
                    token,
                    InviteRec {
                        contact: c.id,
                        issued_at: c.created_at,
                        revoked_at: None,
                    },
                );
            }
            st.activity.push(invite.activity.clone());
            st.queue_mail(&invite.emails);
            st.target(c.id)
        })
    }

    async fn revoke_invite(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        self.with(|st| {
            let portal = st.contact(contact)?.portal_id;
            if let Some(entry) = activity {
                entry.ensure_portal(portal)?;
                st.activity.push(entry.clone());
            }
            if let Some(hash) = st.current_invite.get(&contact).copied()
                && let Some(rec) = st.invites.get_mut(&hash)
            {
                rec.revoked_at.get_or_insert(now);
            }
            st.end_verifications(contact);
            Ok(())
        })
    }

    async fn open_invite(&self, token: &TokenHash, now: DateTime<Utc>) -> Result<ContactInPortal> {
        self.with(|st| st.invite_target(token, now))
    }

    async fn add_guest(&self, new: &NewGuest) -> Result<ContactInPortal> {
        self.with(|st| {
            let stored = st.judge_guest(new, &[])?;
            st.write_guest(new, stored);
            st.target(new.guest.id)
        })
    }

    async fn start_handover(&self, new: &NewHandover) -> Result<Handover> {
        self.with(|st| {
            let portal = new.phase.portal_id;
            handover::judge_records(&new.phase, &new.tasks, &new.guest.guest)?;
            let phases: Vec<PhaseId> = st
                .phases
                .values()
                .filter(|p| p.portal_id == portal)
                .map(|p| p.id)
                .collect();
            let contacts: Vec<Contact> = st
                .contacts
                .values()
                .filter(|c| c.value.portal_id == portal)
                .map(|c| c.value.clone())
                .collect();
            handover::judge_start(&phases, &contacts)?;
            if st.phases.contains_key(&new.phase.id) {
                return Err(Error::conflict("phase id already exists"));
            }
            if new.tasks.iter().any(|t| st.tasks.contains_key(&t.id)) {
                return Err(Error::conflict("task id already exists"));
            }
            let position = u32::try_from(phases.len())
                .map_err(|_| Error::conflict("too many phases in this portal"))?;
            let phase = Phase {
                position,
                ..new.phase.clone()
            };
            let mut tasks = Vec::with_capacity(new.tasks.len());
            for (n, t) in new.tasks.iter().enumerate() {
                let position = u32::try_from(n)
                    .map_err(|_| Error::conflict("too many tasks in this phase"))?;
                tasks.push(Task {
                    position,
                    ..t.clone()
                });
            }
            // Judged with the new tasks in view, before anything is written: a
            // refused guest leaves the phase and its tasks unwritten too.
            let stored = st.judge_guest(&new.guest, &tasks)?;
            st.phases.insert(phase.id, phase.clone());
            for t in &tasks {
                st.tasks.insert(t.id, t.clone());
            }
            st.write_guest(&new.guest, stored.clone());
            Ok(Handover {
                phase,
                tasks,
                guest: stored,
            })
        })
    }

    async fn share_task(
        &self,
        contact: ContactId,
        task: TaskId,
        shared: bool,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        self.with(|st| {
            let current = st.contact(contact)?.clone();
            let Some(guest) = &current.guest else {
                return Err(Error::invalid("contact", "only a guest has tasks shared"));
            };
            if shared {
                let found = st.tasks.get(&task).ok_or_else(|| not_found(Entity::Task))?;
                guests::judge_shareable(&current, found)?;
            }
            let next = guests::share(guest, task, shared)?;
            activity.ensure_portal(current.portal_id)?;
            st.activity.push(activity.clone());
            let c = st
                .contacts
                .get_mut(&contact)
                .ok_or_else(|| not_found(Entity::Contact))?;
            c.value.guest = Some(next);
            Ok(c.value.clone())
        })
    }

    async fn end_guest_access(
        &self,
        contact: ContactId,
        at: DateTime<Utc>,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        self.with(|st| {
            let current = st.contact(contact)?;
            let next = guests::end_access(current, at)?;
            activity.ensure_portal(current.portal_id)?;
            st.activity.push(activity.clone());
            let c = st
                .contacts
                .get_mut(&contact)
                .ok_or_else(|| not_found(Entity::Contact))?;
            c.value.guest = Some(next);
            Ok(c.value.clone())
        })
    }

    async fn start_verification(
        &self,
        invite: &TokenHash,
        verification: &TokenHash,
        code: &NewCode,
        policy: &AccessPolicy,
    ) -> Result<ContactInPortal> {
        self.with(|st| {
            let target = st.invite_target(invite, code.issued_at)?;
            let contact = target.contact.id;
            if st.verifications.contains_key(verification) {
                return Err(Error::conflict("verification token already exists"));
            }
            if st.magic_links.contains_key(&code.magic_hash) {
                return Err(Error::conflict("magic link token already exists"));
            }
            st.judge_email(contact, code.issued_at, policy)?;
            st.kill_live_codes(contact);
            st.count_email(contact, code);
            st.verifications.insert(
                *verification,
                VerificationRec {
                    contact,
                    codes_issued: 1,
                    latest_magic: Some(code.magic_hash),
                    live: Some(LiveCode::from_new(code)),
                    completed: false,
                    ended: false,
                    expires_at: rules::verification_expiry(code.issued_at, policy),
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

    async fn verification(
        &self,
        verification: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<VerificationView> {
        self.with(|st| {
            let (rec, target) = st.open_verification(verification, now)?;
            Ok(VerificationView {
                target,
                codes_issued: rec.codes_issued,
                code_expires_at: rec.live.as_ref().map(|l| l.expires_at),
            })
        })
    }

    async fn issue_code(
        &self,
        verification: &TokenHash,
        code: &NewCode,
        policy: &AccessPolicy,
    ) -> Result<(ContactInPortal, u32)> {
        self.with(|st| {
            let (rec, target) = st.open_verification(verification, code.issued_at)?;
            rules::judge_code_request(rec.codes_issued, policy.max_codes_per_verification)?;
            st.judge_email(target.contact.id, code.issued_at, policy)?;
            if st.magic_links.contains_key(&code.magic_hash) {
                return Err(Error::conflict("magic link token already exists"));
            }
            // One live code per contact: the newest, whichever verification it is in.
            st.kill_live_codes(target.contact.id);
            st.count_email(target.contact.id, code);
            let rec = st
                .verifications
                .get_mut(verification)
                .ok_or_else(|| not_found(Entity::Verification))?;
            rec.codes_issued += 1;
            rec.live = Some(LiveCode::from_new(code));
            rec.latest_magic = Some(code.magic_hash);
            let issued = rec.codes_issued;
            st.magic_links.insert(code.magic_hash, *verification);
            Ok((target, issued))
        })
    }

    async fn withdraw_code(&self, verification: &TokenHash, magic: &TokenHash) -> Result<()> {
        self.with(|st| {
            let Some(rec) = st.verifications.get_mut(verification) else {
                return Ok(());
            };
            if rec.completed || rec.live.as_ref().map(|l| l.magic_hash) != Some(*magic) {
                return Ok(());
            }
            let contact = rec.contact;
            match rules::judge_withdrawal(rec.codes_issued) {
                Withdrawal::Uncount { codes_issued } => {
                    rec.codes_issued = codes_issued;
                    rec.live = None;
                    rec.latest_magic = None;
                }
                Withdrawal::DropVerification => {
                    st.verifications.remove(verification);
                    if let Some(list) = st.contact_verifications.get_mut(&contact) {
                        list.retain(|v| v != verification);
                    }
                }
            }
            // The email never went out: it does not count towards the limit.
            if let Some(sent) = st.emails.get_mut(&contact) {
                sent.retain(|(_, m)| m != magic);
            }
            Ok(())
        })
    }

    async fn redeem_code(
        &self,
        verification: &TokenHash,
        presented: &CodeHash,
        now: DateTime<Utc>,
        policy: &AccessPolicy,
        session: &NewSession,
    ) -> Result<ClientContext> {
        self.with(|st| {
            let (rec, target) = st.open_verification(verification, now)?;
            let live = rec.live.as_ref().map(LiveCode::state);
            let contact = target.contact.id;
            let guard = st.code_guards.get(&contact).copied().unwrap_or_default();
            match rules::judge_code(live.as_ref(), &guard, presented, now, policy) {
                CodeOutcome::Accept => st.complete(verification, &target, session),
                CodeOutcome::CountWrongTry {
                    wrong_attempts,
                    guard,
                    error,
                } => {
                    st.code_guards.insert(contact, guard);
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
            let (_, live, target) = st.magic_target(magic, now)?;
            rules::judge_magic_link(&live, now, max_wrong_attempts)?;
            Ok(target)
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
            let (v, live, target) = st.magic_target(magic, now)?;
            rules::judge_magic_link(&live, now, max_wrong_attempts)?;
            st.complete(&v, &target, session)
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
            let target = st.target(rec.contact)?;
            let state = rec.state(rules::contact_revoked_at(&target.contact, now));
            let note = rules::judge_session(&state, now, policy)?;
            let refresh = note.and_then(|n| n.refresh);
            let expires_at = refresh.map_or(state.expires_at, |r| r.expires_at);
            if let (Some(note), Some(rec)) = (note, st.sessions.get_mut(session)) {
                if let Some(r) = note.refresh {
                    rec.refreshed_at = r.refreshed_at;
                    rec.expires_at = r.expires_at;
                }
                rec.last_seen_at = note.seen_at;
                rec.user_agent = rules::session_user_agent(request.user_agent.as_deref());
            }
            let ctx = ClientContext::new(&target, expires_at);
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

    async fn end_session(&self, session: &TokenHash, now: DateTime<Utc>) -> Result<()> {
        self.with(|st| {
            if let Some(rec) = st.sessions.get_mut(session) {
                rec.ended_at.get_or_insert(now);
            }
            Ok(())
        })
    }

    async fn contact_sessions(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionSummary>> {
        self.with(|st| {
            let contact_revoked = st
                .contacts
                .get(&contact)
                .is_some_and(|c| c.value.revoked_at.is_some());
            let mut out: Vec<SessionSummary> = st
                .contact_sessions
                .get(&contact)
                .into_iter()
                .flatten()
                .filter_map(|hash| st.sessions.get(hash).map(|rec| (hash, rec)))
                .filter(|(_, rec)| {
                    rec.contact == contact && rules::session_live(&rec.state(contact_revoked), now)
                })
                .map(|(hash, rec)| SessionSummary {
                    token_hash: *hash,
                    created_at: rec.created_at,
                    last_seen_at: rec.last_seen_at,
                    user_agent: rec.user_agent.clone(),
                })
                .collect();
            out.sort_by_key(|s| std::cmp::Reverse(s.last_seen_at));
            Ok(out)
        })
    }

    async fn end_other_sessions(
        &self,
        contact: ContactId,
        keep: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        self.with(|st| {
            let hashes = st
                .contact_sessions
                .get(&contact)
                .cloned()
                .unwrap_or_default();
            let mut ended = 0u32;
            for hash in hashes.iter().filter(|h| *h != keep) {
                if let Some(rec) = st.sessions.get_mut(hash)
                    && rec.contact == contact
                    && rec.ended_at.is_none()
                {
                    rec.ended_at = Some(now);
                    ended = ended.saturating_add(1);
                }
            }
            Ok(ended)
        })
    }

    async fn set_contact_time_zone(
        &self,
        contact: ContactId,
        zone: crate::model::TimeZone,
    ) -> Result<Contact> {
        self.with(|st| {
            let c = st
                .contacts
                .get_mut(&contact)
                .ok_or_else(|| not_found(Entity::Contact))?;
            c.value.time_zone = zone;
            Ok(c.value.clone())
        })
    }

    async fn revoke_contact(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        self.with(|st| {
            let portal = st.contact(contact)?.portal_id;
            if let Some(entry) = activity {
                entry.ensure_portal(portal)?;
                st.activity.push(entry.clone());
            }
            if let Some(c) = st.contacts.get_mut(&contact) {
                c.value.revoked_at.get_or_insert(now);
            }
            if let Some(hash) = st.current_invite.get(&contact).copied()
                && let Some(rec) = st.invites.get_mut(&hash)
            {
                rec.revoked_at.get_or_insert(now);
            }
            st.end_verifications(contact);
            let sessions = st
                .contact_sessions
                .get(&contact)
                .cloned()
                .unwrap_or_default();
            for s in sessions {
                if let Some(rec) = st.sessions.get_mut(&s) {
                    rec.revoked_at.get_or_insert(now);
                }
            }
            Ok(())
        })
    }

    async fn remove_contact(&self, contact: ContactId, activity: &ActivityEntry) -> Result<()> {
        self.with(|st| {
            let portal = st.contact(contact)?.portal_id;
            activity.ensure_portal(portal)?;
            st.erase_contact(contact);
            st.activity.push(activity.clone());
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

    async fn access_log_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<AccessLogEntry>> {
        self.with(|st| {
            Ok(st
                .access_log
                .newest_page(|e| e.portal_id == portal, |e| e.at, after, limit))
        })
    }

    async fn prune_access_log(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        self.with(|st| {
            // The oldest `max_rows` entries older than `before` (ties: insertion order).
            let mut old: Vec<(DateTime<Utc>, usize)> = st
                .access_log
                .iter()
                .enumerate()
                .filter(|(_, e)| e.at < before)
                .map(|(i, e)| (e.at, i))
                .collect();
            old.sort_unstable();
            old.truncate(max_rows);
            let doomed: std::collections::HashSet<usize> =
                old.into_iter().map(|(_, i)| i).collect();
            let mut index = 0;
            st.access_log.retain(|_| {
                let keep = !doomed.contains(&index);
                index += 1;
                keep
            });
            Ok(u64::try_from(doomed.len()).unwrap_or(u64::MAX))
        })
    }
}
