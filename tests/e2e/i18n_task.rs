//! Two languages, the task page (issue 14): every task kind and state in English and
//! Spanish, checked with the leftover walk of `super::i18n`.
//!
//! One portal is brought through the states a client meets (open, completed, waiting
//! on the MSP, a rejected document with notes, a decision gated on opening a shared
//! document, a handed-off task, a thread with comments, a pending and a decided
//! due-date request, "I'm stuck" sent and answered), and at each stage every task
//! page is read by the same contact twice: once from an English browser, once from a
//! Spanish one, so the two renderings differ only in their language.

use std::collections::BTreeSet;

use bytes::Bytes;
use http::Method;
use portal_core::TaskId;
use portal_core::blob::stream_of;
use portal_core::model::{DocumentRef, RequestedDocument, Side, TaskKind};
use portal_core::workflow::documents::Verdict;
use portal_tests::multipart::{Part, content_type, multipart, upload_form};
use portal_tests::{Browser, Harness, Options};

use super::i18n::{check_csrf, data_of, leftovers, visible_text};

const PLAN: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n% the migration plan\ntrailer << >>\n%%EOF\n";

/// A file of `n` bytes: sizes of a kilobyte and more read as "2 KB" in both languages
/// (a size in bytes is a word: "bytes").
fn filler(n: usize) -> Vec<u8> {
    b"firewall config line\n"
        .iter()
        .copied()
        .cycle()
        .take(n)
        .collect()
}

async fn add_task(h: &Harness, title: &str, kind: TaskKind) -> TaskId {
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Access and files")
        .await
        .unwrap()
        .id;
    h.service
        .add_task(
            &h.staff,
            h.portal.id,
            phase,
            portal_core::TaskSpec {
                title: title.into(),
                description: format!("About {title}."),
                assignee: Side::Client,
                kind,
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id
}

async fn signed_in(h: &Harness, lang: &str) -> Browser {
    let mut b = h.browser();
    b.accept_language = Some(lang.to_owned());
    h.sign_in(&b).await;
    b
}

/// The portal the walk reads: the seeded plan plus a credential handoff, a secure
/// file drop, a second signature task (with a document named, not attached) and a
/// task to hand to a colleague, and a shared document gating the approval.
struct Walk {
    h: Harness,
    en: Browser,
    es: Browser,
    /// `(name, task)`: every task page the walk reads.
    tasks: Vec<(String, TaskId)>,
    /// What the test typed or the MSP wrote: shown as typed in every language.
    typed: BTreeSet<String>,
    /// The colleague a task is handed to.
    ann: String,
}

impl Walk {
    async fn start() -> Walk {
        let h = Harness::start(Options::memory()).await;
        let en = signed_in(&h, "en-US,en;q=0.9").await;
        let es = signed_in(&h, "es-MX,es;q=0.9,en;q=0.5").await;
        let mut tasks: Vec<(String, TaskId)> =
            h.tasks.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        let credentials = add_task(
            &h,
            "Share the firewall admin account",
            TaskKind::CredentialHandoff { api_key: true },
        )
        .await;
        let drops = add_task(
            &h,
            "Send your firewall configuration backup",
            TaskKind::SecureFileDrop {
                expires_after_days: 7,
            },
        )
        .await;
        let sign = add_task(
            &h,
            "Sign the data processing addendum",
            TaskKind::Signature {
                document: Some(DocumentRef {
                    name: "DPA.pdf".into(),
                }),
                consent: None,
            },
        )
        .await;
        let hand = add_task(&h, "Collect the Wi-Fi passwords", TaskKind::Standard).await;
        let locked = add_task(
            &h,
            "Share the backup account",
            TaskKind::CredentialHandoff { api_key: false },
        )
        .await;
        let version = h
            .service
            .plan(&h.staff, h.portal.id)
            .await
            .unwrap()
            .task(locked)
            .unwrap()
            .version;
        h.service
            .edit_task(
                &h.staff,
                h.portal.id,
                locked,
                version,
                portal_core::workflow::plan::TaskEdit {
                    waits_on: Some(vec![h.tasks["checklist"]]),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let unscheduled =
            add_task(&h, "Quarterly review", TaskKind::Meeting { schedule: None }).await;
        let review = add_task(
            &h,
            "Upload the floor plan",
            TaskKind::DocumentUpload {
                documents: vec![RequestedDocument::new("floor", "Floor plan")],
            },
        )
        .await;
        tasks.extend([
            ("locked".to_owned(), locked),
            ("meeting_unscheduled".to_owned(), unscheduled),
            ("upload_in_review".to_owned(), review),
            ("credentials".to_owned(), credentials),
            ("drops".to_owned(), drops),
            ("sign_open".to_owned(), sign),
            ("hand_off".to_owned(), hand),
        ]);
        let ann = h
            .service
            .add_contact(
                &h.staff,
                h.portal.id,
                "Ann Colleague",
                "ann@contoso.example",
            )
            .await
            .unwrap()
            .id
            .to_string();
        h.service
            .attach_file(
                &h.staff,
                h.portal.id,
                h.tasks["approval"],
                "Migration plan.pdf",
                Box::pin(stream_of(vec![Bytes::from_static(PLAN)])),
            )
            .await
            .unwrap();
        let typed = [
            "Ann Colleague",
            "ann@contoso.example",
            "Migration plan.pdf",
            "MSA.pdf",
            "Plan.pdf",
            "DPA.pdf",
            "Back up files",
            "Label the laptops",
            "How many sites?",
            "Anything else?",
            "Where is email hosted?",
            "Which apps?",
            "How happy are you?",
            "Microsoft 365",
            "Google Workspace",
            "Dentrix",
            "Dentrix, Other",
            "QuickBooks",
            "Other",
            "Intros; timeline, access",
            "firewall.conf",
            "old-backup.conf",
            "floor-plan.pdf",
            "diagram.pdf",
            "This diagram is from 2019. Please send the current one.",
            "Which admin account?",
            "The one named fw-admin.",
            "Our admin is away",
            "Two more weeks are fine.",
            "We need the call before the migration.",
            "A photo is fine. Thanks!",
            "Here it is.",
            "Dates are fine by us.",
            "Dana Whitfield, Acme",
            // The consent a signer ticks is recorded, word for word and hashed, in the
            // signature's evidence: shown as the core words it (see the report).
            portal_core::signatures::DEFAULT_CONSENT,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        Walk {
            h,
            en,
            es,
            tasks,
            typed,
            ann,
        }
    }

    fn task(&self, name: &str) -> TaskId {
        self.tasks
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| *t)
            .unwrap()
    }

    /// Every task page, read in English and in Spanish: `(page, english, spanish)`.
    async fn read_all(&self, stage: &str) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for (name, task) in &self.tasks {
            let path = format!("/tasks/{task}");
            let en = self.en.get(&path).await;
            let es = self.es.get(&path).await;
            assert_eq!(en.status, 200, "{stage} {name}");
            assert_eq!(es.status, 200, "{stage} {name}");
            out.push((format!("{stage}/{name}"), en.body, es.body));
        }
        out
    }

    /// Posts a form from the English browser and expects the redirect of a success.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) {
        let csrf = check_csrf(&self.en).await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let sent = self.en.post(path, &all).await;
        assert_eq!(sent.status, 303, "{path}: {}", sent.body);
    }

    async fn send_file(&self, path: &str, body: Vec<u8>) {
        let sent = self
            .en
            .send(Method::POST, path, Some(&content_type()), body)
            .await;
        assert_eq!(sent.status, 303, "{path}: {}", sent.body);
    }

    /// Brings every task to the states a client meets after working on the plan.
    async fn work(&self) {
        let h = &self.h;
        let (p, staff) = (h.portal.id, &h.staff);
        let task = |name: &str| format!("/tasks/{}", self.task(name));
        // Standard: taken on, stuck and a new due date asked (waiting on the MSP).
        let standard = task("standard");
        self.post(&format!("{standard}/claim"), &[]).await;
        self.post(
            &format!("{standard}/stuck"),
            &[("reason", "Which admin account?")],
        )
        .await;
        self.post(
            &format!("{standard}/due-date"),
            &[("date", "2026-12-20"), ("due_reason", "Our admin is away")],
        )
        .await;
        // Checklist: one item ticked, stuck answered, a due date approved with a note,
        // a thread with both sides.
        let checklist = task("checklist");
        self.post(
            &format!("{checklist}/checklist"),
            &[("item", "a"), ("checked", "1")],
        )
        .await;
        self.post(
            &format!("{checklist}/stuck"),
            &[("reason", "Which admin account?")],
        )
        .await;
        h.service
            .clear_stuck(
                staff,
                p,
                self.task("checklist"),
                Some("The one named fw-admin."),
            )
            .await
            .unwrap();
        self.post(
            &format!("{checklist}/due-date"),
            &[("date", "2026-12-20"), ("due_reason", "Our admin is away")],
        )
        .await;
        h.service
            .decide_due_date(
                staff,
                p,
                self.task("checklist"),
                1,
                true,
                Some("Two more weeks are fine."),
            )
            .await
            .unwrap();
        h.service
            .staff_add_comment(
                staff,
                p,
                self.task("checklist"),
                "A photo is fine.\nThanks!",
            )
            .await
            .unwrap();
        self.post(
            &format!("{checklist}/comments"),
            &[("comment", "Here it is.")],
        )
        .await;
        // Meeting: a due date declined (a refusal always says why).
        let meeting = task("meeting");
        self.post(
            &format!("{meeting}/due-date"),
            &[("date", "2026-12-20"), ("due_reason", "Our admin is away")],
        )
        .await;
        h.service
            .decide_due_date(
                staff,
                p,
                self.task("meeting"),
                1,
                false,
                Some("We need the call before the migration."),
            )
            .await
            .unwrap();
        // Survey submitted, training completed.
        self.post(
            &format!("{}/form", task("survey")),
            &[
                ("q.sites", "3"),
                ("q.host", "1"),
                ("q.apps", "0"),
                ("q.apps", "2"),
                ("q.score", "4"),
                ("action", "submit"),
            ],
        )
        .await;
        self.post(&format!("{}/complete", task("training")), &[])
            .await;
        // Upload: a file rejected with notes.
        let csrf = check_csrf(&self.en).await;
        self.send_file(
            &format!("{}/documents/d", task("upload")),
            upload_form(
                &csrf,
                "diagram.pdf",
                b"%PDF-1.7\n% a network diagram\n%%EOF\n",
            ),
        )
        .await;
        let file = h
            .store
            .document_files(p)
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.document_id == "d")
            .unwrap();
        h.service
            .review_document(
                staff,
                p,
                file.id,
                Verdict::Reject {
                    notes: "This diagram is from 2019. Please send the current one.".into(),
                },
            )
            .await
            .unwrap();
        // A file waiting for the MSP's review.
        let csrf = check_csrf(&self.en).await;
        self.send_file(
            &format!("{}/documents/floor", task("upload_in_review")),
            upload_form(&csrf, "floor-plan.pdf", b"%PDF-1.7\n% floor plan\n%%EOF\n"),
        )
        .await;
        // Approval: the shared document opened, then rejected with a comment.
        let approval = task("approval");
        let page = self.en.get(&approval).await;
        let open = page
            .body
            .split("href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|s| s.contains("/shared/") && !s.contains('?'))
            .unwrap()
            .to_owned();
        assert_eq!(self.en.get(&open).await.status, 200);
        self.post(
            &format!("{approval}/decision"),
            &[("decision", "reject"), ("comment", "Dates are fine by us.")],
        )
        .await;
        // Credentials submitted, the second signature signed.
        self.post(
            &format!("{}/credentials", task("credentials")),
            &[
                ("username", "fw-admin"),
                ("password", "Tr0ub4dor&3-sent"),
                ("api_key", "key-0123456789"),
                ("notes", ""),
            ],
        )
        .await;
        self.post(
            &format!("{}/signature", task("sign_open")),
            &[
                ("drawn", ""),
                ("typed_name", "Dana Whitfield, Acme"),
                ("consent", "1"),
            ],
        )
        .await;
        // File drop: one file kept, one deleted.
        let drops = task("drops");
        for name in ["firewall.conf", "old-backup.conf"] {
            let csrf = check_csrf(&self.en).await;
            let body = multipart(&[Part::Field("csrf", &csrf), Part::File(name, &filler(2048))]);
            self.send_file(&format!("{drops}/drops"), body).await;
        }
        let gone = h
            .store
            .dropped_files(p, self.task("drops"))
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.name == "old-backup.conf")
            .unwrap();
        self.post(&format!("{drops}/drops/{}/delete", gone.id), &[])
            .await;
        // The MSP downloaded the kept file and purged the credentials.
        let kept = h
            .store
            .dropped_files(p, self.task("drops"))
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.name == "firewall.conf")
            .unwrap();
        let (_file, _content) = h
            .service
            .download_dropped_file(staff, p, kept.id)
            .await
            .unwrap();
        h.service
            .purge_credentials(staff, p, self.task("credentials"))
            .await
            .unwrap();
        // Hand-off: taken on, then handed to Ann.
        let hand = task("hand_off");
        self.post(&format!("{hand}/claim"), &[]).await;
        self.post(
            &format!("{hand}/hand-off"),
            &[("to", &self.ann), ("note", "")],
        )
        .await;
    }

    /// The data the pages show as typed: the seed, what the walk typed, the hashes.
    async fn data(&self, pages: &[(String, String, String)]) -> BTreeSet<String> {
        let mut data = data_of(&self.h).await;
        data.extend(self.typed.iter().cloned());
        let company = &self.h.portal.branding.company_name;
        for (_, task) in &self.tasks {
            // The page's <title>: the task's title and the company, joined by a dot.
            let title = &self
                .h
                .service
                .staff_task(&self.h.staff, self.h.portal.id, *task)
                .await
                .unwrap()
                .title;
            data.insert(format!("{title} · {company}"));
            // The thread is stored text: what people wrote, and the lines the core
            // writes into it as the client's own when they are stuck or hand a task
            // on (in the language they read then: see the test below).
            for c in self
                .h
                .store
                .comments(self.h.portal.id, *task)
                .await
                .unwrap()
            {
                data.insert(c.author.name().to_owned());
                data.insert(c.body.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }
        // SHA-256 fingerprints are codes, not words.
        for (_, en, _) in pages {
            data.extend(
                visible_text(en)
                    .into_iter()
                    .filter(|t| t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit())),
            );
        }
        data
    }
}

fn assert_complete(pages: &[(String, String, String)], data: &BTreeSet<String>) {
    let missing = portal_core::i18n::missing();
    assert!(
        missing.is_empty(),
        "messages the catalog lacks: {missing:#?}"
    );
    let mut problems = Vec::new();
    for (name, en, es) in pages {
        assert!(en.contains(r#"<html lang="en">"#), "{name}");
        assert!(es.contains(r#"<html lang="es">"#), "{name}");
        let left = leftovers(en, es, data);
        if !left.is_empty() {
            problems.push(format!("{name}: {left:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "English left on Spanish task pages:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn every_task_page_is_complete_in_spanish() {
    let walk = Walk::start().await;
    let mut pages = walk.read_all("open").await;
    walk.work().await;
    pages.extend(walk.read_all("worked").await);
    // The states the walk is about are really on the pages it read.
    let worked = |name: &str| {
        pages
            .iter()
            .find(|(n, _, _)| n == &format!("worked/{name}"))
            .map(|(_, en, es)| (en.as_str(), es.as_str()))
            .unwrap()
    };
    let opened = |name: &str| {
        pages
            .iter()
            .find(|(n, _, _)| n == &format!("open/{name}"))
            .map(|(_, en, es)| (en.as_str(), es.as_str()))
            .unwrap()
    };
    for (page, en, es) in [
        (
            "open/approval",
            "Open the document before you decide",
            "Abra el documento antes de decidir",
        ),
        (
            "open/assign",
            "Acme MSP does this task.",
            "Acme MSP se encarga de esta tarea.",
        ),
        ("open/standard", "Take this task on", "Asumir esta tarea"),
        ("open/sign_open", "Draw your signature", "Dibuje su firma"),
        (
            "open/credentials",
            "Submit Credentials",
            "Enviar credenciales",
        ),
        (
            "open/drops",
            "No files dropped yet.",
            "Todavía no se ha depositado",
        ),
    ] {
        let (e, s) = opened(page.trim_start_matches("open/"));
        assert!(e.contains(en), "{page}: {e}");
        assert!(s.contains(es), "{page}: {s}");
    }
    for (page, en, es) in [
        (
            "standard",
            "Waiting for Acme MSP to help.",
            "Esperando la ayuda de Acme MSP.",
        ),
        (
            "standard",
            "Hand this task to a colleague",
            "Traspasar esta tarea a un compañero",
        ),
        ("checklist", "Approved by ", "Aprobada por "),
        ("checklist", "answered on", "respondió el"),
        ("checklist", "A photo is fine.", "A photo is fine."),
        ("meeting", "Declined by ", "Rechazada por "),
        (
            "upload",
            "This diagram is from 2019.",
            "This diagram is from 2019.",
        ),
        (
            "approval",
            "✗ Rejected by Dana Whitfield",
            "✗ Rechazada por Dana Whitfield",
        ),
        ("credentials", "✓ Submitted by", "✓ Enviadas por"),
        ("sign_open", "✓ Signed by", "✓ Firmado por"),
        (
            "drops",
            "Deleted: no longer available.",
            "Eliminado: ya no está disponible.",
        ),
        ("drops", "expires in 7 days", "caduca en 7 días"),
        (
            "drops",
            "Downloaded by your onboarding team",
            "Descargado por su equipo",
        ),
        (
            "credentials",
            "has since deleted them",
            "ya las ha eliminado",
        ),
        (
            "upload_in_review",
            "Waiting for Acme MSP to review",
            "Pendiente de revisión por Acme MSP",
        ),
        (
            "locked",
            "once what it waits for is done",
            "cuando esté terminado lo que la precede",
        ),
        (
            "meeting_unscheduled",
            "will schedule this meeting",
            "programará esta reunión",
        ),
        ("hand_off", "With Ann Colleague", "A cargo de Ann Colleague"),
        ("training", "✓ Completed by", "✓ Completada por"),
    ] {
        let (e, s) = worked(page);
        assert!(e.contains(en), "worked/{page}: {en}\n{e}");
        assert!(s.contains(es), "worked/{page}: {es}\n{s}");
    }
    let data = walk.data(&pages).await;
    assert_complete(&pages, &data);
}

/// Spanish snapshots of two task pages: the checklist with an item ticked and a
/// thread, and the approval gated on its shared document.
#[tokio::test]
async fn spanish_task_snapshots() {
    let h = Harness::start(Options::memory()).await;
    let b = signed_in(&h, "es-ES,es;q=0.9").await;
    h.service
        .staff_set_checklist_item(&h.staff, h.portal.id, h.tasks["checklist"], "a", true)
        .await
        .unwrap();
    h.service
        .staff_add_comment(
            &h.staff,
            h.portal.id,
            h.tasks["checklist"],
            "A photo is fine.\nThanks!",
        )
        .await
        .unwrap();
    h.service
        .attach_file(
            &h.staff,
            h.portal.id,
            h.tasks["approval"],
            "Migration plan.pdf",
            Box::pin(stream_of(vec![Bytes::from_static(PLAN)])),
        )
        .await
        .unwrap();
    let checklist = b.get(&format!("/tasks/{}", h.tasks["checklist"])).await;
    let approval = b.get(&format!("/tasks/{}", h.tasks["approval"])).await;
    assert_eq!(checklist.status, 200);
    assert_eq!(approval.status, 200);
    let _guard = super::snapshots::settings().bind_to_scope();
    insta::assert_snapshot!("es_task_checklist", checklist.body);
    insta::assert_snapshot!("es_task_approval_gated", approval.body);
}

/// The line the portal writes into the thread as the client's own "I'm stuck" is in the
/// language the client read the page in: stored so, shown so to everyone.
#[tokio::test]
async fn the_stuck_line_is_written_in_the_clients_language() {
    use portal_core::i18n::{Language, message};
    for (accept, language) in [("es-MX,es;q=0.9", Language::Es), ("en-GB", Language::En)] {
        let h = Harness::start(Options::memory()).await;
        let mut b = h.browser();
        b.accept_language = Some(accept.to_owned());
        h.sign_in(&b).await;
        let task = h.tasks["standard"];
        let path = format!("/tasks/{task}");
        let csrf = b.get(&path).await.csrf();
        let posted = b
            .post(
                &format!("{path}/stuck"),
                &[("csrf", &csrf), ("reason", "¿Qué cuenta de administrador?")],
            )
            .await;
        assert!(
            posted.status == 303 || posted.status == 200,
            "{}",
            posted.body
        );
        let line = message(
            language,
            "thread-stuck",
            &[("reason", "¿Qué cuenta de administrador?".into())],
        );
        let bodies: Vec<String> = h
            .store
            .comments(h.portal.id, task)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.body)
            .collect();
        assert_eq!(bodies, std::slice::from_ref(&line), "{accept}");
        assert!(b.get(&path).await.text().contains(&line), "{accept}");
    }
    assert!(message(Language::Es, "thread-stuck", &[("reason", "x".into())]).starts_with("Estoy"));
}
