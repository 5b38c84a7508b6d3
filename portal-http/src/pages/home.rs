//! The portal home: its four tabs, the task cards grouped by phase, and the
//! activity feed.

use std::collections::BTreeMap;

use askama::Template;
use chrono::{NaiveDate, TimeDelta};
use portal_core::model::{PhaseStatus, PortalSnapshot, Progress, Side, Task, TaskKind, TaskStatus};
use portal_core::scan::UnscannablePolicy;
use portal_core::workflow::DocumentStatus;
use portal_core::workflow::documents::{DocumentRow, may_upload};
use portal_core::{ContactId, TaskId};

use super::documents::{DocumentView, ViewContext, document_view, status_slug as doc_slug};
use super::{Chrome, PortalNav, task};

/// The four tabs of the portal home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The tab's label.
    pub const fn label(self) -> &'static str {
        match self {
            Tab::YourTasks => "Your Tasks",
            Tab::OurProgress => "Our Progress",
            Tab::Documents => "Documents",
            Tab::Approvals => "Approvals",
        }
    }
}

/// A tab link.
#[derive(Debug, Clone)]
pub struct TabLink {
    /// Target.
    pub href: String,
    /// Label.
    pub label: &'static str,
    /// Whether it is the shown tab.
    pub current: bool,
    /// Open items in it (0 hides the counter).
    pub count: usize,
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
    pub badge: &'static str,
    /// Whether the client does it (MSP tasks show no action badge).
    pub client: bool,
    /// An approval's outcome: `(css slug, label)`.
    pub outcome: Option<(&'static str, &'static str)>,
    /// Status CSS slug.
    pub status_slug: &'static str,
    /// Status words.
    pub status_label: &'static str,
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
    pub documents: Vec<(String, &'static str, &'static str)>,
    /// What it still waits for ("Set up the firewall, a step by Northwind IT"): it is
    /// locked until then.
    pub waiting_for: Option<String>,
    /// "Assigned to you" or "Assigned to Ann Lee", for a task for some contacts only.
    pub assigned: Option<String>,
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
    pub fn mark(&self, card: &mut TaskCard, task: &Task) {
        card.waiting_for = self.waiting.get(&task.id).map(|w| w.join(", "));
        card.assigned = match task.assigned_to.as_slice() {
            [] => None,
            some if some.contains(&self.me) => Some("Assigned to you".to_owned()),
            some => {
                let names: Vec<&str> = some
                    .iter()
                    .filter_map(|c| self.names.get(c).map(String::as_str))
                    .collect();
                Some(if names.is_empty() {
                    "Assigned to a colleague".to_owned()
                } else {
                    format!("Assigned to {}", names.join(", "))
                })
            }
        };
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
    pub status_label: &'static str,
    /// Whether this is the current phase (the first not completed).
    pub current: bool,
    /// Its cards.
    pub tasks: Vec<TaskCard>,
}

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
    /// Tab links.
    pub tabs: Vec<TabLink>,
    /// Panel heading.
    pub panel_title: &'static str,
    /// Panel explanation.
    pub panel_intro: Option<&'static str>,
    /// Shown when nothing is listed.
    pub empty_text: &'static str,
    /// Render phases as a timeline (Our Progress).
    pub timeline: bool,
    /// Phases with their cards.
    pub phases: Vec<PhaseView>,
    /// The Documents tab: every requested document (`None` on the other tabs).
    pub documents: Option<Vec<DocumentView>>,
    /// Navigation.
    pub nav: PortalNav,
    /// Recent activity, newest first.
    pub activity: Vec<ActivityView>,
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

pub(crate) fn card(task: &Task, company: &str, today: NaiveDate) -> TaskCard {
    let done = task.status == TaskStatus::Completed;
    let (overdue, due_soon) = match task.due_date {
        Some(d) if !done => (
            d < today,
            d >= today && d - today <= TimeDelta::days(DUE_SOON_DAYS),
        ),
        _ => (false, false),
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
                (d.name.clone(), doc_slug(status), status.label())
            })
            .collect(),
        _ => Vec::new(),
    };
    TaskCard {
        id: task.id.to_string(),
        href: format!("tasks/{}", task.id),
        title: task.title.clone(),
        description: task.description.clone(),
        badge: task.kind.badge(),
        client: task.assignee == Side::Client,
        outcome: task.evidence.decision.as_ref().map(|d| {
            if d.approved {
                ("approved", "Approved")
            } else {
                ("rejected", "Rejected")
            }
        }),
        status_slug: status_slug(task.status),
        status_label: task.status.label(),
        side_label: match task.assignee {
            Side::Client => "You".to_owned(),
            Side::Msp => company.to_owned(),
        },
        due: task.due_date.map(|d| d.format("%a %-d %b %Y").to_string()),
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
    }
}

/// Groups the snapshot's tasks by phase, keeping those `keep` selects; phases left
/// without tasks are dropped unless `keep_empty`.
fn phases(
    snap: &PortalSnapshot,
    marks: PlanMarks<'_>,
    today: NaiveDate,
    keep: impl Fn(&Task) -> bool,
    keep_empty: bool,
) -> Vec<PhaseView> {
    let company = snap.portal.branding.company_name.as_str();
    let mut current_found = false;
    snap.phases
        .iter()
        .filter_map(|phase| {
            let all: Vec<&Task> = snap
                .tasks
                .iter()
                .filter(|t| t.phase_id == phase.id)
                .collect();
            let status = PhaseStatus::of(all.iter().copied());
            let current = !current_found && status != PhaseStatus::Completed;
            current_found |= current;
            let tasks: Vec<TaskCard> = all
                .iter()
                .filter(|t| keep(t))
                .map(|t| {
                    let mut c = card(t, company, today);
                    marks.mark(&mut c, t);
                    c
                })
                .collect();
            (keep_empty || !tasks.is_empty()).then(|| PhaseView {
                name: phase.name.clone(),
                status_slug: phase_slug(status),
                status_label: status.label(),
                current,
                tasks,
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
}

/// Builds the home page for one tab.
pub fn home(c: Chrome, input: HomeInput<'_>) -> HomePage {
    let zone = c.zone;
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
            Tab::Approvals => snap
                .tasks
                .iter()
                .filter(|t| t.kind.is_approval())
                .filter(open)
                .count(),
        }
    };
    let tabs = Tab::ALL
        .iter()
        .map(|&t| TabLink {
            href: format!("{prefix}/?tab={}", t.slug()),
            label: t.label(),
            current: t == tab,
            count: count(t),
        })
        .collect();
    let (panel_title, panel_intro, empty_text, timeline, phases) = match tab {
        Tab::YourTasks => (
            "Your tasks",
            Some("What we need from you, phase by phase."),
            "There is nothing for you to do right now.",
            false,
            phases(snap, marks, today, is_client, false),
        ),
        Tab::OurProgress => (
            "Our progress",
            Some("The whole onboarding plan: our tasks and yours, phase by phase."),
            "The onboarding plan is still being prepared.",
            true,
            phases(snap, marks, today, |_| true, true),
        ),
        Tab::Documents => (
            "Documents",
            Some(
                "Every document we asked for and where it stands. Upload from the document's task.",
            ),
            "No documents have been requested.",
            false,
            Vec::new(),
        ),
        Tab::Approvals => {
            // Pending decisions first, then decided ones.
            let mut views = phases(snap, marks, today, |t| t.kind.is_approval(), false);
            for v in &mut views {
                v.tasks.sort_by_key(|t| t.status_slug == "completed");
            }
            (
                "Approvals",
                Some("Decisions we need from you: pending ones first."),
                "No approvals are needed.",
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
        tabs,
        panel_title,
        panel_intro,
        empty_text,
        timeline,
        phases,
        documents: (tab == Tab::Documents).then(|| {
            let cx = ViewContext {
                prefix,
                policy: unscannable,
                error: None,
                zone,
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
                summary: a.summary(),
                at: task::when(a.at, zone),
            })
            .collect(),
    }
}
