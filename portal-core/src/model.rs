//! The portal's data model: tenants (MSPs), portals (one client company's onboarding),
//! contacts, phases and tasks. Validation of user-supplied values lives next to the
//! type it protects, so a value of the type is always valid.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{ContactId, PhaseId, PortalId, TaskId, TenantId};

mod onboarding;
mod site;
pub use onboarding::{MAX_TEAM_LABEL, OnboardingTeam, TeamMember};
pub use site::{HostOwner, Sender, TenantBaseUrl, host_admits, host_of, host_owner};

pub use crate::task_kind::{
    ChecklistItem, DEFAULT_DROP_EXPIRY_DAYS, DocumentRef, MeetingSchedule, Question, QuestionKind,
    RequestedDocument, TaskKind,
};

/// A validated email address (one `@`, no spaces or control characters, at most 254 bytes).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates and normalises (trims; lower-cases the domain) an address.
    pub fn parse(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        let bad = |why: &str| {
            Error::invalid(
                "email",
                format!("{why}; enter an address like name@example.com"),
            )
        };
        if raw.is_empty() || raw.len() > 254 {
            return Err(bad("must be 1 to 254 characters"));
        }
        if raw.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';')
        }) {
            return Err(bad(
                "must not contain spaces, quotes, commas or angle brackets",
            ));
        }
        let Some((local, domain)) = raw.rsplit_once('@') else {
            return Err(bad("must contain @"));
        };
        if local.is_empty()
            || local.contains('@')
            || domain.is_empty()
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad("is not a valid address"));
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with most of the mailbox hidden, for pages shown before verification:
    /// `jane.doe@example.com` becomes `j•••e@example.com`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let chars: Vec<char> = local.chars().collect();
        let shown = match chars.as_slice() {
            [] => String::new(),
            [only] => format!("{only}•••"),
            [first, .., last] => format!("{first}•••{last}"),
        };
        format!("{shown}@{domain}")
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `c` overrides or isolates the direction of the text around it (U+202A–U+202E,
/// U+2066–U+2069). Such characters make "invoice.pdf" display as something else
/// ("Trojan Source"), so no text field accepts them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn refuse_bidi(field: &'static str, value: &str) -> Result<()> {
    if value.chars().any(is_bidi_control) {
        return Err(Error::invalid(
            field,
            crate::Reason::message("reason-text-bidi", &[]),
        ));
    }
    Ok(())
}

/// Validates a short human-entered label (names, titles): trimmed, not empty, at most
/// `max` characters, no control characters (text-direction controls included).
pub fn clean_label(field: &'static str, raw: &str, max: usize) -> Result<String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Error::invalid(
            field,
            crate::Reason::message("reason-text-empty", &[]),
        ));
    }
    if value.chars().count() > max {
        return Err(Error::invalid(
            field,
            crate::Reason::message("reason-text-too-long", &[("max", max.into())]),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            crate::Reason::message("reason-text-one-line", &[]),
        ));
    }
    refuse_bidi(field, value)?;
    Ok(value.to_owned())
}

/// Validates multi-line plain text (descriptions, welcome messages, comments): line
/// breaks and tabs are kept, other control characters (text-direction controls
/// included) refused, at most `max` characters.
pub fn clean_text(field: &'static str, raw: &str, max: usize) -> Result<String> {
    let value = raw.trim().replace("\r\n", "\n");
    if value.chars().count() > max {
        return Err(Error::invalid(
            field,
            crate::Reason::message("reason-text-too-long", &[("max", max.into())]),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid(
            field,
            crate::Reason::message("reason-text-control", &[]),
        ));
    }
    refuse_bidi(field, &value)?;
    Ok(value)
}

/// An accent color as `#rrggbb`.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccentColor([u8; 3]);

impl AccentColor {
    /// Parses `#rrggbb` (or `rrggbb`), case-insensitive.
    pub fn parse(raw: &str) -> Result<Self> {
        let hex = raw.trim().trim_start_matches('#');
        let bad = || Error::invalid("accent color", "use a hex color like #1f6feb");
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        Ok(Self([byte(0)?, byte(2)?, byte(4)?]))
    }

    /// The color's red, green and blue bytes.
    pub const fn rgb(&self) -> [u8; 3] {
        self.0
    }

    /// `#rrggbb`.
    pub fn hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0[0], self.0[1], self.0[2])
    }

    /// WCAG 2.x relative luminance.
    pub fn luminance(&self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(self.0[0]) + 0.7152 * channel(self.0[1]) + 0.0722 * channel(self.0[2])
    }

    /// The text color (black or white) with the higher WCAG contrast on this color,
    /// so text on accent-colored buttons stays readable whatever the MSP picks.
    pub fn text_color(&self) -> &'static str {
        let l = self.luminance();
        let on_white = 1.05 / (l + 0.05);
        let on_black = (l + 0.05) / 0.05;
        if on_white >= on_black {
            "#ffffff"
        } else {
            "#000000"
        }
    }
}

impl TryFrom<String> for AccentColor {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Self::parse(&value)
    }
}

impl From<AccentColor> for String {
    fn from(value: AccentColor) -> Self {
        value.hex()
    }
}

impl fmt::Debug for AccentColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccentColor({})", self.hex())
    }
}

/// Raster image formats accepted for logos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageType {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
}

impl ImageType {
    /// Recognises the format from the file's first bytes (never from a client's claim).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => Some(Self::Png),
            [0xff, 0xd8, 0xff, ..] => Some(Self::Jpeg),
            [b'G', b'I', b'F', b'8', ..] => Some(Self::Gif),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Some(Self::Webp),
            _ => None,
        }
    }

    /// The MIME type.
    pub const fn mime(&self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }
}

/// A logo image; stored content-addressed by its SHA-256 so tenants and portals can share it.
#[derive(Clone, PartialEq, Eq)]
pub struct Logo {
    /// The image format.
    pub image_type: ImageType,
    /// The image bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Logo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Logo({:?}, {} bytes)", self.image_type, self.bytes.len())
    }
}

impl Logo {
    /// Largest accepted logo.
    pub const MAX_BYTES: usize = 512 * 1024;

    /// Validates an uploaded image: a known raster format by its magic bytes, within size.
    pub fn from_upload(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() > Self::MAX_BYTES {
            return Err(Error::invalid(
                "logo",
                format!("must be at most {} KiB", Self::MAX_BYTES / 1024),
            ));
        }
        let image_type = ImageType::sniff(&bytes)
            .ok_or_else(|| Error::invalid("logo", "must be a PNG, JPEG, GIF or WebP image"))?;
        Ok(Self { image_type, bytes })
    }

    /// The reference branding keeps: format and SHA-256 (hex).
    pub fn reference(&self) -> LogoRef {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(&self.bytes);
        let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
        LogoRef {
            image_type: self.image_type,
            sha256: hex,
        }
    }
}

/// Points at a stored [`Logo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoRef {
    /// The image format.
    pub image_type: ImageType,
    /// Lower-case hex SHA-256 of the bytes: the logo's storage key and cache version.
    pub sha256: String,
}

/// How a portal looks: set on the tenant as defaults, copied into each new portal,
/// and overridable per portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    /// How the MSP's name appears to the client.
    pub company_name: String,
    /// Applied to buttons, progress bars and interactive elements.
    pub accent_color: AccentColor,
    /// Plain text shown on the portal home; line breaks are kept.
    pub welcome_message: String,
    /// The MSP's logo in the portal header.
    pub logo: Option<LogoRef>,
}

impl Branding {
    /// Longest company display name.
    pub const MAX_NAME: usize = 120;
    /// Longest welcome message.
    pub const MAX_WELCOME: usize = 4000;

    /// Validated branding from user input.
    pub fn new(
        company_name: &str,
        accent_color: &str,
        welcome_message: &str,
        logo: Option<LogoRef>,
    ) -> Result<Self> {
        Ok(Self {
            company_name: clean_label("company display name", company_name, Self::MAX_NAME)?,
            accent_color: AccentColor::parse(accent_color)?,
            welcome_message: clean_text("welcome message", welcome_message, Self::MAX_WELCOME)?,
            logo,
        })
    }

    /// Branding built field by field, so the strings cannot be passed in the wrong
    /// order: only the company name is needed, the rest has defaults (a neutral blue
    /// accent, no welcome message, no logo). [`BrandingBuilder::build`] validates.
    ///
    /// ```
    /// use portal_core::model::Branding;
    ///
    /// let branding = Branding::builder("Northwind IT")
    ///     .accent_color("#0d6e7a")
    ///     .welcome_message("Welcome aboard! Start with the first task.")
    ///     .build()?;
    /// assert_eq!(branding.company_name, "Northwind IT");
    /// assert!(Branding::builder("Northwind IT").accent_color("teal").build().is_err());
    /// # Ok::<(), portal_core::Error>(())
    /// ```
    pub fn builder(company_name: impl Into<String>) -> BrandingBuilder {
        BrandingBuilder {
            company_name: company_name.into(),
            accent_color: BrandingBuilder::DEFAULT_ACCENT.to_owned(),
            welcome_message: String::new(),
            logo: None,
        }
    }
}

/// Collects [`Branding`] by name; see [`Branding::builder`].
#[derive(Debug, Clone)]
#[must_use = "call .build() to get the Branding"]
pub struct BrandingBuilder {
    company_name: String,
    accent_color: String,
    welcome_message: String,
    logo: Option<LogoRef>,
}

impl BrandingBuilder {
    /// The accent used when none is given: a blue with 4.5:1 contrast on white.
    pub const DEFAULT_ACCENT: &'static str = "#1f5fbf";

    /// `#rrggbb` for buttons, progress bars and links.
    pub fn accent_color(mut self, color: impl Into<String>) -> Self {
        self.accent_color = color.into();
        self
    }

    /// Plain text shown on the portal home (line breaks kept).
    pub fn welcome_message(mut self, message: impl Into<String>) -> Self {
        self.welcome_message = message.into();
        self
    }

    /// The logo in the portal header (stored with the tenant's logo call).
    pub fn logo(mut self, logo: LogoRef) -> Self {
        self.logo = Some(logo);
        self
    }

    /// The validated branding: `Error::Invalid` names the field to fix.
    pub fn build(self) -> Result<Branding> {
        Branding::new(
            &self.company_name,
            &self.accent_color,
            &self.welcome_message,
            self.logo,
        )
    }
}

/// An IANA time zone ("America/New_York"): where a contact reads the times the portal
/// shows and when their reminders arrive. Kept by name, so a change of the zone's rules
/// (a country dropping daylight saving) follows the tz database, not a stored offset.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// UTC: the zone of a tenant that has not chosen one.
    pub const UTC: Self = Self(chrono_tz::UTC);

    /// Parses an IANA name (exact spelling, as the tz database has it).
    pub fn parse(raw: &str) -> Result<Self> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            Error::invalid("time zone", crate::Reason::message("reason-time-zone", &[]))
        })
    }

    /// The zone for date arithmetic.
    pub const fn tz(&self) -> chrono_tz::Tz {
        self.0
    }

    /// Its IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The zones a person picks from, by name: UTC and every `Area/Location` zone of
    /// the tz database (the `Etc/` offsets and old aliases without an area are left
    /// out: a person looks for their city), sorted by name.
    pub fn choices() -> Vec<Self> {
        let mut zones: Vec<Self> = chrono_tz::TZ_VARIANTS
            .iter()
            .filter(|tz| {
                let name = tz.name();
                name.contains('/') && !name.starts_with("Etc/")
            })
            .map(|tz| Self(*tz))
            .collect();
        zones.push(Self::UTC);
        zones.sort_by_key(|z| z.name());
        zones
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self::UTC
    }
}

impl From<chrono_tz::Tz> for TimeZone {
    fn from(tz: chrono_tz::Tz) -> Self {
        Self(tz)
    }
}

impl TryFrom<String> for TimeZone {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Self::parse(&value)
    }
}

impl From<TimeZone> for String {
    fn from(value: TimeZone) -> Self {
        value.name().to_owned()
    }
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeZone({})", self.name())
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An MSP using the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// The MSP's own name (for its staff; clients see `branding.company_name`).
    pub name: String,
    /// Branding copied into portals created from now on.
    pub branding: Branding,
    /// Who at the MSP is emailed about client questions and comments.
    pub notification_recipients: Vec<EmailAddress>,
    /// The zone new contacts get unless told otherwise (UTC unless the MSP chose one).
    #[serde(default)]
    pub time_zone: TimeZone,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Its own public address (custom domain); `None`: the host's configured base URL.
    /// Unique by host name across tenants.
    #[serde(default)]
    pub base_url: Option<TenantBaseUrl>,
    /// Who its emails come from; `None`: the host's configured sender.
    #[serde(default)]
    pub sender: Option<Sender>,
    /// Raised by every change of the tenant's settings (name, recipients, branding,
    /// base URL, sender),
    /// starting at 1 whatever a creator passes: an admin's edit names the version they
    /// saw and the store compares it inside its unit (the admin API's ETag).
    #[serde(default = "first_version")]
    pub version: u64,
}

/// Lifecycle of a portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortalStatus {
    /// Being prepared by the MSP.
    Draft,
    /// Open to the client.
    Active,
    /// Onboarding finished; still viewable.
    Completed,
    /// Closed.
    Archived,
}

impl PortalStatus {
    /// Stable storage name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Archived => "archived",
        }
    }

    /// Whether clients may sign in and use the portal: an active portal, or a completed
    /// one (still viewable). A draft is not open yet; an archived one is closed.
    pub const fn is_open_to_clients(&self) -> bool {
        matches!(self, Self::Active | Self::Completed)
    }

    /// Reverse of [`Self::as_str`].
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "draft" => Self::Draft,
            "active" => Self::Active,
            "completed" => Self::Completed,
            "archived" => Self::Archived,
            _ => {
                return Err(Error::invalid(
                    "status",
                    "must be draft, active, completed or archived",
                ));
            }
        })
    }
}

/// One client company's onboarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portal {
    /// Its id.
    pub id: PortalId,
    /// The MSP running it.
    pub tenant_id: TenantId,
    /// The client company's name.
    pub client_name: String,
    /// Lifecycle status.
    pub status: PortalStatus,
    /// Branding, copied from the tenant when created and overridable.
    pub branding: Branding,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the MSP aims to go live, if set (shown in the MSP's portal list).
    #[serde(default)]
    pub target_date: Option<NaiveDate>,
    /// Raised by every change of the fields above (name, status, branding, target
    /// date), starting at 1 whatever a creator passes; the plan has versions of its
    /// own (phases, tasks). A staff edit names the version it saw and the store
    /// compares it inside its unit (the admin API's ETag).
    #[serde(default = "first_version")]
    pub version: u64,
    /// Whether its contacts may invite colleagues, and whether staff approve each
    /// invitation first (see [`crate::workflow::team`]).
    #[serde(default)]
    pub colleague_invitations: crate::workflow::team::InvitationMode,
}

/// A person at the client company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Its id.
    pub id: ContactId,
    /// The portal it belongs to.
    pub portal_id: PortalId,
    /// Display name.
    pub name: String,
    /// Email on file: where verification emails go.
    pub email: EmailAddress,
    /// When the MSP revoked this contact's access, if it did.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Where the contact reads times and gets reminders: the tenant's zone unless the
    /// MSP set another when adding the contact.
    #[serde(default)]
    pub time_zone: TimeZone,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The contact who invited this one from the portal, if a colleague did (the MSP
    /// added the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<ContactId>,
    /// Invited by a colleague and waiting for MSP staff to approve: no invite link
    /// yet, so no access; approval issues the invite.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_approval: bool,
    /// The role the MSP gave the contact ("primary", "technical", "billing"), a
    /// short lower-case label (see [`crate::workflow::team::clean_role`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Set when the participant is a guest from outside the client company (the
    /// outgoing MSP, the ISP, a vendor): they see only the tasks shared with them
    /// (see [`crate::workflow::guests`]). `None` for the client's own people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<Guest>,
    /// The language the MSP set for the contact: their pages and emails are in it.
    /// `None`: pages follow the browser's `Accept-Language`, emails are in English
    /// (see [`crate::i18n`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::i18n::Language>,
}

/// What makes a contact a guest: who they are with, until when they may come in,
/// and the only tasks they can see. Kept on the contact record so that every
/// access decision reads it in the same unit as the contact itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guest {
    /// The guest's own organisation ("Previous IT Ltd"), shown to staff and in the
    /// thread next to their name.
    pub organisation: String,
    /// The last instant the guest may sign in or use a session; `None`: until the MSP
    /// ends it. After it every invite, code, link and session of the guest is refused
    /// on the very next request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_ends_at: Option<DateTime<Utc>>,
    /// The tasks shared with the guest, in the order they were shared (no repeats).
    #[serde(default)]
    pub shared_tasks: Vec<TaskId>,
    /// Set when the guest is the outgoing provider of a handover
    /// ([`crate::workflow::handover`]): the built-in phase they were invited for. While
    /// that phase exists the portal has a handover, so a second one is refused, and
    /// the reminders know its tasks (the stall alert). `None` for any other guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover_phase: Option<PhaseId>,
    /// When the MSP was told that this guest's handover stalls
    /// ([`crate::workflow::handover::judge_stall`]): one alert per handover, so the
    /// reminder pass that runs every few minutes never repeats it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_alerted_at: Option<DateTime<Utc>>,
}

impl Contact {
    /// A tag of the contact's stored content (name, email, revocation, time zone,
    /// ids and creation time): equal for equal records, different after any change.
    /// Contacts carry no version counter; this tag plays its part for staff edits
    /// (the admin API's `ETag`, and [`crate::store::DirectoryStore::edit_contact`]'s
    /// compare-and-set, which computes it from the stored record inside its unit).
    /// Derived from the record alone: the contact's last access (a client-side fact)
    /// never makes a staff edit stale.
    pub fn content_tag(&self) -> String {
        use sha2::{Digest, Sha256};
        let encoded = serde_json::to_vec(self).unwrap_or_default();
        let digest = Sha256::digest(&encoded);
        digest[..12].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A phase of the onboarding plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// Its id.
    pub id: PhaseId,
    /// The portal it belongs to.
    pub portal_id: PortalId,
    /// 0-based order within the portal.
    pub position: u32,
    /// Display name.
    pub name: String,
    /// Raised by every change of the phase (rename, move), starting at 1: staff edits
    /// name the version they saw, so two people editing at once never silently
    /// overwrite each other (the admin API's ETag).
    #[serde(default = "first_version")]
    pub version: u64,
}

/// The version of a record that was never changed.
pub const fn first_version() -> u64 {
    1
}

/// The compare of a compare-and-set on a versioned record (a tenant's settings, a
/// portal): stores call it inside the unit of the change, with the version as stored
/// and the one the caller saw (`None`: the caller names none, any version will do).
/// Another version is [`Error::Stale`], so the caller
/// reloads instead of overwriting a change it never saw.
pub fn check_expected_version(
    what: &str,
    stored: u64,
    expected: Option<u64>,
) -> crate::error::Result<()> {
    match expected {
        Some(v) if v != stored => Err(crate::error::Error::stale(format!(
            "the {what} changed since you opened it (it is now at version {stored}); reload and make your change again"
        ))),
        _ => Ok(()),
    }
}

/// Who does a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The client's contacts.
    Client,
    /// The MSP's staff.
    Msp,
}

impl Side {
    /// Stable storage name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Msp => "msp",
        }
    }
    /// Reverse of [`Self::as_str`].
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "client" => Ok(Self::Client),
            "msp" => Ok(Self::Msp),
            _ => Err(Error::invalid("assignee", "must be client or msp")),
        }
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not started.
    Pending,
    /// Some evidence given.
    InProgress,
    /// Done.
    Completed,
    /// Held up; see the reason.
    Blocked,
}

impl TaskStatus {
    /// Stable storage name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Blocked => "blocked",
        }
    }
    /// Words shown to people.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::InProgress => "In progress",
            Self::Completed => "Completed",
            Self::Blocked => "Blocked",
        }
    }
    /// [`Self::label`] in `language`, from the message catalog.
    pub fn label_in(&self, language: crate::i18n::Language) -> String {
        crate::i18n::message(language, "task-status", &[("status", self.as_str().into())])
    }
    /// Reverse of [`Self::as_str`].
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => Self::Pending,
            "in_progress" => Self::InProgress,
            "completed" => Self::Completed,
            "blocked" => Self::Blocked,
            _ => {
                return Err(Error::invalid(
                    "status",
                    "must be pending, in_progress, completed or blocked",
                ));
            }
        })
    }
}

/// A task in a phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// The portal it belongs to.
    pub portal_id: PortalId,
    /// The phase it is in.
    pub phase_id: PhaseId,
    /// 0-based order within the phase.
    pub position: u32,
    /// Short title.
    pub title: String,
    /// Plain-text description; line breaks kept.
    pub description: String,
    /// Who does it.
    pub assignee: Side,
    /// Its type and that type's settings.
    pub kind: TaskKind,
    /// Where it stands.
    pub status: TaskStatus,
    /// Why it is blocked, shown to the client.
    pub blocked_reason: Option<String>,
    /// When it is due, if set.
    pub due_date: Option<NaiveDate>,
    /// What has been done on it (completion, answers, checks, decision).
    #[serde(default)]
    pub evidence: crate::workflow::TaskEvidence,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Raised by every change of the task (a client's action as much as a staff
    /// edit), starting at 1: staff edits name the version they saw, and a stale one
    /// is refused (the admin API's ETag / If-Match).
    #[serde(default = "first_version")]
    pub version: u64,
    /// The contacts a client task is assigned to; empty: every contact of the portal.
    #[serde(default)]
    pub assigned_to: Vec<ContactId>,
    /// Tasks of the same portal this one waits for: while any of them is not
    /// completed, the client sees this task locked and cannot act on it.
    #[serde(default)]
    pub waits_on: Vec<TaskId>,
    /// An MSP task the client never sees (not on the home, not by URL, not in the
    /// feed, not in the progress).
    #[serde(default)]
    pub internal: bool,
    /// The contact role a client task is for ("billing"), cleaned by
    /// [`crate::workflow::team::clean_role`]: with no contact named in `assigned_to`,
    /// the task is for the portal's contacts with that role
    /// ([`crate::workflow::team::task_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_role: Option<String>,
}

/// Everything the portal home shows, read in one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSnapshot {
    /// The portal (with its branding).
    pub portal: Portal,
    /// Phases in order.
    pub phases: Vec<Phase>,
    /// Tasks ordered by phase position, then task position.
    pub tasks: Vec<Task>,
}

/// How far the onboarding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Completed tasks.
    pub completed: usize,
    /// All tasks that count.
    pub total: usize,
}

impl Progress {
    /// Progress over `tasks`: every task of the portal counts, MSP and client alike,
    /// because the bar shows the whole onboarding; only `Completed` counts as done
    /// (a blocked task is not done).
    pub fn of<'a>(tasks: impl IntoIterator<Item = &'a Task>) -> Self {
        let (mut completed, mut total) = (0, 0);
        for t in tasks {
            total += 1;
            if t.status == TaskStatus::Completed {
                completed += 1;
            }
        }
        Self { completed, total }
    }

    /// Whole percent, rounded down so 100% only shows when everything is done;
    /// an empty plan is 0%.
    pub fn percent(&self) -> u32 {
        (self.completed * 100)
            .checked_div(self.total)
            .map_or(0, |p| p as u32)
    }
}

/// A phase's status, derived from its tasks (never stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    /// No task started.
    Pending,
    /// Some task started or done, not all done.
    InProgress,
    /// Every task done (an empty phase counts as done).
    Completed,
}

impl PhaseStatus {
    /// Derives a phase's status from its tasks.
    pub fn of<'a>(tasks: impl IntoIterator<Item = &'a Task>) -> Self {
        let (mut any, mut all_done, mut started) = (false, true, false);
        for t in tasks {
            any = true;
            all_done &= t.status == TaskStatus::Completed;
            started |= t.status != TaskStatus::Pending;
        }
        match (any, all_done, started) {
            (false, _, _) | (true, true, _) => Self::Completed,
            (true, false, true) => Self::InProgress,
            (true, false, false) => Self::Pending,
        }
    }
    /// Words shown to people.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::InProgress => "In progress",
            Self::Completed => "Completed",
        }
    }
    /// [`Self::label`] in `language`, from the message catalog.
    pub fn label_in(&self, language: crate::i18n::Language) -> String {
        let slug = match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
        };
        crate::i18n::message(language, "phase-status", &[("status", slug.into())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_validation_and_masking() {
        let e = EmailAddress::parse("  Jane.Doe@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Jane.Doe@example.com");
        assert_eq!(e.masked(), "J•••e@example.com");
        assert_eq!(EmailAddress::parse("a@b.io").unwrap().masked(), "a•••@b.io");
        for bad in [
            "",
            "no-at",
            "a@b",
            "a b@c.d",
            "<x@y.z>",
            "a@.b.c",
            "a@b..c",
            "a@b.c.",
            "x@y\nz.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn accent_text_keeps_contrast() {
        assert_eq!(
            AccentColor::parse("#ffffff").unwrap().text_color(),
            "#000000"
        );
        assert_eq!(
            AccentColor::parse("000000").unwrap().text_color(),
            "#ffffff"
        );
        assert_eq!(
            AccentColor::parse("#1F6FEB").unwrap().text_color(),
            "#ffffff"
        );
        assert_eq!(
            AccentColor::parse("#ffd33d").unwrap().text_color(),
            "#000000"
        );
        assert!(AccentColor::parse("#12345").is_err());
        assert!(AccentColor::parse("red").is_err());
        assert!(AccentColor::parse("#12345g").is_err());
    }

    #[test]
    fn text_on_any_accent_meets_wcag_aa() {
        // Whatever color an MSP picks, the chosen text color reaches 4.5:1.
        for r in (0..=255u8).step_by(15) {
            for g in (0..=255u8).step_by(15) {
                for b in (0..=255u8).step_by(15) {
                    let c = AccentColor([r, g, b]);
                    let l = c.luminance();
                    let text_l = if c.text_color() == "#ffffff" {
                        1.0
                    } else {
                        0.0
                    };
                    let (hi, lo) = if l > text_l { (l, text_l) } else { (text_l, l) };
                    let ratio = (hi + 0.05) / (lo + 0.05);
                    assert!(
                        ratio >= 4.5,
                        "{} on {}: {ratio:.2}",
                        c.text_color(),
                        c.hex()
                    );
                }
            }
        }
    }

    #[test]
    fn labels_and_text_are_cleaned() {
        assert_eq!(clean_label("title", "  Hi ", 10).unwrap(), "Hi");
        assert!(clean_label("title", "   ", 10).is_err());
        assert!(clean_label("title", "a\u{0}b", 10).is_err());
        assert!(clean_label("title", &"x".repeat(11), 10).is_err());
        assert_eq!(clean_text("d", "a\r\nb", 10).unwrap(), "a\nb");
        assert!(clean_text("d", "a\u{7}b", 10).is_err());
    }

    #[test]
    fn text_direction_controls_are_refused_everywhere() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}',
        ] {
            let spoof = format!("invoice{c}fdp.exe");
            assert!(is_bidi_control(c));
            assert!(matches!(
                clean_label("title", &spoof, 100),
                Err(Error::Invalid { field: "title", .. })
            ));
            assert!(matches!(
                clean_text("comment", &spoof, 100),
                Err(Error::Invalid {
                    field: "comment",
                    ..
                })
            ));
        }
        // Neighbours of the ranges, and right-to-left text itself, are fine.
        for c in ['\u{2029}', '\u{202F}', '\u{2065}', '\u{206A}'] {
            assert!(!is_bidi_control(c), "{c:?}");
        }
        assert_eq!(clean_label("name", "שלום", 10).unwrap(), "שלום");
    }

    #[test]
    fn logo_is_sniffed_not_trusted() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0];
        assert_eq!(
            Logo::from_upload(png.to_vec()).unwrap().image_type,
            ImageType::Png
        );
        assert!(Logo::from_upload(b"<svg onload=alert(1)>".to_vec()).is_err());
        assert!(Logo::from_upload(vec![0xff; Logo::MAX_BYTES + 1]).is_err());
    }
}
