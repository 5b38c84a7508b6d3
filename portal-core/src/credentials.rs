//! Credential handoff: the client's values checked, then each field sealed on its own
//! under the keyring, bound to its tenant, portal, task and field name.
//!
//! Each field gets a fresh random data key; its value is encrypted with AES-256-GCM-SIV
//! (random 96-bit nonce, misuse-resistant if a nonce ever repeats) and the data key is
//! wrapped by the [`KeyProvider`], both under the same associated data
//! ([`CredentialBinding::aad`]). A ciphertext or wrapped key copied to another task,
//! portal, tenant or field therefore does not open there (`Integrity`).
//!
//! Plaintext only lives in [`SecretText`] (zeroized on drop, `Debug` prints
//! `[redacted]`); sealing and opening work in [`Zeroizing`] buffers.
//!
//! Stores keep [`CredentialRecord`]s through [`crate::store::CredentialStore`], each
//! step with its audit event in the same unit; the use cases (submit, reveal, purge)
//! are in `service/credentials.rs`; the client page (a form, then only "submitted by X
//! at T") is `portal-http`'s task page, `POST /tasks/{task}/credentials`.

use std::fmt;

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Key, Nonce};
use zeroize::Zeroizing;

use crate::blob::keyring::{DataKey, KeyProvider, WrappedKey};
use crate::error::{Error, Result};
use crate::ids::{PortalId, TaskId, TenantId};
use crate::random::RandomSource;

/// The version byte at the start of every sealed value.
const VERSION: u8 = 1;
const NONCE: usize = 12;

/// The largest username, password or API key accepted: 4 KiB (long API keys and
/// certificates-as-text fit; a 1 MiB paste is refused with a clear message).
pub const MAX_SECRET: usize = 4 * 1024;
/// The largest notes accepted: 16 KiB.
pub const MAX_NOTES: usize = 16 * 1024;

/// A credential field of the handoff form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CredentialField {
    /// The account name.
    Username,
    /// The password.
    Password,
    /// An API key, when the task asks for one.
    ApiKey,
    /// Free-text notes (MFA instructions, URLs, ...), encrypted like the rest.
    Notes,
}

impl CredentialField {
    /// The stored (and bound) name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Password => "password",
            Self::ApiKey => "api_key",
            Self::Notes => "notes",
        }
    }

    /// The label the form shows.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Username => "Username",
            Self::Password => "Password",
            Self::ApiKey => "API key",
            Self::Notes => "Notes",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Username, Self::Password, Self::ApiKey, Self::Notes]
            .into_iter()
            .find(|f| f.as_str() == name)
    }
}

/// A plaintext value: zeroized when dropped, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    /// Wraps a value (the caller's copy should be a `Zeroizing` too).
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The value, for the one place that must show it (an audited reveal).
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText([redacted])")
    }
}

/// What the client typed into the handoff form.
#[derive(Debug, Clone)]
pub struct CredentialForm {
    /// Username (required).
    pub username: SecretText,
    /// Password (required).
    pub password: SecretText,
    /// API key (required when the task asks for one, otherwise ignored).
    pub api_key: Option<SecretText>,
    /// Notes (optional).
    pub notes: Option<SecretText>,
}

fn check(field: CredentialField, value: &str, max: usize, multiline: bool) -> Result<()> {
    let name = field.as_str();
    if value.len() > max {
        return Err(Error::invalid(
            name,
            crate::Reason::message(
                "reason-credential-too-long",
                &[("kib", (max / 1024).into())],
            ),
        ));
    }
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err(Error::invalid(
            name,
            crate::Reason::message("reason-credential-control", &[]),
        ));
    }
    Ok(())
}

impl CredentialForm {
    /// The rule of a submission: username and password (and the API key, if
    /// `api_key_required`) present and not blank; no field over its limit; no control
    /// characters (notes may hold line breaks and tabs). Answers the fields to seal, in
    /// form order: empty optional fields are left out. Values are kept as typed
    /// (leading or trailing spaces may be part of a password).
    pub fn checked(&self, api_key_required: bool) -> Result<Vec<(CredentialField, &SecretText)>> {
        let mut out = Vec::new();
        let mut required = vec![
            (CredentialField::Username, Some(&self.username)),
            (CredentialField::Password, Some(&self.password)),
        ];
        if api_key_required {
            required.push((CredentialField::ApiKey, self.api_key.as_ref()));
        }
        for (field, value) in required {
            let value = value
                .filter(|v| !v.expose_secret().trim().is_empty())
                .ok_or_else(|| {
                    Error::invalid(
                        field.as_str(),
                        crate::Reason::message("reason-credential-required", &[]),
                    )
                })?;
            check(field, value.expose_secret(), MAX_SECRET, false)?;
            out.push((field, value));
        }
        if let Some(notes) = self
            .notes
            .as_ref()
            .filter(|n| !n.expose_secret().trim().is_empty())
        {
            check(
                CredentialField::Notes,
                notes.expose_secret(),
                MAX_NOTES,
                true,
            )?;
            out.push((CredentialField::Notes, notes));
        }
        Ok(out)
    }
}

/// Where a credential belongs: its sealed values open only for the same binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialBinding {
    /// The MSP.
    pub tenant: TenantId,
    /// The portal.
    pub portal: PortalId,
    /// The credential handoff task.
    pub task: TaskId,
}

impl CredentialBinding {
    /// The associated data of one field's value and wrapped key: a fixed tag, the
    /// three ids, then the field's name (fixed-size ids first, so it is unambiguous).
    pub fn aad(&self, field: CredentialField) -> Vec<u8> {
        let mut out = Vec::with_capacity(80);
        out.extend_from_slice(b"portal-credential v1\0");
        out.extend_from_slice(self.tenant.as_bytes());
        out.extend_from_slice(self.portal.as_bytes());
        out.extend_from_slice(self.task.as_bytes());
        out.extend_from_slice(field.as_str().as_bytes());
        out
    }
}

/// A task's credential handoff as stored: who submitted it and when, and its sealed
/// fields (none once purged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// The MSP.
    pub tenant_id: TenantId,
    /// The portal.
    pub portal_id: PortalId,
    /// The credential handoff task.
    pub task_id: TaskId,
    /// Who submitted them (the client sees only this and the time).
    pub submitted_by: crate::workflow::Actor,
    /// When.
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    /// The sealed fields, in form order; empty once purged.
    pub fields: Vec<SealedField>,
    /// Who purged them and when, if they were.
    pub purged: Option<crate::workflow::CheckMark>,
}

impl CredentialRecord {
    /// Checks that the record belongs to `task` (a credential handoff task of the
    /// same portal, tenant `tenant`), is not purged yet and holds each field at most
    /// once; stores call it before writing a submission (`Invalid("credentials")`).
    pub fn ensure_belongs(&self, task: &crate::model::Task, tenant: TenantId) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        let ok = self.tenant_id == tenant
            && self.portal_id == task.portal_id
            && self.task_id == task.id
            && matches!(task.kind, crate::model::TaskKind::CredentialHandoff { .. })
            && self.purged.is_none()
            && !self.fields.is_empty()
            && self.fields.iter().all(|f| seen.insert(f.field));
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "credentials",
                "must be a submission for a credential handoff task of this portal",
            ))
        }
    }

    /// The binding its fields were sealed under.
    pub const fn binding(&self) -> CredentialBinding {
        CredentialBinding {
            tenant: self.tenant_id,
            portal: self.portal_id,
            task: self.task_id,
        }
    }
}

/// What a submission does to its task: only the client, only a credential handoff
/// task the client may act on (not blocked, not done: a second submission is refused
/// here too), which becomes complete "by X at T" with a `TaskCompleted` entry
/// ("Credentials submitted"). The store writes it with the record, once.
pub fn record_submission(
    task: &crate::model::Task,
    actor: &crate::workflow::Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<crate::workflow::TaskChange> {
    if actor.side() != crate::model::Side::Client {
        return Err(Error::Forbidden {
            reason: "only the client submits credentials".into(),
        });
    }
    if !matches!(task.kind, crate::model::TaskKind::CredentialHandoff { .. }) {
        return Err(Error::conflict(crate::Reason::message(
            "reason-task-no-credentials",
            &[],
        )));
    }
    crate::workflow::actions::client_may_act(task)?;
    let mut next = task.clone();
    next.updated_at = now;
    next.status = crate::model::TaskStatus::Completed;
    next.evidence.completion = Some(crate::workflow::Completion {
        by: actor.clone(),
        at: now,
        notes: None,
    });
    Ok(crate::workflow::TaskChange {
        activity: crate::workflow::ActivityEntry {
            portal_id: task.portal_id,
            at: now,
            actor: actor.clone(),
            kind: crate::workflow::ActivityKind::TaskCompleted,
            task_id: Some(task.id),
            subject: task.title.clone(),
            detail: Some("Credentials submitted".to_owned()),
        },
        task: next,
    })
}

/// One sealed field, as a store keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedField {
    /// Which field.
    pub field: CredentialField,
    /// Its data key, wrapped by the keyring under the field's binding.
    pub key: WrappedKey,
    /// `version (1) | nonce (12) | ciphertext + tag (16)`.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for SealedField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedField")
            .field("field", &self.field)
            .field("key_id", &self.key.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

fn cipher(key: &DataKey) -> Aes256GcmSiv {
    Aes256GcmSiv::new(&Key::<Aes256GcmSiv>::from(*key.expose_secret()))
}

fn integrity() -> Error {
    Error::Integrity {
        message: "a credential does not open for this task and field".into(),
    }
}

/// Seals one value for `field` of `binding`.
pub async fn seal_field(
    keys: &dyn KeyProvider,
    random: &dyn RandomSource,
    binding: &CredentialBinding,
    field: CredentialField,
    value: &SecretText,
) -> Result<SealedField> {
    let aad = binding.aad(field);
    let key = DataKey::generate(random);
    let mut nonce = [0u8; NONCE];
    random.fill(&mut nonce);
    let sealed = cipher(&key)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: value.expose_secret().as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| Error::storage_msg("a credential could not be encrypted"))?;
    let wrapped = keys.wrap(&key, &aad).await?;
    let mut ciphertext = Vec::with_capacity(1 + NONCE + sealed.len());
    ciphertext.push(VERSION);
    ciphertext.extend_from_slice(&nonce);
    ciphertext.extend_from_slice(&sealed);
    Ok(SealedField {
        field,
        key: wrapped,
        ciphertext,
    })
}

/// Opens a sealed value for `binding`: `Integrity` if it was sealed for another task,
/// portal, tenant or field, or altered.
pub async fn open_field(
    keys: &dyn KeyProvider,
    binding: &CredentialBinding,
    sealed: &SealedField,
) -> Result<SecretText> {
    let aad = binding.aad(sealed.field);
    let (version, rest) = sealed.ciphertext.split_first().ok_or_else(integrity)?;
    if *version != VERSION {
        return Err(integrity());
    }
    let (nonce, body) = rest.split_first_chunk::<NONCE>().ok_or_else(integrity)?;
    let key = keys.unwrap(&sealed.key, &aad).await.map_err(|e| match e {
        Error::NotFound { .. } => e,
        _ => integrity(),
    })?;
    let plain = Zeroizing::new(
        cipher(&key)
            .decrypt(
                &Nonce::from(*nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| integrity())?,
    );
    let text = std::str::from_utf8(&plain).map_err(|_| integrity())?;
    Ok(SecretText::new(text))
}

#[cfg(test)]
mod tests;
