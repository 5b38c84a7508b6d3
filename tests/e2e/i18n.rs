//! Two languages (issue 14): every client page converted to the message catalog is
//! rendered in English and in Spanish, and the Spanish page must have no catalog
//! message missing (the catalog records each one it could not produce) and no English
//! left over. The leftover check compares the visible text of the two renderings of
//! the same page: a text node that reads the same in both is either data the MSP or
//! the client typed (task titles, names, the seeded plan) or a string a template or
//! view forgot to take from the catalog; the data is read from the store, so what
//! remains is a forgotten string.

use std::collections::BTreeSet;

use portal_tests::{Harness, Options, link_in};

/// The visible text of a page: text nodes between tags, and the `title`, `alt`,
/// `aria-label` and `placeholder` attributes people read or hear; without scripts
/// and styles.
pub(crate) fn visible_text(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    // Scripts and styles are no text.
    let mut cleaned = String::new();
    while let Some(start) = rest.find("<style").or_else(|| rest.find("<script")) {
        cleaned.push_str(&rest[..start]);
        let close = if rest[start..].starts_with("<style") {
            "</style>"
        } else {
            "</script>"
        };
        match rest[start..].find(close) {
            Some(end) => rest = &rest[start + end + close.len()..],
            None => {
                rest = "";
            }
        }
    }
    cleaned.push_str(rest);
    let mut in_tag = false;
    let mut text = String::new();
    let mut tag = String::new();
    for ch in cleaned.chars() {
        match ch {
            '<' => {
                push(&mut out, &text);
                text.clear();
                in_tag = true;
                tag.clear();
            }
            '>' if in_tag => {
                in_tag = false;
                for attr in ["title=\"", "alt=\"", "aria-label=\"", "placeholder=\""] {
                    if let Some(at) = tag.find(attr) {
                        let value = &tag[at + attr.len()..];
                        if let Some(end) = value.find('"') {
                            push(&mut out, &value[..end]);
                        }
                    }
                }
            }
            _ if in_tag => tag.push(ch),
            _ => text.push(ch),
        }
    }
    push(&mut out, &text);
    out
}

fn push(out: &mut Vec<String>, raw: &str) {
    let decoded = raw
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#38;", "&")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&quot;", "\"");
    let t = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    if !t.is_empty() {
        out.push(t);
    }
}

/// Whether a text node is no word of any language: numbers, punctuation, codes.
fn wordless(s: &str) -> bool {
    s.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.len() > 1)
        .all(|w| {
            // Zone abbreviations and names, file formats and units read the same in
            // both languages.
            w.chars().all(|c| c.is_uppercase())
                || [
                    "America", "Europe", "New_York", "Chicago", "London", "Paris",
                ]
                .contains(&w)
        })
}

/// What the harness seeded and the test typed: shown as typed in every language.
pub(crate) async fn data_of(h: &Harness) -> BTreeSet<String> {
    let snap = h.store.portal_snapshot(h.portal.id).await.unwrap();
    let mut data: BTreeSet<String> = BTreeSet::new();
    data.insert(snap.portal.client_name.clone());
    data.insert(snap.portal.branding.company_name.clone());
    data.insert(snap.portal.branding.welcome_message.clone());
    data.insert(h.contact.name.clone());
    data.insert(h.contact.email.as_str().to_owned());
    data.insert(h.contact.email.masked());
    for phase in &snap.phases {
        data.insert(phase.name.clone());
    }
    for task in &snap.tasks {
        data.insert(task.title.clone());
        data.insert(task.description.clone());
        if let portal_core::model::TaskKind::DocumentUpload { documents } = &task.kind {
            for d in documents {
                data.insert(d.name.clone());
            }
        }
    }
    // As the page shows them: whitespace collapsed.
    data.into_iter()
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Every value of the Spanish catalog: a text node equal to one is Spanish even when
/// English spells it the same ("Portal").
pub(crate) fn spanish_values() -> BTreeSet<String> {
    portal_core::i18n::Language::Es
        .sources()
        .into_iter()
        .flat_map(str::lines)
        .filter_map(|l| {
            l.split_once(" = ").map(|(_, v)| v).or_else(|| {
                l.trim()
                    .strip_prefix('[')
                    .and_then(|v| v.split_once("] "))
                    .map(|(_, v)| v)
            })
        })
        .map(|v| v.trim().to_owned())
        .collect()
}

/// The visible text nodes of the Spanish page that read exactly as on the English
/// page and are neither data nor wordless: untranslated strings.
pub(crate) fn leftovers(en: &str, es: &str, data: &BTreeSet<String>) -> Vec<String> {
    let english: BTreeSet<String> = visible_text(en).into_iter().collect();
    let spanish = spanish_values();
    visible_text(es)
        .into_iter()
        .filter(|t| english.contains(t))
        .filter(|t| !spanish.contains(t))
        .filter(|t| !wordless(t))
        // Time zone names (the settings page's list) are the tz database's own.
        .filter(|t| portal_core::model::TimeZone::parse(t).is_err())
        .filter(|t| {
            // Data, or data quoted or listed ("“Sign the agreement”", "Phase 1 – …").
            let bare = t.trim_matches(|c: char| !c.is_alphanumeric());
            !data.contains(t.as_str())
                && !data.contains(bare)
                && !data
                    .iter()
                    .any(|d| !d.is_empty() && t.contains(d.as_str()) && t.len() <= d.len() + 6)
        })
        .collect()
}

/// Every page of the access flow and the portal (the pages converted to the
/// catalog), signed in twice: once with an English browser, once with a Spanish one.
async fn pages(h: &Harness, lang: &str) -> Vec<(&'static str, String)> {
    let mut b = h.browser();
    b.accept_language = Some(lang.to_owned());
    let mut pages = Vec::new();
    pages.push(("invite", b.get(&h.invite_path()).await.body));
    let check = h.start_verification(&b).await;
    let wrong = b
        .post(
            "/verify/code",
            &[("csrf", &check.csrf()), ("code", "000000")],
        )
        .await;
    pages.push(("verify", check.body));
    pages.push(("verify_wrong_code", wrong.body));
    let magic = b.get(&link_in(&h.last_email_text(), "m")).await;
    pages.push(("magic", magic.body));
    pages.push((
        "invalid_link",
        b.get(&format!("/i/{}", "A".repeat(43))).await.body,
    ));
    pages.push(("session_needed", b.get("/").await.body));
    h.sign_in(&b).await;
    for (name, path) in [
        ("home_tasks", "/"),
        ("home_progress", "/?tab=progress"),
        ("home_documents", "/?tab=documents"),
        ("home_approvals", "/?tab=approvals"),
        ("not_found", "/no-such-page"),
        ("team", "/team"),
        ("questions", "/questions"),
        ("settings", "/settings"),
    ] {
        pages.push((name, b.get(path).await.body));
    }
    let out = b
        .post("/sign-out", &[("csrf", &check_csrf(&b).await)])
        .await;
    assert_eq!(out.status, 303);
    pages.push(("signed_out", b.get("/signed-out").await.body));
    pages
}

pub(crate) async fn check_csrf(b: &portal_tests::Browser) -> String {
    b.get("/").await.csrf()
}

#[tokio::test]
async fn every_converted_page_is_complete_in_spanish() {
    let h = Harness::start(Options::memory()).await;
    let english = pages(&h, "en-US,en;q=0.9").await;
    let spanish = pages(&h, "es-MX,es;q=0.9,en;q=0.5").await;
    let data = data_of(&h).await;
    let missing = portal_core::i18n::missing();
    assert!(
        missing.is_empty(),
        "messages the catalog lacks: {missing:#?}"
    );
    let mut problems = Vec::new();
    for ((name, en), (_, es)) in english.iter().zip(&spanish) {
        assert!(en.contains(r#"<html lang="en">"#), "{name}");
        assert!(es.contains(r#"<html lang="es">"#), "{name}");
        let left = leftovers(en, es, &data);
        if !left.is_empty() {
            problems.push(format!("{name}: {left:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "English left on Spanish pages:\n{}",
        problems.join("\n")
    );
}

/// The check itself catches a forgotten string: an English sentence that is not
/// data, the same on both pages, is reported.
#[test]
fn the_leftover_check_catches_an_untranslated_string() {
    let data: BTreeSet<String> = ["Sign the agreement".to_owned()].into();
    let en = "<p>Sign the agreement</p><p>Due Tue 3 Mar 2026</p><button>Send</button>";
    let es = "<p>Sign the agreement</p><p>Vence el mar 3 mar 2026</p><button>Send</button>";
    assert_eq!(leftovers(en, es, &data), ["Send"]);
    let es = r#"<p title="Upload">«Sign the agreement»</p><p>09:00 UTC</p>"#;
    let en = r#"<p title="Upload">x</p><p>09:00 UTC</p>"#;
    assert_eq!(leftovers(en, es, &data), ["Upload"]);
}

/// A contact the MSP set to Spanish reads Spanish whatever the browser says; a
/// contact without a language follows the browser.
#[tokio::test]
async fn the_contact_language_wins_over_the_browser() {
    let h = Harness::start(Options::memory()).await;
    let mut b = h.browser();
    b.accept_language = Some("en-US".to_owned());
    h.sign_in(&b).await;
    let home = b.get("/").await;
    assert!(home.body.contains(r#"<html lang="en">"#));
    h.service
        .change_contact(
            &h.staff,
            h.contact.id,
            &portal_core::service::ContactChange {
                name: &h.contact.name,
                email: h.contact.email.as_str(),
                role: None,
                language: Some(Some(portal_core::i18n::Language::Es)),
            },
            None,
        )
        .await
        .unwrap();
    let home = b.get("/").await;
    assert!(home.body.contains(r#"<html lang="es">"#), "{}", home.body);
    assert!(home.body.contains("Siguiente paso"), "{}", home.body);
    // Before sign-in the page follows the browser (nobody is known yet).
    let invite = h.browser().get(&h.invite_path()).await;
    assert!(invite.body.contains(r#"<html lang="en">"#));
}

/// Spanish snapshots of the invite page and the home, next to the English ones.
#[tokio::test]
async fn spanish_snapshots() {
    let h = Harness::start(Options::memory()).await;
    let mut b = h.browser();
    b.accept_language = Some("es-ES,es;q=0.9".to_owned());
    let invite = b.get(&h.invite_path()).await;
    let check = h.start_verification(&b).await;
    h.sign_in(&b).await;
    let home = b.get("/").await;
    let progress = b.get("/?tab=progress").await;
    let _guard = super::snapshots::settings().bind_to_scope();
    insta::assert_snapshot!("es_page_invite", invite.body);
    insta::assert_snapshot!("es_page_verify", check.body);
    insta::assert_snapshot!("es_home_your_tasks", home.body);
    insta::assert_snapshot!("es_home_our_progress", progress.body);
}
