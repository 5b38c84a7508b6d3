//! Credential handoff on SQLite, end to end through the service: the submitted
//! password is nowhere in the database file or its WAL (nor in any Debug output of
//! what the client or staff get back), an admin reveal returns it with its audit
//! event, a purge deletes the ciphertext, and the chain still verifies.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use portal_core::credentials::{CredentialField, CredentialForm, SecretText};
use portal_core::model::{Side, TaskKind, TaskStatus};
use portal_core::testkit::TestService;
use portal_core::{Error, Store};
use portal_storage_sqlite::SqliteStore;

use crate::temp_db;

const PASSWORD: &str = "N0t-In-The-File!9c1e";
const API_KEY: &str = "sk_live_4f2a9d0e77b1";

fn raw_files(path: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .filter_map(|suffix| {
            let p = PathBuf::from(format!("{}{suffix}", path.display()));
            std::fs::read(&p).ok().map(|b| (p.display().to_string(), b))
        })
        .collect()
}

fn assert_nowhere(path: &Path, secrets: &[&str]) {
    for (file, bytes) in raw_files(path) {
        for secret in secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} found in {file}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_sealed_revealed_with_an_event_and_purged() {
    let (_dir, path) = temp_db();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let kit = TestService::new(store.clone(), 21);
    let seeded = kit.seed_portal().await.unwrap();
    let (staff, portal) = (&seeded.staff, seeded.portal.id);
    let phase = kit
        .service
        .add_phase(staff, portal, "Access")
        .await
        .unwrap();
    let task = kit
        .service
        .add_task(
            staff,
            portal,
            phase.id,
            portal_core::TaskSpec {
                title: "Firewall admin".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::CredentialHandoff { api_key: true },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let (_, ctx) = kit.sign_in(&seeded.contact).await.unwrap();
    let form = CredentialForm {
        username: SecretText::new("fw-admin"),
        password: SecretText::new(PASSWORD),
        api_key: Some(SecretText::new(API_KEY)),
        notes: Some(SecretText::new("MFA code from the desk phone")),
    };

    // Hostile input first: refused, nothing stored.
    let huge = CredentialForm {
        password: SecretText::new("x".repeat(1024 * 1024)),
        ..form.clone()
    };
    assert!(matches!(
        kit.service.submit_credentials(&ctx, task, &huge).await,
        Err(Error::Invalid {
            field: "password",
            ..
        })
    ));
    assert_eq!(
        kit.service.submitted_credentials(&ctx, task).await.unwrap(),
        None
    );

    let done = kit
        .service
        .submit_credentials(&ctx, task, &form)
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    let seen = kit
        .service
        .submitted_credentials(&ctx, task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.by.name(), "Jane Doe");
    assert!(!seen.purged);
    // A second submit changes nothing.
    assert!(matches!(
        kit.service.submit_credentials(&ctx, task, &form).await,
        Err(Error::Conflict { .. })
    ));
    let stored = store.credentials(portal, task).await.unwrap();
    assert_eq!(stored.fields.len(), 4);
    let debug = format!("{form:?} {seen:?} {stored:?} {done:?}");
    assert!(
        !debug.contains(PASSWORD) && !debug.contains(API_KEY),
        "{debug}"
    );
    drop(kit);
    assert_nowhere(&path, &[PASSWORD, API_KEY]);

    // A reveal needs a reason and appends its event.
    let kit = TestService::new(store.clone(), 21);
    assert!(matches!(
        kit.service
            .reveal_credentials(staff, portal, task, "   ")
            .await,
        Err(Error::Invalid {
            field: "reason",
            ..
        })
    ));
    let revealed = kit
        .service
        .reveal_credentials(staff, portal, task, "ticket 4411: firewall rules")
        .await
        .unwrap();
    let value = |f| {
        revealed
            .iter()
            .find(|(field, _)| *field == f)
            .map(|(_, v)| v.expose_secret().to_owned())
    };
    assert_eq!(value(CredentialField::Password).as_deref(), Some(PASSWORD));
    assert_eq!(value(CredentialField::ApiKey).as_deref(), Some(API_KEY));
    assert!(!format!("{revealed:?}").contains(PASSWORD));
    let chain = store.audit_events(portal, 0, 100).await.unwrap();
    let kinds: Vec<&str> = chain.iter().map(|e| e.entry.kind.as_str()).collect();
    assert_eq!(kinds, ["credentials_submitted", "credentials_revealed"]);
    assert_eq!(
        chain[1].entry.field("reason"),
        Some("ticket 4411: firewall rules")
    );
    assert_eq!(
        chain[1].entry.field("fields"),
        Some("username,password,api_key,notes")
    );

    // A ciphertext moved to another field of the same task does not open.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "UPDATE credential_fields SET ciphertext =
                (SELECT ciphertext FROM credential_fields WHERE field = 'username')
             WHERE field = 'password'",
        )
        .unwrap();
    }
    assert!(matches!(
        kit.service
            .reveal_credentials(staff, portal, task, "after the swap")
            .await,
        Err(Error::Integrity { .. })
    ));

    kit.service
        .purge_credentials(staff, portal, task)
        .await
        .unwrap();
    assert!(
        store
            .credentials(portal, task)
            .await
            .unwrap()
            .fields
            .is_empty()
    );
    assert!(matches!(
        kit.service
            .reveal_credentials(staff, portal, task, "again")
            .await,
        Err(Error::Conflict { .. })
    ));
    assert!(
        kit.service
            .submitted_credentials(&ctx, task)
            .await
            .unwrap()
            .unwrap()
            .purged
    );
    let report = kit.service.verify_audit_chain(staff, portal).await.unwrap();
    assert!(report.intact());
    // The failed reveal appended its event before the values failed to open: the
    // attempt is on record too.
    assert_eq!(report.events, 4);
    let count: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM credential_fields", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0, "the ciphertext is gone");
}
