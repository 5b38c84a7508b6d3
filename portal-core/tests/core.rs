//! portal-core's integration tests: the conformance suite on the in-memory reference
//! store, and the access flow end to end through `PortalService` with a manual clock,
//! seeded randomness and a recording mailer.

// Test helpers outside #[test] functions unwrap and panic too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::memory::MemoryStore;
use portal_core::model::{Branding, Contact, Portal, PortalStatus};
use portal_core::secret::{InviteToken, MagicToken, ServerSecret, SessionToken};
use portal_core::store::{AccessEvent, RequestInfo};
use portal_core::{
    Email, Error, Limit, LinkBuilder, ManualClock, PortalService, RecordingMailer, SeededRandom,
    Store,
};

// ----- the conformance suite on MemoryStore --------------------------------------------

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            portal_core::conformance::$name(&MemoryStore::new()).await;
        }
    )*};
}

macro_rules! conformance_concurrent {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            portal_core::conformance::$name(Arc::new(MemoryStore::new())).await;
        }
    )*};
}

mod conformance_memory {
    use super::*;

    conformance!(
        tenants_and_portals,
        contacts,
        phases_and_tasks,
        portal_snapshot_order,
        logos,
        tenant_isolation,
        invites,
        revoke_invite_keeps_sessions,
        start_verification,
        verification_limit_per_contact,
        code_redeem_creates_session,
        issue_code_replaces_code_and_link,
        code_limit,
        wrong_code_attempts,
        code_expiry_boundary,
        magic_link_expiry_boundary,
        magic_link_read_then_redeem_once,
        session_expiry_boundary,
        session_slides,
        session_absolute_cap,
        end_session,
        revoke_contact,
        access_log,
    );

    conformance_concurrent!(
        concurrent_positions,
        concurrent_issue_code,
        concurrent_magic_link_redeem,
        concurrent_code_redeem,
    );

    /// The whole suite on one shared store: the functions do not interfere.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn run_all_on_one_store() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        portal_core::conformance::run_all(store.clone()).await;
        portal_core::conformance::run_all(store).await;
    }
}

// ----- PortalService ---------------------------------------------------------------------

struct Links;

impl LinkBuilder for Links {
    fn invite_url(&self, token: &InviteToken) -> String {
        format!("https://portal.example/invite/{}", token.expose_secret())
    }
    fn magic_link_url(&self, token: &MagicToken) -> String {
        format!("https://portal.example/magic/{}", token.expose_secret())
    }
}

fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

struct Harness {
    svc: PortalService,
    clock: Arc<ManualClock>,
    mailer: Arc<RecordingMailer>,
    portal: Portal,
    contact: Contact,
}

impl Harness {
    async fn new(seed: u64) -> Self {
        let clock = Arc::new(ManualClock::new(start_time()));
        let mailer = Arc::new(RecordingMailer::new());
        let svc = PortalService::builder(
            Arc::new(MemoryStore::new()),
            mailer.clone(),
            Arc::new(Links),
            ServerSecret::from_bytes(vec![7; 32]).unwrap(),
        )
        .clock(clock.clone())
        .random(Arc::new(SeededRandom::new(seed)))
        .build();
        let branding = Branding::new(
            "Northwind IT",
            "#1f6feb",
            "Welcome aboard!\nWe are glad you are here.",
            None,
        )
        .unwrap();
        let tenant = svc
            .create_tenant("Northwind Managed Services", branding, vec![])
            .await
            .unwrap();
        let portal = svc
            .create_portal(tenant.id, "Contoso Ltd", PortalStatus::Active)
            .await
            .unwrap();
        let contact = svc
            .add_contact(portal.id, "Jane Doe", "jane.doe@contoso.example")
            .await
            .unwrap();
        Self {
            svc,
            clock,
            mailer,
            portal,
            contact,
        }
    }

    async fn add_contact(&self, name: &str, email: &str) -> Contact {
        self.svc
            .add_contact(self.portal.id, name, email)
            .await
            .unwrap()
    }

    fn last_email(&self, to: &Contact) -> Email {
        self.mailer.last_to(to.email.as_str()).unwrap()
    }

    /// Invites the contact and reads the invite token back out of the email.
    async fn invite(&self, contact: &Contact) -> InviteToken {
        let token = self.svc.invite_contact(contact.id).await.unwrap();
        let from_email = invite_in(&self.last_email(contact));
        assert_eq!(from_email, token);
        token
    }

    /// Invites, verifies by code and returns the session.
    async fn sign_in(
        &self,
        contact: &Contact,
    ) -> (SessionToken, portal_core::store::ClientContext) {
        let invite = self.invite(contact).await;
        let (verification, _) = self.svc.start_verification(&invite, &req()).await.unwrap();
        let code = code_in(&self.last_email(contact));
        self.svc
            .enter_code(&verification, &code, &req())
            .await
            .unwrap()
    }
}

fn req() -> RequestInfo {
    RequestInfo::new(
        Some("198.51.100.23".parse().unwrap()),
        Some("Mozilla/5.0 (test)"),
        Some("/portal"),
    )
}

/// The 6-digit code of a verification email.
fn code_in(email: &Email) -> String {
    email
        .text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {}", email.text))
        .to_owned()
}

fn link_in<'a>(email: &'a Email, prefix: &str) -> &'a str {
    email
        .text
        .lines()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix} link in {}", email.text))
}

fn magic_in(email: &Email) -> MagicToken {
    MagicToken::parse(link_in(email, "https://portal.example/magic/")).unwrap()
}

fn invite_in(email: &Email) -> InviteToken {
    InviteToken::parse(link_in(email, "https://portal.example/invite/")).unwrap()
}

/// A code that is surely not `code`.
fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test]
async fn full_journey_invite_verify_by_code_authenticate() {
    let h = Harness::new(1).await;
    let invite = h.invite(&h.contact).await;
    let invite_email = h.last_email(&h.contact);
    assert_eq!(invite_email.to, h.contact.email);
    assert_eq!(
        invite_email.subject,
        "Northwind IT invited you to your onboarding portal"
    );

    h.clock.advance(TimeDelta::minutes(1));
    let target = h.svc.open_invite(&invite, &req()).await.unwrap();
    assert_eq!(target.contact.id, h.contact.id);
    assert_eq!(target.portal.id, h.portal.id);

    h.clock.advance(TimeDelta::minutes(1));
    let (verification, view) = h.svc.start_verification(&invite, &req()).await.unwrap();
    assert_eq!(view.codes_issued, 1);
    assert_eq!(
        view.code_expires_at,
        Some(h.clock_now() + TimeDelta::minutes(30))
    );
    let email = h.last_email(&h.contact);
    assert_eq!(email.subject, "Your Northwind IT portal verification code");
    let code = code_in(&email);
    assert!(email.html.contains(&code));
    let magic = magic_in(&email);
    assert!(email.html.contains(magic.expose_secret()));

    h.clock.advance(TimeDelta::minutes(3));
    let (session, ctx) = h
        .svc
        .enter_code(&verification, &code, &req())
        .await
        .unwrap();
    assert_eq!(ctx.contact_id, h.contact.id);
    assert_eq!(ctx.portal_id, h.portal.id);
    assert_eq!(ctx.session_expires_at, h.clock_now() + TimeDelta::hours(24));
    assert_err(h.svc.verification(&verification).await, |e| {
        matches!(e, Error::NotFound { .. })
    });
    assert_err(h.svc.magic_link(&magic).await, |e| {
        matches!(e, Error::NotFound { .. })
    });

    h.clock.advance(TimeDelta::minutes(1));
    let authed = h.svc.authenticate(&session, &req()).await.unwrap();
    assert_eq!(authed.contact_id, h.contact.id);
    let home = h.svc.portal_home(&authed).await.unwrap();
    assert_eq!(home.portal, h.portal);

    let log = h.svc.access_log(h.portal.id, 10).await.unwrap();
    let events: Vec<AccessEvent> = log.iter().map(|e| e.event).collect();
    assert_eq!(
        events,
        vec![
            AccessEvent::PortalRequest,
            AccessEvent::Verified,
            AccessEvent::CodeSent,
            AccessEvent::InviteOpened
        ]
    );
    assert_eq!(log[0].request, req(), "the portal request keeps its path");
    assert_eq!(
        log[1].request.path, None,
        "token-bearing access-flow paths are not logged"
    );
    assert_eq!(log[1].request.ip, req().ip);
}

#[tokio::test]
async fn full_journey_by_magic_link() {
    let h = Harness::new(2).await;
    let invite = h.invite(&h.contact).await;
    h.svc.start_verification(&invite, &req()).await.unwrap();
    let magic = magic_in(&h.last_email(&h.contact));
    // A mail scanner opening the link changes nothing.
    for _ in 0..3 {
        let target = h.svc.magic_link(&magic).await.unwrap();
        assert_eq!(target.contact.id, h.contact.id);
    }
    let (session, ctx) = h.svc.confirm_magic_link(&magic, &req()).await.unwrap();
    assert_eq!(ctx.contact_id, h.contact.id);
    h.svc.authenticate(&session, &req()).await.unwrap();
    assert_err(h.svc.confirm_magic_link(&magic, &req()).await, |e| {
        matches!(e, Error::NotFound { .. })
    });
}

#[tokio::test]
async fn code_expires_exactly_at_the_boundary() {
    let h = Harness::new(3).await;
    let invite = h.invite(&h.contact).await;

    let (late, _) = h.svc.start_verification(&invite, &req()).await.unwrap();
    let late_code = code_in(&h.last_email(&h.contact));
    h.clock
        .advance(TimeDelta::minutes(30) + TimeDelta::seconds(1));
    assert_err(h.svc.enter_code(&late, &late_code, &req()).await, |e| {
        matches!(e, Error::Expired { .. })
    });

    let (on_time, _) = h.svc.start_verification(&invite, &req()).await.unwrap();
    let code = code_in(&h.last_email(&h.contact));
    h.clock.advance(TimeDelta::minutes(30));
    h.svc.enter_code(&on_time, &code, &req()).await.unwrap();
}

#[tokio::test]
async fn session_expires_exactly_at_the_boundary() {
    let h = Harness::new(4).await;
    let bob = h.add_contact("Bob Roe", "bob@contoso.example").await;
    let (jane_session, _) = h.sign_in(&h.contact).await;
    let (bob_session, _) = h.sign_in(&bob).await;

    h.clock.advance(TimeDelta::hours(24));
    let ctx = h.svc.authenticate(&jane_session, &req()).await.unwrap();
    assert_eq!(
        ctx.session_expires_at,
        h.clock_now() + TimeDelta::hours(24),
        "an active session slides"
    );

    h.clock.advance(TimeDelta::seconds(1));
    assert_err(h.svc.authenticate(&bob_session, &req()).await, |e| {
        matches!(e, Error::Expired { .. })
    });
    h.svc.authenticate(&jane_session, &req()).await.unwrap();
}

#[tokio::test]
async fn wrong_codes_kill_the_code_after_five_tries() {
    let h = Harness::new(5).await;
    let invite = h.invite(&h.contact).await;
    let (verification, _) = h.svc.start_verification(&invite, &req()).await.unwrap();
    let code = code_in(&h.last_email(&h.contact));
    let bad = wrong(&code);
    for left in [4, 3, 2, 1] {
        match h.svc.enter_code(&verification, &bad, &req()).await {
            Err(Error::WrongCode { attempts_left }) => assert_eq!(attempts_left, left),
            other => panic!("expected WrongCode, got {other:?}"),
        }
    }
    for typed in [&bad, &code] {
        assert_err(h.svc.enter_code(&verification, typed, &req()).await, |e| {
            matches!(e, Error::LimitReached(Limit::WrongCodeAttempts))
        });
    }
    // A new code starts over.
    h.svc.resend_code(&verification, &req()).await.unwrap();
    let fresh = code_in(&h.last_email(&h.contact));
    h.svc
        .enter_code(&verification, &fresh, &req())
        .await
        .unwrap();
}

#[tokio::test]
async fn at_most_five_codes_per_verification() {
    let h = Harness::new(6).await;
    let invite = h.invite(&h.contact).await;
    let (verification, _) = h.svc.start_verification(&invite, &req()).await.unwrap();
    let first = code_in(&h.last_email(&h.contact));
    for n in 2..=5 {
        h.clock.advance(TimeDelta::minutes(1));
        let view = h.svc.resend_code(&verification, &req()).await.unwrap();
        assert_eq!(view.codes_issued, n);
    }
    let sent_before = h.mailer.sent().len();
    assert_err(h.svc.resend_code(&verification, &req()).await, |e| {
        matches!(e, Error::LimitReached(Limit::CodesPerVerification))
    });
    assert_eq!(
        h.mailer.sent().len(),
        sent_before,
        "no email for a refused code"
    );
    let last = code_in(&h.last_email(&h.contact));
    assert_err(h.svc.enter_code(&verification, &first, &req()).await, |e| {
        matches!(e, Error::WrongCode { .. })
    });
    h.svc
        .enter_code(&verification, &last, &req())
        .await
        .unwrap();
}

#[tokio::test]
async fn verifications_per_contact_are_limited() {
    let h = Harness::new(7).await;
    let invite = h.invite(&h.contact).await;
    for _ in 0..10 {
        h.svc.start_verification(&invite, &req()).await.unwrap();
    }
    assert_err(h.svc.start_verification(&invite, &req()).await, |e| {
        matches!(e, Error::LimitReached(Limit::VerificationsPerContact))
    });
    h.clock.advance(TimeDelta::hours(1) + TimeDelta::seconds(1));
    h.svc.start_verification(&invite, &req()).await.unwrap();
}

#[tokio::test]
async fn reissued_invite_kills_the_old_link() {
    let h = Harness::new(8).await;
    let old = h.invite(&h.contact).await;
    let new = h.invite(&h.contact).await;
    assert_ne!(old, new);
    assert_err(h.svc.open_invite(&old, &req()).await, |e| {
        matches!(e, Error::NotFound { .. })
    });
    assert_err(h.svc.start_verification(&old, &req()).await, |e| {
        matches!(e, Error::NotFound { .. })
    });
    h.svc.open_invite(&new, &req()).await.unwrap();
}

#[tokio::test]
async fn revoked_contact_is_refused_on_the_very_next_request() {
    let h = Harness::new(9).await;
    let (session, _) = h.sign_in(&h.contact).await;
    h.svc.authenticate(&session, &req()).await.unwrap();
    h.svc.revoke_contact(h.contact.id).await.unwrap();
    assert_err(h.svc.authenticate(&session, &req()).await, |e| {
        matches!(e, Error::Revoked { .. })
    });
}

#[tokio::test]
async fn session_token_is_new_at_verification() {
    let h = Harness::new(10).await;
    let invite = h.invite(&h.contact).await;
    let (verification, _) = h.svc.start_verification(&invite, &req()).await.unwrap();
    let email = h.last_email(&h.contact);
    let magic = magic_in(&email);
    let (session, _) = h
        .svc
        .enter_code(&verification, &code_in(&email), &req())
        .await
        .unwrap();
    let s = session.expose_secret();
    assert_ne!(s, verification.expose_secret());
    assert_ne!(s, invite.expose_secret());
    assert_ne!(s, magic.expose_secret());
}

#[tokio::test]
async fn invite_email_carries_the_invite_link() {
    let h = Harness::new(11).await;
    let token = h.svc.invite_contact(h.contact.id).await.unwrap();
    let email = h.last_email(&h.contact);
    let link = Links.invite_url(&token);
    assert!(email.text.contains(&link), "{}", email.text);
    assert!(email.html.contains(&link), "{}", email.html);
    assert_eq!(email.to_name.as_deref(), Some("Jane Doe"));
}

#[tokio::test]
async fn debug_output_never_shows_codes_or_tokens() {
    let h = Harness::new(12).await;
    let invite = h.invite(&h.contact).await;
    let (verification, _) = h.svc.start_verification(&invite, &req()).await.unwrap();
    let email = h.last_email(&h.contact);
    let code = code_in(&email);
    let magic = magic_in(&email);
    let (session, ctx) = h
        .svc
        .enter_code(&verification, &code, &req())
        .await
        .unwrap();
    let printed = format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
        h.svc,
        h.mailer.sent(),
        invite,
        verification,
        magic,
        session,
        ctx
    );
    for secret in [
        code.as_str(),
        invite.expose_secret(),
        verification.expose_secret(),
        magic.expose_secret(),
        session.expose_secret(),
    ] {
        assert!(!printed.contains(secret), "Debug output leaks {secret}");
    }
    let store_debug = format!("{:?}", MemoryStore::new());
    assert!(store_debug.starts_with("MemoryStore"));
}

#[tokio::test]
async fn email_snapshots() {
    let h = Harness::new(42).await;
    let invite = h.svc.invite_contact(h.contact.id).await.unwrap();
    let invite_email = h.last_email(&h.contact);
    insta::assert_snapshot!("invite_email_text", invite_email.text);

    h.clock.advance(TimeDelta::minutes(7));
    h.svc.start_verification(&invite, &req()).await.unwrap();
    let email = h.last_email(&h.contact);
    insta::assert_snapshot!("verification_email_text", email.text);
    insta::assert_snapshot!("verification_email_html", email.html);
}

// ----- helpers ---------------------------------------------------------------------------

impl Harness {
    fn clock_now(&self) -> DateTime<Utc> {
        use portal_core::Clock;
        self.clock.now()
    }
}

#[track_caller]
fn assert_err<T: std::fmt::Debug>(r: Result<T, Error>, ok: impl Fn(&Error) -> bool) {
    match r {
        Err(e) if ok(&e) => {}
        other => panic!("unexpected result: {other:?}"),
    }
}
