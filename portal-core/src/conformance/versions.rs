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
        role: None,
        language: None,
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

/// A base URL on a host no other check or run uses (stores may be shared by checks).
fn fresh_url(label: &str) -> crate::model::TenantBaseUrl {
    let tag = crate::ids::TenantId::random(&crate::random::OsRandom).to_string();
    let tag: String = tag
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    crate::model::TenantBaseUrl::parse(&format!("https://{label}-{tag}.example/portal")).unwrap()
}

/// `edit_tenant_settings` is one unit: several settings (name, recipients, branding,
/// base URL, sender) change with one version step and every read sees them; a
/// refused list (a stale version, an empty list, a host another tenant has, a
/// missing tenant) writes none of its edits and no version step. A base URL's host
/// is unique across tenants, at creation too, and a tenant may keep its own.
pub async fn tenant_settings_in_one_unit(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;
    let tid = w.tenant.id;
    let before = store.tenant(tid).await.unwrap();
    let url = fresh_url("one");
    let sender = crate::model::Sender::new(
        "Northwind IT",
        "help@northwind.example",
        Some("desk@northwind.example"),
    )
    .unwrap();
    let recipients = vec![EmailAddress::parse("ops@northwind.example").unwrap()];
    let done = store
        .edit_tenant_settings(
            tid,
            &[
                TenantEdit::Rename("Northwind IT".to_owned()),
                TenantEdit::NotificationRecipients(recipients.clone()),
                TenantEdit::BaseUrl(Some(url.clone())),
                TenantEdit::Sender(Some(sender.clone())),
            ],
            Some(before.version),
        )
        .await
        .unwrap();
    assert_eq!(
        done.version,
        before.version + 1,
        "several settings in one unit: one version step"
    );
    let stored = store.tenant(tid).await.unwrap();
    assert_eq!(stored, done, "the answer is the tenant as stored");
    assert_eq!(stored.name, "Northwind IT");
    assert_eq!(stored.notification_recipients, recipients);
    assert_eq!(stored.base_url.as_ref(), Some(&url), "the base URL is kept");
    assert_eq!(stored.sender.as_ref(), Some(&sender), "the sender is kept");
    assert_eq!(
        stored.branding, before.branding,
        "an unedited setting stays"
    );
    assert!(
        store.tenants().await.unwrap().contains(&stored),
        "the tenant list sees every setting"
    );

    // Its own host again is fine (and still one step).
    let again = store
        .edit_tenant_settings(tid, &[TenantEdit::BaseUrl(Some(url.clone()))], None)
        .await
        .unwrap();
    assert_eq!(again.version, stored.version + 1);
    let stored = again;

    // Refusals write nothing: not the first setting, not the version.
    let taken_by_other = store
        .edit_tenant_settings(
            other.tenant.id,
            &[
                TenantEdit::Rename("Lost".to_owned()),
                TenantEdit::BaseUrl(Some(url.clone())),
            ],
            None,
        )
        .await;
    assert_err!(taken_by_other, Error::Conflict { .. });
    assert_eq!(
        store.tenant(other.tenant.id).await.unwrap(),
        other.tenant,
        "a refused host leaves the other tenant's settings, the rename before it included"
    );
    let refused: [(Vec<TenantEdit>, Option<u64>); 2] = [
        (
            vec![
                TenantEdit::Rename("Lost".to_owned()),
                TenantEdit::Sender(None),
            ],
            Some(before.version),
        ),
        (Vec::new(), None),
    ];
    for (edits, expected) in refused {
        let err = store
            .edit_tenant_settings(tid, &edits, expected)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Invalid { .. } | Error::Stale { .. }),
            "{err:?}"
        );
        assert_eq!(
            store.tenant(tid).await.unwrap(),
            stored,
            "a refused list changes no setting and no version"
        );
    }
    let mut dup = super::support::new_tenant(t0());
    dup.base_url = Some(url.clone());
    assert_err!(store.create_tenant(&dup).await, Error::Conflict { .. });
    assert_err!(store.tenant(dup.id).await, Error::NotFound { .. });
    let ghost = crate::ids::TenantId::random(&crate::random::OsRandom);
    assert_err!(
        store
            .edit_tenant_settings(ghost, &[TenantEdit::Rename("Ghost".to_owned())], None)
            .await,
        Error::NotFound { .. }
    );

    // Going back to the host's address frees the host for another tenant.
    let cleared = store
        .edit_tenant_settings(
            tid,
            &[TenantEdit::BaseUrl(None), TenantEdit::Sender(None)],
            Some(stored.version),
        )
        .await
        .unwrap();
    assert_eq!(cleared.base_url, None);
    assert_eq!(cleared.sender, None);
    let moved = store
        .edit_tenant_settings(
            other.tenant.id,
            &[TenantEdit::BaseUrl(Some(url.clone()))],
            None,
        )
        .await
        .unwrap();
    assert_eq!(moved.base_url, Some(url));
    // A tenant created with its own host keeps it.
    let mut own = super::support::new_tenant(t0());
    let own_url = fresh_url("created");
    own.base_url = Some(own_url.clone());
    own.sender = Some(sender.clone());
    store.create_tenant(&own).await.unwrap();
    let read = store.tenant(own.id).await.unwrap();
    assert_eq!(read.base_url, Some(own_url));
    assert_eq!(read.sender, Some(sender));
}

/// Tenants racing for one host: exactly one gets it, every other one is `Conflict`.
pub async fn concurrent_tenant_hosts(store: Arc<dyn Store>) {
    let url = fresh_url("race");
    let mut tenants = Vec::new();
    for _ in 0..6 {
        tenants.push(world(store.as_ref()).await.tenant.id);
    }
    let calls = tenants
        .iter()
        .map(|&tid| {
            let store = store.clone();
            let url = url.clone();
            async move {
                store
                    .edit_tenant_settings(tid, &[TenantEdit::BaseUrl(Some(url))], None)
                    .await
            }
        })
        .collect();
    let outcomes = race_all(calls).await;
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "exactly one of the racing tenants gets the host: {outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(Error::Conflict { .. }))),
        "the others are Conflict: {outcomes:?}"
    );
    let mut holders = 0;
    for tid in tenants {
        if store.tenant(tid).await.unwrap().base_url.as_ref() == Some(&url) {
            holders += 1;
        }
    }
    assert_eq!(holders, 1, "one tenant holds the host");
}
