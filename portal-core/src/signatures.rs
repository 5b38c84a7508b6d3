//! Signature tasks: what a client's signature is checked against before it is kept,
//! the evidence record kept for it, and the verification that recomputes every hash.
//!
//! A signature is a *simple electronic signature*: it records who signed (the
//! signed-in contact's name and email, IP, user agent), when (UTC, and the time zone
//! the page showed), what (the SHA-256 of the document exactly as it was served, if the
//! task had one), how (the SHA-256 of the drawn PNG, or of the typed name) and the
//! consent the signer ticked (its text and SHA-256). One hash, [`record_hash`], covers
//! the whole record in a documented byte layout ([`canonical_bytes`],
//! `docs/signatures.md`), and that hash is what the `signature_submitted` audit event
//! carries into the portal's hash chain. [`verify`] recomputes each part from what is
//! stored (the document from the stored document, the image from its blob) and names
//! every part that no longer matches.
//!
//! The drawn image is checked here ([`check_png`]): PNG magic and `IHDR` read by
//! hand, at most [`MAX_IMAGE`] bytes and [`MAX_WIDTH`] × [`MAX_HEIGHT`] pixels, and
//! decoded far enough to refuse a blank or fully transparent pad. Its bytes go through
//! the encrypted `BlobStore` like uploads; the record keeps the blob and wrapped key.

use std::io::Read;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{canonical_time, hash_hex};
use crate::blob::keyring::WrappedKey;
use crate::error::{Error, Result};
use crate::files::FileType;
use crate::i18n::Language;
use crate::ids::{BlobId, PortalId, TaskId, TenantId};
use crate::model::{Side, Task, TaskKind};
use crate::workflow::{ActivityEntry, ActivityKind, Actor, Completion, TaskChange};

/// The version tag at the start of a record's canonical bytes.
pub const FORMAT: &str = "portal-signature-v1";

/// The consent statement a signer ticks when the MSP has not worded its own.
pub const DEFAULT_CONSENT: &str = "I agree that this is my electronic signature, that it is as valid as my handwritten signature, and that I have reviewed the document shown above, if there is one.";

/// The largest signature image accepted: 512 KiB (a pad drawing is a few KiB).
pub const MAX_IMAGE: usize = 512 * 1024;
/// The widest signature image accepted, in pixels.
pub const MAX_WIDTH: u32 = 4000;
/// The tallest signature image accepted, in pixels.
pub const MAX_HEIGHT: u32 = 2000;
/// The longest typed name accepted, in characters.
pub const MAX_TYPED_NAME: usize = 200;
/// The longest consent statement an MSP may word, in characters.
pub const MAX_CONSENT: usize = 2000;
/// Pixels that must differ from the background for a drawing to count as a signature
/// (a stray click leaves fewer).
pub const MIN_INK: usize = 10;

const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The consent statement of a signature task as a signer reading `language` sees it,
/// and as it is recorded when they sign: the task's own wording (the MSP wrote it in
/// one language), or the catalog's default statement in `language` (in English,
/// [`DEFAULT_CONSENT`]).
pub fn consent_text(task: &Task, language: Language) -> String {
    match &task.kind {
        TaskKind::Signature {
            consent: Some(c), ..
        } if !c.trim().is_empty() => c.clone(),
        _ => crate::i18n::text(language, "signature-default-consent"),
    }
}

/// A PNG that passed [`check_png`]: its size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PngInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

fn bad_image(why: &str) -> Error {
    Error::invalid("signature", why.to_owned())
}

fn be32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// Checks a drawn signature: a PNG (magic and `IHDR` read, never trusted from a MIME
/// type), at most [`MAX_IMAGE`] bytes, non-zero and at most [`MAX_WIDTH`] ×
/// [`MAX_HEIGHT`] pixels, 8-bit, not interlaced, decodable, and not blank: at least
/// [`MIN_INK`] pixels differ from the background (fully transparent pixels all count
/// as one colour, so a transparent pad is blank too). Decoding stops at the size the
/// header promises, so a compression bomb costs no more than a real image.
pub fn check_png(bytes: &[u8]) -> Result<PngInfo> {
    if bytes.is_empty() {
        return Err(bad_image("is empty: draw your signature or type your name"));
    }
    if bytes.len() > MAX_IMAGE {
        return Err(bad_image(&format!(
            "is too large: at most {} KiB",
            MAX_IMAGE / 1024
        )));
    }
    if bytes.get(..8) != Some(&PNG_MAGIC[..]) {
        return Err(bad_image("is not a PNG image from the signature pad"));
    }
    let ihdr = bytes
        .get(8..33)
        .filter(|h| be32(h) == Some(13) && h.get(4..8) == Some(b"IHDR"))
        .ok_or_else(|| bad_image("is not a valid PNG image (no IHDR header)"))?;
    let (width, height) = (
        be32(&ihdr[8..]).unwrap_or(0),
        be32(&ihdr[12..]).unwrap_or(0),
    );
    let (depth, colour, interlace) = (ihdr[16], ihdr[17], ihdr[20]);
    if width == 0 || height == 0 {
        return Err(bad_image("is an empty image"));
    }
    if width > MAX_WIDTH || height > MAX_HEIGHT {
        return Err(bad_image(&format!(
            "is too large: at most {MAX_WIDTH} × {MAX_HEIGHT} pixels"
        )));
    }
    let channels: usize = match colour {
        0 => 1,
        2 => 3,
        4 => 2,
        6 => 4,
        _ => {
            return Err(bad_image(
                "is a PNG of a kind the signature pad does not make",
            ));
        }
    };
    if depth != 8 || ihdr[18] != 0 || ihdr[19] != 0 || interlace != 0 {
        return Err(bad_image(
            "is a PNG of a kind the signature pad does not make",
        ));
    }
    let mut idat = Vec::new();
    let mut at = 33usize;
    loop {
        let len = bytes
            .get(at..)
            .and_then(be32)
            .ok_or_else(|| bad_image("is a truncated PNG image"))?;
        let kind = bytes
            .get(at + 4..at + 8)
            .ok_or_else(|| bad_image("is a truncated PNG image"))?;
        let start = at + 8;
        let end = start
            .checked_add(len as usize)
            .filter(|e| e.saturating_add(4) <= bytes.len())
            .ok_or_else(|| bad_image("is a truncated PNG image"))?;
        match kind {
            b"IDAT" => idat.extend_from_slice(&bytes[start..end]),
            b"IEND" => break,
            _ => {}
        }
        at = end + 4;
    }
    let (w, h) = (width as usize, height as usize);
    let stride = w * channels;
    let expected = h * (stride + 1);
    let mut raw = Vec::with_capacity(expected);
    flate2::read::ZlibDecoder::new(&idat[..])
        .take(expected as u64)
        .read_to_end(&mut raw)
        .map_err(|_| bad_image("is a damaged PNG image"))?;
    if raw.len() != expected {
        return Err(bad_image("is a damaged PNG image"));
    }
    let pixels = unfilter(&raw, h, stride, channels)?;
    let has_alpha = matches!(colour, 4 | 6);
    let norm = |px: &[u8]| -> Vec<u8> {
        if has_alpha && px.last() == Some(&0) {
            vec![0; px.len()]
        } else {
            px.to_vec()
        }
    };
    let background = norm(pixels.get(..channels).unwrap_or_default());
    // The top-left pixel is the background unless it is itself ink: either way the
    // smaller of "like it" and "unlike it" is the ink.
    let unlike = pixels
        .chunks_exact(channels)
        .filter(|px| norm(px) != background)
        .count();
    let ink = unlike.min(w * h - unlike);
    if ink < MIN_INK {
        return Err(bad_image(
            "is empty: draw your signature on the pad or type your name",
        ));
    }
    Ok(PngInfo { width, height })
}

/// Reverses PNG's per-row filters (none, sub, up, average, Paeth).
fn unfilter(raw: &[u8], height: usize, stride: usize, bpp: usize) -> Result<Vec<u8>> {
    let mut out = vec![0u8; height * stride];
    for y in 0..height {
        let row = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let (filter, line) = (row[0], &row[1..]);
        for x in 0..stride {
            let a = if x >= bpp {
                out[y * stride + x - bpp]
            } else {
                0
            };
            let b = if y > 0 { out[(y - 1) * stride + x] } else { 0 };
            let c = if y > 0 && x >= bpp {
                out[(y - 1) * stride + x - bpp]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                _ => return Err(bad_image("is a damaged PNG image")),
            };
            out[y * stride + x] = line[x].wrapping_add(predicted);
        }
    }
    Ok(out)
}

/// Decodes the pad's `data:image/png;base64,...` URL into bytes (nothing else is
/// accepted; the bytes are then [`check_png`]ed). Refuses more than [`MAX_IMAGE`]
/// bytes before decoding.
pub fn decode_data_url(url: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    let body = url
        .trim()
        .strip_prefix("data:image/png;base64,")
        .ok_or_else(|| bad_image("is not a PNG image from the signature pad"))?;
    if body.len() > MAX_IMAGE.div_ceil(3) * 4 {
        return Err(bad_image(&format!(
            "is too large: at most {} KiB",
            MAX_IMAGE / 1024
        )));
    }
    base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| bad_image("is not a PNG image from the signature pad"))
}

/// Checks a typed name: not blank, at most [`MAX_TYPED_NAME`] characters, no control
/// characters. Answers it trimmed (what is hashed and shown).
pub fn check_typed_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid(
            "typed_name",
            crate::Reason::message("reason-typed-name-empty", &[]),
        ));
    }
    if name.chars().count() > MAX_TYPED_NAME {
        return Err(Error::invalid(
            "typed_name",
            crate::Reason::message(
                "reason-typed-name-too-long",
                &[("max", MAX_TYPED_NAME.into())],
            ),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "typed_name",
            crate::Reason::message("reason-typed-name-control", &[]),
        ));
    }
    Ok(name.to_owned())
}

/// Checks an MSP's consent wording (`Invalid("consent")`): not blank when given, at
/// most [`MAX_CONSENT`] characters, no control characters but line breaks.
pub fn check_consent_wording(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::invalid(
            "consent",
            "is empty: leave it out to use the default wording",
        ));
    }
    if text.chars().count() > MAX_CONSENT {
        return Err(Error::invalid(
            "consent",
            format!("is too long: at most {MAX_CONSENT} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(Error::invalid("consent", "contains control characters"));
    }
    Ok(())
}

/// The signed document as presented: its name and the SHA-256 of the bytes served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedDocument {
    /// The name it was shown under.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of exactly the bytes the page served.
    #[serde(serialize_with = "ser_hex")]
    pub sha256: [u8; 32],
}

/// The largest document an MSP may attach to a signature task: 25 MiB, the default
/// document upload limit (a contract or policy PDF is far smaller).
pub const MAX_DOCUMENT: u64 = 25 * 1024 * 1024;

/// The document an MSP attached to a signature task for the client to review and
/// sign: its bytes are sealed into a blob (as uploads are, under the task's file
/// binding); the record keeps its name, sniffed type, size, the SHA-256 of the
/// plaintext (computed while sealing: the hash of exactly the bytes the portal serves)
/// and the wrapped data key. One per task; replaced only until the task is signed.
#[derive(Clone, PartialEq, Eq)]
pub struct AttachedDocument {
    /// The MSP.
    pub tenant_id: TenantId,
    /// The portal.
    pub portal_id: PortalId,
    /// The signature task.
    pub task_id: TaskId,
    /// The cleaned file name, its extension agreeing with `file_type`.
    pub name: String,
    /// What the content is (sniffed, never taken from the name or a header).
    pub file_type: FileType,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext: what a signature of this document records.
    pub sha256: [u8; 32],
    /// The blob with the encrypted content.
    pub blob: BlobId,
    /// Its data key, wrapped under the file binding.
    pub key: WrappedKey,
    /// Who attached it.
    pub attached_by: Actor,
    /// When (UTC, whole microseconds).
    pub attached_at: DateTime<Utc>,
}

impl std::fmt::Debug for AttachedDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachedDocument")
            .field("portal_id", &self.portal_id)
            .field("task_id", &self.task_id)
            .field("name", &self.name)
            .field("file_type", &self.file_type)
            .field("size", &self.size)
            .field("blob", &self.blob)
            .field("key_id", &self.key.key_id)
            .finish_non_exhaustive()
    }
}

impl AttachedDocument {
    /// The document as a signature of it records it.
    pub fn as_signed(&self) -> SignedDocument {
        SignedDocument {
            name: self.name.clone(),
            size: self.size,
            sha256: self.sha256,
        }
    }

    /// The file binding its content was sealed under (the task's, like uploads).
    pub const fn binding(&self) -> crate::blob::envelope::FileBinding {
        crate::blob::envelope::FileBinding {
            tenant: self.tenant_id,
            portal: self.portal_id,
            task: Some(self.task_id),
            blob: self.blob,
        }
    }

    /// Checks that the document belongs to `task` (a signature task of the same
    /// portal, tenant `tenant`) and is within [`MAX_DOCUMENT`]; stores call it before
    /// writing (`Invalid("document")`).
    pub fn ensure_belongs(&self, task: &Task, tenant: TenantId) -> Result<()> {
        let ok = self.tenant_id == tenant
            && self.portal_id == task.portal_id
            && self.task_id == task.id
            && matches!(task.kind, TaskKind::Signature { .. })
            && self.size <= MAX_DOCUMENT
            && !self.name.trim().is_empty();
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "document",
                "must be a document of a signature task of this portal",
            ))
        }
    }

    /// Whether a signature's document (as the record names it) is this document.
    pub fn is_signed_as(&self, signed: Option<&SignedDocument>) -> bool {
        signed == Some(&self.as_signed())
    }
}

/// Whether a signature of `task` may name `signed` as its document, given the task's
/// attached document as stored (`None`: none attached): exactly the attached one, or
/// none when none is attached. Anything else is `Conflict`: the document changed
/// between the page and the signature, so what the signer saw is not what is stored.
pub fn ensure_signed_document(
    attached: Option<&AttachedDocument>,
    signed: Option<&SignedDocument>,
) -> Result<()> {
    let ok = match attached {
        Some(doc) => doc.is_signed_as(signed),
        None => signed.is_none(),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::conflict(crate::Reason::message(
            "reason-signature-document-changed",
            &[],
        )))
    }
}

/// Whether the MSP may attach (or replace) the document of `task`: only a signature
/// task, and only before it is signed (`signed`): a signed document never changes,
/// or the signature would no longer say what was signed (`Conflict`).
pub fn may_attach_document(task: &Task, signed: bool) -> Result<()> {
    if !matches!(task.kind, TaskKind::Signature { .. }) {
        return Err(Error::conflict(
            "Only a signature task takes a document to sign.",
        ));
    }
    if signed {
        return Err(Error::conflict(
            "This task is signed: its document can no longer be replaced.",
        ));
    }
    Ok(())
}

/// Where a drawn signature's PNG is kept: sealed into a blob like an upload.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredImage {
    /// The blob with the encrypted PNG.
    pub blob: BlobId,
    /// Its data key, wrapped under the file binding.
    pub key: WrappedKey,
    /// Plaintext size in bytes.
    pub size: u64,
}

impl std::fmt::Debug for StoredImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredImage")
            .field("blob", &self.blob)
            .field("key_id", &self.key.key_id)
            .field("size", &self.size)
            .finish()
    }
}

/// How the signer signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureMark {
    /// Drawn on the pad: the PNG, sealed into a blob.
    Drawn(StoredImage),
    /// Typed: the name as typed (trimmed).
    Typed(String),
}

impl SignatureMark {
    /// `"drawn"` or `"typed"` (stored and hashed).
    pub const fn method(&self) -> &'static str {
        match self {
            Self::Drawn(_) => "drawn",
            Self::Typed(_) => "typed",
        }
    }
}

/// A signature as kept: the evidence of who signed what, when, how, and what they
/// agreed to, with the hash of each part and one over all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRecord {
    /// The MSP.
    pub tenant_id: TenantId,
    /// The portal.
    pub portal_id: PortalId,
    /// The signature task.
    pub task_id: TaskId,
    /// The signed-in contact (name and email at the time).
    pub signer: Actor,
    /// The signer's IP, as the host saw it.
    pub ip: Option<String>,
    /// The signer's browser's User-Agent.
    pub user_agent: Option<String>,
    /// When (UTC, whole microseconds).
    pub signed_at: DateTime<Utc>,
    /// The IANA time zone the page showed times in.
    pub time_zone: String,
    /// The document as presented, if the task had one.
    pub document: Option<SignedDocument>,
    /// Drawn or typed.
    pub mark: SignatureMark,
    /// SHA-256 of the PNG (drawn) or of the typed name's UTF-8 (typed).
    pub mark_sha256: [u8; 32],
    /// The consent statement the signer ticked, as shown.
    pub consent_text: String,
    /// SHA-256 of `consent_text`'s UTF-8.
    pub consent_sha256: [u8; 32],
    /// [`record_hash`] of the record: what the audit event carries.
    pub record_sha256: [u8; 32],
}

fn item(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The bytes [`record_hash`] covers (layout in `docs/signatures.md`): each item a
/// 4-byte big-endian length and its UTF-8 bytes, in this order: [`FORMAT`], tenant,
/// portal and task ids, the signer's contact id, name and email, IP, user agent,
/// [`canonical_time`] of `signed_at`, time zone, document name, size and SHA-256
/// (three empty items when there is none), method, mark SHA-256, consent SHA-256.
/// Hashes are lower-case hex; an absent IP or user agent is empty.
pub fn canonical_bytes(r: &SignatureRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let (contact, name, email) = match &r.signer {
        Actor::Client {
            contact_id,
            name,
            email,
        } => (contact_id.to_string(), name.clone(), email.to_string()),
        Actor::Staff { name, email } => (
            String::new(),
            name.clone(),
            email.as_ref().map(ToString::to_string).unwrap_or_default(),
        ),
    };
    let (doc_name, doc_size, doc_hash) = r.document.as_ref().map_or_else(
        || (String::new(), String::new(), String::new()),
        |d| (d.name.clone(), d.size.to_string(), hash_hex(&d.sha256)),
    );
    for part in [
        FORMAT.to_owned(),
        r.tenant_id.to_string(),
        r.portal_id.to_string(),
        r.task_id.to_string(),
        contact,
        name,
        email,
        r.ip.clone().unwrap_or_default(),
        r.user_agent.clone().unwrap_or_default(),
        canonical_time(r.signed_at),
        r.time_zone.clone(),
        doc_name,
        doc_size,
        doc_hash,
        r.mark.method().to_owned(),
        hash_hex(&r.mark_sha256),
        hash_hex(&r.consent_sha256),
    ] {
        item(&mut out, part.as_bytes());
    }
    out
}

/// SHA-256 of [`canonical_bytes`].
pub fn record_hash(r: &SignatureRecord) -> [u8; 32] {
    sha256(&canonical_bytes(r))
}

/// What the client's request brings besides the signature: where it came from and
/// the time zone the page showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningContext {
    /// The client's IP.
    pub ip: Option<String>,
    /// The browser's User-Agent.
    pub user_agent: Option<String>,
    /// The IANA time zone the page showed times in (`UTC` if none).
    pub time_zone: String,
}

/// The parts of a new record before it is hashed.
#[derive(Debug, Clone)]
pub struct NewSignature {
    /// The MSP.
    pub tenant_id: TenantId,
    /// The portal.
    pub portal_id: PortalId,
    /// The task.
    pub task_id: TaskId,
    /// Who signs.
    pub signer: Actor,
    /// Request details.
    pub context: SigningContext,
    /// When.
    pub at: DateTime<Utc>,
    /// The document as presented, if any.
    pub document: Option<SignedDocument>,
    /// Drawn or typed.
    pub mark: SignatureMark,
    /// SHA-256 of the PNG or typed name.
    pub mark_sha256: [u8; 32],
    /// The consent statement shown.
    pub consent_text: String,
}

impl NewSignature {
    /// The record with every hash computed.
    pub fn into_record(self) -> SignatureRecord {
        let mut r = SignatureRecord {
            tenant_id: self.tenant_id,
            portal_id: self.portal_id,
            task_id: self.task_id,
            signer: self.signer,
            ip: self.context.ip,
            user_agent: self.context.user_agent,
            signed_at: self.at.trunc_subsecs(6),
            time_zone: if self.context.time_zone.is_empty() {
                "UTC".to_owned()
            } else {
                self.context.time_zone
            },
            document: self.document,
            mark: self.mark,
            mark_sha256: self.mark_sha256,
            consent_sha256: sha256(self.consent_text.as_bytes()),
            consent_text: self.consent_text,
            record_sha256: [0; 32],
        };
        r.record_sha256 = record_hash(&r);
        r
    }
}

impl SignatureRecord {
    /// Checks that the record belongs to `task` (a signature task of the same portal,
    /// tenant `tenant`), is signed by a client, and that its hashes are its own
    /// (`record_sha256`, `consent_sha256`, and for a typed name `mark_sha256`); stores
    /// call it before writing (`Invalid("signature")`).
    pub fn ensure_belongs(&self, task: &Task, tenant: TenantId) -> Result<()> {
        let typed_ok = match &self.mark {
            SignatureMark::Typed(name) => sha256(name.as_bytes()) == self.mark_sha256,
            SignatureMark::Drawn(_) => true,
        };
        let ok = self.tenant_id == tenant
            && self.portal_id == task.portal_id
            && self.task_id == task.id
            && matches!(task.kind, TaskKind::Signature { .. })
            && self.signer.side() == Side::Client
            && typed_ok
            && sha256(self.consent_text.as_bytes()) == self.consent_sha256
            && record_hash(self) == self.record_sha256;
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "signature",
                "must be a complete signature record for a signature task of this portal",
            ))
        }
    }

    /// The file binding its drawn image was sealed under (the task's, like uploads).
    pub const fn image_binding(&self, blob: BlobId) -> crate::blob::envelope::FileBinding {
        crate::blob::envelope::FileBinding {
            tenant: self.tenant_id,
            portal: self.portal_id,
            task: Some(self.task_id),
            blob,
        }
    }
}

/// What a signature does to its task: only the client, only a signature task the
/// client may act on (not blocked, not done: a second signature is refused here too),
/// which becomes complete "by X at T" with a `TaskCompleted` entry ("Signed"). The
/// store writes it with the record, once.
pub fn record_signature(task: &Task, actor: &Actor, now: DateTime<Utc>) -> Result<TaskChange> {
    if actor.side() != Side::Client {
        return Err(Error::Forbidden {
            reason: "only the client signs".into(),
        });
    }
    if !matches!(task.kind, TaskKind::Signature { .. }) {
        return Err(Error::conflict(crate::Reason::message(
            "reason-task-no-signature",
            &[],
        )));
    }
    crate::workflow::actions::client_may_act(task)?;
    let mut next = task.clone();
    next.updated_at = now;
    next.status = crate::model::TaskStatus::Completed;
    next.evidence.completion = Some(Completion {
        by: actor.clone(),
        at: now,
        notes: None,
    });
    Ok(TaskChange {
        activity: ActivityEntry {
            portal_id: task.portal_id,
            at: now,
            actor: actor.clone(),
            kind: ActivityKind::TaskCompleted,
            task_id: Some(task.id),
            subject: task.title.clone(),
            detail: Some("Signed".to_owned()),
        },
        task: next,
    })
}

/// A part of a signature's evidence that [`verify`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignaturePart {
    /// The record's fields against `record_sha256`.
    Record,
    /// The stored document against the hash of the document as presented.
    Document,
    /// The drawn PNG (from its blob) or the typed name against `mark_sha256`.
    Mark,
    /// The consent text against `consent_sha256`.
    Consent,
    /// The `signature_submitted` event of the audit chain against `record_sha256`.
    AuditEvent,
}

/// One part's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartStatus {
    /// Recomputed and equal.
    Matches,
    /// Recomputed and different: this part was altered.
    Mismatch,
    /// Not there to recompute (no document was signed; a stored file is gone).
    Missing,
}

/// What [`verify`] found, part by part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Each part checked, in a fixed order.
    pub parts: Vec<(SignaturePart, PartStatus)>,
}

impl Verification {
    /// Whether no part mismatches and nothing that should be there is missing.
    pub fn intact(&self) -> bool {
        self.parts.iter().all(|(_, s)| *s == PartStatus::Matches)
    }

    /// The parts that do not match (or are missing).
    pub fn failures(&self) -> Vec<SignaturePart> {
        self.parts
            .iter()
            .filter(|(_, s)| *s != PartStatus::Matches)
            .map(|(p, _)| *p)
            .collect()
    }
}

fn status(ok: bool) -> PartStatus {
    if ok {
        PartStatus::Matches
    } else {
        PartStatus::Mismatch
    }
}

/// Recomputes every hash of `record`: the record's own, the consent text's, the mark's
/// (`image`: the drawn PNG's bytes as read back from its blob, `None` if it could not
/// be read), the document's (`document`: the stored document's bytes, `None` if gone;
/// only checked when the record names a document) and the audit event's
/// (`audit_record_sha256`: the `record_sha256` field of the chain's
/// `signature_submitted` event for the task, `None` if there is none).
pub fn verify(
    record: &SignatureRecord,
    document: Option<&[u8]>,
    image: Option<&[u8]>,
    audit_record_sha256: Option<&str>,
) -> Verification {
    verify_hashed(record, document.map(sha256), image, audit_record_sha256)
}

/// [`verify`] with the stored document's SHA-256 computed by the caller (while
/// streaming it from its blob, so a large document is never read into memory).
pub fn verify_hashed(
    record: &SignatureRecord,
    document_sha256: Option<[u8; 32]>,
    image: Option<&[u8]>,
    audit_record_sha256: Option<&str>,
) -> Verification {
    let mut parts = vec![(
        SignaturePart::Record,
        status(record_hash(record) == record.record_sha256),
    )];
    if let Some(signed) = &record.document {
        parts.push((
            SignaturePart::Document,
            document_sha256.map_or(PartStatus::Missing, |h| status(h == signed.sha256)),
        ));
    }
    let mark = match &record.mark {
        SignatureMark::Typed(name) => Some(sha256(name.as_bytes())),
        SignatureMark::Drawn(_) => image.map(sha256),
    };
    parts.push((
        SignaturePart::Mark,
        mark.map_or(PartStatus::Missing, |h| status(h == record.mark_sha256)),
    ));
    parts.push((
        SignaturePart::Consent,
        status(sha256(record.consent_text.as_bytes()) == record.consent_sha256),
    ));
    parts.push((
        SignaturePart::AuditEvent,
        audit_record_sha256.map_or(PartStatus::Missing, |h| {
            status(h == hash_hex(&record.record_sha256))
        }),
    ));
    Verification { parts }
}

fn ser_hex<S: serde::Serializer>(h: &[u8; 32], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hash_hex(h))
}

#[cfg(test)]
mod tests;
