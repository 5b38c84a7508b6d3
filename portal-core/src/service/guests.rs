//! Guests: the use cases around [`crate::workflow::guests`]. Staff invite a guest to
//! specific tasks (one [`crate::store::AccessStore::add_guest`] unit with the
//! invitation email and the feed entry), list a portal's guests, share or unshare a
//! task and end a guest's access; a signed-in guest reads the tasks shared with them.

use chrono::{DateTime, Utc};

use super::{MAX_NAME, PortalService};
use crate::error::{Error, Result};
use crate::ids::{ContactId, PortalId, TaskId};
use crate::mail::Recipient;
use crate::model::{Contact, EmailAddress, Guest, Task, clean_label};
use crate::outbox::MailKind;
use crate::staff::{StaffContext, StaffRole};
use crate::store::{ClientContext, NewGuest};
use crate::workflow::ActivityKind;
use crate::workflow::guests::{self, Reach};

/// What staff give to invite a guest.
#[derive(Debug, Clone)]
pub struct GuestSpec<'a> {
    /// The guest's name.
    pub name: &'a str,
    /// The guest's email: where their invitation and codes go.
    pub email: &'a str,
    /// The guest's own organisation ("Previous IT Ltd").
    pub organisation: &'a str,
    /// The last instant the guest may come in (`None`: until staff end it).
    pub access_ends_at: Option<DateTime<Utc>>,
    /// The tasks to share with them (client tasks of the portal).
    pub tasks: &'a [TaskId],
}

impl PortalService {
    /// The invitation email of a new guest (of addGuest and of a handover): their own
    /// invite link, the tasks shared with them and the end of their access, signed for
    /// the MSP and ready for the store unit that writes the guest.
    pub(super) fn guest_invitation(
        &self,
        tenant: &crate::model::Tenant,
        portal: &crate::model::Portal,
        guest: &Contact,
        token: &crate::secret::InviteToken,
        titles: &[String],
    ) -> Result<crate::outbox::OutboxMessage> {
        let acting = crate::mail::ActingFor::new(tenant, Some(portal.id));
        let link = self.inner.links.invite_url(&acting, token);
        let email = crate::mail::guest_invite_email(
            Recipient {
                name: &guest.name,
                email: &guest.email,
                branding: &portal.branding,
                time_zone: guest.time_zone,
                language: guest.language.unwrap_or_default(),
            },
            &portal.client_name,
            &link,
            titles,
            guest.guest.as_ref().and_then(|g| g.access_ends_at),
        )?;
        Ok(self.outbox_mail(
            portal.tenant_id,
            Some(portal.id),
            MailKind::Invite,
            acting.sign(email),
        ))
    }

    /// Staff invite a guest to a portal: the guest contact with their shared tasks,
    /// their own invite link, the invitation email (naming the tasks, signed with the
    /// tenant's sender) and a feed entry attributed to the staff member, in one store
    /// unit that judges each task. Bad input is `Invalid` with its field (`name`,
    /// `email`, `organisation`, `access_ends_at`, `task_ids`).
    pub async fn add_guest(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        spec: &GuestSpec<'_>,
    ) -> Result<Contact> {
        staff.require(StaffRole::Member, "inviting a guest")?;
        let portal = self.staff_portal(staff, portal).await?;
        let name = clean_label("name", spec.name, MAX_NAME)?;
        let email = EmailAddress::parse(spec.email)?;
        let organisation = guests::clean_organisation(spec.organisation)?;
        let now = self.inner.clock.now();
        guests::judge_end_date(spec.access_ends_at, now)?;
        if spec.tasks.is_empty() {
            return Err(Error::invalid("task_ids", "share at least one task"));
        }
        let mut titles = Vec::with_capacity(spec.tasks.len());
        for id in spec.tasks {
            let task = self
                .inner
                .store
                .task(portal.id, *id)
                .await
                .map_err(|e| match e {
                    Error::NotFound { .. } => {
                        Error::invalid("task_ids", "is not a task of this portal")
                    }
                    other => other,
                })?;
            if !titles.contains(&task.title) {
                titles.push(task.title);
            }
        }
        let tenant = self.inner.store.tenant(portal.tenant_id).await?;
        let guest = Contact {
            id: ContactId::random(self.inner.random.as_ref()),
            portal_id: portal.id,
            name,
            email,
            revoked_at: None,
            time_zone: tenant.time_zone,
            created_at: now,
            invited_by: None,
            awaiting_approval: false,
            role: None,
            guest: Some(Guest {
                organisation: organisation.clone(),
                access_ends_at: spec.access_ends_at,
                shared_tasks: spec.tasks.to_vec(),
                handover_phase: None,
                stall_alerted_at: None,
            }),
            language: None,
        };
        let token = crate::secret::InviteToken::generate(self.inner.random.as_ref());
        let message = self.guest_invitation(&tenant, &portal, &guest, &token, &titles)?;
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::GuestInvited,
            &guest.name,
            Some(organisation),
        );
        let target = self
            .inner
            .store
            .add_guest(&NewGuest {
                guest,
                token: token.hash(),
                emails: vec![message],
                activity,
            })
            .await?;
        self.mail_queued().await;
        Ok(target.contact)
    }

    /// A portal's guests, oldest first (revoked ones included: staff see who had
    /// access).
    pub async fn guests(&self, staff: &StaffContext, portal: PortalId) -> Result<Vec<Contact>> {
        let portal = self.staff_portal(staff, portal).await?;
        Ok(self
            .inner
            .store
            .contacts(portal.id)
            .await?
            .into_iter()
            .filter(guests::is_guest)
            .collect())
    }

    /// Staff share a task with a guest (`shared: true`) or stop sharing it, with a
    /// feed entry attributed to them. `NotFound(Contact)` for a contact of another
    /// tenant, `Invalid("contact")` for a contact who is no guest.
    pub async fn share_guest_task(
        &self,
        staff: &StaffContext,
        contact: ContactId,
        task: TaskId,
        shared: bool,
    ) -> Result<Contact> {
        staff.require(StaffRole::Member, "sharing a task with a guest")?;
        let (target, portal) = self.staff_contact(staff, contact).await?;
        let mut activity = self.staff_entry(
            staff,
            portal.id,
            if shared {
                ActivityKind::GuestTaskShared
            } else {
                ActivityKind::GuestTaskUnshared
            },
            &target.name,
            None,
        );
        activity.task_id = Some(task);
        self.inner
            .store
            .share_task(contact, task, shared, &activity)
            .await
    }

    /// Staff end a guest's access now: their sessions, invite and codes stop working
    /// on their next request. An earlier end date stays.
    pub async fn end_guest_access(
        &self,
        staff: &StaffContext,
        contact: ContactId,
    ) -> Result<Contact> {
        staff.require(StaffRole::Member, "ending a guest's access")?;
        let (target, portal) = self.staff_contact(staff, contact).await?;
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::GuestAccessEnded,
            &target.name,
            None,
        );
        self.inner
            .store
            .end_guest_access(contact, self.inner.clock.now(), &activity)
            .await
    }

    /// The tasks shared with a signed-in guest, in the order they were shared (a task
    /// deleted since is skipped). Empty for the client's own contacts, who read the
    /// whole plan instead.
    pub async fn guest_tasks(&self, ctx: &ClientContext) -> Result<Vec<Task>> {
        super::open_to_clients(ctx.portal_status)?;
        let Some(guest) = &ctx.guest else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(guest.shared_tasks.len());
        for id in &guest.shared_tasks {
            ctx.judge_reach(Reach::Task(*id))?;
            match self.inner.store.task(ctx.portal_id, *id).await {
                Ok(task) if !task.internal => out.push(task),
                Ok(_) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
