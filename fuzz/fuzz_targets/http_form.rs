//! Form posts of a signed-in client, with a valid CSRF token, against a fresh portal
//! each time (a survey, a checklist, a standard task, an approval, questions): the
//! form body is whatever the fuzzer makes, parsed by the HTTP layer as a real post is.
//! The answer is never a server error and the CSRF token is never refused; a redirect
//! has its `Location` and goes to the page of what was posted, which then shows; user
//! text never comes back as markup, neither in the answer nor on that page (`<fz` is
//! the marker the seeds plant, which no template contains); and saved survey answers
//! keep the rules of their questions.
//!
//! Input: the first byte picks the route; the rest is the urlencoded body, sent after
//! `csrf=<token>&`.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use portal_core::workflow::survey::Answer;
use portal_fuzz::{CSRF_COOKIE_VALUE, HOST, World, check_response, csrf_in, runtime, send, world};

const ROUTES: &[(&str, &str)] = &[
    ("survey", "form"),
    ("checklist", "checklist"),
    ("standard", "complete"),
    ("approval", "decision"),
    ("standard", "comments"),
    ("", "questions"),
];

fn cookie_header(w: &World) -> String {
    format!(
        "__Host-portal_session={}; __Host-portal_csrf={CSRF_COOKIE_VALUE}",
        w.session
    )
}

/// The CSRF token of the signed-in client's forms (the same in every world).
fn token() -> &'static (String, String) {
    static TOKEN: OnceLock<(String, String)> = OnceLock::new();
    TOKEN.get_or_init(|| {
        runtime().block_on(async {
            let w = world().await;
            let req = http::Request::builder()
                .uri(format!("/tasks/{}", w.tasks["survey"]))
                .header("host", HOST)
                .header("cookie", cookie_header(&w))
                .body(Full::new(Bytes::new()))
                .unwrap();
            let (res, body) = send(&w.app, req).await;
            assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&body));
            let html = String::from_utf8_lossy(&body);
            (w.session.clone(), csrf_in(&html).unwrap())
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, form)) = data.split_first() else {
        return;
    };
    let (session, csrf) = token();
    let (task_key, action) = ROUTES[usize::from(pick) % ROUTES.len()];
    runtime().block_on(async {
        let w = world().await;
        assert_eq!(
            &w.session, session,
            "worlds differ: the harness is not deterministic"
        );
        let path = if task_key.is_empty() {
            format!("/{action}")
        } else {
            format!("/tasks/{}/{action}", w.tasks[task_key])
        };
        let mut body = format!("csrf={csrf}&").into_bytes();
        body.extend_from_slice(form);
        let req = http::Request::builder()
            .method(http::Method::POST)
            .uri(path.as_str())
            .header("host", HOST)
            .header("cookie", cookie_header(&w))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let (res, body) = send(&w.app, req).await;
        check_response(&res);
        let html = String::from_utf8_lossy(&body);
        assert!(
            !html.contains("<fz"),
            "user text came back as markup:\n{html}"
        );
        assert!(
            !html.contains("This page has expired"),
            "the CSRF token was refused"
        );
        if res.status.is_redirection() {
            let location = res.headers.get("location").and_then(|v| v.to_str().ok());
            let location = location.unwrap_or_else(|| panic!("{path}: redirect without Location"));
            let page = if task_key.is_empty() {
                "/questions".to_owned()
            } else {
                format!("/tasks/{}", w.tasks[task_key])
            };
            assert!(
                location.starts_with(&page),
                "{path} redirected to {location}"
            );
            // The page the client lands on shows what was saved, escaped.
            let req = http::Request::builder()
                .uri(location)
                .header("host", HOST)
                .header("cookie", cookie_header(&w))
                .body(Full::new(Bytes::new()))
                .unwrap();
            let (res, body) = send(&w.app, req).await;
            check_response(&res);
            assert_eq!(res.status, http::StatusCode::OK, "{location}");
            let html = String::from_utf8_lossy(&body);
            assert!(!html.contains("<fz"), "saved text shown as markup:\n{html}");
        }
        if task_key == "survey" {
            check_survey(&w).await;
        }
    });
});

/// Whatever was saved obeys the survey's questions (see `portal_fuzz::world`).
async fn check_survey(w: &World) {
    let task = w
        .service
        .staff_task(&w.staff, w.portal, w.tasks["survey"])
        .await
        .unwrap();
    for (id, answer) in task.evidence.answers {
        match (id.as_str(), answer) {
            ("sites", Answer::Text(t)) => {
                assert!(t.chars().count() <= 50 && !t.chars().any(char::is_control));
            }
            ("notes", Answer::Text(t)) => assert!(t.chars().count() <= 200),
            ("host", Answer::Choice(c)) => {
                assert!(c == "Microsoft 365" || c == "Google Workspace", "{c:?}");
            }
            ("apps", Answer::Choices(cs)) => {
                assert!(!cs.is_empty() && cs.len() <= 3, "{cs:?}");
            }
            ("score", Answer::Rating(r)) => assert!((1..=5).contains(&r)),
            (id, a) => panic!("answer {a:?} saved for {id:?}"),
        }
    }
}
