//! Error pages as the client meets them: wording that follows the configured
//! [`AccessPolicy`], and the page shown when the mail transport refuses an email.
//!
//! The shared harness always builds the default policy and a recording mailer, so these
//! tests build the service and app themselves from the public API (same seed data).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::TimeDelta;
use portal_core::mail::Email;
use portal_core::memory::MemoryStore;
use portal_core::secret::{InviteToken, ServerSecret};
use portal_core::{
    AccessPolicy, Error, Mailer, ManualClock, PortalService, RecordingMailer, SeededRandom,
};
use portal_http::{HttpConfig, PortalApp};
use portal_tests::{Browser, link_in, seed, t0};

/// The transport detail a refusing mailer reports: for the log, never for the page.
const MAIL_DETAIL: &str = "smtp.acme-msp.example refused: 554 5.7.1 relay access denied";

/// A mail transport that records emails, or refuses every one while `refusing` is set.
#[derive(Default)]
struct FlakyMailer {
    recorder: RecordingMailer,
    refusing: AtomicBool,
}

// What `#[async_trait]` expands to, written out: the test crate has no async-trait
// dependency of its own.
impl Mailer for FlakyMailer {
    fn send<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        acting: &'life1 portal_core::ActingFor,
        email: &'life2 Email,
    ) -> Pin<Box<dyn Future<Output = portal_core::Result<()>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            if self.refusing.load(Ordering::SeqCst) {
                return Err(Error::Mail {
                    message: MAIL_DETAIL.to_owned(),
                });
            }
            self.recorder.send(acting, email).await
        })
    }
}

/// A portal served on loopback with `policy` and `mailer`.
struct Site {
    clock: Arc<ManualClock>,
    mailer: Arc<FlakyMailer>,
    invite: InviteToken,
    email: String,
    browser: Browser,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Site {
    async fn start(policy: AccessPolicy) -> Self {
        let clock = Arc::new(ManualClock::new(t0()));
        let mailer = Arc::new(FlakyMailer::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = HttpConfig {
            public_base_url: format!("http://{addr}"),
            ..HttpConfig::default()
        };
        let rng = Arc::new(SeededRandom::new(7));
        let secret = ServerSecret::generate(rng.as_ref());
        let service = PortalService::builder(
            Arc::new(MemoryStore::new()),
            mailer.clone(),
            Arc::new(config.links()),
            secret,
        )
        .clock(clock.clone())
        .random(rng)
        .policy(policy)
        .build();
        let seeded = seed(&service, "Contoso Dental Group").await;
        let invite = service
            .invite_contact(&seeded.staff, seeded.contact.id)
            .await
            .unwrap();
        let app = Arc::new(PortalApp::new(service, config));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(portal_http::serve(listener, app, async move {
            let _ = rx.await;
        }));
        Self {
            clock,
            mailer,
            invite,
            email: seeded.contact.email.as_str().to_owned(),
            browser: Browser::new(addr),
            _shutdown: tx,
        }
    }

    fn invite_path(&self) -> String {
        format!("/i/{}", self.invite.expose_secret())
    }

    /// Presses "Send verification email" on the invite page.
    async fn send_verification_email(&self) -> portal_tests::Page {
        let invite = self.browser.get(&self.invite_path()).await;
        assert_eq!(invite.status, 200, "{}", invite.body);
        self.browser
            .post(&self.invite_path(), &[("csrf", &invite.csrf())])
            .await
    }

    fn last_email_text(&self) -> String {
        self.mailer.recorder.last_to(&self.email).unwrap().text
    }

    fn refuse_mail(&self, refusing: bool) {
        self.mailer.refusing.store(refusing, Ordering::SeqCst);
    }

    /// The page of the emailed magic link opened after it expired.
    async fn expired_link_page(&self, code_ttl: TimeDelta) -> portal_tests::Page {
        assert_eq!(self.send_verification_email().await.status, 303);
        let magic = link_in(&self.last_email_text(), "m");
        self.clock.advance(code_ttl + TimeDelta::seconds(1));
        self.browser.get(&magic).await
    }

    /// The page refusing one verification more than `max` within the window.
    async fn too_many_requests_page(&self, max: u32) -> portal_tests::Page {
        for n in 1..=max {
            assert_eq!(
                self.send_verification_email().await.status,
                303,
                "verification {n}"
            );
        }
        self.send_verification_email().await
    }
}

fn custom_policy() -> AccessPolicy {
    AccessPolicy {
        code_ttl: TimeDelta::minutes(10),
        email_window: TimeDelta::hours(2),
        max_emails_per_contact: 3,
        ..AccessPolicy::default()
    }
}

#[tokio::test]
async fn expired_link_page_names_the_configured_code_lifetime() {
    let policy = custom_policy();
    let site = Site::start(policy).await;
    let page = site.expired_link_page(policy.code_ttl).await;
    assert_eq!(page.status, 410);
    let text = page.text();
    assert!(text.contains("This link has expired"), "{text}");
    assert!(
        text.contains(
            "Sign-in links and codes work for 10 minutes. Open your invitation link again to get a new one."
        ),
        "{text}"
    );
    assert!(!text.contains("30 minutes"), "{text}");
}

#[tokio::test]
async fn too_many_requests_page_names_the_configured_window() {
    let site = Site::start(custom_policy()).await;
    let page = site.too_many_requests_page(3).await;
    assert_eq!(page.status, 429);
    let text = page.text();
    assert!(text.contains("Too many emails"), "{text}");
    assert!(
        text.contains("sent 3 verification emails to this address within 2 hours"),
        "{text}"
    );
    assert!(!text.contains("an hour"), "{text}");
}

#[tokio::test]
async fn default_policy_pages_say_thirty_minutes_and_an_hour() {
    let policy = AccessPolicy::default();
    let site = Site::start(policy).await;
    let expired = site.expired_link_page(policy.code_ttl).await;
    assert_eq!(expired.status, 410);
    assert!(
        expired
            .text()
            .contains("Sign-in links and codes work for 30 minutes."),
        "{}",
        expired.body
    );

    let site = Site::start(policy).await;
    let limited = site
        .too_many_requests_page(policy.max_emails_per_contact)
        .await;
    assert_eq!(limited.status, 429);
    assert!(
        limited
            .text()
            .contains("10 verification emails to this address within an hour"),
        "{}",
        limited.body
    );
}

#[tokio::test]
async fn refused_mail_shows_a_503_page_without_detail_or_secret() {
    let site = Site::start(AccessPolicy::default()).await;
    let logs = crate::logs::capture();
    site.refuse_mail(true);
    let page = site.send_verification_email().await;
    assert_eq!(page.status, 503);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    let text = page.text();
    assert!(
        text.contains("<h1 id=\"msg-title\">We couldn't send the email</h1>"),
        "{text}"
    );
    assert!(text.contains("Please try again in a moment."), "{text}");
    // The way back is the invite page, by this page's own address: no token in the HTML.
    assert!(
        text.contains(r#"<a class="button" href="">Back to your invitation</a>"#),
        "{text}"
    );
    // Still in the MSP's branding.
    assert!(text.contains("Acme MSP"), "{text}");
    assert!(!text.contains(site.invite.expose_secret()), "{text}");
    assert!(!text.contains("554"), "{text}");
    assert!(!text.contains("relay"), "{text}");
    assert!(!text.contains("mail failure"), "{text}");
    // No verification cookie: the browser is not sent on to "check your email".
    assert!(site.browser.cookie("__Host-portal_verify").is_none());
    assert!(page.header("location").is_empty());
    // The operator's log has the transport's detail.
    assert!(logs.text().contains(MAIL_DETAIL), "{}", logs.text());
}

#[tokio::test]
async fn refused_resend_shows_a_503_page_leading_back_to_the_code_entry() {
    let site = Site::start(AccessPolicy::default()).await;
    assert_eq!(site.send_verification_email().await.status, 303);
    let check = site.browser.get("/verify").await;
    assert_eq!(check.status, 200);
    site.refuse_mail(true);
    let page = site
        .browser
        .post("/verify/resend", &[("csrf", &check.csrf())])
        .await;
    assert_eq!(page.status, 503);
    let text = page.text();
    assert!(
        text.contains("<h1 id=\"msg-title\">We couldn't send the email</h1>"),
        "{text}"
    );
    assert!(text.contains("Please try again in a moment."), "{text}");
    assert!(
        text.contains(r#"<a class="button" href="/verify">Back to the sign-in page</a>"#),
        "{text}"
    );
    assert!(!text.contains("554") && !text.contains("relay"), "{text}");
    let verify = site.browser.cookie("__Host-portal_verify").unwrap();
    assert!(!text.contains(&verify), "{text}");

    // Once the transport takes mail again, the way back works and a new code goes out.
    site.refuse_mail(false);
    let back = site.browser.get("/verify").await;
    assert_eq!(back.status, 200);
    let resent = site
        .browser
        .post("/verify/resend", &[("csrf", &back.csrf())])
        .await;
    assert_eq!(resent.status, 303);
}

/// The demo mailbox shows live sign-in codes: the library never serves it, signed in
/// or not (only the demo binary mounts it).
#[tokio::test]
async fn the_demo_mailbox_is_not_a_library_route() {
    let h = portal_tests::Harness::start(portal_tests::Options::memory()).await;
    let b = h.browser();
    assert_eq!(b.get("/mailbox").await.status, 404);
    h.sign_in(&b).await;
    for path in ["/mailbox", "/mailbox/x.eml"] {
        assert_eq!(b.get(path).await.status, 404, "{path}");
    }
}
