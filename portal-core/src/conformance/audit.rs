//! Conformance checks of [`crate::store::AuditStore`]: appends sealed by the rule and
//! numbered per portal, refusals that append nothing, history that never changes,
//! 50 racing appends without a gap or a loss, and the events appended in the same
//! unit as the document changes they record.

use std::sync::Arc;

use super::documents::{documents_kind, review_decision, upload, upload_decision};
use super::support::{World, assert_err, client, secs, staff, t0, world};
use super::workflow::task_in;
use crate::audit::{AuditEntry, AuditEvent, ChainedEvent, GENESIS, event_hash, verify_chain};
use crate::error::{Entity, Error};
use crate::ids::{PortalId, TaskId, TenantId};
use crate::random::OsRandom;
use crate::scan::ScanVerdict;
use crate::store::{Erasure, Store};
use crate::workflow::documents::Verdict;

/// An entry of `w`'s portal, `n` seconds after the epoch (with a sub-microsecond part
/// the entry drops, as every store must read it back).
fn entry_of(w: &World, n: i64) -> AuditEntry {
    AuditEntry::new(
        w.tenant.id,
        w.portal.id,
        t0() + secs(n) + chrono::TimeDelta::nanoseconds(123_456_789),
        staff(),
        &AuditEvent::CredentialsRevealed {
            task: TaskId::random(&OsRandom),
            reason: format!("ticket #{n}: set up the firewall"),
            fields: vec!["username".into(), "password".into()],
        },
    )
}

async fn chain(store: &dyn Store, portal: PortalId) -> Vec<ChainedEvent> {
    store.audit_events(portal, 0, usize::MAX).await.unwrap()
}

/// Checks numbering, links and hashes of `events` from 1, naming the broken point.
fn assert_sealed(events: &[ChainedEvent]) {
    let mut prev = GENESIS;
    for (i, e) in events.iter().enumerate() {
        assert_eq!(
            e.seq,
            i as u64 + 1,
            "events are numbered 1, 2, 3, ... per portal"
        );
        assert_eq!(
            e.prev_hash, prev,
            "event {} links to the previous hash",
            e.seq
        );
        assert_eq!(
            e.hash,
            event_hash(&e.prev_hash, e.seq, &e.entry),
            "event {} is sealed by audit::seal",
            e.seq
        );
        prev = e.hash;
    }
    assert!(verify_chain(events).intact(), "the chain verifies");
}

/// `append_audit`: sealed by the rule, numbered per portal, read back exactly;
/// paging; refusals (missing portal, entry of another tenant) append nothing.
pub async fn audit_chain_appends(store: &dyn Store) {
    let a = world(store).await;
    let b = world(store).await;
    let mut appended = Vec::new();
    for n in 0..3 {
        let entry = entry_of(&a, n);
        let e = store.append_audit(&entry).await.unwrap();
        assert_eq!(e.entry, entry, "the event keeps the entry as given");
        appended.push(e);
    }
    assert_sealed(&appended);
    assert_eq!(
        chain(store, a.portal.id).await,
        appended,
        "read back exactly"
    );
    assert_eq!(
        store.audit_events(a.portal.id, 1, 1).await.unwrap(),
        appended[1..2],
        "after and limit page the chain"
    );
    assert!(
        store
            .audit_events(a.portal.id, 0, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .audit_events(a.portal.id, 3, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let first_b = store.append_audit(&entry_of(&b, 9)).await.unwrap();
    assert_eq!(first_b.seq, 1, "each portal has its own chain");
    assert_eq!(first_b.prev_hash, GENESIS);

    let mut missing = entry_of(&a, 4);
    missing.portal_id = PortalId::random(&OsRandom);
    assert_err!(
        store.append_audit(&missing).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
    assert!(
        chain(store, missing.portal_id).await.is_empty(),
        "a missing portal has no chain"
    );
    let mut foreign = entry_of(&a, 4);
    foreign.tenant_id = b.tenant.id;
    assert_err!(
        store.append_audit(&foreign).await,
        Error::Invalid { field: "audit", .. }
    );
    let mut foreign = entry_of(&a, 4);
    foreign.tenant_id = TenantId::random(&OsRandom);
    assert_err!(
        store.append_audit(&foreign).await,
        Error::Invalid { field: "audit", .. }
    );
    assert_eq!(
        chain(store, a.portal.id).await,
        appended,
        "refused appends append nothing"
    );
    let next = store.append_audit(&entry_of(&a, 5)).await.unwrap();
    assert_eq!(next.seq, 4, "refused appends draw no number");
    assert_eq!(next.prev_hash, appended[2].hash);
    assert_eq!(chain(store, b.portal.id).await, vec![first_b]);
}

/// Append-only: every later read answers the earlier events exactly as appended.
pub async fn audit_history_unchanged(store: &dyn Store) {
    let w = world(store).await;
    let mut appended = Vec::new();
    for n in 0..3 {
        appended.push(store.append_audit(&entry_of(&w, n)).await.unwrap());
    }
    let before = chain(store, w.portal.id).await;
    assert_eq!(before, appended);
    for n in 3..6 {
        appended.push(store.append_audit(&entry_of(&w, n)).await.unwrap());
    }
    let after = chain(store, w.portal.id).await;
    assert_eq!(after.len(), 6);
    assert_eq!(after[..3], before[..], "earlier events never change");
    assert_eq!(after, appended);
    assert_sealed(&after);
}

/// 50 concurrent appends to one portal: 50 distinct consecutive numbers, each linked
/// to the one before, none lost.
pub async fn concurrent_audit_appends(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let n = 50;
    let calls = (0..n)
        .map(|i| {
            let store = store.clone();
            let entry = entry_of(&w, i);
            async move { store.append_audit(&entry).await }
        })
        .collect();
    let mut returned: Vec<ChainedEvent> = super::support::race_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("every concurrent append succeeds"))
        .collect();
    returned.sort_by_key(|e| e.seq);
    let numbers: Vec<u64> = returned.iter().map(|e| e.seq).collect();
    assert_eq!(
        numbers,
        (1..=n as u64).collect::<Vec<_>>(),
        "50 distinct consecutive numbers"
    );
    let stored = chain(store.as_ref(), w.portal.id).await;
    assert_eq!(stored, returned, "no appended event is lost or changed");
    assert_sealed(&stored);
}

/// Uploads and reviews append their event in the same unit; refused ones append
/// nothing; erasing the portal erases its chain.
pub async fn audit_with_document_changes(store: &dyn Store) {
    let w = world(store).await;
    let task = task_in(store, &w, documents_kind()).await;
    let up = upload("diagram", "net.pdf", ScanVerdict::Clean);
    let file = store
        .add_document_file(
            w.portal.id,
            task.id,
            upload_decision(&w, up, client(&w.contact), t0() + secs(1)),
        )
        .await
        .unwrap();
    let events = chain(store, w.portal.id).await;
    assert_eq!(events.len(), 1, "an upload appends one event");
    assert_eq!(events[0].entry.kind, "document_uploaded");
    assert_eq!(
        events[0].entry.field("file"),
        Some(file.id.to_string().as_str())
    );
    assert_eq!(events[0].entry.actor, client(&w.contact));

    // Refused: a document the task does not ask for.
    let bad = upload("nothing-such", "x.pdf", ScanVerdict::Clean);
    assert!(
        store
            .add_document_file(
                w.portal.id,
                task.id,
                upload_decision(&w, bad, client(&w.contact), t0() + secs(2)),
            )
            .await
            .is_err()
    );
    assert_eq!(
        chain(store, w.portal.id).await.len(),
        1,
        "a refused upload appends nothing"
    );

    // An upload whose audit entry cannot join the chain (another portal's) is refused
    // whole: no file, no task change, no event.
    let other = world(store).await;
    let up = upload("diagram", "y.pdf", ScanVerdict::Clean);
    let file_id = up.id;
    let inner = upload_decision(&w, up, client(&w.contact), t0() + secs(2));
    let (foreign_portal, foreign_tenant) = (other.portal.id, other.tenant.id);
    let foreign: crate::workflow::documents::UploadDecision = Arc::new(move |t| {
        let mut change = inner(t)?;
        if let Some(a) = change.audit.as_mut() {
            a.portal_id = foreign_portal;
            a.tenant_id = foreign_tenant;
        }
        Ok(change)
    });
    let before = store.task(w.portal.id, task.id).await.unwrap();
    assert_err!(
        store.add_document_file(w.portal.id, task.id, foreign).await,
        Error::Invalid { field: "audit", .. }
    );
    assert_err!(
        store.document_file(w.portal.id, file_id).await,
        Error::NotFound {
            entity: Entity::File
        }
    );
    assert_eq!(store.task(w.portal.id, task.id).await.unwrap(), before);
    assert_eq!(chain(store, w.portal.id).await.len(), 1);
    assert!(chain(store, other.portal.id).await.is_empty());

    store
        .update_document_file(
            w.portal.id,
            file.id,
            review_decision(Verdict::Approve { notes: None }, t0() + secs(3)),
        )
        .await
        .unwrap();
    assert_err!(
        store
            .update_document_file(
                w.portal.id,
                file.id,
                review_decision(Verdict::Approve { notes: None }, t0() + secs(4)),
            )
            .await,
        Error::Conflict { .. }
    );
    let events = chain(store, w.portal.id).await;
    assert_eq!(
        events.len(),
        2,
        "a review appends one event, a refused one none"
    );
    assert_eq!(events[1].entry.kind, "document_reviewed");
    assert_eq!(events[1].entry.field("decision"), Some("approved"));
    assert_sealed(&events);

    let erasure = Erasure {
        tenant_id: w.tenant.id,
        portal_id: w.portal.id,
        client_name: w.portal.client_name.clone(),
        at: t0() + secs(5),
        by: staff(),
        audit_head: None,
    };
    store.delete_portal(w.portal.id, &erasure).await.unwrap();
    assert_eq!(
        store.erasures(w.tenant.id).await.unwrap()[0].audit_head,
        Some(events[1].head()),
        "the erasure log keeps the erased chain's head"
    );
    assert!(
        chain(store, w.portal.id).await.is_empty(),
        "the chain is erased with its portal"
    );
}
