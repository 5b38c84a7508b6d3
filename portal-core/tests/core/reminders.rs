//! Reminders on the injected clock: a simulated month of an overdue plan (what a
//! contact receives: the daily cap, business days, weekly after the ladder), the local
//! hour across both daylight-saving changes of America/New_York, nothing for completed
//! tasks, after unsubscribing or while snoozed, one escalation per quiet spell, and
//! snapshots of the digest and escalation emails.

use chrono::TimeZone as _;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc, Weekday};
use portal_core::model::{Contact, Portal, Side, TaskKind, TimeZone};
use portal_core::reminders::ReminderLink;
use portal_core::testkit::{RECIPIENTS, TestService};
use portal_core::{Email, TaskSpec};

struct Plan {
    kit: TestService,
    portal: Portal,
    ny: Contact,
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A portal created at `start` with a contact in New York and client tasks due on
/// `dues` (and one MSP task, never reminded).
async fn plan(start: DateTime<Utc>, dues: &[NaiveDate]) -> Plan {
    let kit = TestService::in_memory(77);
    kit.clock.set(start);
    let seeded = kit.seed_portal().await.unwrap();
    let ny = kit
        .service
        .add_contact_in_zone(
            &seeded.staff,
            seeded.portal.id,
            "Dana Ortiz",
            "dana@contoso.example",
            Some(TimeZone::parse("America/New_York").unwrap()),
            None,
        )
        .await
        .unwrap();
    let phase = kit
        .service
        .add_phase(&seeded.staff, seeded.portal.id, "Getting started")
        .await
        .unwrap();
    let titles = [
        "Sign the agreement",
        "Upload the network diagram",
        "Book the kickoff",
    ];
    for (i, due) in dues.iter().enumerate() {
        kit.service
            .add_task(
                &seeded.staff,
                seeded.portal.id,
                phase.id,
                TaskSpec {
                    title: titles[i % titles.len()].to_owned(),
                    description: String::new(),
                    assignee: Side::Client,
                    kind: TaskKind::Standard,
                    due_date: Some(*due),
                },
            )
            .await
            .unwrap();
    }
    kit.service
        .add_task(
            &seeded.staff,
            seeded.portal.id,
            phase.id,
            TaskSpec {
                title: "Provision the tenant".to_owned(),
                description: String::new(),
                assignee: Side::Msp,
                kind: TaskKind::Standard,
                due_date: dues.first().copied(),
            },
        )
        .await
        .unwrap();
    Plan {
        kit,
        portal: seeded.portal,
        ny,
    }
}

/// Runs the pass every 15 minutes from the clock's now until `end`; returns every
/// email sent meanwhile with the instant of the pass that sent it.
async fn run_until(kit: &TestService, end: DateTime<Utc>) -> Vec<(DateTime<Utc>, Email)> {
    let mut seen = kit.mailer.sent().len();
    let mut out = Vec::new();
    while kit.now() < end {
        kit.service.send_due_reminders(kit.now()).await.unwrap();
        let sent = kit.mailer.sent();
        for email in &sent[seen..] {
            out.push((kit.now(), email.clone()));
        }
        seen = sent.len();
        kit.clock.advance(TimeDelta::minutes(15));
    }
    out
}

fn to<'a>(
    mail: &'a [(DateTime<Utc>, Email)],
    addr: &'a str,
) -> impl Iterator<Item = &'a (DateTime<Utc>, Email)> + 'a {
    mail.iter().filter(move |(_, e)| e.to.as_str() == addr)
}

#[tokio::test]
async fn a_month_of_an_overdue_plan() {
    // March 2026: New York moves its clocks on Sunday 8 March.
    let p = plan(
        utc(2026, 3, 1, 0, 0),
        &[date(2026, 3, 3), date(2026, 3, 13), date(2026, 3, 23)],
    )
    .await;
    let mail = run_until(&p.kit, utc(2026, 4, 1, 4, 0)).await;
    let ny = p.ny.time_zone.tz();
    let dana: Vec<_> = to(&mail, p.ny.email.as_str()).collect();
    let days: Vec<NaiveDate> = dana
        .iter()
        .map(|(at, _)| at.with_timezone(&ny).date_naive())
        .collect();
    // The ladder (2 days before, on the day, 1 day after, then weekly) of the three
    // tasks, on business days only, one email a day at most.
    let want: Vec<NaiveDate> = [2, 3, 4, 11, 13, 16, 18, 23, 24, 25, 30, 31]
        .into_iter()
        .map(|d| date(2026, 3, d))
        .collect();
    assert_eq!(days, want, "reminder days in New York");
    let mut unique = days.clone();
    unique.dedup();
    assert_eq!(unique.len(), days.len(), "at most one reminder a day");
    for (at, email) in &dana {
        let local = at.with_timezone(&ny);
        assert!(
            !matches!(local.weekday(), Weekday::Sat | Weekday::Sun),
            "{local}"
        );
        assert_eq!(local.hour(), 9, "sent at 09:00 local, got {local}");
        assert!(local.minute() < 15, "{local}");
        assert!(
            email.list_unsubscribe.is_some(),
            "reminders carry unsubscribe"
        );
        assert!(
            !email.text.contains("Provision the tenant"),
            "MSP tasks are not listed"
        );
    }
    // The same 09:00 is 14:00 UTC before the change and 13:00 UTC after it.
    assert_eq!(dana[0].0, utc(2026, 3, 2, 14, 0));
    assert_eq!(dana[3].0, utc(2026, 3, 11, 13, 0));
    // The weekly repeats of the first task, after its ladder: 11, 18, 25 March.
    let first_task_mails = dana
        .iter()
        .filter(|(_, e)| e.text.contains("Sign the agreement"))
        .count();
    assert_eq!(first_task_mails, 12, "listed in every digest while overdue");
    assert_eq!(dana.len(), 12, "{} reminders in a month", dana.len());

    // Jane Doe, in the tenant's zone (UTC), gets the same ladder at 09:00 UTC.
    let jane: Vec<_> = to(&mail, "jane.doe@contoso.example").collect();
    assert_eq!(jane.len(), 12);
    assert!(
        jane.iter()
            .all(|(at, _)| at.hour() == 9 && at.minute() < 15)
    );

    // Nobody visited: the MSP's recipients are told once the client has been quiet
    // for 5 days, then once a week, one email per recipient for the whole portal.
    for desk in RECIPIENTS {
        let told: Vec<DateTime<Utc>> = to(&mail, desk).map(|(at, _)| *at).collect();
        assert_eq!(
            told,
            vec![
                utc(2026, 3, 6, 0, 0),
                utc(2026, 3, 13, 0, 0),
                utc(2026, 3, 20, 0, 0),
                utc(2026, 3, 27, 0, 0)
            ],
            "{desk}"
        );
    }
    assert_eq!(mail.len(), 12 + 12 + 8, "nothing else was sent");
}

#[tokio::test]
async fn the_local_hour_holds_when_the_clocks_go_back() {
    // New York leaves daylight saving on Sunday 1 November 2026.
    let p = plan(utc(2026, 10, 27, 0, 0), &[date(2026, 10, 30)]).await;
    let mail = run_until(&p.kit, utc(2026, 11, 10, 0, 0)).await;
    let sent: Vec<DateTime<Utc>> = to(&mail, p.ny.email.as_str()).map(|(at, _)| *at).collect();
    assert_eq!(
        sent,
        vec![
            utc(2026, 10, 28, 13, 0), // 2 days before: 09:00 EDT
            utc(2026, 10, 30, 13, 0), // due: 09:00 EDT
            utc(2026, 11, 2, 14, 0),  // overdue since Saturday: Monday 09:00 EST
            utc(2026, 11, 9, 14, 0),  // a week after Saturday: Monday 09:00 EST
        ]
    );
}

#[tokio::test]
async fn no_reminder_for_completed_tasks_after_unsubscribing_or_while_snoozed() {
    let p = plan(utc(2026, 3, 2, 0, 0), &[date(2026, 3, 4), date(2026, 3, 5)]).await;
    // Monday 2 March: the first task's "2 days before".
    let mail = run_until(&p.kit, utc(2026, 3, 2, 23, 0)).await;
    let first: Vec<_> = to(&mail, p.ny.email.as_str()).collect();
    assert_eq!(first.len(), 1);
    let email = &first[0].1;

    // Snooze the first task from its link: a GET-able lookup changes nothing, the
    // follow does.
    let snoozes: Vec<&str> = email
        .text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Remind me in 3 days: "))
        .collect();
    assert_eq!(snoozes.len(), 1, "{}", email.text);
    let token = snoozes[0].rsplit('/').next().unwrap();
    let found = p.kit.service.reminder_link(token).await.unwrap();
    assert!(matches!(found.link, ReminderLink::Snooze { .. }));
    p.kit.service.follow_reminder_link(token).await.unwrap();

    // Tuesday: the first task is held; the second reaches its "2 days before".
    let mail = run_until(&p.kit, utc(2026, 3, 3, 23, 0)).await;
    let tuesday: Vec<_> = to(&mail, p.ny.email.as_str()).collect();
    assert_eq!(tuesday.len(), 1);
    assert!(!tuesday[0].1.text.contains("Sign the agreement"), "snoozed");
    assert!(tuesday[0].1.text.contains("Upload the network diagram"));

    // Dana completes the second task; the first is still snoozed on Wednesday (its
    // due date): nothing is due for Dana.
    let (_, ctx) = p.kit.sign_in(&p.ny).await.unwrap();
    let second = p
        .kit
        .service
        .portal_home(&ctx)
        .await
        .unwrap()
        .tasks
        .into_iter()
        .find(|t| t.title == "Upload the network diagram")
        .unwrap();
    p.kit
        .service
        .complete_task(&ctx, second.id, None)
        .await
        .unwrap();
    let mail = run_until(&p.kit, utc(2026, 3, 4, 23, 0)).await;
    assert_eq!(to(&mail, p.ny.email.as_str()).count(), 0, "{mail:?}");

    // The snooze holds 3 days from the click (Monday 23:00 UTC), so Thursday's 09:00 is
    // still inside it; the first pass after it (Thursday 18:00 EST, still Thursday's
    // reminder window) reminds the first task again (overdue), not the completed one.
    let mail = run_until(&p.kit, utc(2026, 3, 6, 23, 0)).await;
    let thursday: Vec<_> = to(&mail, p.ny.email.as_str()).collect();
    assert_eq!(thursday[0].0, utc(2026, 3, 5, 23, 0));
    assert_eq!(thursday.len(), 1);
    assert!(thursday[0].1.text.contains("Sign the agreement"));
    assert!(!thursday[0].1.text.contains("Upload the network diagram"));

    // One-click unsubscribe: nothing more for Dana, Jane still gets hers.
    let unsubscribe = thursday[0].1.list_unsubscribe.clone().unwrap();
    let token = unsubscribe.rsplit('/').next().unwrap();
    p.kit.service.follow_reminder_link(token).await.unwrap();
    p.kit.service.follow_reminder_link(token).await.unwrap();
    let mail = run_until(&p.kit, utc(2026, 3, 31, 0, 0)).await;
    assert_eq!(to(&mail, p.ny.email.as_str()).count(), 0);
    assert!(to(&mail, "jane.doe@contoso.example").count() > 0);
}

#[tokio::test]
async fn reminder_links_are_checked() {
    let p = plan(utc(2026, 3, 2, 0, 0), &[date(2026, 3, 4)]).await;
    let mail = run_until(&p.kit, utc(2026, 3, 2, 23, 0)).await;
    let email = &to(&mail, p.ny.email.as_str()).next().unwrap().1;
    let unsubscribe = email.list_unsubscribe.clone().unwrap();
    let token = unsubscribe.rsplit('/').next().unwrap();
    let mut forged = token.to_owned();
    forged.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
    assert!(matches!(
        p.kit.service.follow_reminder_link(&forged).await,
        Err(portal_core::Error::NotFound { .. })
    ));
    p.kit
        .clock
        .advance(portal_core::reminders::UNSUBSCRIBE_LINK_TTL + TimeDelta::days(1));
    assert!(matches!(
        p.kit.service.follow_reminder_link(token).await,
        Err(portal_core::Error::Expired { .. })
    ));
    let _ = p.portal;
}

#[tokio::test]
async fn reminder_and_escalation_snapshots() {
    let p = plan(
        utc(2026, 3, 2, 0, 0),
        &[date(2026, 2, 27), date(2026, 3, 4), date(2026, 3, 20)],
    )
    .await;
    let mail = run_until(&p.kit, utc(2026, 3, 9, 23, 0)).await;
    let dana = &to(&mail, p.ny.email.as_str()).next().unwrap().1;
    assert_eq!(dana.subject, "Reminder: 2 tasks in your Contoso Ltd portal");
    assert_snapshot!("core__reminder_digest_text", dana.text);
    assert_snapshot!("core__reminder_digest_html", dana.html);
    let desk = &to(&mail, RECIPIENTS[0]).next().unwrap().1;
    assert!(
        desk.list_unsubscribe.is_none(),
        "staff emails carry no unsubscribe"
    );
    assert_snapshot!("core__escalation_text", desk.text);
    assert_snapshot!("core__escalation_html", desk.html);
}

/// With the daily digest on, the MSP gets no email per client event: the next pass
/// after the digest hour (09:00 in the tenant's zone) sends each notification
/// recipient one email listing the day's client events, oldest first, and no pass
/// sends it twice; a day without client events sends nothing.
#[tokio::test]
async fn a_daily_staff_digest_replaces_one_email_per_client_event() {
    let kit = TestService::in_memory(91);
    kit.clock.set(utc(2026, 12, 1, 8, 0));
    let seeded = kit.seed_portal().await.unwrap();
    let p = seeded.portal.id;
    kit.service
        .set_reminder_settings(
            &seeded.staff,
            p,
            portal_core::reminders::ReminderSettings {
                staff_digest: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let phase = kit
        .service
        .add_phase(&seeded.staff, p, "Getting started")
        .await
        .unwrap();
    let spec = |title: &str| TaskSpec {
        title: title.to_owned(),
        description: String::new(),
        assignee: Side::Client,
        kind: TaskKind::Standard,
        due_date: None,
    };
    let agreement = kit
        .service
        .add_task(&seeded.staff, p, phase.id, spec("Sign the agreement"))
        .await
        .unwrap();
    let (_, ctx) = kit.sign_in(&seeded.contact).await.unwrap();
    let to_msp = |kit: &TestService| {
        kit.mailer
            .sent()
            .into_iter()
            .filter(|e| RECIPIENTS.contains(&e.to.as_str()))
            .collect::<Vec<_>>()
    };
    let before = to_msp(&kit).len();

    kit.clock.set(utc(2026, 12, 1, 10, 0));
    kit.service
        .add_comment(&ctx, agreement.id, "Which version do we sign?")
        .await
        .unwrap();
    kit.clock.advance(TimeDelta::minutes(30));
    kit.service
        .ask_question(&ctx, "Do we need to be on site?")
        .await
        .unwrap();
    kit.clock.advance(TimeDelta::minutes(30));
    kit.service
        .complete_task(&ctx, agreement.id, Some("Signed v3".to_owned()))
        .await
        .unwrap();
    assert_eq!(to_msp(&kit).len(), before, "no email per event");

    // Passes every 15 minutes: nothing before 09:00 the next day, then one each.
    let sent = run_until(&kit, utc(2026, 12, 2, 8, 59)).await;
    assert!(
        sent.iter()
            .all(|(_, e)| !RECIPIENTS.contains(&e.to.as_str())),
        "nothing before the digest hour"
    );
    let sent = run_until(&kit, utc(2026, 12, 3, 12, 0)).await;
    let digests: Vec<_> = sent
        .iter()
        .filter(|(_, e)| RECIPIENTS.contains(&e.to.as_str()))
        .collect();
    assert_eq!(
        digests.len(),
        RECIPIENTS.len(),
        "one digest per recipient, once (and none on a day without events)"
    );
    for (at, email) in &digests {
        assert_eq!(*at, utc(2026, 12, 2, 9, 0), "the first pass at the hour");
        assert_eq!(
            email.subject,
            format!(
                "[{}] 3 client events in the portal, Wed 2 Dec 2026",
                seeded.portal.client_name
            )
        );
    }
    let text = &digests[0].1.text;
    let comment = text.find("commented").unwrap();
    let question = text.find("asked").unwrap();
    let completed = text.find("completed").unwrap();
    assert!(comment < question && question < completed, "{text}");
    assert!(
        text.contains("10:00 UTC"),
        "times named in the tenant's zone: {text}"
    );
    assert_snapshot!("core__staff_digest_text", digests[0].1.text.clone());
    assert_snapshot!("core__staff_digest_html", digests[0].1.html.clone());
}

/// The handover from the previous provider stalls (its tasks pass their due date):
/// the MSP's recipients get ONE alert, not one per pass (the reminder pass runs every
/// 15 minutes for ten days); the provider's guest is reminded only of the two
/// handover tasks shared with them, never of the client's own tasks, and the client's
/// contacts are never reminded of the handover's tasks (they are the guest's).
#[tokio::test]
async fn a_stalled_handover_tells_the_msp_once_and_reminds_the_guest_of_their_tasks_only() {
    const OLLY: &str = "olly@previous-it.example";
    let start = utc(2026, 3, 2, 9, 0); // a Monday
    let kit = TestService::in_memory(78);
    kit.clock.set(start);
    let seeded = kit.seed_portal().await.unwrap();
    let phase = kit
        .service
        .add_phase(&seeded.staff, seeded.portal.id, "Getting started")
        .await
        .unwrap();
    kit.service
        .add_task(
            &seeded.staff,
            seeded.portal.id,
            phase.id,
            TaskSpec {
                title: "Sign the agreement".to_owned(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::Standard,
                due_date: Some(date(2026, 3, 4)),
            },
        )
        .await
        .unwrap();
    kit.service
        .start_handover(
            &seeded.staff,
            seeded.portal.id,
            &portal_core::HandoverSpec {
                organisation: "Previous IT",
                name: "Olly Outgoing",
                email: OLLY,
                access_ends_at: None,
                due_date: Some(date(2026, 3, 5)),
            },
        )
        .await
        .unwrap();
    let mail = run_until(&kit, start + TimeDelta::days(10)).await;

    for recipient in RECIPIENTS {
        let alerts: Vec<_> = to(&mail, recipient)
            .filter(|(_, e)| e.subject.contains("handover from Previous IT has stalled"))
            .collect();
        assert_eq!(alerts.len(), 1, "one alert to {recipient}: {alerts:?}");
        let (at, alert) = alerts[0];
        assert!(
            *at >= utc(2026, 3, 6, 0, 0),
            "sent once the due date has passed, at {at}"
        );
        assert!(
            alert.text.contains("Hand over the admin credentials"),
            "{}",
            alert.text
        );
        assert!(alert.text.contains("was due"), "{}", alert.text);
    }
    let guest: Vec<_> = to(&mail, OLLY).collect();
    assert!(!guest.is_empty(), "the guest is reminded of their tasks");
    for (_, e) in &guest {
        assert!(
            e.text.contains("Hand over the admin credentials"),
            "{}",
            e.text
        );
        assert!(
            !e.text.contains("Sign the agreement"),
            "the client's own task in the guest's reminder: {}",
            e.text
        );
    }
    let client: Vec<_> = to(&mail, seeded.contact.email.as_str()).collect();
    assert!(
        !client.is_empty(),
        "the client is reminded of their own task"
    );
    for (_, e) in &client {
        assert!(
            !e.text.contains("Hand over the"),
            "a handover task in the client's reminder: {}",
            e.text
        );
    }
}

/// A task for a contact role is reminded to the contacts with that role only, not to
/// the whole client team (`team::task_for`, as the client's pages show it).
#[tokio::test]
async fn a_role_task_is_reminded_to_the_contacts_with_that_role() {
    const BILLING: &str = "bea@contoso.example";
    let start = utc(2026, 3, 2, 9, 0); // a Monday
    let kit = TestService::in_memory(79);
    kit.clock.set(start);
    let seeded = kit.seed_portal().await.unwrap();
    kit.service
        .add_contact_in_zone(
            &seeded.staff,
            seeded.portal.id,
            "Bea Billing",
            BILLING,
            None,
            Some("billing"),
        )
        .await
        .unwrap();
    let phase = kit
        .service
        .add_phase(&seeded.staff, seeded.portal.id, "Billing")
        .await
        .unwrap();
    let task = kit
        .service
        .add_task(
            &seeded.staff,
            seeded.portal.id,
            phase.id,
            TaskSpec {
                title: "Set up the direct debit".to_owned(),
                description: String::new(),
                assignee: Side::Client,
                kind: TaskKind::Standard,
                due_date: Some(date(2026, 3, 4)),
            },
        )
        .await
        .unwrap();
    kit.service
        .edit_task(
            &seeded.staff,
            seeded.portal.id,
            task.id,
            task.version,
            portal_core::workflow::plan::TaskEdit {
                for_role: Some(Some("billing".to_owned())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mail = run_until(&kit, start + TimeDelta::days(5)).await;
    assert!(
        to(&mail, BILLING).any(|(_, e)| e.text.contains("Set up the direct debit")),
        "the billing contact is reminded"
    );
    for (_, e) in to(&mail, seeded.contact.email.as_str()) {
        assert!(
            !e.text.contains("Set up the direct debit"),
            "the billing task in another contact's reminder: {}",
            e.text
        );
    }
}
