//! What has been done on a task: who completed it and with what notes, survey answers,
//! checklist marks, the approval decision. Stored with the task, changed only through
//! the rules in [`super::actions`].

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::survey::Answers;
use crate::ids::ContactId;
use crate::model::{EmailAddress, Side};

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "side", rename_all = "snake_case")]
pub enum Actor {
    /// A client contact.
    Client {
        /// The contact.
        contact_id: ContactId,
        /// Their name at the time.
        name: String,
        /// Their email at the time.
        email: EmailAddress,
    },
    /// MSP staff, as the host identified them.
    Staff {
        /// Display name.
        name: String,
        /// Email, if known.
        email: Option<EmailAddress>,
    },
}

impl Actor {
    /// The actor's display name.
    pub fn name(&self) -> &str {
        match self {
            Actor::Client { name, .. } | Actor::Staff { name, .. } => name,
        }
    }
    /// Which side the actor is on.
    pub fn side(&self) -> Side {
        match self {
            Actor::Client { .. } => Side::Client,
            Actor::Staff { .. } => Side::Msp,
        }
    }
}

/// A task marked complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    /// Who.
    pub by: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// Notes or evidence text given with it.
    pub notes: Option<String>,
}

/// A checked checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckMark {
    /// Who checked it.
    pub by: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

/// An approve/reject decision, with what identifies the person who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDecision {
    /// Approved (`true`) or rejected.
    pub approved: bool,
    /// Optional explanation.
    pub comment: Option<String>,
    /// The contact's name.
    pub name: String,
    /// The contact's email.
    pub email: EmailAddress,
    /// Their IP address.
    pub ip: Option<IpAddr>,
    /// Their user agent.
    pub user_agent: Option<String>,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The documents of the task (files the MSP attached) the contact opened before
    /// deciding, each with the SHA-256 of the bytes served: what "approved" was about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<crate::attachments::DecidedDocument>,
}

/// Everything recorded on a task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEvidence {
    /// Set when the task was completed by "Mark Complete" or by submitting a form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Completion>,
    /// Survey answers saved so far (a draft or the submitted form).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub answers: Answers,
    /// Who last saved the answers, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers_saved: Option<CheckMark>,
    /// Checked checklist items by item id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checked: BTreeMap<String, CheckMark>,
    /// The approval decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<ApprovalDecision>,
    /// Decisions made before the task was reopened, oldest first (kept for the audit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_decisions: Vec<ApprovalDecision>,
    /// Where each requested document stands, by document id (document upload tasks).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub documents: BTreeMap<String, super::documents::DocumentState>,
    /// "I'm stuck" reports, oldest first; the last one is open until the MSP clears
    /// it (see [`super::stuck`]). Kept after clearing: the task's history.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stuck: Vec<super::stuck::StuckReport>,
    /// Due-date change requests, oldest first, with their decisions (see
    /// [`super::due_dates`]): the history of requested and granted dates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub due_date_requests: Vec<super::due_dates::DueDateRequest>,
}

impl TaskEvidence {
    /// Whether anything at all has been recorded.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn client() -> Actor {
        Actor::Client {
            contact_id: ContactId::from_uuid(Uuid::from_u128(1)),
            name: "Dana Whitfield".into(),
            email: EmailAddress::parse("dana@client.example").unwrap(),
        }
    }

    #[test]
    fn actors_have_a_name_and_a_side() {
        let staff = Actor::Staff {
            name: "Sam Tech".into(),
            email: None,
        };
        assert_eq!(client().name(), "Dana Whitfield");
        assert_eq!(staff.name(), "Sam Tech");
        assert_eq!(client().side(), Side::Client);
        assert_eq!(staff.side(), Side::Msp);
    }

    #[test]
    fn evidence_is_empty_until_something_is_recorded() {
        assert!(TaskEvidence::default().is_empty());
        let mut e = TaskEvidence::default();
        e.checked.insert(
            "a".into(),
            CheckMark {
                by: client(),
                at: chrono::DateTime::UNIX_EPOCH,
            },
        );
        assert!(!e.is_empty());
    }
}
