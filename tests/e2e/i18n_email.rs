//! Two languages, the emails and the document and certificate pages (issue 14): each
//! client email and page rendered in English and Spanish, nothing missing or left in English.

use std::collections::BTreeSet;

use portal_core::files::FileType;
use portal_core::i18n::Language;
use portal_core::model::{RequestedDocument, Side, TaskKind};
use portal_core::service::ContactChange;
use portal_core::workflow::documents::Verdict;
use portal_core::{TaskId, TaskSpec};
use portal_tests::multipart::{Part, multipart};
use portal_tests::{Browser, Harness, Options};

use crate::i18n::{data_of, leftovers};

const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const NOTES: &str = "This is the 2019 diagram. Please send the current one.";

/// A document upload task asking for a "Network diagram" (PDF) and an "ISP contract".
async fn documents_task(h: &Harness) -> TaskId {
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Paperwork")
        .await
        .unwrap()
        .id;
    let mut diagram = RequestedDocument::new("diagram", "Network diagram");
    diagram.accept = vec![FileType::Pdf];
    h.service
        .add_task(
            &h.staff,
            h.portal.id,
            phase,
            TaskSpec {
                title: "Send us your paperwork".into(),
                description: "Two documents we need before the migration.".into(),
                assignee: Side::Client,
                kind: TaskKind::DocumentUpload {
                    documents: vec![diagram, RequestedDocument::new("isp", "ISP contract")],
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id
}

/// Uploads `name` for `document` as the no-JavaScript form does.
async fn upload(b: &Browser, task: TaskId, document: &str, name: &str) {
    let csrf = b.get(&format!("/tasks/{task}")).await.csrf();
    let body = multipart(&[Part::Field("csrf", &csrf), Part::File(name, PDF)]);
    let sent = b
        .send_with(
            http::Method::POST,
            &format!("/tasks/{task}/documents/{document}"),
            Some(&portal_tests::multipart::content_type()),
            &[],
            body,
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
}

/// The newest file of `document`.
async fn current(h: &Harness, document: &str) -> portal_core::workflow::DocumentFile {
    h.store
        .document_files(h.portal.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.document_id == document)
        .max_by_key(|f| f.version)
        .unwrap()
}

/// Every requested document's block (`<li class="doc …">…</li>`, nested lists
/// included) of a task page: the part the document view renders.
fn document_blocks(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find(r#"<li class="doc "#) {
        let block = &rest[start..];
        let mut depth = 0usize;
        let mut at = 0;
        let mut end = block.len();
        while at < block.len() {
            let here = &block[at..];
            if here.starts_with("<li") {
                depth += 1;
            } else if here.starts_with("</li>") {
                depth -= 1;
                if depth == 0 {
                    end = at + "</li>".len();
                    break;
                }
            }
            at += here.chars().next().map_or(1, char::len_utf8);
        }
        out.push_str(&block[..end]);
        out.push('\n');
        rest = &block[end..];
    }
    out
}

/// A document task with a rejected first version and a second one waiting for
/// review (so the page shows notes, versions, downloads, the replace form) next to a
/// document still to upload (the first-upload form); the page in `accept_language`.
async fn documents_page(h: &Harness, task: TaskId, accept_language: &str) -> String {
    let mut b = h.browser();
    b.accept_language = Some(accept_language.to_owned());
    h.sign_in(&b).await;
    let page = b.get(&format!("/tasks/{task}")).await;
    assert_eq!(page.status, 200);
    document_blocks(&page.body)
}

#[tokio::test]
async fn the_document_blocks_are_complete_in_spanish() {
    let h = Harness::start(Options::memory()).await;
    let task = documents_task(&h).await;
    let b = h.browser();
    h.sign_in(&b).await;
    upload(&b, task, "diagram", "network.pdf").await;
    let first = current(&h, "diagram").await;
    h.service
        .review_document(
            &h.staff,
            h.portal.id,
            first.id,
            Verdict::Reject {
                notes: NOTES.into(),
            },
        )
        .await
        .unwrap();
    upload(&b, task, "diagram", "network-2026.pdf").await;

    let en = documents_page(&h, task, "en-US,en;q=0.9").await;
    let es = documents_page(&h, task, "es-MX,es;q=0.9,en;q=0.5").await;
    let missing = portal_core::i18n::missing();
    assert!(
        missing.is_empty(),
        "messages the catalog lacks: {missing:#?}"
    );
    assert_eq!(en.matches(r#"<li class="doc "#).count(), 2, "{en}");
    // The states the page is about are there in both languages.
    for wanted in [
        "Up to ",
        "Earlier versions (1)",
        "Download",
        "Choose a file",
        "version 2",
    ] {
        assert!(en.contains(wanted), "{wanted}: {en}");
    }
    for wanted in ["Hasta ", "(1)", "Descargar", "versión 2"] {
        assert!(es.contains(wanted), "{wanted}: {es}");
    }
    let mut data = data_of(&h).await;
    data.extend(["network.pdf", "network-2026.pdf", NOTES].map(str::to_owned));
    let left = leftovers(&en, &es, &data);
    assert!(
        left.is_empty(),
        "English left on the Spanish document blocks: {left:?}\n{es}"
    );
}

/// A typed signature on a new signature task, through the page's form.
async fn signed_task(h: &Harness, b: &Browser) -> TaskId {
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
                    consent: None,
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let csrf = b.get(&format!("/tasks/{task}")).await.csrf();
    let signed = b
        .post(
            &format!("/tasks/{task}/signature"),
            &[
                ("csrf", &csrf),
                ("drawn", ""),
                ("typed_name", "Dana Client"),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    task
}

#[tokio::test]
async fn the_certificate_page_is_complete_in_spanish() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let task = signed_task(&h, &b).await;
    let mut pages = Vec::new();
    for lang in ["en-US,en;q=0.9", "es-MX,es;q=0.9,en;q=0.5"] {
        let mut b = h.browser();
        b.accept_language = Some(lang.to_owned());
        h.sign_in(&b).await;
        let page = b.get(&format!("/tasks/{task}/certificate")).await;
        assert_eq!(page.status, 200);
        pages.push(page.body);
    }
    let (en, es) = (&pages[0], &pages[1]);
    let missing = portal_core::i18n::missing();
    assert!(
        missing.is_empty(),
        "messages the catalog lacks: {missing:#?}"
    );
    assert!(en.contains(r#"<html lang="en">"#));
    assert!(es.contains(r#"<html lang="es">"#));
    assert!(en.contains("Signature evidence certificate"), "{en}");
    assert!(es.contains("Certificado de evidencias de la firma"), "{es}");
    assert!(es.contains("Nombre escrito: Dana Client"), "{es}");
    assert!(es.contains("Registro de la firma: ✓ Coincide"), "{es}");
    // What was recorded is evidence, shown as recorded in every language: the
    // consent statement and the browser's user agent.
    let record = h.store.signature(h.portal.id, task).await.unwrap();
    let mut data: BTreeSet<String> = data_of(&h).await;
    data.insert(
        record
            .consent_text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    );
    data.extend(record.user_agent.clone());
    let mut left = leftovers(en, es, &data);
    // SHA-256 fingerprints, in hex: no word of any language.
    left.retain(|t| !(t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit())));
    assert!(
        left.is_empty(),
        "English left on the Spanish certificate: {left:?}\n{es}"
    );
}

/// A contact the MSP set to Spanish gets the rejection of their upload in Spanish,
/// through the outbox (the `.eml` file a mail server would get).
#[tokio::test]
async fn a_spanish_contact_gets_the_rejection_email_in_spanish_through_the_outbox() {
    let h = Harness::start(Options {
        outbox: true,
        ..Options::memory()
    })
    .await;
    let task = documents_task(&h).await;
    h.service
        .change_contact(
            &h.staff,
            h.contact.id,
            &ContactChange {
                name: &h.contact.name,
                email: h.contact.email.as_str(),
                role: None,
                language: Some(Some(Language::Es)),
            },
            None,
        )
        .await
        .unwrap();
    let portal_tests::Mail::Outbox(dir) = &h.mail else {
        panic!("the harness was asked for an outbox");
    };
    let b = h.browser();
    // The invitation (sent in English before the MSP chose Spanish) can share the
    // verification email's second: read the code from the email that has one.
    portal_tests::sign_in_over_http(&b, &h.invite_path(), || {
        portal_tests::code_in(&portal_tests::eml::newest_with_code(dir).text)
    })
    .await;
    upload(&b, task, "diagram", "network.pdf").await;
    let first = current(&h, "diagram").await;
    h.service
        .review_document(
            &h.staff,
            h.portal.id,
            first.id,
            Verdict::Reject {
                notes: NOTES.into(),
            },
        )
        .await
        .unwrap();
    // The MSP's own notice of the upload is in the folder too (in English): the
    // contact's newest email is the rejection.
    let email = portal_tests::eml::all(dir)
        .into_iter()
        .rev()
        .find(|e| e.to.contains(h.contact.email.as_str()))
        .expect("an email to the contact");
    assert!(email.text.starts_with("Hola, "), "{}", email.text);
    assert!(
        email.text.contains("necesita una nueva versión"),
        "{}",
        email.text
    );
    assert!(email.text.contains(NOTES), "{}", email.text);
    assert!(
        !email.text.contains("needs a new version"),
        "{}",
        email.text
    );
    let html = email.html.unwrap_or_default();
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
    assert!(
        html.contains("Abra su portal y vuelva a subir el documento"),
        "{html}"
    );
    let missing = portal_core::i18n::missing();
    assert!(
        missing.is_empty(),
        "messages the catalog lacks: {missing:#?}"
    );
}
