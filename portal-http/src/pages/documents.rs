//! Requested documents as the client sees them, on a document upload task's page and
//! on the Documents tab: what is asked for (accepted types, size limit), where it
//! stands (the four statuses, with the reviewer's notes), the files uploaded for it,
//! and whether a new file can be uploaded now.

use portal_core::files::{FileType, accept_attribute};
use portal_core::model::{Task, TaskKind};
use portal_core::scan::UnscannablePolicy;
use portal_core::wording;
use portal_core::workflow::documents::{DocumentRow, may_upload};
use portal_core::workflow::{DocumentFile, DocumentStatus, FileReview};

use super::task::when_in;
use portal_core::i18n::{Language, Texts};

/// One uploaded version as shown.
#[derive(Debug, Clone)]
pub struct FileView {
    /// The file's (cleaned) name.
    pub name: String,
    /// Its size in words ("1.5 MB").
    pub size: String,
    /// When it was uploaded, with the zone named.
    pub uploaded_at: String,
    /// Its version number (1 for the first upload).
    pub version: u32,
    /// The download link, when the file may be downloaded (its scan admits it).
    pub download_href: Option<String>,
    /// What became of it, in a few words ("Waiting for review", "Replaced before review").
    pub state: String,
}

/// One requested document as shown.
#[derive(Debug, Clone)]
pub struct DocumentView {
    /// Its element id, `doc-{position in the task}` (document ids are free text, so
    /// they never go into an id attribute).
    pub anchor: String,
    /// The id of its file input.
    pub input_id: String,
    /// What is asked for.
    pub name: String,
    /// The MSP's note on what is wanted.
    pub note: Option<String>,
    /// Accepted kinds of file, in words: "PDF, Word document".
    pub accepts: String,
    /// The file input's `accept` attribute, a hint for the file picker (empty: none,
    /// every known kind is accepted).
    pub accept_attr: String,
    /// The size limit in words.
    pub limit: String,
    /// The size limit in bytes (the upload script checks it before sending).
    pub limit_bytes: u64,
    /// Status CSS slug.
    pub status_slug: &'static str,
    /// "Requested", "Uploaded", "Approved", "Rejected".
    pub status_label: String,
    /// What the status means ("Needs to be re-uploaded").
    pub meaning: String,
    /// Notes on the latest version: `(whose, text)`.
    pub notes: Option<(String, String)>,
    /// The latest version.
    pub current: Option<FileView>,
    /// Earlier versions, newest first.
    pub earlier: Vec<FileView>,
    /// Where the upload form posts, when the client may upload now.
    pub upload_action: Option<String>,
    /// Whether it still needs a file (requested, or rejected): where files dropped on
    /// the whole task go, in order.
    pub waiting: bool,
    /// Why the last upload for it was refused.
    pub error: Option<String>,
    /// Its task's title.
    pub task_title: String,
    /// Its place on its task's page.
    pub task_href: String,
}

/// A path segment with everything but unreserved characters percent-encoded
/// (document ids are free text).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The text of a percent-encoded path segment, or `None` if it is not valid UTF-8 or
/// has a broken escape.
pub fn decode_segment(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The kinds of file a request accepts, in words. A request naming none takes every
/// kind the portal recognises: listing all seventeen would bury the page, so they are
/// summed up in one line that names them all by family.
fn accepted_words(accept: &[FileType], language: Language) -> String {
    if accept.is_empty() {
        return portal_core::i18n::text(language, "file-type-any");
    }
    accept
        .iter()
        .map(|t| t.label_in(language))
        .collect::<Vec<_>>()
        .join(", ")
}

fn file_state(file: &DocumentFile, policy: UnscannablePolicy, language: Language) -> String {
    let state = match &file.review {
        FileReview::Pending if file.admitted(policy) => "pending",
        FileReview::Pending => "held",
        FileReview::Approved { .. } => "approved",
        FileReview::Rejected { .. } => "rejected",
        FileReview::Superseded { .. } => "superseded",
        FileReview::Quarantined => "quarantined",
    };
    portal_core::i18n::message(language, "file-state", &[("state", state.into())])
}

fn file_view(
    file: &DocumentFile,
    policy: UnscannablePolicy,
    prefix: &str,
    zone: portal_core::model::TimeZone,
    language: Language,
) -> FileView {
    FileView {
        name: file.name.clone(),
        size: wording::bytes_in(file.size, language),
        uploaded_at: when_in(file.uploaded_at, zone, language),
        version: file.version,
        download_href: file
            .admitted(policy)
            .then(|| format!("{prefix}/tasks/{}/files/{}", file.task_id, file.id)),
        state: file_state(file, policy, language),
    }
}

/// A file the MSP shared on a task, as the client sees it: what it is, and the links
/// to open it (inline for a PDF, served with its sniffed type and `nosniff` under a
/// `default-src 'none'` CSP) and to download it.
#[derive(Debug, Clone)]
pub struct SharedView {
    /// The (cleaned) file name.
    pub name: String,
    /// What kind of file it is ("PDF").
    pub kind: String,
    /// Its size in words.
    pub size: String,
    /// When it was shared, in the contact's zone (named).
    pub added_at: String,
    /// The task it belongs to.
    pub task_title: String,
    /// The task's page.
    pub task_href: String,
    /// Opens it (inline where the browser can show it, else a download).
    pub open_href: String,
    /// Downloads it.
    pub download_href: String,
    /// Whether this contact opened it.
    pub opened: bool,
}

/// Whether the browser is given the file inline ("Open"): a PDF, which the browser's
/// own viewer shows under the document's `default-src 'none'` CSP; everything else
/// is a download (an image document would need `img-src` for itself, and office
/// files have no viewer in the browser).
pub const fn opens_inline(t: FileType) -> bool {
    matches!(t, FileType::Pdf)
}

/// A shared file's view.
pub fn shared_view(
    a: &portal_core::attachments::TaskAttachment,
    opened: bool,
    task: &Task,
    prefix: &str,
    zone: portal_core::model::TimeZone,
    language: Language,
) -> SharedView {
    let base = format!("{prefix}/tasks/{}/shared/{}", a.task_id, a.id);
    SharedView {
        name: a.name.clone(),
        kind: a.file_type.label_in(language),
        size: wording::bytes_in(a.size, language),
        added_at: when_in(a.added_at, zone, language),
        task_title: task.title.clone(),
        task_href: format!("{prefix}/tasks/{}", task.id),
        open_href: base.clone(),
        download_href: format!("{base}?download=1"),
        opened,
    }
}

/// The class of a status: `requested`, `uploaded`, `approved`, `rejected`.
pub fn status_slug(status: DocumentStatus) -> &'static str {
    match status {
        DocumentStatus::Requested => "requested",
        DocumentStatus::Uploaded => "uploaded",
        DocumentStatus::Approved => "approved",
        DocumentStatus::Rejected => "rejected",
    }
}

/// Everything [`document_view`] needs besides the row.
pub struct ViewContext<'a> {
    /// The mount prefix.
    pub prefix: &'a str,
    /// Which files may be downloaded.
    pub policy: UnscannablePolicy,
    /// The refused upload: `(document id, message)`.
    pub error: Option<(&'a str, &'a str)>,
    /// The contact's zone, for upload times.
    pub zone: portal_core::model::TimeZone,
    /// The page's language.
    pub language: Language,
}

/// A requested document of `task` (the row's task) as shown.
pub fn document_view(row: &DocumentRow, task: &Task, cx: &ViewContext<'_>) -> DocumentView {
    let position = match &task.kind {
        TaskKind::DocumentUpload { documents } => documents
            .iter()
            .position(|d| d.id == row.requested.id)
            .unwrap_or_default(),
        _ => 0,
    };
    let anchor = format!("doc-{position}");
    let t = Texts::new(cx.language);
    let notes = row.notes.clone().map(|text| {
        let whose = match row.current.as_ref().map(|f| &f.review) {
            Some(FileReview::Rejected { by, .. } | FileReview::Approved { by, .. }) => {
                t.text_with("notes-from", &[("name", by.name().into())])
            }
            Some(FileReview::Quarantined) => t.text("notes-from-scan"),
            _ => t.text("notes"),
        };
        (whose, text)
    });
    let mut earlier: Vec<FileView> = row
        .versions
        .iter()
        .filter(|f| row.current.as_ref().is_none_or(|c| c.id != f.id))
        .map(|f| file_view(f, cx.policy, cx.prefix, cx.zone, cx.language))
        .collect();
    earlier.reverse();
    let base = format!("{}/tasks/{}", cx.prefix, task.id);
    let may = may_upload(task, &row.requested.id).is_ok();
    DocumentView {
        input_id: format!("file-{position}"),
        name: row.requested.name.clone(),
        note: row.requested.note.clone(),
        accepts: accepted_words(&row.requested.accept, cx.language),
        accept_attr: accept_attribute(&row.requested.accept),
        limit: wording::bytes_in(row.requested.limit(), cx.language),
        limit_bytes: row.requested.limit(),
        status_slug: status_slug(row.status),
        status_label: row.status.label_in(cx.language),
        meaning: row.status.meaning_in(cx.language),
        notes,
        current: row
            .current
            .as_ref()
            .map(|f| file_view(f, cx.policy, cx.prefix, cx.zone, cx.language)),
        earlier,
        upload_action: may
            .then(|| format!("{base}/documents/{}", encode_segment(&row.requested.id))),
        waiting: may
            && matches!(
                row.status,
                DocumentStatus::Requested | DocumentStatus::Rejected
            ),
        error: cx
            .error
            .filter(|(id, _)| *id == row.requested.id)
            .map(|(_, message)| message.to_owned()),
        task_title: task.title.clone(),
        task_href: format!("{base}#{anchor}"),
        anchor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_through_percent_encoding() {
        for id in ["diagram", "ISP contract/2026 ü", "a%b", "../x"] {
            let enc = encode_segment(id);
            assert!(!enc.contains('/'), "{enc}");
            assert_eq!(decode_segment(&enc).as_deref(), Some(id));
        }
        assert_eq!(decode_segment("%zz"), None);
        assert_eq!(decode_segment("%4"), None);
        assert_eq!(decode_segment("%ff"), None, "not UTF-8");
    }

    #[test]
    fn any_kind_names_every_family_the_portal_recognises() {
        // If a kind is added, this summary must learn it.
        assert_eq!(FileType::ALL.len(), 17);
        assert_eq!(
            accepted_words(&[FileType::Pdf, FileType::Docx], Language::En),
            "PDF, Word document"
        );
        assert_eq!(
            accepted_words(&[FileType::Pdf, FileType::Docx], Language::Es),
            "PDF, documento de Word"
        );
    }
}
