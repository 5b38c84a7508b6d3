//! Uploaded files: content sniffing and names. `sniff` never calls markup or invalid
//! UTF-8 text, and says the same for the same bytes; a cleaned name is never empty,
//! never a path, never hidden, has no control or invisible reordering character, keeps
//! its length limit and is a fixed point of cleaning; the name for a type ends in one
//! of that type's extensions and is a fixed point too; the `Content-Disposition` value
//! is printable ASCII (a valid header that cannot be split) whose `filename*` decodes to
//! exactly the cleaned name.
//!
//! Input: first byte picks the type and whether the content is complete; then the name,
//! prefixed by its length in one byte; the rest is the content.
#![no_main]

use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use portal_core::files::{
    FileType, MAX_NAME_CHARS, attachment_disposition, clean_file_name, looks_like_markup,
    name_for_type, sniff,
};
use portal_fuzz::take_prefixed;

fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

fn check_clean(name: &str) {
    assert!(!name.is_empty());
    assert!(name.chars().count() <= MAX_NAME_CHARS, "{name:?}");
    assert!(!name.contains(['/', '\\']), "{name:?}");
    assert!(
        !name.starts_with(['.', ' ']) && !name.ends_with(['.', ' ']),
        "{name:?}"
    );
    assert!(!name.contains("  "), "{name:?}");
    assert!(
        !name
            .chars()
            .any(|c| c.is_control() || invisible(c) || (c.is_whitespace() && c != ' ')),
        "{name:?}"
    );
    assert_eq!(
        clean_file_name(name, "unused"),
        name,
        "cleaning is not idempotent"
    );
}

fn check_names(raw: &str, t: FileType) {
    let fallback = t.fallback_name();
    let cleaned = clean_file_name(raw, &fallback);
    check_clean(&cleaned);

    let named = name_for_type(raw, t);
    check_clean(&named);
    let (_, ext) = named.rsplit_once('.').unwrap();
    assert!(
        t.extensions().iter().any(|e| ext.eq_ignore_ascii_case(e)),
        "{named:?} has no extension of {t:?}"
    );
    assert_eq!(name_for_type(&named, t), named, "naming is not idempotent");

    let header = attachment_disposition(raw);
    assert!(
        header.bytes().all(|b| (b' '..=b'~').contains(&b)),
        "{header:?}"
    );
    assert!(http::HeaderValue::from_str(&header).is_ok());
    let rest = header
        .strip_prefix("attachment; filename=\"")
        .unwrap_or_else(|| panic!("{header:?}"));
    let (ascii, encoded) = rest.split_once("\"; filename*=UTF-8''").unwrap();
    assert!(!ascii.contains(['"', '\\', '%']), "{header:?}");
    let decoded = percent_decode_str(encoded).decode_utf8().unwrap();
    assert_eq!(decoded, clean_file_name(raw, "download"));
}

fn check_sniff(content: &[u8], complete: bool) {
    let found = sniff(content, complete);
    assert_eq!(found, sniff(content, complete));
    if content.is_empty() {
        assert_eq!(found, None);
    }
    if found == Some(FileType::Text) {
        assert!(!looks_like_markup(content), "markup sniffed as text");
        assert!(!content.contains(&0), "NUL in text");
        match std::str::from_utf8(content) {
            Ok(_) => {}
            // Only a character cut off by the end of an incomplete prefix is allowed.
            Err(e) => assert!(!complete && e.error_len().is_none(), "not UTF-8: {e}"),
        }
    }
    if let Some(t) = found {
        assert_eq!(FileType::parse(t.name()), Some(t));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    let t = FileType::ALL[usize::from(pick >> 1) % FileType::ALL.len()];
    let complete = pick & 1 == 1;
    let name = String::from_utf8_lossy(take_prefixed(&mut rest)).into_owned();
    check_names(&name, t);
    check_sniff(rest, complete);
});
