//! [`AccessStore`] for [`SqliteStore`]: invites, verifications, sessions and the
//! access log.
//!
//! Only hashes are stored. A verification row holds at most one live code: its code
//! hash, magic-link hash and expiry are set together (a new code replaces all three)
//! and cleared together when the verification is redeemed or the code withdrawn. A
//! code killed by a newer code of the contact or a revocation loses its code hash and
//! expiry but keeps its magic-link hash, so that link still finds its verification
//! and a revoked contact's link answers `Revoked(Contact)` rather than `NotFound`. Every decision about
//! a code, a magic link or a session is taken by `portal_core::access::rules` inside
//! the write transaction that applies it (this module only loads and writes); the
//! single writer serialises them, so two concurrent redemptions of one code create
//! exactly one session and concurrent wrong codes each count.
//!
//! A verification row also keeps its expiry (fixed at its start) and when it was ended
//! (its invite re-issued or revoked, its contact revoked). `verification_emails` holds
//! one row per verification email sent (deleted when the code is withdrawn), counted
//! for the per-contact email limit; `code_guards` holds each contact's wrong-code count
//! and lockout (`rules::CodeGuard`).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

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

use crate::SqliteStore;
use crate::access_queue::Pushed;

/// Pages of a portal's access log, by `(at, id)` (see [`codec::PageQuery`]).
const ACCESS_PAGE: codec::PageQuery = codec::PageQuery {
    first: ACCESS_PAGE_FIRST,
    after: ACCESS_PAGE_AFTER,
    width: 7,
};
/// The newest page of a portal's access log (see [`codec::newest_page`]).
pub(crate) const ACCESS_PAGE_FIRST: &str =
    "SELECT at, portal_id, contact_id, event, ip, user_agent, path, id
     FROM access_log WHERE portal_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2";
/// A page of a portal's access log after a key (see [`codec::newest_page`]).
pub(crate) const ACCESS_PAGE_AFTER: &str =
    "SELECT at, portal_id, contact_id, event, ip, user_agent, path, id
     FROM access_log WHERE portal_id = ?1 AND (at, id) < (?2, ?3)
     ORDER BY at DESC, id DESC LIMIT ?4";
use crate::codec::{self, ACCESS_COLS, CONTACT_WIDTH, DbResult, contact_cols, micros, portal_cols};
use crate::directory::exists;

/// A contact with its portal from `contact_cols!(), portal_cols!()` starting at `base`.
fn target_at(row: &Row<'_>, base: usize) -> rusqlite::Result<ContactInPortal> {
    Ok(ContactInPortal {
        contact: codec::contact_at(row, base)?,
        portal: codec::portal_at(row, base + CONTACT_WIDTH)?,
    })
}

/// The live code from `code_hash, code_expires_at, wrong_attempts` starting at `base`.
fn code_at(row: &Row<'_>, base: usize) -> rusqlite::Result<Option<CodeState>> {
    let hash: Option<[u8; 32]> = row.get(base)?;
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

/// A contact with its portal. `NotFound` if the contact is missing.
pub(crate) fn load_target(conn: &Connection, contact: ContactId) -> Result<ContactInPortal> {
    let mut stmt = conn
        .prepare_cached(concat!(
            "SELECT ",
            contact_cols!(),
            ", ",
            portal_cols!(),
            " FROM contacts c JOIN portals p ON p.id = c.portal_id WHERE c.id = ?1"
        ))
        .db("reading a contact")?;
    stmt.query_row([&contact.as_bytes()[..]], |row| target_at(row, 0))
        .optional()
        .db("reading a contact")?
        .ok_or(Error::NotFound {
            entity: Entity::Contact,
        })
}

/// Who a live invite is for: `NotFound` if unknown (or replaced), `Revoked` if the
/// contact or the invite was revoked.
fn load_invite(
    conn: &Connection,
    token: &TokenHash,
    now: DateTime<Utc>,
) -> Result<ContactInPortal> {
    let mut stmt = conn
        .prepare_cached(concat!(
            "SELECT i.revoked_at, ",
            contact_cols!(),
            ", ",
            portal_cols!(),
            " FROM invites i
               JOIN contacts c ON c.id = i.contact_id
               JOIN portals p ON p.id = c.portal_id
             WHERE i.token_hash = ?1"
        ))
        .db("reading an invite")?;
    let (invite_revoked, target) = stmt
        .query_row([&token.as_bytes()[..]], |row| {
            Ok((row.get::<_, Option<i64>>(0)?.is_some(), target_at(row, 1)?))
        })
        .optional()
        .db("reading an invite")?
        .ok_or(Error::NotFound {
            entity: Entity::Invite,
        })?;
    rules::judge_invite(invite_revoked, &target.contact, now)?;
    Ok(target)
}

/// Writes a guest's record over the stored one (the caller judged it in the unit).
pub(crate) fn write_guest(conn: &Connection, contact: ContactId, guest: &Guest) -> Result<()> {
    let text = codec::guest_json(Some(guest))?;
    conn.prepare_cached("UPDATE contacts SET guest = ?1 WHERE id = ?2")
        .and_then(|mut s| s.execute(params![text, &contact.as_bytes()[..]]))
        .db("storing a guest")?;
    Ok(())
}

/// Judges and writes a new guest as [`AccessStore::add_guest`]'s contract says
/// (their shared tasks loaded in the same transaction, so a handover's new tasks are
/// found too); answers the contact as stored.
fn insert_guest(
    conn: &Connection,
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
    if !exists(conn, "SELECT 1 FROM portals WHERE id = ?1", [key])? {
        return Err(Error::NotFound {
            entity: Entity::Portal,
        });
    }
    if exists(
        conn,
        "SELECT 1 FROM contacts WHERE id = ?1",
        [&c.id.as_bytes()[..]],
    )? {
        return Err(Error::conflict("a contact with this id already exists"));
    }
    if exists(
        conn,
        "SELECT 1 FROM contacts WHERE portal_id = ?1 AND email = ?2",
        params![key, c.email.as_str()],
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
        let found = crate::directory::load_task(conn, c.portal_id, *task)?;
        guests::judge_shareable(c, &found)?;
        shared = guests::share(&shared, *task, true)?;
    }
    entry.insert(conn, c.portal_id)?;
    let stored = Contact {
        guest: Some(shared),
        ..c.clone()
    };
    crate::directory::insert_contact(conn, &stored)?;
    conn.prepare_cached(
        "INSERT INTO invites (contact_id, token_hash, issued_at, revoked_at)
         VALUES (?1, ?2, ?3, NULL)",
    )
    .and_then(|mut s| {
        s.execute(params![
            &c.id.as_bytes()[..],
            &new.token.as_bytes()[..],
            micros(c.created_at)
        ])
    })
    .db("storing an invite")?;
    crate::outbox::insert(conn, &new.emails)?;
    Ok(stored)
}

/// A verification still in progress.
struct Verification {
    codes_issued: u32,
    code: Option<CodeState>,
    target: ContactInPortal,
}

/// The verification state from `expires_at, ended_at` starting at `base`.
fn verification_at(row: &Row<'_>, base: usize) -> rusqlite::Result<VerificationState> {
    Ok(VerificationState {
        expires_at: codec::time(row, base)?,
        ended: row.get::<_, Option<i64>>(base + 1)?.is_some(),
    })
}

/// A verification that is not completed (`NotFound` otherwise), judged at `now` by
/// `rules::judge_verification` with its contact.
fn load_verification(
    conn: &Connection,
    token: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Verification> {
    let mut stmt = conn
        .prepare_cached(concat!(
            "SELECT v.codes_issued, v.code_hash, v.code_expires_at, v.wrong_attempts,
                    v.expires_at, v.ended_at, ",
            contact_cols!(),
            ", ",
            portal_cols!(),
            " FROM verifications v
               JOIN contacts c ON c.id = v.contact_id
               JOIN portals p ON p.id = c.portal_id
             WHERE v.token_hash = ?1 AND v.completed_at IS NULL"
        ))
        .db("reading a verification")?;
    let (v, state) = stmt
        .query_row([&token.as_bytes()[..]], |row| {
            Ok((
                Verification {
                    codes_issued: codec::count(row, 0)?,
                    code: code_at(row, 1)?,
                    target: target_at(row, 6)?,
                },
                verification_at(row, 4)?,
            ))
        })
        .optional()
        .db("reading a verification")?
        .ok_or(Error::NotFound {
            entity: Entity::Verification,
        })?;
    rules::judge_verification(&state, &v.target.contact, now)?;
    Ok(v)
}

/// The verification a live magic link belongs to, with its code, if the link is
/// still good at `now`.
fn load_magic(
    conn: &Connection,
    magic: &TokenHash,
    now: DateTime<Utc>,
    max_wrong_attempts: u32,
) -> Result<(TokenHash, ContactInPortal)> {
    let mut stmt = conn
        .prepare_cached(concat!(
            "SELECT v.token_hash, v.code_hash, v.code_expires_at, v.wrong_attempts,
                    v.expires_at, v.ended_at, ",
            contact_cols!(),
            ", ",
            portal_cols!(),
            " FROM verifications v
               JOIN contacts c ON c.id = v.contact_id
               JOIN portals p ON p.id = c.portal_id
             WHERE v.magic_hash = ?1 AND v.completed_at IS NULL"
        ))
        .db("reading a magic link")?;
    let (verification, code, state, target) = stmt
        .query_row([&magic.as_bytes()[..]], |row| {
            Ok((
                TokenHash::from_bytes(row.get(0)?),
                code_at(row, 1)?,
                verification_at(row, 4)?,
                target_at(row, 6)?,
            ))
        })
        .optional()
        .db("reading a magic link")?
        .ok_or(Error::NotFound {
            entity: Entity::MagicLink,
        })?;
    rules::judge_link_verification(&state, &target.contact, now)?;
    let code = code.ok_or(Error::NotFound {
        entity: Entity::MagicLink,
    })?;
    rules::judge_magic_link(&code, now, max_wrong_attempts)?;
    Ok((verification, target))
}

/// Creates the session and ends the verification (its code and link stop working).
fn create_session(
    conn: &Connection,
    verification: &TokenHash,
    target: &ContactInPortal,
    session: &NewSession,
) -> Result<ClientContext> {
    if exists(
        conn,
        "SELECT 1 FROM sessions WHERE token_hash = ?1",
        [&session.token_hash.as_bytes()[..]],
    )? {
        return Err(Error::conflict("a session with this token already exists"));
    }
    conn.prepare_cached(
        "INSERT INTO sessions (token_hash, contact_id, created_at, refreshed_at, expires_at,
                               last_seen_at, user_agent)
         VALUES (?1, ?2, ?3, ?3, ?4, ?3, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            &session.token_hash.as_bytes()[..],
            &target.contact.id.as_bytes()[..],
            micros(session.created_at),
            micros(session.expires_at),
            session.user_agent
        ])
    })
    .db("creating a session")?;
    conn.prepare_cached(
        "UPDATE verifications
            SET completed_at = ?1, code_hash = NULL, magic_hash = NULL, code_expires_at = NULL
          WHERE token_hash = ?2",
    )
    .and_then(|mut s| {
        s.execute(params![
            micros(session.created_at),
            &verification.as_bytes()[..]
        ])
    })
    .db("completing a verification")?;
    Ok(ClientContext::new(target, session.expires_at))
}

fn append_access(conn: &Connection, entry: &AccessLogEntry) -> Result<()> {
    insert_access(
        conn,
        "INSERT INTO access_log (portal_id, contact_id, at, event, ip, user_agent, path)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        entry,
    )
}

/// Runs `sql`, an insert into the access log, with `entry`'s seven values.
fn insert_access(conn: &Connection, sql: &str, entry: &AccessLogEntry) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| {
            s.execute(params![
                &entry.portal_id.as_bytes()[..],
                &entry.contact_id.as_bytes()[..],
                micros(entry.at),
                entry.event.as_str(),
                entry.request.ip.map(|ip| ip.to_string()),
                entry.request.user_agent,
                entry.request.path
            ])
        })
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
fn load_session(conn: &Connection, token: &TokenHash, now: DateTime<Utc>) -> Result<SessionRow> {
    Ok(load_session_record(conn, token)?.at(now))
}

/// What a session check reads, as stored: the session, its contact and its portal.
/// Kept by the read cache while nothing they come from changes; judged at each
/// request's own time ([`Self::at`]).
#[derive(Clone)]
pub(crate) struct SessionRecord {
    created_at: DateTime<Utc>,
    refreshed_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked: bool,
    ended: bool,
    tenant_id: portal_core::TenantId,
    status: portal_core::model::PortalStatus,
    pub(crate) contact: Contact,
}

impl SessionRecord {
    /// The session as it stands at `now` (a contact's revocation may be dated).
    fn at(&self, now: DateTime<Utc>) -> SessionRow {
        SessionRow {
            state: SessionState {
                created_at: self.created_at,
                refreshed_at: self.refreshed_at,
                last_seen_at: self.last_seen_at,
                expires_at: self.expires_at,
                revoked: self.revoked,
                contact_revoked: rules::contact_revoked_at(&self.contact, now),
                ended: self.ended,
            },
            ctx: ClientContext::of(&self.contact, self.tenant_id, self.status, self.expires_at),
        }
    }
}

fn load_session_record(conn: &Connection, token: &TokenHash) -> Result<SessionRecord> {
    let mut stmt = conn
        .prepare_cached(concat!(
            "SELECT s.created_at, s.refreshed_at, s.expires_at, s.revoked_at, s.ended_at,
                    p.tenant_id, p.status, coalesce(s.last_seen_at, s.refreshed_at), ",
            contact_cols!(),
            " FROM sessions s
               JOIN contacts c ON c.id = s.contact_id
               JOIN portals p ON p.id = c.portal_id
              WHERE s.token_hash = ?1"
        ))
        .db("reading a session")?;
    stmt.query_row([&token.as_bytes()[..]], |row| {
        Ok(SessionRecord {
            created_at: codec::time(row, 0)?,
            refreshed_at: codec::time(row, 1)?,
            last_seen_at: codec::time(row, 7)?,
            expires_at: codec::time(row, 2)?,
            revoked: row.get::<_, Option<i64>>(3)?.is_some(),
            ended: row.get::<_, Option<i64>>(4)?.is_some(),
            tenant_id: codec::tenant_id(row, 5)?,
            status: codec::parsed(row, 6, portal_core::model::PortalStatus::parse)?,
            contact: codec::contact_at(row, 8)?,
        })
    })
    .optional()
    .db("reading a session")?
    .ok_or(Error::NotFound {
        entity: Entity::Session,
    })
}

/// Kills every live code and magic link of a contact's unfinished verifications (the
/// magic-link hash is kept, dead: see the module doc).
fn kill_live_codes(conn: &Connection, contact: ContactId) -> Result<()> {
    conn.prepare_cached(
        "UPDATE verifications
            SET code_hash = NULL, code_expires_at = NULL
          WHERE contact_id = ?1 AND completed_at IS NULL AND code_hash IS NOT NULL",
    )
    .and_then(|mut s| s.execute([&contact.as_bytes()[..]]))
    .db("killing live codes")?;
    Ok(())
}

/// Ends every unfinished verification of a contact at `now`: its code dies (the
/// magic-link hash is kept, dead, as for a killed code) and it never works again.
fn end_verifications(conn: &Connection, contact: ContactId, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE verifications
            SET ended_at = COALESCE(ended_at, ?1), code_hash = NULL, code_expires_at = NULL
          WHERE contact_id = ?2 AND completed_at IS NULL",
    )
    .and_then(|mut s| s.execute(params![micros(now), &contact.as_bytes()[..]]))
    .db("ending verifications")?;
    Ok(())
}

/// Judges one more verification email to `contact` at `now` by `rules::judge_email`,
/// with the newest `max_emails_per_contact` sends.
fn judge_email(
    conn: &Connection,
    contact: ContactId,
    now: DateTime<Utc>,
    policy: &AccessPolicy,
) -> Result<()> {
    let sends = conn
        .prepare_cached(
            "SELECT sent_at FROM verification_emails WHERE contact_id = ?1
             ORDER BY sent_at DESC LIMIT ?2",
        )
        .and_then(|mut s| {
            s.query_map(
                params![&contact.as_bytes()[..], policy.max_emails_per_contact],
                |r| codec::time(r, 0),
            )
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        })
        .db("reading recent verification emails")?;
    rules::judge_email(&sends, now, policy)
}

/// Counts a verification email carrying `code`.
fn count_email(conn: &Connection, contact: ContactId, code: &NewCode) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO verification_emails (contact_id, sent_at, magic_hash) VALUES (?1, ?2, ?3)",
    )
    .and_then(|mut s| {
        s.execute(params![
            &contact.as_bytes()[..],
            micros(code.issued_at),
            &code.magic_hash.as_bytes()[..]
        ])
    })
    .db("counting a verification email")?;
    Ok(())
}

/// A contact's wrong-code guard (the default if it has none).
fn load_guard(conn: &Connection, contact: ContactId) -> Result<CodeGuard> {
    conn.prepare_cached(
        "SELECT wrong_codes, window_start, locked_until, lockouts
           FROM code_guards WHERE contact_id = ?1",
    )
    .and_then(|mut s| {
        s.query_row([&contact.as_bytes()[..]], |r| {
            Ok(CodeGuard {
                wrong_codes: codec::count(r, 0)?,
                window_start: codec::opt_time(r, 1)?,
                locked_until: codec::opt_time(r, 2)?,
                lockouts: codec::count(r, 3)?,
            })
        })
        .optional()
    })
    .db("reading a contact's wrong codes")
    .map(Option::unwrap_or_default)
}

fn save_guard(conn: &Connection, contact: ContactId, guard: &CodeGuard) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO code_guards (contact_id, wrong_codes, window_start, locked_until, lockouts)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (contact_id) DO UPDATE
            SET wrong_codes = excluded.wrong_codes, window_start = excluded.window_start,
                locked_until = excluded.locked_until, lockouts = excluded.lockouts",
    )
    .and_then(|mut s| {
        s.execute(params![
            &contact.as_bytes()[..],
            guard.wrong_codes,
            guard.window_start.map(micros),
            guard.locked_until.map(micros),
            guard.lockouts
        ])
    })
    .db("counting a contact's wrong code")?;
    Ok(())
}

impl SqliteStore {
    /// The session `token` as stored, from the read cache while nothing a session
    /// check reads has changed since it was read (see `cache`), else from the database.
    async fn session_record(&self, token: &TokenHash) -> Result<Arc<SessionRecord>> {
        let generation = self.cache.session_generation(token);
        if let Some(hit) = self.cache.session(token, generation) {
            return Ok(hit);
        }
        let key = *token;
        let record = Arc::new(
            self.read(move |conn| load_session_record(conn, &key))
                .await?,
        );
        self.cache
            .put_session(token, generation, Arc::clone(&record));
        Ok(record)
    }

    /// Queues a request's access entry for the writer (see `access_queue`); waits
    /// only when the queue is full.
    pub(crate) async fn queue_access(&self, entry: AccessLogEntry) {
        let pushed = self.access_queue.push(entry);
        if pushed == Pushed::First {
            let queue = Arc::clone(&self.access_queue);
            self.writer
                .submit("appending queued access-log entries", move |conn| {
                    for entry in queue.take() {
                        append_queued_access(conn, &entry)?;
                    }
                    Ok(())
                });
        }
        if pushed == Pushed::Full
            && let Err(e) = self.flush_access_log().await
        {
            tracing::error!(error = %e, "waiting for queued access-log entries failed");
        }
    }

    /// Waits until every access entry queued before the call is committed (the
    /// writer runs jobs in order): reads of the access log call it first.
    pub(crate) async fn flush_access_log(&self) -> Result<()> {
        self.write(|_| Ok(())).await
    }
}

/// Appends a queued entry, unless its contact was removed meanwhile (their entries
/// went with them: see `remove_contact`), so one removal cannot fail a whole batch.
fn append_queued_access(conn: &Connection, entry: &AccessLogEntry) -> Result<()> {
    insert_access(
        conn,
        "INSERT INTO access_log (portal_id, contact_id, at, event, ip, user_agent, path)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
          WHERE EXISTS (SELECT 1 FROM contacts WHERE id = ?2 AND portal_id = ?1)",
        entry,
    )
}

#[async_trait]
impl AccessStore for SqliteStore {
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
        self.write_recorded(entry.portal(), move |conn| {
            let mut target = load_target(conn, contact)?;
            entry.insert(conn, target.portal.id)?;
            if exists(
                conn,
                "SELECT 1 FROM invites WHERE token_hash = ?1 AND contact_id <> ?2",
                params![&token.as_bytes()[..], &contact.as_bytes()[..]],
            )? {
                return Err(Error::conflict("an invite with this token already exists"));
            }
            conn.prepare_cached(
                "UPDATE contacts SET revoked_at = NULL, awaiting_approval = 0 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute([&contact.as_bytes()[..]]))
            .db("clearing a revocation")?;
            conn.prepare_cached(
                "INSERT INTO invites (contact_id, token_hash, issued_at, revoked_at)
                 VALUES (?1, ?2, ?3, NULL)
                 ON CONFLICT (contact_id) DO UPDATE
                    SET token_hash = excluded.token_hash,
                        issued_at = excluded.issued_at,
                        revoked_at = NULL",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &contact.as_bytes()[..],
                    &token.as_bytes()[..],
                    micros(now)
                ])
            })
            .db("storing an invite")?;
            end_verifications(conn, contact, now)?;
            crate::outbox::insert(conn, &emails)?;
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
        self.write_content(c.portal_id, move |conn| {
            let key = &c.portal_id.as_bytes()[..];
            let mode: Option<String> = conn
                .prepare_cached("SELECT colleague_invitations FROM portals WHERE id = ?1")
                .and_then(|mut s| s.query_row([key], |row| row.get(0)).optional())
                .db("reading a portal's invitation mode")?;
            let mode = mode.ok_or(Error::NotFound {
                entity: Entity::Portal,
            })?;
            let mode = InvitationMode::parse("colleague_invitations", &mode)?;
            let active: i64 = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM contacts
                      WHERE portal_id = ?1 AND revoked_at IS NULL AND guest IS NULL",
                )
                .and_then(|mut s| s.query_row([key], |row| row.get(0)))
                .db("counting a portal's contacts")?;
            team::judge_colleague_invite(
                mode,
                usize::try_from(active).unwrap_or(usize::MAX),
                cap,
                c.awaiting_approval,
                token.is_some(),
            )?;
            if exists(
                conn,
                "SELECT 1 FROM contacts WHERE id = ?1",
                [&c.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a contact with this id already exists"));
            }
            if exists(
                conn,
                "SELECT 1 FROM contacts WHERE portal_id = ?1 AND email = ?2",
                params![key, c.email.as_str()],
            )? {
                return Err(Error::conflict(
                    "a contact with this email already exists in the portal",
                ));
            }
            entry.insert(conn, c.portal_id)?;
            crate::directory::insert_contact(conn, &c)?;
            if let Some(token) = token {
                conn.prepare_cached(
                    "INSERT INTO invites (contact_id, token_hash, issued_at, revoked_at)
                     VALUES (?1, ?2, ?3, NULL)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        &c.id.as_bytes()[..],
                        &token.as_bytes()[..],
                        micros(c.created_at)
                    ])
                })
                .db("storing an invite")?;
            }
            crate::outbox::insert(conn, &emails)?;
            load_target(conn, c.id)
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
        self.write_recorded(entry.portal(), move |conn| {
            let target = load_target(conn, contact)?;
            entry.insert(conn, target.portal.id)?;
            conn.prepare_cached(
                "UPDATE invites SET revoked_at = COALESCE(revoked_at, ?1) WHERE contact_id = ?2",
            )
            .and_then(|mut s| s.execute(params![micros(now), &contact.as_bytes()[..]]))
            .db("revoking an invite")?;
            end_verifications(conn, contact, now)?;
            Ok(())
        })
        .await
    }

    async fn open_invite(&self, token: &TokenHash, now: DateTime<Utc>) -> Result<ContactInPortal> {
        let token = *token;
        self.read(move |conn| load_invite(conn, &token, now)).await
    }

    async fn add_guest(&self, new: &NewGuest) -> Result<ContactInPortal> {
        let new = new.clone();
        let entry = crate::workflow::rows::Recorded::new(Some(&new.activity))?;
        self.write_content(new.guest.portal_id, move |conn| {
            insert_guest(conn, &new, &entry)?;
            load_target(conn, new.guest.id)
        })
        .await
    }

    async fn start_handover(&self, new: &NewHandover) -> Result<Handover> {
        let new = new.clone();
        let entry = crate::workflow::rows::Recorded::new(Some(&new.guest.activity))?;
        self.write_content(new.phase.portal_id, move |conn| {
            let portal = new.phase.portal_id;
            handover::judge_records(&new.phase, &new.tasks, &new.guest.guest)?;
            if !crate::directory::portal_exists(conn, portal)? {
                return Err(Error::NotFound {
                    entity: Entity::Portal,
                });
            }
            let phases: Vec<PhaseId> = conn
                .prepare_cached("SELECT id FROM phases WHERE portal_id = ?1 ORDER BY position")
                .and_then(|mut s| {
                    s.query_map([&portal.as_bytes()[..]], |row| codec::phase_id(row, 0))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .db("reading a portal's phases")?;
            let contacts = crate::directory::load_contacts(conn, portal)?;
            handover::judge_start(&phases, &contacts)?;
            if exists(
                conn,
                "SELECT 1 FROM phases WHERE id = ?1",
                [&new.phase.id.as_bytes()[..]],
            )? {
                return Err(Error::conflict("a phase with this id already exists"));
            }
            let position = u32::try_from(phases.len())
                .map_err(|_| Error::storage_msg("phase position out of range"))?;
            let phase = Phase {
                position,
                ..new.phase.clone()
            };
            conn.prepare_cached(
                "INSERT INTO phases (portal_id, position, id, name) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &portal.as_bytes()[..],
                    phase.position,
                    &phase.id.as_bytes()[..],
                    phase.name
                ])
            })
            .db("storing a phase")?;
            let mut tasks = Vec::with_capacity(new.tasks.len());
            for (n, t) in new.tasks.iter().enumerate() {
                if exists(
                    conn,
                    "SELECT 1 FROM tasks WHERE id = ?1",
                    [&t.id.as_bytes()[..]],
                )? {
                    return Err(Error::conflict("a task with this id already exists"));
                }
                let task = Task {
                    position: u32::try_from(n)
                        .map_err(|_| Error::storage_msg("task position out of range"))?,
                    ..t.clone()
                };
                crate::directory::insert_task(conn, &task)?;
                tasks.push(task);
            }
            // Any refusal of the guest rolls the phase and its tasks back with it.
            let guest = insert_guest(conn, &new.guest, &entry)?;
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
        self.write_recorded(entry.portal(), move |conn| {
            let current = load_target(conn, contact)?.contact;
            let Some(guest) = &current.guest else {
                return Err(Error::invalid("contact", "only a guest has tasks shared"));
            };
            if shared {
                let found = crate::directory::load_task(conn, current.portal_id, task)?;
                guests::judge_shareable(&current, &found)?;
            }
            let next = guests::share(guest, task, shared)?;
            entry.insert(conn, current.portal_id)?;
            write_guest(conn, contact, &next)?;
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
        self.write_recorded(entry.portal(), move |conn| {
            let current = load_target(conn, contact)?.contact;
            let next = guests::end_access(&current, at)?;
            entry.insert(conn, current.portal_id)?;
            write_guest(conn, contact, &next)?;
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
        self.write(move |conn| {
            let target = load_invite(conn, &invite, code.issued_at)?;
            let contact = target.contact.id;
            judge_email(conn, contact, code.issued_at, &policy)?;
            if exists(
                conn,
                "SELECT 1 FROM verifications WHERE token_hash = ?1",
                [&verification.as_bytes()[..]],
            )? {
                return Err(Error::conflict(
                    "a verification with this token already exists",
                ));
            }
            kill_live_codes(conn, contact)?;
            conn.prepare_cached(
                "INSERT INTO verifications (token_hash, contact_id, started_at, codes_issued,
                    code_hash, magic_hash, code_expires_at, wrong_attempts, expires_at)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, 0, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &verification.as_bytes()[..],
                    &contact.as_bytes()[..],
                    micros(code.issued_at),
                    &code.code_hash.as_bytes()[..],
                    &code.magic_hash.as_bytes()[..],
                    micros(code.expires_at),
                    micros(rules::verification_expiry(code.issued_at, &policy))
                ])
            })
            .db("starting a verification")?;
            count_email(conn, contact, &code)?;
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
        self.read(move |conn| {
            let v = load_verification(conn, &verification, now)?;
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
        self.write(move |conn| {
            let v = load_verification(conn, &verification, code.issued_at)?;
            rules::judge_code_request(v.codes_issued, policy.max_codes_per_verification)?;
            let contact = v.target.contact.id;
            judge_email(conn, contact, code.issued_at, &policy)?;
            let issued = v.codes_issued + 1;
            // One live code per contact: the newest, whichever verification it is in.
            kill_live_codes(conn, contact)?;
            conn.prepare_cached(
                "UPDATE verifications
                    SET code_hash = ?1, magic_hash = ?2, code_expires_at = ?3,
                        wrong_attempts = 0, codes_issued = ?4
                  WHERE token_hash = ?5",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &code.code_hash.as_bytes()[..],
                    &code.magic_hash.as_bytes()[..],
                    micros(code.expires_at),
                    issued,
                    &verification.as_bytes()[..]
                ])
            })
            .db("issuing a code")?;
            count_email(conn, contact, &code)?;
            Ok((v.target, issued))
        })
        .await
    }

    async fn withdraw_code(&self, verification: &TokenHash, magic: &TokenHash) -> Result<()> {
        let (verification, magic) = (*verification, *magic);
        self.write(move |conn| {
            let found: Option<(u32, ContactId)> = conn
                .prepare_cached(
                    "SELECT codes_issued, contact_id FROM verifications
                      WHERE token_hash = ?1 AND magic_hash = ?2 AND completed_at IS NULL
                        AND code_hash IS NOT NULL",
                )
                .and_then(|mut s| {
                    s.query_row(
                        params![&verification.as_bytes()[..], &magic.as_bytes()[..]],
                        |r| Ok((codec::count(r, 0)?, codec::contact_id(r, 1)?)),
                    )
                    .optional()
                })
                .db("reading a verification to withdraw a code")?;
            let Some((codes_issued, contact)) = found else {
                return Ok(());
            };
            // The email never went out: it does not count towards the limit.
            conn.prepare_cached(
                "DELETE FROM verification_emails WHERE contact_id = ?1 AND magic_hash = ?2",
            )
            .and_then(|mut s| s.execute(params![&contact.as_bytes()[..], &magic.as_bytes()[..]]))
            .db("taking back an undelivered email")?;
            match rules::judge_withdrawal(codes_issued) {
                Withdrawal::DropVerification => conn
                    .prepare_cached("DELETE FROM verifications WHERE token_hash = ?1")
                    .and_then(|mut s| s.execute([&verification.as_bytes()[..]])),
                Withdrawal::Uncount { codes_issued } => conn
                    .prepare_cached(
                        "UPDATE verifications
                            SET codes_issued = ?1, code_hash = NULL, magic_hash = NULL,
                                code_expires_at = NULL
                          WHERE token_hash = ?2",
                    )
                    .and_then(|mut s| {
                        s.execute(params![codes_issued, &verification.as_bytes()[..]])
                    }),
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
        self.write(move |conn| {
            let v = load_verification(conn, &verification, now)?;
            let contact = v.target.contact.id;
            let guard = load_guard(conn, contact)?;
            match rules::judge_code(v.code.as_ref(), &guard, &presented, now, &policy) {
                CodeOutcome::Accept => {
                    create_session(conn, &verification, &v.target, &session).map(Ok)
                }
                CodeOutcome::CountWrongTry {
                    wrong_attempts,
                    guard,
                    error,
                } => {
                    save_guard(conn, contact, &guard)?;
                    conn.prepare_cached(
                        "UPDATE verifications SET wrong_attempts = ?1 WHERE token_hash = ?2",
                    )
                    .and_then(|mut s| {
                        s.execute(params![wrong_attempts, &verification.as_bytes()[..]])
                    })
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
        self.read(move |conn| {
            load_magic(conn, &magic, now, max_wrong_attempts).map(|(_, target)| target)
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
        self.write(move |conn| {
            let (verification, target) = load_magic(conn, &magic, now, max_wrong_attempts)?;
            create_session(conn, &verification, &target, &session)
        })
        .await
    }

    async fn authenticate(
        &self,
        session: &TokenHash,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
        request: &RequestInfo,
    ) -> Result<ClientContext> {
        if self.access_log_writes == crate::AccessLogWrites::Queued {
            // The check reads (from the cache while nothing it reads has changed);
            // the request's entry is queued for the writer. Only a session due for
            // its note (at most once per refresh interval) takes the unit below.
            let s = self.session_record(session).await?.at(now);
            if rules::judge_session(&s.state, now, policy)?.is_none() {
                self.queue_access(AccessLogEntry {
                    at: now,
                    portal_id: s.ctx.portal_id,
                    contact_id: s.ctx.contact_id,
                    event: AccessEvent::PortalRequest,
                    request: request.clone(),
                })
                .await;
                return Ok(s.ctx);
            }
        }
        let (token, policy, request) = (*session, *policy, request.clone());
        let written = self
            .write_session(session, move |conn| {
                let mut s = load_session(conn, &token, now)?;
                // At most one session write per refresh interval (the rule decides).
                if let Some(note) = rules::judge_session(&s.state, now, &policy)? {
                    conn.prepare_cached(
                        "UPDATE sessions
                            SET last_seen_at = ?1, user_agent = ?2,
                                refreshed_at = coalesce(?3, refreshed_at),
                                expires_at = coalesce(?4, expires_at)
                          WHERE token_hash = ?5",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            micros(note.seen_at),
                            rules::session_user_agent(request.user_agent.as_deref()),
                            note.refresh.map(|r| micros(r.refreshed_at)),
                            note.refresh.map(|r| micros(r.expires_at)),
                            &token.as_bytes()[..]
                        ])
                    })
                    .db("noting a session's request")?;
                    if let Some(refresh) = note.refresh {
                        s.ctx.session_expires_at = refresh.expires_at;
                    }
                }
                append_access(
                    conn,
                    &AccessLogEntry {
                        at: now,
                        portal_id: s.ctx.portal_id,
                        contact_id: s.ctx.contact_id,
                        event: AccessEvent::PortalRequest,
                        request,
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
                self.read(move |conn| {
                    let s = load_session(conn, &token, now)?;
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
        self.write_session(session, move |conn| {
            conn.prepare_cached(
                "UPDATE sessions SET ended_at = COALESCE(ended_at, ?1) WHERE token_hash = ?2",
            )
            .and_then(|mut s| s.execute(params![micros(now), &token.as_bytes()[..]]))
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
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT s.token_hash, s.created_at, s.refreshed_at, s.expires_at,
                            s.revoked_at, s.ended_at, c.revoked_at,
                            COALESCE(s.last_seen_at, s.created_at), s.user_agent
                       FROM sessions s JOIN contacts c ON c.id = s.contact_id
                      WHERE s.contact_id = ?1",
                )
                .db("listing a contact's sessions")?;
            let rows = stmt
                .query_map([&contact.as_bytes()[..]], |row| {
                    let hash: [u8; 32] = row.get(0)?;
                    let state = SessionState {
                        created_at: codec::time(row, 1)?,
                        refreshed_at: codec::time(row, 2)?,
                        last_seen_at: codec::time(row, 7)?,
                        expires_at: codec::time(row, 3)?,
                        revoked: row.get::<_, Option<i64>>(4)?.is_some(),
                        ended: row.get::<_, Option<i64>>(5)?.is_some(),
                        contact_revoked: row.get::<_, Option<i64>>(6)?.is_some(),
                    };
                    let summary = SessionSummary {
                        token_hash: TokenHash::from_bytes(hash),
                        created_at: state.created_at,
                        last_seen_at: codec::time(row, 7)?,
                        user_agent: row.get(8)?,
                    };
                    Ok((state, summary))
                })
                .db("listing a contact's sessions")?;
            let mut out = Vec::new();
            for row in rows {
                let (state, summary) = row.db("listing a contact's sessions")?;
                if rules::session_live(&state, now) {
                    out.push(summary);
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
        self.write_sessions(move |conn| {
            let ended = conn
                .prepare_cached(
                    "UPDATE sessions SET ended_at = ?1
                      WHERE contact_id = ?2 AND token_hash <> ?3 AND ended_at IS NULL",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        micros(now),
                        &contact.as_bytes()[..],
                        &keep.as_bytes()[..]
                    ])
                })
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
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE contacts SET time_zone = ?1 WHERE id = ?2")
                .and_then(|mut s| s.execute(params![zone.name(), &contact.as_bytes()[..]]))
                .db("changing a contact's time zone")?;
            if changed == 0 {
                return Err(Error::NotFound {
                    entity: Entity::Contact,
                });
            }
            conn.prepare_cached(concat!(
                "SELECT ",
                contact_cols!(),
                " FROM contacts c WHERE c.id = ?1"
            ))
            .and_then(|mut s| {
                s.query_row([&contact.as_bytes()[..]], |row| codec::contact_at(row, 0))
            })
            .db("reading a contact")
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
        self.write_recorded(entry.portal(), move |conn| {
            let target = load_target(conn, contact)?;
            entry.insert(conn, target.portal.id)?;
            let id = &contact.as_bytes()[..];
            let at = micros(now);
            conn.prepare_cached(
                "UPDATE contacts SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
            )
            .and_then(|mut s| s.execute(params![at, id]))
            .db("revoking a contact")?;
            conn.prepare_cached(
                "UPDATE invites SET revoked_at = COALESCE(revoked_at, ?1) WHERE contact_id = ?2",
            )
            .and_then(|mut s| s.execute(params![at, id]))
            .db("revoking a contact's invite")?;
            end_verifications(conn, contact, now)?;
            conn.prepare_cached(
                "UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?1) WHERE contact_id = ?2",
            )
            .and_then(|mut s| s.execute(params![at, id]))
            .db("revoking a contact's sessions")?;
            Ok(())
        })
        .await
    }

    async fn remove_contact(&self, contact: ContactId, activity: &ActivityEntry) -> Result<()> {
        let row = crate::workflow::rows::ActivityRow::new(activity)?;
        // The entry must be of the contact's portal (checked inside), so that is the
        // portal whose cached feed the write invalidates.
        let entry_portal = activity.portal_id;
        self.write_content(entry_portal, move |conn| {
            let target = load_target(conn, contact)?;
            if target.portal.id != entry_portal {
                return Err(Error::invalid(
                    "activity",
                    "must belong to the portal of the change it records",
                ));
            }
            let id = &contact.as_bytes()[..];
            for (sql, what) in [
                ("DELETE FROM sessions WHERE contact_id = ?1", "sessions"),
                (
                    "DELETE FROM verification_emails WHERE contact_id = ?1",
                    "verification emails",
                ),
                (
                    "DELETE FROM code_guards WHERE contact_id = ?1",
                    "the code guard",
                ),
                (
                    "DELETE FROM verifications WHERE contact_id = ?1",
                    "verifications",
                ),
                ("DELETE FROM invites WHERE contact_id = ?1", "the invite"),
                (
                    "DELETE FROM access_log WHERE contact_id = ?1",
                    "access-log entries",
                ),
                (
                    "DELETE FROM reminder_contacts WHERE contact_id = ?1",
                    "reminder choice",
                ),
                (
                    "DELETE FROM reminder_digests WHERE contact_id = ?1",
                    "reminder digests",
                ),
                (
                    "DELETE FROM reminder_steps WHERE contact_id = ?1",
                    "reminder steps",
                ),
                (
                    "DELETE FROM reminder_snoozes WHERE contact_id = ?1",
                    "reminder snoozes",
                ),
                (
                    "DELETE FROM document_opens WHERE contact_id = ?1",
                    "document opens",
                ),
                ("DELETE FROM contacts WHERE id = ?1", "the contact"),
            ] {
                conn.prepare_cached(sql)
                    .and_then(|mut s| s.execute([id]))
                    .map_err(|e| Error::storage(format!("removing a contact's {what}"), e))?;
            }
            row.insert(conn)
        })
        .await
    }

    async fn record_access(&self, entry: &AccessLogEntry) -> Result<()> {
        let entry = entry.clone();
        self.write(move |conn| append_access(conn, &entry)).await
    }

    async fn access_log(&self, portal: PortalId, limit: usize) -> Result<Vec<AccessLogEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.flush_access_log().await?;
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {ACCESS_COLS} FROM access_log WHERE portal_id = ?1
                     ORDER BY at DESC, id DESC LIMIT ?2"
                ))
                .db("reading the access log")?;
            stmt.query_map(params![&portal.as_bytes()[..], limit], codec::access_entry)
                .and_then(Iterator::collect)
                .db("reading the access log")
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
        self.flush_access_log().await?;
        self.read(move |conn| {
            codec::newest_page(
                conn,
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

    /// One write job per call, bounded by `max_rows` (served by `access_log_by_age`),
    /// so a prune never holds the single writer for long.
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
        self.write(move |conn| {
            let removed = conn
                .prepare_cached(
                    "DELETE FROM access_log WHERE id IN (
                         SELECT id FROM access_log WHERE at < ?1 ORDER BY at, id LIMIT ?2)",
                )
                .and_then(|mut s| s.execute(params![cut, limit]))
                .db("pruning the access log")?;
            Ok(u64::try_from(removed).unwrap_or(u64::MAX))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite plans for `sql`, one line per step.
    fn plan(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows: Vec<String> = stmt
            .query_map(params, |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        rows.join("\n")
    }

    /// The pages of the activity feed and the access log are index range reads in
    /// the index's order, from the newest or after a key: no scan, no sort, so a page
    /// deep in a long history costs what the first one does.
    #[test]
    fn pages_read_their_index_ranges() {
        use crate::workflow::{ACTIVITY_PAGE_AFTER, ACTIVITY_PAGE_FIRST};
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrations::migrate(&mut conn).unwrap();
        let id = [1u8; 16];
        let cases = [
            (
                "newest activity",
                plan(&conn, ACTIVITY_PAGE_FIRST, params![&id[..], 10]),
                "activity_page",
                "activity",
            ),
            (
                "activity after a key",
                plan(&conn, ACTIVITY_PAGE_AFTER, params![&id[..], 5, 7, 10]),
                "activity_page",
                "activity",
            ),
            (
                "newest access",
                plan(&conn, ACCESS_PAGE_FIRST, params![&id[..], 10]),
                "access_log_page",
                "access_log",
            ),
            (
                "access after a key",
                plan(&conn, ACCESS_PAGE_AFTER, params![&id[..], 5, 7, 10]),
                "access_log_page",
                "access_log",
            ),
        ];
        for (what, plan, index, table) in cases {
            assert!(plan.contains(index), "{what} does not use {index}:\n{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{what} sorts:\n{plan}");
            assert!(
                !plan
                    .lines()
                    .any(|l| l.starts_with(&format!("SCAN {table}")) && !l.contains("INDEX")),
                "{what} scans the table:\n{plan}"
            );
            if what.contains("after") {
                assert!(
                    plan.contains("(at,") || plan.contains("at<"),
                    "{what} does not range over the key:\n{plan}"
                );
            }
        }
    }

    /// The admin lists of portals, contacts and templates are index range reads
    /// too, from the oldest or after a key `(created_at, number)`: no scan, no sort.
    #[test]
    fn admin_list_pages_read_their_index_ranges() {
        use crate::directory::{CONTACT_PAGE, PORTAL_PAGE};
        use crate::plan::TEMPLATE_PAGE;
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrations::migrate(&mut conn).unwrap();
        let id = [1u8; 16];
        for (what, query, index) in [
            ("portals", &PORTAL_PAGE, "portals_by_tenant"),
            ("contacts", &CONTACT_PAGE, "contacts_by_portal"),
            ("templates", &TEMPLATE_PAGE, "plan_templates_page"),
        ] {
            let first = plan(&conn, query.first, params![&id[..], 10]);
            let after = plan(&conn, query.after, params![&id[..], 5, 7, 10]);
            for (step, p) in [("first", &first), ("after", &after)] {
                assert!(
                    p.contains(index),
                    "{what} {step} does not use {index}:\n{p}"
                );
                assert!(!p.contains("TEMP B-TREE"), "{what} {step} sorts:\n{p}");
            }
            assert!(
                after.contains("created_at>") || after.contains("(created_at,"),
                "{what} after a key does not range over the key:\n{after}"
            );
        }
    }
}
