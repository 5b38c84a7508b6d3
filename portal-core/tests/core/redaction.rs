//! Debug output of everything that holds a secret shows none of it: the service (its
//! server secret), the store (sessions), the tokens, the code and the emails.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use portal_core::memory::MemoryStore;
use portal_core::secret::ServerSecret;
use portal_core::testkit::{TestService, request as req};

use crate::{code_in, magic_in};

/// The ways a secret's bytes could show up in text: as they are (if text), as hex, as
/// base64, and as Rust prints a byte slice.
fn encodings(bytes: &[u8]) -> Vec<String> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut out = vec![
        hex.clone(),
        hex.to_uppercase(),
        STANDARD.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        format!("{bytes:?}"),
        // The first bytes as a slice's Debug form prints them: "1, 2, 3, ...".
        format!("{:?}", &bytes[..bytes.len().min(8)])
            .trim_matches(['[', ']'])
            .to_owned(),
    ];
    if let Ok(text) = std::str::from_utf8(bytes) {
        out.push(text.to_owned());
    }
    out
}

#[track_caller]
fn assert_hides(printed: &str, type_name: &str, secret: &[u8]) {
    assert!(
        printed.contains(type_name),
        "the Debug output names {type_name}: {printed}"
    );
    for shown in encodings(secret) {
        assert!(
            !printed.contains(&shown),
            "the Debug output of {type_name} shows its secret as {shown:?}: {printed}"
        );
    }
}

#[tokio::test]
async fn debug_output_never_shows_codes_or_tokens() {
    let store = Arc::new(MemoryStore::new());
    let kit = TestService::new(store.clone(), 12);
    let seeded = kit.seed_portal().await.unwrap();
    let invite = kit.invite(&seeded.contact).await.unwrap();
    let (verification, _) = kit
        .service
        .start_verification(&invite, &req())
        .await
        .unwrap();
    let email = kit.last_email_to(&seeded.contact).unwrap();
    let code = code_in(&email);
    let magic = magic_in(&email);
    let (session, ctx) = kit
        .service
        .enter_code(&verification, &code, &req())
        .await
        .unwrap();

    // The store holds the live session (as a hash) and the service the server secret.
    let store_debug = format!("{store:?}");
    assert!(store_debug.contains("sessions: 1"), "{store_debug}");
    let tokens: [(&str, &[u8]); 4] = [
        ("InviteToken", invite.expose_secret().as_bytes()),
        ("VerificationToken", verification.expose_secret().as_bytes()),
        ("MagicToken", magic.expose_secret().as_bytes()),
        ("SessionToken", session.expose_secret().as_bytes()),
    ];
    for (_, token) in tokens {
        assert_hides(&store_debug, "MemoryStore", token);
    }
    assert_hides(&store_debug, "MemoryStore", code.as_bytes());
    assert_hides(&format!("{:?}", kit.service), "PortalService", &[7; 32]);

    let distinct: Vec<u8> = (1..=32).collect();
    let secret = ServerSecret::from_bytes(distinct.clone()).unwrap();
    assert_hides(&format!("{secret:?}"), "ServerSecret", &distinct);

    assert_hides(&format!("{invite:?}"), "InviteToken", tokens[0].1);
    assert_hides(
        &format!("{verification:?}"),
        "VerificationToken",
        tokens[1].1,
    );
    assert_hides(&format!("{magic:?}"), "MagicToken", tokens[2].1);
    assert_hides(&format!("{session:?}"), "SessionToken", tokens[3].1);

    let sent = kit.mailer.sent();
    assert!(email.text.contains(&code), "the email does carry the code");
    let printed = format!("{sent:?} {ctx:?}");
    assert!(printed.contains("Email") && printed.contains("ClientContext"));
    for secret in [code.as_bytes()].into_iter().chain(tokens.map(|(_, t)| t)) {
        assert_hides(&printed, "Email", secret);
    }
}
