//! What the fuzz targets share: a runtime, byte streams cut where the input says, and a
//! whole portal (service, seeded portal, signed-in client) for the HTTP targets.
//!
//! Harness code: it unwraps, because a failure here is a broken harness, which the
//! fuzzer reports as a crash at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use portal_core::blob::ByteStream;
use portal_core::model::{ChecklistItem, DocumentRef, Question, QuestionKind, Side, TaskKind};
use portal_core::testkit::{TestService, seed_portal};
use portal_core::{PortalService, TaskId, TaskSpec};
use portal_http::{Body, HttpConfig, PortalApp};

/// One current-thread runtime per fuzzing process.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Splits `data` into pieces whose lengths come from `cuts` (each byte a length of 1 to
/// 256, cycling; no cuts: one piece), so a parser of streams sees its input arrive in
/// every possible way, boundaries and headers cut anywhere.
pub fn pieces(data: &[u8], cuts: &[u8]) -> Vec<Bytes> {
    if cuts.is_empty() {
        return vec![Bytes::copy_from_slice(data)];
    }
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = (usize::from(cuts[i % cuts.len()]) + 1).min(rest.len());
        out.push(Bytes::copy_from_slice(&rest[..n]));
        rest = &rest[n..];
        i += 1;
    }
    out
}

/// `pieces` as the portal's byte stream.
pub fn byte_stream(pieces: Vec<Bytes>) -> ByteStream {
    Box::pin(futures_util::stream::iter(
        pieces.into_iter().map(Ok::<Bytes, portal_core::Error>),
    ))
}

/// Takes a length-prefixed piece off the front of `data`: its first byte is the length.
pub fn take_prefixed<'a>(data: &mut &'a [u8]) -> &'a [u8] {
    let Some((&n, rest)) = data.split_first() else {
        return &[];
    };
    let n = usize::from(n).min(rest.len());
    let (piece, rest) = rest.split_at(n);
    *data = rest;
    piece
}

/// The public origin of the fuzzed app (what `Host` says, so form posts are same-origin).
pub const HOST: &str = "portal.test";
/// The CSRF cookie every request of the HTTP form target carries (43 characters).
pub const CSRF_COOKIE_VALUE: &str = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuz";
/// The socket address requests come from.
pub fn remote() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9))
}

/// The app's configuration: secure cookies (`__Host-` names), no write throttle (the
/// fuzzer is one very fast client).
pub fn config() -> HttpConfig {
    HttpConfig {
        public_base_url: format!("http://{HOST}"),
        client_writes_per_minute: u32::MAX,
        ..HttpConfig::default()
    }
}

/// A portal with one signed-in client, tasks of the kinds that take forms, and the
/// app serving it. Built the same way every time (seeded randomness, fixed clock), so
/// the session and CSRF tokens are the same in every world of a process.
pub struct World {
    /// The app.
    pub app: PortalApp,
    /// The service behind it.
    pub service: PortalService,
    /// The client's portal.
    pub portal: portal_core::PortalId,
    /// An admin of the portal's tenant, for reading back what was saved.
    pub staff: portal_core::StaffContext,
    /// Task ids by short name: survey, checklist, standard, approval.
    pub tasks: BTreeMap<&'static str, TaskId>,
    /// The client's session token (the session cookie's value).
    pub session: String,
}

/// Builds a fresh [`World`].
pub async fn world() -> World {
    let kit = TestService::builder(Arc::new(portal_core::memory::MemoryStore::new()))
        .seed(11)
        .secret_from_seed()
        .build();
    let seeded = seed_portal(&kit.service, &Default::default())
        .await
        .unwrap();
    let service = kit.service.clone();
    let portal = seeded.portal.id;
    let phase = service
        .add_phase(&seeded.staff, portal, "Kickoff")
        .await
        .unwrap()
        .id;
    let plan: Vec<(&'static str, TaskKind)> = vec![
        (
            "survey",
            TaskKind::Survey {
                questions: survey_questions(),
            },
        ),
        (
            "checklist",
            TaskKind::Checklist {
                items: vec![
                    ChecklistItem {
                        id: "a".into(),
                        label: "Back up files".into(),
                    },
                    ChecklistItem {
                        id: "b".into(),
                        label: "Label the laptops".into(),
                    },
                ],
            },
        ),
        ("standard", TaskKind::Standard),
        (
            "approval",
            TaskKind::Approval {
                document: Some(DocumentRef {
                    name: "Plan.pdf".into(),
                }),
            },
        ),
    ];
    let mut tasks = BTreeMap::new();
    for (key, kind) in plan {
        let spec = TaskSpec {
            title: format!("The {key} task"),
            description: "Details.".into(),
            assignee: Side::Client,
            kind,
            due_date: None,
        };
        let task = service
            .add_task(&seeded.staff, portal, phase, spec)
            .await
            .unwrap();
        tasks.insert(key, task.id);
    }
    let (session, _) = kit.sign_in(&seeded.contact).await.unwrap();
    World {
        app: PortalApp::new(service.clone(), config()),
        service,
        portal,
        staff: seeded.staff.clone(),
        tasks,
        session: session.expose_secret().to_owned(),
    }
}

/// Sends `request` to `app` and reads the whole response body.
pub async fn send(
    app: &PortalApp,
    request: Request<Full<Bytes>>,
) -> (http::response::Parts, Vec<u8>) {
    let response: Response<Body> = app.handle(request, remote()).await;
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (parts, bytes.to_vec())
}

/// The CSRF token in a page's forms.
pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    html[start..].split('"').next().map(str::to_owned)
}

/// Checks every response of the app must pass, whatever was asked: no server error
/// (the in-memory store never fails), and the security headers are there.
pub fn check_response(parts: &http::response::Parts) {
    assert!(
        !parts.status.is_server_error(),
        "server error {}",
        parts.status
    );
    let has = |name: &str| parts.headers.contains_key(name);
    assert!(has("content-security-policy"), "no CSP: {parts:?}");
    assert!(has("x-content-type-options"), "no nosniff: {parts:?}");
}

/// Checks what [`portal_core::workflow::survey::validate`] made of `fields` against
/// `questions`: every answer keeps its question's rules, nothing is answered that was
/// left empty, a submitted form has every required answer, the messages name real
/// questions (or `_form`, exactly when a field names no question), and answers survey
/// a round trip through their stored JSON.
pub fn check_survey(
    questions: &[Question],
    fields: &[(String, String)],
    mode: portal_core::workflow::survey::SubmitMode,
    result: &Result<
        portal_core::workflow::survey::Answers,
        portal_core::workflow::survey::FieldErrors,
    >,
) {
    use portal_core::model::is_bidi_control;
    use portal_core::workflow::survey::{Answer, SubmitMode, field_name};

    let values = |q: &Question| -> Vec<&str> {
        let name = field_name(&q.id);
        fields
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let unknown_field = fields.iter().any(|(name, _)| {
        name.strip_prefix("q.")
            .is_some_and(|id| !questions.iter().any(|q| q.id == id))
    });
    match result {
        Ok(answers) => {
            assert!(!unknown_field, "a field naming no question was accepted");
            let json = serde_json::to_string(answers).unwrap();
            let back: portal_core::workflow::survey::Answers = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, answers, "answers change through their JSON");
            for (id, answer) in answers {
                // The first question with the id is the one validated.
                let q = questions.iter().find(|q| &q.id == id);
                let q = q.unwrap_or_else(|| panic!("answer for unknown question {id:?}"));
                let given = values(q);
                assert!(
                    given.iter().any(|v| !v.trim().is_empty()),
                    "{id:?} answered though left empty"
                );
                match (&q.kind, answer) {
                    (QuestionKind::ShortText { max_len }, Answer::Text(t))
                    | (QuestionKind::LongText { max_len }, Answer::Text(t)) => {
                        let multiline = matches!(q.kind, QuestionKind::LongText { .. });
                        assert!(t.chars().count() <= *max_len as usize, "{id:?} too long");
                        assert_eq!(t.trim(), t, "{id:?} not trimmed");
                        assert!(!t.contains('\r'), "{id:?} keeps a CR");
                        assert!(!t.chars().any(is_bidi_control), "{id:?} keeps bidi");
                        assert!(
                            !t.chars()
                                .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t'))),
                            "{id:?} keeps a control character"
                        );
                    }
                    (QuestionKind::SingleSelect { choices }, Answer::Choice(c)) => {
                        assert!(choices.contains(c), "{id:?}: {c:?} is not a choice");
                    }
                    (QuestionKind::MultiSelect { choices }, Answer::Choices(picked)) => {
                        assert!(!picked.is_empty(), "{id:?}: empty multiple choice");
                        let positions: Vec<usize> = picked
                            .iter()
                            .map(|p| choices.iter().position(|c| c == p).unwrap())
                            .collect();
                        assert!(
                            positions.windows(2).all(|w| w[0] < w[1]),
                            "{id:?}: choices repeated or out of order: {picked:?}"
                        );
                    }
                    (QuestionKind::Rating { min, max }, Answer::Rating(r)) => {
                        assert!(min <= r && r <= max, "{id:?}: {r} outside {min}..={max}");
                    }
                    (kind, a) => panic!("{id:?}: answer {a:?} for a {kind:?} question"),
                }
            }
            if mode == SubmitMode::Submit {
                for q in questions.iter().filter(|q| q.required) {
                    assert!(answers.contains_key(&q.id), "required {:?} missing", q.id);
                }
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a message");
            assert_eq!(
                errors.contains_key("_form"),
                unknown_field,
                "`_form` must say exactly when a field names no question"
            );
            for (id, message) in errors {
                assert!(!message.is_empty());
                assert!(
                    id == "_form" || questions.iter().any(|q| &q.id == id),
                    "message for unknown question {id:?}"
                );
            }
        }
    }
}

/// The survey of [`world`]'s survey task.
pub fn survey_questions() -> Vec<Question> {
    let q = |id: &str, required, kind| Question {
        id: id.into(),
        prompt: format!("Question {id}?"),
        required,
        kind,
    };
    vec![
        q("sites", true, QuestionKind::ShortText { max_len: 50 }),
        q("notes", false, QuestionKind::LongText { max_len: 200 }),
        q(
            "host",
            true,
            QuestionKind::SingleSelect {
                choices: vec!["Microsoft 365".into(), "Google Workspace".into()],
            },
        ),
        q(
            "apps",
            false,
            QuestionKind::MultiSelect {
                choices: vec!["Dentrix".into(), "QuickBooks".into(), "Other".into()],
            },
        ),
        q("score", true, QuestionKind::Rating { min: 1, max: 5 }),
    ]
}
