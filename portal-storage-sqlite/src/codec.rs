//! Conversions between rows and the core's model, and from SQLite errors to the
//! core's error meanings.
//!
//! Row readers return `rusqlite::Result` so they can be used inside query closures; a
//! value that does not decode (a corrupt row) becomes a conversion failure that is
//! mapped, like every other SQLite error, by [`DbResult::db`]. Error messages name the
//! operation, never a value: no hash or token ever reaches a message.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Type;
use rusqlite::{Row, ffi};
use serde::Serialize;
use serde::de::DeserializeOwned;

use portal_core::model::{
    Branding, Contact, EmailAddress, ImageType, Logo, Phase, Portal, PortalStatus, Side, Task,
    TaskKind, TaskStatus, Tenant, TimeZone,
};
use portal_core::store::{AccessEvent, AccessLogEntry, RequestInfo};
use portal_core::workflow::TaskEvidence;
use portal_core::workflow::team::InvitationMode;
use portal_core::{
    ContactId, Entity, Error, PhaseId, PortalId, Result, TaskId, TemplateId, TenantId,
};

/// Maps a SQLite result into the core's meanings, naming the operation for the log.
pub(crate) trait DbResult<T> {
    /// Maps the error: key clashes are `Conflict`, missing parents `NotFound`, a full
    /// disk `StorageFull`, the rest `Storage` (logged with the backend detail).
    fn db(self, what: &'static str) -> Result<T>;
}

impl<T> DbResult<T> for rusqlite::Result<T> {
    fn db(self, what: &'static str) -> Result<T> {
        self.map_err(|e| map_error(what, e))
    }
}

/// Maps one SQLite error (see [`DbResult::db`]).
pub(crate) fn map_error(what: &'static str, e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(failure, _) = &e {
        if failure.code == rusqlite::ErrorCode::DiskFull {
            tracing::error!(error = %e, "SQLite: the disk is full while {what}");
            return Error::storage_full(format!("SQLite: the disk is full while {what}"));
        }
        match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE => {
                tracing::debug!(error = %e, "SQLite key clash while {what}");
                return Error::conflict("a record with this key already exists");
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                tracing::debug!(error = %e, "SQLite missing parent while {what}");
                return Error::NotFound {
                    entity: Entity::ParentRecord,
                };
            }
            _ => {}
        }
    }
    tracing::error!(error = %e, "SQLite failure while {what}");
    Error::storage(format!("SQLite failure while {what}"), e)
}

fn corrupt(idx: usize, ty: Type, msg: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, ty, msg.into().into())
}

// ----- scalar values -----------------------------------------------------------------

/// A time as stored: microseconds since the Unix epoch (the core keeps microseconds).
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored time.
pub(crate) fn time(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let us: i64 = row.get(idx)?;
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| corrupt(idx, Type::Integer, "time out of range"))
}

/// A stored optional time.
pub(crate) fn opt_time(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match row.get::<_, Option<i64>>(idx)? {
        None => Ok(None),
        Some(us) => DateTime::from_timestamp_micros(us)
            .map(Some)
            .ok_or_else(|| corrupt(idx, Type::Integer, "time out of range")),
    }
}

/// A stored count (non-negative INTEGER).
pub(crate) fn count(row: &Row<'_>, idx: usize) -> rusqlite::Result<u32> {
    let n: i64 = row.get(idx)?;
    u32::try_from(n).map_err(|_| corrupt(idx, Type::Integer, "count out of range"))
}

fn id(row: &Row<'_>, idx: usize) -> rusqlite::Result<[u8; 16]> {
    row.get(idx)
}

/// A stored tenant id.
pub(crate) fn tenant_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<TenantId> {
    id(row, idx).map(TenantId::from_bytes)
}
/// A stored portal id.
pub(crate) fn portal_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<PortalId> {
    id(row, idx).map(PortalId::from_bytes)
}
/// A stored contact id.
pub(crate) fn contact_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<ContactId> {
    id(row, idx).map(ContactId::from_bytes)
}
/// A stored phase id.
pub(crate) fn phase_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<PhaseId> {
    id(row, idx).map(PhaseId::from_bytes)
}
/// A stored task id.
pub(crate) fn task_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<TaskId> {
    id(row, idx).map(TaskId::from_bytes)
}

/// A stored template id.
pub(crate) fn template_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<TemplateId> {
    id(row, idx).map(TemplateId::from_bytes)
}

/// A stored version (a positive INTEGER).
pub(crate) fn stored_version(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    version(row, idx)
}

/// A stored size in bytes (non-negative INTEGER).
pub(crate) fn byte_size(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let n: i64 = row.get(idx)?;
    u64::try_from(n).map_err(|_| corrupt(idx, Type::Integer, "size out of range"))
}

/// A size in bytes as stored: SQLite integers are signed 64-bit.
pub(crate) fn size_value(size: u64) -> Result<i64> {
    i64::try_from(size).map_err(|_| Error::storage_msg("a size too large to store"))
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
pub(crate) fn json<T: DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text).map_err(|e| corrupt(idx, Type::Text, format!("bad JSON: {e}")))
}

/// A stored optional JSON value.
pub(crate) fn opt_json<T: DeserializeOwned>(
    row: &Row<'_>,
    idx: usize,
) -> rusqlite::Result<Option<T>> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| corrupt(idx, Type::Text, format!("bad JSON: {e}"))),
    }
}

/// A stored value parsed from TEXT by `parse`.
pub(crate) fn parsed<T>(
    row: &Row<'_>,
    idx: usize,
    parse: impl FnOnce(&str) -> Result<T>,
) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    parse(&text).map_err(|e| corrupt(idx, Type::Text, e.to_string()))
}

/// A stored email address.
pub(crate) fn email(row: &Row<'_>, idx: usize) -> rusqlite::Result<EmailAddress> {
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
pub(crate) fn zone(row: &Row<'_>, i: usize) -> rusqlite::Result<TimeZone> {
    parsed(row, i, TimeZone::parse)
}

/// Storage form of a due date: `YYYY-MM-DD`.
pub(crate) fn date_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ----- records -------------------------------------------------------------------------

/// Columns read by [`tenant`].
pub(crate) const TENANT_COLS: &str =
    "id, name, branding, notification_recipients, created_at, time_zone, version, base_url, sender";

/// A tenant from [`TENANT_COLS`].
pub(crate) fn tenant(row: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: tenant_id(row, 0)?,
        name: row.get(1)?,
        branding: json::<Branding>(row, 2)?,
        notification_recipients: json::<Vec<EmailAddress>>(row, 3)?,
        created_at: time(row, 4)?,
        time_zone: zone(row, 5)?,
        version: version(row, 6)?,
        base_url: {
            let raw: Option<String> = row.get(7)?;
            raw.map(|u| {
                portal_core::model::TenantBaseUrl::parse(&u)
                    .map_err(|e| corrupt(7, Type::Text, e.to_string()))
            })
            .transpose()?
        },
        sender: opt_json(row, 8)?,
    })
}

/// An erasure-log row: `tenant_id, portal_id, client_name, at, by_actor, audit_seq,
/// audit_head`.
pub(crate) fn erasure(row: &Row<'_>) -> rusqlite::Result<portal_core::store::Erasure> {
    Ok(portal_core::store::Erasure {
        tenant_id: tenant_id(row, 0)?,
        portal_id: portal_id(row, 1)?,
        client_name: row.get(2)?,
        at: time(row, 3)?,
        by: json(row, 4)?,
        audit_head: {
            let seq: Option<i64> = row.get(5)?;
            let hash: Option<Vec<u8>> = row.get(6)?;
            match (seq.and_then(|s| u64::try_from(s).ok()), hash) {
                (Some(seq), Some(hash)) => Some(portal_core::audit::ChainHead {
                    seq,
                    hash: hash.try_into().map_err(|_| {
                        rusqlite::Error::FromSqlConversionFailure(
                            6,
                            rusqlite::types::Type::Blob,
                            "a stored audit head is not 32 bytes".into(),
                        )
                    })?,
                }),
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
pub(crate) fn portal_at(row: &Row<'_>, base: usize) -> rusqlite::Result<Portal> {
    Ok(Portal {
        id: portal_id(row, base)?,
        tenant_id: tenant_id(row, base + 1)?,
        client_name: row.get(base + 2)?,
        status: parsed(row, base + 3, PortalStatus::parse)?,
        branding: json::<Branding>(row, base + 4)?,
        created_at: time(row, base + 5)?,
        target_date: match row.get::<_, Option<String>>(base + 6)? {
            None => None,
            Some(s) => Some(
                NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map_err(|_| corrupt(base + 6, Type::Text, "bad target date"))?,
            ),
        },
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
pub(crate) fn contact_at(row: &Row<'_>, base: usize) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: contact_id(row, base)?,
        portal_id: portal_id(row, base + 1)?,
        name: row.get(base + 2)?,
        email: email(row, base + 3)?,
        revoked_at: opt_time(row, base + 4)?,
        created_at: time(row, base + 5)?,
        time_zone: zone(row, base + 6)?,
        invited_by: match row.get_ref(base + 7)? {
            rusqlite::types::ValueRef::Null => None,
            _ => Some(contact_id(row, base + 7)?),
        },
        awaiting_approval: row.get(base + 8)?,
        role: row.get(base + 9)?,
        guest: match row.get_ref(base + 10)? {
            rusqlite::types::ValueRef::Null => None,
            _ => Some(json(row, base + 10)?),
        },
        language: match row.get_ref(base + 11)? {
            rusqlite::types::ValueRef::Null => None,
            _ => Some(parsed(row, base + 11, |code| {
                portal_core::i18n::Language::from_code(code).ok_or_else(|| {
                    portal_core::Error::invalid("language", "not a language the portal speaks")
                })
            })?),
        },
    })
}

/// Columns read by [`phase`].
pub(crate) const PHASE_COLS: &str = "id, portal_id, position, name, version";

/// A phase from [`PHASE_COLS`].
pub(crate) fn phase(row: &Row<'_>) -> rusqlite::Result<Phase> {
    Ok(Phase {
        id: phase_id(row, 0)?,
        portal_id: portal_id(row, 1)?,
        position: count(row, 2)?,
        name: row.get(3)?,
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
pub(crate) fn task(row: &Row<'_>) -> rusqlite::Result<Task> {
    let due_date = match row.get::<_, Option<String>>(10)? {
        None => None,
        Some(s) => Some(
            NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map_err(|_| corrupt(10, Type::Text, "bad due date"))?,
        ),
    };
    Ok(Task {
        id: task_id(row, 0)?,
        portal_id: portal_id(row, 1)?,
        phase_id: phase_id(row, 2)?,
        position: count(row, 3)?,
        title: row.get(4)?,
        description: row.get(5)?,
        assignee: parsed(row, 6, Side::parse)?,
        kind: json::<TaskKind>(row, 7)?,
        status: parsed(row, 8, TaskStatus::parse)?,
        blocked_reason: row.get(9)?,
        due_date,
        created_at: time(row, 11)?,
        updated_at: time(row, 12)?,
        evidence: json::<TaskEvidence>(row, 13)?,
        version: version(row, 14)?,
        assigned_to: json(row, 15)?,
        waits_on: json(row, 16)?,
        internal: row.get(17)?,
        for_role: row.get(18)?,
    })
}

/// A record's version (stored as a positive INTEGER).
fn version(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let raw: i64 = row.get(idx)?;
    u64::try_from(raw).map_err(|_| corrupt(idx, Type::Integer, "negative version"))
}

/// A logo from `image_type, bytes`.
pub(crate) fn logo(row: &Row<'_>) -> rusqlite::Result<Logo> {
    Ok(Logo {
        image_type: parsed(row, 0, image_type)?,
        bytes: row.get(1)?,
    })
}

/// Columns read by [`access_entry`].
pub(crate) const ACCESS_COLS: &str = "at, portal_id, contact_id, event, ip, user_agent, path";

/// An access-log entry from [`ACCESS_COLS`].
pub(crate) fn access_entry(row: &Row<'_>) -> rusqlite::Result<AccessLogEntry> {
    let event = parsed(row, 3, |s| {
        AccessEvent::parse(s).ok_or_else(|| Error::storage_msg("unknown access event"))
    })?;
    let ip = match row.get::<_, Option<String>>(4)? {
        None => None,
        Some(s) => Some(
            s.parse::<IpAddr>()
                .map_err(|_| corrupt(4, Type::Text, "bad IP address"))?,
        ),
    };
    Ok(AccessLogEntry {
        at: time(row, 0)?,
        portal_id: portal_id(row, 1)?,
        contact_id: contact_id(row, 2)?,
        event,
        request: RequestInfo {
            ip,
            user_agent: row.get(5)?,
            path: row.get(6)?,
        },
    })
}

/// The two reads of a keyset page of a list ordered by `(at, <number column>)`,
/// newest first or oldest first as the SQL says: `first` reads from the start (`?1`
/// the parent id, `?2` the limit), `after` from a key (`?2`, `?3` its time and
/// number, `?4` the limit).
/// Both select the item's columns, then the number (column `width`).
pub(crate) struct PageQuery {
    pub(crate) first: &'static str,
    pub(crate) after: &'static str,
    pub(crate) width: usize,
}

/// Reads one page with `query` (see [`PageQuery`]): `item` reads an item from a row,
/// `at` its time for the key.
pub(crate) fn newest_page<T>(
    conn: &rusqlite::Connection,
    query: &PageQuery,
    parent: &[u8],
    after: Option<portal_core::store::PageKey>,
    limit: usize,
    item: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
    at: impl Fn(&T) -> DateTime<Utc>,
) -> portal_core::Result<portal_core::store::Page<T>> {
    use portal_core::store::{Page, PageKey};
    if limit == 0 {
        return Ok(Page {
            items: Vec::new(),
            next: None,
        });
    }
    let wanted = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let keyed = |row: &Row<'_>| -> rusqlite::Result<(PageKey, T)> {
        let value = item(row)?;
        let seq: i64 = row.get(query.width)?;
        let seq = u64::try_from(seq)
            .map_err(|_| corrupt(query.width, Type::Integer, "negative number"))?;
        Ok((
            PageKey {
                at: at(&value),
                seq,
            },
            value,
        ))
    };
    let read: Vec<(PageKey, T)> = match after {
        None => conn
            .prepare_cached(query.first)
            .and_then(|mut s| {
                s.query_map(rusqlite::params![parent, wanted], keyed)
                    .and_then(Iterator::collect)
            })
            .db("reading a page")?,
        Some(key) => {
            let seq = i64::try_from(key.seq).unwrap_or(i64::MAX);
            conn.prepare_cached(query.after)
                .and_then(|mut s| {
                    s.query_map(
                        rusqlite::params![parent, micros(key.at), seq, wanted],
                        keyed,
                    )
                    .and_then(Iterator::collect)
                })
                .db("reading a page")?
        }
    };
    Ok(Page::from_read(read, limit))
}
