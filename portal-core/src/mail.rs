//! Emails the portal sends, and the [`Mailer`] seam that delivers them.
//!
//! The core composes messages (subject, plain text and HTML) and knows nothing of
//! transports. Hosts plug a mailer: [`RecordingMailer`] for tests, the outbox mailer
//! (feature `outbox`) for demos, [`SmtpMailer`] (feature `smtp`) in production. The
//! outbox and SMTP share one message builder, so the `.eml` files show exactly the
//! headers and parts that SMTP sends.
//!
//! The service never calls a mailer from inside an action: emails are queued in the
//! store with the action ([`crate::outbox`]) and a sender hands them to the mailer.
//!
//! Languages: every email to a client contact ([`Recipient`]) is written from the
//! message catalog ([`crate::i18n`], `locales/*/email.ftl`) in the contact's language,
//! subject, HTML and plain text alike, with times in the contact's zone, named. Emails
//! to MSP staff ([`StaffRecipient`]: notifications, the staff digest, escalations,
//! lockouts) stay English on purpose: staff work in the English console.

use std::fmt;
use std::sync::Mutex;

use askama::Template;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, Result};
use crate::i18n::{Arg, Language, Texts};
use crate::ids::{PortalId, TenantId};
use crate::model::{Branding, EmailAddress, Sender, Tenant, TenantBaseUrl, TimeZone};

/// One email, ready to send. Bodies may carry secrets (codes, links), so `Debug`
/// shows only the recipient and subject.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    /// Recipient.
    pub to: EmailAddress,
    /// Display name of the recipient, if known.
    pub to_name: Option<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Where a one-click unsubscribe POSTs (an `https` URL): sent as `List-Unsubscribe`
    /// with `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058). Only
    /// reminders carry it; access emails (invites, codes) never do, since turning those
    /// off would lock the client out.
    pub list_unsubscribe: Option<String>,
    /// Files sent with the email (a meeting's `.ics`), after the text and HTML. Most
    /// emails have none.
    pub attachments: Vec<Attachment>,
    /// Who it comes from (`From`, and `Reply-To` when set): the tenant's own sender,
    /// so clients see and answer their MSP. `None`: the mailer's configured sender.
    /// The outbox keeps it with the email; the service fills in the tenant's sender
    /// when it queues or sends an email that has none ([`ActingFor::sign`]).
    pub sender: Option<Sender>,
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Email")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("attachments", &self.attachments)
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

/// A file attached to an [`Email`]. Its content is part of the body (a calendar invite
/// names the meeting link), so `Debug` shows only its name, type and size, and the
/// outbox erases it with the bodies once the email leaves the queue.
///
/// Stores keep it as JSON (`{"filename", "content_type", "content"}` with the content
/// in standard base64), so any file, text or binary, survives the round trip.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// The file name the recipient sees (`invite.ics`).
    pub filename: String,
    /// Its MIME type with parameters (`text/calendar; charset=utf-8; method=REQUEST`).
    pub content_type: String,
    /// The bytes.
    #[serde(with = "base64_bytes")]
    pub content: Vec<u8>,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("len", &self.content.len())
            .finish_non_exhaustive()
    }
}

impl Attachment {
    /// A list of attachments as a store keeps it (JSON); `None` for none, so rows
    /// without attachments stay as they were.
    pub fn to_stored(attachments: &[Attachment]) -> Result<Option<String>> {
        if attachments.is_empty() {
            return Ok(None);
        }
        serde_json::to_string(attachments)
            .map(Some)
            .map_err(|e| Error::storage_msg(format!("writing attachments: {e}")))
    }

    /// Reverse of [`Self::to_stored`].
    pub fn from_stored(stored: Option<&str>) -> Result<Vec<Attachment>> {
        match stored {
            None | Some("") => Ok(Vec::new()),
            Some(json) => serde_json::from_str(json)
                .map_err(|e| Error::storage_msg(format!("reading attachments: {e}"))),
        }
    }
}

/// Serde of bytes as a standard base64 string (JSON has no byte strings).
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// The tenant and portal a link is built for or an email is sent for, with what the
/// tenant configured of its own public address and sender.
///
/// One server serves many MSPs, each possibly on its own domain and with its own
/// sender, so [`LinkBuilder`] and [`Mailer`] are told whom they act for rather than
/// assuming one site. The service loads the tenant and builds this, so an implementor
/// needs no store. (A breaking change of 0.1: both traits used to take no context.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActingFor {
    /// The MSP.
    pub tenant: TenantId,
    /// The client portal, when the link or email is about one.
    pub portal: Option<PortalId>,
    /// The tenant's own public base URL; `None`: the host's configured one.
    pub base_url: Option<TenantBaseUrl>,
    /// The tenant's own sender; `None`: the mailer's configured one.
    pub sender: Option<Sender>,
}

impl ActingFor {
    /// Acting for `tenant` (its base URL and sender as stored) and `portal`.
    pub fn new(tenant: &Tenant, portal: Option<PortalId>) -> Self {
        Self {
            tenant: tenant.id,
            portal,
            base_url: tenant.base_url.clone(),
            sender: tenant.sender.clone(),
        }
    }

    /// Acting for a tenant that configured no address or sender of its own (tests,
    /// and hosts that serve one MSP).
    pub fn bare(tenant: TenantId, portal: Option<PortalId>) -> Self {
        Self {
            tenant,
            portal,
            base_url: None,
            sender: None,
        }
    }

    /// The base URL links are built on: the tenant's own, else `default` (the
    /// host's), without a trailing slash either way.
    pub fn base_url_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.base_url
            .as_ref()
            .map_or(default.trim_end_matches('/'), TenantBaseUrl::as_str)
    }

    /// `email` with the tenant's sender when it names none of its own: the rule of
    /// who an email comes from, in one place.
    pub fn sign(&self, mut email: Email) -> Email {
        if email.sender.is_none() {
            email.sender.clone_from(&self.sender);
        }
        email
    }
}

/// Delivers emails.
///
/// Breaking change (0.1): `send` receives whom it acts for. The email's
/// [`Email::sender`] already holds the tenant's sender when it has one; a mailer uses
/// it as `From` (and its `reply_to` as `Reply-To`) and falls back to its own
/// configured sender otherwise. `acting` lets a mailer pick, say, a per-tenant
/// transport or API key.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Hands one email, sent for `acting`, to the transport. An error is `Error::Mail`.
    async fn send(&self, acting: &ActingFor, email: &Email) -> Result<()>;
}

/// Keeps every email in memory instead of sending it; for tests. It can be told to
/// fail, transiently or permanently, for every send or for the next few, as a mail
/// server that defers, refuses or cannot be reached would.
#[derive(Debug, Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<Email>>,
    failing: Mutex<Failing>,
}

/// How a [`RecordingMailer`] fails.
#[derive(Debug, Default, Clone, Copy)]
struct Failing {
    /// Every send fails this way while set.
    always: Option<crate::outbox::Permanence>,
    /// The next `count` sends fail this way.
    next: u32,
    next_kind: Option<crate::outbox::Permanence>,
}

impl RecordingMailer {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }
    /// Everything sent so far, oldest first.
    pub fn sent(&self) -> Vec<Email> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// The newest email sent to `to`.
    pub fn last_to(&self, to: &str) -> Option<Email> {
        self.sent().into_iter().rev().find(|e| e.to.as_str() == to)
    }
    /// While `failing` is set, every send fails with a transient `Error::Mail` and
    /// records nothing: for testing the failure paths.
    pub fn set_failing(&self, failing: bool) {
        self.set_failure(failing.then_some(crate::outbox::Permanence::Transient));
    }
    /// While set, every send fails with an `Error::Mail` marked `transient:` or
    /// `permanent:` (as [`SmtpMailer`] marks its errors) and records nothing.
    pub fn set_failure(&self, failure: Option<crate::outbox::Permanence>) {
        self.failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .always = failure;
    }
    /// The next `count` sends fail with `failure`; later ones go through again.
    pub fn fail_next(&self, count: u32, failure: crate::outbox::Permanence) {
        let mut f = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        f.next = count;
        f.next_kind = Some(failure);
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, _acting: &ActingFor, email: &Email) -> Result<()> {
        let failure = {
            let mut f = self.failing.lock().unwrap_or_else(|p| p.into_inner());
            if f.next > 0 {
                f.next -= 1;
                f.next_kind
            } else {
                f.always
            }
        };
        if let Some(kind) = failure {
            let marker = match kind {
                crate::outbox::Permanence::Permanent => "permanent",
                crate::outbox::Permanence::Transient => "transient",
            };
            return Err(Error::Mail {
                message: format!("{marker}: the recording mailer was told to fail"),
            });
        }
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(email.clone());
        Ok(())
    }
}

/// Builds the absolute URLs put into emails; the HTTP host knows its public address
/// and route layout, the core does not.
///
/// Breaking change (0.1): every method receives whom the link is for. A link must
/// start with [`ActingFor::base_url_or`] the host's public base URL, so a tenant on
/// its own domain gets links on that domain (and the host only lets that domain reach
/// the tenant's portals).
pub trait LinkBuilder: Send + Sync + 'static {
    /// The invite link for a token.
    fn invite_url(&self, acting: &ActingFor, token: &crate::secret::InviteToken) -> String;
    /// The magic link for a token.
    fn magic_link_url(&self, acting: &ActingFor, token: &crate::secret::MagicToken) -> String;
    /// A task's page in the portal (a reminder's button).
    fn task_url(&self, acting: &ActingFor, task: crate::ids::TaskId) -> String;
    /// The page of a reminder's "remind me in 3 days" link (signed `token`).
    fn snooze_url(&self, acting: &ActingFor, token: &str) -> String;
    /// The one-click unsubscribe URL of a reminder (signed `token`; `https` in
    /// production, as RFC 8058 requires).
    fn unsubscribe_url(&self, acting: &ActingFor, token: &str) -> String;
}

#[derive(Template)]
#[template(path = "email/verification.txt")]
struct VerificationText<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    code: &'a str,
    link: &'a str,
    lifetime: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "email/verification.html")]
struct VerificationHtml<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    code: &'a str,
    link: &'a str,
    lifetime: String,
    expires: String,
    accent: String,
    accent_text: &'static str,
}

#[derive(Template)]
#[template(path = "email/invite.txt")]
struct InviteText<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    client: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/invite.html")]
struct InviteHtml<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    client: &'a str,
    link: &'a str,
    accent: String,
    accent_text: &'static str,
}

fn render(t: &impl Template) -> Result<String> {
    t.render().map_err(|e| Error::Mail {
        message: format!("template: {e}"),
    })
}

/// Facts an email is written from.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    /// Contact's name.
    pub name: &'a str,
    /// Contact's email.
    pub email: &'a EmailAddress,
    /// The portal's branding (the MSP name shown, the accent color).
    pub branding: &'a Branding,
    /// The contact's time zone: times in the email are shown in it, named.
    pub time_zone: TimeZone,
    /// The language the email is written in: the contact's, as the MSP set it
    /// (English when it did not; the browser's language is not known when mail is
    /// sent, and remembering the last one used would be a write on every request).
    pub language: crate::i18n::Language,
}

/// The verification email: a magic link and the same-session 6-digit code.
pub fn verification_email(
    to: Recipient<'_>,
    code: &crate::secret::VerificationCode,
    magic_link: &str,
    expires_at: DateTime<Utc>,
    code_ttl: chrono::TimeDelta,
) -> Result<Email> {
    let t = Texts::new(to.language);
    let lifetime = crate::wording::duration_in(code_ttl, to.language);
    let company = to.branding.company_name.as_str();
    let expires = crate::wording::local_clock_in(expires_at, to.time_zone, to.language);
    let text = render(&VerificationText {
        t,
        name: to.name,
        company,
        code: code.expose_secret(),
        link: magic_link,
        lifetime: lifetime.clone(),
        expires: expires.clone(),
    })?;
    let html = render(&VerificationHtml {
        t,
        name: to.name,
        company,
        code: code.expose_secret(),
        link: magic_link,
        lifetime,
        expires,
        accent: to.branding.accent_color.hex(),
        accent_text: to.branding.accent_color.text_color(),
    })?;
    Ok(Email {
        to: to.email.clone(),
        to_name: Some(to.name.to_owned()),
        subject: t.plain("email-verify-subject", "company", company),
        text,
        html,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

/// The invitation email with the contact's personal invite link.
pub fn invite_email(to: Recipient<'_>, client_name: &str, invite_link: &str) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let text = render(&InviteText {
        t,
        name: to.name,
        company,
        client: client_name,
        link: invite_link,
    })?;
    let html = render(&InviteHtml {
        t,
        name: to.name,
        company,
        client: client_name,
        link: invite_link,
        accent: to.branding.accent_color.hex(),
        accent_text: to.branding.accent_color.text_color(),
    })?;
    Ok(Email {
        to: to.email.clone(),
        to_name: Some(to.name.to_owned()),
        subject: t.plain("email-invite-subject", "company", company),
        text,
        html,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

#[derive(Template)]
#[template(path = "email/guest_invite.txt")]
struct GuestInviteText<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    intro: String,
    link: &'a str,
    tasks: &'a [String],
    ends: Option<String>,
}

#[derive(Template)]
#[template(path = "email/guest_invite.html")]
struct GuestInviteHtml<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    intro: crate::i18n::Msg,
    link: &'a str,
    tasks: &'a [String],
    ends: Option<String>,
    accent: String,
    accent_text: &'static str,
}

/// The invitation of a guest (the outgoing MSP, an ISP, a vendor) with their
/// personal invite link: it names the tasks shared with them (titles only) and, when
/// their access has an end, when it ends in their zone. It says plainly that they
/// will see only these tasks, so a guest is not surprised to find no portal.
pub fn guest_invite_email(
    to: Recipient<'_>,
    client_name: &str,
    invite_link: &str,
    tasks: &[String],
    access_ends_at: Option<DateTime<Utc>>,
) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let ends = access_ends_at.map(|at| {
        let at = crate::wording::local_time_in(at, to.time_zone, to.language);
        t.plain("email-guest-ends", "ends", at)
    });
    let intro_args = [
        ("count", Arg::from(tasks.len())),
        ("company", Arg::from(company)),
        ("client", Arg::from(client_name)),
    ];
    let text = render(&GuestInviteText {
        t,
        name: to.name,
        company,
        intro: t.text_with("email-guest-intro", &intro_args),
        link: invite_link,
        tasks,
        ends: ends.clone(),
    })?;
    let html = render(&GuestInviteHtml {
        t,
        name: to.name,
        company,
        intro: t.with("email-guest-intro-html", &intro_args),
        link: invite_link,
        tasks,
        ends,
        accent: to.branding.accent_color.hex(),
        accent_text: to.branding.accent_color.text_color(),
    })?;
    Ok(Email {
        to: to.email.clone(),
        to_name: Some(to.name.to_owned()),
        subject: t.plain2(
            "email-guest-subject",
            "company",
            company,
            "client",
            client_name,
        ),
        text,
        html,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

#[derive(Template)]
#[template(path = "email/document_rejected.txt")]
struct DocumentRejectedText<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    intro: String,
    notes: &'a str,
}

#[derive(Template)]
#[template(path = "email/document_rejected.html")]
struct DocumentRejectedHtml<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    document: &'a str,
    intro: crate::i18n::Msg,
    notes: &'a str,
    accent: String,
}

/// What a rejection email is about.
#[derive(Debug, Clone, Copy)]
pub struct RejectedDocument<'a> {
    /// The task's title.
    pub task: &'a str,
    /// The requested document's name ("Network diagram").
    pub document: &'a str,
    /// The uploaded file's (cleaned) name.
    pub file: &'a str,
    /// The reviewer's notes: what to fix.
    pub notes: &'a str,
}

/// Tells the client who uploaded a document that the MSP rejected it, with the notes.
pub fn document_rejected_email(to: Recipient<'_>, doc: RejectedDocument<'_>) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let intro_args = [
        ("company", Arg::from(company)),
        ("document", Arg::from(doc.document)),
        ("file", Arg::from(doc.file)),
        ("task", Arg::from(doc.task)),
    ];
    let text = render(&DocumentRejectedText {
        t,
        name: to.name,
        company,
        intro: t.text_with("email-rejected-intro", &intro_args),
        notes: doc.notes,
    })?;
    let html = render(&DocumentRejectedHtml {
        t,
        name: to.name,
        company,
        document: doc.document,
        intro: t.with("email-rejected-intro-html", &intro_args),
        notes: doc.notes,
        accent: to.branding.accent_color.hex(),
    })?;
    Ok(Email {
        to: to.email.clone(),
        to_name: Some(to.name.to_owned()),
        subject: t.plain2(
            "email-rejected-subject",
            "company",
            company,
            "document",
            doc.document,
        ),
        text,
        html,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

#[derive(Template)]
#[template(path = "email/task_for_you.txt")]
struct TaskForYouText<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    intro: &'a str,
    task: &'a str,
    due: Option<String>,
}

#[derive(Template)]
#[template(path = "email/task_for_you.html")]
struct TaskForYouHtml<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    intro: &'a str,
    task: &'a str,
    due: Option<String>,
    subject: &'a str,
    accent: String,
}

/// A date written out in full, as a letter would ("Tuesday 15 December 2026",
/// "martes, 15 de diciembre de 2026"): the due date in "a task for you", which names
/// one date on its own line and has room for it (lists and pages use the short
/// [`crate::wording::date_in`]).
fn long_date(d: NaiveDate, language: Language) -> String {
    use chrono::Datelike as _;
    let weekday = crate::i18n::message(
        language,
        "email-weekday-long",
        &[("weekday", d.weekday().number_from_monday().into())],
    );
    let month = crate::i18n::message(language, "email-month-long", &[("month", d.month().into())]);
    crate::i18n::message(
        language,
        "email-date-long",
        &[
            ("weekday", Arg::Text(weekday)),
            ("day", Arg::Text(d.day().to_string())),
            ("month", Arg::Text(month)),
            ("year", Arg::Text(d.year().to_string())),
        ],
    )
}

/// Why a contact is told about a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskForYou {
    /// The MSP just assigned it to them.
    Assigned,
    /// Everything it waited for is done: they can do it now.
    Ready,
}

/// Tells a contact about a task that is theirs to do: newly assigned to them, or
/// unlocked. No link: the contact's way in is their own invite link (a link here would
/// be one more secret in a mailbox).
pub fn task_email(
    to: Recipient<'_>,
    why: TaskForYou,
    task: &str,
    due: Option<chrono::NaiveDate>,
) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let (subject, intro) = match why {
        TaskForYou::Assigned => (
            t.plain("email-task-assigned-subject", "task", task),
            t.plain("email-task-assigned-intro", "company", company),
        ),
        TaskForYou::Ready => (
            t.plain("email-task-ready-subject", "task", task),
            t.text("email-task-ready-intro"),
        ),
    };
    // A date, not an instant: the same day wherever the contact is.
    let due = due.map(|d| t.plain("email-task-due", "date", long_date(d, to.language)));
    let text = render(&TaskForYouText {
        t,
        name: to.name,
        company,
        intro: &intro,
        task,
        due: due.clone(),
    })?;
    let html = render(&TaskForYouHtml {
        t,
        name: to.name,
        company,
        intro: &intro,
        task,
        due,
        subject: &subject,
        accent: to.branding.accent_color.hex(),
    })?;
    Ok(Email {
        to: to.email.clone(),
        to_name: Some(to.name.to_owned()),
        subject,
        text,
        html,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

/// What happened to a meeting a contact is invited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingChange {
    /// It was put on the calendar.
    Scheduled,
    /// Its time or details changed.
    Moved,
    /// It was called off (the task was removed).
    Cancelled,
}

/// The facts of a meeting email.
#[derive(Debug, Clone, Copy)]
pub struct MeetingFacts<'a> {
    /// What happened.
    pub change: MeetingChange,
    /// The meeting task's title.
    pub title: &'a str,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// Its length.
    pub duration_minutes: u32,
    /// Where to join, if given (not shown for a cancelled meeting).
    pub meeting_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "email/meeting.txt")]
struct MeetingText<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    intro: &'a str,
    title: &'a str,
    when: &'a str,
    url: Option<&'a str>,
    calendar: &'a str,
}

#[derive(Template)]
#[template(path = "email/meeting.html")]
struct MeetingHtml<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    intro: &'a str,
    title: &'a str,
    when: &'a str,
    url: Option<&'a str>,
    calendar: &'a str,
    cancelled: bool,
    subject: &'a str,
    accent: String,
}

/// Tells a contact a meeting was scheduled, moved or cancelled, with the calendar
/// object (`ics`, an iTIP `REQUEST` or `CANCEL` from
/// [`crate::workflow::ics::meeting_itip`]) attached as `invite.ics`, so the calendar
/// app adds, updates or removes the one entry it keeps under the meeting's `UID`. The
/// time is shown in the contact's zone, named.
pub fn meeting_email(to: Recipient<'_>, facts: MeetingFacts<'_>, ics: String) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let title = facts.title;
    // Keys spelled out, so a search for a key finds where it is used.
    let ([subject, intro, calendar], method) = match facts.change {
        MeetingChange::Scheduled => (
            [
                "email-meeting-scheduled-subject",
                "email-meeting-scheduled-intro",
                "email-meeting-scheduled-calendar",
            ],
            crate::workflow::ics::IcsMethod::Request,
        ),
        MeetingChange::Moved => (
            [
                "email-meeting-moved-subject",
                "email-meeting-moved-intro",
                "email-meeting-moved-calendar",
            ],
            crate::workflow::ics::IcsMethod::Request,
        ),
        MeetingChange::Cancelled => (
            [
                "email-meeting-cancelled-subject",
                "email-meeting-cancelled-intro",
                "email-meeting-cancelled-calendar",
            ],
            crate::workflow::ics::IcsMethod::Cancel,
        ),
    };
    let subject = t.plain(subject, "title", title);
    let intro = t.plain(intro, "company", company);
    let calendar = t.text(calendar);
    let when = t.plain2(
        "email-meeting-when",
        "when",
        crate::wording::local_time_in(facts.starts_at, to.time_zone, to.language),
        "length",
        crate::i18n::message(
            to.language,
            "count-minutes",
            &[("count", facts.duration_minutes.into())],
        ),
    );
    let url = facts
        .meeting_url
        .filter(|_| facts.change != MeetingChange::Cancelled);
    let text = render(&MeetingText {
        t,
        name: to.name,
        company,
        intro: &intro,
        title,
        when: &when,
        url,
        calendar: &calendar,
    })?;
    let html = render(&MeetingHtml {
        t,
        name: to.name,
        company,
        intro: &intro,
        title,
        when: &when,
        url,
        calendar: &calendar,
        cancelled: facts.change == MeetingChange::Cancelled,
        subject: &subject,
        accent: to.branding.accent_color.hex(),
    })?;
    Ok(Email {
        to: to.email.clone(),
        to_name: Some(to.name.to_owned()),
        subject,
        text,
        html,
        sender: None,
        list_unsubscribe: None,
        attachments: vec![Attachment {
            filename: "invite.ics".to_owned(),
            content_type: format!("text/calendar; charset=utf-8; method={}", method.as_str()),
            content: ics.into_bytes(),
        }],
    })
}

/// Tells the MSP that a client completed a task.
pub fn completion_notification(
    to: StaffRecipient<'_>,
    client: &str,
    who: &str,
    task_title: &str,
    notes: &str,
) -> Result<Email> {
    let what = format!("completed “{task_title}”");
    staff_email(
        to,
        format!("[{client}] {who} completed “{task_title}”"),
        client,
        who,
        &what,
        notes,
    )
}

/// Tells the MSP's notification recipients that a client handed over the credentials
/// a task asked for. It names the task and who, never a value: the values are read
/// only by an admin's audited reveal.
pub fn credentials_notification(
    to: StaffRecipient<'_>,
    client: &str,
    who: &str,
    task_title: &str,
) -> Result<Email> {
    let what = format!("submitted the credentials for “{task_title}”");
    staff_email(
        to,
        format!("[{client}] {who} submitted credentials for “{task_title}”"),
        client,
        who,
        &what,
        "The values are encrypted. An admin can reveal them from the onboarding admin \
         view with a stated reason; every reveal is recorded in the portal's audit trail. \
         Purge them once the work is done.",
    )
}

/// The MSP's notice that a client signed a signature task: who, which task, how, and
/// the record's hash (the evidence certificate is in the admin view). Never the image.
pub fn signature_notification(
    to: StaffRecipient<'_>,
    client: &str,
    who: &str,
    task_title: &str,
    method: &str,
    record_sha256: &str,
) -> Result<Email> {
    let what = format!("signed “{task_title}”");
    staff_email(
        to,
        format!("[{client}] {who} signed “{task_title}”"),
        client,
        who,
        &what,
        &format!(
            "Signature submitted ({method}). Record SHA-256: {record_sha256}. The evidence \
             certificate (signer, every hash, time, IP, consent and audit-chain position) is \
             in the onboarding admin view."
        ),
    )
}

/// One client event in the MSP's daily digest.
#[derive(Debug, Clone)]
pub struct StaffDigestItem {
    /// When, as the MSP reads it (the tenant's zone, named).
    pub at: String,
    /// What happened ("Dana Reyes completed “Sign the agreement”").
    pub summary: String,
}

#[derive(Template)]
#[template(path = "email/staff_digest.txt")]
struct StaffDigestText<'a> {
    client: &'a str,
    date: &'a str,
    items: &'a [StaffDigestItem],
}

#[derive(Template)]
#[template(path = "email/staff_digest.html")]
struct StaffDigestHtml<'a> {
    client: &'a str,
    date: &'a str,
    items: &'a [StaffDigestItem],
    subject: &'a str,
    accent: String,
}

/// The MSP's daily digest of one portal's client events (questions, comments,
/// uploads, completed tasks), oldest first, sent instead of one email each when the
/// portal asks for it. In English, as every staff email.
pub fn staff_digest_email(
    to: StaffRecipient<'_>,
    client: &str,
    date: &str,
    items: &[StaffDigestItem],
) -> Result<Email> {
    let subject = format!(
        "[{client}] {} in the portal, {date}",
        crate::wording::count(
            u32::try_from(items.len()).unwrap_or(u32::MAX),
            "client event"
        )
    );
    Ok(Email {
        to: to.email.clone(),
        to_name: None,
        text: render(&StaffDigestText {
            client,
            date,
            items,
        })?,
        html: render(&StaffDigestHtml {
            client,
            date,
            items,
            subject: &subject,
            accent: to.branding.accent_color.hex(),
        })?,
        subject,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

/// Tells the MSP that a client uploaded a document for review.
pub fn upload_notification(
    to: StaffRecipient<'_>,
    client: &str,
    who: &str,
    task_title: &str,
    detail: &str,
) -> Result<Email> {
    let what = format!("uploaded a document to “{task_title}” for review");
    staff_email(
        to,
        format!("[{client}] {who} uploaded a document for review"),
        client,
        who,
        &what,
        detail,
    )
}

/// An MSP staff member who receives notifications.
///
/// It carries no language: staff emails are written in English only, as the console
/// staff work in is English (client emails follow [`Recipient::language`]).
#[derive(Debug, Clone, Copy)]
pub struct StaffRecipient<'a> {
    /// Their address (one of the tenant's notification recipients).
    pub email: &'a EmailAddress,
    /// The portal's branding.
    pub branding: &'a Branding,
}

#[derive(Template)]
#[template(path = "email/staff_notification.txt")]
struct StaffText<'a> {
    client: &'a str,
    who: &'a str,
    what: &'a str,
    body: &'a str,
}

#[derive(Template)]
#[template(path = "email/staff_notification.html")]
struct StaffHtml<'a> {
    client: &'a str,
    who: &'a str,
    what: &'a str,
    body: &'a str,
    accent: String,
}

fn staff_email(
    to: StaffRecipient<'_>,
    subject: String,
    client: &str,
    who: &str,
    what: &str,
    body: &str,
) -> Result<Email> {
    Ok(Email {
        to: to.email.clone(),
        to_name: None,
        subject,
        text: render(&StaffText {
            client,
            who,
            what,
            body,
        })?,
        html: render(&StaffHtml {
            client,
            who,
            what,
            body,
            accent: to.branding.accent_color.hex(),
        })?,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

/// Adds to a staff notification how many client messages of the same portal were held
/// back since the previous email (notifications are coalesced per portal), so staff
/// know to look at the activity feed. Nothing is added when none were held.
pub fn note_held_messages(email: &mut Email, held: u32) {
    if held == 0 {
        return;
    }
    let note = format!(
        "Also, {} from this client arrived since the last notification and were not emailed separately; see them in the portal's activity feed.",
        crate::wording::count(held, "more client message")
    );
    email.text.push_str("\n\n");
    email.text.push_str(&note);
    email.text.push('\n');
    let paragraph = format!("<p style=\"color:#57606a\">{note}</p>\n");
    match email.html.rfind("</td></tr>") {
        Some(at) => email.html.insert_str(at, &paragraph),
        None => email.html.push_str(&paragraph),
    }
}

#[derive(Template)]
#[template(path = "email/contact_locked_out.txt")]
struct LockedOutText<'a> {
    client: &'a str,
    who: &'a str,
    wrong_codes: u32,
    until: &'a str,
}

#[derive(Template)]
#[template(path = "email/contact_locked_out.html")]
struct LockedOutHtml<'a> {
    client: &'a str,
    who: &'a str,
    wrong_codes: u32,
    until: &'a str,
    accent: String,
}

/// Tells the MSP that a contact's codes were locked out after `wrong_codes` wrong
/// ones, until `until`: a client who cannot get in may call, and a lockout the client
/// did not cause means someone holds their invite link and is guessing, which only
/// the MSP can stop (by revoking the invite). The time is shown in `zone` (the
/// tenant's), named; the email is in English, as every staff email.
pub fn lockout_notification(
    to: StaffRecipient<'_>,
    client: &str,
    who: &str,
    wrong_codes: u32,
    until: DateTime<Utc>,
    zone: TimeZone,
) -> Result<Email> {
    let until = crate::wording::local_time(until, zone);
    Ok(Email {
        to: to.email.clone(),
        to_name: None,
        subject: format!("[{client}] {who} was locked out of the portal"),
        text: render(&LockedOutText {
            client,
            who,
            wrong_codes,
            until: &until,
        })?,
        html: render(&LockedOutHtml {
            client,
            who,
            wrong_codes,
            until: &until,
            accent: to.branding.accent_color.hex(),
        })?,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

/// Tells the MSP that a client commented on a task.
pub fn comment_notification(
    to: StaffRecipient<'_>,
    client: &str,
    who: &str,
    task_title: &str,
    comment: &str,
) -> Result<Email> {
    let what = format!("commented on “{task_title}”");
    staff_email(
        to,
        format!("[{client}] {who} commented on “{task_title}”"),
        client,
        who,
        &what,
        comment,
    )
}

/// Tells the MSP that a client asked a question.
pub fn question_notification(
    to: StaffRecipient<'_>,
    client: &str,
    who: &str,
    question: &str,
) -> Result<Email> {
    staff_email(
        to,
        format!("[{client}] Question from {who}"),
        client,
        who,
        "asked a question",
        question,
    )
}

#[derive(Template)]
#[template(path = "email/question_answered.txt")]
struct AnsweredText<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    client: &'a str,
    question: &'a str,
    who: &'a str,
    answer: &'a str,
}

#[derive(Template)]
#[template(path = "email/question_answered.html")]
struct AnsweredHtml<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    client: &'a str,
    question: &'a str,
    who: &'a str,
    answer: &'a str,
    accent: String,
}

/// Tells a contact that the MSP answered their question, with both texts (an event
/// email: never held back by the reminders' daily cap).
pub fn answer_email(
    to: Recipient<'_>,
    client: &str,
    question: &str,
    who: &str,
    answer: &str,
) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let text = render(&AnsweredText {
        t,
        name: to.name,
        company,
        client,
        question,
        who,
        answer,
    })?;
    let html = render(&AnsweredHtml {
        t,
        name: to.name,
        company,
        client,
        question,
        who,
        answer,
        accent: to.branding.accent_color.hex(),
    })?;
    Ok(Email {
        to: to.email.clone(),
        to_name: Some(to.name.to_owned()),
        subject: t.plain("email-answered-subject", "company", company),
        text,
        html,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

#[derive(Template)]
#[template(path = "email/comment_reply.txt")]
struct ReplyText<'a> {
    t: Texts,
    intro: String,
    name: &'a str,
    company: &'a str,
    body: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/comment_reply.html")]
struct ReplyHtml<'a> {
    t: Texts,
    intro: crate::i18n::Msg,
    name: &'a str,
    company: &'a str,
    who: &'a str,
    task: &'a str,
    body: &'a str,
    link: &'a str,
    accent: String,
    accent_text: &'static str,
}

/// What a comment reply email is about.
#[derive(Debug, Clone, Copy)]
pub struct CommentReply<'a> {
    /// The client company.
    pub client: &'a str,
    /// Who at the MSP replied.
    pub who: &'a str,
    /// The task's title.
    pub task: &'a str,
    /// The reply.
    pub body: &'a str,
    /// The task's page.
    pub link: &'a str,
}

/// Tells a contact who commented on a task that the MSP replied there.
pub fn comment_reply_email(to: Recipient<'_>, reply: CommentReply<'_>) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let intro_args = [
        ("who", Arg::from(reply.who)),
        ("company", Arg::from(company)),
        ("task", Arg::from(reply.task)),
        ("client", Arg::from(reply.client)),
    ];
    let text = render(&ReplyText {
        t,
        intro: t.text_with("email-reply-intro", &intro_args),
        name: to.name,
        company,
        body: reply.body,
        link: reply.link,
    })?;
    let html = render(&ReplyHtml {
        t,
        intro: t.with("email-reply-intro-html", &intro_args),
        name: to.name,
        company,
        who: reply.who,
        task: reply.task,
        body: reply.body,
        link: reply.link,
        accent: to.branding.accent_color.hex(),
        accent_text: to.branding.accent_color.text_color(),
    })?;
    Ok(Email {
        to: to.email.clone(),
        to_name: Some(to.name.to_owned()),
        subject: t.plain2("email-reply-subject", "who", reply.who, "task", reply.task),
        text,
        html,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

/// Where a task of a reminder digest stands against its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueStep {
    /// Due in a few days.
    Soon,
    /// Due today.
    Today,
    /// Past its due date.
    Overdue,
}

/// The due line of a digest item in the contact's language ("due Tue 10 Mar 2026",
/// "overdue, it was due …"): built here, with the email's words, so the service
/// that picks the tasks writes no English.
pub fn digest_when(step: DueStep, due: NaiveDate, language: Language) -> String {
    let date = crate::wording::date_in(due, language);
    let key = match step {
        DueStep::Soon => "email-digest-due",
        DueStep::Today => "email-digest-due-today",
        DueStep::Overdue => "email-digest-overdue",
    };
    crate::i18n::message(language, key, &[("date", date.into())])
}

/// One task of a reminder digest, as the email shows it.
#[derive(Debug, Clone)]
pub struct DigestItem {
    /// The task's title.
    pub title: String,
    /// Its due date in words, in the contact's language ([`digest_when`]).
    pub when: String,
    /// Its page in the portal.
    pub task_url: String,
    /// Its signed "remind me in 3 days" link.
    pub snooze_url: String,
}

#[derive(Template)]
#[template(path = "email/reminder_digest.txt")]
struct DigestText<'a> {
    t: Texts,
    intro: &'a str,
    name: &'a str,
    company: &'a str,
    items: &'a [DigestItem],
    unsubscribe_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/reminder_digest.html")]
struct DigestHtml<'a> {
    t: Texts,
    intro: &'a str,
    subject: &'a str,
    name: &'a str,
    company: &'a str,
    items: &'a [DigestItem],
    unsubscribe_url: &'a str,
    accent: String,
    accent_text: &'static str,
}

/// A contact's reminder of the day: every due task with its button and its snooze
/// link, and the one-click unsubscribe (`List-Unsubscribe`) that only reminders carry.
pub fn reminder_digest_email(
    to: Recipient<'_>,
    client: &str,
    items: &[DigestItem],
    unsubscribe_url: &str,
) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let subject = match items {
        [one] => t.plain2(
            "email-digest-subject-one",
            "task",
            &one.title,
            "client",
            client,
        ),
        _ => t.text_with(
            "email-digest-subject-many",
            &[("count", items.len().into()), ("client", client.into())],
        ),
    };
    let intro = t.text_with(
        "email-digest-intro",
        &[("count", items.len().into()), ("client", client.into())],
    );
    let text = render(&DigestText {
        t,
        intro: &intro,
        name: to.name,
        company,
        items,
        unsubscribe_url,
    })?;
    let html = render(&DigestHtml {
        t,
        intro: &intro,
        subject: &subject,
        name: to.name,
        company,
        items,
        unsubscribe_url,
        accent: to.branding.accent_color.hex(),
        accent_text: to.branding.accent_color.text_color(),
    })?;
    Ok(Email {
        to: to.email.clone(),
        to_name: Some(to.name.to_owned()),
        subject,
        text,
        html,
        sender: None,
        list_unsubscribe: Some(unsubscribe_url.to_owned()),
        attachments: Vec::new(),
    })
}

/// An overdue task in an escalation email.
#[derive(Debug, Clone)]
pub struct EscalatedTask {
    /// Its title.
    pub title: String,
    /// Its due date in words.
    pub due: String,
}

/// A contact in an escalation email.
#[derive(Debug, Clone)]
pub struct QuietContact {
    /// Name.
    pub name: String,
    /// Address.
    pub email: String,
    /// Their last visit in words ("never").
    pub last_visit: String,
}

/// What an escalation email says.
#[derive(Debug, Clone, Copy)]
pub struct EscalationFacts<'a> {
    /// The client company.
    pub client: &'a str,
    /// Since when nobody visited, in words.
    pub quiet_since: &'a str,
    /// How long that is ("6 days").
    pub quiet_days: &'a str,
    /// The overdue tasks.
    pub tasks: &'a [EscalatedTask],
    /// The portal's contacts.
    pub contacts: &'a [QuietContact],
    /// When the MSP is told again ("7 days").
    pub again: &'a str,
}

#[derive(Template)]
#[template(path = "email/escalation.txt")]
struct EscalationText<'a> {
    client: &'a str,
    quiet_since: &'a str,
    quiet_days: &'a str,
    tasks: &'a [EscalatedTask],
    contacts: &'a [QuietContact],
    again: &'a str,
}

#[derive(Template)]
#[template(path = "email/escalation.html")]
struct EscalationHtml<'a> {
    client: &'a str,
    quiet_since: &'a str,
    quiet_days: &'a str,
    tasks: &'a [EscalatedTask],
    contacts: &'a [QuietContact],
    again: &'a str,
    accent: String,
}

/// Tells the MSP, once per quiet spell and portal, that the client has not visited
/// while tasks are overdue (in English, as every staff email).
pub fn escalation_email(to: StaffRecipient<'_>, facts: EscalationFacts<'_>) -> Result<Email> {
    Ok(Email {
        to: to.email.clone(),
        to_name: None,
        subject: format!(
            "[{}] No visit for {} with {} overdue",
            facts.client,
            facts.quiet_days,
            crate::wording::count(i64::try_from(facts.tasks.len()).unwrap_or(i64::MAX), "task")
        ),
        text: render(&EscalationText {
            client: facts.client,
            quiet_since: facts.quiet_since,
            quiet_days: facts.quiet_days,
            tasks: facts.tasks,
            contacts: facts.contacts,
            again: facts.again,
        })?,
        html: render(&EscalationHtml {
            client: facts.client,
            quiet_since: facts.quiet_since,
            quiet_days: facts.quiet_days,
            tasks: facts.tasks,
            contacts: facts.contacts,
            again: facts.again,
            accent: to.branding.accent_color.hex(),
        })?,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

#[cfg(any(feature = "outbox", feature = "smtp"))]
mod message;

#[cfg(feature = "smtp")]
mod smtp;
#[cfg(feature = "smtp")]
pub use smtp::{SmtpConfig, SmtpCredentials, SmtpMailer, SmtpSecurity};

#[cfg(feature = "outbox")]
pub use outbox::OutboxMailer;

#[cfg(feature = "outbox")]
mod outbox {
    use std::path::{Path, PathBuf};

    use async_trait::async_trait;
    use lettre::message::Mailbox;
    use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor};

    use super::message::build_message;
    use super::{ActingFor, Email, Mailer};
    use crate::error::{Error, Result};

    /// Creates `dir` (and its parents) and makes it owner-only.
    fn owner_only_dir(dir: &Path) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
            // An existing folder keeps its mode through `create`: tighten it too.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        }
        #[cfg(not(unix))]
        {
            std::fs::create_dir_all(dir)
        }
    }

    /// Makes a file owner-only (lettre writes it with the process's default mode;
    /// the folder is already owner-only, so nobody else could read it meanwhile).
    fn owner_only_file(file: &Path) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
        }
        #[cfg(not(unix))]
        {
            let _ = file;
            Ok(())
        }
    }

    /// Writes each email as an `.eml` file into a folder and logs a line naming the
    /// file (never its content): the demo's stand-in for a mail server.
    pub struct OutboxMailer {
        dir: PathBuf,
        from: Mailbox,
        transport: AsyncFileTransport<Tokio1Executor>,
    }

    impl std::fmt::Debug for OutboxMailer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("OutboxMailer")
                .field("dir", &self.dir)
                .finish_non_exhaustive()
        }
    }

    impl OutboxMailer {
        /// An outbox in `dir` (created if missing), sending as `from` (`Name <addr>`).
        ///
        /// The emails hold live sign-in codes and links, so the folder is made
        /// owner-only (0700) and every file owner-only (0600) on Unix.
        pub fn new(dir: impl AsRef<Path>, from: &str) -> Result<Self> {
            let dir = dir.as_ref().to_path_buf();
            owner_only_dir(&dir).map_err(|e| Error::Mail {
                message: format!("cannot create outbox {}: {e}", dir.display()),
            })?;
            let from: Mailbox = from
                .parse()
                .map_err(|e| Error::invalid("from", format!("{e}")))?;
            Ok(Self {
                transport: AsyncFileTransport::new(&dir),
                dir,
                from,
            })
        }

        /// The folder emails are written to.
        pub fn dir(&self) -> &Path {
            &self.dir
        }
    }

    #[async_trait]
    impl Mailer for OutboxMailer {
        async fn send(&self, _acting: &ActingFor, email: &Email) -> Result<()> {
            let message = build_message(&self.from, email)?;
            let id = self
                .transport
                .send(message)
                .await
                .map_err(|e| Error::Mail {
                    message: if disk_full(&e) {
                        // Kept a mail failure (the `Mailer` contract): the sign-in
                        // page says no email is on its way, which is true.
                        format!("transient: outbox: the disk is full: {e}")
                    } else {
                        format!("outbox: {e}")
                    },
                })?;
            let file = self.dir.join(format!("{id}.eml"));
            owner_only_file(&file).map_err(|e| Error::Mail {
                message: format!("outbox: cannot restrict {}: {e}", file.display()),
            })?;
            tracing::info!(file = %file.display(), to = %email.to.masked(), "email written to outbox");
            Ok(())
        }
    }

    /// Whether `e` (or an error it wraps) is the file system saying it is full.
    fn disk_full(e: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(e);
        while let Some(e) = next {
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && matches!(
                    io.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                )
            {
                return true;
            }
            next = e.source();
        }
        false
    }

    #[cfg(test)]
    #[cfg(unix)]
    mod tests {
        use std::os::unix::fs::PermissionsExt;

        use super::*;
        use crate::model::EmailAddress;

        fn mode(path: &Path) -> u32 {
            std::fs::metadata(path).unwrap().permissions().mode() & 0o777
        }

        #[tokio::test]
        async fn outbox_folder_and_files_are_owner_only() {
            let dir = std::env::temp_dir().join(format!(
                "portal-outbox-mode-{}-{}",
                std::process::id(),
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
            ));
            // An existing, world-readable folder is tightened as well.
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            let outbox =
                OutboxMailer::new(dir.join("outbox"), "Portal <portal@example.com>").unwrap();
            assert_eq!(mode(outbox.dir()), 0o700);
            let existing = OutboxMailer::new(&dir, "Portal <portal@example.com>").unwrap();
            assert_eq!(mode(existing.dir()), 0o700);
            let email = Email {
                to: EmailAddress::parse("dana@example.com").unwrap(),
                to_name: Some("Dana".to_owned()),
                subject: "Your code".to_owned(),
                text: "123456".to_owned(),
                html: "<p>123456</p>".to_owned(),
                sender: None,
                list_unsubscribe: None,
                attachments: Vec::new(),
            };
            outbox
                .send(
                    &ActingFor::bare(crate::ids::TenantId::from_bytes([1; 16]), None),
                    &email,
                )
                .await
                .unwrap();
            let files: Vec<_> = std::fs::read_dir(outbox.dir())
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert_eq!(files.len(), 1);
            assert_eq!(mode(&files[0]), 0o600, "{}", files[0].display());
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

// ----- "I'm stuck" and due-date requests ---------------------------------------------

/// Tells the MSP at once that a contact is stuck on a task, with their reason: the
/// task waits on the MSP until someone answers in its thread and clears it.
pub fn stuck_notification(
    to: StaffRecipient<'_>,
    client: &str,
    who: &str,
    task_title: &str,
    reason: &str,
) -> Result<Email> {
    staff_email(
        to,
        format!("[{client}] {who} is stuck on “{task_title}”"),
        client,
        who,
        &format!("is stuck on “{task_title}” and needs your help"),
        reason,
    )
}

/// Tells the MSP that the handover from the client's previous provider stalls: the
/// provider's tasks past their due date or untouched for a working week
/// ([`crate::workflow::handover::stalled`]), each with why. Sent once per handover:
/// a phone call usually gets it moving again.
pub fn handover_stall_notification(
    to: StaffRecipient<'_>,
    client: &str,
    provider: &str,
    tasks: &[(String, String)],
) -> Result<Email> {
    let body = tasks
        .iter()
        .map(|(title, why)| format!("- {title} ({why})"))
        .collect::<Vec<_>>()
        .join("\n");
    staff_email(
        to,
        format!("[{client}] The handover from {provider} has stalled"),
        client,
        provider,
        "has not finished its handover tasks",
        &body,
    )
}

/// What a due-date request asks, for the MSP's notification.
#[derive(Debug, Clone, Copy)]
pub struct DueDateAsk<'a> {
    /// The task's title.
    pub task: &'a str,
    /// Its due date when asked, if any.
    pub from: Option<NaiveDate>,
    /// The date asked for.
    pub to: NaiveDate,
    /// Why.
    pub reason: &'a str,
}

/// Tells the MSP that a contact asks for a new due date; staff approve or decline it
/// in the admin view.
pub fn due_date_request_notification(
    to: StaffRecipient<'_>,
    client: &str,
    who: &str,
    ask: DueDateAsk<'_>,
) -> Result<Email> {
    let from = ask.from.map_or_else(
        || "no due date".to_owned(),
        |d| format!("due {}", crate::wording::date(d)),
    );
    let body = format!(
        "Now: {from}. Asked for: {}.\n\n{}",
        crate::wording::date(ask.to),
        ask.reason
    );
    staff_email(
        to,
        format!("[{client}] {who} asks for a new due date on “{}”", ask.task),
        client,
        who,
        &format!(
            "asks for a new due date on “{}” (approve or decline it)",
            ask.task
        ),
        &body,
    )
}

#[derive(Template)]
#[template(path = "email/task_update.txt")]
struct UpdateText<'a> {
    t: Texts,
    name: &'a str,
    company: &'a str,
    headline: &'a str,
    body: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/task_update.html")]
struct UpdateHtml<'a> {
    t: Texts,
    subject: &'a str,
    name: &'a str,
    company: &'a str,
    headline: &'a str,
    body: &'a str,
    link: &'a str,
    accent: String,
    accent_text: &'static str,
}

fn task_update(
    to: Recipient<'_>,
    subject: String,
    headline: &str,
    body: &str,
    link: &str,
) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let text = render(&UpdateText {
        t,
        name: to.name,
        company,
        headline,
        body,
        link,
    })?;
    let html = render(&UpdateHtml {
        t,
        subject: &subject,
        name: to.name,
        company,
        headline,
        body,
        link,
        accent: to.branding.accent_color.hex(),
        accent_text: to.branding.accent_color.text_color(),
    })?;
    Ok(Email {
        to: to.email.clone(),
        to_name: Some(to.name.to_owned()),
        subject,
        text,
        html,
        sender: None,
        list_unsubscribe: None,
        attachments: Vec::new(),
    })
}

/// Tells the contact who said they were stuck that the MSP answered and cleared it
/// (`answer`: what the MSP wrote in the thread, if anything).
pub fn stuck_cleared_email(
    to: Recipient<'_>,
    task: &str,
    who: &str,
    answer: Option<&str>,
    link: &str,
) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let headline = t.text_with(
        "email-stuck-cleared",
        &[
            ("who", who.into()),
            ("company", company.into()),
            ("task", task.into()),
        ],
    );
    let none = t.text("email-stuck-no-message");
    task_update(
        to,
        t.plain2(
            "email-stuck-cleared-subject",
            "company",
            company,
            "task",
            task,
        ),
        &headline,
        answer.unwrap_or(&none),
        link,
    )
}

/// Tells the contact who asked for a new due date that it was granted.
pub fn due_date_approved_email(
    to: Recipient<'_>,
    task: &str,
    date: NaiveDate,
    note: Option<&str>,
    link: &str,
) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let when = crate::wording::date_in(date, to.language);
    let headline = t.text_with(
        "email-due-approved",
        &[
            ("company", company.into()),
            ("task", task.into()),
            ("date", (&when).into()),
        ],
    );
    let none = t.text("email-no-note");
    task_update(
        to,
        t.plain2("email-due-approved-subject", "task", task, "date", &when),
        &headline,
        note.unwrap_or(&none),
        link,
    )
}

/// Tells the contact who asked for a new due date that it was declined, and why.
pub fn due_date_declined_email(
    to: Recipient<'_>,
    task: &str,
    asked: NaiveDate,
    due: Option<NaiveDate>,
    note: &str,
    link: &str,
) -> Result<Email> {
    let t = Texts::new(to.language);
    let company = to.branding.company_name.as_str();
    let stays = due.map_or_else(
        || t.text("email-due-declined-no-due"),
        |d| {
            let date = crate::wording::date_in(d, to.language);
            t.plain("email-due-declined-stays", "date", date)
        },
    );
    let headline = t.text_with(
        "email-due-declined",
        &[
            ("company", company.into()),
            ("task", task.into()),
            ("asked", crate::wording::date_in(asked, to.language).into()),
            ("stays", stays.into()),
        ],
    );
    task_update(
        to,
        t.plain("email-due-declined-subject", "task", task),
        &headline,
        note,
        link,
    )
}

// ----- Colleagues -----------------------------------------------------------------

/// Tells the MSP that a contact invited a colleague: when the portal wants approval,
/// the colleague waits for staff (approve or decline them in the console or the admin
/// API); otherwise their invitation went out at once. Never carries the colleague's
/// link: the MSP's inbox is not where a client's sign-in link belongs.
pub fn colleague_invited_notification(
    to: StaffRecipient<'_>,
    client: &str,
    who: &str,
    colleague: &str,
    colleague_email: &EmailAddress,
    awaiting_approval: bool,
) -> Result<Email> {
    let body = if awaiting_approval {
        format!(
            "{colleague} <{colleague_email}> waits for your approval: approve or decline them in the portal's contacts. They get no invitation until you approve."
        )
    } else {
        format!(
            "{colleague} <{colleague_email}> was sent their own invitation. Revoke their access in the portal's contacts if they should not have it."
        )
    };
    staff_email(
        to,
        format!("[{client}] {who} invited {colleague}"),
        client,
        who,
        &format!("invited their colleague {colleague}"),
        &body,
    )
}

/// Tells a contact that a colleague handed them a task, with the colleague's note
/// and a link to the task (the link needs the contact's own sign-in).
pub fn task_handed_email(
    to: Recipient<'_>,
    task: &str,
    who: &str,
    note: &str,
    link: &str,
) -> Result<Email> {
    let t = Texts::new(to.language);
    let headline = t.plain2("email-handed", "who", who, "task", task);
    let none = t.text("email-no-note");
    task_update(
        to,
        t.plain2("email-handed-subject", "who", who, "task", task),
        &headline,
        if note.is_empty() { &none } else { note },
        link,
    )
}

#[cfg(test)]
mod client_emails;
#[cfg(test)]
mod language_tests;
