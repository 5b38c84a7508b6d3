//! The exact refusal of every way an access or workflow call can fail: revoked
//! contacts at every step, one live code per contact, withdrawn codes, activity
//! entries of another portal, and the portal's status reported through the flow.

use std::sync::Arc;

use super::support::{
    MAX_WRONG, Started, World, another_contact, assert_err, client, code_hash, codes, emails,
    invite, limits, mins, new_code, new_session, no_slide, signed_in, staff, start, t0, token,
    world,
};
use super::workflow::{answer, comment, entry, question, task_in};
use crate::error::{Entity, Error, Limit};
use crate::model::{PortalStatus, Task, TaskKind};
use crate::secret::TokenHash;
use crate::store::{RequestInfo, Store, TaskDecision};
use crate::workflow::{ActivityEntry, ActivityKind, TaskAction, TaskChange, apply};

/// Asserts no session exists for a hash.
async fn assert_no_session(store: &dyn Store, session: &TokenHash) {
    assert_err!(
        store
            .authenticate(session, t0(), &no_slide(), &RequestInfo::default())
            .await,
        Error::NotFound {
            entity: Entity::Session
        }
    );
}

/// A revoked contact is refused at every step with `Revoked(Contact)`, even where its
/// invite was revoked first or its link was killed by the revocation: `open_invite`,
/// `start_verification`, `verification`, `issue_code`, `redeem_code` (right or wrong
/// code, no try counted), `magic_link`, `redeem_magic_link`; its sessions answer
/// `Revoked(Session)`. Nothing is created.
pub async fn revoked_contact_refused_everywhere(store: &dyn Store) {
    let w = world(store).await;
    let (session, _) = signed_in(store, w.contact.id, t0()).await;
    let inv = invite(store, w.contact.id, t0() + mins(1)).await;
    let pending = start(store, &inv, t0() + mins(1)).await;
    store
        .revoke_invite(w.contact.id, t0() + mins(2), None)
        .await
        .unwrap();
    assert_err!(
        store.open_invite(&inv, super::support::t0()).await,
        Error::Revoked {
            entity: Entity::Invite
        }
    );
    // A revoked invite ends the running verification.
    assert_err!(
        store.verification(&pending.verification, t0()).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    let inv = invite(store, w.contact.id, t0() + mins(2)).await;
    let pending = start(store, &inv, t0() + mins(2)).await;

    let at = t0() + mins(3);
    store.revoke_contact(w.contact.id, at, None).await.unwrap();
    assert_err!(
        store.open_invite(&inv, super::support::t0()).await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    let refused = token();
    assert_err!(
        store
            .start_verification(&inv, &refused, &new_code(at), &super::support::limits())
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store.verification(&refused, t0()).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert_err!(
        store.verification(&pending.verification, t0()).await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    let lost_code = new_code(at);
    assert_err!(
        store
            .issue_code(&pending.verification, &lost_code, &limits())
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store.magic_link(&lost_code.magic_hash, at, MAX_WRONG).await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    let lost = new_session(at);
    for presented in [code_hash(), pending.code.code_hash] {
        assert_err!(
            store
                .redeem_code(&pending.verification, &presented, at, &limits(), &lost)
                .await,
            Error::Revoked {
                entity: Entity::Contact
            }
        );
    }
    assert_err!(
        store
            .magic_link(&pending.code.magic_hash, at, MAX_WRONG)
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store
            .redeem_magic_link(&pending.code.magic_hash, at, MAX_WRONG, &lost)
            .await,
        Error::Revoked {
            entity: Entity::Contact
        }
    );
    assert_err!(
        store
            .authenticate(&session, at, &no_slide(), &RequestInfo::default())
            .await,
        Error::Revoked {
            entity: Entity::Session
        }
    );
    assert_no_session(store, &lost.token_hash).await;
    assert!(
        store.access_log(w.portal.id, 100).await.unwrap().is_empty(),
        "refused calls logged an access"
    );
}

/// One live code per contact, across its verifications: `issue_code` in an older
/// verification kills the newer one's live code (its code is then `Expired(Code)`, its
/// link `NotFound(MagicLink)`), and the other way round; other contacts' codes live on.
pub async fn one_live_code_per_contact(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let older = start(store, &inv, t0()).await;
    let newer = start(store, &inv, t0() + mins(1)).await;
    let bob = another_contact(store, &w, "bob@client.example").await;
    let bob_inv = invite(store, bob.id, t0()).await;
    let bobs = start(store, &bob_inv, t0() + mins(1)).await;

    let revived = new_code(t0() + mins(2));
    let (_, issued) = store
        .issue_code(&older.verification, &revived, &limits())
        .await
        .unwrap();
    assert_eq!(issued, 2);
    let at = t0() + mins(3);
    let lost = new_session(at);
    assert_err!(
        store
            .redeem_code(
                &newer.verification,
                &newer.code.code_hash,
                at,
                &limits(),
                &lost
            )
            .await,
        Error::Expired {
            entity: Entity::Code
        }
    );
    assert_err!(
        store
            .magic_link(&newer.code.magic_hash, at, MAX_WRONG)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store
            .redeem_magic_link(&newer.code.magic_hash, at, MAX_WRONG, &lost)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_eq!(
        store
            .verification(&newer.verification, t0())
            .await
            .unwrap()
            .code_expires_at,
        None
    );
    assert_eq!(
        store
            .verification(&older.verification, t0())
            .await
            .unwrap()
            .code_expires_at,
        Some(revived.expires_at)
    );
    assert_err!(
        store
            .magic_link(&older.code.magic_hash, at, MAX_WRONG)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    store
        .magic_link(&revived.magic_hash, at, MAX_WRONG)
        .await
        .unwrap();

    // And back: a new code in the newer verification kills the revived one.
    let last = new_code(t0() + mins(4));
    store
        .issue_code(&newer.verification, &last, &limits())
        .await
        .unwrap();
    let at = t0() + mins(5);
    assert_err!(
        store
            .redeem_magic_link(&revived.magic_hash, at, MAX_WRONG, &lost)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store
            .redeem_code(
                &older.verification,
                &revived.code_hash,
                at,
                &limits(),
                &lost
            )
            .await,
        Error::Expired {
            entity: Entity::Code
        }
    );
    assert_no_session(store, &lost.token_hash).await;
    // Bob's code was never touched.
    store
        .magic_link(&bobs.code.magic_hash, at, MAX_WRONG)
        .await
        .unwrap();
    let ctx = store
        .redeem_code(
            &newer.verification,
            &last.code_hash,
            at,
            &limits(),
            &new_session(at),
        )
        .await
        .unwrap();
    assert_eq!(ctx.contact_id, w.contact.id);
}

/// `withdraw_code`: withdrawing the first code deletes the verification
/// (`NotFound(Verification)`, its link `NotFound(MagicLink)`) and it no longer counts
/// towards the per-contact limit; withdrawing a later code uncounts it (visible in
/// `verification()`), and its code (`Expired(Code)`) and link (`NotFound(MagicLink)`)
/// stop working; a withdrawal with a link that is not live (replaced, killed, unknown,
/// already withdrawn, of a completed verification) or of an unknown verification is
/// `Ok` and changes nothing.
pub async fn withdrawn_codes(store: &dyn Store) {
    let w = world(store).await;
    let inv = invite(store, w.contact.id, t0()).await;
    let two = emails(2);
    let begin = async |at| {
        let verification = token();
        let code = new_code(at);
        store
            .start_verification(&inv, &verification, &code, &two)
            .await
            .map(|_| Started { verification, code })
    };
    let at = t0() + mins(1);

    // The first code withdrawn: the verification is gone and does not count.
    let first = begin(t0()).await.unwrap();
    store
        .withdraw_code(&first.verification, &first.code.magic_hash)
        .await
        .unwrap();
    assert_err!(
        store.verification(&first.verification, t0()).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert_err!(
        store
            .redeem_code(
                &first.verification,
                &first.code.code_hash,
                at,
                &limits(),
                &new_session(at)
            )
            .await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
    assert_err!(
        store
            .magic_link(&first.code.magic_hash, at, MAX_WRONG)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    let a = begin(t0() + mins(1)).await.unwrap();
    let b = begin(t0() + mins(2)).await.unwrap();
    assert_err!(
        begin(t0() + mins(3)).await,
        Error::LimitReached(Limit::EmailsPerContact)
    );

    // A later code withdrawn: uncounted, its code and link dead.
    let second = new_code(t0() + mins(3));
    let (_, n) = store
        .issue_code(&b.verification, &second, &codes(2))
        .await
        .unwrap();
    assert_eq!(n, 2);
    store
        .withdraw_code(&b.verification, &second.magic_hash)
        .await
        .unwrap();
    let view = store.verification(&b.verification, t0()).await.unwrap();
    assert_eq!(
        (view.codes_issued, view.code_expires_at),
        (1, None),
        "the withdrawn code is uncounted and dead"
    );
    let at = t0() + mins(4);
    let lost = new_session(at);
    assert_err!(
        store
            .redeem_code(&b.verification, &second.code_hash, at, &limits(), &lost)
            .await,
        Error::Expired {
            entity: Entity::Code
        }
    );
    assert_err!(
        store.magic_link(&second.magic_hash, at, MAX_WRONG).await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_err!(
        store
            .redeem_magic_link(&second.magic_hash, at, MAX_WRONG, &lost)
            .await,
        Error::NotFound {
            entity: Entity::MagicLink
        }
    );
    assert_no_session(store, &lost.token_hash).await;
    // The count went down: with a limit of 2 codes, one more may be issued.
    let third = new_code(t0() + mins(4));
    let (_, n) = store
        .issue_code(&b.verification, &third, &codes(2))
        .await
        .unwrap();
    assert_eq!(n, 2);

    // Withdrawals with a link that is not live change nothing.
    for magic in [second.magic_hash, b.code.magic_hash, token()] {
        store.withdraw_code(&b.verification, &magic).await.unwrap();
    }
    // `a`'s code was killed when `b` started: its link is not live either.
    store
        .withdraw_code(&a.verification, &a.code.magic_hash)
        .await
        .unwrap();
    let view = store.verification(&a.verification, t0()).await.unwrap();
    assert_eq!(
        (view.codes_issued, view.code_expires_at),
        (1, None),
        "a killed code's link withdrew something"
    );
    store
        .withdraw_code(&token(), &third.magic_hash)
        .await
        .unwrap();
    let view = store.verification(&b.verification, t0()).await.unwrap();
    assert_eq!(
        (view.codes_issued, view.code_expires_at),
        (2, Some(third.expires_at)),
        "a withdrawal of a link that is not live changed the verification"
    );

    // Redeemed, then withdrawn: the session stays.
    let session = new_session(at);
    store
        .redeem_magic_link(&third.magic_hash, at, MAX_WRONG, &session)
        .await
        .unwrap();
    store
        .withdraw_code(&b.verification, &third.magic_hash)
        .await
        .unwrap();
    store
        .authenticate(
            &session.token_hash,
            at,
            &no_slide(),
            &RequestInfo::default(),
        )
        .await
        .unwrap();
    assert_err!(
        store.verification(&b.verification, t0()).await,
        Error::NotFound {
            entity: Entity::Verification
        }
    );
}

/// An activity entry of another portal than its record is `Invalid("activity")` for
/// `add_comment`, `add_question`, `answer_question` and `update_task` (a decision
/// returning it), and nothing is written; a foreign or missing parent is `NotFound`
/// first.
pub async fn foreign_activity_refused(store: &dyn Store) {
    let a = world(store).await;
    let b = world(store).await;
    let ta = task_in(store, &a, TaskKind::Standard).await;
    let at = t0() + mins(5);
    let jane = client(&a.contact);
    let q = question(&a, "Asked properly", at);
    let q_entry = entry(a.portal.id, at, &jane, ActivityKind::QuestionAsked, &q.text);
    store.add_question(&q, &q_entry, &[]).await.unwrap();
    let feed_a = store.activity(a.portal.id, 100).await.unwrap();

    let theirs = |kind| ActivityEntry {
        task_id: Some(ta.id),
        ..entry(b.portal.id, at, &jane, kind, "misfiled")
    };
    let invalid = |r: Result<(), Error>, what: &str| match r {
        Err(Error::Invalid {
            field: "activity", ..
        }) => {}
        other => panic!(
            "{what} with another portal's activity: expected Invalid(activity), got {other:?}"
        ),
    };
    let c = comment(&a, ta.id, &jane, "Misfiled", at);
    invalid(
        store
            .add_comment(&c, &theirs(ActivityKind::Commented), &[])
            .await,
        "add_comment",
    );
    let q2 = question(&a, "Misfiled?", at);
    invalid(
        store
            .add_question(&q2, &theirs(ActivityKind::QuestionAsked), &[])
            .await,
        "add_question",
    );
    invalid(
        store
            .answer_question(
                a.portal.id,
                q.id,
                &answer("Misfiled", at),
                &theirs(ActivityKind::QuestionAnswered),
                &[],
            )
            .await
            .map(|_| ()),
        "answer_question",
    );
    let (portal_b, done) = (
        b.portal.id,
        apply(&ta, &TaskAction::Complete { notes: None }, &staff(), at),
    );
    let done = done.unwrap();
    let misfiled: TaskDecision = Arc::new(move |_: &Task| {
        Ok(TaskChange {
            task: done.task.clone(),
            activity: ActivityEntry {
                portal_id: portal_b,
                ..done.activity.clone()
            },
        })
    });
    invalid(
        store
            .update_task(a.portal.id, ta.id, misfiled)
            .await
            .map(|_| ()),
        "update_task",
    );
    // A missing parent is NotFound before the entry is looked at.
    let nowhere = comment(&a, super::support::task_id(), &jane, "Nowhere", at);
    assert_err!(
        store
            .add_comment(&nowhere, &theirs(ActivityKind::Commented), &[])
            .await,
        Error::NotFound {
            entity: Entity::Task
        }
    );

    assert_eq!(store.comments(a.portal.id, ta.id).await.unwrap(), vec![]);
    assert_eq!(store.questions(a.portal.id).await.unwrap(), vec![q]);
    assert_eq!(store.task(a.portal.id, ta.id).await.unwrap(), ta);
    assert_eq!(store.activity(a.portal.id, 100).await.unwrap(), feed_a);
    assert_eq!(
        store.activity(b.portal.id, 100).await.unwrap(),
        vec![],
        "a refused entry landed in the other portal's feed"
    );
}

/// A closed portal is the service's to refuse: the store answers every step of the
/// access flow with the portal's current status (invite, verification, code and link
/// redemption), so the service can refuse a draft or archived portal.
pub async fn portal_status_reaches_access_flow(store: &dyn Store) {
    let World {
        portal, contact, ..
    } = world(store).await;
    for status in [PortalStatus::Archived, PortalStatus::Draft] {
        store.set_portal_status(portal.id, status).await.unwrap();
        let t = token();
        let target = store
            .issue_invite(contact.id, &t, t0(), &[], None)
            .await
            .unwrap();
        assert_eq!(target.portal.status, status);
        assert_eq!(
            store
                .open_invite(&t, super::support::t0())
                .await
                .unwrap()
                .portal
                .status,
            status
        );
        let by_code = start(store, &t, t0()).await;
        assert_eq!(
            store
                .verification(&by_code.verification, t0())
                .await
                .unwrap()
                .target
                .portal
                .status,
            status
        );
        let ctx = store
            .redeem_code(
                &by_code.verification,
                &by_code.code.code_hash,
                t0(),
                &limits(),
                &new_session(t0()),
            )
            .await
            .unwrap();
        assert_eq!(ctx.portal_status, status);
        let by_link = start(store, &t, t0()).await;
        assert_eq!(
            store
                .magic_link(&by_link.code.magic_hash, t0(), MAX_WRONG)
                .await
                .unwrap()
                .portal
                .status,
            status
        );
        let ctx = store
            .redeem_magic_link(
                &by_link.code.magic_hash,
                t0(),
                MAX_WRONG,
                &new_session(t0()),
            )
            .await
            .unwrap();
        assert_eq!(ctx.portal_status, status);
    }
}
