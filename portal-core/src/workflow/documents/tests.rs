use chrono::TimeZone;
use uuid::Uuid;

use super::*;
use crate::ids::PhaseId;
use crate::model::EmailAddress;

fn at(s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, s).unwrap()
}

fn task() -> Task {
    Task {
        for_role: None,
        id: TaskId::from_uuid(Uuid::from_u128(1)),
        portal_id: PortalId::from_uuid(Uuid::from_u128(2)),
        phase_id: PhaseId::from_uuid(Uuid::from_u128(3)),
        position: 0,
        title: "Send documents".into(),
        description: String::new(),
        assignee: Side::Client,
        kind: TaskKind::DocumentUpload {
            documents: vec![
                RequestedDocument::new("a", "Network diagram"),
                RequestedDocument::new("b", "ISP contract"),
            ],
        },
        status: TaskStatus::Pending,
        blocked_reason: None,
        due_date: None,
        evidence: Default::default(),
        created_at: at(0),
        updated_at: at(0),
        version: 1,
        assigned_to: Vec::new(),
        waits_on: Vec::new(),
        internal: false,
    }
}

fn client() -> Actor {
    Actor::Client {
        contact_id: crate::ids::ContactId::from_uuid(Uuid::from_u128(4)),
        name: "Jane".into(),
        email: EmailAddress::parse("jane@client.example").unwrap(),
    }
}

fn staff() -> Actor {
    Actor::Staff {
        name: "Sam".into(),
        email: None,
    }
}

fn up(n: u128, doc: &str, scan: ScanVerdict) -> NewUpload {
    NewUpload {
        id: FileId::from_uuid(Uuid::from_u128(100 + n)),
        document_id: doc.into(),
        name: "f.pdf".into(),
        file_type: FileType::Pdf,
        size: 10,
        sha256: [1; 32],
        blob: BlobId::from_uuid(Uuid::from_u128(200 + n)),
        key: WrappedKey {
            key_id: crate::blob::keyring::KeyId::parse("k1").unwrap(),
            bytes: vec![1, 2, 3],
        },
        scan,
    }
}

fn tenant() -> TenantId {
    TenantId::from_uuid(Uuid::from_u128(5))
}

/// Applies an upload and returns the task and file as a store would write them.
fn upload(t: &Task, n: u128, doc: &str, scan: ScanVerdict) -> (Task, DocumentFile) {
    let change = record_upload(t, &up(n, doc, scan), &client(), tenant(), at(n as u32)).unwrap();
    change.ensure_belongs(t, tenant()).unwrap();
    assert!(
        change
            .ensure_belongs(t, TenantId::from_uuid(Uuid::from_u128(6)))
            .is_err()
    );
    (change.task.task, change.file)
}

#[test]
fn statuses_follow_uploads_and_reviews() {
    let t = task();
    assert_eq!(documents_progress(&t), TaskStatus::Pending);
    let (t, a1) = upload(&t, 1, "a", ScanVerdict::Clean);
    assert_eq!(t.status, TaskStatus::InProgress);
    assert_eq!(t.evidence.documents["a"].status, DocumentStatus::Uploaded);
    let (t, a2) = upload(&t, 2, "a", ScanVerdict::Clean);
    assert_eq!(a2.version, 2);
    let approve = |t: &Task, f: &DocumentFile| {
        let c = review(
            t,
            f,
            &Verdict::Approve { notes: None },
            &staff(),
            UnscannablePolicy::Block,
            at(9),
        )
        .unwrap();
        c.task.task
    };
    // The superseded first version can't be reviewed.
    let stale = review(
        &t,
        &a1,
        &Verdict::Approve { notes: None },
        &staff(),
        UnscannablePolicy::Block,
        at(9),
    );
    assert!(matches!(stale, Err(Error::Conflict { .. })));
    let t = approve(&t, &a2);
    assert_eq!(t.status, TaskStatus::InProgress, "one of two approved");
    let (t, b1) = upload(&t, 3, "b", ScanVerdict::NotScanned);
    let t = approve(&t, &b1);
    assert_eq!(t.status, TaskStatus::Completed);
    assert_eq!(
        crate::workflow::actions::derived_status(&t),
        TaskStatus::Completed
    );
}

#[test]
fn an_upload_supersedes_only_a_version_awaiting_review() {
    let (t, a1) = upload(&task(), 1, "a", ScanVerdict::Clean);
    let c = record_upload(
        &t,
        &up(2, "a", ScanVerdict::Clean),
        &client(),
        tenant(),
        at(2),
    )
    .unwrap();
    assert_eq!(c.superseded, Some(a1.id));
    let rejected = review(
        &t,
        &a1,
        &Verdict::Reject { notes: "No".into() },
        &staff(),
        UnscannablePolicy::Block,
        at(3),
    )
    .unwrap();
    let c = record_upload(
        &rejected.task.task,
        &up(2, "a", ScanVerdict::Clean),
        &client(),
        tenant(),
        at(4),
    )
    .unwrap();
    assert_eq!(c.superseded, None, "a rejected version stays rejected");
}

#[test]
fn infected_uploads_reject_the_document_with_the_scan_explanation() {
    let (t, f) = upload(
        &task(),
        1,
        "a",
        ScanVerdict::Infected {
            signature: "Eicar".into(),
        },
    );
    assert_eq!(f.review, FileReview::Quarantined);
    let state = &t.evidence.documents["a"];
    assert_eq!(state.status, DocumentStatus::Rejected);
    assert!(state.notes.as_deref().unwrap().contains("Eicar"));
    assert!(
        !f.admitted(UnscannablePolicy::Allow),
        "never admitted, whatever the policy"
    );
}

#[test]
fn rescan_quarantines_a_held_file_or_just_records_the_verdict() {
    let held = ScanVerdict::Unscannable {
        reason: "down".into(),
    };
    let (t, f) = upload(&task(), 1, "a", held);
    assert!(!f.admitted(UnscannablePolicy::Block));
    let clean = rescan(&t, &f, &ScanVerdict::Clean, &staff(), at(5)).unwrap();
    assert_eq!(
        (clean.file.scan.clone(), clean.file.review.clone()),
        (ScanVerdict::Clean, FileReview::Pending)
    );
    assert_eq!(
        clean.task.task.evidence.documents["a"].status,
        DocumentStatus::Uploaded
    );
    let bad = rescan(
        &t,
        &f,
        &ScanVerdict::Infected {
            signature: "X".into(),
        },
        &staff(),
        at(5),
    )
    .unwrap();
    assert_eq!(bad.file.review, FileReview::Quarantined);
    assert_eq!(
        bad.task.task.evidence.documents["a"].status,
        DocumentStatus::Rejected
    );
    assert_eq!(bad.task.activity.kind, ActivityKind::DocumentQuarantined);
}

#[test]
fn blocked_or_completed_tasks_and_msp_tasks_refuse_client_uploads() {
    let mut blocked = task();
    blocked.status = TaskStatus::Blocked;
    blocked.blocked_reason = Some("waiting".into());
    assert!(matches!(
        may_upload(&blocked, "a"),
        Err(Error::Conflict { .. })
    ));
    let mut msp = task();
    msp.assignee = Side::Msp;
    assert!(matches!(
        may_upload(&msp, "a"),
        Err(Error::Forbidden { .. })
    ));
    assert!(matches!(
        may_upload(&task(), "zzz"),
        Err(Error::Invalid {
            field: "document",
            ..
        })
    ));
    let mut standard = task();
    standard.kind = TaskKind::Standard;
    assert!(matches!(
        may_upload(&standard, "a"),
        Err(Error::Conflict { .. })
    ));
    // A review of a blocked task waits for the unblock.
    let (mut t, f) = upload(&task(), 1, "a", ScanVerdict::Clean);
    t.status = TaskStatus::Blocked;
    assert!(matches!(
        review(
            &t,
            &f,
            &Verdict::Approve { notes: None },
            &staff(),
            UnscannablePolicy::Block,
            at(2)
        ),
        Err(Error::Conflict { .. })
    ));
}

#[test]
fn document_rows_list_every_request_in_plan_order_with_versions() {
    let (t, a1) = upload(&task(), 1, "a", ScanVerdict::Clean);
    let (t, a2) = upload(&t, 2, "a", ScanVerdict::Clean);
    let rows = document_rows(std::slice::from_ref(&t), &[a2.clone(), a1.clone()]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].requested.name, "Network diagram");
    assert_eq!(
        rows[0]
            .versions
            .iter()
            .map(|f| f.version)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(rows[0].current.as_ref().map(|f| f.id), Some(a2.id));
    assert_eq!(
        (rows[1].status, rows[1].current.is_none()),
        (DocumentStatus::Requested, true)
    );
}
