//! The activity feed: every client and MSP action on a portal, who did it and when.
//! Entries are appended in the same unit of work as the change they describe.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::evidence::Actor;
use crate::ids::{PortalId, TaskId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActivityKind {
    /// A task was completed.
    TaskCompleted,
    /// Partial evidence was saved (a form draft).
    ProgressSaved,
    /// A checklist item was checked.
    ItemChecked,
    /// A checklist item was unchecked.
    ItemUnchecked,
    /// An approval was approved.
    Approved,
    /// An approval was rejected.
    Rejected,
    /// A meeting was scheduled.
    MeetingScheduled,
    /// A meeting was moved.
    MeetingRescheduled,
    /// A task was blocked.
    TaskBlocked,
    /// A task was unblocked.
    TaskUnblocked,
    /// A completed task was reopened.
    TaskReopened,
    /// A comment was added to a task.
    Commented,
    /// The client asked a question.
    QuestionAsked,
    /// The MSP answered a question.
    QuestionAnswered,
    /// A file was uploaded for a requested document.
    DocumentUploaded,
    /// An uploaded document was approved.
    DocumentApproved,
    /// An uploaded document was rejected (the detail has the notes).
    DocumentRejected,
    /// The virus scan found malware in an upload; it was quarantined.
    DocumentQuarantined,
    /// An upload was scanned again.
    DocumentScanned,
    /// Staff added a task to the plan.
    TaskAdded,
    /// Staff edited a task (the detail names what changed).
    TaskEdited,
    /// Staff moved a task (within its phase or to another).
    TaskMoved,
    /// Staff deleted a task.
    TaskDeleted,
    /// The last task a task waited for was completed: it can be done now.
    TaskUnlocked,
    /// Staff renamed a phase (the subject is the new name).
    PhaseRenamed,
    /// Staff moved a phase.
    PhaseMoved,
    /// Staff deleted a phase.
    PhaseDeleted,
    /// Staff made the portal's plan from a template (the subject is its name).
    PlanApplied,
    /// The MSP removed a contact from the portal (the subject is their name, kept
    /// here after the contact record is gone).
    ContactRemoved,
    /// The MSP renamed the portal (the subject is the new name).
    PortalRenamed,
    /// The MSP set or cleared the target go-live date (the detail has the date).
    TargetDateSet,
    /// The MSP corrected a contact's name or email (the subject is the new name).
    ContactEdited,
    /// The MSP created the portal (the subject is the client's name).
    PortalCreated,
    /// The MSP changed the portal's status (the subject is the new status).
    PortalStatusChanged,
    /// The MSP changed the portal's branding (the subject is the display name).
    BrandingChanged,
    /// The MSP added a phase to the plan (the subject is its name).
    PhaseAdded,
    /// The MSP added a contact to the portal (the subject is their name). Staff-only.
    ContactAdded,
    /// The MSP sent a contact their invitation email (the subject is their name; never
    /// the link). Staff-only.
    ContactInvited,
    /// The MSP issued an invite link to hand over themselves (the subject is the
    /// contact's name; never the link). Staff-only.
    InviteLinkIssued,
    /// The MSP killed a contact's invite link (the subject is their name). Staff-only.
    InviteRevoked,
    /// The MSP revoked a contact's access (the subject is their name). Staff-only.
    ContactRevoked,
    /// The MSP changed the portal's reminder settings (the subject is the client's
    /// name). Staff-only.
    ReminderSettingsChanged,
    /// The client dropped a file on a secure file drop task (the detail has its name).
    FileDropped,
    /// The client deleted a dropped file (the detail has its name).
    FileDeleted,
    /// MSP staff downloaded a dropped file (the detail has its name).
    FileDownloaded,
    /// A dropped file reached its expiry and its content was removed (the detail has
    /// its name).
    FileExpired,
    /// A contact said they are stuck on a task (the detail has their reason): it now
    /// waits on the MSP.
    StuckReported,
    /// The MSP cleared a stuck report (the detail has its answer, if any).
    StuckCleared,
    /// A contact asked for a new due date (the detail has the date and the reason).
    DueDateRequested,
    /// The MSP granted a requested due date (the detail has the new date).
    DueDateApproved,
    /// The MSP declined a requested due date (the detail has its note).
    DueDateDeclined,
    /// The MSP changed the portal's onboarding team (the subject is the client's
    /// name; the detail lists the members). Staff-only: the client sees the team on
    /// the home page itself.
    TeamChanged,
    /// A contact invited a colleague (the actor is the inviter, the subject the
    /// colleague's name; the detail says whether staff approve first). Staff-only.
    ColleagueInvited,
    /// The MSP approved a colleague a contact invited, and sent their invitation (the
    /// subject is their name). Staff-only.
    ColleagueApproved,
    /// The MSP declined a colleague a contact invited; the contact is removed (the
    /// subject is their name). Staff-only.
    ColleagueDeclined,
    /// A contact took an unassigned client task on.
    TaskClaimed,
    /// A contact handed their task to a colleague (the detail names the colleague and
    /// has the note).
    TaskHandedOff,
    /// The MSP changed whether and how contacts invite colleagues (the detail has the
    /// setting). Staff-only.
    ColleagueInvitationsSet,
    /// The MSP attached a file to a task for the client to open (the detail has its
    /// name and SHA-256).
    AttachmentAdded,
    /// The MSP deleted a file it had attached to a task (the detail has its name).
    AttachmentDeleted,
    /// Staff invited a guest from outside the client company (the subject is the
    /// guest's name, the detail their organisation). Staff-only.
    GuestInvited,
    /// Staff shared a task with a guest (the task is the entry's task, the subject
    /// the guest's name). Staff-only.
    GuestTaskShared,
    /// Staff stopped sharing a task with a guest. Staff-only.
    GuestTaskUnshared,
    /// Staff ended a guest's access (the subject is the guest's name). Staff-only.
    GuestAccessEnded,
    /// Staff started the handover from the client's previous provider: the built-in
    /// phase with its tasks, shared with the outgoing provider's new guest (the
    /// subject is the guest's organisation, the detail the guest's name). Staff-only.
    HandoverStarted,
}

impl ActivityKind {
    /// The verb phrase for the feed ("completed", "checked an item on", ...).
    pub const fn verb(&self) -> &'static str {
        match self {
            Self::TaskCompleted => "completed",
            Self::ProgressSaved => "saved progress on",
            Self::ItemChecked => "checked an item on",
            Self::ItemUnchecked => "unchecked an item on",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::MeetingScheduled => "scheduled",
            Self::MeetingRescheduled => "rescheduled",
            Self::TaskBlocked => "blocked",
            Self::TaskUnblocked => "unblocked",
            Self::TaskReopened => "reopened",
            Self::Commented => "commented on",
            Self::QuestionAsked => "asked a question",
            Self::QuestionAnswered => "answered a question",
            Self::DocumentUploaded => "uploaded a document to",
            Self::DocumentApproved => "approved a document of",
            Self::DocumentRejected => "rejected a document of",
            Self::DocumentQuarantined => "had a document quarantined by the virus scan on",
            Self::DocumentScanned => "scanned a document again on",
            Self::TaskAdded => "added the task",
            Self::TaskEdited => "edited",
            Self::TaskMoved => "moved",
            Self::TaskDeleted => "deleted the task",
            Self::TaskUnlocked => "unlocked",
            Self::PhaseRenamed => "renamed a phase to",
            Self::PhaseMoved => "moved the phase",
            Self::PhaseDeleted => "deleted the phase",
            Self::PlanApplied => "set up the plan from the template",
            Self::ContactRemoved => "removed the contact",
            Self::PortalRenamed => "renamed the portal to",
            Self::TargetDateSet => "changed the target go-live date of",
            Self::ContactEdited => "updated the contact",
            Self::PortalCreated => "created the portal for",
            Self::PortalStatusChanged => "set the portal's status to",
            Self::BrandingChanged => "changed the portal's branding to",
            Self::PhaseAdded => "added the phase",
            Self::ContactAdded => "added the contact",
            Self::ContactInvited => "sent an invitation to",
            Self::InviteLinkIssued => "issued an invite link for",
            Self::InviteRevoked => "revoked the invite of",
            Self::ContactRevoked => "revoked the access of",
            Self::ReminderSettingsChanged => "changed the reminder settings of",
            Self::FileDropped => "dropped a file on",
            Self::FileDeleted => "deleted a dropped file of",
            Self::FileDownloaded => "downloaded a dropped file of",
            Self::FileExpired => "removed an expired file of",
            Self::StuckReported => "is stuck on",
            Self::StuckCleared => "answered and cleared the stuck report on",
            Self::DueDateRequested => "asked for a new due date for",
            Self::DueDateApproved => "approved a new due date for",
            Self::DueDateDeclined => "declined a new due date for",
            Self::TeamChanged => "changed the onboarding team of",
            Self::ColleagueInvited => "invited their colleague",
            Self::ColleagueApproved => "approved the invited colleague",
            Self::ColleagueDeclined => "declined the invited colleague",
            Self::TaskClaimed => "took on",
            Self::TaskHandedOff => "handed on",
            Self::ColleagueInvitationsSet => "changed who may invite colleagues to",
            Self::AttachmentAdded => "shared a document on",
            Self::AttachmentDeleted => "removed a shared document from",
            Self::GuestInvited => "invited the guest",
            Self::GuestTaskShared => "shared a task with the guest",
            Self::GuestTaskUnshared => "stopped sharing a task with the guest",
            Self::GuestAccessEnded => "ended the access of the guest",
            Self::HandoverStarted => "started the handover from the previous provider",
        }
    }

    /// Whether only staff see entries of this kind: setting the portal up and managing
    /// who has access is the MSP's business, and a client reading "revoked the access
    /// of Ann" or "issued an invite link" in their own feed learns about other people's
    /// access (the client's feed drops them; see
    /// [`client_feed`](crate::workflow::plan::client_feed)). Tasks and phases added are
    /// staff-only too: building a plan writes one per task, which would bury the
    /// client's feed under setup lines before they ever sign in; the client sees a new
    /// task in the plan itself, and is emailed when it is theirs.
    pub const fn is_staff_only(&self) -> bool {
        matches!(
            self,
            Self::PortalCreated
                | Self::ContactAdded
                | Self::ContactInvited
                | Self::InviteLinkIssued
                | Self::InviteRevoked
                | Self::ContactRevoked
                | Self::ReminderSettingsChanged
                | Self::TaskAdded
                | Self::PhaseAdded
                | Self::TeamChanged
                | Self::ColleagueInvited
                | Self::ColleagueApproved
                | Self::ColleagueDeclined
                | Self::ColleagueInvitationsSet
                | Self::GuestInvited
                | Self::GuestTaskShared
                | Self::GuestTaskUnshared
                | Self::GuestAccessEnded
                | Self::HandoverStarted
        )
    }
}

/// One entry of a portal's activity feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// The portal.
    pub portal_id: PortalId,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What.
    pub kind: ActivityKind,
    /// The task it concerns, if any.
    pub task_id: Option<TaskId>,
    /// The task's title (or a question's first words) at the time, for the feed.
    pub subject: String,
    /// Extra detail (the checked item, the block reason, ...), plain text.
    pub detail: Option<String>,
}

impl ActivityEntry {
    /// One line for people: "Dana Whitfield completed “Sign the agreement”".
    pub fn summary(&self) -> String {
        let who = self.actor.name();
        let verb = self.kind.verb();
        match self.kind {
            ActivityKind::QuestionAsked | ActivityKind::QuestionAnswered => {
                format!("{who} {verb}: “{}”", self.subject)
            }
            // Nobody unlocks a task by hand: the entry says it is ready, and why.
            ActivityKind::TaskUnlocked => {
                format!(
                    "“{}” is ready: everything it waited for is done",
                    self.subject
                )
            }
            _ => format!("{who} {verb} “{}”", self.subject),
        }
    }

    /// [`Self::summary`] in `language`, from the message catalog (the English
    /// catalog reads exactly as [`Self::summary`]): the feed line a client reads.
    pub fn summary_in(&self, language: crate::i18n::Language) -> String {
        crate::i18n::message(
            language,
            "activity-line",
            &[
                ("kind", format!("{:?}", self.kind).into()),
                ("who", self.actor.name().into()),
                ("subject", self.subject.as_str().into()),
            ],
        )
    }
}

#[cfg(test)]
mod catalog_tests {
    use super::*;
    use crate::i18n::Language;

    /// The catalog's English line of every kind is the summary's, word for word (so
    /// the pages read as before), and every kind has its own Spanish line (not the
    /// catch-all).
    #[test]
    fn every_kind_has_its_line_in_both_languages() {
        // Every variant, read from `verb`'s match arms (the one exhaustive list).
        let source = include_str!("activity.rs");
        let verbs = &source[source.find("pub const fn verb").unwrap()
            ..source.find("pub const fn is_staff_only").unwrap()];
        let kinds: Vec<ActivityKind> = verbs
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Self::"))
            .filter_map(|l| l.split(' ').next())
            .map(|name| {
                let mut snake = String::new();
                for (i, ch) in name.chars().enumerate() {
                    if ch.is_uppercase() && i > 0 {
                        snake.push('_');
                    }
                    snake.push(ch.to_ascii_lowercase());
                }
                serde_json::from_str(&format!("\"{snake}\"")).unwrap()
            })
            .collect();
        assert!(kinds.len() > 60, "{}", kinds.len());
        for kind in &kinds {
            let e = ActivityEntry {
                portal_id: PortalId::from_uuid(uuid::Uuid::from_u128(1)),
                at: Utc::now(),
                actor: Actor::Staff {
                    name: "Sam".into(),
                    email: None,
                },
                kind: *kind,
                task_id: None,
                subject: "X".into(),
                detail: None,
            };
            assert_eq!(e.summary_in(Language::En), e.summary(), "{kind:?}");
            let es = e.summary_in(Language::Es);
            assert!(
                !es.starts_with("Sam: "),
                "{kind:?} falls to the catch-all: {es}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;

    fn entry(kind: ActivityKind) -> ActivityEntry {
        ActivityEntry {
            portal_id: PortalId::from_uuid(Uuid::from_u128(1)),
            at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
            actor: Actor::Staff {
                name: "Sam Tech".into(),
                email: None,
            },
            kind,
            task_id: None,
            subject: "Sign the agreement".into(),
            detail: None,
        }
    }

    #[test]
    fn every_kind_has_its_verb() {
        use ActivityKind::*;
        let verbs: Vec<&str> = [
            TaskCompleted,
            ProgressSaved,
            ItemChecked,
            ItemUnchecked,
            Approved,
            Rejected,
            MeetingScheduled,
            MeetingRescheduled,
            TaskBlocked,
            TaskUnblocked,
            TaskReopened,
            Commented,
            QuestionAsked,
            QuestionAnswered,
            DocumentUploaded,
            DocumentApproved,
            DocumentRejected,
            DocumentQuarantined,
            DocumentScanned,
            TaskAdded,
            TaskEdited,
            TaskMoved,
            TaskDeleted,
            TaskUnlocked,
            PhaseRenamed,
            PhaseMoved,
            PhaseDeleted,
            PlanApplied,
        ]
        .iter()
        .map(ActivityKind::verb)
        .collect();
        assert_eq!(
            verbs,
            [
                "completed",
                "saved progress on",
                "checked an item on",
                "unchecked an item on",
                "approved",
                "rejected",
                "scheduled",
                "rescheduled",
                "blocked",
                "unblocked",
                "reopened",
                "commented on",
                "asked a question",
                "answered a question",
                "uploaded a document to",
                "approved a document of",
                "rejected a document of",
                "had a document quarantined by the virus scan on",
                "scanned a document again on",
                "added the task",
                "edited",
                "moved",
                "deleted the task",
                "unlocked",
                "renamed a phase to",
                "moved the phase",
                "deleted the phase",
                "set up the plan from the template",
            ]
        );
    }

    #[test]
    fn summaries_name_who_did_what_to_which_task() {
        assert_eq!(
            entry(ActivityKind::TaskCompleted).summary(),
            "Sam Tech completed “Sign the agreement”"
        );
        assert_eq!(
            entry(ActivityKind::QuestionAsked).summary(),
            "Sam Tech asked a question: “Sign the agreement”"
        );
        assert_eq!(
            entry(ActivityKind::QuestionAnswered).summary(),
            "Sam Tech answered a question: “Sign the agreement”"
        );
    }
}
