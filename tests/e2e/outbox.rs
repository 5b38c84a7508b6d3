//! The email outbox against a real SMTP server (`tests/smtp/server.py`, see
//! `smtp.rs`): a server that defers, stalls and drops the connection gets the email
//! once after the retries; a 5xx is permanent and listed for the MSP; and a process
//! killed while the server is down delivers its email exactly once after a restart.
//!
//! The retry tests drive the sender by hand (`deliver_outbox`) with a manual clock. The
//! kill test runs this binary's ignored `outbox_child` as a child process on a SQLite
//! database, with the real clock and the background sender.

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use portal_core::mail::{SmtpConfig, SmtpMailer, SmtpSecurity};
use portal_core::memory::MemoryStore;
use portal_core::outbox::{MailKind, OutboxPolicy};
use portal_core::secret::{InviteToken, ServerSecret};
use portal_core::service::{DeliveryReport, MailDelivery, spawn_outbox_sender};
use portal_core::testkit::{PortalSeed, TestLinks, TestService, invite_from_email, seed_portal};
use portal_core::{OsRandom, PortalService, Store};
use portal_storage_sqlite::SqliteStore;

use crate::smtp::{Mode, SmtpServer};

/// A service whose emails go through `server` by SMTP and wait for `deliver_outbox`.
fn kit_for(server: &SmtpServer, timeout: Duration) -> TestService {
    let mut config = server.config(SmtpSecurity::None, None);
    config.timeout = timeout;
    TestService::builder(Arc::new(MemoryStore::new()))
        .mail_delivery(MailDelivery::Background)
        .forward_mail_to(Arc::new(SmtpMailer::new(config).unwrap()))
        .build()
}

fn report(sent: u32, retrying: u32, failed: u32) -> DeliveryReport {
    DeliveryReport {
        sent,
        retrying,
        failed,
        lost_claims: 0,
    }
}

/// A deferral (451), a server that never answers (the mailer's timeout) and a
/// connection dropped after the message's data: each attempt fails transiently and is
/// retried after its backoff; the fourth is accepted, and the server has the invite
/// exactly once, with the link the service issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_stalled_and_dropped_sends_are_retried_and_arrive_once() {
    let Some(server) = SmtpServer::start(Mode {
        behave: Some("451,stall,drop"),
        ..Mode::default()
    }) else {
        return;
    };
    let kit = kit_for(&server, Duration::from_secs(1));
    let seeded = kit.seed_portal().await.unwrap();
    let token = kit
        .service
        .invite_contact(&seeded.staff, seeded.contact.id)
        .await
        .unwrap();
    let policy = *kit.service.outbox_policy();
    let started = Instant::now();
    let mut failed_attempts = 0;
    for attempt in 1.. {
        assert!(
            attempt <= 8,
            "not delivered after {failed_attempts} failed attempts"
        );
        let pass = kit.service.deliver_outbox().await.unwrap();
        if pass == report(1, 0, 0) {
            break;
        }
        assert_eq!(
            pass,
            report(0, 1, 0),
            "attempt {attempt} fails and is retried"
        );
        failed_attempts += 1;
        assert!(server.received().is_empty());
        // Not before its backoff...
        assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 0));
        // ...and at the latest when the whole backoff has passed.
        kit.clock
            .advance((policy.first_retry * (1 << (attempt - 1).min(10))).min(policy.max_retry));
    }
    assert!(
        failed_attempts >= 3,
        "the deferral, the stall and the drop each failed an attempt ({failed_attempts})"
    );
    kit.clock.advance(TimeDelta::hours(3));
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 0));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let _ = writeln!(
        std::io::stderr(),
        "outbox retry test: delivered after {failed_attempts} failed attempts, {:?}",
        started.elapsed()
    );
    let received = server.received();
    assert_eq!(received.len(), 1, "delivered exactly once");
    assert!(received[0].subject.contains("invited you"));
    assert_eq!(invite_from_email(&received[0].text), Some(token));
    assert!(
        kit.service
            .failed_mail(&seeded.staff, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A 5xx is permanent: no retry, nothing delivered, and the MSP's list of failed
/// emails names the recipient and the server's reply.
#[tokio::test]
async fn a_5xx_is_permanent_and_listed_for_the_msp() {
    let Some(server) = SmtpServer::start(Mode {
        behave: Some("550"),
        ..Mode::default()
    }) else {
        return;
    };
    let kit = kit_for(&server, Duration::from_secs(5));
    let seeded = kit.seed_portal().await.unwrap();
    kit.service
        .invite_contact(&seeded.staff, seeded.contact.id)
        .await
        .unwrap();
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 1));
    kit.clock.advance(TimeDelta::days(1));
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 0));
    assert!(server.received().is_empty(), "never retried");
    let failed = kit.service.failed_mail(&seeded.staff, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].kind, MailKind::Invite);
    assert_eq!(failed[0].email.to, seeded.contact.email);
    let error = failed[0].last_error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("permanent:") && error.contains("550"),
        "{error}"
    );
}

// ----- killed between the action and the send ---------------------------------------

const CHILD_DB: &str = "PORTAL_OUTBOX_CHILD_DB";
const CHILD_PORT: &str = "PORTAL_OUTBOX_CHILD_PORT";
const CHILD_OUT: &str = "PORTAL_OUTBOX_CHILD_OUT";

/// Fast retries and short leases, so the kill test runs in seconds of real time.
fn quick() -> OutboxPolicy {
    OutboxPolicy {
        first_retry: TimeDelta::milliseconds(200),
        max_retry: TimeDelta::seconds(1),
        lease: TimeDelta::seconds(3),
        poll: TimeDelta::milliseconds(100),
        ..OutboxPolicy::default()
    }
}

/// The child of [`an_email_of_a_killed_process_arrives_once_after_a_restart`]: a host
/// process on a SQLite database with an SMTP mailer and the background sender. With
/// `PORTAL_OUTBOX_CHILD_OUT` set, it first seeds a portal, invites its contact and
/// writes the invite token to that file; then it runs until it is killed. Does nothing
/// when run by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "started by an_email_of_a_killed_process_arrives_once_after_a_restart"]
async fn outbox_child() {
    let (Ok(db), Ok(port)) = (std::env::var(CHILD_DB), std::env::var(CHILD_PORT)) else {
        return;
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(db).await.unwrap());
    let mut config = SmtpConfig::new("127.0.0.1", "Northwind IT <onboarding@northwind.example>");
    config.port = port.parse().unwrap();
    config.security = SmtpSecurity::None;
    config.timeout = Duration::from_secs(2);
    let service = PortalService::builder(
        store,
        Arc::new(SmtpMailer::new(config).unwrap()),
        Arc::new(TestLinks::default()),
        ServerSecret::generate(&OsRandom),
    )
    .outbox(quick())
    .build();
    let _sender = spawn_outbox_sender(service.clone());
    if let Ok(out) = std::env::var(CHILD_OUT) {
        let seeded = seed_portal(&service, &PortalSeed::default()).await.unwrap();
        let token = service
            .invite_contact(&seeded.staff, seeded.contact.id)
            .await
            .unwrap();
        let mut f = std::fs::File::create(format!("{out}.part")).unwrap();
        writeln!(f, "{}", token.expose_secret()).unwrap();
        f.sync_all().unwrap();
        std::fs::rename(format!("{out}.part"), &out).unwrap();
    }
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

/// Kills the child if the test fails before it does.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn child(db: &Path, port: u16, out: Option<&Path>) -> KillOnDrop {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "outbox::outbox_child",
        "--exact",
        "--ignored",
        "--nocapture",
    ])
    .env(CHILD_DB, db)
    .env(CHILD_PORT, port.to_string())
    .env_remove(CHILD_OUT);
    if let Some(out) = out {
        cmd.env(CHILD_OUT, out);
    }
    KillOnDrop(cmd.spawn().unwrap())
}

/// The outbox row of the (only) email, read straight from the database file:
/// (state, attempts, last error).
fn outbox_row(db: &Path) -> Option<(String, i64, Option<String>)> {
    let conn = rusqlite::Connection::open(db).ok()?;
    conn.query_row("SELECT state, attempts, last_error FROM outbox", [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .ok()
}

fn wait_for<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A host process invites a contact while the SMTP server is down: the invite and its
/// email commit together, the sender's attempts fail (connection refused), and the
/// process is killed (SIGKILL). Restarted on the same database with the server up, its
/// sender delivers the email, and the server has it exactly once, with the link the
/// first process issued.
#[test]
fn an_email_of_a_killed_process_arrives_once_after_a_restart() {
    if crate::smtp::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("portal.db");
    let out = dir.path().join("invite-token");
    // A port where nothing listens yet: the SMTP server is down.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };

    let started = Instant::now();
    let mut first = child(&db, port, Some(&out));
    let token = wait_for("the invite", Duration::from_secs(60), || {
        std::fs::read_to_string(&out).ok()
    });
    let token = InviteToken::parse(token.trim()).unwrap();
    let (state, attempts, error) =
        wait_for("a failed send attempt", Duration::from_secs(30), || {
            outbox_row(&db).filter(|(_, attempts, error)| *attempts >= 2 && error.is_some())
        });
    assert_eq!(state, "pending", "still waiting after {attempts} attempts");
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.starts_with("transient:")),
        "{error:?}"
    );
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let killed_after = started.elapsed();

    let Some(server) = SmtpServer::start(Mode {
        port: Some(port),
        ..Mode::default()
    }) else {
        return;
    };
    let _second = child(&db, port, None);
    let received = wait_for("the email", Duration::from_secs(60), || {
        let r = server.received();
        (!r.is_empty()).then_some(r)
    });
    let delivered_after = started.elapsed();
    // Long enough for several more passes and a whole lease: nothing comes twice.
    std::thread::sleep(Duration::from_secs(4));
    let received_later = server.received();
    assert_eq!(received_later.len(), 1, "exactly once");
    assert_eq!(received.len(), 1);
    assert!(received[0].subject.contains("invited you"));
    assert_eq!(invite_from_email(&received[0].text), Some(token));
    let (state, _, _) = outbox_row(&db).unwrap();
    assert_eq!(state, "sent");
    let _ = writeln!(
        std::io::stderr(),
        "outbox kill test: killed after {killed_after:?}, delivered after {delivered_after:?}"
    );
}
