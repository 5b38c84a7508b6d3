use std::sync::Arc;

use super::*;
use crate::blob::keyring::{KeyId, Keyring};
use crate::random::SeededRandom;

const PASSWORD: &str = "Tr0ub4dor&3-correct-horse";

fn keys() -> Keyring {
    Keyring::generate(KeyId::parse("k1").unwrap(), Arc::new(SeededRandom::new(1)))
}

fn binding(n: u8) -> CredentialBinding {
    CredentialBinding {
        tenant: TenantId::from_bytes([1; 16]),
        portal: PortalId::from_bytes([2; 16]),
        task: TaskId::from_bytes([n; 16]),
    }
}

fn form(username: &str, password: &str) -> CredentialForm {
    CredentialForm {
        username: SecretText::new(username),
        password: SecretText::new(password),
        api_key: None,
        notes: None,
    }
}

#[tokio::test]
async fn a_sealed_field_opens_only_where_it_was_sealed() {
    let (keys, rng) = (keys(), SeededRandom::new(2));
    let b = binding(3);
    let value = SecretText::new(PASSWORD);
    let sealed = seal_field(&keys, &rng, &b, CredentialField::Password, &value)
        .await
        .unwrap();
    assert_eq!(sealed.ciphertext[0], 1, "version byte");
    assert_eq!(sealed.ciphertext.len(), 1 + 12 + PASSWORD.len() + 16);
    let opened = open_field(&keys, &b, &sealed).await.unwrap();
    assert_eq!(opened.expose_secret(), PASSWORD);

    // Copied to another task, portal, tenant: refused.
    let mut others = vec![binding(4)];
    others.push(CredentialBinding {
        portal: PortalId::from_bytes([9; 16]),
        ..b
    });
    others.push(CredentialBinding {
        tenant: TenantId::from_bytes([9; 16]),
        ..b
    });
    for other in others {
        assert!(matches!(
            open_field(&keys, &other, &sealed).await,
            Err(Error::Integrity { .. })
        ));
    }
    // Copied to another field of the same task: refused.
    let moved = SealedField {
        field: CredentialField::Username,
        ..sealed.clone()
    };
    assert!(matches!(
        open_field(&keys, &b, &moved).await,
        Err(Error::Integrity { .. })
    ));
    // Another field's ciphertext under this field's wrapped key: refused.
    let user = seal_field(
        &keys,
        &rng,
        &b,
        CredentialField::Username,
        &SecretText::new("admin"),
    )
    .await
    .unwrap();
    let swapped = SealedField {
        ciphertext: user.ciphertext.clone(),
        ..sealed.clone()
    };
    assert!(open_field(&keys, &b, &swapped).await.is_err());
    // One flipped bit: refused.
    let mut flipped = sealed.clone();
    let last = flipped.ciphertext.len() - 1;
    flipped.ciphertext[last] ^= 1;
    assert!(open_field(&keys, &b, &flipped).await.is_err());
    // Truncated or empty: refused, no panic.
    let mut short = sealed.clone();
    short.ciphertext.truncate(5);
    assert!(open_field(&keys, &b, &short).await.is_err());
    short.ciphertext.clear();
    assert!(open_field(&keys, &b, &short).await.is_err());
}

#[tokio::test]
async fn the_same_value_seals_differently_each_time() {
    let (keys, rng) = (keys(), SeededRandom::new(2));
    let v = SecretText::new(PASSWORD);
    let a = seal_field(&keys, &rng, &binding(3), CredentialField::Password, &v)
        .await
        .unwrap();
    let b = seal_field(&keys, &rng, &binding(3), CredentialField::Password, &v)
        .await
        .unwrap();
    assert_ne!(a.ciphertext, b.ciphertext);
    let haystack = [a.ciphertext.as_slice(), &a.key.bytes].concat();
    assert!(
        !haystack
            .windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes())
    );
}

#[tokio::test]
async fn debug_output_never_shows_a_value() {
    let (keys, rng) = (keys(), SeededRandom::new(2));
    let mut f = form("admin", PASSWORD);
    f.notes = Some(SecretText::new(PASSWORD));
    f.api_key = Some(SecretText::new(PASSWORD));
    let sealed = seal_field(
        &keys,
        &rng,
        &binding(3),
        CredentialField::Password,
        &f.password,
    )
    .await
    .unwrap();
    let text = format!(
        "{f:?} {:?} {sealed:?} {:#?}",
        f.password,
        f.checked(true).unwrap()
    );
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!text.contains("Tr0ub4dor"), "{text}");
    assert!(text.contains("[redacted]"));
}

#[test]
fn hostile_input_gets_a_clear_error() {
    let field_of = |r: Result<Vec<(CredentialField, &SecretText)>>| match r {
        Err(Error::Invalid { field, reason }) => (field, reason),
        other => panic!("expected Invalid, got {other:?}"),
    };
    let f = form("", PASSWORD);
    assert_eq!(
        field_of(f.checked(false)),
        ("username", "is required".into())
    );
    let f = form("admin", "   ");
    assert_eq!(
        field_of(f.checked(false)),
        ("password", "is required".into())
    );
    let f = form("admin", PASSWORD);
    assert_eq!(field_of(f.checked(true)), ("api_key", "is required".into()));
    let f = form("ad\u{0}min", PASSWORD);
    let (field, reason) = field_of(f.checked(false));
    assert_eq!(field, "username");
    assert!(reason.contains("control characters"));
    let f = form("admin", "pa\u{1b}[31mss");
    assert_eq!(field_of(f.checked(false)).0, "password");
    let f = form("admin", "line\nbreak");
    assert_eq!(field_of(f.checked(false)).0, "password");
    let huge = "x".repeat(1024 * 1024);
    let f = form("admin", &huge);
    let (field, reason) = field_of(f.checked(false));
    assert_eq!(field, "password");
    assert!(reason.contains("at most 4 KiB"), "{reason}");
    let mut f = form("admin", PASSWORD);
    f.notes = Some(SecretText::new(huge.clone()));
    assert_eq!(field_of(f.checked(false)).0, "notes");
    f.notes = Some(SecretText::new("bell\u{7}"));
    assert_eq!(field_of(f.checked(false)).0, "notes");
}

#[test]
fn a_good_form_lists_its_fields_in_order() {
    let mut f = form("admin", " spaced password ");
    f.api_key = Some(SecretText::new("sk_live_123"));
    f.notes = Some(SecretText::new("MFA: call the desk\n\tthen press 1"));
    let fields: Vec<_> = f
        .checked(true)
        .unwrap()
        .into_iter()
        .map(|(field, v)| (field.as_str(), v.expose_secret().to_owned()))
        .collect();
    assert_eq!(
        fields,
        [
            ("username", "admin".to_owned()),
            ("password", " spaced password ".to_owned()),
            ("api_key", "sk_live_123".to_owned()),
            ("notes", "MFA: call the desk\n\tthen press 1".to_owned()),
        ]
    );
    // An API key the task does not ask for is not sealed; blank notes are left out.
    f.notes = Some(SecretText::new("  "));
    let names: Vec<_> = f
        .checked(false)
        .unwrap()
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["username", "password"]);
    for field in [
        CredentialField::Username,
        CredentialField::Password,
        CredentialField::ApiKey,
        CredentialField::Notes,
    ] {
        assert_eq!(CredentialField::parse(field.as_str()), Some(field));
    }
}
