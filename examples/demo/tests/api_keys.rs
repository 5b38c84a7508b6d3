//! The demo's admin API keys through the real binary: the first start prints an admin
//! key that the API accepts, the key file keeps only its hash, `api-key create` prints a
//! member key that works while the server runs and is refused an admin action, and a
//! restart prints no key (the file keeps the ones made).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::Method;
use portal_tests::Browser;

const DEMO: &str = env!("CARGO_BIN_EXE_portal-demo");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the demo and waits for its invite link; returns the server and its output.
fn start(data: &Path, port: u16, log: &Path) -> (Server, String) {
    let out = std::fs::File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    let child = Command::new(DEMO)
        .args(["--data-dir", &data.display().to_string()])
        .args(["--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("/i/") && text.contains("Uploaded files") {
            return (server, text);
        }
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!("the demo exited during startup ({status}):\n{text}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no start within 60 s:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn key_in(text: &str) -> Option<String> {
    let i = text.find("pk_")?;
    Some(text[i..i + 67].to_owned())
}

async fn call(b: &Browser, method: Method, path: &str, key: &str, body: &str) -> (u16, String) {
    let auth = format!("Bearer {key}");
    let ct = (!body.is_empty()).then_some("application/json");
    let page = b
        .send_with(
            method,
            path,
            ct,
            &[("authorization", &auth), ("if-match", "*")],
            body.as_bytes().to_vec(),
        )
        .await;
    (page.status.as_u16(), page.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_printed_once_hashed_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let (server, text) = start(&data, port, &tmp.path().join("demo-1.log"));
    let admin = key_in(&text).unwrap_or_else(|| panic!("no API key printed:\n{text}"));
    let stored = std::fs::read_to_string(data.join("api-keys")).unwrap();
    assert!(
        !stored.contains(&admin[3..]),
        "the key file keeps only a hash"
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let b = Browser::new(addr);
    let (status, me) = call(&b, Method::GET, "/api/v1/me", &admin, "").await;
    assert_eq!(status, 200, "{me}");
    assert!(me.contains("\"role\":\"admin\""), "{me}");
    let (status, _) = call(&b, Method::GET, "/api/v1/me", &format!("{admin}0"), "").await;
    assert_eq!(status, 401);
    // A member key, made while the server runs.
    let made = Command::new(DEMO)
        .args([
            "api-key", "create", "--role", "member", "--name", "PSA sync",
        ])
        .args(["--data-dir", &data.display().to_string()])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let member = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    assert!(member.starts_with("pk_") && member.len() == 67, "{member}");
    let (status, me) = call(&b, Method::GET, "/api/v1/me", &member, "").await;
    assert_eq!(status, 200, "{me}");
    assert!(
        me.contains("\"name\":\"PSA sync\"") && me.contains("\"role\":\"member\""),
        "{me}"
    );
    let (status, body) = call(
        &b,
        Method::PUT,
        "/api/v1/tenant/branding",
        &member,
        r##"{"company_name":"X","accent_color":"#000000"}"##,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    drop(server);
    // A restart prints no new key; the old ones still work.
    let (_server, text) = start(&data, port, &tmp.path().join("demo-2.log"));
    assert!(key_in(&text).is_none(), "a restart prints no key:\n{text}");
    let (status, _) = call(&b, Method::GET, "/api/v1/portals", &admin, "").await;
    assert_eq!(status, 200);
}
