//! Content sniffing: a file's type from its first bytes.
//!
//! Signatures are written out here rather than taken from a detection crate: the set of
//! types is small, and the one hard case, telling Word, Excel and PowerPoint apart inside
//! a ZIP, has to work for every producer's entry order and on a prefix. (`infer` 0.22
//! looks at fixed entry positions and calls a Word file that starts `[Content_Types].xml`,
//! `_rels/.rels`, `docProps/...` a plain ZIP.) References:
//!
//! - PDF: ISO 32000-1 §7.5.2 (`%PDF-`). PNG: RFC 2083 §3.1. JPEG: ITU T.81 Annex B (SOI
//!   `FF D8`, then a marker). GIF: GIF89a spec §17. WebP: RIFF container, Google's WebP
//!   container spec. TIFF: TIFF 6.0 §2 (and BigTIFF). HEIC: ISO/IEC 14496-12 `ftyp` box
//!   with the HEIF brands of ISO/IEC 23008-12 Annex B.
//! - OLE2: MS-CFB §2.2 (`D0 CF 11 E0 A1 B1 1A E1`). 7z: 7-Zip's 7zFormat.txt.
//! - ZIP: PKWARE APPNOTE.TXT §4.3.7 (local file header). Office Open XML: ECMA-376 Part 2
//!   (part names, macro parts). OpenDocument: ODF 1.2 Part 3 §3.3 (`mimetype` first,
//!   stored).
//! - Markup: WHATWG MIME Sniffing §7.1 (the patterns that make a browser render unknown
//!   content as HTML).

use super::FileType;

/// UTF-8 byte order mark, which text editors on Windows put at the start of text files.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// ZIP local file header signature (APPNOTE §4.3.7).
const ZIP_LOCAL: &[u8] = b"PK\x03\x04";
/// ZIP central directory header signature (APPNOTE §4.3.12): the entries are over.
const ZIP_CENTRAL: &[u8] = b"PK\x01\x02";
/// ZIP end of central directory signature (APPNOTE §4.3.16); alone, an empty archive.
const ZIP_END: &[u8] = b"PK\x05\x06";

/// What the content is, judged from its first bytes.
///
/// `prefix` is the first `min(SNIFF_LEN, size)` bytes ([`super::SNIFF_LEN`]) and
/// `complete` says whether `prefix` is the whole file. `None`: not a type the portal
/// takes, which includes:
///
/// - empty content (the caller refuses zero-byte files before asking);
/// - web content: HTML, SVG, and XML carrying XHTML, SVG or a stylesheet
///   ([`looks_like_markup`]), so no upload is ever something a browser would render;
/// - Office files that can carry macros, when the prefix shows it: a `vbaProject.bin`
///   part (`.docm`, `.xlsm`, `.pptm`) or a binary workbook (`.xlsb`). Those past the
///   prefix are not seen; [`super::name_for_type`] still names such a file `.docx`,
///   and Office refuses to open macro content under that name;
/// - text that is not UTF-8 (Latin-1, Windows-1252, UTF-16) or has NUL bytes or more
///   than one stray control character per hundred;
/// - everything else without a known signature (executables, audio, video, ...).
///
/// [`FileType::Text`] means: valid UTF-8 (a BOM is allowed; when `complete` is false, a
/// multi-byte character cut off by the end of the prefix is allowed), no NUL, and at most
/// one control character per hundred characters other than tab, line feed, carriage
/// return, form feed and ANSI colour escapes (`ESC [`, common in logs). Only the prefix is
/// judged: a text file with binary after the first [`super::SNIFF_LEN`] bytes is still
/// text here, which is harmless because it is served as `text/plain` under a text name.
pub fn sniff(prefix: &[u8], complete: bool) -> Option<FileType> {
    if prefix.is_empty() {
        return None;
    }
    if prefix.starts_with(ZIP_LOCAL) {
        return zip(prefix);
    }
    if prefix.starts_with(ZIP_END) {
        return Some(FileType::Zip);
    }
    if let Some(found) = binary(prefix) {
        return found;
    }
    if looks_like_markup(prefix) {
        return None;
    }
    is_text(prefix, complete).then_some(FileType::Text)
}

/// Fixed signatures at the start. `Some(None)`: a signature we recognise as something
/// we refuse (an ISO media file that is not HEIC), so no later rule may call it text.
fn binary(prefix: &[u8]) -> Option<Option<FileType>> {
    const SIGNATURES: &[(&[u8], FileType)] = &[
        (b"%PDF-", FileType::Pdf),
        (b"\x89PNG\r\n\x1A\n", FileType::Png),
        (b"\xFF\xD8\xFF", FileType::Jpeg),
        (b"GIF87a", FileType::Gif),
        (b"GIF89a", FileType::Gif),
        (b"II*\x00", FileType::Tiff),
        (b"MM\x00*", FileType::Tiff),
        (b"II+\x00", FileType::Tiff),
        (b"MM\x00+", FileType::Tiff),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", FileType::Doc),
        (b"7z\xBC\xAF\x27\x1C", FileType::SevenZip),
    ];
    if let Some(&(_, found)) = SIGNATURES.iter().find(|(sig, _)| prefix.starts_with(sig)) {
        return Some(Some(found));
    }
    if prefix.len() >= 12 && prefix.starts_with(b"RIFF") && &prefix[8..12] == b"WEBP" {
        return Some(Some(FileType::Webp));
    }
    if prefix.len() >= 12 && &prefix[4..8] == b"ftyp" {
        return Some(heif(prefix));
    }
    None
}

/// An ISO base media file (`ftyp` box first): HEIC if its major brand, or one of its
/// compatible brands under a generic HEIF major brand, is an HEVC-coded HEIF brand.
/// AVIF, MP4, QuickTime and the rest are not types we take.
fn heif(prefix: &[u8]) -> Option<FileType> {
    const HEVC: &[&[u8]] = &[
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
    ];
    const GENERIC: &[&[u8]] = &[b"mif1", b"msf1"];
    let major = prefix.get(8..12)?;
    if HEVC.contains(&major) {
        return Some(FileType::Heic);
    }
    if !GENERIC.contains(&major) {
        return None;
    }
    let size = usize::try_from(u32::from_be_bytes(prefix.get(0..4)?.try_into().ok()?)).ok()?;
    let brands = prefix.get(16..size.min(prefix.len()))?;
    brands
        .chunks_exact(4)
        .any(|brand| HEVC.contains(&brand))
        .then_some(FileType::Heic)
}

/// One local file header of a ZIP prefix.
struct Entry<'a> {
    name: &'a [u8],
    /// Compression method: 0 is stored (APPNOTE §4.4.5).
    method: u16,
    /// The entry's (compressed) data, when its size is in the header and it all lies
    /// within the prefix.
    data: Option<&'a [u8]>,
}

/// The local file headers of a ZIP prefix, in file order, as far as the prefix goes.
///
/// The central directory at the end is out of reach, so this walks the local headers:
/// over an entry's data when the header gives its size, and by searching for the next
/// header signature when the size comes after the data (general purpose bit 3, streaming
/// writers) or lives in a ZIP64 extra field. A search can be fooled by compressed bytes
/// that happen to spell a signature; the cost is a nonsense name, which matches nothing.
struct Entries<'a> {
    buf: &'a [u8],
    at: Option<usize>,
}

impl<'a> Entries<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, at: Some(0) }
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        Some(u16::from_le_bytes(
            self.buf.get(at..at.checked_add(2)?)?.try_into().ok()?,
        ))
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        Some(u32::from_le_bytes(
            self.buf.get(at..at.checked_add(4)?)?.try_into().ok()?,
        ))
    }

    fn read(&mut self, at: usize) -> Option<Entry<'a>> {
        let buf = self.buf;
        if !buf.get(at..)?.starts_with(ZIP_LOCAL) {
            return None;
        }
        let flags = self.u16_at(at + 6)?;
        let method = self.u16_at(at + 8)?;
        let compressed = self.u32_at(at + 18)?;
        let name_len = usize::from(self.u16_at(at + 26)?);
        let extra_len = usize::from(self.u16_at(at + 28)?);
        let name_start = at.checked_add(30)?;
        let name_end = name_start.checked_add(name_len)?;
        let name = buf.get(name_start..name_end)?;
        let data_start = name_end.checked_add(extra_len)?;
        let size_known = flags & 0x0008 == 0 && compressed != u32::MAX;
        let (data, next_from) = if size_known {
            let data_end = data_start.checked_add(usize::try_from(compressed).ok()?)?;
            (buf.get(data_start..data_end), data_end)
        } else {
            (None, data_start)
        };
        self.at = match buf.get(next_from..) {
            Some(rest) if rest.starts_with(ZIP_LOCAL) => Some(next_from),
            Some(rest) if rest.starts_with(ZIP_CENTRAL) || rest.starts_with(ZIP_END) => None,
            Some(rest) => find(rest, ZIP_LOCAL).map(|i| next_from + i),
            None => None,
        };
        Some(Entry { name, method, data })
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        let at = self.at.take()?;
        self.read(at)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn starts_with_ignore_case(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn ends_with_ignore_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// A ZIP archive: OpenDocument, Office Open XML, a macro-capable Office file (`None`), or
/// a plain ZIP.
///
/// OpenDocument puts a stored `mimetype` entry first, by rule. Office Open XML has no
/// fixed first entry (Word writes `[Content_Types].xml` first, LibreOffice `_rels/.rels`,
/// openpyxl `docProps/app.xml`, Google Docs `word/...`), so every entry in the prefix
/// counts: the first part under `word/`, `xl/` or `ppt/` says which application, provided
/// some entry shows the archive is an OPC package (`[Content_Types].xml`, a `.rels` part,
/// `docProps/`, or the main part itself); a ZIP that merely holds a folder called `word`
/// stays a ZIP. Part names compare case-insensitively, as OPC (ECMA-376 Part 2) says.
///
/// Whether the prefix is the whole file changes nothing: either way the walk goes as far
/// as the bytes, and an entry not seen is not known.
fn zip(prefix: &[u8]) -> Option<FileType> {
    const ODF: &[(&[u8], FileType)] = &[
        (b"application/vnd.oasis.opendocument.text", FileType::Odt),
        (
            b"application/vnd.oasis.opendocument.spreadsheet",
            FileType::Ods,
        ),
        (
            b"application/vnd.oasis.opendocument.presentation",
            FileType::Odp,
        ),
    ];
    const FOLDERS: &[(&[u8], FileType)] = &[
        (b"word/", FileType::Docx),
        (b"xl/", FileType::Xlsx),
        (b"ppt/", FileType::Pptx),
    ];
    const MAIN_PARTS: &[&[u8]] = &[
        b"word/document.xml",
        b"xl/workbook.xml",
        b"ppt/presentation.xml",
    ];

    let mut application = None;
    let mut package = false;
    for (index, entry) in Entries::new(prefix).enumerate() {
        let name = entry.name;
        if index == 0 && name == b"mimetype" && entry.method == 0 {
            // ODF: a stored first entry holding the media type, and nothing else decides.
            return match entry.data {
                Some(media) => ODF
                    .iter()
                    .find(|(m, _)| *m == media)
                    .map_or(Some(FileType::Zip), |&(_, t)| Some(t)),
                None => Some(FileType::Zip),
            };
        }
        if ends_with_ignore_case(name, b"vbaProject.bin")
            || name.eq_ignore_ascii_case(b"xl/workbook.bin")
        {
            return None;
        }
        if name.eq_ignore_ascii_case(b"[Content_Types].xml")
            || ends_with_ignore_case(name, b".rels")
            || starts_with_ignore_case(name, b"docProps/")
            || MAIN_PARTS.iter().any(|m| name.eq_ignore_ascii_case(m))
        {
            package = true;
        }
        if application.is_none() {
            application = FOLDERS
                .iter()
                .find(|(folder, _)| starts_with_ignore_case(name, folder))
                .map(|&(_, t)| t);
        }
    }
    match application {
        Some(t) if package => Some(t),
        _ => Some(FileType::Zip),
    }
}

/// Whether the content is web markup a browser would render: HTML, SVG, or XML that
/// carries XHTML, SVG or a stylesheet. [`sniff`] refuses such content, so that an
/// upload can never turn into a page (and script) on anyone's screen; this says why,
/// for a more helpful refusal.
///
/// Judged on the start, after a UTF-8 BOM and whitespace, as browsers sniff: content
/// that opens with one of the WHATWG HTML patterns (`<!DOCTYPE html`, `<html`, `<head`,
/// `<script`, `<iframe`, `<h1`, `<div`, `<font`, `<table`, `<a`, `<style`, `<title`, `<b`,
/// `<body`, `<br`, `<p`, `<!--`) or `<svg`; or content that opens with `<` and has
/// `<svg`, `<html`, `<script`, `<body`, `<iframe`, `<object`, `<embed`, `<!doctype html`,
/// `<?xml-stylesheet`, or the XHTML or SVG namespace within its first KiB. Text that
/// merely mentions a tag further in (a log line quoting `<script>`) is not markup: it is
/// served as `text/plain` with `nosniff` and named `.txt`, where nothing renders it.
pub fn looks_like_markup(prefix: &[u8]) -> bool {
    const AT_START: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<svg",
    ];
    const NEAR_START: &[&[u8]] = &[
        b"<svg",
        b"<html",
        b"<script",
        b"<body",
        b"<iframe",
        b"<object",
        b"<embed",
        b"<!doctype html",
        b"<?xml-stylesheet",
        b"www.w3.org/1999/xhtml",
        b"www.w3.org/2000/svg",
    ];
    const NEAR: usize = 1024;

    let body = prefix.strip_prefix(BOM).unwrap_or(prefix);
    let start = body
        .iter()
        .position(|b| !matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' '))
        .unwrap_or(body.len());
    let body = &body[start..];
    if !body.starts_with(b"<") {
        return false;
    }
    if body.starts_with(b"<!--") {
        return true;
    }
    let tag_ends = |after: usize| {
        body.get(after)
            .is_none_or(|b| matches!(b, b' ' | b'>' | b'/' | b'\t' | b'\n' | b'\x0C' | b'\r'))
    };
    if AT_START
        .iter()
        .any(|p| starts_with_ignore_case(body, p) && tag_ends(p.len()))
    {
        return true;
    }
    let near = body[..body.len().min(NEAR)].to_ascii_lowercase();
    NEAR_START.iter().any(|m| find(&near, m).is_some())
}

/// Whether the prefix is UTF-8 text (see [`sniff`] for the rule).
fn is_text(prefix: &[u8], complete: bool) -> bool {
    let body = prefix.strip_prefix(BOM).unwrap_or(prefix);
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        // `error_len() == None`: the input ended inside a character, which only the
        // cut of a prefix may do.
        Err(e) if !complete && e.error_len().is_none() => {
            match std::str::from_utf8(&body[..e.valid_up_to()]) {
                Ok(text) => text,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    if text.is_empty() {
        return false;
    }
    let mut chars = 0usize;
    let mut stray = 0usize;
    let mut iter = text.chars().peekable();
    while let Some(c) = iter.next() {
        chars += 1;
        match c {
            '\0' => return false,
            '\t' | '\n' | '\r' | '\x0C' => {}
            '\x1B' if iter.peek() == Some(&'[') => {}
            c if c.is_control() => stray += 1,
            _ => {}
        }
    }
    stray.saturating_mul(100) <= chars
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::super::SNIFF_LEN;
    use super::*;

    /// The first `SNIFF_LEN` bytes and whether that is all, as the upload workflow calls.
    fn sniff_file(bytes: &[u8]) -> Option<FileType> {
        let n = bytes.len().min(SNIFF_LEN);
        sniff(&bytes[..n], n == bytes.len())
    }

    /// The classic 1×1 RGBA PNG: signature, IHDR, IDAT, IEND, with their CRCs.
    const PNG_1X1: &[u8] = b"\x89PNG\r\n\x1A\n\
        \x00\x00\x00\x0DIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1F\x15\xC4\x89\
        \x00\x00\x00\x0AIDAT\x78\x9C\x63\x00\x01\x00\x00\x05\x00\x01\x0D\x0A\x2D\xB4\
        \x00\x00\x00\x00IEND\xAE\x42\x60\x82";

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
          2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
            .to_vec()
    }

    /// SOI, a JFIF APP0 segment, then the start of a quantisation table.
    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\
        \xFF\xDB\x00\x43\x00";
    /// A complete 1×1 GIF89a.
    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xFF\xFF\xFF\x00\x00\x00\
        !\xF9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    /// RIFF header of a lossy WebP and the start of its VP8 chunk.
    const WEBP: &[u8] = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00\x30\x01\x00\x9D\x01\x2A";
    /// Little-endian TIFF: header, then the first IFD at offset 8 with no entries.
    const TIFF_LE: &[u8] = b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    const TIFF_BE: &[u8] = b"MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00";
    /// 7z signature header: signature, version 0.4, start-header CRC and fields.
    const SEVEN_ZIP: &[u8] = b"7z\xBC\xAF\x27\x1C\x00\x04\x8D\x9B\xD5\x0F\x00\x00\x00\x00";

    /// An `ftyp` box: size, `ftyp`, major brand, minor version, compatible brands.
    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut b = u32::try_from(size).unwrap().to_be_bytes().to_vec();
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(major);
        b.extend_from_slice(&[0, 0, 0, 0]);
        for c in compatible {
            b.extend_from_slice(*c);
        }
        // The next box (`meta`), so the brands are not the end of the file.
        b.extend_from_slice(b"\x00\x00\x00\x22meta\x00\x00\x00\x00");
        b
    }

    /// An OLE2 compound file header (MS-CFB §2.2): signature, CLSID 0, minor version
    /// 0x3E, major version 3, little-endian byte order mark, sector shift 9 (512-byte
    /// sectors), mini sector shift 6, then the sector tables, padded to one sector.
    fn ole2() -> Vec<u8> {
        let mut b = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&[0x3E, 0x00, 0x03, 0x00, 0xFE, 0xFF, 0x09, 0x00, 0x06, 0x00]);
        b.extend_from_slice(&[0; 6]);
        b.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&0x1000u32.to_le_bytes());
        b.extend_from_slice(&[0xFE, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF]);
        b.extend_from_slice(&[0, 0, 0, 0]);
        // DIFAT: the one FAT sector is sector 0; the other 108 slots are free.
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.resize(512, 0xFF);
        b
    }

    #[derive(Clone, Copy)]
    enum Writer {
        /// Seekable: sizes in the local headers.
        Seekable,
        /// Streaming: sizes in data descriptors after the data (general purpose bit 3).
        Streaming,
    }

    /// A ZIP written by the `zip` crate with these entries, each deflated unless stored.
    fn zip_of(entries: &[(&str, Vec<u8>, bool)], writer: Writer) -> Vec<u8> {
        fn add<W: std::io::Write + std::io::Seek>(
            z: &mut zip::ZipWriter<W>,
            entries: &[(&str, Vec<u8>, bool)],
        ) {
            for (name, data, stored) in entries {
                let method = if *stored {
                    zip::CompressionMethod::Stored
                } else {
                    zip::CompressionMethod::Deflated
                };
                let options = zip::write::SimpleFileOptions::default().compression_method(method);
                z.start_file(*name, options).unwrap();
                z.write_all(data).unwrap();
            }
        }
        match writer {
            Writer::Seekable => {
                let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                add(&mut z, entries);
                z.finish().unwrap().into_inner()
            }
            Writer::Streaming => {
                let mut z = zip::ZipWriter::new_stream(Vec::new());
                add(&mut z, entries);
                z.finish().unwrap().into_inner()
            }
        }
    }

    fn xml(tag: &str, filler: usize) -> Vec<u8> {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<{tag}>{}</{tag}>",
            "<w:p><w:r><w:t>Quarterly numbers</w:t></w:r></w:p>".repeat(filler)
        )
        .into_bytes()
    }

    /// Bytes that deflate cannot shrink (a JPEG thumbnail, an embedded image).
    fn incompressible(len: usize) -> Vec<u8> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[0]
            })
            .collect()
    }

    fn entries(names: &[&'static str]) -> Vec<(&'static str, Vec<u8>, bool)> {
        names
            .iter()
            .map(|&n| (n, xml(n.rsplit('/').next().unwrap_or(n), 40), false))
            .collect()
    }

    const WORD_ORDER: &[&str] = &[
        "[Content_Types].xml",
        "_rels/.rels",
        "word/document.xml",
        "word/_rels/document.xml.rels",
        "word/styles.xml",
        "docProps/core.xml",
        "docProps/app.xml",
    ];
    const LIBREOFFICE_ORDER: &[&str] = &[
        "_rels/.rels",
        "docProps/core.xml",
        "docProps/app.xml",
        "word/_rels/document.xml.rels",
        "word/document.xml",
        "word/styles.xml",
        "[Content_Types].xml",
    ];
    const GOOGLE_ORDER: &[&str] = &[
        "word/numbering.xml",
        "word/settings.xml",
        "word/fontTable.xml",
        "word/styles.xml",
        "word/document.xml",
        "word/_rels/document.xml.rels",
        "_rels/.rels",
        "[Content_Types].xml",
    ];
    /// python-docx: content types, package rels, properties, then the document.
    const PYTHON_DOCX_ORDER: &[&str] = &[
        "[Content_Types].xml",
        "_rels/.rels",
        "docProps/core.xml",
        "docProps/app.xml",
        "word/document.xml",
        "word/_rels/document.xml.rels",
    ];
    const OPENPYXL_ORDER: &[&str] = &[
        "docProps/app.xml",
        "docProps/core.xml",
        "xl/theme/theme1.xml",
        "xl/worksheets/sheet1.xml",
        "xl/styles.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "_rels/.rels",
        "[Content_Types].xml",
    ];
    const EXCEL_ORDER: &[&str] = &[
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/worksheets/sheet1.xml",
        "xl/styles.xml",
        "docProps/core.xml",
    ];
    const POWERPOINT_ORDER: &[&str] = &[
        "[Content_Types].xml",
        "_rels/.rels",
        "ppt/presentation.xml",
        "ppt/slides/_rels/slide1.xml.rels",
        "ppt/slides/slide1.xml",
        "docProps/app.xml",
    ];

    #[test]
    fn images_and_pdf_by_their_signatures() {
        assert_eq!(sniff_file(&pdf()), Some(FileType::Pdf));
        assert_eq!(sniff_file(PNG_1X1), Some(FileType::Png));
        assert_eq!(sniff_file(JPEG), Some(FileType::Jpeg));
        assert_eq!(sniff_file(GIF), Some(FileType::Gif));
        assert_eq!(sniff_file(b"GIF87a\x01\x00\x01\x00"), Some(FileType::Gif));
        assert_eq!(sniff_file(WEBP), Some(FileType::Webp));
        assert_eq!(sniff_file(TIFF_LE), Some(FileType::Tiff));
        assert_eq!(sniff_file(TIFF_BE), Some(FileType::Tiff));
        assert_eq!(sniff_file(&ole2()), Some(FileType::Doc));
        assert_eq!(sniff_file(SEVEN_ZIP), Some(FileType::SevenZip));
    }

    #[test]
    fn a_signature_only_counts_at_the_start() {
        let mut late_pdf = b"\n".to_vec();
        late_pdf.extend_from_slice(&pdf());
        assert_eq!(
            sniff_file(&late_pdf),
            None,
            "not at the start, and not text either"
        );
        let mut junk_png = vec![0u8; 4];
        junk_png.extend_from_slice(PNG_1X1);
        assert_eq!(sniff_file(&junk_png), None);
        assert_eq!(
            sniff_file(b"RIFF\x24\x00\x00\x00WAVEfmt "),
            None,
            "RIFF audio"
        );
        assert_eq!(sniff_file(b"\xFF\xD8"), None, "SOI without a marker");
        assert_eq!(
            sniff_file(b"MZ\x90\x00\x03\x00\x00\x00"),
            None,
            "a Windows executable"
        );
        assert_eq!(
            sniff_file(b"\x7FELF\x02\x01\x01\x00"),
            None,
            "an ELF executable"
        );
    }

    #[test]
    fn heic_by_brand_and_other_iso_media_refused() {
        assert_eq!(
            sniff_file(&ftyp(b"heic", &[b"mif1", b"heic"])),
            Some(FileType::Heic)
        );
        assert_eq!(sniff_file(&ftyp(b"heix", &[b"mif1"])), Some(FileType::Heic));
        assert_eq!(
            sniff_file(&ftyp(b"mif1", &[b"mif1", b"heic"])),
            Some(FileType::Heic)
        );
        assert_eq!(
            sniff_file(&ftyp(b"msf1", &[b"msf1", b"hevc"])),
            Some(FileType::Heic)
        );
        assert_eq!(
            sniff_file(&ftyp(b"avif", &[b"mif1", b"avif"])),
            None,
            "AVIF"
        );
        assert_eq!(
            sniff_file(&ftyp(b"mif1", &[b"mif1", b"avif"])),
            None,
            "AVIF, generic"
        );
        assert_eq!(
            sniff_file(&ftyp(b"isom", &[b"isom", b"mp41"])),
            None,
            "MP4 video"
        );
        assert_eq!(sniff_file(&ftyp(b"qt  ", &[b"qt  "])), None, "QuickTime");
        // A box size that claims more than there is reads only what is there.
        let mut lying = ftyp(b"mif1", &[b"heic"]);
        lying[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(sniff_file(&lying), Some(FileType::Heic));
        lying[0..4].copy_from_slice(&3u32.to_be_bytes());
        assert_eq!(sniff_file(&lying), None, "no room for brands");
    }

    #[test]
    fn office_open_xml_in_every_producer_order() {
        let cases: &[(&str, &[&str], FileType)] = &[
            ("Word", WORD_ORDER, FileType::Docx),
            ("LibreOffice", LIBREOFFICE_ORDER, FileType::Docx),
            ("Google Docs", GOOGLE_ORDER, FileType::Docx),
            ("python-docx", PYTHON_DOCX_ORDER, FileType::Docx),
            ("openpyxl", OPENPYXL_ORDER, FileType::Xlsx),
            ("Excel", EXCEL_ORDER, FileType::Xlsx),
            ("PowerPoint", POWERPOINT_ORDER, FileType::Pptx),
        ];
        for &(producer, names, expected) in cases {
            for writer in [Writer::Seekable, Writer::Streaming] {
                let file = zip_of(&entries(names), writer);
                let streamed = file[6] & 0x08 != 0;
                assert_eq!(
                    streamed,
                    matches!(writer, Writer::Streaming),
                    "bit 3: sizes after data"
                );
                assert_eq!(sniff_file(&file), Some(expected), "{producer}");
                // Only the entries, as the prefix of a big file whose central directory
                // is far beyond it.
                let entries_end = find(&file, ZIP_CENTRAL).unwrap();
                assert_eq!(
                    sniff(&file[..entries_end], false),
                    Some(expected),
                    "{producer}"
                );
            }
        }
    }

    #[test]
    fn office_open_xml_stored_and_behind_a_thumbnail() {
        let mut with_thumbnail = vec![
            ("[Content_Types].xml", xml("Types", 2), false),
            ("_rels/.rels", xml("Relationships", 2), false),
            ("docProps/thumbnail.jpeg", incompressible(40_000), false),
        ];
        with_thumbnail.extend(entries(&["word/document.xml", "word/styles.xml"]));
        for writer in [Writer::Seekable, Writer::Streaming] {
            let file = zip_of(&with_thumbnail, writer);
            assert!(file.len() < SNIFF_LEN);
            assert_eq!(sniff_file(&file), Some(FileType::Docx));
        }
        let stored: Vec<_> = entries(EXCEL_ORDER)
            .into_iter()
            .map(|(n, d, _)| (n, d, true))
            .collect();
        assert_eq!(
            sniff_file(&zip_of(&stored, Writer::Seekable)),
            Some(FileType::Xlsx)
        );

        // The Word part beyond the prefix: all that is known is that it is a ZIP.
        let mut far = with_thumbnail.clone();
        far[2].1 = incompressible(SNIFF_LEN + 10);
        assert_eq!(
            sniff_file(&zip_of(&far, Writer::Seekable)),
            Some(FileType::Zip)
        );
    }

    #[test]
    fn macro_capable_office_files_are_refused() {
        let docm = [
            "[Content_Types].xml",
            "_rels/.rels",
            "word/_rels/document.xml.rels",
            "word/document.xml",
            "word/vbaProject.bin",
        ];
        let xlsm = [
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/vbaProject.bin",
        ];
        let pptm = [
            "[Content_Types].xml",
            "_rels/.rels",
            "ppt/presentation.xml",
            "ppt/VBAPROJECT.BIN",
        ];
        let xlsb = [
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.bin",
            "xl/styles.bin",
        ];
        for names in [&docm[..], &xlsm, &pptm, &xlsb] {
            for writer in [Writer::Seekable, Writer::Streaming] {
                assert_eq!(
                    sniff_file(&zip_of(&entries(names), writer)),
                    None,
                    "{names:?}"
                );
            }
        }
    }

    #[test]
    fn opendocument_by_its_mimetype_entry() {
        let odf = |media: &str| {
            zip_of(
                &[
                    ("mimetype", media.as_bytes().to_vec(), true),
                    ("content.xml", xml("office:document-content", 10), false),
                    ("META-INF/manifest.xml", xml("manifest:manifest", 1), false),
                ],
                Writer::Seekable,
            )
        };
        assert_eq!(
            sniff_file(&odf("application/vnd.oasis.opendocument.text")),
            Some(FileType::Odt)
        );
        assert_eq!(
            sniff_file(&odf("application/vnd.oasis.opendocument.spreadsheet")),
            Some(FileType::Ods)
        );
        assert_eq!(
            sniff_file(&odf("application/vnd.oasis.opendocument.presentation")),
            Some(FileType::Odp)
        );
        assert_eq!(
            sniff_file(&odf("application/epub+zip")),
            Some(FileType::Zip)
        );
        assert_eq!(
            sniff_file(&odf("application/vnd.oasis.opendocument.graphics")),
            Some(FileType::Zip)
        );
    }

    #[test]
    fn plain_zips_stay_zips() {
        let photos = zip_of(
            &[
                ("photos/rack.jpg", incompressible(3000), false),
                ("notes.txt", b"serial numbers".to_vec(), false),
            ],
            Writer::Seekable,
        );
        assert_eq!(sniff_file(&photos), Some(FileType::Zip));
        // A folder called `word` is not a Word file without an OPC sign.
        let folder = zip_of(
            &[
                ("word/notes.txt", b"hello".to_vec(), false),
                ("word/list.csv", b"a,b".to_vec(), false),
            ],
            Writer::Streaming,
        );
        assert_eq!(sniff_file(&folder), Some(FileType::Zip));
        assert_eq!(
            sniff_file(&zip_of(&[], Writer::Seekable)),
            Some(FileType::Zip),
            "empty"
        );
        assert_eq!(
            sniff_file(b"PK\x03\x04"),
            Some(FileType::Zip),
            "a header cut short"
        );
    }

    #[test]
    fn hostile_zip_headers_do_not_panic() {
        let mut base = zip_of(&entries(WORD_ORDER), Writer::Seekable);
        base.truncate(200);
        let mut rng = Lcg(7);
        for _ in 0..2000 {
            let mut b = base.clone();
            for _ in 0..(rng.next() % 8 + 1) {
                let i = usize::try_from(rng.next()).unwrap() % b.len();
                b[i] = u8::try_from(rng.next() & 0xFF).unwrap();
            }
            b.truncate(usize::try_from(rng.next()).unwrap() % (b.len() + 1));
            let _ = sniff(&b, rng.next().is_multiple_of(2));
        }
        // Sizes and lengths at their maxima.
        let mut max = b"PK\x03\x04".to_vec();
        max.extend_from_slice(&[0xFF; 26]);
        for complete in [true, false] {
            assert_eq!(sniff(&max, complete), Some(FileType::Zip));
        }
    }

    #[test]
    fn text_is_utf8_without_nul_and_with_few_controls() {
        let cases: &[&[u8]] = &[
            b"Serial numbers\nFW-01 1234\nSW-02 5678\n",
            b"name,email,phone\r\n\"Smith, Ann\",ann@example.com,+44 20 7946 0000\r\n",
            b"\xEF\xBB\xBFcolumn a;column b\r\n1;2\r\n",
            "Caf\u{e9} \u{2014} \u{1F600} \u{6771}\u{4eac} \u{0645}\u{0631}\u{062D}\u{0628}\u{0627}\n"
                .as_bytes(),
            b"\x1B[32mINFO\x1B[0m service started\n\x1B[31mERROR\x1B[0m disk full\n",
            b"page one\x0Cpage two\ttabbed",
            b"[general]\nhost = 10.0.0.1\n",
            b"<?xml version=\"1.0\"?>\n<pfsense><system><hostname>fw</hostname></system></pfsense>\n",
            b"{\"devices\": [\"fw-01\"]}",
            b"x",
        ];
        for &case in cases {
            assert_eq!(
                sniff_file(case),
                Some(FileType::Text),
                "{:?}",
                String::from_utf8_lossy(case)
            );
        }
    }

    #[test]
    fn not_text() {
        let cases: &[&[u8]] = &[
            b"caf\xE9 cr\xE8me",                  // Latin-1
            b"\x93quoted\x94 in Windows-1252",    // Windows-1252
            b"\xFF\xFEh\x00i\x00",                // UTF-16LE with BOM
            b"hello\x00world",                    // NUL
            b"\x01\x02\x03 a binary header \x04", // controls
            b"\xEF\xBB\xBF",                      // a BOM and nothing else
            b"\xC0\xAF",                          // overlong encoding of '/'
            b"\xED\xA0\x80",                      // a UTF-16 surrogate
        ];
        for &case in cases {
            assert_eq!(sniff_file(case), None, "{case:?}");
        }
        assert_eq!(sniff(b"", true), None, "empty");
        assert_eq!(sniff(b"", false), None, "empty");
        // One stray control per hundred characters is fine; two are not.
        let mut one = "a".repeat(99).into_bytes();
        one.push(0x07);
        assert_eq!(sniff_file(&one), Some(FileType::Text));
        one.push(0x07);
        assert_eq!(sniff_file(&one), None);
        // ESC without `[` is a stray control.
        assert_eq!(sniff_file(b"\x1Bx"), None);
    }

    #[test]
    fn a_character_cut_by_the_prefix_is_text_only_if_the_file_goes_on() {
        let text = "Z\u{fc}rich \u{1F600}".repeat(8000);
        let bytes = text.as_bytes();
        let mut cut = SNIFF_LEN;
        while text.is_char_boundary(cut) {
            cut -= 1;
        }
        assert_eq!(sniff(&bytes[..cut], false), Some(FileType::Text));
        assert_eq!(
            sniff(&bytes[..cut], true),
            None,
            "a file may not end inside a character"
        );
        assert_eq!(sniff(b"ok \xF0\x9F\x98", false), Some(FileType::Text));
        assert_eq!(sniff(b"ok \xF0\x9F\x98", true), None);
        assert_eq!(
            sniff(b"\xF0\x9F\x98", false),
            None,
            "nothing whole to judge"
        );
        assert_eq!(sniff(b"ok \xF0\x28", false), None, "invalid, not cut");
    }

    #[test]
    fn html_svg_and_web_xml_are_refused() {
        let cases: &[&str] = &[
            "<!DOCTYPE html><title>x</title>",
            "<!doctype HTML>\n<p>hi",
            "\u{feff}  \n\t<html lang=en>",
            "<HTML>",
            "<head><meta charset=utf-8>",
            "<script>alert(1)</script>",
            "<ScRiPt src=//evil.example/x.js></script>",
            "<iframe src=x>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
            "<svg/onload=alert(1)>",
            "<SVG>",
            "<?xml version=\"1.0\" standalone=\"no\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\">\n<svg width=\"1\"/>",
            "<?xml version=\"1.0\"?><root xmlns:h=\"http://www.w3.org/1999/xhtml\"><h:script>alert(1)</h:script></root>",
            "<?xml version=\"1.0\"?><?xml-stylesheet type=\"text/xsl\" href=\"x.xsl\"?><r/>",
            "<!-- saved from url=(0014)about:internet --><p>x",
            "<a href=\"javascript:alert(1)\">click</a>",
            "<b>bold</b>",
            "<p>",
            "<br>",
            "<div id=x>",
            "<table><tr><td>1</td></tr></table>",
            "<style>body{}</style>",
            "<body onload=alert(1)>",
            "<h1>Invoice</h1>",
            "<font color=red>",
            "<meta http-equiv=refresh content=0><script>x</script>",
            "<x><object data=x></object></x>",
        ];
        for case in cases {
            assert!(looks_like_markup(case.as_bytes()), "{case}");
            assert_eq!(sniff_file(case.as_bytes()), None, "{case}");
            assert_eq!(sniff(case.as_bytes(), false), None, "{case}, prefix");
        }
    }

    #[test]
    fn text_that_mentions_markup_is_text() {
        let cases: &[&str] = &[
            "2024-05-01 12:00 WAF blocked GET /?q=<script>alert(1)</script>\n",
            "Use <b> for bold and <svg> for vector images.\n",
            "<abbr>is not an HTML sniffing pattern</abbr>",
            "<pre-shared-key>hunter2</pre-shared-key>",
            "<brand>Contoso</brand>",
            "a < b and b > c\n",
        ];
        for case in cases {
            assert!(!looks_like_markup(case.as_bytes()), "{case}");
            assert_eq!(sniff_file(case.as_bytes()), Some(FileType::Text), "{case}");
        }
        // A tag further than the first KiB of markup is not looked for.
        let late = format!("<config>{}<script/></config>", " ".repeat(2000));
        assert_eq!(sniff_file(late.as_bytes()), Some(FileType::Text));
    }

    #[test]
    fn the_name_is_irrelevant() {
        // `sniff` takes no name: the same bytes are the same type whatever they are called,
        // and what they are called is made to agree afterwards.
        let file = pdf();
        assert_eq!(sniff_file(&file), Some(FileType::Pdf));
        assert_eq!(
            crate::files::name_for_type("invoice.exe", FileType::Pdf),
            "invoice.exe.pdf"
        );
        let html = b"<html><script>alert(1)</script></html>";
        assert_eq!(
            sniff_file(html),
            None,
            "whatever it is called, e.g. notes.txt"
        );
    }

    #[test]
    fn random_bytes_never_panic_and_are_rarely_anything() {
        let mut rng = Lcg(42);
        let mut known = 0;
        for len in 0..600 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| u8::try_from(rng.next() & 0xFF).unwrap())
                .collect();
            for complete in [true, false] {
                if sniff(&bytes, complete).is_some() {
                    known += 1;
                }
            }
        }
        // Only the shortest inputs can pass as text by chance.
        assert!(known < 20, "{known}");
    }

    /// A small deterministic generator for the property loops.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }
    }
}
