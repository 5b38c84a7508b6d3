//! Secure file drop through the service on the reference store, on the manual clock:
//! expiry to the second, the uniform "not available" answer, the client's delete until
//! the MSP downloaded, the sweeper (idempotent, finishing after a crash between its
//! mark and the byte removal), and no dropped content in any log line or Debug output.

use std::sync::Arc;

use bytes::Bytes;
use chrono::TimeDelta;
use portal_core::blob::{read_all, stream_of};
use portal_core::filedrop::{self, DropDecision, DroppedFile};
use portal_core::memory::MemoryStore;
use portal_core::model::{Side, Task, TaskKind};
use portal_core::testkit::{Seeded, TestService};
use portal_core::{Entity, Error, FileDropStore, TaskId, TaskSpec};

use crate::LogCapture;

const CONTENT: &[u8] = b"vpn-preshared-key: never-in-a-log-7f3a";

async fn setup(store: Arc<MemoryStore>) -> (TestService, Seeded, TaskId) {
    let kit = TestService::new(store, 41);
    let seeded = kit.seed_portal().await.unwrap();
    let (staff, portal) = (&seeded.staff, seeded.portal.id);
    let phase = kit.service.add_phase(staff, portal, "Files").await.unwrap();
    let task = kit
        .service
        .add_task(
            staff,
            portal,
            phase.id,
            TaskSpec {
                title: "Network diagrams".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::SecureFileDrop {
                    expires_after_days: 7,
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    (kit, seeded, task)
}

fn content() -> portal_core::blob::ByteStream {
    Box::pin(stream_of(vec![Bytes::from_static(CONTENT)]))
}

#[tokio::test]
async fn expiry_is_exact_and_every_gone_file_answers_the_same() {
    let store = Arc::new(MemoryStore::new());
    let (kit, seeded, task) = setup(store.clone()).await;
    let (staff, portal) = (&seeded.staff, seeded.portal.id);
    let (_, ctx) = kit.sign_in(&seeded.contact).await.unwrap();
    let kept = kit
        .service
        .drop_file(&ctx, task, "diagram.pdf", content())
        .await
        .unwrap();
    let deleted = kit
        .service
        .drop_file(&ctx, task, "old.pdf", content())
        .await
        .unwrap();
    assert_eq!(kept.expires_at, kept.uploaded_at + TimeDelta::days(7));
    assert_eq!(kept.size, CONTENT.len() as u64);
    kit.service
        .delete_dropped_file(&ctx, deleted.id)
        .await
        .unwrap();
    // The delete removed the bytes at once.
    assert!(kit.blobs.get(deleted.blob).await.is_err());
    // A second before expiry the MSP downloads it; the client can no longer delete it.
    kit.clock.set(kept.expires_at - TimeDelta::seconds(1));
    let (marked, stream) = kit
        .service
        .download_dropped_file(staff, portal, kept.id)
        .await
        .unwrap();
    assert_eq!(read_all(stream, 1 << 20).await.unwrap(), CONTENT);
    assert_eq!(marked.downloaded.as_ref().unwrap().by, staff.actor());
    let refused = kit
        .service
        .delete_dropped_file(&ctx, kept.id)
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Conflict { .. }), "{refused:?}");
    assert!(refused.to_string().contains("already downloaded"));
    // At expiry: gone, exactly as a deleted file and a missing one.
    kit.clock.set(kept.expires_at);
    let answers = [
        kit.service
            .download_dropped_file(staff, portal, kept.id)
            .await
            .map(|_| ())
            .unwrap_err(),
        kit.service
            .download_dropped_file(staff, portal, deleted.id)
            .await
            .map(|_| ())
            .unwrap_err(),
        kit.service
            .download_dropped_file(
                staff,
                portal,
                portal_core::ids::FileId::random(&portal_core::OsRandom),
            )
            .await
            .map(|_| ())
            .unwrap_err(),
    ];
    for a in &answers {
        assert!(
            matches!(
                a,
                Error::NotFound {
                    entity: Entity::File
                }
            ),
            "{a:?}"
        );
        assert_eq!(a.to_string(), answers[0].to_string());
    }
    // The audit chain has each step.
    let chain = kit
        .service
        .export_audit_chain(&seeded.staff, portal)
        .await
        .unwrap();
    for kind in ["file_dropped", "file_deleted", "file_downloaded"] {
        assert!(chain.contains(kind), "no {kind} in the chain");
    }
}

#[tokio::test]
async fn the_sweeper_removes_expired_bytes_once_and_finishes_after_a_crash() {
    let store = Arc::new(MemoryStore::new());
    let (kit, seeded, task) = setup(store.clone()).await;
    let (_, ctx) = kit.sign_in(&seeded.contact).await.unwrap();
    let a = kit
        .service
        .drop_file(&ctx, task, "a.pdf", content())
        .await
        .unwrap();
    kit.clock.advance(TimeDelta::hours(1));
    let b = kit
        .service
        .drop_file(&ctx, task, "b.pdf", content())
        .await
        .unwrap();
    // Nothing is due a second before the first expiry.
    assert_eq!(
        kit.service
            .sweep_file_drops(a.expires_at - TimeDelta::seconds(1))
            .await
            .unwrap(),
        0
    );
    assert!(kit.blobs.get(a.blob).await.is_ok());
    // At its expiry the first goes: marked, audited, bytes removed; the second stays.
    assert_eq!(kit.service.sweep_file_drops(a.expires_at).await.unwrap(), 1);
    let swept = store.dropped_file(seeded.portal.id, a.id).await.unwrap();
    assert_eq!(swept.expired_at, Some(a.expires_at));
    assert!(swept.bytes_removed);
    assert!(kit.blobs.get(a.blob).await.is_err());
    assert!(kit.blobs.get(b.blob).await.is_ok());
    assert_eq!(
        kit.service.sweep_file_drops(a.expires_at).await.unwrap(),
        0,
        "idempotent"
    );
    // A crash after the mark, before the bytes went: the file is unreadable at once,
    // and the next sweep removes the bytes.
    let due = b.expires_at;
    let mark: DropDecision = Arc::new(move |t: &Task, f: &DroppedFile| filedrop::expire(t, f, due));
    store
        .change_dropped_file(seeded.portal.id, b.id, mark)
        .await
        .unwrap();
    kit.clock.set(due - TimeDelta::seconds(10));
    assert!(matches!(
        kit.service
            .download_dropped_file(&seeded.staff, seeded.portal.id, b.id)
            .await
            .map(|_| ()),
        Err(Error::NotFound {
            entity: Entity::File
        })
    ));
    assert!(kit.blobs.get(b.blob).await.is_ok());
    assert_eq!(kit.service.sweep_file_drops(due).await.unwrap(), 1);
    assert!(kit.blobs.get(b.blob).await.is_err());
    let feed = kit
        .service
        .staff_activity(&seeded.staff, seeded.portal.id, None, 50)
        .await
        .unwrap();
    assert!(
        feed.items
            .iter()
            .any(|e| e.kind == portal_core::workflow::ActivityKind::FileExpired)
    );
}

#[tokio::test]
async fn a_client_cannot_touch_another_portals_file_and_nothing_leaks_to_logs() {
    let logs = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let store = Arc::new(MemoryStore::new());
    let (kit, seeded, task) = setup(store.clone()).await;
    let (_, ctx) = kit.sign_in(&seeded.contact).await.unwrap();
    let file = kit
        .service
        .drop_file(&ctx, task, "keys.txt", content())
        .await
        .unwrap();
    let other = portal_core::testkit::seed_portal(
        &kit.service,
        &portal_core::testkit::PortalSeed {
            contact_email: "ops@other.example".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (_, other_ctx) = kit.sign_in(&other.contact).await.unwrap();
    assert!(matches!(
        kit.service.delete_dropped_file(&other_ctx, file.id).await,
        Err(Error::NotFound {
            entity: Entity::File
        })
    ));
    // An empty file is refused and leaves no record.
    let empty = kit
        .service
        .drop_file(&ctx, task, "empty.txt", Box::pin(stream_of(Vec::new())))
        .await
        .unwrap_err();
    assert!(matches!(empty, Error::Invalid { .. }), "{empty:?}");
    let listed = kit.service.dropped_files(&ctx, task).await.unwrap();
    assert_eq!(listed.len(), 1);
    let (_, stream) = kit
        .service
        .download_dropped_file(&seeded.staff, seeded.portal.id, file.id)
        .await
        .unwrap();
    read_all(stream, 1 << 20).await.unwrap();
    let text = String::from_utf8_lossy(CONTENT).into_owned();
    let seen = logs.text();
    assert!(!seen.is_empty(), "the capture saw no log line");
    assert!(
        !seen.contains(&text),
        "a dropped file's content reached the logs"
    );
    assert!(!format!("{listed:?}{file:?}{store:?}").contains(&text));
}

/// Deleting a secure file drop task erases its files: the records are gone, the
/// content is deleted from the blob store (nothing of the task stays readable), and
/// the deletion is in the feed as any task's. Another drop task's file stays.
#[tokio::test]
async fn deleting_a_drop_task_erases_its_files_and_their_content() {
    let store = Arc::new(MemoryStore::new());
    let (kit, seeded, task) = setup(store.clone()).await;
    let (staff, portal) = (&seeded.staff, seeded.portal.id);
    let (_, ctx) = kit.sign_in(&seeded.contact).await.unwrap();
    let mut files = Vec::new();
    for name in ["a.pdf", "b.pdf"] {
        files.push(
            kit.service
                .drop_file(&ctx, task, name, content())
                .await
                .unwrap(),
        );
    }
    let phase = kit.service.add_phase(staff, portal, "More").await.unwrap();
    let other = kit
        .service
        .add_task(
            staff,
            portal,
            phase.id,
            TaskSpec {
                title: "Other drop".into(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::SecureFileDrop {
                    expires_after_days: 7,
                },
                due_date: None,
            },
        )
        .await
        .unwrap()
        .id;
    let kept = kit
        .service
        .drop_file(&ctx, other, "kept.pdf", content())
        .await
        .unwrap();
    for f in &files {
        assert!(kit.blobs.get(f.blob).await.is_ok());
    }
    let version = kit
        .service
        .store()
        .task(portal, task)
        .await
        .unwrap()
        .version;
    kit.service
        .delete_task(staff, portal, task, version)
        .await
        .unwrap();
    for f in &files {
        assert!(
            kit.blobs.get(f.blob).await.is_err(),
            "a deleted drop task's content is deleted"
        );
        assert!(matches!(
            store.dropped_file(portal, f.id).await,
            Err(Error::NotFound {
                entity: Entity::File
            })
        ));
    }
    assert!(
        kit.blobs.get(kept.blob).await.is_ok(),
        "another task's file stays"
    );
    let feed = kit.service.store().activity(portal, 5).await.unwrap();
    assert_eq!(
        feed[0].kind,
        portal_core::workflow::ActivityKind::TaskDeleted,
        "the deletion is recorded"
    );
}

/// The background sweeper a host spawns: on its own, at the injected clock's now, it
/// sweeps a file once the clock passes its expiry (bytes removed, record marked), and
/// leaves a file that is not due; aborting the handle stops it.
#[tokio::test]
async fn the_spawned_sweeper_removes_expired_bytes_on_its_own() {
    let store = Arc::new(MemoryStore::new());
    let (kit, seeded, task) = setup(store.clone()).await;
    let (_, ctx) = kit.sign_in(&seeded.contact).await.unwrap();
    let a = kit
        .service
        .drop_file(&ctx, task, "a.pdf", content())
        .await
        .unwrap();
    let sweeper = portal_core::service::spawn_file_drop_sweeper(
        kit.service.clone(),
        std::time::Duration::from_millis(10),
    );
    // A few ticks before expiry: nothing happens.
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    assert!(kit.blobs.get(a.blob).await.is_ok());
    assert!(
        store
            .dropped_file(seeded.portal.id, a.id)
            .await
            .unwrap()
            .expired_at
            .is_none()
    );
    // The clock reaches the expiry: the next tick sweeps it, without any call.
    kit.clock.set(a.expires_at);
    let mut swept = None;
    for _ in 0..500 {
        let f = store.dropped_file(seeded.portal.id, a.id).await.unwrap();
        if f.bytes_removed {
            swept = Some(f);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    sweeper.abort();
    let swept = swept.expect("the spawned sweeper removed the expired file's bytes");
    assert_eq!(swept.expired_at, Some(a.expires_at));
    assert!(kit.blobs.get(a.blob).await.is_err());
    assert!(sweeper.await.unwrap_err().is_cancelled());
}
