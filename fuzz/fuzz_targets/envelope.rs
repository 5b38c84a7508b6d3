//! Envelope decryption of stored bytes (`blob::envelope::decrypt`), which a broken or
//! tampered blob store hands back. Arbitrary bytes, arriving in any pieces, end the
//! stream with an error before any plaintext, never a panic. A file sealed by `encrypt`
//! opens to exactly its content; with one bit flipped, cut short, lengthened, or opened
//! under another file's binding, it ends with an error after releasing at most whole
//! chunks of the true content.
//!
//! Input: first byte picks arbitrary bytes / sealed-then-tampered; then the piece
//! lengths (prefixed by their count); the rest is the stored bytes or the content.
#![no_main]

use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use libfuzzer_sys::fuzz_target;
use portal_core::blob::envelope::{CHUNK, decrypt, encrypt};
use portal_core::blob::keyring::DataKey;
use portal_core::blob::{ByteStream, Tally};
use portal_core::random::SeededRandom;
use portal_fuzz::{byte_stream, pieces, runtime, take_prefixed};

const PREFIX: [u8; 7] = *b"noncepx";

async fn drain(stream: ByteStream) -> (Vec<u8>, Option<portal_core::Error>) {
    let mut out = Vec::new();
    let mut stream = stream;
    while let Some(item) = stream.next().await {
        match item {
            Ok(bytes) => out.extend_from_slice(&bytes),
            Err(e) => {
                assert!(stream.next().await.is_none(), "items after an error");
                return (out, Some(e));
            }
        }
    }
    (out, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let cuts = take_prefixed(&mut rest).to_vec();
    let key = DataKey::generate(&SeededRandom::new(1));
    let aad = b"binding".to_vec();
    runtime().block_on(async {
        if mode & 1 == 0 {
            let (plain, err) = drain(decrypt(byte_stream(pieces(rest, &cuts)), &key, aad)).await;
            assert!(plain.is_empty(), "forged content opened");
            assert!(
                matches!(err, Some(portal_core::Error::Integrity { .. })),
                "{err:?}"
            );
            return;
        }
        // Content: the rest, repeated (mode >> 1) % 4 + 1 times at most 64 KiB each,
        // so that files of several chunks are sealed too.
        let (edit, content) = rest.split_at(rest.len().min(5));
        let repeat = usize::from(mode >> 1) % 4;
        let mut plain = content.to_vec();
        for _ in 0..repeat {
            let more = plain.len().clamp(1, CHUNK);
            plain.extend(std::iter::repeat_n(mode, more));
        }
        let tally = Arc::new(Mutex::new(Tally::new()));
        let sealed_stream = encrypt(
            byte_stream(pieces(&plain, &cuts)),
            &key,
            PREFIX,
            aad.clone(),
            tally.clone(),
        );
        let (mut sealed, err) = drain(sealed_stream).await;
        assert!(err.is_none(), "{err:?}");
        let seen = tally.lock().unwrap().clone().finish();
        assert_eq!(seen.size, plain.len() as u64);

        let op = edit.first().copied().unwrap_or(0) % 5;
        let at = edit
            .get(1..5)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        let mut aad_used = aad;
        match op {
            0 => {}
            1 => {
                let i = at % sealed.len();
                sealed[i] ^= 1 << (at % 8);
            }
            2 => sealed.truncate(at % sealed.len()),
            3 => sealed.extend_from_slice(edit),
            _ => aad_used.push(b'!'),
        }
        let (opened, err) =
            drain(decrypt(byte_stream(pieces(&sealed, &cuts)), &key, aad_used)).await;
        if op == 0 {
            assert!(err.is_none(), "{err:?}");
            assert!(opened == plain, "opened other content");
        } else {
            assert!(
                matches!(err, Some(portal_core::Error::Integrity { .. })),
                "edit {op} not noticed: {err:?}"
            );
            assert_eq!(opened.len() % CHUNK, 0, "part of a chunk released");
            assert!(
                plain.starts_with(&opened),
                "released bytes that are not the content"
            );
        }
    });
});
