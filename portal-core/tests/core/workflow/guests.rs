//! Guests through the service: staff invite a guest to specific tasks (their own
//! link, the email naming the tasks, a feed entry attributed to staff), the guest
//! signs in like a contact and reaches only those tasks, is no colleague, and stops
//! at their end date.

use chrono::TimeDelta;
use portal_core::model::{Side, TaskKind};
use portal_core::testkit::{code_from_email, invite_from_email, request};
use portal_core::workflow::ActivityKind;
use portal_core::workflow::guests::Reach;
use portal_core::{Entity, Error, GuestSpec};

use crate::{Harness, assert_err};

#[tokio::test]
async fn staff_invite_a_guest_who_signs_in_and_reaches_only_their_task() {
    let h = Harness::new(1601).await;
    let (ctx, phase) = h.client().await;
    let shared = h
        .task(
            phase,
            "Export the documentation",
            Side::Client,
            TaskKind::Standard,
        )
        .await;
    let other = h
        .task(phase, "Sign the contract", Side::Client, TaskKind::Standard)
        .await;
    let ends = portal_core::testkit::t0() + TimeDelta::days(30);
    let gill = h
        .service
        .add_guest(
            &h.staff,
            h.portal.id,
            &GuestSpec {
                name: "Gill Guest",
                email: "gill@previous-it.example",
                organisation: "Previous IT",
                access_ends_at: Some(ends),
                tasks: &[shared.id],
            },
        )
        .await
        .unwrap();
    assert_eq!(gill.guest.as_ref().unwrap().shared_tasks, vec![shared.id]);

    let email = h.last_email(&gill);
    assert!(
        email.text.contains("Export the documentation"),
        "{}",
        email.text
    );
    assert!(!email.text.contains("Sign the contract"), "{}", email.text);
    assert_snapshot!("core__guests__invite_text", email.text);
    assert_snapshot!("core__guests__invite_html", email.html);

    // The feed names the staff member.
    let feed = h
        .service
        .staff_activity(&h.staff, h.portal.id, None, 10)
        .await
        .unwrap()
        .items;
    let entry = feed
        .iter()
        .find(|e| e.kind == ActivityKind::GuestInvited)
        .unwrap();
    assert!(matches!(
        entry.actor,
        portal_core::workflow::Actor::Staff { .. }
    ));
    assert_eq!(entry.detail.as_deref(), Some("Previous IT"));

    // The guest signs in with their own link.
    let invite = invite_from_email(&email.text).expect("the guest's own link");
    let (verification, _) = h
        .service
        .start_verification(&invite, &request())
        .await
        .unwrap();
    let code = code_from_email(&h.last_email(&gill).text).unwrap();
    let guest_ctx = h
        .service
        .enter_code(&verification, &code, &request())
        .await
        .unwrap()
        .1;
    assert!(guest_ctx.guest.is_some());
    assert!(guest_ctx.judge_reach(Reach::Task(shared.id)).is_ok());
    assert_err(guest_ctx.judge_reach(Reach::Task(other.id)), |e| {
        matches!(
            e,
            Error::NotFound {
                entity: Entity::Task
            }
        )
    });
    assert_err(guest_ctx.judge_reach(Reach::Portal), |e| {
        matches!(e, Error::NotFound { .. })
    });
    let tasks = h.service.guest_tasks(&guest_ctx).await.unwrap();
    assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [shared.id]);

    // A guest is no colleague: not listed, cannot invite or claim.
    let colleagues = h.service.colleagues(&ctx).await.unwrap();
    assert!(colleagues.iter().all(|c| c.id != gill.id));
    assert_err(
        h.service
            .invite_colleague(&guest_ctx, "Someone", "someone@previous-it.example")
            .await,
        |e| matches!(e, Error::Forbidden { .. }),
    );
    assert_err(h.service.claim_task(&guest_ctx, shared.id).await, |e| {
        matches!(e, Error::Forbidden { .. })
    });
    // Nor can a contact hand a task to them.
    let mine = h.service.claim_task(&ctx, other.id).await.unwrap();
    assert_err(
        h.service
            .hand_off_task(&ctx, mine.id, gill.id, "over to you")
            .await,
        |e| matches!(e, Error::Invalid { .. }),
    );

    // Staff list, unshare and end access.
    let guests = h.service.guests(&h.staff, h.portal.id).await.unwrap();
    assert_eq!(guests.iter().map(|c| c.id).collect::<Vec<_>>(), [gill.id]);
    let unshared = h
        .service
        .share_guest_task(&h.staff, gill.id, shared.id, false)
        .await
        .unwrap();
    assert!(unshared.guest.unwrap().shared_tasks.is_empty());
    h.service
        .share_guest_task(&h.staff, gill.id, shared.id, true)
        .await
        .unwrap();
    h.service.end_guest_access(&h.staff, gill.id).await.unwrap();
    h.clock.advance(TimeDelta::seconds(1));
    let session = h.sign_in_guest_session_refused(&invite).await;
    assert!(session, "an ended guest's invite is refused");
}

#[tokio::test]
async fn bad_guest_input_names_its_field() {
    let h = Harness::new(1602).await;
    let (_, phase) = h.client().await;
    let task = h
        .task(
            phase,
            "Transfer the domain",
            Side::Client,
            TaskKind::Standard,
        )
        .await;
    let internal_free = [task.id];
    let good = GuestSpec {
        name: "Gill Guest",
        email: "gill@previous-it.example",
        organisation: "Previous IT",
        access_ends_at: None,
        tasks: &internal_free,
    };
    let field_of = |r: Result<portal_core::model::Contact, Error>| match r {
        Err(Error::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    };
    let cases: Vec<(GuestSpec<'_>, &str)> = vec![
        (
            GuestSpec {
                name: " ",
                ..good.clone()
            },
            "name",
        ),
        (
            GuestSpec {
                email: "nope",
                ..good.clone()
            },
            "email",
        ),
        (
            GuestSpec {
                organisation: "",
                ..good.clone()
            },
            "organisation",
        ),
        (
            GuestSpec {
                access_ends_at: Some(portal_core::testkit::t0() - TimeDelta::days(1)),
                ..good.clone()
            },
            "access_ends_at",
        ),
        (
            GuestSpec {
                tasks: &[],
                ..good.clone()
            },
            "task_ids",
        ),
    ];
    for (spec, field) in cases {
        assert_eq!(
            field_of(h.service.add_guest(&h.staff, h.portal.id, &spec).await),
            field
        );
    }
    let unknown = [portal_core::TaskId::random(&portal_core::OsRandom)];
    assert_eq!(
        field_of(
            h.service
                .add_guest(
                    &h.staff,
                    h.portal.id,
                    &GuestSpec {
                        tasks: &unknown,
                        ..good.clone()
                    }
                )
                .await
        ),
        "task_ids"
    );
    assert!(
        h.service
            .guests(&h.staff, h.portal.id)
            .await
            .unwrap()
            .is_empty()
    );
}

impl Harness {
    /// Whether starting a verification from `invite` is refused as revoked.
    async fn sign_in_guest_session_refused(
        &self,
        invite: &portal_core::secret::InviteToken,
    ) -> bool {
        matches!(
            self.service.start_verification(invite, &request()).await,
            Err(Error::Revoked { .. })
        )
    }
}
