//! [`AccessStore`] for [`PostgresStore`]: invites, verifications, sessions and the
//! access log.
//!
//! Only hashes are stored. A verification row holds at most one live code: its code
//! hash, magic-link hash and expiry are set together (a new code replaces all three)
//! and cleared together when the verification is redeemed or the code withdrawn. A
//! code killed by a newer code of the contact or a revocation loses its code hash and
//! expiry but keeps its magic-link hash, so that link still finds its verification
//! and a revoked contact's link answers `Revoked(Contact)` rather than `NotFound`. Every decision about
//! a code, a magic link or a session is taken by `portal_core::access::rules` inside
//! the write transaction that applies it (this module only loads and writes); units
//! run `SERIALIZABLE` (see [`crate::tx`]), so two concurrent redemptions of one code
//! create exactly one session and concurrent wrong codes each count, on one node or
//! across nodes.
//!
//! A verification row also keeps its expiry (fixed at its start) and when it was ended
//! (its invite re-issued or revoked, its contact revoked). `verification_emails` holds
//! one row per verification email sent (deleted when the code is withdrawn), counted
//! for the per-contact email limit; `code_guards` holds each contact's wrong-code count
//! and lockout (`rules::CodeGuard`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use postgres::Row;

use portal_core::access::rules::{
    self, CodeGuard, CodeOutcome, CodeState, SessionState, VerificationState, Withdrawal,
};
use portal_core::access::{AccessPolicy, SessionPolicy};
use portal_core::model::{Contact, Guest, Phase, Task};
use portal_core::outbox::OutboxMessage;
use portal_core::secret::{CodeHash, TokenHash};
use portal_core::store::{
    AccessEvent, AccessLogEntry, ClientContext, ColleagueInvite, ContactInPortal, Handover,
    NewCode, NewGuest, NewHandover, NewSession, Page, PageKey, RequestInfo, SessionSummary,
    VerificationView,
};
use portal_core::workflow::ActivityEntry;
use portal_core::workflow::team::{self, InvitationMode};
use portal_core::workflow::{guests, handover};
use portal_core::{AccessStore, ContactId, Entity, Error, PhaseId, PortalId, Result, TaskId};

use crate::PostgresStore;
use crate::codec::{self, ACCESS_COLS, CONTACT_WIDTH, DbResult, contact_cols, micros, portal_cols};
use crate::directory::exists;
use crate::tx::Tx;

/// Pages of a portal's access log, by `(at, id)` (see [`codec::PageQuery`]).
const ACCESS_PAGE: codec::PageQuery = codec::PageQuery {
    first: ACCESS_PAGE_FIRST,
    after: ACCESS_PAGE_AFTER,
    width: 7,
};
/// The newest page of a portal's access log (see [`crate::codec::newest_page`]).
pub(crate) const ACCESS_PAGE_FIRST: &str =
    "SELECT at, portal_id, contact_id, event, ip, user_agent, path, id
     FROM access_log WHERE portal_id = $1 ORDER BY at DESC, id DESC LIMIT $2";
/// A page of a portal's access log after a key (see [`crate::codec::newest_page`]).
pub(crate) const ACCESS_PAGE_AFTER: &str =
    "SELECT at, portal_id, contact_id, event, ip, user_agent, path, id
     FROM access_log WHERE portal_id = $1 AND (at, id) < ($2, $3)
     ORDER BY at DESC, id DESC LIMIT $4";

/// The live code from `code_hash, code_expires_at, wrong_attempts` starting at `base`.
fn code_at(row: &Row, base: usize) -> Result<Option<CodeState>> {
    let hash = codec::opt_bytes_n::<32>(row, base)?;
    let expires_at = codec::opt_time(row, base + 1)?;
    let wrong_attempts = codec::count(row, base + 2)?;
    Ok(match (hash, expires_at) {
        (Some(hash), Some(expires_at)) => Some(CodeState {
            code_hash: CodeHash::from_bytes(hash),
            expires_at,
            wrong_attempts,
        }),
        _ => None,
    })
}

/// Whether the optional time in column `idx` is set (a revocation, an end).
fn is_set(row: &Row, idx: usize) -> Result<bool> {
    Ok(codec::get::<Option<i64>>(row, idx)?.is_some())
}

/// Who a live invite is for: `NotFound` if unknown (or replaced), `Revoked` if the
/// contact or the invite was revoked.
fn load_invite(tx: &mut Tx<'_>, token: &TokenHash, now: DateTime<Utc>) -> Result<ContactInPortal> {
    let row = tx
        .query_opt(
            concat!(
                "SELECT i.revoked_at, ",
                contact_cols!(),
                ", ",
                portal_cols!(),
                " FROM invites i
                   JOIN contacts c ON c.id = i.contact_id
                   JOIN portals p ON p.id = c.portal_id
                 WHERE i.token_hash = $1"
            ),
            &[&&token.as_bytes()[..]],
        )
        .db("reading an invite")?
        .ok_or(Error::NotFound {
            entity: Entity::Invite,
        })?;
    let invite_revoked = is_set(&row, 0)?;
    let target = target_at(&row, 1)?;
    rules::judge_invite(invite_revoked, &target.contact, now)?;
    Ok(target)
}

/// Judges and writes a new guest as [`AccessStore::add_guest`]'s contract says
/// (their shared tasks loaded in the same transaction, so a handover's new tasks are
/// found too); answers the contact as stored.
fn insert_guest(
    tx: &mut Tx<'_>,
    new: &NewGuest,
    entry: &crate::workflow::rows::Recorded,
) -> Result<Contact> {
    let c = &new.guest;
    let Some(guest) = &c.guest else {
        return Err(Error::invalid(
            "contact",
            "a guest must carry its guest record",
        ));
    };
    let key = &c.portal_id.as_bytes()[..];
    if !exists(tx, "SELECT 1 FROM portals WHERE id = $1", &[&key])? {
        return Err(Error::NotFound {
            entity: Entity::Portal,
        });
    }
    if exists(
        tx,
        "SELECT 1 FROM contacts WHERE id = $1",
        &[&&c.id.as_bytes()[..]],
    )? {
        return Err(Error::conflict("a contact with this id already exists"));
    }
    if exists(
        tx,
        "SELECT 1 FROM contacts WHERE portal_id = $1 AND email = $2",
        &[&key, &c.email.as_str()],
    )? {
        return Err(Error::conflict(
            "a contact with this email already exists in the portal",
        ));
    }
    let mut shared = Guest {
        shared_tasks: Vec::new(),
        ..guest.clone()
    };
    for task in &guest.shared_tasks {
        let found = crate::directory::load_task(tx, c.portal_id, *task)?;
        guests::judge_shareable(c, &found)?;
        shared = guests::share(&shared, *task, true)?;
    }
    entry.insert(tx, c.portal_id)?;
    let stored = Contact {
        guest: Some(shared),
        ..c.clone()
    };
    crate::directory::insert_contact(tx, &stored)?;
    tx.execute(
        "INSERT INTO invites (contact_id, token_hash, issued_at, revoked_at)
         VALUES ($1, $2, $3, NULL)",
        &[
            &&c.id.as_bytes()[..],
            &&new.token.as_bytes()[..],
            &micros(c.created_at),
        ],
    )
    .db("storing an invite")?;
    crate::outbox::insert(tx, &new.emails)?;
    Ok(stored)
}

/// A verification still in progress.
struct Verification {
    codes_issued: u32,
    code: Option<CodeState>,
    target: ContactInPortal,
}

/// The verification state from `expires_at, ended_at` starting at `base`.
fn verification_at(row: &Row, base: usize) -> Result<VerificationState> {
    Ok(VerificationState {
        expires_at: codec::time(row, base)?,
        ended: is_set(row, base + 1)?,
    })
}

/// A verification that is not completed (`NotFound` otherwise), judged at `now` by
/// `rules::judge_verification` with its contact.
fn load_verification(
    tx: &mut Tx<'_>,
    token: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Verification> {
    let row = tx
        .query_opt(
            concat!(
                "SELECT v.codes_issued, v.code_hash, v.code_expires_at, v.wrong_attempts,
                        v.expires_at, v.ended_at, ",
                contact_cols!(),
                ", ",
                portal_cols!(),
                " FROM verifications v
                   JOIN contacts c ON c.id = v.contact_id
                   JOIN portals p ON p.id = c.portal_id
                 WHERE v.token_hash = $1 AND v.completed_at IS NULL"
            ),
            &[&&token.as_bytes()[..]],
        )
        .db("reading a verification")?
        .ok_or(Error::NotFound {
            entity: Entity::Verification,
        })?;
    let v = Verification {
        codes_issued: codec::count(&row, 0)?,
        code: code_at(&row, 1)?,
        target: target_at(&row, 6)?,
    };
    let state = verification_at(&row, 4)?;
    rules::judge_verification(&state, &v.target.contact, now)?;
    Ok(v)
}

/// The verification a live magic link belongs to, with its code, if the link is
/// still good at `now`.
fn load_magic(
    tx: &mut Tx<'_>,
    magic: &TokenHash,
    now: DateTime<Utc>,
    max_wrong_attempts: u32,
) -> Result<(TokenHash, ContactInPortal)> {
    let row = tx
        .query_opt(
            concat!(
                "SELECT v.token_hash, v.code_hash, v.code_expires_at, v.wrong_attempts,
                        v.expires_at, v.ended_at, ",
                contact_cols!(),
                ", ",
                portal_cols!(),
                " FROM verifications v
                   JOIN contacts c ON c.id = v.contact_id
                   JOIN portals p ON p.id = c.portal_id
                 WHERE v.magic_hash = $1 AND v.completed_at IS NULL"
            ),
            &[&&magic.as_bytes()[..]],
        )
        .db("reading a magic link")?
        .ok_or(Error::NotFound {
            entity: Entity::MagicLink,
        })?;
    let verification = TokenHash::from_bytes(codec::bytes_n::<32>(&row, 0)?);
    let code = code_at(&row, 1)?;
    let state = verification_at(&row, 4)?;
    let target = target_at(&row, 6)?;
    rules::judge_link_verification(&state, &target.contact, now)?;
    let code = code.ok_or(Error::NotFound {
        entity: Entity::MagicLink,
    })?;
    rules::judge_magic_link(&code, now, max_wrong_attempts)?;
    Ok((verification, target))
}

/// Creates the session and ends the verification (its code and link stop working).
fn create_session(
    tx: &mut Tx<'_>,
    verification: &TokenHash,
    target: &ContactInPortal,
    session: &NewSession,
) -> Result<ClientContext> {
    if exists(
        tx,
        "SELECT 1 FROM sessions WHERE token_hash = $1",
        &[&&session.token_hash.as_bytes()[..]],
    )? {
        return Err(Error::conflict("a session with this token already exists"));
    }
    tx.execute(
        "INSERT INTO sessions (token_hash, contact_id, created_at, refreshed_at, expires_at,
                               last_seen_at, user_agent)
         VALUES ($1, $2, $3, $3, $4, $3, $5)",
        &[
            &&session.token_hash.as_bytes()[..],
            &&target.contact.id.as_bytes()[..],
            &micros(session.created_at),
            &micros(session.expires_at),
            &session.user_agent,
        ],
    )
    .db("creating a session")?;
    tx.execute(
        "UPDATE verifications
            SET completed_at = $1, code_hash = NULL, magic_hash = NULL, code_expires_at = NULL
          WHERE token_hash = $2",
        &[&micros(session.created_at), &&verification.as_bytes()[..]],
    )
    .db("completing a verification")?;
    Ok(ClientContext::new(target, session.expires_at))
}

fn append_access(tx: &mut Tx<'_>, entry: &AccessLogEntry) -> Result<()> {
    tx.execute(
        "INSERT INTO access_log (portal_id, contact_id, at, event, ip, user_agent, path)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &&entry.portal_id.as_bytes()[..],
            &&entry.contact_id.as_bytes()[..],
            &micros(entry.at),
            &entry.event.as_str(),
            &entry.request.ip.map(|ip| ip.to_string()),
            &entry.request.user_agent,
            &entry.request.path,
        ],
    )
    .db("appending to the access log")?;
    Ok(())
}

/// A session with who it belongs to.
struct SessionRow {
    state: SessionState,
    ctx: ClientContext,
}

/// The session and the few contact and portal fields a request needs (the hot path:
/// no branding is read or parsed here).
fn load_session(tx: &mut Tx<'_>, token: &TokenHash, now: DateTime<Utc>) -> Result<SessionRow> {
    let row = tx
        .query_opt(
            concat!(
                "SELECT s.created_at, s.refreshed_at, s.expires_at, s.revoked_at, s.ended_at,
                        p.tenant_id, p.status, coalesce(s.last_seen_at, s.refreshed_at), ",
                contact_cols!(),
                " FROM sessions s
                   JOIN contacts c ON c.id = s.contact_id
                   JOIN portals p ON p.id = c.portal_id
                  WHERE s.token_hash = $1"
            ),
            &[&&token.as_bytes()[..]],
        )
        .db("reading a session")?
        .ok_or(Error::NotFound {
            entity: Entity::Session,
        })?;
    let expires_at = codec::time(&row, 2)?;
    let contact = codec::contact_at(&row, 8)?;
    Ok(SessionRow {
        state: SessionState {
            created_at: codec::time(&row, 0)?,
            refreshed_at: codec::time(&row, 1)?,
            last_seen_at: codec::time(&row, 7)?,
            expires_at,
            revoked: is_set(&row, 3)?,
            contact_revoked: rules::contact_revoked_at(&contact, now),
            ended: is_set(&row, 4)?,
        },
        ctx: ClientContext::of(
            &contact,
            codec::tenant_id(&row, 5)?,
            codec::parsed(&row, 6, portal_core::model::PortalStatus::parse)?,
            expires_at,
        ),
    })
}

/// Kills every live code and magic link of a contact's unfinished verifications (the
/// magic-link hash is kept, dead: see the module doc).
fn kill_live_codes(tx: &mut Tx<'_>, contact: ContactId) -> Result<()> {
    tx.execute(
        "UPDATE verifications
            SET code_hash = NULL, code_expires_at = NULL
          WHERE contact_id = $1 AND completed_at IS NULL AND code_hash IS NOT NULL",
        &[&&contact.as_bytes()[..]],
    )
    .db("killing live codes")?;
    Ok(())
}

/// Ends every unfinished verification of a contact at `now`: its code dies (the
/// magic-link hash is kept, dead, as for a killed code) and it never works again.
fn end_verifications(tx: &mut Tx<'_>, contact: ContactId, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE verifications
            SET ended_at = COALESCE(ended_at, $1), code_hash = NULL, code_expires_at = NULL
          WHERE contact_id = $2 AND completed_at IS NULL",
        &[&micros(now), &&contact.as_bytes()[..]],
    )
    .db("ending verifications")?;
    Ok(())
}

/// Judges one more verification email to `contact` at `now` by `rules::judge_email`,
/// with the newest `max_emails_per_contact` sends.
fn judge_email(
    tx: &mut Tx<'_>,
    contact: ContactId,
    now: DateTime<Utc>,
    policy: &AccessPolicy,
) -> Result<()> {
    let rows = tx
        .query(
            "SELECT sent_at FROM verification_emails WHERE contact_id = $1
             ORDER BY sent_at DESC LIMIT $2",
            &[
                &&contact.as_bytes()[..],
                &i64::from(policy.max_emails_per_contact),
            ],
        )
        .db("reading recent verification emails")?;
    let sends = rows
        .iter()
        .map(|r| codec::time(r, 0))
        .collect::<Result<Vec<_>>>()?;
    rules::judge_email(&sends, now, policy)
}

/// Counts a verification email carrying `code`.
fn count_email(tx: &mut Tx<'_>, contact: ContactId, code: &NewCode) -> Result<()> {
    tx.execute(
        "INSERT INTO verification_emails (contact_id, sent_at, magic_hash) VALUES ($1, $2, $3)",
        &[
            &&contact.as_bytes()[..],
            &micros(code.issued_at),
            &&code.magic_hash.as_bytes()[..],
        ],
    )
    .db("counting a verification email")?;
    Ok(())
}

/// A contact's wrong-code guard (the default if it has none).
fn load_guard(tx: &mut Tx<'_>, contact: ContactId) -> Result<CodeGuard> {
    let row = tx
        .query_opt(
            "SELECT wrong_codes, window_start, locked_until, lockouts
               FROM code_guards WHERE contact_id = $1",
            &[&&contact.as_bytes()[..]],
        )
        .db("reading a contact's wrong codes")?;
    let Some(r) = row else {
        return Ok(CodeGuard::default());
    };
    Ok(CodeGuard {
        wrong_codes: codec::count(&r, 0)?,
        window_start: codec::opt_time(&r, 1)?,
        locked_until: codec::opt_time(&r, 2)?,
        lockouts: codec::count(&r, 3)?,
    })
}

fn save_guard(tx: &mut Tx<'_>, contact: ContactId, guard: &CodeGuard) -> Result<()> {
    tx.execute(
        "INSERT INTO code_guards (contact_id, wrong_codes, window_start, locked_until, lockouts)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (contact_id) DO UPDATE
            SET wrong_codes = excluded.wrong_codes, window_start = excluded.window_start,
                locked_until = excluded.locked_until, lockouts = excluded.lockouts",
        &[
            &&contact.as_bytes()[..],
            &i64::from(guard.wrong_codes),
            &guard.window_start.map(micros),
            &guard.locked_until.map(micros),
            &i64::from(guard.lockouts),
        ],
    )
    .db("counting a contact's wrong code")?;
    Ok(())
}

#[async_trait]
impl AccessStore for PostgresStore {
    async fn issue_invite(
        &self,
        contact: ContactId,
        token: &TokenHash,
        now: DateTime<Utc>,
        emails: &[OutboxMessage],
        activity: Option<&ActivityEntry>,
    ) -> Result<ContactInPortal> {
        let token = *token;
        let emails = emails.to_vec();
        let entry = crate::workflow::rows::Recorded::new(activity)?;
        self.write_recorded(entry.portal(), move |tx| {
            let mut target = load_target(tx, contact)?;
            entry.insert(tx, target.portal.id)?;
            if exists(
                tx,
                "SELECT 1 FROM invites WHERE token_hash = $1 AND contact_id <> $2",
                &[&&token.as_bytes()[..], &&contact.as_bytes()[..]],
            )? {
                return Err(Error::conflict("an invite with this token already exists"));
            }
            tx.execute(
                "UPDATE contacts SET revoked_at = NULL, awaiting_approval = 0 WHERE id = $1",
                &[&&contact.as_bytes()[..]],
            )
            .db("clearing a revocation")?;
            tx.execute(
                "INSERT INTO invites (contact_id, token_hash, issued_at, revoked_at)
                 VALUES ($1, $2, $3, NULL)
                 ON CONFLICT (contact_id) DO UPDATE
                    SET token_hash = excluded.token_hash,
                        issued_at = excluded.issued_at,
                        revoked_at = NULL",
                &[
                    &&contact.as_bytes()[..],
                    &&token.as_bytes()[..],
                    &micros(now),
                ],
            )
            .db("storing an invite")?;
            end_verifications(tx, contact, now)?;
            crate::outbox::insert(tx, &emails)?;
            target.contact.revoked_at = None;
            target.contact.awaiting_approval = false;
            Ok(target)
        })
        .await
    }

    async fn invite_colleague(&self, invite: &ColleagueInvite) -> Result<ContactInPortal> {
        let c = invite.colleague.clone();
        let token = invite.token;
        let cap = invite.cap;
        let emails = invite.emails.clone();
        let entry = crate::workflow::rows::Recorded::new(Some(&invite.activity))?;
        self.write_content(c.portal_id, move |tx| {
            let key = &c.portal_id.as_bytes()[..];
            let mode: Option<String> = tx
                .query_opt(
                    "SELECT colleague_invitations FROM portals WHERE id = $1",
                    &[&key],
                )
                .db("reading a portal's invitation mode")?
                .map(|row| codec::get(&row, 0))
                .transpose()?;
            let mode = mode.ok_or(Error::NotFound {
                entity: Entity::Portal,
            })?;
            let mode = InvitationMode::parse("colleague_invitations", &mode)?;
            let active: i64 = tx
                .query_one(
                    "SELECT COUNT(*) FROM contacts
                      WHERE portal_id = $1 AND revoked_at IS NULL AND guest IS NULL",
                    &[&key],
                )
                .db("counting a portal's contacts")
                .and_then(|row| codec::get(&row, 0))?;
            team::judge_colleague_invite(
                mode,
                usize::try_from(active).unwrap_or(usize::MAX),
                cap,
                c.awaiting_approval,
                token.is_some(),
            )?;
            if exists(
                tx,
                "SELECT 1 FROM contacts WHERE id = $1",
                &[&&c.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a contact with this id already exists"));
            }
            if exists(
                tx,
                "SELECT 1 FROM contacts WHERE portal_id = $1 AND email = $2",
                &[&key, &c.email.as_str()],
            )? {
                return Err(Error::conflict(
                    "a contact with this email already exists in the portal",
                ));
            }
            entry.insert(tx, c.portal_id)?;
            crate::directory::insert_contact(tx, &c)?;
            if let Some(token) = token {
                tx.execute(
                    "INSERT INTO invites (contact_id, token_hash, issued_at, revoked_at)
                     VALUES ($1, $2, $3, NULL)",
                    &[
                        &&c.id.as_bytes()[..],
                        &&token.as_bytes()[..],
                        &micros(c.created_at),
                    ],
                )
                .db("storing an invite")?;
            }
            crate::outbox::insert(tx, &emails)?;
            load_target(tx, c.id)
        })
        .await
    }

    async fn revoke_invite(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        let entry = crate::workflow::rows::Recorded::new(activity)?;
        self.write_recorded(entry.portal(), move |tx| {
            let target = load_target(tx, contact)?;
            entry.insert(tx, target.portal.id)?;
            tx.execute(
                "UPDATE invites SET revoked_at = COALESCE(revoked_at, $1) WHERE contact_id = $2",
                &[&micros(now), &&contact.as_bytes()[..]],
            )
            .db("revoking an invite")?;
            end_verifications(tx, contact, now)?;
            Ok(())
        })
        .await
    }

    async fn open_invite(&self, token: &TokenHash, now: DateTime<Utc>) -> Result<ContactInPortal> {
        let token = *token;
        self.read(move |tx| load_invite(tx, &token, now)).await
    }

    async fn add_guest(&self, new: &NewGuest) -> Result<ContactInPortal> {
        let new = new.clone();
        let entry = crate::workflow::rows::Recorded::new(Some(&new.activity))?;
        self.write_content(new.guest.portal_id, move |tx| {
            insert_guest(tx, &new, &entry)?;
            load_target(tx, new.guest.id)
        })
        .await
    }

    async fn start_handover(&self, new: &NewHandover) -> Result<Handover> {
        let new = new.clone();
        let entry = crate::workflow::rows::Recorded::new(Some(&new.guest.activity))?;
        self.write_content(new.phase.portal_id, move |tx| {
            let portal = new.phase.portal_id;
            handover::judge_records(&new.phase, &new.tasks, &new.guest.guest)?;
            if !crate::directory::portal_exists(tx, portal)? {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            let phases: Vec<PhaseId> = tx
                .query(
                    "SELECT id FROM phases WHERE portal_id = $1 ORDER BY position",
                    &[&&portal.as_bytes()[..]],
                )
                .db("reading a portal's phases")?
                .iter()
                .map(|row| codec::phase_id(row, 0))
                .collect::<Result<Vec<_>>>()?;
            let contacts = crate::directory::load_contacts(tx, portal)?;
            handover::judge_start(&phases, &contacts)?;
            if exists(
                tx,
                "SELECT 1 FROM phases WHERE id = $1",
                &[&&new.phase.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a phase with this id already exists"));
            }
            let position = u32::try_from(phases.len())
                .map_err(|_| Error::storage_msg("phase position out of range"))?;
            let phase = Phase {
                position,
                ..new.phase.clone()
            };
            tx.execute(
                "INSERT INTO phases (portal_id, position, id, name) VALUES ($1, $2, $3, $4)",
                &[
                    &&portal.as_bytes()[..],
                    &i64::from(phase.position),
                    &&phase.id.as_bytes()[..],
                    &phase.name,
                ],
            )
            .db("storing a phase")?;
            let mut tasks = Vec::with_capacity(new.tasks.len());
            for (n, t) in new.tasks.iter().enumerate() {
                if exists(
                    tx,
                    "SELECT 1 FROM tasks WHERE id = $1",
                    &[&&t.id.as_bytes()[..]],
                )? {
                    return Err(Error::conflict("a task with this id already exists"));
                }
                let task = Task {
                    position: u32::try_from(n)
                        .map_err(|_| Error::storage_msg("task position out of range"))?,
                    ..t.clone()
                };
                crate::directory::insert_task(tx, &task)?;
                tasks.push(task);
            }
            // Any refusal of the guest rolls the phase and its tasks back with it.
            let guest = insert_guest(tx, &new.guest, &entry)?;
            Ok(Handover {
                phase,
                tasks,
                guest,
            })
        })
        .await
    }

    async fn share_task(
        &self,
        contact: ContactId,
        task: TaskId,
        shared: bool,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        let entry = crate::workflow::rows::Recorded::new(Some(activity))?;
        self.write_recorded(entry.portal(), move |tx| {
            let current = load_target(tx, contact)?.contact;
            let Some(guest) = &current.guest else {
                return Err(Error::invalid("contact", "only a guest has tasks shared"));
            };
            if shared {
                let found = crate::directory::load_task(tx, current.portal_id, task)?;
                guests::judge_shareable(&current, &found)?;
            }
            let next = guests::share(guest, task, shared)?;
            entry.insert(tx, current.portal_id)?;
            write_guest(tx, contact, &next)?;
            Ok(Contact {
                guest: Some(next),
                ..current
            })
        })
        .await
    }

    async fn end_guest_access(
        &self,
        contact: ContactId,
        at: DateTime<Utc>,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        let entry = crate::workflow::rows::Recorded::new(Some(activity))?;
        self.write_recorded(entry.portal(), move |tx| {
            let current = load_target(tx, contact)?.contact;
            let next = guests::end_access(&current, at)?;
            entry.insert(tx, current.portal_id)?;
            write_guest(tx, contact, &next)?;
            Ok(Contact {
                guest: Some(next),
                ..current
            })
        })
        .await
    }

    async fn start_verification(
        &self,
        invite: &TokenHash,
        verification: &TokenHash,
        code: &NewCode,
        policy: &AccessPolicy,
    ) -> Result<ContactInPortal> {
        let (invite, verification, code, policy) = (*invite, *verification, code.clone(), *policy);
        self.write(move |tx| {
            let target = load_invite(tx, &invite, code.issued_at)?;
            let contact = target.contact.id;
            judge_email(tx, contact, code.issued_at, &policy)?;
            if exists(
                tx,
                "SELECT 1 FROM verifications WHERE token_hash = $1",
                &[&&verification.as_bytes()[..]],
            )? {
                return Err(Error::conflict(
                    "a verification with this token already exists",
                ));
            }
            kill_live_codes(tx, contact)?;
            tx.execute(
                "INSERT INTO verifications (token_hash, contact_id, started_at, codes_issued,
                    code_hash, magic_hash, code_expires_at, wrong_attempts, expires_at)
                 VALUES ($1, $2, $3, 1, $4, $5, $6, 0, $7)",
                &[
                    &&verification.as_bytes()[..],
                    &&contact.as_bytes()[..],
                    &micros(code.issued_at),
                    &&code.code_hash.as_bytes()[..],
                    &&code.magic_hash.as_bytes()[..],
                    &micros(code.expires_at),
                    &micros(rules::verification_expiry(code.issued_at, &policy)),
                ],
            )
            .db("starting a verification")?;
            count_email(tx, contact, &code)?;
            Ok(target)
        })
        .await
    }

    async fn verification(
        &self,
        verification: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<VerificationView> {
        let verification = *verification;
        self.read(move |tx| {
            let v = load_verification(tx, &verification, now)?;
            Ok(VerificationView {
                target: v.target,
                codes_issued: v.codes_issued,
                code_expires_at: v.code.map(|c| c.expires_at),
            })
        })
        .await
    }

    async fn issue_code(
        &self,
        verification: &TokenHash,
        code: &NewCode,
        policy: &AccessPolicy,
    ) -> Result<(ContactInPortal, u32)> {
        let (verification, code, policy) = (*verification, code.clone(), *policy);
        self.write(move |tx| {
            let v = load_verification(tx, &verification, code.issued_at)?;
            rules::judge_code_request(v.codes_issued, policy.max_codes_per_verification)?;
            let contact = v.target.contact.id;
            judge_email(tx, contact, code.issued_at, &policy)?;
            let issued = v.codes_issued + 1;
            // One live code per contact: the newest, whichever verification it is in.
            kill_live_codes(tx, contact)?;
            tx.execute(
                "UPDATE verifications
                    SET code_hash = $1, magic_hash = $2, code_expires_at = $3,
                        wrong_attempts = 0, codes_issued = $4
                  WHERE token_hash = $5",
                &[
                    &&code.code_hash.as_bytes()[..],
                    &&code.magic_hash.as_bytes()[..],
                    &micros(code.expires_at),
                    &i64::from(issued),
                    &&verification.as_bytes()[..],
                ],
            )
            .db("issuing a code")?;
            count_email(tx, contact, &code)?;
            Ok((v.target, issued))
        })
        .await
    }

    async fn withdraw_code(&self, verification: &TokenHash, magic: &TokenHash) -> Result<()> {
        let (verification, magic) = (*verification, *magic);
        self.write(move |tx| {
            let found = tx
                .query_opt(
                    "SELECT codes_issued, contact_id FROM verifications
                      WHERE token_hash = $1 AND magic_hash = $2 AND completed_at IS NULL
                        AND code_hash IS NOT NULL",
                    &[&&verification.as_bytes()[..], &&magic.as_bytes()[..]],
                )
                .db("reading a verification to withdraw a code")?;
            let Some(row) = found else {
                return Ok(());
            };
            let codes_issued = codec::count(&row, 0)?;
            let contact = codec::contact_id(&row, 1)?;
            // The email never went out: it does not count towards the limit.
            tx.execute(
                "DELETE FROM verification_emails WHERE contact_id = $1 AND magic_hash = $2",
                &[&&contact.as_bytes()[..], &&magic.as_bytes()[..]],
            )
            .db("taking back an undelivered email")?;
            match rules::judge_withdrawal(codes_issued) {
                Withdrawal::DropVerification => tx.execute(
                    "DELETE FROM verifications WHERE token_hash = $1",
                    &[&&verification.as_bytes()[..]],
                ),
                Withdrawal::Uncount { codes_issued } => tx.execute(
                    "UPDATE verifications
                        SET codes_issued = $1, code_hash = NULL, magic_hash = NULL,
                            code_expires_at = NULL
                      WHERE token_hash = $2",
                    &[&i64::from(codes_issued), &&verification.as_bytes()[..]],
                ),
            }
            .db("withdrawing a code")?;
            Ok(())
        })
        .await
    }

    async fn redeem_code(
        &self,
        verification: &TokenHash,
        presented: &CodeHash,
        now: DateTime<Utc>,
        policy: &AccessPolicy,
        session: &NewSession,
    ) -> Result<ClientContext> {
        let (verification, presented, session, policy) =
            (*verification, *presented, session.clone(), *policy);
        // Outer `Err`: roll back; `Ok(Err(..))`: commit (a counted wrong try), then fail.
        self.write(move |tx| {
            let v = load_verification(tx, &verification, now)?;
            let contact = v.target.contact.id;
            let guard = load_guard(tx, contact)?;
            match rules::judge_code(v.code.as_ref(), &guard, &presented, now, &policy) {
                CodeOutcome::Accept => {
                    create_session(tx, &verification, &v.target, &session).map(Ok)
                }
                CodeOutcome::CountWrongTry {
                    wrong_attempts,
                    guard,
                    error,
                } => {
                    save_guard(tx, contact, &guard)?;
                    tx.execute(
                        "UPDATE verifications SET wrong_attempts = $1 WHERE token_hash = $2",
                        &[&i64::from(wrong_attempts), &&verification.as_bytes()[..]],
                    )
                    .db("counting a wrong code")?;
                    Ok(Err(error))
                }
                CodeOutcome::Refuse(error) => Err(error),
            }
        })
        .await?
    }

    async fn magic_link(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
    ) -> Result<ContactInPortal> {
        let magic = *magic;
        self.read(move |tx| {
            load_magic(tx, &magic, now, max_wrong_attempts).map(|(_, target)| target)
        })
        .await
    }

    async fn redeem_magic_link(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
        session: &NewSession,
    ) -> Result<ClientContext> {
        let (magic, session) = (*magic, session.clone());
        self.write(move |tx| {
            let (verification, target) = load_magic(tx, &magic, now, max_wrong_attempts)?;
            create_session(tx, &verification, &target, &session)
        })
        .await
    }

    /// Every request reads the session, its contact and portal as committed now (no
    /// cache: a revocation through any node holds on the next request), judges it by
    /// `rules::judge_session`, and only then notes the request and slides it (when the
    /// rule says one is due: at most once per refresh interval) and logs the access,
    /// all in one unit: a refused request writes nothing.
    async fn authenticate(
        &self,
        session: &TokenHash,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
        request: &RequestInfo,
    ) -> Result<ClientContext> {
        let (token, policy, request) = (*session, *policy, request.clone());
        let written = self
            .write(move |tx| {
                let mut s = load_session(tx, &token, now)?;
                // At most one session write per refresh interval (the rule decides).
                if let Some(note) = rules::judge_session(&s.state, now, &policy)? {
                    tx.execute(
                        "UPDATE sessions
                            SET last_seen_at = $1, user_agent = $2,
                                refreshed_at = coalesce($3, refreshed_at),
                                expires_at = coalesce($4, expires_at)
                          WHERE token_hash = $5",
                        &[
                            &micros(note.seen_at),
                            &rules::session_user_agent(request.user_agent.as_deref()),
                            &note.refresh.map(|r| micros(r.refreshed_at)),
                            &note.refresh.map(|r| micros(r.expires_at)),
                            &&token.as_bytes()[..],
                        ],
                    )
                    .db("noting a session's request")?;
                    if let Some(refresh) = note.refresh {
                        s.ctx.session_expires_at = refresh.expires_at;
                    }
                }
                append_access(
                    tx,
                    &AccessLogEntry {
                        at: now,
                        portal_id: s.ctx.portal_id,
                        contact_id: s.ctx.contact_id,
                        event: AccessEvent::PortalRequest,
                        // Cloned: the unit may run again after a conflict.
                        request: request.clone(),
                    },
                )?;
                Ok(s.ctx)
            })
            .await;
        match written {
            // A full disk must not lock signed-in clients out of what is already
            // stored: judge the session read-only, without sliding it or logging the
            // access (neither can be written now).
            Err(Error::StorageFull { message }) => {
                tracing::warn!(
                    reason = %message,
                    "the disk is full: a request is let in without its access-log entry or session refresh"
                );
                self.read(move |tx| {
                    let s = load_session(tx, &token, now)?;
                    rules::judge_session(&s.state, now, &policy)?;
                    Ok(s.ctx)
                })
                .await
            }
            other => other,
        }
    }

    async fn end_session(&self, session: &TokenHash, now: DateTime<Utc>) -> Result<()> {
        let token = *session;
        self.write(move |tx| {
            tx.execute(
                "UPDATE sessions SET ended_at = COALESCE(ended_at, $1) WHERE token_hash = $2",
                &[&micros(now), &&token.as_bytes()[..]],
            )
            .db("ending a session")?;
            Ok(())
        })
        .await
    }

    async fn contact_sessions(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionSummary>> {
        self.read(move |tx| {
            let rows = tx
                .query(
                    "SELECT s.token_hash, s.created_at, s.refreshed_at, s.expires_at,
                            s.revoked_at, s.ended_at, c.revoked_at,
                            COALESCE(s.last_seen_at, s.created_at), s.user_agent
                       FROM sessions s JOIN contacts c ON c.id = s.contact_id
                      WHERE s.contact_id = $1",
                    &[&&contact.as_bytes()[..]],
                )
                .db("listing a contact's sessions")?;
            let mut out = Vec::new();
            for row in &rows {
                let state = SessionState {
                    created_at: codec::time(row, 1)?,
                    refreshed_at: codec::time(row, 2)?,
                    last_seen_at: codec::time(row, 7)?,
                    expires_at: codec::time(row, 3)?,
                    revoked: is_set(row, 4)?,
                    ended: is_set(row, 5)?,
                    contact_revoked: is_set(row, 6)?,
                };
                if rules::session_live(&state, now) {
                    out.push(SessionSummary {
                        token_hash: TokenHash::from_bytes(codec::bytes_n::<32>(row, 0)?),
                        created_at: state.created_at,
                        last_seen_at: codec::time(row, 7)?,
                        user_agent: codec::get(row, 8)?,
                    });
                }
            }
            out.sort_by_key(|s| std::cmp::Reverse(s.last_seen_at));
            Ok(out)
        })
        .await
    }

    async fn end_other_sessions(
        &self,
        contact: ContactId,
        keep: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let keep = *keep;
        self.write(move |tx| {
            let ended = tx
                .execute(
                    "UPDATE sessions SET ended_at = $1
                      WHERE contact_id = $2 AND token_hash <> $3 AND ended_at IS NULL",
                    &[
                        &micros(now),
                        &&contact.as_bytes()[..],
                        &&keep.as_bytes()[..],
                    ],
                )
                .db("ending a contact's other sessions")?;
            Ok(u32::try_from(ended).unwrap_or(u32::MAX))
        })
        .await
    }

    async fn set_contact_time_zone(
        &self,
        contact: ContactId,
        zone: portal_core::model::TimeZone,
    ) -> Result<portal_core::model::Contact> {
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE contacts SET time_zone = $1 WHERE id = $2",
                    &[&zone.name(), &&contact.as_bytes()[..]],
                )
                .db("changing a contact's time zone")?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: Entity::Contact,
                });
            }
            let row = tx
                .query_one(
                    concat!(
                        "SELECT ",
                        contact_cols!(),
                        " FROM contacts c WHERE c.id = $1"
                    ),
                    &[&&contact.as_bytes()[..]],
                )
                .db("reading a contact")?;
            codec::contact_at(&row, 0)
        })
        .await
    }

    async fn revoke_contact(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        let entry = crate::workflow::rows::Recorded::new(activity)?;
        self.write_recorded(entry.portal(), move |tx| {
            let target = load_target(tx, contact)?;
            entry.insert(tx, target.portal.id)?;
            let id = &contact.as_bytes()[..];
            let at = micros(now);
            tx.execute(
                "UPDATE contacts SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
                &[&at, &id],
            )
            .db("revoking a contact")?;
            tx.execute(
                "UPDATE invites SET revoked_at = COALESCE(revoked_at, $1) WHERE contact_id = $2",
                &[&at, &id],
            )
            .db("revoking a contact's invite")?;
            end_verifications(tx, contact, now)?;
            tx.execute(
                "UPDATE sessions SET revoked_at = COALESCE(revoked_at, $1) WHERE contact_id = $2",
                &[&at, &id],
            )
            .db("revoking a contact's sessions")?;
            Ok(())
        })
        .await
    }

    async fn remove_contact(&self, contact: ContactId, activity: &ActivityEntry) -> Result<()> {
        let row = crate::workflow::rows::ActivityRow::new(activity)?;
        // The entry must be of the contact's portal (checked inside), so that is the
        // portal whose content the write changes.
        let entry_portal = activity.portal_id;
        self.write_content(entry_portal, move |tx| {
            let target = load_target(tx, contact)?;
            if target.portal.id != entry_portal {
                return Err(Error::invalid(
                    "activity",
                    "must belong to the portal of the change it records",
                ));
            }
            let id = &contact.as_bytes()[..];
            for (sql, what) in [
                ("DELETE FROM sessions WHERE contact_id = $1", "sessions"),
                (
                    "DELETE FROM verification_emails WHERE contact_id = $1",
                    "verification emails",
                ),
                (
                    "DELETE FROM code_guards WHERE contact_id = $1",
                    "the code guard",
                ),
                (
                    "DELETE FROM verifications WHERE contact_id = $1",
                    "verifications",
                ),
                ("DELETE FROM invites WHERE contact_id = $1", "the invite"),
                (
                    "DELETE FROM access_log WHERE contact_id = $1",
                    "access-log entries",
                ),
                (
                    "DELETE FROM reminder_contacts WHERE contact_id = $1",
                    "reminder choice",
                ),
                (
                    "DELETE FROM reminder_digests WHERE contact_id = $1",
                    "reminder digests",
                ),
                (
                    "DELETE FROM reminder_steps WHERE contact_id = $1",
                    "reminder steps",
                ),
                (
                    "DELETE FROM reminder_snoozes WHERE contact_id = $1",
                    "reminder snoozes",
                ),
                (
                    "DELETE FROM document_opens WHERE contact_id = $1",
                    "document opens",
                ),
                ("DELETE FROM contacts WHERE id = $1", "the contact"),
            ] {
                // The driver's error stays the source, so a conflict still reruns the unit.
                tx.execute(sql, &[&id])
                    .map_err(|e| Error::storage(format!("removing a contact's {what}"), e))?;
            }
            row.insert(tx)
        })
        .await
    }

    async fn record_access(&self, entry: &AccessLogEntry) -> Result<()> {
        let entry = entry.clone();
        self.write(move |tx| append_access(tx, &entry)).await
    }

    async fn access_log(&self, portal: PortalId, limit: usize) -> Result<Vec<AccessLogEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |tx| {
            let rows = tx
                .query(
                    &format!(
                        "SELECT {ACCESS_COLS} FROM access_log WHERE portal_id = $1
                         ORDER BY at DESC, id DESC LIMIT $2"
                    ),
                    &[&&portal.as_bytes()[..], &limit],
                )
                .db("reading the access log")?;
            rows.iter().map(codec::access_entry).collect()
        })
        .await
    }

    /// Read by key through `access_log_page` (`(portal_id, at, id)`).
    async fn access_log_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<AccessLogEntry>> {
        self.read(move |tx| {
            codec::newest_page(
                tx,
                &ACCESS_PAGE,
                &portal.as_bytes()[..],
                after,
                limit,
                codec::access_entry,
                |e| e.at,
            )
        })
        .await
    }

    /// One unit per call, bounded by `max_rows` (served by `access_log_by_age`), so a
    /// prune never holds its locks for long.
    async fn prune_access_log(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        if max_rows == 0 {
            return Ok(0);
        }
        let limit = i64::try_from(max_rows).unwrap_or(i64::MAX);
        // Times are stored in whole microseconds: a cutoff between two of them keeps
        // what is at or after it, so it rounds up.
        let cut = micros(before).saturating_add(i64::from(
            !before.timestamp_subsec_nanos().is_multiple_of(1000),
        ));
        self.write(move |tx| {
            let removed = tx
                .execute(
                    "DELETE FROM access_log WHERE id IN (
                         SELECT id FROM access_log WHERE at < $1 ORDER BY at, id LIMIT $2)",
                    &[&cut, &limit],
                )
                .db("pruning the access log")?;
            Ok(removed)
        })
        .await
    }
}

// ----- shared with the other modules (signatures fixed) -----------------------------

/// A contact with its portal. `NotFound` if the contact is missing.
pub(crate) fn load_target(tx: &mut Tx<'_>, contact: ContactId) -> Result<ContactInPortal> {
    let row = tx
        .query_opt(
            concat!(
                "SELECT ",
                contact_cols!(),
                ", ",
                portal_cols!(),
                " FROM contacts c JOIN portals p ON p.id = c.portal_id WHERE c.id = $1"
            ),
            &[&&contact.as_bytes()[..]],
        )
        .db("reading a contact")?
        .ok_or(Error::NotFound {
            entity: Entity::Contact,
        })?;
    target_at(&row, 0)
}

/// Writes a guest's record over the stored one (the caller judged it in the unit).
pub(crate) fn write_guest(tx: &mut Tx<'_>, contact: ContactId, guest: &Guest) -> Result<()> {
    let text = codec::guest_json(Some(guest))?;
    tx.execute(
        "UPDATE contacts SET guest = $1 WHERE id = $2",
        &[&text, &&contact.as_bytes()[..]],
    )
    .db("storing a guest")?;
    Ok(())
}

/// A contact with its portal from `contact_cols!(), portal_cols!()` starting at `base`.
fn target_at(row: &Row, base: usize) -> Result<ContactInPortal> {
    Ok(ContactInPortal {
        contact: codec::contact_at(row, base)?,
        portal: codec::portal_at(row, base + CONTACT_WIDTH)?,
    })
}
