//! Documents the MSP shares on a task, through `PortalService`: staff attach, the
//! client opens (recorded per content), an approval waits for the open and records
//! the document's SHA-256; another portal's contact never reaches the file.

use std::sync::Arc;

use bytes::Bytes;
use portal_core::attachments::OPEN_FIRST;
use portal_core::blob::{read_all, stream_of};
use portal_core::memory::MemoryStore;
use portal_core::model::{Side, TaskKind};
use portal_core::store::RequestInfo;
use portal_core::testkit::{Seeded, TestService};
use portal_core::workflow::ActivityKind;
use portal_core::{Entity, Error};

use super::spec;

const PLAN: &[u8] = b"%PDF-1.7\n% the migration plan\n%%EOF\n";

#[tokio::test]
async fn an_approval_waits_until_the_contact_opened_the_document_and_records_its_hash() {
    let kit = TestService::builder(Arc::new(MemoryStore::new()))
        .seed(1414)
        .build();
    let service = &kit.service;
    let Seeded {
        portal,
        contact,
        staff,
        ..
    } = kit.seed_portal().await.unwrap();
    let phase = service.add_phase(&staff, portal.id, "Plan").await.unwrap();
    let task = service
        .add_task(
            &staff,
            portal.id,
            phase.id,
            spec(
                "Approve the plan",
                Side::Client,
                TaskKind::Approval { document: None },
            ),
        )
        .await
        .unwrap();
    let attached = service
        .attach_file(
            &staff,
            portal.id,
            task.id,
            "../Migration plan.PDF",
            Box::pin(stream_of(vec![Bytes::from_static(PLAN)])),
        )
        .await
        .unwrap();
    assert_eq!(
        attached.name, "Migration plan.PDF",
        "the name is cleaned of its path"
    );
    assert_eq!(attached.size, PLAN.len() as u64);
    let feed = service.store().activity(portal.id, 10).await.unwrap();
    assert!(
        feed.iter().any(|e| e.kind == ActivityKind::AttachmentAdded
            && e.actor.name() == staff.name
            && e.detail
                .as_deref()
                .is_some_and(|d| d.contains(&attached.sha256_hex()))),
        "the attachment is in the feed, attributed to the staff member: {feed:?}"
    );

    let (_, ctx) = kit.sign_in(&contact).await.unwrap();
    let listed = service.task_attachments(&ctx, task.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].opened);
    let request = RequestInfo::default();
    let refused = service
        .decide_approval(&ctx, task.id, true, None, &request)
        .await;
    assert!(
        matches!(&refused, Err(Error::Conflict { reason }) if reason == OPEN_FIRST),
        "{refused:?}"
    );
    assert!(
        service
            .task(&ctx, task.id)
            .await
            .unwrap()
            .evidence
            .decision
            .is_none(),
        "a refused decision records nothing"
    );

    // A look without reading (what HEAD asks), or the file through another task's
    // address, records no open: the decision still waits.
    let other_task = service
        .add_task(
            &staff,
            portal.id,
            phase.id,
            spec("Read the guide", Side::Client, TaskKind::Standard),
        )
        .await
        .unwrap();
    let info = service
        .attachment_info(&ctx, task.id, attached.id)
        .await
        .unwrap();
    assert_eq!(info.sha256, attached.sha256);
    assert!(matches!(
        service
            .open_attachment(&ctx, other_task.id, attached.id)
            .await,
        Err(Error::NotFound {
            entity: Entity::File
        })
    ));
    assert!(!service.task_attachments(&ctx, task.id).await.unwrap()[0].opened);

    let (opened, content) = service
        .open_attachment(&ctx, task.id, attached.id)
        .await
        .unwrap();
    assert_eq!(opened.id, attached.id);
    assert_eq!(read_all(content, 1 << 20).await.unwrap(), PLAN);
    assert!(service.task_attachments(&ctx, task.id).await.unwrap()[0].opened);

    let decided = service
        .decide_approval(&ctx, task.id, true, None, &request)
        .await
        .unwrap();
    let decision = decided.evidence.decision.unwrap();
    assert_eq!(decision.documents.len(), 1);
    assert_eq!(decision.documents[0].name, "Migration plan.PDF");
    assert_eq!(decision.documents[0].sha256, attached.sha256_hex());

    // Another portal's contact never reaches the file.
    let other = portal_core::testkit::seed_portal(
        service,
        &portal_core::testkit::PortalSeed {
            client_name: "Fabrikam".into(),
            contact_email: "ann@fabrikam.example".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (_, stranger) = kit.sign_in(&other.contact).await.unwrap();
    assert!(matches!(
        service
            .open_attachment(&stranger, task.id, attached.id)
            .await,
        Err(Error::NotFound {
            entity: Entity::File
        })
    ));

    // Staff delete it: the blob goes, the feed says who.
    service
        .delete_attachment(&staff, portal.id, attached.id)
        .await
        .unwrap();
    assert!(
        service
            .task_attachments(&ctx, task.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!service.store().blob_in_use(attached.blob).await.unwrap());
}
