//! Meeting tasks: the `.ics` invite is valid RFC 5545 and updates on reschedule.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::model::{Branding, MeetingSchedule, Side, TaskKind};
use portal_core::workflow::ActivityKind;
use portal_core::{Entity, Error};

use crate::{Harness, assert_err};

/// RFC 5545 TEXT unescaping (what a calendar does with the value).
fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => panic!("trailing backslash in {v:?}"),
        }
    }
    out
}

/// A parsed property's parameters and raw value.
type Prop = (Vec<(String, Vec<String>)>, String);

/// The parsed calendar's one event, as `name → (params, raw value)`.
fn parse_event(ics: &str) -> BTreeMap<String, Prop> {
    let mut calendars: Vec<_> = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(calendars.len(), 1);
    let cal = calendars.remove(0);
    let names: Vec<&str> = cal.properties.iter().map(|p| p.name.as_str()).collect();
    assert!(
        names.contains(&"VERSION") && names.contains(&"PRODID"),
        "{names:?}"
    );
    assert_eq!(cal.events.len(), 1);
    let mut props = BTreeMap::new();
    for p in &cal.events[0].properties {
        let old = props.insert(
            p.name.clone(),
            (
                p.params.clone().unwrap_or_default(),
                p.value.clone().unwrap_or_default(),
            ),
        );
        assert!(old.is_none(), "{} appears twice", p.name);
    }
    props
}

fn assert_physical_lines(ics: &str) {
    assert!(ics.ends_with("\r\n"), "CRLF at the end");
    let body = &ics[..ics.len() - 2];
    for line in body.split("\r\n") {
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "bare line break in {line:?}"
        );
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
}

/// A property's raw value after unfolding exactly as RFC 5545 says (remove each
/// CRLF followed by one space or tab).
fn strict_value(ics: &str, name: &str) -> String {
    let unfolded = ics.replace("\r\n ", "").replace("\r\n\t", "");
    unfolded
        .split("\r\n")
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
        .unwrap_or_else(|| panic!("no {name} in {ics}"))
        .to_owned()
}

fn ical_utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

#[tokio::test]
async fn meeting_invite_is_valid_ics_and_updates_on_reschedule() {
    let h = Harness::new(104).await;
    let (ctx, phase) = h.client().await;
    let meeting = h
        .task(
            phase,
            "Kickoff call, part 1; with \\ backslash",
            Side::Client,
            TaskKind::Meeting { schedule: None },
        )
        .await;
    assert_err(
        h.service
            .staff_meeting_ics(&h.staff, h.portal.id, meeting.id)
            .await,
        |e| {
            matches!(
                e,
                Error::NotFound {
                    entity: Entity::Meeting
                }
            )
        },
    );
    let agenda = "Introductions, goals; timeline.\nSecond line: access, accounts & \
                  devices — über-long so the line must fold at seventy-five octets ✓✓✓";
    let url = "https://meet.example/j/123?pwd=a,b;c";
    let first_start: DateTime<Utc> = "2026-12-01T15:00:00Z".parse().unwrap();
    let moved_start: DateTime<Utc> = "2026-12-02T16:30:00Z".parse().unwrap();

    h.clock.advance(TimeDelta::minutes(1));
    let scheduled_at = h.now();
    let s = h
        .service
        .schedule_meeting(
            &h.staff,
            h.portal.id,
            meeting.id,
            MeetingSchedule::new(first_start, "America/New_York", 60, Some(url), Some(agenda)),
        )
        .await
        .unwrap();
    let TaskKind::Meeting {
        schedule: Some(first),
    } = &s.kind
    else {
        panic!("not scheduled")
    };
    assert_eq!(first.sequence, 0);
    let ics0 = h.service.meeting_ics(&ctx, meeting.id).await.unwrap();

    h.clock.advance(TimeDelta::hours(2));
    let moved_at = h.now();
    let s = h
        .service
        .schedule_meeting(
            &h.staff,
            h.portal.id,
            meeting.id,
            MeetingSchedule::new(moved_start, "America/New_York", 45, Some(url), Some(agenda)),
        )
        .await
        .unwrap();
    let TaskKind::Meeting {
        schedule: Some(moved),
    } = &s.kind
    else {
        panic!("not scheduled")
    };
    assert_eq!(moved.sequence, 1);
    assert_eq!(moved.revised_at, Some(moved_at));
    h.clock.advance(TimeDelta::days(3));
    let ics1 = h.service.meeting_ics(&ctx, meeting.id).await.unwrap();
    assert_eq!(
        h.service.meeting_ics(&ctx, meeting.id).await.unwrap(),
        ics1,
        "the same revision always gives the same file"
    );

    let uid = format!("{}@msp-client-portal", meeting.id);
    let description = format!("{agenda}\n\nJoin: {url}");
    for (ics, seq, stamp, start, minutes) in [
        (&ics0, "0", scheduled_at, first_start, 60),
        (&ics1, "1", moved_at, moved_start, 45),
    ] {
        assert_physical_lines(ics);
        let ev = parse_event(ics);
        let value = |name: &str| {
            ev.get(name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        assert_eq!(value("UID"), uid, "the UID is stable across reschedules");
        assert_eq!(value("SEQUENCE"), seq);
        assert_eq!(value("DTSTAMP"), ical_utc(stamp));
        assert_eq!(value("DTSTART"), ical_utc(start));
        assert_eq!(
            value("DTEND"),
            ical_utc(start + TimeDelta::minutes(minutes))
        );
        assert_eq!(
            unescape(&value("SUMMARY")),
            "Kickoff call, part 1; with \\ backslash"
        );
        assert!(value("SUMMARY").contains("\\,") && value("SUMMARY").contains("\\;"));
        // The ical crate trims whitespace at the end of a physical line when it
        // unfolds (RFC 5545 removes only CRLF + one space), so a space just before a
        // fold is lost there: compare its value without whitespace, and the exact
        // value from a strict RFC unfolding.
        let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert_eq!(
            squeeze(&unescape(&value("DESCRIPTION"))),
            squeeze(&description)
        );
        assert_eq!(unescape(&strict_value(ics, "DESCRIPTION")), description);
        assert!(value("DESCRIPTION").contains("\\n"), "newlines escaped");
        assert_eq!(unescape(&strict_value(ics, "LOCATION")), url);
        assert_eq!(unescape(&value("URL")), url);
        let (params, organizer) = ev.get("ORGANIZER").cloned().unwrap();
        assert_eq!(organizer, "mailto:desk@northwind.example");
        assert_eq!(
            params,
            vec![("CN".to_owned(), vec!["Northwind IT".to_owned()])]
        );
    }
    assert_snapshot!("core__workflow__meeting_ics_rescheduled", ics1);

    // An organizer name with parameter delimiters stays one parameter.
    let odd = Branding::new("Northwind IT, Inc.; East: \"HQ\"", "#1f6feb", "", None).unwrap();
    h.service
        .update_portal_branding(&h.staff, h.portal.id, odd)
        .await
        .unwrap();
    let ics = h.service.meeting_ics(&ctx, meeting.id).await.unwrap();
    assert_physical_lines(&ics);
    let (params, organizer) = parse_event(&ics).get("ORGANIZER").cloned().unwrap();
    assert_eq!(organizer, "mailto:desk@northwind.example");
    assert_eq!(params.len(), 1, "{params:?}");
    assert_eq!(params[0].0, "CN");
    assert_eq!(
        params[0].1.concat().replace('"', ""),
        "Northwind IT, Inc.; East: 'HQ'"
    );

    let feed = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 10)
            .await
            .unwrap()
            .items,
    );
    let kinds: Vec<ActivityKind> = feed.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ActivityKind::BrandingChanged,
            ActivityKind::MeetingRescheduled,
            ActivityKind::MeetingScheduled
        ],
        "the branding change above is in the feed too"
    );
    // The client cannot schedule: scheduling takes a StaffContext, and the rule
    // (`workflow::apply`) refuses a client actor too (its own unit tests).
}

/// The calendar object attached to a meeting email: its `METHOD` (a calendar
/// property) and its one event.
fn attached_invite(email: &portal_core::Email) -> (String, BTreeMap<String, Prop>, String) {
    assert_eq!(email.attachments.len(), 1, "{email:?}");
    let file = &email.attachments[0];
    assert_eq!(file.filename, "invite.ics");
    let ics = String::from_utf8(file.content.clone()).unwrap();
    let calendars: Vec<_> = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()))
        .collect::<Result<_, _>>()
        .unwrap();
    let method = calendars[0]
        .properties
        .iter()
        .find(|p| p.name == "METHOD")
        .and_then(|p| p.value.clone())
        .unwrap();
    assert!(
        file.content_type.ends_with(&format!("method={method}")),
        "{}",
        file.content_type
    );
    (method, parse_event(&ics), ics)
}

#[tokio::test]
async fn meeting_emails_carry_an_invite_that_updates_and_cancels_one_event() {
    let h = Harness::new(117).await;
    let (_ctx, phase) = h.client().await;
    let auckland = portal_core::model::TimeZone::parse("Pacific/Auckland").unwrap();
    let aroha = h
        .service
        .add_contact_in_zone(
            &h.staff,
            h.portal.id,
            "Aroha Ngata",
            "aroha@contoso.example",
            Some(auckland),
            None,
        )
        .await
        .unwrap();
    let meeting = h
        .task(
            phase,
            "Kick-off call",
            Side::Client,
            TaskKind::Meeting { schedule: None },
        )
        .await;
    let start: DateTime<Utc> = "2026-12-03T20:00:00Z".parse().unwrap();
    let moved: DateTime<Utc> = "2026-12-04T21:30:00Z".parse().unwrap();
    let url = "https://meet.example/j/42";

    h.clock.advance(TimeDelta::minutes(1));
    h.service
        .schedule_meeting(
            &h.staff,
            h.portal.id,
            meeting.id,
            MeetingSchedule::new(
                start,
                "America/New_York",
                45,
                Some(url),
                Some("Introductions"),
            ),
        )
        .await
        .unwrap();
    let invited = h.mailer.last_to("aroha@contoso.example").unwrap();
    assert_eq!(invited.subject, "Meeting scheduled: “Kick-off call”");
    // In Aroha's zone, named: 20:00 UTC on 3 Dec is 09:00 NZDT on 4 Dec.
    let local = "Fri 4 Dec 2026, 09:00 NZDT (Pacific/Auckland)";
    assert!(invited.text.contains(local), "{}", invited.text);
    assert!(invited.html.contains(local), "{}", invited.html);
    assert!(invited.text.contains(url));
    let (method, first, ics) = attached_invite(&invited);
    assert_eq!(method, "REQUEST");
    let value = |ev: &BTreeMap<String, Prop>, name: &str| ev[name].1.clone();
    let uid = format!("{}@msp-client-portal", meeting.id);
    assert_eq!(value(&first, "UID"), uid);
    assert_eq!(value(&first, "SEQUENCE"), "0");
    assert_eq!(value(&first, "DTSTART"), ical_utc(start), "DTSTART in UTC");
    assert_eq!(value(&first, "ATTENDEE"), format!("mailto:{}", aroha.email));
    assert_physical_lines(&ics);
    // Every contact of the portal gets their own, in their own zone.
    let dana = h.last_email(&h.contact);
    assert_eq!(dana.subject, invited.subject);
    assert_eq!(
        value(&attached_invite(&dana).1, "ATTENDEE"),
        format!("mailto:{}", h.contact.email)
    );
    assert!(dana.text.contains(&portal_core::wording::local_time(
        start,
        h.contact.time_zone
    )));
    assert_snapshot!("core__meeting_scheduled_text", invited.text.clone());
    assert_snapshot!("core__meeting_scheduled_html", invited.html.clone());

    h.clock.advance(TimeDelta::hours(1));
    h.service
        .schedule_meeting(
            &h.staff,
            h.portal.id,
            meeting.id,
            MeetingSchedule::new(
                moved,
                "America/New_York",
                30,
                Some(url),
                Some("Introductions"),
            ),
        )
        .await
        .unwrap();
    let moved_email = h.mailer.last_to("aroha@contoso.example").unwrap();
    assert_eq!(moved_email.subject, "Meeting moved: “Kick-off call”");
    let (method, second, _) = attached_invite(&moved_email);
    assert_eq!(method, "REQUEST");
    assert_eq!(value(&second, "UID"), uid, "the same event");
    assert_eq!(value(&second, "SEQUENCE"), "1", "raised on the move");
    assert_eq!(value(&second, "DTSTART"), ical_utc(moved));
    assert_snapshot!("core__meeting_moved_text", moved_email.text.clone());
    assert_snapshot!("core__meeting_moved_html", moved_email.html.clone());

    h.clock.advance(TimeDelta::hours(1));
    let current = h
        .service
        .staff_task(&h.staff, h.portal.id, meeting.id)
        .await
        .unwrap();
    let sent = h.mailer.sent().len();
    h.service
        .delete_task(&h.staff, h.portal.id, meeting.id, current.version)
        .await
        .unwrap();
    assert_eq!(h.mailer.sent().len(), sent + 2, "both contacts told");
    let cancelled = h.mailer.last_to("aroha@contoso.example").unwrap();
    assert_eq!(cancelled.subject, "Meeting cancelled: “Kick-off call”");
    assert!(
        !cancelled.text.contains(url),
        "no link to a cancelled meeting"
    );
    let (method, third, _) = attached_invite(&cancelled);
    assert_eq!(method, "CANCEL");
    assert_eq!(value(&third, "UID"), uid);
    assert_eq!(
        value(&third, "SEQUENCE"),
        "2",
        "higher than the last invite"
    );
    assert_eq!(value(&third, "STATUS"), "CANCELLED");
    assert_snapshot!("core__meeting_cancelled_text", cancelled.text.clone());
    assert_snapshot!("core__meeting_cancelled_html", cancelled.html.clone());
}

#[tokio::test]
async fn an_msp_meeting_emails_no_client() {
    let h = Harness::new(118).await;
    let (_ctx, phase) = h.client().await;
    let msp_meeting = h
        .task(
            phase,
            "Internal prep",
            Side::Msp,
            TaskKind::Meeting { schedule: None },
        )
        .await;
    let sent = h.mailer.sent().len();
    h.service
        .schedule_meeting(
            &h.staff,
            h.portal.id,
            msp_meeting.id,
            MeetingSchedule::new(
                "2026-12-03T20:00:00Z".parse().unwrap(),
                "UTC",
                30,
                None,
                None,
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        h.mailer.sent().len(),
        sent,
        "an MSP meeting emails no client"
    );
}
