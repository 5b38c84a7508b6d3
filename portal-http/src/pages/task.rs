//! The task page: one task with the interaction its type needs, and its comment thread.

use std::collections::BTreeMap;

use askama::Template;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use portal_core::model::{
    MeetingSchedule, QuestionKind, Side, Task, TaskKind, TaskStatus, TimeZone,
};
use portal_core::wording;
use portal_core::workflow::survey::{Answer, field_name};
use portal_core::workflow::video::parse_video_url;
use portal_core::workflow::{Actor, Comment};

use portal_core::filedrop::DroppedFile;
use portal_core::i18n::{Arg, Language, Msg, Texts};
use portal_core::scan::UnscannablePolicy;
use portal_core::service::SubmittedCredentials;
use portal_core::workflow::documents::DocumentRow;

use super::documents::{DocumentView, ViewContext, document_view};
use super::{Chrome, PortalNav, TaskCard, card};

/// An instant as the contact reads it, in their zone with the zone named and in their
/// language: "Sat 28 Nov 2026, 23:00 NZDT (Pacific/Auckland)"
/// ([`wording::local_time_in`]).
pub fn when_in(at: DateTime<Utc>, zone: TimeZone, language: portal_core::i18n::Language) -> String {
    wording::local_time_in(at, zone, language)
}

/// Who and when, for "Completed by … on …" lines.
#[derive(Debug, Clone)]
pub struct DoneInfo {
    /// Who.
    pub by: String,
    /// When.
    pub at: String,
    /// Notes given.
    pub notes: Option<String>,
}

/// A scheduled meeting as shown.
#[derive(Debug, Clone)]
pub struct MeetingView {
    /// Date and time range in the contact's zone, with its abbreviation.
    pub when: String,
    /// "45 minutes".
    pub duration: String,
    /// The contact's IANA zone name (empty when the abbreviation already is it, UTC).
    pub zone: String,
    /// Join link (http/https only).
    pub join_url: Option<String>,
    /// The `.ics` download.
    pub ics_href: String,
    /// Agenda text.
    pub agenda: Option<String>,
}

/// A training video as shown.
#[derive(Debug, Clone)]
pub struct VideoView {
    /// The player URL.
    pub embed_url: String,
    /// The video's page on its site, linked under the player (and the only way to
    /// watch when the player can't load).
    pub watch_url: String,
    /// "YouTube", "Vimeo" or "Loom".
    pub provider: &'static str,
}

/// One option of a choice or rating question.
#[derive(Debug, Clone)]
pub struct OptionView {
    /// Submitted value.
    pub value: String,
    /// Shown label.
    pub label: String,
    /// Currently chosen.
    pub checked: bool,
}

/// One form question as shown.
#[derive(Debug, Clone)]
pub struct QuestionView {
    /// Input id/name.
    pub name: String,
    /// Element id.
    pub dom_id: String,
    /// Question text.
    pub prompt: String,
    /// Required.
    pub required: bool,
    /// "short", "long", "single", "multi", "rating" or "number".
    pub input: &'static str,
    /// Text value (short/long/number).
    pub value: String,
    /// Max length (text) or max value (number).
    pub max: i64,
    /// Min value (number).
    pub min: i64,
    /// Options (single/multi/rating).
    pub options: Vec<OptionView>,
    /// The message for this question.
    pub error: Option<String>,
    /// The stored answer as text, for the read-only view.
    pub shown: String,
}

/// One checklist item as shown.
#[derive(Debug, Clone)]
pub struct ItemView {
    /// Item id.
    pub id: String,
    /// Label.
    pub label: String,
    /// "Checked by Dana on …".
    pub checked: Option<DoneInfo>,
}

/// An approval decision as shown.
#[derive(Debug, Clone)]
pub struct DecisionView {
    /// Approved or rejected.
    pub approved: bool,
    /// "✓ Approved by … (email) on …", one message so the language orders it.
    pub line: Msg,
    /// Who, when, comment.
    pub info: DoneInfo,
    /// The shared documents the decision was taken on: name and SHA-256.
    pub documents: Vec<(String, String)>,
}

/// A document upload task's documents as shown.
#[derive(Debug, Clone)]
pub struct DocumentsBlock {
    /// Every requested document, in the task's order.
    pub docs: Vec<DocumentView>,
    /// Whether the "several files at once" area is offered (the upload script shows
    /// it): when more than one document is waiting for a file, the ones it fills.
    pub several: bool,
}

/// A credential handoff task as shown. Holds no value ever typed: after a submission
/// the client sees who sent them and when, and a refused form comes back empty (a
/// password is never written into a page, not even the client's own).
#[derive(Debug, Clone)]
pub struct CredentialsView {
    /// Whether the task asks for an API key too (its field is then required).
    pub api_key: bool,
    /// "Submitted by X at T", once they were.
    pub submitted: Option<DoneInfo>,
    /// Whether the MSP has purged them since (done with them).
    pub purged: bool,
    /// The field the last refusal was about (`username`, `password`, `api_key`,
    /// `notes`), to mark it.
    pub error_field: Option<String>,
}

/// One dropped file as the client sees it.
#[derive(Debug, Clone)]
pub struct DropView {
    /// Its id (the delete form's address).
    pub id: String,
    /// The file name.
    pub name: String,
    /// "1.5 MB".
    pub size: String,
    /// "expires in 6 days 23 hours", while it is available.
    pub left: Option<String>,
    /// The exact expiry in the contact's zone, named.
    pub expires: String,
    /// "Downloaded by your onboarding team on …", once it was.
    pub downloaded: Option<String>,
    /// "Deleted: no longer available." or "Expired: …".
    pub gone: Option<String>,
    /// Whether the Delete button is offered (available, not downloaded).
    pub deletable: bool,
}

/// A secure file drop task as shown: the drop form and the files dropped.
#[derive(Debug, Clone)]
pub struct DropsBlock {
    /// Every file dropped on the task, oldest first.
    pub files: Vec<DropView>,
    /// "7 days": how long a file stays.
    pub keep: String,
    /// "100 MB": the largest file.
    pub max: String,
    /// The same in bytes, for the upload script to refuse a larger file unsent.
    pub max_bytes: u64,
}

/// "6 days 23 hours", "5 hours 12 minutes", "3 minutes", "less than a minute": the time
/// left, to the two largest units (the exact expiry is shown next to it), in `t`'s
/// language with its plurals.
pub fn time_left(d: TimeDelta, t: Texts) -> String {
    let total = d.num_seconds();
    let (days, hours, minutes) = (total / 86_400, total / 3_600 % 24, total / 60 % 60);
    let unit = |n: i64, key: &str| t.text_with(key, &[("count", Arg::Number(n))]);
    let (days_key, hours_key, minutes_key) = ("count-days", "count-hours", "count-minutes");
    if days > 0 {
        if hours > 0 {
            format!("{} {}", unit(days, days_key), unit(hours, hours_key))
        } else {
            unit(days, days_key)
        }
    } else if hours > 0 {
        if minutes > 0 {
            format!("{} {}", unit(hours, hours_key), unit(minutes, minutes_key))
        } else {
            unit(hours, hours_key)
        }
    } else if minutes > 0 {
        unit(minutes, minutes_key)
    } else {
        t.text("time-left-under-a-minute")
    }
}

fn drop_view(f: &DroppedFile, now: DateTime<Utc>, zone: TimeZone, t: Texts) -> DropView {
    let state = if f.deleted.is_some() {
        Some("deleted")
    } else if f.available(now) {
        None
    } else {
        Some("expired")
    };
    let gone = state.map(|s| t.text_with("drop-gone", &[("state", s.into())]));
    DropView {
        id: f.id.to_string(),
        name: f.name.clone(),
        size: wording::bytes_in(f.size, t.language),
        left: f
            .time_left(now)
            .map(|d| t.text_with("drop-expires-in", &[("left", time_left(d, t).into())])),
        expires: when_in(f.expires_at, zone, t.language),
        downloaded: f.downloaded.as_ref().map(|d| {
            t.text_with(
                "drop-downloaded",
                &[("time", when_in(d.at, zone, t.language).into())],
            )
        }),
        deletable: state.is_none() && f.downloaded.is_none(),
        gone,
    }
}

/// A signature task as shown: the form (pad, typed name, consent), or who signed
/// and when with a link to the evidence certificate.
#[derive(Debug, Clone)]
pub struct SignatureView {
    /// The attached document's name, if the task names one.
    pub document: Option<String>,
    /// The document the MSP attached, to review before signing.
    pub document_file: Option<SignDocumentView>,
    /// The consent statement to tick (the MSP's wording or the default).
    pub consent: String,
    /// "Signed by X at T (zone)", once signed.
    pub signed: Option<DoneInfo>,
    /// The client's evidence certificate.
    pub certificate_href: String,
    /// The field the last refusal was about (`signature`, `typed_name`, `consent`).
    pub error_field: Option<String>,
}

/// A signature task's attached document as the page presents it.
#[derive(Debug, Clone)]
pub struct SignDocumentView {
    /// Its file name.
    pub name: String,
    /// "PDF, 12 KB".
    pub label: String,
    /// Where it is shown inline (a PDF in a frame).
    pub href: String,
    /// Where it downloads from.
    pub download_href: String,
    /// Whether the browser can show it in the page (a PDF).
    pub inline: bool,
    /// Its SHA-256 in hex: sent back with the signature, so the signature is refused
    /// if the document changed meanwhile.
    pub sha256: String,
}

/// A comment as shown.
#[derive(Debug, Clone)]
pub struct CommentView {
    /// Author name.
    pub author: String,
    /// "You"-side or MSP label.
    pub side: String,
    /// Whether the MSP wrote it.
    pub staff: bool,
    /// When.
    pub at: String,
    /// Text.
    pub body: String,
}

/// A due-date request as the client reads it.
#[derive(Debug, Clone)]
pub struct DueRequestView {
    /// The date asked for, in words.
    pub to: String,
    /// "Asked by Dana on …: “reason”": who asked, when (in the contact's zone,
    /// named) and why.
    pub asked: String,
    /// "Waiting for Northwind IT", "Approved", "Declined".
    pub status: String,
    /// "pending", "approved", "declined" (the pill's class).
    pub slug: &'static str,
    /// "Approved by Sam on …: “note”" once decided.
    pub decided: Option<String>,
}

/// "I'm stuck" and due-date requests on the task page: the state, the history and
/// the two small forms (each offered only when it can be used).
#[derive(Debug, Clone, Default)]
pub struct HelpView {
    /// The MSP's display name.
    pub company: String,
    /// The open report: "You said … on …", with its reason.
    pub stuck: Option<DoneInfo>,
    /// The open report as the page says it ("Waiting for … to help. You said …"),
    /// one message so the language orders its parts.
    pub stuck_line: Option<Msg>,
    /// The last report, cleared: who answered and when (their answer is in the
    /// thread and shown here too).
    pub cleared: Option<DoneInfo>,
    /// Whether "I'm stuck" is offered (a client task, open, not blocked, not stuck).
    pub can_report: bool,
    /// Whether "Ask for a new due date" is offered (a client task, open, none pending).
    pub can_request: bool,
    /// The earliest date to ask for (`YYYY-MM-DD`, the contact's today).
    pub min_date: String,
    /// Requests, newest first.
    pub requests: Vec<DueRequestView>,
    /// Messages of a refused form, by field (`reason`, `date`, `due_reason`).
    pub errors: BTreeMap<String, String>,
    /// What the client typed in a refused form, kept.
    pub reason_draft: String,
    /// The date typed in a refused form.
    pub date_draft: String,
    /// The reason typed in a refused due-date form.
    pub due_reason_draft: String,
}

impl HelpView {
    /// A refused form's message for `field`.
    pub fn err(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

fn help_view(input: &TaskPageInput<'_>, zone: TimeZone, t: Texts) -> HelpView {
    use portal_core::workflow::{due_dates, stuck};
    let task = input.task;
    let language = t.language;
    let open = !matches!(task.status, TaskStatus::Completed) && task.assignee == Side::Client;
    let report = stuck::open_report(task).filter(|_| open);
    let cleared = task
        .evidence
        .stuck
        .last()
        .and_then(|r| r.cleared.as_ref())
        .map(|c| done(&c.by, c.at, c.answer.as_ref(), zone, language));
    let value = |name: &str| {
        input
            .help_values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let errors = input
        .field_errors
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("help:").map(|f| (f.to_owned(), v.clone())))
        .collect();
    let stuck = report.map(|r| done(&r.by, r.at, Some(&r.reason), zone, language));
    let stuck_line = stuck.as_ref().map(|st| {
        let mut args = vec![
            ("company", Arg::from(input.company)),
            ("time", Arg::from(&st.at)),
        ];
        match &st.notes {
            Some(reason) => {
                args.push(("reason", Arg::from(reason)));
                t.with("help-stuck-waiting-reason", &args)
            }
            None => t.with("help-stuck-waiting", &args),
        }
    });
    HelpView {
        company: input.company.to_owned(),
        stuck,
        stuck_line,
        cleared: if report.is_some() { None } else { cleared },
        can_report: open && task.status != TaskStatus::Blocked && report.is_none(),
        can_request: open && due_dates::pending(task).is_none(),
        min_date: input.today.format("%Y-%m-%d").to_string(),
        requests: task
            .evidence
            .due_date_requests
            .iter()
            .rev()
            .map(|r| {
                let slug = match &r.decision {
                    None => "pending",
                    Some(d) if d.approved => "approved",
                    Some(_) => "declined",
                };
                let status = t.text_with(
                    "due-request-status",
                    &[("status", slug.into()), ("company", input.company.into())],
                );
                let at = when_in(r.at, zone, language);
                let asked = t.text_with(
                    "due-request-asked",
                    &[
                        ("name", r.by.name().into()),
                        ("time", Arg::from(&at)),
                        ("reason", Arg::from(&r.reason)),
                    ],
                );
                DueRequestView {
                    to: wording::date_in(r.to, language),
                    asked,
                    status,
                    slug,
                    decided: r.decision.as_ref().map(|d| {
                        let mut args = vec![
                            ("approved", Arg::from(if d.approved { "yes" } else { "no" })),
                            ("name", d.by.name().into()),
                            ("time", when_in(d.at, zone, language).into()),
                        ];
                        match &d.note {
                            Some(note) => {
                                args.push(("note", Arg::from(note)));
                                t.text_with("due-request-decided-note", &args)
                            }
                            None => t.text_with("due-request-decided", &args),
                        }
                    }),
                }
            })
            .collect(),
        errors,
        reason_draft: value("reason"),
        date_draft: value("date"),
        due_reason_draft: value("due_reason"),
    }
}

/// The task page.
#[derive(Template)]
#[template(path = "task.html")]
pub struct TaskPage {
    /// Frame.
    pub c: Chrome,
    /// Portal navigation.
    pub nav: PortalNav,
    /// The task as a card.
    pub task: TaskCard,
    /// Its phase.
    pub phase: String,
    /// Success message.
    pub notice: Option<String>,
    /// Problem with the last action.
    pub error: Option<String>,
    /// Whether the client can act on it now.
    pub can_act: bool,
    /// Whether the client can uncheck checklist items now: also after their last
    /// tick completed the checklist, so a tick by mistake can be taken back.
    pub can_untick: bool,
    /// Why not, when it's someone else's task.
    pub readonly_reason: Option<String>,
    /// Form action base, `/tasks/{id}`.
    pub action_base: String,
    /// Standard task: completion.
    pub standard: Option<Option<DoneInfo>>,
    /// Meeting task: the schedule (inner `None` while not scheduled).
    pub meeting: Option<Option<MeetingView>>,
    /// Training task: video and completion.
    pub training: Option<(Option<VideoView>, Option<DoneInfo>)>,
    /// Survey: questions, submission, last draft save.
    pub survey: Option<(Vec<QuestionView>, Option<DoneInfo>, Option<String>)>,
    /// Message for the survey form as a whole.
    pub form_error: Option<String>,
    /// Checklist: items, checked count, total.
    pub checklist: Option<(Vec<ItemView>, usize, usize)>,
    /// Approval: supporting document name and decision.
    pub approval: Option<(Option<String>, Option<DecisionView>)>,
    /// Document upload task: its documents.
    pub documents: Option<DocumentsBlock>,
    /// Credential handoff task: the form, or who submitted them and when.
    pub credentials: Option<CredentialsView>,
    /// Secure file drop task: the drop form and the files.
    pub drops: Option<DropsBlock>,
    /// Signature task: the form, or who signed and when.
    pub signature: Option<SignatureView>,
    /// Task types whose interaction is not offered here yet: what to tell the client.
    pub not_yet: Option<&'static str>,
    /// Notes or comment typed before an error, kept.
    pub draft: String,
    /// The comment thread.
    pub comments: Vec<CommentView>,
    /// Whether the participant reads and writes the thread (not the client's own
    /// contacts on a handover task: that thread is the outgoing provider's with the
    /// MSP).
    pub thread: bool,
    /// "I'm stuck" and due-date requests.
    pub help: HelpView,
    /// Claim or hand on the task (shown on open client tasks).
    pub team: TeamActions,
    /// Files the MSP shared on this task, oldest first.
    pub shared: Vec<super::documents::SharedView>,
    /// Whether a decision on this task waits until the contact opened every shared
    /// file (the decision form is disabled and says so; the server refuses it too).
    pub open_first: bool,
}

/// Who has the task, and the forms to take it on or hand it to a colleague.
#[derive(Debug, Clone, Default)]
pub struct TeamActions {
    /// Where "Take this task on" posts, when it is left to the whole team.
    pub claim_action: Option<String>,
    /// Where the hand-off form posts, when the task is the contact's.
    pub hand_off_action: Option<String>,
    /// Active colleagues to hand it to: `(id, name)`.
    pub colleagues: Vec<(String, String)>,
    /// The note typed before a refusal.
    pub note_draft: String,
    /// What to fix in the hand-off form.
    pub hand_off_error: Option<String>,
}

fn done(
    by: &Actor,
    at: DateTime<Utc>,
    notes: Option<&String>,
    zone: TimeZone,
    language: Language,
) -> DoneInfo {
    DoneInfo {
        by: by.name().to_owned(),
        at: when_in(at, zone, language),
        notes: notes.cloned(),
    }
}

/// A meeting's clock time on the 12-hour dial the meeting line uses ("9:00 AM",
/// "9:00 a. m."), the words from the catalog.
fn meeting_clock<Z: chrono::TimeZone>(at: &DateTime<Z>, t: Texts) -> String {
    use chrono::Timelike;
    let (pm, hour) = at.hour12();
    t.text_with(
        "meeting-clock",
        &[
            ("hour", hour.into()),
            ("minute", format!("{:02}", at.minute()).into()),
            ("ampm", if pm { "pm" } else { "am" }.into()),
        ],
    )
}

/// The meeting's time in the contact's zone, with the zone named (whatever zone the
/// MSP scheduled it in: the contact joins from where they are), in `t`'s language:
/// the day written out in full, as an invitation reads.
pub fn meeting_view(
    s: &MeetingSchedule,
    ics_href: String,
    zone: TimeZone,
    t: Texts,
) -> MeetingView {
    use chrono::Datelike;
    let end = s.starts_at + TimeDelta::minutes(i64::from(s.duration_minutes));
    let start = s.starts_at.with_timezone(&zone.tz());
    let end = end.with_timezone(&zone.tz());
    let date = t.text_with(
        "meeting-date",
        &[
            (
                "weekday",
                t.text_with(
                    "meeting-weekday",
                    &[("weekday", start.weekday().number_from_monday().into())],
                )
                .into(),
            ),
            ("day", start.day().to_string().into()),
            (
                "month",
                t.text_with("meeting-month", &[("month", start.month().into())])
                    .into(),
            ),
            ("year", start.year().to_string().into()),
        ],
    );
    let when = t.text_with(
        "meeting-range",
        &[
            ("date", date.into()),
            ("start", meeting_clock(&start, t).into()),
            ("end", meeting_clock(&end, t).into()),
            ("zone", end.format("%Z").to_string().into()),
        ],
    );
    // The IANA name after the abbreviation, unless they are the same ("UTC").
    let zone = if end.format("%Z").to_string() == zone.name() {
        String::new()
    } else {
        zone.name().to_owned()
    };
    let count = |key: &str, n: u32| t.text_with(key, &[("count", n.into())]);
    let duration = match (s.duration_minutes / 60, s.duration_minutes % 60) {
        (0, m) => count("count-minutes", m),
        (h, 0) => count("count-hours", h),
        (h, m) => t.text_with(
            "meeting-duration-hm",
            &[("hours", h.into()), ("minutes", m.into())],
        ),
    };
    MeetingView {
        when,
        duration,
        zone,
        join_url: s.meeting_url.clone(),
        ics_href,
        agenda: s.agenda.clone(),
    }
}

fn question_views(
    task: &Task,
    questions: &[portal_core::model::Question],
    submitted: Option<&[(String, String)]>,
    errors: &BTreeMap<String, String>,
) -> Vec<QuestionView> {
    questions
        .iter()
        .map(|q| {
            let name = field_name(&q.id);
            let sent: Option<Vec<&str>> = submitted.map(|f| {
                f.iter()
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v.as_str())
                    .collect()
            });
            let stored = task.evidence.answers.get(&q.id);
            let text_value = match (&sent, stored) {
                (Some(v), _) => v.first().map(|s| (*s).to_owned()).unwrap_or_default(),
                (None, Some(Answer::Text(t))) => t.clone(),
                (None, Some(Answer::Rating(r))) => r.to_string(),
                _ => String::new(),
            };
            let is_chosen = |value: &str, label: &str| match (&sent, stored) {
                (Some(v), _) => v.contains(&value),
                (None, Some(Answer::Choice(c))) => c == label,
                (None, Some(Answer::Choices(cs))) => cs.iter().any(|c| c == label),
                (None, Some(Answer::Rating(r))) => r.to_string() == value,
                _ => false,
            };
            let options = |choices: &[String]| {
                choices
                    .iter()
                    .enumerate()
                    .map(|(i, label)| OptionView {
                        value: i.to_string(),
                        label: label.clone(),
                        checked: is_chosen(&i.to_string(), label),
                    })
                    .collect::<Vec<_>>()
            };
            let mut view = QuestionView {
                dom_id: format!(
                    "q-{}",
                    q.id.chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                        .collect::<String>()
                ),
                name,
                prompt: q.prompt.clone(),
                required: q.required,
                input: "short",
                value: text_value,
                max: 0,
                min: 0,
                options: Vec::new(),
                error: errors.get(&q.id).cloned(),
                shown: stored.map(Answer::display).unwrap_or_default(),
            };
            match &q.kind {
                QuestionKind::ShortText { max_len } => view.max = i64::from(*max_len),
                QuestionKind::LongText { max_len } => {
                    view.input = "long";
                    view.max = i64::from(*max_len);
                }
                QuestionKind::SingleSelect { choices } => {
                    view.input = "single";
                    view.options = options(choices);
                }
                QuestionKind::MultiSelect { choices } => {
                    view.input = "multi";
                    view.options = options(choices);
                }
                QuestionKind::Rating { min, max } if max - min <= 10 => {
                    view.input = "rating";
                    view.options = (*min..=*max)
                        .map(|n| OptionView {
                            value: n.to_string(),
                            label: n.to_string(),
                            checked: is_chosen(&n.to_string(), ""),
                        })
                        .collect();
                }
                QuestionKind::Rating { min, max } => {
                    view.input = "number";
                    view.min = i64::from(*min);
                    view.max = i64::from(*max);
                }
            }
            view
        })
        .collect()
}

/// Everything needed to build a task page besides the frame.
pub struct TaskPageInput<'a> {
    /// Whether the signed-in participant is a guest: they complete and discuss the
    /// task but never claim or hand it on (they are not the client's colleagues).
    pub guest: bool,
    /// The task.
    pub task: &'a Task,
    /// Its phase's name.
    pub phase: &'a str,
    /// The MSP's display name.
    pub company: &'a str,
    /// Its comments.
    pub comments: &'a [Comment],
    /// Whether the participant reads the thread (see [`TaskPage::thread`]).
    pub thread: bool,
    /// Today (for due dates).
    pub today: NaiveDate,
    /// The mount prefix.
    pub prefix: &'a str,
    /// Success message.
    pub notice: Option<String>,
    /// Problem with the last action.
    pub error: Option<String>,
    /// Per-question messages after a refused form.
    pub field_errors: BTreeMap<String, String>,
    /// The refused form's fields, to keep the client's answers.
    pub submitted: Option<&'a [(String, String)]>,
    /// Text typed before an error.
    pub draft: String,
    /// The portal's requested documents with their files (only this task's are shown).
    pub documents: &'a [DocumentRow],
    /// Which files may be downloaded.
    pub unscannable: UnscannablePolicy,
    /// A refused upload: `(document id, message)`.
    pub upload_error: Option<(&'a str, &'a str)>,
    /// Locks and assignments.
    pub marks: super::home::PlanMarks<'a>,
    /// A credential handoff task's submission (who and when, never a value).
    pub credentials: Option<&'a SubmittedCredentials>,
    /// The credential field a refused submission was about.
    pub credential_error: Option<String>,
    /// A secure file drop task's files (every state, oldest first).
    pub drops: &'a [DroppedFile],
    /// Now, for the time each dropped file has left.
    pub now: DateTime<Utc>,
    /// A signature task's signature, once signed.
    pub signature: Option<&'a portal_core::signatures::SignatureRecord>,
    /// The portal's contacts (for the hand-off form; revoked and waiting ones are
    /// left out).
    pub colleagues: &'a [portal_core::model::Contact],
    /// The signature field a refused submission was about.
    pub signature_error: Option<String>,
    /// A signature task's attached document, if any.
    pub sign_document: Option<&'a portal_core::signatures::AttachedDocument>,
    /// What a refused "I'm stuck" or due-date form held (`reason`, `date`,
    /// `due_reason`), to keep it.
    pub help_values: &'a [(String, String)],
    /// Files the MSP shared on this task, with whether this contact opened each.
    pub shared: &'a [portal_core::service::SharedDocument],
}

/// Builds the task page.
pub fn task_page(c: Chrome, nav: PortalNav, input: TaskPageInput<'_>) -> TaskPage {
    let task = input.task;
    let e = &task.evidence;
    let client_task = task.assignee == Side::Client;
    let locked = input.marks.waiting.contains_key(&task.id);
    let can_act = client_task
        && !locked
        && !matches!(task.status, TaskStatus::Completed | TaskStatus::Blocked);
    let can_untick = !locked && portal_core::workflow::actions::client_may_untick(task).is_ok();
    let t = c.t;
    let language = t.language;
    let readonly_reason = if !client_task {
        Some(t.text_with("task-readonly-msp", &[("company", input.company.into())]))
    } else if locked {
        Some(t.text("task-readonly-locked"))
    } else {
        None
    };
    let mut task_card = card(task, input.company, input.today, input.prefix, c.t.language);
    input.marks.mark(&mut task_card, task, c.t.language);
    let base = format!("{}/tasks/{}", input.prefix, task.id);
    let zone = c.zone;
    let help = help_view(&input, zone, t);
    let team = team_actions(&input, can_act, &base);
    let completion = e
        .completion
        .as_ref()
        .map(|d| done(&d.by, d.at, d.notes.as_ref(), zone, language));
    let shared: Vec<super::documents::SharedView> = input
        .shared
        .iter()
        .map(|d| {
            super::documents::shared_view(
                &d.attachment,
                d.opened,
                task,
                input.prefix,
                zone,
                c.t.language,
            )
        })
        .collect();
    let open_first =
        portal_core::attachments::gates_decision(task) && input.shared.iter().any(|d| !d.opened);
    let mut page = TaskPage {
        shared,
        open_first,
        team,
        c,
        nav,
        task: task_card,
        phase: input.phase.to_owned(),
        notice: input.notice,
        error: input.error,
        can_act,
        can_untick,
        readonly_reason,
        action_base: base.clone(),
        standard: None,
        meeting: None,
        training: None,
        survey: None,
        form_error: input
            .field_errors
            .get(portal_core::workflow::survey::FORM_KEY)
            .cloned(),
        checklist: None,
        approval: None,
        documents: None,
        credentials: None,
        drops: None,
        signature: None,
        not_yet: None,
        help,
        draft: input.draft,
        thread: input.thread,
        comments: input
            .comments
            .iter()
            .map(|c| CommentView {
                author: c.author.name().to_owned(),
                side: match c.author.side() {
                    Side::Client => t.text("comments-side-client"),
                    Side::Msp => input.company.to_owned(),
                },
                staff: c.author.side() == Side::Msp,
                at: when_in(c.at, zone, language),
                body: c.body.clone(),
            })
            .collect(),
    };
    match &task.kind {
        TaskKind::Standard => page.standard = Some(completion),
        TaskKind::Meeting { schedule } => {
            page.meeting = Some(
                schedule
                    .as_ref()
                    .map(|s| meeting_view(s, format!("{base}/invite.ics"), zone, t)),
            );
        }
        TaskKind::Training { video_url } => {
            let video = parse_video_url(video_url).ok().map(|v| VideoView {
                embed_url: v.embed_url,
                watch_url: v.watch_url,
                provider: v.provider.label(),
            });
            page.training = Some((video, completion));
        }
        TaskKind::Survey { questions } => {
            let saved = e
                .answers_saved
                .as_ref()
                .filter(|_| completion.is_none())
                .map(|m| when_in(m.at, zone, language));
            page.survey = Some((
                question_views(task, questions, input.submitted, &input.field_errors),
                completion,
                saved,
            ));
        }
        TaskKind::Checklist { items } => {
            let views: Vec<ItemView> = items
                .iter()
                .map(|i| ItemView {
                    id: i.id.clone(),
                    label: i.label.clone(),
                    checked: e
                        .checked
                        .get(&i.id)
                        .map(|m| done(&m.by, m.at, None, zone, language)),
                })
                .collect();
            let checked = views.iter().filter(|v| v.checked.is_some()).count();
            page.checklist = Some((views, checked, items.len()));
        }
        TaskKind::Approval { document } => {
            let decision = e.decision.as_ref().map(|d| DecisionView {
                approved: d.approved,
                line: t.with(
                    "approval-decided",
                    &[
                        ("approved", if d.approved { "yes" } else { "no" }.into()),
                        ("name", Arg::from(&d.name)),
                        ("email", d.email.to_string().into()),
                        ("time", when_in(d.at, zone, language).into()),
                    ],
                ),
                info: DoneInfo {
                    by: d.name.clone(),
                    at: when_in(d.at, zone, language),
                    notes: d.comment.clone(),
                },
                documents: d
                    .documents
                    .iter()
                    .map(|doc| (doc.name.clone(), doc.sha256.clone()))
                    .collect(),
            });
            page.approval = Some((document.as_ref().map(|d| d.name.clone()), decision));
        }
        TaskKind::DocumentUpload { .. } => {
            let cx = ViewContext {
                prefix: input.prefix,
                policy: input.unscannable,
                error: input.upload_error,
                zone,
                language: page.c.t.language,
            };
            let docs: Vec<DocumentView> = input
                .documents
                .iter()
                .filter(|row| row.task_id == task.id)
                .map(|row| document_view(row, task, &cx))
                .map(|mut view| {
                    // A locked task takes no upload until what it waits for is done.
                    if locked {
                        view.upload_action = None;
                        view.waiting = false;
                    }
                    view
                })
                .collect();
            let waiting = docs.iter().filter(|d| d.waiting).count();
            page.documents = Some(DocumentsBlock {
                several: waiting > 1,
                docs,
            });
        }
        TaskKind::Signature { document, .. } => {
            page.signature = Some(SignatureView {
                document: document.as_ref().map(|d| d.name.clone()),
                document_file: input.sign_document.map(|d| SignDocumentView {
                    name: d.name.clone(),
                    label: format!(
                        "{}, {}",
                        d.file_type.label_in(language),
                        wording::bytes_in(d.size, language)
                    ),
                    href: format!("{}/document", page.action_base),
                    download_href: format!("{}/document?download=1", page.action_base),
                    inline: d.file_type == portal_core::files::FileType::Pdf,
                    sha256: portal_core::audit::hash_hex(&d.sha256),
                }),
                consent: portal_core::signatures::consent_text(task, language),
                signed: input
                    .signature
                    .map(|s| done(&s.signer, s.signed_at, None, zone, language)),
                certificate_href: format!("{}/certificate", page.action_base),
                error_field: input.signature_error,
            });
        }
        TaskKind::CredentialHandoff { api_key } => {
            page.credentials = Some(CredentialsView {
                api_key: *api_key,
                submitted: input
                    .credentials
                    .map(|s| done(&s.by, s.at, None, zone, language))
                    .or(completion),
                purged: input.credentials.is_some_and(|s| s.purged),
                error_field: input.credential_error,
            });
        }
        TaskKind::SecureFileDrop { expires_after_days } => {
            page.drops = Some(DropsBlock {
                files: input
                    .drops
                    .iter()
                    .map(|f| drop_view(f, input.now, zone, t))
                    .collect(),
                keep: t.text_with("count-days", &[("count", (*expires_after_days).into())]),
                max: wording::bytes_in(portal_core::filedrop::MAX_DROP_BYTES, language),
                max_bytes: portal_core::filedrop::MAX_DROP_BYTES,
            });
        }
    }
    page
}

/// The claim and hand-off forms of an open client task the contact may act on.
fn team_actions(input: &TaskPageInput<'_>, can_act: bool, base: &str) -> TeamActions {
    let task = input.task;
    let me = input.marks.me;
    if !can_act || input.guest {
        return TeamActions::default();
    }
    let (claim_action, hand_off_action) = match portal_core::workflow::team::owner(task, me) {
        portal_core::workflow::team::TaskOwner::Team => (Some(format!("{base}/claim")), None),
        portal_core::workflow::team::TaskOwner::You => (None, Some(format!("{base}/hand-off"))),
        portal_core::workflow::team::TaskOwner::Colleague => (None, None),
    };
    let colleagues = input
        .colleagues
        .iter()
        .filter(|c| c.id != me && portal_core::workflow::guests::is_colleague(c))
        .map(|c| (c.id.to_string(), c.name.clone()))
        .collect::<Vec<_>>();
    TeamActions {
        claim_action,
        hand_off_action: hand_off_action.filter(|_| !colleagues.is_empty()),
        colleagues,
        note_draft: input
            .help_values
            .iter()
            .find(|(k, _)| k == "note")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        hand_off_error: input
            .field_errors
            .get("team:to")
            .or(input.field_errors.get("team:note"))
            .cloned(),
    }
}

#[cfg(test)]
mod time_left_tests {
    use super::*;

    #[test]
    fn time_left_reads_in_its_two_largest_units() {
        let d = |s: i64| time_left(TimeDelta::seconds(s), Texts::new(Language::En));
        assert_eq!(d(7 * 86_400 - 1800), "6 days 23 hours");
        assert_eq!(d(7 * 86_400), "7 days");
        assert_eq!(d(86_400 + 59), "1 day");
        assert_eq!(d(5 * 3600 + 12 * 60 + 5), "5 hours 12 minutes");
        assert_eq!(d(3600), "1 hour");
        assert_eq!(d(3 * 60 + 59), "3 minutes");
        assert_eq!(d(59), "less than a minute");
        assert_eq!(d(1), "less than a minute");
    }
}

#[cfg(test)]
mod language_tests {
    use super::*;

    fn schedule(minutes: u32) -> MeetingSchedule {
        let starts = "2026-11-28T15:00:00Z".parse::<DateTime<Utc>>().unwrap();
        MeetingSchedule::new(starts, "America/Chicago", minutes, None, None)
    }

    #[test]
    fn time_left_reads_in_spanish_with_its_plurals() {
        let d = |s: i64| time_left(TimeDelta::seconds(s), Texts::new(Language::Es));
        assert_eq!(d(7 * 86_400 - 1800), "6 días 23 horas");
        assert_eq!(d(86_400 + 59), "1 día");
        assert_eq!(d(3600 + 60), "1 hora 1 minuto");
        assert_eq!(d(59), "menos de un minuto");
    }

    #[test]
    fn a_meeting_reads_in_the_contacts_language() {
        let zone = TimeZone::parse("America/Chicago").unwrap();
        let en = meeting_view(&schedule(45), String::new(), zone, Texts::new(Language::En));
        assert_eq!(en.when, "Saturday 28 November 2026, 9:00 AM – 9:45 AM CST");
        assert_eq!(en.duration, "45 minutes");
        let es = meeting_view(&schedule(90), String::new(), zone, Texts::new(Language::Es));
        assert_eq!(
            es.when,
            "sábado 28 de noviembre de 2026, 9:00 a. m. – 10:30 a. m. CST"
        );
        assert_eq!(es.duration, "1 h 30 min");
        let es = meeting_view(&schedule(60), String::new(), zone, Texts::new(Language::Es));
        assert_eq!(es.duration, "1 hora");
        let en = meeting_view(
            &schedule(120),
            String::new(),
            zone,
            Texts::new(Language::En),
        );
        assert_eq!(en.duration, "2 hours");
        assert_eq!(en.zone, "America/Chicago");
    }
}
