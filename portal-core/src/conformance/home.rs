//! Home versions ([`crate::store::DirectoryStore`]'s contract on home versions): a
//! store that answers `home_version` with a value gives a different one after every
//! write that changes what the portal's home is built from, and the same one while
//! nothing is written. A store that answers `None` offers no versions and passes.

use super::support::{another_contact, client, decide, new_task_of, phase, staff, t0, world};
use super::workflow::{comment, entry, question};
use crate::ids::PortalId;
use crate::model::{Branding, OnboardingTeam, PortalStatus, TaskKind, TeamMember, TimeZone};
use crate::store::{ContactEdit, PortalEdit, Store};
use crate::workflow::{ActivityKind, TaskAction};

/// The version of `portal`'s home now (the check has already seen it is `Some`).
async fn version(store: &dyn Store, portal: PortalId) -> u64 {
    store
        .home_version(portal)
        .await
        .unwrap()
        .expect("a store that gave one portal a home version gives one every time")
}

/// `home_version`, if the store offers it: the same value across reads of
/// everything the home is built from; a different one after each kind of write
/// that changes it: a phase, a task, a task's completion, a comment, a question
/// (each with its feed entry), a contact added, renamed, revoked (without a feed
/// entry) and moved to another time zone, the onboarding team, the portal's name,
/// branding and status.
pub async fn home_version_follows_content(store: &dyn Store) {
    let w = world(store).await;
    let id = w.portal.id;
    let Some(mut last) = store.home_version(id).await.unwrap() else {
        return;
    };
    // Reads write nothing: the value holds.
    store.portal_snapshot(id).await.unwrap();
    store.contacts(id).await.unwrap();
    store.portal_team(id).await.unwrap();
    store.activity(id, 10).await.unwrap();
    assert_eq!(
        version(store, id).await,
        last,
        "home_version: two calls with only reads between give the same value"
    );

    let mut at = t0();
    let mut changed = async |what: &str| {
        let now = version(store, id).await;
        assert_ne!(
            now, last,
            "home_version: the value did not change after {what}"
        );
        assert_eq!(
            version(store, id).await,
            now,
            "home_version: two calls with no write between give the same value (after {what})"
        );
        last = now;
    };

    let ph = phase(store, id, "Kickoff").await;
    changed("a phase was added").await;
    let task = store
        .add_task(
            &new_task_of(id, ph.id, "Sign the SOW", TaskKind::Standard),
            None,
        )
        .await
        .unwrap();
    changed("a task was added").await;
    at += chrono::TimeDelta::minutes(1);
    store
        .update_task(
            id,
            task.id,
            decide(TaskAction::Complete { notes: None }, client(&w.contact), at),
        )
        .await
        .unwrap();
    changed("a task was completed").await;
    let jane = client(&w.contact);
    let c = comment(&w, task.id, &jane, "Done on our side", at);
    let c_entry = entry(id, at, &jane, ActivityKind::Commented, &c.body);
    store.add_comment(&c, &c_entry, &[]).await.unwrap();
    changed("a comment was added").await;
    let q = question(&w, "When do we start?", at);
    let q_entry = entry(id, at, &jane, ActivityKind::QuestionAsked, &q.text);
    store.add_question(&q, &q_entry, &[]).await.unwrap();
    changed("a question was asked").await;

    let other = another_contact(store, &w, "sam@example.com").await;
    changed("a contact was added").await;
    let rename = ContactEdit {
        name: "Sam J. Lee".to_owned(),
        email: other.email.clone(),
        role: Some("technical".to_owned()),
        language: None,
    };
    let note = entry(id, at, &staff(), ActivityKind::ContactEdited, "Sam");
    store
        .edit_contact(other.id, &rename, None, &note)
        .await
        .unwrap();
    changed("a contact was renamed").await;
    store.revoke_contact(other.id, at, None).await.unwrap();
    changed("a contact was revoked (without a feed entry)").await;
    store
        .set_contact_time_zone(other.id, TimeZone::parse("Pacific/Auckland").unwrap())
        .await
        .unwrap();
    changed("a contact's time zone was changed").await;

    let team = OnboardingTeam::new(vec![
        TeamMember::new("Ana Diaz", "Project lead", "ana@msp.example", None).unwrap(),
    ])
    .unwrap();
    let staff_entry = |kind| entry(id, at, &staff(), kind, "portal");
    store
        .edit_portal(
            id,
            &PortalEdit::Team(team),
            None,
            &staff_entry(ActivityKind::TeamChanged),
        )
        .await
        .unwrap();
    changed("the onboarding team was replaced").await;
    store
        .edit_portal(
            id,
            &PortalEdit::Rename("Contoso Dental".to_owned()),
            None,
            &staff_entry(ActivityKind::PortalRenamed),
        )
        .await
        .unwrap();
    changed("the portal was renamed").await;
    store
        .set_portal_branding(
            id,
            &Branding::new("Contoso IT", "#112233", "Hello", None).unwrap(),
        )
        .await
        .unwrap();
    changed("the portal's branding was set").await;
    store
        .set_portal_status(id, PortalStatus::Completed)
        .await
        .unwrap();
    changed("the portal's status was set").await;
}
