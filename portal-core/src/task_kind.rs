//! The ten task types of the spec, each with its own settings, and the badge that
//! tells the client what evidence a task needs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{clean_label, clean_text};

/// How many days a dropped file stays downloadable when the task does not say: the
/// spec's "default 7 days".
pub const DEFAULT_DROP_EXPIRY_DAYS: u32 = 7;

fn default_drop_expiry_days() -> u32 {
    DEFAULT_DROP_EXPIRY_DAYS
}

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
        /// The MSP's own consent statement for this task; `None`: the default, in
        /// the signer's language ([`crate::signatures::consent_text`]). Per task,
        /// because the wording usually depends on what is signed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consent: Option<String>,
    },
    /// Credentials handed to the MSP, encrypted.
    CredentialHandoff {
        /// Whether an API key field is shown.
        api_key: bool,
    },
    /// Sensitive files with time-based expiration.
    SecureFileDrop {
        /// Days a dropped file stays downloadable (1 to 365). Left out of a task's
        /// JSON, it is [`DEFAULT_DROP_EXPIRY_DAYS`](crate::model::DEFAULT_DROP_EXPIRY_DAYS),
        /// the spec's default.
        #[serde(default = "default_drop_expiry_days")]
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

    /// [`Self::badge`] in `language`, from the message catalog.
    pub fn badge_in(&self, language: crate::i18n::Language) -> String {
        crate::i18n::message(language, "task-badge", &[("kind", self.slug().into())])
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
                let mut ids = std::collections::BTreeSet::new();
                for d in documents {
                    d.validate()?;
                    if !ids.insert(d.id.as_str()) {
                        return Err(Error::invalid(
                            "documents",
                            format!("two documents have the id {:?}: ids must differ", d.id),
                        ));
                    }
                }
                Ok(())
            }
            Self::Signature { document, consent } => {
                if let Some(c) = consent {
                    crate::signatures::check_consent_wording(c)?;
                }
                document.as_ref().map_or(Ok(()), |d| {
                    clean_label("document name", &d.name, 200).map(|_| ())
                })
            }
            Self::Approval { document } => document.as_ref().map_or(Ok(()), |d| {
                clean_label("document name", &d.name, 200).map(|_| ())
            }),
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
    /// What is wanted, in the MSP's words ("the current one, as exported from Visio").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The kinds of file accepted, judged by content; empty accepts every kind the
    /// portal knows ([`crate::files::FileType`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<crate::files::FileType>,
    /// The largest file accepted, in bytes; `None` is
    /// [`crate::workflow::documents::DEFAULT_MAX_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

impl RequestedDocument {
    /// A request for `name` with id `id`, any known type, the default size limit.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            note: None,
            accept: Vec::new(),
            max_bytes: None,
        }
    }

    /// The size limit that applies to this document.
    pub fn limit(&self) -> u64 {
        self.max_bytes
            .unwrap_or(crate::workflow::documents::DEFAULT_MAX_BYTES)
    }

    fn validate(&self) -> Result<()> {
        clean_label("document id", &self.id, 64)?;
        clean_label("document name", &self.name, 200)?;
        if let Some(note) = &self.note {
            crate::model::clean_text("document note", note, 1000)?;
        }
        if let Some(max) = self.max_bytes
            && !(1..=crate::workflow::documents::MAX_UPLOAD_BYTES).contains(&max)
        {
            return Err(Error::invalid(
                "document size limit",
                format!(
                    "must be between 1 byte and {} bytes",
                    crate::workflow::documents::MAX_UPLOAD_BYTES
                ),
            ));
        }
        Ok(())
    }
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
        if self.id.trim() == crate::workflow::survey::FORM_KEY {
            return Err(Error::invalid(
                "question id",
                format!(
                    "{:?} is reserved for messages about the whole form: choose another id",
                    crate::workflow::survey::FORM_KEY
                ),
            ));
        }
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
                // Widened: `max - min` of two i32 can overflow.
                if min >= max || i64::from(*max) - i64::from(*min) > 100 {
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn invalid(r: Result<()>) -> &'static str {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    fn docs(n: usize) -> TaskKind {
        TaskKind::DocumentUpload {
            documents: (0..n)
                .map(|i| RequestedDocument::new(format!("d{i}"), format!("Document {i}")))
                .collect(),
        }
    }

    fn items(n: usize) -> TaskKind {
        TaskKind::Checklist {
            items: (0..n)
                .map(|i| ChecklistItem {
                    id: format!("i{i}"),
                    label: format!("Item {i}"),
                })
                .collect(),
        }
    }

    fn question(id: &str, kind: QuestionKind) -> Question {
        Question {
            id: id.into(),
            prompt: format!("Question {id}?"),
            required: false,
            kind,
        }
    }

    fn questions(n: usize) -> TaskKind {
        TaskKind::Survey {
            questions: (0..n)
                .map(|i| question(&format!("q{i}"), QuestionKind::ShortText { max_len: 10 }))
                .collect(),
        }
    }

    fn one_question(kind: QuestionKind) -> Result<()> {
        TaskKind::Survey {
            questions: vec![question("q", kind)],
        }
        .validate()
    }

    fn every_kind() -> Vec<TaskKind> {
        vec![
            TaskKind::Standard,
            TaskKind::Meeting { schedule: None },
            docs(1),
            TaskKind::Signature {
                document: None,
                consent: None,
            },
            TaskKind::CredentialHandoff { api_key: false },
            TaskKind::SecureFileDrop {
                expires_after_days: 30,
            },
            TaskKind::Training {
                video_url: "https://youtu.be/dQw4w9WgXcQ".into(),
            },
            questions(1),
            items(1),
            TaskKind::Approval { document: None },
        ]
    }

    #[test]
    fn each_type_has_its_slug_and_badge() {
        let got: Vec<(&str, &str)> = every_kind().iter().map(|k| (k.slug(), k.badge())).collect();
        assert_eq!(
            got,
            [
                ("standard", "Mark complete"),
                ("meeting", "Meeting"),
                ("document_upload", "Document upload"),
                ("signature", "Signature"),
                ("credential_handoff", "Credentials"),
                ("secure_file_drop", "Secure file drop"),
                ("training", "Training video"),
                ("survey", "Form"),
                ("checklist", "Checklist"),
                ("approval", "Approval"),
            ]
        );
        for k in every_kind() {
            // The slug is the serde tag, so stored tasks read back as the same type.
            let json = serde_json::to_value(&k).unwrap();
            assert_eq!(json["type"], k.slug());
            assert!(k.validate().is_ok(), "{k:?}");
        }
    }

    #[test]
    fn only_uploads_are_documents_and_only_approvals_are_approvals() {
        let documents: Vec<&str> = every_kind()
            .iter()
            .filter(|k| k.is_document())
            .map(TaskKind::slug)
            .collect();
        assert_eq!(documents, ["document_upload"]);
        let approvals: Vec<&str> = every_kind()
            .iter()
            .filter(|k| k.is_approval())
            .map(TaskKind::slug)
            .collect();
        assert_eq!(approvals, ["approval"]);
    }

    #[test]
    fn document_requests_are_bounded_and_named() {
        assert_eq!(invalid(docs(0).validate()), "documents");
        assert!(docs(1).validate().is_ok());
        assert!(docs(50).validate().is_ok());
        assert_eq!(invalid(docs(51).validate()), "documents");
        let unnamed = TaskKind::DocumentUpload {
            documents: vec![RequestedDocument::new("d", "  ")],
        };
        assert_eq!(invalid(unnamed.validate()), "document name");
        for kind in [
            TaskKind::Signature {
                document: Some(DocumentRef { name: " ".into() }),
                consent: None,
            },
            TaskKind::Approval {
                document: Some(DocumentRef {
                    name: "x".repeat(201),
                }),
            },
        ] {
            assert_eq!(invalid(kind.validate()), "document name");
        }
        assert!(
            TaskKind::Approval {
                document: Some(DocumentRef {
                    name: "Proposal".into()
                })
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn a_file_drop_without_its_days_expires_after_seven() {
        let kind: TaskKind = serde_json::from_str(r#"{"type":"secure_file_drop"}"#).unwrap();
        assert_eq!(
            kind,
            TaskKind::SecureFileDrop {
                expires_after_days: 7
            }
        );
        let kind: TaskKind =
            serde_json::from_str(r#"{"type":"secure_file_drop","expires_after_days":2}"#).unwrap();
        assert_eq!(
            kind,
            TaskKind::SecureFileDrop {
                expires_after_days: 2
            }
        );
    }

    #[test]
    fn file_drops_expire_after_one_day_to_a_year() {
        let drop = |d| TaskKind::SecureFileDrop {
            expires_after_days: d,
        };
        assert_eq!(invalid(drop(0).validate()), "expires after days");
        assert!(drop(1).validate().is_ok());
        assert!(drop(365).validate().is_ok());
        assert_eq!(invalid(drop(366).validate()), "expires after days");
    }

    #[test]
    fn training_needs_a_supported_video() {
        let training = |u: &str| TaskKind::Training {
            video_url: u.into(),
        };
        assert!(training("https://vimeo.com/76979871").validate().is_ok());
        assert_eq!(
            invalid(training("https://example.com/v.mp4").validate()),
            "video url"
        );
    }

    #[test]
    fn forms_have_one_to_a_hundred_distinct_valid_questions() {
        assert_eq!(invalid(questions(0).validate()), "questions");
        assert!(questions(100).validate().is_ok());
        assert_eq!(invalid(questions(101).validate()), "questions");
        let twice = TaskKind::Survey {
            questions: vec![
                question("same", QuestionKind::ShortText { max_len: 5 }),
                question("same", QuestionKind::LongText { max_len: 5 }),
            ],
        };
        assert_eq!(invalid(twice.validate()), "questions");
        assert_eq!(
            invalid(one_question(QuestionKind::ShortText { max_len: 0 })),
            "max length"
        );
        let no_id = TaskKind::Survey {
            questions: vec![question(" ", QuestionKind::ShortText { max_len: 5 })],
        };
        assert_eq!(invalid(no_id.validate()), "question id");
        // The form-wide message's key can't be a question's id too.
        let reserved = TaskKind::Survey {
            questions: vec![question("_form", QuestionKind::ShortText { max_len: 5 })],
        };
        assert_eq!(invalid(reserved.validate()), "question id");
        let mut no_prompt = question("q", QuestionKind::ShortText { max_len: 5 });
        no_prompt.prompt = String::new();
        assert_eq!(
            invalid(
                TaskKind::Survey {
                    questions: vec![no_prompt]
                }
                .validate()
            ),
            "question"
        );
    }

    #[test]
    fn text_questions_allow_one_to_twenty_thousand_characters() {
        for make in [
            (|n| QuestionKind::ShortText { max_len: n }) as fn(u32) -> QuestionKind,
            |n| QuestionKind::LongText { max_len: n },
        ] {
            assert_eq!(invalid(one_question(make(0))), "max length");
            assert!(one_question(make(1)).is_ok());
            assert!(one_question(make(20_000)).is_ok());
            assert_eq!(invalid(one_question(make(20_001))), "max length");
        }
    }

    #[test]
    fn select_questions_offer_two_to_fifty_named_choices() {
        let choices = |n: usize| (0..n).map(|i| format!("Choice {i}")).collect::<Vec<_>>();
        for make in [
            (|c| QuestionKind::SingleSelect { choices: c }) as fn(Vec<String>) -> QuestionKind,
            |c| QuestionKind::MultiSelect { choices: c },
        ] {
            assert_eq!(invalid(one_question(make(choices(1)))), "choices");
            assert!(one_question(make(choices(2))).is_ok());
            assert!(one_question(make(choices(50))).is_ok());
            assert_eq!(invalid(one_question(make(choices(51)))), "choices");
            assert_eq!(
                invalid(one_question(make(vec!["A".into(), " ".into()]))),
                "choice"
            );
        }
    }

    #[test]
    fn rating_ranges_go_up_and_span_at_most_a_hundred() {
        let rating = |min, max| one_question(QuestionKind::Rating { min, max });
        assert!(rating(1, 5).is_ok());
        assert!(rating(0, 10).is_ok());
        assert!(rating(0, 100).is_ok());
        assert!(rating(-60, 40).is_ok());
        assert_eq!(invalid(rating(0, 101)), "rating range");
        assert_eq!(invalid(rating(-10, 95)), "rating range");
        assert_eq!(invalid(rating(3, 3)), "rating range");
        assert_eq!(invalid(rating(5, 1)), "rating range");
        assert_eq!(invalid(rating(i32::MIN, i32::MAX)), "rating range");
    }

    #[test]
    fn checklists_have_one_to_two_hundred_distinct_labelled_items() {
        assert_eq!(invalid(items(0).validate()), "items");
        assert!(items(200).validate().is_ok());
        assert_eq!(invalid(items(201).validate()), "items");
        let twice = TaskKind::Checklist {
            items: vec![
                ChecklistItem {
                    id: "a".into(),
                    label: "One".into(),
                },
                ChecklistItem {
                    id: "a".into(),
                    label: "Two".into(),
                },
            ],
        };
        assert_eq!(invalid(twice.validate()), "items");
        let unlabelled = TaskKind::Checklist {
            items: vec![ChecklistItem {
                id: "a".into(),
                label: "\t".into(),
            }],
        };
        assert_eq!(invalid(unlabelled.validate()), "checklist item");
    }

    fn schedule() -> MeetingSchedule {
        MeetingSchedule::new(
            Utc.with_ymd_and_hms(2025, 4, 1, 15, 0, 0).unwrap(),
            " America/Chicago ",
            30,
            Some(" https://meet.example/abc "),
            Some("  Kick-off  "),
        )
    }

    #[test]
    fn a_schedule_is_trimmed_and_blank_extras_dropped() {
        let s = schedule();
        assert_eq!(s.time_zone, "America/Chicago");
        assert_eq!(s.meeting_url.as_deref(), Some("https://meet.example/abc"));
        assert_eq!(s.agenda.as_deref(), Some("Kick-off"));
        assert_eq!((s.sequence, s.revised_at), (0, None));
        let bare = MeetingSchedule::new(s.starts_at, "UTC", 30, Some("  "), Some(""));
        assert_eq!((bare.meeting_url, bare.agenda), (None, None));
        assert_eq!(s.tz().unwrap(), chrono_tz::America::Chicago);
        assert!(s.validate().is_ok());
        assert!(
            TaskKind::Meeting {
                schedule: Some(s.clone())
            }
            .validate()
            .is_ok()
        );
        let mut bad = s;
        bad.duration_minutes = 0;
        assert_eq!(
            invalid(
                TaskKind::Meeting {
                    schedule: Some(bad)
                }
                .validate()
            ),
            "duration"
        );
    }

    #[test]
    fn meetings_last_five_minutes_to_a_day() {
        let with = |m| MeetingSchedule {
            duration_minutes: m,
            ..schedule()
        };
        assert_eq!(invalid(with(4).validate()), "duration");
        assert!(with(5).validate().is_ok());
        assert!(with(24 * 60).validate().is_ok());
        assert_eq!(invalid(with(24 * 60 + 1).validate()), "duration");
    }

    #[test]
    fn the_time_zone_must_be_an_iana_name() {
        let with = |tz: &str| MeetingSchedule {
            time_zone: tz.into(),
            ..schedule()
        };
        assert!(with("Europe/London").validate().is_ok());
        assert_eq!(invalid(with("Mars/Olympus").validate()), "time zone");
        assert!(with("Mars/Olympus").tz().is_err());
    }

    #[test]
    fn the_meeting_link_must_be_a_short_web_address() {
        let with = |u: &str| MeetingSchedule {
            meeting_url: Some(u.into()),
            ..schedule()
        };
        assert!(with("http://meet.example/x").validate().is_ok());
        for bad in [
            "ftp://meet.example/x",
            "javascript:alert(1)",
            "mailto:a@b.example",
            "meet.example/x",
        ] {
            assert_eq!(invalid(with(bad).validate()), "meeting url", "{bad}");
        }
        let base = "https://meet.example/";
        let exact = format!("{base}{}", "a".repeat(2000 - base.len()));
        assert_eq!(exact.len(), 2000);
        assert!(with(&exact).validate().is_ok());
        assert_eq!(
            invalid(with(&format!("{exact}a")).validate()),
            "meeting url"
        );
    }

    #[test]
    fn the_agenda_is_plain_text_of_at_most_four_thousand_characters() {
        let with = |a: &str| MeetingSchedule {
            agenda: Some(a.into()),
            ..schedule()
        };
        assert!(with(&"a".repeat(4000)).validate().is_ok());
        assert!(with("line one\nline two").validate().is_ok());
        assert_eq!(invalid(with(&"a".repeat(4001)).validate()), "agenda");
        assert_eq!(invalid(with("bell\u{7}").validate()), "agenda");
    }
}
