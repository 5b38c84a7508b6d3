//! Secure file drop tasks over HTTP: the client drops files with the plain form (no
//! JavaScript), sees each one's time left and exact expiry in their zone, deletes one,
//! is refused a delete once the MSP downloaded a file; the MSP lists and downloads
//! through the admin API (401, 403, 404 for another tenant); and an expired, a deleted
//! and a missing file answer the very same bytes, on the client's routes and the API.

use super::snapshots::settings;
use chrono::TimeDelta;
use http::Method;
use portal_core::model::{Side, TaskKind};
use portal_core::{TaskId, TaskSpec};
use portal_tests::multipart::{Part, content_type, multipart};
use portal_tests::{Browser, Harness, Options, Page};

const SECRET: &[u8] = b"vpn-psk=drop-plaintext-4c1e9b";

async fn drop_task(h: &Harness) -> TaskId {
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Files")
        .await
        .unwrap()
        .id;
    h.service
        .add_task(
            &h.staff,
            h.portal.id,
            phase,
            TaskSpec {
                title: "Send your firewall configuration backup".into(),
                description: "Export it from the firewall's admin page.".into(),
                assignee: Side::Client,
                kind: TaskKind::SecureFileDrop {
                    expires_after_days: 7,
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id
}

async fn drop(b: &Browser, task: TaskId, name: &str, content: &[u8]) -> Page {
    let csrf = b.get(&format!("/tasks/{task}")).await.csrf();
    let body = multipart(&[Part::Field("csrf", &csrf), Part::File(name, content)]);
    b.send_with(
        Method::POST,
        &format!("/tasks/{task}/drops"),
        Some(&content_type()),
        &[],
        body,
    )
    .await
}

async fn delete(b: &Browser, task: TaskId, file: &str) -> Page {
    let csrf = b.get(&format!("/tasks/{task}")).await.csrf();
    b.post(
        &format!("/tasks/{task}/drops/{file}/delete"),
        &[("csrf", &csrf)],
    )
    .await
}

fn api(
    h: &Harness,
    method: Method,
    path: &str,
    token: Option<&str>,
) -> (Method, String, Vec<(String, String)>) {
    let headers = token
        .map(|t| vec![("authorization".to_owned(), format!("Bearer {t}"))])
        .unwrap_or_default();
    let _ = h;
    (method, format!("/api/v1{path}"), headers)
}

async fn call(b: &Browser, req: (Method, String, Vec<(String, String)>)) -> Page {
    let headers: Vec<(&str, &str)> = req
        .2
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    b.send_with(req.0, &req.1, None, &headers, Vec::new()).await
}

#[tokio::test]
async fn a_client_drops_deletes_and_sees_the_time_left() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let task = drop_task(&h).await;
    let empty = b.get(&format!("/tasks/{task}")).await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains(r#"enctype="multipart/form-data""#));
    assert!(!empty.text().contains("coming soon"));
    // Refused: an empty file; nothing stored.
    let refused = drop(&b, task, "empty.txt", b"").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.text().contains("Your file was not dropped."),
        "{}",
        refused.text()
    );
    assert!(
        h.store
            .dropped_files(h.portal.id, task)
            .await
            .unwrap()
            .is_empty()
    );
    // Two files, one at a time with the plain form.
    for (name, content) in [
        ("firewall.conf", SECRET),
        ("diagram.pdf", b"%PDF-1.7 diagram".as_slice()),
    ] {
        let sent = drop(&b, task, name, content).await;
        assert_eq!(sent.status, 303, "{}", sent.body);
    }
    let files = h.store.dropped_files(h.portal.id, task).await.unwrap();
    assert_eq!(files.len(), 2);
    h.clock.advance(TimeDelta::minutes(30));
    let page = b.get(&format!("/tasks/{task}")).await;
    let text = page.text();
    assert!(text.contains("expires in 6 days 23 hours"), "{text}");
    // The exact expiry, in the contact's zone with the zone named.
    let zone = h.contact.time_zone.name();
    assert!(text.contains(zone), "{zone}: {text}");
    assert!(!page.body.contains(std::str::from_utf8(SECRET).unwrap()));
    settings().bind(|| insta::assert_snapshot!("filedrop_page_two_files", page.body));
    // Delete the second; the MSP downloads the first; its delete is then refused.
    let second = files[1].id.to_string();
    let deleted = delete(&b, task, &second).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    let staff = h.browser();
    let got = call(
        &staff,
        api(
            &h,
            Method::GET,
            &format!("/portals/{}/drops/{}", h.portal.id, files[0].id),
            Some("member"),
        ),
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.raw, SECRET);
    let late = delete(&b, task, &files[0].id.to_string()).await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert!(
        late.text().contains("already downloaded"),
        "{}",
        late.text()
    );
    let after = b.get(&format!("/tasks/{task}")).await;
    let text = after.text();
    assert!(
        text.contains("Downloaded by your onboarding team on"),
        "{text}"
    );
    assert!(text.contains("Deleted: no longer available."), "{text}");
    assert!(
        !after
            .body
            .contains(&format!("/drops/{}/delete", files[0].id))
    );
    settings().bind(|| insta::assert_snapshot!("filedrop_page_downloaded_and_deleted", after.body));
    // The API lists both, with their states; 401 without credentials, 404 for another
    // MSP, 403 for a member's sweep.
    let list = call(
        &staff,
        api(
            &h,
            Method::GET,
            &format!("/portals/{}/tasks/{task}/drops", h.portal.id),
            Some("member"),
        ),
    )
    .await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("\"state\":\"deleted\""), "{}", list.body);
    assert!(
        list.body.contains("\"state\":\"available\""),
        "{}",
        list.body
    );
    for (token, status) in [(None, 401), (Some("other-admin"), 404)] {
        let a = call(
            &staff,
            api(
                &h,
                Method::GET,
                &format!("/portals/{}/tasks/{task}/drops", h.portal.id),
                token,
            ),
        )
        .await;
        assert_eq!(a.status, status, "{token:?}: {}", a.body);
    }
    let sweep = call(
        &staff,
        api(&h, Method::POST, "/drops/sweep", Some("member")),
    )
    .await;
    assert_eq!(sweep.status, 403, "{}", sweep.body);
    let sweep = call(&staff, api(&h, Method::POST, "/drops/sweep", Some("admin"))).await;
    assert_eq!(sweep.status, 200, "{}", sweep.body);
    assert!(sweep.body.contains("\"removed\":0"), "{}", sweep.body);
}

#[tokio::test]
async fn expired_deleted_and_missing_files_answer_the_same_bytes() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let task = drop_task(&h).await;
    for name in ["expiring.txt", "deleted.txt"] {
        assert_eq!(drop(&b, task, name, SECRET).await.status, 303);
    }
    let files = h.store.dropped_files(h.portal.id, task).await.unwrap();
    let (expiring, deleted) = (files[0].clone(), files[1].clone());
    assert_eq!(delete(&b, task, &deleted.id.to_string()).await.status, 303);
    let missing = portal_core::ids::FileId::random(&portal_core::OsRandom).to_string();
    h.clock.set(expiring.expires_at);
    // A week later the session is over: the client signs in again.
    h.sign_in(&b).await;
    let staff = h.browser();
    let mut api_answers = Vec::new();
    let mut client_answers = Vec::new();
    for id in [
        expiring.id.to_string(),
        deleted.id.to_string(),
        missing.clone(),
    ] {
        let a = call(
            &staff,
            api(
                &h,
                Method::GET,
                &format!("/portals/{}/drops/{id}", h.portal.id),
                Some("admin"),
            ),
        )
        .await;
        assert_eq!(a.status, 404, "{}", a.body);
        api_answers.push(a.raw.clone());
        let c = delete(&b, task, &id).await;
        assert_eq!(c.status, 404, "{}", c.body);
        // The page carries this request's CSRF token and nonce: compare without them.
        client_answers.push(strip_per_request(&c.body));
    }
    assert!(
        api_answers.windows(2).all(|w| w[0] == w[1]),
        "the API answers differ"
    );
    assert!(
        client_answers.windows(2).all(|w| w[0] == w[1]),
        "the client pages differ"
    );
    // The sweep then removes the expired file's bytes (the deleted one's went at once).
    assert_eq!(
        h.service
            .sweep_file_drops(expiring.expires_at)
            .await
            .unwrap(),
        1
    );
    assert!(
        h.store
            .dropped_file(h.portal.id, expiring.id)
            .await
            .unwrap()
            .bytes_removed
    );
}

/// A page without what changes per request: the CSRF token's and the nonce's values.
fn strip_per_request(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    loop {
        let next = ["nonce=\"", "name=\"csrf\" value=\""]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
            .min();
        let Some((at, len)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at + len]);
        rest = &rest[at + len..];
        let end = rest.find('"').unwrap_or(rest.len());
        rest = &rest[end..];
    }
}

/// Several files in one submit (the form's input takes several; without JavaScript
/// the browser sends them all in one request): each is its own drop, streamed and
/// sealed in turn. A refused file stops the request there: the files before it stay
/// dropped, and the page names them and the refused one.
#[tokio::test]
async fn several_files_in_one_post_are_each_dropped() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let task = drop_task(&h).await;
    let page = b.get(&format!("/tasks/{task}")).await;
    assert!(
        page.body
            .contains(r#"<input id="drop-file" name="file" type="file" multiple required"#),
        "the plain form takes several files: {}",
        page.body
    );
    let csrf = page.csrf();
    let body = multipart(&[
        Part::Field("csrf", &csrf),
        Part::File("firewall.conf", SECRET),
        Part::File("diagram.pdf", b"%PDF-1.7 diagram"),
        Part::File("notes.txt", b"three files, one request"),
    ]);
    let sent = b
        .send_with(
            Method::POST,
            &format!("/tasks/{task}/drops"),
            Some(&content_type()),
            &[],
            body,
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let after = b.get(&format!("/tasks/{task}?done=dropped-several")).await;
    assert!(after.text().contains("Files dropped."), "{}", after.text());
    let files = h.store.dropped_files(h.portal.id, task).await.unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["firewall.conf", "diagram.pdf", "notes.txt"]);
    let sizes: Vec<u64> = files.iter().map(|f| f.size).collect();
    assert_eq!(sizes, [SECRET.len() as u64, 16, 24]);

    // The second of three is empty: the first is dropped, the rest are not.
    let csrf = b.get(&format!("/tasks/{task}")).await.csrf();
    let body = multipart(&[
        Part::Field("csrf", &csrf),
        Part::File("switch.conf", b"hostname core-1"),
        Part::File("empty.txt", b""),
        Part::File("later.txt", b"never read"),
    ]);
    let refused = b
        .send_with(
            Method::POST,
            &format!("/tasks/{task}/drops"),
            Some(&content_type()),
            &[],
            body,
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let text = refused.text();
    assert!(
        text.contains(
            "Dropped: switch.conf. empty.txt was not dropped, nor any file chosen after it."
        ),
        "{text}"
    );
    let names: Vec<String> = h
        .store
        .dropped_files(h.portal.id, task)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(
        names,
        ["firewall.conf", "diagram.pdf", "notes.txt", "switch.conf"]
    );
}
