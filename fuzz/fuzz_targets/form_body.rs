//! URL-encoded form bodies as the HTTP layer reads them (`form_urlencoded::parse` of the
//! whole body, the crate and version `portal-http` uses), then what the survey route
//! does with the fields. Parsing never panics, re-encoding the fields gives the same
//! fields back, and the survey's answers keep every rule of their questions.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portal_core::model::Question;
use portal_core::workflow::survey::{SubmitMode, validate};
use portal_fuzz::{check_survey, survey_questions};

fn questions() -> &'static [Question] {
    static Q: OnceLock<Vec<Question>> = OnceLock::new();
    Q.get_or_init(survey_questions)
}

fuzz_target!(|data: &[u8]| {
    let fields: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();

    // Borrowed and owned parsing agree; re-encoding round-trips.
    let borrowed: Vec<(String, String)> = form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(borrowed, fields);
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&fields)
        .finish();
    let again: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(again, fields, "re-encoded as {encoded:?}");
    // A body with no `&`-separated piece left empty has one field per piece.
    let pieces = data.split(|b| *b == b'&').filter(|p| !p.is_empty()).count();
    assert_eq!(fields.len(), pieces);

    // What the survey route does with them (`save_answers` validates this way).
    let mode = if fields.iter().any(|(k, v)| k == "action" && v == "submit") {
        SubmitMode::Submit
    } else {
        SubmitMode::SaveDraft
    };
    let result = validate(questions(), &fields, mode);
    check_survey(questions(), &fields, mode, &result);
});
