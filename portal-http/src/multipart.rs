//! Reading an upload's `multipart/form-data` body as a stream (multer).
//!
//! The parts must come as the portal's own form sends them: the CSRF token first (so
//! it is checked before a byte of the file is used), then exactly one file. The whole
//! body and each part have size limits enforced while reading, and the file's bytes go
//! on as a [`ByteStream`] as they arrive, never gathered in memory. Every way a body
//! can be wrong becomes a [`portal_core::Error`] in that stream: too much is
//! `TooLarge` naming the document's limit, anything malformed or cut off is `Invalid`
//! saying what happened; the service keeps nothing of an upload whose stream errs.
//!
//! The stream ends only once the body's closing boundary was read: a body cut off
//! right after the file's bytes, or with a second file after it, is an error too,
//! so a file is never stored from a request that did not arrive whole.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body as HttpBody;
use multer::{Constraints, Field, Multipart, SizeLimit};
use portal_core::blob::ByteStream;
use portal_core::{Error, Reason};

/// Room in an upload body beyond the file itself: part headers (a file name can be
/// long), the CSRF field and the boundaries.
pub const ENVELOPE_BYTES: u64 = 64 * 1024;
/// The longest CSRF field read (a token is 43 characters).
const CSRF_FIELD_BYTES: u64 = 256;
/// The CSRF token's field: first in the form.
pub const CSRF_FIELD: &str = "csrf";
/// The file's field.
pub const FILE_FIELD: &str = "file";

/// An upload body, not read yet.
pub struct UploadBody {
    multipart: Multipart<'static>,
    limit: u64,
}

/// The file part of an upload: the name the browser gave and the content, streamed.
pub struct FilePart {
    /// The file name from the part's `Content-Disposition` (may be empty).
    pub file_name: String,
    /// The file's bytes, ending with an error if the body is bad after all.
    pub content: ByteStream,
}

impl UploadBody {
    /// Prepares to read `body`, sent with `content_type`, for a document that accepts
    /// files of up to `limit` bytes. Reads nothing yet; a content type that is not
    /// `multipart/form-data` with a boundary is `Invalid`.
    pub fn new<B>(content_type: Option<&str>, body: B, limit: u64) -> Result<Self, Error>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let boundary = multer::parse_boundary(content_type.unwrap_or_default())
            .map_err(|e| upload_error(e, limit))?;
        let constraints = Constraints::new()
            .allowed_fields(vec![CSRF_FIELD, FILE_FIELD])
            .size_limit(
                SizeLimit::new()
                    .whole_stream(limit.saturating_add(ENVELOPE_BYTES))
                    .for_field(CSRF_FIELD, CSRF_FIELD_BYTES)
                    // One byte over, so the service's own limit speaks first.
                    .for_field(FILE_FIELD, limit.saturating_add(1)),
            );
        Ok(Self {
            multipart: Multipart::with_constraints(body.into_data_stream(), boundary, constraints),
            limit,
        })
    }

    /// Reads up to the file: the CSRF field if it comes first (its value is returned),
    /// then the file part's headers. The file's content is left unread, for the caller
    /// to check the CSRF token before using it.
    pub async fn until_file(mut self) -> Result<(Option<String>, FilePart), Error> {
        let limit = self.limit;
        let mut csrf = None;
        loop {
            let field = self
                .multipart
                .next_field()
                .await
                .map_err(|e| upload_error(e, limit))?
                .ok_or_else(|| {
                    Error::invalid("file", Reason::message("reason-upload-no-file", &[]))
                })?;
            match field.name() {
                Some(CSRF_FIELD) if csrf.is_none() => {
                    csrf = Some(field.text().await.map_err(|e| upload_error(e, limit))?);
                }
                Some(FILE_FIELD) => {
                    let file_name = field.file_name().unwrap_or_default().to_owned();
                    let content = file_stream(field, self.multipart, limit);
                    return Ok((csrf, FilePart { file_name, content }));
                }
                _ => return Err(unexpected_parts()),
            }
        }
    }
}

/// Files of a form that may send several (the secure file drop's
/// `<input type=file multiple>`), read one after another: each file's content is
/// streamed and must be read to its end (or dropped) before the next is asked for.
pub struct FileParts {
    multipart: Multipart<'static>,
    limit: u64,
    /// A file part read while looking for the CSRF field.
    pending: Option<Field<'static>>,
}

impl UploadBody {
    /// Like [`UploadBody::until_file`], for a form whose file field may repeat: `limit`
    /// is then each file's, and the whole body may hold up to `max_files` of them.
    /// Answers the CSRF field and the reader of the files, none read yet.
    pub fn several<B>(
        content_type: Option<&str>,
        body: B,
        limit: u64,
        max_files: u64,
    ) -> Result<(Self, u64), Error>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let whole = limit
            .saturating_add(ENVELOPE_BYTES)
            .saturating_mul(max_files.max(1));
        let boundary = multer::parse_boundary(content_type.unwrap_or_default())
            .map_err(|e| upload_error(e, limit))?;
        let constraints = Constraints::new()
            .allowed_fields(vec![CSRF_FIELD, FILE_FIELD])
            .size_limit(
                SizeLimit::new()
                    .whole_stream(whole)
                    .for_field(CSRF_FIELD, CSRF_FIELD_BYTES)
                    .for_field(FILE_FIELD, limit.saturating_add(1)),
            );
        Ok((
            Self {
                multipart: Multipart::with_constraints(
                    body.into_data_stream(),
                    boundary,
                    constraints,
                ),
                limit,
            },
            whole,
        ))
    }

    /// Reads the CSRF field if it comes first (its value is returned) and hands over
    /// the reader of the files that follow.
    pub async fn until_files(mut self) -> Result<(Option<String>, FileParts), Error> {
        let limit = self.limit;
        let mut csrf = None;
        // Peek at the first part: the token, or already a file.
        let first = self
            .multipart
            .next_field()
            .await
            .map_err(|e| upload_error(e, limit))?;
        let pending = match first {
            Some(field) if field.name() == Some(CSRF_FIELD) => {
                csrf = Some(field.text().await.map_err(|e| upload_error(e, limit))?);
                None
            }
            Some(field) if field.name() == Some(FILE_FIELD) => Some(field),
            Some(_) => return Err(unexpected_parts()),
            None => None,
        };
        Ok((
            csrf,
            FileParts {
                multipart: self.multipart,
                limit,
                pending,
            },
        ))
    }
}

impl FileParts {
    /// The next file, its content streamed (ending at the part's end, with an error if
    /// the body is cut off or over a limit); `None` once the body ended properly. A
    /// part that is not a file is `Invalid`.
    pub async fn next_file(&mut self) -> Result<Option<FilePart>, Error> {
        let limit = self.limit;
        let field = match self.pending.take() {
            Some(field) => Some(field),
            None => self
                .multipart
                .next_field()
                .await
                .map_err(|e| upload_error(e, limit))?,
        };
        let Some(field) = field else { return Ok(None) };
        if field.name() != Some(FILE_FIELD) {
            return Err(unexpected_parts());
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let content: ByteStream = Box::pin(futures_util::stream::unfold(
            Some(field),
            move |state| async move {
                let mut field = state?;
                match field.chunk().await {
                    Ok(Some(bytes)) => Some((Ok(bytes), Some(field))),
                    Ok(None) => None,
                    Err(e) => Some((Err(upload_error(e, limit)), None)),
                }
            },
        ));
        Ok(Some(FilePart { file_name, content }))
    }
}

fn unexpected_parts() -> Error {
    Error::invalid("upload", Reason::message("reason-upload-unexpected", &[]))
}

/// The file part's bytes; after its last byte, the body must end (closing boundary,
/// no other part) for the stream to end without an error.
fn file_stream(field: Field<'static>, multipart: Multipart<'static>, limit: u64) -> ByteStream {
    // The state is `None` once an error was yielded: nothing follows it.
    Box::pin(futures_util::stream::unfold(
        Some((field, multipart)),
        move |state| async move {
            let (mut field, mut multipart) = state?;
            match field.chunk().await {
                Ok(Some(bytes)) => Some((Ok(bytes), Some((field, multipart)))),
                Ok(None) => {
                    // multer reads the next part only once this one is dropped.
                    drop(field);
                    match multipart.next_field().await {
                        Ok(None) => None,
                        Ok(Some(_)) => Some((
                            Err(Error::invalid(
                                "upload",
                                Reason::message("reason-upload-several", &[]),
                            )),
                            None,
                        )),
                        Err(e) => Some((Err(upload_error(e, limit)), None)),
                    }
                }
                Err(e) => Some((Err(upload_error(e, limit)), None)),
            }
        },
    ))
}

/// A multer error as the portal's error of the same meaning. Reasons read after
/// "The upload " (or "The file "), as the task page shows them.
pub fn upload_error(err: multer::Error, limit: u64) -> Error {
    use multer::Error as M;
    match err {
        M::FieldSizeExceeded { field_name, .. } if field_name.as_deref() == Some(CSRF_FIELD) => {
            unexpected_parts()
        }
        M::FieldSizeExceeded { .. } | M::StreamSizeExceeded { .. } => {
            Error::TooLarge { max_bytes: limit }
        }
        M::UnknownField { .. } => unexpected_parts(),
        M::StreamReadFailed(e) => {
            tracing::debug!(error = %e, "an upload body stopped arriving");
            Error::invalid("upload", Reason::message("reason-upload-dropped", &[]))
        }
        M::IncompleteFieldData { .. } | M::IncompleteStream | M::IncompleteHeaders => {
            Error::invalid("upload", Reason::message("reason-upload-cut", &[]))
        }
        M::NoBoundary => {
            Error::invalid("upload", Reason::message("reason-upload-no-boundary", &[]))
        }
        M::NoMultipart | M::DecodeContentType(_) => Error::invalid(
            "upload",
            Reason::message("reason-upload-not-multipart", &[]),
        ),
        other => {
            tracing::debug!(error = %other, "a malformed upload body");
            Error::invalid("upload", Reason::message("reason-upload-malformed", &[]))
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use http_body_util::{Full, StreamBody};
    use hyper::body::Frame;

    use super::*;

    const CT: &str = "multipart/form-data; boundary=XyZ";

    fn body(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    fn full(bytes: Vec<u8>) -> Full<Bytes> {
        Full::new(Bytes::from(bytes))
    }

    async fn read_all(mut s: ByteStream) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        while let Some(piece) = s.next().await {
            out.extend_from_slice(&piece?);
        }
        Ok(out)
    }

    const CSRF: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n";
    const FILE_HEAD: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n";
    const END: &[u8] = b"\r\n--XyZ--\r\n";

    #[tokio::test]
    async fn a_well_formed_body_yields_the_token_then_the_file() {
        let b = body(&[CSRF, FILE_HEAD, b"%PDF-1.7 hello", END]);
        let (csrf, file) = UploadBody::new(Some(CT), full(b), 100)
            .unwrap()
            .until_file()
            .await
            .unwrap();
        assert_eq!(csrf.as_deref(), Some("tok"));
        assert_eq!(file.file_name, "a.pdf");
        assert_eq!(read_all(file.content).await.unwrap(), b"%PDF-1.7 hello");
    }

    #[tokio::test]
    async fn a_file_first_has_no_token() {
        let b = body(&[FILE_HEAD, b"x", END]);
        let (csrf, _) = UploadBody::new(Some(CT), full(b), 100)
            .unwrap()
            .until_file()
            .await
            .unwrap();
        assert_eq!(csrf, None);
    }

    #[tokio::test]
    async fn the_body_must_close_after_the_file() {
        for (tail, what) in [
            (&b""[..], "no closing boundary"),
            (&b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b\"\r\n\r\nmore\r\n--XyZ--\r\n"[..], "a second file"),
        ] {
            let b = body(&[CSRF, FILE_HEAD, b"%PDF-1.7", tail]);
            let (_, file) = UploadBody::new(Some(CT), full(b), 100)
                .unwrap()
                .until_file()
                .await
                .unwrap();
            let err = read_all(file.content).await.unwrap_err();
            assert!(matches!(err, Error::Invalid { field: "upload", .. }), "{what}: {err:?}");
        }
    }

    #[tokio::test]
    async fn too_many_bytes_are_too_large_with_the_documents_limit() {
        let big = vec![b'a'; 500];
        let b = body(&[CSRF, FILE_HEAD, &big, END]);
        let (_, file) = UploadBody::new(Some(CT), full(b), 100)
            .unwrap()
            .until_file()
            .await
            .unwrap();
        let err = read_all(file.content).await.unwrap_err();
        assert!(matches!(err, Error::TooLarge { max_bytes: 100 }), "{err:?}");
    }

    #[tokio::test]
    async fn other_fields_and_bad_headers_are_invalid() {
        let other =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"evil\"\r\n\r\nx\r\n--XyZ--\r\n";
        let err = UploadBody::new(Some(CT), full(other.to_vec()), 100)
            .unwrap()
            .until_file()
            .await
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                Error::Invalid {
                    field: "upload",
                    ..
                }
            ),
            "{err:?}"
        );
        for ct in [None, Some("multipart/form-data"), Some("text/plain")] {
            let err = UploadBody::new(ct, full(Vec::new()), 100).err().unwrap();
            assert!(
                matches!(
                    err,
                    Error::Invalid {
                        field: "upload",
                        ..
                    }
                ),
                "{ct:?}"
            );
        }
        let empty = UploadBody::new(Some(CT), full(b"--XyZ--\r\n".to_vec()), 100)
            .unwrap()
            .until_file()
            .await
            .err()
            .unwrap();
        assert!(
            matches!(empty, Error::Invalid { field: "file", .. }),
            "{empty:?}"
        );
    }

    #[tokio::test]
    async fn a_body_that_fails_half_way_ends_the_file_with_an_error() {
        #[derive(Debug)]
        struct Cut;
        impl std::fmt::Display for Cut {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("connection reset")
            }
        }
        impl std::error::Error for Cut {}
        let pieces: Vec<Result<Frame<Bytes>, Cut>> = vec![
            Ok(Frame::data(Bytes::from(body(&[
                CSRF,
                FILE_HEAD,
                b"%PDF-1.7",
            ])))),
            Err(Cut),
        ];
        let cut = StreamBody::new(futures_util::stream::iter(pieces));
        // multer reads ahead, so the break may show before the file part or in it.
        let read = async {
            let (_, file) = UploadBody::new(Some(CT), cut, 100)?.until_file().await?;
            read_all(file.content).await
        };
        let err = read.await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Invalid {
                    field: "upload",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
