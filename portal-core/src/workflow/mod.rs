//! The task workflow: completing each task type, statuses, comments, questions, the
//! activity feed, meeting invites and training videos, "I'm stuck" reports and
//! due-date change requests.

pub mod actions;
pub mod activity;
pub mod agenda;
pub mod conversation;
pub mod documents;
pub mod due_dates;
pub mod evidence;
pub mod guests;
pub mod handover;
pub mod ics;
pub mod plan;
pub mod stuck;
pub mod survey;
pub mod team;
pub mod template;
pub mod video;

pub use actions::{TaskAction, TaskChange, apply};
pub use activity::{ActivityEntry, ActivityKind};
pub use conversation::{ClientQuestion, Comment, QuestionAddressee, QuestionAnswer};
pub use documents::{DocumentChange, DocumentFile, DocumentStatus, FileReview};
pub use evidence::{Actor, ApprovalDecision, CheckMark, Completion, TaskEvidence};
