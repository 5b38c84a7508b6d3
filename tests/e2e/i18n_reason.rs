//! Two languages, what to fix (issue 14): the validation and conflict messages a
//! client can meet, in Spanish for a Spanish contact.
//!
//! A Spanish contact (by the browser's `Accept-Language`, and once by the language
//! the MSP set) posts bad input to the client forms: the page says what to fix in
//! Spanish, no English reason is left on it, and the catalog missed nothing. The same
//! posts from an English browser still read as before.

use std::collections::BTreeSet;

use portal_core::i18n::{Arg, Language, try_message};
use portal_tests::multipart::{content_type, upload_form};
use portal_tests::{Browser, Harness, Options, Page};

use crate::i18n::visible_text;

/// The page's visible text, one node per line, entities decoded.
fn text_of(page: &Page) -> String {
    visible_text(&page.body).join("\n")
}

/// The catalog's text of `key` in `language` (strictly: a missing one fails).
fn says(language: Language, key: &str, args: &[(&str, Arg)]) -> String {
    match try_message(language, key, args) {
        Ok(text) => text,
        Err(missing) => panic!("{missing:?}"),
    }
}

/// "the reason" → "The reason." as the task page shows a reason at its field.
fn at_field(reason: &str) -> String {
    let mut chars = reason.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{}.", chars.as_str())
}

async fn signed_in(accept_language: &str) -> (Harness, Browser) {
    let h = Harness::start(Options::memory()).await;
    let mut b = h.browser();
    b.accept_language = Some(accept_language.to_owned());
    h.sign_in(&b).await;
    (h, b)
}

/// Posts `fields` (with the page's CSRF token) to `{page}/{action}`.
async fn act(b: &Browser, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let shown = b.get(page).await;
    assert_eq!(shown.status, 200, "{page}: {}", shown.body);
    let csrf = shown.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post(&format!("{page}/{action}"), &all).await
}

/// What one refused post shows: the status, and for each language the texts that
/// must be on the page.
struct Case {
    name: &'static str,
    status: u16,
    page: Page,
}

/// Every refused form of the cases, posted by a browser in `accept_language`.
async fn refused_forms(h: &Harness, b: &Browser) -> Vec<Case> {
    let task = |key: &str| format!("/tasks/{}", h.tasks[key]);
    let mut cases = Vec::new();
    // A questionnaire: a choice that is not one of the options, two required
    // questions left empty.
    let page = act(
        b,
        &task("survey"),
        "form",
        &[("q.host", "7"), ("action", "submit")],
    )
    .await;
    cases.push(Case {
        name: "questionnaire",
        status: 422,
        page,
    });
    // A comment with a text-direction control character.
    let page = act(
        b,
        &task("standard"),
        "comments",
        &[("comment", "pay \u{202E}fdp.exe")],
    )
    .await;
    cases.push(Case {
        name: "comment",
        status: 422,
        page,
    });
    // A due date in the past.
    let page = act(
        b,
        &task("standard"),
        "due-date",
        &[("date", "2020-01-01"), ("due_reason", "Away")],
    )
    .await;
    cases.push(Case {
        name: "due_date",
        status: 422,
        page,
    });
    // "I'm stuck" without saying why.
    let page = act(b, &task("standard"), "stuck", &[("reason", "   ")]).await;
    cases.push(Case {
        name: "stuck",
        status: 422,
        page,
    });
    // A checklist item ticked twice: a conflict.
    let first = act(
        b,
        &task("checklist"),
        "checklist",
        &[("item", "a"), ("checked", "1")],
    )
    .await;
    assert_eq!(first.status, 303, "{}", first.body);
    let page = act(
        b,
        &task("checklist"),
        "checklist",
        &[("item", "a"), ("checked", "1")],
    )
    .await;
    cases.push(Case {
        name: "checklist",
        status: 409,
        page,
    });
    // A colleague invitation with no email address.
    h.service
        .set_colleague_invitations(
            &h.staff,
            h.portal.id,
            portal_core::workflow::team::InvitationMode::AtOnce,
            None,
        )
        .await
        .unwrap();
    let page = b.get("/team").await;
    let page = b
        .post(
            "/team",
            &[
                ("csrf", &page.csrf()),
                ("name", "Sam Colleague"),
                ("email", "not an email"),
            ],
        )
        .await;
    cases.push(Case {
        name: "colleague",
        status: 422,
        page,
    });
    // An empty question.
    let page = b.get("/questions").await;
    let page = b
        .post("/questions", &[("csrf", &page.csrf()), ("question", "  ")])
        .await;
    cases.push(Case {
        name: "question",
        status: 422,
        page,
    });
    // An upload of a web page where a document is asked for.
    let path = task("upload");
    let csrf = b.get(&path).await.csrf();
    let page = b
        .send(
            http::Method::POST,
            &format!("{path}/documents/d"),
            Some(&content_type()),
            upload_form(
                &csrf,
                "diagram.html",
                b"<html><script>alert(1)</script></html>",
            ),
        )
        .await;
    cases.push(Case {
        name: "upload",
        status: 400,
        page,
    });
    cases
}

/// The texts each case must show in `language` (the reason at its field or in the
/// page's summary), from the catalog.
fn expected(name: &str, language: Language) -> Vec<String> {
    let l = language;
    let accepted = portal_core::files::FileType::ALL
        .iter()
        .map(|t| t.label_in(l))
        .collect::<Vec<_>>()
        .join(", ");
    match name {
        "questionnaire" => vec![
            says(l, "reason-answer-pick-option", &[]),
            says(l, "reason-answer-needed", &[]),
            says(l, "reason-fix-answers", &[("count", 3.into())]),
        ],
        "comment" => vec![says(
            l,
            "reason-check-field",
            &[
                ("field", says(l, "reason-field-comment", &[]).into()),
                ("reason", says(l, "reason-text-bidi", &[]).into()),
            ],
        )],
        "due_date" => {
            // The contact's today (the harness's clock, in their zone).
            let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
            vec![
                at_field(&says(
                    l,
                    "reason-due-date-past",
                    &[("today", portal_core::wording::date_in(today, l).into())],
                )),
                says(l, "reason-due-date-check-date", &[]),
            ]
        }
        "stuck" => vec![
            at_field(&says(l, "reason-stuck-why", &[])),
            says(l, "reason-stuck-check-reason", &[]),
        ],
        "checklist" => vec![says(l, "reason-item-already-checked", &[])],
        "colleague" => vec![says(l, "team-error-email", &[])],
        "question" => vec![says(l, "questions-error-text", &[])],
        // The reason ends its sentence ("… Accepted: PDF, ….").
        "upload" => vec![says(
            l,
            "reason-upload-refused",
            &[
                ("field", says(l, "reason-field-file", &[]).into()),
                (
                    "reason",
                    says(l, "reason-file-markup", &[("accepted", accepted.into())]).into(),
                ),
            ],
        )],
        other => panic!("no case {other}"),
    }
}

/// English reasons the core builds: none may be on a Spanish page.
fn english_reasons() -> BTreeSet<String> {
    [
        "Pick one of the options shown.",
        "This question needs an answer.",
        "Please fix the answers marked below.",
        "Please check the comment",
        "must not contain text-direction control characters",
        "or a later date",
        "Say what stops you, so your MSP can help.",
        "Nothing was sent: please check the reason below.",
        "Nothing was asked: please check the date below.",
        "That item is already checked.",
        "enter an address like name@example.com",
        "write your question before sending",
        "which we don't accept because a browser would run it",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

fn check(cases: &[Case], language: Language) {
    for case in cases {
        assert_eq!(
            case.page.status, case.status,
            "{}: {}",
            case.name, case.page.body
        );
        let text = text_of(&case.page);
        for want in expected(case.name, language) {
            assert!(
                text.contains(&want),
                "{} ({language}): {want:?} not on the page:\n{text}",
                case.name
            );
        }
        if language == Language::Es {
            assert!(
                case.page.body.contains(r#"<html lang="es">"#),
                "{}",
                case.name
            );
            for english in english_reasons() {
                assert!(
                    !text.contains(&english),
                    "{}: English {english:?} on the Spanish page:\n{text}",
                    case.name
                );
            }
        }
    }
}

#[tokio::test]
async fn a_spanish_browser_reads_what_to_fix_in_spanish() {
    let (h, b) = signed_in("es-MX,es;q=0.9,en;q=0.5").await;
    let cases = refused_forms(&h, &b).await;
    check(&cases, Language::Es);
    let missing = portal_core::i18n::missing();
    assert!(
        missing.is_empty(),
        "messages the catalog lacks: {missing:#?}"
    );
}

#[tokio::test]
async fn a_contact_the_msp_set_to_spanish_reads_what_to_fix_in_spanish() {
    let (h, b) = signed_in("en-US,en;q=0.9").await;
    h.service
        .change_contact(
            &h.staff,
            h.contact.id,
            &portal_core::service::ContactChange {
                name: &h.contact.name,
                email: h.contact.email.as_str(),
                role: None,
                language: Some(Some(Language::Es)),
            },
            None,
        )
        .await
        .unwrap();
    let cases = refused_forms(&h, &b).await;
    check(&cases, Language::Es);
    let missing = portal_core::i18n::missing();
    assert!(
        missing.is_empty(),
        "messages the catalog lacks: {missing:#?}"
    );
}

#[tokio::test]
async fn an_english_browser_reads_the_reasons_as_before() {
    let (h, b) = signed_in("en-US,en;q=0.9").await;
    let cases = refused_forms(&h, &b).await;
    check(&cases, Language::En);
    // The words themselves, as the pages said them before the catalog.
    let all: String = cases
        .iter()
        .map(|c| text_of(&c.page))
        .collect::<Vec<_>>()
        .join("\n");
    for before in [
        "Pick one of the options shown.",
        "Please fix the answers marked below. Your answers are kept.",
        "Please check the comment: must not contain text-direction control characters (U+202A–U+202E, U+2066–U+2069).",
        "Pick today (Sat 28 Nov 2026) or a later date.",
        "Nothing was asked: please check the date below.",
        "Say what stops you, so your MSP can help.",
        "Nothing was sent: please check the reason below.",
        "That item is already checked.",
        "The file is a web page or image markup (HTML, SVG or XML), which we don't accept because a browser would run it. Accepted: PDF, ",
    ] {
        assert!(all.contains(before), "{before:?} not said:\n{all}");
    }
}

/// Every key of `reason.ftl` is used by the code that builds reasons or shows them,
/// and every `reason-…` key the code names is in the catalog: a key nobody uses, or a
/// use of a key the catalog lacks, fails here rather than on a page.
#[test]
fn every_reason_key_is_used_and_every_used_key_exists() {
    let catalog = include_str!("../../portal-core/locales/en/reason.ftl");
    let sources = [
        include_str!("../../portal-core/src/model.rs"),
        include_str!("../../portal-core/src/workflow/survey.rs"),
        include_str!("../../portal-core/src/workflow/actions.rs"),
        include_str!("../../portal-core/src/workflow/due_dates.rs"),
        include_str!("../../portal-core/src/workflow/stuck.rs"),
        include_str!("../../portal-core/src/workflow/team.rs"),
        include_str!("../../portal-core/src/workflow/guests.rs"),
        include_str!("../../portal-core/src/workflow/documents.rs"),
        include_str!("../../portal-core/src/service/workflow.rs"),
        include_str!("../../portal-core/src/service/documents.rs"),
        include_str!("../../portal-core/src/service/filedrop.rs"),
        include_str!("../../portal-core/src/service/team.rs"),
        include_str!("../../portal-core/src/filedrop.rs"),
        include_str!("../../portal-core/src/attachments.rs"),
        include_str!("../../portal-core/src/signatures.rs"),
        include_str!("../../portal-core/src/service/signatures.rs"),
        include_str!("../../portal-core/src/credentials.rs"),
        include_str!("../../portal-core/src/service/credentials.rs"),
        include_str!("../../portal-core/src/workflow/plan.rs"),
        include_str!("../../portal-http/src/app/tasks.rs"),
        include_str!("../../portal-http/src/app/documents.rs"),
        include_str!("../../portal-http/src/app/filedrop.rs"),
        include_str!("../../portal-http/src/multipart.rs"),
    ]
    .join("\n");
    let keys: BTreeSet<&str> = catalog
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
        .filter(|k| !k.starts_with('#') && !k.is_empty())
        .collect();
    assert!(keys.len() > 50, "the catalog is read: {keys:?}");
    let unused: Vec<&&str> = keys
        .iter()
        .filter(|k| !sources.contains(&format!("\"{k}\"")))
        .collect();
    assert!(unused.is_empty(), "keys no code uses: {unused:?}");
    let mut used = BTreeSet::new();
    let mut rest = sources.as_str();
    while let Some(at) = rest.find("\"reason-") {
        let tail = &rest[at + 1..];
        let end = tail.find('"').unwrap_or(tail.len());
        used.insert(&tail[..end]);
        rest = &tail[end..];
    }
    let unknown: Vec<&&str> = used.iter().filter(|k| !keys.contains(*k)).collect();
    assert!(unknown.is_empty(), "keys the catalog lacks: {unknown:?}");
}

/// A forced post on a task only the MSP moves is refused with 403 and says why in the
/// page's language: "No puede hacer eso: esta tarea la realiza su MSP…" for Spanish,
/// the English sentence as before for English.
#[tokio::test]
async fn a_not_allowed_action_says_why_in_the_page_language() {
    for (accept, language) in [("es-ES,es;q=0.9", Language::Es), ("en-US", Language::En)] {
        let (h, b) = signed_in(accept).await;
        let page = format!("/tasks/{}", h.tasks["assign"]);
        let refused = act(&b, &page, "complete", &[]).await;
        assert_eq!(refused.status, 403, "{accept}: {}", refused.body);
        let why = says(language, "reason-forbidden-msp-task", &[]);
        let line = says(
            language,
            "task-forbidden",
            &[("reason", why.as_str().into())],
        );
        assert!(
            text_of(&refused).contains(&line),
            "{accept}: {line}\n{}",
            refused.body
        );
        if language == Language::Es {
            assert!(line.starts_with("No puede hacer eso: esta tarea la realiza su MSP"));
        } else {
            assert_eq!(
                line,
                "You can't do that: this task is done by your MSP: you can follow it, but not change it."
            );
        }
    }
}
