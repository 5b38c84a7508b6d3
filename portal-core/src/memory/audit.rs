//! [`AuditStore`] for [`MemoryStore`]: each portal's chain is a vector under the one
//! lock, so appends are serialised and numbered without gaps.

use async_trait::async_trait;

use super::MemoryStore;
use crate::audit::{AuditEntry, ChainedEvent};
use crate::error::Result;
use crate::ids::PortalId;
use crate::store::AuditStore;

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<ChainedEvent> {
        self.with(|st| st.append_audit(entry))
    }

    async fn audit_events(
        &self,
        portal: PortalId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChainedEvent>> {
        self.with(|st| {
            Ok(st
                .audit
                .get(&portal)
                .map(|chain| {
                    chain
                        .iter()
                        .filter(|e| e.seq > after)
                        .take(limit)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default())
        })
    }
}
