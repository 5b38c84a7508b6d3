//! The storage conformance suite: public async test functions that check every
//! contract point of [`crate::store`] against any [`Store`].
//!
//! A storage adapter passes this suite before it is trusted. Each function creates
//! its own tenants, portals and contacts with fresh random ids, so the functions are
//! independent of each other and of whatever the store already holds: they may share
//! one store, run in any order, and run again on a store that is not empty.
//!
//! Stores never read a clock: every function passes explicit times (whole seconds
//! around 2026-11-28), so expiry boundaries are checked to the second.
//!
//! Run it from an adapter's integration tests, one test per function for readable
//! reports, or everything at once with [`run_all`]. The functions that check behaviour
//! under concurrency take an `Arc<dyn Store>`: each racing call runs on its own OS
//! thread (Tokio's blocking pool, driven by `Handle::block_on`), all released together,
//! so the calls truly race even if an adapter blocks inside a call ([`race`], public
//! for an adapter's own concurrency tests). They need a Tokio
//! runtime (any flavor); the multi-threaded one is recommended:
//!
//! ```ignore
//! use std::sync::Arc;
//! use portal_core::conformance;
//!
//! #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn conformance() {
//!     let store = Arc::new(MyStore::open_temporary().await);
//!     conformance::run_all(store).await;
//! }
//! ```
//!
//! The contract fixes every error meaning, and the suite checks each exactly (the
//! variant and its [`crate::Entity`]): a replaced invite is `NotFound(Invite)`, a
//! replaced, killed or used magic link `NotFound(MagicLink)`, a killed code
//! `Expired(Code)`, a revoked contact `Revoked(Contact)` at every step, and so on.
//! Where the contract is terse, the suite pins the reading of the reference store
//! ([`crate::memory`]):
//! - an email sent exactly `email_window` before the new code's `issued_at` still
//!   counts towards `max_emails_per_contact` (inclusive, like every expiry boundary);
//!   a verification is still good at its last instant, and a lockout still holds at
//!   its last instant;
//! - once a code is replaced, typing the old one is an ordinary wrong try
//!   (`WrongCode`), because [`crate::access::rules::judge_code`] compares with the live code;
//! - listing is never an error for a portal that merely has no records (comments are
//!   listed through a task, so a task that is missing or of another portal is
//!   `NotFound(Task)`, as the contract says);
//! - refused calls (a limit, a wrong parent, an expired code) write nothing, and a
//!   refused `authenticate` appends no access entry;
//! - `prune_access_log` keeps an entry exactly at its cutoff (strict `<`, like
//!   [`crate::access::rules::retention_cutoff`] says), removes the oldest first and at
//!   most `max_rows` per call (0: none);
//! - the outbox checks claim only in years of their own (1981 to 1985) and leave the
//!   emails they keep pending due in 2999, so they never claim each other's emails;
//!   they assume no other claim or prune before 1986 runs on the same store at the
//!   same time;
//! - `update_task` through another portal never calls `decide` (the other portal's
//!   task is not shown to it); comments with equal times are listed in insertion
//!   order; a question of a missing portal is `NotFound` and a duplicate question id
//!   is `Conflict`, like any other record.
//!
//! # Panics
//!
//! Every function panics, with a message naming the broken contract point, when the
//! store under test breaks the contract. This is test code shipped as a library
//! feature so adapters in other crates can run it, which is why the crate's
//! `unwrap`/`expect`/`panic` lints are lifted for this module only.

// See "Panics" above: failed checks must panic, exactly as in a #[test].
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod attachments;
mod audit;
mod blob;
mod credentials;
mod directory;
mod documents;
mod filedrop;
mod guards;
mod guests;
mod handover;
mod home;
mod idempotency;
mod onboarding;
mod outbox;
mod paging;
mod plan;
pub mod race;
mod races;
mod refusals;
mod reminders;
mod retention;
mod rotation;
mod sessions;
mod signatures;
mod staff;
mod support;
mod task_erasure;
mod team;
mod versions;
mod webhooks;
mod workflow;

use std::sync::Arc;

use crate::store::Store;

pub use access::{
    code_expiry_boundary, code_limit, code_redeem_creates_session, concurrent_code_redeem,
    concurrent_issue_code, concurrent_magic_link_redeem, invites,
    issue_code_replaces_code_and_link, magic_link_expiry_boundary,
    magic_link_read_then_redeem_once, revoke_invite_keeps_sessions, start_verification,
    verification_limit_per_contact, wrong_code_attempts,
};
pub use attachments::{
    attachment_cap_holds, attachment_deleted, attachments_added_and_listed,
    attachments_erased_with_their_owners, document_opens_keep_the_first,
};
pub use audit::{
    audit_chain_appends, audit_history_unchanged, audit_with_document_changes,
    concurrent_audit_appends,
};
pub use blob::{
    blob_concurrent_puts, blob_delete, blob_dropped_put_leaves_nothing,
    blob_failed_put_leaves_nothing, blob_put_existing_id, blob_put_while_putting, blob_round_trip,
    run_blob_checks,
};
pub use credentials::{credentials_reveal_and_purge, credentials_submitted_once};
pub use directory::{
    concurrent_positions, contacts, directory_edits, logos, phases_and_tasks,
    portal_snapshot_order, remove_contact_erases_access, setup_entries_in_one_unit,
    tenant_isolation, tenants_and_portals,
};
pub use documents::{
    concurrent_document_reviews, concurrent_document_uploads, delete_portal_erases_everything,
    document_file_keeps_immutable_fields, document_file_round_trips,
    document_refusals_write_nothing, document_supersede, document_upload_recorded,
    file_key_rotation, review_queue_order_and_scope,
};
pub use filedrop::{
    concurrent_delete_and_download, delete_portal_erases_drops,
    file_drop_changes_with_their_events, file_drop_refusals_write_nothing, file_drop_sweep_marks,
    file_drops_recorded_with_their_events,
};
pub use guards::{
    concurrent_emails_at_the_limit, concurrent_wrong_codes_per_contact, email_limit_per_contact,
    invite_death_ends_verifications, verification_lifetime, wrong_codes_per_contact,
};
pub use guests::{guest_end_date, guest_invites, guest_sharing};
pub use handover::{handover_in_one_unit, handover_stall_alerted_once};
pub use home::home_version_follows_content;
pub use idempotency::{
    concurrent_idempotency_reserves, idempotency_expiry_and_lease, idempotency_prune,
    idempotency_reserve_and_replay,
};
pub use onboarding::onboarding_team;
pub use outbox::{
    outbox_claims_due_in_order, outbox_concurrent_claims, outbox_enqueue_round_trips,
    outbox_outcomes, outbox_prune_sent, outbox_queued_with_their_unit, outbox_stale_claim_refused,
};
pub use paging::{
    access_log_pages_by_key, activity_pages_by_key, contacts_page_by_key, portals_page_by_key,
    templates_page_by_key,
};
pub use plan::{
    plan_change_appends_comments, plan_concurrent_moves, plan_delete_takes_comments,
    plan_moves_renumber, plan_reads_and_changes, plan_refusals_write_nothing,
    plan_unlocks_in_the_same_unit, portal_with_plan_in_one_unit, templates_scoped_and_versioned,
};
pub use races::{
    concurrent_activity_appends, concurrent_answers, concurrent_comments,
    concurrent_verification_starts, concurrent_wrong_codes, revocation_races_sign_ins,
};
pub use refusals::{
    foreign_activity_refused, one_live_code_per_contact, portal_status_reaches_access_flow,
    revoked_contact_refused_everywhere, withdrawn_codes,
};
pub use reminders::{
    concurrent_digests, reminder_digest_once_per_day, reminder_escalation_compare_and_set,
    reminder_last_visit, reminder_settings_round_trip, reminder_snooze_and_unsubscribe,
};
pub use retention::{prune_access_log_batches, prune_access_log_boundary};
pub use rotation::sealed_key_rotation;
pub use sessions::{
    access_log, contact_time_zone_kept, end_session, portal_status_reaches_sessions,
    revoke_contact, session_absolute_cap, session_expiry_boundary, session_noted_once_per_interval,
    session_slides, sign_out_other_sessions,
};
pub use signatures::{
    signature_document_attached, signature_submitted_once, signatures_found_by_document,
};
pub use staff::{
    ADMIN_USE_CASES, STAFF_USE_CASES, staff_actions_land_in_the_feed, staff_isolation, staff_roles,
};
pub use task_erasure::{delete_portal_erases_signature_images, delete_task_erases_its_files};
pub use team::{colleague_cap, colleague_invites, concurrent_colleague_invites};
pub use versions::{
    concurrent_tenant_hosts, concurrent_versioned_edits, contact_edit_compare_and_set,
    portal_fields_in_one_unit, tenant_settings_in_one_unit, versions_compare_and_set,
};
pub use webhooks::{
    run_webhook_checks, webhook_claims_and_attempts, webhook_concurrent_claims,
    webhook_concurrent_enqueues, webhook_cursor_starts_at_the_end,
    webhook_endpoint_compare_and_set, webhook_endpoints_by_tenant, webhook_enqueue_exactly_once,
    webhook_erasure, webhook_feed_keys_only_grow, webhook_reads_and_replays,
};
pub use workflow::{
    activity_feed_order, branding_changes, comments_order_and_scope, concurrent_approvals,
    concurrent_checklist_items, evidence_round_trips, questions_answered_once,
    update_task_applies_with_activity, update_task_keeps_immutable_fields,
    update_task_refusal_writes_nothing, workflow_portal_scoping,
};

/// Runs every check of the suite against `store`, one after the other.
pub async fn run_all(store: Arc<dyn Store>) {
    let s = store.as_ref();
    // Directory.
    tenants_and_portals(s).await;
    contacts(s).await;
    directory_edits(s).await;
    versions_compare_and_set(s).await;
    portal_fields_in_one_unit(s).await;
    tenant_settings_in_one_unit(s).await;
    contact_edit_compare_and_set(s).await;
    concurrent_versioned_edits(store.clone()).await;
    concurrent_tenant_hosts(store.clone()).await;
    remove_contact_erases_access(s).await;
    // Colleagues.
    colleague_invites(s).await;
    colleague_cap(s).await;
    concurrent_colleague_invites(store.clone()).await;
    // Guests.
    guest_invites(s).await;
    guest_sharing(s).await;
    guest_end_date(s).await;
    handover_in_one_unit(s).await;
    handover_stall_alerted_once(s).await;
    phases_and_tasks(s).await;
    concurrent_positions(store.clone()).await;
    portal_snapshot_order(s).await;
    logos(s).await;
    onboarding_team(s).await;
    home_version_follows_content(s).await;
    tenant_isolation(s).await;
    // Invites and verification.
    invites(s).await;
    revoke_invite_keeps_sessions(s).await;
    start_verification(s).await;
    verification_limit_per_contact(s).await;
    code_redeem_creates_session(s).await;
    issue_code_replaces_code_and_link(s).await;
    code_limit(s).await;
    concurrent_issue_code(store.clone()).await;
    wrong_code_attempts(s).await;
    code_expiry_boundary(s).await;
    magic_link_expiry_boundary(s).await;
    magic_link_read_then_redeem_once(s).await;
    concurrent_magic_link_redeem(store.clone()).await;
    concurrent_code_redeem(store.clone()).await;
    concurrent_wrong_codes(store.clone()).await;
    concurrent_verification_starts(store.clone()).await;
    one_live_code_per_contact(s).await;
    withdrawn_codes(s).await;
    revoked_contact_refused_everywhere(s).await;
    portal_status_reaches_access_flow(s).await;
    invite_death_ends_verifications(s).await;
    verification_lifetime(s).await;
    email_limit_per_contact(s).await;
    wrong_codes_per_contact(s).await;
    concurrent_wrong_codes_per_contact(store.clone()).await;
    concurrent_emails_at_the_limit(store.clone()).await;
    // Sessions, revocation and the access log.
    session_expiry_boundary(s).await;
    session_slides(s).await;
    session_noted_once_per_interval(s).await;
    session_absolute_cap(s).await;
    end_session(s).await;
    sign_out_other_sessions(s).await;
    contact_time_zone_kept(s).await;
    revoke_contact(s).await;
    access_log(s).await;
    prune_access_log_boundary(s).await;
    prune_access_log_batches(s).await;
    portal_status_reaches_sessions(s).await;
    revocation_races_sign_ins(store.clone()).await;
    // The task workflow.
    update_task_applies_with_activity(s).await;
    update_task_refusal_writes_nothing(s).await;
    update_task_keeps_immutable_fields(s).await;
    workflow_portal_scoping(s).await;
    concurrent_approvals(store.clone()).await;
    concurrent_checklist_items(store.clone()).await;
    comments_order_and_scope(s).await;
    questions_answered_once(s).await;
    activity_feed_order(s).await;
    activity_pages_by_key(s).await;
    access_log_pages_by_key(s).await;
    portals_page_by_key(s).await;
    contacts_page_by_key(s).await;
    templates_page_by_key(s).await;
    branding_changes(s).await;
    evidence_round_trips(s).await;
    foreign_activity_refused(s).await;
    concurrent_answers(store.clone()).await;
    concurrent_comments(store.clone()).await;
    concurrent_activity_appends(store.clone()).await;
    // Documents.
    document_upload_recorded(s).await;
    document_file_round_trips(s).await;
    document_refusals_write_nothing(s).await;
    document_supersede(s).await;
    document_file_keeps_immutable_fields(s).await;
    review_queue_order_and_scope(s).await;
    file_key_rotation(s).await;
    sealed_key_rotation(s).await;
    delete_task_erases_its_files(s).await;
    delete_portal_erases_signature_images(s).await;
    delete_portal_erases_everything(s).await;
    concurrent_document_uploads(store.clone()).await;
    concurrent_document_reviews(store.clone()).await;
    // The audit trail.
    audit_chain_appends(s).await;
    audit_history_unchanged(s).await;
    audit_with_document_changes(s).await;
    concurrent_audit_appends(store.clone()).await;
    // Credential handoffs.
    credentials_submitted_once(s).await;
    credentials_reveal_and_purge(s).await;
    // Secure file drops.
    file_drops_recorded_with_their_events(s).await;
    file_drop_refusals_write_nothing(s).await;
    file_drop_changes_with_their_events(s).await;
    file_drop_sweep_marks(s).await;
    delete_portal_erases_drops(s).await;
    concurrent_delete_and_download(store.clone()).await;
    // Signatures.
    signature_submitted_once(s).await;
    signatures_found_by_document(s).await;
    signature_document_attached(s).await;
    // Documents the MSP shares on tasks.
    attachments_added_and_listed(s).await;
    attachment_deleted(s).await;
    document_opens_keep_the_first(s).await;
    attachments_erased_with_their_owners(s).await;
    attachment_cap_holds(store.clone()).await;
    // The email outbox.
    outbox_enqueue_round_trips(s).await;
    outbox_queued_with_their_unit(s).await;
    outbox_claims_due_in_order(s).await;
    outbox_stale_claim_refused(s).await;
    outbox_outcomes(s).await;
    outbox_concurrent_claims(store.clone()).await;
    outbox_prune_sent(s).await;
    // Reminders.
    reminder_settings_round_trip(s).await;
    reminder_digest_once_per_day(s).await;
    reminder_snooze_and_unsubscribe(s).await;
    reminder_last_visit(s).await;
    reminder_escalation_compare_and_set(s).await;
    concurrent_digests(store.clone()).await;
    // The plan.
    plan_reads_and_changes(s).await;
    plan_moves_renumber(s).await;
    plan_delete_takes_comments(s).await;
    plan_change_appends_comments(s).await;
    plan_refusals_write_nothing(s).await;
    plan_unlocks_in_the_same_unit(s).await;
    plan_concurrent_moves(store.clone()).await;
    templates_scoped_and_versioned(s).await;
    portal_with_plan_in_one_unit(s).await;
    setup_entries_in_one_unit(s).await;
    // Idempotency keys.
    idempotency_reserve_and_replay(s).await;
    idempotency_expiry_and_lease(s).await;
    idempotency_prune(s).await;
    concurrent_idempotency_reserves(store.clone()).await;
    // Staff use cases through the service: tenant isolation and roles.
    staff_isolation(store.clone()).await;
    staff_roles(store.clone()).await;
    staff_actions_land_in_the_feed(store.clone()).await;
}

/// Generates one `#[tokio::test]` per check of the suite, so an adapter's test run
/// names each failing contract point, and gains new checks without editing a list.
///
/// `$make` is an expression evaluated afresh for every test, yielding a future of
/// `(guard, Arc<dyn Store>)`; the guard (a temp dir, a database handle, `()`) lives
/// until the test ends. The calling crate needs `tokio` with the `macros` and
/// `rt-multi-thread` features.
///
/// `conformance_tests!(@optional $make)` takes a future of `Option<(guard, store)>`
/// instead: `None` ends each test at once, for an adapter whose server the test
/// machine may not have (the adapter's harness decides when a missing server is
/// an error; PostgreSQL's fails when `PORTAL_REQUIRE_POSTGRES=1`).
///
/// ```ignore
/// mod conformance {
///     portal_core::conformance_tests!(crate::fresh_store());
/// }
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@optional async { Some($make.await) });
    };
    (@optional $make:expr) => {
        $crate::conformance_tests!(@each ref $make;
            tenants_and_portals, contacts, directory_edits, versions_compare_and_set,
            portal_fields_in_one_unit, tenant_settings_in_one_unit, contact_edit_compare_and_set,
            activity_pages_by_key, access_log_pages_by_key,
            portals_page_by_key, contacts_page_by_key, templates_page_by_key,
            remove_contact_erases_access, colleague_invites, colleague_cap,
            guest_invites, guest_sharing, guest_end_date, handover_in_one_unit,
            handover_stall_alerted_once,
            phases_and_tasks, portal_snapshot_order, logos, onboarding_team, home_version_follows_content,
            tenant_isolation, invites, revoke_invite_keeps_sessions, start_verification,
            verification_limit_per_contact, code_redeem_creates_session,
            issue_code_replaces_code_and_link, code_limit, wrong_code_attempts,
            code_expiry_boundary, magic_link_expiry_boundary, magic_link_read_then_redeem_once,
            session_expiry_boundary, session_slides, session_noted_once_per_interval,
            session_absolute_cap, end_session,
            sign_out_other_sessions, contact_time_zone_kept, revoke_contact, access_log, portal_status_reaches_sessions,
            update_task_applies_with_activity, update_task_refusal_writes_nothing,
            update_task_keeps_immutable_fields, workflow_portal_scoping,
            comments_order_and_scope, questions_answered_once, activity_feed_order,
            branding_changes, evidence_round_trips, one_live_code_per_contact, withdrawn_codes,
            revoked_contact_refused_everywhere, portal_status_reaches_access_flow,
            foreign_activity_refused, invite_death_ends_verifications, verification_lifetime,
            email_limit_per_contact, wrong_codes_per_contact, prune_access_log_boundary,
            prune_access_log_batches, document_upload_recorded, document_file_round_trips,
            document_refusals_write_nothing, document_supersede,
            document_file_keeps_immutable_fields, review_queue_order_and_scope, file_key_rotation,
            sealed_key_rotation, delete_task_erases_its_files,
            delete_portal_erases_signature_images,
            delete_portal_erases_everything,
            outbox_enqueue_round_trips, outbox_queued_with_their_unit, outbox_claims_due_in_order,
            outbox_stale_claim_refused, outbox_outcomes, outbox_prune_sent,
            reminder_settings_round_trip, reminder_digest_once_per_day,
            reminder_snooze_and_unsubscribe, reminder_last_visit,
            reminder_escalation_compare_and_set,
            plan_reads_and_changes, plan_moves_renumber, plan_delete_takes_comments,
            plan_change_appends_comments,
            plan_refusals_write_nothing, plan_unlocks_in_the_same_unit,
            templates_scoped_and_versioned, portal_with_plan_in_one_unit,
            setup_entries_in_one_unit, idempotency_reserve_and_replay, idempotency_expiry_and_lease, idempotency_prune,
            audit_chain_appends, audit_history_unchanged, audit_with_document_changes,
            credentials_submitted_once, credentials_reveal_and_purge,
            file_drops_recorded_with_their_events, file_drop_refusals_write_nothing,
            file_drop_changes_with_their_events, file_drop_sweep_marks,
            delete_portal_erases_drops,
            signature_submitted_once, signatures_found_by_document, signature_document_attached,
            attachments_added_and_listed, attachment_deleted, document_opens_keep_the_first,
            attachments_erased_with_their_owners
        );
        $crate::conformance_tests!(@each arc $make;
            concurrent_positions, concurrent_colleague_invites, concurrent_issue_code, concurrent_magic_link_redeem,
            concurrent_code_redeem, concurrent_approvals, concurrent_checklist_items,
            concurrent_wrong_codes, concurrent_verification_starts, revocation_races_sign_ins,
            concurrent_answers, concurrent_comments, concurrent_activity_appends,
            concurrent_wrong_codes_per_contact, concurrent_emails_at_the_limit,
            concurrent_document_uploads, concurrent_document_reviews, outbox_concurrent_claims,
            concurrent_digests, plan_concurrent_moves, concurrent_idempotency_reserves, staff_isolation, staff_roles,
            staff_actions_land_in_the_feed, concurrent_audit_appends,
            concurrent_delete_and_download, concurrent_versioned_edits, concurrent_tenant_hosts,
            attachment_cap_holds
        );
        /// The whole suite on one shared store: the checks do not interfere.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn run_all_on_one_store() {
            let Some((_guard, store)) = $make.await else { return };
            $crate::conformance::run_all(store).await;
        }
    };
    (@each ref $make:expr; $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let Some((_guard, store)) = $make.await else { return };
            $crate::conformance::$name(store.as_ref()).await;
        }
    )*};
    (@each arc $make:expr; $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let Some((_guard, store)) = $make.await else { return };
            $crate::conformance::$name(store).await;
        }
    )*};
}
