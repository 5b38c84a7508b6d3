//! Token and id shapes as clients present them: the typed ids' `FromStr` (URLs, forms),
//! the bearer tokens' `parse` (links, cookies) and the typed verification code. An id
//! parses only in its one canonical spelling, which it prints back exactly, and every id
//! type accepts the same strings; a token parses exactly when it is 43 URL-safe base64
//! characters and keeps them as they are; a code is the six ASCII digits typed, with
//! only spaces and dashes dropped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portal_core::ids::{
    BlobId, ContactId, FileId, PhaseId, PortalId, QuestionId, TaskId, TenantId,
};
use portal_core::secret::{
    InviteToken, MagicToken, SessionToken, TOKEN_CHARS, VerificationCode, VerificationToken,
};

fn canonical_id(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

fn check_ids(s: &str) {
    let parsed = s.parse::<TaskId>();
    assert_eq!(parsed.is_ok(), canonical_id(s), "TaskId {s:?}");
    if let Ok(id) = parsed {
        assert_eq!(id.to_string(), s);
        assert_eq!(TaskId::from_bytes(*id.as_bytes()), id);
    }
    let agree = [
        s.parse::<TenantId>().is_ok(),
        s.parse::<PortalId>().is_ok(),
        s.parse::<ContactId>().is_ok(),
        s.parse::<PhaseId>().is_ok(),
        s.parse::<QuestionId>().is_ok(),
        s.parse::<FileId>().is_ok(),
        s.parse::<BlobId>().is_ok(),
    ];
    assert!(
        agree.iter().all(|ok| *ok == parsed.is_ok()),
        "{s:?}: {agree:?}"
    );
}

fn check_tokens(s: &str) {
    let shaped = s.len() == TOKEN_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    macro_rules! token {
        ($t:ty) => {
            match <$t>::parse(s) {
                Ok(t) => {
                    assert!(shaped, concat!(stringify!($t), " took {:?}"), s);
                    assert_eq!(t.expose_secret(), s);
                    assert_eq!(t.hash(), <$t>::parse(s).unwrap().hash());
                    assert!(!format!("{t:?}").contains(s), "Debug shows the token");
                }
                Err(_) => assert!(!shaped, concat!(stringify!($t), " refused {:?}"), s),
            }
        };
    }
    token!(InviteToken);
    token!(MagicToken);
    token!(SessionToken);
    token!(VerificationToken);
}

fn check_code(s: &str) {
    let digits: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let want = digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit());
    match VerificationCode::parse(s) {
        Ok(code) => {
            assert!(want, "code {s:?} accepted");
            assert_eq!(code.expose_secret(), digits);
            assert_eq!(VerificationCode::parse(code.expose_secret()).unwrap(), code);
        }
        Err(_) => assert!(!want, "code {s:?} refused"),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        check_ids(s);
        check_tokens(s);
        check_code(s);
    }
    // Any 16 bytes make an id that prints canonically and parses back.
    if let Ok(bytes) = <[u8; 16]>::try_from(data.get(..16).unwrap_or_default()) {
        let id = PortalId::from_bytes(bytes);
        let printed = id.to_string();
        assert!(canonical_id(&printed), "{printed}");
        assert_eq!(printed.parse::<PortalId>().unwrap(), id);
    }
});
