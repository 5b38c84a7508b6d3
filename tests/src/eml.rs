//! Reads the outbox's `.eml` files (and what a test SMTP server received) well enough
//! for tests: headers, the text and HTML parts, quoted-printable and base64 transfer
//! encodings.

use std::path::Path;

/// One parsed email.
#[derive(Debug, Clone)]
pub struct Eml {
    pub file: std::path::PathBuf,
    pub subject: String,
    pub to: String,
    pub text: String,
    /// The `text/html` part, if any.
    pub html: Option<String>,
    /// The header block, folded lines unfolded, LF line ends.
    pub head: String,
    pub raw: String,
}

impl Eml {
    /// The decoded body of the first part (an attachment too) whose content type
    /// starts with `content_type`.
    pub fn part(&self, content_type: &str) -> Option<String> {
        part(&self.raw, content_type)
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.head, name)
    }
}

/// All emails in `dir`, oldest first (by modification time, then name).
pub fn all(dir: &Path) -> Vec<Eml> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| (std::fs::metadata(&p).unwrap().modified().unwrap(), p))
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| parse(&p)).collect()
}

/// The newest email in `dir`.
pub fn newest(dir: &Path) -> Eml {
    all(dir).pop().expect("outbox is empty")
}

/// The newest email in `dir` carrying a verification code (a demo's reminder pass can
/// send other emails in the same instant, so "the newest" alone is not the code).
pub fn newest_with_code(dir: &Path) -> Eml {
    all(dir)
        .into_iter()
        .rev()
        .find(|e| portal_core::testkit::code_from_email(&e.text).is_some())
        .expect("no email in the outbox carries a verification code")
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Parses one `.eml` file.
pub fn parse(path: &Path) -> Eml {
    parse_str(path, &std::fs::read_to_string(path).unwrap())
}

/// Parses one message read from `path`.
pub fn parse_str(path: &Path, raw: &str) -> Eml {
    let raw = raw.replace("\r\n", "\n");
    let (head, _) = raw.split_once("\n\n").unwrap();
    // Unfold folded header lines.
    let head = head.replace("\n ", " ").replace("\n\t", " ");
    let subject = header(&head, "Subject").unwrap_or_default().to_owned();
    let to = header(&head, "To").unwrap_or_default().to_owned();
    let text = part(&raw, "text/plain").expect("no text/plain part");
    let html = part(&raw, "text/html");
    Eml {
        file: path.to_path_buf(),
        subject,
        to,
        text,
        html,
        head,
        raw,
    }
}

/// The decoded body of the first part whose content type is `content_type`.
fn part(raw: &str, content_type: &str) -> Option<String> {
    let wanted = format!("content-type: {content_type}");
    for part in raw.split("\n--") {
        let Some((head, body)) = part.split_once("\n\n") else {
            continue;
        };
        let head_l = head.to_ascii_lowercase();
        if !head_l.contains(&wanted) {
            continue;
        }
        let body = body.trim_end_matches(['\n', '-']);
        return Some(
            if head_l.contains("content-transfer-encoding: quoted-printable") {
                decode_qp(body)
            } else if head_l.contains("content-transfer-encoding: base64") {
                use base64_decode as b64;
                b64(body)
            } else {
                body.to_owned()
            },
        );
    }
    None
}

fn decode_qp(s: &str) -> String {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn base64_decode(s: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    String::from_utf8(out).unwrap()
}
