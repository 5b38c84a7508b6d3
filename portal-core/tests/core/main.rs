//! portal-core's integration tests, one binary: the conformance suite on the in-memory
//! reference store, and the access flow and the task workflow end to end through
//! `PortalService` with the `testkit` harness (manual clock, seeded randomness,
//! recording mailer), and the clamd scanner against a fake clamd (`scan`) and a real one
//! (`clamd`, skipped without clamd unless `CI` is set).

// Test helpers outside #[test] functions unwrap and panic too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ops::Deref;

use portal_core::model::{Contact, Portal, Tenant};
use portal_core::secret::{InviteToken, MagicToken, SessionToken};
use portal_core::store::ClientContext;
use portal_core::testkit::{Seeded, TestService, code_from_email, magic_link_from_email};
use portal_core::{Email, Error, StaffContext};

/// `insta::assert_snapshot!` into `tests/snapshots/`, in the file `{name}.snap`: the
/// names these snapshots had when the tests were one file, so they stay where they are.
macro_rules! assert_snapshot {
    ($name:literal, $value:expr) => {
        insta::with_settings!(
            {
                snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"),
                prepend_module_to_snapshot => false,
            },
            { insta::assert_snapshot!($name, $value) }
        )
    };
}

mod abuse;
mod access;
mod broken_blobs;
mod clamd;
mod conformance;
mod credentials;
mod filedrop;
mod mail;
mod outbox;
mod plan;
mod redaction;
mod reminders;
mod retention;
mod scan;
mod staff;
mod webhooks;
mod workflow;

/// A service over a fresh `MemoryStore`, with Northwind IT's portal for Contoso Ltd and
/// its contact Jane Doe (`PortalSeed::default`).
struct Harness {
    kit: TestService,
    tenant: Tenant,
    portal: Portal,
    contact: Contact,
    /// An admin of the tenant.
    staff: StaffContext,
}

impl Deref for Harness {
    type Target = TestService;
    fn deref(&self) -> &TestService {
        &self.kit
    }
}

impl Harness {
    async fn new(seed: u64) -> Self {
        let kit = TestService::in_memory(seed);
        let Seeded {
            tenant,
            portal,
            contact,
            staff,
        } = kit.seed_portal().await.unwrap();
        Self {
            kit,
            tenant,
            portal,
            contact,
            staff,
        }
    }

    async fn add_contact(&self, name: &str, email: &str) -> Contact {
        self.service
            .add_contact(&self.staff, self.portal.id, name, email)
            .await
            .unwrap()
    }

    fn last_email(&self, to: &Contact) -> Email {
        self.last_email_to(to).unwrap()
    }

    /// Invites the contact and reads the invite token back out of the email.
    async fn invite(&self, contact: &Contact) -> InviteToken {
        self.kit.invite(contact).await.unwrap()
    }

    /// Invites, verifies by code and returns the session.
    async fn sign_in(&self, contact: &Contact) -> (SessionToken, ClientContext) {
        self.kit.sign_in(contact).await.unwrap()
    }
}

/// The 6-digit code of a verification email.
fn code_in(email: &Email) -> String {
    code_from_email(&email.text).unwrap_or_else(|| panic!("no code in {}", email.text))
}

/// The magic-link token of a verification email.
fn magic_in(email: &Email) -> MagicToken {
    magic_link_from_email(&email.text).unwrap_or_else(|| panic!("no magic link in {}", email.text))
}

/// A code that is surely not `code`.
fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[track_caller]
fn assert_err<T: std::fmt::Debug>(r: Result<T, Error>, ok: impl Fn(&Error) -> bool) {
    match r {
        Err(e) if ok(&e) => {}
        other => panic!("unexpected result: {other:?}"),
    }
}

/// Log lines captured in memory (a `tracing_subscriber` writer).
#[derive(Clone, Default)]
struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogCapture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The binary's one global TRACE subscriber (installed on first use), capturing
    /// every thread without a scoped subscriber of its own. A scoped `set_default`
    /// subscriber can miss events: another thread may cache a call site's interest as
    /// "never" while no subscriber of its own wants it, between a rebuild of the cache
    /// and the call; the global subscriber is never left out of that interest.
    fn global() -> LogCapture {
        static GLOBAL: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let capture = LogCapture::default();
                let _ = tracing_subscriber::fmt()
                    .with_writer(capture.clone())
                    .with_ansi(false)
                    .with_max_level(tracing::Level::TRACE)
                    .try_init();
                capture
            })
            .clone()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> LogCapture {
        self.clone()
    }
}

/// A staff feed without the entries of setting a portal up (created, a contact added
/// or invited, an invite link issued, a phase or task added): the harnesses write
/// those before a test starts, so a test that pins what its own actions recorded
/// looks past them. `setup_lands_in_the_staff_feed_only` pins the setup entries.
pub fn after_setup(
    feed: Vec<portal_core::workflow::ActivityEntry>,
) -> Vec<portal_core::workflow::ActivityEntry> {
    use portal_core::workflow::ActivityKind::*;
    feed.into_iter()
        .filter(|e| {
            !matches!(
                e.kind,
                PortalCreated
                    | ContactAdded
                    | ContactInvited
                    | InviteLinkIssued
                    | PhaseAdded
                    | TaskAdded
            )
        })
        .collect()
}
