//! The background prune: a Tokio task that calls
//! [`PortalService::prune_access_log`] (and the expired idempotency keys) periodically.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::PortalService;

/// Spawns a task on the current Tokio runtime that prunes the access log now and then
/// every `every` (an hour or a day is plenty: the retention is counted in days). A
/// failed prune is logged (`warn`) and retried at the next tick; the task runs until
/// the handle is aborted or the runtime shuts down. With several nodes on one
/// database, one node running it is enough (running it on all is harmless: the prune
/// is idempotent). A zero `every` is taken as one second.
///
/// # Panics
///
/// Panics when called outside a Tokio runtime, like [`tokio::spawn`].
pub fn spawn_retention(service: PortalService, every: Duration) -> JoinHandle<()> {
    let every = every.max(Duration::from_secs(1));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = service.prune_access_log().await {
                tracing::warn!(error = %e, "the access-log prune failed; retrying at the next tick");
            }
            if let Err(e) = service.prune_idempotency_keys().await {
                tracing::warn!(error = %e, "the idempotency-key prune failed; retrying at the next tick");
            }
        }
    })
}
