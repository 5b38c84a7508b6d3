//! "Ask a Question": the form, and the portal's questions with the MSP's answers.

use askama::Template;
use portal_core::workflow::ClientQuestion;

use super::task::when;
use super::{Chrome, PortalNav};

/// A question as listed.
#[derive(Debug, Clone)]
pub struct QuestionItem {
    /// Who asked.
    pub asked_by: String,
    /// When.
    pub asked_at: String,
    /// The question.
    pub text: String,
    /// The answer: who, when, text.
    pub answer: Option<(String, String, String)>,
}

/// The questions page.
#[derive(Template)]
#[template(path = "questions.html")]
pub struct QuestionsPage {
    /// Frame.
    pub c: Chrome,
    /// Navigation.
    pub nav: PortalNav,
    /// Where the form posts.
    pub action: String,
    /// Success message.
    pub notice: Option<String>,
    /// What to fix.
    pub error: Option<String>,
    /// Text typed before an error, kept.
    pub draft: String,
    /// Questions, newest first.
    pub questions: Vec<QuestionItem>,
}

/// Builds the questions page.
pub fn questions_page(
    c: Chrome,
    prefix: &str,
    questions: &[ClientQuestion],
    notice: Option<String>,
    error: Option<String>,
    draft: String,
) -> QuestionsPage {
    let zone = c.zone;
    QuestionsPage {
        c,
        nav: PortalNav::new(prefix),
        action: format!("{prefix}/questions"),
        notice,
        error,
        draft,
        questions: questions
            .iter()
            .map(|q| QuestionItem {
                asked_by: q.asked_by.name().to_owned(),
                asked_at: when(q.asked_at, zone),
                text: q.text.clone(),
                answer: q
                    .answer
                    .as_ref()
                    .map(|a| (a.by.name().to_owned(), when(a.at, zone), a.text.clone())),
            })
            .collect(),
    }
}
