//! The "Download Calendar Invite" file: an RFC 5545 iCalendar object for a scheduled
//! meeting task. The `icalendar` crate writes it (escaping of `,` `;` `\` and line
//! breaks, CRLF line ends, folding at 75 octets); this module decides what goes in.
//!
//! - `UID` is stable per task (`{task id}@msp-client-portal`), so re-downloading after a
//!   reschedule updates the existing calendar entry instead of adding a second one.
//! - `SEQUENCE` is the number of times the meeting was rescheduled.
//! - `DTSTAMP` is when this revision of the schedule was made (not the download time),
//!   so the same revision always yields the same file.
//! - Times are written in UTC (`...Z`): every client converts them to the viewer's zone,
//!   and no `VTIMEZONE` data has to be shipped.
//! - The download is `METHOD:PUBLISH` (a file to import). The file attached to the
//!   meeting emails is an iTIP message (RFC 5546): `METHOD:REQUEST` with the contact as
//!   `ATTENDEE` when the meeting is scheduled or moved, `METHOD:CANCEL` with
//!   `STATUS:CANCELLED` when it is called off; calendar apps then update or remove the
//!   entry they hold under the same `UID` instead of adding a second one.

use chrono::{DateTime, TimeDelta, Utc};
use icalendar::{Calendar, Component, EventLike};

use crate::i18n::Language;
use crate::ids::TaskId;
use crate::model::EmailAddress;

/// What the calendar file says about one meeting.
#[derive(Debug, Clone)]
pub struct IcsMeeting<'a> {
    /// The meeting task.
    pub task_id: TaskId,
    /// Title.
    pub title: &'a str,
    /// Agenda or description, plain text.
    pub description: &'a str,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Length.
    pub duration_minutes: u32,
    /// Where to join, if given (http/https only, checked when scheduled).
    pub meeting_url: Option<&'a str>,
    /// Times the meeting was rescheduled (0 for the first schedule).
    pub sequence: u32,
    /// When this revision was made.
    pub revised_at: DateTime<Utc>,
    /// The MSP's display name.
    pub organizer_name: &'a str,
    /// The MSP's address for replies, if it has one.
    pub organizer_email: Option<&'a EmailAddress>,
}

/// The stable UID of a task's meeting.
pub fn meeting_uid(task: TaskId) -> String {
    format!("{task}@msp-client-portal")
}

/// What an iCalendar object asks of the calendar that reads it (RFC 5546 `METHOD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcsMethod {
    /// A file to import (the download).
    Publish,
    /// An invitation: add the event, or update the one with this `UID` when the
    /// `SEQUENCE` is higher.
    Request,
    /// The event with this `UID` is called off.
    Cancel,
}

impl IcsMethod {
    /// The `METHOD` value, also the `method=` parameter of the attachment's MIME type.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "PUBLISH",
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }
}

/// Who an invitation is for (`ATTENDEE`).
#[derive(Debug, Clone, Copy)]
pub struct IcsAttendee<'a> {
    /// Their name.
    pub name: &'a str,
    /// Their address.
    pub email: &'a EmailAddress,
}

/// Renders the `.ics` file to download (`METHOD:PUBLISH`).
pub fn meeting_ics(m: &IcsMeeting<'_>) -> String {
    meeting_itip(m, IcsMethod::Publish, None)
}

/// Renders the calendar object with `method`, addressed to `attendee` (invitations and
/// cancellations name who they are for; calendar apps ignore an iTIP message that
/// does not name the reader's address). A cancellation carries `STATUS:CANCELLED`; its
/// `sequence` must be higher than the invitation's it cancels. The words it adds (the
/// "Join:" line of the description) are English: [`meeting_itip_in`] for a contact's
/// language.
pub fn meeting_itip(
    m: &IcsMeeting<'_>,
    method: IcsMethod,
    attendee: Option<IcsAttendee<'_>>,
) -> String {
    meeting_itip_in(m, method, attendee, Language::En)
}

/// [`meeting_itip`] with the words it adds in `language`: the calendar entry is the
/// contact's, next to the email in their language. (Title and agenda are the MSP's
/// own text, shown as written.)
pub fn meeting_itip_in(
    m: &IcsMeeting<'_>,
    method: IcsMethod,
    attendee: Option<IcsAttendee<'_>>,
    language: Language,
) -> String {
    let mut description = m.description.trim().to_owned();
    if let Some(url) = m.meeting_url {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(&crate::i18n::text(language, "email-meeting-join"));
        description.push(' ');
        description.push_str(url);
    }
    let mut event = icalendar::Event::with_uid(&meeting_uid(m.task_id));
    event
        .sequence(m.sequence)
        .timestamp(m.revised_at)
        .starts(m.starts_at)
        .ends(m.starts_at + TimeDelta::minutes(i64::from(m.duration_minutes)))
        .summary(m.title)
        .description(&description);
    if let Some(url) = m.meeting_url {
        event.url(url).location(url);
    }
    let mailto = m.organizer_email.map_or_else(
        || "mailto:noreply@invalid".to_owned(),
        |e| format!("mailto:{e}"),
    );
    let organizer = icalendar::Property::new("ORGANIZER", &mailto)
        .add_parameter("CN", &m.organizer_name.replace('"', "'"))
        .done();
    event.append_property(organizer);
    if let Some(a) = attendee {
        let attendee = icalendar::Property::new("ATTENDEE", format!("mailto:{}", a.email))
            .add_parameter("CN", &a.name.replace('"', "'"))
            .add_parameter("ROLE", "REQ-PARTICIPANT")
            .add_parameter("RSVP", "FALSE")
            .done();
        event.append_property(attendee);
    }
    if method == IcsMethod::Cancel {
        event.status(icalendar::EventStatus::Cancelled);
    }
    let mut calendar = Calendar::empty();
    calendar
        .append_property(icalendar::Property::new("VERSION", "2.0"))
        .append_property(icalendar::Property::new(
            "PRODID",
            "-//MSP client portal//Meeting invite//EN",
        ))
        .append_property(icalendar::Property::new("CALSCALE", "GREGORIAN"))
        .append_property(icalendar::Property::new("METHOD", method.as_str()))
        .push(event.done());
    calendar.to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;

    fn meeting<'a>(description: &'a str, url: Option<&'a str>) -> IcsMeeting<'a> {
        IcsMeeting {
            task_id: TaskId::from_uuid(Uuid::from_u128(0xabc)),
            title: "Kick-off",
            description,
            starts_at: Utc.with_ymd_and_hms(2025, 4, 1, 15, 0, 0).unwrap(),
            duration_minutes: 45,
            meeting_url: url,
            sequence: 2,
            revised_at: Utc.with_ymd_and_hms(2025, 3, 30, 8, 5, 0).unwrap(),
            organizer_name: "Northwind \"IT\"",
            organizer_email: None,
        }
    }

    fn lines(ics: &str) -> Vec<&str> {
        ics.split("\r\n").collect()
    }

    #[test]
    fn the_uid_is_stable_per_task() {
        let id = TaskId::from_uuid(Uuid::from_u128(0xabc));
        assert_eq!(
            meeting_uid(id),
            "00000000-0000-0000-0000-000000000abc@msp-client-portal"
        );
    }

    #[test]
    fn the_file_carries_the_revision_times_and_join_link() {
        let ics = meeting_ics(&meeting("  Agenda  ", Some("https://meet.example/j")));
        let l = lines(&ics);
        for want in [
            "BEGIN:VCALENDAR",
            "METHOD:PUBLISH",
            "UID:00000000-0000-0000-0000-000000000abc@msp-client-portal",
            "SEQUENCE:2",
            "DTSTAMP:20250330T080500Z",
            "DTSTART:20250401T150000Z",
            "DTEND:20250401T154500Z",
            "SUMMARY:Kick-off",
            "DESCRIPTION:Agenda\\n\\nJoin: https://meet.example/j",
            "LOCATION:https://meet.example/j",
            "URL:https://meet.example/j",
            "ORGANIZER;CN=Northwind 'IT':mailto:noreply@invalid",
        ] {
            assert!(l.contains(&want), "{want} missing from\n{ics}");
        }
    }

    #[test]
    fn without_an_agenda_or_link_the_description_says_only_what_there_is() {
        let ics = meeting_ics(&meeting(" ", Some("https://meet.example/j")));
        assert!(
            lines(&ics).contains(&"DESCRIPTION:Join: https://meet.example/j"),
            "{ics}"
        );
        let email = EmailAddress::parse("desk@northwind.example").unwrap();
        let mut m = meeting("Agenda", None);
        m.organizer_email = Some(&email);
        let ics = meeting_ics(&m);
        let l = lines(&ics);
        assert!(l.contains(&"DESCRIPTION:Agenda"), "{ics}");
        assert!(
            l.contains(&"ORGANIZER;CN=Northwind 'IT':mailto:desk@northwind.example"),
            "{ics}"
        );
        assert!(!ics.contains("URL:") && !ics.contains("LOCATION:"), "{ics}");
    }

    #[test]
    fn invitations_and_cancellations_name_the_attendee() {
        let email = EmailAddress::parse("dana@contoso.example").unwrap();
        let dana = IcsAttendee {
            name: "Dana \"D\" Reyes",
            email: &email,
        };
        let m = meeting("Agenda", None);
        let request = meeting_itip(&m, IcsMethod::Request, Some(dana));
        let l = lines(&request);
        assert!(l.contains(&"METHOD:REQUEST"), "{request}");
        assert!(!request.contains("STATUS:CANCELLED"), "{request}");
        // Long lines are folded (CRLF + space): unfold before looking.
        assert!(
            request.replace("\r\n ", "").contains(
                "ATTENDEE;CN=Dana 'D' Reyes;ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:dana@contoso.example"
            ),
            "{request}"
        );
        let cancel = meeting_itip(&m, IcsMethod::Cancel, Some(dana));
        let l = lines(&cancel);
        assert!(l.contains(&"METHOD:CANCEL"), "{cancel}");
        assert!(l.contains(&"STATUS:CANCELLED"), "{cancel}");
        assert!(
            l.contains(&"UID:00000000-0000-0000-0000-000000000abc@msp-client-portal"),
            "{cancel}"
        );
        assert!(
            !meeting_ics(&m).contains("ATTENDEE"),
            "the download names nobody"
        );
    }
}
