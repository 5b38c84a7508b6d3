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
