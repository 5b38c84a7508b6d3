//! Multipart upload bodies, read with `multer` the way the portal's upload route reads
//! them (portal-http's `multipart` module): the same constraints (only the `csrf` and
//! `file` fields, the CSRF field at most 256 bytes, the file at most its document's
//! limit plus one byte, the whole body at most that limit plus 64 KiB), the CSRF field
//! first, then exactly one file, then the closing boundary. Nothing panics; no limit is
//! ever exceeded by what is read; the file's bytes are bytes of the body; and the body
//! read in arbitrary pieces gives exactly what it gives read in one piece.
//!
//! Input: a `Content-Type` line, a limit byte, the piece lengths (prefixed by their
//! count), then the body.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use multer::{Constraints, Multipart, SizeLimit};
use portal_fuzz::{pieces, runtime, take_prefixed};

/// Room in an upload body beyond the file itself (as in portal-http).
const ENVELOPE_BYTES: u64 = 64 * 1024;
/// The longest CSRF field read (as in portal-http).
const CSRF_FIELD_BYTES: u64 = 256;
const LIMITS: [u64; 4] = [0, 16, 1024, 10 * 1024 * 1024];

#[derive(Debug, PartialEq)]
struct Outcome {
    csrf: Option<Vec<u8>>,
    file_name: Option<String>,
    file: Vec<u8>,
    error: Option<String>,
}

async fn read(boundary: &str, body: Vec<Bytes>, limit: u64) -> Outcome {
    let constraints = Constraints::new()
        .allowed_fields(vec!["csrf", "file"])
        .size_limit(
            SizeLimit::new()
                .whole_stream(limit.saturating_add(ENVELOPE_BYTES))
                .for_field("csrf", CSRF_FIELD_BYTES)
                .for_field("file", limit.saturating_add(1)),
        );
    let stream = futures_util::stream::iter(body.into_iter().map(Ok::<Bytes, std::io::Error>));
    let mut multipart = Multipart::with_constraints(stream, boundary.to_owned(), constraints);
    let mut out = Outcome {
        csrf: None,
        file_name: None,
        file: Vec::new(),
        error: None,
    };
    let fail = |out: &mut Outcome, e: String| out.error = Some(e);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => {
                fail(&mut out, "no file".into());
                return out;
            }
            Err(e) => {
                fail(&mut out, e.to_string());
                return out;
            }
        };
        match field.name() {
            // The route reads it with `text()`; the bytes show what the limit let in.
            Some("csrf") if out.csrf.is_none() => match field.bytes().await {
                Ok(b) => out.csrf = Some(b.to_vec()),
                Err(e) => {
                    fail(&mut out, e.to_string());
                    return out;
                }
            },
            Some("file") => {
                out.file_name = Some(field.file_name().unwrap_or_default().to_owned());
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(bytes)) => out.file.extend_from_slice(&bytes),
                        Ok(None) => break,
                        Err(e) => {
                            fail(&mut out, e.to_string());
                            return out;
                        }
                    }
                }
                drop(field);
                match multipart.next_field().await {
                    Ok(None) => {}
                    Ok(Some(_)) => fail(&mut out, "more than one file".into()),
                    Err(e) => fail(&mut out, e.to_string()),
                }
                return out;
            }
            _ => {
                fail(&mut out, "unexpected part".into());
                return out;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(newline) = data.iter().position(|b| *b == b'\n') else {
        return;
    };
    let Ok(content_type) = std::str::from_utf8(&data[..newline]) else {
        return;
    };
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return;
    };
    let mut rest = &data[newline + 1..];
    let Some((&pick, after)) = rest.split_first() else {
        return;
    };
    rest = after;
    let limit = LIMITS[usize::from(pick) % LIMITS.len()];
    let cuts = take_prefixed(&mut rest).to_vec();
    let body = rest;

    let (whole, cut) = runtime().block_on(async {
        (
            read(&boundary, vec![Bytes::copy_from_slice(body)], limit).await,
            read(&boundary, pieces(body, &cuts), limit).await,
        )
    });
    for o in [&whole, &cut] {
        if let Some(csrf) = &o.csrf {
            assert!(
                csrf.len() as u64 <= CSRF_FIELD_BYTES,
                "csrf of {} bytes",
                csrf.len()
            );
        }
        assert!(
            o.file.len() as u64 <= limit + 1,
            "file of {} bytes",
            o.file.len()
        );
        if o.error.is_none() && !o.file.is_empty() {
            assert!(
                body.windows(o.file.len()).any(|w| w == o.file.as_slice()),
                "file bytes that are not in the body"
            );
        }
    }
    assert_eq!(whole, cut, "the pieces changed what was read");
});
