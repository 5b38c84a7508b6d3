//! Version counters of tenants and portals ([`crate::store::DirectoryStore`]'s
//! contract on versions): raised by every change they cover, compared inside the unit
//! of the change when the caller names one.

use std::sync::Arc;

use super::support::{assert_err, new_portal, new_tenant, race_all, secs, staff, t0, world};
use crate::error::Error;
use crate::model::{Branding, EmailAddress, PortalStatus};
use crate::store::{PortalEdit, Store, TenantEdit};
use crate::workflow::{ActivityEntry, ActivityKind};

fn entry(portal: crate::ids::PortalId) -> ActivityEntry {
    ActivityEntry {
        portal_id: portal,
        at: t0() + secs(1),
        actor: staff(),
        kind: ActivityKind::PortalRenamed,
        task_id: None,
        subject: "edit".to_owned(),
        detail: None,
    }
}

/// Tenants and portals start at version 1 whatever the creator passed; every change
/// of what their version covers raises it by one (each `PortalEdit`, the status,
/// both brandings, each `TenantEdit`); an edit naming another version than the stored
/// one is `Stale` and writes nothing (no field, no feed entry, no version); naming
/// the stored one, or none, succeeds.
pub async fn versions_compare_and_set(store: &dyn Store) {
    // Creation: version 1.
    let mut t = new_tenant(t0());
    t.version = 9;
    store.create_tenant(&t).await.unwrap();
    assert_eq!(
        store.tenant(t.id).await.unwrap().version,
        1,
        "a new tenant is at version 1"
    );
    let mut p = new_portal(t.id, t0());
    p.version = 9;
    store.create_portal(&p, None).await.unwrap();
    assert_eq!(
        store.portal(p.id).await.unwrap().version,
        1,
        "a new portal is at version 1"
    );

    let w = world(store).await;
    let id = w.portal.id;
    // Warm any cache the store keeps of the portal.
    store.portal_snapshot(id).await.unwrap();
    let edits = [
        PortalEdit::Rename("Contoso Dental".to_owned()),
        PortalEdit::TargetDate(chrono::NaiveDate::from_ymd_opt(2027, 3, 1)),
        PortalEdit::Status(PortalStatus::Completed),
        PortalEdit::Branding(Branding::new("Contoso IT", "#112233", "Hi", None).unwrap()),
    ];
    let mut version = 1;
    for edit in &edits {
        let stale = store
            .edit_portal(id, edit, Some(version + 1), &entry(id))
            .await;
        assert_err!(stale, Error::Stale { .. });
        let stale = store
            .edit_portal(id, edit, Some(version - 1), &entry(id))
            .await;
        assert_err!(stale, Error::Stale { .. });
        assert_eq!(
            store.portal(id).await.unwrap().version,
            version,
            "a stale edit changes nothing"
        );
        let done = store
            .edit_portal(id, edit, Some(version), &entry(id))
            .await
            .unwrap();
        version += 1;
        assert_eq!(done.version, version, "{edit:?} raises the version by one");
        assert_eq!(store.portal(id).await.unwrap(), done);
        assert_eq!(store.portal_snapshot(id).await.unwrap().portal, done);
    }
    let feed = store.activity(id, 100).await.unwrap();
    assert_eq!(feed.len(), edits.len(), "stale edits append no entry");
    let before = store.portal(id).await.unwrap();
    assert_err!(
        store
            .edit_portal(
                id,
                &PortalEdit::Rename("Lost".to_owned()),
                Some(1),
                &entry(id)
            )
            .await,
        Error::Stale { .. }
    );
    assert_eq!(
        store.portal(id).await.unwrap(),
        before,
        "a stale rename writes nothing"
    );
    let any = store
        .edit_portal(id, &PortalEdit::Rename("Any".to_owned()), None, &entry(id))
        .await
        .unwrap();
    assert_eq!(
        any.version,
        before.version + 1,
        "no expected version: any will do"
    );
    store
        .set_portal_status(id, PortalStatus::Active)
        .await
        .unwrap();
    assert_eq!(
        store.portal(id).await.unwrap().version,
        any.version + 1,
        "set_portal_status raises it"
    );
    let branding = Branding::new("Contoso", "#445566", "", None).unwrap();
    store.set_portal_branding(id, &branding).await.unwrap();
    assert_eq!(
        store.portal(id).await.unwrap().version,
        any.version + 2,
        "set_portal_branding raises it"
    );
    assert_eq!(
        store.portal(p.id).await.unwrap().version,
        1,
        "another portal keeps its version"
    );

    // The tenant.
    let tid = w.tenant.id;
    let tedits = [
        TenantEdit::Rename("Northwind IT".to_owned()),
        TenantEdit::NotificationRecipients(vec![EmailAddress::parse("desk@example.com").unwrap()]),
        TenantEdit::Branding(Branding::new("Northwind", "#0a3069", "Welcome", None).unwrap()),
    ];
    let mut version = 1;
    for edit in &tedits {
        let before = store.tenant(tid).await.unwrap();
        assert_err!(
            store.edit_tenant(tid, edit, Some(version + 1)).await,
            Error::Stale { .. }
        );
        assert_eq!(
            store.tenant(tid).await.unwrap(),
            before,
            "a stale edit writes nothing"
        );
        let done = store.edit_tenant(tid, edit, Some(version)).await.unwrap();
        version += 1;
        assert_eq!(done.version, version, "{edit:?} raises the version by one");
        assert_eq!(store.tenant(tid).await.unwrap(), done);
    }
    let last = store.tenant(tid).await.unwrap();
    assert_eq!(last.name, "Northwind IT");
    assert_eq!(last.branding.company_name, "Northwind");
    assert_eq!(last.notification_recipients.len(), 1);
    store.set_tenant_branding(tid, &branding).await.unwrap();
    assert_eq!(
        store.tenant(tid).await.unwrap().version,
        version + 1,
        "set_tenant_branding raises it"
    );
    assert_eq!(
        store.tenant(t.id).await.unwrap().version,
        1,
        "another tenant keeps its version"
    );
}

/// Concurrent edits naming the same version: exactly one wins, every other one is
/// `Stale`, and the version rose by exactly one (for a portal, one feed entry).
pub async fn concurrent_versioned_edits(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let (portal, tenant) = (w.portal.id, w.tenant.id);
    let calls = (0..8)
        .map(|i| {
            let store = store.clone();
            async move {
                store
                    .edit_portal(
                        portal,
                        &PortalEdit::Rename(format!("Name {i}")),
                        Some(1),
                        &entry(portal),
                    )
                    .await
            }
        })
        .collect();
    let outcomes = race_all(calls).await;
    let won: Vec<_> = outcomes.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "exactly one of the racing portal edits wins");
    assert!(
        outcomes
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(Error::Stale { .. }))),
        "the others are Stale: {outcomes:?}"
    );
    let stored = store.portal(portal).await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(&stored, won[0], "the winner's edit is the one stored");
    assert_eq!(store.activity(portal, 100).await.unwrap().len(), 1);

    let calls = (0..8)
        .map(|i| {
            let store = store.clone();
            async move {
                store
                    .edit_tenant(tenant, &TenantEdit::Rename(format!("MSP {i}")), Some(1))
                    .await
            }
        })
        .collect();
    let outcomes = race_all(calls).await;
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "exactly one of the racing tenant edits wins"
    );
    assert!(
        outcomes
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(Error::Stale { .. }))),
        "the others are Stale: {outcomes:?}"
    );
    assert_eq!(store.tenant(tenant).await.unwrap().version, 2);
}
