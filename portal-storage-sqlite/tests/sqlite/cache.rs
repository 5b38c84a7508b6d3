//! The read cache behind the portal home.

use portal_core::model::{Branding, Side, TaskKind};
use portal_core::testkit::{TestService, request, t0};

use crate::fresh_store;

/// The read cache behind the portal home never serves what a write has changed.
#[tokio::test(flavor = "multi_thread")]
async fn cached_snapshot_and_activity_follow_every_write() {
    let (_dir, store) = fresh_store().await;
    let h = TestService::new(store.clone(), 77);
    let s = &h.service;
    let seeded = h.seed_portal().await.unwrap();
    let (portal, staff) = (seeded.portal, seeded.staff);
    let phase = s.add_phase(&staff, portal.id, "One").await.unwrap();
    let spec = |title: &str| portal_core::TaskSpec {
        title: title.into(),
        description: String::new(),
        assignee: Side::Client,
        kind: TaskKind::Standard,
        due_date: None,
    };
    let first = s
        .add_task(&staff, portal.id, phase.id, spec("First"))
        .await
        .unwrap();
    // Fill the cache, twice, then change things and read again. The setup is in the
    // feed: the portal created, its contact, phase and task added.
    let feed_len = || async { store.activity(portal.id, 100).await.unwrap().len() };
    for _ in 0..2 {
        assert_eq!(
            store.portal_snapshot(portal.id).await.unwrap().tasks.len(),
            1
        );
        assert_eq!(feed_len().await, 4);
    }
    s.add_task(&staff, portal.id, phase.id, spec("Second"))
        .await
        .unwrap();
    assert_eq!(
        store.portal_snapshot(portal.id).await.unwrap().tasks.len(),
        2
    );
    s.staff_complete(&staff, portal.id, first.id, None)
        .await
        .unwrap();
    let snap = store.portal_snapshot(portal.id).await.unwrap();
    assert_eq!(
        snap.tasks[0].status,
        portal_core::model::TaskStatus::Completed
    );
    assert_eq!(
        feed_len().await,
        6,
        "the second task added, the first completed"
    );
    let renamed = Branding::new("Acme Renamed", "#123456", "Hi", None).unwrap();
    s.update_portal_branding(&staff, portal.id, renamed)
        .await
        .unwrap();
    assert_eq!(
        store
            .portal_snapshot(portal.id)
            .await
            .unwrap()
            .portal
            .branding
            .company_name,
        "Acme Renamed"
    );
    // Access-flow writes (every portal request logs one) leave the cached content valid
    // and correct.
    let entry = portal_core::store::AccessLogEntry {
        at: t0(),
        portal_id: portal.id,
        contact_id: s
            .add_contact(&staff, portal.id, "Dana", "dana@client.example")
            .await
            .unwrap()
            .id,
        event: portal_core::store::AccessEvent::InviteOpened,
        request: request(),
    };
    store.record_access(&entry).await.unwrap();
    assert_eq!(
        store.portal_snapshot(portal.id).await.unwrap().tasks.len(),
        2
    );
    assert_eq!(
        feed_len().await,
        8,
        "the branding change and the contact added (a write that invalidates the feed)"
    ); // The onboarding team, cached beside the snapshot, follows its change.
    assert!(store.portal_team(portal.id).await.unwrap().is_empty());
    let member = portal_core::model::TeamMember {
        name: "Riley Chen".into(),
        role: "Onboarding lead".into(),
        email: portal_core::model::EmailAddress::parse("riley@acme.example").unwrap(),
        photo: None,
    };
    s.set_team(&staff, portal.id, vec![member], None)
        .await
        .unwrap();
    let team = store.portal_team(portal.id).await.unwrap();
    assert_eq!(team.members().len(), 1);
    assert_eq!(team.members()[0].name, "Riley Chen");
}

/// The cache's memory is bounded by the host's budget in bytes, whatever the number of
/// portals read; evicted portals are read again correctly, and a budget of 0 turns the
/// cache off without changing what reads return.
#[tokio::test(flavor = "multi_thread")]
async fn the_cache_stays_within_the_hosts_byte_budget() {
    use portal_core::store::{DirectoryStore, WorkflowStore};
    use portal_storage_sqlite::{SqliteOptions, SqliteStore};
    use std::sync::Arc;
    const BUDGET: u64 = 120_000;
    for budget in [BUDGET, 0] {
        let (_dir, path) = crate::temp_db();
        let sqlite = Arc::new(
            SqliteStore::open_with(&path, SqliteOptions::default().with_cache_bytes(budget))
                .await
                .unwrap(),
        );
        let h = TestService::new(sqlite.clone(), 78);
        let s = &h.service;
        let mut portals = Vec::new();
        for _ in 0..30 {
            let seeded = h.seed_portal().await.unwrap();
            let phase = s
                .add_phase(&seeded.staff, seeded.portal.id, "Setup")
                .await
                .unwrap();
            for i in 0..8 {
                let spec = portal_core::TaskSpec {
                    title: format!("Task {i} with a title long enough to weigh something"),
                    description: "A description the client reads. ".repeat(8),
                    assignee: Side::Client,
                    kind: TaskKind::Standard,
                    due_date: None,
                };
                s.add_task(&seeded.staff, seeded.portal.id, phase.id, spec)
                    .await
                    .unwrap();
            }
            portals.push((seeded.portal.id, seeded.staff));
        }
        let mut most = 0;
        for round in 0..2 {
            for (portal, _) in &portals {
                let snapshot = sqlite.portal_snapshot(*portal).await.unwrap();
                assert_eq!(snapshot.tasks.len(), 8, "round {round}");
                assert!(!sqlite.activity(*portal, 20).await.unwrap().is_empty());
                most = most.max(sqlite.cache_bytes_used());
                assert!(
                    sqlite.cache_bytes_used() <= budget,
                    "{} bytes cached over a budget of {budget}",
                    sqlite.cache_bytes_used()
                );
            }
        }
        if budget == 0 {
            assert_eq!(most, 0, "a budget of 0 caches nothing");
        } else {
            // 30 portals' entries weigh more than the budget: it was filled, not unused.
            assert!(most > budget / 2, "the cache was barely used: {most} bytes");
        }
        // A write to a portal whose entries may have been evicted or kept is seen.
        let (portal, staff) = &portals[0];
        let phase = s.add_phase(staff, *portal, "Later").await.unwrap();
        let snapshot = sqlite.portal_snapshot(*portal).await.unwrap();
        assert!(snapshot.phases.iter().any(|p| p.id == phase.id));
    }
}
