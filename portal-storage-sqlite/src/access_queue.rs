//! Access-log entries of signed-in requests, appended by the writer in batches
//! ([`AccessLogWrites::Queued`](crate::AccessLogWrites::Queued)).
//!
//! A request's entry goes into this queue before its response is sent; the first entry
//! of an empty queue hands the writer one job that takes every entry queued by the
//! time it runs and appends them together. So a burst of requests costs the writer
//! one job and one commit, and no request waits for a commit of its own.
//!
//! What can be lost: entries queued but not yet committed when the process dies
//! without shutting down, at most [`MAX_QUEUED`] (a request that finds that many
//! queued waits for them to be committed before it is answered). Normally those are
//! the entries of the last few milliseconds. Dropping or shutting the store down
//! commits every queued entry first (the writer finishes its jobs), and every read
//! of the access log through the store waits for the entries queued before it.

use std::sync::Mutex;

use portal_core::store::AccessLogEntry;

/// Most entries waiting for the writer; a request that finds this many waits for
/// them to be committed (which bounds what a crash can lose).
pub(crate) const MAX_QUEUED: usize = 4096;

/// What [`AccessQueue::push`] asks of its caller.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// The queue was empty: hand the writer a job that appends what is queued.
    First,
    /// A job is already on its way for this entry.
    Queued,
    /// Queued, and the queue is full: wait until it is committed.
    Full,
}

/// The entries waiting for the writer.
#[derive(Default)]
pub(crate) struct AccessQueue {
    entries: Mutex<Vec<AccessLogEntry>>,
}

impl AccessQueue {
    /// Queues `entry`.
    pub(crate) fn push(&self, entry: AccessLogEntry) -> Pushed {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.push(entry);
        match entries.len() {
            1 => Pushed::First,
            n if n >= MAX_QUEUED => Pushed::Full,
            _ => Pushed::Queued,
        }
    }

    /// Every queued entry, oldest first, leaving the queue empty (the writer's job
    /// calls it when it runs, so later entries find the queue empty and send a job
    /// of their own).
    pub(crate) fn take(&self) -> Vec<AccessLogEntry> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_core::ids::{ContactId, PortalId};
    use portal_core::random::OsRandom;
    use portal_core::store::{AccessEvent, RequestInfo};

    fn entry() -> AccessLogEntry {
        AccessLogEntry {
            at: chrono::Utc::now(),
            portal_id: PortalId::random(&OsRandom),
            contact_id: ContactId::random(&OsRandom),
            event: AccessEvent::PortalRequest,
            request: RequestInfo::default(),
        }
    }

    #[test]
    fn the_first_entry_of_an_empty_queue_sends_the_job_and_a_full_queue_waits() {
        let q = AccessQueue::default();
        assert_eq!(q.push(entry()), Pushed::First);
        assert_eq!(q.push(entry()), Pushed::Queued);
        assert_eq!(q.take().len(), 2);
        assert_eq!(q.push(entry()), Pushed::First, "empty again after take");
        for _ in 2..MAX_QUEUED {
            assert_eq!(q.push(entry()), Pushed::Queued);
        }
        assert_eq!(q.push(entry()), Pushed::Full);
        assert_eq!(q.take().len(), MAX_QUEUED);
    }
}
