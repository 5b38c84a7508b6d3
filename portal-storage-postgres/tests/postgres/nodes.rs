//! Two portal nodes on one database: two `PostgresStore`s (each its own connection
//! pool, as two processes have) under two `PortalService`s with the same server secret
//! and their own clocks, mailers and random sources. What one node acknowledges, the
//! other's very next request sees; work queued for "whoever is free" is done once.

use std::collections::HashSet;
use std::sync::Arc;

use portal_core::model::{Side, TaskKind, TaskStatus};
use portal_core::service::MailDelivery;
use portal_core::testkit::{Seeded, TestService, request};
use portal_core::{Entity, Error, Store, TaskSpec};
use portal_storage_postgres::PostgresStore;

/// Two nodes on this run's database (`None` without a server). Distinct seeds, so the
/// nodes never draw the same ids; the default test secret is the same on both, as a
/// cluster's nodes share the server secret.
async fn two_nodes(delivery: MailDelivery) -> Option<(crate::Database, TestService, TestService)> {
    let (db, a, b, _) = two_nodes_with_stores(delivery).await?;
    Some((db, a, b))
}

/// [`two_nodes`] with each node's store, for the seams the service does not hand out.
async fn two_nodes_with_stores(
    delivery: MailDelivery,
) -> Option<(
    crate::Database,
    TestService,
    TestService,
    [Arc<PostgresStore>; 2],
)> {
    crate::server_url()?;
    let db = crate::new_database().await;
    let a_store = Arc::new(PostgresStore::connect(&db).await.unwrap());
    let b_store = Arc::new(PostgresStore::connect(&db).await.unwrap());
    let node = |store: &Arc<PostgresStore>, seed: u64| {
        let store: Arc<dyn Store> = store.clone();
        TestService::builder(store)
            .seed(seed)
            .mail_delivery(delivery)
            .build()
    };
    let a = node(&a_store, crate::rand_u64() | 1);
    let b = node(&b_store, crate::rand_u64() & !1);
    Some((db, a, b, [a_store, b_store]))
}

/// A revocation through node A is refused on node B's very next request, though B had
/// just accepted the session (`Revoked(Session)`: revoking a contact revokes their
/// sessions, as the contract says).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_on_one_node_holds_on_the_other() {
    let Some((_db, a, b)) = two_nodes(MailDelivery::Inline).await else {
        return;
    };
    let Seeded { contact, staff, .. } = a.seed_portal().await.unwrap();
    let (session, _) = a.sign_in(&contact).await.unwrap();
    if let Err(e) = b.service.authenticate(&session, &request()).await {
        panic!("node B refuses a session of node A: {e:?}");
    }
    a.service.revoke_contact(&staff, contact.id).await.unwrap();
    let after = b.service.authenticate(&session, &request()).await;
    assert!(
        matches!(
            after,
            Err(Error::Revoked {
                entity: Entity::Session
            })
        ),
        "node B still accepts a session revoked through node A: {after:?}"
    );
}

/// A task the client completes through node A is complete on node B's next page, and
/// a sign-out through B ends the session on A.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_node_shows_on_the_others_next_page() {
    let Some((_db, a, b)) = two_nodes(MailDelivery::Inline).await else {
        return;
    };
    let Seeded {
        portal,
        contact,
        staff,
        ..
    } = a.seed_portal().await.unwrap();
    let phase = b
        .service
        .add_phase(&staff, portal.id, "Getting started")
        .await
        .unwrap();
    let task = b
        .service
        .add_task(
            &staff,
            portal.id,
            phase.id,
            TaskSpec {
                title: "Read the welcome pack".into(),
                description: "Tick it off when done.".into(),
                assignee: Side::Client,
                kind: TaskKind::Standard,
                due_date: None,
            },
        )
        .await
        .unwrap();
    let (session, ctx_a) = a.sign_in(&contact).await.unwrap();
    let ctx_b = b.service.authenticate(&session, &request()).await.unwrap();
    let before = b.service.portal_home(&ctx_b).await.unwrap();
    let status = |snapshot: &portal_core::model::PortalSnapshot| {
        snapshot
            .tasks
            .iter()
            .find(|t| t.id == task.id)
            .map(|t| t.status)
    };
    assert_ne!(status(&before), Some(TaskStatus::Completed));
    a.service
        .complete_task(&ctx_a, task.id, None)
        .await
        .unwrap();
    let after = b.service.portal_home(&ctx_b).await.unwrap();
    assert_eq!(
        status(&after),
        Some(TaskStatus::Completed),
        "node B shows a stale page"
    );

    b.service
        .sign_out(&session, &ctx_b, &request())
        .await
        .unwrap();
    assert!(
        a.service.authenticate(&session, &request()).await.is_err(),
        "node A still accepts a session signed out through node B"
    );
}

/// Emails queued through node A are delivered by whichever node's sender claims them
/// first, each exactly once: both nodes drain the outbox at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_outbox_is_delivered_once_between_two_nodes() {
    let Some((_db, a, b)) = two_nodes(MailDelivery::Background).await else {
        return;
    };
    let Seeded { portal, staff, .. } = a.seed_portal().await.unwrap();
    let mut expected = HashSet::new();
    for i in 0..40 {
        let email = format!("colleague{i}@example.com");
        let contact = a
            .service
            .add_contact(&staff, portal.id, &format!("Colleague {i}"), &email)
            .await
            .unwrap();
        a.service.invite_contact(&staff, contact.id).await.unwrap();
        expected.insert(email);
    }
    let a = Arc::new(a);
    let b = Arc::new(b);
    let drain = |node: Arc<TestService>| {
        tokio::spawn(async move {
            let mut idle = 0;
            while idle < 3 {
                let report = node.service.deliver_outbox().await.unwrap();
                if report.sent == 0 {
                    idle += 1;
                    tokio::task::yield_now().await;
                } else {
                    idle = 0;
                }
            }
        })
    };
    let (ra, rb) = tokio::join!(drain(a.clone()), drain(b.clone()));
    ra.unwrap();
    rb.unwrap();
    let mut delivered = Vec::new();
    for node in [&a, &b] {
        delivered.extend(
            node.mailer
                .sent()
                .into_iter()
                .map(|m| m.to.as_str().to_owned())
                .filter(|to| expected.contains(to)),
        );
    }
    let unique: HashSet<_> = delivered.iter().cloned().collect();
    assert_eq!(unique, expected, "every invitation was delivered");
    assert_eq!(
        delivered.len(),
        expected.len(),
        "an invitation was delivered twice"
    );
    assert!(
        !a.mailer.sent().is_empty() || !b.mailer.sent().is_empty(),
        "something was sent"
    );
}

/// A webhook transport that records what it posts and answers 200.
#[derive(Default)]
struct Recording {
    posted: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl portal_core::webhooks::WebhookTransport for Recording {
    async fn post(
        &self,
        hook: &portal_core::webhooks::OutgoingWebhook,
    ) -> portal_core::Result<portal_core::webhooks::TransportAnswer> {
        self.posted.lock().unwrap().push(hook.msg_id.clone());
        Ok(portal_core::webhooks::TransportAnswer {
            status: 200,
            excerpt: String::new(),
        })
    }
}

/// The feed's events reach the webhook endpoint once each, though both nodes run their
/// dispatcher and worker at the same time over the same cursor and deliveries.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_are_delivered_once_between_two_nodes() {
    use portal_core::webhooks::service::{NewEndpoint, WebhookSettings, Webhooks};
    let Some((_db, a, b, stores)) = two_nodes_with_stores(MailDelivery::Inline).await else {
        return;
    };
    let Seeded { portal, staff, .. } = a.seed_portal().await.unwrap();
    let admin = portal_core::testkit::admin(portal.tenant_id);
    let nodes: Vec<(Arc<Recording>, Webhooks)> = [(&a, &stores[0]), (&b, &stores[1])]
        .iter()
        .map(|(node, store)| {
            let transport = Arc::new(Recording::default());
            let hooks = Webhooks::new(
                &node.service,
                (*store).clone(),
                transport.clone(),
                WebhookSettings::default(),
            );
            (transport, hooks)
        })
        .collect();
    nodes[0]
        .1
        .create_endpoint(
            &admin,
            &NewEndpoint {
                url: "https://psa.example.com/hooks".into(),
                ..NewEndpoint::default()
            },
        )
        .await
        .unwrap();
    // Feed entries written through both nodes.
    for i in 0..20 {
        let node = if i % 2 == 0 { &a } else { &b };
        node.service
            .add_contact(
                &staff,
                portal.id,
                &format!("Colleague {i}"),
                &format!("hook{i}@example.com"),
            )
            .await
            .unwrap();
    }
    let nodes = Arc::new(nodes);
    let runs: Vec<_> = (0..2)
        .map(|n| {
            let nodes = nodes.clone();
            tokio::spawn(async move {
                let mut idle = 0;
                while idle < 3 {
                    let report = nodes[n].1.run_once().await.unwrap();
                    if report.delivered == 0 {
                        idle += 1;
                        tokio::task::yield_now().await;
                    } else {
                        idle = 0;
                    }
                }
            })
        })
        .collect();
    for run in runs {
        run.await.unwrap();
    }
    let mut posted: Vec<String> = Vec::new();
    for (transport, _) in nodes.iter() {
        posted.extend(transport.posted.lock().unwrap().iter().cloned());
    }
    let unique: HashSet<&String> = posted.iter().collect();
    assert_eq!(unique.len(), posted.len(), "a webhook was posted twice");
    assert!(
        posted.len() >= 20,
        "every feed entry after the endpoint was delivered (posted {})",
        posted.len()
    );
}

/// A file a client uploads through node A downloads through node B, byte for byte:
/// the nodes share the database, the keyring and an S3-compatible bucket (each node
/// with its own client of it). Needs `PORTAL_TEST_S3_URL` too (an S3 server such as
/// the one `.ci/run` starts); skipped without it unless `PORTAL_REQUIRE_S3=1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_uploaded_on_one_node_downloads_on_the_other() {
    use bytes::Bytes;
    use futures_util::TryStreamExt as _;
    use portal_blob_s3::{S3BlobStore, S3Config};
    use portal_core::blob::stream_of;

    let Some(s3) = std::env::var("PORTAL_TEST_S3_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var("PORTAL_REQUIRE_S3").as_deref() != Ok("1"),
            "PORTAL_REQUIRE_S3=1 but PORTAL_TEST_S3_URL is not set"
        );
        eprintln!("skipped: set PORTAL_TEST_S3_URL to run the two-node file test");
        return;
    };
    if crate::server_url().is_none() {
        return;
    }
    let bucket = "portal-nodes";
    create_bucket(&s3, bucket).await;
    let prefix = format!("nodes-{:016x}", crate::rand_u64());
    let db = crate::new_database().await;
    let node = |seed: u64| {
        let (s3, prefix, url) = (s3.clone(), prefix.clone(), db.to_string());
        async move {
            let store: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).await.unwrap());
            let blobs = S3BlobStore::new(
                &S3Config::new(&s3, bucket, "us-east-1", "test", "test")
                    .prefix(prefix)
                    .allow_loopback_http(true),
            )
            .unwrap();
            TestService::builder(store)
                .seed(seed)
                .blobs(Arc::new(blobs))
                // The same key-encryption keys on both nodes, as a shared keyring.
                .keys(portal_core::testkit::test_keyring(77))
                .build()
        }
    };
    let a = node(crate::rand_u64() | 1).await;
    let b = node(crate::rand_u64() & !1).await;
    let Seeded {
        portal,
        contact,
        staff,
        ..
    } = a.seed_portal().await.unwrap();
    let task = crate::document_task(&a, &staff, portal.id).await;
    let (session, ctx_a) = a.sign_in(&contact).await.unwrap();
    // Large enough for two multipart parts of 5 MiB and a remainder.
    // Text, so the type check by content accepts it.
    let content: Vec<u8> = (0..)
        .map(|i| format!("switch {i}: port {} in VLAN {}\n", i % 48, i % 7))
        .take_while({
            let mut size = 0;
            move |line| {
                size += line.len();
                size <= 11 * 1024 * 1024
            }
        })
        .collect::<String>()
        .into_bytes();
    let file = a
        .service
        .upload_document(
            &ctx_a,
            task.id,
            "diagram",
            "network-diagram.txt",
            stream_of(vec![Bytes::from(content.clone())]),
        )
        .await
        .unwrap();
    let ctx_b = b.service.authenticate(&session, &request()).await.unwrap();
    let (record, stream) = b.service.download_document(&ctx_b, file.id).await.unwrap();
    assert_eq!(record.id, file.id);
    let chunks: Vec<Bytes> = stream.try_collect().await.unwrap();
    let downloaded: Vec<u8> = chunks.concat();
    assert_eq!(downloaded.len(), content.len());
    assert!(
        downloaded == content,
        "node B read other bytes than node A stored"
    );
}

/// Creates `bucket` on the test S3 server (an unsigned request, which the test server
/// accepts); an existing bucket is fine.
async fn create_bucket(endpoint: &str, bucket: &str) {
    let url = format!("{}/{bucket}", endpoint.trim_end_matches('/'));
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let request = format!(
        "PUT /{bucket} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 200") || answer.contains("BucketAlreadyOwnedByYou"),
            "creating the test bucket: {answer}"
        );
    })
    .await
    .unwrap();
}
