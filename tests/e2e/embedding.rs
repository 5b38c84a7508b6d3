//! The portal as a service inside a host's own server or router (`AppService`, as a
//! tower `Service`), with the client's address from a `ClientAddr` extension.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use portal_http::{AppService, ClientAddr, PortalApp};
use portal_tests::{Harness, Options};
use tower_service::Service;

struct Answer {
    status: StatusCode,
    cookies: Vec<String>,
    body: String,
}

async fn call(svc: &mut AppService, req: Request<Full<Bytes>>) -> Answer {
    let response = svc.call(req).await.unwrap();
    let status = response.status();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        cookies,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Opens the invite page and posts it (which emails a code) from `addr`.
async fn start_verification(svc: &mut AppService, path: &str, addr: SocketAddr) -> StatusCode {
    let get = Request::get(path)
        .extension(ClientAddr(addr))
        .body(Full::default())
        .unwrap();
    let page = call(svc, get).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let marker = "name=\"csrf\" value=\"";
    let at = page.body.find(marker).unwrap() + marker.len();
    let token = page.body[at..].split('"').next().unwrap().to_owned();
    let cookie = page
        .cookies
        .iter()
        .map(|c| c.split(';').next().unwrap())
        .collect::<Vec<_>>()
        .join("; ");
    let post = Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .extension(ClientAddr(addr))
        .body(Full::new(Bytes::from(format!("csrf={token}"))))
        .unwrap();
    call(svc, post).await.status
}

/// Behind a router, the per-network limits count the address the host put in the
/// request: one network at its limit is refused, another is not. (Without the
/// extension, every request would count against one shared network.)
#[tokio::test]
async fn the_tower_service_answers_and_counts_the_client_addr_it_is_given() {
    let h = Harness::start(Options {
        tune: Some(|c| c.verification_starts_per_ip_per_hour = 1),
        ..Options::memory()
    })
    .await;
    let app = PortalApp::try_new(h.service.clone(), h.config.clone()).unwrap();
    let mut svc = AppService::new(Arc::new(app));
    std::future::poll_fn(|cx| Service::<Request<Full<Bytes>>>::poll_ready(&mut svc, cx))
        .await
        .unwrap();
    let path = h.invite_path();
    let office: SocketAddr = "203.0.113.7:50000".parse().unwrap();
    let home: SocketAddr = "198.51.100.9:40000".parse().unwrap();

    assert_eq!(
        start_verification(&mut svc, &path, office).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        start_verification(&mut svc, &path, office).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the office network used its one start this hour"
    );
    assert_eq!(
        start_verification(&mut svc, &path, home).await,
        StatusCode::SEE_OTHER,
        "another network has its own limit"
    );
}
