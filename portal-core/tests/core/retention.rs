//! Access-log retention through `PortalService::prune_access_log` and the background
//! `spawn_retention`, with the manual clock.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::RetentionPolicy;
use portal_core::memory::MemoryStore;
use portal_core::store::{AccessEvent, AccessLogEntry, RequestInfo};
use portal_core::testkit::{Seeded, TestService};

use crate::LogCapture;

/// A service whose prune removes at most three entries per store call, with the
/// default portal seeded.
async fn kit() -> (TestService, Seeded) {
    let kit = TestService::builder(Arc::new(MemoryStore::new()))
        .retention(RetentionPolicy {
            access_log: TimeDelta::days(400),
            batch: 3,
        })
        .build();
    let seeded = kit.seed_portal().await.unwrap();
    (kit, seeded)
}

async fn append(kit: &TestService, seeded: &Seeded, at: DateTime<Utc>) {
    kit.service
        .store()
        .record_access(&AccessLogEntry {
            at,
            portal_id: seeded.portal.id,
            contact_id: seeded.contact.id,
            event: AccessEvent::PortalRequest,
            request: RequestInfo::default(),
        })
        .await
        .unwrap();
}

async fn times(kit: &TestService, seeded: &Seeded) -> Vec<DateTime<Utc>> {
    kit.service
        .access_log(&seeded.staff, seeded.portal.id, None, 1000)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.at)
        .collect()
}

/// Entries older than the retention go, in batches larger than one store call; the
/// entry exactly 400 days old stays until the clock moves one second; newer ones stay;
/// the count and the cutoff are logged, and nothing about the people.
#[tokio::test]
async fn prune_removes_what_is_older_than_the_retention() {
    let (kit, seeded) = kit().await;
    let cutoff = kit.now() - TimeDelta::days(400);
    // Seven old entries: more than two full batches of three.
    for k in 1..=7 {
        append(&kit, &seeded, cutoff - TimeDelta::seconds(k)).await;
    }
    let kept = [cutoff, cutoff + TimeDelta::seconds(1), kit.now()];
    for at in kept {
        append(&kit, &seeded, at).await;
    }

    let logs = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let report = {
        let _guard = tracing::subscriber::set_default(subscriber);
        kit.service.prune_access_log().await.unwrap()
    };
    assert_eq!(report.cutoff, cutoff);
    assert_eq!(report.removed, 7, "three batches: 3 + 3 + 1");
    assert_eq!(
        times(&kit, &seeded).await,
        vec![kit.now(), cutoff + TimeDelta::seconds(1), cutoff],
        "the entry exactly 400 days old and the newer ones stay"
    );
    let text = logs.text();
    assert!(text.contains("pruned the access log"), "{text}");
    assert!(text.contains("removed=7"), "the count is logged: {text}");
    assert!(text.contains("batches=3"), "{text}");
    assert!(
        text.contains(&cutoff.to_rfc3339()),
        "the cutoff is logged: {text}"
    );
    assert!(
        !text.contains(seeded.contact.email.as_str()) && !text.contains(&seeded.contact.name),
        "no personal data in the log line: {text}"
    );

    assert_eq!(
        kit.service.prune_access_log().await.unwrap().removed,
        0,
        "idempotent"
    );
    kit.clock.advance(TimeDelta::seconds(1));
    let report = kit.service.prune_access_log().await.unwrap();
    assert_eq!(
        report.removed, 1,
        "a second later the boundary entry is too old"
    );
    assert_eq!(times(&kit, &seeded).await.len(), 2);
}

/// An exact multiple of the batch ends with an empty call, and the defaults are 400
/// days in batches of 1000.
#[tokio::test]
async fn prune_of_whole_batches_and_the_defaults() {
    let (kit, seeded) = kit().await;
    let cutoff = kit.now() - TimeDelta::days(400);
    for k in 1..=6 {
        append(&kit, &seeded, cutoff - TimeDelta::days(k)).await;
    }
    assert_eq!(kit.service.prune_access_log().await.unwrap().removed, 6);
    assert!(times(&kit, &seeded).await.is_empty());
    assert_eq!(
        RetentionPolicy::default(),
        RetentionPolicy {
            access_log: TimeDelta::days(400),
            batch: 1000
        }
    );
}

/// The background task prunes as soon as it starts.
#[tokio::test]
async fn spawned_retention_prunes_in_the_background() {
    let (kit, seeded) = kit().await;
    let old = kit.now() - TimeDelta::days(401);
    for _ in 0..4 {
        append(&kit, &seeded, old).await;
    }
    append(&kit, &seeded, kit.now()).await;
    let task =
        portal_core::service::spawn_retention(kit.service.clone(), Duration::from_secs(3600));
    let mut left = times(&kit, &seeded).await.len();
    for _ in 0..200 {
        if left == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        left = times(&kit, &seeded).await.len();
    }
    task.abort();
    assert_eq!(left, 1, "the old entries are pruned, the new one stays");
}
