//! The signature task over HTTP: the client's page before and after (snapshots), the
//! typed-name path a browser without JavaScript uses, a drawn PNG, what a refused
//! signature answers (a clear page, nothing stored), and the client's evidence
//! certificate.

use base64::Engine as _;
use portal_core::model::{Side, TaskKind};
use portal_core::{TaskId, TaskSpec};
use portal_tests::{Harness, Options};

fn settings() -> insta::Settings {
    let mut s = super::snapshots::settings();
    s.add_filter(r"<code>[0-9a-f]{64}</code>", "<code>[sha256]</code>");
    s.add_filter(r"127\.0\.0\.1|::1", "[ip]");
    s
}

async fn signature_task(h: &Harness, consent: Option<&str>) -> (TaskId, String) {
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Agreement")
        .await
        .unwrap()
        .id;
    let task = h
        .service
        .add_task(
            &h.staff,
            h.portal.id,
            phase,
            TaskSpec {
                title: "Sign the master services agreement".into(),
                description: "Please sign before kickoff.".into(),
                assignee: Side::Client,
                kind: TaskKind::Signature {
                    document: None,
                    consent: consent.map(str::to_owned),
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    (task, format!("/tasks/{task}"))
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &d in data {
        a = (a + u32::from(d)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// A PNG written by hand (RGBA, 8-bit, zlib "stored" blocks), so the test does not
/// use the code under test to make its input.
fn png(width: u32, height: u32, px: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0);
        for x in 0..width {
            raw.extend(px(x, y));
        }
    }
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, c) in chunks.iter().enumerate() {
        z.push(u8::from(i + 1 == chunks.len()));
        let len = c.len() as u16;
        z.extend(len.to_le_bytes());
        z.extend((!len).to_le_bytes());
        z.extend(*c);
    }
    z.extend(adler32(&raw).to_be_bytes());
    let mut out = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        out.extend([0u8; 4]);
    };
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &z);
    chunk(b"IEND", &[]);
    out
}

pub(crate) fn data_url(bytes: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

pub(crate) fn stroke() -> Vec<u8> {
    png(120, 40, |x, y| {
        if x / 3 == y {
            [20, 20, 40, 255]
        } else {
            [0, 0, 0, 0]
        }
    })
}

#[tokio::test]
async fn typed_signature_page_before_refused_after_and_certificate() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let (task, path) = signature_task(&h, None).await;
    let before = b.get(&path).await;
    assert_eq!(before.status, 200);
    let text = before.text();
    assert!(!text.contains("coming soon"));
    assert!(before.body.contains("Submit Signature"));
    // Without JavaScript the pad stays hidden and the typed name is the path.
    assert!(before.body.contains("data-signature-pad hidden"));
    assert!(before.body.contains(r#"name="typed_name""#));
    assert!(text.contains("I agree that this is my electronic signature"));
    assert!(before.body.contains("/assets/documents.js?v="));
    let csrf = before.csrf();
    let action = format!("{path}/signature");

    let refused = b
        .post(&action, &[("csrf", &csrf), ("typed_name", "Dana Client")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .text()
            .contains("Nothing was signed. The consent statement is not ticked"),
        "{}",
        refused.text()
    );
    assert!(refused.body.contains(r#"aria-invalid="true""#));
    assert!(h.store.signature(h.portal.id, task).await.is_err());

    let signed = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("drawn", ""),
                ("typed_name", "  Dana Client "),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let after = b.get(&signed.header("location")).await;
    assert_eq!(after.status, 200);
    let text = after.text();
    assert!(text.contains("✓ Signed by "), "{text}");
    assert!(text.contains("View the evidence certificate"));
    assert!(!after.body.contains("Submit Signature"));
    let record = h.store.signature(h.portal.id, task).await.unwrap();
    assert_eq!(
        record.mark,
        portal_core::signatures::SignatureMark::Typed("Dana Client".into())
    );
    assert_eq!(record.time_zone, h.contact.time_zone.name());
    assert!(record.user_agent.is_some());
    let chain = h.store.audit_events(h.portal.id, 0, 100).await.unwrap();
    let event = chain
        .iter()
        .find(|e| e.entry.kind == "signature_submitted")
        .expect("the audit event is in the chain");

    let cert = b.get(&format!("{path}/certificate")).await;
    assert_eq!(cert.status, 200);
    let ctext = cert.text();
    assert!(
        ctext.contains("Every fingerprint below was recomputed and matches"),
        "{ctext}"
    );
    assert!(
        cert.body
            .contains(&portal_core::audit::hash_hex(&record.record_sha256))
    );
    assert!(
        cert.body
            .contains(&portal_core::audit::hash_hex(&event.hash))
    );
    assert!(
        ctext.contains(&format!("Event number{}", event.seq))
            || cert.body.contains(&format!("<dd>{}</dd>", event.seq))
    );
    assert!(ctext.contains("Typed name: Dana Client"));
    assert!(cert.body.contains("@media print") || cert.body.contains("portal.css"));

    // Signed once: a second signature is refused and changes nothing.
    let again = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("typed_name", "Someone Else"),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(h.store.signature(h.portal.id, task).await.unwrap(), record);

    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("task_signature", before.body);
    insta::assert_snapshot!("task_signature_refused", refused.body);
    insta::assert_snapshot!("task_signature_signed", after.body);
    insta::assert_snapshot!("signature_certificate", cert.body);
}

#[tokio::test]
async fn a_drawn_signature_is_sealed_and_verifies() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let (task, path) = signature_task(&h, Some("I sign the MSA v3 electronically.")).await;
    let page = b.get(&path).await;
    assert!(page.text().contains("I sign the MSA v3 electronically."));
    let image = stroke();
    let signed = b
        .post(
            &format!("{path}/signature"),
            &[
                ("csrf", &page.csrf()),
                ("drawn", &data_url(&image)),
                ("typed_name", ""),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(h.blobs.len(), 1, "the image is sealed into the blob store");
    let record = h.store.signature(h.portal.id, task).await.unwrap();
    assert_eq!(record.mark.method(), "drawn");
    assert_eq!(record.mark_sha256, portal_core::signatures::sha256(&image));
    assert_eq!(record.consent_text, "I sign the MSA v3 electronically.");
    let evidence = h
        .service
        .signature_evidence(&h.staff, h.portal.id, task)
        .await
        .unwrap();
    assert!(
        evidence.verification.intact(),
        "{:?}",
        evidence.verification
    );
    assert_eq!(
        h.service
            .signature_image(&h.staff, h.portal.id, task)
            .await
            .unwrap(),
        image
    );
    // Another tenant's staff cannot read it.
    assert!(
        h.service
            .signature_evidence(&h.other_staff, h.portal.id, task)
            .await
            .is_err()
    );
}

/// Hostile drawn images, an empty signature and an unticked consent: a clear page
/// each, nothing stored, no blob left behind.
#[tokio::test]
async fn hostile_signatures_are_refused_and_store_nothing() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let (task, path) = signature_task(&h, None).await;
    let action = format!("{path}/signature");
    let csrf = b.get(&path).await.csrf();
    let blank = data_url(&png(120, 40, |_, _| [0, 0, 0, 0]));
    let gif = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(b"GIF89a\x01\x00\x01\x00")
    );
    let svg = "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=".to_owned();
    let big = data_url(&png(500, 300, |x, y| {
        [(x % 251) as u8, (y % 241) as u8, 7, 255]
    }));
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (blank, "", "1", "The drawn signature is empty"),
        (gif, "", "1", "The drawn signature is not a PNG image"),
        (svg, "", "1", "The drawn signature is not a PNG image"),
        (
            big,
            "",
            "1",
            "The drawn signature is too large: at most 512 KiB",
        ),
        (String::new(), "   ", "1", "Your typed name is empty"),
        (
            String::new(),
            "Dana\u{7}",
            "1",
            "Your typed name contains control characters",
        ),
        (
            data_url(&stroke()),
            "",
            "",
            "The consent statement is not ticked",
        ),
    ];
    for (drawn, typed, consent, message) in cases {
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("drawn", drawn.as_str()),
            ("typed_name", typed),
        ];
        if !consent.is_empty() {
            fields.push(("consent", consent));
        }
        let page = b.post(&action, &fields).await;
        assert_eq!(page.status, 422, "{message}: {}", page.text());
        assert!(page.text().contains(message), "{message}:\n{}", page.text());
        assert!(page.text().contains("Nothing was signed."));
        assert!(
            h.store.signature(h.portal.id, task).await.is_err(),
            "{message}"
        );
        assert!(h.blobs.is_empty(), "{message}: no blob is left behind");
    }
    assert_eq!(
        h.store.task(h.portal.id, task).await.unwrap().status,
        portal_core::model::TaskStatus::Pending
    );
}

/// A small valid PDF, written out by hand (one page, "Master services agreement").
const AGREEMENT: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj\n4 0 obj << /Length 58 >> stream\nBT /F1 14 Tf 20 100 Td (Master services agreement) Tj ET\nendstream endobj\n5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn api(
    b: &portal_tests::Browser,
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

fn verify_body(bytes: &[u8]) -> Vec<u8> {
    serde_json::json!({ "data_base64": base64::engine::general_purpose::STANDARD.encode(bytes) })
        .to_string()
        .into_bytes()
}

/// The MSP attaches the document through the admin API (raw body); the client sees it
/// inline (a frame of a same-origin route the page's CSP allows, and that route lets
/// only the portal frame it) and downloads exactly those bytes; the signature records
/// their SHA-256; verification recomputes it from the stored document; "verify a
/// document" finds the signature for the same bytes and none for one flipped byte; the
/// document is never replaced once signed.
#[tokio::test]
async fn the_document_to_sign_is_shown_signed_by_hash_and_verified() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let staff = h.browser();
    let (task, path) = signature_task(&h, None).await;
    let doc_path = format!("/portals/{}/tasks/{task}/signature/document", h.portal.id);

    // Refusals first: markup, empty, no name, another tenant, a member is allowed.
    let html = api(
        &staff,
        http::Method::PUT,
        &format!("{doc_path}?name=a.pdf"),
        "admin",
        Some("application/pdf"),
        b"<!doctype html><script>alert(1)</script>".to_vec(),
    )
    .await;
    assert_eq!(html.status, 422, "{}", html.body);
    assert!(html.body.contains("markup"), "{}", html.body);
    let empty = api(
        &staff,
        http::Method::PUT,
        &format!("{doc_path}?name=a.pdf"),
        "admin",
        Some("application/pdf"),
        Vec::new(),
    )
    .await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    let unnamed = api(
        &staff,
        http::Method::PUT,
        &doc_path,
        "admin",
        Some("application/pdf"),
        AGREEMENT.to_vec(),
    )
    .await;
    assert_eq!(unnamed.status, 422, "{}", unnamed.body);
    assert!(unnamed.body.contains("\"name\""), "{}", unnamed.body);
    let foreign = api(
        &staff,
        http::Method::PUT,
        &format!("{doc_path}?name=a.pdf"),
        "other-admin",
        Some("application/pdf"),
        AGREEMENT.to_vec(),
    )
    .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    assert_eq!(h.blobs.len(), 0, "nothing refused is kept");

    // A first version through multipart, then the final one as a raw body.
    let draft = portal_tests::multipart::multipart(&[portal_tests::multipart::Part::File(
        "draft.pdf",
        b"%PDF-1.4\n% draft\n%%EOF\n",
    )]);
    let first = api(
        &staff,
        http::Method::PUT,
        &doc_path,
        "member",
        Some(&portal_tests::multipart::content_type()),
        draft,
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let attached = api(
        &staff,
        http::Method::PUT,
        &format!("{doc_path}?name=Master%20services%20agreement.pdf"),
        "admin",
        Some("application/pdf"),
        AGREEMENT.to_vec(),
    )
    .await;
    assert_eq!(attached.status, 200, "{}", attached.body);
    let view: serde_json::Value = serde_json::from_str(&attached.body).unwrap();
    let hash = portal_core::audit::hash_hex(&portal_core::signatures::sha256(AGREEMENT));
    assert_eq!(view["sha256"], hash);
    assert_eq!(view["file_type"], "pdf");
    assert_eq!(view["name"], "Master services agreement.pdf");
    assert_eq!(h.blobs.len(), 1, "the replaced draft's blob is deleted");
    let staff_copy = api(
        &staff,
        http::Method::GET,
        &doc_path,
        "member",
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(staff_copy.status, 200);
    assert_eq!(&staff_copy.raw[..], AGREEMENT);

    // The client's page frames it and links the download.
    let page = b.get(&path).await;
    assert_eq!(page.status, 200);
    let frame = format!(r#"<iframe class="sign-doc-frame" src="{path}/document""#);
    assert!(page.body.contains(&frame), "{}", page.body);
    assert!(
        page.body
            .contains(&format!(r#"href="{path}/document?download=1""#))
    );
    assert!(
        page.body
            .contains(&format!(r#"name="document_sha256" value="{hash}""#))
    );
    let csp = page.header("content-security-policy");
    assert!(csp.contains("frame-src 'self' "), "{csp}");
    let plain = b.get("/").await.header("content-security-policy");
    assert!(
        !plain.contains("frame-src 'self'"),
        "only the signature page frames the portal: {plain}"
    );
    {
        let _guard = settings().bind_to_scope();
        insta::assert_snapshot!("task_signature_with_document", page.body);
    }
    let shown = b.get(&format!("{path}/document")).await;
    assert_eq!(shown.status, 200);
    assert_eq!(&shown.raw[..], AGREEMENT, "exactly the stored bytes");
    assert_eq!(shown.header("content-type"), "application/pdf");
    assert!(shown.header("content-disposition").starts_with("inline"));
    let framing = shown.header("content-security-policy");
    assert!(framing.contains("frame-ancestors 'self'"), "{framing}");
    assert!(framing.contains("default-src 'none'"), "{framing}");
    let download = b.get(&format!("{path}/document?download=1")).await;
    assert_eq!(&download.raw[..], AGREEMENT);
    assert!(
        download
            .header("content-disposition")
            .starts_with("attachment")
    );
    // Without a session nothing is served.
    let stranger = h.browser().get(&format!("{path}/document")).await;
    assert_ne!(stranger.status, 200);
    assert!(!stranger.raw.starts_with(b"%PDF"));

    // A signature from a page that showed another version is refused.
    let csrf = page.csrf();
    let stale = b
        .post(
            &format!("{path}/signature"),
            &[
                ("csrf", &csrf),
                ("document_sha256", &"0".repeat(64)),
                ("typed_name", "Dana Client"),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.text().contains("review the document again"));
    assert!(h.store.signature(h.portal.id, task).await.is_err());

    let signed = b
        .post(
            &format!("{path}/signature"),
            &[
                ("csrf", &csrf),
                ("document_sha256", &hash),
                ("typed_name", "Dana Client"),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let record = h.store.signature(h.portal.id, task).await.unwrap();
    let doc = record
        .document
        .as_ref()
        .expect("the record names the document");
    assert_eq!(doc.sha256, portal_core::signatures::sha256(AGREEMENT));
    assert_eq!(doc.size, AGREEMENT.len() as u64);
    assert_eq!(doc.name, "Master services agreement.pdf");
    let evidence = api(
        &staff,
        http::Method::GET,
        &format!("/portals/{}/tasks/{task}/signature", h.portal.id),
        "member",
        None,
        Vec::new(),
    )
    .await;
    let evidence: serde_json::Value = serde_json::from_str(&evidence.body).unwrap();
    assert_eq!(evidence["parts"]["document"], "matches", "{evidence}");
    assert_eq!(evidence["intact"], true);
    assert_eq!(evidence["signature"]["document"]["sha256"], hash);

    // Verify a document: the same bytes match, one flipped byte does not.
    let same = api(
        &staff,
        http::Method::POST,
        "/signatures/verify-document",
        "member",
        Some("application/json"),
        verify_body(AGREEMENT),
    )
    .await;
    let same: serde_json::Value = serde_json::from_str(&same.body).unwrap();
    assert_eq!(same["signed"], true, "{same}");
    assert_eq!(same["signatures"][0]["signer"]["name"], h.contact.name);
    let mut flipped = AGREEMENT.to_vec();
    flipped[40] ^= 0x01;
    let other = api(
        &staff,
        http::Method::POST,
        "/signatures/verify-document",
        "member",
        Some("application/json"),
        verify_body(&flipped),
    )
    .await;
    let other: serde_json::Value = serde_json::from_str(&other.body).unwrap();
    assert_eq!(other["signed"], false, "{other}");

    // Signed: the document stays as it was.
    let late = api(
        &staff,
        http::Method::PUT,
        &format!("{doc_path}?name=changed.pdf"),
        "admin",
        Some("application/pdf"),
        flipped.clone(),
    )
    .await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert_eq!(
        &b.get(&format!("{path}/document?download=1")).await.raw[..],
        AGREEMENT
    );
    assert_eq!(h.blobs.len(), 1, "the refused replacement left no blob");
    let after = b.get(&path).await;
    assert!(
        after
            .body
            .contains("Download Master services agreement.pdf")
    );

    // The chain records the attachment with the document's hash.
    let chain = h.store.audit_events(h.portal.id, 0, 100).await.unwrap();
    let attach = chain
        .iter()
        .rfind(|e| e.entry.kind == "signature_document_attached")
        .expect("the attachment is in the audit chain");
    assert_eq!(attach.entry.field("sha256"), Some(hash.as_str()));
}

/// The default consent statement is shown in the signer's language and recorded word
/// for word as shown: a Spanish reader signs the Spanish statement, and the form's
/// language wins over a language that changed between reading and signing.
#[tokio::test]
async fn the_default_consent_is_recorded_in_the_language_it_was_read_in() {
    use portal_core::i18n::{Language, text};
    let h = Harness::start(Options::memory()).await;
    let mut b = h.browser();
    b.accept_language = Some("es-ES,es;q=0.9".to_owned());
    h.sign_in(&b).await;
    let (task, path) = signature_task(&h, None).await;
    let page = b.get(&path).await;
    let spanish = text(Language::Es, "signature-default-consent");
    assert_ne!(spanish, portal_core::signatures::DEFAULT_CONSENT);
    assert!(page.text().contains(&spanish), "{}", page.body);
    assert!(
        !page
            .text()
            .contains("I agree that this is my electronic signature")
    );
    assert!(
        page.body
            .contains(r#"<input type="hidden" name="consent_language" value="es">"#)
    );
    // The browser now asks for English, but the form was read in Spanish.
    b.accept_language = Some("en-US".to_owned());
    let signed = b
        .post(
            &format!("{path}/signature"),
            &[
                ("csrf", &page.csrf()),
                ("typed_name", "Dana Client"),
                ("consent", "1"),
                ("consent_language", "es"),
            ],
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let record = h.store.signature(h.portal.id, task).await.unwrap();
    assert_eq!(record.consent_text, spanish);
    assert!(
        h.service
            .signature_evidence(&h.staff, h.portal.id, task)
            .await
            .unwrap()
            .verification
            .intact()
    );
}
