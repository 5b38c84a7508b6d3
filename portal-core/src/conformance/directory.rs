//! [`crate::store::DirectoryStore`]: records, parents, uniqueness, positions, scoping.

use std::sync::Arc;

use super::support::{
    another_contact, assert_err, decide, mins, new_contact, new_portal, new_task, new_tenant,
    phase, phase_id, portal_id, race_all, secs, signed_in, staff, t0, task_id, tenant_id, world,
};
use crate::error::{Entity, Error};
use crate::model::{Branding, EmailAddress, Logo, TaskStatus};
use crate::random::{OsRandom, RandomSource};
use crate::store::{ContactEdit, PortalEdit, RequestInfo, Store, TenantEdit};
use crate::workflow::TaskAction;

/// Tenants and portals: create, read back equal, duplicate ids are `Conflict`, a
/// portal of a missing tenant is `NotFound` and not written, listings oldest first.
pub async fn tenants_and_portals(store: &dyn Store) {
    let mut a = new_tenant(t0());
    let logo = Logo::from_upload(png()).unwrap();
    store.put_logo(&logo).await.unwrap();
    a.branding = Branding::new("Acme IT", "#0a3069", "Hi", Some(logo.reference())).unwrap();
    store.create_tenant(&a).await.unwrap();
    assert_eq!(store.tenant(a.id).await.unwrap(), a);
    assert_err!(store.create_tenant(&a).await, Error::Conflict { .. });
    let renamed = crate::model::Tenant {
        name: "Other".to_owned(),
        ..a.clone()
    };
    assert_err!(store.create_tenant(&renamed).await, Error::Conflict { .. });
    assert_eq!(
        store.tenant(a.id).await.unwrap(),
        a,
        "a refused duplicate changed nothing"
    );
    assert_err!(
        store.tenant(tenant_id()).await,
        Error::NotFound {
            entity: Entity::Tenant
        }
    );

    let b = new_tenant(t0() + mins(1));
    store.create_tenant(&b).await.unwrap();
    let all = store.tenants().await.unwrap();
    let ia = all
        .iter()
        .position(|t| t.id == a.id)
        .expect("tenant a listed");
    let ib = all
        .iter()
        .position(|t| t.id == b.id)
        .expect("tenant b listed");
    assert!(ia < ib, "tenants are listed oldest first");
    assert_eq!(all[ia], a);

    let p1 = new_portal(a.id, t0());
    store.create_portal(&p1, None).await.unwrap();
    assert_eq!(store.portal(p1.id).await.unwrap(), p1);
    assert_err!(store.create_portal(&p1, None).await, Error::Conflict { .. });
    assert_err!(
        store.portal(portal_id()).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );

    let orphan = new_portal(tenant_id(), t0());
    assert_err!(
        store.create_portal(&orphan, None).await,
        Error::NotFound {
            entity: Entity::Tenant
        }
    );
    assert_err!(
        store.portal(orphan.id).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );

    let p2 = new_portal(a.id, t0() + mins(1));
    store.create_portal(&p2, None).await.unwrap();
    assert_eq!(store.portals(a.id).await.unwrap(), vec![p1, p2]);
    assert_eq!(store.portals(b.id).await.unwrap(), vec![]);
}

/// Contacts: create, read, duplicate id `Conflict`, duplicate email in one portal
/// `Conflict` (domain case-insensitive, mailbox case-sensitive), the same email in
/// another portal allowed, missing portal `NotFound`, listing oldest first and scoped.
pub async fn contacts(store: &dyn Store) {
    let w = world(store).await;
    assert_eq!(store.contact(w.contact.id).await.unwrap(), w.contact);
    assert_err!(
        store.add_contact(&w.contact, None).await,
        Error::Conflict { .. }
    );

    let same_email = new_contact(w.portal.id, "Jane.Doe@example.com", t0() + mins(1));
    assert_err!(
        store.add_contact(&same_email, None).await,
        Error::Conflict { .. }
    );
    assert_err!(
        store.contact(same_email.id).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );

    let other_mailbox_case = new_contact(w.portal.id, "jane.doe@example.com", t0() + mins(2));
    store.add_contact(&other_mailbox_case, None).await.unwrap();

    let other_portal = new_portal(w.tenant.id, t0());
    store.create_portal(&other_portal, None).await.unwrap();
    let elsewhere = new_contact(other_portal.id, "Jane.Doe@example.com", t0());
    store.add_contact(&elsewhere, None).await.unwrap();

    let orphan = new_contact(portal_id(), "orphan@example.com", t0());
    assert_err!(
        store.add_contact(&orphan, None).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
    assert_err!(
        store.contact(orphan.id).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store.contact(super::support::contact_id()).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );

    assert_eq!(
        store.contacts(w.portal.id).await.unwrap(),
        vec![w.contact, other_mailbox_case]
    );
    assert_eq!(
        store.contacts(other_portal.id).await.unwrap(),
        vec![elsewhere]
    );
}

/// Phases and tasks: positions assigned in order (the given task position is
/// ignored), duplicates `Conflict`, missing or foreign parents `NotFound` with nothing
/// written; `update_task` stamps the change and works only through the task's own
/// portal (another portal's task, like a missing one, is `NotFound`).
pub async fn phases_and_tasks(store: &dyn Store) {
    let w = world(store).await;
    let other = world(store).await;

    let p0 = phase(store, w.portal.id, "Kickoff").await;
    let p1 = phase(store, w.portal.id, "Access").await;
    let p2 = phase(store, w.portal.id, "Go-live").await;
    assert_eq!((p0.position, p1.position, p2.position), (0, 1, 2));
    assert_eq!(p0.portal_id, w.portal.id);
    assert_eq!(p0.name, "Kickoff");
    assert_err!(
        store.add_phase(other.portal.id, p0.id, "Dup", None).await,
        Error::Conflict { .. }
    );
    assert_err!(
        store
            .add_phase(portal_id(), phase_id(), "Orphan", None)
            .await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );

    let t = new_task(w.portal.id, p0.id, "Sign the agreement");
    let added = store.add_task(&t, None).await.unwrap();
    assert_eq!(added.position, 0, "the given position is ignored");
    assert_eq!(
        added,
        crate::model::Task {
            position: 0,
            ..t.clone()
        }
    );
    let t2 = store
        .add_task(&new_task(w.portal.id, p0.id, "Second"), None)
        .await
        .unwrap();
    assert_eq!(t2.position, 1);
    let t3 = store
        .add_task(&new_task(w.portal.id, p1.id, "First of phase 2"), None)
        .await
        .unwrap();
    assert_eq!(t3.position, 0, "positions count within the phase");
    assert_err!(store.add_task(&t, None).await, Error::Conflict { .. });

    let other_phase = phase(store, other.portal.id, "Theirs").await;
    let foreign_phase = new_task(w.portal.id, other_phase.id, "Sneaky");
    assert_err!(
        store.add_task(&foreign_phase, None).await,
        Error::NotFound {
            entity: Entity::Phase
        }
    );
    let foreign_portal = new_task(other.portal.id, p0.id, "Sneaky too");
    assert_err!(
        store.add_task(&foreign_portal, None).await,
        Error::NotFound {
            entity: Entity::Phase
        }
    );
    let missing_phase = new_task(w.portal.id, phase_id(), "No phase");
    assert_err!(
        store.add_task(&missing_phase, None).await,
        Error::NotFound {
            entity: Entity::Phase
        }
    );
    let missing_portal = new_task(portal_id(), p0.id, "No portal");
    assert_err!(
        store.add_task(&missing_portal, None).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
    for portal in [w.portal.id, other.portal.id] {
        let snap = store.portal_snapshot(portal).await.unwrap();
        for refused in [
            &foreign_phase,
            &foreign_portal,
            &missing_phase,
            &missing_portal,
        ] {
            assert!(
                snap.tasks.iter().all(|x| x.id != refused.id),
                "a refused task was written"
            );
        }
    }
    let next = store
        .add_task(&new_task(w.portal.id, p0.id, "Third"), None)
        .await
        .unwrap();
    assert_eq!(next.position, 2, "refused adds leave no gap");

    let at = t0() + mins(5);
    let block = TaskAction::Block {
        reason: "Waiting for the firewall".to_owned(),
    };
    let blocked = store
        .update_task(w.portal.id, t.id, decide(block.clone(), staff(), at))
        .await
        .unwrap();
    assert_eq!(blocked.status, TaskStatus::Blocked);
    assert_eq!(
        blocked.blocked_reason.as_deref(),
        Some("Waiting for the firewall")
    );
    assert_eq!(
        blocked.updated_at, at,
        "update_task stamps the decision's time"
    );
    assert_eq!(blocked.created_at, t.created_at);
    assert_eq!(blocked.position, 0);
    let complete = TaskAction::Complete { notes: None };
    let done = store
        .update_task(
            w.portal.id,
            t.id,
            decide(complete.clone(), staff(), at + secs(1)),
        )
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(done.blocked_reason, None);
    assert_eq!(done.updated_at, at + secs(1));

    let reopen = TaskAction::Reopen;
    assert_err!(
        store
            .update_task(other.portal.id, t.id, decide(reopen.clone(), staff(), at))
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store
            .update_task(w.portal.id, task_id(), decide(reopen, staff(), at))
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store.task(other.portal.id, t.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    let snap = store.portal_snapshot(w.portal.id).await.unwrap();
    let stored = snap.tasks.iter().find(|x| x.id == t.id).unwrap();
    assert_eq!(
        stored, &done,
        "a refused change through another portal changed nothing"
    );
    assert_eq!(store.task(w.portal.id, t.id).await.unwrap(), done);
}

/// Positions under concurrency: 10 concurrent `add_phase` on one portal get 0..9 and
/// 20 concurrent `add_task` on one phase get 0..19, distinct and gap-free.
pub async fn concurrent_positions(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;

    let calls = (0..10)
        .map(|i| {
            let (store, portal) = (store.clone(), w.portal.id);
            async move {
                store
                    .add_phase(portal, phase_id(), &format!("Phase {i}"), None)
                    .await
            }
        })
        .collect();
    let mut positions = Vec::new();
    let mut phases = Vec::new();
    for r in race_all(calls).await {
        let p = r.unwrap();
        positions.push(p.position);
        phases.push(p);
    }
    positions.sort_unstable();
    assert_eq!(positions, (0..10).collect::<Vec<u32>>());

    let target = phases[0].id;
    let calls = (0..20)
        .map(|i| {
            let store = store.clone();
            let task = new_task(w.portal.id, target, &format!("Task {i}"));
            async move { store.add_task(&task, None).await }
        })
        .collect();
    let mut positions = Vec::new();
    for r in race_all(calls).await {
        positions.push(r.unwrap().position);
    }
    positions.sort_unstable();
    assert_eq!(positions, (0..20).collect::<Vec<u32>>());

    let snap = store.portal_snapshot(w.portal.id).await.unwrap();
    let stored: Vec<u32> = snap
        .tasks
        .iter()
        .filter(|t| t.phase_id == target)
        .map(|t| t.position)
        .collect();
    assert_eq!(stored, (0..20).collect::<Vec<u32>>());
}

/// `portal_snapshot`: the portal, phases by position, tasks by phase position then
/// their own, whatever order they were added in; a missing portal is `NotFound`.
pub async fn portal_snapshot_order(store: &dyn Store) {
    let w = world(store).await;
    let empty = store.portal_snapshot(w.portal.id).await.unwrap();
    assert_eq!(empty.portal, w.portal);
    assert!(empty.phases.is_empty() && empty.tasks.is_empty());

    let a = phase(store, w.portal.id, "A").await;
    let b = phase(store, w.portal.id, "B").await;
    let c = phase(store, w.portal.id, "C").await;
    let add = async |ph: &crate::model::Phase, title: &str| {
        store
            .add_task(&new_task(w.portal.id, ph.id, title), None)
            .await
            .unwrap()
    };
    let c1 = add(&c, "C1").await;
    let a1 = add(&a, "A1").await;
    let b1 = add(&b, "B1").await;
    let a2 = add(&a, "A2").await;
    let c2 = add(&c, "C2").await;
    let b2 = add(&b, "B2").await;

    let snap = store.portal_snapshot(w.portal.id).await.unwrap();
    assert_eq!(snap.portal, w.portal);
    assert_eq!(snap.phases, vec![a, b, c]);
    assert_eq!(snap.tasks, vec![a1, a2, b1, b2, c1, c2]);
    assert_err!(
        store.portal_snapshot(portal_id()).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
}

/// Logos: stored by SHA-256, read back equal, storing the same bytes again is a
/// no-op, an unknown hash is `NotFound`.
pub async fn logos(store: &dyn Store) {
    let logo = Logo::from_upload(png()).unwrap();
    let sha = logo.reference().sha256;
    store.put_logo(&logo).await.unwrap();
    assert_eq!(store.logo(&sha).await.unwrap(), logo);
    store.put_logo(&logo).await.unwrap();
    assert_eq!(store.logo(&sha).await.unwrap(), logo);
    let other = Logo::from_upload(png()).unwrap();
    store.put_logo(&other).await.unwrap();
    assert_eq!(store.logo(&other.reference().sha256).await.unwrap(), other);
    assert_eq!(store.logo(&sha).await.unwrap(), logo);
    let unknown = Logo::from_upload(png()).unwrap().reference().sha256;
    assert_err!(
        store.logo(&unknown).await,
        Error::NotFound {
            entity: Entity::Logo
        }
    );
}

/// Tenant isolation: every read scoped by a portal returns only that portal's records.
pub async fn tenant_isolation(store: &dyn Store) {
    let a = world(store).await;
    let b = world(store).await;
    let pa = phase(store, a.portal.id, "A").await;
    let pb = phase(store, b.portal.id, "B").await;
    let ta = store
        .add_task(&new_task(a.portal.id, pa.id, "A's task"), None)
        .await
        .unwrap();
    let tb = store
        .add_task(&new_task(b.portal.id, pb.id, "B's task"), None)
        .await
        .unwrap();
    let b2 = another_contact(store, &b, "bob@b.example").await;

    let snap = store.portal_snapshot(a.portal.id).await.unwrap();
    assert_eq!(snap.phases, vec![pa]);
    assert_eq!(snap.tasks, vec![ta]);
    assert!(snap.tasks.iter().all(|t| t.id != tb.id));

    let contacts = store.contacts(a.portal.id).await.unwrap();
    assert_eq!(contacts, vec![a.contact.clone()]);
    assert!(
        contacts
            .iter()
            .all(|c| c.id != b.contact.id && c.id != b2.id)
    );

    assert_err!(
        store
            .update_task(
                a.portal.id,
                tb.id,
                decide(TaskAction::Complete { notes: None }, staff(), t0())
            )
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_err!(
        store.task(a.portal.id, tb.id).await,
        Error::NotFound {
            entity: Entity::Task
        }
    );
    assert_eq!(store.task(b.portal.id, tb.id).await.unwrap(), tb);
    assert!(
        store
            .portals(a.tenant.id)
            .await
            .unwrap()
            .iter()
            .all(|p| p.id != b.portal.id)
    );

    let (sa, ctx_a) = signed_in(store, a.contact.id, t0()).await;
    let (sb, ctx_b) = signed_in(store, b.contact.id, t0()).await;
    assert_eq!(ctx_a.portal_id, a.portal.id);
    assert_eq!(ctx_a.tenant_id, a.tenant.id);
    assert_eq!(ctx_b.portal_id, b.portal.id);
    let policy = super::support::no_slide();
    let req = RequestInfo::default();
    let auth_a = store.authenticate(&sa, t0(), &policy, &req).await.unwrap();
    assert_eq!(auth_a.portal_id, a.portal.id);
    store.authenticate(&sb, t0(), &policy, &req).await.unwrap();
    let log = store.access_log(a.portal.id, 100).await.unwrap();
    assert!(!log.is_empty());
    assert!(
        log.iter()
            .all(|e| e.portal_id == a.portal.id && e.contact_id == a.contact.id)
    );
}

/// A small PNG-signature image with random content, so every call is a new logo.
fn png() -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut tail = [0u8; 24];
    OsRandom.fill(&mut tail);
    bytes.extend_from_slice(&tail);
    bytes
}

/// `edit_portal`, `edit_contact` and `edit_tenant`: each changes exactly the edited
/// fields, every later read (including the portal snapshot and a listing) returns the
/// change, a missing record is `NotFound` with nothing written, and `edit_contact`
/// keeps emails unique in the portal (its own email again is fine; another portal's
/// contact may share it).
pub async fn directory_edits(store: &dyn Store) {
    let w = world(store).await;
    let note = |portal: crate::ids::PortalId| crate::workflow::ActivityEntry {
        portal_id: portal,
        at: t0() + secs(1),
        actor: staff(),
        kind: crate::workflow::ActivityKind::PortalRenamed,
        task_id: None,
        subject: "edit".to_owned(),
        detail: None,
    };
    // Warm any cache the store keeps of the portal before editing it.
    store.portal_snapshot(w.portal.id).await.unwrap();

    let renamed = store
        .edit_portal(
            w.portal.id,
            &PortalEdit::Rename("Contoso Dental".to_owned()),
            None,
            &note(w.portal.id),
        )
        .await
        .unwrap();
    let expected = crate::model::Portal {
        client_name: "Contoso Dental".to_owned(),
        version: w.portal.version + 1,
        ..w.portal.clone()
    };
    assert_eq!(
        renamed, expected,
        "edit_portal returns the portal as stored"
    );
    let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
    let dated = store
        .edit_portal(
            w.portal.id,
            &PortalEdit::TargetDate(Some(day)),
            None,
            &note(w.portal.id),
        )
        .await
        .unwrap();
    let expected = crate::model::Portal {
        target_date: Some(day),
        version: expected.version + 1,
        ..expected
    };
    assert_eq!(dated, expected, "a target date keeps the new name");
    assert_eq!(store.portal(w.portal.id).await.unwrap(), expected);
    assert_eq!(
        store.portal_snapshot(w.portal.id).await.unwrap().portal,
        expected,
        "the snapshot shows the edit (no stale cache)"
    );
    assert!(
        store
            .portals(w.tenant.id)
            .await
            .unwrap()
            .contains(&expected)
    );
    let cleared = store
        .edit_portal(
            w.portal.id,
            &PortalEdit::TargetDate(None),
            None,
            &note(w.portal.id),
        )
        .await
        .unwrap();
    assert_eq!(cleared.target_date, None);
    assert_eq!(store.portal(w.portal.id).await.unwrap().target_date, None);
    let ghost = portal_id();
    assert_err!(
        store
            .edit_portal(
                ghost,
                &PortalEdit::Rename("Ghost".to_owned()),
                None,
                &note(ghost)
            )
            .await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );

    // Contacts.
    let other = another_contact(store, &w, "sam@example.com").await;
    let edit = |name: &str, email: &str| ContactEdit {
        name: name.to_owned(),
        email: EmailAddress::parse(email).unwrap(),
        role: None,
        language: None,
    };
    let taken = edit("Jane", "sam@example.com");
    assert_err!(
        store
            .edit_contact(w.contact.id, &taken, None, &note(w.portal.id))
            .await,
        Error::Conflict { .. }
    );
    assert_eq!(
        store.contact(w.contact.id).await.unwrap(),
        w.contact,
        "a refused edit writes nothing"
    );
    let same_email = edit("Jane Q. Doe", w.contact.email.as_str());
    let kept = store
        .edit_contact(w.contact.id, &same_email, None, &note(w.portal.id))
        .await
        .unwrap();
    assert_eq!(kept.name, "Jane Q. Doe", "its own email again is fine");
    let moved = edit("Jane Doe", "jane@contoso.example");
    let edited = store
        .edit_contact(w.contact.id, &moved, None, &note(w.portal.id))
        .await
        .unwrap();
    let expected = crate::model::Contact {
        name: "Jane Doe".to_owned(),
        email: moved.email.clone(),
        ..w.contact.clone()
    };
    assert_eq!(edited, expected);
    assert_eq!(store.contact(w.contact.id).await.unwrap(), expected);
    assert!(
        store
            .contacts(w.portal.id)
            .await
            .unwrap()
            .contains(&expected)
    );
    assert_eq!(
        store.contact(other.id).await.unwrap(),
        other,
        "only the edited contact changed"
    );
    // The old email is free again; another portal's contact may share the new one.
    store
        .edit_contact(
            other.id,
            &edit("Sam", w.contact.email.as_str()),
            None,
            &note(w.portal.id),
        )
        .await
        .unwrap();
    let elsewhere_portal = new_portal(w.tenant.id, t0());
    store.create_portal(&elsewhere_portal, None).await.unwrap();
    let elsewhere = new_contact(elsewhere_portal.id, "x@example.com", t0());
    store.add_contact(&elsewhere, None).await.unwrap();
    store
        .edit_contact(
            elsewhere.id,
            &edit("X", "jane@contoso.example"),
            None,
            &note(elsewhere_portal.id),
        )
        .await
        .unwrap();
    assert_err!(
        store
            .edit_contact(
                crate::ids::ContactId::random(&OsRandom),
                &moved,
                None,
                &note(w.portal.id)
            )
            .await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );

    // Each edit appended its entry (three portal edits, three contact edits in this
    // portal); an entry of another portal is refused and nothing changes.
    let feed = store.activity(w.portal.id, 100).await.unwrap();
    assert_eq!(feed.len(), 6, "one entry per edit, none for refused ones");
    assert_err!(
        store
            .edit_portal(
                w.portal.id,
                &PortalEdit::Rename("Sneaky".to_owned()),
                None,
                &note(elsewhere_portal.id)
            )
            .await,
        Error::Invalid { .. }
    );
    assert_err!(
        store
            .edit_contact(
                other.id,
                &edit("Sneaky", "s@example.com"),
                None,
                &note(elsewhere_portal.id)
            )
            .await,
        Error::Invalid { .. }
    );
    assert_eq!(
        store.portal(w.portal.id).await.unwrap().client_name,
        "Contoso Dental"
    );
    assert_eq!(store.contact(other.id).await.unwrap().name, "Sam");
    assert_eq!(store.activity(w.portal.id, 100).await.unwrap().len(), 6);
    assert!(
        store
            .activity(elsewhere_portal.id, 100)
            .await
            .unwrap()
            .len()
            == 1
    );

    // Roles: a contact added with one keeps it; an edit writes the role it carries
    // (set, kept by an edit of the name alone, cleared), with the other fields.
    let mut billing = new_contact(w.portal.id, "bill@example.com", t0());
    billing.role = Some("billing".to_owned());
    store.add_contact(&billing, None).await.unwrap();
    assert_eq!(
        store.contact(billing.id).await.unwrap().role.as_deref(),
        Some("billing"),
        "add_contact stores the role"
    );
    let with_role = ContactEdit {
        role: Some("technical".to_owned()),
        ..edit("Sam Lee", "sam@example.com")
    };
    let set = store
        .edit_contact(other.id, &with_role, None, &note(w.portal.id))
        .await
        .unwrap();
    assert_eq!(
        set.role.as_deref(),
        Some("technical"),
        "the edit sets the role"
    );
    assert_eq!(store.contact(other.id).await.unwrap(), set);
    let renamed_only = ContactEdit {
        name: "Sam J. Lee".to_owned(),
        ..with_role.clone()
    };
    let kept = store
        .edit_contact(other.id, &renamed_only, None, &note(w.portal.id))
        .await
        .unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.role.as_deref()),
        ("Sam J. Lee", Some("technical")),
        "a rename carrying the role keeps it"
    );
    assert_eq!(store.contact(other.id).await.unwrap(), kept);
    let cleared = store
        .edit_contact(
            other.id,
            &ContactEdit {
                role: None,
                ..renamed_only
            },
            None,
            &note(w.portal.id),
        )
        .await
        .unwrap();
    assert_eq!(cleared.role, None, "a role of None clears it");
    assert_eq!(store.contact(other.id).await.unwrap().role, None);
    assert_eq!(
        store.contact(billing.id).await.unwrap().role.as_deref(),
        Some("billing"),
        "only the edited contact's role changed"
    );

    // Languages: an edit writes the language it carries (set, kept by an edit of the
    // name alone, cleared), and the session context of the contact carries it.
    let in_spanish = store
        .edit_contact(
            other.id,
            &ContactEdit {
                language: Some(crate::i18n::Language::Es),
                ..edit("Sam Lee", "sam@example.com")
            },
            None,
            &note(w.portal.id),
        )
        .await
        .unwrap();
    assert_eq!(
        in_spanish.language,
        Some(crate::i18n::Language::Es),
        "the edit sets the language"
    );
    assert_eq!(store.contact(other.id).await.unwrap(), in_spanish);
    let renamed_in_spanish = store
        .edit_contact(
            other.id,
            &ContactEdit {
                language: Some(crate::i18n::Language::Es),
                ..edit("Sam J. Lee", "sam@example.com")
            },
            None,
            &note(w.portal.id),
        )
        .await
        .unwrap();
    assert_eq!(
        store.contact(other.id).await.unwrap().language,
        Some(crate::i18n::Language::Es),
        "a rename carrying the language keeps it"
    );
    assert_eq!(renamed_in_spanish.name, "Sam J. Lee");
    let no_language = store
        .edit_contact(
            other.id,
            &edit("Sam J. Lee", "sam@example.com"),
            None,
            &note(w.portal.id),
        )
        .await
        .unwrap();
    assert_eq!(no_language.language, None, "a language of None clears it");
    assert_eq!(store.contact(other.id).await.unwrap().language, None);
    assert_eq!(
        store.contact(billing.id).await.unwrap().language,
        None,
        "only the edited contact's language changed"
    );

    // Tenants.
    let renamed = store
        .edit_tenant(
            w.tenant.id,
            &TenantEdit::Rename("Northwind MSP".to_owned()),
            None,
        )
        .await
        .unwrap();
    let recipients = vec![
        EmailAddress::parse("desk@northwind.example").unwrap(),
        EmailAddress::parse("lead@northwind.example").unwrap(),
    ];
    let both = store
        .edit_tenant(
            w.tenant.id,
            &TenantEdit::NotificationRecipients(recipients.clone()),
            None,
        )
        .await
        .unwrap();
    let expected = crate::model::Tenant {
        name: "Northwind MSP".to_owned(),
        notification_recipients: recipients,
        version: w.tenant.version + 2,
        ..w.tenant.clone()
    };
    assert_eq!(renamed.name, "Northwind MSP");
    assert_eq!(both, expected, "recipients keep the new name");
    let again = store
        .edit_tenant(
            w.tenant.id,
            &TenantEdit::Rename("Northwind IT".to_owned()),
            None,
        )
        .await
        .unwrap();
    let expected = crate::model::Tenant {
        name: "Northwind IT".to_owned(),
        version: expected.version + 1,
        ..expected
    };
    assert_eq!(again, expected, "a rename keeps the recipients");
    assert_eq!(store.tenant(w.tenant.id).await.unwrap(), expected);
    assert_err!(
        store
            .edit_tenant(tenant_id(), &TenantEdit::Rename("Ghost".to_owned()), None)
            .await,
        Error::NotFound {
            entity: Entity::Tenant
        }
    );
}

/// `remove_contact`: the contact and all of its access (invite, verifications,
/// sessions, access-log entries) are gone in one unit with the activity entry; an
/// entry of another portal is `Invalid` and removes nothing; the portal's other
/// contacts are untouched; a missing contact is `NotFound`.
pub async fn remove_contact_erases_access(store: &dyn Store) {
    use crate::store::{AccessEvent, AccessLogEntry};
    use crate::workflow::{ActivityEntry, ActivityKind};

    let w = world(store).await;
    let other = another_contact(store, &w, "sam@example.com").await;
    let (session, _) = signed_in(store, w.contact.id, t0()).await;
    let invite = super::support::invite(store, w.contact.id, t0() + secs(1)).await;
    let (other_session, _) = signed_in(store, other.id, t0()).await;
    for contact in [w.contact.id, other.id] {
        store
            .record_access(&AccessLogEntry {
                at: t0() + secs(2),
                portal_id: w.portal.id,
                contact_id: contact,
                event: AccessEvent::PortalRequest,
                request: RequestInfo::default(),
            })
            .await
            .unwrap();
    }
    let entry = |portal| ActivityEntry {
        portal_id: portal,
        at: t0() + secs(3),
        actor: staff(),
        kind: ActivityKind::ContactRemoved,
        task_id: None,
        subject: w.contact.name.clone(),
        detail: None,
    };
    let elsewhere = new_portal(w.tenant.id, t0());
    store.create_portal(&elsewhere, None).await.unwrap();
    assert_err!(
        store
            .remove_contact(w.contact.id, &entry(elsewhere.id))
            .await,
        Error::Invalid { .. }
    );
    assert_eq!(
        store.contact(w.contact.id).await.unwrap(),
        w.contact,
        "a refused removal removes nothing"
    );
    assert!(store.activity(elsewhere.id, 10).await.unwrap().is_empty());

    // Reminder choices are the contact's too: they go with it (and must not block it).
    store
        .unsubscribe_reminders(w.contact.id, t0() + secs(2))
        .await
        .unwrap();
    let feed_before = store.activity(w.portal.id, 100).await.unwrap().len();
    store
        .remove_contact(w.contact.id, &entry(w.portal.id))
        .await
        .unwrap();
    let reminded: Vec<_> = store
        .reminder_state(w.portal.id)
        .await
        .unwrap()
        .contacts
        .iter()
        .map(|c| c.contact.id)
        .collect();
    assert_eq!(
        reminded,
        vec![other.id],
        "the removed contact's reminders go"
    );
    assert_err!(
        store.contact(w.contact.id).await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
    let left = store.contacts(w.portal.id).await.unwrap();
    assert_eq!(
        left,
        vec![other.clone()],
        "only the removed contact is gone"
    );
    assert!(
        matches!(
            store.open_invite(&invite, super::support::t0()).await,
            Err(Error::NotFound { .. })
        ),
        "the removed contact's invite is gone"
    );
    let policy = super::support::no_slide();
    assert!(
        matches!(
            store
                .authenticate(&session, t0() + secs(4), &policy, &RequestInfo::default())
                .await,
            Err(Error::NotFound { .. })
        ),
        "the removed contact's session is gone"
    );
    store
        .authenticate(
            &other_session,
            t0() + secs(4),
            &policy,
            &RequestInfo::default(),
        )
        .await
        .unwrap();
    let log = store.access_log(w.portal.id, 100).await.unwrap();
    assert!(
        log.iter().all(|e| e.contact_id != w.contact.id),
        "the removed contact's access-log entries are gone"
    );
    assert!(log.iter().any(|e| e.contact_id == other.id));
    let feed = store.activity(w.portal.id, 100).await.unwrap();
    assert_eq!(feed.len(), feed_before + 1);
    assert_eq!(feed[0], entry(w.portal.id), "the entry is appended with it");
    assert_err!(
        store
            .remove_contact(w.contact.id, &entry(w.portal.id))
            .await,
        Error::NotFound {
            entity: Entity::Contact
        }
    );
}

/// Setup entries (the `# Contract` of [`crate::store::DirectoryStore`]): a staff
/// action's entry lands with the record it describes, in one unit. A created contact,
/// phase, task, invite, revocation or settings change brings its entry; a refused one
/// (a duplicate email, a missing contact) brings none; an entry of another portal is
/// `Invalid` and neither the record nor the entry is written.
pub async fn setup_entries_in_one_unit(store: &dyn Store) {
    use crate::workflow::{ActivityEntry, ActivityKind};
    let w = world(store).await;
    let other = new_portal(w.tenant.id, t0());
    store.create_portal(&other, None).await.unwrap();
    let entry = |portal, kind, subject: &str| ActivityEntry {
        portal_id: portal,
        at: t0() + secs(5),
        actor: staff(),
        kind,
        task_id: None,
        subject: subject.to_owned(),
        detail: None,
    };
    let feed = |portal| async move { store.activity(portal, 1000).await.unwrap() };
    // A created record brings its entry.
    let ann = new_contact(w.portal.id, "ann@example.com", t0());
    let added = entry(w.portal.id, ActivityKind::ContactAdded, "Ann");
    store.add_contact(&ann, Some(&added)).await.unwrap();
    assert_eq!(
        feed(w.portal.id).await,
        vec![added.clone()],
        "the contact's entry"
    );
    // A refused one brings none: a duplicate email, a missing contact.
    let twin = new_contact(w.portal.id, "ann@example.com", t0());
    let refused = entry(w.portal.id, ActivityKind::ContactAdded, "Ann again");
    assert_err!(
        store.add_contact(&twin, Some(&refused)).await,
        Error::Conflict { .. }
    );
    let revoked = entry(w.portal.id, ActivityKind::ContactRevoked, "Nobody");
    assert_err!(
        store
            .revoke_contact(missing_contact(), t0(), Some(&revoked))
            .await,
        Error::NotFound { .. }
    );
    assert_eq!(
        feed(w.portal.id).await,
        vec![added.clone()],
        "a refused change wrote its entry"
    );
    // An entry of another portal: nothing written, in either portal.
    let ph = phase(store, w.portal.id, "Kickoff").await;
    let task = new_task(w.portal.id, ph.id, "Sign");
    let foreign = entry(other.id, ActivityKind::TaskAdded, "Sign");
    assert_err!(
        store.add_task(&task, Some(&foreign)).await,
        Error::Invalid { .. }
    );
    let foreign = entry(other.id, ActivityKind::InviteRevoked, "Ann");
    assert_err!(
        store.revoke_invite(ann.id, t0(), Some(&foreign)).await,
        Error::Invalid { .. }
    );
    let foreign = entry(other.id, ActivityKind::ContactAdded, "Bo");
    let bo = new_contact(w.portal.id, "bo@example.com", t0());
    assert_err!(
        store.add_contact(&bo, Some(&foreign)).await,
        Error::Invalid { .. }
    );
    let snapshot = store.portal_snapshot(w.portal.id).await.unwrap();
    assert!(
        snapshot.tasks.is_empty(),
        "a task with a foreign entry was written"
    );
    assert_err!(store.contact(bo.id).await, Error::NotFound { .. });
    assert!(
        feed(other.id).await.is_empty(),
        "a foreign entry was written"
    );
    assert_eq!(
        feed(w.portal.id).await,
        vec![added],
        "a refused change wrote its entry"
    );
}

fn missing_contact() -> crate::ids::ContactId {
    super::support::contact_id()
}
