//! The HTTP host itself: HTTP/2 next to HTTP/1.1, and slow clients cut off.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use portal_tests::{Harness, Options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn serves_http2_with_prior_knowledge() {
    let h = Harness::start(Options::memory()).await;
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Empty<Bytes>>();
    let res = client
        .get(
            format!("http://{}{}", h.addr, h.invite_path())
                .parse()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("Send verification email"));
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let opts = Options {
        header_read_timeout: Some(Duration::from_millis(300)),
        ..Options::memory()
    };
    let h = Harness::start(opts).await;
    let mut stream = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let mut buf = Vec::new();
    // The server answers 408 or just closes; either way the read ends well before 5 s.
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "connection still open after the header-read timeout"
    );
}

/// The host's own routes, as `serve_with_fallback` hands them every path the app
/// does not own.
struct HostRoutes;

#[async_trait::async_trait]
impl portal_http::HostPages for HostRoutes {
    async fn handle(
        &self,
        request: http::Request<Bytes>,
        _: std::net::SocketAddr,
    ) -> http::Response<portal_http::Body> {
        let text = format!(
            "host route {} {} ({} bytes)",
            request.method(),
            request.uri().path(),
            request.body().len()
        );
        portal_http::Reply::text(http::StatusCode::OK, &text).finish("default-src 'none'")
    }
}

/// `serve_with_fallback`: the portal (mounted under `/portal`) answers its own paths,
/// every other path goes to the host's routes, over HTTP/1.1 and HTTP/2, with the
/// server's protections kept for them: a larger body than the limit is 413 before
/// the host sees it, and a client that never finishes its headers is cut off.
#[tokio::test]
async fn the_hosts_own_routes_are_served_next_to_the_portal() {
    let opts = Options {
        header_read_timeout: Some(Duration::from_millis(300)),
        tune: Some(|c| c.mount_prefix = "/portal".to_owned()),
        fallback: Some(std::sync::Arc::new(HostRoutes)),
        ..Options::memory()
    };
    let h = Harness::start(opts).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<http_body_util::Full<Bytes>>();
    let get = |path: &str| {
        let uri: http::Uri = format!("http://{}{path}", h.addr).parse().unwrap();
        client.get(uri)
    };
    let res = get("/status").await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"host route GET /status (0 bytes)");
    let res = get(&format!("/portal{}", h.invite_path())).await.unwrap();
    assert_eq!(res.status(), 200, "the portal keeps its own paths");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("Send verification email"));
    let res = get("/portals").await.unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        &body[..],
        b"host route GET /portals (0 bytes)",
        "a path sharing only the prefix's letters is the host's"
    );
    // HTTP/2 too.
    let h2 = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Empty<Bytes>>();
    let res = h2
        .get(format!("http://{}/h2", h.addr).parse().unwrap())
        .await
        .unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"host route GET /h2 (0 bytes)");
    // The body limit holds for the host's routes.
    let post = |len: usize| {
        let req = http::Request::post(format!("http://{}/upload", h.addr))
            .body(http_body_util::Full::new(Bytes::from(vec![b'x'; len])))
            .unwrap();
        client.request(req)
    };
    assert_eq!(post(10).await.unwrap().status(), 200);
    assert_eq!(post(64 * 1024 + 1).await.unwrap().status(), 413);
    // And so does the header-read deadline.
    let mut stream = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    stream
        .write_all(b"GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "a slow client of the host's routes is cut off too"
    );
}
