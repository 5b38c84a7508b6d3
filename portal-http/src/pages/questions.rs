//! "Ask a Question": the form, and the portal's questions with the MSP's answers.

use askama::Template;
use portal_core::model::OnboardingTeam;
use portal_core::workflow::{ClientQuestion, QuestionAddressee};

use super::task::when_in;
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
    /// The one team member it went to ("Sam Lee, Project lead"); `None`: the team.
    pub to: Option<String>,
}

/// One choice of the form's "To" list.
#[derive(Debug, Clone)]
pub struct ToChoice {
    /// The value posted: a member's email, empty for the whole team.
    pub value: String,
    /// What the list shows ("Sam Lee, Project lead").
    pub label: String,
    /// Chosen now.
    pub selected: bool,
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
    /// The "To" choices: the whole team first, then each member (empty when the
    /// portal has no team: the question goes to the MSP as before).
    pub to_choices: Vec<ToChoice>,
}

/// What the questions page shows besides its frame.
pub struct QuestionsInput<'a> {
    /// The mount prefix.
    pub prefix: &'a str,
    /// The portal's questions, newest first.
    pub questions: &'a [ClientQuestion],
    /// The portal's onboarding team (the "To" choices).
    pub team: &'a OnboardingTeam,
    /// The member chosen (by email), if any.
    pub to: Option<&'a str>,
    /// Success message.
    pub notice: Option<String>,
    /// What to fix.
    pub error: Option<String>,
    /// Text typed before an error, kept.
    pub draft: String,
}

/// Builds the questions page.
pub fn questions_page(c: Chrome, input: QuestionsInput<'_>) -> QuestionsPage {
    let zone = c.zone;
    let language = c.t.language;
    let QuestionsInput {
        prefix,
        questions,
        team,
        to,
        notice,
        error,
        draft,
    } = input;
    let chosen = to.and_then(|email| team.member(email));
    let to_choices = if team.is_empty() {
        Vec::new()
    } else {
        std::iter::once(ToChoice {
            value: String::new(),
            label: portal_core::i18n::text(language, "questions-whole-team"),
            selected: chosen.is_none(),
        })
        .chain(team.members().iter().map(|m| ToChoice {
            value: m.email.as_str().to_owned(),
            label: format!("{}, {}", m.name, m.role),
            selected: chosen.is_some_and(|c| c.email == m.email),
        }))
        .collect()
    };
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
                asked_at: when_in(q.asked_at, zone, language),
                text: q.text.clone(),
                answer: q.answer.as_ref().map(|a| {
                    (
                        a.by.name().to_owned(),
                        when_in(a.at, zone, language),
                        a.text.clone(),
                    )
                }),
                to: q.to.as_ref().map(QuestionAddressee::label),
            })
            .collect(),
        to_choices,
    }
}
