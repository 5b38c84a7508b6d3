//! STUB (replaced by branch `files`).
#![allow(missing_docs)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    Pdf,
    Png,
    Text,
}
impl FileType {
    pub const ALL: &[FileType] = &[Self::Pdf, Self::Png, Self::Text];
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Text => "text/plain; charset=utf-8",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Pdf => "PDF",
            Self::Png => "PNG image",
            Self::Text => "Text",
        }
    }
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Pdf => &["pdf"],
            Self::Png => &["png"],
            Self::Text => &["txt"],
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pdf" => Some(Self::Pdf),
            "png" => Some(Self::Png),
            "text" => Some(Self::Text),
            _ => None,
        }
    }
}
pub const SNIFF_LEN: usize = 8192;
pub fn sniff(prefix: &[u8], _complete: bool) -> Option<FileType> {
    if prefix.starts_with(b"%PDF-") {
        Some(FileType::Pdf)
    } else if prefix.starts_with(b"\x89PNG") {
        Some(FileType::Png)
    } else if !prefix.is_empty() && std::str::from_utf8(prefix).is_ok() {
        Some(FileType::Text)
    } else {
        None
    }
}
pub fn accepts(accepted: &[FileType], found: FileType) -> bool {
    accepted.is_empty() || accepted.contains(&found)
}
pub fn clean_file_name(raw: &str, fallback: &str) -> String {
    let s: String = raw
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if s.trim().is_empty() {
        fallback.to_owned()
    } else {
        s.trim().to_owned()
    }
}
pub fn attachment_disposition(name: &str) -> String {
    format!(
        "attachment; filename=\"{}\"",
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            })
            .collect::<String>()
    )
}
