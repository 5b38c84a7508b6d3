//! What attackers and busy users race: wrong codes, verification starts at the
//! limit, revocation against sign-ins, answers to one question, comments and activity
//! appended at once. Every call runs on its own thread ([`super::race`]).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::race::{race, race_all};
use super::support::{
    MAX_WRONG, World, assert_err, client, code_hash, emails, invite, limits, mins, new_code,
    new_session, no_slide, secs, signed_in, staff, start, t0, token, world,
};
use super::workflow::{answer, checklist, comment, entry, question, task_activity, task_in};
use crate::error::{Entity, Error, Limit, Result};
use crate::model::TaskKind;
use crate::store::{ClientContext, NewSession, RequestInfo, Store};
use crate::workflow::{ActivityEntry, ActivityKind, ClientQuestion, Comment, TaskAction};

/// N concurrent wrong codes count N tries (five rounds): four wrong codes at once with
/// five tries allowed answer `WrongCode` with 4, 3, 2 and 1 tries left (each once);
/// the next wrong code is `LimitReached(WrongCodeAttempts)`, and so is the right one.
pub async fn concurrent_wrong_codes(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let inv = invite(store.as_ref(), w.contact.id, t0()).await;
    for round in 0..5 {
        let at = t0() + mins(round);
        let s = start(store.as_ref(), &inv, at).await;
        let lost = new_session(at);
        let outcomes = race(4, |_| {
            let (store, v, lost) = (store.clone(), s.verification, lost.clone());
            async move {
                store
                    .redeem_code(&v, &code_hash(), at, &limits(), &lost)
                    .await
            }
        })
        .await;
        let mut left = Vec::new();
        for r in outcomes {
            match r {
                Err(Error::WrongCode { attempts_left }) => left.push(attempts_left),
                other => panic!("round {round}: a concurrent wrong code answered {other:?}"),
            }
        }
        left.sort_unstable();
        assert_eq!(
            left,
            vec![1, 2, 3, 4],
            "round {round}: four concurrent wrong codes must count four tries"
        );
        assert_err!(
            store
                .redeem_code(&s.verification, &code_hash(), at, &limits(), &lost)
                .await,
            Error::LimitReached(Limit::WrongCodeAttempts)
        );
        assert_err!(
            store
                .redeem_code(&s.verification, &s.code.code_hash, at, &limits(), &lost)
                .await,
            Error::LimitReached(Limit::WrongCodeAttempts)
        );
        assert_err!(
            store
                .authenticate(&lost.token_hash, at, &no_slide(), &RequestInfo::default())
                .await,
            Error::NotFound {
                entity: Entity::Session
            }
        );
    }
}

/// Concurrent verification starts at the limit count each other (three contacts):
/// with `max_emails_per_contact` 3, eight concurrent starts give exactly three verifications,
/// the other five are `LimitReached(EmailsPerContact)` and create nothing; of
/// the three, exactly one has a live link (one live code per contact).
pub async fn concurrent_verification_starts(store: Arc<dyn Store>) {
    let limits = emails(3);
    for round in 0..3 {
        let w = world(store.as_ref()).await;
        let inv = invite(store.as_ref(), w.contact.id, t0()).await;
        let outcomes = race(8, |i| {
            let store = store.clone();
            let (verification, code) = (token(), new_code(t0() + secs(i as i64)));
            async move {
                let r = store
                    .start_verification(&inv, &verification, &code, &limits)
                    .await;
                (verification, code, r)
            }
        })
        .await;
        let mut started = Vec::new();
        for (verification, code, r) in outcomes {
            match r {
                Ok(_) => started.push((verification, code)),
                Err(Error::LimitReached(Limit::EmailsPerContact)) => assert_err!(
                    store.verification(&verification, t0()).await,
                    Error::NotFound {
                        entity: Entity::Verification
                    }
                ),
                Err(e) => panic!("round {round}: a concurrent start failed with {e:?}"),
            }
        }
        assert_eq!(
            started.len(),
            3,
            "round {round}: exactly max_emails_per_contact concurrent starts succeed"
        );
        let at = t0() + mins(1);
        let mut live = 0;
        for (_, code) in &started {
            match store.magic_link(&code.magic_hash, at, MAX_WRONG).await {
                Ok(_) => live += 1,
                Err(Error::NotFound {
                    entity: Entity::MagicLink,
                }) => {}
                Err(e) => panic!("round {round}: a started link answered {e:?}"),
            }
        }
        assert_eq!(live, 1, "round {round}: exactly one live code per contact");
    }
}

type Racing = Pin<Box<dyn Future<Output = Outcome> + Send>>;

enum Outcome {
    Revoke(Result<()>),
    Authenticate(Result<ClientContext>),
    Redeem(NewSession, Result<ClientContext>),
}

/// Revocation racing sign-ins (ten rounds, by code and by link in turn):
/// `revoke_contact` runs at once with two `authenticate` calls of the contact's
/// sessions and one redemption. Whatever the interleaving, each racing call either
/// succeeds or answers `Revoked` (`Revoked(Session)`, `Revoked(Contact)`), and after
/// the race every session of the contact, including one the redemption may have
/// created, answers `Revoked(Session)`.
pub async fn revocation_races_sign_ins(store: Arc<dyn Store>) {
    for round in 0..10 {
        let w = world(store.as_ref()).await;
        let (s1, _) = signed_in(store.as_ref(), w.contact.id, t0()).await;
        let (s2, _) = signed_in(store.as_ref(), w.contact.id, t0()).await;
        let inv = invite(store.as_ref(), w.contact.id, t0()).await;
        let pending = start(store.as_ref(), &inv, t0()).await;
        let at = t0() + mins(1);
        let by_link = round % 2 == 1;
        let contact = w.contact.id;
        let mut calls: Vec<Racing> = Vec::new();
        let st = store.clone();
        calls.push(Box::pin(async move {
            Outcome::Revoke(st.revoke_contact(contact, at, None).await)
        }));
        for s in [s1, s2] {
            let st = store.clone();
            calls.push(Box::pin(async move {
                Outcome::Authenticate(
                    st.authenticate(&s, at, &no_slide(), &RequestInfo::default())
                        .await,
                )
            }));
        }
        let st = store.clone();
        let session = new_session(at);
        calls.push(Box::pin(async move {
            let r = if by_link {
                st.redeem_magic_link(&pending.code.magic_hash, at, MAX_WRONG, &session)
                    .await
            } else {
                st.redeem_code(
                    &pending.verification,
                    &pending.code.code_hash,
                    at,
                    &limits(),
                    &session,
                )
                .await
            };
            Outcome::Redeem(session, r)
        }));
        let mut sessions = vec![s1, s2];
        for outcome in race_all(calls).await {
            match outcome {
                Outcome::Revoke(r) => r.unwrap(),
                Outcome::Authenticate(Ok(_))
                | Outcome::Authenticate(Err(Error::Revoked {
                    entity: Entity::Session,
                })) => {}
                Outcome::Authenticate(Err(e)) => {
                    panic!("round {round}: authenticate racing a revocation answered {e:?}")
                }
                Outcome::Redeem(session, Ok(_)) => sessions.push(session.token_hash),
                Outcome::Redeem(session, Err(Error::Revoked { .. })) => assert_err!(
                    store
                        .authenticate(
                            &session.token_hash,
                            at,
                            &no_slide(),
                            &RequestInfo::default()
                        )
                        .await,
                    Error::NotFound {
                        entity: Entity::Session
                    }
                ),
                Outcome::Redeem(_, Err(e)) => {
                    panic!("round {round}: a redemption racing a revocation answered {e:?}")
                }
            }
        }
        for s in &sessions {
            assert_err!(
                store
                    .authenticate(s, at + secs(1), &no_slide(), &RequestInfo::default())
                    .await,
                Error::Revoked {
                    entity: Entity::Session
                }
            );
        }
    }
}

/// Eight concurrent answers to one question (five rounds): exactly one succeeds, the
/// others are `Conflict`; the stored answer is the winner's, with one activity entry.
pub async fn concurrent_answers(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let jane = client(&w.contact);
    for round in 0..5 {
        let at = t0() + mins(round);
        let q = question(&w, &format!("Question {round}?"), at);
        let asked = entry(w.portal.id, at, &jane, ActivityKind::QuestionAsked, &q.text);
        store.add_question(&q, &asked, &[]).await.unwrap();
        let subject = format!("answer to {round}");
        let outcomes = race(8, |i| {
            let (store, portal, id) = (store.clone(), w.portal.id, q.id);
            let a = answer(&format!("Answer {i}"), at + secs(1));
            let e = entry(
                portal,
                at + secs(1),
                &staff(),
                ActivityKind::QuestionAnswered,
                &subject,
            );
            async move {
                (
                    a.clone(),
                    store.answer_question(portal, id, &a, &e, &[]).await,
                )
            }
        })
        .await;
        let mut winners = Vec::new();
        for (a, r) in outcomes {
            match r {
                Ok(answered) => {
                    assert_eq!(answered.answer.as_ref(), Some(&a));
                    winners.push(a);
                }
                Err(Error::Conflict { .. }) => {}
                Err(e) => panic!("round {round}: a concurrent answer failed with {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one answer wins");
        let stored = store
            .questions(w.portal.id)
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.id == q.id)
            .unwrap();
        assert_eq!(stored.answer, Some(winners[0].clone()));
        let entries = store
            .activity(w.portal.id, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == ActivityKind::QuestionAnswered && e.subject == subject)
            .count();
        assert_eq!(entries, 1, "round {round}: exactly one answer entry");
    }
}

/// Checks a listing is stable across reads.
async fn stable<T, F, Fut>(what: &str, mut read: F) -> Vec<T>
where
    T: PartialEq + std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Vec<T>>,
{
    let first = read().await;
    for _ in 0..3 {
        assert_eq!(
            read().await,
            first,
            "{what}: the order changed between reads"
        );
    }
    first
}

/// Twenty concurrent comments on one task (in four groups of equal times): all are
/// listed, once each, oldest first, the same on every read; equal times are listed in
/// commit order, which is the reverse of their activity entries' order (newest
/// first, later committed first).
pub async fn concurrent_comments(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let t = task_in(store.as_ref(), &w, TaskKind::Standard).await;
    let jane = client(&w.contact);
    let calls = (0..20)
        .map(|i| {
            let store = store.clone();
            let at = t0() + mins(i % 4);
            let c = comment(&w, t.id, &jane, &format!("comment {i}"), at);
            let e = ActivityEntry {
                task_id: Some(t.id),
                ..entry(w.portal.id, at, &jane, ActivityKind::Commented, &c.body)
            };
            async move { store.add_comment(&c, &e, &[]).await }
        })
        .collect();
    for r in race_all(calls).await {
        r.unwrap();
    }
    let listed: Vec<Comment> = stable("comments", || async {
        store.comments(w.portal.id, t.id).await.unwrap()
    })
    .await;
    assert_eq!(listed.len(), 20, "every concurrent comment is listed");
    let bodies: BTreeSet<&str> = listed.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(bodies.len(), 20, "each comment is listed once");
    assert!(
        listed.windows(2).all(|p| p[0].at <= p[1].at),
        "comments are listed oldest first"
    );
    let feed = stable("activity", || async {
        task_activity(store.as_ref(), w.portal.id, t.id).await
    })
    .await;
    assert_eq!(feed.len(), 20, "one activity entry per comment");
    for group in 0..4 {
        let at = t0() + mins(group);
        let comments: Vec<&str> = listed
            .iter()
            .filter(|c| c.at == at)
            .map(|c| c.body.as_str())
            .collect();
        let mut entries: Vec<&str> = feed
            .iter()
            .filter(|e| e.at == at)
            .map(|e| e.subject.as_str())
            .collect();
        entries.reverse();
        assert_eq!(
            comments, entries,
            "comments of equal time are listed in commit order, the reverse of the feed"
        );
    }
}

/// Twenty concurrent activity appends to one portal (ten questions and ten checklist
/// checks, in three groups of equal times): all twenty entries are listed once,
/// newest first, the same on every read; questions are listed in the same order as
/// their entries (both newest first, later committed first).
pub async fn concurrent_activity_appends(store: Arc<dyn Store>) {
    let w = world(store.as_ref()).await;
    let t = task_in(store.as_ref(), &w, checklist(10)).await;
    let jane = client(&w.contact);
    let at = |i: i64| t0() + mins(i % 3);
    type Append = Pin<Box<dyn Future<Output = Result<()>> + Send>>;
    let calls: Vec<Append> = (0..20)
        .map(|i| -> Append {
            let store = store.clone();
            if i % 2 == 0 {
                let q: ClientQuestion = question(&w, &format!("question {i}"), at(i));
                let e = entry(
                    w.portal.id,
                    at(i),
                    &jane,
                    ActivityKind::QuestionAsked,
                    &q.text,
                );
                Box::pin(async move { store.add_question(&q, &e, &[]).await })
            } else {
                let action = TaskAction::SetItem {
                    item: format!("item-{}", i / 2),
                    checked: true,
                };
                let d = super::support::decide(action, staff(), at(i));
                let (portal, task) = (w.portal.id, t.id);
                Box::pin(async move { store.update_task(portal, task, d).await.map(|_| ()) })
            }
        })
        .collect();
    for r in race_all(calls).await {
        r.unwrap();
    }
    let feed = stable("activity", || async {
        store.activity(w.portal.id, 1000).await.unwrap()
    })
    .await;
    assert_eq!(feed.len(), 20, "every concurrent append is listed");
    assert!(
        feed.windows(2).all(|p| p[0].at >= p[1].at),
        "the feed is newest first"
    );
    let asked: Vec<&str> = feed
        .iter()
        .filter(|e| e.kind == ActivityKind::QuestionAsked)
        .map(|e| e.subject.as_str())
        .collect();
    assert_eq!(
        asked.iter().collect::<BTreeSet<_>>().len(),
        10,
        "each question's entry is listed once"
    );
    assert_eq!(
        feed.iter().filter(|e| e.task_id == Some(t.id)).count(),
        10,
        "each check's entry is listed"
    );
    let questions = stable("questions", || async {
        store.questions(w.portal.id).await.unwrap()
    })
    .await;
    let texts: Vec<&str> = questions.iter().map(|q| q.text.as_str()).collect();
    assert_eq!(
        texts, asked,
        "questions and their entries are listed in the same order"
    );
    let World { portal, .. } = w;
    assert_eq!(
        store
            .task(portal.id, t.id)
            .await
            .unwrap()
            .evidence
            .checked
            .len(),
        10,
        "every concurrent check was recorded"
    );
}
