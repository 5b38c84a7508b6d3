//! The conformance suite proves it can fail: deliberately broken stores, each breaking
//! ONE contract point, must make the check that guards that point panic.
//!
//! Every broken store is a [`Broken`] wrapper around a [`MemoryStore`]: it delegates
//! every method to the inner store, except the one it breaks. Where the break needs
//! facts the trait does not expose (which code is live, which invite was replaced),
//! the wrapper keeps a shadow of what it was told (hashes it passed through, never
//! anything the inner store decided). With [`Breakage::None`] the wrapper breaks
//! nothing, and the whole suite passes through it: so each failure below is the
//! breakage's, not the wrapper's.
//!
//! The table "broken store → check that catches it" in `docs/adapter-guide.md` lists
//! the same pairs as the tests at the bottom.

// Test code: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use portal_core::access::rules;
use portal_core::access::{AccessPolicy, SessionPolicy};
use portal_core::attachments::{DocumentOpen, TaskAttachment};
use portal_core::audit::{self, AuditEntry, ChainHead, ChainedEvent};
use portal_core::blob::keyring::{KeyId, WrappedKey};
use portal_core::blob::rotation::{SealedAt, SealedKey, SealedKind};
use portal_core::conformance;
use portal_core::credentials::CredentialRecord;
use portal_core::filedrop::{DropDecision, DroppedFile, NewDropDecision};
use portal_core::idempotency::{IdempotencyKey, Reservation, Reserve, SavedResponse};
use portal_core::ids::FileId;
use portal_core::memory::MemoryStore;
use portal_core::model::{
    Branding, Contact, Logo, OnboardingTeam, Phase, Portal, PortalSnapshot, PortalStatus, Task,
    Tenant,
};
use portal_core::outbox::{FailedAttempt, Lease, MailState, OutboxMessage};
use portal_core::reminders::{ReminderSettings, ReminderState};
use portal_core::secret::{CodeHash, TokenHash};
use portal_core::signatures::SignatureRecord;
use portal_core::store::AttachmentStore;
use portal_core::store::CredentialStore;
use portal_core::store::FileDropStore;
use portal_core::store::IdempotencyStore;
use portal_core::store::SignatureStore;
use portal_core::store::{
    AccessEvent, AccessLogEntry, ClientContext, ContactInPortal, NewCode, NewSession, PlanDecision,
    PlanStore, RequestInfo, TaskDecision, TemplateStore, VerificationView,
};
use portal_core::store::{ColleagueInvite, Handover, NewGuest, NewHandover};
use portal_core::store::{
    ContactEdit, DocumentStore, Erasure, OutboxStore, Page, PageKey, PortalEdit, ReminderStore,
    SentDigest, TenantEdit,
};
use portal_core::workflow::CheckMark;
use portal_core::workflow::documents::{FileDecision, UploadDecision};
use portal_core::workflow::plan::{Plan, PlanChange};
use portal_core::workflow::template::PlanTemplate;
use portal_core::workflow::{ActivityEntry, ClientQuestion, Comment, DocumentFile, QuestionAnswer};
use portal_core::workflow::{guests, team};
use portal_core::{
    AccessStore, AuditStore, BlobId, ClaimToken, ContactId, DirectoryStore, Entity, Error, Limit,
    MailId, OsRandom, PhaseId, PortalId, QuestionId, RandomSource, Result, Store, TaskId,
    TemplateId, TenantId, WorkflowStore,
};
use tokio::sync::OnceCell;

/// A page read by offset (the broken way): the key's `seq` is the position of the
/// page in the whole list as read now.
fn offset_page<T>(
    all: Vec<T>,
    after: Option<PageKey>,
    limit: usize,
    at: impl Fn(&T) -> DateTime<Utc>,
) -> Page<T> {
    let from = after.map_or(0, |k| usize::try_from(k.seq).unwrap_or(usize::MAX));
    let read: Vec<(PageKey, T)> = all
        .into_iter()
        .enumerate()
        .skip(from)
        .take(limit.saturating_add(1))
        .map(|(i, t)| {
            let key = PageKey {
                at: at(&t),
                seq: u64::try_from(i + 1).unwrap_or(u64::MAX),
            };
            (key, t)
        })
        .collect();
    Page::from_read(read, limit)
}

/// The one contract point a [`Broken`] store breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breakage {
    /// Breaks nothing: the wrapper and its shadow alone.
    None,
    /// `redeem_code` answers a wrong code with `WrongCode` without counting the try.
    SkipsWrongTry,
    /// `issue_code` ignores `max_codes` (passes `u32::MAX`): a sixth code is issued.
    SixthCode,
    /// `issue_invite` forgets to kill the previous invite: old links keep working.
    KeepsOldInvite,
    /// `authenticate` ignores revocation: a revoked contact's session gets through.
    RevokedSessionPasses,
    /// `task` ignores the portal it is asked through.
    TaskIgnoresPortal,
    /// `update_task` is read → decide → pause → write, without a lock: a concurrent
    /// update is lost.
    UnlockedUpdate,
    /// `authenticate` refreshes the session on every request (`refresh_after` 0).
    RefreshesAlways,
    /// `authenticate` notes every request with the session (its time and user agent),
    /// a session write per request; the sliding refresh keeps its interval.
    NotesEveryRequest,
    /// `start_verification` reads the count, pauses, then starts with no limit: a
    /// check-then-act race lets concurrent starts through the limit.
    UnlockedStart,
    /// `redeem_code` is optimistic: concurrent wrong codes collapse into one counted
    /// try (they read the same count and write the same next value).
    OptimisticRedeem,
    /// `issue_code` spares the contact's other verifications' live codes.
    SparesOtherCodes,
    /// An activity entry of another portal is accepted (filed under the record's).
    ForeignActivityAccepted,
    /// `comments` lists newest first instead of oldest first.
    CommentsReversed,
    /// `delete_portal` returns no blobs, so the files' content would stay.
    DeleteForgetsBlobs,
    /// `erasures` lists the oldest first.
    ErasuresOldestFirst,
    /// `remove_contact` only revokes the contact.
    RemoveOnlyRevokes,
    /// `remove_contact` files an entry of another portal under the contact's.
    RemoveAcceptsForeignActivity,
    /// `edit_portal` answers with the edit applied but writes nothing.
    EditsNotKept,
    /// `edit_contact` refuses a contact's own email as taken.
    OwnEmailConflicts,
    /// `edit_contact` writes the name and email but drops the role it was given.
    ContactRoleDropped,
    /// `edit_contact` writes the name, email and role but drops the language.
    ContactLanguageDropped,
    /// `edit_tenant`'s rename also clears the notification recipients.
    TenantEditReplacesRecipients,
    /// `edit_portal` ignores `expected` (a plain update, no compare-and-set).
    PortalVersionIgnored,
    /// `end_other_sessions` ends the kept session too (the client signs themselves out).
    EndsKeptSession,
    /// `end_other_sessions` answers without ending anything.
    EndsNoOtherSession,
    /// `set_contact_time_zone` answers with the zone but writes nothing.
    ZoneNotKept,
    /// `activity_page` and `access_log_page` page by offset: the key carries the
    /// position of the next page in the whole list, read again for every page.
    PagesByOffset,
    /// `portals_page`, `contacts_page` and `templates_page` page by offset over the
    /// whole list read again for every page (the admin lists before keyset paging).
    ListsByOffset,
    /// `edit_portal_fields` writes field by field, each edit its own unit naming the
    /// version the previous one left (a PATCH written piecemeal).
    PortalFieldsOneByOne,
    /// `edit_contact` ignores `expected` (a plain update, no compare-and-set).
    ContactTagIgnored,
    /// `edit_tenant` ignores `expected` (a plain update, no compare-and-set).
    TenantVersionIgnored,
    /// `edit_tenant_settings` writes setting by setting, each its own unit naming
    /// the version the previous one left (the PATCH /tenant of before issue 12).
    TenantSettingsOneByOne,
    /// `edit_tenant_settings` writes the settings before a refused one: a host
    /// another tenant has is refused after the rename before it was kept.
    TenantSettingsPartial,
    /// A base URL's host is not kept unique: an edit onto another tenant's host
    /// takes it from that tenant instead of being refused.
    TenantHostStolen,
    /// `edit_tenant_settings` checks the host, pauses, then writes without a lock:
    /// tenants racing for one host all get it.
    TenantHostCheckedFirst,
    /// `edit_portal` compares the version, pauses, then writes without a lock: a
    /// check before the write, so racing edits naming one version all win.
    PortalVersionCheckedFirst,
    /// A replaced or killed magic link answers `Expired` instead of `NotFound`.
    ReplacedLinkExpired,
    /// A revoked contact's magic link answers `NotFound` instead of `Revoked(Contact)`.
    RevokedLinkNotFound,
    /// `withdraw_code` withdraws the live code whatever link it is given.
    WithdrawAnyLink,
    /// `start_verification` gives verifications no lifetime of their own (a
    /// `verification_ttl` of a century): only their codes expire.
    EndlessVerification,
    /// `issue_code` does not count resends against the email limit.
    ResendsUncounted,
    /// `redeem_code` has no per-contact cap on wrong codes (only the per-code one).
    NoContactCap,
    /// `redeem_code` compares a locked-out contact's code anyway (as if the lockout
    /// were over) instead of refusing it first.
    ComparesWhileLockedOut,
    /// `prune_access_log` removes the entries exactly at `before` too (`at <= before`).
    PrunesTheBoundary,
    /// `prune_access_log` ignores `max_rows`: one call removes every old entry.
    PruneIgnoresMaxRows,
    /// `add_document_file` is read → decide → pause → write, without a lock: two
    /// concurrent uploads draw the same version.
    UnlockedUpload,
    /// `update_document_file` decides on a stale read: two reviews both win.
    UnlockedReview,
    /// `add_document_file` never marks the superseded version.
    NoSupersede,
    /// `document_file` and `update_document_file` ignore the portal they are asked
    /// through.
    FileIgnoresPortal,
    /// `review_queue` lists newest first.
    QueueNewestFirst,
    /// `replace_file_key` ignores `expected` (a plain update, no compare-and-set).
    KeySwapWithoutCompare,
    /// `files_to_rewrap` lists files under the active key too.
    RewrapListsActive,
    /// `files_to_rewrap` ignores its cursor.
    RewrapIgnoresCursor,
    /// `delete_portal` returns no drawn signature image's blob.
    DeleteForgetsSignatureImages,
    /// `change_plan` deleting a task forgets its dropped files' blobs.
    DeleteTaskKeepsDropBlobs,
    /// `change_plan` deleting a task forgets its signature image's and document's blobs.
    DeleteTaskKeepsSignatureBlobs,
    /// `sealed_keys_to_rewrap` never lists drawn signature images.
    RewrapSkipsSignatureImages,
    /// `sealed_keys_to_rewrap` never lists signature documents.
    RewrapSkipsSignatureDocuments,
    /// `sealed_keys_to_rewrap` never lists dropped files.
    RewrapSkipsDroppedFiles,
    /// `sealed_keys_to_rewrap` never lists credential fields.
    RewrapSkipsCredentialFields,
    /// `add_document_file` does not check the file's tenant: a file naming another
    /// tenant is written (filed under the portal's tenant) instead of refused.
    TenantUnchecked,
    /// `enqueue` writes emails one by one: those before a taken id stay.
    EnqueuePartial,
    /// The units queue their emails in a separate step before the unit, so a refused
    /// unit still has queued them.
    MailOutsideUnit,
    /// `claim_due` also takes emails whose lease still runs.
    ClaimIgnoresLease,
    /// `claim_due` takes emails that are not due yet.
    ClaimsFutureMail,
    /// `mark_sent` and `mark_failed` do not check the claim: a stale claim records an
    /// outcome over the current holder's.
    MarkIgnoresClaim,
    /// Sent and failed emails keep their bodies.
    KeepsBodies,
    /// `claim_due` is read → pause → write, without a lock: racing claimers take the
    /// same emails.
    UnlockedClaim,
    /// `prune_sent` removes the emails finished exactly at `before` too.
    PruneSentBoundary,
    /// `record_digest` does not keep a contact to one digest a date: a second one for
    /// the same date is accepted and its email queued.
    DigestTwice,
    /// `record_digest` records the digest but drops its email.
    DigestWithoutMail,
    /// `record_escalation` ignores `previous` (no compare-and-set): racing passes both
    /// escalate.
    EscalationWithoutCompare,
    /// `change_plan` is read → decide → pause → write, without a lock: two
    /// concurrent moves decide on the same plan and one of them is lost.
    UnlockedPlanChange,
    /// `change_plan` writes the task change but drops the change's comments (an
    /// "I'm stuck" reason never reaches the thread).
    DropsPlanComments,
    /// `change_plan` deletes a task but keeps its comment thread.
    KeepsDeletedComments,
    /// `change_plan` writes the decision without checking it (`PlanChange::diff`):
    /// a plan with two tasks at one position is stored.
    PlanUnchecked,
    /// `template` ignores the tenant it is asked through.
    TemplateIgnoresTenant,
    /// `replace_template` ignores `expected` (a plain update, no compare-and-set).
    TemplateReplaceUnchecked,
    /// `edit_portal` (and so `edit_portal_fields`) writes a status or branding change
    /// without its activity entry.
    PortalEditWithoutEntry,
    /// `create_portal` drops the entry of the staff member who created the portal.
    PortalCreatedWithoutEntry,
    /// `add_contact` writes the contact without its activity entry.
    ContactWithoutEntry,
    /// `add_phase` writes the phase without its activity entry.
    PhaseWithoutEntry,
    /// `add_task` writes the task without its activity entry.
    TaskWithoutEntry,
    /// `issue_invite`, `revoke_invite` and `revoke_contact` change access without
    /// their activity entry.
    AccessChangeWithoutEntry,
    /// `set_reminder_settings` changes the settings without their activity entry.
    ReminderSettingsWithoutEntry,
    /// `add_contact` appends its entry in a unit of its own before the contact: a
    /// refused contact (a duplicate email) leaves its entry in the feed.
    SetupEntryOutsideUnit,
    /// `create_portal_with_plan` writes the portal first and the plan after: a refused
    /// plan leaves the portal behind.
    PortalWithoutItsPlan,
    /// `create_portal_with_plan` stores the portal without its target go-live date
    /// (the SQLite store once did).
    PortalWithPlanDropsTargetDate,
    /// `reserve_idempotency` replays whatever response the key holds, whatever the
    /// request's fingerprint.
    ReplayIgnoresFingerprint,
    /// Idempotency keys are one namespace for all tenants.
    KeysAcrossTenants,
    /// Completed idempotency keys never expire.
    KeysNeverExpire,
    /// A running reservation is never taken over, however long ago its lease ended.
    LeaseNeverEnds,
    /// `complete_idempotency` ignores the claim: a taken-over claim still completes.
    CompleteIgnoresClaim,
    /// `reserve_idempotency` is read → pause → write, without a lock: racers both win.
    UnlockedReserve,
    /// `prune_idempotency` removes the records expiring exactly at `before` too.
    PruneKeysBoundary,
    /// `append_audit` skips a number: the second event is numbered 3.
    AuditGap,
    /// `append_audit` reuses a number: the third event is numbered 2 again.
    AuditDuplicate,
    /// `append_audit` links every event to the genesis hash instead of the previous one.
    AuditWrongLink,
    /// `append_audit` is read head → pause → write, without a lock: racing appends
    /// draw the same number and overwrite each other.
    AuditUnlocked,
    /// `append_audit` rewrites the previous event (its time moves by a second).
    AuditEditsHistory,
    /// `submit_credentials` accepts a second submission (answers the task as if it
    /// had replaced the first).
    SecondSubmitAccepted,
    /// `reveal_credentials` answers the record without appending its event.
    RevealWithoutAudit,
    /// `purge_credentials` keeps the ciphertext (reads still answer the fields).
    PurgeKeepsCiphertext,
    /// `credentials` ignores the portal it is asked through.
    CredentialsIgnorePortal,
    /// `submit_credentials` writes the submission but queues none of its emails (the
    /// MSP never hears of it).
    CredentialsDropEmails,
    /// `submit_signature` accepts a second signature (answers the task as if it had
    /// replaced the first).
    SecondSignatureAccepted,
    /// `signature` ignores the portal it is asked through.
    SignatureIgnoresPortal,
    /// `submit_signature` writes the signature but queues none of its emails.
    SignatureDropsEmails,
    /// `signature` answers the time zone as UTC (a field not read back as stored).
    SignatureLosesZone,
    /// `signatures_with_document` lists every tenant's signatures of the document.
    SignaturesAcrossTenants,
    /// `signatures_with_document` lists the newest first.
    SignaturesNewestFirst,
    /// `blob_in_use` ignores signature images (an orphan sweep would delete them).
    SignatureImagesNotInUse,
    /// `enqueue` drops the emails' attachments (a meeting email arrives without its
    /// `.ics`).
    DropsAttachments,
    /// `enqueue` drops the emails' sender (a tenant's email leaves from the host's
    /// address instead of the MSP's).
    DropsSender,
    /// `unsubscribe_reminders` keeps the latest click instead of the first.
    UnsubscribeLastWins,
    /// `snooze_task` snoozes every task of the portal for the contact, not only the
    /// one asked.
    SnoozeWholePlan,
    /// `reminder_state` shows each contact the snoozes of every contact of the portal.
    SnoozesAcrossContacts,
    /// `snooze_task` answers a task or contact of another portal with `Ok` (writing
    /// nothing) instead of `NotFound`.
    SnoozeUnscoped,
    /// `reminder_state`'s last visit counts every access entry (an opened invite, a
    /// code sent), not only `Verified` and `PortalRequest`.
    VisitAnyEvent,
    /// `reminder_state`'s last visit is the visit recorded last, not the newest one.
    VisitLastWritten,
    /// `dropped_file` ignores the portal it is asked through.
    DropIgnoresPortal,
    /// The file drop units write the file but append no audit event (the chain this
    /// wrapper keeps never hears of them).
    DropWithoutAudit,
    /// The file drop units write the file but no feed entry (reads show none).
    DropWithoutFeed,
    /// `add_dropped_file` answers a duplicate id with the stored file instead of
    /// `Conflict`.
    DropDuplicateAccepted,
    /// `change_dropped_file` decides on a read taken before a pause and writes it
    /// without a lock: a racing delete and download both win.
    DropUnlockedChange,
    /// `drops_to_sweep` lists files a second before their expiry.
    SweepsEarly,
    /// `mark_drop_bytes_removed` accepts a file that is neither deleted nor expired.
    BytesRemovedWhileLive,
    /// `blob_in_use` forgets dropped files' blobs (an orphan sweep would remove them).
    DropBlobsNotInUse,
    /// `delete_portal` returns no dropped file's blob.
    DeleteForgetsDropBlobs,
    /// `attach_signature_document` replaces a signed task's document (answers as if
    /// it had).
    SignedDocumentReplaced,
    /// `submit_signature` accepts a signature whose document is not the task's
    /// attached one.
    UnattachedDocumentSigned,
    /// `signature_document` ignores the portal it is asked through.
    SignatureDocumentIgnoresPortal,
    /// `blob_in_use` ignores attached signature documents.
    SignatureDocumentsNotInUse,
    /// `delete_portal` returns no attached signature document's blob.
    DeleteForgetsSignatureDocuments,
    /// `portal_team` lists the members sorted by name, not in the order written.
    TeamSortedByName,
    /// `home_version` is a fingerprint of the snapshot, team and feed that leaves the
    /// contacts out: a contact revoked without a feed entry keeps the old value.
    HomeVersionWithoutContacts,
    /// `home_version` answers a new value on every call: a host can never reuse a
    /// page it built.
    HomeVersionEveryCall,
    /// A team edit ignores `expected`: a stale team replaces the current one.
    TeamVersionIgnored,
    /// A team edit adds the new members after the stored ones instead of replacing
    /// the list.
    TeamAppended,
    /// `add_question` forgets the team member a question was addressed to.
    QuestionAddresseeDropped,
    /// `invite_colleague` ignores the cap it is given: a portal grows past it.
    ColleagueIgnoresCap,
    /// `invite_colleague` counts the contacts, pauses, then writes with no cap: a
    /// check outside the unit, so racing invitations all take the last place.
    ColleagueCapOutsideUnit,
    /// `invite_colleague` writes the contact, its emails and entry but no invite: the
    /// colleague's link leads nowhere.
    ColleagueWithoutInvite,
    /// `invite_colleague` queues its emails in a unit of their own before the
    /// contact's: a refused invitation (at the cap) still sends them.
    ColleagueMailOutsideUnit,
    /// `issue_invite` leaves a colleague's `awaiting_approval` set: approved
    /// colleagues still show as waiting.
    ApprovalKeepsFlag,
    /// `attachment` ignores the portal it is asked through.
    AttachmentIgnoresPortal,
    /// `task_attachments` lists the newest first.
    AttachmentsNewestFirst,
    /// `blob_in_use` ignores task attachments.
    AttachmentsNotInUse,
    /// `add_attachment` answers `Ok` for a blob another record uses (stores nothing).
    AttachmentBlobReuseAccepted,
    /// `add_attachment` counts the task's attachments, pauses, then adds with no cap:
    /// a check outside the unit, so racing uploads all pass the last place.
    AttachmentCapOutsideUnit,
    /// `delete_attachment` answers the blob but keeps the record.
    AttachmentDeleteKeepsRecord,
    /// `document_opens` answers each open with its latest time, not its first.
    OpenLastWins,
    /// `record_document_open` accepts (and ignores) a contact of another portal.
    OpenByStranger,
    /// `change_plan` deleting a task forgets its attachments' blobs.
    DeleteTaskKeepsAttachmentBlobs,
    /// `delete_portal` returns no attachment's blob.
    DeleteForgetsAttachments,
    /// `sealed_keys_to_rewrap` never lists task attachments.
    RewrapSkipsTaskAttachments,
    /// `add_guest` writes the guest through `add_contact` and `issue_invite`: their
    /// shared tasks are never judged (an internal task reaches a guest) nor deduplicated.
    GuestTasksUnjudged,
    /// `add_guest` queues the invitation in a unit of its own before the guest's: a
    /// refused guest (a taken email) is still emailed.
    GuestMailOutsideUnit,
    /// `share_task` ignores unsharing: a task stays shared after staff take it back.
    UnshareIgnored,
    /// `end_guest_access` answers the ended guest without storing the end: the guest
    /// keeps coming in.
    GuestEndNotStored,
    /// `authenticate` judges a guest's session at their end date instead of now: a
    /// session outlives the guest's access.
    EndedGuestSessionPasses,
    /// `open_invite` judges the invite at the epoch instead of now: an ended guest's
    /// invite still opens.
    EndedGuestInviteOpens,
    /// `start_handover` writes the phase, each task and the guest in units of their
    /// own (`add_phase`, `add_task`, `add_guest`): a refused guest leaves the phase
    /// and its tasks behind, and nothing refuses a second handover.
    HandoverInPieces,
    /// `start_handover` writes the phase and its tasks but the guest with no task
    /// shared: the outgoing provider reaches nothing.
    HandoverWithoutShares,
    /// `start_handover` answers a second handover's `Conflict` by writing it anyway,
    /// piece by piece: two handover phases in one portal.
    HandoverTwice,
    /// `record_handover_stall` answers an alert already recorded by queuing the
    /// emails anyway: the MSP is told on every reminder pass.
    StallAlertedTwice,
    /// `record_handover_stall` queues the emails without storing the alert: nothing
    /// stops the next pass from sending it again.
    StallAlertNotStored,
}

impl Breakage {
    /// Whether the wrapper keeps the audit chain itself (to break it).
    const fn breaks_audit(self) -> bool {
        matches!(
            self,
            Self::AuditGap
                | Self::AuditDuplicate
                | Self::AuditWrongLink
                | Self::AuditUnlocked
                | Self::AuditEditsHistory
                | Self::DropWithoutAudit
        )
    }
}

/// What the wrapper saw pass through it.
#[derive(Default)]
struct Shadow {
    /// Calls of `home_version`, as [`Breakage::HomeVersionEveryCall`] counts them.
    home_calls: u64,
    /// Tenant → the base URL it was given (`TenantHostCheckedFirst` keeps hosts here).
    hosts: HashMap<TenantId, Option<portal_core::model::TenantBaseUrl>>,
    /// Verification → the latest code issued in it.
    codes: HashMap<TokenHash, NewCode>,
    /// Verification → its contact.
    contact_of: HashMap<TokenHash, ContactId>,
    /// Every magic link issued → its verification.
    links: HashMap<TokenHash, TokenHash>,
    /// Verification → (contact, start time), for the unlocked start.
    starts: HashMap<TokenHash, (ContactId, DateTime<Utc>)>,
    /// Verifications whose live code an `issue_code` elsewhere should have killed.
    spared: HashSet<TokenHash>,
    /// Every invite issued → its contact; contact → its current invite.
    invite_contact: HashMap<TokenHash, ContactId>,
    current_invite: HashMap<ContactId, TokenHash>,
    /// Session → the context it was created with.
    sessions: HashMap<TokenHash, ClientContext>,
    /// Task → its portal.
    task_portal: HashMap<TaskId, PortalId>,
    /// File → its portal.
    file_portal: HashMap<FileId, PortalId>,
    /// Portal → its tenant.
    portal_tenant: HashMap<PortalId, TenantId>,
    /// Wrong tries being "written" right now, per verification (optimistic redeem).
    in_flight: HashMap<TokenHash, Arc<OnceCell<Wrong>>>,
    /// Every email queued through `enqueue`, as queued (bodies included).
    mail: HashMap<MailId, OutboxMessage>,
    /// Contact → the latest unsubscribe click (for [`Breakage::UnsubscribeLastWins`]).
    unsubscribed: HashMap<ContactId, DateTime<Utc>>,
    /// Contact → its visits (`Verified`, `PortalRequest`) in the order written.
    visits: HashMap<ContactId, Vec<DateTime<Utc>>>,
    /// Session → the latest request it authenticated, as [`Breakage::NotesEveryRequest`]
    /// reports it.
    seen: HashMap<TokenHash, (DateTime<Utc>, Option<String>)>,
    /// Comments of deleted tasks that a store forgot to delete.
    orphan_comments: HashMap<TaskId, Vec<Comment>>,
    /// Template → its tenant.
    template_tenant: HashMap<TemplateId, TenantId>,
    /// Idempotency key → when it was last reserved.
    key_first_used: HashMap<(TenantId, IdempotencyKey), DateTime<Utc>>,
    /// Idempotency key → the fingerprint it was reserved with.
    key_fingerprint: HashMap<(TenantId, IdempotencyKey), [u8; 32]>,
    /// Every credential record submitted through the wrapper, as submitted.
    credentials: HashMap<TaskId, CredentialRecord>,
    /// Every signature submitted through the wrapper, by task.
    signatures: HashMap<TaskId, SignatureRecord>,
    /// The blobs of drawn signature images submitted through the wrapper.
    signature_blobs: HashSet<BlobId>,
    /// The audit chains, kept by the wrapper itself under an audit breakage.
    audit: HashMap<PortalId, Vec<ChainedEvent>>,
    /// Dropped file → its portal and blob.
    drops: HashMap<FileId, (PortalId, BlobId)>,
    /// The blobs of signature documents attached through the wrapper.
    signature_documents: HashSet<BlobId>,
    /// Attachment → its portal and blob, as added through the wrapper.
    attachments: HashMap<portal_core::ids::AttachmentId, (PortalId, BlobId)>,
    /// (task, contact, content) → the latest time an open was recorded.
    opens_latest: HashMap<(TaskId, ContactId, [u8; 32]), DateTime<Utc>>,
    /// Colleagues invited through the wrapper that await approval, until an
    /// `issue_invite` approves them (for [`Breakage::ApprovalKeepsFlag`]).
    awaiting: HashSet<ContactId>,
}

/// How a wrong try was answered, shared by the optimistic redeem's colliding calls.
#[derive(Debug, Clone, Copy)]
enum Wrong {
    Left(u32),
    Limit,
    Other,
}

impl Wrong {
    fn of(r: &Result<ClientContext>) -> Self {
        match r {
            Err(Error::WrongCode { attempts_left }) => Self::Left(*attempts_left),
            Err(Error::LimitReached(Limit::WrongCodeAttempts)) => Self::Limit,
            _ => Self::Other,
        }
    }
    fn error(self) -> Error {
        match self {
            Self::Left(attempts_left) => Error::WrongCode { attempts_left },
            Self::Limit => Error::LimitReached(Limit::WrongCodeAttempts),
            Self::Other => Error::conflict("a concurrent try answered otherwise"),
        }
    }
}

/// An instant before every time the suite uses: the wrapper's own reads of a
/// verification (to keep its shadow) are never refused for its lifetime.
const EPOCH: DateTime<Utc> = DateTime::<Utc>::UNIX_EPOCH;

/// A [`MemoryStore`] with one contract point broken.
struct Broken {
    inner: MemoryStore,
    breaks: Breakage,
    shadow: Mutex<Shadow>,
}

impl Broken {
    fn new(breaks: Breakage) -> Self {
        Self {
            inner: MemoryStore::new(),
            breaks,
            shadow: Mutex::new(Shadow::default()),
        }
    }

    fn is(&self, b: Breakage) -> bool {
        self.breaks == b
    }

    fn shadow(&self) -> std::sync::MutexGuard<'_, Shadow> {
        self.shadow.lock().unwrap()
    }

    /// A tenant with the host the shadow keeps for it (`TenantHostCheckedFirst`).
    fn with_host(&self, mut t: Tenant) -> Tenant {
        if let Some(url) = self.shadow().hosts.get(&t.id) {
            t.base_url.clone_from(url);
        }
        t
    }

    /// Records a code issued in a verification.
    fn saw_code(&self, verification: TokenHash, code: &NewCode) {
        let mut sh = self.shadow();
        sh.codes.insert(verification, code.clone());
        sh.links.insert(code.magic_hash, verification);
        sh.spared.remove(&verification);
    }

    /// Whether `presented` is not the verification's latest code, as far as we saw.
    fn is_wrong(&self, verification: &TokenHash, presented: &CodeHash) -> bool {
        self.shadow()
            .codes
            .get(verification)
            .is_some_and(|c| !c.code_hash.matches(presented))
    }

    /// Revives a spared verification's code in the inner store (which killed it), under
    /// a fresh magic link; returns that link.
    async fn revive(&self, verification: TokenHash) -> Option<TokenHash> {
        let code = {
            let mut sh = self.shadow();
            if !sh.spared.remove(&verification) {
                return None;
            }
            sh.codes.get(&verification).cloned()?
        };
        let mut fresh = [0u8; 32];
        OsRandom.fill(&mut fresh);
        let revived = NewCode {
            magic_hash: TokenHash::from_bytes(fresh),
            ..code
        };
        let unlimited = AccessPolicy {
            max_codes_per_verification: u32::MAX,
            max_emails_per_contact: u32::MAX,
            verification_ttl: TimeDelta::days(36_500),
            ..AccessPolicy::default()
        };
        self.inner
            .issue_code(&verification, &revived, &unlimited)
            .await
            .ok()?;
        Some(revived.magic_hash)
    }

    /// The magic link to hand the inner store: a spared link is revived first.
    async fn spared_link(&self, magic: &TokenHash) -> TokenHash {
        if self.is(Breakage::SparesOtherCodes) {
            let v = {
                let sh = self.shadow();
                sh.links
                    .get(magic)
                    .copied()
                    .filter(|v| sh.codes.get(v).is_some_and(|c| c.magic_hash == *magic))
            };
            if let Some(v) = v
                && let Some(fresh) = self.revive(v).await
            {
                return fresh;
            }
        }
        *magic
    }

    /// A magic-link answer, with the link breakages applied.
    fn link_answer<T>(&self, magic: &TokenHash, r: Result<T>) -> Result<T> {
        match r {
            Err(Error::NotFound {
                entity: Entity::MagicLink,
            }) if self.is(Breakage::ReplacedLinkExpired)
                && self.shadow().links.contains_key(magic) =>
            {
                Err(Error::Expired {
                    entity: Entity::MagicLink,
                })
            }
            Err(Error::Revoked {
                entity: Entity::Contact,
            }) if self.is(Breakage::RevokedLinkNotFound) => Err(Error::NotFound {
                entity: Entity::MagicLink,
            }),
            other => other,
        }
    }

    /// The invite to hand the inner store: an old invite stands for the current one.
    fn invite_for(&self, invite: &TokenHash) -> TokenHash {
        if self.is(Breakage::KeepsOldInvite) {
            let sh = self.shadow();
            if let Some(current) = sh
                .invite_contact
                .get(invite)
                .and_then(|c| sh.current_invite.get(c))
            {
                return *current;
            }
        }
        *invite
    }

    /// An activity entry filed under `portal`, if the store accepts foreign entries.
    fn file_under(&self, portal: PortalId, activity: &ActivityEntry) -> ActivityEntry {
        if self.is(Breakage::ForeignActivityAccepted) {
            ActivityEntry {
                portal_id: portal,
                ..activity.clone()
            }
        } else {
            activity.clone()
        }
    }

    fn saw_session(&self, session: &NewSession, r: &Result<ClientContext>) {
        if let Ok(ctx) = r {
            self.shadow()
                .sessions
                .insert(session.token_hash, ctx.clone());
        }
    }
}

#[async_trait]
impl DirectoryStore for Broken {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        self.inner.create_tenant(tenant).await
    }
    async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        self.inner.tenant(id).await.map(|t| self.with_host(t))
    }
    async fn tenants(&self) -> Result<Vec<Tenant>> {
        let all = self.inner.tenants().await?;
        Ok(all.into_iter().map(|t| self.with_host(t)).collect())
    }
    async fn create_portal(&self, portal: &Portal, activity: Option<&ActivityEntry>) -> Result<()> {
        let activity = activity.filter(|_| !self.is(Breakage::PortalCreatedWithoutEntry));
        self.inner.create_portal(portal, activity).await?;
        self.shadow()
            .portal_tenant
            .insert(portal.id, portal.tenant_id);
        Ok(())
    }
    async fn portal(&self, id: PortalId) -> Result<Portal> {
        self.inner.portal(id).await
    }
    async fn portals(&self, tenant: TenantId) -> Result<Vec<Portal>> {
        self.inner.portals(tenant).await
    }
    async fn portals_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Portal>> {
        if self.is(Breakage::ListsByOffset) {
            let all = self.inner.portals(tenant).await?;
            return Ok(offset_page(all, after, limit, |p| p.created_at));
        }
        self.inner.portals_page(tenant, after, limit).await
    }
    async fn set_portal_status(&self, portal: PortalId, status: PortalStatus) -> Result<()> {
        self.inner.set_portal_status(portal, status).await
    }
    async fn add_contact(&self, contact: &Contact, activity: Option<&ActivityEntry>) -> Result<()> {
        if self.is(Breakage::SetupEntryOutsideUnit)
            && let Some(entry) = activity
        {
            // The entry's own unit (re-storing the same reminder settings appends it),
            // then the contact's.
            let portal = contact.portal_id;
            let settings = self.inner.reminder_settings(portal).await?;
            self.inner
                .set_reminder_settings(portal, &settings, Some(entry))
                .await?;
            return self.inner.add_contact(contact, None).await;
        }
        let activity = activity.filter(|_| !self.is(Breakage::ContactWithoutEntry));
        self.inner.add_contact(contact, activity).await
    }
    async fn contact(&self, id: ContactId) -> Result<Contact> {
        let mut contact = self.inner.contact(id).await?;
        if self.is(Breakage::ApprovalKeepsFlag) {
            contact.awaiting_approval |= self.shadow().awaiting.contains(&id);
        }
        Ok(contact)
    }
    async fn contacts(&self, portal: PortalId) -> Result<Vec<Contact>> {
        self.inner.contacts(portal).await
    }
    async fn contacts_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<Contact>> {
        if self.is(Breakage::ListsByOffset) {
            let all = self.inner.contacts(portal).await?;
            return Ok(offset_page(all, after, limit, |c| c.created_at));
        }
        self.inner.contacts_page(portal, after, limit).await
    }
    async fn add_phase(
        &self,
        portal: PortalId,
        id: PhaseId,
        name: &str,
        activity: Option<&ActivityEntry>,
    ) -> Result<Phase> {
        let activity = activity.filter(|_| !self.is(Breakage::PhaseWithoutEntry));
        self.inner.add_phase(portal, id, name, activity).await
    }
    async fn add_task(&self, task: &Task, activity: Option<&ActivityEntry>) -> Result<Task> {
        let activity = activity.filter(|_| !self.is(Breakage::TaskWithoutEntry));
        let added = self.inner.add_task(task, activity).await?;
        self.shadow().task_portal.insert(added.id, added.portal_id);
        Ok(added)
    }
    async fn put_logo(&self, logo: &Logo) -> Result<()> {
        self.inner.put_logo(logo).await
    }
    async fn logo(&self, sha256: &str) -> Result<Logo> {
        self.inner.logo(sha256).await
    }
    async fn portal_team(&self, portal: PortalId) -> Result<OnboardingTeam> {
        let team = self.inner.portal_team(portal).await?;
        if self.is(Breakage::TeamSortedByName) {
            let mut members = team.members().to_vec();
            members.sort_by(|a, b| a.name.cmp(&b.name));
            return OnboardingTeam::new(members);
        }
        Ok(team)
    }
    async fn portal_snapshot(&self, portal: PortalId) -> Result<PortalSnapshot> {
        self.inner.portal_snapshot(portal).await
    }
    async fn home_version(&self, portal: PortalId) -> Result<Option<u64>> {
        if self.is(Breakage::HomeVersionWithoutContacts) {
            use std::hash::{Hash, Hasher};
            let snapshot = self.inner.portal_snapshot(portal).await?;
            let team = self.inner.portal_team(portal).await?;
            let feed = self.inner.activity(portal, usize::MAX).await?;
            let mut h = std::collections::hash_map::DefaultHasher::new();
            format!("{snapshot:?}{team:?}{feed:?}").hash(&mut h);
            return Ok(Some(h.finish()));
        }
        if self.is(Breakage::HomeVersionEveryCall) {
            let mut sh = self.shadow();
            sh.home_calls += 1;
            return Ok(Some(sh.home_calls));
        }
        self.inner.home_version(portal).await
    }
    async fn delete_portal(&self, portal: PortalId, erasure: &Erasure) -> Result<Vec<BlobId>> {
        let mut blobs = self.inner.delete_portal(portal, erasure).await?;
        if self.is(Breakage::DeleteForgetsBlobs) {
            return Ok(Vec::new());
        }
        if self.is(Breakage::DeleteForgetsDropBlobs) {
            let sh = self.shadow();
            blobs.retain(|b| !sh.drops.values().any(|(_, d)| d == b));
        }
        if self.is(Breakage::DeleteForgetsSignatureDocuments) {
            let sh = self.shadow();
            blobs.retain(|b| !sh.signature_documents.contains(b));
        }
        if self.is(Breakage::DeleteForgetsSignatureImages) {
            let sh = self.shadow();
            blobs.retain(|b| !sh.signature_blobs.contains(b));
        }
        if self.is(Breakage::DeleteForgetsAttachments) {
            let sh = self.shadow();
            blobs.retain(|b| !sh.attachments.values().any(|(_, a)| a == b));
        }
        Ok(blobs)
    }
    async fn erasures(&self, tenant: TenantId) -> Result<Vec<Erasure>> {
        let mut log = self.inner.erasures(tenant).await?;
        if self.is(Breakage::ErasuresOldestFirst) {
            log.reverse();
        }
        Ok(log)
    }
    async fn edit_portal(
        &self,
        portal: PortalId,
        edit: &PortalEdit,
        expected: Option<u64>,
        activity: &ActivityEntry,
    ) -> Result<Portal> {
        if self.is(Breakage::PortalVersionIgnored)
            || (self.is(Breakage::TeamVersionIgnored) && matches!(edit, PortalEdit::Team(_)))
        {
            return self.inner.edit_portal(portal, edit, None, activity).await;
        }
        if let (true, PortalEdit::Team(team)) = (self.is(Breakage::TeamAppended), edit) {
            let mut members = self.inner.portal_team(portal).await?.members().to_vec();
            members.extend(team.members().iter().cloned());
            let appended = PortalEdit::Team(OnboardingTeam::new(members)?);
            return self
                .inner
                .edit_portal(portal, &appended, expected, activity)
                .await;
        }
        if self.is(Breakage::PortalVersionCheckedFirst) {
            let stored = self.inner.portal(portal).await?.version;
            portal_core::model::check_expected_version("portal", stored, expected)?;
            tokio::time::sleep(Duration::from_millis(30)).await;
            return self.inner.edit_portal(portal, edit, None, activity).await;
        }
        if self.is(Breakage::EditsNotKept) {
            // Answers with the edit applied, but writes nothing.
            let mut p = self.inner.portal(portal).await?;
            match edit {
                PortalEdit::Rename(name) => p.client_name.clone_from(name),
                PortalEdit::TargetDate(date) => p.target_date = *date,
                _ => {}
            }
            return Ok(p);
        }
        if self.is(Breakage::PortalEditWithoutEntry) {
            match edit {
                PortalEdit::Status(status) => {
                    self.inner.set_portal_status(portal, *status).await?;
                    return self.inner.portal(portal).await;
                }
                PortalEdit::Branding(branding) => {
                    self.inner.set_portal_branding(portal, branding).await?;
                    return self.inner.portal(portal).await;
                }
                _ => {}
            }
        }
        self.inner
            .edit_portal(portal, edit, expected, activity)
            .await
    }
    async fn edit_portal_fields(
        &self,
        portal: PortalId,
        edits: &[(PortalEdit, ActivityEntry)],
        expected: Option<u64>,
    ) -> Result<Portal> {
        // Piecemeal through this wrapper's own `edit_portal`: the breakage itself, or
        // so that the breakages of `edit_portal` reach the service's PATCH too.
        let piecemeal = [
            Breakage::PortalFieldsOneByOne,
            Breakage::PortalEditWithoutEntry,
            Breakage::EditsNotKept,
            Breakage::PortalVersionIgnored,
            Breakage::PortalVersionCheckedFirst,
        ];
        if piecemeal.into_iter().any(|b| self.is(b)) && !edits.is_empty() {
            let mut expected = expected;
            let mut stored = None;
            for (edit, entry) in edits {
                let edited = self.edit_portal(portal, edit, expected, entry).await?;
                expected = expected.map(|_| edited.version);
                stored = Some(edited);
            }
            return stored.ok_or_else(|| Error::invalid("edits", "empty"));
        }
        self.inner.edit_portal_fields(portal, edits, expected).await
    }
    async fn edit_contact(
        &self,
        contact: ContactId,
        edit: &ContactEdit,
        expected: Option<&str>,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        if self.is(Breakage::OwnEmailConflicts) {
            let current = self.inner.contact(contact).await?;
            if current.email == edit.email {
                return Err(Error::conflict("this email is taken"));
            }
        }
        if self.is(Breakage::ContactTagIgnored) {
            return self.inner.edit_contact(contact, edit, None, activity).await;
        }
        if self.is(Breakage::ContactLanguageDropped) {
            let without = ContactEdit {
                language: None,
                ..edit.clone()
            };
            return self
                .inner
                .edit_contact(contact, &without, expected, activity)
                .await;
        }
        if self.is(Breakage::ContactRoleDropped) {
            let without = ContactEdit {
                role: None,
                ..edit.clone()
            };
            return self
                .inner
                .edit_contact(contact, &without, expected, activity)
                .await;
        }
        self.inner
            .edit_contact(contact, edit, expected, activity)
            .await
    }
    async fn edit_tenant(
        &self,
        tenant: TenantId,
        edit: &TenantEdit,
        expected: Option<u64>,
    ) -> Result<Tenant> {
        if self.is(Breakage::TenantVersionIgnored) {
            return self.inner.edit_tenant(tenant, edit, None).await;
        }
        if self.is(Breakage::TenantEditReplacesRecipients) {
            // Every edit also clears the recipients (a whole-row write gone wrong).
            let edited = self.inner.edit_tenant(tenant, edit, expected).await?;
            if matches!(edit, TenantEdit::Rename(_)) {
                return self
                    .inner
                    .edit_tenant(
                        tenant,
                        &TenantEdit::NotificationRecipients(Vec::new()),
                        None,
                    )
                    .await;
            }
            return Ok(edited);
        }
        self.inner.edit_tenant(tenant, edit, expected).await
    }
    async fn edit_tenant_settings(
        &self,
        tenant: TenantId,
        edits: &[TenantEdit],
        expected: Option<u64>,
    ) -> Result<Tenant> {
        // Piecemeal through this wrapper's own `edit_tenant`: the breakage itself, or
        // so that the breakages of `edit_tenant` reach the service's PATCH too.
        let piecemeal = [
            Breakage::TenantSettingsOneByOne,
            Breakage::TenantVersionIgnored,
            Breakage::TenantEditReplacesRecipients,
        ];
        if piecemeal.into_iter().any(|b| self.is(b)) && !edits.is_empty() {
            let mut expected = expected;
            let mut stored = None;
            for edit in edits {
                let edited = self.edit_tenant(tenant, edit, expected).await?;
                expected = expected.map(|_| edited.version);
                stored = Some(edited);
            }
            return stored.ok_or_else(|| Error::invalid("edits", "empty"));
        }
        if self.is(Breakage::TenantSettingsPartial) && !edits.is_empty() {
            // Each setting alone, but only one version step: the ones before a
            // refusal stay.
            let mut stored = None;
            for (i, edit) in edits.iter().enumerate() {
                let t = self
                    .inner
                    .edit_tenant(tenant, edit, if i == 0 { expected } else { None })
                    .await?;
                stored = Some(t);
            }
            return stored.ok_or_else(|| Error::invalid("edits", "empty"));
        }
        if self.is(Breakage::TenantHostStolen) {
            for edit in edits {
                if let TenantEdit::BaseUrl(Some(url)) = edit {
                    for t in self.inner.tenants().await? {
                        if t.id != tenant
                            && t.base_url.as_ref().map(|u| u.host()) == Some(url.host())
                        {
                            self.inner
                                .edit_tenant(t.id, &TenantEdit::BaseUrl(None), None)
                                .await?;
                        }
                    }
                }
            }
        }
        if self.is(Breakage::TenantHostCheckedFirst) {
            // Hosts live in the shadow, checked before the write without a lock.
            let mut host = None;
            for edit in edits {
                if let TenantEdit::BaseUrl(url) = edit {
                    host = Some(url.clone());
                }
            }
            if let Some(Some(url)) = &host {
                let taken =
                    self.shadow().hosts.iter().any(|(t, u)| {
                        *t != tenant && u.as_ref().map(|u| u.host()) == Some(url.host())
                    });
                if taken {
                    return Err(Error::conflict("taken"));
                }
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
            let inner_edits: Vec<TenantEdit> = edits
                .iter()
                .map(|e| match e {
                    TenantEdit::BaseUrl(_) => TenantEdit::BaseUrl(None),
                    other => other.clone(),
                })
                .collect();
            let t = self
                .inner
                .edit_tenant_settings(tenant, &inner_edits, expected)
                .await?;
            if let Some(url) = host {
                self.shadow().hosts.insert(tenant, url);
            }
            return Ok(self.with_host(t));
        }
        self.inner
            .edit_tenant_settings(tenant, edits, expected)
            .await
    }
}

#[async_trait]
impl AccessStore for Broken {
    async fn issue_invite(
        &self,
        contact: ContactId,
        token: &TokenHash,
        now: DateTime<Utc>,
        emails: &[OutboxMessage],
        activity: Option<&ActivityEntry>,
    ) -> Result<ContactInPortal> {
        let emails = self.mail_outside_unit(emails).await;
        let activity = activity.filter(|_| !self.is(Breakage::AccessChangeWithoutEntry));
        let mut target = self
            .inner
            .issue_invite(contact, token, now, emails, activity)
            .await?;
        let mut sh = self.shadow();
        sh.invite_contact.insert(*token, contact);
        sh.current_invite.insert(contact, *token);
        if self.is(Breakage::ApprovalKeepsFlag) {
            target.contact.awaiting_approval |= sh.awaiting.contains(&contact);
        } else {
            sh.awaiting.remove(&contact);
        }
        Ok(target)
    }

    async fn invite_colleague(&self, invite: &ColleagueInvite) -> Result<ContactInPortal> {
        let c = &invite.colleague;
        let target = if self.is(Breakage::ColleagueIgnoresCap) {
            let mut uncapped = invite.clone();
            uncapped.cap = usize::MAX;
            self.inner.invite_colleague(&uncapped).await?
        } else if self.is(Breakage::ColleagueCapOutsideUnit) {
            // Check, pause, act: nothing holds the portal between the two.
            let portal = self.inner.portal(c.portal_id).await?;
            let active = self
                .inner
                .contacts(c.portal_id)
                .await?
                .iter()
                .filter(|o| o.revoked_at.is_none())
                .count();
            team::judge_colleague_invite(
                portal.colleague_invitations,
                active,
                invite.cap,
                c.awaiting_approval,
                invite.token.is_some(),
            )?;
            tokio::time::sleep(Duration::from_millis(30)).await;
            let mut uncapped = invite.clone();
            uncapped.cap = usize::MAX;
            self.inner.invite_colleague(&uncapped).await?
        } else if self.is(Breakage::ColleagueWithoutInvite) && invite.token.is_some() {
            self.inner.add_contact(c, Some(&invite.activity)).await?;
            self.inner.enqueue(&invite.emails).await?;
            return Ok(ContactInPortal {
                contact: self.inner.contact(c.id).await?,
                portal: self.inner.portal(c.portal_id).await?,
            });
        } else if self.is(Breakage::ColleagueMailOutsideUnit) {
            let _ = self.inner.enqueue(&invite.emails).await;
            let mut mailless = invite.clone();
            mailless.emails.clear();
            self.inner.invite_colleague(&mailless).await?
        } else {
            self.inner.invite_colleague(invite).await?
        };
        let mut sh = self.shadow();
        if let Some(token) = invite.token {
            sh.invite_contact.insert(token, c.id);
            sh.current_invite.insert(c.id, token);
        }
        if c.awaiting_approval {
            sh.awaiting.insert(c.id);
        }
        Ok(target)
    }

    async fn revoke_invite(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        let activity = activity.filter(|_| !self.is(Breakage::AccessChangeWithoutEntry));
        self.inner.revoke_invite(contact, now, activity).await
    }

    async fn open_invite(&self, token: &TokenHash, now: DateTime<Utc>) -> Result<ContactInPortal> {
        let now = if self.is(Breakage::EndedGuestInviteOpens) {
            EPOCH
        } else {
            now
        };
        self.inner.open_invite(&self.invite_for(token), now).await
    }

    async fn add_guest(&self, new: &NewGuest) -> Result<ContactInPortal> {
        let c = &new.guest;
        let target = if self.is(Breakage::GuestTasksUnjudged) {
            self.inner.add_contact(c, Some(&new.activity)).await?;
            self.inner
                .issue_invite(c.id, &new.token, c.created_at, &new.emails, None)
                .await?
        } else if self.is(Breakage::GuestMailOutsideUnit) {
            let _ = self.inner.enqueue(&new.emails).await;
            let mut mailless = new.clone();
            mailless.emails.clear();
            self.inner.add_guest(&mailless).await?
        } else {
            self.inner.add_guest(new).await?
        };
        let mut sh = self.shadow();
        sh.invite_contact.insert(new.token, c.id);
        sh.current_invite.insert(c.id, new.token);
        Ok(target)
    }

    async fn start_handover(&self, new: &NewHandover) -> Result<Handover> {
        let in_pieces = |new: NewHandover| async move {
            let portal = new.phase.portal_id;
            let phase = self
                .inner
                .add_phase(portal, new.phase.id, &new.phase.name, None)
                .await?;
            let mut tasks = Vec::new();
            for t in &new.tasks {
                tasks.push(self.inner.add_task(t, None).await?);
            }
            let guest = self.add_guest(&new.guest).await?.contact;
            Ok(Handover {
                phase,
                tasks,
                guest,
            })
        };
        if self.is(Breakage::HandoverInPieces) {
            return in_pieces(new.clone()).await;
        }
        if self.is(Breakage::HandoverWithoutShares) {
            let mut unshared = new.clone();
            if let Some(g) = unshared.guest.guest.guest.as_mut() {
                g.shared_tasks.clear();
            }
            return in_pieces(unshared).await;
        }
        match self.inner.start_handover(new).await {
            Err(Error::Conflict { .. }) if self.is(Breakage::HandoverTwice) => {
                in_pieces(new.clone()).await
            }
            other => {
                if other.is_ok() {
                    let mut sh = self.shadow();
                    sh.invite_contact
                        .insert(new.guest.token, new.guest.guest.id);
                    sh.current_invite
                        .insert(new.guest.guest.id, new.guest.token);
                }
                other
            }
        }
    }

    async fn share_task(
        &self,
        contact: ContactId,
        task: TaskId,
        shared: bool,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        if !shared && self.is(Breakage::UnshareIgnored) {
            return self.inner.contact(contact).await;
        }
        self.inner.share_task(contact, task, shared, activity).await
    }

    async fn end_guest_access(
        &self,
        contact: ContactId,
        at: DateTime<Utc>,
        activity: &ActivityEntry,
    ) -> Result<Contact> {
        if self.is(Breakage::GuestEndNotStored) {
            let mut c = self.inner.contact(contact).await?;
            c.guest = Some(guests::end_access(&c, at)?);
            return Ok(c);
        }
        self.inner.end_guest_access(contact, at, activity).await
    }

    async fn start_verification(
        &self,
        invite: &TokenHash,
        verification: &TokenHash,
        code: &NewCode,
        policy: &AccessPolicy,
    ) -> Result<ContactInPortal> {
        let invite = self.invite_for(invite);
        let target = if self.is(Breakage::UnlockedStart) {
            // Check, pause, act: nothing holds the contact between the two.
            let target = self.inner.open_invite(&invite, code.issued_at).await?;
            let starts: Vec<DateTime<Utc>> = self
                .shadow()
                .starts
                .values()
                .filter(|(c, _)| *c == target.contact.id)
                .map(|(_, at)| *at)
                .collect();
            rules::judge_email(&starts, code.issued_at, policy)?;
            tokio::time::sleep(Duration::from_millis(30)).await;
            let unlimited = AccessPolicy {
                max_emails_per_contact: u32::MAX,
                ..*policy
            };
            self.inner
                .start_verification(&invite, verification, code, &unlimited)
                .await?
        } else if self.is(Breakage::EndlessVerification) {
            let endless = AccessPolicy {
                verification_ttl: TimeDelta::days(36_500),
                ..*policy
            };
            self.inner
                .start_verification(&invite, verification, code, &endless)
                .await?
        } else {
            self.inner
                .start_verification(&invite, verification, code, policy)
                .await?
        };
        self.saw_code(*verification, code);
        let mut sh = self.shadow();
        sh.contact_of.insert(*verification, target.contact.id);
        sh.starts
            .insert(*verification, (target.contact.id, code.issued_at));
        Ok(target)
    }

    async fn verification(
        &self,
        verification: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<VerificationView> {
        self.inner.verification(verification, now).await
    }

    async fn issue_code(
        &self,
        verification: &TokenHash,
        code: &NewCode,
        policy: &AccessPolicy,
    ) -> Result<(ContactInPortal, u32)> {
        let mut policy = *policy;
        if self.is(Breakage::SixthCode) {
            policy.max_codes_per_verification = u32::MAX;
        }
        if self.is(Breakage::ResendsUncounted) {
            policy.max_emails_per_contact = u32::MAX;
        }
        // The contact's other verifications with a live code, before this one kills them.
        let mut live_elsewhere = Vec::new();
        if self.is(Breakage::SparesOtherCodes) {
            let others: Vec<TokenHash> = {
                let sh = self.shadow();
                let contact = sh.contact_of.get(verification).copied();
                sh.contact_of
                    .iter()
                    .filter(|(v, c)| *v != verification && Some(**c) == contact)
                    .map(|(v, _)| *v)
                    .collect()
            };
            for v in others {
                if self
                    .inner
                    .verification(&v, code.issued_at)
                    .await
                    .is_ok_and(|view| view.code_expires_at.is_some())
                {
                    live_elsewhere.push(v);
                }
            }
        }
        let out = self.inner.issue_code(verification, code, &policy).await?;
        self.saw_code(*verification, code);
        self.shadow().spared.extend(live_elsewhere);
        Ok(out)
    }

    async fn withdraw_code(&self, verification: &TokenHash, magic: &TokenHash) -> Result<()> {
        let magic = match self.shadow().codes.get(verification) {
            Some(latest) if self.is(Breakage::WithdrawAnyLink) => latest.magic_hash,
            _ => *magic,
        };
        let before = self.inner.verification(verification, EPOCH).await.is_ok();
        self.inner.withdraw_code(verification, &magic).await?;
        if before
            && matches!(
                self.inner.verification(verification, EPOCH).await,
                Err(Error::NotFound {
                    entity: Entity::Verification
                })
            )
        {
            self.shadow().starts.remove(verification);
        }
        Ok(())
    }

    async fn redeem_code(
        &self,
        verification: &TokenHash,
        presented: &CodeHash,
        now: DateTime<Utc>,
        policy: &AccessPolicy,
        session: &NewSession,
    ) -> Result<ClientContext> {
        let mut policy = *policy;
        if self.is(Breakage::NoContactCap) {
            policy.max_wrong_codes_per_contact = u32::MAX;
        }
        let policy = &policy;
        let max_wrong_attempts = policy.max_wrong_attempts;
        let wrong = self.is_wrong(verification, presented);
        if self.is(Breakage::SkipsWrongTry) && wrong {
            let view = self.inner.verification(verification, now).await?;
            if view.code_expires_at.is_some() {
                // Told it is wrong, but the try is never written.
                return Err(Error::WrongCode {
                    attempts_left: max_wrong_attempts.saturating_sub(1),
                });
            }
        }
        if self.is(Breakage::OptimisticRedeem) && wrong {
            let cell = self
                .shadow()
                .in_flight
                .entry(*verification)
                .or_default()
                .clone();
            let answer = *cell
                .get_or_init(|| async {
                    // The first try of a burst writes; the ones that read the same count
                    // meanwhile write the same next value, so only one try is counted.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let r = self
                        .inner
                        .redeem_code(verification, presented, now, policy, session)
                        .await;
                    self.shadow().in_flight.remove(verification);
                    if matches!(Wrong::of(&r), Wrong::Other) {
                        // Not a counted try (expired, revoked...): answer as the store did.
                        return Wrong::Other;
                    }
                    Wrong::of(&r)
                })
                .await;
            if !matches!(answer, Wrong::Other) {
                return Err(answer.error());
            }
        }
        if self.is(Breakage::SparesOtherCodes) && !wrong {
            self.revive(*verification).await;
        }
        let mut r = self
            .inner
            .redeem_code(verification, presented, now, policy, session)
            .await;
        if let Err(Error::LimitReached(Limit::ContactLockedOut { until, .. })) = r
            && self.is(Breakage::ComparesWhileLockedOut)
            && !wrong
        {
            // The code is judged as if the lockout were over.
            r = self
                .inner
                .redeem_code(
                    verification,
                    presented,
                    until + TimeDelta::seconds(1),
                    policy,
                    session,
                )
                .await;
        }
        self.saw_session(session, &r);
        r
    }

    async fn magic_link(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
    ) -> Result<ContactInPortal> {
        let link = self.spared_link(magic).await;
        let r = self.inner.magic_link(&link, now, max_wrong_attempts).await;
        self.link_answer(magic, r)
    }

    async fn redeem_magic_link(
        &self,
        magic: &TokenHash,
        now: DateTime<Utc>,
        max_wrong_attempts: u32,
        session: &NewSession,
    ) -> Result<ClientContext> {
        let link = self.spared_link(magic).await;
        let r = self
            .inner
            .redeem_magic_link(&link, now, max_wrong_attempts, session)
            .await;
        self.saw_session(session, &r);
        self.link_answer(magic, r)
    }

    async fn authenticate(
        &self,
        session: &TokenHash,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
        request: &RequestInfo,
    ) -> Result<ClientContext> {
        let policy = if self.is(Breakage::RefreshesAlways) {
            SessionPolicy {
                refresh_after: TimeDelta::zero(),
                ..*policy
            }
        } else {
            *policy
        };
        if self.is(Breakage::NotesEveryRequest) {
            let r = self
                .inner
                .authenticate(session, now, &policy, request)
                .await;
            if r.is_ok() {
                let ua = rules::session_user_agent(request.user_agent.as_deref());
                self.shadow().seen.insert(*session, (now, ua));
            }
            return r;
        }
        match self
            .inner
            .authenticate(session, now, &policy, request)
            .await
        {
            Err(Error::Revoked {
                entity: Entity::Session,
            }) if self.is(Breakage::EndedGuestSessionPasses) => {
                let ctx = self.shadow().sessions.get(session).cloned();
                let ends = match ctx {
                    Some(ctx) => self
                        .inner
                        .contact(ctx.contact_id)
                        .await?
                        .guest
                        .and_then(|g| g.access_ends_at),
                    None => None,
                };
                match ends {
                    Some(ends) => {
                        self.inner
                            .authenticate(session, ends.min(now), &policy, request)
                            .await
                    }
                    None => Err(Error::Revoked {
                        entity: Entity::Session,
                    }),
                }
            }
            Err(Error::Revoked {
                entity: Entity::Session,
            }) if self.is(Breakage::RevokedSessionPasses) => {
                match self.shadow().sessions.get(session) {
                    Some(ctx) => Ok(ctx.clone()),
                    None => Err(Error::Revoked {
                        entity: Entity::Session,
                    }),
                }
            }
            other => other,
        }
    }

    async fn end_session(&self, session: &TokenHash, now: DateTime<Utc>) -> Result<()> {
        self.inner.end_session(session, now).await
    }

    async fn contact_sessions(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
    ) -> Result<Vec<portal_core::store::SessionSummary>> {
        let mut listed = self.inner.contact_sessions(contact, now).await?;
        if self.is(Breakage::NotesEveryRequest) {
            let shadow = self.shadow();
            for s in &mut listed {
                if let Some((at, ua)) = shadow.seen.get(&s.token_hash) {
                    s.last_seen_at = *at;
                    s.user_agent.clone_from(ua);
                }
            }
            listed.sort_by_key(|s| std::cmp::Reverse(s.last_seen_at));
        }
        Ok(listed)
    }

    async fn end_other_sessions(
        &self,
        contact: ContactId,
        keep: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        if self.is(Breakage::EndsNoOtherSession) {
            return Ok(0);
        }
        let ended = self.inner.end_other_sessions(contact, keep, now).await?;
        if self.is(Breakage::EndsKeptSession) {
            self.inner.end_session(keep, now).await?;
        }
        Ok(ended)
    }

    async fn set_contact_time_zone(
        &self,
        contact: ContactId,
        zone: portal_core::model::TimeZone,
    ) -> Result<Contact> {
        if self.is(Breakage::ZoneNotKept) {
            let mut c = self.inner.contact(contact).await?;
            c.time_zone = zone;
            return Ok(c);
        }
        self.inner.set_contact_time_zone(contact, zone).await
    }

    async fn revoke_contact(
        &self,
        contact: ContactId,
        now: DateTime<Utc>,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        let activity = activity.filter(|_| !self.is(Breakage::AccessChangeWithoutEntry));
        self.inner.revoke_contact(contact, now, activity).await
    }
    async fn remove_contact(&self, contact: ContactId, activity: &ActivityEntry) -> Result<()> {
        if self.is(Breakage::RemoveOnlyRevokes) {
            return self.inner.revoke_contact(contact, activity.at, None).await;
        }
        if self.is(Breakage::RemoveAcceptsForeignActivity) {
            let portal = self.inner.contact(contact).await?.portal_id;
            let refiled = ActivityEntry {
                portal_id: portal,
                ..activity.clone()
            };
            return self.inner.remove_contact(contact, &refiled).await;
        }
        self.inner.remove_contact(contact, activity).await
    }

    async fn record_access(&self, entry: &AccessLogEntry) -> Result<()> {
        let done = self.inner.record_access(entry).await;
        if done.is_ok()
            && matches!(
                entry.event,
                AccessEvent::Verified | AccessEvent::PortalRequest
            )
        {
            self.shadow()
                .visits
                .entry(entry.contact_id)
                .or_default()
                .push(entry.at);
        }
        done
    }

    async fn access_log(&self, portal: PortalId, limit: usize) -> Result<Vec<AccessLogEntry>> {
        self.inner.access_log(portal, limit).await
    }
    async fn access_log_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<AccessLogEntry>> {
        if self.is(Breakage::PagesByOffset) {
            let all = self.inner.access_log(portal, usize::MAX).await?;
            return Ok(offset_page(all, after, limit, |e| e.at));
        }
        self.inner.access_log_page(portal, after, limit).await
    }

    async fn prune_access_log(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        if self.is(Breakage::PrunesTheBoundary) {
            let inclusive = before + TimeDelta::microseconds(1);
            return self.inner.prune_access_log(inclusive, max_rows).await;
        }
        if self.is(Breakage::PruneIgnoresMaxRows) {
            return self.inner.prune_access_log(before, usize::MAX).await;
        }
        self.inner.prune_access_log(before, max_rows).await
    }
}

#[async_trait]
impl PlanStore for Broken {
    async fn plan(&self, portal: PortalId) -> Result<Plan> {
        self.inner.plan(portal).await
    }
    async fn change_plan(&self, portal: PortalId, decide: PlanDecision) -> Result<PlanChange> {
        if self.is(Breakage::UnlockedPlanChange) {
            let before = self.inner.plan(portal).await?;
            let change = decide(&before)?;
            tokio::time::sleep(Duration::from_millis(30)).await;
            let written = change.clone();
            // Writes the stale decision over whatever the plan has become.
            return self
                .inner
                .change_plan(portal, Arc::new(move |_| Ok(written.clone())))
                .await
                .map(|_| change);
        }
        if self.is(Breakage::DropsPlanComments) {
            let strip: PlanDecision = Arc::new(move |plan: &Plan| {
                let mut change = decide(plan)?;
                change.comments.clear();
                Ok(change)
            });
            return self.inner.change_plan(portal, strip).await;
        }
        if self.is(Breakage::KeepsDeletedComments) {
            let before = self.inner.plan(portal).await?;
            let change = decide(&before)?;
            let deleted = change.diff(&before)?.deleted_tasks;
            let mut kept = Vec::new();
            for task in deleted {
                kept.extend(self.inner.comments(portal, task).await.unwrap_or_default());
            }
            let written = change.clone();
            let done = self
                .inner
                .change_plan(portal, Arc::new(move |_| Ok(written.clone())))
                .await?;
            // The reference store cannot keep a deleted task's thread: the shadow
            // keeps it and `comments` answers it, as a store that forgot to delete
            // the rows would.
            let mut shadow = self.shadow();
            for c in kept {
                shadow.orphan_comments.entry(c.task_id).or_default().push(c);
            }
            return Ok(done);
        }
        if self.is(Breakage::DeleteTaskKeepsAttachmentBlobs) {
            let mut done = self.inner.change_plan(portal, decide).await?;
            let shadow = self.shadow();
            done.erased_blobs
                .retain(|b| !shadow.attachments.values().any(|(_, a)| a == b));
            drop(shadow);
            return Ok(done);
        }
        if self.is(Breakage::DeleteTaskKeepsDropBlobs)
            || self.is(Breakage::DeleteTaskKeepsSignatureBlobs)
        {
            let mut done = self.inner.change_plan(portal, decide).await?;
            let shadow = self.shadow();
            let drops: HashSet<BlobId> = shadow.drops.values().map(|(_, b)| *b).collect();
            done.erased_blobs.retain(|b| {
                if self.is(Breakage::DeleteTaskKeepsDropBlobs) {
                    !drops.contains(b)
                } else {
                    !shadow.signature_blobs.contains(b) && !shadow.signature_documents.contains(b)
                }
            });
            drop(shadow);
            return Ok(done);
        }
        if self.is(Breakage::PlanUnchecked) {
            let before = self.inner.plan(portal).await?;
            let change = decide(&before)?;
            if change.diff(&before).is_err() {
                // A store that skips the check answers as if the bad plan were written.
                return Ok(change);
            }
        }
        self.inner.change_plan(portal, decide).await
    }
}

#[async_trait]
impl TemplateStore for Broken {
    async fn create_template(&self, template: &PlanTemplate) -> Result<()> {
        self.inner.create_template(template).await?;
        self.shadow()
            .template_tenant
            .insert(template.id, template.tenant_id);
        Ok(())
    }
    async fn replace_template(&self, template: &PlanTemplate, expected: u64) -> Result<()> {
        if self.is(Breakage::TemplateReplaceUnchecked) {
            let current = self
                .inner
                .template(template.tenant_id, template.id)
                .await?
                .version;
            return self.inner.replace_template(template, current).await;
        }
        self.inner.replace_template(template, expected).await
    }
    async fn template(&self, tenant: TenantId, id: TemplateId) -> Result<PlanTemplate> {
        let tenant = match self.shadow().template_tenant.get(&id) {
            Some(real) if self.is(Breakage::TemplateIgnoresTenant) => *real,
            _ => tenant,
        };
        self.inner.template(tenant, id).await
    }
    async fn templates(&self, tenant: TenantId) -> Result<Vec<PlanTemplate>> {
        self.inner.templates(tenant).await
    }
    async fn templates_page(
        &self,
        tenant: TenantId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<PlanTemplate>> {
        if self.is(Breakage::ListsByOffset) {
            // In the right order (oldest first), read whole for every page.
            let mut all = Vec::new();
            let mut key = None;
            loop {
                let page = self.inner.templates_page(tenant, key, 100).await?;
                all.extend(page.items);
                key = page.next;
                if key.is_none() {
                    break;
                }
            }
            return Ok(offset_page(all, after, limit, |t| t.created_at));
        }
        self.inner.templates_page(tenant, after, limit).await
    }
    async fn create_portal_with_plan(
        &self,
        portal: &Portal,
        phases: &[Phase],
        tasks: &[Task],
        activity: &[ActivityEntry],
    ) -> Result<()> {
        if self.is(Breakage::PortalWithoutItsPlan) {
            self.inner.create_portal(portal, None).await?;
            // The plan's own check, after the portal was written.
            portal_core::store::check_new_plan(portal, phases, tasks, activity)?;
            return self
                .inner
                .change_plan(portal.id, {
                    let (phases, tasks, activity) =
                        (phases.to_vec(), tasks.to_vec(), activity.to_vec());
                    Arc::new(move |_| {
                        Ok(PlanChange {
                            phases: phases.clone(),
                            tasks: tasks.clone(),
                            activity: activity.clone(),
                            notices: Vec::new(),
                            emails: Vec::new(),
                            subject: None,
                            comments: Vec::new(),
                            erased_blobs: Vec::new(),
                        })
                    })
                })
                .await
                .map(|_| ());
        }
        let dropped;
        let portal = if self.is(Breakage::PortalWithPlanDropsTargetDate) {
            dropped = Portal {
                target_date: None,
                ..portal.clone()
            };
            &dropped
        } else {
            portal
        };
        self.inner
            .create_portal_with_plan(portal, phases, tasks, activity)
            .await?;
        let mut shadow = self.shadow();
        shadow.portal_tenant.insert(portal.id, portal.tenant_id);
        for t in tasks {
            shadow.task_portal.insert(t.id, t.portal_id);
        }
        Ok(())
    }
}

#[async_trait]
impl WorkflowStore for Broken {
    async fn task(&self, portal: PortalId, task: TaskId) -> Result<Task> {
        let portal = match self.shadow().task_portal.get(&task) {
            Some(real) if self.is(Breakage::TaskIgnoresPortal) => *real,
            _ => portal,
        };
        self.inner.task(portal, task).await
    }

    async fn update_task(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: TaskDecision,
    ) -> Result<Task> {
        if self.is(Breakage::UnlockedUpdate) {
            // Read, decide, pause, write what was decided on the stale read.
            let current = self.inner.task(portal, task).await?;
            let change = decide(&current)?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let write: TaskDecision = Arc::new(move |_: &Task| Ok(change.clone()));
            return self.inner.update_task(portal, task, write).await;
        }
        if self.is(Breakage::ForeignActivityAccepted) {
            let refile: TaskDecision = Arc::new(move |current: &Task| {
                let mut change = decide(current)?;
                change.activity.portal_id = current.portal_id;
                Ok(change)
            });
            return self.inner.update_task(portal, task, refile).await;
        }
        self.inner.update_task(portal, task, decide).await
    }

    async fn add_comment(
        &self,
        comment: &Comment,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        let activity = self.file_under(comment.portal_id, activity);
        let emails = self.mail_outside_unit(emails).await;
        self.inner.add_comment(comment, &activity, emails).await
    }

    async fn comments(&self, portal: PortalId, task: TaskId) -> Result<Vec<Comment>> {
        if let Some(kept) = self.shadow().orphan_comments.get(&task) {
            return Ok(kept.clone());
        }
        let mut listed = self.inner.comments(portal, task).await?;
        if self.is(Breakage::CommentsReversed) {
            listed.reverse();
        }
        Ok(listed)
    }

    async fn add_question(
        &self,
        question: &ClientQuestion,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        let activity = self.file_under(question.portal_id, activity);
        let emails = self.mail_outside_unit(emails).await;
        if self.is(Breakage::QuestionAddresseeDropped) {
            let mut to_all = question.clone();
            to_all.to = None;
            return self.inner.add_question(&to_all, &activity, emails).await;
        }
        self.inner.add_question(question, &activity, emails).await
    }

    async fn answer_question(
        &self,
        portal: PortalId,
        question: QuestionId,
        answer: &QuestionAnswer,
        activity: &ActivityEntry,
        emails: &[OutboxMessage],
    ) -> Result<ClientQuestion> {
        let activity = self.file_under(portal, activity);
        self.inner
            .answer_question(portal, question, answer, &activity, emails)
            .await
    }

    async fn questions(&self, portal: PortalId) -> Result<Vec<ClientQuestion>> {
        self.inner.questions(portal).await
    }

    async fn activity(&self, portal: PortalId, limit: usize) -> Result<Vec<ActivityEntry>> {
        let mut feed = self.inner.activity(portal, limit).await?;
        if self.is(Breakage::DropWithoutFeed) {
            use portal_core::workflow::ActivityKind as K;
            feed.retain(|e| {
                !matches!(
                    e.kind,
                    K::FileDropped | K::FileDeleted | K::FileDownloaded | K::FileExpired
                )
            });
        }
        Ok(feed)
    }

    async fn activity_page(
        &self,
        portal: PortalId,
        after: Option<PageKey>,
        limit: usize,
    ) -> Result<Page<ActivityEntry>> {
        if self.is(Breakage::PagesByOffset) {
            let all = self.inner.activity(portal, usize::MAX).await?;
            return Ok(offset_page(all, after, limit, |e| e.at));
        }
        self.inner.activity_page(portal, after, limit).await
    }

    async fn set_tenant_branding(&self, tenant: TenantId, branding: &Branding) -> Result<()> {
        self.inner.set_tenant_branding(tenant, branding).await
    }

    async fn set_portal_branding(&self, portal: PortalId, branding: &Branding) -> Result<()> {
        self.inner.set_portal_branding(portal, branding).await
    }
}

#[async_trait]
impl DocumentStore for Broken {
    async fn add_document_file(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: UploadDecision,
    ) -> Result<DocumentFile> {
        let decide: UploadDecision = if self.is(Breakage::UnlockedUpload) {
            // Decide on a read taken before a pause, then write that decision.
            let current = self.inner.task(portal, task).await?;
            let change = decide(&current)?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            Arc::new(move |_: &Task| Ok(change.clone()))
        } else if self.is(Breakage::TenantUnchecked) {
            let tenant = self.shadow().portal_tenant.get(&portal).copied();
            Arc::new(move |t: &Task| {
                let mut change = decide(t)?;
                if let Some(tenant) = tenant {
                    change.file.tenant_id = tenant;
                }
                Ok(change)
            })
        } else if self.is(Breakage::NoSupersede) {
            Arc::new(move |t: &Task| {
                let mut change = decide(t)?;
                change.superseded = None;
                Ok(change)
            })
        } else {
            decide
        };
        let added = self.inner.add_document_file(portal, task, decide).await?;
        self.shadow().file_portal.insert(added.id, added.portal_id);
        Ok(added)
    }

    async fn update_document_file(
        &self,
        portal: PortalId,
        file: FileId,
        decide: FileDecision,
    ) -> Result<DocumentFile> {
        let portal = self.file_portal(portal, file);
        if self.is(Breakage::UnlockedReview) {
            let current = self.inner.document_file(portal, file).await?;
            let task = self.inner.task(portal, current.task_id).await?;
            let change = decide(&task, &current)?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let write: FileDecision =
                Arc::new(move |_: &Task, _: &DocumentFile| Ok(change.clone()));
            return self.inner.update_document_file(portal, file, write).await;
        }
        self.inner.update_document_file(portal, file, decide).await
    }

    async fn document_file(&self, portal: PortalId, file: FileId) -> Result<DocumentFile> {
        let portal = self.file_portal(portal, file);
        self.inner.document_file(portal, file).await
    }

    async fn document_files(&self, portal: PortalId) -> Result<Vec<DocumentFile>> {
        self.inner.document_files(portal).await
    }

    async fn review_queue(&self, tenant: TenantId, limit: usize) -> Result<Vec<DocumentFile>> {
        if self.is(Breakage::QueueNewestFirst) {
            let mut all = self.inner.review_queue(tenant, usize::MAX).await?;
            all.reverse();
            all.truncate(limit);
            return Ok(all);
        }
        self.inner.review_queue(tenant, limit).await
    }

    async fn files_to_rewrap(
        &self,
        active: &KeyId,
        after: Option<FileId>,
        limit: usize,
    ) -> Result<Vec<DocumentFile>> {
        let never = KeyId::parse("never-a-key").unwrap();
        let active = if self.is(Breakage::RewrapListsActive) {
            &never
        } else {
            active
        };
        let after = if self.is(Breakage::RewrapIgnoresCursor) {
            None
        } else {
            after
        };
        self.inner.files_to_rewrap(active, after, limit).await
    }

    async fn replace_file_key(
        &self,
        file: FileId,
        expected: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool> {
        if self.is(Breakage::KeySwapWithoutCompare) {
            let portal = self.shadow().file_portal.get(&file).copied();
            if let Some(portal) = portal {
                let current = self.inner.document_file(portal, file).await?;
                return self.inner.replace_file_key(file, &current.key, new).await;
            }
        }
        self.inner.replace_file_key(file, expected, new).await
    }

    async fn sealed_keys_to_rewrap(
        &self,
        kind: SealedKind,
        active: &KeyId,
        after: Option<SealedAt>,
        limit: usize,
    ) -> Result<Vec<SealedKey>> {
        let skipped = match kind {
            SealedKind::SignatureImage => Breakage::RewrapSkipsSignatureImages,
            SealedKind::SignatureDocument => Breakage::RewrapSkipsSignatureDocuments,
            SealedKind::DroppedFile => Breakage::RewrapSkipsDroppedFiles,
            SealedKind::CredentialField => Breakage::RewrapSkipsCredentialFields,
            SealedKind::TaskAttachment => Breakage::RewrapSkipsTaskAttachments,
        };
        if self.is(skipped) {
            return Ok(Vec::new());
        }
        self.inner
            .sealed_keys_to_rewrap(kind, active, after, limit)
            .await
    }

    async fn replace_sealed_key(
        &self,
        kind: SealedKind,
        at: SealedAt,
        expected: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool> {
        self.inner.replace_sealed_key(kind, at, expected, new).await
    }

    async fn blob_in_use(&self, blob: BlobId) -> Result<bool> {
        if self.is(Breakage::DropBlobsNotInUse)
            && self.shadow().drops.values().any(|(_, b)| *b == blob)
        {
            return Ok(false);
        }
        if self.is(Breakage::SignatureImagesNotInUse) {
            let signed = self.shadow().signature_blobs.contains(&blob);
            if signed {
                return Ok(false);
            }
        }
        if self.is(Breakage::SignatureDocumentsNotInUse)
            && self.shadow().signature_documents.contains(&blob)
        {
            return Ok(false);
        }
        if self.is(Breakage::AttachmentsNotInUse)
            && self.shadow().attachments.values().any(|(_, b)| *b == blob)
        {
            return Ok(false);
        }
        self.inner.blob_in_use(blob).await
    }
}

impl Broken {
    /// The portal to ask the inner store through: the file's own when the breakage
    /// ignores the portal it was asked through.
    fn file_portal(&self, asked: PortalId, file: FileId) -> PortalId {
        match self.shadow().file_portal.get(&file) {
            Some(real) if self.is(Breakage::FileIgnoresPortal) => *real,
            _ => asked,
        }
    }
}

impl Broken {
    /// The emails to hand a unit: with [`Breakage::MailOutsideUnit`] they are queued
    /// first, on their own, and the unit gets none.
    async fn mail_outside_unit<'a>(&self, emails: &'a [OutboxMessage]) -> &'a [OutboxMessage] {
        if self.is(Breakage::MailOutsideUnit) {
            let _ = self.inner.enqueue(emails).await;
            return &[];
        }
        emails
    }

    /// Puts back the bodies of a sent or failed email (for [`Breakage::KeepsBodies`]).
    fn with_bodies(&self, mut m: OutboxMessage) -> OutboxMessage {
        if self.is(Breakage::KeepsBodies)
            && m.state != MailState::Pending
            && let Some(queued) = self.shadow().mail.get(&m.id)
        {
            m.email = queued.email.clone();
        }
        m
    }
}

#[async_trait]
impl OutboxStore for Broken {
    async fn enqueue(&self, emails: &[OutboxMessage]) -> Result<()> {
        let stripped: Vec<OutboxMessage>;
        let emails = if self.is(Breakage::DropsAttachments) || self.is(Breakage::DropsSender) {
            stripped = emails
                .iter()
                .cloned()
                .map(|mut m| {
                    if self.is(Breakage::DropsAttachments) {
                        m.email.attachments.clear();
                    } else {
                        m.email.sender = None;
                    }
                    m
                })
                .collect();
            &stripped[..]
        } else {
            emails
        };
        let done = if self.is(Breakage::EnqueuePartial) {
            let mut first_error = Ok(());
            for m in emails {
                if let Err(e) = self.inner.enqueue(std::slice::from_ref(m)).await
                    && first_error.is_ok()
                {
                    first_error = Err(e);
                }
            }
            first_error
        } else {
            self.inner.enqueue(emails).await
        };
        if done.is_ok() {
            let mut sh = self.shadow();
            for m in emails {
                sh.mail.insert(m.id, m.clone());
            }
        }
        done
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
        claim: ClaimToken,
    ) -> Result<Vec<OutboxMessage>> {
        if self.is(Breakage::UnlockedClaim) {
            // Read what is claimable, pause, then "write" the claim of what was read.
            let known: Vec<MailId> = self.shadow().mail.keys().copied().collect();
            let mut due = Vec::new();
            for id in known {
                let m = self.inner.outbox_message(id).await?;
                if m.claimable(now) {
                    due.push(m);
                }
            }
            due.sort_by_key(|m| m.next_attempt_at);
            due.truncate(limit);
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = self.inner.claim_due(now, lease_until, limit, claim).await?;
            for m in &mut due {
                m.attempts += 1;
                m.lease = Some(Lease {
                    claim,
                    until: lease_until,
                });
            }
            return Ok(due);
        }
        let asked = if self.is(Breakage::ClaimsFutureMail) {
            now + TimeDelta::days(1)
        } else {
            now
        };
        let mut claimed = self
            .inner
            .claim_due(asked, lease_until, limit, claim)
            .await?;
        if self.is(Breakage::ClaimIgnoresLease) && claimed.len() < limit {
            // Also hand out emails another claim holds, as if their lease had ended.
            let known: Vec<MailId> = self.shadow().mail.keys().copied().collect();
            for id in known {
                if claimed.len() >= limit || claimed.iter().any(|m| m.id == id) {
                    continue;
                }
                let mut m = self.inner.outbox_message(id).await?;
                if m.state == MailState::Pending
                    && m.next_attempt_at <= now
                    && m.lease.is_some_and(|l| now <= l.until)
                {
                    m.attempts += 1;
                    m.lease = Some(Lease {
                        claim,
                        until: lease_until,
                    });
                    claimed.push(m);
                }
            }
        }
        Ok(claimed)
    }

    async fn mark_sent(&self, id: MailId, claim: ClaimToken, at: DateTime<Utc>) -> Result<bool> {
        if self.is(Breakage::MarkIgnoresClaim)
            && let Some(holder) = self.inner.outbox_message(id).await?.lease
        {
            return self.inner.mark_sent(id, holder.claim, at).await;
        }
        self.inner.mark_sent(id, claim, at).await
    }

    async fn mark_failed(
        &self,
        id: MailId,
        claim: ClaimToken,
        failure: &FailedAttempt,
    ) -> Result<bool> {
        if self.is(Breakage::MarkIgnoresClaim)
            && let Some(holder) = self.inner.outbox_message(id).await?.lease
        {
            return self.inner.mark_failed(id, holder.claim, failure).await;
        }
        self.inner.mark_failed(id, claim, failure).await
    }

    async fn outbox_message(&self, id: MailId) -> Result<OutboxMessage> {
        Ok(self.with_bodies(self.inner.outbox_message(id).await?))
    }

    async fn failed_mail(&self, tenant: TenantId, limit: usize) -> Result<Vec<OutboxMessage>> {
        let listed = self.inner.failed_mail(tenant, limit).await?;
        Ok(listed.into_iter().map(|m| self.with_bodies(m)).collect())
    }

    async fn prune_sent(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        let before = if self.is(Breakage::PruneSentBoundary) {
            before + TimeDelta::microseconds(1)
        } else {
            before
        };
        self.inner.prune_sent(before, max_rows).await
    }
}

/// One tenant for every key, when keys are (wrongly) shared across tenants.
const SHARED_TENANT: TenantId = TenantId::from_bytes([0xAA; 16]);

#[async_trait]
impl IdempotencyStore for Broken {
    async fn reserve_idempotency(&self, reserve: &Reserve) -> Result<Reservation> {
        let mut asked = reserve.clone();
        if self.is(Breakage::KeysAcrossTenants) {
            asked.tenant = SHARED_TENANT;
        }
        if self.is(Breakage::UnlockedReserve) {
            // Read (what the wrapper saw), pause, then write and trust the read.
            let id = (asked.tenant, asked.key.clone());
            let seen = self.shadow().key_fingerprint.contains_key(&id);
            tokio::time::sleep(Duration::from_millis(20)).await;
            let answer = self.inner.reserve_idempotency(&asked).await?;
            if seen {
                return Ok(answer);
            }
            self.shadow().key_fingerprint.insert(id, asked.fingerprint);
            return Ok(Reservation::Reserved);
        }
        if self.is(Breakage::KeysNeverExpire) {
            // Judged as if it were still the moment the key was first used.
            let mut early = asked.clone();
            early.now = self
                .shadow()
                .key_first_used
                .get(&(asked.tenant, asked.key.clone()))
                .copied()
                .unwrap_or(asked.now);
            let answer = self.inner.reserve_idempotency(&early).await?;
            if !matches!(answer, Reservation::Reserved) {
                return Ok(answer);
            }
        }
        if self.is(Breakage::LeaseNeverEnds) {
            let probe = Reserve {
                now: self
                    .shadow()
                    .key_first_used
                    .get(&(asked.tenant, asked.key.clone()))
                    .copied()
                    .unwrap_or(asked.now),
                claim: ClaimToken::from_bytes([0xEF; 16]),
                ..asked.clone()
            };
            if self.inner.reserve_idempotency(&probe).await? == Reservation::InProgress {
                return Ok(Reservation::InProgress);
            }
        }
        let answer = self.inner.reserve_idempotency(&asked).await?;
        if answer == Reservation::Reserved {
            self.shadow()
                .key_first_used
                .insert((asked.tenant, asked.key.clone()), asked.now);
        }
        if self.is(Breakage::ReplayIgnoresFingerprint) && answer == Reservation::KeyReused {
            let mut same = asked.clone();
            if let Some(fp) = self
                .shadow()
                .key_fingerprint
                .get(&(asked.tenant, asked.key.clone()))
            {
                same.fingerprint = *fp;
            }
            return self.inner.reserve_idempotency(&same).await;
        }
        if answer == Reservation::Reserved {
            self.shadow()
                .key_fingerprint
                .insert((asked.tenant, asked.key.clone()), asked.fingerprint);
        }
        Ok(answer)
    }

    async fn complete_idempotency(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
        claim: ClaimToken,
        response: &SavedResponse,
    ) -> Result<bool> {
        let tenant = if self.is(Breakage::KeysAcrossTenants) {
            SHARED_TENANT
        } else {
            tenant
        };
        let done = self
            .inner
            .complete_idempotency(tenant, key, claim, response)
            .await?;
        if !done && self.is(Breakage::CompleteIgnoresClaim) {
            return Ok(true);
        }
        Ok(done)
    }

    async fn release_idempotency(
        &self,
        tenant: TenantId,
        key: &IdempotencyKey,
        claim: ClaimToken,
    ) -> Result<bool> {
        let tenant = if self.is(Breakage::KeysAcrossTenants) {
            SHARED_TENANT
        } else {
            tenant
        };
        self.inner.release_idempotency(tenant, key, claim).await
    }

    async fn prune_idempotency(&self, before: DateTime<Utc>, max_rows: usize) -> Result<u64> {
        let before = if self.is(Breakage::PruneKeysBoundary) {
            before + TimeDelta::microseconds(1)
        } else {
            before
        };
        self.inner.prune_idempotency(before, max_rows).await
    }
}

/// A store to hand a check.
fn store(breaks: Breakage) -> Arc<dyn Store> {
    Arc::new(Broken::new(breaks))
}

use portal_core::conformance::race::panics;

/// Runs a check (by name, from `portal_core::conformance`) on a fresh store. Boxed:
/// the tests below await a few hundred of them in one body, whose future would
/// otherwise hold the largest check's state inline and overflow a test thread's stack.
macro_rules! check {
    // Boxed: the test that runs every catching check in turn would otherwise hold
    // the largest check's whole state on its own stack.
    (ref $name:ident, $store:expr) => {{
        let store = $store;
        Box::pin(async move { conformance::$name(store.as_ref()).await })
    }};
    (arc $name:ident, $store:expr) => {{
        let store = $store;
        Box::pin(async move { conformance::$name(store).await })
    }};
}

/// One test per (breakage, catching check): the check must panic on the broken store.
macro_rules! caught {
    ($($test:ident: $breakage:ident => $kind:ident $check:ident;)*) => {
        $(
            #[doc = concat!("`", stringify!($breakage), "` is caught by `", stringify!($check), "`.")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                assert!(
                    panics(check!($kind $check, store(Breakage::$breakage))).await,
                    "{} did not catch {:?}",
                    stringify!($check),
                    Breakage::$breakage
                );
            }
        )*

        /// The plain reference store and the unbroken wrapper pass every catching
        /// check: each failure above is due to its breakage.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn unbroken_stores_pass_the_catching_checks() {
            let plain = || -> Arc<dyn Store> { Arc::new(MemoryStore::new()) };
            $(
                assert!(
                    !panics(check!($kind $check, plain())).await,
                    "MemoryStore fails {}",
                    stringify!($check)
                );
                assert!(
                    !panics(check!($kind $check, store(Breakage::None))).await,
                    "the unbroken wrapper fails {}",
                    stringify!($check)
                );
            )*
        }
    };
}

caught! {
    a_team_sorted_by_name_is_caught_by_onboarding_team:
        TeamSortedByName => ref onboarding_team;
    a_team_ignoring_its_version_is_caught_by_onboarding_team:
        TeamVersionIgnored => ref onboarding_team;
    a_team_appended_is_caught_by_onboarding_team:
        TeamAppended => ref onboarding_team;
    a_dropped_question_addressee_is_caught_by_onboarding_team:
        QuestionAddresseeDropped => ref onboarding_team;
    ending_the_kept_session_is_caught_by_sign_out_other_sessions:
        EndsKeptSession => ref sign_out_other_sessions;
    ending_no_other_session_is_caught_by_sign_out_other_sessions:
        EndsNoOtherSession => ref sign_out_other_sessions;
    a_zone_not_kept_is_caught_by_contact_time_zone_kept:
        ZoneNotKept => ref contact_time_zone_kept;
    skipped_wrong_try_is_caught_by_wrong_code_attempts:
        SkipsWrongTry => ref wrong_code_attempts;
    skipped_wrong_try_is_caught_by_concurrent_wrong_codes:
        SkipsWrongTry => arc concurrent_wrong_codes;
    sixth_code_is_caught_by_code_limit:
        SixthCode => ref code_limit;
    sixth_code_is_caught_by_concurrent_issue_code:
        SixthCode => arc concurrent_issue_code;
    old_invite_kept_is_caught_by_invites:
        KeepsOldInvite => ref invites;
    revoked_session_passing_is_caught_by_revoke_contact:
        RevokedSessionPasses => ref revoke_contact;
    revoked_session_passing_is_caught_by_revoked_contact_refused_everywhere:
        RevokedSessionPasses => ref revoked_contact_refused_everywhere;
    revoked_session_passing_is_caught_by_revocation_races_sign_ins:
        RevokedSessionPasses => arc revocation_races_sign_ins;
    task_ignoring_portal_is_caught_by_workflow_portal_scoping:
        TaskIgnoresPortal => ref workflow_portal_scoping;
    task_ignoring_portal_is_caught_by_phases_and_tasks:
        TaskIgnoresPortal => ref phases_and_tasks;
    unlocked_update_is_caught_by_concurrent_checklist_items:
        UnlockedUpdate => arc concurrent_checklist_items;
    unlocked_update_is_caught_by_concurrent_approvals:
        UnlockedUpdate => arc concurrent_approvals;
    refresh_on_every_request_is_caught_by_session_slides:
        RefreshesAlways => ref session_slides;
    refresh_on_every_request_is_caught_by_session_expiry_boundary:
        RefreshesAlways => ref session_expiry_boundary;
    noting_every_request_is_caught_by_session_noted_once_per_interval:
        NotesEveryRequest => ref session_noted_once_per_interval;
    a_home_version_without_contacts_is_caught_by_home_version_follows_content:
        HomeVersionWithoutContacts => ref home_version_follows_content;
    a_home_version_changing_on_every_call_is_caught_by_home_version_follows_content:
        HomeVersionEveryCall => ref home_version_follows_content;
    unlocked_start_is_caught_by_concurrent_verification_starts:
        UnlockedStart => arc concurrent_verification_starts;
    optimistic_redeem_is_caught_by_concurrent_wrong_codes:
        OptimisticRedeem => arc concurrent_wrong_codes;
    spared_codes_are_caught_by_one_live_code_per_contact:
        SparesOtherCodes => ref one_live_code_per_contact;
    foreign_activity_is_caught_by_foreign_activity_refused:
        ForeignActivityAccepted => ref foreign_activity_refused;
    reversed_comments_are_caught_by_comments_order_and_scope:
        CommentsReversed => ref comments_order_and_scope;
    reversed_comments_are_caught_by_concurrent_comments:
        CommentsReversed => arc concurrent_comments;
    expired_replaced_link_is_caught_by_issue_code_replaces_code_and_link:
        ReplacedLinkExpired => ref issue_code_replaces_code_and_link;
    expired_replaced_link_is_caught_by_one_live_code_per_contact:
        ReplacedLinkExpired => ref one_live_code_per_contact;
    revoked_link_not_found_is_caught_by_revoked_contact_refused_everywhere:
        RevokedLinkNotFound => ref revoked_contact_refused_everywhere;
    revoked_link_not_found_is_caught_by_revoke_contact:
        RevokedLinkNotFound => ref revoke_contact;
    withdrawing_any_link_is_caught_by_withdrawn_codes:
        WithdrawAnyLink => ref withdrawn_codes;
    endless_verification_is_caught_by_verification_lifetime:
        EndlessVerification => ref verification_lifetime;
    uncounted_resends_are_caught_by_email_limit_per_contact:
        ResendsUncounted => ref email_limit_per_contact;
    uncounted_resends_are_caught_by_concurrent_emails_at_the_limit:
        ResendsUncounted => arc concurrent_emails_at_the_limit;
    unlocked_start_is_caught_by_concurrent_emails_at_the_limit:
        UnlockedStart => arc concurrent_emails_at_the_limit;
    no_contact_cap_is_caught_by_wrong_codes_per_contact:
        NoContactCap => ref wrong_codes_per_contact;
    no_contact_cap_is_caught_by_concurrent_wrong_codes_per_contact:
        NoContactCap => arc concurrent_wrong_codes_per_contact;
    optimistic_redeem_is_caught_by_concurrent_wrong_codes_per_contact:
        OptimisticRedeem => arc concurrent_wrong_codes_per_contact;
    comparing_while_locked_out_is_caught_by_wrong_codes_per_contact:
        ComparesWhileLockedOut => ref wrong_codes_per_contact;
    pruning_the_boundary_is_caught_by_prune_access_log_boundary:
        PrunesTheBoundary => ref prune_access_log_boundary;
    ignoring_max_rows_is_caught_by_prune_access_log_batches:
        PruneIgnoresMaxRows => ref prune_access_log_batches;
    unlocked_upload_is_caught_by_concurrent_document_uploads:
        UnlockedUpload => arc concurrent_document_uploads;
    unlocked_review_is_caught_by_concurrent_document_reviews:
        UnlockedReview => arc concurrent_document_reviews;
    missing_supersede_is_caught_by_document_supersede:
        NoSupersede => ref document_supersede;
    missing_supersede_is_caught_by_review_queue_order_and_scope:
        NoSupersede => ref review_queue_order_and_scope;
    file_ignoring_portal_is_caught_by_document_refusals_write_nothing:
        FileIgnoresPortal => ref document_refusals_write_nothing;
    newest_first_queue_is_caught_by_review_queue_order_and_scope:
        QueueNewestFirst => ref review_queue_order_and_scope;
    key_swap_without_compare_is_caught_by_file_key_rotation:
        KeySwapWithoutCompare => ref file_key_rotation;
    rewrap_listing_active_is_caught_by_file_key_rotation:
        RewrapListsActive => ref file_key_rotation;
    rewrap_ignoring_cursor_is_caught_by_file_key_rotation:
        RewrapIgnoresCursor => ref file_key_rotation;
    delete_portal_forgetting_signature_images_is_caught_by_delete_portal_erases_signature_images:
        DeleteForgetsSignatureImages => ref delete_portal_erases_signature_images;
    delete_task_keeping_drop_blobs_is_caught_by_delete_task_erases_its_files:
        DeleteTaskKeepsDropBlobs => ref delete_task_erases_its_files;
    delete_task_keeping_signature_blobs_is_caught_by_delete_task_erases_its_files:
        DeleteTaskKeepsSignatureBlobs => ref delete_task_erases_its_files;
    rewrap_skipping_signature_images_is_caught_by_sealed_key_rotation:
        RewrapSkipsSignatureImages => ref sealed_key_rotation;
    rewrap_skipping_signature_documents_is_caught_by_sealed_key_rotation:
        RewrapSkipsSignatureDocuments => ref sealed_key_rotation;
    rewrap_skipping_dropped_files_is_caught_by_sealed_key_rotation:
        RewrapSkipsDroppedFiles => ref sealed_key_rotation;
    rewrap_skipping_credential_fields_is_caught_by_sealed_key_rotation:
        RewrapSkipsCredentialFields => ref sealed_key_rotation;
    unchecked_tenant_is_caught_by_document_refusals_write_nothing:
        TenantUnchecked => ref document_refusals_write_nothing;
    partial_enqueue_is_caught_by_outbox_enqueue_round_trips:
        EnqueuePartial => ref outbox_enqueue_round_trips;
    mail_outside_the_unit_is_caught_by_outbox_queued_with_their_unit:
        MailOutsideUnit => ref outbox_queued_with_their_unit;
    claim_ignoring_the_lease_is_caught_by_outbox_claims_due_in_order:
        ClaimIgnoresLease => ref outbox_claims_due_in_order;
    claim_ignoring_the_lease_is_caught_by_outbox_stale_claim_refused:
        ClaimIgnoresLease => ref outbox_stale_claim_refused;
    claim_ignoring_the_lease_is_caught_by_outbox_concurrent_claims:
        ClaimIgnoresLease => arc outbox_concurrent_claims;
    claiming_future_mail_is_caught_by_outbox_claims_due_in_order:
        ClaimsFutureMail => ref outbox_claims_due_in_order;
    claiming_future_mail_is_caught_by_outbox_outcomes:
        ClaimsFutureMail => ref outbox_outcomes;
    marks_ignoring_the_claim_are_caught_by_outbox_stale_claim_refused:
        MarkIgnoresClaim => ref outbox_stale_claim_refused;
    kept_bodies_are_caught_by_outbox_outcomes:
        KeepsBodies => ref outbox_outcomes;
    unlocked_claim_is_caught_by_outbox_concurrent_claims:
        UnlockedClaim => arc outbox_concurrent_claims;
    pruning_the_sent_boundary_is_caught_by_outbox_prune_sent:
        PruneSentBoundary => ref outbox_prune_sent;
    second_digest_is_caught_by_reminder_digest_once_per_day:
        DigestTwice => ref reminder_digest_once_per_day;
    second_digest_is_caught_by_concurrent_digests:
        DigestTwice => arc concurrent_digests;
    digest_without_mail_is_caught_by_reminder_digest_once_per_day:
        DigestWithoutMail => ref reminder_digest_once_per_day;
    escalation_without_compare_is_caught_by_reminder_escalation_compare_and_set:
        EscalationWithoutCompare => ref reminder_escalation_compare_and_set;
    unlocked_plan_change_is_caught_by_plan_concurrent_moves:
        UnlockedPlanChange => arc plan_concurrent_moves;
    kept_comments_are_caught_by_plan_delete_takes_comments:
        KeepsDeletedComments => ref plan_delete_takes_comments;
    dropped_plan_comments_are_caught_by_plan_change_appends_comments:
        DropsPlanComments => ref plan_change_appends_comments;
    unchecked_plan_is_caught_by_plan_refusals_write_nothing:
        PlanUnchecked => ref plan_refusals_write_nothing;
    template_ignoring_tenant_is_caught_by_templates_scoped_and_versioned:
        TemplateIgnoresTenant => ref templates_scoped_and_versioned;
    unchecked_template_replace_is_caught_by_templates_scoped_and_versioned:
        TemplateReplaceUnchecked => ref templates_scoped_and_versioned;
    offset_pages_are_caught_by_activity_pages_by_key:
        PagesByOffset => ref activity_pages_by_key;
    offset_pages_are_caught_by_access_log_pages_by_key:
        PagesByOffset => ref access_log_pages_by_key;
    piecemeal_portal_edits_are_caught_by_portal_fields_in_one_unit:
        PortalFieldsOneByOne => ref portal_fields_in_one_unit;
    ignored_contact_tag_is_caught_by_contact_edit_compare_and_set:
        ContactTagIgnored => ref contact_edit_compare_and_set;
    offset_portal_pages_are_caught_by_portals_page_by_key:
        ListsByOffset => ref portals_page_by_key;
    offset_contact_pages_are_caught_by_contacts_page_by_key:
        ListsByOffset => ref contacts_page_by_key;
    offset_template_pages_are_caught_by_templates_page_by_key:
        ListsByOffset => ref templates_page_by_key;
    ignored_portal_version_is_caught_by_versions_compare_and_set:
        PortalVersionIgnored => ref versions_compare_and_set;
    ignored_portal_version_is_caught_by_concurrent_versioned_edits:
        PortalVersionIgnored => arc concurrent_versioned_edits;
    ignored_tenant_version_is_caught_by_versions_compare_and_set:
        TenantVersionIgnored => ref versions_compare_and_set;
    ignored_tenant_version_is_caught_by_concurrent_versioned_edits:
        TenantVersionIgnored => arc concurrent_versioned_edits;
    piecemeal_tenant_settings_are_caught_by_tenant_settings_in_one_unit:
        TenantSettingsOneByOne => ref tenant_settings_in_one_unit;
    partial_tenant_settings_are_caught_by_tenant_settings_in_one_unit:
        TenantSettingsPartial => ref tenant_settings_in_one_unit;
    a_stolen_host_is_caught_by_tenant_settings_in_one_unit:
        TenantHostStolen => ref tenant_settings_in_one_unit;
    a_host_checked_before_the_write_is_caught_by_concurrent_tenant_hosts:
        TenantHostCheckedFirst => arc concurrent_tenant_hosts;
    version_checked_before_the_write_is_caught_by_concurrent_versioned_edits:
        PortalVersionCheckedFirst => arc concurrent_versioned_edits;
    a_status_change_without_its_entry_is_caught_by_staff_actions_land_in_the_feed:
        PortalEditWithoutEntry => arc staff_actions_land_in_the_feed;
    a_portal_created_without_its_entry_is_caught_by_staff_actions_land_in_the_feed:
        PortalCreatedWithoutEntry => arc staff_actions_land_in_the_feed;
    a_contact_added_without_its_entry_is_caught_by_staff_actions_land_in_the_feed:
        ContactWithoutEntry => arc staff_actions_land_in_the_feed;
    a_phase_added_without_its_entry_is_caught_by_staff_actions_land_in_the_feed:
        PhaseWithoutEntry => arc staff_actions_land_in_the_feed;
    a_task_added_without_its_entry_is_caught_by_staff_actions_land_in_the_feed:
        TaskWithoutEntry => arc staff_actions_land_in_the_feed;
    an_access_change_without_its_entry_is_caught_by_staff_actions_land_in_the_feed:
        AccessChangeWithoutEntry => arc staff_actions_land_in_the_feed;
    reminder_settings_without_their_entry_are_caught_by_staff_actions_land_in_the_feed:
        ReminderSettingsWithoutEntry => arc staff_actions_land_in_the_feed;
    a_setup_entry_outside_its_unit_is_caught_by_setup_entries_in_one_unit:
        SetupEntryOutsideUnit => ref setup_entries_in_one_unit;
    portal_without_its_plan_is_caught_by_portal_with_plan_in_one_unit:
        PortalWithoutItsPlan => ref portal_with_plan_in_one_unit;
    a_dropped_target_date_is_caught_by_portal_with_plan_in_one_unit:
        PortalWithPlanDropsTargetDate => ref portal_with_plan_in_one_unit;
    forgotten_blobs_are_caught_by_delete_portal_erases_everything:
        DeleteForgetsBlobs => ref delete_portal_erases_everything;
    an_oldest_first_erasure_log_is_caught_by_delete_portal_erases_everything:
        ErasuresOldestFirst => ref delete_portal_erases_everything;
    revoking_instead_of_removing_is_caught_by_remove_contact_erases_access:
        RemoveOnlyRevokes => ref remove_contact_erases_access;
    a_foreign_removal_entry_is_caught_by_remove_contact_erases_access:
        RemoveAcceptsForeignActivity => ref remove_contact_erases_access;
    replay_ignoring_the_fingerprint_is_caught_by_idempotency_reserve_and_replay:
        ReplayIgnoresFingerprint => ref idempotency_reserve_and_replay;
    keys_across_tenants_are_caught_by_idempotency_reserve_and_replay:
        KeysAcrossTenants => ref idempotency_reserve_and_replay;
    keys_that_never_expire_are_caught_by_idempotency_expiry_and_lease:
        KeysNeverExpire => ref idempotency_expiry_and_lease;
    a_lease_that_never_ends_is_caught_by_idempotency_expiry_and_lease:
        LeaseNeverEnds => ref idempotency_expiry_and_lease;
    complete_ignoring_the_claim_is_caught_by_idempotency_reserve_and_replay:
        CompleteIgnoresClaim => ref idempotency_reserve_and_replay;
    complete_ignoring_the_claim_is_caught_by_idempotency_expiry_and_lease:
        CompleteIgnoresClaim => ref idempotency_expiry_and_lease;
    unlocked_reserve_is_caught_by_concurrent_idempotency_reserves:
        UnlockedReserve => arc concurrent_idempotency_reserves;
    pruning_the_key_boundary_is_caught_by_idempotency_prune:
        PruneKeysBoundary => ref idempotency_prune;
    unkept_edits_are_caught_by_directory_edits:
        EditsNotKept => ref directory_edits;
    refusing_the_own_email_is_caught_by_directory_edits:
        OwnEmailConflicts => ref directory_edits;
    a_dropped_contact_role_is_caught_by_directory_edits:
        ContactRoleDropped => ref directory_edits;
    a_dropped_contact_language_is_caught_by_directory_edits:
        ContactLanguageDropped => ref directory_edits;
    a_rename_clearing_recipients_is_caught_by_directory_edits:
        TenantEditReplacesRecipients => ref directory_edits;
    an_audit_gap_is_caught_by_audit_chain_appends:
        AuditGap => ref audit_chain_appends;
    a_duplicate_audit_number_is_caught_by_audit_chain_appends:
        AuditDuplicate => ref audit_chain_appends;
    a_wrong_audit_link_is_caught_by_audit_chain_appends:
        AuditWrongLink => ref audit_chain_appends;
    a_wrong_audit_link_is_caught_by_audit_history_unchanged:
        AuditWrongLink => ref audit_history_unchanged;
    an_unlocked_audit_append_is_caught_by_concurrent_audit_appends:
        AuditUnlocked => arc concurrent_audit_appends;
    an_edited_audit_history_is_caught_by_audit_history_unchanged:
        AuditEditsHistory => ref audit_history_unchanged;
    a_second_submit_accepted_is_caught_by_credentials_submitted_once:
        SecondSubmitAccepted => ref credentials_submitted_once;
    a_reveal_without_audit_is_caught_by_credentials_reveal_and_purge:
        RevealWithoutAudit => ref credentials_reveal_and_purge;
    a_purge_keeping_ciphertext_is_caught_by_credentials_reveal_and_purge:
        PurgeKeepsCiphertext => ref credentials_reveal_and_purge;
    credentials_ignoring_the_portal_is_caught_by_credentials_submitted_once:
        CredentialsIgnorePortal => ref credentials_submitted_once;
    dropped_credential_emails_are_caught_by_credentials_submitted_once:
        CredentialsDropEmails => ref credentials_submitted_once;
    a_drop_ignoring_the_portal_is_caught_by_file_drops_recorded_with_their_events:
        DropIgnoresPortal => ref file_drops_recorded_with_their_events;
    a_drop_without_audit_is_caught_by_file_drops_recorded_with_their_events:
        DropWithoutAudit => ref file_drops_recorded_with_their_events;
    a_change_without_audit_is_caught_by_file_drop_changes_with_their_events:
        DropWithoutAudit => ref file_drop_changes_with_their_events;
    a_drop_without_feed_is_caught_by_file_drops_recorded_with_their_events:
        DropWithoutFeed => ref file_drops_recorded_with_their_events;
    a_change_without_feed_is_caught_by_file_drop_changes_with_their_events:
        DropWithoutFeed => ref file_drop_changes_with_their_events;
    a_duplicate_drop_accepted_is_caught_by_file_drop_refusals_write_nothing:
        DropDuplicateAccepted => ref file_drop_refusals_write_nothing;
    an_unlocked_drop_change_is_caught_by_concurrent_delete_and_download:
        DropUnlockedChange => arc concurrent_delete_and_download;
    an_early_sweep_is_caught_by_file_drop_sweep_marks:
        SweepsEarly => ref file_drop_sweep_marks;
    bytes_removed_while_live_is_caught_by_file_drop_sweep_marks:
        BytesRemovedWhileLive => ref file_drop_sweep_marks;
    drop_blobs_not_in_use_are_caught_by_file_drops_recorded_with_their_events:
        DropBlobsNotInUse => ref file_drops_recorded_with_their_events;
    drop_blobs_not_in_use_are_caught_by_file_drop_sweep_marks:
        DropBlobsNotInUse => ref file_drop_sweep_marks;
    forgotten_drop_blobs_are_caught_by_delete_portal_erases_drops:
        DeleteForgetsDropBlobs => ref delete_portal_erases_drops;
    a_second_signature_accepted_is_caught_by_signature_submitted_once:
        SecondSignatureAccepted => ref signature_submitted_once;
    a_signature_ignoring_the_portal_is_caught_by_signature_submitted_once:
        SignatureIgnoresPortal => ref signature_submitted_once;
    dropped_signature_emails_are_caught_by_signature_submitted_once:
        SignatureDropsEmails => ref signature_submitted_once;
    a_signature_losing_its_zone_is_caught_by_signature_submitted_once:
        SignatureLosesZone => ref signature_submitted_once;
    signatures_across_tenants_are_caught_by_signatures_found_by_document:
        SignaturesAcrossTenants => ref signatures_found_by_document;
    signatures_newest_first_are_caught_by_signatures_found_by_document:
        SignaturesNewestFirst => ref signatures_found_by_document;
    signature_images_not_in_use_are_caught_by_signatures_found_by_document:
        SignatureImagesNotInUse => ref signatures_found_by_document;
    a_signed_document_replaced_is_caught_by_signature_document_attached:
        SignedDocumentReplaced => ref signature_document_attached;
    an_unattached_document_signed_is_caught_by_signature_document_attached:
        UnattachedDocumentSigned => ref signature_document_attached;
    a_signature_document_ignoring_the_portal_is_caught_by_signature_document_attached:
        SignatureDocumentIgnoresPortal => ref signature_document_attached;
    signature_documents_not_in_use_are_caught_by_signature_document_attached:
        SignatureDocumentsNotInUse => ref signature_document_attached;
    forgotten_signature_documents_are_caught_by_signature_document_attached:
        DeleteForgetsSignatureDocuments => ref signature_document_attached;
    dropped_attachments_are_caught_by_outbox_enqueue_round_trips:
        DropsAttachments => ref outbox_enqueue_round_trips;
    a_dropped_sender_is_caught_by_outbox_enqueue_round_trips:
        DropsSender => ref outbox_enqueue_round_trips;
    a_last_click_unsubscribe_is_caught_by_reminder_snooze_and_unsubscribe:
        UnsubscribeLastWins => ref reminder_snooze_and_unsubscribe;
    a_whole_plan_snooze_is_caught_by_reminder_snooze_and_unsubscribe:
        SnoozeWholePlan => ref reminder_snooze_and_unsubscribe;
    snoozes_across_contacts_are_caught_by_reminder_snooze_and_unsubscribe:
        SnoozesAcrossContacts => ref reminder_snooze_and_unsubscribe;
    an_unscoped_snooze_is_caught_by_reminder_snooze_and_unsubscribe:
        SnoozeUnscoped => ref reminder_snooze_and_unsubscribe;
    visits_of_any_event_are_caught_by_reminder_last_visit:
        VisitAnyEvent => ref reminder_last_visit;
    the_last_written_visit_is_caught_by_reminder_last_visit:
        VisitLastWritten => ref reminder_last_visit;
    an_ignored_contact_cap_is_caught_by_colleague_cap:
        ColleagueIgnoresCap => ref colleague_cap;
    a_cap_checked_outside_the_unit_is_caught_by_concurrent_colleague_invites:
        ColleagueCapOutsideUnit => arc concurrent_colleague_invites;
    a_colleague_without_invite_is_caught_by_colleague_invites:
        ColleagueWithoutInvite => ref colleague_invites;
    colleague_mail_outside_the_unit_is_caught_by_colleague_cap:
        ColleagueMailOutsideUnit => ref colleague_cap;
    colleague_mail_outside_the_unit_is_caught_by_colleague_invites:
        ColleagueMailOutsideUnit => ref colleague_invites;
    an_approval_keeping_the_flag_is_caught_by_colleague_invites:
        ApprovalKeepsFlag => ref colleague_invites;
    an_attachment_ignoring_the_portal_is_caught_by_attachments_added_and_listed:
        AttachmentIgnoresPortal => ref attachments_added_and_listed;
    attachments_newest_first_are_caught_by_attachments_added_and_listed:
        AttachmentsNewestFirst => ref attachments_added_and_listed;
    attachments_not_in_use_are_caught_by_attachments_added_and_listed:
        AttachmentsNotInUse => ref attachments_added_and_listed;
    an_accepted_blob_reuse_is_caught_by_attachments_added_and_listed:
        AttachmentBlobReuseAccepted => ref attachments_added_and_listed;
    an_attachment_cap_outside_the_unit_is_caught_by_attachment_cap_holds:
        AttachmentCapOutsideUnit => arc attachment_cap_holds;
    a_delete_keeping_the_record_is_caught_by_attachment_deleted:
        AttachmentDeleteKeepsRecord => ref attachment_deleted;
    the_last_open_winning_is_caught_by_document_opens_keep_the_first:
        OpenLastWins => ref document_opens_keep_the_first;
    an_open_by_a_stranger_is_caught_by_document_opens_keep_the_first:
        OpenByStranger => ref document_opens_keep_the_first;
    a_deleted_task_keeping_attachment_blobs_is_caught_by_attachments_erased_with_their_owners:
        DeleteTaskKeepsAttachmentBlobs => ref attachments_erased_with_their_owners;
    forgotten_attachments_are_caught_by_attachments_erased_with_their_owners:
        DeleteForgetsAttachments => ref attachments_erased_with_their_owners;
    rewrap_skipping_task_attachments_is_caught_by_sealed_key_rotation:
        RewrapSkipsTaskAttachments => ref sealed_key_rotation;
    unjudged_guest_tasks_are_caught_by_guest_invites:
        GuestTasksUnjudged => ref guest_invites;
    guest_mail_outside_the_unit_is_caught_by_guest_invites:
        GuestMailOutsideUnit => ref guest_invites;
    an_ignored_unshare_is_caught_by_guest_sharing:
        UnshareIgnored => ref guest_sharing;
    an_unstored_end_is_caught_by_guest_end_date:
        GuestEndNotStored => ref guest_end_date;
    an_ended_guest_session_is_caught_by_guest_end_date:
        EndedGuestSessionPasses => ref guest_end_date;
    an_ended_guest_invite_is_caught_by_guest_end_date:
        EndedGuestInviteOpens => ref guest_end_date;
    a_handover_in_pieces_is_caught_by_handover_in_one_unit:
        HandoverInPieces => ref handover_in_one_unit;
    a_handover_without_shares_is_caught_by_handover_in_one_unit:
        HandoverWithoutShares => ref handover_in_one_unit;
    a_second_handover_is_caught_by_handover_in_one_unit:
        HandoverTwice => ref handover_in_one_unit;
    a_repeated_stall_alert_is_caught_by_handover_stall_alerted_once:
        StallAlertedTwice => ref handover_stall_alerted_once;
    an_unstored_stall_alert_is_caught_by_handover_stall_alerted_once:
        StallAlertNotStored => ref handover_stall_alerted_once;
}

#[async_trait]
impl ReminderStore for Broken {
    async fn reminder_settings(&self, portal: PortalId) -> Result<ReminderSettings> {
        self.inner.reminder_settings(portal).await
    }

    async fn set_reminder_settings(
        &self,
        portal: PortalId,
        settings: &ReminderSettings,
        activity: Option<&ActivityEntry>,
    ) -> Result<()> {
        let activity = activity.filter(|_| !self.is(Breakage::ReminderSettingsWithoutEntry));
        self.inner
            .set_reminder_settings(portal, settings, activity)
            .await
    }

    async fn reminder_state(&self, portal: PortalId) -> Result<ReminderState> {
        let mut state = self.inner.reminder_state(portal).await?;
        if self.is(Breakage::UnsubscribeLastWins) {
            let latest = self.shadow().unsubscribed.clone();
            for c in &mut state.contacts {
                if let Some(at) = latest.get(&c.contact.id) {
                    c.unsubscribed_at = Some(*at);
                }
            }
        }
        if self.is(Breakage::SnoozesAcrossContacts) {
            let mut all: Vec<_> = state
                .contacts
                .iter()
                .flat_map(|c| c.snoozes.clone())
                .collect();
            all.sort();
            for c in &mut state.contacts {
                c.snoozes = all.clone();
            }
        }
        if self.is(Breakage::VisitAnyEvent) || self.is(Breakage::VisitLastWritten) {
            // Any event: straight from the log. Last written: the shadow keeps the
            // visits in the order they were recorded.
            let log = self.inner.access_log(portal, usize::MAX).await?;
            for c in &mut state.contacts {
                let mine = log.iter().filter(|e| e.contact_id == c.contact.id);
                c.last_visit = if self.is(Breakage::VisitAnyEvent) {
                    mine.map(|e| e.at).max()
                } else {
                    let written = self.shadow().visits.get(&c.contact.id).cloned();
                    written.and_then(|v| v.last().copied())
                };
            }
        }
        Ok(state)
    }

    async fn record_digest(&self, digest: &SentDigest, emails: &[OutboxMessage]) -> Result<()> {
        if self.is(Breakage::DigestWithoutMail) {
            return self.inner.record_digest(digest, &[]).await;
        }
        match self.inner.record_digest(digest, emails).await {
            Err(Error::Conflict { .. }) if self.is(Breakage::DigestTwice) => {
                self.inner.enqueue(emails).await
            }
            other => other,
        }
    }

    async fn record_handover_stall(
        &self,
        contact: ContactId,
        at: DateTime<Utc>,
        emails: &[OutboxMessage],
    ) -> Result<Contact> {
        if self.is(Breakage::StallAlertNotStored) {
            let c = self.inner.contact(contact).await?;
            let mut next = c.clone();
            next.guest = Some(portal_core::workflow::handover::record_stall(&c, at)?);
            self.inner.enqueue(emails).await?;
            return Ok(next);
        }
        match self.inner.record_handover_stall(contact, at, emails).await {
            Err(Error::Conflict { .. }) if self.is(Breakage::StallAlertedTwice) => {
                self.inner.enqueue(emails).await?;
                self.inner.contact(contact).await
            }
            other => other,
        }
    }

    async fn record_escalation(
        &self,
        portal: PortalId,
        previous: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        emails: &[OutboxMessage],
    ) -> Result<()> {
        let previous = if self.is(Breakage::EscalationWithoutCompare) {
            self.inner.reminder_state(portal).await?.last_escalation
        } else {
            previous
        };
        self.inner
            .record_escalation(portal, previous, at, emails)
            .await
    }

    async fn snooze_task(
        &self,
        portal: PortalId,
        contact: ContactId,
        task: TaskId,
        until: DateTime<Utc>,
    ) -> Result<()> {
        if self.is(Breakage::SnoozeWholePlan) {
            let tasks = self.inner.portal_snapshot(portal).await?.tasks;
            for t in tasks {
                self.inner.snooze_task(portal, contact, t.id, until).await?;
            }
            return self.inner.snooze_task(portal, contact, task, until).await;
        }
        match self.inner.snooze_task(portal, contact, task, until).await {
            Err(Error::NotFound { .. }) if self.is(Breakage::SnoozeUnscoped) => Ok(()),
            other => other,
        }
    }

    async fn unsubscribe_reminders(&self, contact: ContactId, at: DateTime<Utc>) -> Result<()> {
        let done = self.inner.unsubscribe_reminders(contact, at).await;
        if done.is_ok() {
            self.shadow().unsubscribed.insert(contact, at);
        }
        done
    }
}

#[async_trait]
impl AuditStore for Broken {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<ChainedEvent> {
        if !self.breaks.breaks_audit() {
            return self.inner.append_audit(entry).await;
        }
        let tenant = self.inner.portal(entry.portal_id).await?.tenant_id;
        audit::ensure_portal(entry, entry.portal_id, tenant)?;
        let head = self
            .shadow()
            .audit
            .get(&entry.portal_id)
            .and_then(|c| c.last())
            .map(ChainedEvent::head);
        if self.is(Breakage::AuditUnlocked) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let event = match (self.breaks, head) {
            (Breakage::AuditGap, Some(h)) if h.seq == 1 => audit::seal(
                Some(ChainHead {
                    seq: h.seq + 1,
                    hash: h.hash,
                }),
                entry,
            ),
            (Breakage::AuditDuplicate, Some(h)) if h.seq == 2 => audit::seal(
                Some(ChainHead {
                    seq: h.seq - 1,
                    hash: h.hash,
                }),
                entry,
            ),
            (Breakage::AuditWrongLink, Some(h)) => audit::seal(
                Some(ChainHead {
                    seq: h.seq,
                    hash: audit::GENESIS,
                }),
                entry,
            ),
            _ => audit::seal(head, entry),
        };
        let mut sh = self.shadow();
        let chain = sh.audit.entry(entry.portal_id).or_default();
        if self.is(Breakage::AuditEditsHistory)
            && let Some(last) = chain.last_mut()
        {
            last.entry.at += TimeDelta::seconds(1);
        }
        let index = usize::try_from(event.seq - 1).unwrap();
        if self.is(Breakage::AuditUnlocked) && index < chain.len() {
            chain[index] = event.clone();
        } else {
            chain.push(event.clone());
        }
        Ok(event)
    }

    async fn audit_events(
        &self,
        portal: PortalId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChainedEvent>> {
        if !self.breaks.breaks_audit() {
            return self.inner.audit_events(portal, after, limit).await;
        }
        Ok(self
            .shadow()
            .audit
            .get(&portal)
            .map(|c| {
                c.iter()
                    .filter(|e| e.seq > after)
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[async_trait]
impl CredentialStore for Broken {
    async fn submit_credentials(
        &self,
        record: &CredentialRecord,
        decide: TaskDecision,
        audit: &AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task> {
        let emails = if self.is(Breakage::CredentialsDropEmails) {
            &[]
        } else {
            emails
        };
        let r = self
            .inner
            .submit_credentials(record, decide, audit, emails)
            .await;
        match r {
            Ok(task) => {
                self.shadow()
                    .credentials
                    .insert(record.task_id, record.clone());
                self.shadow().task_portal.insert(task.id, task.portal_id);
                Ok(task)
            }
            Err(Error::Conflict { .. }) if self.is(Breakage::SecondSubmitAccepted) => {
                self.inner.task(record.portal_id, record.task_id).await
            }
            Err(e) => Err(e),
        }
    }

    async fn credentials(&self, portal: PortalId, task: TaskId) -> Result<CredentialRecord> {
        let portal = if self.is(Breakage::CredentialsIgnorePortal) {
            self.shadow()
                .task_portal
                .get(&task)
                .copied()
                .unwrap_or(portal)
        } else {
            portal
        };
        let mut record = self.inner.credentials(portal, task).await?;
        if self.is(Breakage::PurgeKeepsCiphertext)
            && let Some(kept) = self.shadow().credentials.get(&task)
        {
            record.fields = kept.fields.clone();
        }
        Ok(record)
    }

    async fn reveal_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        audit: &AuditEntry,
    ) -> Result<CredentialRecord> {
        if self.is(Breakage::RevealWithoutAudit) {
            return self.inner.credentials(portal, task).await;
        }
        self.inner.reveal_credentials(portal, task, audit).await
    }

    async fn purge_credentials(
        &self,
        portal: PortalId,
        task: TaskId,
        purged: &CheckMark,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.inner
            .purge_credentials(portal, task, purged, audit)
            .await
    }
}

#[async_trait]
impl FileDropStore for Broken {
    async fn add_dropped_file(
        &self,
        portal: PortalId,
        task: TaskId,
        decide: NewDropDecision,
    ) -> Result<DroppedFile> {
        let seen = Arc::new(Mutex::new(None));
        let keep = seen.clone();
        let watched: NewDropDecision = Arc::new(move |t: &Task| {
            let change = decide(t)?;
            *keep.lock().unwrap() = Some(change.file.id);
            Ok(change)
        });
        match self.inner.add_dropped_file(portal, task, watched).await {
            Ok(f) => {
                self.shadow().drops.insert(f.id, (f.portal_id, f.blob));
                Ok(f)
            }
            Err(Error::Conflict { .. }) if self.is(Breakage::DropDuplicateAccepted) => {
                let id = seen.lock().unwrap().ok_or_else(|| Error::conflict("no"))?;
                self.inner.dropped_file(portal, id).await
            }
            Err(e) => Err(e),
        }
    }

    async fn change_dropped_file(
        &self,
        portal: PortalId,
        file: FileId,
        decide: DropDecision,
    ) -> Result<DroppedFile> {
        if !self.is(Breakage::DropUnlockedChange) {
            return self.inner.change_dropped_file(portal, file, decide).await;
        }
        let stale = self.inner.dropped_file(portal, file).await?;
        let task = self.inner.task(portal, stale.task_id).await?;
        let change = decide(&task, &stale)?;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let blind: DropDecision = Arc::new(move |_: &Task, _: &DroppedFile| Ok(change.clone()));
        self.inner.change_dropped_file(portal, file, blind).await
    }

    async fn dropped_file(&self, portal: PortalId, file: FileId) -> Result<DroppedFile> {
        let portal = match self.shadow().drops.get(&file) {
            Some((real, _)) if self.is(Breakage::DropIgnoresPortal) => *real,
            _ => portal,
        };
        self.inner.dropped_file(portal, file).await
    }

    async fn dropped_files(&self, portal: PortalId, task: TaskId) -> Result<Vec<DroppedFile>> {
        self.inner.dropped_files(portal, task).await
    }

    async fn drops_to_sweep(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<DroppedFile>> {
        let now = if self.is(Breakage::SweepsEarly) {
            now + TimeDelta::seconds(1)
        } else {
            now
        };
        self.inner.drops_to_sweep(now, limit).await
    }

    async fn mark_drop_bytes_removed(&self, file: FileId) -> Result<bool> {
        match self.inner.mark_drop_bytes_removed(file).await {
            Err(Error::Conflict { .. }) if self.is(Breakage::BytesRemovedWhileLive) => Ok(true),
            other => other,
        }
    }
}

#[async_trait]
impl AttachmentStore for Broken {
    async fn add_attachment(
        &self,
        attachment: &TaskAttachment,
        max_per_task: usize,
        activity: &ActivityEntry,
    ) -> Result<()> {
        let max_per_task = if self.is(Breakage::AttachmentCapOutsideUnit) {
            let count = self
                .inner
                .task_attachments(attachment.portal_id, attachment.task_id)
                .await?
                .len();
            portal_core::attachments::may_add(count, max_per_task)?;
            tokio::time::sleep(Duration::from_millis(30)).await;
            usize::MAX
        } else {
            max_per_task
        };
        match self
            .inner
            .add_attachment(attachment, max_per_task, activity)
            .await
        {
            Ok(()) => {
                self.shadow()
                    .attachments
                    .insert(attachment.id, (attachment.portal_id, attachment.blob));
                Ok(())
            }
            Err(Error::Conflict { .. }) if self.is(Breakage::AttachmentBlobReuseAccepted) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn task_attachments(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<Vec<TaskAttachment>> {
        let mut all = self.inner.task_attachments(portal, task).await?;
        if self.is(Breakage::AttachmentsNewestFirst) {
            all.reverse();
        }
        Ok(all)
    }

    async fn portal_attachments(&self, portal: PortalId) -> Result<Vec<TaskAttachment>> {
        self.inner.portal_attachments(portal).await
    }

    async fn attachment(
        &self,
        portal: PortalId,
        id: portal_core::ids::AttachmentId,
    ) -> Result<TaskAttachment> {
        let portal = match self.shadow().attachments.get(&id) {
            Some((real, _)) if self.is(Breakage::AttachmentIgnoresPortal) => *real,
            _ => portal,
        };
        self.inner.attachment(portal, id).await
    }

    async fn delete_attachment(
        &self,
        portal: PortalId,
        id: portal_core::ids::AttachmentId,
        activity: &ActivityEntry,
    ) -> Result<BlobId> {
        if self.is(Breakage::AttachmentDeleteKeepsRecord) {
            return Ok(self.inner.attachment(portal, id).await?.blob);
        }
        self.inner.delete_attachment(portal, id, activity).await
    }

    async fn record_document_open(&self, open: &DocumentOpen) -> Result<()> {
        match self.inner.record_document_open(open).await {
            Ok(()) => {
                let mut shadow = self.shadow();
                let latest = shadow
                    .opens_latest
                    .entry((open.task_id, open.contact_id, open.sha256))
                    .or_insert(open.at);
                if open.at > *latest {
                    *latest = open.at;
                }
                Ok(())
            }
            Err(Error::NotFound {
                entity: Entity::Contact,
            }) if self.is(Breakage::OpenByStranger) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn document_opens(&self, portal: PortalId, task: TaskId) -> Result<Vec<DocumentOpen>> {
        let mut opens = self.inner.document_opens(portal, task).await?;
        if self.is(Breakage::OpenLastWins) {
            let shadow = self.shadow();
            for o in &mut opens {
                if let Some(at) = shadow
                    .opens_latest
                    .get(&(o.task_id, o.contact_id, o.sha256))
                {
                    o.at = *at;
                }
            }
            opens.sort_by_key(|o| o.at);
        }
        Ok(opens)
    }
}

/// The unbroken wrapper passes the whole suite: its shadow changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unbroken_wrapper_passes_the_whole_suite() {
    conformance::run_all(store(Breakage::None)).await;
}

#[async_trait]
impl SignatureStore for Broken {
    async fn submit_signature(
        &self,
        record: &SignatureRecord,
        decide: TaskDecision,
        audit: &AuditEntry,
        emails: &[OutboxMessage],
    ) -> Result<Task> {
        let emails = if self.is(Breakage::SignatureDropsEmails) {
            &[]
        } else {
            emails
        };
        match self
            .inner
            .submit_signature(record, decide, audit, emails)
            .await
        {
            Ok(task) => {
                let mut shadow = self.shadow();
                shadow.signatures.insert(record.task_id, record.clone());
                if let portal_core::signatures::SignatureMark::Drawn(i) = &record.mark {
                    shadow.signature_blobs.insert(i.blob);
                }
                shadow.task_portal.insert(task.id, task.portal_id);
                Ok(task)
            }
            Err(Error::Conflict { .. }) if self.is(Breakage::SecondSignatureAccepted) => {
                self.inner.task(record.portal_id, record.task_id).await
            }
            Err(Error::Conflict { .. })
                if self.is(Breakage::UnattachedDocumentSigned)
                    && !self.shadow().signatures.contains_key(&record.task_id) =>
            {
                self.inner.task(record.portal_id, record.task_id).await
            }
            Err(e) => Err(e),
        }
    }

    async fn signature(&self, portal: PortalId, task: TaskId) -> Result<SignatureRecord> {
        let portal = if self.is(Breakage::SignatureIgnoresPortal) {
            self.shadow()
                .task_portal
                .get(&task)
                .copied()
                .unwrap_or(portal)
        } else {
            portal
        };
        let mut record = self.inner.signature(portal, task).await?;
        if self.is(Breakage::SignatureLosesZone) {
            record.time_zone = "UTC".to_owned();
        }
        Ok(record)
    }

    async fn signatures_with_document(
        &self,
        tenant: TenantId,
        sha256: &[u8; 32],
        limit: usize,
    ) -> Result<Vec<SignatureRecord>> {
        if self.is(Breakage::SignaturesAcrossTenants) {
            let mut all: Vec<SignatureRecord> = self
                .shadow()
                .signatures
                .values()
                .filter(|s| s.document.as_ref().is_some_and(|d| d.sha256 == *sha256))
                .cloned()
                .collect();
            all.sort_by_key(|s| s.signed_at);
            all.truncate(limit);
            return Ok(all);
        }
        let mut found = self
            .inner
            .signatures_with_document(tenant, sha256, usize::MAX)
            .await?;
        if self.is(Breakage::SignaturesNewestFirst) {
            found.reverse();
        }
        found.truncate(limit);
        Ok(found)
    }

    async fn attach_signature_document(
        &self,
        document: &portal_core::signatures::AttachedDocument,
        audit: &AuditEntry,
    ) -> Result<Option<BlobId>> {
        match self.inner.attach_signature_document(document, audit).await {
            Ok(replaced) => {
                let mut shadow = self.shadow();
                shadow.signature_documents.insert(document.blob);
                shadow
                    .task_portal
                    .insert(document.task_id, document.portal_id);
                Ok(replaced)
            }
            Err(Error::Conflict { .. })
                if self.is(Breakage::SignedDocumentReplaced)
                    && self.shadow().signatures.contains_key(&document.task_id) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn signature_document(
        &self,
        portal: PortalId,
        task: TaskId,
    ) -> Result<portal_core::signatures::AttachedDocument> {
        let portal = if self.is(Breakage::SignatureDocumentIgnoresPortal) {
            self.shadow()
                .task_portal
                .get(&task)
                .copied()
                .unwrap_or(portal)
        } else {
            portal
        };
        self.inner.signature_document(portal, task).await
    }
}
