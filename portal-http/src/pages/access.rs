//! The access flow's pages (invite, "check your email", magic-link confirmation) and
//! the message page that explains errors and notices.

use askama::Template;

use super::Chrome;

/// A page with a heading, some paragraphs and an optional link: errors and notices.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// Frame.
    pub c: Chrome,
    /// The heading.
    pub heading: String,
    /// The explanation, paragraph by paragraph.
    pub paragraphs: Vec<String>,
    /// `(href, label)` of a way forward.
    pub action_link: Option<(String, String)>,
}

/// The invite page: who it is for and the button that sends the verification email.
/// Its form has no `action`: it posts back to the page's own URL, so the token never
/// appears in the HTML.
#[derive(Template)]
#[template(path = "invite.html")]
pub struct InvitePage {
    /// Frame.
    pub c: Chrome,
    /// Contact's name.
    pub name: String,
    /// Client company.
    pub client: String,
    /// The email on file, masked.
    pub masked_email: String,
    /// Why the last attempt failed, if it did.
    pub error: Option<String>,
}

/// "Check your email": code entry and "send a new code".
#[derive(Template)]
#[template(path = "verify.html")]
pub struct VerifyPage {
    /// Frame.
    pub c: Chrome,
    /// The email on file, masked.
    pub masked_email: String,
    /// When the live code stops working.
    pub expires: Option<String>,
    /// A confirmation to show (e.g. "new code sent").
    pub notice: Option<String>,
    /// Why the code was refused.
    pub error: Option<String>,
    /// Codes that can still be requested.
    pub codes_left: u32,
    /// Codes allowed per verification.
    pub max_codes: u32,
    /// Where the code form posts.
    pub code_action: String,
    /// Where "send a new code" posts.
    pub resend_action: String,
}

/// The page a reminder link's GET shows: what the link does, and the button whose POST
/// (to the page's own URL) does it. Mail scanners follow GETs, so the GET changes
/// nothing.
#[derive(Template)]
#[template(path = "reminder_link.html")]
pub struct ReminderLinkPage {
    /// Frame.
    pub c: Chrome,
    /// The heading.
    pub heading: String,
    /// What the button will do, as a question.
    pub question: String,
    /// The button's label.
    pub button: String,
    /// A note under the button.
    pub hint: String,
}

/// The magic link's confirmation page: only its POST (to its own URL) signs in.
#[derive(Template)]
#[template(path = "magic.html")]
pub struct MagicPage {
    /// Frame.
    pub c: Chrome,
    /// Contact's name.
    pub name: String,
    /// Client company.
    pub client: String,
}
