//! Branding as the MSP sets it: accent colors, company name and welcome message
//! (`Branding::new`, which cleans them with `clean_label` and `clean_text`), and logo
//! uploads (`Logo::from_upload`). A color parses exactly when it is six hex digits
//! (after trimming and `#`s) and prints back as the same `#rrggbb`; accepted branding
//! holds no control or text-direction character, keeps its limits, and is a fixed point
//! of `Branding::new`; a logo is accepted exactly when it is small enough and starts
//! like a PNG, JPEG, GIF or WebP, and its reference is its lower-case hex SHA-256.
//!
//! Input: first byte picks colors / branding / logo; branding takes three pieces, each
//! prefixed by its length in one byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portal_core::model::{AccentColor, Branding, ImageType, Logo, LogoRef, is_bidi_control};
use portal_fuzz::take_prefixed;

fn check_color(raw: &str) {
    let hex = raw.trim().trim_start_matches('#');
    let want = hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let Ok(color) = AccentColor::parse(raw) else {
        assert!(!want, "{raw:?} refused");
        return;
    };
    assert!(want, "{raw:?} accepted");
    let printed = color.hex();
    assert_eq!(printed, format!("#{}", hex.to_ascii_lowercase()));
    assert_eq!(AccentColor::parse(&printed).unwrap(), color);
    let [r, g, b] = color.rgb();
    assert_eq!(printed, format!("#{r:02x}{g:02x}{b:02x}"));
    assert!(matches!(color.text_color(), "#ffffff" | "#000000"));
    let l = color.luminance();
    assert!((0.0..=1.0).contains(&l), "luminance {l}");
    let json = serde_json::to_string(&color).unwrap();
    assert_eq!(serde_json::from_str::<AccentColor>(&json).unwrap(), color);
}

fn check_branding(name: &str, color: &str, welcome: &str) {
    let Ok(b) = Branding::new(name, color, welcome, None) else {
        return;
    };
    let n = &b.company_name;
    assert!(!n.is_empty() && n.chars().count() <= Branding::MAX_NAME);
    assert_eq!(n.trim(), n);
    assert!(
        !n.chars().any(|c| c.is_control() || is_bidi_control(c)),
        "{n:?}"
    );
    let w = &b.welcome_message;
    assert!(w.chars().count() <= Branding::MAX_WELCOME);
    assert!(
        !w.chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)),
        "{w:?}"
    );
    let again = Branding::new(n, &b.accent_color.hex(), w, None).unwrap();
    assert_eq!(again, b, "not a fixed point");
    let json = serde_json::to_string(&b).unwrap();
    assert_eq!(serde_json::from_str::<Branding>(&json).unwrap(), b);
}

fn check_logo(bytes: &[u8]) {
    let sniffed = ImageType::sniff(bytes);
    match Logo::from_upload(bytes.to_vec()) {
        Ok(logo) => {
            assert!(bytes.len() <= Logo::MAX_BYTES);
            assert_eq!(Some(logo.image_type), sniffed);
            assert!(logo.image_type.mime().starts_with("image/"));
            let r = logo.reference();
            assert_eq!(r.image_type, logo.image_type);
            assert_eq!(r.sha256.len(), 64);
            assert!(
                r.sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<LogoRef>(&json).unwrap(), r);
        }
        Err(_) => assert!(sniffed.is_none() || bytes.len() > Logo::MAX_BYTES),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => check_color(&String::from_utf8_lossy(rest)),
        1 => {
            let name = String::from_utf8_lossy(take_prefixed(&mut rest)).into_owned();
            let color = String::from_utf8_lossy(take_prefixed(&mut rest)).into_owned();
            let welcome = String::from_utf8_lossy(rest);
            check_color(&color);
            check_branding(&name, &color, &welcome);
        }
        _ => check_logo(rest),
    }
});
