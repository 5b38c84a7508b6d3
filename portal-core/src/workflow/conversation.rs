//! Task comments and "Ask a Question": the two ways the client and the MSP talk
//! inside the portal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::evidence::Actor;
use crate::ids::{PortalId, QuestionId, TaskId};

/// Longest comment, question or answer.
pub const MAX_MESSAGE: usize = 5000;

/// A comment in a task's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// The portal.
    pub portal_id: PortalId,
    /// The task.
    pub task_id: TaskId,
    /// Who wrote it.
    pub author: Actor,
    /// Plain text; line breaks kept.
    pub body: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A question the client asked, and the MSP's answer once given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientQuestion {
    /// Its id.
    pub id: QuestionId,
    /// The portal.
    pub portal_id: PortalId,
    /// Who asked.
    pub asked_by: Actor,
    /// The question; line breaks kept.
    pub text: String,
    /// When.
    pub asked_at: DateTime<Utc>,
    /// The MSP's answer.
    pub answer: Option<QuestionAnswer>,
    /// The onboarding-team member the client addressed, as they were when asked;
    /// `None`: the whole team (the MSP's notification recipients).
    #[serde(default)]
    pub to: Option<QuestionAddressee>,
}

/// The one team member a question went to, kept with the question (name, role and
/// email at the time: a later team change does not rewrite who was asked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionAddressee {
    /// Their name.
    pub name: String,
    /// Their role on the onboarding.
    pub role: String,
    /// Where the question was emailed.
    pub email: crate::model::EmailAddress,
}

impl QuestionAddressee {
    /// How the thread names them: "Sam Lee, Project lead".
    pub fn label(&self) -> String {
        format!("{}, {}", self.name, self.role)
    }
}

impl From<&crate::model::TeamMember> for QuestionAddressee {
    fn from(m: &crate::model::TeamMember) -> Self {
        Self {
            name: m.name.clone(),
            role: m.role.clone(),
            email: m.email.clone(),
        }
    }
}

/// The MSP's answer to a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionAnswer {
    /// Who answered.
    pub by: Actor,
    /// The answer; line breaks kept.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}
