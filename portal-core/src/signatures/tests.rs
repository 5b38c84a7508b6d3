use std::io::Write;

use super::*;
use crate::ids::ContactId;
use crate::model::EmailAddress;

/// A PNG written here (not by the code under test): 8-bit, filter 0 rows, the given
/// colour type, each pixel from `px(x, y)`.
pub(crate) fn png(
    width: u32,
    height: u32,
    colour: u8,
    px: impl Fn(u32, u32) -> Vec<u8>,
) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0);
        for x in 0..width {
            raw.extend(px(x, y));
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let idat = z.finish().unwrap();
    let mut out = PNG_MAGIC.to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        out.extend([0, 0, 0, 0]);
    };
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, colour, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &idat);
    chunk(b"IEND", &[]);
    out
}

/// A 60×20 transparent pad with a dark diagonal stroke.
pub(crate) fn drawn() -> Vec<u8> {
    png(60, 20, 6, |x, y| {
        if x / 3 == y {
            vec![20, 20, 40, 255]
        } else {
            vec![0, 0, 0, 0]
        }
    })
}

fn invalid_field(r: Result<impl std::fmt::Debug>) -> &'static str {
    match r {
        Err(Error::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn a_drawn_signature_passes() {
    assert_eq!(
        check_png(&drawn()).unwrap(),
        PngInfo {
            width: 60,
            height: 20
        }
    );
    // Opaque white with black ink, RGB and grey.
    let rgb = png(40, 10, 2, |x, y| {
        if x == y * 2 {
            vec![0, 0, 0]
        } else {
            vec![255, 255, 255]
        }
    });
    assert!(check_png(&rgb).is_ok());
}

#[test]
fn blank_and_transparent_pads_are_refused() {
    let transparent = png(60, 20, 6, |_, _| vec![0, 0, 0, 0]);
    assert!(
        matches!(check_png(&transparent), Err(Error::Invalid { field: "signature", reason }) if reason.contains("empty"))
    );
    // Invisible "ink": colour under zero alpha is still transparent.
    let ghost = png(60, 20, 6, |x, _| vec![x as u8, 9, 9, 0]);
    assert_eq!(invalid_field(check_png(&ghost)), "signature");
    let white = png(60, 20, 2, |_, _| vec![255, 255, 255]);
    assert_eq!(invalid_field(check_png(&white)), "signature");
    // A stray click: fewer than MIN_INK pixels.
    let dot = png(60, 20, 6, |x, y| {
        if x < 2 && y < 2 {
            vec![0, 0, 0, 255]
        } else {
            vec![0, 0, 0, 0]
        }
    });
    assert_eq!(invalid_field(check_png(&dot)), "signature");
}

#[test]
fn non_png_oversized_and_odd_images_are_refused() {
    assert_eq!(invalid_field(check_png(b"")), "signature");
    assert_eq!(
        invalid_field(check_png(b"GIF89a........................")),
        "signature"
    );
    let mut big = drawn();
    big.resize(MAX_IMAGE + 1, 0);
    assert!(
        matches!(check_png(&big), Err(Error::Invalid { reason, .. }) if reason.contains("too large"))
    );
    let huge = png(MAX_WIDTH + 1, 1, 0, |x, _| vec![x as u8]);
    assert!(
        matches!(check_png(&huge), Err(Error::Invalid { reason, .. }) if reason.contains("pixels"))
    );
    // 16-bit, palette and a truncated file.
    let mut sixteen = drawn();
    sixteen[24] = 16;
    assert_eq!(invalid_field(check_png(&sixteen)), "signature");
    let mut palette = drawn();
    palette[25] = 3;
    assert_eq!(invalid_field(check_png(&palette)), "signature");
    let whole = drawn();
    assert_eq!(
        invalid_field(check_png(&whole[..whole.len() - 20])),
        "signature"
    );
    // A header that claims more pixels than the data holds.
    let mut taller = drawn();
    taller[23] = 40;
    assert_eq!(invalid_field(check_png(&taller)), "signature");
}

#[test]
fn every_png_filter_is_undone() {
    // Filter types 1–4 on a row whose first byte is the filter: unfilter must give
    // back the same pixels as filter 0 would.
    let rows: Vec<Vec<u8>> = (0..4u8)
        .map(|y| (0..8u8).map(|x| x * 3 + y * 7).collect())
        .collect();
    for filter in 1..=4u8 {
        let mut raw = Vec::new();
        for (y, row) in rows.iter().enumerate() {
            raw.push(filter);
            for x in 0..row.len() {
                let a = if x >= 1 { row[x - 1] } else { 0 };
                let b = if y > 0 { rows[y - 1][x] } else { 0 };
                let c = if y > 0 && x >= 1 {
                    rows[y - 1][x - 1]
                } else {
                    0
                };
                let pred = match filter {
                    1 => a,
                    2 => b,
                    3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                    _ => {
                        let p = i16::from(a) + i16::from(b) - i16::from(c);
                        let (pa, pb, pc) = (
                            (p - i16::from(a)).abs(),
                            (p - i16::from(b)).abs(),
                            (p - i16::from(c)).abs(),
                        );
                        if pa <= pb && pa <= pc {
                            a
                        } else if pb <= pc {
                            b
                        } else {
                            c
                        }
                    }
                };
                raw.push(row[x].wrapping_sub(pred));
            }
        }
        let got = unfilter(&raw, 4, 8, 1).unwrap();
        assert_eq!(got, rows.concat(), "filter {filter}");
    }
}

#[test]
fn data_urls_decode_only_png() {
    use base64::Engine as _;
    let bytes = drawn();
    let url = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    assert_eq!(decode_data_url(&url).unwrap(), bytes);
    assert_eq!(
        invalid_field(decode_data_url("data:image/svg+xml;base64,PHN2Zz4=")),
        "signature"
    );
    assert_eq!(
        invalid_field(decode_data_url("data:image/png;base64,!!!")),
        "signature"
    );
    let long = format!("data:image/png;base64,{}", "A".repeat(MAX_IMAGE * 2));
    assert_eq!(invalid_field(decode_data_url(&long)), "signature");
}

#[test]
fn typed_names_and_consent_wording_are_checked() {
    assert_eq!(check_typed_name("  Dana Client ").unwrap(), "Dana Client");
    assert_eq!(invalid_field(check_typed_name("   ")), "typed_name");
    assert_eq!(invalid_field(check_typed_name("Dana\u{0}")), "typed_name");
    assert_eq!(
        invalid_field(check_typed_name(&"x".repeat(MAX_TYPED_NAME + 1))),
        "typed_name"
    );
    assert!(check_consent_wording("I agree.\nReally.").is_ok());
    assert_eq!(invalid_field(check_consent_wording(" ")), "consent");
    assert_eq!(invalid_field(check_consent_wording("a\u{7}b")), "consent");
    assert_eq!(
        invalid_field(check_consent_wording(&"x".repeat(MAX_CONSENT + 1))),
        "consent"
    );
}

pub(crate) fn record(
    mark: SignatureMark,
    mark_sha256: [u8; 32],
    doc: Option<&[u8]>,
) -> SignatureRecord {
    NewSignature {
        tenant_id: TenantId::from_bytes([1; 16]),
        portal_id: PortalId::from_bytes([2; 16]),
        task_id: TaskId::from_bytes([3; 16]),
        signer: Actor::Client {
            contact_id: ContactId::from_bytes([4; 16]),
            name: "Dana Client".into(),
            email: EmailAddress::parse("dana@example.com").unwrap(),
        },
        context: SigningContext {
            ip: Some("203.0.113.9".into()),
            user_agent: Some("Mozilla/5.0 (test)".into()),
            time_zone: "Europe/Berlin".into(),
        },
        at: DateTime::parse_from_rfc3339("2026-03-02T10:11:12.123456789Z")
            .unwrap()
            .with_timezone(&Utc),
        document: doc.map(|d| SignedDocument {
            name: "MSA.pdf".into(),
            size: d.len() as u64,
            sha256: sha256(d),
        }),
        mark,
        mark_sha256,
        consent_text: DEFAULT_CONSENT.into(),
    }
    .into_record()
}

fn image_mark() -> SignatureMark {
    SignatureMark::Drawn(StoredImage {
        blob: BlobId::from_bytes([5; 16]),
        key: WrappedKey {
            key_id: crate::blob::keyring::KeyId::parse("k1").unwrap(),
            bytes: vec![1; 40],
        },
        size: 10,
    })
}

fn hex_of(r: &SignatureRecord) -> String {
    hash_hex(&r.record_sha256)
}

#[test]
fn the_canonical_layout_is_fixed() {
    let r = record(
        SignatureMark::Typed("Dana Client".into()),
        sha256(b"Dana Client"),
        None,
    );
    let bytes = canonical_bytes(&r);
    assert_eq!(&bytes[..4], &(FORMAT.len() as u32).to_be_bytes());
    assert_eq!(&bytes[4..4 + FORMAT.len()], FORMAT.as_bytes());
    let text = String::from_utf8_lossy(&bytes);
    for part in [
        "01010101-0101-0101-0101-010101010101",
        "Dana Client",
        "dana@example.com",
        "203.0.113.9",
        "2026-03-02T10:11:12.123456Z",
        "Europe/Berlin",
        "typed",
    ] {
        assert!(text.contains(part), "{part} is in the canonical bytes");
    }
    assert_eq!(
        r.signed_at.timestamp_subsec_nanos(),
        123_456_000,
        "whole microseconds"
    );
    assert_eq!(r.record_sha256, sha256(&bytes));
    // Known answer: the layout is a stored format (docs/signatures.md); changing it
    // breaks every certificate already filed.
    assert_eq!(
        hex_of(&r),
        "a6bb6507cce3edf432d178385c78c24ef6d47dc6bbfb2a9738232ff395c5d36f",
        "the same as an independent computation (docs/signatures.md)"
    );
}

#[test]
fn verify_catches_one_flipped_byte_in_each_part() {
    let doc = b"%PDF-1.7 the master services agreement".to_vec();
    let image = drawn();
    let r = record(image_mark(), sha256(&image), Some(&doc));
    let audit = hash_hex(&r.record_sha256);
    let ok = verify(&r, Some(&doc), Some(&image), Some(&audit));
    assert!(ok.intact(), "{ok:?}");
    assert_eq!(ok.parts.len(), 5);

    let mut bad_doc = doc.clone();
    bad_doc[3] ^= 1;
    assert_eq!(
        verify(&r, Some(&bad_doc), Some(&image), Some(&audit)).failures(),
        [SignaturePart::Document]
    );
    let mut bad_image = image.clone();
    let last = bad_image.len() - 1;
    bad_image[last] ^= 1;
    assert_eq!(
        verify(&r, Some(&doc), Some(&bad_image), Some(&audit)).failures(),
        [SignaturePart::Mark]
    );
    let mut bad_consent = r.clone();
    bad_consent.consent_text.replace_range(0..1, "J");
    assert_eq!(
        verify(&bad_consent, Some(&doc), Some(&image), Some(&audit)).failures(),
        [SignaturePart::Consent]
    );
    let mut bad_ip = r.clone();
    bad_ip.ip = Some("203.0.113.8".into());
    assert_eq!(
        verify(&bad_ip, Some(&doc), Some(&image), Some(&audit)).failures(),
        [SignaturePart::Record]
    );
    let mut bad_hash = r.clone();
    bad_hash.record_sha256[0] ^= 1;
    assert_eq!(
        verify(&bad_hash, Some(&doc), Some(&image), Some(&audit)).failures(),
        [SignaturePart::Record, SignaturePart::AuditEvent]
    );
    let mut other_event = audit.clone();
    other_event.replace_range(0..1, if audit.starts_with('0') { "1" } else { "0" });
    assert_eq!(
        verify(&r, Some(&doc), Some(&image), Some(&other_event)).failures(),
        [SignaturePart::AuditEvent]
    );
    let gone = verify(&r, None, None, None);
    assert_eq!(
        gone.failures(),
        [
            SignaturePart::Document,
            SignaturePart::Mark,
            SignaturePart::AuditEvent
        ]
    );
    assert!(
        gone.parts
            .contains(&(SignaturePart::Document, PartStatus::Missing))
    );

    // Typed: the name itself is the mark.
    let t = record(
        SignatureMark::Typed("Dana Client".into()),
        sha256(b"Dana Client"),
        None,
    );
    let audit = hash_hex(&t.record_sha256);
    assert!(verify(&t, None, None, Some(&audit)).intact());
    let mut renamed = t.clone();
    renamed.mark = SignatureMark::Typed("Dana Clienu".into());
    assert_eq!(
        verify(&renamed, None, None, Some(&audit)).failures(),
        [SignaturePart::Mark]
    );
}

#[test]
fn the_image_debug_shows_no_key_bytes() {
    let shown = format!("{:?}", image_mark());
    assert!(shown.contains("key_id"));
    assert!(!shown.contains("[1, 1, 1"));
}

#[test]
fn the_default_consent_reads_in_the_signers_language_and_own_wording_stays() {
    use crate::i18n::Language;
    let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let mut task = Task {
        for_role: None,
        id: TaskId::from_uuid(uuid::Uuid::from_u128(3)),
        portal_id: PortalId::from_uuid(uuid::Uuid::from_u128(2)),
        phase_id: crate::ids::PhaseId::from_uuid(uuid::Uuid::from_u128(4)),
        position: 0,
        title: "Sign the MSA".into(),
        description: String::new(),
        assignee: Side::Client,
        kind: TaskKind::Signature {
            document: None,
            consent: None,
        },
        status: crate::model::TaskStatus::Pending,
        blocked_reason: None,
        due_date: None,
        evidence: Default::default(),
        created_at: at,
        updated_at: at,
        version: 1,
        assigned_to: Vec::new(),
        waits_on: Vec::new(),
        internal: false,
    };
    assert_eq!(consent_text(&task, Language::En), DEFAULT_CONSENT);
    let es = consent_text(&task, Language::Es);
    assert_ne!(es, DEFAULT_CONSENT);
    assert!(es.starts_with("Acepto"), "{es}");
    task.kind = TaskKind::Signature {
        document: None,
        consent: Some("I sign the MSA v3 electronically.".into()),
    };
    for language in Language::ALL {
        assert_eq!(
            consent_text(&task, language),
            "I sign the MSA v3 electronically."
        );
    }
}
