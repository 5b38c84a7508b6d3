//! File names: the one the browser sent, made safe to show, keep and download under.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::FileType;

/// The longest cleaned file name, in characters (not bytes): room for any real name,
/// short enough for every file system once a browser saves it (255 bytes on most) when
/// the name is ASCII, and for a page to show without wrapping forever.
pub const MAX_NAME_CHARS: usize = 200;

/// An extension kept through truncation is at most this long; a longer "extension" is
/// just the end of a name with a dot in it.
const MAX_EXTENSION_CHARS: usize = 16;

/// Used when both the name and the caller's fallback clean to nothing.
const LAST_RESORT: &str = "file";

/// Characters removed outright because they change how the rest of the name is shown
/// without being seen: the bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069), with which `invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`, and the
/// invisible U+200B (zero-width space), U+2060 (word joiner) and U+FEFF (BOM). The
/// zero-width joiner (U+200D) and non-joiner (U+200C) stay: emoji sequences and Persian
/// words need them.
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

/// A file name as the browser sent it, cleaned for display and storage.
///
/// - Only the last path component: old browsers send `C:\Users\x\report.pdf`, and a
///   name must never act as a path (`../../etc/passwd` becomes `passwd`), so both `/`
///   and `\` separate.
/// - Control characters (NUL included) removed, and the invisible characters that
///   reorder or hide text: the bidi controls U+202A–U+202E, U+2066–U+2069, U+200E,
///   U+200F, U+061C (with which `invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`) and
///   U+200B, U+2060, U+FEFF. What staff read is then what the name is.
/// - Whitespace (any Unicode space, tabs, line breaks) collapsed to single spaces and
///   trimmed.
/// - Leading dots removed (no hidden files, no `..`), and trailing dots, which Windows
///   drops when saving, so the extension shown is the one the file gets.
/// - At most [`MAX_NAME_CHARS`] characters, cut at a character boundary, keeping the
///   extension (up to 16 letters or digits after the last dot).
/// - Never empty: `fallback` (cleaned the same way) when nothing is left, e.g.
///   [`FileType::fallback_name`]; `file` if that is empty too.
///
/// Cleaning a clean name changes nothing. Characters Windows does not allow in names
/// (`<>:"|?*`) are kept for display; browsers replace them when saving a download.
pub fn clean_file_name(raw: &str, fallback: &str) -> String {
    clean(raw)
        .or_else(|| clean(fallback))
        .unwrap_or_else(|| LAST_RESORT.to_owned())
}

fn clean(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let mut out = String::with_capacity(last.len().min(4 * MAX_NAME_CHARS));
    let mut space = false;
    for c in last.chars() {
        if c.is_whitespace() {
            space = true;
        } else if c.is_control() || invisible(c) {
            // Removed without ending a run of spaces: `a \u{202E} b` is `a b`.
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    let trimmed = out
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    if trimmed.is_empty() {
        return None;
    }
    Some(truncate(trimmed))
}

/// `name` cut to [`MAX_NAME_CHARS`], keeping its extension.
fn truncate(name: &str) -> String {
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_owned();
    }
    let extension = name.rsplit_once('.').and_then(|(stem, ext)| {
        let n = ext.chars().count();
        (!stem.is_empty()
            && (1..=MAX_EXTENSION_CHARS).contains(&n)
            && ext.chars().all(char::is_alphanumeric))
        .then_some(ext)
    });
    match extension {
        Some(ext) => {
            let keep = MAX_NAME_CHARS - 1 - ext.chars().count();
            format!("{}.{ext}", cut(name, keep))
        }
        None => cut(name, MAX_NAME_CHARS).to_owned(),
    }
}

/// The first `chars` characters of `s`, without the spaces and dots a cut can leave at
/// the end. Never empty for a non-empty `s` that starts with neither, as cleaned names do.
fn cut(s: &str, chars: usize) -> &str {
    let end = s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i);
    s[..end].trim_end_matches(['.', ' '])
}

/// The name to keep and download a file of type `found` under: [`clean_file_name`] of the
/// sent name (with [`FileType::fallback_name`] as fallback), then, unless it already ends
/// in one of `found`'s [`FileType::extensions`] (any case), `found`'s usual extension
/// appended: `invoice.pdf.exe` holding a PDF becomes `invoice.pdf.exe.pdf`.
///
/// Why: the client chooses the name, staff double-click the download, and the extension
/// decides which program opens it. Appending (rather than replacing) keeps what the client
/// called the file visible. It also turns macro content that slipped past [`super::sniff`]
/// into a `.docx`/`.xlsx`/`.pptx`, which Office refuses to open as macro-enabled.
pub fn name_for_type(raw: &str, found: FileType) -> String {
    let name = clean_file_name(raw, &found.fallback_name());
    let has_extension = name.rsplit_once('.').is_some_and(|(_, ext)| {
        found
            .extensions()
            .iter()
            .any(|known| ext.eq_ignore_ascii_case(known))
    });
    if has_extension {
        return name;
    }
    let ext = found.primary_extension();
    let keep = MAX_NAME_CHARS - 1 - ext.chars().count();
    format!("{}.{ext}", cut(&name, keep))
}

/// RFC 5987 `attr-char`: what may appear unencoded in an extended parameter value.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The `Content-Disposition` header value for downloading a file named `name` as an
/// attachment (RFC 6266): `attachment; filename="<ASCII>"; filename*=UTF-8''<encoded>`.
///
/// `attachment` so a browser saves rather than shows, whatever the content. The name is
/// first put through [`clean_file_name`] (a no-op for a name that came from it), so the
/// name a browser decodes holds no path, control or bidi character either. Browsers that
/// read `filename*` (all current ones) get the exact name, percent-encoded as RFC 5987
/// says; `filename` is the fallback for the rest, written first as RFC 6266 Appendix D
/// advises: printable ASCII with `_` for quotes, backslashes, `%` (some browsers
/// percent-decode it) and every non-ASCII character. The value is only ever printable
/// ASCII, so it cannot split or inject a header.
pub fn attachment_disposition(name: &str) -> String {
    let name = clean_file_name(name, "download");
    let ascii: String = name
        .chars()
        .map(|c| match c {
            '"' | '\\' | '%' => '_',
            ' '..='~' => c,
            _ => '_',
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(&name, ATTR_CHAR)
    )
}

#[cfg(test)]
mod tests {
    use percent_encoding::percent_decode_str;

    use super::*;

    fn clean(raw: &str) -> String {
        clean_file_name(raw, "document.pdf")
    }

    #[test]
    fn paths_become_their_last_component() {
        assert_eq!(clean("../../etc/passwd"), "passwd");
        assert_eq!(clean("C:\\Users\\x\\evil.exe"), "evil.exe");
        assert_eq!(clean("/var/tmp/../report.pdf"), "report.pdf");
        assert_eq!(clean("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(clean("mixed/path\\to/file.txt"), "file.txt");
        assert_eq!(clean("folder/"), "document.pdf");
        assert_eq!(clean(".."), "document.pdf");
        assert_eq!(clean("../.."), "document.pdf");
    }

    #[test]
    fn controls_nul_and_bidi_are_removed() {
        assert_eq!(clean("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(
            clean("a\u{2066}b\u{2067}c\u{2068}d\u{2069}e\u{202A}f\u{202B}g\u{202C}h\u{202D}i"),
            "abcdefghi"
        );
        assert_eq!(
            clean("\u{200F}\u{200E}\u{061C}name\u{200B}\u{2060}\u{FEFF}.pdf"),
            "name.pdf"
        );
        assert_eq!(clean("evil.exe\0.pdf"), "evil.exe.pdf");
        assert_eq!(
            clean("bell\u{7}\u{1B}[31mred\u{7F}\u{9F}.txt"),
            "bell[31mred.txt"
        );
        assert_eq!(
            clean("next\u{85}line.txt"),
            "next line.txt",
            "NEL is whitespace"
        );
        assert_eq!(clean("line\r\nbreak.txt"), "line break.txt");
        assert_eq!(clean("tab\there.txt"), "tab here.txt");
        assert_eq!(clean("a \u{202E} b.txt"), "a b.txt");
    }

    #[test]
    fn whitespace_collapses_and_dots_go_from_the_ends() {
        assert_eq!(clean("  my    report .pdf  "), "my report .pdf");
        assert_eq!(
            clean("\u{3000}\u{A0}wide\u{2003}space\u{2028}.pdf"),
            "wide space .pdf"
        );
        assert_eq!(clean(".htaccess"), "htaccess");
        assert_eq!(clean("...hidden.txt"), "hidden.txt");
        assert_eq!(clean(". . .x"), "x");
        assert_eq!(clean("report.pdf."), "report.pdf");
        assert_eq!(clean("report.pdf . . "), "report.pdf");
    }

    #[test]
    fn nothing_left_means_the_fallback() {
        for raw in [
            "", " ", "...", ". . .", "\0\0", "\u{202E}", "\u{200B}", "/", "\\", "a/", "\t\n",
        ] {
            assert_eq!(clean(raw), "document.pdf", "{raw:?}");
        }
        assert_eq!(
            clean_file_name("", "../\u{202E}image.png"),
            "image.png",
            "the fallback is cleaned too"
        );
        assert_eq!(clean_file_name("", ""), "file");
        assert_eq!(clean_file_name("...", "..."), "file");
    }

    #[test]
    fn emoji_cjk_and_accents_are_kept() {
        assert_eq!(clean("Résumé – 2024 📄.pdf"), "Résumé – 2024 📄.pdf");
        assert_eq!(clean("請求書_東京.xlsx"), "請求書_東京.xlsx");
        assert_eq!(
            clean("family 👨\u{200D}👩\u{200D}👧.jpg"),
            "family 👨\u{200D}👩\u{200D}👧.jpg"
        );
        assert_eq!(clean("مستند.docx"), "مستند.docx");
        assert_eq!(clean("می\u{200C}خواهم.txt"), "می\u{200C}خواهم.txt");
    }

    #[test]
    fn long_names_are_cut_keeping_the_extension() {
        let huge = format!("{}.pdf", "a".repeat(10_000));
        let cleaned = clean(&huge);
        assert_eq!(cleaned.chars().count(), MAX_NAME_CHARS);
        assert_eq!(cleaned, format!("{}.pdf", "a".repeat(196)));

        // CJK and emoji: cut at a character boundary, still ending in the extension.
        let cjk = format!("{}.docx", "東京📄".repeat(300));
        let cleaned = clean(&cjk);
        assert_eq!(cleaned.chars().count(), MAX_NAME_CHARS);
        assert!(cleaned.ends_with("東京📄.docx"), "{cleaned}");
        assert!(cleaned.starts_with("東京📄東京"));

        // A cut that would end in a space or a dot drops it.
        let spaced = format!("{}x.pdf", "abc ".repeat(100));
        assert_eq!(clean(&spaced), format!("{}abc.pdf", "abc ".repeat(48)));
        let dotted = format!("{}x.pdf", "abc.".repeat(100));
        assert_eq!(clean(&dotted), format!("{}abc.pdf", "abc.".repeat(48)));

        // No usable extension: a plain cut.
        let no_ext = "b".repeat(300);
        assert_eq!(clean(&no_ext), "b".repeat(200));
        let long_ext = format!("a.{}", "x".repeat(300));
        assert_eq!(clean(&long_ext).chars().count(), MAX_NAME_CHARS);
        let spaced_ext = format!("{}.tar gz", "c".repeat(300));
        assert_eq!(clean(&spaced_ext), "c".repeat(200));

        // Exactly at the limit: untouched.
        let exact = format!("{}.pdf", "e".repeat(196));
        assert_eq!(clean(&exact), exact);
    }

    #[test]
    fn name_for_type_makes_the_extension_agree() {
        assert_eq!(name_for_type("report.pdf", FileType::Pdf), "report.pdf");
        assert_eq!(name_for_type("REPORT.PDF", FileType::Pdf), "REPORT.PDF");
        assert_eq!(
            name_for_type("invoice.pdf.exe", FileType::Pdf),
            "invoice.pdf.exe.pdf"
        );
        assert_eq!(name_for_type("photo.JPEG", FileType::Jpeg), "photo.JPEG");
        assert_eq!(name_for_type("photo.png", FileType::Jpeg), "photo.png.jpg");
        assert_eq!(
            name_for_type("payload.hta", FileType::Text),
            "payload.hta.txt"
        );
        assert_eq!(name_for_type("fix.reg", FileType::Text), "fix.reg.txt");
        assert_eq!(
            name_for_type("config.xml", FileType::Text),
            "config.xml.txt"
        );
        assert_eq!(name_for_type("users.csv", FileType::Text), "users.csv");
        assert_eq!(
            name_for_type("budget.xlsm", FileType::Xlsx),
            "budget.xlsm.xlsx"
        );
        assert_eq!(name_for_type("setup.msi", FileType::Doc), "setup.msi.doc");
        assert_eq!(name_for_type("old.xls", FileType::Doc), "old.xls");
        assert_eq!(name_for_type("tool.jar", FileType::Zip), "tool.jar.zip");
        assert_eq!(name_for_type("scan", FileType::Tiff), "scan.tif");
        assert_eq!(name_for_type("", FileType::Pdf), "document.pdf");
        assert_eq!(
            name_for_type("../\u{202E}", FileType::Docx),
            "document.docx"
        );
        assert_eq!(
            name_for_type("invoice\u{202E}fdp.exe", FileType::Pdf),
            "invoicefdp.exe.pdf"
        );
        let long = name_for_type(&format!("{}.exe", "x".repeat(400)), FileType::Pptx);
        assert_eq!(long.chars().count(), MAX_NAME_CHARS);
        assert!(long.ends_with(".pptx"));
        for &t in FileType::ALL {
            assert_eq!(name_for_type("", t), t.fallback_name());
            assert_eq!(name_for_type(&t.fallback_name(), t), t.fallback_name());
        }
    }

    #[test]
    fn disposition_of_ascii_quotes_and_non_ascii() {
        assert_eq!(
            attachment_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            attachment_disposition("Q1 report (final).pdf"),
            "attachment; filename=\"Q1 report (final).pdf\"; filename*=UTF-8''Q1%20report%20%28final%29.pdf"
        );
        assert_eq!(
            attachment_disposition("Résumé \"final\".pdf"),
            "attachment; filename=\"R_sum_ _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
        assert_eq!(
            attachment_disposition("back\\slash 100%.txt"),
            "attachment; filename=\"slash 100_.txt\"; filename*=UTF-8''slash%20100%25.txt"
        );
        assert_eq!(
            attachment_disposition("請求書.xlsx"),
            "attachment; filename=\"___.xlsx\"; filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.xlsx"
        );
        assert_eq!(
            attachment_disposition("a;b=c,d'e!#$&+^_`|~.txt"),
            "attachment; filename=\"a;b=c,d'e!#$&+^_`|~.txt\"; filename*=UTF-8''a%3Bb%3Dc%2Cd%27e!#$&+^_`|~.txt"
        );
        assert_eq!(
            attachment_disposition("evil\r\nSet-Cookie: x=y.txt"),
            "attachment; filename=\"evil Set-Cookie: x=y.txt\"; filename*=UTF-8''evil%20Set-Cookie%3A%20x%3Dy.txt"
        );
        assert_eq!(
            attachment_disposition(""),
            "attachment; filename=\"download\"; filename*=UTF-8''download"
        );
    }

    /// Strings drawn from a mix of hostile and ordinary characters.
    fn generated(count: usize) -> Vec<String> {
        const POOL: &[char] = &[
            'a',
            'Z',
            '0',
            ' ',
            '.',
            '/',
            '\\',
            '"',
            '\'',
            '%',
            ';',
            '=',
            ',',
            ':',
            '*',
            '?',
            '<',
            '>',
            '|',
            '\0',
            '\t',
            '\n',
            '\r',
            '\u{7}',
            '\u{1B}',
            '\u{7F}',
            '\u{85}',
            '\u{9F}',
            '\u{A0}',
            '\u{AD}',
            '\u{202E}',
            '\u{2066}',
            '\u{200B}',
            '\u{200D}',
            '\u{FEFF}',
            '\u{2028}',
            '\u{3000}',
            'é',
            'ß',
            '東',
            '😀',
            '\u{1F3F4}',
            '\u{E0067}',
            '\u{FFFD}',
            '\u{10FFFF}',
        ];
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..count)
            .map(|_| {
                let len = usize::try_from(next() % 300).unwrap();
                (0..len)
                    .map(|_| POOL[usize::try_from(next() % POOL.len() as u64).unwrap()])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn cleaned_names_keep_their_promises() {
        for raw in generated(5000) {
            let cleaned = clean(&raw);
            assert!(!cleaned.is_empty(), "{raw:?}");
            assert!(cleaned.chars().count() <= MAX_NAME_CHARS, "{raw:?}");
            assert!(!cleaned.contains(['/', '\\']), "{raw:?}");
            assert!(
                !cleaned.chars().any(|c| c.is_control() || invisible(c)),
                "{raw:?}"
            );
            assert!(
                !cleaned.starts_with(['.', ' ']) && !cleaned.ends_with(['.', ' ']),
                "{raw:?}"
            );
            assert!(!cleaned.contains("  "), "{raw:?}");
            assert!(
                !cleaned.chars().any(|c| c.is_whitespace() && c != ' '),
                "{raw:?}"
            );
            assert_eq!(clean(&cleaned), cleaned, "idempotent: {raw:?}");
        }
    }

    #[test]
    fn disposition_is_always_printable_ascii_and_decodes_to_the_clean_name() {
        for raw in generated(5000) {
            let value = attachment_disposition(&raw);
            assert!(
                value.bytes().all(|b| (b' '..=b'~').contains(&b)),
                "{raw:?} -> {value:?}"
            );
            let (fallback, extended) = value
                .strip_prefix("attachment; filename=\"")
                .and_then(|v| v.split_once("\"; filename*=UTF-8''"))
                .unwrap();
            assert!(!fallback.contains(['"', '\\', '%']), "{value}");
            assert!(!extended.contains(['"', ' ', ';', '\'']), "{value}");
            let decoded = percent_decode_str(extended).decode_utf8().unwrap();
            assert_eq!(decoded, clean_file_name(&raw, "download"));
            assert_eq!(fallback.chars().count(), decoded.chars().count());
        }
    }
}
