//! Documents the MSP shares on a task, over real HTTP: staff attach a PDF to the
//! approval task; the client sees it on the task page and the Documents tab; the
//! decision is refused (page and forced POST) until the client opened it; opening it
//! serves exactly the bytes (inline, sniffed type, `nosniff`) and records the open;
//! the decision then records the document's SHA-256. Another portal's file is a 404.

use super::snapshots::settings;
use bytes::Bytes;
use portal_core::attachments::TaskAttachment;
use portal_core::blob::stream_of;
use portal_core::{PortalId, TaskId};
use portal_tests::{Browser, Harness, Options};

const PLAN: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n% the migration plan\ntrailer << >>\n%%EOF\n";
const OPEN_FIRST: &str = "Open the document before you decide";

async fn attach(h: &Harness, portal: PortalId, task: TaskId, staff_other: bool) -> TaskAttachment {
    let staff = if staff_other {
        &h.other_staff
    } else {
        &h.staff
    };
    h.service
        .attach_file(
            staff,
            portal,
            task,
            "Migration plan.pdf",
            Box::pin(stream_of(vec![Bytes::from_static(PLAN)])),
        )
        .await
        .unwrap()
}

async fn signed_in() -> (Harness, Browser) {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    (h, b)
}

#[tokio::test]
async fn an_approval_waits_for_the_document_to_be_opened_and_records_its_hash() {
    let (h, b) = signed_in().await;
    let task = h.tasks["approval"];
    let a = attach(&h, h.portal.id, task, false).await;
    let path = format!("/tasks/{task}");
    let open_href = format!("/tasks/{task}/shared/{}", a.id);

    // The page lists the file, says to open it first, and disables the decision.
    let page = b.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Migration plan.pdf"), "{}", page.body);
    assert!(page.body.contains(&format!(r#"href="{open_href}""#)));
    assert!(
        page.body
            .contains(&format!(r#"href="{open_href}?download=1""#))
    );
    assert!(page.body.contains("Not opened yet"));
    assert!(page.body.contains(OPEN_FIRST));
    assert!(page.body.contains(r#"value="approve" disabled"#));
    let before_open = page.body.clone();

    // The Documents tab lists it under "Shared by".
    let tab = b.get("/?tab=documents").await;
    assert!(tab.body.contains("Shared by"), "{}", tab.body);
    assert!(tab.body.contains("Migration plan.pdf"));
    let documents_tab = tab.body.clone();

    // A forced decision is refused with the same words; nothing is recorded.
    let forced = b
        .post(
            &format!("{path}/decision"),
            &[("csrf", &page.csrf()), ("decision", "approve")],
        )
        .await;
    assert_eq!(forced.status, 409, "{}", forced.body);
    assert!(forced.body.contains(OPEN_FIRST), "{}", forced.body);
    let t = h
        .service
        .staff_task(&h.staff, h.portal.id, task)
        .await
        .unwrap();
    assert!(t.evidence.decision.is_none());

    // A HEAD answers like GET without a body and is not an open; neither is the file
    // asked for through another task's address (404).
    let head = b
        .send(http::Method::HEAD, &open_href, None, Vec::new())
        .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), "application/pdf");
    assert_eq!(head.header("content-length"), PLAN.len().to_string());
    assert!(head.raw.is_empty());
    let elsewhere = format!("/tasks/{}/shared/{}", h.tasks["standard"], a.id);
    assert_eq!(b.get(&elsewhere).await.status, 404);
    assert!(
        b.get(&path).await.body.contains(OPEN_FIRST),
        "neither a HEAD nor another task's address counts as opening the document"
    );

    // Opening serves exactly the bytes, inline, with the sniffed type and nosniff.
    let opened = b.get(&open_href).await;
    assert_eq!(opened.status, 200);
    assert_eq!(&opened.raw[..], PLAN);
    assert_eq!(opened.header("content-type"), "application/pdf");
    assert_eq!(opened.header("x-content-type-options"), "nosniff");
    assert!(opened.header("content-disposition").starts_with("inline"));
    let download = b.get(&format!("{open_href}?download=1")).await;
    assert!(
        download
            .header("content-disposition")
            .starts_with("attachment")
    );
    assert_eq!(&download.raw[..], PLAN);

    // Now the decision is open, and it records the document's SHA-256.
    let page = b.get(&path).await;
    assert!(!page.body.contains(OPEN_FIRST), "{}", page.body);
    assert!(page.body.contains("Opened"));
    let after_open = page.body.clone();
    let done = b
        .post(
            &format!("{path}/decision"),
            &[("csrf", &page.csrf()), ("decision", "approve")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let t = h
        .service
        .staff_task(&h.staff, h.portal.id, task)
        .await
        .unwrap();
    let d = t.evidence.decision.unwrap();
    assert!(d.approved);
    assert_eq!(d.documents.len(), 1);
    assert_eq!(d.documents[0].sha256, a.sha256_hex());
    let after = b.get(&path).await;
    assert!(after.body.contains(&a.sha256_hex()), "{}", after.body);
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("task_approval_shared_unopened", before_open);
    insta::assert_snapshot!("task_approval_shared_opened", after_open);
    insta::assert_snapshot!("task_approval_shared_decided", after.body);
    insta::assert_snapshot!("home_documents_shared", documents_tab);
}

#[tokio::test]
async fn another_portals_shared_file_is_not_found() {
    let (h, b) = signed_in().await;
    let theirs = h.other_tasks["approval"];
    let a = attach(&h, h.other_portal.id, theirs, true).await;
    let mine = h.tasks["approval"];
    for path in [
        format!("/tasks/{theirs}/shared/{}", a.id),
        format!("/tasks/{mine}/shared/{}", a.id),
        format!("/tasks/{mine}/shared/not-an-id"),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.body);
        assert!(!page.raw.starts_with(b"%PDF"), "{path}");
    }
    assert!(
        h.store
            .document_opens(h.other_portal.id, theirs)
            .await
            .unwrap()
            .is_empty(),
        "a refused open records nothing"
    );
}

async fn api(
    b: &Browser,
    method: http::Method,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> portal_tests::Page {
    let auth = format!("Bearer {token}");
    b.send_with(
        method,
        &format!("/api/v1{path}"),
        content_type,
        &[("authorization", &auth)],
        body,
    )
    .await
}

/// The admin API's upload: markup and empty files are 422, a body over the limit is
/// 413, and nothing refused is kept; a member's upload lands in the feed under their
/// name; the download is the exact bytes; a delete removes the blob.
#[tokio::test]
async fn staff_share_files_through_the_admin_api() {
    let h = Harness::start(Options::memory()).await;
    let staff = h.browser();
    let task = h.tasks["standard"];
    let path = format!("/portals/{}/tasks/{task}/attachments", h.portal.id);
    let pdf = Some("application/pdf");
    let html = api(
        &staff,
        http::Method::POST,
        &format!("{path}?name=a.pdf"),
        "admin",
        pdf,
        b"<!doctype html><script>alert(1)</script>".to_vec(),
    )
    .await;
    assert_eq!(html.status, 422, "{}", html.body);
    assert!(html.body.contains("markup"), "{}", html.body);
    let empty = api(
        &staff,
        http::Method::POST,
        &format!("{path}?name=a.pdf"),
        "admin",
        pdf,
        Vec::new(),
    )
    .await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    let mut big = PLAN.to_vec();
    big.resize(
        usize::try_from(portal_core::attachments::MAX_ATTACHMENT).unwrap() + 1,
        b'.',
    );
    let over = api(
        &staff,
        http::Method::POST,
        &format!("{path}?name=big.pdf"),
        "admin",
        pdf,
        big,
    )
    .await;
    assert_eq!(over.status, 413, "{}", over.body);
    assert_eq!(h.blobs.len(), 0, "nothing refused is kept");

    let added = api(
        &staff,
        http::Method::POST,
        &format!("{path}?name=Enrolment%20guide.pdf"),
        "member",
        pdf,
        PLAN.to_vec(),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let view: serde_json::Value = serde_json::from_str(&added.body).unwrap();
    assert_eq!(view["name"], "Enrolment guide.pdf");
    assert_eq!(
        view["sha256"],
        portal_core::audit::hash_hex(&portal_core::signatures::sha256(PLAN))
    );
    let id = view["id"].as_str().unwrap().to_owned();
    let feed = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 10)
        .await
        .unwrap()
        .items;
    assert!(
        feed.iter().any(
            |e| e.kind == portal_core::workflow::ActivityKind::AttachmentAdded
                && matches!(e.actor, portal_core::workflow::Actor::Staff { .. })
        ),
        "{feed:?}"
    );
    let file = format!("/portals/{}/attachments/{id}", h.portal.id);
    let got = api(&staff, http::Method::GET, &file, "member", None, Vec::new()).await;
    assert_eq!(&got.raw[..], PLAN);
    assert_eq!(h.blobs.len(), 1);
    let gone = api(
        &staff,
        http::Method::DELETE,
        &file,
        "member",
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(gone.status, 204, "{}", gone.body);
    assert_eq!(h.blobs.len(), 0, "the deleted file's blob is removed");
    let again = api(&staff, http::Method::GET, &file, "member", None, Vec::new()).await;
    assert_eq!(again.status, 404);
}
