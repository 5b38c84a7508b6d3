//! The message catalog: every text a client reads (pages, emails, dates) comes from
//! here, in English and Spanish, so a translation is one `.ftl` file and not a hunt
//! through templates.
//!
//! The catalog is [Project Fluent](https://projectfluent.org): the files
//! `portal-core/locales/{en,es}/{portal,task,email,reason}.ftl` (the frame and
//! pages, the task page, the emails, what to fix in a refused input) are compiled
//! in (`include_str!`), parsed once into one bundle per language, and looked up by
//! key with named arguments. Fluent's plural selectors (`{ $count -> [one] …
//! *[other] … }`) pick the form the language needs, so no code builds a plural by
//! adding an "s".
//!
//! A key or argument the catalog lacks is never shown raw: the lookup falls back to
//! English, then to an empty string, logs the key once, and records it in
//! [`missing`], which the tests read to prove every page and email is complete in
//! both languages.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use askama::filters::Escaper as _;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

/// A language the portal speaks to clients in.
///
/// Set per contact by the MSP ([`Contact::language`](crate::model::Contact)); when it
/// is not set, a request's `Accept-Language` header picks one ([`Language::negotiate`]).
/// Stored and sent in the admin API as its ISO 639-1 code (`"en"`, `"es"`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English, the default and the fallback of every lookup.
    #[default]
    En,
    /// Spanish (neutral, the usted form a professional service writes in).
    Es,
}

impl Language {
    /// Every language the catalog holds, English first.
    pub const ALL: [Language; 2] = [Language::En, Language::Es];

    /// The ISO 639-1 code: `<html lang>`, the admin API, the database column.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
        }
    }

    /// The language of a code as the admin API and storage write it (`"en"`, `"es"`,
    /// any case); `None` for anything else, so a bad value is refused, not guessed.
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The language a browser asks for in its `Accept-Language` header: the supported
    /// language with the highest q-value, a regional tag counting for its language
    /// (`es-MX` → Spanish), ties kept in the header's order; English when the header is
    /// absent, malformed or names nothing the catalog holds.
    pub fn negotiate(accept_language: Option<&str>) -> Language {
        let Some(header) = accept_language else {
            return Language::En;
        };
        let mut best: Option<(f32, Language)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let mut q = 1.0_f32;
            for param in parts {
                if let Some(value) = param.trim().strip_prefix("q=") {
                    q = value.trim().parse().unwrap_or(0.0);
                }
            }
            // q=0 means "not this one"; a q that is no number counts for nothing.
            if q.is_nan() || q <= 0.0 {
                continue;
            }
            let primary = tag.split(['-', '_']).next().unwrap_or_default();
            let Some(language) = Language::from_code(primary) else {
                continue;
            };
            if best.is_none_or(|(best_q, _)| q > best_q) {
                best = Some((q, language));
            }
        }
        best.map_or(Language::En, |(_, language)| language)
    }

    /// The catalog files of the language, one bundle's resources: split by area so
    /// a file stays readable, with keys unique across them (a test refuses a repeat).
    pub fn sources(self) -> [&'static str; 4] {
        match self {
            Language::En => [
                include_str!("../locales/en/portal.ftl"),
                include_str!("../locales/en/task.ftl"),
                include_str!("../locales/en/email.ftl"),
                include_str!("../locales/en/reason.ftl"),
            ],
            Language::Es => [
                include_str!("../locales/es/portal.ftl"),
                include_str!("../locales/es/task.ftl"),
                include_str!("../locales/es/email.ftl"),
                include_str!("../locales/es/reason.ftl"),
            ],
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An argument of a message: text, shown as it is, or a number, which also selects
/// the plural form.
#[derive(Debug, Clone)]
pub enum Arg {
    /// Text, inserted as is (escaping is the template's job).
    Text(String),
    /// A number: shown for the language and used by plural selectors.
    Number(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Text(s.clone())
    }
}
macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Self {
                Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
number_arg!(i32, i64, u32, u64, usize);
macro_rules! number_ref_arg {
    ($($t:ty),*) => {$(
        impl From<&$t> for Arg {
            fn from(n: &$t) -> Self {
                Arg::from(*n)
            }
        }
    )*};
}
number_ref_arg!(i32, i64, u32, u64, usize);

/// A message the catalog could not produce as asked: the key is missing in that
/// language, or an argument it references was not given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Missing {
    /// The language looked up.
    pub language: Language,
    /// The message key.
    pub key: String,
    /// What went wrong ("no such message", or the resolver's error).
    pub detail: String,
}

impl PartialOrd for Language {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Language {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.code().cmp(other.code())
    }
}

struct Catalog {
    en: FluentBundle<FluentResource>,
    es: FluentBundle<FluentResource>,
}

impl Catalog {
    fn bundle(&self, language: Language) -> &FluentBundle<FluentResource> {
        match language {
            Language::En => &self.en,
            Language::Es => &self.es,
        }
    }
}

fn build(language: Language) -> FluentBundle<FluentResource> {
    // The codes are constants that parse; "und" (Fluent's root plural rules) would
    // only be reached if they did not.
    let id: LanguageIdentifier = language.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No FSI/PDI isolation marks around arguments: the pages are HTML with `lang` set,
    // and invisible marks would end up in copied codes, links and test assertions.
    bundle.set_use_isolating(false);
    // A file that does not parse keeps the entries that do; the unit tests below
    // parse both files strictly, so a broken entry fails the build's tests.
    for source in language.sources() {
        let resource = match FluentResource::try_new(source.to_owned()) {
            Ok(resource) => resource,
            Err((resource, _)) => resource,
        };
        // Duplicate keys: the first wins; the tests refuse them.
        let _ = bundle.add_resource(resource);
    }
    bundle
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog {
        en: build(Language::En),
        es: build(Language::Es),
    })
}

fn missing_log() -> &'static Mutex<BTreeSet<Missing>> {
    static MISSING: OnceLock<Mutex<BTreeSet<Missing>>> = OnceLock::new();
    MISSING.get_or_init(|| Mutex::new(BTreeSet::new()))
}

/// Every message that could not be produced since the process started (or since the
/// last [`take_missing`]): what the completeness tests assert empty after rendering
/// every page and email in both languages.
pub fn missing() -> Vec<Missing> {
    missing_log()
        .lock()
        .map(|set| set.iter().cloned().collect())
        .unwrap_or_default()
}

/// [`missing`], and forget them.
pub fn take_missing() -> Vec<Missing> {
    missing_log()
        .lock()
        .map(|mut set| std::mem::take(&mut *set).into_iter().collect())
        .unwrap_or_default()
}

fn record(missing: Missing) {
    if let Ok(mut set) = missing_log().lock()
        && !set.contains(&missing)
    {
        tracing::error!(
            language = %missing.language,
            key = %missing.key,
            detail = %missing.detail,
            "message catalog: message missing, English shown instead"
        );
        set.insert(missing);
    }
}

/// The message `key` in `language` with `args`, strictly: every problem is returned,
/// nothing falls back.
pub fn try_message(language: Language, key: &str, args: &[(&str, Arg)]) -> Result<String, Missing> {
    let bundle = catalog().bundle(language);
    let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
        return Err(Missing {
            language,
            key: key.to_owned(),
            detail: "no such message".to_owned(),
        });
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        let value = match value {
            Arg::Text(text) => FluentValue::from(text.as_str()),
            Arg::Number(n) => FluentValue::from(*n),
        };
        fluent_args.set(name.to_string(), value);
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    if let Some(error) = errors.first() {
        return Err(Missing {
            language,
            key: key.to_owned(),
            detail: error.to_string(),
        });
    }
    Ok(text.into_owned())
}

/// The message `key` in `language` with `args`, for showing: a missing message or
/// argument is logged once and recorded in [`missing`], and English is shown instead
/// (an empty string if English lacks it too) — never the raw key.
pub fn message(language: Language, key: &str, args: &[(&str, Arg)]) -> String {
    match try_message(language, key, args) {
        Ok(text) => text,
        Err(missing) => {
            record(missing);
            if language == Language::En {
                return String::new();
            }
            match try_message(Language::En, key, args) {
                Ok(text) => text,
                Err(missing) => {
                    record(missing);
                    String::new()
                }
            }
        }
    }
}

/// The message `key` without arguments ([`message`]).
pub fn text(language: Language, key: &str) -> String {
    message(language, key, &[])
}

/// A message for an HTML template, already safe to insert: the catalog's own text is
/// trusted markup-free prose written as it would be in the template (an apostrophe
/// stays an apostrophe), and every argument was HTML-escaped before it went in.
/// Askama inserts it as is ([`askama::filters::HtmlSafe`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Msg(pub String);

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Msg {}

impl Msg {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn escaped(args: &[(&str, Arg)]) -> Vec<(String, Arg)> {
    args.iter()
        .map(|(name, value)| {
            let value = match value {
                Arg::Text(text) => {
                    let mut out = String::with_capacity(text.len());
                    // Writing into a String cannot fail.
                    let _ = askama::filters::Html.write_escaped_str(&mut out, text);
                    Arg::Text(out)
                }
                Arg::Number(n) => Arg::Number(*n),
            };
            ((*name).to_owned(), value)
        })
        .collect()
}

/// A language bound to the catalog, for templates and view code.
///
/// In an HTML template: `{{ c.t.get("home-title") }}`, `{{ c.t.arg("key", "name",
/// value) }}`, `{{ c.t.count("key", n) }}` give [`Msg`]s (arguments escaped, the
/// message inserted as is). In code that builds a string a template escapes later,
/// and in plain-text emails: [`Texts::text`] and [`Texts::text_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Texts {
    /// The language every lookup is in.
    pub language: Language,
}

impl Texts {
    /// Texts in `language`.
    pub fn new(language: Language) -> Texts {
        Texts { language }
    }

    /// The message `key` for HTML ([`text`]).
    pub fn get(&self, key: &str) -> Msg {
        Msg(text(self.language, key))
    }

    /// The message `key` for HTML, with one text argument (escaped).
    pub fn arg(&self, key: &str, name: &str, value: impl fmt::Display) -> Msg {
        self.with(key, &[(name, Arg::Text(value.to_string()))])
    }

    /// The message `key` for HTML, with two text arguments (escaped).
    pub fn arg2(
        &self,
        key: &str,
        name1: &str,
        value1: impl fmt::Display,
        name2: &str,
        value2: impl fmt::Display,
    ) -> Msg {
        self.with(
            key,
            &[
                (name1, Arg::Text(value1.to_string())),
                (name2, Arg::Text(value2.to_string())),
            ],
        )
    }

    /// The message `key` for HTML, with a count and one text argument (escaped).
    pub fn count_arg(
        &self,
        key: &str,
        count: impl Into<Arg>,
        name: &str,
        value: impl fmt::Display,
    ) -> Msg {
        self.with(
            key,
            &[
                ("count", count.into()),
                (name, Arg::Text(value.to_string())),
            ],
        )
    }

    /// The message `key` for HTML, with the numbers of a progress line: `$percent`,
    /// `$completed` and `$total` (which selects the plural form).
    pub fn progress(
        &self,
        key: &str,
        percent: impl Into<Arg>,
        completed: impl Into<Arg>,
        total: impl Into<Arg>,
    ) -> Msg {
        self.with(
            key,
            &[
                ("percent", percent.into()),
                ("completed", completed.into()),
                ("total", total.into()),
            ],
        )
    }

    /// The message `key` for HTML, with a count, which selects the plural form.
    pub fn count(&self, key: &str, count: impl Into<Arg>) -> Msg {
        self.with(key, &[("count", count.into())])
    }

    /// The message `key` for HTML, with several arguments (text ones escaped).
    pub fn with(&self, key: &str, args: &[(&str, Arg)]) -> Msg {
        let owned = escaped(args);
        let borrowed: Vec<(&str, Arg)> = owned
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect();
        Msg(message(self.language, key, &borrowed))
    }

    /// The message `key` as plain text with one argument (plain-text emails).
    pub fn plain(&self, key: &str, name: &str, value: impl fmt::Display) -> String {
        message(self.language, key, &[(name, Arg::Text(value.to_string()))])
    }

    /// The message `key` as plain text with two arguments (plain-text emails).
    pub fn plain2(
        &self,
        key: &str,
        name1: &str,
        value1: impl fmt::Display,
        name2: &str,
        value2: impl fmt::Display,
    ) -> String {
        message(
            self.language,
            key,
            &[
                (name1, Arg::Text(value1.to_string())),
                (name2, Arg::Text(value2.to_string())),
            ],
        )
    }

    /// The message `key` as plain text (for code whose result a template escapes,
    /// and for plain-text emails).
    pub fn text(&self, key: &str) -> String {
        text(self.language, key)
    }

    /// The message `key` with arguments, as plain text (nothing escaped).
    pub fn text_with(&self, key: &str, args: &[(&str, Arg)]) -> String {
        message(self.language, key, args)
    }

    /// The upload script's words ([`SCRIPT_TEXTS`]) in this language, as a JSON object
    /// for a `<script type="application/json">` block: each message with its
    /// arguments left as `{name}` slots the script fills in. `<`, `>` and `&` are
    /// written as `\u003c`-style escapes, so the block cannot be closed by a message.
    pub fn script_texts(&self) -> String {
        let texts: std::collections::BTreeMap<&str, String> = SCRIPT_TEXTS
            .iter()
            .map(|(key, names)| {
                let args: Vec<(&str, Arg)> = names
                    .iter()
                    .map(|name| (*name, Arg::Text(format!("{{{name}}}"))))
                    .collect();
                (*key, message(self.language, key, &args))
            })
            .collect();
        serde_json::to_string(&texts)
            .unwrap_or_else(|_| "{}".to_owned())
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026")
    }

    /// The ISO code of the language, for `<html lang>`.
    pub fn lang(&self) -> &'static str {
        self.language.code()
    }
}

/// The messages the upload script (`documents.js`) shows, with the names of their
/// arguments: the page hands them over through [`Texts::script_texts`].
pub const SCRIPT_TEXTS: &[(&str, &[&str])] = &[
    ("js-upload-of", &["name"]),
    ("js-state-waiting", &[]),
    ("js-state-uploading", &[]),
    ("js-state-uploaded", &[]),
    ("js-state-not-uploaded", &[]),
    ("js-state-sending", &[]),
    ("js-state-dropped", &[]),
    ("js-state-not-dropped", &[]),
    ("js-byte", &[]),
    ("js-bytes", &["count"]),
    ("js-too-large-doc", &["name", "size", "limit", "doc"]),
    ("js-connection-doc", &["name", "doc"]),
    ("js-flagged", &["name", "doc"]),
    ("js-uploaded-doc", &["name", "doc"]),
    ("js-upload-failed", &["status"]),
    ("js-not-uploaded-doc", &["name", "doc", "detail"]),
    ("js-too-large-drop", &["name", "size", "limit"]),
    ("js-connection-drop", &["name"]),
    ("js-dropped", &["name"]),
    ("js-not-dropped", &["name"]),
    ("js-wait-uploading", &[]),
    ("js-wait-sending", &[]),
    ("js-uploading-one", &["name"]),
    ("js-uploading-many", &["count"]),
    ("js-dropping-one", &["name"]),
    ("js-dropping-many", &["count"]),
    ("js-all-waiting", &[]),
    ("js-extra-one", &["names"]),
    ("js-extra-many", &["count", "names"]),
    ("js-one-file", &["doc"]),
    ("js-one-file-several", &["doc"]),
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// Every message of a file with the variables it references (in values,
    /// attributes, selectors and variants), refusing parse errors and duplicates.
    fn keys_and_variables(language: Language) -> BTreeMap<String, BTreeSet<String>> {
        let mut keys = BTreeMap::new();
        let entries = language.sources().into_iter().flat_map(|source| {
            match fluent_syntax::parser::parse(source) {
                Ok(resource) => resource.body,
                Err((_, errors)) => panic!("{language}: parse errors {errors:?}"),
            }
        });
        for entry in entries {
            if let ast::Entry::Message(message) = entry {
                let mut variables = BTreeSet::new();
                if let Some(value) = &message.value {
                    pattern_variables(value, &mut variables);
                }
                for attribute in &message.attributes {
                    pattern_variables(&attribute.value, &mut variables);
                }
                let id = message.id.name.to_owned();
                assert!(
                    keys.insert(id.clone(), variables).is_none(),
                    "{language}: {id} twice"
                );
            }
        }
        keys
    }

    fn pattern_variables(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_variables(expression, out);
            }
        }
    }

    fn expression_variables(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Select { selector, variants } => {
                inline_variables(selector, out);
                for variant in variants {
                    pattern_variables(&variant.value, out);
                }
            }
            ast::Expression::Inline(inline) => inline_variables(inline, out),
        }
    }

    fn inline_variables(inline: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => {
                expression_variables(expression, out)
            }
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                for argument in &arguments.positional {
                    inline_variables(argument, out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn both_languages_have_every_key_with_the_same_arguments() {
        let en = keys_and_variables(Language::En);
        let es = keys_and_variables(Language::Es);
        let en_keys: BTreeSet<_> = en.keys().collect();
        let es_keys: BTreeSet<_> = es.keys().collect();
        assert_eq!(
            en_keys.difference(&es_keys).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "in English, not in Spanish"
        );
        assert_eq!(
            es_keys.difference(&en_keys).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "in Spanish, not in English"
        );
        for (key, variables) in &en {
            assert_eq!(Some(variables), es.get(key), "{key}: arguments differ");
        }
        assert!(en.len() > 10, "the catalog is loaded");
    }

    /// Every script text is in the catalog with exactly the arguments the list names
    /// (so the script's slots are the message's), and every `js-` key is listed.
    #[test]
    fn the_script_texts_match_the_catalog() {
        let en = keys_and_variables(Language::En);
        for (key, names) in SCRIPT_TEXTS {
            let names: BTreeSet<String> = names.iter().map(|n| (*n).to_owned()).collect();
            assert_eq!(en.get(*key), Some(&names), "{key}");
        }
        let listed: BTreeSet<&str> = SCRIPT_TEXTS.iter().map(|(k, _)| *k).collect();
        for key in en.keys().filter(|k| k.starts_with("js-")) {
            assert!(
                listed.contains(key.as_str()),
                "{key} is not in SCRIPT_TEXTS"
            );
        }
        let json = Texts::new(Language::Es).script_texts();
        // Other tests record a missing key on purpose: only the script's count here.
        assert!(missing().iter().all(|m| !m.key.starts_with("js-")));
        let parsed: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&json).unwrap();
        assert_eq!(parsed.len(), SCRIPT_TEXTS.len());
        assert_eq!(
            parsed["js-uploaded-doc"],
            "{name} se ha subido para «{doc}». Ahora espera revisión."
        );
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
    }

    #[test]
    fn negotiation_follows_q_values_and_regions() {
        use Language::*;
        assert_eq!(Language::negotiate(None), En);
        assert_eq!(Language::negotiate(Some("")), En);
        assert_eq!(Language::negotiate(Some("es")), Es);
        assert_eq!(Language::negotiate(Some("es-MX")), Es);
        assert_eq!(Language::negotiate(Some("ES_es")), Es);
        assert_eq!(Language::negotiate(Some("fr-FR, es;q=0.8, en;q=0.5")), Es);
        assert_eq!(Language::negotiate(Some("en-US,en;q=0.9,es;q=0.8")), En);
        assert_eq!(Language::negotiate(Some("es;q=0.3, en;q=0.7")), En);
        assert_eq!(Language::negotiate(Some("en;q=0, es;q=0.1")), Es);
        assert_eq!(Language::negotiate(Some("de, fr")), En, "nothing supported");
        assert_eq!(Language::negotiate(Some("es;q=abc")), En, "a bad q is 0");
        assert_eq!(Language::negotiate(Some("*")), En);
        assert_eq!(
            Language::negotiate(Some("es-419;q=0.9, en-GB;q=0.9")),
            Es,
            "a tie keeps the header's order"
        );
    }

    #[test]
    fn codes_round_trip_and_refuse_others() {
        for language in Language::ALL {
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
        assert_eq!(Language::from_code("ES"), Some(Language::Es));
        assert_eq!(Language::from_code("fr"), None);
        assert_eq!(Language::from_code("es-MX"), None, "the API takes codes");
    }

    #[test]
    fn missing_keys_and_arguments_are_errors_and_fall_back_to_english() {
        let err = try_message(Language::Es, "no-such-key", &[]).unwrap_err();
        assert_eq!(err.detail, "no such message");
        // The fallback never shows the raw key.
        assert_eq!(message(Language::Es, "no-such-key", &[]), "");
        assert!(missing().iter().any(|m| m.key == "no-such-key"));
        // A referenced argument left out is an error too.
        assert!(try_message(Language::Es, "count-minutes", &[]).is_err());
    }

    #[test]
    fn plurals_follow_the_language() {
        let t = Texts::new(Language::Es);
        assert_eq!(t.count("count-minutes", 1).0, "1 minuto");
        assert_eq!(t.count("count-minutes", 5).0, "5 minutos");
        let t = Texts::new(Language::En);
        assert_eq!(t.count("count-minutes", 1).0, "1 minute");
        assert_eq!(t.count("count-minutes", 0).0, "0 minutes");
    }

    #[test]
    fn html_messages_escape_their_arguments_only() {
        let t = Texts::new(Language::En);
        let html = t.with(
            "date",
            &[
                ("weekday", Arg::Text("<b>".to_owned())),
                ("day", Arg::Text("O'Brien & co".to_owned())),
                ("month", "x".into()),
                ("year", "y".into()),
            ],
        );
        assert_eq!(html.0, "&#60;b&#62; O&#39;Brien &#38; co x y");
        let plain = t.text_with(
            "date",
            &[
                ("weekday", "<b>".into()),
                ("day", "1".into()),
                ("month", "x".into()),
                ("year", "y".into()),
            ],
        );
        assert_eq!(plain, "<b> 1 x y");
    }

    #[test]
    fn no_isolation_marks() {
        let text = Texts::new(Language::En).count("count-minutes", 3).0;
        assert!(!text.contains('\u{2068}') && !text.contains('\u{2069}'));
    }
}
