//! The schema, as an ordered list of embedded migrations, and the code that applies them.
//!
//! `PRAGMA user_version` holds how many migrations a database has had. Opening applies
//! the missing ones in order, each in its own `BEGIN IMMEDIATE` transaction together
//! with the version bump, so a crash leaves the database at a clean version. A database
//! whose version is newer than this build knows is refused, never downgraded.
//!
//! Conventions of the schema: ids are 16-byte BLOBs, token and code hashes 32-byte
//! BLOBs (raw tokens and codes never reach the store), times INTEGER microseconds since
//! the Unix epoch (UTC), structured values (task kind, branding, recipients, actors,
//! scan verdicts, reviews) JSON TEXT.
//! Migrations are append-only: never edit one that has shipped, add a new one.

use rusqlite::{Connection, TransactionBehavior};

use portal_core::{Error, Result};

use crate::codec::DbResult;

/// Migration 1: the initial schema.
const V1: &str = r#"
CREATE TABLE tenants (
    id                      BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name                    TEXT    NOT NULL,
    branding                TEXT    NOT NULL,
    notification_recipients TEXT    NOT NULL,
    created_at              INTEGER NOT NULL
);
CREATE INDEX tenants_by_age ON tenants (created_at);

CREATE TABLE portals (
    id          BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id   BLOB    NOT NULL REFERENCES tenants (id),
    client_name TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    branding    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX portals_by_tenant ON portals (tenant_id, created_at);

CREATE TABLE contacts (
    id         BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    portal_id  BLOB    NOT NULL REFERENCES portals (id),
    name       TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (portal_id, email)
);
CREATE INDEX contacts_by_portal ON contacts (portal_id, created_at);

-- Clustered by portal: a portal's phases are one contiguous range, in display order.
CREATE TABLE phases (
    portal_id BLOB    NOT NULL REFERENCES portals (id),
    position  INTEGER NOT NULL,
    id        BLOB    NOT NULL UNIQUE CHECK (length(id) = 16),
    name      TEXT    NOT NULL,
    PRIMARY KEY (portal_id, position)
) WITHOUT ROWID;

-- Clustered by portal, then phase, then position: the portal home reads one range per phase.
CREATE TABLE tasks (
    portal_id      BLOB    NOT NULL REFERENCES portals (id),
    phase_id       BLOB    NOT NULL REFERENCES phases (id),
    position       INTEGER NOT NULL,
    id             BLOB    NOT NULL UNIQUE CHECK (length(id) = 16),
    title          TEXT    NOT NULL,
    description    TEXT    NOT NULL,
    assignee       TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    blocked_reason TEXT,
    due_date       TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (portal_id, phase_id, position)
) WITHOUT ROWID;

-- Content-addressed by lower-case hex SHA-256.
CREATE TABLE logos (
    sha256     TEXT NOT NULL PRIMARY KEY CHECK (length(sha256) = 64),
    image_type TEXT NOT NULL,
    bytes      BLOB NOT NULL
);

-- One invite per contact; re-issue replaces the hash, so the old one is gone.
CREATE TABLE invites (
    contact_id BLOB    NOT NULL PRIMARY KEY REFERENCES contacts (id),
    token_hash BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    issued_at  INTEGER NOT NULL,
    revoked_at INTEGER
) WITHOUT ROWID;

-- A verification holds at most one live code (code_hash, magic_hash, code_expires_at
-- all set; all NULL once redeemed or withdrawn; a killed code keeps only magic_hash).
CREATE TABLE verifications (
    token_hash      BLOB    NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    contact_id      BLOB    NOT NULL REFERENCES contacts (id),
    started_at      INTEGER NOT NULL,
    codes_issued    INTEGER NOT NULL,
    completed_at    INTEGER,
    code_hash       BLOB    CHECK (code_hash IS NULL OR length(code_hash) = 32),
    magic_hash      BLOB    UNIQUE CHECK (magic_hash IS NULL OR length(magic_hash) = 32),
    code_expires_at INTEGER,
    wrong_attempts  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX verifications_by_contact ON verifications (contact_id, started_at);

-- Sessions are kept after revocation or sign-out, flagged, so the answer stays precise.
CREATE TABLE sessions (
    token_hash   BLOB    NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    contact_id   BLOB    NOT NULL REFERENCES contacts (id),
    created_at   INTEGER NOT NULL,
    refreshed_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    ended_at     INTEGER
) WITHOUT ROWID;
CREATE INDEX sessions_by_contact ON sessions (contact_id);

-- Append-only; `id` orders entries that share a timestamp.
CREATE TABLE access_log (
    id         INTEGER PRIMARY KEY,
    portal_id  BLOB    NOT NULL REFERENCES portals (id),
    contact_id BLOB    NOT NULL REFERENCES contacts (id),
    at         INTEGER NOT NULL,
    event      TEXT    NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    path       TEXT
);
CREATE INDEX access_log_by_portal ON access_log (portal_id, at);
"#;

/// Migration 2: the task workflow. Evidence on tasks (JSON of `TaskEvidence`; existing
/// tasks get none), task comments, client questions and the activity feed.
///
/// Each of the new tables has a `seq` that grows with every insert, so records that
/// share a timestamp keep their insertion order. Actors (who wrote, asked, answered,
/// acted) are JSON TEXT like the other structured values.
const V2: &str = r#"
ALTER TABLE tasks ADD COLUMN evidence TEXT NOT NULL DEFAULT '{}';

-- Clustered by task: a task's thread is one contiguous range, in insertion order
-- (`seq` numbers the comments of a task from 0).
CREATE TABLE comments (
    portal_id BLOB    NOT NULL REFERENCES portals (id),
    task_id   BLOB    NOT NULL REFERENCES tasks (id),
    seq       INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    author    TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    PRIMARY KEY (portal_id, task_id, seq)
) WITHOUT ROWID;

-- Clustered by portal (`seq` numbers the questions of a portal from 0). `answer` is the
-- JSON of the MSP's answer, NULL until answered.
CREATE TABLE questions (
    portal_id BLOB    NOT NULL REFERENCES portals (id),
    seq       INTEGER NOT NULL,
    id        BLOB    NOT NULL UNIQUE CHECK (length(id) = 16),
    asked_at  INTEGER NOT NULL,
    asked_by  TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    answer    TEXT,
    PRIMARY KEY (portal_id, seq)
) WITHOUT ROWID;
CREATE INDEX questions_by_age ON questions (portal_id, asked_at);

-- Append-only; `seq` (the rowid) orders entries that share a timestamp. `task_id` has
-- no foreign key: the feed is history and outlives what it mentions.
CREATE TABLE activity (
    seq       INTEGER PRIMARY KEY,
    portal_id BLOB    NOT NULL REFERENCES portals (id),
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    task_id   BLOB    CHECK (task_id IS NULL OR length(task_id) = 16),
    subject   TEXT    NOT NULL,
    detail    TEXT
);
CREATE INDEX activity_by_portal ON activity (portal_id, at);
"#;

/// Migration 3: verifications die with their invite and have a lifetime of their own;
/// every verification email and every wrong code is counted per contact.
///
/// Existing verifications get the default lifetime (150 minutes from their start), and
/// those that the new rules would have ended already (their contact revoked, their
/// invite revoked or re-issued since they started) are ended now, so none of them can
/// be revived by a re-invite. The email count starts from the verifications' first
/// codes (resends were not recorded before).
const V3: &str = r#"
ALTER TABLE verifications ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
UPDATE verifications SET expires_at = started_at + 9000000000;
ALTER TABLE verifications ADD COLUMN ended_at INTEGER;
UPDATE verifications
   SET ended_at = started_at, code_hash = NULL, code_expires_at = NULL
 WHERE completed_at IS NULL
   AND (contact_id IN (SELECT id FROM contacts WHERE revoked_at IS NOT NULL)
        OR EXISTS (SELECT 1 FROM invites i
                    WHERE i.contact_id = verifications.contact_id
                      AND (i.revoked_at IS NOT NULL OR i.issued_at > verifications.started_at)));

-- One row per verification email sent (a first code or a resend); a withdrawn,
-- undelivered email's row is deleted by its magic link.
CREATE TABLE verification_emails (
    id         INTEGER PRIMARY KEY,
    contact_id BLOB    NOT NULL REFERENCES contacts (id),
    sent_at    INTEGER NOT NULL,
    magic_hash BLOB    CHECK (magic_hash IS NULL OR length(magic_hash) = 32)
);
CREATE INDEX verification_emails_by_contact ON verification_emails (contact_id, sent_at);
INSERT INTO verification_emails (contact_id, sent_at, magic_hash)
     SELECT contact_id, started_at, NULL FROM verifications;

-- Each contact's wrong codes across its verifications (`rules::CodeGuard`); a contact
-- without a row has none.
CREATE TABLE code_guards (
    contact_id   BLOB    NOT NULL PRIMARY KEY REFERENCES contacts (id),
    wrong_codes  INTEGER NOT NULL,
    window_start INTEGER,
    locked_until INTEGER,
    lockouts     INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// Migration 4: the access log's retention prune reads the oldest entries of every
/// portal (`at < cutoff ORDER BY at, id LIMIT n`), which the per-portal index cannot
/// serve: an index on the time alone.
const V4: &str = r#"
CREATE INDEX access_log_by_age ON access_log (at, id);
"#;

/// Migration 5: uploaded files of document upload tasks (`DocumentStore`). One row per
/// version of a requested document; the bytes are in the blob store, encrypted, so a
/// row keeps only what describes them: the plaintext's size and SHA-256, the blob's
/// id and the data key *wrapped* by the keyring (`key_id` names the wrapping key).
///
/// - `file_type` is the type's serde name and `scan`, `review` and `uploaded_by` are
///   JSON, so new file types and verdicts need no migration. `review_state` repeats
///   the review's state for the indexes; the CHECK keeps the two from disagreeing.
/// - `seq` numbers the files of the whole database in commit order (`MAX(seq) + 1`,
///   taken by the single writer), so equal upload times list in commit order in a
///   portal and in a tenant's review queue alike.
/// - `tenant_id` has no foreign key: the store keeps the tenant the upload's decision
///   names, as the reference store does. `task_id` points at the task's unique id.
/// - `WITHOUT ROWID`: the id is the key, so the table is one b-tree by id (a rowid
///   table would need a second one to find a file by its id).
/// - Indexes: a portal's files and a tenant's review queue in listing order (the
///   queue's index holds only pending files), and the files of each wrapping key by
///   id for rotation.
const V5: &str = r#"
CREATE TABLE document_files (
    id           BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id    BLOB    NOT NULL CHECK (length(tenant_id) = 16),
    portal_id    BLOB    NOT NULL REFERENCES portals (id),
    task_id      BLOB    NOT NULL REFERENCES tasks (id),
    document_id  TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    name         TEXT    NOT NULL,
    file_type    TEXT    NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    sha256       BLOB    NOT NULL CHECK (length(sha256) = 32),
    blob_id      BLOB    NOT NULL UNIQUE CHECK (length(blob_id) = 16),
    key_id       TEXT    NOT NULL,
    wrapped_key  BLOB    NOT NULL,
    uploaded_by  TEXT    NOT NULL,
    uploaded_at  INTEGER NOT NULL,
    seq          INTEGER NOT NULL UNIQUE,
    scan         TEXT    NOT NULL,
    review_state TEXT    NOT NULL,
    review       TEXT    NOT NULL,
    CHECK (review_state = json_extract(review, '$.state')),
    UNIQUE (task_id, document_id, version)
) WITHOUT ROWID;

-- The Documents tab: a portal's files, oldest first, ties in commit order.
CREATE INDEX document_files_by_portal ON document_files (portal_id, uploaded_at, seq);

-- The review queue: only pending files are in it, so the index holds only those.
CREATE INDEX document_files_review_queue ON document_files (tenant_id, uploaded_at, seq)
    WHERE review_state = 'pending';

-- Key rotation: the files wrapped by each key, by id.
CREATE INDEX document_files_by_key ON document_files (key_id, id);
"#;

/// Migration 6: the email outbox (`OutboxStore`). One row per email, queued in the same
/// transaction as the action that causes it; a sender claims due rows under a lease.
///
/// - `seq` is the rowid: queue order, the tie-breaker of the listings. A rowid table
///   rather than `WITHOUT ROWID`, because rows carry whole email bodies (SQLite
///   advises rowid tables for large rows), and the id has its own unique index.
/// - `state` is `pending`, `sent` or `failed`; `claim` and `lease_until` are set
///   together (the CHECK), by a claim, and cleared by a retry. Bodies are emptied when
///   an email leaves the queue: codes and links are kept only while they wait.
/// - `tenant_id` and `portal_id` have no foreign keys: an email outlives nothing, and
///   the reference store checks no parent either.
/// - Indexes, each partial so it holds only the rows its query reads: due emails by
///   due time (claims), a tenant's failed emails by failure time (the MSP's list), and
///   sent emails by send time (the prune).
const V6: &str = r#"
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY,
    id              BLOB    NOT NULL UNIQUE CHECK (length(id) = 16),
    tenant_id       BLOB    NOT NULL CHECK (length(tenant_id) = 16),
    portal_id       BLOB    CHECK (portal_id IS NULL OR length(portal_id) = 16),
    kind            TEXT    NOT NULL,
    to_address      TEXT    NOT NULL,
    to_name         TEXT,
    subject         TEXT    NOT NULL,
    body_text       TEXT    NOT NULL,
    body_html       TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    not_after       INTEGER,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    claim           BLOB    CHECK (claim IS NULL OR length(claim) = 16),
    lease_until     INTEGER,
    last_error      TEXT,
    finished_at     INTEGER,
    CHECK ((claim IS NULL) = (lease_until IS NULL))
);

-- Claims: pending emails by due time, queue order within a time.
CREATE INDEX outbox_due ON outbox (next_attempt_at, seq) WHERE state = 'pending';

-- The MSP's list of failed emails, newest failure first.
CREATE INDEX outbox_failed ON outbox (tenant_id, finished_at, seq) WHERE state = 'failed';

-- The prune of sent emails, oldest first.
CREATE INDEX outbox_sent ON outbox (finished_at, seq) WHERE state = 'sent';
"#;

/// Migration 7: time zones and reminders.
///
/// - Tenants and contacts get an IANA time zone name; rows written before it read UTC
///   (what every time was shown in until then).
/// - Outbox emails get their `List-Unsubscribe` URL (reminders only).
/// - `reminder_settings`: a portal's reminder ladder (JSON), only for portals whose MSP
///   changed the defaults.
/// - `reminder_contacts`: per contact, whether reminders are off (unsubscribed) and the
///   local date of the newest reminder digest.
/// - `reminder_digests`: one row per contact and local date: the primary key is what
///   makes "at most one reminder email per contact per day" hold across processes.
/// - `reminder_steps`: per contact and task, the newest ladder step already sent.
/// - `reminder_snoozes`: per contact and task, until when its reminders are held.
/// - `escalations`: per portal, when the MSP was last told the client went quiet.
///   All clustered by portal or contact (`WITHOUT ROWID`): the pass reads a portal's
///   rows as one range.
const V7: &str = r#"
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE contacts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- A reminder's one-click unsubscribe link (RFC 8058), erased with the bodies.
ALTER TABLE outbox ADD COLUMN list_unsubscribe TEXT;

CREATE TABLE reminder_settings (
    portal_id BLOB NOT NULL PRIMARY KEY REFERENCES portals (id),
    settings  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE reminder_contacts (
    contact_id      BLOB NOT NULL PRIMARY KEY REFERENCES contacts (id),
    unsubscribed_at INTEGER
) WITHOUT ROWID;

CREATE TABLE reminder_digests (
    contact_id BLOB    NOT NULL REFERENCES contacts (id),
    local_date TEXT    NOT NULL,
    portal_id  BLOB    NOT NULL,
    sent_at    INTEGER NOT NULL,
    PRIMARY KEY (contact_id, local_date)
) WITHOUT ROWID;

CREATE TABLE reminder_steps (
    contact_id BLOB    NOT NULL REFERENCES contacts (id),
    task_id    BLOB    NOT NULL,
    step       INTEGER NOT NULL CHECK (step >= 0),
    PRIMARY KEY (contact_id, task_id)
) WITHOUT ROWID;

CREATE TABLE reminder_snoozes (
    contact_id BLOB    NOT NULL REFERENCES contacts (id),
    task_id    BLOB    NOT NULL,
    until      INTEGER NOT NULL,
    PRIMARY KEY (contact_id, task_id)
) WITHOUT ROWID;

CREATE TABLE escalations (
    portal_id BLOB    NOT NULL PRIMARY KEY REFERENCES portals (id),
    at        INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// Migration 8: editing the onboarding plan (`PlanStore`).
///
/// - Every task and phase gets a `version`, raised by each change (optimistic
///   concurrency for staff edits); existing rows start at 1.
/// - Tasks get `assigned_to` and `waits_on` (JSON arrays of contact and task ids, empty
///   for existing tasks: everyone, waiting for nothing) and `internal` (0: the client
///   sees it). The ids in them have no foreign keys: the plan's rules keep them
///   inside the portal, and a removed contact or task simply drops out of the lists.
/// - `plan_templates`: a tenant's onboarding plans, the whole plan as one JSON value
///   (phases, tasks, offsets, dependencies by position), listed by name.
const V8: &str = r#"
ALTER TABLE tasks ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE tasks ADD COLUMN assigned_to TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tasks ADD COLUMN waits_on TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tasks ADD COLUMN internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1));
ALTER TABLE phases ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);

CREATE TABLE plan_templates (
    id         BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id  BLOB    NOT NULL REFERENCES tenants (id),
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    plan       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX plan_templates_by_tenant ON plan_templates (tenant_id, name, id);
"#;

/// Migration 9 (issue 12): a portal's target go-live date, `YYYY-MM-DD` like a task's
/// due date, none for every existing portal.
const V9: &str = r#"
ALTER TABLE portals ADD COLUMN target_date TEXT;
"#;

/// Migration 10 (issue 12): the tenant-level erasure log, one row per deleted portal.
/// No foreign key to the portal: the row outlives it, which is its point.
const V10: &str = r#"
CREATE TABLE erasures (
    id          INTEGER PRIMARY KEY,
    tenant_id   BLOB    NOT NULL REFERENCES tenants (id),
    portal_id   BLOB    NOT NULL CHECK (length(portal_id) = 16),
    client_name TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    by_actor    TEXT    NOT NULL
);
CREATE INDEX erasures_by_tenant ON erasures (tenant_id, id);
"#;

/// Migration 11: `Idempotency-Key`s of the admin API's creating requests.
///
/// - One row per (tenant, key), clustered so a reservation is one primary-key lookup.
/// - `fingerprint` is the SHA-256 of the request; `claim` and `lease_until` say who
///   runs it until when; `status`, `headers` (JSON list of pairs) and `body` are set
///   together when it completes (the CHECK). Bodies never hold secrets (the host takes
///   no key on requests whose answer carries one).
/// - `idempotency_by_expiry` serves the prune, oldest first.
const V11: &str = r#"
CREATE TABLE idempotency_keys (
    tenant_id   BLOB    NOT NULL CHECK (length(tenant_id) = 16),
    key         TEXT    NOT NULL,
    fingerprint BLOB    NOT NULL CHECK (length(fingerprint) = 32),
    claim       BLOB    NOT NULL CHECK (length(claim) = 16),
    lease_until INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    status      INTEGER,
    headers     TEXT,
    body        BLOB,
    CHECK ((status IS NULL) = (headers IS NULL) AND (status IS NULL) = (body IS NULL)),
    PRIMARY KEY (tenant_id, key)
) WITHOUT ROWID;

CREATE INDEX idempotency_by_expiry ON idempotency_keys (expires_at);
"#;

/// Migration 12 (issue 8): the audit trail, and the erasure log's link to it.
///
/// - `audit_events` holds each portal's hash chain, clustered by `(portal_id, seq)`:
///   the head is one seek, a chain one range, and the key refuses a duplicate number.
///   `actor` is the actor as JSON, `fields` the event's `[name, value]` pairs as JSON;
///   the hash covers their canonical bytes (docs/audit.md), not this encoding. No
///   foreign key to the portal: `delete_portal` removes the portal row first.
/// - Triggers refuse every `UPDATE` of an event, and a `DELETE` while the event's
///   portal still exists: only a portal's erasure removes its chain.
/// - `erasures` gains the erased chain's length and head hash.
const V12: &str = r#"
CREATE TABLE audit_events (
    portal_id BLOB    NOT NULL CHECK (length(portal_id) = 16),
    seq       INTEGER NOT NULL CHECK (seq >= 1),
    tenant_id BLOB    NOT NULL CHECK (length(tenant_id) = 16),
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    fields    TEXT    NOT NULL,
    prev_hash BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash      BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (portal_id, seq)
) WITHOUT ROWID;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_events_kept_with_portal BEFORE DELETE ON audit_events
WHEN EXISTS (SELECT 1 FROM portals WHERE id = OLD.portal_id)
BEGIN
    SELECT RAISE(ABORT, 'audit events are erased only with their portal');
END;

ALTER TABLE erasures ADD COLUMN audit_seq INTEGER;
ALTER TABLE erasures ADD COLUMN audit_head BLOB CHECK (audit_head IS NULL OR length(audit_head) = 32);
"#;

/// Migration 13 (issue 8): credential handoffs.
///
/// - `credentials`: one row per task that received a submission (who, when, and who
///   purged it), clustered by portal.
/// - `credential_fields`: one row per sealed field: the wrapped data key and
///   `version | nonce | ciphertext + tag`, never a plaintext. A purge deletes these
///   rows (the writer's `secure_delete` overwrites the freed bytes).
const V13: &str = r#"
CREATE TABLE credentials (
    portal_id    BLOB    NOT NULL CHECK (length(portal_id) = 16),
    task_id      BLOB    NOT NULL CHECK (length(task_id) = 16),
    tenant_id    BLOB    NOT NULL CHECK (length(tenant_id) = 16),
    submitted_by TEXT    NOT NULL,
    submitted_at INTEGER NOT NULL,
    purged       TEXT,
    PRIMARY KEY (portal_id, task_id)
) WITHOUT ROWID;

CREATE TABLE credential_fields (
    portal_id   BLOB    NOT NULL,
    task_id     BLOB    NOT NULL,
    position    INTEGER NOT NULL,
    field       TEXT    NOT NULL,
    key_id      TEXT    NOT NULL,
    wrapped_key BLOB    NOT NULL,
    ciphertext  BLOB    NOT NULL,
    PRIMARY KEY (portal_id, task_id, position),
    FOREIGN KEY (portal_id, task_id) REFERENCES credentials (portal_id, task_id)
) WITHOUT ROWID;
"#;

/// Migration 14: files attached to queued emails (a meeting's `.ics`).
///
/// - `outbox.attachments`: JSON list of `{filename, content_type, content}` (content in
///   base64, see `portal_core::mail::Attachment`), `NULL` for none (every row written
///   before it). Erased with the bodies when the email leaves the queue.
const V14: &str = r#"
ALTER TABLE outbox ADD COLUMN attachments TEXT;
"#;

/// Migration 15 (issue 8): signature tasks.
///
/// - `signatures`: one row per signed task: the signer (JSON actor), IP, user agent,
///   time and zone, the document as presented (name, size, SHA-256), the mark (a
///   drawn image's blob and wrapped key, or the typed name), the consent text and
///   every hash, the record hash last. Indexed by (tenant, document hash) for
///   "verify a document". The image's bytes are in the encrypted blob store, never
///   here.
const V15: &str = r#"
CREATE TABLE signatures (
    portal_id       BLOB    NOT NULL CHECK (length(portal_id) = 16),
    task_id         BLOB    NOT NULL CHECK (length(task_id) = 16),
    tenant_id       BLOB    NOT NULL CHECK (length(tenant_id) = 16),
    signer          TEXT    NOT NULL,
    ip              TEXT,
    user_agent      TEXT,
    signed_at       INTEGER NOT NULL,
    time_zone       TEXT    NOT NULL,
    document_name   TEXT,
    document_size   INTEGER,
    document_sha256 BLOB    CHECK (document_sha256 IS NULL OR length(document_sha256) = 32),
    method          TEXT    NOT NULL CHECK (method IN ('drawn', 'typed')),
    image_blob      BLOB    CHECK (image_blob IS NULL OR length(image_blob) = 16),
    image_key_id    TEXT,
    image_key       BLOB,
    image_size      INTEGER,
    typed_name      TEXT,
    mark_sha256     BLOB    NOT NULL CHECK (length(mark_sha256) = 32),
    consent_text    TEXT    NOT NULL,
    consent_sha256  BLOB    NOT NULL CHECK (length(consent_sha256) = 32),
    record_sha256   BLOB    NOT NULL CHECK (length(record_sha256) = 32),
    PRIMARY KEY (portal_id, task_id)
) WITHOUT ROWID;

CREATE INDEX signatures_by_document ON signatures (tenant_id, document_sha256)
    WHERE document_sha256 IS NOT NULL;
CREATE INDEX signatures_by_image ON signatures (image_blob) WHERE image_blob IS NOT NULL;
"#;

/// Migration 16 (issue 8): secure file drops.
///
/// - `dropped_files`: one row per dropped file: its metadata, the blob it is sealed in
///   and the wrapped data key (never a plaintext), when it expires, and its marks
///   (downloaded, deleted, expired as JSON check marks or a time; `bytes_removed` once
///   the sweeper removed the blob). Clustered by id; `seq` orders equal drop times in
///   commit order.
/// - `dropped_files_by_task`: a task's drops, oldest first.
/// - `dropped_files_to_sweep`: only files whose bytes are still stored, by expiry.
const V16: &str = r#"
CREATE TABLE dropped_files (
    id            BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id     BLOB    NOT NULL CHECK (length(tenant_id) = 16),
    portal_id     BLOB    NOT NULL REFERENCES portals (id),
    task_id       BLOB    NOT NULL CHECK (length(task_id) = 16),
    name          TEXT    NOT NULL,
    size          INTEGER NOT NULL CHECK (size >= 0),
    sha256        BLOB    NOT NULL CHECK (length(sha256) = 32),
    blob_id       BLOB    NOT NULL UNIQUE CHECK (length(blob_id) = 16),
    key_id        TEXT    NOT NULL,
    wrapped_key   BLOB    NOT NULL,
    uploaded_by   TEXT    NOT NULL,
    uploaded_at   INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    seq           INTEGER NOT NULL UNIQUE,
    downloaded    TEXT,
    deleted       TEXT,
    expired_at    INTEGER,
    bytes_removed INTEGER NOT NULL DEFAULT 0 CHECK (bytes_removed IN (0, 1))
) WITHOUT ROWID;

CREATE INDEX dropped_files_by_task ON dropped_files (portal_id, task_id, uploaded_at, seq);

CREATE INDEX dropped_files_to_sweep ON dropped_files (expires_at, id) WHERE bytes_removed = 0;
"#;

/// Migration 17: version counters of tenants and portals, for compare-and-set edits,
/// and the keys that page the activity feed and the access log.
///
/// - `tenants.version`, `portals.version`: 1 for every row (never changed as far as
///   anyone who named a version knows), raised by every change of the settings or
///   portal fields they cover (see `DirectoryStore`'s contract on versions).
/// - `activity_page` (`portal_id, at, seq`) and `access_log_page` (`portal_id, at,
///   id`) replace the `(portal_id, at)` indexes: a page after a key `(at, seq)` is one
///   range read of the index in its order, with no sort (checked by a test with
///   `EXPLAIN QUERY PLAN`); the reads by `(portal_id, at)` use their prefix.
const V17: &str = r#"
ALTER TABLE tenants ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE portals ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
CREATE INDEX activity_page ON activity (portal_id, at, seq);
DROP INDEX activity_by_portal;
CREATE INDEX access_log_page ON access_log (portal_id, at, id);
DROP INDEX access_log_by_portal;
"#;

/// Migration 18 (issue 12): the admin API's lists of portals, contacts and templates
/// are paged by key in the store, like the feed and the access log.
/// - Portals and contacts are keyed by `(created_at, rowid)`: their indexes
///   `(tenant_id, created_at)` and `(portal_id, created_at)` already end with the
///   rowid, so a page after a key is one range read of them; nothing to add.
/// - `plan_templates` is a `WITHOUT ROWID` table listed by name, and a rename between
///   two page reads would move a template across the boundary: its pages go by
///   creation instead, `(created_at, seq)`, with `seq` a creation number per tenant
///   (existing rows numbered by creation time, then id) and an index for the range.
const V18: &str = r#"
ALTER TABLE plan_templates ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE plan_templates SET seq = (
    SELECT COUNT(*) FROM plan_templates o
    WHERE o.tenant_id = plan_templates.tenant_id
      AND (o.created_at < plan_templates.created_at
           OR (o.created_at = plan_templates.created_at AND o.id <= plan_templates.id))
);
CREATE INDEX plan_templates_page ON plan_templates (tenant_id, created_at, seq);
"#;

/// Migration 19 (issue 8): the document an MSP attaches to a signature task.
///
/// - `signature_documents`: one row per signature task with a document: its cleaned
///   name, sniffed type, size, the SHA-256 of the plaintext, the blob it is sealed in
///   and the wrapped data key (never a plaintext), who attached it and when.
///   Replaced (same key) until the task is signed. Clustered by (portal, task).
const V19: &str = r#"
CREATE TABLE signature_documents (
    portal_id   BLOB    NOT NULL CHECK (length(portal_id) = 16),
    task_id     BLOB    NOT NULL CHECK (length(task_id) = 16),
    tenant_id   BLOB    NOT NULL CHECK (length(tenant_id) = 16),
    name        TEXT    NOT NULL,
    file_type   TEXT    NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    sha256      BLOB    NOT NULL CHECK (length(sha256) = 32),
    blob_id     BLOB    NOT NULL UNIQUE CHECK (length(blob_id) = 16),
    key_id      TEXT    NOT NULL,
    wrapped_key BLOB    NOT NULL,
    attached_by TEXT    NOT NULL,
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (portal_id, task_id)
) WITHOUT ROWID;
"#;

/// Migration 21 (issue 13): signed webhooks (see `portal_core::webhooks`).
///
/// - `activity` is rebuilt with `AUTOINCREMENT`: its `seq` is the key the webhook
///   dispatcher tails the feed by, and a plain rowid would be reused after the newest
///   entries are erased (a portal deleted), hiding the next entries behind a cursor
///   already past them. Every row keeps its number.
/// - `webhook_endpoints`: the endpoint as JSON (its secrets sealed, never in clear),
///   with the columns the queries need (`tenant_id`, `enabled`, `version`).
/// - `webhook_cursors`: each tenant's key in the feed.
/// - `webhook_deliveries`: the durable queue, one row per endpoint and event; deleted
///   with their endpoint or their portal (`ON DELETE CASCADE`, in the deleting unit).
const V21: &str = r#"
CREATE TABLE activity_keyed (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id BLOB    NOT NULL REFERENCES portals (id),
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    task_id   BLOB    CHECK (task_id IS NULL OR length(task_id) = 16),
    subject   TEXT    NOT NULL,
    detail    TEXT
);
INSERT INTO activity_keyed (seq, portal_id, at, actor, kind, task_id, subject, detail)
    SELECT seq, portal_id, at, actor, kind, task_id, subject, detail FROM activity;
DROP TABLE activity;
ALTER TABLE activity_keyed RENAME TO activity;
CREATE INDEX activity_page ON activity (portal_id, at, seq);

CREATE TABLE webhook_endpoints (
    id        BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id BLOB    NOT NULL REFERENCES tenants (id),
    seq       INTEGER NOT NULL UNIQUE,
    enabled   INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    version   INTEGER NOT NULL CHECK (version >= 1),
    record    TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant_id, seq);

CREATE TABLE webhook_cursors (
    tenant_id BLOB    NOT NULL PRIMARY KEY REFERENCES tenants (id),
    seq       INTEGER NOT NULL CHECK (seq >= 0)
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              BLOB    NOT NULL UNIQUE CHECK (length(id) = 16),
    tenant_id       BLOB    NOT NULL CHECK (length(tenant_id) = 16),
    endpoint_id     BLOB    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    portal_id       BLOB    NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    feed_seq        INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER,
    last_attempt    TEXT,
    claim           BLOB,
    claim_until     INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, seq)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_page ON webhook_deliveries (endpoint_id, created_at, seq);
CREATE INDEX webhook_deliveries_by_portal ON webhook_deliveries (portal_id);
"#;

/// Tenants on their own domains and senders (issue 13):
/// - `tenants.base_url`: the tenant's own public base URL (normalised), or NULL for
///   the host's; `tenants.base_host`: its lower-case host name, unique across
///   tenants (the store answers `Conflict` first; the index is the backstop).
/// - `tenants.sender`: the tenant's `From` name and address and `Reply-To` as JSON,
///   or NULL for the host's configured sender.
const V23: &str = r#"
ALTER TABLE tenants ADD COLUMN base_url TEXT;
ALTER TABLE tenants ADD COLUMN base_host TEXT;
ALTER TABLE tenants ADD COLUMN sender TEXT;
CREATE UNIQUE INDEX tenants_base_host ON tenants (base_host) WHERE base_host IS NOT NULL;
"#;

/// Version 24: what a contact's settings page lists of their sessions.
/// - `sessions.last_seen_at`: the last request the session authenticated (NULL: not
///   since creation, shown as its `created_at`).
/// - `sessions.user_agent`: that request's user agent, cut to 300 characters.
const V24: &str = r#"
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
"#;

/// Version 25, colleagues (issue 15): a portal's colleague-invitation mode; a contact's inviter,
/// its approval wait and its role.
const V25: &str = r#"
ALTER TABLE portals ADD COLUMN colleague_invitations TEXT NOT NULL DEFAULT 'after_approval'
    CHECK (colleague_invitations IN ('off', 'at_once', 'after_approval'));
ALTER TABLE contacts ADD COLUMN invited_by BLOB CHECK (invited_by IS NULL OR length(invited_by) = 16);
ALTER TABLE contacts ADD COLUMN awaiting_approval INTEGER NOT NULL DEFAULT 0
    CHECK (awaiting_approval IN (0, 1));
ALTER TABLE contacts ADD COLUMN role TEXT;
"#;

/// Version 26: who a queued email comes from.
/// - `outbox.sender`: the email's `From` name and address and `Reply-To` as JSON (the
///   tenant's own sender), or NULL for the mailer's configured sender. Not a secret,
///   so it stays after the bodies are erased.
const V26: &str = r#"
ALTER TABLE outbox ADD COLUMN sender TEXT;
"#;

/// Version 27: the onboarding team and questions to one person (issue 14).
/// - `portals.team`: the portal's onboarding team as a JSON array of members (name,
///   role, email, photo reference), in display order; `[]` for none. Written with
///   the portal's version in one transaction, erased with the portal row.
/// - `questions.addressed_to`: the team member a client's question went to (name,
///   role and email as JSON, as they were when asked), or NULL for the whole team.
const V27: &str = r#"
ALTER TABLE portals ADD COLUMN team TEXT NOT NULL DEFAULT '[]';
ALTER TABLE questions ADD COLUMN addressed_to TEXT;
"#;

/// Version 28: tasks for a contact role (issue 15).
/// - `tasks.for_role`: the contact role a client task is for ("billing", lower-case),
///   or NULL. Written with the rest of the task's plan fields.
const V28: &str = r#"
ALTER TABLE tasks ADD COLUMN for_role TEXT;
"#;

/// Version 29: guests (issue 15).
/// - `contacts.guest`: NULL for the client's own contacts; for a guest, JSON with
///   their organisation, the end of their access (`access_ends_at`, RFC 3339, absent
///   for none) and the ids of the tasks shared with them (`shared_tasks`), written
///   with the contact in one transaction so every access decision reads it with the
///   contact.
const V29: &str = r#"
ALTER TABLE contacts ADD COLUMN guest TEXT;
"#;

/// Version 30: documents the MSP shares on a task (issue 14, "Documents the client can
/// open"; see `portal_core::attachments`).
/// - `task_attachments`: one row per file staff attached to a task: its cleaned name,
///   sniffed type, size, the plaintext's SHA-256, the blob it is sealed in and the
///   wrapped data key (never a plaintext), who attached it and when. `seq` keeps the
///   commit order for equal times. Deleted with its task or portal in the deleting
///   unit (by the store, which answers the blobs).
/// - `document_opens`: the first time each contact opened each document (by content
///   hash) of a task; the decision gate reads it.
const V30: &str = r#"
CREATE TABLE task_attachments (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          BLOB    NOT NULL UNIQUE CHECK (length(id) = 16),
    portal_id   BLOB    NOT NULL CHECK (length(portal_id) = 16),
    task_id     BLOB    NOT NULL CHECK (length(task_id) = 16),
    tenant_id   BLOB    NOT NULL CHECK (length(tenant_id) = 16),
    name        TEXT    NOT NULL,
    file_type   TEXT    NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    sha256      BLOB    NOT NULL CHECK (length(sha256) = 32),
    blob_id     BLOB    NOT NULL UNIQUE CHECK (length(blob_id) = 16),
    key_id      TEXT    NOT NULL,
    wrapped_key BLOB    NOT NULL,
    added_by    TEXT    NOT NULL,
    added_at    INTEGER NOT NULL
);
CREATE INDEX task_attachments_task ON task_attachments (portal_id, task_id, added_at, seq);
CREATE TABLE document_opens (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   BLOB    NOT NULL CHECK (length(portal_id) = 16),
    task_id     BLOB    NOT NULL CHECK (length(task_id) = 16),
    contact_id  BLOB    NOT NULL CHECK (length(contact_id) = 16),
    sha256      BLOB    NOT NULL CHECK (length(sha256) = 32),
    at          INTEGER NOT NULL,
    UNIQUE (task_id, contact_id, sha256)
);
CREATE INDEX document_opens_task ON document_opens (portal_id, task_id, at, seq);
CREATE INDEX document_opens_contact ON document_opens (contact_id);
"#;

/// Version 31: the contact's language (issue 14, "Time and language").
/// - `contacts.language`: the ISO 639-1 code the MSP set for the contact ("en", "es";
///   see `portal_core::i18n::Language`), or NULL: the contact's pages follow the
///   browser's `Accept-Language` and their emails are in English. Written with the
///   contact's other fields by `edit_contact`.
const V31: &str = r#"
ALTER TABLE contacts ADD COLUMN language TEXT;
"#;

/// Every migration, in order. Migration `i` takes a database from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13, V14, V15, V16, V17, V18, V19, V21, V23,
    V24, V25, V26, V27, V28, V29, V30, V31,
];

/// The schema version this build writes: the number of migrations.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// Brings the database up to [`LATEST`], one transaction per migration.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let found = version(conn)?;
    check_not_newer(found)?;
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let target = index as u32 + 1;
        if target <= found {
            continue;
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db("starting a migration")?;
        // Another process may have migrated since we looked.
        let now = version(&tx)?;
        check_not_newer(now)?;
        if now >= target {
            continue;
        }
        tx.execute_batch(sql).db("applying a migration")?;
        tx.pragma_update(None, "user_version", target)
            .db("recording the schema version")?;
        tx.commit().db("committing a migration")?;
        tracing::info!(version = target, "applied SQLite schema migration");
    }
    Ok(())
}

fn version(conn: &Connection) -> Result<u32> {
    let raw = conn
        .pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
        .db("reading the schema version")?;
    u32::try_from(raw).map_err(|_| {
        Error::storage_msg(format!("the database has an invalid schema version {raw}"))
    })
}

fn check_not_newer(found: u32) -> Result<()> {
    if found > LATEST {
        return Err(Error::storage_msg(format!(
            "the database was written by a newer version of portal-storage-sqlite \
             (schema version {found}, this build knows up to {LATEST}); \
             upgrade the software instead of opening it with this one"
        )));
    }
    Ok(())
}
