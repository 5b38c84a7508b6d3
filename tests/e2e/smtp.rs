//! The SMTP mailer against a real SMTP server: `tests/smtp/server.py` (Python's
//! aiosmtpd), started by each test on 127.0.0.1 with a fresh port and folder, writes
//! every message it accepts, raw, into that folder; the test parses it back.
//!
//! Needs a Python with aiosmtpd: `PORTAL_TEST_PYTHON` names it (CI points it at a
//! venv), else `python3`. Without one a test prints why it is skipped and returns,
//! except when `CI` is set: then it fails, so CI never passes without running them.
//! The server-down tests need no Python.

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_core::mail::{Email, SmtpConfig, SmtpCredentials, SmtpMailer, SmtpSecurity};
use portal_core::memory::MemoryStore;
use portal_core::model::EmailAddress;
use portal_core::testkit::{TestLinks, TestService, code_from_email, magic_link_from_email};
use portal_core::{Error, LinkBuilder, Mailer};
use portal_tests::eml::{self, Eml};

const FROM: &str = "Northwind IT <onboarding@northwind.example>";

/// A Python that can import aiosmtpd, or `None` after saying why the test is skipped.
pub(crate) fn python() -> Option<String> {
    let python = std::env::var("PORTAL_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let found = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(python);
    }
    let why = format!(
        "the SMTP tests need a Python with aiosmtpd, and `{python}` has none \
         (python3 -m pip install aiosmtpd, or set PORTAL_TEST_PYTHON to such a python)"
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}; CI is set, so this fails"
    );
    // Straight to stderr, past libtest's capture of `eprintln!`: a skip must be seen.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
    None
}

/// A self-signed certificate for `localhost` and 127.0.0.1, written into `dir`.
pub(crate) struct Cert {
    pem: String,
    cert_file: PathBuf,
    key_file: PathBuf,
}

impl Cert {
    fn new(dir: &Path) -> Self {
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .unwrap();
        let pem = cert.pem();
        let cert_file = dir.join("cert.pem");
        let key_file = dir.join("key.pem");
        std::fs::write(&cert_file, &pem).unwrap();
        std::fs::write(&key_file, signing_key.serialize_pem()).unwrap();
        Self {
            pem,
            cert_file,
            key_file,
        }
    }
}

#[derive(Default)]
pub(crate) struct Mode<'a> {
    /// `starttls` or `tls` with its certificate; plain without.
    pub(crate) tls: Option<(&'a str, &'a Cert)>,
    /// `user:password` the server requires.
    pub(crate) auth: Option<&'a str>,
    /// The port to listen on (default: a free one).
    pub(crate) port: Option<u16>,
    /// How the first messages are answered instead of accepted: `451`, `550`, `drop`,
    /// `stall`, comma-separated (see `tests/smtp/server.py`).
    pub(crate) behave: Option<&'a str>,
}

/// A running `tests/smtp/server.py`; killed on drop.
pub(crate) struct SmtpServer {
    child: Child,
    pub(crate) port: u16,
    inbox: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    /// Starts the server, or `None` when the test is skipped (see [`python`]).
    pub(crate) fn start(mode: Mode<'_>) -> Option<Self> {
        let python = python()?;
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        std::fs::create_dir(&inbox).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/smtp/server.py");
        // The server's log (aiosmtpd prints refused handshakes as tracebacks) goes to a
        // file, shown when the server does not start.
        let log = dir.path().join("server.log");
        let mut cmd = Command::new(python);
        let port = mode.port.unwrap_or(0).to_string();
        cmd.arg(script)
            .args(["--port", &port, "--dir"])
            .arg(&inbox)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some((tls, cert)) = mode.tls {
            cmd.args(["--tls", tls, "--cert"])
                .arg(&cert.cert_file)
                .arg("--key")
                .arg(&cert.key_file);
        }
        if let Some(auth) = mode.auth {
            cmd.args(["--auth", auth]);
        }
        if let Some(behave) = mode.behave {
            cmd.args(["--behave", behave]);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let Some(port) = line.trim().strip_prefix("ready ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the SMTP test server did not print \"ready PORT\" within 30 s (it said {line:?}); its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        Some(Self {
            port: port.parse().unwrap(),
            child,
            inbox,
            _dir: dir,
        })
    }

    /// A config for this server: `localhost`, its port, the given security.
    pub(crate) fn config(&self, security: SmtpSecurity, cert: Option<&Cert>) -> SmtpConfig {
        let mut config = SmtpConfig::new("localhost", FROM);
        config.port = self.port;
        config.security = security;
        config.timeout = Duration::from_secs(10);
        config.extra_root_pem = cert.map(|c| c.pem.clone().into_bytes());
        config
    }

    /// Every message received so far, oldest first, raw bytes parsed.
    pub(crate) fn received(&self) -> Vec<Eml> {
        let mut files: Vec<_> = std::fs::read_dir(&self.inbox)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| eml::parse_str(f, &String::from_utf8(std::fs::read(f).unwrap()).unwrap()))
            .collect()
    }
}

fn email(text: &str) -> Email {
    Email {
        to: EmailAddress::parse("dana@contoso.example").unwrap(),
        to_name: Some("Dana Example".to_owned()),
        subject: "A test message".to_owned(),
        text: text.to_owned(),
        html: format!("<p>{text}</p>"),
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    }
}

/// What every message we send must carry, whatever the transport's security.
#[track_caller]
fn assert_well_formed(m: &Eml) {
    let content_type = m.header("Content-Type").unwrap_or_default();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let id = m.header("Message-ID").unwrap_or_default();
    assert!(
        id.starts_with('<') && id.ends_with("@northwind.example>"),
        "Message-ID {id:?}"
    );
    assert!(m.header("Date").is_some_and(|d| !d.is_empty()), "no Date");
    assert_eq!(m.header("Auto-Submitted"), Some("auto-generated"));
    assert!(
        m.header("From")
            .unwrap_or_default()
            .contains("onboarding@northwind.example")
    );
    assert!(m.html.is_some(), "no text/html part in\n{}", m.raw);
}

/// A meeting scheduled through the portal reaches the SMTP server as one message with
/// the text, the HTML and the `.ics` attachment (`METHOD:REQUEST`, the meeting's UID).
#[tokio::test]
async fn a_meeting_email_arrives_over_smtp_with_its_invite_attached() {
    let Some(server) = SmtpServer::start(Mode::default()) else {
        return;
    };
    let smtp = SmtpMailer::new(server.config(SmtpSecurity::None, None)).unwrap();
    let kit = TestService::builder(Arc::new(MemoryStore::new()))
        .forward_mail_to(Arc::new(smtp))
        .build();
    let seeded = kit.seed_portal().await.unwrap();
    let phase = kit
        .service
        .add_phase(&seeded.staff, seeded.portal.id, "Kick-off")
        .await
        .unwrap();
    let task = kit
        .service
        .add_task(
            &seeded.staff,
            seeded.portal.id,
            phase.id,
            portal_core::TaskSpec {
                title: "Kick-off call".to_owned(),
                description: "Meet the team.".to_owned(),
                assignee: portal_core::model::Side::Client,
                kind: portal_core::model::TaskKind::Meeting { schedule: None },
                due_date: None,
            },
        )
        .await
        .unwrap();
    kit.service
        .schedule_meeting(
            &seeded.staff,
            seeded.portal.id,
            task.id,
            portal_core::model::MeetingSchedule::new(
                "2026-12-03T20:00:00Z".parse().unwrap(),
                "UTC",
                45,
                Some("https://meet.example/j/42"),
                None,
            ),
        )
        .await
        .unwrap();

    let received = server.received();
    let meeting = received
        .iter()
        .find(|m| m.subject.starts_with("Meeting scheduled"))
        .unwrap_or_else(|| panic!("no meeting email among {} received", received.len()));
    let content_type = meeting.header("Content-Type").unwrap_or_default();
    assert!(
        content_type.starts_with("multipart/mixed"),
        "{content_type}"
    );
    assert!(meeting.text.contains("Kick-off call"), "{}", meeting.text);
    assert!(meeting.html.is_some(), "{}", meeting.raw);
    let ics = meeting
        .part("text/calendar")
        .unwrap_or_else(|| panic!("no text/calendar part in\n{}", meeting.raw));
    let unfolded = ics.replace("\r\n ", "").replace("\n ", "");
    assert!(unfolded.contains("METHOD:REQUEST"), "{ics}");
    assert!(
        unfolded.contains(&format!("UID:{}@msp-client-portal", task.id)),
        "{ics}"
    );
    assert!(unfolded.contains("DTSTART:20261203T200000Z"), "{ics}");
    assert!(
        meeting.raw.contains("filename=\"invite.ics\""),
        "{}",
        meeting.raw
    );
}

/// A client signs in through the portal; the verification email the SMTP server
/// received carries the same code and magic link the service issued, in both parts.
#[tokio::test]
async fn verification_email_arrives_over_smtp_with_its_link_and_code() {
    let Some(server) = SmtpServer::start(Mode::default()) else {
        return;
    };
    let smtp = SmtpMailer::new(server.config(SmtpSecurity::None, None)).unwrap();
    let kit = TestService::builder(Arc::new(MemoryStore::new()))
        .forward_mail_to(Arc::new(smtp))
        .build();
    let seeded = kit.seed_portal().await.unwrap();
    kit.sign_in(&seeded.contact).await.unwrap();
    let issued = kit.last_email_to(&seeded.contact).unwrap();

    let received = server.received();
    assert_eq!(received.len(), 2, "the invite and the verification email");
    let invite = &received[0];
    assert!(invite.subject.contains("invited you"), "{}", invite.subject);
    let verification = &received[1];
    assert_eq!(verification.subject, issued.subject);
    assert!(verification.to.contains(seeded.contact.email.as_str()));
    for m in &received {
        assert_well_formed(m);
    }
    assert_ne!(
        invite.header("Message-ID"),
        verification.header("Message-ID")
    );

    let code = code_from_email(&issued.text).unwrap();
    assert_eq!(code_from_email(&verification.text).as_deref(), Some(&*code));
    let token = magic_link_from_email(&issued.text).unwrap();
    let received_token = magic_link_from_email(&verification.text).unwrap();
    assert_eq!(received_token.expose_secret(), token.expose_secret());
    let html = verification.html.as_deref().unwrap();
    assert!(
        html.contains(&TestLinks::default().magic_link_url(
            &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
            &token
        )),
        "{html}"
    );
    assert!(html.contains(&code), "{html}");
}

/// STARTTLS against a server with a self-signed certificate: delivered when its root
/// is trusted, refused (a TLS failure, nothing delivered) when it is not.
#[tokio::test]
async fn starttls_delivers_and_checks_the_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let cert = Cert::new(certs.path());
    let Some(server) = SmtpServer::start(Mode {
        tls: Some(("starttls", &cert)),
        ..Mode::default()
    }) else {
        return;
    };
    let untrusting = SmtpMailer::new(server.config(SmtpSecurity::StartTls, None)).unwrap();
    match untrusting
        .send(
            &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
            &email("untrusted"),
        )
        .await
    {
        Err(Error::Mail { message }) => {
            // rustls's verdict, through lettre's connection error.
            assert!(message.starts_with("transient:"), "{message}");
            assert!(message.contains("invalid peer certificate"), "{message}");
        }
        other => panic!("expected a TLS failure, got {other:?}"),
    }
    assert!(server.received().is_empty());

    let smtp = SmtpMailer::new(server.config(SmtpSecurity::StartTls, Some(&cert))).unwrap();
    smtp.send(
        &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
        &email("over STARTTLS"),
    )
    .await
    .unwrap();
    smtp.send(
        &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
        &email("again, on the pooled connection"),
    )
    .await
    .unwrap();
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_well_formed(&received[0]);
    assert_eq!(received[0].text.trim(), "over STARTTLS");
    assert_eq!(received[1].text.trim(), "again, on the pooled connection");
}

/// A plain connection to a server that requires STARTTLS sends nothing.
#[tokio::test]
async fn plain_smtp_to_a_starttls_only_server_is_refused() {
    let certs = tempfile::tempdir().unwrap();
    let cert = Cert::new(certs.path());
    let Some(server) = SmtpServer::start(Mode {
        tls: Some(("starttls", &cert)),
        ..Mode::default()
    }) else {
        return;
    };
    let plain = SmtpMailer::new(server.config(SmtpSecurity::None, None)).unwrap();
    match plain
        .send(
            &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
            &email("in clear"),
        )
        .await
    {
        Err(Error::Mail { message }) => {
            assert!(message.starts_with("permanent:"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(server.received().is_empty());
}

/// Implicit TLS (TLS from the first byte, port 465 style).
#[tokio::test]
async fn implicit_tls_delivers() {
    let certs = tempfile::tempdir().unwrap();
    let cert = Cert::new(certs.path());
    let Some(server) = SmtpServer::start(Mode {
        tls: Some(("tls", &cert)),
        ..Mode::default()
    }) else {
        return;
    };
    let smtp = SmtpMailer::new(server.config(SmtpSecurity::Tls, Some(&cert))).unwrap();
    smtp.send(
        &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
        &email("over implicit TLS"),
    )
    .await
    .unwrap();
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_well_formed(&received[0]);
    assert_eq!(received[0].text.trim(), "over implicit TLS");
}

/// AUTH over STARTTLS: the right password delivers; a wrong one is a permanent
/// `Error::Mail` that says authentication failed, and delivers nothing.
#[tokio::test]
async fn auth_with_the_right_password_delivers_and_a_wrong_one_is_refused() {
    let certs = tempfile::tempdir().unwrap();
    let cert = Cert::new(certs.path());
    let Some(server) = SmtpServer::start(Mode {
        tls: Some(("starttls", &cert)),
        auth: Some("portal:correct horse"),
        ..Mode::default()
    }) else {
        return;
    };
    let mut wrong = server.config(SmtpSecurity::StartTls, Some(&cert));
    wrong.credentials = Some(SmtpCredentials::new("portal", "battery staple"));
    let wrong = SmtpMailer::new(wrong).unwrap();
    match wrong
        .send(
            &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
            &email("with the wrong password"),
        )
        .await
    {
        Err(Error::Mail { message }) => {
            assert!(
                message.starts_with("permanent: authentication failed"),
                "{message}"
            );
            assert!(!message.contains("battery staple"), "{message}");
        }
        other => panic!("expected an authentication failure, got {other:?}"),
    }
    assert!(server.received().is_empty());

    let none = SmtpMailer::new(server.config(SmtpSecurity::StartTls, Some(&cert))).unwrap();
    match none
        .send(
            &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
            &email("without credentials"),
        )
        .await
    {
        Err(Error::Mail { message }) => {
            assert!(
                message.starts_with("permanent: authentication failed"),
                "{message}"
            );
        }
        other => panic!("expected an authentication failure, got {other:?}"),
    }

    let mut right = server.config(SmtpSecurity::StartTls, Some(&cert));
    right.credentials = Some(SmtpCredentials::new("portal", "correct horse"));
    let right = SmtpMailer::new(right).unwrap();
    right
        .send(
            &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
            &email("with the right password"),
        )
        .await
        .unwrap();
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_well_formed(&received[0]);
    assert_eq!(received[0].text.trim(), "with the right password");
}

/// Nothing listens: a transient `Error::Mail` at once.
#[tokio::test]
async fn a_server_that_is_down_fails_fast() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = SmtpConfig::new("127.0.0.1", FROM);
    config.port = port;
    config.security = SmtpSecurity::None;
    config.timeout = Duration::from_secs(2);
    let smtp = SmtpMailer::new(config).unwrap();
    let started = Instant::now();
    match smtp
        .send(
            &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
            &email("to nobody"),
        )
        .await
    {
        Err(Error::Mail { message }) => {
            assert!(message.starts_with("transient:"), "{message}");
            assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        }
        other => panic!("expected a mail failure, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// A server that accepts the connection and never answers: the send gives up after
/// the configured timeout instead of hanging the request that triggered it.
#[tokio::test]
async fn a_stalled_server_is_given_up_after_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut config = SmtpConfig::new("127.0.0.1", FROM);
    config.port = port;
    config.security = SmtpSecurity::None;
    config.timeout = Duration::from_millis(500);
    let smtp = SmtpMailer::new(config).unwrap();
    let started = Instant::now();
    match smtp
        .send(
            &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
            &email("into the void"),
        )
        .await
    {
        Err(Error::Mail { message }) => {
            assert!(message.starts_with("transient:"), "{message}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    hold.abort();
}
