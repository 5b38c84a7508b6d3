//! Conformance checks of [`crate::store::OutboxStore`]: emails stored as given and all
//! or none, queued only by units that commit, claims (due, in order, leased, never
//! shared, even by racing claimers), outcomes recorded only by the current claim,
//! bodies erased when an email leaves the queue, the MSP's list of failed emails, and
//! the prune of sent ones.
//!
//! Claims are global (any due email of any tenant), so the claiming checks each work in
//! a year of their own (1981 to 1985), claim only at instants of that year, and first
//! settle whatever an earlier run left due there ([`settle`]). Emails a check leaves
//! pending on purpose are due in 2999, after every instant the suite claims at.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::documents::{documents_kind, review_decision, upload, upload_decision, uploaded};
use super::support::{
    World, assert_err, client, contact_id, mins, race_all, secs, t0, token, world,
};
use super::workflow::task_in;
use crate::error::{Entity, Error};
use crate::ids::{ClaimToken, MailId, QuestionId, TaskId};
use crate::mail::Email;
use crate::model::{EmailAddress, Task};
use crate::outbox::{FailedAttempt, Lease, MailKind, MailState, OutboxMessage};
use crate::random::OsRandom;
use crate::scan::ScanVerdict;
use crate::store::Store;
use crate::workflow::documents::{FileDecision, UploadDecision, Verdict};
use crate::workflow::{ActivityEntry, ActivityKind, ClientQuestion, Comment, DocumentFile};

/// Midnight UTC on the first of January of `year`.
fn year(year: i32) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{year}-01-01T00:00:00Z"))
        .unwrap()
        .with_timezone(&Utc)
}

/// When emails a check leaves pending on purpose are due: never, for the suite.
pub(super) fn parked() -> DateTime<Utc> {
    year(2999)
}

fn micro() -> TimeDelta {
    TimeDelta::microseconds(1)
}

fn claim() -> ClaimToken {
    ClaimToken::random(&OsRandom)
}

/// A new pending email of `w`'s tenant and portal, due at `due`.
pub(super) fn mail(w: &World, due: DateTime<Utc>) -> OutboxMessage {
    let mut m = OutboxMessage::new(
        MailId::random(&OsRandom),
        w.tenant.id,
        Some(w.portal.id),
        MailKind::StaffNotification,
        Email {
            to: EmailAddress::parse("desk@northwind.example").unwrap(),
            to_name: Some("Service desk".to_owned()),
            subject: "[Contoso] Jane commented on “Größe”".to_owned(),
            text: "Code 123456\nLink https://portal.example/m/secret".to_owned(),
            html: "<p>Code <b>123456</b></p>".to_owned(),
            sender: None,
            list_unsubscribe: Some("https://portal.example/r/unsubscribe/signed".to_owned()),
            attachments: vec![
                crate::mail::Attachment {
                    filename: "invite.ics".to_owned(),
                    content_type: "text/calendar; charset=utf-8; method=REQUEST".to_owned(),
                    content: "BEGIN:VCALENDAR\r\nSUMMARY:Größe\r\nEND:VCALENDAR\r\n"
                        .as_bytes()
                        .to_vec(),
                },
                crate::mail::Attachment {
                    filename: "bytes.bin".to_owned(),
                    content_type: "application/octet-stream".to_owned(),
                    content: vec![0, 159, 255, 10, 13],
                },
            ],
        },
        due,
    );
    m.created_at = due - secs(1);
    m
}

/// Claims and sends everything due by `until` (leftovers of an earlier run of the same
/// check), so a check starts from a clean year.
async fn settle(store: &dyn Store, until: DateTime<Utc>) {
    loop {
        let c = claim();
        let due = store
            .claim_due(until, until + mins(5), 1000, c)
            .await
            .unwrap();
        if due.is_empty() {
            return;
        }
        for m in due {
            store.mark_sent(m.id, c, until).await.unwrap();
        }
    }
}

fn ids(messages: &[OutboxMessage]) -> Vec<MailId> {
    messages.iter().map(|m| m.id).collect()
}

pub(super) async fn read(store: &dyn Store, id: MailId) -> OutboxMessage {
    store.outbox_message(id).await.unwrap()
}

pub(super) async fn absent(store: &dyn Store, id: MailId, what: &str) {
    match store.outbox_message(id).await {
        Err(Error::NotFound {
            entity: Entity::Email,
        }) => {}
        other => panic!("{what}: expected no such email (NotFound(Email)), got {other:?}"),
    }
}

/// `enqueue` stores every field as given and reads it back exactly (bodies, optional
/// fields, the tenant's sender, a lease, non-ASCII text); a batch with an id that exists, or an id twice, is
/// `Conflict` and writes none of its emails; an unknown id is `NotFound(Email)`.
pub async fn outbox_enqueue_round_trips(store: &dyn Store) {
    let w = world(store).await;
    let mut full = mail(&w, parked());
    full.not_after = Some(parked() + mins(30));
    full.attempts = 2;
    full.lease = Some(Lease {
        claim: claim(),
        until: t0() + mins(5),
    });
    full.last_error = Some("transient: 421 try later".to_owned());
    full.kind = MailKind::Verification;
    full.email.sender = Some(
        crate::model::Sender::new(
            "Northwind IT",
            "help@northwind.example",
            Some("desk@northwind.example"),
        )
        .unwrap(),
    );
    let mut bare = mail(&w, parked());
    bare.portal_id = None;
    bare.email.to_name = None;
    bare.email.attachments.clear();
    bare.kind = MailKind::Invite;
    store.enqueue(&[full.clone(), bare.clone()]).await.unwrap();
    assert_eq!(
        read(store, full.id).await,
        full,
        "an email reads back as queued"
    );
    assert_eq!(
        read(store, bare.id).await,
        bare,
        "an email reads back as queued"
    );
    store.enqueue(&[]).await.unwrap();

    let fresh = mail(&w, parked());
    assert_err!(
        store.enqueue(&[fresh.clone(), full.clone()]).await,
        Error::Conflict { .. }
    );
    absent(store, fresh.id, "a batch with a taken id queues nothing").await;
    let twice = mail(&w, parked());
    assert_err!(
        store.enqueue(&[twice.clone(), twice.clone()]).await,
        Error::Conflict { .. }
    );
    absent(store, twice.id, "a batch with one id twice queues nothing").await;
    absent(store, MailId::random(&OsRandom), "an unknown id").await;
}

/// Emails given to a unit are queued with it: all of them when it commits, none when
/// it is refused (a missing parent, a taken id, a decision that errs), and a unit whose
/// email id is taken writes nothing else either.
pub async fn outbox_queued_with_their_unit(store: &dyn Store) {
    let w = world(store).await;
    let at = t0();

    // issue_invite.
    let first = mail(&w, parked());
    let invite = token();
    store
        .issue_invite(
            w.contact.id,
            &invite,
            at,
            std::slice::from_ref(&first),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        read(store, first.id).await,
        first,
        "issue_invite queues its email"
    );
    let lost = mail(&w, parked());
    assert_err!(
        store
            .issue_invite(
                contact_id(),
                &token(),
                at,
                std::slice::from_ref(&lost),
                None
            )
            .await,
        Error::NotFound { .. }
    );
    absent(store, lost.id, "a refused issue_invite queues nothing").await;
    let replacement = token();
    assert_err!(
        store
            .issue_invite(
                w.contact.id,
                &replacement,
                at,
                &[mail(&w, parked()), first.clone()],
                None
            )
            .await,
        Error::Conflict { .. }
    );
    store
        .open_invite(&invite, super::support::t0())
        .await
        .expect("an issue_invite refused for a taken email id issues nothing");

    // add_comment.
    let task = task_in(store, &w, documents_kind()).await;
    let comment = Comment {
        portal_id: w.portal.id,
        task_id: task.id,
        author: client(&w.contact),
        body: "Here it is".to_owned(),
        at,
    };
    let entry = |kind, task_id| ActivityEntry {
        portal_id: w.portal.id,
        at,
        actor: client(&w.contact),
        kind,
        task_id,
        subject: "s".to_owned(),
        detail: None,
    };
    let noted = mail(&w, parked());
    store
        .add_comment(
            &comment,
            &entry(ActivityKind::Commented, Some(task.id)),
            std::slice::from_ref(&noted),
        )
        .await
        .unwrap();
    assert_eq!(
        read(store, noted.id).await,
        noted,
        "add_comment queues its email"
    );
    let nowhere = Comment {
        task_id: TaskId::random(&OsRandom),
        ..comment.clone()
    };
    let lost = mail(&w, parked());
    assert_err!(
        store
            .add_comment(
                &nowhere,
                &entry(ActivityKind::Commented, Some(nowhere.task_id)),
                std::slice::from_ref(&lost)
            )
            .await,
        Error::NotFound { .. }
    );
    absent(store, lost.id, "a refused add_comment queues nothing").await;
    assert_err!(
        store
            .add_comment(
                &comment,
                &entry(ActivityKind::Commented, Some(task.id)),
                std::slice::from_ref(&noted)
            )
            .await,
        Error::Conflict { .. }
    );
    assert_eq!(
        store.comments(w.portal.id, task.id).await.unwrap().len(),
        1,
        "an add_comment refused for a taken email id stores no comment"
    );

    // add_question.
    let question = ClientQuestion {
        id: QuestionId::random(&OsRandom),
        portal_id: w.portal.id,
        asked_by: client(&w.contact),
        text: "May we?".to_owned(),
        asked_at: at,
        answer: None,
        to: None,
    };
    let asked = mail(&w, parked());
    store
        .add_question(
            &question,
            &entry(ActivityKind::QuestionAsked, None),
            std::slice::from_ref(&asked),
        )
        .await
        .unwrap();
    assert_eq!(
        read(store, asked.id).await,
        asked,
        "add_question queues its email"
    );
    let lost = mail(&w, parked());
    assert_err!(
        store
            .add_question(
                &question,
                &entry(ActivityKind::QuestionAsked, None),
                std::slice::from_ref(&lost)
            )
            .await,
        Error::Conflict { .. }
    );
    absent(store, lost.id, "a refused add_question queues nothing").await;

    // add_document_file: the decision carries the emails.
    let with_mail = |decide: UploadDecision, emails: Vec<OutboxMessage>| -> UploadDecision {
        Arc::new(move |t: &Task| {
            let mut change = decide(t)?;
            change.emails = emails.clone();
            Ok(change)
        })
    };
    let up = upload("diagram", "diagram.pdf", ScanVerdict::Clean);
    let told = mail(&w, parked());
    let file = store
        .add_document_file(
            w.portal.id,
            task.id,
            with_mail(
                upload_decision(&w, up.clone(), client(&w.contact), at),
                vec![told.clone()],
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        read(store, told.id).await,
        told,
        "add_document_file queues its emails"
    );
    let lost = mail(&w, parked());
    assert_err!(
        store
            .add_document_file(
                w.portal.id,
                task.id,
                with_mail(
                    upload_decision(&w, up, client(&w.contact), at),
                    vec![lost.clone()]
                )
            )
            .await,
        Error::Conflict { .. }
    );
    absent(store, lost.id, "a refused add_document_file queues nothing").await;

    // update_document_file: likewise, and a decision that errs queues nothing.
    let rejected = mail(&w, parked());
    let review = review_decision(
        Verdict::Reject {
            notes: "Blurry".to_owned(),
        },
        at + secs(1),
    );
    let emails = vec![rejected.clone()];
    let decide: FileDecision = Arc::new(move |t: &Task, f: &DocumentFile| {
        let mut change = review(t, f)?;
        change.emails = emails.clone();
        Ok(change)
    });
    store
        .update_document_file(w.portal.id, file.id, decide.clone())
        .await
        .unwrap();
    assert_eq!(
        read(store, rejected.id).await,
        rejected,
        "update_document_file queues its emails"
    );
    let again = uploaded(store, &w, &task, "isp", at + secs(2)).await;
    let lost = mail(&w, parked());
    let emails = vec![lost.clone()];
    let refusing: FileDecision = Arc::new(move |_: &Task, _: &DocumentFile| {
        let _ = &emails;
        Err(Error::conflict("decided no"))
    });
    assert_err!(
        store
            .update_document_file(w.portal.id, again.id, refusing)
            .await,
        Error::Conflict { .. }
    );
    absent(
        store,
        lost.id,
        "a refused update_document_file queues nothing",
    )
    .await;
}

/// `claim_due` takes only pending emails due by `now` (inclusive), the earliest due
/// first and, at equal times, the first queued first, at most `limit`; it leases each
/// to the claim and counts the attempt. A leased email is invisible to other claims
/// until its lease has ended (it still holds at its last instant), then claimable again.
pub async fn outbox_claims_due_in_order(store: &dyn Store) {
    let t = year(1981);
    settle(store, year(1982) - micro()).await;
    let w = world(store).await;
    let now = t + secs(50);
    let a = mail(&w, t + secs(10));
    let b = mail(&w, t + secs(5));
    let c = mail(&w, t + secs(5));
    let edge = mail(&w, now);
    let later = mail(&w, now + micro());
    let mut sent = mail(&w, t);
    sent.state = MailState::Sent;
    sent.finished_at = Some(t);
    let mut failed = mail(&w, t);
    failed.state = MailState::Failed;
    failed.finished_at = Some(t);
    for m in [&a, &b, &c, &edge, &later, &sent, &failed] {
        store.enqueue(std::slice::from_ref(m)).await.unwrap();
    }

    let (c1, until) = (claim(), now + mins(5));
    let first = store.claim_due(now, until, 2, c1).await.unwrap();
    assert_eq!(
        ids(&first),
        vec![b.id, c.id],
        "the earliest due first, equal times in queue order, at most `limit`"
    );
    for m in &first {
        assert_eq!(m.attempts, 1, "a claim counts an attempt");
        assert_eq!(m.lease, Some(Lease { claim: c1, until }), "a claim leases");
    }
    assert_eq!(read(store, b.id).await, first[0], "the claim is stored");
    let c2 = claim();
    let second = store.claim_due(now, until, 10, c2).await.unwrap();
    assert_eq!(
        ids(&second),
        vec![a.id, edge.id],
        "leased, not yet due, sent and failed emails are not claimed; one due exactly now is"
    );
    assert!(
        store
            .claim_due(now, until, 0, claim())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_due(until, until + mins(5), 10, claim())
            .await
            .unwrap()
            .iter()
            .all(|m| m.id == later.id),
        "a lease still holds at its last instant"
    );
    let c3 = claim();
    let after = store
        .claim_due(until + micro(), until + mins(10), 10, c3)
        .await
        .unwrap();
    assert_eq!(
        ids(&after),
        vec![b.id, c.id, a.id, edge.id],
        "once their leases ended, the emails are claimable again"
    );
    assert!(
        after
            .iter()
            .all(|m| m.attempts == 2 && m.lease.is_some_and(|l| l.claim == c3))
    );
    for m in &after {
        assert!(store.mark_sent(m.id, c3, until).await.unwrap());
    }
    settle(store, year(1982) - micro()).await;
}

/// Only the claim that holds an email records its outcome: a stale claim (its lease
/// ended and another claim took the email) gets `false` and changes nothing, the
/// holder's `mark_sent` counts once, and a claim whose lease ended while nobody took
/// the email still holds it. Unknown ids are `NotFound(Email)`.
pub async fn outbox_stale_claim_refused(store: &dyn Store) {
    let t = year(1982);
    settle(store, year(1983) - micro()).await;
    let w = world(store).await;
    let m = mail(&w, t);
    store.enqueue(std::slice::from_ref(&m)).await.unwrap();
    let (a, b) = (claim(), claim());
    let a_until = t + secs(60);
    assert_eq!(
        ids(&store.claim_due(t, a_until, 10, a).await.unwrap()),
        vec![m.id]
    );
    assert!(
        !store.mark_sent(m.id, b, t + secs(1)).await.unwrap(),
        "a claim that never held the email records nothing"
    );
    assert_eq!(read(store, m.id).await.state, MailState::Pending);
    assert!(
        store
            .claim_due(a_until, t + mins(5), 10, b)
            .await
            .unwrap()
            .is_empty()
    );
    let taken = store
        .claim_due(a_until + micro(), t + mins(5), 10, b)
        .await
        .unwrap();
    assert_eq!(
        ids(&taken),
        vec![m.id],
        "an ended lease lets another claim take it"
    );
    assert!(
        !store.mark_sent(m.id, a, t + secs(62)).await.unwrap(),
        "a stale claim's mark_sent is refused"
    );
    let retry = FailedAttempt {
        at: t + secs(62),
        error: "transient: stale".to_owned(),
        retry_at: Some(t + secs(90)),
    };
    assert!(
        !store.mark_failed(m.id, a, &retry).await.unwrap(),
        "a stale claim's mark_failed is refused"
    );
    let now = read(store, m.id).await;
    assert_eq!(
        now.state,
        MailState::Pending,
        "a refused outcome changes nothing"
    );
    assert_eq!(
        now.lease.map(|l| l.claim),
        Some(b),
        "the new claim still holds it"
    );
    assert!(store.mark_sent(m.id, b, t + secs(63)).await.unwrap());
    assert!(
        !store.mark_sent(m.id, b, t + secs(64)).await.unwrap(),
        "a sent email is sent once"
    );
    assert_eq!(read(store, m.id).await.finished_at, Some(t + secs(63)));

    let n = mail(&w, t);
    store.enqueue(std::slice::from_ref(&n)).await.unwrap();
    let c = claim();
    assert_eq!(
        ids(&store
            .claim_due(t + secs(70), t + secs(80), 10, c)
            .await
            .unwrap()),
        vec![n.id]
    );
    assert!(
        store.mark_sent(n.id, c, t + secs(100)).await.unwrap(),
        "a claim whose lease ended, with nobody else claiming, still holds the email"
    );

    let unknown = MailId::random(&OsRandom);
    assert_err!(
        store.mark_sent(unknown, c, t).await,
        Error::NotFound {
            entity: Entity::Email
        }
    );
    assert_err!(
        store.mark_failed(unknown, c, &retry).await,
        Error::NotFound {
            entity: Entity::Email
        }
    );
}

/// Outcomes: a retry keeps the email pending, unleased, due at `retry_at`, with its
/// error and bodies; giving up makes it failed, with its time and error; sending makes
/// it sent. A sent or failed email keeps its envelope but not its bodies, and is never
/// claimed again. `failed_mail` lists a tenant's failed emails, the most recently
/// failed first (equal times: the later queued first), at most `limit`.
pub async fn outbox_outcomes(store: &dyn Store) {
    let t = year(1983);
    settle(store, year(1984) - micro()).await;
    let w = world(store).await;
    let other = world(store).await;
    let batch: Vec<OutboxMessage> = (0..5).map(|_| mail(&w, t)).collect();
    let theirs = mail(&other, t);
    store.enqueue(&batch).await.unwrap();
    store.enqueue(std::slice::from_ref(&theirs)).await.unwrap();
    let c = claim();
    let claimed = store.claim_due(t, t + mins(5), 10, c).await.unwrap();
    assert_eq!(claimed.len(), 6);
    let [m1, m2, m3, m4, m5] = [0, 1, 2, 3, 4].map(|i| batch[i].clone());

    let retry = FailedAttempt {
        at: t + secs(1),
        error: "transient: 421 try later".to_owned(),
        retry_at: Some(t + secs(30)),
    };
    assert!(store.mark_failed(m1.id, c, &retry).await.unwrap());
    let retried = read(store, m1.id).await;
    assert_eq!(retried.state, MailState::Pending);
    assert_eq!(retried.next_attempt_at, t + secs(30));
    assert_eq!(retried.lease, None, "a retry ends the claim");
    assert_eq!(retried.attempts, 1);
    assert_eq!(
        retried.last_error.as_deref(),
        Some("transient: 421 try later")
    );
    assert_eq!(retried.email, m1.email, "a waiting email keeps its bodies");
    assert!(
        store
            .claim_due(t + secs(30) - micro(), t + mins(5), 10, claim())
            .await
            .unwrap()
            .is_empty(),
        "a retried email waits for its retry time"
    );
    let c2 = claim();
    assert_eq!(
        ids(&store
            .claim_due(t + secs(30), t + mins(5), 10, c2)
            .await
            .unwrap()),
        vec![m1.id]
    );
    let give_up = |at: DateTime<Utc>| FailedAttempt {
        at,
        error: "permanent: 550 no such user".to_owned(),
        retry_at: None,
    };
    assert!(
        store
            .mark_failed(m1.id, c2, &give_up(t + secs(31)))
            .await
            .unwrap()
    );
    assert!(store.mark_sent(m2.id, c, t + secs(5)).await.unwrap());
    assert!(
        store
            .mark_failed(m3.id, c, &give_up(t + secs(40)))
            .await
            .unwrap()
    );
    assert!(
        store
            .mark_failed(m4.id, c, &give_up(t + secs(50)))
            .await
            .unwrap()
    );
    assert!(
        store
            .mark_failed(m5.id, c, &give_up(t + secs(50)))
            .await
            .unwrap()
    );
    assert!(
        store
            .mark_failed(theirs.id, c, &give_up(t + secs(60)))
            .await
            .unwrap()
    );

    let failed = read(store, m1.id).await;
    assert_eq!(failed.state, MailState::Failed);
    assert_eq!(failed.finished_at, Some(t + secs(31)));
    assert_eq!(
        failed.last_error.as_deref(),
        Some("permanent: 550 no such user")
    );
    let sent = read(store, m2.id).await;
    assert_eq!(sent.state, MailState::Sent);
    assert_eq!(sent.finished_at, Some(t + secs(5)));
    for done in [&failed, &sent] {
        assert!(
            done.email.text.is_empty() && done.email.html.is_empty(),
            "a sent or failed email keeps no body"
        );
        assert_eq!(
            done.email.list_unsubscribe, None,
            "a sent or failed email keeps no unsubscribe link (it is signed)"
        );
        assert!(
            done.email.attachments.is_empty(),
            "a sent or failed email keeps no attachment (an invite names its meeting link)"
        );
        assert_eq!(done.email.subject, m1.email.subject, "the envelope stays");
        assert_eq!(done.email.to, m1.email.to, "the envelope stays");
    }
    assert!(
        store
            .claim_due(t + mins(30), t + mins(35), 10, claim())
            .await
            .unwrap()
            .is_empty(),
        "sent and failed emails are never claimed again"
    );

    let listed = store.failed_mail(w.tenant.id, 10).await.unwrap();
    assert_eq!(
        ids(&listed),
        vec![m5.id, m4.id, m3.id, m1.id],
        "a tenant's failed emails, the most recently failed first, equal times the later queued first"
    );
    assert!(listed.iter().all(|m| m.email.text.is_empty()));
    assert_eq!(
        ids(&store.failed_mail(w.tenant.id, 1).await.unwrap()),
        vec![m5.id]
    );
    assert_eq!(
        ids(&store.failed_mail(other.tenant.id, 10).await.unwrap()),
        vec![theirs.id],
        "each tenant sees only its own"
    );
    assert!(
        store
            .failed_mail(crate::ids::TenantId::random(&OsRandom), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Racing claimers never get the same email: every email is claimed by exactly one.
pub async fn outbox_concurrent_claims(store: Arc<dyn Store>) {
    let t = year(1984);
    settle(store.as_ref(), year(1985) - micro()).await;
    let w = world(store.as_ref()).await;
    let queued: Vec<OutboxMessage> = (0..60).map(|_| mail(&w, t)).collect();
    store.enqueue(&queued).await.unwrap();
    let claimers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            async move {
                let c = claim();
                let mut mine = Vec::new();
                // Bounded: 60 emails need 15 full claims of 4 at most, whoever takes them.
                for _ in 0..30 {
                    let got = store
                        .claim_due(t + secs(1), t + mins(5), 4, c)
                        .await
                        .unwrap();
                    if got.is_empty() {
                        break;
                    }
                    mine.extend(got.into_iter().map(|m| m.id));
                }
                (c, mine)
            }
        })
        .collect();
    let results = race_all(claimers).await;
    let mut seen = HashSet::new();
    for (_, mine) in &results {
        for id in mine {
            assert!(seen.insert(*id), "two claimers got the same email");
        }
    }
    let ours: HashSet<MailId> = ids(&queued).into_iter().collect();
    assert!(ours.is_subset(&seen), "every due email was claimed");
    for (c, mine) in results {
        for id in mine {
            store.mark_sent(id, c, t + secs(2)).await.unwrap();
        }
    }
}

/// `prune_sent(before, max_rows)` removes sent emails finished strictly before
/// `before` (one exactly at it stays), the oldest first, at most `max_rows` a call
/// (0: none), and answers how many; pending and failed emails stay.
pub async fn outbox_prune_sent(store: &dyn Store) {
    let window_end = year(1986);
    while store.prune_sent(window_end, 10_000).await.unwrap() > 0 {}
    let w = world(store).await;
    let cut = year(1985) + TimeDelta::days(100);
    let finished = |at: DateTime<Utc>, state: MailState| {
        let mut m = mail(&w, at - secs(10));
        m.state = state;
        m.finished_at = Some(at);
        m.email.text.clear();
        m.email.html.clear();
        m
    };
    let old = finished(cut - secs(1), MailState::Sent);
    let just = finished(cut - micro(), MailState::Sent);
    let at_cut = finished(cut, MailState::Sent);
    let newer = finished(cut + secs(1), MailState::Sent);
    let failed = finished(cut - secs(5), MailState::Failed);
    let pending = mail(&w, parked());
    let all = [&old, &just, &at_cut, &newer, &failed, &pending];
    for m in all {
        store.enqueue(std::slice::from_ref(m)).await.unwrap();
    }
    assert_eq!(
        store.prune_sent(cut, 0).await.unwrap(),
        0,
        "max_rows 0 removes none"
    );
    assert_eq!(
        store.prune_sent(cut, 100).await.unwrap(),
        2,
        "the sent emails finished strictly before the cutoff, counted exactly"
    );
    absent(store, old.id, "pruned").await;
    absent(store, just.id, "pruned").await;
    for kept in [&at_cut, &newer, &failed, &pending] {
        assert_eq!(&read(store, kept.id).await, kept, "kept as it was");
    }
    assert_eq!(store.prune_sent(cut, 100).await.unwrap(), 0, "idempotent");

    let base = cut + TimeDelta::days(10);
    let many: Vec<OutboxMessage> = (0..5)
        .map(|i| finished(base + secs(i), MailState::Sent))
        .collect();
    for m in &many {
        store.enqueue(std::slice::from_ref(m)).await.unwrap();
    }
    let end = base + secs(10);
    assert_eq!(
        store.prune_sent(end, 2).await.unwrap(),
        2,
        "at most max_rows"
    );
    absent(store, at_cut.id, "the oldest go first").await;
    absent(store, newer.id, "the oldest go first").await;
    read(store, many[0].id).await;
    assert_eq!(store.prune_sent(end, 2).await.unwrap(), 2);
    absent(store, many[1].id, "the oldest go first").await;
    read(store, many[2].id).await;
    assert_eq!(store.prune_sent(end, 2).await.unwrap(), 2);
    assert_eq!(store.prune_sent(end, 2).await.unwrap(), 1);
    assert_eq!(store.prune_sent(end, 2).await.unwrap(), 0);
    read(store, failed.id).await;
}
