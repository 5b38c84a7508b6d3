use chrono::TimeZone;
use uuid::Uuid;

use super::*;
use crate::ids::ContactId;
use crate::model::EmailAddress;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn entry(n: u32) -> AuditEntry {
    AuditEntry::new(
        TenantId::from_uuid(id(1)),
        PortalId::from_uuid(id(2)),
        Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, n).unwrap(),
        Actor::Client {
            contact_id: ContactId::from_uuid(id(3)),
            name: "Dana Ruiz".into(),
            email: EmailAddress::parse("dana@example.com").unwrap(),
        },
        &AuditEvent::DocumentUploaded {
            task: TaskId::from_uuid(id(4)),
            file: FileId::from_uuid(id(5)),
            document: "w9".into(),
            version: n,
            name: "w9.pdf".into(),
            size: 1234,
            sha256: [0xab; 32],
        },
    )
}

fn chain(n: u32) -> Vec<ChainedEvent> {
    let mut out: Vec<ChainedEvent> = Vec::new();
    for i in 1..=n {
        let next = seal(out.last().map(ChainedEvent::head), &entry(i));
        out.push(next);
    }
    out
}

/// The byte layout is a published format (docs/audit.md): pinned item by item.
#[test]
fn canonical_bytes_follow_the_documented_layout() {
    let e = entry(1);
    let bytes = canonical_bytes(7, &e);
    let mut expected = Vec::new();
    let items: [&str; 10] = [
        "portal-audit-v1",
        "7",
        "00000000-0000-0000-0000-000000000001",
        "00000000-0000-0000-0000-000000000002",
        "2026-11-28T10:00:01.000000Z",
        "client",
        "00000000-0000-0000-0000-000000000003",
        "Dana Ruiz",
        "dana@example.com",
        "document_uploaded",
    ];
    for i in items {
        expected.extend_from_slice(&u32::try_from(i.len()).unwrap().to_be_bytes());
        expected.extend_from_slice(i.as_bytes());
    }
    expected.extend_from_slice(&7u32.to_be_bytes());
    for (n, v) in [
        ("task", "00000000-0000-0000-0000-000000000004"),
        ("file", "00000000-0000-0000-0000-000000000005"),
        ("document", "w9"),
        ("version", "1"),
        ("name", "w9.pdf"),
        ("size", "1234"),
        ("sha256", &"ab".repeat(32)),
    ] {
        for part in [n, v] {
            expected.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
            expected.extend_from_slice(part.as_bytes());
        }
    }
    assert_eq!(bytes, expected);
    let mut h = Sha256::new();
    h.update(GENESIS);
    h.update(&expected);
    let want: [u8; 32] = h.finalize().into();
    assert_eq!(event_hash(&GENESIS, 7, &e), want);
}

/// Field boundaries are part of the hash: moving a character from one field to the
/// next changes it (no ambiguity of plain concatenation).
#[test]
fn moving_bytes_between_fields_changes_the_hash() {
    let a = entry(1);
    let mut b = a.clone();
    b.fields[2].1 = "w".into();
    b.fields[4].1 = "9w9.pdf".into();
    assert_ne!(event_hash(&GENESIS, 1, &a), event_hash(&GENESIS, 1, &b));
}

#[test]
fn seal_numbers_and_links() {
    let c = chain(3);
    assert_eq!(c.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(c[0].prev_hash, GENESIS);
    assert_eq!(c[1].prev_hash, c[0].hash);
    assert_eq!(c[2].prev_hash, c[1].hash);
    let report = verify_chain(&c);
    assert!(report.intact());
    assert_eq!(report.events, 3);
    assert_eq!(report.head, Some(c[2].head()));
    assert!(verify_chain(&[]).intact());
}

#[test]
fn times_are_kept_to_the_microsecond() {
    let at = Utc.timestamp_opt(1_800_000_000, 123_456_789).unwrap();
    let e = AuditEntry::new(
        TenantId::from_uuid(id(1)),
        PortalId::from_uuid(id(2)),
        at,
        Actor::Staff {
            name: "Sam".into(),
            email: None,
        },
        &AuditEvent::CredentialsPurged {
            task: TaskId::from_uuid(id(4)),
        },
    );
    assert_eq!(e.at.timestamp_subsec_nanos(), 123_456_000);
    assert!(canonical_time(e.at).ends_with(".123456Z"));
}

#[test]
fn verification_names_the_first_bad_event() {
    let good = chain(5);

    let mut edited = good.clone();
    edited[2].entry.fields[4].1 = "other.pdf".into();
    let f = verify_chain(&edited).fault.unwrap();
    assert_eq!((f.position, f.seq, f.problem), (2, 3, ChainProblem::Hash));

    let mut deleted = good.clone();
    deleted.remove(1);
    let f = verify_chain(&deleted).fault.unwrap();
    assert_eq!(
        (f.position, f.seq, f.problem),
        (1, 3, ChainProblem::Sequence { expected: 2 })
    );

    let mut reordered = good.clone();
    reordered.swap(1, 3);
    let f = verify_chain(&reordered).fault.unwrap();
    assert_eq!(f.position, 1);

    // Renumbered after a deletion: the link gives it away.
    let mut renumbered = deleted.clone();
    for (i, e) in renumbered.iter_mut().enumerate() {
        e.seq = u64::try_from(i).unwrap() + 1;
    }
    let f = verify_chain(&renumbered).fault.unwrap();
    assert_eq!((f.position, f.problem), (1, ChainProblem::Link));

    // Rehashed after an edit, but the next link still names the old hash.
    let mut rehashed = good.clone();
    rehashed[2].entry.fields[4].1 = "other.pdf".into();
    rehashed[2].hash = event_hash(&rehashed[2].prev_hash, 3, &rehashed[2].entry);
    let f = verify_chain(&rehashed).fault.unwrap();
    assert_eq!((f.position, f.problem), (3, ChainProblem::Link));
}

#[test]
fn export_is_one_json_object_per_event() {
    let c = chain(2);
    let text = export_jsonl(&c).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["seq"], 1);
    assert_eq!(first["kind"], "document_uploaded");
    assert_eq!(first["actor"]["side"], "client");
    assert_eq!(first["fields"][0][0], "task");
    assert_eq!(first["prev_hash"], "0".repeat(64));
    assert_eq!(first["hash"], hash_hex(&c[0].hash));
    let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second["prev_hash"], first["hash"]);
}

#[test]
fn every_kind_has_a_distinct_stored_name() {
    let t = TaskId::from_uuid(id(4));
    let f = FileId::from_uuid(id(5));
    let all = [
        AuditEvent::DocumentUploaded {
            task: t,
            file: f,
            document: String::new(),
            version: 1,
            name: String::new(),
            size: 0,
            sha256: [0; 32],
        },
        AuditEvent::DocumentReviewed {
            task: t,
            file: f,
            approved: true,
            notes: None,
        },
        AuditEvent::CredentialsSubmitted {
            task: t,
            fields: vec![],
        },
        AuditEvent::CredentialsRevealed {
            task: t,
            reason: String::new(),
            fields: vec![],
        },
        AuditEvent::CredentialsPurged { task: t },
        AuditEvent::SignatureSubmitted {
            task: t,
            record_sha256: [0; 32],
        },
        AuditEvent::FileDropped {
            task: t,
            file: f,
            size: 0,
            sha256: [0; 32],
        },
        AuditEvent::FileDownloaded { task: t, file: f },
        AuditEvent::FileDeleted { task: t, file: f },
        AuditEvent::FileExpired { task: t, file: f },
    ];
    let names: std::collections::HashSet<_> = all.iter().map(AuditEvent::kind).collect();
    assert_eq!(names.len(), all.len());
    for e in &all {
        assert_eq!(e.fields()[0], ("task".to_owned(), t.to_string()));
    }
}
