//! The onboarding team (issue 14): staff set a portal's team (names, roles, emails,
//! photos); the client sees it on the home page and may address a question to one
//! member, who is then emailed in the unit that stores the question.

use super::PortalService;
use crate::error::{Error, Result};
use crate::ids::PortalId;
use crate::mail;
use crate::model::{LogoRef, OnboardingTeam, Portal, TeamMember};
use crate::outbox::MailKind;
use crate::staff::{StaffContext, StaffRole};
use crate::store::{ClientContext, PortalEdit};
use crate::workflow::ActivityKind;

impl PortalService {
    /// A portal's onboarding team with the portal (its version is the `ETag` a
    /// replacement names), for staff of its tenant.
    pub async fn staff_team(
        &self,
        staff: &StaffContext,
        portal: PortalId,
    ) -> Result<(Portal, OnboardingTeam)> {
        staff.require(StaffRole::Member, "reading the onboarding team")?;
        let portal = self.staff_portal(staff, portal).await?;
        let team = self.inner.store.portal_team(portal.id).await?;
        Ok((portal, team))
    }

    /// The client's own portal's onboarding team, in display order.
    pub async fn team(&self, ctx: &ClientContext) -> Result<OnboardingTeam> {
        self.inner.store.portal_team(ctx.portal_id).await
    }

    /// Replaces a portal's onboarding team (a member's job, like the target date).
    /// The members are checked by [`OnboardingTeam::new`]; each photo must be one
    /// stored by [`Self::upload_team_photo`] (`Invalid("photo")` otherwise, so a
    /// team never points at a missing image). The team, the version step and a
    /// staff-only feed entry are one store unit; with `expected`, the portal must
    /// still be at that version (`Stale` otherwise, nothing written). Returns the
    /// portal as stored and the team.
    pub async fn set_team(
        &self,
        staff: &StaffContext,
        portal: PortalId,
        members: Vec<TeamMember>,
        expected: Option<u64>,
    ) -> Result<(Portal, OnboardingTeam)> {
        staff.require(StaffRole::Member, "changing the onboarding team")?;
        let team = OnboardingTeam::new(members)?;
        let current = self.staff_portal(staff, portal).await?;
        for photo in team.members().iter().filter_map(|m| m.photo.as_ref()) {
            self.check_photo(photo).await?;
        }
        let detail = if team.is_empty() {
            "nobody".to_owned()
        } else {
            team.members()
                .iter()
                .map(|m| format!("{} ({})", m.name, m.role))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let entry = self.staff_entry(
            staff,
            portal,
            ActivityKind::TeamChanged,
            &current.client_name,
            Some(detail),
        );
        let stored = self
            .inner
            .store
            .edit_portal(portal, &PortalEdit::Team(team.clone()), expected, &entry)
            .await?;
        Ok((stored, team))
    }

    /// Validates and stores a team member's photo ([`TeamMember::photo_from_upload`]:
    /// PNG, JPEG or WebP, small), content-addressed with the logos; returns the
    /// reference to put in the member's `photo`.
    pub async fn upload_team_photo(&self, staff: &StaffContext, bytes: Vec<u8>) -> Result<LogoRef> {
        staff.require(StaffRole::Member, "uploading a team photo")?;
        let photo = TeamMember::photo_from_upload(bytes)?;
        self.inner.store.put_logo(&photo).await?;
        Ok(photo.reference())
    }

    /// A photo reference must name a stored image of the same type.
    async fn check_photo(&self, photo: &LogoRef) -> Result<()> {
        let missing = || {
            Error::invalid(
                "photo",
                "is not an uploaded photo; upload it first and use the reference returned",
            )
        };
        match self.inner.store.logo(&photo.sha256).await {
            Ok(stored) if stored.image_type == photo.image_type => Ok(()),
            Ok(_) | Err(Error::NotFound { .. }) => Err(missing()),
            Err(e) => Err(e),
        }
    }

    /// The email that carries a question to the one team member it is addressed to:
    /// the MSP's question notification, sent to the member's address. Not coalesced
    /// and not left to the digest: the client chose this person.
    pub(super) async fn question_to_member(
        &self,
        ctx: &ClientContext,
        member: &TeamMember,
        text: &str,
    ) -> Result<crate::outbox::OutboxMessage> {
        let portal = self.inner.store.portal(ctx.portal_id).await?;
        let email = mail::question_notification(
            mail::StaffRecipient {
                email: &member.email,
                branding: &portal.branding,
            },
            &portal.client_name,
            &ctx.contact_name,
            text,
        )?;
        Ok(self.outbox_mail(
            portal.tenant_id,
            Some(portal.id),
            MailKind::StaffNotification,
            email,
        ))
    }
}
