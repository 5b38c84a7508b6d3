//! Email addresses as people type them (`EmailAddress::parse`). An accepted address is
//! at most 254 bytes, has one `@` between a non-empty mailbox and a dotted, lower-case
//! domain, holds no space, control character, quote, comma, semicolon or angle bracket
//! (so it can go into a mail header and a page as it is), parses back to itself, and
//! survives its stored JSON; its masked form shows only the domain in full.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portal_core::model::EmailAddress;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(email) = EmailAddress::parse(raw) else {
        return;
    };
    let s = email.as_str();
    assert!(!s.is_empty() && s.len() <= 254, "{s:?}");
    assert_eq!(s.matches('@').count(), 1, "{s:?}");
    assert!(
        !s.chars().any(|c| c.is_whitespace()
            || c.is_control()
            || matches!(c, '<' | '>' | '"' | ',' | ';')),
        "{s:?}"
    );
    let (local, domain) = s.split_once('@').unwrap();
    assert!(!local.is_empty());
    assert!(domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
    assert!(!domain.contains(".."));
    assert_eq!(domain, domain.to_ascii_lowercase());
    assert_eq!(
        raw.trim().rsplit_once('@').map(|(l, _)| l),
        Some(local),
        "mailbox changed"
    );

    assert_eq!(EmailAddress::parse(s).unwrap(), email, "not idempotent");
    assert_eq!(email.to_string(), s);
    let json = serde_json::to_string(&email).unwrap();
    assert_eq!(serde_json::from_str::<EmailAddress>(&json).unwrap(), email);

    // Only the mailbox's first and last characters are shown.
    let masked = email.masked();
    let chars: Vec<char> = local.chars().collect();
    let shown = match chars.as_slice() {
        [only] => format!("{only}•••"),
        [first, .., last] => format!("{first}•••{last}"),
        [] => unreachable!("the mailbox is not empty"),
    };
    assert_eq!(masked, format!("{shown}@{domain}"));
});
