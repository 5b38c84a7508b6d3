//! The audit trail's use cases for the MSP: verify a portal's chain, export it as JSON
//! Lines. Events are appended by the units that record evidence (see
//! [`crate::store::AuditStore`]), never through the service on their own.

use crate::audit::{self, ChainReport, ChainedEvent};
use crate::error::Result;
use crate::ids::PortalId;
use crate::staff::{StaffContext, StaffRole};

use super::PortalService;

/// Events read per store call while walking a chain.
const PAGE: usize = 1000;

impl PortalService {
    /// A portal's whole chain, in order, read page by page.
    pub(super) async fn audit_chain(&self, portal: PortalId) -> Result<Vec<ChainedEvent>> {
        let mut events: Vec<ChainedEvent> = Vec::new();
        loop {
            let after = events.last().map_or(0, |e| e.seq);
            let page = self.inner.store.audit_events(portal, after, PAGE).await?;
            let full = page.len() == PAGE;
            events.extend(page);
            if !full {
                return Ok(events);
            }
        }
    }

    /// Walks a portal's audit chain (member): how many events it has, its head, and the
    /// first event whose number, link or hash does not hold, if any. A portal of
    /// another tenant is `NotFound(Portal)`.
    pub async fn verify_audit_chain(
        &self,
        staff: &StaffContext,
        portal: PortalId,
    ) -> Result<ChainReport> {
        staff.require(StaffRole::Member, "verifying the audit trail")?;
        let portal = self.staff_portal(staff, portal).await?;
        let events = self.audit_chain(portal.id).await?;
        let report = audit::verify_chain(&events);
        if let Some(fault) = report.fault {
            tracing::warn!(portal = %portal.id, seq = fault.seq, problem = ?fault.problem,
                "the audit chain does not verify");
        }
        Ok(report)
    }

    /// A portal's audit chain as JSON Lines (admin: it names people and states
    /// reasons), for `tests/audit/verify_chain.py` or an auditor's own tools. A portal
    /// of another tenant is `NotFound(Portal)`.
    pub async fn export_audit_chain(
        &self,
        staff: &StaffContext,
        portal: PortalId,
    ) -> Result<String> {
        staff.require(StaffRole::Admin, "exporting the audit trail")?;
        let portal = self.staff_portal(staff, portal).await?;
        let events = self.audit_chain(portal.id).await?;
        audit::export_jsonl(&events)
    }
}
