//! The onboarding team: the MSP's people on one portal, in the order staff chose,
//! shown on the client's home page and offered as addressees of "Ask a Question".

use serde::{Deserialize, Serialize};

use super::{EmailAddress, ImageType, Logo, LogoRef, clean_label};
use crate::error::{Error, Result};

/// Longest name or role label of a team member, in characters.
pub const MAX_TEAM_LABEL: usize = 120;

/// One of the MSP's people on a portal's onboarding team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    /// Their name, as the client sees it ("Sam Lee").
    pub name: String,
    /// Their role on this onboarding ("Project lead").
    pub role: String,
    /// Where the client can write to them, and where a question to them is emailed.
    pub email: EmailAddress,
    /// Their photo, stored like a logo ([`TeamMember::photo_from_upload`]); the home
    /// page shows their initials without one.
    #[serde(default)]
    pub photo: Option<LogoRef>,
}

impl TeamMember {
    /// Largest accepted photo: a face on a card needs far less than a logo.
    pub const MAX_PHOTO_BYTES: usize = 256 * 1024;

    /// Validates a member from raw input: name and role are short labels (no line
    /// breaks or control characters), the email an address; an error names the field.
    pub fn new(name: &str, role: &str, email: &str, photo: Option<LogoRef>) -> Result<Self> {
        Ok(Self {
            name: clean_label("name", name, MAX_TEAM_LABEL)?,
            role: clean_label("role", role, MAX_TEAM_LABEL)?,
            email: EmailAddress::parse(email)?,
            photo,
        })
    }

    /// Validates an uploaded photo: PNG, JPEG or WebP by its magic bytes (never a
    /// client's claim; no GIF: a photo does not move), at most
    /// [`Self::MAX_PHOTO_BYTES`]. It is then stored with
    /// [`crate::store::DirectoryStore::put_logo`], content-addressed like a logo.
    pub fn photo_from_upload(bytes: Vec<u8>) -> Result<Logo> {
        if bytes.len() > Self::MAX_PHOTO_BYTES {
            return Err(Error::invalid(
                "photo",
                format!("must be at most {} KiB", Self::MAX_PHOTO_BYTES / 1024),
            ));
        }
        match ImageType::sniff(&bytes) {
            Some(image_type @ (ImageType::Png | ImageType::Jpeg | ImageType::Webp)) => {
                Ok(Logo { image_type, bytes })
            }
            _ => Err(Error::invalid("photo", "must be a PNG, JPEG or WebP image")),
        }
    }

    /// Up to two initials of the name ("Sam Lee" → "SL"), shown instead of a photo.
    pub fn initials(&self) -> String {
        self.name
            .split_whitespace()
            .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
            .flat_map(char::to_uppercase)
            .take(2)
            .collect()
    }
}

/// A portal's onboarding team, in display order. A value of this type is always
/// valid ([`OnboardingTeam::new`]): at most [`OnboardingTeam::MAX_MEMBERS`] members,
/// no email twice (a question to one person names them by email).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<TeamMember>", into = "Vec<TeamMember>")]
pub struct OnboardingTeam(Vec<TeamMember>);

impl OnboardingTeam {
    /// Most members a team may have: a home-page card, not a directory.
    pub const MAX_MEMBERS: usize = 12;

    /// The rule for a team: at most [`Self::MAX_MEMBERS`] members and each email once
    /// (case-insensitively), the order kept as given. An empty team is fine: the card
    /// is then not shown.
    pub fn new(members: Vec<TeamMember>) -> Result<Self> {
        if members.len() > Self::MAX_MEMBERS {
            return Err(Error::invalid(
                "team",
                format!(
                    "may have at most {} members; remove {}",
                    Self::MAX_MEMBERS,
                    members.len() - Self::MAX_MEMBERS
                ),
            ));
        }
        for (i, m) in members.iter().enumerate() {
            let lower = m.email.as_str().to_lowercase();
            if members[..i]
                .iter()
                .any(|o| o.email.as_str().to_lowercase() == lower)
            {
                return Err(Error::invalid(
                    "team",
                    format!(
                        "lists {} twice; each person may be on the team once",
                        m.email
                    ),
                ));
            }
        }
        Ok(Self(members))
    }

    /// The members in display order.
    pub fn members(&self) -> &[TeamMember] {
        &self.0
    }

    /// Whether nobody is on the team.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The member with this email (case-insensitive), if on the team.
    pub fn member(&self, email: &str) -> Option<&TeamMember> {
        let wanted = email.trim().to_lowercase();
        self.0
            .iter()
            .find(|m| m.email.as_str().to_lowercase() == wanted)
    }
}

impl TryFrom<Vec<TeamMember>> for OnboardingTeam {
    type Error = Error;

    fn try_from(members: Vec<TeamMember>) -> Result<Self> {
        Self::new(members)
    }
}

impl From<OnboardingTeam> for Vec<TeamMember> {
    fn from(team: OnboardingTeam) -> Self {
        team.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, email: &str) -> TeamMember {
        TeamMember::new(name, "Project lead", email, None).unwrap()
    }

    #[test]
    fn team_is_capped_and_ordered() {
        let members: Vec<_> = (0..OnboardingTeam::MAX_MEMBERS)
            .map(|i| member(&format!("P {i}"), &format!("p{i}@msp.example")))
            .collect();
        let team = OnboardingTeam::new(members.clone()).unwrap();
        assert_eq!(team.members(), &members[..]);
        let mut over = members;
        over.push(member("One more", "more@msp.example"));
        let err = OnboardingTeam::new(over).unwrap_err();
        assert!(
            matches!(err, Error::Invalid { field: "team", .. }),
            "{err:?}"
        );
    }

    #[test]
    fn an_email_is_on_the_team_once() {
        let err = OnboardingTeam::new(vec![
            member("Sam Lee", "sam@msp.example"),
            member("Sam Again", "SAM@msp.example"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
    }

    #[test]
    fn members_are_validated() {
        assert!(TeamMember::new(" ", "Lead", "a@b.example", None).is_err());
        assert!(TeamMember::new("Sam", "", "a@b.example", None).is_err());
        assert!(TeamMember::new("Sam", "Lead", "not-an-email", None).is_err());
        assert!(TeamMember::new("Sam\u{202E}", "Lead", "a@b.example", None).is_err());
    }

    #[test]
    fn photos_are_sniffed_and_small() {
        let png = b"\x89PNG\r\n\x1a\n rest";
        assert_eq!(
            TeamMember::photo_from_upload(png.to_vec())
                .unwrap()
                .image_type,
            ImageType::Png
        );
        assert!(TeamMember::photo_from_upload(b"GIF89a....".to_vec()).is_err());
        assert!(TeamMember::photo_from_upload(b"<svg/>".to_vec()).is_err());
        let mut big = png.to_vec();
        big.resize(TeamMember::MAX_PHOTO_BYTES + 1, 0);
        assert!(TeamMember::photo_from_upload(big).is_err());
    }

    #[test]
    fn initials_and_lookup() {
        let team = OnboardingTeam::new(vec![member("sam lee", "sam@msp.example")]).unwrap();
        assert_eq!(team.members()[0].initials(), "SL");
        assert!(team.member(" Sam@MSP.example ").is_some());
        assert!(team.member("nobody@msp.example").is_none());
    }

    #[test]
    fn stored_json_refuses_an_invalid_team() {
        let twice = r#"[{"name":"A","role":"R","email":"a@b.example"},{"name":"B","role":"R","email":"a@b.example"}]"#;
        assert!(serde_json::from_str::<OnboardingTeam>(twice).is_err());
    }
}
