//! The onboarding team ([`crate::store::DirectoryStore`]'s contract on the
//! onboarding team): replaced whole by [`PortalEdit::Team`] in the unit of a portal
//! edit (version, compare-and-set, feed entry), read back in order and per portal,
//! erased with the portal.

use super::support::{assert_err, mins, new_portal, staff, t0, world};
use crate::error::{Entity, Error};
use crate::ids::PortalId;
use crate::model::{OnboardingTeam, TeamMember};
use crate::store::{Erasure, PortalEdit, Store};
use crate::workflow::{ActivityEntry, ActivityKind};

fn entry(portal: PortalId, minute: i64) -> ActivityEntry {
    ActivityEntry {
        portal_id: portal,
        at: t0() + mins(minute),
        actor: staff(),
        kind: ActivityKind::TeamChanged,
        task_id: None,
        subject: "team".to_owned(),
        detail: None,
    }
}

fn team(people: &[(&str, &str)]) -> OnboardingTeam {
    OnboardingTeam::new(
        people
            .iter()
            .map(|(name, role)| {
                let email = format!("{}@msp.example", name.to_lowercase().replace(' ', "."));
                TeamMember::new(name, role, &email, None).unwrap()
            })
            .collect(),
    )
    .unwrap()
}

/// A portal starts with an empty team (a missing portal's is `NotFound(Portal)`); a
/// team edit replaces the whole list in the order given (not sorted, not appended),
/// raises the version by one and appends its entry in the same unit; a stale or
/// foreign-entry edit leaves the previous team, version and feed whole; another
/// portal's team is untouched; a question keeps the member it was addressed to (and
/// one to the whole team has none); the team goes with its portal.
pub async fn onboarding_team(store: &dyn Store) {
    let w = world(store).await;
    let id = w.portal.id;
    let other = new_portal(w.tenant.id, t0());
    store.create_portal(&other, None).await.unwrap();
    assert!(
        store.portal_team(id).await.unwrap().is_empty(),
        "a new portal has an empty team"
    );
    assert_err!(
        store
            .portal_team(PortalId::from_uuid(uuid::Uuid::new_v4()))
            .await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );

    // Written in the given order, which is not alphabetical.
    let first = team(&[
        ("Sam Lee", "Project lead"),
        ("Ana Diaz", "Network engineer"),
        ("Mo Chen", "Account manager"),
    ]);
    let v = store.portal(id).await.unwrap().version;
    let done = store
        .edit_portal(id, &PortalEdit::Team(first.clone()), Some(v), &entry(id, 1))
        .await
        .unwrap();
    assert_eq!(done.version, v + 1, "a team edit raises the version by one");
    assert_eq!(
        store.portal_team(id).await.unwrap(),
        first,
        "the team reads back exactly as written, in its order"
    );
    let feed = store.activity(id, 100).await.unwrap();
    assert!(
        feed.iter().any(|e| e.kind == ActivityKind::TeamChanged),
        "the team edit's entry is appended in its unit"
    );
    assert!(
        store.portal_team(other.id).await.unwrap().is_empty(),
        "another portal's team is untouched"
    );

    // A stale edit writes nothing: not the team, not the version, not the entry.
    let second = team(&[("Zoe Park", "Project lead")]);
    assert_err!(
        store
            .edit_portal(
                id,
                &PortalEdit::Team(second.clone()),
                Some(v),
                &entry(id, 2)
            )
            .await,
        Error::Stale { .. }
    );
    assert_eq!(
        store.portal_team(id).await.unwrap(),
        first,
        "a stale team edit leaves the team whole"
    );
    assert_eq!(store.portal(id).await.unwrap().version, v + 1);
    assert_eq!(store.activity(id, 100).await.unwrap().len(), feed.len());

    // An entry of another portal is refused and writes nothing.
    assert_err!(
        store
            .edit_portal(
                id,
                &PortalEdit::Team(second.clone()),
                None,
                &entry(other.id, 2)
            )
            .await,
        Error::Invalid { .. }
    );
    assert_eq!(store.portal_team(id).await.unwrap(), first);

    // A smaller team replaces the whole list.
    store
        .edit_portal(
            id,
            &PortalEdit::Team(second.clone()),
            Some(v + 1),
            &entry(id, 3),
        )
        .await
        .unwrap();
    assert_eq!(
        store.portal_team(id).await.unwrap(),
        second,
        "a team edit replaces the list, it does not add to it"
    );
    // Together with another field: one unit, one version step.
    let both = [
        (PortalEdit::Rename("Team Portal".to_owned()), entry(id, 4)),
        (PortalEdit::Team(first.clone()), entry(id, 4)),
    ];
    let edited = store
        .edit_portal_fields(id, &both, Some(v + 2))
        .await
        .unwrap();
    assert_eq!(edited.version, v + 3);
    assert_eq!(store.portal_team(id).await.unwrap(), first);
    // Emptied.
    store
        .edit_portal(
            id,
            &PortalEdit::Team(OnboardingTeam::default()),
            None,
            &entry(id, 5),
        )
        .await
        .unwrap();
    assert!(store.portal_team(id).await.unwrap().is_empty());

    // A question to one member keeps its addressee; one to the team has none.
    let mut to_one = super::workflow::question(&w, "When is go-live?", t0() + mins(6));
    to_one.to = Some((&first.members()[0]).into());
    let asked = ActivityEntry {
        kind: ActivityKind::QuestionAsked,
        actor: to_one.asked_by.clone(),
        ..entry(id, 6)
    };
    store.add_question(&to_one, &asked, &[]).await.unwrap();
    let to_team = super::workflow::question(&w, "And the cutover?", t0() + mins(7));
    store.add_question(&to_team, &asked, &[]).await.unwrap();
    let questions = store.questions(id).await.unwrap();
    let read = |q: &crate::workflow::ClientQuestion| {
        questions.iter().find(|x| x.id == q.id).cloned().unwrap()
    };
    assert_eq!(
        read(&to_one),
        to_one,
        "a question keeps the member it was addressed to"
    );
    assert_eq!(read(&to_team).to, None, "a question to the team has none");

    // The team goes with its portal.
    store
        .edit_portal(id, &PortalEdit::Team(first), None, &entry(id, 6))
        .await
        .unwrap();
    let portal = store.portal(id).await.unwrap();
    store
        .delete_portal(
            id,
            &Erasure {
                tenant_id: portal.tenant_id,
                portal_id: id,
                client_name: portal.client_name.clone(),
                at: t0() + mins(7),
                by: staff(),
                audit_head: None,
            },
        )
        .await
        .unwrap();
    assert_err!(
        store.portal_team(id).await,
        Error::NotFound {
            entity: Entity::Portal
        }
    );
}
