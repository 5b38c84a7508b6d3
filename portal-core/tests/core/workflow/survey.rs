//! Survey tasks: drafts, invalid submissions, and what the MSP reads back.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use portal_core::Error;
use portal_core::model::{Question, QuestionKind, Side, TaskKind, TaskStatus};
use portal_core::service::client_actor;
use portal_core::workflow::survey::{Answer, SubmitMode};
use portal_core::workflow::{ActivityKind, CheckMark};

use super::fields;
use crate::{Harness, assert_err};

fn survey_kind() -> TaskKind {
    let q = |id: &str, required, kind| Question {
        id: id.to_owned(),
        prompt: format!("Question {id}"),
        required,
        kind,
    };
    TaskKind::Survey {
        questions: vec![
            q("company", true, QuestionKind::ShortText { max_len: 40 }),
            q(
                "mail",
                true,
                QuestionKind::SingleSelect {
                    choices: vec!["Microsoft 365".to_owned(), "Google Workspace".to_owned()],
                },
            ),
            q(
                "apps",
                false,
                QuestionKind::MultiSelect {
                    choices: vec!["Teams".to_owned(), "Slack".to_owned(), "Zoom".to_owned()],
                },
            ),
            q("happy", true, QuestionKind::Rating { min: 1, max: 5 }),
            q("notes", false, QuestionKind::LongText { max_len: 20 }),
        ],
    }
}

#[tokio::test]
async fn survey_draft_invalid_submit_and_valid_submit() {
    let h = Harness::new(101).await;
    let (ctx, phase) = h.client().await;
    let t = h
        .task(phase, "Tell us about your IT", Side::Client, survey_kind())
        .await;

    h.clock.advance(TimeDelta::minutes(1));
    let draft = h
        .service
        .save_answers(
            &ctx,
            t.id,
            &fields(&[("q.company", "Contoso")]),
            SubmitMode::SaveDraft,
        )
        .await
        .unwrap();
    assert_eq!(draft.status, TaskStatus::InProgress);
    assert_eq!(
        draft.evidence.answers,
        BTreeMap::from([("company".to_owned(), Answer::Text("Contoso".to_owned()))])
    );
    assert_eq!(
        draft.evidence.answers_saved,
        Some(CheckMark {
            by: client_actor(&ctx),
            at: h.now()
        })
    );
    assert_eq!(draft.evidence.completion, None);

    h.clock.advance(TimeDelta::minutes(1));
    let bad = fields(&[
        ("q.company", ""),
        ("q.mail", "7"),
        ("q.apps", "0"),
        ("q.happy", "9"),
        ("q.notes", "this is far more than twenty characters"),
    ]);
    match h
        .service
        .save_answers(&ctx, t.id, &bad, SubmitMode::Submit)
        .await
    {
        Err(Error::InvalidFields { errors }) => {
            let keys: Vec<&str> = errors.keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                vec!["company", "happy", "mail", "notes"],
                "{errors:?}"
            );
            assert!(errors["company"].contains("needs an answer"), "{errors:?}");
            assert!(errors["happy"].contains("1 to 5"), "{errors:?}");
            assert!(errors["mail"].contains("options"), "{errors:?}");
            assert!(errors["notes"].contains("20 characters"), "{errors:?}");
        }
        other => panic!("expected InvalidFields, got {other:?}"),
    }
    assert_eq!(
        h.stored(t.id).await,
        draft,
        "an invalid submission saved nothing"
    );
    assert_eq!(
        crate::after_setup(
            h.service
                .staff_activity(&h.staff, h.portal.id, None, 10)
                .await
                .unwrap()
                .items
        )
        .len(),
        1
    );

    h.clock.advance(TimeDelta::minutes(1));
    let good = fields(&[
        ("q.company", " Contoso Ltd "),
        ("q.mail", "1"),
        ("q.apps", "2"),
        ("q.apps", "0"),
        ("q.happy", "5"),
        ("q.notes", "All good"),
    ]);
    let submitted = h
        .service
        .save_answers(&ctx, t.id, &good, SubmitMode::Submit)
        .await
        .unwrap();
    assert_eq!(submitted.status, TaskStatus::Completed);
    // What the MSP reads back.
    let msp_view = h
        .service
        .staff_task(&h.staff, h.portal.id, t.id)
        .await
        .unwrap();
    assert_eq!(msp_view, submitted);
    assert_eq!(
        msp_view.evidence.answers,
        BTreeMap::from([
            ("company".to_owned(), Answer::Text("Contoso Ltd".to_owned())),
            (
                "mail".to_owned(),
                Answer::Choice("Google Workspace".to_owned())
            ),
            (
                "apps".to_owned(),
                Answer::Choices(vec!["Teams".to_owned(), "Zoom".to_owned()])
            ),
            ("happy".to_owned(), Answer::Rating(5)),
            ("notes".to_owned(), Answer::Text("All good".to_owned())),
        ])
    );
    assert_eq!(msp_view.evidence.answers["apps"].display(), "Teams, Zoom");
    assert_eq!(
        msp_view.evidence.completion.as_ref().map(|c| (&c.by, c.at)),
        Some((&client_actor(&ctx), h.now()))
    );
    let kinds: Vec<ActivityKind> = crate::after_setup(
        h.service
            .staff_activity(&h.staff, h.portal.id, None, 10)
            .await
            .unwrap()
            .items,
    )
    .iter()
    .map(|e| e.kind)
    .collect();
    assert_eq!(
        kinds,
        vec![ActivityKind::TaskCompleted, ActivityKind::ProgressSaved]
    );
    // Submitted forms are closed to the client.
    assert_err(
        h.service
            .save_answers(&ctx, t.id, &good, SubmitMode::SaveDraft)
            .await,
        |e| matches!(e, Error::Conflict { .. }),
    );
}
