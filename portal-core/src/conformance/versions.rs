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

/// `edit_portal_fields` is one unit: several fields change with one version step and
/// one feed entry each; a refused list (an entry of another portal, a stale version,
/// an empty list, a missing portal) writes none of its edits, no entry and no
/// version step.
pub async fn portal_fields_in_one_unit(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let id = w.portal.id;
    store.portal_snapshot(id).await.unwrap();
    let before = store.portal(id).await.unwrap();
    let feed = store.activity(id, 1000).await.unwrap().len();
    let date = chrono::NaiveDate::from_ymd_opt(2027, 3, 1);
    let done = store
        .edit_portal_fields(
            id,
            &[
                (PortalEdit::Rename("Contoso Dental".to_owned()), entry(id)),
                (PortalEdit::TargetDate(date), entry(id)),
                (PortalEdit::Status(PortalStatus::Completed), entry(id)),
            ],
            Some(before.version),
        )
        .await
        .unwrap();
    assert_eq!(
        done.version,
        before.version + 1,
        "several fields in one unit: one version step"
    );
    let stored = store.portal(id).await.unwrap();
    assert_eq!(stored, done, "the answer is the portal as stored");
    assert_eq!(stored.client_name, "Contoso Dental");
    assert_eq!(stored.target_date, date);
    assert_eq!(stored.status, PortalStatus::Completed);
    assert_eq!(
        store.portal_snapshot(id).await.unwrap().portal.client_name,
        "Contoso Dental",
        "the snapshot sees every field"
    );
    assert_eq!(
        store.activity(id, 1000).await.unwrap().len(),
        feed + 3,
        "one feed entry per field"
    );

    // Refusals write nothing: not the first field, not an entry, not the version.
    let feed = feed + 3;
    let refused = [
        (
            vec![
                (PortalEdit::Rename("Lost".to_owned()), entry(id)),
                (PortalEdit::TargetDate(None), entry(other.portal.id)),
            ],
            Some(stored.version),
        ),
        (
            vec![(PortalEdit::Rename("Lost".to_owned()), entry(id))],
            Some(before.version),
        ),
        (Vec::new(), None),
    ];
    for (edits, expected) in refused {
        let err = store
            .edit_portal_fields(id, &edits, expected)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Invalid { .. } | Error::Stale { .. }),
            "{err:?}"
        );
        let now = store.portal(id).await.unwrap();
        assert_eq!(
            now, stored,
            "a refused list changes no field and no version"
        );
        assert_eq!(
            store.portal_snapshot(id).await.unwrap().portal.client_name,
            "Contoso Dental",
            "nor the snapshot"
        );
        assert_eq!(
            store.activity(id, 1000).await.unwrap().len(),
            feed,
            "a refused list appends no entry"
        );
    }
    let ghost = crate::ids::PortalId::random(&crate::random::OsRandom);
    assert_err!(
        store
            .edit_portal_fields(
                ghost,
                &[(PortalEdit::Rename("Ghost".to_owned()), entry(ghost))],
                None,
            )
            .await,
        Error::NotFound { .. }
    );
}

/// `edit_contact` with `expected` is a compare-and-set on the contact's
/// [`crate::model::Contact::content_tag`], compared inside the unit: a tag of
/// another content (a made-up one, one read before an edit, one read before a
/// revocation) is `Stale` and writes nothing (no field, no feed entry); the stored
/// record's tag, or none, succeeds.
pub async fn contact_edit_compare_and_set(store: &dyn Store) {
    let w = world(store).await;
    let id = w.contact.id;
    let edit = |name: &str, email: &str| crate::store::ContactEdit {
        name: name.to_owned(),
        email: EmailAddress::parse(email).unwrap(),
    };
    let read = store.contact(id).await.unwrap();
    let tag = read.content_tag();
    assert_eq!(tag, read.clone().content_tag(), "equal records, equal tags");
    let feed = store.activity(w.portal.id, 1000).await.unwrap().len();
    assert_err!(
        store
            .edit_contact(
                id,
                &edit("Made up", "a@example.com"),
                Some("0123"),
                &entry(w.portal.id)
            )
            .await,
        Error::Stale { .. }
    );
    let edited = store
        .edit_contact(
            id,
            &edit("Jane Q. Doe", "jane.q@example.com"),
            Some(&tag),
            &entry(w.portal.id),
        )
        .await
        .unwrap();
    assert_ne!(edited.content_tag(), tag, "an edit changes the tag");
    assert_err!(
        store
            .edit_contact(
                id,
                &edit("Lost update", "lost@example.com"),
                Some(&tag),
                &entry(w.portal.id)
            )
            .await,
        Error::Stale { .. }
    );
    let before_revoke = store.contact(id).await.unwrap().content_tag();
    assert_eq!(before_revoke, edited.content_tag());
    store
        .revoke_contact(id, t0() + secs(5), None)
        .await
        .unwrap();
    assert_err!(
        store
            .edit_contact(
                id,
                &edit("After revoke", "after@example.com"),
                Some(&before_revoke),
                &entry(w.portal.id)
            )
            .await,
        Error::Stale { .. }
    );
    let now = store.contact(id).await.unwrap();
    assert_eq!(now.name, "Jane Q. Doe", "stale edits change nothing");
    assert_eq!(
        store.activity(w.portal.id, 1000).await.unwrap().len(),
        feed + 1,
        "stale edits append no entry"
    );
    let current = now.content_tag();
    let done = store
        .edit_contact(
            id,
            &edit("Jane", "jane@example.com"),
            Some(&current),
            &entry(w.portal.id),
        )
        .await
        .unwrap();
    assert_eq!(done.name, "Jane", "the current tag succeeds");
}
