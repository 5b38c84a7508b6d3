//! Secrets planted in a store through the real flows, for a test that then reads the
//! store's storage back raw (database files, a dump) and checks that none of them is
//! there in clear.
//!
//! Every adapter owes DESIGN.md's rule that tokens, codes, keys and file contents are
//! never stored in clear, and only the adapter's own test can read its storage raw.
//! What differs between adapters is how to read the storage; what to plant and what to
//! look for is the same, so it lives here once:
//!
//! - [`plant_access_secrets`]: an invite, a verification with a resent code and a wrong
//!   try, a session used and ended, and an invite link handed to staff;
//! - [`plant_file_secrets`]: a document uploaded, sealed under a keyring's key and
//!   approved;
//! - [`plant_webhook_secrets`]: a webhook endpoint's first secret and a rotated one.
//!
//! Each returns a [`Planted`]: the byte strings that must never be found, the values
//! the flow stored in clear (a scan that does not find those is not reading the
//! storage), and the six-digit codes, which are too short to look for in raw bytes.
//!
//! ```ignore
//! let planted = plant_access_secrets(store).await?;
//! let raw = read_my_database_raw();
//! for needle in &planted.never {
//!     assert!(!contains(&raw, &needle.bytes), "the storage holds the {}", needle.what);
//! }
//! for needle in &planted.stored {
//!     assert!(contains(&raw, &needle.bytes), "the scan does not see the {}", needle.what);
//! }
//! ```

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use bytes::Bytes;
use chrono::TimeDelta;

use super::{Seeded, TestService, admin, code_from_email, request, token_after};
use crate::TaskSpec;
use crate::blob::keyring::{KeyId, KeyProvider, Keyring};
use crate::blob::stream_of;
use crate::error::{Error, Result};
use crate::model::{RequestedDocument, Side, TaskKind};
use crate::random::SeededRandom;
use crate::store::Store;
use crate::webhooks::service::{NewEndpoint, WebhookSettings, Webhooks};
use crate::webhooks::{OutgoingWebhook, TransportAnswer, WebhookStore, WebhookTransport};
use crate::workflow::documents::Verdict;

/// One byte string a scan looks for, and what it is (for the failure message).
#[derive(Clone)]
pub struct Needle {
    /// What the bytes are: "session token", "data key", ...
    pub what: &'static str,
    /// The bytes as the flow handed them out or used them.
    pub bytes: Vec<u8>,
}

impl Needle {
    fn new(what: &'static str, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            what,
            bytes: bytes.into(),
        }
    }

    /// The bytes as text, when they are UTF-8 (tokens, contents, names), for scans of
    /// text such as a dump or a table's text columns.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }

    /// The bytes in lowercase hex, as PostgreSQL's `bytea` and many dumps print them.
    pub fn hex(&self) -> String {
        self.bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Secret needles print as their name only: a failing scan must not print the secret.
impl std::fmt::Debug for Needle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Needle")
            .field("what", &self.what)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// What one `plant_*` flow left in the store.
#[derive(Clone, Default)]
pub struct Planted {
    /// Byte strings that must not occur anywhere in the storage.
    pub never: Vec<Needle>,
    /// Values the flow stored in clear, each expected somewhere in the storage: the
    /// proof that the scan reads what the store wrote.
    pub stored: Vec<Needle>,
    /// The six-digit codes the flow was sent. Six digits occur by chance in binary data
    /// and timestamps, so look for them only as whole text values (a column of their
    /// own, a JSON string), never as a run of raw bytes.
    pub codes: Vec<String>,
}

/// The needles print as their names and the codes as a count: a failing test's `{:?}`
/// must not print a secret.
impl std::fmt::Debug for Planted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planted")
            .field("never", &self.never)
            .field("stored", &self.stored)
            .field("codes", &format_args!("[{} redacted]", self.codes.len()))
            .finish()
    }
}

/// An error for a flow that did not go as planted.
fn off_course(what: &str) -> Error {
    Error::invalid("secret scan", what.to_owned())
}

/// Drives the access flow on `store` (randomness seed 7) so every kind of access
/// secret is stored: an invite, a verification whose code is resent, a wrong try, the
/// resent code entered, the session used and signed out, and an invite link handed to
/// staff for a second contact. Answers the raw tokens (`never`), the codes, and the
/// contact's email address and the client's name (`stored`).
pub async fn plant_access_secrets(store: Arc<dyn Store>) -> Result<Planted> {
    let h = TestService::new(store, 7);
    let Seeded {
        portal,
        contact,
        staff,
        ..
    } = h.seed_portal().await?;

    let invite = h.service.invite_contact(&staff, contact.id).await?;
    h.service.open_invite(&invite, &request()).await?;
    let (verification, _) = h.service.start_verification(&invite, &request()).await?;
    h.clock.advance(TimeDelta::minutes(1));
    h.service.resend_code(&verification, &request()).await?;

    let mut planted = Planted::default();
    for mail in h
        .mailer
        .sent()
        .iter()
        .filter(|m| m.text.contains("/magic/"))
    {
        let token = token_after(&mail.text, "/magic/")
            .ok_or_else(|| off_course("a code email without its magic link"))?;
        planted.never.push(Needle::new("magic token", token));
        planted.codes.push(
            code_from_email(&mail.text)
                .ok_or_else(|| off_course("a code email without its code"))?,
        );
    }
    let [_, live] = planted.codes.as_slice() else {
        return Err(off_course(
            "expected two code emails: the first and the resent one",
        ));
    };
    let live = live.clone();

    // A wrong try is stored as a count, never as the digits tried.
    let wrong = if live == "000000" { "111111" } else { "000000" };
    match h.service.enter_code(&verification, wrong, &request()).await {
        Err(Error::WrongCode { .. }) => {}
        Err(other) => return Err(other),
        Ok(_) => return Err(off_course("a wrong code was accepted")),
    }
    let (session, ctx) = h
        .service
        .enter_code(&verification, &live, &request())
        .await?;
    h.clock.advance(TimeDelta::minutes(10));
    h.service.authenticate(&session, &request()).await?;
    h.service.sign_out(&session, &ctx, &request()).await?;

    // A link handed to staff to pass on: its feed entry names the contact, not the link.
    let ann = h
        .service
        .add_contact(&staff, portal.id, "Ann Lee", "ann@example.com")
        .await?;
    let link = h.service.invite_link(&staff, ann.id).await?;

    planted.never.extend([
        Needle::new("invite token", invite.expose_secret()),
        Needle::new("invite link token", link.token.expose_secret()),
        Needle::new("verification token", verification.expose_secret()),
        Needle::new("session token", session.expose_secret()),
    ]);
    if planted.never.iter().any(|n| n.bytes.len() != 43) {
        return Err(off_course(
            "a token read back is not a whole 43-character token",
        ));
    }
    planted.stored.extend([
        Needle::new("contact's email address", contact.email.as_str()),
        Needle::new("client's name", portal.client_name.as_str()),
    ]);
    Ok(planted)
}

/// The line repeated through [`plant_file_secrets`]'s document.
const CONTENT_LINE: &str = "CONFIDENTIAL core switch password is hunter2-7f3a9c";

/// Uploads a document on `store` (randomness seed 8) under a keyring of one key `k1`,
/// and approves it. Answers the document's content (a whole line and a short run of
/// it), its data key in clear, and the key-encryption key as bytes and as the key
/// file writes it (`never`); and the file's name and its wrapped data key (`stored`).
///
/// The service's file bytes go to an in-memory blob store: this plants what the
/// *records* hold. A blob store's own scan uploads through its own `BlobStore`.
pub async fn plant_file_secrets(store: Arc<dyn Store>) -> Result<Planted> {
    let key_id = KeyId::parse("k1")?;
    let keyring = Arc::new(Keyring::generate(
        key_id.clone(),
        Arc::new(SeededRandom::new(77)),
    ));
    let kek = keyring
        .key_bytes(&key_id)
        .ok_or_else(|| off_course("the keyring lost its key"))?
        .to_vec();

    let h = TestService::builder(store)
        .seed(8)
        .keys(keyring.clone())
        .build();
    let Seeded {
        portal,
        contact,
        staff,
        ..
    } = h.seed_portal().await?;
    let phase = h.service.add_phase(&staff, portal.id, "Documents").await?;
    let task = h
        .service
        .add_task(
            &staff,
            portal.id,
            phase.id,
            TaskSpec {
                title: "Network documentation".into(),
                description: "Please upload it.".into(),
                assignee: Side::Client,
                kind: TaskKind::DocumentUpload {
                    documents: vec![RequestedDocument::new("diagram", "Network diagram")],
                },
                due_date: None,
            },
        )
        .await?;
    let (_session, ctx) = h.sign_in(&contact).await?;
    let content: String = (0..200)
        .map(|i| format!("{CONTENT_LINE} line {i}\n"))
        .collect();
    let name = "network-diagram.txt";
    let file = h
        .service
        .upload_document(
            &ctx,
            task.id,
            "diagram",
            name,
            stream_of(vec![Bytes::from(content)]),
        )
        .await?;
    h.service
        .review_document(&staff, portal.id, file.id, Verdict::Approve { notes: None })
        .await?;
    let data_key = keyring
        .unwrap(&file.key, &file.binding().aad())
        .await?
        .expose_secret()
        .to_vec();

    Ok(Planted {
        never: vec![
            Needle::new("file's content", CONTENT_LINE),
            Needle::new("run of the file's content", "hunter2"),
            Needle::new("data key in clear", data_key),
            Needle::new("key file's key, in base64", STANDARD_NO_PAD.encode(&kek)),
            Needle::new("key-encryption key", kek),
        ],
        stored: vec![
            Needle::new("file's name", name),
            Needle::new("wrapped data key", file.key.bytes.clone()),
        ],
        codes: Vec::new(),
    })
}

/// A transport that never sends: [`plant_webhook_secrets`] needs endpoints, not
/// deliveries.
struct Nowhere;

#[async_trait::async_trait]
impl WebhookTransport for Nowhere {
    async fn post(&self, _: &OutgoingWebhook) -> Result<TransportAnswer> {
        Err(Error::storage_msg(
            "not sent: the secret scan plants endpoints only",
        ))
    }
}

/// Creates a webhook endpoint on `hooks` (with a portal seeded on `store`, randomness
/// seed 11) and rotates its secret once. Answers both secrets as the host is shown
/// them (`whsec_…`), their base64 and their key bytes (`never`), and the endpoint's
/// host name (`stored`).
pub async fn plant_webhook_secrets(
    store: Arc<dyn Store>,
    hooks: Arc<dyn WebhookStore>,
) -> Result<Planted> {
    let h = TestService::new(store, 11);
    let seeded = h.seed_portal().await?;
    let staff = admin(seeded.tenant.id);
    let webhooks = Webhooks::new(
        &h.service,
        hooks,
        Arc::new(Nowhere),
        WebhookSettings::default(),
    );
    let (endpoint, first) = webhooks
        .create_endpoint(
            &staff,
            &NewEndpoint {
                url: "https://psa.example.com/hooks".into(),
                ..NewEndpoint::default()
            },
        )
        .await?;
    let (_, second) = webhooks.rotate_secret(&staff, endpoint.id).await?;

    let mut planted = Planted {
        stored: vec![Needle::new("endpoint's host", "psa.example.com")],
        ..Planted::default()
    };
    for secret in [first, second] {
        let text = secret.expose_secret();
        let encoded = text
            .strip_prefix("whsec_")
            .ok_or_else(|| off_course("a webhook secret without its whsec_ prefix"))?
            .to_owned();
        let key = STANDARD
            .decode(&encoded)
            .map_err(|_| off_course("a webhook secret that is not base64"))?;
        planted.never.extend([
            Needle::new("webhook secret", text),
            Needle::new("webhook secret's base64", encoded),
            Needle::new("webhook key", key),
        ]);
    }
    Ok(planted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Neither a needle's bytes nor a code reach `Debug`, only names and counts.
    #[tokio::test]
    async fn debug_prints_no_secret() {
        let planted = plant_access_secrets(Arc::new(crate::memory::MemoryStore::new()))
            .await
            .unwrap();
        let printed = format!("{planted:?}");
        assert!(printed.contains("session token"), "{printed}");
        for needle in &planted.never {
            let text = needle.text().unwrap();
            assert!(!printed.contains(text), "Debug prints the {}", needle.what);
        }
        assert_eq!(planted.codes.len(), 2);
        for code in &planted.codes {
            assert!(!printed.contains(code.as_str()), "Debug prints a code");
        }
    }
}
