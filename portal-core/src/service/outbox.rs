//! Delivering the email outbox: the pass that claims due emails and sends them
//! ([`PortalService::deliver_outbox`]), the MSP's list of failed emails, the prune of
//! sent ones, and (feature `tokio`) the background sender that runs the pass.
//!
//! The rules (when to retry, when to give up) are [`crate::outbox`]'s; the storage is
//! [`crate::store::OutboxStore`]'s. This module only strings them together.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::PortalService;
use crate::error::{Error, Result};
use crate::ids::{ClaimToken, MailId, PortalId, TenantId};
use crate::mail::{ActingFor, Email};
use crate::outbox::{self, FailedAttempt, MailKind, OutboxMessage};

/// Claimed batches one [`PortalService::deliver_outbox`] pass works through at most
/// (a pass is resumed by the next one).
const MAX_BATCHES_PER_PASS: u32 = 50;

/// When emails queued by an action are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MailDelivery {
    /// By a sender running beside the service ([`crate::service::spawn_outbox_sender`]
    /// in this process, or one in another process sharing the store): the action only
    /// queues its emails and wakes this process's sender, so a slow or dead mail server
    /// never slows a request. The default.
    #[default]
    Background,
    /// By the request itself, right after its unit committed: it runs one
    /// [`PortalService::deliver_outbox`] pass before it returns. For tests (the email
    /// is there when the call returns) and for hosts with no background task; failed
    /// emails are retried by the next pass, so such a host should still run one now
    /// and then.
    Inline,
}

/// What one [`PortalService::deliver_outbox`] pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Emails handed to the mailer and recorded as sent.
    pub sent: u32,
    /// Emails whose attempt failed and that will be tried again.
    pub retrying: u32,
    /// Emails given up (a permanent refusal, too many attempts, too late): listed by
    /// [`PortalService::failed_mail`].
    pub failed: u32,
    /// Emails whose outcome could not be recorded because this pass's claim no longer
    /// held them (logged; another sender has them).
    pub lost_claims: u32,
}

impl DeliveryReport {
    fn add(&mut self, other: Self) {
        self.sent += other.sent;
        self.retrying += other.retrying;
        self.failed += other.failed;
        self.lost_claims += other.lost_claims;
    }

    fn total(&self) -> u32 {
        self.sent + self.retrying + self.failed + self.lost_claims
    }
}

impl PortalService {
    /// Whom links and emails of `tenant` (and `portal`) are made for: the tenant's own
    /// base URL and sender as stored now.
    pub(crate) async fn acting_for(
        &self,
        tenant: TenantId,
        portal: Option<PortalId>,
    ) -> Result<ActingFor> {
        let tenant = self.inner.store.tenant(tenant).await?;
        Ok(ActingFor::new(&tenant, portal))
    }

    /// A new email for the outbox, due now, with a fresh id.
    pub(super) fn outbox_mail(
        &self,
        tenant: TenantId,
        portal: Option<PortalId>,
        kind: MailKind,
        email: Email,
    ) -> OutboxMessage {
        OutboxMessage::new(
            MailId::random(self.inner.random.as_ref()),
            tenant,
            portal,
            kind,
            email,
            self.inner.clock.now(),
        )
    }

    /// A fresh invite token for `contact` of `portal` and its invite email for the
    /// outbox: the link on the tenant's own base URL, signed with its sender. The
    /// caller writes the token's hash and the message in one unit.
    pub(super) fn invite_mail(
        &self,
        acting: &ActingFor,
        portal: &crate::model::Portal,
        contact: &crate::model::Contact,
    ) -> Result<(crate::secret::InviteToken, OutboxMessage)> {
        let token = crate::secret::InviteToken::generate(self.inner.random.as_ref());
        let link = self.inner.links.invite_url(acting, &token);
        let email = crate::mail::invite_email(
            crate::mail::Recipient {
                name: &contact.name,
                email: &contact.email,
                branding: &portal.branding,
                time_zone: contact.time_zone,
                language: contact.language.unwrap_or_default(),
            },
            &portal.client_name,
            &link,
        )?;
        let email = acting.sign(email);
        let message = self.outbox_mail(portal.tenant_id, Some(portal.id), MailKind::Invite, email);
        Ok((token, message))
    }

    /// Called after a unit that queued emails committed: delivers them at once
    /// ([`MailDelivery::Inline`]) or wakes this process's sender.
    pub(super) async fn mail_queued(&self) {
        match self.inner.delivery {
            MailDelivery::Inline => {
                if let Err(e) = self.deliver_outbox().await {
                    tracing::error!(error = %e, "could not deliver the outbox; the emails wait for the next pass");
                }
            }
            MailDelivery::Background => {
                #[cfg(feature = "tokio")]
                self.inner.wake.notify_one();
                if self.inner.senders.load(Ordering::SeqCst) == 0
                    && !self.inner.warned_no_sender.swap(true, Ordering::SeqCst)
                {
                    tracing::warn!(
                        "an email was queued but no outbox sender runs in this process; \
                         it waits for a sender (service::spawn_outbox_sender, or \
                         PortalService::deliver_outbox in another process sharing the store)"
                    );
                }
            }
        }
    }

    /// One delivery pass: claims the emails due at the injected clock's now (in batches
    /// of [`outbox::OutboxPolicy::batch`], under a lease of
    /// [`outbox::OutboxPolicy::lease`]), hands each to the mailer, and records the
    /// outcome: sent, retried later with backoff and jitter ([`outbox::judge_failure`]),
    /// or given up and listed for the MSP. Safe to run in several processes at once on
    /// one store: a claimed email is invisible to every other claim while its lease
    /// runs, and only the claim that holds it records its outcome.
    ///
    /// A store error stops the pass and is returned; what it did so far stands.
    pub async fn deliver_outbox(&self) -> Result<DeliveryReport> {
        let policy = self.inner.outbox;
        let batch = policy.batch.max(1);
        let mut report = DeliveryReport::default();
        for _ in 0..MAX_BATCHES_PER_PASS {
            let now = self.inner.clock.now();
            let claim = ClaimToken::random(self.inner.random.as_ref());
            let lease_until = now + policy.lease;
            let claimed = self
                .inner
                .store
                .claim_due(now, lease_until, batch, claim)
                .await?;
            let full = claimed.len() >= batch;
            for message in claimed {
                report.add(self.deliver_one(message, claim, lease_until).await?);
            }
            if !full {
                break;
            }
        }
        if report.total() > 0 {
            tracing::info!(
                sent = report.sent,
                retrying = report.retrying,
                failed = report.failed,
                lost_claims = report.lost_claims,
                "outbox pass"
            );
        }
        Ok(report)
    }

    async fn deliver_one(
        &self,
        message: OutboxMessage,
        claim: ClaimToken,
        lease_until: DateTime<Utc>,
    ) -> Result<DeliveryReport> {
        let policy = self.inner.outbox;
        let now = self.inner.clock.now();
        if let Some(give_up) = outbox::judge_claimed(&message, now, &policy) {
            return self.record_failure(&message, claim, &give_up).await;
        }
        if now > lease_until {
            // The batch took longer than the lease: another sender may have this email
            // by now. Leave it; whoever holds it sends it.
            tracing::warn!(mail = %message.id, "an outbox lease ran out before its email's turn; left for the next claim");
            return Ok(DeliveryReport {
                lost_claims: 1,
                ..DeliveryReport::default()
            });
        }
        // An email queued without a sender (a notification composed inside a store
        // unit) gets its tenant's sender now; one that names its own keeps it. A
        // tenant that cannot be read leaves the email for the next attempt.
        let acting = match self.acting_for(message.tenant_id, message.portal_id).await {
            Ok(acting) => acting,
            Err(Error::NotFound { .. }) => ActingFor::bare(message.tenant_id, message.portal_id),
            Err(e) => {
                let failure = outbox::judge_failure(
                    &message,
                    &e,
                    self.inner.clock.now(),
                    &policy,
                    self.jitter(),
                );
                return self.record_failure(&message, claim, &failure).await;
            }
        };
        let email = acting.sign(message.email.clone());
        match self.inner.mailer.send(&acting, &email).await {
            Ok(()) => {
                let recorded = self
                    .inner
                    .store
                    .mark_sent(message.id, claim, self.inner.clock.now())
                    .await;
                match recorded {
                    Ok(true) => Ok(DeliveryReport {
                        sent: 1,
                        ..DeliveryReport::default()
                    }),
                    Ok(false) => {
                        tracing::warn!(mail = %message.id, kind = message.kind.as_str(), "an email was sent after its claim was lost; another sender may send it again");
                        Ok(DeliveryReport {
                            lost_claims: 1,
                            ..DeliveryReport::default()
                        })
                    }
                    Err(e) => {
                        tracing::error!(mail = %message.id, error = %e, "an email was sent but could not be recorded; it is sent again when its lease ends");
                        Err(e)
                    }
                }
            }
            Err(e) => {
                let failure = outbox::judge_failure(
                    &message,
                    &e,
                    self.inner.clock.now(),
                    &policy,
                    self.jitter(),
                );
                self.record_failure(&message, claim, &failure).await
            }
        }
    }

    async fn record_failure(
        &self,
        message: &OutboxMessage,
        claim: ClaimToken,
        failure: &FailedAttempt,
    ) -> Result<DeliveryReport> {
        let to = message.email.to.masked();
        match failure.retry_at {
            Some(at) => tracing::warn!(
                mail = %message.id,
                kind = message.kind.as_str(),
                to = %to,
                attempts = message.attempts,
                retry_at = %at.to_rfc3339(),
                error = %failure.error,
                "email not sent; it will be tried again"
            ),
            None => tracing::error!(
                mail = %message.id,
                kind = message.kind.as_str(),
                to = %to,
                attempts = message.attempts,
                error = %failure.error,
                "email given up; it is listed among the MSP's failed emails"
            ),
        }
        let held = self
            .inner
            .store
            .mark_failed(message.id, claim, failure)
            .await?;
        Ok(match (held, failure.retry_at) {
            (false, _) => DeliveryReport {
                lost_claims: 1,
                ..DeliveryReport::default()
            },
            (true, Some(_)) => DeliveryReport {
                retrying: 1,
                ..DeliveryReport::default()
            },
            (true, None) => DeliveryReport {
                failed: 1,
                ..DeliveryReport::default()
            },
        })
    }

    /// A random number for the retry jitter, from the injected random source.
    fn jitter(&self) -> u64 {
        let mut bytes = [0u8; 8];
        self.inner.random.fill(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    /// The emails of the staff member's tenant that were given up (refused for good,
    /// or undeliverable for too long), the most recently failed first: recipient,
    /// subject, kind, times and the transport's last error (bodies are not kept).
    pub async fn failed_mail(
        &self,
        staff: &crate::staff::StaffContext,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>> {
        staff.require(crate::staff::StaffRole::Member, "reading failed emails")?;
        self.inner.store.failed_mail(staff.tenant, limit).await
    }

    /// Removes the records of emails sent longer ago than
    /// [`outbox::OutboxPolicy::keep_sent`], in batches; returns how many. Failed emails
    /// stay listed. The background sender runs it hourly.
    pub async fn prune_sent_mail(&self) -> Result<u64> {
        let before = self.inner.clock.now() - self.inner.outbox.keep_sent;
        let batch = self.inner.retention.batch.max(1);
        let mut removed = 0u64;
        for _ in 0..super::MAX_PRUNE_BATCHES {
            let n = self.inner.store.prune_sent(before, batch).await?;
            removed = removed.saturating_add(n);
            if n < u64::try_from(batch).unwrap_or(u64::MAX) {
                break;
            }
        }
        if removed > 0 {
            tracing::info!(removed, before = %before.to_rfc3339(), "pruned sent emails");
        }
        Ok(removed)
    }
}

#[cfg(feature = "tokio")]
pub use sender::{OutboxSender, spawn_outbox_sender};

#[cfg(feature = "tokio")]
mod sender {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use chrono::TimeDelta;
    use tokio::task::JoinHandle;

    use super::PortalService;

    /// How often the sender prunes sent emails.
    const PRUNE_EVERY: TimeDelta = TimeDelta::hours(1);

    /// A running background sender; [`OutboxSender::stop`] ends it cleanly.
    #[derive(Debug)]
    pub struct OutboxSender {
        stop: Arc<tokio::sync::Notify>,
        handle: JoinHandle<()>,
    }

    impl OutboxSender {
        /// Asks the sender to stop and waits for it: a pass under way finishes first
        /// (every email it claimed is sent or recorded as failed), then it ends.
        pub async fn stop(self) {
            self.stop.notify_one();
            if let Err(e) = self.handle.await {
                tracing::error!(error = %e, "the outbox sender ended abnormally");
            }
        }

        /// Whether the sender has ended.
        pub fn is_finished(&self) -> bool {
            self.handle.is_finished()
        }
    }

    /// Counts this process's running senders (for the "nobody sends" warning).
    struct Attached(PortalService);

    impl Drop for Attached {
        fn drop(&mut self) {
            self.0.inner.senders.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Spawns the outbox sender on the current Tokio runtime: it runs a
    /// [`PortalService::deliver_outbox`] pass at once, then whenever this process
    /// queues an email and at least every [`crate::outbox::OutboxPolicy::poll`], and
    /// prunes sent emails hourly. A failed pass is logged and retried at the next wake.
    /// Run one per process (several processes sharing a store may each run one: claims
    /// keep them from sending an email twice).
    ///
    /// # Panics
    ///
    /// Panics when called outside a Tokio runtime, like [`tokio::spawn`].
    pub fn spawn_outbox_sender(service: PortalService) -> OutboxSender {
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = stop.clone();
        service.inner.senders.fetch_add(1, Ordering::SeqCst);
        let attached = Attached(service);
        let handle = tokio::spawn(async move {
            let service = &attached.0;
            let poll = service
                .inner
                .outbox
                .poll
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(1))
                .max(std::time::Duration::from_millis(1));
            let mut last_prune = None;
            loop {
                if let Err(e) = service.deliver_outbox().await {
                    tracing::warn!(error = %e, "an outbox pass failed; retrying at the next wake");
                }
                let now = service.inner.clock.now();
                if last_prune.is_none_or(|at| now - at >= PRUNE_EVERY) {
                    last_prune = Some(now);
                    if let Err(e) = service.prune_sent_mail().await {
                        tracing::warn!(error = %e, "pruning sent emails failed; retrying within the hour");
                    }
                }
                tokio::select! {
                    () = stopped.notified() => break,
                    () = service.inner.wake.notified() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
            tracing::info!("the outbox sender stopped");
        });
        OutboxSender { stop, handle }
    }
}
