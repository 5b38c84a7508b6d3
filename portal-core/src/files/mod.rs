//! Uploaded files: what they are, whether a request takes them, and what they are called.
//!
//! Pure functions, no I/O, for the upload workflow to call:
//!
//! - [`sniff`] tells a file's [`FileType`] from its first [`SNIFF_LEN`] bytes. The name
//!   the browser sent is never consulted: a client (or whoever took over a client's
//!   mailbox) chooses the name, the bytes are what MSP staff will open.
//! - [`accepts`] says whether what was found satisfies what the MSP asked for.
//! - [`clean_file_name`] makes the browser's file name safe to show and to keep;
//!   [`name_for_type`] also makes its extension agree with the sniffed type, so that a
//!   double-click on the download opens the program for what the content really is.
//! - [`attachment_disposition`] builds the `Content-Disposition` header of a download.
//!
//! Web content is never a [`FileType`]: HTML, SVG and XML that carries either are refused
//! by [`sniff`] (see [`looks_like_markup`]), so nothing uploaded can become a page that a
//! browser renders. Office files that can carry macros are refused too (see [`sniff`]).

mod name;
mod sniff;

pub use name::{MAX_NAME_CHARS, attachment_disposition, clean_file_name, name_for_type};
pub use sniff::{looks_like_markup, sniff};

/// How many leading bytes [`sniff`] wants to see.
///
/// Callers buffer at least this much before deciding (or the whole file, if it is
/// shorter). 64 KiB because Word, Excel and PowerPoint files are ZIP archives whose type
/// shows only in the names of their entries, and a thumbnail or a long first part can push
/// those names past the first few kilobytes; it is also one plaintext chunk of
/// [`crate::blob::envelope`], so the first chunk is exactly what sniffing needs.
pub const SNIFF_LEN: usize = 64 * 1024;

/// A kind of file an MSP can ask for, recognised by content (magic bytes), never by name.
///
/// The snake_case name ([`FileType::name`], the serde form) is what stores keep, so
/// variants are only ever added, never renamed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    /// PDF document (`%PDF-` at the start).
    Pdf,
    /// PNG image.
    Png,
    /// JPEG image (photos, scans).
    Jpeg,
    /// GIF image.
    Gif,
    /// WebP image.
    Webp,
    /// HEIC/HEIF image: what iPhones take photos in.
    Heic,
    /// TIFF image (scanners, faxes; also DNG camera files, which are TIFF).
    Tiff,
    /// Word document (Office Open XML); not macro-enabled (`.docm` is refused).
    Docx,
    /// Excel workbook (Office Open XML); not macro-enabled (`.xlsm`, `.xlsb` are refused).
    Xlsx,
    /// PowerPoint presentation (Office Open XML); not macro-enabled (`.pptm` is refused).
    Pptx,
    /// Office 97–2003 file or Outlook message: an OLE2 compound file (`.doc`, `.xls`,
    /// `.ppt`, `.msg`). One type, because they share one container whose kind is stored
    /// wherever the file's directory happens to be, usually not in the first bytes.
    /// Password-protected Word, Excel and PowerPoint files of any age are also OLE2.
    Doc,
    /// OpenDocument text (LibreOffice Writer).
    Odt,
    /// OpenDocument spreadsheet (LibreOffice Calc).
    Ods,
    /// OpenDocument presentation (LibreOffice Impress).
    Odp,
    /// ZIP archive that is not one of the Office or OpenDocument types above.
    Zip,
    /// 7-Zip archive.
    SevenZip,
    /// UTF-8 text: `.txt`, `.csv`, logs, configuration files, non-web XML. CSV is not a
    /// type of its own because content cannot tell CSV from other text.
    Text,
}

impl FileType {
    /// Every type, in declaration order: for pickers and exhaustive tests.
    pub const ALL: &[FileType] = &[
        FileType::Pdf,
        FileType::Png,
        FileType::Jpeg,
        FileType::Gif,
        FileType::Webp,
        FileType::Heic,
        FileType::Tiff,
        FileType::Docx,
        FileType::Xlsx,
        FileType::Pptx,
        FileType::Doc,
        FileType::Odt,
        FileType::Ods,
        FileType::Odp,
        FileType::Zip,
        FileType::SevenZip,
        FileType::Text,
    ];

    /// The snake_case name, the same as the serde form: what stores and forms carry.
    pub const fn name(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Png => "png",
            FileType::Jpeg => "jpeg",
            FileType::Gif => "gif",
            FileType::Webp => "webp",
            FileType::Heic => "heic",
            FileType::Tiff => "tiff",
            FileType::Docx => "docx",
            FileType::Xlsx => "xlsx",
            FileType::Pptx => "pptx",
            FileType::Doc => "doc",
            FileType::Odt => "odt",
            FileType::Ods => "ods",
            FileType::Odp => "odp",
            FileType::Zip => "zip",
            FileType::SevenZip => "seven_zip",
            FileType::Text => "text",
        }
    }

    /// The type with the snake_case name `s` (see [`FileType::name`]); `None` for
    /// anything else, including other spellings, so a form cannot smuggle in a variant.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.name() == s)
    }

    /// The media type to label the content with (`Content-Type` without parameters).
    ///
    /// [`FileType::Doc`] is `application/x-ole-storage` because it stands for several
    /// Office formats; the download's file name picks the program.
    pub const fn media_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Gif => "image/gif",
            FileType::Webp => "image/webp",
            FileType::Heic => "image/heic",
            FileType::Tiff => "image/tiff",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileType::Doc => "application/x-ole-storage",
            FileType::Odt => "application/vnd.oasis.opendocument.text",
            FileType::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            FileType::Odp => "application/vnd.oasis.opendocument.presentation",
            FileType::Zip => "application/zip",
            FileType::SevenZip => "application/x-7z-compressed",
            FileType::Text => "text/plain",
        }
    }

    /// The full `Content-Type` header value for serving the content: the media type, with
    /// `charset=utf-8` for text, because [`sniff`] only calls UTF-8 content text and a
    /// browser left to guess the charset may guess wrong.
    pub const fn content_type(self) -> &'static str {
        match self {
            FileType::Text => "text/plain; charset=utf-8",
            other => other.media_type(),
        }
    }

    /// What clients read on the page ("Accepted: PDF, Word document").
    pub const fn label(self) -> &'static str {
        match self {
            FileType::Pdf => "PDF",
            FileType::Png => "PNG image",
            FileType::Jpeg => "JPEG image",
            FileType::Gif => "GIF image",
            FileType::Webp => "WebP image",
            FileType::Heic => "HEIC photo",
            FileType::Tiff => "TIFF image",
            FileType::Docx => "Word document",
            FileType::Xlsx => "Excel spreadsheet",
            FileType::Pptx => "PowerPoint presentation",
            FileType::Doc => "Office 97-2003 file or Outlook message",
            FileType::Odt => "OpenDocument text",
            FileType::Ods => "OpenDocument spreadsheet",
            FileType::Odp => "OpenDocument presentation",
            FileType::Zip => "ZIP archive",
            FileType::SevenZip => "7-Zip archive",
            FileType::Text => "Text file (TXT, CSV, log)",
        }
    }

    /// [`Self::label`] in `language`, from the message catalog.
    pub fn label_in(self, language: crate::i18n::Language) -> String {
        crate::i18n::message(
            language,
            "file-type",
            &[("type", format!("{self:?}").into())],
        )
    }

    /// File name extensions (lower case, no dot), the usual one first.
    ///
    /// For `<input accept>` hints, and the extensions [`name_for_type`] lets a download
    /// keep: each is one whose usual program opens this content harmlessly. That is why
    /// [`FileType::Text`] lists neither `xml`, `html`, `svg` (a browser opens those) nor
    /// `bat`, `ps1`, `reg` (Windows runs those), and [`FileType::Doc`] not `msi`.
    pub const fn extensions(self) -> &'static [&'static str] {
        match self {
            FileType::Pdf => &["pdf"],
            FileType::Png => &["png"],
            FileType::Jpeg => &["jpg", "jpeg"],
            FileType::Gif => &["gif"],
            FileType::Webp => &["webp"],
            FileType::Heic => &["heic", "heif"],
            FileType::Tiff => &["tif", "tiff"],
            FileType::Docx => &["docx"],
            FileType::Xlsx => &["xlsx"],
            FileType::Pptx => &["pptx"],
            FileType::Doc => &["doc", "xls", "ppt", "msg"],
            FileType::Odt => &["odt"],
            FileType::Ods => &["ods"],
            FileType::Odp => &["odp"],
            FileType::Zip => &["zip"],
            FileType::SevenZip => &["7z"],
            FileType::Text => &[
                "txt", "csv", "tsv", "log", "md", "json", "ini", "cfg", "conf", "yaml", "yml",
            ],
        }
    }

    /// The usual extension: the first of [`FileType::extensions`].
    pub const fn primary_extension(self) -> &'static str {
        match self.extensions() {
            [first, ..] => first,
            [] => "bin",
        }
    }

    /// A name for a file of this type whose sent name cleaned to nothing
    /// (`document.pdf`): the `fallback` for [`clean_file_name`].
    pub fn fallback_name(self) -> String {
        format!("document.{}", self.primary_extension())
    }

    /// Whether the content is a ZIP archive underneath (Office Open XML, OpenDocument),
    /// which is what lets it satisfy a request for [`FileType::Zip`].
    pub const fn is_zip_container(self) -> bool {
        matches!(
            self,
            FileType::Docx
                | FileType::Xlsx
                | FileType::Pptx
                | FileType::Odt
                | FileType::Ods
                | FileType::Odp
                | FileType::Zip
        )
    }
}

/// Whether content of type `found` satisfies a request accepting `accepted`.
///
/// An empty `accepted` takes any type [`sniff`] knows (content it does not know never
/// gets a `FileType`, so "any" never means "anything"). Otherwise `found` must be listed,
/// with one widening: a request for [`FileType::Zip`] also takes the ZIP-based types
/// (Word, Excel, PowerPoint, OpenDocument), because they are ZIP archives and an MSP
/// asking for "a ZIP" asks for a container, not for the absence of an Office file. The
/// reverse does not hold: a plain ZIP is not a Word document, so a request for
/// [`FileType::Docx`] refuses it.
pub fn accepts(accepted: &[FileType], found: FileType) -> bool {
    accepted.is_empty()
        || accepted
            .iter()
            .any(|&a| a == found || (a == FileType::Zip && found.is_zip_container()))
}

/// The `accept` attribute of an `<input type="file">` for a request accepting `accepted`:
/// `.pdf,.docx`, each extension once, in the order given; empty (no attribute needed) for
/// an empty `accepted`.
///
/// Only a hint to the browser's picker: the client can still choose any file, and what
/// decides is [`sniff`] and [`accepts`].
pub fn accept_attribute(accepted: &[FileType]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for ext in accepted.iter().flat_map(|t| t.extensions()) {
        if !seen.contains(ext) {
            seen.push(ext);
        }
    }
    seen.iter()
        .map(|ext| format!(".{ext}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_agree_with_serde() {
        for &t in FileType::ALL {
            assert_eq!(FileType::parse(t.name()), Some(t));
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.name())
            );
            let back: FileType = serde_json::from_str(&format!("\"{}\"", t.name())).unwrap();
            assert_eq!(back, t);
        }
        for bad in [
            "", "PDF", "Pdf", " pdf", "pdf ", "sevenzip", "7z", "csv", "svg", "html",
        ] {
            assert_eq!(FileType::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn all_lists_every_variant_once_in_order() {
        let mut sorted = FileType::ALL.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, FileType::ALL, "ALL is sorted and has no duplicates");
        // A match that fails to compile when a variant is added without updating ALL.
        for &t in FileType::ALL {
            match t {
                FileType::Pdf
                | FileType::Png
                | FileType::Jpeg
                | FileType::Gif
                | FileType::Webp
                | FileType::Heic
                | FileType::Tiff
                | FileType::Docx
                | FileType::Xlsx
                | FileType::Pptx
                | FileType::Doc
                | FileType::Odt
                | FileType::Ods
                | FileType::Odp
                | FileType::Zip
                | FileType::SevenZip
                | FileType::Text => {}
            }
        }
        assert_eq!(FileType::ALL.len(), 17);
    }

    #[test]
    fn extensions_are_lower_case_ascii_without_dots_and_unique_across_types() {
        let mut all = Vec::new();
        for &t in FileType::ALL {
            assert!(!t.extensions().is_empty());
            assert_eq!(t.primary_extension(), t.extensions()[0]);
            for ext in t.extensions() {
                assert!(
                    ext.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                    "{ext}"
                );
                all.push(*ext);
            }
        }
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "an extension belongs to one type");
        for dangerous in [
            "html", "htm", "svg", "xml", "xhtml", "hta", "js", "vbs", "bat", "cmd", "ps1", "reg",
            "exe", "msi", "scr", "lnk", "docm", "xlsm", "pptm", "xlsb", "rtf", "jar",
        ] {
            assert!(!all.contains(&dangerous), "{dangerous}");
        }
    }

    #[test]
    fn the_type_table() {
        let table: String = FileType::ALL
            .iter()
            .map(|t| {
                format!(
                    "{:<9} | {:<38} | {:<45} | {}\n",
                    t.name(),
                    t.label(),
                    t.extensions().join(" "),
                    t.content_type()
                )
            })
            .collect();
        insta::assert_snapshot!(table);
    }

    /// Pairs `(asked, found)` other than `asked == found` where the request is satisfied.
    const WIDENED: &[(FileType, FileType)] = &[
        (FileType::Zip, FileType::Docx),
        (FileType::Zip, FileType::Xlsx),
        (FileType::Zip, FileType::Pptx),
        (FileType::Zip, FileType::Odt),
        (FileType::Zip, FileType::Ods),
        (FileType::Zip, FileType::Odp),
    ];

    #[test]
    fn accepts_matrix() {
        for &asked in FileType::ALL {
            for &found in FileType::ALL {
                let expected = asked == found || WIDENED.contains(&(asked, found));
                assert_eq!(
                    accepts(&[asked], found),
                    expected,
                    "asked {asked:?}, found {found:?}"
                );
            }
        }
    }

    #[test]
    fn accepts_lists_and_the_empty_list() {
        for &found in FileType::ALL {
            assert!(accepts(&[], found), "empty list takes {found:?}");
            assert!(accepts(FileType::ALL, found));
        }
        let office = [FileType::Docx, FileType::Doc, FileType::Pdf];
        assert!(accepts(&office, FileType::Docx));
        assert!(accepts(&office, FileType::Doc));
        assert!(accepts(&office, FileType::Pdf));
        assert!(
            !accepts(&office, FileType::Zip),
            "a plain ZIP is no Word file"
        );
        assert!(!accepts(&office, FileType::Xlsx));
        assert!(!accepts(&office, FileType::Text));
        let archives = [FileType::Zip, FileType::SevenZip];
        assert!(accepts(&archives, FileType::Xlsx));
        assert!(!accepts(&archives, FileType::Doc), "OLE2 is no ZIP");
        assert!(!accepts(&[FileType::Text], FileType::Pdf));
        assert!(!accepts(&[FileType::Png], FileType::Jpeg));
    }

    #[test]
    fn accept_attribute_lists_extensions_once() {
        assert_eq!(accept_attribute(&[]), "");
        assert_eq!(
            accept_attribute(&[FileType::Pdf, FileType::Docx, FileType::Pdf]),
            ".pdf,.docx"
        );
        assert_eq!(
            accept_attribute(&[FileType::Jpeg, FileType::Heic]),
            ".jpg,.jpeg,.heic,.heif"
        );
    }

    #[test]
    fn sniff_len_covers_one_envelope_chunk() {
        assert_eq!(SNIFF_LEN, crate::blob::envelope::CHUNK);
    }
}
