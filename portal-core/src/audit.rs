//! The audit trail: a per-portal, append-only hash chain of evidence events.
//!
//! Every evidence event (a document uploaded or reviewed, credentials submitted,
//! revealed or purged, files dropped, deleted, downloaded or expired, and signatures
//! submitted) becomes an [`AuditEntry`], which the store appends to its portal's
//! chain in the same unit as the action it records. Appending is [`seal`]: the next gap-free sequence number,
//! the previous event's hash as the link, and
//! `hash = SHA-256(prev_hash || canonical bytes)`. Stores call [`seal`] with the head
//! they loaded inside their unit and write what it answers, so every adapter chains
//! the same way; [`verify_chain`] walks a chain as stored and names the first event
//! whose number, link or hash does not hold.
//!
//! The canonical bytes ([`canonical_bytes`]) are a length-prefixed layout documented in
//! `docs/audit.md`, so an export ([`export_jsonl`]) can be checked by a short
//! independent program (`tests/audit/verify_chain.py`) that knows nothing of Rust.
//!
//! What the chain proves: nobody edited, removed, inserted or reordered an event
//! without also rewriting every later hash. Someone who can rewrite the whole store
//! can rewrite the whole chain; keep an exported head hash elsewhere (an email, a
//! ticket) to pin it (see `docs/audit.md`).

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::ids::{FileId, PortalId, TaskId, TenantId};
use crate::workflow::Actor;

/// The version tag at the start of every event's canonical bytes.
pub const FORMAT: &str = "portal-audit-v1";

/// The link of a portal's first event: 32 zero bytes.
pub const GENESIS: [u8; 32] = [0; 32];

/// What happened, typed. Stored (and hashed) as its [`kind`](Self::kind) and its
/// [`fields`](Self::fields), so a reader of an older build still verifies chains that
/// hold kinds it does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditEvent {
    /// The client (or staff) uploaded a version of a requested document.
    DocumentUploaded {
        /// The document upload task.
        task: TaskId,
        /// The new file record.
        file: FileId,
        /// The requested document's id within the task.
        document: String,
        /// The version number.
        version: u32,
        /// The cleaned file name.
        name: String,
        /// Plaintext size in bytes.
        size: u64,
        /// SHA-256 of the plaintext.
        sha256: [u8; 32],
    },
    /// Staff approved or rejected an uploaded file.
    DocumentReviewed {
        /// The task.
        task: TaskId,
        /// The file reviewed.
        file: FileId,
        /// Approved (`true`) or rejected.
        approved: bool,
        /// The reviewer's notes.
        notes: Option<String>,
    },
    /// The client submitted credentials (the names of the fields filled, never values).
    CredentialsSubmitted {
        /// The credential handoff task.
        task: TaskId,
        /// Which fields were filled.
        fields: Vec<String>,
    },
    /// Staff revealed submitted credentials.
    CredentialsRevealed {
        /// The task.
        task: TaskId,
        /// Why, as the staff member stated it.
        reason: String,
        /// Which fields were revealed.
        fields: Vec<String>,
    },
    /// Staff purged submitted credentials (the ciphertext is gone).
    CredentialsPurged {
        /// The task.
        task: TaskId,
    },
    /// A signature task was signed.
    SignatureSubmitted {
        /// The signature task.
        task: TaskId,
        /// The hash over the whole canonical signature record.
        record_sha256: [u8; 32],
    },
    /// Staff attached (or replaced, before signing) the document of a signature task.
    SignatureDocumentAttached {
        /// The signature task.
        task: TaskId,
        /// The cleaned file name.
        name: String,
        /// Plaintext size in bytes.
        size: u64,
        /// SHA-256 of the plaintext: what a signature of it will record.
        sha256: [u8; 32],
    },
    /// The client dropped a file on a secure file drop task.
    FileDropped {
        /// The task.
        task: TaskId,
        /// The file record.
        file: FileId,
        /// Plaintext size in bytes.
        size: u64,
        /// SHA-256 of the plaintext.
        sha256: [u8; 32],
    },
    /// Staff downloaded a dropped file (every download; the first marks it downloaded).
    FileDownloaded {
        /// The task.
        task: TaskId,
        /// The file.
        file: FileId,
    },
    /// The client deleted a dropped file (before any download).
    FileDeleted {
        /// The task.
        task: TaskId,
        /// The file.
        file: FileId,
    },
    /// The sweeper marked a dropped file expired (its bytes are removed next).
    FileExpired {
        /// The task.
        task: TaskId,
        /// The file.
        file: FileId,
    },
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn field(name: &str, value: impl ToString) -> (String, String) {
    (name.to_owned(), value.to_string())
}

impl AuditEvent {
    /// The stored name of the kind (fixed: it is hashed).
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::DocumentUploaded { .. } => "document_uploaded",
            Self::DocumentReviewed { .. } => "document_reviewed",
            Self::CredentialsSubmitted { .. } => "credentials_submitted",
            Self::CredentialsRevealed { .. } => "credentials_revealed",
            Self::CredentialsPurged { .. } => "credentials_purged",
            Self::SignatureSubmitted { .. } => "signature_submitted",
            Self::SignatureDocumentAttached { .. } => "signature_document_attached",
            Self::FileDropped { .. } => "file_dropped",
            Self::FileDownloaded { .. } => "file_downloaded",
            Self::FileDeleted { .. } => "file_deleted",
            Self::FileExpired { .. } => "file_expired",
        }
    }

    /// The event's details as ordered `(name, value)` text pairs: what is stored and
    /// hashed. Ids are lower-case hyphenated UUIDs, hashes lower-case hex, lists
    /// comma-separated; an absent optional value is left out.
    pub fn fields(&self) -> Vec<(String, String)> {
        match self {
            Self::DocumentUploaded {
                task,
                file,
                document,
                version,
                name,
                size,
                sha256,
            } => vec![
                field("task", task),
                field("file", file),
                field("document", document),
                field("version", version),
                field("name", name),
                field("size", size),
                field("sha256", hex(sha256)),
            ],
            Self::DocumentReviewed {
                task,
                file,
                approved,
                notes,
            } => {
                let mut f = vec![
                    field("task", task),
                    field("file", file),
                    field("decision", if *approved { "approved" } else { "rejected" }),
                ];
                if let Some(n) = notes {
                    f.push(field("notes", n));
                }
                f
            }
            Self::CredentialsSubmitted { task, fields } => {
                vec![field("task", task), field("fields", fields.join(","))]
            }
            Self::CredentialsRevealed {
                task,
                reason,
                fields,
            } => vec![
                field("task", task),
                field("reason", reason),
                field("fields", fields.join(",")),
            ],
            Self::CredentialsPurged { task } => vec![field("task", task)],
            Self::SignatureSubmitted {
                task,
                record_sha256,
            } => vec![
                field("task", task),
                field("record_sha256", hex(record_sha256)),
            ],
            Self::SignatureDocumentAttached {
                task,
                name,
                size,
                sha256,
            } => vec![
                field("task", task),
                field("name", name),
                field("size", size),
                field("sha256", hex(sha256)),
            ],
            Self::FileDropped {
                task,
                file,
                size,
                sha256,
            } => vec![
                field("task", task),
                field("file", file),
                field("size", size),
                field("sha256", hex(sha256)),
            ],
            Self::FileDownloaded { task, file }
            | Self::FileDeleted { task, file }
            | Self::FileExpired { task, file } => {
                vec![field("task", task), field("file", file)]
            }
        }
    }
}

/// One event to append: who did what, when, in which portal. The stored, hashed form
/// of an [`AuditEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The MSP.
    pub tenant_id: TenantId,
    /// The portal whose chain it joins.
    pub portal_id: PortalId,
    /// When (UTC, whole microseconds: what every store keeps).
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// [`AuditEvent::kind`].
    pub kind: String,
    /// [`AuditEvent::fields`].
    pub fields: Vec<(String, String)>,
}

impl AuditEntry {
    /// The entry recording `event`; `at` is cut to whole microseconds so that what a
    /// store reads back hashes exactly as what it was given.
    pub fn new(
        tenant_id: TenantId,
        portal_id: PortalId,
        at: DateTime<Utc>,
        actor: Actor,
        event: &AuditEvent,
    ) -> Self {
        Self {
            tenant_id,
            portal_id,
            at: at.trunc_subsecs(6),
            actor,
            kind: event.kind().to_owned(),
            fields: event.fields(),
        }
    }

    /// The value of one field, if present.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One event in a chain, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEvent {
    /// Its number in the portal's chain: 1, 2, 3, ... without gaps.
    pub seq: u64,
    /// What it records.
    pub entry: AuditEntry,
    /// The previous event's hash ([`GENESIS`] for the first).
    pub prev_hash: [u8; 32],
    /// `SHA-256(prev_hash || canonical_bytes(seq, entry))`.
    pub hash: [u8; 32],
}

impl ChainedEvent {
    /// This event as the head the next one links to.
    pub const fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            hash: self.hash,
        }
    }
}

/// Where a chain ends: its last number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The last event's number.
    pub seq: u64,
    /// The last event's hash.
    pub hash: [u8; 32],
}

fn item(out: &mut Vec<u8>, bytes: &[u8]) {
    // Lengths above 4 GiB cannot occur (entries are built from bounded text); saturate
    // rather than wrap so a hypothetical one could never collide with a short one.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The canonical time text: RFC 3339, UTC, six fractional digits, `Z`.
pub fn canonical_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The bytes an event's hash covers (layout in `docs/audit.md`): every item is a
/// 4-byte big-endian length and its UTF-8 bytes, in this order: [`FORMAT`], the
/// decimal `seq`, tenant id, portal id, [`canonical_time`], the actor's side,
/// contact id, name and email (empty when absent), the kind, the number of fields
/// (4-byte big-endian), then each field's name and value.
pub fn canonical_bytes(seq: u64, entry: &AuditEntry) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    item(&mut out, FORMAT.as_bytes());
    item(&mut out, seq.to_string().as_bytes());
    item(&mut out, entry.tenant_id.to_string().as_bytes());
    item(&mut out, entry.portal_id.to_string().as_bytes());
    item(&mut out, canonical_time(entry.at).as_bytes());
    let (side, contact, name, email) = actor_items(&entry.actor);
    for part in [side.as_str(), &contact, &name, &email] {
        item(&mut out, part.as_bytes());
    }
    item(&mut out, entry.kind.as_bytes());
    let n = u32::try_from(entry.fields.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&n.to_be_bytes());
    for (name, value) in &entry.fields {
        item(&mut out, name.as_bytes());
        item(&mut out, value.as_bytes());
    }
    out
}

fn actor_items(actor: &Actor) -> (String, String, String, String) {
    match actor {
        Actor::Client {
            contact_id,
            name,
            email,
        } => (
            "client".to_owned(),
            contact_id.to_string(),
            name.clone(),
            email.to_string(),
        ),
        Actor::Staff { name, email } => (
            "staff".to_owned(),
            String::new(),
            name.clone(),
            email.as_ref().map(ToString::to_string).unwrap_or_default(),
        ),
    }
}

/// `SHA-256(prev_hash || canonical_bytes(seq, entry))`.
pub fn event_hash(prev_hash: &[u8; 32], seq: u64, entry: &AuditEntry) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev_hash);
    h.update(canonical_bytes(seq, entry));
    h.finalize().into()
}

/// The rule of appending: the event that follows `head` (`None`: an empty chain).
/// Stores call it inside their unit with the head they loaded and write its answer.
pub fn seal(head: Option<ChainHead>, entry: &AuditEntry) -> ChainedEvent {
    let (seq, prev_hash) = head.map_or((1, GENESIS), |h| (h.seq.saturating_add(1), h.hash));
    ChainedEvent {
        seq,
        hash: event_hash(&prev_hash, seq, entry),
        entry: entry.clone(),
        prev_hash,
    }
}

/// Checks that `entry` may join `portal`'s chain of `tenant`: stores call it before
/// appending, with the portal as stored (`Invalid("audit")` otherwise).
pub fn ensure_portal(entry: &AuditEntry, portal: PortalId, tenant: TenantId) -> Result<()> {
    if entry.portal_id != portal || entry.tenant_id != tenant {
        return Err(Error::invalid(
            "audit",
            "an audit event must belong to the portal and tenant of its chain",
        ));
    }
    Ok(())
}

/// What is wrong with the first bad event of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChainProblem {
    /// Its number is not the one after the previous event's (an event was removed,
    /// inserted or moved).
    Sequence {
        /// The number it should have.
        expected: u64,
    },
    /// Its link is not the previous event's hash.
    Link,
    /// Its hash does not match its content and link (the event was edited).
    Hash,
}

/// The first event of a chain that does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChainFault {
    /// Its position in the chain as read (0-based).
    pub position: usize,
    /// Its number as stored.
    pub seq: u64,
    /// What is wrong.
    pub problem: ChainProblem,
}

/// The outcome of [`verify_chain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// How many events were read.
    pub events: usize,
    /// The last event's number and hash, if any (pin it elsewhere to detect a rewrite
    /// of the whole chain).
    #[serde(skip)]
    pub head: Option<ChainHead>,
    /// The first event that does not hold, or `None` if the whole chain holds.
    pub fault: Option<ChainFault>,
}

impl ChainReport {
    /// Whether every event holds.
    pub const fn intact(&self) -> bool {
        self.fault.is_none()
    }
}

/// Walks `events` (a portal's chain in stored order) and reports the first event
/// whose number is not the next, whose link is not the previous hash, or whose hash
/// does not match its content.
pub fn verify_chain(events: &[ChainedEvent]) -> ChainReport {
    let mut prev: Option<ChainHead> = None;
    for (position, e) in events.iter().enumerate() {
        let expected = prev.map_or(1, |p| p.seq.saturating_add(1));
        let link = prev.map_or(GENESIS, |p| p.hash);
        let problem = if e.seq != expected {
            Some(ChainProblem::Sequence { expected })
        } else if e.prev_hash != link {
            Some(ChainProblem::Link)
        } else if event_hash(&e.prev_hash, e.seq, &e.entry) != e.hash {
            Some(ChainProblem::Hash)
        } else {
            None
        };
        if let Some(problem) = problem {
            return ChainReport {
                events: events.len(),
                head: events.last().map(ChainedEvent::head),
                fault: Some(ChainFault {
                    position,
                    seq: e.seq,
                    problem,
                }),
            };
        }
        prev = Some(e.head());
    }
    ChainReport {
        events: events.len(),
        head: prev,
        fault: None,
    }
}

#[derive(Serialize)]
struct ExportActor<'a> {
    side: String,
    contact: String,
    name: &'a str,
    email: String,
}

#[derive(Serialize)]
struct ExportLine<'a> {
    seq: u64,
    tenant: String,
    portal: String,
    at: String,
    actor: ExportActor<'a>,
    kind: &'a str,
    fields: &'a [(String, String)],
    prev_hash: String,
    hash: String,
}

/// A chain as JSON Lines: one object per event, in order, with every item of its
/// canonical bytes and its link and hash in hex (format in `docs/audit.md`), so
/// `tests/audit/verify_chain.py` can recompute every hash on its own.
pub fn export_jsonl(events: &[ChainedEvent]) -> Result<String> {
    let mut out = String::new();
    for e in events {
        let (side, contact, _, email) = actor_items(&e.entry.actor);
        let line = ExportLine {
            seq: e.seq,
            tenant: e.entry.tenant_id.to_string(),
            portal: e.entry.portal_id.to_string(),
            at: canonical_time(e.entry.at),
            actor: ExportActor {
                side,
                contact,
                name: e.entry.actor.name(),
                email,
            },
            kind: &e.entry.kind,
            fields: &e.entry.fields,
            prev_hash: hex(&e.prev_hash),
            hash: hex(&e.hash),
        };
        let text = serde_json::to_string(&line)
            .map_err(|err| Error::storage("encoding an audit export line", err))?;
        out.push_str(&text);
        out.push('\n');
    }
    Ok(out)
}

/// Lower-case hex of a hash, for pages and logs.
pub fn hash_hex(hash: &[u8; 32]) -> String {
    hex(hash)
}

#[cfg(test)]
mod tests;
