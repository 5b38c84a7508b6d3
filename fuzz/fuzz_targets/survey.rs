//! Survey answers against surveys of every shape: questions of each kind with any
//! limits (including ranges that overflow and empty choice lists), fields that name
//! them, name nothing or repeat, in draft and submit mode. `validate` never panics and
//! what it returns keeps the rules (see `portal_fuzz::check_survey`). An input that
//! starts with `{` is a task kind in its stored JSON instead: validating it never
//! panics, and a valid one survives a JSON round trip.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use portal_core::model::{Question, QuestionKind, TaskKind};
use portal_core::workflow::survey::{SubmitMode, validate};
use portal_fuzz::check_survey;

/// Short strings from a small alphabet, so ids, choices and values collide often.
fn small(u: &mut Unstructured<'_>) -> Result<String> {
    const ALPHABET: &[char] = &[
        'a', 'b', '0', '1', ' ', '-', '\n', '\r', '\t', 'é', '\u{202E}',
    ];
    let n = u.int_in_range(0..=4)?;
    (0..n).map(|_| u.choose(ALPHABET).copied()).collect()
}

fn text(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 2)? {
        small(u)
    } else {
        u.arbitrary()
    }
}

fn question(u: &mut Unstructured<'_>, id: String) -> Result<Question> {
    let choices = |u: &mut Unstructured<'_>| -> Result<Vec<String>> {
        let n = u.int_in_range(0..=4)?;
        (0..n).map(|_| text(u)).collect()
    };
    let kind = match u.int_in_range(0..=4)? {
        0 => QuestionKind::ShortText {
            max_len: u.int_in_range(0..=40)?,
        },
        1 => QuestionKind::LongText {
            max_len: u.arbitrary()?,
        },
        2 => QuestionKind::SingleSelect {
            choices: choices(u)?,
        },
        3 => QuestionKind::MultiSelect {
            choices: choices(u)?,
        },
        _ => QuestionKind::Rating {
            min: u.arbitrary()?,
            max: u.arbitrary()?,
        },
    };
    Ok(Question {
        id,
        prompt: "?".into(),
        required: u.arbitrary()?,
        kind,
    })
}

/// A survey, the fields posted to it, and how.
type Case = (Vec<Question>, Vec<(String, String)>, SubmitMode);

fn case(u: &mut Unstructured<'_>) -> Result<Case> {
    let mut questions: Vec<Question> = Vec::new();
    for _ in 0..u.int_in_range(0..=5)? {
        let id = small(u)?;
        // Stored surveys have unique ids (`TaskKind::validate`). `_form` is the key of
        // the form-wide message, so a question called that is left out here.
        if id != "_form" && !questions.iter().any(|q| q.id == id) {
            questions.push(question(u, id)?);
        }
    }
    let mut fields = Vec::new();
    for _ in 0..u.int_in_range(0..=8)? {
        let name = match u.int_in_range(0..=3)? {
            0 | 1 if !questions.is_empty() => {
                format!("q.{}", u.choose(&questions)?.id)
            }
            2 => format!("q.{}", small(u)?),
            _ => text(u)?,
        };
        let value = match u.int_in_range(0..=2)? {
            0 => u.int_in_range(-2..=6)?.to_string(),
            _ => text(u)?,
        };
        fields.push((name, value));
    }
    let mode = if u.arbitrary()? {
        SubmitMode::Submit
    } else {
        SubmitMode::SaveDraft
    };
    Ok((questions, fields, mode))
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
        if let Ok(kind) = serde_json::from_slice::<TaskKind>(data)
            && kind.validate().is_ok()
        {
            let json = serde_json::to_string(&kind).unwrap();
            let back: TaskKind = serde_json::from_str(&json).unwrap();
            assert_eq!(back, kind);
            assert!(back.validate().is_ok());
        }
        return;
    }
    let Ok((questions, fields, mode)) = case(&mut Unstructured::new(data)) else {
        return;
    };
    let result = validate(&questions, &fields, mode);
    check_survey(&questions, &fields, mode, &result);
});
