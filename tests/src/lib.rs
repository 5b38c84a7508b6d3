//! Helpers for the end-to-end tests: a real portal server on a loopback port with an
//! injected clock and seeded randomness, a tiny cookie-keeping HTTP client, and an
//! `.eml` reader for the outbox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

pub mod browser;
pub mod eml;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use portal_core::mail::OutboxMailer;
use portal_core::model::{
    Branding, ChecklistItem, Contact, DocumentRef, Portal, PortalStatus, Question, QuestionKind,
    RequestedDocument, Side, TaskKind, TaskStatus,
};
use portal_core::secret::{InviteToken, ServerSecret};
use portal_core::{
    Mailer, ManualClock, PortalService, RecordingMailer, SeededRandom, Store, TaskSpec,
};
use portal_http::{HttpConfig, PortalApp};

pub use browser::{Browser, Page};

/// The instant every test starts at.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

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
    pub clock: Arc<ManualClock>,
    pub mail: Mail,
    pub addr: SocketAddr,
    pub config: HttpConfig,
    pub portal: Portal,
    pub contact: Contact,
    pub other_portal: Portal,
    pub invite: InviteToken,
    pub dir: tempfile::TempDir,
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
}

impl Options {
    /// In-memory store, recording mailer, secure cookies.
    pub fn memory() -> Self {
        Self {
            store: Arc::new(portal_core::memory::MemoryStore::new()),
            outbox: false,
            secure_cookies: true,
            seed: 42,
        }
    }
}

impl Harness {
    pub async fn start(opts: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(t0()));
        let (mailer, mail): (Arc<dyn Mailer>, Mail) = if opts.outbox {
            let path = dir.path().join("outbox");
            (
                Arc::new(OutboxMailer::new(&path, "Acme MSP <portal@acme-msp.example>").unwrap()),
                Mail::Outbox(path),
            )
        } else {
            let m = Arc::new(RecordingMailer::new());
            (m.clone(), Mail::Recording(m))
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = HttpConfig {
            public_base_url: format!("http://{addr}"),
            secure_cookies: opts.secure_cookies,
            ..HttpConfig::default()
        };
        let rng = Arc::new(SeededRandom::new(opts.seed));
        let secret = ServerSecret::generate(rng.as_ref());
        let service =
            PortalService::builder(opts.store.clone(), mailer, Arc::new(config.links()), secret)
                .clock(clock.clone())
                .random(rng)
                .build();
        let (portal, contact) = seed(&service, "Contoso Dental Group").await;
        let (other_portal, _) = seed(&service, "Fabrikam Legal").await;
        let invite = service.invite_contact(contact.id).await.unwrap();
        let app = Arc::new(PortalApp::new(service.clone(), config.clone()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(portal_http::serve(listener, app, async move {
            let _ = rx.await;
        }));
        Self {
            service,
            store: opts.store,
            clock,
            mail,
            addr,
            config,
            portal,
            contact,
            other_portal,
            invite,
            dir,
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

/// Seeds one portal: two phases, tasks of several types on both sides, one completed.
pub async fn seed(service: &PortalService, client: &str) -> (Portal, Contact) {
    let branding = Branding::new(
        "Acme MSP",
        "#0d6e7a",
        "Welcome to your onboarding!\nEverything we need from you is under Your Tasks.\n<script>alert('x')</script>",
        None,
    )
    .unwrap();
    let tenant = service
        .create_tenant("Acme MSP", branding, vec![])
        .await
        .unwrap();
    let portal = service
        .create_portal(tenant.id, client, PortalStatus::Active)
        .await
        .unwrap();
    let slug = client.split(' ').next().unwrap().to_lowercase();
    let contact = service
        .add_contact(portal.id, "Dana Whitfield", &format!("dana@{slug}.example"))
        .await
        .unwrap();
    let p1 = service.add_phase(portal.id, "Kickoff").await.unwrap();
    let p2 = service.add_phase(portal.id, "Discovery").await.unwrap();
    let day = |n| Some(t0().date_naive() + Duration::days(n));
    let spec = |title: &str, assignee, kind, due| TaskSpec {
        title: title.to_owned(),
        description: format!("About {title}.\nSecond line <b>not bold</b>."),
        assignee,
        kind,
        due_date: due,
    };
    let sign = service
        .add_task(
            portal.id,
            p1.id,
            spec(
                "Sign the agreement",
                Side::Client,
                TaskKind::Signature {
                    document: Some(DocumentRef {
                        name: "MSA.pdf".into(),
                    }),
                },
                None,
            ),
        )
        .await
        .unwrap();
    service
        .add_task(
            portal.id,
            p1.id,
            spec("Assign the team", Side::Msp, TaskKind::Standard, day(-3)),
        )
        .await
        .unwrap();
    service
        .add_task(
            portal.id,
            p2.id,
            spec(
                &format!("{client} survey"),
                Side::Client,
                TaskKind::Survey {
                    questions: vec![Question {
                        id: "q".into(),
                        prompt: "How many sites?".into(),
                        required: true,
                        kind: QuestionKind::ShortText { max_len: 50 },
                    }],
                },
                day(1),
            ),
        )
        .await
        .unwrap();
    service
        .add_task(
            portal.id,
            p2.id,
            spec(
                "Upload network docs",
                Side::Client,
                TaskKind::DocumentUpload {
                    documents: vec![RequestedDocument {
                        id: "d".into(),
                        name: "Network diagram".into(),
                    }],
                },
                day(-1),
            ),
        )
        .await
        .unwrap();
    service
        .add_task(
            portal.id,
            p2.id,
            spec(
                "Prepare workstations",
                Side::Client,
                TaskKind::Checklist {
                    items: vec![ChecklistItem {
                        id: "a".into(),
                        label: "Back up files".into(),
                    }],
                },
                day(10),
            ),
        )
        .await
        .unwrap();
    service
        .add_task(
            portal.id,
            p2.id,
            spec(
                "Approve the migration date",
                Side::Client,
                TaskKind::Approval { document: None },
                day(2),
            ),
        )
        .await
        .unwrap();
    service
        .set_task_status(portal.id, sign.id, TaskStatus::Completed, None)
        .await
        .unwrap();
    (portal, contact)
}

/// The 6-digit code in a verification email's text.
pub fn code_in(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in email:\n{text}"))
        .to_owned()
}

/// The path of the first link under `/{kind}/` in an email's text (`kind` = "i" or "m").
pub fn link_in(text: &str, kind: &str) -> String {
    let marker = format!("/{kind}/");
    let start = text
        .find(&marker)
        .unwrap_or_else(|| panic!("no /{kind}/ link in email:\n{text}"));
    let token: String = text[start + marker.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    format!("{marker}{token}")
}

impl Harness {
    /// Walks the access flow with the code and leaves `browser` signed in.
    pub async fn sign_in(&self, browser: &Browser) {
        let invite = browser.get(&self.invite_path()).await;
        assert_eq!(invite.status, 200, "{}", invite.body);
        let sent = browser
            .post(&self.invite_path(), &[("csrf", &invite.csrf())])
            .await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let check = browser.get("/verify").await;
        let code = code_in(&self.last_email_text());
        let done = browser
            .post("/verify/code", &[("csrf", &check.csrf()), ("code", &code)])
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
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
