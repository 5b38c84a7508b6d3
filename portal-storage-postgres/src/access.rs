//! Placeholder: to be ported from portal-storage-sqlite.
#![allow(unused_imports, unused_variables)]

use async_trait::async_trait;
use chrono::{DateTime, Utc};
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

use postgres::Row;

use crate::PostgresStore;
use crate::codec::{self, CONTACT_WIDTH, DbResult, contact_cols, portal_cols};
use crate::tx::Tx;

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
        Err(crate::not_ported("AccessStore::issue_invite"))
    }

    async fn invite_colleague(&self, invite: &ColleagueInvite) -> Result<ContactInPortal> {
        Err(crate::not_ported("AccessStore::invite_colleague"))
    }

    async fn revoke_invite(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        Err(crate::not_ported("AccessStore::revoke_invite"))
    }

    async fn open_invite(&self, token: &TokenHash, now: DateTime<Utc>) -> Result<ContactInPortal> {
        Err(crate::not_ported("AccessStore::open_invite"))
    }

    async fn add_guest(&self, new: &NewGuest) -> Result<ContactInPortal> {
        Err(crate::not_ported("AccessStore::add_guest"))
    }

    async fn start_handover(&self, new: &NewHandover) -> Result<Handover> {
        Err(crate::not_ported("AccessStore::start_handover"))
    }

    async fn share_task(
        &self,
        contact: ContactId,
        task: TaskId,
        shared: bool,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        Err(crate::not_ported("AccessStore::share_task"))
    }

    async fn end_guest_access(
        &self,
        contact: ContactId,
        at: DateTime<Utc>,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        Err(crate::not_ported("AccessStore::end_guest_access"))
    }

    async fn start_verification(
        &self,
        invite: &TokenHash,
        verification: &TokenHash,
        code: &NewCode,
        policy: &AccessPolicy,
    ) -> Result<ContactInPortal> {
        Err(crate::not_ported("AccessStore::start_verification"))
    }

    async fn verification(
        &self,
        verification: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<VerificationView> {
        Err(crate::not_ported("AccessStore::verification"))
    }

    async fn issue_code(
        &self,
        verification: &TokenHash,
        code: &NewCode,
        policy: &AccessPolicy,
    ) -> Result<(ContactInPortal, u32)> {
        Err(crate::not_ported("AccessStore::issue_code"))
    }

    async fn withdraw_code(&self, verification: &TokenHash, magic: &TokenHash) -> Result<()> {
        Err(crate::not_ported("AccessStore::withdraw_code"))
    }

    async fn redeem_code(
        &self,
        verification: &TokenHash,
        presented: &CodeHash,
        now: DateTime<Utc>,
        policy: &AccessPolicy,
        session: &NewSession,
    ) -> Result<ClientContext> {
        Err(crate::not_ported("AccessStore::redeem_code"))
    }

    async fn magic_link(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
    ) -> Result<ContactInPortal> {
        Err(crate::not_ported("AccessStore::magic_link"))
    }

    async fn redeem_magic_link(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
        session: &NewSession,
    ) -> Result<ClientContext> {
        Err(crate::not_ported("AccessStore::redeem_magic_link"))
    }

    async fn authenticate(
        &self,
        session: &TokenHash,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
        request: &RequestInfo,
    ) -> Result<ClientContext> {
        Err(crate::not_ported("AccessStore::authenticate"))
    }

    async fn end_session(&self, session: &TokenHash, now: DateTime<Utc>) -> Result<()> {
        Err(crate::not_ported("AccessStore::end_session"))
    }

    async fn contact_sessions(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionSummary>> {
        Err(crate::not_ported("AccessStore::contact_sessions"))
    }

    async fn end_other_sessions(
        &self,
        contact: ContactId,
        keep: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        Err(crate::not_ported("AccessStore::end_other_sessions"))
    }

    async fn set_contact_time_zone(
        &self,
        contact: ContactId,
        zone: portal_core::model::TimeZone,
    ) -> Result<portal_core::model::Contact> {
        Err(crate::not_ported("AccessStore::set_contact_time_zone"))
    }

    async fn revoke_contact(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        Err(crate::not_ported("AccessStore::revoke_contact"))
    }

    async fn remove_contact(&self, contact: ContactId, activity: &ActivityEntry) -> Result<()> {
        Err(crate::not_ported("AccessStore::remove_contact"))
    }

    async fn record_access(&self, entry: &AccessLogEntry) -> Result<()> {
        Err(crate::not_ported("AccessStore::record_access"))
    }

    async fn access_log(&self, portal: PortalId, limit: usize) -> Result<Vec<AccessLogEntry>> {
        Err(crate::not_ported("AccessStore::access_log"))
    }

    async fn access_log_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<AccessLogEntry>> {
        Err(crate::not_ported("AccessStore::access_log_page"))
    }

    async fn prune_access_log(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        Err(crate::not_ported("AccessStore::prune_access_log"))
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

/// The newest page of a portal's access log (see [`crate::codec::newest_page`]).
pub(crate) const ACCESS_PAGE_FIRST: &str =
    "SELECT at, portal_id, contact_id, event, ip, user_agent, path, id
     FROM access_log WHERE portal_id = $1 ORDER BY at DESC, id DESC LIMIT $2";
/// A page of a portal's access log after a key (see [`crate::codec::newest_page`]).
pub(crate) const ACCESS_PAGE_AFTER: &str =
    "SELECT at, portal_id, contact_id, event, ip, user_agent, path, id
     FROM access_log WHERE portal_id = $1 AND (at, id) < ($2, $3)
     ORDER BY at DESC, id DESC LIMIT $4";
