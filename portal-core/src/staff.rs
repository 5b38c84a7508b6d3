//! Who is acting on the MSP side: a [`StaffContext`] the host builds for each request
//! (portal-http's `StaffAuth` seam turns a request into one; an embedding host may use its
//! own session or SSO). Every MSP use case takes one, is scoped by its tenant, and
//! checks its role here, so a rule about who may do what lives in one place.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::model::EmailAddress;
use crate::workflow::Actor;

/// Longest staff id a host may assert (ids from SSO providers are opaque strings).
pub const MAX_STAFF_ID: usize = 200;
/// Longest staff display name.
pub const MAX_STAFF_NAME: usize = 200;

/// What a staff member may do.
///
/// Two roles, as MSP teams divide the work: an admin runs the account (settings,
/// branding, revocation, credential reveal), a member runs onboarding (tasks, reviews,
/// comments). Ordered: an admin may do everything a member may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StaffRole {
    /// Tasks, reviews, comments, answers.
    Member,
    /// Everything a member does, plus settings, branding, revocation, credential reveal.
    Admin,
}

impl StaffRole {
    /// The role's stable name (`"admin"`, `"member"`), as used in the admin API.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Member => "member",
            StaffRole::Admin => "admin",
        }
    }

    /// Parses a stable name back.
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.trim() {
            "member" => Ok(StaffRole::Member),
            "admin" => Ok(StaffRole::Admin),
            _ => Err(Error::invalid("role", "use \"admin\" or \"member\"")),
        }
    }
}

/// A staff member of one MSP (tenant), as the host authenticated them.
///
/// The core trusts the host for *who* this is; it enforces *what* they may touch:
/// only their tenant's data (anything else is `NotFound`, never saying it exists) and
/// only what their [`StaffRole`] allows (`Forbidden`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffContext {
    /// The MSP this staff member works for; every read and write is scoped by it.
    pub tenant: TenantId,
    /// The host's stable id for the person (user id, SSO subject).
    pub staff_id: String,
    /// Display name, shown in the activity feed and to clients.
    pub name: String,
    /// Email, if the host knows it.
    pub email: Option<EmailAddress>,
    /// What they may do.
    pub role: StaffRole,
}

impl StaffContext {
    /// Builds a context, validating the id and name (non-empty, bounded, no control
    /// characters) so a host's bad input is refused before it reaches the feed.
    pub fn new(
        tenant: TenantId,
        staff_id: &str,
        name: &str,
        email: Option<EmailAddress>,
        role: StaffRole,
    ) -> Result<Self> {
        let staff_id = staff_id.trim();
        if staff_id.is_empty() || staff_id.len() > MAX_STAFF_ID {
            return Err(Error::invalid(
                "staff_id",
                format!("give the staff member's id (1 to {MAX_STAFF_ID} bytes)"),
            ));
        }
        if staff_id.chars().any(char::is_control) {
            return Err(Error::invalid(
                "staff_id",
                "remove control characters from the staff id",
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.len() > MAX_STAFF_NAME {
            return Err(Error::invalid(
                "name",
                format!("give the staff member's name (1 to {MAX_STAFF_NAME} bytes)"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "remove control characters from the name",
            ));
        }
        Ok(StaffContext {
            tenant,
            staff_id: staff_id.to_owned(),
            name: name.to_owned(),
            email,
            role,
        })
    }

    /// The actor recorded in the activity feed and on evidence for this person's actions.
    pub fn actor(&self) -> Actor {
        Actor::Staff {
            name: self.name.clone(),
            email: self.email.clone(),
        }
    }

    /// Refuses unless this staff member has at least `needed`; `action` names what was
    /// attempted, for the error the caller shows.
    pub fn require(&self, needed: StaffRole, action: &str) -> Result<()> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(Error::Forbidden {
                reason: format!("{action} needs the {} role", needed.as_str()).into(),
            })
        }
    }

    /// `Ok` when `tenant` is this staff member's tenant; otherwise the `NotFound` of
    /// `entity`, so another MSP's ids are indistinguishable from ids that don't exist.
    pub fn scope(&self, tenant: TenantId, entity: crate::error::Entity) -> Result<()> {
        if tenant == self.tenant {
            Ok(())
        } else {
            Err(Error::NotFound { entity })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Entity;

    fn ctx(role: StaffRole) -> StaffContext {
        StaffContext::new(TenantId::from_bytes([1; 16]), "u-1", "Dana", None, role).unwrap()
    }

    #[test]
    fn a_member_may_not_do_what_needs_an_admin() {
        let member = ctx(StaffRole::Member);
        assert!(member.require(StaffRole::Member, "comment").is_ok());
        let err = member
            .require(StaffRole::Admin, "change branding")
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden { ref reason } if reason.contains("admin")));
        assert!(ctx(StaffRole::Admin).require(StaffRole::Admin, "x").is_ok());
    }

    #[test]
    fn another_tenant_is_not_found() {
        let staff = ctx(StaffRole::Admin);
        assert!(staff.scope(staff.tenant, Entity::Portal).is_ok());
        assert!(matches!(
            staff.scope(TenantId::from_bytes([2; 16]), Entity::Portal),
            Err(Error::NotFound {
                entity: Entity::Portal
            })
        ));
    }

    #[test]
    fn bad_ids_and_names_are_refused() {
        let t = TenantId::from_bytes([1; 16]);
        for (id, name) in [
            ("", "Dana"),
            ("u", " "),
            ("u\u{7}", "Dana"),
            ("u", "Da\nna"),
        ] {
            assert!(StaffContext::new(t, id, name, None, StaffRole::Member).is_err());
        }
        let long = "x".repeat(MAX_STAFF_ID + 1);
        assert!(StaffContext::new(t, &long, "Dana", None, StaffRole::Member).is_err());
    }

    #[test]
    fn roles_round_trip_by_name() {
        for r in [StaffRole::Admin, StaffRole::Member] {
            assert_eq!(StaffRole::parse(r.as_str()).unwrap(), r);
        }
        assert!(StaffRole::parse("owner").is_err());
    }
}
