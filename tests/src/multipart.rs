//! `multipart/form-data` bodies built by hand, as a browser's upload form sends them.

/// The boundary of every body built here.
pub const BOUNDARY: &str = "----portal-e2e-7MA4YWxkTrZu0gW";

/// One part of a body.
pub enum Part<'a> {
    /// A text field: name and value.
    Field(&'a str, &'a str),
    /// The `file` field: file name and content.
    File(&'a str, &'a [u8]),
}

/// The `Content-Type` of the bodies built here.
pub fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// A body with [`BOUNDARY`], closed properly.
pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = multipart_open(parts);
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// The parts without the closing boundary.
pub fn multipart_open(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Field(name, value) => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            ),
            Part::File(file_name, content) => {
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(content);
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out
}

/// The body the portal's no-JavaScript upload form sends: the token, then the file.
pub fn upload_form(csrf: &str, file_name: &str, content: &[u8]) -> Vec<u8> {
    multipart(&[Part::Field("csrf", csrf), Part::File(file_name, content)])
}
