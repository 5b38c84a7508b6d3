//! The evidence certificate of a signature: a printable page listing the signer, every
//! hash, the time with its zone, IP, user agent, the consent text and the position of
//! the signature's event in the portal's audit chain, so it can be filed with the
//! contract. The client reads their own under the portal.

use askama::Template;
use portal_core::audit::{canonical_time, hash_hex};
use portal_core::model::TimeZone;
use portal_core::service::SignatureEvidence;
use portal_core::signatures::{PartStatus, SignatureMark, SignaturePart};
use portal_core::wording;

use portal_core::i18n::{Language, Texts};

use super::Chrome;
use super::task::when_in;

/// One verified part as shown.
#[derive(Debug, Clone)]
pub struct PartView {
    /// What was checked.
    pub label: String,
    /// "Matches", "Does not match", "Missing".
    pub status: String,
    /// Whether it matches.
    pub ok: bool,
}

/// The certificate page.
#[derive(Template)]
#[template(path = "certificate.html")]
pub struct CertificatePage {
    /// Frame.
    pub c: Chrome,
    /// The task signed.
    pub task_title: String,
    /// Back to the task.
    pub back_href: String,
    /// Signer's name.
    pub signer: String,
    /// Signer's email.
    pub email: String,
    /// When, in the reader's zone with the zone named.
    pub at_local: String,
    /// When, as hashed (UTC, RFC 3339).
    pub at_utc: String,
    /// The zone the signing page showed.
    pub zone_shown: String,
    /// IP, or "not recorded".
    pub ip: String,
    /// User agent, or "not recorded".
    pub user_agent: String,
    /// "Drawn on the signature pad" or "Typed name: …".
    pub method: String,
    /// The document as presented: name, size, SHA-256.
    pub document: Option<(String, String, String)>,
    /// SHA-256 of the image or typed name.
    pub mark_sha256: String,
    /// The consent text ticked.
    pub consent: String,
    /// Its SHA-256.
    pub consent_sha256: String,
    /// The record's SHA-256.
    pub record_sha256: String,
    /// The audit event's number and hash.
    pub chain: Option<(u64, String)>,
    /// Each part recomputed.
    pub parts: Vec<PartView>,
    /// Whether every part matches.
    pub intact: bool,
}

fn part_label(p: SignaturePart, t: Texts) -> String {
    let part = match p {
        SignaturePart::Record => "record",
        SignaturePart::Document => "document",
        SignaturePart::Mark => "mark",
        SignaturePart::Consent => "consent",
        SignaturePart::AuditEvent => "audit",
        _ => "other",
    };
    t.text_with("certpage-part", &[("part", part.into())])
}

fn part_status(s: PartStatus, t: Texts) -> String {
    let status = match s {
        PartStatus::Matches => "matches",
        PartStatus::Mismatch => "mismatch",
        PartStatus::Missing => "missing",
    };
    t.text_with("certpage-status", &[("status", status.into())])
}

/// Builds the certificate of `e`, with times in `zone`, in the page's language (the
/// chrome's): the words are the catalog's, the recorded values (consent text, user
/// agent, hashes) are shown as recorded.
pub fn certificate_page(
    c: Chrome,
    task_title: &str,
    back_href: String,
    e: &SignatureEvidence,
    zone: TimeZone,
) -> CertificatePage {
    let t = c.t;
    let language: Language = t.language;
    let r = &e.record;
    let email = match &r.signer {
        portal_core::workflow::Actor::Client { email, .. } => email.to_string(),
        portal_core::workflow::Actor::Staff { email, .. } => {
            email.as_ref().map(ToString::to_string).unwrap_or_default()
        }
    };
    let parts: Vec<PartView> = e
        .verification
        .parts
        .iter()
        .map(|(p, s)| PartView {
            label: part_label(*p, t),
            status: part_status(*s, t),
            ok: *s == PartStatus::Matches,
        })
        .collect();
    CertificatePage {
        c,
        task_title: task_title.to_owned(),
        back_href,
        signer: r.signer.name().to_owned(),
        email,
        at_local: when_in(r.signed_at, zone, language),
        at_utc: canonical_time(r.signed_at),
        zone_shown: r.time_zone.clone(),
        ip: r
            .ip
            .clone()
            .unwrap_or_else(|| t.text("certpage-not-recorded")),
        user_agent: r
            .user_agent
            .clone()
            .unwrap_or_else(|| t.text("certpage-not-recorded")),
        method: match &r.mark {
            SignatureMark::Drawn(_) => t.text("certpage-drawn"),
            SignatureMark::Typed(name) => t.plain("certpage-typed", "name", name),
        },
        document: r.document.as_ref().map(|d| {
            (
                d.name.clone(),
                wording::bytes_in(d.size, language),
                hash_hex(&d.sha256),
            )
        }),
        mark_sha256: hash_hex(&r.mark_sha256),
        consent: r.consent_text.clone(),
        consent_sha256: hash_hex(&r.consent_sha256),
        record_sha256: hash_hex(&r.record_sha256),
        chain: e.chain.map(|h| (h.seq, hash_hex(&h.hash))),
        intact: e.verification.intact(),
        parts,
    }
}
