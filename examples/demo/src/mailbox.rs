//! The demo mailbox: `/mailbox` lists the emails the demo wrote to its outbox folder,
//! newest first, and shows each one decoded (MIME, quoted-printable, encoded headers)
//! with its links clickable, so whoever tries the demo reads the invite, the
//! verification code and the reminders in the browser instead of opening `.eml`
//! files.
//!
//! Demo only: the demo binary mounts it ([`Mailbox::mount`]); `portal-http` never
//! serves it. It shows live sign-in codes and links to whoever reaches the server,
//! which is fine for a demo listening on 127.0.0.1 and wrong anywhere else.
//!
//! The text part is shown, escaped, with its `http(s)` links turned into links. The
//! HTML part is served on its own address under a CSP `sandbox` (no scripts, no
//! requests), never inlined into the page.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use askama::Template;
use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use mail_parser::MessageParser;
use portal_http::{Body, HostPages, PortalApp, Reply};

/// Where the mailbox is mounted.
pub const PREFIX: &str = "/mailbox";
/// The newest emails listed (an outbox of a long demo run holds many).
pub const MAX_LISTED: usize = 200;
/// The largest `.eml` file read: the demo's emails are a few KiB.
const MAX_EML_BYTES: u64 = 1024 * 1024;

/// The mailbox over an outbox folder.
#[derive(Debug, Clone)]
pub struct Mailbox {
    dir: PathBuf,
}

/// One email in the list.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The file name (`<id>.eml`), the email's address under [`PREFIX`].
    pub file: String,
    /// Subject.
    pub subject: String,
    /// Recipients.
    pub to: String,
    /// When it was sent (the `Date` header, in UTC, the zone named).
    pub date: String,
}

/// A piece of an email's text: plain text, or a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text shown as it is (escaped).
    Text(String),
    /// An `http(s)` address, shown as a link to itself.
    Link(String),
}

/// One decoded email.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The file name.
    pub file: String,
    /// Subject.
    pub subject: String,
    /// Sender.
    pub from: String,
    /// Recipients.
    pub to: String,
    /// When it was sent.
    pub date: String,
    /// The text part (or, without one, the HTML part's text), split into pieces.
    pub body: Vec<Piece>,
    /// Whether it has an HTML part (linked, served apart).
    pub has_html: bool,
}

#[derive(Template)]
#[template(path = "mailbox/list.html")]
struct ListPage<'a> {
    emails: &'a [Listed],
    dir: String,
}

#[derive(Template)]
#[template(path = "mailbox/email.html")]
struct EmailPage<'a> {
    email: &'a Shown,
}

impl Mailbox {
    /// A mailbox over the outbox folder `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Mounts the mailbox on `app` under [`PREFIX`] (GET only: it has no forms).
    pub fn mount(self, app: PortalApp) -> PortalApp {
        app.with_host_pages(PREFIX, 0, Arc::new(self))
    }

    /// The outbox's emails, newest first (by the file's time, then name), at most
    /// [`MAX_LISTED`]; a file that cannot be read or parsed is left out.
    pub fn list(&self) -> Vec<Listed> {
        let mut files: Vec<(SystemTime, String)> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let time = e.metadata().ok()?.modified().ok()?;
                name.ends_with(".eml").then_some((time, name))
            })
            .collect();
        files.sort_by(|a, b| b.cmp(a));
        files
            .into_iter()
            .take(MAX_LISTED)
            .filter_map(|(_, file)| {
                let shown = self.read(&file)?;
                Some(Listed {
                    file: shown.file,
                    subject: shown.subject,
                    to: shown.to,
                    date: shown.date,
                })
            })
            .collect()
    }

    /// The email in `file`, decoded: only a plain `.eml` name of this folder (no path),
    /// so no address can reach another file.
    pub fn read(&self, file: &str) -> Option<Shown> {
        let raw = self.raw(file)?;
        let message = MessageParser::default().parse(&raw)?;
        let text = message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default();
        Some(Shown {
            file: file.to_owned(),
            subject: message.subject().unwrap_or("(no subject)").to_owned(),
            from: addresses(message.from()),
            to: addresses(message.to()),
            date: message
                .date()
                .map(|d| {
                    chrono::DateTime::from_timestamp(d.to_timestamp(), 0).map_or_else(
                        || d.to_rfc3339(),
                        |utc| utc.format("%a %-d %b %Y, %H:%M UTC").to_string(),
                    )
                })
                .unwrap_or_default(),
            body: pieces(&text),
            has_html: html_part(&message).is_some(),
        })
    }

    /// The HTML part of the email in `file`.
    pub fn html(&self, file: &str) -> Option<String> {
        let raw = self.raw(file)?;
        let message = MessageParser::default().parse(&raw)?;
        html_part(&message).map(str::to_owned)
    }

    fn raw(&self, file: &str) -> Option<Vec<u8>> {
        if !is_eml_name(file) {
            return None;
        }
        let path: &Path = &self.dir.join(file);
        let meta = std::fs::symlink_metadata(path).ok()?;
        if !meta.is_file() || meta.len() > MAX_EML_BYTES {
            return None;
        }
        std::fs::read(path).ok()
    }
}

/// The message's own HTML part (not a text part converted to HTML).
fn html_part<'a>(message: &'a mail_parser::Message<'_>) -> Option<&'a str> {
    message
        .html_part(0)
        .filter(|p| p.is_text_html())
        .and_then(|p| p.text_contents())
}

/// A bare `.eml` file name: letters, digits, `-` and `_` before the extension.
fn is_eml_name(file: &str) -> bool {
    file.strip_suffix(".eml").is_some_and(|stem| {
        !stem.is_empty()
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// `Name <address>, …` of an address header.
fn addresses(header: Option<&mail_parser::Address<'_>>) -> String {
    header
        .map(|a| {
            a.iter()
                .map(|m| match (m.name(), m.address()) {
                    (Some(n), Some(e)) => format!("{n} <{e}>"),
                    (None, Some(e)) => e.to_owned(),
                    (Some(n), None) => n.to_owned(),
                    (None, None) => String::new(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Splits `text` into plain pieces and `http(s)` links. A link ends at white space or
/// at a character that cannot end an address in running text (`<>"'`); trailing
/// punctuation (`.,;:!?)`) stays text.
pub fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = next_link(rest) {
        let (before, from) = rest.split_at(start);
        let len = from
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(from.len());
        let candidate = &from[..len];
        let link = candidate.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        if !before.is_empty() {
            out.push(Piece::Text(before.to_owned()));
        }
        if link.len() > "https://".len() {
            out.push(Piece::Link(link.to_owned()));
        } else {
            out.push(Piece::Text(link.to_owned()));
        }
        rest = &from[link.len()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_owned()));
    }
    out
}

/// Where the next `http://` or `https://` starts in `text`.
fn next_link(text: &str) -> Option<usize> {
    match (text.find("http://"), text.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The mailbox pages' CSP: the portal's stylesheet, nothing else.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                        form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
/// An email's HTML part: its inline styles and data images, no scripts, no requests,
/// in a sandbox (a unique origin: it can't reach the portal's cookies).
const HTML_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                        frame-ancestors 'none'; base-uri 'none'; form-action 'none'; \
                        sandbox allow-popups allow-popups-to-escape-sandbox \
                        allow-top-navigation-by-user-activation";

fn page(status: StatusCode, html: Result<String, askama::Error>) -> Response<Body> {
    match html {
        Ok(html) => Reply::html(status, html).finish(PAGE_CSP),
        Err(e) => {
            tracing::error!(error = %e, "mailbox page did not render");
            Reply::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown.",
            )
            .finish(PAGE_CSP)
        }
    }
}

fn not_found() -> Response<Body> {
    Reply::text(
        StatusCode::NOT_FOUND,
        "No such email in the demo's outbox. Back to the list: /mailbox",
    )
    .finish(PAGE_CSP)
}

#[async_trait]
impl HostPages for Mailbox {
    async fn handle(&self, request: Request<Bytes>, _remote: SocketAddr) -> Response<Body> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return Reply::text(StatusCode::METHOD_NOT_ALLOWED, "The mailbox is read-only.")
                .finish(PAGE_CSP);
        }
        let path = request
            .uri()
            .path()
            .strip_prefix(PREFIX)
            .unwrap_or_default()
            .trim_matches('/')
            .to_owned();
        let this = self.clone();
        // File reads and MIME decoding off the async workers.
        let answer = tokio::task::spawn_blocking(move || {
            match path.split('/').collect::<Vec<_>>().as_slice() {
                [""] => {
                    let emails = this.list();
                    page(
                        StatusCode::OK,
                        ListPage {
                            emails: &emails,
                            dir: this.dir.display().to_string(),
                        }
                        .render(),
                    )
                }
                [file] => match this.read(file) {
                    Some(email) => page(StatusCode::OK, EmailPage { email: &email }.render()),
                    None => not_found(),
                },
                [file, "html"] => match this.html(file) {
                    Some(html) => Reply::html(StatusCode::OK, html).finish(HTML_CSP),
                    None => not_found(),
                },
                _ => not_found(),
            }
        })
        .await;
        answer.unwrap_or_else(|e| {
            tracing::error!(error = %e, "mailbox request failed");
            Reply::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown.",
            )
            .finish(PAGE_CSP)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_in_running_text() {
        assert_eq!(
            pieces("Open http://localhost:8080/i/abc. Then go."),
            [
                Piece::Text("Open ".into()),
                Piece::Link("http://localhost:8080/i/abc".into()),
                Piece::Text(". Then go.".into()),
            ]
        );
        assert_eq!(
            pieces("(https://x.example/m?a=1&b=2)\nend"),
            [
                Piece::Text("(".into()),
                Piece::Link("https://x.example/m?a=1&b=2".into()),
                Piece::Text(")\nend".into()),
            ]
        );
        assert_eq!(pieces("no link"), [Piece::Text("no link".into())]);
        assert_eq!(
            pieces("bare https:// here")[1],
            Piece::Text("https://".into())
        );
        assert_eq!(pieces(""), []);
    }

    #[test]
    fn only_bare_eml_names_are_read() {
        assert!(is_eml_name("0192f0c4-7c2e-7d1a-9f3b-2a1c5e8d4b6f.eml"));
        for bad in [
            "../x.eml",
            "x.eml/",
            ".eml",
            "x.txt",
            "a b.eml",
            "x.eml.bak",
            "%2e.eml",
        ] {
            assert!(!is_eml_name(bad), "{bad}");
        }
    }
}
