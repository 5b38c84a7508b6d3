//! A file staff give the client (a task attachment, a document to sign) enters the
//! portal one way: its first bytes sniffed before anything is stored (an empty file,
//! markup a browser would run, or a kind the portal does not know are refused), its
//! name made to end in the extension of what the content is, and its content sealed
//! into a blob with the caller's limit enforced while streaming. Both staff intakes
//! call here, so a rule about what staff may share changes in one place.

use futures_util::StreamExt;

use super::PortalService;
use crate::blob::envelope::{FileBinding, SealedFile};
use crate::blob::{ByteStream, stream_of};
use crate::error::{Error, Result};
use crate::files::{self, FileType};
use crate::ids::{BlobId, TaskId};
use crate::model::Portal;

/// A staff file sealed into a blob, not yet recorded.
pub(super) struct StaffFile {
    /// The name to store: the uploaded name with the extension of the sniffed type.
    pub name: String,
    /// What the content is, by its first bytes.
    pub file_type: FileType,
    /// The sealed content (blob, wrapped key, size, SHA-256).
    pub sealed: SealedFile,
}

impl PortalService {
    /// Sniffs and seals a staff file for `task` of `portal`, at most `limit` bytes
    /// (`TooLarge` while streaming). Refusals are `Invalid("file")` naming what to
    /// send instead; nothing is stored for them.
    pub(super) async fn seal_staff_file(
        &self,
        portal: &Portal,
        task: TaskId,
        file_name: &str,
        content: ByteStream,
        limit: u64,
    ) -> Result<StaffFile> {
        let (prefix, complete, rest) = super::documents::peek(content, files::SNIFF_LEN).await?;
        if prefix.is_empty() {
            return Err(Error::invalid("file", "is empty (0 bytes)"));
        }
        let file_type = files::sniff(&prefix, complete).ok_or_else(|| {
            let what = if files::looks_like_markup(&prefix) {
                "is a web page or image markup (HTML, SVG or XML), which the portal does not serve because a browser would run it"
            } else {
                "is not a kind of file the portal accepts"
            };
            Error::invalid(
                "file",
                format!("{what}. {}", super::documents::accepted_list(&[])),
            )
        })?;
        let name = files::name_for_type(file_name, file_type);
        let content: ByteStream = Box::pin(stream_of(vec![prefix]).chain(rest));
        let binding = FileBinding {
            tenant: portal.tenant_id,
            portal: portal.id,
            task: Some(task),
            blob: BlobId::random(self.inner.random.as_ref()),
        };
        let sealed = self.vault()?.seal(&binding, content, limit).await?;
        Ok(StaffFile {
            name,
            file_type,
            sealed,
        })
    }

    /// Deletes the blob of a file whose record was refused, replaced or deleted (or of an
    /// upload that failed after sealing); a failure is
    /// logged (the blob is an orphan a sweep may find), never returned, because the
    /// caller's answer is already decided.
    pub(super) async fn discard_blob(&self, blob: BlobId, what: &'static str) {
        let vault = match self.vault() {
            Ok(v) => v,
            Err(err) => {
                tracing::error!(error = %err, blob = %blob, what, "could not delete a blob; it is an orphan now");
                return;
            }
        };
        if let Err(err) = vault.blobs().delete(blob).await {
            tracing::error!(error = %err, blob = %blob, what, "could not delete a blob; it is an orphan now");
        }
    }
}
