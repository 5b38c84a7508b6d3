use std::net::IpAddr;

use chrono::TimeZone;
use uuid::Uuid;

use super::*;
use crate::random::SeededRandom;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The reference vector of the Standard Webhooks libraries: this secret, id,
/// timestamp and body sign to exactly this.
#[test]
fn signs_the_specification_vector() {
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let sig = sign(
        &secret,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        br#"{"test": 2432232314}"#,
    );
    assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    // Another body, id or time signs differently.
    assert_ne!(
        sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_331,
            br#"{"test": 2432232314}"#
        ),
        sig
    );
}

#[test]
fn a_rotation_sends_one_signature_per_secret() {
    let a = WebhookSecret::generate(&SeededRandom::new(1));
    let b = WebhookSecret::generate(&SeededRandom::new(2));
    let header = signature_header(&[a.clone(), b.clone()], "msg_1", 5, b"{}");
    let parts: Vec<&str> = header.split(' ').collect();
    assert_eq!(
        parts,
        [sign(&a, "msg_1", 5, b"{}"), sign(&b, "msg_1", 5, b"{}")]
    );
}

#[test]
fn secrets_parse_print_and_hide() {
    let s = WebhookSecret::generate(&SeededRandom::new(3));
    let text = s.expose_secret();
    assert!(text.starts_with("whsec_"));
    assert_eq!(WebhookSecret::parse(&text).unwrap(), s);
    assert_eq!(format!("{s:?}"), "WebhookSecret([redacted])");
    for bad in ["", "whsec_", "sk_abc", "whsec_!!!!", "whsec_AAAA"] {
        assert!(WebhookSecret::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn sealed_secrets_open_only_for_their_endpoint() {
    let rng = SeededRandom::new(4);
    let server = ServerSecret::generate(&rng);
    let (e1, e2) = (EndpointId::random(&rng), EndpointId::random(&rng));
    let secret = WebhookSecret::generate(&rng);
    let sealed = seal_secret(&server, &rng, e1, &secret).unwrap();
    assert!(
        !sealed.windows(SECRET_BYTES).any(|w| w == secret.key()),
        "stored in clear"
    );
    assert_eq!(open_secret(&server, e1, &sealed).unwrap(), secret);
    assert!(matches!(
        open_secret(&server, e2, &sealed),
        Err(Error::Integrity { .. })
    ));
    let other = ServerSecret::generate(&rng);
    assert!(open_secret(&other, e1, &sealed).is_err());
    let mut altered = sealed.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    assert!(open_secret(&server, e1, &altered).is_err());
}

#[test]
fn addresses_are_classified() {
    use AddressClass as C;
    for (a, class) in [
        ("8.8.8.8", C::Public),
        ("2606:4700:4700::1111", C::Public),
        ("127.0.0.1", C::Loopback),
        ("127.9.9.9", C::Loopback),
        ("::1", C::Loopback),
        ("10.1.2.3", C::Private),
        ("172.16.0.1", C::Private),
        ("172.31.255.255", C::Private),
        ("192.168.1.1", C::Private),
        ("100.64.0.1", C::Private),
        ("169.254.1.1", C::LinkLocal),
        ("fe80::1", C::LinkLocal),
        ("fc00::1", C::UniqueLocal),
        ("fd12:3456::1", C::UniqueLocal),
        ("224.0.0.1", C::Multicast),
        ("255.255.255.255", C::Multicast),
        ("ff02::1", C::Multicast),
        ("169.254.169.254", C::Metadata),
        ("100.100.100.200", C::Metadata),
        ("fd00:ec2::254", C::Metadata),
        ("0.0.0.0", C::Reserved),
        ("::", C::Reserved),
        ("192.0.2.1", C::Reserved),
        ("2001:db8::1", C::Reserved),
        ("240.0.0.1", C::Reserved),
        // IPv4 inside IPv6 is judged as the IPv4 address.
        ("::ffff:127.0.0.1", C::Loopback),
        ("::ffff:169.254.169.254", C::Metadata),
        ("64:ff9b::a00:1", C::Private),
        ("172.32.0.1", C::Public),
    ] {
        assert_eq!(AddressClass::of(ip(a)), class, "{a}");
    }
    assert!(C::Public.allowed(false));
    assert!(!C::Loopback.allowed(false));
    assert!(C::Loopback.allowed(true));
    assert!(!C::Metadata.allowed(true), "metadata is never a receiver");
    assert!(!C::Reserved.allowed(true));
}

#[test]
fn urls_are_checked() {
    assert_eq!(
        check_url(" https://psa.example.com/hooks ", false).unwrap(),
        "https://psa.example.com/hooks"
    );
    for bad in [
        "",
        "psa.example.com",
        "http://psa.example.com",
        "ftp://psa.example.com",
        "https://user:pw@psa.example.com",
        "https://psa.example.com/#x",
    ] {
        assert!(check_url(bad, false).is_err(), "{bad}");
    }
    assert!(check_url("http://127.0.0.1:9/x", true).is_ok());
    assert!(
        check_url(
            &format!("https://a.example/{}", "x".repeat(MAX_URL_LEN)),
            false
        )
        .is_err()
    );
}

#[test]
fn backoff_follows_the_schedule_with_jitter() {
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let rng = SeededRandom::new(7);
    assert_eq!(next_attempt(0, now, &rng), None);
    for (i, base) in RETRY_SCHEDULE.iter().enumerate() {
        let attempts = u32::try_from(i + 1).unwrap();
        for _ in 0..20 {
            let at = next_attempt(attempts, now, &rng).unwrap();
            let wait = at - now;
            assert!(
                wait >= *base * 8 / 10 && wait <= *base * 12 / 10,
                "{attempts}: {wait}"
            );
        }
    }
    assert_eq!(
        next_attempt(8, now, &rng),
        None,
        "given up after 8 attempts"
    );
    let total: TimeDelta = RETRY_SCHEDULE.iter().copied().sum();
    assert!(total < DISABLE_AFTER);
}

fn endpoint() -> WebhookEndpoint {
    WebhookEndpoint {
        id: EndpointId::from_uuid(Uuid::from_u128(1)),
        tenant_id: TenantId::from_uuid(Uuid::from_u128(2)),
        url: "https://psa.example.com/hooks".into(),
        description: String::new(),
        event_types: vec![],
        enabled: true,
        disabled_reason: None,
        secrets: vec![SealedSecret {
            sealed: vec![1],
            expires_at: None,
        }],
        failing_since: None,
        created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        version: 1,
    }
}

#[test]
fn an_endpoint_failing_for_five_days_is_disabled() {
    let e = endpoint();
    let t0 = e.created_at;
    let fail = |at: DateTime<Utc>| AttemptRecord {
        at,
        status: Some(500),
        excerpt: "boom".into(),
    };
    let e1 = endpoint_after_attempt(&e, &fail(t0)).unwrap();
    assert_eq!(e1.failing_since, Some(t0));
    assert!(e1.enabled);
    assert_eq!(
        endpoint_after_attempt(&e1, &fail(t0 + TimeDelta::days(4))),
        None
    );
    let e2 = endpoint_after_attempt(&e1, &fail(t0 + DISABLE_AFTER)).unwrap();
    assert!(!e2.enabled);
    assert!(e2.disabled_reason.as_deref().unwrap().contains("HTTP 500"));
    let ok = AttemptRecord {
        at: t0,
        status: Some(204),
        excerpt: String::new(),
    };
    assert_eq!(
        endpoint_after_attempt(&e1, &ok).unwrap().failing_since,
        None
    );
    assert_eq!(endpoint_after_attempt(&e, &ok), None);
}

#[test]
fn rotation_keeps_the_old_secret_for_a_day() {
    let e = endpoint();
    let now = e.created_at;
    let r = rotated(&e, vec![2], now);
    assert_eq!(r.secrets.len(), 2);
    assert_eq!(r.secrets[0].sealed, vec![2]);
    assert_eq!(r.secrets[1].expires_at, Some(now + ROTATION_OVERLAP));
    assert_eq!(r.live_secrets(now + ROTATION_OVERLAP).count(), 2);
    assert_eq!(
        r.live_secrets(now + ROTATION_OVERLAP + TimeDelta::seconds(1))
            .count(),
        1
    );
    // A second rotation after the overlap drops the expired one.
    let r2 = rotated(&r, vec![3], now + TimeDelta::days(2));
    assert_eq!(r2.secrets.len(), 2);
}

#[test]
fn every_kind_has_a_listed_event_type_with_a_schema_name() {
    let mut seen = std::collections::BTreeSet::new();
    for t in EVENT_TYPES {
        assert!(seen.insert(*t), "{t} listed twice");
        assert!(event_schema_name(t).starts_with("WebhookEvent"));
    }
    assert_eq!(
        event_schema_name("file_drop.dropped"),
        "WebhookEventFileDropDropped"
    );
    assert_eq!(event_type(ActivityKind::TaskCompleted), "task.completed");
    assert_eq!(
        event_type(ActivityKind::DocumentUploaded),
        "document.uploaded"
    );
    assert_eq!(event_type(ActivityKind::QuestionAsked), "question.asked");
    assert!(subscribed(&[], "task.completed"));
    assert!(!subscribed(&["task.completed".into()], "question.asked"));
    assert!(check_event_types(&["task.nope".into()]).is_err());
}

#[test]
fn event_bodies_have_type_timestamp_and_data() {
    let entry = crate::workflow::ActivityEntry {
        portal_id: PortalId::from_uuid(Uuid::from_u128(3)),
        at: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        actor: Actor::Staff {
            name: "Sam Tech".into(),
            email: None,
        },
        kind: ActivityKind::TaskCompleted,
        task_id: None,
        subject: "Sign the agreement".into(),
        detail: None,
    };
    let body = event_body(TenantId::from_uuid(Uuid::from_u128(2)), &entry).unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    insta::assert_snapshot!(
        "task_completed_event",
        serde_json::to_string_pretty(&v).unwrap()
    );
}

#[test]
fn excerpts_are_short_and_single_line() {
    let long = format!("a\nb{}", "é".repeat(500));
    let e = excerpt(&long);
    assert!(e.len() <= RESPONSE_EXCERPT_LEN);
    assert!(e.starts_with("a b"));
}
