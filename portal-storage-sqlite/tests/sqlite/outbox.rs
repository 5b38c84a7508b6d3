//! The outbox on one database file opened twice, as two host processes would: each
//! `SqliteStore` has its own writer connection, and SQLite's write lock (`BEGIN
//! IMMEDIATE`) is all that keeps their claims apart. Racing senders of both never
//! claim one email twice, and an email queued by one is delivered by the other.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::TimeDelta;
use portal_core::conformance::race::race_all;
use portal_core::mail::Email;
use portal_core::model::EmailAddress;
use portal_core::outbox::{MailKind, MailState, OutboxMessage};
use portal_core::testkit::t0;
use portal_core::{ClaimToken, MailId, OsRandom, Store, TenantId};
use portal_storage_sqlite::SqliteStore;

use crate::temp_db;

fn email(n: usize) -> Email {
    Email {
        to: EmailAddress::parse(&format!("c{n}@contoso.example")).unwrap(),
        to_name: None,
        subject: format!("Message {n}"),
        text: "text".to_owned(),
        html: "<p>html</p>".to_owned(),
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_never_claim_an_email_twice() {
    let (_dir, path) = temp_db();
    let a: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let tenant = TenantId::random(&OsRandom);
    let queued: Vec<OutboxMessage> = (0..120)
        .map(|n| {
            OutboxMessage::new(
                MailId::random(&OsRandom),
                tenant,
                None,
                MailKind::StaffNotification,
                email(n),
                t0(),
            )
        })
        .collect();
    // Half queued through each handle.
    a.enqueue(&queued[..60]).await.unwrap();
    b.enqueue(&queued[60..]).await.unwrap();

    let claimers: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            async move {
                let claim = ClaimToken::random(&OsRandom);
                let mut mine = Vec::new();
                for _ in 0..60 {
                    let got = store
                        .claim_due(t0(), t0() + TimeDelta::minutes(5), 5, claim)
                        .await
                        .unwrap();
                    if got.is_empty() {
                        break;
                    }
                    for m in got {
                        assert!(store.mark_sent(m.id, claim, t0()).await.unwrap());
                        mine.push(m.id);
                    }
                }
                mine
            }
        })
        .collect();
    let claimed: Vec<Vec<MailId>> = race_all(claimers).await;
    let mut seen = HashSet::new();
    for id in claimed.iter().flatten() {
        assert!(seen.insert(*id), "an email was claimed twice");
    }
    assert_eq!(seen.len(), queued.len(), "every email was claimed");
    assert!(
        claimed.iter().filter(|c| !c.is_empty()).count() > 1,
        "the claimers shared the work"
    );
    for m in &queued {
        assert_eq!(
            b.outbox_message(m.id).await.unwrap().state,
            MailState::Sent,
            "recorded through either handle"
        );
    }
}
