//! Fixtures shared by the suite: fresh records with random ids, tokens, fixed times.

use chrono::{DateTime, TimeDelta, Utc};

use crate::access::{AccessPolicy, SessionPolicy};
use crate::ids::{ContactId, PhaseId, PortalId, TaskId, TenantId};
use crate::model::{
    Branding, Contact, EmailAddress, Phase, Portal, PortalStatus, Side, Task, TaskKind, TaskStatus,
    Tenant, TimeZone,
};
use crate::random::{OsRandom, RandomSource};
use crate::secret::{CodeHash, TokenHash};
use crate::store::{ClientContext, NewCode, NewSession, Store, TaskDecision};
use crate::workflow::{Actor, TaskAction, apply};

pub(crate) use super::race::race_all;

/// Asserts that an expression is `Err` matching a pattern, printing what it was if not.
macro_rules! assert_err {
    ($e:expr, $pat:pat $(if $guard:expr)? $(,)?) => {
        match $e {
            Err($pat) $(if $guard)? => {}
            other => panic!(
                "{}: expected Err({}), got {:?}",
                stringify!($e),
                stringify!($pat),
                other
            ),
        }
    };
}
pub(crate) use assert_err;

/// The suite's epoch: 2026-11-28T10:00:00Z.
pub(crate) fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub(crate) fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}
pub(crate) fn mins(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}
pub(crate) fn hours(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

/// How long the suite's codes live.
pub(crate) fn code_ttl() -> TimeDelta {
    mins(30)
}
/// How long the suite's sessions live.
pub(crate) fn session_ttl() -> TimeDelta {
    hours(24)
}

/// Wrong tries after which a code dies, in the suite.
pub(crate) const MAX_WRONG: u32 = 5;
/// Codes per verification, in the suite.
pub(crate) const MAX_CODES: u32 = 5;

/// The suite's policy: [`MAX_CODES`], [`MAX_WRONG`], [`code_ttl`], and generous
/// limits on emails, verification lifetimes and wrong codes per contact, for functions
/// that do not test them.
pub(crate) fn limits() -> AccessPolicy {
    AccessPolicy {
        code_ttl: code_ttl(),
        max_codes_per_verification: MAX_CODES,
        max_wrong_attempts: MAX_WRONG,
        verification_ttl: TimeDelta::days(3650),
        max_emails_per_contact: 1000,
        email_window: hours(1),
        max_wrong_codes_per_contact: 1000,
        wrong_code_window: TimeDelta::days(1),
        max_lockout: TimeDelta::days(30),
        session: no_slide(),
        staff_notification_interval: TimeDelta::minutes(1),
    }
}

/// The suite's policy with at most `max` emails per contact per hour.
pub(crate) fn emails(max: u32) -> AccessPolicy {
    AccessPolicy {
        max_emails_per_contact: max,
        ..limits()
    }
}

/// The suite's policy with at most `max` codes per verification.
pub(crate) fn codes(max: u32) -> AccessPolicy {
    AccessPolicy {
        max_codes_per_verification: max,
        ..limits()
    }
}

/// A session policy that never slides (refresh only after ten years).
pub(crate) fn no_slide() -> SessionPolicy {
    SessionPolicy {
        ttl: session_ttl(),
        refresh_after: TimeDelta::days(3650),
        absolute_max: None,
    }
}

fn bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRandom.fill(&mut b);
    b
}

/// A fresh random token hash.
pub(crate) fn token() -> TokenHash {
    TokenHash::from_bytes(bytes())
}

/// A fresh random code hash.
pub(crate) fn code_hash() -> CodeHash {
    CodeHash::from_bytes(bytes())
}

pub(crate) fn tenant_id() -> TenantId {
    TenantId::random(&OsRandom)
}
pub(crate) fn portal_id() -> PortalId {
    PortalId::random(&OsRandom)
}
pub(crate) fn contact_id() -> ContactId {
    ContactId::random(&OsRandom)
}
pub(crate) fn phase_id() -> PhaseId {
    PhaseId::random(&OsRandom)
}
pub(crate) fn task_id() -> TaskId {
    TaskId::random(&OsRandom)
}

pub(crate) fn new_tenant(created_at: DateTime<Utc>) -> Tenant {
    Tenant {
        id: tenant_id(),
        name: "Conformance MSP".to_owned(),
        branding: Branding::new("Conformance IT", "#1f6feb", "Welcome!\nLine two.", None).unwrap(),
        notification_recipients: vec![EmailAddress::parse("desk@msp.example").unwrap()],
        // Not the default: a store that drops the zone fails the round trip.
        time_zone: TimeZone::parse("Europe/Paris").unwrap(),
        created_at,
        base_url: None,
        sender: None,
        version: crate::model::first_version(),
    }
}

pub(crate) fn new_portal(tenant: TenantId, created_at: DateTime<Utc>) -> Portal {
    Portal {
        id: portal_id(),
        tenant_id: tenant,
        client_name: "Client Co".to_owned(),
        status: PortalStatus::Active,
        branding: Branding::new("Conformance IT", "#ffd33d", "", None).unwrap(),
        created_at,
        target_date: None,
        version: crate::model::first_version(),
        colleague_invitations: Default::default(),
    }
}

pub(crate) fn new_contact(portal: PortalId, email: &str, created_at: DateTime<Utc>) -> Contact {
    Contact {
        id: contact_id(),
        portal_id: portal,
        name: "Jane Doe".to_owned(),
        email: EmailAddress::parse(email).unwrap(),
        revoked_at: None,
        time_zone: TimeZone::parse("America/New_York").unwrap(),
        created_at,
        invited_by: None,
        awaiting_approval: false,
        role: None,
        guest: None,
        language: None,
    }
}

/// A task to add; its position is deliberately wrong (stores assign it).
pub(crate) fn new_task(portal: PortalId, phase: PhaseId, title: &str) -> Task {
    Task {
        for_role: None,
        id: task_id(),
        portal_id: portal,
        phase_id: phase,
        position: 99,
        title: title.to_owned(),
        description: "Details\nover two lines".to_owned(),
        assignee: Side::Client,
        kind: TaskKind::Standard,
        status: TaskStatus::Pending,
        blocked_reason: None,
        due_date: None,
        evidence: Default::default(),
        created_at: t0(),
        updated_at: t0(),
        version: 1,
        assigned_to: Vec::new(),
        waits_on: Vec::new(),
        internal: false,
    }
}

/// A client-side task of `kind` to add.
pub(crate) fn new_task_of(portal: PortalId, phase: PhaseId, title: &str, kind: TaskKind) -> Task {
    Task {
        kind,
        ..new_task(portal, phase, title)
    }
}

/// The actor behind a contact's session.
pub(crate) fn client(contact: &Contact) -> Actor {
    Actor::Client {
        contact_id: contact.id,
        name: contact.name.clone(),
        email: contact.email.clone(),
    }
}

/// An MSP staff member.
pub(crate) fn staff() -> Actor {
    Actor::Staff {
        name: "Sam Staff".to_owned(),
        email: Some(EmailAddress::parse("sam@msp.example").unwrap()),
    }
}

/// The decision the service hands a store: the workflow's rules applied to `action`
/// by `actor` at `at`.
pub(crate) fn decide(action: TaskAction, actor: Actor, at: DateTime<Utc>) -> TaskDecision {
    std::sync::Arc::new(move |t: &Task| apply(t, &action, &actor, at))
}

/// A tenant, one of its portals and one contact of that portal, all fresh.
pub(crate) struct World {
    pub(crate) tenant: Tenant,
    pub(crate) portal: Portal,
    pub(crate) contact: Contact,
}

pub(crate) async fn world(store: &dyn Store) -> World {
    let tenant = new_tenant(t0());
    store.create_tenant(&tenant).await.unwrap();
    let portal = new_portal(tenant.id, t0());
    store.create_portal(&portal, None).await.unwrap();
    let contact = new_contact(portal.id, "Jane.Doe@Example.COM", t0());
    store.add_contact(&contact, None).await.unwrap();
    World {
        tenant,
        portal,
        contact,
    }
}

/// Adds another contact to a world's portal.
pub(crate) async fn another_contact(store: &dyn Store, w: &World, email: &str) -> Contact {
    let c = new_contact(w.portal.id, email, t0() + secs(1));
    store.add_contact(&c, None).await.unwrap();
    c
}

/// Adds a phase to a portal.
pub(crate) async fn phase(store: &dyn Store, portal: PortalId, name: &str) -> Phase {
    store
        .add_phase(portal, phase_id(), name, None)
        .await
        .unwrap()
}

/// A new code issued at `at`, with its code and magic link hashes.
pub(crate) fn new_code(at: DateTime<Utc>) -> NewCode {
    NewCode {
        code_hash: code_hash(),
        magic_hash: token(),
        issued_at: at,
        expires_at: at + code_ttl(),
    }
}

/// The user agent every session of [`new_session`] signs in with.
pub(crate) const SIGN_IN_BROWSER: &str = "Sign-in browser";

/// A new session created at `at`, lasting [`session_ttl`], signed in from
/// [`SIGN_IN_BROWSER`].
pub(crate) fn new_session(at: DateTime<Utc>) -> NewSession {
    NewSession {
        token_hash: token(),
        created_at: at,
        expires_at: at + session_ttl(),
        user_agent: Some(SIGN_IN_BROWSER.to_owned()),
    }
}

/// Issues a fresh invite to a contact.
pub(crate) async fn invite(store: &dyn Store, contact: ContactId, at: DateTime<Utc>) -> TokenHash {
    let t = token();
    store
        .issue_invite(contact, &t, at, &[], None)
        .await
        .unwrap();
    t
}

/// A running verification and its first code.
#[derive(Debug)]
pub(crate) struct Started {
    pub(crate) verification: TokenHash,
    pub(crate) code: NewCode,
}

/// Starts a verification from an invite at `at`.
pub(crate) async fn start(store: &dyn Store, invite: &TokenHash, at: DateTime<Utc>) -> Started {
    let verification = token();
    let code = new_code(at);
    store
        .start_verification(invite, &verification, &code, &limits())
        .await
        .unwrap();
    Started { verification, code }
}

/// Invites, verifies by code and returns the new session's hash and context.
pub(crate) async fn signed_in(
    store: &dyn Store,
    contact: ContactId,
    at: DateTime<Utc>,
) -> (TokenHash, ClientContext) {
    let inv = invite(store, contact, at).await;
    let s = start(store, &inv, at).await;
    let session = new_session(at);
    let ctx = store
        .redeem_code(&s.verification, &s.code.code_hash, at, &limits(), &session)
        .await
        .unwrap();
    (session.token_hash, ctx)
}
