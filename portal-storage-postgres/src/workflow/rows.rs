//! Rows of the workflow tables (comments, questions, the activity feed): how records
//! are encoded for storage and decoded from query results (as on SQLite).

use postgres::Row;
use serde_json::Value;

use portal_core::workflow::{ActivityEntry, ActivityKind, ClientQuestion, Comment};
use portal_core::{Error, PortalId, QuestionId, Result, TaskId};

use crate::codec::{self, DbResult, get, json, micros, opt_json, parsed, portal_id, task_id, time};
use crate::tx::{Tx, lock_tenant_feed};

// ----- the activity feed ----------------------------------------------------------------

/// An activity entry, encoded for its row.
pub(crate) struct ActivityRow {
    portal_id: [u8; 16],
    at: i64,
    actor: String,
    kind: String,
    task_id: Option<[u8; 16]>,
    subject: String,
    detail: Option<String>,
}

impl ActivityRow {
    /// Encodes an entry.
    pub(crate) fn new(entry: &ActivityEntry) -> Result<Self> {
        Ok(Self {
            portal_id: *entry.portal_id.as_bytes(),
            at: micros(entry.at),
            actor: codec::to_json(&entry.actor)?,
            kind: kind_name(entry.kind)?,
            task_id: entry.task_id.map(|t| *t.as_bytes()),
            subject: entry.subject.clone(),
            detail: entry.detail.clone(),
        })
    }

    /// Appends the entry to the feed. Its number comes from `activity_seq` while the
    /// portal's tenant's feed lock is held, so a tenant's numbers follow commit order
    /// (webhook dispatchers tail a tenant's feed by number; see `counters` in the
    /// schema). A portal that does not exist takes no lock, and the insert then fails
    /// on its foreign key (`NotFound(ParentRecord)`).
    pub(crate) fn insert(&self, tx: &mut Tx<'_>) -> Result<()> {
        let tenant = tx
            .query_opt(
                "SELECT tenant_id FROM portals WHERE id = $1",
                &[&&self.portal_id[..]],
            )
            .db("reading an activity entry's tenant")?;
        if let Some(row) = tenant {
            let tenant: Vec<u8> = get(&row, 0)?;
            lock_tenant_feed(tx, &tenant)?;
        }
        let seq: i64 = get(
            &tx.query_one("SELECT nextval('activity_seq')", &[])
                .db("numbering an activity entry")?,
            0,
        )?;
        tx.execute(
            "INSERT INTO activity (seq, portal_id, at, actor, kind, task_id, subject, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &seq,
                &&self.portal_id[..],
                &self.at,
                &self.actor,
                &self.kind,
                &self.task_id.as_ref().map(|t| &t[..]),
                &self.subject,
                &self.detail,
            ],
        )
        .db("appending an activity entry")?;
        Ok(())
    }
}

/// The activity entry a setup or access change may carry (see the `# Contract` of
/// `DirectoryStore` on setup entries), encoded before the unit runs.
pub(crate) struct Recorded(Option<(PortalId, ActivityRow)>);

impl Recorded {
    /// Encodes the entry, if any.
    pub(crate) fn new(entry: Option<&ActivityEntry>) -> Result<Self> {
        Ok(Self(match entry {
            Some(e) => Some((e.portal_id, ActivityRow::new(e)?)),
            None => None,
        }))
    }

    /// The portal whose feed the entry lands in.
    pub(crate) fn portal(&self) -> Option<PortalId> {
        self.0.as_ref().map(|(p, _)| *p)
    }

    /// Appends the entry inside the change's unit; an entry of another portal than the
    /// change's is `Invalid` (the caller's unit then writes nothing).
    pub(crate) fn insert(&self, tx: &mut Tx<'_>, portal: PortalId) -> Result<()> {
        match &self.0 {
            None => Ok(()),
            Some((p, _)) if *p != portal => Err(Error::invalid(
                "activity",
                "must belong to the portal of the change it records",
            )),
            Some((_, row)) => row.insert(tx),
        }
    }
}

/// The kind's storage name: its serde name (`task_completed`, ...).
fn kind_name(kind: ActivityKind) -> Result<String> {
    match serde_json::to_value(kind) {
        Ok(Value::String(name)) => Ok(name),
        Ok(_) => Err(Error::storage_msg("an activity kind is not a name")),
        Err(e) => Err(Error::storage("encoding an activity kind", e)),
    }
}

fn parse_kind(name: &str) -> Result<ActivityKind> {
    serde_json::from_value(Value::String(name.to_owned()))
        .map_err(|_| Error::storage_msg("unknown activity kind"))
}

/// Columns read by [`activity`].
pub(crate) const ACTIVITY_COLS: &str = "portal_id, at, actor, kind, task_id, subject, detail";

/// An activity entry from [`ACTIVITY_COLS`].
pub(crate) fn activity(row: &Row) -> Result<ActivityEntry> {
    Ok(ActivityEntry {
        portal_id: portal_id(row, 0)?,
        at: time(row, 1)?,
        actor: json(row, 2)?,
        kind: parsed(row, 3, parse_kind)?,
        task_id: codec::opt_bytes_n::<16>(row, 4)?.map(TaskId::from_bytes),
        subject: get(row, 5)?,
        detail: get(row, 6)?,
    })
}

// ----- comments -------------------------------------------------------------------------

/// Columns read by [`comment`].
pub(crate) const COMMENT_COLS: &str = "portal_id, task_id, author, body, at";

/// A comment from [`COMMENT_COLS`].
pub(crate) fn comment(row: &Row) -> Result<Comment> {
    Ok(Comment {
        portal_id: portal_id(row, 0)?,
        task_id: task_id(row, 1)?,
        author: json(row, 2)?,
        body: get(row, 3)?,
        at: time(row, 4)?,
    })
}

// ----- questions ------------------------------------------------------------------------

/// Columns read by [`question`].
pub(crate) const QUESTION_COLS: &str =
    "id, portal_id, asked_by, text, asked_at, answer, addressed_to";

/// A question from [`QUESTION_COLS`].
pub(crate) fn question(row: &Row) -> Result<ClientQuestion> {
    Ok(ClientQuestion {
        id: QuestionId::from_bytes(codec::bytes_n::<16>(row, 0)?),
        portal_id: portal_id(row, 1)?,
        asked_by: json(row, 2)?,
        text: get(row, 3)?,
        asked_at: time(row, 4)?,
        answer: opt_json(row, 5)?,
        to: opt_json(row, 6)?,
    })
}
