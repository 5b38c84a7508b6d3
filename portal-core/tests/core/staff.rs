//! The staff matrices cover every staff use case: the rows of
//! `conformance::STAFF_USE_CASES` are exactly the service's public methods that take
//! a `StaffContext`, and `ADMIN_USE_CASES` exactly those that require the admin role.
//! A new staff use case without a row (or a row for a removed one) fails here.

use std::collections::BTreeSet;

use portal_core::conformance::{ADMIN_USE_CASES, STAFF_USE_CASES};

/// (name, needs admin) of every `pub async fn` of the service's source that takes a
/// `StaffContext`. Relies on rustfmt's layout: methods are indented four spaces and
/// end at the first line that is exactly `    }`.
fn staff_methods() -> Vec<(String, bool)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/service");
    let mut found = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "the service's source was not found in {dir}"
    );
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let mut rest = source.as_str();
        while let Some(at) = rest.find("\n    pub async fn ") {
            let from = &rest[at + "\n    pub async fn ".len()..];
            let name: String = from
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let end = from.find("\n    }\n").unwrap_or(from.len());
            let body = &from[..end];
            let signature = &body[..body.find('{').unwrap_or(body.len())];
            if signature.contains("StaffContext") {
                found.push((name, body.contains("StaffRole::Admin")));
            }
            rest = &from[end..];
        }
    }
    found
}

#[test]
fn every_staff_use_case_has_a_row_in_the_matrices() {
    let methods = staff_methods();
    let in_source: BTreeSet<&str> = methods.iter().map(|(n, _)| n.as_str()).collect();
    let rows: BTreeSet<&str> = STAFF_USE_CASES.iter().copied().collect();
    assert_eq!(rows.len(), STAFF_USE_CASES.len(), "a row is listed twice");
    assert_eq!(
        in_source, rows,
        "the isolation matrix (conformance::STAFF_USE_CASES) must list exactly the staff use cases"
    );
    let admin_in_source: BTreeSet<&str> = methods
        .iter()
        .filter(|(_, admin)| *admin)
        .map(|(n, _)| n.as_str())
        .collect();
    let admin_rows: BTreeSet<&str> = ADMIN_USE_CASES.iter().copied().collect();
    assert_eq!(
        admin_in_source, admin_rows,
        "the role matrix (conformance::ADMIN_USE_CASES) must list exactly the admin use cases"
    );
    assert!(admin_rows.is_subset(&rows));
}

mod operations {
    use chrono::{NaiveDate, TimeDelta};
    use portal_core::model::{PortalStatus, Side, TaskKind};
    use portal_core::service::MAX_RECIPIENTS;
    use portal_core::{Error, TaskSpec};

    use crate::Harness;

    fn spec(title: &str) -> TaskSpec {
        TaskSpec {
            title: title.to_owned(),
            description: String::new(),
            assignee: Side::Msp,
            kind: TaskKind::Standard,
            due_date: None,
        }
    }

    #[tokio::test]
    async fn portals_are_listed_with_progress_and_target_date() {
        let h = Harness::new(901).await;
        let phase = h
            .service
            .add_phase(&h.staff, h.portal.id, "Kickoff")
            .await
            .unwrap();
        let mut ids = Vec::new();
        for title in ["One", "Two", "Three"] {
            let t = h
                .service
                .add_task(&h.staff, h.portal.id, phase.id, spec(title))
                .await
                .unwrap();
            ids.push(t.id);
        }
        h.service
            .staff_complete(&h.staff, h.portal.id, ids[0], None)
            .await
            .unwrap();
        let day = NaiveDate::from_ymd_opt(2027, 2, 1);
        h.service
            .set_target_date(&h.staff, h.portal.id, day)
            .await
            .unwrap();
        let empty = h
            .service
            .create_portal(&h.staff, "Fabrikam", PortalStatus::Draft)
            .await
            .unwrap();
        let listed = h
            .service
            .list_portals(&h.staff, None, 100)
            .await
            .unwrap()
            .items;
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].portal.id, h.portal.id, "oldest first");
        assert_eq!(
            (listed[0].progress.completed, listed[0].progress.total),
            (1, 3)
        );
        assert_eq!(listed[0].portal.target_date, day);
        assert_eq!(listed[1].portal.id, empty.id);
        assert_eq!(listed[1].progress.total, 0);
        h.service
            .set_target_date(&h.staff, h.portal.id, None)
            .await
            .unwrap();
        let renamed = h
            .service
            .rename_portal(&h.staff, h.portal.id, "  Contoso Dental  ")
            .await
            .unwrap();
        assert_eq!(renamed.client_name, "Contoso Dental");
        assert_eq!(renamed.target_date, None);
        let feed = h
            .service
            .staff_activity(&h.staff, h.portal.id, None, 10)
            .await
            .unwrap()
            .items;
        assert_eq!(
            feed[0].summary(),
            "Sam Staff renamed the portal to “Contoso Dental”"
        );
        assert_eq!(
            feed[1].kind,
            portal_core::workflow::ActivityKind::TargetDateSet
        );
        assert_eq!(feed[1].detail.as_deref(), Some("none"), "cleared");
        assert!(matches!(
            h.service.rename_portal(&h.staff, h.portal.id, " ").await,
            Err(Error::Invalid { .. })
        ));
    }

    #[tokio::test]
    async fn contacts_are_listed_with_their_last_access() {
        let h = Harness::new(902).await;
        let never = h.add_contact("Sam Lee", "sam@contoso.example").await;
        let (session, _) = h.sign_in(&h.contact).await;
        h.clock.advance(TimeDelta::minutes(5));
        let later = h.now();
        h.service
            .authenticate(&session, &portal_core::testkit::request())
            .await
            .unwrap();
        let listed = h
            .service
            .list_contacts(&h.staff, h.portal.id, None, 100)
            .await
            .unwrap()
            .items;
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].contact.id, h.contact.id);
        assert_eq!(listed[0].last_access, Some(later), "the newest access");
        assert_eq!(listed[1].contact.id, never.id);
        assert_eq!(listed[1].last_access, None);
    }

    #[tokio::test]
    async fn an_invite_link_replaces_the_old_one_and_sends_nothing() {
        let h = Harness::new(903).await;
        let old = h.invite(&h.contact).await;
        let sent = h.mailer.sent().len();
        let link = h.service.invite_link(&h.staff, h.contact.id).await.unwrap();
        assert_eq!(
            h.mailer.sent().len(),
            sent,
            "no email for a host's own link"
        );
        assert!(link.url.ends_with(link.token.expose_secret()));
        assert!(!format!("{link:?}").contains(link.token.expose_secret()));
        let req = portal_core::testkit::request();
        assert!(h.service.open_invite(&link.token, &req).await.is_ok());
        assert!(matches!(
            h.service.open_invite(&old, &req).await,
            Err(Error::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn a_contact_is_corrected_but_never_given_another_contacts_email() {
        let h = Harness::new(904).await;
        let sam = h.add_contact("Sam Lee", "sam@contoso.example").await;
        assert!(matches!(
            h.service
                .edit_contact(
                    &h.staff,
                    h.contact.id,
                    "Jane",
                    "sam@contoso.example",
                    None,
                    None
                )
                .await,
            Err(Error::Conflict { .. })
        ));
        assert!(matches!(
            h.service
                .edit_contact(&h.staff, h.contact.id, "Jane", "not an email", None, None)
                .await,
            Err(Error::Invalid { .. })
        ));
        let jane = h
            .service
            .edit_contact(
                &h.staff,
                h.contact.id,
                "Jane Q. Doe",
                "jane.q@contoso.example",
                None,
                None,
            )
            .await
            .unwrap();
        assert_eq!(jane.name, "Jane Q. Doe");
        assert_eq!(jane.email.as_str(), "jane.q@contoso.example");
        assert_eq!(h.service.store().contact(sam.id).await.unwrap(), sam);
    }

    #[tokio::test]
    async fn staff_set_keep_and_clear_a_contacts_role() {
        let h = Harness::new(906).await;
        let (name, email) = (h.contact.name.clone(), h.contact.email.as_str().to_owned());
        let edit = |role: Option<&'static str>| {
            let (name, email) = (name.clone(), email.clone());
            let h = &h;
            async move {
                h.service
                    .edit_contact(&h.staff, h.contact.id, &name, &email, role, None)
                    .await
            }
        };
        let set = edit(Some("  Billing ")).await.unwrap();
        assert_eq!(
            set.role.as_deref(),
            Some("billing"),
            "cleaned and lower-cased"
        );
        let feed = h.service.store().activity(h.portal.id, 1).await.unwrap();
        assert_eq!(feed[0].detail.as_deref(), Some("role: billing"));
        let kept = edit(None).await.unwrap();
        assert_eq!(
            kept.role.as_deref(),
            Some("billing"),
            "no role given keeps it"
        );
        assert!(matches!(
            edit(Some("bad\u{7}role")).await,
            Err(Error::Invalid { field: "role", .. })
        ));
        let cleared = edit(Some("")).await.unwrap();
        assert_eq!(cleared.role, None, "an empty role clears it");
        let feed = h.service.store().activity(h.portal.id, 1).await.unwrap();
        assert_eq!(feed[0].detail.as_deref(), Some("role removed"));
        let added = h
            .service
            .add_contact_in_zone(
                &h.staff,
                h.portal.id,
                "Bo",
                "bo@contoso.example",
                None,
                Some("Technical"),
            )
            .await
            .unwrap();
        assert_eq!(
            h.service
                .store()
                .contact(added.id)
                .await
                .unwrap()
                .role
                .as_deref(),
            Some("technical")
        );
    }

    #[tokio::test]
    async fn tenant_settings_are_an_admins() {
        let h = Harness::new(905).await;
        let tenant = h
            .service
            .rename_tenant(&h.staff, "Northwind MSP")
            .await
            .unwrap();
        assert_eq!(tenant.name, "Northwind MSP");
        let tenant = h
            .service
            .set_notification_recipients(
                &h.staff,
                &[
                    "a@northwind.example",
                    "b@northwind.example",
                    "a@northwind.example",
                ],
            )
            .await
            .unwrap();
        let listed: Vec<&str> = tenant
            .notification_recipients
            .iter()
            .map(|e| e.as_str())
            .collect();
        assert_eq!(listed, ["a@northwind.example", "b@northwind.example"]);
        let many: Vec<String> = (0..=MAX_RECIPIENTS)
            .map(|i| format!("r{i}@northwind.example"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(matches!(
            h.service.set_notification_recipients(&h.staff, &many).await,
            Err(Error::Invalid { .. })
        ));
        assert_eq!(
            h.service.store().tenant(h.tenant.id).await.unwrap(),
            tenant,
            "a refused change writes nothing"
        );
    }

    #[tokio::test]
    async fn a_removed_contact_is_gone_but_named_in_the_feed() {
        let h = Harness::new(906).await;
        let (session, ctx) = h.sign_in(&h.contact).await;
        h.service
            .ask_question(&ctx, "Where do we start?")
            .await
            .unwrap();
        h.service
            .remove_contact(&h.staff, h.contact.id)
            .await
            .unwrap();
        let req = portal_core::testkit::request();
        assert!(matches!(
            h.service.authenticate(&session, &req).await,
            Err(Error::NotFound { .. })
        ));
        assert!(
            h.service
                .list_contacts(&h.staff, h.portal.id, None, 100)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let feed = h
            .service
            .staff_activity(&h.staff, h.portal.id, None, 10)
            .await
            .unwrap()
            .items;
        assert_eq!(
            feed[0].summary(),
            "Sam Staff removed the contact “Jane Doe”"
        );
        let questions = h
            .service
            .staff_questions(&h.staff, h.portal.id)
            .await
            .unwrap();
        assert_eq!(
            questions[0].asked_by.name(),
            "Jane Doe",
            "kept with the name"
        );
        assert!(matches!(
            h.service.remove_contact(&h.staff, h.contact.id).await,
            Err(Error::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn a_deleted_portal_takes_its_files_and_is_in_the_erasure_log() {
        use portal_core::blob::stream_of;
        use portal_core::model::RequestedDocument;

        let h = Harness::new(907).await;
        let phase = h
            .service
            .add_phase(&h.staff, h.portal.id, "Docs")
            .await
            .unwrap();
        let docs = TaskSpec {
            assignee: Side::Client,
            kind: TaskKind::DocumentUpload {
                documents: vec![RequestedDocument::new("diagram", "Network diagram")],
            },
            ..spec("Documents")
        };
        let task = h
            .service
            .add_task(&h.staff, h.portal.id, phase.id, docs)
            .await
            .unwrap();
        let (_, ctx) = h.sign_in(&h.contact).await;
        let pdf: &'static [u8] = b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\ntrailer\n%%EOF\n";
        let file = h
            .service
            .upload_document(
                &ctx,
                task.id,
                "diagram",
                "d.pdf",
                stream_of(vec![bytes::Bytes::from_static(pdf)]),
            )
            .await
            .unwrap();
        assert!(h.blobs.get(file.blob).await.is_ok());
        let member = portal_core::testkit::member(h.tenant.id);
        assert!(matches!(
            h.service.delete_portal(&member, h.portal.id).await,
            Err(Error::Forbidden { .. })
        ));
        assert_eq!(
            h.service
                .delete_portal(&h.staff, h.portal.id)
                .await
                .unwrap(),
            1
        );
        assert!(h.blobs.get(file.blob).await.is_err(), "the content is gone");
        assert!(matches!(
            h.service.store().portal(h.portal.id).await,
            Err(Error::NotFound { .. })
        ));
        let log = h.service.erasure_log(&h.staff).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(
            (log[0].portal_id, log[0].client_name.as_str()),
            (h.portal.id, "Contoso Ltd")
        );
        assert_eq!(log[0].by.name(), "Sam Staff");
    }
}

/// Setting a portal up and managing access land in the staff's feed, attributed to
/// the staff member, and stay there: the client's feed shows the plan's phases and
/// tasks being added, never who was added, invited or revoked, and no entry holds an
/// invite link or token.
#[tokio::test]
async fn setup_lands_in_the_staff_feed_only() {
    use portal_core::model::{Side, TaskKind};
    use portal_core::service::TaskSpec;
    use portal_core::workflow::ActivityKind::*;

    let h = crate::Harness::new(731).await;
    let phase = h
        .service
        .add_phase(&h.staff, h.portal.id, "Kickoff")
        .await
        .unwrap();
    h.service
        .add_task(
            &h.staff,
            h.portal.id,
            phase.id,
            TaskSpec {
                title: "Sign the agreement".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::Standard,
                due_date: None,
            },
        )
        .await
        .unwrap();
    let ann = h.add_contact("Ann Lee", "ann@contoso.example").await;
    let link = h.service.invite_link(&h.staff, ann.id).await.unwrap();
    h.service.revoke_invite(&h.staff, ann.id).await.unwrap();
    h.service.revoke_contact(&h.staff, ann.id).await.unwrap();
    let (_, ctx) = h.sign_in(&h.contact).await;

    let staff_feed = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 100)
        .await
        .unwrap()
        .items;
    // Sorted: entries written at the same instant may come in any order.
    let sorted = |kinds: &mut Vec<String>| kinds.sort();
    let mut kinds: Vec<String> = staff_feed.iter().map(|e| format!("{:?}", e.kind)).collect();
    let mut expected: Vec<String> = [
        PortalCreated,
        ContactAdded,
        PhaseAdded,
        TaskAdded,
        ContactAdded,
        InviteLinkIssued,
        InviteRevoked,
        ContactRevoked,
        ContactInvited,
    ]
    .iter()
    .map(|k| format!("{k:?}"))
    .collect();
    sorted(&mut kinds);
    sorted(&mut expected);
    assert_eq!(
        kinds, expected,
        "every setup and access step (the sign-in's invite too)"
    );
    assert!(
        staff_feed.iter().all(|e| e.actor.name() == h.staff.name),
        "attributed to the staff member: {staff_feed:?}"
    );
    let token = link.token.expose_secret().to_owned();
    for e in &staff_feed {
        let text = format!("{} {:?}", e.summary(), e.detail);
        assert!(
            !text.contains(&token) && !text.contains(&link.url),
            "an entry shows the invite link: {text}"
        );
    }
    let mut client: Vec<String> = h
        .service
        .activity(&ctx, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| format!("{:?}", e.kind))
        .collect();
    sorted(&mut client);
    assert!(
        client.is_empty(),
        "setting the portal up is staff-only (the client sees the plan itself): {client:?}"
    );
}
