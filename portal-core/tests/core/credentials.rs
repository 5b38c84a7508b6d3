//! Credential handoff through the service on the reference store, with every log line
//! captured at TRACE level: the submitted password and API key are in no log line and
//! no Debug output of the service, the store or what the use cases answer; the client
//! learns only who submitted and when; reveal and purge are audited.

use portal_core::credentials::{CredentialField, CredentialForm, SecretText};
use portal_core::model::{Side, TaskKind};
use portal_core::testkit::{TestService, member};
use portal_core::{Error, TaskSpec};

use crate::LogCapture;

const PASSWORD: &str = "Zq8!trace-never-sees-this";
const API_KEY: &str = "ak_9f3b2c1d0e";

#[tokio::test]
async fn no_log_line_or_debug_output_holds_a_submitted_credential() {
    // Every thread's logs at TRACE, this test's among them (other tests' lines too:
    // the scan only gets stricter).
    let logs = LogCapture::global();
    let marker = format!("credentials scan {:?}", std::thread::current().id());
    tracing::info!(marker = %marker, "log capture control");

    let store = std::sync::Arc::new(portal_core::memory::MemoryStore::new());
    let kit = TestService::new(store.clone(), 31);
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
            TaskSpec {
                title: "Router admin".into(),
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
        username: SecretText::new("router-admin"),
        password: SecretText::new(PASSWORD),
        api_key: Some(SecretText::new(API_KEY)),
        notes: None,
    };
    // Refusals first: control characters, a missing API key, a member's reveal.
    let bad = CredentialForm {
        password: SecretText::new(format!("{PASSWORD}\u{7}")),
        ..form.clone()
    };
    assert!(matches!(
        kit.service.submit_credentials(&ctx, task, &bad).await,
        Err(Error::Invalid {
            field: "password",
            ..
        })
    ));
    let no_key = CredentialForm {
        api_key: None,
        ..form.clone()
    };
    assert!(matches!(
        kit.service.submit_credentials(&ctx, task, &no_key).await,
        Err(Error::Invalid {
            field: "api_key",
            ..
        })
    ));
    let done = kit
        .service
        .submit_credentials(&ctx, task, &form)
        .await
        .unwrap();
    // The MSP is told, in the submission's unit, with no value in the email.
    let told: Vec<_> = kit
        .mailer
        .sent()
        .into_iter()
        .filter(|e| portal_core::testkit::RECIPIENTS.contains(&e.to.as_str()))
        .collect();
    assert_eq!(
        told.len(),
        portal_core::testkit::RECIPIENTS.len(),
        "{told:?}"
    );
    assert_eq!(
        told[0].subject,
        format!(
            "[{}] {} submitted credentials for “Router admin”",
            seeded.portal.client_name, seeded.contact.name
        )
    );
    insta::assert_snapshot!(
        "core__credentials_submitted_notification_text",
        told[0].text.clone()
    );
    insta::assert_snapshot!(
        "core__credentials_submitted_notification_html",
        told[0].html.clone()
    );
    let seen = kit.service.submitted_credentials(&ctx, task).await.unwrap();
    assert!(matches!(
        kit.service
            .reveal_credentials(&member(seeded.tenant.id), portal, task, "curious")
            .await,
        Err(Error::Forbidden { .. })
    ));
    let revealed = kit
        .service
        .reveal_credentials(staff, portal, task, "configure the VPN")
        .await
        .unwrap();
    assert!(
        revealed
            .iter()
            .any(|(f, v)| *f == CredentialField::Password && v.expose_secret() == PASSWORD)
    );
    kit.service
        .purge_credentials(staff, portal, task)
        .await
        .unwrap();
    let export = kit.service.export_audit_chain(staff, portal).await.unwrap();
    assert_eq!(export.lines().count(), 3, "submitted, revealed, purged");

    let debug = format!(
        "{:?} {:?} {form:?} {done:?} {seen:?} {revealed:?} {:?}",
        kit.service,
        store,
        kit.service.store().credentials(portal, task).await
    );
    let mails: String = kit
        .mailer
        .sent()
        .iter()
        .map(|e| format!("{}\n{}\n{}\n", e.subject, e.text, e.html))
        .collect();
    let text = format!("{}\n{debug}\n{export}\n{mails}", logs.text());
    assert!(logs.text().contains(&marker), "TRACE logging was captured");
    for secret in [PASSWORD, API_KEY, "trace-never"] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
}
