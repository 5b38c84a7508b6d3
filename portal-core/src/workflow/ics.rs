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

use chrono::{DateTime, TimeDelta, Utc};
use icalendar::{Calendar, Component, EventLike};

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

/// Renders the `.ics` file.
pub fn meeting_ics(m: &IcsMeeting<'_>) -> String {
    let mut description = m.description.trim().to_owned();
    if let Some(url) = m.meeting_url {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str("Join: ");
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
    let mut calendar = Calendar::empty();
    calendar
        .append_property(icalendar::Property::new("VERSION", "2.0"))
        .append_property(icalendar::Property::new(
            "PRODID",
            "-//MSP client portal//Meeting invite//EN",
        ))
        .append_property(icalendar::Property::new("CALSCALE", "GREGORIAN"))
        .append_property(icalendar::Property::new("METHOD", "PUBLISH"))
        .push(event.done());
    calendar.to_string()
}
