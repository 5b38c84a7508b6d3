//! Due-date reminders and the escalation to the MSP: the pure rules. The pass that
//! applies them is [`crate::PortalService::send_due_reminders`]; what is remembered
//! between passes (what was sent, snoozes, unsubscribes) is kept by
//! [`crate::store::ReminderStore`].
//!
//! **The ladder.** For a client task with a due date `D`, each portal's
//! [`ReminderSettings`] names the steps: `days_before` days before `D` (step 0, default
//! 2 days), on `D` (step 1), `days_after` days after `D` (step 2, default 1 day), then
//! every `repeat_every_days` days after that (steps 3, 4, ..., default weekly). The
//! *current* step of a task on a local date is the newest step whose date is on or
//! before it ([`current_step`]); a task is reminded when its current step is newer than
//! the one last sent to that contact. A step that falls on a weekend is therefore sent
//! on the next business day, unless a newer step was reached meanwhile (then only the
//! newer one is), and no step is ever sent twice.
//!
//! **The digest.** A contact gets at most one reminder email per local date, on
//! business days (Monday to Friday) from `local_hour` in *their* time zone, listing
//! every task that is due (all tasks with a current step, so the email is the
//! complete list of what is due), each with its button and its "remind me in 3 days"
//! link ([`judge_digest`]). Completed and blocked tasks, MSP tasks, tasks without a
//! due date and tasks the contact snoozed are left out; a contact who unsubscribed, a
//! revoked contact and a portal that is not active get nothing. Event emails (an
//! answer, a rejected document) are not reminders and are never held back by this cap.
//!
//! **Escalation.** When the portal has overdue client tasks and none of its contacts
//! has visited for `escalate_after_days` days (a contact who never visited counts from
//! when they were added), the tenant's notification recipients get one email for the
//! portal, not one per task or per contact ([`judge_escalation`]). It is sent again
//! only after `reescalate_after_days` days (default a week) if the client is still
//! quiet and tasks are still overdue: a reminder to the MSP, not a daily alarm. A visit
//! resets the clock, so the next escalation needs another quiet spell.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{Entity, Error, Result};
use crate::ids::{ContactId, TaskId};
use crate::model::{Contact, Side, Task, TaskStatus, TimeZone};
use crate::secret::ServerSecret;

/// How a portal reminds its client, tunable by the MSP per portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReminderSettings {
    /// Whether reminders are sent at all for this portal.
    pub enabled: bool,
    /// Days before the due date of the first reminder; 0 skips it.
    pub days_before: u32,
    /// Whether a reminder goes out on the due date itself.
    pub on_due_date: bool,
    /// Days after the due date of the first "overdue" reminder (at least 1).
    pub days_after: u32,
    /// Days between the later "still overdue" reminders; 0 sends none after the first.
    pub repeat_every_days: u32,
    /// The local hour (0–23, in each contact's zone) from which the day's reminder may
    /// go out.
    pub local_hour: u32,
    /// Days without any contact's visit, while tasks are overdue, before the MSP is
    /// told; 0 never escalates.
    pub escalate_after_days: u32,
    /// Days before the same portal is escalated again (if still quiet and overdue).
    pub reescalate_after_days: u32,
    /// The MSP's notification recipients get one **daily digest** of the client's
    /// events (questions, comments, uploads, completed tasks) instead of one email
    /// each, at `local_hour` in the tenant's zone, every day (events do not wait for a
    /// business day). Off by default. A locked-out contact is still told at once: it
    /// may be an attack the MSP has to stop.
    pub staff_digest: bool,
}

impl Default for ReminderSettings {
    /// 2 days before, on the day, 1 day after, then weekly, from 09:00 local time;
    /// escalation after 5 quiet days, again a week later.
    fn default() -> Self {
        Self {
            enabled: true,
            days_before: 2,
            on_due_date: true,
            days_after: 1,
            repeat_every_days: 7,
            local_hour: 9,
            escalate_after_days: 5,
            reescalate_after_days: 7,
            staff_digest: false,
        }
    }
}

impl ReminderSettings {
    /// Longest span accepted for any of the day counts.
    pub const MAX_DAYS: u32 = 90;

    /// Refuses settings that cannot be meant: an hour outside 0–23, an "overdue" step
    /// on the due date itself, spans over [`Self::MAX_DAYS`], a re-escalation sooner
    /// than a day.
    pub fn validate(&self) -> Result<()> {
        let span = |field: &'static str, days: u32| {
            if days > Self::MAX_DAYS {
                Err(Error::invalid(
                    field,
                    format!("must be at most {} days", Self::MAX_DAYS),
                ))
            } else {
                Ok(())
            }
        };
        if self.local_hour > 23 {
            return Err(Error::invalid("reminder hour", "must be between 0 and 23"));
        }
        if self.days_after == 0 {
            return Err(Error::invalid(
                "days after",
                "must be at least 1 (the due date has its own reminder)",
            ));
        }
        if self.reescalate_after_days == 0 {
            return Err(Error::invalid("re-escalation", "must be at least 1 day"));
        }
        span("days before", self.days_before)?;
        span("days after", self.days_after)?;
        span("repeat", self.repeat_every_days)?;
        span("escalation", self.escalate_after_days)?;
        span("re-escalation", self.reescalate_after_days)
    }
}

/// Step 0 of the ladder: before the due date.
pub const STEP_BEFORE: u32 = 0;
/// Step 1: on the due date.
pub const STEP_DUE: u32 = 1;
/// Step 2: the first reminder after the due date; later steps repeat it.
pub const STEP_OVERDUE: u32 = 2;

/// The newest step of the ladder whose date is on or before `today`, for a task due
/// on `due`; `None` before the first step.
pub fn current_step(due: NaiveDate, today: NaiveDate, s: &ReminderSettings) -> Option<u32> {
    let days = |n: u32| TimeDelta::days(i64::from(n));
    let mut step = None;
    if s.days_before > 0 && today >= due - days(s.days_before) {
        step = Some(STEP_BEFORE);
    }
    if s.on_due_date && today >= due {
        step = Some(STEP_DUE);
    }
    let overdue = due + days(s.days_after.max(1));
    if today >= overdue {
        let since = (today - overdue).num_days();
        let repeats = match s.repeat_every_days {
            0 => 0,
            every => since / i64::from(every),
        };
        step = Some(STEP_OVERDUE.saturating_add(u32::try_from(repeats).unwrap_or(u32::MAX)));
    }
    step
}

/// Whether `day` is a business day (Monday to Friday).
pub fn is_business_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// What the store remembers about one contact's reminders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactReminders {
    /// The contact (its zone and revocation matter).
    pub contact: Contact,
    /// When the contact turned reminders off (one-click unsubscribe), if they did.
    pub unsubscribed_at: Option<DateTime<Utc>>,
    /// The local date of the newest reminder digest sent to the contact.
    pub last_digest_on: Option<NaiveDate>,
    /// Per task, the newest ladder step already sent to the contact.
    pub steps: Vec<(TaskId, u32)>,
    /// Per task, until when the contact snoozed its reminders.
    pub snoozes: Vec<(TaskId, DateTime<Utc>)>,
    /// The contact's newest visit (a signed-in request or a verification), if any.
    pub last_visit: Option<DateTime<Utc>>,
}

impl ContactReminders {
    /// Nothing remembered yet for `contact`.
    pub fn new(contact: Contact) -> Self {
        Self {
            contact,
            unsubscribed_at: None,
            last_digest_on: None,
            steps: Vec::new(),
            snoozes: Vec::new(),
            last_visit: None,
        }
    }

    fn sent_step(&self, task: TaskId) -> Option<u32> {
        self.steps.iter().find(|(t, _)| *t == task).map(|(_, s)| *s)
    }

    fn snoozed(&self, task: TaskId, now: DateTime<Utc>) -> bool {
        self.snoozes
            .iter()
            .any(|(t, until)| *t == task && now < *until)
    }
}

/// One portal's reminder state, read in one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderState {
    /// The portal's settings (the defaults if the MSP never changed them).
    pub settings: ReminderSettings,
    /// Every contact of the portal, oldest first.
    pub contacts: Vec<ContactReminders>,
    /// When the MSP was last told that this client went quiet.
    pub last_escalation: Option<DateTime<Utc>>,
}

/// One task in a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueTask {
    /// The task.
    pub task_id: TaskId,
    /// Its due date.
    pub due: NaiveDate,
    /// The ladder step it has reached.
    pub step: u32,
}

/// A reminder email to send: what the store records with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// Who gets it.
    pub contact_id: ContactId,
    /// The contact's local date it is sent on (one digest per contact and date).
    pub local_date: NaiveDate,
    /// Every due task, by due date (oldest first), then plan order.
    pub tasks: Vec<DueTask>,
}

/// Whether `task` is one a client can be reminded of: a client task the client sees
/// (not internal), with a due date, neither completed nor blocked (a blocked task
/// waits on the MSP), not one a contact said they are stuck on (it waits on the MSP's
/// answer), and not locked behind tasks it waits for (nobody can act on it yet).
/// `tasks` is the portal's whole plan, to judge the lock.
pub fn remindable(task: &Task, tasks: &[Task]) -> bool {
    task.assignee == Side::Client
        && !task.internal
        && task.due_date.is_some()
        && matches!(task.status, TaskStatus::Pending | TaskStatus::InProgress)
        && !crate::workflow::stuck::is_stuck(task)
        && !crate::workflow::plan::is_locked(tasks, task)
}

/// Whether a reminder of `task` goes to `contact`: tasks assigned to everyone (no
/// assignees) go to every contact, the others only to their assignees.
/// Whether a reminder of `task` goes to `contact`: a guest is reminded only of the
/// tasks shared with them (a digest must never show a guest the rest of the plan);
/// the client's own contacts of the team's tasks and of theirs.
fn for_contact(task: &Task, contact: &Contact) -> bool {
    if let Some(guest) = &contact.guest {
        return guest.shared_tasks.contains(&task.id);
    }
    task.assigned_to.is_empty() || task.assigned_to.contains(&contact.id)
}

/// The window of client events one staff digest lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffDigestWindow {
    /// The tenant's local date it is sent on (one digest per portal and date).
    pub local_date: NaiveDate,
    /// The first instant listed: the previous day's digest hour.
    pub from: DateTime<Utc>,
    /// The first instant not listed: this day's digest hour (later events wait for
    /// tomorrow's digest).
    pub until: DateTime<Utc>,
}

/// Whether a staff digest is due at `now` for a portal with `settings` in the tenant's
/// `zone`, and the window it lists: none when the digest is off or before the local
/// hour; otherwise from yesterday's local hour to today's, so consecutive digests
/// neither overlap nor leave a gap, across daylight-saving changes too (an hour that
/// does not exist that day is taken at the first instant after it).
pub fn staff_digest_window(
    now: DateTime<Utc>,
    settings: &ReminderSettings,
    zone: TimeZone,
) -> Option<StaffDigestWindow> {
    if !settings.staff_digest {
        return None;
    }
    let local = now.with_timezone(&zone.tz());
    if local.hour() < settings.local_hour {
        return None;
    }
    let today = local.date_naive();
    let at_hour = |day: NaiveDate| -> Option<DateTime<Utc>> {
        let naive = day.and_hms_opt(settings.local_hour, 0, 0)?;
        // A skipped hour (spring forward): the first instant an hour later exists.
        let local = naive.and_local_timezone(zone.tz()).earliest().or_else(|| {
            (naive + TimeDelta::hours(1))
                .and_local_timezone(zone.tz())
                .earliest()
        })?;
        Some(local.with_timezone(&Utc))
    };
    Some(StaffDigestWindow {
        local_date: today,
        from: at_hour(today.pred_opt()?)?,
        until: at_hour(today)?,
    })
}

/// The entries of a portal's feed a staff digest lists: those by the client inside
/// the window, oldest first.
pub fn staff_digest_events(
    feed: &[crate::workflow::ActivityEntry],
    window: &StaffDigestWindow,
) -> Vec<crate::workflow::ActivityEntry> {
    let mut events: Vec<_> = feed
        .iter()
        .filter(|e| e.actor.side() == Side::Client && e.at >= window.from && e.at < window.until)
        .cloned()
        .collect();
    events.sort_by_key(|e| e.at);
    events
}

/// The digest `contact` gets at `now`, if any: see the module docs. `tasks` are the
/// portal's tasks in plan order; `portal_open` says whether the portal is active.
pub fn judge_digest(
    now: DateTime<Utc>,
    settings: &ReminderSettings,
    portal_open: bool,
    contact: &ContactReminders,
    tasks: &[Task],
) -> Option<Digest> {
    if !settings.enabled
        || !portal_open
        || contact.unsubscribed_at.is_some()
        || contact.contact.revoked_at.is_some()
        || crate::workflow::guests::access_ended(&contact.contact, now)
    {
        return None;
    }
    let local = now.with_timezone(&contact.contact.time_zone.tz());
    let today = local.date_naive();
    if !is_business_day(today) || local.hour() < settings.local_hour {
        return None;
    }
    if contact.last_digest_on.is_some_and(|d| d >= today) {
        return None;
    }
    let mut due: Vec<(DueTask, bool)> = tasks
        .iter()
        .filter(|t| {
            remindable(t, tasks) && for_contact(t, &contact.contact) && !contact.snoozed(t.id, now)
        })
        .filter_map(|t| {
            let date = t.due_date?;
            let step = current_step(date, today, settings)?;
            let new = contact.sent_step(t.id).is_none_or(|sent| step > sent);
            Some((
                DueTask {
                    task_id: t.id,
                    due: date,
                    step,
                },
                new,
            ))
        })
        .collect();
    if !due.iter().any(|(_, new)| *new) {
        return None;
    }
    // A stable sort: equal dates keep plan order.
    due.sort_by_key(|(t, _)| t.due);
    Some(Digest {
        contact_id: contact.contact.id,
        local_date: today,
        tasks: due.into_iter().map(|(t, _)| t).collect(),
    })
}

/// An escalation to send: the portal's client went quiet with tasks overdue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// The newest visit of any contact (or, if none ever visited, when the newest
    /// contact was added): the quiet spell started then.
    pub quiet_since: DateTime<Utc>,
    /// The overdue client tasks, by due date.
    pub overdue: Vec<TaskId>,
}

/// Whether the MSP is told at `now` that the portal's client went quiet: see the
/// module docs. `today` for "overdue" is the date in `zone` (the tenant's).
pub fn judge_escalation(
    now: DateTime<Utc>,
    zone: TimeZone,
    settings: &ReminderSettings,
    portal_open: bool,
    state: &ReminderState,
    tasks: &[Task],
) -> Option<Escalation> {
    if !settings.enabled || !portal_open || settings.escalate_after_days == 0 {
        return None;
    }
    let today = now.with_timezone(&zone.tz()).date_naive();
    let mut overdue: Vec<&Task> = tasks
        .iter()
        .filter(|t| remindable(t, tasks) && t.due_date.is_some_and(|d| d < today))
        .collect();
    if overdue.is_empty() {
        return None;
    }
    let quiet_since = state
        .contacts
        .iter()
        .filter(|c| c.contact.revoked_at.is_none())
        .map(|c| c.last_visit.unwrap_or(c.contact.created_at))
        .max()?;
    if now - quiet_since < TimeDelta::days(i64::from(settings.escalate_after_days)) {
        return None;
    }
    if let Some(last) = state.last_escalation {
        let again = TimeDelta::days(i64::from(settings.reescalate_after_days));
        if last >= quiet_since && now - last < again {
            return None;
        }
    }
    overdue.sort_by_key(|t| t.due_date);
    Some(Escalation {
        quiet_since,
        overdue: overdue.into_iter().map(|t| t.id).collect(),
    })
}

// ----- signed links ----------------------------------------------------------------

/// How long the snooze links of a reminder work.
pub const SNOOZE_LINK_TTL: TimeDelta = TimeDelta::days(14);
/// How long the unsubscribe link of a reminder works (RFC 8058 asks for a link that
/// keeps working for a while after the email).
pub const UNSUBSCRIBE_LINK_TTL: TimeDelta = TimeDelta::days(60);
/// How long a snooze holds a task's reminders.
pub const SNOOZE_FOR: TimeDelta = TimeDelta::days(3);

const SNOOZE: u8 = 1;
const UNSUBSCRIBE: u8 = 2;
const MAC_PURPOSE: &str = "portal/reminder-link/v1";

/// What a reminder link does, once its signature and expiry are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderLink {
    /// "Remind me in 3 days": holds one task's reminders for one contact.
    Snooze {
        /// Who.
        contact: ContactId,
        /// Which task.
        task: TaskId,
    },
    /// One-click unsubscribe: turns one contact's reminders off.
    Unsubscribe {
        /// Who.
        contact: ContactId,
    },
}

impl ReminderLink {
    /// The link's token, valid until `expires`: the action, its ids and the expiry,
    /// signed with an HMAC under the server secret, base64url. Nothing is stored, so
    /// the links work without signing in and cannot be forged or altered (an id or
    /// expiry changed breaks the signature).
    pub fn sign(&self, secret: &ServerSecret, expires: DateTime<Utc>) -> String {
        use base64::Engine as _;
        let mut body = Vec::with_capacity(1 + 32 + 8 + 32);
        match self {
            Self::Snooze { contact, task } => {
                body.push(SNOOZE);
                body.extend_from_slice(contact.as_bytes());
                body.extend_from_slice(task.as_bytes());
            }
            Self::Unsubscribe { contact } => {
                body.push(UNSUBSCRIBE);
                body.extend_from_slice(contact.as_bytes());
            }
        }
        body.extend_from_slice(&expires.timestamp().to_be_bytes());
        let mac = secret.mac(MAC_PURPOSE, &[&body]);
        body.extend_from_slice(&mac);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body)
    }

    /// Checks a token: a token that does not decode or whose signature is wrong is
    /// `NotFound(ReminderLink)`; one past its expiry (the expiry instant still works)
    /// is `Expired(ReminderLink)`.
    pub fn verify(token: &str, secret: &ServerSecret, now: DateTime<Utc>) -> Result<Self> {
        use base64::Engine as _;
        use subtle::ConstantTimeEq as _;
        let bad = || Error::NotFound {
            entity: Entity::ReminderLink,
        };
        if token.len() > 200 {
            return Err(bad());
        }
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| bad())?;
        let split = raw.len().checked_sub(32).ok_or_else(bad)?;
        let (body, mac) = raw.split_at(split);
        let expected = secret.mac(MAC_PURPOSE, &[body]);
        if !bool::from(expected.ct_eq(mac)) {
            return Err(bad());
        }
        let id = |b: &[u8]| <[u8; 16]>::try_from(b).map_err(|_| bad());
        let (link, rest) = match body.split_first() {
            Some((&SNOOZE, rest)) if rest.len() == 40 => (
                Self::Snooze {
                    contact: ContactId::from_bytes(id(&rest[..16])?),
                    task: TaskId::from_bytes(id(&rest[16..32])?),
                },
                &rest[32..],
            ),
            Some((&UNSUBSCRIBE, rest)) if rest.len() == 24 => (
                Self::Unsubscribe {
                    contact: ContactId::from_bytes(id(&rest[..16])?),
                },
                &rest[16..],
            ),
            _ => return Err(bad()),
        };
        let secs = i64::from_be_bytes(<[u8; 8]>::try_from(rest).map_err(|_| bad())?);
        let expires = DateTime::<Utc>::from_timestamp(secs, 0).ok_or_else(bad)?;
        if now > expires {
            return Err(Error::Expired {
                entity: Entity::ReminderLink,
            });
        }
        Ok(link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{PhaseId, PortalId};
    use crate::model::{EmailAddress, TaskKind};
    use crate::random::SeededRandom;
    use chrono::TimeZone as _;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_staff_digest_window_is_a_local_day_across_daylight_saving() {
        let ny = TimeZone::parse("America/New_York").unwrap();
        let on = ReminderSettings {
            staff_digest: true,
            ..ReminderSettings::default()
        };
        let at = |y, m, d, h, min| Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        // Off: never.
        assert_eq!(
            staff_digest_window(at(2026, 3, 9, 15, 0), &ReminderSettings::default(), ny),
            None
        );
        // Before 09:00 local (13:00 UTC in EDT): not yet.
        assert_eq!(staff_digest_window(at(2026, 3, 9, 12, 59), &on, ny), None);
        // Monday 9 March 2026, the day after the spring change: from Sunday 09:00 EDT
        // (13:00Z) to Monday 09:00 EDT (13:00Z); the Saturday-to-Sunday window was
        // 14:00Z to 13:00Z (23 hours), so nothing falls between two digests.
        let monday = staff_digest_window(at(2026, 3, 9, 13, 0), &on, ny).unwrap();
        assert_eq!(monday.local_date, d(2026, 3, 9));
        assert_eq!(monday.from, at(2026, 3, 8, 13, 0));
        assert_eq!(monday.until, at(2026, 3, 9, 13, 0));
        let sunday = staff_digest_window(at(2026, 3, 8, 20, 0), &on, ny).unwrap();
        assert_eq!(sunday.from, at(2026, 3, 7, 14, 0));
        assert_eq!(sunday.until, monday.from);
        // A skipped hour (02:00 on the spring day) is taken an hour later.
        let two = ReminderSettings {
            local_hour: 2,
            ..on
        };
        let w = staff_digest_window(at(2026, 3, 8, 8, 0), &two, ny).unwrap();
        assert_eq!(w.until, at(2026, 3, 8, 7, 0), "03:00 EDT");

        // The events listed: the client's, inside the window, oldest first.
        let entry = |at, actor: crate::workflow::Actor| crate::workflow::ActivityEntry {
            portal_id: PortalId::from_uuid(uuid::Uuid::from_u128(1)),
            at,
            actor,
            kind: crate::workflow::ActivityKind::TaskCompleted,
            task_id: None,
            subject: "x".to_owned(),
            detail: None,
        };
        let client = crate::workflow::Actor::Client {
            contact_id: crate::ids::ContactId::from_uuid(uuid::Uuid::from_u128(2)),
            name: "Dana".to_owned(),
            email: EmailAddress::parse("dana@contoso.example").unwrap(),
        };
        let staff = crate::workflow::Actor::Staff {
            name: "Sam".to_owned(),
            email: None,
        };
        let feed = vec![
            entry(at(2026, 3, 9, 13, 0), client.clone()),
            entry(at(2026, 3, 9, 12, 0), client.clone()),
            entry(at(2026, 3, 9, 11, 0), staff),
            entry(at(2026, 3, 8, 14, 0), client.clone()),
            entry(at(2026, 3, 8, 13, 0), client.clone()),
            entry(at(2026, 3, 8, 12, 59), client),
        ];
        let listed: Vec<_> = staff_digest_events(&feed, &monday)
            .iter()
            .map(|e| e.at)
            .collect();
        assert_eq!(
            listed,
            vec![
                at(2026, 3, 8, 13, 0),
                at(2026, 3, 8, 14, 0),
                at(2026, 3, 9, 12, 0)
            ],
            "the window's start is in, its end is tomorrow's; staff events are not listed"
        );
    }

    #[test]
    fn the_ladder_to_the_day() {
        let s = ReminderSettings::default();
        let due = d(2026, 3, 10);
        assert_eq!(current_step(due, d(2026, 3, 7), &s), None);
        assert_eq!(current_step(due, d(2026, 3, 8), &s), Some(STEP_BEFORE));
        assert_eq!(current_step(due, d(2026, 3, 9), &s), Some(STEP_BEFORE));
        assert_eq!(current_step(due, d(2026, 3, 10), &s), Some(STEP_DUE));
        assert_eq!(current_step(due, d(2026, 3, 11), &s), Some(STEP_OVERDUE));
        assert_eq!(current_step(due, d(2026, 3, 17), &s), Some(STEP_OVERDUE));
        assert_eq!(
            current_step(due, d(2026, 3, 18), &s),
            Some(STEP_OVERDUE + 1)
        );
        assert_eq!(
            current_step(due, d(2026, 3, 25), &s),
            Some(STEP_OVERDUE + 2)
        );
        let no_repeat = ReminderSettings {
            repeat_every_days: 0,
            days_before: 0,
            ..s
        };
        assert_eq!(current_step(due, d(2026, 3, 9), &no_repeat), None);
        assert_eq!(
            current_step(due, d(2026, 5, 1), &no_repeat),
            Some(STEP_OVERDUE)
        );
    }

    #[test]
    fn settings_are_validated() {
        assert!(ReminderSettings::default().validate().is_ok());
        for bad in [
            ReminderSettings {
                local_hour: 24,
                ..Default::default()
            },
            ReminderSettings {
                days_after: 0,
                ..Default::default()
            },
            ReminderSettings {
                repeat_every_days: 91,
                ..Default::default()
            },
            ReminderSettings {
                reescalate_after_days: 0,
                ..Default::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    fn contact(zone: &str) -> ContactReminders {
        let rng = SeededRandom::new(1);
        ContactReminders::new(Contact {
            id: ContactId::random(&rng),
            portal_id: PortalId::random(&rng),
            name: "Dana".into(),
            email: EmailAddress::parse("dana@client.example").unwrap(),
            revoked_at: None,
            time_zone: TimeZone::parse(zone).unwrap(),
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            invited_by: None,
            awaiting_approval: false,
            role: None,
            guest: None,
            language: None,
        })
    }

    fn task(due: NaiveDate, status: TaskStatus, n: u64) -> Task {
        let rng = SeededRandom::new(100 + n);
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Task {
            for_role: None,
            id: TaskId::random(&rng),
            portal_id: PortalId::random(&rng),
            phase_id: PhaseId::random(&rng),
            position: 0,
            title: format!("Task {n}"),
            description: String::new(),
            assignee: Side::Client,
            kind: TaskKind::Standard,
            status,
            blocked_reason: None,
            due_date: Some(due),
            evidence: Default::default(),
            created_at: at,
            updated_at: at,
            version: 1,
            assigned_to: Vec::new(),
            waits_on: Vec::new(),
            internal: false,
        }
    }

    #[test]
    fn a_digest_waits_for_the_local_hour_on_a_business_day() {
        let s = ReminderSettings::default();
        let c = contact("America/New_York");
        let tasks = [task(d(2026, 3, 10), TaskStatus::Pending, 1)];
        // Sunday 8 March: the step is reached, but no email on a weekend.
        let sunday = Utc.with_ymd_and_hms(2026, 3, 8, 15, 0, 0).unwrap();
        assert_eq!(judge_digest(sunday, &s, true, &c, &tasks), None);
        // Monday 9 March, 08:59 EDT (12:59 UTC): too early.
        let early = Utc.with_ymd_and_hms(2026, 3, 9, 12, 59, 0).unwrap();
        assert_eq!(judge_digest(early, &s, true, &c, &tasks), None);
        // 09:00 EDT.
        let nine = Utc.with_ymd_and_hms(2026, 3, 9, 13, 0, 0).unwrap();
        let digest = judge_digest(nine, &s, true, &c, &tasks).unwrap();
        assert_eq!(digest.local_date, d(2026, 3, 9));
        assert_eq!(digest.tasks[0].step, STEP_BEFORE);
        // Sent today already: nothing more today, whatever the hour.
        let sent = ContactReminders {
            last_digest_on: Some(d(2026, 3, 9)),
            steps: vec![(tasks[0].id, STEP_BEFORE)],
            ..c.clone()
        };
        assert_eq!(judge_digest(nine, &s, true, &sent, &tasks), None);
        // The next day, the step is the same: nothing new, no email.
        let tuesday_before_due = Utc.with_ymd_and_hms(2026, 3, 10, 3, 0, 0).unwrap();
        assert_eq!(
            judge_digest(tuesday_before_due, &s, true, &sent, &tasks),
            None
        );
    }

    #[test]
    fn nothing_for_done_blocked_snoozed_or_unsubscribed() {
        let s = ReminderSettings::default();
        let now = Utc.with_ymd_and_hms(2026, 3, 11, 14, 0, 0).unwrap();
        let c = contact("UTC");
        for status in [TaskStatus::Completed, TaskStatus::Blocked] {
            let tasks = [task(d(2026, 3, 10), status, 1)];
            assert_eq!(judge_digest(now, &s, true, &c, &tasks), None, "{status:?}");
        }
        let tasks = [task(d(2026, 3, 10), TaskStatus::InProgress, 1)];
        assert!(judge_digest(now, &s, true, &c, &tasks).is_some());
        // A task the contact said they are stuck on waits on the MSP: no reminder.
        let mut stuck = tasks[0].clone();
        stuck
            .evidence
            .stuck
            .push(crate::workflow::stuck::StuckReport {
                by: crate::workflow::Actor::Staff {
                    name: "x".into(),
                    email: None,
                },
                at: now,
                reason: "no password".into(),
                cleared: None,
            });
        assert_eq!(judge_digest(now, &s, true, &c, &[stuck]), None, "stuck");
        assert_eq!(judge_digest(now, &s, false, &c, &tasks), None, "closed");
        let unsubscribed = ContactReminders {
            unsubscribed_at: Some(now),
            ..c.clone()
        };
        assert_eq!(judge_digest(now, &s, true, &unsubscribed, &tasks), None);
        let snoozed = ContactReminders {
            snoozes: vec![(tasks[0].id, now + TimeDelta::seconds(1))],
            ..c.clone()
        };
        assert_eq!(judge_digest(now, &s, true, &snoozed, &tasks), None);
        let snooze_over = ContactReminders {
            snoozes: vec![(tasks[0].id, now)],
            ..c
        };
        assert!(judge_digest(now, &s, true, &snooze_over, &tasks).is_some());
    }

    #[test]
    fn nothing_for_internal_locked_or_someone_elses_tasks() {
        let s = ReminderSettings::default();
        let now = Utc.with_ymd_and_hms(2026, 3, 11, 14, 0, 0).unwrap();
        let c = contact("UTC");
        let due = |n| task(d(2026, 3, 10), TaskStatus::Pending, n);
        let internal = Task {
            internal: true,
            ..due(1)
        };
        assert_eq!(judge_digest(now, &s, true, &c, &[internal]), None);
        let first = due(2);
        let waiting = Task {
            waits_on: vec![first.id],
            ..due(3)
        };
        let digest = judge_digest(now, &s, true, &c, &[first.clone(), waiting.clone()]).unwrap();
        let listed: Vec<_> = digest.tasks.iter().map(|t| t.task_id).collect();
        assert_eq!(listed, vec![first.id], "a locked task is not reminded");
        let done = Task {
            status: TaskStatus::Completed,
            ..first
        };
        let digest = judge_digest(now, &s, true, &c, &[done, waiting.clone()]).unwrap();
        assert_eq!(digest.tasks[0].task_id, waiting.id, "unlocked, it is");
        let other = ContactId::from_bytes([9; 16]);
        let theirs = Task {
            assigned_to: vec![other],
            ..due(4)
        };
        assert_eq!(
            judge_digest(now, &s, true, &c, std::slice::from_ref(&theirs)),
            None
        );
        let ours = Task {
            assigned_to: vec![other, c.contact.id],
            ..theirs
        };
        assert!(judge_digest(now, &s, true, &c, &[ours]).is_some());
    }

    #[test]
    fn a_digest_lists_every_due_task_once_one_is_new() {
        let s = ReminderSettings::default();
        let now = Utc.with_ymd_and_hms(2026, 3, 11, 14, 0, 0).unwrap();
        let old = task(d(2026, 3, 2), TaskStatus::Pending, 1);
        let new = task(d(2026, 3, 10), TaskStatus::Pending, 2);
        let later = task(d(2026, 4, 30), TaskStatus::Pending, 3);
        let c = ContactReminders {
            steps: vec![(old.id, STEP_OVERDUE + 1)],
            ..contact("UTC")
        };
        let tasks = [later, new.clone(), old.clone()];
        let digest = judge_digest(now, &s, true, &c, &tasks).unwrap();
        let listed: Vec<_> = digest.tasks.iter().map(|t| t.task_id).collect();
        assert_eq!(
            listed,
            vec![old.id, new.id],
            "by due date; not-yet-due left out"
        );
        // Only the old one, already reminded at its step: no email.
        assert_eq!(judge_digest(now, &s, true, &c, &[old]), None);
    }

    #[test]
    fn escalation_once_per_quiet_spell_and_weekly_after() {
        let s = ReminderSettings::default();
        let c = contact("UTC");
        let visit = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
        let mut state = ReminderState {
            settings: s,
            contacts: vec![ContactReminders {
                last_visit: Some(visit),
                ..c
            }],
            last_escalation: None,
        };
        let tasks = [task(d(2026, 3, 3), TaskStatus::Pending, 1)];
        let zone = TimeZone::UTC;
        let day = |n: i64| visit + TimeDelta::days(n);
        assert_eq!(
            judge_escalation(day(4), zone, &s, true, &state, &tasks),
            None
        );
        let e = judge_escalation(day(5), zone, &s, true, &state, &tasks).unwrap();
        assert_eq!(e.quiet_since, visit);
        state.last_escalation = Some(day(5));
        assert_eq!(
            judge_escalation(day(6), zone, &s, true, &state, &tasks),
            None
        );
        assert_eq!(
            judge_escalation(day(11), zone, &s, true, &state, &tasks),
            None
        );
        assert!(judge_escalation(day(12), zone, &s, true, &state, &tasks).is_some());
        // A visit after the escalation starts a new spell.
        state.contacts[0].last_visit = Some(day(8));
        assert_eq!(
            judge_escalation(day(12), zone, &s, true, &state, &tasks),
            None
        );
        assert!(judge_escalation(day(13), zone, &s, true, &state, &tasks).is_some());
        // Nothing overdue: nothing to tell.
        let done = [task(d(2026, 3, 3), TaskStatus::Completed, 1)];
        assert_eq!(
            judge_escalation(day(30), zone, &s, true, &state, &done),
            None
        );
    }

    #[test]
    fn links_are_signed_and_expire() {
        let secret = ServerSecret::generate(&SeededRandom::new(7));
        let other = ServerSecret::generate(&SeededRandom::new(8));
        let rng = SeededRandom::new(9);
        let link = ReminderLink::Snooze {
            contact: ContactId::random(&rng),
            task: TaskId::random(&rng),
        };
        let expires = Utc.with_ymd_and_hms(2026, 3, 20, 0, 0, 0).unwrap();
        let token = link.sign(&secret, expires);
        assert_eq!(
            ReminderLink::verify(&token, &secret, expires).unwrap(),
            link
        );
        assert!(matches!(
            ReminderLink::verify(&token, &secret, expires + TimeDelta::seconds(1)),
            Err(Error::Expired { .. })
        ));
        assert!(matches!(
            ReminderLink::verify(&token, &other, expires),
            Err(Error::NotFound { .. })
        ));
        // Any altered character breaks it.
        let mut bytes = token.clone().into_bytes();
        bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert!(ReminderLink::verify(&altered, &secret, expires).is_err());
        let unsub = ReminderLink::Unsubscribe {
            contact: ContactId::random(&rng),
        };
        let token = unsub.sign(&secret, expires);
        assert_eq!(
            ReminderLink::verify(&token, &secret, expires).unwrap(),
            unsub
        );
        assert!(ReminderLink::verify("", &secret, expires).is_err());
    }
}
