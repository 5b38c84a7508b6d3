//! The staff console in process: signing in keeps the API key on the server (never in
//! a cookie or a page), a wrong key is refused, a POST without the session's CSRF token
//! changes nothing, a member's admin action is refused with a clear message, form
//! errors come back next to their field, an admin reveals credentials with a reason (a
//! member cannot), a file drop task lists and downloads its files; snapshots of the
//! sign-in page, the portals list and a plan.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use portal_core::StaffRole;
use portal_core::testkit::TestService;
use portal_demo::api_keys::{self, ApiKeys};
use portal_demo::console::Console;
use portal_http::{HttpConfig, PortalApp};
use portal_tests::multipart::{self, Part};

const REMOTE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9);

struct Rig {
    app: PortalApp,
    admin_key: String,
    member_key: String,
    kit: TestService,
    seeded: portal_core::testkit::Seeded,
    webhooks: portal_core::webhooks::service::Webhooks,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let store = Arc::new(portal_core::memory::MemoryStore::new());
    let kit = TestService::new(store.clone(), 7);
    let seeded = kit.seed_portal().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = api_keys::path(dir.path());
    let random = kit.service.random().clone();
    let tenant = seeded.portal.tenant_id;
    let admin_key = api_keys::create(
        &file,
        random.as_ref(),
        tenant,
        "Ada Admin",
        StaffRole::Admin,
    )
    .unwrap();
    let member_key = api_keys::create(
        &file,
        random.as_ref(),
        tenant,
        "Max Member",
        StaffRole::Member,
    )
    .unwrap();
    let config = HttpConfig {
        public_base_url: "http://localhost:8080".into(),
        secure_cookies: false,
        ..HttpConfig::default()
    };
    let webhooks = portal_core::webhooks::service::Webhooks::new(
        &kit.service,
        store,
        Arc::new(portal_http::HttpWebhookTransport::new(true).unwrap()),
        portal_core::webhooks::service::WebhookSettings {
            allow_http: true,
            ..Default::default()
        },
    );
    let api = PortalApp::new(kit.service.clone(), config)
        .with_staff_auth(Arc::new(ApiKeys::new(file.clone())))
        .with_webhooks(webhooks.clone());
    let app = Console::new(api.clone(), file).mount(api);
    Rig {
        app,
        admin_key,
        member_key,
        kit,
        seeded,
        webhooks,
        _dir: dir,
    }
}

struct Answer {
    status: StatusCode,
    location: String,
    set_cookie: Vec<String>,
    body: String,
}

impl Answer {
    /// The session id the answer sets, if any.
    fn session(&self) -> Option<String> {
        self.set_cookie.iter().find_map(|c| {
            c.strip_prefix("console_session=")
                .and_then(|rest| rest.split(';').next())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        })
    }

    /// The first CSRF token of the page's forms.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a form");
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

/// POSTs a multipart form (a console form with a file) as the signed-in staff member;
/// answers the response's status.
async fn post_multipart(
    app: &PortalApp,
    path: &str,
    session: &str,
    parts: &[Part<'_>],
) -> StatusCode {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(http::header::COOKIE, format!("console_session={session}"))
        .header(http::header::CONTENT_TYPE, multipart::content_type())
        .body(Full::new(Bytes::from(multipart::multipart(parts))))
        .unwrap();
    Box::pin(app.handle(request, REMOTE)).await.status()
}

async fn send(
    app: &PortalApp,
    method: Method,
    path: &str,
    session: Option<&str>,
    form: &str,
) -> Answer {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(s) = session {
        b = b.header(http::header::COOKIE, format!("console_session={s}"));
    }
    if !form.is_empty() {
        b = b.header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    }
    // Boxed: the app's future is large in a debug build, and a test's future lives on
    // the test thread's stack.
    let response = Box::pin(app.handle(
        b.body(Full::new(Bytes::from(form.to_owned()))).unwrap(),
        REMOTE,
    ))
    .await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        location: headers
            .get(http::header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        set_cookie: headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Signs in with `key`; returns the signed-in session id.
async fn sign_in(app: &PortalApp, key: &str) -> String {
    let page = send(app, Method::GET, "/console/sign-in", None, "").await;
    let pre = page.session().expect("the sign-in page opens a session");
    let done = send(
        app,
        Method::POST,
        "/console/sign-in",
        Some(&pre),
        &format!("csrf={}&key={}", page.csrf(), enc(key)),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location, "/console/portals");
    let session = done.session().expect("signing in sets a new session id");
    assert_ne!(session, pre, "a new session id at sign-in (no fixation)");
    session
}

/// Collects every log line of the test's thread.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every log line of this test binary (a global subscriber: a thread's own would miss
/// events whose callsites another test thread registered first).
fn global_logs() -> Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

#[tokio::test]
async fn the_key_stays_on_the_server() {
    let logs = global_logs();
    let rig = rig().await;
    let page = send(&rig.app, Method::GET, "/console/sign-in", None, "").await;
    let cookie = page.set_cookie.join("\n");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(cookie.contains("Path=/console"), "{cookie}");
    let pre = page.session().unwrap();
    let done = send(
        &rig.app,
        Method::POST,
        "/console/sign-in",
        Some(&pre),
        &format!("csrf={}&key={}", page.csrf(), rig.admin_key),
    )
    .await;
    let session = done.session().unwrap();
    let secret = &rig.admin_key[3..];
    for c in &done.set_cookie {
        assert!(!c.contains(secret), "the cookie holds no key: {c}");
    }
    let portals = send(
        &rig.app,
        Method::GET,
        "/console/portals",
        Some(&session),
        "",
    )
    .await;
    assert_eq!(portals.status, StatusCode::OK);
    assert!(portals.body.contains("Contoso Ltd"), "{}", portals.body);
    assert!(portals.body.contains("Ada Admin (admin)"));
    assert!(!portals.body.contains(secret), "the page holds no key");
    // The session the sign-in page opened is gone: it cannot be reused.
    let old = send(&rig.app, Method::GET, "/console/portals", Some(&pre), "").await;
    assert_eq!(old.status, StatusCode::SEE_OTHER);
    // Signing out ends the session.
    let out = send(
        &rig.app,
        Method::POST,
        "/console/sign-out",
        Some(&session),
        &format!("csrf={}", portals.csrf()),
    )
    .await;
    assert_eq!(out.location, "/console/sign-in");
    let after = send(
        &rig.app,
        Method::GET,
        "/console/portals",
        Some(&session),
        "",
    )
    .await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location, "/console/sign-in");
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("admin request"),
        "the API calls are logged: {logged}"
    );
    assert!(!logged.contains(secret), "no key in the logs");
    assert!(!logged.contains(&session), "no session id in the logs");
}

#[tokio::test]
async fn a_wrong_key_is_refused() {
    let rig = rig().await;
    let page = send(&rig.app, Method::GET, "/console/sign-in", None, "").await;
    let pre = page.session().unwrap();
    let wrong = format!("pk_{}", "ab".repeat(32));
    let done = send(
        &rig.app,
        Method::POST,
        "/console/sign-in",
        Some(&pre),
        &format!("csrf={}&key={wrong}", page.csrf()),
    )
    .await;
    assert_eq!(done.status, StatusCode::UNAUTHORIZED);
    assert!(
        done.body.contains("That key was not accepted"),
        "{}",
        done.body
    );
    assert!(done.session().is_none(), "no signed-in session");
    assert!(!done.body.contains(&wrong), "the typed key is not echoed");
    let portals = send(&rig.app, Method::GET, "/console/portals", Some(&pre), "").await;
    assert_eq!(portals.status, StatusCode::SEE_OTHER, "still signed out");
}

#[tokio::test]
async fn a_post_without_the_csrf_token_changes_nothing() {
    let rig = rig().await;
    let session = sign_in(&rig.app, &rig.admin_key).await;
    for form in ["client_name=Evil+Corp", "client_name=Evil+Corp&csrf=0000"] {
        let done = send(
            &rig.app,
            Method::POST,
            "/console/portals",
            Some(&session),
            form,
        )
        .await;
        assert_eq!(done.status, StatusCode::FORBIDDEN, "{form}");
        assert!(done.body.contains("This form has expired"));
    }
    // Without any session, a sign-in POST is refused too.
    let done = send(
        &rig.app,
        Method::POST,
        "/console/sign-in",
        None,
        &format!("key={}", rig.admin_key),
    )
    .await;
    assert_eq!(done.status, StatusCode::FORBIDDEN);
    let portals = send(
        &rig.app,
        Method::GET,
        "/console/portals",
        Some(&session),
        "",
    )
    .await;
    assert!(!portals.body.contains("Evil Corp"), "no portal was created");
    // With the token it works.
    let done = send(
        &rig.app,
        Method::POST,
        "/console/portals",
        Some(&session),
        &format!(
            "csrf={}&client_name=Fabrikam+Legal&open=yes",
            portals.csrf()
        ),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = send(&rig.app, Method::GET, &done.location, Some(&session), "").await;
    assert!(
        page.body
            .contains("Created the portal for Fabrikam Legal; it is open to its contacts."),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_member_is_refused_admin_actions_with_a_message() {
    let rig = rig().await;
    let session = sign_in(&rig.app, &rig.member_key).await;
    let portals = send(
        &rig.app,
        Method::GET,
        "/console/portals",
        Some(&session),
        "",
    )
    .await;
    assert!(portals.body.contains("Max Member (member)"));
    let portal = portals.body.split("/console/portals/").nth(1).unwrap()[..36].to_owned();
    let contacts = send(
        &rig.app,
        Method::GET,
        &format!("/console/portals/{portal}?tab=contacts"),
        Some(&session),
        "",
    )
    .await;
    assert!(
        contacts
            .body
            .contains("Revoking access and removing contacts need an admin key.")
    );
    let contact = contacts.body.split("/contacts/").nth(1).unwrap()[..36].to_owned();
    let done = send(
        &rig.app,
        Method::POST,
        &format!("/console/portals/{portal}/contacts/{contact}/revoke"),
        Some(&session),
        &format!("csrf={}", contacts.csrf()),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let back = send(&rig.app, Method::GET, &done.location, Some(&session), "").await;
    assert!(
        back.body.contains("Only an admin may do that"),
        "{}",
        back.body
    );
    assert!(
        back.body.contains(">active</span>"),
        "the contact is not revoked"
    );
    // Keys: the page says so, and a forged POST is refused.
    let keys = send(&rig.app, Method::GET, "/console/keys", Some(&session), "").await;
    assert!(keys.body.contains("Only an admin may create keys"));
    let done = send(
        &rig.app,
        Method::POST,
        "/console/keys",
        Some(&session),
        &format!("csrf={}&name=Sneaky&role=admin", keys.csrf()),
    )
    .await;
    let back = send(&rig.app, Method::GET, &done.location, Some(&session), "").await;
    assert!(back.body.contains("Only an admin may create API keys"));
    assert!(!back.body.contains("pk_"), "no key was made");
}

#[tokio::test]
async fn field_errors_come_back_next_to_the_field() {
    let rig = rig().await;
    let session = sign_in(&rig.app, &rig.admin_key).await;
    let portals = send(
        &rig.app,
        Method::GET,
        "/console/portals",
        Some(&session),
        "",
    )
    .await;
    let portal = portals.body.split("/console/portals/").nth(1).unwrap()[..36].to_owned();
    let done = send(
        &rig.app,
        Method::POST,
        &format!("/console/portals/{portal}/contacts"),
        Some(&session),
        &format!(
            "csrf={}&name=Rosa+Alvarez&email=not-an-email",
            portals.csrf()
        ),
    )
    .await;
    let back = send(&rig.app, Method::GET, &done.location, Some(&session), "").await;
    assert!(
        back.body.contains("id=\"contact-email-error\""),
        "{}",
        back.body
    );
    assert!(
        back.body
            .contains("aria-invalid=\"true\" aria-describedby=\"contact-email-error\"")
    );
    assert!(
        back.body.contains("value=\"Rosa Alvarez\""),
        "what was typed is kept"
    );
}

/// Snapshots `html` as `name`. Ids, tokens and nonces vary by run order; the rest of
/// the page is what is reviewed.
fn snapshot(name: &str, html: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[id]",
    );
    settings.add_filter(r#"value="[0-9a-f]{64}""#, r#"value="[csrf]""#);
    settings.add_filter(r"nonce-[0-9a-f]{32}", "nonce-[nonce]");
    settings.add_filter(r#"value="&#34;[0-9a-f]{24}&#34;""#, r#"value="[etag]""#);
    settings.add_filter(r#"value="&quot;[0-9a-f]{24}&quot;""#, r#"value="[etag]""#);
    settings.bind(|| insta::assert_snapshot!(name, html));
}

#[tokio::test]
async fn console_pages_snapshots() {
    let rig = rig().await;
    let sign_in_page = send(&rig.app, Method::GET, "/console/sign-in", None, "").await;
    snapshot("console_sign_in", &sign_in_page.body);

    let session = sign_in(&rig.app, &rig.admin_key).await;
    let portals = send(
        &rig.app,
        Method::GET,
        "/console/portals",
        Some(&session),
        "",
    )
    .await;
    snapshot("console_portals", &portals.body);

    let portal = portals.body.split("/console/portals/").nth(1).unwrap()[..36].to_owned();
    let csrf = portals.csrf();
    send(
        &rig.app,
        Method::POST,
        &format!("/console/portals/{portal}/phases"),
        Some(&session),
        &format!("csrf={csrf}&name=Kickoff"),
    )
    .await;
    let plan = send(
        &rig.app,
        Method::GET,
        &format!("/console/portals/{portal}"),
        Some(&session),
        "",
    )
    .await;
    let phase = plan.body.split("/phases/").nth(1).unwrap()[..36].to_owned();
    send(
        &rig.app,
        Method::POST,
        &format!("/console/portals/{portal}/phases/{phase}/tasks"),
        Some(&session),
        &format!("csrf={csrf}&title=Send+us+your+network+diagram&assignee=client&due_date=2027-01-15&description=A+PDF+or+a+photo+of+a+whiteboard+is+fine."),
    )
    .await;
    let plan = send(
        &rig.app,
        Method::GET,
        &format!("/console/portals/{portal}"),
        Some(&session),
        "",
    )
    .await;
    assert!(plan.body.contains("Added the task."), "{}", plan.body);
    snapshot("console_plan", &plan.body);
}

/// The `action` of the first form on `html` whose action ends with `suffix`, and the
/// `etag` it carries.
fn form_with(html: &str, suffix: &str) -> (String, String) {
    let at = html
        .find(&format!("{suffix}\"><input type=\"hidden\" name=\"csrf\""))
        .unwrap_or_else(|| panic!("no form ending {suffix}"));
    let start = html[..at].rfind("action=\"").unwrap() + 8;
    let action = html[start..at + suffix.len()].to_owned();
    let rest = &html[at..];
    let e = rest.find("name=\"etag\" value=\"").unwrap() + 19;
    let etag = rest[e..e + rest[e..].find('"').unwrap()].replace("&#34;", "\"");
    (action, etag)
}

/// The ids of the plan's tasks, in order.
fn task_ids(html: &str) -> Vec<String> {
    html.split("<div class=\"task-head\"><h4><a href=\"")
        .skip(1)
        .map(|s| {
            let at = s.find("/tasks/").unwrap() + 7;
            s[at..at + 36].to_owned()
        })
        .collect()
}

fn titles(html: &str) -> Vec<String> {
    html.split("<div class=\"task-head\"><h4><a href=\"")
        .skip(1)
        .map(|s| {
            let s = &s[s.find('>').unwrap() + 1..];
            s[..s.find('<').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_plan_is_edited_through_the_api_with_versions() {
    let rig = rig().await;
    let session = sign_in(&rig.app, &rig.admin_key).await;
    let portals = send(
        &rig.app,
        Method::GET,
        "/console/portals",
        Some(&session),
        "",
    )
    .await;
    let csrf = portals.csrf();
    let portal = portals.body.split("/console/portals/").nth(1).unwrap()[..36].to_owned();
    let plan_url = format!("/console/portals/{portal}");
    send(
        &rig.app,
        Method::POST,
        &format!("{plan_url}/phases"),
        Some(&session),
        &format!("csrf={csrf}&name=Kickoff"),
    )
    .await;
    let plan = send(&rig.app, Method::GET, &plan_url, Some(&session), "").await;
    let phase = plan.body.split("/phases/").nth(1).unwrap()[..36].to_owned();
    for title in ["First", "Second", "Third"] {
        send(
            &rig.app,
            Method::POST,
            &format!("{plan_url}/phases/{phase}/tasks"),
            Some(&session),
            &format!("csrf={csrf}&title={title}&assignee=client"),
        )
        .await;
    }
    let plan = send(&rig.app, Method::GET, &plan_url, Some(&session), "").await;
    assert_eq!(titles(&plan.body), ["First", "Second", "Third"]);

    // "Third" up one: its own version as If-Match.
    let third = task_ids(&plan.body)[2].clone();
    let (action, etag) = form_with(&plan.body, &format!("/tasks/{third}/up"));
    assert_eq!(etag, "\"v1\"");
    let done = send(
        &rig.app,
        Method::POST,
        &action,
        Some(&session),
        &format!("csrf={csrf}&etag={}", enc(&etag)),
    )
    .await;
    let plan = send(&rig.app, Method::GET, &done.location, Some(&session), "").await;
    assert!(plan.body.contains("Moved the task."), "{}", plan.body);
    assert_eq!(titles(&plan.body), ["First", "Third", "Second"]);

    // The same form again carries the version the page showed before: refused, and
    // the console says someone changed it meanwhile.
    let done = send(
        &rig.app,
        Method::POST,
        &action,
        Some(&session),
        &format!("csrf={csrf}&etag={}", enc(&etag)),
    )
    .await;
    let back = send(&rig.app, Method::GET, &done.location, Some(&session), "").await;
    assert!(
        back.body.contains("Someone else changed this meanwhile"),
        "{}",
        back.body
    );
    assert_eq!(titles(&back.body), ["First", "Third", "Second"]);

    // Delete "First" with its current version.
    let first = task_ids(&back.body)[0].clone();
    let (action, etag) = form_with(&back.body, &format!("/tasks/{first}/delete"));
    let done = send(
        &rig.app,
        Method::POST,
        &action,
        Some(&session),
        &format!("csrf={csrf}&etag={}", enc(&etag)),
    )
    .await;
    let plan = send(&rig.app, Method::GET, &done.location, Some(&session), "").await;
    assert!(plan.body.contains("Deleted the task."), "{}", plan.body);
    assert_eq!(titles(&plan.body), ["Third", "Second"]);

    // Edit a task's title and due date on its page; the client-facing view changes.
    let task = task_ids(&plan.body)[0].clone();
    let page = send(
        &rig.app,
        Method::GET,
        &format!("{plan_url}/tasks/{task}"),
        Some(&session),
        "",
    )
    .await;
    let e = page.body.find("name=\"etag\" value=\"").unwrap() + 19;
    let etag = page.body[e..e + page.body[e..].find('"').unwrap()].replace("&#34;", "\"");
    let done = send(
        &rig.app,
        Method::POST,
        &format!("{plan_url}/tasks/{task}"),
        Some(&session),
        &format!(
            "csrf={csrf}&etag={}&title=Third+renamed&description=&due_date=2027-03-01",
            enc(&etag)
        ),
    )
    .await;
    let page = send(&rig.app, Method::GET, &done.location, Some(&session), "").await;
    assert!(page.body.contains("Saved the task."), "{}", page.body);
    assert!(page.body.contains("<h1>Third renamed</h1>"));
    assert!(page.body.contains("Due Mon 1 Mar 2027"));

    // The contact role a client task is for: set (cleaned to lower case), then cleared.
    let mut page = page;
    for (given, shown) in [("Billing", "billing"), ("", "")] {
        let e = page.body.find("name=\"etag\" value=\"").unwrap() + 19;
        let etag = page.body[e..e + page.body[e..].find('"').unwrap()].replace("&#34;", "\"");
        let done = send(
            &rig.app,
            Method::POST,
            &format!("{plan_url}/tasks/{task}"),
            Some(&session),
            &format!(
                "csrf={csrf}&etag={}&title=Third+renamed&description=&due_date=2027-03-01&for_role={given}",
                enc(&etag)
            ),
        )
        .await;
        page = send(&rig.app, Method::GET, &done.location, Some(&session), "").await;
        assert!(page.body.contains("Saved the task."), "{}", page.body);
        assert!(
            page.body.contains(&format!(
                "name=\"for_role\" maxlength=\"40\" value=\"{shown}\""
            )),
            "for_role {given:?}: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn deleting_a_portal_needs_confirmation_and_an_admin() {
    let rig = rig().await;
    let member = sign_in(&rig.app, &rig.member_key).await;
    let portals = send(&rig.app, Method::GET, "/console/portals", Some(&member), "").await;
    let portal = portals.body.split("/console/portals/").nth(1).unwrap()[..36].to_owned();
    let delete = format!("/console/portals/{portal}/delete");
    let done = send(
        &rig.app,
        Method::POST,
        &delete,
        Some(&member),
        &format!("csrf={}&confirm=yes", portals.csrf()),
    )
    .await;
    let back = send(&rig.app, Method::GET, &done.location, Some(&member), "").await;
    assert!(
        back.body.contains("Only an admin may do that"),
        "{}",
        back.body
    );

    let admin = sign_in(&rig.app, &rig.admin_key).await;
    let portals = send(&rig.app, Method::GET, "/console/portals", Some(&admin), "").await;
    let csrf = portals.csrf();
    let done = send(
        &rig.app,
        Method::POST,
        &delete,
        Some(&admin),
        &format!("csrf={csrf}"),
    )
    .await;
    let back = send(&rig.app, Method::GET, &done.location, Some(&admin), "").await;
    assert!(back.body.contains("Tick the box to confirm the deletion."));
    let done = send(
        &rig.app,
        Method::POST,
        &delete,
        Some(&admin),
        &format!("csrf={csrf}&confirm=yes"),
    )
    .await;
    assert_eq!(done.location, "/console/portals");
    let list = send(&rig.app, Method::GET, "/console/portals", Some(&admin), "").await;
    assert!(
        list.body
            .contains("Deleted the portal and everything in it.")
    );
    assert!(!list.body.contains("Contoso Ltd"), "{}", list.body);
}

/// An admin reveals a credential handoff from the task page with a reason: the values
/// are on that one answer only; a blank reason comes back next to the field; a member
/// sees no form and a forged POST reveals nothing.
#[tokio::test]
async fn an_admin_reveals_credentials_with_a_reason_on_the_task_page() {
    use portal_core::credentials::{CredentialForm, SecretText};
    use portal_core::model::{Side, TaskKind};
    let rig = rig().await;
    let (service, staff, portal) = (&rig.kit.service, &rig.seeded.staff, rig.seeded.portal.id);
    let phase = service.add_phase(staff, portal, "Access").await.unwrap().id;
    let task = service
        .add_task(
            staff,
            portal,
            phase,
            portal_core::TaskSpec {
                title: "Share the firewall admin account".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::CredentialHandoff { api_key: false },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let (_, ctx) = rig.kit.sign_in(&rig.seeded.contact).await.unwrap();
    let password = "Tr0ub4dor-console-7f3a";
    service
        .submit_credentials(
            &ctx,
            task,
            &CredentialForm {
                username: SecretText::new("fw-admin"),
                password: SecretText::new(password),
                api_key: None,
                notes: None,
            },
        )
        .await
        .unwrap();
    let path = format!("/console/portals/{portal}/tasks/{task}");
    let admin = sign_in(&rig.app, &rig.admin_key).await;
    let page = send(&rig.app, Method::GET, &path, Some(&admin), "").await;
    assert!(page.body.contains("Reveal credentials"), "{}", page.body);
    assert!(!page.body.contains(password));
    let blank = send(
        &rig.app,
        Method::POST,
        &format!("{path}/reveal"),
        Some(&admin),
        &format!("csrf={}&reason=+", page.csrf()),
    )
    .await;
    assert_eq!(blank.status, StatusCode::SEE_OTHER);
    let back = send(&rig.app, Method::GET, &blank.location, Some(&admin), "").await;
    assert!(
        back.body.contains("id=\"reveal-reason-error\""),
        "{}",
        back.body
    );
    assert!(!back.body.contains(password));
    let shown = send(
        &rig.app,
        Method::POST,
        &format!("{path}/reveal"),
        Some(&admin),
        &format!("csrf={}&reason=Migrating+the+firewall", page.csrf()),
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains(password));
    assert!(
        shown
            .body
            .contains("<dt>Username</dt><dd><code>fw-admin</code></dd>")
    );
    let again = send(&rig.app, Method::GET, &path, Some(&admin), "").await;
    assert!(
        !again.body.contains(password),
        "shown on that one answer only"
    );
    // A member: no form, and a forged POST reveals nothing.
    let member = sign_in(&rig.app, &rig.member_key).await;
    let page = send(&rig.app, Method::GET, &path, Some(&member), "").await;
    assert!(!page.body.contains("Reveal credentials"));
    let forged = send(
        &rig.app,
        Method::POST,
        &format!("{path}/reveal"),
        Some(&member),
        &format!("csrf={}&reason=Only+once", page.csrf()),
    )
    .await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
    let back = send(&rig.app, Method::GET, &forged.location, Some(&member), "").await;
    assert!(
        back.body.contains("Only an admin may do that"),
        "{}",
        back.body
    );
    assert!(!back.body.contains(password));
    // The reveal and its reason are in the audit trail; the member's is not.
    let audit = service.export_audit_chain(staff, portal).await.unwrap();
    assert!(audit.contains("Migrating the firewall"));
    assert!(!audit.contains("Only once"));
}

/// A file drop task's page lists the client's dropped files with their state and
/// expiry and a Download link; the download goes through the API (which marks the file
/// downloaded and audits it) and answers the file's bytes.
#[tokio::test]
async fn a_file_drop_tasks_page_lists_and_downloads_the_dropped_files() {
    use portal_core::model::{Side, TaskKind};
    let rig = rig().await;
    let (service, staff, portal) = (&rig.kit.service, &rig.seeded.staff, rig.seeded.portal.id);
    let phase = service.add_phase(staff, portal, "Files").await.unwrap().id;
    let task = service
        .add_task(
            staff,
            portal,
            phase,
            portal_core::TaskSpec {
                title: "Send the firewall backup".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::SecureFileDrop {
                    expires_after_days: 7,
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let (_, ctx) = rig.kit.sign_in(&rig.seeded.contact).await.unwrap();
    let file = service
        .drop_file(
            &ctx,
            task,
            "fw-backup.conf",
            Box::pin(portal_core::blob::stream_of(vec![Bytes::from_static(
                b"hostname fw1",
            )])),
        )
        .await
        .unwrap();
    let admin = sign_in(&rig.app, &rig.admin_key).await;
    let page = send(
        &rig.app,
        Method::GET,
        &format!("/console/portals/{portal}/tasks/{task}"),
        Some(&admin),
        "",
    )
    .await;
    assert!(page.body.contains("fw-backup.conf"), "{}", page.body);
    assert!(page.body.contains("available"));
    let href = format!("/console/portals/{portal}/drops/{}", file.id);
    assert!(page.body.contains(&href), "{}", page.body);
    let got = send(&rig.app, Method::GET, &href, Some(&admin), "").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, "hostname fw1");
    let after = send(
        &rig.app,
        Method::GET,
        &format!("/console/portals/{portal}/tasks/{task}"),
        Some(&admin),
        "",
    )
    .await;
    assert!(
        after.body.contains("downloaded by Ada Admin"),
        "{}",
        after.body
    );
    let audit = service.export_audit_chain(staff, portal).await.unwrap();
    assert!(audit.contains("file_downloaded"));
}

/// A signature task's page: the staff member attaches the document (a multipart form
/// the console sends on to the API), the page shows it with its SHA-256 and a link;
/// once the client signed, the page shows the drawn signature, the signer, the time in
/// the signer's zone with the zone named, the verification, and the certificate.
#[tokio::test]
async fn a_signature_tasks_page_attaches_the_document_and_shows_the_signature() {
    use portal_core::model::{Side, TaskKind};
    let rig = rig().await;
    let (service, staff, portal) = (&rig.kit.service, &rig.seeded.staff, rig.seeded.portal.id);
    let phase = service
        .add_phase(staff, portal, "Contract")
        .await
        .unwrap()
        .id;
    let task = service
        .add_task(
            staff,
            portal,
            phase,
            portal_core::TaskSpec {
                title: "Sign the agreement".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::Signature {
                    document: None,
                    consent: None,
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let admin = sign_in(&rig.app, &rig.admin_key).await;
    let task_path = format!("/console/portals/{portal}/tasks/{task}");
    let page = send(&rig.app, Method::GET, &task_path, Some(&admin), "").await;
    assert!(
        page.body.contains("Attach the document to sign"),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"enctype="multipart/form-data""#));
    let pdf: &[u8] = b"%PDF-1.4\n% the agreement\n%%EOF\n";
    let csrf = page.csrf();
    let parts = [Part::Field("csrf", &csrf), Part::File("agreement.pdf", pdf)];
    let path = format!("{task_path}/document");
    let posted = post_multipart(&rig.app, &path, &admin, &parts).await;
    assert_eq!(posted, StatusCode::SEE_OTHER);
    let hash = portal_core::audit::hash_hex(&portal_core::signatures::sha256(pdf));
    let page = send(&rig.app, Method::GET, &task_path, Some(&admin), "").await;
    assert!(
        page.body.contains("Attached agreement.pdf"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&hash), "{}", page.body);
    assert!(page.body.contains("Replace the document to sign"));
    let doc = send(
        &rig.app,
        Method::GET,
        &format!("{task_path}/document"),
        Some(&admin),
        "",
    )
    .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body.as_bytes(), pdf);

    // The client (in Europe/Berlin) opens the document, then signs with a drawn
    // signature.
    let (_, ctx) = rig.kit.sign_in(&rig.seeded.contact).await.unwrap();
    let _opened = service.open_signature_document(&ctx, task).await.unwrap();
    let mut raw = Vec::new();
    for y in 0..8u32 {
        raw.push(0);
        for x in 0..32u32 {
            raw.extend(if x / 4 == y {
                [0, 0, 0, 255]
            } else {
                [0, 0, 0, 0]
            });
        }
    }
    let png = png_of(32, 8, &raw);
    use base64::Engine as _;
    service
        .sign_task(
            &ctx,
            task,
            &portal_core::service::SignatureInput {
                drawn: Some(format!(
                    "data:image/png;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(&png)
                )),
                typed_name: None,
                consent: true,
                document_sha256: Some(hash.clone()),
                consent_language: portal_core::i18n::Language::En,
            },
            portal_core::signatures::SigningContext {
                ip: Some("203.0.113.9".into()),
                user_agent: Some("Test browser".into()),
                time_zone: "Europe/Berlin".into(),
            },
        )
        .await
        .unwrap();
    let signed = send(&rig.app, Method::GET, &task_path, Some(&admin), "").await;
    let text = &signed.body;
    assert!(text.contains("Signed by"), "{text}");
    assert!(text.contains(&rig.seeded.contact.name));
    assert!(text.contains("(Europe/Berlin)"), "{text}");
    assert!(
        text.contains("Every fingerprint was recomputed and matches"),
        "{text}"
    );
    assert!(text.contains(&format!("{task_path}/signature.png")));
    assert!(text.contains(&format!("{task_path}/certificate")));
    assert!(
        !text.contains("Attach the document"),
        "no replacing once signed"
    );
    let image = send(
        &rig.app,
        Method::GET,
        &format!("{task_path}/signature.png"),
        Some(&admin),
        "",
    )
    .await;
    assert_eq!(image.status, StatusCode::OK);
    let cert = send(
        &rig.app,
        Method::GET,
        &format!("{task_path}/certificate"),
        Some(&admin),
        "",
    )
    .await;
    assert_eq!(cert.status, StatusCode::OK);
    assert!(cert.body.contains("Signature certificate"));
    assert!(
        cert.body.contains(&hash),
        "the document's hash is on the certificate"
    );
    assert!(cert.body.contains("203.0.113.9"));
    assert!(cert.body.contains("Audit chain event"));
    // The MSP's printable certificate, reviewed as a whole (hashes masked: the
    // record's covers ids that vary by run order).
    let mut hashes = insta::Settings::clone_current();
    hashes.add_filter(r"\b[0-9a-f]{64}\b", "[sha256]");
    hashes.bind(|| snapshot("console_signature_certificate", &cert.body));
}

/// A PNG of 8-bit RGBA rows (`raw`: each row with its filter byte), zlib "stored".
fn png_of(width: u32, height: u32, raw: &[u8]) -> Vec<u8> {
    let (mut a, mut b) = (1u32, 0u32);
    for &d in raw {
        a = (a + u32::from(d)) % 65521;
        b = (b + a) % 65521;
    }
    let mut z = vec![0x78, 0x01, 1];
    let len = raw.len() as u16;
    z.extend(len.to_le_bytes());
    z.extend((!len).to_le_bytes());
    z.extend(raw);
    z.extend(((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        out.extend([0u8; 4]);
    };
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &z);
    chunk(b"IEND", &[]);
    out
}

/// The value of the hidden `etag` field of the form posting to `action`.
fn etag_of_form(body: &str, action: &str) -> String {
    let form = body.split(&format!("action=\"{action}\"")).nth(1).unwrap();
    let raw = form.split("name=\"etag\" value=\"").nth(1).unwrap();
    raw[..raw.find('"').unwrap()]
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
}

/// The team both team tests start from, as its editor takes it.
const SAM_AND_ANA: &str =
    "Sam Lee | Project lead | sam@msp.example\nAna Diaz | Network engineer | ana@msp.example";

/// Posts the team editor of the contacts tab `page` (its token and version) with `lines`.
async fn save_team(
    app: &PortalApp,
    session: &str,
    page: &Answer,
    action: &str,
    lines: &str,
) -> Answer {
    let body = format!(
        "csrf={}&etag={}&members={}",
        page.csrf(),
        enc(&etag_of_form(&page.body, action)),
        enc(lines)
    );
    send(app, Method::POST, action, Some(session), &body).await
}

/// Issue 14: a member edits the onboarding team on the contacts tab, in order, under
/// the portal's version; a malformed line comes back next to the field; questions to
/// one member name them on the questions tab.
#[tokio::test]
async fn the_onboarding_team_is_edited_on_the_contacts_tab() {
    let rig = rig().await;
    let session = sign_in(&rig.app, &rig.member_key).await;
    let p = rig.seeded.portal.id;
    let tab = format!("/console/portals/{p}?tab=contacts");
    let page = send(&rig.app, Method::GET, &tab, Some(&session), "").await;
    assert!(page.body.contains("Onboarding team"), "{}", page.body);
    let action = format!("/console/portals/{p}/team");
    let etag = etag_of_form(&page.body, &action);
    let done = save_team(&rig.app, &session, &page, &action, SAM_AND_ANA).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let back = send(&rig.app, Method::GET, &done.location, Some(&session), "").await;
    assert!(
        back.body.contains("Saved the onboarding team."),
        "{}",
        back.body
    );
    assert!(
        back.body
            .contains("Sam Lee | Project lead | sam@msp.example\nAna Diaz")
    );
    let team = rig.kit.service.store().portal_team(p).await.unwrap();
    let names: Vec<&str> = team.members().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Sam Lee", "Ana Diaz"]);

    // The old version is stale now: refused, nothing changed.
    let stale = send(
        &rig.app,
        Method::POST,
        &action,
        Some(&session),
        &format!(
            "csrf={}&etag={}&members={}",
            page.csrf(),
            enc(&etag),
            enc("X | Y | x@msp.example")
        ),
    )
    .await;
    let back = send(&rig.app, Method::GET, &stale.location, Some(&session), "").await;
    assert!(
        !back.body.contains("Saved the onboarding team."),
        "{}",
        back.body
    );
    assert_eq!(rig.kit.service.store().portal_team(p).await.unwrap(), team);

    // A line without three parts: the error next to the field, the text kept.
    let now = send(&rig.app, Method::GET, &tab, Some(&session), "").await;
    let bad = send(
        &rig.app,
        Method::POST,
        &action,
        Some(&session),
        &format!(
            "csrf={}&etag={}&members={}",
            now.csrf(),
            enc(&etag_of_form(&now.body, &action)),
            enc("Sam Lee, Project lead")
        ),
    )
    .await;
    let back = send(&rig.app, Method::GET, &bad.location, Some(&session), "").await;
    assert!(
        back.body.contains("id=\"team-members-error\""),
        "{}",
        back.body
    );
    assert!(back.body.contains("line 1: write"), "{}", back.body);
    assert!(back.body.contains(">Sam Lee, Project lead</textarea>"));
    assert_eq!(rig.kit.service.store().portal_team(p).await.unwrap(), team);
}

/// Issue 14: a team member's photo is uploaded from the contacts tab (it went through
/// the API only): the chosen member gets it, the others keep theirs; a file that is not
/// a picture comes back next to the field and changes nothing.
#[tokio::test]
async fn a_team_members_photo_is_uploaded_on_the_contacts_tab() {
    let rig = rig().await;
    let session = sign_in(&rig.app, &rig.member_key).await;
    let p = rig.seeded.portal.id;
    let tab = format!("/console/portals/{p}?tab=contacts");
    let page = send(&rig.app, Method::GET, &tab, Some(&session), "").await;
    assert!(!page.body.contains("A member's photo"), "no team, no form");
    let action = format!("/console/portals/{p}/team");
    let done = save_team(&rig.app, &session, &page, &action, SAM_AND_ANA).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let page = send(&rig.app, Method::GET, &tab, Some(&session), "").await;
    assert!(page.body.contains("A member's photo"), "{}", page.body);
    assert!(
        page.body
            .contains(r#"<option value="ana@msp.example">Ana Diaz</option>"#)
    );
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    let csrf = page.csrf();
    let photo_path = format!("/console/portals/{p}/team/photo");
    let parts = [
        Part::Field("csrf", &csrf),
        Part::Field("email", "ana@msp.example"),
        Part::File("ana.png", png),
    ];
    assert_eq!(
        post_multipart(&rig.app, &photo_path, &session, &parts).await,
        StatusCode::SEE_OTHER
    );
    let back = send(&rig.app, Method::GET, &tab, Some(&session), "").await;
    assert!(
        back.body.contains("Saved Ana Diaz&#39;s photo.")
            || back.body.contains("Saved Ana Diaz&#x27;s photo."),
        "{}",
        back.body
    );
    assert!(back.body.contains("Ana Diaz (replace the photo)"));
    let team = rig.kit.service.store().portal_team(p).await.unwrap();
    let photos: Vec<(&str, bool)> = team
        .members()
        .iter()
        .map(|m| (m.name.as_str(), m.photo.is_some()))
        .collect();
    assert_eq!(photos, [("Sam Lee", false), ("Ana Diaz", true)]);

    // Not a picture: the reason next to the field, the team unchanged.
    let parts = [
        Part::Field("csrf", &csrf),
        Part::Field("email", "sam@msp.example"),
        Part::File("sam.pdf", b"%PDF-1.4\n%%EOF\n"),
    ];
    assert_eq!(
        post_multipart(&rig.app, &photo_path, &session, &parts).await,
        StatusCode::SEE_OTHER
    );
    let back = send(&rig.app, Method::GET, &tab, Some(&session), "").await;
    assert!(
        back.body.contains(r#"id="photo-file-error""#),
        "{}",
        back.body
    );
    assert!(back.body.contains("must be a PNG, JPEG or WebP image"));
    assert_eq!(rig.kit.service.store().portal_team(p).await.unwrap(), team);
}

/// The settings page sets the MSP's own domain and sender through `PATCH /tenant`
/// with the `ETag` it was rendered with; a bad address comes back next to its field,
/// and a stale page is refused rather than overwriting a newer change.
#[tokio::test]
async fn the_domain_and_sender_are_set_on_the_settings_page() {
    let rig = rig().await;
    let session = sign_in(&rig.app, &rig.admin_key).await;
    let page = send(
        &rig.app,
        Method::GET,
        "/console/settings",
        Some(&session),
        "",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (action, etag) = form_with(&page.body, "/console/settings");
    let csrf = page.csrf();

    let refused = send(
        &rig.app,
        Method::POST,
        &action,
        Some(&session),
        &format!(
            "csrf={csrf}&etag={}&base_url={}&sender_name=&sender_address=&sender_reply_to=",
            enc(&etag),
            enc("http://portal.northwind.example")
        ),
    )
    .await;
    let back = send(&rig.app, Method::GET, &refused.location, Some(&session), "").await;
    assert!(back.body.contains("id=\"base-url-error\""), "{}", back.body);
    assert!(
        back.body
            .contains("value=\"http://portal.northwind.example\"")
    );

    let saved = send(
        &rig.app,
        Method::POST,
        &action,
        Some(&session),
        &format!(
            "csrf={csrf}&etag={}&base_url={}&sender_name={}&sender_address={}&sender_reply_to={}",
            enc(&etag),
            enc("https://portal.northwind.example"),
            enc("Northwind IT"),
            enc("onboarding@northwind.example"),
            enc("desk@northwind.example"),
        ),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let tenant = rig
        .kit
        .service
        .store()
        .tenant(rig.seeded.portal.tenant_id)
        .await
        .unwrap();
    assert_eq!(
        tenant.base_url.unwrap().as_str(),
        "https://portal.northwind.example"
    );
    let sender = tenant.sender.unwrap();
    assert_eq!(
        sender.from_header(),
        "Northwind IT <onboarding@northwind.example>"
    );
    assert_eq!(sender.reply_to.unwrap().as_str(), "desk@northwind.example");
    let shown = send(&rig.app, Method::GET, &saved.location, Some(&session), "").await;
    assert!(
        shown.body.contains("Saved the domain and sender."),
        "{}",
        shown.body
    );
    snapshot("console_settings", &shown.body);

    // The page of before the save names an old version: refused, nothing changed.
    let stale = send(
        &rig.app,
        Method::POST,
        &action,
        Some(&session),
        &format!(
            "csrf={csrf}&etag={}&base_url=&sender_name=&sender_address=&sender_reply_to=",
            enc(&etag)
        ),
    )
    .await;
    let after = send(&rig.app, Method::GET, &stale.location, Some(&session), "").await;
    assert!(!after.body.contains("Saved the domain"), "{}", after.body);
    let tenant = rig
        .kit
        .service
        .store()
        .tenant(rig.seeded.portal.tenant_id)
        .await
        .unwrap();
    assert!(tenant.base_url.is_some() && tenant.sender.is_some());
}

/// The webhooks page lists the MSP's endpoints as the API has them, read-only: no
/// form, no secret.
#[tokio::test]
async fn the_webhooks_page_lists_the_endpoints_read_only() {
    let rig = rig().await;
    let session = sign_in(&rig.app, &rig.admin_key).await;
    let empty = send(
        &rig.app,
        Method::GET,
        "/console/webhooks",
        Some(&session),
        "",
    )
    .await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(empty.body.contains("No endpoints yet."), "{}", empty.body);
    let (_, secret) = rig
        .webhooks
        .create_endpoint(
            &rig.seeded.staff,
            &portal_core::webhooks::service::NewEndpoint {
                url: "http://127.0.0.1:9/hooks".into(),
                description: "PSA sync".into(),
                event_types: Vec::new(),
            },
        )
        .await
        .unwrap();
    let page = send(
        &rig.app,
        Method::GET,
        "/console/webhooks",
        Some(&session),
        "",
    )
    .await;
    assert!(
        page.body.contains(
            "<td>http://127.0.0.1:9/hooks</td><td>PSA sync</td><td>all events</td><td>enabled</td>"
        ),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(&secret.expose_secret()),
        "no secret on the page"
    );
    assert!(
        !page.body.contains("<form method=\"post\" class"),
        "read-only"
    );
}

/// A task's page shares a file with the client (multipart, sent on to the API's
/// attachments route), lists it with its SHA-256 and a download link that serves the
/// exact bytes, and deletes it.
#[tokio::test]
async fn a_tasks_page_shares_lists_and_deletes_a_file() {
    let rig = rig().await;
    let (portal, task) = (rig.seeded.portal.id, {
        let (service, staff) = (&rig.kit.service, &rig.seeded.staff);
        let phase = service
            .add_phase(staff, rig.seeded.portal.id, "Plan")
            .await
            .unwrap()
            .id;
        service
            .add_task(
                staff,
                rig.seeded.portal.id,
                phase,
                portal_core::TaskSpec {
                    title: "Approve the migration plan".into(),
                    description: String::new(),
                    assignee: portal_core::model::Side::Client,
                    kind: portal_core::model::TaskKind::Approval { document: None },
                    due_date: None,
                },
            )
            .await
            .unwrap()
            .id
    });
    let admin = sign_in(&rig.app, &rig.admin_key).await;
    let task_path = format!("/console/portals/{portal}/tasks/{task}");
    let page = send(&rig.app, Method::GET, &task_path, Some(&admin), "").await;
    assert!(
        page.body.contains("Files shared with the client"),
        "{}",
        page.body
    );
    assert!(page.body.contains("None yet."));
    let pdf: &[u8] = b"%PDF-1.4\n% the migration plan\n%%EOF\n";
    let csrf = page.csrf();
    let parts = [
        Part::Field("csrf", &csrf),
        Part::File("Migration plan.pdf", pdf),
    ];
    let path = format!("{task_path}/attachments");
    let posted = post_multipart(&rig.app, &path, &admin, &parts).await;
    assert_eq!(posted, StatusCode::SEE_OTHER);
    let shared = rig
        .kit
        .service
        .store()
        .task_attachments(portal, task)
        .await
        .unwrap();
    assert_eq!(shared.len(), 1);
    let hash = shared[0].sha256_hex();
    let page = send(&rig.app, Method::GET, &task_path, Some(&admin), "").await;
    assert!(page.body.contains("Migration plan.pdf"), "{}", page.body);
    assert!(page.body.contains(&hash), "{}", page.body);
    let file_path = format!("/console/portals/{portal}/attachments/{}", shared[0].id);
    assert!(page.body.contains(&format!(r#"href="{file_path}""#)));
    let file = send(&rig.app, Method::GET, &file_path, Some(&admin), "").await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body.as_bytes(), pdf);
    let deleted = send(
        &rig.app,
        Method::POST,
        &format!("{file_path}/delete"),
        Some(&admin),
        &format!("csrf={}&task={task}", page.csrf()),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(
        rig.kit
            .service
            .store()
            .task_attachments(portal, task)
            .await
            .unwrap()
            .is_empty()
    );
    let page = send(&rig.app, Method::GET, &task_path, Some(&admin), "").await;
    assert!(
        page.body.contains("Deleted the shared file."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Migration plan.pdf"));
}

/// A colleague a contact invited, waiting for staff (written as the store holds one).
async fn pending_colleague(rig: &Rig, name: &str, email: &str) -> portal_core::model::Contact {
    let c = portal_core::model::Contact {
        id: portal_core::ContactId::random(rig.kit.service.random().as_ref()),
        portal_id: rig.seeded.portal.id,
        name: name.to_owned(),
        email: portal_core::model::EmailAddress::parse(email).unwrap(),
        revoked_at: None,
        time_zone: rig.seeded.contact.time_zone,
        created_at: rig.kit.service.clock().now(),
        invited_by: Some(rig.seeded.contact.id),
        awaiting_approval: true,
        role: None,
        guest: None,
        language: None,
    };
    rig.kit.service.store().add_contact(&c, None).await.unwrap();
    c
}

/// Issue 15 on the contacts tab: the colleagues waiting for approval with Approve and
/// Decline, the portal's colleague-invitation mode (an admin's setting, under the
/// portal's version), and a contact's role in the edit form (set, then cleared).
#[tokio::test]
async fn colleagues_invitation_mode_and_roles_on_the_contacts_tab() {
    use portal_core::workflow::team::InvitationMode;
    let rig = rig().await;
    let session = sign_in(&rig.app, &rig.admin_key).await;
    let p = rig.seeded.portal.id;
    let store = rig.kit.service.store();
    let tab = format!("/console/portals/{p}?tab=contacts");
    let page = send(&rig.app, Method::GET, &tab, Some(&session), "").await;
    assert!(
        page.body.contains("No colleague is waiting for approval."),
        "{}",
        page.body
    );
    let ann = pending_colleague(&rig, "Ann Waiting", "ann@contoso.example").await;
    let bo = pending_colleague(&rig, "Bo Waiting", "bo@contoso.example").await;

    // The mode: after approval (the default) is checked; an admin sets "at once".
    let page = send(&rig.app, Method::GET, &tab, Some(&session), "").await;
    assert!(
        page.body
            .contains(r#"<input type="radio" name="mode" value="after_approval" checked>"#),
        "{}",
        page.body
    );
    snapshot("console_contacts", &page.body);
    let action = format!("/console/portals/{p}/colleague-invitations");
    let etag = etag_of_form(&page.body, &action);
    let set = send(
        &rig.app,
        Method::POST,
        &action,
        Some(&session),
        &format!("csrf={}&etag={}&mode=at_once", page.csrf(), enc(&etag)),
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let back = send(&rig.app, Method::GET, &set.location, Some(&session), "").await;
    assert!(
        back.body.contains("Saved how colleagues are invited."),
        "{}",
        back.body
    );
    assert_eq!(
        store.portal(p).await.unwrap().colleague_invitations,
        InvitationMode::AtOnce
    );
    // The page's old version is stale now: refused, the mode unchanged.
    let stale = send(
        &rig.app,
        Method::POST,
        &action,
        Some(&session),
        &format!("csrf={}&etag={}&mode=off", page.csrf(), enc(&etag)),
    )
    .await;
    let back = send(&rig.app, Method::GET, &stale.location, Some(&session), "").await;
    assert!(!back.body.contains("Saved how colleagues are invited."));
    assert_eq!(
        store.portal(p).await.unwrap().colleague_invitations,
        InvitationMode::AtOnce
    );

    // Approve Ann: no longer waiting, her invitation issued. Decline Bo: removed.
    let approve = send(
        &rig.app,
        Method::POST,
        &format!("/console/portals/{p}/contacts/{}/approve", ann.id),
        Some(&session),
        &format!("csrf={}", page.csrf()),
    )
    .await;
    assert_eq!(approve.status, StatusCode::SEE_OTHER, "{}", approve.body);
    let back = send(&rig.app, Method::GET, &approve.location, Some(&session), "").await;
    assert!(back.body.contains("Approved Ann Waiting"), "{}", back.body);
    assert!(!store.contact(ann.id).await.unwrap().awaiting_approval);
    let decline = send(
        &rig.app,
        Method::POST,
        &format!("/console/portals/{p}/contacts/{}/decline", bo.id),
        Some(&session),
        &format!("csrf={}", page.csrf()),
    )
    .await;
    assert_eq!(decline.status, StatusCode::SEE_OTHER, "{}", decline.body);
    let back = send(&rig.app, Method::GET, &decline.location, Some(&session), "").await;
    assert!(
        back.body.contains("Declined the colleague"),
        "{}",
        back.body
    );
    assert!(
        store.contact(bo.id).await.is_err(),
        "a declined colleague is removed"
    );
    assert!(back.body.contains("No colleague is waiting for approval."));

    // A role set in the edit form (cleaned by the API), shown, then cleared.
    let c = &rig.seeded.contact;
    let edit = format!("/console/portals/{p}/contacts/{}/edit", c.id);
    let form = |role: &str| {
        format!(
            "csrf={}&name={}&email={}&role={}",
            page.csrf(),
            enc(&c.name),
            enc(c.email.as_str()),
            enc(role)
        )
    };
    let saved = send(
        &rig.app,
        Method::POST,
        &edit,
        Some(&session),
        &form("Billing"),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        store.contact(c.id).await.unwrap().role.as_deref(),
        Some("billing")
    );
    let back = send(&rig.app, Method::GET, &saved.location, Some(&session), "").await;
    assert!(
        back.body.contains(r#"<span class="badge">billing</span>"#),
        "{}",
        back.body
    );
    let bad = send(
        &rig.app,
        Method::POST,
        &edit,
        Some(&session),
        &form(&"x".repeat(41)),
    )
    .await;
    let back = send(&rig.app, Method::GET, &bad.location, Some(&session), "").await;
    assert!(
        back.body.contains(&format!("id=\"cr-{}-error\"", c.id)),
        "{}",
        back.body
    );
    assert_eq!(
        store.contact(c.id).await.unwrap().role.as_deref(),
        Some("billing")
    );
    send(&rig.app, Method::POST, &edit, Some(&session), &form("")).await;
    assert_eq!(store.contact(c.id).await.unwrap().role, None);
}

/// Staff set a contact's language on the contacts tab (the edit form and the add form);
/// the choice shows selected, and "their browser's language" clears it.
#[tokio::test]
async fn a_contacts_language_is_set_on_the_contacts_tab() {
    use portal_core::i18n::Language;
    let rig = rig().await;
    let session = sign_in(&rig.app, &rig.admin_key).await;
    let p = rig.seeded.portal.id;
    let store = rig.kit.service.store();
    let tab = format!("/console/portals/{p}?tab=contacts");
    let page = send(&rig.app, Method::GET, &tab, Some(&session), "").await;
    let c = &rig.seeded.contact;
    let edit = format!("/console/portals/{p}/contacts/{}/edit", c.id);
    let form = |language: &str| {
        format!(
            "csrf={}&name={}&email={}&role=&language={}",
            page.csrf(),
            enc(&c.name),
            enc(c.email.as_str()),
            enc(language)
        )
    };
    let saved = send(&rig.app, Method::POST, &edit, Some(&session), &form("es")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        store.contact(c.id).await.unwrap().language,
        Some(Language::Es)
    );
    let back = send(&rig.app, Method::GET, &saved.location, Some(&session), "").await;
    let select = back
        .body
        .split(&format!(r#"<select id="cl-{}" name="language""#, c.id))
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .unwrap_or_else(|| panic!("no language select for the contact: {}", back.body));
    assert!(
        select.contains(r#"<option value="es" selected>"#),
        "{select}"
    );
    assert!(
        !select.contains(r#"<option value="" selected>"#),
        "{select}"
    );
    // A code the API does not know is refused next to the field; nothing changes.
    let bad = send(&rig.app, Method::POST, &edit, Some(&session), &form("fr")).await;
    let back = send(&rig.app, Method::GET, &bad.location, Some(&session), "").await;
    assert!(
        back.body.contains(&format!("id=\"cl-{}-error\"", c.id)),
        "{}",
        back.body
    );
    assert_eq!(
        store.contact(c.id).await.unwrap().language,
        Some(Language::Es)
    );
    // "Their browser's language" clears it.
    send(&rig.app, Method::POST, &edit, Some(&session), &form("")).await;
    assert_eq!(store.contact(c.id).await.unwrap().language, None);

    // The add form: a new contact in Spanish.
    let added = send(
        &rig.app,
        Method::POST,
        &format!("/console/portals/{p}/contacts"),
        Some(&session),
        &format!(
            "csrf={}&name=Luc%C3%ADa+Ortega&email=lucia%40contoso.example&role=&language=es",
            page.csrf()
        ),
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let lucia = store
        .contacts(p)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.email.as_str() == "lucia@contoso.example")
        .expect("the contact is added");
    assert_eq!(lucia.language, Some(Language::Es));
}
