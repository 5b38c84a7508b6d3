//! Every client email built the same way in each language, for the language tests
//! below (and the Spanish snapshots): one table, so an email added to the portal is
//! one row here and is then checked in every language.

use chrono::{NaiveDate, TimeZone as _, Utc};

use super::*;
use crate::i18n::Language;
use crate::model::{Branding, EmailAddress, TimeZone};

/// The recipient, branding and zone every email of the table is sent to.
pub(super) struct Fixture {
    email: EmailAddress,
    branding: Branding,
    zone: TimeZone,
}

impl Fixture {
    pub(super) fn new() -> Fixture {
        Fixture {
            email: EmailAddress::parse("dana@example.com").unwrap(),
            branding: Branding::new("Acme IT", "#1f5fbf", "Welcome", None).unwrap(),
            zone: TimeZone::parse("America/New_York").unwrap(),
        }
    }

    fn to(&self, language: Language) -> Recipient<'_> {
        Recipient {
            name: "Dana Reyes",
            email: &self.email,
            branding: &self.branding,
            time_zone: self.zone,
            language,
        }
    }

    /// Every client email, named, in `language`.
    pub(super) fn all(&self, language: Language) -> Vec<(&'static str, Email)> {
        let to = self.to(language);
        let at = Utc.with_ymd_and_hms(2026, 3, 10, 14, 30, 0).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let link = "https://portal.example.com/tasks/1";
        let meeting = |change| MeetingFacts {
            change,
            title: "Kick-off call",
            starts_at: at,
            duration_minutes: 45,
            meeting_url: Some("https://meet.example.com/abc"),
        };
        let digest_item = |title: &str, step, d| DigestItem {
            title: title.to_owned(),
            when: digest_when(step, day(d), language),
            task_url: link.to_owned(),
            snooze_url: "https://portal.example.com/r/s".to_owned(),
        };
        let tasks = [
            "Share the ISP contract".to_owned(),
            "Sign the agreement".to_owned(),
        ];
        vec![
            (
                "guest_invite",
                guest_invite_email(
                    to,
                    "Globex",
                    "https://portal.example.com/i/x",
                    &tasks,
                    Some(at),
                ),
            ),
            (
                "guest_invite_one",
                guest_invite_email(
                    to,
                    "Globex",
                    "https://portal.example.com/i/x",
                    &tasks[..1],
                    None,
                ),
            ),
            (
                "document_rejected",
                document_rejected_email(
                    to,
                    RejectedDocument {
                        task: "Network documents",
                        document: "Network diagram",
                        file: "diagram.pdf",
                        notes: "Please include the second floor.",
                    },
                ),
            ),
            (
                "task_assigned",
                task_email(
                    to,
                    TaskForYou::Assigned,
                    "Sign the agreement",
                    Some(day(17)),
                ),
            ),
            (
                "task_ready",
                task_email(to, TaskForYou::Ready, "Sign the agreement", None),
            ),
            (
                "meeting_scheduled",
                meeting_email(to, meeting(MeetingChange::Scheduled), String::new()),
            ),
            (
                "meeting_moved",
                meeting_email(to, meeting(MeetingChange::Moved), String::new()),
            ),
            (
                "meeting_cancelled",
                meeting_email(to, meeting(MeetingChange::Cancelled), String::new()),
            ),
            (
                "question_answered",
                answer_email(
                    to,
                    "Globex",
                    "Which VPN do you use?",
                    "Sam Lee",
                    "WireGuard.",
                ),
            ),
            (
                "comment_reply",
                comment_reply_email(
                    to,
                    CommentReply {
                        client: "Globex",
                        who: "Sam Lee",
                        task: "Sign the agreement",
                        body: "Page 3 is the one.",
                        link,
                    },
                ),
            ),
            (
                "reminder_digest_one",
                reminder_digest_email(
                    to,
                    "Globex",
                    &[digest_item("Sign the agreement", DueStep::Soon, 12)],
                    "https://portal.example.com/r/u",
                ),
            ),
            (
                "reminder_digest",
                reminder_digest_email(
                    to,
                    "Globex",
                    &[
                        digest_item("Sign the agreement", DueStep::Today, 10),
                        digest_item("Share the ISP contract", DueStep::Overdue, 2),
                    ],
                    "https://portal.example.com/r/u",
                ),
            ),
            (
                "stuck_cleared",
                stuck_cleared_email(
                    to,
                    "Sign the agreement",
                    "Sam Lee",
                    Some("Use page 3."),
                    link,
                ),
            ),
            (
                "stuck_cleared_silent",
                stuck_cleared_email(to, "Sign the agreement", "Sam Lee", None, link),
            ),
            (
                "due_date_approved",
                due_date_approved_email(to, "Sign the agreement", day(20), None, link),
            ),
            (
                "due_date_declined",
                due_date_declined_email(
                    to,
                    "Sign the agreement",
                    day(27),
                    Some(day(17)),
                    "The auditor needs it.",
                    link,
                ),
            ),
            (
                "due_date_declined_no_due",
                due_date_declined_email(
                    to,
                    "Sign the agreement",
                    day(27),
                    None,
                    "Not possible.",
                    link,
                ),
            ),
            (
                "task_handed",
                task_handed_email(to, "Sign the agreement", "Lee Park", "", link),
            ),
        ]
        .into_iter()
        .map(|(name, email)| (name, email.unwrap()))
        .collect()
    }
}
