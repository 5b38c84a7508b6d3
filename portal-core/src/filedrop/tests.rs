use chrono::TimeZone;
use uuid::Uuid;

use super::*;
use crate::blob::keyring::KeyId;
use crate::ids::{ContactId, PhaseId};
use crate::model::TaskStatus;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 9, 30, 0).unwrap()
}

fn task(days: u32) -> Task {
    Task {
        for_role: None,
        id: TaskId::from_uuid(Uuid::from_u128(3)),
        portal_id: PortalId::from_uuid(Uuid::from_u128(2)),
        phase_id: PhaseId::from_uuid(Uuid::from_u128(4)),
        position: 0,
        title: "Send us your network diagrams".into(),
        description: String::new(),
        assignee: Side::Client,
        kind: TaskKind::SecureFileDrop {
            expires_after_days: days,
        },
        status: TaskStatus::Pending,
        blocked_reason: None,
        due_date: None,
        evidence: Default::default(),
        created_at: t0(),
        updated_at: t0(),
        version: 1,
        assigned_to: Vec::new(),
        waits_on: Vec::new(),
        internal: false,
    }
}

fn client() -> Actor {
    Actor::Client {
        contact_id: ContactId::from_uuid(Uuid::from_u128(5)),
        name: "Dana Whitfield".into(),
        email: crate::model::EmailAddress::parse("dana@example.com").unwrap(),
    }
}

fn staff() -> Actor {
    Actor::Staff {
        name: "Sam Tech".into(),
        email: None,
    }
}

fn new_drop() -> NewDrop {
    NewDrop {
        id: FileId::from_uuid(Uuid::from_u128(6)),
        name: "diagram.pdf".into(),
        size: 1234,
        sha256: [7; 32],
        blob: BlobId::from_uuid(Uuid::from_u128(8)),
        key: WrappedKey {
            key_id: KeyId::parse("k1").unwrap(),
            bytes: vec![1, 2, 3],
        },
    }
}

fn tenant() -> TenantId {
    TenantId::from_uuid(Uuid::from_u128(1))
}

fn dropped(days: u32) -> (Task, DroppedFile) {
    let t = task(days);
    let change = record_drop(&t, &new_drop(), &client(), tenant(), t0()).unwrap();
    (t, change.file)
}

#[test]
fn a_drop_expires_exactly_its_days_later_and_is_audited() {
    let t = task(7);
    let change = record_drop(&t, &new_drop(), &client(), tenant(), t0()).unwrap();
    assert_eq!(change.file.expires_at, t0() + TimeDelta::days(7));
    assert_eq!(change.audit.kind, "file_dropped");
    assert_eq!(change.audit.field("size"), Some("1234"));
    assert_eq!(change.activity.kind, ActivityKind::FileDropped);
    assert_eq!(change.activity.detail.as_deref(), Some("diagram.pdf"));
    assert!(change.file.ensure_belongs(&t, tenant()).is_ok());
    assert!(change.ensure_portal(tenant()).is_ok());
}

#[test]
fn available_until_the_second_before_expiry_gone_at_it() {
    let (_, f) = dropped(7);
    let at = f.expires_at;
    assert!(f.available(at - TimeDelta::seconds(1)));
    assert_eq!(
        f.time_left(at - TimeDelta::seconds(1)),
        Some(TimeDelta::seconds(1))
    );
    assert!(!f.available(at));
    assert_eq!(f.time_left(at), None);
    assert!(!f.needs_sweep(at - TimeDelta::seconds(1)));
    assert!(f.needs_sweep(at));
}

#[test]
fn only_the_client_drops_on_a_file_drop_task_they_may_act_on() {
    let t = task(7);
    assert!(matches!(
        record_drop(&t, &new_drop(), &staff(), tenant(), t0()),
        Err(Error::Forbidden { .. })
    ));
    let mut other = t.clone();
    other.kind = TaskKind::Standard;
    assert!(matches!(
        record_drop(&other, &new_drop(), &client(), tenant(), t0()),
        Err(Error::Conflict { .. })
    ));
    let mut done = t.clone();
    done.status = TaskStatus::Completed;
    assert!(record_drop(&done, &new_drop(), &client(), tenant(), t0()).is_err());
    let empty = NewDrop {
        size: 0,
        ..new_drop()
    };
    assert!(matches!(
        record_drop(&t, &empty, &client(), tenant(), t0()),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn the_client_deletes_until_the_msp_downloaded() {
    let (t, f) = dropped(7);
    let now = t0() + TimeDelta::hours(1);
    let deleted = delete(&t, &f, &client(), now).unwrap();
    assert_eq!(deleted.file.deleted.as_ref().unwrap().at, now);
    assert_eq!(deleted.audit.kind, "file_deleted");
    assert!(f.ensure_same_file(&deleted.file).is_ok());
    // Deleted: not available, to anyone, the same way as a missing file.
    assert!(matches!(
        delete(&t, &deleted.file, &client(), now),
        Err(Error::NotFound {
            entity: Entity::File
        })
    ));
    assert!(matches!(
        download(&t, &deleted.file, &staff(), now),
        Err(Error::NotFound {
            entity: Entity::File
        })
    ));
    // Downloaded first: the delete is refused with a clear message.
    let got = download(&t, &f, &staff(), now).unwrap();
    assert_eq!(got.audit.kind, "file_downloaded");
    assert_eq!(got.file.downloaded.as_ref().unwrap().at, now);
    let refused = delete(&t, &got.file, &client(), now).unwrap_err();
    assert!(
        refused.to_string().contains("already downloaded"),
        "{refused}"
    );
    // A second download keeps the first mark and is audited again.
    let again = download(&t, &got.file, &staff(), now + TimeDelta::hours(1)).unwrap();
    assert_eq!(again.file.downloaded, got.file.downloaded);
    assert_eq!(again.audit.kind, "file_downloaded");
    // Sides: staff do not delete, clients do not download.
    assert!(matches!(
        delete(&t, &f, &staff(), now),
        Err(Error::Forbidden { .. })
    ));
    assert!(matches!(
        download(&t, &f, &client(), now),
        Err(Error::Forbidden { .. })
    ));
}

#[test]
fn expired_files_are_not_available_to_the_second() {
    let (t, f) = dropped(1);
    let at = f.expires_at;
    assert!(download(&t, &f, &staff(), at - TimeDelta::seconds(1)).is_ok());
    assert!(matches!(
        download(&t, &f, &staff(), at),
        Err(Error::NotFound {
            entity: Entity::File
        })
    ));
    assert!(matches!(
        delete(&t, &f, &client(), at),
        Err(Error::NotFound {
            entity: Entity::File
        })
    ));
    // The sweeper marks it at expiry, not a second before, and only once.
    assert!(matches!(
        expire(&t, &f, at - TimeDelta::seconds(1)),
        Err(Error::Conflict { .. })
    ));
    let expired = expire(&t, &f, at).unwrap();
    assert_eq!(expired.file.expired_at, Some(at));
    assert_eq!(expired.audit.kind, "file_expired");
    assert_eq!(expired.activity.kind, ActivityKind::FileExpired);
    assert!(expired.file.needs_sweep(at));
    assert!(expire(&t, &expired.file, at).is_err());
    let deleted = delete(&t, &f, &client(), at - TimeDelta::seconds(1))
        .unwrap()
        .file;
    assert!(expire(&t, &deleted, at).is_err());
    let mut removed = expired.file.clone();
    removed.bytes_removed = true;
    assert!(!removed.needs_sweep(at));
}

#[test]
fn a_change_may_only_touch_the_marks() {
    let (_, f) = dropped(7);
    let mut renamed = f.clone();
    renamed.name = "other.pdf".into();
    assert!(f.ensure_same_file(&renamed).is_err());
    let mut removed = f.clone();
    removed.bytes_removed = true;
    assert!(f.ensure_same_file(&removed).is_err());
    let mut later = f.clone();
    later.expires_at += TimeDelta::days(1);
    assert!(f.ensure_same_file(&later).is_err());
}

#[test]
fn debug_shows_no_key() {
    let (_, f) = dropped(7);
    let shown = format!("{f:?}");
    assert!(!shown.contains("bytes: [1, 2, 3]"));
    assert!(shown.contains("diagram.pdf"));
}
