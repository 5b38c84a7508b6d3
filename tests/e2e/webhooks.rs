//! Signed webhooks end to end: the dispatcher and worker deliver over real HTTP to a
//! receiver on loopback written in Python (`tests/webhooks/receiver.py`), which
//! verifies every delivery with the `standardwebhooks` package from PyPI (an
//! independent implementation of the specification) and fails the first attempt of
//! every third webhook-id. Every event must arrive verified, retried ones included,
//! none accepted twice; after a secret rotation the receiver verifies with the new
//! secret alone. `PORTAL_TEST_PYTHON` names a Python with the package (CI's venv).

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use portal_core::memory::MemoryStore;
use portal_core::testkit::{self, TestService};
use portal_core::webhooks::service::{NewEndpoint, WebhookSettings, Webhooks};
use portal_core::webhooks::{DeliveryState, OutgoingWebhook, WebhookTransport, message_id};
use portal_http::HttpWebhookTransport;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A Python that can import standardwebhooks, or `None` after saying why the test is
/// skipped (outside CI only).
fn python() -> Option<String> {
    let python = std::env::var("PORTAL_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let found = Command::new(&python)
        .args(["-c", "import standardwebhooks"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(python);
    }
    let why = format!(
        "the webhook test needs a Python with standardwebhooks, and `{python}` has none \
         (python3 -m pip install standardwebhooks, or set PORTAL_TEST_PYTHON)"
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}; CI is set, so this fails"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
    None
}

struct Receiver {
    child: std::process::Child,
    port: u16,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    fn start(python: &str) -> Self {
        use std::io::BufRead as _;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/webhooks/receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().strip_prefix("PORT ").unwrap().parse().unwrap();
        Self { child, port }
    }

    /// One plain HTTP/1.0 exchange with the receiver's control routes.
    async fn call(&self, method: &str, path: &str, body: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let req = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out.split_once("\r\n\r\n").unwrap().1.to_owned()
    }

    async fn set_secret(&self, secret: &str) {
        self.call(
            "POST",
            "/secret",
            &serde_json::json!({ "secret": secret }).to_string(),
        )
        .await;
    }

    async fn log(&self) -> Value {
        serde_json::from_str(&self.call("GET", "/log", "").await).unwrap()
    }
}

#[tokio::test]
async fn every_delivery_arrives_verified_by_an_independent_receiver() {
    let Some(python) = python() else { return };
    let receiver = Receiver::start(&python);
    let store = Arc::new(MemoryStore::new());
    let kit = TestService::new(store.clone(), 7);
    // Receivers check the timestamp against their own clock (5 minutes' tolerance).
    kit.clock.set(Utc::now());
    let seeded = kit.seed_portal().await.unwrap();
    let admin = testkit::admin(seeded.tenant.id);
    let hooks = Webhooks::new(
        &kit.service,
        store,
        Arc::new(HttpWebhookTransport::new(true).unwrap()),
        WebhookSettings {
            allow_http: true,
            ..WebhookSettings::default()
        },
    );
    let (endpoint, secret) = hooks
        .create_endpoint(
            &admin,
            &NewEndpoint {
                url: format!("http://127.0.0.1:{}/hook", receiver.port),
                description: "the test receiver".into(),
                event_types: vec![],
            },
        )
        .await
        .unwrap();
    receiver.set_secret(&secret.expose_secret()).await;

    let rename = |n: usize| {
        let service = kit.service.clone();
        let admin = admin.clone();
        let portal = seeded.portal.id;
        async move {
            service
                .rename_portal(&admin, portal, &format!("Contoso {n}"))
                .await
                .unwrap();
        }
    };
    let deliver = || async {
        for _ in 0..6 {
            hooks.run_once().await.unwrap();
            // Past the first retry's 5 s (+20 % jitter), well within the tolerance.
            kit.clock.advance(TimeDelta::seconds(7));
        }
    };
    for n in 0..9 {
        rename(n).await;
    }
    deliver().await;

    // A rotation: the receiver knows only the new secret from now on.
    let (_, new_secret) = hooks.rotate_secret(&admin, endpoint.id).await.unwrap();
    receiver.set_secret(&new_secret.expose_secret()).await;
    for n in 9..15 {
        rename(n).await;
    }
    kit.service
        .set_target_date(
            &admin,
            seeded.portal.id,
            chrono::NaiveDate::from_ymd_opt(2027, 1, 4),
        )
        .await
        .unwrap();
    deliver().await;

    let log = receiver.log().await;
    let page = hooks
        .deliveries(&admin, endpoint.id, None, 100)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 16, "one delivery per feed entry");
    assert!(
        page.items
            .iter()
            .all(|d| d.state == DeliveryState::Delivered),
        "{:?}",
        page.items
    );
    let mut sent: Vec<String> = page.items.iter().map(|d| message_id(d.id)).collect();
    let mut accepted: Vec<String> = log["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    sent.sort();
    accepted.sort();
    assert_eq!(accepted, sent, "every delivery accepted, verified, once");
    assert_eq!(log["bad_signatures"], 0, "{log}");
    assert_eq!(log["duplicates"], 0, "{log}");
    let failed = log["failed_on_purpose"].as_array().unwrap().len();
    assert!(failed > 0, "some deliveries were retried: {log}");
    assert_eq!(log["attempts"], 16 + failed);
    let retried = page.items.iter().filter(|d| d.attempts == 2).count();
    assert_eq!(retried, failed);
    let types = log["types"].as_array().unwrap();
    assert_eq!(types.iter().filter(|t| *t == "portal.renamed").count(), 15);
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "portal.target_date_set")
            .count(),
        1
    );

    // The SSRF guard: a transport that does not allow private targets never
    // reaches the loopback receiver.
    let strict = HttpWebhookTransport::new(false).unwrap();
    let refused = strict
        .post(&OutgoingWebhook {
            url: format!("http://127.0.0.1:{}/hook", receiver.port),
            msg_id: "msg_x".into(),
            timestamp: Utc::now().timestamp(),
            signature: "v1,x".into(),
            body: "{}".into(),
        })
        .await;
    assert!(refused.is_err());
    assert_eq!(receiver.log().await["attempts"], log["attempts"]);
}
