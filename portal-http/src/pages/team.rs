//! "Your team": the colleagues of the signed-in contact's portal, and the form to
//! invite one (when the MSP lets contacts invite).

use askama::Template;
use portal_core::model::Contact;
use portal_core::workflow::team::InvitationMode;

use super::task::when_in;
use super::{Chrome, PortalNav};

/// A colleague as listed.
#[derive(Debug, Clone)]
pub struct ColleagueItem {
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// The role the MSP gave them, if any.
    pub role: Option<String>,
    /// Whether this is the signed-in contact.
    pub you: bool,
    /// Whether they wait for the MSP's approval.
    pub awaiting: bool,
    /// Since when they are on the portal, in the contact's zone (named).
    pub since: String,
}

/// The team page.
#[derive(Template)]
#[template(path = "team.html")]
pub struct TeamPage {
    /// Frame.
    pub c: Chrome,
    /// Navigation.
    pub nav: PortalNav,
    /// Where the invite form posts.
    pub action: String,
    /// Whether the form is shown (the MSP lets contacts invite).
    pub can_invite: bool,
    /// Whether the MSP approves each invitation first (said next to the form).
    pub after_approval: bool,
    /// Success message.
    pub notice: Option<String>,
    /// What to fix, per field (`name`, `email`), or for the form.
    pub name_error: Option<String>,
    /// The email field's error.
    pub email_error: Option<String>,
    /// A refusal of the whole form (the cap, the setting).
    pub error: Option<String>,
    /// What was typed before an error, kept.
    pub draft_name: String,
    /// What was typed before an error, kept.
    pub draft_email: String,
    /// The colleagues, oldest first.
    pub colleagues: Vec<ColleagueItem>,
}

/// What a refused invitation shows, and what was typed.
#[derive(Debug, Clone, Default)]
pub struct TeamForm {
    /// Success message.
    pub notice: Option<String>,
    /// Name field error.
    pub name_error: Option<String>,
    /// Email field error.
    pub email_error: Option<String>,
    /// Form error.
    pub error: Option<String>,
    /// Typed name.
    pub name: String,
    /// Typed email.
    pub email: String,
}

/// Builds the team page for `me`.
pub fn team_page(
    c: Chrome,
    prefix: &str,
    me: portal_core::ContactId,
    mode: InvitationMode,
    colleagues: &[Contact],
    form: TeamForm,
) -> TeamPage {
    let zone = c.zone;
    let language = c.t.language;
    TeamPage {
        c,
        nav: PortalNav::new(prefix),
        action: format!("{prefix}/team"),
        can_invite: mode != InvitationMode::Off,
        after_approval: mode == InvitationMode::AfterApproval,
        notice: form.notice,
        name_error: form.name_error,
        email_error: form.email_error,
        error: form.error,
        draft_name: form.name,
        draft_email: form.email,
        colleagues: colleagues
            .iter()
            .map(|x| ColleagueItem {
                name: x.name.clone(),
                email: x.email.as_str().to_owned(),
                role: x
                    .role
                    .as_deref()
                    .map(portal_core::workflow::team::role_label),
                you: x.id == me,
                awaiting: x.awaiting_approval,
                since: when_in(x.created_at, zone, language),
            })
            .collect(),
    }
}
