//! The ten task types of the spec, each with its own settings, and the badge that
//! tells the client what evidence a task needs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{clean_label, clean_text};

/// A task's type and that type's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TaskKind {
    /// "Mark Complete", optionally with notes.
    Standard,
    /// A meeting the MSP schedules.
    Meeting {
        /// When it takes place, once scheduled.
        schedule: Option<MeetingSchedule>,
    },
    /// Documents the client uploads for review.
    DocumentUpload {
        /// What is requested.
        documents: Vec<RequestedDocument>,
    },
    /// A drawn signature on an optional document.
    Signature {
        /// The document to review and sign, if any.
        document: Option<DocumentRef>,
    },
    /// Credentials handed to the MSP, encrypted.
    CredentialHandoff {
        /// Whether an API key field is shown.
        api_key: bool,
    },
    /// Sensitive files with time-based expiration.
    SecureFileDrop {
        /// Days a dropped file stays downloadable.
        expires_after_days: u32,
    },
    /// A video to watch.
    Training {
        /// The video's URL (YouTube, Vimeo or Loom).
        video_url: String,
    },
    /// A form of questions.
    Survey {
        /// The questions, in order.
        questions: Vec<Question>,
    },
    /// Items to check off.
    Checklist {
        /// The items, in order.
        items: Vec<ChecklistItem>,
    },
    /// A formal approve/reject decision.
    Approval {
        /// A supporting document to review, if any.
        document: Option<DocumentRef>,
    },
}

impl TaskKind {
    /// Stable machine name of the type.
    pub const fn slug(&self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Meeting { .. } => "meeting",
            Self::DocumentUpload { .. } => "document_upload",
            Self::Signature { .. } => "signature",
            Self::CredentialHandoff { .. } => "credential_handoff",
            Self::SecureFileDrop { .. } => "secure_file_drop",
            Self::Training { .. } => "training",
            Self::Survey { .. } => "survey",
            Self::Checklist { .. } => "checklist",
            Self::Approval { .. } => "approval",
        }
    }

    /// The evidence-type badge: what action the task needs, in the client's words.
    pub const fn badge(&self) -> &'static str {
        match self {
            Self::Standard => "Mark complete",
            Self::Meeting { .. } => "Meeting",
            Self::DocumentUpload { .. } => "Document upload",
            Self::Signature { .. } => "Signature",
            Self::CredentialHandoff { .. } => "Credentials",
            Self::SecureFileDrop { .. } => "Secure file drop",
            Self::Training { .. } => "Training video",
            Self::Survey { .. } => "Form",
            Self::Checklist { .. } => "Checklist",
            Self::Approval { .. } => "Approval",
        }
    }

    /// Whether the task's evidence is a file (it shows on the Documents tab).
    pub const fn is_document(&self) -> bool {
        matches!(self, Self::DocumentUpload { .. })
    }

    /// Whether the task is a formal decision (it shows on the Approvals tab).
    pub const fn is_approval(&self) -> bool {
        matches!(self, Self::Approval { .. })
    }

    /// Checks the settings an MSP gave when creating the task.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Standard | Self::CredentialHandoff { .. } => Ok(()),
            Self::Meeting { schedule } => {
                schedule.as_ref().map_or(Ok(()), MeetingSchedule::validate)
            }
            Self::DocumentUpload { documents } => {
                if documents.is_empty() || documents.len() > 50 {
                    return Err(Error::invalid(
                        "documents",
                        "request between 1 and 50 documents",
                    ));
                }
                for d in documents {
                    clean_label("document name", &d.name, 200)?;
                }
                Ok(())
            }
            Self::Signature { document } | Self::Approval { document } => {
                document.as_ref().map_or(Ok(()), |d| {
                    clean_label("document name", &d.name, 200).map(|_| ())
                })
            }
            Self::SecureFileDrop { expires_after_days } => {
                if (1..=365).contains(expires_after_days) {
                    Ok(())
                } else {
                    Err(Error::invalid(
                        "expires after days",
                        "must be between 1 and 365",
                    ))
                }
            }
            Self::Training { video_url } => {
                crate::workflow::video::parse_video_url(video_url).map(|_| ())
            }
            Self::Survey { questions } => {
                if questions.is_empty() || questions.len() > 100 {
                    return Err(Error::invalid(
                        "questions",
                        "a form needs between 1 and 100 questions",
                    ));
                }
                let mut ids = std::collections::HashSet::new();
                for q in questions {
                    q.validate()?;
                    if !ids.insert(q.id.as_str()) {
                        return Err(Error::invalid(
                            "questions",
                            format!("question id {:?} is used twice", q.id),
                        ));
                    }
                }
                Ok(())
            }
            Self::Checklist { items } => {
                if items.is_empty() || items.len() > 200 {
                    return Err(Error::invalid(
                        "items",
                        "a checklist needs between 1 and 200 items",
                    ));
                }
                let mut ids = std::collections::HashSet::new();
                for i in items {
                    clean_label("checklist item", &i.label, 300)?;
                    if !ids.insert(i.id.as_str()) {
                        return Err(Error::invalid(
                            "items",
                            format!("item id {:?} is used twice", i.id),
                        ));
                    }
                }
                Ok(())
            }
        }
    }
}

/// When and where a meeting takes place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingSchedule {
    /// Start instant.
    pub starts_at: DateTime<Utc>,
    /// IANA time zone the meeting is presented in, e.g. `America/New_York`.
    pub time_zone: String,
    /// Length in minutes.
    pub duration_minutes: u32,
    /// Where to join (http/https), if given.
    pub meeting_url: Option<String>,
    /// What will be discussed.
    pub agenda: Option<String>,
    /// Times it was rescheduled: the calendar file's `SEQUENCE`. Set by the workflow.
    #[serde(default)]
    pub sequence: u32,
    /// When this schedule was made: the calendar file's `DTSTAMP`. Set by the workflow.
    #[serde(default)]
    pub revised_at: Option<DateTime<Utc>>,
}

impl MeetingSchedule {
    /// A schedule as the MSP gives it (sequence and revision time are set when saved).
    pub fn new(
        starts_at: DateTime<Utc>,
        time_zone: &str,
        duration_minutes: u32,
        meeting_url: Option<&str>,
        agenda: Option<&str>,
    ) -> Self {
        Self {
            starts_at,
            time_zone: time_zone.trim().to_owned(),
            duration_minutes,
            meeting_url: meeting_url
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty()),
            agenda: agenda
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty()),
            sequence: 0,
            revised_at: None,
        }
    }

    /// The IANA time zone the meeting is shown in.
    pub fn tz(&self) -> Result<chrono_tz::Tz> {
        self.time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
            Error::invalid(
                "time zone",
                "use an IANA time zone name such as America/Chicago or Europe/London",
            )
        })
    }

    /// Checks the schedule the MSP gave.
    pub fn validate(&self) -> Result<()> {
        if !(5..=24 * 60).contains(&self.duration_minutes) {
            return Err(Error::invalid(
                "duration",
                "must be between 5 minutes and 24 hours",
            ));
        }
        self.tz()?;
        if let Some(url) = &self.meeting_url {
            let ok = url::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
            if !ok || url.len() > 2000 {
                return Err(Error::invalid(
                    "meeting url",
                    "must be a web address starting with https:// or http://",
                ));
            }
        }
        if let Some(agenda) = &self.agenda {
            clean_text("agenda", agenda, 4000)?;
        }
        Ok(())
    }
}

/// A document the MSP asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedDocument {
    /// Stable id within the task.
    pub id: String,
    /// What the document is, e.g. "Network diagram".
    pub name: String,
}

/// A document attached to a task for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    /// Its display name.
    pub name: String,
}

/// One question of a survey/form task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Stable id within the task.
    pub id: String,
    /// The question text.
    pub prompt: String,
    /// Whether an answer is required.
    pub required: bool,
    /// The answer type.
    pub kind: QuestionKind,
}

impl Question {
    fn validate(&self) -> Result<()> {
        clean_label("question id", &self.id, 64)?;
        clean_label("question", &self.prompt, 500)?;
        match &self.kind {
            QuestionKind::ShortText { max_len } | QuestionKind::LongText { max_len } => {
                if *max_len == 0 || *max_len > 20_000 {
                    return Err(Error::invalid("max length", "must be between 1 and 20000"));
                }
            }
            QuestionKind::SingleSelect { choices } | QuestionKind::MultiSelect { choices } => {
                if choices.len() < 2 || choices.len() > 50 {
                    return Err(Error::invalid("choices", "offer between 2 and 50 choices"));
                }
                for c in choices {
                    clean_label("choice", c, 200)?;
                }
            }
            QuestionKind::Rating { min, max } => {
                if min >= max || max - min > 100 {
                    return Err(Error::invalid(
                        "rating range",
                        "min must be below max, at most 100 apart",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Answer types of a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// One line of text.
    ShortText {
        /// Longest accepted answer, in characters.
        max_len: u32,
    },
    /// Several lines of text.
    LongText {
        /// Longest accepted answer, in characters.
        max_len: u32,
    },
    /// Exactly one of the choices.
    SingleSelect {
        /// The choices, in order.
        choices: Vec<String>,
    },
    /// Any of the choices.
    MultiSelect {
        /// The choices, in order.
        choices: Vec<String>,
    },
    /// A whole number in a range, e.g. 1–5 or 0–10.
    Rating {
        /// Lowest rating.
        min: i32,
        /// Highest rating.
        max: i32,
    },
}

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// Stable id within the task.
    pub id: String,
    /// What to do.
    pub label: String,
}
