//! The connection level: sockets that never speak, speak only the HTTP/2 preface or
//! trickle a body are closed after their deadlines; a cap on open connections keeps the
//! process under its open-file limit while clients are still served; and HSTS, the one
//! header that belongs to the transport.
//!
//! These tests build their own server (like `errors.rs`) because they tune deadlines the
//! shared harness leaves at their defaults. Deadlines are 300 ms; the bounds the tests
//! allow are ten times that, for a busy machine.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_core::memory::MemoryStore;
use portal_core::testkit::TestService;
use portal_http::{HttpConfig, PortalApp};
use portal_tests::{Browser, seed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The deadlines the tests configure.
const SHORT: Duration = Duration::from_millis(300);
/// How long a test waits for the server to act on a [`SHORT`] deadline.
const WITHIN: Duration = Duration::from_secs(3);
/// The HTTP/2 client connection preface.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A portal served on loopback with a tuned configuration.
struct Server {
    addr: SocketAddr,
    invite_path: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    async fn start(tune: impl FnOnce(&mut HttpConfig)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = HttpConfig {
            public_base_url: format!("http://{addr}"),
            ..HttpConfig::default()
        };
        tune(&mut config);
        let service = TestService::builder(Arc::new(MemoryStore::new()))
            .seed(42)
            .links(Arc::new(config.links()))
            .secret_from_seed()
            .build()
            .service;
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
            addr,
            invite_path: format!("/i/{}", invite.expose_secret()),
            _shutdown: tx,
        }
    }
}

/// Whether the server closes `stream` (EOF or reset) within `within`, whatever it sends
/// first.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_first_byte_timeout() {
    let s = Server::start(|c| c.first_byte_timeout = SHORT).await;
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    // Part of the HTTP/2 preface: the server cannot tell the protocol yet and must not
    // wait for the rest forever either.
    let mut partial = TcpStream::connect(s.addr).await.unwrap();
    partial.write_all(&H2_PREFACE[..9]).await.unwrap();
    let start = Instant::now();
    assert!(
        closed_by_server(&mut silent, WITHIN).await,
        "silent socket still open"
    );
    assert!(
        start.elapsed() >= SHORT - Duration::from_millis(50),
        "closed before the deadline: {:?}",
        start.elapsed()
    );
    assert!(
        closed_by_server(&mut partial, WITHIN).await,
        "socket with a partial preface still open"
    );
}

#[tokio::test]
async fn a_socket_that_sends_only_the_http2_preface_is_closed() {
    let s = Server::start(|c| {
        c.first_byte_timeout = SHORT;
        c.idle_timeout = SHORT;
    })
    .await;
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    stream.write_all(H2_PREFACE).await.unwrap();
    assert!(
        closed_by_server(&mut stream, WITHIN).await,
        "preface-only HTTP/2 connection still open"
    );
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_the_idle_timeout() {
    use http_body_util::Empty;
    use hyper::client::conn::http2;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let s = Server::start(|c| c.idle_timeout = SHORT).await;
    let stream = TcpStream::connect(s.addr).await.unwrap();
    let (mut sender, conn) =
        http2::handshake::<_, _, Empty<bytes::Bytes>>(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let req = http::Request::get(format!("http://{}{}", s.addr, s.invite_path))
        .body(Empty::new())
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    drop(res);
    // The client answers PINGs (its connection task runs), yet sends no request: the
    // server ends the connection.
    let ended = tokio::time::timeout(WITHIN, conn).await;
    assert!(ended.is_ok(), "idle HTTP/2 connection still open");
}

#[tokio::test]
async fn a_body_trickled_in_is_cut_off_at_the_body_timeout() {
    let s = Server::start(|c| c.body_timeout = SHORT).await;
    let stream = TcpStream::connect(s.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n",
        s.invite_path, s.addr
    );
    write.write_all(head.as_bytes()).await.unwrap();
    // One byte every 200 ms: the whole body would take 20 s.
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if write.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let answered = tokio::time::timeout(WITHIN, async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    trickle.abort();
    assert!(
        answered.is_ok(),
        "connection still open {:?} after the body started trickling",
        start.elapsed()
    );
    let text = String::from_utf8_lossy(&got);
    // The request fails with 408 (its handler saw the body cut off for being too
    // slow) and the connection ends.
    assert!(
        text.starts_with("HTTP/1.1 408"),
        "unexpected answer: {text}"
    );
}

#[tokio::test]
async fn beyond_the_connection_cap_new_sockets_wait_and_silent_ones_are_reaped() {
    let s = Server::start(|c| {
        c.max_connections = 20;
        c.first_byte_timeout = SHORT;
    })
    .await;
    let mut silent = Vec::new();
    for _ in 0..40 {
        // The kernel completes the handshake; the server accepts only 20 at a time.
        silent.push(TcpStream::connect(s.addr).await.unwrap());
    }
    let start = Instant::now();
    let page = tokio::time::timeout(
        Duration::from_secs(2),
        Browser::new(s.addr).get(&s.invite_path),
    )
    .await
    .expect("a normal client was not served within 2 s");
    assert_eq!(page.status, 200);
    // Served only after two waves of 20 silent sockets were reaped at the 300 ms
    // deadline: the cap held, and nothing spun on accept errors meanwhile.
    assert!(
        start.elapsed() >= Duration::from_millis(450),
        "served after {:?}: the cap of 20 did not hold",
        start.elapsed()
    );
    for (i, stream) in silent.iter_mut().enumerate() {
        assert!(
            closed_by_server(stream, WITHIN).await,
            "silent socket {i} still open"
        );
    }
}

/// Set in the child process of
/// [`under_an_open_file_limit_of_256_silent_sockets_do_not_lock_clients_out`].
const CHILD_ENV: &str = "PORTAL_E2E_CONNECTIONS_CHILD";

/// Not a test of its own: the server that
/// [`under_an_open_file_limit_of_256_silent_sockets_do_not_lock_clients_out`] runs in a
/// child process under `ulimit -n 256`. Prints `ADDR <addr> <invite path>`, logs to
/// stderr, and serves until its stdin closes (at most 30 s).
#[test]
#[ignore = "run by under_an_open_file_limit_of_256_silent_sockets_do_not_lock_clients_out"]
fn open_file_limit_child_server() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .try_init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = Server::start(|c| {
            c.max_connections = 200;
            c.first_byte_timeout = SHORT;
        })
        .await;
        println!("ADDR {} {}", s.addr, s.invite_path);
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
        });
        let _ = tokio::time::timeout(Duration::from_secs(30), stdin_closed).await;
    });
}

#[tokio::test]
async fn under_an_open_file_limit_of_256_silent_sockets_do_not_lock_clients_out() {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -n 256 && exec "$0" "$@""#)
        .arg(exe)
        .args([
            "connections::open_file_limit_child_server",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Should the test fail early, dropping `child` closes its stdin and it exits.
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            // libtest prints the test's name on the same line first.
            .find_map(|l| l.split_once("ADDR ").map(|(_, rest)| rest.to_owned()))
    })
    .await
    .unwrap()
    .expect("the child server printed no address");
    let mut words = line.split(' ');
    let addr: SocketAddr = words.next().unwrap().parse().unwrap();
    let invite_path = words.next().unwrap().to_owned();

    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    let start = Instant::now();
    let page =
        tokio::time::timeout(Duration::from_secs(1), Browser::new(addr).get(&invite_path)).await;
    let elapsed = start.elapsed();
    drop(silent);
    drop(child.stdin.take());
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    let page = page.unwrap_or_else(|_| panic!("no page within 1 s; child log:\n{log}"));
    assert_eq!(page.status, 200, "after {elapsed:?}");
    assert!(
        !log.contains("accept failed"),
        "the server ran out of file descriptors:\n{log}"
    );
}

#[tokio::test]
async fn hsts_is_sent_on_every_response_when_cookies_are_secure() {
    let s = Server::start(|c| c.hsts_max_age = Duration::from_secs(600)).await;
    let b = Browser::new(s.addr);
    for path in [s.invite_path.as_str(), "/", "/nope", "/assets/portal.css"] {
        let page = b.get(path).await;
        assert_eq!(
            page.header("strict-transport-security"),
            "max-age=600; includeSubDomains",
            "{path}"
        );
    }
    let default = Server::start(|_| {}).await;
    let page = Browser::new(default.addr).get("/").await;
    assert_eq!(
        page.header("strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
}

#[tokio::test]
async fn no_hsts_on_the_plain_http_demo() {
    let s = Server::start(|c| c.secure_cookies = false).await;
    let b = Browser::new(s.addr);
    for path in [s.invite_path.as_str(), "/"] {
        let page = b.get(path).await;
        assert!(
            page.headers.get("strict-transport-security").is_none(),
            "{path}"
        );
    }
}

/// A host that calls `PortalApp::handle` from its own server gets HSTS too.
#[tokio::test]
async fn hsts_comes_from_the_app_not_only_from_serve() {
    let service = TestService::builder(Arc::new(MemoryStore::new()))
        .seed(7)
        .build()
        .service;
    let app = PortalApp::new(service, HttpConfig::default());
    let request = http::Request::get("/assets/portal.css")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let response = app.handle(request, "127.0.0.1:9".parse().unwrap()).await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}
