//! A test harness for tests of the core, of adapters and of hosts (feature `testkit`).
//!
//! One place for the plumbing every test suite of the portal needs:
//!
//! - [`t0`], the fixed instant every test starts at, and [`request`], a fixed client
//!   request;
//! - [`TestLinks`], a [`LinkBuilder`] with predictable URLs;
//! - [`TestService`], a [`PortalService`] over any [`Store`] with a [`ManualClock`], a
//!   [`SeededRandom`] and a [`RecordingMailer`] (optionally also forwarding every email
//!   to another mailer, such as an outbox); queued emails are delivered by the call
//!   that queued them ([`MailDelivery::Inline`]) unless the test asks otherwise;
//! - [`seed_portal`], one tenant, portal and contact from a [`PortalSeed`];
//! - [`code_from_email`], [`magic_link_from_email`], [`invite_from_email`] and
//!   [`token_after`], to read what a test needs back out of an email;
//! - [`TestService::sign_in`], the whole access flow (invite → verification → the code
//!   from the email → session) in one call;
//! - [`secrets`], flows that plant every kind of secret in a store, for an adapter's
//!   test that reads its storage back raw and checks none is there in clear.
//!
//! Nothing here unwraps: helpers return [`Result`] or [`Option`] and the test decides.

pub mod secrets;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::blob::BlobStore;
use crate::blob::envelope::FileVault;
use crate::blob::keyring::{KeyId, KeyProvider, Keyring};
use crate::clock::{Clock, ManualClock};
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::mail::{ActingFor, Email, LinkBuilder, Mailer, RecordingMailer};
use crate::memory::MemoryBlobStore;
use crate::model::{Branding, Contact, EmailAddress, Portal, PortalStatus, Tenant};
use crate::outbox::OutboxPolicy;
use crate::random::SeededRandom;
use crate::scan::{ContentScanner, UnscannablePolicy};
use crate::secret::{InviteToken, MagicToken, ServerSecret, SessionToken};
use crate::service::{MailDelivery, PortalService};
use crate::staff::{StaffContext, StaffRole};
use crate::store::{ClientContext, RequestInfo, Store};

/// 2026-11-28T10:00:00Z as seconds since the Unix epoch.
const T0_SECONDS: i64 = 1_795_860_000;

/// The instant every test starts at: 2026-11-28T10:00:00Z.
pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(T0_SECONDS, 0).unwrap_or_default()
}

/// A fixed client request: IP 198.51.100.23, user agent `Mozilla/5.0 (test)`, path
/// `/portal`.
pub fn request() -> RequestInfo {
    RequestInfo::new(
        Some(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
            198, 51, 100, 23,
        ))),
        Some("Mozilla/5.0 (test)"),
        Some("/portal"),
    )
}

/// A drawn signature as the pad sends it (`data:image/png;base64,…`): a 16×4 RGBA PNG
/// with a dark line, which the signature rules accept.
pub fn drawn_signature() -> String {
    use base64::Engine as _;
    use std::io::Write as _;
    let (w, h) = (16u32, 4u32);
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0);
        for _ in 0..w {
            raw.extend(if y == 1 { [0, 0, 0, 255] } else { [0, 0, 0, 0] });
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec never fails.
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend(u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
        png.extend(kind);
        png.extend(data);
        png.extend([0u8; 4]);
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &idat);
    chunk(b"IEND", &[]);
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

/// The base URL of [`TestLinks::default`].
pub const BASE_URL: &str = "https://portal.example";

/// Links for tests: `{base}/invite/{token}` and `{base}/magic/{token}`.
#[derive(Debug, Clone)]
pub struct TestLinks {
    base: String,
}

impl TestLinks {
    /// Links under `base` (no trailing slash needed).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Where invite links start, e.g. `https://portal.example/invite/`.
    pub fn invite_prefix(&self) -> String {
        format!("{}/invite/", self.base)
    }

    /// Where magic links start, e.g. `https://portal.example/magic/`.
    pub fn magic_prefix(&self) -> String {
        format!("{}/magic/", self.base)
    }
}

impl Default for TestLinks {
    fn default() -> Self {
        Self::new(BASE_URL)
    }
}

impl LinkBuilder for TestLinks {
    fn invite_url(&self, acting: &ActingFor, token: &InviteToken) -> String {
        format!(
            "{}/invite/{}",
            acting.base_url_or(&self.base),
            token.expose_secret()
        )
    }
    fn magic_link_url(&self, acting: &ActingFor, token: &MagicToken) -> String {
        format!(
            "{}/magic/{}",
            acting.base_url_or(&self.base),
            token.expose_secret()
        )
    }
    fn task_url(&self, acting: &ActingFor, task: crate::ids::TaskId) -> String {
        format!("{}/tasks/{task}", acting.base_url_or(&self.base))
    }
    fn snooze_url(&self, acting: &ActingFor, token: &str) -> String {
        format!("{}/r/snooze/{token}", acting.base_url_or(&self.base))
    }
    fn unsubscribe_url(&self, acting: &ActingFor, token: &str) -> String {
        format!("{}/r/unsubscribe/{token}", acting.base_url_or(&self.base))
    }
}

/// The token (letters, digits, `-`, `_`) right after the first `marker` in `text`.
pub fn token_after(text: &str, marker: &str) -> Option<String> {
    let start = text.find(marker)? + marker.len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

/// The 6-digit code of a verification email's text: the first line that is six digits.
pub fn code_from_email(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
}

/// The magic-link token of a verification email built with [`TestLinks::default`].
pub fn magic_link_from_email(text: &str) -> Option<MagicToken> {
    let token = token_after(text, &TestLinks::default().magic_prefix())?;
    MagicToken::parse(&token).ok()
}

/// The invite token of an invite email built with [`TestLinks::default`].
pub fn invite_from_email(text: &str) -> Option<InviteToken> {
    let token = token_after(text, &TestLinks::default().invite_prefix())?;
    InviteToken::parse(&token).ok()
}

/// What [`seed_portal`] creates: a tenant, its portal and one contact of it.
#[derive(Debug, Clone)]
pub struct PortalSeed {
    /// The tenant's (MSP's) name.
    pub tenant_name: String,
    /// The company name of the branding.
    pub company_name: String,
    /// The branding's accent colour, `#rrggbb`.
    pub accent: String,
    /// The branding's welcome message.
    pub welcome: String,
    /// The MSP's notification recipients.
    pub recipients: Vec<String>,
    /// The client's name (the portal's).
    pub client_name: String,
    /// The contact's name.
    pub contact_name: String,
    /// The contact's email address.
    pub contact_email: String,
}

/// The MSP's notification recipients of [`PortalSeed::default`].
pub const RECIPIENTS: [&str; 2] = ["desk@northwind.example", "oncall@northwind.example"];

impl Default for PortalSeed {
    /// Northwind IT's portal for Contoso Ltd, with Jane Doe as the contact.
    fn default() -> Self {
        Self {
            tenant_name: "Northwind Managed Services".to_owned(),
            company_name: "Northwind IT".to_owned(),
            accent: "#1f6feb".to_owned(),
            welcome: "Welcome aboard!\nWe are glad you are here.".to_owned(),
            recipients: RECIPIENTS.iter().map(|r| (*r).to_owned()).collect(),
            client_name: "Contoso Ltd".to_owned(),
            contact_name: "Jane Doe".to_owned(),
            contact_email: "jane.doe@contoso.example".to_owned(),
        }
    }
}

/// What [`seed_portal`] created.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The tenant.
    pub tenant: Tenant,
    /// Its active portal.
    pub portal: Portal,
    /// The portal's contact.
    pub contact: Contact,
    /// An admin of the tenant ([`admin`]), for the staff use cases.
    pub staff: StaffContext,
}

/// The staff id of [`admin`] and [`member`].
pub const STAFF_ID: &str = "staff-1";
/// The staff name of [`admin`] and [`member`], as the activity feed shows it.
pub const STAFF_NAME: &str = "Sam Staff";
/// The staff email of [`admin`] and [`member`].
pub const STAFF_EMAIL: &str = "sam@northwind.example";

/// An admin of `tenant` (Sam Staff), who may do every staff use case there.
pub fn admin(tenant: TenantId) -> StaffContext {
    staff(tenant, StaffRole::Admin)
}

/// A member of `tenant` (Sam Staff): everything but the admin's settings, branding,
/// revocation and portal status.
pub fn member(tenant: TenantId) -> StaffContext {
    staff(tenant, StaffRole::Member)
}

fn staff(tenant: TenantId, role: StaffRole) -> StaffContext {
    StaffContext {
        tenant,
        staff_id: STAFF_ID.to_owned(),
        name: STAFF_NAME.to_owned(),
        email: EmailAddress::parse(STAFF_EMAIL).ok(),
        role,
    }
}

/// Creates the tenant, an active portal and its contact of `seed` through `service`.
pub async fn seed_portal(service: &PortalService, seed: &PortalSeed) -> Result<Seeded> {
    let branding = Branding::new(&seed.company_name, &seed.accent, &seed.welcome, None)?;
    let recipients = seed
        .recipients
        .iter()
        .map(|r| EmailAddress::parse(r))
        .collect::<Result<Vec<_>>>()?;
    let tenant = service
        .create_tenant(&seed.tenant_name, branding, recipients)
        .await?;
    let staff = admin(tenant.id);
    let portal = service
        .create_portal(&staff, &seed.client_name, PortalStatus::Active)
        .await?;
    let contact = service
        .add_contact(&staff, portal.id, &seed.contact_name, &seed.contact_email)
        .await?;
    Ok(Seeded {
        tenant,
        portal,
        contact,
        staff,
    })
}

/// Records every email and, if given, hands it on to another mailer too.
struct Tee {
    record: Arc<RecordingMailer>,
    forward: Option<Arc<dyn Mailer>>,
}

#[async_trait]
impl Mailer for Tee {
    async fn send(&self, acting: &ActingFor, email: &Email) -> Result<()> {
        if let Some(next) = &self.forward {
            next.send(acting, email).await?;
        }
        self.record.send(acting, email).await
    }
}

/// Builds a [`TestService`]; see [`TestService::builder`].
pub struct TestServiceBuilder {
    store: Arc<dyn Store>,
    seed: u64,
    links: Arc<dyn LinkBuilder>,
    forward: Option<Arc<dyn Mailer>>,
    secret_from_seed: bool,
    policy: crate::AccessPolicy,
    retention: crate::RetentionPolicy,
    blobs: Option<Arc<dyn BlobStore>>,
    keys: Option<Arc<dyn KeyProvider>>,
    scanner: Option<Arc<dyn ContentScanner>>,
    unscannable: UnscannablePolicy,
    delivery: MailDelivery,
    outbox: OutboxPolicy,
}

impl TestServiceBuilder {
    /// When queued emails are delivered (default: [`MailDelivery::Inline`], so an
    /// email is in the recording mailer when the call that caused it returns; choose
    /// [`MailDelivery::Background`] to drive [`PortalService::deliver_outbox`] yourself).
    pub fn mail_delivery(mut self, delivery: MailDelivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// Replaces the default [`OutboxPolicy`] (retries, leases, polling).
    pub fn outbox(mut self, policy: OutboxPolicy) -> Self {
        self.outbox = policy;
        self
    }

    /// Where uploaded files go (default: a fresh [`MemoryBlobStore`]).
    pub fn blobs(mut self, blobs: Arc<dyn BlobStore>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// The keys that wrap file keys (default: a keyring with one key `k1`, drawn from
    /// its own seeded source so the service's random sequence is not disturbed).
    pub fn keys(mut self, keys: Arc<dyn KeyProvider>) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The content scanner (default: none, files are recorded as not scanned).
    pub fn scanner(mut self, scanner: Arc<dyn ContentScanner>) -> Self {
        self.scanner = Some(scanner);
        self
    }

    /// What happens to files the scanner cannot judge (default: held).
    pub fn unscannable(mut self, policy: UnscannablePolicy) -> Self {
        self.unscannable = policy;
        self
    }

    /// Replaces the default [`crate::AccessPolicy`] (the spec's numbers).
    pub fn policy(mut self, policy: crate::AccessPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Replaces the default [`crate::RetentionPolicy`] (400 days, batches of 1000).
    pub fn retention(mut self, retention: crate::RetentionPolicy) -> Self {
        self.retention = retention;
        self
    }

    /// The seed of the [`SeededRandom`] (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Replaces [`TestLinks::default`] (a host's own links, say).
    pub fn links(mut self, links: Arc<dyn LinkBuilder>) -> Self {
        self.links = links;
        self
    }

    /// Also hands every email to `mailer` (an outbox, say); the recording mailer still
    /// records it.
    pub fn forward_mail_to(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.forward = Some(mailer);
        self
    }

    /// Draws the server secret from the seeded random source, as a host generating it at
    /// start-up would (the default is a fixed secret that leaves the random sequence
    /// untouched).
    pub fn secret_from_seed(mut self) -> Self {
        self.secret_from_seed = true;
        self
    }

    /// The service, its clock (at [`t0`]) and its recording mailer.
    pub fn build(self) -> TestService {
        let clock = Arc::new(ManualClock::new(t0()));
        let mailer = Arc::new(RecordingMailer::new());
        let random = Arc::new(SeededRandom::new(self.seed));
        let secret = if self.secret_from_seed {
            ServerSecret::generate(random.as_ref())
        } else {
            fixed_secret()
        };
        let tee = Arc::new(Tee {
            record: mailer.clone(),
            forward: self.forward,
        });
        let blobs = self
            .blobs
            .unwrap_or_else(|| Arc::new(MemoryBlobStore::new()));
        let keys = self.keys.unwrap_or_else(|| test_keyring(self.seed));
        let vault = FileVault::new(
            blobs.clone(),
            keys,
            Arc::new(SeededRandom::new(self.seed ^ 0x6b65_7973)),
        );
        let mut builder = PortalService::builder(self.store, tee, self.links, secret)
            .clock(clock.clone())
            .random(random)
            .policy(self.policy)
            .retention(self.retention)
            .files(vault)
            .unscannable(self.unscannable)
            .mail_delivery(self.delivery)
            .outbox(self.outbox);
        if let Some(scanner) = self.scanner {
            builder = builder.scanner(scanner);
        }
        TestService {
            service: builder.build(),
            clock,
            mailer,
            blobs,
        }
    }
}

/// A keyring with one key `k1`, from a seeded source of its own (so it does not
/// disturb the service's random sequence).
pub fn test_keyring(seed: u64) -> Arc<dyn KeyProvider> {
    let random = Arc::new(SeededRandom::new(seed ^ 0x006b_6579_7269_6e67));
    match KeyId::parse("k1") {
        Ok(id) => Arc::new(Keyring::generate(id, random)),
        Err(_) => unreachable!("k1 is a valid key id"),
    }
}

/// The fixed server secret of a [`TestService`]: 32 bytes of 7.
fn fixed_secret() -> ServerSecret {
    ServerSecret::from_bytes(vec![7; 32])
        .unwrap_or_else(|_| ServerSecret::generate(&SeededRandom::new(7)))
}

/// A [`PortalService`] for tests, with the clock and mailer it was built with.
#[derive(Clone)]
pub struct TestService {
    /// The service.
    pub service: PortalService,
    /// Its clock, starting at [`t0`]; advance it to move time.
    pub clock: Arc<ManualClock>,
    /// Every email the service sent, in order.
    pub mailer: Arc<RecordingMailer>,
    /// Where its uploaded files' encrypted bytes are.
    pub blobs: Arc<dyn BlobStore>,
}

impl std::fmt::Debug for TestService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestService")
            .field("service", &self.service)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl TestService {
    /// A builder over `store`: seed 0, [`TestLinks::default`], a fixed server secret.
    pub fn builder(store: Arc<dyn Store>) -> TestServiceBuilder {
        TestServiceBuilder {
            store,
            seed: 0,
            links: Arc::new(TestLinks::default()),
            forward: None,
            secret_from_seed: false,
            policy: crate::AccessPolicy::default(),
            retention: crate::RetentionPolicy::default(),
            blobs: None,
            keys: None,
            scanner: None,
            unscannable: UnscannablePolicy::default(),
            delivery: MailDelivery::Inline,
            outbox: OutboxPolicy::default(),
        }
    }

    /// A service over `store` with randomness seeded by `seed` and the defaults.
    pub fn new(store: Arc<dyn Store>, seed: u64) -> Self {
        Self::builder(store).seed(seed).build()
    }

    /// A service over a fresh [`crate::memory::MemoryStore`].
    pub fn in_memory(seed: u64) -> Self {
        Self::new(Arc::new(crate::memory::MemoryStore::new()), seed)
    }

    /// The clock's current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Seeds [`PortalSeed::default`].
    pub async fn seed_portal(&self) -> Result<Seeded> {
        seed_portal(&self.service, &PortalSeed::default()).await
    }

    /// The newest email sent to `contact`.
    pub fn last_email_to(&self, contact: &Contact) -> Result<Email> {
        self.mailer
            .last_to(contact.email.as_str())
            .ok_or_else(|| Error::invalid("email", format!("no email to {}", contact.email)))
    }

    /// An admin ([`admin`]) of the tenant of `contact`'s portal.
    pub async fn admin_of(&self, contact: &Contact) -> Result<StaffContext> {
        let portal = self.service.store().portal(contact.portal_id).await?;
        Ok(admin(portal.tenant_id))
    }

    /// Invites `contact` as an admin of its tenant and returns the invite token read
    /// back out of the email (an error if the email's link is not the token the
    /// service returned).
    pub async fn invite(&self, contact: &Contact) -> Result<InviteToken> {
        let staff = self.admin_of(contact).await?;
        let token = self.service.invite_contact(&staff, contact.id).await?;
        let email = self.last_email_to(contact)?;
        match invite_from_email(&email.text) {
            Some(read) if read == token => Ok(token),
            _ => Err(Error::invalid(
                "email",
                "the invite email does not carry the invite link",
            )),
        }
    }

    /// The whole access flow for `contact` with [`request`]: invite, start a
    /// verification, read the code from the email, enter it. Returns the session.
    pub async fn sign_in(&self, contact: &Contact) -> Result<(SessionToken, ClientContext)> {
        let invite = self.invite(contact).await?;
        let (verification, _) = self.service.start_verification(&invite, &request()).await?;
        let email = self.last_email_to(contact)?;
        let code = code_from_email(&email.text)
            .ok_or_else(|| Error::invalid("email", "no 6-digit code in the verification email"))?;
        self.service
            .enter_code(&verification, &code, &request())
            .await
    }
}
