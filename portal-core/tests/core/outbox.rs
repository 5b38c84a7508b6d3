//! The email outbox through `PortalService`: emails queued with their action and
//! delivered by a sender (driven here by `deliver_outbox` and a manual clock, or by the
//! spawned background sender), retries with backoff, permanent failures listed for the
//! MSP, the verification email sent at once and recorded, and senders sharing a store.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use portal_core::memory::MemoryStore;
use portal_core::outbox::{MailKind, MailState, OutboxPolicy, Permanence};
use portal_core::service::{DeliveryReport, MailDelivery, spawn_outbox_sender};
use portal_core::testkit::{Seeded, TestService, request as req};
use portal_core::{Error, Store};

/// A service whose emails wait for a sender, over `store`.
fn queued_kit(store: Arc<dyn Store>, seed: u64) -> TestService {
    TestService::builder(store)
        .seed(seed)
        .mail_delivery(MailDelivery::Background)
        .build()
}

async fn seeded(kit: &TestService) -> Seeded {
    kit.seed_portal().await.unwrap()
}

fn report(sent: u32, retrying: u32, failed: u32) -> DeliveryReport {
    DeliveryReport {
        sent,
        retrying,
        failed,
        lost_claims: 0,
    }
}

#[tokio::test]
async fn an_invite_is_queued_with_the_invite_and_sent_once_by_the_sender() {
    let kit = queued_kit(Arc::new(MemoryStore::new()), 31);
    let s = seeded(&kit).await;
    kit.service
        .invite_contact(&s.staff, s.contact.id)
        .await
        .unwrap();
    assert!(kit.mailer.sent().is_empty(), "the request only queues");
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(1, 0, 0));
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 0));
    let sent = kit.mailer.sent();
    assert_eq!(sent.len(), 1, "sent exactly once");
    assert_eq!(sent[0].to, s.contact.email);
    assert!(
        sent[0].subject.contains("invited you"),
        "{}",
        sent[0].subject
    );
}

#[tokio::test]
async fn a_transient_failure_is_retried_with_backoff_and_delivered_once() {
    let kit = queued_kit(Arc::new(MemoryStore::new()), 32);
    let s = seeded(&kit).await;
    kit.service
        .invite_contact(&s.staff, s.contact.id)
        .await
        .unwrap();
    kit.mailer.fail_next(3, Permanence::Transient);
    let policy = *kit.service.outbox_policy();

    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 1, 0));
    // Nothing is due before the retry: half the first backoff at least.
    kit.clock
        .advance(policy.first_retry / 2 - TimeDelta::microseconds(1));
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 0));
    // Each retry waits up to twice as long as the one before.
    for wait in [policy.first_retry, policy.first_retry * 2] {
        kit.clock.advance(wait);
        assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 1, 0));
    }
    kit.clock.advance(policy.first_retry * 4);
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(1, 0, 0));
    kit.clock.advance(TimeDelta::hours(2));
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 0));
    assert_eq!(kit.mailer.sent().len(), 1, "delivered once");
    assert!(
        kit.service
            .failed_mail(&s.staff, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_permanent_failure_stops_retrying_and_is_listed_for_the_msp() {
    let kit = queued_kit(Arc::new(MemoryStore::new()), 33);
    let s = seeded(&kit).await;
    kit.service
        .invite_contact(&s.staff, s.contact.id)
        .await
        .unwrap();
    kit.mailer.fail_next(1, Permanence::Permanent);
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 1));
    kit.clock.advance(TimeDelta::days(1));
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 0));
    assert!(kit.mailer.sent().is_empty(), "never retried");
    let failed = kit.service.failed_mail(&s.staff, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    let f = &failed[0];
    assert_eq!((f.kind, f.state), (MailKind::Invite, MailState::Failed));
    assert_eq!(f.email.to, s.contact.email);
    assert!(
        f.email.text.is_empty() && f.email.html.is_empty(),
        "no invite link kept"
    );
    assert!(
        f.last_error
            .as_deref()
            .is_some_and(|e| e.contains("permanent:")),
        "{:?}",
        f.last_error
    );
}

#[tokio::test]
async fn an_email_undeliverable_for_too_long_is_given_up() {
    let policy = OutboxPolicy {
        give_up_after: TimeDelta::minutes(10),
        ..OutboxPolicy::default()
    };
    let kit = TestService::builder(Arc::new(MemoryStore::new()))
        .seed(34)
        .mail_delivery(MailDelivery::Background)
        .outbox(policy)
        .build();
    let s = seeded(&kit).await;
    kit.service
        .invite_contact(&s.staff, s.contact.id)
        .await
        .unwrap();
    kit.mailer.set_failing(true);
    let mut gave_up = false;
    for _ in 0..20 {
        let r = kit.service.deliver_outbox().await.unwrap();
        if r.failed == 1 {
            gave_up = true;
            break;
        }
        kit.clock.advance(TimeDelta::minutes(1));
    }
    assert!(gave_up, "given up within the configured time");
    assert!(kit.now() - portal_core::testkit::t0() <= TimeDelta::minutes(10));
    let failed = kit.service.failed_mail(&s.staff, 10).await.unwrap();
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("10 minutes")),
        "{:?}",
        failed[0].last_error
    );
}

#[tokio::test]
async fn the_verification_email_is_sent_at_once_and_recorded_as_sent() {
    let kit = queued_kit(Arc::new(MemoryStore::new()), 35);
    let s = seeded(&kit).await;
    let invite = kit
        .service
        .invite_contact(&s.staff, s.contact.id)
        .await
        .unwrap();
    kit.service
        .start_verification(&invite, &req())
        .await
        .unwrap();
    let sent = kit.mailer.sent();
    assert_eq!(sent.len(), 1, "only the verification email went, at once");
    assert!(sent[0].subject.contains("verification code"));
    // The queued invite is still waiting; a pass sends it and nothing else.
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(1, 0, 0));
    kit.clock.advance(TimeDelta::hours(1));
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 0));
    assert_eq!(
        kit.mailer.sent().len(),
        2,
        "the verification email is not sent again"
    );
}

#[tokio::test]
async fn an_undelivered_verification_email_is_recorded_and_its_code_taken_back() {
    let kit = queued_kit(Arc::new(MemoryStore::new()), 36);
    let s = seeded(&kit).await;
    let invite = kit
        .service
        .invite_contact(&s.staff, s.contact.id)
        .await
        .unwrap();
    kit.mailer.set_failure(Some(Permanence::Transient));
    match kit.service.start_verification(&invite, &req()).await {
        Err(Error::Mail { .. }) => {}
        other => panic!("expected a mail failure, got {other:?}"),
    }
    let failed = kit.service.failed_mail(&s.staff, 10).await.unwrap();
    assert_eq!(failed.len(), 1, "recorded, and listed for the MSP");
    assert_eq!(failed[0].kind, MailKind::Verification);
    assert!(failed[0].email.text.is_empty(), "the code is not kept");
    kit.mailer.set_failure(None);
    // The sender never sends the withdrawn code later; only the invite goes.
    kit.clock.advance(TimeDelta::hours(1));
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(1, 0, 0));
    assert!(
        kit.mailer
            .sent()
            .iter()
            .all(|e| !e.subject.contains("verification code"))
    );
    // And the client still has all its codes.
    let (_, view) = kit
        .service
        .start_verification(&invite, &req())
        .await
        .unwrap();
    assert_eq!(view.codes_issued, 1);
}

#[tokio::test]
async fn a_verification_email_whose_request_died_is_sent_by_the_sender_while_the_code_lives() {
    // The request queued the email under its claim and died before sending: after the
    // claim's lease, the sender sends it, unless the code has expired by then.
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let kit = queued_kit(store.clone(), 37);
    let s = seeded(&kit).await;
    let invite = kit
        .service
        .invite_contact(&s.staff, s.contact.id)
        .await
        .unwrap();
    kit.service.deliver_outbox().await.unwrap();
    // Simulate the death: the email is queued as the request queues it, never sent.
    let policy = *kit.service.outbox_policy();
    let now = kit.now();
    let mut email = kit.mailer.sent()[0].clone();
    email.subject = "Your Northwind IT portal verification code".into();
    let make = |not_after| {
        let mut m = portal_core::outbox::OutboxMessage::new(
            portal_core::MailId::random(&portal_core::OsRandom),
            s.tenant.id,
            Some(s.portal.id),
            MailKind::Verification,
            email.clone(),
            now,
        );
        m.attempts = 1;
        m.not_after = Some(not_after);
        m.lease = Some(portal_core::outbox::Lease {
            claim: portal_core::ClaimToken::random(&portal_core::OsRandom),
            until: now + policy.lease,
        });
        m
    };
    let alive = make(now + TimeDelta::minutes(30));
    let stale = make(now + TimeDelta::minutes(3));
    store
        .enqueue(&[alive.clone(), stale.clone()])
        .await
        .unwrap();
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 0, 0));
    kit.clock.advance(policy.lease + TimeDelta::seconds(1));
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(1, 0, 1));
    assert_eq!(
        store.outbox_message(alive.id).await.unwrap().state,
        MailState::Sent
    );
    assert_eq!(
        store.outbox_message(stale.id).await.unwrap().state,
        MailState::Failed,
        "a code that expired before its turn is not sent"
    );
    let _ = invite;
}

#[tokio::test]
async fn a_staff_notification_queued_while_the_mail_server_is_down_goes_out_later() {
    let kit = queued_kit(Arc::new(MemoryStore::new()), 38);
    let s = seeded(&kit).await;
    // Signed in through a second service over the same store (its own inline mailer).
    let h = portal_core::testkit::TestService::builder(kit.service.store().clone())
        .seed(39)
        .build();
    let (_, ctx) = h.sign_in(&s.contact).await.unwrap();
    kit.mailer.set_failing(true);
    // The question is stored and its notifications queued (two recipients), though
    // the mail server is down: they go out once it is back.
    kit.service
        .ask_question(&ctx, "Can we keep our old printer?")
        .await
        .unwrap();
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(0, 2, 0));
    kit.mailer.set_failing(false);
    kit.clock.advance(TimeDelta::minutes(5));
    assert_eq!(kit.service.deliver_outbox().await.unwrap(), report(2, 0, 0));
    let sent = kit.mailer.sent();
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .all(|e| e.subject.contains("Question from Jane Doe"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_sender_wakes_on_a_queued_email_and_stops_cleanly() {
    let policy = OutboxPolicy {
        // Far longer than the test: only the wake can deliver in time.
        poll: TimeDelta::hours(1),
        ..OutboxPolicy::default()
    };
    let kit = TestService::builder(Arc::new(MemoryStore::new()))
        .seed(40)
        .mail_delivery(MailDelivery::Background)
        .outbox(policy)
        .build();
    let s = seeded(&kit).await;
    let sender = spawn_outbox_sender(kit.service.clone());
    tokio::time::sleep(Duration::from_millis(50)).await;
    kit.service
        .invite_contact(&s.staff, s.contact.id)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while kit.mailer.sent().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sender was not woken"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::timeout(Duration::from_secs(10), sender.stop())
        .await
        .expect("the sender stops");
    kit.service
        .invite_contact(&s.staff, s.contact.id)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(kit.mailer.sent().len(), 1, "a stopped sender sends nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn senders_sharing_a_store_send_each_email_once() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let kit = queued_kit(store.clone(), 41);
    let s = seeded(&kit).await;
    let mut contacts = vec![s.contact.clone()];
    for i in 0..29 {
        contacts.push(
            kit.service
                .add_contact(
                    &s.staff,
                    s.portal.id,
                    &format!("Contact {i}"),
                    &format!("c{i}@contoso.example"),
                )
                .await
                .unwrap(),
        );
    }
    for c in &contacts {
        kit.service.invite_contact(&s.staff, c.id).await.unwrap();
    }
    // Four "processes": services over the one store, each with its own mailer, small
    // batches, all passing at once.
    let small = OutboxPolicy {
        batch: 3,
        ..OutboxPolicy::default()
    };
    let nodes: Vec<TestService> = (0..4)
        .map(|i| {
            TestService::builder(store.clone())
                .seed(100 + i)
                .mail_delivery(MailDelivery::Background)
                .outbox(small)
                .build()
        })
        .collect();
    let passes: Vec<_> = nodes
        .iter()
        .map(|n| {
            let service = n.service.clone();
            tokio::spawn(async move { service.deliver_outbox().await })
        })
        .collect();
    for p in passes {
        p.await.unwrap().unwrap();
    }
    let mut to: Vec<String> = nodes
        .iter()
        .flat_map(|n| n.mailer.sent())
        .map(|e| e.to.as_str().to_owned())
        .collect();
    to.sort();
    let mut expected: Vec<String> = contacts
        .iter()
        .map(|c| c.email.as_str().to_owned())
        .collect();
    expected.sort();
    assert_eq!(to, expected, "every invite sent, none twice");
}

/// A mailer so slow that a batch outlives its lease: each send moves the clock past it.
struct Slow {
    clock: Arc<portal_core::ManualClock>,
    by: TimeDelta,
    sent: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl portal_core::Mailer for Slow {
    async fn send(
        &self,
        _acting: &portal_core::ActingFor,
        email: &portal_core::Email,
    ) -> portal_core::Result<()> {
        self.clock.advance(self.by);
        self.sent.lock().unwrap().push(email.to.as_str().to_owned());
        Ok(())
    }
}

#[tokio::test]
async fn an_email_whose_lease_ran_out_before_its_turn_is_left_for_the_next_claim() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let kit = queued_kit(store.clone(), 42);
    let s = seeded(&kit).await;
    let other = kit
        .service
        .add_contact(&s.staff, s.portal.id, "Sam", "sam@contoso.example")
        .await
        .unwrap();
    kit.service
        .invite_contact(&s.staff, s.contact.id)
        .await
        .unwrap();
    kit.service
        .invite_contact(&s.staff, other.id)
        .await
        .unwrap();
    let policy = *kit.service.outbox_policy();
    let slow = Arc::new(Slow {
        clock: kit.clock.clone(),
        by: policy.lease + TimeDelta::seconds(1),
        sent: std::sync::Mutex::new(Vec::new()),
    });
    let service = portal_core::PortalService::builder(
        store,
        slow.clone(),
        Arc::new(portal_core::testkit::TestLinks::default()),
        portal_core::secret::ServerSecret::generate(&portal_core::OsRandom),
    )
    .clock(kit.clock.clone())
    .build();
    let first = service.deliver_outbox().await.unwrap();
    assert_eq!(
        (first.sent, first.lost_claims),
        (1, 1),
        "the second email's lease ended while the first was sent: not sent under it"
    );
    assert_eq!(service.deliver_outbox().await.unwrap(), report(1, 0, 0));
    let mut sent = slow.sent.lock().unwrap().clone();
    sent.sort();
    assert_eq!(
        sent,
        vec![
            s.contact.email.as_str().to_owned(),
            "sam@contoso.example".to_owned()
        ],
        "each sent once"
    );
}
