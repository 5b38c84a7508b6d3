//! Conversions between rows and the core's model, and from PostgreSQL errors to the
//! core's error meanings. Mirrors `portal-storage-sqlite`'s `codec`: the columns have
//! the same names and the same storage forms (ids as 16-byte `BYTEA`, times as
//! microseconds in `BIGINT`, enums by their serde names in `TEXT`, records as JSON
//! `TEXT`), so a row reads the same way on both stores.
//!
//! Row readers return the core's `Result`: a value that does not decode (a corrupt
//! row) is `Error::Storage` naming the column's position, never a value. Error
//! messages name the operation, never a value: no hash or token reaches a message.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use postgres::Row;
use postgres::error::SqlState;
use postgres::types::FromSql;
use serde::Serialize;
use serde::de::DeserializeOwned;

use portal_core::model::{
    Branding, Contact, EmailAddress, ImageType, Logo, Phase, Portal, PortalStatus, Side, Task,
    TaskKind, TaskStatus, Tenant, TimeZone,
};
use portal_core::store::{AccessEvent, AccessLogEntry, Page, PageKey, RequestInfo};
use portal_core::workflow::TaskEvidence;
use portal_core::workflow::team::InvitationMode;
use portal_core::{
    ContactId, Entity, Error, PhaseId, PortalId, Result, TaskId, TemplateId, TenantId,
};

/// Maps a PostgreSQL result into the core's meanings, naming the operation for the log.
pub(crate) trait DbResult<T> {
    /// Maps the error: key clashes are `Conflict`, missing parents `NotFound`, a full
    /// disk `StorageFull`, the rest `Storage` with the driver's error as its source (so
    /// [`crate::tx`] can tell a serialization failure and run the unit again).
    fn db(self, what: &'static str) -> Result<T>;
}

impl<T> DbResult<T> for std::result::Result<T, postgres::Error> {
    fn db(self, what: &'static str) -> Result<T> {
        self.map_err(|e| map_error(what, e))
    }
}

/// Maps one PostgreSQL error (see [`DbResult::db`]).
pub(crate) fn map_error(what: &'static str, e: postgres::Error) -> Error {
    match e.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => {
            tracing::debug!(error = %e, "PostgreSQL key clash while {what}");
            Error::conflict("a record with this key already exists")
        }
        Some(code) if *code == SqlState::FOREIGN_KEY_VIOLATION => {
            tracing::debug!(error = %e, "PostgreSQL missing parent while {what}");
            Error::NotFound {
                entity: Entity::ParentRecord,
            }
        }
        Some(code) if *code == SqlState::DISK_FULL => {
            tracing::error!(error = %e, "PostgreSQL: the disk is full while {what}");
            Error::storage_full(format!("PostgreSQL: the disk is full while {what}"))
        }
        Some(code) if crate::tx::retryable_code(code) => {
            // Not logged as an error: the unit runs again.
            Error::storage(format!("PostgreSQL: concurrent change while {what}"), e)
        }
        _ => {
            tracing::error!(error = %e, "PostgreSQL failure while {what}");
            Error::storage(format!("PostgreSQL failure while {what}"), e)
        }
    }
}

/// A corrupt value in column `idx`.
pub(crate) fn corrupt(idx: usize, msg: &str) -> Error {
    Error::storage_msg(format!(
        "a stored value does not decode (column {idx}): {msg}"
    ))
}

/// Column `idx` as `T` (a wrong type or a NULL where none belongs is a corrupt row).
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T> {
    row.try_get(idx)
        .map_err(|e| Error::storage(format!("reading column {idx} of a row"), e))
}

// ----- scalar values -----------------------------------------------------------------

/// A time as stored: microseconds since the Unix epoch (the core keeps microseconds).
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored time.
pub(crate) fn time(row: &Row, idx: usize) -> Result<DateTime<Utc>> {
    let us: i64 = get(row, idx)?;
    DateTime::from_timestamp_micros(us).ok_or_else(|| corrupt(idx, "time out of range"))
}

/// A stored optional time.
pub(crate) fn opt_time(row: &Row, idx: usize) -> Result<Option<DateTime<Utc>>> {
    match get::<Option<i64>>(row, idx)? {
        None => Ok(None),
        Some(us) => DateTime::from_timestamp_micros(us)
            .map(Some)
            .ok_or_else(|| corrupt(idx, "time out of range")),
    }
}

/// A stored count (non-negative BIGINT).
pub(crate) fn count(row: &Row, idx: usize) -> Result<u32> {
    let n: i64 = get(row, idx)?;
    u32::try_from(n).map_err(|_| corrupt(idx, "count out of range"))
}

/// A stored non-negative number (a sequence number, a version).
pub(crate) fn number(row: &Row, idx: usize) -> Result<u64> {
    let n: i64 = get(row, idx)?;
    u64::try_from(n).map_err(|_| corrupt(idx, "negative number"))
}

/// A number as stored: PostgreSQL's BIGINT is signed 64-bit.
pub(crate) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored fixed-size byte string (an id, a hash).
pub(crate) fn bytes_n<const N: usize>(row: &Row, idx: usize) -> Result<[u8; N]> {
    let raw: &[u8] = get(row, idx)?;
    raw.try_into()
        .map_err(|_| corrupt(idx, "a stored id or hash has the wrong length"))
}

/// A stored optional fixed-size byte string.
pub(crate) fn opt_bytes_n<const N: usize>(row: &Row, idx: usize) -> Result<Option<[u8; N]>> {
    match get::<Option<&[u8]>>(row, idx)? {
        None => Ok(None),
        Some(raw) => raw
            .try_into()
            .map(Some)
            .map_err(|_| corrupt(idx, "a stored id or hash has the wrong length")),
    }
}

fn id(row: &Row, idx: usize) -> Result<[u8; 16]> {
    bytes_n::<16>(row, idx)
}

/// A stored tenant id.
pub(crate) fn tenant_id(row: &Row, idx: usize) -> Result<TenantId> {
    id(row, idx).map(TenantId::from_bytes)
}
/// A stored portal id.
pub(crate) fn portal_id(row: &Row, idx: usize) -> Result<PortalId> {
    id(row, idx).map(PortalId::from_bytes)
}
/// A stored contact id.
pub(crate) fn contact_id(row: &Row, idx: usize) -> Result<ContactId> {
    id(row, idx).map(ContactId::from_bytes)
}
/// A stored phase id.
pub(crate) fn phase_id(row: &Row, idx: usize) -> Result<PhaseId> {
    id(row, idx).map(PhaseId::from_bytes)
}
/// A stored task id.
pub(crate) fn task_id(row: &Row, idx: usize) -> Result<TaskId> {
    id(row, idx).map(TaskId::from_bytes)
}
/// A stored template id.
pub(crate) fn template_id(row: &Row, idx: usize) -> Result<TemplateId> {
    id(row, idx).map(TemplateId::from_bytes)
}

/// A stored version (a positive BIGINT).
pub(crate) fn stored_version(row: &Row, idx: usize) -> Result<u64> {
    version(row, idx)
}

/// A stored size in bytes (non-negative BIGINT).
pub(crate) fn byte_size(row: &Row, idx: usize) -> Result<u64> {
    let n: i64 = get(row, idx)?;
    u64::try_from(n).map_err(|_| corrupt(idx, "size out of range"))
}

/// A size in bytes as stored: PostgreSQL integers are signed 64-bit.
pub(crate) fn size_value(size: u64) -> Result<i64> {
    i64::try_from(size).map_err(|_| Error::storage_msg("a size too large to store"))
}

/// A stored flag (0 or 1 in a BIGINT, as on SQLite).
pub(crate) fn flag(row: &Row, idx: usize) -> Result<bool> {
    Ok(get::<i64>(row, idx)? != 0)
}

/// The storage name of a unit enum variant: its serde name (`pdf`, `task_completed`,
/// ...), so a variant added to the core needs no new code here and no migration.
pub(crate) fn serde_name(value: &impl Serialize) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Ok(name),
        Ok(_) => Err(Error::storage_msg("a value stored by name has no name")),
        Err(e) => Err(Error::storage("encoding a name", e)),
    }
}

/// Reverse of [`serde_name`]: an unknown name is a corrupt row (or a row written by a
/// newer build that knows more variants).
pub(crate) fn from_serde_name<T: DeserializeOwned>(name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| Error::storage_msg("unknown stored name"))
}

/// A value as JSON text, for storage.
pub(crate) fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::storage("encoding a value as JSON", e))
}

/// A contact's guest record as stored in `contacts.guest` (NULL for the client's
/// own contacts).
pub(crate) fn guest_json(guest: Option<&portal_core::model::Guest>) -> Result<Option<String>> {
    guest.map(to_json).transpose()
}

/// A stored JSON value.
pub(crate) fn json<T: DeserializeOwned>(row: &Row, idx: usize) -> Result<T> {
    let text: &str = get(row, idx)?;
    serde_json::from_str(text).map_err(|_| corrupt(idx, "bad JSON"))
}

/// A stored optional JSON value.
pub(crate) fn opt_json<T: DeserializeOwned>(row: &Row, idx: usize) -> Result<Option<T>> {
    match get::<Option<&str>>(row, idx)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(text)
            .map(Some)
            .map_err(|_| corrupt(idx, "bad JSON")),
    }
}

/// A stored value parsed from TEXT by `parse`.
pub(crate) fn parsed<T>(row: &Row, idx: usize, parse: impl FnOnce(&str) -> Result<T>) -> Result<T> {
    let text: &str = get(row, idx)?;
    parse(text).map_err(|e| corrupt(idx, &e.to_string()))
}

/// A stored optional value parsed from TEXT by `parse`.
pub(crate) fn opt_parsed<T>(
    row: &Row,
    idx: usize,
    parse: impl FnOnce(&str) -> Result<T>,
) -> Result<Option<T>> {
    match get::<Option<&str>>(row, idx)? {
        None => Ok(None),
        Some(text) => parse(text)
            .map(Some)
            .map_err(|e| corrupt(idx, &e.to_string())),
    }
}

/// A stored email address.
pub(crate) fn email(row: &Row, idx: usize) -> Result<EmailAddress> {
    parsed(row, idx, EmailAddress::parse)
}

/// Storage name of an image type.
pub(crate) const fn image_type_str(t: ImageType) -> &'static str {
    match t {
        ImageType::Png => "png",
        ImageType::Jpeg => "jpeg",
        ImageType::Gif => "gif",
        ImageType::Webp => "webp",
    }
}

fn image_type(s: &str) -> Result<ImageType> {
    Ok(match s {
        "png" => ImageType::Png,
        "jpeg" => ImageType::Jpeg,
        "gif" => ImageType::Gif,
        "webp" => ImageType::Webp,
        _ => return Err(Error::storage_msg("unknown image type")),
    })
}

/// A time zone stored by its IANA name.
pub(crate) fn zone(row: &Row, i: usize) -> Result<TimeZone> {
    parsed(row, i, TimeZone::parse)
}

/// Storage form of a date: `YYYY-MM-DD`.
pub(crate) fn date_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A stored optional date (`YYYY-MM-DD`).
pub(crate) fn opt_date(row: &Row, idx: usize) -> Result<Option<NaiveDate>> {
    match get::<Option<&str>>(row, idx)? {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| corrupt(idx, "bad date")),
    }
}

// ----- records -------------------------------------------------------------------------

/// Columns read by [`tenant`].
pub(crate) const TENANT_COLS: &str =
    "id, name, branding, notification_recipients, created_at, time_zone, version, base_url, sender";

/// A tenant from [`TENANT_COLS`].
pub(crate) fn tenant(row: &Row) -> Result<Tenant> {
    Ok(Tenant {
        id: tenant_id(row, 0)?,
        name: get(row, 1)?,
        branding: json::<Branding>(row, 2)?,
        notification_recipients: json::<Vec<EmailAddress>>(row, 3)?,
        created_at: time(row, 4)?,
        time_zone: zone(row, 5)?,
        version: version(row, 6)?,
        base_url: opt_parsed(row, 7, portal_core::model::TenantBaseUrl::parse)?,
        sender: opt_json(row, 8)?,
    })
}

/// An erasure-log row: `tenant_id, portal_id, client_name, at, by_actor, audit_seq,
/// audit_head`.
pub(crate) fn erasure(row: &Row) -> Result<portal_core::store::Erasure> {
    Ok(portal_core::store::Erasure {
        tenant_id: tenant_id(row, 0)?,
        portal_id: portal_id(row, 1)?,
        client_name: get(row, 2)?,
        at: time(row, 3)?,
        by: json(row, 4)?,
        audit_head: {
            let seq: Option<i64> = get(row, 5)?;
            let hash = opt_bytes_n::<32>(row, 6)?;
            match (seq.and_then(|s| u64::try_from(s).ok()), hash) {
                (Some(seq), Some(hash)) => Some(portal_core::audit::ChainHead { seq, hash }),
                _ => None,
            }
        },
    })
}

/// Columns read by [`portal_at`], for a table aliased `p`.
macro_rules! portal_cols {
    () => {
        "p.id, p.tenant_id, p.client_name, p.status, p.branding, p.created_at, p.target_date, p.version, \
         p.colleague_invitations"
    };
}
pub(crate) use portal_cols;

/// A portal from `portal_cols!()` starting at column `base`.
pub(crate) fn portal_at(row: &Row, base: usize) -> Result<Portal> {
    Ok(Portal {
        id: portal_id(row, base)?,
        tenant_id: tenant_id(row, base + 1)?,
        client_name: get(row, base + 2)?,
        status: parsed(row, base + 3, PortalStatus::parse)?,
        branding: json::<Branding>(row, base + 4)?,
        created_at: time(row, base + 5)?,
        target_date: opt_date(row, base + 6)?,
        version: version(row, base + 7)?,
        colleague_invitations: parsed(row, base + 8, |s| {
            InvitationMode::parse("colleague_invitations", s)
        })?,
    })
}

/// Columns read by [`contact_at`], for a table aliased `c`.
macro_rules! contact_cols {
    () => {
        "c.id, c.portal_id, c.name, c.email, c.revoked_at, c.created_at, c.time_zone, \
         c.invited_by, c.awaiting_approval, c.role, c.guest, c.language"
    };
}
pub(crate) use contact_cols;

/// Number of columns in `contact_cols!()`.
pub(crate) const CONTACT_WIDTH: usize = 12;

/// A contact from `contact_cols!()` starting at column `base`.
pub(crate) fn contact_at(row: &Row, base: usize) -> Result<Contact> {
    Ok(Contact {
        id: contact_id(row, base)?,
        portal_id: portal_id(row, base + 1)?,
        name: get(row, base + 2)?,
        email: email(row, base + 3)?,
        revoked_at: opt_time(row, base + 4)?,
        created_at: time(row, base + 5)?,
        time_zone: zone(row, base + 6)?,
        invited_by: opt_bytes_n::<16>(row, base + 7)?.map(ContactId::from_bytes),
        awaiting_approval: flag(row, base + 8)?,
        role: get(row, base + 9)?,
        guest: opt_json(row, base + 10)?,
        language: opt_parsed(row, base + 11, |code| {
            portal_core::i18n::Language::from_code(code).ok_or_else(|| {
                portal_core::Error::invalid("language", "not a language the portal speaks")
            })
        })?,
    })
}

/// Columns read by [`phase`].
pub(crate) const PHASE_COLS: &str = "id, portal_id, position, name, version";

/// A phase from [`PHASE_COLS`].
pub(crate) fn phase(row: &Row) -> Result<Phase> {
    Ok(Phase {
        id: phase_id(row, 0)?,
        portal_id: portal_id(row, 1)?,
        position: count(row, 2)?,
        name: get(row, 3)?,
        version: version(row, 4)?,
    })
}

/// Columns read by [`task`], for a table aliased `t`.
macro_rules! task_cols {
    () => {
        "t.id, t.portal_id, t.phase_id, t.position, t.title, t.description, t.assignee, \
         t.kind, t.status, t.blocked_reason, t.due_date, t.created_at, t.updated_at, \
         t.evidence, t.version, t.assigned_to, t.waits_on, t.internal, t.for_role"
    };
}
pub(crate) use task_cols;

/// A task from `task_cols!()`.
pub(crate) fn task(row: &Row) -> Result<Task> {
    Ok(Task {
        id: task_id(row, 0)?,
        portal_id: portal_id(row, 1)?,
        phase_id: phase_id(row, 2)?,
        position: count(row, 3)?,
        title: get(row, 4)?,
        description: get(row, 5)?,
        assignee: parsed(row, 6, Side::parse)?,
        kind: json::<TaskKind>(row, 7)?,
        status: parsed(row, 8, TaskStatus::parse)?,
        blocked_reason: get(row, 9)?,
        due_date: opt_date(row, 10)?,
        created_at: time(row, 11)?,
        updated_at: time(row, 12)?,
        evidence: json::<TaskEvidence>(row, 13)?,
        version: version(row, 14)?,
        assigned_to: json(row, 15)?,
        waits_on: json(row, 16)?,
        internal: flag(row, 17)?,
        for_role: get(row, 18)?,
    })
}

/// A record's version (stored as a positive BIGINT).
fn version(row: &Row, idx: usize) -> Result<u64> {
    let raw: i64 = get(row, idx)?;
    u64::try_from(raw).map_err(|_| corrupt(idx, "negative version"))
}

/// A logo from `image_type, bytes`.
pub(crate) fn logo(row: &Row) -> Result<Logo> {
    Ok(Logo {
        image_type: parsed(row, 0, image_type)?,
        bytes: get(row, 1)?,
    })
}

/// Columns read by [`access_entry`].
pub(crate) const ACCESS_COLS: &str = "at, portal_id, contact_id, event, ip, user_agent, path";

/// An access-log entry from [`ACCESS_COLS`].
pub(crate) fn access_entry(row: &Row) -> Result<AccessLogEntry> {
    let event = parsed(row, 3, |s| {
        AccessEvent::parse(s).ok_or_else(|| Error::storage_msg("unknown access event"))
    })?;
    let ip = opt_parsed(row, 4, |s| {
        s.parse::<IpAddr>()
            .map_err(|_| Error::storage_msg("bad IP address"))
    })?;
    Ok(AccessLogEntry {
        at: time(row, 0)?,
        portal_id: portal_id(row, 1)?,
        contact_id: contact_id(row, 2)?,
        event,
        request: RequestInfo {
            ip,
            user_agent: get(row, 5)?,
            path: get(row, 6)?,
        },
    })
}

/// The two reads of a keyset page of a list ordered by `(at, <number column>)`,
/// newest first or oldest first as the SQL says: `first` reads from the start (`$1`
/// the parent id, `$2` the limit), `after` from a key (`$2`, `$3` its time and
/// number, `$4` the limit).
/// Both select the item's columns, then the number (column `width`).
pub(crate) struct PageQuery {
    pub(crate) first: &'static str,
    pub(crate) after: &'static str,
    pub(crate) width: usize,
}

/// Reads one page with `query` (see [`PageQuery`]): `item` reads an item from a row,
/// `at` its time for the key.
pub(crate) fn newest_page<T>(
    tx: &mut crate::tx::Tx<'_>,
    query: &PageQuery,
    parent: &[u8],
    after: Option<PageKey>,
    limit: usize,
    item: impl Fn(&Row) -> Result<T>,
    at: impl Fn(&T) -> DateTime<Utc>,
) -> Result<Page<T>> {
    if limit == 0 {
        return Ok(Page {
            items: Vec::new(),
            next: None,
        });
    }
    let wanted = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let rows = match after {
        None => tx
            .query(query.first, &[&parent, &wanted])
            .db("reading a page")?,
        Some(key) => {
            let seq = int(key.seq);
            tx.query(query.after, &[&parent, &micros(key.at), &seq, &wanted])
                .db("reading a page")?
        }
    };
    let mut read = Vec::with_capacity(rows.len());
    for row in &rows {
        let value = item(row)?;
        let seq = number(row, query.width)?;
        read.push((
            PageKey {
                at: at(&value),
                seq,
            },
            value,
        ));
    }
    Ok(Page::from_read(read, limit))
}
