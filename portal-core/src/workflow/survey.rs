//! Survey / form answers: validated on the server against the task's questions.
//! A failed submission returns one message per wrong field, so the page can re-render
//! the form with the client's answers kept and each message next to its field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Reason;
use crate::model::{Question, QuestionKind};

/// One answer, as stored. Choices are kept by their label, so the MSP reads what the
/// client saw even if the question changes later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Answer {
    /// Short or long text.
    Text(String),
    /// The chosen option of a single select.
    Choice(String),
    /// The chosen options of a multiple select, in the question's order.
    Choices(Vec<String>),
    /// A rating within the question's range.
    Rating(i32),
}

impl Answer {
    /// The answer as one line for people (the MSP's view, emails).
    pub fn display(&self) -> String {
        match self {
            Answer::Text(t) | Answer::Choice(t) => t.clone(),
            Answer::Choices(c) => c.join(", "),
            Answer::Rating(r) => r.to_string(),
        }
    }
}

/// Answers by question id.
pub type Answers = BTreeMap<String, Answer>;

/// Messages by question id ([`FORM_KEY`] for problems with the form as a whole).
pub type FieldErrors = BTreeMap<String, Reason>;

/// The key of a message about the form as a whole; no question may have it as its id
/// (refused when the task is created), so the two never mix.
pub const FORM_KEY: &str = "_form";

/// The form field name of a question.
pub fn field_name(question_id: &str) -> String {
    format!("q.{question_id}")
}

/// Whether the client is saving a draft or submitting the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitMode {
    /// Save what is there; required questions may still be empty.
    SaveDraft,
    /// Finish: every required question must be answered.
    Submit,
}

/// Validates submitted form fields (`q.<id>` = value; repeated for multiple select)
/// against `questions`. Empty answers are left out. Returns the answers or every
/// field's problem at once.
pub fn validate(
    questions: &[Question],
    fields: &[(String, String)],
    mode: SubmitMode,
) -> Result<Answers, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut answers = Answers::new();
    for (name, _) in fields {
        if let Some(id) = name.strip_prefix("q.")
            && !questions.iter().any(|q| q.id == id)
        {
            errors.insert(FORM_KEY.into(), Reason::message("reason-form-changed", &[]));
        }
    }
    for q in questions {
        let name = field_name(&q.id);
        let values: Vec<&str> = fields
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        let non_empty: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if non_empty.is_empty() {
            if q.required && mode == SubmitMode::Submit {
                errors.insert(q.id.clone(), Reason::message("reason-answer-needed", &[]));
            }
            continue;
        }
        match answer(q, &values, &non_empty) {
            Ok(a) => {
                answers.insert(q.id.clone(), a);
            }
            Err(message) => {
                errors.insert(q.id.clone(), message);
            }
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

fn text(value: &str, max_len: u32, multiline: bool) -> Result<String, Reason> {
    let value = value.trim().replace("\r\n", "\n");
    let len = value.chars().count();
    if len > max_len as usize {
        return Err(Reason::message(
            "reason-answer-too-long",
            &[("max", max_len.into()), ("count", len.into())],
        ));
    }
    if value.chars().any(crate::model::is_bidi_control) {
        return Err(Reason::message("reason-answer-bidi", &[]));
    }
    let bad = |c: char| c.is_control() && !(multiline && (c == '\n' || c == '\t'));
    if value.chars().any(bad) {
        return Err(if multiline {
            Reason::message("reason-answer-control", &[])
        } else {
            Reason::message("reason-answer-one-line", &[])
        });
    }
    Ok(value)
}

fn choice(choices: &[String], raw: &str) -> Result<String, Reason> {
    raw.trim()
        .parse::<usize>()
        .ok()
        .and_then(|i| choices.get(i))
        .cloned()
        .ok_or_else(|| Reason::message("reason-answer-pick-option", &[]))
}

fn answer(q: &Question, values: &[&str], non_empty: &[&str]) -> Result<Answer, Reason> {
    let one = || match values {
        [only] => Ok(*only),
        _ => Err(Reason::message("reason-answer-single", &[])),
    };
    match &q.kind {
        QuestionKind::ShortText { max_len } => Ok(Answer::Text(text(one()?, *max_len, false)?)),
        QuestionKind::LongText { max_len } => Ok(Answer::Text(text(one()?, *max_len, true)?)),
        QuestionKind::SingleSelect { choices } => Ok(Answer::Choice(choice(choices, one()?)?)),
        QuestionKind::MultiSelect { choices } => {
            let mut picked = Vec::new();
            for raw in non_empty {
                let label = choice(choices, raw)?;
                if !picked.contains(&label) {
                    picked.push(label);
                }
            }
            picked.sort_by_key(|l| choices.iter().position(|c| c == l));
            Ok(Answer::Choices(picked))
        }
        QuestionKind::Rating { min, max } => {
            let out_of_range = || {
                Reason::message(
                    "reason-answer-rating",
                    &[("min", (*min).into()), ("max", (*max).into())],
                )
            };
            let n: i32 = one()?.trim().parse().map_err(|_| out_of_range())?;
            if n < *min || n > *max {
                return Err(out_of_range());
            }
            Ok(Answer::Rating(n))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn questions() -> Vec<Question> {
        let q = |id: &str, required, kind| Question {
            id: id.into(),
            prompt: id.into(),
            required,
            kind,
        };
        vec![
            q("name", true, QuestionKind::ShortText { max_len: 10 }),
            q("notes", false, QuestionKind::LongText { max_len: 100 }),
            q(
                "host",
                true,
                QuestionKind::SingleSelect {
                    choices: vec!["M365".into(), "Google".into()],
                },
            ),
            q(
                "apps",
                false,
                QuestionKind::MultiSelect {
                    choices: vec!["A".into(), "B".into(), "C".into()],
                },
            ),
            q("score", true, QuestionKind::Rating { min: 0, max: 10 }),
        ]
    }

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn text_direction_controls_are_refused_in_answers() {
        let e = validate(
            &questions(),
            &f(&[
                ("q.name", "Ann\u{202E}"),
                ("q.notes", "line\n\u{2067}two"),
                ("q.host", "1"),
                ("q.score", "3"),
            ]),
            SubmitMode::Submit,
        )
        .unwrap_err();
        assert_eq!(e["name"], "Remove the invisible text-direction characters.");
        assert_eq!(
            e["notes"],
            "Remove the invisible text-direction characters."
        );
        assert_eq!(e.len(), 2, "{e:?}");
    }

    #[test]
    fn a_full_submission_is_stored_by_label() {
        let a = validate(
            &questions(),
            &f(&[
                ("q.name", " Ann "),
                ("q.notes", "a\r\nb"),
                ("q.host", "1"),
                ("q.apps", "2"),
                ("q.apps", "0"),
                ("q.score", "0"),
            ]),
            SubmitMode::Submit,
        )
        .unwrap();
        assert_eq!(a["name"], Answer::Text("Ann".into()));
        assert_eq!(a["notes"], Answer::Text("a\nb".into()));
        assert_eq!(a["host"], Answer::Choice("Google".into()));
        assert_eq!(a["apps"], Answer::Choices(vec!["A".into(), "C".into()]));
        assert_eq!(a["score"], Answer::Rating(0));
    }

    #[test]
    fn every_wrong_field_gets_its_own_message() {
        let e = validate(
            &questions(),
            &f(&[
                ("q.name", "far too long a name"),
                ("q.host", "7"),
                ("q.apps", "x"),
                ("q.score", "11"),
                ("q.notes", "bell\u{7}"),
            ]),
            SubmitMode::Submit,
        )
        .unwrap_err();
        assert!(e["name"].contains("10 characters"));
        assert!(e["host"].contains("options"));
        assert!(e["apps"].contains("options"));
        assert!(e["score"].contains("0 to 10"));
        assert!(e["notes"].contains("control"));
        let missing = validate(&questions(), &[], SubmitMode::Submit).unwrap_err();
        assert_eq!(missing.len(), 3, "three required questions: {missing:?}");
        assert!(
            validate(&questions(), &[], SubmitMode::SaveDraft)
                .unwrap()
                .is_empty()
        );
        let odd = validate(
            &questions(),
            &f(&[("q.name", "a\nb"), ("q.score", "1.5"), ("q.evil", "x")]),
            SubmitMode::SaveDraft,
        )
        .unwrap_err();
        assert!(odd.contains_key("name") && odd.contains_key("score") && odd.contains_key("_form"));
        let twice = validate(
            &questions(),
            &f(&[("q.host", "0"), ("q.host", "1")]),
            SubmitMode::SaveDraft,
        )
        .unwrap_err();
        assert!(twice["host"].contains("single"));
    }

    #[test]
    fn answers_display_as_one_line_and_fields_are_named_q_dot_id() {
        assert_eq!(Answer::Text("a b".into()).display(), "a b");
        assert_eq!(Answer::Choice("Google".into()).display(), "Google");
        assert_eq!(
            Answer::Choices(vec!["A".into(), "C".into()]).display(),
            "A, C"
        );
        assert_eq!(Answer::Rating(-3).display(), "-3");
        assert_eq!(field_name("host"), "q.host");
    }

    #[test]
    fn an_answer_of_exactly_the_maximum_length_is_accepted_one_more_is_refused() {
        let ten = "é".repeat(10); // counted in characters, not bytes
        let a = validate(&questions(), &f(&[("q.name", &ten)]), SubmitMode::SaveDraft).unwrap();
        assert_eq!(a["name"], Answer::Text(ten.clone()));
        let e = validate(
            &questions(),
            &f(&[("q.name", &format!("{ten}x"))]),
            SubmitMode::SaveDraft,
        )
        .unwrap_err();
        assert_eq!(e["name"], "Keep it to 10 characters (this is 11).");
        // Surrounding blanks are trimmed before counting.
        assert!(
            validate(
                &questions(),
                &f(&[("q.name", &format!("  {ten}  "))]),
                SubmitMode::SaveDraft
            )
            .is_ok()
        );
    }

    #[test]
    fn line_breaks_and_tabs_only_in_long_text() {
        let long = validate(
            &questions(),
            &f(&[("q.notes", "a\tb\nc")]),
            SubmitMode::SaveDraft,
        )
        .unwrap();
        assert_eq!(long["notes"], Answer::Text("a\tb\nc".into()));
        for short in ["a\tb", "a\nb", "a\u{7}b"] {
            let e = validate(
                &questions(),
                &f(&[("q.name", short)]),
                SubmitMode::SaveDraft,
            )
            .unwrap_err();
            assert!(e["name"].contains("one line"), "{short:?}: {e:?}");
        }
        let e = validate(
            &questions(),
            &f(&[("q.notes", "a\u{0}b")]),
            SubmitMode::SaveDraft,
        )
        .unwrap_err();
        assert!(e["notes"].contains("invisible"), "{e:?}");
    }

    #[test]
    fn ratings_include_both_ends_of_the_range() {
        let rate = |v: &str| {
            validate(&questions(), &f(&[("q.score", v)]), SubmitMode::SaveDraft)
                .map(|a| a["score"].clone())
        };
        assert_eq!(rate("0"), Ok(Answer::Rating(0)));
        assert_eq!(rate(" 5 "), Ok(Answer::Rating(5)));
        assert_eq!(rate("10"), Ok(Answer::Rating(10)));
        for bad in ["-1", "11", "x", "99999999999"] {
            let e = rate(bad).unwrap_err();
            assert_eq!(e["score"], "Choose a whole number from 0 to 10.", "{bad}");
        }
    }

    #[test]
    fn choices_are_picked_by_index_once_each_in_the_question_order() {
        let a = validate(
            &questions(),
            &f(&[
                ("q.apps", "2"),
                ("q.apps", " "),
                ("q.apps", "1"),
                ("q.apps", "2"),
                ("q.host", " 0 "),
            ]),
            SubmitMode::SaveDraft,
        )
        .unwrap();
        assert_eq!(a["apps"], Answer::Choices(vec!["B".into(), "C".into()]));
        assert_eq!(a["host"], Answer::Choice("M365".into()));
        for bad in ["2", "-1", "A", ""] {
            let fields = f(&[("q.host", bad)]);
            let r = validate(&questions(), &fields, SubmitMode::Submit).unwrap_err();
            assert!(
                r["host"].contains("options") || r["host"].contains("needs"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn blank_answers_are_left_out_and_other_fields_ignored() {
        let a = validate(
            &questions(),
            &f(&[
                ("q.notes", "   "),
                ("q.name", "Ann"),
                ("csrf", "token"),
                ("submit", "1"),
            ]),
            SubmitMode::SaveDraft,
        )
        .unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a["name"], Answer::Text("Ann".into()));
        // Submitting needs every required answer; optional ones may stay blank.
        let e = validate(
            &questions(),
            &f(&[("q.name", "Ann"), ("q.host", "0"), ("q.score", " ")]),
            SubmitMode::Submit,
        )
        .unwrap_err();
        assert_eq!(
            e.keys().collect::<Vec<_>>(),
            ["score"],
            "only the missing required answer: {e:?}"
        );
        assert_eq!(e["score"], "This question needs an answer.");
        let all = validate(
            &questions(),
            &f(&[("q.name", "Ann"), ("q.host", "0"), ("q.score", "3")]),
            SubmitMode::Submit,
        )
        .unwrap();
        assert_eq!(all.len(), 3);
    }
}
