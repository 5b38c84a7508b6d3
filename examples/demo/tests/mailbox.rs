//! The demo mailbox over a real outbox: emails written by the demo's own
//! `OutboxMailer` (MIME, quoted-printable, encoded headers) come back decoded, newest
//! first, with their links clickable; only the folder's `.eml` files can be read; the
//! HTML part is served apart under a sandboxing CSP; the mailbox is read-only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use portal_core::Mailer as _;
use portal_core::mail::{Email, OutboxMailer};
use portal_core::model::EmailAddress;
use portal_demo::mailbox::{Mailbox, Piece};
use portal_http::HostPages as _;

fn email(subject: &str, link: &str) -> Email {
    Email {
        to: EmailAddress::parse("dana@contoso.example").unwrap(),
        to_name: Some("Dana Whitfield".into()),
        subject: subject.into(),
        text: format!(
            "Hi Dana,\n\nYour code is 123456. Or open {link}.\n\nA very long line to make the encoder fold it: {}\n",
            "é".repeat(60)
        ),
        html: format!("<p>Open <a href=\"{link}\">your portal</a></p>"),
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    }
}

async fn get(mailbox: &Mailbox, path: &str, method: Method) -> (StatusCode, String, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Bytes::new())
        .unwrap();
    let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let response = mailbox.handle(request, addr).await;
    let status = response.status();
    let csp = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, csp, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_outbox_is_listed_newest_first_and_read_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let mailer = OutboxMailer::new(
        &outbox,
        "Bluefin Managed IT <onboarding@bluefin-it.example>",
    )
    .unwrap();
    let link = "http://localhost:8080/i/abc_DEF-123";
    mailer
        .send(
            &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
            &email("Your code: 123456 — Ñandú", link),
        )
        .await
        .unwrap();
    // File times have a resolution; the second email must be visibly newer.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    mailer
        .send(
            &portal_core::ActingFor::bare(portal_core::TenantId::from_bytes([1; 16]), None),
            &email("Second email", "https://portal.example/m/xyz"),
        )
        .await
        .unwrap();
    // Something that is not an email is left alone.
    std::fs::write(outbox.join("notes.txt"), "not an email").unwrap();
    let mailbox = Mailbox::new(&outbox);

    let listed = mailbox.list();
    let subjects: Vec<&str> = listed.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(subjects, ["Second email", "Your code: 123456 — Ñandú"]);
    assert_eq!(listed[0].to, "Dana Whitfield <dana@contoso.example>");
    assert!(listed[0].date.ends_with(" UTC"), "{}", listed[0].date);

    let first = mailbox.read(&listed[1].file).unwrap();
    assert_eq!(
        first.from,
        "Bluefin Managed IT <onboarding@bluefin-it.example>"
    );
    assert!(
        first.body.contains(&Piece::Link(link.into())),
        "{:?}",
        first.body
    );
    let text: String = first
        .body
        .iter()
        .map(|p| match p {
            Piece::Text(t) | Piece::Link(t) => t.as_str(),
        })
        .collect();
    assert!(
        text.contains(&"é".repeat(60)),
        "quoted-printable decoded: {text}"
    );
    assert!(text.contains("Your code is 123456."));
    assert!(first.has_html);

    // Over HTTP: the list, the email with its link clickable, the HTML part apart.
    let (status, csp, page) = get(&mailbox, "/mailbox", Method::GET).await;
    assert_eq!(status, StatusCode::OK);
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let newest = page.find("Second email").unwrap();
    let oldest = page.find("Your code: 123456").unwrap();
    assert!(newest < oldest, "newest first");
    let (status, _, page) = get(
        &mailbox,
        &format!("/mailbox/{}", listed[1].file),
        Method::GET,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!(r#"<a href="{link}">{link}</a>"#)),
        "{page}"
    );
    let (status, csp, html) = get(
        &mailbox,
        &format!("/mailbox/{}/html", listed[1].file),
        Method::GET,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(csp.contains("sandbox"), "{csp}");
    assert!(
        html.contains(&format!(r#"<a href="{link}">your portal</a>"#)),
        "{html}"
    );

    // Nothing but the folder's .eml files, and nothing written.
    for path in [
        "/mailbox/notes.txt",
        "/mailbox/..%2Foutbox%2Fnotes.txt",
        "/mailbox/../api-keys",
        "/mailbox/missing.eml",
        "/mailbox/a/b/c",
    ] {
        let (status, _, _) = get(&mailbox, path, Method::GET).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _, _) = get(&mailbox, "/mailbox", Method::POST).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn an_empty_or_missing_outbox_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = Mailbox::new(dir.path().join("none-yet"));
    assert!(mailbox.list().is_empty());
    let (status, _, page) = get(&mailbox, "/mailbox", Method::GET).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No emails yet."), "{page}");
}
