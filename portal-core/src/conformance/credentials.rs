//! Conformance checks of [`crate::store::CredentialStore`]: one submission per task
//! with its task change and audit event, refusals that write nothing, reveals that
//! never happen without their event, purges that delete the ciphertext and keep the
//! events, portal scoping and erasure.

use super::outbox::{absent, mail, parked, read};
use super::support::{World, assert_err, client, decide, secs, staff, t0, world};
use super::workflow::task_in;
use crate::audit::{AuditEntry, AuditEvent};
use crate::blob::keyring::{KeyId, WrappedKey};
use crate::credentials::{CredentialField, CredentialRecord, SealedField};
use crate::error::{Entity, Error};
use crate::ids::PortalId;
use crate::model::{Task, TaskKind, TaskStatus};
use crate::random::{OsRandom, RandomSource};
use crate::store::{Erasure, Store};
use crate::workflow::{CheckMark, TaskAction};

fn sealed(field: CredentialField) -> SealedField {
    let mut ciphertext = vec![0u8; 48];
    OsRandom.fill(&mut ciphertext);
    ciphertext[0] = 1;
    SealedField {
        field,
        key: WrappedKey {
            key_id: KeyId::parse("k1").unwrap(),
            bytes: ciphertext[..40].to_vec(),
        },
        ciphertext,
    }
}

fn record(w: &World, task: &Task) -> CredentialRecord {
    CredentialRecord {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        task_id: task.id,
        submitted_by: client(&w.contact),
        submitted_at: t0() + secs(1),
        fields: vec![
            sealed(CredentialField::Username),
            sealed(CredentialField::Password),
        ],
        purged: None,
    }
}

fn event(w: &World, e: AuditEvent) -> AuditEntry {
    AuditEntry::new(w.tenant.id, w.portal.id, t0() + secs(1), staff(), &e)
}

pub(super) fn submitted(w: &World, task: &Task) -> AuditEntry {
    event(
        w,
        AuditEvent::CredentialsSubmitted {
            task: task.id,
            fields: vec!["username".into(), "password".into()],
        },
    )
}

fn revealed(w: &World, task: &Task) -> AuditEntry {
    event(
        w,
        AuditEvent::CredentialsRevealed {
            task: task.id,
            reason: "set up the firewall".into(),
            fields: vec!["password".into()],
        },
    )
}

async fn chain_len(store: &dyn Store, portal: PortalId) -> usize {
    store
        .audit_events(portal, 0, usize::MAX)
        .await
        .unwrap()
        .len()
}

async fn handoff(store: &dyn Store, w: &World) -> Task {
    task_in(store, w, TaskKind::CredentialHandoff { api_key: false }).await
}

fn complete() -> crate::store::TaskDecision {
    decide(
        TaskAction::Complete { notes: None },
        staff(),
        t0() + secs(1),
    )
}

/// `submit_credentials`: stored with its task change and event; a second submit, a
/// refused decision, a foreign record or audit entry, another portal: nothing written.
pub async fn credentials_submitted_once(store: &dyn Store) {
    let w = world(store).await;
    let task = handoff(store, &w).await;
    let rec = record(&w, &task);
    assert_err!(
        store.credentials(w.portal.id, task.id).await,
        Error::NotFound {
            entity: Entity::Credentials
        }
    );
    // Refused: the decision errs, the record names another tenant, the audit entry
    // another portal, the task is asked through another portal.
    let other = world(store).await;
    let refuse: crate::store::TaskDecision =
        std::sync::Arc::new(|_: &Task| Err(Error::conflict("no")));
    let lost = mail(&w, parked());
    assert_err!(
        store
            .submit_credentials(
                &rec,
                refuse,
                &submitted(&w, &task),
                std::slice::from_ref(&lost)
            )
            .await,
        Error::Conflict { .. }
    );
    let foreign = CredentialRecord {
        tenant_id: other.tenant.id,
        ..rec.clone()
    };
    assert_err!(
        store
            .submit_credentials(
                &foreign,
                complete(),
                &submitted(&w, &task),
                std::slice::from_ref(&lost)
            )
            .await,
        Error::Invalid {
            field: "credentials",
            ..
        }
    );
    let foreign_audit = AuditEntry {
        portal_id: other.portal.id,
        tenant_id: other.tenant.id,
        ..submitted(&w, &task)
    };
    assert_err!(
        store
            .submit_credentials(&rec, complete(), &foreign_audit, &[])
            .await,
        Error::Invalid { field: "audit", .. }
    );
    let elsewhere = CredentialRecord {
        portal_id: other.portal.id,
        ..rec.clone()
    };
    assert_err!(
        store
            .submit_credentials(&elsewhere, complete(), &submitted(&w, &task), &[])
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_eq!(store.task(w.portal.id, task.id).await.unwrap(), task);
    assert_eq!(
        chain_len(store, w.portal.id).await,
        0,
        "refusals append nothing"
    );
    assert_eq!(chain_len(store, other.portal.id).await, 0);
    absent(
        store,
        lost.id,
        "a refused submit_credentials queues nothing",
    )
    .await;

    let told = mail(&w, parked());
    let done = store
        .submit_credentials(
            &rec,
            complete(),
            &submitted(&w, &task),
            std::slice::from_ref(&told),
        )
        .await
        .unwrap();
    assert_eq!(
        done.status,
        TaskStatus::Completed,
        "the task change is written"
    );
    assert_eq!(store.task(w.portal.id, task.id).await.unwrap(), done);
    assert_eq!(store.credentials(w.portal.id, task.id).await.unwrap(), rec);
    let chain = store.audit_events(w.portal.id, 0, 10).await.unwrap();
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].entry.kind, "credentials_submitted");
    assert_eq!(
        read(store, told.id).await,
        told,
        "submit_credentials queues its emails in its unit"
    );

    // A second submit never replaces the first.
    let mut again = record(&w, &task);
    again.submitted_at = t0() + secs(5);
    let reopen: crate::store::TaskDecision = std::sync::Arc::new(|t: &Task| {
        Ok(crate::workflow::TaskChange {
            task: t.clone(),
            activity: super::workflow::entry(
                t.portal_id,
                t0() + secs(5),
                &staff(),
                crate::workflow::ActivityKind::TaskCompleted,
                "again",
            ),
        })
    });
    assert_err!(
        store
            .submit_credentials(&again, reopen, &submitted(&w, &task), &[])
            .await,
        Error::Conflict { .. }
    );
    assert_eq!(store.credentials(w.portal.id, task.id).await.unwrap(), rec);
    assert_eq!(chain_len(store, w.portal.id).await, 1);
    assert_err!(
        store.credentials(other.portal.id, task.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
}

/// Reveals append their event (none without it); a purge deletes the sealed fields,
/// keeps who purged and every event; nothing is revealed or purged after a purge;
/// erasing the portal erases its records.
pub async fn credentials_reveal_and_purge(store: &dyn Store) {
    let w = world(store).await;
    let task = handoff(store, &w).await;
    let rec = record(&w, &task);
    store
        .submit_credentials(&rec, complete(), &submitted(&w, &task), &[])
        .await
        .unwrap();
    let other = world(store).await;
    assert_err!(
        store
            .reveal_credentials(other.portal.id, task.id, &revealed(&w, &task))
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    let foreign_audit = AuditEntry {
        portal_id: other.portal.id,
        tenant_id: other.tenant.id,
        ..revealed(&w, &task)
    };
    assert_err!(
        store
            .reveal_credentials(w.portal.id, task.id, &foreign_audit)
            .await,
        Error::Invalid { field: "audit", .. }
    );
    assert_eq!(chain_len(store, w.portal.id).await, 1);

    let shown = store
        .reveal_credentials(w.portal.id, task.id, &revealed(&w, &task))
        .await
        .unwrap();
    assert_eq!(shown, rec);
    let chain = store.audit_events(w.portal.id, 0, 10).await.unwrap();
    assert_eq!(chain.len(), 2, "every reveal appends its event");
    assert_eq!(chain[1].entry.kind, "credentials_revealed");
    assert_eq!(chain[1].entry.field("reason"), Some("set up the firewall"));

    let mark = CheckMark {
        by: staff(),
        at: t0() + secs(9),
    };
    let purge = event(&w, AuditEvent::CredentialsPurged { task: task.id });
    store
        .purge_credentials(w.portal.id, task.id, &mark, &purge)
        .await
        .unwrap();
    let after = store.credentials(w.portal.id, task.id).await.unwrap();
    assert!(after.fields.is_empty(), "the ciphertext is gone");
    assert_eq!(after.purged, Some(mark.clone()));
    assert_eq!(after.submitted_by, rec.submitted_by, "who submitted stays");
    let chain = store.audit_events(w.portal.id, 0, 10).await.unwrap();
    assert_eq!(chain.len(), 3, "the events stay, with the purge's");
    assert_eq!(chain[2].entry.kind, "credentials_purged");
    assert!(crate::audit::verify_chain(&chain).intact());
    assert_err!(
        store
            .reveal_credentials(w.portal.id, task.id, &revealed(&w, &task))
            .await,
        Error::Conflict { .. }
    );
    assert_err!(
        store
            .purge_credentials(w.portal.id, task.id, &mark, &purge)
            .await,
        Error::Conflict { .. }
    );
    assert_eq!(chain_len(store, w.portal.id).await, 3);

    let erasure = Erasure {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        client_name: w.portal.client_name.clone(),
        at: t0() + secs(10),
        by: staff(),
        audit_head: None,
    };
    store.delete_portal(w.portal.id, &erasure).await.unwrap();
    assert_err!(
        store.credentials(w.portal.id, task.id).await,
        Error::NotFound { .. }
    );
}
