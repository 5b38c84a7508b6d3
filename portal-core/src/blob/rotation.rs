//! Key rotation of everything sealed under a wrapped data key besides uploaded
//! documents: drawn signature images, documents attached to signature tasks, files of
//! secure file drops and the fields of credential handoffs.
//!
//! Each such record keeps its content's data key wrapped by a KEK of the
//! [`KeyProvider`](super::keyring::KeyProvider). Retiring a KEK therefore means
//! re-wrapping every one of those keys, not only the uploads' (which
//! [`crate::store::DocumentStore::files_to_rewrap`] lists): a kind left behind would
//! become unreadable the day its old KEK is removed. The store lists the keys of one
//! kind ([`crate::store::DocumentStore::sealed_keys_to_rewrap`]) with the binding they
//! are bound to, the service re-wraps each ([`SealedKey::binding`]'s associated data
//! unchanged) and swaps it in with a compare-and-set
//! ([`crate::store::DocumentStore::replace_sealed_key`]). Content is never read or
//! re-encrypted.

use uuid::Uuid;

use super::envelope::FileBinding;
use super::keyring::WrappedKey;
use crate::credentials::{CredentialBinding, CredentialField};

/// A kind of record that keeps a wrapped data key (uploaded documents aside, which
/// have their own listing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SealedKind {
    /// The PNG of a drawn signature.
    SignatureImage,
    /// The document an MSP attached to a signature task.
    SignatureDocument,
    /// A file of a secure file drop whose bytes are still stored.
    DroppedFile,
    /// One sealed field of a credential handoff that is not purged.
    CredentialField,
    /// A file the MSP attached to a task ([`crate::attachments`]).
    TaskAttachment,
}

impl SealedKind {
    /// Every kind, in the order a rotation walks them.
    pub const ALL: [Self; 5] = [
        Self::SignatureImage,
        Self::SignatureDocument,
        Self::DroppedFile,
        Self::CredentialField,
        Self::TaskAttachment,
    ];

    /// A stable name for reports and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SignatureImage => "signature_images",
            Self::SignatureDocument => "signature_documents",
            Self::DroppedFile => "dropped_files",
            Self::CredentialField => "credential_fields",
            Self::TaskAttachment => "task_attachments",
        }
    }
}

/// Where one wrapped key is kept, within its kind; also the order a rotation walks
/// them in (by `id`, then `part`), so a rotation resumes after the last one it saw.
///
/// - signature images, signature documents, dropped files and task attachments: `id`
///   is the blob's id
///   (unique per record), `part` is 0;
/// - credential fields: `id` is the task's id, `part` the field's position in the
///   record (form order, from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SealedAt {
    /// The blob's or the task's id.
    pub id: Uuid,
    /// The field's position for credential fields, else 0.
    pub part: u32,
}

/// What a wrapped key is bound to: the associated data it was wrapped (and its content
/// sealed) with, which re-wrapping must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedBinding {
    /// Content in a blob: the file binding (signature images and documents are bound
    /// to their task, like uploads; dropped files too).
    File(FileBinding),
    /// A credential field: the handoff's binding and the field.
    Credential {
        /// The task's binding.
        binding: CredentialBinding,
        /// Which field.
        field: CredentialField,
    },
}

impl SealedBinding {
    /// The associated data the key was wrapped with.
    pub fn aad(&self) -> Vec<u8> {
        match self {
            Self::File(binding) => binding.aad(),
            Self::Credential { binding, field } => binding.aad(*field),
        }
    }
}

/// One wrapped key a rotation may have to move, as a store lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedKey {
    /// Its kind.
    pub kind: SealedKind,
    /// Where it is kept.
    pub at: SealedAt,
    /// What it is bound to (from the record as stored).
    pub binding: SealedBinding,
    /// The wrapped key as stored.
    pub key: WrappedKey,
}
