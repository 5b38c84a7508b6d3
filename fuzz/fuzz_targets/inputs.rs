//! Every parser of client- or MSP-supplied values: none may panic, and what they accept
//! must round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portal_core::model::{AccentColor, EmailAddress, Logo, TaskKind, clean_label, clean_text};
use portal_core::secret::{InviteToken, MagicToken, SessionToken, VerificationCode, VerificationToken};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(code) = VerificationCode::parse(&s) {
        assert_eq!(code.expose_secret().len(), 6);
    }
    if let Ok(email) = EmailAddress::parse(&s) {
        assert_eq!(EmailAddress::parse(email.as_str()).ok().as_ref(), Some(&email));
        let _ = email.masked();
    }
    if let Ok(t) = InviteToken::parse(&s) {
        assert_eq!(t.expose_secret(), &*s);
    }
    let _ = MagicToken::parse(&s);
    let _ = SessionToken::parse(&s);
    let _ = VerificationToken::parse(&s);
    if let Ok(c) = AccentColor::parse(&s) {
        assert_eq!(AccentColor::parse(&c.hex()).ok(), Some(c));
        let _ = c.text_color();
    }
    let _ = clean_label("f", &s, 100);
    let _ = clean_text("f", &s, 1000);
    if let Ok(kind) = serde_json::from_slice::<TaskKind>(data) {
        let _ = kind.validate();
    }
    let _ = Logo::from_upload(data.to_vec());
});
