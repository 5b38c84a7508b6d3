//! Documents the MSP shares on a task, over real HTTP: staff attach a PDF to the
//! approval task; the client sees it on the task page and the Documents tab; the
//! decision is refused (page and forced POST) until the client opened it; opening it
//! serves exactly the bytes (inline, sniffed type, `nosniff`) and records the open;
//! the decision then records the document's SHA-256. Another portal's file is a 404.

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

    // The Documents tab lists it under "Shared by".
    let tab = b.get("/?tab=documents").await;
    assert!(tab.body.contains("Shared by"), "{}", tab.body);
    assert!(tab.body.contains("Migration plan.pdf"));

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
