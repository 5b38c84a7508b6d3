//! The credential handoff task over HTTP: the client's form (and its snapshots), what
//! a refused submission answers (a clear page, nothing stored), and a submitted
//! password that shows up on no client page, in no response, in no log line and in
//! neither the SQLite file nor its WAL.

use std::sync::Arc;

use portal_core::model::{Side, TaskKind};
use portal_core::{Store, TaskSpec};
use portal_tests::{Harness, Options};

use super::snapshots::settings;
use crate::logs;

/// Adds a client credential handoff task to the harness's portal and answers its page.
async fn credential_task(h: &Harness, api_key: bool) -> String {
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Access")
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
                title: "Share the firewall admin account".into(),
                description: "We need it to plan the migration.".into(),
                assignee: Side::Client,
                kind: TaskKind::CredentialHandoff { api_key },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    format!("/tasks/{task}")
}

async fn submitted(h: &Harness, path: &str) -> bool {
    let id = path.rsplit('/').next().unwrap().parse().unwrap();
    h.store.credentials(h.portal.id, id).await.is_ok()
}

#[tokio::test]
async fn credential_page_before_refused_and_after() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let path = credential_task(&h, true).await;
    let before = b.get(&path).await;
    assert_eq!(before.status, 200);
    // The toggle is a real button bound to the field, hidden until the script runs;
    // the script is the portal's one static asset, loaded with the page's nonce.
    assert!(before.body.contains(r#"type="password""#));
    assert!(
        before
            .body
            .contains(r#"aria-controls="cred-password" aria-pressed="false" hidden"#)
    );
    assert!(before.body.contains("/assets/documents.js?v="));
    assert!(before.body.contains("Submit Credentials"));
    let csrf = before.csrf();
    let refused = b
        .post(
            &format!("{path}/credentials"),
            &[
                ("csrf", &csrf),
                ("username", "fw-admin"),
                ("password", "Tr0ub4dor&3-refused"),
                ("api_key", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .text()
            .contains("Nothing was sent. The API key is required.")
    );
    assert!(!refused.body.contains("Tr0ub4dor&3-refused"));
    assert!(!refused.body.contains("fw-admin"));
    assert!(!submitted(&h, &path).await);
    let sent = b
        .post(
            &format!("{path}/credentials"),
            &[
                ("csrf", &csrf),
                ("username", "fw-admin"),
                ("password", "Tr0ub4dor&3-sent"),
                ("api_key", "key-0123456789"),
                ("notes", "MFA: ask Dana for the code."),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let after = b.get(&sent.header("location")).await;
    assert_eq!(after.status, 200);
    let text = after.text();
    // Who and when, in the contact's zone with the zone named; no field, no value.
    assert!(text.contains("✓ Submitted by "), "{text}");
    assert!(!text.contains("cred-password"));
    for value in ["fw-admin", "Tr0ub4dor&3-sent", "key-0123456789", "ask Dana"] {
        assert!(!text.contains(value), "{value}");
    }
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!("task_credentials", before.body);
    insta::assert_snapshot!("task_credentials_refused", refused.body);
    insta::assert_snapshot!("task_credentials_submitted", after.body);
}

/// Control characters, blanks, a 1 MiB value and a second submission: each a clear
/// page with its status and what to do, and nothing stored or changed.
#[tokio::test]
async fn hostile_credentials_are_refused_and_change_nothing() {
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let path = credential_task(&h, false).await;
    let action = format!("{path}/credentials");
    let csrf = b.get(&path).await.csrf();
    let cases: [(&str, &str, &str, u16, &str); 5] = [
        ("", "pw", "", 422, "The username is required."),
        ("admin", "   ", "", 422, "The password is required."),
        (
            "admin",
            "pass\u{0}word",
            "",
            422,
            "The password contains control characters",
        ),
        (
            "ad\u{1b}[31mmin",
            "pw",
            "",
            422,
            "The username contains control characters",
        ),
        (
            "admin",
            "pw",
            "bell\u{7}",
            422,
            "The notes contains control characters",
        ),
    ];
    for (username, password, notes, status, message) in cases {
        let page = b
            .post(
                &action,
                &[
                    ("csrf", &csrf),
                    ("username", username),
                    ("password", password),
                    ("notes", notes),
                ],
            )
            .await;
        assert_eq!(page.status, status, "{message}");
        assert!(page.text().contains(message), "{message}:\n{}", page.body);
        assert!(page.body.contains(r#"aria-invalid="true""#), "{message}");
        assert!(!submitted(&h, &path).await, "{message}");
    }
    // Over the field's limit, within the form's: the core's rule says so.
    let long = "x".repeat(5 * 1024);
    let page = b
        .post(
            &action,
            &[("csrf", &csrf), ("username", "admin"), ("password", &long)],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.text()
            .contains("The password is too long: at most 4 KiB.")
    );
    assert!(!page.body.contains(&long));
    // 1 MiB: the form limit refuses it while it streams in.
    let huge = "y".repeat(1024 * 1024);
    let page = b
        .post(
            &action,
            &[("csrf", &csrf), ("username", "admin"), ("password", &huge)],
        )
        .await;
    assert_eq!(page.status, 413);
    assert!(
        page.text().contains("larger than this form accepts"),
        "{}",
        page.body
    );
    assert!(!submitted(&h, &path).await);
    // The first good submission is kept; a second one is refused and changes nothing.
    let ok = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("password", "first"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let id = path.rsplit('/').next().unwrap().parse().unwrap();
    let stored = h.store.credentials(h.portal.id, id).await.unwrap();
    let again = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("password", "second"),
            ],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.text().contains("✓ Submitted by "), "{}", again.body);
    assert_eq!(h.store.credentials(h.portal.id, id).await.unwrap(), stored);
    // A task of another kind takes no credentials.
    let other = format!("/tasks/{}/credentials", h.tasks["standard"]);
    let page = b
        .post(
            &other,
            &[("csrf", &csrf), ("username", "admin"), ("password", "pw")],
        )
        .await;
    assert_eq!(page.status, 409, "{}", page.body);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A password submitted through the form is on no page the client can open, in no
/// response, in no log line (TRACE), and in neither the database nor its WAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_password_is_nowhere_in_pages_logs_or_sqlite() {
    let logs = logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("portal.db");
    let store: Arc<dyn Store> =
        Arc::new(portal_storage_sqlite::SqliteStore::open(&db).await.unwrap());
    let h = Harness::start(Options {
        store,
        ..Options::memory()
    })
    .await;
    let b = h.browser();
    h.sign_in(&b).await;
    let path = credential_task(&h, true).await;
    let password = "PW-MARKER-e2e-7f3a9c1d5b";
    let api_key = "APIKEY-MARKER-e2e-0c4e8a2f6d";
    let csrf = b.get(&path).await.csrf();
    let sent = b
        .post(
            &format!("{path}/credentials"),
            &[
                ("csrf", &csrf),
                ("username", "fw-admin"),
                ("password", password),
                ("api_key", api_key),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let mut bodies = vec![(format!("POST {path}/credentials"), sent.body.clone())];
    let mut pages = vec![
        "/".to_owned(),
        "/?tab=progress".to_owned(),
        "/?tab=documents".to_owned(),
        "/?tab=approvals".to_owned(),
        "/questions".to_owned(),
        path.clone(),
        format!("{path}?done=credentials"),
    ];
    pages.extend(h.tasks.values().map(|t| format!("/tasks/{t}")));
    for p in pages {
        let page = b.get(&p).await;
        assert_eq!(page.status, 200, "{p}");
        bodies.push((p, page.body));
    }
    // A second submission's and a refused one's answers too.
    for pw in ["", password] {
        let page = b
            .post(
                &format!("{path}/credentials"),
                &[("csrf", &csrf), ("username", "u"), ("password", pw)],
            )
            .await;
        assert!(page.status.as_u16() >= 400);
        bodies.push((format!("refused POST ({})", page.status), page.body));
    }
    for (what, body) in &bodies {
        for secret in [password, api_key] {
            assert!(!body.contains(secret), "{secret} in {what}");
        }
    }
    // Positive control: the MSP's audited reveal gives it back, so it was stored.
    let id = path.rsplit('/').next().unwrap().parse().unwrap();
    let revealed = h
        .service
        .reveal_credentials(&h.staff, h.portal.id, id, "e2e scan control")
        .await
        .unwrap();
    assert!(revealed.iter().any(|(_, v)| v.expose_secret() == password));
    let log = logs.text();
    assert!(log.contains("task_action"), "the capture works");
    for secret in [password, api_key] {
        assert!(!log.contains(secret), "{secret} in the logs");
    }
    // The database and its WAL, while open.
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap().path();
        let bytes = std::fs::read(&entry).unwrap();
        scanned += 1;
        for secret in [password, api_key] {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{secret} in {}",
                entry.display()
            );
        }
    }
    assert!(scanned >= 2, "the database and its WAL were scanned");
    assert!(dir.path().join("portal.db-wal").exists());
}

/// A handoff that waits for another task is locked like any other task: a hand-made
/// submit is refused with what it waits for, and nothing is stored.
#[tokio::test]
async fn a_locked_handoff_refuses_the_submit_and_stores_nothing() {
    use portal_core::workflow::plan::TaskEdit;
    let h = Harness::start(Options::memory()).await;
    let b = h.browser();
    h.sign_in(&b).await;
    let path = credential_task(&h, false).await;
    let task: portal_core::TaskId = path.rsplit('/').next().unwrap().parse().unwrap();
    let version = h
        .service
        .plan(&h.staff, h.portal.id)
        .await
        .unwrap()
        .task(task)
        .unwrap()
        .version;
    h.service
        .edit_task(
            &h.staff,
            h.portal.id,
            task,
            version,
            TaskEdit {
                waits_on: Some(vec![h.tasks["checklist"]]),
                ..TaskEdit::default()
            },
        )
        .await
        .unwrap();
    let page = b.get(&path).await;
    assert!(page.body.contains("Waiting for:"), "{}", page.body);
    let refused = b
        .post(
            &format!("{path}/credentials"),
            &[
                ("csrf", &page.csrf()),
                ("username", "fw-admin"),
                ("password", "locked-task-password"),
            ],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused
            .text()
            .contains("This task is waiting for: Prepare workstations"),
        "{}",
        refused.text()
    );
    assert!(!submitted(&h, &path).await, "nothing stored");
    let chain = h.store.audit_events(h.portal.id, 0, 100).await.unwrap();
    assert!(
        chain
            .iter()
            .all(|e| e.entry.kind != "credentials_submitted"),
        "nothing appended"
    );
}
