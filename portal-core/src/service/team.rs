//! Colleagues: the use cases around [`crate::workflow::team`]. A contact invites a
//! colleague (one [`crate::store::AccessStore::invite_colleague`] unit), staff
//! approve or decline a colleague awaiting approval and set the portal's invitation
//! mode, and a contact claims a team task or hands theirs to a colleague (one
//! [`crate::store::PlanStore::change_plan`] unit each, with the colleague's email).

use super::{MAX_NAME, PortalService};
use crate::error::{Entity, Error, Result};
use crate::ids::{ContactId, PortalId, TaskId};
use crate::mail::{self, Recipient};
use crate::model::{Contact, EmailAddress, Portal, Task, clean_label, clean_text};
use crate::outbox::MailKind;
use crate::staff::{StaffContext, StaffRole};
use crate::store::{ClientContext, ColleagueInvite, PortalEdit};
use crate::workflow::ActivityKind;
use crate::workflow::team::{self, InvitationMode};

use super::workflow::client_actor;

/// What inviting a colleague did.
#[derive(Debug, Clone)]
pub struct InvitedColleague {
    /// The new contact (`awaiting_approval` when staff approve first).
    pub colleague: Contact,
    /// Whether their invitation went out at once (else it waits for staff).
    pub sent: bool,
}

impl PortalService {
    /// The colleagues a signed-in contact sees on the team page: every contact of
    /// their portal that is not revoked, oldest first (the contact included). Guests
    /// are not the client's colleagues and are not listed.
    pub async fn colleagues(&self, ctx: &ClientContext) -> Result<Vec<Contact>> {
        Ok(self
            .inner
            .store
            .contacts(ctx.portal_id)
            .await?
            .into_iter()
            .filter(|c| c.revoked_at.is_none() && c.guest.is_none())
            .collect())
    }

    /// The portal of a signed-in contact (its colleague-invitation mode, its name).
    pub async fn client_portal(&self, ctx: &ClientContext) -> Result<Portal> {
        self.inner.store.portal(ctx.portal_id).await
    }

    /// A signed-in contact invites a colleague by name and email. Depending on the
    /// portal's mode the colleague gets their own invitation at once, or waits for
    /// staff to approve them; either way the MSP's notification recipients are told
    /// and the feed records who invited whom, all in one store unit that also checks
    /// the mode and the cap of [`team::MAX_CONTACTS_PER_PORTAL`] contacts. The
    /// inviter never sees the colleague's link.
    pub async fn invite_colleague(
        &self,
        ctx: &ClientContext,
        name: &str,
        email: &str,
    ) -> Result<InvitedColleague> {
        super::open_to_clients(ctx.portal_status)?;
        crate::workflow::guests::judge_team_action(ctx.guest.as_ref())?;
        let name = clean_label("name", name, MAX_NAME)?;
        let email = EmailAddress::parse(email)?;
        let portal = self.inner.store.portal(ctx.portal_id).await?;
        if portal.colleague_invitations == InvitationMode::Off {
            return Err(Error::Forbidden {
                reason: "this portal does not let contacts invite colleagues".into(),
            });
        }
        let tenant = self.inner.store.tenant(portal.tenant_id).await?;
        let at_once = portal.colleague_invitations == InvitationMode::AtOnce;
        let colleague = Contact {
            id: ContactId::random(self.inner.random.as_ref()),
            portal_id: portal.id,
            name,
            email,
            revoked_at: None,
            time_zone: ctx.time_zone,
            created_at: self.inner.clock.now(),
            invited_by: Some(ctx.contact_id),
            awaiting_approval: !at_once,
            role: None,
            guest: None,
            language: None,
        };
        let mut emails = Vec::new();
        let token = if at_once {
            let acting = crate::mail::ActingFor::new(&tenant, Some(portal.id));
            let (token, message) = self.invite_mail(&acting, &portal, &colleague)?;
            emails.push(message);
            Some(token.hash())
        } else {
            None
        };
        // The MSP's notification goes through the same per-portal coalescing (and the
        // daily digest) as every other client-triggered staff email, so a contact
        // inviting colleague after colleague cannot flood the MSP's inbox.
        let inviter = ctx.contact_name.clone();
        let (invited_name, invited_email) = (colleague.name.clone(), colleague.email.clone());
        let mut notice = self
            .staff_notices(portal.id, |client, to| {
                mail::colleague_invited_notification(
                    to,
                    client,
                    &inviter,
                    &invited_name,
                    &invited_email,
                    !at_once,
                )
            })
            .await;
        emails.append(&mut notice.emails);
        let queued = !emails.is_empty();
        let activity = crate::workflow::ActivityEntry {
            portal_id: portal.id,
            at: colleague.created_at,
            actor: client_actor(ctx),
            kind: ActivityKind::ColleagueInvited,
            task_id: None,
            subject: colleague.name.clone(),
            detail: Some(
                if at_once {
                    "invitation sent"
                } else {
                    "waiting for approval"
                }
                .to_owned(),
            ),
        };
        let target = self
            .inner
            .store
            .invite_colleague(&ColleagueInvite {
                colleague,
                token,
                cap: team::MAX_CONTACTS_PER_PORTAL,
                emails,
                activity,
            })
            .await;
        self.staff_notices_done(portal.id, notice, target.is_ok())
            .await;
        let target = target?;
        if queued {
            self.mail_queued().await;
        }
        Ok(InvitedColleague {
            colleague: target.contact,
            sent: at_once,
        })
    }

    /// Colleagues of a portal of the staff member's tenant that wait for approval,
    /// oldest first.
    pub async fn pending_colleagues(
        &self,
        staff: &StaffContext,
        portal: PortalId,
    ) -> Result<Vec<Contact>> {
        let portal = self.staff_portal(staff, portal).await?;
        Ok(self
            .inner
            .store
            .contacts(portal.id)
            .await?
            .into_iter()
            .filter(|c| c.awaiting_approval && c.revoked_at.is_none())
            .collect())
    }

    /// Staff approve a colleague a contact invited: their own invitation is issued and
    /// emailed, the flag cleared and the approval recorded, in one unit (the invite's).
    /// `Conflict` for a contact that does not await approval.
    pub async fn approve_colleague(
        &self,
        staff: &StaffContext,
        contact: ContactId,
    ) -> Result<Contact> {
        staff.require(StaffRole::Member, "approving a colleague")?;
        let (target, portal) = self.staff_contact(staff, contact).await?;
        if !target.awaiting_approval {
            return Err(Error::conflict("this contact does not await approval"));
        }
        let acting = self.acting_for(portal.tenant_id, Some(portal.id)).await?;
        let (token, message) = self.invite_mail(&acting, &portal, &target)?;
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::ColleagueApproved,
            &target.name,
            None,
        );
        let approved = self
            .inner
            .store
            .issue_invite(
                contact,
                &token.hash(),
                self.inner.clock.now(),
                &[message],
                Some(&activity),
            )
            .await?;
        self.mail_queued().await;
        Ok(approved.contact)
    }

    /// Staff decline a colleague a contact invited: the contact is removed (it never
    /// had a link) and the feed records the decline. `Conflict` for a contact that does
    /// not await approval (remove those with `remove_contact`).
    pub async fn decline_colleague(&self, staff: &StaffContext, contact: ContactId) -> Result<()> {
        staff.require(StaffRole::Member, "declining a colleague")?;
        let (target, portal) = self.staff_contact(staff, contact).await?;
        if !target.awaiting_approval {
            return Err(Error::conflict("this contact does not await approval"));
        }
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::ColleagueDeclined,
            &target.name,
            None,
        );
        self.inner.store.remove_contact(contact, &activity).await
    }

    /// Sets whether a portal's contacts may invite colleagues and whether staff
    /// approve each one first (admin: it decides who sees the client's onboarding).
    /// With `expected`, the portal must still be at that version (`Stale`).
    pub async fn set_colleague_invitations(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        mode: InvitationMode,
        expected: Option<u64>,
    ) -> Result<Portal> {
        staff.require(StaffRole::Admin, "setting colleague invitations")?;
        let portal = self.staff_portal(staff, portal).await?;
        let activity = self.staff_entry(
            staff,
            portal.id,
            ActivityKind::ColleagueInvitationsSet,
            &portal.client_name,
            Some(mode.label().to_owned()),
        );
        self.inner
            .store
            .edit_portal(
                portal.id,
                &PortalEdit::ColleagueInvitations(mode),
                expected,
                &activity,
            )
            .await
    }

    /// A contact takes on an open client task left to the whole team; it becomes
    /// theirs (one plan unit with its feed entry). `Conflict` if someone has it.
    pub async fn claim_task(&self, ctx: &ClientContext, task: TaskId) -> Result<Task> {
        self.assign(ctx, task, None).await
    }

    /// A contact hands a task assigned to them to an active colleague of the same
    /// portal, with a note (at most [`team::MAX_HANDOFF_NOTE`] characters) posted in the
    /// task's thread; the colleague is emailed a link to the task in the same unit.
    pub async fn hand_off_task(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        to: ContactId,
        note: &str,
    ) -> Result<Task> {
        self.assign(ctx, task, Some((to, note.to_owned()))).await
    }

    async fn assign(
        &self,
        ctx: &ClientContext,
        task: TaskId,
        to: Option<(ContactId, String)>,
    ) -> Result<Task> {
        super::open_to_clients(ctx.portal_status)?;
        crate::workflow::guests::judge_team_action(ctx.guest.as_ref())?;
        let actor = client_actor(ctx);
        let service = self.clone();
        let links = self.inner.links.clone();
        let acting = self.acting_for(ctx.tenant_id, Some(ctx.portal_id)).await?;
        let who = ctx.contact_name.clone();
        let language = ctx.language.unwrap_or_default();
        let change = self
            .change_plan(ctx.portal_id, move |plan, now| {
                let mut change = team::assign_on_plan(
                    plan,
                    task,
                    &actor,
                    to.as_ref().map(|(c, n)| (*c, n.as_str())),
                    now,
                    language,
                )?;
                let note_of = |to: &Option<(ContactId, String)>| {
                    to.as_ref().map_or(String::new(), |(_, n)| n.clone())
                };
                if let Some((to_id, _)) = &to
                    && let Some(colleague) = plan.contacts.iter().find(|c| c.id == *to_id)
                {
                    // The note as the rule kept it (the thread's comment names the colleague).
                    let note = clean_text("note", &note_of(&to), team::MAX_HANDOFF_NOTE)?;
                    let note = note.as_str();
                    let title = &plan.task(task)?.title;
                    let email = mail::task_handed_email(
                        Recipient {
                            name: &colleague.name,
                            email: &colleague.email,
                            branding: &plan.portal.branding,
                            time_zone: colleague.time_zone,
                            language: colleague.language.unwrap_or_default(),
                        },
                        title,
                        &who,
                        note,
                        &links.task_url(&acting, task),
                    )?;
                    change.emails.push(service.outbox_mail(
                        plan.portal.tenant_id,
                        Some(plan.portal.id),
                        MailKind::ClientNotification,
                        email,
                    ));
                }
                Ok(change)
            })
            .await
            .map_err(|e| match e {
                Error::NotFound {
                    entity: Entity::Portal,
                } => Error::NotFound {
                    entity: Entity::Task,
                },
                other => other,
            })?;
        self.mail_queued().await;
        change
            .tasks
            .into_iter()
            .find(|t| t.id == task)
            .ok_or_else(|| Error::storage_msg("a claim lost its task"))
    }
}
