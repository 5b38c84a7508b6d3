//! The handover from a client's previous provider: staff start the built-in phase
//! ([`crate::workflow::handover`]) with one call, which writes the phase, its tasks
//! and the outgoing provider's guest (both tasks shared, invitation queued, feed
//! entry) in one [`crate::store::AccessStore::start_handover`] unit.

use chrono::{DateTime, NaiveDate, Utc};

use super::{MAX_NAME, PortalService};
use crate::error::Result;
use crate::ids::{ContactId, PhaseId, TaskId};
use crate::model::{Contact, EmailAddress, Guest, clean_label};
use crate::staff::{StaffContext, StaffRole};
use crate::store::{Handover, NewGuest, NewHandover};
use crate::workflow::ActivityKind;
use crate::workflow::guests;
use crate::workflow::handover::{self, HandoverIds};

/// What staff give to start a handover.
#[derive(Debug, Clone)]
pub struct HandoverSpec<'a> {
    /// The outgoing provider's organisation ("Previous IT Ltd").
    pub organisation: &'a str,
    /// The name of the outgoing provider's contact person.
    pub name: &'a str,
    /// Their email: where the invitation and codes go.
    pub email: &'a str,
    /// The last instant they may come in (`None`: until staff end it).
    pub access_ends_at: Option<DateTime<Utc>>,
    /// When the handover tasks are due (`None`: no due date; the stall alert then
    /// counts untouched days).
    pub due_date: Option<NaiveDate>,
}

impl PortalService {
    /// Staff start the handover from the client's previous provider: the phase
    /// "Handover from your previous provider" with its checklist and credential-handoff
    /// tasks, the provider's contact as a guest with both tasks shared, their
    /// invitation email and a feed entry attributed to the staff member, in one store
    /// unit. Bad input is `Invalid` with its field (`organisation`, `name`, `email`,
    /// `access_ends_at`, `due_date`); a portal that already has a handover is
    /// `Conflict`.
    pub async fn start_handover(
        &self,
        staff: &StaffContext,
        portal: crate::ids::PortalId,
        spec: &HandoverSpec<'_>,
    ) -> Result<Handover> {
        staff.require(StaffRole::Member, "starting a handover")?;
        let portal = self.staff_portal(staff, portal).await?;
        let organisation = guests::clean_organisation(spec.organisation)?;
        let name = clean_label("name", spec.name, MAX_NAME)?;
        let email = EmailAddress::parse(spec.email)?;
        let now = self.inner.clock.now();
        guests::judge_end_date(spec.access_ends_at, now)?;
        // Read here to answer the clearest refusal first: a running handover (409)
        // before a taken email (the staff's input to fix, 422 on `email`). The store
        // judges both again inside its unit.
        let contacts = self.inner.store.contacts(portal.id).await?;
        let phases: Vec<PhaseId> = self
            .inner
            .store
            .portal_snapshot(portal.id)
            .await?
            .phases
            .iter()
            .map(|p| p.id)
            .collect();
        handover::judge_start(&phases, &contacts)?;
        if contacts.iter().any(|c| c.email == email) {
            return Err(crate::error::Error::invalid(
                "email",
                "this portal already has a contact with this email",
            ));
        }
        let tenant = self.inner.store.tenant(portal.tenant_id).await?;
        let today = now.with_timezone(&tenant.time_zone.tz()).date_naive();
        handover::judge_due_date(spec.due_date, today)?;
        let random = self.inner.random.as_ref();
        let ids = HandoverIds {
            portal: portal.id,
            phase: PhaseId::random(random),
            checklist: TaskId::random(random),
            credentials: TaskId::random(random),
            guest: ContactId::random(random),
        };
        let (phase, tasks) = handover::tasks(
            ids,
            &organisation,
            &portal.branding.company_name,
            &portal.client_name,
            spec.due_date,
            now,
        );
        let guest = Contact {
            id: ids.guest,
            portal_id: portal.id,
            name,
            email,
            revoked_at: None,
            time_zone: tenant.time_zone,
            created_at: now,
            invited_by: None,
            awaiting_approval: false,
            role: None,
            language: None,
            guest: Some(Guest {
                organisation: organisation.clone(),
                access_ends_at: spec.access_ends_at,
                shared_tasks: tasks.iter().map(|t| t.id).collect(),
                handover_phase: Some(phase.id),
                stall_alerted_at: None,
            }),
        };
        let token = crate::secret::InviteToken::generate(random);
        let titles: Vec<String> = tasks.iter().map(|t| t.title.clone()).collect();
        let message = self.guest_invitation(&tenant, &portal, &guest, &token, &titles)?;
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::HandoverStarted,
            &organisation,
            Some(guest.name.clone()),
        );
        let stored = self
            .inner
            .store
            .start_handover(&NewHandover {
                phase,
                tasks,
                guest: NewGuest {
                    guest,
                    token: token.hash(),
                    emails: vec![message],
                    activity,
                },
            })
            .await?;
        self.mail_queued().await;
        Ok(stored)
    }
}
