//! Helpers for the end-to-end tests: a real portal server on a loopback port with an
//! injected clock and seeded randomness, a tiny cookie-keeping HTTP client, and an
//! `.eml` reader for the outbox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

pub mod browser;

/// The runnable code of `docs/embedding.md`, compiled by `cargo test --doc` so the
/// guide a vendor copies from cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../docs/embedding.md")]
pub struct EmbeddingGuide;

/// The library crates' READMEs (what crates.io shows), compiled the same way.
#[cfg(doctest)]
#[doc = include_str!("../../portal-http/README.md")]
pub struct HttpReadme;

/// See [`HttpReadme`].
#[cfg(doctest)]
#[doc = include_str!("../../portal-storage-sqlite/README.md")]
pub struct SqliteReadme;
pub mod eml;
pub mod multipart;
pub mod postgres;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Duration;
use portal_core::StaffContext;
use portal_core::mail::OutboxMailer;
use portal_core::memory::MemoryBlobStore;
use portal_core::model::{
    ChecklistItem, Contact, DocumentRef, MeetingSchedule, Portal, Question, QuestionKind,
    RequestedDocument, Side, TaskKind,
};
use portal_core::secret::InviteToken;
use portal_core::testkit::{PortalSeed, TestService, code_from_email, seed_portal, token_after};
use portal_core::{ManualClock, PortalService, RecordingMailer, Store, TaskSpec};
use portal_core::{PhaseId, TaskId};
use portal_http::{HttpConfig, PortalApp};

pub use browser::{Browser, Page};

pub use portal_core::testkit::t0;

/// Where emails go in a test.
pub enum Mail {
    /// Kept in memory.
    Recording(Arc<RecordingMailer>),
    /// Written as `.eml` files.
    Outbox(PathBuf),
}

/// A running portal with seeded data.
pub struct Harness {
    pub service: PortalService,
    pub store: Arc<dyn Store>,
    /// Where the service's uploaded files' encrypted bytes go (counted by tests of
    /// refused uploads: nothing may be left behind).
    pub blobs: Arc<MemoryBlobStore>,
    pub clock: Arc<ManualClock>,
    pub mail: Mail,
    pub addr: SocketAddr,
    pub config: HttpConfig,
    pub portal: Portal,
    pub contact: Contact,
    /// An admin of the portal's tenant, for MSP-side actions.
    pub staff: StaffContext,
    pub other_portal: Portal,
    /// An admin of the other portal's tenant.
    pub other_staff: StaffContext,
    /// The portal's tasks by short name (see [`Seeded::tasks`]).
    pub tasks: std::collections::BTreeMap<&'static str, TaskId>,
    /// The other portal's tasks by short name.
    pub other_tasks: std::collections::BTreeMap<&'static str, TaskId>,
    pub invite: InviteToken,
    pub dir: tempfile::TempDir,
    /// The webhooks the admin API serves (when the options gave a store), for tests
    /// that run the dispatcher and worker.
    pub webhooks: Option<portal_core::webhooks::service::Webhooks>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Options for [`Harness::start`].
pub struct Options {
    pub store: Arc<dyn Store>,
    pub outbox: bool,
    pub secure_cookies: bool,
    pub seed: u64,
    /// Overrides the header-read timeout (slow-client tests).
    pub header_read_timeout: Option<std::time::Duration>,
    /// Changes the HTTP configuration further (deadlines of slow-upload tests).
    pub tune: Option<fn(&mut HttpConfig)>,
    /// The webhook store the admin API's webhook routes use (`None`: they are 404).
    pub webhooks: Option<Arc<dyn portal_core::webhooks::WebhookStore>>,
    /// The host's own routes next to the portal (`serve_with_fallback`); `None`: `serve`.
    pub fallback: Option<Arc<dyn portal_http::HostPages>>,
}

impl Options {
    /// In-memory store, recording mailer, secure cookies.
    pub fn memory() -> Self {
        let store = Arc::new(portal_core::memory::MemoryStore::new());
        Self {
            store: store.clone(),
            webhooks: Some(store),
            outbox: false,
            secure_cookies: true,
            seed: 42,
            header_read_timeout: None,
            tune: None,
            fallback: None,
        }
    }
}

impl Harness {
    pub async fn start(opts: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = HttpConfig {
            public_base_url: format!("http://{addr}"),
            secure_cookies: opts.secure_cookies,
            header_read_timeout: opts
                .header_read_timeout
                .unwrap_or(HttpConfig::default().header_read_timeout),
            ..HttpConfig::default()
        };
        if let Some(tune) = opts.tune {
            tune(&mut config);
        }
        let blobs = Arc::new(MemoryBlobStore::new());
        let mut kit = TestService::builder(opts.store.clone())
            .blobs(blobs.clone())
            .seed(opts.seed)
            .links(Arc::new(config.links()))
            .secret_from_seed();
        let outbox = dir.path().join("outbox");
        if opts.outbox {
            kit = kit.forward_mail_to(Arc::new(
                OutboxMailer::new(&outbox, "Acme MSP <portal@acme-msp.example>").unwrap(),
            ));
        }
        let TestService {
            service,
            clock,
            mailer,
            ..
        } = kit.build();
        let mail = if opts.outbox {
            Mail::Outbox(outbox)
        } else {
            Mail::Recording(mailer)
        };
        let mine = seed(&service, "Contoso Dental Group").await;
        let theirs = seed(&service, "Fabrikam Legal").await;
        let (portal, contact, tasks, staff) = (mine.portal, mine.contact, mine.tasks, mine.staff);
        let (other_portal, other_tasks, other_staff) = (theirs.portal, theirs.tasks, theirs.staff);
        // Seeding schedules each portal's meeting, which emails its contacts their
        // invitations: clear those from the folder (written at once, in the calls
        // above), so a test reads the emails of what it does, starting with the invite.
        if opts.outbox {
            for entry in std::fs::read_dir(dir.path().join("outbox"))
                .into_iter()
                .flatten()
                .flatten()
            {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
        let invite = service.invite_contact(&staff, contact.id).await.unwrap();
        let auth = TestStaffAuth {
            tenant: portal.tenant_id,
            other_tenant: other_portal.tenant_id,
        };
        let mut app =
            PortalApp::new(service.clone(), config.clone()).with_staff_auth(Arc::new(auth));
        // Webhooks to receivers on this machine: the tests' receivers are on loopback.
        let webhooks = opts.webhooks.as_ref().map(|store| {
            portal_core::webhooks::service::Webhooks::new(
                &service,
                store.clone(),
                Arc::new(portal_http::HttpWebhookTransport::new(true).unwrap()),
                portal_core::webhooks::service::WebhookSettings {
                    allow_http: true,
                    ..Default::default()
                },
            )
        });
        if let Some(w) = &webhooks {
            app = app.with_webhooks(w.clone());
        }
        let app = Arc::new(app);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let stop = async move {
            let _ = rx.await;
        };
        match opts.fallback {
            Some(fallback) => tokio::spawn(portal_http::serve_with_fallback(
                listener,
                app,
                fallback,
                64 * 1024,
                stop,
            )),
            None => tokio::spawn(portal_http::serve(listener, app, stop)),
        };
        Self {
            service,
            store: opts.store,
            blobs,
            clock,
            mail,
            addr,
            config,
            portal,
            contact,
            staff,
            other_portal,
            other_staff,
            tasks,
            other_tasks,
            invite,
            dir,
            webhooks,
            shutdown: Some(tx),
        }
    }

    /// A fresh browser (empty cookie jar).
    pub fn browser(&self) -> Browser {
        Browser::new(self.addr)
    }

    /// The invite link's path.
    pub fn invite_path(&self) -> String {
        format!("/i/{}", self.invite.expose_secret())
    }

    /// The newest email to the demo contact, as plain text.
    pub fn last_email_text(&self) -> String {
        match &self.mail {
            Mail::Recording(m) => m.last_to(self.contact.email.as_str()).unwrap().text,
            Mail::Outbox(dir) => eml::newest(dir).text,
        }
    }
}

/// The admin API's credentials in tests: `Bearer admin` and `Bearer member` act for the
/// tenant of [`Harness::portal`], `Bearer other-admin` for the other portal's tenant;
/// anything else is refused.
pub struct TestStaffAuth {
    pub tenant: portal_core::TenantId,
    pub other_tenant: portal_core::TenantId,
}

#[async_trait::async_trait]
impl portal_http::StaffAuth for TestStaffAuth {
    async fn authenticate(
        &self,
        request: &http::request::Parts,
    ) -> Result<portal_core::StaffContext, portal_http::AuthRefusal> {
        use portal_core::{StaffContext, StaffRole};
        let token = portal_http::bearer_token(request).ok_or(portal_http::AuthRefusal::Missing)?;
        let (tenant, role, name) = match token {
            "admin" => (self.tenant, StaffRole::Admin, "Priya Admin"),
            "member" => (self.tenant, StaffRole::Member, "Sam Member"),
            "other-admin" => (self.other_tenant, StaffRole::Admin, "Olga Other"),
            _ => return Err(portal_http::AuthRefusal::Invalid),
        };
        StaffContext::new(tenant, token, name, None, role)
            .map_err(|_| portal_http::AuthRefusal::Invalid)
    }
}

/// A task [`seed`] creates: key, phase, title, side, kind, due date.
type PlannedTask = (
    &'static str,
    PhaseId,
    String,
    Side,
    TaskKind,
    Option<chrono::NaiveDate>,
);

/// What [`seed`] created.
pub struct Seeded {
    pub portal: Portal,
    pub contact: Contact,
    /// An admin of the portal's tenant.
    pub staff: StaffContext,
    /// Task ids by short name: sign, assign, survey, upload, checklist, approval,
    /// standard, meeting, training.
    pub tasks: std::collections::BTreeMap<&'static str, TaskId>,
}

/// Acme MSP's portal for `client` with its contact Dana Whitfield (`dana@{first word of
/// client}.example`), no notification recipients: what the e2e tests and the benchmark
/// seed, before their own tasks.
pub fn acme_seed(client: &str) -> PortalSeed {
    let slug = client.split(' ').next().unwrap_or(client).to_lowercase();
    PortalSeed {
        tenant_name: "Acme MSP".into(),
        company_name: "Acme MSP".into(),
        accent: "#0d6e7a".into(),
        welcome: "Welcome to your onboarding!\nEverything we need from you is under Your Tasks."
            .into(),
        recipients: vec![],
        client_name: client.into(),
        contact_name: "Dana Whitfield".into(),
        contact_email: format!("dana@{slug}.example"),
    }
}

/// Seeds one portal: two phases, tasks of every workflow type on both sides, one
/// completed (by staff), a meeting scheduled by staff.
pub async fn seed(service: &PortalService, client: &str) -> Seeded {
    let mut names = acme_seed(client);
    names.welcome.push_str("\n<script>alert('x')</script>");
    names.recipients = vec!["alerts@acme-msp.example".into()];
    let seeded = seed_portal(service, &names).await.unwrap();
    let (portal, contact, staff) = (seeded.portal, seeded.contact, seeded.staff);
    let p1 = service
        .add_phase(&staff, portal.id, "Kickoff")
        .await
        .unwrap()
        .id;
    let p2 = service
        .add_phase(&staff, portal.id, "Discovery")
        .await
        .unwrap()
        .id;
    let day = |n| Some(t0().date_naive() + Duration::days(n));
    let mut tasks = std::collections::BTreeMap::new();
    let q = |id: &str, prompt: &str, required, kind| Question {
        id: id.into(),
        prompt: prompt.into(),
        required,
        kind,
    };
    let plan: Vec<PlannedTask> = vec![
        (
            "sign",
            p1,
            "Sign the agreement".into(),
            Side::Client,
            TaskKind::Signature {
                document: Some(DocumentRef {
                    name: "MSA.pdf".into(),
                }),
                consent: None,
            },
            None,
        ),
        (
            "assign",
            p1,
            "Assign the team".into(),
            Side::Msp,
            TaskKind::Standard,
            day(-3),
        ),
        (
            "meeting",
            p1,
            "Kickoff call".into(),
            Side::Client,
            TaskKind::Meeting { schedule: None },
            day(2),
        ),
        (
            "survey",
            p2,
            format!("{client} survey"),
            Side::Client,
            TaskKind::Survey {
                questions: vec![
                    q(
                        "sites",
                        "How many sites?",
                        true,
                        QuestionKind::ShortText { max_len: 50 },
                    ),
                    q(
                        "notes",
                        "Anything else?",
                        false,
                        QuestionKind::LongText { max_len: 200 },
                    ),
                    q(
                        "host",
                        "Where is email hosted?",
                        true,
                        QuestionKind::SingleSelect {
                            choices: vec!["Microsoft 365".into(), "Google Workspace".into()],
                        },
                    ),
                    q(
                        "apps",
                        "Which apps?",
                        false,
                        QuestionKind::MultiSelect {
                            choices: vec!["Dentrix".into(), "QuickBooks".into(), "Other".into()],
                        },
                    ),
                    q(
                        "score",
                        "How happy are you?",
                        true,
                        QuestionKind::Rating { min: 1, max: 5 },
                    ),
                ],
            },
            day(1),
        ),
        (
            "upload",
            p2,
            "Upload network docs".into(),
            Side::Client,
            TaskKind::DocumentUpload {
                documents: vec![RequestedDocument::new("d", "Network diagram")],
            },
            day(-1),
        ),
        (
            "checklist",
            p2,
            "Prepare workstations".into(),
            Side::Client,
            TaskKind::Checklist {
                items: vec![
                    ChecklistItem {
                        id: "a".into(),
                        label: "Back up files".into(),
                    },
                    ChecklistItem {
                        id: "b".into(),
                        label: "Label the laptops".into(),
                    },
                ],
            },
            day(10),
        ),
        (
            "approval",
            p2,
            "Approve the migration date".into(),
            Side::Client,
            TaskKind::Approval {
                document: Some(DocumentRef {
                    name: "Plan.pdf".into(),
                }),
            },
            day(2),
        ),
        (
            "standard",
            p2,
            "Confirm opening hours".into(),
            Side::Client,
            TaskKind::Standard,
            day(5),
        ),
        (
            "training",
            p2,
            "Watch the help-desk video".into(),
            Side::Client,
            TaskKind::Training {
                video_url: "https://youtu.be/dQw4w9WgXcQ".into(),
            },
            None,
        ),
    ];
    for (key, phase, title, assignee, kind, due_date) in plan {
        let description = format!("About {title}.\nSecond line <b>not bold</b>.");
        let spec = TaskSpec {
            title,
            description,
            assignee,
            kind,
            due_date,
        };
        tasks.insert(
            key,
            service
                .add_task(&staff, portal.id, phase, spec)
                .await
                .unwrap()
                .id,
        );
    }
    service
        .staff_complete(&staff, portal.id, tasks["sign"], None)
        .await
        .unwrap();
    let starts = t0() + Duration::days(2);
    let schedule = MeetingSchedule::new(
        starts,
        "America/Chicago",
        45,
        Some("https://meet.example.com/acme"),
        Some("Intros; timeline, access"),
    );
    service
        .schedule_meeting(&staff, portal.id, tasks["meeting"], schedule)
        .await
        .unwrap();
    Seeded {
        portal,
        contact,
        staff,
        tasks,
    }
}

/// The 6-digit code in a verification email's text.
pub fn code_in(text: &str) -> String {
    code_from_email(text).unwrap_or_else(|| panic!("no code in email:\n{text}"))
}

/// The path of the first link under `/{kind}/` in an email's text (`kind` = "i" or "m").
pub fn link_in(text: &str, kind: &str) -> String {
    let marker = format!("/{kind}/");
    let token =
        token_after(text, &marker).unwrap_or_else(|| panic!("no /{kind}/ link in email:\n{text}"));
    format!("{marker}{token}")
}

/// The access flow over HTTP in `browser`: the invite page at `invite_path`, "send the
/// email", the "check your email" page, then the code `read_code` reads from the email.
/// Leaves `browser` signed in.
pub async fn sign_in_over_http(
    browser: &Browser,
    invite_path: &str,
    read_code: impl FnOnce() -> String,
) {
    let invite = browser.get(invite_path).await;
    assert_eq!(invite.status, 200, "{}", invite.body);
    let sent = browser.post(invite_path, &[("csrf", &invite.csrf())]).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let check = browser.get("/verify").await;
    assert_eq!(check.status, 200, "{}", check.body);
    let code = read_code();
    let done = browser
        .post("/verify/code", &[("csrf", &check.csrf()), ("code", &code)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
}

impl Harness {
    /// Walks the access flow with the code and leaves `browser` signed in.
    pub async fn sign_in(&self, browser: &Browser) {
        sign_in_over_http(browser, &self.invite_path(), || {
            code_in(&self.last_email_text())
        })
        .await;
    }

    /// Starts a verification in `browser` and returns the "check your email" page.
    pub async fn start_verification(&self, browser: &Browser) -> Page {
        let invite = browser.get(&self.invite_path()).await;
        let sent = browser
            .post(&self.invite_path(), &[("csrf", &invite.csrf())])
            .await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        browser.get("/verify").await
    }
}

/// A field of `/proc/self/status` (`"VmRSS:"`, `"VmHWM:"`), in KiB; 0 where there is
/// no such file (not Linux).
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak RSS (VmHWM) to the current RSS, so a later `VmHWM:` is the peak of
/// what ran in between.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// User + system CPU time of this process so far (Linux: `/proc/self/stat`).
pub fn process_cpu() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start at field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Clock ticks; USER_HZ is 100 on every mainstream Linux configuration.
    Some(std::time::Duration::from_millis((utime + stime) * 10))
}
