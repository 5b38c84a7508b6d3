//! The portal home: its four tabs, the task cards grouped by phase, and the
//! activity feed.

use std::collections::BTreeMap;

use askama::Template;
use chrono::{NaiveDate, TimeDelta};
use portal_core::i18n::{Language, Texts};
use portal_core::model::{PhaseStatus, PortalSnapshot, Progress, Side, Task, TaskKind, TaskStatus};
use portal_core::scan::UnscannablePolicy;
use portal_core::workflow::DocumentStatus;
use portal_core::workflow::agenda::{self, Standing, WaitingOn};
use portal_core::workflow::documents::{DocumentRow, may_upload};
use portal_core::{ContactId, TaskId};

use super::documents::{DocumentView, ViewContext, document_view, status_slug as doc_slug};
use super::{Chrome, PortalNav, task};

/// The four tabs of the portal home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    /// Client tasks by phase.
    YourTasks,
    /// The whole plan as a timeline.
    OurProgress,
    /// Requested documents.
    Documents,
    /// Approve/reject decisions.
    Approvals,
}

impl Tab {
    /// All tabs in display order.
    pub const ALL: [Tab; 4] = [
        Tab::YourTasks,
        Tab::OurProgress,
        Tab::Documents,
        Tab::Approvals,
    ];

    /// From the `tab` query parameter (unknown values fall back to Your Tasks).
    pub fn from_query(q: Option<&str>) -> Self {
        match q {
            Some("progress") => Tab::OurProgress,
            Some("documents") => Tab::Documents,
            Some("approvals") => Tab::Approvals,
            _ => Tab::YourTasks,
        }
    }
    /// The query value.
    pub const fn slug(self) -> &'static str {
        match self {
            Tab::YourTasks => "tasks",
            Tab::OurProgress => "progress",
            Tab::Documents => "documents",
            Tab::Approvals => "approvals",
        }
    }
    /// The tab's label in `language`.
    pub fn label_in(self, language: Language) -> String {
        portal_core::i18n::message(language, "tab-label", &[("tab", self.slug().into())])
    }
}

/// A tab link.
#[derive(Debug, Clone)]
pub struct TabLink {
    /// Target.
    pub href: String,
    /// Label.
    pub label: String,
    /// Whether it is the shown tab.
    pub current: bool,
    /// What the counter says, naming what it counts ("4 open", "1 to upload").
    pub count_text: Option<String>,
}

/// An activity-feed line as shown.
#[derive(Debug, Clone)]
pub struct ActivityView {
    /// "Dana Whitfield completed “Sign the agreement”".
    pub summary: String,
    /// When.
    pub at: String,
}

/// A task as a card shows it.
#[derive(Debug, Clone)]
pub struct TaskCard {
    /// Task id (anchor).
    pub id: String,
    /// The task page, relative to the portal home.
    pub href: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Evidence-type badge.
    pub badge: String,
    /// Whether the client does it (MSP tasks show no action badge).
    pub client: bool,
    /// An approval's outcome: `(css slug, label)`.
    pub outcome: Option<(&'static str, String)>,
    /// Status CSS slug.
    pub status_slug: &'static str,
    /// Status words.
    pub status_label: String,
    /// "You" or the MSP's name.
    pub side_label: String,
    /// Formatted due date.
    pub due: Option<String>,
    /// Past due and not done.
    pub overdue: bool,
    /// Due within [`DUE_SOON_DAYS`] and not done.
    pub due_soon: bool,
    /// Why it is blocked.
    pub blocked_reason: Option<String>,
    /// Requested documents `(name, status slug, status label)`.
    pub documents: Vec<(String, &'static str, String)>,
    /// What it still waits for ("Set up the firewall, a step by Northwind IT"): it is
    /// locked until then.
    pub waiting_for: Option<String>,
    /// "Assigned to you" or "Assigned to Ann Lee", for a task for some contacts only.
    pub assigned: Option<String>,
    /// A client task the client cannot move now, and what it waits for ("Waiting for
    /// Acme MSP to review"): shown as waiting, never as overdue
    /// ([`agenda::standing`]).
    pub waiting: Option<String>,
}

/// What the plan adds to the cards: locks and assignments, as the client sees them.
#[derive(Debug, Clone, Copy)]
pub struct PlanMarks<'a> {
    /// Locked tasks → what they wait for.
    pub waiting: &'a BTreeMap<TaskId, Vec<String>>,
    /// The signed-in contact.
    pub me: ContactId,
    /// Names of assigned contacts.
    pub names: &'a BTreeMap<ContactId, String>,
}

impl PlanMarks<'_> {
    /// Sets a card's lock and assignment lines.
    pub fn mark(&self, card: &mut TaskCard, task: &Task, language: Language) {
        let t = Texts::new(language);
        card.waiting_for = self.waiting.get(&task.id).map(|w| w.join(", "));
        if card.waiting_for.is_some()
            && agenda::standing(task, true) == Standing::Waiting(WaitingOn::Prerequisites)
        {
            // Locked by a dependency: nothing to do yet, so nothing is late either.
            card.waiting = Some(WaitingOn::Prerequisites.label_in("", language));
            card.overdue = false;
            card.due_soon = false;
        }
        let names: Vec<&str> = task
            .assigned_to
            .iter()
            .filter_map(|c| self.names.get(c).map(String::as_str))
            .collect();
        let mine = task.assigned_to.contains(&self.me);
        // The client's plan has a role task's contacts in `assigned_to` already
        // (`team::with_roles_resolved`); the role says why it is theirs.
        let role_line = |key: &str, role: &str, names: String| {
            t.text_with(key, &[("role", role.into()), ("names", names.into())])
        };
        card.assigned = match (&task.for_role, task.assigned_to.as_slice()) {
            (Some(role), []) => Some(role_line("assigned-role", role, String::new())),
            (Some(role), _) if mine => Some(role_line("assigned-role-you", role, String::new())),
            (Some(role), _) if !names.is_empty() => {
                Some(role_line("assigned-role-names", role, names.join(", ")))
            }
            (Some(role), _) => Some(role_line("assigned-role", role, String::new())),
            (None, []) => None,
            (None, _) if mine => Some(t.text("assigned-you")),
            (None, _) if names.is_empty() => Some(t.text("assigned-colleague")),
            (None, _) => Some(t.text_with("assigned-names", &[("names", names.join(", ").into())])),
        };
        // Whose move it is on the status line: a task a colleague has (handed on,
        // or theirs by role) is with them, not with "You".
        if task.assignee == Side::Client && !task.assigned_to.is_empty() && !mine {
            card.side_label = if names.is_empty() {
                t.text("side-with-colleague")
            } else {
                t.text_with("side-with", &[("names", names.join(", ").into())])
            };
        }
    }
}

/// A phase with the cards shown in it.
#[derive(Debug, Clone)]
pub struct PhaseView {
    /// Phase name.
    pub name: String,
    /// Derived status CSS slug.
    pub status_slug: &'static str,
    /// Derived status words.
    pub status_label: String,
    /// Whether this is the current phase (the first not completed).
    pub current: bool,
    /// Its cards (on Your Tasks: the open ones, to do first).
    pub tasks: Vec<TaskCard>,
    /// Your Tasks: its completed cards, shown collapsed.
    pub done: Vec<TaskCard>,
    /// Percent of its tasks done (all of them, the MSP's too).
    pub percent: u32,
    /// Its tasks done.
    pub completed: usize,
    /// Its tasks.
    pub total: usize,
    /// Its planned span, from its tasks' due dates ("Mon 2 Mar 2026 – Fri 13 Mar 2026").
    pub dates: Option<String>,
}

/// The next-step card: the client's most urgent task, with its button.
#[derive(Debug, Clone)]
pub struct NextTask {
    /// The task page.
    pub href: String,
    /// Title.
    pub title: String,
    /// Evidence-type badge.
    pub badge: String,
    /// The phase it is in.
    pub phase: String,
    /// The button's words ("Start", "Continue").
    pub button: String,
    /// Formatted due date.
    pub due: Option<String>,
    /// Past due.
    pub overdue: bool,
    /// Due within [`DUE_SOON_DAYS`].
    pub due_soon: bool,
}

/// The next-step card when nothing is left for the contact: what happens next.
#[derive(Debug, Clone)]
pub struct AllDone {
    /// The whole onboarding is complete.
    pub finished: bool,
    /// The MSP's next open tasks (titles).
    pub msp_next: Vec<String>,
    /// The contact's open tasks that wait on the MSP or on other tasks.
    pub waiting: usize,
    /// Open tasks assigned to the contact's colleagues.
    pub colleagues: usize,
}

/// The MSP's next tasks the all-done card names.
const MSP_NEXT: usize = 3;

/// A task counts as "due soon" this many days ahead.
pub const DUE_SOON_DAYS: i64 = 3;

/// The portal home.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    /// Frame.
    pub c: Chrome,
    /// Client company.
    pub client: String,
    /// The signed-in contact.
    pub contact_name: String,
    /// Welcome message (plain text; line breaks kept by CSS).
    pub welcome: String,
    /// Percent complete.
    pub percent: u32,
    /// Tasks complete.
    pub completed: usize,
    /// Tasks counted.
    pub total: usize,
    /// The target go-live date the MSP set, formatted.
    pub go_live: Option<String>,
    /// The next step (`None`: see [`Self::all_done`]).
    pub next: Option<NextTask>,
    /// What happens next when nothing is left for the contact.
    pub all_done: Option<AllDone>,
    /// Tab links.
    pub tabs: Vec<TabLink>,
    /// Panel heading.
    pub panel_title: String,
    /// Panel explanation.
    pub panel_intro: Option<String>,
    /// Shown when nothing is listed.
    pub empty_text: String,
    /// Render phases as a timeline (Our Progress).
    pub timeline: bool,
    /// Phases with their cards.
    pub phases: Vec<PhaseView>,
    /// The Documents tab: every requested document (`None` on the other tabs).
    pub documents: Option<Vec<DocumentView>>,
    /// The Documents tab: the files the MSP shared (empty on the other tabs).
    pub shared: Vec<super::documents::SharedView>,
    /// Navigation.
    pub nav: PortalNav,
    /// Recent activity, newest first.
    pub activity: Vec<ActivityView>,
    /// The onboarding team card (empty: not shown).
    pub team: Vec<TeamCard>,
    /// Where "Ask a Question" lives (the team card links each member to it).
    pub questions_href: String,
}

/// One onboarding-team member on the home page's card.
#[derive(Debug, Clone)]
pub struct TeamCard {
    /// Their name.
    pub name: String,
    /// Their role on the onboarding.
    pub role: String,
    /// Their email address, shown and linked.
    pub email: String,
    /// `mailto:` link to them.
    pub mailto: String,
    /// Their photo's URL, if they have one.
    pub photo_url: Option<String>,
    /// Initials shown instead of a photo.
    pub initials: String,
    /// "Ask a Question" with them chosen.
    pub ask_href: String,
}

/// The team card's members, in the MSP's order.
pub fn team_cards(team: &portal_core::model::OnboardingTeam, prefix: &str) -> Vec<TeamCard> {
    team.members()
        .iter()
        .map(|m| TeamCard {
            name: m.name.clone(),
            role: m.role.clone(),
            email: m.email.as_str().to_owned(),
            mailto: format!("mailto:{}", m.email.as_str()),
            photo_url: m
                .photo
                .as_ref()
                .map(|p| format!("{prefix}/brand/logo/{}", p.sha256)),
            initials: m.initials(),
            ask_href: format!(
                "{prefix}/questions?{}#ask-title",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("to", m.email.as_str())
                    .finish()
            ),
        })
        .collect()
}

fn status_slug(s: TaskStatus) -> &'static str {
    s.as_str()
}

fn phase_slug(s: PhaseStatus) -> &'static str {
    match s {
        PhaseStatus::Pending => "pending",
        PhaseStatus::InProgress => "in_progress",
        PhaseStatus::Completed => "completed",
    }
}

/// A due date as pages show it ("Mon 30 Nov 2026"): a calendar date, no time or zone.
fn day(d: NaiveDate, language: Language) -> String {
    portal_core::wording::date_in(d, language)
}

/// The overdue and due-soon marks of a task on `today`: only for a task that is the
/// client's to do now (a waiting one is never late against the client).
fn urgency(task: &Task, standing: Standing, today: NaiveDate) -> (bool, bool) {
    match task.due_date {
        Some(d) if standing == Standing::ToDo => (
            d < today,
            d >= today && d - today <= TimeDelta::days(DUE_SOON_DAYS),
        ),
        _ => (false, false),
    }
}

/// `prefix` is the mount prefix: links are absolute paths, so they resolve under the
/// mount whether or not the page's address ends with a slash.
pub(crate) fn card(
    task: &Task,
    company: &str,
    today: NaiveDate,
    prefix: &str,
    language: Language,
) -> TaskCard {
    let t = Texts::new(language);
    let standing = agenda::standing(task, false);
    let (overdue, due_soon) = urgency(task, standing, today);
    let waiting = match standing {
        Standing::Waiting(WaitingOn::Msp) | Standing::ToDo | Standing::Done => None,
        Standing::Waiting(on) => Some(on.label_in(company, language)),
    };
    let documents = match &task.kind {
        TaskKind::DocumentUpload { documents } => documents
            .iter()
            .map(|d| {
                let status = task
                    .evidence
                    .documents
                    .get(&d.id)
                    .map_or(DocumentStatus::Requested, |s| s.status);
                (d.name.clone(), doc_slug(status), status.label_in(language))
            })
            .collect(),
        _ => Vec::new(),
    };
    TaskCard {
        id: task.id.to_string(),
        href: format!("{prefix}/tasks/{}", task.id),
        title: task.title.clone(),
        description: task.description.clone(),
        badge: task.kind.badge_in(language),
        client: task.assignee == Side::Client,
        outcome: task.evidence.decision.as_ref().map(|d| {
            if d.approved {
                ("approved", t.text("outcome-approved"))
            } else {
                ("rejected", t.text("outcome-rejected"))
            }
        }),
        status_slug: status_slug(task.status),
        status_label: task.status.label_in(language),
        side_label: match task.assignee {
            Side::Client => t.text("side-you"),
            Side::Msp => company.to_owned(),
        },
        due: task.due_date.map(|d| day(d, language)),
        overdue,
        due_soon,
        blocked_reason: if task.status == TaskStatus::Blocked {
            task.blocked_reason.clone()
        } else {
            None
        },
        documents,
        waiting_for: None,
        assigned: None,
        waiting,
    }
}

/// How a tab lists a phase's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    /// Your Tasks: the client's tasks, what is theirs to do first, then what waits;
    /// the completed ones apart (collapsed).
    Client,
    /// Our Progress: every task, in plan order.
    Everything,
    /// Approvals: approval tasks, pending ones first.
    Approvals,
}

/// Groups the snapshot's tasks by phase for one tab; phases left without tasks are
/// dropped, except on Our Progress (every phase is a row of the plan).
fn phases(
    snap: &PortalSnapshot,
    marks: PlanMarks<'_>,
    today: NaiveDate,
    listing: Listing,
    prefix: &str,
    language: Language,
) -> Vec<PhaseView> {
    let company = snap.portal.branding.company_name.as_str();
    let locked = |t: &Task| marks.waiting.contains_key(&t.id);
    let view = |t: &Task| {
        let mut c = card(t, company, today, prefix, language);
        marks.mark(&mut c, t, language);
        c
    };
    agenda::phase_outlines(snap)
        .into_iter()
        .filter_map(|o| {
            let (tasks, done): (Vec<TaskCard>, Vec<TaskCard>) = match listing {
                Listing::Client => {
                    let mine = o
                        .tasks
                        .iter()
                        .copied()
                        .filter(|t| t.assignee == Side::Client);
                    let (done, mut open): (Vec<_>, Vec<_>) = agenda::client_order(mine, locked)
                        .into_iter()
                        .partition(|(_, s)| *s == Standing::Done);
                    // Assigned to you first, then the team's, then a colleague's; the
                    // agenda's order within each (a stable sort).
                    open.sort_by_key(|(t, _)| portal_core::workflow::team::owner(t, marks.me));
                    (
                        open.into_iter().map(|(t, _)| view(t)).collect(),
                        done.into_iter().map(|(t, _)| view(t)).collect(),
                    )
                }
                Listing::Everything => (o.tasks.iter().map(|t| view(t)).collect(), Vec::new()),
                Listing::Approvals => {
                    let mut approvals: Vec<&Task> = o
                        .tasks
                        .iter()
                        .copied()
                        .filter(|t| t.kind.is_approval())
                        .collect();
                    approvals.sort_by_key(|t| t.status == TaskStatus::Completed);
                    (approvals.into_iter().map(view).collect(), Vec::new())
                }
            };
            let keep = listing == Listing::Everything || !tasks.is_empty() || !done.is_empty();
            keep.then(|| PhaseView {
                name: o.phase.name.clone(),
                status_slug: phase_slug(o.status),
                status_label: o.status.label_in(language),
                current: o.current,
                tasks,
                done,
                percent: o.progress.percent(),
                completed: o.progress.completed,
                total: o.progress.total,
                dates: match (o.starts, o.ends) {
                    (Some(a), Some(b)) if a == b => Some(day(a, language)),
                    (Some(a), Some(b)) => {
                        Some(format!("{} – {}", day(a, language), day(b, language)))
                    }
                    _ => None,
                },
            })
        })
        .collect()
}

/// Requested documents that wait for the client: never uploaded, or rejected, in a
/// task the client can upload to now.
fn documents_waiting(tasks: &[Task]) -> usize {
    tasks
        .iter()
        .map(|t| match &t.kind {
            TaskKind::DocumentUpload { documents } => documents
                .iter()
                .filter(|d| may_upload(t, &d.id).is_ok())
                .filter(|d| {
                    t.evidence
                        .documents
                        .get(&d.id)
                        .is_none_or(|s| s.status == DocumentStatus::Rejected)
                })
                .count(),
            _ => 0,
        })
        .sum()
}

/// The next-step card: the contact's most urgent task ([`agenda::next_step`]), or,
/// when nothing is left for them, what happens next.
fn next_step(
    snap: &PortalSnapshot,
    marks: PlanMarks<'_>,
    today: NaiveDate,
    prefix: &str,
    language: Language,
) -> (Option<NextTask>, Option<AllDone>) {
    let tx = Texts::new(language);
    let locked = |t: &Task| marks.waiting.contains_key(&t.id);
    if let Some(t) = agenda::next_step(&snap.tasks, marks.me, today, locked) {
        let (overdue, due_soon) = urgency(t, Standing::ToDo, today);
        let phase = snap
            .phases
            .iter()
            .find(|p| p.id == t.phase_id)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let next = NextTask {
            href: format!("{prefix}/tasks/{}", t.id),
            title: t.title.clone(),
            badge: t.kind.badge_in(language),
            phase,
            button: if t.status == TaskStatus::Pending {
                tx.text("button-start")
            } else {
                tx.text("button-continue")
            },
            due: t.due_date.map(|d| day(d, language)),
            overdue,
            due_soon,
        };
        return (Some(next), None);
    }
    let open_client = |t: &&Task| t.assignee == Side::Client && t.status != TaskStatus::Completed;
    let all_done = AllDone {
        finished: snap.tasks.iter().all(|t| t.status == TaskStatus::Completed),
        msp_next: agenda::msp_next(&snap.tasks, MSP_NEXT)
            .into_iter()
            .map(|t| t.title.clone())
            .collect(),
        waiting: snap
            .tasks
            .iter()
            .filter(open_client)
            .filter(|t| agenda::is_for(t, marks.me))
            .count(),
        colleagues: snap
            .tasks
            .iter()
            .filter(open_client)
            .filter(|t| !agenda::is_for(t, marks.me))
            .count(),
    };
    (None, Some(all_done))
}

/// What the home page shows besides its frame.
pub struct HomeInput<'a> {
    /// The portal's tasks and phases.
    pub snap: &'a PortalSnapshot,
    /// The signed-in contact.
    pub contact_name: &'a str,
    /// The tab shown.
    pub tab: Tab,
    /// Today (for due dates).
    pub today: NaiveDate,
    /// The mount prefix.
    pub prefix: &'a str,
    /// Recent activity, newest first.
    pub activity: &'a [portal_core::workflow::ActivityEntry],
    /// The requested documents (read for the Documents tab only; empty otherwise).
    pub documents: &'a [DocumentRow],
    /// Which files may be downloaded.
    pub unscannable: UnscannablePolicy,
    /// Locks and assignments.
    pub marks: PlanMarks<'a>,
    /// The portal's onboarding team.
    pub team: &'a portal_core::model::OnboardingTeam,
    /// Files the MSP shared on the tasks the contact sees (read for the Documents tab
    /// only), with whether this contact opened each.
    pub shared: &'a [portal_core::service::SharedDocument],
}

/// Builds the home page for one tab.
pub fn home(c: Chrome, input: HomeInput<'_>) -> HomePage {
    let zone = c.zone;
    let t = c.t;
    let language = t.language;
    let HomeInput {
        snap,
        contact_name,
        tab,
        today,
        prefix,
        activity,
        documents,
        unscannable,
        marks,
        team,
        shared,
    } = input;
    let progress = Progress::of(&snap.tasks);
    let open = |t: &&Task| t.status != TaskStatus::Completed;
    let is_client = |t: &Task| t.assignee == Side::Client;
    let count = |tab: Tab| -> usize {
        match tab {
            Tab::YourTasks => snap
                .tasks
                .iter()
                .filter(|t| is_client(t))
                .filter(open)
                .count(),
            Tab::OurProgress => 0,
            Tab::Documents => documents_waiting(&snap.tasks),
            // Decisions the client can take now (not blocked or locked).
            Tab::Approvals => snap
                .tasks
                .iter()
                .filter(|t| t.kind.is_approval())
                .filter(|t| {
                    agenda::standing(t, marks.waiting.contains_key(&t.id)) == Standing::ToDo
                })
                .count(),
        }
    };
    let tabs = Tab::ALL
        .iter()
        .map(|&each| {
            let n = count(each);
            TabLink {
                href: format!("{prefix}/?tab={}", each.slug()),
                label: each.label_in(language),
                current: each == tab,
                count_text: match each {
                    _ if n == 0 && each != Tab::OurProgress => None,
                    Tab::YourTasks => Some(t.text_with("tab-count-open", &[("count", n.into())])),
                    Tab::OurProgress => Some(
                        t.text_with("tab-count-done", &[("percent", progress.percent().into())]),
                    ),
                    Tab::Documents => Some(t.text_with("tab-count-upload", &[("count", n.into())])),
                    Tab::Approvals => Some(t.text_with("tab-count-decide", &[("count", n.into())])),
                },
            }
        })
        .collect();
    // The next step tops the landing tab only: the other tabs stay about their subject.
    let (next, all_done) = if tab == Tab::YourTasks {
        next_step(snap, marks, today, prefix, language)
    } else {
        (None, None)
    };
    let (panel_title, panel_intro, empty_text, timeline, phases) = match tab {
        Tab::YourTasks => (
            t.text("panel-tasks-title"),
            Some(t.text("panel-tasks-intro")),
            t.text("panel-tasks-empty"),
            false,
            phases(snap, marks, today, Listing::Client, prefix, language),
        ),
        Tab::OurProgress => (
            t.text("panel-progress-title"),
            Some(t.text("panel-progress-intro")),
            t.text("panel-progress-empty"),
            true,
            phases(snap, marks, today, Listing::Everything, prefix, language),
        ),
        Tab::Documents => (
            t.text("panel-documents-title"),
            Some(t.text("panel-documents-intro")),
            t.text("panel-documents-empty"),
            false,
            Vec::new(),
        ),
        Tab::Approvals => {
            let views = phases(snap, marks, today, Listing::Approvals, prefix, language);
            (
                t.text("panel-approvals-title"),
                Some(t.text("panel-approvals-intro")),
                t.text("panel-approvals-empty"),
                false,
                views,
            )
        }
    };
    HomePage {
        c,
        client: snap.portal.client_name.clone(),
        contact_name: contact_name.to_owned(),
        welcome: snap.portal.branding.welcome_message.clone(),
        percent: progress.percent(),
        completed: progress.completed,
        total: progress.total,
        go_live: snap.portal.target_date.map(|d| day(d, language)),
        next,
        all_done,
        tabs,
        panel_title,
        panel_intro,
        empty_text,
        timeline,
        phases,
        shared: if tab == Tab::Documents {
            shared
                .iter()
                .filter_map(|d| {
                    let task = snap.tasks.iter().find(|t| t.id == d.attachment.task_id)?;
                    Some(super::documents::shared_view(
                        &d.attachment,
                        d.opened,
                        task,
                        prefix,
                        zone,
                        language,
                    ))
                })
                .collect()
        } else {
            Vec::new()
        },
        documents: (tab == Tab::Documents).then(|| {
            let cx = ViewContext {
                prefix,
                policy: unscannable,
                error: None,
                zone,
                language,
            };
            documents
                .iter()
                .filter_map(|row| {
                    let task = snap.tasks.iter().find(|t| t.id == row.task_id)?;
                    Some(document_view(row, task, &cx))
                })
                .collect()
        }),
        nav: PortalNav::new(prefix),
        activity: activity
            .iter()
            .map(|a| ActivityView {
                summary: a.summary_in(language),
                at: task::when_in(a.at, zone, language),
            })
            .collect(),
        team: team_cards(team, prefix),
        questions_href: format!("{prefix}/questions"),
    }
}

/// A guest's home: only the tasks shared with them, under a plain heading naming the
/// MSP; no plan, progress, documents, team, questions or activity.
#[derive(Template)]
#[template(path = "guest_home.html")]
pub struct GuestHomePage {
    /// Frame.
    pub c: Chrome,
    /// Navigation (a guest's: no team, questions or settings).
    pub nav: PortalNav,
    /// Client company.
    pub client: String,
    /// The signed-in guest.
    pub contact_name: String,
    /// The guest's organisation.
    pub organisation: String,
    /// When the guest's access ends, in their zone (zone named).
    pub access_ends: Option<String>,
    /// The shared tasks, as cards.
    pub tasks: Vec<TaskCard>,
}

/// Builds a guest's home from the tasks shared with them (as
/// [`portal_core::PortalService::guest_tasks`] reads them).
pub fn guest_home(
    c: Chrome,
    guest: &portal_core::model::Guest,
    contact_name: &str,
    client: &str,
    tasks: &[Task],
    today: NaiveDate,
    prefix: &str,
) -> GuestHomePage {
    let zone = c.zone;
    let language = c.t.language;
    let company = c.company.clone();
    GuestHomePage {
        nav: PortalNav::for_guest(prefix),
        client: client.to_owned(),
        contact_name: contact_name.to_owned(),
        organisation: guest.organisation.clone(),
        access_ends: guest
            .access_ends_at
            .map(|at| portal_core::wording::local_time_in(at, zone, language)),
        tasks: tasks
            .iter()
            .map(|t| card(t, &company, today, prefix, language))
            .collect(),
        c,
    }
}
