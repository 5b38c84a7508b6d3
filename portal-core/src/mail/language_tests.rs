//! Client emails in every language (issue 14): each one built in Spanish takes every
//! word from the catalog (nothing missing) and differs from the English one in its
//! subject, text and HTML; Spanish snapshots of the main ones.

use super::client_emails::Fixture;
use crate::i18n::Language;

/// What the catalog could not produce, leaving out the key the catalog's own test
/// asks for on purpose (`missing()` is process-wide and the tests run in parallel).
fn missing_now() -> Vec<crate::i18n::Missing> {
    crate::i18n::missing()
        .into_iter()
        .filter(|m| m.key != "no-such-key")
        .collect()
}

#[test]
fn every_client_email_is_complete_in_spanish_and_differs_from_english() {
    let fixture = Fixture::new();
    let english = fixture.all(Language::En);
    let spanish = fixture.all(Language::Es);
    assert_eq!(missing_now(), [], "messages the catalog lacks");
    assert_eq!(english.len(), spanish.len());
    for ((name, en), (_, es)) in english.iter().zip(&spanish) {
        assert_ne!(en.subject, es.subject, "{name}: subject");
        assert_ne!(en.text, es.text, "{name}: text");
        assert!(en.html.contains(r#"<html lang="en">"#), "{name}");
        assert!(es.html.contains(r#"<html lang="es">"#), "{name}");
        // The greeting and sign-off come from the catalog too.
        assert!(
            es.text.starts_with("Hola, Dana Reyes:"),
            "{name}: {}",
            es.text
        );
        for line in english_lines(&en.text) {
            assert!(
                !es.text.lines().any(|l| l.trim() == line),
                "{name}: English line left in the Spanish text: {line:?}\n{}",
                es.text
            );
        }
    }
}

/// The lines of an English text that are words of the email (not data: links, the
/// quoted notes and titles the fixture typed).
fn english_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.split_whitespace().count() > 1)
        .filter(|l| !l.contains("https://") && !l.starts_with('—'))
        .filter(|l| {
            ![
                "Please include the second floor.",
                "The auditor needs it.",
                "Which VPN do you use?",
                "Page 3 is the one.",
                "- Share the ISP contract",
                "- Sign the agreement",
                "Sign the agreement",
                "Kick-off call",
                "Use page 3.",
                "Not possible.",
            ]
            .contains(l)
        })
        .collect()
}

/// Times in a Spanish email are in the contact's zone, named, with Spanish day and
/// month names; the meeting's calendar line names its zone.
#[test]
fn spanish_dates_are_local_named_and_spanish() {
    let fixture = Fixture::new();
    let spanish = fixture.all(Language::Es);
    let email = |name: &str| &spanish.iter().find(|(n, _)| *n == name).unwrap().1;
    let meeting = email("meeting_scheduled");
    assert!(
        meeting
            .text
            .contains("mar 10 mar 2026, 10:30 EDT (America/New_York), durante 45 minutos"),
        "{}",
        meeting.text
    );
    assert!(
        email("task_assigned")
            .text
            .contains("Vence el martes, 17 de marzo de 2026"),
        "{}",
        email("task_assigned").text
    );
    assert!(
        email("guest_invite")
            .text
            .contains("Su acceso termina el mar 10 mar 2026, 10:30 EDT (America/New_York)."),
        "{}",
        email("guest_invite").text
    );
}

#[test]
fn the_calendar_file_of_a_spanish_meeting_says_join_in_spanish() {
    use crate::workflow::ics::{IcsMeeting, IcsMethod, meeting_itip, meeting_itip_in};
    let meeting = IcsMeeting {
        task_id: crate::ids::TaskId::from_bytes([7; 16]),
        title: "Kick-off call",
        description: "Agenda",
        starts_at: chrono::DateTime::UNIX_EPOCH,
        duration_minutes: 30,
        meeting_url: Some("https://meet.example.com/abc"),
        sequence: 0,
        revised_at: chrono::DateTime::UNIX_EPOCH,
        organizer_name: "Acme IT",
        organizer_email: None,
    };
    let es = meeting_itip_in(&meeting, IcsMethod::Request, None, Language::Es);
    let en = meeting_itip(&meeting, IcsMethod::Request, None);
    assert!(es.contains("Unirse: https://meet.example.com/abc"), "{es}");
    assert!(en.contains("Join: https://meet.example.com/abc"), "{en}");
}

#[test]
fn spanish_snapshots() {
    let fixture = Fixture::new();
    let spanish = fixture.all(Language::Es);
    let email = |name: &str| &spanish.iter().find(|(n, _)| *n == name).unwrap().1;
    for name in [
        "reminder_digest",
        "document_rejected",
        "due_date_declined",
        "stuck_cleared",
        "meeting_scheduled",
        "meeting_cancelled",
        "guest_invite",
    ] {
        let e = email(name);
        insta::assert_snapshot!(
            format!("es_{name}"),
            format!("Subject: {}\n\n{}", e.subject, e.text)
        );
    }
    insta::assert_snapshot!("es_reminder_digest_html", email("reminder_digest").html);
}
